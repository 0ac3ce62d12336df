//! `/healthz` and `/readyz`: for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, PROBLEM_JSON, Problem};
use crate::query;
use crate::state::AppState;

/// The state of the service.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` (process up), `ready` or `no release imported` (an unavailable database is a
    /// problem+json instead).
    pub status: String,
    /// The release served by default, when ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
}

/// Liveness
///
/// The process is up (no database call).
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "Up.", body = Health)))]
pub async fn healthz() -> Response {
    // A constant: `Health { status: "ok" }`, written once (a test checks it).
    let mut response = Response::new(axum::body::Body::from(LIVE));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        const { axum::http::HeaderValue::from_static("application/json") },
    );
    response
}

/// The body of `/healthz`.
const LIVE: &str = r#"{"status":"ok"}"#;

/// Readiness
///
/// The database answers and a release is loaded; names the release served by default.
/// When the database does not answer, a problem+json names the cause (for instance an
/// SQLite file deleted while serving).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "Ready.", body = Health),
        (status = 503, description = "The database holds no release (`Health`) or is unavailable (problem+json naming the cause).",
            content((Health = "application/json"), (Problem = "application/problem+json"))),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let (status, text, release) = match query::latest_release(&state.db).await {
        // Readiness asks the database itself; what it finds is news to the instance too.
        Ok(Some(release)) => (
            StatusCode::OK,
            "ready",
            Some(state.releases.saw(release).id.clone()),
        ),
        Ok(None) => (StatusCode::SERVICE_UNAVAILABLE, "no release imported", None),
        Err(error) => return database_unavailable(&state, &error),
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

/// The 503 problem+json of an unavailable database, naming the cause when it is known.
fn database_unavailable(state: &AppState, error: &sea_orm::DbErr) -> Response {
    tracing::warn!(%error, "readiness: the database did not answer");
    let mut problem = ApiError::Unavailable.problem();
    problem.detail = match crate::db::unavailable_cause(&state.db) {
        Some(cause) => format!("the database is unavailable: {cause}"),
        None => {
            "the database is unavailable: it did not answer (details in the server log)".to_owned()
        }
    };
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        serde_json::to_vec(&problem).unwrap_or_default(),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(PROBLEM_JSON),
    );
    headers.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_liveness_body_is_a_health_saying_ok() {
        let health: Health = serde_json::from_str(LIVE).unwrap();
        assert_eq!(health.status, "ok");
        assert_eq!(health.release, None);
        assert_eq!(
            serde_json::to_string(&Health {
                status: "ok".into(),
                release: None
            })
            .unwrap(),
            LIVE
        );
    }
}
