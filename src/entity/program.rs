use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "programs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub release_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub slug: String,
    pub position: i32,
    pub name: String,
    pub jurisdiction: String,
    pub administered_by: String,
    pub launched_on: Option<Date>,
    pub status: String,
    pub website: Option<String>,
    pub description: String,
    pub source_id: String,
    /// Derived: the searched fields folded for `q` (`crate::search`); not published, not
    /// part of the release id.
    pub search_text: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
