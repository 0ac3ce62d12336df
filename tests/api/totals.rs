//! `X-Total-Count` (issue #14): every collection response, JSON and CSV, says how many
//! rows match its filters across all pages, as `meta.total` does.

use crate::helpers::*;

#[tokio::test]
async fn every_collection_gives_its_total_in_x_total_count_in_json_and_csv() {
    let test_db = fresh_db().await;
    import(&test_db.db, synthetic_fixture(25).path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    for uri in [
        "/api/v1/statistics?limit=10",
        "/api/v1/statistics?limit=10&program=alpha&sort=-value",
        "/api/v1/statistics?program=beta",
        "/api/v1/statistics/latest?limit=1",
        "/api/v1/statistics?limit=3&fields=id,value",
        "/api/v1/events",
        "/api/v1/events?program=alpha&limit=1",
        "/api/v1/documents?q=records",
        "/api/v1/programs?limit=1",
        "/api/v1/sources",
        "/api/v1/metrics",
    ] {
        let json = get(&app, uri).await;
        assert_eq!(json.status, 200, "{uri}");
        let total = json.json()["meta"]["total"].as_u64().unwrap();
        assert_eq!(json.header("x-total-count"), total.to_string(), "{uri}");
        let csv = get(
            &app,
            &format!(
                "{uri}{}format=csv",
                if uri.contains('?') { "&" } else { "?" }
            ),
        )
        .await;
        assert_eq!(
            csv.header("x-total-count"),
            total.to_string(),
            "{uri} as CSV"
        );
        // A cached answer says the same, and browsers may read it.
        let again = get_with(&app, uri, &[("origin", "https://example.org")]).await;
        assert_eq!(
            again.header("x-total-count"),
            total.to_string(),
            "{uri} cached"
        );
        assert!(
            again
                .header("access-control-expose-headers")
                .to_ascii_lowercase()
                .contains("x-total-count"),
            "{uri}: CORS exposes it"
        );
    }
    // The unfiltered statistics total (the stored-count fast path) is the row count.
    let all = get(&app, "/api/v1/statistics?limit=1").await;
    let rows = get(&app, "/api/v1/statistics?limit=1000").await.json()["data"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(all.header("x-total-count"), rows.to_string());
}
