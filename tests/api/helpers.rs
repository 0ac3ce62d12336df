//! Test harness: a fresh database per test (a temporary SQLite file, or a PostgreSQL
//! database created for the test and dropped after it), fixtures, and the app.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use sanctuary_data::disclosure::Policy;
use sanctuary_data::entity::{document, event, metric, program, release, source, statistic};
use sanctuary_data::{AppState, build_app, db, seed};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait};

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

/// A fresh, migrated, empty database.
pub async fn fresh_db() -> TestDb {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("sanctuary_test_{}_{}", std::process::id(), n);
            let admin = Database::connect(&admin_url)
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
            url.set_path(&name);
            let url = url.to_string();
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

/// Row counts of every table, in the order releases, sources, programs, metrics, events,
/// documents, statistics.
pub async fn counts(db: &DatabaseConnection) -> [u64; 7] {
    [
        release::Entity::find().count(db).await.unwrap(),
        source::Entity::find().count(db).await.unwrap(),
        program::Entity::find().count(db).await.unwrap(),
        metric::Entity::find().count(db).await.unwrap(),
        event::Entity::find().count(db).await.unwrap(),
        document::Entity::find().count(db).await.unwrap(),
        statistic::Entity::find().count(db).await.unwrap(),
    ]
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
    let app = build_app(AppState::new(test_db.db.clone(), policy()));
    (app, test_db)
}
