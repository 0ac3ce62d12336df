//! `/api/v1/programs`: municipal ID and sanctuary-policy programs.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    ApiQuery, ItemParams, ItemResponse, ListParams, ListResponse, QueryParams, item, list,
};
use crate::error::{ApiError, Problem};
use crate::fields::FieldsParams;
use crate::model::Program;
use crate::query::{self, ProgramFilter};
use crate::state::AppState;
use crate::vocabulary::ProgramStatus;

/// Filters of the programs collection.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgramListParams {
    /// Only programs with these statuses. Several values, separated by commas, match any of them: `active`, `suspended`, `ended`, `planned`, `unknown`.
    #[param(value_type = Option<String>, example = "active,suspended", pattern = "^(active|suspended|ended|planned|unknown)(,(active|suspended|ended|planned|unknown)){0,49}$")]
    status: Vec<ProgramStatus>,
    /// Text search: only rows whose name, jurisdiction, administrator or description contains this text, ignoring case and accents
    /// (`bogota` finds `Bogotá`, `n` finds `ñ`); 1 to 200 characters, `%` and `_` match
    /// themselves.
    #[param(
        example = "chicago",
        max_length = 200,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
    )]
    q: Option<String>,
    /// Order of the rows: comma-separated fields, each optionally prefixed with `-` for
    /// descending (`slug`, `name`, `jurisdiction`, `launched_on`, `status`). Ties, and
    /// the rows after the last field, keep the canonical order; empty values sort last in both
    /// directions. A `cursor` continues only the order it was issued for.
    #[param(
        pattern = "^-?(slug|name|jurisdiction|launched_on|status)(,-?(slug|name|jurisdiction|launched_on|status))*$"
    )]
    #[allow(dead_code)] // read for every table alike by `rest::sort_of`; documents it
    sort: Option<String>,
}

impl QueryParams for ProgramListParams {
    fn read(request: &ApiQuery) -> Result<Self, ApiError> {
        Ok(ProgramListParams {
            status: request.vocab_list("status", ProgramStatus::parse, ProgramStatus::VALUES)?,
            q: super::search_param(request)?,
            sort: request.text("sort"),
        })
    }
}

impl ProgramListParams {
    /// The filter these parameters ask for.
    pub fn filter(self) -> ProgramFilter {
        ProgramFilter {
            status: self.status,
            q: self.q,
        }
    }
}

/// List programs
///
/// Every program, by slug, with its source.
#[utoipa::path(
    get,
    path = "/programs",
    tag = "programs",
    params(ListParams, ProgramListParams, FieldsParams<Program>),
    responses(
        (status = 200, description = "A page of programs (JSON, or CSV with `format=csv` / `Accept: text/csv`).",
            content((ListResponse<Program> = "application/json"), (String = "text/csv")),
            headers(("ETag" = String), ("Link" = String, description = "RFC 8288 link to the next page"), ("X-Data-Release" = String), ("X-Total-Count" = u64, description = "Rows matching the filters, across all pages (as `meta.total`)"))),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header asks for neither JSON nor CSV.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_programs(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    let filter = request.collection_params::<ProgramListParams>()?.filter();
    list(
        &state,
        &request,
        "programs",
        async |state, release, page| query::list_programs(&state.db, release, &filter, page).await,
    )
    .await
}

/// Get one program
#[utoipa::path(
    get,
    path = "/programs/{slug}",
    tag = "programs",
    params(("slug" = String, Path, description = "The program's slug.", example = "citykey", pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"), ItemParams, FieldsParams<Program>),
    responses(
        (status = 200, description = "The program.", body = ItemResponse<Program>),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such program or release.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_program(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    item(
        &state,
        &request,
        ("program", "slug"),
        &slug,
        async |state, release| query::get_program(&state.db, release, &slug).await,
    )
    .await
}
