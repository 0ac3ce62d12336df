//! `/downloads.html`: every table of a release to download, as a page a person reads
//! (`/downloads` is the same list as JSON, for programs).

use std::fmt::Write;

use axum::extract::State;
use axum::response::Response;

use super::browse::Filter;
use super::layout::{self, Head};
use super::respond_page;
use super::text::{esc, grouped, short_release};
use crate::error::ApiError;
use crate::query::{self, MAX_LIMIT, PageRequest};
use crate::rest::ApiQuery;
use crate::state::AppState;
use crate::tables;

/// The downloads page
///
/// Served at `/downloads.html`: each table with its row count and its CSV, CSV-for-Excel
/// and Excel files, a link to browse it, and the catalogs.
pub async fn downloads(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    request.check_names(&["release".to_owned()])?;
    let release =
        query::resolve_release(&state.releases, request.text("release").as_deref()).await?;
    let base = crate::rest::base_url(&state, request.headers());
    respond_page(&state, &request, &release, async || {
        let all = PageRequest::first(MAX_LIMIT);
        let db = &state.db;
        let programs = query::list_programs(db, &release.id, &Default::default(), all).await?;
        let coverage = query::date_coverage(db, &release.id).await?;
        let json_ld =
            super::home::dataset_json_ld(&base, &state.publication, &release, &programs.items, coverage);
        let id = esc(&release.id);
        let mut body = format!(
            "<h1>Downloads</h1><p>Every table of release {short} as a file. CSV opens in any spreadsheet; “CSV for Excel” adds a byte order mark so Excel shows accents correctly; the Excel file has typed cells and a sheet on how to cite. A suppressed figure has an empty value and <code>suppressed=true</code>, never 0.</p><ul class=\"plain programs\" id=\"downloads\">",
            short = short_release(&release.id)
        );
        for table in tables::PUBLISHED {
            let rows = Filter::all(table)
                .fetch(&state, &release.id, PageRequest::first(1))
                .await?
                .total;
            let name = table.name;
            let _ = write!(
                body,
                "<li id=\"download-{name}\"><h2>{name}</h2><p>{description} <span class=\"meta\">{rows} rows.</span></p><p class=\"downloads\"><a class=\"button\" href=\"/downloads/{name}.csv?release={id}\">{name}.csv</a><a class=\"button\" href=\"/downloads/{name}.csv?release={id}&amp;bom=true\">{name}.csv for Excel</a><a class=\"button\" href=\"/downloads/{name}.xlsx?release={id}\">{name}.xlsx</a><a class=\"button\" href=\"/browse/{name}?release={id}\">browse</a></p></li>",
                description = esc(table.description),
                rows = grouped(rows as i64),
            );
        }
        let _ = write!(
            body,
            "</ul><h2>For programs and data portals</h2><p>The same list as JSON: <a href=\"/downloads?release={id}\">/downloads</a>. Catalogs: <a href=\"/datapackage.json?release={id}\">datapackage.json</a> (Frictionless) and <a href=\"/data.json?release={id}\">data.json</a> (DCAT-US), and <a href=\"/catalog.jsonld\">catalog.jsonld</a> (DCAT 3, every release). Every collection of the <a href=\"/docs\">REST API</a> also answers CSV with <code>format=csv</code>.</p>"
        );
        Ok(layout::page(
            &Head {
                title: "Downloads — sanctuary-data",
                description: "Every table of sanctuary-data as CSV or Excel: programs, figures, timelines, documents and sources.",
                json_ld: Some(json_ld),
            },
            &release,
            &body,
        ))
    })
    .await
}
