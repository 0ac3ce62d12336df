//! Hostile GraphQL: requests built to crash, stall or starve the service. Each must be
//! refused (a 4xx or a GraphQL error) within a generous time bound, and the service must
//! answer a normal query afterwards.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::*;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
/// Generous: a refusal is expected in milliseconds; this only proves "does not hang".
const BOUND: Duration = Duration::from_secs(10);

/// Status and body (JSON when it parses, else a string) of a request, which must be
/// answered within [`BOUND`].
async fn send(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let work = async {
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, body)
    };
    tokio::time::timeout(BOUND, work)
        .await
        .unwrap_or_else(|_| panic!("no answer within {BOUND:?}"))
}

/// POST a raw JSON body asking for `application/graphql-response+json`.
async fn post_raw(app: &Router, body: String) -> (StatusCode, Value) {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, GRAPHQL_RESPONSE)
        .body(Body::from(body))
        .unwrap();
    send(app, request).await
}

async fn post(app: &Router, body: Value) -> (StatusCode, Value) {
    post_raw(app, body.to_string()).await
}

/// GET `/graphql` with these (unencoded) parameters.
async fn get_graphql(app: &Router, params: &[(&str, &str)]) -> (StatusCode, Value) {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let request = Request::get(format!("/graphql?{query}"))
        .header(header::ACCEPT, GRAPHQL_RESPONSE)
        .body(Body::empty())
        .unwrap();
    send(app, request).await
}

/// The request was refused: a 4xx with GraphQL errors and no data. Returns the first
/// error message.
#[track_caller]
fn assert_refused((status, body): &(StatusCode, Value)) -> String {
    assert!(status.is_client_error(), "{status}: {body}");
    assert!(body.get("data").is_none(), "{body}");
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no GraphQL error: {body}"))
        .to_owned()
}

/// A normal query still works.
async fn assert_still_serving(app: &Router) {
    let (status, body) = post(app, json!({ "query": "{ programs { totalCount } }" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    assert!(body["data"]["programs"]["totalCount"].as_u64().unwrap() > 0);
}

fn nested(open: &str, close: &str, depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

#[tokio::test]
async fn a_list_nested_1500_deep_in_an_argument_is_refused_over_post_and_get() {
    let (app, _db) = app_with("small").await;
    // 1 500 deep (3 KB) killed the release binary, 3 000 a debug build (stack overflow).
    for bomb in [
        format!("{{ __typename(x: {}) }}", nested("[", "]", 3000, "1")),
        format!("{{ __typename(x: {}) }}", nested("[", "]", 1500, "1")),
        format!("{{ __typename(x: {}) }}", nested("{a: ", "}", 1500, "1")),
        format!("{{ __typename(x: {}) }}", nested("[", "]", 12_000, "1")),
        format!(
            "{{ programs(filter: {}) {{ totalCount }} }}",
            nested("[", "]", 3000, "")
        ),
    ] {
        assert!(bomb.len() < 30 * 1024, "a small request");
        let message = assert_refused(&post(&app, json!({ "query": bomb })).await);
        assert!(message.contains("nested"), "{message}");
        // Over GET too (what an `<img src>` on any web page can send), when the URL fits.
        if bomb.len() * 3 < 30 * 1024 {
            let message = assert_refused(&get_graphql(&app, &[("query", &bomb)]).await);
            assert!(message.contains("nested"), "{message}");
        }
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn nesting_bombs_in_selections_fragments_directives_and_variable_defaults_are_refused() {
    let (app, _db) = app_with("small").await;
    let bombs = [
        // Selection sets.
        format!("{{ {} }}", nested("a { ", "}", 1500, "b ")),
        // A fragment's selection set.
        format!(
            "{{ ...F }} fragment F on Query {{ {} }}",
            nested("a { ", "}", 1500, "b ")
        ),
        // Inline fragments.
        format!(
            "{{ {} }}",
            nested("... on Query { ", "}", 1500, "__typename ")
        ),
        // A directive's argument.
        format!(
            "{{ __typename @include(if: {}) }}",
            nested("[", "]", 1500, "true")
        ),
        // A variable's default value.
        format!(
            "query($x: [Int] = {}) {{ __typename }}",
            nested("[", "]", 1500, "1")
        ),
        // A variable's type.
        format!(
            "query($x: {}) {{ __typename }}",
            nested("[", "]", 1500, "Int")
        ),
        // Unbalanced: only opening brackets.
        format!("{{ __typename(x: {}", "[".repeat(20_000)),
    ];
    for bomb in &bombs {
        let message = assert_refused(&post(&app, json!({ "query": bomb })).await);
        assert!(!message.is_empty());
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn brackets_inside_strings_and_comments_do_not_count_as_nesting() {
    let (app, _db) = app_with("small").await;
    let deep = "[".repeat(5_000);
    let query = format!(
        "# {deep}\n{{ documents(search: \"{}\") {{ totalCount }} s: sources(filter: {{}}) {{ totalCount }} }}",
        &deep[..150]
    );
    let (status, body) = post(&app, json!({ "query": query })).await;
    // The search is refused as too long by the resolver, not as nested: it was read.
    assert_eq!(status, StatusCode::OK, "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(!message.contains("nested"), "{body}");
    let block = format!("{{ __typename(x: \"\"\"{deep} \\\"\"\" {deep}\"\"\") }}");
    let (_, body) = post(&app, json!({ "query": block })).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(!message.contains("nested"), "{body}");
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn deeply_nested_json_variables_are_refused_over_post_and_get() {
    let (app, _db) = app_with("small").await;
    let query = "query($f: StatisticFilter) { statistics(filter: $f) { totalCount } }";
    for depth in [200, 100_000 / 4] {
        let variables = nested("{\"a\":", "}", depth, "1");
        let body = format!(
            "{{\"query\":{},\"variables\":{{\"f\":{variables}}}}}",
            json!(query)
        );
        if body.len() <= 32 * 1024 {
            assert_refused(&post_raw(&app, body).await);
        }
        let list = nested("[", "]", depth, "1");
        if list.len() <= 30 * 1024 {
            assert_refused(
                &get_graphql(
                    &app,
                    &[
                        ("query", query),
                        ("variables", &format!("{{\"f\":{list}}}")),
                    ],
                )
                .await,
            );
            assert_refused(&get_graphql(&app, &[("query", query), ("extensions", &list)]).await);
        }
    }
    // Just under serde_json's limit: read, then an error (not the expected type).
    let variables = format!("{{\"f\":{}}}", nested("[", "]", 120, "1"));
    let (status, body) = post_raw(
        &app,
        format!("{{\"query\":{},\"variables\":{variables}}}", json!(query)),
    )
    .await;
    assert!(
        status.is_client_error() || body["errors"][0]["message"].is_string(),
        "{body}"
    );
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn fragment_cycles_are_refused() {
    let (app, _db) = app_with("small").await;
    for query in [
        "{ ...A } fragment A on Query { ...A }",
        "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
        "{ programs { ...C } } fragment C on ProgramConnection { nodes { __typename } ...D } fragment D on ProgramConnection { ...C }",
    ] {
        // Refused by async-graphql's recursion bound, before validation reports the cycle.
        let message = assert_refused(&post(&app, json!({ "query": query })).await);
        assert!(
            message.contains("recursion depth") || message.to_lowercase().contains("cycle"),
            "{message}"
        );
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn alias_and_directive_floods_are_refused() {
    let (app, _db) = app_with("small").await;
    // Thousands of cheap aliases.
    let typenames: String = (0..3000).map(|i| format!("a{i}: __typename ")).collect();
    assert_refused(&post(&app, json!({ "query": format!("{{ {typenames} }}") })).await);
    // Many root fields, each its own database queries.
    let counts: String = (0..249)
        .map(|i| format!("a{i}: statistics {{ totalCount }} "))
        .collect();
    let message = assert_refused(&post(&app, json!({ "query": format!("{{ {counts} }}") })).await);
    assert!(message.contains("database queries"), "{message}");
    // Directives on one field, and on many.
    let flood = "@include(if: true) ".repeat(2000);
    assert_refused(
        &post(
            &app,
            json!({ "query": format!("{{ __typename {flood} }}") }),
        )
        .await,
    );
    let many: String = (0..1000)
        .map(|i| format!("a{i}: __typename @skip(if: false) @include(if: true) "))
        .collect();
    assert_refused(&post(&app, json!({ "query": format!("{{ {many} }}") })).await);
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn huge_requests_variables_and_batches_are_refused() {
    let (app, _db) = app_with("small").await;
    // A body over the limit.
    let big = "x".repeat(200 * 1024);
    let (status, _) = post(
        &app,
        json!({ "query": "{ __typename }", "variables": { "v": big } }),
    )
    .await;
    assert!(status.is_client_error(), "{status}");
    // Many variables within the size limit.
    let variables: serde_json::Map<String, Value> =
        (0..2000).map(|i| (format!("v{i}"), json!(i))).collect();
    let (status, body) = post(
        &app,
        json!({ "query": "{ __typename }", "variables": variables }),
    )
    .await;
    assert!(
        status.is_success() || status.is_client_error(),
        "{status}: {body}"
    );
    // Many declared variables.
    let declared: String = (0..2000).map(|i| format!("$v{i}: Int ")).collect();
    assert_refused(
        &post(
            &app,
            json!({ "query": format!("query({declared}) {{ __typename }}") }),
        )
        .await,
    );
    // Batches.
    let batch: Vec<Value> = (0..100)
        .map(|_| json!({ "query": "{ __typename }" }))
        .collect();
    let (status, _) = post(&app, Value::Array(batch)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Many operations in one document.
    let operations: String = (0..1000)
        .map(|i| format!("query Q{i} {{ programs {{ totalCount }} }} "))
        .collect();
    assert_refused(&post(&app, json!({ "query": operations })).await);
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn introspection_abuse_is_refused() {
    let (app, _db) = app_with("small").await;
    // A deep `ofType` chain.
    let chain = format!(
        "{{ __type(name: \"Query\") {{ {} }} }}",
        nested("ofType { ", "}", 60, "name ")
    );
    assert_refused(&post(&app, json!({ "query": chain })).await);
    // Wide and deep: every type's fields' types' fields…
    let wide = "{ __schema { types { fields { type { fields { type { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } } } } }";
    let (status, body) = post(&app, json!({ "query": wide })).await;
    assert!(
        status == StatusCode::OK || status.is_client_error(),
        "{status}: {body}"
    );
    // Many aliased `__schema`s.
    let schemas: String = (0..300)
        .map(|i| format!("s{i}: __schema {{ types {{ name fields {{ name }} }} }} "))
        .collect();
    assert_refused(&post(&app, json!({ "query": format!("{{ {schemas} }}") })).await);
    assert_still_serving(&app).await;
}

/// The longest run of one character in a text.
fn longest_run(text: &str, c: char) -> usize {
    text.split(|x| x != c).map(str::len).max().unwrap_or(0)
}

#[tokio::test]
async fn errors_repeat_at_most_a_hundred_characters_of_the_request() {
    let (app, _db) = app_with("small").await;
    let long = "a".repeat(20_000);
    let answers = vec![
        post(&app, json!({ "query": format!("{{ {long} }}") })).await,
        post(
            &app,
            json!({ "query": format!("query(${long}: Int!) {{ releases {{ id }} }}") }),
        )
        .await,
        post(
            &app,
            json!({ "query": format!("query($x: {long}) {{ releases {{ id }} }}") }),
        )
        .await,
        post(
            &app,
            json!({ "query": format!("{{ releases {{ id }} {long} {{") }),
        )
        .await,
        post(
            &app,
            json!({ "query": "{ releases { id } }", "operationName": long }),
        )
        .await,
        post(
            &app,
            json!({ "query": "query($s: Int!) { statistics(first: $s) { totalCount } }",
                    "variables": { "s": long } }),
        )
        .await,
        post_raw(&app, format!("\"{long}\"")).await,
        post_raw(
            &app,
            format!(r#"{{"query": "{{ __typename }}", "variables": "{long}"}}"#),
        )
        .await,
        get_graphql(
            &app,
            &[
                ("query", "{ __typename }"),
                ("variables", &format!("\"{long}\"")),
            ],
        )
        .await,
    ];
    for (i, (status, body)) in answers.iter().enumerate() {
        let text = body.to_string();
        assert!(
            status.is_client_error() || body.get("errors").is_some(),
            "case {i}: {status}"
        );
        assert!(text.len() < 4_000, "case {i}: {} bytes", text.len());
        assert!(longest_run(&text, 'a') <= 100, "case {i}: {text}");
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_flood_of_errors_is_listed_up_to_a_limit() {
    let (app, _db) = app_with("small").await;
    // 3 000 unused, repeated variable definitions: thousands of validation errors.
    let variables: String = (0..3000).map(|_| "$a: Int ").collect();
    let answer = post(
        &app,
        json!({ "query": format!("query({variables}) {{ __typename }}") }),
    )
    .await;
    assert_refused(&answer);
    let errors = answer.1["errors"].as_array().unwrap();
    assert!(errors.len() <= 21, "{} errors", errors.len());
    assert!(
        errors.last().unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("more errors"),
        "the last error counts the ones left out"
    );
    assert!(answer.1.to_string().len() < 20_000);
    assert_still_serving(&app).await;
}

// ---------------------------------------------------------------------------------------
// Starving the database

/// Add `rows` copies of one statistic (new ids and positions) to the latest release, in
/// one statement that SQLite and PostgreSQL both run.
async fn add_synthetic_statistics(db: &sea_orm::DatabaseConnection, rows: usize) {
    use sea_orm::ConnectionTrait;
    let columns = "release_id, id, position, program, metric, period_start, period_end, \
                   dimension, category, value, suppressed, suppression_reason, qualifier, \
                   unit, status, source_id, note";
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
         INSERT INTO statistics ({columns}) \
         SELECT s.release_id, 'synthetic-' || n.i, 1000000 + n.i, s.program, s.metric, \
                s.period_start, s.period_end, s.dimension, s.category, s.value, s.suppressed, \
                s.suppression_reason, s.qualifier, s.unit, s.status, s.source_id, s.note \
         FROM n, (SELECT * FROM statistics WHERE NOT suppressed ORDER BY position LIMIT 1) s"
    );
    db.execute_unprepared(&sql).await.unwrap();
}

/// The most expensive queries the limits accept (`MAX_DB_QUERIES` is 40): as many
/// root lists as allowed, each the largest page with its `totalCount`; and three nested
/// lists with different filters (each reads every matching row of the programs) next to
/// a root list.
fn most_expensive_accepted_queries() -> [String; 2] {
    let roots: String = (0..8)
        .map(|i| {
            format!(
                "s{i}: statistics(first: 1000, filter: {{program: \"alpha\"}}) \
                 {{ totalCount nodes {{ id periodStart value }} }} "
            )
        })
        .collect();
    let nested = "{ programs { nodes { \
          a: statistics(first: 1, filter: {dimension: \"total\"}) { totalCount } \
          b: statistics(first: 1, filter: {category: \"all\"}) { totalCount } \
          c: statistics(first: 1) { totalCount } } } \
        s: statistics(first: 1000) { totalCount nodes { id } } }";
    [format!("{{ {roots} }}"), nested.to_owned()]
}

/// POST a query, without [`BOUND`] (a slow but accepted query on a debug build).
async fn post_unbounded(app: &Router, query: &str) -> (StatusCode, Value) {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "query": query }).to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// The query of the report: 249 aliased `totalCount`s.
fn alias_flood() -> String {
    let fields: String = (0..249)
        .map(|i| format!("a{i}: statistics {{ totalCount }} "))
        .collect();
    format!("{{ {fields} }}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_clients_looping_expensive_queries_leave_rest_and_readyz_answering() {
    let (app, test_db) = app_with("small").await;
    add_synthetic_statistics(&test_db.db, 50_000).await;
    // The most expensive accepted queries are accepted, and answer within the bound.
    for query in most_expensive_accepted_queries() {
        let started = Instant::now();
        let (status, body) = tokio::time::timeout(BOUND * 6, post_unbounded(&app, &query))
            .await
            .expect("answered");
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        eprintln!("an expensive accepted query alone: {:?}", started.elapsed());
    }

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attackers: Vec<_> = (0..2)
        .map(|_| {
            let app = app.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut sent = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let [roots, nested] = most_expensive_accepted_queries();
                    for query in [roots, nested, alias_flood()] {
                        // A new comment each time: a different document, so the response
                        // cache never answers for the database.
                        let query = format!("{query}\n# {sent}");
                        let request = Request::post("/graphql")
                            .header(header::CONTENT_TYPE, "application/json")
                            .body(Body::from(json!({ "query": query }).to_string()))
                            .unwrap();
                        let response = app.clone().oneshot(request).await.unwrap();
                        let _ = response.into_body().collect().await;
                        sent += 1;
                    }
                }
                sent
            })
        })
        .collect();

    // Meanwhile, a normal client: `/readyz` and a REST page, one after the other.
    let mut latencies = Vec::new();
    let until = Instant::now() + Duration::from_secs(6);
    let mut round = 0;
    while Instant::now() < until {
        round += 1;
        let started = Instant::now();
        let ready = get_with(&app, "/readyz", &[]).await;
        assert_eq!(ready.status, StatusCode::OK, "/readyz: {}", ready.text());
        // A different page size each time, so no response cache answers for the database.
        let page = get_with(
            &app,
            &format!("/api/v1/statistics?program=alpha&limit={}", 1 + round % 100),
            &[],
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "REST: {}", page.text());
        latencies.push(started.elapsed());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut sent = 0;
    for attacker in attackers {
        sent += tokio::time::timeout(BOUND * 3, attacker)
            .await
            .expect("the attackers finish")
            .unwrap();
    }
    latencies.sort();
    let p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];
    eprintln!(
        "{} rounds of /readyz + REST under attack ({sent} attacking requests): \
         median {:?}, p99 {p99:?}, max {:?}",
        latencies.len(),
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
    // The flood of the report is refused, naming the limit.
    let message = assert_refused(&post(&app, json!({ "query": alias_flood() })).await);
    assert!(message.contains("MAX_DB_QUERIES"), "{message}");
    assert_still_serving(&app).await;
}

/// A connection to the same database whose statements are counted.
fn counting(db: &sea_orm::DatabaseConnection) -> (Router, std::sync::Arc<AtomicUsize>) {
    let mut db = db.clone();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    (
        sanctuary_data::build_app(sanctuary_data::AppState::new(db)),
        count,
    )
}

#[tokio::test]
async fn the_database_query_estimate_bounds_the_statements_a_query_runs() {
    let (_, test_db) = app_with("small").await;
    // Each query with the estimate of the limits (see `MAX_DB_QUERIES`).
    let cases = [
        ("{ __schema { types { name } } __typename }", 0),
        ("{ statistics { totalCount } }", 5),
        (
            "{ programs(first: 1000) { nodes { statistics { nodes { metric { id } } } \
               events { totalCount } documents { totalCount } } } }",
            5 + 10 + 1 + 10 + 10,
        ),
        (
            "{ program(slug: \"alpha\") { events { totalCount } } releases { id } \
               release { id } source(id: \"src-a\") { id } }",
            3 + 10 + 1 + 1 + 2,
        ),
        (
            "{ a: statistics(first: 1000) { totalCount nodes { id } } \
               b: statistics { totalCount } metrics { totalCount } \
               sources { totalCount } events { totalCount } \
               documents(search: \"x\") { totalCount } }",
            4 * 5 + 2 * 3,
        ),
        (
            "{ ...S p: programs { nodes { name } } } \
             fragment S on Query { s: statistics { nodes { id } } }",
            5 + 5,
        ),
        (
            "{ statisticFacets(facets: [PROGRAM, METRIC, YEAR, UNIT]) { total } \
               eventFacets(facets: [KIND], q: \"a\") { total } \
               documentFacets(facets: [YEAR, ISSUER]) { total } }",
            3 * 6,
        ),
    ];
    for (query, estimate) in cases {
        let (app, count) = counting(&test_db.db);
        let (status, body) = post(&app, json!({ "query": query })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("errors").is_none(), "{query}: {body}");
        let statements = count.load(Ordering::SeqCst);
        assert!(
            statements <= estimate,
            "{query}: {statements} statements, estimated {estimate}"
        );
    }
}

#[tokio::test]
async fn every_postgresql_statement_has_a_deadline() {
    use sea_orm::ConnectionTrait;
    let test_db = fresh_db().await;
    if test_db.db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return; // SQLite has no server-side deadline (see `db::STATEMENT_TIMEOUT`).
    }
    let timeout = sanctuary_data::db::STATEMENT_TIMEOUT;
    let row = test_db
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT current_setting('statement_timeout') AS t",
        ))
        .await
        .unwrap()
        .unwrap();
    let setting: String = row.try_get("", "t").unwrap();
    assert_eq!(setting, format!("{}s", timeout.as_secs()));
    // A statement running longer is cancelled by the server, in about that time.
    let started = Instant::now();
    let slow = test_db
        .db
        .execute_unprepared(&format!("SELECT pg_sleep({})", timeout.as_secs() * 4))
        .await;
    assert!(started.elapsed() < timeout * 3, "{:?}", started.elapsed());
    // …and answered as "unavailable" (a 503), not as an internal error.
    let error = sanctuary_data::error::ApiError::from(slow.expect_err("cancelled"));
    assert!(
        matches!(error, sanctuary_data::error::ApiError::Unavailable),
        "{error:?}"
    );
}
