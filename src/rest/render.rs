//! Response bodies and rendering: the JSON envelopes, JSON/CSV rendering of pages and
//! items, and [`respond`], which serves them through the representation cache
//! (`src/http.rs`).

use super::*;
use crate::fields::Fields;

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
    /// Its 12-digit short id (any unique prefix of 8 or more digits names it too).
    pub release_short_id: String,
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
    /// Its 12-digit short id (any unique prefix of 8 or more digits names it too).
    pub release_short_id: String,
}

impl ItemMeta {
    pub fn new(release: &str) -> Self {
        ItemMeta {
            release: release.to_owned(),
            release_short_id: query::short_id(release),
        }
    }
}

impl ListMeta {
    pub fn new(release: &str, total: u64, limit: u64) -> Self {
        ListMeta {
            release: release.to_owned(),
            release_short_id: query::short_id(release),
            total,
            limit,
        }
    }
}

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
        request.pins_release() || path_pins_release(&request.path),
    ))
}

/// Whether a path under `/api/v1/releases/` names its releases for good: every release
/// segment is a full id (not a short prefix, which a new release could make ambiguous,
/// nor `latest`).
fn path_pins_release(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1/releases/") else {
        return false;
    };
    let mut releases = rest
        .split('/')
        .filter(|segment| !matches!(*segment, "diff" | "cite"))
        .peekable();
    releases.peek().is_some() && releases.all(query::is_release_id)
}

pub(super) fn rendered(body: Vec<u8>, content_type: &'static str, release: &str) -> Rendered {
    Rendered::new(body, content_type, release)
}

/// An HTML page as a cacheable representation.
pub(crate) fn rendered_html(body: Vec<u8>, release: &str) -> Rendered {
    rendered(body, "text/html; charset=utf-8", release)
}

pub(super) fn render_json<T: Serialize>(value: &T, release: &str) -> Result<Rendered, ApiError> {
    let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
    Ok(rendered(body, "application/json", release))
}

/// The link to the page after `cursor`: the same path and parameters, pinned to the
/// release (the API's `links.next`, and the HTML table view's "next page").
pub(crate) fn next_link(request: &ApiQuery, release: &str, cursor: &query::Cursor) -> String {
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
}

/// Render a page as JSON or CSV, with its `next` link; only the chosen `fields` when
/// some are chosen.
pub(super) fn render_page<T: Serialize + CsvRecord>(
    request: &ApiQuery,
    file_stem: &str,
    release: &str,
    page: Page<T>,
    limit: u64,
    representation: Representation,
    fields: Option<&Fields>,
) -> Result<Rendered, ApiError> {
    let next = page
        .next
        .as_ref()
        .map(|cursor| next_link(request, release, cursor));
    let total = page.total;
    let mut out = match representation {
        Representation::Json => {
            let meta = ListMeta::new(release, page.total, limit);
            let links = Links { next: next.clone() };
            match fields {
                None => render_json(
                    &ListResponse {
                        data: page.items,
                        meta,
                        links,
                    },
                    release,
                )?,
                Some(fields) => render_json(
                    &ListResponse {
                        data: fields.json_rows(&page.items),
                        meta,
                        links,
                    },
                    release,
                )?,
            }
        }
        Representation::Csv { bom } => {
            let body = match fields {
                None => crate::csv::render(&page.items, bom),
                Some(fields) => fields.render_csv(&page.items, bom),
            };
            let mut out = rendered(body, CSV_CONTENT_TYPE, release);
            out.disposition = Some(format!("attachment; filename=\"{file_stem}.csv\""));
            out
        }
    };
    out.link = next.map(|n| format!("<{n}>; rel=\"next\""));
    out.total = Some(total);
    Ok(out)
}

/// The order `sort` asks for on `table` (the canonical order without it).
pub(crate) fn sort_of(request: &ApiQuery, table: &str) -> Result<query::Sort, ApiError> {
    match request.text("sort") {
        Some(text) => query::Sort::parse(table, &text, "sort"),
        None => Ok(query::Sort::CANONICAL),
    }
}

/// The fields `fields` chooses among `T`'s columns (all of them without it).
pub(crate) fn fields_of<T: CsvRecord>(request: &ApiQuery) -> Result<Option<Fields>, ApiError> {
    request
        .text(crate::fields::PARAMETER)
        .map(|text| Fields::parse::<T>(&text))
        .transpose()
}

/// The shared body of every collection handler.
pub(super) async fn list<T, F>(
    state: &AppState,
    request: &ApiQuery,
    table: &str,
    fetch: F,
) -> Result<Response, ApiError>
where
    T: Serialize + CsvRecord,
    F: AsyncFnOnce(&AppState, &str, PageRequest) -> Result<Page<T>, ApiError>,
{
    let paging = ListParams::read(request)?;
    let representation = paging.representation(request)?;
    let sort = sort_of(request, table)?;
    let fields = fields_of::<T>(request)?;
    let (release, page_request) = paging.resolve_page(&state.releases, sort).await?;
    let release_id = release.id.clone();
    let file_stem = crate::model::release_file_stem(table, &release);
    respond(state, request, &release.id, representation, async || {
        let page = fetch(state, &release_id, page_request).await?;
        render_page(
            request,
            &file_stem,
            &release_id,
            page,
            page_request.limit,
            representation,
            fields.as_ref(),
        )
    })
    .await
}

/// The shared body of every item handler.
/// `what` is (the resource's name, the path parameter's name) for the 404 message.
pub(super) async fn item<T, F>(
    state: &AppState,
    request: &ApiQuery,
    what: (&str, &str),
    id: &str,
    fetch: F,
) -> Result<Response, ApiError>
where
    T: Serialize + CsvRecord,
    F: AsyncFnOnce(&AppState, &str) -> Result<Option<T>, ApiError>,
{
    query::check_text(what.1, id)?;
    let mut allowed = param_names::<ItemParams>();
    allowed.push(crate::fields::PARAMETER.to_owned());
    request.check_names(&allowed)?;
    let params = ItemParams::read(request)?;
    let fields = fields_of::<T>(request)?;
    let representation = request.representation(None, None, false)?;
    let release = query::resolve_release(&state.releases, params.release.as_deref()).await?;
    respond(state, request, &release.id, representation, async || {
        let found = fetch(state, &release.id)
            .await?
            .ok_or_else(|| ApiError::NotFound {
                parameter: Some(what.1.to_owned()),
                detail: format!("no {} {:?} in release {}", what.0, echo(id), release.id),
            })?;
        let meta = ItemMeta::new(&release.id);
        match &fields {
            None => render_json(&ItemResponse { data: found, meta }, &release.id),
            Some(fields) => render_json(
                &ItemResponse {
                    data: fields.json_row(&found),
                    meta,
                },
                &release.id,
            ),
        }
    })
    .await
}
