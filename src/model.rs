//! The public types of every interface: JSON (serde), OpenAPI (utoipa) and GraphQL
//! (async-graphql) all see these, built from the entities by `query.rs`. Doc comments
//! here are the API documentation.

use async_graphql::SimpleObject;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::entity;
use crate::vocabulary::{
    Basis, DatePrecision, DocumentKind, EventKind, PeriodInferred, ProgramStatus, Qualifier,
    SourceKind, StatisticStatus,
};

/// How suppression is described wherever the policy is published.
pub const DISCLOSURE_METHOD: &str = "Primary suppression of cells with 1 <= value < k (zero is published); complementary suppression over every additive link of a (program, metric) - breakdowns to their totals (or implied totals), declared hierarchies, in-period sub-periods and earlier releases - chosen independently of the hidden values: a hidden cell hides the non-zero cells of its groups, a hidden total its whole subtree; a cell hidden in an earlier release stays hidden; every import is audited and fails unless every hidden cell can still take every value from 1 to k-1.";

/// The disclosure-control policy a release was protected with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct Disclosure {
    /// The threshold k: breakdown cells with 1 <= value < k are suppressed ("the rule of k").
    #[schema(example = 11)]
    pub min_cell: i64,
    /// How cells are chosen for suppression.
    pub method: String,
    /// The reason shown on every suppressed cell (the same for primary and complementary suppression).
    #[schema(example = "small_count")]
    pub suppression_reason: String,
}

impl Disclosure {
    pub fn with_k(min_cell: i64) -> Self {
        Disclosure {
            min_cell,
            method: DISCLOSURE_METHOD.into(),
            suppression_reason: crate::disclosure::SUPPRESSION_REASON.into(),
        }
    }
}

/// An immutable snapshot of the data. Cite a figure as "figure X in release R" and it
/// will have the same value forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct Release {
    /// SHA-256 of what the release publishes: its title, the threshold k and every row as
    /// published (suppressed values are not part of it). The same content always gets the same id.
    #[schema(example = "3f1c0a9be2d14c6f8a7b5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09")]
    pub id: String,
    /// The first 12 hex digits of `id`, for people: any unique prefix of at least 8
    /// digits is accepted wherever a release id is.
    #[schema(example = "3f1c0a9be2d1")]
    pub short_id: String,
    /// 1 for the first release, then 2, 3, …; the highest is the latest.
    pub seq: i32,
    /// When the release was imported (UTC).
    pub imported_at: DateTime<Utc>,
    /// The day it was imported (UTC): the release's date in citations and file names.
    pub date: NaiveDate,
    /// The data package's title.
    pub title: String,
    /// The disclosure-control policy the release was protected with.
    pub disclosure: Disclosure,
}

/// The name of a file holding `table` of the release: its date, sequence number and
/// 8-digit short id, such as `statistics-2026-11-29-r3-0085d964`.
pub fn release_file_stem(table: &str, release: &entity::release::Model) -> String {
    file_stem(
        table,
        release.imported_at.date_naive(),
        release.seq,
        &release.id,
    )
}

fn file_stem(table: &str, date: NaiveDate, seq: i32, id: &str) -> String {
    format!(
        "{table}-{date}-r{seq}-{}",
        &id[..id.len().min(crate::query::MIN_RELEASE_PREFIX)]
    )
}

impl Release {
    /// [`release_file_stem`] of this release.
    pub fn file_stem(&self, table: &str) -> String {
        file_stem(table, self.date, self.seq, &self.id)
    }
}

impl From<entity::release::Model> for Release {
    fn from(m: entity::release::Model) -> Self {
        Release {
            short_id: crate::query::short_id(&m.id),
            date: m.imported_at.date_naive(),
            id: m.id,
            seq: m.seq,
            imported_at: m.imported_at,
            title: m.title,
            disclosure: Disclosure::with_k(i64::from(m.min_cell)),
        }
    }
}

/// A publication that a figure, event, document or program comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct Source {
    /// Stable identifier of the source.
    #[schema(example = "tribune-2025-06-11-no-obligation")]
    pub id: String,
    /// Title of the article, page or document.
    pub title: String,
    /// Who published it (a syndicated or mirror copy says so).
    pub publisher: String,
    /// Where to read it.
    pub url: String,
    /// When it was published, if known.
    pub published_on: Option<NaiveDate>,
    /// When it was retrieved, if recorded.
    pub retrieved_on: Option<NaiveDate>,
    /// What kind of publisher it is.
    pub kind: SourceKind,
}

/// A municipal ID or sanctuary-policy program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
#[graphql(complex)]
pub struct Program {
    /// Stable identifier, used in URLs and filters.
    #[schema(example = "citykey")]
    pub slug: String,
    /// The program's name.
    #[schema(example = "Chicago CityKey")]
    pub name: String,
    /// The city or county.
    pub jurisdiction: String,
    /// The office that runs it.
    pub administered_by: String,
    /// When it launched, if a source states it.
    pub launched_on: Option<NaiveDate>,
    /// Whether it operates today, as far as a cited source states.
    pub status: ProgramStatus,
    /// The official website, if any.
    pub website: Option<String>,
    /// What the program is, in a few sentences.
    pub description: String,
    /// Where the description comes from.
    pub source: Source,
}

/// An entry in the dictionary of metric names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct Metric {
    /// Identifier used in the `metric` filter.
    #[schema(example = "cards_issued")]
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// What is counted, and what is not.
    pub description: String,
    /// The unit counted.
    #[schema(example = "cards")]
    pub unit: String,
}

/// Something that happened in a program's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct Event {
    /// Stable identifier.
    pub id: String,
    /// The program's slug.
    pub program: String,
    /// The date (the 1st of the month or year when only those are known).
    pub date: NaiveDate,
    /// How precisely the date is known.
    pub date_precision: DatePrecision,
    /// What kind of event it was.
    pub kind: EventKind,
    /// One-line summary.
    pub title: String,
    /// What happened, including any conflict between sources.
    pub description: String,
    /// Where it is reported.
    pub source: Source,
}

/// A policy document: an ordinance, statement, subpoena (as reported), report or decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct Document {
    /// Stable identifier.
    pub id: String,
    /// The program's slug.
    pub program: String,
    /// The document's title.
    pub title: String,
    /// What kind of document it is.
    pub kind: DocumentKind,
    /// Who issued it.
    pub issuer: String,
    /// When it was issued or published, if known.
    pub published_on: Option<NaiveDate>,
    /// Where to read it (or the report about it).
    pub url: String,
    /// What it says, in a few sentences.
    pub summary: String,
    /// Where it is cited from.
    pub source: Source,
}

/// One published figure (long form: one row per program, metric, period, dimension and
/// category). A suppressed figure has `value: null` and `suppressed: true`; it is never 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
#[graphql(complex)]
pub struct Statistic {
    /// Stable identifier.
    #[schema(example = "citykey-cards-issued-2022")]
    pub id: String,
    /// The program's slug.
    pub program: String,
    /// The metric's id (see `/api/v1/metrics`).
    #[graphql(skip)]
    #[schema(example = "cards_issued")]
    pub metric: String,
    /// First day of the period counted (inclusive).
    pub period_start: NaiveDate,
    /// Last day of the period counted (inclusive).
    pub period_end: NaiveDate,
    /// Which ends of the period the source does not state (they were inferred; `note`
    /// says how). Null only in releases imported before this field existed.
    pub period_inferred: Option<PeriodInferred>,
    /// What the figure counts over its period: only within it (`in_period`), everything
    /// since launch (`cumulative`), or a level at its end (`point_in_time`). Compare
    /// figures only when their metric and basis agree. Null only in releases imported
    /// before this field existed.
    pub basis: Option<Basis>,
    /// `total`, or the breakdown (such as `channel`, `age_group`, `ward`).
    pub dimension: String,
    /// `all` for totals, else the breakdown's category.
    pub category: String,
    /// The count; null when suppressed.
    #[schema(example = 19000)]
    pub value: Option<i64>,
    /// Whether the value is withheld by disclosure control.
    pub suppressed: bool,
    /// Why the value is withheld (one reason for every suppressed cell), or null.
    pub suppression_reason: Option<String>,
    /// How the figure relates to the true count: the source's wording in a common form
    /// ("over" is `at_least`, "nearly" is `approximately`); see `source_wording`.
    pub qualifier: Qualifier,
    /// The figure as the source words it (such as "more than 1.3 million New Yorkers"),
    /// copied from the compiled facts; null when no wording was recorded.
    #[schema(example = "19,000 for all of 2022")]
    pub source_wording: Option<String>,
    /// The unit counted.
    pub unit: String,
    /// The figure's standing.
    pub status: StatisticStatus,
    /// Remarks on the figure: judgement calls, conflicts, reliability.
    pub note: Option<String>,
    /// Where the figure comes from.
    pub source: Source,
}

/// Parse a stored vocabulary value; the importer only writes valid ones, so a failure
/// means the database was edited by hand.
fn vocab<T>(parse: fn(&str) -> Option<T>, text: &str, column: &str) -> Result<T, sea_orm::DbErr> {
    parse(text).ok_or_else(|| {
        sea_orm::DbErr::Type(format!("unexpected {column} {text:?} in the database"))
    })
}

impl Source {
    pub fn from_entity(m: entity::source::Model) -> Result<Self, sea_orm::DbErr> {
        Ok(Source {
            kind: vocab(SourceKind::parse, &m.kind, "source kind")?,
            id: m.id,
            title: m.title,
            publisher: m.publisher,
            url: m.url,
            published_on: m.published_on,
            retrieved_on: m.retrieved_on,
        })
    }
}

impl Program {
    pub fn from_entity(m: entity::program::Model, source: Source) -> Result<Self, sea_orm::DbErr> {
        Ok(Program {
            status: vocab(ProgramStatus::parse, &m.status, "program status")?,
            slug: m.slug,
            name: m.name,
            jurisdiction: m.jurisdiction,
            administered_by: m.administered_by,
            launched_on: m.launched_on,
            website: m.website,
            description: m.description,
            source,
        })
    }
}

impl From<entity::metric::Model> for Metric {
    fn from(m: entity::metric::Model) -> Self {
        Metric {
            id: m.id,
            name: m.name,
            description: m.description,
            unit: m.unit,
        }
    }
}

impl Event {
    pub fn from_entity(m: entity::event::Model, source: Source) -> Result<Self, sea_orm::DbErr> {
        Ok(Event {
            date_precision: vocab(DatePrecision::parse, &m.date_precision, "date precision")?,
            kind: vocab(EventKind::parse, &m.kind, "event kind")?,
            id: m.id,
            program: m.program,
            date: m.date,
            title: m.title,
            description: m.description,
            source,
        })
    }
}

impl Document {
    pub fn from_entity(m: entity::document::Model, source: Source) -> Result<Self, sea_orm::DbErr> {
        Ok(Document {
            kind: vocab(DocumentKind::parse, &m.kind, "document kind")?,
            id: m.id,
            program: m.program,
            title: m.title,
            issuer: m.issuer,
            published_on: m.published_on,
            url: m.url,
            summary: m.summary,
            source,
        })
    }
}

impl Statistic {
    pub fn from_entity(
        m: entity::statistic::Model,
        source: Source,
    ) -> Result<Self, sea_orm::DbErr> {
        Ok(Statistic {
            qualifier: vocab(Qualifier::parse, &m.qualifier, "qualifier")?,
            status: vocab(StatisticStatus::parse, &m.status, "statistic status")?,
            basis: m
                .basis
                .as_deref()
                .map(|b| vocab(Basis::parse, b, "basis"))
                .transpose()?,
            period_inferred: m
                .period_inferred
                .as_deref()
                .map(|p| vocab(PeriodInferred::parse, p, "period_inferred"))
                .transpose()?,
            source_wording: m.source_wording,
            id: m.id,
            program: m.program,
            metric: m.metric,
            period_start: m.period_start,
            period_end: m.period_end,
            dimension: m.dimension,
            category: m.category,
            // Belt and braces: a suppressed row never shows a number, whatever is stored.
            value: if m.suppressed { None } else { m.value },
            suppressed: m.suppressed,
            suppression_reason: m.suppression_reason,
            unit: m.unit,
            note: m.note,
            source,
        })
    }
}

/// Counts of rows per value of some fields, under a collection's filters (facets). Each
/// count is a number of published rows, never a sum of values: a suppressed figure counts
/// as the row it is (the collection lists it, with its value hidden), so a count says no
/// more than `X-Total-Count` of the same filter narrowed to that value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct Facets {
    /// Rows matching the filters (every facet's counts, with its `other_count`, add up to it).
    #[schema(example = 42)]
    pub total: u64,
    /// One entry per facet asked for, in the order asked.
    pub facets: Vec<Facet>,
}

/// The counts of one field's values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct Facet {
    /// The field counted (`program`, `year`, ...).
    #[schema(example = "program")]
    pub facet: String,
    /// Its values with their row counts, most rows first, then by value (years in
    /// numeric order, text in byte order, no value last); at most 100 values.
    pub values: Vec<FacetValue>,
    /// Rows whose value is beyond the first 100 (0 when every value is listed).
    #[schema(example = 0)]
    pub other_count: u64,
}

/// One value of a facet and how many rows have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct FacetValue {
    /// The value as the collection writes it (a year as four digits); null for rows
    /// without one (an undated document's year, a figure without a basis).
    #[schema(example = "citykey")]
    pub value: Option<String>,
    /// Rows with this value.
    #[schema(example = 12)]
    pub count: u64,
}
