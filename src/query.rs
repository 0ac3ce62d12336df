//! Every read query. REST, GraphQL and CSV all call these functions, so the same filter
//! returns the same rows, in the same order, with the same numbers everywhere.
//!
//! Rows are ordered by `position` (the canonical order fixed at import, unique within a
//! release); pages continue after the last position seen, so paging is keyset-based and
//! a crawl never skips or repeats a row, even while a new release is imported.
//!
//! One cohesive thing, hence one long file: the one query layer the parity tests hold to
//! account (splitting it per table would invite the outputs to drift apart).

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, ModelTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
};

use crate::entity::{
    document, event, metric, program, release, release_download, release_facet, source, statistic,
};
use crate::error::ApiError;
use crate::model::{
    Document, Event, Facet, FacetValue, Facets, Metric, Program, Release, Source, Statistic,
};
use crate::releases::Releases;
use crate::vocabulary::{
    Basis, DocumentKind, EventKind, ProgramStatus, Qualifier, SourceKind, StatisticStatus,
};

/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u64 = 100;
/// The largest page size.
pub const MAX_LIMIT: u64 = 1000;
/// The longest text search accepted.
pub const MAX_SEARCH_CHARS: usize = 200;

/// Reject text that holds a control character (C0 controls such as NUL, DEL, and C1
/// controls): no identifier, filter or search contains one, PostgreSQL cannot store NUL
/// in text, and SQLite compares around it. Every text input of REST (query parameters,
/// path segments) and GraphQL (arguments, filter fields) passes through here, so all
/// answer the same 400 naming `parameter`.
pub fn check_text(parameter: &str, value: &str) -> Result<(), ApiError> {
    match value.char_indices().find(|(_, c)| c.is_control()) {
        None => Ok(()),
        Some((at, c)) => Err(ApiError::invalid(
            parameter,
            format!(
                "{parameter} must not contain control characters; found U+{:04X} at byte {at}",
                u32::from(c)
            ),
        )),
    }
}

/// Check a text search named `parameter` (`q`, or GraphQL's deprecated `search`): not
/// empty, at most [`MAX_SEARCH_CHARS`] characters, no control characters, and something
/// left once case and accents are set aside (a lone combining accent would match every
/// row). REST and GraphQL both check here, so both answer the same 400.
pub fn check_search(parameter: &str, q: &str) -> Result<(), ApiError> {
    check_text(parameter, q)?;
    if q.is_empty() {
        return Err(ApiError::invalid(
            parameter,
            format!("{parameter} must not be empty; leave it out to match every row"),
        ));
    }
    if q.chars().count() > MAX_SEARCH_CHARS {
        return Err(ApiError::invalid(
            parameter,
            format!("{parameter} must be at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    if crate::search::fold(q).is_empty() {
        return Err(ApiError::invalid(
            parameter,
            format!(
                "{parameter} holds only accents or other combining marks: nothing to search for"
            ),
        ));
    }
    Ok(())
}

/// An opaque position in a collection of one release, under one sort: the position of
/// the last row seen, and the sort it was seen in (its [`Sort::spec`], empty for the
/// canonical order). A cursor continues only the sort it was issued for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub release: String,
    pub position: i32,
    pub sort: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        if self.sort.is_empty() {
            URL_SAFE_NO_PAD.encode(format!("v1.{}.{}", self.release, self.position))
        } else {
            URL_SAFE_NO_PAD.encode(format!(
                "v2.{}.{}.{}",
                self.release, self.position, self.sort
            ))
        }
    }

    /// `None` for anything that is not a cursor this service issued.
    pub fn decode(text: &str) -> Option<Cursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.split('.');
        let (version, release, position, sort) =
            (parts.next(), parts.next()?, parts.next()?, parts.next());
        let sort = match (version, sort) {
            (Some("v1"), None) => "",
            (Some("v2"), Some(sort))
                if !sort.is_empty()
                    && sort
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b',' || b == b'-') =>
            {
                sort
            }
            _ => return None,
        };
        if parts.next().is_some() || !is_release_id(release) {
            return None;
        }
        Some(Cursor {
            release: release.to_owned(),
            position: position.parse().ok().filter(|p| *p >= 0)?,
            sort: sort.to_owned(),
        })
    }
}

/// The most keys a sort can have (no table has more sortable fields).
pub const MAX_SORT_KEYS: usize = 12;

/// One key of a sort: a field of the table's allow-list and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortKey {
    pub field: &'static str,
    pub descending: bool,
    /// Whether the column can be empty (null): empty values sort last in both directions.
    pub nullable: bool,
}

/// An order for a collection: keys from the table's allow-list ([`sort_fields`]), then
/// the canonical order (`position`, unique within a release) to break ties, so keyset
/// paging is stable under every sort. Empty values (a suppressed figure's `value`, an
/// undated document) sort after every non-empty value in both directions, and among
/// themselves by the remaining keys: nothing about a suppressed value enters the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sort {
    keys: [Option<SortKey>; MAX_SORT_KEYS],
}

impl Default for Sort {
    fn default() -> Self {
        Sort::CANONICAL
    }
}

/// Sortable fields of one table: a GraphQL enum (`<Table>SortField`) and the allow-list
/// the query layer checks, from one declaration.
macro_rules! sort_fields {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal $(, $nullable:ident)?;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// (field, nullable) in the allow-list's order.
            pub const FIELDS: &'static [(&'static str, bool)] =
                &[$(($text, sort_fields!(@nullable $($nullable)?))),+];

            /// The field's name, as written in `sort=`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }
    };
    (@nullable nullable) => { true };
    (@nullable) => { false };
}

sort_fields! {
    /// A field statistics can be sorted by.
    StatisticSortField {
        /// The figure's id.
        Id = "id";
        /// The program's slug.
        Program = "program";
        /// The metric's id.
        Metric = "metric";
        /// The first day of the period.
        PeriodStart = "period_start";
        /// The last day of the period.
        PeriodEnd = "period_end";
        /// The dimension (`total` or a breakdown).
        Dimension = "dimension";
        /// The category of the dimension.
        Category = "category";
        /// The published value; suppressed figures sort after every published figure in
        /// both directions, in an order that does not depend on their hidden values.
        Value = "value", nullable;
        /// The qualifier (`exact`, `at_least`, ...).
        Qualifier = "qualifier";
        /// The unit.
        Unit = "unit";
        /// The figure's standing.
        Status = "status";
        /// What the figure counts over its period.
        Basis = "basis", nullable;
    }
}

sort_fields! {
    /// A field events can be sorted by.
    EventSortField {
        /// The event's id.
        Id = "id";
        /// The program's slug.
        Program = "program";
        /// The event's date.
        Date = "date";
        /// The kind of event.
        Kind = "kind";
        /// The title.
        Title = "title";
    }
}

sort_fields! {
    /// A field documents can be sorted by.
    DocumentSortField {
        /// The document's id.
        Id = "id";
        /// The program's slug.
        Program = "program";
        /// The kind of document.
        Kind = "kind";
        /// The title.
        Title = "title";
        /// Who issued it.
        Issuer = "issuer";
        /// When it was published (undated documents sort last).
        PublishedOn = "published_on", nullable;
    }
}

sort_fields! {
    /// A field programs can be sorted by.
    ProgramSortField {
        /// The program's slug.
        Slug = "slug";
        /// The program's name.
        Name = "name";
        /// The city or county.
        Jurisdiction = "jurisdiction";
        /// When it launched (unknown dates sort last).
        LaunchedOn = "launched_on", nullable;
        /// Whether it operates today.
        Status = "status";
    }
}

sort_fields! {
    /// A field sources can be sorted by.
    SourceSortField {
        /// The source's id.
        Id = "id";
        /// The title.
        Title = "title";
        /// The publisher.
        Publisher = "publisher";
        /// When it was published (unknown dates sort last).
        PublishedOn = "published_on", nullable;
        /// The kind of publisher.
        Kind = "kind";
    }
}

sort_fields! {
    /// A field metrics can be sorted by.
    MetricSortField {
        /// The metric's id.
        Id = "id";
        /// Its name.
        Name = "name";
        /// Its unit.
        Unit = "unit";
    }
}

/// The sortable fields of `table` (a name in `tables::PUBLISHED`): (field, nullable).
pub fn sort_fields(table: &str) -> &'static [(&'static str, bool)] {
    match table {
        "statistics" => StatisticSortField::FIELDS,
        "events" => EventSortField::FIELDS,
        "documents" => DocumentSortField::FIELDS,
        "programs" => ProgramSortField::FIELDS,
        "sources" => SourceSortField::FIELDS,
        "metrics" => MetricSortField::FIELDS,
        _ => &[],
    }
}

impl Sort {
    /// The canonical order (by `position`).
    pub const CANONICAL: Sort = Sort {
        keys: [None; MAX_SORT_KEYS],
    };

    /// Parse `field,-field` (a leading `-` sorts descending) against `table`'s allow-list;
    /// an unknown or empty field is an error naming `parameter`. A field given twice
    /// counts once, where it first appears.
    pub fn parse(table: &str, text: &str, parameter: &str) -> Result<Sort, ApiError> {
        let allowed = sort_fields(table);
        let names = || {
            allowed
                .iter()
                .map(|(f, _)| *f)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut sort = Sort::CANONICAL;
        let mut n = 0;
        for part in text.split(',') {
            let (descending, name) = match part.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, part),
            };
            let Some(&(field, nullable)) = allowed.iter().find(|(f, _)| *f == name) else {
                return Err(ApiError::invalid(
                    parameter,
                    format!(
                        "{parameter}: {table} cannot be sorted by {:?}; sortable fields: {} (prefix - for descending, separate with commas)",
                        crate::error::echo(name),
                        names()
                    ),
                ));
            };
            if sort.keys().any(|k| k.field == field) {
                continue;
            }
            sort.keys[n] = Some(SortKey {
                field,
                descending,
                nullable,
            });
            n += 1;
        }
        Ok(sort)
    }

    /// The keys, in order (none for the canonical order).
    pub fn keys(&self) -> impl Iterator<Item = SortKey> + '_ {
        self.keys.iter().map_while(|k| *k)
    }

    /// Whether this is the canonical order.
    pub fn is_canonical(&self) -> bool {
        self.keys[0].is_none()
    }

    /// The normal form, `field,-field` (empty for the canonical order): what a cursor
    /// records.
    pub fn spec(&self) -> String {
        self.keys()
            .map(|k| format!("{}{}", if k.descending { "-" } else { "" }, k.field))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Whether `text` looks like a release id (64 lower-case hex digits).
pub fn is_release_id(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Which slice of a collection to return, in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageRequest {
    pub limit: u64,
    /// Return rows after the row at this position, in `sort` (0: from the start).
    pub after: i32,
    /// The order of the rows.
    pub sort: Sort,
}

impl PageRequest {
    /// The first `limit` rows in canonical order.
    pub const fn first(limit: u64) -> PageRequest {
        PageRequest {
            limit,
            after: 0,
            sort: Sort::CANONICAL,
        }
    }
}

/// One page of a collection.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Rows matching the filter, across all pages.
    pub total: u64,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
    /// The position of each item (for per-item GraphQL cursors).
    pub positions: Vec<i32>,
    /// The order of the rows (per-item cursors record it).
    pub sort: Sort,
}

/// The release and page a request asks for: `release` wins; otherwise the cursor's
/// release; otherwise the latest. `names` are the argument names to blame in errors
/// (`limit`/`cursor` for REST, `first`/`after` for GraphQL).
#[tracing::instrument(level = "debug", skip(releases))]
pub async fn resolve_page(
    releases: &Releases,
    release: Option<&str>,
    cursor: Option<&str>,
    limit: Option<i64>,
    sort: Sort,
    names: (&str, &str),
) -> Result<(Arc<release::Model>, PageRequest), ApiError> {
    let (limit, cursor) = page_args(limit, cursor, names)?;
    let requested = release.or(cursor.as_ref().map(|c| c.release.as_str()));
    let release = resolve_release(releases, requested).await?;
    let page = page_in_release(&release.id, limit, cursor.as_ref(), names.1, sort)?;
    Ok((release, page))
}

/// The checks `resolve_page` makes before it looks up a release, without the database:
/// the page size (default and range) and the cursor's form. For pages of rows already
/// loaded, such as GraphQL's batched nested fields.
pub fn page_args(
    limit: Option<i64>,
    cursor: Option<&str>,
    names: (&str, &str),
) -> Result<(u64, Option<Cursor>), ApiError> {
    let (limit_name, cursor_name) = names;
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as u64,
        Some(n) => {
            return Err(ApiError::invalid(
                limit_name,
                format!("{limit_name} must be between 1 and {MAX_LIMIT}, got {n}"),
            ));
        }
    };
    let cursor = match cursor {
        None => None,
        Some(text) => Some(Cursor::decode(text).ok_or_else(|| {
            if let Err(control) = check_text(cursor_name, text) {
                return control;
            }
            ApiError::invalid(
                cursor_name,
                format!("{cursor_name} is not a cursor issued by this service"),
            )
        })?),
    };
    Ok((limit, cursor))
}

/// The page of `release` in `sort` that starts after `cursor`; a cursor of another
/// release, or issued for another sort, is an error naming `cursor_name`.
pub fn page_in_release(
    release: &str,
    limit: u64,
    cursor: Option<&Cursor>,
    cursor_name: &str,
    sort: Sort,
) -> Result<PageRequest, ApiError> {
    if let Some(cursor) = cursor
        && cursor.sort != sort.spec()
    {
        let said = |spec: &str| {
            if spec.is_empty() {
                "the canonical order".to_owned()
            } else {
                format!("sort {spec:?}")
            }
        };
        return Err(ApiError::invalid(
            cursor_name,
            format!(
                "{cursor_name} continues {}, not {}: ask for the same order, or start again without {cursor_name}",
                said(&cursor.sort),
                said(&sort.spec())
            ),
        ));
    }
    if let Some(cursor) = cursor
        && cursor.release != release
    {
        return Err(ApiError::invalid(
            cursor_name,
            format!(
                "{cursor_name} belongs to release {}, not {release}",
                cursor.release
            ),
        ));
    }
    Ok(PageRequest {
        limit,
        after: cursor.map(|c| c.position).unwrap_or(0),
        sort,
    })
}

/// A page of rows already loaded in canonical order (as the `*_of_programs` functions
/// return them), with the same keyset rules as the paged queries: rows after
/// `page.after`, at most `page.limit`, and a next cursor when more follow.
///
/// Rows loaded in `page.sort` (not the canonical order) continue after the row at
/// `page.after` (none left when no such row is loaded), and their cursors record the sort.
pub fn page_of_loaded<T: Clone>(release: &str, rows: &[(i32, T)], page: PageRequest) -> Page<T> {
    let start = if page.sort.is_canonical() {
        rows.partition_point(|(position, _)| *position <= page.after)
    } else if page.after == 0 {
        0
    } else {
        rows.iter()
            .position(|(position, _)| *position == page.after)
            .map_or(rows.len(), |at| at + 1)
    };
    let rest = &rows[start..];
    let taken = &rest[..rest.len().min(page.limit as usize)];
    let next = (rest.len() > taken.len())
        .then(|| taken.last())
        .flatten()
        .map(|(position, _)| Cursor {
            release: release.to_owned(),
            position: *position,
            sort: page.sort.spec(),
        });
    Page {
        items: taken.iter().map(|(_, item)| item.clone()).collect(),
        total: rows.len() as u64,
        next,
        positions: taken.iter().map(|(position, _)| *position).collect(),
        sort: page.sort,
    }
}

/// The shortest release-id prefix accepted where a release id is.
pub const MIN_RELEASE_PREFIX: usize = 8;
/// The length of the short id shown beside the full one.
pub const SHORT_ID_CHARS: usize = 12;

/// Whether `text` could name a release: 8 to 64 lower-case hex digits (a full id or a
/// prefix of one).
pub fn is_release_ref(text: &str) -> bool {
    (MIN_RELEASE_PREFIX..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The release named by `requested`, or the latest; from the instance's memory of
/// releases (see `crate::releases`), which asks the database only for a release it has
/// not seen yet. `requested` is a full id or any unique prefix of at least
/// [`MIN_RELEASE_PREFIX`] hex digits.
#[tracing::instrument(level = "debug", skip(releases))]
pub async fn resolve_release(
    releases: &Releases,
    requested: Option<&str>,
) -> Result<Arc<release::Model>, ApiError> {
    match requested {
        Some(id) => resolve_release_ref(releases, "release", id).await,
        None => releases
            .latest()
            .await?
            .ok_or_else(|| ApiError::not_found("no release has been imported yet")),
    }
}

/// The release `text` names (a full id or a unique prefix of at least 8 hex digits),
/// blaming `parameter` in errors: malformed, too short or ambiguous is a 400, unknown a 404.
pub async fn resolve_release_ref(
    releases: &Releases,
    parameter: &str,
    text: &str,
) -> Result<Arc<release::Model>, ApiError> {
    check_text(parameter, text)?;
    if !is_release_ref(text) {
        let detail = if text.len() < MIN_RELEASE_PREFIX
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            format!(
                "{parameter} must be a release id or a prefix of at least {MIN_RELEASE_PREFIX} hex digits, got {} digits",
                text.len()
            )
        } else {
            format!(
                "{parameter} must be a release id (64 hex digits, or a unique prefix of at least {MIN_RELEASE_PREFIX}; see /api/v1/releases), got {:?}",
                crate::error::echo(text)
            )
        };
        return Err(ApiError::invalid(parameter, detail));
    }
    let not_found = || ApiError::NotFound {
        parameter: Some(parameter.into()),
        detail: format!("no release {text}; see /api/v1/releases"),
    };
    if is_release_id(text) {
        return releases.by_id(text).await?.ok_or_else(not_found);
    }
    let mut found = releases.by_prefix(text).await?;
    match found.len() {
        0 => Err(not_found()),
        1 => Ok(found.remove(0)),
        _ => Err(ApiError::invalid(
            parameter,
            format!(
                "{parameter} {text} is ambiguous: it begins the ids of several releases ({}, …); give more digits",
                found
                    .iter()
                    .map(|r| short_id(&r.id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The 12-character short id shown beside a release's full id.
pub fn short_id(id: &str) -> String {
    id.chars().take(SHORT_ID_CHARS).collect()
}

/// Up to two releases whose id begins with `prefix` (two means it is ambiguous), oldest
/// first, from the database.
pub async fn releases_by_prefix(
    db: &DatabaseConnection,
    prefix: &str,
) -> Result<Vec<release::Model>, sea_orm::DbErr> {
    release::Entity::find()
        .filter(release::Column::Id.starts_with(prefix))
        .order_by_asc(release::Column::Seq)
        .limit(2)
        .all(db)
        .await
}

/// The release `id`, from the database.
pub async fn release_by_id(
    db: &DatabaseConnection,
    id: &str,
) -> Result<Option<release::Model>, sea_orm::DbErr> {
    release::Entity::find_by_id(id.to_owned()).one(db).await
}

/// The newest release, if any has been imported, from the database (requests read it
/// from memory: `crate::releases`).
pub async fn latest_release(
    db: &DatabaseConnection,
) -> Result<Option<release::Model>, sea_orm::DbErr> {
    release::Entity::find()
        .order_by_desc(release::Column::Seq)
        .one(db)
        .await
}

/// Every release, newest first (there are few; the list is capped all the same).
#[tracing::instrument(level = "debug", skip(db))]
pub async fn list_releases(db: &DatabaseConnection) -> Result<Vec<Release>, ApiError> {
    let rows = release::Entity::find()
        .order_by_desc(release::Column::Seq)
        .limit(MAX_LIMIT)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Release::from).collect())
}

/// A date window; `from` after `to` is an error naming `from`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DateRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl DateRange {
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Self, ApiError> {
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(ApiError::invalid(
                "from",
                format!("from ({f}) is after to ({t})"),
            ));
        }
        Ok(DateRange { from, to })
    }
}

/// The most values one filter takes (`program=a,b,...`).
pub const MAX_FILTER_VALUES: usize = 50;

/// Check the values of a list filter named `parameter`: at most [`MAX_FILTER_VALUES`],
/// none empty, no control characters. REST and GraphQL both check here.
pub fn check_values<S: AsRef<str>>(parameter: &str, values: &[S]) -> Result<(), ApiError> {
    if values.len() > MAX_FILTER_VALUES {
        return Err(ApiError::invalid(
            parameter,
            format!(
                "{parameter} takes at most {MAX_FILTER_VALUES} values, got {}",
                values.len()
            ),
        ));
    }
    for value in values {
        let value = value.as_ref();
        check_text(parameter, value)?;
        if value.is_empty() {
            return Err(ApiError::invalid(
                parameter,
                format!("{parameter} has an empty value; separate values with single commas"),
            ));
        }
    }
    Ok(())
}

/// Filters of `statistics`. A list matches any of its values (none: no filter); the
/// rows match every filter given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct StatisticFilter {
    pub program: Vec<String>,
    pub metric: Vec<String>,
    pub dimension: Vec<String>,
    pub category: Vec<String>,
    pub status: Vec<StatisticStatus>,
    pub basis: Vec<Basis>,
    pub qualifier: Vec<Qualifier>,
    /// Only suppressed figures (`true`) or only published values (`false`).
    pub suppressed: Option<bool>,
    /// Statistics whose period overlaps this window.
    pub period: DateRange,
}

/// Filters of `events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct EventFilter {
    pub program: Vec<String>,
    pub kind: Vec<EventKind>,
    /// Text search over titles and descriptions, without case or accents (`crate::search`).
    pub q: Option<String>,
    /// Events dated within this window.
    pub date: DateRange,
}

/// Filters of `documents`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct DocumentFilter {
    pub program: Vec<String>,
    pub kind: Vec<DocumentKind>,
    /// Text search over titles and summaries, without case or accents (`crate::search`).
    pub q: Option<String>,
    /// Documents published within this window (undated documents are left out when set).
    pub published: DateRange,
}

/// Filters of `programs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ProgramFilter {
    pub status: Vec<ProgramStatus>,
    /// Text search over names, jurisdictions, administrators and descriptions, without
    /// case or accents (`crate::search`).
    pub q: Option<String>,
}

/// Filters of `sources`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SourceFilter {
    pub kind: Vec<SourceKind>,
    /// Text search over titles and publishers, without case or accents (`crate::search`).
    pub q: Option<String>,
}

/// What every data row has: a position and (except sources and metrics) a source.
pub trait Row {
    fn position(&self) -> i32;
    fn source_id(&self) -> Option<&str> {
        None
    }
}

macro_rules! row {
    ($module:ident, sourced) => {
        impl Row for $module::Model {
            fn position(&self) -> i32 {
                self.position
            }
            fn source_id(&self) -> Option<&str> {
                Some(&self.source_id)
            }
        }
    };
    ($module:ident) => {
        impl Row for $module::Model {
            fn position(&self) -> i32 {
                self.position
            }
        }
    };
}
row!(program, sourced);
row!(event, sourced);
row!(document, sourced);
row!(statistic, sourced);
row!(source);
row!(metric);

/// Run a filtered, keyset-paged select in `page.sort`: one COUNT and one page query
/// (and, after a cursor in a non-canonical sort, one read of the row the cursor names).
async fn fetch_page<E>(
    db: &DatabaseConnection,
    release: &str,
    select: Select<E>,
    position: E::Column,
    page: PageRequest,
    counting: Counting,
) -> Result<(Vec<E::Model>, u64, Option<Cursor>), ApiError>
where
    E: EntityTrait,
    E::Model: Row + Sync,
    E::Column: std::str::FromStr,
{
    let total = match counting {
        Counting::Count => select.clone().count(db).await?,
        Counting::Skip => 0,
        Counting::Known(total) => total,
    };
    let keys = sort_columns::<E>(page.sort)?;
    let mut select = select;
    if page.after > 0 {
        select = if keys.is_empty() {
            select.filter(position.gt(page.after))
        } else {
            let release_column = <E::Column as std::str::FromStr>::from_str("release_id")
                .map_err(|_| ApiError::internal(anyhow::anyhow!("table without release_id")))?;
            let anchor = E::find()
                .filter(release_column.eq(release))
                .filter(position.eq(page.after))
                .one(db)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid(
                        "cursor",
                        "cursor is not a cursor issued by this service (it names no row)",
                    )
                })?;
            let values = keys.iter().map(|(column, _)| anchor.get(*column)).collect();
            select.filter(after_anchor(&keys, values, position, page.after))
        };
    }
    select = order_by_keys(select, &keys);
    let mut rows = select
        .order_by_asc(position)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    let next = if rows.len() as u64 > page.limit {
        rows.truncate(page.limit as usize);
        rows.last().map(|r| Cursor {
            release: release.to_owned(),
            position: r.position(),
            sort: page.sort.spec(),
        })
    } else {
        None
    };
    Ok((rows, total, next))
}

/// Order `select` by the sort's keys (empty values last in both directions), before the
/// caller's tie-breaker: the one order of every sorted read.
fn order_by_keys<E: EntityTrait>(
    mut select: Select<E>,
    keys: &[(E::Column, SortKey)],
) -> Select<E> {
    for (column, key) in keys {
        if key.nullable {
            select = select.order_by(Expr::col((E::default(), *column)).is_null(), Order::Asc);
        }
        select = select.order_by(
            *column,
            if key.descending {
                Order::Desc
            } else {
                Order::Asc
            },
        );
    }
    select
}

/// The columns of `sort`'s keys in `E`.
fn sort_columns<E>(sort: Sort) -> Result<Vec<(E::Column, SortKey)>, ApiError>
where
    E: EntityTrait,
    E::Column: std::str::FromStr,
{
    sort.keys()
        .map(|key| {
            <E::Column as std::str::FromStr>::from_str(key.field)
                .map(|column| (column, key))
                .map_err(|_| {
                    ApiError::internal(anyhow::anyhow!("no column {} to sort by", key.field))
                })
        })
        .collect()
}

/// The rows that come after the anchor row (its sort-key `values` and `after`, its
/// position) in the order of `keys` then position: the keyset condition. Null values
/// come last in both directions, and equal among themselves.
fn after_anchor<C: ColumnTrait>(
    keys: &[(C, SortKey)],
    values: Vec<sea_orm::Value>,
    position: C,
    after: i32,
) -> Condition {
    let mut later = Condition::any();
    let mut equal = Condition::all();
    for ((column, key), value) in keys.iter().zip(values) {
        if value == value.as_null() {
            // Nothing sorts after a null in this key; rows that tie have a null too.
            equal = equal.add(column.is_null());
            continue;
        }
        let mut beyond = Condition::any().add(if key.descending {
            column.lt(value.clone())
        } else {
            column.gt(value.clone())
        });
        if key.nullable {
            beyond = beyond.add(column.is_null());
        }
        later = later.add(equal.clone().add(beyond));
        equal = equal.add(column.eq(value));
    }
    later.add(equal.add(position.gt(after)))
}

/// Whether a page read counts every row matching the filter (`Page::total`). A whole-table
/// download reads every chunk and needs no count: counting a million-row table once per
/// chunk is what made large downloads slow.
#[derive(Debug, Clone, Copy)]
enum Counting {
    Count,
    Skip,
    /// The total is known without counting (stored at import).
    Known(u64),
}

/// A chunk of one table's rows, in canonical order (what a whole-table download holds).
#[derive(Debug)]
pub enum Rows {
    Programs(Vec<Program>),
    Statistics(Vec<Statistic>),
    Events(Vec<Event>),
    Documents(Vec<Document>),
    Sources(Vec<Source>),
    Metrics(Vec<Metric>),
}

impl Rows {
    /// How many rows.
    pub fn len(&self) -> usize {
        match self {
            Rows::Programs(rows) => rows.len(),
            Rows::Statistics(rows) => rows.len(),
            Rows::Events(rows) => rows.len(),
            Rows::Documents(rows) => rows.len(),
            Rows::Sources(rows) => rows.len(),
            Rows::Metrics(rows) => rows.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Write every row, each ended, as the table's CSV or spreadsheet rows.
    pub fn write<C: crate::csv::Cells>(&self, out: &mut C) {
        use crate::csv::CsvRecord;
        fn each<T: CsvRecord, C: crate::csv::Cells>(rows: &[T], out: &mut C) {
            for row in rows {
                row.write(out);
                out.end_record();
            }
        }
        match self {
            Rows::Programs(rows) => each(rows, out),
            Rows::Statistics(rows) => each(rows, out),
            Rows::Events(rows) => each(rows, out),
            Rows::Documents(rows) => each(rows, out),
            Rows::Sources(rows) => each(rows, out),
            Rows::Metrics(rows) => each(rows, out),
        }
    }
}

/// Up to `limit` rows of the whole table `table` (a name in `tables::TABLES`) of a release,
/// after position `after` (0: from the start), with no filter and without counting the table;
/// and the position the next chunk starts after, if there is one. The same rows, in the same
/// order, as paging through the table's collection.
pub async fn table_chunk(
    db: &DatabaseConnection,
    release: &str,
    table: &str,
    after: i32,
    limit: u64,
) -> Result<(Rows, Option<i32>), ApiError> {
    let page_request = PageRequest {
        limit,
        after,
        sort: Sort::CANONICAL,
    };
    let skip = Counting::Skip;
    macro_rules! chunk {
        ($variant:ident, $page:expr) => {{
            let page = $page.await?;
            (Rows::$variant(page.items), page.next.map(|c| c.position))
        }};
    }
    Ok(match table {
        "programs" => chunk!(
            Programs,
            read_programs(db, release, &Default::default(), page_request, skip)
        ),
        "statistics" => chunk!(
            Statistics,
            read_statistics(db, release, &Default::default(), page_request, skip)
        ),
        "events" => chunk!(
            Events,
            read_events(db, release, &Default::default(), page_request, skip)
        ),
        "documents" => chunk!(
            Documents,
            read_documents(db, release, &Default::default(), page_request, skip)
        ),
        "sources" => chunk!(
            Sources,
            read_sources(db, release, &Default::default(), page_request, skip)
        ),
        "metrics" => chunk!(Metrics, read_metrics(db, release, page_request, skip)),
        other => {
            return Err(ApiError::internal(anyhow::anyhow!(
                "no table {other} to download"
            )));
        }
    })
}

/// The rows of `table` (a name in `tables::TABLES`) in `release` whose key is one of `keys`
/// (at most a page of them), in their published form, in no particular order; keys the
/// release does not hold are left out. For the fields of a diff's changed rows.
pub async fn rows_by_keys(
    db: &DatabaseConnection,
    release: &str,
    table: &str,
    keys: &[String],
) -> Result<Rows, ApiError> {
    let keys = keys.iter().map(String::as_str);
    macro_rules! sourced {
        ($module:ident, $key:ident, $variant:ident, $public:ident) => {{
            let rows = $module::Entity::find()
                .filter($module::Column::ReleaseId.eq(release))
                .filter($module::Column::$key.is_in(keys))
                .all(db)
                .await?;
            let sources = sources_for(db, release, &rows).await?;
            Rows::$variant(with_sources(rows, &sources, $public::from_entity)?)
        }};
    }
    Ok(match table {
        "programs" => sourced!(program, Slug, Programs, Program),
        "statistics" => sourced!(statistic, Id, Statistics, Statistic),
        "events" => sourced!(event, Id, Events, Event),
        "documents" => sourced!(document, Id, Documents, Document),
        "sources" => Rows::Sources(
            source::Entity::find()
                .filter(source::Column::ReleaseId.eq(release))
                .filter(source::Column::Id.is_in(keys))
                .all(db)
                .await?
                .into_iter()
                .map(Source::from_entity)
                .collect::<Result<_, _>>()?,
        ),
        "metrics" => Rows::Metrics(
            metric::Entity::find()
                .filter(metric::Column::ReleaseId.eq(release))
                .filter(metric::Column::Id.is_in(keys))
                .all(db)
                .await?
                .into_iter()
                .map(Metric::from)
                .collect(),
        ),
        other => {
            return Err(ApiError::internal(anyhow::anyhow!("no table {other}")));
        }
    })
}

/// The rows of `table` in `release` as counted at import (`release_downloads`, which every
/// release has once `serve` has started); `None` when not recorded.
async fn stored_row_count(
    db: &DatabaseConnection,
    release: &str,
    table: &str,
) -> Result<Option<u64>, ApiError> {
    let count = release_download::Entity::find_by_id((release.to_owned(), table.to_owned()))
        .one(db)
        .await?;
    Ok(count.and_then(|c| u64::try_from(c.row_count).ok()))
}

/// How to get the total of a page of `table` whose filter is the facet-field `lists` (name,
/// values; empty: no condition) and, when `plain` is false, some other condition: with no
/// condition at all, the row count stored at import; with exactly one facet list and
/// nothing else, the sum of the counts stored at import of its values (`release_facets`);
/// otherwise (or when nothing is stored) by counting, through an index.
async fn known_or_count<const N: usize>(
    db: &DatabaseConnection,
    release: &str,
    table: &str,
    plain: bool,
    lists: [(&str, Vec<&str>); N],
) -> Result<Counting, ApiError> {
    debug_assert!(
        lists.iter().all(|(field, _)| is_facet_field(table, field)),
        "{table}: every list is a facet field (its counts are stored)"
    );
    if !plain {
        return Ok(Counting::Count);
    }
    let mut given = lists.iter().filter(|(_, values)| !values.is_empty());
    let known = match (given.next(), given.next()) {
        (None, _) => stored_row_count(db, release, table).await?,
        (Some((field, values)), None) => stored_total(db, release, table, field, values).await?,
        _ => None,
    };
    Ok(known.map_or(Counting::Count, Counting::Known))
}

/// Whether `field` is a facet field of `table` (so its counts are stored at import).
fn is_facet_field(table: &str, field: &str) -> bool {
    fn of<F: FacetField>(table: &str, field: &str) -> bool {
        F::TABLE == table && F::ALL.iter().any(|f| f.as_str() == field)
    }
    of::<StatisticFacetField>(table, field)
        || of::<EventFacetField>(table, field)
        || of::<DocumentFacetField>(table, field)
}

/// The rows of `table` in `release` whose `field` is one of `values`, from the counts
/// stored at import (`release_facets`): the sum of the counts of the distinct values
/// asked for (a value no row has counts 0). `None` when no count of the field is stored.
async fn stored_total(
    db: &DatabaseConnection,
    release: &str,
    table: &str,
    field: &str,
    values: &[&str],
) -> Result<Option<u64>, ApiError> {
    use release_facet::Column as C;
    let counts: Vec<(String, i64)> = release_facet::Entity::find()
        .select_only()
        .columns([C::Value, C::RowCount])
        .filter(C::ReleaseId.eq(release))
        .filter(C::TableName.eq(table))
        .filter(C::Field.eq(field))
        .filter(C::Missing.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    if counts.is_empty() {
        return Ok(None);
    }
    let mut wanted = values.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    Ok(Some(
        counts
            .iter()
            .filter(|(value, _)| wanted.binary_search(&value.as_str()).is_ok())
            .map(|(_, n)| u64::try_from(*n).unwrap_or_default())
            .sum(),
    ))
}

/// The sources the rows cite, in one query.
async fn sources_for<M: Row>(
    db: &DatabaseConnection,
    release: &str,
    rows: &[M],
) -> Result<HashMap<String, Source>, ApiError> {
    let mut ids: Vec<&str> = rows.iter().filter_map(Row::source_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let models = source::Entity::find()
            .filter(source::Column::ReleaseId.eq(release))
            .filter(source::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        for model in models {
            found.insert(model.id.clone(), Source::from_entity(model)?);
        }
    }
    Ok(found)
}

/// Pair each row with its source and convert it to the public type.
fn with_sources<M: Row, T>(
    rows: Vec<M>,
    sources: &HashMap<String, Source>,
    convert: fn(M, Source) -> Result<T, sea_orm::DbErr>,
) -> Result<Vec<T>, ApiError> {
    rows.into_iter()
        .map(|row| {
            let id = row.source_id().unwrap_or_default().to_owned();
            let source = sources.get(&id).cloned().ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("source {id} missing from its release"))
            })?;
            Ok(convert(row, source)?)
        })
        .collect()
}

fn page<T>(
    items: Vec<T>,
    positions: Vec<i32>,
    total: u64,
    next: Option<Cursor>,
    sort: Sort,
) -> Page<T> {
    Page {
        items,
        total,
        next,
        positions,
        sort,
    }
}

fn overlap_condition<C: ColumnTrait>(start: C, end: C, range: DateRange) -> Condition {
    let mut condition = Condition::all();
    if let Some(from) = range.from {
        condition = condition.add(end.gte(from));
    }
    if let Some(to) = range.to {
        condition = condition.add(start.lte(to));
    }
    condition
}

/// `column` is one of `values` (`=` for one value); `None`, no condition, for none.
fn one_of<C: ColumnTrait, S: AsRef<str>>(
    column: C,
    values: &[S],
) -> Option<sea_orm::sea_query::SimpleExpr> {
    match values {
        [] => None,
        [one] => Some(column.eq(one.as_ref())),
        many => Some(column.is_in(many.iter().map(|v| v.as_ref().to_owned()))),
    }
}

/// The text of vocabulary values.
fn texts<T: Copy>(values: &[T], as_str: fn(T) -> &'static str) -> Vec<&'static str> {
    values.iter().map(|v| as_str(*v)).collect()
}

fn statistic_condition(release: &str, f: &StatisticFilter) -> Condition {
    use statistic::Column as C;
    Condition::all()
        .add(C::ReleaseId.eq(release))
        .add_option(one_of(C::Program, &f.program))
        .add_option(one_of(C::Metric, &f.metric))
        .add_option(one_of(C::Dimension, &f.dimension))
        .add_option(one_of(C::Category, &f.category))
        .add_option(one_of(
            C::Status,
            &texts(&f.status, StatisticStatus::as_str),
        ))
        .add_option(one_of(C::Basis, &texts(&f.basis, Basis::as_str)))
        .add_option(one_of(
            C::Qualifier,
            &texts(&f.qualifier, Qualifier::as_str),
        ))
        .add_option(f.suppressed.map(|v| C::Suppressed.eq(v)))
        .add(overlap_condition(C::PeriodStart, C::PeriodEnd, f.period))
}

/// What a period filter with `to` implies about `period_end`: no statistic of the release
/// spans more than its longest period (`releases.longest_period_days`, stored at import),
/// so a period starting by `to` ends by `to + longest`. Redundant for the answer, it makes
/// the rows one bounded range of the index `statistics_period` (`period_end` from `from` to
/// `to + longest`) instead of every entry from `from` on (issue #12). No condition without
/// `to`, or for a release whose longest period is not stored.
async fn period_bound(
    db: &DatabaseConnection,
    release: &str,
    period: DateRange,
) -> Result<Condition, ApiError> {
    let Some(to) = period.to else {
        return Ok(Condition::all());
    };
    let longest: Option<Option<i64>> = release::Entity::find_by_id(release)
        .select_only()
        .column(release::Column::LongestPeriodDays)
        .into_tuple()
        .one(db)
        .await?;
    // Past year 9999 a date is no longer written as ten characters (chrono writes
    // `+10000-…`, which sorts before every date on SQLite): no bound is needed there.
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");
    let bound = longest
        .flatten()
        .and_then(|days| u64::try_from(days).ok())
        .and_then(|days| to.checked_add_days(chrono::Days::new(days)))
        .filter(|bound| *bound <= last);
    Ok(match bound {
        Some(bound) => Condition::all().add(statistic::Column::PeriodEnd.lte(bound)),
        None => Condition::all(),
    })
}

fn event_condition(release: &str, f: &EventFilter) -> Condition {
    use event::Column as C;
    Condition::all()
        .add(C::ReleaseId.eq(release))
        .add_option(one_of(C::Program, &f.program))
        .add_option(one_of(C::Kind, &texts(&f.kind, EventKind::as_str)))
        .add_option(search_condition(C::SearchText, &f.q))
        .add(overlap_condition(C::Date, C::Date, f.date))
}

/// The rows whose search text (`search_column`, folded at import) contains `q` folded the
/// same way (`crate::search`): no case, no accents, on SQLite and PostgreSQL alike, with
/// `%`, `_` and `\` literal. `None` for no search.
fn search_condition<C: ColumnTrait>(
    search_column: C,
    q: &Option<String>,
) -> Option<sea_orm::sea_query::SimpleExpr> {
    q.as_deref()
        .map(|q| search_column.like(LikeExpr::new(crate::search::like_text(q)).escape('\\')))
}

fn document_condition(release: &str, f: &DocumentFilter) -> Condition {
    use document::Column as C;
    Condition::all()
        .add(C::ReleaseId.eq(release))
        .add_option(one_of(C::Program, &f.program))
        .add_option(one_of(C::Kind, &texts(&f.kind, DocumentKind::as_str)))
        .add_option(search_condition(C::SearchText, &f.q))
        .add(overlap_condition(
            C::PublishedOn,
            C::PublishedOn,
            f.published,
        ))
}

/// A page of statistics.
#[tracing::instrument(level = "debug", skip(db, filter), fields(after = page_request.after, limit = page_request.limit))]
pub async fn list_statistics(
    db: &DatabaseConnection,
    release: &str,
    filter: &StatisticFilter,
    page_request: PageRequest,
) -> Result<Page<Statistic>, ApiError> {
    read_statistics(db, release, filter, page_request, Counting::Count).await
}

async fn read_statistics(
    db: &DatabaseConnection,
    release: &str,
    filter: &StatisticFilter,
    page_request: PageRequest,
    counting: Counting,
) -> Result<Page<Statistic>, ApiError> {
    let select = statistic::Entity::find()
        .filter(statistic_condition(release, filter))
        .filter(period_bound(db, release, filter.period).await?);
    // Unfiltered, the total is the release's row count, stored at import: counting a
    // million rows takes longer than the rest of the page (issue #12). Filtered on one
    // facet field, it is the sum of the stored counts of the values asked for.
    let counting = match counting {
        Counting::Count => {
            // Every field named, so a new filter cannot be missed here (it would make a
            // stored total wrong).
            let StatisticFilter {
                program,
                metric,
                dimension,
                category,
                status,
                basis,
                qualifier,
                suppressed,
                period,
            } = filter;
            let lists = [
                ("program", program.iter().map(String::as_str).collect()),
                ("metric", metric.iter().map(String::as_str).collect()),
                ("dimension", dimension.iter().map(String::as_str).collect()),
                ("category", category.iter().map(String::as_str).collect()),
                ("status", texts(status, StatisticStatus::as_str)),
                ("basis", texts(basis, Basis::as_str)),
                ("qualifier", texts(qualifier, Qualifier::as_str)),
            ];
            let plain = suppressed.is_none() && *period == DateRange::default();
            known_or_count(db, release, "statistics", plain, lists).await?
        }
        other => other,
    };
    let (rows, total, next) = fetch_page(
        db,
        release,
        select,
        statistic::Column::Position,
        page_request,
        counting,
    )
    .await?;
    let positions = rows.iter().map(|r| r.position).collect();
    let sources = sources_for(db, release, &rows).await?;
    Ok(page(
        with_sources(rows, &sources, Statistic::from_entity)?,
        positions,
        total,
        next,
        page_request.sort,
    ))
}

/// Every statistic of the given programs that matches `filter`, grouped by program, in
/// canonical order (for GraphQL's batched nested fields).
#[tracing::instrument(level = "debug", skip(db, programs, filter), fields(programs = programs.len()))]
pub async fn statistics_of_programs(
    db: &DatabaseConnection,
    release: &str,
    programs: &[String],
    filter: &StatisticFilter,
    sort: Sort,
) -> Result<HashMap<String, Vec<(i32, Statistic)>>, ApiError> {
    let select = statistic::Entity::find()
        .filter(statistic_condition(release, filter))
        .filter(period_bound(db, release, filter.period).await?)
        .filter(statistic::Column::Program.is_in(programs.iter().map(String::as_str)))
        // Grouped by program below, each group in position order: ordered by program
        // first, the rows come straight from `statistics_program_position` (ordered by
        // position alone, SQLite walked the whole release: 3.5 s for two programs at a
        // million rows, 0.2 s now).
        .order_by_asc(statistic::Column::Program);
    let rows = order_by_keys(select, &sort_columns::<statistic::Entity>(sort)?)
        .order_by_asc(statistic::Column::Position)
        .all(db)
        .await?;
    let positions: Vec<i32> = rows.iter().map(|r| r.position).collect();
    let sources = sources_for(db, release, &rows).await?;
    Ok(group_by_program(
        positions,
        with_sources(rows, &sources, Statistic::from_entity)?,
        |s| &s.program,
    ))
}

/// One statistic by id.
#[tracing::instrument(level = "debug", skip(db))]
pub async fn get_statistic(
    db: &DatabaseConnection,
    release: &str,
    id: &str,
) -> Result<Option<Statistic>, ApiError> {
    let Some(row) = statistic::Entity::find_by_id((release.to_owned(), id.to_owned()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let sources = sources_for(db, release, std::slice::from_ref(&row)).await?;
    Ok(with_sources(vec![row], &sources, Statistic::from_entity)?.pop())
}

/// The first and last day the figures' periods and the events of a release cover (a
/// dataset's temporal coverage), or `None` when it has neither.
#[tracing::instrument(level = "debug", skip(db))]
pub async fn date_coverage(
    db: &DatabaseConnection,
    release: &str,
) -> Result<Option<(NaiveDate, NaiveDate)>, ApiError> {
    let figures: Option<(Option<NaiveDate>, Option<NaiveDate>)> = statistic::Entity::find()
        .select_only()
        .column_as(Expr::col(statistic::Column::PeriodStart).min(), "first")
        .column_as(Expr::col(statistic::Column::PeriodEnd).max(), "last")
        .filter(statistic::Column::ReleaseId.eq(release))
        .into_tuple()
        .one(db)
        .await?;
    let events: Option<(Option<NaiveDate>, Option<NaiveDate>)> = event::Entity::find()
        .select_only()
        .column_as(Expr::col(event::Column::Date).min(), "first")
        .column_as(Expr::col(event::Column::Date).max(), "last")
        .filter(event::Column::ReleaseId.eq(release))
        .into_tuple()
        .one(db)
        .await?;
    let (mut firsts, mut lasts) = (Vec::new(), Vec::new());
    for (first, last) in [figures, events].into_iter().flatten() {
        firsts.extend(first);
        lasts.extend(last);
    }
    Ok(firsts.into_iter().min().zip(lasts.into_iter().max()))
}

/// A page of events.
#[tracing::instrument(level = "debug", skip(db, filter), fields(after = page_request.after, limit = page_request.limit))]
pub async fn list_events(
    db: &DatabaseConnection,
    release: &str,
    filter: &EventFilter,
    page_request: PageRequest,
) -> Result<Page<Event>, ApiError> {
    read_events(db, release, filter, page_request, Counting::Count).await
}

async fn read_events(
    db: &DatabaseConnection,
    release: &str,
    filter: &EventFilter,
    page_request: PageRequest,
    counting: Counting,
) -> Result<Page<Event>, ApiError> {
    let select = event::Entity::find().filter(event_condition(release, filter));
    let counting = match counting {
        Counting::Count => {
            let EventFilter {
                program,
                kind,
                q,
                date,
            } = filter;
            let lists = [
                ("program", program.iter().map(String::as_str).collect()),
                ("kind", texts(kind, EventKind::as_str)),
            ];
            let plain = q.is_none() && *date == DateRange::default();
            known_or_count(db, release, "events", plain, lists).await?
        }
        other => other,
    };
    let (rows, total, next) = fetch_page(
        db,
        release,
        select,
        event::Column::Position,
        page_request,
        counting,
    )
    .await?;
    let positions = rows.iter().map(|r| r.position).collect();
    let sources = sources_for(db, release, &rows).await?;
    Ok(page(
        with_sources(rows, &sources, Event::from_entity)?,
        positions,
        total,
        next,
        page_request.sort,
    ))
}

/// Every event of the given programs that matches `filter`, grouped by program.
#[tracing::instrument(level = "debug", skip(db, programs, filter), fields(programs = programs.len()))]
pub async fn events_of_programs(
    db: &DatabaseConnection,
    release: &str,
    programs: &[String],
    filter: &EventFilter,
    sort: Sort,
) -> Result<HashMap<String, Vec<(i32, Event)>>, ApiError> {
    let select = event::Entity::find()
        .filter(event_condition(release, filter))
        .filter(event::Column::Program.is_in(programs.iter().map(String::as_str)))
        .order_by_asc(event::Column::Program);
    let rows = order_by_keys(select, &sort_columns::<event::Entity>(sort)?)
        .order_by_asc(event::Column::Position)
        .all(db)
        .await?;
    let positions: Vec<i32> = rows.iter().map(|r| r.position).collect();
    let sources = sources_for(db, release, &rows).await?;
    Ok(group_by_program(
        positions,
        with_sources(rows, &sources, Event::from_entity)?,
        |e| &e.program,
    ))
}

/// The newest events of a release, by date (newest first, then canonical order), at
/// most `limit` (the events feed).
#[tracing::instrument(level = "debug", skip(db))]
pub async fn newest_events(
    db: &DatabaseConnection,
    release: &str,
    limit: u64,
) -> Result<Vec<Event>, ApiError> {
    let rows = event::Entity::find()
        .filter(event::Column::ReleaseId.eq(release))
        .order_by_desc(event::Column::Date)
        .order_by_asc(event::Column::Position)
        .limit(std::cmp::Ord::min(limit, MAX_LIMIT))
        .all(db)
        .await?;
    let sources = sources_for(db, release, &rows).await?;
    with_sources(rows, &sources, Event::from_entity)
}

/// For each of the event ids, the releases that publish it (any order).
#[tracing::instrument(level = "debug", skip(db, ids), fields(ids = ids.len()))]
pub async fn releases_of_events(
    db: &DatabaseConnection,
    ids: &[String],
) -> Result<HashMap<String, Vec<String>>, ApiError> {
    let mut found: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String)> = event::Entity::find()
            .select_only()
            .column(event::Column::Id)
            .column(event::Column::ReleaseId)
            .filter(event::Column::Id.is_in(chunk.iter().map(String::as_str)))
            .into_tuple()
            .all(db)
            .await?;
        for (id, release) in rows {
            found.entry(id).or_default().push(release);
        }
    }
    Ok(found)
}

/// A page of documents.
#[tracing::instrument(level = "debug", skip(db, filter), fields(after = page_request.after, limit = page_request.limit))]
pub async fn list_documents(
    db: &DatabaseConnection,
    release: &str,
    filter: &DocumentFilter,
    page_request: PageRequest,
) -> Result<Page<Document>, ApiError> {
    read_documents(db, release, filter, page_request, Counting::Count).await
}

async fn read_documents(
    db: &DatabaseConnection,
    release: &str,
    filter: &DocumentFilter,
    page_request: PageRequest,
    counting: Counting,
) -> Result<Page<Document>, ApiError> {
    let select = document::Entity::find().filter(document_condition(release, filter));
    let counting = match counting {
        Counting::Count => {
            let DocumentFilter {
                program,
                kind,
                q,
                published,
            } = filter;
            let lists = [
                ("program", program.iter().map(String::as_str).collect()),
                ("kind", texts(kind, DocumentKind::as_str)),
            ];
            let plain = q.is_none() && *published == DateRange::default();
            known_or_count(db, release, "documents", plain, lists).await?
        }
        other => other,
    };
    let (rows, total, next) = fetch_page(
        db,
        release,
        select,
        document::Column::Position,
        page_request,
        counting,
    )
    .await?;
    let positions = rows.iter().map(|r| r.position).collect();
    let sources = sources_for(db, release, &rows).await?;
    Ok(page(
        with_sources(rows, &sources, Document::from_entity)?,
        positions,
        total,
        next,
        page_request.sort,
    ))
}

/// Every document of the given programs that matches `filter`, grouped by program.
#[tracing::instrument(level = "debug", skip(db, programs, filter), fields(programs = programs.len()))]
pub async fn documents_of_programs(
    db: &DatabaseConnection,
    release: &str,
    programs: &[String],
    filter: &DocumentFilter,
    sort: Sort,
) -> Result<HashMap<String, Vec<(i32, Document)>>, ApiError> {
    let select = document::Entity::find()
        .filter(document_condition(release, filter))
        .filter(document::Column::Program.is_in(programs.iter().map(String::as_str)))
        .order_by_asc(document::Column::Program);
    let rows = order_by_keys(select, &sort_columns::<document::Entity>(sort)?)
        .order_by_asc(document::Column::Position)
        .all(db)
        .await?;
    let positions: Vec<i32> = rows.iter().map(|r| r.position).collect();
    let sources = sources_for(db, release, &rows).await?;
    Ok(group_by_program(
        positions,
        with_sources(rows, &sources, Document::from_entity)?,
        |d| &d.program,
    ))
}

/// One document by id.
#[tracing::instrument(level = "debug", skip(db))]
pub async fn get_document(
    db: &DatabaseConnection,
    release: &str,
    id: &str,
) -> Result<Option<Document>, ApiError> {
    let Some(row) = document::Entity::find_by_id((release.to_owned(), id.to_owned()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let sources = sources_for(db, release, std::slice::from_ref(&row)).await?;
    Ok(with_sources(vec![row], &sources, Document::from_entity)?.pop())
}

/// A page of programs.
#[tracing::instrument(level = "debug", skip(db, filter), fields(after = page_request.after, limit = page_request.limit))]
pub async fn list_programs(
    db: &DatabaseConnection,
    release: &str,
    filter: &ProgramFilter,
    page_request: PageRequest,
) -> Result<Page<Program>, ApiError> {
    read_programs(db, release, filter, page_request, Counting::Count).await
}

async fn read_programs(
    db: &DatabaseConnection,
    release: &str,
    filter: &ProgramFilter,
    page_request: PageRequest,
    counting: Counting,
) -> Result<Page<Program>, ApiError> {
    let select = program::Entity::find()
        .filter(program::Column::ReleaseId.eq(release))
        .apply_if(
            one_of(
                program::Column::Status,
                &texts(&filter.status, ProgramStatus::as_str),
            ),
            QueryFilter::filter,
        )
        .apply_if(
            search_condition(program::Column::SearchText, &filter.q),
            QueryFilter::filter,
        );
    let (rows, total, next) = fetch_page(
        db,
        release,
        select,
        program::Column::Position,
        page_request,
        counting,
    )
    .await?;
    let positions = rows.iter().map(|r| r.position).collect();
    let sources = sources_for(db, release, &rows).await?;
    Ok(page(
        with_sources(rows, &sources, Program::from_entity)?,
        positions,
        total,
        next,
        page_request.sort,
    ))
}

/// One program by slug.
#[tracing::instrument(level = "debug", skip(db))]
pub async fn get_program(
    db: &DatabaseConnection,
    release: &str,
    slug: &str,
) -> Result<Option<Program>, ApiError> {
    let Some(row) = program::Entity::find_by_id((release.to_owned(), slug.to_owned()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let sources = sources_for(db, release, std::slice::from_ref(&row)).await?;
    Ok(with_sources(vec![row], &sources, Program::from_entity)?.pop())
}

/// A page of sources.
#[tracing::instrument(level = "debug", skip(db, filter), fields(after = page_request.after, limit = page_request.limit))]
pub async fn list_sources(
    db: &DatabaseConnection,
    release: &str,
    filter: &SourceFilter,
    page_request: PageRequest,
) -> Result<Page<Source>, ApiError> {
    read_sources(db, release, filter, page_request, Counting::Count).await
}

async fn read_sources(
    db: &DatabaseConnection,
    release: &str,
    filter: &SourceFilter,
    page_request: PageRequest,
    counting: Counting,
) -> Result<Page<Source>, ApiError> {
    let select = source::Entity::find()
        .filter(source::Column::ReleaseId.eq(release))
        .apply_if(
            one_of(
                source::Column::Kind,
                &texts(&filter.kind, SourceKind::as_str),
            ),
            QueryFilter::filter,
        )
        .apply_if(
            search_condition(source::Column::SearchText, &filter.q),
            QueryFilter::filter,
        );
    let (rows, total, next) = fetch_page(
        db,
        release,
        select,
        source::Column::Position,
        page_request,
        counting,
    )
    .await?;
    let positions = rows.iter().map(|r| r.position).collect();
    let items = rows
        .into_iter()
        .map(Source::from_entity)
        .collect::<Result<_, _>>()?;
    Ok(page(items, positions, total, next, page_request.sort))
}

/// One source by id.
#[tracing::instrument(level = "debug", skip(db))]
pub async fn get_source(
    db: &DatabaseConnection,
    release: &str,
    id: &str,
) -> Result<Option<Source>, ApiError> {
    let row = source::Entity::find_by_id((release.to_owned(), id.to_owned()))
        .one(db)
        .await?;
    Ok(row.map(Source::from_entity).transpose()?)
}

/// A page of metrics.
#[tracing::instrument(level = "debug", skip(db), fields(after = page_request.after, limit = page_request.limit))]
pub async fn list_metrics(
    db: &DatabaseConnection,
    release: &str,
    page_request: PageRequest,
) -> Result<Page<Metric>, ApiError> {
    read_metrics(db, release, page_request, Counting::Count).await
}

async fn read_metrics(
    db: &DatabaseConnection,
    release: &str,
    page_request: PageRequest,
    counting: Counting,
) -> Result<Page<Metric>, ApiError> {
    let select = metric::Entity::find().filter(metric::Column::ReleaseId.eq(release));
    let (rows, total, next) = fetch_page(
        db,
        release,
        select,
        metric::Column::Position,
        page_request,
        counting,
    )
    .await?;
    let positions = rows.iter().map(|r| r.position).collect();
    Ok(page(
        rows.into_iter().map(Metric::from).collect(),
        positions,
        total,
        next,
        page_request.sort,
    ))
}

/// Metrics by id (for GraphQL's batched `Statistic.metric`).
#[tracing::instrument(level = "debug", skip(db, ids), fields(ids = ids.len()))]
pub async fn metrics_by_id(
    db: &DatabaseConnection,
    release: &str,
    ids: &[String],
) -> Result<HashMap<String, Metric>, ApiError> {
    let rows = metric::Entity::find()
        .filter(metric::Column::ReleaseId.eq(release))
        .filter(metric::Column::Id.is_in(ids.iter().map(String::as_str)))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|m| (m.id.clone(), Metric::from(m)))
        .collect())
}

fn group_by_program<T>(
    positions: Vec<i32>,
    items: Vec<T>,
    program: fn(&T) -> &String,
) -> HashMap<String, Vec<(i32, T)>> {
    let mut grouped: HashMap<String, Vec<(i32, T)>> = HashMap::new();
    for (position, item) in positions.into_iter().zip(items) {
        grouped
            .entry(program(&item).clone())
            .or_default()
            .push((position, item));
    }
    grouped
}

// ---------------------------------------------------------------------------------------
// Facets: counts of rows per value of allow-listed fields, under a collection's filters.

/// The most facets one request asks for.
pub const MAX_FACETS: usize = 4;
/// The most values listed per facet (the rest are counted in `other_count`).
pub const MAX_FACET_VALUES: usize = 100;

/// What a facet groups rows by: a column's value, or the year of a date column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Column(&'static str),
    Year(&'static str),
}

/// The facet fields of one table (see [`facet_fields`]).
pub trait FacetField: Copy + PartialEq + 'static {
    /// The table's name, as in `tables::PUBLISHED`.
    const TABLE: &'static str;
    /// Every field, in the allow-list's order.
    const ALL: &'static [Self];
    /// The field's name, as written in `facet=`.
    fn as_str(self) -> &'static str;
    /// What it groups by.
    fn grouping(self) -> Grouping;
}

/// Facet fields of one table: a GraphQL enum (`<Table>FacetField`) and the allow-list REST's
/// `facet=` is checked against, from one declaration. Only fields with few values (closed
/// vocabularies, catalogue ids, declared dimensions, years) are facets.
macro_rules! facet_fields {
    ($(#[$meta:meta])* $name:ident for $table:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal => $kind:ident($column:literal);)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl FacetField for $name {
            const TABLE: &'static str = $table;
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
            fn grouping(self) -> Grouping {
                match self {
                    $(Self::$variant => Grouping::$kind($column)),+
                }
            }
        }
    };
}

facet_fields! {
    /// A field statistics can be counted by (`facet=`).
    StatisticFacetField for "statistics" {
        /// The program's slug.
        Program = "program" => Column("program");
        /// The metric's id.
        Metric = "metric" => Column("metric");
        /// The dimension (`total` or a breakdown).
        Dimension = "dimension" => Column("dimension");
        /// The category of the dimension.
        Category = "category" => Column("category");
        /// The figure's standing.
        Status = "status" => Column("status");
        /// What the figure counts over its period (null: not stated).
        Basis = "basis" => Column("basis");
        /// The qualifier.
        Qualifier = "qualifier" => Column("qualifier");
        /// The unit.
        Unit = "unit" => Column("unit");
        /// The year of the first day of the period (`period_start`).
        Year = "year" => Year("period_start");
    }
}

facet_fields! {
    /// A field events can be counted by (`facet=`).
    EventFacetField for "events" {
        /// The program's slug.
        Program = "program" => Column("program");
        /// The kind of event.
        Kind = "kind" => Column("kind");
        /// The year of the event's date.
        Year = "year" => Year("date");
    }
}

facet_fields! {
    /// A field documents can be counted by (`facet=`).
    DocumentFacetField for "documents" {
        /// The program's slug.
        Program = "program" => Column("program");
        /// The kind of document.
        Kind = "kind" => Column("kind");
        /// Who issued it.
        Issuer = "issuer" => Column("issuer");
        /// The year it was published (null: undated).
        Year = "year" => Year("published_on");
    }
}

/// The names of `F`'s fields, separated by commas (for messages and docs).
pub fn facet_names<F: FacetField>() -> String {
    F::ALL
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parse `field,field` against `F`'s allow-list; an unknown or empty field, none, or more
/// than [`MAX_FACETS`] is an error naming `parameter`. A field given twice counts once.
pub fn parse_facets<F: FacetField>(text: &str, parameter: &str) -> Result<Vec<F>, ApiError> {
    let mut fields = Vec::new();
    for name in text.split(',') {
        let Some(field) = F::ALL.iter().copied().find(|f| f.as_str() == name) else {
            return Err(ApiError::invalid(
                parameter,
                format!(
                    "{parameter}: {} cannot be counted by {:?}; facet fields: {} (separate with commas)",
                    F::TABLE,
                    crate::error::echo(name),
                    facet_names::<F>()
                ),
            ));
        };
        fields.push(field);
    }
    check_facets(&fields, parameter)
}

/// Check a list of facet fields (REST's parsed `facet=`, GraphQL's `facets:`): at least
/// one, at most [`MAX_FACETS`] once duplicates are dropped (a field given twice counts once).
pub fn check_facets<F: FacetField>(fields: &[F], parameter: &str) -> Result<Vec<F>, ApiError> {
    let mut out: Vec<F> = Vec::new();
    for field in fields {
        if !out.contains(field) {
            out.push(*field);
        }
    }
    if out.is_empty() {
        return Err(ApiError::invalid(
            parameter,
            format!(
                "{parameter} needs at least one field: {}",
                facet_names::<F>()
            ),
        ));
    }
    if out.len() > MAX_FACETS {
        return Err(ApiError::invalid(
            parameter,
            format!(
                "{parameter} takes at most {MAX_FACETS} fields, got {}",
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// Counts of statistics per value of each of `fields`, under `filter`.
#[tracing::instrument(level = "debug", skip(db, filter))]
pub async fn statistic_facets(
    db: &DatabaseConnection,
    release: &str,
    filter: &StatisticFilter,
    fields: &[StatisticFacetField],
) -> Result<Facets, ApiError> {
    let select = statistic::Entity::find()
        .filter(statistic_condition(release, filter))
        .filter(period_bound(db, release, filter.period).await?);
    let unfiltered = *filter == StatisticFilter::default();
    facets_of(db, release, select, fields, unfiltered).await
}

/// Counts of events per value of each of `fields`, under `filter`.
#[tracing::instrument(level = "debug", skip(db, filter))]
pub async fn event_facets(
    db: &DatabaseConnection,
    release: &str,
    filter: &EventFilter,
    fields: &[EventFacetField],
) -> Result<Facets, ApiError> {
    let select = event::Entity::find().filter(event_condition(release, filter));
    let unfiltered = *filter == EventFilter::default();
    facets_of(db, release, select, fields, unfiltered).await
}

/// Counts of documents per value of each of `fields`, under `filter`.
#[tracing::instrument(level = "debug", skip(db, filter))]
pub async fn document_facets(
    db: &DatabaseConnection,
    release: &str,
    filter: &DocumentFilter,
    fields: &[DocumentFacetField],
) -> Result<Facets, ApiError> {
    let select = document::Entity::find().filter(document_condition(release, filter));
    let unfiltered = *filter == DocumentFilter::default();
    facets_of(db, release, select, fields, unfiltered).await
}

/// (value, rows) of each value of one facet field, in no order.
type Groups = Vec<(Option<FacetKey>, u64)>;

/// Unfiltered (`unfiltered`), the counts stored at import (`release_facets`, one query);
/// otherwise one COUNT of the filtered rows and one GROUP BY per field. Only rows are
/// counted (`COUNT(*)`), never a value; the groups are ordered in Rust (count, then value
/// in byte or numeric order), so both databases give the same order whatever their
/// collation.
async fn facets_of<E, F>(
    db: &DatabaseConnection,
    release: &str,
    select: Select<E>,
    fields: &[F],
    unfiltered: bool,
) -> Result<Facets, ApiError>
where
    E: EntityTrait,
    E::Model: Sync,
    E::Column: std::str::FromStr,
    F: FacetField,
{
    if unfiltered && let Some((total, groups)) = stored_facets(db, release, fields).await? {
        return Ok(facets_in_order(total, fields, groups));
    }
    let total = select.clone().count(db).await?;
    let mut groups = Vec::with_capacity(fields.len());
    for field in fields {
        groups.push(facet_groups(db, select.clone(), *field).await?);
    }
    Ok(facets_in_order(total, fields, groups))
}

/// The counts of `fields` stored at import for `release`, and the total (the sum of any
/// one field's counts: each row has one value, or none, of every field); `None` when any
/// field has none stored (a release imported before they were, until `serve` counts it,
/// or an empty table, which counting answers at once).
async fn stored_facets<F: FacetField>(
    db: &DatabaseConnection,
    release: &str,
    fields: &[F],
) -> Result<Option<(u64, Vec<Groups>)>, ApiError> {
    use release_facet::Column as C;
    let rows = release_facet::Entity::find()
        .filter(C::ReleaseId.eq(release))
        .filter(C::TableName.eq(F::TABLE))
        .filter(C::Field.is_in(fields.iter().map(|f| f.as_str())))
        .all(db)
        .await?;
    let mut groups: Vec<Groups> = vec![Vec::new(); fields.len()];
    for row in rows {
        let Some(at) = fields.iter().position(|f| f.as_str() == row.field) else {
            continue;
        };
        let key = match (row.missing, fields[at].grouping()) {
            (true, _) => None,
            (false, Grouping::Column(_)) => Some(FacetKey::Text(row.value)),
            (false, Grouping::Year(_)) => {
                Some(FacetKey::Year(row.value.parse().map_err(|_| {
                    ApiError::internal(anyhow::anyhow!("stored year {:?}", row.value))
                })?))
            }
        };
        groups[at].push((key, u64::try_from(row.row_count).unwrap_or_default()));
    }
    if groups.iter().any(Vec::is_empty) {
        return Ok(None);
    }
    let total = groups[0].iter().map(|(_, n)| n).sum();
    Ok(Some((total, groups)))
}

/// The facets of `fields` from their groups: most rows first, then by value (no value
/// last), at most [`MAX_FACET_VALUES`] values, the rest counted in `other_count`.
fn facets_in_order<F: FacetField>(total: u64, fields: &[F], groups: Vec<Groups>) -> Facets {
    let mut facets = Vec::with_capacity(fields.len());
    for (field, mut groups) in fields.iter().zip(groups) {
        groups.sort_by(|(a, m), (b, n)| {
            n.cmp(m).then_with(|| match (a, b) {
                (Some(a), Some(b)) => a.cmp(b),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
        });
        let other_count = groups.iter().skip(MAX_FACET_VALUES).map(|(_, n)| n).sum();
        groups.truncate(MAX_FACET_VALUES);
        facets.push(Facet {
            facet: field.as_str().to_owned(),
            values: groups
                .into_iter()
                .map(|(value, count)| FacetValue {
                    value: value.map(FacetKey::shown),
                    count,
                })
                .collect(),
            other_count,
        });
    }
    Facets { total, facets }
}

/// The rows of `select` per value of `field` (one GROUP BY), in no order.
async fn facet_groups<C, E, F>(
    db: &C,
    select: Select<E>,
    field: F,
) -> Result<Groups, sea_orm::DbErr>
where
    C: ConnectionTrait,
    E: EntityTrait,
    E::Column: std::str::FromStr,
    F: FacetField,
{
    let column = |name: &str| {
        <E::Column as std::str::FromStr>::from_str(name)
            .map(|c| Expr::col((E::default(), c)))
            .map_err(|_| sea_orm::DbErr::Custom(format!("no column {name} to count by")))
    };
    Ok(match field.grouping() {
        Grouping::Column(name) => grouped::<C, E, Option<String>>(db, select, column(name)?)
            .await?
            .into_iter()
            .map(|(v, n)| (v.map(FacetKey::Text), n))
            .collect(),
        Grouping::Year(name) => {
            let date = column(name)?;
            let year = match db.get_database_backend() {
                sea_orm::DbBackend::Postgres => {
                    Expr::cust_with_expr("CAST(EXTRACT(YEAR FROM $1) AS BIGINT)", date)
                }
                // SQLite's placeholder is `?` (PostgreSQL's `$1`).
                _ => Expr::cust_with_expr("CAST(strftime('%Y', ?) AS INTEGER)", date),
            };
            grouped::<C, E, Option<i64>>(db, select, year)
                .await?
                .into_iter()
                .map(|(v, n)| (v.map(FacetKey::Year), n))
                .collect()
        }
    })
}

/// The row count of every value (and of no value) of every facet field of the
/// statistics, events and documents of `release`, counted in the database as the
/// facets count them: what the importer stores (`release_facets`), read back by
/// unfiltered facets and by the totals of pages filtered on one facet field.
pub async fn count_facets<C: ConnectionTrait>(
    db: &C,
    release: &str,
) -> Result<Vec<release_facet::Model>, sea_orm::DbErr> {
    async fn of<C, E, F>(
        db: &C,
        release: &str,
        select: Select<E>,
        out: &mut Vec<release_facet::Model>,
    ) -> Result<(), sea_orm::DbErr>
    where
        C: ConnectionTrait,
        E: EntityTrait,
        E::Column: std::str::FromStr,
        F: FacetField,
    {
        for field in F::ALL {
            let mut groups = facet_groups(db, select.clone(), *field).await?;
            // In value order, numbered: the same rows whoever counts them, so a second
            // instance counting the same release at once adds nothing (the key is the
            // number, not the value, which may be kilobytes of text).
            groups.sort_by(|(a, _), (b, _)| a.cmp(b));
            for (ordinal, (key, count)) in groups.into_iter().enumerate() {
                out.push(release_facet::Model {
                    release_id: release.to_owned(),
                    table_name: F::TABLE.to_owned(),
                    field: field.as_str().to_owned(),
                    ordinal: i32::try_from(ordinal).unwrap_or(i32::MAX),
                    missing: key.is_none(),
                    value: key.map(FacetKey::shown).unwrap_or_default(),
                    row_count: i64::try_from(count).unwrap_or(i64::MAX),
                });
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    let statistics = statistic::Entity::find().filter(statistic::Column::ReleaseId.eq(release));
    of::<_, _, StatisticFacetField>(db, release, statistics, &mut out).await?;
    let events = event::Entity::find().filter(event::Column::ReleaseId.eq(release));
    of::<_, _, EventFacetField>(db, release, events, &mut out).await?;
    let documents = document::Entity::find().filter(document::Column::ReleaseId.eq(release));
    of::<_, _, DocumentFacetField>(db, release, documents, &mut out).await?;
    Ok(out)
}

/// A facet's value while the groups are ordered.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum FacetKey {
    Text(String),
    Year(i64),
}

impl FacetKey {
    /// The value as a facet shows it (a year as four digits).
    fn shown(self) -> String {
        match self {
            FacetKey::Text(text) => text,
            FacetKey::Year(year) => format!("{year:04}"),
        }
    }
}

/// (value of `expr`, rows) for every value of `expr` among the rows of `select`.
async fn grouped<C, E, V>(
    db: &C,
    select: Select<E>,
    expr: Expr,
) -> Result<Vec<(V, u64)>, sea_orm::DbErr>
where
    C: ConnectionTrait,
    E: EntityTrait,
    V: sea_orm::TryGetable,
{
    let rows: Vec<(V, i64)> = select
        .select_only()
        .column_as(expr.clone(), "facet_value")
        .column_as(Expr::cust("COUNT(*)"), "facet_count")
        .group_by(expr)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(v, n)| (v, u64::try_from(n).unwrap_or_default()))
        .collect())
}

/// The latest figures (`/api/v1/statistics/latest`, GraphQL `latestStatistics`): of the
/// rows matching `filter`, for each (program, metric, dimension, category) the one with
/// the latest `period_end`. Ties (several rows ending on that day) go to the latest
/// `period_start` (the shortest period ending then), then to the canonical order (the
/// lowest position; the importer refuses two rows of one series with the same period, so
/// this last rule only makes the choice total). Nothing about a value enters the choice, so a suppressed row can be
/// the latest figure, and shows as suppressed. Paged and sorted like `list_statistics`.
///
/// Releases never change, so the importer flags each series' latest row
/// (`statistics.latest`, `seed::mark_latest`). Under no filter, or filters that keep or
/// drop whole series (program, metric, dimension, category), the latest rows are the
/// flagged ones among those matching: an index range (`statistics_latest`). Any other
/// filter can change which row of a series is the latest (a period window, a status, a
/// basis, a qualifier, published or suppressed values: none is constant within a series
/// in general), so the latest rows are then computed ([`latest_positions`]).
#[tracing::instrument(level = "debug", skip(db, filter), fields(after = page_request.after, limit = page_request.limit))]
pub async fn list_latest_statistics(
    db: &DatabaseConnection,
    release: &str,
    filter: &StatisticFilter,
    page_request: PageRequest,
) -> Result<Page<Statistic>, ApiError> {
    let series_level = filter.status.is_empty()
        && filter.basis.is_empty()
        && filter.qualifier.is_empty()
        && filter.suppressed.is_none()
        && filter.period == DateRange::default();
    let select = if series_level {
        statistic::Entity::find()
            .filter(statistic_condition(release, filter))
            .filter(statistic::Column::Latest.eq(true))
    } else {
        statistic::Entity::find()
            .filter(statistic::Column::ReleaseId.eq(release))
            .filter(statistic::Column::Position.in_subquery(latest_positions(release, filter)))
    };
    let (rows, total, next) = fetch_page(
        db,
        release,
        select,
        statistic::Column::Position,
        page_request,
        Counting::Count,
    )
    .await?;
    let positions = rows.iter().map(|r| r.position).collect();
    let sources = sources_for(db, release, &rows).await?;
    Ok(page(
        with_sources(rows, &sources, Statistic::from_entity)?,
        positions,
        total,
        next,
        page_request.sort,
    ))
}

/// The positions of the latest figures among the rows matching `filter`: for each series
/// (program, metric, dimension, category) with a matching row, its first matching row in
/// the order of the tie rule of [`list_latest_statistics`]. The series come from a
/// `DISTINCT` and each latest row from one `LIMIT 1` read of the index
/// `statistics_series_latest`, which holds the rows in exactly that order (SQLite skips
/// from series to series in it: 5 ms for the 6,674 series of a million rows, against
/// 0.9 s for a window function ranking every row; docs/performance.md).
pub(crate) fn latest_positions(
    release: &str,
    filter: &StatisticFilter,
) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Alias, Query, SubQueryStatement};
    use statistic::Column as C;
    let series = [C::Program, C::Metric, C::Dimension, C::Category];
    let groups = Query::select()
        .distinct()
        .columns(series)
        .from(statistic::Entity)
        .cond_where(statistic_condition(release, filter))
        .to_owned();
    let mut of_series = statistic_condition(release, filter);
    for column in series {
        of_series = of_series
            .add(Expr::col((statistic::Entity, column)).equals((Alias::new("series"), column)));
    }
    let latest = Query::select()
        .column((statistic::Entity, C::Position))
        .from(statistic::Entity)
        .cond_where(of_series)
        .order_by((statistic::Entity, C::PeriodEnd), Order::Desc)
        .order_by((statistic::Entity, C::PeriodStart), Order::Desc)
        .order_by((statistic::Entity, C::Position), Order::Asc)
        .limit(1)
        .to_owned();
    Query::select()
        .expr_as(
            Expr::SubQuery(None, Box::new(SubQueryStatement::from(latest))),
            Alias::new("position"),
        )
        .from_subquery(groups, Alias::new("series"))
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let cursor = Cursor {
            release: "a".repeat(64),
            position: 42,
            sort: String::new(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        let sorted = Cursor {
            release: "a".repeat(64),
            position: 42,
            sort: "-value,period_start".into(),
        };
        assert_eq!(Cursor::decode(&sorted.encode()), Some(sorted));
        assert_eq!(Cursor::decode("not-a-cursor"), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("v1.short.3")), None);
        assert_eq!(
            Cursor::decode(&URL_SAFE_NO_PAD.encode(format!("v1.{}.-1", "a".repeat(64)))),
            None
        );
    }

    #[test]
    fn loaded_rows_page_like_the_database() {
        let release = "b".repeat(64);
        let rows: Vec<(i32, &str)> = vec![(2, "a"), (5, "b"), (9, "c")];
        let first = page_of_loaded(&release, &rows, PageRequest::first(2));
        assert_eq!(first.items, vec!["a", "b"]);
        assert_eq!(first.positions, vec![2, 5]);
        assert_eq!(first.total, 3);
        let next = first.next.expect("a third row follows");
        assert_eq!(next.position, 5);
        let second = page_of_loaded(
            &release,
            &rows,
            PageRequest {
                after: 5,
                ..PageRequest::first(2)
            },
        );
        assert_eq!(second.items, vec!["c"]);
        assert_eq!(second.next, None);
        let exact = page_of_loaded(&release, &rows, PageRequest::first(3));
        assert_eq!(exact.next, None, "no next cursor when nothing follows");
    }

    #[test]
    fn control_characters_are_refused_and_other_text_is_not() {
        for bad in [
            "\0",
            "a\0b",
            "\u{1b}[31m",
            "tab\there",
            "line\n",
            "\u{7f}",
            "\u{85}",
        ] {
            let error = check_text("program", bad).unwrap_err();
            assert_eq!(error.parameter(), Some("program"), "{bad:?}");
            assert_eq!(error.status(), 400);
        }
        for good in ["citykey", "Ñuñoa – “quoted”", "50% off", "", "日本語 🌍"] {
            assert!(check_text("q", good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn every_sortable_field_is_a_column_of_its_table() {
        use std::str::FromStr;
        fn columns<C: FromStr>(table: &str) {
            let fields = sort_fields(table);
            assert!(
                !fields.is_empty() && fields.len() <= MAX_SORT_KEYS,
                "{table}"
            );
            for (field, _) in fields {
                assert!(C::from_str(field).is_ok(), "{table}.{field}");
            }
        }
        columns::<statistic::Column>("statistics");
        columns::<event::Column>("events");
        columns::<document::Column>("documents");
        columns::<program::Column>("programs");
        columns::<source::Column>("sources");
        columns::<metric::Column>("metrics");
        for table in crate::tables::PUBLISHED {
            assert!(
                !sort_fields(table.name).is_empty(),
                "{} is sortable",
                table.name
            );
        }
    }

    #[test]
    fn sorts_parse_to_their_normal_form_and_refuse_unknown_fields() {
        let sort = Sort::parse("statistics", "-value,period_start,-value", "sort").unwrap();
        assert_eq!(sort.spec(), "-value,period_start");
        assert!(Sort::parse("statistics", "", "sort").is_err());
        assert!(Sort::parse("statistics", "position", "sort").is_err());
        assert!(Sort::parse("events", "value", "sort").is_err());
        assert!(Sort::CANONICAL.is_canonical());
        let every = StatisticSortField::FIELDS
            .iter()
            .map(|(f, _)| format!("-{f}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            Sort::parse("statistics", &every, "sort").unwrap().spec(),
            every
        );
    }
}
