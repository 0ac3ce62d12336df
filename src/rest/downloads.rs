//! `/downloads`: whole tables of a release as CSV, streamed page by page so a large
//! table never sits in memory.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiQuery, QueryParams, Representation, render_json, respond};
use crate::csv::{BOM, CSV_CONTENT_TYPE, CsvOut, CsvRecord};
use crate::entity::release_download;
use crate::error::{ApiError, Problem};
use crate::http::{Validators, cache_control, etag_for};
use crate::query::{self, MAX_LIMIT, PageRequest};
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

    /// One chunk of rows after `after`, as CSV lines; and where the next chunk starts.
    async fn chunk(
        self,
        db: &DatabaseConnection,
        release: &str,
        after: i32,
    ) -> Result<(Vec<u8>, Option<i32>, u64), ApiError> {
        let page = PageRequest {
            limit: MAX_LIMIT,
            after,
        };
        let mut out = CsvOut::new();
        macro_rules! write_page {
            ($page:expr) => {{
                let page = $page;
                for row in &page.items {
                    row.write(&mut out);
                    out.end_record();
                }
                (
                    out.take(),
                    page.next.map(|c| c.position),
                    page.items.len() as u64,
                )
            }};
        }
        Ok(match self {
            DownloadTable::Programs => {
                write_page!(query::list_programs(db, release, &Default::default(), page).await?)
            }
            DownloadTable::Statistics => {
                write_page!(query::list_statistics(db, release, &Default::default(), page).await?)
            }
            DownloadTable::Events => {
                write_page!(query::list_events(db, release, &Default::default(), page).await?)
            }
            DownloadTable::Documents => {
                write_page!(query::list_documents(db, release, &Default::default(), page).await?)
            }
            DownloadTable::Sources => {
                write_page!(query::list_sources(db, release, &Default::default(), page).await?)
            }
            DownloadTable::Metrics => write_page!(query::list_metrics(db, release, page).await?),
        })
    }

    fn header_bytes(self, bom: bool) -> Vec<u8> {
        let mut out = CsvOut::new();
        out.header(self.table().csv_header);
        let header = out.take();
        if bom { [BOM, &header].concat() } else { header }
    }
}

/// Parameters of the downloads.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadParams {
    /// A release id (64 hex digits, see `/api/v1/releases`); default: the latest release.
    #[param(pattern = "^[0-9a-f]{64}$")]
    release: Option<String>,
    /// Prefix a UTF-8 byte order mark so Excel reads accents correctly.
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
/// Every table of a release as a CSV file, with its row count and size.
#[utoipa::path(
    get,
    path = "/downloads",
    tag = "downloads",
    params(("release" = Option<String>, Query, description = "A release id (64 hex digits); default: the latest release.", pattern = "^[0-9a-f]{64}$")),
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
                })
                .collect();
            render_json(
                &DownloadList {
                    data,
                    meta: super::ItemMeta {
                        release: release.id.clone(),
                    },
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
        let (mut rows, mut bytes, mut after) = (0, table.header_bytes(false).len() as u64, Some(0));
        while let Some(position) = after {
            let (chunk, next, count) = table.chunk(db, release, position).await?;
            bytes += chunk.len() as u64;
            rows += count;
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
/// The whole table of a release as one CSV file, streamed. Same columns as the
/// collection's CSV; suppressed statistics have an empty `value` and `suppressed=true`.
#[utoipa::path(
    get,
    path = "/downloads/{file}",
    tag = "downloads",
    params(("file" = String, Path, description = "`<table>.csv`, e.g. `statistics.csv`.", example = "statistics.csv", pattern = "^(programs|statistics|events|documents|sources|metrics)\\.csv$"), DownloadParams),
    responses(
        (status = 200, description = "The table as CSV.", content_type = "text/csv", body = String,
            headers(("ETag" = String), ("Content-Disposition" = String), ("X-Data-Release" = String))),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such table or release.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn download_table(
    State(state): State<AppState>,
    Path(file): Path<String>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    query::check_text("file", &file)?;
    let table = file
        .strip_suffix(".csv")
        .and_then(|name| DownloadTable::ALL.into_iter().find(|t| t.name() == name))
        .ok_or_else(|| ApiError::NotFound {
            parameter: Some("file".into()),
            detail: format!(
                "no download {:?}; available: {}",
                crate::error::echo(&file),
                DownloadTable::ALL
                    .map(|t| format!("{}.csv", t.name()))
                    .join(", ")
            ),
        })?;
    let params = request.params::<DownloadParams>()?;
    let bom = params.bom.unwrap_or(false);
    let release = query::resolve_release(&state.releases, params.release.as_deref()).await?;

    // The file is a pure function of (release, table, bom), so that is what the ETag digests.
    let etag = etag_for(
        CSV_CONTENT_TYPE,
        format!("{}/{}/{bom}", release.id, table.name()).as_bytes(),
    );
    let pinned = params.release.is_some();
    let response = Validators {
        etag: &etag,
        cache_control: cache_control(pinned),
        vary: Some("Accept-Encoding"),
        release: Some(&release.id),
        link: None,
    }
    .answer(&request.headers, || {
        let first = Bytes::from(table.header_bytes(bom));
        let release_id = release.id.clone();
        let db = state.db.clone();
        let rest = futures::stream::unfold(Some(0), move |after| {
            let db = db.clone();
            let release_id = release_id.clone();
            async move {
                let position = after?;
                match table.chunk(&db, &release_id, position).await {
                    Ok((bytes, next, _)) => {
                        Some((Ok::<_, std::io::Error>(Bytes::from(bytes)), next))
                    }
                    Err(error) => {
                        // Headers are gone already; end the body early so the client sees a truncated download.
                        tracing::error!(?error, "download stream failed");
                        Some((Err(std::io::Error::other("download failed")), None))
                    }
                }
            }
        });
        // Fused: the compression layer polls the body once more after its end, looking for
        // trailers, and a bare `unfold` panics when polled after it has finished.
        let body = futures::StreamExt::fuse(futures::StreamExt::chain(
            futures::stream::once(async move { Ok(first) }),
            rest,
        ));
        let mut response = Body::from_stream(body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(CSV_CONTENT_TYPE),
        );
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&format!(
                "attachment; filename=\"{}-{}.csv\"",
                table.name(),
                release.id
            ))
            .expect("ascii"),
        );
        response
    });
    Ok(response)
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
