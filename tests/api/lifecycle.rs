//! The database's life cycle: connecting (and never printing a password), instances and
//! imports that start at the same time, and an SQLite file deleted while serving.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sanctuary_data::entity::release;
use sanctuary_data::seed::{self, ImportOutcome};
use sea_orm::{Database, EntityTrait, PaginatorTrait};

use crate::helpers::*;

const BINARY: &str = env!("CARGO_BIN_EXE_sanctuary-data");
const PASSWORD: &str = "Zq7SecretPw";

/// Run the binary with `DATABASE_URL` set, and return (success, stdout + stderr).
fn run_with_database_url(url: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(BINARY)
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "debug")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run the binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn a_database_url_that_does_not_parse_or_connect_never_prints_its_password() {
    let fixture = fixture("small");
    let dir = fixture.to_str().unwrap();
    let urls = [
        // An unencoded `#` ends the URL early: the port becomes "Zq7…".
        format!("postgres://app:{PASSWORD}#x@127.0.0.1:5432/test"),
        format!("postgres://app:ab#{PASSWORD}@127.0.0.1:5432/test"),
        // A bad port.
        format!("postgres://app:{PASSWORD}@127.0.0.1:99999/test"),
        format!("postgres://app:{PASSWORD}@127.0.0.1:port/test"),
        // Unencoded `/`, `?` and `@` in the password.
        format!("postgres://app:{PASSWORD}/x@127.0.0.1:5432/test"),
        format!("postgresql://app:{PASSWORD}?x@127.0.0.1:5432/test"),
        format!("postgres://app:a@{PASSWORD}@127.0.0.1:1/test"),
        // Parses, but nothing listens there.
        format!("postgres://app:{PASSWORD}@127.0.0.1:1/test"),
        format!("postgres://127.0.0.1:1/test?user=app&password={PASSWORD}"),
        // A misspelled parameter: the driver logs unknown parameters with their values.
        format!("postgres://app@127.0.0.1:1/test?pasword={PASSWORD}"),
        // Not even a scheme.
        format!("app:{PASSWORD}@127.0.0.1/test"),
        PASSWORD.to_owned(),
    ];
    for url in &urls {
        let (ok, output) = run_with_database_url(url, &["import", dir]);
        assert!(!ok, "{url} should fail; output:\n{output}");
        assert!(
            !output.contains(PASSWORD),
            "the password leaked for {url}:\n{output}"
        );
        assert!(
            output.contains("error: ")
                && (output.contains("DATABASE_URL") || output.contains("cannot connect")),
            "no clear message for {url}:\n{output}"
        );
    }
}

/// A `serve` process on an ephemeral port, killed when dropped.
struct Instance {
    child: Child,
    port: u16,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `serve` processes, all at once, on `url`; wait until each listens.
fn start_instances(url: &str, count: usize) -> Vec<Instance> {
    let children: Vec<Child> = (0..count)
        .map(|_| {
            Command::new(BINARY)
                .args(["serve", "--addr", "127.0.0.1:0", "--seed-dir"])
                .arg(fixture("small"))
                .env("DATABASE_URL", url)
                .env("SANCTUARY_MIN_CELL", "11")
                .env("RUST_LOG", "info")
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start the binary")
        })
        .collect();
    children
        .into_iter()
        .map(|mut child| {
            let stderr = child.stderr.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut log = String::new();
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    log.push_str(&line);
                    log.push('\n');
                    if let Some(at) = line.find("listening on http://") {
                        let rest = &line[at + "listening on http://".len()..];
                        let addr: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                            .collect();
                        // Keep draining after this, so the process never blocks on a
                        // full pipe.
                        let _ = tx.send(Ok(addr));
                    }
                }
                let _ = tx.send(Err(log));
            });
            let message = rx
                .recv_timeout(Duration::from_secs(120))
                .expect("the instance starts within 120 s");
            let addr = match message {
                Ok(addr) => addr,
                Err(log) => {
                    let status = child.wait();
                    panic!("an instance did not come up ({status:?}):\n{log}")
                }
            };
            let port = addr.rsplit(':').next().unwrap().parse().unwrap();
            Instance { child, port }
        })
        .collect()
}

/// GET `path` over a real socket: (status, body).
fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_starting_together_on_an_empty_database_all_serve_one_release() {
    let test_db = empty_db().await;
    let url = test_db.url.clone();
    let instances = tokio::task::spawn_blocking(move || start_instances(&url, 3))
        .await
        .unwrap();
    let mut releases = Vec::new();
    for instance in &instances {
        let port = instance.port;
        let (status, body) = tokio::task::spawn_blocking(move || http_get(port, "/readyz"))
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        releases.push(json["release"].as_str().unwrap().to_owned());
    }
    assert!(releases.iter().all(|r| *r == releases[0]), "{releases:?}");
    let db = Database::connect(&test_db.url).await.unwrap();
    assert_eq!(release::Entity::find().count(&db).await.unwrap(), 1);
    db.close().await.ok();
    drop(instances);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_imports_of_the_same_content_at_once_load_it_once_without_an_error() {
    let test_db = fresh_db().await;
    // Two pools, as two processes would have.
    let first = sanctuary_data::db::connect(&test_db.url).await.unwrap();
    let second = sanctuary_data::db::connect(&test_db.url).await.unwrap();
    let dir = fixture("small");
    let (a, b) = tokio::join!(
        seed::import_dir(&first, &dir, policy()),
        seed::import_dir(&second, &dir, policy())
    );
    let outcomes = [
        a.unwrap_or_else(|e| panic!("{e}")),
        b.unwrap_or_else(|e| panic!("{e}")),
    ];
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, ImportOutcome::Created { .. }))
        .count();
    let already = outcomes
        .iter()
        .filter(|o| matches!(o, ImportOutcome::AlreadyImported { .. }))
        .count();
    assert_eq!((created, already), (1, 1), "{outcomes:?}");
    assert_eq!(counts(&test_db.db).await[0], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_imports_of_different_content_at_once_become_releases_one_and_two() {
    let test_db = fresh_db().await;
    let first = sanctuary_data::db::connect(&test_db.url).await.unwrap();
    let second = sanctuary_data::db::connect(&test_db.url).await.unwrap();
    let other = synthetic_fixture(3);
    let small = fixture("small");
    let (a, b) = tokio::join!(
        seed::import_dir(&first, &small, policy()),
        seed::import_dir(&second, other.path(), policy())
    );
    let mut seqs: Vec<i32> = [a, b]
        .into_iter()
        .map(|outcome| match outcome {
            Ok(ImportOutcome::Created { seq, .. }) => seq,
            other => panic!("expected a new release, got {other:?}"),
        })
        .collect();
    seqs.sort();
    assert_eq!(seqs, [1, 2]);
    assert_eq!(counts(&test_db.db).await[0], 2);
}

#[tokio::test]
async fn a_deleted_sqlite_file_makes_the_service_unavailable_and_is_not_recreated() {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        eprintln!("SQLite only: skipped on PostgreSQL");
        return;
    }
    let (app, test_db) = app_with("small").await;
    assert_eq!(get(&app, "/api/v1/statistics").await.status, 200);
    let path = test_db
        .url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    std::fs::remove_file(&path).unwrap();
    for _ in 0..3 {
        let ready = get(&app, "/readyz").await;
        let detail = ready.assert_problem(503, None);
        assert!(detail.contains("is missing"), "{detail}");
        // The path is for the operator's log, not for every client.
        assert!(!detail.contains("test.db"), "{detail}");
        // What needs the database is unavailable; a representation already rendered
        // from memory (the release is immutable) may still be served, but never an
        // empty database.
        get(&app, "/api/v1/programs")
            .await
            .assert_problem(503, None);
        get(&app, "/api/v1/statistics?limit=7")
            .await
            .assert_problem(503, None);
        let warm = get(&app, "/api/v1/statistics").await;
        assert!(warm.status == 200 || warm.status == 503, "{}", warm.text());
    }
    assert!(
        !std::path::Path::new(&path).exists(),
        "the database file was recreated"
    );
}
