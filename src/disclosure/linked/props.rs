//! Property tests: random small linked systems (hierarchies, 2-D tables with margins,
//! shared cells, several equations, earlier releases as sticky rows, known rows and
//! facts), each checked by the gold-standard attacker, plus determinism and
//! value-independence of the pattern.

use super::attacker::assert_safe;
use super::tests::eq;
use super::*;
use proptest::prelude::*;

fn k5() -> Policy {
    Policy::new(5).unwrap()
}

/// A structure with its leaf values; totals are computed.
#[derive(Debug, Clone)]
enum Shape {
    /// Root over groups over leaves (a region > ward hierarchy).
    Hierarchy(Vec<Vec<i64>>),
    /// An r x c table with its row and column margins and grand total.
    Table(Vec<Vec<i64>>),
    /// Two breakdowns of one total sharing their last cell.
    Shared(Vec<i64>, Vec<i64>, i64),
}

fn build(shape: &Shape) -> System {
    let mut cells: Vec<Cell> = Vec::new();
    let mut equations = Vec::new();
    let add = |cells: &mut Vec<Cell>, v: i64| {
        cells.push(Cell {
            value: v,
            role: Role::Row,
        });
        cells.len() - 1
    };
    match shape {
        Shape::Hierarchy(groups) => {
            let total: i64 = groups.iter().flatten().sum();
            let root = add(&mut cells, total);
            let mut group_cells = Vec::new();
            for g in groups {
                let gc = add(&mut cells, g.iter().sum());
                let leaves: Vec<usize> = g.iter().map(|&v| add(&mut cells, v)).collect();
                equations.push(eq(gc, &leaves));
                group_cells.push(gc);
            }
            equations.push(eq(root, &group_cells));
        }
        Shape::Table(x) => {
            let (r, c) = (x.len(), x[0].len());
            let total: i64 = x.iter().flatten().sum();
            let root = add(&mut cells, total);
            let rows: Vec<usize> = x
                .iter()
                .map(|row| add(&mut cells, row.iter().sum()))
                .collect();
            let cols: Vec<usize> = (0..c)
                .map(|j| add(&mut cells, x.iter().map(|row| row[j]).sum()))
                .collect();
            let inner: Vec<Vec<usize>> = x
                .iter()
                .map(|row| row.iter().map(|&v| add(&mut cells, v)).collect())
                .collect();
            equations.push(eq(root, &rows));
            equations.push(eq(root, &cols));
            for i in 0..r {
                equations.push(eq(rows[i], &inner[i]));
            }
            for j in 0..c {
                let col: Vec<usize> = (0..r).map(|i| inner[i][j]).collect();
                equations.push(eq(cols[j], &col));
            }
        }
        Shape::Shared(a, b, shared) => {
            let total = a.iter().sum::<i64>() + shared;
            let root = add(&mut cells, total);
            let s = add(&mut cells, *shared);
            let mut first: Vec<usize> = a.iter().map(|&v| add(&mut cells, v)).collect();
            // The second breakdown must add up to the same total: scale its last cell.
            let b_sum: i64 = b.iter().sum();
            let mut second: Vec<usize> = b.iter().map(|&v| add(&mut cells, v)).collect();
            let last = *second.last().unwrap();
            let rest = total - shared - b_sum;
            cells[last].value += rest.max(0);
            if rest < 0 {
                // Move the excess into the first breakdown instead.
                cells[first[0]].value += -rest;
                cells[root].value += -rest;
            }
            first.push(s);
            second.push(s);
            equations.push(eq(root, &first));
            equations.push(eq(root, &second));
        }
    }
    System { cells, equations }
}

fn value() -> impl Strategy<Value = i64> {
    prop_oneof![3 => 1i64..5, 1 => Just(0i64), 2 => 5i64..9]
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        prop::collection::vec(prop::collection::vec(value(), 1..=3), 2..=2)
            .prop_map(Shape::Hierarchy),
        (2usize..=2, 2usize..=3).prop_flat_map(|(r, c)| {
            prop::collection::vec(prop::collection::vec(value(), c..=c), r..=r)
                .prop_map(Shape::Table)
        }),
        (
            prop::collection::vec(value(), 1..=2),
            prop::collection::vec(value(), 1..=2),
            value()
        )
            .prop_map(|(a, b, s)| Shape::Shared(a, b, s)),
    ]
}

/// Random roles: the root known or a fact, some rows sticky (hidden earlier).
fn with_roles(mut system: System, root_role: u8, sticky: &[bool]) -> System {
    system.cells[0].role = match root_role {
        0 => Role::KnownRow,
        1 => Role::Fact,
        _ => Role::Row,
    };
    for (c, &s) in sticky.iter().enumerate().skip(1) {
        if s && c < system.cells.len() {
            system.cells[c].role = Role::StickyRow;
        }
    }
    system
}

fn bound(system: &System) -> i64 {
    system
        .cells
        .iter()
        .map(|c| c.value)
        .max()
        .unwrap_or(0)
        .max(8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The gold standard on random linked systems: whenever the engine publishes, no
    /// hidden cell loses a small value to an attacker who knows the rules.
    #[test]
    fn random_linked_systems_survive_the_attacker(
        shape in shape(),
        root_role in 0u8..5,
        sticky in prop::collection::vec(prop::bool::weighted(0.1), 16),
    ) {
        let system = with_roles(build(&shape), root_role, &sticky);
        if let Ok(p) = protect(k5(), &system) {
            for (c, cell) in system.cells.iter().enumerate() {
                match cell.role {
                    Role::KnownRow | Role::Fact => prop_assert!(!p.hidden[c]),
                    Role::StickyRow => prop_assert!(p.hidden[c]),
                    Role::Row => prop_assert!(p.hidden[c] || !(1..5).contains(&cell.value)),
                }
            }
            assert_safe(k5(), &system, bound(&system));
        }
    }

    /// Determinism, and swapping raw values between two hidden cells of one equation
    /// (keeping every equation true) never changes the pattern.
    #[test]
    fn swapping_hidden_values_keeps_the_pattern(
        shape in shape(),
        root_role in 2u8..5,
    ) {
        let system = with_roles(build(&shape), root_role, &[]);
        let Ok(first) = protect(k5(), &system) else { return Ok(()); };
        prop_assert_eq!(protect(k5(), &system), Ok(first.clone()));
        for e in &system.equations {
            let hidden: Vec<usize> = e.members.iter().copied().filter(|&m| first.hidden[m]).collect();
            for (i, &a) in hidden.iter().enumerate() {
                for &b in &hidden[i + 1..] {
                    let mut swapped = system.clone();
                    swapped.cells[a].value = system.cells[b].value;
                    swapped.cells[b].value = system.cells[a].value;
                    let consistent = swapped.equations.iter().all(|q| {
                        q.members.iter().map(|&m| swapped.cells[m].value).sum::<i64>()
                            == swapped.cells[q.total].value
                    });
                    // Only swaps an attacker could not tell apart: same equations, and
                    // (the closure reads zeros) the same zero pattern.
                    let zeros_kept = (system.cells[a].value == 0) == (system.cells[b].value == 0);
                    if consistent && zeros_kept {
                        prop_assert_eq!(protect(k5(), &swapped).map(|p| p.hidden), Ok(first.hidden.clone()));
                    }
                }
            }
        }
    }
}
