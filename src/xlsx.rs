//! Excel downloads: a table of a release as an `.xlsx` workbook, with the same rows and
//! columns as its CSV download (rows are written through the same [`Cells`] trait).
//!
//! Numbers are number cells, dates are date cells (`yyyy-mm-dd`), booleans are `TRUE` and
//! `FALSE`; a suppressed value is an **empty** cell next to `suppressed = TRUE`, never 0.
//! Text is written as text cells, which a spreadsheet never runs as a formula, so it needs
//! no apostrophe guard (unlike the CSV). The header row is bold and frozen; column widths
//! are set by column, not measured, so rows stream straight to disk (the sheet is written
//! in rust_xlsxwriter's constant-memory mode). A second sheet, `About`, names the release,
//! the disclosure policy, the licence and how to cite.

use chrono::NaiveDate;
use rust_xlsxwriter::{DocProperties, Format, Workbook, Worksheet, XlsxError};

use crate::csv::Cells;
use crate::model::Release;
use crate::tables::Table;

/// The media type of an Excel workbook.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Rows an Excel sheet holds, the header included.
pub const MAX_SHEET_ROWS: u64 = 1_048_576;

/// The licence of the compilation, as the catalogs state it.
pub const LICENCE: &str = "CC-BY-4.0 (Creative Commons Attribution 4.0, \
https://creativecommons.org/licenses/by/4.0/) for the compilation; each source keeps its own terms";

/// A workbook being written: the data sheet first, then [`SheetWriter::finish`] adds the
/// `About` sheet.
pub struct SheetWriter {
    workbook: Workbook,
    date: Format,
    row: u32,
    col: u16,
    error: Option<XlsxError>,
}

impl SheetWriter {
    /// A workbook whose first sheet, named after `table`, has the bold frozen header. The
    /// sheet's rows go to a temporary file in `temp_dir` as they are written. The document's
    /// creation time is the release's import time, so every instance writes the same bytes.
    pub fn new(
        table: &Table,
        release: &Release,
        temp_dir: &std::path::Path,
    ) -> Result<Self, XlsxError> {
        let mut workbook = Workbook::new();
        workbook.set_tempdir(temp_dir)?;
        workbook.set_properties(
            &DocProperties::new()
                .set_title(format!("sanctuary-data: {}", table.name))
                .set_author("sanctuary-data")
                .set_comment(format!("Release {}", release.id))
                .set_creation_datetime(&release.imported_at),
        );
        let bold = Format::new().set_bold();
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(table.name)?;
        for (col, name) in table.csv_header.iter().enumerate() {
            sheet.set_column_width(col as u16, column_width(name))?;
            sheet.write_string_with_format(0, col as u16, *name, &bold)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(SheetWriter {
            workbook,
            date: Format::new().set_num_format("yyyy-mm-dd"),
            row: 1,
            col: 0,
            error: None,
        })
    }

    fn cell(
        &mut self,
        write: impl FnOnce(&mut Worksheet, u32, u16, &Format) -> Result<(), XlsxError>,
    ) {
        if self.error.is_none() {
            let sheet = self
                .workbook
                .worksheets_mut()
                .first_mut()
                .expect("the data sheet is added first");
            if let Err(error) = write(sheet, self.row, self.col, &self.date) {
                self.error = Some(error);
            }
        }
        self.col += 1;
    }

    /// Data rows written so far.
    pub fn rows(&self) -> u64 {
        u64::from(self.row) - 1
    }

    /// The first error a cell write met, if any.
    pub fn check(&mut self) -> Result<(), XlsxError> {
        self.error.take().map_or(Ok(()), Err)
    }

    /// Add the `About` sheet and write the workbook to `path`.
    pub fn finish(
        mut self,
        table: &Table,
        release: &Release,
        path: &std::path::Path,
    ) -> Result<(), XlsxError> {
        self.check()?;
        let rows = self.rows();
        let bold = Format::new()
            .set_bold()
            .set_align(rust_xlsxwriter::FormatAlign::Top);
        let wrap = Format::new()
            .set_text_wrap()
            .set_align(rust_xlsxwriter::FormatAlign::Top);
        let about = self.workbook.add_worksheet();
        about.set_name("About")?;
        about.set_column_width(0, 22)?;
        about.set_column_width(1, 100)?;
        for (row, (label, value)) in about_rows(table, release, rows).iter().enumerate() {
            about.write_string_with_format(row as u32, 0, *label, &bold)?;
            about.write_string_with_format(row as u32, 1, value, &wrap)?;
        }
        self.workbook.save(path)
    }
}

/// What the `About` sheet says: (label, text).
pub fn about_rows(table: &Table, release: &Release, rows: u64) -> Vec<(&'static str, String)> {
    let imported = release.imported_at.format("%Y-%m-%d").to_string();
    vec![
        ("Dataset", format!("sanctuary-data: {}", table.name)),
        ("Contents", table.description.to_owned()),
        ("Rows", rows.to_string()),
        ("Release", release.id.clone()),
        ("Release number", release.seq.to_string()),
        (
            "Imported at",
            release
                .imported_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
        ("Release title", release.title.clone()),
        (
            "Disclosure control",
            format!(
                "No individual records. Breakdown cells with 1 <= value < {k} are suppressed \
                 (the rule of {k}; method: {method}). A suppressed value is an empty cell with \
                 suppressed = TRUE and suppression_reason = {reason}, never 0.",
                k = release.disclosure.min_cell,
                method = release.disclosure.method,
                reason = release.disclosure.suppression_reason,
            ),
        ),
        ("Licence", LICENCE.to_owned()),
        (
            "How to cite",
            format!(
                "sanctuary-data, table \"{}\", release {} (#{}, imported {imported}), \
                 /downloads/{}.xlsx?release={}. Cite each figure's own source too \
                 (source_title, source_url).",
                table.name, release.id, release.seq, table.name, release.id
            ),
        ),
        (
            "Same data as",
            format!(
                "/downloads/{}.csv?release={} (the CSV download: same rows, same columns)",
                table.name, release.id
            ),
        ),
    ]
}

/// The width of a column, in characters, from what it holds.
fn column_width(name: &str) -> f64 {
    match name {
        "description" | "summary" | "note" | "source_wording" => 60.0,
        "title" | "source_title" | "name" | "url" | "source_url" | "website" => 40.0,
        "period_start" | "period_end" | "date" | "published_on" | "retrieved_on"
        | "launched_on" => 12.0,
        _ => (name.len() as f64 + 2.0).max(12.0),
    }
}

impl Cells for SheetWriter {
    fn text(&mut self, value: &str) {
        if value.is_empty() {
            self.col += 1;
        } else {
            self.cell(|sheet, row, col, _| sheet.write_string(row, col, value).map(drop));
        }
    }

    fn number(&mut self, value: Option<i64>) {
        match value {
            // Counts are far below 2^53, so an Excel number holds them exactly.
            Some(value) => {
                self.cell(|sheet, row, col, _| sheet.write_number(row, col, value as f64).map(drop))
            }
            None => self.col += 1,
        }
    }

    fn boolean(&mut self, value: bool) {
        self.cell(|sheet, row, col, _| sheet.write_boolean(row, col, value).map(drop));
    }

    fn date(&mut self, value: Option<NaiveDate>) {
        match value {
            Some(date) => self.cell(|sheet, row, col, format| {
                sheet
                    .write_date_with_format(row, col, date, format)
                    .map(drop)
            }),
            None => self.col += 1,
        }
    }

    fn end_record(&mut self) {
        self.row += 1;
        self.col = 0;
    }
}
