//! `release_facets`: the row count of each value of each facet field of each table of a
//! release (`entity::release_facet`), so unfiltered facets and the total of a page
//! filtered on one facet field read a few stored rows instead of counting (issue #12).
//!
//! Written by the importer in the release's own transaction. Releases imported before
//! this migration have no rows here; `serve` counts them once at start-up
//! (`seed::record_missing_facets`), as it measures their download sizes.

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
                    .table("release_facets")
                    .col(string("release_id"))
                    .col(string("table_name"))
                    .col(string("field"))
                    .col(integer("ordinal"))
                    .col(boolean("missing"))
                    .col(text("value"))
                    .col(big_integer("row_count"))
                    .primary_key(
                        Index::create()
                            .col("release_id")
                            .col("table_name")
                            .col("field")
                            .col("ordinal"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("release_facets", "release_id")
                            .to("releases", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("release_facets").to_owned())
            .await
    }
}
