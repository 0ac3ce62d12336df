//! `/api/v1/events`: program timelines.

use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{ApiQuery, ListParams, ListResponse, QueryParams, list};
use crate::error::{ApiError, Problem};
use crate::fields::FieldsParams;
use crate::model::Event;
use crate::query::{self, DateRange, EventFilter};
use crate::state::AppState;
use crate::vocabulary::EventKind;

/// Filters of the events collection.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventListParams {
    /// Only these programs (slugs, e.g. `citykey`). Several values, separated by commas, match any of them.
    #[param(value_type = Option<String>, example = "citykey", pattern = "^[^,\\u0000-\\u001F\\u007F-\\u009F]+(,[^,\\u0000-\\u001F\\u007F-\\u009F]+){0,49}$")]
    program: Vec<String>,
    /// Only events of these kinds. Several values, separated by commas, match any of them: `ordinance`, `launch`, `expansion`, `feature`, `legal`, `suspension`, `statement`, `reactivation`, `other`.
    #[param(value_type = Option<String>, example = "suspension,statement", pattern = "^(ordinance|launch|expansion|feature|legal|suspension|statement|reactivation|other)(,(ordinance|launch|expansion|feature|legal|suspension|statement|reactivation|other)){0,49}$")]
    kind: Vec<EventKind>,
    /// Text search: only rows whose title or description contains this text, ignoring case and accents
    /// (`bogota` finds `Bogotá`, `n` finds `ñ`); 1 to 200 characters, `%` and `_` match
    /// themselves.
    #[param(
        example = "subpoena",
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
    )]
    q: Option<String>,
    /// Only events on or after this date; not after `to`.
    from: Option<NaiveDate>,
    /// Only events on or before this date.
    to: Option<NaiveDate>,
    /// Order of the rows: comma-separated fields, each optionally prefixed with `-` for
    /// descending (`id`, `program`, `date`, `kind`, `title`). Ties, and
    /// the rows after the last field, keep the canonical order; empty values sort last in both
    /// directions. A `cursor` continues only the order it was issued for.
    #[param(pattern = "^-?(id|program|date|kind|title)(,-?(id|program|date|kind|title))*$")]
    #[allow(dead_code)] // read for every table alike by `rest::sort_of`; documents it
    sort: Option<String>,
}

impl QueryParams for EventListParams {
    fn read(request: &ApiQuery) -> Result<Self, ApiError> {
        Ok(EventListParams {
            program: request.list("program")?,
            kind: request.vocab_list("kind", EventKind::parse, EventKind::VALUES)?,
            q: super::search_param(request)?,
            from: request.date("from")?,
            to: request.date("to")?,
            sort: request.text("sort"),
        })
    }
}

impl EventListParams {
    /// The filter these parameters ask for (`from` not after `to`).
    pub fn filter(self) -> Result<EventFilter, ApiError> {
        Ok(EventFilter {
            program: self.program,
            kind: self.kind,
            q: self.q,
            date: DateRange::new(self.from, self.to)?,
        })
    }
}

/// List events
///
/// Program timelines, oldest first. Where sources disagree on a date, the description
/// says so. Each event carries its source's title and URL.
#[utoipa::path(
    get,
    path = "/events",
    tag = "events",
    params(ListParams, EventListParams, FieldsParams<Event>),
    responses(
        (status = 200, description = "A page of events (JSON, or CSV with `format=csv` / `Accept: text/csv`).",
            content((ListResponse<Event> = "application/json"), (String = "text/csv")),
            headers(("ETag" = String), ("Link" = String, description = "RFC 8288 link to the next page"), ("X-Data-Release" = String), ("X-Total-Count" = u64, description = "Rows matching the filters, across all pages (as `meta.total`)"))),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header asks for neither JSON nor CSV.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_events(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    let filter = request.collection_params::<EventListParams>()?.filter()?;
    list(&state, &request, "events", async |state, release, page| {
        query::list_events(&state.db, release, &filter, page).await
    })
    .await
}
