//! PostgreSQL: the references of `statistics` (to its release, program, metric and
//! source) are checked once per import, by one set-based query in the import's
//! transaction right after the rows are written (`seed::check_statistic_references`),
//! instead of by four foreign-key triggers per row (issue #12).
//!
//! A foreign key on PostgreSQL is a trigger that runs a locking `SELECT` for every row
//! inserted: at a million statistics rows the four of them took 52 s of the server's
//! CPU, more than the heap and all ten indexes together (docs/performance.md). The
//! importer's validation checks the same references before anything is written, and
//! nothing but the importer writes statistics.
//!
//! One thing the constraints did is gone on PostgreSQL: deleting a release row by hand
//! no longer deletes its statistics (`ON DELETE CASCADE`). The service never deletes a
//! release. `down` restores the constraints, and fails if such orphans exist by then.
//!
//! SQLite keeps its foreign keys: there each check is an index probe in the same process
//! (a few seconds of a million-row import), and dropping a constraint means rebuilding
//! the table.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (constraint, columns, referenced table, referenced columns) as the first migration
/// created them: unnamed there, so PostgreSQL named them `<table>_<columns>_fkey`. Dropped
/// without `IF EXISTS`, so a name that does not match fails the migration instead of
/// leaving a trigger behind.
const REFERENCES: [(&str, &str, &str, &str); 4] = [
    ("statistics_release_id_fkey", "release_id", "releases", "id"),
    (
        "statistics_release_id_program_fkey",
        "release_id, program",
        "programs",
        "release_id, slug",
    ),
    (
        "statistics_release_id_metric_fkey",
        "release_id, metric",
        "metrics",
        "release_id, id",
    ),
    (
        "statistics_release_id_source_id_fkey",
        "release_id, source_id",
        "sources",
        "release_id, id",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (name, ..) in REFERENCES {
            db.execute_unprepared(&format!("ALTER TABLE statistics DROP CONSTRAINT {name}"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (name, columns, table, referenced) in REFERENCES {
            let cascade = if table == "releases" {
                " ON DELETE CASCADE"
            } else {
                ""
            };
            db.execute_unprepared(&format!(
                "ALTER TABLE statistics ADD CONSTRAINT {name} FOREIGN KEY ({columns}) \
                 REFERENCES {table} ({referenced}){cascade}"
            ))
            .await?;
        }
        Ok(())
    }
}
