//! Downloads rendered once per release. A release never changes, so each table's CSV (and
//! its Excel workbook) is rendered on its first request into a file under the data
//! directory, with gzip and brotli variants of the CSV beside it, and every later request
//! is served from disk (`http::answer_file`, through tower-http's `ServeFile`).
//!
//! - **Layout**: `<dir>/v1/<release>/<table>.csv` (`.csv.gz`, `.csv.br`), `<table>.bom.csv`
//!   (with a UTF-8 byte order mark, when asked for), `<table>.xlsx`; each file has a sidecar
//!   `<file>.etag` holding its strong ETag (a digest of its bytes). `v1` changes when what a
//!   download holds changes, so files of an older rendering are never served.
//! - **Identical on every instance**: rendering is deterministic (rows in canonical order,
//!   compressors at fixed settings, the workbook's creation time and every file's time set
//!   to the release's import time), so instances that each render their own copy, with no
//!   shared disk (PostgreSQL deployments), serve the same bytes, ETags and `Last-Modified`.
//! - **Atomic**: every file is written to a temporary file in the same directory and renamed
//!   into place after its sidecar, so a reader (or another process sharing the directory)
//!   sees a whole file or none.
//! - **Memory constant in table size**: rows are read in chunks of [`CHUNK_ROWS`] and written
//!   through a bounded channel to a writer thread; compressors read the finished file.
//! - **Once**: concurrent first requests for one file wait for a single rendering. A file
//!   over [`INLINE_COMPRESS_BYTES`] is served (uncompressed) as soon as it is written; its
//!   compressed variants are made in the background and served once they exist.

use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::csv::{BOM, CSV_CONTENT_TYPE, CsvOut};
use crate::error::ApiError;
use crate::http::EtagDigest;
use crate::model::Release;
use crate::query;
use crate::tables::Table;
use crate::xlsx::{SheetWriter, XLSX_CONTENT_TYPE};

/// The version of what downloads hold; part of every file's path.
pub const RENDERING: &str = "v1";
/// Rows read from the database at a time while rendering.
pub const CHUNK_ROWS: u64 = 5_000;
/// A CSV up to this size is compressed before its first request is answered; a larger one
/// is served uncompressed while its compressed variants are made.
pub const INLINE_COMPRESS_BYTES: u64 = 16 * 1024 * 1024;
/// gzip level of the `.gz` variants (zlib's default).
pub const GZIP_LEVEL: u32 = 6;
/// brotli quality of the `.br` variants: smaller than gzip, still fast to make.
pub const BROTLI_QUALITY: u32 = 5;

/// The file formats of a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// CSV, with gzip and brotli variants.
    Csv,
    /// CSV with a UTF-8 byte order mark (for Excel), with gzip and brotli variants.
    CsvBom,
    /// An Excel workbook (already compressed: no variants).
    Xlsx,
}

impl Format {
    fn file_suffix(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::CsvBom => "bom.csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// The extension of the file a client saves.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv | Format::CsvBom => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv | Format::CsvBom => CSV_CONTENT_TYPE,
            Format::Xlsx => XLSX_CONTENT_TYPE,
        }
    }

    fn precompressed(self) -> bool {
        !matches!(self, Format::Xlsx)
    }
}

/// The variants of a stored file: content coding and file name suffix.
const VARIANTS: [(&str, &str); 3] = [("identity", ""), ("gzip", ".gz"), ("br", ".br")];

/// A download on disk, ready to serve.
#[derive(Debug)]
pub struct StoredFile {
    /// The uncompressed file; the variants are beside it (`.gz`, `.br`).
    pub path: PathBuf,
    /// Its media type.
    pub content_type: &'static str,
    /// Its `Content-Disposition`.
    pub disposition: String,
    /// Its `Last-Modified`: the release's import time, as an HTTP date.
    pub last_modified: String,
    /// Whether it has gzip and brotli variants.
    pub precompressed: bool,
    /// The strong ETag of each variant, in [`VARIANTS`] order, once known.
    etags: [OnceLock<String>; 3],
}

impl StoredFile {
    fn variant_path(&self, variant: usize) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(VARIANTS[variant].1);
        PathBuf::from(name)
    }

    /// The strong ETag of the variant with this content coding (`identity`, `gzip`, `br`),
    /// when that variant exists: as recorded when it was rendered, or read from its sidecar
    /// (a variant another process rendered into a shared directory).
    pub fn etag(&self, encoding: &str) -> Option<String> {
        let variant = VARIANTS.iter().position(|(e, _)| *e == encoding)?;
        if let Some(etag) = self.etags[variant].get() {
            return Some(etag.clone());
        }
        let etag = std::fs::read_to_string(sidecar(&self.variant_path(variant))).ok()?;
        let etag = etag.trim();
        if !(etag.len() == 34 && etag.starts_with('"') && etag.ends_with('"')) {
            return None;
        }
        Some(self.etags[variant].get_or_init(|| etag.to_owned()).clone())
    }

    /// Whether `candidate` is the ETag of one of the variants.
    pub fn has_etag(&self, candidate: &str) -> bool {
        VARIANTS
            .iter()
            .any(|(encoding, _)| self.etag(encoding).as_deref() == Some(candidate))
    }
}

/// The sidecar holding a file's ETag.
fn sidecar(path: &Path) -> PathBuf {
    let mut name = path.to_path_buf().into_os_string();
    name.push(".etag");
    PathBuf::from(name)
}

/// A rendering (or opening) of one file, running in a task of its own so that a client
/// that gives up (or the request timeout) does not stop it; every request for the file
/// awaits the same one.
type Slot = Shared<BoxFuture<'static, Result<Arc<StoredFile>, ApiError>>>;

/// The rendered downloads of every release, on disk.
pub struct DownloadStore {
    dir: PathBuf,
    /// A private directory, removed with the store (when no data directory is given).
    _private: Option<tempfile::TempDir>,
    slots: Mutex<HashMap<(String, &'static str, Format), Slot>>,
    background: Arc<Background>,
}

/// Compressions still running in the background.
#[derive(Default)]
struct Background {
    running: AtomicUsize,
    done: Notify,
}

impl DownloadStore {
    /// Files under `dir` (`<data directory>/downloads`), created when needed.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        DownloadStore {
            dir: dir.into(),
            _private: None,
            slots: Mutex::default(),
            background: Arc::default(),
        }
    }

    /// Files in a private temporary directory, removed when the store is dropped (tests,
    /// and an application built without a data directory).
    pub fn private() -> Self {
        let temp = tempfile::Builder::new()
            .prefix("sanctuary-data-downloads-")
            .tempdir()
            .expect("a temporary directory for downloads");
        DownloadStore {
            dir: temp.path().to_path_buf(),
            _private: Some(temp),
            slots: Mutex::default(),
            background: Arc::default(),
        }
    }

    /// Where the files are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Wait until no compression runs in the background.
    pub async fn idle(&self) {
        loop {
            let notified = self.background.done.notified();
            if self.background.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// The download of `table` in `format` for `release`: from disk when an earlier request
    /// (or another process sharing the directory) rendered it, else rendered now.
    pub async fn get(
        &self,
        db: &DatabaseConnection,
        release: &Release,
        table: &'static Table,
        format: Format,
    ) -> Result<Arc<StoredFile>, ApiError> {
        let key = (release.id.clone(), table.name, format);
        for _ in 0..2 {
            let slot = self
                .slots
                .lock()
                .expect("the slots lock is never poisoned")
                .entry(key.clone())
                .or_insert_with(|| {
                    let task = tokio::spawn(open_or_render(
                        self.dir.clone(),
                        self.background.clone(),
                        db.clone(),
                        release.clone(),
                        table,
                        format,
                    ));
                    async move {
                        task.await.map_err(|e| {
                            ApiError::internal(anyhow::anyhow!("rendering a download: {e}"))
                        })?
                    }
                    .boxed()
                    .shared()
                })
                .clone();
            let result = slot.clone().await;
            if let Ok(file) = &result
                && file.path.exists()
            {
                return result;
            }
            // A failed rendering is tried again by the next request; a file removed from
            // disk since (someone cleaned the data directory) is rendered again now.
            {
                let mut slots = self.slots.lock().expect("the slots lock is never poisoned");
                if slots.get(&key).is_some_and(|s| s.ptr_eq(&slot)) {
                    slots.remove(&key);
                }
            }
            match result {
                Err(error) => return Err(error),
                Ok(file) => tracing::warn!(
                    path = %file.path.display(),
                    "a rendered download disappeared; rendering it again"
                ),
            }
        }
        Err(ApiError::internal(anyhow::anyhow!(
            "the download {}.{} cannot be kept on disk",
            table.name,
            format.file_suffix()
        )))
    }
}

/// Open the file when an earlier run (or another process) rendered it, else render it.
async fn open_or_render(
    root: PathBuf,
    background: Arc<Background>,
    db: DatabaseConnection,
    release: Release,
    table: &'static Table,
    format: Format,
) -> Result<Arc<StoredFile>, ApiError> {
    let (db, release) = (&db, &release);
    let dir = root.join(RENDERING).join(&release.id);
    let path = dir.join(format!("{}.{}", table.name, format.file_suffix()));
    let file = Arc::new(StoredFile {
        path: path.clone(),
        content_type: format.content_type(),
        disposition: format!(
            "attachment; filename=\"{}.{}\"",
            release.file_stem(table.name),
            format.extension()
        ),
        last_modified: release
            .imported_at
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string(),
        precompressed: format.precompressed(),
        etags: Default::default(),
    });
    if path.exists() && file.etag("identity").is_some() {
        // Rendered before (by an earlier run, or by another process); make any variant
        // that is missing.
        compress(&background, &file, release, Some(0)).await?;
        return Ok(file);
    }
    std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
    let started = std::time::Instant::now();
    let (etag, bytes, rows) = match format {
        Format::Csv | Format::CsvBom => {
            render_csv(db, release, table, format == Format::CsvBom, &path).await?
        }
        Format::Xlsx => render_xlsx(db, release, table, &path).await?,
    };
    let _ = file.etags[0].set(etag);
    tracing::info!(
        release = %release.id,
        table = table.name,
        format = format.file_suffix(),
        rows,
        bytes,
        ms = started.elapsed().as_millis() as u64,
        "rendered a download"
    );
    let inline = (bytes <= INLINE_COMPRESS_BYTES).then_some(bytes);
    compress(&background, &file, release, inline).await?;
    Ok(file)
}

/// Make the compressed variants that are missing: before returning when `inline` (a
/// small file), else in the background.
async fn compress(
    background: &Arc<Background>,
    file: &Arc<StoredFile>,
    release: &Release,
    inline: Option<u64>,
) -> Result<(), ApiError> {
    if !file.precompressed {
        return Ok(());
    }
    let mut jobs = Vec::new();
    for (variant, (encoding, _)) in VARIANTS.iter().enumerate().skip(1) {
        if file.variant_path(variant).exists() && file.etag(encoding).is_some() {
            continue;
        }
        let (file, time) = (file.clone(), file_time(release));
        let background = background.clone();
        background.running.fetch_add(1, Ordering::SeqCst);
        jobs.push(tokio::task::spawn_blocking(move || {
                let result = compress_variant(&file, variant, time);
                if let Err(error) = &result {
                    tracing::error!(?error, path = %file.path.display(), variant, "compressing a download failed");
                }
                if background.running.fetch_sub(1, Ordering::SeqCst) == 1 {
                    background.done.notify_waiters();
                }
                result
            }));
    }
    if inline.is_some() {
        for job in jobs {
            job.await
                .map_err(|e| ApiError::internal(anyhow::anyhow!("compression task: {e}")))?
                .map_err(ApiError::internal)?;
        }
    }
    Ok(())
}

/// The time every file of a release carries: its import time, to the second.
fn file_time(release: &Release) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(release.imported_at.timestamp().max(0) as u64)
}

fn io_error(path: &Path, error: std::io::Error) -> ApiError {
    ApiError::internal(anyhow::anyhow!("{}: {error}", path.display()))
}

/// A writer that digests (and counts) what passes through it.
struct Digesting<W> {
    inner: W,
    digest: EtagDigest,
    len: u64,
}

impl<W: Write> Write for Digesting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digest.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Put a finished temporary file in place: its time, its sidecar, then the file.
fn persist(
    temp: tempfile::NamedTempFile,
    path: &Path,
    etag: &str,
    time: SystemTime,
) -> std::io::Result<()> {
    temp.as_file().set_modified(time)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut side = tempfile::NamedTempFile::new_in(dir)?;
    side.write_all(etag.as_bytes())?;
    side.persist(sidecar(path)).map_err(|e| e.error)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Compress the uncompressed file into one of its variants.
fn compress_variant(file: &StoredFile, variant: usize, time: SystemTime) -> anyhow::Result<()> {
    let target = file.variant_path(variant);
    let dir = target.parent().unwrap_or(Path::new("."));
    let temp = tempfile::NamedTempFile::new_in(dir)?;
    let mut out = Digesting {
        inner: BufWriter::with_capacity(256 * 1024, temp.as_file().try_clone()?),
        digest: EtagDigest::new(file.content_type),
        len: 0,
    };
    let mut input = BufReader::with_capacity(256 * 1024, std::fs::File::open(&file.path)?);
    match VARIANTS[variant].0 {
        "gzip" => {
            let mut encoder = flate2::GzBuilder::new()
                .mtime(0)
                .write(&mut out, flate2::Compression::new(GZIP_LEVEL));
            std::io::copy(&mut input, &mut encoder)?;
            encoder.finish()?;
        }
        "br" => {
            let mut encoder =
                brotli::CompressorWriter::new(&mut out, 256 * 1024, BROTLI_QUALITY, 22);
            std::io::copy(&mut input, &mut encoder)?;
            encoder.flush()?;
            drop(encoder);
        }
        other => anyhow::bail!("no compressor for {other}"),
    }
    out.flush()?;
    let Digesting { inner, digest, .. } = out;
    drop(inner);
    let etag = digest.finish();
    let _ = file.etags[variant].set(etag.clone());
    persist(temp, &target, &etag, time)?;
    Ok(())
}

/// The chunks of rows a writer thread receives: `None` marks the end of the table.
struct Chunks {
    rx: tokio::sync::mpsc::Receiver<Option<query::Rows>>,
    complete: bool,
}

impl Iterator for Chunks {
    type Item = query::Rows;
    fn next(&mut self) -> Option<query::Rows> {
        match self.rx.blocking_recv() {
            Some(Some(rows)) => Some(rows),
            Some(None) => {
                self.complete = true;
                None
            }
            None => None,
        }
    }
}

impl Chunks {
    /// An error unless every row arrived: a rendering stopped half-way (its reader
    /// failed or was cancelled) must never become a file.
    fn check_complete(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.complete,
            "the rows stopped before the end of the table"
        );
        Ok(())
    }
}

/// Read `table` chunk by chunk and hand each chunk to `sink` (run on a blocking thread,
/// through a bounded channel, so at most a few chunks are in memory at once). Returns
/// what the sink returns.
async fn stream_rows<T: Send + 'static>(
    db: &DatabaseConnection,
    release: &str,
    table: &'static Table,
    sink: impl FnOnce(Chunks) -> anyhow::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Option<query::Rows>>(4);
    let rx = Chunks {
        rx,
        complete: false,
    };
    let writer = tokio::task::spawn_blocking(move || sink(rx));
    let mut after = Some(0);
    let mut failed = None;
    while let Some(position) = after {
        match query::table_chunk(db, release, table.name, position, CHUNK_ROWS).await {
            Ok((rows, next)) => {
                after = next;
                // Waits while the writer is behind.
                if tx.send(Some(rows)).await.is_err() {
                    break; // the writer stopped: its error says why
                }
            }
            Err(error) => {
                failed = Some(error);
                break;
            }
        }
    }
    if failed.is_none() {
        let _ = tx.send(None).await;
    }
    drop(tx);
    let written = writer
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("download writer: {e}")));
    if let Some(error) = failed {
        return Err(error);
    }
    written?.map_err(ApiError::internal)
}

/// Render a table's CSV into `path`. Returns (ETag, bytes, rows).
async fn render_csv(
    db: &DatabaseConnection,
    release: &Release,
    table: &'static Table,
    bom: bool,
    path: &Path,
) -> Result<(String, u64, u64), ApiError> {
    let (target, time) = (path.to_path_buf(), file_time(release));
    stream_rows(db, &release.id, table, move |mut rx| {
        let dir = target.parent().unwrap_or(Path::new("."));
        let temp = tempfile::NamedTempFile::new_in(dir)?;
        let mut out = Digesting {
            inner: BufWriter::with_capacity(256 * 1024, temp.as_file().try_clone()?),
            digest: EtagDigest::new(CSV_CONTENT_TYPE),
            len: 0,
        };
        if bom {
            out.write_all(BOM)?;
        }
        let mut csv = CsvOut::new();
        csv.header(table.csv_header);
        out.write_all(&csv.take())?;
        let mut rows = 0;
        for chunk in &mut rx {
            rows += chunk.len() as u64;
            chunk.write(&mut csv);
            out.write_all(&csv.take())?;
        }
        rx.check_complete()?;
        out.flush()?;
        let Digesting {
            inner, digest, len, ..
        } = out;
        drop(inner);
        let etag = digest.finish();
        persist(temp, &target, &etag, time)?;
        Ok((etag, len, rows))
    })
    .await
}

/// Render a table's Excel workbook into `path`. Returns (ETag, bytes, rows).
async fn render_xlsx(
    db: &DatabaseConnection,
    release: &Release,
    table: &'static Table,
    path: &Path,
) -> Result<(String, u64, u64), ApiError> {
    let (target, time, release) = (path.to_path_buf(), file_time(release), release.clone());
    stream_rows(db, &release.id.clone(), table, move |mut rx| {
        let dir = target.parent().unwrap_or(Path::new("."));
        let mut sheet = SheetWriter::new(table, &release, dir)?;
        for chunk in &mut rx {
            chunk.write(&mut sheet);
            sheet.check()?;
        }
        rx.check_complete()?;
        let rows = sheet.rows();
        // The zip writer seeks back, so the workbook is written first and digested after.
        let temp = tempfile::Builder::new().suffix(".xlsx").tempfile_in(dir)?;
        sheet.finish(table, &release, temp.path())?;
        let mut digest = EtagDigest::new(XLSX_CONTENT_TYPE);
        let mut input = std::fs::File::open(temp.path())?;
        let mut buffer = vec![0; 256 * 1024];
        let mut len = 0;
        loop {
            let n = input.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            digest.update(&buffer[..n]);
            len += n as u64;
        }
        let etag = digest.finish();
        persist(temp, &target, &etag, time)?;
        Ok((etag, len, rows))
    })
    .await
}
