//! The web pages: what a journalist needs without reading any docs. Server-rendered HTML
//! with inline SVG bars: no build step, no JavaScript, nothing loaded from elsewhere.
//!
//! One file per page kind: `home.rs` (`/`, a short overview), `program.rs`
//! (`/programs/{slug}`: description, figures with charts and citations, timeline,
//! documents, downloads), `browse.rs` (`/browse/{table}`: the API's filters and paging as
//! an HTML table), `downloads.rs` (`/downloads.html`). `chart.rs` decides which figures
//! may share a chart; `text.rs` says figures, money, periods and vocabulary in words;
//! `layout.rs` is the frame every page shares (head, navigation, footer, styles).

mod browse;
pub mod chart;
mod downloads;
mod home;
mod layout;
mod program;
pub mod text;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::entity::release;
use crate::error::ApiError;
use crate::rest::{ApiQuery, rendered_html};
use crate::state::AppState;

pub use text::figure;

/// The pages' Content-Security-Policy: nothing but their own inline styles and images.
/// (The JSON-LD block is data, not script: no script runs.)
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The pages and the favicon.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/programs/{slug}", get(program::program))
        .route("/browse/{table}", get(browse::browse))
        .route("/downloads.html", get(downloads::downloads))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
}

/// The site's icon: three bars.
const FAVICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1a4f8b"/><path fill="#fff" d="M7 25h5V15H7zm6.5 0h5V7h-5zM20 25h5V11h-5z"/></svg>"##;

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

/// Serve a page of `release` from the representation cache, or render it once. The key
/// holds the base URL (the JSON-LD names absolute URLs), the path and the normalised query.
async fn respond_page<F>(
    state: &AppState,
    request: &ApiQuery,
    release: &release::Model,
    render: F,
) -> Result<Response, ApiError>
where
    F: AsyncFnOnce() -> Result<String, ApiError>,
{
    let key = format!(
        "{}|html|{}|{}|{}",
        release.id,
        crate::rest::base_url(state, request.headers()),
        request.path(),
        request.normalized(&[])
    );
    let rendered = state
        .responses
        .get_or_render(key, async || {
            Ok(rendered_html(render().await?.into_bytes(), &release.id))
        })
        .await?;
    let mut response = rendered.answer(request.headers(), request.pins_release());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static(crate::rest::base_url_vary(state)),
    );
    Ok(response)
}
