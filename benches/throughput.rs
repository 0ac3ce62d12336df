//! In-process throughput of the HTTP handlers (no sockets): how many requests per second
//! the app answers for a warm (cached) page, a cold page (cache miss: query + render),
//! CSV, and a whole-table download, on a fresh SQLite database holding the seed data plus
//! synthetic rows.
//!
//! Run: `cargo bench --bench throughput` (optionally `BENCH_SECONDS=5`, and `BENCH_ONLY=text`
//! to run only the cases whose name contains it). It measures the
//! handlers in process; it does not include sockets or an HTTP client.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use sanctuary_data::disclosure::Policy;
use sanctuary_data::{AppState, build_app, db, seed};
use tower::ServiceExt;

const SYNTHETIC_ROWS: usize = 20_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let work = tempfile::tempdir().unwrap();
    let bundle = synthetic_bundle(work.path());
    let url = format!(
        "sqlite://{}?mode=rwc",
        work.path().join("bench.db").display()
    );
    let db = db::connect(&url).await.unwrap();
    let policy = Policy::new(11).unwrap();
    let outcome = seed::import_dir(&db, &bundle, policy).await.unwrap();
    println!("{outcome}");
    let app = build_app(AppState::new(db));

    let duration = Duration::from_secs(seconds);
    bench(&app, "warm JSON page (limit=100)", duration, |_| {
        "/api/v1/statistics?limit=100".to_owned()
    })
    .await;
    bench(&app, "warm CSV page (limit=1000)", duration, |_| {
        "/api/v1/statistics?limit=1000&format=csv".to_owned()
    })
    .await;
    bench(&app, "warm item", duration, |_| {
        "/api/v1/programs/citykey".to_owned()
    })
    .await;
    bench(&app, "trivial route (/healthz)", duration, |_| {
        "/healthz".to_owned()
    })
    .await;
    // The ceiling for the line above: the same harness through no middleware at all.
    let hello = axum::Router::new().route("/", axum::routing::get(|| async { "Hello, World!" }));
    bench(&hello, "axum hello-world (no middleware)", duration, |_| {
        "/".to_owned()
    })
    .await;
    bench_graphql(&app, "warm GraphQL POST (100 rows)", duration, |_| {
        GRAPHQL_PAGE.to_owned()
    })
    .await;
    bench(&app, "warm GraphQL GET (100 rows)", duration, |_| {
        format!(
            "/graphql?query={}",
            url::form_urlencoded::byte_serialize(GRAPHQL_PAGE.as_bytes()).collect::<String>()
        )
    })
    .await;
    // Every request a different page size: a cache miss each time (execute + render).
    bench_graphql(
        &app,
        "cold GraphQL POST (100 rows, distinct)",
        duration,
        |i| GRAPHQL_PAGE.replace("first: 100", &format!("first: {}", 100 + i % 900)),
    )
    .await;
    // Every request a different filter: a cache miss each time (query + render).
    bench(
        &app,
        "cold JSON page (limit=100, distinct filters)",
        duration,
        |i| {
            format!(
                "/api/v1/statistics?limit=100&from=1800-01-01&to={}",
                date_after(i)
            )
        },
    )
    .await;
    bench(
        &app,
        "cold CSV page (limit=1000, distinct filters)",
        duration,
        |i| {
            format!(
                "/api/v1/statistics?limit=1000&format=csv&to={}",
                date_after(i)
            )
        },
    )
    .await;
    bench(
        &app,
        &format!("download statistics.csv ({SYNTHETIC_ROWS} rows, streamed)"),
        duration,
        |_| "/downloads/statistics.csv".to_owned(),
    )
    .await;
}

/// A GraphQL page of 100 statistics with the fields of the REST page.
const GRAPHQL_PAGE: &str = "{ statistics(first: 100) { totalCount nodes { id program metric { id } periodStart periodEnd dimension category value suppressed unit source { id } } } }";

/// POST `query(i)` to `/graphql` from 8 concurrent tasks for `duration`.
async fn bench_graphql(
    app: &axum::Router,
    name: &str,
    duration: Duration,
    query: impl Fn(usize) -> String + Clone + Send + 'static,
) {
    if !selected(name) {
        return;
    }
    let start = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let app = app.clone();
            let query = query.clone();
            tokio::spawn(async move {
                let (mut count, mut bytes, mut i) = (0u64, 0u64, task);
                while start.elapsed() < duration {
                    let body = serde_json::json!({ "query": query(i) }).to_string();
                    let request = Request::post("/graphql")
                        .header("content-type", "application/json")
                        .body(Body::from(body))
                        .unwrap();
                    let response = app.clone().oneshot(request).await.unwrap();
                    assert!(response.status().is_success(), "{}", response.status());
                    let body = response.into_body().collect().await.unwrap().to_bytes();
                    assert!(
                        !body.starts_with(b"{\"errors\""),
                        "{}",
                        String::from_utf8_lossy(&body)
                    );
                    bytes += body.len() as u64;
                    count += 1;
                    i += 8;
                }
                (count, bytes)
            })
        })
        .collect();
    let (mut count, mut bytes) = (0, 0);
    for task in tasks {
        let (c, b) = task.await.unwrap();
        count += c;
        bytes += b;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{name:<55} {:>10.0} req/s {:>8.1} MB/s",
        count as f64 / elapsed,
        bytes as f64 / elapsed / 1e6
    );
}

fn date_after(i: usize) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(1810, 1, 1).unwrap() + chrono::Days::new(i as u64 % 20_000)
}

/// Send requests from 8 concurrent tasks for `duration`; print requests/s and bytes/s.
async fn bench(
    app: &axum::Router,
    name: &str,
    duration: Duration,
    uri: impl Fn(usize) -> String + Clone + Send + 'static,
) {
    if !selected(name) {
        return;
    }
    let start = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let app = app.clone();
            let uri = uri.clone();
            tokio::spawn(async move {
                let (mut count, mut bytes, mut i) = (0u64, 0u64, task);
                while start.elapsed() < duration {
                    let response = app
                        .clone()
                        .oneshot(Request::get(uri(i)).body(Body::empty()).unwrap())
                        .await
                        .unwrap();
                    assert!(response.status().is_success(), "{}", response.status());
                    bytes += response
                        .into_body()
                        .collect()
                        .await
                        .unwrap()
                        .to_bytes()
                        .len() as u64;
                    count += 1;
                    i += 8;
                }
                (count, bytes)
            })
        })
        .collect();
    let (mut count, mut bytes) = (0, 0);
    for task in tasks {
        let (c, b) = task.await.unwrap();
        count += c;
        bytes += b;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{name:<55} {:>10.0} req/s {:>8.1} MB/s",
        count as f64 / elapsed,
        bytes as f64 / elapsed / 1e6
    );
}

/// Whether to run the case `name`: all of them, or those whose name contains
/// `BENCH_ONLY` (for profiling one case, e.g. `BENCH_ONLY=healthz perf record ...`).
fn selected(name: &str) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |only| name.contains(only.as_str()))
}

/// seed-data plus SYNTHETIC daily totals, in a temporary directory.
fn synthetic_bundle(work: &std::path::Path) -> std::path::PathBuf {
    let dir = work.join("bundle");
    std::fs::create_dir_all(&dir).unwrap();
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data");
    for entry in std::fs::read_dir(&seed).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let path = dir.join("statistics.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    let source = std::fs::read_to_string(dir.join("sources.csv")).unwrap();
    let source_id = source
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    let start = chrono::NaiveDate::from_ymd_opt(1800, 1, 1).unwrap();
    for i in 0..SYNTHETIC_ROWS {
        let day = start + chrono::Days::new(i as u64);
        text.push_str(&format!(
            "bench-{i:06},citykey,cards_issued,{day},{day},none,in_period,total,all,{},exact,,cards,estimated,{source_id},SYNTHETIC benchmark row\n",
            100 + i
        ));
    }
    std::fs::write(&path, text).unwrap();
    dir
}
