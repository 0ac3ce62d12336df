//! Citations: `/api/v1/releases/{id}/cite` and `/api/v1/statistics/{id}/cite`, in plain
//! text, BibTeX, RIS or CSL-JSON (`crate::cite`).

use axum::extract::{Path, State};
use axum::response::Response;

use super::{ApiQuery, QueryParams, Representation, respond};
use crate::cite::{Citable, CitationFormat};
use crate::diff::ReleaseRef;
use crate::error::{ApiError, Problem, echo};
use crate::query;
use crate::state::AppState;

/// Parameters of a release's citation.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CiteParams {
    /// `text` (default, APA-like), `bibtex`, `ris` or `csl-json`.
    #[param(pattern = "^(text|bibtex|ris|csl-json)$")]
    format: Option<String>,
}

impl QueryParams for CiteParams {
    fn read(request: &ApiQuery) -> Result<Self, ApiError> {
        Ok(CiteParams {
            format: request.text("format"),
        })
    }
}

/// Parameters of a figure's citation.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FigureCiteParams {
    /// A release id (64 hex digits, or a unique prefix of at least 8); default: the
    /// latest release.
    #[param(pattern = "^[0-9a-f]{8,64}$")]
    release: Option<String>,
    /// `text` (default, APA-like), `bibtex`, `ris` or `csl-json`.
    #[param(pattern = "^(text|bibtex|ris|csl-json)$")]
    format: Option<String>,
}

impl QueryParams for FigureCiteParams {
    fn read(request: &ApiQuery) -> Result<Self, ApiError> {
        Ok(FigureCiteParams {
            release: request.text("release"),
            format: request.text("format"),
        })
    }
}

fn format_of(format: Option<&str>) -> Result<CitationFormat, ApiError> {
    format.map_or(Ok(CitationFormat::Text), CitationFormat::parse)
}

/// Serve a citation through the representation cache (keyed, like every response, by
/// release, path and normalised query; the base URL is part of the text, so it is part
/// of the key too).
async fn send(
    state: &AppState,
    request: &ApiQuery,
    release: &crate::entity::release::Model,
    format: CitationFormat,
    file_name: String,
    text: impl AsyncFnOnce() -> Result<String, ApiError>,
) -> Result<Response, ApiError> {
    let base = super::base_url(state, &request.headers);
    let key = format!("{}|{base}|{format:?}", release.id);
    respond(state, request, &key, Representation::Json, async || {
        let mut out = super::rendered(text().await?.into_bytes(), format.media_type(), &release.id);
        out.disposition = Some(format!(
            "inline; filename=\"{file_name}.{}\"",
            format.extension()
        ));
        Ok(out)
    })
    .await
}

/// Cite a release
///
/// How to cite a release: the dataset, the release (sequence number, short and full id),
/// its date and its permanent URL, as plain text (APA-like), BibTeX, RIS or CSL-JSON.
#[utoipa::path(
    get,
    path = "/releases/{id}/cite",
    tag = "releases",
    params(
        ("id" = String, Path, description = "The release: its id, or a unique prefix of at least 8 hex digits.", pattern = "^[0-9a-f]{8,64}$"),
        CiteParams
    ),
    responses(
        (status = 200, description = "The citation.", content(
            (String = "text/plain"), (String = "application/x-bibtex"),
            (String = "application/x-research-info-systems"), (Vec<Object> = "application/vnd.citationstyles.csl+json"))),
        (status = 304, description = "Not modified."),
        (status = 400, description = "The id or a parameter is malformed, too short or ambiguous.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cite_release(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    let params = request.params::<CiteParams>()?;
    let format = format_of(params.format.as_deref())?;
    let release = query::resolve_release_ref(&state.releases, "id", &id).await?;
    let base = super::base_url(&state, &request.headers);
    let file_name = crate::model::release_file_stem("citation", &release);
    send(&state, &request, &release, format, file_name, async || {
        let reference = ReleaseRef::from(&*release);
        Ok(Citable {
            title: &release.title,
            release: &reference,
            base: &base,
            figure: None,
        }
        .render(format))
    })
    .await
}

/// Cite a figure
///
/// How to cite one figure in one release: the dataset, the release (sequence number,
/// short and full id), its date, the figure's permanent URL (pinned to the release) and
/// the figure's original source (title, publisher, URL), as plain text (APA-like),
/// BibTeX, RIS or CSL-JSON. A suppressed figure is cited as suppressed, never as a number.
#[utoipa::path(
    get,
    path = "/statistics/{id}/cite",
    tag = "statistics",
    params(
        ("id" = String, Path, description = "The statistic's id.", pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"),
        FigureCiteParams
    ),
    responses(
        (status = 200, description = "The citation.", content(
            (String = "text/plain"), (String = "application/x-bibtex"),
            (String = "application/x-research-info-systems"), (Vec<Object> = "application/vnd.citationstyles.csl+json"))),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such statistic or release.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cite_statistic(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    query::check_text("id", &id)?;
    let params = request.params::<FigureCiteParams>()?;
    let format = format_of(params.format.as_deref())?;
    let release = query::resolve_release(&state.releases, params.release.as_deref()).await?;
    let base = super::base_url(&state, &request.headers);
    let file_name = crate::model::release_file_stem("citation", &release);
    send(&state, &request, &release, format, file_name, async || {
        let figure = query::get_statistic(&state.db, &release.id, &id)
            .await?
            .ok_or_else(|| ApiError::NotFound {
                parameter: Some("id".into()),
                detail: format!("no statistic {:?} in release {}", echo(&id), release.id),
            })?;
        let reference = ReleaseRef::from(&*release);
        Ok(Citable {
            title: &release.title,
            release: &reference,
            base: &base,
            figure: Some(&figure),
        }
        .render(format))
    })
    .await
}
