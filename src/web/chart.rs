//! Honest charts: which figures may share a scale, and the bars.
//!
//! Figures share a chart only when they measure the same thing the same way: the same
//! metric, unit and breakdown, counted the same way (within a period, since launch, or
//! as a level at a date) over the same kind of period (a day, a week, a run of whole
//! calendar months of one length, or the same number of days). A one-day count, a
//! ten-month count and a count since launch are never bars on one scale; neither are a
//! start-up grant and an annual budget (different metrics).
//!
//! Bars are inline SVG; every label is HTML text beside its bar (the text alternative,
//! and readable at any width): the period, the figure with its qualifier ("about",
//! "more than") and the link to its source. A suppressed figure says "suppressed" and
//! has no bar; it is never drawn as 0.

use std::fmt::Write;

use chrono::{Datelike, Days, NaiveDate};

use super::text::{esc, figure, humanize, period_text, unit_name};
use crate::model::Statistic;
use crate::vocabulary::Basis;

/// The kind of period a figure counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodKind {
    /// Counted within one day.
    Day,
    /// Counted within seven days.
    Week,
    /// Counted within this many whole calendar months (1: a month, 3: a quarter, 12: a
    /// year, calendar or fiscal).
    Months(u32),
    /// Counted within this many days, not whole months.
    Days(i64),
    /// Everything since the program launched, up to the end of the period.
    SinceLaunch,
    /// A level at the end of the period (a backlog, a capacity, an estimate).
    Level,
}

impl PeriodKind {
    /// The kind of period of a figure.
    pub fn of(s: &Statistic) -> PeriodKind {
        match s.basis {
            Some(Basis::Cumulative) => return PeriodKind::SinceLaunch,
            Some(Basis::PointInTime) => return PeriodKind::Level,
            Some(Basis::InPeriod) | None => {}
        }
        let days = (s.period_end - s.period_start).num_days() + 1;
        if let Some(months) = whole_months(s.period_start, s.period_end) {
            return PeriodKind::Months(months);
        }
        match days {
            1 => PeriodKind::Day,
            7 => PeriodKind::Week,
            d => PeriodKind::Days(d),
        }
    }

    /// How a chart title says it: "per day", "since launch (cumulative)".
    pub fn describe(self) -> String {
        match self {
            PeriodKind::Day => "in one day".into(),
            PeriodKind::Week => "in one week".into(),
            PeriodKind::Months(1) => "in one calendar month".into(),
            PeriodKind::Months(3) => "in one quarter".into(),
            PeriodKind::Months(12) => "in one year".into(),
            PeriodKind::Months(n) => format!("in periods of {n} months"),
            PeriodKind::Days(n) => format!("in periods of {n} days"),
            PeriodKind::SinceLaunch => "since launch (cumulative)".into(),
            PeriodKind::Level => "level at a date".into(),
        }
    }
}

/// The number of whole calendar months from `start` (the 1st of a month) to `end` (the
/// last day of a month), or `None` when the period is not whole months.
fn whole_months(start: NaiveDate, end: NaiveDate) -> Option<u32> {
    let next = end.checked_add_days(Days::new(1))?;
    if start.day() != 1 || next.day() != 1 || next <= start {
        return None;
    }
    let months = (next.year() - start.year()) * 12 + next.month() as i32 - start.month() as i32;
    u32::try_from(months).ok().filter(|m| *m > 0)
}

/// What the figures of one chart share.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChartKey {
    pub metric: String,
    pub unit: String,
    pub dimension: String,
    pub basis: Option<Basis>,
    pub period: PeriodKind,
}

impl ChartKey {
    pub fn of(s: &Statistic) -> ChartKey {
        ChartKey {
            metric: s.metric.clone(),
            unit: s.unit.clone(),
            dimension: s.dimension.clone(),
            basis: s.basis,
            period: PeriodKind::of(s),
        }
    }
}

/// Figures that may share one scale.
#[derive(Debug)]
pub struct Chart<'a> {
    pub key: ChartKey,
    pub rows: Vec<&'a Statistic>,
}

/// Group figures into charts of like with like (see the module documentation), in the
/// order each group first appears; rows keep their order within a group.
pub fn group<'a>(rows: &[&'a Statistic]) -> Vec<Chart<'a>> {
    let mut charts: Vec<Chart<'a>> = Vec::new();
    for s in rows {
        let key = ChartKey::of(s);
        match charts.iter_mut().find(|c| c.key == key) {
            Some(chart) => chart.rows.push(s),
            None => charts.push(Chart { key, rows: vec![s] }),
        }
    }
    charts
}

/// The most bars one chart draws; a longer series shows its last `MAX_BARS` figures and
/// says so (the figure list and the browse view have them all).
pub const MAX_BARS: usize = 60;

/// A chart as HTML: a `<figure>` with a caption naming the metric (by its human name),
/// the kind of period and the unit, then one bar per figure with its text.
pub fn render(chart: &Chart, metric_name: &str, program_page: &str) -> String {
    let shown = &chart.rows[chart.rows.len().saturating_sub(MAX_BARS)..];
    let max = shown
        .iter()
        .filter_map(|s| s.value)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let breakdown = if chart.key.dimension == "total" {
        String::new()
    } else {
        format!(", by {}", humanize(&chart.key.dimension))
    };
    let mut html = format!(
        "<figure class=\"chart\"><figcaption>{} {}{} <span class=\"note\">({}; bars to scale within this chart)</span></figcaption><ol class=\"bars\">",
        esc(metric_name),
        esc(&chart.key.period.describe()),
        esc(&breakdown),
        esc(&unit_name(&chart.key.unit)),
    );
    for s in shown {
        let label = if s.dimension == "total" {
            period_text(s)
        } else {
            format!("{}: {}", humanize(&s.category), period_text(s))
        };
        let _ = write!(html, "<li><span class=\"bar-label\">{}</span>", esc(&label));
        match s.value {
            Some(v) => {
                let width = (v as f64 / max * 1000.0).max(2.0);
                let _ = write!(
                    html,
                    "<svg class=\"bar\" viewBox=\"0 0 1000 14\" preserveAspectRatio=\"none\" aria-hidden=\"true\" focusable=\"false\"><rect width=\"{width:.1}\" height=\"14\"/></svg><strong class=\"bar-value\">{}</strong>",
                    esc(&figure(s))
                );
            }
            None => html.push_str("<strong class=\"bar-value suppressed\">suppressed</strong>"),
        }
        let _ = write!(
            html,
            " <a class=\"src\" href=\"{}\" rel=\"noopener\">source: {}</a> · <a class=\"src\" href=\"{program_page}#figure-{}\">details</a></li>",
            esc(&s.source.url),
            esc(&s.source.publisher),
            esc(&s.id),
        );
    }
    html.push_str("</ol>");
    if shown.len() < chart.rows.len() {
        let _ = write!(
            html,
            "<p class=\"note\">The last {} of {} figures in this series.</p>",
            shown.len(),
            chart.rows.len()
        );
    }
    html.push_str("</figure>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn whole_months_are_recognised() {
        assert_eq!(
            whole_months(date("2022-01-01"), date("2022-12-31")),
            Some(12)
        );
        assert_eq!(
            whole_months(date("2021-07-01"), date("2022-02-28")),
            Some(8)
        );
        assert_eq!(
            whole_months(date("2023-07-01"), date("2024-02-29")),
            Some(8)
        );
        assert_eq!(
            whole_months(date("2024-02-01"), date("2024-02-29")),
            Some(1)
        );
        assert_eq!(whole_months(date("2023-01-01"), date("2023-11-02")), None);
        assert_eq!(whole_months(date("2018-04-30"), date("2018-05-31")), None);
    }
}
