//! The edge: the one layer every request meets first and every response leaves through
//! last (under tracing). It does four things that used to be four layers:
//!
//! - refuses a request whose `Host` is not one valid `host[:port]` (RFC 9112 asks for a 400:
//!   the catalogs build absolute URLs from it, so it must carry no markup, user info, path
//!   or kilobytes of padding; a request without `Host`, HTTP/1.0, is served);
//! - answers a handler that panics with a problem+json 500 (the connection and the process
//!   carry on);
//! - rewrites what the layers and handlers under it answer themselves (the timeout's 503,
//!   axum's 405/413 and rejections) as RFC 9457 problem+json, keeping status and headers;
//! - marks every response `X-Content-Type-Options: nosniff`;
//! - CORS for every origin (the data is public and nothing is credentialed):
//!   `Access-Control-Allow-Origin: *` on every response, `Access-Control-Expose-Headers` on
//!   every response that carries one of the headers it names (tower-http's `CorsLayer`
//!   sends it on every response; naming none of a response's headers, it does nothing),
//!   and an `OPTIONS` request answered as a preflight (the methods, headers and a day's
//!   `Access-Control-Max-Age`) without reaching the router, as `CorsLayer` with the same
//!   settings answers one (constant headers here, no per-request header map);
//! - a `request` span (debug level) around each request, and a debug event with its
//!   status and time when debug logging is on (`RUST_LOG=sanctuary_data=debug`); a 5xx is
//!   logged at error level, as tower-http's `TraceLayer` did;
//! - the request timeout: a request not answered within [`REQUEST_TIMEOUT`] gets a
//!   problem+json 503 and its work is dropped. The timer is armed only when the answer is
//!   not ready at once, so a request answered from memory never touches the timer wheel
//!   (tower-http's `Timeout` made one per request);
//! - the body limit: a request declaring a body over [`MAX_BODY_BYTES`] is refused 413
//!   before any handler runs, except on `/graphql`, which reads its bodies itself under a
//!   smaller limit and answers in GraphQL's shape. No other route reads a body (tower-http's
//!   `RequestBodyLimit` wrapped every route, and boxed every request body again, for it).
//!
//! [`Compressed`] is the other layer of our own: tower-http's compression, for the requests
//! that ask for it.
//!
//! Written as one tower service rather than `axum::middleware::from_fn` and tower-http's
//! `CatchPanic`, `SetResponseHeader`, `Cors`, `Trace`, `Timeout` and `RequestBodyLimit`
//! (issue #12): `from_fn` clones and
//! boxes the whole stack under it and boxes its future on every request, `CatchPanic` and
//! `Trace` box every body again, `Cors` builds a header map per request; here a request
//! that needs no rewriting allocates nothing.

use std::convert::Infallible;
use std::future::Future;
use std::ops::Not;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use futures::future::{BoxFuture, CatchUnwind};
use pin_project_lite::pin_project;
use tower_http::compression::Compression;
use tower_http::compression::predicate::Predicate;
use tracing::Instrument;
use tracing::instrument::Instrumented;

use crate::app::{MAX_BODY_BYTES, REQUEST_TIMEOUT};
use crate::error::ApiError;

/// The layer of [`Edge`].
#[derive(Clone, Copy, Debug)]
pub struct EdgeLayer {
    timeout: Duration,
}

impl Default for EdgeLayer {
    /// With the request timeout of `build_app`, [`REQUEST_TIMEOUT`].
    fn default() -> Self {
        EdgeLayer {
            timeout: REQUEST_TIMEOUT,
        }
    }
}

impl EdgeLayer {
    /// With another request timeout (the tests' short one).
    pub fn with_timeout(timeout: Duration) -> Self {
        EdgeLayer { timeout }
    }
}

impl<S> tower::Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            inner,
            timeout: self.timeout,
        }
    }
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct Edge<S> {
    inner: S,
    timeout: Duration,
}

impl<S> tower::Service<Request> for Edge<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = EdgeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if !has_valid_host(&request) {
            return EdgeFuture::Done {
                response: Some(finish(invalid_host())),
            };
        }
        if request.method() == Method::OPTIONS {
            return EdgeFuture::Done {
                response: Some(finish(preflight())),
            };
        }
        if declares_too_large_a_body(&request) {
            return EdgeFuture::Done {
                response: Some(finish(
                    ApiError::Http {
                        status: StatusCode::PAYLOAD_TOO_LARGE,
                        detail: too_large_detail(),
                    }
                    .into_response(),
                )),
            };
        }
        // Kept for the words of a 405 and the log (a URI is reference-counted; a standard
        // method is a constant).
        let method = request.method().clone();
        let uri = request.uri().clone();
        let span = tracing::debug_span!("request", %method, %uri);
        let started = span.is_disabled().not().then(Instant::now);
        let called = span
            .in_scope(|| std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request))));
        match called {
            Ok(inner) => EdgeFuture::Inner {
                inner: AssertUnwindSafe(inner).catch_unwind().instrument(span),
                method,
                uri,
                started,
                timeout: self.timeout,
                deadline: None,
            },
            Err(_) => EdgeFuture::Done {
                response: Some(finish(logged(&method, &uri, started, panicked()))),
            },
        }
    }
}

pin_project! {
    /// The future of [`Edge`]: the inner service's answer, then, for an error that is not
    /// JSON yet, its rewriting (the only path that allocates).
    #[project = EdgeProjection]
    pub enum EdgeFuture<F> {
        Inner {
            #[pin]
            inner: Instrumented<CatchUnwind<AssertUnwindSafe<F>>>,
            method: Method,
            uri: Uri,
            started: Option<Instant>,
            timeout: Duration,
            // Armed when the answer is not ready at the first poll.
            deadline: Option<Pin<Box<tokio::time::Sleep>>>,
        },
        Rewriting {
            rewriting: BoxFuture<'static, Response>,
        },
        Done {
            response: Option<Response>,
        },
    }
}

impl<F> Future for EdgeFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let rewriting = match self.as_mut().project() {
                EdgeProjection::Inner {
                    mut inner,
                    method,
                    uri,
                    started,
                    timeout,
                    deadline,
                } => {
                    let response = match inner.as_mut().poll(cx) {
                        Poll::Ready(Ok(Ok(response))) => response,
                        Poll::Ready(Ok(Err(never))) => match never {},
                        Poll::Ready(Err(_)) => panicked(),
                        Poll::Pending => {
                            let timeout = *timeout;
                            let deadline = deadline
                                .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                            ready!(deadline.as_mut().poll(cx));
                            // The work under it is dropped with this future's `Inner` state.
                            timed_out(timeout)
                        }
                    };
                    let response = inner
                        .span()
                        .in_scope(|| logged(method, uri, *started, response));
                    if !needs_rewriting(&response) {
                        return Poll::Ready(Ok(finish(response)));
                    }
                    problem(std::mem::take(method), std::mem::take(uri), response).boxed()
                }
                EdgeProjection::Rewriting { rewriting } => {
                    return Poll::Ready(Ok(finish(ready!(rewriting.as_mut().poll(cx)))));
                }
                EdgeProjection::Done { response } => {
                    return Poll::Ready(Ok(response
                        .take()
                        .expect("an EdgeFuture polled after it completed")));
                }
            };
            self.set(EdgeFuture::Rewriting { rewriting });
        }
    }
}

/// What every response gets on its way out: `nosniff` and CORS; the list of headers a page
/// may read when there is one to read (a list naming none of the response's headers does
/// nothing: it was 112 of `/healthz`'s 307 bytes).
fn finish(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let exposes = headers.keys().any(|name| EXPOSED.contains(name));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        const { HeaderValue::from_static("nosniff") },
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        const { HeaderValue::from_static("*") },
    );
    if exposes {
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            const { HeaderValue::from_static(CORS_EXPOSE_HEADERS) },
        );
    }
    // No `Vary: Origin`: these headers are the same whatever the request's `Origin` (or
    // preflight headers) say, so a cache may serve one copy to every origin, as the Fetch
    // standard allows for `*`. tower-http's `CorsLayer` adds it anyway; an origin-specific
    // answer would need it back.
    response
}

/// The response headers a page on another origin may read.
pub const CORS_EXPOSE_HEADERS: &str =
    "etag,link,content-range,accept-ranges,content-disposition,x-data-release,x-total-count";
/// [`CORS_EXPOSE_HEADERS`], as names (a test checks they are the same).
static EXPOSED: [axum::http::HeaderName; 7] = [
    header::ETAG,
    header::LINK,
    header::CONTENT_RANGE,
    header::ACCEPT_RANGES,
    header::CONTENT_DISPOSITION,
    axum::http::HeaderName::from_static(crate::http::X_DATA_RELEASE),
    axum::http::HeaderName::from_static(crate::http::X_TOTAL_COUNT),
];
/// The methods a page on another origin may use.
pub const CORS_ALLOW_METHODS: &str = "GET,HEAD,POST,OPTIONS";
/// The request headers a page on another origin may send.
pub const CORS_ALLOW_HEADERS: &str = "content-type,accept,if-none-match,range,if-range";
/// How long a browser may keep a preflight's answer: a day.
pub const CORS_MAX_AGE: &str = "86400";

/// The answer to an `OPTIONS` request: a CORS preflight, for every path.
fn preflight() -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        const { HeaderValue::from_static(CORS_ALLOW_METHODS) },
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        const { HeaderValue::from_static(CORS_ALLOW_HEADERS) },
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        const { HeaderValue::from_static(CORS_MAX_AGE) },
    );
    response
}

/// The request's line in the log: its status and time at debug level (when it is on:
/// `started`), a server error at error level.
fn logged(method: &Method, uri: &Uri, started: Option<Instant>, response: Response) -> Response {
    let status = response.status();
    if status.is_server_error() {
        tracing::error!(%method, path = uri.path(), status = status.as_u16(), "a request failed");
    } else if let Some(started) = started {
        tracing::debug!(
            %method,
            path = uri.path(),
            status = status.as_u16(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            "answered"
        );
    }
    response
}

/// An error status whose body is not JSON yet (problem+json, and GraphQL's own errors on
/// `/graphql`, pass untouched).
fn needs_rewriting(response: &Response) -> bool {
    let status = response.status();
    (status.is_client_error() || status.is_server_error()) && !is_json(response.headers())
}

/// Whether the request declares a body larger than any route but `/graphql` accepts.
fn declares_too_large_a_body(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|length| length > MAX_BODY_BYTES as u64)
        && request.uri().path() != crate::graphql::PATH
}

/// The answer to a request that took longer than `timeout`.
fn timed_out(timeout: Duration) -> Response {
    ApiError::Http {
        status: StatusCode::SERVICE_UNAVAILABLE,
        detail: timeout_detail(timeout),
    }
    .into_response()
}

fn too_large_detail() -> String {
    format!("the request body is larger than {MAX_BODY_BYTES} bytes")
}

fn timeout_detail(timeout: Duration) -> String {
    let seconds = timeout.as_secs_f64();
    format!("the request took longer than {seconds} s; try again shortly, or ask for less")
}

fn panicked() -> Response {
    ApiError::internal(anyhow::anyhow!("a handler panicked")).into_response()
}

fn invalid_host() -> Response {
    ApiError::invalid(
        "Host",
        format!(
            "the Host header must be one host name or address with an optional port, at most \
             {} characters",
            crate::http::MAX_HOST_CHARS
        ),
    )
    .into_response()
}

/// An error answered by axum or a tower layer, as problem+json, keeping its status and
/// headers (`Allow` on a 405).
async fn problem(method: Method, uri: Uri, response: Response) -> Response {
    let status = response.status();
    let (mut parts, body) = response.into_parts();
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            // axum adds `Allow` after every layer of the router has run (it is on the
            // response the client gets, not here), so the detail points at it.
            format!(
                "{method} is not allowed on {}; the Allow header lists the methods it takes",
                crate::error::echo(uri.path())
            )
        }
        StatusCode::PAYLOAD_TOO_LARGE => too_large_detail(),
        StatusCode::SERVICE_UNAVAILABLE => timeout_detail(REQUEST_TIMEOUT),
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

/// Whether a response's body is JSON (problem+json, or a GraphQL response).
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json_type)
}

/// Whether a `Content-Type` names JSON (`application/json` or `…+json`, any parameters).
fn is_json_type(content_type: &str) -> bool {
    // Bytes: the last five are not always a character's boundary in text that is not ASCII.
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .as_bytes();
    essence.eq_ignore_ascii_case(b"application/json")
        || essence.len() >= 5 && essence[essence.len() - 5..].eq_ignore_ascii_case(b"+json")
}

/// At most one `Host`, and that one valid.
fn has_valid_host(request: &Request) -> bool {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (None, _) => true,
        (Some(host), None) => crate::http::is_valid_host_bytes(host.as_bytes()),
        (Some(_), Some(_)) => false,
    }
}

/// Which responses may be compressed: tower-http's defaults (at least 32 bytes, not images,
/// gRPC or event streams), not downloads (`Accept-Ranges: bytes`: stored precompressed, and
/// a range is of the stored bytes), and not errors that are not JSON yet (the edge reads
/// them to rewrite them as problem+json).
///
/// The size is the body's, or, for the empty body of a `HEAD` answer, its `Content-Length`:
/// a `HEAD` gets the headers its `GET` would (`Vary`, `Content-Encoding`, the weak `ETag`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Compressible;

/// The smallest body compressed: tower-http's default (`SizeAbove`).
const MIN_COMPRESSED_SIZE: u64 = 32;

impl Predicate for Compressible {
    fn should_compress<B: axum::body::HttpBody>(&self, response: &axum::http::Response<B>) -> bool {
        let headers = response.headers();
        let declared = || {
            headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
        };
        let size = match response.body().size_hint().exact() {
            Some(0) => declared().or(Some(0)),
            Some(size) => Some(size),
            None => declared(),
        };
        if size.is_some_and(|size| size < MIN_COMPRESSED_SIZE) {
            return false;
        }
        // tower-http's `NotForContentType::{GRPC, IMAGES, SSE}`, from one lookup.
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let status = response.status();
        (content_type.starts_with("application/grpc-web")
            || !content_type.starts_with("application/grpc"))
            && (content_type.starts_with("image/svg+xml") || !content_type.starts_with("image/"))
            && !content_type.starts_with("text/event-stream")
            && !headers.contains_key(header::ACCEPT_RANGES)
            && (is_json_type(content_type)
                || !(status.is_client_error() || status.is_server_error()))
    }
}

/// tower-http's compression (gzip and brotli) for requests that send `Accept-Encoding`;
/// the others skip it, with the same answer: the body as it is, and `Vary: Accept-Encoding`
/// on every response that could have been compressed (as tower-http's identity path
/// adds it). Skipping it spares them the compressed body type, which holds a brotli
/// encoder's state inline (kilobytes, copied at every move) and is boxed once more above
/// (issue #12: a third of `/healthz`'s own time was moving it).
#[derive(Clone)]
pub struct Compressed<S> {
    inner: S,
}

impl<S> Compressed<S> {
    /// `inner` compressed when the request asks for it.
    pub fn new(inner: S) -> Self {
        Compressed { inner }
    }
}

/// A compressed response, its body boxed.
type CompressedResponse = Result<
    axum::http::Response<tower_http::compression::CompressionBody<axum::body::Body>>,
    Infallible,
>;
type CompressedFuture<F> = futures::future::Map<
    tower_http::compression::ResponseFuture<F, Compressible>,
    fn(CompressedResponse) -> Result<Response, Infallible>,
>;

impl<S> tower::Service<Request> for Compressed<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone,
{
    type Response = Response;
    type Error = Infallible;
    type Future = futures::future::Either<PlainFuture<S::Future>, CompressedFuture<S::Future>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.headers().contains_key(header::ACCEPT_ENCODING) {
            let boxed: fn(CompressedResponse) -> Result<Response, Infallible> =
                if request.method() == Method::HEAD {
                    // The headers of the GET, and no body (not even an empty stream's
                    // gzip header).
                    |response| {
                        Ok(weak_etag_if_encoded(
                            response?.map(|_| axum::body::Body::empty()),
                        ))
                    }
                } else {
                    |response| Ok(weak_etag_if_encoded(response?.map(axum::body::Body::new)))
                };
            // The service made ready by `poll_ready` answers; a clone stays for the next call.
            let clone = self.inner.clone();
            let ready = std::mem::replace(&mut self.inner, clone);
            let mut compressing = Compression::new(ready)
                .gzip(true)
                .br(true)
                .compress_when(Compressible);
            futures::future::Either::Right(compressing.call(request).map(boxed))
        } else {
            futures::future::Either::Left(PlainFuture {
                inner: self.inner.call(request),
            })
        }
    }
}

/// A body this layer encoded is other bytes than the identity body the handler's strong
/// ETag names (RFC 9110 8.8.3): it carries the weak form, which `If-None-Match` still
/// matches (weak comparison), as nginx's gzip does. Downloads (`Accept-Ranges`) are never
/// encoded here and keep their own strong ETag per stored variant.
fn weak_etag_if_encoded(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if headers.contains_key(header::CONTENT_ENCODING)
        && !headers.contains_key(header::ACCEPT_RANGES)
        && let Some(etag) = headers.get(header::ETAG)
        && etag.as_bytes().starts_with(b"\"")
    {
        let mut weak = Vec::with_capacity(etag.len() + 2);
        weak.extend_from_slice(b"W/");
        weak.extend_from_slice(etag.as_bytes());
        if let Ok(weak) = HeaderValue::from_bytes(&weak) {
            headers.insert(header::ETAG, weak);
        }
    }
    response
}

pin_project! {
    /// A response that was not asked to be compressed: `Vary: Accept-Encoding` added where
    /// tower-http's compression would add it.
    pub struct PlainFuture<F> {
        #[pin]
        inner: F,
    }
}

impl<F> Future for PlainFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        let headers = response.headers();
        // The predicate first: it refuses a small body (most errors, `/healthz`) at once.
        let varies = Compressible.should_compress(&response)
            && !headers.contains_key(header::CONTENT_ENCODING)
            && !headers.contains_key(header::CONTENT_RANGE)
            && !response
                .headers()
                .get_all(header::VARY)
                .iter()
                .any(|value| {
                    // As tower-http compares: bytes, ignoring ASCII case, no allocation.
                    value
                        .as_bytes()
                        .windows(b"accept-encoding".len())
                        .any(|w| w.eq_ignore_ascii_case(b"accept-encoding"))
                });
        if varies {
            response.headers_mut().append(
                header::VARY,
                const { HeaderValue::from_static("accept-encoding") },
            );
        }
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::{Layer, ServiceExt};

    use super::*;
    use crate::error::{PROBLEM_JSON, Problem};

    async fn problem_of(response: Response) -> Problem {
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&body).unwrap()
    }

    /// `Compressible` looks the content type up once; it answers as tower-http's own
    /// predicates (`SizeAbove`, `NotForContentType::{GRPC, IMAGES, SSE}`) plus our two
    /// rules (no downloads, no error that is not JSON yet) for every combination.
    #[test]
    fn compressible_answers_as_tower_https_predicates_with_our_rules() {
        use tower_http::compression::predicate::{NotForContentType, SizeAbove};
        let tower = SizeAbove::new(MIN_COMPRESSED_SIZE as u16)
            .and(NotForContentType::GRPC)
            .and(NotForContentType::IMAGES)
            .and(NotForContentType::SSE);
        let types = [
            None,
            Some("application/json"),
            Some("application/problem+json"),
            Some("application/json; charset=utf-8"),
            Some("text/csv; charset=utf-8"),
            Some("text/html"),
            Some("image/png"),
            Some("image/svg+xml"),
            Some("image/svg+xml; charset=utf-8"),
            Some("application/grpc"),
            Some("application/grpc+proto"),
            Some("application/grpc-web"),
            Some("application/grpc-web+proto"),
            Some("text/event-stream"),
            Some("TEXT/EVENT-STREAM"),
        ];
        assert!(!is_json_type("text/€json"));
        assert!(is_json_type("application/problem+JSON; charset=utf-8"));
        for content_type in types {
            for size in [0usize, 31, 32, 5000] {
                for status in [200u16, 304, 404, 500] {
                    for ranges in [false, true] {
                        let mut response = axum::http::Response::new(http_body_util::Full::new(
                            bytes::Bytes::from(vec![b'x'; size]),
                        ));
                        *response.status_mut() = StatusCode::from_u16(status).unwrap();
                        if let Some(content_type) = content_type {
                            response.headers_mut().insert(
                                header::CONTENT_TYPE,
                                HeaderValue::from_static(content_type),
                            );
                        }
                        if ranges {
                            response
                                .headers_mut()
                                .insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
                        }
                        let error = status >= 400;
                        let expected = tower.should_compress(&response)
                            && !ranges
                            && (is_json(response.headers()) || !error);
                        assert_eq!(
                            Compressible.should_compress(&response),
                            expected,
                            "{content_type:?}, {size} bytes, {status}, ranges {ranges}"
                        );
                    }
                }
            }
        }
    }

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
            .layer(EdgeLayer::with_timeout(Duration::from_millis(50)));
        let response = app
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let problem = problem_of(response).await;
        assert_eq!(problem.status, 503);
        assert_eq!(problem.problem_type, "urn:sanctuary-data:problem:timeout");
        assert!(problem.detail.contains("longer than"), "{}", problem.detail);
    }

    /// A handler that panics, in its future or before it returns one, is a problem+json
    /// 500, and the service goes on answering.
    #[tokio::test]
    async fn a_handler_that_panics_gets_a_problem_and_the_service_goes_on() {
        #[allow(unreachable_code)]
        let app = Router::new()
            .route(
                "/panics",
                axum::routing::get(|| async {
                    panic!("a bug");
                    "never"
                }),
            )
            .route("/fine", axum::routing::get(|| async { "fine" }))
            .layer(EdgeLayer::default());
        let panicking = tower::service_fn(
            |_: Request| -> std::future::Ready<Result<Response, Infallible>> {
                panic!("a bug before the future")
            },
        );
        for response in [
            app.clone()
                .oneshot(Request::get("/panics").body(Body::empty()).unwrap())
                .await
                .unwrap(),
            EdgeLayer::default()
                .layer(panicking)
                .oneshot(Request::get("/").body(Body::empty()).unwrap())
                .await
                .unwrap(),
        ] {
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            let problem = problem_of(response).await;
            assert_eq!(problem.status, 500);
            assert!(!problem.detail.contains("a bug"), "{}", problem.detail);
        }
        let response = app
            .oneshot(Request::get("/fine").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
    }

    /// A plain-text rejection of axum's becomes problem+json with its words; a 405 keeps
    /// its `Allow`.
    #[tokio::test]
    async fn plain_text_errors_become_problems() {
        let app = Router::new()
            .route("/only-get", axum::routing::get(|| async { "ok" }))
            .route(
                "/teapot",
                axum::routing::get(|| async { (StatusCode::IM_A_TEAPOT, "short and stout") }),
            )
            .layer(EdgeLayer::default());
        let response = app
            .clone()
            .oneshot(Request::post("/only-get").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(response.headers().contains_key(header::ALLOW));
        let problem = problem_of(response).await;
        assert!(
            problem.detail.contains("POST is not allowed on /only-get"),
            "{}",
            problem.detail
        );
        let response = app
            .oneshot(Request::get("/teapot").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
        assert_eq!(problem_of(response).await.detail, "short and stout");
    }

    /// Every response may be read by a page on any origin, with the headers it needs; an
    /// `OPTIONS` request is a preflight answered without the router.
    #[tokio::test]
    async fn cors_lets_any_origin_read_and_answers_preflights() {
        for name in [
            crate::http::X_DATA_RELEASE,
            crate::http::X_TOTAL_COUNT,
            "etag",
            "link",
        ] {
            assert!(CORS_EXPOSE_HEADERS.split(',').any(|h| h == name), "{name}");
        }
        let names: Vec<&str> = EXPOSED.iter().map(|name| name.as_str()).collect();
        assert_eq!(names.join(","), CORS_EXPOSE_HEADERS);
        let app = Router::new()
            .route(
                "/",
                axum::routing::get(|| async {
                    ([(header::VARY, "accept"), (header::ETAG, "\"1\"")], "ok")
                }),
            )
            .route("/plain", axum::routing::get(|| async { "ok" }))
            .layer(EdgeLayer::default());
        // A response with none of the headers to expose gets no list, only the origin.
        let plain = app
            .clone()
            .oneshot(Request::get("/plain").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(plain.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(
            !plain
                .headers()
                .contains_key(header::ACCESS_CONTROL_EXPOSE_HEADERS)
        );
        let response = app
            .clone()
            .oneshot(
                Request::get("/")
                    .header(header::ORIGIN, "https://portal.example")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let headers = response.headers();
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(
            headers[header::ACCESS_CONTROL_EXPOSE_HEADERS],
            CORS_EXPOSE_HEADERS
        );
        // The handler's own `Vary`, and nothing about `Origin`: the CORS headers are the
        // same for every origin.
        let vary: Vec<_> = headers.get_all(header::VARY).iter().collect();
        assert_eq!(vary, ["accept"]);
        let preflight = app
            .oneshot(
                Request::options("/anywhere")
                    .header(header::ORIGIN, "https://portal.example")
                    .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
                    .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "if-none-match")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(preflight.status(), StatusCode::OK);
        let headers = preflight.headers();
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_METHODS],
            "GET,HEAD,POST,OPTIONS"
        );
        assert!(
            headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
                .to_str()
                .unwrap()
                .split(',')
                .any(|h| h == "if-none-match")
        );
        assert_eq!(headers[header::ACCESS_CONTROL_MAX_AGE], "86400");
        assert!(
            preflight
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn an_invalid_host_is_a_400_naming_it() {
        let app = Router::new()
            .route("/", axum::routing::get(|| async { "ok" }))
            .layer(EdgeLayer::default());
        let response = app
            .oneshot(
                Request::get("/")
                    .header(header::HOST, "<script>")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            problem_of(response).await.parameter.as_deref(),
            Some("Host")
        );
    }
}
