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
    /// The value's place among the field's values in value order (no value last): the
    /// key, rather than the value, which may be kilobytes of text (a document's issuer),
    /// more than a PostgreSQL index entry holds.
    #[sea_orm(primary_key, auto_increment = false)]
    pub ordinal: i32,
    /// Whether these are the rows with no value (then `value` is empty).
    pub missing: bool,
    /// The value as the facet shows it (a year as four digits).
    #[sea_orm(column_type = "Text")]
    pub value: String,
    /// Rows with this value.
    pub row_count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
