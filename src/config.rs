//! Command line and environment: every option is `long` + `env`, and the defaults run the
//! service on a local SQLite file with nothing configured.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

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

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SANCTUARY_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Seed directory imported on first start (when the database holds no release).
    #[arg(long, env = "SANCTUARY_SEED_DIR", default_value = "seed-data")]
    pub seed_dir: PathBuf,
}
