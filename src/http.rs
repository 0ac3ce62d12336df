//! HTTP conventions shared by REST and GraphQL: strong ETags, conditional requests and
//! cache lifetimes. A release never changes, so a representation of it is a pure
//! function of (release, normalised query, media type) and may be cached for ever when
//! the URL names the release.

use axum::http::{HeaderMap, HeaderValue, header};
use sha2::{Digest, Sha256};

/// Sent when the URL names a release: the response can never change.
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Sent when the URL means "the latest release", which a new import changes.
pub const CACHE_LATEST: &str = "public, max-age=60";
/// The header naming the release a data response comes from.
pub const X_DATA_RELEASE: &str = "x-data-release";

/// A strong ETag for a representation: a digest of its bytes and media type.
pub fn etag_for(content_type: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(content_type.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    format!("\"{}\"", hex::encode(&hasher.finalize()[..16]))
}

/// Whether the request's `If-None-Match` matches `etag` (so the answer is 304).
pub fn is_not_modified(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|candidate| {
            candidate == "*" || candidate == etag || candidate.strip_prefix("W/") == Some(etag)
        })
}

/// `Cache-Control` for a response: immutable when the URL pins the release.
pub fn cache_control(release_pinned: bool) -> HeaderValue {
    HeaderValue::from_static(if release_pinned {
        CACHE_IMMUTABLE
    } else {
        CACHE_LATEST
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_accepts_lists_weak_forms_and_star() {
        let etag = etag_for("application/json", b"{}");
        let mut headers = HeaderMap::new();
        assert!(!is_not_modified(&headers, &etag));
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"x\", W/{etag}")).unwrap(),
        );
        assert!(is_not_modified(&headers, &etag));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(is_not_modified(&headers, &etag));
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
