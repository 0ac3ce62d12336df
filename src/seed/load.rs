//! Writing a checked bundle as a new release, in one transaction.

use std::path::Path;

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IntoActiveModel,
    QueryOrder, QuerySelect, TransactionTrait,
};

use super::{Bundle, Earlier, Problems, check_dir, check_dir_after};
use crate::csv::{CsvRecord, CsvSize};
use crate::db::MaintenanceLock;
use crate::disclosure::Policy;
use crate::entity::{
    document, event, metric, program, release, release_download, release_facet, source, statistic,
};
use crate::model::{Document, Event, Metric, Program, Source, Statistic};
use crate::tables;

/// Bound parameters per INSERT statement, under each database's limit (SQLite 32,766,
/// PostgreSQL 65,535): as few statements as possible. Each statement is a round trip, and
/// over TCP a message longer than one segment can wait for a delayed ACK (sqlx does not
/// set `TCP_NODELAY`): with 200-row statements a million-row import on PostgreSQL spent
/// 280 s of its 283 s waiting (57 s over a Unix socket), issue #12.
fn parameters_per_statement(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Postgres => 65_000,
        _ => 32_000,
    }
}

/// Rows per INSERT statement of an entity with `columns` columns.
fn rows_per_statement(backend: DbBackend, columns: usize) -> usize {
    (parameters_per_statement(backend) / columns.max(1)).max(1)
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    /// A new release was created.
    Created {
        release: String,
        seq: i32,
        summary: String,
    },
    /// Identical content is already loaded; nothing was written.
    AlreadyImported { release: String, seq: i32 },
}

impl std::fmt::Display for ImportOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportOutcome::Created {
                release,
                seq,
                summary,
            } => {
                write!(f, "created release {release} (#{seq}): {summary}")
            }
            ImportOutcome::AlreadyImported { release, seq } => write!(
                f,
                "release {release} (#{seq}) already holds exactly this content; nothing imported"
            ),
        }
    }
}

/// Why an import failed. Either way, the database is as it was before.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("{0}")]
    Invalid(#[from] Problems),
    #[error("database error while importing (nothing was imported): {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// Check `dir` and load it as a new release, all or nothing.
///
/// Imports into one database run one at a time, across processes (see
/// [`MaintenanceLock`]): a second import waits for the first, then finds its content
/// already there (or becomes the next release).
#[tracing::instrument(skip(db, policy), fields(dir = %dir.display()))]
pub async fn import_dir(
    db: &DatabaseConnection,
    dir: &Path,
    policy: Policy,
) -> Result<ImportOutcome, ImportFailure> {
    // Under the lock from reading the earlier releases to writing the new one: a release
    // loaded in between would not be taken into account.
    let lock = MaintenanceLock::acquire(db).await?;
    let outcome = async {
        let earlier = earlier_releases(db).await?;
        let bundle = check_dir_after(dir, policy, &earlier)?;
        Ok(load_bundle_locked(db, bundle).await?)
    }
    .await;
    lock.release().await;
    outcome
}

/// The published statistics of every release in the database (all stay queryable), read
/// as a stream.
#[tracing::instrument(skip_all)]
pub async fn earlier_releases(db: &DatabaseConnection) -> Result<Earlier, sea_orm::DbErr> {
    use futures::TryStreamExt;
    // One reading transaction, without the requests' statement deadline
    // (`db::STATEMENT_TIMEOUT`): streaming a million earlier rows takes longer than it, and
    // PostgreSQL cancelled the read, so a second million-row release could not be imported.
    let txn = db.begin().await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL statement_timeout = 0")
            .await?;
    }
    let db = &txn;
    let seqs: Vec<(String, i32, i32, Option<String>)> = release::Entity::find()
        .select_only()
        .column(release::Column::Id)
        .column(release::Column::Seq)
        .column(release::Column::MinCell)
        .column(release::Column::Dimensions)
        .into_tuple()
        .all(db)
        .await?;
    let mut earlier = Earlier::default();
    for (_, seq, min_cell, dimensions) in &seqs {
        earlier.release(*seq as u32, i64::from(*min_cell));
        if let Some(dimensions) = dimensions {
            earlier.declared(*seq as u32, dimensions.clone());
        }
    }
    let seq_of: HashMap<String, u32> = seqs
        .into_iter()
        .map(|(id, seq, ..)| (id, seq as u32))
        .collect();
    let mut rows = statistic::Entity::find()
        .select_only()
        .column(statistic::Column::ReleaseId)
        .column(statistic::Column::Program)
        .column(statistic::Column::Metric)
        .column(statistic::Column::PeriodStart)
        .column(statistic::Column::PeriodEnd)
        .column(statistic::Column::Dimension)
        .column(statistic::Column::Category)
        .column(statistic::Column::Value)
        .column(statistic::Column::Basis)
        .column(statistic::Column::Qualifier)
        .into_tuple::<(
            String,
            String,
            String,
            chrono::NaiveDate,
            chrono::NaiveDate,
            String,
            String,
            Option<i64>,
            Option<String>,
            String,
        )>()
        .stream(db)
        .await?;
    while let Some((
        release,
        program,
        metric,
        start,
        end,
        dimension,
        category,
        value,
        basis,
        qualifier,
    )) = rows.try_next().await?
    {
        let release = seq_of.get(&release).copied().unwrap_or(0);
        earlier.push(
            release,
            &program,
            &metric,
            start,
            end,
            &dimension,
            &category,
            value,
            basis.as_deref(),
            Some(qualifier.as_str()),
        );
    }
    drop(rows);
    txn.commit().await?;
    earlier.finish();
    Ok(earlier)
}

/// First start: import `dir` unless the database already holds a release. Instances
/// starting together on one empty database import it once: the first takes the lock
/// and imports, the others wait, look again and find the release. `None` when a release
/// was already there.
pub async fn import_if_empty(
    db: &DatabaseConnection,
    dir: &Path,
    policy: Policy,
) -> Result<Option<ImportOutcome>, ImportFailure> {
    if crate::query::latest_release(db).await?.is_some() {
        return Ok(None);
    }
    let lock = MaintenanceLock::acquire(db).await?;
    let outcome = async {
        if crate::query::latest_release(db).await?.is_some() {
            return Ok(None);
        }
        tracing::info!(dir = %dir.display(), "no release yet: importing the seed directory");
        let bundle = check_dir(dir, policy)?;
        Ok(Some(load_bundle_locked(db, bundle).await?))
    }
    .await;
    lock.release().await;
    outcome
}

/// `serve`'s first-start step: [`import_if_empty`], logged, with the directory named in
/// any error.
pub async fn first_start(
    db: &DatabaseConnection,
    dir: &Path,
    policy: Policy,
) -> anyhow::Result<()> {
    match import_if_empty(db, dir, policy).await {
        Ok(Some(outcome)) => tracing::info!("{outcome}"),
        Ok(None) => {}
        Err(e) => anyhow::bail!("importing {}: {e}", dir.display()),
    }
    Ok(())
}

/// Write a checked bundle in one transaction; the caller holds the [`MaintenanceLock`].
/// Identical content (same release id) is a no-op.
async fn load_bundle_locked(
    db: &DatabaseConnection,
    bundle: Bundle,
) -> Result<ImportOutcome, sea_orm::DbErr> {
    let txn = db.begin().await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        // Requests get a statement deadline (`db::STATEMENT_TIMEOUT`); an import writes in
        // chunks, but on a large release one statement may rightly take longer.
        txn.execute_unprepared("SET LOCAL statement_timeout = 0")
            .await?;
    }
    if let Some(existing) = release::Entity::find_by_id(bundle.id.clone())
        .one(&txn)
        .await?
    {
        txn.rollback().await?;
        return Ok(ImportOutcome::AlreadyImported {
            release: existing.id,
            seq: existing.seq,
        });
    }
    let previous: Option<(String, i32)> = release::Entity::find()
        .select_only()
        .column(release::Column::Id)
        .column(release::Column::Seq)
        .order_by_desc(release::Column::Seq)
        .into_tuple()
        .one(&txn)
        .await?;
    let seq = previous.as_ref().map_or(0, |(_, seq)| *seq) + 1;
    let summary = bundle.summary();
    let downloads = download_sizes(&bundle)?;
    release::Model {
        id: bundle.id.clone(),
        seq,
        imported_at: chrono::Utc::now(),
        min_cell: bundle.min_cell as i32,
        title: bundle.title.clone(),
        dimensions: Some(bundle.dimensions.clone()),
        longest_period_days: None,
    }
    .into_active_model()
    .insert(&txn)
    .await?;

    // Searchable rows are written with their search text (`crate::search`), derived here.
    use crate::search;
    insert_all::<source::Entity, _>(&txn, bundle.sources.into_iter().map(search::source)).await?;
    insert_all::<program::Entity, _>(&txn, bundle.programs.into_iter().map(search::program))
        .await?;
    insert_all::<metric::Entity, _>(&txn, bundle.metrics).await?;
    insert_all::<event::Entity, _>(&txn, bundle.events.into_iter().map(search::event)).await?;
    insert_all::<document::Entity, _>(&txn, bundle.documents.into_iter().map(search::document))
        .await?;
    insert_all::<statistic::Entity, _>(&txn, bundle.statistics.models(&bundle.id)).await?;
    check_statistic_references(&txn, &bundle.id).await?;
    // Derived once, since a release never changes: each series' latest row, and the row
    // counts per facet value (issue #12).
    let started = std::time::Instant::now();
    mark_latest(&txn, &bundle.id).await?;
    record_facets(&txn, &bundle.id).await?;
    record_longest_period(&txn, &bundle.id).await?;
    tracing::info!(elapsed = ?started.elapsed(), "flagged the latest figures and counted the facets");
    insert_all::<release_download::Entity, _>(&txn, downloads).await?;
    // What changed since the release before: counted once here, in SQL, so diffs and the
    // change feed read stored counts (`crate::diff`).
    if let Some((previous, _)) = &previous {
        let started = std::time::Instant::now();
        crate::diff::record(&txn, previous, &bundle.id, None).await?;
        tracing::info!(elapsed = ?started.elapsed(), "counted the changes since the previous release");
    }
    // Tell serving instances (issue #12): NOTIFY in the transaction on PostgreSQL, and
    // this process's instances after the commit. See `crate::releases`.
    crate::releases::announce(&txn).await?;
    txn.commit().await?;
    crate::releases::imported(db);
    settle(db).await;
    Ok(ImportOutcome::Created {
        release: bundle.id,
        seq,
        summary,
    })
}

/// Fail unless every statistic of `release` names a program, a metric and a source of its
/// own release: on PostgreSQL one set-based query in the import's transaction, in place
/// of four foreign-key triggers per row (migration
/// `m20261130_000005_statistic_references_checked_once`); SQLite's foreign keys have
/// already checked each row as it was written. The importer's validation checked the
/// same before anything was written, so this fails only if that validation is wrong.
pub async fn check_statistic_references<C: ConnectionTrait>(
    db: &C,
    release: &str,
) -> Result<(), sea_orm::DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let dangling = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT s.id FROM statistics s WHERE s.release_id = $1 AND (\
             NOT EXISTS (SELECT 1 FROM programs p \
               WHERE p.release_id = s.release_id AND p.slug = s.program) OR \
             NOT EXISTS (SELECT 1 FROM metrics m \
               WHERE m.release_id = s.release_id AND m.id = s.metric) OR \
             NOT EXISTS (SELECT 1 FROM sources o \
               WHERE o.release_id = s.release_id AND o.id = s.source_id)) \
             LIMIT 1",
            [release.into()],
        ))
        .await?;
    match dangling {
        None => Ok(()),
        Some(row) => Err(sea_orm::DbErr::Custom(format!(
            "statistic {} names a program, metric or source that its release does not hold",
            row.try_get::<String>("", "id")?
        ))),
    }
}

/// Flag the latest figure of each series of `release` (`statistics.latest`): the rows
/// `query::list_latest_statistics` chooses under no filter, chosen by the same query
/// (`query::latest_positions`), so the flag and the computed answer cannot differ. Run by
/// the importer, and by the migration that added the column for the releases before it.
pub async fn mark_latest<C: ConnectionTrait>(db: &C, release: &str) -> Result<(), sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};
    statistic::Entity::update_many()
        .col_expr(statistic::Column::Latest, Expr::value(true))
        .filter(statistic::Column::ReleaseId.eq(release))
        .filter(
            statistic::Column::Position
                .in_subquery(crate::query::latest_positions(release, &Default::default())),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Store the most days any statistic of `release` spans (`releases.longest_period_days`),
/// computed in SQL over the rows as stored.
pub async fn record_longest_period<C: ConnectionTrait>(
    db: &C,
    release: &str,
) -> Result<(), sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "UPDATE releases SET longest_period_days = (SELECT MAX(period_end - period_start) \
             FROM statistics WHERE release_id = $1) WHERE id = $1"
        }
        _ => {
            "UPDATE releases SET longest_period_days = (SELECT \
             CAST(MAX(julianday(period_end) - julianday(period_start)) AS INTEGER) \
             FROM statistics WHERE release_id = ?1) WHERE id = ?1"
        }
    };
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend,
        sql,
        [release.into()],
    ))
    .await?;
    Ok(())
}

/// Count and store the rows per value of every facet field of `release`
/// (`release_facets`, `query::count_facets`).
async fn record_facets<C: ConnectionTrait>(db: &C, release: &str) -> Result<(), sea_orm::DbErr> {
    let counts = crate::query::count_facets(db, release).await?;
    if counts.is_empty() {
        return Ok(());
    }
    let chunk = rows_per_statement(db.get_database_backend(), 6);
    for rows in counts.chunks(chunk) {
        release_facet::Entity::insert_many(
            rows.iter().cloned().map(IntoActiveModel::into_active_model),
        )
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// The id of every release (for filling in what is derived from each, as migrations and
/// start-up do).
pub async fn release_ids<C: ConnectionTrait>(db: &C) -> Result<Vec<String>, sea_orm::DbErr> {
    release::Entity::find()
        .select_only()
        .column(release::Column::Id)
        .into_tuple()
        .all(db)
        .await
}

/// Count and store the facet counts of every release that has none stored (releases
/// imported before they were stored): `serve`'s start-up step, as for download sizes.
/// Returns how many releases were counted.
pub async fn record_missing_facets(db: &DatabaseConnection) -> Result<usize, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let mut counted = 0;
    for id in release_ids(db).await? {
        let stored = release_facet::Entity::find()
            .filter(release_facet::Column::ReleaseId.eq(id.as_str()))
            .one(db)
            .await?;
        if stored.is_none() {
            let txn = db.begin().await?;
            record_facets(&txn, &id).await?;
            txn.commit().await?;
            counted += 1;
        }
    }
    Ok(counted)
}

/// After a release is committed, on PostgreSQL: `VACUUM (ANALYZE)` the statistics, so the
/// first requests after an import find fresh planner statistics and an up-to-date
/// visibility map (a filtered `COUNT` is then an index-only scan: 44 ms instead of 420 ms
/// at a million rows, issue #12), rather than waiting for autovacuum. Only the pages the
/// import wrote are visited. On its own connection, without the request statement
/// timeout, closed afterwards; a failure is logged, not fatal: the release is imported
/// and autovacuum will do the same later.
async fn settle(db: &DatabaseConnection) {
    use sea_orm::sqlx::{Connection, Executor};
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let started = std::time::Instant::now();
    let outcome = async {
        let mut connection = db.get_postgres_connection_pool().acquire().await?.detach();
        connection.execute("SET statement_timeout = 0").await?;
        connection.execute("VACUUM (ANALYZE) statistics").await?;
        connection.close().await
    }
    .await;
    match outcome {
        Ok(()) => tracing::info!(elapsed = ?started.elapsed(), "statistics vacuumed and analysed"),
        Err(error) => tracing::warn!(%error, "VACUUM (ANALYZE) after the import failed"),
    }
}

async fn insert_all<E, M>(
    txn: &sea_orm::DatabaseTransaction,
    rows: impl IntoIterator<Item = M>,
) -> Result<(), sea_orm::DbErr>
where
    E: EntityTrait,
    M: IntoActiveModel<E::ActiveModel>,
{
    use sea_orm::Iterable;
    let chunk_rows = rows_per_statement(txn.get_database_backend(), E::Column::iter().count());
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<E::ActiveModel> = rows
            .by_ref()
            .take(chunk_rows)
            .map(IntoActiveModel::into_active_model)
            .collect();
        E::insert_many(chunk).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// The row count and CSV size of each download of the bundle, measured on the rows as
/// the API will serve them (the same public types and CSV writer as `/downloads`), so
/// listing downloads never has to render a table.
#[tracing::instrument(skip_all)]
fn download_sizes(bundle: &Bundle) -> Result<Vec<release_download::Model>, sea_orm::DbErr> {
    let sources: HashMap<&str, Source> = bundle
        .sources
        .iter()
        .map(|m| Ok((m.id.as_str(), Source::from_entity(m.clone())?)))
        .collect::<Result<_, sea_orm::DbErr>>()?;
    let source = |id: &str| {
        sources
            .get(id)
            .cloned()
            .ok_or_else(|| sea_orm::DbErr::Custom(format!("source {id} missing from the bundle")))
    };
    fn measure<T: CsvRecord>(
        rows: impl Iterator<Item = Result<T, sea_orm::DbErr>>,
    ) -> Result<(u64, u64), sea_orm::DbErr> {
        let mut size = CsvSize::new(T::HEADER);
        for row in rows {
            size.add(&row?);
        }
        Ok(size.finish())
    }
    let tables = [
        (
            &tables::PROGRAMS,
            measure(
                bundle
                    .programs
                    .iter()
                    .map(|m| Program::from_entity(m.clone(), source(&m.source_id)?)),
            )?,
        ),
        (
            &tables::STATISTICS,
            measure(bundle.statistics.models(&bundle.id).map(|m| {
                let source = source(&m.source_id)?;
                Statistic::from_entity(m, source)
            }))?,
        ),
        (
            &tables::EVENTS,
            measure(
                bundle
                    .events
                    .iter()
                    .map(|m| Event::from_entity(m.clone(), source(&m.source_id)?)),
            )?,
        ),
        (
            &tables::DOCUMENTS,
            measure(
                bundle
                    .documents
                    .iter()
                    .map(|m| Document::from_entity(m.clone(), source(&m.source_id)?)),
            )?,
        ),
        (
            &tables::SOURCES,
            measure(
                bundle
                    .sources
                    .iter()
                    .map(|m| Source::from_entity(m.clone())),
            )?,
        ),
        (
            &tables::METRICS,
            measure(bundle.metrics.iter().map(|m| Ok(Metric::from(m.clone()))))?,
        ),
    ];
    Ok(tables
        .into_iter()
        .map(|(table, (rows, bytes))| release_download::Model {
            release_id: bundle.id.clone(),
            table_name: table.name.to_owned(),
            row_count: rows as i64,
            byte_count: bytes as i64,
        })
        .collect())
}
