//! A strict RFC 4180 reader for import files.
//!
//! Why not the `csv` crate for reading: it is deliberately lenient — an unclosed quote
//! silently swallows the rest of the file and a stray quote inside an unquoted field is
//! kept as data. An importer that must reject bad input with a line and a column needs
//! the strict reading, so the grammar is spelt out here (the `csv` crate still writes
//! every CSV we serve).

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
    /// The text of the field read so far (for the message).
    pub near: Vec<u8>,
}

/// Strip a leading UTF-8 byte order mark, which spreadsheet programs like to add.
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Split `bytes` into records. Line endings may be CRLF or LF; a final line ending is
/// optional. Quoted fields may contain delimiters, line breaks and doubled quotes.
pub fn read_records(bytes: &[u8], delimiter: u8) -> Result<Vec<RawRecord>, SyntaxError> {
    let mut records = Vec::new();
    let mut pos = 0;
    let mut line = 1;
    while pos < bytes.len() {
        let record_line = line;
        let mut fields = Vec::new();
        loop {
            let column = fields.len() + 1;
            let mut field = Vec::new();
            if bytes.get(pos) == Some(&b'"') {
                let quote_line = line;
                pos += 1;
                loop {
                    match bytes.get(pos) {
                        None => {
                            return Err(SyntaxError {
                                line: quote_line,
                                column,
                                expected: "a closing quote before the end of the file",
                                near: field,
                            });
                        }
                        Some(b'"') if bytes.get(pos + 1) == Some(&b'"') => {
                            field.push(b'"');
                            pos += 2;
                        }
                        Some(b'"') => {
                            pos += 1;
                            break;
                        }
                        Some(&b) => {
                            if b == b'\n' {
                                line += 1;
                            }
                            field.push(b);
                            pos += 1;
                        }
                    }
                }
                if !matches!(bytes.get(pos), None | Some(b'\n' | b'\r')) && bytes[pos] != delimiter
                {
                    return Err(SyntaxError {
                        line,
                        column,
                        expected: "a delimiter or the end of the line after a closing quote",
                        near: field,
                    });
                }
            } else {
                while let Some(&b) = bytes.get(pos) {
                    if b == delimiter || b == b'\n' || b == b'\r' {
                        break;
                    }
                    if b == b'"' {
                        return Err(SyntaxError {
                            line,
                            column,
                            expected: "a quote only around a whole field (write \"\" for a quote inside a quoted field)",
                            near: field,
                        });
                    }
                    field.push(b);
                    pos += 1;
                }
            }
            fields.push(field);
            match bytes.get(pos) {
                Some(&b) if b == delimiter => pos += 1,
                Some(b'\r') if bytes.get(pos + 1) == Some(&b'\n') => {
                    pos += 2;
                    line += 1;
                    break;
                }
                Some(b'\n') => {
                    pos += 1;
                    line += 1;
                    break;
                }
                Some(b'\r') => {
                    return Err(SyntaxError {
                        line,
                        column,
                        expected: "a line ending of LF or CRLF, not a bare CR",
                        near: Vec::new(),
                    });
                }
                _ => break,
            }
        }
        records.push(RawRecord {
            line: record_line,
            fields,
        });
    }
    Ok(records)
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
}
