//! The six attacks of issue #11 as systems, each checked by the gold-standard attacker
//! ([`super::attacker`]): every hidden cell must still take every value `1..=k-1` among the
//! raw vectors that reproduce everything published under the rules. `k = 5` keeps the
//! enumeration small; the rules do not depend on `k` beyond the threshold.

use super::attacker::{assert_safe, attack};
use super::tests::{cell, eq, row};
use super::*;

fn k5() -> Policy {
    Policy::new(5).unwrap()
}

/// Attack 1: a cross-tab, declared as a 2-D table with its margins.
/// Cells: 0 T, 1 A1, 2 A2, 3 C1, 4 C2, then the interior x11 x12 x21 x22 (5..=8).
#[test]
fn attack_1_cross_tab_with_margins() {
    let x = [[3, 9], [8, 12]];
    let a = [x[0][0] + x[0][1], x[1][0] + x[1][1]];
    let c = [x[0][0] + x[1][0], x[0][1] + x[1][1]];
    let t = a[0] + a[1];
    let system = System {
        cells: [
            t, a[0], a[1], c[0], c[1], x[0][0], x[0][1], x[1][0], x[1][1],
        ]
        .into_iter()
        .map(row)
        .collect(),
        equations: vec![
            eq(0, &[1, 2]),
            eq(0, &[3, 4]),
            eq(1, &[5, 6]),
            eq(2, &[7, 8]),
            eq(3, &[5, 7]),
            eq(4, &[6, 8]),
        ],
    };
    let hidden = protect(k5(), &system).unwrap().hidden;
    assert!(hidden[5], "the small interior cell is hidden");
    assert_safe(k5(), &system, 25);
}

/// Attack 1, a 2 x 3 table whose small cell sits next to a zero.
#[test]
fn attack_1_cross_tab_two_by_three() {
    // rows: [2, 0, 9], [6, 7, 8]; margins published.
    let x = [[2, 0, 9], [6, 7, 8]];
    let rows_: Vec<i64> = x.iter().map(|r| r.iter().sum()).collect();
    let cols: Vec<i64> = (0..3).map(|j| x[0][j] + x[1][j]).collect();
    let t: i64 = rows_.iter().sum();
    // 0 T, 1-2 rows, 3-5 columns, 6-8 first row, 9-11 second row
    let mut cells = vec![row(t), row(rows_[0]), row(rows_[1])];
    cells.extend(cols.iter().map(|&v| row(v)));
    cells.extend(x.iter().flatten().map(|&v| row(v)));
    let system = System {
        cells,
        equations: vec![
            eq(0, &[1, 2]),
            eq(0, &[3, 4, 5]),
            eq(1, &[6, 7, 8]),
            eq(2, &[9, 10, 11]),
            eq(3, &[6, 9]),
            eq(4, &[7, 10]),
            eq(5, &[8, 11]),
        ],
    };
    assert_safe(k5(), &system, 20);
}

/// Attack 2: region > ward.
#[test]
fn attack_2_region_ward_hierarchy() {
    // 0 T, 1 R1, 2 R2, 3-5 wards of R1, 6-7 wards of R2
    let w = [3, 12, 10, 20, 25];
    let r1 = w[0] + w[1] + w[2];
    let r2 = w[3] + w[4];
    let system = System {
        cells: [r1 + r2, r1, r2, w[0], w[1], w[2], w[3], w[4]]
            .into_iter()
            .map(row)
            .collect(),
        equations: vec![eq(0, &[1, 2]), eq(1, &[3, 4, 5]), eq(2, &[6, 7])],
    };
    assert_safe(k5(), &system, 25);
}

/// Attack 2: a small region hides its wards, and the region's siblings cover it.
#[test]
fn attack_2_small_region() {
    // 0 T, 1 R1 (4 = 3 + 1 + 0), 2 R2 (30), 3-5 wards of R1, 6-7 wards of R2 (12, 18)
    let system = System {
        cells: [34, 4, 30, 3, 1, 0, 12, 18].into_iter().map(row).collect(),
        equations: vec![eq(0, &[1, 2]), eq(1, &[3, 4, 5]), eq(2, &[6, 7])],
    };
    let hidden = protect(k5(), &system).unwrap().hidden;
    assert!(
        hidden[1] && hidden[3] && hidden[4] && hidden[5],
        "the region's subtree"
    );
    assert_safe(k5(), &system, 34);
}

/// Attack 2: fine and coarse bands of one dimension (shared cells declared once).
#[test]
fn attack_2_fine_and_coarse_bands() {
    // 0 T, 1 c0_17, 2 c18_64, 3 c65 (coarse), 4 f0_13, 5 f14_17 (fine split of c0_17)
    let system = System {
        cells: [57, 12, 30, 15, 3, 9].into_iter().map(row).collect(),
        equations: vec![eq(0, &[1, 2, 3]), eq(0, &[4, 5, 2, 3]), eq(1, &[4, 5])],
    };
    assert_safe(k5(), &system, 57);
    // The coarse band itself small: the whole band hidden, its siblings cover it.
    let system = System {
        cells: [49, 4, 30, 15, 3, 1].into_iter().map(row).collect(),
        equations: vec![eq(0, &[1, 2, 3]), eq(0, &[4, 5, 2, 3]), eq(1, &[4, 5])],
    };
    assert_safe(k5(), &system, 49);
}

/// Attack 2: the same cell (65+) in two dimensions has one status.
#[test]
fn attack_2_shared_cell_in_two_dimensions() {
    // 0 T, 1 under_18, 2 a18_64, 3 s65 (age); 4 under_65 (second dimension: s65 + under_65)
    let system = System {
        cells: [30, 3, 15, 12, 18].into_iter().map(row).collect(),
        equations: vec![eq(0, &[1, 2, 3]), eq(0, &[3, 4])],
    };
    let hidden = protect(k5(), &system).unwrap().hidden;
    assert!(
        hidden[1] && hidden[3] && hidden[4],
        "65+ hidden in both dimensions"
    );
    assert_safe(k5(), &system, 30);
}

/// Attack 3: a total published alone first, then its breakdown.
#[test]
fn attack_3_total_first_then_breakdown() {
    let system = System {
        cells: vec![cell(20, Role::KnownRow), row(3), row(8), row(9)],
        equations: vec![eq(0, &[1, 2, 3])],
    };
    assert_safe(k5(), &system, 20);
}

/// Attack 3: cells hidden in an earlier release stay hidden (sticky), and the earlier
/// hidden group's residual is a fact; a late category of 0 is published.
#[test]
fn attack_3_sticky_cells_and_an_earlier_residual() {
    // Earlier: total 30 = 3 + 12 + 15 (all three hidden). Now: the same total (known),
    // 0 1-3 sticky, 4 a new category of 0, 5 the fact 30 = cells 1..=3.
    let system = System {
        cells: vec![
            cell(30, Role::KnownRow),
            cell(3, Role::StickyRow),
            cell(12, Role::StickyRow),
            cell(15, Role::StickyRow),
            row(0),
            cell(30, Role::Fact),
        ],
        equations: vec![eq(0, &[1, 2, 3, 4]), eq(5, &[1, 2, 3])],
    };
    let hidden = protect(k5(), &system).unwrap().hidden;
    assert_eq!(hidden, vec![false, true, true, true, false, false]);
    assert_safe(k5(), &system, 30);
}

/// Attack 3: a revision. The earlier release hid 3 and 12 (total 15, a published 0);
/// the revised release moves the 0 to 5: the new cell would be the difference of the two
/// totals, so the engine refuses rather than leak.
#[test]
fn attack_3_revision_that_would_pin_a_cell_is_refused() {
    let system = System {
        cells: vec![
            row(20),
            cell(3, Role::StickyRow),
            cell(12, Role::StickyRow),
            row(5),
            cell(15, Role::Fact),
        ],
        equations: vec![eq(0, &[1, 2, 3]), eq(4, &[1, 2])],
    };
    assert!(matches!(
        protect(k5(), &system),
        Err(LinkedError::Unprotectable { .. })
    ));
}

/// Attack 3: a late-arriving small category next to a group hidden earlier, whose
/// residual is a fact, cannot be published (the new cell would be the difference of the
/// two totals); the engine refuses rather than leak. See the module docs ("limits").
#[test]
fn attack_3_late_small_category_is_refused_not_leaked() {
    let system = System {
        cells: vec![
            row(34),
            cell(3, Role::StickyRow),
            cell(12, Role::StickyRow),
            cell(15, Role::StickyRow),
            row(4),
            cell(30, Role::Fact),
        ],
        equations: vec![eq(0, &[1, 2, 3, 4]), eq(5, &[1, 2, 3])],
    };
    assert!(matches!(
        protect(k5(), &system),
        Err(LinkedError::Unprotectable { .. })
    ));
}

/// Attack 4: a breakdown without a total row: its sum is a fact.
#[test]
fn attack_4_breakdown_without_total() {
    let system = System {
        cells: vec![cell(25, Role::Fact), row(3), row(10), row(12)],
        equations: vec![eq(0, &[1, 2, 3])],
    };
    assert_safe(k5(), &system, 25);
}

/// Attack 5: months, quarters and the year of one count (a tiling).
#[test]
fn attack_5_months_quarters_year() {
    // 0 year, 1-2 halves, 3-6 quarters (two per half): a small quarter.
    let q = [3, 9, 7, 11];
    let h = [q[0] + q[1], q[2] + q[3]];
    let system = System {
        cells: [h[0] + h[1], h[0], h[1], q[0], q[1], q[2], q[3]]
            .into_iter()
            .map(row)
            .collect(),
        equations: vec![
            eq(0, &[1, 2]),
            eq(0, &[3, 4, 5, 6]),
            eq(1, &[3, 4]),
            eq(2, &[5, 6]),
        ],
    };
    assert_safe(k5(), &system, 30);
}

/// Attack 6: the published pattern no longer says which hidden cell was smallest. The
/// issue's k = 5 example: wards (30, 12, 12, 4, 12) — only 4 of 8,803 consistent vectors
/// reproduced the old pattern, all giving the small cell 4.
#[test]
fn attack_6_selection_rule_enumeration() {
    let wards = [30, 12, 12, 4, 12];
    let mut cells = vec![row(wards.iter().sum())];
    cells.extend(wards.iter().map(|&v| row(v)));
    let system = System {
        cells,
        equations: vec![eq(0, &[1, 2, 3, 4, 5])],
    };
    // Five hidden cells with a published total: enumerate four, the fifth follows.
    let result = attack(k5(), &system, 20);
    for (c, values) in result {
        assert_eq!(values, vec![1, 2, 3, 4], "cell {c}");
    }
}
