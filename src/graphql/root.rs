//! The root fields. Each reads one release (the `release` argument, else the release of
//! the `after` cursor, else the latest) through the query layer, exactly as REST does.

use std::sync::Arc;

use async_graphql::{Context, Object};

use super::connection::{
    DocumentConnection, EventConnection, MetricConnection, ProgramConnection, SourceConnection,
    StatisticConnection,
};
use super::gate;
use super::inputs::{
    DocumentFilter, DocumentOrder, EventFilter, EventOrder, MetricOrder, ProgramFilter,
    ProgramOrder, SourceFilter, SourceOrder, StatisticFilter, StatisticOrder, search_arg,
};
use super::limits::page_cost;
use super::scope;
use crate::cite::{Citable, CitationFormat};
use crate::diff::{DiffCursor, ReleaseRef, RowChange, TableChanges};
use crate::error::ApiError;
use crate::model::{Facets, Program, Release, Source};
use crate::query::{self, PageRequest};
use crate::state::AppState;

/// Every resolver fails with an [`ApiError`], so its GraphQL error keeps the problem's
/// `type`, `status` and `parameter` (see `crate::error`).
type Result<T, E = ApiError> = std::result::Result<T, E>;

/// The root of the schema (`Query` in GraphQL).
pub struct QueryRoot;

fn state<'a>(ctx: &'a Context<'_>) -> Result<&'a AppState> {
    Ok(ctx.data::<AppState>()?)
}

/// The release a root field reads: the one named, else the latest when the request
/// arrived (see [`scope::LatestRelease`]).
async fn release_for(
    ctx: &Context<'_>,
    requested: Option<&str>,
) -> Result<Arc<crate::entity::release::Model>> {
    if requested.is_none()
        && let Ok(latest) = ctx.data::<scope::LatestRelease>()
    {
        return Ok(latest.0.clone());
    }
    gate::db(
        ctx,
        query::resolve_release(&state(ctx)?.releases, requested),
    )
    .await
}

/// Resolve the release and page of a paged root field, and record the release for the
/// field's nested fields. The release is pinned when named, or carried by a cursor. The
/// same checks, in the same order, as `query::resolve_page` for REST.
async fn paged(
    ctx: &Context<'_>,
    release: Option<&str>,
    first: Option<i32>,
    after: Option<&str>,
    sort: query::Sort,
) -> Result<(String, PageRequest)> {
    let (limit, cursor) = query::page_args(first.map(i64::from), after, ("first", "after"))?;
    let requested = release.or(cursor.as_ref().map(|c| c.release.as_str()));
    let model = release_for(ctx, requested).await?;
    let page = query::page_in_release(&model.id, limit, cursor.as_ref(), "after", sort)?;
    scope::enter_release(ctx, &model.id, names_for_good(release) || after.is_some())?;
    Ok((model.id.clone(), page))
}

/// Resolve the release of an item root field.
async fn item_release(ctx: &Context<'_>, release: Option<&str>) -> Result<String> {
    let model = release_for(ctx, release).await?;
    scope::enter_release(ctx, &model.id, names_for_good(release))?;
    Ok(model.id.clone())
}

/// Whether a `release` argument names its release for good: a full id. A short prefix
/// could become ambiguous when a release is imported, so its answer is not immutable.
pub(super) fn names_for_good(release: Option<&str>) -> bool {
    release.is_some_and(query::is_release_id)
}

/// Aggregate statistics, timelines and policy documents of municipal ID and
/// sanctuary-policy programs, each figure with its source; never individual records.
/// Every field reads one immutable release: the latest unless `release` names another.
#[Object(name = "Query")]
impl QueryRoot {
    /// Municipal ID and sanctuary-policy programs, in canonical order.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)] // each argument is one of the field's GraphQL arguments
    async fn programs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which programs to return.")] filter: Option<ProgramFilter>,
        #[graphql(
            desc = "Text search: only rows whose name, jurisdiction, administrator or description contains this text, ignoring case and accents (`bogota` finds `Bogotá`); 1 to 200 characters. The same as REST's `q`."
        )]
        q: Option<String>,
        #[graphql(
            desc = "The order of the rows: keys applied in turn (e.g. `[{field: PERIOD_START, direction: DESC}]`); ties keep the canonical order. A cursor continues only the order it was issued for."
        )]
        order_by: Option<Vec<ProgramOrder>>,
        #[graphql(desc = "How many to return: 1 to 1000, default 100.")] first: Option<i32>,
        #[graphql(desc = "Return the rows after this cursor (an `endCursor` or edge `cursor`).")]
        after: Option<String>,
        #[graphql(
            desc = "The release to read (its id or a unique prefix of at least 8 hex digits; see `releases`). Default: the release of `after`, else the latest."
        )]
        release: Option<String>,
    ) -> Result<ProgramConnection> {
        let filter = filter.unwrap_or_default().to_query(search_arg(q, None)?)?;
        let sort = ProgramOrder::to_sort(order_by.as_deref())?;
        let (release, page) = paged(ctx, release.as_deref(), first, after.as_deref(), sort).await?;
        let rows = gate::db(
            ctx,
            query::list_programs(&state(ctx)?.db, &release, &filter, page),
        )
        .await?;
        Ok(ProgramConnection::new(&release, rows, after.is_some()))
    }

    /// One program by its slug, or null if the release has no such program.
    async fn program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The program's slug, e.g. `citykey`.")] slug: String,
        #[graphql(
            desc = "The release to read (its id or a unique prefix of at least 8 hex digits; see `releases`). Default: the latest."
        )]
        release: Option<String>,
    ) -> Result<Option<Program>> {
        query::check_text("slug", &slug)?;
        let release = item_release(ctx, release.as_deref()).await?;
        gate::db(ctx, query::get_program(&state(ctx)?.db, &release, &slug)).await
    }

    /// Published figures (one row per program, metric, period, dimension and category),
    /// in canonical order. A suppressed figure has `value: null` and `suppressed: true`.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which statistics to return.")] filter: Option<StatisticFilter>,
        #[graphql(
            desc = "The order of the rows: keys applied in turn (e.g. `[{field: PERIOD_START, direction: DESC}]`); ties keep the canonical order. A cursor continues only the order it was issued for."
        )]
        order_by: Option<Vec<StatisticOrder>>,
        #[graphql(desc = "How many to return: 1 to 1000, default 100.")] first: Option<i32>,
        #[graphql(desc = "Return the rows after this cursor (an `endCursor` or edge `cursor`).")]
        after: Option<String>,
        #[graphql(
            desc = "The release to read (its id or a unique prefix of at least 8 hex digits; see `releases`). Default: the release of `after`, else the latest."
        )]
        release: Option<String>,
    ) -> Result<StatisticConnection> {
        let filter = filter.unwrap_or_default().to_query()?;
        let sort = StatisticOrder::to_sort(order_by.as_deref())?;
        let (release, page) = paged(ctx, release.as_deref(), first, after.as_deref(), sort).await?;
        let rows = gate::db(
            ctx,
            query::list_statistics(&state(ctx)?.db, &release, &filter, page),
        )
        .await?;
        Ok(StatisticConnection::new(&release, rows, after.is_some()))
    }

    /// The latest figures: for each program, metric, dimension and category, the figure
    /// with the latest `periodEnd` among the figures `filter` matches (`to` gives the
    /// latest as of a date; `suppressed: false` the latest published values). When several
    /// figures of a series end on that day, the one with the latest `periodStart` (the
    /// shortest period) is the latest, then the first in canonical order. A suppressed
    /// figure can be the latest: `value: null`, `suppressed: true`. The same rows, in the
    /// same order, as `GET /api/v1/statistics/latest`.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn latest_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which statistics to consider.")] filter: Option<StatisticFilter>,
        #[graphql(
            desc = "The order of the rows: keys applied in turn (e.g. `[{field: PERIOD_START, direction: DESC}]`); ties keep the canonical order. A cursor continues only the order it was issued for."
        )]
        order_by: Option<Vec<StatisticOrder>>,
        #[graphql(desc = "How many to return: 1 to 1000, default 100.")] first: Option<i32>,
        #[graphql(desc = "Return the rows after this cursor (an `endCursor` or edge `cursor`).")]
        after: Option<String>,
        #[graphql(
            desc = "The release to read (its id or a unique prefix of at least 8 hex digits; see `releases`). Default: the release of `after`, else the latest."
        )]
        release: Option<String>,
    ) -> Result<StatisticConnection> {
        let filter = filter.unwrap_or_default().to_query()?;
        let sort = StatisticOrder::to_sort(order_by.as_deref())?;
        let (release, page) = paged(ctx, release.as_deref(), first, after.as_deref(), sort).await?;
        let rows = gate::db(
            ctx,
            query::list_latest_statistics(&state(ctx)?.db, &release, &filter, page),
        )
        .await?;
        Ok(StatisticConnection::new(&release, rows, after.is_some()))
    }

    /// Events of the programs' timelines, in canonical order (by date).
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)] // each argument is one of the field's GraphQL arguments
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which events to return.")] filter: Option<EventFilter>,
        #[graphql(
            desc = "Text search: only rows whose title or description contains this text, ignoring case and accents (`bogota` finds `Bogotá`); 1 to 200 characters. The same as REST's `q`."
        )]
        q: Option<String>,
        #[graphql(
            desc = "The order of the rows: keys applied in turn (e.g. `[{field: PERIOD_START, direction: DESC}]`); ties keep the canonical order. A cursor continues only the order it was issued for."
        )]
        order_by: Option<Vec<EventOrder>>,
        #[graphql(desc = "How many to return: 1 to 1000, default 100.")] first: Option<i32>,
        #[graphql(desc = "Return the rows after this cursor (an `endCursor` or edge `cursor`).")]
        after: Option<String>,
        #[graphql(
            desc = "The release to read (its id or a unique prefix of at least 8 hex digits; see `releases`). Default: the release of `after`, else the latest."
        )]
        release: Option<String>,
    ) -> Result<EventConnection> {
        let filter = filter.unwrap_or_default().to_query(search_arg(q, None)?)?;
        let sort = EventOrder::to_sort(order_by.as_deref())?;
        let (release, page) = paged(ctx, release.as_deref(), first, after.as_deref(), sort).await?;
        let rows = gate::db(
            ctx,
            query::list_events(&state(ctx)?.db, &release, &filter, page),
        )
        .await?;
        Ok(EventConnection::new(&release, rows, after.is_some()))
    }

    /// Policy documents (ordinances, statements, subpoenas as reported, reports,
    /// decisions), in canonical order.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)] // each argument is one of the field's GraphQL arguments
    async fn documents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which documents to return.")] filter: Option<DocumentFilter>,
        #[graphql(
            desc = "Text search: only rows whose title or summary contains this text, ignoring case and accents (`bogota` finds `Bogotá`); 1 to 200 characters. The same as REST's `q`."
        )]
        q: Option<String>,
        #[graphql(
            desc = "The former name of `q` (the same search); give one of them, not both.",
            deprecation = "use `q`, the name REST uses too"
        )]
        search: Option<String>,
        #[graphql(
            desc = "The order of the rows: keys applied in turn (e.g. `[{field: PERIOD_START, direction: DESC}]`); ties keep the canonical order. A cursor continues only the order it was issued for."
        )]
        order_by: Option<Vec<DocumentOrder>>,
        #[graphql(desc = "How many to return: 1 to 1000, default 100.")] first: Option<i32>,
        #[graphql(desc = "Return the rows after this cursor (an `endCursor` or edge `cursor`).")]
        after: Option<String>,
        #[graphql(
            desc = "The release to read (its id or a unique prefix of at least 8 hex digits; see `releases`). Default: the release of `after`, else the latest."
        )]
        release: Option<String>,
    ) -> Result<DocumentConnection> {
        let filter = filter
            .unwrap_or_default()
            .to_query(search_arg(q, search)?)?;
        let sort = DocumentOrder::to_sort(order_by.as_deref())?;
        let (release, page) = paged(ctx, release.as_deref(), first, after.as_deref(), sort).await?;
        let rows = gate::db(
            ctx,
            query::list_documents(&state(ctx)?.db, &release, &filter, page),
        )
        .await?;
        Ok(DocumentConnection::new(&release, rows, after.is_some()))
    }

    /// The publications that figures, events, documents and programs cite.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)] // each argument is one of the field's GraphQL arguments
    async fn sources(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which sources to return.")] filter: Option<SourceFilter>,
        #[graphql(
            desc = "Text search: only rows whose title or publisher contains this text, ignoring case and accents (`bogota` finds `Bogotá`); 1 to 200 characters. The same as REST's `q`."
        )]
        q: Option<String>,
        #[graphql(
            desc = "The order of the rows: keys applied in turn (e.g. `[{field: PERIOD_START, direction: DESC}]`); ties keep the canonical order. A cursor continues only the order it was issued for."
        )]
        order_by: Option<Vec<SourceOrder>>,
        #[graphql(desc = "How many to return: 1 to 1000, default 100.")] first: Option<i32>,
        #[graphql(desc = "Return the rows after this cursor (an `endCursor` or edge `cursor`).")]
        after: Option<String>,
        #[graphql(
            desc = "The release to read (its id or a unique prefix of at least 8 hex digits; see `releases`). Default: the release of `after`, else the latest."
        )]
        release: Option<String>,
    ) -> Result<SourceConnection> {
        let filter = filter.unwrap_or_default().to_query(search_arg(q, None)?)?;
        let sort = SourceOrder::to_sort(order_by.as_deref())?;
        let (release, page) = paged(ctx, release.as_deref(), first, after.as_deref(), sort).await?;
        let rows = gate::db(
            ctx,
            query::list_sources(&state(ctx)?.db, &release, &filter, page),
        )
        .await?;
        Ok(SourceConnection::new(&release, rows, after.is_some()))
    }

    /// One source by its id, or null if the release has no such source.
    async fn source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source's id.")] id: String,
        #[graphql(
            desc = "The release to read (its id or a unique prefix of at least 8 hex digits; see `releases`). Default: the latest."
        )]
        release: Option<String>,
    ) -> Result<Option<Source>> {
        query::check_text("id", &id)?;
        let release = item_release(ctx, release.as_deref()).await?;
        gate::db(ctx, query::get_source(&state(ctx)?.db, &release, &id)).await
    }

    /// The dictionary of metrics: what each statistic counts.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn metrics(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The order of the rows: keys applied in turn (e.g. `[{field: PERIOD_START, direction: DESC}]`); ties keep the canonical order. A cursor continues only the order it was issued for."
        )]
        order_by: Option<Vec<MetricOrder>>,
        #[graphql(desc = "How many to return: 1 to 1000, default 100.")] first: Option<i32>,
        #[graphql(desc = "Return the rows after this cursor (an `endCursor` or edge `cursor`).")]
        after: Option<String>,
        #[graphql(
            desc = "The release to read (its id or a unique prefix of at least 8 hex digits; see `releases`). Default: the release of `after`, else the latest."
        )]
        release: Option<String>,
    ) -> Result<MetricConnection> {
        let sort = MetricOrder::to_sort(order_by.as_deref())?;
        let (release, page) = paged(ctx, release.as_deref(), first, after.as_deref(), sort).await?;
        let rows = gate::db(ctx, query::list_metrics(&state(ctx)?.db, &release, page)).await?;
        Ok(MetricConnection::new(&release, rows, after.is_some()))
    }

    /// How many statistics there are per value of up to four fields (`facets: [PROGRAM,
    /// METRIC, YEAR]`), under `filter`: counts of rows, never sums of values (a suppressed
    /// figure counts as the row it is). The same counts, in the same order, as
    /// `GET /api/v1/statistics/facets`.
    async fn statistic_facets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which statistics to count (as `statistics`' filter).")] filter: Option<
            StatisticFilter,
        >,
        #[graphql(desc = "The fields to count by, 1 to 4 (`YEAR`: the year of `periodStart`).")]
        facets: Vec<query::StatisticFacetField>,
        #[graphql(
            desc = "The release to read (its id or a unique prefix of at least 8 hex digits; see `releases`). Default: the latest."
        )]
        release: Option<String>,
    ) -> Result<Facets> {
        let filter = filter.unwrap_or_default().to_query()?;
        let fields = query::check_facets(&facets, "facets")?;
        let release = item_release(ctx, release.as_deref()).await?;
        gate::db(
            ctx,
            query::statistic_facets(&state(ctx)?.db, &release, &filter, &fields),
        )
        .await
    }

    /// How many events there are per value of `PROGRAM`, `KIND` or `YEAR` (of the date),
    /// under `filter`. The same counts, in the same order, as `GET /api/v1/events/facets`.
    async fn event_facets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which events to count (as `events`' filter).")] filter: Option<
            EventFilter,
        >,
        #[graphql(
            desc = "Text search over titles and descriptions, as `events`' `q` (1 to 200 characters)."
        )]
        q: Option<String>,
        #[graphql(desc = "The fields to count by, 1 to 4.")] facets: Vec<query::EventFacetField>,
        #[graphql(
            desc = "The release to read (its id or a unique prefix of at least 8 hex digits; see `releases`). Default: the latest."
        )]
        release: Option<String>,
    ) -> Result<Facets> {
        let filter = filter.unwrap_or_default().to_query(search_arg(q, None)?)?;
        let fields = query::check_facets(&facets, "facets")?;
        let release = item_release(ctx, release.as_deref()).await?;
        gate::db(
            ctx,
            query::event_facets(&state(ctx)?.db, &release, &filter, &fields),
        )
        .await
    }

    /// How many documents there are per value of `PROGRAM`, `KIND`, `ISSUER` or `YEAR` (of
    /// `publishedOn`; null for undated documents), under `filter`. The same counts, in the
    /// same order, as `GET /api/v1/documents/facets`.
    async fn document_facets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which documents to count (as `documents`' filter).")] filter: Option<
            DocumentFilter,
        >,
        #[graphql(
            desc = "Text search over titles and summaries, as `documents`' `q` (1 to 200 characters)."
        )]
        q: Option<String>,
        #[graphql(desc = "The fields to count by, 1 to 4.")] facets: Vec<query::DocumentFacetField>,
        #[graphql(
            desc = "The release to read (its id or a unique prefix of at least 8 hex digits; see `releases`). Default: the latest."
        )]
        release: Option<String>,
    ) -> Result<Facets> {
        let filter = filter.unwrap_or_default().to_query(search_arg(q, None)?)?;
        let fields = query::check_facets(&facets, "facets")?;
        let release = item_release(ctx, release.as_deref()).await?;
        gate::db(
            ctx,
            query::document_facets(&state(ctx)?.db, &release, &filter, &fields),
        )
        .await
    }

    /// Every release, newest first. Pass a release's `id` as `release` to any other
    /// field to read that release instead of the latest.
    async fn releases(&self, ctx: &Context<'_>) -> Result<Vec<Release>> {
        scope::mark_pinned(ctx, false)?;
        gate::db(ctx, query::list_releases(&state(ctx)?.db)).await
    }

    /// One release by its id (the latest when `id` is left out), or null if there is no
    /// such release.
    async fn release(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The release's id (64 hex digits, or a unique prefix of at least 8). Default: the latest release."
        )]
        id: Option<String>,
    ) -> Result<Option<Release>> {
        scope::mark_pinned(ctx, names_for_good(id.as_deref()))?;
        if let Some(id) = &id {
            query::check_text("id", id)?;
            if !query::is_release_ref(id) {
                return Ok(None);
            }
            return match gate::db(
                ctx,
                query::resolve_release_ref(&state(ctx)?.releases, "id", id),
            )
            .await
            {
                Ok(model) => Ok(Some(Release::from((*model).clone()))),
                Err(ApiError::NotFound { .. }) => Ok(None),
                Err(error) => Err(error),
            };
        }
        match release_for(ctx, id.as_deref()).await {
            Ok(model) => Ok(Some(Release::from((*model).clone()))),
            Err(ApiError::NotFound { .. }) if id.is_some() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// What changed from release `from` to release `to` (default: the latest): per table,
    /// the rows added, removed and changed (by the table's key), and for a changed row
    /// each field that changed, old and new. A suppressed value is never shown: its side
    /// of `value` is null with `oldSuppressed`/`newSuppressed` true (never 0). The same
    /// rows, in the same order, as `GET /api/v1/releases/{from}/diff/{to}`. Each page
    /// compares a bounded slice of the two releases, so where few rows changed a page can
    /// hold fewer than `first` changes, even none: follow `endCursor` while `hasNextPage`.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn release_diff(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The older release: its id or a unique prefix of at least 8 hex digits.")]
        from: String,
        #[graphql(desc = "The newer release (id or prefix). Default: the latest.")] to: Option<
            String,
        >,
        #[graphql(desc = "How many row changes to return: 1 to 1000, default 100.")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return the row changes after this cursor (an `endCursor`).")]
        after: Option<String>,
    ) -> Result<ReleaseDiff> {
        scope::mark_pinned(
            ctx,
            query::is_release_id(&from) && (names_for_good(to.as_deref()) || after.is_some()),
        )?;
        let (limit, _) = query::page_args(first.map(i64::from), None, ("first", "after"))?;
        let releases = &state(ctx)?.releases;
        let older = gate::db(ctx, query::resolve_release_ref(releases, "from", &from)).await?;
        let newer = match &to {
            Some(to) => gate::db(ctx, query::resolve_release_ref(releases, "to", to)).await?,
            None => release_for(ctx, None).await?,
        };
        let after = after
            .as_deref()
            .map(|text| DiffCursor::decode(text, &older.id, &newer.id, "after"))
            .transpose()?;
        let db = &state(ctx)?.db;
        let tables = gate::db(ctx, crate::diff::summary(db, &older.id, &newer.id)).await?;
        let page = gate::db(
            ctx,
            crate::diff::page(db, &older.id, &newer.id, after, limit, crate::diff::BUDGET),
        )
        .await?;
        Ok(ReleaseDiff {
            from: ReleaseRef::from(&*older),
            to: ReleaseRef::from(&*newer),
            total_count: tables.iter().map(|t| t.added + t.removed + t.changed).sum(),
            tables,
            end_cursor: page.next.as_ref().map(|c| c.encode(&older.id, &newer.id)),
            has_next_page: page.next.is_some(),
            changes: page.items,
        })
    }

    /// How to cite a release, or one figure in it (`statistic`): the dataset, the release
    /// (sequence number, short and full id), its date, the permanent URL and, for a
    /// figure, its original source. The same text as `GET /api/v1/releases/{id}/cite` and
    /// `GET /api/v1/statistics/{id}/cite`.
    async fn citation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "TEXT (APA-like), BIBTEX, RIS or CSL_JSON. Default: TEXT.")]
        format: Option<CitationFormat>,
        #[graphql(desc = "A statistic's id, to cite that figure; default: cite the release.")]
        statistic: Option<String>,
        #[graphql(
            desc = "The release (its id or a unique prefix of at least 8 hex digits). Default: the latest."
        )]
        release: Option<String>,
    ) -> Result<Option<Citation>> {
        let format = format.unwrap_or(CitationFormat::Text);
        let model = release_for(ctx, release.as_deref()).await?;
        scope::mark_pinned(ctx, names_for_good(release.as_deref()))?;
        let base = ctx
            .data::<super::BaseUrl>()
            .map(|b| b.0.clone())
            .unwrap_or_else(|_| "http://127.0.0.1:8080".to_owned());
        let figure = match &statistic {
            Some(id) => {
                query::check_text("statistic", id)?;
                match gate::db(ctx, query::get_statistic(&state(ctx)?.db, &model.id, id)).await? {
                    Some(figure) => Some(figure),
                    None => return Ok(None),
                }
            }
            None => None,
        };
        let reference = ReleaseRef::from(&*model);
        let text = Citable {
            title: &model.title,
            release: &reference,
            base: &base,
            figure: figure.as_ref(),
        }
        .render(format);
        Ok(Some(Citation {
            format,
            media_type: format.media_type().to_owned(),
            text,
        }))
    }
}

/// A page of the diff between two releases.
#[derive(async_graphql::SimpleObject)]
pub struct ReleaseDiff {
    /// The older release.
    from: ReleaseRef,
    /// The newer release.
    to: ReleaseRef,
    /// Per table, how many rows were added, removed and changed.
    tables: Vec<TableChanges>,
    /// Row changes across all pages (the sum of `tables`).
    total_count: u64,
    /// The row changes of this page, by table (catalog order) then key.
    changes: Vec<RowChange>,
    /// Pass as `after` for the next page; null on the last.
    end_cursor: Option<String>,
    /// Whether more row changes follow.
    has_next_page: bool,
}

/// A citation in one format.
#[derive(async_graphql::SimpleObject)]
pub struct Citation {
    /// The format.
    format: CitationFormat,
    /// Its media type (`application/x-bibtex`, …).
    media_type: String,
    /// The citation itself.
    text: String,
}
