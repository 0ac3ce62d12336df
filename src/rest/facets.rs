//! `/api/v1/{statistics,events,documents}/facets`: how many rows per value of a few
//! fields, under the same filters as the collection.
//!
//! A facet counts rows (`COUNT(*)`), never values: a suppressed figure is a row the
//! collection lists (with its value hidden), so it counts as one, and each count equals
//! the `X-Total-Count` of the collection narrowed to that value. Nothing about a hidden
//! value enters a count (docs/disclosure-control.md, rule 8).

use std::marker::PhantomData;

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterIn};

use super::{
    ApiQuery, DocumentListParams, EventListParams, ItemMeta, ItemResponse, QueryParams,
    StatisticListParams, param_names, render_json, rendered, respond,
};
use crate::csv::{CSV_CONTENT_TYPE, Cells, CsvRecord};
use crate::error::{ApiError, Problem};
use crate::model::Facets;
use crate::query::{self, DocumentFacetField, EventFacetField, FacetField, StatisticFacetField};
use crate::state::AppState;

/// Parameters of a collection that are not filters: they order or shape rows, which a
/// count has none of.
const NOT_FILTERS: &[&str] = &["sort", "fields"];

/// The filters of collection parameters `P` (all of `P` but [`NOT_FILTERS`]): what a
/// facets request takes besides its own parameters, documented from the same struct.
#[allow(dead_code)] // a marker type: only its `IntoParams` is used
pub struct FiltersOf<P>(PhantomData<P>);

impl<P: IntoParams> IntoParams for FiltersOf<P> {
    fn into_params(parameter_in_provider: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        P::into_params(parameter_in_provider)
            .into_iter()
            .filter(|p| !NOT_FILTERS.contains(&p.name.as_str()))
            .collect()
    }
}

type StatisticFilters = FiltersOf<StatisticListParams>;
type EventFilters = FiltersOf<EventListParams>;
type DocumentFilters = FiltersOf<DocumentListParams>;

/// The parameters of a facets request besides the filters.
macro_rules! facet_params {
    ($name:ident, $doc:literal, $example:literal, $pattern:literal) => {
        #[derive(Debug, Deserialize, IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            #[doc = $doc]
            #[param(example = $example, pattern = $pattern)]
            facet: String,
            /// A release id (64 hex digits, or a unique prefix of at least 8, see
            /// `/api/v1/releases`); default: the latest release.
            #[param(pattern = "^[0-9a-f]{8,64}$")]
            release: Option<String>,
            /// `json` (default) or `csv` (columns `facet,value,count`); overrides the
            /// `Accept` header.
            #[param(pattern = "^(json|csv)$")]
            format: Option<String>,
            /// With CSV: prefix a UTF-8 byte order mark so Excel reads accents correctly
            /// (ignored for JSON).
            bom: Option<bool>,
        }

        impl QueryParams for $name {
            fn read(request: &ApiQuery) -> Result<Self, ApiError> {
                Ok($name {
                    facet: request.text("facet").ok_or_else(|| {
                        ApiError::invalid("facet", "facet is required: the fields to count by")
                    })?,
                    release: request.text("release"),
                    format: request.text("format"),
                    bom: request.boolean("bom")?,
                })
            }
        }

        impl FacetRequest for $name {
            fn parts(self) -> (String, Option<String>, Option<String>, Option<bool>) {
                (self.facet, self.release, self.format, self.bom)
            }
        }
    };
}

/// The common parts of the facet parameter structs.
trait FacetRequest: QueryParams {
    /// (facet, release, format, bom).
    fn parts(self) -> (String, Option<String>, Option<String>, Option<bool>);
}

facet_params!(
    StatisticFacetParams,
    "The fields to count rows by, separated by commas (at most 4): `program`, `metric`, `dimension`, `category`, `status`, `basis`, `qualifier`, `unit`, `year` (the year of `period_start`).",
    "program,metric,year",
    "^(program|metric|dimension|category|status|basis|qualifier|unit|year)(,(program|metric|dimension|category|status|basis|qualifier|unit|year)){0,3}$"
);
facet_params!(
    EventFacetParams,
    "The fields to count rows by, separated by commas (at most 4): `program`, `kind`, `year` (the year of the event's `date`).",
    "program,kind,year",
    "^(program|kind|year)(,(program|kind|year)){0,3}$"
);
facet_params!(
    DocumentFacetParams,
    "The fields to count rows by, separated by commas (at most 4): `program`, `kind`, `issuer`, `year` (the year of `published_on`; null for undated documents).",
    "program,kind,year",
    "^(program|kind|issuer|year)(,(program|kind|issuer|year)){0,3}$"
);

/// One CSV row of a facets answer.
struct FacetRow<'a> {
    facet: &'a str,
    value: Option<&'a str>,
    count: u64,
}

impl CsvRecord for FacetRow<'_> {
    const HEADER: &'static [&'static str] = &["facet", "value", "count"];
    fn write<C: Cells>(&self, out: &mut C) {
        out.text(self.facet);
        out.opt_text(self.value);
        out.number(i64::try_from(self.count).ok());
    }
}

/// The shared body of the facet handlers: check the parameter names (the facet
/// parameters `P` and the collection's filters `L`), read the filters with `L`, parse
/// `facet` against `F`, and answer JSON or CSV through the representation cache.
async fn facets<P, L, F, C>(
    state: &AppState,
    request: &ApiQuery,
    table: &str,
    count: C,
) -> Result<Response, ApiError>
where
    P: FacetRequest,
    L: QueryParams,
    F: FacetField,
    C: AsyncFnOnce(&AppState, &str, L, Vec<F>) -> Result<Facets, ApiError>,
{
    let mut allowed = param_names::<P>();
    allowed.extend(param_names::<FiltersOf<L>>());
    request.check_names(&allowed)?;
    let filters = L::read(request)?;
    let (facet, release, format, bom) = P::read(request)?.parts();
    let fields = query::parse_facets::<F>(&facet, "facet")?;
    let representation = request.representation(format.as_deref(), bom, true)?;
    let release = query::resolve_release(&state.releases, release.as_deref()).await?;
    let file_stem = format!(
        "{}-facets",
        crate::model::release_file_stem(table, &release)
    );
    respond(state, request, &release.id, representation, async || {
        let facets = count(state, &release.id, filters, fields).await?;
        let total = facets.total;
        let mut out = match representation {
            super::Representation::Json => render_json(
                &ItemResponse {
                    data: facets,
                    meta: ItemMeta::new(&release.id),
                },
                &release.id,
            )?,
            super::Representation::Csv { bom } => {
                let rows: Vec<FacetRow> = facets
                    .facets
                    .iter()
                    .flat_map(|facet| {
                        facet.values.iter().map(|v| FacetRow {
                            facet: &facet.facet,
                            value: v.value.as_deref(),
                            count: v.count,
                        })
                    })
                    .collect();
                let mut out = rendered(
                    crate::csv::render(&rows, bom),
                    CSV_CONTENT_TYPE,
                    &release.id,
                );
                out.disposition = Some(format!("attachment; filename=\"{file_stem}.csv\""));
                out
            }
        };
        out.total = Some(total);
        Ok(out)
    })
    .await
}

/// Count statistics by field
///
/// How many figures there are per value of up to four fields (`facet=program,metric,year`),
/// under the same filters as `/api/v1/statistics`. Counts are of rows, never sums of
/// values: a suppressed figure counts as the row it is, and each count equals the
/// `X-Total-Count` of the collection narrowed to that value. At most 100 values per facet,
/// most rows first (the rest in `other_count`). CSV: one row per value, `facet,value,count`.
#[utoipa::path(
    get,
    path = "/statistics/facets",
    tag = "statistics",
    params(StatisticFacetParams, StatisticFilters),
    responses(
        (status = 200, description = "Counts per value (JSON, or CSV with `format=csv` / `Accept: text/csv`).",
            content((ItemResponse<Facets> = "application/json"), (String = "text/csv")),
            headers(("ETag" = String), ("X-Data-Release" = String), ("X-Total-Count" = u64, description = "Rows matching the filters (as `data.total`)"))),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)."),
        (status = 400, description = "A parameter is unknown or malformed (an unknown facet field names `facet`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header asks for neither JSON nor CSV.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn statistic_facets(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    facets::<StatisticFacetParams, StatisticListParams, StatisticFacetField, _>(
        &state,
        &request,
        "statistics",
        async |state, release, params, fields| {
            query::statistic_facets(&state.db, release, &params.filter()?, &fields).await
        },
    )
    .await
}

/// Count events by field
///
/// How many events there are per value of `program`, `kind` or `year` (of the event's
/// date), under the same filters as `/api/v1/events`. CSV: `facet,value,count`.
#[utoipa::path(
    get,
    path = "/events/facets",
    tag = "events",
    params(EventFacetParams, EventFilters),
    responses(
        (status = 200, description = "Counts per value (JSON, or CSV with `format=csv` / `Accept: text/csv`).",
            content((ItemResponse<Facets> = "application/json"), (String = "text/csv")),
            headers(("ETag" = String), ("X-Data-Release" = String), ("X-Total-Count" = u64, description = "Rows matching the filters (as `data.total`)"))),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)."),
        (status = 400, description = "A parameter is unknown or malformed (an unknown facet field names `facet`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header asks for neither JSON nor CSV.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn event_facets(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    facets::<EventFacetParams, EventListParams, EventFacetField, _>(
        &state,
        &request,
        "events",
        async |state, release, params, fields| {
            query::event_facets(&state.db, release, &params.filter()?, &fields).await
        },
    )
    .await
}

/// Count documents by field
///
/// How many documents there are per value of `program`, `kind`, `issuer` or `year` (of
/// `published_on`; null for undated documents), under the same filters as
/// `/api/v1/documents`. CSV: `facet,value,count`.
#[utoipa::path(
    get,
    path = "/documents/facets",
    tag = "documents",
    params(DocumentFacetParams, DocumentFilters),
    responses(
        (status = 200, description = "Counts per value (JSON, or CSV with `format=csv` / `Accept: text/csv`).",
            content((ItemResponse<Facets> = "application/json"), (String = "text/csv")),
            headers(("ETag" = String), ("X-Data-Release" = String), ("X-Total-Count" = u64, description = "Rows matching the filters (as `data.total`)"))),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)."),
        (status = 400, description = "A parameter is unknown or malformed (an unknown facet field names `facet`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header asks for neither JSON nor CSV.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn document_facets(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    facets::<DocumentFacetParams, DocumentListParams, DocumentFacetField, _>(
        &state,
        &request,
        "documents",
        async |state, release, params, fields| {
            query::document_facets(&state.db, release, &params.filter()?, &fields).await
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented `facet` pattern lists exactly the allow-list.
    #[test]
    fn facet_parameters_document_the_allow_list() {
        fn documented<P: IntoParams, F: FacetField>() {
            let params = P::into_params(|| None);
            let facet = params.iter().find(|p| p.name == "facet").unwrap();
            let text = serde_json::to_string(&facet).unwrap();
            for field in F::ALL {
                assert!(
                    text.contains(&format!("`{}`", field.as_str())),
                    "{}",
                    F::TABLE
                );
            }
        }
        documented::<StatisticFacetParams, StatisticFacetField>();
        documented::<EventFacetParams, EventFacetField>();
        documented::<DocumentFacetParams, DocumentFacetField>();
        let names = param_names::<StatisticFilters>();
        assert!(names.iter().any(|n| n == "program"));
        assert!(!names.iter().any(|n| n == "sort"));
    }
}
