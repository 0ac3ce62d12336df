//! An index for the latest figures (`/api/v1/statistics/latest`, issue #14): the rows of
//! a release by series (program, metric, dimension, category), latest period first, then
//! canonical order: the order of the tie rule, so each series' latest row is the first
//! index entry of the series (`query::latest_positions` reads one entry per series), and
//! the series themselves are the index's prefix (a `DISTINCT` over it skips from series to
//! series on SQLite). The query plans are in docs/performance.md.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "statistics_series_latest";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table("statistics")
                    .col("release_id")
                    .col("program")
                    .col("metric")
                    .col("dimension")
                    .col("category")
                    .col(("period_end", IndexOrder::Desc))
                    .col(("period_start", IndexOrder::Desc))
                    .col("position")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table("statistics").to_owned())
            .await
    }
}
