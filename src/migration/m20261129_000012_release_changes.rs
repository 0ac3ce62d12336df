//! `release_changes`: how many rows of each table were added, removed and changed from one
//! release to another, so a diff's summary and the change feed read six small rows
//! instead of comparing two releases (issue #15).
//!
//! The importer writes the counts of a new release against the release before it, in
//! the release's own transaction. Any other pair is counted on its first request and
//! stored then; releases imported before this migration are counted against their
//! predecessor once at start-up (`serve`).

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
                    .table("release_changes")
                    .col(string("from_release"))
                    .col(string("to_release"))
                    .col(string("table_name"))
                    .col(big_integer("added"))
                    .col(big_integer("removed"))
                    .col(big_integer("changed"))
                    .primary_key(
                        Index::create()
                            .col("from_release")
                            .col("to_release")
                            .col("table_name"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("release_changes", "from_release")
                            .to("releases", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("release_changes", "to_release")
                            .to("releases", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("release_changes").to_owned())
            .await
    }
}
