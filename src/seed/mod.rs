//! The importer: CSV files described by a datapackage.json -> validated rows -> disclosure
//! control -> one transaction -> a release.
//!
//! [`check_dir`] does everything but the database write; [`import_dir`] checks, then loads.
//! Every problem is reported as `FILE:LINE:COLUMN (field): "value" — expected …`, and
//! nothing is written unless the whole bundle is valid.
//!
//! One file per stage, in the order [`check_dir`] runs them: `descriptor.rs` (the
//! resources of `datapackage.json`), `read.rs` (each CSV file, type-checked; keys and
//! references), `bundle.rs` (entity models in canonical order), `statistics.rs` (the
//! statistics' rules and disclosure control), `digest.rs` (the release id); then
//! `load.rs` writes the release ([`import_dir`]). `problems.rs` holds what they report.
//! The stages share this module's imports (`use super::*`).

mod bundle;
pub mod csv_reader;
mod descriptor;
pub(crate) mod digest;
mod dimensions;
mod earlier;
mod gaps;
mod load;
mod overlaps;
mod problems;
mod read;
mod statistics;
mod system;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use chrono::{Datelike, NaiveDate};

use crate::disclosure::{self, Policy};
use crate::entity::{document, event, metric, program, source, statistic};
use crate::tables::{
    Field, FieldType, MAX_KEY_CHARS, MAX_TEXT_CHARS, MAX_URL_CHARS, TABLES, Table,
};
use csv_reader::{ReadError, Reader, Record, strip_bom};

pub use load::{
    ImportFailure, ImportOutcome, check_statistic_references, earlier_releases, first_start,
    import_dir, import_if_empty, mark_latest, record_longest_period, record_missing_facets,
    release_ids,
};

pub use bundle::*;
pub use descriptor::*;
use dimensions::*;
pub use dimensions::{DIMENSIONS_PROPERTY, Dimensions};
pub use earlier::Earlier;
pub use problems::*;
pub use read::*;
use statistics::*;

/// Validate `dir` and apply disclosure control, without touching any database: the
/// bundle alone, as if it were the first release.
pub fn check_dir(dir: &Path, policy: Policy) -> Result<Bundle, Problems> {
    check_dir_after(dir, policy, &Earlier::default())
}

/// [`check_dir`] for a release that follows `earlier` ones (all still queryable): cells
/// they hid stay hidden, and what they published is known (see [`Earlier`]).
#[tracing::instrument(skip(policy, earlier), fields(dir = %dir.display(), earlier = earlier.len()))]
pub fn check_dir_after(dir: &Path, policy: Policy, earlier: &Earlier) -> Result<Bundle, Problems> {
    let mut problems = Problems::default();

    // k never goes down: statuses are frozen once published (see `Earlier`), and a lower k
    // would publish counts an earlier release hid, undoing its protection.
    if let Some((earlier_k, release)) = earlier.max_k()
        && policy.k() < earlier_k
    {
        problems.push(Problem {
            file: "--min-cell (env SANCTUARY_MIN_CELL)".into(),
            line: 1,
            column: 1,
            field: "min_cell".into(),
            value: policy.k().to_string(),
            expected: format!(
                "at least {earlier_k}, the k of release #{release}: earlier releases stay \
                 queryable, and a lower k would publish counts they hid (set --min-cell to \
                 {earlier_k} or more)"
            ),
        });
        return Err(problems);
    }

    let descriptor_bytes = match std::fs::read(dir.join(DESCRIPTOR)) {
        Ok(bytes) => bytes,
        Err(e) => {
            problems.push(Problem {
                file: DESCRIPTOR.into(),
                line: 1,
                column: 1,
                field: "file".into(),
                value: dir.join(DESCRIPTOR).display().to_string(),
                expected: format!("a readable Frictionless data package descriptor ({e})"),
            });
            return Err(problems);
        }
    };
    let (title, resources, dimensions) = match read_descriptor(&descriptor_bytes, &mut problems) {
        Some(found) => found,
        None => return Err(problems),
    };
    // Declarations are frozen in a database (earlier breakdowns are read through them).
    for (release, declared) in earlier.declarations() {
        for expected in dimensions.changed_since(declared) {
            problems.push(Problem {
                file: DESCRIPTOR.into(),
                line: 1,
                column: 1,
                field: DIMENSIONS_PROPERTY.into(),
                value: String::new(),
                expected: format!("{expected} (release #{release})"),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut read_tables = Vec::new();
    for table in TABLES {
        let resource = &resources[table.name];
        let file = match std::fs::File::open(dir.join(&resource.path)) {
            Ok(file) => file,
            Err(e) => {
                problems.push(Problem {
                    file: resource.path.clone(),
                    line: 1,
                    column: 1,
                    field: "file".into(),
                    value: dir.join(&resource.path).display().to_string(),
                    expected: format!("the CSV file declared for resource {:?} ({e})", table.name),
                });
                continue;
            }
        };
        // Streamed: one record in memory at a time, never the whole file.
        let reader = Reader::new(
            std::io::BufReader::with_capacity(256 * 1024, file),
            resource.delimiter,
        );
        read_tables.push(read_table(table, &resource.path, reader, &mut problems));
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    check_keys_and_references(&read_tables, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut bundle = build_bundle(
        title,
        policy,
        &dimensions,
        earlier,
        read_tables,
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(problems);
    }
    bundle.assign_release_id();
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_are_stored_once_and_ranks_sort_like_the_strings() {
        let mut strings = Strings::default();
        let ids: Vec<u32> = ["north", "all", "north", "", "Zeta", "all"]
            .iter()
            .map(|s| strings.intern(s))
            .collect();
        assert_eq!(ids, [0, 1, 0, 2, 3, 1]);
        assert_eq!(strings.text, "northallZeta");
        assert_eq!(
            [0, 1, 2, 3].map(|id| strings.get(id)),
            ["north", "all", "", "Zeta"]
        );
        // "" < "Zeta" < "all" < "north"
        assert_eq!(strings.ranks(), [3, 2, 0, 1]);
    }

    #[test]
    fn cells_keep_dates_counts_and_absent_values() {
        let mut read = ReadTable::new(&crate::tables::SOURCES, "sources.csv");
        let dates = ["0000-01-01", "1969-12-31", "2024-02-29", "9999-12-31"]
            .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap());
        let cells = dates.map(|d| read.encode(Value::Date(d)));
        assert!(cells.windows(2).all(|w| w[0] < w[1]), "order-preserving");
        assert!(!cells.contains(&NULL));
        assert_eq!(read.encode(Value::Null), NULL);
        assert_eq!(read.encode(Value::Count(i64::MAX)), i64::MAX as u64);
        // One row of sources: id, title, publisher, url, published_on, retrieved_on, kind.
        read.lines.push(2);
        for value in [
            Value::Text("a"),
            Value::Text("T"),
            Value::Text("P"),
            Value::Text("https://example.org"),
            Value::Date(dates[0]),
            Value::Null,
            Value::Text("other"),
        ] {
            let cell = read.encode(value);
            read.cells.push(cell);
        }
        assert_eq!(read.date(0, "published_on"), Some(dates[0]));
        assert_eq!(read.date(0, "retrieved_on"), None);
        assert_eq!(read.text(0, "kind"), "other");
        assert_eq!(read.opt_text(0, "retrieved_on"), None);
    }
}
