//! Disclosure control as a user sees it: the synthetic example is protected as its README
//! says, no raw suppressed value reaches the database or any response, responses do not
//! depend on the raw values of suppressed cells, and unsafe settings or tables are refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sanctuary_data::entity::statistic;
use sanctuary_data::seed::{self, ImportFailure};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::helpers::*;

fn synthetic() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/synthetic-breakdowns")
}

/// A writable copy of the synthetic example.
fn synthetic_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(synthetic()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

/// Set the value of statistic `id` in `dir`'s statistics.csv.
fn set_value(dir: &Path, id: &str, value: i64) {
    let path = dir.join("statistics.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut found = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let mut cells: Vec<String> = line.split(',').map(str::to_owned).collect();
            if cells[0] == id {
                found = true;
                cells[7] = value.to_string();
            }
            cells.join(",")
        })
        .collect();
    assert!(found, "no statistic {id}");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

async fn app_over(dir: &Path) -> (axum::Router, TestDb) {
    let test_db = fresh_db().await;
    import(&test_db.db, dir).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    (app, test_db)
}

async fn graphql_text(app: &axum::Router, query: &str) -> String {
    let request = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(json!({"query": query}).to_string()))
        .unwrap();
    send(app, request).await.text()
}

const STATISTICS_QUERY: &str = "{ statistics(first: 1000) { totalCount edges { cursor node { \
    id periodStart dimension category value suppressed suppressionReason } } } }";

/// id -> value as published over REST (None when suppressed).
async fn published(app: &axum::Router) -> BTreeMap<String, Option<i64>> {
    let body = get(app, "/api/v1/statistics?limit=1000").await.json();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let suppressed = s["suppressed"].as_bool().unwrap();
            assert_eq!(suppressed, s["value"].is_null(), "{s}");
            if suppressed {
                assert_eq!(s["suppression_reason"], "small_count");
            } else {
                assert!(s["suppression_reason"].is_null());
            }
            (s["id"].as_str().unwrap().to_owned(), s["value"].as_i64())
        })
        .collect()
}

#[tokio::test]
async fn the_synthetic_example_is_protected_as_its_readme_says() {
    let (app, _db) = app_over(&synthetic()).await;
    let values = published(&app).await;
    let suppressed: Vec<&str> = values
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(
        suppressed,
        [
            // Q1 channel: mobile_event = 8 < k hides every non-zero cell of its group.
            "q1-channel-in-person",
            "q1-channel-mobile-event",
            "q1-channel-online",
            // Q1 language: french 9 and other 6 < k; the group's non-zero cells go.
            "q1-language-english",
            "q1-language-french",
            "q1-language-other",
            "q1-language-polish",
            "q1-language-spanish",
            // Q1 ward: ward_03 = 3 < k; every non-zero ward goes, ward_08 (0) stays.
            "q1-ward-01",
            "q1-ward-02",
            "q1-ward-03",
            "q1-ward-04",
            "q1-ward-05",
            "q1-ward-06",
            "q1-ward-07",
            "q1-ward-09",
            "q1-ward-10",
            // Q2: the total (8) is below k: its whole subtree goes, zeros included.
            "q2-channel-in-person",
            "q2-channel-mobile-event",
            "q2-channel-online",
            "q2-total",
            // Q3: mobile_event = 10 < k; 12, 12 and 10 all hidden under a published 34.
            "q3-channel-in-person",
            "q3-channel-mobile-event",
            "q3-channel-online",
        ]
    );
    assert_eq!(values["q1-ward-08"], Some(0), "zero is published as 0");
    assert_eq!(values["q1-total"], Some(1000));
    assert_eq!(values["q3-total"], Some(34));
    assert_eq!(
        values["q1-age-25-44"],
        Some(400),
        "a group without small cells"
    );
    assert_eq!(values["q1-age-65-plus"], Some(40));
}

/// The doc's checks on every published group: no group has exactly one suppressed cell,
/// and total minus the published cells is 0 or at least k.
#[tokio::test]
async fn no_published_group_reveals_a_small_remainder() {
    let (app, _db) = app_over(&synthetic()).await;
    let body = get(&app, "/api/v1/statistics?limit=1000").await.json();
    let rows = body["data"].as_array().unwrap();
    let mut totals = BTreeMap::new();
    let mut groups: BTreeMap<(String, String), Vec<Option<i64>>> = BTreeMap::new();
    for row in rows {
        let period = row["period_start"].as_str().unwrap().to_owned();
        let dimension = row["dimension"].as_str().unwrap().to_owned();
        if dimension == "total" {
            totals.insert(period, row["value"].as_i64());
        } else {
            groups
                .entry((period, dimension))
                .or_default()
                .push(row["value"].as_i64());
        }
    }
    let mut checked = 0;
    for ((period, dimension), cells) in &groups {
        let hidden = cells.iter().filter(|c| c.is_none()).count();
        assert_ne!(hidden, 1, "{period} {dimension}: one suppressed cell");
        if let Some(Some(total)) = totals.get(period) {
            let remainder = total - cells.iter().flatten().sum::<i64>();
            assert!(
                remainder == 0 || remainder >= 11,
                "{period} {dimension}: remainder {remainder}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "groups with a published total were checked");
}

/// Swapping the raw values of two cells that end up suppressed changes nothing a user can
/// see: the release id and every response are byte-identical.
#[tokio::test]
async fn swapping_two_suppressed_raw_values_leaves_every_response_byte_identical() {
    let swapped = synthetic_copy();
    set_value(swapped.path(), "q1-language-french", 6);
    set_value(swapped.path(), "q1-language-other", 9);
    set_value(swapped.path(), "q1-channel-mobile-event", 62);
    set_value(swapped.path(), "q1-channel-online", 8);
    let (original, _a) = app_over(&synthetic()).await;
    let (changed, _b) = app_over(swapped.path()).await;
    for uri in [
        "/api/v1/statistics?limit=1000",
        "/api/v1/statistics?limit=1000&format=csv",
        "/api/v1/statistics?dimension=language",
        "/api/v1/statistics/q1-language-french",
        "/api/v1/statistics/q1-channel-online",
        "/downloads/statistics.csv",
        "/readyz",
    ] {
        let a = get(&original, uri).await;
        let b = get(&changed, uri).await;
        assert_eq!(a.status, 200, "{uri}: {}", a.text());
        assert_eq!(a.body, b.body, "{uri} differs");
        assert_eq!(a.header("etag"), b.header("etag"), "{uri} ETag differs");
    }
    assert_eq!(
        graphql_text(&original, STATISTICS_QUERY).await,
        graphql_text(&changed, STATISTICS_QUERY).await
    );
}

/// A value no test data uses elsewhere, big enough that its bytes cannot turn up by chance.
const RAW: i64 = 98_765_432_101;

/// The small fixture plus one breakdown whose complementary-suppressed cells include `RAW`.
fn fixture_with_distinctive_suppressed_value() -> tempfile::TempDir {
    let dir = fixture_copy("small");
    let path = dir.path().join("statistics.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    let (mobile, big_a, big_b) = (3, 100_000_000_000_i64, 100_000_000_001_i64);
    let total = mobile + RAW + big_a + big_b;
    for (id, dimension, category, value) in [
        ("alpha-2021", "total", "all", total),
        ("alpha-2021-mobile", "channel", "mobile_event", mobile),
        ("alpha-2021-online", "channel", "online", RAW),
        ("alpha-2021-in-person", "channel", "in_person", big_a),
        ("alpha-2021-mail", "channel", "mail", big_b),
    ] {
        text.push_str(&format!(
            "{id},alpha,cards_issued,2021-01-01,2021-12-31,{dimension},{category},{value},exact,cards,reported,src-a,,in_period,none,\n"
        ));
    }
    std::fs::write(&path, text).unwrap();
    dir
}

#[tokio::test]
async fn no_raw_suppressed_value_reaches_the_database_or_any_response() {
    let dir = fixture_with_distinctive_suppressed_value();
    let (app, test_db) = app_over(dir.path()).await;

    let stored = statistic::Entity::find()
        .filter(statistic::Column::Suppressed.eq(true))
        .all(&test_db.db)
        .await
        .unwrap();
    let ids: Vec<&str> = stored.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert!(ids.contains(&"alpha-2021-mobile") && ids.contains(&"alpha-2021-online"));
    assert!(stored.iter().all(|s| s.value.is_none()));

    let text = RAW.to_string();
    let bytes = RAW.to_be_bytes();
    let significant = &bytes[3..]; // 0x16fee0e525: SQLite stores it in 6 bytes
    if let Some(path) = test_db.url.strip_prefix("sqlite://") {
        let file = Path::new(path.split('?').next().unwrap());
        let mut files = 0;
        for entry in std::fs::read_dir(file.parent().unwrap()).unwrap() {
            let content = std::fs::read(entry.unwrap().path()).unwrap();
            files += 1;
            assert!(
                !content.windows(text.len()).any(|w| w == text.as_bytes())
                    && !content.windows(significant.len()).any(|w| w == significant),
                "a raw suppressed value is in the database files"
            );
        }
        assert!(files >= 1);
    }
    for uri in [
        "/api/v1/statistics?limit=1000",
        "/api/v1/statistics?limit=1000&format=csv",
        "/api/v1/statistics/alpha-2021-online",
        "/downloads/statistics.csv",
        "/api/v1/programs/alpha",
        "/",
        "/programs/alpha",
        "/browse/statistics?limit=1000",
    ] {
        let reply = get(&app, uri).await;
        assert_eq!(reply.status, 200, "{uri}");
        assert!(!reply.text().contains(&text), "{uri} carries the raw value");
    }
    let gql = graphql_text(&app, STATISTICS_QUERY).await;
    assert!(gql.contains("alpha-2021-online") && !gql.contains(&text));

    // The command line says what it did without the value either.
    let output = Command::new(env!("CARGO_BIN_EXE_sanctuary-data"))
        .args(["check"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let said = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("4 suppressed") && !said.contains(&text),
        "{said}"
    );
}

#[test]
fn a_threshold_below_5_is_refused_naming_the_setting_and_the_minimum() {
    for (args, env) in [
        (vec!["--min-cell", "4", "check", "seed-data"], None),
        (vec!["import", "seed-data"], Some("3")),
        (
            vec![
                "serve",
                "--database-url",
                "sqlite::memory:",
                "--addr",
                "127.0.0.1:0",
            ],
            Some("4"),
        ),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sanctuary-data"));
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(&args)
            .env_remove("SANCTUARY_MIN_CELL")
            .env("DATABASE_URL", "sqlite::memory:")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(k) = env {
            command.env("SANCTUARY_MIN_CELL", k);
        }
        let mut child = command.spawn().unwrap();
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(60) {
                child.kill().ok();
                panic!("{args:?} with k < 5 kept running");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!status.success(), "{args:?} succeeded");
        assert!(
            stderr.contains("--min-cell")
                && stderr.contains("SANCTUARY_MIN_CELL")
                && stderr.contains('5'),
            "{args:?}: {stderr}"
        );
    }
}

async fn rejected(dir: &Path) -> String {
    let test_db = fresh_db().await;
    let error = seed::import_dir(&test_db.db, dir, policy())
        .await
        .expect_err("the import must fail");
    let ImportFailure::Invalid(problems) = error else {
        panic!("expected validation problems, got {error}")
    };
    assert_eq!(counts(&test_db.db).await, [0; 7], "nothing was loaded");
    problems.to_string()
}

#[tokio::test]
async fn a_breakdown_that_does_not_add_up_is_refused_naming_the_group_not_the_values() {
    let dir = synthetic_copy();
    set_value(dir.path(), "q1-channel-online", 63);
    let message = rejected(dir.path()).await;
    assert!(
        message.contains("statistics.csv:")
            && message.contains(
                "program=synthetic-city, metric=cards_issued, period=2024-01-01..2024-03-31, dimension=channel"
            )
            && message.contains("add up"),
        "{message}"
    );
    for raw in ["930", "63", "1000"] {
        assert!(!message.contains(raw), "{message} shows {raw}");
    }
}

#[tokio::test]
async fn a_cross_tabulated_row_is_refused_until_two_dimensional_protection_exists() {
    let dir = synthetic_copy();
    let path = dir.path().join("statistics.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen(
            "q1-ward-01,synthetic-city,cards_issued,2024-01-01,2024-03-31,ward,",
            "q1-ward-01,synthetic-city,cards_issued,2024-01-01,2024-03-31,ward+channel,",
            1,
        ),
    )
    .unwrap();
    let message = rejected(dir.path()).await;
    assert!(
        message.contains("(dimension)")
            && message.contains("\"ward+channel\"")
            && message.contains("cross-tabulations"),
        "{message}"
    );
}

/// Replace `from` with `to` in `dir`'s statistics.csv (every occurrence).
fn edit_statistics(dir: &Path, from: &str, to: &str) {
    let path = dir.join("statistics.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "no {from:?}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

#[tokio::test]
async fn a_cross_tabulation_under_a_one_word_name_is_refused() {
    for name in [
        "age_group_channel",
        "channel_by_age_group",
        "ward_x_language",
    ] {
        let dir = synthetic_copy();
        edit_statistics(dir.path(), ",ward,ward_01,", &format!(",{name},ward_01,"));
        let message = rejected(dir.path()).await;
        assert!(
            message.contains(&format!("(dimension): \"{name}\""))
                && message.contains("cross-tabulations are refused"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn undeclared_dimensions_and_categories_and_incomplete_breakdowns_are_refused() {
    let dir = synthetic_copy();
    edit_statistics(dir.path(), ",ward,ward_01,", ",district,ward_01,");
    let message = rejected(dir.path()).await;
    assert!(
        message.contains("(dimension): \"district\" — expected a dimension declared in datapackage.json under sanctuary:dimensions (declared: channel, age_group, language, ward)"),
        "{message}"
    );

    let dir = synthetic_copy();
    edit_statistics(dir.path(), ",ward,ward_10,", ",ward,ward_11,");
    let message = rejected(dir.path()).await;
    assert!(
        message
            .contains("(category): \"ward_11\" — expected a declared category of dimension ward"),
        "{message}"
    );

    // A declared category missing from a breakdown: the rest would not be exhaustive.
    let dir = synthetic_copy();
    let path = dir.path().join("statistics.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("q1-ward-08,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, text).unwrap();
    let message = rejected(dir.path()).await;
    assert!(
        message.contains("a row for every declared category of ward in each breakdown")
            && message.contains("missing: ward_08")
            && message.contains("period=2024-01-01..2024-03-31, dimension=ward"),
        "{message}"
    );
    assert!(
        !message.contains("150") && !message.contains("97"),
        "{message}"
    );
}

#[tokio::test]
async fn a_cell_shared_by_two_undeclared_related_dimensions_is_refused_in_the_descriptor() {
    let dir = synthetic_copy();
    let path = dir.path().join("datapackage.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replacen("\"other\"", "\"65_plus\"", 1);
    std::fs::write(&path, text).unwrap();
    let problems = seed::check_dir(dir.path(), policy())
        .unwrap_err()
        .to_string();
    assert!(
        problems.starts_with("datapackage.json:")
            && problems.contains("age_group and language both have it"),
        "{problems}"
    );
}

#[tokio::test]
async fn the_policy_is_published_with_the_release_and_in_the_catalog() {
    let (app, _db) = app_over(&synthetic()).await;
    let releases = get(&app, "/api/v1/releases").await.json();
    let disclosure = &releases["data"][0]["disclosure"];
    assert_eq!(disclosure["min_cell"], 11);
    assert_eq!(disclosure["suppression_reason"], "small_count");
    assert!(
        disclosure["method"]
            .as_str()
            .unwrap()
            .contains("complementary suppression")
    );
    let package = get(&app, "/datapackage.json").await.json();
    assert_eq!(package["sanctuary:disclosure"], *disclosure);
    let csv = get(&app, "/downloads/statistics.csv").await.text();
    let rows = parse_csv(csv.trim_start_matches('\u{feff}'));
    let header = &rows[0];
    let value = header.iter().position(|c| c == "value").unwrap();
    let flag = header.iter().position(|c| c == "suppressed").unwrap();
    let hidden: Vec<&Vec<String>> = rows[1..].iter().filter(|r| r[flag] == "true").collect();
    assert_eq!(hidden.len(), 24);
    assert!(
        hidden.iter().all(|r| r[value].is_empty()),
        "never 0, never <11"
    );
}
