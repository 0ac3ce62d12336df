//! Test harness: a fresh database per test (a temporary SQLite file, or a PostgreSQL
//! database created for the test and dropped after it), fixtures, and the app.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use sanctuary_data::disclosure::Policy;
use sanctuary_data::entity::release;
use sanctuary_data::{AppState, build_app, db, seed, tables};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, Statement,
};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database that exists for one test only.
pub struct TestDb {
    pub db: DatabaseConnection,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop runs outside async; a short-lived runtime on its own thread does the work.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    if let Ok(admin) = Database::connect(&admin_url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Create an empty PostgreSQL database for one test; its name and URL.
async fn create_postgres_database(admin_url: &str, n: usize) -> (String, String) {
    let name = format!("sanctuary_test_{}_{}", std::process::id(), n);
    let admin = Database::connect(admin_url)
        .await
        .expect("connect to TEST_DATABASE_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&name);
    (name, url.to_string())
}

/// A database with no tables yet (a fresh PostgreSQL database, or the URL of an SQLite
/// file not created yet), for start-up tests; `db` is a plain connection to it, without
/// migrations (on SQLite, to an unrelated in-memory database).
pub async fn empty_db() -> TestDb {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let (name, url) = create_postgres_database(&admin_url, n).await;
            let db = Database::connect(&url).await.expect("connect");
            TestDb {
                db,
                url,
                _dir: None,
                postgres: Some((admin_url, name)),
            }
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
            let db = Database::connect("sqlite::memory:").await.expect("SQLite");
            TestDb {
                db,
                url,
                _dir: Some(dir),
                postgres: None,
            }
        }
    }
}

/// A fresh, migrated, empty database.
pub async fn fresh_db() -> TestDb {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let (name, url) = create_postgres_database(&admin_url, n).await;
            let db = db::connect(&url)
                .await
                .expect("connect to the test database");
            TestDb {
                db,
                url,
                _dir: None,
                postgres: Some((admin_url, name)),
            }
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
            let db = db::connect(&url).await.expect("connect to SQLite");
            TestDb {
                db,
                url,
                _dir: Some(dir),
                postgres: None,
            }
        }
    }
}

/// The default policy (k = 11).
pub fn policy() -> Policy {
    Policy::new(11).unwrap()
}

/// Path of a fixture directory under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A writable copy of a fixture directory, for tests that break one file.
pub fn fixture_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(fixture(name)).expect("fixture exists") {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

/// Row counts of `releases` and of every catalogued table in load order: releases,
/// sources, programs, metrics, events, documents, statistics.
pub async fn counts(db: &DatabaseConnection) -> [u64; 1 + tables::TABLES.len()] {
    let mut counts = [release::Entity::find().count(db).await.unwrap(); 1 + tables::TABLES.len()];
    for (count, table) in counts[1..].iter_mut().zip(tables::TABLES) {
        let sql = format!("SELECT COUNT(*) AS n FROM {}", table.name);
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
            .expect("one row");
        *count = row.try_get::<i64>("", "n").unwrap() as u64;
    }
    counts
}

/// Import a directory, panicking with the problems if it fails.
pub async fn import(db: &DatabaseConnection, dir: &Path) -> seed::ImportOutcome {
    match seed::import_dir(db, dir, policy()).await {
        Ok(outcome) => outcome,
        Err(e) => panic!("import of {} failed:\n{e}", dir.display()),
    }
}

/// A fresh database with the small fixture imported, and the app over it.
pub async fn app_with(fixture_name: &str) -> (axum::Router, TestDb) {
    let test_db = fresh_db().await;
    import(&test_db.db, &fixture(fixture_name)).await;
    let app = build_app(AppState::new(test_db.db.clone()));
    (app, test_db)
}

/// The small fixture with `rows` synthetic daily totals (from 1800-01-01) for program alpha added to
/// statistics.csv (for pagination walks).
pub fn synthetic_fixture(rows: usize) -> tempfile::TempDir {
    let dir = fixture_copy("small");
    let mut text = std::fs::read_to_string(dir.path().join("statistics.csv")).unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(1800, 1, 1).unwrap();
    for i in 0..rows {
        let day = start + chrono::Days::new(i as u64);
        text.push_str(&format!(
            "synthetic-{i:05},alpha,cards_issued,{day},{day},total,all,{},exact,cards,estimated,src-a,Synthetic row,in_period,none,\n",
            100 + i
        ));
    }
    std::fs::write(dir.path().join("statistics.csv"), text).unwrap();
    dir
}

/// A response, read whole.
pub struct Reply {
    pub status: axum::http::StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: bytes::Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Whether a `Vary` header names `name` (any case, among other values).
    pub fn varies_by(&self, name: &str) -> bool {
        self.headers
            .get_all("vary")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.to_ascii_lowercase().contains(name))
    }

    /// Assert a problem+json error with this status and parameter; returns the detail.
    pub fn assert_problem(&self, status: u16, parameter: Option<&str>) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        assert_eq!(self.header("content-type"), "application/problem+json");
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(
            body["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:sanctuary-data:problem:")
        );
        assert!(!body["title"].as_str().unwrap().is_empty());
        assert_eq!(body["parameter"].as_str(), parameter, "body: {body}");
        body["detail"].as_str().unwrap().to_owned()
    }
}

/// Send a request through the app (no network).
pub async fn send(app: &axum::Router, request: axum::http::Request<axum::body::Body>) -> Reply {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

/// GET `uri` with optional extra headers.
pub async fn get_with(app: &axum::Router, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = axum::http::Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(app, request.body(axum::body::Body::empty()).unwrap()).await
}

/// GET `uri`.
pub async fn get(app: &axum::Router, uri: &str) -> Reply {
    get_with(app, uri, &[]).await
}

/// Parse CSV text into rows of strings (header included).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// A data package directory for disclosure tests: the synthetic example's programs,
/// metrics, sources, events and documents, `dimensions` as its `sanctuary:dimensions`, and
/// `statistics` (CSV text with its header) as its statistics.
pub fn example_package(dimensions: &serde_json::Value, statistics: &str) -> tempfile::TempDir {
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
    std::fs::write(dir.path().join("statistics.csv"), statistics).unwrap();
    dir
}

/// POST a GraphQL query with variables; the whole reply body (`data` and any `errors`).
pub async fn graphql_reply(
    app: &axum::Router,
    query: &str,
    variables: serde_json::Value,
) -> serde_json::Value {
    let request = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            serde_json::json!({"query": query, "variables": variables}).to_string(),
        ))
        .unwrap();
    send(app, request).await.json()
}

/// The ids (or, for programs, slugs) of a JSON list page's rows, in order.
pub fn ids(body: &serde_json::Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().or(r["slug"].as_str()).unwrap().to_owned())
        .collect()
}
