use sea_orm::entity::prelude::*;

/// The size of one download of a release: measured once, so listing downloads never
/// renders a table. A change to the CSV a download renders (a column, a cell format)
/// changes every size: such a change needs a migration that empties this table, and the
/// sizes are then measured again at start-up.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_downloads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub release_id: String,
    /// The table's name, as in its download's file name (`statistics`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub table_name: String,
    /// Data rows in the file (the header row not counted).
    pub row_count: i64,
    /// Size of the file in bytes, header included, without a BOM.
    pub byte_count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
