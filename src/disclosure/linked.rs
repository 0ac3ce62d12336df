//! Linked-table disclosure control: everything published about one (program, metric) as one
//! system of cells and additive equations, protected jointly and audited as a whole.
//!
//! The importer builds one [`System`] per (program, metric): every statistics row of the
//! release being imported (all periods, dimensions and hierarchy levels), the facts an
//! attacker already has from earlier releases or can compute (implied totals), and one
//! [`Equation`] for every additive link between them (a breakdown adds up to its total, child
//! categories to their parent category, sub-periods to the period they tile, ...).
//! [`protect`] decides which rows are hidden; the module is pure (no I/O, no logging) and
//! its errors name cells and equations by index, never by value.

use super::Policy;
use thiserror::Error;

/// What a cell is to the release being imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A row of the release being imported; [`protect`] decides whether it is published.
    Row,
    /// A row of the release being imported that was hidden in an earlier release that is
    /// still queryable: it must stay hidden (sticky suppression).
    StickyRow,
    /// A row of the release being imported whose value an earlier, still queryable release
    /// published (same cell, same value): it is public whatever this release does, so it is
    /// published and never relied on to hide anything.
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
/// and fact. Deterministic.
pub fn protect(policy: Policy, system: &System) -> Result<Protected, LinkedError> {
    let _ = policy;
    // Placeholder until the linked protection lands: hide every row that may be hidden.
    for (cell, c) in system.cells.iter().enumerate() {
        if c.value < 0 {
            return Err(LinkedError::Negative { cell });
        }
    }
    Ok(Protected {
        hidden: system
            .cells
            .iter()
            .map(|c| matches!(c.role, Role::Row | Role::StickyRow))
            .collect(),
    })
}
