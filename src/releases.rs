//! The releases an instance knows, in memory: the latest (what every URL without a
//! `release` serves) and every release looked up by id. Releases are immutable, so a
//! request never asks the database which release is the latest; the instance learns of a
//! new one through a cheap change signal instead:
//!
//! - **An import in this process** (`seed::load`) bumps a counter of its database after
//!   its commit; the next request sees the counter moved and reads the latest release once.
//!   So a release imported in process is served by the very next request.
//! - **PostgreSQL**: the importer sends `NOTIFY sanctuary_data_release` inside its
//!   transaction (delivered at commit). A listener task on a connection of its own
//!   (`LISTEN`) reads the latest release when notified, and again whenever it reconnects
//!   (a notification sent while it was away is lost); a safety poll (`SELECT max(seq)`
//!   every [`POSTGRES_SAFETY_POLL`]) covers anything else.
//! - **SQLite file**: a task reads `PRAGMA data_version` on a connection of its own every
//!   [`SQLITE_POLL`]; it changes when another connection (another process) commits, and
//!   then the latest release is read. An in-memory database has no other writer.
//!
//! Either way a new release is served within about a second of its commit, with no
//! database round trip per request. The latest release only ever moves forward: a
//! request never sees a release older than one an earlier request saw from this instance
//! (releases are numbered by `seq`, and an older one is never installed over a newer).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::Duration;

use sea_orm::sqlx;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};

use crate::entity::release;

/// The PostgreSQL channel the importer notifies when it commits a release.
pub const CHANNEL: &str = "sanctuary_data_release";
/// How often SQLite's change counter is read.
pub const SQLITE_POLL: Duration = Duration::from_millis(250);
/// How often PostgreSQL is asked for the latest release number, in case a notification
/// was lost.
pub const POSTGRES_SAFETY_POLL: Duration = Duration::from_secs(5);
/// The pause before a watcher that lost its connection tries again.
const RETRY: Duration = Duration::from_secs(1);
/// Releases remembered by id (a database holds few; beyond this, lookups of further ones
/// go to the database each time).
const MAX_KNOWN: usize = 10_000;

/// For each database this process has opened (see [`identity`]), a counter moved by every
/// import committed into it from this process.
static IMPORTS: LazyLock<Mutex<HashMap<String, Arc<AtomicU64>>>> = LazyLock::new(Mutex::default);

/// Which database `db` is: the SQLite file (or in-memory database), or PostgreSQL's
/// `host:port/database`.
fn identity(db: &DatabaseConnection) -> String {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let options = db.get_postgres_connection_pool().connect_options();
            format!(
                "postgres:{}:{}/{}",
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or_default()
            )
        }
        DbBackend::Sqlite => {
            let options = db.get_sqlite_connection_pool().connect_options();
            format!("sqlite:{}", options.get_filename().display())
        }
        other => format!("{other:?}"),
    }
}

/// The import counter of `db`'s database.
fn imports_of(db: &DatabaseConnection) -> Arc<AtomicU64> {
    IMPORTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(identity(db))
        .or_default()
        .clone()
}

/// Called by the importer after it commits a release into `db`: every instance in this
/// process serving that database reads the latest release on its next request.
pub fn imported(db: &DatabaseConnection) {
    imports_of(db).fetch_add(1, Ordering::SeqCst);
}

/// Called by the importer inside its transaction: on PostgreSQL, notify every instance
/// listening on [`CHANNEL`] (delivered only if the transaction commits).
pub async fn announce(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await?;
    }
    Ok(())
}

/// The releases an instance knows, and the task that watches for new ones (stopped when
/// this is dropped).
pub struct Releases {
    shared: Arc<Shared>,
    watchers: Vec<tokio::task::AbortHandle>,
}

/// How a release was read: as the latest (`ORDER BY seq DESC LIMIT 1`), or by its id.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    AsLatest,
    ById,
}

struct Shared {
    /// For reads on a request's behalf.
    db: DatabaseConnection,
    /// The same database for the watchers, without the metric callback the caller may
    /// have set on `db` (tests count a request's statements with it).
    quiet: DatabaseConnection,
    latest: RwLock<Option<Arc<release::Model>>>,
    known: RwLock<HashMap<String, Arc<release::Model>>>,
    /// This database's import counter (see [`imported`]).
    imports: Arc<AtomicU64>,
    /// Its value when the latest release was last read.
    checked: AtomicU64,
}

impl Drop for Releases {
    fn drop(&mut self) {
        for watcher in &self.watchers {
            watcher.abort();
        }
    }
}

impl Releases {
    /// Nothing known yet (the first request reads the latest release); the change watcher
    /// starts when called inside a Tokio runtime.
    pub fn new(db: DatabaseConnection) -> Self {
        let mut quiet = db.clone();
        quiet.set_metric_callback(|_| {});
        let imports = imports_of(&db);
        let shared = Arc::new(Shared {
            checked: AtomicU64::new(imports.load(Ordering::SeqCst)),
            imports,
            db,
            quiet,
            latest: RwLock::default(),
            known: RwLock::default(),
        });
        let mut watchers = Vec::new();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            match shared.db.get_database_backend() {
                DbBackend::Postgres => {
                    watchers.push(
                        runtime
                            .spawn(listen_postgres(shared.clone()))
                            .abort_handle(),
                    );
                    watchers.push(runtime.spawn(poll_postgres(shared.clone())).abort_handle());
                }
                DbBackend::Sqlite if !crate::db::is_in_memory_sqlite(&shared.db) => {
                    watchers.push(runtime.spawn(poll_sqlite(shared.clone())).abort_handle());
                }
                _ => {}
            }
        }
        Releases { shared, watchers }
    }

    /// The latest release, from memory; read from the database only before any release
    /// is known or after an import in this process.
    pub async fn latest(&self) -> Result<Option<Arc<release::Model>>, DbErr> {
        match self.known_latest() {
            Some(latest) => Ok(Some(latest)),
            None => self.shared.refresh(&self.shared.db).await,
        }
    }

    /// The latest release if it is known and current (no import in this process since it
    /// was read), without the database; `None` tells the caller to use [`latest`](Self::latest).
    pub fn known_latest(&self) -> Option<Arc<release::Model>> {
        if self.shared.imports.load(Ordering::SeqCst) == self.shared.checked.load(Ordering::SeqCst)
        {
            self.shared.current()
        } else {
            None
        }
    }

    /// The release `id`, from memory once it has been seen (releases never change).
    pub async fn by_id(&self, id: &str) -> Result<Option<Arc<release::Model>>, DbErr> {
        if let Some(known) = self.shared.read_known().get(id) {
            return Ok(Some(known.clone()));
        }
        Ok(crate::query::release_by_id(&self.shared.db, id)
            .await?
            .map(|found| self.shared.install(found, Seen::ById)))
    }

    /// The releases whose id begins with `prefix` (at most two: more than one means the
    /// prefix is ambiguous). Always asks the database: a prefix unique today may stop
    /// being unique when a release is imported.
    pub async fn by_prefix(&self, prefix: &str) -> Result<Vec<Arc<release::Model>>, DbErr> {
        Ok(crate::query::releases_by_prefix(&self.shared.db, prefix)
            .await?
            .into_iter()
            .map(|found| self.shared.install(found, Seen::ById))
            .collect())
    }

    /// Record `found`, read from the database by someone else (`/readyz`), as a known
    /// release, and as the latest if it is newer.
    pub fn saw(&self, found: release::Model) -> Arc<release::Model> {
        self.shared.install(found, Seen::AsLatest)
    }
}

impl Shared {
    fn current(&self) -> Option<Arc<release::Model>> {
        self.latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn read_known(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<release::Model>>> {
        self.known.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Remember `found`; make it the latest if it is newer than the latest known, or if no
    /// latest is known and it was read as the latest. A release read by id is not the
    /// latest just because it is the first one seen: an earlier release asked for by id
    /// before any request had read the latest used to become the latest, and requests
    /// without a release were then served it.
    fn install(&self, found: release::Model, seen: Seen) -> Arc<release::Model> {
        let found = {
            let mut known = self.known.write().unwrap_or_else(|e| e.into_inner());
            match known.get(&found.id) {
                Some(existing) => existing.clone(),
                None => {
                    let found = Arc::new(found);
                    if known.len() < MAX_KNOWN {
                        known.insert(found.id.clone(), found.clone());
                    }
                    found
                }
            }
        };
        let mut latest = self.latest.write().unwrap_or_else(|e| e.into_inner());
        let newer = match latest.as_ref() {
            Some(known) => known.seq < found.seq,
            None => seen == Seen::AsLatest,
        };
        if newer {
            if latest.is_some() {
                tracing::info!(release = %found.id, seq = found.seq, "serving a new release");
            }
            *latest = Some(found.clone());
        }
        found
    }

    /// Read the latest release from the database and install it.
    async fn refresh(&self, db: &DatabaseConnection) -> Result<Option<Arc<release::Model>>, DbErr> {
        let imports = self.imports.load(Ordering::SeqCst);
        if let Some(found) = crate::query::latest_release(db).await? {
            self.install(found, Seen::AsLatest);
        }
        self.checked.fetch_max(imports, Ordering::SeqCst);
        Ok(self.current())
    }

    /// [`refresh`](Self::refresh) for a watcher: failures are logged, and retried at the
    /// next signal or poll.
    async fn refresh_logged(&self) {
        if let Err(error) = self.refresh(&self.quiet).await {
            tracing::warn!(%error, "could not read the latest release");
        }
    }
}

/// PostgreSQL: `LISTEN` on a connection of its own; read the latest release when
/// notified and after every (re)connection.
async fn listen_postgres(shared: Arc<Shared>) {
    let options = shared.db.get_postgres_connection_pool().connect_options();
    loop {
        let listening = async {
            // Its own pool of one: the listener holds its connection for ever.
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .max_lifetime(None)
                .idle_timeout(None)
                .connect_with((*options).clone())
                .await?;
            let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        }
        .await;
        match listening {
            Ok(mut listener) => {
                // Anything committed before the LISTEN took effect.
                shared.refresh_logged().await;
                loop {
                    match listener.try_recv().await {
                        // A notification, or a reconnection after which one may be lost.
                        Ok(_) => shared.refresh_logged().await,
                        Err(error) => {
                            tracing::warn!(%error, "release listener lost its connection");
                            break;
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot listen for new releases; retrying"),
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// PostgreSQL's safety poll: the number of the latest release, compared with memory.
async fn poll_postgres(shared: Arc<Shared>) {
    let pool = shared.quiet.get_postgres_connection_pool().clone();
    let mut tick = tokio::time::interval(POSTGRES_SAFETY_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let newest: Result<Option<i32>, _> = sqlx::query_scalar("SELECT max(seq) FROM releases")
            .fetch_one(&pool)
            .await;
        match newest {
            Ok(Some(seq)) if shared.current().is_none_or(|l| l.seq < seq) => {
                shared.refresh_logged().await;
            }
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "release poll failed; retrying"),
        }
    }
}

/// SQLite: `PRAGMA data_version` on a connection of its own (it changes when another
/// connection commits); read the latest release when it does.
async fn poll_sqlite(shared: Arc<Shared>) {
    use sqlx::{ConnectOptions, Connection};
    let options = shared.db.get_sqlite_connection_pool().connect_options();
    let mut seen: Option<i64> = None;
    loop {
        match (*options).clone().connect().await {
            Ok(mut connection) => loop {
                let version: Result<i64, _> = sqlx::query_scalar("PRAGMA data_version")
                    .fetch_one(&mut connection)
                    .await;
                match version {
                    Ok(version) => {
                        // The first reading is a baseline: read the latest release then
                        // too, in case a commit came before it.
                        if seen != Some(version) {
                            shared.refresh_logged().await;
                        }
                        seen = Some(version);
                    }
                    Err(error) => {
                        tracing::debug!(%error, "cannot read SQLite's data_version; reconnecting");
                        let _ = connection.close().await;
                        // A new connection's counter starts afresh.
                        seen = None;
                        break;
                    }
                }
                tokio::time::sleep(SQLITE_POLL).await;
            },
            Err(error) => tracing::debug!(%error, "cannot open SQLite for the release watcher"),
        }
        tokio::time::sleep(RETRY).await;
    }
}
