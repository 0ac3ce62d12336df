//! `/`: a short overview — what the service is, the latest turn of events (the CityKey
//! story of June 2025 is one click away), one card per program linking to its page, and
//! where the data is. The figures, timelines and documents live on the program pages.

use std::fmt::Write;

use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;

use super::layout::{self, Head};
use super::respond_page;
use super::text::{date_text, esc, program_status, short_release};
use crate::entity::release;
use crate::error::ApiError;
use crate::model::{Event, Program};
use crate::query::{self, DocumentFilter, EventFilter, MAX_LIMIT, PageRequest, StatisticFilter};
use crate::rest::ApiQuery;
use crate::state::AppState;
use crate::tables;
use crate::vocabulary::EventKind;

const ALL: PageRequest = PageRequest::first(MAX_LIMIT);

const DESCRIPTION: &str = "Aggregate statistics, timelines and policy documents about municipal ID and sanctuary-policy programs, starting with Chicago's CityKey. No individual records: only published aggregates, each with its source.";

/// The home page
///
/// Served at `/` as HTML; cached per release like every other representation.
pub async fn home(State(state): State<AppState>, request: ApiQuery) -> Result<Response, ApiError> {
    request.check_names(&["release".to_owned()])?;
    let release =
        query::resolve_release(&state.releases, request.text("release").as_deref()).await?;
    let base = crate::rest::base_url(&state, request.headers());
    respond_page(&state, &request, &release, async || {
        let db = &state.db;
        let programs = query::list_programs(db, &release.id, &Default::default(), ALL).await?;
        let mut counts = Vec::with_capacity(programs.items.len());
        for p in &programs.items {
            counts.push(counts_of(&state, &release.id, &p.slug).await?);
        }
        let events = query::list_events(
            db,
            &release.id,
            &EventFilter {
                kind: vec![EventKind::Suspension],
                ..Default::default()
            },
            ALL,
        )
        .await?;
        let coverage = query::date_coverage(db, &release.id).await?;
        let json_ld = dataset_json_ld(
            &base,
            &state.publication,
            &release,
            &programs.items,
            coverage,
        );
        let body = body(&release, &programs.items, &counts, &events.items);
        Ok(layout::page(
            &Head {
                title: "sanctuary-data: municipal ID programs in numbers, dates and documents",
                description: DESCRIPTION,
                json_ld: Some(json_ld),
            },
            &release,
            &body,
        ))
    })
    .await
}

/// Programs in reading order: CityKey first, then by name.
pub(super) fn ordered(programs: &[Program]) -> Vec<&Program> {
    let mut ordered: Vec<&Program> = programs.iter().collect();
    ordered.sort_by_key(|p| (p.slug != "citykey", p.name.clone()));
    ordered
}

/// How many figures, events and documents a program has (the query layer's totals).
async fn counts_of(state: &AppState, release: &str, program: &str) -> Result<[u64; 3], ApiError> {
    let one = PageRequest::first(1);
    let db = &state.db;
    let program = vec![program.to_owned()];
    let figures = query::list_statistics(
        db,
        release,
        &StatisticFilter {
            program: program.clone(),
            ..Default::default()
        },
        one,
    )
    .await?;
    let events = query::list_events(
        db,
        release,
        &EventFilter {
            program: program.clone(),
            ..Default::default()
        },
        one,
    )
    .await?;
    let documents = query::list_documents(
        db,
        release,
        &DocumentFilter {
            program,
            ..Default::default()
        },
        one,
    )
    .await?;
    Ok([figures.total, events.total, documents.total])
}

fn body(
    release: &release::Model,
    programs: &[Program],
    counts: &[[u64; 3]],
    suspensions: &[Event],
) -> String {
    let mut html = String::with_capacity(16 * 1024);
    let _ = write!(
        html,
        "<h1>Municipal ID programs in numbers, dates and documents</h1><p class=\"lead\">{}</p><p>Small counts are suppressed (the rule of {k}). Every figure cites its source and stays the same in release {short} forever.</p>",
        esc(DESCRIPTION),
        k = release.min_cell,
        short = short_release(&release.id),
    );

    // The latest suspension of any program: in the seed data, CityKey's online portal
    // in June 2025, with the rest of that year's timeline one click away.
    if let Some(event) = suspensions.iter().max_by_key(|e| e.date)
        && let Some(program) = programs.iter().find(|p| p.slug == event.program)
    {
        let slug = esc(&program.slug);
        let _ = write!(
            html,
            "<section class=\"story\" aria-labelledby=\"story\"><h2 id=\"story\">{name}, {month}</h2><p><strong>{date}:</strong> <a id=\"story-link\" href=\"/programs/{slug}#event-{id}\">{title}</a></p><p class=\"note\">{description}</p><p><a href=\"/programs/{slug}#y-{year}\">The whole {year} timeline of {name}</a>, each event with its source.</p></section>",
            name = esc(&program.name),
            month = event.date.format("%B %Y"),
            date = date_text(event),
            id = esc(&event.id),
            title = esc(&event.title),
            description = esc(&event.description),
            year = event.date.format("%Y"),
        );
    }

    html.push_str("<h2 id=\"programs\">Programs</h2><ul class=\"plain programs\">");
    for p in ordered(programs) {
        let count = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let at = programs
            .iter()
            .position(|q| q.slug == p.slug)
            .unwrap_or_default();
        let [figures, events, documents] = counts.get(at).copied().unwrap_or_default();
        let _ = write!(
            html,
            "<li id=\"program-{slug}\"><h3><a href=\"/programs/{slug}\">{name}</a></h3><p class=\"meta\">{jurisdiction} · {status} · launched {launched}</p><p class=\"meta\">{figures} · {events} · {documents}</p></li>",
            slug = esc(&p.slug),
            name = esc(&p.name),
            jurisdiction = esc(&p.jurisdiction),
            status = program_status(p.status),
            launched = p
                .launched_on
                .map(|d| d.format("%B %Y").to_string())
                .unwrap_or_else(|| "(date not stated)".into()),
            figures = count(figures, "figure"),
            events = count(events, "timeline event"),
            documents = count(documents, "document"),
        );
    }
    html.push_str("</ul>");

    html.push_str("<h2 id=\"data\">The data</h2><ul>");
    html.push_str("<li><a href=\"/downloads.html\">Downloads</a>: every table as CSV or Excel, ready for a spreadsheet.</li><li>Browse and filter a table:");
    for table in tables::PUBLISHED.map(|t| t.name) {
        let _ = write!(html, " <a href=\"/browse/{table}\">{table}</a>");
    }
    html.push_str("</li><li><a href=\"/docs\">REST API</a> (OpenAPI), <a href=\"/graphql\">GraphQL</a>, and catalogs for data portals: <a href=\"/datapackage.json\">datapackage.json</a>, <a href=\"/data.json\">data.json</a>, <a href=\"/catalog.jsonld\">catalog.jsonld</a> (every release).</li></ul>");
    let _ = write!(
        html,
        "<h2 id=\"cite\">How to cite</h2><p class=\"cite\">sanctuary-data, release {short} (#{seq}), imported {imported}. <a href=\"/api/v1/releases/{id}\">The release record</a> gives the full id.</p><p class=\"note\">Every figure on a program page has its own citation line and permalink.</p>",
        short = short_release(&release.id),
        seq = release.seq,
        imported = release.imported_at.format("%-d %B %Y"),
        id = esc(&release.id),
    );
    html
}

/// The schema.org `Dataset` of a release, for dataset search engines: name, description,
/// licence, creator, the time and places covered and one distribution per download.
pub(super) fn dataset_json_ld(
    base: &str,
    publication: &crate::config::Publication,
    release: &release::Model,
    programs: &[Program],
    coverage: Option<(NaiveDate, NaiveDate)>,
) -> serde_json::Value {
    let temporal = match coverage {
        Some((first, last)) => serde_json::Value::from(format!("{first}/{last}")),
        None => serde_json::Value::Null,
    };
    let mut places: Vec<&str> = programs.iter().map(|p| p.jurisdiction.as_str()).collect();
    places.sort_unstable();
    places.dedup();
    let distribution: Vec<serde_json::Value> = tables::PUBLISHED
        .iter()
        .flat_map(|t| {
            [
                serde_json::json!({
                    "@type": "DataDownload",
                    "name": format!("{}.csv", t.name),
                    "description": t.description,
                    "encodingFormat": "text/csv",
                    "contentUrl": format!("{base}/downloads/{}.csv?release={}", t.name, release.id),
                }),
                serde_json::json!({
                    "@type": "DataDownload",
                    "name": format!("{}.xlsx", t.name),
                    "description": t.description,
                    "encodingFormat": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "contentUrl": format!("{base}/downloads/{}.xlsx?release={}", t.name, release.id),
                }),
            ]
        })
        .collect();
    serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": release.title,
        "description": DESCRIPTION,
        "url": format!("{base}/"),
        "version": release.id,
        "dateModified": release.imported_at.date_naive().to_string(),
        "license": publication.license.path,
        "isAccessibleForFree": true,
        "creator": {"@type": "Organization", "name": publication.publisher},
        "keywords": ["municipal ID", "sanctuary policy", "CityKey", "immigration", "open data"],
        "temporalCoverage": temporal,
        "spatialCoverage": places.into_iter().map(|p| serde_json::json!({"@type": "Place", "name": p})).collect::<Vec<_>>(),
        "distribution": distribution,
    })
}
