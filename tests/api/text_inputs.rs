//! Control characters (NUL, escapes, DEL, C1) in any text input: a 400 naming the input,
//! on REST and GraphQL alike, never a 500 (PostgreSQL) or a wrong match (SQLite).

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::{Value, json};

use crate::helpers::*;

/// POST a GraphQL request; the whole response body.
async fn graphql(app: &axum::Router, body: Value) -> Value {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let reply = send(app, request).await;
    assert!(
        reply.status.is_success() || reply.status.is_client_error(),
        "{}: {}",
        reply.status,
        reply.text()
    );
    reply.json()
}

#[tokio::test]
async fn control_characters_in_query_parameters_are_400_naming_the_parameter() {
    let (app, _db) = app_with("small").await;
    let cases = [
        ("/api/v1/statistics?program=%00", "program"),
        ("/api/v1/statistics?program=alpha%00", "program"),
        ("/api/v1/statistics?metric=cards%00issued", "metric"),
        ("/api/v1/statistics?dimension=%1B%5B31m", "dimension"),
        ("/api/v1/statistics?category=all%7F", "category"),
        ("/api/v1/events?program=%C2%85", "program"),
        ("/api/v1/documents?program=alpha%0A", "program"),
        ("/api/v1/documents?q=%00", "q"),
        ("/api/v1/programs?release=%00", "release"),
        ("/api/v1/programs?cursor=%00", "cursor"),
        ("/api/v1/programs?format=json%00", "format"),
        ("/api/v1/programs/citykey?release=%09", "release"),
        ("/downloads?release=%00", "release"),
        ("/downloads/statistics.csv?release=%00", "release"),
        ("/?release=%00", "release"),
    ];
    for (uri, parameter) in cases {
        let detail = get(&app, uri).await.assert_problem(400, Some(parameter));
        assert!(detail.contains("control character"), "{uri}: {detail}");
    }
    // A control character in a parameter's name is refused the same way.
    let reply = get(&app, "/api/v1/programs?a%00b=1").await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.json()["parameter"], "a\u{0}b");
}

#[tokio::test]
async fn control_characters_in_path_ids_are_400_naming_the_segment() {
    let (app, _db) = app_with("small").await;
    let cases = [
        ("/api/v1/programs/%00", "slug"),
        ("/api/v1/programs/alpha%00", "slug"),
        ("/api/v1/statistics/%00", "id"),
        ("/api/v1/documents/x%1Fy", "id"),
        ("/api/v1/sources/%7F", "id"),
        ("/api/v1/releases/%00", "id"),
        ("/downloads/statistics%00.csv", "file"),
    ];
    for (uri, parameter) in cases {
        let detail = get(&app, uri).await.assert_problem(400, Some(parameter));
        assert!(detail.contains("control character"), "{uri}: {detail}");
    }
    // The same ids without the control character still answer.
    assert_eq!(get(&app, "/api/v1/programs/alpha").await.status, 200);
}

#[tokio::test]
async fn control_characters_in_graphql_arguments_are_errors_naming_the_argument() {
    let (app, _db) = app_with("small").await;
    let nul = "\u{0}";
    let cases = [
        (
            r#"query($v: String) { statistics(filter: { program: $v }) { totalCount } }"#,
            "program",
        ),
        (
            r#"query($v: String) { statistics(filter: { metric: $v }) { totalCount } }"#,
            "metric",
        ),
        (
            r#"query($v: String) { statistics(filter: { dimension: $v }) { totalCount } }"#,
            "dimension",
        ),
        (
            r#"query($v: String) { statistics(filter: { category: $v }) { totalCount } }"#,
            "category",
        ),
        (
            r#"query($v: String) { events(filter: { program: $v }) { totalCount } }"#,
            "program",
        ),
        (
            r#"query($v: String) { documents(filter: { program: $v }) { totalCount } }"#,
            "program",
        ),
        (
            r#"query($v: String) { documents(search: $v) { totalCount } }"#,
            "search",
        ),
        (
            r#"query($v: String) { programs(after: $v) { totalCount } }"#,
            "after",
        ),
        (
            r#"query($v: String) { metrics(release: $v) { totalCount } }"#,
            "release",
        ),
        (
            r#"query($v: String!) { program(slug: $v) { slug } }"#,
            "slug",
        ),
        (r#"query($v: String!) { source(id: $v) { id } }"#, "id"),
        (r#"query($v: String) { release(id: $v) { id } }"#, "id"),
        (
            r#"query($v: String) { program(slug: "alpha", release: $v) { slug } }"#,
            "release",
        ),
        (
            r#"query($v: String) { programs { nodes { statistics(filter: { program: $v }) { totalCount } } } }"#,
            "program",
        ),
        (
            r#"query($v: String) { programs { nodes { documents(search: $v) { totalCount } } } }"#,
            "search",
        ),
        (
            r#"query($v: String) { programs { nodes { events(after: $v) { totalCount } } } }"#,
            "after",
        ),
    ];
    for (query, parameter) in cases {
        for value in [nul.to_owned(), format!("alpha{nul}"), "\u{7f}".to_owned()] {
            let body = graphql(&app, json!({ "query": query, "variables": { "v": value } })).await;
            let error = &body["errors"][0];
            assert_eq!(
                error["extensions"]["parameter"], parameter,
                "{query} with {value:?}: {body}"
            );
            assert_eq!(error["extensions"]["status"], 400, "{query}: {body}");
            assert!(
                error["message"]
                    .as_str()
                    .unwrap()
                    .contains("control character"),
                "{body}"
            );
        }
    }
    // Inline in the query text (an escaped NUL in a string literal) as well.
    let body = graphql(
        &app,
        json!({ "query": r#"{ statistics(filter: { program: "alpha\u0000" }) { totalCount } }"# }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["parameter"], "program",
        "{body}"
    );
    // Plain text still works.
    let body = graphql(
        &app,
        json!({ "query": r#"{ statistics(filter: { program: "alpha" }) { totalCount } }"# }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
}
