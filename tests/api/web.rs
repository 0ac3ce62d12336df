//! The web pages: `/` (overview), `/programs/{slug}`, `/browse/{table}`,
//! `/downloads.html`; parsed as HTML, checked against the API's rows.

use std::collections::HashSet;
use std::path::Path;

use sanctuary_data::model::Statistic;
use sanctuary_data::web::chart::{self, ChartKey, PeriodKind};
use scraper::{ElementRef, Html, Selector};

use crate::helpers::*;

/// The app over a fresh database holding `seed-data/` (the real, sourced facts).
async fn seeded_app() -> (axum::Router, TestDb) {
    let test_db = fresh_db().await;
    import(
        &test_db.db,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data"),
    )
    .await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    (app, test_db)
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap()
}

/// An HTML page, with its status and type checked.
async fn page(app: &axum::Router, uri: &str) -> Html {
    let reply = get(app, uri).await;
    assert_eq!(reply.status, 200, "{uri}: {}", reply.text());
    assert_eq!(reply.header("content-type"), "text/html; charset=utf-8");
    assert!(
        reply
            .header("content-security-policy")
            .contains("default-src 'none'"),
        "{uri}"
    );
    Html::parse_document(&reply.text())
}

fn text_of(element: ElementRef) -> String {
    element.text().collect::<String>()
}

async fn latest_release(app: &axum::Router) -> String {
    get(app, "/api/v1/releases").await.json()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Every page has the same frame: language, viewport, description, OpenGraph, favicon,
/// a skip link to `<main>`, site navigation, one `h1` and no skipped heading level, no
/// duplicate id, no script that runs, no text under 12 px, and the release id shortened
/// wherever it is shown (whole only in attributes).
fn assert_frame(uri: &str, html: &Html, release: &str) {
    let root = html.root_element();
    assert_eq!(root.value().attr("lang"), Some("en"), "{uri}");
    for css in [
        "meta[name=viewport][content*='width=device-width']",
        "meta[name=description][content]",
        "meta[property='og:title'][content]",
        "meta[property='og:description'][content]",
        "link[rel=icon][href='/favicon.svg']",
        "a.skip[href='#main']",
        "main#main",
        "header nav a[href='/downloads.html']",
        "footer",
    ] {
        assert!(html.select(&sel(css)).next().is_some(), "{uri} lacks {css}");
    }
    for script in html.select(&sel("script")) {
        assert_eq!(
            script.value().attr("type"),
            Some("application/ld+json"),
            "{uri}: only data blocks, no script runs"
        );
    }
    let levels: Vec<u8> = html
        .select(&sel("h1, h2, h3, h4, h5, h6"))
        .map(|h| h.value().name()[1..].parse().unwrap())
        .collect();
    assert_eq!(levels.first(), Some(&1), "{uri}: the first heading is h1");
    assert_eq!(levels.iter().filter(|l| **l == 1).count(), 1, "{uri}");
    for pair in levels.windows(2) {
        assert!(pair[1] <= pair[0] + 1, "{uri}: heading order {levels:?}");
    }
    let mut ids = HashSet::new();
    for element in html.select(&sel("[id]")) {
        let id = element.value().attr("id").unwrap();
        assert!(ids.insert(id.to_owned()), "{uri}: id {id} twice");
    }
    for a in html.select(&sel("a[href^='#']")) {
        let target = &a.value().attr("href").unwrap()[1..];
        assert!(ids.contains(target), "{uri}: link to missing #{target}");
    }
    let style: String = html.select(&sel("style")).map(text_of).collect();
    for size in style.split("font-size:").skip(1) {
        let value: String = size
            .chars()
            .take_while(|c| *c != ';' && *c != '}')
            .collect();
        let px = if let Some(rem) = value.strip_suffix("rem") {
            rem.parse::<f64>().unwrap() * 16.0
        } else if let Some(px) = value.strip_suffix("px") {
            px.parse::<f64>().unwrap()
        } else {
            16.0 // inherit
        };
        assert!(px >= 12.0, "{uri}: font-size {value}");
    }
    let visible: String = html.select(&sel("body")).next().unwrap().text().collect();
    assert!(
        !visible.contains(release),
        "{uri}: the release id is shown shortened"
    );
    assert!(
        html.select(&sel(&format!("abbr[title='{release}']")))
            .next()
            .is_some(),
        "{uri}: the whole release id is in a tooltip"
    );
}

#[tokio::test]
async fn the_home_page_is_a_short_overview_linking_every_program() {
    let (app, _db) = app_with("small").await;
    let release = latest_release(&app).await;
    let html = page(&app, "/").await;
    assert_frame("/", &html, &release);
    let links: Vec<&str> = html
        .select(&sel("#programs ~ ul.programs a"))
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert_eq!(links, ["/programs/alpha", "/programs/beta"]);
    let alpha = text_of(html.select(&sel("li#program-alpha")).next().unwrap());
    assert!(alpha.contains("2 figures"), "{alpha}");
    let text = text_of(html.root_element());
    for expected in ["Alpha ID", "Beta ID", "Alpha City", "the rule of 11"] {
        assert!(text.contains(expected), "home lacks {expected:?}");
    }
    assert!(
        html.select(&sel("a[href^='/browse/statistics']"))
            .next()
            .is_some()
    );
    get(&app, "/?release=nope")
        .await
        .assert_problem(400, Some("release"));
    get(&app, "/?x=1").await.assert_problem(400, Some("x"));
}

#[tokio::test]
async fn the_citykey_june_2025_story_is_one_click_from_home() {
    let (app, _db) = seeded_app().await;
    let html = page(&app, "/").await;
    let story = html.select(&sel("section.story")).next().expect("a story");
    assert!(
        text_of(story).contains("CityKey, June 2025"),
        "{}",
        text_of(story)
    );
    let href = html
        .select(&sel("#story-link"))
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap()
        .to_owned();
    let (path, anchor) = href.split_once('#').unwrap();
    assert_eq!(path, "/programs/citykey");
    let program = page(&app, path).await;
    let event = program
        .select(&sel(&format!("li#{anchor}")))
        .next()
        .unwrap_or_else(|| panic!("{href} points at nothing"));
    let text = text_of(event);
    assert!(text.contains("June 2025"), "{text}");
    assert!(
        text.contains("Online application portal suspended"),
        "{text}"
    );
}

#[tokio::test]
async fn every_seeded_program_has_a_page_with_anchors_sources_and_cite_lines() {
    let (app, _db) = seeded_app().await;
    let release = latest_release(&app).await;
    let programs = get(&app, "/api/v1/programs?limit=1000").await.json();
    let metric_ids: Vec<String> = get(&app, "/api/v1/metrics?limit=1000").await.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    let programs = programs["data"].as_array().unwrap();
    assert_eq!(programs.len(), 8);
    for program in programs {
        let slug = program["slug"].as_str().unwrap();
        let uri = format!("/programs/{slug}");
        let html = page(&app, &uri).await;
        assert_frame(&uri, &html, &release);
        let h1 = text_of(html.select(&sel("h1")).next().unwrap());
        assert_eq!(h1, program["name"].as_str().unwrap());
        for section in ["figures", "timeline", "documents", "downloads"] {
            assert!(
                html.select(&sel(&format!("h2#{section}"))).next().is_some(),
                "{uri} lacks #{section}"
            );
        }

        let statistics = get(
            &app,
            &format!("/api/v1/statistics?program={slug}&limit=1000"),
        )
        .await
        .json();
        for s in statistics["data"].as_array().unwrap() {
            let id = s["id"].as_str().unwrap();
            let item = html
                .select(&sel(&format!("li#figure-{id}")))
                .next()
                .unwrap_or_else(|| panic!("{uri} lacks figure {id}"));
            assert!(
                item.select(&sel(&format!("a.permalink[href='#figure-{id}']")))
                    .next()
                    .is_some(),
                "{uri}: figure {id} has a permalink"
            );
            let cite = item.select(&sel(".cite")).next().expect("a cite line");
            let cite_text = text_of(cite);
            assert!(cite_text.starts_with("Cite this figure"), "{cite_text}");
            assert!(cite_text.contains(id), "{cite_text}");
            assert!(cite_text.contains(&release[..12]), "{cite_text}");
            let url = s["source"]["url"].as_str().unwrap();
            assert!(cite_text.contains(url), "{cite_text} names the source");
            assert!(
                cite.select(&sel(&format!(
                    "a[href='/api/v1/statistics/{id}?release={release}']"
                )))
                .next()
                .is_some(),
                "the cite line links the figure in this release"
            );
            assert!(
                item.select(&sel(&format!("a.src[href='{url}']")))
                    .next()
                    .is_some()
            );
            if let Some(wording) = s["source_wording"].as_str() {
                assert!(text_of(item).contains(wording), "the source's words");
            }
        }

        let events = get(&app, &format!("/api/v1/events?program={slug}&limit=1000"))
            .await
            .json();
        for e in events["data"].as_array().unwrap() {
            let id = e["id"].as_str().unwrap();
            let item = html
                .select(&sel(&format!("li#event-{id}")))
                .next()
                .unwrap_or_else(|| panic!("{uri} lacks event {id}"));
            assert!(
                item.select(&sel(&format!("a.permalink[href='#event-{id}']")))
                    .next()
                    .is_some()
            );
            let url = e["source"]["url"].as_str().unwrap();
            assert!(
                item.select(&sel(&format!("a.src[href='{url}']")))
                    .next()
                    .is_some(),
                "{uri}: event {id} links its source"
            );
            assert!(text_of(item).contains(e["title"].as_str().unwrap()));
        }

        let documents = get(
            &app,
            &format!("/api/v1/documents?program={slug}&limit=1000"),
        )
        .await
        .json();
        for d in documents["data"].as_array().unwrap() {
            let id = d["id"].as_str().unwrap();
            assert!(
                html.select(&sel(&format!("li#document-{id}")))
                    .next()
                    .is_some(),
                "{uri} lacks document {id}"
            );
        }

        for table in ["statistics", "events", "documents"] {
            let csv = format!("/api/v1/{table}?program={slug}&release={release}&format=csv");
            assert!(
                html.select(&sel(&format!("#downloads ~ ul a[href^='{csv}']")))
                    .next()
                    .is_some(),
                "{uri}: downloads filtered to the program"
            );
        }

        // Human names, never ids: no metric or unit id in headings, charts or figure
        // lines (the cite line names the figure's id on purpose).
        for element in html.select(&sel(
            "h2, h3, figcaption, .bar-label, li[id^=figure-] > p:first-child",
        )) {
            let text = text_of(element);
            for id in metric_ids.iter().filter(|m| m.contains('_')) {
                assert!(
                    !text.contains(id.as_str()),
                    "{uri}: id {id} as a label in {text:?}"
                );
            }
            assert!(!text.contains("us_dollars"), "{uri}: {text:?}");
        }
    }
    get(&app, "/programs/citykey?x=1")
        .await
        .assert_problem(400, Some("x"));
}

#[tokio::test]
async fn an_unknown_program_is_a_404_problem() {
    let (app, _db) = app_with("small").await;
    let detail = get(&app, "/programs/nope")
        .await
        .assert_problem(404, Some("slug"));
    assert!(detail.contains("nope"), "{detail}");
}

#[tokio::test]
async fn money_reads_as_dollars_with_thousands_separators() {
    let (app, _db) = seeded_app().await;
    let html = page(&app, "/programs/citykey").await;
    let text = text_of(html.root_element());
    for expected in [
        "$1,000,000",
        "$907,000",
        "$443,470",
        "about 24,000",
        "more than 11,200",
    ] {
        assert!(text.contains(expected), "lacks {expected:?}");
    }
    assert!(!text.contains("1000000 "), "no ungrouped money");
    assert!(
        !text.contains("US dollars, $"),
        "the unit is not repeated after $"
    );
}

fn statistics_of(json: &serde_json::Value) -> Vec<Statistic> {
    serde_json::from_value(json["data"].clone()).unwrap()
}

/// The grouping function itself: every chart holds figures of one metric, unit,
/// breakdown, basis and kind of period; CityKey's one-day "about 500" and its ten-month
/// "about 24,000" never share a scale, nor does a count since launch with a count within
/// a period, nor a start-up grant with an annual budget.
#[tokio::test]
async fn charts_never_mix_period_kinds_units_or_metrics() {
    let (app, _db) = seeded_app().await;
    let all = statistics_of(&get(&app, "/api/v1/statistics?limit=1000").await.json());
    assert_eq!(all.len(), 37);
    let programs: HashSet<&str> = all.iter().map(|s| s.program.as_str()).collect();
    for program in programs {
        let rows: Vec<&Statistic> = all.iter().filter(|s| s.program == program).collect();
        let charts = chart::group(&rows);
        assert_eq!(
            charts.iter().map(|c| c.rows.len()).sum::<usize>(),
            rows.len(),
            "every figure is in exactly one group"
        );
        for c in &charts {
            for s in &c.rows {
                assert_eq!(ChartKey::of(s), c.key);
                assert_eq!(s.metric, c.key.metric);
                assert_eq!(s.unit, c.key.unit);
                assert_eq!(s.basis, c.key.basis);
                assert_eq!(PeriodKind::of(s), c.key.period);
            }
        }
    }
    let chart_of = |id: &str| {
        let s = all.iter().find(|s| s.id == id).unwrap();
        ChartKey::of(s)
    };
    assert_eq!(
        PeriodKind::of(
            all.iter()
                .find(|s| s.id == "citykey-cards-2018-first-day")
                .unwrap()
        ),
        PeriodKind::Day
    );
    assert_eq!(
        PeriodKind::of(
            all.iter()
                .find(|s| s.id == "citykey-cards-2018-first-week")
                .unwrap()
        ),
        PeriodKind::Week
    );
    assert_eq!(
        PeriodKind::of(all.iter().find(|s| s.id == "citykey-cards-2022").unwrap()),
        PeriodKind::Months(12)
    );
    assert_ne!(
        chart_of("citykey-cards-2018-first-day"),
        chart_of("citykey-cards-2023-to-november")
    );
    assert_ne!(
        chart_of("citykey-cards-2022"),
        chart_of("citykey-cards-2018-to-july")
    );
    assert_ne!(
        chart_of("citykey-funding-2016"),
        chart_of("citykey-funding-2024")
    );
    // The three IDNYC July–February counts are alike (eight whole months each, one in a
    // leap year), and share one chart.
    assert_eq!(
        chart_of("idnyc-cards-fy2022-jul-feb"),
        chart_of("idnyc-cards-fy2024-jul-feb")
    );
    assert_eq!(
        chart_of("idnyc-cards-fy2022-jul-feb").period,
        PeriodKind::Months(8)
    );

    // On the page: one chart, three bars, each with its qualifier-bearing figure and
    // source link, labelled with the metric's name.
    let html = page(&app, "/programs/idnyc").await;
    let chart = html
        .select(&sel("figure.chart"))
        .find(|f| text_of(*f).contains("Cards issued in periods of 8 months"))
        .expect("the IDNYC July–February chart");
    assert_eq!(chart.select(&sel("ol.bars > li")).count(), 3);
    assert_eq!(chart.select(&sel("svg.bar rect")).count(), 3);
    for bar in chart.select(&sel("ol.bars > li")) {
        assert!(bar.select(&sel("a.src[href^='http']")).next().is_some());
    }
    assert!(text_of(chart).contains("106,919"));
}

/// A suppressed figure says "suppressed" and has no bar; it is never drawn or written as 0.
#[tokio::test]
async fn suppressed_figures_read_suppressed_never_zero() {
    let test_db = fresh_db().await;
    import(
        &test_db.db,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/synthetic-breakdowns"),
    )
    .await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let all = statistics_of(&get(&app, "/api/v1/statistics?limit=1000").await.json());
    let hidden: Vec<&Statistic> = all.iter().filter(|s| s.suppressed).collect();
    assert!(!hidden.is_empty(), "the example suppresses small cells");
    let program = &hidden[0].program;
    let html = page(&app, &format!("/programs/{program}")).await;
    for s in &hidden {
        let item = html
            .select(&sel(&format!("li#figure-{}", s.id)))
            .next()
            .unwrap();
        let value = text_of(item.select(&sel(".value")).next().unwrap());
        assert_eq!(value, "suppressed");
        let text = text_of(item);
        assert!(text.contains("Withheld by disclosure control"), "{text}");
        assert!(!text.contains("In the source's words"), "{text}");
    }
    for bar in html.select(&sel("ol.bars > li")) {
        let text = text_of(bar);
        if text.contains("suppressed") {
            assert!(bar.select(&sel("svg")).next().is_none(), "no bar: {text}");
        }
    }
    let rows: Vec<&Statistic> = hidden.clone();
    for c in chart::group(&rows) {
        let rendered = chart::render(&c, "Cards issued", "/programs/x");
        assert!(rendered.contains("suppressed"));
        assert!(!rendered.contains("<rect"));
    }
}

#[tokio::test]
async fn json_ld_describes_the_dataset() {
    let (app, _db) = seeded_app().await;
    let release = latest_release(&app).await;
    // The first and last day of every figure's period and every event.
    let statistics = get(&app, "/api/v1/statistics?limit=1000").await.json();
    let events = get(&app, "/api/v1/events?limit=1000").await.json();
    let mut days: Vec<String> = Vec::new();
    for s in statistics["data"].as_array().unwrap() {
        days.push(s["period_start"].as_str().unwrap().to_owned());
        days.push(s["period_end"].as_str().unwrap().to_owned());
    }
    for e in events["data"].as_array().unwrap() {
        days.push(e["date"].as_str().unwrap().to_owned());
    }
    days.sort();
    let expected_coverage = format!("{}/{}", days[0], days[days.len() - 1]);
    for uri in ["/", "/downloads.html"] {
        let html = page(&app, uri).await;
        let block = html
            .select(&sel("script[type='application/ld+json']"))
            .next()
            .unwrap_or_else(|| panic!("{uri} has JSON-LD"));
        let ld: serde_json::Value = serde_json::from_str(&text_of(block)).unwrap();
        assert_eq!(ld["@context"], "https://schema.org");
        assert_eq!(ld["@type"], "Dataset");
        for field in ["name", "description", "license"] {
            assert!(!ld[field].as_str().unwrap().is_empty(), "{field}");
        }
        assert_eq!(ld["creator"]["@type"], "Organization");
        let temporal = ld["temporalCoverage"].as_str().unwrap();
        assert_eq!(temporal, expected_coverage, "{uri}");
        let places: Vec<&str> = ld["spatialCoverage"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(places.contains(&"Chicago, Illinois"), "{places:?}");
        let urls: Vec<&str> = ld["distribution"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                assert_eq!(d["@type"], "DataDownload");
                d["contentUrl"].as_str().unwrap()
            })
            .collect();
        for table in sanctuary_data::tables::PUBLISHED {
            let csv = format!(
                "http://127.0.0.1:8080/downloads/{}.csv?release={release}",
                table.name
            );
            assert!(urls.contains(&csv.as_str()), "{uri}: {csv}");
        }
    }
    // The absolute URLs follow the Host the reader used.
    let reply = get_with(&app, "/", &[("host", "data.example.org")]).await;
    assert!(
        reply
            .text()
            .contains("http://data.example.org/downloads/statistics.csv")
    );
    assert!(reply.header("vary").contains("Host"));
}

#[tokio::test]
async fn the_downloads_link_goes_to_an_html_page_listing_every_file() {
    let (app, _db) = app_with("small").await;
    let release = latest_release(&app).await;
    let home = page(&app, "/").await;
    assert!(
        home.select(&sel("nav a[href='/downloads.html']"))
            .next()
            .is_some()
    );
    let html = page(&app, "/downloads.html").await;
    assert_frame("/downloads.html", &html, &release);
    for table in sanctuary_data::tables::PUBLISHED {
        let name = table.name;
        for href in [
            format!("/downloads/{name}.csv?release={release}"),
            format!("/downloads/{name}.csv?release={release}&bom=true"),
            format!("/downloads/{name}.xlsx?release={release}"),
            format!("/browse/{name}?release={release}"),
        ] {
            assert!(
                html.select(&sel(&format!("#download-{name} a[href='{href}']")))
                    .next()
                    .is_some(),
                "lacks {href}"
            );
        }
    }
    let statistics = html.select(&sel("#download-statistics")).next().unwrap();
    assert!(text_of(statistics).contains("3 rows"));
    // Every CSV it links downloads.
    for a in html.select(&sel("a[href^='/downloads/'][href*='.csv']")) {
        let reply = get(&app, a.value().attr("href").unwrap()).await;
        assert_eq!(reply.status, 200);
    }
}

/// The rows of a browse page, header first.
fn browse_rows(html: &Html) -> Vec<Vec<String>> {
    let header: Vec<String> = html
        .select(&sel("table#rows thead th"))
        .map(text_of)
        .collect();
    let mut rows = vec![header];
    for tr in html.select(&sel("table#rows tbody tr")) {
        rows.push(tr.select(&sel("td")).map(text_of).collect());
    }
    rows
}

#[tokio::test]
async fn the_browse_view_shows_the_api_rows_for_the_same_filters() {
    let (app, _db) = seeded_app().await;
    let release = latest_release(&app).await;
    for (table, query) in [
        ("statistics", ""),
        ("statistics", "program=citykey"),
        ("statistics", "program=idnyc&basis=cumulative"),
        (
            "statistics",
            "metric=cards_issued&from=2020-01-01&to=2023-12-31",
        ),
        ("events", "program=citykey&kind=statement"),
        ("events", "from=2025-06-01&to=2025-06-30"),
        ("documents", "q=subpoena"),
        ("programs", "status=active"),
        ("sources", "kind=government"),
        ("metrics", ""),
        ("statistics", "program=citykey&limit=5"),
    ] {
        let uri = format!("/browse/{table}?{query}");
        let html = page(&app, &uri).await;
        assert_frame(&uri, &html, &release);
        let api = parse_csv(
            &get(&app, &format!("/api/v1/{table}?{query}&format=csv"))
                .await
                .text(),
        );
        assert!(api.len() > 1, "{uri}: the case has rows");
        assert_eq!(browse_rows(&html), api, "{uri}");
        let view = html
            .select(&sel("#download-view-csv"))
            .next()
            .unwrap()
            .value()
            .attr("href")
            .unwrap();
        let download = parse_csv(&get(&app, view).await.text());
        assert_eq!(download, api, "{uri}: download this view");
    }

    // Paging: the next page is the API's next page.
    let html = page(&app, "/browse/events?program=citykey&limit=10").await;
    let next = html
        .select(&sel("a#next-page"))
        .next()
        .expect("a next page")
        .value()
        .attr("href")
        .unwrap()
        .to_owned();
    assert!(next.starts_with("/browse/events?"), "{next}");
    let api_next = get(&app, "/api/v1/events?program=citykey&limit=10")
        .await
        .json()["links"]["next"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(next.replace("/browse/", "/api/v1/"), api_next);
    let second = page(&app, &next).await;
    let api_second = parse_csv(&get(&app, &format!("{api_next}&format=csv")).await.text());
    assert_eq!(browse_rows(&second), api_second);

    // An HTML form sends empty fields: they mean "no filter".
    let html = page(
        &app,
        "/browse/statistics?program=citykey&metric=&basis=&from=",
    )
    .await;
    let api = parse_csv(
        &get(&app, "/api/v1/statistics?program=citykey&format=csv")
            .await
            .text(),
    );
    assert_eq!(browse_rows(&html), api);

    // The API's errors.
    get(&app, "/browse/statistics?colour=red")
        .await
        .assert_problem(400, Some("colour"));
    get(&app, "/browse/statistics?basis=sometimes")
        .await
        .assert_problem(400, Some("basis"));
    get(&app, "/browse/statistics?limit=0")
        .await
        .assert_problem(400, Some("limit"));
    get(&app, "/browse/statistics?format=csv")
        .await
        .assert_problem(400, Some("format"));
    get(&app, "/browse/people")
        .await
        .assert_problem(404, Some("table"));
}

#[tokio::test]
async fn html_in_the_data_is_escaped() {
    let test_db = fresh_db().await;
    let dir = fixture_copy("small");
    let text = std::fs::read_to_string(dir.path().join("events.csv")).unwrap();
    std::fs::write(
        dir.path().join("events.csv"),
        text.replace("Alpha launches", "<script>alert(1)</script>"),
    )
    .unwrap();
    import(&test_db.db, dir.path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    for uri in ["/programs/alpha", "/browse/events"] {
        let html = get(&app, uri).await.text();
        assert!(!html.contains("<script>alert"), "{uri}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn swagger_ui_does_not_call_the_validator() {
    let (app, _db) = app_with("small").await;
    let init = get(&app, "/docs/swagger-initializer.js").await;
    assert_eq!(init.status, 200);
    assert!(
        init.text().contains("\"validatorUrl\": \"none\""),
        "{}",
        init.text()
    );
}

#[tokio::test]
async fn the_favicon_is_served_by_the_binary() {
    let (app, _db) = app_with("small").await;
    let icon = get(&app, "/favicon.svg").await;
    assert_eq!(icon.status, 200);
    assert_eq!(icon.header("content-type"), "image/svg+xml");
    assert!(icon.text().starts_with("<svg"));
}

/// A long series draws its last `MAX_BARS` figures and says so; the figure list keeps
/// every one.
#[tokio::test]
async fn a_long_series_draws_its_last_bars_and_lists_every_figure() {
    let test_db = fresh_db().await;
    let dir = synthetic_fixture(100);
    import(&test_db.db, dir.path()).await;
    let app = sanctuary_data::build_app(sanctuary_data::AppState::new(test_db.db.clone()));
    let html = page(&app, "/programs/alpha").await;
    let daily = html
        .select(&sel("figure.chart"))
        .find(|f| text_of(*f).contains("Cards issued in one day"))
        .expect("the daily chart");
    assert_eq!(daily.select(&sel("ol.bars > li")).count(), chart::MAX_BARS);
    assert!(text_of(daily).contains(&format!("The last {} of 100 figures", chart::MAX_BARS)));
    // The last figure (day 100 of 1800, 9 April) is drawn; the first is not.
    assert!(text_of(daily).contains("9 Apr 1800 (1 day)"));
    assert!(!text_of(daily).contains("1 Jan 1800 (1 day)"));
    assert_eq!(
        html.select(&sel("li[id^='figure-synthetic-']")).count(),
        100
    );
}
