//! The web page at `/`.

use crate::helpers::*;

#[tokio::test]
async fn the_home_page_shows_programs_figures_timeline_documents_downloads_and_citation() {
    let (app, _db) = app_with("small").await;
    let reply = get(&app, "/").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), "text/html; charset=utf-8");
    assert!(
        reply
            .header("content-security-policy")
            .contains("default-src 'none'")
    );
    let html = reply.text();
    let release = get(&app, "/api/v1/releases").await.json()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for expected in [
        "Alpha ID",
        "Beta Town",
        "about 24,000",
        "more than 9,600",
        "19,000",
        "30 April 2018",
        "May 2015",
        "https://example.org/code",
        "Synthetic source B, with a comma — Test News",
        "/downloads/statistics.csv?release=",
        "bom=true",
        "the rule of 11",
    ] {
        assert!(html.contains(expected), "page lacks {expected:?}");
    }
    assert!(
        html.contains(&format!("release {release} (#1)")),
        "cites the release"
    );
    assert!(!html.contains("<script"), "readable without JavaScript");
    assert!(html.contains("<svg"), "charts are inline SVG");
    get(&app, "/?release=nope")
        .await
        .assert_problem(400, Some("release"));
    get(&app, "/?x=1").await.assert_problem(400, Some("x"));
}

#[tokio::test]
async fn html_in_the_data_is_escaped() {
    let test_db = fresh_db().await;
    let dir = fixture_copy("small");
    let text = std::fs::read_to_string(dir.path().join("events.csv")).unwrap();
    std::fs::write(
        dir.path().join("events.csv"),
        text.replace("Alpha launches", "<script>alert(1)</script>"),
    )
    .unwrap();
    import(&test_db.db, dir.path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let html = get(&app, "/").await.text();
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}
