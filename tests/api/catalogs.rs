//! Catalogs a harvester keeps in sync: `/data.json` (DCAT-US 1.1, validated against the
//! official schema), `/datapackage.json` (Frictionless v2, validated against its profile),
//! `/catalog.jsonld` (DCAT 3, every release), the configuration they take (public URL,
//! proxy headers, publisher, contact, licence, federal codes), and `CITATION.cff`.

use std::path::{Path, PathBuf};

use chrono::Timelike;

use sanctuary_data::config::{Publication, PublicationArgs};
use sanctuary_data::{AppState, build_app};
use serde_json::{Value, json};

use crate::helpers::*;

/// The official DCAT-US 1.1 schemas, read in place (never copied into the repository).
fn dcat_us_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas/dcat-us-1.1")
}

/// Resolves the schemas' `$ref`s (`dataset.json`, … under
/// `https://project-open-data.cio.gov/v1.1/schema/`) to the files of one folder, so
/// validation never goes to the network.
struct Folder(PathBuf);

impl jsonschema::Retrieve for Folder {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.path().as_str().rsplit('/').next().unwrap_or_default();
        let text = std::fs::read_to_string(self.0.join(name))
            .map_err(|e| format!("{uri}: no {name} in {}: {e}", self.0.display()))?;
        Ok(serde_json::from_str(&text)?)
    }
}

/// Every error `instance` has against the DCAT-US catalog schema, as `path: message`;
/// `None` (with a message) where the schemas are absent.
fn dcat_us_errors(instance: &Value) -> Option<Vec<String>> {
    let dir = dcat_us_dir();
    let Ok(text) = std::fs::read_to_string(dir.join("catalog.json")) else {
        eprintln!(
            "SKIPPED: the DCAT-US 1.1 schemas are not at {} (a checkout without shared/)",
            dir.display()
        );
        return None;
    };
    let schema: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    let validator = jsonschema::options()
        .with_retriever(Folder(dir))
        .should_validate_formats(true)
        .build(&schema)
        .expect("the DCAT-US schemas compile, their $refs resolved offline");
    Some(schema_errors(&validator, instance))
}

/// Every error `instance` has against `validator`, as `path: message`.
fn schema_errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// The small fixture with one program's description revised: another release.
fn revised_fixture(revision: usize) -> tempfile::TempDir {
    let dir = fixture_copy("small");
    let path = dir.path().join("programs.csv");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "A synthetic program for tests.",
        &format!("A synthetic program for tests (revision {revision})."),
    );
    std::fs::write(path, text).unwrap();
    dir
}

/// The app over `fixture`, configured as `publication` says.
async fn configured(fixture_name: &str, publication: Publication) -> (axum::Router, TestDb) {
    let test_db = fresh_db().await;
    import(&test_db.db, &fixture(fixture_name)).await;
    let state = AppState::new(test_db.db.clone()).with_publication(publication);
    (build_app(state), test_db)
}

/// A publication as a federal agency would configure it.
fn federal() -> Publication {
    Publication {
        public_url: Some("https://data.example.gov".into()),
        contact_email: Some("open.data@example.gov".into()),
        contact_name: "Open Data Desk".into(),
        publisher: "Example City Clerk".into(),
        bureau_code: vec!["015:11".into()],
        program_code: vec!["015:001".into()],
        ..Publication::default()
    }
}

#[tokio::test]
async fn data_json_is_valid_dcat_us_when_configured() {
    let (app, _db) = configured("small", federal()).await;
    let catalog = get(&app, "/data.json").await.json();
    if let Some(errors) = dcat_us_errors(&catalog) {
        assert!(
            errors.is_empty(),
            "{} errors:\n{}",
            errors.len(),
            errors.join("\n")
        );
    }
    let dataset = &catalog["dataset"][0];
    assert_eq!(
        dataset["contactPoint"]["hasEmail"],
        "mailto:open.data@example.gov"
    );
    assert_eq!(dataset["contactPoint"]["fn"], "Open Data Desk");
    assert_eq!(dataset["publisher"]["name"], "Example City Clerk");
    assert_eq!(dataset["bureauCode"], json!(["015:11"]));
    assert_eq!(dataset["programCode"], json!(["015:001"]));
}

#[tokio::test]
async fn without_federal_codes_the_only_dcat_us_errors_are_the_federal_only_fields() {
    let publication = Publication {
        contact_email: Some("data@example.org".into()),
        ..Publication::default()
    };
    let (app, _db) = configured("small", publication).await;
    let catalog = get(&app, "/data.json").await.json();
    for dataset in catalog["dataset"].as_array().unwrap() {
        assert!(dataset.get("bureauCode").is_none() && dataset.get("programCode").is_none());
    }
    let Some(errors) = dcat_us_errors(&catalog) else {
        return;
    };
    // Two per dataset: bureauCode and programCode, required of US federal agencies only.
    assert_eq!(errors.len(), 12, "{}", errors.join("\n"));
    assert!(
        errors
            .iter()
            .all(|e| e.contains("\"bureauCode\" is a required property")
                || e.contains("\"programCode\" is a required property")),
        "{}",
        errors.join("\n")
    );
}

#[tokio::test]
async fn data_json_identifiers_stay_the_same_across_releases() {
    let (app, db) = configured("small", federal()).await;
    let before = get(&app, "/data.json").await.json();
    let first = before["dataset"][0]["distribution"][0]["downloadURL"].clone();
    let dir = revised_fixture(1);
    import(&db.db, dir.path()).await;
    let after = get(&app, "/data.json").await.json();
    let ids = |catalog: &Value| -> Vec<Value> {
        catalog["dataset"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["identifier"].clone())
            .collect()
    };
    assert_eq!(ids(&before), ids(&after));
    assert_eq!(
        ids(&after)[0],
        "https://data.example.gov/api/v1/statistics",
        "{after}"
    );
    for id in ids(&after) {
        assert!(!id.as_str().unwrap().contains("release"), "{id}");
    }
    // What changes is `modified` and the release the distributions name.
    let releases = get(&app, "/api/v1/releases").await.json();
    let latest = &releases["data"][0];
    let modified = after["dataset"][0]["modified"].as_str().unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(modified).unwrap(),
        chrono::DateTime::parse_from_rfc3339(latest["imported_at"].as_str().unwrap())
            .unwrap()
            .with_nanosecond(0)
            .unwrap()
    );
    let now = after["dataset"][0]["distribution"][0]["downloadURL"].clone();
    assert_ne!(first, now);
    assert!(
        now.as_str()
            .unwrap()
            .ends_with(latest["id"].as_str().unwrap())
    );
}

#[tokio::test]
async fn data_json_describes_each_dataset_for_a_harvester() {
    let (app, _db) = configured("small", federal()).await;
    let catalog = get(&app, "/data.json").await.json();
    let datasets = catalog["dataset"].as_array().unwrap();
    assert_eq!(datasets.len(), 6);
    let by_name = |name: &str| {
        datasets
            .iter()
            .find(|d| {
                d["identifier"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/{name}"))
            })
            .unwrap()
            .clone()
    };
    let statistics = by_name("statistics");
    let first_day = get(&app, "/api/v1/statistics?limit=1000").await.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["period_start"].as_str().unwrap().to_owned())
        .min()
        .unwrap();
    let temporal = statistics["temporal"].as_str().unwrap();
    assert!(temporal.contains('/'), "{temporal}");
    assert!(
        &temporal[..10] <= first_day.as_str(),
        "{temporal} vs {first_day}"
    );
    assert_eq!(statistics["spatial"], "Alpha City; Beta Town");
    assert_eq!(statistics["accrualPeriodicity"], "irregular");
    assert_eq!(
        statistics["license"],
        "https://creativecommons.org/licenses/by/4.0/"
    );
    assert!(by_name("metrics").get("temporal").is_none());
    let formats: Vec<&str> = statistics["distribution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["CSV", "XLSX", "API", "GraphQL"]);
    // Every link is the public URL's, and each resolves to something the app serves.
    for dataset in datasets {
        let mut urls = vec![
            dataset["landingPage"].as_str().unwrap(),
            dataset["describedBy"].as_str().unwrap(),
        ];
        for distribution in dataset["distribution"].as_array().unwrap() {
            for key in ["downloadURL", "accessURL"] {
                // GraphQL answers queries, not a bare GET.
                if let Some(url) = distribution[key].as_str()
                    && !url.ends_with("/graphql")
                {
                    urls.push(url);
                }
            }
        }
        for url in urls {
            let path = url
                .strip_prefix("https://data.example.gov")
                .unwrap_or_else(|| panic!("{url} is not under the public URL"));
            let status = get(&app, path).await.status;
            assert_eq!(status, 200, "{url}");
        }
    }
    // The catalog of every release is linked.
    assert!(
        statistics["references"]
            .as_array()
            .unwrap()
            .contains(&json!("https://data.example.gov/catalog.jsonld"))
    );
}

#[tokio::test]
async fn a_public_url_wins_over_host_and_forwarded_headers() {
    let (app, _db) = configured("small", federal()).await;
    let reply = get_with(
        &app,
        "/data.json",
        &[
            ("host", "evil.example"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "http"),
        ],
    )
    .await;
    assert!(!reply.text().contains("evil"), "{}", reply.text());
    assert!(reply.text().contains("https://data.example.gov/downloads/"));
    // The answer no longer depends on Host: a cache may share it.
    assert_eq!(reply.header("vary"), "Accept-Encoding");
    let page = get_with(&app, "/", &[("host", "evil.example")]).await;
    assert_eq!(page.status, 200);
    assert!(!page.text().contains("evil"));
    assert!(page.text().contains("https://data.example.gov/downloads/"));
    assert_eq!(page.header("vary"), "Accept-Encoding");
}

#[tokio::test]
async fn forwarded_headers_count_only_behind_a_trusted_proxy() {
    let headers = [
        ("host", "internal:8080"),
        ("x-forwarded-host", "data.example.org"),
        ("x-forwarded-proto", "https"),
    ];
    // Not trusted (the default): the Host header, plain http.
    let (app, _db) = app_with("small").await;
    let reply = get_with(&app, "/datapackage.json", &headers).await;
    assert!(
        reply.text().contains("\"http://internal:8080/downloads/"),
        "{}",
        reply.text()
    );
    assert!(!reply.text().contains("data.example.org"));
    assert_eq!(reply.header("vary"), "Accept-Encoding, Host");
    // Trusted: the proxy's host and scheme (the first of a list).
    let trusted = Publication {
        trust_proxy: true,
        ..Publication::default()
    };
    let (app, _db) = configured("small", trusted).await;
    let reply = get_with(&app, "/datapackage.json", &headers).await;
    assert!(
        reply
            .text()
            .contains("\"https://data.example.org/downloads/"),
        "{}",
        reply.text()
    );
    assert_eq!(
        reply.header("vary"),
        "Accept-Encoding, Host, X-Forwarded-Host, X-Forwarded-Proto"
    );
    let listed = get_with(
        &app,
        "/data.json",
        &[
            ("host", "internal:8080"),
            ("x-forwarded-host", "a.example, b.example"),
        ],
    )
    .await;
    assert!(
        listed.text().contains("\"http://a.example/"),
        "{}",
        listed.text()
    );
    // A forwarded host that is not a host never becomes a URL: the Host header is used.
    let broken = get_with(
        &app,
        "/data.json",
        &[
            ("host", "internal:8080"),
            ("x-forwarded-host", "evil.example/<x>@"),
        ],
    )
    .await;
    assert_eq!(broken.status, 200);
    assert!(!broken.text().contains("evil"));
    assert!(broken.text().contains("http://internal:8080/"));
    // Pages are cached per base URL: the same page through another host names that host.
    let one = get_with(
        &app,
        "/",
        &[
            ("host", "internal:8080"),
            ("x-forwarded-host", "one.example"),
        ],
    )
    .await;
    let two = get_with(
        &app,
        "/",
        &[
            ("host", "internal:8080"),
            ("x-forwarded-host", "two.example"),
        ],
    )
    .await;
    assert!(one.text().contains("http://one.example/"));
    assert!(two.text().contains("http://two.example/"));
}

/// What the Frictionless Data Package v2 profile
/// (`https://datapackage.org/profiles/2.0/datapackage.json`) requires of the parts of a
/// descriptor this service writes, checked by hand: the profile itself is not in the
/// repository and tests run offline. Returns one line per violation.
fn data_package_v2_problems(package: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            problems.push(what);
        }
    };
    let is_name = |v: &Value| {
        v.as_str().is_some_and(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._/".contains(c))
        })
    };
    let is_url = |v: &Value| {
        v.as_str()
            .is_some_and(|s| s.starts_with("http://") || s.starts_with("https://"))
    };
    let is_string = |v: &Value| v.as_str().is_some_and(|s| !s.is_empty());
    check(is_url(&package["$schema"]), "$schema is a URL".into());
    check(
        is_name(&package["name"]),
        "name matches ^[-a-z0-9._/]+$".into(),
    );
    for key in ["id", "title", "description", "version"] {
        check(is_string(&package[key]), format!("{key} is a string"));
    }
    check(is_url(&package["homepage"]), "homepage is a URL".into());
    check(
        package["created"]
            .as_str()
            .is_some_and(|c| chrono::DateTime::parse_from_rfc3339(c).is_ok()),
        "created is an RFC 3339 date-time".into(),
    );
    check(
        package["keywords"]
            .as_array()
            .is_some_and(|k| k.iter().all(is_string)),
        "keywords are strings".into(),
    );
    let licenses = package["licenses"].as_array();
    check(
        licenses.is_some_and(|l| !l.is_empty()),
        "licenses has at least one item".into(),
    );
    for (i, license) in licenses.into_iter().flatten().enumerate() {
        check(
            license["name"].as_str().is_some_and(|n| {
                n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
            }) || is_url(&license["path"]),
            format!("licenses[{i}] has a name matching ^[-a-zA-Z0-9._]+$ or a path"),
        );
    }
    for (i, contributor) in package["contributors"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        check(
            is_string(&contributor["title"]),
            format!("contributors[{i}].title"),
        );
        check(
            contributor["roles"]
                .as_array()
                .is_some_and(|r| r.iter().all(is_string)),
            format!("contributors[{i}].roles are strings"),
        );
        if let Some(email) = contributor.get("email") {
            check(
                email.as_str().is_some_and(|e| e.contains('@')),
                format!("contributors[{i}].email is an email"),
            );
        }
    }
    for (i, source) in package["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        check(is_string(&source["title"]), format!("sources[{i}].title"));
    }
    let resources = package["resources"].as_array();
    check(
        resources.is_some_and(|r| !r.is_empty()),
        "resources has at least one item".into(),
    );
    const FIELD_TYPES: &[&str] = &[
        "string",
        "number",
        "integer",
        "boolean",
        "object",
        "array",
        "list",
        "date",
        "time",
        "datetime",
        "year",
        "yearmonth",
        "duration",
        "geopoint",
        "geojson",
        "any",
    ];
    for (i, resource) in resources.into_iter().flatten().enumerate() {
        check(is_name(&resource["name"]), format!("resources[{i}].name"));
        check(
            is_url(&resource["path"]) || resource.get("data").is_some(),
            format!("resources[{i}] has a path (URL here) or data"),
        );
        for key in ["format", "mediatype"] {
            check(is_string(&resource[key]), format!("resources[{i}].{key}"));
        }
        let fields = resource["schema"]["fields"].as_array();
        check(
            fields.is_some_and(|f| !f.is_empty()),
            format!("resources[{i}].schema.fields"),
        );
        for (j, field) in fields.into_iter().flatten().enumerate() {
            check(
                is_string(&field["name"]),
                format!("resources[{i}].schema.fields[{j}].name"),
            );
            check(
                field
                    .get("type")
                    .is_none_or(|t| t.as_str().is_some_and(|t| FIELD_TYPES.contains(&t))),
                format!("resources[{i}].schema.fields[{j}].type is a Table Schema type"),
            );
        }
    }
    problems
}

#[tokio::test]
async fn datapackage_json_is_a_valid_data_package_v2_with_its_dimensions() {
    let publication = Publication {
        contact_email: Some("data@example.org".into()),
        ..Publication::default()
    };
    let test_db = fresh_db().await;
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/synthetic-breakdowns");
    import(&test_db.db, &example).await;
    let app = build_app(AppState::new(test_db.db.clone()).with_publication(publication));
    let package = get(&app, "/datapackage.json").await.json();
    let problems = data_package_v2_problems(&package);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The check is not empty-handed: a descriptor without resources, or with a field of
    // no Table Schema type, fails it.
    let mut broken = package.clone();
    broken.as_object_mut().unwrap().remove("resources");
    assert!(!data_package_v2_problems(&broken).is_empty());
    let mut broken = package.clone();
    broken["resources"][0]["schema"]["fields"][0]["type"] = json!("text");
    assert!(!data_package_v2_problems(&broken).is_empty());
    // The declared dimensions the release was imported with.
    let declared: Value =
        serde_json::from_str(&std::fs::read_to_string(example.join("datapackage.json")).unwrap())
            .unwrap();
    let served = package["sanctuary:dimensions"].as_array().unwrap();
    let declared = declared["sanctuary:dimensions"].as_array().unwrap();
    assert_eq!(served.len(), declared.len(), "{served:?}");
    for dimension in declared {
        let same = served
            .iter()
            .find(|d| d["name"] == dimension["name"])
            .unwrap_or_else(|| panic!("{} is not served", dimension["name"]));
        let mut categories: Vec<&Value> =
            dimension["categories"].as_array().unwrap().iter().collect();
        categories.sort_by_key(|c| c.as_str().unwrap().to_owned());
        assert_eq!(
            same["categories"]
                .as_array()
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            categories
        );
    }
    // Publisher, contact and licence come from the configuration.
    assert_eq!(
        package["contributors"],
        json!([{"title": "sanctuary-data", "roles": ["publisher"]},
               {"title": "sanctuary-data maintainers", "email": "data@example.org", "roles": ["contact"]}])
    );
    assert_eq!(package["licenses"][0]["name"], "CC-BY-4.0");
}

#[tokio::test]
async fn catalog_jsonld_names_every_release_newest_first() {
    let (app, db) = configured("small", federal()).await;
    for revision in [1, 2] {
        let dir = revised_fixture(revision);
        import(&db.db, dir.path()).await;
    }
    let reply = get(&app, "/catalog.jsonld").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), "application/ld+json");
    let catalog = reply.json();
    assert_eq!(catalog["@context"]["dcat"], "http://www.w3.org/ns/dcat#");
    assert_eq!(catalog["@context"]["dcterms"], "http://purl.org/dc/terms/");
    assert_eq!(catalog["@context"]["schema"], "https://schema.org/");
    assert_eq!(catalog["@id"], "https://data.example.gov/catalog.jsonld");
    assert!(
        catalog["@type"]
            .as_array()
            .unwrap()
            .contains(&json!("dcat:Catalog"))
    );
    let dataset = &catalog["dcat:dataset"][0];
    let versions = dataset["dcat:hasVersion"].as_array().unwrap();
    let releases = get(&app, "/api/v1/releases").await.json()["data"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(releases.len(), 3);
    assert_eq!(versions.len(), releases.len());
    for (i, (version, release)) in versions.iter().zip(&releases).enumerate() {
        let id = release["id"].as_str().unwrap();
        assert_eq!(version["dcterms:identifier"], id);
        assert_eq!(
            version["@id"],
            format!("https://data.example.gov/api/v1/releases/{id}")
        );
        assert_eq!(version["dcat:version"], release["seq"].to_string());
        assert!(
            version["@type"]
                .as_array()
                .unwrap()
                .contains(&json!("dcat:Dataset"))
        );
        assert_eq!(version["dcat:isVersionOf"]["@id"], dataset["@id"]);
        assert!(
            version["dcterms:issued"]["@value"]
                .as_str()
                .unwrap()
                .starts_with(&release["imported_at"].as_str().unwrap()[..19])
        );
        let downloads = version["dcat:distribution"].as_array().unwrap();
        assert_eq!(downloads.len(), 12, "a CSV and an Excel file per table");
        for download in downloads {
            let url = download["dcat:downloadURL"]["@id"].as_str().unwrap();
            assert!(url.ends_with(&format!("?release={id}")), "{url}");
        }
        // Each older release follows the one before it.
        match releases.get(i + 1) {
            Some(older) => assert_eq!(
                version["dcat:previousVersion"]["@id"],
                format!(
                    "https://data.example.gov/api/v1/releases/{}",
                    older["id"].as_str().unwrap()
                )
            ),
            None => assert!(version.get("dcat:previousVersion").is_none()),
        }
    }
    assert_eq!(dataset["dcat:hasCurrentVersion"]["@id"], versions[0]["@id"]);
    // An old release's downloads are still served.
    let oldest = versions.last().unwrap()["dcat:distribution"][0]["dcat:downloadURL"]["@id"]
        .as_str()
        .unwrap()
        .strip_prefix("https://data.example.gov")
        .unwrap()
        .to_owned();
    assert_eq!(get(&app, &oldest).await.status, 200, "{oldest}");
    assert_eq!(
        dataset["dcat:contactPoint"]["vcard:hasEmail"]["@id"],
        "mailto:open.data@example.gov"
    );
    // It takes no parameters, and it is linked from the home page's head.
    get(&app, "/catalog.jsonld?release=x")
        .await
        .assert_problem(400, Some("release"));
    let home = get(&app, "/").await.text();
    assert!(
        home.contains(r#"<link rel="alternate" type="application/ld+json" href="/catalog.jsonld""#),
        "{home:.2000}"
    );
}

#[tokio::test]
async fn catalogs_answer_304_to_their_etag() {
    let (app, _db) = app_with("small").await;
    for path in ["/catalog.jsonld", "/data.json", "/datapackage.json"] {
        let first = get(&app, path).await;
        let etag = first.header("etag").to_owned();
        assert!(!etag.is_empty(), "{path}");
        let again = get_with(&app, path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, 304, "{path}");
    }
}

#[test]
fn citation_cff_is_valid_cff_1_2_0_for_this_version() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("CITATION.cff");
    let text = std::fs::read_to_string(&path).expect("CITATION.cff in the repository root");
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("CITATION.cff is YAML");
    let cff = &docs[0];
    assert_eq!(cff["cff-version"].as_str(), Some("1.2.0"));
    assert!(!cff["message"].as_str().unwrap_or_default().is_empty());
    assert_eq!(cff["title"].as_str(), Some("sanctuary-data"));
    assert_eq!(cff["type"].as_str(), Some("software"));
    assert_eq!(cff["version"].as_str(), Some(env!("CARGO_PKG_VERSION")));
    let authors = cff["authors"].as_vec().expect("authors is a list");
    assert!(!authors.is_empty());
    for author in authors {
        // An entity (a name), or a person (family and given names).
        assert!(
            author["name"].as_str().is_some() || author["family-names"].as_str().is_some(),
            "{author:?}"
        );
    }
    // The licence is Cargo.toml's: a list in CFF means any one of them (OR).
    let licenses: Vec<&str> = cff["license"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(licenses.join(" OR "), env!("CARGO_PKG_LICENSE"));
    // CFF 1.2.0 allows no other top-level keys.
    let allowed = [
        "abstract",
        "authors",
        "cff-version",
        "commit",
        "contact",
        "date-released",
        "doi",
        "identifiers",
        "keywords",
        "license",
        "license-url",
        "message",
        "preferred-citation",
        "references",
        "repository",
        "repository-artifact",
        "repository-code",
        "title",
        "type",
        "url",
        "version",
    ];
    for key in cff.as_hash().unwrap().keys() {
        let key = key.as_str().unwrap();
        assert!(allowed.contains(&key), "{key} is not a CFF 1.2.0 key");
    }
}

/// The options a `serve` with nothing set resolves to: the built-in defaults.
#[test]
fn nothing_configured_is_the_default_publication() {
    let publication =
        Publication::resolve(&PublicationArgs::default(), None).expect("the defaults resolve");
    assert_eq!(publication, Publication::default());
}
