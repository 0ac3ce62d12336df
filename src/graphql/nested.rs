//! Nested fields, batched: `Program.statistics / events / documents` and
//! `Statistic.metric`. Each resolver asks one [`DataLoader`] for its key; the loader
//! gathers the keys of every sibling and answers them with one query per
//! (release, filter) through the `*_of_programs` and `metrics_by_id` functions of the
//! query layer. A query for every program with its statistics, events and documents
//! therefore costs the same number of database queries for 2 programs as for 1 000.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context};

use super::connection::{DocumentConnection, EventConnection, StatisticConnection};
use super::gate::DbGate;
use super::inputs::{
    DocumentFilter, DocumentOrder, EventFilter, EventOrder, StatisticFilter, StatisticOrder,
    search_arg,
};
use super::limits::page_cost;
use super::scope;
use crate::error::ApiError;
use crate::model::{Document, Event, Metric, Program, Statistic};
use crate::query;
use crate::state::AppState;

/// Every resolver fails with an [`ApiError`], so its GraphQL error keeps the problem's
/// `type`, `status` and `parameter` (see `crate::error`).
type Result<T, E = ApiError> = std::result::Result<T, E>;

/// Rows of one program, in one release, matching one filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProgramRows<F> {
    release: String,
    filter: F,
    program: String,
}

/// One metric of one release.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MetricKey {
    release: String,
    id: String,
}

/// Answers the batched keys through the query layer.
pub struct QueryLoader {
    state: AppState,
    /// Batches are shared by requests: they count against GraphQL's connections only.
    gate: DbGate,
}

impl QueryLoader {
    pub fn new(state: AppState, gate: DbGate) -> Self {
        QueryLoader { state, gate }
    }
}

/// Rows of a program in canonical order, with their positions (for cursors).
type Rows<T> = Arc<Vec<(i32, T)>>;

/// Group the keys by (release, filter) and run `fetch` once per group.
async fn load_grouped<F, T, Fut>(
    keys: &[ProgramRows<F>],
    fetch: impl Fn(String, F, Vec<String>) -> Fut,
) -> Result<HashMap<ProgramRows<F>, Rows<T>>, ApiError>
where
    F: Clone + Eq + Hash,
    Fut: Future<Output = Result<HashMap<String, Vec<(i32, T)>>, ApiError>>,
{
    let mut groups: HashMap<(String, F), Vec<String>> = HashMap::new();
    for key in keys {
        groups
            .entry((key.release.clone(), key.filter.clone()))
            .or_default()
            .push(key.program.clone());
    }
    let mut found = HashMap::with_capacity(keys.len());
    for ((release, filter), programs) in groups {
        let mut rows = fetch(release.clone(), filter.clone(), programs.clone()).await?;
        for program in programs {
            let value = Arc::new(rows.remove(&program).unwrap_or_default());
            found.insert(
                ProgramRows {
                    release: release.clone(),
                    filter: filter.clone(),
                    program,
                },
                value,
            );
        }
    }
    Ok(found)
}

impl Loader<ProgramRows<(query::StatisticFilter, query::Sort)>> for QueryLoader {
    type Value = Rows<Statistic>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ProgramRows<(query::StatisticFilter, query::Sort)>],
    ) -> Result<HashMap<ProgramRows<(query::StatisticFilter, query::Sort)>, Self::Value>, Self::Error>
    {
        load_grouped(keys, |release, (filter, sort), programs| async move {
            self.gate
                .run(query::statistics_of_programs(
                    &self.state.db,
                    &release,
                    &programs,
                    &filter,
                    sort,
                ))
                .await
        })
        .await
    }
}

impl Loader<ProgramRows<(query::EventFilter, query::Sort)>> for QueryLoader {
    type Value = Rows<Event>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ProgramRows<(query::EventFilter, query::Sort)>],
    ) -> Result<HashMap<ProgramRows<(query::EventFilter, query::Sort)>, Self::Value>, Self::Error>
    {
        load_grouped(keys, |release, (filter, sort), programs| async move {
            self.gate
                .run(query::events_of_programs(
                    &self.state.db,
                    &release,
                    &programs,
                    &filter,
                    sort,
                ))
                .await
        })
        .await
    }
}

impl Loader<ProgramRows<(query::DocumentFilter, query::Sort)>> for QueryLoader {
    type Value = Rows<Document>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ProgramRows<(query::DocumentFilter, query::Sort)>],
    ) -> Result<HashMap<ProgramRows<(query::DocumentFilter, query::Sort)>, Self::Value>, Self::Error>
    {
        load_grouped(keys, |release, (filter, sort), programs| async move {
            self.gate
                .run(query::documents_of_programs(
                    &self.state.db,
                    &release,
                    &programs,
                    &filter,
                    sort,
                ))
                .await
        })
        .await
    }
}

impl Loader<MetricKey> for QueryLoader {
    type Value = Metric;
    type Error = ApiError;

    async fn load(&self, keys: &[MetricKey]) -> Result<HashMap<MetricKey, Metric>, Self::Error> {
        let mut by_release: HashMap<&str, Vec<String>> = HashMap::new();
        for key in keys {
            by_release
                .entry(&key.release)
                .or_default()
                .push(key.id.clone());
        }
        let mut found = HashMap::with_capacity(keys.len());
        for (release, ids) in by_release {
            let metrics = self
                .gate
                .run(query::metrics_by_id(&self.state.db, release, &ids))
                .await?;
            found.extend(metrics.into_iter().map(|(id, metric)| {
                (
                    MetricKey {
                        release: release.to_owned(),
                        id,
                    },
                    metric,
                )
            }));
        }
        Ok(found)
    }
}

fn loader<'a>(ctx: &'a Context<'_>) -> Result<&'a DataLoader<QueryLoader>> {
    Ok(ctx.data::<DataLoader<QueryLoader>>()?)
}

/// The page of a nested field: the same checks and messages as a root field, without
/// a database round trip (the release is the parent's).
fn nested_page(
    release: &str,
    first: Option<i32>,
    after: Option<&str>,
    sort: query::Sort,
) -> Result<query::PageRequest, ApiError> {
    let (limit, cursor) = query::page_args(first.map(i64::from), after, ("first", "after"))?;
    query::page_in_release(release, limit, cursor.as_ref(), "after", sort)
}

/// The rows of `program` for `filter`, loaded in a batch with its siblings.
async fn rows_of<F, T>(
    ctx: &Context<'_>,
    release: &str,
    program: &str,
    filter: F,
) -> Result<Rows<T>>
where
    F: Clone + Eq + Hash + Send + Sync + 'static,
    QueryLoader: Loader<ProgramRows<F>, Value = Rows<T>, Error = ApiError>,
{
    let key = ProgramRows {
        release: release.to_owned(),
        filter,
        program: program.to_owned(),
    };
    Ok(loader(ctx)?.load_one(key).await?.unwrap_or_default())
}

/// Nested collections of a program, in the release of the root field they are under.
#[ComplexObject]
impl Program {
    /// The program's statistics, in canonical order or `orderBy`.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which statistics to return (within this program).")] filter: Option<
            StatisticFilter,
        >,
        #[graphql(
            desc = "The order of the rows: keys applied in turn (e.g. `[{field: PERIOD_START, direction: DESC}]`); ties keep the canonical order. A cursor continues only the order it was issued for."
        )]
        order_by: Option<Vec<StatisticOrder>>,
        #[graphql(desc = "How many to return: 1 to 1000, default 100.")] first: Option<i32>,
        #[graphql(desc = "Return the rows after this cursor (an `endCursor` or edge `cursor`).")]
        after: Option<String>,
    ) -> Result<StatisticConnection> {
        let filter = filter.unwrap_or_default().to_query()?;
        let release = scope::release_of(ctx)?;
        let sort = StatisticOrder::to_sort(order_by.as_deref())?;
        let page = nested_page(&release, first, after.as_deref(), sort)?;
        let rows = rows_of(ctx, &release, &self.slug, (filter, sort)).await?;
        Ok(StatisticConnection::new(
            &release,
            query::page_of_loaded(&release, &rows, page),
            after.is_some(),
        ))
    }

    /// The program's timeline: events in canonical order (by date) or `orderBy`.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which events to return (within this program).")] filter: Option<
            EventFilter,
        >,
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
    ) -> Result<EventConnection> {
        let filter = filter.unwrap_or_default().to_query(search_arg(q, None)?)?;
        let release = scope::release_of(ctx)?;
        let sort = EventOrder::to_sort(order_by.as_deref())?;
        let page = nested_page(&release, first, after.as_deref(), sort)?;
        let rows = rows_of(ctx, &release, &self.slug, (filter, sort)).await?;
        Ok(EventConnection::new(
            &release,
            query::page_of_loaded(&release, &rows, page),
            after.is_some(),
        ))
    }

    /// The program's policy documents, in canonical order or `orderBy`.
    #[allow(clippy::too_many_arguments)] // each argument is one of the field's GraphQL arguments
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn documents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which documents to return (within this program).")] filter: Option<
            DocumentFilter,
        >,
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
    ) -> Result<DocumentConnection> {
        let filter = filter
            .unwrap_or_default()
            .to_query(search_arg(q, search)?)?;
        let release = scope::release_of(ctx)?;
        let sort = DocumentOrder::to_sort(order_by.as_deref())?;
        let page = nested_page(&release, first, after.as_deref(), sort)?;
        let rows = rows_of(ctx, &release, &self.slug, (filter, sort)).await?;
        Ok(DocumentConnection::new(
            &release,
            query::page_of_loaded(&release, &rows, page),
            after.is_some(),
        ))
    }
}

/// The metric of a statistic, in the release of the root field it is under.
#[ComplexObject]
impl Statistic {
    /// What is counted: the metric's name, definition and unit.
    async fn metric(&self, ctx: &Context<'_>) -> Result<Metric> {
        let release = scope::release_of(ctx)?;
        let key = MetricKey {
            release,
            id: self.metric.clone(),
        };
        loader(ctx)?.load_one(key).await?.ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "metric {} missing from its release",
                self.metric
            ))
        })
    }
}
