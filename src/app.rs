//! The application: shared state and `build_app`, the one seam `main` and the tests share.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use serde::Serialize;

use crate::disclosure::Policy;
use crate::query;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub policy: Policy,
}

impl AppState {
    pub fn new(db: DatabaseConnection, policy: Policy) -> Self {
        AppState { db, policy }
    }
}

/// Build the whole HTTP application.
pub fn build_app(state: AppState) -> Router {
    Router::new()
        .merge(crate::graphql::routes(&state))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    release: Option<String>,
}

/// Liveness: the process is up.
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        release: None,
    })
}

/// Readiness: the database answers, and which release is served by default.
async fn readyz(State(state): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match query::latest_release(&state.db).await {
        Ok(Some(release)) => Json(Health {
            status: "ready",
            release: Some(release.id),
        })
        .into_response(),
        Ok(None) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "no release imported",
                release: None,
            }),
        )
            .into_response(),
        Err(_) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "database unavailable",
                release: None,
            }),
        )
            .into_response(),
    }
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
    if query::latest_release(&db).await?.is_none() {
        tracing::info!(dir = %args.seed_dir.display(), "no release yet: importing the seed directory");
        let outcome = crate::seed::import_dir(&db, &args.seed_dir, policy)
            .await
            .map_err(|e| anyhow::anyhow!("importing {}: {e}", args.seed_dir.display()))?;
        tracing::info!("{outcome}");
    }
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
