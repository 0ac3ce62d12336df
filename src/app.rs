//! The application: `build_app`, the one seam `main` and the tests share, assembled from
//! parts that do not know it (the state is in `state.rs`).

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::disclosure::Policy;
use crate::error::ApiError;
use crate::rest;
pub use crate::state::AppState;

/// The largest request body accepted on every route but `/graphql`, which reads its own
/// bodies under its own, smaller limit (`graphql::MAX_BODY_BYTES`). No other route reads a
/// body: the edge refuses one declared larger (`edge.rs`).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest a request may take before it is answered 408/503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Build the whole HTTP application: REST, OpenAPI and its docs, health checks, and the
/// layers every response passes through.
pub fn build_app(state: AppState) -> Router {
    Router::new().fallback_service(build_service(state))
}

/// [`build_app`] without the router around it: what `serve` runs. The server hands it
/// each request directly, which saves a routing, a clone of the whole stack and a boxed
/// future per request (issue #12); the tests use `build_app`, which is the same service.
pub fn build_service(state: AppState) -> impl crate::server::App {
    let (rest_routes, openapi) = rest::routes();
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
        .merge(crate::graphql::routes(&state))
        .with_state(state);
    // The layers every response passes through, wrapped once around the whole router
    // (issue #12). `Router::layer` would wrap every route in its own copy of the stack,
    // and a route's stack is cloned for each request it answers: the CORS lists, the
    // compression settings and two `from_fn` layers' boxed services. Around the router,
    // the stack is cloned once per request and the router's own clone is an `Arc`.
    tower::ServiceBuilder::new()
        // Outermost: the Host check, CORS, the body limit, the request timeout, panics,
        // problem+json for what the layers and handlers under it answer (axum's 405 and
        // rejections), `nosniff`, the request's span and log line: one hand-written
        // service (`edge.rs`), which allocates nothing per request.
        .layer(crate::edge::EdgeLayer::default())
        // gzip and brotli for the requests that ask (`edge::Compressed`).
        .layer_fn(crate::edge::Compressed::new)
        .service(routes)
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
    // ... nor stored facet counts (read by unfiltered facets and one-field totals).
    crate::seed::record_missing_facets(&db)
        .await
        .map_err(|e| anyhow::anyhow!("counting facets: {e}"))?;
    let downloads = crate::files::DownloadStore::in_dir(args.data_dir.join("downloads"));
    let app = build_service(AppState::with_downloads(db, downloads).with_publication(publication));
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
