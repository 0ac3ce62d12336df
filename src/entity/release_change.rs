use sea_orm::entity::prelude::*;

/// How many rows of one table changed from one release to another (`crate::diff`):
/// counted once per pair (at import for a release and the one before it) and stored, so
/// a diff's summary and the change feed never compare whole releases per request.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_changes")]
pub struct Model {
    /// The older side of the diff.
    #[sea_orm(primary_key, auto_increment = false)]
    pub from_release: String,
    /// The newer side of the diff.
    #[sea_orm(primary_key, auto_increment = false)]
    pub to_release: String,
    /// The table's name (`statistics`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub table_name: String,
    pub added: i64,
    pub removed: i64,
    pub changed: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
