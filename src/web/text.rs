//! How the pages say things: figures with their qualifier, money, periods, dates and the
//! human names of vocabulary values (never an id where a reader expects words).

use crate::model::{Event, Metric, Statistic};
use crate::vocabulary::{
    Basis, DatePrecision, DocumentKind, EventKind, PeriodInferred, ProgramStatus, Qualifier,
    StatisticStatus,
};

/// Escape text for HTML element content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Digits grouped by thousands: 1000000 → "1,000,000".
pub fn grouped(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Whether a unit counts money (in US dollars).
pub fn is_money(unit: &str) -> bool {
    unit == "us_dollars"
}

/// A value in its unit: money as "$1,000,000", anything else as "1,000,000".
pub fn amount(value: i64, unit: &str) -> String {
    if is_money(unit) {
        format!("${}", grouped(value))
    } else {
        grouped(value)
    }
}

/// A figure as a reader says it: "about 24,000", "more than $443,470", "suppressed".
pub fn figure(statistic: &Statistic) -> String {
    let Some(value) = statistic.value else {
        return "suppressed".into();
    };
    let amount = amount(value, &statistic.unit);
    match statistic.qualifier {
        Qualifier::Exact => amount,
        Qualifier::AtLeast => format!("more than {amount}"),
        Qualifier::AtMost => format!("fewer than {amount}"),
        Qualifier::Approximately => format!("about {amount}"),
    }
}

/// A unit as a reader says it: `us_dollars` → "US dollars".
pub fn unit_name(unit: &str) -> String {
    match unit {
        "us_dollars" => "US dollars".into(),
        "cards_per_day" => "cards a day".into(),
        "person_hours" => "person-hours".into(),
        other => humanize(other),
    }
}

/// A dimension or category id as words: `age_group` → "age group", `all` → "all".
pub fn humanize(id: &str) -> String {
    id.replace(['_', '-'], " ")
}

/// A metric's human name from the metrics table; the id in words when it is missing.
pub fn metric_name<'a>(metrics: &'a [Metric], id: &str) -> std::borrow::Cow<'a, str> {
    match metrics.iter().find(|m| m.id == id) {
        Some(m) => std::borrow::Cow::Borrowed(m.name.as_str()),
        None => std::borrow::Cow::Owned(humanize(id)),
    }
}

/// What a figure counts over its period, as a reader says it.
pub fn basis_text(basis: Option<Basis>) -> &'static str {
    match basis {
        Some(Basis::InPeriod) => "within the period",
        Some(Basis::Cumulative) => "since launch",
        Some(Basis::PointInTime) => "a level at the end of the period",
        None => "not recorded",
    }
}

/// The standing of a figure when it is not simply as reported.
pub fn status_text(status: StatisticStatus) -> Option<&'static str> {
    match status {
        StatisticStatus::Reported | StatisticStatus::Final => None,
        StatisticStatus::Estimated => Some("an estimate"),
        StatisticStatus::Preliminary => Some("preliminary (proposed when reported)"),
        StatisticStatus::Revised => Some("revised"),
    }
}

/// "30 Apr 2018 – 6 May 2018 (7 days)": both ends to the day, with the span, so periods
/// of different lengths are never mistaken for one another.
pub fn period_text(s: &Statistic) -> String {
    let days = (s.period_end - s.period_start).num_days() + 1;
    let span = match days {
        1 => "1 day".to_owned(),
        d if d < 60 => format!("{d} days"),
        d if d < 730 => format!("{} months", (d as f64 / 30.44).round()),
        d => format!("{:.1} years", d as f64 / 365.25),
    };
    let inferred = match s.period_inferred {
        Some(PeriodInferred::Start) => ", start inferred",
        Some(PeriodInferred::End) => ", end inferred",
        Some(PeriodInferred::Both) => ", both ends inferred",
        Some(PeriodInferred::None) | None => "",
    };
    let end = s.period_end.format("%-d %b %Y");
    if s.period_start == s.period_end && s.basis == Some(Basis::PointInTime) {
        let inferred = inferred.trim_start_matches(", ");
        let inferred = if inferred.is_empty() {
            String::new()
        } else {
            format!(" ({})", inferred.replace("both ends", "date"))
        };
        format!("as of {end}{inferred}")
    } else if s.period_start == s.period_end {
        format!("{end} ({span}{inferred})")
    } else {
        format!(
            "{} – {end} ({span}{inferred})",
            s.period_start.format("%-d %b %Y")
        )
    }
}

/// An event's date as precisely as it is known.
pub fn date_text(event: &Event) -> String {
    match event.date_precision {
        DatePrecision::Day => event.date.format("%-d %B %Y").to_string(),
        DatePrecision::Month => event.date.format("%B %Y").to_string(),
        DatePrecision::Year => event.date.format("%Y").to_string(),
    }
}

pub fn event_kind(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Ordinance => "ordinance",
        EventKind::Launch => "launch",
        EventKind::Expansion => "expansion",
        EventKind::Feature => "new feature",
        EventKind::Legal => "legal",
        EventKind::Suspension => "suspension",
        EventKind::Statement => "statement",
        EventKind::Reactivation => "reactivation",
        EventKind::Other => "other",
    }
}

pub fn document_kind(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Ordinance => "ordinance",
        DocumentKind::Policy => "policy",
        DocumentKind::Statement => "statement",
        DocumentKind::Subpoena => "subpoena (as reported)",
        DocumentKind::Report => "report",
        DocumentKind::Court => "court decision",
    }
}

pub fn program_status(status: ProgramStatus) -> &'static str {
    match status {
        ProgramStatus::Active => "active",
        ProgramStatus::Suspended => "suspended",
        ProgramStatus::Ended => "ended",
        ProgramStatus::Planned => "planned",
        ProgramStatus::Unknown => "status not stated by a source",
    }
}

/// A link to a source: its title and publisher.
pub fn source_link(url: &str, title: &str, publisher: &str) -> String {
    format!(
        "<a class=\"src\" href=\"{}\" rel=\"noopener\">{} — {}</a>",
        esc(url),
        esc(title),
        esc(publisher)
    )
}

/// A release id as displayed: its first 12 digits, the whole id in the tooltip.
pub fn short_release(id: &str) -> String {
    format!(
        "<abbr class=\"release-id\" title=\"{}\">{}</abbr>",
        esc(id),
        esc(&crate::query::short_id(id))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_counts_are_grouped() {
        assert_eq!(amount(1_000_000, "us_dollars"), "$1,000,000");
        assert_eq!(amount(443_470, "us_dollars"), "$443,470");
        assert_eq!(amount(24_000, "cards"), "24,000");
        assert_eq!(amount(500, "cards"), "500");
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(-1234), "-1,234");
    }

    #[test]
    fn units_read_as_words() {
        assert_eq!(unit_name("us_dollars"), "US dollars");
        assert_eq!(unit_name("cards_per_day"), "cards a day");
        assert_eq!(unit_name("applications"), "applications");
    }
}
