//! The HTTP server loop: HTTP/1.1 over hyper, with every connection bounded in time and
//! the number of connections bounded, so idle, slow or stalled clients can neither hold
//! the service nor keep it from shutting down.
//!
//! - **Connections**: at most [`Limits::max_connections`] are served at once. One more is
//!   answered at once with a `503` problem+json (`Retry-After: 1`, then closed), never left
//!   waiting in the kernel's backlog.
//! - **Header read**: a request head (request line and headers) must arrive whole within
//!   [`Limits::header_read_timeout`] of the connection starting to wait for it, or the
//!   connection is closed. It is at most [`Limits::max_header_bytes`] long, or hyper
//!   answers `431` itself.
//! - **Idle**: a connection with no request in progress that receives nothing for
//!   [`Limits::idle_timeout`] (a new connection, or a kept-alive one after its response) is
//!   closed.
//! - **Write stall**: a write that makes no progress for [`Limits::write_timeout`] (the
//!   client stopped reading) closes the connection.
//! - **Shutdown**: when `shutdown` resolves, listening stops, idle connections close, and
//!   requests in progress get [`Limits::shutdown_timeout`] to finish; then whatever is
//!   left is closed and [`serve_listener`] returns.
//!
//! The time a handler may take is bounded separately, by the request timeout in
//! `build_app`. Only HTTP/1.1 is spoken (HTTP/2 and TLS are a reverse proxy's job).
//!
//! The idle and header-read deadlines are one watch per connection ([`Activity`]), a
//! timer that is moved only when it fires. hyper's own header-read timeout would set a
//! timer for every request (a sixth of `/healthz`'s own work, issue #12).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::error::ApiError;

/// Connection-level limits; see the module documentation. `Limits::default()` is what
/// `serve` uses with nothing configured.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections served at once.
    pub max_connections: usize,
    /// Time for a whole request head to arrive.
    pub header_read_timeout: Duration,
    /// Time a connection with no request in progress may stay silent.
    pub idle_timeout: Duration,
    /// Time a write may make no progress.
    pub write_timeout: Duration,
    /// Time requests in progress get to finish after the shutdown signal.
    pub shutdown_timeout: Duration,
    /// Longest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
}

pub const DEFAULT_MAX_CONNECTIONS: u32 = 512;
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 5;
pub const DEFAULT_WRITE_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_SHUTDOWN_TIMEOUT_SECS: u64 = 10;
/// Room for a GraphQL query of 32 KB in a GET URL, plus ordinary headers.
pub const DEFAULT_MAX_HEADER_BYTES: u32 = 64 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: DEFAULT_MAX_CONNECTIONS as usize,
            header_read_timeout: Duration::from_secs(DEFAULT_HEADER_READ_TIMEOUT_SECS),
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SECS),
            write_timeout: Duration::from_secs(DEFAULT_WRITE_TIMEOUT_SECS),
            shutdown_timeout: Duration::from_secs(DEFAULT_SHUTDOWN_TIMEOUT_SECS),
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES as usize,
        }
    }
}

/// Connections over the limit being answered `503` at once; beyond this they are closed
/// without an answer, so a flood cannot pile up tasks or file descriptors either.
const MAX_REFUSALS_IN_FLIGHT: usize = 128;
/// The most time spent sending the `503` to a connection over the limit.
const REFUSAL_TIME: Duration = Duration::from_secs(1);
/// How long what such a client sends is read (and dropped) after the `503`.
const REFUSAL_DRAIN_TIME: Duration = Duration::from_millis(250);
/// Pause after an accept error such as "too many open files", instead of spinning.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The whole answer to a connection over the limit.
static OVERLOADED: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let body = serde_json::to_vec(&ApiError::Overloaded.problem()).unwrap_or_default();
    let mut response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: {}\r\ncache-control: no-store\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        crate::error::PROBLEM_JSON,
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    response
});

/// Serve `app` on `listener` until `shutdown` resolves, within `limits`; then give
/// requests in progress up to `limits.shutdown_timeout` and return.
pub async fn serve_listener<S>(
    listener: TcpListener,
    app: S,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) where
    S: App,
{
    let mut builder = http1::Builder::new();
    builder
        // The connection's watch enforces it (`Activity`), without a timer per request.
        .header_read_timeout(None)
        .max_header_size(limits.max_header_bytes);
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS_IN_FLIGHT));
    let (stop, stopped) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut refused = LogThrottle::default();
    let mut failed = LogThrottle::default();
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => match slots.clone().try_acquire_owned() {
                    Ok(slot) => {
                        connections.spawn(serve_connection(
                            stream,
                            app.clone(),
                            builder.clone(),
                            limits.clone(),
                            stopped.clone(),
                            slot,
                        ));
                    }
                    Err(_) => {
                        if let Some(refused) = refused.event() {
                            tracing::warn!(
                                max_connections = limits.max_connections,
                                refused,
                                "connection limit reached: new connections are answered 503 \
                                 until one closes"
                            );
                        }
                        match refusals.clone().try_acquire_owned() {
                            Ok(permit) => {
                                connections.spawn(refuse(stream, permit));
                            }
                            Err(_) => drop(stream),
                        }
                    }
                },
                Err(error) if is_connection_error(&error) => {}
                Err(error) => {
                    // Out of file descriptors or memory: wait for connections to close
                    // rather than spin, and keep serving the ones we have.
                    if let Some(times) = failed.event() {
                        tracing::warn!(%error, times, "cannot accept a connection; pausing");
                    }
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => {}
                    }
                }
            },
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let open = connections.len();
    if open > 0 {
        tracing::info!(
            open,
            "finishing requests in progress (up to {} s)",
            limits.shutdown_timeout.as_secs_f32()
        );
    }
    let drained = tokio::time::timeout(limits.shutdown_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_ok();
    if !drained {
        tracing::warn!(
            left = connections.len(),
            "shutdown deadline reached; closing the connections still open"
        );
        connections.shutdown().await;
    }
}

/// What the server runs: `build_app`'s router (the tests), or the same application
/// without the router around it (`app::build_service`, `serve`).
pub trait App:
    tower::Service<
        axum::extract::Request,
        Response = axum::response::Response,
        Error = Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
}

impl<S> App for S where
    S: tower::Service<
            axum::extract::Request,
            Response = axum::response::Response,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static
{
}

/// Logs an event at most every [`LogThrottle::EVERY`], with how many happened since.
#[derive(Default)]
struct LogThrottle {
    logged: Option<Instant>,
    count: u64,
}

impl LogThrottle {
    const EVERY: Duration = Duration::from_secs(10);

    /// Count an event; `Some(count)` when it is time to log.
    fn event(&mut self) -> Option<u64> {
        self.count += 1;
        if self.logged.is_some_and(|at| at.elapsed() < Self::EVERY) {
            return None;
        }
        self.logged = Some(Instant::now());
        Some(std::mem::take(&mut self.count))
    }
}

/// Errors that concern one connection only (it went away before we took it).
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// Answer a connection over the limit with a `503` and close it. The answer is sent,
/// then what the client sent is read and dropped for a moment, so that closing does not
/// reset the connection before the client has read the answer.
async fn refuse(mut stream: TcpStream, _permit: OwnedSemaphorePermit) {
    let answered = tokio::time::timeout(REFUSAL_TIME, async {
        stream.write_all(&OVERLOADED).await?;
        stream.shutdown().await
    })
    .await;
    if !matches!(answered, Ok(Ok(()))) {
        return;
    }
    let _ = tokio::time::timeout(REFUSAL_DRAIN_TIME, async {
        let mut sink = [0u8; 4096];
        let mut total = 0usize;
        while total < 64 * 1024 {
            match stream.read(&mut sink).await? {
                0 => break,
                n => total += n,
            }
        }
        Ok::<_, io::Error>(())
    })
    .await;
}

/// Serve one connection until it closes, goes idle, stalls or is told to stop.
async fn serve_connection<S: App>(
    stream: TcpStream,
    app: S,
    builder: Arc<http1::Builder>,
    limits: Limits,
    mut stopped: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Guarded {
        stream,
        write_timeout: limits.write_timeout,
        stall: None,
        activity: activity.clone(),
    });
    let service = Requests {
        app: std::cell::RefCell::new(app),
        activity: activity.clone(),
    };
    let connection = builder.serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    let idle = idle_expired(&activity, &limits);
    let mut idle = std::pin::pin!(idle);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                break;
            }
            _ = stopped.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
            waited = &mut idle => {
                match waited {
                    Waited::Idle => tracing::debug!("closing an idle connection"),
                    Waited::ForHead => {
                        tracing::debug!("closing a connection whose request head is late");
                    }
                }
                break;
            }
        }
    }
}

/// hyper's service for one connection: each request handed to the application as it is
/// (its body boxed once, as `Router` would), counted in progress until its response body
/// is dropped (sent whole, or abandoned): that is when the connection becomes idle.
struct Requests<S> {
    /// hyper calls through `&self`; the calls of one connection come one at a time.
    app: std::cell::RefCell<S>,
    activity: Arc<Activity>,
}

impl<S: App> hyper::service::Service<hyper::Request<Incoming>> for Requests<S> {
    type Response = axum::http::Response<Tracked>;
    type Error = Infallible;
    type Future =
        Answer<futures::future::Either<S::Future, tower::util::Oneshot<S, axum::extract::Request>>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        let in_progress = Activity::begin(&self.activity);
        let request = request.map(Body::new);
        let mut app = self.app.borrow_mut();
        // Our services are always ready (`Router` is, and the layers above it ask it); asked
        // all the same, without a clone of the stack or `Oneshot`'s state per request
        // (issue #12).
        let inner = match app.poll_ready(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Ok(())) => futures::future::Either::Left(app.call(request)),
            Poll::Ready(Err(never)) => match never {},
            Poll::Pending => futures::future::Either::Right(app.clone().oneshot(request)),
        };
        Answer {
            inner,
            in_progress: Some(in_progress),
        }
    }
}

pin_project_lite::pin_project! {
    /// The application's answer to one request, its body [`Tracked`].
    struct Answer<F> {
        #[pin]
        inner: F,
        in_progress: Option<InProgress>,
    }
}

impl<F> Future for Answer<F>
where
    F: Future<Output = Result<axum::response::Response, Infallible>>,
{
    type Output = Result<axum::http::Response<Tracked>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        let in_progress = this.in_progress.take();
        Poll::Ready(Ok(response.map(|body| Tracked {
            body,
            _in_progress: in_progress,
        })))
    }
}

/// A response body that keeps its request in progress until it is dropped.
struct Tracked {
    body: Body,
    _in_progress: Option<InProgress>,
}

impl hyper::body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// What a connection is doing, shared by its socket, its requests and its idle watch.
struct Activity {
    /// Requests whose response has not been sent whole yet.
    in_progress: AtomicUsize,
    /// Bytes received so far.
    bytes_read: AtomicU64,
    /// When the connection last became idle, and `bytes_read` then.
    idle_since: Mutex<(Instant, u64)>,
    /// A write is waiting for the client to read.
    write_blocked: AtomicBool,
}

/// One request in progress; dropping it ends the request.
struct InProgress(Arc<Activity>);

impl Activity {
    fn new() -> Self {
        Activity {
            in_progress: AtomicUsize::new(0),
            bytes_read: AtomicU64::new(0),
            idle_since: Mutex::new((Instant::now(), 0)),
            write_blocked: AtomicBool::new(false),
        }
    }

    fn begin(this: &Arc<Self>) -> InProgress {
        this.in_progress.fetch_add(1, Ordering::SeqCst);
        InProgress(this.clone())
    }

    /// What the connection's watch does next, at `now`. With a request in progress,
    /// nothing (the request timeout bounds it): look again later. Otherwise, counted from
    /// when the connection began to wait (it opened, or its last request ended): once a
    /// request head has begun to arrive, it must be whole by `header_read_timeout`; while
    /// nothing arrives, the connection may stay `idle_timeout`, and never longer than
    /// `header_read_timeout`. The watch looks at those two moments only.
    fn next(&self, limits: &Limits, now: Instant) -> Watch {
        let idle_since = self.idle_since.lock().unwrap_or_else(|e| e.into_inner());
        // A response still being written (the client reads it slowly) is not idleness:
        // the write timeout bounds it.
        if self.in_progress.load(Ordering::SeqCst) > 0 || self.write_blocked.load(Ordering::SeqCst)
        {
            return Watch::Busy;
        }
        let (since, bytes) = *idle_since;
        drop(idle_since);
        let head_due = since + limits.header_read_timeout;
        let idle_due = since + limits.idle_timeout.min(limits.header_read_timeout);
        let head_begun = self.bytes_read.load(Ordering::SeqCst) != bytes;
        if head_begun && now >= head_due {
            return Watch::Close(Waited::ForHead);
        }
        if !head_begun && now >= idle_due {
            return Watch::Close(Waited::Idle);
        }
        Watch::LookAt(
            [head_due, idle_due]
                .into_iter()
                .filter(|due| *due > now)
                .min()
                .unwrap_or(idle_due.max(head_due)),
        )
    }
}

/// See [`Activity::next`].
enum Watch {
    Busy,
    LookAt(Instant),
    Close(Waited),
}

impl Drop for InProgress {
    fn drop(&mut self) {
        // Under the lock the watch reads by, so it never sees the request ended with the
        // moment the connection began to wait not yet moved.
        let mut idle_since = self.0.idle_since.lock().unwrap_or_else(|e| e.into_inner());
        if self.0.in_progress.fetch_sub(1, Ordering::SeqCst) == 1 {
            let bytes = self.0.bytes_read.load(Ordering::SeqCst);
            *idle_since = (Instant::now(), bytes);
        }
    }
}

/// What a connection waited for too long.
#[derive(Clone, Copy, Debug)]
enum Waited {
    /// A request (nothing received).
    Idle,
    /// The rest of a request head.
    ForHead,
}

/// Resolves once the connection has been idle for `idle_timeout`, or has waited for the
/// rest of a request head for `header_read_timeout`. One timer, moved only when it fires:
/// requests do not touch it.
async fn idle_expired(activity: &Activity, limits: &Limits) -> Waited {
    let busy_recheck = limits.idle_timeout.min(limits.header_read_timeout);
    loop {
        match activity.next(limits, Instant::now()) {
            Watch::Close(waited) => return waited,
            Watch::LookAt(at) => tokio::time::sleep_until(at).await,
            Watch::Busy => tokio::time::sleep(busy_recheck).await,
        }
    }
}

/// A client socket that counts what it receives and fails a write that makes no
/// progress for `write_timeout`.
struct Guarded {
    stream: TcpStream,
    write_timeout: Duration,
    /// Running while a write is blocked.
    stall: Option<Pin<Box<Sleep>>>,
    activity: Arc<Activity>,
}

impl Guarded {
    fn watch<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Pending => {
                self.activity.write_blocked.store(true, Ordering::SeqCst);
                let timeout = self.write_timeout;
                let stall = self
                    .stall
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if stall.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading",
                    )));
                }
                Poll::Pending
            }
            ready => {
                if self.stall.take().is_some() {
                    self.activity.write_blocked.store(false, Ordering::SeqCst);
                }
                ready
            }
        }
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        let received = buf.filled().len() - before;
        if received > 0 {
            self.activity
                .bytes_read
                .fetch_add(received as u64, Ordering::SeqCst);
        }
        poll
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_shutdown(cx);
        self.watch(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The watch closes a connection idle for the idle timeout, or one whose request head
    /// began and is not whole by the header-read timeout, and leaves a busy one alone.
    #[test]
    fn the_watch_closes_idle_connections_and_late_heads() {
        let limits = Limits {
            idle_timeout: Duration::from_secs(5),
            header_read_timeout: Duration::from_secs(10),
            ..Limits::default()
        };
        let activity = Arc::new(Activity::new());
        let opened = activity.idle_since.lock().unwrap().0;
        let at = |secs| opened + Duration::from_secs(secs);
        assert!(matches!(activity.next(&limits, at(1)), Watch::LookAt(t) if t == at(5)));
        assert!(matches!(
            activity.next(&limits, at(5)),
            Watch::Close(Waited::Idle)
        ));
        activity.bytes_read.fetch_add(3, Ordering::SeqCst);
        assert!(matches!(activity.next(&limits, at(5)), Watch::LookAt(t) if t == at(10)));
        assert!(matches!(
            activity.next(&limits, at(10)),
            Watch::Close(Waited::ForHead)
        ));
        // A response the client is slow to read is not idleness.
        activity.write_blocked.store(true, Ordering::SeqCst);
        assert!(matches!(activity.next(&limits, at(60)), Watch::Busy));
        activity.write_blocked.store(false, Ordering::SeqCst);
        let request = Activity::begin(&activity);
        assert!(matches!(activity.next(&limits, at(60)), Watch::Busy));
        drop(request);
        // Waiting again from the end of that request, with nothing received since.
        let ended = activity.idle_since.lock().unwrap().0;
        assert!(matches!(
            activity.next(&limits, ended),
            Watch::LookAt(t) if t == ended + Duration::from_secs(5)
        ));
    }
}
