//! Statistics say how they count (`basis`), which ends of their period were inferred
//! (`period_inferred`) and the source's own wording (`source_wording`). The columns are
//! nullable: releases imported before them stay as they were published, and the
//! importer fills all three for every new release.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 3] = ["basis", "period_inferred", "source_wording"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in [
            string_null("basis"),
            string_null("period_inferred"),
            text_null("source_wording"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("statistics")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("statistics_basis")
                    .table("statistics")
                    .col("release_id")
                    .col("basis")
                    .col("position")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("statistics_basis")
                    .table("statistics")
                    .to_owned(),
            )
            .await?;
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table("statistics")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
