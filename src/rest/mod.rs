//! The REST interface under `/api/v1`, its OpenAPI document, and bulk CSV downloads.
//!
//! Every handler follows one path: parse the query string strictly ([`ApiQuery`]),
//! resolve the release, ask `query.rs`, and render JSON or CSV through [`respond`], which
//! keeps rendered representations in memory: a release never changes, so the bytes and
//! the ETag of (release, path, normalised query, media type) never change either.
//!
//! This file assembles the router and the OpenAPI document; `query_string.rs` parses
//! parameters and `render.rs` renders and sends.

mod catalog;
mod cite;
mod documents;
mod downloads;
mod events;
mod facets;
mod feeds;
mod health;
mod jsonld;
mod metrics;
mod programs;
mod query_string;
mod releases;
mod render;
mod sources;
mod statistics;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::csv::{CSV_CONTENT_TYPE, CsvRecord};
use crate::error::{ApiError, Problem, echo};
use crate::http::Rendered;
use crate::query::{self, Page, PageRequest};
use crate::state::AppState;

pub use catalog::{base_url, base_url_vary};
pub use documents::DocumentListParams;
pub use downloads::measure_missing_sizes;
pub use events::EventListParams;
pub use jsonld::JSON_LD;
pub use metrics::MetricListParams;
pub use programs::ProgramListParams;
pub use query_string::*;
pub use render::*;
pub use sources::SourceListParams;
pub use statistics::StatisticListParams;

/// The OpenAPI document's fixed parts; paths are added by the routes themselves.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "sanctuary-data",
        description = "Aggregate statistics, program timelines and policy documents about municipal ID and \
sanctuary-policy programs, starting with Chicago's CityKey. No individual records: small counts are \
suppressed at import with complementary suppression, and every figure carries its source.\n\n\
Every collection is paged (`limit`, opaque `cursor`, `links.next` and an RFC 8288 `Link` header), \
filters are plain query parameters, `release` pins an immutable release, and `format=csv` or \
`Accept: text/csv` returns CSV. Errors are RFC 9457 `application/problem+json`.",
        license(name = "Code: MIT OR Apache-2.0; data: CC-BY-4.0 (see datapackage.json)")
    ),
    tags(
        (name = "programs", description = "Municipal ID and sanctuary-policy programs."),
        (name = "statistics", description = "Published figures, one row per program, metric, period, dimension and category."),
        (name = "events", description = "Program timelines."),
        (name = "documents", description = "Ordinances, statements, subpoenas (as reported), reports and decisions."),
        (name = "sources", description = "Where every figure, event and document comes from."),
        (name = "metrics", description = "The dictionary of metric names."),
        (name = "releases", description = "Immutable snapshots of the data."),
        (name = "downloads", description = "Whole tables as CSV."),
        (name = "feeds", description = "Change feeds: releases (Atom and JSON Feed) and timeline events (Atom)."),
        (name = "catalog", description = "Catalogs for data portals: Frictionless datapackage.json, DCAT-US data.json and the DCAT 3 catalog.jsonld of every release."),
        (name = "health", description = "Liveness and readiness."),
    ),
    components(schemas(Problem))
)]
pub struct ApiDoc;

/// The REST routes and the OpenAPI document they describe.
pub fn routes() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::new()
        .routes(routes!(programs::list_programs))
        .routes(routes!(programs::get_program))
        .routes(routes!(statistics::list_statistics))
        .routes(routes!(facets::statistic_facets))
        .routes(routes!(statistics::list_latest_statistics))
        .routes(routes!(statistics::get_statistic))
        .routes(routes!(events::list_events))
        .routes(routes!(facets::event_facets))
        .routes(routes!(documents::list_documents))
        .routes(routes!(facets::document_facets))
        .routes(routes!(documents::get_document))
        .routes(routes!(sources::list_sources))
        .routes(routes!(sources::get_source))
        .routes(routes!(metrics::list_metrics))
        .routes(routes!(releases::list_releases))
        .routes(routes!(releases::get_release))
        .routes(routes!(releases::diff_releases))
        .routes(routes!(cite::cite_release))
        .routes(routes!(cite::cite_statistic));
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api)
        .routes(routes!(downloads::list_downloads))
        .routes(routes!(downloads::download_table))
        .routes(routes!(catalog::datapackage))
        .routes(routes!(catalog::data_json))
        .routes(routes!(feeds::releases_atom))
        .routes(routes!(feeds::releases_json))
        .routes(routes!(feeds::events_atom))
        .routes(routes!(jsonld::catalog_jsonld))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .split_for_parts();
    (router, with_selected_fields(openapi))
}

/// The tables whose rows `fields=` narrows (their list and item responses).
const SELECTABLE: &[&str] = &[
    "Document",
    "Event",
    "Metric",
    "Program",
    "Source",
    "Statistic",
];

/// A row of a response to a request with `fields=` is not the full row the schema
/// describes but the named columns of its CSV form: the responses of the tables that take
/// `fields` say a row is either (`anyOf`), with `SelectedFields` describing the second.
fn with_selected_fields(mut openapi: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::schema::{
        AdditionalProperties, AnyOfBuilder, ArrayItems, ObjectBuilder, Schema, Type,
    };
    use utoipa::openapi::{Ref, RefOr};
    fn either(row: RefOr<Schema>) -> RefOr<Schema> {
        RefOr::T(Schema::AnyOf(
            AnyOfBuilder::new()
                .item(row)
                .item(Ref::from_schema_name("SelectedFields"))
                .build(),
        ))
    }
    let Some(components) = openapi.components.as_mut() else {
        return openapi;
    };
    for table in SELECTABLE {
        for envelope in ["ListResponse", "ItemResponse"] {
            let Some(RefOr::T(Schema::Object(object))) =
                components.schemas.get_mut(&format!("{envelope}_{table}"))
            else {
                continue;
            };
            let Some(data) = object.properties.get_mut("data") else {
                continue;
            };
            match data {
                RefOr::T(Schema::Array(array)) => {
                    if let ArrayItems::RefOrSchema(items) = &mut array.items {
                        let row = std::mem::replace(items.as_mut(), RefOr::T(Schema::default()));
                        **items = either(row);
                    }
                }
                row => {
                    let taken = std::mem::replace(row, RefOr::T(Schema::default()));
                    *row = either(taken);
                }
            }
        }
    }
    components.schemas.insert(
        "SelectedFields".to_owned(),
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(
                    "A row narrowed by `fields=`: only the columns named, in the order named, as \
                     in the table's CSV form (a source is `source_id`, `source_title`, \
                     `source_url`); asking for `value` without `suppressed` adds `suppressed` \
                     after it.",
                ))
                .min_properties(Some(1))
                .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(true)))
                .build(),
        )),
    );
    openapi
}

/// The OpenAPI document, as served at `/openapi.json` and committed at `openapi/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

/// Pretty-printed OpenAPI JSON with a final newline (the committed form).
pub fn openapi_json() -> String {
    let mut json = openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}
