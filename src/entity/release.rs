use sea_orm::entity::prelude::*;

/// One immutable import of a seed bundle.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "releases")]
pub struct Model {
    /// SHA-256 (hex) of the canonical bundle: file names and contents.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// 1 for the first release, then 2, 3, …; the latest release has the highest.
    #[sea_orm(unique)]
    pub seq: i32,
    pub imported_at: DateTimeUtc,
    /// The disclosure threshold k the release was protected with.
    pub min_cell: i32,
    /// The package's `title`, for citations.
    pub title: String,
    /// The dimensions the release declared, in canonical JSON (`Dimensions::canonical`);
    /// `None` for releases imported before they were kept.
    pub dimensions: Option<String>,
    /// The most days any statistic's period spans (`period_end - period_start`), set at
    /// import (`seed::record_longest_period`): with it a period filter's `to` bounds
    /// `period_end` too, so its rows are one range of the index `statistics_period`.
    /// `None` for a release without statistics.
    pub longest_period_days: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
