//! PostgreSQL: the references of `statistics` (to its release, program, metric and
//! source) are checked once per import, as one set-based query
//! (`seed::check_statistic_references`), instead of by four foreign-key triggers per row
//! (issue #12).
//!
//! A foreign key on PostgreSQL is a trigger that runs a locking `SELECT` for every row
//! inserted: at a million statistics rows the four of them took 52 s of the server's
//! CPU, more than the heap and nine indexes together (measured in
//! docs/performance.md). The references were already checked twice before a row is
//! written (the importer's validation, then this check, in the same transaction), and
//! nothing else writes statistics. SQLite keeps its foreign keys: there a check is an
//! index probe in the same process (about 3 s of a million-row import), and dropping a
//! constraint means rebuilding the table.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (constraint, columns, referenced table, referenced columns) as the first migration
/// created them (PostgreSQL named them).
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
            db.execute_unprepared(&format!(
                "ALTER TABLE statistics DROP CONSTRAINT IF EXISTS {name}"
            ))
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
