//! Disclosure control: primary and complementary cell suppression for one table family, and
//! the audit that proves the result protects small counts.
//!
//! The importer calls [`protect`] once per family at import time and stores only the
//! published values, so no query path can bypass it. The module is pure: no I/O, no logging,
//! and no error message ever contains a raw value (errors name a breakdown by index; the
//! importer maps it to a group name). The rules refine the policy in
//! `docs/disclosure-control.md`.
//!
//! One cohesive thing, hence one long file: the suppression rules, the audit that checks
//! them, and the property tests that hold the two together.
//!
//! # Terms
//!
//! - A **family** is the statistics of one (program, metric, period): an optional **total**
//!   (the row with dimension `total`) and zero or more one-dimensional **breakdowns** of that
//!   same total (by channel, by age group, ...), each a list of non-negative **cells**.
//! - `k` is the threshold ([`Policy`]): a count `v` with `1 <= v < k` is **small**. The default
//!   is [`DEFAULT_K`] = 11 (the CMS rule: no cell of 1 to 10); nothing below
//!   [`MIN_ALLOWED_K`] = 5 is accepted.
//!
//! # Rules ([`protect`])
//!
//! 1. **Primary suppression.** A breakdown cell with `1 <= v < k` is suppressed. Zero is
//!    published as 0: "nobody" identifies nobody, and publishing zeros lets an attacker
//!    assume only that a suppressed cell is at least 1 (see the audit).
//! 2. **A small total suppresses the whole family.** A total with `1 <= T < k` is suppressed,
//!    and so is *every* cell of *every* breakdown of the family, zeros included. The spec
//!    document says "the non-zero cells"; that is not enough: with published zeros and a
//!    total known to be below `k`, the suppressed cells are pinned. Ten categories of 1 with
//!    total 10 (k = 11) show it: whoever sees which cells are hidden knows each hidden cell is
//!    at least 1 and that together they are at most 10, so all ten are exactly 1. Hiding the
//!    zeros too leaves every cell anywhere in `0..=k-1`. A total of 0 is published (and then,
//!    by additivity, every cell is 0 and published).
//! 3. **Additivity and complementary suppression.** With a total, every breakdown must add up
//!    to it ([`DisclosureError::NotAdditive`] otherwise): the audit reasons with that
//!    equation, and an inconsistent table cannot be checked. Then, per breakdown, repeat
//!    until stable: if the breakdown has exactly one suppressed cell, or its suppressed cells
//!    sum to less than `k`, or the audit of the breakdown still fails, also suppress the
//!    smallest remaining published non-zero cell (ties broken by category label ascending,
//!    then by position, so the result is deterministic). The audit condition matters: with
//!    k = 11, cells 10, 12, 12 and their total 34, suppressing 10 and one 12 leaves the other
//!    12 published; since the selection rule is public, the attacker bounds each hidden cell
//!    by 12, so `x10 + x12 = 22` gives `x10 >= 10`: pinned. Suppressing all three fixes it. If
//!    every non-zero cell of a breakdown is suppressed and it still fails (eleven cells of 1
//!    with total 11: each is pinned to 1), the total is suppressed, and with it the whole
//!    family, as in rule 2.
//! 4. **Linked breakdowns** share the total: each breakdown is protected independently
//!    against the same total. With the total published the breakdowns share no unknowns, so
//!    independent protection is exact; if any breakdown forces the total to be suppressed, it
//!    is suppressed for the whole family (every cell of every breakdown).
//! 5. **Families without a total row.** A single breakdown without a total gives the
//!    attacker no equation, so only primary suppression applies. Two or more breakdowns
//!    without a total are still breakdowns of one total: their common sum is an *implied
//!    total* that the attacker can compute from any fully published breakdown (cells 5, 20,
//!    30 by age and 55 by channel reveal the 5). They must agree on their sum
//!    ([`DisclosureError::NotAdditive`] otherwise) and are protected exactly as if that sum
//!    were a total row: published when it is 0 or at least `k`, treated as suppressed (the
//!    whole family hidden, [`Protection::total_suppressed`] set) otherwise. Treating the
//!    implied total as known is conservative: an attacker knows at most that much.
//!
//! Every suppressed cell, primary or complementary, gets the same reason,
//! [`SUPPRESSION_REASON`]: telling them apart would tell an attacker which cells are small.
//!
//! # The audit ([`audit`])
//!
//! [`protect`] ends by running [`audit`], and fails rather than return a protection the audit
//! rejects. The audit plays an attacker who knows the published values and these rules:
//!
//! - Published cells and a published total are facts. A published small value (a cell or
//!   total with `1 <= v < k`) fails the audit outright.
//! - Each suppressed cell is an unknown integer `x` with a lower bound `L` and an upper bound
//!   `U`. With the total published, `L = 1` (zeros are published). Because the selection rule
//!   is public, `U = max(k-1, smallest published non-zero cell of its breakdown)`: primary
//!   cells are below `k`, complementary ones are never larger than a published cell. With no
//!   published non-zero cell there is no such bound (`U` is unbounded).
//! - **Total published** (or implied and not suppressed): per breakdown,
//!   `sum(x) = T - sum(published) = R`, and the feasible range of each unknown is
//!   `lo = max(L, R - (n-1)·U)`, `hi = min(U, R - (n-1)·L)` for `n` unknowns.
//! - **Total suppressed**: the attacker knows `1 <= T <= k-1` (a total of 0 is published;
//!   when the total was suppressed by rule 3's fallback it is really larger, so assuming
//!   `T < k` only gives the audit's attacker *more* knowledge, never less), and every
//!   breakdown must add up to the same `T`. Each unknown has `L = 0` when every cell of the
//!   family is hidden, as rule 2 does; if any cell is published the family is visibly not
//!   wholly hidden, so zeros would have been published, and `L = 1` (this is how the audit
//!   catches the spec document's weaker "non-zero cells only" variant of rule 2). The
//!   range of `T` is `[1, k-1]` narrowed by every breakdown's `[P + n·L, P + n·U]`; an
//!   unknown's range uses the range of `T` allowed by the *other* breakdowns.
//! - **No total and a single breakdown**: no equation; each unknown ranges over `[1, U]`,
//!   which covers `1..=k-1` by construction.
//!
//! The audit passes when every unknown's range (and a suppressed total's range) contains
//! every value `1..=k-1`, i.e. `lo <= 1` and `hi >= k-1`. All the attacker's assumptions only
//! ever narrow the feasible ranges, so a pass under this model holds for any attacker who
//! knows less. The ranges are exact for this model: integers in boxes with one sum
//! constraint (per breakdown, joined by a common `T`) reach every integer between their
//! extremes; the unit tests confirm it by exhaustive reachable-sum enumeration.
//!
//! # Determinism
//!
//! The result depends only on the values, their order and the category labels. Swapping the
//! raw values of two cells that end up suppressed in one breakdown leaves the suppression
//! pattern unchanged (the choices depend only on the sorted sequence of values, the count and
//! sum of the suppressed cells, and the smallest published cell), which is what keeps every
//! API response byte-identical under such a swap.

mod audit;
mod closure;
pub mod linked;
mod lp;

use thiserror::Error;

/// The smallest threshold the service accepts: `k` below 5 is refused at start-up.
pub const MIN_ALLOWED_K: i64 = 5;

/// The default threshold, `k` = 11 (the CMS rule: suppress counts of 1 to 10).
pub const DEFAULT_K: i64 = 11;

/// The one reason recorded for every suppressed cell, primary and complementary alike
/// (telling them apart would tell an attacker which cells are small).
pub const SUPPRESSION_REASON: &str = "small_count";

/// The disclosure-control threshold: counts `v` with `1 <= v < k` are never published.
///
/// Construct it with [`Policy::new`], which refuses thresholds below [`MIN_ALLOWED_K`];
/// [`Policy::default`] gives [`DEFAULT_K`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    k: i64,
}

impl Policy {
    /// A policy with threshold `k`.
    ///
    /// Returns [`PolicyError::BelowMinimum`] when `k < MIN_ALLOWED_K`; its message names the
    /// setting (`--min-cell`, env `SANCTUARY_MIN_CELL`) and the minimum.
    pub fn new(k: i64) -> Result<Policy, PolicyError> {
        if k < MIN_ALLOWED_K {
            Err(PolicyError::BelowMinimum { k })
        } else {
            Ok(Policy { k })
        }
    }

    /// The threshold `k`: counts from 1 to `k - 1` are suppressed.
    pub fn k(&self) -> i64 {
        self.k
    }
}

impl Default for Policy {
    /// The policy with [`DEFAULT_K`].
    fn default() -> Self {
        Policy { k: DEFAULT_K }
    }
}

/// A threshold the service refuses to run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// The configured threshold is below [`MIN_ALLOWED_K`].
    #[error(
        "--min-cell (env SANCTUARY_MIN_CELL) is {k}, but it must be at least {min}: smaller counts can identify people",
        min = MIN_ALLOWED_K
    )]
    BelowMinimum {
        /// The refused threshold (a setting, not data).
        k: i64,
    },
}

// TO BE REMOVED after the importer switches to `linked::protect` (issue #11): the per-family
// engine below (`Family`, `Protection`, `DisclosureError`, `protect`, `audit`) protects each
// (program, metric, period) alone and picks complements by a value-dependent selection rule;
// both are unsafe against the attacks of issue #11. `Policy`, `PolicyError`, `DEFAULT_K`,
// `MIN_ALLOWED_K` and `SUPPRESSION_REASON` stay.

/// One table family: the statistics of one (program, metric, period).
///
/// `total` is the row with dimension `total`, if any; `breakdowns` are one-dimensional
/// breakdowns of that same total (by channel, by age group, ...), each a list of raw
/// non-negative cell values in the order the caller uses for [`Protection::suppressed`] and
/// for the category labels given to [`protect`].
#[derive(Debug, Clone, Copy)]
pub struct Family<'a> {
    /// The family's total, when there is a total row.
    pub total: Option<i64>,
    /// The breakdowns of the total, each a list of raw cell values.
    pub breakdowns: &'a [Vec<i64>],
}

/// Which values of a [`Family`] are withheld. It holds no values, only the pattern: a
/// published value is always the raw value itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protection {
    /// Whether the family's total is suppressed. When the family has no total row this is
    /// true exactly when the whole family is hidden because its implied total (the common sum
    /// of two or more breakdowns) is treated as suppressed; there is then no row to hide.
    pub total_suppressed: bool,
    /// `suppressed[b][i]`: whether cell `i` of breakdown `b` is suppressed.
    pub suppressed: Vec<Vec<bool>>,
}

impl Protection {
    /// Suppress the total and every cell of every breakdown (rule 2).
    fn suppress_everything(&mut self) {
        self.total_suppressed = true;
        for cells in &mut self.suppressed {
            cells.fill(true);
        }
    }
}

/// Why a family cannot be published. Messages never contain raw values: they name a
/// breakdown by its index in [`Family::breakdowns`] (the importer maps it to a group name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DisclosureError {
    /// The cells of breakdown `breakdown` do not add up to the total (or, without a total
    /// row, to the sum of breakdown 0); the audit needs additivity.
    #[error(
        "the cells of breakdown {breakdown} do not add up to the family's total (values withheld: disclosure control)"
    )]
    NotAdditive {
        /// Index of the offending breakdown.
        breakdown: usize,
    },
    /// The audit found that breakdown `breakdown` (or the total, when `None`) still
    /// discloses a small count.
    #[error("{}", audit_failed_message(.breakdown))]
    AuditFailed {
        /// Index of the disclosing breakdown; `None` for the total.
        breakdown: Option<usize>,
    },
    /// A count is negative: in breakdown `breakdown`, or the total when `None`.
    #[error("{}", negative_value_message(.breakdown))]
    NegativeValue {
        /// Index of the breakdown holding the negative count; `None` for the total.
        breakdown: Option<usize>,
    },
}

fn audit_failed_message(breakdown: &Option<usize>) -> String {
    match breakdown {
        Some(b) => format!(
            "disclosure audit failed: a suppressed cell of breakdown {b} could still be narrowed down (values withheld)"
        ),
        None => "disclosure audit failed: the family's total could still be narrowed down (values withheld)"
            .to_owned(),
    }
}

fn negative_value_message(breakdown: &Option<usize>) -> String {
    match breakdown {
        Some(b) => format!("breakdown {b} has a negative count; counts must be non-negative"),
        None => "the family's total is negative; counts must be non-negative".to_owned(),
    }
}

/// Protect one family: primary suppression, the small-total rule, complementary suppression
/// per breakdown, then [`audit`]. Deterministic.
///
/// `categories[b][i]` is the category label of cell `i` of breakdown `b`; it breaks ties
/// between equal values (label ascending, then position). A missing label counts as `""`.
///
/// Errors: [`DisclosureError::NegativeValue`], [`DisclosureError::NotAdditive`], and
/// [`DisclosureError::AuditFailed`] if the result would not pass the audit (the rules are
/// built so that this does not happen).
pub fn protect(
    policy: Policy,
    family: &Family,
    categories: &[Vec<String>],
) -> Result<Protection, DisclosureError> {
    let k = i128::from(policy.k);
    let total = known_total(family)?;
    let mut protection = Protection {
        total_suppressed: false,
        suppressed: family
            .breakdowns
            .iter()
            .map(|cells| cells.iter().map(|&v| is_small(v, k)).collect())
            .collect(),
    };
    match total {
        // No equation (a lone breakdown without a total), or all zeros: primary only.
        None | Some(0) => {}
        Some(t) if t < k => protection.suppress_everything(),
        Some(t) => {
            let all_protected = family
                .breakdowns
                .iter()
                .zip(&mut protection.suppressed)
                .enumerate()
                .all(|(b, (cells, suppressed))| {
                    complement(k, t, cells, |i| label(categories, b, i), suppressed)
                });
            if !all_protected {
                protection.suppress_everything();
            }
        }
    }
    audit(policy, family, &protection)?;
    Ok(protection)
}

/// The audit alone: check that `protection` of `family` discloses no small count.
///
/// It fails on a published small value (`1 <= v < k`, cell or total), and on any suppressed
/// cell (or suppressed total) whose feasible integer range, as an attacker who knows the
/// published values and the rules can infer it, does not contain every value `1..=k-1`. The
/// attacker model is described in the module documentation. Validation errors
/// ([`DisclosureError::NegativeValue`], [`DisclosureError::NotAdditive`]) come first; a
/// protection whose shape does not match the family fails the audit.
pub fn audit(
    policy: Policy,
    family: &Family,
    protection: &Protection,
) -> Result<(), DisclosureError> {
    let k = i128::from(policy.k);
    let total = known_total(family)?;
    let fail = |breakdown| Err(DisclosureError::AuditFailed { breakdown });

    if protection.suppressed.len() != family.breakdowns.len() {
        return fail(None);
    }
    for (b, (cells, suppressed)) in family
        .breakdowns
        .iter()
        .zip(&protection.suppressed)
        .enumerate()
    {
        let published_small = cells
            .iter()
            .zip(suppressed)
            .any(|(&v, &hidden)| !hidden && is_small(v, k));
        if cells.len() != suppressed.len() || published_small {
            return fail(Some(b));
        }
    }
    if let Some(t) = family.total
        && !protection.total_suppressed
        && is_small(t, k)
    {
        return fail(None);
    }

    // A lone breakdown without a total: no equation, each unknown ranges over [1, U] with
    // U >= k-1, which covers 1..=k-1.
    let Some(t) = total else {
        return Ok(());
    };
    let views: Vec<View> = family
        .breakdowns
        .iter()
        .zip(&protection.suppressed)
        .map(|(cells, suppressed)| View::of(k, cells, suppressed))
        .collect();

    if !protection.total_suppressed {
        // The total is known, so the breakdowns share no unknowns: audit each on its own.
        for (b, view) in views.iter().enumerate() {
            if view.unknowns > 0 && !view.cell_span(1, Span::exactly(t)).covers_small_values(k) {
                return fail(Some(b));
            }
        }
        return Ok(());
    }

    // The total is hidden: the attacker knows 1 <= T <= k-1 and that every breakdown adds up
    // to the same T. Unknowns may be 0 only when the whole family is hidden (rule 2); if any
    // cell is published, zeros would have been published too.
    let everything_hidden = protection.suppressed.iter().flatten().all(|&hidden| hidden);
    let lower = if everything_hidden { 0 } else { 1 };
    let assumed = Span { lo: 1, hi: k - 1 };
    let total_span_without = |skip: Option<usize>| {
        views
            .iter()
            .enumerate()
            .filter(|&(b, _)| Some(b) != skip)
            .fold(assumed, |span, (_, view)| span.meet(view.total_span(lower)))
    };
    if !total_span_without(None).covers_small_values(k) {
        return fail(None);
    }
    for (b, view) in views.iter().enumerate() {
        if view.unknowns > 0
            && !view
                .cell_span(lower, total_span_without(Some(b)))
                .covers_small_values(k)
        {
            return fail(Some(b));
        }
    }
    Ok(())
}

/// Whether `v` is a small count (`1 <= v < k`).
fn is_small(v: i64, k: i128) -> bool {
    v >= 1 && i128::from(v) < k
}

/// The category label of cell `i` of breakdown `b`, or `""` when it is missing.
fn label(categories: &[Vec<String>], b: usize, i: usize) -> &str {
    categories
        .get(b)
        .and_then(|labels| labels.get(i))
        .map_or("", String::as_str)
}

/// Validate the family and return the total the attacker can reason with: the total row,
/// or the common sum of two or more breakdowns without one (rule 5), or `None` for a lone
/// breakdown (or none) without a total.
fn known_total(family: &Family) -> Result<Option<i128>, DisclosureError> {
    if family.total.is_some_and(|t| t < 0) {
        return Err(DisclosureError::NegativeValue { breakdown: None });
    }
    if let Some(b) = family
        .breakdowns
        .iter()
        .position(|cells| cells.iter().any(|&v| v < 0))
    {
        return Err(DisclosureError::NegativeValue { breakdown: Some(b) });
    }
    let sums: Vec<i128> = family
        .breakdowns
        .iter()
        .map(|cells| cells.iter().map(|&v| i128::from(v)).sum())
        .collect();
    let total = match (family.total, sums.as_slice()) {
        (Some(t), _) => i128::from(t),
        (None, [first, _, ..]) => *first,
        (None, _) => return Ok(None),
    };
    match sums.iter().position(|&sum| sum != total) {
        Some(breakdown) => Err(DisclosureError::NotAdditive { breakdown }),
        None => Ok(Some(total)),
    }
}

/// Complementary suppression for one breakdown whose total `total` (>= k) the attacker
/// knows. Adds cells to `suppressed` until the breakdown is protected; returns false when
/// even suppressing every non-zero cell is not enough (the caller then hides the total).
fn complement<'c>(
    k: i128,
    total: i128,
    cells: &[i64],
    label: impl Fn(usize) -> &'c str,
    suppressed: &mut [bool],
) -> bool {
    loop {
        let view = View::of(k, cells, suppressed);
        let protected = view.unknowns == 0
            || (view.unknowns >= 2
                && total - view.published_sum >= k
                && view
                    .cell_span(1, Span::exactly(total))
                    .covers_small_values(k));
        if protected {
            return true;
        }
        let next = (0..cells.len())
            .filter(|&i| !suppressed[i] && cells[i] > 0)
            .min_by(|&a, &b| (cells[a], label(a), a).cmp(&(cells[b], label(b), b)));
        match next {
            Some(i) => suppressed[i] = true,
            None => return false,
        }
    }
}

/// No upper bound (the selection rule gives none when nothing non-zero is published).
const UNBOUNDED: i128 = i128::MAX;

/// An integer range `lo..=hi` (empty when `lo > hi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    lo: i128,
    hi: i128,
}

impl Span {
    fn exactly(v: i128) -> Span {
        Span { lo: v, hi: v }
    }

    /// The intersection of two ranges.
    fn meet(self, other: Span) -> Span {
        Span {
            lo: self.lo.max(other.lo),
            hi: self.hi.min(other.hi),
        }
    }

    /// Whether every small value `1..=k-1` lies in the range.
    fn covers_small_values(self, k: i128) -> bool {
        self.lo <= 1 && self.hi >= k - 1
    }
}

/// What an attacker sees of one breakdown.
#[derive(Debug, Clone, Copy)]
struct View {
    /// How many cells are suppressed.
    unknowns: i128,
    /// The sum of the published cells.
    published_sum: i128,
    /// The upper bound the public selection rule gives each suppressed cell:
    /// max(k-1, smallest published non-zero cell), or [`UNBOUNDED`].
    upper: i128,
}

impl View {
    fn of(k: i128, cells: &[i64], suppressed: &[bool]) -> View {
        let mut view = View {
            unknowns: 0,
            published_sum: 0,
            upper: UNBOUNDED,
        };
        let mut smallest_published: Option<i128> = None;
        for (&v, &hidden) in cells.iter().zip(suppressed) {
            let v = i128::from(v);
            if hidden {
                view.unknowns += 1;
            } else {
                view.published_sum += v;
                if v > 0 {
                    smallest_published = Some(smallest_published.map_or(v, |s| s.min(v)));
                }
            }
        }
        if let Some(s) = smallest_published {
            view.upper = s.max(k - 1);
        }
        view
    }

    /// The values the breakdown's total can take when each unknown lies in
    /// `lower..=self.upper`.
    fn total_span(&self, lower: i128) -> Span {
        Span {
            lo: self.published_sum + self.unknowns * lower,
            hi: self
                .published_sum
                .saturating_add(self.unknowns.saturating_mul(self.upper)),
        }
    }

    /// The values one unknown can take when each unknown lies in `lower..=self.upper` and
    /// the breakdown's total lies in `total`.
    fn cell_span(&self, lower: i128, total: Span) -> Span {
        let others = self.unknowns - 1;
        Span {
            lo: lower.max(
                (total.lo - self.published_sum).saturating_sub(others.saturating_mul(self.upper)),
            ),
            hi: self
                .upper
                .min(total.hi - self.published_sum - others * lower),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy(k: i64) -> Policy {
        Policy::new(k).expect("k >= 5")
    }

    /// Labels "c00", "c01", ... in position order, so that ties between equal values go to
    /// the earlier cell.
    fn labels(breakdowns: &[Vec<i64>]) -> Vec<Vec<String>> {
        breakdowns
            .iter()
            .map(|cells| (0..cells.len()).map(|i| format!("c{i:02}")).collect())
            .collect()
    }

    fn run(
        k: i64,
        total: Option<i64>,
        breakdowns: &[Vec<i64>],
    ) -> Result<Protection, DisclosureError> {
        let family = Family { total, breakdowns };
        protect(policy(k), &family, &labels(breakdowns))
    }

    /// What the importer publishes: `None` for a suppressed value.
    fn published(family: &Family, protection: &Protection) -> (Option<i64>, Vec<Vec<Option<i64>>>) {
        let total = family.total.filter(|_| !protection.total_suppressed);
        let cells = family
            .breakdowns
            .iter()
            .zip(&protection.suppressed)
            .map(|(cells, hidden)| {
                cells
                    .iter()
                    .zip(hidden)
                    .map(|(&v, &h)| (!h).then_some(v))
                    .collect()
            })
            .collect();
        (total, cells)
    }

    // ---- Exhaustive check of the attacker model, independent of the interval formulas ----

    /// `reach[s]`: whether `n` integers, each in `lo..=hi`, can add up to `s` (for
    /// `s` in `0..=cap`). Exact, by enumerating reachable partial sums.
    fn reachable_sums(n: usize, lo: i64, hi: i64, cap: i64) -> Vec<bool> {
        let cap = cap.max(0) as usize;
        let mut reach = vec![false; cap + 1];
        reach[0] = true;
        for _ in 0..n {
            let mut next = vec![false; cap + 1];
            for s in (0..=cap).filter(|&s| reach[s]) {
                for v in lo.max(0)..=hi.min((cap - s) as i64) {
                    next[s + v as usize] = true;
                }
            }
            reach = next;
        }
        reach
    }

    /// Check, by exhaustive enumeration of reachable sums under the attacker model, that
    /// every suppressed cell (and a suppressed total) can take every value in `1..=k-1`.
    /// Returns a description of the first leak found.
    fn brute_force_leak(k: i64, family: &Family, protection: &Protection) -> Option<String> {
        let total = family.total.or_else(|| {
            (family.breakdowns.len() >= 2).then(|| family.breakdowns[0].iter().sum())
        })?;
        let everything_hidden = protection.suppressed.iter().flatten().all(|&h| h);
        let (lower, totals): (i64, Vec<i64>) = if protection.total_suppressed {
            (if everything_hidden { 0 } else { 1 }, (1..k).collect())
        } else {
            (1, vec![total])
        };
        let cap = *totals.iter().max()?;
        struct Seen {
            n: usize,
            published: i64,
            upper: i64,
            all: Vec<bool>,
            but_one: Vec<bool>,
        }
        let seen: Vec<Seen> = family
            .breakdowns
            .iter()
            .zip(&protection.suppressed)
            .map(|(cells, hidden)| {
                let n = hidden.iter().filter(|&&h| h).count();
                let published = cells
                    .iter()
                    .zip(hidden)
                    .filter(|(_, h)| !**h)
                    .map(|(v, _)| v)
                    .sum();
                let upper = cells
                    .iter()
                    .zip(hidden)
                    .filter(|(v, h)| !**h && **v > 0)
                    .map(|(v, _)| (*v).max(k - 1))
                    .min()
                    .unwrap_or(cap)
                    .min(cap);
                Seen {
                    n,
                    published,
                    upper,
                    all: reachable_sums(n, lower, upper, cap),
                    but_one: reachable_sums(n.saturating_sub(1), lower, upper, cap),
                }
            })
            .collect();
        let fits = |reach: &[bool], s: i64| s >= 0 && s <= cap && reach[s as usize];
        let others_fit = |skip: usize, t: i64| {
            seen.iter()
                .enumerate()
                .all(|(b, s)| b == skip || fits(&s.all, t - s.published))
        };
        if protection.total_suppressed {
            for t in 1..k {
                if !totals.contains(&t) || !others_fit(usize::MAX, t) {
                    return Some(format!("total cannot be {t}"));
                }
            }
        }
        for (b, s) in seen.iter().enumerate() {
            if s.n == 0 {
                continue;
            }
            for v in 1..k {
                let possible = v >= lower
                    && v <= s.upper
                    && totals
                        .iter()
                        .any(|&t| fits(&s.but_one, t - s.published - v) && others_fit(b, t));
                if !possible {
                    return Some(format!("a cell of breakdown {b} cannot be {v}"));
                }
            }
        }
        None
    }

    // ---- Policy ----

    #[test]
    fn policy_below_minimum_names_the_setting_and_the_minimum() {
        let error = Policy::new(4).unwrap_err();
        assert_eq!(error, PolicyError::BelowMinimum { k: 4 });
        let message = error.to_string();
        assert!(message.contains("--min-cell"), "{message}");
        assert!(message.contains("SANCTUARY_MIN_CELL"), "{message}");
        assert!(message.contains("at least 5"), "{message}");
        assert_eq!(Policy::new(5).unwrap().k(), 5);
        assert_eq!(Policy::new(DEFAULT_K).unwrap().k(), 11);
        assert_eq!(Policy::default().k(), DEFAULT_K);
        assert!(Policy::new(i64::MIN).is_err());
    }

    // ---- Primary suppression ----

    #[test]
    fn k11_suppresses_ten_publishes_eleven_and_zero() {
        let protection = run(11, None, &[vec![10, 11, 0]]).unwrap();
        assert_eq!(protection.suppressed, vec![vec![true, false, false]]);
        assert!(!protection.total_suppressed);

        // With a total, the 10 needs a complement, but the 0 is still published as 0.
        let breakdowns = [vec![10, 0, 11, 30]];
        let family = Family {
            total: Some(51),
            breakdowns: &breakdowns,
        };
        let protection = protect(policy(11), &family, &labels(&breakdowns)).unwrap();
        let (total, cells) = published(&family, &protection);
        assert_eq!(total, Some(51));
        assert_eq!(cells, vec![vec![None, Some(0), None, Some(30)]]);
    }

    #[test]
    fn lone_breakdown_without_total_needs_no_complement() {
        let protection = run(11, None, &[vec![5, 20, 30]]).unwrap();
        assert_eq!(protection.suppressed, vec![vec![true, false, false]]);
        assert!(!protection.total_suppressed);
    }

    // ---- Complementary suppression ----

    #[test]
    fn tau_argus_golden_case() {
        // k = 3 is below the service's minimum; the golden case is defined at k = 3.
        let k3 = Policy { k: 3 };
        let breakdowns = [vec![4, 3, 1]];
        let categories = vec![vec!["A".to_owned(), "B".to_owned(), "C".to_owned()]];
        let family = Family {
            total: Some(8),
            breakdowns: &breakdowns,
        };
        let protection = protect(k3, &family, &categories).unwrap();
        assert_eq!(protection.suppressed, vec![vec![false, true, true]]);
        assert!(!protection.total_suppressed);
        assert_eq!(audit(k3, &family, &protection), Ok(()));
        assert_eq!(brute_force_leak(3, &family, &protection), None);
    }

    #[test]
    fn near_tie_10_12_12_suppresses_all_three() {
        let breakdowns = [vec![10, 12, 12]];
        let family = Family {
            total: Some(34),
            breakdowns: &breakdowns,
        };
        let protection = protect(policy(11), &family, &labels(&breakdowns)).unwrap();
        assert_eq!(protection.suppressed, vec![vec![true, true, true]]);
        assert!(!protection.total_suppressed, "the total 34 stays published");

        // The naive pattern (10 and one 12) pins the 10, and the audit says so.
        let leaky = Protection {
            total_suppressed: false,
            suppressed: vec![vec![true, true, false]],
        };
        assert_eq!(
            audit(policy(11), &family, &leaky),
            Err(DisclosureError::AuditFailed { breakdown: Some(0) })
        );
        assert!(brute_force_leak(11, &family, &leaky).is_some());
    }

    #[test]
    fn one_suppressed_cell_gets_a_complement() {
        // 5 alone would be total - published = 5.
        let protection = run(11, Some(145), &[vec![100, 5, 40]]).unwrap();
        assert_eq!(protection.suppressed, vec![vec![false, true, true]]);
    }

    #[test]
    fn suppressed_cells_summing_below_k_get_more() {
        // 3 + 4 = 7 < 11: add the smallest published non-zero cell, 50.
        let protection = run(11, Some(117), &[vec![3, 4, 50, 60]]).unwrap();
        assert_eq!(protection.suppressed, vec![vec![true, true, true, false]]);
    }

    #[test]
    fn nothing_small_means_nothing_suppressed() {
        let protection = run(11, Some(141), &[vec![11, 0, 30, 100]]).unwrap();
        assert_eq!(protection.suppressed, vec![vec![false; 4]]);
        assert!(!protection.total_suppressed);
    }

    #[test]
    fn a_breakdown_that_cannot_be_protected_hides_the_total() {
        // Eleven cells of 1 with total 11: all suppressed, each is still pinned to 1.
        let ones = [vec![1; 11]];
        let protection = run(11, Some(11), &ones).unwrap();
        assert!(protection.total_suppressed);
        assert_eq!(protection.suppressed, vec![vec![true; 11]]);

        let without_fallback = Protection {
            total_suppressed: false,
            suppressed: vec![vec![true; 11]],
        };
        let family = Family {
            total: Some(11),
            breakdowns: &ones,
        };
        assert_eq!(
            audit(policy(11), &family, &without_fallback),
            Err(DisclosureError::AuditFailed { breakdown: Some(0) })
        );
    }

    #[test]
    fn the_synthetic_example_family() {
        // examples/synthetic-breakdowns, Q1: total 1000 with four breakdowns.
        let breakdowns = [
            vec![930, 62, 8],                                  // channel
            vec![120, 210, 400, 230, 40],                      // age group
            vec![610, 350, 25, 9, 6],                          // language
            vec![150, 130, 3, 120, 110, 140, 97, 0, 150, 100], // ward
        ];
        let protection = run(11, Some(1000), &breakdowns).unwrap();
        assert!(!protection.total_suppressed);
        let hidden = |b: usize| -> Vec<usize> {
            (0..breakdowns[b].len())
                .filter(|&i| protection.suppressed[b][i])
                .collect()
        };
        assert_eq!(hidden(0), [1, 2], "8 and its complement 62");
        assert_eq!(hidden(1), [0usize; 0]);
        assert_eq!(hidden(2), [3, 4], "9 + 6 = 15 >= k, bounded by 25: safe");
        assert_eq!(hidden(3), [2, 6], "3 and its complement 97; the 0 stays");
    }

    // ---- Small totals (rule 2) ----

    #[test]
    fn small_total_suppresses_the_whole_family_including_zeros() {
        // Ten categories of 1 with a zero beside them, total 10: hiding only the ones would
        // pin each of them to 1.
        let mut by_ward = vec![1; 10];
        by_ward.push(0);
        let breakdowns = [by_ward, vec![10, 0]];
        let family = Family {
            total: Some(10),
            breakdowns: &breakdowns,
        };
        let protection = protect(policy(11), &family, &labels(&breakdowns)).unwrap();
        assert!(protection.total_suppressed);
        assert_eq!(
            protection.suppressed,
            vec![vec![true; 11], vec![true, true]]
        );
        assert_eq!(brute_force_leak(11, &family, &protection), None);

        // Why zeros are hidden too: with the zeros published (the spec document's wording),
        // the ten hidden cells are each >= 1 and add up to at most 10, so all are 1.
        let mut zeros_published = protection.clone();
        zeros_published.suppressed[0][10] = false;
        zeros_published.suppressed[1][1] = false;
        assert_eq!(
            audit(policy(11), &family, &zeros_published),
            Err(DisclosureError::AuditFailed { breakdown: None })
        );
        assert!(brute_force_leak(11, &family, &zeros_published).is_some());
    }

    #[test]
    fn zero_total_is_published() {
        let protection = run(11, Some(0), &[vec![0, 0, 0], vec![0]]).unwrap();
        assert!(!protection.total_suppressed);
        assert_eq!(protection.suppressed, vec![vec![false; 3], vec![false]]);
    }

    #[test]
    fn small_total_without_breakdowns_is_suppressed() {
        let protection = run(11, Some(7), &[]).unwrap();
        assert!(protection.total_suppressed);
        let protection = run(11, Some(11), &[]).unwrap();
        assert!(!protection.total_suppressed);
    }

    // ---- Linked breakdowns ----

    #[test]
    fn linked_breakdowns_are_protected_independently_against_one_total() {
        let breakdowns = [vec![1, 20, 20, 100], vec![141, 0]];
        let protection = run(11, Some(141), &breakdowns).unwrap();
        assert!(!protection.total_suppressed);
        assert_eq!(
            protection.suppressed,
            vec![vec![true, true, false, false], vec![false, false]]
        );
    }

    #[test]
    fn a_hidden_total_hides_every_linked_breakdown() {
        // By ward: eleven cells of 1 cannot be protected with the total 11 published, so the
        // total goes, and with it the channel breakdown that alone would be fine.
        let breakdowns = [vec![1; 11], vec![11, 0]];
        let family = Family {
            total: Some(11),
            breakdowns: &breakdowns,
        };
        let protection = protect(policy(11), &family, &labels(&breakdowns)).unwrap();
        assert!(protection.total_suppressed);
        assert_eq!(
            protection.suppressed,
            vec![vec![true; 11], vec![true, true]]
        );
        assert_eq!(audit(policy(11), &family, &protection), Ok(()));
        assert_eq!(brute_force_leak(11, &family, &protection), None);
    }

    #[test]
    fn breakdowns_without_a_total_row_are_linked_by_their_sum() {
        // By age 5, 20, 30 and by channel 55: the channel breakdown reveals the total, which
        // would reveal the 5.
        let protection = run(11, None, &[vec![5, 20, 30], vec![55]]).unwrap();
        assert!(!protection.total_suppressed);
        assert_eq!(
            protection.suppressed,
            vec![vec![true, true, false], vec![false]]
        );

        // A small implied total hides the whole family.
        let protection = run(11, None, &[vec![3, 0], vec![1, 2]]).unwrap();
        assert!(protection.total_suppressed);
        assert_eq!(
            protection.suppressed,
            vec![vec![true, true], vec![true, true]]
        );

        assert_eq!(
            run(11, None, &[vec![5, 20, 30], vec![56]]),
            Err(DisclosureError::NotAdditive { breakdown: 1 })
        );
    }

    // ---- Errors ----

    #[test]
    fn non_additive_breakdowns_are_refused_without_values() {
        let error = run(11, Some(1234), &[vec![1000, 234], vec![999, 7]]).unwrap_err();
        assert_eq!(error, DisclosureError::NotAdditive { breakdown: 1 });
        let message = error.to_string();
        assert!(message.contains("breakdown 1"), "{message}");
        for value in ["1234", "999", "7"] {
            assert!(!message.contains(value), "{message}");
        }
        assert_eq!(
            run(11, Some(20), &[vec![3, 4]]),
            Err(DisclosureError::NotAdditive { breakdown: 0 })
        );
        assert_eq!(
            run(11, Some(20), &[vec![]]),
            Err(DisclosureError::NotAdditive { breakdown: 0 })
        );
    }

    #[test]
    fn negative_values_are_refused_without_values() {
        let error = run(11, None, &[vec![5, 20], vec![-37]]).unwrap_err();
        assert_eq!(error, DisclosureError::NegativeValue { breakdown: Some(1) });
        assert!(!error.to_string().contains("37"));
        let error = run(11, Some(-37), &[]).unwrap_err();
        assert_eq!(error, DisclosureError::NegativeValue { breakdown: None });
        assert!(!error.to_string().contains("37"));
    }

    #[test]
    fn audit_failure_messages_name_the_place_not_the_values() {
        let some = DisclosureError::AuditFailed { breakdown: Some(2) }.to_string();
        assert!(some.contains("breakdown 2"), "{some}");
        let none = DisclosureError::AuditFailed { breakdown: None }.to_string();
        assert!(none.contains("total"), "{none}");
        assert!(!none.chars().any(|c| c.is_ascii_digit()), "{none}");
    }

    #[test]
    fn audit_rejects_published_small_values_and_bad_shapes() {
        let breakdowns = [vec![3, 40]];
        let family = Family {
            total: Some(43),
            breakdowns: &breakdowns,
        };
        let nothing = Protection {
            total_suppressed: false,
            suppressed: vec![vec![false, false]],
        };
        assert_eq!(
            audit(policy(11), &family, &nothing),
            Err(DisclosureError::AuditFailed { breakdown: Some(0) })
        );
        let small_total = Family {
            total: Some(7),
            breakdowns: &[],
        };
        let shown = Protection {
            total_suppressed: false,
            suppressed: vec![],
        };
        assert_eq!(
            audit(policy(11), &small_total, &shown),
            Err(DisclosureError::AuditFailed { breakdown: None })
        );
        let wrong_shape = Protection {
            total_suppressed: false,
            suppressed: vec![vec![true]],
        };
        assert_eq!(
            audit(policy(11), &family, &wrong_shape),
            Err(DisclosureError::AuditFailed { breakdown: Some(0) })
        );
        let too_many = Protection {
            total_suppressed: false,
            suppressed: vec![vec![true, true], vec![]],
        };
        assert_eq!(
            audit(policy(11), &family, &too_many),
            Err(DisclosureError::AuditFailed { breakdown: None })
        );
    }

    #[test]
    fn audit_of_a_hidden_total_is_checked_not_assumed() {
        // Everything hidden: every cell can be anything in 0..=k-1.
        let breakdowns = [vec![4, 0], vec![1, 1, 1, 1]];
        let family = Family {
            total: Some(4),
            breakdowns: &breakdowns,
        };
        let all = Protection {
            total_suppressed: true,
            suppressed: vec![vec![true, true], vec![true; 4]],
        };
        assert_eq!(audit(policy(5), &family, &all), Ok(()));
        assert_eq!(brute_force_leak(5, &family, &all), None);

        // A hidden total next to a fully published breakdown is pinned by it.
        let published_breakdown = Protection {
            total_suppressed: true,
            suppressed: vec![vec![true, true], vec![false; 4]],
        };
        assert!(audit(policy(5), &family, &published_breakdown).is_err());
        assert!(brute_force_leak(5, &family, &published_breakdown).is_some());
    }

    // ---- Determinism ----

    #[test]
    fn ties_are_broken_by_category_label_then_position() {
        let breakdowns = [vec![1, 20, 20, 100]];
        let family = Family {
            total: Some(141),
            breakdowns: &breakdowns,
        };
        let with = |names: [&str; 4]| {
            let categories = vec![names.iter().map(|s| s.to_string()).collect()];
            protect(policy(11), &family, &categories)
                .unwrap()
                .suppressed
        };
        assert_eq!(
            with(["a", "z", "b", "c"]),
            vec![vec![true, false, true, false]]
        );
        assert_eq!(
            with(["a", "b", "z", "c"]),
            vec![vec![true, true, false, false]]
        );
        assert_eq!(
            with(["a", "x", "x", "c"]),
            vec![vec![true, true, false, false]]
        );
        // Missing labels count as "" and fall back to position.
        assert_eq!(
            protect(policy(11), &family, &[]).unwrap().suppressed,
            vec![vec![true, true, false, false]]
        );
        // Same input, same output.
        assert_eq!(with(["a", "z", "b", "c"]), with(["a", "z", "b", "c"]));
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        let big = i64::MAX - 1;
        let protection = run(11, Some(i64::MAX), &[vec![big, 1], vec![i64::MAX]]).unwrap();
        assert_eq!(protection.suppressed, vec![vec![true, true], vec![false]]);
        let protection = run(11, None, &[vec![i64::MAX, i64::MAX, 3]]).unwrap();
        assert_eq!(protection.suppressed, vec![vec![false, false, true]]);
        assert!(run(11, Some(i64::MAX), &[vec![i64::MAX, i64::MAX]]).is_err());
    }

    #[test]
    fn exhaustive_small_breakdowns_pass_audit_and_brute_force() {
        for k in [5, 8, 11] {
            for a in 0..=14 {
                for b in 0..=14 {
                    for c in 0..=14 {
                        let breakdowns = [vec![a, b, c]];
                        let family = Family {
                            total: Some(a + b + c),
                            breakdowns: &breakdowns,
                        };
                        let protection = protect(policy(k), &family, &labels(&breakdowns)).unwrap();
                        assert_eq!(
                            brute_force_leak(k, &family, &protection),
                            None,
                            "k={k} cells={breakdowns:?} {protection:?}"
                        );
                    }
                }
            }
        }
    }

    // ---- Properties ----

    /// Counts skewed small.
    fn count() -> impl Strategy<Value = i64> {
        prop_oneof![0..12i64, 0..30i64, 0..200i64]
    }

    /// A random split of `total` into `cells` non-negative parts.
    fn partition(total: i64, cells: usize) -> impl Strategy<Value = Vec<i64>> {
        prop::collection::vec(0..=total, cells - 1).prop_map(move |mut cuts| {
            cuts.sort_unstable();
            cuts.push(total);
            let mut previous = 0;
            cuts.into_iter()
                .map(|cut| {
                    let part = cut - previous;
                    previous = cut;
                    part
                })
                .collect()
        })
    }

    /// A family: 1-3 breakdowns of 1-`max_cells` cells; the first has random counts, the
    /// others are random partitions of its sum; the total row is usually present. Labels
    /// come from a small alphabet so that label ties happen.
    fn family(
        max_cells: usize,
        count: BoxedStrategy<i64>,
    ) -> impl Strategy<Value = (Option<i64>, Vec<Vec<i64>>, Vec<Vec<String>>)> {
        (
            prop::collection::vec(count, 1..=max_cells),
            prop::collection::vec(1..=max_cells, 0..=2),
            prop::bool::weighted(0.85),
        )
            .prop_flat_map(|(first, other_sizes, has_total)| {
                let total: i64 = first.iter().sum();
                let others: Vec<_> = other_sizes
                    .into_iter()
                    .map(|n| partition(total, n))
                    .collect();
                (Just(first), others, Just(has_total.then_some(total)))
            })
            .prop_flat_map(|(first, others, total)| {
                let mut breakdowns = vec![first];
                breakdowns.extend(others);
                let labels: Vec<_> = breakdowns
                    .iter()
                    .map(|cells| {
                        prop::collection::vec(
                            prop::sample::select(vec!["a", "b", "c", "d"]).prop_map(String::from),
                            cells.len(),
                        )
                    })
                    .collect();
                (Just(total), Just(breakdowns), labels)
            })
    }

    /// Every property of a protected family; `exhaustive` requires the brute-force attack
    /// to run (it always runs for families with a total of at most 40 and at most 5 cells
    /// per breakdown).
    fn check_sound(
        k: i64,
        total: Option<i64>,
        breakdowns: &[Vec<i64>],
        categories: &[Vec<String>],
        exhaustive: bool,
    ) -> Result<(), TestCaseError> {
        let family = Family { total, breakdowns };
        let policy = policy(k);
        let protection = protect(policy, &family, categories).expect("protect succeeds");
        prop_assert_eq!(audit(policy, &family, &protection), Ok(()));
        prop_assert_eq!(&protect(policy, &family, categories).unwrap(), &protection);

        // Only suppresses, never changes: every published value is the raw one.
        let (shown_total, shown_cells) = published(&family, &protection);
        prop_assert_eq!(protection.suppressed.len(), breakdowns.len());
        for (b, cells) in breakdowns.iter().enumerate() {
            prop_assert_eq!(shown_cells[b].len(), cells.len());
            for (i, &v) in cells.iter().enumerate() {
                if let Some(shown) = shown_cells[b][i] {
                    prop_assert_eq!(shown, v);
                    prop_assert!(v == 0 || v >= k, "published small cell");
                } else if !protection.total_suppressed {
                    prop_assert!(v > 0, "a zero is hidden only with the whole family");
                }
            }
        }
        if let Some(t) = total {
            prop_assert_eq!(shown_total.is_some(), !protection.total_suppressed);
            if let Some(shown) = shown_total {
                prop_assert_eq!(shown, t);
                prop_assert!(shown == 0 || shown >= k);
            }
        }
        if protection.total_suppressed {
            prop_assert!(protection.suppressed.iter().flatten().all(|&h| h));
        }

        // With a known total, no breakdown has exactly one hidden cell, and the hidden
        // cells add up to 0 or at least k; the attacker's bounds hold for the truth.
        let known = total.or_else(|| (breakdowns.len() >= 2).then(|| breakdowns[0].iter().sum()));
        if let Some(t) = known
            && !protection.total_suppressed
        {
            for (cells, hidden) in breakdowns.iter().zip(&protection.suppressed) {
                let count = hidden.iter().filter(|&&h| h).count();
                prop_assert_ne!(count, 1);
                let shown: i64 = cells
                    .iter()
                    .zip(hidden)
                    .filter(|(_, h)| !**h)
                    .map(|(v, _)| v)
                    .sum();
                prop_assert!(t - shown == 0 || t - shown >= k);
                let smallest_shown = cells
                    .iter()
                    .zip(hidden)
                    .filter(|(v, h)| !**h && **v > 0)
                    .map(|(v, _)| *v)
                    .min();
                for (&v, _) in cells.iter().zip(hidden).filter(|(_, h)| **h) {
                    prop_assert!(v >= 1);
                    prop_assert!(v < k || smallest_shown.is_none_or(|s| v <= s));
                }
            }
        }

        // Exhaustive check of the attacker model on small families.
        let small =
            known.is_none_or(|t| t <= 40) && breakdowns.iter().all(|cells| cells.len() <= 5);
        prop_assert!(small || !exhaustive);
        if small {
            prop_assert_eq!(brute_force_leak(k, &family, &protection), None);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn protection_is_sound(
            (total, breakdowns, categories) in family(12, count().boxed()),
            k in 5i64..=15,
        ) {
            check_sound(k, total, &breakdowns, &categories, false)?;
        }

        #[test]
        fn small_families_resist_exhaustive_attack(
            (total, breakdowns, categories) in family(5, (0..=8i64).boxed()),
            k in 5i64..=15,
        ) {
            check_sound(k, total, &breakdowns, &categories, true)?;
        }

        #[test]
        fn swapping_two_suppressed_values_keeps_the_pattern(
            (total, breakdowns, categories) in family(12, count().boxed()),
            k in 5i64..=15,
        ) {
            let policy = policy(k);
            let family = Family { total, breakdowns: &breakdowns };
            let protection = protect(policy, &family, &categories).unwrap();
            for (b, hidden) in protection.suppressed.iter().enumerate() {
                let hidden_cells: Vec<usize> = (0..hidden.len()).filter(|&i| hidden[i]).collect();
                for (n, &i) in hidden_cells.iter().enumerate() {
                    for &j in &hidden_cells[n + 1..] {
                        let mut swapped = breakdowns.clone();
                        swapped[b].swap(i, j);
                        let family = Family { total, breakdowns: &swapped };
                        let again = protect(policy, &family, &categories).unwrap();
                        if again.suppressed[b][i] && again.suppressed[b][j] {
                            prop_assert_eq!(&again, &protection);
                        }
                    }
                }
            }
        }
    }
}
