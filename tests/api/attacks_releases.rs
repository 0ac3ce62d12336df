//! The adversary's findings against linked protection (L1..L10 of the review of issue #11),
//! each as an end-to-end scenario: build the releases, import them in order, and expect
//! either a refusal (a refused import publishes nothing) or output that does not carry
//! what the attack recovered. The release policy they enforce (docs/disclosure-control.md,
//! "Releases"): k never goes down, statuses are frozen once published, hidden groups cannot
//! be revised, overlapping periods are linked by a modelled tiling or hide nothing, and a
//! suppressed row's texts are withheld with its value.

use std::path::Path;

use sanctuary_data::disclosure::Policy;
use sanctuary_data::seed;
use serde_json::json;

use crate::helpers::*;

/// One raw statistics row.
#[derive(Debug, Clone)]
struct Row {
    start: &'static str,
    end: &'static str,
    dimension: &'static str,
    category: &'static str,
    value: i64,
    basis: &'static str,
    /// qualifier, note, source_wording.
    texts: (&'static str, &'static str, &'static str),
}

const Q1: (&str, &str) = ("2024-01-01", "2024-03-31");
const Q2: (&str, &str) = ("2024-04-01", "2024-06-30");
const Q3: (&str, &str) = ("2024-07-01", "2024-09-30");
const H1: (&str, &str) = ("2024-01-01", "2024-06-30");
const YEAR: (&str, &str) = ("2024-01-01", "2024-12-31");

fn row(
    period: (&'static str, &'static str),
    dimension: &'static str,
    category: &'static str,
    value: i64,
) -> Row {
    Row {
        start: period.0,
        end: period.1,
        dimension,
        category,
        value,
        basis: "in_period",
        texts: ("exact", "", ""),
    }
}

fn based(basis: &'static str, rows: Vec<Row>) -> Vec<Row> {
    rows.into_iter().map(|r| Row { basis, ..r }).collect()
}

/// A period's channel breakdown with its total.
fn channel(
    period: (&'static str, &'static str),
    in_person: i64,
    online: i64,
    mobile: i64,
) -> Vec<Row> {
    vec![
        row(period, "total", "all", in_person + online + mobile),
        row(period, "channel", "in_person", in_person),
        row(period, "channel", "online", online),
        row(period, "channel", "mobile_event", mobile),
    ]
}

fn channel_dimension() -> serde_json::Value {
    json!([{ "name": "channel", "categories": ["in_person", "online", "mobile_event"] }])
}

/// A data package directory: the synthetic example's programs, metrics and sources,
/// `dimensions` declared, `rows` as statistics.
fn package(dimensions: &serde_json::Value, rows: &[Row]) -> tempfile::TempDir {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/synthetic-breakdowns");
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "sources.csv",
        "programs.csv",
        "metrics.csv",
        "events.csv",
        "documents.csv",
    ] {
        std::fs::copy(example.join(file), dir.path().join(file)).unwrap();
    }
    let mut descriptor: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(example.join("datapackage.json")).unwrap())
            .unwrap();
    descriptor["sanctuary:dimensions"] = dimensions.clone();
    std::fs::write(
        dir.path().join("datapackage.json"),
        serde_json::to_string_pretty(&descriptor).unwrap(),
    )
    .unwrap();
    let mut text = String::from(
        "id,program,metric,period_start,period_end,dimension,category,value,qualifier,unit,status,source_id,note,basis,period_inferred,source_wording\n",
    );
    for (i, r) in rows.iter().enumerate() {
        let (qualifier, note, wording) = r.texts;
        text.push_str(&format!(
            "s{i},synthetic-city,cards_issued,{},{},{},{},{},{qualifier},cards,estimated,synthetic,{note},{},none,{wording}\n",
            r.start, r.end, r.dimension, r.category, r.value, r.basis
        ));
    }
    std::fs::write(dir.path().join("statistics.csv"), text).unwrap();
    dir
}

/// Import `releases` in order into one fresh database, each with its k; stop at the first
/// refusal. Returns the release ids imported, and the refusal's message if there was one.
async fn import_all(
    releases: &[(i64, serde_json::Value, Vec<Row>)],
) -> (Vec<String>, Option<String>, TestDb) {
    let test_db = fresh_db().await;
    let mut ids = Vec::new();
    for (k, dimensions, rows) in releases {
        let dir = package(dimensions, rows);
        match seed::import_dir(&test_db.db, dir.path(), Policy::new(*k).unwrap()).await {
            Ok(seed::ImportOutcome::Created { release, .. })
            | Ok(seed::ImportOutcome::AlreadyImported { release, .. }) => ids.push(release),
            Err(seed::ImportFailure::Invalid(problems)) => {
                return (ids, Some(problems.to_string()), test_db);
            }
            Err(e) => panic!("{e}"),
        }
    }
    (ids, None, test_db)
}

/// The import of the last release is refused (every earlier one succeeds); the message.
async fn last_refused(releases: &[(i64, serde_json::Value, Vec<Row>)]) -> String {
    let (ids, refused, _db) = import_all(releases).await;
    let message = refused.unwrap_or_else(|| panic!("every release was imported: {ids:?}"));
    assert_eq!(
        ids.len(),
        releases.len() - 1,
        "an earlier release was refused: {message}"
    );
    message
}

/// No message of a refusal shows a count of the scenario.
fn assert_no_counts(message: &str, counts: &[i64]) {
    for count in counts {
        let text = count.to_string();
        let shown = message
            .split(|c: char| !c.is_ascii_digit())
            .any(|number| number == text);
        assert!(!shown, "the message shows {count}: {message}");
    }
}

// ---------------------------------------------------------------------------------------
// L8 (R5): the texts of suppressed rows.

/// A suppressed row's note, source wording and qualifier are neither stored nor published:
/// two bundles differing only in them give byte-identical responses and the same release
/// id, and the texts appear nowhere.
#[tokio::test]
async fn l8_the_texts_of_a_suppressed_row_are_withheld_with_its_value() {
    let plain = channel(Q1, 90, 7, 3);
    let mut telling = plain.clone();
    telling[2].texts = (
        "at_most",
        "Clerk memo 7 cards online",
        "fewer than 8 cards online",
    );
    let mut published_text = plain.clone();
    published_text[1].texts = ("at_least", "counted twice", "over 89");
    published_text[2].texts = (
        "at_most",
        "Clerk memo 7 cards online",
        "fewer than 8 cards online",
    );

    let (a, none_a, db_a) = import_all(&[(11, channel_dimension(), plain)]).await;
    let (b, none_b, db_b) = import_all(&[(11, channel_dimension(), telling)]).await;
    assert!(
        none_a.is_none() && none_b.is_none(),
        "{none_a:?} {none_b:?}"
    );
    assert_eq!(a, b, "the release id depends on a suppressed row's texts");
    let app_a = sanctuary_data::build_app(sanctuary_data::AppState::new(db_a.db.clone()));
    let app_b = sanctuary_data::build_app(sanctuary_data::AppState::new(db_b.db.clone()));
    for uri in [
        "/api/v1/statistics?limit=1000",
        "/api/v1/statistics?limit=1000&format=csv",
        "/api/v1/statistics/s2",
        "/downloads/statistics.csv",
        "/",
    ] {
        let (x, y) = (get(&app_a, uri).await, get(&app_b, uri).await);
        assert_eq!(x.status, 200, "{uri}");
        assert_eq!(x.body, y.body, "{uri} differs");
        for text in ["Clerk memo", "fewer than 8", "at_most"] {
            assert!(!y.text().contains(text), "{uri} publishes {text:?}");
        }
    }
    let s2 = &get(&app_b, "/api/v1/statistics/s2").await.json()["data"];
    assert_eq!(s2["suppressed"], true, "{s2}");
    assert_eq!(s2["note"], seed::WITHHELD_TEXT, "{s2}");
    assert_eq!(s2["source_wording"], seed::WITHHELD_TEXT, "{s2}");
    assert_eq!(s2["qualifier"], seed::WITHHELD_QUALIFIER, "{s2}");

    // A published row keeps its texts.
    let mut published = channel(Q1, 80, 20, 0);
    published[1].texts = ("at_least", "counted twice", "over 79");
    let (_, none, db_c) = import_all(&[(11, channel_dimension(), published)]).await;
    assert!(none.is_none());
    let app_c = sanctuary_data::build_app(sanctuary_data::AppState::new(db_c.db.clone()));
    let s1 = &get(&app_c, "/api/v1/statistics/s1").await.json()["data"];
    assert_eq!(s1["value"], 80, "{s1}");
    assert_eq!(s1["note"], "counted twice");
    assert_eq!(s1["source_wording"], "over 79");
    assert_eq!(s1["qualifier"], "at_least");
}

// ---------------------------------------------------------------------------------------
// L7 (R4): k lowered between releases.

/// An import whose k is below an earlier release's k is refused, naming the setting and
/// the earlier k: at k = 5 the 7 hidden at k = 11 would be published.
#[tokio::test]
async fn l7_a_release_with_a_lower_k_than_an_earlier_one_is_refused() {
    let message = last_refused(&[
        (11, channel_dimension(), channel(Q1, 93, 7, 0)),
        (5, channel_dimension(), channel(Q1, 93, 7, 0)),
    ])
    .await;
    assert!(
        message.contains("--min-cell") && message.contains("at least 11"),
        "{message}"
    );
    assert_no_counts(&message, &[93, 7, 100]);

    // The same k, or a higher one, is fine.
    let (ids, refused, _db) = import_all(&[
        (11, channel_dimension(), channel(Q1, 93, 7, 0)),
        (11, channel_dimension(), channel(Q2, 50, 50, 0)),
        (12, channel_dimension(), channel(Q3, 50, 50, 0)),
    ])
    .await;
    assert_eq!(refused, None);
    assert_eq!(ids.len(), 3);
}
