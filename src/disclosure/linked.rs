//! Linked-table disclosure control: everything published about one (program, metric) as one
//! system of cells and additive equations, protected jointly and audited as a whole.
//!
//! The importer builds one [`System`] per (program, metric): every statistics row of the
//! release being imported (all periods, dimensions and hierarchy levels), the facts an
//! attacker already has from earlier releases or can compute (implied totals), and one
//! [`Equation`] for every additive link between them (a breakdown adds up to its total, child
//! categories to their parent category, sub-periods to the period they tile, ...).
//! [`protect`] decides which rows are hidden; the module is pure (no I/O, no logging) and
//! its errors name cells and equations by index, never by value. The closure lives in
//! `closure.rs`, the audit in `audit.rs`, its integer programs in `lp.rs`; `linked/` holds
//! the tests, among them the gold-standard attacker (`linked/attacker.rs`).
//!
//! # Rules
//!
//! 0. **Validation.** Counts are non-negative ([`LinkedError::Negative`]), equations well
//!    formed ([`LinkedError::Malformed`]) and additive ([`LinkedError::NotAdditive`]).
//! 1. **Primary.** A [`Role::Row`] with `1 <= v < k` is hidden, whatever it is (a category,
//!    a total, a parent category, a period). Zeros are published. A [`Role::StickyRow`] is
//!    hidden whatever its value. [`Role::KnownRow`] and [`Role::Fact`] are never hidden.
//! 2. **Closure** (to a fixpoint): an equation with a hidden member hides all its non-zero
//!    members; an equation whose total is hidden hides all its members, zeros included. The
//!    closure reads which cells are zero and nothing else about hidden values: there is no
//!    "smallest remaining cell", so the pattern no longer ranks hidden cells.
//! 3. **Audit** of every connected component of hidden cells (`audit.rs`), below.
//! 4. **Fallback.** A failing component hides a total — the failing equation's, or, for a
//!    failing cell, that of the first equation it is a member of whose total is visible and
//!    hideable, else of the component's first such equation; a component larger than the
//!    LP bound hides the totals of all its equations — and the closure and the audit run
//!    again. When nothing hideable is left, [`LinkedError::Unprotectable`]. The choice
//!    reads the pattern and the structure only.
//!
//! # The attacker and the guarantee
//!
//! The attacker knows `k`, these rules and the code, every published value of every
//! release, every fact the importer put in the system (implied totals, earlier releases'
//! residuals), and which cells are hidden. Their *feasible set* is every vector of
//! non-negative integers that equals the published values and facts, satisfies every
//! equation and for which [`protect`] returns the published pattern.
//!
//! **Guarantee.** When [`protect`] returns, every hidden cell takes every value `1..=k-1`
//! in some vector of the feasible set (so it can be neither pinned nor narrowed within
//! `1..=k-1`), and the sum of the hidden members of an equation with a visible total is
//! at least `k`. It holds for the system as given: a link the importer does not put in the
//! system is not modelled.
//!
//! **Argument.** Let `H` be the returned pattern. The audit's verdict on `H` reads only
//! `H`, the structure and the values of cells outside `H` — which every vector of the
//! feasible set shares. The audit checks a *witness set* `W(H)` (`audit.rs`): integer
//! vectors `y` equal to the published values outside `H`, satisfying the equations, with
//! every hidden cell `>= lb` (`lb = 0` for sticky cells and members of an equation whose
//! total is hidden, `1` otherwise), and with a *seed* (a cell in `1..=k-1`, or a sticky
//! cell) in every source of the derivation graph (edges: a hidden total to its hidden
//! members; a hidden member to its co-members of `lb = 1` or sticky). For each hidden cell
//! `c` and each `t` in `1..=k-1`, it asks for a `y` in `W(H)` with `y[c] = t` (with `c`'s own
//! seed requirement dropped: `c` is then a seed). Every such `y` is in the feasible set:
//!
//! - *The first closure of `y` is `H`.* `H` is closed under the rules for `y`: outside `H`
//!   `y` equals the true values, and the true closure put every small row and every
//!   non-zero co-member of a hidden cell inside `H`. Conversely every cell of `H` is
//!   derived: the seeds are primary (or sticky) in `y`, and along each edge the rule fires
//!   whatever the values (a hidden total hides every member; a co-member with `lb = 1` is
//!   non-zero in `y`); every cell is reachable from a source.
//! - *Its audit passes.* The audit of `H` on `y` reads what it read on the true vector.
//!   So [`protect`] on `y` returns `H` with no fallback.
//!
//! The path the true vector took (which totals the fallback hid) never enters the
//! argument: witnesses reproduce `H` directly, and the final verdict is a function of what
//! is published. This is why the fallback decisions cannot leak: whatever they depended
//! on, the feasible set already contains the witnesses.
//!
//! **Exactness.** One equation with a visible total and `m` hidden members of bounds `lb`
//! and residual `R` has the closed form `m >= 2` and `R - (k-1) >= sum(lb) - min(lb)`
//! (O(size)). Any other component is decided by integer programs (`lp.rs`): for each
//! hidden cell and *each* `t` in `1..=k-1`, integer feasibility, first through the LP
//! relaxation (infeasible: no integer point; an integral vertex: a witness) and only when
//! the relaxation's point is fractional by branch and bound. No LP-versus-integer gap is
//! assumed, network matrix or not. Unknowns are bounded above by a value-independent bound
//! (sum of the absolute right-hand sides plus `k-1` per unknown), which shrinks `W` and
//! keeps branch and bound finite; it never makes a verdict unsound, only more cautious.
//!
//! **Limits.** (1) `W` is a *subset*: the audit may refuse what a perfect audit would
//! publish. Its witnesses must reproduce the pattern at the first closure, so a total the
//! fallback hid must itself be able to be small. When facts force it large (a new or
//! revised category in a group whose earlier release hid cells and left a residual fact),
//! the system is [`LinkedError::Unprotectable`]: refused, never leaked. (2) A component of
//! more than `LP_CELL_CAP` (80) unknowns (hidden cells; the leaves under one hidden
//! total count once) is not solved: its totals are hidden until it
//! splits into closed-form groups or nothing is left to hide (then refused); constants
//! above 2^30 likewise. (3) Only sums of hidden cells that one equation pins are checked
//! against `k`; a sum pinned by a combination of several equations is not. (4) The
//! guarantee is about the linear system: anything outside it (a value published elsewhere
//! and not given as a [`Role::Fact`]) is the importer's to model or to refuse.
//!
//! The tests hold the argument to account: `linked/attacker.rs` enumerates the raw vectors
//! that reproduce a published pattern by running [`protect`] itself, and the six attack
//! shapes of issue #11 and random linked systems (`linked/props.rs`) must leave every
//! hidden cell every value `1..=k-1`.

use super::Policy;
use super::audit::{self, Component, Failure};
use super::closure::{Closure, Index, hideable};
use thiserror::Error;

/// What a cell is to the release being imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A row of the release being imported; [`protect`] decides whether it is published.
    Row,
    /// A row of the release being imported that was hidden in an earlier release that is
    /// still queryable: it must stay hidden (sticky suppression).
    StickyRow,
    /// A row of the release being imported that an earlier, still queryable release
    /// published (the same cell; the importer's statuses are frozen, so whatever its value
    /// now): it is published and never relied on to hide anything.
    KnownRow,
    /// Not a row: a value the attacker knows or can compute (the implied total of
    /// breakdowns without a total row, an earlier release's residual of a hidden group).
    /// Never published by this release, never hidden either: a constant of the system.
    Fact,
}

/// One cell: a raw non-negative count and its [`Role`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// The raw count. Never leaves the module in an error or a log line.
    pub value: i64,
    /// What the cell is to this release.
    pub role: Role,
}

/// An additive link: `cells[total] == sum of cells[members]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equation {
    /// Index of the cell that is the sum.
    pub total: usize,
    /// Indices of the cells that add up to it (at least one, no repeats, not `total`).
    pub members: Vec<usize>,
}

/// Everything published about one (program, metric), as cells and equations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct System {
    /// The cells; [`Protected::hidden`] has one entry per cell.
    pub cells: Vec<Cell>,
    /// The additive links between them.
    pub equations: Vec<Equation>,
}

/// Which cells are hidden. Holds no values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    /// `hidden[i]`: whether cell `i` is withheld. Always false for [`Role::KnownRow`] and
    /// [`Role::Fact`], always true for [`Role::StickyRow`].
    pub hidden: Vec<bool>,
}

/// Why a system cannot be published. Messages never contain a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum LinkedError {
    /// Cell `cell` holds a negative count.
    #[error("cell {cell} holds a negative count; counts are non-negative")]
    Negative {
        /// Index of the cell.
        cell: usize,
    },
    /// Equation `equation` does not hold: its members do not add up to its total.
    #[error(
        "the cells of equation {equation} do not add up to its total (values withheld: disclosure control)"
    )]
    NotAdditive {
        /// Index of the equation.
        equation: usize,
    },
    /// Equation `equation` is malformed: an index out of range, no members, a repeated
    /// member, or its total among its members. A bug of the caller, reported, not a panic.
    #[error(
        "equation {equation} is malformed (an index out of range, no members, a repeated member or its total among its members)"
    )]
    Malformed {
        /// Index of the equation.
        equation: usize,
    },
    /// Cell `cell` cannot be protected: the facts an attacker already has (earlier
    /// releases, implied totals) pin or narrow it whatever this release hides.
    #[error(
        "cell {cell} cannot be protected: values already public pin or narrow it (values withheld: disclosure control)"
    )]
    Unprotectable {
        /// Index of the cell.
        cell: usize,
    },
}

/// Protect a system: decide which rows to hide so that no hidden cell can be pinned or
/// narrowed below `1..=k-1` by an attacker who knows the rules and every published value
/// and fact (the module documentation states the rules and the argument). Deterministic,
/// and a function of the published values and the zero pattern: raw values of hidden cells
/// never steer a decision.
///
/// Errors (by index, never by value): [`LinkedError::Negative`], [`LinkedError::Malformed`],
/// [`LinkedError::NotAdditive`], and [`LinkedError::Unprotectable`] when even hiding every
/// hideable total leaves a hidden cell narrowed by facts or known rows.
pub fn protect(policy: Policy, system: &System) -> Result<Protected, LinkedError> {
    validate(system)?;
    let k = policy.k();
    let index = Index::new(system);
    let mut closure = Closure::new(system, &index);
    for (c, cell) in system.cells.iter().enumerate() {
        let seed = match cell.role {
            Role::StickyRow => true,
            Role::Row => (1..k).contains(&cell.value),
            Role::KnownRow | Role::Fact => false,
        };
        if seed {
            closure.hide(c);
        }
    }
    closure.run();
    let mut dirty = vec![false; system.cells.len()];
    while !closure.newly_hidden.is_empty() {
        for c in closure.newly_hidden.drain(..) {
            dirty[c] = true;
        }
        let comps = audit::components(system, &closure.hidden, Some(&dirty));
        for comp in &comps {
            for &c in &comp.cells {
                dirty[c] = false;
            }
        }
        // Decide every component's fallback on the same pattern, then apply them together.
        let mut to_hide = Vec::new();
        for comp in &comps {
            if let Err(failure) = audit::audit(k, system, &index, &closure.hidden, comp) {
                fallback(system, &index, &closure.hidden, comp, failure, &mut to_hide)?;
            }
        }
        for c in to_hide {
            closure.hide(c);
        }
        closure.run();
    }
    Ok(Protected {
        hidden: closure.hidden,
    })
}

/// The fallback for a failing component: the totals to hide (value-independent: chosen from
/// the pattern and the structure only), or [`LinkedError::Unprotectable`].
fn fallback(
    system: &System,
    index: &Index,
    hidden: &[bool],
    comp: &Component,
    failure: Failure,
    to_hide: &mut Vec<usize>,
) -> Result<(), LinkedError> {
    let can_hide = |e: usize| {
        let t = system.equations[e].total;
        (!hidden[t] && hideable(system.cells[t].role)).then_some(t)
    };
    let before = to_hide.len();
    match failure {
        Failure::Equation { equation, cell } => {
            let Some(t) = can_hide(equation) else {
                return Err(LinkedError::Unprotectable { cell });
            };
            to_hide.push(t);
        }
        Failure::Cell { cell } => {
            let own = index.member_of(cell).iter().find_map(|&e| can_hide(e));
            match own.or_else(|| comp.equations.iter().find_map(|&e| can_hide(e))) {
                Some(t) => to_hide.push(t),
                None => return Err(LinkedError::Unprotectable { cell }),
            }
        }
        Failure::TooLarge { cell } => {
            to_hide.extend(comp.equations.iter().filter_map(|&e| can_hide(e)));
            if to_hide.len() == before {
                return Err(LinkedError::Unprotectable { cell });
            }
        }
    }
    Ok(())
}

/// Check the system before protecting it: counts non-negative, equations well formed and
/// additive. Errors name the first offending cell or equation.
fn validate(system: &System) -> Result<(), LinkedError> {
    let n = system.cells.len();
    if let Some(cell) = system.cells.iter().position(|c| c.value < 0) {
        return Err(LinkedError::Negative { cell });
    }
    let mut stamp = vec![usize::MAX; n];
    for (equation, eq) in system.equations.iter().enumerate() {
        let malformed = Err(LinkedError::Malformed { equation });
        if eq.total >= n || eq.members.is_empty() {
            return malformed;
        }
        stamp[eq.total] = equation;
        for &m in &eq.members {
            if m >= n || stamp[m] == equation {
                return malformed;
            }
            stamp[m] = equation;
        }
    }
    for (equation, eq) in system.equations.iter().enumerate() {
        let sum: i128 = eq
            .members
            .iter()
            .map(|&m| i128::from(system.cells[m].value))
            .sum();
        if sum != i128::from(system.cells[eq.total].value) {
            return Err(LinkedError::NotAdditive { equation });
        }
    }
    Ok(())
}

#[cfg(test)]
mod attacker;
#[cfg(test)]
mod props;
#[cfg(test)]
mod shapes;
#[cfg(test)]
mod tests;
