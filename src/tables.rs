//! The table catalogue: the one list of the tables a release publishes, with the columns
//! an import may contain and the type of every column.
//!
//! It is also the column allow-list. This list, not the descriptor, is the authority: a
//! datapackage.json that declares any other column is rejected, which is what keeps
//! person-level fields out. The importer reads and the release digest
//! (`src/seed/digest.rs`) covers the tables in [`TABLES`] order.

use crate::csv::CsvRecord;
use crate::model::{Document, Event, Metric, Program, Source, Statistic};
use crate::vocabulary::{
    Basis, DatePrecision, DocumentKind, EventKind, PeriodInferred, ProgramStatus, Qualifier,
    SourceKind, StatisticStatus,
};

/// How a column's text is checked.
#[derive(Debug, Clone, Copy)]
pub enum FieldType {
    /// Free text (no control characters other than line breaks and tabs).
    Text,
    /// A lower-case slug: `^[a-z0-9][a-z0-9-]*$`.
    Slug,
    /// A snake_case identifier: `^[a-z][a-z0-9_]*$`.
    Identifier,
    /// An absolute http(s) URL.
    Url,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A non-negative whole number.
    Count,
    /// One of a closed list of values.
    Enum(&'static [&'static str]),
    /// The key of a row in another table (checked after every file is read).
    Reference(&'static str),
}

impl FieldType {
    /// The Table Schema type the descriptor must declare for this column.
    pub fn frictionless_type(self) -> &'static str {
        match self {
            FieldType::Date => "date",
            FieldType::Count => "integer",
            _ => "string",
        }
    }
}

/// One allowed column.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    pub required: bool,
}

/// One published table: its resource name, its imported columns, its key column, and how
/// it is published.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub key: &'static str,
    /// The columns an import may contain, in the order of the import schema.
    pub fields: &'static [Field],
    /// What the table holds, for the data catalogs (`/datapackage.json`, `/data.json`).
    pub description: &'static str,
    /// The columns of its CSV collection and download, in order.
    pub csv_header: &'static [&'static str],
}

impl Table {
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    pub fn column_list(&self) -> String {
        self.fields
            .iter()
            .map(|f| f.name)
            .collect::<Vec<_>>()
            .join(",")
    }
}

const fn req(name: &'static str, ty: FieldType) -> Field {
    Field {
        name,
        ty,
        required: true,
    }
}

const fn opt(name: &'static str, ty: FieldType) -> Field {
    Field {
        name,
        ty,
        required: false,
    }
}

use FieldType::*;

pub const SOURCES: Table = Table {
    name: "sources",
    key: "id",
    fields: &[
        req("id", Slug),
        req("title", Text),
        req("publisher", Text),
        req("url", Url),
        opt("published_on", Date),
        opt("retrieved_on", Date),
        req("kind", Enum(SourceKind::VALUES)),
    ],
    description: "Every publication cited.",
    csv_header: Source::HEADER,
};

pub const PROGRAMS: Table = Table {
    name: "programs",
    key: "slug",
    fields: &[
        req("slug", Slug),
        req("name", Text),
        req("jurisdiction", Text),
        req("administered_by", Text),
        opt("launched_on", Date),
        req("status", Enum(ProgramStatus::VALUES)),
        opt("website", Url),
        req("description", Text),
        req("source_id", Reference("sources")),
    ],
    description: "Municipal ID and sanctuary-policy programs.",
    csv_header: Program::HEADER,
};

pub const METRICS: Table = Table {
    name: "metrics",
    key: "id",
    fields: &[
        req("id", Identifier),
        req("name", Text),
        req("description", Text),
        req("unit", Identifier),
    ],
    description: "What each metric counts.",
    csv_header: Metric::HEADER,
};

pub const EVENTS: Table = Table {
    name: "events",
    key: "id",
    fields: &[
        req("id", Slug),
        req("program", Reference("programs")),
        req("date", Date),
        req("date_precision", Enum(DatePrecision::VALUES)),
        req("kind", Enum(EventKind::VALUES)),
        req("title", Text),
        req("description", Text),
        req("source_id", Reference("sources")),
    ],
    description: "Program timelines.",
    csv_header: Event::HEADER,
};

pub const DOCUMENTS: Table = Table {
    name: "documents",
    key: "id",
    fields: &[
        req("id", Slug),
        req("program", Reference("programs")),
        req("title", Text),
        req("kind", Enum(DocumentKind::VALUES)),
        req("issuer", Text),
        opt("published_on", Date),
        req("url", Url),
        req("summary", Text),
        req("source_id", Reference("sources")),
    ],
    description: "Ordinances, statements, subpoenas as reported, reports and court decisions.",
    csv_header: Document::HEADER,
};

pub const STATISTICS: Table = Table {
    name: "statistics",
    key: "id",
    fields: &[
        req("id", Slug),
        req("program", Reference("programs")),
        req("metric", Reference("metrics")),
        req("period_start", Date),
        req("period_end", Date),
        req("period_inferred", Enum(PeriodInferred::VALUES)),
        req("basis", Enum(Basis::VALUES)),
        req("dimension", Identifier),
        req("category", Text),
        req("value", Count),
        req("qualifier", Enum(Qualifier::VALUES)),
        opt("source_wording", Text),
        req("unit", Identifier),
        req("status", Enum(StatisticStatus::VALUES)),
        req("source_id", Reference("sources")),
        opt("note", Text),
    ],
    description: "Published figures, one row per program, metric, period, dimension and category. A suppressed figure has an empty value and suppressed=true.",
    csv_header: Statistic::HEADER,
};

/// Every table, in load order (referenced tables first): the order the importer reads
/// them and the release digest covers them.
pub const TABLES: [&Table; 6] = [
    &SOURCES,
    &PROGRAMS,
    &METRICS,
    &EVENTS,
    &DOCUMENTS,
    &STATISTICS,
];

/// The same tables in the order the data catalogs and the home page list them (the
/// figures first).
pub const PUBLISHED: [&Table; 6] = [
    &STATISTICS,
    &EVENTS,
    &DOCUMENTS,
    &PROGRAMS,
    &SOURCES,
    &METRICS,
];

/// The longest text accepted in any cell, so a runaway file cannot bloat a release.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// The longest key, slug or identifier.
pub const MAX_KEY_CHARS: usize = 100;
/// The longest URL.
pub const MAX_URL_CHARS: usize = 2_000;

impl Field {
    /// This column's Table Schema field descriptor: type, format and the constraints the
    /// importer enforces, so a data portal can validate a file before sending it.
    pub fn table_schema(&self) -> serde_json::Value {
        let mut constraints = serde_json::Map::new();
        if self.required {
            constraints.insert("required".into(), true.into());
        }
        let (pattern, max_length) = match self.ty {
            Slug => (Some(SLUG_PATTERN), Some(MAX_KEY_CHARS)),
            Identifier => (Some(IDENTIFIER_PATTERN), Some(MAX_KEY_CHARS)),
            Reference(_) => (None, Some(MAX_KEY_CHARS)),
            Url => (None, Some(MAX_URL_CHARS)),
            Text => (None, Some(MAX_TEXT_CHARS)),
            Count | Enum(_) | Date => (None, None),
        };
        if let Some(pattern) = pattern {
            constraints.insert("pattern".into(), pattern.into());
        }
        if let Some(max_length) = max_length {
            constraints.insert("maxLength".into(), max_length.into());
        }
        match self.ty {
            Count => {
                constraints.insert("minimum".into(), 0.into());
            }
            Enum(values) => {
                constraints.insert("enum".into(), values.to_vec().into());
            }
            _ => {}
        }
        let mut field = serde_json::json!({
            "name": self.name,
            "type": self.ty.frictionless_type(),
        });
        if matches!(self.ty, Url) {
            field["format"] = "uri".into();
        }
        if !constraints.is_empty() {
            field["constraints"] = constraints.into();
        }
        field
    }
}

/// The pattern every slug key matches.
/// Ids the API uses as paths under a collection (`/api/v1/statistics/latest`,
/// `/api/v1/{statistics,events,documents}/facets`): a row with one of them as its id could
/// never be fetched by it, so the importer refuses them.
pub const RESERVED_IDS: &[&str] = &["facets", "latest"];
pub const SLUG_PATTERN: &str = "^[a-z0-9][a-z0-9-]*$";
/// The pattern every snake_case identifier matches.
pub const IDENTIFIER_PATTERN: &str = "^[a-z][a-z0-9_]*$";

impl Table {
    /// The Table Schema foreign keys: one per column that references another table's key.
    pub fn foreign_keys(&self) -> Vec<serde_json::Value> {
        self.fields
            .iter()
            .filter_map(|f| match f.ty {
                Reference(target) => TABLES.iter().find(|t| t.name == target).map(|t| {
                    serde_json::json!({
                        "fields": [f.name],
                        "reference": {"resource": t.name, "fields": [t.key]},
                    })
                }),
                _ => None,
            })
            .collect()
    }

    /// The Frictionless Table Schema of this table's CSV file: every allowed column with
    /// its constraints, the primary key, the foreign keys and the missing-value marker.
    /// `seed-data/datapackage.json` declares exactly this (a test checks it).
    pub fn table_schema(&self) -> serde_json::Value {
        let foreign_keys = self.foreign_keys();
        let mut schema = serde_json::json!({
            "fields": self.fields.iter().map(Field::table_schema).collect::<Vec<_>>(),
            "primaryKey": [self.key],
            "missingValues": [""],
        });
        if !foreign_keys.is_empty() {
            schema["foreignKeys"] = foreign_keys.into();
        }
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_order_lists_every_table_once() {
        let mut published = PUBLISHED.map(|t| t.name);
        let mut loaded = TABLES.map(|t| t.name);
        published.sort_unstable();
        loaded.sort_unstable();
        assert_eq!(published, loaded);
    }

    #[test]
    fn every_reference_names_a_catalogued_table_loaded_before() {
        for (i, table) in TABLES.iter().enumerate() {
            for field in table.fields {
                if let Reference(target) = field.ty {
                    let at = TABLES.iter().position(|t| t.name == target);
                    assert!(at.is_some_and(|at| at < i), "{}.{}", table.name, field.name);
                }
            }
        }
    }
}
