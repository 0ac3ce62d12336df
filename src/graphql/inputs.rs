//! Filter arguments, mapped onto the query layer's filters so every check (dates in
//! order, search length) gives the same error as REST, naming the same argument.

use async_graphql::InputObject;
use chrono::NaiveDate;

use crate::error::ApiError;
use crate::query::{self, DateRange, MAX_SEARCH_CHARS, check_text};
use crate::vocabulary::{
    Basis, DocumentKind, EventKind, ProgramStatus, SourceKind, StatisticStatus,
};

/// A text field of a filter, refused when it holds a control character.
fn text(name: &str, value: &Option<String>) -> Result<Option<String>, ApiError> {
    if let Some(value) = value {
        check_text(name, value)?;
    }
    Ok(value.clone())
}

/// Which statistics to return. Every field is optional; the rows match all that are given.
#[derive(Debug, Clone, Default, InputObject)]
pub struct StatisticFilter {
    /// Only this program (its slug, e.g. `citykey`).
    pub program: Option<String>,
    /// Only this metric (its id, e.g. `cards_issued`; see `metrics`).
    pub metric: Option<String>,
    /// Only this dimension: `total`, or a breakdown such as `channel` or `age_group`.
    pub dimension: Option<String>,
    /// Only this category of the dimension (`all` for totals).
    pub category: Option<String>,
    /// Only figures with this standing.
    pub status: Option<StatisticStatus>,
    /// Only figures counted this way: within their period, cumulatively since launch, or
    /// as a level at the period's end. Figures of one metric compare only within one basis.
    pub basis: Option<Basis>,
    /// Only figures whose period ends on or after this date.
    pub from: Option<NaiveDate>,
    /// Only figures whose period starts on or before this date.
    pub to: Option<NaiveDate>,
}

impl StatisticFilter {
    pub fn to_query(&self) -> Result<query::StatisticFilter, ApiError> {
        Ok(query::StatisticFilter {
            program: text("program", &self.program)?,
            metric: text("metric", &self.metric)?,
            dimension: text("dimension", &self.dimension)?,
            category: text("category", &self.category)?,
            status: self.status,
            basis: self.basis,
            period: DateRange::new(self.from, self.to)?,
        })
    }
}

/// Which events to return. Every field is optional; the rows match all that are given.
#[derive(Debug, Clone, Default, InputObject)]
pub struct EventFilter {
    /// Only this program (its slug, e.g. `citykey`).
    pub program: Option<String>,
    /// Only events of this kind.
    pub kind: Option<EventKind>,
    /// Only events dated on or after this date.
    pub from: Option<NaiveDate>,
    /// Only events dated on or before this date.
    pub to: Option<NaiveDate>,
}

impl EventFilter {
    pub fn to_query(&self) -> Result<query::EventFilter, ApiError> {
        Ok(query::EventFilter {
            program: text("program", &self.program)?,
            kind: self.kind,
            date: DateRange::new(self.from, self.to)?,
        })
    }
}

/// Which documents to return. Every field is optional; the rows match all that are given.
#[derive(Debug, Clone, Default, InputObject)]
pub struct DocumentFilter {
    /// Only this program (its slug, e.g. `citykey`).
    pub program: Option<String>,
    /// Only documents of this kind.
    pub kind: Option<DocumentKind>,
    /// Only documents published on or after this date (undated documents are left out).
    pub from: Option<NaiveDate>,
    /// Only documents published on or before this date (undated documents are left out).
    pub to: Option<NaiveDate>,
}

impl DocumentFilter {
    /// The query filter, with `search` as its text search.
    pub fn to_query(&self, search: Option<String>) -> Result<query::DocumentFilter, ApiError> {
        if let Some(search) = &search {
            check_text("search", search)?;
            if search.is_empty() {
                return Err(ApiError::invalid(
                    "search",
                    "search must not be empty; leave it out to match every document",
                ));
            }
            if search.chars().count() > MAX_SEARCH_CHARS {
                return Err(ApiError::invalid(
                    "search",
                    format!("search must be at most {MAX_SEARCH_CHARS} characters"),
                ));
            }
        }
        Ok(query::DocumentFilter {
            program: text("program", &self.program)?,
            kind: self.kind,
            q: search,
            published: DateRange::new(self.from, self.to)?,
        })
    }
}

/// Which programs to return.
#[derive(Debug, Clone, Default, InputObject)]
pub struct ProgramFilter {
    /// Only programs with this status.
    pub status: Option<ProgramStatus>,
}

impl ProgramFilter {
    pub fn to_query(&self) -> query::ProgramFilter {
        query::ProgramFilter {
            status: self.status,
        }
    }
}

/// Which sources to return.
#[derive(Debug, Clone, Default, InputObject)]
pub struct SourceFilter {
    /// Only sources of this kind of publisher.
    pub kind: Option<SourceKind>,
}

impl SourceFilter {
    pub fn to_query(&self) -> query::SourceFilter {
        query::SourceFilter { kind: self.kind }
    }
}
