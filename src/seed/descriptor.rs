//! The descriptor stage: read `datapackage.json` and check its resources against the
//! table catalogue (`src/tables.rs`).

use super::*;

/// The descriptor every bundle must have.
pub const DESCRIPTOR: &str = "datapackage.json";

/// What the descriptor says about one resource.
pub(super) struct Resource {
    pub(super) path: String,
    pub(super) delimiter: u8,
}

/// Locate the first occurrence of `needle` in the descriptor for a line and column.
pub(super) fn locate(text: &str, needle: &str) -> (usize, usize) {
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
#[tracing::instrument(skip_all)]
pub(super) fn read_descriptor(
    bytes: &[u8],
    problems: &mut Problems,
) -> Option<(String, HashMap<&'static str, Resource>, Dimensions)> {
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
    let dimensions = read_dimensions(&json, text, problems);
    if problems.is_empty() {
        Some((title, resources, dimensions))
    } else {
        None
    }
}
