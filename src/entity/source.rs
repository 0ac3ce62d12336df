use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sources")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub release_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub position: i32,
    pub title: String,
    pub publisher: String,
    pub url: String,
    pub published_on: Option<Date>,
    pub retrieved_on: Option<Date>,
    pub kind: String,
    /// Derived: the searched fields folded for `q` (`crate::search`); not published, not
    /// part of the release id.
    pub search_text: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
