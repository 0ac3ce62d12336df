//! An index for the latest figures (`/api/v1/statistics/latest`, issue #14): the rows of
//! a release by series (program, metric, dimension, category), latest period first, then
//! canonical order. It is exactly the order of the window that ranks each series' rows
//! (`query::latest_positions`), so the window reads the index in order instead of
//! sorting every row of the release. The query plans are in docs/performance.md.

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
