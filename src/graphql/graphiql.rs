//! GraphiQL for browsers at `GET /graphql`, and its vendored assets at
//! `/graphql/assets/{file}`, compiled into the binary.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::http::{CACHE_IMMUTABLE, Validators, etag_for};

/// A file of the vendored GraphiQL, compiled into the binary.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

static ASSETS: &[Asset] = &[
    Asset {
        name: "graphiql.min.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.js"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.css"),
    },
    Asset {
        name: "react.production.min.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/graphiql/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    },
    Asset {
        name: "graphiql-init.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/graphiql/graphiql-init.js"),
    },
];

const INDEX_HTML: &str = include_str!("../../assets/graphiql/index.html");
const HTML: &str = "text/html; charset=utf-8";

/// The ETag of each asset, computed once.
static ASSET_ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| etag_for(asset.content_type, asset.bytes))
        .collect()
});

/// The GraphiQL page, with every asset URL carrying a digest of the assets
/// (`?v=…`), so the assets can be cached for a year and still change with a release of
/// this service.
static INDEX: LazyLock<(String, String)> = LazyLock::new(|| {
    let digest: String = ASSET_ETAGS.iter().map(|e| e.trim_matches('"')).collect();
    let version = &etag_for("", digest.as_bytes())[1..13];
    let mut page = INDEX_HTML.to_owned();
    for asset in ASSETS {
        let path = format!("/graphql/assets/{}", asset.name);
        page = page.replace(&format!("\"{path}\""), &format!("\"{path}?v={version}\""));
    }
    let etag = etag_for(HTML, page.as_bytes());
    (page, etag)
});

/// The GraphiQL page. Revalidated on every visit (it names the current asset versions).
pub(super) fn page(request: &HeaderMap) -> Response {
    let (page, etag) = &*INDEX;
    let mut response = Validators {
        etag,
        cache_control: HeaderValue::from_static("no-cache"),
        vary: None,
        release: None,
        link: None,
    }
    .answer(request, || page.clone().into_response());
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(HTML));
    response
}

/// `GET /graphql/assets/{file}`: a GraphiQL script or stylesheet.
pub(super) async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|asset| asset.name == file) else {
        return ApiError::not_found(format!(
            "no GraphiQL asset {:?}; the page at /graphql names the ones there are",
            crate::error::echo(&file)
        ))
        .into_response();
    };
    let asset = &ASSETS[index];
    let mut response = Validators {
        etag: &ASSET_ETAGS[index],
        cache_control: HeaderValue::from_static(CACHE_IMMUTABLE),
        vary: None,
        release: None,
        link: None,
    }
    .answer(&headers, || asset.bytes.into_response());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    response
}
