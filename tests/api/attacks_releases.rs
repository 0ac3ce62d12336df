//! The adversary's findings against linked protection (L1..L10 of the review of issue #11),
//! each as an end-to-end scenario: build the releases, import them in order, and expect
//! either a refusal (a refused import publishes nothing) or output that does not carry
//! what the attack recovered. The release policy they enforce (docs/disclosure-control.md,
//! "Releases"): k never goes down, statuses are frozen once published, hidden groups cannot
//! be revised, overlapping periods are linked by a modelled tiling or hide nothing, and a
//! suppressed row's texts are withheld with its value.

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
    example_package(dimensions, &text)
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
    // What each problem says after its location (file:line:column).
    let said: Vec<&str> = message
        .lines()
        .filter_map(|line| line.split_once(" — ").map(|(_, said)| said))
        .collect();
    for count in counts {
        let text = count.to_string();
        let shown = said
            .iter()
            .flat_map(|said| said.split(|c: char| !(c.is_ascii_digit() || c == '-')))
            // Dates (2024-06-30) are not counts.
            .filter(|token| !(token.len() == 10 && token.matches('-').count() == 2))
            .flat_map(|token| token.split('-'))
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
        "/programs/synthetic-city",
        "/browse/statistics?limit=1000",
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

// ---------------------------------------------------------------------------------------
// L2, L10 (R3): frozen statuses.

/// The statistics of the latest release, id -> value (None: hidden).
async fn latest(test_db: &TestDb) -> std::collections::BTreeMap<String, Option<i64>> {
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let body = get(&app, "/api/v1/statistics?limit=1000").await.json();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_owned(), s["value"].as_i64()))
        .collect()
}

/// L2: nine releases publish online and mobile as 11..19; the tenth would hide both
/// (10 and 10 under a published total of 120). A cell was "known" only when its value
/// equalled an earlier published one, so both hidden cells were known to differ from
/// 11..19 and were pinned to 10. Now a figure once published is published again whatever
/// its value, and one that fell under k is refused.
#[tokio::test]
async fn l2_a_figure_once_published_cannot_become_hidden() {
    let mut releases: Vec<(i64, serde_json::Value, Vec<Row>)> = (11..=19)
        .map(|v| (11, channel_dimension(), channel(Q1, 100, v, v)))
        .collect();
    releases.push((11, channel_dimension(), channel(Q1, 100, 10, 10)));
    let message = last_refused(&releases).await;
    assert!(
        message.contains("once published cannot become hidden") && message.contains("release #"),
        "{message}"
    );
    assert_no_counts(&message, &[10, 20, 120]);

    // A published figure may be revised, and is published again.
    let (ids, refused, db) = import_all(&[
        (11, channel_dimension(), channel(Q1, 80, 20, 0)),
        (11, channel_dimension(), channel(Q1, 81, 20, 0)),
    ])
    .await;
    assert_eq!((ids.len(), refused), (2, None));
    let now = latest(&db).await;
    assert_eq!(now["s0"], Some(101));
    assert_eq!(now["s1"], Some(81));
}

/// L10: release 1 hides in_person (90) and online (10) under a published total of 100;
/// release 2 adds a category and revises the hidden cells (90, 0, 0 under 90). The
/// revision check was skipped when a category was added, and publishing online = 0 pinned
/// in_person of release 1 to 90. Hidden groups are now always carried, and a revision of
/// hidden figures is refused.
#[tokio::test]
async fn l10_hidden_figures_cannot_be_revised_even_when_a_category_is_added() {
    let two = json!([{ "name": "channel", "categories": ["in_person", "online"] }]);
    let first = vec![
        row(Q1, "total", "all", 100),
        row(Q1, "channel", "in_person", 90),
        row(Q1, "channel", "online", 10),
    ];
    let message = last_refused(&[
        (11, two, first),
        (11, channel_dimension(), channel(Q1, 90, 0, 0)),
    ])
    .await;
    assert!(
        message.contains("hidden figures cannot be revised")
            || message.contains("declarations are frozen"),
        "{message}"
    );
    assert_no_counts(&message, &[90, 10, 100]);
}

/// A revision of hidden cells that changes their sum is refused too; republishing them
/// unchanged with a new period is fine and keeps their status.
#[tokio::test]
async fn hidden_figures_stay_hidden_and_unrevised() {
    let message = last_refused(&[
        (11, channel_dimension(), channel(Q1, 93, 7, 0)),
        (11, channel_dimension(), channel(Q1, 93, 8, 0)),
    ])
    .await;
    assert!(
        message.contains("hidden figures cannot be revised"),
        "{message}"
    );
    assert!(message.contains("release #1"), "{message}");
    assert_no_counts(&message, &[93, 7, 8, 100, 101]);
    // (A revision that keeps every published sum, 92 and 8 for 93 and 7, publishes exactly
    // what release 1 did: the same release.)

    let mut second = channel(Q1, 93, 7, 0);
    second.extend(channel(Q2, 50, 50, 0));
    let (ids, refused, db) = import_all(&[
        (11, channel_dimension(), channel(Q1, 93, 7, 0)),
        (11, channel_dimension(), second),
    ])
    .await;
    assert_eq!((ids.len(), refused), (2, None));
    let now = latest(&db).await;
    assert_eq!(
        (now["s0"], now["s1"], now["s2"], now["s3"]),
        (Some(100), None, None, Some(0))
    );
    assert_eq!(now["s5"], Some(50));
}

/// A release that publishes an earlier period with hidden cells again keeps every row of
/// it: without the breakdown, the link protecting the hidden cells would not be modelled.
#[tokio::test]
async fn a_period_with_hidden_figures_keeps_every_row() {
    let message = last_refused(&[
        (11, channel_dimension(), channel(Q1, 93, 7, 0)),
        (11, channel_dimension(), vec![row(Q1, "total", "all", 100)]),
    ])
    .await;
    assert!(
        message.contains("every row release #1 published for this period"),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------
// L1 (R1): hierarchy x time.

/// L1: band over the half-year only, age (a child of band) over its quarters only. The
/// coarse half-year band was never linked to the fine ages of its quarters, and a1 of Q1
/// (5) was pinned. Periods linked by a tiling must now carry the same dimensions.
#[tokio::test]
async fn l1_periods_linked_by_a_tiling_carry_the_same_dimensions() {
    let dimensions = json!([
        { "name": "band", "categories": ["b1", "b2"] },
        { "name": "age", "categories": ["a1", "a2", "a3", "a4"],
          "parent": { "dimension": "band", "map": { "a1": "b1", "a2": "b1", "a3": "b2", "a4": "b2" } } }
    ]);
    let ages = |period, a: [i64; 4]| {
        let mut rows = vec![row(period, "total", "all", a.iter().sum())];
        for (category, value) in ["a1", "a2", "a3", "a4"].into_iter().zip(a) {
            rows.push(row(period, "age", category, value));
        }
        rows
    };
    let mut rows = ages(Q1, [5, 0, 50, 50]);
    rows.extend(ages(Q2, [20, 30, 70, 80]));
    rows.extend([
        row(H1, "total", "all", 305),
        row(H1, "band", "b1", 55),
        row(H1, "band", "b2", 250),
    ]);
    let message = last_refused(&[(11, dimensions.clone(), rows.clone())]).await;
    assert!(
        message.contains("the same dimensions in periods linked by a tiling")
            && message.contains("dimension band"),
        "{message}"
    );
    assert_no_counts(&message, &[5, 55, 305]);

    // With both dimensions in every period, every link is modelled: imported, and a1 of
    // Q1 is hidden.
    rows.extend(ages(H1, [25, 30, 120, 130]).into_iter().skip(1));
    rows.extend([
        row(Q1, "band", "b1", 5),
        row(Q1, "band", "b2", 100),
        row(Q2, "band", "b1", 50),
        row(Q2, "band", "b2", 150),
    ]);
    let (ids, refused, db) = import_all(&[(11, dimensions, rows)]).await;
    assert_eq!((ids.len(), &refused), (1, &None), "{refused:?}");
    let now = latest(&db).await;
    assert_eq!(now["s1"], None, "a1 of Q1 is published");
}

// ---------------------------------------------------------------------------------------
// L3, L4, L5, L6, L9 (R2): overlapping periods that no tiling links.

/// L3: a totals-only metric, 2024 with Q1, Q2 (1, hidden) and Q3 but no Q4: 2024 minus
/// Q1 and Q3 bounds Q2 by 1. Refused: the overlap is not an exact tiling and hides a cell.
#[tokio::test]
async fn l3_a_year_not_tiled_by_its_quarters_cannot_bound_a_hidden_quarter() {
    let message = last_refused(&[(
        11,
        channel_dimension(),
        vec![
            row(YEAR, "total", "all", 91),
            row(Q1, "total", "all", 30),
            row(Q2, "total", "all", 1),
            row(Q3, "total", "all", 60),
        ],
    )])
    .await;
    assert!(message.contains("overlapping periods"), "{message}");
    assert_no_counts(&message, &[91, 30, 1, 60]);

    // The same without a hidden figure is fine (nothing to narrow).
    let (ids, refused, _db) = import_all(&[(
        11,
        channel_dimension(),
        vec![
            row(YEAR, "total", "all", 120),
            row(Q1, "total", "all", 30),
            row(Q2, "total", "all", 30),
            row(Q3, "total", "all", 60),
        ],
    )])
    .await;
    assert_eq!((ids.len(), refused), (1, None));
}

/// L4: cumulative counts to 03-31 and to 06-30 plus the in-period Q2 (3), or in-period Q1
/// and Q2 plus a cumulative half-year: both bases are counts over their period, so the
/// half-year is tiled by the quarters and Q2 cannot be found by subtraction.
#[tokio::test]
async fn l4_cumulative_and_in_period_counts_are_linked_by_tilings() {
    let to_march = ("2024-01-01", "2024-03-31");
    for rows in [
        vec![
            Row {
                basis: "cumulative",
                ..row(to_march, "total", "all", 100)
            },
            Row {
                basis: "cumulative",
                ..row(H1, "total", "all", 103)
            },
            row(Q2, "total", "all", 3),
        ],
        vec![
            row(Q1, "total", "all", 40),
            row(Q2, "total", "all", 4),
            Row {
                basis: "cumulative",
                ..row(H1, "total", "all", 44)
            },
        ],
    ] {
        let (ids, refused, db) = import_all(&[(11, channel_dimension(), rows.clone())]).await;
        if refused.is_some() {
            continue;
        }
        assert_eq!(ids.len(), 1);
        let now = latest(&db).await;
        // Q2 is hidden, and so is the other part of the half-year.
        let hidden: Vec<&String> = now
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k)
            .collect();
        let q2 = if rows[2].start == Q2.0 { "s2" } else { "s1" };
        assert!(hidden.contains(&&q2.to_owned()), "{now:?}");
        assert!(hidden.len() >= 2, "Q2 alone is hidden: {now:?}");
    }
}

/// L5, L6: a period of a later release containing a period of an earlier one (cumulative
/// to 06-30 after cumulative to 03-31; 2024 after the half-year), not tiled: the hidden
/// cells of the earlier period were bounded by the later one. Refused.
#[tokio::test]
async fn l5_l6_a_later_period_containing_an_earlier_hidden_one_is_refused() {
    let to_march = ("2024-01-01", "2024-03-31");
    let message = last_refused(&[
        (
            11,
            channel_dimension(),
            based("cumulative", channel(to_march, 90, 10, 0)),
        ),
        (
            11,
            channel_dimension(),
            based("cumulative", channel(H1, 90, 30, 0)),
        ),
    ])
    .await;
    assert!(
        message.contains("overlapping periods") && message.contains("release #1"),
        "{message}"
    );
    assert_no_counts(&message, &[90, 10, 30, 100, 120]);

    let message = last_refused(&[
        (11, channel_dimension(), channel(H1, 90, 10, 0)),
        (11, channel_dimension(), channel(YEAR, 90, 60, 0)),
    ])
    .await;
    assert!(message.contains("overlapping periods"), "{message}");

    // Tiled in the later release (the half-year again, unchanged, and its other half):
    // linked, so the overlap check lets it through (the engine then protects the linked
    // system, or finds it unprotectable).
    let mut second = channel(H1, 90, 10, 0);
    second.extend(channel(("2024-07-01", "2024-12-31"), 200, 200, 0));
    second.extend(channel(YEAR, 290, 210, 0));
    let (_, refused, _db) = import_all(&[
        (11, channel_dimension(), channel(H1, 90, 10, 0)),
        (11, channel_dimension(), second),
    ])
    .await;
    assert!(
        refused
            .as_ref()
            .is_none_or(|m| !m.contains("overlapping periods")),
        "{refused:?}"
    );
}

/// L9: levels (point_in_time) at one date from two starts are one quantity: a band at
/// 03-31 "from 01-01" and ages at 03-31 "from 02-01" gave an unmodelled hierarchy link.
#[tokio::test]
async fn l9_levels_at_one_date_from_two_starts_are_refused() {
    let dimensions = json!([
        { "name": "band", "categories": ["b1", "b2"] },
        { "name": "age", "categories": ["a1", "a2", "a3", "a4"],
          "parent": { "dimension": "band", "map": { "a1": "b1", "a2": "b1", "a3": "b1", "a4": "b2" } } }
    ]);
    let from_feb = ("2024-02-01", "2024-03-31");
    let rows = based(
        "point_in_time",
        vec![
            row(Q1, "total", "all", 100),
            row(Q1, "band", "b1", 11),
            row(Q1, "band", "b2", 89),
            row(from_feb, "total", "all", 100),
            row(from_feb, "age", "a1", 5),
            row(from_feb, "age", "a2", 3),
            row(from_feb, "age", "a3", 3),
            row(from_feb, "age", "a4", 89),
        ],
    );
    let message = last_refused(&[(11, dimensions, rows)]).await;
    assert!(message.contains("levels (point_in_time)"), "{message}");
}

// ---------------------------------------------------------------------------------------
// N1..N4: the second adversary round (hierarchies split across releases, levels at one date
// from two starts across releases, small counts published by subtraction).

/// Bands b1 (a1, a2) and b2 (a3, a4).
fn band_and_age() -> serde_json::Value {
    json!([
        { "name": "band", "categories": ["b1", "b2"] },
        { "name": "age", "categories": ["a1", "a2", "a3", "a4"],
          "parent": { "dimension": "band", "map": { "a1": "b1", "a2": "b1", "a3": "b2", "a4": "b2" } } }
    ])
}

/// A period's breakdown by `dimension` (categories in order) with its total.
fn breakdown(
    period: (&'static str, &'static str),
    dimension: &'static str,
    categories: &[&'static str],
    values: &[i64],
) -> Vec<Row> {
    let mut rows = vec![row(period, "total", "all", values.iter().sum())];
    for (&category, &value) in categories.iter().zip(values) {
        rows.push(row(period, dimension, category, value));
    }
    rows
}

/// N1: bands by quarter in one release (b1 of Q1 = 5, hidden), ages for the half-year in
/// the next: b1 of the half-year is a1 + a2, so b1 of Q1 = a1 + a2 − b1 of Q2 = 5. The two
/// releases' breakdowns are linked through the hierarchy and the tiling, a link no release
/// models: refused. The reverse order (ages hidden first, bands by quarter after) too.
#[tokio::test]
async fn n1_a_hierarchy_split_across_releases_is_refused() {
    let mut bands = breakdown(Q1, "band", &["b1", "b2"], &[5, 95]);
    bands.extend(breakdown(Q2, "band", &["b1", "b2"], &[20, 80]));
    let ages = breakdown(H1, "age", &["a1", "a2", "a3", "a4"], &[12, 13, 80, 95]);
    let message = last_refused(&[
        (11, band_and_age(), bands.clone()),
        (11, band_and_age(), ages.clone()),
    ])
    .await;
    assert!(
        message.contains("release #1") && message.contains("dimension band"),
        "{message}"
    );
    assert_no_counts(&message, &[5, 95, 20, 80, 12, 13, 25, 200]);

    // The reverse: ages of the half-year with a hidden age first, then bands by quarter.
    let ages = breakdown(H1, "age", &["a1", "a2", "a3", "a4"], &[3, 30, 80, 95]);
    let mut bands = breakdown(Q1, "band", &["b1", "b2"], &[13, 95]);
    bands.extend(breakdown(Q2, "band", &["b1", "b2"], &[20, 80]));
    let message = last_refused(&[(11, band_and_age(), ages), (11, band_and_age(), bands)]).await;
    assert!(
        message.contains("release #1") && message.contains("dimension age"),
        "{message}"
    );

    // The same period, the other level: bands of the half-year with b1 hidden, then its
    // ages alone.
    let message = last_refused(&[
        (
            11,
            band_and_age(),
            breakdown(H1, "band", &["b1", "b2"], &[5, 195]),
        ),
        (
            11,
            band_and_age(),
            breakdown(H1, "age", &["a1", "a2", "a3", "a4"], &[2, 3, 100, 95]),
        ),
    ])
    .await;
    assert!(message.contains("release #1"), "{message}");

    // Hierarchies are declared per release (a later one may drop a parent map), so any two
    // dimensions over overlapping periods count as linked: refused too, unless the new
    // release publishes the earlier breakdown again (then its system links them).
    let dimensions = json!([
        { "name": "band", "categories": ["b1", "b2"] },
        { "name": "channel", "categories": ["in_person", "online", "mobile_event"] }
    ]);
    let bands = breakdown(Q1, "band", &["b1", "b2"], &[5, 95]);
    let message = last_refused(&[
        (11, dimensions.clone(), bands.clone()),
        (11, dimensions.clone(), channel(H1, 100, 60, 40)),
    ])
    .await;
    assert!(message.contains("release #1"), "{message}");
    // The first quarter by channel, with its bands again.
    let mut again = channel(Q1, 40, 30, 30);
    again.extend(bands.clone().into_iter().skip(1));
    let (ids, refused, _db) =
        import_all(&[(11, dimensions.clone(), bands), (11, dimensions, again)]).await;
    assert_eq!((ids.len(), &refused), (2, &None), "{refused:?}");
}

/// N2: a band published in one release, its ages hidden in the next: b1 of Q1 is the
/// half-year's b1 minus Q2's ages, so the hidden a1 (a2 is a published 0) is pinned to 5.
#[tokio::test]
async fn n2_a_published_parent_cannot_pin_hidden_children_in_a_later_release() {
    let first = breakdown(H1, "band", &["b1", "b2"], &[55, 245]);
    let mut second = breakdown(Q1, "age", &["a1", "a2", "a3", "a4"], &[5, 0, 50, 45]);
    second.extend(breakdown(
        Q2,
        "age",
        &["a1", "a2", "a3", "a4"],
        &[20, 30, 70, 80],
    ));
    let message = last_refused(&[(11, band_and_age(), first), (11, band_and_age(), second)]).await;
    assert!(
        message.contains("release #1") && message.contains("dimension band"),
        "{message}"
    );
    assert_no_counts(&message, &[5, 55, 245, 50, 45]);
}

/// N3: a level at 03-31 "from 01-01" with b1 hidden, then a level at 03-31 "from 02-01": one
/// quantity under two identities, so the frozen status did not apply and b1 was published.
#[tokio::test]
async fn n3_levels_at_one_date_from_two_starts_across_releases_are_refused() {
    let from_feb = ("2024-02-01", "2024-03-31");
    let first = based(
        "point_in_time",
        breakdown(Q1, "band", &["b1", "b2"], &[5, 95]),
    );
    let second = based(
        "point_in_time",
        breakdown(from_feb, "band", &["b1", "b2"], &[12, 88]),
    );
    let message = last_refused(&[(11, band_and_age(), first), (11, band_and_age(), second)]).await;
    assert!(
        message.contains("levels (point_in_time)") && message.contains("release #1"),
        "{message}"
    );
    assert_no_counts(&message, &[5, 95, 12, 88, 100]);
}

/// N4: nothing hidden, yet a small count is published by subtraction: 2024 minus three
/// quarters gives a Q4 of 1; cumulative counts to March and to June give an April–June of
/// 3; and the same across releases. Refused; a gap of 0 is fine.
#[tokio::test]
async fn n4_a_small_count_published_by_subtraction_is_refused() {
    let message = last_refused(&[(
        11,
        channel_dimension(),
        vec![
            row(YEAR, "total", "all", 91),
            row(Q1, "total", "all", 30),
            row(Q2, "total", "all", 30),
            row(Q3, "total", "all", 30),
        ],
    )])
    .await;
    assert!(message.contains("by subtraction"), "{message}");
    assert!(message.contains("2024-10-01..2024-12-31"), "{message}");
    assert_no_counts(&message, &[91, 30, 1]);

    let to_march = ("2024-01-01", "2024-03-31");
    let message = last_refused(&[(
        11,
        channel_dimension(),
        based(
            "cumulative",
            vec![
                row(to_march, "total", "all", 100),
                row(H1, "total", "all", 103),
            ],
        ),
    )])
    .await;
    assert!(message.contains("by subtraction"), "{message}");
    assert_no_counts(&message, &[100, 103, 3]);

    // Across releases: the year first, the quarters after.
    let message = last_refused(&[
        (11, channel_dimension(), vec![row(YEAR, "total", "all", 91)]),
        (
            11,
            channel_dimension(),
            vec![
                row(Q1, "total", "all", 30),
                row(Q2, "total", "all", 30),
                row(Q3, "total", "all", 30),
            ],
        ),
    ])
    .await;
    assert!(
        message.contains("by subtraction") && message.contains("release #1"),
        "{message}"
    );

    // Within a category of a breakdown: 2024 by channel, then Q1..Q3 by channel leave an
    // online Q4 of 2.
    let mut quarters = channel(Q1, 30, 20, 20);
    quarters.extend(channel(Q2, 30, 20, 20));
    quarters.extend(channel(Q3, 30, 20, 20));
    let message = last_refused(&[
        (11, channel_dimension(), channel(YEAR, 120, 62, 80)),
        (11, channel_dimension(), quarters),
    ])
    .await;
    assert!(message.contains("by subtraction"), "{message}");

    // Through a hierarchy: the half-year's bands first, then the first quarter's ages,
    // whose sums are the quarter's bands: b1 of the second quarter is 50 − 45 = 5.
    let message = last_refused(&[
        (
            11,
            band_and_age(),
            breakdown(H1, "band", &["b1", "b2"], &[50, 150]),
        ),
        (
            11,
            band_and_age(),
            breakdown(Q1, "age", &["a1", "a2", "a3", "a4"], &[20, 25, 60, 40]),
        ),
    ])
    .await;
    assert!(
        message.contains("by subtraction") && message.contains("category b1"),
        "{message}"
    );
    assert_no_counts(&message, &[50, 150, 20, 25, 45, 5]);

    // Approximate figures are not exact counts: "about 100" and "about 103" publish nothing
    // exact by subtraction.
    let about = |r: Row| Row {
        texts: ("approximately", "", ""),
        ..r
    };
    let (ids, refused, _db) = import_all(&[(
        11,
        channel_dimension(),
        based(
            "cumulative",
            vec![
                about(row(to_march, "total", "all", 100)),
                about(row(H1, "total", "all", 103)),
            ],
        ),
    )])
    .await;
    assert_eq!((ids.len(), &refused), (1, &None), "{refused:?}");
}

// ---------------------------------------------------------------------------------------
// F1..F7: the third adversary round, against the rules above.

/// F1: a breakdown without a total row publishes its total by implication: the half-year's
/// total, then the first quarter's channels (95 together) give a second quarter of 5.
#[tokio::test]
async fn f1_an_implied_total_publishes_a_small_count_by_subtraction() {
    let channels = channel(Q1, 40, 30, 25)
        .into_iter()
        .skip(1)
        .collect::<Vec<_>>();
    let half = vec![row(H1, "total", "all", 100)];
    for order in [[half.clone(), channels.clone()], [channels, half]] {
        let message = last_refused(&[
            (11, channel_dimension(), order[0].clone()),
            (11, channel_dimension(), order[1].clone()),
        ])
        .await;
        assert!(message.contains("by subtraction"), "{message}");
        assert_no_counts(&message, &[100, 40, 30, 25, 95, 5]);
    }
}

/// Region north (w1, w2) and south (w3, w4).
fn region_ward(parent: bool) -> serde_json::Value {
    let mut ward = json!({ "name": "ward", "categories": ["w1", "w2", "w3", "w4"] });
    if parent {
        ward["parent"] = json!({ "dimension": "region",
            "map": { "w1": "north", "w2": "north", "w3": "south", "w4": "south" } });
    }
    json!([{ "name": "region", "categories": ["north", "south"] }, ward])
}

/// F2: nothing hidden, a parent over the half-year and its children in the first quarter:
/// north of the second quarter is 100 − (50 + 45) = 5.
#[tokio::test]
async fn f2_a_parent_and_its_children_across_releases_publish_a_small_count() {
    let message = last_refused(&[
        (
            11,
            region_ward(true),
            breakdown(H1, "region", &["north", "south"], &[100, 200]),
        ),
        (
            11,
            region_ward(true),
            breakdown(Q1, "ward", &["w1", "w2", "w3", "w4"], &[50, 45, 50, 50]),
        ),
    ])
    .await;
    assert!(
        message.contains("by subtraction") && message.contains("north"),
        "{message}"
    );
}

/// F3: an earlier breakdown without a total row published the first quarter's total (95);
/// the next release hid it as the complement of a small second quarter, under a published
/// half-year. Now the total is known (published for good), so the protection hides
/// something else or the release is refused; either way the second quarter stays hidden.
#[tokio::test]
async fn f3_an_earlier_implied_total_is_known() {
    let ages = json!([{ "name": "age_group", "categories": ["young", "old"] }]);
    let first = vec![
        row(Q1, "age_group", "young", 50),
        row(Q1, "age_group", "old", 45),
    ];
    let second = vec![
        row(H1, "total", "all", 100),
        row(Q1, "total", "all", 95),
        row(Q2, "total", "all", 5),
    ];
    let (ids, refused, db) =
        import_all(&[(11, ages.clone(), first), (11, ages.clone(), second)]).await;
    if refused.is_none() {
        assert_eq!(ids.len(), 2);
        let app = sanctuary_data::build_app(sanctuary_data::AppState::new(db.db.clone()));
        let body = get(&app, "/api/v1/statistics?limit=1000&dimension=total")
            .await
            .json();
        let value = |start: &str, end: &str| {
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["period_start"] == start && s["period_end"] == end)
                .map(|s| s["value"].as_i64())
                .unwrap()
        };
        assert_eq!(value(Q1.0, Q1.1), Some(95), "the known total is published");
        assert_eq!(
            value(H1.0, H1.1),
            None,
            "the half-year would give the quarter"
        );
    }

    // F3b: young 11, old 0 publish a total of 11; channels 5, 5, 1 under it can only be
    // hidden with the total, which is known: refused (each channel would be at most 9).
    let message = last_refused(&[
        (
            11,
            json!([{ "name": "age_group", "categories": ["young", "old"] },
                    { "name": "channel", "categories": ["in_person", "online", "mobile_event"] }]),
            vec![
                row(Q1, "age_group", "young", 11),
                row(Q1, "age_group", "old", 0),
            ],
        ),
        (
            11,
            json!([{ "name": "age_group", "categories": ["young", "old"] },
                    { "name": "channel", "categories": ["in_person", "online", "mobile_event"] }]),
            channel(Q1, 5, 5, 1),
        ),
    ])
    .await;
    assert_no_counts(&message, &[11, 5]);
}

/// F4: a published figure revised (150, then 105), then a quarter of 100: the revised
/// half-year gives a second quarter of 5. Both values stay published, and either may be
/// used.
#[tokio::test]
async fn f4_a_revised_figure_is_used_by_subtraction() {
    let message = last_refused(&[
        (11, channel_dimension(), vec![row(H1, "total", "all", 150)]),
        (11, channel_dimension(), vec![row(H1, "total", "all", 105)]),
        (11, channel_dimension(), vec![row(Q1, "total", "all", 100)]),
    ])
    .await;
    assert!(message.contains("by subtraction"), "{message}");

    // Any vintage, not only the newest and the oldest: the middle half-year (150) minus a
    // quarter of 145; and the old half-year (150) minus a revised quarter (145).
    let message = last_refused(&[
        (11, channel_dimension(), vec![row(H1, "total", "all", 100)]),
        (11, channel_dimension(), vec![row(H1, "total", "all", 150)]),
        (11, channel_dimension(), vec![row(H1, "total", "all", 200)]),
        (11, channel_dimension(), vec![row(Q1, "total", "all", 145)]),
    ])
    .await;
    assert!(message.contains("by subtraction"), "{message}");
    let message = last_refused(&[
        (
            11,
            channel_dimension(),
            vec![row(H1, "total", "all", 150), row(Q1, "total", "all", 100)],
        ),
        (
            11,
            channel_dimension(),
            vec![row(H1, "total", "all", 200), row(Q1, "total", "all", 145)],
        ),
    ])
    .await;
    assert!(message.contains("by subtraction"), "{message}");
}

/// F5: a difference of one set of periods minus a wider one of another set inside it:
/// the two quarters (100 together) minus February to May (95) give January and June, 5;
/// the year (200) minus February–March and April–May (195) gives the rest, 5.
#[tokio::test]
async fn f5_a_derived_period_minus_another_inside_it() {
    let feb_may = ("2024-02-01", "2024-05-31");
    let message = last_refused(&[(
        11,
        channel_dimension(),
        vec![
            row(Q1, "total", "all", 50),
            row(Q2, "total", "all", 50),
            row(feb_may, "total", "all", 95),
        ],
    )])
    .await;
    assert!(
        message.contains("by subtraction") && message.contains("outside"),
        "{message}"
    );
    let message = last_refused(&[(
        11,
        channel_dimension(),
        vec![
            row(YEAR, "total", "all", 200),
            row(("2024-02-01", "2024-03-31"), "total", "all", 50),
            row(("2024-04-01", "2024-05-31"), "total", "all", 145),
        ],
    )])
    .await;
    assert!(message.contains("by subtraction"), "{message}");
}

/// F6: the hierarchy is declared per release: a later release that drops the ward's parent
/// map still publishes wards that the attacker sums into the earlier hidden regions.
/// Breakdowns of any two dimensions over overlapping periods count as linked.
#[tokio::test]
async fn f6_dropping_a_parent_map_does_not_unlink_a_hierarchy() {
    let message = last_refused(&[
        (
            11,
            region_ward(true),
            breakdown(H1, "region", &["north", "south"], &[5, 95]),
        ),
        (
            11,
            region_ward(false),
            breakdown(Q1, "ward", &["w1", "w2", "w3", "w4"], &[0, 0, 50, 45]),
        ),
    ])
    .await;
    assert!(
        message.contains("release #1")
            && (message.contains("dimension region") || message.contains("dimension ward")),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------
// Round 4: declarations that change between releases.

/// A1/A2: the first quarter by channel without a total row (95 together), then a release
/// declaring no dimension (or other categories) with the half-year and its quarters: the
/// earlier breakdown still publishes its total, so the hidden second quarter was 100 − 95.
/// Declarations are frozen in a database: a release must declare every dimension an
/// earlier release declared, the same way.
#[tokio::test]
async fn r4_declarations_cannot_change_between_releases() {
    let first = channel(Q1, 40, 30, 25)
        .into_iter()
        .skip(1)
        .collect::<Vec<_>>();
    let second = vec![
        row(H1, "total", "all", 100),
        row(Q1, "total", "all", 95),
        row(Q2, "total", "all", 5),
    ];
    let with_kiosk = json!([{ "name": "channel", "categories": ["in_person", "online", "mobile_event", "kiosk"] }]);
    for declared in [json!([]), with_kiosk] {
        let message = last_refused(&[
            (11, channel_dimension(), first.clone()),
            (11, declared, second.clone()),
        ])
        .await;
        assert!(
            message.contains("release #1") && message.contains("channel"),
            "{message}"
        );
        assert_no_counts(&message, &[40, 30, 25, 95, 100, 5]);
    }

    // A3: a parent map dropped or changed.
    let wards = breakdown(Q1, "ward", &["w1", "w2", "w3", "w4"], &[50, 45, 50, 50]);
    let regions = breakdown(H1, "region", &["north", "south"], &[100, 200]);
    let message = last_refused(&[
        (11, region_ward(true), wards.clone()),
        (11, region_ward(false), regions.clone()),
    ])
    .await;
    assert!(
        message.contains("release #1") && message.contains("ward"),
        "{message}"
    );

    // The same declarations again (in another order) are fine.
    let reordered = json!([
        { "name": "ward", "categories": ["w4", "w3", "w2", "w1"],
          "parent": { "dimension": "region",
            "map": { "w1": "north", "w2": "north", "w3": "south", "w4": "south" } } },
        { "name": "region", "categories": ["south", "north"] }
    ]);
    let (ids, refused, _db) = import_all(&[
        (11, region_ward(true), wards),
        (
            11,
            reordered,
            breakdown(
                ("2024-07-01", "2024-09-30"),
                "ward",
                &["w1", "w2", "w3", "w4"],
                &[50, 45, 50, 50],
            ),
        ),
    ])
    .await;
    assert_eq!((ids.len(), &refused), (2, &None), "{refused:?}");
}

// ---------------------------------------------------------------------------------------
// Issue #15: releases side by side, and diffs between them.

/// A total revised up by a small amount between releases. With a breakdown that hides
/// cells, the revision moves hidden figures (refused: hidden figures cannot be revised);
/// with the breakdown fully published before, the small increase lands in a new small
/// cell that the difference of the totals would pin (refused: a figure once published
/// cannot become hidden). A fully published breakdown revised by the same amount is fine.
#[tokio::test]
async fn a_total_revised_up_by_a_small_amount_is_refused_when_it_would_pin_a_cell() {
    // 100 = 93 + 7 + 0 (7 and 93 hidden), then 103 = 93 + 10 + 0.
    let message = last_refused(&[
        (11, channel_dimension(), channel(Q1, 93, 7, 0)),
        (11, channel_dimension(), channel(Q1, 93, 10, 0)),
    ])
    .await;
    assert!(
        message.contains("hidden figures cannot be revised"),
        "{message}"
    );
    assert_no_counts(&message, &[93, 7, 10, 100, 103]);

    // The total alone revised (103 for 100): the period's hidden rows must come again.
    let message = last_refused(&[
        (11, channel_dimension(), channel(Q1, 93, 7, 0)),
        (11, channel_dimension(), vec![row(Q1, "total", "all", 103)]),
    ])
    .await;
    assert!(message.contains("release #1"), "{message}");

    // 100 = 50 + 50 + 0 all published, then 103 = 50 + 50 + 3: 103 - 100 would pin the 3.
    let message = last_refused(&[
        (11, channel_dimension(), channel(Q1, 50, 50, 0)),
        (11, channel_dimension(), channel(Q1, 50, 50, 3)),
    ])
    .await;
    assert!(
        message.contains("once published cannot become hidden"),
        "{message}"
    );
    assert_no_counts(&message, &[3, 103]);

    // 100 = 50 + 50 + 0, then 112 = 50 + 50 + 12: nothing is hidden, and it is published.
    let (ids, refused, _db) = import_all(&[
        (11, channel_dimension(), channel(Q1, 50, 50, 0)),
        (11, channel_dimension(), channel(Q1, 50, 50, 12)),
    ])
    .await;
    assert_eq!((ids.len(), refused), (2, None));
}

/// A diff between two releases never carries a suppressed cell's value: release 1 hides
/// 93 and 7 in the first quarter; release 2 publishes them again (hidden) with a second
/// quarter that hides 4 and 96, and revises nothing hidden. Every `value` in the diff, in
/// JSON and CSV, is either a published figure or null with its side marked suppressed.
#[tokio::test]
async fn a_diff_between_releases_never_carries_a_suppressed_value() {
    let mut second = channel(Q1, 93, 7, 0);
    second.extend(channel(Q2, 96, 4, 0));
    let (ids, refused, test_db) = import_all(&[
        (11, channel_dimension(), channel(Q1, 93, 7, 0)),
        (11, channel_dimension(), second),
    ])
    .await;
    assert_eq!((ids.len(), &refused), (2, &None), "{refused:?}");
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let hidden = ["93", "7", "96", "4"];

    let body = get(
        &app,
        &format!("/api/v1/releases/{}/diff/{}", ids[0], ids[1]),
    )
    .await
    .json();
    let changes = body["data"].as_array().unwrap();
    assert!(!changes.is_empty(), "the second quarter was added");
    let mut suppressed_sides = 0;
    for change in changes {
        for field in change["fields"].as_array().unwrap() {
            for (value, suppressed) in [("old", "old_suppressed"), ("new", "new_suppressed")] {
                if field[suppressed] == true {
                    suppressed_sides += 1;
                    assert!(field[value].is_null(), "{field}");
                }
                if let Some(text) = field[value].as_str() {
                    assert!(!hidden.contains(&text), "{field}");
                }
            }
        }
    }
    // Nothing hidden was revised, so no suppressed side appears as a change at all.
    assert_eq!(suppressed_sides, 0);
    // Added rows carry their key only: nothing to read a hidden value from.
    assert!(
        changes
            .iter()
            .filter(|c| c["change"] == "added")
            .all(|c| c["fields"].as_array().unwrap().is_empty())
    );
    let csv = get(
        &app,
        &format!("/api/v1/releases/{}/diff/{}?format=csv", ids[0], ids[1]),
    )
    .await
    .text();
    for row in parse_csv(&csv).iter().skip(1) {
        assert!(
            !hidden.contains(&row[4].as_str()) && !hidden.contains(&row[5].as_str()),
            "{row:?}"
        );
    }
    // The other way round (a row removed) is no different.
    let back = get(
        &app,
        &format!("/api/v1/releases/{}/diff/{}", ids[1], ids[0]),
    )
    .await
    .json();
    assert_eq!(back["meta"]["total"], body["meta"]["total"]);
}
