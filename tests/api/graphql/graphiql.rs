//! GraphQL: GraphiQL.

use super::*;

#[tokio::test]
async fn graphiql_is_served_to_browsers_with_its_assets() {
    let (app, _db) = app_with("small").await;
    let page = get(
        &app,
        "/graphql",
        &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header(header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    let html = String::from_utf8(page.bytes.clone()).unwrap();
    assert!(html.contains(r#"<div id="graphiql">"#), "{html}");
    let scripts: Vec<&str> = html
        .split("src=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(scripts.len(), 4, "{html}");
    let stylesheet = html
        .split("href=\"")
        .nth(1)
        .map(|s| s.split('"').next().unwrap())
        .unwrap();
    let etag = page.header(header::ETAG).to_owned();
    let again = get(
        &app,
        "/graphql",
        &[("accept", "text/html"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    for url in scripts.iter().chain([&stylesheet]) {
        assert!(
            url.starts_with("/graphql/assets/") && url.contains("?v="),
            "{url}"
        );
        let asset = get(&app, url, &[]).await;
        assert_eq!(asset.status, StatusCode::OK, "{url}");
        let expected = if url.contains(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        assert_eq!(asset.header(header::CONTENT_TYPE), expected, "{url}");
        assert_eq!(
            asset.header(header::CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        let name = url
            .trim_start_matches("/graphql/assets/")
            .split('?')
            .next()
            .unwrap();
        let on_disk = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("assets/graphiql")
                .join(name),
        )
        .unwrap();
        assert_eq!(asset.bytes, on_disk, "{name} is served as vendored");
        let not_modified = get(&app, url, &[("if-none-match", asset.header(header::ETAG))]).await;
        assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    }
    let missing = get(&app, "/graphql/assets/nope.js", &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.header(header::CONTENT_TYPE),
        "application/problem+json"
    );
}
