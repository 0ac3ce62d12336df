//! The seed data stays true to its sources, and every figure says how it counts.
//!
//! The first half checks `seed-data/` itself: every figure has a source row and every
//! source row is cited; a publisher named in a text has a source row cited in the same
//! program; an inferred period end is explained; the source's wording is kept and agrees
//! with the number and the qualifier; `retrieved_on` stays empty until a link is checked.
//! The second half checks that `basis`, `period_inferred` and `source_wording` reach every
//! interface (REST JSON, CSV, GraphQL, the Table Schemas and the web page).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use sanctuary_data::seed::{self, Bundle};
use sanctuary_data::vocabulary::{PeriodInferred, Qualifier};
use serde_json::json;

use crate::helpers::*;

fn seed_bundle() -> Bundle {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data");
    seed::check_dir(&dir, policy()).unwrap_or_else(|e| panic!("seed-data is invalid:\n{e}"))
}

/// Publishers a text may name, and how their source rows are recognised: the source's
/// publisher starts with the needle, or its title contains it.
const PUBLISHERS: &[(&str, &str)] = &[
    ("Chicago Tribune", "Chicago Tribune"),
    ("Tribune", "Chicago Tribune"),
    ("Sun-Times", "Chicago Sun-Times"),
    ("WTTW", "WTTW"),
    ("NBC Chicago", "NBC Chicago"),
    ("ABC7", "ABC7"),
    ("CBS Chicago", "CBS Chicago"),
    ("CBS", "CBS"),
    ("Fox News", "Fox News"),
    ("Fox", "Fox News"),
    ("Crain's", "Crain's"),
    ("HuffPost", "HuffPost"),
    ("Axios", "Axios"),
    ("Staten Island Advance", "Staten Island Advance"),
    ("silive", "Staten Island Advance"),
    ("amNY", "amNY"),
    ("NY1", "NY1"),
    ("PoliticsNY", "PoliticsNY"),
    ("Newsweek", "Newsweek"),
    ("City & State", "City & State"),
    ("Immigrants Journal", "The Immigrants Journal"),
    ("NJ.com", "NJ.com"),
    ("Detroit News", "The Detroit News"),
    (
        "Detroit Journalism Cooperative",
        "Detroit Journalism Cooperative",
    ),
    ("Mission Local", "Mission Local"),
    ("East Bay Times", "East Bay Times"),
    ("Daily Record", "Daily Record"),
    ("AP", "(AP)"),
    ("Lawndale News", "Lawndale News"),
    ("Columbia Chronicle", "Columbia Chronicle"),
    ("Daily Line", "The Daily Line"),
    ("Justia", "Justia"),
    ("Casetext", "Casetext"),
    ("Studicata", "Studicata"),
    ("Councilmatic", "Chicago Councilmatic"),
    ("Chicago Evening Post", "Chicago Evening Post"),
    ("California Senate", "Senate Local Government Committee"),
];

/// Publishers whose analysis covers several programs, so their source row may be cited
/// under another program.
const CROSS_PROGRAM: &[&str] = &["California Senate"];

/// Publishers the compiled facts name without an address: a text may name them only
/// while saying so, since no source row can be made for them.
const UNCOMPILED: &[&str] = &[
    "Time Out Chicago",
    "VisaVerge",
    "particle.news",
    "Center for Popular Democracy",
];

/// Whether `text` names `name` as a whole word.
fn mentions(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Every text of the bundle with the program it belongs to and where it is.
fn texts(bundle: &Bundle) -> Vec<(String, &str, String)> {
    let mut out = Vec::new();
    for p in &bundle.programs {
        out.push((
            format!("programs:{}", p.slug),
            p.slug.as_str(),
            p.description.clone(),
        ));
    }
    for e in &bundle.events {
        let text = format!("{} {}", e.title, e.description);
        out.push((format!("events:{}", e.id), e.program.as_str(), text));
    }
    for d in &bundle.documents {
        let text = format!("{} {} {}", d.title, d.issuer, d.summary);
        out.push((format!("documents:{}", d.id), d.program.as_str(), text));
    }
    for s in bundle.statistics.models(&bundle.id) {
        let text = format!(
            "{} {}",
            s.note.as_deref().unwrap_or_default(),
            s.source_wording.as_deref().unwrap_or_default()
        );
        out.push((
            format!("statistics:{}", s.id),
            program_slug(bundle, &s.program),
            text,
        ));
    }
    out
}

/// The bundle's own copy of a program slug a statistic names (the importer checked that it
/// exists), so the statistics, built on the fly, can be borrowed like the other tables.
fn program_slug<'a>(bundle: &'a Bundle, slug: &str) -> &'a str {
    bundle
        .programs
        .iter()
        .find(|p| p.slug == slug)
        .map_or("", |p| p.slug.as_str())
}

/// The bundle's own copy of a source id a statistic cites.
fn source_id<'a>(bundle: &'a Bundle, id: &str) -> &'a str {
    bundle
        .sources
        .iter()
        .find(|s| s.id == id)
        .map_or("", |s| s.id.as_str())
}

/// Source ids cited by each program's rows (its own row, events, documents, figures).
fn cited_by_program(bundle: &Bundle) -> HashMap<&str, HashSet<&str>> {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    pairs.extend(
        bundle
            .programs
            .iter()
            .map(|p| (p.slug.as_str(), p.source_id.as_str())),
    );
    pairs.extend(
        bundle
            .events
            .iter()
            .map(|e| (e.program.as_str(), e.source_id.as_str())),
    );
    pairs.extend(
        bundle
            .documents
            .iter()
            .map(|d| (d.program.as_str(), d.source_id.as_str())),
    );
    pairs.extend(bundle.statistics.models(&bundle.id).map(|s| {
        (
            program_slug(bundle, &s.program),
            source_id(bundle, &s.source_id),
        )
    }));
    let mut map: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (program, source) in pairs {
        map.entry(program).or_default().insert(source);
    }
    map
}

#[test]
fn every_seed_figure_cites_a_source_row_and_every_source_row_is_cited() {
    let bundle = seed_bundle();
    let sources: HashSet<&str> = bundle.sources.iter().map(|s| s.id.as_str()).collect();
    for s in bundle.statistics.models(&bundle.id) {
        assert!(
            sources.contains(s.source_id.as_str()),
            "statistics:{} cites {:?}, which has no source row",
            s.id,
            s.source_id
        );
    }
    let cited: HashSet<&str> = cited_by_program(&bundle).into_values().flatten().collect();
    let unused: Vec<&str> = bundle
        .sources
        .iter()
        .map(|s| s.id.as_str())
        .filter(|id| !cited.contains(id))
        .collect();
    assert!(unused.is_empty(), "source rows no row cites: {unused:?}");
}

#[test]
fn every_publisher_a_seed_text_names_has_a_source_row_cited_in_the_same_program() {
    let bundle = seed_bundle();
    let cited = cited_by_program(&bundle);
    let all_cited: HashSet<&str> = cited.values().flatten().copied().collect();
    let mut problems = Vec::new();
    for (place, program, text) in texts(&bundle) {
        for (name, needle) in PUBLISHERS {
            if !mentions(&text, name) {
                continue;
            }
            let pool = if CROSS_PROGRAM.contains(name) {
                &all_cited
            } else {
                cited.get(program).expect("every program cites a source")
            };
            let found = bundle.sources.iter().any(|s| {
                pool.contains(s.id.as_str())
                    && (s.publisher.starts_with(needle) || s.title.contains(needle))
            });
            if !found {
                problems.push(format!(
                    "{place} names {name:?}, but no source row of {needle:?} is cited in program {program}"
                ));
            }
        }
        for name in UNCOMPILED {
            if mentions(&text, name) && !text.contains("not compiled as") {
                problems.push(format!(
                    "{place} names {name:?}, which has no compiled address; say so (\"not compiled as a source\")"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_inferred_period_end_is_explained_in_the_note() {
    let bundle = seed_bundle();
    for s in bundle.statistics.models(&bundle.id) {
        let inferred = s.period_inferred.as_deref().expect("the importer fills it");
        let inferred = PeriodInferred::parse(inferred).expect("a known value");
        if inferred == PeriodInferred::None {
            continue;
        }
        let note = s.note.as_deref().unwrap_or_default();
        assert!(
            note.contains("inferred"),
            "statistics:{} marks its period {} inferred, but its note does not say how: {note:?}",
            s.id,
            inferred.as_str()
        );
    }
}

/// How a value may be written in a source's words.
fn spellings(value: i64) -> Vec<String> {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let mut out = vec![digits, grouped];
    if value >= 1_000_000 && value % 100_000 == 0 {
        let millions = value as f64 / 1e6;
        out.push(format!("{millions} million"));
        if value == 1_000_000 {
            out.push("one million".into());
        }
    }
    out
}

#[test]
fn every_seed_figure_keeps_the_sources_wording_and_agrees_with_it() {
    let bundle = seed_bundle();
    let has_word = |text: &str, words: &[&str]| words.iter().any(|w| mentions(text, w));
    for s in bundle.statistics.models(&bundle.id) {
        let wording = s
            .source_wording
            .as_deref()
            .unwrap_or_else(|| panic!("statistics:{} has no source_wording", s.id));
        let value = s.value.expect("the seed has no suppressed cells");
        assert!(
            spellings(value)
                .iter()
                .any(|v| wording.contains(v.as_str())),
            "statistics:{}: the wording {wording:?} does not contain the value {value}",
            s.id
        );
        let lower = wording.to_lowercase();
        let qualifier = Qualifier::parse(&s.qualifier).unwrap();
        let (more, fewer, about) = (
            has_word(&lower, &["more than", "over"]),
            has_word(&lower, &["fewer than", "less than"]),
            has_word(&lower, &["about", "nearly", "around", "approximately"]),
        );
        let agrees = match qualifier {
            Qualifier::AtLeast => more,
            Qualifier::AtMost => fewer,
            Qualifier::Approximately => about,
            Qualifier::Exact => !more && !fewer && !about,
        };
        assert!(
            agrees,
            "statistics:{}: qualifier {} disagrees with the wording {wording:?}",
            s.id, s.qualifier
        );
    }
}

#[test]
fn retrieved_on_stays_empty_until_a_link_is_checked() {
    // The links were compiled from cached copies, not checked live. Whoever checks one
    // fills its retrieved_on and relaxes this test for that row.
    let bundle = seed_bundle();
    let filled: Vec<&str> = bundle
        .sources
        .iter()
        .filter(|s| s.retrieved_on.is_some())
        .map(|s| s.id.as_str())
        .collect();
    assert!(
        filled.is_empty(),
        "retrieved_on set but not checked: {filled:?}"
    );
}

#[test]
fn money_and_people_counts_that_measure_different_things_are_different_metrics() {
    let bundle = seed_bundle();
    let metrics: HashSet<&str> = bundle.metrics.iter().map(|m| m.id.as_str()).collect();
    for gone in ["funding", "people_enrolled"] {
        assert!(!metrics.contains(gone), "{gone} mixed incomparable figures");
    }
    let metric_of = |id: &str| {
        bundle
            .statistics
            .models(&bundle.id)
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no statistic {id}"))
            .metric
            .clone()
    };
    assert_eq!(metric_of("citykey-funding-2016"), "startup_allocation");
    assert_eq!(
        metric_of("citykey-outreach-funding-2018"),
        "outreach_contract"
    );
    assert_eq!(metric_of("citykey-funding-2024"), "proposed_annual_budget");
    assert_eq!(metric_of("idnyc-people-to-2019-10"), "people_helped");
    assert_eq!(metric_of("idnyc-people-to-2022-05"), "enrollees");
}

// ---------------------------------------------------------------------------------------
// The new fields over every interface (the small fixture).

#[tokio::test]
async fn statistics_say_how_they_count_over_rest_with_a_basis_filter() {
    let (app, _db) = app_with("small").await;
    let body = get(&app, "/api/v1/statistics?basis=cumulative")
        .await
        .json();
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{body}");
    assert_eq!(data[0]["id"], "beta-2016");
    assert_eq!(data[0]["basis"], "cumulative");
    assert_eq!(data[0]["period_inferred"], "both");
    assert_eq!(data[0]["source_wording"], "more than 9,600");
    let all = get(&app, "/api/v1/statistics").await.json();
    assert_eq!(all["data"][0]["basis"], "in_period");
    assert_eq!(all["data"][0]["period_inferred"], "none");
    get(&app, "/api/v1/statistics?basis=since_launch")
        .await
        .assert_problem(400, Some("basis"));
}

#[tokio::test]
async fn statistics_csv_carries_basis_period_inferred_and_source_wording() {
    let (app, _db) = app_with("small").await;
    let rows = parse_csv(&get(&app, "/downloads/statistics.csv").await.text());
    let header = &rows[0];
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
    };
    let beta = rows[1..].iter().find(|r| r[0] == "beta-2016").unwrap();
    assert_eq!(beta[col("basis")], "cumulative");
    assert_eq!(beta[col("period_inferred")], "both");
    assert_eq!(beta[col("source_wording")], "more than 9,600");
}

#[tokio::test]
async fn statistics_say_how_they_count_over_graphql() {
    let (app, _db) = app_with("small").await;
    let query = r#"{ statistics(filter: {basis: CUMULATIVE}) { totalCount
        edges { node { id basis periodInferred sourceWording } } } }"#;
    let reply = send(
        &app,
        axum::http::Request::post("/graphql")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(json!({"query": query}).to_string()))
            .unwrap(),
    )
    .await;
    let body = reply.json();
    assert_eq!(
        body["data"]["statistics"],
        json!({"totalCount": 1, "edges": [{"node": {"id": "beta-2016", "basis": "CUMULATIVE",
            "periodInferred": "BOTH", "sourceWording": "more than 9,600"}}]}),
        "{body}"
    );
}

#[tokio::test]
async fn the_table_schemas_declare_basis_and_period_inferred_as_closed_lists() {
    let (app, _db) = app_with("small").await;
    let package = get(&app, "/datapackage.json").await.json();
    let statistics = package["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "statistics")
        .unwrap();
    let field = |name: &str| {
        statistics["schema"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no field {name}"))
            .clone()
    };
    assert_eq!(
        field("basis")["constraints"]["enum"],
        json!(["in_period", "cumulative", "point_in_time"])
    );
    assert_eq!(
        field("period_inferred")["constraints"]["enum"],
        json!(["none", "start", "end", "both"])
    );
    assert_eq!(field("source_wording")["type"], "string");
    let seed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data/datapackage.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let seed_fields = seed["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "statistics")
        .unwrap()["schema"]["fields"]
        .as_array()
        .unwrap()
        .clone();
    let basis = seed_fields.iter().find(|f| f["name"] == "basis").unwrap();
    assert_eq!(basis["constraints"]["required"], true);
}

#[tokio::test]
async fn a_statistics_file_without_basis_is_refused_with_a_clear_error() {
    let dir = fixture_copy("small");
    let path = dir.path().join("statistics.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let stripped: String = text
        .lines()
        .map(|line| {
            // Drop the basis column (the third from the end; the wording may be quoted).
            let mut fields: Vec<String> = parse_csv(line).remove(0);
            fields.remove(fields.len() - 3);
            let mut out = csv::Writer::from_writer(Vec::new());
            out.write_record(&fields).unwrap();
            String::from_utf8(out.into_inner().unwrap()).unwrap()
        })
        .collect();
    std::fs::write(&path, stripped).unwrap();
    let error = seed::check_dir(dir.path(), policy())
        .expect_err("basis is required")
        .to_string();
    assert!(
        error.contains("statistics.csv:1:") && error.contains("the missing column basis"),
        "{error}"
    );
}

#[tokio::test]
async fn the_web_page_quotes_the_sources_wording_and_says_how_each_figure_counts() {
    let (app, _db) = app_with("small").await;
    let html =
        get(&app, "/programs/alpha").await.text() + &get(&app, "/programs/beta").await.text();
    for expected in [
        "In the source's words: “19,000 for all of 2022”",
        "In the source's words: “more than 9,600”",
        "more than 9,600</strong> cards · since launch",
        "19,000</strong> cards · within the period",
        "both ends inferred",
    ] {
        assert!(html.contains(expected), "pages lack {expected:?}");
    }
    assert!(
        !html.contains("are the sources' own words"),
        "the common form of a qualifier is not always the source's wording"
    );
}

#[tokio::test]
async fn a_release_imported_before_basis_existed_reads_with_null_basis() {
    use sea_orm::ConnectionTrait;
    let (app, test_db) = app_with("small").await;
    test_db
        .db
        .execute_unprepared(
            "UPDATE statistics SET basis = NULL, period_inferred = NULL, source_wording = NULL",
        )
        .await
        .unwrap();
    let body = get(&app, "/api/v1/statistics").await.json();
    assert_eq!(body["data"][0]["basis"], serde_json::Value::Null, "{body}");
    assert_eq!(body["data"][0]["source_wording"], serde_json::Value::Null);
    let html = get(&app, "/programs/alpha").await.text();
    assert!(
        html.contains("not recorded"),
        "the page says the basis is unknown"
    );
}
