//! `/api/v1/releases`: immutable snapshots of the data.

use axum::extract::{Path, State};
use axum::response::Response;

use super::{
    ApiQuery, ItemResponse, Links, ListMeta, ListResponse, QueryParams, Representation,
    render_json, respond,
};
use crate::csv::CSV_CONTENT_TYPE;
use crate::error::{ApiError, Problem};
use crate::model::Release;
use crate::query::{self, MAX_LIMIT};
use crate::state::AppState;

/// Parameters of the releases collection.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReleaseListParams {
    /// `json` (default) or `csv`; overrides the `Accept` header.
    #[param(pattern = "^(json|csv)$")]
    format: Option<String>,
    /// With CSV: prefix a UTF-8 byte order mark for Excel.
    bom: Option<bool>,
}

impl QueryParams for ReleaseListParams {
    fn read(request: &ApiQuery) -> Result<Self, ApiError> {
        Ok(ReleaseListParams {
            format: request.text("format"),
            bom: request.boolean("bom")?,
        })
    }
}

/// List releases
///
/// Every release, newest first (`meta.release` is the latest, which every other
/// collection serves by default). Each names its disclosure-control policy.
#[utoipa::path(
    get,
    path = "/releases",
    tag = "releases",
    params(ReleaseListParams),
    responses(
        (status = 200, description = "Every release, newest first.",
            content((ListResponse<Release> = "application/json"), (String = "text/csv"))),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No release has been imported yet.", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header asks for neither JSON nor CSV.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_releases(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    let params = request.params::<ReleaseListParams>()?;
    let representation = request.representation(params.format.as_deref(), params.bom, true)?;
    let latest = query::resolve_release(&state.releases, None).await?;
    respond(&state, &request, &latest.id, representation, async || {
        let releases = query::list_releases(&state.db).await?;
        match representation {
            Representation::Json => render_json(
                &ListResponse {
                    meta: ListMeta {
                        release: latest.id.clone(),
                        total: releases.len() as u64,
                        limit: MAX_LIMIT,
                    },
                    data: releases,
                    links: Links { next: None },
                },
                &latest.id,
            ),
            Representation::Csv { bom } => {
                let mut out = super::rendered(
                    crate::csv::render(&releases, bom),
                    CSV_CONTENT_TYPE,
                    &latest.id,
                );
                out.disposition = Some(format!(
                    "attachment; filename=\"releases-{}.csv\"",
                    latest.id
                ));
                Ok(out)
            }
        }
    })
    .await
}

/// Get one release
///
/// A release by id, with its disclosure-control policy.
#[utoipa::path(
    get,
    path = "/releases/{id}",
    tag = "releases",
    params(("id" = String, Path, description = "The release id (64 hex digits).", pattern = "^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "The release.", body = ItemResponse<Release>),
        (status = 304, description = "Not modified."),
        (status = 400, description = "The id is not a release id.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_release(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    query::check_text("id", &id)?;
    request.check_names(&[])?;
    let representation = request.representation(None, None, false)?;
    if !query::is_release_id(&id) {
        return Err(ApiError::invalid(
            "id",
            format!(
                "id must be a release id (64 hex digits), got {:?}",
                crate::error::echo(&id)
            ),
        ));
    }
    let release = query::resolve_release(&state.releases, Some(&id))
        .await
        .map_err(|e| match e {
            ApiError::NotFound { detail, .. } => ApiError::NotFound {
                parameter: Some("id".into()),
                detail,
            },
            other => other,
        })?;
    respond(&state, &request, &release.id, representation, async || {
        render_json(
            &ItemResponse {
                data: Release::from((*release).clone()),
                meta: super::ItemMeta {
                    release: release.id.clone(),
                },
            },
            &release.id,
        )
    })
    .await
}
