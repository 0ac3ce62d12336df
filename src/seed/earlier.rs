//! What earlier releases published. Every release stays queryable (`?release=`), so an
//! attacker reads them all; a new release is protected together with them, under the
//! release policy of frozen statuses (value-independent: no rule looks at whether a
//! value changed, which would itself tell an attacker something):
//!
//! - **Sticky suppression.** A cell (program, metric, period, dimension, category) hidden in
//!   any earlier release is hidden again ([`Role::StickyRow`]).
//! - **Published for good.** A cell an earlier release published is a [`Role::KnownRow`]
//!   whatever its value now: published again, never relied on to hide anything. One that
//!   is now below k is refused (a figure once published cannot become hidden), and so is
//!   one the engine would have to hide (`Unprotectable`).
//! - **Earlier hidden groups, always carried.** For each link with a hidden cell, as an
//!   earlier release published it (the links of this release, looked up in each earlier
//!   release, and each earlier breakdown to its total by its own categories), the
//!   attacker knows the hidden cells' sum: an equation over the same identities with the
//!   published part as a [`Role::Fact`]. New raw values that do not satisfy it (hidden
//!   figures revised) are refused; so is a period published again without every row an
//!   earlier release with hidden cells had in it.
//! - **k never goes down** ([`Earlier::max_k`]).
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
    /// The largest k of the earlier releases, and the release (number) that used it.
    max_k: Option<(i64, u32)>,
    /// Each earlier release's declared dimensions (canonical JSON), where kept.
    declared: Vec<(u32, String)>,
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
    /// A level at `end` (`point_in_time`), not a count over the period.
    point: bool,
    /// Published as an exact count (qualifier `exact`), not an approximation or a bound.
    exact: bool,
}

/// One earlier published row of a (program, metric), as [`Earlier::each_row`] shows it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seen<'s> {
    pub(super) dimension: &'s str,
    pub(super) category: &'s str,
    /// Day numbers.
    pub(super) start: u64,
    pub(super) end: u64,
    /// A level at `end` (`point_in_time`).
    pub(super) point: bool,
    pub(super) hidden: bool,
    /// The published value when it is an exact count.
    pub(super) exact: Option<i64>,
    pub(super) release: u32,
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

/// The date of a day number (as cells and [`EarlierRow`] hold dates), for messages.
pub(super) fn date(day: u64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((day as i64 + i64::from(i32::MIN)) as i32)
        .unwrap_or_default()
}

impl Earlier {
    /// Note an earlier release (number `release`) and the k it was protected with.
    pub fn release(&mut self, release: u32, k: i64) {
        if self.max_k.is_none_or(|(max, _)| k > max) {
            self.max_k = Some((k, release));
        }
    }

    /// Note the dimensions an earlier release declared (canonical JSON).
    pub fn declared(&mut self, release: u32, dimensions: String) {
        self.declared.push((release, dimensions));
    }

    /// Each earlier release's declared dimensions (canonical JSON), where kept.
    pub(super) fn declarations(&self) -> &[(u32, String)] {
        &self.declared
    }

    /// The largest k of the earlier releases, and the release (number) that used it.
    /// A release is never protected with a smaller k: a cell of value k' (k' >= the new k)
    /// hidden by an earlier release would be published, and the earlier release's
    /// complementary cells with it.
    pub fn max_k(&self) -> Option<(i64, u32)> {
        self.max_k
    }

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
        basis: Option<&str>,
        qualifier: Option<&str>,
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
            point: basis == Some("point_in_time"),
            exact: qualifier == Some("exact"),
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

    /// Every earlier row of (program, metric).
    pub(super) fn each_row<'s>(&'s self, program: &str, metric: &str, mut f: impl FnMut(Seen<'s>)) {
        let (Some(program), Some(metric)) = (self.strings.find(program), self.strings.find(metric))
        else {
            return;
        };
        let from = self
            .rows
            .partition_point(|r| (r.program, r.metric) < (program, metric));
        for r in self.rows[from..]
            .iter()
            .take_while(|r| (r.program, r.metric) == (program, metric))
        {
            f(Seen {
                dimension: self.strings.get(r.dimension),
                category: self.strings.get(r.category),
                start: r.start,
                end: r.end,
                point: r.point,
                hidden: r.value == SUPPRESSED,
                exact: (r.exact && r.value != SUPPRESSED).then_some(r.value),
                release: r.release,
            });
        }
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
    /// once per added equation with a row of the group it concerns. Returns what the
    /// release policy refuses, as (row, what is expected), never naming a value.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn apply(
        &self,
        k: i64,
        t: &ReadTable,
        rows: &[u32],
        fact_rows: &[u32],
        cells: &mut Vec<Cell>,
        equations: &mut Vec<Equation>,
        linked: &mut dyn FnMut(u32),
    ) -> Vec<(u32, String)> {
        let mut refused: Vec<(u32, String)> = Vec::new();
        if self.rows.is_empty() || rows.is_empty() {
            return refused;
        }
        let first = rows[0] as usize;
        let (Some(program), Some(metric)) = (
            self.strings.find(t.text(first, "program")),
            self.strings.find(t.text(first, "metric")),
        ) else {
            return refused;
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
        // Periods of this release (start, end), sorted.
        let mut periods: Vec<(u64, u64)> = rows
            .iter()
            .map(|&r| {
                (
                    t.cell(r as usize, "period_start"),
                    t.cell(r as usize, "period_end"),
                )
            })
            .collect();
        periods.sort_unstable();
        periods.dedup();

        // Frozen statuses: hidden once, hidden for good (sticky); published once, published
        // for good (known), whatever the value now. Never "known because the value is the
        // same": that would tell an attacker the hidden cells differ from every earlier
        // published value.
        // Totals an earlier release published by implication: a period it gave a breakdown
        // for without a total row (the breakdown's sum; protected as public there, so known
        // here).
        let from = self
            .rows
            .partition_point(|r| (r.program, r.metric) < (program, metric));
        let to = self
            .rows
            .partition_point(|r| (r.program, r.metric) <= (program, metric));
        let metric_rows = &self.rows[from..to];
        let total_id = self.strings.find("total");
        let mut implied: Vec<(u64, u64, u32)> = metric_rows
            .chunk_by(same_period)
            .filter(|period| period.iter().all(|r| Some(r.dimension) != total_id))
            .map(|period| (period[0].start, period[0].end, period[0].release))
            .collect();
        implied.sort_unstable();
        for &(key, i) in &current {
            let from = self
                .by_cell
                .partition_point(|&e| self.rows[e as usize].cell() < key);
            let entries = self.by_cell[from..]
                .iter()
                .map(|&e| &self.rows[e as usize])
                .take_while(|e| e.cell() == key);
            let (mut published, mut hidden) = (None, false);
            for entry in entries {
                if entry.value == SUPPRESSED {
                    hidden = true;
                } else {
                    published = published.or(Some(entry.release));
                }
            }
            if !hidden && published.is_none() && Some(key.4) == total_id {
                let at = implied.partition_point(|p| (p.0, p.1) < (key.2, key.3));
                published = implied
                    .get(at)
                    .filter(|p| (p.0, p.1) == (key.2, key.3))
                    .map(|p| p.2);
            }
            if hidden {
                cells[i].role = Role::StickyRow;
            } else if let Some(release) = published {
                cells[i].role = Role::KnownRow;
                if (1..k).contains(&cells[i].value) {
                    refused.push((
                        rows[i],
                        format!(
                            "a figure release #{release} published to be published again: a figure \
                             once published cannot become hidden, and this one now falls under the \
                             threshold (values withheld: disclosure control); publish it as a \
                             corrected figure of at least the threshold, or of 0, or leave the \
                             earlier figure standing"
                        ),
                    ));
                }
            }
        }

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

        // An earlier period with hidden cells that this release publishes again keeps every
        // row: the links among them (breakdowns, hierarchies) stay in this release's system.
        for in_period in metric_rows.chunk_by(same_period) {
            let (release, start, end) =
                (in_period[0].release, in_period[0].start, in_period[0].end);
            if periods.binary_search(&(start, end)).is_err()
                || in_period.iter().all(|r| r.value != SUPPRESSED)
            {
                continue;
            }
            if let Some(missing) = in_period.iter().find(|r| cell_of(r.cell()).is_none()) {
                let row = rows
                    .iter()
                    .copied()
                    .find(|&r| {
                        (
                            t.cell(r as usize, "period_start"),
                            t.cell(r as usize, "period_end"),
                        ) == (start, end)
                    })
                    .unwrap_or(rows[0]);
                refused.push((
                    row,
                    format!(
                        "every row release #{release} published for this period, since it hid \
                         some (missing: dimension {}, category {}): dropping a row would drop the \
                         links that protect the hidden figures; keep the row, or publish this \
                         period's figures as they were",
                        self.strings.get(missing.dimension),
                        self.strings.get(missing.category)
                    ),
                ));
            }
        }

        // Earlier hidden groups, always carried: for each link, as an earlier release
        // published it with some hidden cell, the hidden cells' sum is known (its published
        // total minus its published members, or its hidden total minus its published
        // members). It becomes an equation over the same identities with the known part as
        // a fact; the new raw values must satisfy it (hidden figures cannot be revised).
        let mut carried: std::collections::HashSet<(Option<usize>, Vec<usize>, i64)> =
            std::collections::HashSet::new();
        let mut carry = |release: u32,
                         total: (Option<usize>, i64),
                         hidden: Vec<usize>,
                         published: i64,
                         cells: &mut Vec<Cell>,
                         equations: &mut Vec<Equation>,
                         refused: &mut Vec<(u32, String)>| {
            // total: (the hidden total's cell, or None and the published total's value).
            let (hidden_total, published_total) = total;
            if hidden_total.is_none() && hidden.is_empty() {
                return;
            }
            let mut members = hidden;
            members.sort_unstable();
            let known = match hidden_total {
                None => published_total - published,
                Some(_) => published,
            };
            if !carried.insert((hidden_total, members.clone(), known)) {
                return;
            }
            let now: i64 = members.iter().map(|&m| cells[m].value).sum();
            let holds = match hidden_total {
                None => now == known,
                Some(t) => cells[t].value == now + known,
            };
            let row = rows[members
                .first()
                .copied()
                .or(hidden_total)
                .unwrap_or(0)
                .min(rows.len() - 1)];
            if !holds {
                refused.push((
                    row,
                    format!(
                        "the figures release #{release} hid in this group unchanged: hidden \
                         figures cannot be revised (their new sum would publish by how much they \
                         changed; values withheld: disclosure control); publish the earlier \
                         figures again, or revise them in a new database"
                    ),
                ));
                return;
            }
            match hidden_total {
                None => {
                    cells.push(Cell {
                        value: known,
                        role: Role::Fact,
                    });
                    equations.push(Equation {
                        total: cells.len() - 1,
                        members,
                    });
                }
                Some(t) => {
                    if known != 0 || members.is_empty() {
                        cells.push(Cell {
                            value: known,
                            role: Role::Fact,
                        });
                        members.push(cells.len() - 1);
                    }
                    equations.push(Equation { total: t, members });
                }
            }
            linked(row);
        };

        // The links of this release (breakdowns, hierarchies, tilings) as each earlier
        // release that had all their cells published them.
        let mut releases: Vec<u32> = metric_rows.iter().map(|r| r.release).collect();
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
                let Some(total) = entry(total_key, release) else {
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
                let published: i64 = entries
                    .iter()
                    .filter(|r| r.value != SUPPRESSED)
                    .map(|r| r.value)
                    .sum();
                let total = match total.value {
                    SUPPRESSED => (Some(equations[e].total), 0),
                    value => (None, value),
                };
                carry(
                    release,
                    total,
                    hidden,
                    published,
                    cells,
                    equations,
                    &mut refused,
                );
            }
        }

        // Each earlier release's own breakdowns to its total (a category added or dropped
        // since is in them as the earlier release had it). A period this release does not
        // publish is linked to it only through other periods (checked with the overlaps).
        let total = self.strings.find("total");
        for in_period in metric_rows.chunk_by(same_period) {
            let Some(total_row) = in_period.iter().find(|r| Some(r.dimension) == total) else {
                continue;
            };
            let Some(total_cell) = cell_of(total_row.cell()) else {
                continue;
            };
            let mut g = 0;
            while g < in_period.len() {
                let h = g + in_period[g..]
                    .iter()
                    .take_while(|r| r.dimension == in_period[g].dimension)
                    .count();
                let group = &in_period[g..h];
                g = h;
                if Some(group[0].dimension) == total {
                    continue;
                }
                let published: i64 = group
                    .iter()
                    .filter(|r| r.value != SUPPRESSED)
                    .map(|r| r.value)
                    .sum();
                let hidden: Option<Vec<usize>> = group
                    .iter()
                    .filter(|r| r.value == SUPPRESSED)
                    .map(|r| cell_of(r.cell()))
                    .collect();
                let Some(hidden) = hidden else {
                    continue;
                };
                let total = match total_row.value {
                    SUPPRESSED => (Some(total_cell), 0),
                    value => (None, value),
                };
                carry(
                    total_row.release,
                    total,
                    hidden,
                    published,
                    cells,
                    equations,
                    &mut refused,
                );
            }
        }
        refused
    }
}

/// Whether two earlier rows belong to one period of one release (rows are sorted so).
fn same_period(a: &EarlierRow, b: &EarlierRow) -> bool {
    (a.release, a.start, a.end) == (b.release, b.start, b.end)
}
