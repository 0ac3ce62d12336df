//! The integer programs of the audit ([`super::audit`]), solved with `good_lp` and its
//! pure-Rust `microlp` backend (simplex with branch and bound for integer variables).
//!
//! A [`Model`] is the witness set of one component: integer unknowns (its hidden cells) with
//! lower bounds, equality rows (its equations, visible values moved to the right-hand side)
//! and seed rows (`sum of a source's cells <= |cells| * (k-1)` with each of them `>= 1`, so
//! at least one is in `1..=k-1`). [`Model::feasible_with`] asks whether an integer point with
//! one unknown fixed exists. Every question is decided exactly by the solver (no time limit:
//! a limit would make the verdict depend on the machine), and its size is bounded by
//! [`super::audit::LP_CELL_CAP`].

use good_lp::{
    Expression, ProblemVariables, ResolutionError, Solution, SolverModel, microlp, variable,
};

/// The outcome of one solve.
enum Solved {
    Infeasible,
    Integral,
    Fractional,
}

/// `sum(coeff * y[j]) == rhs`.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) coeffs: Vec<(usize, i32)>,
    pub(super) rhs: i128,
}

/// `sum(y[j] for j in cells) <= cap`, each `y[j] >= 1`.
#[derive(Debug, Clone)]
pub(super) struct Seed {
    pub(super) cells: Vec<usize>,
    pub(super) cap: i128,
}

/// The witness set of one component.
#[derive(Debug, Clone)]
pub(super) struct Model {
    /// Lower bound of each unknown (0 or 1); no upper bounds.
    pub(super) lb: Vec<i64>,
    /// The equations.
    pub(super) rows: Vec<Row>,
    /// The seed requirements, one per source of the derivation graph.
    pub(super) seeds: Vec<Seed>,
    /// `seed_of[j]`: the seed requirement that unknown `j` satisfies by itself when it is
    /// set to a value in `1..=k-1` (the one of its own source), dropped when `j` is the
    /// unknown asked about.
    pub(super) seed_of: Vec<Option<usize>>,
}

impl Model {
    /// The largest absolute constant in the model (right-hand sides, seed caps).
    pub(super) fn largest_constant(&self) -> i128 {
        let rows = self.rows.iter().map(|r| r.rhs.abs());
        let seeds = self.seeds.iter().map(|s| s.cap.abs());
        rows.chain(seeds).max().unwrap_or(0)
    }

    /// A value-independent upper bound for every unknown: the sum of the absolute
    /// right-hand sides plus `k-1` per unknown. Bounding the witness set only shrinks it
    /// (still a subset of what the attacker must consider), and it keeps branch and bound
    /// finite and small.
    fn upper_bound(&self, k1: i64) -> f64 {
        let rhs: i128 = self.rows.iter().map(|r| r.rhs.abs()).sum();
        let n = i128::try_from(self.lb.len()).unwrap_or(i128::MAX);
        let ub = rhs.saturating_add(n.saturating_mul(i128::from(k1)));
        ub.min(i128::from(i32::MAX)) as f64
    }

    /// Whether some integer point of the model has unknown `j` equal to `t`, with `j`'s own
    /// seed requirement dropped (`t` is in `1..=k1`, so `j` is a seed itself). The LP
    /// relaxation first: infeasible means no integer point; an integral optimum is one.
    /// Branch and bound only when the relaxation's point is fractional.
    /// With `exact` false, `j >= t` instead of `j == t`.
    pub(super) fn feasible_with(&self, j: usize, t: i64, exact: bool, k1: i64) -> bool {
        if t < self.lb[j] {
            return false;
        }
        let ub = self.upper_bound(k1);
        let upper = if exact { t as f64 } else { ub.max(t as f64) };
        match self.solve(j, t, upper, ub, false) {
            Solved::Infeasible => false,
            Solved::Integral => true,
            Solved::Fractional => matches!(self.solve(j, t, upper, ub, true), Solved::Integral),
        }
    }

    fn solve(&self, j: usize, t: i64, upper: f64, ub: f64, integer: bool) -> Solved {
        let mut vars = ProblemVariables::new();
        let ys: Vec<_> = self
            .lb
            .iter()
            .enumerate()
            .map(|(i, &lb)| {
                let def = if integer {
                    variable().integer()
                } else {
                    variable()
                };
                if i == j {
                    vars.add(def.min(t as f64).max(upper))
                } else {
                    vars.add(def.min(lb as f64).max(ub))
                }
            })
            .collect();
        let mut problem = vars.minimise(Expression::from(0.0)).using(microlp);
        for row in &self.rows {
            let expr: Expression = row.coeffs.iter().map(|&(i, c)| f64::from(c) * ys[i]).sum();
            problem = problem.with(expr.eq(row.rhs as f64));
        }
        for (s, seed) in self.seeds.iter().enumerate() {
            if self.seed_of[j] == Some(s) {
                continue;
            }
            let expr: Expression = seed.cells.iter().map(|&i| ys[i]).sum();
            problem = problem.with(expr.leq(seed.cap as f64));
            for &i in &seed.cells {
                if self.lb[i] < 1 {
                    problem = problem.with(Expression::from(ys[i]).geq(1.0));
                }
            }
        }
        match problem.solve() {
            Ok(solution) => {
                let integral = ys.iter().all(|&y| {
                    let v = solution.value(y);
                    (v - v.round()).abs() < 1e-6
                });
                if integral {
                    Solved::Integral
                } else if integer {
                    // The solver's integers came back fractional: not shown feasible.
                    Solved::Infeasible
                } else {
                    Solved::Fractional
                }
            }
            Err(ResolutionError::Infeasible) => Solved::Infeasible,
            // Anything else (a numerical failure) counts as "not shown feasible": the audit
            // fails and the fallback hides more, which is always safe.
            Err(_) => Solved::Infeasible,
        }
    }
}
