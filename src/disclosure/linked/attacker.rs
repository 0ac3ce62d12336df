//! The gold-standard attacker of the tests: one who knows the rules (runs [`protect`]
//! itself), reads every published value and fact, and enumerates every raw vector that
//! could lie behind what is published.
//!
//! Given a system and its protection, [`attack`] enumerates every integer assignment of
//! the hidden cells within `0..=bound` that satisfies every equation with the published
//! values and facts fixed, runs [`protect`] on it and keeps the ones that reproduce the
//! published pattern. It reports, for each hidden cell, which small values (`1..=k-1`)
//! some survivor gives it. Survivors found within the bound are real survivors, so a small
//! value it reports is one the attacker cannot exclude; a value it misses is a leak unless
//! the bound cut off its witness (the tests choose bounds above every raw value).
//!
//! It is independent of the engine's audit: it uses no LP, no witness set and no closed
//! form, only the rules as a black box.

use super::*;

/// For every hidden cell (ascending), the small values some surviving raw vector gives it.
///
/// For each hidden cell and each small value it searches, depth first, for one surviving
/// raw vector with the cell fixed to that value (the same answer as enumerating every
/// survivor, found much sooner when one exists).
pub(crate) fn attack(policy: Policy, system: &System, bound: i64) -> Vec<(usize, Vec<i64>)> {
    let published = protect(policy, system).expect("the system is protectable");
    let k = policy.k();
    let hidden: Vec<usize> = (0..system.cells.len())
        .filter(|&c| published.hidden[c])
        .collect();
    let base: Vec<Option<i64>> = system
        .cells
        .iter()
        .enumerate()
        .map(|(c, cell)| (!published.hidden[c]).then_some(cell.value))
        .collect();
    let mut candidate = system.clone();
    let mut survives = |values: &[Option<i64>]| {
        for (c, v) in values.iter().enumerate() {
            candidate.cells[c].value = v.expect("assigned");
        }
        protect(policy, &candidate).is_ok_and(|p| p.hidden == published.hidden)
    };
    hidden
        .iter()
        .map(|&c| {
            let values = (1..k)
                .filter(|&t| {
                    let mut state = base.clone();
                    state[c] = Some(t);
                    search(system, &hidden, bound, &mut state, &mut survives)
                })
                .collect();
            (c, values)
        })
        .collect()
}

/// Panic with the first hidden cell that some value of `1..=k-1` cannot be given.
pub(crate) fn assert_safe(policy: Policy, system: &System, bound: i64) {
    let k = policy.k();
    for (c, values) in attack(policy, system, bound) {
        assert_eq!(
            values,
            (1..k).collect::<Vec<_>>(),
            "hidden cell {c} can only take {values:?} of 1..{k} for an attacker who knows the rules\n{system:?}\nhidden: {:?}",
            protect(policy, system).unwrap().hidden
        );
    }
}

/// Depth-first enumeration with propagation (an equation with one unknown left fixes it);
/// true as soon as `visit` accepts a complete assignment.
fn search(
    system: &System,
    hidden: &[usize],
    bound: i64,
    state: &mut Vec<Option<i64>>,
    visit: &mut dyn FnMut(&[Option<i64>]) -> bool,
) -> bool {
    let saved = state.clone();
    let found = propagate(system, state)
        && match hidden.iter().find(|&&c| state[c].is_none()) {
            None => visit(state),
            Some(&c) => (0..=bound).any(|v| {
                state[c] = Some(v);
                let found = search(system, hidden, bound, state, visit);
                state[c] = None;
                found
            }),
        };
    *state = saved;
    found
}

/// Apply every equation until nothing changes; false on a contradiction.
fn propagate(system: &System, state: &mut [Option<i64>]) -> bool {
    loop {
        let mut changed = false;
        for eq in &system.equations {
            let mut unknown: Option<(usize, bool)> = None;
            let mut unknowns = 0;
            let mut members_sum = 0i64;
            for &m in &eq.members {
                match state[m] {
                    Some(v) => members_sum += v,
                    None => {
                        unknowns += 1;
                        unknown = Some((m, false));
                    }
                }
            }
            let total = state[eq.total];
            if total.is_none() {
                unknowns += 1;
                unknown = Some((eq.total, true));
            }
            if total.is_some_and(|t| members_sum > t) {
                return false;
            }
            match (unknowns, unknown) {
                (0, _) if total != Some(members_sum) => return false,
                (0, _) => {}
                (1, Some((c, is_total))) => {
                    let v = if is_total {
                        members_sum
                    } else {
                        total.expect("known") - members_sum
                    };
                    if v < 0 {
                        return false;
                    }
                    state[c] = Some(v);
                    changed = true;
                }
                _ => {}
            }
        }
        if !changed {
            return true;
        }
    }
}
