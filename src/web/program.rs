//! `/programs/{slug}`: one program — what it is, its figures (honest charts, then every
//! figure with a permalink and a "cite this figure" line), its timeline (every event with
//! a permalink and its source), its documents and the downloads filtered to it.

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Datelike;

use super::chart;
use super::layout::{self, Head};
use super::respond_page;
use super::text::{
    basis_text, date_text, document_kind, esc, event_kind, figure, is_money, metric_name,
    period_text, program_status, short_release, source_link, status_text, unit_name,
};
use crate::entity::release;
use crate::error::{ApiError, echo};
use crate::model::{Document, Event, Metric, Program, Statistic};
use crate::query::{self, DocumentFilter, EventFilter, MAX_LIMIT, PageRequest, StatisticFilter};
use crate::rest::ApiQuery;
use crate::state::AppState;

const ALL: PageRequest = PageRequest::first(MAX_LIMIT);

/// A program's page
///
/// Served at `/programs/{slug}` as HTML; `release` pins a release. An unknown slug is a
/// 404 problem.
pub async fn program(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    query::check_text("slug", &slug)?;
    request.check_names(&["release".to_owned()])?;
    let release =
        query::resolve_release(&state.releases, request.text("release").as_deref()).await?;
    respond_page(&state, &request, &release, async || {
        let db = &state.db;
        let program = query::get_program(db, &release.id, &slug)
            .await?
            .ok_or_else(|| ApiError::NotFound {
                parameter: Some("slug".into()),
                detail: format!(
                    "no program {:?} in release {}; the programs are listed at / and /api/v1/programs",
                    echo(&slug),
                    release.id
                ),
            })?;
        let statistics = query::list_statistics(
            db,
            &release.id,
            &StatisticFilter {
                program: vec![slug.clone()],
                ..Default::default()
            },
            ALL,
        )
        .await?;
        let events = query::list_events(
            db,
            &release.id,
            &EventFilter {
                program: vec![slug.clone()],
                ..Default::default()
            },
            ALL,
        )
        .await?;
        let documents = query::list_documents(
            db,
            &release.id,
            &DocumentFilter {
                program: vec![slug.clone()],
                ..Default::default()
            },
            ALL,
        )
        .await?;
        let metrics = query::list_metrics(db, &release.id, ALL).await?;
        let body = body(
            &release,
            &program,
            (&statistics.items, statistics.total),
            (&events.items, events.total),
            &documents.items,
            &metrics.items,
        );
        let title = format!("{}: figures, timeline and documents — sanctuary-data", program.name);
        let description = format!(
            "{} ({}): {} sourced figures, {} timeline events and {} documents, each with its source.",
            program.name,
            program.jurisdiction,
            statistics.total,
            events.total,
            documents.total
        );
        Ok(layout::page(
            &Head {
                title: &title,
                description: &description,
                json_ld: None,
            },
            &release,
            &body,
        ))
    })
    .await
}

fn body(
    release: &release::Model,
    program: &Program,
    (statistics, statistics_total): (&[Statistic], u64),
    (events, events_total): (&[Event], u64),
    documents: &[Document],
    metrics: &[Metric],
) -> String {
    let mut html = String::with_capacity(64 * 1024);
    let page = format!("/programs/{}", esc(&program.slug));
    let _ = write!(
        html,
        "<h1>{name}</h1><p class=\"lead\">{jurisdiction} · run by {admin}</p><p class=\"meta\">Launched: {launched} · Status: {status}{website}</p><p>{description}</p><p class=\"src\">Source of this description: {source}</p>",
        name = esc(&program.name),
        jurisdiction = esc(&program.jurisdiction),
        admin = esc(&program.administered_by),
        launched = program
            .launched_on
            .map(|d| d.format("%-d %B %Y").to_string())
            .unwrap_or_else(|| "not stated by a source".into()),
        status = program_status(program.status),
        website = program
            .website
            .as_deref()
            .map(|w| format!(
                " · <a href=\"{}\" rel=\"noopener\">official website</a>",
                esc(w)
            ))
            .unwrap_or_default(),
        description = esc(&program.description),
        source = source_link(
            &program.source.url,
            &program.source.title,
            &program.source.publisher
        ),
    );
    html.push_str("<nav aria-label=\"On this page\"><p><a href=\"#figures\">Figures</a> · <a href=\"#timeline\">Timeline</a> · <a href=\"#documents\">Documents</a> · <a href=\"#downloads\">Downloads</a></p></nav>");

    figures(
        &mut html,
        release,
        program,
        &page,
        statistics,
        statistics_total,
        metrics,
    );
    timeline(&mut html, events, events_total);
    documents_section(&mut html, documents);
    downloads(&mut html, release, program);
    html
}

fn figures(
    html: &mut String,
    release: &release::Model,
    program: &Program,
    page: &str,
    statistics: &[Statistic],
    total: u64,
    metrics: &[Metric],
) {
    html.push_str("<h2 id=\"figures\">Figures</h2>");
    if statistics.is_empty() {
        html.push_str("<p>No figures have been compiled for this program.</p>");
        return;
    }
    html.push_str("<p class=\"note\">Figures as the sources state them. A chart holds only figures of one metric counted the same way over the same kind of period (a day, a week, a run of whole months, since launch, or a level at a date), so its bars are to scale; figures with nothing like them to compare with are listed without a chart. “More than”, “fewer than” and “about” give each source's meaning in a common form; the source's own words are quoted with each figure.</p>");
    if total > statistics.len() as u64 {
        let _ = write!(
            html,
            "<p class=\"note\">Showing the first {} of {total} figures; <a href=\"/browse/statistics?program={}\">browse them all</a>.</p>",
            statistics.len(),
            esc(&program.slug)
        );
    }
    let rows: Vec<&Statistic> = statistics.iter().collect();
    let charts: Vec<chart::Chart> = chart::group(&rows)
        .into_iter()
        .filter(|c| c.rows.len() > 1)
        .collect();
    if !charts.is_empty() {
        html.push_str("<h3 id=\"charts\">Charts</h3>");
        for c in &charts {
            html.push_str(&chart::render(
                c,
                &metric_name(metrics, &c.key.metric),
                page,
            ));
        }
    }
    // Every figure, grouped by metric in order of first appearance.
    let mut order: Vec<&str> = Vec::new();
    for s in statistics {
        if !order.contains(&s.metric.as_str()) {
            order.push(&s.metric);
        }
    }
    for metric in order {
        let described = metrics.iter().find(|m| m.id == metric);
        let _ = write!(
            html,
            "<h3>{}</h3>{}<ol class=\"figures\">",
            esc(&metric_name(metrics, metric)),
            described
                .map(|m| format!("<p class=\"note\">{}</p>", esc(&m.description)))
                .unwrap_or_default()
        );
        for s in statistics.iter().filter(|s| s.metric == metric) {
            figure_item(html, release, program, metrics, s);
        }
        html.push_str("</ol>");
    }
}

fn figure_item(
    html: &mut String,
    release: &release::Model,
    program: &Program,
    metrics: &[Metric],
    s: &Statistic,
) {
    let unit = if is_money(&s.unit) || s.value.is_none() {
        String::new()
    } else {
        format!(" {}", unit_name(&s.unit))
    };
    let breakdown = if s.dimension == "total" {
        String::new()
    } else {
        format!(
            " · {}: {}",
            super::text::humanize(&s.dimension),
            super::text::humanize(&s.category)
        )
    };
    let value_class = if s.value.is_none() {
        "value suppressed"
    } else {
        "value"
    };
    let id = esc(&s.id);
    let _ = write!(
        html,
        "<li id=\"figure-{id}\"><p><strong class=\"{value_class}\">{figure}</strong>{unit} · {basis}{breakdown} · {period}{status}<a class=\"permalink\" href=\"#figure-{id}\" aria-label=\"Link to this figure\">#</a></p>",
        figure = esc(&figure(s)),
        unit = esc(&unit),
        basis = basis_text(s.basis),
        breakdown = esc(&breakdown),
        period = esc(&period_text(s)),
        status = status_text(s.status)
            .map(|t| format!(" <span class=\"kind\">{t}</span>"))
            .unwrap_or_default(),
    );
    if s.suppressed {
        // Its wording and note are withheld with the value (they could tell it).
        let _ = write!(
            html,
            "<p class=\"note\">Withheld by disclosure control: small counts, and counts that would let one be worked out, are not published (rule of {}).</p>",
            release.min_cell
        );
    } else {
        if let Some(wording) = &s.source_wording {
            let _ = write!(
                html,
                "<p class=\"note\">In the source's words: “{}”</p>",
                esc(wording)
            );
        }
        if let Some(note) = &s.note {
            let _ = write!(html, "<p class=\"note\">{}</p>", esc(note));
        }
    }
    let published = s
        .source
        .published_on
        .map(|d| format!(", {}", d.format("%-d %B %Y")))
        .unwrap_or_default();
    let _ = write!(
        html,
        "<p class=\"src\">Source: {}</p><p class=\"cite\">Cite this figure: sanctuary-data, release {short}, figure {id}: {figure}{unit}, {metric}, {period}. Source: {title}, {publisher}{published}, {url}. <a href=\"/programs/{slug}?release={release}#figure-{id}\">This figure in this release</a> · <a href=\"/api/v1/statistics/{id}?release={release}\">as JSON</a> · <a class=\"cite-link\" href=\"/api/v1/statistics/{id}/cite?release={release}\">cite this figure</a> (<a href=\"/api/v1/statistics/{id}/cite?release={release}&amp;format=bibtex\">BibTeX</a>, <a href=\"/api/v1/statistics/{id}/cite?release={release}&amp;format=ris\">RIS</a>, <a href=\"/api/v1/statistics/{id}/cite?release={release}&amp;format=csl-json\">CSL-JSON</a>)</p></li>",
        source_link(&s.source.url, &s.source.title, &s.source.publisher),
        short = short_release(&release.id),
        figure = esc(&figure(s)),
        unit = esc(&unit),
        metric = esc(&metric_name(metrics, &s.metric).to_lowercase()),
        period = esc(&period_text(s)),
        title = esc(&s.source.title),
        publisher = esc(&s.source.publisher),
        published = esc(&published),
        url = esc(&s.source.url),
        slug = esc(&program.slug),
        release = esc(&release.id),
    );
}

fn timeline(html: &mut String, events: &[Event], total: u64) {
    html.push_str("<h2 id=\"timeline\">Timeline</h2>");
    if events.is_empty() {
        html.push_str("<p>No events have been compiled for this program.</p>");
        return;
    }
    if total > events.len() as u64 {
        let _ = write!(
            html,
            "<p class=\"note\">Showing the first {} of {total} events.</p>",
            events.len()
        );
    }
    html.push_str("<p class=\"note\">Each event links to the publication that reports it; where sources disagree, the description says so.</p>");
    for year in events.chunk_by(|a, b| a.date.year() == b.date.year()) {
        let _ = write!(
            html,
            "<h3 id=\"y-{y}\">{y}</h3><ol class=\"timeline\">",
            y = year[0].date.year()
        );
        for e in year {
            let id = esc(&e.id);
            let _ = write!(
                html,
                "<li id=\"event-{id}\"><p><strong>{date}</strong> <span class=\"kind\">{kind}</span><a class=\"permalink\" href=\"#event-{id}\" aria-label=\"Link to this event\">#</a><br>{title}</p><p class=\"note\">{description}</p><p class=\"src\">Source: {source}</p></li>",
                date = date_text(e),
                kind = event_kind(e.kind),
                title = esc(&e.title),
                description = esc(&e.description),
                source = source_link(&e.source.url, &e.source.title, &e.source.publisher),
            );
        }
        html.push_str("</ol>");
    }
}

fn documents_section(html: &mut String, documents: &[Document]) {
    html.push_str("<h2 id=\"documents\">Documents</h2>");
    if documents.is_empty() {
        html.push_str("<p>No documents have been compiled for this program.</p>");
        return;
    }
    html.push_str("<ul class=\"plain timeline\">");
    for d in documents {
        let id = esc(&d.id);
        let _ = write!(
            html,
            "<li id=\"document-{id}\"><p><a href=\"{url}\" rel=\"noopener\">{title}</a> <span class=\"kind\">{kind}</span><a class=\"permalink\" href=\"#document-{id}\" aria-label=\"Link to this document\">#</a><br><span class=\"meta\">{issuer}{date}</span></p><p class=\"note\">{summary}</p><p class=\"src\">Cited from: {source}</p></li>",
            url = esc(&d.url),
            title = esc(&d.title),
            kind = document_kind(d.kind),
            issuer = esc(&d.issuer),
            date = d
                .published_on
                .map(|p| format!(", {}", p.format("%-d %B %Y")))
                .unwrap_or_default(),
            summary = esc(&d.summary),
            source = source_link(&d.source.url, &d.source.title, &d.source.publisher),
        );
    }
    html.push_str("</ul>");
}

fn downloads(html: &mut String, release: &release::Model, program: &Program) {
    let slug = esc(&program.slug);
    let release = esc(&release.id);
    let _ = write!(
        html,
        "<h2 id=\"downloads\">Downloads</h2><p>This program's rows of this release, as CSV (up to 1,000 rows a file; the file's <code>Link</code> header names the next page) or as a table to browse and filter.</p><ul class=\"plain downloads\">"
    );
    for (table, what) in [
        ("statistics", "Figures"),
        ("events", "Timeline"),
        ("documents", "Documents"),
    ] {
        let _ = write!(
            html,
            "<li>{what}: <a class=\"button\" href=\"/api/v1/{table}?program={slug}&amp;release={release}&amp;format=csv&amp;limit=1000\">{table}.csv</a><a class=\"button\" href=\"/browse/{table}?program={slug}&amp;release={release}\">browse</a></li>"
        );
    }
    let _ = write!(
        html,
        "</ul><p class=\"note\">Every table of every program: <a href=\"/downloads.html\">all downloads</a>. This program as JSON: <a href=\"/api/v1/programs/{slug}?release={release}\">/api/v1/programs/{slug}</a>.</p>"
    );
}
