//! The closure rule of [`super::linked`]: which cells a set of hidden cells forces to be
//! hidden, computed incrementally in time linear in the size of the system.
//!
//! - An equation with a hidden **member** hides all its non-zero members.
//! - An equation whose **total** is hidden hides all its members, zeros included.
//!
//! Only [`Role::Row`] and [`Role::StickyRow`] cells are ever hidden; a [`Role::KnownRow`] or
//! [`Role::Fact`] reached by the rule stays a constant. The rule reads only which cells are
//! zero, never how large a non-zero value is.

use super::linked::{Role, System};

/// For every cell, the equations it is a member of and the equations it is the total of
/// (compressed adjacency lists, built once per system).
pub(super) struct Index {
    member_start: Vec<usize>,
    member_eqs: Vec<usize>,
    total_start: Vec<usize>,
    total_eqs: Vec<usize>,
}

impl Index {
    /// Build the index. The system must be validated (every index in range).
    pub(super) fn new(system: &System) -> Index {
        let n = system.cells.len();
        let mut member_start = vec![0usize; n + 1];
        let mut total_start = vec![0usize; n + 1];
        for eq in &system.equations {
            total_start[eq.total + 1] += 1;
            for &m in &eq.members {
                member_start[m + 1] += 1;
            }
        }
        for i in 0..n {
            member_start[i + 1] += member_start[i];
            total_start[i + 1] += total_start[i];
        }
        let mut member_eqs = vec![0usize; member_start[n]];
        let mut total_eqs = vec![0usize; total_start[n]];
        let mut member_fill = member_start.clone();
        let mut total_fill = total_start.clone();
        for (e, eq) in system.equations.iter().enumerate() {
            total_eqs[total_fill[eq.total]] = e;
            total_fill[eq.total] += 1;
            for &m in &eq.members {
                member_eqs[member_fill[m]] = e;
                member_fill[m] += 1;
            }
        }
        Index {
            member_start,
            member_eqs,
            total_start,
            total_eqs,
        }
    }

    /// The equations cell `c` is a member of, ascending.
    pub(super) fn member_of(&self, c: usize) -> &[usize] {
        &self.member_eqs[self.member_start[c]..self.member_start[c + 1]]
    }

    /// The equations cell `c` is the total of, ascending.
    pub(super) fn total_of(&self, c: usize) -> &[usize] {
        &self.total_eqs[self.total_start[c]..self.total_start[c + 1]]
    }
}

/// Whether a cell of this role may be hidden at all.
pub(super) fn hideable(role: Role) -> bool {
    matches!(role, Role::Row | Role::StickyRow)
}

/// The hidden set, closed under the rule after every [`Closure::run`].
pub(super) struct Closure<'a> {
    system: &'a System,
    index: &'a Index,
    /// `hidden[c]`: whether cell `c` is hidden.
    pub(super) hidden: Vec<bool>,
    /// Cells hidden since the caller last drained it (in the order they were hidden).
    pub(super) newly_hidden: Vec<usize>,
    member_fired: Vec<bool>,
    total_fired: Vec<bool>,
    queue: Vec<usize>,
}

impl<'a> Closure<'a> {
    /// Nothing hidden yet.
    pub(super) fn new(system: &'a System, index: &'a Index) -> Closure<'a> {
        Closure {
            system,
            index,
            hidden: vec![false; system.cells.len()],
            newly_hidden: Vec::new(),
            member_fired: vec![false; system.equations.len()],
            total_fired: vec![false; system.equations.len()],
            queue: Vec::new(),
        }
    }

    /// Hide cell `c` (if its role allows it and it is not hidden yet); the consequences are
    /// drawn by the next [`Closure::run`]. Returns whether the cell became hidden.
    pub(super) fn hide(&mut self, c: usize) -> bool {
        if self.hidden[c] || !hideable(self.system.cells[c].role) {
            return false;
        }
        self.hidden[c] = true;
        self.queue.push(c);
        self.newly_hidden.push(c);
        true
    }

    /// Apply the rule until nothing changes. Every equation fires each of its two rules at
    /// most once over the life of the closure, so all runs together cost O(cells + the
    /// total size of the equations).
    pub(super) fn run(&mut self) {
        let (system, index) = (self.system, self.index);
        while let Some(c) = self.queue.pop() {
            for &e in index.member_of(c) {
                if !std::mem::replace(&mut self.member_fired[e], true) {
                    for &m in &system.equations[e].members {
                        if system.cells[m].value != 0 {
                            self.hide(m);
                        }
                    }
                }
            }
            for &e in index.total_of(c) {
                if !std::mem::replace(&mut self.total_fired[e], true) {
                    for &m in &system.equations[e].members {
                        self.hide(m);
                    }
                }
            }
        }
    }
}
