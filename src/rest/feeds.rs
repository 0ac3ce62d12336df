//! Change feeds: `/feeds/releases.atom` (Atom, RFC 4287) and `/feeds/releases.json`
//! (JSON Feed 1.1), one entry per release summarising its diff against the release
//! before it; `/feeds/events.atom`, the timeline's newest events, each dated by the
//! release that first published it. Entry ids are URNs that never change
//! (`urn:sanctuary-data:release:<id>`, `urn:sanctuary-data:event:<id>`).

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

use super::{ApiQuery, Representation, respond};
use crate::diff::TableChanges;
use crate::error::{ApiError, Problem};
use crate::model::{Event, Release};
use crate::query;
use crate::state::AppState;
use crate::web::text::esc;

/// The most entries a feed holds (the newest).
pub const FEED_ENTRIES: usize = 50;
/// Atom's media type.
pub const ATOM: &str = "application/atom+xml; charset=utf-8";
/// JSON Feed's media type.
pub const JSON_FEED: &str = "application/feed+json";

/// A release and what changed since the release before it (`None` for the first).
struct ReleaseEntry {
    release: Release,
    previous: Option<Release>,
    /// The stored counts per table (`None` when not stored).
    changes: Option<Vec<TableChanges>>,
}

impl ReleaseEntry {
    fn id(&self) -> String {
        format!("urn:sanctuary-data:release:{}", self.release.id)
    }

    fn title(&self) -> String {
        format!(
            "Release r{} ({}), {}",
            self.release.seq, self.release.short_id, self.release.date
        )
    }

    /// "statistics: 3 added, 1 changed; events: 2 added" (tables with no change left out).
    fn summary(&self) -> String {
        let Some(previous) = &self.previous else {
            return format!("The first release: {}.", self.release.title);
        };
        let Some(changes) = &self.changes else {
            return format!(
                "Since release r{} ({}): see the diff.",
                previous.seq, previous.short_id
            );
        };
        let parts: Vec<String> = changes
            .iter()
            .filter(|t| t.added + t.removed + t.changed > 0)
            .map(|t| {
                format!(
                    "{}: {} added, {} removed, {} changed",
                    t.table, t.added, t.removed, t.changed
                )
            })
            .collect();
        let what = if parts.is_empty() {
            "no row changed".to_owned()
        } else {
            parts.join("; ")
        };
        format!(
            "Since release r{} ({}): {what}.",
            previous.seq, previous.short_id
        )
    }

    fn diff_path(&self) -> Option<String> {
        self.previous
            .as_ref()
            .map(|p| format!("/api/v1/releases/{}/diff/{}", p.id, self.release.id))
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The newest releases, each with its diff counts against the one before it: the counts
/// stored at import (`release_changes`), read in one query, never computed here. A count
/// not stored (a release imported before counts were stored, before `serve` recorded it)
/// leaves its entry without counts rather than comparing two releases in a request.
async fn release_entries(state: &AppState) -> Result<Vec<ReleaseEntry>, ApiError> {
    let releases = query::list_releases(&state.db).await?;
    let newest = &releases[..releases.len().min(FEED_ENTRIES + 1)];
    let pairs: Vec<(&str, &str)> = newest
        .windows(2)
        .map(|w| (w[1].id.as_str(), w[0].id.as_str()))
        .collect();
    let mut stored = crate::diff::stored(&state.db, &pairs).await?;
    Ok(newest
        .iter()
        .take(FEED_ENTRIES)
        .enumerate()
        .map(|(i, release)| {
            let previous = newest.get(i + 1).cloned();
            let changes = previous
                .as_ref()
                .and_then(|p| stored.remove(&(p.id.clone(), release.id.clone())));
            ReleaseEntry {
                release: release.clone(),
                previous,
                changes,
            }
        })
        .collect())
}

/// Serve a feed through the representation cache, keyed by the latest release and the
/// base URL (its links are absolute).
async fn send(
    state: &AppState,
    request: &ApiQuery,
    content_type: &'static str,
    render: impl AsyncFnOnce(
        String,
        std::sync::Arc<crate::entity::release::Model>,
    ) -> Result<String, ApiError>,
) -> Result<Response, ApiError> {
    request.check_names(&[])?;
    let latest = query::resolve_release(&state.releases, None).await?;
    let base = super::base_url(state, &request.headers);
    let key = format!("{}|{base}", latest.id);
    respond(state, request, &key, Representation::Json, async || {
        let body = render(base.clone(), latest.clone()).await?;
        Ok(super::rendered(body.into_bytes(), content_type, &latest.id))
    })
    .await
}

/// The Atom document's head: id, title, updated, author, self and alternate links.
fn atom_head(id: &str, title: &str, updated: &str, base: &str, path: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n  <id>{id}</id>\n  <title>{title}</title>\n  <updated>{updated}</updated>\n  <author><name>sanctuary-data</name></author>\n  <link rel=\"self\" type=\"application/atom+xml\" href=\"{self_url}\"/>\n  <link rel=\"alternate\" type=\"text/html\" href=\"{home}\"/>\n",
        id = esc(id),
        title = esc(title),
        self_url = esc(&format!("{base}{path}")),
        home = esc(&format!("{base}/")),
    )
}

/// Releases (Atom)
///
/// One entry per release (the newest 50), newest first, summarising what changed since
/// the release before it (rows added, removed and changed per table), with links to the
/// release and to the diff. Entry ids are `urn:sanctuary-data:release:<id>`.
#[utoipa::path(
    get,
    path = "/feeds/releases.atom",
    tag = "feeds",
    responses(
        (status = 200, description = "The Atom feed.", body = String, content_type = "application/atom+xml"),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter was given (the feed takes none).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No release has been imported yet.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn releases_atom(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    send(&state, &request, ATOM, async |base, latest| {
        let entries = release_entries(&state).await?;
        let mut xml = atom_head(
            "urn:sanctuary-data:feed:releases",
            "sanctuary-data: releases",
            &rfc3339(latest.imported_at),
            &base,
            "/feeds/releases.atom",
        );
        for entry in &entries {
            let at = rfc3339(entry.release.imported_at);
            let release_url = format!("{base}/api/v1/releases/{}", entry.release.id);
            let diff = entry
                .diff_path()
                .map(|path| {
                    format!(
                        "    <link rel=\"related\" type=\"application/json\" title=\"What changed\" href=\"{}\"/>\n",
                        esc(&format!("{base}{path}"))
                    )
                })
                .unwrap_or_default();
            xml.push_str(&format!(
                "  <entry>\n    <id>{id}</id>\n    <title>{title}</title>\n    <updated>{at}</updated>\n    <published>{at}</published>\n    <link rel=\"alternate\" type=\"application/json\" href=\"{url}\"/>\n{diff}    <summary>{summary}</summary>\n  </entry>\n",
                id = esc(&entry.id()),
                title = esc(&entry.title()),
                url = esc(&release_url),
                summary = esc(&entry.summary()),
            ));
        }
        xml.push_str("</feed>\n");
        Ok(xml)
    })
    .await
}

/// Releases (JSON Feed)
///
/// The releases feed as JSON Feed 1.1: one item per release (the newest 50), newest
/// first, with the summary as `content_text` and the counts per table under
/// `_sanctuary_data.changes`.
#[utoipa::path(
    get,
    path = "/feeds/releases.json",
    tag = "feeds",
    responses(
        (status = 200, description = "The JSON Feed.", body = Object, content_type = "application/feed+json"),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter was given (the feed takes none).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No release has been imported yet.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn releases_json(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    send(&state, &request, JSON_FEED, async |base, _latest| {
        let entries = release_entries(&state).await?;
        let items: Vec<serde_json::Value> = entries
            .iter()
            .map(|entry| {
                let at = rfc3339(entry.release.imported_at);
                json!({
                    "id": entry.id(),
                    "url": format!("{base}/api/v1/releases/{}", entry.release.id),
                    "title": entry.title(),
                    "content_text": entry.summary(),
                    "date_published": at,
                    "date_modified": at,
                    "_sanctuary_data": {
                        "release": entry.release.id,
                        "short_id": entry.release.short_id,
                        "seq": entry.release.seq,
                        "previous": entry.previous.as_ref().map(|p| &p.id),
                        "diff_url": entry.diff_path().map(|path| format!("{base}{path}")),
                        "changes": entry.changes.as_deref().unwrap_or_default(),
                    },
                })
            })
            .collect();
        let feed = json!({
            "version": "https://jsonfeed.org/version/1.1",
            "title": "sanctuary-data: releases",
            "home_page_url": format!("{base}/"),
            "feed_url": format!("{base}/feeds/releases.json"),
            "description": "Every release of sanctuary-data, with what changed since the release before it.",
            "authors": [{"name": "sanctuary-data"}],
            "language": "en",
            "items": items,
        });
        let mut text = serde_json::to_string_pretty(&feed).map_err(ApiError::internal)?;
        text.push('\n');
        Ok(text)
    })
    .await
}

/// Timeline events (Atom)
///
/// The newest 50 timeline events of the latest release (by date, newest first), each
/// `updated` when the release that first published it was imported. Entry ids are
/// `urn:sanctuary-data:event:<id>`.
#[utoipa::path(
    get,
    path = "/feeds/events.atom",
    tag = "feeds",
    responses(
        (status = 200, description = "The Atom feed.", body = String, content_type = "application/atom+xml"),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter was given (the feed takes none).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No release has been imported yet.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn events_atom(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    send(&state, &request, ATOM, async |base, latest| {
        let events = query::newest_events(&state.db, &latest.id, FEED_ENTRIES as u64).await?;
        let first_seen = first_seen(&state, &events).await?;
        let updated = first_seen
            .values()
            .max()
            .copied()
            .unwrap_or(latest.imported_at);
        let mut xml = atom_head(
            "urn:sanctuary-data:feed:events",
            "sanctuary-data: timeline events",
            &rfc3339(updated),
            &base,
            "/feeds/events.atom",
        );
        for event in &events {
            let at = first_seen
                .get(&event.id)
                .copied()
                .unwrap_or(latest.imported_at);
            let url = format!(
                "{base}/programs/{}?release={}#event-{}",
                event.program, latest.id, event.id
            );
            xml.push_str(&format!(
                "  <entry>\n    <id>{id}</id>\n    <title>{title}</title>\n    <updated>{at}</updated>\n    <link rel=\"alternate\" type=\"text/html\" href=\"{url}\"/>\n    <link rel=\"via\" href=\"{source}\" title=\"{source_title}\"/>\n    <category term=\"{kind}\"/>\n    <summary>{summary}</summary>\n  </entry>\n",
                id = esc(&format!("urn:sanctuary-data:event:{}", event.id)),
                title = esc(&format!("{} ({}): {}", event.date, event.program, event.title)),
                at = rfc3339(at),
                url = esc(&url),
                source = esc(&event.source.url),
                source_title = esc(&format!("{} — {}", event.source.title, event.source.publisher)),
                kind = esc(event.kind.as_str()),
                summary = esc(&event.description),
            ));
        }
        xml.push_str("</feed>\n");
        Ok(xml)
    })
    .await
}

/// When each event was first published: the import time of the oldest release holding it.
async fn first_seen(
    state: &AppState,
    events: &[Event],
) -> Result<HashMap<String, DateTime<Utc>>, ApiError> {
    let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    let holders = query::releases_of_events(&state.db, &ids).await?;
    let releases: HashMap<String, Release> = query::list_releases(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    Ok(holders
        .into_iter()
        .filter_map(|(id, holders)| {
            holders
                .iter()
                .filter_map(|r| releases.get(r))
                .min_by_key(|r| r.seq)
                .map(|r| (id, r.imported_at))
        })
        .collect())
}
