//! Every error the application produces is RFC 9457 problem+json (GraphQL's own errors
//! keep GraphQL's shape on `/graphql`), including the ones axum and the tower layers
//! answer by themselves, and no error repeats more than a little of the client's input.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::helpers::{app_with, get, send};

/// Longest detail a test accepts for an error about a 10 KB input.
const SHORT: usize = 500;

#[tokio::test]
async fn a_method_the_path_does_not_allow_is_a_problem_naming_the_allowed_ones() {
    let (app, _db) = app_with("small").await;
    for (method, uri) in [
        ("POST", "/api/v1/programs"),
        ("DELETE", "/api/v1/programs/alpha"),
        ("PUT", "/graphql"),
        ("POST", "/healthz"),
    ] {
        let reply = send(
            &app,
            Request::builder()
                .method(method)
                .uri(uri)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        let detail = reply.assert_problem(405, None);
        assert!(detail.contains(method), "{method} {uri}: {detail}");
        assert!(
            detail.contains("Allow header") && !detail.contains("allowed: ;"),
            "{method} {uri}: the detail points at the Allow header: {detail}"
        );
        assert!(
            reply.header("allow").contains("GET"),
            "{method} {uri}: the Allow header is kept"
        );
        assert_eq!(
            reply.json()["type"],
            "urn:sanctuary-data:problem:method-not-allowed"
        );
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_problem_and_on_graphql_a_graphql_error() {
    let (app, _db) = app_with("small").await;
    let big = vec![b' '; sanctuary_data::app::MAX_BODY_BYTES + 1];

    let rest = send(
        &app,
        Request::post("/api/v1/programs")
            .header("content-length", big.len())
            .body(Body::from(big.clone()))
            .unwrap(),
    )
    .await;
    let detail = rest.assert_problem(413, None);
    assert!(detail.contains("larger than"), "{detail}");

    // Larger than both the application's limit and GraphQL's own: GraphQL answers.
    let graphql = send(
        &app,
        Request::post("/graphql")
            .header("content-type", "application/json")
            .header("content-length", big.len())
            .body(Body::from(big))
            .unwrap(),
    )
    .await;
    assert_eq!(graphql.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(graphql.header("content-type"), "application/json");
    assert_eq!(
        graphql.json()["errors"][0]["extensions"]["code"],
        "BAD_REQUEST",
        "body: {}",
        graphql.text()
    );
}

#[tokio::test]
async fn a_path_that_is_not_utf8_is_a_problem() {
    let (app, _db) = app_with("small").await;
    for uri in [
        "/api/v1/programs/%FF",
        "/api/v1/statistics/%C3%28",
        "/downloads/%FF.csv",
        "/graphql/assets/%FF",
    ] {
        let reply = get(&app, uri).await;
        let detail = reply.assert_problem(400, None);
        assert!(!detail.is_empty(), "{uri}");
        assert_eq!(
            reply.json()["type"],
            "urn:sanctuary-data:problem:bad-request"
        );
    }
}

#[tokio::test]
async fn a_compressed_error_is_still_a_problem() {
    let (app, _db) = app_with("small").await;
    let plain = get(&app, "/api/v1/programs/%FF").await;
    let gzip = crate::helpers::get_with(
        &app,
        "/api/v1/programs/%FF",
        &[("accept-encoding", "gzip, br")],
    )
    .await;
    plain.assert_problem(400, None);
    // An error that is not JSON yet passes the compression layer uncompressed, and is
    // rewritten above it: the same problem+json as without `Accept-Encoding`.
    assert_eq!(gzip.status, StatusCode::BAD_REQUEST);
    assert_eq!(gzip.header("content-type"), "application/problem+json");
    assert_eq!(gzip.header("content-encoding"), "");
    assert_eq!(gzip.json(), plain.json());
}

#[tokio::test]
async fn errors_repeat_at_most_a_hundred_characters_of_the_input() {
    let (app, _db) = app_with("small").await;
    let long = "x".repeat(10_000);
    let cases = [
        (format!("/{long}"), 404, None),
        (format!("/api/v1/programs/{long}"), 404, Some("slug")),
        (format!("/api/v1/documents/{long}"), 404, Some("id")),
        (format!("/downloads/{long}.csv"), 404, Some("file")),
        (format!("/api/v1/releases/{long}"), 400, Some("id")),
        (format!("/api/v1/programs?{long}=1"), 400, None),
        (
            format!("/api/v1/statistics?limit={long}"),
            400,
            Some("limit"),
        ),
        (format!("/api/v1/statistics?from={long}"), 400, Some("from")),
        (
            format!("/api/v1/statistics?release={long}"),
            400,
            Some("release"),
        ),
        (
            format!("/api/v1/programs?format={long}"),
            400,
            Some("format"),
        ),
    ];
    for (uri, status, parameter) in cases {
        let reply = get(&app, &uri).await;
        assert_eq!(reply.status.as_u16(), status, "{}", reply.text());
        let body = reply.json();
        if let Some(parameter) = parameter {
            assert_eq!(body["parameter"], parameter, "{uri:.60}: {body}");
        }
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.len() < SHORT && reply.body.len() < 2 * SHORT,
            "{uri:.60}: a {} byte error: {detail:.300}",
            reply.body.len()
        );
        assert!(detail.contains("xxxxxxxx…"), "{uri:.60}: {detail}");
    }
}

#[tokio::test]
async fn a_host_header_that_is_not_a_host_is_refused_and_never_becomes_a_catalog_url() {
    let (app, _db) = app_with("small").await;
    let padded = format!("{}.example", "a".repeat(60_000));
    for host in [
        r#"a"b<script>@evil:1/x?y#z"#,
        "user@example.org",
        "example.org/path",
        padded.as_str(),
    ] {
        let reply = send(
            &app,
            Request::builder()
                .uri("/data.json")
                .header("host", host)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        let detail = reply.assert_problem(400, Some("Host"));
        assert!(detail.len() < SHORT, "{} bytes of detail", detail.len());
        assert!(!reply.text().contains("evil"), "{}", reply.text());
    }
    // Two Host headers are as bad as one broken one.
    let reply = send(
        &app,
        Request::builder()
            .uri("/datapackage.json")
            .header("host", "a.example")
            .header("host", "b.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    reply.assert_problem(400, Some("Host"));
    // A real host name (with a port) is what the catalog's URLs are built from.
    let reply = send(
        &app,
        Request::builder()
            .uri("/data.json")
            .header("host", "data.example.org:8443")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text().contains("http://data.example.org:8443/"));
}
