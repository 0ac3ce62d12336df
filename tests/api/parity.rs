//! One truth: the same filter gives the same rows, in the same order, with the same
//! numbers over REST JSON, CSV and GraphQL — suppressed statistics included.

use serde_json::{Value, json};

use crate::helpers::*;

/// POST a GraphQL query and return `data`, failing on errors.
async fn graphql(app: &axum::Router, query: &str, variables: Value) -> Value {
    let request = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"query": query, "variables": variables}).to_string(),
        ))
        .unwrap();
    let reply = send(app, request).await;
    let body = reply.json();
    assert!(body.get("errors").is_none(), "GraphQL errors: {body}");
    body["data"].clone()
}

/// The comparable fields of a statistic, from REST JSON.
fn rest_row(item: &Value) -> Vec<String> {
    vec![
        item["id"].as_str().unwrap().to_owned(),
        item["period_start"].as_str().unwrap().to_owned(),
        item["dimension"].as_str().unwrap().to_owned(),
        item["category"].as_str().unwrap().to_owned(),
        item["value"]
            .as_i64()
            .map(|v| v.to_string())
            .unwrap_or_default(),
        item["suppressed"].as_bool().unwrap().to_string(),
        item["suppression_reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        item["qualifier"].as_str().unwrap().to_owned(),
        item["source"]["url"].as_str().unwrap().to_owned(),
    ]
}

/// The same fields from GraphQL (enums come back in SCREAMING_CASE).
fn graphql_row(node: &Value) -> Vec<String> {
    vec![
        node["id"].as_str().unwrap().to_owned(),
        node["periodStart"].as_str().unwrap().to_owned(),
        node["dimension"].as_str().unwrap().to_owned(),
        node["category"].as_str().unwrap().to_owned(),
        node["value"]
            .as_i64()
            .map(|v| v.to_string())
            .unwrap_or_default(),
        node["suppressed"].as_bool().unwrap().to_string(),
        node["suppressionReason"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        node["qualifier"].as_str().unwrap().to_ascii_lowercase(),
        node["source"]["url"].as_str().unwrap().to_owned(),
    ]
}

/// The same fields from CSV.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let rows = parse_csv(text);
    let header = &rows[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    rows[1..]
        .iter()
        .map(|r| {
            [
                "id",
                "period_start",
                "dimension",
                "category",
                "value",
                "suppressed",
                "suppression_reason",
                "qualifier",
                "source_url",
            ]
            .iter()
            .map(|name| r[col(name)].clone())
            .collect()
        })
        .collect()
}

const STATISTICS: &str = r#"query($filter: StatisticFilter, $first: Int) {
  statistics(filter: $filter, first: $first) {
    totalCount
    edges { node { id periodStart dimension category value suppressed suppressionReason qualifier source { url } } }
  }
}"#;

#[tokio::test]
async fn statistics_agree_over_rest_csv_and_graphql_including_suppressed_cells() {
    let test_db = fresh_db().await;
    import(
        &test_db.db,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/synthetic-breakdowns"),
    )
    .await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let filters = [
        ("", json!({})),
        ("dimension=channel", json!({"dimension": "channel"})),
        (
            "dimension=ward&from=2024-01-01&to=2024-03-31",
            json!({"dimension": "ward", "from": "2024-01-01", "to": "2024-03-31"}),
        ),
        (
            "program=synthetic-city&metric=cards_issued&category=all",
            json!({"program": "synthetic-city", "metric": "cards_issued", "category": "all"}),
        ),
        ("from=2024-04-01", json!({"from": "2024-04-01"})),
    ];
    let mut suppressed_seen = 0;
    for (rest_query, filter) in filters {
        let rest = get(&app, &format!("/api/v1/statistics?limit=1000&{rest_query}"))
            .await
            .json();
        let rest_rows: Vec<Vec<String>> = rest["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(rest_row)
            .collect();
        let csv = get(
            &app,
            &format!("/api/v1/statistics?limit=1000&format=csv&{rest_query}"),
        )
        .await
        .text();
        let gql = graphql(&app, STATISTICS, json!({"filter": filter, "first": 1000})).await;
        let gql_rows: Vec<Vec<String>> = gql["statistics"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| graphql_row(&e["node"]))
            .collect();
        assert!(!rest_rows.is_empty(), "{rest_query} selects rows");
        assert_eq!(
            rest_rows,
            csv_rows(&csv),
            "REST JSON vs CSV for {rest_query:?}"
        );
        assert_eq!(
            rest_rows, gql_rows,
            "REST JSON vs GraphQL for {rest_query:?}"
        );
        assert_eq!(rest["meta"]["total"], gql["statistics"]["totalCount"]);
        for row in &rest_rows {
            if row[5] == "true" {
                suppressed_seen += 1;
                assert_eq!(row[4], "", "a suppressed value is empty, never 0");
            }
        }
    }
    assert!(
        suppressed_seen > 0,
        "the comparison covered suppressed cells"
    );
}

#[tokio::test]
async fn events_and_documents_agree_over_rest_csv_and_graphql() {
    let (app, _db) = app_with("small").await;
    for (rest_query, filter) in [
        ("", json!({})),
        ("program=alpha", json!({"program": "alpha"})),
        ("kind=launch", json!({"kind": "LAUNCH"})),
        (
            "from=2018-01-01&to=2020-01-01",
            json!({"from": "2018-01-01", "to": "2020-01-01"}),
        ),
    ] {
        let rest = get(&app, &format!("/api/v1/events?{rest_query}"))
            .await
            .json();
        let csv = parse_csv(
            &get(&app, &format!("/api/v1/events?format=csv&{rest_query}"))
                .await
                .text(),
        );
        let gql = graphql(&app, "query($f: EventFilter) { events(filter: $f) { edges { node { id date title source { url } } } } }", json!({"f": filter})).await;
        let rest_rows: Vec<(String, String, String)> = rest["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["id"].as_str().unwrap().into(),
                    e["date"].as_str().unwrap().into(),
                    e["source"]["url"].as_str().unwrap().into(),
                )
            })
            .collect();
        let csv_rows: Vec<(String, String, String)> = csv[1..]
            .iter()
            .map(|r| (r[0].clone(), r[2].clone(), r[9].clone()))
            .collect();
        let gql_rows: Vec<(String, String, String)> = gql["events"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["node"]["id"].as_str().unwrap().into(),
                    e["node"]["date"].as_str().unwrap().into(),
                    e["node"]["source"]["url"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(rest_rows, csv_rows, "events {rest_query:?}");
        assert_eq!(rest_rows, gql_rows, "events {rest_query:?}");
    }
    for (rest_query, search) in [("q=records", "records"), ("q=MUNICIPAL", "MUNICIPAL")] {
        let rest = get(&app, &format!("/api/v1/documents?{rest_query}"))
            .await
            .json();
        let gql = graphql(
            &app,
            "query($s: String) { documents(search: $s) { edges { node { id url } } } }",
            json!({"s": search}),
        )
        .await;
        let rest_ids: Vec<&str> = rest["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        let gql_ids: Vec<&str> = gql["documents"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["node"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(rest_ids, gql_ids, "documents {rest_query:?}");
        assert_eq!(rest_ids.len(), 1);
    }
}
