//! The audit of [`super::linked`]: per connected component of hidden cells, whether every
//! hidden cell can still take every value `1..=k-1` for an attacker who knows the rules.
//!
//! The audit reads only the hidden pattern, the structure and the values of cells that are
//! not hidden, never a hidden value: its verdict is the same for every raw vector the
//! attacker cannot tell apart, which is what makes the fallback decisions it drives safe
//! (the argument is in the [`super::linked`] module documentation).
//!
//! It checks the **witness set** `W` of a pattern `H`: the raw vectors `y` that
//! (1) equal the published values and facts outside `H` and satisfy every equation,
//! (2) are `>= lb(c)` on every hidden cell `c`, where `lb(c) = 0` when `c` is sticky or a
//! member of an equation whose total is hidden, and `1` otherwise, and
//! (3) give every *source* of the derivation graph a seed: at least one of its cells in
//! `1..=k-1`. Every `y` in `W` reproduces `H` at the first closure (module docs), so `W` is a
//! subset of what the attacker must consider possible; the audit passes when, for every
//! hidden cell `c` and `t` in `{1, k-1}`, some integer `y` in `W` (with the seed
//! requirement of `c`'s own source dropped, `c` being a seed itself) has `y[c] = t`.

use super::closure::Index;
use super::linked::{Role, System};
use super::lp;

/// The largest component the LP audit takes on. A larger component fails the audit
/// without an LP (a value-independent decision): its equations' totals are hidden, which
/// ends in components the closed form handles, or in an [`super::LinkedError::Unprotectable`].
pub(super) const LP_CELL_CAP: usize = 80;

/// The largest constant the integer audit handles (the solver's integers are 32-bit).
const LP_VALUE_CAP: i128 = 1 << 30;

/// Hidden cells linked by equations that contain them.
#[derive(Debug)]
pub(super) struct Component {
    /// The hidden cells, ascending.
    pub(super) cells: Vec<usize>,
    /// The equations with at least one hidden cell among these, ascending.
    pub(super) equations: Vec<usize>,
}

/// Why a component fails, and what the fallback should hide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    /// Equation `equation`'s hidden cells are not protected: hide its total.
    Equation { equation: usize, cell: usize },
    /// Hidden cell `cell` cannot take every value `1..=k-1`.
    Cell { cell: usize },
    /// The component is beyond the LP bound: hide the totals of all its equations.
    TooLarge { cell: usize },
}

/// The connected components of the hidden cells that contain at least one cell of
/// `dirty` (all of them when `dirty` is `None`), in order of their smallest cell.
pub(super) fn components(
    system: &System,
    hidden: &[bool],
    dirty: Option<&[bool]>,
) -> Vec<Component> {
    let n = system.cells.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for eq in &system.equations {
        let mut first: Option<usize> = None;
        for c in std::iter::once(eq.total).chain(eq.members.iter().copied()) {
            if hidden[c] {
                match first {
                    None => first = Some(find(&mut parent, c)),
                    Some(r) => {
                        let rc = find(&mut parent, c);
                        if rc != r {
                            // Union by smaller index keeps the root deterministic.
                            let (lo, hi) = if rc < r { (rc, r) } else { (r, rc) };
                            parent[hi] = lo;
                            first = Some(lo);
                        }
                    }
                }
            }
        }
    }
    let mut slot = vec![usize::MAX; n];
    let mut out: Vec<Component> = Vec::new();
    for c in (0..n).filter(|&c| hidden[c]) {
        let r = find(&mut parent, c);
        if slot[r] == usize::MAX {
            slot[r] = out.len();
            out.push(Component {
                cells: Vec::new(),
                equations: Vec::new(),
            });
        }
        out[slot[r]].cells.push(c);
    }
    for (e, eq) in system.equations.iter().enumerate() {
        if let Some(c) = std::iter::once(eq.total)
            .chain(eq.members.iter().copied())
            .find(|&c| hidden[c])
        {
            let r = find(&mut parent, c);
            out[slot[r]].equations.push(e);
        }
    }
    if let Some(dirty) = dirty {
        out.retain(|comp| comp.cells.iter().any(|&c| dirty[c]));
    }
    out
}

/// Audit one component.
pub(super) fn audit(
    k: i64,
    system: &System,
    index: &Index,
    hidden: &[bool],
    comp: &Component,
) -> Result<(), Failure> {
    let k = i128::from(k);
    let value = |c: usize| i128::from(system.cells[c].value);
    // A sum of hidden cells that a published (or known) total pins must not be small: the
    // residual of an equation with a visible total and hidden members is 0 or >= k (and 0
    // would pin its hidden members to 0, which the cell check below refuses).
    for &e in &comp.equations {
        let eq = &system.equations[e];
        if hidden[eq.total] {
            continue;
        }
        let residual = value(eq.total)
            - eq.members
                .iter()
                .filter(|&&m| !hidden[m])
                .map(|&m| value(m))
                .sum::<i128>();
        if residual < k {
            let cell = first_hidden_member(system, hidden, e);
            return Err(Failure::Equation { equation: e, cell });
        }
    }
    let lb = lower_bounds(system, index, hidden, comp);
    match comp.equations.as_slice() {
        [] => Ok(()),
        &[e] if !hidden[system.equations[e].total] => closed_form(k, system, hidden, e, &lb),
        _ => {
            let (model, targets) = witness_model(k, system, index, hidden, comp, &lb);
            if model.lb.len() > LP_CELL_CAP || model.largest_constant() >= LP_VALUE_CAP {
                return Err(Failure::TooLarge {
                    cell: comp.cells[0],
                });
            }
            // Every value 1..=k-1, not only the extremes: the witness set is an integer
            // program and need not reach every integer between two it reaches. The
            // extremes first, so that a failure is found early.
            let k1 = i64::try_from(k - 1).unwrap_or(i64::MAX);
            let values: Vec<i64> = [1, k1].into_iter().chain(2..k1).collect();
            for &t in &values {
                for target in &targets {
                    if !model.feasible_with(target.var, t, target.exact, k1) {
                        return Err(Failure::Cell { cell: target.cell });
                    }
                }
            }
            Ok(())
        }
    }
}

fn first_hidden_member(system: &System, hidden: &[bool], e: usize) -> usize {
    let eq = &system.equations[e];
    eq.members
        .iter()
        .copied()
        .filter(|&m| hidden[m])
        .min()
        .unwrap_or(eq.total)
}

/// `lb[j]` for `comp.cells[j]`: 0 for members of an equation whose total is hidden (the
/// closure hides them whatever their value) and for sticky cells, 1 otherwise (hidden only
/// as a small count or as a non-zero member). A sticky cell that an earlier release hid
/// under a published total (a carried group: an equation whose total is a visible
/// [`Role::Fact`]) is known to be non-zero: that release would have published a 0.
fn lower_bounds(system: &System, index: &Index, hidden: &[bool], comp: &Component) -> Vec<i64> {
    comp.cells
        .iter()
        .map(|&c| {
            let sticky = system.cells[c].role == Role::StickyRow;
            let shown_nonzero = sticky
                && index.member_of(c).iter().any(|&e| {
                    let total = system.equations[e].total;
                    system.cells[total].role == Role::Fact && !hidden[total]
                });
            if shown_nonzero {
                1
            } else if sticky || total_covered(system, index, hidden, c) {
                0
            } else {
                1
            }
        })
        .collect()
}

fn total_covered(system: &System, index: &Index, hidden: &[bool], c: usize) -> bool {
    index
        .member_of(c)
        .iter()
        .any(|&e| hidden[system.equations[e].total])
}

/// One equation with a visible total and `m` hidden members of lower bounds `lb`, summing
/// to the residual `R`: a member reaches `t` exactly when `R - t >= (sum of the others'
/// bounds)`, and with no upper bounds every value in between; so all reach `1..=k-1` iff
/// `m >= 2` and `R - (k-1) >= sum(lb) - min(lb)`.
fn closed_form(
    k: i128,
    system: &System,
    hidden: &[bool],
    e: usize,
    lb: &[i64],
) -> Result<(), Failure> {
    let eq = &system.equations[e];
    let mut residual = i128::from(system.cells[eq.total].value);
    let mut hidden_count = 0usize;
    for &m in &eq.members {
        if hidden[m] {
            hidden_count += 1;
        } else {
            residual -= i128::from(system.cells[m].value);
        }
    }
    let sum_lb: i128 = lb.iter().map(|&b| i128::from(b)).sum();
    let min_lb = lb.iter().copied().min().map_or(0, i128::from);
    if hidden_count >= 2 && residual - (k - 1) >= sum_lb - min_lb {
        Ok(())
    } else {
        Err(Failure::Equation {
            equation: e,
            cell: first_hidden_member(system, hidden, e),
        })
    }
}

/// What the audit asks of one variable: some witness with `var == t` (`exact`) or
/// `var >= t`; `cell` is the first hidden cell the question stands for.
struct Target {
    var: usize,
    exact: bool,
    cell: usize,
}

/// The witness set of a component as an integer program, and the questions to ask it.
///
/// Variables are the hidden cells, except *leaves*: a hidden cell that is a member of one
/// equation only, whose total is hidden, and that is the total of nothing and no source.
/// The leaves of one equation are one variable, their sum `s >= 0` (they are bounded below
/// by 0 and appear nowhere else, so any split of `s` is a witness): a leaf reaches `t`
/// exactly when `s` does (the equation's only leaf) or when `s >= t` does (with another
/// leaf to take the rest). This keeps a hierarchy's hidden subtrees from growing the
/// program.
fn witness_model(
    k: i128,
    system: &System,
    index: &Index,
    hidden: &[bool],
    comp: &Component,
    lb: &[i64],
) -> (lp::Model, Vec<Target>) {
    let mut local = std::collections::HashMap::with_capacity(comp.cells.len());
    for (j, &c) in comp.cells.iter().enumerate() {
        local.insert(c, j);
    }
    let scc = derivation_sources(system, index, hidden, comp, &local, lb);
    // Variables: one per non-leaf cell, one per equation with leaves.
    let leaf_of = |j: usize| -> Option<usize> {
        let c = comp.cells[j];
        match index.member_of(c) {
            [e] if hidden[system.equations[*e].total]
                && index.total_of(c).is_empty()
                && scc.source_of[j].is_none() =>
            {
                Some(*e)
            }
            _ => None,
        }
    };
    let mut var_of = vec![usize::MAX; comp.cells.len()];
    let mut var_lb = Vec::new();
    let mut var_seed = Vec::new();
    let mut leaf_var: std::collections::HashMap<usize, (usize, usize)> = Default::default();
    for j in 0..comp.cells.len() {
        match leaf_of(j) {
            Some(e) => {
                let entry = leaf_var.entry(e).or_insert_with(|| {
                    var_lb.push(0);
                    var_seed.push(None);
                    (var_lb.len() - 1, 0)
                });
                entry.1 += 1;
                var_of[j] = entry.0;
            }
            None => {
                var_lb.push(lb[j]);
                var_seed.push(scc.source_of[j]);
                var_of[j] = var_lb.len() - 1;
            }
        }
    }
    let mut rows = Vec::with_capacity(comp.equations.len());
    let mut in_row = vec![usize::MAX; var_lb.len()];
    for (q, &e) in comp.equations.iter().enumerate() {
        let eq = &system.equations[e];
        // sum(hidden members) - [total hidden] * total = (visible total) - sum(visible members)
        let mut coeffs: Vec<(usize, i32)> = Vec::new();
        let mut rhs: i128 = 0;
        if hidden[eq.total] {
            coeffs.push((var_of[local[&eq.total]], -1));
        } else {
            rhs += i128::from(system.cells[eq.total].value);
        }
        for &m in &eq.members {
            if hidden[m] {
                let v = var_of[local[&m]];
                if std::mem::replace(&mut in_row[v], q) != q {
                    coeffs.push((v, 1));
                }
            } else {
                rhs -= i128::from(system.cells[m].value);
            }
        }
        rows.push(lp::Row { coeffs, rhs });
    }
    let seeds = scc
        .sources
        .into_iter()
        .map(|cells| {
            let with_lb1: Vec<usize> = cells.iter().copied().filter(|&j| lb[j] == 1).collect();
            let cells = if with_lb1.is_empty() {
                vec![cells[0]]
            } else {
                with_lb1
            };
            lp::Seed {
                cap: i128::try_from(cells.len()).unwrap_or(i128::MAX) * (k - 1),
                cells: cells.into_iter().map(|j| var_of[j]).collect(),
            }
        })
        .collect();
    let mut targets: Vec<Target> = Vec::new();
    let mut asked = vec![false; var_lb.len()];
    for (j, &cell) in comp.cells.iter().enumerate() {
        let var = var_of[j];
        if std::mem::replace(&mut asked[var], true) {
            continue;
        }
        let exact = leaf_of(j).is_none_or(|e| leaf_var[&e].1 == 1);
        targets.push(Target { var, exact, cell });
    }
    let model = lp::Model {
        lb: var_lb,
        rows,
        seeds,
        seed_of: var_seed,
    };
    (model, targets)
}

/// Sources of the derivation graph that hold no sticky cell.
struct Sources {
    /// Each source's cells (local indices, ascending).
    sources: Vec<Vec<usize>>,
    /// `source_of[j]`: the index in `sources` of the source cell `j` belongs to, if any.
    source_of: Vec<Option<usize>>,
}

/// The derivation graph of a pattern under the witness assumptions: an edge `a -> b` when
/// `b` is hidden by the closure as soon as `a` is, whatever the values (a hidden total hides
/// its members; a hidden member hides a co-member whose lower bound is 1, i.e. non-zero, or
/// which is sticky). Its strongly connected components without incoming edges are the
/// sources; each needs a seed (a sticky cell or a cell in `1..=k-1`).
fn derivation_sources(
    system: &System,
    index: &Index,
    hidden: &[bool],
    comp: &Component,
    local: &std::collections::HashMap<usize, usize>,
    lb: &[i64],
) -> Sources {
    let n = comp.cells.len();
    // Nodes: cells 0..n, then one node per equation (member -> equation -> member).
    let node_count = n + comp.equations.len();
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); node_count];
    for (q, &e) in comp.equations.iter().enumerate() {
        let eq = &system.equations[e];
        let eq_node = n + q;
        let total_hidden = hidden[eq.total];
        for &m in &eq.members {
            if !hidden[m] {
                continue;
            }
            let jm = local[&m];
            if total_hidden {
                adj[local[&eq.total]].push(jm);
            }
            adj[jm].push(eq_node);
            let sticky = system.cells[m].role == Role::StickyRow;
            if lb[jm] == 1 || sticky || !total_covered(system, index, hidden, m) {
                adj[eq_node].push(jm);
            }
        }
    }
    let comp_of = tarjan(&adj);
    let scc_count = comp_of.iter().copied().max().map_or(0, |m| m + 1);
    let mut has_incoming = vec![false; scc_count];
    for (a, outs) in adj.iter().enumerate() {
        for &b in outs {
            if comp_of[a] != comp_of[b] {
                has_incoming[comp_of[b]] = true;
            }
        }
    }
    let mut cells_of: Vec<Vec<usize>> = vec![Vec::new(); scc_count];
    let mut has_sticky = vec![false; scc_count];
    for j in 0..n {
        cells_of[comp_of[j]].push(j);
        if system.cells[comp.cells[j]].role == Role::StickyRow {
            has_sticky[comp_of[j]] = true;
        }
    }
    let mut sources = Vec::new();
    let mut source_of = vec![None; n];
    for s in 0..scc_count {
        if !has_incoming[s] && !has_sticky[s] && !cells_of[s].is_empty() {
            for &j in &cells_of[s] {
                source_of[j] = Some(sources.len());
            }
            sources.push(std::mem::take(&mut cells_of[s]));
        }
    }
    Sources { sources, source_of }
}

/// Strongly connected components (iterative Tarjan); returns each node's component id.
fn tarjan(adj: &[Vec<usize>]) -> Vec<usize> {
    let n = adj.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut comp = vec![usize::MAX; n];
    let mut next_index = 0;
    let mut next_comp = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut i)) = call.last_mut() {
            if *i < adj[v].len() {
                let w = adj[v][*i];
                *i += 1;
                if index[w] == usize::MAX {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(u, _)) = call.last() {
                    low[u] = low[u].min(low[v]);
                }
                if low[v] == index[v] {
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp[w] = next_comp;
                        if w == v {
                            break;
                        }
                    }
                    next_comp += 1;
                }
            }
        }
    }
    comp
}
