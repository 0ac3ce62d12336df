//! Text search (issue #14): events, documents, programs and sources get `search_text`,
//! their searched fields folded (no case, no accents: `crate::search`), matched by `q`
//! with `LIKE` identically on SQLite and PostgreSQL. The importer fills it for every new
//! release; this migration fills it for the releases already imported, from their own
//! published columns (derived data, not new data: release ids do not change).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::entity::{document, event, program, source};
use crate::search;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 4] = ["events", "documents", "programs", "sources"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(text("search_text").default(""))
                        .to_owned(),
                )
                .await?;
        }
        refill_search_text(manager.get_connection()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column("search_text")
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Compute `search_text` of every searchable row of every release from its own published
/// columns (`crate::search`), as the importer does for a new release.
pub async fn refill_search_text<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let rows: Vec<(String, String, String, String)> = event::Entity::find()
        .select_only()
        .columns([
            event::Column::ReleaseId,
            event::Column::Id,
            event::Column::Title,
            event::Column::Description,
        ])
        .into_tuple()
        .all(db)
        .await?;
    for (release, id, title, description) in rows {
        event::Entity::update_many()
            .col_expr(
                event::Column::SearchText,
                Expr::value(search::event_text(&title, &description)),
            )
            .filter(event::Column::ReleaseId.eq(release))
            .filter(event::Column::Id.eq(id))
            .exec(db)
            .await?;
    }

    let rows: Vec<(String, String, String, String)> = document::Entity::find()
        .select_only()
        .columns([
            document::Column::ReleaseId,
            document::Column::Id,
            document::Column::Title,
            document::Column::Summary,
        ])
        .into_tuple()
        .all(db)
        .await?;
    for (release, id, title, summary) in rows {
        document::Entity::update_many()
            .col_expr(
                document::Column::SearchText,
                Expr::value(search::document_text(&title, &summary)),
            )
            .filter(document::Column::ReleaseId.eq(release))
            .filter(document::Column::Id.eq(id))
            .exec(db)
            .await?;
    }

    let rows: Vec<(String, String, String, String, String, String)> = program::Entity::find()
        .select_only()
        .columns([
            program::Column::ReleaseId,
            program::Column::Slug,
            program::Column::Name,
            program::Column::Jurisdiction,
            program::Column::AdministeredBy,
            program::Column::Description,
        ])
        .into_tuple()
        .all(db)
        .await?;
    for (release, slug, name, jurisdiction, administered_by, description) in rows {
        program::Entity::update_many()
            .col_expr(
                program::Column::SearchText,
                Expr::value(search::program_text(
                    &name,
                    &jurisdiction,
                    &administered_by,
                    &description,
                )),
            )
            .filter(program::Column::ReleaseId.eq(release))
            .filter(program::Column::Slug.eq(slug))
            .exec(db)
            .await?;
    }

    let rows: Vec<(String, String, String, String)> = source::Entity::find()
        .select_only()
        .columns([
            source::Column::ReleaseId,
            source::Column::Id,
            source::Column::Title,
            source::Column::Publisher,
        ])
        .into_tuple()
        .all(db)
        .await?;
    for (release, id, title, publisher) in rows {
        source::Entity::update_many()
            .col_expr(
                source::Column::SearchText,
                Expr::value(search::source_text(&title, &publisher)),
            )
            .filter(source::Column::ReleaseId.eq(release))
            .filter(source::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(())
}
