//! A strict RFC 4180 reader for import files.
//!
//! Why not the `csv` crate for reading: it is deliberately lenient — an unclosed quote
//! silently swallows the rest of the file and a stray quote inside an unquoted field is
//! kept as data. An importer that must reject bad input with a line and a column needs
//! the strict reading, so the grammar is spelt out here (the `csv` crate still writes
//! every CSV we serve).

use std::io::{BufRead, ErrorKind};

/// The longest record accepted, in bytes: far above any valid row (the longest text is
/// 10,000 characters), so a file without line breaks, or with an unclosed quote, is
/// refused without being held in memory.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// One record as read: the line it starts on (1-based) and its raw fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    pub line: usize,
    pub fields: Vec<Vec<u8>>,
}

/// A syntax error at a line and a 1-based field number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub expected: &'static str,
    /// The text of the field read so far (for the message; at most 80 bytes).
    pub near: Vec<u8>,
}

/// Strip a leading UTF-8 byte order mark, which spreadsheet programs like to add.
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// The record being read: every field's bytes in one buffer, reused from record to
/// record, so reading a file costs one record of memory, not one file.
#[derive(Debug, Default)]
pub struct Record {
    /// The line the record starts on (1-based).
    pub line: usize,
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Record {
    /// How many fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The raw bytes of field `i` (0-based).
    pub fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.data[start..self.ends[i]]
    }

    /// The last field (empty when there is none).
    pub fn last(&self) -> &[u8] {
        if self.ends.is_empty() {
            &[]
        } else {
            self.field(self.ends.len() - 1)
        }
    }

    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    fn near(&self) -> Vec<u8> {
        let start = self.ends.last().copied().unwrap_or(0);
        self.data[start..].iter().take(80).copied().collect()
    }
}

/// Why a record could not be read.
#[derive(Debug)]
pub enum ReadError {
    Syntax(SyntaxError),
    Io(std::io::Error),
}

/// A strict streaming reader: [`Reader::next_record`] fills a reused [`Record`]. Line
/// endings may be CRLF or LF; a final line ending is optional. Quoted fields may contain
/// delimiters, line breaks and doubled quotes. A leading byte order mark is skipped.
pub struct Reader<R> {
    source: R,
    delimiter: u8,
    line: usize,
    started: bool,
}

impl<R: BufRead> Reader<R> {
    pub fn new(source: R, delimiter: u8) -> Self {
        Reader {
            source,
            delimiter,
            line: 1,
            started: false,
        }
    }

    fn peek(&mut self) -> Result<Option<u8>, ReadError> {
        loop {
            match self.source.fill_buf() {
                Ok(buf) => return Ok(buf.first().copied()),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    fn bump(&mut self) {
        self.source.consume(1);
    }

    /// Read the next record into `record`; `false` at the end of the input.
    pub fn next_record(&mut self, record: &mut Record) -> Result<bool, ReadError> {
        record.clear();
        record.line = self.line;
        if !self.started {
            self.started = true;
            // Byte by byte, so a buffer of any size sees the mark; a partial mark stays
            // as the start of the first field.
            for &expected in b"\xEF\xBB\xBF" {
                if self.peek()? != Some(expected) {
                    break;
                }
                self.bump();
                record.data.push(expected);
            }
            if record.data.len() == 3 {
                record.data.clear();
            }
        }
        if record.data.is_empty() && self.peek()?.is_none() {
            return Ok(false);
        }
        let delimiter = self.delimiter;
        loop {
            let column = record.ends.len() + 1;
            let field_start = record.ends.last().copied().unwrap_or(0);
            if record.data.len() == field_start && self.peek()? == Some(b'"') {
                let quote_line = self.line;
                self.bump();
                loop {
                    let byte = self.peek()?;
                    match byte {
                        None => {
                            return Err(self.syntax(
                                record,
                                quote_line,
                                column,
                                "a closing quote before the end of the file",
                            ));
                        }
                        Some(b'"') => {
                            self.bump();
                            if self.peek()? == Some(b'"') {
                                self.bump();
                                record.data.push(b'"');
                            } else {
                                break;
                            }
                        }
                        Some(b) => {
                            if b == b'\n' {
                                self.line += 1;
                            }
                            record.data.push(b);
                            self.bump();
                        }
                    }
                    self.check_length(record, column)?;
                }
                match self.peek()? {
                    None | Some(b'\n' | b'\r') => {}
                    Some(b) if b == delimiter => {}
                    Some(_) => {
                        return Err(self.syntax(
                            record,
                            self.line,
                            column,
                            "a delimiter or the end of the line after a closing quote",
                        ));
                    }
                }
            } else {
                // An unquoted field: take whole runs of plain bytes from the buffer.
                loop {
                    let buf = match self.source.fill_buf() {
                        Ok(buf) => buf,
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(e) => return Err(ReadError::Io(e)),
                    };
                    let run = buf
                        .iter()
                        .position(|&b| b == delimiter || matches!(b, b'\n' | b'\r' | b'"'))
                        .unwrap_or(buf.len());
                    record.data.extend_from_slice(&buf[..run]);
                    let stopped = run < buf.len() || buf.is_empty();
                    self.source.consume(run);
                    self.check_length(record, column)?;
                    if stopped {
                        break;
                    }
                }
                if self.peek()? == Some(b'"') {
                    return Err(self.syntax(
                        record,
                        self.line,
                        column,
                        "a quote only around a whole field (write \"\" for a quote inside a quoted field)",
                    ));
                }
            }
            record.ends.push(record.data.len());
            match self.peek()? {
                Some(b) if b == delimiter => self.bump(),
                Some(b'\n') => {
                    self.bump();
                    self.line += 1;
                    break;
                }
                Some(b'\r') => {
                    self.bump();
                    if self.peek()? == Some(b'\n') {
                        self.bump();
                        self.line += 1;
                        break;
                    }
                    return Err(ReadError::Syntax(SyntaxError {
                        line: self.line,
                        column,
                        expected: "a line ending of LF or CRLF, not a bare CR",
                        near: Vec::new(),
                    }));
                }
                _ => break,
            }
        }
        Ok(true)
    }

    fn check_length(&self, record: &Record, column: usize) -> Result<(), ReadError> {
        if record.data.len() > MAX_RECORD_BYTES {
            return Err(self.syntax(
                record,
                record.line,
                column,
                "a record of at most 1 MiB (a missing line break or an unclosed quote?)",
            ));
        }
        Ok(())
    }

    fn syntax(
        &self,
        record: &Record,
        line: usize,
        column: usize,
        expected: &'static str,
    ) -> ReadError {
        ReadError::Syntax(SyntaxError {
            line,
            column,
            expected,
            near: record.near(),
        })
    }
}

/// Split `bytes` into records (the whole input in memory: for tests and small inputs).
pub fn read_records(bytes: &[u8], delimiter: u8) -> Result<Vec<RawRecord>, SyntaxError> {
    let mut reader = Reader::new(bytes, delimiter);
    let mut record = Record::default();
    let mut records = Vec::new();
    loop {
        match reader.next_record(&mut record) {
            Ok(true) => records.push(RawRecord {
                line: record.line,
                fields: (0..record.len())
                    .map(|i| record.field(i).to_vec())
                    .collect(),
            }),
            Ok(false) => return Ok(records),
            Err(ReadError::Syntax(e)) => return Err(e),
            Err(ReadError::Io(e)) => unreachable!("reading from memory: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(records: &[RawRecord]) -> Vec<Vec<String>> {
        records
            .iter()
            .map(|r| {
                r.fields
                    .iter()
                    .map(|f| String::from_utf8(f.clone()).unwrap())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn reads_quoted_fields_with_delimiters_quotes_and_newlines() {
        let records =
            read_records(b"a,b\r\n\"x, y\",\"say \"\"hi\"\"\nthere\"\n3,\n", b',').unwrap();
        assert_eq!(
            fields(&records),
            vec![
                vec!["a", "b"],
                vec!["x, y", "say \"hi\"\nthere"],
                vec!["3", ""]
            ]
        );
        assert_eq!(
            records.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![1, 2, 4]
        );
    }

    #[test]
    fn unclosed_quote_names_the_line_it_opened_on() {
        let err = read_records(b"a,b\n1,\"open\n2,3\n", b',').unwrap_err();
        assert_eq!((err.line, err.column), (2, 2));
    }

    #[test]
    fn stray_quote_in_unquoted_field_is_an_error() {
        let err = read_records(b"a,b\n1,x\"y\n", b',').unwrap_err();
        assert_eq!((err.line, err.column), (2, 2));
    }

    #[test]
    fn text_after_closing_quote_is_an_error() {
        let err = read_records(b"a,b\n\"x\"y,1\n", b',').unwrap_err();
        assert_eq!((err.line, err.column), (2, 1));
    }

    #[test]
    fn bom_is_stripped_once() {
        assert_eq!(strip_bom(b"\xEF\xBB\xBFa"), b"a");
        assert_eq!(strip_bom(b"a"), b"a");
    }

    #[test]
    fn a_bare_cr_is_an_error() {
        let err = read_records(b"a,b\r1,2\n", b',').unwrap_err();
        assert_eq!(err.line, 1);
    }

    #[test]
    fn a_record_longer_than_the_limit_is_refused_at_its_line() {
        let mut input = b"a,b\n1,2\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 10));
        let err = read_records(&input, b',').unwrap_err();
        assert_eq!((err.line, err.column), (3, 1));
        assert!(err.expected.contains("1 MiB"));
        assert!(err.near.len() <= 80);

        let mut quoted = b"a,b\n\"".to_vec();
        quoted.extend(std::iter::repeat_n(b'\n', MAX_RECORD_BYTES + 10));
        let err = read_records(&quoted, b',').unwrap_err();
        assert_eq!(err.line, 2);
    }

    #[test]
    fn blank_lines_are_records_of_one_empty_field() {
        let records = read_records(b"a,b\n\n\r\n1,2", b',').unwrap();
        assert_eq!(
            fields(&records),
            vec![vec!["a", "b"], vec![""], vec![""], vec!["1", "2"]]
        );
    }

    #[test]
    fn reads_through_a_tiny_buffer_like_through_memory() {
        let input: &[u8] =
            b"\xEF\xBB\xBFid,text\r\n1,\"a \"\"quoted\"\"\nvalue, with comma\"\n2,plain\n";
        let mut reader = Reader::new(std::io::BufReader::with_capacity(1, input), b',');
        let mut record = Record::default();
        let mut seen = Vec::new();
        while reader.next_record(&mut record).unwrap() {
            seen.push(
                (0..record.len())
                    .map(|i| String::from_utf8(record.field(i).to_vec()).unwrap())
                    .collect::<Vec<_>>(),
            );
        }
        assert_eq!(fields(&read_records(input, b',').unwrap()), seen);
        assert_eq!(seen[1][1], "a \"quoted\"\nvalue, with comma");
    }
}
