//! The release id: the SHA-256 of what a release publishes.
//!
//! Every row is digested column by column from its entity model (every column but
//! `release_id`, in the entity's declaration order), so a column added to an entity
//! changes the release id by construction; `tests::every_column_of_every_table_changes_the_release_id`
//! proves it for every table of the catalogue. Derived columns ([`DERIVED`]: computed from
//! the published columns at import, never published themselves) are left out, so deriving
//! something new never changes a release id.

use sea_orm::{IdenStatic, Iterable, ModelTrait, Value};
use sha2::{Digest as _, Sha256};

use super::Bundle;
use crate::tables::TABLES;

/// The column every entity has and the digest leaves out (it is the digest).
const RELEASE_ID: &str = "release_id";

/// Columns derived at import from the published ones (`crate::search`'s search text, the
/// statistics' latest flag): not digested.
pub(crate) const DERIVED: &[&str] = &["search_text", "latest"];

/// Whether the digest covers `column`.
fn digested(column: &str) -> bool {
    column != RELEASE_ID && !DERIVED.contains(&column)
}

/// The release id of `bundle`: title, k and every protected row of every catalogued table
/// in load order.
#[tracing::instrument(skip_all)]
pub(super) fn release_id(bundle: &Bundle) -> String {
    let mut digest = ReleaseDigest::new(&bundle.title, bundle.min_cell);
    digest.rows("sources", &bundle.sources);
    digest.rows("programs", &bundle.programs);
    digest.rows("metrics", &bundle.metrics);
    digest.rows("events", &bundle.events);
    digest.rows("documents", &bundle.documents);
    digest.table("statistics");
    for row in bundle.statistics.models("") {
        digest.row(&row);
    }
    digest.finish()
}

/// An unambiguous serialisation for the release digest: every field is length-prefixed,
/// and absent values differ from empty ones.
pub(super) struct ReleaseDigest {
    sha: Sha256,
    /// The tables digested so far, checked against the catalogue.
    tables: Vec<&'static str>,
}

impl ReleaseDigest {
    pub(super) fn new(title: &str, min_cell: i64) -> Self {
        let mut digest = ReleaseDigest {
            sha: Sha256::new(),
            tables: Vec::new(),
        };
        digest.field("sanctuary-data release v1");
        digest.field(title);
        digest.field(&min_cell.to_string());
        digest
    }

    fn field(&mut self, text: &str) {
        self.sha.update((text.len() as u64).to_le_bytes());
        self.sha.update(text.as_bytes());
    }

    fn opt(&mut self, text: Option<String>) {
        match text {
            Some(text) => {
                self.sha.update([1]);
                self.field(&text);
            }
            None => self.sha.update([0]),
        }
    }

    /// One table: its name, then every row.
    pub(super) fn rows<'a, M: ModelTrait + 'a>(
        &mut self,
        table: &'static str,
        rows: impl IntoIterator<Item = &'a M>,
    ) {
        self.table(table);
        rows.into_iter().for_each(|row| self.row(row));
    }

    pub(super) fn table(&mut self, table: &'static str) {
        self.tables.push(table);
        self.sha.update([0xff]);
        self.field(table);
    }

    /// One row: every column but `release_id`, in declaration order.
    pub(super) fn row<M: ModelTrait>(&mut self, row: &M) {
        let columns = || {
            <<M::Entity as sea_orm::EntityTrait>::Column as Iterable>::iter()
                .filter(|c| digested(c.as_str()))
        };
        self.sha.update((columns().count() as u64).to_le_bytes());
        for column in columns() {
            self.opt(text(row.get(column)));
        }
    }

    pub(super) fn finish(self) -> String {
        debug_assert_eq!(
            self.tables,
            TABLES.map(|t| t.name),
            "the release digest covers every catalogued table, in load order"
        );
        hex::encode(self.sha.finalize())
    }
}

/// The digested text of a cell: its display form, `None` when absent.
fn text(value: Value) -> Option<String> {
    match value {
        Value::String(v) => v,
        Value::ChronoDate(v) => v.map(|d| d.to_string()),
        Value::BigInt(v) => v.map(|n| n.to_string()),
        Value::Int(v) => v.map(|n| n.to_string()),
        Value::Bool(v) => v.map(|b| b.to_string()),
        other => unreachable!("no entity column of this type is published: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclosure::Policy;
    use crate::entity::statistic;

    /// A value of the same type that differs from `value`.
    fn changed(value: Value) -> Value {
        match value {
            Value::String(v) => Value::String(Some(v.map_or("x".into(), |s| format!("{s}x")))),
            Value::ChronoDate(v) => Value::ChronoDate(Some(
                v.map_or(chrono::NaiveDate::MIN, |d| d.succ_opt().unwrap()),
            )),
            Value::BigInt(v) => Value::BigInt(Some(v.map_or(0, |n| n + 1))),
            Value::Int(v) => Value::Int(Some(v.map_or(0, |n| n + 1))),
            Value::Bool(v) => Value::Bool(Some(!v.unwrap_or(false))),
            other => panic!("no change defined for {other:?}"),
        }
    }

    /// For every column of the first row of `rows`: a change of that cell alone changes
    /// the digest computed by `digest`.
    fn each_column_counts<M: ModelTrait + Clone>(
        table: &str,
        rows: &[M],
        digest: impl Fn(&[M]) -> String,
    ) -> Vec<&'static str> {
        assert!(!rows.is_empty(), "the fixture has {table}");
        let original = digest(rows);
        let mut checked = Vec::new();
        for column in <<M::Entity as sea_orm::EntityTrait>::Column as Iterable>::iter()
            .filter(|c| digested(c.as_str()))
        {
            let mut edited = rows.to_vec();
            let value = edited[0].get(column);
            edited[0].set(column, changed(value));
            assert_ne!(
                digest(&edited),
                original,
                "{table}.{} escapes the release id",
                column.as_str()
            );
            checked.push(column.as_str());
        }
        checked
    }

    fn id_with(
        bundle: &Bundle,
        statistics: &[statistic::Model],
        edit: impl FnOnce(&mut Bundle),
    ) -> String {
        let mut bundle = bundle.clone();
        edit(&mut bundle);
        let mut digest = ReleaseDigest::new(&bundle.title, bundle.min_cell);
        digest.rows("sources", &bundle.sources);
        digest.rows("programs", &bundle.programs);
        digest.rows("metrics", &bundle.metrics);
        digest.rows("events", &bundle.events);
        digest.rows("documents", &bundle.documents);
        digest.rows("statistics", statistics);
        digest.finish()
    }

    #[test]
    fn every_column_of_every_table_changes_the_release_id() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small");
        let bundle = super::super::check_dir(&dir, Policy::default()).expect("valid fixture");
        let statistics: Vec<statistic::Model> = bundle.statistics.models("").collect();
        assert_eq!(
            id_with(&bundle, &statistics, |_| {}),
            release_id(&bundle),
            "the test digests exactly what the importer does"
        );

        let columns = [
            each_column_counts("sources", &bundle.sources, |rows| {
                id_with(&bundle, &statistics, |b| b.sources = rows.to_vec())
            }),
            each_column_counts("programs", &bundle.programs, |rows| {
                id_with(&bundle, &statistics, |b| b.programs = rows.to_vec())
            }),
            each_column_counts("metrics", &bundle.metrics, |rows| {
                id_with(&bundle, &statistics, |b| b.metrics = rows.to_vec())
            }),
            each_column_counts("events", &bundle.events, |rows| {
                id_with(&bundle, &statistics, |b| b.events = rows.to_vec())
            }),
            each_column_counts("documents", &bundle.documents, |rows| {
                id_with(&bundle, &statistics, |b| b.documents = rows.to_vec())
            }),
            each_column_counts("statistics", &statistics, |rows| {
                id_with(&bundle, rows, |_| {})
            }),
        ];

        // Every catalogued column is an entity column, hence digested.
        for (table, digested) in TABLES.iter().zip(&columns) {
            for field in table.fields {
                assert!(
                    digested.contains(&field.name),
                    "{}.{} is catalogued but not digested",
                    table.name,
                    field.name
                );
            }
        }
        assert_eq!(columns.map(|c| c.len()), [8, 10, 5, 9, 10, 19]);
    }

    /// A derived column (the search text) is not part of the release id: the same
    /// published rows give the same id whatever is derived from them.
    #[test]
    fn derived_columns_leave_the_release_id_alone() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small");
        let bundle = super::super::check_dir(&dir, Policy::default()).expect("valid fixture");
        let statistics: Vec<statistic::Model> = bundle.statistics.models("").collect();
        let original = id_with(&bundle, &statistics, |_| {});
        let derived = id_with(&bundle, &statistics, |b| {
            b.events = b.events.drain(..).map(crate::search::event).collect();
            b.documents = b.documents.drain(..).map(crate::search::document).collect();
            b.programs = b.programs.drain(..).map(crate::search::program).collect();
            b.sources = b.sources.drain(..).map(crate::search::source).collect();
            assert!(!b.events[0].search_text.is_empty());
        });
        assert_eq!(derived, original);
    }

    #[test]
    fn the_title_and_k_are_part_of_the_release_id() {
        let a = ReleaseDigest::new("t", 11).finish_unchecked();
        assert_ne!(a, ReleaseDigest::new("u", 11).finish_unchecked());
        assert_ne!(a, ReleaseDigest::new("t", 10).finish_unchecked());
    }

    impl ReleaseDigest {
        fn finish_unchecked(self) -> String {
            hex::encode(self.sha.finalize())
        }
    }
}
