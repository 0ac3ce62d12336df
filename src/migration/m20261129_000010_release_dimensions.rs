//! `releases.dimensions`: the dimensions each release declared (`sanctuary:dimensions`,
//! in a canonical JSON form), so a later import reads earlier releases' breakdowns through
//! the declarations they were published under and refuses declarations that change
//! (docs/disclosure-control.md, "Across releases"). Releases imported before this
//! migration have none (NULL).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("releases")
                    .add_column(ColumnDef::new("dimensions").text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("releases")
                    .drop_column("dimensions")
                    .to_owned(),
            )
            .await
    }
}
