//! `/api/v1/metrics`: the dictionary of metric names.

use axum::extract::State;
use axum::response::Response;

use serde::Deserialize;
use utoipa::IntoParams;

use super::{ApiQuery, ListParams, ListResponse, QueryParams, list};
use crate::error::{ApiError, Problem};
use crate::fields::FieldsParams;
use crate::model::Metric;
use crate::query;
use crate::state::AppState;

/// Parameters of the metrics collection (its order).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricListParams {
    /// Order of the rows: comma-separated fields, each optionally prefixed with `-` for
    /// descending (`id`, `name`, `unit`). Ties, and
    /// the rows after the last field, keep the canonical order; empty values sort last in both
    /// directions. A `cursor` continues only the order it was issued for.
    #[param(pattern = "^-?(id|name|unit)(,-?(id|name|unit))*$")]
    #[allow(dead_code)] // read for every table alike by `rest::sort_of`; documents it
    sort: Option<String>,
}

impl QueryParams for MetricListParams {
    fn read(request: &ApiQuery) -> Result<Self, ApiError> {
        Ok(MetricListParams {
            sort: request.text("sort"),
        })
    }
}

/// List metrics
///
/// What each `metric` id in the statistics means, and its unit.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "metrics",
    params(ListParams, MetricListParams, FieldsParams<Metric>),
    responses(
        (status = 200, description = "A page of metrics (JSON, or CSV with `format=csv` / `Accept: text/csv`).",
            content((ListResponse<Metric> = "application/json"), (String = "text/csv")),
            headers(("ETag" = String), ("Link" = String, description = "RFC 8288 link to the next page"), ("X-Data-Release" = String), ("X-Total-Count" = u64, description = "Rows matching the filters, across all pages (as `meta.total`)"))),
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
    request.collection_params::<MetricListParams>()?;
    list(&state, &request, "metrics", async |state, release, page| {
        query::list_metrics(&state.db, release, page).await
    })
    .await
}
