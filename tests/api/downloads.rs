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

// ---- Downloads rendered once per release (issue #13) ----

/// The state and the app over it, for tests that look at the download store.
fn app_and_state(db: &sea_orm::DatabaseConnection) -> (axum::Router, sanctuary_data::AppState) {
    let state = sanctuary_data::AppState::new(db.clone());
    (sanctuary_data::build_app(state.clone()), state)
}

/// The synthetic example: breakdowns with small cells, so some values are suppressed.
fn with_suppression() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/synthetic-breakdowns")
}

#[tokio::test]
async fn a_download_is_a_file_with_length_validators_and_ranges() {
    let test_db = fresh_db().await;
    import(&test_db.db, synthetic_fixture(300).path()).await;
    let (app, _state) = app_and_state(&test_db.db);
    let plain = [("accept-encoding", "identity")];
    let full = get_with(&app, "/downloads/statistics.csv", &plain).await;
    assert_eq!(full.status, 200);
    assert_eq!(full.header("accept-ranges"), "bytes");
    assert_eq!(full.header("content-length"), full.body.len().to_string());
    assert!(full.header("vary").contains("Accept-Encoding"));
    let etag = full.header("etag").to_owned();
    assert!(etag.starts_with('"'), "a strong ETag: {etag}");
    let releases = get(&app, "/api/v1/releases").await.json();
    let imported: chrono::DateTime<chrono::Utc> = releases["data"][0]["imported_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let last_modified = full.header("last-modified").to_owned();
    assert_eq!(
        last_modified,
        imported.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        "Last-Modified is the release's import time"
    );
    let len = full.body.len();

    // A range: 206 with exactly those bytes.
    let part = get_with(
        &app,
        "/downloads/statistics.csv",
        &[("accept-encoding", "identity"), ("range", "bytes=100-199")],
    )
    .await;
    assert_eq!(part.status, 206);
    assert_eq!(part.header("content-range"), format!("bytes 100-199/{len}"));
    assert_eq!(part.header("content-length"), "100");
    assert_eq!(part.body, full.body.slice(100..200));
    assert_eq!(part.header("etag"), etag);
    // The rest of an interrupted download.
    let rest = get_with(
        &app,
        "/downloads/statistics.csv",
        &[
            ("accept-encoding", "identity"),
            ("range", &format!("bytes={}-", len - 10)),
        ],
    )
    .await;
    assert_eq!(rest.status, 206);
    assert_eq!(rest.body, full.body.slice(len - 10..));

    // Beyond the end: 416 problem+json with the length in Content-Range.
    let beyond = get_with(
        &app,
        "/downloads/statistics.csv",
        &[
            ("accept-encoding", "identity"),
            ("range", &format!("bytes={len}-")),
        ],
    )
    .await;
    beyond.assert_problem(416, None);
    assert_eq!(beyond.header("content-range"), format!("bytes */{len}"));

    // If-Range: the range only while the validator is current.
    for (validator, partial) in [
        (etag.as_str(), true),
        (last_modified.as_str(), true),
        ("\"00000000000000000000000000000000\"", false),
        (&format!("W/{etag}"), false),
        ("Mon, 01 Jan 2001 00:00:00 GMT", false),
    ] {
        let reply = get_with(
            &app,
            "/downloads/statistics.csv",
            &[
                ("accept-encoding", "identity"),
                ("range", "bytes=0-9"),
                ("if-range", validator),
            ],
        )
        .await;
        if partial {
            assert_eq!(reply.status, 206, "If-Range {validator}");
            assert_eq!(reply.body, full.body.slice(0..10));
        } else {
            assert_eq!(reply.status, 200, "If-Range {validator}");
            assert_eq!(reply.body, full.body, "If-Range {validator}");
        }
    }

    // Conditional requests: 304 with the same validators.
    for (name, value) in [
        ("if-none-match", etag.as_str()),
        ("if-modified-since", last_modified.as_str()),
    ] {
        let reply = get_with(
            &app,
            "/downloads/statistics.csv",
            &[("accept-encoding", "identity"), (name, value)],
        )
        .await;
        assert_eq!(reply.status, 304, "{name}");
        assert_eq!(reply.header("etag"), etag, "{name}");
        assert!(reply.body.is_empty());
    }
    // HEAD: the headers, no body.
    let head = send(
        &app,
        axum::http::Request::head("/downloads/statistics.csv")
            .header("accept-encoding", "identity")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), len.to_string());
    assert_eq!(head.header("etag"), etag);
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn each_precompressed_variant_has_its_own_etag_and_the_same_content() {
    let test_db = fresh_db().await;
    import(&test_db.db, synthetic_fixture(800).path()).await;
    let (app, _state) = app_and_state(&test_db.db);
    let mut etags = Vec::new();
    let mut plain = None;
    for (accept, expected) in [
        ("identity", ""),
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br", "br"),
        ("gzip;q=1, br;q=0.5", "gzip"),
    ] {
        let reply = get_with(
            &app,
            "/downloads/statistics.csv",
            &[("accept-encoding", accept)],
        )
        .await;
        assert_eq!(reply.status, 200, "{accept}");
        assert_eq!(reply.header("content-encoding"), expected, "{accept}");
        assert_eq!(reply.header("content-length"), reply.body.len().to_string());
        assert!(reply.header("vary").contains("Accept-Encoding"));
        assert!(reply.header("content-type").starts_with("text/csv"));
        let text = decompress(&reply);
        match &plain {
            None => plain = Some(text),
            Some(plain) => assert_eq!(&text, plain, "{accept}: same bytes once decoded"),
        }
        if !etags.iter().any(|(e, _)| e == reply.header("etag")) {
            etags.push((reply.header("etag").to_owned(), expected));
        }
        // Its own ETag answers 304; a range is of its own (compressed) bytes.
        let again = get_with(
            &app,
            "/downloads/statistics.csv",
            &[
                ("accept-encoding", accept),
                ("if-none-match", reply.header("etag")),
            ],
        )
        .await;
        assert_eq!(again.status, 304, "{accept}");
        let part = get_with(
            &app,
            "/downloads/statistics.csv",
            &[("accept-encoding", accept), ("range", "bytes=5-24")],
        )
        .await;
        assert_eq!(part.status, 206, "{accept}");
        assert_eq!(part.header("content-encoding"), expected, "{accept}");
        assert_eq!(part.body, reply.body.slice(5..25), "{accept}");
    }
    assert_eq!(etags.len(), 3, "one ETag per variant: {etags:?}");
    // An ETag of another variant in If-Range: the whole of this one.
    let gzip_etag = &etags.iter().find(|(_, e)| *e == "gzip").unwrap().0;
    let reply = get_with(
        &app,
        "/downloads/statistics.csv",
        &[
            ("accept-encoding", "br"),
            ("range", "bytes=0-9"),
            ("if-range", gzip_etag),
        ],
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-encoding"), "br");
}

/// A CSV cell as a spreadsheet shows it: without the apostrophe that guards a text cell
/// against being run as a formula (an Excel text cell needs no guard).
fn unguarded(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_owned(),
        _ => cell.to_owned(),
    }
}

/// Every row of a workbook's sheet, as the CSV writes its cells; and the sheet names.
fn read_workbook(
    bytes: &[u8],
    sheet: &str,
) -> (Vec<Vec<String>>, Vec<Vec<calamine::Data>>, Vec<String>) {
    use calamine::{DataType, Reader};
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("an xlsx");
    let names = workbook.sheet_names();
    let range = workbook.worksheet_range(sheet).expect("the sheet");
    let cells: Vec<Vec<calamine::Data>> = range.rows().map(|r| r.to_vec()).collect();
    let text = cells
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    calamine::Data::Empty => String::new(),
                    calamine::Data::String(s) => s.clone(),
                    calamine::Data::Bool(b) => b.to_string(),
                    calamine::Data::Float(f) => format!("{}", *f as i64),
                    calamine::Data::Int(i) => i.to_string(),
                    calamine::Data::DateTime(_) => {
                        cell.as_date().unwrap().format("%Y-%m-%d").to_string()
                    }
                    other => panic!("unexpected cell {other:?}"),
                })
                .collect()
        })
        .collect();
    (text, cells, names)
}

#[tokio::test]
async fn csv_excel_and_api_rows_are_the_same_and_suppressed_cells_carry_no_value() {
    let test_db = fresh_db().await;
    import(&test_db.db, &with_suppression()).await;
    let (app, _state) = app_and_state(&test_db.db);
    let release = get(&app, "/api/v1/releases").await.json()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for table in TABLES {
        let api = collection_as_csv(&app, table).await;
        let csv = parse_csv(&get(&app, &format!("/downloads/{table}.csv")).await.text());
        assert_eq!(csv, api, "{table}: the CSV download has the API's rows");
        let reply = get(&app, &format!("/downloads/{table}.xlsx")).await;
        assert_eq!(reply.status, 200, "{table}: {}", reply.text());
        assert_eq!(
            reply.header("content-type"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert_eq!(
            reply.header("content-encoding"),
            "",
            "a workbook is already compressed"
        );
        assert!(reply.header("content-disposition").ends_with(".xlsx\""));
        let (rows, cells, names) = read_workbook(&reply.body, table);
        assert_eq!(names, [table, "About"]);
        let csv_unguarded: Vec<Vec<String>> = csv
            .iter()
            .map(|row| row.iter().map(|c| unguarded(c)).collect())
            .collect();
        assert_eq!(
            rows, csv_unguarded,
            "{table}: the workbook has the CSV's rows"
        );
        // Typed cells: dates are dates, numbers numbers, flags booleans.
        let header = &rows[0];
        for (i, column) in header.iter().enumerate() {
            for row in &cells[1..] {
                let cell = &row[i];
                match column.as_str() {
                    "period_start" | "period_end" | "date" => {
                        assert!(
                            matches!(cell, calamine::Data::DateTime(_)),
                            "{table}.{column}: {cell:?}"
                        )
                    }
                    "value" => assert!(
                        matches!(
                            cell,
                            calamine::Data::Float(_)
                                | calamine::Data::Int(_)
                                | calamine::Data::Empty
                        ),
                        "{table}.{column}: {cell:?}"
                    ),
                    "suppressed" => assert!(matches!(cell, calamine::Data::Bool(_))),
                    _ => {}
                }
            }
        }
        // The About sheet: release, disclosure policy, licence, how to cite.
        let (about, _, _) = read_workbook(&reply.body, "About");
        let about: std::collections::HashMap<&str, &str> = about
            .iter()
            .map(|r| (r[0].as_str(), r[1].as_str()))
            .collect();
        assert_eq!(about["Release"], release);
        assert!(about["Disclosure control"].contains("< 11"), "{about:?}");
        assert!(about["Licence"].contains("CC-BY-4.0"));
        assert!(about["How to cite"].contains(&release));
        assert_eq!(about["Rows"], (rows.len() - 1).to_string());
    }
    // Suppressed cells: empty value, suppressed true, in both files.
    let csv = parse_csv(&get(&app, "/downloads/statistics.csv").await.text());
    let (_, cells, _) = read_workbook(
        &get(&app, "/downloads/statistics.xlsx").await.body,
        "statistics",
    );
    let value = csv[0].iter().position(|c| c == "value").unwrap();
    let flag = csv[0].iter().position(|c| c == "suppressed").unwrap();
    let hidden: Vec<usize> = (1..csv.len()).filter(|&i| csv[i][flag] == "true").collect();
    assert!(!hidden.is_empty(), "the example has suppressed cells");
    for i in 1..csv.len() {
        let suppressed = csv[i][flag] == "true";
        assert_eq!(cells[i][flag], calamine::Data::Bool(suppressed));
        if suppressed {
            assert_eq!(csv[i][value], "", "row {i}");
            assert_eq!(cells[i][value], calamine::Data::Empty, "row {i}");
        } else {
            assert!(!csv[i][value].is_empty());
        }
    }
}

#[tokio::test]
async fn two_instances_on_one_database_serve_identical_files_and_validators() {
    let test_db = fresh_db().await;
    import(&test_db.db, &with_suppression()).await;
    let (first, a) = app_and_state(&test_db.db);
    let (second, b) = app_and_state(&test_db.db);
    assert_ne!(
        a.files.dir(),
        b.files.dir(),
        "each instance renders its own copy"
    );
    for uri in [
        "/downloads/statistics.csv",
        "/downloads/statistics.csv?bom=true",
        "/downloads/events.xlsx",
        "/downloads/statistics.xlsx",
    ] {
        for encoding in ["identity", "gzip", "br"] {
            let headers = [("accept-encoding", encoding)];
            let x = get_with(&first, uri, &headers).await;
            let y = get_with(&second, uri, &headers).await;
            assert_eq!(x.status, 200, "{uri}");
            assert_eq!(x.body, y.body, "{uri} {encoding}: same bytes");
            for name in [
                "etag",
                "last-modified",
                "content-length",
                "content-encoding",
            ] {
                assert_eq!(x.header(name), y.header(name), "{uri} {encoding}: {name}");
            }
        }
    }
    // The BOM file is its own file.
    let bom = get_with(
        &first,
        "/downloads/statistics.csv?bom=true",
        &[("accept-encoding", "identity")],
    )
    .await;
    let plain = get_with(
        &first,
        "/downloads/statistics.csv",
        &[("accept-encoding", "identity")],
    )
    .await;
    assert_eq!(&bom.body[..3], b"\xEF\xBB\xBF");
    assert_eq!(&bom.body[3..], &plain.body[..]);
    assert_ne!(bom.header("etag"), plain.header("etag"));
    // A workbook needs no byte order mark: the same file either way (a schema-valid
    // request that schemathesis sends).
    let workbook = get(&first, "/downloads/statistics.xlsx").await;
    for query in ["?bom=true", "?bom=false"] {
        let same = get(&first, &format!("/downloads/statistics.xlsx{query}")).await;
        assert_eq!(same.status, 200, "{query}");
        assert_eq!(same.body, workbook.body, "{query}");
    }
}

#[tokio::test]
async fn a_download_is_rendered_once_and_a_new_release_gets_its_own_file() {
    use sanctuary_data::entity::statistic;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let test_db = fresh_db().await;
    import(&test_db.db, &fixture("small")).await;
    let (app, _state) = app_and_state(&test_db.db);
    let first = get(&app, "/downloads/statistics.csv").await;
    let first_release = first.header("x-data-release").to_owned();
    let first_xlsx = get(&app, "/downloads/statistics.xlsx").await;

    // Rendered once: later requests are served from the file, not the database. (The
    // rows are removed behind the service's back to show it; a release never changes.)
    statistic::Entity::delete_many()
        .filter(statistic::Column::ReleaseId.eq(&first_release))
        .exec(&test_db.db)
        .await
        .unwrap();
    let again = get(&app, "/downloads/statistics.csv").await;
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("etag"), first.header("etag"));

    // A new release: the latest URL serves its file; the pinned URL the old one.
    import(&test_db.db, synthetic_fixture(50).path()).await;
    let latest = get(&app, "/downloads/statistics.csv").await;
    assert_ne!(latest.header("x-data-release"), first_release);
    assert_ne!(latest.header("etag"), first.header("etag"));
    assert_eq!(
        parse_csv(&latest.text()).len(),
        parse_csv(&first.text()).len() + 50
    );
    assert_eq!(latest.header("cache-control"), "public, max-age=60");
    let pinned = get(
        &app,
        &format!("/downloads/statistics.csv?release={first_release}"),
    )
    .await;
    assert_eq!(pinned.body, first.body);
    assert_eq!(pinned.header("etag"), first.header("etag"));
    assert!(pinned.header("cache-control").contains("immutable"));
    let pinned_xlsx = get(
        &app,
        &format!("/downloads/statistics.xlsx?release={first_release}"),
    )
    .await;
    assert_eq!(pinned_xlsx.body, first_xlsx.body);
    let latest_xlsx = get(&app, "/downloads/statistics.xlsx").await;
    let (rows, _, _) = read_workbook(&latest_xlsx.body, "statistics");
    assert_eq!(rows.len(), parse_csv(&latest.text()).len());
}

#[tokio::test]
async fn the_listing_and_the_catalogs_name_the_excel_downloads() {
    let test_db = fresh_db().await;
    import(&test_db.db, &fixture("small")).await;
    let (app, _state) = app_and_state(&test_db.db);
    let list = get(&app, "/downloads").await.json();
    for entry in list["data"].as_array().unwrap() {
        let url = entry["xlsx_url"].as_str().unwrap();
        assert!(url.contains(".xlsx?release="), "{url}");
        assert_eq!(get(&app, url).await.status, 200, "{url}");
    }
    get(&app, "/downloads/statistics.txt")
        .await
        .assert_problem(404, Some("file"));
    get(&app, "/downloads/nothing.xlsx")
        .await
        .assert_problem(404, Some("file"));
}

#[tokio::test]
async fn a_rendering_goes_on_when_the_client_gives_up() {
    let test_db = fresh_db().await;
    import(&test_db.db, synthetic_fixture(2000).path()).await;
    let (app, state) = app_and_state(&test_db.db);
    let release = get(&app, "/api/v1/releases").await.json()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The first request is dropped at its first wait, as a client that hangs up (or the
    // request timeout) would drop it.
    let request = get(&app, "/downloads/statistics.xlsx");
    assert!(
        tokio::time::timeout(std::time::Duration::from_micros(1), request)
            .await
            .is_err()
    );
    let file = state
        .files
        .dir()
        .join(sanctuary_data::files::RENDERING)
        .join(&release)
        .join("statistics.xlsx");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !file.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the workbook was never written"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let reply = get(&app, "/downloads/statistics.xlsx").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, std::fs::read(&file).unwrap());
    // And it is whole: every row, not what had arrived when the client left.
    let (rows, _, _) = read_workbook(&reply.body, "statistics");
    let csv = parse_csv(&get(&app, "/downloads/statistics.csv").await.text());
    assert_eq!(rows.len(), csv.len());
    assert!(rows.len() > 2000);
}

/// A download modified since the date of `If-Unmodified-Since` is refused with a 412
/// problem+json that carries none of the file's validators: an `ETag` or `Last-Modified`
/// on it would describe the file, not the problem a cache would store under them.
#[tokio::test]
async fn a_failed_precondition_is_a_problem_without_the_files_validators() {
    let test_db = fresh_db().await;
    import(&test_db.db, synthetic_fixture(300).path()).await;
    let (app, _state) = app_and_state(&test_db.db);
    let reply = get_with(
        &app,
        "/downloads/statistics.csv",
        &[
            ("accept-encoding", "identity"),
            ("if-unmodified-since", "Mon, 01 Jan 2001 00:00:00 GMT"),
        ],
    )
    .await;
    reply.assert_problem(412, None);
    for name in [
        "etag",
        "last-modified",
        "accept-ranges",
        "content-disposition",
    ] {
        assert!(
            reply.headers.get(name).is_none(),
            "{name}: {:?}",
            reply.headers.get(name)
        );
    }
}
