//! `/downloads`: whole tables as CSV, plain or compressed, and the listing's sizes.

use std::io::Read;

use serde_json::Value;

use crate::helpers::*;

/// The tables, in the order `/downloads` lists them.
const TABLES: [&str; 6] = [
    "programs",
    "statistics",
    "events",
    "documents",
    "sources",
    "metrics",
];

/// Decode a body by its `Content-Encoding`.
fn decompress(reply: &Reply) -> Vec<u8> {
    let mut out = Vec::new();
    match reply.header("content-encoding") {
        "" => out.extend_from_slice(&reply.body),
        "gzip" => {
            flate2::read::GzDecoder::new(&reply.body[..])
                .read_to_end(&mut out)
                .expect("a complete gzip stream");
        }
        "br" => {
            brotli::Decompressor::new(&reply.body[..], 4096)
                .read_to_end(&mut out)
                .expect("a complete brotli stream");
        }
        other => panic!("unexpected content-encoding {other:?}"),
    }
    out
}

/// Every row of a collection as CSV (header first), paged through with `Link` headers.
async fn collection_as_csv(app: &axum::Router, table: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut next = Some(format!("/api/v1/{table}?format=csv&limit=1000"));
    while let Some(uri) = next {
        let reply = get(app, &uri).await;
        assert_eq!(reply.status, 200, "{uri}: {}", reply.text());
        let page = parse_csv(&reply.text());
        if rows.is_empty() {
            rows.push(page[0].clone());
        }
        rows.extend(page.into_iter().skip(1));
        next = reply
            .header("link")
            .strip_prefix('<')
            .and_then(|l| l.split_once('>'))
            .map(|(uri, _)| uri.to_owned());
    }
    rows
}

/// Ids of a collection, paged through as JSON.
async fn collection_ids(app: &axum::Router, table: &str) -> Vec<String> {
    let key = if table == "programs" { "slug" } else { "id" };
    let mut ids = Vec::new();
    let mut next = Some(format!("/api/v1/{table}?limit=1000"));
    while let Some(uri) = next {
        let body = get(app, &uri).await.json();
        ids.extend(
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item[key].as_str().unwrap().to_owned()),
        );
        next = body["links"]["next"].as_str().map(str::to_owned);
    }
    ids
}

#[tokio::test]
async fn every_table_downloads_whole_plain_gzip_and_brotli() {
    let test_db = fresh_db().await;
    let dir = synthetic_fixture(2500);
    import(&test_db.db, dir.path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    for table in TABLES {
        let expected = collection_as_csv(&app, table).await;
        let ids = collection_ids(&app, table).await;
        assert_eq!(expected.len(), ids.len() + 1, "{table}");
        for encoding in ["identity", "gzip", "br"] {
            let reply = get_with(
                &app,
                &format!("/downloads/{table}.csv"),
                &[("accept-encoding", encoding)],
            )
            .await;
            assert_eq!(reply.status, 200, "{table} {encoding}");
            let wanted = if encoding == "identity" { "" } else { encoding };
            assert_eq!(reply.header("content-encoding"), wanted, "{table}");
            let text = String::from_utf8(decompress(&reply)).expect("UTF-8 CSV");
            let rows = parse_csv(&text);
            assert_eq!(
                rows.len(),
                expected.len(),
                "{table} with {encoding}: every row arrives"
            );
            assert_eq!(rows, expected, "{table} with {encoding}");
            let first_column: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
            assert_eq!(first_column, ids, "{table} with {encoding}");
        }
    }
}

/// Check every entry of `/downloads` against the file it points to.
async fn assert_listing_matches_files(app: &axum::Router) {
    let list = get(app, "/downloads").await.json();
    let data: &Vec<Value> = list["data"].as_array().unwrap();
    assert_eq!(data.len(), TABLES.len());
    for entry in data {
        let file = get(app, entry["url"].as_str().unwrap()).await;
        assert_eq!(file.status, 200);
        assert_eq!(
            entry["bytes"].as_u64().unwrap(),
            file.body.len() as u64,
            "{entry}"
        );
        let rows = parse_csv(&file.text());
        assert_eq!(
            entry["rows"].as_u64().unwrap(),
            rows.len() as u64 - 1,
            "{entry}"
        );
    }
}

#[tokio::test]
async fn the_listing_gives_each_files_exact_size_and_row_count() {
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data");
    let synthetic = synthetic_fixture(1500);
    for dir in [seed.as_path(), synthetic.path()] {
        let test_db = fresh_db().await;
        import(&test_db.db, dir).await;
        let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
        assert_listing_matches_files(&app).await;
    }
}

#[tokio::test]
async fn the_import_stores_download_sizes_and_the_listing_reads_them_without_rendering() {
    use sanctuary_data::entity::release_download;
    use sea_orm::{ActiveModelTrait, ActiveValue, EntityTrait, IntoActiveModel};
    let test_db = fresh_db().await;
    import(&test_db.db, &fixture("small")).await;
    let stored = release_download::Entity::find()
        .all(&test_db.db)
        .await
        .unwrap();
    let mut names: Vec<&str> = stored.iter().map(|r| r.table_name.as_str()).collect();
    names.sort_unstable();
    let mut expected = TABLES.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected, "the import stores one size per table");
    // The listing shows what is stored: it does not count rows or bytes itself.
    let statistics = stored
        .into_iter()
        .find(|r| r.table_name == "statistics")
        .unwrap();
    let mut forged = statistics.into_active_model();
    forged.row_count = ActiveValue::Set(123_456_789);
    forged.update(&test_db.db).await.unwrap();
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let list = get(&app, "/downloads").await.json();
    let entry = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["table"] == "statistics")
        .unwrap()
        .clone();
    assert_eq!(entry["rows"], 123_456_789);
}

#[tokio::test]
async fn a_release_imported_before_sizes_were_stored_is_measured_once_and_stored() {
    use sanctuary_data::entity::release_download;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let test_db = fresh_db().await;
    let dir = synthetic_fixture(1200);
    import(&test_db.db, dir.path()).await;
    // What a database from before the sizes table looks like after the migration.
    release_download::Entity::delete_many()
        .exec(&test_db.db)
        .await
        .unwrap();
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    assert_listing_matches_files(&app).await;
    assert_eq!(
        release_download::Entity::find()
            .count(&test_db.db)
            .await
            .unwrap(),
        TABLES.len() as u64,
        "the measured sizes are stored"
    );
    // Start-up measures every release still missing them (`serve` calls this).
    release_download::Entity::delete_many()
        .exec(&test_db.db)
        .await
        .unwrap();
    assert_eq!(
        sanctuary_data::rest::measure_missing_sizes(&test_db.db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        release_download::Entity::find()
            .count(&test_db.db)
            .await
            .unwrap(),
        TABLES.len() as u64
    );
    let fresh = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    assert_listing_matches_files(&fresh).await;
}
