//! The latest flag (issue #12): `statistics.latest`, true on each series' latest figure
//! (`query::list_latest_statistics`'s rule over the whole release), set by the importer
//! (`seed::load::mark_latest`) and here for the releases already imported. A derived
//! column like `search_text`: never published, not part of the release id. With the
//! index `statistics_latest` (`release_id`, `latest`, `position`), the latest figures
//! under no filter or series-level filters are an index range, where PostgreSQL (no skip
//! scan) read the whole release for them. The plans are in docs/performance.md.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "statistics_latest";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("statistics")
                    .add_column(boolean("latest").default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table("statistics")
                    .col("release_id")
                    .col("latest")
                    .col("position")
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for id in crate::seed::release_ids(db).await? {
            crate::seed::mark_latest(db, &id).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table("statistics").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("statistics")
                    .drop_column("latest")
                    .to_owned(),
            )
            .await
    }
}
