//! Catalogs for data portals: `/datapackage.json` (Frictionless Data Package v2) and
//! `/data.json` (DCAT-US 1.1), both describing the downloads of a release (CSV and Excel),
//! and [`base_url`], the absolute URL every catalog and page writes (`jsonld.rs` is the
//! DCAT 3 catalog of every release).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::ApiQuery;
use crate::config::Publication;
use crate::entity::release;
use crate::error::{ApiError, Problem};
use crate::http::{Rendered, is_valid_host};
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

/// `scheme://host` for the absolute URLs catalogs and pages write. The configured public
/// URL when there is one: the request's headers are then never read. Otherwise the
/// request's `Host` (checked in `app.rs`) and `http`; behind a trusted proxy
/// (`--trust-proxy`) its `X-Forwarded-Host` (the first of a list, when it is a valid
/// `host[:port]`) and `X-Forwarded-Proto` (`https` or `http`) first.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let publication = &state.publication;
    if let Some(url) = &publication.public_url {
        return url.clone();
    }
    let forwarded = |name: &str| {
        headers
            .get(name)
            .filter(|_| publication.trust_proxy)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.split(',').next())
            .map(str::trim)
    };
    let host = forwarded("x-forwarded-host")
        .filter(|h| is_valid_host(h))
        .or_else(|| headers.get(header::HOST).and_then(|h| h.to_str().ok()))
        .unwrap_or("127.0.0.1:8080");
    let scheme = match forwarded("x-forwarded-proto") {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// The `Vary` of a representation holding absolute URLs: the request headers
/// [`base_url`] reads (none with a public URL), and `Accept-Encoding`.
pub fn base_url_vary(state: &AppState) -> &'static str {
    match (&state.publication.public_url, state.publication.trust_proxy) {
        (Some(_), _) => "Accept-Encoding",
        (None, false) => "Accept-Encoding, Host",
        (None, true) => "Accept-Encoding, Host, X-Forwarded-Host, X-Forwarded-Proto",
    }
}

/// A catalog of `release` for `request`, from the representation cache or rendered once:
/// the key holds the base URL, so each host (when no public URL is set) has its own.
pub(super) async fn send_catalog<F>(
    state: &AppState,
    request: &ApiQuery,
    release: &str,
    content_type: &'static str,
    render: F,
) -> Result<Response, ApiError>
where
    F: AsyncFnOnce(&str) -> Result<Value, ApiError>,
{
    let base = base_url(state, &request.headers);
    let key = format!(
        "{release}|catalog|{base}|{}|{}",
        request.path(),
        request.normalized(&[])
    );
    let rendered = state
        .responses
        .get_or_render(key, async || {
            let value = render(&base).await?;
            let body = serde_json::to_vec_pretty(&value).map_err(ApiError::internal)?;
            Ok(Rendered::new(body, content_type, release))
        })
        .await?;
    let mut response = rendered.answer(&request.headers, request.text("release").is_some());
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static(base_url_vary(state)));
    Ok(response)
}

async fn release_of(
    state: &AppState,
    request: &ApiQuery,
) -> Result<std::sync::Arc<release::Model>, ApiError> {
    request.check_names(&["release".to_owned()])?;
    query::resolve_release(&state.releases, request.text("release").as_deref()).await
}

/// The licence as a Data Package names it.
fn license(publication: &Publication) -> Value {
    let license = &publication.license;
    let mut json = json!({"path": license.path});
    if let Some(name) = &license.name {
        json["name"] = name.as_str().into();
    }
    if let Some(title) = &license.title {
        json["title"] = title.as_str().into();
    }
    json
}

/// The declared dimensions a release keeps (canonical JSON), or none for a release
/// imported before they were kept.
fn dimensions(release: &release::Model) -> Option<Value> {
    serde_json::from_str(release.dimensions.as_deref()?).ok()
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
    let model = release_of(&state, &request).await?;
    let release = Release::from((*model).clone());
    let publication = &state.publication;
    send_catalog(&state, &request, &release.id, "application/json", async |base: &str| {
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
        let mut contact = json!({"title": publication.contact_name, "roles": ["contact"]});
        if let Some(email) = &publication.contact_email {
            contact["email"] = email.as_str().into();
        }
        let mut descriptor = json!({
            "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
            "name": "sanctuary-data",
            "id": format!("{base}/api/v1/releases/{}", release.id),
            "title": release.title,
            "description": DESCRIPTION,
            "homepage": format!("{base}/"),
            "version": format!("{}", release.seq),
            "created": release.imported_at.to_rfc3339(),
            "contributors": [{"title": publication.publisher, "roles": ["publisher"]}, contact],
            "keywords": KEYWORDS,
            "licenses": [license(publication)],
            "sources": [{"title": "Every row's source is in the sources resource", "path": format!("{base}/downloads/sources.csv?release={}", release.id)}],
            "sanctuary:disclosure": release.disclosure,
            "resources": resources,
        });
        if let Some(dimensions) = dimensions(&model) {
            descriptor[crate::seed::DIMENSIONS_PROPERTY] = dimensions;
        }
        Ok(descriptor)
    })
    .await
}

/// What the whole service publishes, in one sentence.
pub(super) const DESCRIPTION: &str = "Aggregate statistics, timelines and policy documents about municipal ID and sanctuary-policy programs. No individual records.";

/// Keywords of every catalog.
pub(super) const KEYWORDS: [&str; 4] =
    ["municipal ID", "CityKey", "sanctuary policy", "immigration"];

/// How often releases come: whenever a source publishes something new (DCAT-US
/// `accrualPeriodicity`).
const ACCRUAL_PERIODICITY: &str = "irregular";

/// The feeds of releases and events, for catalogs to name.
pub const FEEDS: [(&str, &str); 3] = [
    ("/feeds/releases.atom", "application/atom+xml"),
    ("/feeds/releases.json", "application/feed+json"),
    ("/feeds/events.atom", "application/atom+xml"),
];

/// DCAT-US catalog
///
/// A DCAT-US 1.1 (Project Open Data) catalog with one dataset per table, for data portals
/// that harvest `data.json` (data.gov, CKAN's ckanext-datajson). A dataset's `identifier`
/// is the same in every release, so a harvester updates it rather than replacing it;
/// `modified` is the release's import time, and the distributions (CSV, Excel, the JSON
/// API, GraphQL) name the release. Publisher, contact, licence and the base URL of every
/// link are configuration (`--publisher`, `--contact-name`, `--contact-email`,
/// `--license`, `--public-url`); `bureauCode`/`programCode` only when configured.
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
    let release = release_of(&state, &request).await?;
    let publication = &state.publication;
    send_catalog(&state, &request, &release.id, "application/json", async |base: &str| {
        let coverage = query::date_coverage(&state.db, &release.id).await?;
        let places = jurisdictions(&state, &release.id).await?;
        let id = &release.id;
        let modified = release
            .imported_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut contact = json!({"@type": "vcard:Contact", "fn": publication.contact_name});
        if let Some(email) = &publication.contact_email {
            contact["hasEmail"] = format!("mailto:{email}").into();
        }
        let mut references = vec![format!("{base}/catalog.jsonld"), format!("{base}/docs")];
        references.extend(FEEDS.iter().map(|(path, _)| format!("{base}{path}")));
        let datasets: Vec<Value> = PUBLISHED
            .iter()
            .map(|table| {
                let (name, description) = (table.name, table.description);
                let mut dataset = json!({
                    "@type": "dcat:Dataset",
                    "identifier": format!("{base}/api/v1/{name}"),
                    "title": format!("sanctuary-data: {name}"),
                    "description": format!("{description} Disclosure control: the rule of {}. Every release is immutable; {base}/catalog.jsonld lists them all.", release.min_cell),
                    "keyword": KEYWORDS.iter().copied().chain([name]).collect::<Vec<_>>(),
                    "modified": modified,
                    "publisher": {"@type": "org:Organization", "name": publication.publisher},
                    "contactPoint": contact,
                    "accessLevel": "public",
                    "license": publication.license.path,
                    "landingPage": format!("{base}/browse/{name}"),
                    "accrualPeriodicity": ACCRUAL_PERIODICITY,
                    "describedBy": format!("{base}/datapackage.json?release={id}"),
                    "describedByType": "application/json",
                    "references": references,
                    "distribution": [
                        {"@type": "dcat:Distribution", "downloadURL": format!("{base}/downloads/{name}.csv?release={id}"), "mediaType": "text/csv", "format": "CSV", "title": format!("{name}.csv"), "describedBy": format!("{base}/datapackage.json?release={id}"), "describedByType": "application/json"},
                        {"@type": "dcat:Distribution", "downloadURL": format!("{base}/downloads/{name}.xlsx?release={id}"), "mediaType": XLSX_CONTENT_TYPE, "format": "XLSX", "title": format!("{name}.xlsx")},
                        {"@type": "dcat:Distribution", "accessURL": format!("{base}/api/v1/{name}?release={id}"), "mediaType": "application/json", "format": "API", "title": "REST API (JSON, or CSV with format=csv)", "conformsTo": format!("{base}/openapi.json")},
                        {"@type": "dcat:Distribution", "accessURL": format!("{base}/graphql"), "mediaType": "application/json", "format": "GraphQL", "title": "GraphQL API (every release: the release argument)", "conformsTo": "https://spec.graphql.org/"}
                    ]
                });
                // The periods the figures cover and the dates of the events; the other
                // tables describe programs, publications and metrics over those years.
                if let Some((first, last)) = coverage
                    && matches!(name, "statistics" | "events")
                {
                    dataset["temporal"] = format!("{first}/{last}").into();
                }
                if !places.is_empty() && name != "metrics" && name != "sources" {
                    dataset["spatial"] = places.join("; ").into();
                }
                if !publication.bureau_code.is_empty() {
                    dataset["bureauCode"] = publication.bureau_code.clone().into();
                }
                if !publication.program_code.is_empty() {
                    dataset["programCode"] = publication.program_code.clone().into();
                }
                dataset
            })
            .collect();
        Ok(json!({
            "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
            "@id": format!("{base}/data.json"),
            "@type": "dcat:Catalog",
            "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
            "describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
            "dataset": datasets,
        }))
    })
    .await
}

/// The programs' jurisdictions in a release, sorted, each once (the catalogs' `spatial`).
pub(super) async fn jurisdictions(
    state: &AppState,
    release: &str,
) -> Result<Vec<String>, ApiError> {
    let all = query::PageRequest {
        limit: query::MAX_LIMIT,
        after: 0,
        sort: query::Sort::CANONICAL,
    };
    let programs = query::list_programs(&state.db, release, &Default::default(), all).await?;
    let mut places: Vec<String> = programs.items.into_iter().map(|p| p.jurisdiction).collect();
    places.sort_unstable();
    places.dedup();
    Ok(places)
}
