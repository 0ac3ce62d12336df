//! `/api/v1/sources`: where every figure, event and document comes from.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    ApiQuery, ItemParams, ItemResponse, ListParams, ListResponse, QueryParams, item, list,
};
use crate::error::{ApiError, Problem};
use crate::fields::FieldsParams;
use crate::model::Source;
use crate::query::{self, SourceFilter};
use crate::state::AppState;
use crate::vocabulary::SourceKind;

/// Filters of the sources collection.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SourceListParams {
    /// Only sources of these kinds. Several values, separated by commas, match any of them: `government`, `news`, `court`, `report`, `other`.
    #[param(value_type = Option<String>, example = "government,court", pattern = "^(government|news|court|report|other)(,(government|news|court|report|other)){0,49}$")]
    kind: Vec<SourceKind>,
    /// Text search: only rows whose title or publisher contains this text, ignoring case and accents
    /// (`bogota` finds `Bogotá`, `n` finds `ñ`); 1 to 200 characters, `%` and `_` match
    /// themselves.
    #[param(
        example = "tribune",
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
    )]
    q: Option<String>,
    /// Order of the rows: comma-separated fields, each optionally prefixed with `-` for
    /// descending (`id`, `title`, `publisher`, `published_on`, `kind`). Ties, and
    /// the rows after the last field, keep the canonical order; empty values sort last in both
    /// directions. A `cursor` continues only the order it was issued for.
    #[param(
        pattern = "^-?(id|title|publisher|published_on|kind)(,-?(id|title|publisher|published_on|kind))*$"
    )]
    #[allow(dead_code)] // read for every table alike by `rest::sort_of`; documents it
    sort: Option<String>,
}

impl QueryParams for SourceListParams {
    fn read(request: &ApiQuery) -> Result<Self, ApiError> {
        Ok(SourceListParams {
            kind: request.vocab_list("kind", SourceKind::parse, SourceKind::VALUES)?,
            q: super::search_param(request)?,
            sort: request.text("sort"),
        })
    }
}

impl SourceListParams {
    /// The filter these parameters ask for.
    pub fn filter(self) -> SourceFilter {
        SourceFilter {
            kind: self.kind,
            q: self.q,
        }
    }
}

/// List sources
///
/// Every cited source, by id, with publisher and URL.
#[utoipa::path(
    get,
    path = "/sources",
    tag = "sources",
    params(ListParams, SourceListParams, FieldsParams<Source>),
    responses(
        (status = 200, description = "A page of sources (JSON, or CSV with `format=csv` / `Accept: text/csv`).",
            content((ListResponse<Source> = "application/json"), (String = "text/csv")),
            headers(("ETag" = String), ("Link" = String, description = "RFC 8288 link to the next page"), ("X-Data-Release" = String), ("X-Total-Count" = u64, description = "Rows matching the filters, across all pages (as `meta.total`)"))),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header asks for neither JSON nor CSV.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_sources(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    let filter = request.collection_params::<SourceListParams>()?.filter();
    list(&state, &request, "sources", async |state, release, page| {
        query::list_sources(&state.db, release, &filter, page).await
    })
    .await
}

/// Get one source
#[utoipa::path(
    get,
    path = "/sources/{id}",
    tag = "sources",
    params(("id" = String, Path, description = "The source's id.", pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"), ItemParams, FieldsParams<Source>),
    responses(
        (status = 200, description = "The source.", body = ItemResponse<Source>),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such source or release.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_source(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    item(
        &state,
        &request,
        ("source", "id"),
        &id,
        async |state, release| query::get_source(&state.db, release, &id).await,
    )
    .await
}
