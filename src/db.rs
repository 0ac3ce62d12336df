//! Connecting to SQLite or PostgreSQL, with the same code, and running migrations.
//!
//! Migrations and imports are serialised across processes by a [`MaintenanceLock`]: a
//! PostgreSQL advisory lock, or an exclusive lock on a file next to the SQLite database.
//! An SQLite file is created only when it does not exist at start; a file deleted while
//! serving makes the database unavailable (503), never silently empty (representations
//! already rendered, kept in memory, may still be served: their release is immutable).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, Statement, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crate::migration::Migrator;

/// How long to wait for the database before giving up with a clear error.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a free connection of the pool before it is answered 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections in the pool (GraphQL may hold at most half of them at once).
pub const MAX_CONNECTIONS: u32 = 16;
/// The longest one SQL statement may run. PostgreSQL cancels it on the server
/// (`statement_timeout`, set on every connection), which frees the connection of an
/// abandoned request. SQLite has no server to cancel it: GraphQL resolvers stop waiting
/// after this long, the driver then stops a statement that returns rows at its next row,
/// and an aggregate (a `COUNT` over one release) runs to its end, holding its connection
/// until then. Imports write in chunks, each far below this.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL advisory lock key of migrations and imports ("SANCTUAR" in ASCII).
/// Advisory locks are per database, so services on other databases do not contend.
const MAINTENANCE_LOCK_KEY: i64 = 0x5341_4E43_5455_4152;
/// How often a process waiting for the maintenance lock tries again.
const LOCK_POLL: Duration = Duration::from_millis(100);

/// Why the database could not be used. Never carries a password.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported DATABASE_URL scheme {0:?}: use sqlite:// or postgres://")]
    UnsupportedScheme(String),
    #[error(
        "DATABASE_URL {target} is not a valid URL ({cause}); percent-encode special characters in the user name and password (# as %23, / as %2F, @ as %40, ? as %3F)"
    )]
    InvalidUrl { target: String, cause: String },
    #[error("could not create {path} for the SQLite database: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to the database at {target}: {cause}")]
    Connect { target: String, cause: String },
    #[error("database migration failed: {0}")]
    Migrate(String),
}

/// Connect, apply SQLite pragmas (WAL, foreign keys), and run pending migrations under
/// the [`MaintenanceLock`], so instances starting together migrate one after another.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbError> {
    let target = describe(url);
    let scheme = url.split(':').next().unwrap_or_default();
    if !matches!(scheme, "sqlite" | "postgres" | "postgresql") {
        // Only a real scheme is echoed: a value without `://` may be a bare secret.
        let shown = if url.contains("://")
            && scheme.len() <= 20
            && scheme.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            scheme.to_owned()
        } else {
            "(none)".to_owned()
        };
        return Err(DbError::UnsupportedScheme(shown));
    }
    if scheme != "sqlite"
        && let Err(e) = url::Url::parse(url)
    {
        return Err(DbError::InvalidUrl {
            target: redact_url(url),
            cause: e.to_string(),
        });
    }
    if scheme == "sqlite" {
        create_sqlite_file(url)?;
    }
    let connect = |options: ConnectOptions| {
        let target = target.clone();
        async move {
            Database::connect(options)
                .await
                .map_err(|e| DbError::Connect {
                    target,
                    cause: redact(&e.to_string(), url),
                })
        }
    };
    // Migrations run on connections of their own without the statement deadline: a
    // migration may rightly take longer than any request (an index on a large table).
    // Two connections: the maintenance lock holds one while the migrations use the other.
    let maintenance = connect(connect_options(url, 2, None)).await?;
    let lock = MaintenanceLock::acquire(&maintenance)
        .await
        .map_err(|e| DbError::Migrate(redact(&e.to_string(), url)))?;
    let migrated = Migrator::up(&maintenance, None).await;
    lock.release().await;
    let _ = maintenance.close().await;
    migrated.map_err(|e| DbError::Migrate(redact(&e.to_string(), url)))?;
    let db = connect(connect_options(
        url,
        MAX_CONNECTIONS,
        Some(STATEMENT_TIMEOUT),
    ))
    .await?;
    Ok(db)
}

/// Held while migrating or importing: one process, and one task, at a time per database.
///
/// On PostgreSQL, a transaction-scoped advisory lock (`pg_try_advisory_xact_lock`) on a
/// connection of its own, held until [`release`](Self::release) ends that transaction;
/// on SQLite, an exclusive lock on `FILE.lock` next to the database file. Dropping the
/// lock releases it too, and so does the death of the process.
pub struct MaintenanceLock {
    held: Held,
}

enum Held {
    Postgres(DatabaseTransaction),
    File(std::fs::File),
    /// In-memory SQLite: one pool, one process; SQLite's own locking suffices.
    Nothing,
}

impl MaintenanceLock {
    /// Wait until no other process or task migrates or imports into this database.
    pub async fn acquire(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let mut told = false;
        let mut waiting = || {
            if !std::mem::replace(&mut told, true) {
                tracing::info!(
                    "another process is migrating or importing into this database; waiting for it"
                );
            }
        };
        match db.get_database_backend() {
            DbBackend::Postgres => {
                let txn = db.begin().await?;
                // Whatever the server defaults, holding this lock idle is expected.
                txn.execute_unprepared("SET LOCAL idle_in_transaction_session_timeout = 0")
                    .await?;
                loop {
                    let row = txn
                        .query_one_raw(Statement::from_sql_and_values(
                            DbBackend::Postgres,
                            "SELECT pg_try_advisory_xact_lock($1) AS locked",
                            [MAINTENANCE_LOCK_KEY.into()],
                        ))
                        .await?;
                    let locked = match row {
                        Some(row) => row.try_get::<bool>("", "locked")?,
                        None => false,
                    };
                    if locked {
                        return Ok(MaintenanceLock {
                            held: Held::Postgres(txn),
                        });
                    }
                    waiting();
                    tokio::time::sleep(LOCK_POLL).await;
                }
            }
            DbBackend::Sqlite => {
                let options = db.get_sqlite_connection_pool().connect_options();
                let database = options.get_filename();
                if is_in_memory(database) {
                    return Ok(MaintenanceLock {
                        held: Held::Nothing,
                    });
                }
                let path = lock_file_path(database);
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .map_err(|e| {
                        DbErr::Custom(format!("cannot open the lock file {}: {e}", path.display()))
                    })?;
                loop {
                    match file.try_lock() {
                        Ok(()) => {
                            return Ok(MaintenanceLock {
                                held: Held::File(file),
                            });
                        }
                        Err(std::fs::TryLockError::WouldBlock) => {
                            waiting();
                            tokio::time::sleep(LOCK_POLL).await;
                        }
                        Err(std::fs::TryLockError::Error(e)) => {
                            return Err(DbErr::Custom(format!(
                                "cannot lock {}: {e}",
                                path.display()
                            )));
                        }
                    }
                }
            }
            other => Err(DbErr::Custom(format!("no maintenance lock for {other:?}"))),
        }
    }

    /// Let the next process or task in.
    pub async fn release(self) {
        match self.held {
            Held::Postgres(txn) => {
                // Ending the transaction releases the lock; if the connection is gone,
                // so is the lock.
                let _ = txn.rollback().await;
            }
            Held::File(file) => {
                let _ = file.unlock();
            }
            Held::Nothing => {}
        }
    }
}

/// The lock file of an SQLite database: `FILE.lock`, next to it.
fn lock_file_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Whether `db` is an in-memory SQLite database (one pool, one process: no other writer).
pub fn is_in_memory_sqlite(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DbBackend::Sqlite
        && is_in_memory(
            db.get_sqlite_connection_pool()
                .connect_options()
                .get_filename(),
        )
}

fn is_in_memory(database: &Path) -> bool {
    let name = database.to_string_lossy();
    name == ":memory:" || name.starts_with("file:sqlx-in-memory-")
}

/// The file of an SQLite URL (`None` for in-memory databases and other schemes).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") || url.contains("mode=memory") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let path = options.get_filename();
    (!is_in_memory(path) && !path.as_os_str().is_empty()).then(|| path.to_owned())
}

/// Why the database cannot serve, in words an operator can act on, when the cause is
/// known: today, an SQLite file that has gone missing. `None` otherwise.
pub fn unavailable_cause(db: &DatabaseConnection) -> Option<String> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let file = options.get_filename();
    (!is_in_memory(file) && !file.exists()).then(|| {
        // The path is for the operator's log, not for every client of `/readyz`.
        tracing::error!(file = %file.display(), "the SQLite database file is missing");
        "the SQLite database file is missing (deleted while the service was running?); \
         restore it and restart the service (the server log names the file)"
            .to_owned()
    })
}

/// The pool's options: `max_connections`, and a deadline on every statement when given.
fn connect_options(
    url: &str,
    max_connections: u32,
    statement_timeout: Option<Duration>,
) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .max_connections(max_connections)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts: SqliteConnectOptions| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                // Created by `connect` if it was missing at start; never again while serving.
                .create_if_missing(false)
        });
    if let Some(timeout) = statement_timeout {
        options.statement_timeout(timeout);
    }
    if let Some(file) = sqlite_file(url) {
        // A pooled connection to a file deleted while serving still sees the old data;
        // retire it, so the deletion shows as an unavailable database everywhere.
        options.map_sqlx_sqlite_before_acquire(move |_conn, _meta| {
            let exists = file.exists();
            Box::pin(async move { Ok(exists) })
        });
    }
    options
}

/// `host:port/database` for PostgreSQL, the file path for SQLite: what an operator needs
/// to find the database, and never the password (nor the query string, which may hold one).
pub fn describe(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) if parsed.scheme().starts_with("postgres") => format!(
            "{}:{}{}",
            parsed.host_str().unwrap_or("localhost"),
            parsed.port().unwrap_or(5432),
            parsed.path()
        ),
        _ => {
            let redacted = redact_url(url);
            redacted.split('?').next().unwrap_or_default().to_owned()
        }
    }
}

/// `url` with its credentials replaced by `***`, whether or not it parses as a URL.
///
/// By string logic, not by a URL parser: a password with an unencoded `#`, `/` or `?`
/// is exactly what makes parsing fail. Everything between the scheme's `://` (or its
/// `:`) and the last `@` is user information; only the user name before its first `:`
/// is kept. A `password=` query parameter is masked too.
pub fn redact_url(url: &str) -> String {
    let start = match url.find("://") {
        Some(i) => i + 3,
        None => url.find(':').map_or(0, |i| i + 1),
    };
    let mut out = match url[start..].rfind('@') {
        Some(at) => {
            let userinfo = &url[start..start + at];
            let user = match userinfo.find(':') {
                Some(colon) => format!("{}:***", &userinfo[..colon]),
                None => userinfo.to_owned(),
            };
            format!("{}{user}{}", &url[..start], &url[start + at..])
        }
        None => url.to_owned(),
    };
    // `?password=…` (and `&password=…`), as libpq and sqlx accept it.
    let mut from = 0;
    while let Some(found) = out[from..].to_ascii_lowercase().find("password=") {
        let value_start = from + found + "password=".len();
        let value_end = out[value_start..]
            .find('&')
            .map_or(out.len(), |i| value_start + i);
        out.replace_range(value_start..value_end, "***");
        from = value_start + 3;
    }
    out
}

/// The secrets a URL carries, raw and percent-decoded: what must never reach a message.
fn secrets(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    let start = match url.find("://") {
        Some(i) => i + 3,
        None => url.find(':').map_or(0, |i| i + 1),
    };
    if let Some(at) = url[start..].rfind('@') {
        let userinfo = &url[start..start + at];
        if let Some(colon) = userinfo.find(':') {
            found.push(userinfo[colon + 1..].to_owned());
        }
    }
    if let Ok(parsed) = url::Url::parse(url) {
        if let Some(password) = parsed.password() {
            found.push(password.to_owned());
        }
        for (key, value) in parsed.query_pairs() {
            if key.eq_ignore_ascii_case("password") {
                found.push(value.into_owned());
            }
        }
    }
    let decoded: Vec<String> = found
        .iter()
        .filter_map(|s| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        })
        .collect();
    found.extend(decoded);
    found.retain(|s| !s.is_empty());
    // Longest first, so a secret that contains another is masked whole.
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found.dedup();
    found
}

/// Remove the URL and its password from an error message, in case a driver echoes them.
pub fn redact(message: &str, url: &str) -> String {
    let mut message = message.replace(url, &redact_url(url));
    for secret in secrets(url) {
        message = message.replace(&secret, "***");
    }
    message
}

/// Create the SQLite file (and its directory) if it does not exist yet: only at start.
/// An empty file is an empty SQLite database. Only with `mode=rwc`, as SQLite would.
fn create_sqlite_file(url: &str) -> Result<(), DbError> {
    let Some(path) = sqlite_file(url) else {
        return Ok(());
    };
    if !url.contains("mode=rwc") || path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|source| DbError::CreateDir {
            path: parent.display().to_string(),
            source,
        })?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| DbError::CreateDir {
            path: path.display().to_string(),
            source,
        })?;
    Ok(())
}

/// Whether the database answers (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_masks_the_password_whether_or_not_the_url_parses() {
        for (url, expected) in [
            (
                "postgres://app:s3cret@db:5432/x",
                "postgres://app:***@db:5432/x",
            ),
            (
                "postgres://app:se#cret@db:5432/x",
                "postgres://app:***@db:5432/x",
            ),
            (
                "postgres://app:a@b/c?d@db:99999/x",
                "postgres://app:***@db:99999/x",
            ),
            ("postgres://app@db/x", "postgres://app@db/x"),
            ("postgres://db/x", "postgres://db/x"),
            ("postgres:app:s3cret@db/x", "postgres:app:***@db/x"),
            (
                "postgres://db/x?user=app&password=s3cret&sslmode=require",
                "postgres://db/x?user=app&password=***&sslmode=require",
            ),
            (
                "postgres://db/x?PASSWORD=s3cret",
                "postgres://db/x?PASSWORD=***",
            ),
            ("sqlite://data/x.db?mode=rwc", "sqlite://data/x.db?mode=rwc"),
        ] {
            assert_eq!(redact_url(url), expected, "{url}");
        }
    }

    #[test]
    fn redact_removes_the_url_and_its_password_raw_and_decoded_from_a_message() {
        let url = "postgres://app:p%23ss%40word@db:5432/x";
        let message = format!("cannot parse '{url}': bad password p#ss@word or p%23ss%40word");
        let redacted = redact(&message, url);
        assert!(!redacted.contains("p#ss@word"), "{redacted}");
        assert!(!redacted.contains("p%23ss%40word"), "{redacted}");
        assert!(
            redacted.contains("postgres://app:***@db:5432/x"),
            "{redacted}"
        );

        let unparsable = "postgres://app:pa#ss@db:port/x";
        let redacted = redact(&format!("bad {unparsable} (pa#ss)"), unparsable);
        assert!(!redacted.contains("pa#ss"), "{redacted}");
    }

    #[test]
    fn describe_never_shows_credentials_or_the_query() {
        assert_eq!(describe("postgres://app:s3cret@db:6543/x"), "db:6543/x");
        assert_eq!(
            describe("postgres://app:s#cret@db:5432/x?password=y"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(
            describe("sqlite://data/x.db?mode=rwc"),
            "sqlite://data/x.db"
        );
    }
}
