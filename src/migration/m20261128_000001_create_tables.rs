//! The seven tables: `releases` and the six data tables of the catalogue (`src/tables.rs`).
//! Every data table is keyed by (release_id, id),
//! references its release, and carries `position` (the canonical order, for keyset paging).
//! On PostgreSQL, `statistics`' references are checked once per import instead, since
//! `m20261130_000005_statistic_references_checked_once`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Columns shared by every data table: the release, the row's id column and its position.
fn data_table(name: &'static str, id_column: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(string("release_id"))
        .col(string(id_column))
        .col(integer("position"))
        .primary_key(Index::create().col("release_id").col(id_column))
        .foreign_key(
            ForeignKey::create()
                .from(name, "release_id")
                .to("releases", "id")
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

/// A composite foreign key (release_id, column) -> table(release_id, target).
fn same_release_fk(
    from: &'static str,
    column: &'static str,
    to: &'static str,
    target: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(from)
        .from_col("release_id")
        .from_col(column)
        .to_tbl(to)
        .to_col("release_id")
        .to_col(target)
        .to_owned()
}

fn index(
    table: &'static str,
    name: &'static str,
    columns: &[&'static str],
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table).col("release_id");
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("releases")
                    .col(string("id").primary_key())
                    .col(integer_uniq("seq"))
                    .col(timestamp_with_time_zone("imported_at"))
                    .col(integer("min_cell"))
                    .col(string("title"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                data_table("sources", "id")
                    .col(string("title"))
                    .col(string("publisher"))
                    .col(string("url"))
                    .col(date_null("published_on"))
                    .col(date_null("retrieved_on"))
                    .col(string("kind"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                data_table("programs", "slug")
                    .col(string("name"))
                    .col(string("jurisdiction"))
                    .col(string("administered_by"))
                    .col(date_null("launched_on"))
                    .col(string("status"))
                    .col(string_null("website"))
                    .col(text("description"))
                    .col(string("source_id"))
                    .foreign_key(&mut same_release_fk(
                        "programs",
                        "source_id",
                        "sources",
                        "id",
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                data_table("metrics", "id")
                    .col(string("name"))
                    .col(text("description"))
                    .col(string("unit"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                data_table("events", "id")
                    .col(string("program"))
                    .col(date("date"))
                    .col(string("date_precision"))
                    .col(string("kind"))
                    .col(string("title"))
                    .col(text("description"))
                    .col(string("source_id"))
                    .foreign_key(&mut same_release_fk(
                        "events", "program", "programs", "slug",
                    ))
                    .foreign_key(&mut same_release_fk("events", "source_id", "sources", "id"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                data_table("documents", "id")
                    .col(string("program"))
                    .col(string("title"))
                    .col(string("kind"))
                    .col(string("issuer"))
                    .col(date_null("published_on"))
                    .col(string("url"))
                    .col(text("summary"))
                    .col(string("source_id"))
                    .foreign_key(&mut same_release_fk(
                        "documents",
                        "program",
                        "programs",
                        "slug",
                    ))
                    .foreign_key(&mut same_release_fk(
                        "documents",
                        "source_id",
                        "sources",
                        "id",
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                data_table("statistics", "id")
                    .col(string("program"))
                    .col(string("metric"))
                    .col(date("period_start"))
                    .col(date("period_end"))
                    .col(string("dimension"))
                    .col(string("category"))
                    .col(big_integer_null("value"))
                    .col(boolean("suppressed"))
                    .col(string_null("suppression_reason"))
                    .col(string("qualifier"))
                    .col(string("unit"))
                    .col(string("status"))
                    .col(string("source_id"))
                    .col(text_null("note"))
                    .foreign_key(&mut same_release_fk(
                        "statistics",
                        "program",
                        "programs",
                        "slug",
                    ))
                    .foreign_key(&mut same_release_fk(
                        "statistics",
                        "metric",
                        "metrics",
                        "id",
                    ))
                    .foreign_key(&mut same_release_fk(
                        "statistics",
                        "source_id",
                        "sources",
                        "id",
                    ))
                    .check(Expr::cust(
                        "(suppressed AND value IS NULL) OR (NOT suppressed AND value IS NOT NULL)",
                    ))
                    .to_owned(),
            )
            .await?;

        // Keyset pagination walks (release_id, position), unique per release.
        for table in [
            "sources",
            "programs",
            "metrics",
            "events",
            "documents",
            "statistics",
        ] {
            let name = format!("{table}_position");
            let mut statement = Index::create();
            statement
                .name(name)
                .table(table)
                .col("release_id")
                .col("position")
                .unique();
            manager.create_index(statement).await?;
        }
        // The filters of the APIs.
        let filters = [
            index("sources", "sources_kind", &["kind", "position"]),
            index("events", "events_program_date", &["program", "date"]),
            index("events", "events_kind", &["kind", "position"]),
            index("documents", "documents_program", &["program", "position"]),
            index("documents", "documents_kind", &["kind", "position"]),
            index(
                "statistics",
                "statistics_program_metric_period",
                &["program", "metric", "period_start"],
            ),
            index(
                "statistics",
                "statistics_metric_period",
                &["metric", "period_start"],
            ),
            index(
                "statistics",
                "statistics_dimension",
                &["dimension", "category"],
            ),
        ];
        for statement in filters {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "statistics",
            "documents",
            "events",
            "metrics",
            "programs",
            "sources",
            "releases",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
