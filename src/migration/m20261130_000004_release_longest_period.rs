//! `releases.longest_period_days` (issue #12): the most days a statistic's period spans in
//! the release, set by the importer (`seed::record_longest_period`) and here for the
//! releases already imported. With it, a period filter with `to` bounds `period_end` on
//! both sides (`period_end <= to + longest`), so its page and `COUNT` read one bounded
//! range of `statistics_period` instead of every index entry from `from` on.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("releases")
                    .add_column(big_integer_null("longest_period_days"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for id in crate::seed::release_ids(db).await? {
            crate::seed::record_longest_period(db, &id).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("releases")
                    .drop_column("longest_period_days")
                    .to_owned(),
            )
            .await
    }
}
