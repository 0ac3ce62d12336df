//! The `sanctuary-data` command: parse the CLI, start tracing, dispatch.

use std::process::ExitCode;

use clap::Parser;
use sanctuary_data::config::{Cli, Command};
use sanctuary_data::disclosure::Policy;
use sanctuary_data::{db, seed};

/// mimalloc instead of glibc's allocator: requests and whole-table downloads allocate and
/// free many small strings, across threads (rows read on one, written on another); glibc
/// spent a quarter of a million-row download in `malloc_consolidate` and its free lists
/// (issue #12, docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
                // The PostgreSQL driver logs an unknown URL parameter with its value, which
                // may be a misspelled password: never log it, whatever RUST_LOG says.
                .add_directive(
                    "sqlx_postgres::options=error"
                        .parse()
                        .expect("a valid directive"),
                ),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let policy = Policy::new(cli.min_cell)?;
    match cli.command {
        Command::Serve(args) => sanctuary_data::app::serve(&cli.database_url, policy, *args).await,
        Command::Import { dir } => {
            let db = db::connect(&cli.database_url).await?;
            let outcome = seed::import_dir(&db, &dir, policy).await?;
            println!("{outcome}");
            Ok(())
        }
        Command::Check { dir } => {
            let bundle = seed::check_dir(&dir, policy)?;
            println!(
                "{}: valid; would be release {}: {}",
                dir.display(),
                bundle.id,
                bundle.summary()
            );
            Ok(())
        }
        Command::Export { out_dir } => sanctuary_data::export::write_contracts(&out_dir),
    }
}
