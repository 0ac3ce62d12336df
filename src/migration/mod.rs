//! Schema migrations only, never data: data arrives through the importer (`seed`). A
//! migration that adds a derived column fills it from the rows already there
//! (`m20261129_000020_search_text`), as the importer would.

use sea_orm_migration::prelude::*;

mod m20261128_000001_create_tables;
mod m20261129_000001_statistic_basis;
mod m20261129_000002_release_downloads;
mod m20261129_000010_release_dimensions;
mod m20261129_000011_statistic_list_indexes;
mod m20261129_000012_release_changes;
mod m20261129_000020_search_text;

pub use m20261129_000020_search_text::refill_search_text;
mod m20261129_000030_statistic_series_latest;
mod m20261130_000001_statistic_latest;
mod m20261130_000002_release_facets;
mod m20261130_000003_statistic_period;
mod m20261130_000004_release_longest_period;
mod m20261130_000005_statistic_references_checked_once;

/// Every migration, in order. Run at start-up by [`crate::db::connect`].
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_tables::Migration),
            Box::new(m20261129_000001_statistic_basis::Migration),
            Box::new(m20261129_000002_release_downloads::Migration),
            Box::new(m20261129_000010_release_dimensions::Migration),
            Box::new(m20261129_000011_statistic_list_indexes::Migration),
            Box::new(m20261129_000012_release_changes::Migration),
            Box::new(m20261129_000020_search_text::Migration),
            Box::new(m20261129_000030_statistic_series_latest::Migration),
            Box::new(m20261130_000001_statistic_latest::Migration),
            Box::new(m20261130_000002_release_facets::Migration),
            Box::new(m20261130_000003_statistic_period::Migration),
            Box::new(m20261130_000004_release_longest_period::Migration),
            Box::new(m20261130_000005_statistic_references_checked_once::Migration),
        ]
    }
}
