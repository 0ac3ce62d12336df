//! What changed between two releases: per published table, the rows added, removed and
//! changed (matched by the table's key from `crate::tables`), and for a changed row the
//! fields that changed, old and new.
//!
//! Rows are compared in their published form (the table's CSV columns, read through
//! `query::table_chunk`), so a diff says nothing a reader of the two releases could not
//! see. A suppressed value is never stored; a diff shows `suppressed: true` for that side
//! of the `value` field, never a number and never 0.

use std::collections::{BTreeMap, HashMap};

use async_graphql::SimpleObject;
use chrono::NaiveDate;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::csv::Cells;
use crate::entity::release;
use crate::error::ApiError;
use crate::query::{self, Page, PageRequest};
use crate::tables::{PUBLISHED, Table};

/// Rows read per query while a diff is computed.
const CHUNK: u64 = 5_000;

/// A release, as a diff, a citation or a feed names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct ReleaseRef {
    /// The full release id (64 hex digits).
    pub id: String,
    /// Its first 12 digits.
    pub short_id: String,
    /// Its sequence number (1, 2, … in import order).
    pub seq: i32,
    /// The day it was imported (UTC).
    pub date: NaiveDate,
}

impl From<&release::Model> for ReleaseRef {
    fn from(m: &release::Model) -> Self {
        ReleaseRef {
            id: m.id.clone(),
            short_id: query::short_id(&m.id),
            seq: m.seq,
            date: m.imported_at.date_naive(),
        }
    }
}

/// How many rows of one table changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct TableChanges {
    /// The table (`statistics`, `events`, …).
    pub table: String,
    /// Rows whose key is only in the newer release.
    pub added: u64,
    /// Rows whose key is only in the older release.
    pub removed: u64,
    /// Rows in both whose published fields differ.
    pub changed: u64,
}

/// What happened to a row.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Only the newer release has the row.
    Added,
    /// Only the older release has the row.
    Removed,
    /// Both have it, with different published fields.
    Changed,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// One field of a changed row, before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct FieldChange {
    /// The column (as in the table's CSV).
    pub field: String,
    /// The value in the older release, as text; null when empty or suppressed.
    pub old: Option<String>,
    /// The value in the newer release, as text; null when empty or suppressed.
    pub new: Option<String>,
    /// The older value is withheld by disclosure control (it is never shown, and never 0).
    pub old_suppressed: bool,
    /// The newer value is withheld by disclosure control (it is never shown, and never 0).
    pub new_suppressed: bool,
}

/// A row added, removed or changed between two releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct RowChange {
    /// The table.
    pub table: String,
    /// The row's key in that table (its `id`, or a program's `slug`).
    pub key: String,
    /// Added, removed or changed.
    pub change: ChangeKind,
    /// For a changed row, the fields that differ; empty for added and removed rows (read
    /// them from the release that has them).
    pub fields: Vec<FieldChange>,
}

/// A whole diff: the counts per table and every row change, in table order (`PUBLISHED`)
/// then key order.
#[derive(Debug, Clone)]
pub struct Diff {
    pub tables: Vec<TableChanges>,
    pub changes: Vec<RowChange>,
}

impl Diff {
    /// A page of the row changes: positions are 1-based indexes into `changes`, and the
    /// cursor names the newer release.
    pub fn page(&self, to: &str, page: PageRequest) -> Page<RowChange> {
        let rows: Vec<(i32, RowChange)> = self
            .changes
            .iter()
            .enumerate()
            .skip(page.after.max(0) as usize)
            .take(page.limit as usize + 1)
            .map(|(i, c)| (i as i32 + 1, c.clone()))
            .collect();
        let mut out = query::page_of_loaded(to, &rows, page);
        out.total = self.changes.len() as u64;
        out
    }
}

/// One row's published cells, by column; the `value` of a suppressed row is marked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cell {
    text: Option<String>,
    suppressed: bool,
}

/// Collects rows written through [`Cells`] as text cells.
#[derive(Default)]
struct Collect {
    rows: Vec<Vec<Option<String>>>,
    current: Vec<Option<String>>,
}

impl Cells for Collect {
    fn text(&mut self, value: &str) {
        self.current
            .push((!value.is_empty()).then(|| value.to_owned()));
    }
    fn number(&mut self, value: Option<i64>) {
        self.current.push(value.map(|v| v.to_string()));
    }
    fn boolean(&mut self, value: bool) {
        self.current.push(Some(value.to_string()));
    }
    fn date(&mut self, value: Option<NaiveDate>) {
        self.current.push(value.map(|d| d.to_string()));
    }
    fn end_record(&mut self) {
        self.rows.push(std::mem::take(&mut self.current));
    }
}

/// Every row of `table` in `release`, by key.
async fn table_rows(
    db: &DatabaseConnection,
    release: &str,
    table: &Table,
) -> Result<BTreeMap<String, Vec<Cell>>, ApiError> {
    let header = table.csv_header;
    let key = column(header, table.key)?;
    let suppressed = header.iter().position(|c| *c == "suppressed");
    let value = header.iter().position(|c| *c == "value");
    let mut rows = BTreeMap::new();
    let mut after = 0;
    loop {
        let (chunk, next) = query::table_chunk(db, release, table.name, after, CHUNK).await?;
        let mut collect = Collect::default();
        chunk.write(&mut collect);
        for row in collect.rows {
            let hidden = suppressed.is_some_and(|s| row[s].as_deref() == Some("true"));
            let cells: Vec<Cell> = row
                .into_iter()
                .enumerate()
                .map(|(i, text)| {
                    let suppressed = hidden && Some(i) == value;
                    Cell {
                        // Belt and braces: a suppressed value is never carried.
                        text: if suppressed { None } else { text },
                        suppressed,
                    }
                })
                .collect();
            let id = cells[key].text.clone().unwrap_or_default();
            rows.insert(id, cells);
        }
        match next {
            Some(position) => after = position,
            None => break,
        }
    }
    Ok(rows)
}

fn column(header: &[&str], name: &str) -> Result<usize, ApiError> {
    header.iter().position(|c| *c == name).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("column {name} missing from a CSV header"))
    })
}

/// The diff from release `from` to release `to`, over every published table.
#[tracing::instrument(level = "debug", skip(db))]
pub async fn diff(db: &DatabaseConnection, from: &str, to: &str) -> Result<Diff, ApiError> {
    let mut tables = Vec::new();
    let mut changes = Vec::new();
    for table in PUBLISHED {
        let old = table_rows(db, from, table).await?;
        let mut new = table_rows(db, to, table).await?;
        let (table_changes, rows) = diff_table(table, old, &mut new);
        tables.push(table_changes);
        changes.extend(rows);
    }
    Ok(Diff { tables, changes })
}

/// The counts per table only (for the change feed).
pub async fn counts(
    db: &DatabaseConnection,
    from: &str,
    to: &str,
) -> Result<Vec<TableChanges>, ApiError> {
    Ok(diff(db, from, to).await?.tables)
}

fn diff_table(
    table: &Table,
    old: BTreeMap<String, Vec<Cell>>,
    new: &mut BTreeMap<String, Vec<Cell>>,
) -> (TableChanges, Vec<RowChange>) {
    let mut counts = TableChanges {
        table: table.name.to_owned(),
        ..Default::default()
    };
    let mut by_key: HashMap<String, RowChange> = HashMap::new();
    let row = |key: &str, change, fields| RowChange {
        table: table.name.to_owned(),
        key: key.to_owned(),
        change,
        fields,
    };
    for (key, before) in old {
        match new.remove(&key) {
            None => {
                counts.removed += 1;
                by_key.insert(key.clone(), row(&key, ChangeKind::Removed, Vec::new()));
            }
            Some(after) => {
                let fields: Vec<FieldChange> = table
                    .csv_header
                    .iter()
                    .zip(before.into_iter().zip(after))
                    .filter(|(_, (b, a))| b != a)
                    .map(|(field, (b, a))| FieldChange {
                        field: (*field).to_owned(),
                        old: b.text,
                        new: a.text,
                        old_suppressed: b.suppressed,
                        new_suppressed: a.suppressed,
                    })
                    .collect();
                if !fields.is_empty() {
                    counts.changed += 1;
                    by_key.insert(key.clone(), row(&key, ChangeKind::Changed, fields));
                }
            }
        }
    }
    for key in new.keys() {
        counts.added += 1;
        by_key.insert(key.clone(), row(key, ChangeKind::Added, Vec::new()));
    }
    let mut rows: Vec<RowChange> = by_key.into_values().collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    (counts, rows)
}

/// The CSV columns of a diff: one line per changed field, one line (with an empty
/// `field`) per row added or removed.
pub const CSV_HEADER: &[&str] = &[
    "table",
    "key",
    "change",
    "field",
    "old",
    "new",
    "old_suppressed",
    "new_suppressed",
];

/// Row changes as CSV ([`CSV_HEADER`]), with a byte order mark when asked.
pub fn render_csv(changes: &[RowChange], bom: bool) -> Vec<u8> {
    let mut out = crate::csv::CsvOut::new();
    out.header(CSV_HEADER);
    for change in changes {
        change.write_all(&mut out);
    }
    let body = out.take();
    if bom {
        [crate::csv::BOM, &body].concat()
    } else {
        body
    }
}

impl RowChange {
    fn write_line<C: Cells>(&self, out: &mut C, field: Option<&FieldChange>) {
        out.text(&self.table);
        out.text(&self.key);
        out.text(self.change.as_str());
        out.opt_text(field.map(|f| f.field.as_str()));
        out.opt_text(field.and_then(|f| f.old.as_deref()));
        out.opt_text(field.and_then(|f| f.new.as_deref()));
        out.boolean(field.is_some_and(|f| f.old_suppressed));
        out.boolean(field.is_some_and(|f| f.new_suppressed));
    }

    /// Every CSV line of this change, each ended.
    pub fn write_all<C: Cells>(&self, out: &mut C) {
        if self.fields.is_empty() {
            self.write_line(out, None);
            out.end_record();
        }
        for field in &self.fields {
            self.write_line(out, Some(field));
            out.end_record();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(values: &[Option<&str>], suppressed_value: bool) -> Vec<Cell> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Cell {
                text: v.map(str::to_owned),
                suppressed: suppressed_value && i == 9,
            })
            .collect()
    }

    #[test]
    fn rows_are_matched_by_key_and_suppressed_values_never_appear() {
        let table = &crate::tables::STATISTICS;
        let width = table.csv_header.len();
        let row = |id: &str, value: Option<&str>, suppressed: bool| {
            let mut values: Vec<Option<&str>> = vec![Some("x"); width];
            values[0] = Some(id);
            values[9] = value;
            values[10] = Some(if suppressed { "true" } else { "false" });
            cells(&values, suppressed)
        };
        let old = BTreeMap::from([
            ("a".to_owned(), row("a", Some("40"), false)),
            ("b".to_owned(), row("b", None, true)),
            ("c".to_owned(), row("c", Some("7"), false)),
        ]);
        let mut new = BTreeMap::from([
            ("a".to_owned(), row("a", None, true)),
            ("b".to_owned(), row("b", Some("50"), false)),
            ("d".to_owned(), row("d", Some("1"), false)),
        ]);
        let (counts, rows) = diff_table(table, old, &mut new);
        assert_eq!((counts.added, counts.removed, counts.changed), (1, 1, 2));
        let a = &rows[0];
        assert_eq!(a.key, "a");
        let value = a.fields.iter().find(|f| f.field == "value").unwrap();
        assert_eq!(value.old.as_deref(), Some("40"));
        assert_eq!(value.new, None);
        assert!(value.new_suppressed && !value.old_suppressed);
        let b = rows[1].fields.iter().find(|f| f.field == "value").unwrap();
        assert_eq!((b.old.as_deref(), b.old_suppressed), (None, true));
        assert_eq!(rows[2].change, ChangeKind::Removed);
        assert_eq!(rows[3].change, ChangeKind::Added);
    }
}
