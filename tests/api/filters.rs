//! Multi-value filters (issue #14): `program=a,b` (commas; a repeated parameter is a 400
//! that says to use commas), the same for every list filter, `qualifier` and `suppressed`
//! on statistics, GraphQL list filters, and a bound on the number of values.

use serde_json::json;

use crate::helpers::*;

use crate::helpers::graphql_reply as graphql;

#[tokio::test]
async fn a_list_filter_matches_any_of_its_values_in_canonical_order() {
    let (app, _db) = app_with("small").await;
    for (table, name, values) in [
        ("statistics", "program", ["alpha", "beta"]),
        ("events", "program", ["beta", "alpha"]),
        ("documents", "program", ["alpha", "beta"]),
        ("events", "kind", ["launch", "ordinance"]),
        ("statistics", "qualifier", ["exact", "approximately"]),
        ("programs", "status", ["active", "unknown"]),
        ("sources", "kind", ["government", "news"]),
    ] {
        let all = ids(&get(&app, &format!("/api/v1/{table}")).await.json());
        let one = ids(&get(&app, &format!("/api/v1/{table}?{name}={}", values[0]))
            .await
            .json());
        let two = ids(&get(&app, &format!("/api/v1/{table}?{name}={}", values[1]))
            .await
            .json());
        let both = get(
            &app,
            &format!("/api/v1/{table}?{name}={},{}", values[0], values[1]),
        )
        .await
        .json();
        let expected: Vec<String> = all
            .iter()
            .filter(|id| one.contains(id) || two.contains(id))
            .cloned()
            .collect();
        assert_eq!(ids(&both), expected, "{table}?{name}={values:?}");
        assert_eq!(both["meta"]["total"], expected.len());
    }
}

#[tokio::test]
async fn list_filters_agree_with_graphql_and_suppressed_splits_the_rows() {
    let test_db = fresh_db().await;
    import(
        &test_db.db,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/synthetic-breakdowns"),
    )
    .await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let total = get(&app, "/api/v1/statistics?limit=1").await.json()["meta"]["total"]
        .as_u64()
        .unwrap();
    let hidden = get(&app, "/api/v1/statistics?suppressed=true&limit=1000")
        .await
        .json();
    let shown = get(&app, "/api/v1/statistics?suppressed=false&limit=1000")
        .await
        .json();
    assert!(hidden["meta"]["total"].as_u64().unwrap() > 0);
    assert_eq!(
        hidden["meta"]["total"].as_u64().unwrap() + shown["meta"]["total"].as_u64().unwrap(),
        total
    );
    assert!(
        hidden["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["suppressed"] == true && r["value"].is_null())
    );
    assert!(
        shown["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["suppressed"] == false)
    );
    for (rest, filter) in [
        (
            "dimension=channel,language",
            json!({"dimension": ["channel", "language"]}),
        ),
        (
            "dimension=channel,language&suppressed=true",
            json!({"dimension": ["channel", "language"], "suppressed": true}),
        ),
        (
            "category=online,french,ward_03&qualifier=exact",
            json!({"category": ["online", "french", "ward_03"], "qualifier": ["EXACT"]}),
        ),
        (
            "status=estimated,reported&basis=in_period",
            json!({"status": ["ESTIMATED", "REPORTED"], "basis": "IN_PERIOD"}),
        ),
    ] {
        let rest_ids = ids(&get(&app, &format!("/api/v1/statistics?limit=1000&{rest}"))
            .await
            .json());
        assert!(!rest_ids.is_empty(), "{rest}");
        let gql = graphql(
            &app,
            "query($f: StatisticFilter) { statistics(filter: $f, first: 1000) { nodes { id } } }",
            json!({"f": filter}),
        )
        .await;
        let gql_ids: Vec<String> = gql["data"]["statistics"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{gql}"))
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(rest_ids, gql_ids, "{rest}");
    }
}

#[tokio::test]
async fn repeated_empty_unknown_and_too_many_values_are_400s_naming_the_parameter() {
    let (app, _db) = app_with("small").await;
    let detail = get(&app, "/api/v1/statistics?program=alpha&program=beta")
        .await
        .assert_problem(400, Some("program"));
    assert!(
        detail.contains("commas") && detail.contains("program=a,b"),
        "{detail}"
    );
    for (uri, name) in [
        ("/api/v1/statistics?program=alpha,", "program"),
        ("/api/v1/statistics?metric=,cards_issued", "metric"),
        ("/api/v1/events?kind=launch,nope", "kind"),
        ("/api/v1/statistics?qualifier=exactly", "qualifier"),
        ("/api/v1/statistics?suppressed=yes", "suppressed"),
        ("/api/v1/programs?status=active,,unknown", "status"),
    ] {
        get(&app, uri).await.assert_problem(400, Some(name));
    }
    let many: Vec<String> = (0..51).map(|i| format!("p{i}")).collect();
    let detail = get(
        &app,
        &format!("/api/v1/statistics?program={}", many.join(",")),
    )
    .await
    .assert_problem(400, Some("program"));
    assert!(detail.contains("at most 50"), "{detail}");
    // Fifty is fine, and a value given twice counts once.
    let fifty = get(
        &app,
        &format!("/api/v1/statistics?program=alpha,{}", many[..49].join(",")),
    )
    .await;
    assert_eq!(fifty.status, 200);
    assert_eq!(
        ids(&get(&app, "/api/v1/statistics?program=alpha,alpha")
            .await
            .json()),
        ids(&get(&app, "/api/v1/statistics?program=alpha").await.json())
    );
    let gql = graphql(
        &app,
        "query($p: [String!]) { statistics(filter: {program: $p}) { nodes { id } } }",
        json!({"p": many}),
    )
    .await;
    assert_eq!(
        gql["errors"][0]["extensions"]["parameter"], "program",
        "{gql}"
    );
    let gql = graphql(
        &app,
        "{ statistics(filter: {program: [\"alpha\", \"\"]}) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        gql["errors"][0]["extensions"]["parameter"], "program",
        "{gql}"
    );
}

/// A period filter with `to` is also bounded by the release's longest period, stored at
/// import (issue #12: one range of `statistics_period`): the stored value is the longest
/// period of the release's rows, the windows give the rows a brute force over every row
/// gives, and the stored value is what is read (a smaller one loses rows).
#[tokio::test]
async fn a_period_window_is_bounded_by_the_longest_period_stored_at_import() {
    use sanctuary_data::entity::{release, statistic};
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};

    let test_db = fresh_db().await;
    import(&test_db.db, synthetic_fixture(1500).path()).await;
    let rows = statistic::Entity::find().all(&test_db.db).await.unwrap();
    let longest = rows
        .iter()
        .map(|r| (r.period_end - r.period_start).num_days())
        .max()
        .unwrap();
    let stored = release::Entity::find()
        .one(&test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.longest_period_days, Some(longest));
    assert!(longest > 0, "the fixture has periods longer than a day");

    let mut days: Vec<_> = rows.iter().map(|r| r.period_start).collect();
    days.sort_unstable();
    days.dedup();
    let last = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
    let windows = [
        (days[days.len() / 3], days[days.len() / 3]),
        (days[days.len() / 2], days[days.len() / 2 + 1]),
        (days[0], days[1]),
        // `to + longest` past year 9999: no bound (it would not be a ten-character date).
        (days[0], last),
    ];
    let count = |app: axum::Router, from: chrono::NaiveDate, to: chrono::NaiveDate| async move {
        let reply = get(
            &app,
            &format!("/api/v1/statistics?from={from}&to={to}&limit=1"),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.header("x-total-count").parse::<usize>().unwrap()
    };
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    for (from, to) in windows {
        let expected = rows
            .iter()
            .filter(|r| r.period_end >= from && r.period_start <= to)
            .count();
        assert!(expected > 0, "{from}..{to}");
        assert_eq!(count(app.clone(), from, to).await, expected, "{from}..{to}");
    }

    // The stored value is what bounds the query: with 0, rows ending after `to` are lost.
    let mut tampered = stored.into_active_model();
    tampered.longest_period_days = Set(Some(0));
    tampered.update(&test_db.db).await.unwrap();
    let fresh = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let widest = rows
        .iter()
        .max_by_key(|r| (r.period_end - r.period_start).num_days())
        .unwrap();
    let (from, to) = (widest.period_start, widest.period_start);
    let expected = rows
        .iter()
        .filter(|r| r.period_end >= from && r.period_start <= to)
        .count();
    assert!(count(fresh, from, to).await < expected);
}
