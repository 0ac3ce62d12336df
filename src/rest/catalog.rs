//! Catalogs for data portals: `/datapackage.json` (Frictionless Data Package v2) and
//! `/data.json` (DCAT-US 1.1), both describing the downloads of a release (CSV and Excel).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::ApiQuery;
use crate::entity::release;
use crate::error::{ApiError, Problem};
use crate::http::{Validators, cache_control, etag_for};
use crate::model::Release;
use crate::query;
use crate::state::AppState;
use crate::tables::{PUBLISHED, Table};
use crate::xlsx::XLSX_CONTENT_TYPE;

/// The Table Schema of a download: the import schema's constraints and foreign keys for
/// the columns it shares with the imported table, plus the columns downloads add.
fn download_schema(table: &Table) -> Value {
    let fields: Vec<Value> = table
        .csv_header
        .iter()
        .map(|&column| {
            let field = table.fields.iter().find(|f| f.name == column);
            match (column, field) {
                ("suppressed", _) => json!({
                    "name": column, "type": "boolean",
                    "description": "true when the value is withheld by disclosure control",
                    "constraints": {"required": true},
                }),
                ("suppression_reason", _) => json!({
                    "name": column, "type": "string",
                    "description": "Why the value is withheld; empty when it is published",
                    "constraints": {"enum": [crate::disclosure::SUPPRESSION_REASON]},
                }),
                ("source_url", _) => json!({"name": column, "type": "string", "format": "uri"}),
                ("value", Some(field)) => {
                    let mut schema = field.table_schema();
                    if let Some(constraints) = schema["constraints"].as_object_mut() {
                        constraints.remove("required");
                    }
                    schema["description"] = "Empty when suppressed (never 0)".into();
                    schema
                }
                (_, Some(field)) => field.table_schema(),
                (_, None) => json!({"name": column, "type": field_type(column)}),
            }
        })
        .collect();
    let mut schema = json!({"fields": fields, "primaryKey": [table.key], "missingValues": [""]});
    let foreign_keys = table.foreign_keys();
    if !foreign_keys.is_empty() {
        schema["foreignKeys"] = foreign_keys.into();
    }
    schema
}

/// The Table Schema type of a CSV column.
fn field_type(column: &str) -> &'static str {
    match column {
        "value" | "seq" | "min_cell" => "integer",
        "suppressed" => "boolean",
        "date" | "period_start" | "period_end" | "published_on" | "retrieved_on"
        | "launched_on" => "date",
        _ => "string",
    }
}

/// `scheme://host` of the request, for the absolute URLs catalogs, citations and feeds
/// require. (`state` will carry a configured public URL.)
pub fn base_url(_state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

fn send_json(request: &ApiQuery, value: &Value, release: &str) -> Response {
    let body = serde_json::to_vec_pretty(value).unwrap_or_default();
    Validators {
        etag: &etag_for("application/json", &body),
        cache_control: cache_control(request.text("release").is_some()),
        vary: Some("Accept-Encoding, Host"),
        release: Some(release),
        link: None,
    }
    .answer(&request.headers, || {
        (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response()
    })
}

async fn release_of(
    state: &AppState,
    request: &ApiQuery,
) -> Result<std::sync::Arc<release::Model>, ApiError> {
    request.check_names(&["release".to_owned()])?;
    query::resolve_release(&state.releases, request.text("release").as_deref()).await
}

/// Data package
///
/// A Frictionless Data Package (v2) descriptor of a release: one resource per CSV
/// download with its Table Schema, one per Excel download (`<table>-xlsx`), the licence,
/// and the disclosure-control policy.
#[utoipa::path(
    get,
    path = "/datapackage.json",
    tag = "catalog",
    params(("release" = Option<String>, Query, description = "A release id (64 hex digits, or a unique prefix of at least 8); default: the latest release.", pattern = "^[0-9a-f]{8,64}$")),
    responses(
        (status = 200, description = "The descriptor.", body = Object),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn datapackage(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    let release = Release::from((*release_of(&state, &request).await?).clone());
    let base = base_url(&state, &request.headers);
    let csv = PUBLISHED.iter().map(|table| {
        let (name, description) = (table.name, table.description);
        json!({
            "name": name,
            "path": format!("{base}/downloads/{name}.csv?release={}", release.id),
            "type": "table",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "description": description,
            "schema": download_schema(table),
        })
    });
    // The same tables as Excel workbooks: the table is the first sheet (named after it),
    // header in row 1 (Table Dialect v2 `sheetName`).
    let xlsx = PUBLISHED.iter().map(|table| {
        let (name, description) = (table.name, table.description);
        json!({
            "name": format!("{name}-xlsx"),
            "path": format!("{base}/downloads/{name}.xlsx?release={}", release.id),
            "type": "table",
            "format": "xlsx",
            "mediatype": XLSX_CONTENT_TYPE,
            "description": format!("{description} The same rows as {name}.csv, as an Excel workbook; its About sheet names the release, the disclosure policy, the licence and how to cite."),
            "dialect": {"sheetName": name, "header": true, "headerRows": [1]},
            "schema": download_schema(table),
        })
    });
    let resources: Vec<Value> = csv.chain(xlsx).collect();
    let descriptor = json!({
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "sanctuary-data",
        "id": format!("{base}/api/v1/releases/{}", release.id),
        "title": release.title,
        "description": "Aggregate statistics, timelines and policy documents about municipal ID and sanctuary-policy programs. No individual records.",
        "version": format!("{}", release.seq),
        "created": release.imported_at.to_rfc3339(),
        "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/", "title": "Creative Commons Attribution 4.0"}],
        "sources": [{"title": "Every row's source is in the sources resource", "path": format!("{base}/downloads/sources.csv?release={}", release.id)}],
        "sanctuary:disclosure": release.disclosure,
        "resources": resources,
    });
    Ok(send_json(&request, &descriptor, &release.id))
}

/// DCAT-US catalog
///
/// A DCAT-US 1.1 (Project Open Data) catalog with one dataset per table of a release
/// and its CSV and Excel distributions, for data portals that harvest `data.json`.
#[utoipa::path(
    get,
    path = "/data.json",
    tag = "catalog",
    params(("release" = Option<String>, Query, description = "A release id (64 hex digits, or a unique prefix of at least 8); default: the latest release.", pattern = "^[0-9a-f]{8,64}$")),
    responses(
        (status = 200, description = "The catalog.", body = Object),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter is unknown or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn data_json(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    let release = Release::from((*release_of(&state, &request).await?).clone());
    let base = base_url(&state, &request.headers);
    let modified = release.imported_at.format("%Y-%m-%d").to_string();
    let datasets: Vec<Value> = PUBLISHED
        .iter()
        .map(|table| {
            let (name, description) = (table.name, table.description);
            json!({
                "@type": "dcat:Dataset",
                "identifier": format!("{base}/api/v1/{name}?release={}", release.id),
                "title": format!("sanctuary-data: {name}"),
                "description": format!("{description} Release {} (#{}); disclosure control: the rule of {}.", release.id, release.seq, release.disclosure.min_cell),
                "keyword": ["municipal ID", "CityKey", "sanctuary policy", "immigration", name],
                "modified": modified,
                "publisher": {"@type": "org:Organization", "name": "sanctuary-data"},
                "contactPoint": {"@type": "vcard:Contact", "fn": "sanctuary-data maintainers"},
                "accessLevel": "public",
                "license": "https://creativecommons.org/licenses/by/4.0/",
                "describedBy": format!("{base}/datapackage.json?release={}", release.id),
                "describedByType": "application/json",
                "distribution": [
                    {"@type": "dcat:Distribution", "downloadURL": format!("{base}/downloads/{name}.csv?release={}", release.id), "mediaType": "text/csv", "format": "CSV", "title": format!("{name}.csv")},
                    {"@type": "dcat:Distribution", "downloadURL": format!("{base}/downloads/{name}.xlsx?release={}", release.id), "mediaType": XLSX_CONTENT_TYPE, "format": "XLSX", "title": format!("{name}.xlsx")},
                    {"@type": "dcat:Distribution", "accessURL": format!("{base}/api/v1/{name}?release={}", release.id), "format": "API", "title": "REST API (JSON)", "conformsTo": format!("{base}/openapi.json")}
                ]
            })
        })
        .collect();
    let catalog = json!({
        "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
        "@id": format!("{base}/data.json"),
        "@type": "dcat:Catalog",
        "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
        "describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
        "dataset": datasets,
    });
    Ok(send_json(&request, &catalog, &release.id))
}
