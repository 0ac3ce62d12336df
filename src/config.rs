//! Command line and environment: every option is `long` + `env`, and the defaults run the
//! service on a local SQLite file with nothing configured.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::server;

/// Where the embedded database lives when `DATABASE_URL` is not set (git-ignored).
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/sanctuary-data.db?mode=rwc";

/// sanctuary-data: aggregate statistics, timelines and policy documents of municipal ID
/// and sanctuary-policy programs. No individual records.
#[derive(Debug, Parser)]
#[command(name = "sanctuary-data", version, about, long_about = None)]
pub struct Cli {
    /// Database to use: `sqlite://PATH?mode=rwc` (embedded, the default) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    pub database_url: String,

    /// Disclosure threshold k: breakdown cells with 1 <= value < k are suppressed.
    /// The minimum is 5.
    #[arg(long, env = "SANCTUARY_MIN_CELL", default_value_t = crate::disclosure::DEFAULT_K, global = true)]
    pub min_cell: i64,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run migrations, import the seed directory if the database holds no release, and serve HTTP.
    Serve(ServeArgs),
    /// Validate a directory of CSV files and its datapackage.json, then load it as a new release.
    Import {
        /// Directory holding datapackage.json and the CSV files it declares.
        dir: PathBuf,
    },
    /// Validate a directory like `import` does, without touching any database.
    Check {
        /// Directory holding datapackage.json and the CSV files it declares.
        dir: PathBuf,
    },
    /// Write the generated contracts: schema.graphql and openapi/openapi.json.
    Export {
        /// Repository root to write into.
        #[arg(long, env = "SANCTUARY_EXPORT_DIR", default_value = ".")]
        out_dir: PathBuf,
    },
}

/// The longest any timeout may be set to: a day. A larger one is refused at start-up, since
/// deadlines are computed as "now + timeout" and a value near `u64::MAX` seconds overflows.
pub const MAX_TIMEOUT_SECS: u64 = 86_400;

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SANCTUARY_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Seed directory imported on first start (when the database holds no release).
    #[arg(long, env = "SANCTUARY_SEED_DIR", default_value = "seed-data")]
    pub seed_dir: PathBuf,

    /// Directory for files the service renders: whole-table downloads are kept under
    /// `<data-dir>/downloads`, one directory per release (safe to delete: they are rendered
    /// again on request).
    #[arg(long, env = "SANCTUARY_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Connections served at once; one more is answered 503 with `Retry-After` and closed.
    #[arg(long, env = "SANCTUARY_MAX_CONNECTIONS", default_value_t = server::DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// Seconds a request head (request line and headers) may take to arrive, counted from
    /// when the connection starts waiting for it.
    #[arg(long, env = "SANCTUARY_HEADER_READ_TIMEOUT_SECS", default_value_t = server::DEFAULT_HEADER_READ_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub header_read_timeout_secs: u64,

    /// Seconds a connection with no request in progress may stay silent before it is closed
    /// (keep-alive).
    #[arg(long, env = "SANCTUARY_IDLE_TIMEOUT_SECS", default_value_t = server::DEFAULT_IDLE_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub idle_timeout_secs: u64,

    /// Seconds a response write may make no progress (the client stopped reading) before
    /// the connection is closed.
    #[arg(long, env = "SANCTUARY_WRITE_TIMEOUT_SECS", default_value_t = server::DEFAULT_WRITE_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub write_timeout_secs: u64,

    /// Seconds requests in progress get to finish after SIGTERM or Ctrl-C; then the
    /// process exits, whatever is still open.
    #[arg(long, env = "SANCTUARY_SHUTDOWN_TIMEOUT_SECS", default_value_t = server::DEFAULT_SHUTDOWN_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub shutdown_timeout_secs: u64,

    /// Longest request head (request line and headers) in bytes; a longer one is answered
    /// 431. Leave room for GraphQL queries sent in GET URLs.
    #[arg(long, env = "SANCTUARY_MAX_HEADER_BYTES", default_value_t = server::DEFAULT_MAX_HEADER_BYTES, value_parser = clap::value_parser!(u32).range(1024..=1_048_576))]
    pub max_header_bytes: u32,
}

impl ServeArgs {
    /// The connection limits these options describe.
    pub fn limits(&self) -> server::Limits {
        server::Limits {
            max_connections: self.max_connections as usize,
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            write_timeout: Duration::from_secs(self.write_timeout_secs),
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout_secs),
            max_header_bytes: self.max_header_bytes as usize,
        }
    }
}
