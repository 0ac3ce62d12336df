//! Filter arguments, mapped onto the query layer's filters so every check (dates in
//! order, search length) gives the same error as REST, naming the same argument.

use async_graphql::{Enum, InputObject};
use chrono::NaiveDate;

use crate::error::ApiError;
use crate::query::{
    self, DateRange, DocumentSortField, EventSortField, MetricSortField, ProgramSortField, Sort,
    SourceSortField, StatisticSortField,
};
use crate::vocabulary::{
    Basis, DocumentKind, EventKind, ProgramStatus, Qualifier, SourceKind, StatisticStatus,
};

/// A list field of a filter (a single value is a list of one), checked as REST checks
/// `name=a,b`: at most `query::MAX_FILTER_VALUES` values, none empty, no control
/// characters; a value given twice counts once.
fn list<T: Clone + PartialEq + ListValue>(
    name: &str,
    values: &Option<Vec<T>>,
) -> Result<Vec<T>, ApiError> {
    let mut out: Vec<T> = Vec::new();
    for value in values.iter().flatten() {
        if !out.contains(value) {
            out.push(value.clone());
        }
    }
    let texts: Vec<&str> = out.iter().map(ListValue::text).collect();
    query::check_values(name, &texts)?;
    Ok(out)
}

/// The text of a list filter's value, for the checks.
trait ListValue {
    fn text(&self) -> &str;
}

impl ListValue for String {
    fn text(&self) -> &str {
        self
    }
}

macro_rules! list_value {
    ($($t:ty),+) => {
        $(impl ListValue for $t {
            fn text(&self) -> &str {
                self.as_str()
            }
        })+
    };
}
list_value!(
    StatisticStatus,
    Basis,
    Qualifier,
    EventKind,
    DocumentKind,
    ProgramStatus,
    SourceKind
);

/// The text search of a field: its `q` argument, or the deprecated alias `search` (one
/// of them, not both), checked as REST checks `q` (`query::check_search`, naming the
/// argument given).
pub fn search_arg(q: Option<String>, search: Option<String>) -> Result<Option<String>, ApiError> {
    match (q, search) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "search",
            "search is the deprecated name of q: give one of them, not both",
        )),
        (Some(q), None) => query::check_search("q", &q).map(|()| Some(q)),
        (None, Some(search)) => query::check_search("search", &search).map(|()| Some(search)),
        (None, None) => Ok(None),
    }
}

/// Which statistics to return. Every field is optional; the rows match all that are
/// given. A list matches any of its values (`program: ["citykey", "idnyc"]`; a single
/// value is a list of one), at most 50 values.
#[derive(Debug, Clone, Default, InputObject)]
pub struct StatisticFilter {
    /// Only these programs (slugs, e.g. `citykey`).
    pub program: Option<Vec<String>>,
    /// Only these metrics (ids, e.g. `cards_issued`; see `metrics`).
    pub metric: Option<Vec<String>>,
    /// Only these dimensions: `total`, or breakdowns such as `channel` or `age_group`.
    pub dimension: Option<Vec<String>>,
    /// Only these categories of the dimension (`all` for totals).
    pub category: Option<Vec<String>>,
    /// Only figures with these standings.
    pub status: Option<Vec<StatisticStatus>>,
    /// Only figures counted these ways: within their period, cumulatively since launch, or
    /// as a level at the period's end. Figures of one metric compare only within one basis.
    pub basis: Option<Vec<Basis>>,
    /// Only figures with these qualifiers.
    pub qualifier: Option<Vec<Qualifier>>,
    /// `false`: only figures with a published value; `true`: only suppressed figures.
    pub suppressed: Option<bool>,
    /// Only figures whose period ends on or after this date.
    pub from: Option<NaiveDate>,
    /// Only figures whose period starts on or before this date.
    pub to: Option<NaiveDate>,
}

impl StatisticFilter {
    pub fn to_query(&self) -> Result<query::StatisticFilter, ApiError> {
        Ok(query::StatisticFilter {
            program: list("program", &self.program)?,
            metric: list("metric", &self.metric)?,
            dimension: list("dimension", &self.dimension)?,
            category: list("category", &self.category)?,
            status: list("status", &self.status)?,
            basis: list("basis", &self.basis)?,
            qualifier: list("qualifier", &self.qualifier)?,
            suppressed: self.suppressed,
            period: DateRange::new(self.from, self.to)?,
        })
    }
}

/// Which events to return. Every field is optional; the rows match all that are given.
#[derive(Debug, Clone, Default, InputObject)]
pub struct EventFilter {
    /// Only these programs (slugs, e.g. `citykey`).
    pub program: Option<Vec<String>>,
    /// Only events of these kinds.
    pub kind: Option<Vec<EventKind>>,
    /// Only events dated on or after this date.
    pub from: Option<NaiveDate>,
    /// Only events dated on or before this date.
    pub to: Option<NaiveDate>,
}

impl EventFilter {
    /// The query filter, with `q` (checked by [`search_arg`]) as its text search.
    pub fn to_query(&self, q: Option<String>) -> Result<query::EventFilter, ApiError> {
        Ok(query::EventFilter {
            program: list("program", &self.program)?,
            kind: list("kind", &self.kind)?,
            q,
            date: DateRange::new(self.from, self.to)?,
        })
    }
}

/// Which documents to return. Every field is optional; the rows match all that are given.
#[derive(Debug, Clone, Default, InputObject)]
pub struct DocumentFilter {
    /// Only these programs (slugs, e.g. `citykey`).
    pub program: Option<Vec<String>>,
    /// Only documents of these kinds.
    pub kind: Option<Vec<DocumentKind>>,
    /// Only documents published on or after this date (undated documents are left out).
    pub from: Option<NaiveDate>,
    /// Only documents published on or before this date (undated documents are left out).
    pub to: Option<NaiveDate>,
}

impl DocumentFilter {
    /// The query filter, with `q` (checked by [`search_arg`]) as its text search.
    pub fn to_query(&self, q: Option<String>) -> Result<query::DocumentFilter, ApiError> {
        Ok(query::DocumentFilter {
            program: list("program", &self.program)?,
            kind: list("kind", &self.kind)?,
            q,
            published: DateRange::new(self.from, self.to)?,
        })
    }
}

/// Which programs to return.
#[derive(Debug, Clone, Default, InputObject)]
pub struct ProgramFilter {
    /// Only programs with these statuses.
    pub status: Option<Vec<ProgramStatus>>,
}

impl ProgramFilter {
    /// The query filter, with `q` (checked by [`search_arg`]) as its text search.
    pub fn to_query(&self, q: Option<String>) -> Result<query::ProgramFilter, ApiError> {
        Ok(query::ProgramFilter {
            status: list("status", &self.status)?,
            q,
        })
    }
}

/// Which sources to return.
#[derive(Debug, Clone, Default, InputObject)]
pub struct SourceFilter {
    /// Only sources of these kinds of publisher.
    pub kind: Option<Vec<SourceKind>>,
}

impl SourceFilter {
    /// The query filter, with `q` (checked by [`search_arg`]) as its text search.
    pub fn to_query(&self, q: Option<String>) -> Result<query::SourceFilter, ApiError> {
        Ok(query::SourceFilter {
            kind: list("kind", &self.kind)?,
            q,
        })
    }
}

/// The direction of one key of an `orderBy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Enum)]
pub enum SortDirection {
    /// Smallest first (A to Z, oldest first).
    #[default]
    Asc,
    /// Largest first (Z to A, newest first).
    Desc,
}

/// One `orderBy` input type per collection: a field of its allow-list and a direction.
macro_rules! order_input {
    ($name:ident, $field:ty, $table:literal) => {
        #[doc = concat!("One key of the order of ", $table, ": a field and a direction. Ties, and the rows after the last key, keep the canonical order; empty values sort last in both directions.")]
        #[derive(Debug, Clone, Copy, InputObject)]
        pub struct $name {
            /// The field to sort by.
            pub field: $field,
            /// `ASC` (default) or `DESC`.
            #[graphql(default)]
            pub direction: SortDirection,
        }

        impl $name {
            /// The query layer's sort for `keys` (the canonical order when there are none),
            /// checked as REST checks `sort=`.
            pub fn to_sort(keys: Option<&[$name]>) -> Result<Sort, ApiError> {
                let spec = keys
                    .unwrap_or_default()
                    .iter()
                    .map(|k| {
                        format!(
                            "{}{}",
                            if k.direction == SortDirection::Desc { "-" } else { "" },
                            k.field.as_str()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(",");
                if spec.is_empty() {
                    Ok(Sort::CANONICAL)
                } else {
                    Sort::parse($table, &spec, "orderBy")
                }
            }
        }
    };
}

order_input!(StatisticOrder, StatisticSortField, "statistics");
order_input!(EventOrder, EventSortField, "events");
order_input!(DocumentOrder, DocumentSortField, "documents");
order_input!(ProgramOrder, ProgramSortField, "programs");
order_input!(SourceOrder, SourceSortField, "sources");
order_input!(MetricOrder, MetricSortField, "metrics");
