//! Citable releases (issue #15): short release ids, release diffs, citations and change
//! feeds, over two releases of the small fixture.

use serde_json::Value;

use crate::helpers::*;

/// The small fixture, then a second release: alpha-2023 revised (24000 to 24500), a new
/// figure alpha-2024, beta-2016 removed, and a new event. Returns the app, the database
/// and the two release ids (older, newer).
async fn two_releases() -> (axum::Router, TestDb, String, String) {
    let test_db = fresh_db().await;
    let first = release_id(import(&test_db.db, &fixture("small")).await);
    let dir = fixture_copy("small");
    let path = dir.path().join("statistics.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("beta-2016"))
        .map(|l| l.replace(",24000,approximately,", ",24500,approximately,"))
        .collect();
    lines.push("alpha-2024,alpha,cards_issued,2024-01-01,2024-12-31,total,all,25000,exact,cards,reported,src-a,,in_period,none,".into());
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let events = dir.path().join("events.csv");
    let mut text = std::fs::read_to_string(&events).unwrap();
    text.push_str("alpha-resume,alpha,2025-09-01,day,statement,Alpha resumes online applications,Synthetic event.,src-a\n");
    std::fs::write(&events, text).unwrap();
    let second = release_id(import(&test_db.db, dir.path()).await);
    assert_ne!(first, second);
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    (app, test_db, first, second)
}

fn release_id(outcome: sanctuary_data::seed::ImportOutcome) -> String {
    match outcome {
        sanctuary_data::seed::ImportOutcome::Created { release, .. }
        | sanctuary_data::seed::ImportOutcome::AlreadyImported { release, .. } => release,
    }
}

/// POST a GraphQL query; the `data` (asserting there are no errors).
async fn graphql(app: &axum::Router, query: &str) -> Value {
    let reply = graphql_reply(app, query).await;
    assert!(reply["errors"].is_null(), "{reply}");
    reply["data"].clone()
}

async fn graphql_reply(app: &axum::Router, query: &str) -> Value {
    let request = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            serde_json::json!({ "query": query }).to_string(),
        ))
        .unwrap();
    send(app, request).await.json()
}

// ---------------------------------------------------------------------------------------
// Short release ids.

#[tokio::test]
async fn any_unique_prefix_of_eight_or_more_digits_names_a_release() {
    let (app, _db, first, second) = two_releases().await;
    for prefix in [&first[..8], &first[..12], &first[..40], first.as_str()] {
        let reply = get(&app, &format!("/api/v1/releases/{prefix}")).await;
        assert_eq!(reply.status, 200, "{prefix}: {}", reply.text());
        let body = reply.json();
        assert_eq!(body["data"]["id"], first.as_str());
        assert_eq!(body["data"]["short_id"], &first[..12]);
        assert_eq!(body["data"]["seq"], 1);
        assert_eq!(body["meta"]["release_short_id"], &first[..12]);
        // The same rows as the full id, wherever `release` is accepted.
        let rows = get(&app, &format!("/api/v1/statistics?release={prefix}")).await;
        assert_eq!(rows.header("x-data-release"), first);
        assert_eq!(rows.json()["meta"]["release"], first.as_str());
    }
    // Only a full id is immutable: a prefix may become ambiguous.
    let short = get(&app, &format!("/api/v1/statistics?release={}", &first[..8])).await;
    assert_eq!(short.header("cache-control"), "public, max-age=60");
    let full = get(&app, &format!("/api/v1/statistics?release={first}")).await;
    assert!(full.header("cache-control").contains("immutable"));
    let short = get(&app, &format!("/api/v1/releases/{}", &second[..8])).await;
    assert_eq!(short.header("cache-control"), "public, max-age=60");

    // GraphQL too.
    let data = graphql(
        &app,
        &format!(
            "{{ release(id: \"{}\") {{ id shortId seq date }} statistics(release: \"{}\") {{ totalCount }} }}",
            &second[..9],
            &first[..10]
        ),
    )
    .await;
    assert_eq!(data["release"]["id"], second.as_str());
    assert_eq!(data["release"]["shortId"], &second[..12]);
    assert_eq!(data["release"]["seq"], 2);
    assert_eq!(data["statistics"]["totalCount"], 3);
}

#[tokio::test]
async fn short_unknown_and_malformed_release_ids_are_clear_errors() {
    let (app, _db, first, _second) = two_releases().await;
    let detail = get(&app, &format!("/api/v1/statistics?release={}", &first[..7]))
        .await
        .assert_problem(400, Some("release"));
    assert!(detail.contains("at least 8"), "{detail}");
    let detail = get(&app, &format!("/api/v1/releases/{}", &first[..7]))
        .await
        .assert_problem(400, Some("id"));
    assert!(detail.contains("at least 8"), "{detail}");
    // Unknown: a prefix no release has.
    let unknown = if first.starts_with("00000000") {
        "ffffffff"
    } else {
        "00000000"
    };
    get(&app, &format!("/api/v1/statistics?release={unknown}"))
        .await
        .assert_problem(404, Some("release"));
    get(&app, &format!("/api/v1/releases/{unknown}"))
        .await
        .assert_problem(404, Some("id"));
    get(&app, "/api/v1/statistics?release=NOTHEXNOTHEX")
        .await
        .assert_problem(400, Some("release"));
}

/// Two releases whose ids share a prefix: the shared prefix is ambiguous (400 naming both
/// short ids), a longer one is not. Release ids are content digests, so the test inserts a
/// second release row with a chosen id.
#[tokio::test]
async fn an_ambiguous_prefix_is_a_400_that_says_so() {
    use sanctuary_data::entity::release;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let (app, test_db) = app_with("small").await;
    let first = release::Entity::find()
        .one(&test_db.db)
        .await
        .unwrap()
        .unwrap();
    let twin = format!("{}{}", &first.id[..10], "0".repeat(54));
    assert_ne!(twin, first.id);
    release::ActiveModel {
        id: Set(twin.clone()),
        seq: Set(first.seq + 1),
        imported_at: Set(first.imported_at),
        min_cell: Set(first.min_cell),
        title: Set(first.title.clone()),
        dimensions: Set(first.dimensions.clone()),
        longest_period_days: Set(first.longest_period_days),
    }
    .insert(&test_db.db)
    .await
    .unwrap();
    let detail = get(&app, &format!("/api/v1/releases/{}", &first.id[..9]))
        .await
        .assert_problem(400, Some("id"));
    assert!(detail.contains("ambiguous"), "{detail}");
    assert!(
        detail.contains(&first.id[..12]) && detail.contains(&twin[..12]),
        "{detail}"
    );
    let detail = get(
        &app,
        &format!("/api/v1/programs?release={}", &first.id[..10]),
    )
    .await
    .assert_problem(400, Some("release"));
    assert!(detail.contains("ambiguous"), "{detail}");
    let one = get(&app, &format!("/api/v1/releases/{}", &first.id[..12])).await;
    assert_eq!(one.status, 200, "{}", one.text());
    assert_eq!(one.json()["data"]["id"], first.id.as_str());
}

#[tokio::test]
async fn file_names_carry_the_release_date_sequence_and_short_id() {
    let (app, _db, first, second) = two_releases().await;
    let list = get(&app, "/api/v1/releases").await.json();
    let date = list["data"][0]["date"].as_str().unwrap().to_owned();
    assert_eq!(list["data"][0]["seq"], 2);
    let expected = |table: &str, seq: u32, id: &str, ext: &str| {
        format!(
            "attachment; filename=\"{table}-{date}-r{seq}-{}.{ext}\"",
            &id[..8]
        )
    };
    let csv = get(&app, "/api/v1/statistics?format=csv").await;
    assert_eq!(
        csv.header("content-disposition"),
        expected("statistics", 2, &second, "csv")
    );
    let download = get(&app, &format!("/downloads/events.csv?release={first}")).await;
    assert_eq!(download.status, 200);
    assert_eq!(
        download.header("content-disposition"),
        expected("events", 1, &first, "csv")
    );
    let workbook = get(&app, "/downloads/programs.xlsx").await;
    assert_eq!(
        workbook.header("content-disposition"),
        expected("programs", 2, &second, "xlsx")
    );
    let releases = get(&app, "/api/v1/releases?format=csv").await;
    assert_eq!(
        releases.header("content-disposition"),
        expected("releases", 2, &second, "csv")
    );
    let rows = parse_csv(&releases.text());
    assert_eq!(rows[0][..4], ["id", "short_id", "seq", "date"]);
    assert_eq!(rows[1][1], &second[..12]);
}

// ---------------------------------------------------------------------------------------
// Release diffs.

#[tokio::test]
async fn a_diff_lists_rows_added_removed_and_changed_with_old_and_new_values() {
    let (app, _db, first, second) = two_releases().await;
    let reply = get(&app, &format!("/api/v1/releases/{first}/diff/{second}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.header("cache-control").contains("immutable"));
    assert_eq!(reply.header("x-data-release"), second);
    let body = reply.json();
    assert_eq!(body["meta"]["from"]["id"], first.as_str());
    assert_eq!(body["meta"]["to"]["seq"], 2);
    let tables = body["meta"]["tables"].as_array().unwrap();
    let statistics = tables.iter().find(|t| t["table"] == "statistics").unwrap();
    assert_eq!(
        (
            &statistics["added"],
            &statistics["removed"],
            &statistics["changed"]
        ),
        (&1.into(), &1.into(), &1.into())
    );
    let events = tables.iter().find(|t| t["table"] == "events").unwrap();
    assert_eq!(events["added"], 1);
    assert_eq!(body["meta"]["total"], 4);
    let data = body["data"].as_array().unwrap();
    let change = |key: &str| data.iter().find(|c| c["key"] == key).unwrap().clone();
    assert_eq!(change("alpha-2024")["change"], "added");
    assert_eq!(change("beta-2016")["change"], "removed");
    assert_eq!(change("alpha-resume")["table"], "events");
    let revised = change("alpha-2023");
    assert_eq!(revised["change"], "changed");
    assert_eq!(
        revised["fields"],
        serde_json::json!([{"field": "value", "old": "24000", "new": "24500", "old_suppressed": false, "new_suppressed": false}])
    );

    // `latest` and short ids name the same diff (not immutable: they can move).
    let latest = get(
        &app,
        &format!("/api/v1/releases/{}/diff/latest", &first[..8]),
    )
    .await;
    assert_eq!(latest.json()["data"], body["data"]);
    assert_eq!(latest.header("cache-control"), "public, max-age=60");

    // Paged: one change per page, following `next`, gives the same rows.
    let mut url = format!("/api/v1/releases/{first}/diff/{second}?limit=1");
    let mut walked = Vec::new();
    while !url.is_empty() {
        let page = get(&app, &url).await;
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        walked.extend(page["data"].as_array().unwrap().iter().cloned());
        url = page["links"]["next"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    }
    assert_eq!(&walked, data);

    // CSV: one line per changed field.
    let csv = get(
        &app,
        &format!("/api/v1/releases/{first}/diff/{second}?format=csv"),
    )
    .await;
    assert!(csv.header("content-type").starts_with("text/csv"));
    let rows = parse_csv(&csv.text());
    assert_eq!(
        rows[0],
        [
            "table",
            "key",
            "change",
            "field",
            "old",
            "new",
            "old_suppressed",
            "new_suppressed"
        ]
    );
    assert!(
        rows.contains(
            &[
                "statistics",
                "alpha-2023",
                "changed",
                "value",
                "24000",
                "24500",
                "false",
                "false"
            ]
            .map(String::from)
            .to_vec()
        )
    );
    assert_eq!(rows.len(), 5);

    // GraphQL: the same changes.
    let data_gql = graphql(
        &app,
        &format!(
            "{{ releaseDiff(from: \"{first}\", to: \"{second}\") {{ totalCount hasNextPage tables {{ table added removed changed }} changes {{ table key change fields {{ field old new oldSuppressed newSuppressed }} }} }} }}"
        ),
    )
    .await;
    let diff = &data_gql["releaseDiff"];
    assert_eq!(diff["totalCount"], 4);
    let keys: Vec<&str> = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    let rest_keys: Vec<&str> = data.iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert_eq!(keys, rest_keys);
    let revised = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "alpha-2023")
        .unwrap();
    assert_eq!(revised["change"], "CHANGED");
    assert_eq!(revised["fields"][0]["old"], "24000");
    assert_eq!(revised["fields"][0]["new"], "24500");
}

#[tokio::test]
async fn diff_errors_are_problems() {
    let (app, _db, first, _second) = two_releases().await;
    get(
        &app,
        &format!("/api/v1/releases/{}/diff/latest", &first[..5]),
    )
    .await
    .assert_problem(400, Some("id"));
    get(&app, &format!("/api/v1/releases/{first}/diff/ffffffffffff"))
        .await
        .assert_problem(404, Some("other"));
    get(
        &app,
        &format!("/api/v1/releases/{first}/diff/latest?limit=0"),
    )
    .await
    .assert_problem(400, Some("limit"));
    get(
        &app,
        &format!("/api/v1/releases/{first}/diff/latest?colour=red"),
    )
    .await
    .assert_problem(400, Some("colour"));
    get(
        &app,
        &format!("/api/v1/releases/{first}/diff/latest?cursor=forged"),
    )
    .await
    .assert_problem(400, Some("cursor"));
}

/// Adds `rows` identical statistics (keys `bulk-00000`, …) to both releases, the last one
/// with another value in the newer release; forgets the stored counts of the pair (they no
/// longer describe it).
async fn add_bulk_rows(db: &sea_orm::DatabaseConnection, first: &str, second: &str, rows: usize) {
    use sanctuary_data::entity::{release_change, statistic};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    for release in [first, second] {
        let models: Vec<statistic::ActiveModel> = (0..rows)
            .map(|i| {
                let last = i + 1 == rows;
                sea_orm::IntoActiveModel::into_active_model(statistic::Model {
                    release_id: release.to_owned(),
                    id: format!("bulk-{i:05}"),
                    position: 100_000 + i as i32,
                    program: "alpha".into(),
                    metric: "cards_issued".into(),
                    period_start: chrono::NaiveDate::from_ymd_opt(2001, 1, 1).unwrap(),
                    period_end: chrono::NaiveDate::from_ymd_opt(2001, 12, 31).unwrap(),
                    dimension: "total".into(),
                    category: format!("bulk {i}"),
                    value: Some(if last && release == second {
                        2000
                    } else {
                        1000
                    }),
                    suppressed: false,
                    suppression_reason: None,
                    qualifier: "exact".into(),
                    unit: "cards".into(),
                    status: "reported".into(),
                    source_id: "src-a".into(),
                    note: None,
                    basis: Some("in_period".into()),
                    period_inferred: Some("none".into()),
                    source_wording: None,
                    latest: false,
                })
            })
            .collect();
        for chunk in models.chunks(200) {
            statistic::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(db)
                .await
                .unwrap();
        }
    }
    release_change::Entity::delete_many()
        .filter(release_change::Column::ToRelease.eq(second))
        .exec(db)
        .await
        .unwrap();
}

/// Issue #15: a page of a diff reads a bounded slice of the two releases, whatever their
/// size. With a budget of 4 windows of 100 keys, no page covers more than 400 keys of
/// each release, so 3,000 unchanged rows take several pages, some of them empty; walking
/// every page still gives exactly the diff served with the default budget, in the same
/// order, and the counts (computed once, then stored) agree.
#[tokio::test]
async fn a_diff_page_reads_a_bounded_slice_of_each_release() {
    use sanctuary_data::diff::{Budget, page};
    let (app, test_db, first, second) = two_releases().await;
    add_bulk_rows(&test_db.db, &first, &second, 3_000).await;
    let budget = Budget {
        window: 100,
        windows: 4,
    };
    let mut walked = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = page(&test_db.db, &first, &second, after, 10, budget)
            .await
            .unwrap();
        assert!(page.scanned <= 400, "a page covered {} keys", page.scanned);
        assert!(page.items.len() <= 10);
        pages += 1;
        walked.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert!(pages > 3_000 / 400, "{pages} pages");
    let walked: Vec<Value> = walked
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();

    let mut served = Vec::new();
    let mut url = format!("/api/v1/releases/{first}/diff/{second}?limit=1000");
    let mut meta = Value::Null;
    while !url.is_empty() {
        let reply = get(&app, &url).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let body = reply.json();
        served.extend(body["data"].as_array().unwrap().iter().cloned());
        meta = body["meta"].clone();
        url = body["links"]["next"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    }
    assert_eq!(walked, served);
    let keys: Vec<&str> = served.iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert!(keys.contains(&"bulk-02999") && !keys.contains(&"bulk-02998"));
    let bulk = served.iter().find(|c| c["key"] == "bulk-02999").unwrap();
    assert_eq!(bulk["fields"][0]["old"], "1000");
    assert_eq!(bulk["fields"][0]["new"], "2000");
    let statistics = &meta["tables"][0];
    assert_eq!(statistics["table"], "statistics");
    assert_eq!(
        (
            &statistics["added"],
            &statistics["removed"],
            &statistics["changed"]
        ),
        (&1.into(), &1.into(), &2.into())
    );
    assert_eq!(meta["total"], served.len());
    // Counted once and stored: the pair's counts are now in `release_changes`.
    let stored = sanctuary_data::diff::stored(&test_db.db, &[(first.as_str(), second.as_str())])
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&stored[&(first.clone(), second.clone())]).unwrap(),
        meta["tables"]
    );
}

/// The change feed reads the counts stored at import and never compares two releases in
/// a request: counts tampered with in `release_changes` are what it says. Counts missing
/// (a release imported before they were stored) are recorded by `serve`'s start-up step.
#[tokio::test]
async fn the_feed_reads_counts_stored_at_import() {
    use sanctuary_data::entity::release_change;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let (_app, test_db, first, second) = two_releases().await;
    let db = &test_db.db;
    let stored = release_change::Entity::find()
        .filter(release_change::Column::FromRelease.eq(first.as_str()))
        .filter(release_change::Column::ToRelease.eq(second.as_str()))
        .all(db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 6, "{stored:?}");
    let statistics = stored
        .iter()
        .find(|c| c.table_name == "statistics")
        .unwrap();
    assert_eq!(
        (statistics.added, statistics.removed, statistics.changed),
        (1, 1, 1)
    );
    let counted = sanctuary_data::diff::count(db, &first, &second, Some(2))
        .await
        .unwrap();
    let recounted = sanctuary_data::diff::count(db, &first, &second, None)
        .await
        .unwrap();
    assert_eq!(counted, recounted);

    release_change::Entity::update_many()
        .col_expr(
            release_change::Column::Added,
            sea_orm::sea_query::Expr::value(999),
        )
        .filter(release_change::Column::TableName.eq("statistics"))
        .exec(db)
        .await
        .unwrap();
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(db.clone()));
    let feed = get(&app, "/feeds/releases.json").await.json();
    let item = &feed["items"][0];
    assert_eq!(item["_sanctuary_data"]["changes"][0]["added"], 999);
    assert!(
        item["content_text"]
            .as_str()
            .unwrap()
            .contains("statistics: 999 added"),
        "{item}"
    );

    release_change::Entity::delete_many()
        .exec(db)
        .await
        .unwrap();
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(db.clone()));
    let feed = get(&app, "/feeds/releases.json").await.json();
    assert!(
        feed["items"][0]["content_text"]
            .as_str()
            .unwrap()
            .contains("see the diff"),
        "{feed}"
    );
    assert_eq!(sanctuary_data::diff::record_missing(db).await.unwrap(), 1);
    assert_eq!(sanctuary_data::diff::record_missing(db).await.unwrap(), 0);
    let stored = sanctuary_data::diff::stored(db, &[(first.as_str(), second.as_str())])
        .await
        .unwrap();
    assert_eq!(stored[&(first.clone(), second.clone())], counted);
}

/// A pair with no stored counts (here the two releases the other way round) is counted
/// once on request: concurrent requests share the count, which is then stored and equals
/// a count made in one statement per table.
#[tokio::test]
async fn counts_asked_for_at_once_are_counted_once_and_stored() {
    use sanctuary_data::diff::{count, stored, summary};
    let (_app, test_db, first, second) = two_releases().await;
    let db = &test_db.db;
    let pair = [(second.as_str(), first.as_str())];
    assert!(stored(db, &pair).await.unwrap().is_empty());
    let (a, b) = tokio::join!(summary(db, &second, &first), summary(db, &second, &first));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b);
    assert_eq!(a, count(db, &second, &first, None).await.unwrap());
    let statistics = &a[0];
    assert_eq!(
        (statistics.added, statistics.removed, statistics.changed),
        (1, 1, 1)
    );
    assert_eq!(
        stored(db, &pair).await.unwrap()[&(second.clone(), first.clone())],
        a
    );
}

// ---------------------------------------------------------------------------------------
// Citations.

#[tokio::test]
async fn a_release_is_citable_in_four_formats() {
    let (app, _db, first, _second) = two_releases().await;
    let permanent = format!("http://127.0.0.1:8080/api/v1/releases/{first}");
    for (format, media) in [
        ("text", "text/plain; charset=utf-8"),
        ("bibtex", "application/x-bibtex"),
        ("ris", "application/x-research-info-systems"),
        ("csl-json", "application/vnd.citationstyles.csl+json"),
    ] {
        let reply = get(
            &app,
            &format!("/api/v1/releases/{}/cite?format={format}", &first[..8]),
        )
        .await;
        assert_eq!(reply.status, 200, "{format}: {}", reply.text());
        assert_eq!(reply.header("content-type"), media);
        let text = reply.text();
        for needle in [first.as_str(), &first[..12], permanent.as_str(), "r1"] {
            assert!(text.contains(needle), "{format} lacks {needle}: {text}");
        }
    }
    let default = get(&app, &format!("/api/v1/releases/{first}/cite")).await;
    assert!(default.header("content-type").starts_with("text/plain"));
    assert!(default.text().contains("[Data set]"));
    let ris = get(&app, &format!("/api/v1/releases/{first}/cite?format=ris"))
        .await
        .text();
    assert!(
        ris.starts_with("TY  - DATA\r\n") && ris.ends_with("ER  - \r\n"),
        "{ris}"
    );
    let bibtex = get(
        &app,
        &format!("/api/v1/releases/{first}/cite?format=bibtex"),
    )
    .await
    .text();
    assert!(bibtex.starts_with("@misc{sanctuary_data_r1_"), "{bibtex}");
    let csl = get(
        &app,
        &format!("/api/v1/releases/{first}/cite?format=csl-json"),
    )
    .await
    .json();
    assert_eq!(csl[0]["type"], "dataset");
    assert_eq!(csl[0]["URL"], permanent.as_str());
    get(&app, &format!("/api/v1/releases/{first}/cite?format=mla"))
        .await
        .assert_problem(400, Some("format"));
}

#[tokio::test]
async fn a_figure_is_citable_with_its_original_source() {
    let (app, _db, first, _second) = two_releases().await;
    let figure = get(
        &app,
        &format!("/api/v1/statistics/alpha-2023?release={first}"),
    )
    .await
    .json();
    let source = &figure["data"]["source"];
    let permanent = format!("http://127.0.0.1:8080/api/v1/statistics/alpha-2023?release={first}");
    for format in ["text", "bibtex", "ris", "csl-json"] {
        let reply = get(
            &app,
            &format!("/api/v1/statistics/alpha-2023/cite?release={first}&format={format}"),
        )
        .await;
        assert_eq!(reply.status, 200, "{format}: {}", reply.text());
        let text = reply.text();
        for needle in [
            first.as_str(),
            &first[..12],
            permanent.as_str(),
            source["url"].as_str().unwrap(),
            "24000",
        ] {
            assert!(text.contains(needle), "{format} lacks {needle}: {text}");
        }
        // Title and publisher (BibTeX escapes a few characters; the fixture has none).
        assert!(
            text.contains(source["publisher"].as_str().unwrap()),
            "{text}"
        );
    }
    get(
        &app,
        &format!("/api/v1/statistics/nope/cite?release={first}"),
    )
    .await
    .assert_problem(404, Some("id"));

    // GraphQL gives the same text as REST.
    let rest = get(
        &app,
        &format!("/api/v1/statistics/alpha-2023/cite?release={first}&format=bibtex"),
    )
    .await
    .text();
    let data = graphql(
        &app,
        &format!(
            "{{ citation(statistic: \"alpha-2023\", release: \"{first}\", format: BIBTEX) {{ format mediaType text }} }}"
        ),
    )
    .await;
    assert_eq!(data["citation"]["text"], rest.as_str());
    assert_eq!(data["citation"]["mediaType"], "application/x-bibtex");

    // The program page links each figure's citation.
    let page = get(&app, &format!("/programs/alpha?release={first}"))
        .await
        .text();
    assert!(
        page.contains(&format!(
            "href=\"/api/v1/statistics/alpha-2023/cite?release={first}\""
        )),
        "no cite link"
    );
}

// ---------------------------------------------------------------------------------------
// Change feeds.

#[tokio::test]
async fn the_releases_feeds_summarise_each_release_and_parse() {
    let (app, _db, first, second) = two_releases().await;
    let atom = get(&app, "/feeds/releases.atom").await;
    assert_eq!(atom.status, 200, "{}", atom.text());
    assert!(
        atom.header("content-type")
            .starts_with("application/atom+xml")
    );
    let entries = parse_atom(&atom.text());
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[0].id,
        format!("urn:sanctuary-data:release:{second}")
    );
    assert_eq!(entries[1].id, format!("urn:sanctuary-data:release:{first}"));
    assert!(
        entries[0]
            .summary
            .contains("statistics: 1 added, 1 removed, 1 changed"),
        "{}",
        entries[0].summary
    );
    assert!(
        entries[0]
            .summary
            .contains("events: 1 added, 0 removed, 0 changed")
    );

    let json = get(&app, "/feeds/releases.json").await;
    assert_eq!(json.header("content-type"), "application/feed+json");
    let feed = json.json();
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert!(feed["title"].is_string());
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        assert!(
            item["id"]
                .as_str()
                .unwrap()
                .starts_with("urn:sanctuary-data:release:")
        );
        assert!(item["content_text"].is_string());
        assert!(item["date_published"].is_string());
    }
    assert_eq!(items[0]["id"], entries[0].id.as_str());
    assert_eq!(items[0]["content_text"], entries[0].summary.as_str());
    let statistics = items[0]["_sanctuary_data"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "statistics")
        .unwrap()
        .clone();
    assert_eq!(statistics["changed"], 1);

    get(&app, "/feeds/releases.atom?x=1")
        .await
        .assert_problem(400, Some("x"));
    // The home page names the feeds.
    let home = get(&app, "/").await.text();
    assert!(home.contains(
        "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"sanctuary-data: releases\" href=\"/feeds/releases.atom\">"
    ));
}

#[tokio::test]
async fn the_events_feed_lists_the_newest_events_with_stable_ids() {
    let (app, _db, first, _second) = two_releases().await;
    let atom = get(&app, "/feeds/events.atom").await;
    assert_eq!(atom.status, 200, "{}", atom.text());
    let entries = parse_atom(&atom.text());
    let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids[0], "urn:sanctuary-data:event:alpha-resume");
    assert!(ids.contains(&"urn:sanctuary-data:event:alpha-launch"));
    // An event is dated by the release that first published it.
    let releases = get(&app, "/api/v1/releases").await.json();
    let imported = |seq: usize| {
        chrono::DateTime::parse_from_rfc3339(
            releases["data"][2 - seq]["imported_at"].as_str().unwrap(),
        )
        .unwrap()
    };
    let updated = |id: &str| {
        let entry = entries.iter().find(|e| e.id.ends_with(id)).unwrap();
        chrono::DateTime::parse_from_rfc3339(&entry.updated).unwrap()
    };
    assert_eq!(
        updated(":alpha-launch").timestamp(),
        imported(1).timestamp()
    );
    assert_eq!(
        updated(":alpha-resume").timestamp(),
        imported(2).timestamp()
    );
    let _ = first;
}

/// One Atom entry's id, updated and summary.
struct Entry {
    id: String,
    updated: String,
    summary: String,
}

/// Parse an Atom feed with quick-xml, checking RFC 4287's required elements: the feed's
/// id, title, updated and author, and every entry's id, title, updated and link.
fn parse_atom(text: &str) -> Vec<Entry> {
    use quick_xml::events::{BytesStart, Event};
    let empty = || Entry {
        id: String::new(),
        updated: String::new(),
        summary: String::new(),
    };
    let mut reader = quick_xml::Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut feed_children = std::collections::BTreeSet::new();
    let mut entry_children = std::collections::BTreeSet::new();
    let mut entries = Vec::new();
    let mut current = empty();
    // Record an element opening under the current path.
    let mut open = |e: &BytesStart, path: &Vec<String>| -> String {
        let name = e.name().as_ref().to_owned();
        if path.is_empty() {
            assert_eq!(name, "feed");
            let ns = e
                .try_get_attribute("xmlns")
                .unwrap()
                .expect("the Atom namespace");
            assert_eq!(ns.value.as_ref(), "http://www.w3.org/2005/Atom");
        } else if path.len() == 1 {
            feed_children.insert(name.clone());
        } else if path.len() == 2 && path[1] == "entry" {
            entry_children.insert(name.clone());
        }
        name
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = open(&e, &path);
                path.push(name);
            }
            Event::Empty(e) => {
                open(&e, &path);
            }
            // The guard pops every closing element; an entry's also ends the entry.
            Event::End(_) if path.pop().unwrap() == "entry" => {
                entries.push(std::mem::replace(&mut current, empty()));
            }
            event @ (Event::Text(_) | Event::GeneralRef(_)) => {
                let value = match event {
                    Event::Text(t) => t.into_inner().into_owned(),
                    Event::GeneralRef(r) => {
                        quick_xml::escape::unescape(&format!("&{};", r.into_inner()))
                            .unwrap()
                            .into_owned()
                    }
                    _ => unreachable!(),
                };
                if path.len() == 3 && path[1] == "entry" {
                    match path[2].as_str() {
                        "id" => current.id.push_str(&value),
                        "updated" => current.updated.push_str(&value),
                        "summary" => current.summary.push_str(&value),
                        _ => {}
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    for required in ["id", "title", "updated", "author", "link"] {
        assert!(feed_children.contains(required), "feed lacks {required}");
    }
    for required in ["id", "title", "updated", "link", "summary"] {
        assert!(entry_children.contains(required), "entries lack {required}");
    }
    for entry in &entries {
        assert!(!entry.id.is_empty() && !entry.updated.is_empty());
    }
    entries
}
