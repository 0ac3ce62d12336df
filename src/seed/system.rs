//! One linked system per (program, metric): every statistics row of the release, every
//! additive link between them, and what earlier releases already published, handed to
//! [`disclosure::linked::protect`] as one [`System`].
//!
//! The links written down (each an [`Equation`]):
//!
//! - **Breakdowns.** In each period, a declared dimension's categories add up to the
//!   period's total row; without a total row, to a [`Role::Fact`] holding their sum
//!   (breakdowns without a total are protected as if their total were public, which it
//!   is as soon as it is published anywhere).
//! - **Hierarchies.** When a dimension's declared parent (or a further ancestor) is
//!   published in the same period, the child categories of each parent category add up to
//!   that parent category's cell instead (the parent's own breakdown then links it to the
//!   total).
//! - **Time.** Counts (`in_period` and `cumulative`, both counts over `[period_start,
//!   period_end]`): a period exactly tiled by other periods of the same dimension
//!   (contiguous, no gap, no overlap) equals their sum, category by category. Periods
//!   linked by a tiling must carry the same dimensions. In a metric with breakdowns,
//!   periods that overlap without nesting, a period that contains others without being
//!   tiled by them, mixed bases and cumulative breakdowns over several periods are
//!   refused. Levels (`point_in_time`) at one date from two starts are refused. After
//!   protection, overlapping periods (across releases too) that no modelled tiling links
//!   are refused when either hides a figure (`overlaps.rs`), and so are earlier breakdowns
//!   of one hierarchy that this release does not link (`overlaps::other_breakdowns`) and small
//!   counts published by subtraction (`gaps.rs`).
//! - **Earlier releases** (see [`Earlier`]): frozen statuses (hidden stays hidden,
//!   published stays published) and every earlier hidden group's residual as a fact.
//!
//! The system is built from the rows in their sorted order (period, dimension, category),
//! so a cell is found by arithmetic on a few per-breakdown offsets, not by a map of rows.
//!
//! Longer than most files: building one metric's system (its checks, equations and the
//! messages naming what is refused) is one pass over shared per-segment state; the checks
//! that stand alone live beside it (`earlier.rs`, `overlaps.rs`).

use super::*;
use crate::disclosure::linked::{Cell, Equation, LinkedError, Role, System};

/// What the importer knows to build systems: the table, the declarations, string ranks.
pub(super) struct Context<'a> {
    t: &'a ReadTable,
    dimensions: &'a Dimensions,
    earlier: &'a Earlier,
    /// String index -> declared dimension (`u32::MAX`: none).
    dimension_of: Vec<u32>,
    /// Per declared dimension and category: its position in a breakdown sorted by label.
    position: Vec<Vec<usize>>,
    fields: Fields,
}

#[derive(Clone, Copy)]
struct Fields {
    start: usize,
    end: usize,
    dimension: usize,
    basis: usize,
}

/// The rows of one (period, dimension) of a metric: `len` consecutive rows from `begin`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    start: u64,
    end: u64,
    /// Declared dimension, or `None` for the total.
    dimension: Option<usize>,
    /// First cell of the segment (row position within the metric, or a fact's cell).
    begin: usize,
    /// Whether the segment counts over its period (`in_period` or `cumulative`: tilings
    /// apply), rather than a level at its end (`point_in_time`).
    in_period: bool,
    /// A row of the segment (or of its period, for a fact), for messages.
    row: u32,
}

/// What each equation is, for messages: a row of the group it links, and how.
#[derive(Debug, Clone, Copy)]
enum Link {
    /// A breakdown to its total, or to its (nearest published) ancestor.
    Breakdown { row: u32, ancestor: Option<usize> },
    /// A period to the periods tiling it.
    Time { row: u32 },
    /// An earlier release's hidden group.
    Earlier { row: u32 },
}

impl<'a> Context<'a> {
    pub(super) fn new(
        t: &'a ReadTable,
        dimensions: &'a Dimensions,
        ranks: &[u32],
        earlier: &'a Earlier,
    ) -> Self {
        let field = |name: &str| t.table.field_index(name).expect("allow-listed column");
        let mut dimension_of = vec![u32::MAX; t.strings.ends.len()];
        for (d, declared) in dimensions.list.iter().enumerate() {
            if let Some(id) = t.strings.find(&declared.name) {
                dimension_of[id as usize] = d as u32;
            }
        }
        // Rows of a breakdown are sorted by the rank of their category string; a category
        // that no row uses has no rank, and then the breakdown is incomplete anyway.
        let position = dimensions
            .list
            .iter()
            .map(|declared| {
                let mut by_rank: Vec<(u32, usize)> = declared
                    .categories
                    .iter()
                    .enumerate()
                    .map(|(c, label)| {
                        let rank = t
                            .strings
                            .find(label)
                            .map_or(u32::MAX, |id| ranks[id as usize]);
                        (rank, c)
                    })
                    .collect();
                by_rank.sort_unstable();
                let mut position = vec![0; declared.categories.len()];
                for (p, &(_, c)) in by_rank.iter().enumerate() {
                    position[c] = p;
                }
                position
            })
            .collect();
        Context {
            t,
            dimensions,
            earlier,
            dimension_of,
            position,
            fields: Fields {
                start: field("period_start"),
                end: field("period_end"),
                dimension: field("dimension"),
                basis: field("basis"),
            },
        }
    }

    fn dimension(&self, row: u32) -> Option<usize> {
        match self.t.cell_at(row as usize, self.fields.dimension) {
            NULL => None,
            id => Some(self.dimension_of[id as usize])
                .filter(|&d| d != u32::MAX)
                .map(|d| d as usize),
        }
    }

    /// "program=…, metric=…, period=…..…, dimension=…" for a row.
    fn group(&self, row: u32, dimension: &str) -> String {
        let t = self.t;
        let row = row as usize;
        format!(
            "program={}, metric={}, period={}..{}, dimension={dimension}",
            t.text(row, "program"),
            t.text(row, "metric"),
            t.date(row, "period_start").unwrap_or_default(),
            t.date(row, "period_end").unwrap_or_default(),
        )
    }

    fn problem(&self, problems: &mut Problems, row: u32, field: &str, expected: String) {
        let t = self.t;
        problems.push(Problem {
            file: t.file.clone(),
            line: t.line(row as usize),
            column: t.column(field),
            field: field.into(),
            // Dates are stored as day numbers, not strings; a count is never shown.
            value: match field {
                "period_start" | "period_end" => t
                    .date(row as usize, field)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                "value" => "(withheld: disclosure control)".to_owned(),
                _ => t.string(row as usize, field),
            },
            expected,
        });
    }

    /// Report what a release policy check refuses, each with its row's group.
    fn refuse(&self, problems: &mut Problems, refusals: Vec<(u32, String)>, field: &str) {
        for (row, expected) in refusals {
            let group = self.group(row, self.dimension_name(self.dimension(row)));
            self.problem(problems, row, field, format!("{expected}; group: {group}"));
        }
    }

    fn dimension_name(&self, dimension: Option<usize>) -> &str {
        dimension.map_or("total", |d| self.dimensions.list[d].name.as_str())
    }

    /// Protect the rows of one (program, metric), sorted by period, dimension and category.
    /// Returns each row's published value (or `SUPPRESSED`), or `None` after reporting why
    /// the rows cannot be published.
    pub(super) fn protect_metric(
        &self,
        policy: Policy,
        rows: &[u32],
        problems: &mut Problems,
    ) -> Option<Vec<i64>> {
        let t = self.t;
        let f = self.fields;
        let before = problems.total;

        // Segments: (period, dimension) runs of rows.
        let mut segments: Vec<Segment> = Vec::new();
        let mut begin = 0;
        let segment_key = |row: u32| {
            (
                t.cell_at(row as usize, f.start),
                t.cell_at(row as usize, f.end),
                t.cell_at(row as usize, f.dimension),
            )
        };
        let point_in_time = t.strings.find("point_in_time").map(u64::from);
        for i in 1..=rows.len() {
            if i == rows.len() || segment_key(rows[i]) != segment_key(rows[begin]) {
                let row = rows[begin];
                segments.push(Segment {
                    start: t.cell_at(row as usize, f.start),
                    end: t.cell_at(row as usize, f.end),
                    dimension: self.dimension(row),
                    begin,
                    in_period: Some(t.cell_at(row as usize, f.basis)) != point_in_time,
                    row,
                });
                begin = i;
            }
        }
        let lens: Vec<usize> = (0..segments.len())
            .map(|s| segments.get(s + 1).map_or(rows.len(), |next| next.begin) - segments[s].begin)
            .collect();
        let segment_len = |s: usize| lens[s];

        // Every breakdown lists every declared category.
        for s in 0..segments.len() {
            let Some(d) = segments[s].dimension else {
                continue;
            };
            let declared = &self.dimensions.list[d];
            if segment_len(s) != declared.categories.len() {
                let present: Vec<&str> = rows
                    [segments[s].begin..segments[s].begin + segment_len(s)]
                    .iter()
                    .map(|&r| t.text(r as usize, "category"))
                    .collect();
                let missing = listed(
                    declared
                        .categories
                        .iter()
                        .map(String::as_str)
                        .filter(|c| !present.contains(c)),
                );
                self.problem(
                    problems,
                    segments[s].row,
                    "dimension",
                    format!(
                        "a row for every declared category of {} in each breakdown (declared \
                         categories are exhaustive; missing: {missing}); group: {}",
                        declared.name,
                        self.group(segments[s].row, &declared.name)
                    ),
                );
            }
        }

        // Levels (point_in_time) are levels at period_end: two periods with one end date are
        // one quantity, which these equations do not model.
        let mut levels: Vec<(u64, u64, u32)> = segments
            .iter()
            .filter(|s| !s.in_period)
            .map(|s| (s.end, s.start, s.row))
            .collect();
        levels.sort_unstable();
        levels.dedup_by_key(|l| (l.0, l.1));
        for w in levels.windows(2) {
            if w[0].0 == w[1].0 {
                self.problem(
                    problems,
                    w[1].2,
                    "period_start",
                    format!(
                        "one period_start for the levels (point_in_time) of a metric at one date: \
                         line {} gives a level at the same period_end from another start, and two \
                         rows of one level are the same quantity, a link disclosure control does \
                         not model; group: {}",
                        t.line(w[0].2 as usize),
                        self.group(w[1].2, self.dimension_name(self.dimension(w[1].2)))
                    ),
                );
            }
        }
        // The same across releases: an earlier release's level at one of these dates from
        // another start is the same quantity under another identity, which frozen statuses
        // would not follow.
        if !levels.is_empty() {
            let mut clash: Option<(u32, u64, u32)> = None;
            self.earlier.each_row(
                t.text(rows[0] as usize, "program"),
                t.text(rows[0] as usize, "metric"),
                |seen| {
                    if !seen.point || clash.is_some() {
                        return;
                    }
                    let at = levels.partition_point(|l| l.0 < seen.end);
                    if let Some(l) = levels[at..]
                        .iter()
                        .take_while(|l| l.0 == seen.end)
                        .find(|l| l.1 != seen.start)
                    {
                        clash = Some((l.2, seen.start, seen.release));
                    }
                },
            );
            if let Some((row, start, release)) = clash {
                self.problem(
                    problems,
                    row,
                    "period_start",
                    format!(
                        "one period_start for the levels (point_in_time) of a metric at one date, \
                         across releases: release #{release} published a level at this \
                         period_end from {}, and two rows of one level are the same quantity, \
                         whose status (hidden or published) could then differ; use that start; \
                         group: {}",
                        earlier::date(start),
                        self.group(row, self.dimension_name(self.dimension(row)))
                    ),
                );
            }
        }

        // Links between periods and bases the equations cannot express are refused where
        // breakdowns exist.
        let has_breakdowns = segments.iter().any(|s| s.dimension.is_some());
        if has_breakdowns {
            let first = rows[0];
            let basis = t.cell_at(first as usize, f.basis);
            if let Some(&other) = rows
                .iter()
                .find(|&&r| t.cell_at(r as usize, f.basis) != basis)
            {
                self.problem(
                    problems,
                    other,
                    "basis",
                    format!(
                        "the same basis for every row of a metric with breakdowns (line {} says {}): \
                         cumulative and in-period counts of one thing are linked in ways disclosure \
                         control cannot model",
                        t.line(first as usize),
                        t.text(first as usize, "basis")
                    ),
                );
            } else if t.text(first as usize, "basis") == "cumulative"
                && let Some(other) = segments
                    .iter()
                    .find(|s| (s.start, s.end) != (segments[0].start, segments[0].end))
            {
                self.problem(
                    problems,
                    other.row,
                    "period_end",
                    format!(
                        "one period for a cumulative metric with breakdowns (line {} has another): \
                         cumulative counts at two dates differ by what happened in between, a link \
                         disclosure control cannot model; publish in-period counts instead",
                        t.line(first as usize)
                    ),
                );
            }
        }
        if problems.total != before {
            return None;
        }

        // Cells: the rows, then facts.
        let mut cells: Vec<Cell> = rows
            .iter()
            .map(|&r| Cell {
                value: t.count(r as usize, "value"),
                role: Role::Row,
            })
            .collect();
        let mut equations: Vec<Equation> = Vec::new();
        let mut links: Vec<Link> = Vec::new();
        let mut fact_rows: Vec<u32> = Vec::new();

        // Breakdowns and hierarchies, period by period.
        let mut facts: Vec<Segment> = Vec::new();
        let mut p = 0;
        while p < segments.len() {
            let mut q = p;
            while q < segments.len()
                && (segments[q].start, segments[q].end) == (segments[p].start, segments[p].end)
            {
                q += 1;
            }
            let period = p..q;
            let find = |d: Option<usize>| period.clone().find(|&s| segments[s].dimension == d);
            let mut total_cell = find(None).map(|st| segments[st].begin);
            for s in period.clone() {
                let Some(d) = segments[s].dimension else {
                    continue;
                };
                let len = segment_len(s);
                let member = |c: usize| segments[s].begin + self.position[d][c];
                let row = segments[s].row;
                if let Some((a, sa)) = self
                    .dimensions
                    .ancestors(d)
                    .find_map(|a| find(Some(a)).map(|sa| (a, sa)))
                {
                    let mut groups: Vec<Vec<usize>> =
                        vec![Vec::new(); self.dimensions.list[a].categories.len()];
                    for c in 0..len {
                        groups[self.dimensions.lift(d, c, a)].push(member(c));
                    }
                    for (qa, members) in groups.into_iter().enumerate() {
                        equations.push(Equation {
                            total: segments[sa].begin + self.position[a][qa],
                            members,
                        });
                        links.push(Link::Breakdown {
                            row,
                            ancestor: Some(a),
                        });
                    }
                    continue;
                }
                let total = match total_cell {
                    Some(cell) => cell,
                    None => {
                        // The implied total: a fact, and a segment of the total's series.
                        let value = (0..len).map(|c| cells[member(c)].value).sum();
                        cells.push(Cell {
                            value,
                            role: Role::Fact,
                        });
                        fact_rows.push(row);
                        facts.push(Segment {
                            dimension: None,
                            begin: cells.len() - 1,
                            ..segments[s]
                        });
                        total_cell = Some(cells.len() - 1);
                        cells.len() - 1
                    }
                };
                equations.push(Equation {
                    total,
                    members: (0..len).map(member).collect(),
                });
                links.push(Link::Breakdown {
                    row,
                    ancestor: None,
                });
            }
            p = q;
        }
        segments.extend(facts);

        // Time: exact tilings of in-period counts, per dimension series.
        let mut series: Vec<usize> = (0..segments.len())
            .filter(|&s| segments[s].in_period)
            .collect();
        series.sort_unstable_by_key(|&s| {
            (
                segments[s].dimension.map_or(0, |d| d + 1),
                segments[s].start,
                std::cmp::Reverse(segments[s].end),
            )
        });
        let mut stack: Vec<usize> = Vec::new();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); segments.len()];
        let mut refused = false;
        for (i, &s) in series.iter().enumerate() {
            if i > 0 && segments[series[i - 1]].dimension != segments[s].dimension {
                stack.clear();
            }
            while stack
                .last()
                .is_some_and(|&top| segments[top].end < segments[s].start)
            {
                stack.pop();
            }
            if let Some(&top) = stack.last() {
                if segments[s].end > segments[top].end {
                    if has_breakdowns {
                        self.problem(
                            problems,
                            segments[s].row,
                            "period_start",
                            format!(
                                "periods of one metric that either nest or do not overlap: this \
                                 period overlaps {}..{} (line {}) without being inside it, and \
                                 disclosure control cannot model partial overlaps; group: {}",
                                t.date(segments[top].row as usize, "period_start")
                                    .unwrap_or_default(),
                                t.date(segments[top].row as usize, "period_end")
                                    .unwrap_or_default(),
                                t.line(segments[top].row as usize),
                                self.group(
                                    segments[s].row,
                                    self.dimension_name(segments[s].dimension)
                                )
                            ),
                        );
                        refused = true;
                    }
                    // Without breakdowns the series is not laminar: no tilings from here.
                    stack.clear();
                } else {
                    children[top].push(s);
                }
            }
            stack.push(s);
        }
        // Periods linked by a tiling carry the same dimensions: with them, the per-category
        // time equations and each period's breakdowns imply every link across levels and
        // periods (a coarse band over the half-year and fine ages in its quarters otherwise
        // pin a quarter's age by subtraction).
        let mut dimensions_of: HashMap<(u64, u64), Vec<usize>> = HashMap::new();
        for segment in &segments {
            if let Some(d) = segment.dimension {
                dimensions_of
                    .entry((segment.start, segment.end))
                    .or_default()
                    .push(d);
            }
        }
        let mut compared: std::collections::HashSet<((u64, u64), (u64, u64))> =
            std::collections::HashSet::new();
        let mut tiled_by: Vec<Option<usize>> = vec![None; segments.len()];
        for (s, kids) in children.iter().enumerate() {
            if kids.is_empty() || refused {
                continue;
            }
            let tiles = segments[kids[0]].start == segments[s].start
                && segments[*kids.last().expect("non-empty")].end == segments[s].end
                && kids
                    .windows(2)
                    .all(|w| segments[w[1]].start == segments[w[0]].end + 1);
            if !tiles {
                if has_breakdowns {
                    self.problem(
                        problems,
                        segments[s].row,
                        "period_start",
                        format!(
                            "a period that contains shorter periods of the same breakdown to be \
                             exactly tiled by them (contiguous, no gap): otherwise the uncovered \
                             part is published by subtraction; group: {}",
                            self.group(segments[s].row, self.dimension_name(segments[s].dimension))
                        ),
                    );
                    refused = true;
                }
                continue;
            }
            let period = |s: usize| (segments[s].start, segments[s].end);
            for &kid in kids {
                tiled_by[kid] = Some(s);
                if !compared.insert((period(s), period(kid))) {
                    continue;
                }
                let empty = Vec::new();
                let outer = dimensions_of.get(&period(s)).unwrap_or(&empty);
                let inner = dimensions_of.get(&period(kid)).unwrap_or(&empty);
                let missing = outer
                    .iter()
                    .map(|&d| (d, segments[s].row, segments[kid].row))
                    .find(|(d, ..)| !inner.contains(d))
                    .or_else(|| {
                        inner
                            .iter()
                            .map(|&d| (d, segments[kid].row, segments[s].row))
                            .find(|(d, ..)| !outer.contains(d))
                    });
                if let Some((d, has, lacks)) = missing {
                    self.problem(
                        problems,
                        lacks,
                        "dimension",
                        format!(
                            "the same dimensions in periods linked by a tiling: dimension {} is in \
                             period {}..{} (line {}) but not in this one, and the two are linked (one \
                             tiles the other), so the missing breakdown's links across periods \
                             could not be modelled and a hidden figure could be found by \
                             subtraction; publish the breakdown in both or in neither; group: {}",
                            self.dimensions.list[d].name,
                            t.date(has as usize, "period_start").unwrap_or_default(),
                            t.date(has as usize, "period_end").unwrap_or_default(),
                            t.line(has as usize),
                            self.group(lacks, self.dimension_name(self.dimension(lacks)))
                        ),
                    );
                    refused = true;
                }
            }
            let width = match segments[s].dimension {
                Some(d) => self.dimensions.list[d].categories.len(),
                None => 1,
            };
            for c in 0..width {
                equations.push(Equation {
                    total: segments[s].begin + c,
                    members: kids.iter().map(|&k| segments[k].begin + c).collect(),
                });
                links.push(Link::Time {
                    row: segments[s].row,
                });
            }
        }
        if refused {
            return None;
        }

        // Earlier releases: frozen statuses (sticky and known rows), and their hidden
        // groups as equations with facts; what the release policy refuses.
        let refusals = self.earlier.apply(
            policy.k(),
            t,
            rows,
            &fact_rows,
            &mut cells,
            &mut equations,
            &mut |row| links.push(Link::Earlier { row }),
        );
        if !refusals.is_empty() {
            self.refuse(problems, refusals, "category");
            return None;
        }

        let system = System { cells, equations };
        match disclosure::linked::protect(policy, &system) {
            Ok(protected) => {
                // Overlapping periods, across releases, that no modelled tiling links.
                let mut now = Vec::with_capacity(system.cells.len());
                for (s, segment) in segments.iter().enumerate() {
                    for c in segment_cells(&segments, &lens, s) {
                        let row = (c < rows.len()).then(|| rows[c]);
                        let (dimension, category) = match row {
                            Some(r) => (
                                t.text(r as usize, "dimension"),
                                t.text(r as usize, "category"),
                            ),
                            None => ("total", "all"),
                        };
                        now.push(overlaps::Now {
                            dimension,
                            category,
                            start: segment.start,
                            end: segment.end,
                            point: !segment.in_period,
                            hidden: protected.hidden[c],
                            segment: s,
                            row,
                        });
                    }
                }
                let refusals = overlaps::check(
                    now,
                    self.earlier,
                    t.text(rows[0] as usize, "program"),
                    t.text(rows[0] as usize, "metric"),
                    &tiled_by,
                    rows[0],
                );
                let refusals = if refusals.is_empty() {
                    self.across_releases(policy, rows, &segments, &lens, &protected.hidden)
                } else {
                    refusals
                };
                if !refusals.is_empty() {
                    self.refuse(problems, refusals, "period_start");
                    return None;
                }
                Some(
                    rows.iter()
                        .enumerate()
                        .map(|(i, &r)| {
                            if protected.hidden[i] {
                                SUPPRESSED
                            } else {
                                t.count(r as usize, "value")
                            }
                        })
                        .collect(),
                )
            }
            Err(error) => {
                let (row, dimension, why) = match error {
                    LinkedError::NotAdditive { equation } | LinkedError::Malformed { equation } => {
                        let (row, why) = match links.get(equation) {
                            Some(&Link::Breakdown {
                                row,
                                ancestor: None,
                            }) => (
                                row,
                                "breakdown cells that add up to the group's total".to_owned(),
                            ),
                            Some(&Link::Breakdown {
                                row,
                                ancestor: Some(a),
                            }) => (
                                row,
                                format!(
                                    "categories that add up to their parent category of {} (declared parent)",
                                    self.dimensions.list[a].name
                                ),
                            ),
                            Some(&Link::Time { row }) => (
                                row,
                                "counts of a period equal to the sum of the periods that tile it"
                                    .to_owned(),
                            ),
                            Some(&Link::Earlier { row }) => (
                                row,
                                "counts consistent with what an earlier release published"
                                    .to_owned(),
                            ),
                            None => (rows[0], "additive counts".to_owned()),
                        };
                        let why = if matches!(error, LinkedError::Malformed { .. }) {
                            format!(
                                "{why} (the importer built an ill-formed link here: please report it)"
                            )
                        } else {
                            why
                        };
                        (row, self.dimension_name(self.dimension(row)), why)
                    }
                    LinkedError::Unprotectable { cell } | LinkedError::Negative { cell } => {
                        let row = if cell < rows.len() {
                            rows[cell]
                        } else {
                            fact_rows.get(cell - rows.len()).copied().unwrap_or(rows[0])
                        };
                        let why = if matches!(error, LinkedError::Negative { .. }) {
                            "non-negative counts".to_owned()
                        } else {
                            "a table that suppression can protect: values already public (earlier \
                             releases, published totals, and figures an earlier release published, \
                             which are published again: a figure once published cannot become \
                             hidden) would pin or narrow a hidden count"
                                .to_owned()
                        };
                        (row, self.dimension_name(self.dimension(row)), why)
                    }
                };
                let dimension = dimension.to_owned();
                self.problem(
                    problems,
                    row,
                    "dimension",
                    format!(
                        "{why} (values are not shown: disclosure control); group: {}",
                        self.group(row, &dimension)
                    ),
                );
                None
            }
        }
    }

    /// The sums a breakdown of dimension `d` publishes (`values` by declared category,
    /// `None` when hidden or not exact): each ancestor category whose children are all
    /// published, and the total when every category is.
    fn sums(&self, d: usize, values: &[Option<i64>], push: &mut dyn FnMut(&'a str, &'a str, i64)) {
        let dimensions = self.dimensions;
        for a in dimensions.ancestors(d) {
            let parent = &dimensions.list[a];
            let mut sums: Vec<Option<i64>> = vec![Some(0); parent.categories.len()];
            for (c, value) in values.iter().enumerate() {
                let sum = &mut sums[dimensions.lift(d, c, a)];
                *sum = sum.zip(*value).map(|(s, v)| s + v);
            }
            for (qa, sum) in sums.into_iter().enumerate() {
                if let Some(sum) = sum {
                    push(&parent.name, &parent.categories[qa], sum);
                }
            }
        }
        if let Some(total) = values.iter().copied().sum::<Option<i64>>() {
            push("total", "all", total);
        }
    }

    /// The release policy's checks that compare this release's protected rows with every
    /// earlier release: breakdowns of one hierarchy that no system links
    /// ([`overlaps::other_breakdowns`]) and small counts published by subtraction ([`gaps`]).
    /// `hidden`: per cell (rows, then facts); `lens`: per row segment.
    fn across_releases(
        &self,
        policy: Policy,
        rows: &[u32],
        segments: &[Segment],
        lens: &[usize],
        hidden: &[bool],
    ) -> Vec<(u32, String)> {
        let t = self.t;
        let program = t.text(rows[0] as usize, "program");
        let metric = t.text(rows[0] as usize, "metric");
        let cells = |s: usize| segment_cells(segments, lens, s);
        let parts: Vec<overlaps::Part<'_>> = (0..segments.len())
            .filter(|&s| segments[s].dimension.is_some())
            .map(|s| overlaps::Part {
                dimension: self.dimension_name(segments[s].dimension),
                start: segments[s].start,
                end: segments[s].end,
                point: !segments[s].in_period,
                hidden: cells(s).any(|c| hidden[c]),
                row: Some(segments[s].row),
            })
            .collect();
        let refusals = overlaps::other_breakdowns(&parts, self.earlier, program, metric, rows[0]);
        if !refusals.is_empty() {
            return refusals;
        }
        // Published exact counts: this release's rows, then earlier releases'; and, for
        // each breakdown, the sums it publishes of its ancestors' categories and of its
        // total (a quarter's ages give the quarter's bands, which a half-year's band minus
        // them turns into the other quarter's band).
        let mut published: Vec<gaps::Published<'_>> = Vec::new();
        for (s, segment) in segments.iter().enumerate() {
            if !segment.in_period || s >= lens.len() {
                continue;
            }
            let exact = |c: usize| {
                let row = rows[c] as usize;
                (!hidden[c] && t.text(row, "qualifier") == "exact").then(|| t.count(row, "value"))
            };
            for c in cells(s) {
                if let Some(value) = exact(c) {
                    let row = rows[c];
                    published.push(gaps::Published {
                        dimension: t.text(row as usize, "dimension"),
                        category: t.text(row as usize, "category"),
                        start: segment.start,
                        end: segment.end,
                        value,
                        row: Some(row),
                        release: None,
                    });
                }
            }
            if let Some(d) = segment.dimension {
                let values: Vec<Option<i64>> = (0..self.dimensions.list[d].categories.len())
                    .map(|c| exact(segment.begin + self.position[d][c]))
                    .collect();
                self.sums(d, &values, &mut |dimension, category, value| {
                    published.push(gaps::Published {
                        dimension,
                        category,
                        start: segment.start,
                        end: segment.end,
                        value,
                        row: Some(segment.row),
                        release: None,
                    })
                });
            }
        }
        let mut seen_rows = Vec::new();
        self.earlier.each_row(program, metric, |seen| {
            if !seen.point {
                seen_rows.push(seen);
            }
        });
        for breakdown in seen_rows.chunk_by(|a, b| {
            (a.release, a.start, a.end, a.dimension) == (b.release, b.start, b.end, b.dimension)
        }) {
            let first = breakdown[0];
            for seen in breakdown {
                if let Some(value) = seen.exact {
                    published.push(gaps::Published {
                        dimension: seen.dimension,
                        category: seen.category,
                        start: seen.start,
                        end: seen.end,
                        value,
                        row: None,
                        release: Some(seen.release),
                    });
                }
            }
            let Some(d) = self
                .dimensions
                .list
                .iter()
                .position(|declared| declared.name == first.dimension)
            else {
                continue;
            };
            let declared = &self.dimensions.list[d].categories;
            let mut values: Vec<Option<i64>> = vec![None; declared.len()];
            for seen in breakdown {
                if let Some(c) = declared.iter().position(|label| label == seen.category) {
                    values[c] = seen.exact;
                }
            }
            self.sums(d, &values, &mut |dimension, category, value| {
                published.push(gaps::Published {
                    dimension,
                    category,
                    start: first.start,
                    end: first.end,
                    value,
                    row: None,
                    release: Some(first.release),
                })
            });
        }
        gaps::check(published, policy.k(), rows[0])
    }
}

/// The cells of segment `s`: its rows (`lens[s]` of them), or the one fact of an implied
/// total (segments past `lens` are facts).
fn segment_cells(segments: &[Segment], lens: &[usize], s: usize) -> std::ops::Range<usize> {
    let len = lens.get(s).copied().unwrap_or(1);
    segments[s].begin..segments[s].begin + len
}
