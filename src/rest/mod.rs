//! The REST interface under `/api/v1`, its OpenAPI document, and bulk CSV downloads.
//!
//! Every handler follows one path: parse the query string strictly ([`ApiQuery`]),
//! resolve the release, ask `query.rs`, and render JSON or CSV through [`respond`], which
//! keeps rendered representations in memory: a release never changes, so the bytes and
//! the ETag of (release, path, normalised query, media type) never change either.

mod catalog;
mod documents;
mod downloads;
mod events;
mod health;
mod metrics;
mod programs;
mod releases;
mod sources;
mod statistics;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::csv::{CSV_CONTENT_TYPE, CsvRecord};
use crate::entity::release;
use crate::error::{ApiError, Problem, echo};
use crate::http::Rendered;
use crate::query::{self, Page, PageRequest};
use crate::state::AppState;

pub use downloads::measure_missing_sizes;

/// The OpenAPI document's fixed parts; paths are added by the routes themselves.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "sanctuary-data",
        description = "Aggregate statistics, program timelines and policy documents about municipal ID and \
sanctuary-policy programs, starting with Chicago's CityKey. No individual records: small counts are \
suppressed at import with complementary suppression, and every figure carries its source.\n\n\
Every collection is paged (`limit`, opaque `cursor`, `links.next` and an RFC 8288 `Link` header), \
filters are plain query parameters, `release` pins an immutable release, and `format=csv` or \
`Accept: text/csv` returns CSV. Errors are RFC 9457 `application/problem+json`.",
        license(name = "Code: MIT OR Apache-2.0; data: CC-BY-4.0 (see datapackage.json)")
    ),
    tags(
        (name = "programs", description = "Municipal ID and sanctuary-policy programs."),
        (name = "statistics", description = "Published figures, one row per program, metric, period, dimension and category."),
        (name = "events", description = "Program timelines."),
        (name = "documents", description = "Ordinances, statements, subpoenas (as reported), reports and decisions."),
        (name = "sources", description = "Where every figure, event and document comes from."),
        (name = "metrics", description = "The dictionary of metric names."),
        (name = "releases", description = "Immutable snapshots of the data."),
        (name = "downloads", description = "Whole tables as CSV."),
        (name = "catalog", description = "Catalogs for data portals: Frictionless datapackage.json and DCAT-US data.json."),
        (name = "health", description = "Liveness and readiness."),
    ),
    components(schemas(Problem))
)]
pub struct ApiDoc;

/// The REST routes and the OpenAPI document they describe.
pub fn routes() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::new()
        .routes(routes!(programs::list_programs))
        .routes(routes!(programs::get_program))
        .routes(routes!(statistics::list_statistics))
        .routes(routes!(statistics::get_statistic))
        .routes(routes!(events::list_events))
        .routes(routes!(documents::list_documents))
        .routes(routes!(documents::get_document))
        .routes(routes!(sources::list_sources))
        .routes(routes!(sources::get_source))
        .routes(routes!(metrics::list_metrics))
        .routes(routes!(releases::list_releases))
        .routes(routes!(releases::get_release));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api)
        .routes(routes!(downloads::list_downloads))
        .routes(routes!(downloads::download_table))
        .routes(routes!(catalog::datapackage))
        .routes(routes!(catalog::data_json))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .split_for_parts()
}

/// The OpenAPI document, as served at `/openapi.json` and committed at `openapi/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

/// Pretty-printed OpenAPI JSON with a final newline (the committed form).
pub fn openapi_json() -> String {
    let mut json = openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

// ---------------------------------------------------------------------------------------
// Query strings

/// A request's path, query pairs and headers, for strict parameter parsing.
pub struct ApiQuery {
    path: String,
    pairs: Vec<(String, String)>,
    headers: HeaderMap,
}

impl<S: Send + Sync> FromRequestParts<S> for ApiQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        for (name, value) in &pairs {
            query::check_text(name, name)?;
            query::check_text(name, value)?;
        }
        // Nested routers see a shortened path; links and cache keys need the one the client used.
        let path = match parts.extensions.get::<axum::extract::OriginalUri>() {
            Some(original) => original.path().to_owned(),
            None => parts.uri.path().to_owned(),
        };
        Ok(ApiQuery {
            path,
            pairs,
            headers: parts.headers.clone(),
        })
    }
}

impl ApiQuery {
    /// Reject unknown, repeated and empty parameters. `allowed` comes from the handler's
    /// documented parameter structs, so the docs and the check cannot disagree.
    pub fn check_names(&self, allowed: &[String]) -> Result<(), ApiError> {
        for (i, (name, value)) in self.pairs.iter().enumerate() {
            if !allowed.iter().any(|a| a == name) {
                let expected = if allowed.is_empty() {
                    "this resource takes no parameters".to_owned()
                } else {
                    format!("allowed: {}", allowed.join(", "))
                };
                return Err(ApiError::invalid(
                    name.clone(),
                    format!("unknown parameter {:?} ({expected})", echo(name)),
                ));
            }
            if self.pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(ApiError::invalid(
                    name.clone(),
                    format!("parameter {} is given more than once", echo(name)),
                ));
            }
            if value.is_empty() {
                return Err(ApiError::invalid(
                    name.clone(),
                    format!("parameter {} is empty", echo(name)),
                ));
            }
        }
        Ok(())
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, ApiError> {
        self.text(name)
            .map(|v| {
                NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                    .ok()
                    .filter(|_| v.len() == 10)
                    .ok_or_else(|| {
                        ApiError::invalid(
                            name,
                            format!("{name} must be a date as YYYY-MM-DD, got {:?}", echo(&v)),
                        )
                    })
            })
            .transpose()
    }

    pub fn integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.text(name)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    ApiError::invalid(
                        name,
                        format!("{name} must be a whole number, got {:?}", echo(&v)),
                    )
                })
            })
            .transpose()
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.text(name)
            .map(|v| match v.as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(ApiError::invalid(
                    name,
                    format!("{name} must be true or false, got {:?}", echo(&v)),
                )),
            })
            .transpose()
    }

    pub fn vocab<T>(
        &self,
        name: &str,
        parse: fn(&str) -> Option<T>,
        values: &[&str],
    ) -> Result<Option<T>, ApiError> {
        self.text(name)
            .map(|v| {
                parse(&v).ok_or_else(|| {
                    ApiError::invalid(
                        name,
                        format!(
                            "{name} must be one of {}, got {:?}",
                            values.join(", "),
                            echo(&v)
                        ),
                    )
                })
            })
            .transpose()
    }

    /// The query string in a canonical order, for cache keys and links.
    fn normalized(&self, skip: &[&str]) -> String {
        let mut pairs: Vec<&(String, String)> = self
            .pairs
            .iter()
            .filter(|(n, _)| !skip.contains(&n.as_str()))
            .collect();
        pairs.sort();
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    }

    /// Whether the URL pins a release (so the response can never change).
    fn pins_release(&self) -> bool {
        self.text("release").is_some() || self.text("cursor").is_some()
    }

    /// JSON or CSV, from `format` (which wins) or the `Accept` header.
    /// `bom` is checked whatever the representation, and ignored for JSON.
    fn representation(&self, csv_allowed: bool) -> Result<Representation, ApiError> {
        let bom = self.boolean("bom")?.unwrap_or(false);
        if let Some(format) = self.text("format") {
            return match format.as_str() {
                "json" => Ok(Representation::Json),
                "csv" if csv_allowed => Ok(Representation::Csv { bom }),
                _ => Err(ApiError::invalid(
                    "format",
                    format!("format must be json or csv, got {:?}", echo(&format)),
                )),
            };
        }
        let accept = self
            .headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        match negotiate(&accept, csv_allowed) {
            Some(Representation::Csv { .. }) => Ok(Representation::Csv { bom }),
            Some(json) => Ok(json),
            None => Err(ApiError::NotAcceptable {
                detail: format!(
                    "cannot produce any of {accept:?}; available: application/json{}",
                    if csv_allowed { ", text/csv" } else { "" }
                ),
            }),
        }
    }
}

/// The media types a response can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Representation {
    Json,
    Csv { bom: bool },
}

/// Pick JSON or CSV from an `Accept` header by quality, then by order.
fn negotiate(accept: &str, csv_allowed: bool) -> Option<Representation> {
    if accept.trim().is_empty() {
        return Some(Representation::Json);
    }
    let mut best: Option<(f32, Representation)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if quality <= 0.0 {
            continue;
        }
        let representation = match media.as_str() {
            "application/json" | "application/*" | "*/*" | "application/problem+json" => {
                Representation::Json
            }
            "text/csv" | "text/*" if csv_allowed => Representation::Csv { bom: false },
            _ => continue,
        };
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, representation));
        }
    }
    best.map(|(_, r)| r)
}

/// Names of the parameters documented by `T`.
pub fn param_names<T: IntoParams>() -> Vec<String> {
    T::into_params(|| None)
        .into_iter()
        .map(|p| p.name)
        .collect()
}

/// Parameters every collection takes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Rows per page, 1 to 1000.
    #[param(minimum = 1, maximum = 1000, default = 100, example = 100)]
    limit: Option<i64>,
    /// Opaque cursor from `links.next` or the `Link` header; it pins the release. Only
    /// cursors this service issued are accepted.
    #[param(pattern = "^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
    /// A release id (64 hex digits, see `/api/v1/releases`); default: the latest release.
    #[param(pattern = "^[0-9a-f]{64}$")]
    release: Option<String>,
    /// `json` (default) or `csv`; overrides the `Accept` header.
    #[param(pattern = "^(json|csv)$")]
    format: Option<String>,
    /// With CSV: prefix a UTF-8 byte order mark so Excel reads accents correctly
    /// (ignored for JSON).
    bom: Option<bool>,
}

/// Parameters every single item takes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ItemParams {
    /// A release id (64 hex digits, see `/api/v1/releases`); default: the latest release.
    #[param(pattern = "^[0-9a-f]{64}$")]
    release: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Bodies

/// A page of a collection.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListResponse<T> {
    /// The rows of this page, in the collection's canonical order.
    pub data: Vec<T>,
    /// About the page.
    pub meta: ListMeta,
    /// Links to follow.
    pub links: Links,
}

/// About a page.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListMeta {
    /// The release the rows come from.
    pub release: String,
    /// Rows matching the filters, across all pages.
    pub total: u64,
    /// The page size used.
    pub limit: u64,
}

/// Links of a page.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Links {
    /// The next page (pinned to the same release), or null on the last page.
    pub next: Option<String>,
}

/// One item.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ItemResponse<T> {
    /// The item.
    pub data: T,
    /// About the response.
    pub meta: ItemMeta,
}

/// About an item response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ItemMeta {
    /// The release the item comes from.
    pub release: String,
}

// ---------------------------------------------------------------------------------------
// Rendering and the response cache

/// Serve a representation from the cache, or render it once and keep it.
pub(crate) async fn respond<F>(
    state: &AppState,
    request: &ApiQuery,
    release: &str,
    representation: Representation,
    render: F,
) -> Result<Response, ApiError>
where
    F: AsyncFnOnce() -> Result<Rendered, ApiError>,
{
    let key = format!(
        "{release}|{}|{}|{representation:?}",
        request.path,
        request.normalized(&["format", "bom"])
    );
    let rendered = state.responses.get_or_render(key, render).await?;
    Ok(rendered.answer(
        &request.headers,
        request.pins_release() || request.path.starts_with("/api/v1/releases/"),
    ))
}

fn rendered(body: Vec<u8>, content_type: &'static str, release: &str) -> Rendered {
    Rendered::new(body, content_type, release)
}

/// An HTML page as a cacheable representation.
pub(crate) fn rendered_html(body: Vec<u8>, release: &str) -> Rendered {
    rendered(body, "text/html; charset=utf-8", release)
}

fn render_json<T: Serialize>(value: &T, release: &str) -> Result<Rendered, ApiError> {
    let body = serde_json::to_vec(value).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(rendered(body, "application/json", release))
}

/// Render a page as JSON or CSV, with its `next` link.
fn render_page<T: Serialize + CsvRecord>(
    request: &ApiQuery,
    table: &str,
    release: &str,
    page: Page<T>,
    limit: u64,
    representation: Representation,
) -> Result<Rendered, ApiError> {
    let next = page.next.as_ref().map(|cursor| {
        let mut query = request.normalized(&["cursor", "release"]);
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .append_pair("release", release)
                .append_pair("cursor", &cursor.encode())
                .finish(),
        );
        format!("{}?{query}", request.path)
    });
    let mut out = match representation {
        Representation::Json => render_json(
            &ListResponse {
                data: page.items,
                meta: ListMeta {
                    release: release.to_owned(),
                    total: page.total,
                    limit,
                },
                links: Links { next: next.clone() },
            },
            release,
        )?,
        Representation::Csv { bom } => {
            let mut out = rendered(
                crate::csv::render(&page.items, bom),
                CSV_CONTENT_TYPE,
                release,
            );
            out.disposition = Some(format!("attachment; filename=\"{table}-{release}.csv\""));
            out
        }
    };
    out.link = next.map(|n| format!("<{n}>; rel=\"next\""));
    Ok(out)
}

/// The shared body of every collection handler.
async fn list<T, F>(
    state: &AppState,
    request: &ApiQuery,
    table: &str,
    fetch: F,
) -> Result<Response, ApiError>
where
    T: Serialize + CsvRecord,
    F: AsyncFnOnce(&AppState, &str, PageRequest) -> Result<Page<T>, ApiError>,
{
    let representation = request.representation(true)?;
    let (release, page_request) = query::resolve_page(
        &state.db,
        request.text("release").as_deref(),
        request.text("cursor").as_deref(),
        request.integer("limit")?,
        ("limit", "cursor"),
    )
    .await?;
    let release_id = release.id.clone();
    respond(state, request, &release.id, representation, async || {
        let page = fetch(state, &release_id, page_request).await?;
        render_page(
            request,
            table,
            &release_id,
            page,
            page_request.limit,
            representation,
        )
    })
    .await
}

/// The shared body of every item handler.
/// `what` is (the resource's name, the path parameter's name) for the 404 message.
async fn item<T, F>(
    state: &AppState,
    request: &ApiQuery,
    what: (&str, &str),
    id: &str,
    fetch: F,
) -> Result<Response, ApiError>
where
    T: Serialize,
    F: AsyncFnOnce(&AppState, &str) -> Result<Option<T>, ApiError>,
{
    query::check_text(what.1, id)?;
    request.check_names(&param_names::<ItemParams>())?;
    let representation = request.representation(false)?;
    let release: release::Model =
        query::resolve_release(&state.db, request.text("release").as_deref()).await?;
    respond(state, request, &release.id, representation, async || {
        let found = fetch(state, &release.id)
            .await?
            .ok_or_else(|| ApiError::NotFound {
                parameter: Some(what.1.to_owned()),
                detail: format!("no {} {:?} in release {}", what.0, echo(id), release.id),
            })?;
        render_json(
            &ItemResponse {
                data: found,
                meta: ItemMeta {
                    release: release.id.clone(),
                },
            },
            &release.id,
        )
    })
    .await
}
