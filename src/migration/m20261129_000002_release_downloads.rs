//! `release_downloads`: the row count and CSV size of each download of a release, so
//! `GET /downloads` reads six small rows instead of rendering every table.
//!
//! Written by the importer in the release's own transaction. Releases imported before
//! this migration have no rows here; `serve` measures them once at start-up (and the
//! listing measures any that are still missing) and stores the result.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("release_downloads")
                    .col(string("release_id"))
                    .col(string("table_name"))
                    .col(big_integer("row_count"))
                    .col(big_integer("byte_count"))
                    .primary_key(Index::create().col("release_id").col("table_name"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("release_downloads", "release_id")
                            .to("releases", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("release_downloads").to_owned())
            .await
    }
}
