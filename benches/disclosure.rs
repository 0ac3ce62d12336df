//! Speed of the linked disclosure engine (`disclosure::linked::protect`) on the sizes the
//! issue names: 100,000 rows in many groups (target < 5 s) and one group of 100,000 cells
//! (target < 2 s), plus a hierarchy (region > ward) of 100,000 rows and a set of small
//! 2-D tables that go through the LP audit.
//!
//! Run: `cargo bench --bench disclosure`. Prints one line per case with the time of the
//! best of three runs and exits non-zero when a target is missed.

use std::time::{Duration, Instant};

use sanctuary_data::disclosure::Policy;
use sanctuary_data::disclosure::linked::{Cell, Equation, Role, System, protect};

/// A small deterministic generator (no dependency): values skewed small, with zeros.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn count(&mut self) -> i64 {
        match self.next() % 10 {
            0 => 0,
            1..=2 => (self.next() % 10) as i64 + 1,
            _ => (self.next() % 400) as i64 + 11,
        }
    }
}

fn row(value: i64) -> Cell {
    Cell {
        value,
        role: Role::Row,
    }
}

/// `groups` 1-D groups of `size` members each, with their totals, in one system.
fn many_groups(groups: usize, size: usize, rng: &mut Lcg) -> System {
    let mut system = System::default();
    for _ in 0..groups {
        let total = system.cells.len();
        system.cells.push(row(0));
        let members: Vec<usize> = (0..size)
            .map(|_| {
                system.cells.push(row(rng.count()));
                system.cells.len() - 1
            })
            .collect();
        system.cells[total].value = members.iter().map(|&m| system.cells[m].value).sum();
        system.equations.push(Equation { total, members });
    }
    system
}

/// Periods, each a total over regions over wards.
fn hierarchy(periods: usize, regions: usize, wards: usize, rng: &mut Lcg) -> System {
    let mut system = System::default();
    for _ in 0..periods {
        let total = system.cells.len();
        system.cells.push(row(0));
        let mut region_cells = Vec::new();
        for _ in 0..regions {
            let region = system.cells.len();
            system.cells.push(row(0));
            let members: Vec<usize> = (0..wards)
                .map(|_| {
                    system.cells.push(row(rng.count()));
                    system.cells.len() - 1
                })
                .collect();
            system.cells[region].value = members.iter().map(|&m| system.cells[m].value).sum();
            system.equations.push(Equation {
                total: region,
                members,
            });
            region_cells.push(region);
        }
        system.cells[total].value = region_cells.iter().map(|&r| system.cells[r].value).sum();
        system.equations.push(Equation {
            total,
            members: region_cells,
        });
    }
    system
}

/// `tables` r x c tables with their margins and grand totals.
fn tables(count: usize, r: usize, c: usize, rng: &mut Lcg) -> System {
    let mut system = System::default();
    for _ in 0..count {
        let x: Vec<Vec<i64>> = (0..r)
            .map(|_| (0..c).map(|_| rng.count()).collect())
            .collect();
        let base = system.cells.len();
        let total: i64 = x.iter().flatten().sum();
        system.cells.push(row(total));
        for row_values in &x {
            system.cells.push(row(row_values.iter().sum()));
        }
        for j in 0..c {
            system.cells.push(row(x.iter().map(|rv| rv[j]).sum()));
        }
        for v in x.iter().flatten() {
            system.cells.push(row(*v));
        }
        let row_cell = |i: usize| base + 1 + i;
        let col_cell = |j: usize| base + 1 + r + j;
        let inner = |i: usize, j: usize| base + 1 + r + c + i * c + j;
        system.equations.push(Equation {
            total: base,
            members: (0..r).map(row_cell).collect(),
        });
        system.equations.push(Equation {
            total: base,
            members: (0..c).map(col_cell).collect(),
        });
        for i in 0..r {
            system.equations.push(Equation {
                total: row_cell(i),
                members: (0..c).map(|j| inner(i, j)).collect(),
            });
        }
        for j in 0..c {
            system.equations.push(Equation {
                total: col_cell(j),
                members: (0..r).map(|i| inner(i, j)).collect(),
            });
        }
    }
    system
}

fn measure(name: &str, system: &System, target: Option<Duration>) -> bool {
    let policy = Policy::default();
    let mut best = Duration::MAX;
    let mut hidden = 0;
    let mut outcome = "ok";
    for _ in 0..3 {
        let start = Instant::now();
        let result = protect(policy, system);
        best = best.min(start.elapsed());
        match result {
            Ok(p) => hidden = p.hidden.iter().filter(|&&h| h).count(),
            Err(_) => outcome = "unprotectable",
        }
    }
    let within = target.is_none_or(|t| best < t);
    println!(
        "{name:<48} {:>7} cells {:>7} equations {:>7} hidden {:>10.3} s {outcome}{}",
        system.cells.len(),
        system.equations.len(),
        hidden,
        best.as_secs_f64(),
        match target {
            Some(t) if within => format!(" (target < {} s)", t.as_secs_f64()),
            Some(t) => format!(" MISSED target < {} s", t.as_secs_f64()),
            None => String::new(),
        }
    );
    within
}

fn main() {
    let mut rng = Lcg(0x5eed);
    let mut ok = true;
    ok &= measure(
        "100,000 rows in 10,000 groups of 9 + total",
        &many_groups(10_000, 9, &mut rng),
        Some(Duration::from_secs(5)),
    );
    ok &= measure(
        "one group of 100,000 cells",
        &many_groups(1, 100_000, &mut rng),
        Some(Duration::from_secs(2)),
    );
    ok &= measure(
        "hierarchy: 1,000 periods x 9 regions x 10 wards",
        &hierarchy(1_000, 9, 10, &mut rng),
        Some(Duration::from_secs(5)),
    );
    ok &= measure(
        "200 tables of 3 x 4 with margins (LP audit)",
        &tables(200, 3, 4, &mut rng),
        None,
    );
    if !ok {
        std::process::exit(1);
    }
}
