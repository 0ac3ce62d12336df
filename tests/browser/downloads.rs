//! Clicking a download link saves the whole file: every download link on the pages of
//! [`DOWNLOAD_PAGES`] is clicked as a user would, and the file Chromium saves is complete,
//! byte for byte what the server sends and row for row the API's rows. Chromium asks for
//! compressed responses (`Accept-Encoding: gzip, deflate, br, zstd`), so this is the
//! compressed path; a compressed download cut short ended "canceled" in the browser.

use std::time::Duration;

use anyhow::{Context, bail, ensure};
use sanctuary_data::tables::TABLES;

use crate::harness::browse;
use crate::helpers::{get, parse_csv};

/// A page whose download links are clicked.
struct DownloadPage {
    path: &'static str,
    /// CSS selector of its download links.
    links: &'static str,
    /// Whether it must offer every table (a page of one program may offer fewer).
    every_table: bool,
}

/// The pages whose download links are clicked. To check another, add a line.
const DOWNLOAD_PAGES: &[DownloadPage] = &[DownloadPage {
    path: "/downloads.html",
    links: "a[href^=\"/downloads/\"]",
    every_table: true,
}];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicking_each_download_link_saves_the_complete_file() {
    browse("clicking_each_download_link_saves_the_complete_file", async |browser| {
        let app = &browser.site.app;
        let mut compressed_seen = 0;
        for DownloadPage { path: page, links, every_table } in DOWNLOAD_PAGES {
            browser.open(page, links).await?;
            let elements = browser.client.find_all(fantoccini::Locator::Css(links)).await?;
            ensure!(!elements.is_empty(), "{page}: no download link");
            // Each link as the path and query the browser resolves it to.
            let mut hrefs = Vec::new();
            for element in &elements {
                let url = element.prop("href").await?.unwrap_or_default();
                let local = url
                    .strip_prefix(&browser.site.base)
                    .with_context(|| format!("{page}: a download link off the site: {url}"))?;
                hrefs.push(local.to_owned());
            }
            if *every_table {
                for table in TABLES {
                    ensure!(
                        hrefs.iter().any(|h| h.starts_with(&format!("/downloads/{}.", table.name))),
                        "{page}: no download link for {}: {hrefs:?}", table.name
                    );
                }
            }
            for (element, href) in elements.iter().zip(&hrefs) {
                browser.clear_logs().await?;
                element.click().await.with_context(|| format!("{page}: clicking {href}"))?;
                let saved = browser
                    .wait_for_download(Duration::from_secs(15))
                    .await
                    .with_context(|| format!("{page}: {href}"))?;
                let bytes = std::fs::read(&saved)?;
                std::fs::remove_file(&saved)?;

                // Chromium took the compressed path (for text; a zipped format such as
                // Excel's may rightly be sent as it is). A link with the `download`
                // attribute is fetched by Chromium's download manager, which writes no
                // network log: its saved bytes are still compared below, and at least one
                // link of the run must show the compressed path in the log.
                if let Some(headers) = browser.response_headers(&browser.site.url(href)).await? {
                    let header = |wanted: &str| {
                        headers
                            .as_object()
                            .into_iter()
                            .flatten()
                            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
                            .and_then(|(_, value)| value.as_str())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let encoding = header("content-encoding");
                    ensure!(
                        !header("content-type").starts_with("text/")
                            || ["gzip", "br", "zstd", "deflate"].contains(&encoding.as_str()),
                        "{href}: the browser got it uncompressed (content-encoding {encoding:?}), \
                         so the compressed path went untested"
                    );
                    if !encoding.is_empty() {
                        compressed_seen += 1;
                    }
                }

                // The whole file: what the server sends, uncompressed.
                let expected = get(app, href).await;
                ensure!(expected.status == 200, "{href}: {}", expected.status);
                ensure!(
                    bytes == expected.body.as_ref(),
                    "{href}: the saved file ({} bytes) differs from the server's response ({} bytes)",
                    bytes.len(),
                    expected.body.len()
                );

                // Row for row the API's rows: the collection with the link's parameters
                // (its release, any filter), paged through as CSV.
                let url = url::Url::parse(&browser.site.url(href))?;
                let Some(table) = url
                    .path()
                    .strip_prefix("/downloads/")
                    .and_then(|file| file.strip_suffix(".csv"))
                else {
                    // Other formats (Excel) are compared byte for byte above.
                    continue;
                };
                let bom = url.query_pairs().any(|(k, v)| k == "bom" && v == "true");
                let text = String::from_utf8(bytes).context("the CSV is UTF-8")?;
                ensure!(
                    text.starts_with('\u{feff}') == bom,
                    "{href}: starts with a byte order mark: {}, expected: {bom}",
                    text.starts_with('\u{feff}')
                );
                let rows = parse_csv(text.trim_start_matches('\u{feff}'));
                let mut collection = url::Url::parse(&browser.site.url(&format!("/api/v1/{table}")))?;
                collection
                    .query_pairs_mut()
                    .extend_pairs(url.query_pairs().filter(|(k, _)| k != "bom"))
                    .append_pair("format", "csv")
                    .append_pair("limit", "1000");
                let first = &collection.as_str()[browser.site.base.len()..];
                let api = collection_as_csv(app, first).await?;
                ensure!(
                    rows == api,
                    "{href}: {} rows saved, the API has {} (or they differ)",
                    rows.len().saturating_sub(1),
                    api.len().saturating_sub(1)
                );
            }
        }
        ensure!(
            compressed_seen > 0,
            "no download link showed the compressed path in the network log"
        );
        Ok(())
    })
    .await;
}

/// Every row of a collection as CSV (header first), paged through with `Link` headers.
async fn collection_as_csv(app: &axum::Router, first: &str) -> anyhow::Result<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    let mut next = Some(first.to_owned());
    while let Some(uri) = next {
        let reply = get(app, &uri).await;
        if reply.status != 200 {
            bail!("{uri}: {} {}", reply.status, reply.text());
        }
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
    Ok(rows)
}
