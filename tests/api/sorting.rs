//! Sorting (issue #14): `sort=` over REST JSON and CSV, `orderBy` over GraphQL and the
//! browse page's column headers give the same rows in the same order, a page walk returns
//! every row exactly once under every sort, cursors are bound to their sort, and
//! suppressed figures sort last in an order that owes nothing to their hidden values.

use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::*;

/// The small fixture with `rows` synthetic daily totals over both programs, with many
/// ties in every sortable field (value, qualifier, status, program), so the tie-breaker
/// decides much of every order.
fn sortable_fixture(rows: usize) -> tempfile::TempDir {
    let dir = fixture_copy("small");
    let mut text = std::fs::read_to_string(dir.path().join("statistics.csv")).unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(1800, 1, 1).unwrap();
    let qualifiers = ["exact", "approximately", "at_least"];
    let statuses = ["reported", "estimated"];
    for i in 0..rows {
        let day = start + chrono::Days::new((i / 2) as u64);
        let program = ["alpha", "beta"][i % 2];
        text.push_str(&format!(
            "sorted-{:05},{program},cards_issued,{day},{day},total,all,{},{},cards,{},src-a,,in_period,none,\n",
            (i * 7919) % 100_000,
            100 + (i * 37) % 50,
            qualifiers[i % 3],
            statuses[(i / 5) % 2],
        ));
    }
    std::fs::write(dir.path().join("statistics.csv"), text).unwrap();
    dir
}

use crate::helpers::graphql_reply as graphql;

/// `field,-field` as a GraphQL `orderBy` list.
fn order_by(sort: &str) -> Value {
    if sort.is_empty() {
        return Value::Null;
    }
    sort.split(',')
        .map(|key| {
            let (direction, field) = match key.strip_prefix('-') {
                Some(field) => ("DESC", field),
                None => ("ASC", key),
            };
            json!({"field": field.to_ascii_uppercase(), "direction": direction})
        })
        .collect()
}

/// Every row of a REST JSON walk (following `links.next`), and the total it reports.
async fn rest_walk(app: &axum::Router, first: &str) -> (Vec<Value>, u64) {
    let mut rows = Vec::new();
    let mut url = Some(first.to_owned());
    let mut total = None;
    while let Some(u) = url {
        let reply = get(app, &u).await;
        assert_eq!(reply.status, 200, "{u}: {}", reply.text());
        let body = reply.json();
        total.get_or_insert(body["meta"]["total"].as_u64().unwrap());
        rows.extend(body["data"].as_array().unwrap().iter().cloned());
        url = body["links"]["next"].as_str().map(str::to_owned);
    }
    (rows, total.unwrap())
}

/// The ids of a REST CSV walk (following the `Link` header).
async fn csv_walk(app: &axum::Router, first: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut url = Some(first.to_owned());
    while let Some(u) = url {
        let reply = get(app, &u).await;
        assert_eq!(reply.status, 200, "{u}: {}", reply.text());
        let rows = parse_csv(&reply.text());
        let id = rows[0].iter().position(|h| h == "id").unwrap();
        ids.extend(rows[1..].iter().map(|r| r[id].clone()));
        url = reply
            .header("link")
            .strip_prefix('<')
            .and_then(|l| l.split_once('>'))
            .map(|(link, _)| link.to_owned());
    }
    ids
}

/// The ids of a GraphQL walk (following `endCursor`).
async fn graphql_walk(app: &axum::Router, filter: &Value, sort: &str) -> Vec<String> {
    let query = "query($f: StatisticFilter, $o: [StatisticOrder!], $after: String) {
      statistics(filter: $f, orderBy: $o, first: 400, after: $after) {
        pageInfo { hasNextPage endCursor } nodes { id } } }";
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let reply = graphql(
            app,
            query,
            json!({"f": filter, "o": order_by(sort), "after": after}),
        )
        .await;
        assert!(reply.get("errors").is_none(), "{sort}: {reply}");
        let connection = &reply["data"]["statistics"];
        ids.extend(
            connection["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_owned()),
        );
        if !connection["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return ids;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
}

/// Compare two JSON values of one field: numbers as numbers, text as bytes, null last.
fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::Number(x), Value::Number(y)) => x.as_i64().cmp(&y.as_i64()),
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        _ => panic!("cannot compare {a} and {b}"),
    }
}

/// The rows in canonical order, sorted by `sort` the slow way (a stable sort keeps the
/// canonical order for ties; nulls last in both directions).
fn brute_force(mut rows: Vec<Value>, sort: &str) -> Vec<String> {
    if !sort.is_empty() {
        rows.sort_by(|a, b| {
            for key in sort.split(',') {
                let (descending, field) = match key.strip_prefix('-') {
                    Some(field) => (true, field),
                    None => (false, key),
                };
                let (x, y) = (&a[field], &b[field]);
                let order = match (x.is_null(), y.is_null(), descending) {
                    (false, false, true) => compare(y, x),
                    _ => compare(x, y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
            Ordering::Equal
        });
    }
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

const SORTS: &[&str] = &[
    "",
    "value",
    "-value",
    "program,-period_start",
    "-qualifier,value",
    "status,-id",
    "-period_end,qualifier",
    "basis,-unit,-value",
];

#[tokio::test]
async fn every_sort_gives_the_same_rows_over_rest_csv_and_graphql_and_walks_each_row_once() {
    let test_db = fresh_db().await;
    import(&test_db.db, sortable_fixture(2500).path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let filters = [
        ("", json!({})),
        ("program=beta", json!({"program": "beta"})),
        (
            "from=1801-01-01&to=1803-12-31&status=estimated",
            json!({"from": "1801-01-01", "to": "1803-12-31", "status": "ESTIMATED"}),
        ),
        (
            "program=beta,alpha&qualifier=exact,at_least&suppressed=false",
            json!({"program": ["beta", "alpha"], "qualifier": ["EXACT", "AT_LEAST"], "suppressed": false}),
        ),
    ];
    for (rest_filter, filter) in &filters {
        let (canonical, _) = rest_walk(
            &app,
            &format!("/api/v1/statistics?limit=1000&{rest_filter}"),
        )
        .await;
        assert!(canonical.len() > 100, "{rest_filter} selects many rows");
        for sort in SORTS {
            let query = format!("limit=400&sort={sort}&{rest_filter}").replace("sort=&", "");
            let (rows, total) = rest_walk(&app, &format!("/api/v1/statistics?{query}")).await;
            let ids: Vec<String> = rows
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned())
                .collect();
            let what = format!("sort={sort:?} {rest_filter:?}");
            assert_eq!(
                ids.len() as u64,
                total,
                "{what}: the walk returns the total"
            );
            assert_eq!(
                ids.iter().collect::<HashSet<_>>().len(),
                ids.len(),
                "{what}: no row twice"
            );
            assert_eq!(
                ids,
                brute_force(canonical.clone(), sort),
                "{what}: the order is the sort's, ties in canonical order"
            );
            let csv = csv_walk(&app, &format!("/api/v1/statistics?format=csv&{query}")).await;
            assert_eq!(ids, csv, "{what}: REST JSON = CSV");
            assert_eq!(
                ids,
                graphql_walk(&app, filter, sort).await,
                "{what}: REST = GraphQL"
            );
        }
    }
}

#[tokio::test]
async fn every_collection_sorts_by_each_of_its_fields_like_graphql() {
    let (app, _db) = app_with("small").await;
    for (table, root, fields) in [
        (
            "programs",
            "programs",
            sanctuary_data::query::ProgramSortField::FIELDS,
        ),
        (
            "events",
            "events",
            sanctuary_data::query::EventSortField::FIELDS,
        ),
        (
            "documents",
            "documents",
            sanctuary_data::query::DocumentSortField::FIELDS,
        ),
        (
            "sources",
            "sources",
            sanctuary_data::query::SourceSortField::FIELDS,
        ),
        (
            "metrics",
            "metrics",
            sanctuary_data::query::MetricSortField::FIELDS,
        ),
        (
            "statistics",
            "statistics",
            sanctuary_data::query::StatisticSortField::FIELDS,
        ),
    ] {
        let key = if table == "programs" { "slug" } else { "id" };
        let (canonical, _) = rest_walk(&app, &format!("/api/v1/{table}")).await;
        for (field, _) in fields {
            for sort in [field.to_string(), format!("-{field}")] {
                let (rows, _) = rest_walk(&app, &format!("/api/v1/{table}?sort={sort}")).await;
                let ids: Vec<&str> = rows.iter().map(|r| r[key].as_str().unwrap()).collect();
                let mut expected = canonical.clone();
                for row in &mut expected {
                    row["id"] = row[key].clone();
                }
                assert_eq!(ids, brute_force(expected, &sort), "{table} sort={sort}");
                let gql = graphql(
                    &app,
                    &format!(
                        "query($o: [{}!]) {{ {root}(orderBy: $o) {{ nodes {{ {key} }} }} }}",
                        {
                            let mut name = table[..table.len() - 1].to_owned();
                            name[..1].make_ascii_uppercase();
                            format!("{name}Order")
                        }
                    ),
                    json!({"o": order_by(&sort)}),
                )
                .await;
                let gql_ids: Vec<&str> = gql["data"][root]["nodes"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{table} {sort}: {gql}"))
                    .iter()
                    .map(|n| n[key].as_str().unwrap())
                    .collect();
                assert_eq!(ids, gql_ids, "{table} sort={sort}: REST = GraphQL");
            }
        }
    }
}

#[tokio::test]
async fn a_cursor_continues_only_the_sort_it_was_issued_for() {
    let test_db = fresh_db().await;
    import(&test_db.db, synthetic_fixture(30).path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let page = get(&app, "/api/v1/statistics?sort=-value&limit=5")
        .await
        .json();
    let next = page["links"]["next"].as_str().unwrap().to_owned();
    assert!(next.contains("sort=-value"), "{next}");
    let cursor = next
        .split("cursor=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    for other in ["sort=value&", "sort=-value,id&", ""] {
        let detail = get(&app, &format!("/api/v1/statistics?{other}cursor={cursor}"))
            .await
            .assert_problem(400, Some("cursor"));
        assert!(detail.contains("-value"), "{detail}");
    }
    let plain = get(&app, "/api/v1/statistics?limit=5").await.json();
    let plain_next = plain["links"]["next"].as_str().unwrap();
    let plain_cursor = plain_next.split("cursor=").nth(1).unwrap();
    get(
        &app,
        &format!("/api/v1/statistics?sort=value&cursor={plain_cursor}"),
    )
    .await
    .assert_problem(400, Some("cursor"));

    // GraphQL: the same rule, naming `after`.
    let sorted = graphql(
        &app,
        "{ statistics(first: 5, orderBy: [{field: VALUE, direction: DESC}]) { pageInfo { endCursor } } }",
        json!({}),
    )
    .await;
    let end = sorted["data"]["statistics"]["pageInfo"]["endCursor"].clone();
    let reused = graphql(
        &app,
        "query($a: String) { statistics(first: 5, after: $a, orderBy: [{field: VALUE}]) { nodes { id } } }",
        json!({"a": end}),
    )
    .await;
    assert_eq!(
        reused["errors"][0]["extensions"]["parameter"], "after",
        "{reused}"
    );
    // And a GraphQL cursor continues the REST walk of the same sort.
    let rest_second = get(&app, &next).await.json();
    let gql_second = graphql(
        &app,
        "query($a: String) { statistics(first: 5, after: $a, orderBy: [{field: VALUE, direction: DESC}]) { nodes { id } } }",
        json!({"a": end}),
    )
    .await;
    let rest_ids: Vec<&str> = rest_second["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let gql_ids: Vec<&str> = gql_second["data"]["statistics"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rest_ids, gql_ids);
}

#[tokio::test]
async fn bad_sorts_are_400s_naming_sort() {
    let (app, _db) = app_with("small").await;
    for (uri, names) in [
        ("/api/v1/statistics?sort=nope", "nope"),
        ("/api/v1/statistics?sort=-", "\"\""),
        ("/api/v1/statistics?sort=value,", "\"\""),
        ("/api/v1/statistics?sort=--value", "-value"),
        ("/api/v1/statistics?sort=Value", "Value"),
        ("/api/v1/events?sort=value", "value"),
        ("/api/v1/metrics?sort=position", "position"),
        ("/browse/statistics?sort=source", "source"),
    ] {
        let detail = get(&app, uri).await.assert_problem(400, Some("sort"));
        assert!(detail.contains(names), "{uri}: {detail}");
        assert!(detail.contains("sortable fields"), "{uri}: {detail}");
    }
    // A field given twice counts once.
    let twice = get(&app, "/api/v1/statistics?sort=-value,value")
        .await
        .json();
    let once = get(&app, "/api/v1/statistics?sort=-value").await.json();
    assert_eq!(twice["data"], once["data"]);
    // GraphQL refuses an unknown field before running anything.
    let reply = graphql(
        &app,
        "{ statistics(orderBy: [{field: POSITION}]) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert!(
        reply["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("POSITION")
    );
}

/// The synthetic example with two suppressed cells' raw values swapped within their
/// breakdown (the breakdown still sums to its total, so the release is the same).
fn swapped_example() -> tempfile::TempDir {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/synthetic-breakdowns");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&example).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    let path = dir.path().join("statistics.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let (french, other) = (
        "q1-language-french,synthetic-city,cards_issued,2024-01-01,2024-03-31,language,french,9,",
        "q1-language-other,synthetic-city,cards_issued,2024-01-01,2024-03-31,language,other,6,",
    );
    assert!(
        text.contains(french) && text.contains(other),
        "the example has the two cells"
    );
    let swapped = text
        .replace(french, &french.replace(",9,", ",6,"))
        .replace(other, &other.replace(",6,", ",9,"));
    std::fs::write(&path, swapped).unwrap();
    dir
}

#[tokio::test]
async fn suppressed_figures_sort_last_in_an_order_their_hidden_values_do_not_change() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/synthetic-breakdowns");
    let original = fresh_db().await;
    import(&original.db, &example).await;
    let swapped_dir = swapped_example();
    let swapped = fresh_db().await;
    import(&swapped.db, swapped_dir.path()).await;
    let apps = [
        sanctuary_data::build_app(sanctuary_data::AppState::new(original.db.clone())),
        sanctuary_data::build_app(sanctuary_data::AppState::new(swapped.db.clone())),
    ];
    for sort in [
        "value",
        "-value",
        "dimension,value",
        "-value,-category",
        "-value,id",
    ] {
        for format in ["", "&format=csv"] {
            let uri = format!("/api/v1/statistics?limit=1000&sort={sort}{format}");
            let (a, b) = (get(&apps[0], &uri).await, get(&apps[1], &uri).await);
            assert_eq!(a.status, 200, "{uri}");
            assert_eq!(a.body, b.body, "{uri}: byte for byte the same");
        }
        let gql = "query($o: [StatisticOrder!]) { statistics(first: 1000, orderBy: $o) { nodes { id value suppressed } } }";
        let (a, b) = (
            graphql(&apps[0], gql, json!({"o": order_by(sort)})).await,
            graphql(&apps[1], gql, json!({"o": order_by(sort)})).await,
        );
        assert_eq!(a, b, "GraphQL orderBy {sort}");
        // Suppressed rows come after every published row, in both directions.
        let rows = get(
            &apps[0],
            &format!("/api/v1/statistics?limit=1000&sort={sort}"),
        )
        .await
        .json()["data"]
            .as_array()
            .unwrap()
            .clone();
        if sort.starts_with("dimension") {
            continue;
        }
        let first_suppressed = rows
            .iter()
            .position(|r| r["suppressed"] == true)
            .expect("the example has suppressed cells");
        assert!(
            rows[first_suppressed..]
                .iter()
                .all(|r| r["suppressed"] == true && r["value"].is_null()),
            "{sort}: suppressed rows last"
        );
        assert!(first_suppressed > 0);
    }
}

#[tokio::test]
async fn the_browse_page_sorts_by_its_column_headers() {
    let (app, _db) = app_with("small").await;
    let page = get(&app, "/browse/statistics?sort=-value").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    // The sorted column says so and links to the reverse order; others sort ascending.
    assert!(
        html.contains("<th scope=\"col\" aria-sort=\"descending\"><a class=\"sort\" href=\"/browse/statistics?sort=value\""),
        "{html}"
    );
    assert!(
        html.contains("href=\"/browse/statistics?sort=period_start\""),
        "{html}"
    );
    // Not sortable: a plain header.
    assert!(html.contains("<th scope=\"col\">source_url</th>"), "{html}");
    // The sort survives the filter form, and the rows are the API's, in its order.
    assert!(html.contains("<input type=\"hidden\" name=\"sort\" value=\"-value\">"));
    let api = get(&app, "/api/v1/statistics?sort=-value").await.json();
    let mut at = 0;
    for row in api["data"].as_array().unwrap() {
        let cell = format!("<td>{}</td>", row["id"].as_str().unwrap());
        at += html[at..]
            .find(&cell)
            .unwrap_or_else(|| panic!("{cell} in order"));
    }
}

/// The ids of a walk through `program(slug) { statistics(orderBy) }` (following `endCursor`).
async fn nested_walk(app: &axum::Router, program: &str, sort: &str) -> Vec<String> {
    let query = "query($p: String!, $o: [StatisticOrder!], $after: String) {
      program(slug: $p) { statistics(orderBy: $o, first: 300, after: $after) {
        pageInfo { hasNextPage endCursor } nodes { id } } } }";
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let reply = graphql(
            app,
            query,
            json!({"p": program, "o": order_by(sort), "after": after}),
        )
        .await;
        assert!(reply.get("errors").is_none(), "{sort}: {reply}");
        let connection = &reply["data"]["program"]["statistics"];
        ids.extend(
            connection["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_owned()),
        );
        if !connection["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return ids;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn nested_statistics_take_order_by_and_agree_with_the_root_field() {
    let test_db = fresh_db().await;
    import(&test_db.db, sortable_fixture(1200).path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    for program in ["alpha", "beta"] {
        for sort in SORTS {
            let nested = nested_walk(&app, program, sort).await;
            let root = graphql_walk(&app, &json!({"program": program}), sort).await;
            assert!(nested.len() > 500, "{program} {sort}");
            assert_eq!(nested, root, "{program} {sort}");
        }
    }
    // Nested events and documents take it too, and a cursor stays bound to its order.
    let reply = graphql(
        &app,
        "{ program(slug: \"alpha\") {
            events(orderBy: [{field: DATE, direction: DESC}]) { nodes { date } }
            documents(orderBy: [{field: TITLE}]) { nodes { title } }
            statistics(orderBy: [{field: VALUE}], first: 1) { pageInfo { endCursor } } } }",
        json!({}),
    )
    .await;
    assert!(reply.get("errors").is_none(), "{reply}");
    let dates: Vec<&str> = reply["data"]["program"]["events"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["date"].as_str().unwrap())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);
    let cursor = reply["data"]["program"]["statistics"]["pageInfo"]["endCursor"].clone();
    let reply = graphql(
        &app,
        "query($after: String) { program(slug: \"alpha\") { statistics(after: $after) { totalCount } } }",
        json!({"after": cursor}),
    )
    .await;
    assert_eq!(
        reply["errors"][0]["extensions"]["parameter"], "after",
        "{reply}"
    );
}
