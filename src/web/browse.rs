//! `/browse/{table}`: a table of a release as an HTML page, with the API's filters and
//! paging. The parameters are read by the API's own parameter structs and the rows come
//! from the same query functions, in the same columns as the API's CSV (the cells are the
//! CSV's cells), so `/browse/statistics?program=citykey` shows exactly the rows of
//! `/api/v1/statistics?program=citykey`. A column header of a sortable field links to the
//! same view sorted by it (the API's `sort`; again to reverse it), so the page's rows are
//! the rows of `/api/v1/{table}?sort=...`.

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::response::Response;

use super::layout::{self, Head};
use super::respond_page;
use super::text::esc;
use crate::csv::CsvRecord;
use crate::error::{ApiError, echo};
use crate::query::{
    self, Cursor, DocumentFilter, EventFilter, Page, PageRequest, ProgramFilter, SourceFilter,
    StatisticFilter,
};
use crate::rest::{
    ApiQuery, DocumentListParams, EventListParams, ListParams, MetricListParams, ProgramListParams,
    QueryParams, SourceListParams, StatisticListParams, param_names,
};
use crate::state::AppState;
use crate::tables::{self, Table};
use crate::vocabulary::{
    Basis, DocumentKind, EventKind, ProgramStatus, SourceKind, StatisticStatus,
};

/// A table's filter, read by the API's parameter struct for that table.
#[derive(Debug, Clone)]
pub enum Filter {
    Statistics(StatisticFilter),
    Events(EventFilter),
    Documents(DocumentFilter),
    Programs(ProgramFilter),
    Sources(SourceFilter),
    Metrics,
}

impl Filter {
    /// The filter `request` asks for on `table`; unknown or malformed parameters are the
    /// API's 400s. The allowed names are the paging parameters and the table's filters.
    pub fn read(table: &Table, request: &ApiQuery) -> Result<Filter, ApiError> {
        Ok(match table.name {
            "statistics" => {
                Filter::Statistics(request.list_params::<StatisticListParams>()?.filter()?)
            }
            "events" => Filter::Events(request.list_params::<EventListParams>()?.filter()?),
            "documents" => {
                Filter::Documents(request.list_params::<DocumentListParams>()?.filter()?)
            }
            "programs" => Filter::Programs(request.list_params::<ProgramListParams>()?.filter()),
            "sources" => Filter::Sources(request.list_params::<SourceListParams>()?.filter()),
            _ => {
                request.list_params::<MetricListParams>()?;
                Filter::Metrics
            }
        })
    }

    /// No filter: every row of `table`.
    pub fn all(table: &Table) -> Filter {
        match table.name {
            "statistics" => Filter::Statistics(Default::default()),
            "events" => Filter::Events(Default::default()),
            "documents" => Filter::Documents(Default::default()),
            "programs" => Filter::Programs(Default::default()),
            "sources" => Filter::Sources(Default::default()),
            _ => Filter::Metrics,
        }
    }

    /// The names of the table's filter parameters, as the API documents them.
    fn names(table: &Table) -> Vec<String> {
        match table.name {
            "statistics" => param_names::<StatisticListParams>(),
            "events" => param_names::<EventListParams>(),
            "documents" => param_names::<DocumentListParams>(),
            "programs" => param_names::<ProgramListParams>(),
            "sources" => param_names::<SourceListParams>(),
            _ => param_names::<MetricListParams>(),
        }
    }

    /// One page of rows, from the query layer, as the cells of the API's CSV.
    pub async fn fetch(
        &self,
        state: &AppState,
        release: &str,
        page: PageRequest,
    ) -> Result<TablePage, ApiError> {
        let db = &state.db;
        Ok(match self {
            Filter::Statistics(f) => cells(query::list_statistics(db, release, f, page).await?),
            Filter::Events(f) => cells(query::list_events(db, release, f, page).await?),
            Filter::Documents(f) => cells(query::list_documents(db, release, f, page).await?),
            Filter::Programs(f) => cells(query::list_programs(db, release, f, page).await?),
            Filter::Sources(f) => cells(query::list_sources(db, release, f, page).await?),
            Filter::Metrics => cells(query::list_metrics(db, release, page).await?),
        })
    }
}

/// A page of rows as text cells, under the CSV header.
#[derive(Debug)]
pub struct TablePage {
    pub header: &'static [&'static str],
    pub rows: Vec<Vec<String>>,
    pub total: u64,
    pub next: Option<Cursor>,
}

/// The rows of a page as the API's CSV renders them (same columns, same text).
fn cells<T: CsvRecord>(page: Page<T>) -> TablePage {
    let csv = crate::csv::render(&page.items, false);
    let rows = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv.as_slice())
        .records()
        .filter_map(Result::ok)
        .map(|record| record.iter().map(str::to_owned).collect())
        .collect();
    TablePage {
        header: T::HEADER,
        rows,
        total: page.total,
        next: page.next,
    }
}

/// The allowed values of a filter that takes one of a closed list.
fn choices(table: &str, name: &str) -> Option<&'static [&'static str]> {
    match (table, name) {
        ("statistics", "status") => Some(StatisticStatus::VALUES),
        ("statistics", "basis") => Some(Basis::VALUES),
        ("events", "kind") => Some(EventKind::VALUES),
        ("documents", "kind") => Some(DocumentKind::VALUES),
        ("programs", "status") => Some(ProgramStatus::VALUES),
        ("sources", "kind") => Some(SourceKind::VALUES),
        _ => None,
    }
}

/// Browse a table
///
/// Served at `/browse/{table}` as HTML: the filters and paging parameters of
/// `/api/v1/{table}` (empty form fields are ignored), the rows in the API's CSV columns,
/// a next-page link and "download this view".
pub async fn browse(
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    query::check_text("table", &name)?;
    let request = request.without_empty();
    let table = tables::PUBLISHED
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| ApiError::NotFound {
            parameter: Some("table".into()),
            detail: format!(
                "no table {:?}; available: {}",
                echo(&name),
                tables::PUBLISHED.map(|t| t.name).join(", ")
            ),
        })?;
    let filter = Filter::read(table, &request)?;
    let paging = ListParams::read(&request)?;
    if paging.asks_for_a_format() {
        return Err(ApiError::invalid(
            if request.text("format").is_some() {
                "format"
            } else {
                "bom"
            },
            format!(
                "/browse/{} is HTML; for CSV ask /api/v1/{}?format=csv (the page's \"download this view\" link)",
                table.name, table.name
            ),
        ));
    }
    let sort = crate::rest::sort_of(&request, table.name)?;
    let (release, page_request) = paging.resolve_page(&state.releases, sort).await?;
    respond_page(&state, &request, &release, async || {
        let page = filter.fetch(&state, &release.id, page_request).await?;
        let body = body(&request, table, &release.id, &page, page_request);
        let title = format!("Browse {} — sanctuary-data", table.name);
        let description = format!(
            "The {} table of sanctuary-data, filterable and paged like the API: {}",
            table.name, table.description
        );
        Ok(layout::page(
            &Head {
                title: &title,
                description: &description,
                json_ld: None,
            },
            &release,
            &body,
        ))
    })
    .await
}

/// A column header: a link that sorts the view by the column when the table can be
/// sorted by it (ascending; descending when the view is sorted ascending by it already),
/// with `aria-sort` on the column the view is sorted by first.
fn column_header(request: &ApiQuery, table: &Table, column: &str, sort: query::Sort) -> String {
    if !query::sort_fields(table.name)
        .iter()
        .any(|(field, _)| *field == column)
    {
        return format!("<th scope=\"col\">{column}</th>");
    }
    let first = sort.keys().next().filter(|k| k.field == column);
    let (aria, next) = match first {
        Some(k) if !k.descending => (" aria-sort=\"ascending\"", format!("-{column}")),
        Some(_) => (" aria-sort=\"descending\"", column.to_owned()),
        None => ("", column.to_owned()),
    };
    let mut query = request.normalized(&["cursor", "sort"]);
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(
        &url::form_urlencoded::Serializer::new(String::new())
            .append_pair("sort", &next)
            .finish(),
    );
    format!(
        "<th scope=\"col\"{aria}><a class=\"sort\" href=\"/browse/{}?{}\" title=\"Sort by {column}\">{column}</a></th>",
        table.name,
        esc(&query)
    )
}

fn body(
    request: &ApiQuery,
    table: &Table,
    release: &str,
    page: &TablePage,
    page_request: PageRequest,
) -> String {
    let limit = page_request.limit;
    let mut html = String::with_capacity(32 * 1024);
    let name = table.name;
    let _ = write!(
        html,
        "<h1>Browse: {name}</h1><p>{}</p><nav aria-label=\"Tables\"><p>Tables:",
        esc(table.description)
    );
    for t in tables::PUBLISHED {
        if t.name == name {
            let _ = write!(html, " <strong aria-current=\"page\">{}</strong>", t.name);
        } else {
            let _ = write!(html, " <a href=\"/browse/{0}\">{0}</a>", t.name);
        }
    }
    html.push_str("</p></nav>");

    // The filter form: the API's parameters, empty fields ignored.
    let _ = write!(
        html,
        "<form class=\"filters\" method=\"get\" action=\"/browse/{name}\" aria-label=\"Filter the rows\">"
    );
    for field in Filter::names(table) {
        if field == "sort" {
            // Chosen with the column headers; kept by a hidden field below.
            continue;
        }
        let value = request.text(&field).unwrap_or_default();
        let control = match choices(name, &field) {
            Some(values) => {
                let mut select = format!(
                    "<select id=\"f-{field}\" name=\"{field}\"><option value=\"\">any</option>"
                );
                for v in values {
                    let _ = write!(
                        select,
                        "<option{}>{v}</option>",
                        if *v == value { " selected" } else { "" }
                    );
                }
                select.push_str("</select>");
                select
            }
            None => format!(
                "<input id=\"f-{field}\" name=\"{field}\" type=\"{}\" value=\"{}\" size=\"14\">",
                if field == "from" || field == "to" {
                    "date"
                } else {
                    "text"
                },
                esc(&value)
            ),
        };
        let _ = write!(html, "<label for=\"f-{field}\">{field}{control}</label>");
    }
    let _ = write!(
        html,
        "<label for=\"f-limit\">rows per page<input id=\"f-limit\" name=\"limit\" type=\"number\" min=\"1\" max=\"{}\" value=\"{limit}\" size=\"5\"></label>",
        query::MAX_LIMIT
    );
    if let Some(sort) = request.text("sort") {
        let _ = write!(
            html,
            "<input type=\"hidden\" name=\"sort\" value=\"{}\">",
            esc(&sort)
        );
    }
    if let Some(pinned) = request.text("release") {
        let _ = write!(
            html,
            "<input type=\"hidden\" name=\"release\" value=\"{}\">",
            esc(&pinned)
        );
    }
    let _ = write!(
        html,
        "<button type=\"submit\">Show rows</button> <a href=\"/browse/{name}\">clear</a></form>"
    );

    // What is shown, and how to take it away.
    let mut api_query = request.normalized(&["release"]);
    if !api_query.is_empty() {
        api_query.push('&');
    }
    let _ = write!(
        html,
        "<p id=\"row-count\">{shown} of {total} matching rows shown.</p><p class=\"downloads\">Download this view: <a class=\"button\" id=\"download-view-csv\" href=\"/api/v1/{name}?{q}release={release}&amp;format=csv\">CSV</a><a class=\"button\" id=\"download-view-json\" href=\"/api/v1/{name}?{q}release={release}\">JSON</a> The whole table: <a class=\"button\" href=\"/downloads/{name}.csv?release={release}\">{name}.csv</a><a class=\"button\" href=\"/downloads/{name}.xlsx?release={release}\">{name}.xlsx</a></p>",
        shown = page.rows.len(),
        total = page.total,
        q = esc(&api_query),
        release = esc(release),
    );

    let _ = write!(
        html,
        "<div class=\"table-wrap\" role=\"region\" aria-labelledby=\"rows-caption\" tabindex=\"0\"><table class=\"browse\" id=\"rows\"><caption id=\"rows-caption\" class=\"note\">{name}, in the API's order and columns (select a column's name to sort by it)</caption><thead><tr>"
    );
    for column in page.header {
        html.push_str(&column_header(request, table, column, page_request.sort));
    }
    html.push_str("</tr></thead><tbody>");
    for row in &page.rows {
        html.push_str("<tr>");
        for cell in row {
            // Long text gets room to wrap in lines, not letter by letter.
            let class = if cell.chars().count() > 60 {
                " class=\"long\""
            } else {
                ""
            };
            let _ = write!(html, "<td{class}>{}</td>", esc(cell));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    if let Some(cursor) = &page.next {
        let _ = write!(
            html,
            "<p><a class=\"button\" id=\"next-page\" rel=\"next\" href=\"{}\">Next page</a></p>",
            esc(&crate::rest::next_link(request, release, cursor))
        );
    }
    html
}
