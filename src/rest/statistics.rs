//! `/api/v1/statistics`: published figures.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    ApiQuery, ItemParams, ItemResponse, ListParams, ListResponse, QueryParams, item, list,
};
use crate::error::{ApiError, Problem};
use crate::model::Statistic;
use crate::query::{self, DateRange, StatisticFilter};
use crate::state::AppState;
use crate::vocabulary::{Basis, StatisticStatus};

/// Filters of the statistics collection.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatisticListParams {
    /// Only this program (its slug, e.g. `citykey`).
    #[param(example = "citykey", pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$")]
    program: Option<String>,
    /// Only this metric (e.g. `cards_issued`; see `/api/v1/metrics`).
    #[param(
        example = "cards_issued",
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
    )]
    metric: Option<String>,
    /// Only this dimension: `total`, or a breakdown such as `channel`.
    #[param(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$")]
    dimension: Option<String>,
    /// Only this category (`all` for totals).
    #[param(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$")]
    category: Option<String>,
    /// Only figures with this status.
    status: Option<StatisticStatus>,
    /// Only figures counted this way: `in_period`, `cumulative` (since launch) or
    /// `point_in_time`. Figures of one metric are comparable only within one basis.
    basis: Option<Basis>,
    /// Only figures whose period ends on or after this date; not after `to`.
    from: Option<NaiveDate>,
    /// Only figures whose period starts on or before this date.
    to: Option<NaiveDate>,
}

impl StatisticListParams {
    /// The filter a request asks for; unknown or malformed parameters are errors.
    pub fn filter(self) -> Result<StatisticFilter, ApiError> {
        Ok(StatisticFilter {
            program: self.program,
            metric: self.metric,
            dimension: self.dimension,
            category: self.category,
            status: self.status,
            basis: self.basis,
            period: DateRange::new(self.from, self.to)?,
        })
    }
}

impl QueryParams for StatisticListParams {
    fn read(request: &ApiQuery) -> Result<Self, ApiError> {
        Ok(StatisticListParams {
            program: request.text("program"),
            metric: request.text("metric"),
            dimension: request.text("dimension"),
            category: request.text("category"),
            status: request.vocab("status", StatisticStatus::parse, StatisticStatus::VALUES)?,
            basis: request.vocab("basis", Basis::parse, Basis::VALUES)?,
            from: request.date("from")?,
            to: request.date("to")?,
        })
    }
}

/// List statistics
///
/// Published figures in canonical order (program, metric, period, total before
/// breakdowns, dimension, category). A suppressed figure has `value: null` and
/// `suppressed: true` (in CSV: an empty `value` cell and `suppressed=true`); it is never 0.
#[utoipa::path(
    get,
    path = "/statistics",
    tag = "statistics",
    params(ListParams, StatisticListParams),
    responses(
        (status = 200, description = "A page of statistics (JSON, or CSV with `format=csv` / `Accept: text/csv`).",
            content((ListResponse<Statistic> = "application/json"), (String = "text/csv")),
            headers(("ETag" = String), ("Link" = String, description = "RFC 8288 link to the next page"), ("X-Data-Release" = String))),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header asks for neither JSON nor CSV.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_statistics(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    let filter = request.list_params::<StatisticListParams>()?.filter()?;
    list(
        &state,
        &request,
        "statistics",
        async |state, release, page| {
            query::list_statistics(&state.db, release, &filter, page).await
        },
    )
    .await
}

/// Get one statistic
///
/// One figure by id, with its source's title and URL.
#[utoipa::path(
    get,
    path = "/statistics/{id}",
    tag = "statistics",
    params(("id" = String, Path, description = "The statistic's id.", pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"), ItemParams),
    responses(
        (status = 200, description = "The statistic.", body = ItemResponse<Statistic>),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such statistic or release.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_statistic(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    item(
        &state,
        &request,
        ("statistic", "id"),
        &id,
        async |state, release| query::get_statistic(&state.db, release, &id).await,
    )
    .await
}
