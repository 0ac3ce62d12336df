//! What earlier releases published. Every release stays queryable (`?release=`), so an
//! attacker reads them all; a new release is protected together with them:
//!
//! - **Sticky suppression.** A cell (program, metric, period, dimension, category) hidden in
//!   any earlier release is hidden again ([`Role::StickyRow`]), unless an earlier release
//!   published it with the value it has now (then it is public anyway).
//! - **Known cells.** A cell an earlier release published with the value it has now is
//!   public whatever this release does ([`Role::KnownRow`]): never relied on to hide
//!   anything.
//! - **Earlier residuals.** For each link of this release (a breakdown to its total, children
//!   to their parent, sub-periods to their period) that an earlier release published with
//!   its total and some hidden members, and for each breakdown (period, dimension) of an
//!   earlier release with a published total, the attacker knows the sum of the hidden cells
//!   (the total minus the published cells). When those cells are cells of this release and
//!   this release's raw values still add up to that residual (not revised), the equation is
//!   added with the residual as a [`Role::Fact`].
//! - **Revised hidden cells.** When they no longer add up to it, publishing the link's new
//!   total would publish by how much the hidden cells changed, and an attacker who guesses
//!   which of them did not change would narrow the others; so the link's total is hidden
//!   too ([`Role::StickyRow`]; the engine's closure then hides what it must around it).
//!
//! Rows are kept compactly (strings interned once, dates as day numbers), sorted twice by
//! index: by group (release, period, dimension) and by cell identity.

use super::*;
use crate::disclosure::linked::{Cell, Equation, Role};

/// The published statistics of earlier releases. Empty for `check` (no database).
#[derive(Debug, Clone, Default)]
pub struct Earlier {
    strings: Strings,
    rows: Vec<EarlierRow>,
    /// Indices of `rows` by cell identity, then release.
    by_cell: Vec<u32>,
}

/// A cell's identity: (program, metric, period start, period end, dimension, category).
type CellKey = (u32, u32, u64, u64, u32, u32);

#[derive(Debug, Clone, Copy)]
struct EarlierRow {
    program: u32,
    metric: u32,
    release: u32,
    start: u64,
    end: u64,
    dimension: u32,
    category: u32,
    /// The published value, or [`SUPPRESSED`].
    value: i64,
}

impl EarlierRow {
    fn cell(&self) -> CellKey {
        (
            self.program,
            self.metric,
            self.start,
            self.end,
            self.dimension,
            self.category,
        )
    }
}

fn day(date: NaiveDate) -> u64 {
    (i64::from(date.num_days_from_ce()) - i64::from(i32::MIN)) as u64
}

impl Earlier {
    /// Add one published statistic of release number `release`.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        release: u32,
        program: &str,
        metric: &str,
        start: NaiveDate,
        end: NaiveDate,
        dimension: &str,
        category: &str,
        value: Option<i64>,
    ) {
        let row = EarlierRow {
            program: self.strings.intern(program),
            metric: self.strings.intern(metric),
            release,
            start: day(start),
            end: day(end),
            dimension: self.strings.intern(dimension),
            category: self.strings.intern(category),
            value: value.unwrap_or(SUPPRESSED),
        };
        self.rows.push(row);
    }

    /// Sort the rows once all are pushed.
    pub fn finish(&mut self) {
        self.rows.sort_unstable_by_key(|r| {
            (
                r.program,
                r.metric,
                r.release,
                r.start,
                r.end,
                r.dimension,
                r.category,
            )
        });
        let mut by_cell: Vec<u32> = (0..self.rows.len() as u32).collect();
        by_cell.sort_unstable_by_key(|&i| {
            let r = &self.rows[i as usize];
            (r.cell(), r.release)
        });
        self.by_cell = by_cell;
    }

    /// How many earlier statistics are held.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Set the roles of one metric's cells (`rows`: the metric's rows, cells `0..rows.len()`
    /// of `cells`) and add the equations earlier releases give; `linked(row)` is called
    /// once per added equation with a row of the group it concerns.
    pub(super) fn apply(
        &self,
        t: &ReadTable,
        rows: &[u32],
        fact_rows: &[u32],
        cells: &mut Vec<Cell>,
        equations: &mut Vec<Equation>,
        linked: &mut dyn FnMut(u32),
    ) {
        if self.rows.is_empty() || rows.is_empty() {
            return;
        }
        let first = rows[0] as usize;
        let (Some(program), Some(metric)) = (
            self.strings.find(t.text(first, "program")),
            self.strings.find(t.text(first, "metric")),
        ) else {
            return;
        };
        // This metric's cells by earlier identity (cells whose labels no earlier release
        // used cannot match anything).
        let mut current: Vec<(CellKey, usize)> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, &r)| {
                let r = r as usize;
                let dimension = self.strings.find(t.text(r, "dimension"))?;
                let category = self.strings.find(t.text(r, "category"))?;
                Some((
                    (
                        program,
                        metric,
                        t.cell(r, "period_start"),
                        t.cell(r, "period_end"),
                        dimension,
                        category,
                    ),
                    i,
                ))
            })
            .collect();
        current.sort_unstable();
        let cell_of = |key: CellKey| {
            current
                .binary_search_by(|(k, _)| k.cmp(&key))
                .ok()
                .map(|at| current[at].1)
        };

        // Roles.
        for &(key, i) in &current {
            let from = self
                .by_cell
                .partition_point(|&e| self.rows[e as usize].cell() < key);
            let entries = self.by_cell[from..]
                .iter()
                .map(|&e| &self.rows[e as usize])
                .take_while(|e| e.cell() == key);
            let (mut known, mut hidden) = (false, false);
            for entry in entries {
                if entry.value == SUPPRESSED {
                    hidden = true;
                } else if entry.value == cells[i].value {
                    known = true;
                }
            }
            if known {
                cells[i].role = Role::KnownRow;
            } else if hidden {
                cells[i].role = Role::StickyRow;
            }
        }

        // The links of this release as earlier releases published them: for each equation
        // and release that published its total and has all its members, the hidden
        // members' sum is known. Unchanged: a fact. Revised: publishing the new sum would
        // publish the change of the hidden cells (an attacker who guesses which did not
        // change narrows the others), so the equation's total is hidden too.
        let identity = |cell: usize| -> Option<CellKey> {
            let (row, total) = if cell < rows.len() {
                (rows[cell] as usize, false)
            } else {
                (*fact_rows.get(cell - rows.len())? as usize, true)
            };
            let (dimension, category) = if total {
                (self.strings.find("total")?, self.strings.find("all")?)
            } else {
                (
                    self.strings.find(t.text(row, "dimension"))?,
                    self.strings.find(t.text(row, "category"))?,
                )
            };
            Some((
                program,
                metric,
                t.cell(row, "period_start"),
                t.cell(row, "period_end"),
                dimension,
                category,
            ))
        };
        let entry = |key: CellKey, release: u32| {
            let at = self.by_cell.partition_point(|&e| {
                (self.rows[e as usize].cell(), self.rows[e as usize].release) < (key, release)
            });
            self.by_cell
                .get(at)
                .map(|&e| &self.rows[e as usize])
                .filter(|e| e.cell() == key && e.release == release)
        };
        let from = self
            .rows
            .partition_point(|r| (r.program, r.metric) < (program, metric));
        let to = self
            .rows
            .partition_point(|r| (r.program, r.metric) <= (program, metric));
        let mut releases: Vec<u32> = self.rows[from..to].iter().map(|r| r.release).collect();
        releases.dedup();
        let before = equations.len();
        for e in 0..before {
            let Some(total_key) = identity(equations[e].total) else {
                continue;
            };
            let keys: Option<Vec<_>> = equations[e].members.iter().map(|&m| identity(m)).collect();
            let Some(keys) = keys else {
                continue;
            };
            for &release in &releases {
                let Some(total) = entry(total_key, release).filter(|r| r.value != SUPPRESSED)
                else {
                    continue;
                };
                let entries: Option<Vec<&EarlierRow>> =
                    keys.iter().map(|&k| entry(k, release)).collect();
                let Some(entries) = entries else {
                    continue;
                };
                let hidden: Vec<usize> = equations[e]
                    .members
                    .iter()
                    .zip(&entries)
                    .filter(|(_, r)| r.value == SUPPRESSED)
                    .map(|(&m, _)| m)
                    .collect();
                if hidden.is_empty() {
                    continue;
                }
                let published: i64 = entries
                    .iter()
                    .filter(|r| r.value != SUPPRESSED)
                    .map(|r| r.value)
                    .sum();
                let residual = total.value - published;
                let now: i64 = hidden.iter().map(|&m| cells[m].value).sum();
                if now == residual {
                    let row = rows[hidden[0]];
                    cells.push(Cell {
                        value: residual,
                        role: Role::Fact,
                    });
                    equations.push(Equation {
                        total: cells.len() - 1,
                        members: hidden,
                    });
                    linked(row);
                } else {
                    let total = equations[e].total;
                    if cells[total].role == Role::Row {
                        cells[total].role = Role::StickyRow;
                    }
                }
            }
        }

        // Residuals of earlier hidden groups by the earlier release's own breakdowns
        // (a category added since is not in them): rows of this metric, by release,
        // period, dimension.
        let metric_rows = &self.rows[from..to];
        let total = self.strings.find("total");
        let mut p = 0;
        while p < metric_rows.len() {
            let period = |r: &EarlierRow| (r.release, r.start, r.end);
            let q = p + metric_rows[p..]
                .iter()
                .take_while(|r| period(r) == period(&metric_rows[p]))
                .count();
            let in_period = &metric_rows[p..q];
            let published_total = in_period
                .iter()
                .find(|r| Some(r.dimension) == total && r.value != SUPPRESSED)
                .map(|r| r.value);
            if let Some(published_total) = published_total {
                let mut g = 0;
                while g < in_period.len() {
                    let h = g + in_period[g..]
                        .iter()
                        .take_while(|r| r.dimension == in_period[g].dimension)
                        .count();
                    let group = &in_period[g..h];
                    g = h;
                    if Some(group[0].dimension) == total
                        || group.iter().all(|r| r.value != SUPPRESSED)
                    {
                        continue;
                    }
                    let published: i64 = group
                        .iter()
                        .filter(|r| r.value != SUPPRESSED)
                        .map(|r| r.value)
                        .sum();
                    let members: Option<Vec<usize>> = group
                        .iter()
                        .filter(|r| r.value == SUPPRESSED)
                        .map(|r| cell_of(r.cell()))
                        .collect();
                    let Some(members) = members else {
                        continue;
                    };
                    let residual = published_total - published;
                    let now: i64 = members.iter().map(|&m| cells[m].value).sum();
                    if now != residual || members.is_empty() {
                        continue;
                    }
                    let row = rows[members[0]];
                    cells.push(Cell {
                        value: residual,
                        role: Role::Fact,
                    });
                    equations.push(Equation {
                        total: cells.len() - 1,
                        members,
                    });
                    linked(row);
                }
            }
            p = q;
        }
    }
}
