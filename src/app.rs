//! The application: `build_app`, the one seam `main` and the tests share, assembled from
//! parts that do not know it (the state is in `state.rs`).

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::disclosure::Policy;
use crate::error::ApiError;
use crate::http::{X_DATA_RELEASE, X_TOTAL_COUNT};
use crate::rest;
pub use crate::state::AppState;

/// The largest request body accepted on every route but `/graphql`, which reads its own
/// bodies under its own, smaller limit (`graphql::MAX_BODY_BYTES`).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest a request may take before it is answered 408/503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Build the whole HTTP application: REST, OpenAPI and its docs, health checks, and the
/// layers every response passes through.
pub fn build_app(state: AppState) -> Router {
    let (rest_routes, openapi) = rest::routes();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_NONE_MATCH,
            header::RANGE,
            header::IF_RANGE,
        ])
        .expose_headers([
            header::ETAG,
            header::LINK,
            header::CONTENT_RANGE,
            header::ACCEPT_RANGES,
            header::CONTENT_DISPOSITION,
            HeaderName::from_static(X_DATA_RELEASE),
            HeaderName::from_static(X_TOTAL_COUNT),
        ])
        .max_age(Duration::from_secs(86_400));
    let routes = Router::new()
        .merge(crate::web::routes())
        .merge(rest_routes)
        // The validator off: Swagger UI would otherwise send the document's URL to
        // validator.swagger.io for its badge whenever the host is not localhost.
        .merge(
            Router::from(
                utoipa_swagger_ui::SwaggerUi::new("/docs")
                    .url("/openapi.json", openapi)
                    .config(utoipa_swagger_ui::Config::default().validator_url("none")),
            )
            .layer(axum::middleware::from_fn(fit_swagger_ui_to_phones)),
        )
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // GraphQL reads its body itself, under its own smaller limit, and answers a body
        // too large in GraphQL's shape; the limit above would answer first, in plain text.
        .merge(crate::graphql::routes(&state))
        .with_state(state);
    // The layers every response passes through, wrapped once around the whole router
    // (issue #12). `Router::layer` would wrap every route in its own copy of the stack,
    // and a route's stack is cloned for each request it answers: the CORS lists, the
    // compression settings and two `from_fn` layers' boxed services. Around the router,
    // the stack is cloned once per request and the router's own clone is an `Arc`.
    let stack = tower::ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        // Outermost: the Host check, and what the layers and handlers under it answer
        // (the timeout's 503, axum's 405/413 and rejections) rewritten as problem+json.
        // One `from_fn` layer for both: each one clones and boxes the whole stack under
        // it on every request.
        .layer(axum::middleware::from_fn(check_host_then_problem_errors))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::internal(anyhow::anyhow!(
                "a handler panicked"
            )))
        }))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(cors)
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // The compressed body type holds its encoders' state inline (kilobytes): boxed
        // once here, so the layers above move a pointer instead of copying it at each
        // layer (a fifth of `/healthz`'s time was `memmove`, issue #12).
        .map_response(boxed_body)
        // Downloads (`Accept-Ranges: bytes`) are stored precompressed, and a range is of the
        // stored bytes: they pass uncompressed. So do errors that are not JSON yet (axum's
        // plain-text rejections): the outer layer reads them to rewrite them as
        // problem+json.
        .layer(CompressionLayer::new().gzip(true).br(true).compress_when(
            DefaultPredicate::new().and(
                |status: StatusCode,
                 _: axum::http::Version,
                 headers: &HeaderMap,
                 _: &axum::http::Extensions| {
                    !headers.contains_key(header::ACCEPT_RANGES)
                        && (is_json(headers)
                            || !(status.is_client_error() || status.is_server_error()))
                },
            ),
        ))
        .service(routes);
    Router::new().fallback_service(stack)
}

/// A response with its body boxed ([`axum::body::Body`]).
fn boxed_body<B>(response: axum::http::Response<B>) -> Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    response.map(axum::body::Body::new)
}

/// Every error response is RFC 9457 problem+json. Handlers answer with [`ApiError`]
/// already; what axum and the tower layers answer themselves (405, 413, the timeout's
/// 503, a path or query string axum could not decode) is rewritten here, keeping its
/// status and headers (`Allow` on a 405). JSON error bodies pass untouched: problem+json,
/// and GraphQL's own errors on `/graphql`.
async fn problem_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(response.headers()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            // axum adds `Allow` after every layer of the router has run (it is on the
            // response the client gets, not here), so the detail points at it.
            format!(
                "{method} is not allowed on {}; the Allow header lists the methods it takes",
                crate::error::echo(&path)
            )
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("the request body is larger than {MAX_BODY_BYTES} bytes")
        }
        StatusCode::SERVICE_UNAVAILABLE => format!(
            "the request took longer than {} s; try again shortly, or ask for less",
            REQUEST_TIMEOUT.as_secs()
        ),
        // An axum rejection (a path or query string it could not decode) says why in
        // plain text.
        _ => {
            let text = if parts.headers.contains_key(header::CONTENT_ENCODING) {
                None
            } else {
                axum::body::to_bytes(body, 4096).await.ok()
            };
            match text.as_deref().map(String::from_utf8_lossy) {
                Some(text) if !text.trim().is_empty() => text.trim().to_owned(),
                _ => status.canonical_reason().unwrap_or("error").to_owned(),
            }
        }
    };
    let (problem_parts, problem_body) = ApiError::Http { status, detail }
        .into_response()
        .into_parts();
    parts.headers.remove(header::CONTENT_ENCODING);
    parts.headers.remove(header::CONTENT_LENGTH);
    for name in [header::CONTENT_TYPE, header::CACHE_CONTROL] {
        if let Some(value) = problem_parts.headers.get(&name) {
            parts.headers.insert(name, value.clone());
        }
    }
    Response::from_parts(parts, problem_body)
}

/// Swagger UI's page has no `<meta name="viewport">`, so phones lay it out 980 px wide and
/// zoom out (issue #13). Its HTML (a few hundred bytes, served uncompressed) gets one.
async fn fit_swagger_ui_to_phones(request: Request, next: Next) -> Response {
    const VIEWPORT: &str =
        r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#;
    let response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html || response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return ApiError::internal(anyhow::anyhow!("Swagger UI's page could not be read"))
            .into_response();
    };
    let html = String::from_utf8_lossy(&bytes);
    let html = match html.find("<head>") {
        Some(at) if !html.contains("name=\"viewport\"") => {
            let at = at + "<head>".len();
            format!("{}{VIEWPORT}{}", &html[..at], &html[at..])
        }
        _ => html.into_owned(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(html))
}

/// Whether a response's body is JSON (problem+json, or a GraphQL response).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json" || v.ends_with("+json"))
}

/// The outer pair of layers as one: refuse a request whose `Host` is not one valid
/// `host[:port]` (RFC 9112 asks for a 400: the catalogs build absolute URLs from it, so it
/// must carry no markup, user info, path or kilobytes of padding; a request without `Host`,
/// HTTP/1.0, is served), then [`problem_errors`] for what it lets through.
async fn check_host_then_problem_errors(request: Request, next: Next) -> Response {
    if has_valid_host(&request) {
        problem_errors(request, next).await
    } else {
        ApiError::invalid(
            "Host",
            format!(
                "the Host header must be one host name or address with an optional port, at \
                 most {} characters",
                crate::http::MAX_HOST_CHARS
            ),
        )
        .into_response()
    }
}

/// At most one `Host`, and that one valid.
fn has_valid_host(request: &Request) -> bool {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (None, _) => true,
        (Some(host), None) => host.to_str().is_ok_and(crate::http::is_valid_host),
        (Some(_), Some(_)) => false,
    }
}

/// Unknown paths get the same problem+json as everything else.
async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no resource at {}; see /openapi.json or /docs",
        crate::error::echo(uri.path())
    ))
}

/// `sanctuary-data serve`: migrate, import the seed directory when the database holds no
/// release, and serve until SIGTERM or Ctrl-C.
pub async fn serve(
    database_url: &str,
    policy: Policy,
    args: crate::config::ServeArgs,
) -> anyhow::Result<()> {
    let publication = publication(&args)?;
    let db = crate::db::connect(database_url).await?;
    tracing::info!(database = %crate::db::describe(database_url), "connected; migrations applied");
    crate::seed::first_start(&db, &args.seed_dir, policy).await?;
    // Releases imported by an older version have no stored download sizes yet.
    rest::measure_missing_sizes(&db)
        .await
        .map_err(|e| anyhow::anyhow!("measuring download sizes: {e:?}"))?;
    // ... nor stored diff counts against the release before them (read by the feeds).
    crate::diff::record_missing(&db)
        .await
        .map_err(|e| anyhow::anyhow!("counting release changes: {e:?}"))?;
    let downloads = crate::files::DownloadStore::in_dir(args.data_dir.join("downloads"));
    let app = build_app(AppState::with_downloads(db, downloads).with_publication(publication));
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.addr))?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    crate::server::serve_listener(listener, app, args.limits(), shutdown_signal()).await;
    tracing::info!("shut down");
    Ok(())
}

/// The catalogs' configuration: the options, with defaults from the seed directory's
/// `datapackage.json` (when it is there and is JSON: the importer reports a broken one).
fn publication(args: &crate::config::ServeArgs) -> anyhow::Result<crate::config::Publication> {
    let path = args.seed_dir.join(crate::seed::DESCRIPTOR);
    let descriptor = std::fs::read(&path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    let publication = crate::config::Publication::resolve(&args.publication, descriptor.as_ref())
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.seed_dir.display()))?;
    if publication.public_url.is_none() {
        tracing::info!("no --public-url: catalogs name each request's Host");
    }
    if publication.contact_email.is_none() {
        tracing::warn!(
            "no --contact-email: /data.json has no contactPoint.hasEmail, which DCAT-US requires"
        );
    }
    Ok(publication)
}

/// Resolves on Ctrl-C or SIGTERM, so in-flight requests finish before the process exits.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    /// The request timeout of `build_app` is 30 s; the same layers with 50 ms show what
    /// a client gets when it fires.
    #[tokio::test]
    async fn a_request_that_times_out_gets_a_problem() {
        let app = Router::new()
            .route(
                "/slow",
                axum::routing::get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .layer(axum::middleware::from_fn(problem_errors))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                Duration::from_millis(50),
            ))
            .layer(axum::middleware::from_fn(problem_errors));
        let response = app
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            crate::error::PROBLEM_JSON
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let problem: crate::error::Problem = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem.status, 503);
        assert_eq!(problem.problem_type, "urn:sanctuary-data:problem:timeout");
        assert!(problem.detail.contains("longer than"), "{}", problem.detail);
    }
}
