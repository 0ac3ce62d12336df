//! The web page at `/`: what a journalist needs without reading any docs — the programs,
//! the timelines, charts of the figures, the documents, download buttons and the citation
//! of the release. Server-rendered HTML with inline SVG charts: no build step, no
//! JavaScript, nothing loaded from elsewhere.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;

use crate::error::ApiError;
use crate::model::{Document, Event, Program, Release, Statistic};
use crate::query::{self, MAX_LIMIT, PageRequest};
use crate::rest::{ApiQuery, Representation, rendered_html, respond};
use crate::state::AppState;
use crate::vocabulary::{Basis, DatePrecision, PeriodInferred, Qualifier, StatisticStatus};

/// The page's Content-Security-Policy: it needs nothing but its own inline styles.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

/// Escape text for HTML element content and attribute values.
fn esc(text: &str) -> String {
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

/// A figure as a reader says it: "about 24,000", "more than 11,200", "suppressed".
pub fn figure(statistic: &Statistic) -> String {
    let Some(value) = statistic.value else {
        return "suppressed".into();
    };
    let digits = value.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match statistic.qualifier {
        Qualifier::Exact => grouped,
        Qualifier::AtLeast => format!("more than {grouped}"),
        Qualifier::AtMost => format!("fewer than {grouped}"),
        Qualifier::Approximately => format!("about {grouped}"),
    }
}

/// What a figure counts over its period, as a reader says it.
fn basis_text(basis: Option<Basis>) -> &'static str {
    match basis {
        Some(Basis::InPeriod) => "within the period",
        Some(Basis::Cumulative) => "since launch",
        Some(Basis::PointInTime) => "a level at the end of the period",
        None => "not recorded",
    }
}

/// The standing of a figure when it is not simply as reported.
fn status_text(status: StatisticStatus) -> Option<&'static str> {
    match status {
        StatisticStatus::Reported | StatisticStatus::Final => None,
        StatisticStatus::Estimated => Some("an estimate"),
        StatisticStatus::Preliminary => Some("preliminary (proposed when reported)"),
        StatisticStatus::Revised => Some("revised"),
    }
}

/// "30 Apr 2018 – 6 May 2018 (7 days)": both ends to the day, with the span, so periods
/// of different lengths are never mistaken for one another.
fn period_text(s: &Statistic) -> String {
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

fn date_text(event: &Event) -> String {
    match event.date_precision {
        DatePrecision::Day => event.date.format("%-d %B %Y").to_string(),
        DatePrecision::Month => event.date.format("%B %Y").to_string(),
        DatePrecision::Year => event.date.format("%Y").to_string(),
    }
}

fn source_link(url: &str, title: &str, publisher: &str) -> String {
    format!(
        "<a class=\"src\" href=\"{}\" rel=\"noopener\">{} — {}</a>",
        esc(url),
        esc(title),
        esc(publisher)
    )
}

/// The home page
///
/// Served at `/` as HTML; cached per release like every other representation.
pub async fn home(State(state): State<AppState>, request: ApiQuery) -> Result<Response, ApiError> {
    request.check_names(&["release".to_owned()])?;
    let release =
        query::resolve_release(&state.releases, request.text("release").as_deref()).await?;
    let mut response = respond(
        &state,
        &request,
        &release.id,
        Representation::Json,
        async || {
            let all = PageRequest {
                limit: MAX_LIMIT,
                after: 0,
            };
            let db = &state.db;
            let programs = query::list_programs(db, &release.id, &Default::default(), all).await?;
            let statistics =
                query::list_statistics(db, &release.id, &Default::default(), all).await?;
            let events = query::list_events(db, &release.id, &Default::default(), all).await?;
            let documents =
                query::list_documents(db, &release.id, &Default::default(), all).await?;
            let html = page(
                &Release::from((*release).clone()),
                &programs.items,
                &statistics.items,
                statistics.total,
                &events.items,
                &documents.items,
            );
            Ok(rendered_html(html.into_bytes(), &release.id))
        },
    )
    .await?;
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    Ok(response)
}

/// Programs in reading order: CityKey first, then by name.
fn ordered(programs: &[Program]) -> Vec<&Program> {
    let mut ordered: Vec<&Program> = programs.iter().collect();
    ordered.sort_by_key(|p| (p.slug != "citykey", p.name.clone()));
    ordered
}

fn page(
    release: &Release,
    programs: &[Program],
    statistics: &[Statistic],
    statistics_total: u64,
    events: &[Event],
    documents: &[Document],
) -> String {
    let mut html = String::with_capacity(64 * 1024);
    let imported = release.imported_at.format("%-d %B %Y");
    let _ = write!(
        html,
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>sanctuary-data: municipal ID programs in numbers, dates and documents</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;color:#1a1a1a}}
h1{{font-size:1.7rem;margin-bottom:.2rem}} h2{{margin-top:2.2rem;border-bottom:2px solid #ddd}} h3{{margin-bottom:.3rem}}
table{{border-collapse:collapse;width:100%}} td,th{{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eee;vertical-align:top}}
.src{{font-size:.85rem;color:#555}} .note{{font-size:.85rem;color:#555}} .cite{{background:#f6f6f6;padding:.7rem;border-left:4px solid #888}}
.downloads a{{display:inline-block;margin:.2rem .4rem .2rem 0;padding:.3rem .7rem;border:1px solid #888;border-radius:4px;text-decoration:none}}
ol.timeline{{list-style:none;padding-left:0}} ol.timeline li{{margin-bottom:.8rem}} .kind{{font-size:.75rem;text-transform:uppercase;color:#666}}
svg text{{font:12px system-ui,sans-serif}}
</style></head><body>
<h1>sanctuary-data</h1>
<p>Aggregate statistics, timelines and policy documents about municipal ID and sanctuary-policy programs, starting with Chicago's CityKey. <strong>No individual records</strong>: only published aggregates, each with its source; small counts are suppressed (the rule of {k}).</p>
<p class="cite">Cite as: <em>sanctuary-data, release {id} (#{seq}), imported {imported}.</em> Every figure below stays the same in this release forever: <a href="/api/v1/releases/{id}">/api/v1/releases/{id}</a></p>
<nav><a href="#programs">Programs</a> · <a href="#figures">Figures</a> · <a href="#timeline">Timeline</a> · <a href="#documents">Documents</a> · <a href="#downloads">Downloads</a> · <a href="/docs">REST API</a> · <a href="/graphql">GraphQL</a></nav>
"##,
        k = release.disclosure.min_cell,
        id = esc(&release.id),
        seq = release.seq,
    );

    html.push_str("<h2 id=\"programs\">Programs</h2><table><tr><th>Program</th><th>Where</th><th>Launched</th><th>Status</th></tr>");
    for p in ordered(programs) {
        let _ = write!(
            html,
            "<tr><td><strong>{}</strong><br><span class=\"note\">{}</span><br>{}</td><td>{}<br><span class=\"note\">{}</span></td><td>{}</td><td>{}</td></tr>",
            esc(&p.name),
            esc(&p.description),
            source_link(&p.source.url, &p.source.title, &p.source.publisher),
            esc(&p.jurisdiction),
            esc(&p.administered_by),
            p.launched_on
                .map(|d| d.to_string())
                .unwrap_or_else(|| "not stated".into()),
            p.status.as_str(),
        );
    }
    html.push_str("</table>");

    html.push_str("<h2 id=\"figures\">Figures</h2><p class=\"note\">Totals as the sources state them; bars are to scale within each chart. A chart holds one metric counted one way (within its period, since launch, or at the end of its period); figures counted differently are never drawn on one scale. “More than”, “fewer than” and “about” give each source's meaning in a common form (“over” becomes “more than”, “nearly” becomes “about”); the source's own words are quoted beside each figure in the table.</p>");
    if statistics_total > statistics.len() as u64 {
        let _ = write!(
            html,
            "<p class=\"note\">Showing the first {} of {statistics_total} figures; download the CSV for all.</p>",
            statistics.len()
        );
    }
    let mut by_program: BTreeMap<&str, Vec<&Statistic>> = BTreeMap::new();
    for s in statistics.iter().filter(|s| s.dimension == "total") {
        by_program.entry(s.program.as_str()).or_default().push(s);
    }
    for p in ordered(programs) {
        let Some(rows) = by_program.get(p.slug.as_str()) else {
            continue;
        };
        let _ = write!(html, "<h3>{}</h3>", esc(&p.name));
        // One chart per metric and basis: different units, and counts within a period
        // versus since launch, never share a scale.
        let mut charts: Vec<(&str, Option<Basis>)> = Vec::new();
        for s in rows {
            if !charts.contains(&(s.metric.as_str(), s.basis)) {
                charts.push((s.metric.as_str(), s.basis));
            }
        }
        for (metric, basis) in charts {
            let of_chart: Vec<&Statistic> = rows
                .iter()
                .copied()
                .filter(|s| s.metric == metric && s.basis == basis)
                .collect();
            let _ = write!(
                html,
                "<p class=\"note\">{} ({}): {}</p>",
                esc(&metric.replace('_', " ")),
                esc(&of_chart[0].unit.replace('_', " ")),
                basis_text(basis)
            );
            html.push_str(&chart(&of_chart));
        }
        html.push_str(
            "<table><tr><th>Period</th><th>Metric</th><th>Counted</th><th>Figure</th><th>Source</th></tr>",
        );
        for s in rows {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><strong>{}</strong>{}{}{}</td><td>{}</td></tr>",
                esc(&period_text(s)),
                esc(&s.metric),
                basis_text(s.basis),
                esc(&figure(s)),
                s.source_wording
                    .as_deref()
                    .map(|w| format!(" <span class=\"note\">(source: “{}”)</span>", esc(w)))
                    .unwrap_or_default(),
                status_text(s.status)
                    .map(|t| format!(" <span class=\"kind\">{t}</span>"))
                    .unwrap_or_default(),
                s.note
                    .as_deref()
                    .map(|n| format!("<br><span class=\"note\">{}</span>", esc(n)))
                    .unwrap_or_default(),
                source_link(&s.source.url, &s.source.title, &s.source.publisher),
            );
        }
        html.push_str("</table>");
    }

    html.push_str("<h2 id=\"timeline\">Timeline</h2>");
    for p in ordered(programs) {
        let rows: Vec<&Event> = events.iter().filter(|e| e.program == p.slug).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = write!(html, "<h3>{}</h3><ol class=\"timeline\">", esc(&p.name));
        for e in rows {
            let _ = write!(
                html,
                "<li><strong>{}</strong> <span class=\"kind\">{}</span><br>{}<br><span class=\"note\">{}</span><br>{}</li>",
                date_text(e),
                e.kind.as_str(),
                esc(&e.title),
                esc(&e.description),
                source_link(&e.source.url, &e.source.title, &e.source.publisher),
            );
        }
        html.push_str("</ol>");
    }

    html.push_str("<h2 id=\"documents\">Documents</h2><table><tr><th>Document</th><th>Issuer</th><th>Date</th></tr>");
    for d in documents {
        let _ = write!(
            html,
            "<tr><td><a href=\"{}\" rel=\"noopener\">{}</a> <span class=\"kind\">{}</span><br><span class=\"note\">{}</span></td><td>{}</td><td>{}</td></tr>",
            esc(&d.url),
            esc(&d.title),
            d.kind.as_str(),
            esc(&d.summary),
            esc(&d.issuer),
            d.published_on.map(|d| d.to_string()).unwrap_or_default(),
        );
    }
    html.push_str("</table>");

    html.push_str("<h2 id=\"downloads\">Downloads</h2><p>Every table of this release as CSV. “For Excel” adds a byte order mark so accents display correctly.</p><div class=\"downloads\">");
    for table in crate::tables::PUBLISHED.map(|t| t.name) {
        let _ = write!(
            html,
            "<a href=\"/downloads/{table}.csv?release={id}\">{table}.csv</a><a href=\"/downloads/{table}.csv?release={id}&amp;bom=true\">{table}.csv for Excel</a><br>",
            id = esc(&release.id)
        );
    }
    let _ = writeln!(
        html,
        "</div><h2>About</h2><p>Disclosure control: {}</p><p>Data compilation CC-BY-4.0; each source keeps its own terms. APIs: <a href=\"/docs\">REST (OpenAPI)</a>, <a href=\"/graphql\">GraphQL</a>, <a href=\"/downloads\">downloads</a>.</p></body></html>",
        esc(&release.disclosure.method)
    );
    html
}

/// A horizontal bar chart of published totals, as inline SVG; suppressed figures are
/// labelled, never drawn as zero.
fn chart(rows: &[&Statistic]) -> String {
    let max = rows
        .iter()
        .filter_map(|s| s.value)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let (label_width, bar_width, row_height) = (330.0, 330.0, 22.0);
    let height = row_height * rows.len() as f64 + 4.0;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"bar chart of the figures below\" width=\"100%\" viewBox=\"0 0 {} {height}\" xmlns=\"http://www.w3.org/2000/svg\">",
        label_width + bar_width + 190.0
    );
    for (i, s) in rows.iter().enumerate() {
        let y = i as f64 * row_height + 2.0;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{:.1}\">{}</text>",
            y + 15.0,
            esc(&period_text(s))
        );
        match s.value {
            Some(v) => {
                let width = (v as f64 / max * bar_width).max(1.0);
                let _ = write!(
                    svg,
                    "<rect x=\"{label_width}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"#4a6fa5\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                    row_height - 6.0,
                    label_width + width + 6.0,
                    y + 15.0,
                    esc(&figure(s))
                );
            }
            None => {
                let _ = write!(
                    svg,
                    "<text x=\"{label_width}\" y=\"{:.1}\" fill=\"#777\">suppressed</text>",
                    y + 15.0
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}
