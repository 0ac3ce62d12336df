//! The application: shared state and `build_app`, the one seam `main` and the tests share.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use sea_orm::DatabaseConnection;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::disclosure::Policy;
use crate::error::ApiError;
use crate::http::X_DATA_RELEASE;
use crate::rest::{self, ResponseCache};

/// The largest request body accepted (GraphQL queries are the only bodies).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest a request may take before it is answered 408/503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Memory for rendered responses.
pub const RESPONSE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub policy: Policy,
    /// Rendered representations of immutable releases.
    pub responses: Arc<ResponseCache>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, policy: Policy) -> Self {
        AppState {
            db,
            policy,
            responses: Arc::new(ResponseCache::new(RESPONSE_CACHE_BYTES)),
        }
    }
}

/// Build the whole HTTP application: REST, OpenAPI and its docs, health checks, and the
/// layers every response passes through.
pub fn build_app(state: AppState) -> Router {
    let (rest_routes, openapi) = rest::routes();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE, header::ACCEPT, header::IF_NONE_MATCH])
        .expose_headers([
            header::ETAG,
            header::LINK,
            HeaderName::from_static(X_DATA_RELEASE),
        ])
        .max_age(Duration::from_secs(86_400));
    Router::new()
        .route("/", axum::routing::get(crate::web::home))
        .merge(rest_routes)
        .merge(crate::graphql::routes(&state))
        .merge(utoipa_swagger_ui::SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .fallback(not_found)
        .with_state(state)
        .layer(CompressionLayer::new().gzip(true).br(true))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(cors)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::Internal(anyhow::anyhow!(
                "a handler panicked"
            )))
        }))
        .layer(TraceLayer::new_for_http())
}

/// Unknown paths get the same problem+json as everything else.
async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no resource at {}; see /openapi.json or /docs",
        uri.path()
    ))
}

/// `sanctuary-data serve`: migrate, import the seed directory when the database holds no
/// release, and serve until SIGTERM or Ctrl-C.
pub async fn serve(
    database_url: &str,
    policy: Policy,
    args: crate::config::ServeArgs,
) -> anyhow::Result<()> {
    let db = crate::db::connect(database_url).await?;
    tracing::info!(database = %crate::db::describe(database_url), "connected; migrations applied");
    crate::seed::first_start(&db, &args.seed_dir, policy).await?;
    let app = build_app(AppState::new(db, policy));
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.addr))?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("shut down");
    Ok(())
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
