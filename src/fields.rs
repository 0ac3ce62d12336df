//! Field selection (`fields=id,period_start,value`, issue #14): a subset of a table's
//! columns, in the order asked for, for REST JSON and CSV alike.
//!
//! The allow-list is the table's CSV header (`CsvRecord::HEADER`, which `src/tables.rs`
//! publishes as the table's columns): one declaration, no second list. A row is written
//! once through the [`Cells`] trait into a buffer of typed cells, and the chosen cells are
//! then written out as CSV cells or as JSON values, so both formats carry the same values
//! in the same order.
//!
//! Disclosure: a suppressed figure's `value` is empty (null in JSON), never 0. So that an
//! empty value is never read as a missing or zero figure, asking for `value` without
//! `suppressed` adds the `suppressed` column right after `value`.

use std::marker::PhantomData;

use chrono::NaiveDate;
use serde::ser::{Serialize, SerializeMap, Serializer};
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};

use crate::csv::{BOM, Cells, CsvOut, CsvRecord};
use crate::error::{ApiError, echo};

/// The name of the parameter.
pub const PARAMETER: &str = "fields";

/// The column that always travels with `value` (see the module documentation).
const VALUE: &str = "value";
const MARKER: &str = "suppressed";

/// Chosen columns of one table, in output order: indexes into its CSV header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    header: &'static [&'static str],
    chosen: Vec<usize>,
}

impl Fields {
    /// Parse `id,period_start,value` against `T`'s columns. An empty, unknown or repeated
    /// field is a 400 naming `fields`. `value` brings `suppressed` right after it when
    /// `suppressed` is not asked for.
    pub fn parse<T: CsvRecord>(text: &str) -> Result<Fields, ApiError> {
        let header = T::HEADER;
        crate::query::check_text(PARAMETER, text)?;
        let mut chosen: Vec<usize> = Vec::new();
        for name in text.split(',') {
            if name.is_empty() {
                return Err(ApiError::invalid(
                    PARAMETER,
                    "fields has an empty field name; separate field names with single commas",
                ));
            }
            let Some(index) = header.iter().position(|h| *h == name) else {
                return Err(ApiError::invalid(
                    PARAMETER,
                    format!(
                        "fields: no field {:?}; fields: {}",
                        echo(name),
                        header.join(", ")
                    ),
                ));
            };
            if chosen.contains(&index) {
                return Err(ApiError::invalid(
                    PARAMETER,
                    format!("fields names {:?} more than once", echo(name)),
                ));
            }
            chosen.push(index);
        }
        let position = |name: &str| header.iter().position(|h| *h == name);
        if let (Some(value), Some(marker)) = (position(VALUE), position(MARKER))
            && !chosen.contains(&marker)
            && let Some(at) = chosen.iter().position(|i| *i == value)
        {
            chosen.insert(at + 1, marker);
        }
        Ok(Fields { header, chosen })
    }

    /// The chosen column names, in order (the CSV header and the JSON keys).
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.chosen.iter().map(|i| self.header[*i])
    }

    /// The rows as CSV: a header of the chosen names, then the chosen cells of each row.
    pub fn render_csv<T: CsvRecord>(&self, rows: &[T], bom: bool) -> Vec<u8> {
        let mut out = CsvOut::new();
        out.header(&self.names().collect::<Vec<_>>());
        let mut row_cells = Buffer::default();
        for row in rows {
            row_cells.fill(row);
            for index in &self.chosen {
                row_cells.cells[*index].write(&mut out);
            }
            out.end_record();
        }
        let body = out.take();
        if bom { [BOM, &body].concat() } else { body }
    }

    /// The rows as JSON objects holding the chosen keys, in order.
    pub fn json_rows<T: CsvRecord>(&self, rows: &[T]) -> Vec<Selected> {
        rows.iter().map(|row| self.json_row(row)).collect()
    }

    /// One row as a JSON object holding the chosen keys, in order.
    pub fn json_row<T: CsvRecord>(&self, row: &T) -> Selected {
        let mut row_cells = Buffer::default();
        row_cells.fill(row);
        Selected(
            self.chosen
                .iter()
                .map(|i| (self.header[*i], row_cells.cells[*i].to_json()))
                .collect(),
        )
    }
}

/// A row reduced to the chosen fields: a JSON object whose keys keep the requested order.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected(Vec<(&'static str, serde_json::Value)>);

impl Serialize for Selected {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// One typed cell, as a row writes it.
#[derive(Debug, Clone)]
enum Cell {
    Text(String),
    Absent,
    Number(Option<i64>),
    Boolean(bool),
    Date(Option<NaiveDate>),
}

impl Cell {
    fn write<C: Cells>(&self, out: &mut C) {
        match self {
            Cell::Text(text) => out.text(text),
            Cell::Absent => out.opt_text(None),
            Cell::Number(number) => out.number(*number),
            Cell::Boolean(boolean) => out.boolean(*boolean),
            Cell::Date(date) => out.date(*date),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Cell::Text(text) => Value::String(text.clone()),
            Cell::Absent | Cell::Number(None) | Cell::Date(None) => Value::Null,
            Cell::Number(Some(number)) => Value::from(*number),
            Cell::Boolean(boolean) => Value::Bool(*boolean),
            Cell::Date(Some(date)) => Value::String(date.format("%Y-%m-%d").to_string()),
        }
    }
}

/// The cells of one row.
#[derive(Default)]
struct Buffer {
    cells: Vec<Cell>,
}

impl Buffer {
    fn fill<T: CsvRecord>(&mut self, row: &T) {
        self.cells.clear();
        row.write(self);
        debug_assert_eq!(self.cells.len(), T::HEADER.len(), "a row has every column");
    }
}

impl Cells for Buffer {
    fn text(&mut self, value: &str) {
        self.cells.push(Cell::Text(value.to_owned()));
    }
    fn opt_text(&mut self, value: Option<&str>) {
        self.cells.push(match value {
            Some(text) => Cell::Text(text.to_owned()),
            None => Cell::Absent,
        });
    }
    fn number(&mut self, value: Option<i64>) {
        self.cells.push(Cell::Number(value));
    }
    fn boolean(&mut self, value: bool) {
        self.cells.push(Cell::Boolean(value));
    }
    fn date(&mut self, value: Option<NaiveDate>) {
        self.cells.push(Cell::Date(value));
    }
    fn end_record(&mut self) {}
}

/// The `fields` parameter of `T`'s collection and items, documented from `T`'s columns
/// (the allow-list itself), for OpenAPI.
pub struct FieldsParams<T>(PhantomData<T>);

impl<T: CsvRecord> IntoParams for FieldsParams<T> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let names = T::HEADER.join("|");
        let example: Vec<&str> = T::HEADER.iter().take(3).copied().collect();
        let example = if T::HEADER.contains(&VALUE) {
            format!("{},period_start,{VALUE}", T::HEADER[0])
        } else {
            example.join(",")
        };
        vec![
            ParameterBuilder::new()
                .name(PARAMETER)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(format!(
                    "Only these fields, in this order (comma-separated, each once): {}. \
                     In CSV they are the columns; in JSON each row is a flat object with these keys \
                     (the CSV's columns, so a source is `source_id`, `source_title`, `source_url`). \
                     Asking for `value` without `suppressed` adds `suppressed` right after it, so a \
                     suppressed figure (empty value) can never pass for a published one. \
                     Default: every field. (GraphQL selects fields natively.)",
                    T::HEADER
                        .iter()
                        .map(|h| format!("`{h}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(format!("^({names})(,({names}))*$"))),
                ))
                .example(Some(example.into()))
                .build(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Metric;

    fn metric() -> Metric {
        Metric {
            id: "cards_issued".into(),
            name: "=Cards".into(),
            description: "Cards issued".into(),
            unit: "cards".into(),
        }
    }

    #[test]
    fn fields_keep_the_requested_order_in_csv_and_json() {
        let fields = Fields::parse::<Metric>("unit,id").unwrap();
        assert_eq!(fields.names().collect::<Vec<_>>(), ["unit", "id"]);
        assert_eq!(
            fields.render_csv(&[metric()], false),
            b"unit,id\r\ncards,cards_issued\r\n"
        );
        assert_eq!(
            serde_json::to_string(&fields.json_rows(&[metric()])).unwrap(),
            r#"[{"unit":"cards","id":"cards_issued"}]"#
        );
        let guarded = Fields::parse::<Metric>("name").unwrap();
        assert_eq!(
            guarded.render_csv(&[metric()], false),
            b"name\r\n'=Cards\r\n"
        );
    }

    #[test]
    fn empty_unknown_and_repeated_fields_are_refused_naming_fields() {
        for bad in ["", "id,", ",id", "id,,name", "position", "id,id", "ID"] {
            let error = Fields::parse::<Metric>(bad).unwrap_err();
            assert_eq!(error.parameter(), Some(PARAMETER), "{bad:?}");
            assert_eq!(error.status(), 400);
        }
    }

    #[test]
    fn value_brings_the_suppression_marker() {
        use crate::model::Statistic;
        let fields = Fields::parse::<Statistic>("id,value,period_start").unwrap();
        assert_eq!(
            fields.names().collect::<Vec<_>>(),
            ["id", "value", "suppressed", "period_start"]
        );
        let asked = Fields::parse::<Statistic>("suppressed,id,value").unwrap();
        assert_eq!(
            asked.names().collect::<Vec<_>>(),
            ["suppressed", "id", "value"]
        );
    }
}
