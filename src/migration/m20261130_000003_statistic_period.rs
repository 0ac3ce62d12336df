//! An index for the period filters (`from`, `to`: the periods overlapping a window,
//! `period_end >= from AND period_start <= to`): the release's rows by `period_end`, then
//! `period_start`, so a `from` is a range of the index and a `to` is checked within it,
//! and their `COUNT` reads the index entries from `from` on instead of every row of the
//! release (issue #12). The plans are in docs/performance.md.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "statistics_period";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table("statistics")
                    .col("release_id")
                    .col("period_end")
                    .col("period_start")
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
