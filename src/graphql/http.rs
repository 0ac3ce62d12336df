//! GraphQL over HTTP: `POST /graphql` with a JSON body, `GET /graphql?query=…` (cacheable:
//! strong ETag, `If-None-Match` → 304); for browsers, `GET /graphql` without a query is
//! GraphiQL (`graphiql.rs`). Answers to both come from the response cache REST uses
//! (see [`execute`]): a repeated request costs no database work and no execution.
//!
//! Responses are `application/graphql-response+json` when the `Accept` header prefers it,
//! else `application/json`. With the former, a rejected request (syntax, validation or a
//! limit: nothing was executed) is a 400; with the latter it is a 200, as the GraphQL over
//! HTTP specification asks. Errors in resolvers are always 200 with an `errors` entry.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use sha2::{Digest, Sha256};

use super::limits::{self, MAX_BODY_BYTES};
use super::scope::LatestRelease;
use super::{AppSchema, build_schema};
use crate::http::{CACHE_LATEST, Rendered, Validators};
use crate::state::AppState;

/// The GraphQL response media type of the GraphQL over HTTP specification.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";
/// The code of requests that are not GraphQL over HTTP requests at all.
const BAD_REQUEST: &str = "BAD_REQUEST";

/// Where GraphQL is served: the one route that reads request bodies (under its own limit).
pub const PATH: &str = "/graphql";

/// `/graphql` (GET and POST) and `/graphql/assets/{file}`, over a schema built once.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route(PATH, get(get_graphql).post(post_graphql))
        .route("/graphql/assets/{file}", get(super::graphiql::asset))
        .layer(Extension(build_schema(state)))
}

/// Which JSON media type the client prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    GraphqlResponse,
    Json,
}

impl Media {
    fn as_str(self) -> &'static str {
        match self {
            Media::GraphqlResponse => GRAPHQL_RESPONSE_JSON,
            Media::Json => JSON,
        }
    }
}

/// Each media range of the `Accept` header with its quality.
fn accept_ranges(headers: &HeaderMap) -> Vec<(String, f32)> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (!media.is_empty()).then_some((media, quality))
        })
        .collect()
}

/// `application/graphql-response+json` when asked for at least as strongly as
/// `application/json`; otherwise (no `Accept`, wildcards, anything else) `application/json`.
fn negotiate(headers: &HeaderMap) -> Media {
    let ranges = accept_ranges(headers);
    let quality = |name: &str| {
        ranges
            .iter()
            .filter(|(media, _)| media == name)
            .map(|(_, q)| *q)
            .fold(None, |best: Option<f32>, q| {
                Some(best.map_or(q, |b| b.max(q)))
            })
    };
    match (quality(GRAPHQL_RESPONSE_JSON), quality(JSON)) {
        (Some(gql), json) if gql > 0.0 && gql >= json.unwrap_or(0.0) => Media::GraphqlResponse,
        _ => Media::Json,
    }
}

/// Whether a browser is asking for a page.
fn wants_html(headers: &HeaderMap) -> bool {
    accept_ranges(headers)
        .iter()
        .any(|(media, q)| media == "text/html" && *q > 0.0)
}

/// The problem type of an error async-graphql reports before any resolver runs.
const BAD_REQUEST_TYPE: &str = "urn:sanctuary-data:problem:bad-request";

/// The most errors one response lists; the rest are counted in a last one.
pub const MAX_ERRORS: usize = 20;
/// The longest run of non-blank characters an error message repeats: names, values and
/// source lines of the request are cut there, so an error never echoes kilobytes.
const MAX_ECHO_CHARS: usize = 100;
/// The longest error message.
const MAX_MESSAGE_CHARS: usize = 1_000;

/// A message with every long word (an echoed name, value or line of the request) cut to
/// [`MAX_ECHO_CHARS`], and the whole to [`MAX_MESSAGE_CHARS`].
fn shorten_echoes(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE_CHARS + 8));
    let mut word = 0usize;
    let mut chars = 0usize;
    for c in message.chars() {
        if chars >= MAX_MESSAGE_CHARS {
            out.push('…');
            break;
        }
        if c.is_whitespace() {
            word = 0;
        } else {
            word += 1;
            if word == MAX_ECHO_CHARS + 1 {
                out.push('…');
                chars += 1;
            }
            if word > MAX_ECHO_CHARS {
                continue;
            }
        }
        out.push(c);
        chars += 1;
    }
    out
}

/// Bound the `errors` of a response: at most [`MAX_ERRORS`], each message shortened, and
/// give every error the problem `type` and `status` that REST would.
///
/// Resolvers fail with `ApiError`, which carries both (see `crate::error`). What remains
/// without them comes from async-graphql itself before any resolver runs (a document that
/// does not parse or validate, an argument that is not of its type, a request limit): the
/// request's fault, a 400 `bad-request`.
fn bound_errors(value: &mut serde_json::Value) {
    let Some(errors) = value.get_mut("errors").and_then(|e| e.as_array_mut()) else {
        return;
    };
    let more = errors.len().saturating_sub(MAX_ERRORS);
    errors.truncate(MAX_ERRORS);
    for error in errors.iter_mut() {
        if let Some(error) = error.as_object_mut() {
            let extensions = error
                .entry("extensions")
                .or_insert_with(|| serde_json::json!({}));
            if let Some(extensions) = extensions.as_object_mut()
                && !extensions.contains_key("type")
            {
                extensions.insert("type".into(), BAD_REQUEST_TYPE.into());
                extensions.insert("status".into(), 400.into());
            }
        }
        if let Some(message) = error.get_mut("message")
            && let Some(text) = message.as_str()
        {
            *message = serde_json::Value::String(shorten_echoes(text));
        }
    }
    if more > 0 {
        let code = errors
            .last()
            .and_then(|e| e.pointer("/extensions/code"))
            .cloned()
            .unwrap_or(serde_json::Value::String(BAD_REQUEST.into()));
        errors.push(serde_json::json!({
            "message": format!("{more} more errors are not listed"),
            "extensions": { "code": code, "type": BAD_REQUEST_TYPE, "status": 400 }
        }));
    }
}

/// A response with GraphQL `errors` for a request that could not even be read.
fn http_error(status: StatusCode, message: impl Into<String>, media: Media) -> Response {
    let body = serde_json::json!({
        "errors": [{
            "message": shorten_echoes(&message.into()),
            "extensions": {
                "code": BAD_REQUEST,
                "type": crate::error::ApiError::Http { status, detail: String::new() }.problem_type(),
                "status": status.as_u16(),
            }
        }]
    });
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /graphql`: GraphiQL for a browser (no `query` parameter, `Accept: text/html`), or
/// a query from the URL.
async fn get_graphql(
    State(state): State<AppState>,
    Extension(schema): Extension<AppSchema>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let media = negotiate(&headers);
    let query_string = uri.query().unwrap_or_default();
    let mut response = if query_string.len() > MAX_BODY_BYTES {
        http_error(
            StatusCode::URI_TOO_LONG,
            format!(
                "the query string is longer than {MAX_BODY_BYTES} bytes; send the query with POST"
            ),
            media,
        )
    } else if !has_query_parameter(query_string) {
        if wants_html(&headers) {
            super::graphiql::page(&headers)
        } else {
            http_error(
                StatusCode::BAD_REQUEST,
                "GET /graphql needs a `query` parameter (the URL-encoded GraphQL query), \
                 or send the query with POST as JSON",
                media,
            )
        }
    } else {
        match parse_get(query_string) {
            Ok(request) => execute(&schema, &state, request, &headers, media, true).await,
            Err(message) => http_error(StatusCode::BAD_REQUEST, message, media),
        }
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    response
}

/// The GraphQL request in a URL: `query`, `operationName`, `variables` (JSON) and
/// `extensions` (JSON); other parameters are ignored, repeated ones are errors.
fn parse_get(query_string: &str) -> Result<async_graphql::Request, String> {
    let mut request = serde_json::Map::new();
    for (name, value) in url::form_urlencoded::parse(query_string.as_bytes()) {
        let value = match &*name {
            "query" | "operationName" => serde_json::Value::String(value.into_owned()),
            "variables" | "extensions" => {
                serde_json::from_str(&value).map_err(|e| format!("`{name}` is not JSON: {e}"))?
            }
            _ => continue,
        };
        if request.insert(name.clone().into_owned(), value).is_some() {
            return Err(format!("`{name}` is given more than once"));
        }
    }
    serde_json::from_value(serde_json::Value::Object(request))
        .map_err(|e| format!("the URL is not a GraphQL request: {e}"))
}

fn has_query_parameter(query_string: &str) -> bool {
    url::form_urlencoded::parse(query_string.as_bytes()).any(|(name, _)| name == "query")
}

/// How long a POST body may take to arrive, once its headers have.
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether reading a body failed because it was longer than the limit.
fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// `POST /graphql` with `Content-Type: application/json`; one operation per request
/// (batches are refused).
async fn post_graphql(
    State(state): State<AppState>,
    Extension(schema): Extension<AppSchema>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let media = negotiate(&headers);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if content_type.as_deref() != Some(JSON) {
        return http_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "POST /graphql takes a JSON body with `Content-Type: application/json`",
            media,
        );
    }
    let too_large = || {
        http_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
            media,
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return too_large();
    }
    // The request head had to arrive within the header-read timeout; the body gets its own
    // deadline, so a client trickling a body cannot hold a connection for the whole
    // request timeout.
    let bytes = match tokio::time::timeout(
        BODY_READ_TIMEOUT,
        axum::body::to_bytes(body, MAX_BODY_BYTES),
    )
    .await
    {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(error)) if is_length_limit(&error) => return too_large(),
        Ok(Err(_)) => {
            return http_error(
                StatusCode::BAD_REQUEST,
                "the request body could not be read (malformed chunked encoding, or the \
                 connection closed early)",
                media,
            );
        }
        Err(_) => {
            return http_error(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    BODY_READ_TIMEOUT.as_secs()
                ),
                media,
            );
        }
    };
    if bytes.trim_ascii_start().starts_with(b"[") {
        return http_error(
            StatusCode::BAD_REQUEST,
            "batched requests are not supported: send one operation per request",
            media,
        );
    }
    match serde_json::from_slice::<async_graphql::Request>(&bytes) {
        Ok(request) => execute(&schema, &state, request, &headers, media, false).await,
        Err(error) => http_error(
            StatusCode::BAD_REQUEST,
            format!(
                "the body is not a GraphQL request (a JSON object with `query` and optional \
                 `operationName` and `variables`): {error}"
            ),
            media,
        ),
    }
}

/// Execute a request that was read correctly (a missing `query` is not one), or answer
/// it from the response cache.
///
/// An answer is a pure function of the latest release when the request arrives (which
/// every root field without a `release` reads: [`LatestRelease`]), the request (document,
/// operation name, variables, extensions) and the media type; so it is cached under
/// those, in the same [`crate::http::ResponseCache`] as REST, for GET and POST alike. The
/// document is taken as sent: the `locations` of its errors depend on its layout. An
/// answer with an error of the service (status 5xx: the database unavailable or slow) is
/// not kept.
async fn execute(
    schema: &AppSchema,
    state: &AppState,
    request: async_graphql::Request,
    headers: &HeaderMap,
    media: Media,
    get: bool,
) -> Response {
    if request.query.trim().is_empty() {
        return http_error(
            StatusCode::BAD_REQUEST,
            "the request has no `query` (the GraphQL document to execute)",
            media,
        );
    }
    // Citations carry absolute URLs: the base URL is part of the request's data, and of
    // its cache key.
    let base = crate::rest::base_url(state, headers);
    let request = request.data(super::BaseUrl(base.clone()));
    let Some(latest) = state.releases.known_latest() else {
        // The latest release is not known yet (the first request, or the first after an
        // import in this process; or there is none): the resolvers read it; nothing to
        // key the answer by.
        let (rendered, _) = render(schema.execute(request).await, media);
        return answer(&rendered, headers, get);
    };
    let key = cache_key(&format!("{}|{base}", latest.id), media, &request);
    if let Some(hit) = state.responses.get(&key) {
        return answer(&hit, headers, get);
    }
    let response = schema.execute(request.data(LatestRelease(latest))).await;
    let (rendered, pure) = render(response, media);
    let rendered = Arc::new(rendered);
    if pure {
        state.responses.insert(key, rendered.clone());
    }
    answer(&rendered, headers, get)
}

/// The cache key of a GraphQL answer: the latest release, the media type and a digest of
/// the request.
fn cache_key(latest: &str, media: Media, request: &async_graphql::Request) -> String {
    let mut hasher = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    part(request.query.as_bytes());
    part(
        request
            .operation_name
            .as_deref()
            .unwrap_or_default()
            .as_bytes(),
    );
    part(&serde_json::to_vec(&request.variables).unwrap_or_default());
    let extensions: std::collections::BTreeMap<_, _> = request.extensions.iter().collect();
    part(&serde_json::to_vec(&extensions).unwrap_or_default());
    format!(
        "{latest}|graphql|{}|{}",
        media.as_str(),
        hex::encode(hasher.finalize())
    )
}

/// The HTTP representation of a GraphQL response, and whether it may be kept (no error
/// of the service's own, status 5xx). Answers without errors get a cache lifetime (used
/// by GET): immutable when every root field named its release.
fn render(response: async_graphql::Response, media: Media) -> (Rendered, bool) {
    let request_error = limits::is_request_error(&response);
    let status = if request_error && media == Media::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut value = serde_json::to_value(&response).unwrap_or_default();
    if request_error && let Some(object) = value.as_object_mut() {
        // Nothing was executed: a request error has no `data` entry at all.
        object.remove("data");
    }
    bound_errors(&mut value);
    let pure = value
        .get("errors")
        .and_then(|e| e.as_array())
        .is_none_or(|errors| {
            errors.iter().all(|error| {
                error
                    .pointer("/extensions/status")
                    .and_then(|s| s.as_u64())
                    .is_some_and(|s| s < 500)
            })
        });
    let body = serde_json::to_vec(&value).unwrap_or_default();
    let mut rendered = Rendered::new(body, media.as_str(), "");
    rendered.status = status;
    rendered.lifetime = response.is_ok().then(|| {
        response
            .http_headers
            .get(header::CACHE_CONTROL)
            .cloned()
            .unwrap_or(HeaderValue::from_static(CACHE_LATEST))
    });
    (rendered, pure)
}

/// The answer to a GET (strong ETag, `If-None-Match` → 304, the cache lifetime) or a
/// POST (`no-store`: a POST is never answered 304) with `rendered`.
fn answer(rendered: &Rendered, request: &HeaderMap, get: bool) -> Response {
    let body = || (rendered.status, rendered.body().clone()).into_response();
    let mut http = match (&rendered.lifetime, get) {
        (Some(lifetime), true) => Validators {
            etag: rendered.etag(),
            cache_control: lifetime.clone(),
            vary: None,
            release: None,
            link: None,
        }
        .answer(request, body),
        _ => {
            let mut http = body();
            http.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            http
        }
    };
    http.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(rendered.content_type()),
    );
    http
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn response_with(error: ApiError) -> async_graphql::Response {
        let error = error
            .to_graphql()
            .into_server_error(async_graphql::Pos::default());
        async_graphql::Response::from_errors(vec![error])
    }

    #[test]
    fn an_answer_with_an_error_of_the_service_is_not_kept() {
        let (_, pure) = render(response_with(ApiError::Unavailable), Media::Json);
        assert!(!pure, "a 503 must not be cached");
        let internal = ApiError::internal(anyhow::anyhow!("boom"));
        assert!(!render(response_with(internal), Media::Json).1);
        let (rendered, pure) = render(response_with(ApiError::not_found("no such")), Media::Json);
        assert!(pure, "a 404 is a pure answer");
        assert_eq!(rendered.status, StatusCode::OK);
        assert!(
            render(
                async_graphql::Response::new(async_graphql::Value::Null),
                Media::Json
            )
            .1
        );
    }
}
