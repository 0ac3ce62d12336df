//! `/healthz` and `/readyz`: for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::query;

/// The state of the service.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` (process up), `ready`, `no release imported` or `database unavailable`.
    pub status: String,
    /// The release served by default, when ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
}

/// Liveness
///
/// The process is up (no database call).
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "Up.", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        release: None,
    })
}

/// Readiness
///
/// The database answers and a release is loaded; names the release served by default.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "Ready.", body = Health),
        (status = 503, description = "The database is unavailable or holds no release.", body = Health),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let (status, text, release) = match query::latest_release(&state.db).await {
        Ok(Some(release)) => (StatusCode::OK, "ready", Some(release.id)),
        Ok(None) => (StatusCode::SERVICE_UNAVAILABLE, "no release imported", None),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable",
            None,
        ),
    };
    let mut response = (
        status,
        Json(Health {
            status: text.into(),
            release,
        }),
    )
        .into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}
