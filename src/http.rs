//! HTTP conventions shared by REST, GraphQL, downloads and catalogs: strong ETags,
//! conditional requests, cache lifetimes, `X-Data-Release` and `Link`. A release never
//! changes, so a representation of it is a pure function of (release, normalised query,
//! media type) and may be cached for ever when the URL names the release.
//!
//! Every cacheable answer goes through [`Validators::answer`]: the one place that decides
//! between `304 Not Modified` and the representation, and sets the caching headers.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::error::ApiError;
use sha2::{Digest, Sha256};

/// Sent when the URL names a release: the response can never change.
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Sent when the URL means "the latest release", which a new import changes.
pub const CACHE_LATEST: &str = "public, max-age=60";
/// The header naming the release a data response comes from.
pub const X_DATA_RELEASE: &str = "x-data-release";
/// The header that gives a collection's total row count (for spreadsheet connectors).
pub const X_TOTAL_COUNT: &str = "x-total-count";

/// A strong ETag for a representation: a digest of its bytes and media type.
pub fn etag_for(content_type: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(content_type.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    format!("\"{}\"", hex::encode(&hasher.finalize()[..16]))
}

/// [`etag_for`] computed piece by piece, for a file too large to hold in memory: the same
/// digest of the media type and the bytes.
pub struct EtagDigest(Sha256);

impl EtagDigest {
    /// A digest of a body of `content_type`, no bytes yet.
    pub fn new(content_type: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(content_type.as_bytes());
        hasher.update([0]);
        EtagDigest(hasher)
    }

    /// More of the body.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The strong ETag.
    pub fn finish(self) -> String {
        format!("\"{}\"", hex::encode(&self.0.finalize()[..16]))
    }
}

/// The form of `etag` the request's `If-None-Match` names, when it names it (weak
/// comparison, RFC 9110 13.1.2): `W/…` when the client holds a compressed copy, whose ETag
/// the compression layer made weak (`edge::Compressed`); the 304 carries that form, so a
/// cache finds the copy it updates.
fn held_validator(request: &HeaderMap, etag: &str) -> Option<Held> {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(|candidate| match candidate.strip_prefix("W/") {
            _ if candidate == "*" || candidate == etag => Some(Held::AsSent),
            Some(weak) if weak == etag => Some(Held::Weak),
            _ => None,
        })
}

/// See [`held_validator`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    AsSent,
    Weak,
}

/// `Cache-Control` for a response: immutable when the URL pins the release.
pub fn cache_control(release_pinned: bool) -> HeaderValue {
    if release_pinned {
        const { HeaderValue::from_static(CACHE_IMMUTABLE) }
    } else {
        const { HeaderValue::from_static(CACHE_LATEST) }
    }
}

/// The longest `Host` accepted (a DNS name is at most 253 characters, plus a port).
pub const MAX_HOST_CHARS: usize = 260;

/// Whether `host` is one `host[:port]` (no user info, path or markup), at most
/// [`MAX_HOST_CHARS`]: what may go into an absolute URL (the `Host` header, and
/// `X-Forwarded-Host` from a trusted proxy).
pub fn is_valid_host(host: &str) -> bool {
    is_valid_host_bytes(host.as_bytes())
}

/// [`is_valid_host`] of a header's bytes: a plain host is checked in one pass over them,
/// without a copy or a check that they are text first (issue #12); the rest are parsed.
pub fn is_valid_host_bytes(host: &[u8]) -> bool {
    !host.is_empty()
        && host.len() <= MAX_HOST_CHARS
        && (is_plain_host(host)
            || std::str::from_utf8(host).is_ok_and(|host| {
                !host.contains('@')
                    && host
                        .parse::<axum::http::uri::Authority>()
                        .is_ok_and(|authority| authority.as_str() == host)
            }))
}

/// The common case, checked without parsing (which copies the text; issue #12): a name or
/// IPv4 address of letters, digits, dots and hyphens, and an optional port of 1–5 digits up
/// to 65535. Everything it accepts, the full check accepts too (a test checks).
fn is_plain_host(host: &[u8]) -> bool {
    /// The bytes of a plain name: letters, digits, dots and hyphens.
    const NAME: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            let byte = b as u8;
            table[b] = byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-';
            b += 1;
        }
        table
    };
    let name = host.iter().take_while(|&&b| NAME[usize::from(b)]).count();
    match host.get(name) {
        _ if name == 0 => false,
        None => true,
        Some(b':') => {
            let port = &host[name + 1..];
            (1..=5).contains(&port.len())
                && port.iter().all(u8::is_ascii_digit)
                && port.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')) <= 65535
        }
        Some(_) => false,
    }
}

/// The caching headers of one representation.
#[derive(Debug)]
pub struct Validators<'a> {
    /// Its strong ETag (see [`etag_for`]).
    pub etag: &'a str,
    /// Its lifetime, usually [`cache_control`].
    pub cache_control: HeaderValue,
    /// The request headers it depends on, if any.
    pub vary: Option<&'static str>,
    /// The release it comes from, sent as `X-Data-Release`.
    pub release: Option<&'a str>,
    /// A `Link` header (the next page).
    pub link: Option<&'a str>,
}

impl Validators<'_> {
    /// `304 Not Modified` when the request's `If-None-Match` matches the ETag, else the
    /// representation `render` builds (with its own `Content-Type`); either way with the
    /// ETag, `Cache-Control`, `Vary`, `X-Data-Release` and `Link`.
    pub fn answer(self, request: &HeaderMap, render: impl FnOnce() -> Response) -> Response {
        let held = held_validator(request, self.etag);
        let mut response = if held.is_some() {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            render()
        };
        let headers = response.headers_mut();
        let etag = match held {
            Some(Held::Weak) => HeaderValue::from_str(&format!("W/{}", self.etag)),
            _ => HeaderValue::from_str(self.etag),
        };
        if let Ok(etag) = etag {
            headers.insert(header::ETAG, etag);
        }
        headers.insert(header::CACHE_CONTROL, self.cache_control);
        if let Some(vary) = self.vary {
            headers.insert(header::VARY, HeaderValue::from_static(vary));
        }
        if let Some(release) = self.release
            && let Ok(value) = HeaderValue::from_str(release)
        {
            headers.insert(X_DATA_RELEASE, value);
        }
        if let Some(link) = self.link
            && let Ok(value) = HeaderValue::from_str(link)
        {
            headers.insert(header::LINK, value);
        }
        response
    }
}

/// The answer to a request for a download rendered once per release (`crate::files`): the
/// file from disk through tower-http's `ServeFile`, which picks the precompressed variant
/// (`.br`, `.gz`) the client's `Accept-Encoding` prefers and answers `Range` (206 with
/// `Content-Range`, 416 when unsatisfiable), `Content-Length`, `Last-Modified` (the file's
/// time, set to the release's import time) and `If-Modified-Since`. Decided here: the strong
/// ETag of the variant sent (a digest of its bytes) and `If-None-Match` against it,
/// `If-Range` (a range is served only when the validator is that variant's ETag or the
/// exact `Last-Modified`; otherwise the whole file), and the caching headers of
/// [`Validators`]. `Vary: Accept-Encoding`, since the variant depends on it.
pub async fn answer_file(
    file: &crate::files::StoredFile,
    method: &axum::http::Method,
    request: &HeaderMap,
    pinned: bool,
    release: &str,
) -> Response {
    let if_range = request
        .get(header::IF_RANGE)
        .map(|v| v.to_str().unwrap_or_default().trim());
    // An entity tag in If-Range must match strongly: never a weak one.
    let if_range_etag = if_range.filter(|v| v.starts_with('"') || v.starts_with("W/"));
    let range_allowed = match (if_range, if_range_etag) {
        (None, _) => true,
        (Some(_), Some(etag)) => file.has_etag(etag),
        (Some(date), None) => date == file.last_modified,
    };
    let mut response = serve_stored(file, method, request, range_allowed, true).await;
    let mut etag = file.etag(content_encoding(&response));
    if etag.is_none() {
        // A variant this instance has no digest for (another process is writing it, or a
        // leftover from a crash): send the plain file, whose digest is always known.
        response = serve_stored(file, method, request, range_allowed, false).await;
        etag = file.etag(content_encoding(&response));
    }
    let Some(etag) = etag else {
        return ApiError::internal(anyhow::anyhow!(
            "no digest for download {}",
            file.path.display()
        ))
        .into_response();
    };
    if response.status() == StatusCode::PARTIAL_CONTENT
        && if_range_etag.is_some_and(|validator| validator != etag)
    {
        // If-Range named another variant: the whole of this one.
        response = serve_stored(file, method, request, false, true).await;
    }
    if response.status() == StatusCode::PRECONDITION_FAILED {
        // A problem of its own, without the file's validators: an ETag or Last-Modified on
        // it would describe the file, not this answer.
        return ApiError::Http {
            status: StatusCode::PRECONDITION_FAILED,
            detail: format!(
                "the file was modified after the If-Unmodified-Since date ({}); it was last \
                 modified {}",
                crate::error::echo(
                    request
                        .get(header::IF_UNMODIFIED_SINCE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                ),
                file.last_modified
            ),
        }
        .into_response();
    }
    if response.status() == StatusCode::RANGE_NOT_SATISFIABLE {
        let content_range = response.headers().get(header::CONTENT_RANGE).cloned();
        let mut problem = ApiError::Http {
            status: StatusCode::RANGE_NOT_SATISFIABLE,
            detail: format!(
                "the range is not satisfiable (one range of bytes within the file, whose length \
                 is in Content-Range; several ranges at once are not served): {}",
                crate::error::echo(
                    request
                        .get(header::RANGE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                )
            ),
        }
        .into_response();
        if let Some(value) = content_range {
            problem.headers_mut().insert(header::CONTENT_RANGE, value);
        }
        return problem;
    }
    Validators {
        etag: &etag,
        cache_control: cache_control(pinned),
        vary: Some("Accept-Encoding"),
        release: Some(release),
        link: None,
    }
    .answer(request, || {
        if response.status().is_success() {
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(file.content_type),
            );
            if let Ok(value) = HeaderValue::from_str(&file.disposition) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
        }
        response
    })
}

/// The content coding of a response (`identity` when none).
fn content_encoding(response: &Response) -> &str {
    response
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
}

/// `ServeFile` on a stored file, given the request's headers that it understands.
async fn serve_stored(
    file: &crate::files::StoredFile,
    method: &axum::http::Method,
    request: &HeaderMap,
    range: bool,
    precompressed: bool,
) -> Response {
    use tower::ServiceExt;
    let mut forward = axum::http::Request::builder()
        .method(if method == axum::http::Method::HEAD {
            axum::http::Method::HEAD
        } else {
            axum::http::Method::GET
        })
        .uri("/");
    let mut names = vec![header::IF_UNMODIFIED_SINCE];
    if precompressed {
        names.push(header::ACCEPT_ENCODING);
    }
    if range {
        names.push(header::RANGE);
    }
    // If-None-Match, when present, decides alone (RFC 9110 13.1.3).
    if !request.contains_key(header::IF_NONE_MATCH) {
        names.push(header::IF_MODIFIED_SINCE);
    }
    for name in names {
        for value in request.get_all(&name) {
            forward = forward.header(&name, value);
        }
    }
    let forward = forward
        .body(axum::body::Body::empty())
        .expect("a request built from valid parts");
    // Read in 256 KiB pieces (64 KiB by default): a small download is one read.
    let mut service =
        tower_http::services::ServeFile::new(&file.path).with_buf_chunk_size(256 * 1024);
    if file.precompressed && precompressed {
        service = service.precompressed_br().precompressed_gzip();
    }
    match service.oneshot(forward).await {
        Ok(response) => response.map(axum::body::Body::new),
        Err(never) => match never {},
    }
}

/// A rendered representation, ready to send again.
#[derive(Debug)]
pub struct Rendered {
    body: Bytes,
    content_type: &'static str,
    etag: String,
    release: String,
    /// A `Link` header (the next page).
    pub link: Option<String>,
    /// A `Content-Disposition` header (CSV files).
    pub disposition: Option<String>,
    /// An `X-Total-Count` header: the rows of a collection matching the request, across
    /// all pages.
    pub total: Option<u64>,
    /// The status to answer with (GraphQL answers some rejected requests 400).
    pub status: StatusCode,
    /// GraphQL: the `Cache-Control` of a GET answer when it may be cached (else
    /// `no-store`).
    pub lifetime: Option<HeaderValue>,
}

impl Rendered {
    /// `body` of `content_type`, from `release`; its ETag digests both.
    pub fn new(body: Vec<u8>, content_type: &'static str, release: &str) -> Self {
        Rendered {
            etag: etag_for(content_type, &body),
            body: Bytes::from(body),
            content_type,
            release: release.to_owned(),
            link: None,
            disposition: None,
            total: None,
            status: StatusCode::OK,
            lifetime: None,
        }
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The media type of the body.
    pub fn content_type(&self) -> &'static str {
        self.content_type
    }

    /// The strong ETag of the body and media type.
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The answer to `request`: a 304 or the body, with the caching headers; immutable
    /// when the URL pins the release.
    pub fn answer(&self, request: &HeaderMap, pinned: bool) -> Response {
        Validators {
            etag: &self.etag,
            cache_control: cache_control(pinned),
            vary: Some("Accept, Accept-Encoding"),
            release: Some(&self.release),
            link: self.link.as_deref(),
        }
        .answer(request, || {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.content_type),
            );
            if let Some(disposition) = &self.disposition
                && let Ok(value) = HeaderValue::from_str(disposition)
            {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            if let Some(total) = self.total {
                headers.insert(X_TOTAL_COUNT, HeaderValue::from(total));
            }
            (StatusCode::OK, headers, self.body.clone()).into_response()
        })
    }
}

#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<String, Arc<Rendered>> for ByBytes {
    fn weight(&self, key: &String, value: &Arc<Rendered>) -> u64 {
        (key.len() + value.body.len() + 256) as u64
    }
}

/// Rendered representations by (release, path, normalised query, media type) for REST,
/// and by (latest release, request digest, media type) for GraphQL, bounded by total size.
pub struct ResponseCache(quick_cache::sync::Cache<String, Arc<Rendered>, ByBytes>);

impl ResponseCache {
    /// A cache holding up to `bytes` of rendered bodies.
    pub fn new(bytes: u64) -> Self {
        ResponseCache(quick_cache::sync::Cache::with_weighter(
            4096, bytes, ByBytes,
        ))
    }

    /// The representation cached under `key`, if any.
    pub fn get(&self, key: &str) -> Option<Arc<Rendered>> {
        self.0.get(key)
    }

    /// Keep `rendered` under `key`.
    pub fn insert(&self, key: String, rendered: Arc<Rendered>) {
        self.0.insert(key, rendered);
    }

    /// The representation cached under `key`, or the one `render` makes, then kept.
    pub async fn get_or_render<F>(&self, key: String, render: F) -> Result<Arc<Rendered>, ApiError>
    where
        F: AsyncFnOnce() -> Result<Rendered, ApiError>,
    {
        Ok(match self.0.get(&key) {
            Some(hit) => hit,
            None => {
                let fresh = Arc::new(render().await?);
                self.0.insert(key, fresh.clone());
                fresh
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses_as_an_authority(host: &str) -> bool {
        host.parse::<axum::http::uri::Authority>()
            .is_ok_and(|authority| authority.as_str() == host)
    }

    #[test]
    fn plain_hosts_skip_the_parse_and_the_rest_are_parsed() {
        for host in [
            "localhost",
            "localhost:8080",
            "a.example.org",
            "10.0.0.1:1",
            "-",
            ".",
        ] {
            assert!(
                is_plain_host(host.as_bytes()) && parses_as_an_authority(host),
                "{host}"
            );
        }
        for host in [
            ":80",
            "host:",
            "host:65536",
            "host:123456",
            "a b",
            "a@b",
            "[::1]:80",
        ] {
            assert!(!is_plain_host(host.as_bytes()), "{host}");
        }
        assert!(
            is_valid_host("[::1]:8080"),
            "an IPv6 literal takes the full check"
        );
        assert!(!is_valid_host("user@host"));
    }

    proptest::proptest! {
        /// The fast path never accepts what the full check refuses.
        #[test]
        fn a_plain_host_is_a_valid_authority(host in "[a-zA-Z0-9.:@-]{0,12}") {
            if is_plain_host(host.as_bytes()) {
                proptest::prop_assert!(parses_as_an_authority(&host) && !host.contains('@'), "{}", host);
            }
        }

        /// Whatever bytes a `Host` header holds, what is accepted is text that parses as
        /// exactly one authority, without user info.
        #[test]
        fn an_accepted_host_header_is_an_authority(host in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..16)) {
            if is_valid_host_bytes(&host) {
                let text = std::str::from_utf8(&host);
                proptest::prop_assert!(text.is_ok_and(|t| parses_as_an_authority(t) && !t.contains('@')), "{:?}", host);
            }
        }
    }

    #[test]
    fn if_none_match_accepts_lists_weak_forms_and_star() {
        let etag = etag_for("application/json", b"{}");
        let mut headers = HeaderMap::new();
        assert_eq!(held_validator(&headers, &etag), None);
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"x\", W/{etag}")).unwrap(),
        );
        assert_eq!(held_validator(&headers, &etag), Some(Held::Weak));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert_eq!(held_validator(&headers, &etag), Some(Held::AsSent));
    }

    #[test]
    fn an_answer_is_a_304_with_the_same_caching_headers_when_the_etag_matches() {
        let etag = etag_for("text/plain", b"hi");
        let validators = || Validators {
            etag: &etag,
            cache_control: cache_control(true),
            vary: Some("Accept"),
            release: Some("abc"),
            link: Some("</next>; rel=\"next\""),
        };
        let render = || ([(header::CONTENT_TYPE, "text/plain")], "hi").into_response();
        let fresh = validators().answer(&HeaderMap::new(), render);
        let mut conditional = HeaderMap::new();
        conditional.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap());
        let cached = validators().answer(&conditional, render);
        assert_eq!(fresh.status(), StatusCode::OK);
        assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
        for name in [
            header::ETAG,
            header::CACHE_CONTROL,
            header::VARY,
            header::LINK,
            X_DATA_RELEASE.parse().unwrap(),
        ] {
            assert!(fresh.headers().contains_key(&name), "{name}");
            assert_eq!(fresh.headers()[&name], cached.headers()[&name], "{name}");
        }
        assert_eq!(fresh.headers()[header::CACHE_CONTROL], CACHE_IMMUTABLE);
        assert_eq!(fresh.headers()[header::CONTENT_TYPE], "text/plain");
        assert!(!cached.headers().contains_key(header::CONTENT_TYPE));
    }

    #[test]
    fn etags_differ_by_media_type_and_body() {
        assert_ne!(
            etag_for("text/csv", b"a"),
            etag_for("application/json", b"a")
        );
        assert_ne!(etag_for("text/csv", b"a"), etag_for("text/csv", b"b"));
    }
}
