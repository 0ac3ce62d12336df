//! `/downloads`: whole tables of a release as CSV and as Excel workbooks, rendered once
//! per release into files (`crate::files`) and served from disk with ranges, validators
//! and precompressed variants (`http::answer_file`).

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiQuery, QueryParams, Representation, render_json, respond};
use crate::csv::{CSV_CONTENT_TYPE, CsvOut};
use crate::entity::release_download;
use crate::error::{ApiError, Problem};
use crate::files::{CHUNK_ROWS, Format};
use crate::model::Release;
use crate::query;
use crate::state::AppState;
use crate::tables::{self, Table};

/// The tables that can be downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DownloadTable {
    Programs,
    Statistics,
    Events,
    Documents,
    Sources,
    Metrics,
}

impl DownloadTable {
    const ALL: [DownloadTable; 6] = [
        DownloadTable::Programs,
        DownloadTable::Statistics,
        DownloadTable::Events,
        DownloadTable::Documents,
        DownloadTable::Sources,
        DownloadTable::Metrics,
    ];

    /// The catalogue entry of this table: its name and CSV columns.
    fn table(self) -> &'static Table {
        match self {
            DownloadTable::Programs => &tables::PROGRAMS,
            DownloadTable::Statistics => &tables::STATISTICS,
            DownloadTable::Events => &tables::EVENTS,
            DownloadTable::Documents => &tables::DOCUMENTS,
            DownloadTable::Sources => &tables::SOURCES,
            DownloadTable::Metrics => &tables::METRICS,
        }
    }

    fn name(self) -> &'static str {
        self.table().name
    }

    /// The size of the CSV header row, in bytes.
    fn header_len(self) -> u64 {
        let mut out = CsvOut::new();
        out.header(self.table().csv_header);
        out.take().len() as u64
    }
}

/// Parameters of the downloads.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadParams {
    /// A release id (64 hex digits, or a unique prefix of at least 8, see
    /// `/api/v1/releases`); default: the latest release.
    #[param(pattern = "^[0-9a-f]{8,64}$")]
    release: Option<String>,
    /// CSV: prefix a UTF-8 byte order mark so Excel reads accents correctly. A workbook
    /// (`.xlsx`) needs none and is the same either way.
    bom: Option<bool>,
}

impl QueryParams for DownloadParams {
    fn read(request: &ApiQuery) -> Result<Self, ApiError> {
        Ok(DownloadParams {
            release: request.text("release"),
            bom: request.boolean("bom")?,
        })
    }
}

/// One downloadable table.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Download {
    /// The table.
    pub table: DownloadTable,
    /// Where to download it (pinned to the release).
    pub url: String,
    /// The media type of the file.
    pub media_type: String,
    /// Data rows in the file (the header row not counted).
    pub rows: u64,
    /// Size of the file in bytes, without a BOM.
    pub bytes: u64,
    /// The same rows as an Excel workbook (pinned to the release).
    pub xlsx_url: String,
}

/// The downloads of a release.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DownloadList {
    /// One entry per table.
    pub data: Vec<Download>,
    /// About the list.
    pub meta: super::ItemMeta,
}

/// List downloads
///
/// Every table of a release as a CSV file, with its row count and size, and as an Excel
/// workbook.
#[utoipa::path(
    get,
    path = "/downloads",
    tag = "downloads",
    params(("release" = Option<String>, Query, description = "A release id (64 hex digits, or a unique prefix of at least 8); default: the latest release.", pattern = "^[0-9a-f]{8,64}$")),
    responses(
        (status = 200, description = "The downloadable tables.", body = DownloadList),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_downloads(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    request.check_names(&["release".to_owned()])?;
    let release =
        query::resolve_release(&state.releases, request.text("release").as_deref()).await?;
    respond(
        &state,
        &request,
        &release.id,
        Representation::Json,
        async || {
            let sizes = sizes(&state.db, &release.id).await?;
            let data = DownloadTable::ALL
                .into_iter()
                .zip(sizes)
                .map(|(table, (rows, bytes))| Download {
                    table,
                    url: format!("/downloads/{}.csv?release={}", table.name(), release.id),
                    media_type: CSV_CONTENT_TYPE.into(),
                    rows,
                    bytes,
                    xlsx_url: format!("/downloads/{}.xlsx?release={}", table.name(), release.id),
                })
                .collect();
            render_json(
                &DownloadList {
                    data,
                    meta: super::ItemMeta::new(&release.id),
                },
                &release.id,
            )
        },
    )
    .await
}

/// The (rows, bytes) of every download of a release, in [`DownloadTable::ALL`] order:
/// as the importer stored them, or, for a release imported before sizes were stored,
/// measured once by rendering the table as the download does, and stored.
async fn sizes(db: &DatabaseConnection, release: &str) -> Result<Vec<(u64, u64)>, ApiError> {
    let stored = release_download::Entity::find()
        .filter(release_download::Column::ReleaseId.eq(release))
        .all(db)
        .await?;
    let mut sizes = Vec::with_capacity(DownloadTable::ALL.len());
    let mut measured = Vec::new();
    for table in DownloadTable::ALL {
        if let Some(row) = stored.iter().find(|r| r.table_name == table.name()) {
            sizes.push((row.row_count as u64, row.byte_count as u64));
            continue;
        }
        let (mut rows, mut bytes, mut after) = (0, table.header_len(), Some(0));
        let mut out = CsvOut::new();
        while let Some(position) = after {
            let (chunk, next) =
                query::table_chunk(db, release, table.name(), position, CHUNK_ROWS).await?;
            chunk.write(&mut out);
            bytes += out.take().len() as u64;
            rows += chunk.len() as u64;
            after = next;
        }
        sizes.push((rows, bytes));
        measured.push(release_download::Model {
            release_id: release.to_owned(),
            table_name: table.name().to_owned(),
            row_count: rows as i64,
            byte_count: bytes as i64,
        });
    }
    if !measured.is_empty() {
        tracing::info!(
            release,
            tables = measured.len(),
            "measured and stored download sizes"
        );
        // Another request or instance may have stored the same sizes meanwhile.
        release_download::Entity::insert_many(
            measured
                .into_iter()
                .map(sea_orm::IntoActiveModel::into_active_model),
        )
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await?;
    }
    Ok(sizes)
}

/// Measure and store the download sizes of every release that has none stored (releases
/// imported before sizes were stored), so no listing has to. Returns how many releases
/// were looked at.
pub async fn measure_missing_sizes(db: &DatabaseConnection) -> Result<usize, ApiError> {
    let releases = query::list_releases(db).await?;
    for release in &releases {
        sizes(db, &release.id).await?;
    }
    Ok(releases.len())
}

/// Download a table
///
/// The whole table of a release as one CSV file (`<table>.csv`) or Excel workbook
/// (`<table>.xlsx`), rendered once per release and served as a file: `Content-Length`,
/// a strong `ETag` per variant, `Last-Modified` (the release's import time),
/// `Accept-Ranges: bytes` with `Range` and `If-Range` for resumable downloads (one range
/// per request), and the CSV precompressed with brotli or gzip when `Accept-Encoding`
/// allows. Same columns as the collection's CSV; a suppressed statistic has an empty
/// `value` and `suppressed=true` (`TRUE` in Excel), never a number. The workbook's numbers
/// and dates are typed cells, its header is frozen, and its `About` sheet names the
/// release, the disclosure policy, the licence and how to cite.
#[utoipa::path(
    get,
    path = "/downloads/{file}",
    tag = "downloads",
    params(("file" = String, Path, description = "`<table>.csv` or `<table>.xlsx`, e.g. `statistics.csv`.", example = "statistics.csv", pattern = "^(programs|statistics|events|documents|sources|metrics)\\.(csv|xlsx)$"), DownloadParams),
    responses(
        (status = 200, description = "The table as CSV or as an Excel workbook.",
            content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
            headers(("ETag" = String), ("Last-Modified" = String), ("Accept-Ranges" = String), ("Content-Disposition" = String), ("X-Data-Release" = String))),
        (status = 206, description = "The range of bytes asked for with `Range` (and `If-Range`).",
            content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
            headers(("Content-Range" = String), ("ETag" = String))),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such table or release.", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range is not satisfiable; `Content-Range` gives the file's length.", body = Problem, content_type = "application/problem+json",
            headers(("Content-Range" = String))),
    )
)]
pub async fn download_table(
    State(state): State<AppState>,
    method: Method,
    Path(file): Path<String>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    query::check_text("file", &file)?;
    let (name, format) = match file.rsplit_once('.') {
        Some((name, "csv")) => (name, Format::Csv),
        Some((name, "xlsx")) => (name, Format::Xlsx),
        _ => ("", Format::Csv),
    };
    let table = DownloadTable::ALL
        .into_iter()
        .find(|t| t.name() == name)
        .ok_or_else(|| ApiError::NotFound {
            parameter: Some("file".into()),
            detail: format!(
                "no download {:?}; available: {}",
                crate::error::echo(&file),
                DownloadTable::ALL
                    .map(|t| format!("{0}.csv, {0}.xlsx", t.name()))
                    .join(", ")
            ),
        })?;
    let params = request.params::<DownloadParams>()?;
    // A workbook needs no byte order mark: `bom` leaves it as it is.
    let format = match (format, params.bom) {
        (Format::Csv, Some(true)) => Format::CsvBom,
        (format, _) => format,
    };
    let release = query::resolve_release(&state.releases, params.release.as_deref()).await?;
    let release = Release::from((*release).clone());
    let stored = state
        .files
        .get(&state.db, &release, table.table(), format)
        .await?;
    Ok(crate::http::answer_file(
        &stored,
        &method,
        &request.headers,
        params.release.is_some(),
        &release.id,
    )
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogued_table_is_downloadable_once() {
        let mut downloads = DownloadTable::ALL.map(DownloadTable::name);
        let mut catalogued = tables::TABLES.map(|t| t.name);
        downloads.sort_unstable();
        catalogued.sort_unstable();
        assert_eq!(downloads, catalogued);
        for table in DownloadTable::ALL {
            let serialized = serde_json::to_value(table).unwrap();
            assert_eq!(
                serialized,
                table.name(),
                "the OpenAPI name is the table name"
            );
        }
    }
}
