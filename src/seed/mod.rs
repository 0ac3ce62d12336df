//! The importer: CSV files described by a datapackage.json -> validated rows -> disclosure
//! control -> one transaction -> a release.
//!
//! [`check_dir`] does everything but the database write; [`import_dir`] checks, then loads.
//! Every problem is reported as `FILE:LINE:COLUMN (field): "value" — expected …`, and
//! nothing is written unless the whole bundle is valid.

pub mod csv_reader;
mod digest;
mod load;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use chrono::{Datelike, NaiveDate};

use crate::disclosure::{self, Family, Policy};
use crate::entity::{document, event, metric, program, source, statistic};
use crate::tables::{
    Field, FieldType, MAX_KEY_CHARS, MAX_TEXT_CHARS, MAX_URL_CHARS, TABLES, Table,
};
use csv_reader::{ReadError, Reader, Record, strip_bom};

pub use load::{ImportFailure, ImportOutcome, first_start, import_dir, import_if_empty};

/// The most data rows one CSV file may hold: bounds the importer's memory (a statistics
/// row costs about 200 bytes once read; see `benches/import_memory.rs`).
pub const MAX_ROWS: usize = 2_000_000;

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
    /// Compact: see [`Statistics::models`].
    pub statistics: Statistics,
}

impl Bundle {
    /// Name the release by the SHA-256 of what it publishes: the title, k and every
    /// protected row in canonical order (see [`digest`]). Not of the input files: their raw
    /// suppressed values would make the id a checksum an attacker could brute-force them
    /// against. Identical published content therefore gets the same id, and a re-import
    /// is a no-op.
    fn assign_release_id(&mut self) {
        let id = digest::release_id(self);
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
        self.id = id;
    }

    /// Rows per table, for messages.
    pub fn summary(&self) -> String {
        let suppressed = self.statistics.suppressed();
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

/// A checked cell, borrowed from the record being read.
#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    Null,
    Text(&'a str),
    Date(NaiveDate),
    Count(i64),
}

/// The stored form of an absent cell.
const NULL: u64 = u64::MAX;

/// Every distinct string of a table, stored once in one buffer and named by its index:
/// a 200 MB file repeats a few programs, metrics and categories millions of times.
#[derive(Clone, Default)]
struct Strings {
    text: String,
    ends: Vec<usize>,
    index: hashbrown::HashTable<u32>,
    hasher: std::hash::RandomState,
}

impl fmt::Debug for Strings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Strings({} distinct, {} bytes)",
            self.ends.len(),
            self.text.len()
        )
    }
}

impl Strings {
    fn get(&self, id: u32) -> &str {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.text[start..self.ends[id]]
    }

    fn intern(&mut self, s: &str) -> u32 {
        use std::hash::BuildHasher;
        let Strings {
            text,
            ends,
            index,
            hasher,
        } = self;
        let lookup = |id: u32| {
            let id = id as usize;
            let start = if id == 0 { 0 } else { ends[id - 1] };
            &text[start..ends[id]]
        };
        let hash = hasher.hash_one(s);
        let entry = index.entry(
            hash,
            |&id| lookup(id) == s,
            |&id| hasher.hash_one(lookup(id)),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(found) => *found.get(),
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                let id = u32::try_from(ends.len()).expect("fewer strings than rows");
                vacant.insert(id);
                text.push_str(s);
                ends.push(text.len());
                id
            }
        }
    }

    /// The rank of every string in sorted order: comparing ranks compares the strings.
    fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.ends.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.get(a).cmp(self.get(b)));
        let mut ranks = vec![0; order.len()];
        for (rank, id) in order.into_iter().enumerate() {
            ranks[id as usize] = rank as u32;
        }
        ranks
    }
}

/// One table as read and checked, compactly: every cell is one `u64` (a string's index
/// in [`Strings`], a date's day number or a count), rows one after another.
#[derive(Debug, Clone)]
struct ReadTable {
    table: &'static Table,
    file: String,
    /// 1-based CSV column of each allow-list field.
    columns: Vec<usize>,
    /// The line each row starts on.
    lines: Vec<usize>,
    cells: Vec<u64>,
    strings: Strings,
}

impl ReadTable {
    fn new(table: &'static Table, file: &str) -> Self {
        ReadTable {
            table,
            file: file.into(),
            columns: Vec::new(),
            lines: Vec::new(),
            cells: Vec::new(),
            strings: Strings::default(),
        }
    }

    fn len(&self) -> usize {
        self.lines.len()
    }

    fn encode(&mut self, value: Value) -> u64 {
        match value {
            Value::Null => NULL,
            Value::Text(text) => u64::from(self.strings.intern(text)),
            // Order-preserving, and never NULL.
            Value::Date(date) => (i64::from(date.num_days_from_ce()) - i64::from(i32::MIN)) as u64,
            Value::Count(count) => count as u64,
        }
    }

    fn cell(&self, row: usize, name: &str) -> u64 {
        self.cell_at(
            row,
            self.table.field_index(name).expect("allow-listed column"),
        )
    }

    fn cell_at(&self, row: usize, field: usize) -> u64 {
        self.cells[row * self.table.fields.len() + field]
    }

    fn text(&self, row: usize, name: &str) -> &str {
        match self.cell(row, name) {
            NULL => "",
            id => self.strings.get(id as u32),
        }
    }

    fn string(&self, row: usize, name: &str) -> String {
        self.text(row, name).to_owned()
    }

    fn opt_text(&self, row: usize, name: &str) -> Option<String> {
        Some(self.text(row, name))
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    }

    fn date(&self, row: usize, name: &str) -> Option<NaiveDate> {
        match self.cell(row, name) {
            NULL => None,
            days => {
                NaiveDate::from_num_days_from_ce_opt((days as i64 + i64::from(i32::MIN)) as i32)
            }
        }
    }

    fn count(&self, row: usize, name: &str) -> i64 {
        match self.cell(row, name) {
            NULL => 0,
            count => count as i64,
        }
    }

    fn line(&self, row: usize) -> usize {
        self.lines[row]
    }

    fn column(&self, name: &str) -> usize {
        self.columns[self.table.field_index(name).expect("allow-listed column")]
    }
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

/// Read and type-check one CSV file, record by record.
fn read_table<R: std::io::BufRead>(
    table: &'static Table,
    file: &str,
    mut reader: Reader<R>,
    problems: &mut Problems,
) -> ReadTable {
    let mut read = ReadTable::new(table, file);
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
    /// The next record: `Some(true)`, `Some(false)` at the end, `None` after reporting
    /// why the file cannot be read further.
    fn next<R: std::io::BufRead>(
        reader: &mut Reader<R>,
        record: &mut Record,
        problem: &mut dyn FnMut(usize, usize, &str, String, String),
    ) -> Option<bool> {
        match reader.next_record(record) {
            Ok(more) => Some(more),
            Err(ReadError::Syntax(e)) => {
                problem(
                    e.line,
                    e.column,
                    "-",
                    String::from_utf8_lossy(&e.near).into_owned(),
                    e.expected.into(),
                );
                None
            }
            Err(ReadError::Io(e)) => {
                problem(
                    record.line,
                    1,
                    "file",
                    String::new(),
                    format!("a readable file ({e})"),
                );
                None
            }
        }
    }
    let mut record = Record::default();
    match next(&mut reader, &mut record, &mut problem) {
        Some(true) => {}
        Some(false) => {
            problem(
                1,
                1,
                "header",
                String::new(),
                format!("a header row with the columns {}", table.column_list()),
            );
            return read;
        }
        None => return read,
    }

    // The header must name each allowed column exactly once, and nothing else.
    let header_len = record.len();
    let mut positions: Vec<Option<usize>> = vec![None; table.fields.len()];
    let mut header_ok = true;
    for i in 0..header_len {
        let name = String::from_utf8_lossy(record.field(i)).into_owned();
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
                header_len + 1,
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
    read.columns = positions.iter().map(|p| p + 1).collect();

    let mut rows = 0;
    while next(&mut reader, &mut record, &mut problem) == Some(true) {
        rows += 1;
        if rows > MAX_ROWS {
            problem(
                record.line,
                1,
                "row",
                String::new(),
                format!(
                    "at most {MAX_ROWS} data rows in one file (split the release, or ask for the limit to be raised)"
                ),
            );
            break;
        }
        if record.len() != header_len {
            let column = record.len().min(header_len) + 1;
            problem(
                record.line,
                column,
                "row",
                String::from_utf8_lossy(record.last()).into_owned(),
                format!(
                    "{header_len} fields, as in the header (found {})",
                    record.len()
                ),
            );
            continue;
        }
        let row_start = read.cells.len();
        let mut row_ok = true;
        for (field, &position) in table.fields.iter().zip(&positions) {
            let raw = record.field(position);
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
                Ok(value) => {
                    let cell = read.encode(value);
                    read.cells.push(cell);
                }
                Err(expected) => {
                    row_ok = false;
                    problem(record.line, position + 1, field.name, text.into(), expected);
                }
            }
        }
        if row_ok {
            read.lines.push(record.line);
        } else {
            read.cells.truncate(row_start);
        }
    }
    read
}

/// Check one cell against its column's type.
fn check_value<'a>(field: &Field, text: &'a str) -> Result<Value<'a>, String> {
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
                Ok(Value::Text(text))
            }
        }
        FieldType::Slug | FieldType::Reference(_) => {
            if is_slug(text)
                || (matches!(field.ty, FieldType::Reference("metrics")) && is_identifier(text))
            {
                Ok(Value::Text(text))
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
                Ok(Value::Text(text))
            } else {
                Err("a snake_case identifier (lower-case letters, digits, underscores)".into())
            }
        }
        FieldType::Url => match url::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && text.len() <= MAX_URL_CHARS => {
                Ok(Value::Text(text))
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
                Ok(Value::Text(text))
            } else {
                Err(format!("one of {}", values.join(", ")))
            }
        }
    }
}

/// Keys are unique (a duplicate names both lines) and references resolve.
fn check_keys_and_references(tables: &[ReadTable], problems: &mut Problems) {
    let mut keys: HashMap<&str, HashMap<&str, usize>> = HashMap::new();
    for read in tables {
        let table = read.table;
        // Equal strings share an index, so a duplicate key is an index seen before.
        let key_field = table.field_index(table.key).expect("allow-listed key");
        let mut first_line: Vec<usize> = vec![0; read.strings.ends.len()];
        for row in 0..read.len() {
            let id = read.cell_at(row, key_field) as usize;
            let first = first_line[id];
            if first != 0 {
                problems.push(Problem {
                    file: read.file.clone(),
                    line: read.line(row),
                    column: read.column(table.key),
                    field: table.key.into(),
                    value: read.string(row, table.key),
                    expected: format!("a unique {}; line {first} already has it", table.key),
                });
            } else {
                first_line[id] = read.line(row);
            }
        }
        // Only referenced tables need their keys by name; statistics are never referenced.
        if table.name != "statistics" {
            let seen = (0..read.len())
                .map(|row| (read.text(row, table.key), read.line(row)))
                .collect();
            keys.insert(table.name, seen);
        }
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
            for row in 0..read.len() {
                let value = read.text(row, field.name);
                if !keys[target].contains_key(value) {
                    problems.push(Problem {
                        file: read.file.clone(),
                        line: read.line(row),
                        column: read.column(field.name),
                        field: field.name.into(),
                        value: value.to_owned(),
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
    let mut sources: Vec<source::Model> = (0..t.len())
        .map(|r| source::Model {
            release_id: release_id.clone(),
            id: t.string(r, "id"),
            position: 0,
            title: t.string(r, "title"),
            publisher: t.string(r, "publisher"),
            url: t.string(r, "url"),
            published_on: t.date(r, "published_on"),
            retrieved_on: t.date(r, "retrieved_on"),
            kind: t.string(r, "kind"),
        })
        .collect();
    sources.sort_by(|a, b| a.id.cmp(&b.id));
    sources
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);

    let t = take("programs");
    let mut programs: Vec<program::Model> = (0..t.len())
        .map(|r| program::Model {
            release_id: release_id.clone(),
            slug: t.string(r, "slug"),
            position: 0,
            name: t.string(r, "name"),
            jurisdiction: t.string(r, "jurisdiction"),
            administered_by: t.string(r, "administered_by"),
            launched_on: t.date(r, "launched_on"),
            status: t.string(r, "status"),
            website: t.opt_text(r, "website"),
            description: t.string(r, "description"),
            source_id: t.string(r, "source_id"),
        })
        .collect();
    programs.sort_by(|a, b| a.slug.cmp(&b.slug));
    programs
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);

    let t = take("metrics");
    let mut metrics: Vec<metric::Model> = (0..t.len())
        .map(|r| metric::Model {
            release_id: release_id.clone(),
            id: t.string(r, "id"),
            position: 0,
            name: t.string(r, "name"),
            description: t.string(r, "description"),
            unit: t.string(r, "unit"),
        })
        .collect();
    metrics.sort_by(|a, b| a.id.cmp(&b.id));
    metrics
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);

    let t = take("events");
    let mut events: Vec<event::Model> = (0..t.len())
        .map(|r| event::Model {
            release_id: release_id.clone(),
            id: t.string(r, "id"),
            position: 0,
            program: t.string(r, "program"),
            date: t.date(r, "date").unwrap_or_default(),
            date_precision: t.string(r, "date_precision"),
            kind: t.string(r, "kind"),
            title: t.string(r, "title"),
            description: t.string(r, "description"),
            source_id: t.string(r, "source_id"),
        })
        .collect();
    events.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    events
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);

    let t = take("documents");
    let mut documents: Vec<document::Model> = (0..t.len())
        .map(|r| document::Model {
            release_id: release_id.clone(),
            id: t.string(r, "id"),
            position: 0,
            program: t.string(r, "program"),
            title: t.string(r, "title"),
            kind: t.string(r, "kind"),
            issuer: t.string(r, "issuer"),
            published_on: t.date(r, "published_on"),
            url: t.string(r, "url"),
            summary: t.string(r, "summary"),
            source_id: t.string(r, "source_id"),
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
    let statistics = protect_statistics(policy, t, &units, problems);

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

/// The protected statistics, compactly: the rows as read, and for each published row
/// (in canonical order) which row it is and what is published of its value. Entity
/// models are made on the fly, a few at a time, when the release is written.
#[derive(Debug, Clone)]
pub struct Statistics {
    read: ReadTable,
    /// (row, published value or `SUPPRESSED`), in canonical order.
    order: Vec<(u32, i64)>,
}

/// The published value of a suppressed cell (counts are never negative).
const SUPPRESSED: i64 = -1;

impl Statistics {
    /// How many statistics the release holds.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// How many of them are suppressed.
    pub fn suppressed(&self) -> usize {
        self.order.iter().filter(|(_, v)| *v == SUPPRESSED).count()
    }

    /// The rows as entity models, in canonical order with their positions.
    pub fn models<'a>(
        &'a self,
        release_id: &'a str,
    ) -> impl Iterator<Item = statistic::Model> + 'a {
        let t = &self.read;
        self.order
            .iter()
            .enumerate()
            .map(move |(i, &(row, published))| {
                let row = row as usize;
                let value = (published != SUPPRESSED).then_some(published);
                statistic::Model {
                    release_id: release_id.to_owned(),
                    id: t.string(row, "id"),
                    position: i as i32 + 1,
                    program: t.string(row, "program"),
                    metric: t.string(row, "metric"),
                    period_start: t.date(row, "period_start").unwrap_or_default(),
                    period_end: t.date(row, "period_end").unwrap_or_default(),
                    dimension: t.string(row, "dimension"),
                    category: t.string(row, "category"),
                    value,
                    suppressed: value.is_none(),
                    suppression_reason: value
                        .is_none()
                        .then(|| disclosure::SUPPRESSION_REASON.to_owned()),
                    qualifier: t.string(row, "qualifier"),
                    unit: t.string(row, "unit"),
                    status: t.string(row, "status"),
                    source_id: t.string(row, "source_id"),
                    note: t.opt_text(row, "note"),
                    basis: Some(t.string(row, "basis")),
                    period_inferred: Some(t.string(row, "period_inferred")),
                    source_wording: t.opt_text(row, "source_wording"),
                }
            })
    }
}

/// Check the statistics' own rules, group them into families, and apply disclosure
/// control. Returns the protected rows in canonical order.
///
/// Families are found by sorting row numbers, not by building maps of rows: the
/// statistics table may hold millions of rows, and only one family's values are
/// materialised at a time.
fn protect_statistics(
    policy: Policy,
    read: ReadTable,
    units: &HashMap<&str, &str>,
    problems: &mut Problems,
) -> Statistics {
    let t = &read;
    let table = t.table;
    let problem =
        |problems: &mut Problems, row: usize, field: &str, value: String, expected: String| {
            problems.push(Problem {
                file: t.file.clone(),
                line: t.line(row),
                column: t.column(field),
                field: field.into(),
                value,
                expected,
            });
        };
    let field = |name: &str| table.field_index(name).expect("allow-listed column");
    let (program, metric, start, end) = (
        field("program"),
        field("metric"),
        field("period_start"),
        field("period_end"),
    );
    let (dimension, category, id) = (field("dimension"), field("category"), field("id"));

    // The rows' own rules, in file order.
    let mut rows: Vec<u32> = Vec::with_capacity(t.len());
    for row in 0..t.len() {
        let start_date = t.date(row, "period_start").unwrap_or_default();
        let end_date = t.date(row, "period_end").unwrap_or_default();
        if end_date < start_date {
            problem(
                problems,
                row,
                "period_end",
                end_date.to_string(),
                format!("a date on or after period_start ({start_date})"),
            );
            continue;
        }
        let metric_id = t.text(row, "metric");
        let unit = t.text(row, "unit");
        if let Some(expected_unit) = units.get(metric_id)
            && *expected_unit != unit
        {
            problem(
                problems,
                row,
                "unit",
                unit.to_owned(),
                format!("the unit of metric {metric_id}: {expected_unit}"),
            );
            continue;
        }
        let dimension_text = t.text(row, "dimension");
        let category_text = t.text(row, "category");
        if (dimension_text == "total") != (category_text == "all") {
            let expected = if dimension_text == "total" {
                "category \"all\" for dimension total"
            } else {
                "a category other than \"all\" for a breakdown (dimension total uses all)"
            };
            problem(
                problems,
                row,
                "category",
                category_text.to_owned(),
                expected.into(),
            );
            continue;
        }
        rows.push(row as u32);
    }

    // Family: (program, metric, period_start, period_end); within it, by dimension, then
    // in file order. Ranks compare like the strings they stand for.
    let ranks = t.strings.ranks();
    let rank = |row: u32, field: usize| match t.cell_at(row as usize, field) {
        NULL => 0,
        id => ranks[id as usize],
    };
    let family_of = |row: u32| {
        (
            rank(row, program),
            rank(row, metric),
            t.cell_at(row as usize, start),
            t.cell_at(row as usize, end),
        )
    };
    rows.sort_unstable_by_key(|&row| (family_of(row), rank(row, dimension), row));
    let families = |rows: &[u32]| -> Vec<std::ops::Range<usize>> {
        let mut ranges = Vec::new();
        let mut begin = 0;
        for i in 1..=rows.len() {
            if i == rows.len() || family_of(rows[i]) != family_of(rows[begin]) {
                ranges.push(begin..i);
                begin = i;
            }
        }
        ranges
    };

    // One row per cell: a later row with the same dimension and category is refused.
    let mut duplicates: Vec<(u32, usize)> = Vec::new();
    let mut keep = vec![true; rows.len()];
    for family in families(&rows) {
        let mut cells: HashMap<(u64, u64), usize> = HashMap::new();
        for i in family {
            let row = rows[i];
            let key = (
                t.cell_at(row as usize, dimension),
                t.cell_at(row as usize, category),
            );
            match cells.get(&key) {
                Some(&first) => {
                    duplicates.push((row, first));
                    keep[i] = false;
                }
                None => {
                    cells.insert(key, t.line(row as usize));
                }
            }
        }
    }
    duplicates.sort_unstable();
    for (row, first) in duplicates {
        problem(
            problems,
            row as usize,
            "category",
            t.string(row as usize, "category"),
            format!(
                "one row per program, metric, period, dimension and category; line {first} already has this one"
            ),
        );
    }
    let mut kept = keep.into_iter();
    rows.retain(|_| kept.next().unwrap_or(false));

    let mut order: Vec<(u32, i64)> = Vec::with_capacity(rows.len());
    for family in families(&rows) {
        let family_rows = &rows[family];
        let total = family_rows
            .iter()
            .copied()
            .find(|&row| t.text(row as usize, "dimension") == "total");
        // Breakdowns in dimension order, rows in file order (the sort put them so).
        let mut breakdown_rows: Vec<&[u32]> = Vec::new();
        let mut begin = 0;
        let others: Vec<u32> = family_rows
            .iter()
            .copied()
            .filter(|&row| Some(row) != total)
            .collect();
        for i in 1..=others.len() {
            if i == others.len()
                || t.cell_at(others[i] as usize, dimension)
                    != t.cell_at(others[begin] as usize, dimension)
            {
                breakdown_rows.push(&others[begin..i]);
                begin = i;
            }
        }
        let breakdowns: Vec<Vec<i64>> = breakdown_rows
            .iter()
            .map(|rows| rows.iter().map(|&r| t.count(r as usize, "value")).collect())
            .collect();
        let categories: Vec<Vec<String>> = breakdown_rows
            .iter()
            .map(|rows| {
                rows.iter()
                    .map(|&r| t.string(r as usize, "category"))
                    .collect()
            })
            .collect();
        let input = Family {
            total: total.map(|r| t.count(r as usize, "value")),
            breakdowns: &breakdowns,
        };
        let first = total
            .or(others.first().copied())
            .expect("a family has a row");
        let group = |b: Option<usize>| {
            let dimension = match b {
                Some(b) => t.text(breakdown_rows[b][0] as usize, "dimension"),
                None => "total",
            };
            format!(
                "program={}, metric={}, period={}..{}, dimension={dimension}",
                t.text(first as usize, "program"),
                t.text(first as usize, "metric"),
                t.date(first as usize, "period_start").unwrap_or_default(),
                t.date(first as usize, "period_end").unwrap_or_default(),
            )
        };
        match disclosure::protect(policy, &input, &categories) {
            Ok(protection) => {
                if let Some(total) = total {
                    let value = if protection.total_suppressed {
                        SUPPRESSED
                    } else {
                        t.count(total as usize, "value")
                    };
                    order.push((total, value));
                }
                for (b, rows) in breakdown_rows.iter().enumerate() {
                    for (i, &row) in rows.iter().enumerate() {
                        let value = if protection.suppressed[b][i] {
                            SUPPRESSED
                        } else {
                            t.count(row as usize, "value")
                        };
                        order.push((row, value));
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
                    .and_then(|b| breakdown_rows.get(b).and_then(|rows| rows.first().copied()))
                    .or(total)
                    .expect("a family has at least one row");
                let dimension_text = breakdown
                    .map(|b| t.string(breakdown_rows[b][0] as usize, "dimension"))
                    .unwrap_or_else(|| "total".to_owned());
                problem(
                    problems,
                    row as usize,
                    "dimension",
                    dimension_text,
                    format!("{why}; group: {}", group(breakdown)),
                );
            }
        }
    }
    let total_rank = |row: u32| t.text(row as usize, "dimension") != "total";
    order.sort_unstable_by_key(|&(row, _)| {
        (
            family_of(row),
            total_rank(row),
            rank(row, dimension),
            rank(row, category),
            rank(row, id),
        )
    });
    Statistics { read, order }
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
