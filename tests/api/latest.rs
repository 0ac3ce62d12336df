//! Latest figures (issue #14): `/api/v1/statistics/latest` and GraphQL `latestStatistics`
//! give, for each (program, metric, dimension, category), the row with the latest
//! `period_end` under the filters (ties: the latest `period_start`, then canonical
//! order), checked against a brute-force computation over the canonical rows; REST JSON,
//! CSV and GraphQL agree; suppressed rows can be the latest and stay suppressed.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::*;

const BASE: &str = "2020-01-01";

/// The small fixture with 30 series (2 programs × 3 metrics × total and 4 channels), 100
/// rows each: ten week-long blocks, each published by day, by its two halves (3 and 4
/// days) and whole, so three periods of different lengths end on each block's last day
/// (ties on `period_end`). The importer's rules shape it: periods of one metric nest
/// exactly (each longer period tiled by shorter ones), one basis per metric, and never
/// two rows of one series with the same period (so the canonical-order tie-break cannot be
/// reached here).
fn series_fixture() -> tempfile::TempDir {
    let dir = fixture_copy("small");
    let metrics = dir.path().join("metrics.csv");
    let mut text = std::fs::read_to_string(&metrics).unwrap();
    for metric in ["renewals", "replacements", "reissues"] {
        text.push_str(&format!("{metric},{metric},Synthetic metric.,cards\n"));
    }
    std::fs::write(&metrics, text).unwrap();
    let mut text = std::fs::read_to_string(dir.path().join("statistics.csv")).unwrap();
    let base = chrono::NaiveDate::parse_from_str(BASE, "%Y-%m-%d").unwrap();
    let cells = [
        ("total", "all"),
        ("channel", "in_person"),
        ("channel", "online"),
        ("channel", "mobile_event"),
        ("channel", "mail"),
    ];
    // (first day, last day) within a block of seven.
    let mut periods: Vec<(u64, u64)> = (0..7).map(|d| (d, d)).collect();
    periods.extend([(0, 2), (3, 6), (0, 6)]);
    // Additive values (the importer checks that breakdowns add up to totals and periods to
    // the periods they tile): a channel's count on a day, summed over days and channels.
    let daily =
        |series: u64, channel: u64, day: u64| 100 + (series * 7 + channel * 13 + day * 31) % 50;
    let mut i = 0;
    for block in 0..10u64 {
        for (first, last) in &periods {
            for (p, program) in ["alpha", "beta"].into_iter().enumerate() {
                for (m, metric) in ["renewals", "replacements", "reissues"]
                    .into_iter()
                    .enumerate()
                {
                    for (c, (dimension, category)) in cells.into_iter().enumerate() {
                        let series = (p * 3 + m) as u64;
                        let days = block * 7 + first..=block * 7 + last;
                        let channels = if c == 0 { 1..=4 } else { c as u64..=c as u64 };
                        let value: u64 = days
                            .flat_map(|d| channels.clone().map(move |k| (k, d)))
                            .map(|(k, d)| daily(series, k, d))
                            .sum();
                        let start = base + chrono::Days::new(block * 7 + first);
                        let end = base + chrono::Days::new(block * 7 + last);
                        text.push_str(&format!(
                            "latest-{i:05},{program},{metric},{start},{end},{dimension},{category},{value},exact,cards,estimated,src-a,,in_period,none,\n",
                        ));
                        i += 1;
                    }
                }
            }
        }
    }
    std::fs::write(dir.path().join("statistics.csv"), text).unwrap();
    dir
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
        assert_eq!(
            reply.header("x-total-count"),
            body["meta"]["total"].to_string()
        );
        rows.extend(body["data"].as_array().unwrap().iter().cloned());
        url = body["links"]["next"].as_str().map(str::to_owned);
    }
    (rows, total.unwrap())
}

/// The latest row of each series, the slow way: `rows` in canonical order; the latest
/// `period_end`, then the latest `period_start`, then the first in canonical order. In
/// canonical order.
fn brute_force(rows: &[Value]) -> Vec<String> {
    let mut best: HashMap<(String, String, String, String), usize> = HashMap::new();
    let text = |row: &Value, field: &str| row[field].as_str().unwrap().to_owned();
    for (i, row) in rows.iter().enumerate() {
        let series = (
            text(row, "program"),
            text(row, "metric"),
            text(row, "dimension"),
            text(row, "category"),
        );
        let later = |held: usize| {
            let held = &rows[held];
            (text(row, "period_end"), text(row, "period_start"))
                > (text(held, "period_end"), text(held, "period_start"))
        };
        match best.get(&series) {
            Some(&held) if !later(held) => {}
            _ => {
                best.insert(series, i);
            }
        }
    }
    let mut chosen: Vec<usize> = best.into_values().collect();
    chosen.sort_unstable();
    chosen.into_iter().map(|i| text(&rows[i], "id")).collect()
}

fn ids_of(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

const LATEST: &str = "query($f: StatisticFilter, $o: [StatisticOrder!], $after: String) {
  latestStatistics(filter: $f, orderBy: $o, first: 7, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id value suppressed periodEnd } } }";

/// The ids of a GraphQL `latestStatistics` walk, its total, and the suppressed ids seen.
async fn graphql_walk(
    app: &axum::Router,
    filter: &Value,
    order: &Value,
) -> (Vec<String>, u64, Vec<String>) {
    let mut ids = Vec::new();
    let mut suppressed = Vec::new();
    let mut after = Value::Null;
    loop {
        let reply = graphql_reply(
            app,
            LATEST,
            json!({"f": filter, "o": order, "after": after}),
        )
        .await;
        assert!(reply.get("errors").is_none(), "{filter}: {reply}");
        let connection = &reply["data"]["latestStatistics"];
        for node in connection["nodes"].as_array().unwrap() {
            let id = node["id"].as_str().unwrap().to_owned();
            if node["suppressed"].as_bool().unwrap() {
                assert!(node["value"].is_null(), "{id} shows no value");
                suppressed.push(id.clone());
            }
            ids.push(id);
        }
        if !connection["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return (ids, connection["totalCount"].as_u64().unwrap(), suppressed);
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
}

/// Check `/statistics/latest?{rest_filter}` against the brute force over
/// `/statistics?{rest_filter}`, over REST JSON (walked in small pages), CSV and GraphQL;
/// returns the latest rows.
async fn check_latest(app: &axum::Router, rest_filter: &str, filter: &Value) -> Vec<Value> {
    let (all, _) = rest_walk(app, &format!("/api/v1/statistics?limit=1000&{rest_filter}")).await;
    let expected = brute_force(&all);
    let (latest, total) = rest_walk(
        app,
        &format!("/api/v1/statistics/latest?limit=7&{rest_filter}"),
    )
    .await;
    assert_eq!(ids_of(&latest), expected, "{rest_filter}");
    assert_eq!(total as usize, expected.len(), "{rest_filter}");
    let csv = get(
        app,
        &format!("/api/v1/statistics/latest?limit=1000&format=csv&{rest_filter}"),
    )
    .await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert_eq!(csv.header("x-total-count"), total.to_string());
    let rows = parse_csv(&csv.text());
    let id = rows[0].iter().position(|h| h == "id").unwrap();
    let value = rows[0].iter().position(|h| h == "value").unwrap();
    let csv_ids: Vec<String> = rows[1..].iter().map(|r| r[id].clone()).collect();
    assert_eq!(csv_ids, expected, "CSV {rest_filter}");
    for (row, json_row) in rows[1..].iter().zip(&latest) {
        let shown = json_row["value"]
            .as_i64()
            .map(|v| v.to_string())
            .unwrap_or_default();
        assert_eq!(row[value], shown, "CSV value of {}", row[id]);
    }
    let (graphql_ids, graphql_total, _) = graphql_walk(app, filter, &Value::Null).await;
    assert_eq!(graphql_ids, expected, "GraphQL {filter}");
    assert_eq!(graphql_total, total);
    latest
}

#[tokio::test]
async fn latest_figures_match_a_brute_force_computation_over_every_interface() {
    let test_db = fresh_db().await;
    import(&test_db.db, series_fixture().path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let filters = [
        ("", json!({})),
        ("program=beta", json!({"program": "beta"})),
        ("to=2020-01-29", json!({"to": "2020-01-29"})),
        ("to=2020-02-17", json!({"to": "2020-02-17"})),
        (
            "metric=renewals,replacements&dimension=channel",
            json!({"metric": ["renewals", "replacements"], "dimension": "channel"}),
        ),
        ("basis=cumulative", json!({"basis": "CUMULATIVE"})),
        (
            "from=2020-03-08&to=2020-03-09&program=alpha",
            json!({"from": "2020-03-08", "to": "2020-03-09", "program": "alpha"}),
        ),
        (
            "from=2020-02-20&category=all,online",
            json!({"from": "2020-02-20", "category": ["all", "online"]}),
        ),
    ];
    for (rest_filter, filter) in &filters {
        let latest = check_latest(&app, rest_filter, filter).await;
        assert!(!latest.is_empty(), "{rest_filter}");
    }
    // One latest figure per series: the latest day, and of the five periods ending then,
    // the shortest.
    let (latest, _) = rest_walk(
        &app,
        "/api/v1/statistics/latest?limit=1000&program=alpha&metric=renewals",
    )
    .await;
    assert_eq!(latest.len(), 5, "one per (dimension, category)");
    for row in &latest {
        assert_eq!(row["period_end"], "2020-03-10");
        assert_eq!(row["period_start"], "2020-03-10");
    }
}

#[tokio::test]
async fn a_suppressed_figure_can_be_the_latest_and_stays_suppressed() {
    let test_db = fresh_db().await;
    import(
        &test_db.db,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/synthetic-breakdowns"),
    )
    .await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let latest = check_latest(&app, "", &json!({})).await;
    let suppressed: Vec<&Value> = latest
        .iter()
        .filter(|r| r["suppressed"].as_bool().unwrap())
        .collect();
    assert!(
        !suppressed.is_empty(),
        "the example's latest figures include suppressed cells"
    );
    for row in &suppressed {
        assert!(row["value"].is_null(), "{row}");
    }
    // Only published values: the latest published figure of each series.
    let published = check_latest(&app, "suppressed=false", &json!({"suppressed": false})).await;
    assert!(published.iter().all(|r| !r["value"].is_null()));
    check_latest(&app, "dimension=channel", &json!({"dimension": "channel"})).await;
}

#[tokio::test]
async fn latest_figures_sort_page_and_choose_fields_like_the_collection() {
    let test_db = fresh_db().await;
    import(&test_db.db, series_fixture().path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let (canonical, _) = rest_walk(&app, "/api/v1/statistics/latest?limit=1000").await;
    let (sorted, _) = rest_walk(&app, "/api/v1/statistics/latest?limit=4&sort=-value,id").await;
    let mut expected = canonical.clone();
    expected.sort_by(|a, b| {
        b["value"]
            .as_i64()
            .cmp(&a["value"].as_i64())
            .then_with(|| a["id"].as_str().cmp(&b["id"].as_str()))
    });
    assert_eq!(ids_of(&sorted), ids_of(&expected));
    let order =
        json!([{"field": "VALUE", "direction": "DESC"}, {"field": "ID", "direction": "ASC"}]);
    let (graphql_ids, _, _) = graphql_walk(&app, &json!({}), &order).await;
    assert_eq!(graphql_ids, ids_of(&expected));
    let reply = get(
        &app,
        "/api/v1/statistics/latest?fields=id,period_end&limit=3",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(
        body["data"][0]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["id", "period_end"]
    );
    assert!(
        body["links"]["next"]
            .as_str()
            .unwrap()
            .contains("fields=id%2Cperiod_end"),
        "{body}"
    );
    get(&app, "/api/v1/statistics/latest?nope=1")
        .await
        .assert_problem(400, Some("nope"));
    get(&app, "/api/v1/statistics/latest?fields=position")
        .await
        .assert_problem(400, Some("fields"));
    get(
        &app,
        "/api/v1/statistics/latest?from=2021-01-01&to=2020-01-01",
    )
    .await
    .assert_problem(400, Some("from"));
}

/// The importer flags each series' latest row (`statistics.latest`), and the latest
/// figures under no filter or series-level filters read that flag. The flagged rows are
/// the brute-force answer over the whole release; every series-level answer read from the
/// flag equals the computed one (the same filter plus a period window that keeps every
/// row, which forces the computation); flags cleared and set again as the migration does
/// for older releases are the same; and a flag tampered with shows, so it is what is read.
#[tokio::test]
async fn the_latest_flag_is_the_computed_answer_and_is_what_is_read() {
    use sanctuary_data::entity::statistic;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let test_db = fresh_db().await;
    let release = match import(&test_db.db, series_fixture().path()).await {
        sanctuary_data::seed::ImportOutcome::Created { release, .. } => release,
        other => panic!("{other}"),
    };
    let db = &test_db.db;
    let flagged = || async {
        statistic::Entity::find()
            .select_only()
            .column(statistic::Column::Id)
            .filter(statistic::Column::ReleaseId.eq(release.as_str()))
            .filter(statistic::Column::Latest.eq(true))
            .order_by_asc(statistic::Column::Position)
            .into_tuple::<String>()
            .all(db)
            .await
            .unwrap()
    };
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(db.clone()));
    let (all, _) = rest_walk(&app, "/api/v1/statistics?limit=1000").await;
    let expected = brute_force(&all);
    assert_eq!(flagged().await, expected, "the flag marks the latest rows");

    for filter in [
        "",
        "program=beta",
        "metric=renewals,replacements&dimension=channel",
        "category=all,online&program=alpha",
    ] {
        let (read, read_total) = rest_walk(
            &app,
            &format!("/api/v1/statistics/latest?limit=50&{filter}"),
        )
        .await;
        let (computed, computed_total) = rest_walk(
            &app,
            &format!("/api/v1/statistics/latest?limit=50&from=0001-01-01&{filter}"),
        )
        .await;
        assert_eq!(read, computed, "{filter}: flag and computation agree");
        assert_eq!(read_total, computed_total, "{filter}");
    }

    // The migration's backfill gives the same flags.
    statistic::Entity::update_many()
        .col_expr(
            statistic::Column::Latest,
            sea_orm::sea_query::Expr::value(false),
        )
        .exec(db)
        .await
        .unwrap();
    assert!(flagged().await.is_empty());
    sanctuary_data::seed::mark_latest(db, &release)
        .await
        .unwrap();
    assert_eq!(
        flagged().await,
        expected,
        "the backfill flags the same rows"
    );

    // A flag tampered with shows in the answer read from the flags, not in the computed one.
    statistic::Entity::update_many()
        .col_expr(
            statistic::Column::Latest,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(statistic::Column::ReleaseId.eq(release.as_str()))
        .filter(statistic::Column::Id.eq(expected[0].as_str()))
        .exec(db)
        .await
        .unwrap();
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(db.clone()));
    let (read, total) = rest_walk(&app, "/api/v1/statistics/latest?limit=1000").await;
    assert_eq!(ids_of(&read), expected[1..], "the flag is read");
    assert_eq!(total as usize, expected.len() - 1);
    let (computed, _) =
        rest_walk(&app, "/api/v1/statistics/latest?limit=1000&from=0001-01-01").await;
    assert_eq!(ids_of(&computed), expected);
}
