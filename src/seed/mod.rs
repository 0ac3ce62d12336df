//! The importer: CSV files described by a datapackage.json -> validated rows -> disclosure
//! control -> one transaction -> a release.
//!
//! [`check_dir`] does everything but the database write; [`import_dir`] checks, then loads.
//! Every problem is reported as `FILE:LINE:COLUMN (field): "value" — expected …`, and
//! nothing is written unless the whole bundle is valid.

pub mod csv_reader;
mod load;
pub mod tables;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
use sha2::{Digest as _, Sha256};

use crate::disclosure::{self, Family, Policy};
use crate::entity::{document, event, metric, program, source, statistic};
use csv_reader::{RawRecord, read_records, strip_bom};
use tables::{Field, FieldType, MAX_KEY_CHARS, MAX_TEXT_CHARS, MAX_URL_CHARS, TABLES, Table};

pub use load::{ImportFailure, ImportOutcome, first_start, import_dir, import_if_empty};

/// How many problems are listed before the rest are only counted.
pub const MAX_LISTED_PROBLEMS: usize = 100;

/// The descriptor every bundle must have.
pub const DESCRIPTOR: &str = "datapackage.json";

/// One thing wrong with the input, located to the cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub field: String,
    pub value: String,
    pub expected: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut value: String = self.value.chars().take(80).collect();
        if self.value.chars().count() > 80 {
            value.push('…');
        }
        write!(
            f,
            "{}:{}:{} ({}): {:?} — expected {}",
            self.file, self.line, self.column, self.field, value, self.expected
        )
    }
}

/// Every problem found in a bundle (the first [`MAX_LISTED_PROBLEMS`] are kept).
#[derive(Debug, Default)]
pub struct Problems {
    pub listed: Vec<Problem>,
    pub total: usize,
}

impl Problems {
    fn push(&mut self, problem: Problem) {
        self.total += 1;
        if self.listed.len() < MAX_LISTED_PROBLEMS {
            self.listed.push(problem);
        }
    }

    fn is_empty(&self) -> bool {
        self.total == 0
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.listed {
            writeln!(f, "{problem}")?;
        }
        if self.total > self.listed.len() {
            writeln!(f, "… and {} more", self.total - self.listed.len())?;
        }
        write!(f, "{} problem(s); nothing was imported", self.total)
    }
}

impl std::error::Error for Problems {}

/// A validated, disclosure-protected bundle, ready to load as a release.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// SHA-256 of the canonical bundle: the release id.
    pub id: String,
    pub title: String,
    pub min_cell: i64,
    pub sources: Vec<source::Model>,
    pub programs: Vec<program::Model>,
    pub metrics: Vec<metric::Model>,
    pub events: Vec<event::Model>,
    pub documents: Vec<document::Model>,
    pub statistics: Vec<statistic::Model>,
}

impl Bundle {
    /// Name the release by the SHA-256 of what it publishes: the title, k and every
    /// protected row in canonical order. Not of the input files: their raw suppressed
    /// values would make the id a checksum an attacker could brute-force them against.
    /// Identical published content therefore gets the same id, and a re-import is a no-op.
    fn assign_release_id(&mut self) {
        let mut digest = ReleaseDigest(Sha256::new());
        digest.field(&"sanctuary-data release v1");
        digest.field(&self.title);
        digest.field(&self.min_cell);
        digest.table("sources");
        for m in &self.sources {
            digest.row(&[
                &m.id,
                &m.position,
                &m.title,
                &m.publisher,
                &m.url,
                &m.published_on,
                &m.retrieved_on,
                &m.kind,
            ]);
        }
        digest.table("programs");
        for m in &self.programs {
            digest.row(&[
                &m.slug,
                &m.position,
                &m.name,
                &m.jurisdiction,
                &m.administered_by,
                &m.launched_on,
                &m.status,
                &m.website,
                &m.description,
                &m.source_id,
            ]);
        }
        digest.table("metrics");
        for m in &self.metrics {
            digest.row(&[&m.id, &m.position, &m.name, &m.description, &m.unit]);
        }
        digest.table("events");
        for m in &self.events {
            digest.row(&[
                &m.id,
                &m.position,
                &m.program,
                &m.date,
                &m.date_precision,
                &m.kind,
                &m.title,
                &m.description,
                &m.source_id,
            ]);
        }
        digest.table("documents");
        for m in &self.documents {
            digest.row(&[
                &m.id,
                &m.position,
                &m.program,
                &m.title,
                &m.kind,
                &m.issuer,
                &m.published_on,
                &m.url,
                &m.summary,
                &m.source_id,
            ]);
        }
        digest.table("statistics");
        for m in &self.statistics {
            digest.row(&[
                &m.id,
                &m.position,
                &m.program,
                &m.metric,
                &m.period_start,
                &m.period_end,
                &m.dimension,
                &m.category,
                &m.value,
                &m.suppressed,
                &m.suppression_reason,
                &m.qualifier,
                &m.unit,
                &m.status,
                &m.source_id,
                &m.note,
            ]);
        }
        let id = hex::encode(digest.0.finalize());
        self.sources
            .iter_mut()
            .for_each(|m| m.release_id = id.clone());
        self.programs
            .iter_mut()
            .for_each(|m| m.release_id = id.clone());
        self.metrics
            .iter_mut()
            .for_each(|m| m.release_id = id.clone());
        self.events
            .iter_mut()
            .for_each(|m| m.release_id = id.clone());
        self.documents
            .iter_mut()
            .for_each(|m| m.release_id = id.clone());
        self.statistics
            .iter_mut()
            .for_each(|m| m.release_id = id.clone());
        self.id = id;
    }

    /// Rows per table, for messages.
    pub fn summary(&self) -> String {
        let suppressed = self.statistics.iter().filter(|s| s.suppressed).count();
        format!(
            "{} sources, {} programs, {} metrics, {} events, {} documents, {} statistics ({} suppressed at k={})",
            self.sources.len(),
            self.programs.len(),
            self.metrics.len(),
            self.events.len(),
            self.documents.len(),
            self.statistics.len(),
            suppressed,
            self.min_cell
        )
    }
}

/// An unambiguous serialisation for the release digest: every field is length-prefixed,
/// and absent values differ from empty ones.
struct ReleaseDigest(Sha256);

impl ReleaseDigest {
    fn field(&mut self, value: &dyn fmt::Display) {
        let text = value.to_string();
        self.0.update((text.len() as u64).to_le_bytes());
        self.0.update(text.as_bytes());
    }

    fn opt(&mut self, value: Option<&dyn fmt::Display>) {
        match value {
            Some(v) => {
                self.0.update([1]);
                self.field(v);
            }
            None => self.0.update([0]),
        }
    }

    fn table(&mut self, name: &str) {
        self.0.update([0xff]);
        self.field(&name);
    }

    fn row(&mut self, fields: &[&dyn DigestField]) {
        self.0.update((fields.len() as u64).to_le_bytes());
        for field in fields {
            field.feed(self);
        }
    }
}

/// A value that can be fed to the release digest.
trait DigestField {
    fn feed(&self, digest: &mut ReleaseDigest);
}

macro_rules! digest_field {
    ($($t:ty),*) => {$(
        impl DigestField for $t {
            fn feed(&self, digest: &mut ReleaseDigest) {
                digest.opt(Some(self));
            }
        }
        impl DigestField for Option<$t> {
            fn feed(&self, digest: &mut ReleaseDigest) {
                digest.opt(self.as_ref().map(|v| v as &dyn fmt::Display));
            }
        }
    )*};
}
digest_field!(String, NaiveDate, i64, i32, bool);

/// A checked cell.
#[derive(Debug, Clone)]
enum Value {
    Null,
    Text(String),
    Date(NaiveDate),
    Count(i64),
}

/// A checked row: cells in allow-list order, and where it came from.
#[derive(Debug)]
struct Row {
    line: usize,
    /// 1-based CSV column of each allow-list field.
    columns: Vec<usize>,
    values: Vec<Value>,
}

impl Row {
    fn text(&self, table: &Table, name: &str) -> String {
        match &self.values[table.field_index(name).expect("allow-listed column")] {
            Value::Text(text) => text.clone(),
            _ => String::new(),
        }
    }

    fn opt_text(&self, table: &Table, name: &str) -> Option<String> {
        Some(self.text(table, name)).filter(|t| !t.is_empty())
    }

    fn date(&self, table: &Table, name: &str) -> Option<NaiveDate> {
        match self.values[table.field_index(name).expect("allow-listed column")] {
            Value::Date(date) => Some(date),
            _ => None,
        }
    }

    fn count(&self, table: &Table, name: &str) -> i64 {
        match self.values[table.field_index(name).expect("allow-listed column")] {
            Value::Count(count) => count,
            _ => 0,
        }
    }

    fn column(&self, table: &Table, name: &str) -> usize {
        self.columns[table.field_index(name).expect("allow-listed column")]
    }
}

/// One table as read.
struct ReadTable {
    table: &'static Table,
    file: String,
    rows: Vec<Row>,
}

/// What the descriptor says about one resource.
struct Resource {
    path: String,
    delimiter: u8,
}

/// Validate `dir` and apply disclosure control, without touching any database.
pub fn check_dir(dir: &Path, policy: Policy) -> Result<Bundle, Problems> {
    let mut problems = Problems::default();

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
    let (title, resources) = match read_descriptor(&descriptor_bytes, &mut problems) {
        Some(found) => found,
        None => return Err(problems),
    };

    let mut read_tables = Vec::new();
    for table in TABLES {
        let resource = &resources[table.name];
        let bytes = match std::fs::read(dir.join(&resource.path)) {
            Ok(bytes) => bytes,
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
        let body = strip_bom(&bytes).to_vec();
        read_tables.push(read_table(
            table,
            &resource.path,
            &body,
            resource.delimiter,
            &mut problems,
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    check_keys_and_references(&read_tables, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut bundle = build_bundle(title, policy, read_tables, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    bundle.assign_release_id();
    Ok(bundle)
}

/// Locate the first occurrence of `needle` in the descriptor for a line and column.
fn locate(text: &str, needle: &str) -> (usize, usize) {
    match text.find(needle) {
        Some(offset) => {
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let column = before
                .rsplit('\n')
                .next()
                .map(|l| l.chars().count())
                .unwrap_or(0)
                + 1;
            (line, column)
        }
        None => (1, 1),
    }
}

/// Read the resources of the descriptor and check them against the allow-list.
fn read_descriptor(
    bytes: &[u8],
    problems: &mut Problems,
) -> Option<(String, HashMap<&'static str, Resource>)> {
    let text = match std::str::from_utf8(strip_bom(bytes)) {
        Ok(text) => text,
        Err(e) => {
            problems.push(Problem {
                file: DESCRIPTOR.into(),
                line: 1,
                column: 1,
                field: "file".into(),
                value: String::from_utf8_lossy(&bytes[..e.valid_up_to().min(40)]).into_owned(),
                expected: "UTF-8 JSON".into(),
            });
            return None;
        }
    };
    let json: serde_json::Value = match serde_json::from_str(text) {
        Ok(json) => json,
        Err(e) => {
            problems.push(Problem {
                file: DESCRIPTOR.into(),
                line: e.line(),
                column: e.column(),
                field: "json".into(),
                value: text
                    .lines()
                    .nth(e.line().saturating_sub(1))
                    .unwrap_or("")
                    .trim()
                    .into(),
                expected: format!("valid JSON ({e})"),
            });
            return None;
        }
    };
    let mut problem = |needle: &str, field: String, value: String, expected: String| {
        let (line, column) = locate(text, needle);
        problems.push(Problem {
            file: DESCRIPTOR.into(),
            line,
            column,
            field,
            value,
            expected,
        });
    };
    let title = json
        .get("title")
        .or_else(|| json.get("name"))
        .and_then(|t| t.as_str())
        .unwrap_or("untitled data package")
        .to_owned();
    let Some(list) = json.get("resources").and_then(|r| r.as_array()) else {
        problem(
            "{",
            "resources".into(),
            String::new(),
            "a \"resources\" array".into(),
        );
        return None;
    };
    let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    let mut resources = HashMap::new();
    for (index, resource) in list.iter().enumerate() {
        let at = format!("resources[{index}]");
        let name = resource
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or_default();
        let Some(table) = TABLES.iter().find(|t| t.name == name) else {
            problem(
                &format!("\"{name}\""),
                format!("{at}.name"),
                name.into(),
                format!("one of the tables {}", names.join(", ")),
            );
            continue;
        };
        if resources.contains_key(table.name) {
            problem(
                &format!("\"{name}\""),
                format!("{at}.name"),
                name.into(),
                "each table declared once".into(),
            );
            continue;
        }
        let path = resource
            .get("path")
            .and_then(|p| p.as_str())
            .unwrap_or_default();
        let path_ok = !path.is_empty()
            && path.ends_with(".csv")
            && !path.starts_with('/')
            && !path.contains('\\')
            && !path.split('/').any(|part| part == ".." || part.is_empty());
        if !path_ok {
            problem(
                &format!("\"{path}\""),
                format!("{at}.path"),
                path.into(),
                "a relative path to a .csv file inside the package directory".into(),
            );
        }
        if let Some(encoding) = resource.get("encoding").and_then(|e| e.as_str())
            && !encoding.eq_ignore_ascii_case("utf-8")
            && !encoding.eq_ignore_ascii_case("utf8")
        {
            problem(
                &format!("\"{encoding}\""),
                format!("{at}.encoding"),
                encoding.into(),
                "utf-8".into(),
            );
        }
        let dialect = resource.get("dialect");
        let delimiter = dialect
            .and_then(|d| d.get("delimiter"))
            .and_then(|d| d.as_str())
            .unwrap_or(",");
        if delimiter.len() != 1 || matches!(delimiter, "\"" | "\n" | "\r") {
            problem(
                &format!("\"{delimiter}\""),
                format!("{at}.dialect.delimiter"),
                delimiter.into(),
                "a one-character delimiter".into(),
            );
        }
        if dialect
            .and_then(|d| d.get("header"))
            .and_then(|h| h.as_bool())
            == Some(false)
        {
            problem(
                "\"header\"",
                format!("{at}.dialect.header"),
                "false".into(),
                "a header row (header: true)".into(),
            );
        }
        let fields = resource
            .get("schema")
            .and_then(|s| s.get("fields"))
            .and_then(|f| f.as_array())
            .cloned()
            .unwrap_or_default();
        let mut declared = Vec::new();
        for (i, field) in fields.iter().enumerate() {
            let field_name = field
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or_default();
            let field_type = field
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("string");
            let needle = format!("\"{field_name}\"");
            match table.fields.iter().find(|f| f.name == field_name) {
                None => problem(
                    &needle,
                    format!("{at}.schema.fields[{i}]"),
                    field_name.into(),
                    format!(
                        "only the allowed columns of {}: {}",
                        table.name,
                        table.column_list()
                    ),
                ),
                Some(_) if declared.contains(&field_name) => problem(
                    &needle,
                    format!("{at}.schema.fields[{i}]"),
                    field_name.into(),
                    "each column declared once".into(),
                ),
                Some(allowed) if allowed.ty.frictionless_type() != field_type => problem(
                    &needle,
                    format!("{at}.schema.fields[{i}].type"),
                    field_type.into(),
                    format!(
                        "type {:?} for column {}",
                        allowed.ty.frictionless_type(),
                        allowed.name
                    ),
                ),
                Some(_) => {}
            }
            declared.push(field_name);
        }
        for allowed in table.fields {
            if !declared.contains(&allowed.name) {
                problem(
                    &format!("\"{name}\""),
                    format!("{at}.schema.fields"),
                    allowed.name.into(),
                    format!("a declaration of column {} of {}", allowed.name, table.name),
                );
            }
        }
        resources.insert(
            table.name,
            Resource {
                path: path.into(),
                delimiter: delimiter.bytes().next().unwrap_or(b','),
            },
        );
    }
    for table in TABLES {
        if !resources.contains_key(table.name) {
            problem(
                "\"resources\"",
                "resources".into(),
                table.name.into(),
                format!("a resource named {:?}", table.name),
            );
        }
    }
    if problems.is_empty() {
        Some((title, resources))
    } else {
        None
    }
}

/// Read and type-check one CSV file.
fn read_table(
    table: &'static Table,
    file: &str,
    body: &[u8],
    delimiter: u8,
    problems: &mut Problems,
) -> ReadTable {
    let mut read = ReadTable {
        table,
        file: file.into(),
        rows: Vec::new(),
    };
    let mut problem = |line: usize, column: usize, field: &str, value: String, expected: String| {
        problems.push(Problem {
            file: file.into(),
            line,
            column,
            field: field.into(),
            value,
            expected,
        });
    };
    if body.is_empty() {
        problem(
            1,
            1,
            "header",
            String::new(),
            format!("a header row with the columns {}", table.column_list()),
        );
        return read;
    }
    let records: Vec<RawRecord> = match read_records(body, delimiter) {
        Ok(records) => records,
        Err(e) => {
            problem(
                e.line,
                e.column,
                "-",
                String::from_utf8_lossy(&e.near).into_owned(),
                e.expected.into(),
            );
            return read;
        }
    };
    let (header, rows) = records
        .split_first()
        .expect("a non-empty body has a record");

    // The header must name each allowed column exactly once, and nothing else.
    let mut positions: Vec<Option<usize>> = vec![None; table.fields.len()];
    let mut header_ok = true;
    for (i, raw) in header.fields.iter().enumerate() {
        let name = String::from_utf8_lossy(raw).into_owned();
        match table.field_index(&name) {
            None => {
                header_ok = false;
                problem(
                    1,
                    i + 1,
                    "header",
                    name,
                    format!("only the declared columns {}", table.column_list()),
                );
            }
            Some(index) if positions[index].is_some() => {
                header_ok = false;
                problem(1, i + 1, "header", name, "each column once".into());
            }
            Some(index) => positions[index] = Some(i),
        }
    }
    for (index, field) in table.fields.iter().enumerate() {
        if positions[index].is_none() {
            header_ok = false;
            problem(
                1,
                header.fields.len() + 1,
                "header",
                String::new(),
                format!("the missing column {}", field.name),
            );
        }
    }
    if !header_ok {
        return read;
    }
    let positions: Vec<usize> = positions
        .into_iter()
        .map(|p| p.expect("checked above"))
        .collect();

    for record in rows {
        if record.fields.len() != header.fields.len() {
            let column = record.fields.len().min(header.fields.len()) + 1;
            let value = record
                .fields
                .last()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .unwrap_or_default();
            problem(
                record.line,
                column,
                "row",
                value,
                format!(
                    "{} fields, as in the header (found {})",
                    header.fields.len(),
                    record.fields.len()
                ),
            );
            continue;
        }
        let mut values = Vec::with_capacity(table.fields.len());
        let mut row_ok = true;
        for (field, &position) in table.fields.iter().zip(&positions) {
            let raw = &record.fields[position];
            let text = match std::str::from_utf8(raw) {
                Ok(text) => text,
                Err(_) => {
                    row_ok = false;
                    problem(
                        record.line,
                        position + 1,
                        field.name,
                        String::from_utf8_lossy(raw).into_owned(),
                        "valid UTF-8 text".into(),
                    );
                    continue;
                }
            };
            match check_value(field, text) {
                Ok(value) => values.push(value),
                Err(expected) => {
                    row_ok = false;
                    problem(record.line, position + 1, field.name, text.into(), expected);
                }
            }
        }
        if row_ok {
            read.rows.push(Row {
                line: record.line,
                columns: positions.iter().map(|p| p + 1).collect(),
                values,
            });
        }
    }
    read
}

/// Check one cell against its column's type.
fn check_value(field: &Field, text: &str) -> Result<Value, String> {
    if text.is_empty() {
        return if field.required {
            Err("a value (this column is required)".into())
        } else {
            Ok(Value::Null)
        };
    }
    let is_slug = |t: &str| {
        t.len() <= MAX_KEY_CHARS
            && t.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let is_identifier = |t: &str| {
        t.len() <= MAX_KEY_CHARS
            && t.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    match field.ty {
        FieldType::Text => {
            if text.chars().count() > MAX_TEXT_CHARS {
                Err(format!("at most {MAX_TEXT_CHARS} characters"))
            } else if text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
            {
                Err("text without control characters".into())
            } else if text.trim() != text {
                Err("no leading or trailing spaces".into())
            } else {
                Ok(Value::Text(text.into()))
            }
        }
        FieldType::Slug | FieldType::Reference(_) => {
            if is_slug(text)
                || (matches!(field.ty, FieldType::Reference("metrics")) && is_identifier(text))
            {
                Ok(Value::Text(text.into()))
            } else {
                Err(format!(
                    "a lower-case slug (letters, digits, hyphens; at most {MAX_KEY_CHARS} characters)"
                ))
            }
        }
        FieldType::Identifier => {
            if field.name == "dimension"
                && text.contains([',', '×', '*', '+', '/', '|', '&', ':', ' '])
            {
                Err("one dimension per row: cross-tabulations (two dimensions at once) are rejected until two-dimensional disclosure protection exists".into())
            } else if is_identifier(text) {
                Ok(Value::Text(text.into()))
            } else {
                Err("a snake_case identifier (lower-case letters, digits, underscores)".into())
            }
        }
        FieldType::Url => match url::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && text.len() <= MAX_URL_CHARS => {
                Ok(Value::Text(text.into()))
            }
            _ => Err("an absolute http:// or https:// URL".into()),
        },
        FieldType::Date => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) if text.len() == 10 => Ok(Value::Date(date)),
            _ => Err("a date as YYYY-MM-DD".into()),
        },
        FieldType::Count => match text.parse::<i64>() {
            Ok(count) if count >= 0 && text.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Value::Count(count))
            }
            _ => Err("a whole number >= 0 (digits only, no separators)".into()),
        },
        FieldType::Enum(values) => {
            if values.contains(&text) {
                Ok(Value::Text(text.into()))
            } else {
                Err(format!("one of {}", values.join(", ")))
            }
        }
    }
}

/// Keys are unique (a duplicate names both lines) and references resolve.
fn check_keys_and_references(tables: &[ReadTable], problems: &mut Problems) {
    let mut keys: HashMap<&str, HashMap<String, usize>> = HashMap::new();
    for read in tables {
        let table = read.table;
        let mut seen: HashMap<String, usize> = HashMap::new();
        for row in &read.rows {
            let key = row.text(table, table.key);
            if let Some(first) = seen.get(&key) {
                problems.push(Problem {
                    file: read.file.clone(),
                    line: row.line,
                    column: row.column(table, table.key),
                    field: table.key.into(),
                    value: key,
                    expected: format!("a unique {}; line {first} already has it", table.key),
                });
            } else {
                seen.insert(key, row.line);
            }
        }
        keys.insert(table.name, seen);
    }
    for read in tables {
        for field in read.table.fields {
            let FieldType::Reference(target) = field.ty else {
                continue;
            };
            let target_file = tables
                .iter()
                .find(|t| t.table.name == target)
                .map(|t| t.file.as_str())
                .unwrap_or(target);
            for row in &read.rows {
                let value = row.text(read.table, field.name);
                if !keys[target].contains_key(&value) {
                    problems.push(Problem {
                        file: read.file.clone(),
                        line: row.line,
                        column: row.column(read.table, field.name),
                        field: field.name.into(),
                        value,
                        expected: format!("a key of {target} (defined in {target_file})"),
                    });
                }
            }
        }
    }
}

/// Turn checked rows into entity models in canonical order, applying disclosure control
/// to statistics. Raw values of suppressed cells are dropped here and go no further.
fn build_bundle(
    title: String,
    policy: Policy,
    tables: Vec<ReadTable>,
    problems: &mut Problems,
) -> Bundle {
    let mut by_name: HashMap<&str, ReadTable> =
        tables.into_iter().map(|t| (t.table.name, t)).collect();
    let mut take = |name: &str| by_name.remove(name).expect("every table was read");
    // The release id is only known once the published content is; see `assign_release_id`.
    let release_id = String::new();

    let t = take("sources");
    let mut sources: Vec<source::Model> = t
        .rows
        .iter()
        .map(|r| source::Model {
            release_id: release_id.clone(),
            id: r.text(t.table, "id"),
            position: 0,
            title: r.text(t.table, "title"),
            publisher: r.text(t.table, "publisher"),
            url: r.text(t.table, "url"),
            published_on: r.date(t.table, "published_on"),
            retrieved_on: r.date(t.table, "retrieved_on"),
            kind: r.text(t.table, "kind"),
        })
        .collect();
    sources.sort_by(|a, b| a.id.cmp(&b.id));
    sources
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);

    let t = take("programs");
    let mut programs: Vec<program::Model> = t
        .rows
        .iter()
        .map(|r| program::Model {
            release_id: release_id.clone(),
            slug: r.text(t.table, "slug"),
            position: 0,
            name: r.text(t.table, "name"),
            jurisdiction: r.text(t.table, "jurisdiction"),
            administered_by: r.text(t.table, "administered_by"),
            launched_on: r.date(t.table, "launched_on"),
            status: r.text(t.table, "status"),
            website: r.opt_text(t.table, "website"),
            description: r.text(t.table, "description"),
            source_id: r.text(t.table, "source_id"),
        })
        .collect();
    programs.sort_by(|a, b| a.slug.cmp(&b.slug));
    programs
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);

    let t = take("metrics");
    let mut metrics: Vec<metric::Model> = t
        .rows
        .iter()
        .map(|r| metric::Model {
            release_id: release_id.clone(),
            id: r.text(t.table, "id"),
            position: 0,
            name: r.text(t.table, "name"),
            description: r.text(t.table, "description"),
            unit: r.text(t.table, "unit"),
        })
        .collect();
    metrics.sort_by(|a, b| a.id.cmp(&b.id));
    metrics
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);

    let t = take("events");
    let mut events: Vec<event::Model> = t
        .rows
        .iter()
        .map(|r| event::Model {
            release_id: release_id.clone(),
            id: r.text(t.table, "id"),
            position: 0,
            program: r.text(t.table, "program"),
            date: r.date(t.table, "date").unwrap_or_default(),
            date_precision: r.text(t.table, "date_precision"),
            kind: r.text(t.table, "kind"),
            title: r.text(t.table, "title"),
            description: r.text(t.table, "description"),
            source_id: r.text(t.table, "source_id"),
        })
        .collect();
    events.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    events
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);

    let t = take("documents");
    let mut documents: Vec<document::Model> = t
        .rows
        .iter()
        .map(|r| document::Model {
            release_id: release_id.clone(),
            id: r.text(t.table, "id"),
            position: 0,
            program: r.text(t.table, "program"),
            title: r.text(t.table, "title"),
            kind: r.text(t.table, "kind"),
            issuer: r.text(t.table, "issuer"),
            published_on: r.date(t.table, "published_on"),
            url: r.text(t.table, "url"),
            summary: r.text(t.table, "summary"),
            source_id: r.text(t.table, "source_id"),
        })
        .collect();
    // Dated documents first, oldest first; undated ones after, by id.
    documents.sort_by(|a, b| {
        (a.published_on.is_none(), a.published_on, &a.id).cmp(&(
            b.published_on.is_none(),
            b.published_on,
            &b.id,
        ))
    });
    documents
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);

    let t = take("statistics");
    let units: HashMap<&str, &str> = metrics
        .iter()
        .map(|m| (m.id.as_str(), m.unit.as_str()))
        .collect();
    let statistics = protect_statistics(&release_id, policy, &t, &units, problems);

    Bundle {
        id: String::new(),
        title,
        min_cell: policy.k(),
        sources,
        programs,
        metrics,
        events,
        documents,
        statistics,
    }
}

/// Check the statistics' own rules, group them into families, and apply disclosure
/// control. Returns the protected rows in canonical order.
fn protect_statistics(
    release_id: &str,
    policy: Policy,
    read: &ReadTable,
    units: &HashMap<&str, &str>,
    problems: &mut Problems,
) -> Vec<statistic::Model> {
    let table = read.table;
    let mut problem = |row: &Row, field: &str, value: String, expected: String| {
        problems.push(Problem {
            file: read.file.clone(),
            line: row.line,
            column: row.column(table, field),
            field: field.into(),
            value,
            expected,
        });
    };

    // Family: (program, metric, period_start, period_end) -> total row + breakdowns.
    type FamilyKey = (String, String, NaiveDate, NaiveDate);
    #[derive(Default)]
    struct FamilyRows<'r> {
        total: Option<&'r Row>,
        breakdowns: BTreeMap<String, Vec<&'r Row>>,
    }
    let mut families: BTreeMap<FamilyKey, FamilyRows> = BTreeMap::new();
    let mut cells: HashMap<(FamilyKey, String, String), usize> = HashMap::new();
    for row in &read.rows {
        let start = row.date(table, "period_start").unwrap_or_default();
        let end = row.date(table, "period_end").unwrap_or_default();
        if end < start {
            problem(
                row,
                "period_end",
                end.to_string(),
                format!("a date on or after period_start ({start})"),
            );
            continue;
        }
        let metric = row.text(table, "metric");
        let unit = row.text(table, "unit");
        if let Some(expected_unit) = units.get(metric.as_str())
            && *expected_unit != unit
        {
            problem(
                row,
                "unit",
                unit,
                format!("the unit of metric {metric}: {expected_unit}"),
            );
            continue;
        }
        let dimension = row.text(table, "dimension");
        let category = row.text(table, "category");
        if (dimension == "total") != (category == "all") {
            let expected = if dimension == "total" {
                "category \"all\" for dimension total"
            } else {
                "a category other than \"all\" for a breakdown (dimension total uses all)"
            };
            problem(row, "category", category, expected.into());
            continue;
        }
        let key: FamilyKey = (row.text(table, "program"), metric, start, end);
        let cell_key = (key.clone(), dimension.clone(), category.clone());
        if let Some(first) = cells.get(&cell_key) {
            problem(
                row,
                "category",
                category,
                format!(
                    "one row per program, metric, period, dimension and category; line {first} already has this one"
                ),
            );
            continue;
        }
        cells.insert(cell_key, row.line);
        let family = families.entry(key).or_default();
        if dimension == "total" {
            family.total = Some(row);
        } else {
            family.breakdowns.entry(dimension).or_default().push(row);
        }
    }

    let mut protected: Vec<statistic::Model> = Vec::with_capacity(read.rows.len());
    let model = |row: &Row, published: Option<i64>| statistic::Model {
        release_id: release_id.into(),
        id: row.text(table, "id"),
        position: 0,
        program: row.text(table, "program"),
        metric: row.text(table, "metric"),
        period_start: row.date(table, "period_start").unwrap_or_default(),
        period_end: row.date(table, "period_end").unwrap_or_default(),
        dimension: row.text(table, "dimension"),
        category: row.text(table, "category"),
        value: published,
        suppressed: published.is_none(),
        suppression_reason: published
            .is_none()
            .then(|| disclosure::SUPPRESSION_REASON.to_owned()),
        qualifier: row.text(table, "qualifier"),
        unit: row.text(table, "unit"),
        status: row.text(table, "status"),
        source_id: row.text(table, "source_id"),
        note: row.opt_text(table, "note"),
    };
    for ((program, metric, start, end), family) in &families {
        let dimensions: Vec<&String> = family.breakdowns.keys().collect();
        let breakdowns: Vec<Vec<i64>> = family
            .breakdowns
            .values()
            .map(|rows| rows.iter().map(|r| r.count(table, "value")).collect())
            .collect();
        let categories: Vec<Vec<String>> = family
            .breakdowns
            .values()
            .map(|rows| rows.iter().map(|r| r.text(table, "category")).collect())
            .collect();
        let input = Family {
            total: family.total.map(|r| r.count(table, "value")),
            breakdowns: &breakdowns,
        };
        let group = |b: Option<usize>| {
            let dimension = b.map(|b| dimensions[b].as_str()).unwrap_or("total");
            format!(
                "program={program}, metric={metric}, period={start}..{end}, dimension={dimension}"
            )
        };
        match disclosure::protect(policy, &input, &categories) {
            Ok(protection) => {
                if let Some(total) = family.total {
                    let value = (!protection.total_suppressed).then(|| total.count(table, "value"));
                    protected.push(model(total, value));
                }
                for (b, rows) in family.breakdowns.values().enumerate() {
                    for (i, row) in rows.iter().enumerate() {
                        let value =
                            (!protection.suppressed[b][i]).then(|| row.count(table, "value"));
                        protected.push(model(row, value));
                    }
                }
            }
            Err(error) => {
                let (breakdown, why) = match error {
                    disclosure::DisclosureError::NotAdditive { breakdown } => (
                        Some(breakdown),
                        "breakdown cells that add up to the group's total (values are not shown: disclosure control)",
                    ),
                    disclosure::DisclosureError::AuditFailed { breakdown } => (
                        breakdown,
                        "a group that suppression can protect; the audit could still derive a suppressed cell (values not shown: disclosure control)",
                    ),
                    disclosure::DisclosureError::NegativeValue { .. } => {
                        (None, "non-negative counts")
                    }
                };
                let row = breakdown
                    .and_then(|b| {
                        family
                            .breakdowns
                            .values()
                            .nth(b)
                            .and_then(|rows| rows.first().copied())
                    })
                    .or(family.total)
                    .expect("a family has at least one row");
                let dimension = breakdown
                    .map(|b| dimensions[b].clone())
                    .unwrap_or_else(|| "total".to_owned());
                problem(
                    row,
                    "dimension",
                    dimension,
                    format!("{why}; group: {}", group(breakdown)),
                );
            }
        }
    }
    protected.sort_by(|a, b| {
        (
            &a.program,
            &a.metric,
            a.period_start,
            a.period_end,
            a.dimension != "total",
            &a.dimension,
            &a.category,
            &a.id,
        )
            .cmp(&(
                &b.program,
                &b.metric,
                b.period_start,
                b.period_end,
                b.dimension != "total",
                &b.dimension,
                &b.category,
                &b.id,
            ))
    });
    protected
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);
    protected
}
