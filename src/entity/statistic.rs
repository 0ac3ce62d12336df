use sea_orm::entity::prelude::*;

/// One published figure. `value` is `None` exactly when `suppressed` is true: the raw
/// value of a suppressed cell never reaches the database.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statistics")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub release_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub position: i32,
    pub program: String,
    pub metric: String,
    pub period_start: Date,
    pub period_end: Date,
    pub dimension: String,
    pub category: String,
    pub value: Option<i64>,
    pub suppressed: bool,
    pub suppression_reason: Option<String>,
    pub qualifier: String,
    pub unit: String,
    pub status: String,
    pub source_id: String,
    pub note: Option<String>,
    /// `None` only in releases imported before the column existed.
    pub basis: Option<String>,
    /// `None` only in releases imported before the column existed.
    pub period_inferred: Option<String>,
    pub source_wording: Option<String>,
    /// Derived at import, never published (`seed::digest::DERIVED`): whether this row is
    /// its series' latest figure (`query::list_latest_statistics`'s rule over the whole
    /// release), so the latest figures are read from an index instead of computed.
    pub latest: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
