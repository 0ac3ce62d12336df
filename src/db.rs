//! Connecting to SQLite or PostgreSQL, with the same code, and running migrations.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
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

/// Why the database could not be used. Never carries a password.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported DATABASE_URL scheme {0:?}: use sqlite:// or postgres://")]
    UnsupportedScheme(String),
    #[error("could not create directory {path} for the SQLite database: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to the database at {target}: {cause}")]
    Connect { target: String, cause: String },
    #[error("database migration failed: {0}")]
    Migrate(sea_orm::DbErr),
}

/// Connect, apply SQLite pragmas (WAL, foreign keys), and run pending migrations.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbError> {
    let target = describe(url);
    let scheme = url.split(':').next().unwrap_or_default();
    if !matches!(scheme, "sqlite" | "postgres" | "postgresql") {
        return Err(DbError::UnsupportedScheme(scheme.to_owned()));
    }
    if scheme == "sqlite" {
        ensure_sqlite_dir(url)?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .max_connections(MAX_CONNECTIONS)
        .statement_timeout(STATEMENT_TIMEOUT)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts: SqliteConnectOptions| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    let db = Database::connect(options)
        .await
        .map_err(|e| DbError::Connect {
            target: target.clone(),
            cause: redact(&e.to_string(), url),
        })?;
    // Migrations take a lock on PostgreSQL; on SQLite they are quick and local.
    Migrator::up(&db, None).await.map_err(DbError::Migrate)?;
    Ok(db)
}

/// `host:port/database` for PostgreSQL, the file path for SQLite: what an operator needs
/// to find the database, and never the password.
pub fn describe(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) if parsed.scheme().starts_with("postgres") => format!(
            "{}:{}{}",
            parsed.host_str().unwrap_or("localhost"),
            parsed.port().unwrap_or(5432),
            parsed.path()
        ),
        _ => url.split('?').next().unwrap_or(url).to_owned(),
    }
}

/// Remove the URL's password from an error message, in case a driver echoes it.
fn redact(message: &str, url: &str) -> String {
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
    {
        Some(password) if !password.is_empty() => message.replace(&password, "***"),
        _ => message.to_owned(),
    }
}

fn ensure_sqlite_dir(url: &str) -> Result<(), DbError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|source| DbError::CreateDir {
            path: parent.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

/// Whether the database answers (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}
