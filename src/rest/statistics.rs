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
use crate::fields::FieldsParams;
use crate::model::Statistic;
use crate::query::{self, DateRange, StatisticFilter};
use crate::state::AppState;
use crate::vocabulary::{Basis, Qualifier, StatisticStatus};

/// Filters of the statistics collection.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatisticListParams {
    /// Only these programs (slugs, e.g. `citykey` or `citykey,idnyc`). Several values, separated by commas, match any of them.
    #[param(value_type = Option<String>, example = "citykey", pattern = "^[^,\\u0000-\\u001F\\u007F-\\u009F]+(,[^,\\u0000-\\u001F\\u007F-\\u009F]+){0,49}$")]
    program: Vec<String>,
    /// Only these metrics (e.g. `cards_issued`; see `/api/v1/metrics`). Several values, separated by commas, match any of them.
    #[param(value_type = Option<String>, example = "cards_issued", pattern = "^[^,\\u0000-\\u001F\\u007F-\\u009F]+(,[^,\\u0000-\\u001F\\u007F-\\u009F]+){0,49}$")]
    metric: Vec<String>,
    /// Only these dimensions: `total`, or breakdowns such as `channel`. Several values, separated by commas, match any of them.
    #[param(value_type = Option<String>, pattern = "^[^,\\u0000-\\u001F\\u007F-\\u009F]+(,[^,\\u0000-\\u001F\\u007F-\\u009F]+){0,49}$")]
    dimension: Vec<String>,
    /// Only these categories (`all` for totals). Several values, separated by commas, match any of them.
    #[param(value_type = Option<String>, pattern = "^[^,\\u0000-\\u001F\\u007F-\\u009F]+(,[^,\\u0000-\\u001F\\u007F-\\u009F]+){0,49}$")]
    category: Vec<String>,
    /// Only figures with these statuses. Several values, separated by commas, match any of them: `reported`, `estimated`, `preliminary`, `final`, `revised`.
    #[param(value_type = Option<String>, example = "reported", pattern = "^(reported|estimated|preliminary|final|revised)(,(reported|estimated|preliminary|final|revised)){0,49}$")]
    status: Vec<StatisticStatus>,
    /// Only figures counted these ways: `in_period`, `cumulative` (since launch) or `point_in_time`. Figures of one metric are comparable only within one basis. Several values, separated by commas, match any of them: `in_period`, `cumulative`, `point_in_time`.
    #[param(value_type = Option<String>, example = "cumulative", pattern = "^(in_period|cumulative|point_in_time)(,(in_period|cumulative|point_in_time)){0,49}$")]
    basis: Vec<Basis>,
    /// Only figures with these qualifiers. Several values, separated by commas, match any of them: `exact`, `at_least`, `at_most`, `approximately`.
    #[param(value_type = Option<String>, example = "exact,approximately", pattern = "^(exact|at_least|at_most|approximately)(,(exact|at_least|at_most|approximately)){0,49}$")]
    qualifier: Vec<Qualifier>,
    /// `false`: only figures with a published value; `true`: only suppressed figures
    /// (whose value is never published).
    suppressed: Option<bool>,
    /// Only figures whose period ends on or after this date; not after `to`.
    from: Option<NaiveDate>,
    /// Only figures whose period starts on or before this date.
    to: Option<NaiveDate>,
    /// Order of the rows: comma-separated fields, each optionally prefixed with `-` for
    /// descending (`id`, `program`, `metric`, `period_start`, `period_end`, `dimension`, `category`, `value`, `qualifier`, `unit`, `status`, `basis`). Ties, and
    /// the rows after the last field, keep the canonical order; empty values sort last in both
    /// directions. A `cursor` continues only the order it was issued for.
    #[param(
        pattern = "^-?(id|program|metric|period_start|period_end|dimension|category|value|qualifier|unit|status|basis)(,-?(id|program|metric|period_start|period_end|dimension|category|value|qualifier|unit|status|basis))*$"
    )]
    #[allow(dead_code)] // read for every table alike by `rest::sort_of`; documents it
    sort: Option<String>,
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
            qualifier: self.qualifier,
            suppressed: self.suppressed,
            period: DateRange::new(self.from, self.to)?,
        })
    }
}

impl QueryParams for StatisticListParams {
    fn read(request: &ApiQuery) -> Result<Self, ApiError> {
        Ok(StatisticListParams {
            program: request.list("program")?,
            metric: request.list("metric")?,
            dimension: request.list("dimension")?,
            category: request.list("category")?,
            status: request.vocab_list(
                "status",
                StatisticStatus::parse,
                StatisticStatus::VALUES,
            )?,
            basis: request.vocab_list("basis", Basis::parse, Basis::VALUES)?,
            qualifier: request.vocab_list("qualifier", Qualifier::parse, Qualifier::VALUES)?,
            suppressed: request.boolean("suppressed")?,
            from: request.date("from")?,
            to: request.date("to")?,
            sort: request.text("sort"),
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
    params(ListParams, StatisticListParams, FieldsParams<Statistic>),
    responses(
        (status = 200, description = "A page of statistics (JSON, or CSV with `format=csv` / `Accept: text/csv`).",
            content((ListResponse<Statistic> = "application/json"), (String = "text/csv")),
            headers(("ETag" = String), ("Link" = String, description = "RFC 8288 link to the next page"), ("X-Data-Release" = String), ("X-Total-Count" = u64, description = "Rows matching the filters, across all pages (as `meta.total`)"))),
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
    let filter = request
        .collection_params::<StatisticListParams>()?
        .filter()?;
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

/// Latest figures
///
/// For each program, metric, dimension and category, the figure with the latest
/// `period_end` among the figures the filters match (so `to=2023-12-31` asks for the
/// latest figures as of the end of 2023, `suppressed=false` for the latest published
/// values). When several figures of a series end on that day, the one with the latest
/// `period_start` (the shortest period) is the latest, then the first in canonical order.
/// A suppressed figure can be the latest: it shows as suppressed, never with a value.
/// Paged, sorted (`sort`) and narrowed to `fields` like the statistics collection; the
/// canonical order by default.
#[utoipa::path(
    get,
    path = "/statistics/latest",
    tag = "statistics",
    params(ListParams, StatisticListParams, FieldsParams<Statistic>),
    responses(
        (status = 200, description = "A page of the latest figures (JSON, or CSV with `format=csv` / `Accept: text/csv`).",
            content((ListResponse<Statistic> = "application/json"), (String = "text/csv")),
            headers(("ETag" = String), ("Link" = String, description = "RFC 8288 link to the next page"), ("X-Data-Release" = String), ("X-Total-Count" = u64, description = "Series (latest figures) matching the filters, across all pages (as `meta.total`)"))),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header asks for neither JSON nor CSV.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_latest_statistics(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    let filter = request
        .collection_params::<StatisticListParams>()?
        .filter()?;
    list(
        &state,
        &request,
        "statistics",
        async |state, release, page| {
            query::list_latest_statistics(&state.db, release, &filter, page).await
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
    params(("id" = String, Path, description = "The statistic's id.", pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"), ItemParams, FieldsParams<Statistic>),
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
