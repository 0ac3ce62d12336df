//! One error type for every interface: rendered as RFC 9457 `application/problem+json`
//! over HTTP and as a GraphQL error with the same `type` and `parameter` extensions.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// How much of a client's input an error message repeats back.
pub const ECHO_CHARS: usize = 100;
/// The longest `detail` an error carries, whatever it echoes (a backstop for [`echo`]).
const MAX_DETAIL_CHARS: usize = 1_000;

/// A piece of client input as an error message repeats it: at most [`ECHO_CHARS`]
/// characters, with an ellipsis when it was longer, so a 10 KB slug never makes a 10 KB
/// error.
pub fn echo(input: &str) -> String {
    shorten(input, ECHO_CHARS)
}

fn shorten(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Everything a request can go wrong with. Internal causes are logged, never returned.
///
/// Deliberately not `Display` (its words are [`ApiError::detail`]): async-graphql turns any
/// `Display` type into a bare GraphQL error, so a `Display` impl would let `?` in a resolver
/// drop the `type`, `status` and `parameter` extensions. Without it, the only conversion is
/// the one below (`From<ApiError> for async_graphql::Error`), and resolvers that return
/// `Result<T, ApiError>` cannot lose them.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// A query parameter, path segment or argument is unknown or malformed.
    InvalidParameter { parameter: String, detail: String },
    /// No such item (or release).
    NotFound {
        parameter: Option<String>,
        detail: String,
    },
    /// The `Accept` header asks for a representation we do not have.
    NotAcceptable { detail: String },
    /// The database did not answer in time.
    Unavailable,
    /// Every connection slot is taken (answered before the request is read).
    Overloaded,
    /// An error produced by the HTTP machinery rather than a handler: a method the path
    /// does not allow, a body too large, a request that took too long, a URL axum could
    /// not decode. Rendered like every other error (see `app::problem_errors`).
    Http { status: StatusCode, detail: String },
    /// A bug or an unexpected database error; details are in the server log.
    Internal(std::sync::Arc<anyhow::Error>),
}

impl ApiError {
    pub fn invalid(parameter: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError::InvalidParameter {
            parameter: parameter.into(),
            detail: detail.into(),
        }
    }

    /// A bug or an unexpected failure; `cause` goes to the server log only.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(std::sync::Arc::new(cause.into()))
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::NotFound {
            parameter: None,
            detail: detail.into(),
        }
    }

    /// What went wrong, in words, and how to fix it (the problem's `detail`).
    pub fn detail(&self) -> String {
        match self {
            ApiError::InvalidParameter { detail, .. }
            | ApiError::NotFound { detail, .. }
            | ApiError::NotAcceptable { detail }
            | ApiError::Http { detail, .. } => detail.clone(),
            ApiError::Unavailable => "the database is unavailable; try again shortly".into(),
            ApiError::Overloaded => {
                "the server is handling as many connections as it allows; try again shortly".into()
            }
            ApiError::Internal(_) => "internal error".into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::NotAcceptable { .. } => StatusCode::NOT_ACCEPTABLE,
            ApiError::Unavailable | ApiError::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Http { status, .. } => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem type, a stable URN clients can switch on.
    pub fn problem_type(&self) -> &'static str {
        match self {
            ApiError::InvalidParameter { .. } => "urn:sanctuary-data:problem:invalid-parameter",
            ApiError::NotFound { .. } => "urn:sanctuary-data:problem:not-found",
            ApiError::NotAcceptable { .. } => "urn:sanctuary-data:problem:not-acceptable",
            ApiError::Unavailable => "urn:sanctuary-data:problem:unavailable",
            ApiError::Overloaded => "urn:sanctuary-data:problem:overloaded",
            ApiError::Http { status, .. } => match *status {
                StatusCode::BAD_REQUEST => "urn:sanctuary-data:problem:bad-request",
                StatusCode::NOT_FOUND => "urn:sanctuary-data:problem:not-found",
                StatusCode::METHOD_NOT_ALLOWED => "urn:sanctuary-data:problem:method-not-allowed",
                StatusCode::PAYLOAD_TOO_LARGE => "urn:sanctuary-data:problem:payload-too-large",
                StatusCode::URI_TOO_LONG => "urn:sanctuary-data:problem:uri-too-long",
                StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                    "urn:sanctuary-data:problem:unsupported-media-type"
                }
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
                    "urn:sanctuary-data:problem:headers-too-large"
                }
                StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
                    "urn:sanctuary-data:problem:timeout"
                }
                status if status.is_server_error() => "urn:sanctuary-data:problem:internal",
                _ => "urn:sanctuary-data:problem:http",
            },
            ApiError::Internal(_) => "urn:sanctuary-data:problem:internal",
        }
    }

    pub fn parameter(&self) -> Option<&str> {
        match self {
            ApiError::InvalidParameter { parameter, .. } => Some(parameter),
            ApiError::NotFound { parameter, .. } => parameter.as_deref(),
            _ => None,
        }
    }

    /// The RFC 9457 body.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        Problem {
            problem_type: self.problem_type().into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: shorten(&self.detail(), MAX_DETAIL_CHARS),
            parameter: self.parameter().map(echo),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        match error {
            sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => ApiError::Unavailable,
            other if is_statement_timeout(&other) => {
                tracing::warn!(error = %other, "a database statement ran out of time");
                ApiError::Unavailable
            }
            other => ApiError::internal(other),
        }
    }
}

/// Whether PostgreSQL cancelled the statement at its deadline (`statement_timeout`,
/// SQLSTATE 57014; see [`crate::db::STATEMENT_TIMEOUT`]): a 503, not a 500.
fn is_statement_timeout(error: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match error {
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => e
            .as_database_error()
            .and_then(|e| e.code())
            .is_some_and(|code| code == "57014"),
        _ => false,
    }
}

/// An RFC 9457 problem details object.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema, PartialEq, Eq)]
#[schema(example = json!({
    "type": "urn:sanctuary-data:problem:invalid-parameter",
    "title": "Bad Request",
    "status": 400,
    "detail": "limit must be between 1 and 1000, got 5000",
    "parameter": "limit"
}))]
pub struct Problem {
    /// A URN naming the kind of problem.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary: the HTTP status phrase.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, in words, and how to fix it.
    pub detail: String,
    /// The query parameter, path segment or argument at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = ?cause, "internal error");
        }
        let status = self.status();
        let overloaded = matches!(self, ApiError::Overloaded);
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        if overloaded {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// GraphQL errors carry the same `type`, `status` and `parameter` as problem+json: `?` on
/// an `ApiError` in a resolver keeps them.
impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        error.to_graphql()
    }
}

/// From async-graphql's own errors (a missing context value, say): a bug, never the
/// client's fault.
impl From<async_graphql::Error> for ApiError {
    fn from(error: async_graphql::Error) -> Self {
        ApiError::internal(anyhow::anyhow!("{}", error.message))
    }
}

impl ApiError {
    /// The GraphQL error: the problem's `detail` as the message, and its `type`, `status`
    /// and `parameter` as extensions.
    pub fn to_graphql(&self) -> async_graphql::Error {
        if let ApiError::Internal(cause) = self {
            tracing::error!(error = ?cause, "internal error");
        }
        let problem = self.problem();
        use async_graphql::ErrorExtensions;
        async_graphql::Error::new(problem.detail.clone()).extend_with(|_, extensions| {
            extensions.set("type", problem.problem_type.clone());
            extensions.set("status", problem.status);
            if let Some(parameter) = &problem.parameter {
                extensions.set("parameter", parameter.clone());
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_keeps_short_input_and_shortens_long_input_on_a_char_boundary() {
        assert_eq!(echo("alpha"), "alpha");
        let long = "é".repeat(10_000);
        let shown = echo(&long);
        assert_eq!(shown.chars().count(), ECHO_CHARS + 1);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn a_problem_never_carries_more_than_a_bounded_detail_or_parameter() {
        let huge = "x".repeat(20_000);
        let problem = ApiError::invalid(huge.clone(), huge).problem();
        assert!(problem.detail.chars().count() <= MAX_DETAIL_CHARS + 1);
        assert!(problem.parameter.unwrap().chars().count() <= ECHO_CHARS + 1);
    }
}
