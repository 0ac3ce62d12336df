//! CSV writing for downloads: RFC 4180 with a header row, an optional UTF-8 BOM for
//! Excel, and a guard against formula injection on text cells. Numbers and dates are
//! written without allocating per cell; only a guarded text cell allocates.

use chrono::NaiveDate;

use crate::model::{Document, Event, Metric, Program, Release, Source, Statistic};

/// The media type of every CSV response.
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8; header=present";
/// The UTF-8 byte order mark that makes Excel read UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CSV writer over a byte buffer, with typed cell writers.
pub struct CsvOut {
    writer: ::csv::Writer<Vec<u8>>,
}

impl Default for CsvOut {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvOut {
    pub fn new() -> Self {
        CsvOut {
            writer: Self::writer(),
        }
    }

    fn writer() -> ::csv::Writer<Vec<u8>> {
        ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .from_writer(Vec::with_capacity(8 * 1024))
    }

    pub fn header(&mut self, columns: &[&str]) {
        self.writer
            .write_record(columns)
            .expect("writing to a Vec cannot fail");
    }

    /// The bytes written so far; the writer starts empty again.
    pub fn take(&mut self) -> Vec<u8> {
        let writer = std::mem::replace(&mut self.writer, Self::writer());
        writer.into_inner().expect("flushing a Vec cannot fail")
    }
}

/// Where a row's typed cells go: a CSV line ([`CsvOut`]) or a spreadsheet row
/// (`crate::xlsx`). A [`CsvRecord`] writes its row once, through this trait, so both formats
/// have the same columns in the same order.
pub trait Cells {
    /// A text cell.
    fn text(&mut self, value: &str);
    /// A text cell, empty when absent.
    fn opt_text(&mut self, value: Option<&str>) {
        self.text(value.unwrap_or_default());
    }
    /// A whole number, empty when absent (a suppressed value).
    fn number(&mut self, value: Option<i64>);
    /// A boolean.
    fn boolean(&mut self, value: bool);
    /// A calendar date, empty when absent.
    fn date(&mut self, value: Option<NaiveDate>);
    /// The end of a row.
    fn end_record(&mut self);
}

impl Cells for CsvOut {
    /// A text cell. Cells that a spreadsheet would run as a formula (starting with
    /// `=`, `+`, `-`, `@`, tab or carriage return) get a leading apostrophe (OWASP's advice).
    fn text(&mut self, value: &str) {
        let result = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            self.writer.write_field(format!("'{value}"))
        } else {
            self.writer.write_field(value)
        };
        result.expect("writing to a Vec cannot fail");
    }

    /// A number cell: written as digits, never guarded.
    fn number(&mut self, value: Option<i64>) {
        let mut buffer = itoa::Buffer::new();
        let text = value.map(|v| buffer.format(v)).unwrap_or("");
        self.writer
            .write_field(text)
            .expect("writing to a Vec cannot fail");
    }

    fn boolean(&mut self, value: bool) {
        self.writer
            .write_field(if value { "true" } else { "false" })
            .expect("writing to a Vec cannot fail");
    }

    fn date(&mut self, value: Option<NaiveDate>) {
        use chrono::Datelike;
        let Some(date) = value else {
            self.writer
                .write_field("")
                .expect("writing to a Vec cannot fail");
            return;
        };
        let (y, m, d) = (date.year(), date.month(), date.day());
        let mut out = [0u8; 10];
        if (0..=9999).contains(&y) {
            let digits = [y / 1000, y / 100 % 10, y / 10 % 10, y % 10];
            for (slot, digit) in out.iter_mut().zip(digits) {
                *slot = b'0' + digit as u8;
            }
            out[4] = b'-';
            out[5] = b'0' + (m / 10) as u8;
            out[6] = b'0' + (m % 10) as u8;
            out[7] = b'-';
            out[8] = b'0' + (d / 10) as u8;
            out[9] = b'0' + (d % 10) as u8;
            self.writer
                .write_field(out)
                .expect("writing to a Vec cannot fail");
        } else {
            self.writer
                .write_field(date.to_string())
                .expect("writing to a Vec cannot fail");
        }
    }

    fn end_record(&mut self) {
        self.writer
            .write_record(None::<&[u8]>)
            .expect("writing to a Vec cannot fail");
    }
}

/// A type that can be a CSV row (or a spreadsheet row: see [`Cells`]).
pub trait CsvRecord {
    /// Column names, in order.
    const HEADER: &'static [&'static str];
    /// Write one row (without ending the record).
    fn write<C: Cells>(&self, out: &mut C);
}

/// The row count and byte length of a CSV document (header included, no BOM), counted
/// as the rows are written and never kept: what a download of those rows will weigh.
pub struct CsvSize {
    out: CsvOut,
    rows: u64,
    bytes: u64,
}

impl CsvSize {
    /// A document with this header row and no data rows yet.
    pub fn new(header: &[&str]) -> Self {
        let mut out = CsvOut::new();
        out.header(header);
        CsvSize {
            out,
            rows: 0,
            bytes: 0,
        }
    }

    /// Count one more row.
    pub fn add<T: CsvRecord>(&mut self, row: &T) {
        row.write(&mut self.out);
        self.out.end_record();
        self.rows += 1;
        if self.rows.is_multiple_of(1000) {
            self.bytes += self.out.take().len() as u64;
        }
    }

    /// (data rows, bytes).
    pub fn finish(mut self) -> (u64, u64) {
        (self.rows, self.bytes + self.out.take().len() as u64)
    }
}

/// A whole CSV document: optional BOM, header, rows.
pub fn render<T: CsvRecord>(rows: &[T], bom: bool) -> Vec<u8> {
    let mut out = CsvOut::new();
    out.header(T::HEADER);
    for row in rows {
        row.write(&mut out);
        out.end_record();
    }
    let body = out.take();
    if bom { [BOM, &body].concat() } else { body }
}

fn write_source_ref<C: Cells>(out: &mut C, source: &Source) {
    out.text(&source.id);
    out.text(&source.title);
    out.text(&source.url);
}

impl CsvRecord for Statistic {
    const HEADER: &'static [&'static str] = &[
        "id",
        "program",
        "metric",
        "period_start",
        "period_end",
        "period_inferred",
        "basis",
        "dimension",
        "category",
        "value",
        "suppressed",
        "suppression_reason",
        "qualifier",
        "source_wording",
        "unit",
        "status",
        "note",
        "source_id",
        "source_title",
        "source_url",
    ];
    fn write<C: Cells>(&self, out: &mut C) {
        out.text(&self.id);
        out.text(&self.program);
        out.text(&self.metric);
        out.date(Some(self.period_start));
        out.date(Some(self.period_end));
        out.opt_text(self.period_inferred.map(|p| p.as_str()));
        out.opt_text(self.basis.map(|b| b.as_str()));
        out.text(&self.dimension);
        out.text(&self.category);
        out.number(self.value);
        out.boolean(self.suppressed);
        out.opt_text(self.suppression_reason.as_deref());
        out.text(self.qualifier.as_str());
        out.opt_text(self.source_wording.as_deref());
        out.text(&self.unit);
        out.text(self.status.as_str());
        out.opt_text(self.note.as_deref());
        write_source_ref(out, &self.source);
    }
}

impl CsvRecord for Event {
    const HEADER: &'static [&'static str] = &[
        "id",
        "program",
        "date",
        "date_precision",
        "kind",
        "title",
        "description",
        "source_id",
        "source_title",
        "source_url",
    ];
    fn write<C: Cells>(&self, out: &mut C) {
        out.text(&self.id);
        out.text(&self.program);
        out.date(Some(self.date));
        out.text(self.date_precision.as_str());
        out.text(self.kind.as_str());
        out.text(&self.title);
        out.text(&self.description);
        write_source_ref(out, &self.source);
    }
}

impl CsvRecord for Document {
    const HEADER: &'static [&'static str] = &[
        "id",
        "program",
        "title",
        "kind",
        "issuer",
        "published_on",
        "url",
        "summary",
        "source_id",
        "source_title",
        "source_url",
    ];
    fn write<C: Cells>(&self, out: &mut C) {
        out.text(&self.id);
        out.text(&self.program);
        out.text(&self.title);
        out.text(self.kind.as_str());
        out.text(&self.issuer);
        out.date(self.published_on);
        out.text(&self.url);
        out.text(&self.summary);
        write_source_ref(out, &self.source);
    }
}

impl CsvRecord for Program {
    const HEADER: &'static [&'static str] = &[
        "slug",
        "name",
        "jurisdiction",
        "administered_by",
        "launched_on",
        "status",
        "website",
        "description",
        "source_id",
        "source_title",
        "source_url",
    ];
    fn write<C: Cells>(&self, out: &mut C) {
        out.text(&self.slug);
        out.text(&self.name);
        out.text(&self.jurisdiction);
        out.text(&self.administered_by);
        out.date(self.launched_on);
        out.text(self.status.as_str());
        out.opt_text(self.website.as_deref());
        out.text(&self.description);
        write_source_ref(out, &self.source);
    }
}

impl CsvRecord for Source {
    const HEADER: &'static [&'static str] = &[
        "id",
        "title",
        "publisher",
        "url",
        "published_on",
        "retrieved_on",
        "kind",
    ];
    fn write<C: Cells>(&self, out: &mut C) {
        out.text(&self.id);
        out.text(&self.title);
        out.text(&self.publisher);
        out.text(&self.url);
        out.date(self.published_on);
        out.date(self.retrieved_on);
        out.text(self.kind.as_str());
    }
}

impl CsvRecord for Metric {
    const HEADER: &'static [&'static str] = &["id", "name", "description", "unit"];
    fn write<C: Cells>(&self, out: &mut C) {
        out.text(&self.id);
        out.text(&self.name);
        out.text(&self.description);
        out.text(&self.unit);
    }
}

impl CsvRecord for Release {
    const HEADER: &'static [&'static str] = &[
        "id",
        "short_id",
        "seq",
        "date",
        "imported_at",
        "title",
        "min_cell",
    ];
    fn write<C: Cells>(&self, out: &mut C) {
        out.text(&self.id);
        out.text(&self.short_id);
        out.number(Some(i64::from(self.seq)));
        out.date(Some(self.date));
        out.text(
            &self
                .imported_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
        out.text(&self.title);
        out.number(Some(self.disclosure.min_cell));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_guarded_and_numbers_are_not() {
        let mut out = CsvOut::new();
        out.text("=HYPERLINK(\"x\")");
        out.text("+1");
        out.text("-2");
        out.text("@SUM");
        out.text("\tx");
        out.text("plain");
        out.number(Some(-5));
        out.number(None);
        out.end_record();
        let text = String::from_utf8(out.take()).unwrap();
        assert_eq!(
            text,
            "\"'=HYPERLINK(\"\"x\"\")\",'+1,'-2,'@SUM,'\tx,plain,-5,\r\n"
        );
    }

    #[test]
    fn dates_are_iso_8601() {
        let mut out = CsvOut::new();
        out.date(NaiveDate::from_ymd_opt(2025, 6, 3));
        out.date(None);
        out.end_record();
        assert_eq!(out.take(), b"2025-06-03,\r\n");
    }

    #[test]
    fn sizes_are_the_length_of_the_rendered_document() {
        let metric = |i: usize| Metric {
            id: format!("m{i}"),
            name: "=quoted, \"name\"".into(),
            description: "ünïcode".into(),
            unit: "people".into(),
        };
        let rows: Vec<Metric> = (0..2500).map(metric).collect();
        let mut size = CsvSize::new(Metric::HEADER);
        for row in &rows {
            size.add(row);
        }
        assert_eq!(size.finish(), (2500, render(&rows, false).len() as u64));
    }

    #[test]
    fn bom_prefixes_the_document_when_asked() {
        let rows: Vec<Metric> = vec![];
        assert!(render(&rows, true).starts_with(BOM));
        assert_eq!(render(&rows, false), b"id,name,description,unit\r\n");
    }
}
