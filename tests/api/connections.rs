//! Slow, idle, stalled and surplus clients, on real sockets: the server loop closes them
//! by its timeouts, refuses connections over its cap at once, and shuts down within its
//! deadline whatever its clients do. Timeouts are 1–2 s; assertions allow 10 s.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use sanctuary_data::server::{Limits, serve_listener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::helpers::{TestDb, app_with};

/// The most any check here waits for something that should take a second or two.
const BOUND: Duration = Duration::from_secs(10);

/// A server on 127.0.0.1 for one test.
struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    _db: Option<TestDb>,
}

impl Server {
    async fn start(
        app: impl sanctuary_data::server::App,
        limits: Limits,
        db: Option<TestDb>,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_listener(listener, app, limits, async {
            let _ = stopped.await;
        }));
        Server {
            addr,
            stop: Some(stop),
            task,
            _db: db,
        }
    }

    /// The application over the small fixture, as `serve` runs it (`build_service`, not
    /// the router the other tests use).
    async fn app(limits: Limits) -> Server {
        let (_, db) = app_with("small").await;
        let app = sanctuary_data::app::build_service(sanctuary_data::AppState::new(db.db.clone()));
        Server::start(app, limits, Some(db)).await
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.unwrap()
    }

    /// Signal shutdown and return how long the server took to stop.
    async fn shut_down(mut self) -> Duration {
        let started = Instant::now();
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(BOUND, &mut self.task)
            .await
            .expect("the server stops within the bound")
            .unwrap();
        started.elapsed()
    }
}

/// Limits with every timeout long, so a test shortens only the one it checks.
fn patient() -> Limits {
    Limits {
        max_connections: 64,
        header_read_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        write_timeout: Duration::from_secs(60),
        shutdown_timeout: Duration::from_secs(60),
        max_header_bytes: 64 * 1024,
    }
}

fn request(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n\r\n").into_bytes()
}

/// Read one response with a `content-length` (the head and that many bytes).
async fn read_response(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = tokio::time::timeout(BOUND, stream.read(&mut chunk))
            .await
            .expect("a response within the bound")
            .unwrap();
        assert!(
            n > 0,
            "closed mid-response: {}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if bytes.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

/// Wait until the server closes `stream` (EOF or reset); returns the bytes it sent first
/// and how long that took. Panics if it stays open for the whole bound.
async fn closed_by_server(stream: &mut TcpStream) -> (usize, Duration) {
    let started = Instant::now();
    let mut total = 0usize;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at((started + BOUND).into(), stream.read(&mut chunk)).await {
            Err(_) => panic!("the connection is still open after {BOUND:?} ({total} bytes read)"),
            Ok(Ok(0)) | Ok(Err(_)) => return (total, started.elapsed()),
            Ok(Ok(n)) => total += n,
        }
    }
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_idle_timeout() {
    let server = Server::app(Limits {
        idle_timeout: Duration::from_secs(1),
        ..patient()
    })
    .await;
    // Timed from before the connection exists, so the bound below cannot undercut the
    // server's own clock.
    let started = Instant::now();
    let mut silent = server.connect().await;
    closed_by_server(&mut silent).await;
    let after = started.elapsed();
    assert!(
        after >= Duration::from_millis(950),
        "closed after {after:?}"
    );
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let server = Server::app(Limits {
        idle_timeout: Duration::from_secs(1),
        ..patient()
    })
    .await;
    let mut client = server.connect().await;
    let mut started = Instant::now();
    for _ in 0..2 {
        // The connection is idle from some time after this request is sent.
        started = Instant::now();
        client.write_all(&request("/healthz")).await.unwrap();
        let response = read_response(&mut client).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }
    closed_by_server(&mut client).await;
    let after = started.elapsed();
    assert!(
        after >= Duration::from_millis(950),
        "closed after {after:?}"
    );
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_closed_by_the_header_read_timeout() {
    let server = Server::app(Limits {
        header_read_timeout: Duration::from_secs(2),
        ..patient()
    })
    .await;
    let started = Instant::now();
    let client = server.connect().await;
    let (mut reader, mut writer) = client.into_split();
    let trickle = tokio::spawn(async move {
        writer.write_all(b"GET /healthz HTTP/1.1\r\n").await?;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            writer.write_all(b"x").await?;
        }
        #[allow(unreachable_code)]
        Ok::<_, std::io::Error>(())
    });
    let mut received = Vec::new();
    let closed = tokio::time::timeout(BOUND, reader.read_to_end(&mut received)).await;
    trickle.abort();
    assert!(closed.is_ok(), "the trickling client is still connected");
    let after = started.elapsed();
    assert!(
        after >= Duration::from_millis(1900),
        "closed after {after:?}"
    );
    let received = String::from_utf8_lossy(&received);
    assert!(!received.contains(" 200 "), "{received}");
}

#[tokio::test]
async fn a_request_head_over_the_limit_is_refused_and_the_server_keeps_serving() {
    let server = Server::app(Limits {
        max_header_bytes: 8 * 1024,
        ..patient()
    })
    .await;
    let mut client = server.connect().await;
    let big = format!(
        "GET /healthz HTTP/1.1\r\nhost: localhost\r\nx-padding: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    client.write_all(big.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let _ = tokio::time::timeout(BOUND, client.read_to_end(&mut received))
        .await
        .expect("refused and closed within the bound");
    let received = String::from_utf8_lossy(&received);
    assert!(received.starts_with("HTTP/1.1 431"), "{received}");

    let mut next = server.connect().await;
    next.write_all(&request("/healthz")).await.unwrap();
    let response = read_response(&mut next).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[tokio::test]
async fn a_connection_over_the_cap_is_answered_503_at_once_and_a_freed_slot_serves_again() {
    let server = Server::app(Limits {
        max_connections: 2,
        ..patient()
    })
    .await;
    // Two kept-alive connections hold both slots (each has been served, so each was
    // accepted).
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut client = server.connect().await;
        client.write_all(&request("/healthz")).await.unwrap();
        assert!(read_response(&mut client).await.starts_with("HTTP/1.1 200"));
        held.push(client);
    }

    let started = Instant::now();
    let mut surplus = server.connect().await;
    surplus.write_all(&request("/healthz")).await.unwrap();
    let mut received = Vec::new();
    // The answer counts even if the close comes as a reset.
    let _ = tokio::time::timeout(BOUND, surplus.read_to_end(&mut received))
        .await
        .expect("answered and closed within the bound");
    let received = String::from_utf8_lossy(&received);
    assert!(received.starts_with("HTTP/1.1 503"), "{received}");
    assert!(received.contains("retry-after: 1"), "{received}");
    assert!(
        received.contains("content-type: application/problem+json"),
        "{received}"
    );
    let body = &received[received.find("\r\n\r\n").unwrap() + 4..];
    let problem: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(problem["status"], 503);
    assert_eq!(problem["type"], "urn:sanctuary-data:problem:overloaded");
    assert!(started.elapsed() < BOUND);

    // A held connection closes; its slot serves a new client.
    drop(held.pop());
    let deadline = Instant::now() + BOUND;
    loop {
        let mut client = server.connect().await;
        client.write_all(&request("/healthz")).await.unwrap();
        let response = read_response(&mut client).await;
        if response.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "no slot freed: {response}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A router with `/big`, an endless-looking 256 MB response made as it is sent, and
/// `/slow`, which answers after half a second.
fn streaming_app() -> Router {
    const CHUNK: usize = 64 * 1024;
    const CHUNKS: usize = 4096;
    Router::new()
        .route(
            "/big",
            axum::routing::get(|| async {
                let chunks = futures::stream::iter(
                    (0..CHUNKS)
                        .map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'x'; CHUNK]))),
                );
                axum::response::Response::builder()
                    .header("content-length", CHUNK * CHUNKS)
                    .body(Body::from_stream(chunks))
                    .unwrap()
            }),
        )
        .route(
            "/slow",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                "done"
            }),
        )
        .route("/small", axum::routing::get(|| async { "ok" }))
}

const BIG_BYTES: usize = 64 * 1024 * 4096;

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_by_the_write_timeout() {
    let server = Server::start(
        streaming_app(),
        Limits {
            max_connections: 1,
            write_timeout: Duration::from_secs(1),
            ..patient()
        },
        None,
    )
    .await;
    let mut stalled = server.connect().await;
    stalled.write_all(&request("/big")).await.unwrap();
    let mut head = [0u8; 1024];
    let n = tokio::time::timeout(BOUND, stalled.read(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"));

    // The stalled client holds the only slot until the write timeout frees it.
    let deadline = Instant::now() + BOUND;
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let mut client = server.connect().await;
        client.write_all(&request("/small")).await.unwrap();
        let response = read_response(&mut client).await;
        if response.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stalled client still holds its slot"
        );
    }
    // What was buffered before the timeout arrives, then the end: far from 256 MB.
    let (read, _) = closed_by_server(&mut stalled).await;
    assert!(read + n < BIG_BYTES, "the whole response was sent");
}

#[tokio::test]
async fn shutdown_lets_requests_in_progress_finish() {
    let server = Server::start(
        streaming_app(),
        Limits {
            shutdown_timeout: Duration::from_secs(5),
            ..patient()
        },
        None,
    )
    .await;
    let mut client = server.connect().await;
    client.write_all(&request("/slow")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopping = tokio::spawn(server.shut_down());
    let response = read_response(&mut client).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("done"), "{response}");
    stopping.await.unwrap();
}

#[tokio::test]
async fn shutdown_with_stalled_clients_finishes_within_the_deadline() {
    let server = Server::start(
        streaming_app(),
        Limits {
            shutdown_timeout: Duration::from_secs(1),
            ..patient()
        },
        None,
    )
    .await;
    // One client sends half a request head; another stops reading a large response.
    let mut half_sent = server.connect().await;
    half_sent
        .write_all(b"GET /small HTTP/1.1\r\nhost: loc")
        .await
        .unwrap();
    let mut not_reading = server.connect().await;
    not_reading.write_all(&request("/big")).await.unwrap();
    let mut head = [0u8; 1024];
    let _ = tokio::time::timeout(BOUND, not_reading.read(&mut head))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let took = server.shut_down().await;
    assert!(took >= Duration::from_millis(900), "stopped after {took:?}");
    // Both were closed.
    closed_by_server(&mut half_sent).await;
    let (read, _) = closed_by_server(&mut not_reading).await;
    assert!(read < BIG_BYTES);
}

#[tokio::test]
async fn the_process_exits_within_the_shutdown_deadline_on_sigterm_while_a_client_stalls() {
    use std::process::Command;

    let test_db = crate::helpers::fresh_db().await;
    crate::helpers::import(&test_db.db, &crate::helpers::fixture("small")).await;
    let (mut child, addr, log) = start_binary(
        Command::new(env!("CARGO_BIN_EXE_sanctuary-data")).arg("serve"),
        &test_db,
        &[
            ("SANCTUARY_SHUTDOWN_TIMEOUT_SECS", "1"),
            ("SANCTUARY_HEADER_READ_TIMEOUT_SECS", "60"),
            ("SANCTUARY_IDLE_TIMEOUT_SECS", "60"),
        ],
    );

    let mut stalled = TcpStream::connect(&addr).await.unwrap();
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: loc")
        .await
        .unwrap();
    // Proof the server is up and has had time to read the half request.
    let mut probe = TcpStream::connect(&addr).await.unwrap();
    probe.write_all(&request("/healthz")).await.unwrap();
    assert!(read_response(&mut probe).await.starts_with("HTTP/1.1 200"));
    drop(probe);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "still running {BOUND:?} after SIGTERM: {:?}",
                log.join().unwrap()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let lines = log.join().unwrap();
    assert!(status.success(), "{status}: {lines:?}");
    assert!(lines.iter().any(|l| l.contains("shut down")), "{lines:?}");
    drop(stalled);
}

/// The real binary serving `db` on a free port, with `env` set; returns the process, its
/// address, and a thread collecting its log.
fn start_binary(
    command: &mut std::process::Command,
    db: &TestDb,
    env: &[(&str, &str)],
) -> (
    std::process::Child,
    String,
    std::thread::JoinHandle<Vec<String>>,
) {
    use std::io::BufRead;
    use std::process::Stdio;

    command
        .env("DATABASE_URL", &db.url)
        .env("SANCTUARY_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("start the binary");
    // Read the log until the address, then keep draining it on a thread.
    let stderr = child.stderr.take().unwrap();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let log = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let mut addr = rest.split(|c: char| c.is_whitespace() || c == '\u{1b}');
                let _ = addr_tx.send(addr.next().unwrap_or_default().to_owned());
            }
            lines.push(line);
        }
        lines
    });
    match addr_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(addr) => (child, addr, log),
        Err(_) => {
            let _ = child.kill();
            panic!("the server did not start: {:?}", log.join().unwrap());
        }
    }
}

/// Out of file descriptors, the server keeps running (it pauses accepting rather than
/// spin; that part is not measured here) and serves again once idle connections close.
#[cfg(unix)]
#[tokio::test]
async fn out_of_file_descriptors_the_process_pauses_and_recovers() {
    use std::process::Command;

    let test_db = crate::helpers::fresh_db().await;
    crate::helpers::import(&test_db.db, &crate::helpers::fixture("small")).await;
    let (mut child, addr, log) = start_binary(
        Command::new("sh")
            .arg("-c")
            .arg("ulimit -n 64 && exec \"$0\" serve")
            .arg(env!("CARGO_BIN_EXE_sanctuary-data")),
        &test_db,
        &[("SANCTUARY_IDLE_TIMEOUT_SECS", "1")],
    );
    // More idle connections than the process has descriptors for.
    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The idle ones are closed by the idle timeout; then a request is served.
    let deadline = Instant::now() + Duration::from_secs(30);
    let served = loop {
        let mut client = TcpStream::connect(&addr).await.unwrap();
        client.write_all(&request("/healthz")).await.unwrap();
        let mut received = Vec::new();
        let _ =
            tokio::time::timeout(Duration::from_secs(3), client.read_to_end(&mut received)).await;
        if String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200") {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
    };
    drop(idle);
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    let lines = log.join().unwrap();
    assert!(
        served,
        "no request served after running out of descriptors: {lines:?}"
    );
    assert!(running, "the process died: {lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("cannot accept a connection")),
        "never ran out of descriptors: {lines:?}"
    );
}

#[test]
fn a_timeout_too_large_to_add_to_a_clock_is_refused_at_start_up() {
    // 2^63 - 1 seconds used to be accepted, and every connection then panicked computing
    // its deadline: the process stayed up and answered nothing.
    for option in [
        "--idle-timeout-secs",
        "--header-read-timeout-secs",
        "--write-timeout-secs",
        "--shutdown-timeout-secs",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sanctuary-data"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                option,
                "9223372036854775807",
            ])
            .env(
                "DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()),
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run the binary");
        // Refused at once; a process still running after the bound accepted the value.
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > BOUND {
                let _ = child.kill();
                panic!("{option} 9223372036854775807 was accepted: the service started");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{option} must be refused");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(option) && stderr.contains("86400"),
            "{option}: the message names the option and the largest value: {stderr}"
        );
    }
}

#[tokio::test]
async fn a_graphql_body_trickled_in_is_answered_408_long_before_the_request_timeout() {
    // The head arrives at once, the body one byte a second: before, only the 30 s request
    // timeout ended it, so a few hundred such clients held every connection slot.
    let server = Server::app(patient()).await;
    let (mut reader, mut writer) = server.connect().await.into_split();
    writer
        .write_all(
            b"POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
              content-length: 30000\r\n\r\n{",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let mut reply = Vec::new();
    let mut buffer = [0u8; 4096];
    let read = async {
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    reply.extend_from_slice(&buffer[..n]);
                    if reply.windows(4).any(|w| w == b"\r\n\r\n") && reply.ends_with(b"}") {
                        break;
                    }
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(25), read)
        .await
        .expect("an answer before the request timeout");
    let waited = started.elapsed();
    trickle.abort();
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("did not arrive within"), "{reply}");
    assert!(
        waited < Duration::from_secs(25),
        "answered after {waited:?}, not at the body deadline"
    );
    server.shut_down().await;
}
