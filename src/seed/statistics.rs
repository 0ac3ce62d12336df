//! The statistics checks: the statistics' own rules, their families, and disclosure
//! control applied family by family.

use super::*;

/// Check the statistics' own rules, group them into families, and apply disclosure
/// control. Returns the protected rows in canonical order.
///
/// Families are found by sorting row numbers, not by building maps of rows: the
/// statistics table may hold millions of rows, and only one family's values are
/// materialised at a time.
#[tracing::instrument(skip_all, fields(rows = read.len()))]
pub(super) fn protect_statistics(
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
