//! Field selection (issue #14): `fields=` on every REST collection and item, for JSON and
//! CSV; the columns follow the request, the values are the full row's, bad selections
//! are 400s naming `fields`, ETags and cache entries differ per selection, links keep
//! it, and a suppressed value never passes for a published one.

use serde::Deserialize;
use serde_json::Value;

use crate::helpers::*;

/// The keys of a JSON object in the order they were written (serde_json's `Value` sorts
/// them).
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Data {
    Rows(Vec<Keys>),
    Item(Keys),
}

#[derive(Deserialize)]
struct Body {
    data: Data,
}

/// The keys of each row of a JSON list or item response, in the order sent.
fn row_keys(reply: &Reply) -> Vec<Vec<String>> {
    match serde_json::from_slice::<Body>(&reply.body).unwrap().data {
        Data::Rows(rows) => rows.into_iter().map(|k| k.0).collect(),
        Data::Item(keys) => vec![keys.0],
    }
}

/// The CSV text as (header, rows).
fn csv(reply: &Reply) -> (Vec<String>, Vec<Vec<String>>) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let mut rows = parse_csv(&reply.text());
    let header = rows.remove(0);
    (header, rows)
}

/// A JSON value as the CSV writes it (null: empty).
fn as_cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

async fn breakdowns_app() -> (axum::Router, TestDb) {
    let test_db = fresh_db().await;
    import(
        &test_db.db,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/synthetic-breakdowns"),
    )
    .await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    (app, test_db)
}

#[tokio::test]
async fn fields_choose_and_order_the_columns_of_json_and_csv_alike() {
    let (app, _db) = breakdowns_app().await;
    let full = get(&app, "/api/v1/statistics?limit=1000").await.json();
    let full_csv = csv(&get(&app, "/api/v1/statistics?limit=1000&format=csv").await);
    let asked = "period_end,source_url,id,suppression_reason,qualifier,suppressed,value,note";
    let json = get(
        &app,
        &format!("/api/v1/statistics?limit=1000&fields={asked}"),
    )
    .await;
    assert_eq!(json.status, 200, "{}", json.text());
    let keys = row_keys(&json);
    let json = json.json();
    let (header, rows) = csv(&get(
        &app,
        &format!("/api/v1/statistics?limit=1000&format=csv&fields={asked}"),
    )
    .await);
    let names: Vec<&str> = asked.split(',').collect();
    assert_eq!(header, names, "the CSV columns follow the request");
    let data = json["data"].as_array().unwrap();
    assert_eq!(data.len(), rows.len());
    assert_eq!(data.len(), full["data"].as_array().unwrap().len());
    assert_eq!(json["meta"], full["meta"]);
    for (((object, row), (whole, whole_csv)), keys) in data
        .iter()
        .zip(&rows)
        .zip(full["data"].as_array().unwrap().iter().zip(&full_csv.1))
        .zip(&keys)
    {
        let object = object.as_object().unwrap();
        assert_eq!(keys, &names, "the JSON keys follow the request");
        for (i, name) in names.iter().enumerate() {
            // The same value in JSON and CSV, and the value of the full row.
            assert_eq!(as_cell(&object[*name]), row[i], "{name}");
            let column = full_csv.0.iter().position(|h| h == name).unwrap();
            assert_eq!(row[i], whole_csv[column], "{name}");
        }
        assert_eq!(object["id"], whole["id"]);
        assert_eq!(object["value"], whole["value"]);
        assert_eq!(object["source_url"], whole["source"]["url"]);
    }
}

#[tokio::test]
async fn every_collection_and_item_takes_fields() {
    let (app, _db) = app_with("small").await;
    for (path, fields) in [
        ("/api/v1/programs", "name,source_id"),
        ("/api/v1/programs/alpha", "jurisdiction,source_id"),
        ("/api/v1/events", "date,source_id"),
        ("/api/v1/documents", "title,source_id"),
        ("/api/v1/documents/alpha-code", "title,source_id"),
        ("/api/v1/sources", "publisher,id"),
        ("/api/v1/sources/src-a", "publisher,id"),
        ("/api/v1/metrics", "unit,id"),
        ("/api/v1/statistics/alpha-2022", "period_start,source_id"),
        ("/api/v1/statistics/latest", "category,source_id"),
    ] {
        let reply = get(&app, &format!("{path}?fields={fields}")).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        let keys = row_keys(&reply);
        assert!(!keys.is_empty(), "{path}");
        for row in keys {
            assert_eq!(row, fields.split(',').collect::<Vec<_>>(), "{path}");
        }
    }
}

#[tokio::test]
async fn a_suppressed_value_never_passes_for_a_published_one() {
    let (app, _db) = breakdowns_app().await;
    let json = get(&app, "/api/v1/statistics?limit=1000&fields=id,value")
        .await
        .json();
    let (header, rows) = csv(&get(
        &app,
        "/api/v1/statistics?limit=1000&format=csv&fields=id,value",
    )
    .await);
    assert_eq!(
        header,
        ["id", "value", "suppressed"],
        "value brings its marker"
    );
    let mut suppressed = 0;
    for (object, row) in json["data"].as_array().unwrap().iter().zip(&rows) {
        if object["suppressed"] == true {
            suppressed += 1;
            assert!(object["value"].is_null(), "{object}");
            assert_eq!(row[1], "", "an empty cell, never 0");
            assert_eq!(row[2], "true");
        } else {
            assert!(object["value"].is_i64(), "{object}");
        }
    }
    assert!(suppressed > 0, "the example has suppressed cells");
    // Asked for explicitly, the marker stays where it was asked for.
    let (header, _) = csv(&get(
        &app,
        "/api/v1/statistics?format=csv&fields=suppressed,id,value",
    )
    .await);
    assert_eq!(header, ["suppressed", "id", "value"]);
}

#[tokio::test]
async fn bad_selections_are_400_problems_naming_fields() {
    let (app, _db) = breakdowns_app().await;
    for (path, fields) in [
        ("/api/v1/statistics", "id,position"),
        ("/api/v1/statistics", "id,id"),
        ("/api/v1/statistics", "id,,value"),
        ("/api/v1/statistics", "id,"),
        ("/api/v1/statistics", "ID"),
        ("/api/v1/statistics", "%00"),
        ("/api/v1/statistics/q1-total", "nope"),
        ("/api/v1/statistics/latest", "id,id"),
        ("/api/v1/events", "value"),
        ("/api/v1/metrics", "source_id"),
        ("/api/v1/programs/synthetic-city", "slug,slug"),
        ("/api/v1/statistics", ""),
    ] {
        let reply = get(&app, &format!("{path}?fields={fields}")).await;
        let detail = reply.assert_problem(400, Some("fields"));
        assert!(detail.contains("field"), "{detail}");
    }
    let detail = get(&app, "/api/v1/statistics?fields=id,valeu")
        .await
        .assert_problem(400, Some("fields"));
    assert!(
        detail.contains("valeu") && detail.contains("period_start"),
        "{detail}"
    );
    // The HTML table view shows every column and says so.
    get(&app, "/browse/statistics?fields=id")
        .await
        .assert_problem(400, Some("fields"));
}

#[tokio::test]
async fn etags_differ_per_selection_and_links_keep_it() {
    let (app, _db) = breakdowns_app().await;
    let mut etags = Vec::new();
    for query in [
        "",
        "fields=id,value",
        "fields=value,id",
        "fields=id",
        "fields=id&format=csv",
    ] {
        let reply = get(&app, &format!("/api/v1/statistics?limit=5&{query}")).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let etag = reply.header("etag").to_owned();
        assert!(!etag.is_empty());
        assert!(!etags.contains(&etag), "{query}: a distinct ETag");
        etags.push(etag);
    }
    // An ETag of one selection does not validate another.
    let reply = get_with(
        &app,
        "/api/v1/statistics?limit=5&fields=value,id",
        &[("if-none-match", &etags[1])],
    )
    .await;
    assert_eq!(reply.status, 200);
    let reply = get_with(
        &app,
        "/api/v1/statistics?limit=5&fields=id,value",
        &[("if-none-match", &etags[1])],
    )
    .await;
    assert_eq!(reply.status, 304);
    // Every page of a walk keeps the selection, in JSON and through the CSV Link header.
    let mut url = Some("/api/v1/statistics?limit=4&fields=category,id".to_owned());
    let mut pages = 0;
    while let Some(u) = url {
        let reply = get(&app, &u).await;
        for keys in row_keys(&reply) {
            assert_eq!(keys, ["category", "id"]);
        }
        let body = reply.json();
        pages += 1;
        url = body["links"]["next"].as_str().map(str::to_owned);
    }
    assert!(pages > 2);
    let reply = get(
        &app,
        "/api/v1/statistics?limit=4&format=csv&fields=category,id",
    )
    .await;
    let link = reply.header("link");
    let next = link
        .strip_prefix('<')
        .and_then(|l| l.split_once('>'))
        .unwrap()
        .0;
    let (header, _) = csv(&get(&app, next).await);
    assert_eq!(header, ["category", "id"]);
}
