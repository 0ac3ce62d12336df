//! Overlapping periods across releases (the release policy's last check, after protection).
//!
//! Counts (`in_period`, `cumulative`) are counts over `[period_start, period_end]`; levels
//! (`point_in_time`) are levels at `period_end`. For one (program, metric, dimension,
//! category), two distinct periods that overlap (share a day; levels: the same end date),
//! in this release or any earlier one still queryable, give an attacker a relation this
//! release's system may not hold: subtracting one from the other bounds a hidden figure
//! (2024 minus Q1, Q3 bounds Q2 when Q4 is missing). Such a pair is fine when an exact tiling
//! modelled in this release links them (one period is tiled, through sub-periods of this
//! release, by periods including the other); otherwise it is refused when a figure of either
//! period is hidden, now or in any earlier release. A refused import publishes nothing, so
//! the refusal reveals nothing to readers.

use super::*;

/// One period of one (dimension, category).
#[derive(Debug, Clone, Copy)]
struct Interval {
    start: u64,
    end: u64,
    hidden: bool,
    /// The segment of this release holding it, if this release publishes it.
    segment: Option<usize>,
    /// A row of this release in it, for messages.
    row: Option<u32>,
    /// An earlier release publishing it, for messages.
    release: Option<u32>,
}

/// What the check needs of one cell of this release.
pub(super) struct Now<'a> {
    pub(super) dimension: &'a str,
    pub(super) category: &'a str,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) point: bool,
    pub(super) hidden: bool,
    pub(super) segment: usize,
    /// The row (None for an implied total).
    pub(super) row: Option<u32>,
}

/// A pair of periods the check refuses: a row of this release, and what is expected.
pub(super) type Refusal = (u32, String);

/// Check every overlapping pair of periods of one (program, metric). `tiled_by[s]`: the
/// segment segment `s` tiles (with its siblings), in this release's system.
pub(super) fn check(
    now: Vec<Now<'_>>,
    earlier: &Earlier,
    program: &str,
    metric: &str,
    tiled_by: &[Option<usize>],
    fallback_row: u32,
) -> Vec<Refusal> {
    // (point, dimension, category) -> intervals.
    let mut groups: HashMap<(bool, &str, &str), Vec<Interval>> = HashMap::new();
    let level = |point: bool, start: u64, end: u64| if point { (end, end) } else { (start, end) };
    for cell in now {
        let (start, end) = level(cell.point, cell.start, cell.end);
        groups
            .entry((cell.point, cell.dimension, cell.category))
            .or_default()
            .push(Interval {
                start,
                end,
                hidden: cell.hidden,
                segment: Some(cell.segment),
                row: cell.row,
                release: None,
            });
    }
    earlier.each_row(program, metric, |seen| {
        let (start, end) = level(seen.point, seen.start, seen.end);
        groups
            .entry((seen.point, seen.dimension, seen.category))
            .or_default()
            .push(Interval {
                start,
                end,
                hidden: seen.hidden,
                segment: None,
                row: None,
                release: Some(seen.release),
            });
    });
    let mut refused = Vec::new();
    let mut keys: Vec<(bool, &str, &str)> = groups.keys().copied().collect();
    keys.sort_unstable();
    for key in keys {
        let list = groups.get_mut(&key).expect("listed");
        // One interval per period: this release's if it has it, hidden if hidden anywhere.
        list.sort_unstable_by_key(|i| (i.start, std::cmp::Reverse(i.end), i.segment.is_none()));
        let mut merged: Vec<Interval> = Vec::with_capacity(list.len());
        for &i in list.iter() {
            match merged.last_mut() {
                Some(last) if (last.start, last.end) == (i.start, i.end) => {
                    last.hidden |= i.hidden;
                    last.segment = last.segment.or(i.segment);
                    last.row = last.row.or(i.row);
                    last.release = last.release.or(i.release);
                }
                _ => merged.push(i),
            }
        }
        let linked = |outer: &Interval, inner: &Interval| {
            let (Some(outer), Some(mut s)) = (outer.segment, inner.segment) else {
                return false;
            };
            while let Some(parent) = tiled_by[s] {
                if parent == outer {
                    return true;
                }
                s = parent;
            }
            false
        };
        if merged.iter().all(|i| !i.hidden) {
            continue;
        }
        // Bounded work: in a laminar family (tilings) each period overlaps only its
        // ancestors and descendants; a family where the pairs run into the quadratic (a
        // daily cumulative series with hidden figures) is refused rather than checked.
        let mut budget = 64 * merged.len() + 100_000;
        'pairs: for (a, outer) in merged.iter().enumerate() {
            for inner in merged[a + 1..].iter().take_while(|i| i.start <= outer.end) {
                if budget == 0 {
                    refused.push((
                        outer.row.or(inner.row).unwrap_or(fallback_row),
                        format!(
                            "fewer overlapping periods of dimension {}, category {} (too many \
                             overlapping pairs to check that none narrows a hidden figure); \
                             publish periods that nest or tile",
                            key.1, key.2
                        ),
                    ));
                    break 'pairs;
                }
                budget -= 1;
                if !(outer.hidden || inner.hidden)
                    || (outer.segment.is_none() && inner.segment.is_none())
                {
                    continue;
                }
                let nested = inner.end <= outer.end;
                if nested && linked(outer, inner) {
                    continue;
                }
                let row = inner.row.or(outer.row).unwrap_or(fallback_row);
                let other = if inner.row.is_some() { outer } else { inner };
                let (dimension, category) = (key.1, key.2);
                let what = if key.0 {
                    "levels at the same date"
                } else {
                    "overlapping periods"
                };
                let from = match other.release {
                    Some(r) if other.segment.is_none() => format!("release #{r}"),
                    _ => "this release".to_owned(),
                };
                refused.push((
                    row,
                    format!(
                        "{what} of dimension {dimension}, category {category} (this period and \
                         {}..{} of {from}) to be linked by an exact tiling in this release, since \
                         one of them is hidden: otherwise subtracting one from the other narrows \
                         the hidden figure (values withheld: disclosure control); publish the \
                         periods that tile the longer one, or leave one of them out",
                        earlier::date(other.start),
                        earlier::date(other.end),
                    ),
                ));
                break 'pairs;
            }
        }
    }
    refused
}

/// One (period, dimension) of this release, for [`other_breakdowns`].
pub(super) struct Part<'a> {
    pub(super) dimension: &'a str,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) point: bool,
    /// Whether it hides a figure.
    pub(super) hidden: bool,
    /// A row of it (None for an implied total).
    pub(super) row: Option<u32>,
}

/// Breakdowns across releases. This release's system links its own breakdowns (a
/// dimension to its nearest published ancestor in each period, periods by tilings) and an
/// earlier release's rows only where this release publishes the same (period, dimension).
/// An earlier breakdown this release does not publish again, over a period overlapping one
/// of this release's breakdowns of another dimension (levels: the same date), may be
/// linked to it in ways no system models: bands by quarter then ages for the half-year
/// give a hidden band by subtraction. Any two dimensions count as linked (an attacker
/// may know links no declaration states, and releases imported before declarations were
/// kept could declare them differently): such a pair is refused when either side hides a
/// figure.
pub(super) fn other_breakdowns(
    now: &[Part<'_>],
    earlier: &Earlier,
    program: &str,
    metric: &str,
    fallback_row: u32,
) -> Vec<Refusal> {
    let level = |point: bool, start: u64, end: u64| if point { (end, end) } else { (start, end) };
    // This release's parts by (point, start, end, dimension).
    // (point, start, end, dimension) -> (hidden, a row).
    type Key<'k> = (bool, u64, u64, &'k str);
    let mut here: HashMap<Key<'_>, (bool, Option<u32>)> = HashMap::new();
    for part in now.iter().filter(|p| p.dimension != "total") {
        let (start, end) = level(part.point, part.start, part.end);
        let entry = here
            .entry((part.point, start, end, part.dimension))
            .or_insert((false, part.row));
        entry.0 |= part.hidden;
        entry.1 = entry.1.or(part.row);
    }
    // Earlier parts this release does not publish again, hidden if any release hid a
    // figure of them.
    let mut before: HashMap<Key<'_>, (bool, u32)> = HashMap::new();
    earlier.each_row(program, metric, |seen| {
        if seen.dimension == "total" {
            return;
        }
        let (start, end) = level(seen.point, seen.start, seen.end);
        let key = (seen.point, start, end, seen.dimension);
        if here.contains_key(&key) {
            return;
        }
        let entry = before.entry(key).or_insert((false, seen.release));
        if seen.hidden && !entry.0 {
            *entry = (true, seen.release);
        }
    });
    if before.is_empty() {
        return Vec::new();
    }
    let mut here: Vec<_> = here.into_iter().collect();
    here.sort_unstable_by_key(|&((point, start, end, d), _)| (point, start, end, d));
    let mut before: Vec<_> = before.into_iter().collect();
    before.sort_unstable_by_key(|&((point, start, end, d), _)| (point, start, end, d));
    let mut budget = 64 * (here.len() + before.len()) + 100_000;
    for &((point, start, end, dimension), (hidden, release)) in &before {
        // This release's parts of the same kind overlapping [start, end]: they start by end.
        let from = here.partition_point(|((p, ..), _)| !*p && point);
        for &((_, s, e, d), (now_hidden, row)) in here[from..]
            .iter()
            .take_while(|((p, s, ..), _)| *p == point && *s <= end)
        {
            if budget == 0 {
                return vec![(
                    fallback_row,
                    "fewer overlapping breakdowns across releases (too many pairs to check \
                     that none links a hidden figure)"
                        .to_owned(),
                )];
            }
            budget -= 1;
            if e < start || d == dimension || !(hidden || now_hidden) {
                continue;
            }
            let what = if point {
                "a level at the same date"
            } else {
                "an overlapping period"
            };
            let earlier_period = if point {
                format!("the level at {}", earlier::date(end))
            } else {
                format!("{}..{}", earlier::date(start), earlier::date(end))
            };
            return vec![(
                row.unwrap_or(fallback_row),
                format!(
                    "no breakdown across releases that this release does not link: release \
                     #{release} published dimension {dimension} for {what} ({earlier_period}), \
                     which overlaps dimension {d} of {}..{} here, and a figure of one of them \
                     is hidden, so subtracting one from the other could narrow it (values \
                     withheld: disclosure control); \
                     publish dimension {dimension} for {earlier_period} again in this release \
                     (the system then links them), or leave this breakdown out",
                    earlier::date(s),
                    earlier::date(e),
                ),
            )];
        }
    }
    Vec::new()
}
