//! Text search (issue #14): `q` on events, documents, programs and sources, over REST
//! JSON, REST CSV and GraphQL, ignoring case and accents in the same way on SQLite and
//! PostgreSQL (`Bogotá` ~ `bogota` ~ `BOGOTA`, `Ñ` ~ `n`, `É` ~ `e`), with `%` and `_`
//! literal. GraphQL's former `search` argument is a deprecated alias of `q`.

use serde_json::json;

use crate::helpers::*;

/// The small fixture with accented, mixed-case texts in every searched field.
fn accented_fixture() -> tempfile::TempDir {
    let dir = fixture_copy("small");
    let edit = |file: &str, edits: &[(&str, &str)]| {
        let path = dir.path().join(file);
        let mut text = std::fs::read_to_string(&path).unwrap();
        for (from, to) in edits {
            assert!(text.contains(from), "{file}: {from}");
            text = text.replacen(from, to, 1);
        }
        std::fs::write(path, text).unwrap();
    };
    edit(
        "events.csv",
        &[
            ("Alpha launches,", "Alpha launches in BOGOTÁ,"),
            (
                "Alpha pauses online applications,Synthetic event.",
                "Alpha pauses online applications,Pausa en Ñuñoa: 50% off_ École.",
            ),
            ("Beta ordinance,", "Beta ordinance (bogota),"),
        ],
    );
    edit(
        "documents.csv",
        &[
            ("Alpha municipal code chapter", "Código municipal de Bogotá"),
            (
                "A synthetic statement about records.",
                "Une déclaration sur l'ÉCOLE de Ñuñoa.",
            ),
        ],
    );
    edit(
        "programs.csv",
        &[("Alpha ID,Alpha City", "Alpha ID,Bogotá D.C.")],
    );
    edit(
        "sources.csv",
        &[
            ("Synthetic source A", "Fuente sintética A de Bogotá"),
            ("Test News", "Éditions Ñandú"),
        ],
    );
    dir
}

/// (collection, GraphQL id field, query, expected ids in canonical order).
const MATRIX: &[(&str, &str, &str, &[&str])] = &[
    (
        "events",
        "id",
        "bogota",
        &["beta-ordinance", "alpha-launch"],
    ),
    (
        "events",
        "id",
        "BOGOTA",
        &["beta-ordinance", "alpha-launch"],
    ),
    (
        "events",
        "id",
        "Bogotá",
        &["beta-ordinance", "alpha-launch"],
    ),
    (
        "events",
        "id",
        "bogotá",
        &["beta-ordinance", "alpha-launch"],
    ),
    (
        "events",
        "id",
        "BOGOTÁ",
        &["beta-ordinance", "alpha-launch"],
    ),
    ("events", "id", "nunoa", &["alpha-pause"]),
    ("events", "id", "ÑUÑOA", &["alpha-pause"]),
    ("events", "id", "ecole", &["alpha-pause"]),
    ("events", "id", "ÉCOLE", &["alpha-pause"]),
    ("events", "id", "50% off_", &["alpha-pause"]),
    ("events", "id", "50_ off", &[]),
    ("events", "id", "%", &["alpha-pause"]),
    ("events", "id", "_", &["alpha-pause"]),
    (
        "events",
        "id",
        "synthetic event",
        &["beta-ordinance", "alpha-launch"],
    ),
    // A match never spans two fields (title, then description).
    ("events", "id", "bogota synthetic", &[]),
    ("events", "id", "zzz", &[]),
    ("documents", "id", "bogota", &["alpha-code"]),
    ("documents", "id", "CODIGO", &["alpha-code"]),
    ("documents", "id", "ecole", &["beta-statement"]),
    ("documents", "id", "Ecole", &["beta-statement"]),
    ("documents", "id", "nunoa", &["beta-statement"]),
    ("documents", "id", "déclaration", &["beta-statement"]),
    ("documents", "id", "records", &["beta-statement"]),
    ("programs", "slug", "bogota", &["alpha"]),
    ("programs", "slug", "BOGOTÁ D.C.", &["alpha"]),
    ("programs", "slug", "beta", &["beta"]),
    ("programs", "slug", "clerk", &["alpha"]),
    ("programs", "slug", "synthetic program", &["alpha", "beta"]),
    ("sources", "id", "bogota", &["src-a"]),
    ("sources", "id", "sintetica", &["src-a"]),
    ("sources", "id", "editions nandu", &["src-b"]),
    ("sources", "id", "ÉDITIONS ÑANDÚ", &["src-b"]),
    ("sources", "id", "publisher", &["src-a"]),
];

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn search_ignores_case_and_accents_alike_over_rest_csv_and_graphql() {
    let test_db = fresh_db().await;
    import(&test_db.db, accented_fixture().path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    for (collection, id_field, q, expected) in MATRIX {
        let uri = format!("/api/v1/{collection}?q={}", url_encode(q));
        let reply = get(&app, &uri).await;
        assert_eq!(reply.status, 200, "{uri}: {}", reply.text());
        let body = reply.json();
        assert_eq!(ids(&body), *expected, "{uri}");
        assert_eq!(body["meta"]["total"], expected.len(), "{uri}");

        let csv = get(&app, &format!("{uri}&format=csv")).await;
        let rows = parse_csv(&csv.text());
        let csv_ids: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        assert_eq!(csv_ids, *expected, "{uri} as CSV");
        assert_eq!(csv.header("x-total-count"), expected.len().to_string());

        let query = format!(
            "query($q: String) {{ {collection}(q: $q) {{ totalCount nodes {{ {id_field} }} }} }}"
        );
        let reply = graphql_reply(&app, &query, json!({"q": q})).await;
        assert!(reply["errors"].is_null(), "{query}: {reply}");
        let nodes: Vec<&str> = reply["data"][collection]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n[id_field].as_str().unwrap())
            .collect();
        assert_eq!(nodes, *expected, "{q} over GraphQL {collection}");

        if *collection == "documents" {
            // The deprecated alias gives the same rows, and so do the facets' counts.
            let reply = graphql_reply(
                &app,
                "query($q: String) { documents(search: $q) { nodes { id } } }",
                json!({"q": q}),
            )
            .await;
            let nodes: Vec<&str> = reply["data"]["documents"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap())
                .collect();
            assert_eq!(nodes, *expected, "{q} over GraphQL search");
        }
        if matches!(*collection, "documents" | "events") {
            let facets = get(
                &app,
                &format!(
                    "/api/v1/{collection}/facets?facet=program&q={}",
                    url_encode(q)
                ),
            )
            .await;
            assert_eq!(facets.status, 200, "{}", facets.text());
            assert_eq!(facets.json()["data"]["total"], expected.len(), "{q} facets");
        }
    }
    // The browse pages take the same `q` (a form field, as every filter of the API).
    let page = get(&app, "/browse/events?q=BOGOTA").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("name=\"q\""), "a search field");
    assert!(html.contains("alpha-launch") && html.contains("beta-ordinance"));
    assert!(!html.contains("alpha-pause"));
    // Nested under a program: the same search.
    let reply = graphql_reply(
        &app,
        "{ program(slug: \"beta\") { events(q: \"BOGOTÁ\") { nodes { id } } documents(q: \"ÉCOLE\") { nodes { id } } } }",
        json!({}),
    )
    .await;
    assert!(reply["errors"].is_null(), "{reply}");
    assert_eq!(
        reply["data"]["program"]["events"]["nodes"],
        json!([{"id": "beta-ordinance"}])
    );
    assert_eq!(
        reply["data"]["program"]["documents"]["nodes"],
        json!([{"id": "beta-statement"}])
    );
}

#[tokio::test]
async fn bad_searches_are_400s_naming_the_parameter() {
    let (app, _db) = app_with("small").await;
    let long = "é".repeat(201);
    let just_right = "é".repeat(200);
    for collection in ["events", "documents", "programs", "sources"] {
        get(
            &app,
            &format!("/api/v1/{collection}?q={}", url_encode(&long)),
        )
        .await
        .assert_problem(400, Some("q"));
        get(&app, &format!("/api/v1/{collection}?q="))
            .await
            .assert_problem(400, Some("q"));
        get(&app, &format!("/api/v1/{collection}?q=a%00b"))
            .await
            .assert_problem(400, Some("q"));
        // A lone combining accent folds to nothing: it would match every row.
        get(&app, &format!("/api/v1/{collection}?q=%CC%81"))
            .await
            .assert_problem(400, Some("q"));
        let fine = get(
            &app,
            &format!("/api/v1/{collection}?q={}", url_encode(&just_right)),
        )
        .await;
        assert_eq!(fine.status, 200, "{collection}: 200 characters are allowed");

        let query = format!("query($q: String) {{ {collection}(q: $q) {{ totalCount }} }}");
        for bad in [long.as_str(), "", "\u{301}"] {
            let reply = graphql_reply(&app, &query, json!({"q": bad})).await;
            assert_eq!(
                reply["errors"][0]["extensions"]["parameter"], "q",
                "{collection}: {reply}"
            );
        }
    }
    let reply = graphql_reply(
        &app,
        "{ documents(q: \"a\", search: \"b\") { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(reply["errors"][0]["extensions"]["parameter"], "search");
    // Metrics and statistics have no text search.
    get(&app, "/api/v1/statistics?q=alpha")
        .await
        .assert_problem(400, Some("q"));
    get(&app, "/api/v1/metrics?q=cards")
        .await
        .assert_problem(400, Some("q"));
}

/// Releases imported before the search column existed are searchable once the
/// migration has filled it in.
#[tokio::test]
async fn the_migration_fills_the_search_text_of_earlier_releases() {
    use sanctuary_data::entity::event;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let test_db = fresh_db().await;
    import(&test_db.db, accented_fixture().path()).await;
    // Forget the search text, as a release imported before the column would have it.
    event::Entity::update_many()
        .col_expr(
            event::Column::SearchText,
            sea_orm::sea_query::Expr::value(""),
        )
        .filter(event::Column::Id.ne(""))
        .exec(&test_db.db)
        .await
        .unwrap();
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let before = get(&app, "/api/v1/events?q=bogota").await.json();
    assert_eq!(before["meta"]["total"], 0);
    sanctuary_data::migration::refill_search_text(&test_db.db)
        .await
        .unwrap();
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let after = get(&app, "/api/v1/events?q=bogota").await.json();
    assert_eq!(ids(&after), ["beta-ordinance", "alpha-launch"]);
}

/// The real upgrade path: a database whose release was imported before the column existed
/// (the migration undone, so the column is gone) is migrated again; the migration adds the
/// column and fills it, and the release is searchable with its id unchanged.
#[tokio::test]
async fn upgrading_a_database_makes_its_releases_searchable() {
    use sanctuary_data::migration::Migrator;
    use sea_orm_migration::MigratorTrait;
    let test_db = fresh_db().await;
    import(&test_db.db, accented_fixture().path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let release = get(&app, "/api/v1/releases").await.json()["data"][0]["id"].clone();
    // Undo every migration from the one that added the column on (it and those after it).
    let after_it = Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name().ends_with("_search_text"))
        .expect("the migration that adds search_text");
    Migrator::down(&test_db.db, Some(after_it as u32 + 1))
        .await
        .unwrap();
    Migrator::up(&test_db.db, None).await.unwrap();
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    for (collection, q, expected) in [
        ("events", "BOGOTA", &["beta-ordinance", "alpha-launch"][..]),
        ("documents", "ecole", &["beta-statement"][..]),
        ("programs", "bogotá", &["alpha"][..]),
        ("sources", "nandu", &["src-b"][..]),
    ] {
        let page = get(&app, &format!("/api/v1/{collection}?q={}", url_encode(q))).await;
        assert_eq!(
            ids(&page.json()),
            expected,
            "{collection} after the upgrade"
        );
        assert_eq!(page.json()["meta"]["release"], release);
    }
}
