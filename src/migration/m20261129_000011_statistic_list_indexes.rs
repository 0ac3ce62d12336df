//! Indexes for the statistics list at a million rows (issue #12): every list query is
//! `WHERE release_id = ? AND <filters> AND position > ? ORDER BY position LIMIT n`, so an
//! index that ends in `position` after the filter's equality columns answers a page by
//! reading n index entries in order, and its `COUNT` from the index alone. The first
//! migration's indexes ended in `period_start` (or in the category): with them a page
//! filtered on a program walked the whole release in position order (0.3 s at a million
//! rows on SQLite). The query plans are in docs/performance.md.
//!
//! Three indexes are replaced and one added, so an import maintains one more index than
//! before: `statistics_program_position` (program), `statistics_program_metric_position`
//! (program and metric), `statistics_metric_position` (metric) and
//! `statistics_dimension_position` (dimension, and dimension and category).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (name, columns after `release_id`) of the indexes this migration creates.
const NEW: [(&str, &[&str]); 4] = [
    ("statistics_program_position", &["program", "position"]),
    (
        "statistics_program_metric_position",
        &["program", "metric", "position"],
    ),
    ("statistics_metric_position", &["metric", "position"]),
    (
        "statistics_dimension_position",
        &["dimension", "category", "position"],
    ),
];

/// (name, columns after `release_id`) of the first migration's indexes it replaces.
const OLD: [(&str, &[&str]); 3] = [
    (
        "statistics_program_metric_period",
        &["program", "metric", "period_start"],
    ),
    ("statistics_metric_period", &["metric", "period_start"]),
    ("statistics_dimension", &["dimension", "category"]),
];

fn create(name: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table("statistics").col("release_id");
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

fn drop(name: &'static str) -> IndexDropStatement {
    Index::drop().name(name).table("statistics").to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in OLD {
            manager.drop_index(drop(name)).await?;
        }
        for (name, columns) in NEW {
            manager.create_index(create(name, columns)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in NEW {
            manager.drop_index(drop(name)).await?;
        }
        for (name, columns) in OLD {
            manager.create_index(create(name, columns)).await?;
        }
        Ok(())
    }
}
