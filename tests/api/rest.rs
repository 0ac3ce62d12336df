//! The REST API: content, filters, errors, pagination, CSV and HTTP behaviour.

use std::collections::HashSet;

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn programs_list_with_their_sources() {
    let (app, _db) = app_with("small").await;
    let reply = get(&app, "/api/v1/programs").await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(ids(&body), ["alpha", "beta"]);
    let alpha = &body["data"][0];
    assert_eq!(alpha["name"], "Alpha ID");
    assert_eq!(alpha["launched_on"], "2018-04-30");
    assert_eq!(alpha["status"], "active");
    assert_eq!(alpha["source"]["url"], "https://example.org/a");
    assert_eq!(alpha["source"]["title"], "Synthetic source A");
    assert_eq!(body["meta"]["total"], 2);
    assert_eq!(body["meta"]["limit"], 100);
    assert_eq!(body["links"]["next"], Value::Null);
    assert_eq!(
        ids(&get(&app, "/api/v1/programs?status=unknown").await.json()),
        ["beta"]
    );
}

#[tokio::test]
async fn a_program_by_slug_and_an_unknown_one() {
    let (app, _db) = app_with("small").await;
    let body = get(&app, "/api/v1/programs/beta").await.json();
    assert_eq!(body["data"]["jurisdiction"], "Beta Town");
    assert_eq!(body["data"]["website"], Value::Null);
    let detail = get(&app, "/api/v1/programs/gamma")
        .await
        .assert_problem(404, Some("slug"));
    assert!(detail.contains("no program \"gamma\""), "{detail}");
    get(&app, "/api/v1/programs?status=closed")
        .await
        .assert_problem(400, Some("status"));
    get(&app, "/api/v1/programs/beta?limit=3")
        .await
        .assert_problem(400, Some("limit"));
}

#[tokio::test]
async fn statistics_carry_value_qualifier_and_source() {
    let (app, _db) = app_with("small").await;
    let body = get(&app, "/api/v1/statistics").await.json();
    assert_eq!(ids(&body), ["alpha-2022", "alpha-2023", "beta-2016"]);
    let first = &body["data"][0];
    assert_eq!(first["value"], 19000);
    assert_eq!(first["suppressed"], false);
    assert_eq!(first["suppression_reason"], Value::Null);
    assert_eq!(first["qualifier"], "exact");
    assert_eq!(first["metric"], "cards_issued");
    assert_eq!(first["period_start"], "2022-01-01");
    assert_eq!(first["source"]["url"], "https://example.org/a");
    assert_eq!(body["data"][1]["qualifier"], "approximately");
    assert_eq!(body["data"][2]["qualifier"], "at_least");
    let one = get(&app, "/api/v1/statistics/beta-2016").await.json();
    assert_eq!(one["data"]["value"], 9600);
    assert_eq!(
        one["data"]["source"]["title"],
        "Synthetic source B, with a comma"
    );
    get(&app, "/api/v1/statistics/nope")
        .await
        .assert_problem(404, Some("id"));
}

#[tokio::test]
async fn statistics_filters_select_rows_and_periods_overlap() {
    let (app, _db) = app_with("small").await;
    let filtered = |q: &'static str| {
        let app = app.clone();
        async move { ids(&get(&app, &format!("/api/v1/statistics?{q}")).await.json()) }
    };
    assert_eq!(filtered("program=beta").await, ["beta-2016"]);
    assert_eq!(
        filtered("metric=cards_issued&program=alpha").await,
        ["alpha-2022", "alpha-2023"]
    );
    assert_eq!(filtered("dimension=total&category=all").await.len(), 3);
    assert_eq!(filtered("status=reported").await.len(), 3);
    assert!(filtered("status=revised").await.is_empty());
    // Overlap: 2016-06-01..2022-06-30 touches beta's 2015-08..2016-09 and alpha's 2022.
    assert_eq!(
        filtered("from=2016-06-01&to=2022-06-30").await,
        ["alpha-2022", "beta-2016"]
    );
    assert_eq!(filtered("from=2023-12-31").await, ["alpha-2023"]);
    assert_eq!(filtered("to=2015-08-01").await, ["beta-2016"]);
}

#[tokio::test]
async fn bad_statistics_parameters_are_400_problems_naming_the_parameter() {
    let (app, _db) = app_with("small").await;
    let cases = [
        ("from=2022-02-30", "from"),
        ("to=yesterday", "to"),
        ("from=2023-01-01&to=2022-01-01", "from"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage", "cursor"),
        ("status=guessed", "status"),
        ("format=xml", "format"),
        ("bom=yes&format=csv", "bom"),
        ("colour=red", "colour"),
        ("program=alpha&program=beta", "program"),
        ("program=", "program"),
        ("release=latest", "release"),
    ];
    for (query, parameter) in cases {
        let reply = get(&app, &format!("/api/v1/statistics?{query}")).await;
        let detail = reply.assert_problem(400, Some(parameter));
        assert!(detail.contains(parameter), "{query}: {detail}");
    }
    let detail = get(&app, "/api/v1/statistics?limit=5000")
        .await
        .assert_problem(400, Some("limit"));
    assert!(detail.contains("1000"), "names the maximum: {detail}");
    let unknown = format!("/api/v1/statistics?release={}", "0".repeat(64));
    get(&app, &unknown)
        .await
        .assert_problem(404, Some("release"));
}

#[tokio::test]
async fn events_filter_by_program_kind_and_date() {
    let (app, _db) = app_with("small").await;
    let body = get(&app, "/api/v1/events").await.json();
    assert_eq!(
        ids(&body),
        ["beta-ordinance", "alpha-launch", "alpha-pause"]
    );
    assert_eq!(body["data"][0]["date_precision"], "month");
    assert_eq!(body["data"][2]["source"]["publisher"], "Test News");
    assert_eq!(
        ids(&get(&app, "/api/v1/events?program=alpha&kind=suspension")
            .await
            .json()),
        ["alpha-pause"]
    );
    assert_eq!(
        ids(&get(&app, "/api/v1/events?from=2018-04-30&to=2018-04-30")
            .await
            .json()),
        ["alpha-launch"]
    );
    get(&app, "/api/v1/events?kind=party")
        .await
        .assert_problem(400, Some("kind"));
    // Events take `q` (tests/api/search.rs); REST has no `search` (GraphQL's old name).
    get(&app, "/api/v1/events?search=x")
        .await
        .assert_problem(400, Some("search"));
}

#[tokio::test]
async fn documents_search_is_case_insensitive_over_title_and_summary() {
    let (app, _db) = app_with("small").await;
    assert_eq!(
        ids(&get(&app, "/api/v1/documents").await.json()),
        ["alpha-code", "beta-statement"]
    );
    assert_eq!(
        ids(&get(&app, "/api/v1/documents?q=MUNICIPAL").await.json()),
        ["alpha-code"]
    );
    assert_eq!(
        ids(&get(&app, "/api/v1/documents?q=about%20records")
            .await
            .json()),
        ["beta-statement"]
    );
    assert!(
        ids(&get(&app, "/api/v1/documents?q=%25").await.json()).is_empty(),
        "% is literal"
    );
    assert_eq!(
        ids(&get(&app, "/api/v1/documents?kind=statement").await.json()),
        ["beta-statement"]
    );
    assert_eq!(
        ids(&get(&app, "/api/v1/documents?from=2000-01-01").await.json()),
        ["alpha-code"],
        "undated left out"
    );
    let one = get(&app, "/api/v1/documents/alpha-code").await.json();
    assert_eq!(one["data"]["url"], "https://example.org/code");
    get(&app, "/api/v1/documents/missing")
        .await
        .assert_problem(404, Some("id"));
    let long = "x".repeat(201);
    get(&app, &format!("/api/v1/documents?q={long}"))
        .await
        .assert_problem(400, Some("q"));
}

#[tokio::test]
async fn sources_metrics_and_releases() {
    let (app, _db) = app_with("small").await;
    let sources = get(&app, "/api/v1/sources").await.json();
    assert_eq!(ids(&sources), ["src-a", "src-b"]);
    assert_eq!(
        ids(&get(&app, "/api/v1/sources?kind=news").await.json()),
        ["src-b"]
    );
    assert_eq!(
        get(&app, "/api/v1/sources/src-a").await.json()["data"]["published_on"],
        "2020-01-02"
    );
    get(&app, "/api/v1/sources/src-z")
        .await
        .assert_problem(404, Some("id"));
    let metrics = get(&app, "/api/v1/metrics").await.json();
    assert_eq!(metrics["data"][0]["unit"], "cards");
    get(&app, "/api/v1/metrics?program=alpha")
        .await
        .assert_problem(400, Some("program"));

    let releases = get(&app, "/api/v1/releases").await.json();
    let release = releases["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(releases["data"][0]["seq"], 1);
    assert_eq!(releases["data"][0]["disclosure"]["min_cell"], 11);
    assert_eq!(releases["meta"]["release"], release);
    let one = get(&app, &format!("/api/v1/releases/{release}")).await;
    assert_eq!(
        one.json()["data"]["title"],
        "Synthetic test fixture (not real data)"
    );
    assert_eq!(
        one.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    get(&app, &format!("/api/v1/releases/{}", "f".repeat(64)))
        .await
        .assert_problem(404, Some("id"));
    get(&app, "/api/v1/releases/abc")
        .await
        .assert_problem(400, Some("id"));
}

/// Follow `links.next` from `start` and return every id seen, checking the Link header agrees.
async fn walk(app: &axum::Router, start: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut next = Some(start.to_owned());
    while let Some(uri) = next {
        let reply = get(app, &uri).await;
        assert_eq!(reply.status, 200, "{uri}: {}", reply.text());
        let body = reply.json();
        seen.extend(ids(&body));
        next = body["links"]["next"].as_str().map(str::to_owned);
        match &next {
            Some(n) => assert_eq!(reply.header("link"), format!("<{n}>; rel=\"next\"")),
            None => assert_eq!(reply.header("link"), ""),
        }
    }
    seen
}

#[tokio::test]
async fn a_pagination_walk_returns_every_row_once_in_order_with_any_page_size() {
    let test_db = fresh_db().await;
    let dir = synthetic_fixture(2500);
    import(&test_db.db, dir.path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let everything = ids(&get(&app, "/api/v1/statistics?limit=1000&program=alpha")
        .await
        .json());
    assert_eq!(everything.len(), 1000);
    for limit in [1000, 333, 97] {
        let seen = walk(&app, &format!("/api/v1/statistics?limit={limit}")).await;
        assert_eq!(seen.len(), 2503, "limit {limit}");
        assert_eq!(
            seen.iter().collect::<HashSet<_>>().len(),
            2503,
            "no repeats at limit {limit}"
        );
        let mut expected = vec!["alpha-2022".to_owned(), "alpha-2023".to_owned()];
        // Canonical order: program, metric, period: the synthetic days of 1800.. come first.
        let mut synthetic: Vec<String> = (0..2500).map(|i| format!("synthetic-{i:05}")).collect();
        synthetic.append(&mut expected);
        synthetic.push("beta-2016".to_owned());
        assert_eq!(seen, synthetic, "order at limit {limit}");
    }
    // A filtered walk keeps its filter on every page.
    assert_eq!(
        walk(
            &app,
            "/api/v1/statistics?limit=400&from=1801-01-01&program=alpha"
        )
        .await
        .len(),
        2500 - 365 + 2
    );
}

#[tokio::test]
async fn a_crawl_stays_on_its_release_while_a_new_one_is_imported() {
    let (app, test_db) = app_with("small").await;
    let first = get(&app, "/api/v1/events?limit=2").await.json();
    let next = first["links"]["next"].as_str().unwrap().to_owned();
    let dir = fixture_copy("small");
    let text = std::fs::read_to_string(dir.path().join("events.csv")).unwrap();
    std::fs::write(
        dir.path().join("events.csv"),
        text + "alpha-zero,alpha,2000-01-01,day,other,Early,Synthetic.,src-a\n",
    )
    .unwrap();
    import(&test_db.db, dir.path()).await;
    let rest = get(&app, &next).await.json();
    assert_eq!(
        ids(&rest),
        ["alpha-pause"],
        "the crawl continues in its own release"
    );
    assert_eq!(rest["meta"]["release"], first["meta"]["release"]);
    let latest = get(&app, "/api/v1/events").await.json();
    assert_eq!(ids(&latest)[0], "alpha-zero");
    assert_ne!(latest["meta"]["release"], first["meta"]["release"]);
    // A cursor of one release cannot be used with another.
    let cursor = next.split("cursor=").nth(1).unwrap();
    let other = latest["meta"]["release"].as_str().unwrap();
    get(
        &app,
        &format!("/api/v1/events?release={other}&cursor={cursor}"),
    )
    .await
    .assert_problem(400, Some("cursor"));
}

#[tokio::test]
async fn csv_parsed_back_equals_the_json_rows() {
    let (app, _db) = app_with("small").await;
    let json = get(&app, "/api/v1/statistics").await.json();
    let reply = get_with(&app, "/api/v1/statistics", &[("accept", "text/csv")]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        "text/csv; charset=utf-8; header=present"
    );
    let release = json["meta"]["release"].as_str().unwrap();
    let date = get(&app, "/api/v1/releases").await.json()["data"][0]["date"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        reply.header("content-disposition"),
        format!(
            "attachment; filename=\"statistics-{date}-r1-{}.csv\"",
            &release[..8]
        )
    );
    let rows = parse_csv(&reply.text());
    let header = &rows[0];
    assert_eq!(rows.len() - 1, json["data"].as_array().unwrap().len());
    for (row, item) in rows[1..].iter().zip(json["data"].as_array().unwrap()) {
        let cell = |name: &str| row[header.iter().position(|h| h == name).unwrap()].clone();
        assert_eq!(cell("id"), item["id"].as_str().unwrap());
        assert_eq!(
            cell("value"),
            item["value"]
                .as_i64()
                .map(|v| v.to_string())
                .unwrap_or_default()
        );
        assert_eq!(
            cell("suppressed"),
            item["suppressed"].as_bool().unwrap().to_string()
        );
        assert_eq!(cell("qualifier"), item["qualifier"].as_str().unwrap());
        assert_eq!(cell("period_end"), item["period_end"].as_str().unwrap());
        assert_eq!(cell("note"), item["note"].as_str().unwrap_or_default());
        assert_eq!(cell("source_url"), item["source"]["url"].as_str().unwrap());
    }
    // format=csv is the same document as Accept: text/csv.
    assert_eq!(
        get(&app, "/api/v1/statistics?format=csv").await.body,
        reply.body
    );
    // Filters and pagination apply to CSV as to JSON.
    let page = get(&app, "/api/v1/statistics?format=csv&limit=1&program=alpha").await;
    assert_eq!(parse_csv(&page.text()).len(), 2);
    assert!(page.header("link").contains("rel=\"next\""));
}

#[tokio::test]
async fn csv_bom_and_formula_guard() {
    let test_db = fresh_db().await;
    let dir = fixture_copy("small");
    let text = std::fs::read_to_string(dir.path().join("events.csv")).unwrap();
    std::fs::write(
        dir.path().join("events.csv"),
        text.replace("Alpha launches", "\"=HYPERLINK(\"\"http://evil\"\")\"")
            .replace("Beta ordinance", "@SUM(A1)"),
    )
    .unwrap();
    import(&test_db.db, dir.path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let plain = get(&app, "/api/v1/events?format=csv").await;
    assert!(!plain.body.starts_with(b"\xEF\xBB\xBF"));
    let with_bom = get(&app, "/api/v1/events?format=csv&bom=true").await;
    assert!(with_bom.body.starts_with(b"\xEF\xBB\xBFid,program,date"));
    assert_eq!(&with_bom.body[3..], &plain.body[..]);
    let rows = parse_csv(&plain.text());
    let titles: Vec<&str> = rows[1..].iter().map(|r| r[5].as_str()).collect();
    assert_eq!(
        titles,
        [
            "'@SUM(A1)",
            "'=HYPERLINK(\"http://evil\")",
            "Alpha pauses online applications"
        ]
    );
    // JSON is not touched by the guard.
    assert_eq!(
        get(&app, "/api/v1/events").await.json()["data"][1]["title"],
        "=HYPERLINK(\"http://evil\")"
    );
}

#[tokio::test]
async fn etag_round_trip_gives_304_and_pinned_urls_are_immutable() {
    let (app, _db) = app_with("small").await;
    let first = get(&app, "/api/v1/events").await;
    let etag = first.header("etag").to_owned();
    assert!(
        etag.starts_with('"') && etag.len() > 10,
        "strong etag: {etag}"
    );
    assert_eq!(first.header("cache-control"), "public, max-age=60");
    assert_eq!(first.header("vary"), "Accept, Accept-Encoding");
    let release = first.json()["meta"]["release"].as_str().unwrap().to_owned();
    assert_eq!(first.header("x-data-release"), release);
    let again = get_with(&app, "/api/v1/events", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), etag);
    let csv = get(&app, "/api/v1/events?format=csv").await;
    assert_ne!(
        csv.header("etag"),
        etag,
        "each representation has its own ETag"
    );
    let pinned = get(&app, &format!("/api/v1/events?release={release}")).await;
    assert_eq!(
        pinned.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(pinned.body, first.body);
}

/// A response that could be compressed says it varies by `Accept-Encoding` whether or not
/// the request asked for compression (requests that do not skip the compression layer), so
/// a cache never hands an uncompressed copy's key to a client that asked for gzip.
#[tokio::test]
async fn compressible_responses_vary_by_accept_encoding_asked_or_not() {
    let (app, _db) = app_with("small").await;
    for uri in [
        "/openapi.json",
        "/api/v1/programs",
        "/api/v1/statistics?limit=5",
    ] {
        for asked in [&[][..], &[("accept-encoding", "gzip")][..]] {
            let reply = get_with(&app, uri, asked).await;
            assert_eq!(reply.status, 200, "{uri}");
            assert!(
                reply.varies_by("accept-encoding"),
                "{uri} {asked:?}: {:?}",
                reply.headers
            );
        }
    }
}

#[tokio::test]
async fn http_niceties_head_cors_nosniff_compression_and_406() {
    let (app, _db) = app_with("small").await;
    let head = send(
        &app,
        axum::http::Request::head("/api/v1/programs")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert!(!head.header("etag").is_empty());
    let reply = get_with(
        &app,
        "/api/v1/programs",
        &[("origin", "https://portal.example")],
    )
    .await;
    assert_eq!(reply.header("access-control-allow-origin"), "*");
    let exposed = reply
        .header("access-control-expose-headers")
        .to_ascii_lowercase();
    for header in ["etag", "link", "x-data-release"] {
        assert!(exposed.contains(header), "{exposed}");
    }
    assert_eq!(reply.header("x-content-type-options"), "nosniff");
    assert!(reply.headers.get("server").is_none());
    let gzip = get_with(&app, "/api/v1/programs", &[("accept-encoding", "gzip")]).await;
    assert_eq!(gzip.header("content-encoding"), "gzip");
    let br = get_with(&app, "/api/v1/programs", &[("accept-encoding", "br")]).await;
    assert_eq!(br.header("content-encoding"), "br");
    get_with(&app, "/api/v1/programs", &[("accept", "application/xml")])
        .await
        .assert_problem(406, None);
    let json = get_with(
        &app,
        "/api/v1/programs",
        &[("accept", "text/html;q=0.9, application/json")],
    )
    .await;
    assert_eq!(json.header("content-type"), "application/json");
    get(&app, "/api/v2/nothing").await.assert_problem(404, None);
}

#[tokio::test]
async fn downloads_list_and_stream_whole_tables() {
    let test_db = fresh_db().await;
    let dir = synthetic_fixture(1500);
    import(&test_db.db, dir.path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let list = get(&app, "/downloads").await.json();
    let statistics = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["table"] == "statistics")
        .unwrap()
        .clone();
    assert_eq!(statistics["rows"], 1503);
    let file = get(&app, statistics["url"].as_str().unwrap()).await;
    assert_eq!(file.status, 200);
    assert_eq!(
        file.body.len() as u64,
        statistics["bytes"].as_u64().unwrap()
    );
    let rows = parse_csv(&file.text());
    assert_eq!(rows.len(), 1504);
    assert_eq!(rows[0][0], "id");
    assert_eq!(
        file.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    // The same rows, in the same order, as a crawl of the collection.
    let crawled = walk(&app, "/api/v1/statistics?limit=1000").await;
    assert_eq!(
        rows[1..].iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        crawled
    );
    let again = get_with(
        &app,
        statistics["url"].as_str().unwrap(),
        &[("if-none-match", file.header("etag"))],
    )
    .await;
    assert_eq!(again.status, 304);
    get(&app, "/downloads/people.csv")
        .await
        .assert_problem(404, Some("file"));
    get(&app, "/downloads/statistics.csv?limit=3")
        .await
        .assert_problem(400, Some("limit"));
}

#[tokio::test]
async fn the_committed_openapi_document_matches_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap_or_default();
    assert!(
        committed == sanctuary_data::rest::openapi_json(),
        "openapi/openapi.json is out of date: run `cargo run -- export` and commit the result"
    );
}

#[tokio::test]
async fn the_openapi_document_is_served_and_documents_every_route() {
    let (app, _db) = app_with("small").await;
    let doc = get(&app, "/openapi.json").await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/programs",
        "/api/v1/programs/{slug}",
        "/api/v1/statistics",
        "/api/v1/statistics/{id}",
        "/api/v1/statistics/latest",
        "/api/v1/events",
        "/api/v1/documents",
        "/api/v1/documents/{id}",
        "/api/v1/sources",
        "/api/v1/sources/{id}",
        "/api/v1/metrics",
        "/api/v1/releases",
        "/api/v1/releases/{id}",
        "/downloads",
        "/downloads/{file}",
    ] {
        assert!(
            doc["paths"][path]["get"]["summary"].is_string(),
            "{path} documented"
        );
    }
    let docs = get(&app, "/docs/").await;
    assert_eq!(docs.status, 200);
    assert!(
        docs.text().contains("swagger"),
        "Swagger UI served from the binary"
    );
}

#[tokio::test]
async fn readyz_names_the_release_and_healthz_needs_no_database() {
    let test_db = fresh_db().await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    assert_eq!(get(&app, "/healthz").await.json()["status"], "ok");
    let empty = get(&app, "/readyz").await;
    assert_eq!(empty.status, 503);
    assert_eq!(empty.json()["status"], "no release imported");
    let sanctuary_data::seed::ImportOutcome::Created { release, .. } =
        import(&test_db.db, &fixture("small")).await
    else {
        panic!()
    };
    let ready = get(&app, "/readyz").await.json();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["release"], release);
}

#[tokio::test]
async fn smoke_test_on_a_real_port() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (app, _db) = app_with("small").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"GET /api/v1/programs/alpha HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains("\"slug\":\"alpha\""), "{response}");
    server.abort();
}

#[tokio::test]
async fn catalogs_describe_the_downloads_of_a_release() {
    let (app, _db) = app_with("small").await;
    let package = get_with(&app, "/datapackage.json", &[("host", "data.example")])
        .await
        .json();
    let release = get(&app, "/api/v1/releases").await.json()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resources = package["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 12, "a CSV and an Excel resource per table");
    let workbook = resources
        .iter()
        .find(|r| r["name"] == "statistics-xlsx")
        .unwrap();
    assert_eq!(
        workbook["path"],
        format!("http://data.example/downloads/statistics.xlsx?release={release}")
    );
    assert_eq!(workbook["format"], "xlsx");
    assert_eq!(workbook["dialect"]["sheetName"], "statistics");
    let statistics = resources
        .iter()
        .find(|r| r["name"] == "statistics")
        .unwrap();
    assert_eq!(
        statistics["path"],
        format!("http://data.example/downloads/statistics.csv?release={release}")
    );
    let fields = statistics["schema"]["fields"].as_array().unwrap();
    let field = |name: &str| fields.iter().find(|f| f["name"] == name).unwrap().clone();
    assert_eq!(field("value")["type"], "integer");
    assert_eq!(field("value")["constraints"]["minimum"], 0);
    assert!(
        field("value")["constraints"].get("required").is_none(),
        "a suppressed value is empty"
    );
    assert_eq!(field("suppressed")["type"], "boolean");
    assert_eq!(field("qualifier")["constraints"]["enum"][0], "exact");
    assert_eq!(field("source_url")["format"], "uri");
    assert_eq!(
        statistics["schema"]["foreignKeys"][0],
        serde_json::json!({"fields": ["program"], "reference": {"resource": "programs", "fields": ["slug"]}})
    );
    assert_eq!(package["sanctuary:disclosure"]["min_cell"], 11);
    for resource in resources {
        let names: Vec<&Value> = resource["schema"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| &f["name"])
            .collect();
        for key in resource["schema"]["foreignKeys"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert!(
                names.contains(&&key["fields"][0]),
                "{}: {key}",
                resource["name"]
            );
            assert!(
                resources
                    .iter()
                    .any(|r| r["name"] == key["reference"]["resource"])
            );
        }
    }
    // The CSV the descriptor points at has exactly the declared columns.
    let csv = get(
        &app,
        &format!("/downloads/statistics.csv?release={release}"),
    )
    .await;
    let header = parse_csv(&csv.text())[0].clone();
    assert_eq!(
        header,
        fields
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    );

    let catalog = get(&app, "/data.json").await.json();
    assert_eq!(
        catalog["conformsTo"],
        "https://project-open-data.cio.gov/v1.1/schema"
    );
    let datasets = catalog["dataset"].as_array().unwrap();
    assert_eq!(datasets.len(), 6);
    for dataset in datasets {
        for field in [
            "title",
            "description",
            "keyword",
            "modified",
            "publisher",
            "identifier",
            "accessLevel",
        ] {
            assert!(!dataset[field].is_null(), "{field} in {dataset}");
        }
        assert_eq!(dataset["distribution"][0]["mediaType"], "text/csv");
        assert_eq!(
            dataset["distribution"][1]["mediaType"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        let url = dataset["distribution"][1]["downloadURL"].as_str().unwrap();
        let path = url.strip_prefix("http://127.0.0.1:8080").unwrap_or(url);
        assert_eq!(get(&app, path).await.status, 200, "{url}");
    }
    get(&app, "/data.json?format=xml")
        .await
        .assert_problem(400, Some("format"));
}

/// gzip, brotli and identity bodies of one answer are different bytes, so they cannot share
/// one strong ETag (RFC 9110 8.8.3): a compressed answer carries the weak form of the
/// identity answer's ETag, as nginx's gzip does. Revalidating with either form gets a 304
/// (If-None-Match compares weakly), and the 304 carries the form the client holds, so a
/// cache finds the copy it updates.
#[tokio::test]
async fn a_compressed_answer_does_not_share_the_identity_answers_strong_etag() {
    let (app, _db) = app_with("small").await;
    for uri in [
        "/api/v1/programs",
        "/data.json",
        "/api/v1/statistics?limit=5",
    ] {
        let plain = get(&app, uri).await;
        assert_eq!(plain.status, 200, "{uri}");
        let strong = plain.header("etag").to_owned();
        assert!(strong.starts_with('"'), "{uri}: {strong}");
        for coding in ["gzip", "br"] {
            let asked = [("accept-encoding", coding)];
            let compressed = get_with(&app, uri, &asked).await;
            assert_eq!(compressed.header("content-encoding"), coding, "{uri}");
            assert_eq!(
                compressed.header("etag"),
                format!("W/{strong}"),
                "{uri} {coding}"
            );
            for validator in [strong.clone(), format!("W/{strong}")] {
                let again = get_with(
                    &app,
                    uri,
                    &[("accept-encoding", coding), ("if-none-match", &validator)],
                )
                .await;
                assert_eq!(again.status, 304, "{uri} {coding} {validator}");
                assert_eq!(again.header("etag"), validator, "{uri} {coding}");
                assert!(again.body.is_empty());
            }
        }
        // Without Accept-Encoding, the strong ETag, also on a 304.
        let again = get_with(&app, uri, &[("if-none-match", &strong)]).await;
        assert_eq!(again.status, 304, "{uri}");
        assert_eq!(again.header("etag"), strong, "{uri}");
    }
    // Downloads keep a strong ETag per stored variant (`http::answer_file`).
    let gz = get_with(
        &app,
        "/downloads/statistics.csv",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert!(gz.header("etag").starts_with('"'), "{}", gz.header("etag"));
}

/// HEAD answers with the headers GET would: a compressible answer varies by
/// `Accept-Encoding` though its body is empty.
#[tokio::test]
async fn head_varies_by_accept_encoding_like_get() {
    let (app, _db) = app_with("small").await;
    for uri in ["/api/v1/programs", "/openapi.json"] {
        for asked in [None, Some("gzip")] {
            let mut request = axum::http::Request::head(uri);
            if let Some(coding) = asked {
                request = request.header("accept-encoding", coding);
            }
            let head = send(&app, request.body(axum::body::Body::empty()).unwrap()).await;
            assert_eq!(head.status, 200, "{uri}");
            assert!(head.body.is_empty());
            assert!(
                head.varies_by("accept-encoding"),
                "HEAD {uri} {asked:?}: {:?}",
                head.headers
            );
        }
    }
}
