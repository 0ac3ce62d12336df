//! Small counts published by subtraction (the release policy's check of what nothing hides).
//!
//! A count over `[period_start, period_end]` (`in_period`, `cumulative`) is a difference of
//! prefix sums: `F(end) − F(start − 1)`, with `F(d)` the count up to day `d`. Published
//! exact counts of one (program, metric, dimension, category), in this release and every
//! earlier one still queryable, are edges between days; inside a connected set of days
//! every difference `F(b) − F(a)` is published too, by subtraction: 2024 minus three
//! quarters is the fourth quarter, a cumulative count to June minus one to March is April
//! to June. Counts never go down, so when each step between neighbouring days of a set is 0
//! or at least k, so is every difference; a step between 1 and k − 1 is a small count
//! published by subtraction, and the release is refused. Between two sets, a difference of
//! one minus a difference of the other inside it is published too (the two quarters minus
//! February to May: January and June together); every such pair equals one whose ends are
//! neighbours in the two sets' merged days, plus steps, so only those are checked. The
//! sums a fully published group publishes (a parent category's children, a breakdown's
//! total) are edges of their own series. A revised figure has two published values: the
//! edges are joined newest first, then oldest first.
//!
//! Only what this release adds is refused (a difference earlier releases already
//! published alone was checked when they were imported). Approximate figures and bounds
//! (`approximately`, `at_least`, `at_most`) are not exact counts and publish nothing exact
//! by subtraction; hidden figures are the protection's and `overlaps.rs`'s concern.

use super::*;

/// A published exact count of one (dimension, category): over `[start, end]` (day numbers).
#[derive(Debug, Clone, Copy)]
pub(super) struct Published<'a> {
    pub(super) dimension: &'a str,
    pub(super) category: &'a str,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) value: i64,
    /// A row of this release, or `None` for an earlier release's figure.
    pub(super) row: Option<u32>,
    /// The earlier release publishing it, for messages.
    pub(super) release: Option<u32>,
}

/// A small count found by subtraction: a row of this release, and what is expected.
pub(super) type Refusal = (u32, String);

/// Bounded work per series: beyond this many pairs of nested periods, the series is
/// refused rather than checked.
const PAIR_BUDGET: usize = 200_000;

/// At most this many combinations of revised values are checked one by one.
const MAX_WORLDS: usize = 64;

/// Check one (program, metric)'s published exact counts (this release's and earlier
/// ones', levels excluded) for a count between 1 and k − 1 published by subtraction.
pub(super) fn check(published: Vec<Published<'_>>, k: i64, fallback_row: u32) -> Vec<Refusal> {
    let mut series: HashMap<(&str, &str), Vec<Published<'_>>> = HashMap::new();
    for p in published {
        series.entry((p.dimension, p.category)).or_default().push(p);
    }
    let mut keys: Vec<(&str, &str)> = series.keys().copied().collect();
    keys.sort_unstable();
    let mut refused = Vec::new();
    for key in keys {
        let list = &series[&key];
        if list.iter().all(|p| p.row.is_none()) || list.len() < 2 {
            continue;
        }
        // A revised figure has several published values and an attacker may take any: the
        // edges are joined once per choice of one value for each revised period (up to
        // MAX_WORLDS choices; beyond, once per release, that release's values first), then
        // the rest newest first.
        let newest_first = |p: &Published<'_>| (p.row.is_none(), std::cmp::Reverse(p.release));
        let mut values: Vec<(u64, u64, i64)> =
            list.iter().map(|p| (p.start, p.end, p.value)).collect();
        values.sort_unstable();
        values.dedup();
        let revised: Vec<&[(u64, u64, i64)]> = values
            .chunk_by(|a, b| (a.0, a.1) == (b.0, b.1))
            .filter(|versions| versions.len() > 1)
            .collect();
        let choices = revised
            .iter()
            .try_fold(1usize, |n, versions| n.checked_mul(versions.len()))
            .filter(|&n| n <= MAX_WORLDS);
        let worlds: Vec<Vec<Published<'_>>> = match choices {
            Some(n) => (0..n)
                .map(|mut choice| {
                    let mut chosen: Vec<(u64, u64, i64)> = Vec::new();
                    for versions in &revised {
                        chosen.push(versions[choice % versions.len()]);
                        choice /= versions.len();
                    }
                    let mut world = list.clone();
                    world.sort_by_key(|p| {
                        (
                            !chosen.contains(&(p.start, p.end, p.value)),
                            newest_first(p),
                        )
                    });
                    world
                })
                .collect(),
            None => {
                let mut releases: Vec<Option<u32>> = list.iter().map(|p| p.release).collect();
                releases.sort_unstable();
                releases.dedup();
                releases
                    .into_iter()
                    .map(|first| {
                        let mut world = list.clone();
                        world.sort_by_key(|p| (p.release != first, newest_first(p)));
                        world
                    })
                    .collect()
            }
        };
        let found = worlds.into_iter().find_map(|list| {
            let now = small_differences(&list, k);
            if now.is_empty() {
                return None;
            }
            let before: Vec<Published<'_>> =
                list.iter().copied().filter(|p| p.row.is_none()).collect();
            let before = small_differences(&before, k);
            let gap = now
                .into_iter()
                .find(|g| !before.iter().any(|b| b.span == g.span))?;
            Some((gap, list))
        });
        if let Some((gap, list)) = found {
            let row = gap
                .from
                .iter()
                .find_map(|&e| list[e].row)
                .unwrap_or(fallback_row);
            let mut periods: Vec<String> = gap
                .from
                .iter()
                .map(|&e| {
                    let p = &list[e];
                    let of = match (p.row, p.release) {
                        (None, Some(r)) => format!(" (release #{r})"),
                        _ => String::new(),
                    };
                    format!("{}..{}{of}", earlier::date(p.start), earlier::date(p.end))
                })
                .collect();
            periods.sort();
            periods.dedup();
            let what = match gap.span {
                Span::Between(a, b) => format!("{}..{}", earlier::date(a + 1), earlier::date(b)),
                Span::Outside(a, b, x, y) => format!(
                    "{}..{} outside {}..{}",
                    earlier::date(a + 1),
                    earlier::date(b),
                    earlier::date(x + 1),
                    earlier::date(y)
                ),
                Span::TooMany => "some period (too many nested periods to check them all)".into(),
            };
            refused.push((
                row,
                format!(
                    "no small count (one below the disclosure threshold k) published by subtraction: the published \
                     periods {} of dimension {}, category {} give the count for {what} by \
                     subtraction, and it is below the disclosure threshold (values withheld: \
                     disclosure control); publish that period as a row too (it is then \
                     protected with the others), or leave one of these periods out",
                    periods.join(", "),
                    key.0,
                    key.1,
                ),
            ));
        }
    }
    refused
}

/// Which count a subtraction gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Span {
    /// Days `a + 1 ..= b`.
    Between(u64, u64),
    /// Days `a + 1 ..= b` minus days `x + 1 ..= y` inside them: `(a, b, x, y)`.
    Outside(u64, u64, u64, u64),
    /// Too many nested periods to check them all.
    TooMany,
}

#[derive(Debug)]
struct Gap {
    span: Span,
    /// Edges (indices) the count is found from, for messages.
    from: Vec<usize>,
}

/// Every count between 1 and k − 1 the edges publish by subtraction (see the module docs).
fn small_differences(edges: &[Published<'_>], k: i64) -> Vec<Gap> {
    // Days (start − 1 and end of each edge) as nodes of a union-find with potentials:
    // potential[x] = F(x) − F(root).
    let mut days: Vec<u64> = edges
        .iter()
        .flat_map(|e| [e.start.saturating_sub(1), e.end])
        .collect();
    days.sort_unstable();
    days.dedup();
    let node = |d: u64| days.binary_search(&d).expect("listed");
    let mut parent: Vec<usize> = (0..days.len()).collect();
    let mut potential: Vec<i64> = vec![0; days.len()];
    // An edge joining two sets, for messages: the edges of a set.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); days.len()];
    fn find(parent: &mut [usize], potential: &mut [i64], x: usize) -> usize {
        let mut path = Vec::new();
        let mut r = x;
        while parent[r] != r {
            path.push(r);
            r = parent[r];
        }
        // Compress: potentials relative to the root, from the top of the path down.
        for &n in path.iter().rev() {
            let p = parent[n];
            if p != r {
                potential[n] += potential[p];
            }
            parent[n] = r;
        }
        r
    }
    for (i, e) in edges.iter().enumerate() {
        let (a, b) = (node(e.start.saturating_sub(1)), node(e.end));
        let (ra, rb) = (
            find(&mut parent, &mut potential, a),
            find(&mut parent, &mut potential, b),
        );
        if ra == rb {
            // A cycle: consistent, or a revision/inconsistency that publishes nothing exact.
            if potential[b] - potential[a] == e.value {
                members[ra].push(i);
            }
            continue;
        }
        // F(b) − F(a) = value: attach rb under ra.
        potential[rb] = potential[a] + e.value - potential[b];
        parent[rb] = ra;
        let moved = std::mem::take(&mut members[rb]);
        members[ra].extend(moved);
        members[ra].push(i);
    }
    let mut gaps = Vec::new();
    // Within each set: neighbouring days.
    let mut by_root: HashMap<usize, Vec<usize>> = HashMap::new();
    for n in 0..days.len() {
        let r = find(&mut parent, &mut potential, n);
        by_root.entry(r).or_default().push(n);
    }
    let mut roots: Vec<usize> = by_root.keys().copied().collect();
    roots.sort_unstable();
    for r in roots {
        let nodes = &by_root[&r];
        if nodes.len() < 2 {
            continue;
        }
        let f = |n: usize| potential[n];
        let monotone = nodes.windows(2).all(|w| f(w[1]) >= f(w[0]));
        let mut check = |a: usize, b: usize| {
            let diff = f(b) - f(a);
            if diff > 0 && diff < k {
                // The periods ending or starting at the gap's ends, for messages.
                let touches = |e: &Published<'_>| {
                    [e.start.saturating_sub(1), e.end]
                        .iter()
                        .any(|&d| d == days[a] || d == days[b])
                };
                let from: Vec<usize> = members[r]
                    .iter()
                    .copied()
                    .filter(|&e| touches(&edges[e]))
                    .take(4)
                    .collect();
                gaps.push(Gap {
                    span: Span::Between(days[a], days[b]),
                    from,
                });
            }
        };
        if monotone {
            for w in nodes.windows(2) {
                check(w[0], w[1]);
            }
        } else {
            // Inconsistent figures (counts that would go down): every pair, bounded.
            for (i, &a) in nodes.iter().enumerate().take(2_000) {
                for &b in &nodes[i + 1..nodes.len().min(i + 2_000)] {
                    check(a, b);
                }
            }
        }
    }
    // Across sets: a difference of one set minus the widest difference of another inside
    // it (2024's first half from the quarters, minus February to May: January and June).
    // Narrower inner differences give the same plus the inner set's steps (0 or at least k
    // once the steps pass), so the widest is enough; differences of three or more sets
    // are not checked.
    let mut sets: Vec<&Vec<usize>> = by_root.values().filter(|n| n.len() > 1).collect();
    sets.sort_unstable_by_key(|n| n[0]);
    // Pairs of sets whose spans overlap: one starts inside the other (a sweep over the
    // sets sorted by first day; sets that follow one another cost nothing).
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for (i, outer) in sets.iter().enumerate() {
        let last = *outer.last().expect("two nodes");
        for (j, inner) in sets.iter().enumerate().skip(i + 1) {
            if inner[0] >= last {
                break;
            }
            pairs.extend([(i, j), (j, i)]);
        }
    }
    let mut budget = PAIR_BUDGET;
    for (outer, inner) in pairs {
        let (outer, inner) = (sets[outer], sets[inner]);
        // Any outer difference (a, b) with an inner one (x, y) inside it equals the one
        // with a just before x and b just after y in the two sets' merged days, plus steps
        // of the sets (0 or at least k once the steps pass): only those are checked.
        let mut merged: Vec<(usize, bool)> = outer
            .iter()
            .map(|&n| (n, true))
            .chain(inner.iter().map(|&n| (n, false)))
            .collect();
        merged.sort_unstable();
        let lefts: Vec<(usize, usize)> = merged
            .windows(2)
            .filter(|w| w[0].1 && !w[1].1)
            .map(|w| (w[0].0, w[1].0))
            .collect();
        let rights: Vec<(usize, usize)> = merged
            .windows(2)
            .filter(|w| !w[0].1 && w[1].1)
            .map(|w| (w[0].0, w[1].0))
            .collect();
        for &(a, x) in &lefts {
            for &(y, b) in rights.iter().filter(|(y, _)| *y > x) {
                if budget == 0 {
                    gaps.push(Gap {
                        span: Span::TooMany,
                        from: members[find(&mut parent, &mut potential, a)]
                            .iter()
                            .copied()
                            .take(1)
                            .collect(),
                    });
                    return gaps;
                }
                budget -= 1;
                let value = (potential[b] - potential[a]) - (potential[y] - potential[x]);
                if value > 0 && value < k {
                    let touches = |e: &Published<'_>| {
                        [e.start.saturating_sub(1), e.end]
                            .iter()
                            .any(|&d| [days[a], days[b], days[x], days[y]].contains(&d))
                    };
                    gaps.push(Gap {
                        span: Span::Outside(days[a], days[b], days[x], days[y]),
                        from: (0..edges.len())
                            .filter(|&e| touches(&edges[e]))
                            .take(4)
                            .collect(),
                    });
                }
            }
        }
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(start: u64, end: u64, value: i64, row: Option<u32>) -> Published<'static> {
        Published {
            dimension: "total",
            category: "all",
            start,
            end,
            value,
            row,
            release: row.is_none().then_some(1),
        }
    }

    #[test]
    fn a_year_minus_three_quarters() {
        let edges = [
            edge(1, 12, 91, Some(0)),
            edge(1, 3, 30, Some(1)),
            edge(4, 6, 30, Some(2)),
            edge(7, 9, 30, Some(3)),
        ];
        let gaps = small_differences(&edges, 11);
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(gaps[0].span, Span::Between(9, 12));
        // A gap of 0, or of at least k, is fine.
        let mut fine = edges;
        fine[0].value = 90;
        assert!(small_differences(&fine, 11).is_empty());
        fine[0].value = 101;
        assert!(small_differences(&fine, 11).is_empty());
    }

    #[test]
    fn a_period_minus_one_inside_it_without_shared_days() {
        // 1..12 minus 4..6: 1..3 and 7..12 together.
        let edges = [edge(1, 12, 35, Some(0)), edge(4, 6, 30, Some(1))];
        let gaps = small_differences(&edges, 11);
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(gaps[0].span, Span::Outside(0, 12, 3, 6));
    }

    #[test]
    fn only_what_this_release_adds_is_refused() {
        // Earlier releases alone already gave the small gap: not this release's doing.
        let earlier = vec![edge(1, 12, 91, None), edge(1, 9, 90, None)];
        assert!(check(earlier.clone(), 11, 0).is_empty());
        let mut now = earlier;
        now.push(edge(13, 15, 40, Some(7)));
        assert!(check(now, 11, 0).is_empty());
        let refused = check(vec![edge(1, 12, 91, None), edge(1, 9, 90, Some(3))], 11, 0);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].0, 3);
        assert!(!refused[0].1.contains("91"), "{}", refused[0].1);
    }

    #[test]
    fn a_long_chain_is_checked_in_n_log_n() {
        // A daily cumulative series of 100,000 days, all steps of 20: nothing small.
        let edges: Vec<Published<'static>> = (1..=100_000)
            .map(|d| edge(1, d, 20 * d as i64, Some(0)))
            .collect();
        let started = std::time::Instant::now();
        assert!(small_differences(&edges, 11).is_empty());
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn many_sets_cost_little() {
        // A weekly series over 2,000 weeks (one set; weeks end on days 7, 14, ...), a
        // period of days 100..=190 inside it that shares no day with it, and 5,000
        // separate one-week periods with gaps between them.
        let mut edges: Vec<Published<'static>> = (0..2_000)
            .map(|w| edge(7 * w + 1, 7 * w + 7, 140, Some(0)))
            .collect();
        edges.push(edge(100, 190, 20 * 91, Some(1)));
        edges.extend((0..5_000).map(|w| edge(20_000 + 10 * w, 20_006 + 10 * w, 50, Some(2))));
        let started = std::time::Instant::now();
        let gaps = small_differences(&edges, 11);
        assert!(gaps.is_empty(), "{gaps:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        // Days 99..=196 (14 weeks, 1,960) minus the period: 5 when it is 1,955.
        edges[2_000].value = 1_955;
        let gaps = small_differences(&edges, 11);
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(gaps[0].span, Span::Outside(98, 196, 99, 190));
    }
}
