//! Unit tests of the linked engine: the rules one by one, errors, determinism.

use super::*;
use crate::disclosure::DEFAULT_K;

pub(super) fn row(value: i64) -> Cell {
    Cell {
        value,
        role: Role::Row,
    }
}

pub(super) fn cell(value: i64, role: Role) -> Cell {
    Cell { value, role }
}

pub(super) fn eq(total: usize, members: &[usize]) -> Equation {
    Equation {
        total,
        members: members.to_vec(),
    }
}

/// One 1-D group: cell 0 is the total (a row), cells 1.. the members.
pub(super) fn group(members: &[i64]) -> System {
    let total: i64 = members.iter().sum();
    let mut cells = vec![row(total)];
    cells.extend(members.iter().map(|&v| row(v)));
    System {
        cells,
        equations: vec![eq(0, &(1..=members.len()).collect::<Vec<_>>())],
    }
}

fn hidden(policy: Policy, system: &System) -> Vec<bool> {
    protect(policy, system).expect("protectable").hidden
}

fn k11() -> Policy {
    Policy::default()
}

#[test]
fn nothing_small_nothing_hidden() {
    assert_eq!(hidden(k11(), &group(&[11, 20, 0, 30])), vec![false; 5]);
}

#[test]
fn a_small_member_hides_every_non_zero_member_and_publishes_zeros() {
    // total 100: 5, 0, 60, 35 -> the 5 and all non-zero siblings; the 0 stays.
    assert_eq!(
        hidden(k11(), &group(&[5, 0, 60, 35])),
        vec![false, true, false, true, true]
    );
}

#[test]
fn the_selection_never_compares_hidden_values() {
    // 10, 12, 12 (k = 11): the old engine hid 10 and one 12 and pinned the 10; the
    // closure hides all three whatever their sizes.
    assert_eq!(
        hidden(k11(), &group(&[10, 12, 12])),
        vec![false, true, true, true]
    );
}

#[test]
fn a_small_total_hides_its_members_zeros_included() {
    assert_eq!(hidden(k11(), &group(&[0, 5, 0])), vec![true; 4]);
    assert_eq!(hidden(k11(), &group(&[3, 4, 0])), vec![true; 4]);
}

#[test]
fn a_zero_total_is_published() {
    assert_eq!(hidden(k11(), &group(&[0, 0])), vec![false; 3]);
}

#[test]
fn a_failing_group_falls_back_to_hiding_its_total() {
    // Eleven cells of 1, total 11: each is pinned to 1 with the total published.
    assert_eq!(hidden(k11(), &group(&[1; 11])), vec![true; 12]);
    // 10 and 1 with total 11: the residual is 11 but two hidden cells of at least 1 each
    // reach at most 10 only when the residual is at least k + m - 2 = 11: 10 reaches 10,
    // 1 reaches 10 -- passes.
    assert_eq!(hidden(k11(), &group(&[10, 1])), vec![false, true, true]);
    // 9 and 1 (total 10) is a small total.
    assert_eq!(hidden(k11(), &group(&[9, 1])), vec![true; 3]);
    // 5, 5, 2 with total 12: m = 3, needs R >= 12: passes; 5, 5, 1 with total 11 fails.
    assert_eq!(
        hidden(k11(), &group(&[5, 5, 2])),
        vec![false, true, true, true]
    );
    assert_eq!(hidden(k11(), &group(&[5, 5, 1])), vec![true; 4]);
}

#[test]
fn a_lone_cell_without_equation_is_primary_only() {
    let system = System {
        cells: vec![row(3), row(30)],
        equations: vec![],
    };
    assert_eq!(hidden(k11(), &system), vec![true, false]);
}

#[test]
fn known_rows_and_facts_are_never_hidden() {
    // A known member (published earlier) is a constant; the small cell is still covered
    // by its non-zero sibling.
    let system = System {
        cells: vec![row(60), cell(20, Role::KnownRow), row(5), row(35)],
        equations: vec![eq(0, &[1, 2, 3])],
    };
    assert_eq!(hidden(k11(), &system), vec![false, false, true, true]);
    // A breakdown without a total row: its sum is a fact.
    let system = System {
        cells: vec![cell(60, Role::Fact), row(20), row(5), row(35)],
        equations: vec![eq(0, &[1, 2, 3])],
    };
    assert_eq!(hidden(k11(), &system), vec![false, true, true, true]);
}

#[test]
fn a_small_fact_total_is_unprotectable() {
    let system = System {
        cells: vec![cell(5, Role::Fact), row(2), row(3)],
        equations: vec![eq(0, &[1, 2])],
    };
    assert_eq!(
        protect(k11(), &system),
        Err(LinkedError::Unprotectable { cell: 1 })
    );
}

#[test]
fn a_known_sibling_cannot_cover_a_small_cell() {
    // 5 hidden, its only non-zero sibling known: m = 1, the total is a fact.
    let system = System {
        cells: vec![cell(40, Role::Fact), cell(35, Role::KnownRow), row(5)],
        equations: vec![eq(0, &[1, 2])],
    };
    assert_eq!(
        protect(k11(), &system),
        Err(LinkedError::Unprotectable { cell: 2 })
    );
}

#[test]
fn sticky_rows_stay_hidden_and_seed_the_closure() {
    // The 40 was hidden in an earlier release: it stays hidden and hides its siblings.
    let mut system = group(&[40, 30, 30]);
    system.cells[1].role = Role::StickyRow;
    assert_eq!(hidden(k11(), &system), vec![false, true, true, true]);
}

#[test]
fn hierarchy_hides_a_parents_members_when_the_parent_is_hidden() {
    // total 100 = region A (50) + region B (50); A = ward a1 (45) + a2 (5); B = b1 (25) + b2 (25).
    let system = System {
        cells: vec![
            row(100),
            row(50),
            row(50),
            row(45),
            row(5),
            row(25),
            row(25),
        ],
        equations: vec![eq(0, &[1, 2]), eq(1, &[3, 4]), eq(2, &[5, 6])],
    };
    // The 5 hides 45; region A (published) pins nothing: 45 + 5 = 50 with both hidden.
    assert_eq!(
        hidden(k11(), &system),
        vec![false, false, false, true, true, false, false]
    );
}

#[test]
fn errors_name_indices_never_values() {
    let system = System {
        cells: vec![row(7), row(-7)],
        equations: vec![],
    };
    let err = protect(k11(), &system).unwrap_err();
    assert_eq!(err, LinkedError::Negative { cell: 1 });
    assert!(!err.to_string().contains('7'));

    let system = System {
        cells: vec![row(17), row(9), row(9)],
        equations: vec![eq(0, &[1, 2])],
    };
    let err = protect(k11(), &system).unwrap_err();
    assert_eq!(err, LinkedError::NotAdditive { equation: 0 });
    assert!(!err.to_string().contains("17") && !err.to_string().contains('9'));

    for bad in [
        eq(0, &[]),
        eq(0, &[0, 1]),
        eq(0, &[1, 1]),
        eq(0, &[3]),
        eq(5, &[1]),
    ] {
        let system = System {
            cells: vec![row(1), row(1), row(0)],
            equations: vec![bad],
        };
        assert_eq!(
            protect(k11(), &system),
            Err(LinkedError::Malformed { equation: 0 })
        );
    }
}

#[test]
fn k_is_the_policys() {
    let k5 = Policy::new(5).unwrap();
    assert_eq!(hidden(k5, &group(&[5, 6, 7])), vec![false; 4]);
    assert_eq!(DEFAULT_K, 11);
    assert_eq!(
        hidden(k11(), &group(&[5, 60, 7])),
        vec![false, true, true, true]
    );
}
