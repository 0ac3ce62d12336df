//! Facets (issue #14): `/api/v1/{statistics,events,documents}/facets` and GraphQL's
//! `statisticFacets`, `eventFacets` and `documentFacets` count rows per value under the
//! collection's filters. Every count is checked against the collection itself: the
//! total is its `X-Total-Count`, each value's count is the `X-Total-Count` of the
//! collection narrowed to that value, and a brute-force count over every row of the
//! collection gives the same numbers; JSON, CSV and GraphQL agree, in the same order.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::helpers::*;

/// The small fixture with `rows` synthetic figures over both programs, spread over
/// several years (every tenth day from 1800), and with a second dimension's values.
fn facet_fixture(rows: usize) -> tempfile::TempDir {
    let dir = fixture_copy("small");
    let mut text = std::fs::read_to_string(dir.path().join("statistics.csv")).unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(1800, 1, 1).unwrap();
    let qualifiers = ["exact", "approximately", "at_least"];
    for i in 0..rows {
        let day = start + chrono::Days::new(10 * i as u64);
        let program = ["alpha", "beta", "alpha"][i % 3];
        text.push_str(&format!(
            "facet-{i:05},{program},cards_issued,{day},{day},total,all,{},{},cards,{},src-a,,{},none,\n",
            100 + i,
            qualifiers[i % 3],
            ["reported", "estimated"][(i / 7) % 2],
            ["in_period", "cumulative"][(i / 11) % 2],
        ));
    }
    std::fs::write(dir.path().join("statistics.csv"), text).unwrap();
    dir
}

/// The field of a row a facet counts (a year: the first four digits of the date).
fn row_value(row: &Value, facet: &str, date_field: &str) -> Option<String> {
    let value = if facet == "year" {
        &row[date_field]
    } else {
        &row[facet]
    };
    value.as_str().map(|text| {
        if facet == "year" {
            text[..4].to_owned()
        } else {
            text.to_owned()
        }
    })
}

/// Every row of `collection` under `filter` (one page of at most 1000).
async fn all_rows(app: &axum::Router, collection: &str, filter: &str) -> Vec<Value> {
    let page = get(
        app,
        &format!("/api/v1/{collection}?limit=1000{}", amp(filter)),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.text());
    let body = page.json();
    assert!(
        body["links"]["next"].is_null(),
        "the test data fit one page"
    );
    body["data"].as_array().unwrap().clone()
}

fn amp(filter: &str) -> String {
    if filter.is_empty() {
        String::new()
    } else {
        format!("&{filter}")
    }
}

/// One collection's facets under one filter, checked against the collection.
struct Case<'a> {
    collection: &'a str,
    /// The facet fields, as in `facet=`.
    facets: &'a [&'a str],
    /// The date field `year` is the year of.
    date_field: &'a str,
    /// The REST filter and the same filter as GraphQL input.
    filter: &'a str,
    graphql_filter: Value,
    /// The GraphQL root field.
    graphql_field: &'a str,
}

async fn check(app: &axum::Router, case: Case<'_>) {
    let Case {
        collection,
        facets,
        date_field,
        filter,
        graphql_filter,
        graphql_field,
    } = case;
    let spec = facets.join(",");
    let uri = format!("/api/v1/{collection}/facets?facet={spec}{}", amp(filter));
    let reply = get(app, &uri).await;
    assert_eq!(reply.status, 200, "{uri}: {}", reply.text());
    let body = reply.json();
    let data = &body["data"];

    // The total is the collection's X-Total-Count under the same filter.
    let collection_total = get(app, &format!("/api/v1/{collection}?limit=1{}", amp(filter)))
        .await
        .header("x-total-count")
        .to_owned();
    assert_eq!(data["total"].to_string(), collection_total, "{uri}");
    assert_eq!(reply.header("x-total-count"), collection_total, "{uri}");
    assert_eq!(
        body["meta"]["release"].as_str().unwrap(),
        reply.header("x-data-release")
    );

    // A brute-force count over every row of the collection.
    let rows = all_rows(app, collection, filter).await;
    assert_eq!(rows.len().to_string(), collection_total);
    let listed = data["facets"].as_array().unwrap();
    assert_eq!(listed.len(), facets.len(), "{uri}");
    for (facet, answer) in facets.iter().zip(listed) {
        assert_eq!(answer["facet"], *facet);
        assert_eq!(answer["other_count"], 0, "{uri}: few values");
        let mut expected: BTreeMap<Option<String>, u64> = BTreeMap::new();
        for row in &rows {
            *expected
                .entry(row_value(row, facet, date_field))
                .or_default() += 1;
        }
        let values = answer["values"].as_array().unwrap();
        let got: BTreeMap<Option<String>, u64> = values
            .iter()
            .map(|v| {
                (
                    v["value"].as_str().map(str::to_owned),
                    v["count"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, expected, "{uri}: {facet}");
        assert_eq!(got.len(), values.len(), "{uri}: each value once");
        // Most rows first, then by value (no value last).
        let order: Vec<(u64, Option<String>)> = values
            .iter()
            .map(|v| {
                (
                    v["count"].as_u64().unwrap(),
                    v["value"].as_str().map(str::to_owned),
                )
            })
            .collect();
        let mut sorted = order.clone();
        sorted.sort_by_key(|(count, value)| {
            (std::cmp::Reverse(*count), value.is_none(), value.clone())
        });
        assert_eq!(order, sorted, "{uri}: {facet} in order");

        // Each value's count is the collection's total narrowed to that value, where the
        // collection filters by the field.
        let filterable =
            !matches!(*facet, "year" | "unit" | "issuer") && !filter.contains(&format!("{facet}="));
        if filterable {
            for (value, count) in &got {
                let Some(value) = value.as_deref() else {
                    continue;
                };
                let narrowed = format!(
                    "/api/v1/{collection}?limit=1{}&{facet}={}",
                    amp(filter),
                    url_encode(value)
                );
                assert_eq!(
                    get(app, &narrowed).await.header("x-total-count"),
                    count.to_string(),
                    "{narrowed}"
                );
            }
        }
    }

    // CSV: facet,value,count, the same rows in the same order.
    let csv = get(app, &format!("{uri}&format=csv")).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("x-total-count"), collection_total);
    let table = parse_csv(&csv.text());
    assert_eq!(table[0], ["facet", "value", "count"]);
    let from_json: Vec<Vec<String>> = listed
        .iter()
        .flat_map(|f| {
            f["values"].as_array().unwrap().iter().map(move |v| {
                vec![
                    f["facet"].as_str().unwrap().to_owned(),
                    v["value"].as_str().unwrap_or_default().to_owned(),
                    v["count"].to_string(),
                ]
            })
        })
        .collect();
    assert_eq!(table[1..], from_json[..], "{uri} as CSV");

    // GraphQL: the same counts, in the same order.
    let enums: Vec<String> = facets.iter().map(|f| f.to_ascii_uppercase()).collect();
    let query = format!(
        "query($f: {}, $facets: [{}!]!) {{ {graphql_field}(filter: $f, facets: $facets) {{ total facets {{ facet otherCount values {{ value count }} }} }} }}",
        match collection {
            "statistics" => "StatisticFilter",
            "events" => "EventFilter",
            _ => "DocumentFilter",
        },
        match collection {
            "statistics" => "StatisticFacetField",
            "events" => "EventFacetField",
            _ => "DocumentFacetField",
        },
    );
    let reply = graphql_reply(app, &query, json!({"f": graphql_filter, "facets": enums})).await;
    assert!(reply["errors"].is_null(), "{reply}");
    let gql = &reply["data"][graphql_field];
    assert_eq!(gql["total"], data["total"], "{uri} over GraphQL");
    for (g, r) in gql["facets"].as_array().unwrap().iter().zip(listed) {
        assert_eq!(g["facet"], r["facet"]);
        assert_eq!(g["otherCount"], r["other_count"]);
        assert_eq!(g["values"], r["values"], "{uri} over GraphQL");
    }
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn statistic_facets_count_the_rows_the_collection_returns() {
    let test_db = fresh_db().await;
    import(&test_db.db, facet_fixture(300).path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    for (filter, graphql_filter) in [
        ("", json!({})),
        ("program=alpha", json!({"program": ["alpha"]})),
        (
            "qualifier=exact,at_least&from=1800-06-01&to=1804-12-31",
            json!({"qualifier": ["EXACT", "AT_LEAST"], "from": "1800-06-01", "to": "1804-12-31"}),
        ),
        ("status=estimated", json!({"status": ["ESTIMATED"]})),
        ("program=nobody", json!({"program": ["nobody"]})),
    ] {
        check(
            &app,
            Case {
                collection: "statistics",
                facets: &["program", "year", "qualifier", "basis"],
                date_field: "period_start",
                filter,
                graphql_filter: graphql_filter.clone(),
                graphql_field: "statisticFacets",
            },
        )
        .await;
        check(
            &app,
            Case {
                collection: "statistics",
                facets: &["metric", "status", "unit", "dimension"],
                date_field: "period_start",
                filter,
                graphql_filter,
                graphql_field: "statisticFacets",
            },
        )
        .await;
    }
}

/// A suppressed figure is a row: it counts as one (its value hidden), exactly as the
/// collection lists it; no count depends on a hidden value.
#[tokio::test]
async fn suppressed_figures_count_as_rows_and_nothing_more() {
    let test_db = fresh_db().await;
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/synthetic-breakdowns");
    import(&test_db.db, &example).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let suppressed = get(&app, "/api/v1/statistics?suppressed=true&limit=1").await;
    assert_ne!(
        suppressed.header("x-total-count"),
        "0",
        "the example has suppressed cells"
    );
    for (filter, graphql_filter) in [
        ("", json!({})),
        ("suppressed=true", json!({"suppressed": true})),
        ("suppressed=false", json!({"suppressed": false})),
    ] {
        check(
            &app,
            Case {
                collection: "statistics",
                facets: &["dimension", "category", "year", "qualifier"],
                date_field: "period_start",
                filter,
                graphql_filter,
                graphql_field: "statisticFacets",
            },
        )
        .await;
    }
}

#[tokio::test]
async fn event_and_document_facets_count_the_rows_the_collections_return() {
    let test_db = fresh_db().await;
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data");
    import(&test_db.db, &seed).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    for (filter, graphql_filter) in [
        ("", json!({})),
        ("program=citykey", json!({"program": ["citykey"]})),
        (
            "from=2019-01-01&to=2025-12-31",
            json!({"from": "2019-01-01", "to": "2025-12-31"}),
        ),
    ] {
        check(
            &app,
            Case {
                collection: "events",
                facets: &["program", "kind", "year"],
                date_field: "date",
                filter,
                graphql_filter: graphql_filter.clone(),
                graphql_field: "eventFacets",
            },
        )
        .await;
        check(
            &app,
            Case {
                collection: "documents",
                facets: &["year", "kind", "program", "issuer"],
                date_field: "published_on",
                filter,
                graphql_filter,
                graphql_field: "documentFacets",
            },
        )
        .await;
    }
    // Undated documents count under no year (null; an empty CSV cell), never 0 or a guess.
    let rows = all_rows(&app, "documents", "").await;
    let undated = rows.iter().filter(|r| r["published_on"].is_null()).count();
    let years = get(&app, "/api/v1/documents/facets?facet=year")
        .await
        .json();
    let none = years["data"]["facets"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["value"].is_null())
        .map(|v| v["count"].as_u64().unwrap() as usize)
        .unwrap_or(0);
    assert_eq!(none, undated);
}

#[tokio::test]
async fn bad_facet_requests_are_400s_naming_the_parameter() {
    let (app, _db) = app_with("small").await;
    for (uri, parameter) in [
        ("/api/v1/statistics/facets", "facet"),
        ("/api/v1/statistics/facets?facet=value", "facet"),
        ("/api/v1/statistics/facets?facet=program,", "facet"),
        (
            "/api/v1/statistics/facets?facet=suppression_reason",
            "facet",
        ),
        (
            "/api/v1/statistics/facets?facet=program,metric,year,unit,status",
            "facet",
        ),
        ("/api/v1/events/facets?facet=title", "facet"),
        ("/api/v1/documents/facets?facet=url", "facet"),
        (
            "/api/v1/statistics/facets?facet=program&sort=program",
            "sort",
        ),
        ("/api/v1/statistics/facets?facet=program&limit=5", "limit"),
        (
            "/api/v1/statistics/facets?facet=program&program=",
            "program",
        ),
        (
            "/api/v1/statistics/facets?facet=program&status=bogus",
            "status",
        ),
        (
            "/api/v1/events/facets?facet=year&from=2020-01-01&to=2019-01-01",
            "from",
        ),
        (
            "/api/v1/statistics/facets?facet=program&facet=year",
            "facet",
        ),
    ] {
        let detail = get(&app, uri).await.assert_problem(400, Some(parameter));
        assert!(!detail.is_empty(), "{uri}");
    }
    let detail = get(&app, "/api/v1/statistics/facets?facet=valu")
        .await
        .assert_problem(400, Some("facet"));
    assert!(
        detail.contains("\"valu\"") && detail.contains("program"),
        "{detail}"
    );
    // A field given twice counts once.
    let twice = get(&app, "/api/v1/statistics/facets?facet=program,program").await;
    assert_eq!(twice.status, 200);
    assert_eq!(twice.json()["data"]["facets"].as_array().unwrap().len(), 1);

    for (query, parameter) in [
        ("{ statisticFacets(facets: []) { total } }", "facets"),
        (
            "{ statisticFacets(facets: [PROGRAM, METRIC, YEAR, UNIT, STATUS]) { total } }",
            "facets",
        ),
        (
            "{ eventFacets(facets: [YEAR], filter: {from: \"2020-01-01\", to: \"2019-01-01\"}) { total } }",
            "from",
        ),
    ] {
        let reply = graphql_reply(&app, query, json!({})).await;
        assert_eq!(
            reply["errors"][0]["extensions"]["parameter"], parameter,
            "{query}: {reply}"
        );
    }
    // Each facets field counts as up to 6 database queries: 7 aliases are refused before
    // anything runs.
    let many: String = (0..7)
        .map(|i| format!("f{i}: statisticFacets(facets: [PROGRAM]) {{ total }} "))
        .collect();
    let reply = graphql_reply(&app, &format!("{{ {many} }}"), json!({})).await;
    assert!(
        reply["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("MAX_DB_QUERIES"),
        "{reply}"
    );
    let six: String = (0..6)
        .map(|i| format!("f{i}: statisticFacets(facets: [PROGRAM]) {{ total }} "))
        .collect();
    let reply = graphql_reply(&app, &format!("{{ {six} }}"), json!({})).await;
    assert!(reply["errors"].is_null(), "{reply}");
}

/// The unfiltered facets and the totals of pages filtered on one facet field are read from
/// the counts stored at import (`release_facets`), which equal what counting gives: the
/// same filters with a period window that keeps every row (which forces counting). Counts
/// tampered with show (so they are what is read), and counts missing (a release imported
/// before they were stored) are counted again by `serve`'s start-up step.
#[tokio::test]
async fn facet_counts_stored_at_import_equal_the_counts_and_are_what_is_read() {
    use sanctuary_data::entity::release_facet;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let test_db = fresh_db().await;
    let db = &test_db.db;
    import(db, facet_fixture(300).path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(db.clone()));
    let total = |app: axum::Router, uri: String| async move {
        let reply = get(&app, &uri).await;
        assert_eq!(reply.status, 200, "{uri}: {}", reply.text());
        reply.header("x-total-count").to_owned()
    };
    // One facet field: read from the stored counts; with `from`, counted.
    for filter in [
        "program=alpha",
        "program=beta,alpha,beta,nobody",
        "metric=cards_issued",
        "dimension=total",
        "category=all",
        "status=estimated",
        "basis=cumulative",
        "qualifier=exact,at_least",
        "program=nobody",
    ] {
        let read = total(app.clone(), format!("/api/v1/statistics?limit=1&{filter}")).await;
        let counted = total(
            app.clone(),
            format!("/api/v1/statistics?limit=1&from=0001-01-01&{filter}"),
        )
        .await;
        assert_eq!(read, counted, "{filter}");
    }
    for filter in ["program=alpha", "kind=launch,launch", "program=nobody"] {
        let read = total(app.clone(), format!("/api/v1/events?limit=1&{filter}")).await;
        let counted = total(
            app.clone(),
            format!("/api/v1/events?limit=1&from=0001-01-01&{filter}"),
        )
        .await;
        assert_eq!(read, counted, "events {filter}");
    }
    let facets = |app: axum::Router, uri: &'static str| async move {
        let reply = get(&app, uri).await;
        assert_eq!(reply.status, 200, "{uri}: {}", reply.text());
        reply.json()["data"].clone()
    };
    const STORED: &str = "/api/v1/statistics/facets?facet=program,year,basis,qualifier";
    const COUNTED: &str =
        "/api/v1/statistics/facets?facet=program,year,basis,qualifier&from=0001-01-01";
    let stored = facets(app.clone(), STORED).await;
    assert_eq!(stored, facets(app.clone(), COUNTED).await);
    let stored_documents = facets(
        app.clone(),
        "/api/v1/documents/facets?facet=year,kind,program,issuer",
    )
    .await;

    // Tampered: the stored counts are what is read.
    release_facet::Entity::update_many()
        .col_expr(
            release_facet::Column::RowCount,
            sea_orm::sea_query::Expr::value(1_000_000i64),
        )
        .filter(release_facet::Column::TableName.eq("statistics"))
        .filter(release_facet::Column::Field.is_in(["program", "year", "basis", "qualifier"]))
        .filter(release_facet::Column::Value.eq("alpha"))
        .exec(db)
        .await
        .unwrap();
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(db.clone()));
    let tampered = facets(app.clone(), STORED).await;
    assert_eq!(tampered["facets"][0]["values"][0]["value"], "alpha");
    assert_eq!(tampered["facets"][0]["values"][0]["count"], 1_000_000);
    assert_eq!(
        total(
            app.clone(),
            "/api/v1/statistics?limit=1&program=alpha".into()
        )
        .await,
        "1000000"
    );

    // Missing (an older release): counted again at start-up, the same as at import.
    release_facet::Entity::delete_many().exec(db).await.unwrap();
    assert_eq!(
        sanctuary_data::seed::record_missing_facets(db)
            .await
            .unwrap(),
        1
    );
    assert_ne!(release_facet::Entity::find().count(db).await.unwrap(), 0);
    assert_eq!(
        sanctuary_data::seed::record_missing_facets(db)
            .await
            .unwrap(),
        0,
        "counted once"
    );
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(db.clone()));
    assert_eq!(facets(app.clone(), STORED).await, stored);
    assert_eq!(
        facets(
            app.clone(),
            "/api/v1/documents/facets?facet=year,kind,program,issuer"
        )
        .await,
        stored_documents
    );
}

/// A facet value may be kilobytes of text (a document's issuer takes up to 10,000
/// characters): its count is stored and read like any other. Keyed by the value, it was
/// more than a PostgreSQL index entry holds, and the import failed.
#[tokio::test]
async fn a_long_facet_value_is_counted_and_stored() {
    let dir = fixture_copy("small");
    let path = dir.path().join("documents.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    // Text that does not compress (PostgreSQL compresses index entries).
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let long: String = (0..6000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'a' + (state % 26) as u8)
        })
        .collect();
    std::fs::write(&path, text.replacen("Alpha Council", &long, 1)).unwrap();
    let test_db = fresh_db().await;
    import(&test_db.db, dir.path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let facets = get(&app, "/api/v1/documents/facets?facet=issuer").await;
    assert_eq!(facets.status, 200, "{}", facets.text());
    let values = facets.json()["data"]["facets"][0]["values"].clone();
    assert!(
        values
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["value"] == long.as_str() && v["count"] == 1),
        "{values}"
    );
}
