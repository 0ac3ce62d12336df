//! `/catalog.jsonld`: a DCAT 3 catalog, in JSON-LD with schema.org terms beside DCAT's,
//! that names every release. The service is one dataset, `sanctuary-data`, whose versions
//! (`dcat:hasVersion`) are the releases, newest first, each with its own identifier, date
//! and downloads naming it, so a harvester sees every release and not just the latest.

use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

use super::ApiQuery;
use super::catalog::{FEEDS, jurisdictions, send_catalog};
use crate::error::{ApiError, Problem};
use crate::model::Release;
use crate::query;
use crate::state::AppState;
use crate::tables::PUBLISHED;
use crate::xlsx::XLSX_CONTENT_TYPE;

/// The media type of `/catalog.jsonld`.
pub const JSON_LD: &str = "application/ld+json";

/// The vocabularies the catalog uses, by prefix.
fn context() -> Value {
    json!({
        "dcat": "http://www.w3.org/ns/dcat#",
        "dcterms": "http://purl.org/dc/terms/",
        "foaf": "http://xmlns.com/foaf/0.1/",
        "vcard": "http://www.w3.org/2006/vcard/ns#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "schema": "https://schema.org/",
    })
}

/// A typed literal.
fn typed(value: impl Into<Value>, datatype: &str) -> Value {
    json!({"@value": value.into(), "@type": datatype})
}

/// A link to another resource.
fn link(iri: impl Into<Value>) -> Value {
    json!({"@id": iri.into()})
}

/// DCAT 3 catalog of every release
///
/// A DCAT 3 catalog in JSON-LD (with schema.org terms): the dataset `sanctuary-data`,
/// its current version, and every release as a version (`dcat:hasVersion`), newest first
/// (at most 1,000), each with its id, sequence number, date and the CSV and Excel
/// downloads of every table in that release. Changes with every new release.
#[utoipa::path(
    get,
    path = "/catalog.jsonld",
    tag = "catalog",
    responses(
        (status = 200, description = "The catalog.", body = Object, content_type = "application/ld+json"),
        (status = 304, description = "Not modified."),
        (status = 400, description = "A parameter is given (it takes none).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No release has been imported yet.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn catalog_jsonld(
    State(state): State<AppState>,
    request: ApiQuery,
) -> Result<Response, ApiError> {
    request.check_names(&[])?;
    let latest = query::resolve_release(&state.releases, None).await?;
    let publication = &state.publication;
    send_catalog(&state, &request, &latest.id, JSON_LD, async |base: &str| {
        let releases = query::list_releases(&state.db).await?;
        let places = jurisdictions(&state, &latest.id).await?;
        let coverage = query::date_coverage(&state.db, &latest.id).await?;
        let dataset_id = format!("{base}/catalog.jsonld#sanctuary-data");
        let versions: Vec<Value> = releases
            .iter()
            .enumerate()
            .map(|(i, release)| version(base, &dataset_id, release, releases.get(i + 1)))
            .collect();
        let mut contact = json!({
            "@type": "vcard:Kind",
            "vcard:fn": publication.contact_name,
        });
        if let Some(email) = &publication.contact_email {
            contact["vcard:hasEmail"] = link(format!("mailto:{email}"));
        }
        let publisher = json!({
            "@type": ["foaf:Agent", "schema:Organization"],
            "foaf:name": publication.publisher,
            "schema:name": publication.publisher,
        });
        let mut dataset = json!({
            "@id": dataset_id,
            "@type": ["dcat:Dataset", "schema:Dataset"],
            "dcterms:identifier": "sanctuary-data",
            "dcterms:title": latest.title,
            "schema:name": latest.title,
            "dcterms:description": super::catalog::DESCRIPTION,
            "dcat:keyword": super::catalog::KEYWORDS,
            "dcterms:publisher": publisher.clone(),
            "dcat:contactPoint": contact,
            "dcterms:license": link(publication.license.path.as_str()),
            "schema:license": publication.license.path,
            "dcat:landingPage": link(format!("{base}/")),
            "dcterms:accrualPeriodicity": link("http://purl.org/cld/freq/irregular"),
            "dcterms:spatial": places.iter().map(|p| json!({"@type": "dcterms:Location", "schema:name": p})).collect::<Vec<_>>(),
            "dcterms:modified": typed(latest.imported_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "xsd:dateTime"),
            "dcat:hasCurrentVersion": link(release_iri(base, &latest.id)),
            "dcat:hasVersion": versions,
            "dcat:distribution": [
                {"@type": "dcat:Distribution", "dcterms:title": "REST API (JSON and CSV), the latest release unless release= names one", "dcat:accessURL": link(format!("{base}/api/v1")), "dcat:mediaType": "application/json", "dcterms:conformsTo": link(format!("{base}/openapi.json"))},
                {"@type": "dcat:Distribution", "dcterms:title": "GraphQL API", "dcat:accessURL": link(format!("{base}/graphql")), "dcat:mediaType": "application/json", "dcterms:conformsTo": link("https://spec.graphql.org/")},
                {"@type": "dcat:Distribution", "dcterms:title": "DCAT-US 1.1 catalog", "dcat:downloadURL": link(format!("{base}/data.json")), "dcat:mediaType": "application/json"},
            ],
            "dcterms:relation": FEEDS.iter().map(|(path, media_type)| json!({"@id": format!("{base}{path}"), "dcterms:format": media_type})).collect::<Vec<_>>(),
        });
        if let Some((first, last)) = coverage {
            dataset["dcterms:temporal"] = json!({
                "@type": "dcterms:PeriodOfTime",
                "dcat:startDate": typed(first.to_string(), "xsd:date"),
                "dcat:endDate": typed(last.to_string(), "xsd:date"),
            });
        }
        Ok(json!({
            "@context": context(),
            "@id": format!("{base}/catalog.jsonld"),
            "@type": ["dcat:Catalog", "schema:DataCatalog"],
            "dcterms:title": "sanctuary-data",
            "dcterms:description": super::catalog::DESCRIPTION,
            "dcterms:publisher": publisher,
            "dcterms:license": link(publication.license.path.as_str()),
            "foaf:homepage": link(format!("{base}/")),
            "dcterms:modified": dataset["dcterms:modified"].clone(),
            "dcat:dataset": [dataset],
        }))
    })
    .await
}

/// The IRI of a release: its record in the REST API.
fn release_iri(base: &str, id: &str) -> String {
    format!("{base}/api/v1/releases/{id}")
}

/// One release as a version of the dataset: its id, number and date, the release before
/// it, and the CSV and Excel download of every table, naming it.
fn version(base: &str, dataset: &str, release: &Release, previous: Option<&Release>) -> Value {
    let id = &release.id;
    let distributions: Vec<Value> = PUBLISHED
        .iter()
        .flat_map(|table| {
            let name = table.name;
            [
                json!({
                    "@type": ["dcat:Distribution", "schema:DataDownload"],
                    "dcterms:title": format!("{name}.csv"),
                    "dcat:downloadURL": link(format!("{base}/downloads/{name}.csv?release={id}")),
                    "dcat:mediaType": "text/csv",
                    "schema:encodingFormat": "text/csv",
                }),
                json!({
                    "@type": ["dcat:Distribution", "schema:DataDownload"],
                    "dcterms:title": format!("{name}.xlsx"),
                    "dcat:downloadURL": link(format!("{base}/downloads/{name}.xlsx?release={id}")),
                    "dcat:mediaType": XLSX_CONTENT_TYPE,
                    "schema:encodingFormat": XLSX_CONTENT_TYPE,
                }),
            ]
        })
        .collect();
    let issued = release
        .imported_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut version = json!({
        "@id": release_iri(base, id),
        "@type": ["dcat:Dataset", "schema:Dataset"],
        "dcterms:identifier": id,
        "dcterms:title": format!("{} (release {})", release.title, release.seq),
        "dcat:version": release.seq.to_string(),
        "schema:version": release.seq.to_string(),
        "dcterms:issued": typed(issued.as_str(), "xsd:dateTime"),
        "schema:datePublished": issued,
        "dcat:isVersionOf": link(dataset),
        "dcterms:conformsTo": link(format!("{base}/datapackage.json?release={id}")),
        "dcat:distribution": distributions,
    });
    if let Some(previous) = previous {
        version["dcat:previousVersion"] = link(release_iri(base, &previous.id));
    }
    version
}
