//! The reading stage: every CSV file read record by record and type-checked into a
//! compact [`ReadTable`], then keys and references checked across tables.

use super::*;

/// The most data rows one CSV file may hold: bounds the importer's memory (a statistics
/// row costs about 200 bytes once read; see `benches/import_memory.rs`).
pub const MAX_ROWS: usize = 2_000_000;

/// A checked cell, borrowed from the record being read.
#[derive(Debug, Clone, Copy)]
pub(super) enum Value<'a> {
    Null,
    Text(&'a str),
    Date(NaiveDate),
    Count(i64),
}

/// The stored form of an absent cell.
pub(super) const NULL: u64 = u64::MAX;

/// Every distinct string of a table, stored once in one buffer and named by its index:
/// a 200 MB file repeats a few programs, metrics and categories millions of times.
#[derive(Clone, Default)]
pub(super) struct Strings {
    pub(super) text: String,
    pub(super) ends: Vec<usize>,
    pub(super) index: hashbrown::HashTable<u32>,
    pub(super) hasher: std::hash::RandomState,
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
    pub(super) fn get(&self, id: u32) -> &str {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.text[start..self.ends[id]]
    }

    pub(super) fn intern(&mut self, s: &str) -> u32 {
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

    /// The index of `s`, if the table holds it.
    pub(super) fn find(&self, s: &str) -> Option<u32> {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(s);
        self.index.find(hash, |&id| self.get(id) == s).copied()
    }

    /// The rank of every string in sorted order: comparing ranks compares the strings.
    pub(super) fn ranks(&self) -> Vec<u32> {
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
pub(super) struct ReadTable {
    pub(super) table: &'static Table,
    pub(super) file: String,
    /// 1-based CSV column of each allow-list field.
    pub(super) columns: Vec<usize>,
    /// The line each row starts on.
    pub(super) lines: Vec<usize>,
    pub(super) cells: Vec<u64>,
    pub(super) strings: Strings,
}

impl ReadTable {
    pub(super) fn new(table: &'static Table, file: &str) -> Self {
        ReadTable {
            table,
            file: file.into(),
            columns: Vec::new(),
            lines: Vec::new(),
            cells: Vec::new(),
            strings: Strings::default(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.lines.len()
    }

    pub(super) fn encode(&mut self, value: Value) -> u64 {
        match value {
            Value::Null => NULL,
            Value::Text(text) => u64::from(self.strings.intern(text)),
            // Order-preserving, and never NULL.
            Value::Date(date) => (i64::from(date.num_days_from_ce()) - i64::from(i32::MIN)) as u64,
            Value::Count(count) => count as u64,
        }
    }

    pub(super) fn cell(&self, row: usize, name: &str) -> u64 {
        self.cell_at(
            row,
            self.table.field_index(name).expect("allow-listed column"),
        )
    }

    pub(super) fn cell_at(&self, row: usize, field: usize) -> u64 {
        self.cells[row * self.table.fields.len() + field]
    }

    pub(super) fn text(&self, row: usize, name: &str) -> &str {
        match self.cell(row, name) {
            NULL => "",
            id => self.strings.get(id as u32),
        }
    }

    pub(super) fn string(&self, row: usize, name: &str) -> String {
        self.text(row, name).to_owned()
    }

    pub(super) fn opt_text(&self, row: usize, name: &str) -> Option<String> {
        Some(self.text(row, name))
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    }

    pub(super) fn date(&self, row: usize, name: &str) -> Option<NaiveDate> {
        match self.cell(row, name) {
            NULL => None,
            days => {
                NaiveDate::from_num_days_from_ce_opt((days as i64 + i64::from(i32::MIN)) as i32)
            }
        }
    }

    pub(super) fn count(&self, row: usize, name: &str) -> i64 {
        match self.cell(row, name) {
            NULL => 0,
            count => count as i64,
        }
    }

    pub(super) fn line(&self, row: usize) -> usize {
        self.lines[row]
    }

    pub(super) fn column(&self, name: &str) -> usize {
        self.columns[self.table.field_index(name).expect("allow-listed column")]
    }
}

/// Read and type-check one CSV file, record by record.
#[tracing::instrument(skip(table, reader, problems), fields(table = table.name))]
pub(super) fn read_table<R: std::io::BufRead>(
    table: &'static Table,
    file: &str,
    mut reader: Reader<R>,
    problems: &mut Problems,
) -> ReadTable {
    let mut read = ReadTable::new(table, file);
    // Raw record text is never quoted from a table that holds counts (see [`WITHHELD`]).
    let has_count = table
        .fields
        .iter()
        .any(|f| matches!(f.ty, FieldType::Count));
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
    pub(super) fn next<R: std::io::BufRead>(
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
    let mut problem = |line: usize, column: usize, field: &str, value: String, expected: String| {
        let value = if has_count && field == "-" && !value.is_empty() {
            WITHHELD.into()
        } else {
            value
        };
        problem(line, column, field, value, expected)
    };
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
            // Which field is last in a ragged row is unknown: it may be the count.
            let last = if has_count && !record.last().is_empty() {
                WITHHELD.into()
            } else {
                String::from_utf8_lossy(record.last()).into_owned()
            };
            problem(
                record.line,
                column,
                "row",
                last,
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
                        shown(field, String::from_utf8_lossy(raw).into_owned()),
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
                    let value = shown(field, text.into());
                    problem(record.line, position + 1, field.name, value, expected);
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

/// What a malformed count is reported as instead of its text: it may be a typo of the
/// real, possibly small, count, and a count is never echoed (disclosure control).
pub(super) const WITHHELD: &str = "(withheld: disclosure control)";

/// What a count must look like.
pub(super) const COUNT_EXPECTED: &str = "a whole number of 0 or more, written with digits only (no decimals, sign, spaces or separators)";

/// The text of `field` as a problem may show it: counts are withheld.
fn shown(field: &Field, text: String) -> String {
    if matches!(field.ty, FieldType::Count) {
        WITHHELD.into()
    } else {
        text
    }
}

/// Check one cell against its column's type.
pub(super) fn check_value<'a>(field: &Field, text: &'a str) -> Result<Value<'a>, String> {
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
        FieldType::Slug if field.name == "id" && crate::tables::RESERVED_IDS.contains(&text) => {
            Err(format!(
                "an id the API does not use as a path (/api/v1/<table>/{text} is taken); \
                 reserved ids: {}",
                crate::tables::RESERVED_IDS.join(", ")
            ))
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
            _ => Err(COUNT_EXPECTED.into()),
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
#[tracing::instrument(skip_all)]
pub(super) fn check_keys_and_references(tables: &[ReadTable], problems: &mut Problems) {
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
