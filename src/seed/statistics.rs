//! The statistics checks: the statistics' own rules (including the declared dimensions and
//! categories), one row per cell, then disclosure control applied to each (program,
//! metric) as one linked system (`system.rs`).

use super::*;

/// Check the statistics' own rules, group them by (program, metric), and apply disclosure
/// control. Returns the protected rows in canonical order.
///
/// Groups are found by sorting row numbers, not by building maps of rows: the statistics
/// table may hold millions of rows, and only one (program, metric)'s values are
/// materialised at a time.
#[tracing::instrument(skip_all, fields(rows = read.len()))]
pub(super) fn protect_statistics(
    policy: Policy,
    dimensions: &Dimensions,
    earlier: &Earlier,
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

    // Declared dimensions and categories by string index: a few entries, not one per row.
    let dimension_ids: Vec<u32> = {
        let mut of = vec![NO_DIMENSION; t.strings.ends.len()];
        for (d, declared) in dimensions.list.iter().enumerate() {
            if let Some(id) = t.strings.find(&declared.name) {
                of[id as usize] = d as u32;
            }
        }
        of
    };
    let category_ids: HashMap<(u32, u32), u32> = dimensions
        .list
        .iter()
        .enumerate()
        .flat_map(|(d, declared)| {
            declared
                .categories
                .iter()
                .enumerate()
                .filter_map(move |(c, label)| {
                    t.strings.find(label).map(|id| ((d as u32, id), c as u32))
                })
        })
        .collect();
    let dimension_of = |row: usize| match t.cell_at(row, dimension) {
        NULL => None,
        id => Some(dimension_ids[id as usize])
            .filter(|&d| d != NO_DIMENSION)
            .map(|d| d as usize),
    };
    let category_of = |d: usize, row: usize| {
        category_ids
            .get(&(d as u32, t.cell_at(row, category) as u32))
            .map(|&c| c as usize)
    };

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
        if dimension_text != "total" {
            let Some(d) = dimension_of(row) else {
                let expected = match dimensions.crossing(dimension_text) {
                    Some((a, b)) => crossing_expected(a, b),
                    None if dimensions.list.is_empty() => format!(
                        "total (no dimension is declared: a breakdown's dimension and its \
                         categories are declared in datapackage.json under {DIMENSIONS_PROPERTY})"
                    ),
                    None => format!(
                        "a dimension declared in datapackage.json under {DIMENSIONS_PROPERTY} \
                         (declared: {})",
                        listed(dimensions.list.iter().map(|d| d.name.as_str()))
                    ),
                };
                problem(
                    problems,
                    row,
                    "dimension",
                    dimension_text.to_owned(),
                    expected,
                );
                continue;
            };
            if category_of(d, row).is_none() {
                let declared = &dimensions.list[d];
                problem(
                    problems,
                    row,
                    "category",
                    category_text.to_owned(),
                    format!(
                        "a declared category of dimension {} ({})",
                        declared.name,
                        listed(declared.categories.iter().map(String::as_str))
                    ),
                );
                continue;
            }
        }
        rows.push(row as u32);
    }

    // Cell order: (program, metric, period_start, period_end, dimension, category), then
    // file order. Ranks compare like the strings they stand for.
    let ranks = t.strings.ranks();
    let rank = |row: u32, field: usize| match t.cell_at(row as usize, field) {
        NULL => 0,
        id => ranks[id as usize],
    };
    let key = |row: u32| {
        (
            rank(row, program),
            rank(row, metric),
            t.cell_at(row as usize, start),
            t.cell_at(row as usize, end),
            rank(row, dimension),
            rank(row, category),
        )
    };
    rows.sort_unstable_by_key(|&row| (key(row), row));

    // One row per cell: a later row with the same key is refused.
    let mut duplicates: Vec<(u32, usize)> = Vec::new();
    let mut keep = vec![true; rows.len()];
    let mut first = 0;
    for i in 1..rows.len() {
        if key(rows[i]) == key(rows[first]) {
            duplicates.push((rows[i], t.line(rows[first] as usize)));
            keep[i] = false;
        } else {
            first = i;
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

    // Disclosure control, one (program, metric) at a time.
    let context = system::Context::new(t, dimensions, &ranks, earlier);
    let mut order: Vec<(u32, i64)> = Vec::with_capacity(rows.len());
    let mut begin = 0;
    let metric_of = |row: u32| (rank(row, program), rank(row, metric));
    for i in 1..=rows.len() {
        if i == rows.len() || metric_of(rows[i]) != metric_of(rows[begin]) {
            let group = &rows[begin..i];
            if let Some(published) = context.protect_metric(policy, group, problems) {
                order.extend(group.iter().copied().zip(published));
            }
            begin = i;
        }
    }

    // Canonical order: as above, but each period's total first and ids last.
    let total_rank = |row: u32| t.text(row as usize, "dimension") != "total";
    order.sort_unstable_by_key(|&(row, _)| {
        let (p, m, s, e, d, c) = key(row);
        (p, m, s, e, total_rank(row), d, c, rank(row, id))
    });
    Statistics { read, order }
}

/// No declared dimension has this string's name.
const NO_DIMENSION: u32 = u32::MAX;

/// A list for a message, shortened after 20 names.
pub(super) fn listed<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    let mut text = names
        .iter()
        .take(20)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 20 {
        text.push_str(&format!(", … ({} in all)", names.len()));
    }
    text
}
