//! `/api/v1/metrics`: the dictionary of metric names.

use axum::extract::State;
use axum::response::Response;

use super::{ApiQuery, ListParams, ListResponse, list, param_names};
use crate::error::{ApiError, Problem};
use crate::model::Metric;
use crate::query;
use crate::state::AppState;

/// List metrics
///
/// What each `metric` id in the statistics means, and its unit.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "metrics",
    params(ListParams),
    responses(
        (status = 200, description = "A page of metrics (JSON, or CSV with `format=csv` / `Accept: text/csv`).",
            content((ListResponse<Metric> = "application/json"), (String = "text/csv")),
            headers(("ETag" = String), ("Link" = String, description = "RFC 8288 link to the next page"), ("X-Data-Release" = String))),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header asks for neither JSON nor CSV.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_metrics(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    request.check_names(&param_names::<ListParams>())?;
    list(&state, &request, "metrics", async |state, release, page| {
        query::list_metrics(&state.db, release, page).await
    })
    .await
}
