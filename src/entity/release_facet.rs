use sea_orm::entity::prelude::*;

/// How many rows of one table of a release have one value of one facet field
/// (`query::facet_fields`), counted once at import: releases never change, so unfiltered
/// facets and the total of a page filtered on one facet field read these rows instead of
/// counting a million (issue #12). Counts of rows only, never sums of values
/// (docs/disclosure-control.md, rule 8).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_facets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub release_id: String,
    /// The table's name (`statistics`, `events`, `documents`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub table_name: String,
    /// The facet field, as in `facet=` (`program`, `year`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub field: String,
    /// Whether these are the rows with no value (then `value` is empty).
    #[sea_orm(primary_key, auto_increment = false)]
    pub missing: bool,
    /// The value as the facet shows it (a year as four digits).
    #[sea_orm(primary_key, auto_increment = false)]
    pub value: String,
    /// Rows with this value.
    pub row_count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
