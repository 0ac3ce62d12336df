//! GraphQL: root fields.

use super::*;

#[tokio::test]
async fn programs_lists_every_program_with_its_source() {
    let (app, _db) = app_with("small").await;
    let data = data(
        &app,
        "{ programs { totalCount nodes { slug name jurisdiction administeredBy launchedOn status website source { id kind } } } }",
    )
    .await;
    let programs = &data["programs"];
    assert_eq!(programs["totalCount"], 2);
    assert_eq!(
        programs["nodes"][0],
        json!({
            "slug": "alpha", "name": "Alpha ID", "jurisdiction": "Alpha City",
            "administeredBy": "Alpha Clerk", "launchedOn": "2018-04-30", "status": "ACTIVE",
            "website": "https://example.org/alpha", "source": { "id": "src-a", "kind": "GOVERNMENT" }
        })
    );
    assert_eq!(programs["nodes"][1]["slug"], "beta");
    assert_eq!(programs["nodes"][1]["launchedOn"], Value::Null);
    assert_eq!(programs["nodes"][1]["status"], "UNKNOWN");
}

#[tokio::test]
async fn programs_filter_by_status() {
    let (app, _db) = app_with("small").await;
    let data = data(
        &app,
        "{ programs(filter: { status: UNKNOWN }) { totalCount nodes { slug } } }",
    )
    .await;
    assert_eq!(ids(&data["programs"]["nodes"]), vec!["beta"]);
    assert_eq!(data["programs"]["totalCount"], 1);
}

#[tokio::test]
async fn program_by_slug_has_its_nested_collections_and_unknown_slugs_are_null() {
    let (app, _db) = app_with("small").await;
    let data = data(
        &app,
        r#"{
          alpha: program(slug: "alpha") {
            name
            statistics { totalCount nodes { id value metric { id name unit } } }
            events { totalCount nodes { id date kind } }
            documents { totalCount nodes { id kind publishedOn } }
          }
          nobody: program(slug: "gamma") { name }
        }"#,
    )
    .await;
    let alpha = &data["alpha"];
    assert_eq!(alpha["name"], "Alpha ID");
    assert_eq!(alpha["statistics"]["totalCount"], 2);
    assert_eq!(
        alpha["statistics"]["nodes"][0],
        json!({ "id": "alpha-2022", "value": 19000,
                "metric": { "id": "cards_issued", "name": "Cards issued", "unit": "cards" } })
    );
    assert_eq!(
        ids(&alpha["events"]["nodes"]),
        vec!["alpha-launch", "alpha-pause"]
    );
    assert_eq!(alpha["events"]["nodes"][1]["kind"], "SUSPENSION");
    assert_eq!(
        alpha["documents"]["nodes"],
        json!([{ "id": "alpha-code", "kind": "ORDINANCE", "publishedOn": "2017-04-19" }])
    );
    assert_eq!(data["nobody"], Value::Null);
}

#[tokio::test]
async fn statistics_carry_source_metric_value_suppression_and_qualifier() {
    let (app, _db) = app_with("small").await;
    let data = data(
        &app,
        r#"{ statistics(filter: { program: "alpha" }) { totalCount nodes {
              id program periodStart periodEnd dimension category value suppressed
              suppressionReason qualifier unit status note
              source { id title publisher url }
              metric { id description } } } }"#,
    )
    .await;
    let statistics = &data["statistics"];
    assert_eq!(statistics["totalCount"], 2);
    assert_eq!(
        statistics["nodes"][1],
        json!({
            "id": "alpha-2023", "program": "alpha", "periodStart": "2023-01-01",
            "periodEnd": "2023-12-31", "dimension": "total", "category": "all", "value": 24000,
            "suppressed": false, "suppressionReason": null, "qualifier": "APPROXIMATELY",
            "unit": "cards", "status": "REPORTED", "note": "Synthetic note",
            "source": { "id": "src-b", "title": "Synthetic source B, with a comma",
                        "publisher": "Test News", "url": "https://example.org/b" },
            "metric": { "id": "cards_issued", "description": "Synthetic metric." }
        })
    );
}

#[tokio::test]
async fn statistics_filters_combine() {
    let (app, _db) = app_with("small").await;
    let cases = [
        (r#"{ program: "beta" }"#, vec!["beta-2016"]),
        (
            r#"{ metric: "cards_issued", from: "2023-01-01" }"#,
            vec!["alpha-2023"],
        ),
        (r#"{ to: "2016-01-01" }"#, vec!["beta-2016"]),
        (
            r#"{ dimension: "total", category: "all", status: REPORTED, program: "alpha" }"#,
            vec!["alpha-2022", "alpha-2023"],
        ),
        (r#"{ metric: "no_such_metric" }"#, vec![]),
        (r#"{ status: FINAL }"#, vec![]),
    ];
    for (filter, expected) in cases {
        let data = data(
            &app,
            &format!("{{ statistics(filter: {filter}) {{ totalCount nodes {{ id }} }} }}"),
        )
        .await;
        assert_eq!(
            ids(&data["statistics"]["nodes"]),
            expected,
            "filter {filter}"
        );
        assert_eq!(
            data["statistics"]["totalCount"],
            expected.len(),
            "filter {filter}"
        );
    }
}

#[tokio::test]
async fn events_filter_by_program_kind_and_dates() {
    let (app, _db) = app_with("small").await;
    let data = data(
        &app,
        r#"{
          all: events { totalCount nodes { id date datePrecision title source { id } } }
          alpha: events(filter: { program: "alpha" }) { nodes { id } }
          launches: events(filter: { kind: LAUNCH }) { nodes { id } }
          recent: events(filter: { from: "2018-01-01", to: "2020-12-31" }) { nodes { id } }
        }"#,
    )
    .await;
    assert_eq!(
        ids(&data["all"]["nodes"]),
        vec!["beta-ordinance", "alpha-launch", "alpha-pause"]
    );
    assert_eq!(
        data["all"]["nodes"][0],
        json!({ "id": "beta-ordinance", "date": "2015-05-01", "datePrecision": "MONTH",
                "title": "Beta ordinance", "source": { "id": "src-b" } })
    );
    assert_eq!(
        ids(&data["alpha"]["nodes"]),
        vec!["alpha-launch", "alpha-pause"]
    );
    assert_eq!(ids(&data["launches"]["nodes"]), vec!["alpha-launch"]);
    assert_eq!(ids(&data["recent"]["nodes"]), vec!["alpha-launch"]);
}

#[tokio::test]
async fn documents_filter_and_search_titles_and_summaries() {
    let (app, _db) = app_with("small").await;
    let data = data(
        &app,
        r#"{
          all: documents { totalCount nodes { id title issuer url summary publishedOn } }
          search: documents(search: "RECORDS") { nodes { id } }
          summary: documents(search: "creating the card") { nodes { id } }
          dated: documents(filter: { from: "2000-01-01" }) { nodes { id } }
          statements: documents(filter: { kind: STATEMENT, program: "beta" }) { nodes { id } }
          nothing: documents(search: "100%") { totalCount }
        }"#,
    )
    .await;
    assert_eq!(data["all"]["totalCount"], 2);
    assert_eq!(data["all"]["nodes"][1]["publishedOn"], Value::Null);
    assert_eq!(ids(&data["search"]["nodes"]), vec!["beta-statement"]);
    assert_eq!(ids(&data["summary"]["nodes"]), vec!["alpha-code"]);
    assert_eq!(
        ids(&data["dated"]["nodes"]),
        vec!["alpha-code"],
        "undated documents are left out of a date window"
    );
    assert_eq!(ids(&data["statements"]["nodes"]), vec!["beta-statement"]);
    assert_eq!(data["nothing"]["totalCount"], 0);
}

#[tokio::test]
async fn sources_source_and_metrics_come_from_the_release() {
    let (app, _db) = app_with("small").await;
    let data = data(
        &app,
        r#"{
          sources { totalCount nodes { id title publisher url publishedOn retrievedOn kind } }
          news: sources(filter: { kind: NEWS }) { nodes { id } }
          one: source(id: "src-b") { title kind }
          none: source(id: "src-z") { title }
          metrics { totalCount nodes { id name description unit } }
        }"#,
    )
    .await;
    assert_eq!(data["sources"]["totalCount"], 2);
    assert_eq!(
        data["sources"]["nodes"][0],
        json!({ "id": "src-a", "title": "Synthetic source A", "publisher": "Test Publisher",
                "url": "https://example.org/a", "publishedOn": "2020-01-02", "retrievedOn": null,
                "kind": "GOVERNMENT" })
    );
    assert_eq!(ids(&data["news"]["nodes"]), vec!["src-b"]);
    assert_eq!(
        data["one"],
        json!({ "title": "Synthetic source B, with a comma", "kind": "NEWS" })
    );
    assert_eq!(data["none"], Value::Null);
    assert_eq!(
        data["metrics"],
        json!({ "totalCount": 1, "nodes": [{ "id": "cards_issued", "name": "Cards issued",
                "description": "Synthetic metric.", "unit": "cards" }] })
    );
}

#[tokio::test]
async fn releases_and_release_describe_the_snapshot_and_its_disclosure_policy() {
    let (app, test_db) = app_with("small").await;
    let id = latest_release(&test_db.db).await;
    let data = data(
        &app,
        &format!(
            r#"{{
              releases {{ id seq title importedAt disclosure {{ minCell method suppressionReason }} }}
              latest: release {{ id }}
              byId: release(id: "{id}") {{ seq }}
              unknown: release(id: "{zeros}") {{ seq }}
              malformed: release(id: "nope") {{ seq }}
            }}"#,
            zeros = "0".repeat(64)
        ),
    )
    .await;
    let release = &data["releases"][0];
    assert_eq!(data["releases"].as_array().unwrap().len(), 1);
    assert_eq!(release["id"], id.as_str());
    assert_eq!(release["seq"], 1);
    assert_eq!(release["title"], "Synthetic test fixture (not real data)");
    assert!(
        chrono::DateTime::parse_from_rfc3339(release["importedAt"].as_str().unwrap()).is_ok(),
        "{release}"
    );
    assert_eq!(release["disclosure"]["minCell"], 11);
    assert_eq!(release["disclosure"]["suppressionReason"], "small_count");
    assert_eq!(data["latest"]["id"], id.as_str());
    assert_eq!(data["byId"]["seq"], 1);
    assert_eq!(data["unknown"], Value::Null);
    assert_eq!(data["malformed"], Value::Null);
}

#[tokio::test]
async fn an_earlier_release_is_selectable_with_the_release_argument() {
    let test_db = fresh_db().await;
    import(&test_db.db, &fixture("small")).await;
    let first = latest_release(&test_db.db).await;
    let dir = fixture_copy("small");
    edit(dir.path(), "statistics.csv", ",19000,", ",19001,");
    import(&test_db.db, dir.path()).await;
    let second = latest_release(&test_db.db).await;
    assert_ne!(first, second);
    let app = build_app(AppState::new(test_db.db.clone()));
    let query = |release: Option<&str>| {
        let arg = release
            .map(|r| format!(r#"release: "{r}""#))
            .unwrap_or_default();
        let paren = if arg.is_empty() {
            String::new()
        } else {
            format!("({arg})")
        };
        format!(
            r#"{{
              statistics(filter: {{ program: "alpha" }}, first: 1 {comma} {arg}) {{
                nodes {{ value metric {{ name }} }} edges {{ cursor }} }}
              program(slug: "alpha" {comma} {arg}) {{ statistics(first: 1) {{ nodes {{ value }} }} }}
              programs{paren} {{ nodes {{ slug statistics(first: 1) {{ nodes {{ value }} }} }} }}
            }}"#,
            comma = if arg.is_empty() { "" } else { "," },
        )
    };
    let old = data(&app, &query(Some(&first))).await;
    assert_eq!(old["statistics"]["nodes"][0]["value"], 19000);
    assert_eq!(old["program"]["statistics"]["nodes"][0]["value"], 19000);
    assert_eq!(
        old["programs"]["nodes"][0]["statistics"]["nodes"][0]["value"], 19000,
        "nested fields read the release of their root field"
    );
    let new = data(&app, &query(None)).await;
    assert_eq!(new["statistics"]["nodes"][0]["value"], 19001);
    assert_eq!(new["program"]["statistics"]["nodes"][0]["value"], 19001);
    assert_eq!(
        new["programs"]["nodes"][0]["statistics"]["nodes"][0]["value"],
        19001
    );

    // A cursor carries its release: continuing from an old cursor stays in the old release.
    let cursor = old["statistics"]["edges"][0]["cursor"].as_str().unwrap();
    let next = data(
        &app,
        &format!(
            r#"{{ statistics(first: 5, after: "{cursor}") {{ nodes {{ id value }} totalCount }} }}"#
        ),
    )
    .await;
    assert_eq!(next["statistics"]["nodes"][0]["id"], "alpha-2023");
    // …and one aimed at another release is an error naming `after`.
    let error = first_error(
        &app,
        &format!(r#"{{ statistics(after: "{cursor}", release: "{second}") {{ totalCount }} }}"#),
    )
    .await;
    assert_eq!(error["extensions"]["parameter"], "after", "{error}");
}

#[tokio::test]
async fn an_unknown_release_is_an_error_naming_release() {
    let (app, _db) = app_with("small").await;
    let error = first_error(
        &app,
        &format!(
            r#"{{ statistics(release: "{}") {{ totalCount }} }}"#,
            "0".repeat(64)
        ),
    )
    .await;
    assert_eq!(error["extensions"]["parameter"], "release", "{error}");
    assert_eq!(error["extensions"]["status"], 404, "{error}");
    assert_eq!(
        error["extensions"]["type"],
        "urn:sanctuary-data:problem:not-found"
    );
    let error = first_error(&app, r#"{ programs(release: "latest") { totalCount } }"#).await;
    assert_eq!(error["extensions"]["parameter"], "release", "{error}");
    assert_eq!(error["extensions"]["status"], 400, "{error}");
}
