//! GraphQL: arguments and pagination.

use super::*;

#[tokio::test]
async fn first_outside_1_to_1000_is_an_error_naming_first_and_the_range() {
    let (app, _db) = app_with("small").await;
    for (field, first) in [
        ("statistics", 0),
        ("events", 1001),
        ("documents", -1),
        ("programs", 1001),
    ] {
        let error = first_error(
            &app,
            &format!("{{ {field}(first: {first}) {{ totalCount }} }}"),
        )
        .await;
        assert_eq!(
            error["message"],
            format!("first must be between 1 and 1000, got {first}"),
            "{error}"
        );
        assert_eq!(error["extensions"]["parameter"], "first");
        assert_eq!(error["path"], json!([field]));
    }
    // Nested fields check the same range, with the same message.
    let error = first_error(
        &app,
        r#"{ program(slug: "alpha") { events(first: 0) { totalCount } } }"#,
    )
    .await;
    assert_eq!(error["message"], "first must be between 1 and 1000, got 0");
    assert_eq!(error["extensions"]["parameter"], "first");
    // 1 and 1000 themselves are fine.
    data(
        &app,
        "{ a: events(first: 1) { totalCount } b: events(first: 1000) { totalCount } }",
    )
    .await;
}

#[tokio::test]
async fn malformed_cursors_dates_and_searches_name_their_argument() {
    let (app, _db) = app_with("small").await;
    let cases = [
        (
            r#"{ events(after: "not-a-cursor") { totalCount } }"#,
            "after",
        ),
        (
            r#"{ events(filter: { from: "2020-01-01", to: "2019-01-01" }) { totalCount } }"#,
            "from",
        ),
        (
            r#"{ statistics(filter: { from: "2024-01-01", to: "2023-01-01" }) { totalCount } }"#,
            "from",
        ),
        (r#"{ documents(search: "") { totalCount } }"#, "search"),
        (
            r#"{ program(slug: "alpha") { documents(filter: { from: "2020-01-02", to: "2020-01-01" }) { totalCount } } }"#,
            "from",
        ),
        (
            r#"{ program(slug: "alpha") { statistics(after: "bad") { totalCount } } }"#,
            "after",
        ),
    ];
    for (query, parameter) in cases {
        let error = first_error(&app, query).await;
        assert_eq!(
            error["extensions"]["parameter"], parameter,
            "{query}: {error}"
        );
        assert_eq!(error["extensions"]["status"], 400, "{query}: {error}");
    }
    let long = "x".repeat(201);
    let error = first_error(
        &app,
        &format!(r#"{{ documents(search: "{long}") {{ totalCount }} }}"#),
    )
    .await;
    assert_eq!(error["message"], "search must be at most 200 characters");
    let error = first_error(
        &app,
        r#"{ events(filter: { from: "2020-13-01" }) { totalCount } }"#,
    )
    .await;
    assert!(
        error["message"].as_str().unwrap().contains("NaiveDate"),
        "dates are ISO 8601: {error}"
    );
}

/// Every GraphQL error carries the problem `type` and `status` REST would give: resolver
/// errors (an `ApiError`) and the errors async-graphql raises before any resolver runs
/// (an argument that is not of its type, an unknown field, a document that does not parse).
#[tokio::test]
async fn every_graphql_error_carries_a_problem_type_and_status() {
    let (app, _db) = app_with("small").await;
    let cases = [
        (
            r#"{ events(filter: { from: "2020-13-01" }) { totalCount } }"#,
            400,
        ),
        (r#"{ statistics(first: "ten") { totalCount } }"#, 400),
        (r#"{ noSuchField }"#, 400),
        (r#"{ events { "#, 400),
        (
            r#"{ program(slug: "alpha") { statistics(after: "bad") { totalCount } } }"#,
            400,
        ),
        (
            r#"{ statistics(release: "0000000000000000000000000000000000000000000000000000000000000000") { totalCount } }"#,
            404,
        ),
    ];
    for (query, status) in cases {
        let error = first_error(&app, query).await;
        let problem = error["extensions"]["type"].as_str().unwrap_or_default();
        assert!(
            problem.starts_with("urn:sanctuary-data:problem:"),
            "{query}: {error}"
        );
        assert_eq!(error["extensions"]["status"], status, "{query}: {error}");
    }
}

/// Follow `endCursor` with `first: 1` until `hasNextPage` is false.
async fn walk(app: &Router, field: &str, wrap: impl Fn(&str) -> String) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..20 {
        let args = match &after {
            Some(cursor) => format!(r#"first: 1, after: "{cursor}""#),
            None => "first: 1".to_owned(),
        };
        let selection = format!(
            "{field}({args}) {{ totalCount edges {{ cursor node {{ id }} }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }}"
        );
        let data = data(app, &wrap(&selection)).await;
        let connection = find_connection(&data);
        let edges = connection["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 1, "{connection}");
        let info = &connection["pageInfo"];
        assert_eq!(info["startCursor"], edges[0]["cursor"]);
        assert_eq!(info["endCursor"], edges[0]["cursor"]);
        assert_eq!(info["hasPreviousPage"], after.is_some());
        seen.push(edges[0]["node"]["id"].as_str().unwrap().to_owned());
        if info["hasNextPage"] == false {
            return seen;
        }
        after = Some(info["endCursor"].as_str().unwrap().to_owned());
    }
    panic!("the walk did not end: {seen:?}");
}

fn find_connection(value: &Value) -> &Value {
    if value.get("edges").is_some() {
        return value;
    }
    value
        .as_object()
        .and_then(|o| o.values().find(|v| v.is_object()))
        .map(find_connection)
        .unwrap_or_else(|| panic!("no connection in {value}"))
}

#[tokio::test]
async fn a_pagination_walk_returns_every_row_once_in_order() {
    let (app, test_db) = app_with("small").await;
    let release = latest_release(&test_db.db).await;
    let all = query::list_events(
        &test_db.db,
        &release,
        &Default::default(),
        PageRequest {
            limit: 100,
            after: 0,
            sort: query::Sort::CANONICAL,
        },
    )
    .await
    .unwrap();
    let expected: Vec<String> = all.items.iter().map(|e| e.id.clone()).collect();
    assert_eq!(expected.len(), 3);
    assert_eq!(
        walk(&app, "events", |s| format!("{{ {s} }}")).await,
        expected
    );

    let statistics = walk(&app, "statistics", |s| format!("{{ {s} }}")).await;
    assert_eq!(statistics.len(), 3);
    let mut unique = statistics.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 3, "no row twice: {statistics:?}");

    // Nested connections page the same way.
    assert_eq!(
        walk(&app, "events", |s| format!(
            r#"{{ program(slug: "alpha") {{ {s} }} }}"#
        ))
        .await,
        vec!["alpha-launch", "alpha-pause"]
    );
}

#[tokio::test]
async fn edge_cursors_are_the_rest_keyset_cursors() {
    let (app, test_db) = app_with("small").await;
    let release = latest_release(&test_db.db).await;
    let page = query::list_documents(
        &test_db.db,
        &release,
        &Default::default(),
        PageRequest {
            limit: 100,
            after: 0,
            sort: query::Sort::CANONICAL,
        },
    )
    .await
    .unwrap();
    let data = data(&app, "{ documents { edges { cursor } } }").await;
    let cursors: Vec<String> = page
        .positions
        .iter()
        .map(|&position| {
            query::Cursor {
                release: release.clone(),
                position,
                sort: String::new(),
            }
            .encode()
        })
        .collect();
    let got: Vec<&str> = data["documents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cursor"].as_str().unwrap())
        .collect();
    assert_eq!(got, cursors);
}

/// GraphQL `statistics` returns exactly what the query layer returns for the same filter.
#[tokio::test]
async fn graphql_statistics_are_exactly_the_query_layer_rows() {
    let (app, test_db) = app_with("small").await;
    let release = latest_release(&test_db.db).await;
    let filters = [
        ("{}", query::StatisticFilter::default()),
        (
            r#"{ program: "alpha" }"#,
            query::StatisticFilter {
                program: vec!["alpha".into()],
                ..Default::default()
            },
        ),
        (
            r#"{ from: "2016-01-01", to: "2022-06-30", metric: "cards_issued" }"#,
            query::StatisticFilter {
                metric: vec!["cards_issued".into()],
                period: query::DateRange::new(
                    Some("2016-01-01".parse().unwrap()),
                    Some("2022-06-30".parse().unwrap()),
                )
                .unwrap(),
                ..Default::default()
            },
        ),
    ];
    for (graphql_filter, filter) in filters {
        for first in [1u64, 2, 100] {
            let page = query::list_statistics(
                &test_db.db,
                &release,
                &filter,
                PageRequest {
                    limit: first,
                    after: 0,
                    sort: query::Sort::CANONICAL,
                },
            )
            .await
            .unwrap();
            let data = data(
                &app,
                &format!(
                    "{{ statistics(filter: {graphql_filter}, first: {first}) {{ totalCount \
                     pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ id program \
                     periodStart periodEnd dimension category value suppressed suppressionReason \
                     unit note source {{ id title publisher url }} metric {{ id }} }} }} }} }}"
                ),
            )
            .await;
            let connection = &data["statistics"];
            assert_eq!(connection["totalCount"], page.total);
            assert_eq!(connection["pageInfo"]["hasNextPage"], page.next.is_some());
            let end = page.positions.last().map(|&position| {
                query::Cursor {
                    release: release.clone(),
                    position,
                    sort: String::new(),
                }
                .encode()
            });
            assert_eq!(connection["pageInfo"]["endCursor"].as_str(), end.as_deref());
            let expected: Vec<Value> = page
                .items
                .iter()
                .zip(&page.positions)
                .map(|(s, &position)| {
                    json!({
                        "cursor": query::Cursor { release: release.clone(), position, sort: String::new() }.encode(),
                        "node": {
                            "id": s.id, "program": s.program,
                            "periodStart": s.period_start.to_string(),
                            "periodEnd": s.period_end.to_string(),
                            "dimension": s.dimension, "category": s.category, "value": s.value,
                            "suppressed": s.suppressed, "suppressionReason": s.suppression_reason,
                            "unit": s.unit, "note": s.note,
                            "source": { "id": s.source.id, "title": s.source.title,
                                        "publisher": s.source.publisher, "url": s.source.url },
                            "metric": { "id": s.metric },
                        }
                    })
                })
                .collect();
            assert_eq!(
                connection["edges"],
                Value::Array(expected),
                "filter {graphql_filter}, first {first}"
            );
        }
    }
}
