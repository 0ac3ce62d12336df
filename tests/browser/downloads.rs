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

/// Pages whose download links are clicked, each with the CSS selector of its links.
const DOWNLOAD_PAGES: &[(&str, &str)] = &[("/", "a[href^=\"/downloads/\"]")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicking_each_download_link_saves_the_complete_file() {
    browse("clicking_each_download_link_saves_the_complete_file", async |browser| {
        let app = &browser.site.app;
        for (page, links) in DOWNLOAD_PAGES {
            browser.open(page, links).await?;
            let elements = browser.client.find_all(fantoccini::Locator::Css(links)).await?;
            let mut hrefs = Vec::new();
            for element in &elements {
                hrefs.push(element.attr("href").await?.unwrap_or_default());
            }
            for table in TABLES {
                ensure!(
                    hrefs.iter().any(|h| h.starts_with(&format!("/downloads/{}.", table.name))),
                    "{page}: no download link for {}: {hrefs:?}", table.name
                );
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

                // Chromium took the compressed path.
                let headers = browser
                    .response_headers(&browser.site.url(href))
                    .await?
                    .with_context(|| format!("{href}: no response seen in the network log"))?;
                let encoding = headers
                    .as_object()
                    .into_iter()
                    .flatten()
                    .find(|(name, _)| name.eq_ignore_ascii_case("content-encoding"))
                    .and_then(|(_, value)| value.as_str())
                    .unwrap_or_default()
                    .to_owned();
                ensure!(
                    ["gzip", "br", "zstd", "deflate"].contains(&encoding.as_str()),
                    "{href}: the browser got it uncompressed (content-encoding {encoding:?}), \
                     so the compressed path went untested"
                );

                // The whole file: what the server sends, uncompressed.
                let expected = get(app, href).await;
                ensure!(expected.status == 200, "{href}: {}", expected.status);
                ensure!(
                    bytes == expected.body.as_ref(),
                    "{href}: the saved file ({} bytes) differs from the server's response ({} bytes)",
                    bytes.len(),
                    expected.body.len()
                );

                // Row for row the API's rows.
                let url = url::Url::parse(&browser.site.url(href))?;
                let file = url.path().trim_start_matches("/downloads/");
                let Some(table) = file.strip_suffix(".csv") else {
                    // Other formats (Excel) are compared byte for byte above.
                    continue;
                };
                let bom = url.query_pairs().any(|(k, v)| k == "bom" && v == "true");
                let text = String::from_utf8(bytes).context("the CSV is UTF-8")?;
                ensure!(
                    text.starts_with('\u{feff}') == bom,
                    "{href}: byte order mark {} expected",
                    if bom { "" } else { "not" }
                );
                let rows = parse_csv(text.trim_start_matches('\u{feff}'));
                let release = url
                    .query_pairs()
                    .find(|(k, _)| k == "release")
                    .map(|(_, v)| format!("&release={v}"))
                    .unwrap_or_default();
                let api = collection_as_csv(app, &format!("/api/v1/{table}?format=csv&limit=1000{release}")).await?;
                ensure!(
                    rows == api,
                    "{href}: {} rows saved, the API has {} (or they differ)",
                    rows.len().saturating_sub(1),
                    api.len().saturating_sub(1)
                );
            }
        }
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
