//! What changed between two releases: per published table, the rows added, removed and
//! changed (matched by the table's key from `crate::tables`), and for a changed row the
//! fields that changed, old and new.
//!
//! Rows are compared in their published form (the table's CSV columns), so a diff says
//! nothing a reader of the two releases could not see. A suppressed value is never
//! stored; a diff shows `suppressed: true` for that side of the `value` field, never a
//! number and never 0.
//!
//! Bounded (issue #15): nothing here reads a whole release.
//! - **A page** is found in SQL: the database walks both releases by key, a window of at
//!   most [`BUDGET`]`.window` keys of each at a time (`window_end`), and returns only the
//!   keys that differ in that window (`changes_in`: the rows of the newer release missing
//!   from or different in the older, and the rows of the older missing from the newer).
//!   A page stops at `limit` changes or after [`BUDGET`]`.windows` windows, whichever
//!   comes first, so it reads at most `window × windows` keys of each release and holds
//!   at most `limit + 1` changes; a sparse diff can therefore give short (even empty)
//!   pages with a `next` cursor. Only the changed rows of the page are then read in their
//!   published form (`query::rows_by_keys`) to list the fields that differ.
//! - **The counts** (rows added, removed and changed per table) are stored in
//!   `release_changes`: by the importer for a release and the one before it, in the
//!   release's transaction; for any other pair when it is first asked for (counted in SQL,
//!   window by window, in a task of its own, one pair at a time, then stored). The change
//!   feed reads only stored counts.
//!
//! The SQL compares the stored columns that are published (every column but `release_id`
//! and `position`) and, for a row citing a source, that source's title and URL (published
//! with the row). Each published cell is a one-to-one function of one of those, so the
//! SQL finds a row changed exactly when its published form differs (a unit test checks the
//! column lists against the entities and the CSV headers).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use async_graphql::SimpleObject;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    Statement, Value,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::csv::Cells;
use crate::entity::{release, release_change};
use crate::error::ApiError;
use crate::query;
use crate::tables::{PUBLISHED, Table};

/// A release, as a diff, a citation or a feed names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct ReleaseRef {
    /// The full release id (64 hex digits).
    pub id: String,
    /// Its first 12 digits.
    pub short_id: String,
    /// Its sequence number (1, 2, … in import order).
    pub seq: i32,
    /// The day it was imported (UTC).
    pub date: NaiveDate,
}

impl From<&release::Model> for ReleaseRef {
    fn from(m: &release::Model) -> Self {
        ReleaseRef {
            id: m.id.clone(),
            short_id: query::short_id(&m.id),
            seq: m.seq,
            date: m.imported_at.date_naive(),
        }
    }
}

/// How many rows of one table changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct TableChanges {
    /// The table (`statistics`, `events`, …).
    pub table: String,
    /// Rows whose key is only in the newer release.
    pub added: u64,
    /// Rows whose key is only in the older release.
    pub removed: u64,
    /// Rows in both whose published fields differ.
    pub changed: u64,
}

/// What happened to a row.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Only the newer release has the row.
    Added,
    /// Only the older release has the row.
    Removed,
    /// Both have it, with different published fields.
    Changed,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// One field of a changed row, before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct FieldChange {
    /// The column (as in the table's CSV).
    pub field: String,
    /// The value in the older release, as text; null when empty or suppressed.
    pub old: Option<String>,
    /// The value in the newer release, as text; null when empty or suppressed.
    pub new: Option<String>,
    /// The older value is withheld by disclosure control (it is never shown, and never 0).
    pub old_suppressed: bool,
    /// The newer value is withheld by disclosure control (it is never shown, and never 0).
    pub new_suppressed: bool,
}

/// A row added, removed or changed between two releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct RowChange {
    /// The table.
    pub table: String,
    /// The row's key in that table (its `id`, or a program's `slug`).
    pub key: String,
    /// Added, removed or changed.
    pub change: ChangeKind,
    /// For a changed row, the fields that differ; empty for added and removed rows (read
    /// them from the release that has them).
    pub fields: Vec<FieldChange>,
}

/// One published cell of a row; the `value` of a suppressed row is marked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cell {
    text: Option<String>,
    suppressed: bool,
}

/// Collects rows written through [`Cells`] as text cells.
#[derive(Default)]
struct Collect {
    rows: Vec<Vec<Option<String>>>,
    current: Vec<Option<String>>,
}

impl Cells for Collect {
    fn text(&mut self, value: &str) {
        self.current
            .push((!value.is_empty()).then(|| value.to_owned()));
    }
    fn number(&mut self, value: Option<i64>) {
        self.current.push(value.map(|v| v.to_string()));
    }
    fn boolean(&mut self, value: bool) {
        self.current.push(Some(value.to_string()));
    }
    fn date(&mut self, value: Option<NaiveDate>) {
        self.current.push(value.map(|d| d.to_string()));
    }
    fn end_record(&mut self) {
        self.rows.push(std::mem::take(&mut self.current));
    }
}

/// How much of the two releases one page may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Keys of each release compared per SQL query.
    pub window: u64,
    /// Windows per page, at most.
    pub windows: u32,
}

/// The budget of every page served: at most 40,000 keys of each release per page.
pub const BUDGET: Budget = Budget {
    window: 5_000,
    windows: 8,
};

/// Keys of each release per statement while counting a pair on request (each statement
/// well within the request statement timeout at a million rows).
const COUNT_WINDOW: u64 = 200_000;

/// Where a page of a diff starts: after `key` in the table `PUBLISHED[table]` (from its
/// first row when `key` is empty: no key is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffCursor {
    pub table: usize,
    pub key: String,
}

impl DiffCursor {
    /// Opaque, and naming the two releases, so it continues only the diff it came from.
    pub fn encode(&self, from: &str, to: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "d1.{from}.{to}.{}.{}",
            self.table,
            URL_SAFE_NO_PAD.encode(&self.key)
        ))
    }

    /// The cursor `text` of the diff from `from` to `to`; an error naming `parameter`
    /// for anything else.
    pub fn decode(
        text: &str,
        from: &str,
        to: &str,
        parameter: &str,
    ) -> Result<DiffCursor, ApiError> {
        query::check_text(parameter, text)?;
        let parsed = (|| {
            let text = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
            let parts: Vec<&str> = text.split('.').collect();
            let [version, a, b, table, key] = parts[..] else {
                return None;
            };
            let table: usize = table.parse().ok().filter(|t| *t < PUBLISHED.len())?;
            let key = String::from_utf8(URL_SAFE_NO_PAD.decode(key).ok()?).ok()?;
            (version == "d1" && query::is_release_id(a) && query::is_release_id(b))
                .then(|| (a.to_owned(), b.to_owned(), DiffCursor { table, key }))
        })();
        let Some((a, b, cursor)) = parsed else {
            return Err(ApiError::invalid(
                parameter,
                format!("{parameter} is not a cursor issued by this service"),
            ));
        };
        if (a.as_str(), b.as_str()) != (from, to) {
            return Err(ApiError::invalid(
                parameter,
                format!(
                    "{parameter} belongs to the diff from {} to {}, not this one",
                    query::short_id(&a),
                    query::short_id(&b)
                ),
            ));
        }
        Ok(cursor)
    }
}

/// One page of a diff.
#[derive(Debug, Clone)]
pub struct DiffPage {
    /// The row changes, by table (`PUBLISHED` order) then key.
    pub items: Vec<RowChange>,
    /// Where the next page starts, if anything may follow.
    pub next: Option<DiffCursor>,
    /// Keys of each release the page's windows covered, at most (for the tests).
    pub scanned: u64,
}

/// How a table is compared in SQL.
struct Compared {
    /// The stored columns that are published: every column but `release_id`, `position`
    /// and the key.
    columns: &'static [&'static str],
    /// Whether rows cite a source, whose title and URL are published with them.
    sourced: bool,
}

fn compared(table: &Table) -> Compared {
    let (columns, sourced): (&'static [&'static str], bool) = match table.name {
        "statistics" => (
            &[
                "program",
                "metric",
                "period_start",
                "period_end",
                "dimension",
                "category",
                "value",
                "suppressed",
                "suppression_reason",
                "qualifier",
                "unit",
                "status",
                "source_id",
                "note",
                "basis",
                "period_inferred",
                "source_wording",
            ],
            true,
        ),
        "events" => (
            &[
                "program",
                "date",
                "date_precision",
                "kind",
                "title",
                "description",
                "source_id",
            ],
            true,
        ),
        "documents" => (
            &[
                "program",
                "title",
                "kind",
                "issuer",
                "published_on",
                "url",
                "summary",
                "source_id",
            ],
            true,
        ),
        "programs" => (
            &[
                "name",
                "jurisdiction",
                "administered_by",
                "launched_on",
                "status",
                "website",
                "description",
                "source_id",
            ],
            true,
        ),
        "sources" => (
            &[
                "title",
                "publisher",
                "url",
                "published_on",
                "retrieved_on",
                "kind",
            ],
            false,
        ),
        "metrics" => (&["name", "description", "unit"], false),
        other => unreachable!("no table {other} in the catalogue"),
    };
    Compared { columns, sourced }
}

/// SQL text for one backend: `?` placeholders, numbered for PostgreSQL.
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        let mut numbered = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                numbered.push_str(&format!("${n}"));
            } else {
                numbered.push(c);
            }
        }
        numbered
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `alias.key > ?` and `alias.key <= ?` for the window `(after, upper]`, with their values.
fn range(alias: &str, key: &str, after: Option<&str>, upper: Option<&str>) -> (String, Vec<Value>) {
    let mut sql = String::new();
    let mut values = Vec::new();
    if let Some(after) = after {
        sql.push_str(&format!(" AND {alias}.\"{key}\" > ?"));
        values.push(after.into());
    }
    if let Some(upper) = upper {
        sql.push_str(&format!(" AND {alias}.\"{key}\" <= ?"));
        values.push(upper.into());
    }
    (sql, values)
}

/// The joins and the condition under which the row `o` (older) and the row `n` (newer)
/// of `table`, both present, differ in their published form.
fn differs(backend: DbBackend, table: &Table) -> (String, String) {
    let compared = compared(table);
    let ne = if backend == DbBackend::Postgres {
        "IS DISTINCT FROM"
    } else {
        "IS NOT"
    };
    let mut conditions: Vec<String> = compared
        .columns
        .iter()
        .map(|c| format!("o.\"{c}\" {ne} n.\"{c}\""))
        .collect();
    let mut joins = String::new();
    if compared.sourced {
        joins.push_str(
            " LEFT JOIN sources os ON os.release_id = o.release_id AND os.id = o.source_id \
             LEFT JOIN sources ns ON ns.release_id = n.release_id AND ns.id = n.source_id",
        );
        conditions.push(format!("os.title {ne} ns.title"));
        conditions.push(format!("os.url {ne} ns.url"));
    }
    (joins, conditions.join(" OR "))
}

/// The end of the next window of `table` after `after`: the smaller of the two releases'
/// `window`-th keys after it (so the window holds at most `window` keys of each), or
/// `None` when both have fewer left (the window runs to the end of the table).
async fn window_end<C: ConnectionTrait>(
    db: &C,
    table: &Table,
    from: &str,
    to: &str,
    after: Option<&str>,
    window: u64,
) -> Result<Option<String>, DbErr> {
    let key = table.key;
    let name = table.name;
    let mut values = Vec::new();
    let mut nth = |release: &str| {
        let (range, range_values) = range("t", key, after, None);
        values.push(release.into());
        values.extend(range_values);
        format!(
            "SELECT (SELECT t.\"{key}\" FROM {name} t WHERE t.release_id = ?{range} \
             ORDER BY t.\"{key}\" LIMIT 1 OFFSET {}) AS k",
            window - 1
        )
    };
    let (older, newer) = (nth(from), nth(to));
    let sql = format!("SELECT MIN(k) AS k FROM ({older} UNION ALL {newer}) w");
    let backend = db.get_database_backend();
    let row = db.query_one_raw(statement(backend, &sql, values)).await?;
    match row {
        Some(row) => row.try_get::<Option<String>>("", "k"),
        None => Ok(None),
    }
}

/// The first `limit` keys of `table` in the window `(after, upper]` that were added,
/// removed or changed from `from` to `to`, in key order.
async fn changes_in<C: ConnectionTrait>(
    db: &C,
    table: &Table,
    from: &str,
    to: &str,
    (after, upper): (Option<&str>, Option<&str>),
    limit: u64,
) -> Result<Vec<(String, ChangeKind)>, DbErr> {
    let backend = db.get_database_backend();
    let key = table.key;
    let name = table.name;
    let (joins, differ) = differs(backend, table);
    let (new_range, new_values) = range("n", key, after, upper);
    let (old_range, old_values) = range("o", key, after, upper);
    let sql = format!(
        "SELECT k, kind FROM (\
           SELECT n.\"{key}\" AS k, CASE WHEN o.\"{key}\" IS NULL THEN 0 ELSE 2 END AS kind \
           FROM {name} n LEFT JOIN {name} o ON o.release_id = ? AND o.\"{key}\" = n.\"{key}\"{joins} \
           WHERE n.release_id = ?{new_range} AND (o.\"{key}\" IS NULL OR {differ}) \
           UNION ALL \
           SELECT o.\"{key}\" AS k, 1 AS kind \
           FROM {name} o LEFT JOIN {name} n ON n.release_id = ? AND n.\"{key}\" = o.\"{key}\" \
           WHERE o.release_id = ?{old_range} AND n.\"{key}\" IS NULL\
         ) d ORDER BY k LIMIT {limit}"
    );
    let mut values: Vec<Value> = vec![from.into(), to.into()];
    values.extend(new_values);
    values.push(to.into());
    values.push(from.into());
    values.extend(old_values);
    let rows = db.query_all_raw(statement(backend, &sql, values)).await?;
    rows.into_iter()
        .map(|row| {
            let kind = match row.try_get::<i32>("", "kind")? {
                0 => ChangeKind::Added,
                1 => ChangeKind::Removed,
                _ => ChangeKind::Changed,
            };
            Ok((row.try_get::<String>("", "k")?, kind))
        })
        .collect()
}

/// How many rows of `table` were added, removed and changed in the window `(after, upper]`.
async fn count_in<C: ConnectionTrait>(
    db: &C,
    table: &Table,
    from: &str,
    to: &str,
    (after, upper): (Option<&str>, Option<&str>),
) -> Result<(i64, i64, i64), DbErr> {
    let backend = db.get_database_backend();
    let key = table.key;
    let name = table.name;
    let (joins, differ) = differs(backend, table);
    let (new_range, new_values) = range("n", key, after, upper);
    let (old_range, old_values) = range("o", key, after, upper);
    let sql = format!(
        "SELECT \
           (SELECT COUNT(*) FROM {name} n WHERE n.release_id = ?{new_range} AND NOT EXISTS \
             (SELECT 1 FROM {name} o WHERE o.release_id = ? AND o.\"{key}\" = n.\"{key}\")) AS added, \
           (SELECT COUNT(*) FROM {name} o WHERE o.release_id = ?{old_range} AND NOT EXISTS \
             (SELECT 1 FROM {name} n WHERE n.release_id = ? AND n.\"{key}\" = o.\"{key}\")) AS removed, \
           (SELECT COUNT(*) FROM {name} n JOIN {name} o ON o.release_id = ? AND o.\"{key}\" = n.\"{key}\"{joins} \
             WHERE n.release_id = ?{new_range} AND ({differ})) AS changed"
    );
    let mut values: Vec<Value> = vec![to.into()];
    values.extend(new_values.clone());
    values.push(from.into());
    values.push(from.into());
    values.extend(old_values);
    values.push(to.into());
    values.push(from.into());
    values.push(to.into());
    values.extend(new_values);
    let row = db
        .query_one_raw(statement(backend, &sql, values))
        .await?
        .ok_or_else(|| DbErr::Custom("a COUNT returned no row".into()))?;
    Ok((
        row.try_get::<i64>("", "added")?,
        row.try_get::<i64>("", "removed")?,
        row.try_get::<i64>("", "changed")?,
    ))
}

/// Count the changes from `from` to `to` in every table, in SQL: in one statement per
/// table (`window: None`, the importer), or window by window (each statement covering at
/// most `window` keys of each release).
pub async fn count<C: ConnectionTrait>(
    db: &C,
    from: &str,
    to: &str,
    window: Option<u64>,
) -> Result<Vec<TableChanges>, DbErr> {
    let mut out = Vec::with_capacity(PUBLISHED.len());
    for table in PUBLISHED {
        let mut counts = TableChanges {
            table: table.name.to_owned(),
            ..Default::default()
        };
        let mut after: Option<String> = None;
        loop {
            let upper = match window {
                Some(window) => window_end(db, table, from, to, after.as_deref(), window).await?,
                None => None,
            };
            let (added, removed, changed) =
                count_in(db, table, from, to, (after.as_deref(), upper.as_deref())).await?;
            counts.added += added as u64;
            counts.removed += removed as u64;
            counts.changed += changed as u64;
            match upper {
                Some(upper) => after = Some(upper),
                None => break,
            }
        }
        out.push(counts);
    }
    Ok(out)
}

/// Count and store the changes from `from` to `to` (a pair already stored is left as it
/// is). The importer calls it in the release's transaction.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    from: &str,
    to: &str,
    window: Option<u64>,
) -> Result<Vec<TableChanges>, DbErr> {
    let counts = count(db, from, to, window).await?;
    store(db, from, to, &counts).await?;
    Ok(counts)
}

async fn store<C: ConnectionTrait>(
    db: &C,
    from: &str,
    to: &str,
    counts: &[TableChanges],
) -> Result<(), DbErr> {
    use sea_orm::sea_query::OnConflict;
    let models = counts.iter().map(|c| {
        sea_orm::IntoActiveModel::into_active_model(release_change::Model {
            from_release: from.to_owned(),
            to_release: to.to_owned(),
            table_name: c.table.clone(),
            added: c.added as i64,
            removed: c.removed as i64,
            changed: c.changed as i64,
        })
    });
    let outcome = release_change::Entity::insert_many(models)
        .on_conflict(
            OnConflict::columns([
                release_change::Column::FromRelease,
                release_change::Column::ToRelease,
                release_change::Column::TableName,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await;
    match outcome {
        Ok(_) | Err(DbErr::RecordNotInserted) => Ok(()),
        Err(error) => Err(error),
    }
}

/// The stored counts of each pair asked for (pairs with none stored are left out), each
/// in `PUBLISHED` order, in one query.
pub async fn stored(
    db: &DatabaseConnection,
    pairs: &[(&str, &str)],
) -> Result<HashMap<(String, String), Vec<TableChanges>>, ApiError> {
    if pairs.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = release_change::Entity::find()
        .filter(release_change::Column::ToRelease.is_in(pairs.iter().map(|(_, to)| *to)))
        .all(db)
        .await?;
    let mut found: HashMap<(String, String), Vec<TableChanges>> = HashMap::new();
    for row in rows {
        if !pairs.contains(&(row.from_release.as_str(), row.to_release.as_str())) {
            continue;
        }
        found
            .entry((row.from_release, row.to_release))
            .or_default()
            .push(TableChanges {
                table: row.table_name,
                added: row.added as u64,
                removed: row.removed as u64,
                changed: row.changed as u64,
            });
    }
    let order = |name: &str| PUBLISHED.iter().position(|t| t.name == name);
    found.retain(|_, tables| {
        tables.sort_by_key(|t| order(&t.table));
        tables.len() == PUBLISHED.len()
    });
    Ok(found)
}

/// A count of a pair under way, shared by every request that waits for it.
type Counting = Shared<BoxFuture<'static, Result<Vec<TableChanges>, ApiError>>>;

/// The pairs being counted on request. A count runs in a task of its own, so requests for
/// the same pair share one count, and a count outlives a request that gives up (at the
/// request timeout) and is stored for the next one. Keyed by the two release ids only:
/// a release id is a digest of every published row, so the counts of a pair are the same
/// in every database that holds it.
static COUNTING: LazyLock<Mutex<HashMap<(String, String), Counting>>> =
    LazyLock::new(Default::default);

/// One pair counted at a time, whatever the requests ask for: a flood of requests for
/// distinct pairs queues (and times out) instead of loading the database with them all.
static ONE_COUNT_AT_A_TIME: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// The counts of the diff from `from` to `to`: stored, or counted now (in SQL, window by
/// window, in a task of its own) and stored for the next request.
#[tracing::instrument(level = "debug", skip(db))]
pub async fn summary(
    db: &DatabaseConnection,
    from: &str,
    to: &str,
) -> Result<Vec<TableChanges>, ApiError> {
    let key = (from.to_owned(), to.to_owned());
    if let Some(tables) = stored(db, &[(from, to)]).await?.remove(&key) {
        return Ok(tables);
    }
    let counting = {
        let mut counting = COUNTING.lock().unwrap_or_else(|e| e.into_inner());
        counting
            .entry(key.clone())
            .or_insert_with(|| {
                let db = db.clone();
                let task = tokio::spawn(async move {
                    let (from, to) = &key;
                    let permit = ONE_COUNT_AT_A_TIME.acquire().await;
                    let counted = match stored(&db, &[(from, to)]).await {
                        Ok(mut done) if done.contains_key(&key) => {
                            Ok(done.remove(&key).unwrap_or_default())
                        }
                        _ => count(&db, from, to, Some(COUNT_WINDOW))
                            .await
                            .map_err(ApiError::from),
                    };
                    if let Ok(counts) = &counted
                        && let Err(error) = store(&db, from, to, counts).await
                    {
                        tracing::warn!(%error, "could not store a diff's counts");
                    }
                    drop(permit);
                    COUNTING
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&key);
                    counted
                });
                async move { task.await.map_err(ApiError::internal)? }
                    .boxed()
                    .shared()
            })
            .clone()
    };
    counting.await
}

/// Count and store the changes of every release against the one before it where they
/// are not stored yet (releases imported before `release_changes` existed): `serve`'s
/// start-up step, so the change feed only ever reads stored counts.
pub async fn record_missing(db: &DatabaseConnection) -> Result<usize, ApiError> {
    let releases = query::list_releases(db).await?;
    let pairs: Vec<(&str, &str)> = releases
        .windows(2)
        .map(|w| (w[1].id.as_str(), w[0].id.as_str()))
        .collect();
    let known = stored(db, &pairs).await?;
    let mut counted = 0;
    for (from, to) in pairs {
        if !known.contains_key(&(from.to_owned(), to.to_owned())) {
            record(db, from, to, Some(COUNT_WINDOW)).await?;
            counted += 1;
        }
    }
    Ok(counted)
}

/// The page of the diff from `from` to `to` after `after` (from the start when `None`):
/// at most `limit` row changes, reading at most `budget.window × budget.windows` keys of
/// each release. See the module documentation.
#[tracing::instrument(level = "debug", skip(db))]
pub async fn page(
    db: &DatabaseConnection,
    from: &str,
    to: &str,
    after: Option<DiffCursor>,
    limit: u64,
    budget: Budget,
) -> Result<DiffPage, ApiError> {
    let (mut table, mut after) = match after {
        // An empty key (no key is empty) is the start of the table.
        Some(cursor) => (cursor.table, Some(cursor.key).filter(|k| !k.is_empty())),
        None => (0, None),
    };
    let want = limit as usize + 1;
    let mut found: Vec<(usize, String, ChangeKind)> = Vec::new();
    let mut windows = 0;
    let mut next = None;
    while table < PUBLISHED.len() && found.len() < want {
        if windows == budget.windows {
            // Out of budget: the next page starts after the last window read.
            next = Some(DiffCursor {
                table,
                key: after.clone().unwrap_or_default(),
            });
            break;
        }
        windows += 1;
        let t = PUBLISHED[table];
        let upper = window_end(db, t, from, to, after.as_deref(), budget.window).await?;
        let rows = changes_in(
            db,
            t,
            from,
            to,
            (after.as_deref(), upper.as_deref()),
            (want - found.len()) as u64,
        )
        .await?;
        found.extend(rows.into_iter().map(|(key, kind)| (table, key, kind)));
        match upper {
            Some(upper) => after = Some(upper),
            None => {
                table += 1;
                after = None;
            }
        }
    }
    if found.len() == want {
        found.pop();
        next = found.last().map(|(table, key, _)| DiffCursor {
            table: *table,
            key: key.clone(),
        });
    }
    let items = with_fields(db, from, to, found).await?;
    Ok(DiffPage {
        items,
        next,
        scanned: u64::from(windows) * budget.window,
    })
}

/// The page's changes, each changed row with the fields that differ (read in their
/// published form, a page of rows at most).
async fn with_fields(
    db: &DatabaseConnection,
    from: &str,
    to: &str,
    found: Vec<(usize, String, ChangeKind)>,
) -> Result<Vec<RowChange>, ApiError> {
    let mut old = HashMap::new();
    let mut new = HashMap::new();
    for (index, table) in PUBLISHED.iter().enumerate() {
        let keys: Vec<String> = found
            .iter()
            .filter(|(t, _, kind)| *t == index && *kind == ChangeKind::Changed)
            .map(|(_, key, _)| key.clone())
            .collect();
        if keys.is_empty() {
            continue;
        }
        for (release, cells) in [(from, &mut old), (to, &mut new)] {
            let rows = query::rows_by_keys(db, release, table.name, &keys).await?;
            for (key, row) in published_cells(table, &rows)? {
                cells.insert((index, key), row);
            }
        }
    }
    Ok(found
        .into_iter()
        .map(|(index, key, change)| {
            let table = PUBLISHED[index];
            let fields = match (
                change,
                old.remove(&(index, key.clone())),
                new.remove(&(index, key.clone())),
            ) {
                (ChangeKind::Changed, Some(before), Some(after)) => {
                    field_changes(table, before, after)
                }
                _ => Vec::new(),
            };
            RowChange {
                table: table.name.to_owned(),
                key,
                change,
                fields,
            }
        })
        .collect())
}

/// Rows in their published cells, by key; the `value` of a suppressed row is marked and
/// never carried.
fn published_cells(
    table: &Table,
    rows: &query::Rows,
) -> Result<Vec<(String, Vec<Cell>)>, ApiError> {
    let header = table.csv_header;
    let key = column(header, table.key)?;
    let suppressed = header.iter().position(|c| *c == "suppressed");
    let value = header.iter().position(|c| *c == "value");
    let mut collect = Collect::default();
    rows.write(&mut collect);
    Ok(collect
        .rows
        .into_iter()
        .map(|row| {
            let hidden = suppressed.is_some_and(|s| row[s].as_deref() == Some("true"));
            let cells: Vec<Cell> = row
                .into_iter()
                .enumerate()
                .map(|(i, text)| {
                    let suppressed = hidden && Some(i) == value;
                    Cell {
                        // Belt and braces: a suppressed value is never carried.
                        text: if suppressed { None } else { text },
                        suppressed,
                    }
                })
                .collect();
            (cells[key].text.clone().unwrap_or_default(), cells)
        })
        .collect())
}

fn column(header: &[&str], name: &str) -> Result<usize, ApiError> {
    header.iter().position(|c| *c == name).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("column {name} missing from a CSV header"))
    })
}

/// The fields of a row that differ between two releases, in CSV column order.
fn field_changes(table: &Table, before: Vec<Cell>, after: Vec<Cell>) -> Vec<FieldChange> {
    table
        .csv_header
        .iter()
        .zip(before.into_iter().zip(after))
        .filter(|(_, (b, a))| b != a)
        .map(|(field, (b, a))| FieldChange {
            field: (*field).to_owned(),
            old: b.text,
            new: a.text,
            old_suppressed: b.suppressed,
            new_suppressed: a.suppressed,
        })
        .collect()
}

/// The CSV columns of a diff: one line per changed field, one line (with an empty
/// `field`) per row added or removed.
pub const CSV_HEADER: &[&str] = &[
    "table",
    "key",
    "change",
    "field",
    "old",
    "new",
    "old_suppressed",
    "new_suppressed",
];

/// Row changes as CSV ([`CSV_HEADER`]), with a byte order mark when asked.
pub fn render_csv(changes: &[RowChange], bom: bool) -> Vec<u8> {
    let mut out = crate::csv::CsvOut::new();
    out.header(CSV_HEADER);
    for change in changes {
        change.write_all(&mut out);
    }
    let body = out.take();
    if bom {
        [crate::csv::BOM, &body].concat()
    } else {
        body
    }
}

impl RowChange {
    fn write_line<C: Cells>(&self, out: &mut C, field: Option<&FieldChange>) {
        out.text(&self.table);
        out.text(&self.key);
        out.text(self.change.as_str());
        out.opt_text(field.map(|f| f.field.as_str()));
        out.opt_text(field.and_then(|f| f.old.as_deref()));
        out.opt_text(field.and_then(|f| f.new.as_deref()));
        out.boolean(field.is_some_and(|f| f.old_suppressed));
        out.boolean(field.is_some_and(|f| f.new_suppressed));
    }

    /// Every CSV line of this change, each ended.
    pub fn write_all<C: Cells>(&self, out: &mut C) {
        if self.fields.is_empty() {
            self.write_line(out, None);
            out.end_record();
        }
        for field in &self.fields {
            self.write_line(out, Some(field));
            out.end_record();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_are_compared_in_published_form_and_suppressed_values_never_appear() {
        let table = &crate::tables::STATISTICS;
        let width = table.csv_header.len();
        let row = |value: Option<&str>, suppressed: bool| {
            (0..width)
                .map(|i| Cell {
                    text: match i {
                        9 => value.map(str::to_owned),
                        10 => Some(suppressed.to_string()),
                        _ => Some("x".to_owned()),
                    },
                    suppressed: suppressed && i == 9,
                })
                .collect::<Vec<_>>()
        };
        let fields = field_changes(table, row(Some("40"), false), row(None, true));
        let value = fields.iter().find(|f| f.field == "value").unwrap();
        assert_eq!(value.old.as_deref(), Some("40"));
        assert_eq!(value.new, None);
        assert!(value.new_suppressed && !value.old_suppressed);
        let fields = field_changes(table, row(None, true), row(Some("50"), false));
        let value = fields.iter().find(|f| f.field == "value").unwrap();
        assert_eq!((value.old.as_deref(), value.old_suppressed), (None, true));
        assert!(field_changes(table, row(None, true), row(None, true)).is_empty());
    }

    /// The SQL compares exactly the published columns: every stored column but the
    /// release, the position, the key and the derived columns (`search_text`, folded from
    /// the compared ones), and (for a row citing a source) the source's
    /// title and URL, which are the other columns of the CSV.
    #[test]
    fn the_sql_compares_every_published_column_and_nothing_else() {
        use sea_orm::{IdenStatic, Iterable};
        use std::collections::BTreeSet;
        fn stored<E: EntityTrait>() -> (String, BTreeSet<String>) {
            let columns = E::Column::iter()
                .map(|c| c.as_str().to_owned())
                .filter(|c| c != "release_id" && c != "position")
                .filter(|c| !crate::seed::digest::DERIVED.contains(&c.as_str()))
                .collect();
            (E::default().table_name().to_owned(), columns)
        }
        use crate::entity::*;
        let entities = [
            stored::<statistic::Entity>(),
            stored::<event::Entity>(),
            stored::<document::Entity>(),
            stored::<program::Entity>(),
            stored::<source::Entity>(),
            stored::<metric::Entity>(),
        ];
        for table in PUBLISHED {
            let c = compared(table);
            let mut sql: BTreeSet<String> = c.columns.iter().map(|c| c.to_string()).collect();
            sql.insert(table.key.to_owned());
            let entity = entities.iter().find(|(name, _)| name == table.name);
            assert_eq!(
                Some(&sql),
                entity.map(|(_, columns)| columns),
                "{}",
                table.name
            );
            let mut published = sql.clone();
            if c.sourced {
                published.extend(["source_title".to_owned(), "source_url".to_owned()]);
            }
            let csv: BTreeSet<String> = table.csv_header.iter().map(|c| c.to_string()).collect();
            assert_eq!(published, csv, "{}", table.name);
        }
    }

    #[test]
    fn a_cursor_continues_only_its_own_diff() {
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        let cursor = DiffCursor {
            table: 2,
            key: "x.y-z".to_owned(),
        };
        let text = cursor.encode(&a, &b);
        assert_eq!(DiffCursor::decode(&text, &a, &b, "cursor").unwrap(), cursor);
        assert!(DiffCursor::decode(&text, &b, &a, "cursor").is_err());
        assert!(DiffCursor::decode("forged", &a, &b, "cursor").is_err());
        let far = URL_SAFE_NO_PAD.encode(format!("d1.{a}.{b}.6.eA"));
        assert!(DiffCursor::decode(&far, &a, &b, "cursor").is_err());
    }
}
