//! `/api/v1/documents`: ordinances, statements, subpoenas (as reported), reports, decisions.

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
use crate::model::Document;
use crate::query::{self, DateRange, DocumentFilter};
use crate::state::AppState;
use crate::vocabulary::DocumentKind;

/// Filters of the documents collection.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentListParams {
    /// Only these programs (slugs, e.g. `citykey`). Several values, separated by commas, match any of them.
    #[param(value_type = Option<String>, example = "citykey", pattern = "^[^,\\u0000-\\u001F\\u007F-\\u009F]+(,[^,\\u0000-\\u001F\\u007F-\\u009F]+){0,49}$")]
    program: Vec<String>,
    /// Only documents of these kinds. Several values, separated by commas, match any of them: `ordinance`, `policy`, `statement`, `subpoena`, `report`, `court`.
    #[param(value_type = Option<String>, example = "ordinance,court", pattern = "^(ordinance|policy|statement|subpoena|report|court)(,(ordinance|policy|statement|subpoena|report|court)){0,49}$")]
    kind: Vec<DocumentKind>,
    /// Text search: only rows whose title or summary contains this text, ignoring case and accents
    /// (`bogota` finds `Bogotá`, `n` finds `ñ`); 1 to 200 characters, `%` and `_` match
    /// themselves.
    #[param(
        example = "subpoena",
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
    )]
    q: Option<String>,
    /// Only documents published on or after this date (undated documents are left out);
    /// not after `to`.
    from: Option<NaiveDate>,
    /// Only documents published on or before this date (undated documents are left out).
    to: Option<NaiveDate>,
    /// Order of the rows: comma-separated fields, each optionally prefixed with `-` for
    /// descending (`id`, `program`, `kind`, `title`, `issuer`, `published_on`). Ties, and
    /// the rows after the last field, keep the canonical order; empty values sort last in both
    /// directions. A `cursor` continues only the order it was issued for.
    #[param(
        pattern = "^-?(id|program|kind|title|issuer|published_on)(,-?(id|program|kind|title|issuer|published_on))*$"
    )]
    #[allow(dead_code)] // read for every table alike by `rest::sort_of`; documents it
    sort: Option<String>,
}

impl DocumentListParams {
    /// The filter a request asks for; unknown or malformed parameters are errors.
    pub fn filter(self) -> Result<DocumentFilter, ApiError> {
        Ok(DocumentFilter {
            program: self.program,
            kind: self.kind,
            q: self.q,
            published: DateRange::new(self.from, self.to)?,
        })
    }
}

impl QueryParams for DocumentListParams {
    fn read(request: &ApiQuery) -> Result<Self, ApiError> {
        let q = super::search_param(request)?;
        Ok(DocumentListParams {
            program: request.list("program")?,
            kind: request.vocab_list("kind", DocumentKind::parse, DocumentKind::VALUES)?,
            q,
            from: request.date("from")?,
            to: request.date("to")?,
            sort: request.text("sort"),
        })
    }
}

/// List documents
///
/// Policy documents, dated ones first (oldest first), each with its URL and source.
#[utoipa::path(
    get,
    path = "/documents",
    tag = "documents",
    params(ListParams, DocumentListParams, FieldsParams<Document>),
    responses(
        (status = 200, description = "A page of documents (JSON, or CSV with `format=csv` / `Accept: text/csv`).",
            content((ListResponse<Document> = "application/json"), (String = "text/csv")),
            headers(("ETag" = String), ("Link" = String, description = "RFC 8288 link to the next page"), ("X-Data-Release" = String), ("X-Total-Count" = u64, description = "Rows matching the filters, across all pages (as `meta.total`)"))),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header asks for neither JSON nor CSV.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_documents(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    let filter = request
        .collection_params::<DocumentListParams>()?
        .filter()?;
    list(
        &state,
        &request,
        "documents",
        async |state, release, page| query::list_documents(&state.db, release, &filter, page).await,
    )
    .await
}

/// Get one document
#[utoipa::path(
    get,
    path = "/documents/{id}",
    tag = "documents",
    params(("id" = String, Path, description = "The document's id.", pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"), ItemParams, FieldsParams<Document>),
    responses(
        (status = 200, description = "The document.", body = ItemResponse<Document>),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document or release.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_document(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    item(
        &state,
        &request,
        ("document", "id"),
        &id,
        async |state, release| query::get_document(&state.db, release, &id).await,
    )
    .await
}
