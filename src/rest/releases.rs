//! `/api/v1/releases`: immutable snapshots of the data.

use axum::extract::{Path, State};
use axum::response::Response;

use super::{
    ApiQuery, ItemResponse, Links, ListMeta, ListResponse, QueryParams, Representation,
    render_json, respond,
};
use crate::csv::CSV_CONTENT_TYPE;
use crate::diff::{DiffCursor, ReleaseRef, RowChange, TableChanges};
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
                    meta: ListMeta::new(&latest.id, releases.len() as u64, MAX_LIMIT),
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
                    "attachment; filename=\"{}.csv\"",
                    crate::model::release_file_stem("releases", &latest)
                ));
                Ok(out)
            }
        }
    })
    .await
}

/// Get one release
///
/// A release by id (or any unique prefix of at least 8 hex digits), with its
/// disclosure-control policy.
#[utoipa::path(
    get,
    path = "/releases/{id}",
    tag = "releases",
    params(("id" = String, Path, description = "The release id: 64 hex digits, or a unique prefix of at least 8.", pattern = "^[0-9a-f]{8,64}$")),
    responses(
        (status = 200, description = "The release.", body = ItemResponse<Release>),
        (status = 304, description = "Not modified."),
        (status = 400, description = "The id is not a release id, or a prefix shorter than 8 digits or of several releases.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_release(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    request.check_names(&[])?;
    let representation = request.representation(None, None, false)?;
    let release = query::resolve_release_ref(&state.releases, "id", &id).await?;
    respond(&state, &request, &release.id, representation, async || {
        render_json(
            &ItemResponse {
                data: Release::from((*release).clone()),
                meta: super::ItemMeta::new(&release.id),
            },
            &release.id,
        )
    })
    .await
}

/// Parameters of a release diff.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// Row changes per page, 1 to 1000.
    #[param(minimum = 1, maximum = 1000, default = 100, example = 100)]
    limit: Option<i64>,
    /// Opaque cursor from `links.next` or the `Link` header.
    #[param(pattern = "^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
    /// `json` (default) or `csv`; overrides the `Accept` header.
    #[param(pattern = "^(json|csv)$")]
    format: Option<String>,
    /// With CSV: prefix a UTF-8 byte order mark for Excel.
    bom: Option<bool>,
}

impl QueryParams for DiffParams {
    fn read(request: &ApiQuery) -> Result<Self, ApiError> {
        Ok(DiffParams {
            limit: request.integer("limit")?,
            cursor: request.text("cursor"),
            format: request.text("format"),
            bom: request.boolean("bom")?,
        })
    }
}

/// A page of a release diff.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DiffResponse {
    /// The rows added, removed or changed, by table (in catalog order) then key.
    pub data: Vec<RowChange>,
    /// About the diff and this page.
    pub meta: DiffMeta,
    /// Links to follow.
    pub links: Links,
}

/// About a release diff.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DiffMeta {
    /// The older release.
    pub from: ReleaseRef,
    /// The newer release.
    pub to: ReleaseRef,
    /// Per table, how many rows were added, removed and changed.
    pub tables: Vec<TableChanges>,
    /// Row changes across all pages (the sum of `tables`).
    pub total: u64,
    /// The page size used.
    pub limit: u64,
}

/// Diff two releases
///
/// What changed from release `id` to release `other` (or `latest`): per table, the rows
/// added, removed and changed (matched by the table's key), and for a changed row each
/// field that changed, old and new. A suppressed value is never shown: its side of the
/// `value` field is null with `old_suppressed`/`new_suppressed` true (never 0). CSV has one
/// line per changed field. Paged like every collection; immutable when both ids are full.
/// Each page compares a bounded slice of the two releases (at most 40,000 keys of each),
/// so where few rows changed a page can hold fewer than `limit` changes, even none: follow
/// `links.next` (or the `Link` header) until there is none. `meta.tables` and
/// `meta.total` count the whole diff.
#[utoipa::path(
    get,
    path = "/releases/{id}/diff/{other}",
    tag = "releases",
    params(
        ("id" = String, Path, description = "The older release: its id, or a unique prefix of at least 8 hex digits.", pattern = "^[0-9a-f]{8,64}$"),
        ("other" = String, Path, description = "The newer release: its id, a unique prefix of at least 8 hex digits, or `latest`.", pattern = "^([0-9a-f]{8,64}|latest)$"),
        DiffParams
    ),
    responses(
        (status = 200, description = "A page of the diff.",
            content((DiffResponse = "application/json"), (String = "text/csv"))),
        (status = 304, description = "Not modified."),
        (status = 400, description = "An id or parameter is malformed, too short or ambiguous.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header asks for neither JSON nor CSV.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn diff_releases(
    State(state): State<AppState>,
    Path((id, other)): Path<(String, String)>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    let params = request.params::<DiffParams>()?;
    let representation = request.representation(params.format.as_deref(), params.bom, true)?;
    let from = query::resolve_release_ref(&state.releases, "id", &id).await?;
    let to = match other.as_str() {
        "latest" => query::resolve_release(&state.releases, None).await?,
        other => query::resolve_release_ref(&state.releases, "other", other).await?,
    };
    let (limit, _) = query::page_args(params.limit, None, ("limit", "cursor"))?;
    let after = params
        .cursor
        .as_deref()
        .map(|text| DiffCursor::decode(text, &from.id, &to.id, "cursor"))
        .transpose()?;
    // The cache key names both releases (`respond` adds the newer one's id).
    let key_release = format!("{}..{}", from.id, to.id);
    respond(&state, &request, &key_release, representation, async || {
        let page = crate::diff::page(
            &state.db,
            &from.id,
            &to.id,
            after.clone(),
            limit,
            crate::diff::BUDGET,
        )
        .await?;
        let next = page.next.as_ref().map(|cursor| {
            let cursor = cursor.encode(&from.id, &to.id);
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("limit", &limit.to_string());
            if let Some(format) = &params.format {
                query.append_pair("format", format);
            }
            query.append_pair("cursor", &cursor);
            format!(
                "/api/v1/releases/{}/diff/{}?{}",
                from.id,
                to.id,
                query.finish()
            )
        });
        let mut out = match representation {
            Representation::Json => {
                let tables = crate::diff::summary(&state.db, &from.id, &to.id).await?;
                render_json(
                    &DiffResponse {
                        data: page.items,
                        meta: DiffMeta {
                            from: ReleaseRef::from(&*from),
                            to: ReleaseRef::from(&*to),
                            total: tables.iter().map(|t| t.added + t.removed + t.changed).sum(),
                            tables,
                            limit,
                        },
                        links: Links { next: next.clone() },
                    },
                    &to.id,
                )?
            }
            Representation::Csv { bom } => {
                let mut out = super::rendered(
                    crate::diff::render_csv(&page.items, bom),
                    CSV_CONTENT_TYPE,
                    &to.id,
                );
                out.disposition = Some(format!(
                    "attachment; filename=\"diff-r{}-{}-r{}-{}.csv\"",
                    from.seq,
                    &from.id[..8],
                    to.seq,
                    &to.id[..8]
                ));
                out
            }
        };
        out.link = next.map(|n| format!("<{n}>; rel=\"next\""));
        Ok(out)
    })
    .await
}
