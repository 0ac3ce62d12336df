//! The frame every page shares: `<head>` (description, OpenGraph, favicon, styles,
//! optional JSON-LD), a skip link, the site navigation, `<main>` and a footer naming the
//! release. Styles are inline (the CSP allows nothing else) and sized for a 390 px phone:
//! no text under 12 px, long words wrap, wide tables scroll inside their own box.

use std::fmt::Write;

use super::text::{esc, short_release};
use crate::entity::release;

/// What a page says about itself.
pub struct Head<'a> {
    /// The `<title>` and OpenGraph title.
    pub title: &'a str,
    /// The meta description and OpenGraph description.
    pub description: &'a str,
    /// A schema.org JSON-LD object, if the page describes a dataset.
    pub json_ld: Option<serde_json::Value>,
}

const STYLE: &str = "
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fff;overflow-wrap:anywhere}
.wrap{max-width:60rem;margin:0 auto;padding:0 1rem}
a{color:#0b4f9c} a:visited{color:#5a3d8a}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible,[tabindex]:focus-visible{outline:3px solid #c25e00;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem;z-index:1}
.skip:focus{left:.5rem}
header.site{background:#1a4f8b;color:#fff}
header.site nav{display:flex;flex-wrap:wrap;gap:.2rem 1rem;padding:.6rem 1rem;max-width:60rem;margin:0 auto}
header.site a{color:#fff;text-decoration:none;padding:.2rem 0}
header.site a:hover{text-decoration:underline}
header.site .home{font-weight:700}
main{display:block;padding-bottom:2rem}
h1{font-size:1.7rem;line-height:1.25;margin:1.2rem 0 .4rem}
h2{font-size:1.35rem;margin-top:2.2rem;border-bottom:2px solid #ddd}
h3{font-size:1.1rem;margin:1.4rem 0 .3rem}
.lead{font-size:1.05rem}
.note,.src,.kind,.cite,.meta{font-size:.875rem;color:#4a4a4a}
.kind{text-transform:uppercase;letter-spacing:.02em}
.cite{background:#f4f4f4;padding:.5rem .7rem;border-left:4px solid #888;margin:.3rem 0}
.story{background:#fff7e6;border-left:4px solid #c25e00;padding:.2rem 1rem .6rem;margin:1rem 0}
ul.plain,ol.plain{list-style:none;padding-left:0}
.programs li{border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;margin:.6rem 0}
.programs h3{margin:0}
ol.timeline{list-style:none;padding-left:0}
ol.timeline li{margin:0 0 1rem;padding-left:.8rem;border-left:3px solid #ccc}
ol.figures{list-style:none;padding-left:0}
ol.figures>li{border-top:1px solid #e4e4e4;padding:.6rem 0}
.value{font-size:1.15rem}
.permalink{font-size:.875rem;text-decoration:none;margin-left:.3rem}
figure.chart{margin:1rem 0 1.5rem;padding:.6rem .8rem;border:1px solid #ddd;border-radius:6px}
figure.chart figcaption{font-weight:600;margin-bottom:.4rem}
ol.bars{list-style:none;padding-left:0;margin:0}
ol.bars li{margin:.5rem 0}
.bar-label{display:block;font-size:.875rem}
svg.bar{display:block;width:100%;height:14px;margin:.15rem 0}
svg.bar rect{fill:#3f6fae}
.suppressed{color:#6b6b6b;font-style:italic}
.downloads a.button,a.button{display:inline-block;margin:.2rem .4rem .2rem 0;padding:.35rem .7rem;border:1px solid #888;border-radius:4px;text-decoration:none}
.table-wrap{overflow-x:auto;max-width:100%;border:1px solid #e4e4e4}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eee;vertical-align:top;font-size:.875rem}
table.browse{width:max-content;min-width:100%}
.browse td,.browse th{overflow-wrap:normal;max-width:22rem}
.browse td.long{width:20rem;min-width:20rem}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end;margin:1rem 0}
form.filters label{display:flex;flex-direction:column;font-size:.875rem}
input,select,button{font:inherit;font-size:1rem;max-width:100%}
footer.site{border-top:1px solid #ddd;margin-top:2rem;padding:1rem 0 2rem}
";

/// The whole page: head, skip link, navigation, `<main>` holding `body`, footer.
pub fn page(head: &Head, release: &release::Model, body: &str) -> String {
    let mut html = String::with_capacity(body.len() + 8 * 1024);
    let _ = write!(
        html,
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<meta name="description" content="{description}">
<meta property="og:type" content="website">
<meta property="og:site_name" content="sanctuary-data">
<meta property="og:title" content="{title}">
<meta property="og:description" content="{description}">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="alternate" type="application/atom+xml" title="sanctuary-data: releases" href="/feeds/releases.atom">
<link rel="alternate" type="application/feed+json" title="sanctuary-data: releases (JSON Feed)" href="/feeds/releases.json">
<link rel="alternate" type="application/atom+xml" title="sanctuary-data: timeline events" href="/feeds/events.atom">
<link rel="alternate" type="application/ld+json" href="/catalog.jsonld" title="DCAT catalog of every release">
<style>{STYLE}</style>
"##,
        title = esc(head.title),
        description = esc(head.description),
    );
    if let Some(json_ld) = &head.json_ld {
        // `</` cannot occur in the serialised JSON, so the data cannot close the element.
        let json = serde_json::to_string(json_ld)
            .unwrap_or_default()
            .replace("</", "<\\/");
        let _ = writeln!(html, "<script type=\"application/ld+json\">{json}</script>");
    }
    let _ = write!(
        html,
        r##"</head><body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><nav aria-label="Site"><a class="home" href="/">sanctuary-data</a><a href="/#programs">Programs</a><a href="/browse/statistics">Browse the data</a><a href="/downloads.html">Downloads</a><a href="/docs">REST API</a><a href="/graphql">GraphQL</a></nav></header>
<main id="main" class="wrap" tabindex="-1">
{body}
</main>
<footer class="site wrap"><p class="meta">Release {short} (#{seq}), imported {imported}: every figure in it stays the same forever (<a href="/api/v1/releases/{id}">release record</a>). Data compilation CC-BY-4.0; each source keeps its own terms. No individual records: small counts are suppressed (the rule of {k}).</p></footer>
</body></html>
"##,
        short = short_release(&release.id),
        seq = release.seq,
        imported = release.imported_at.format("%-d %B %Y"),
        id = esc(&release.id),
        k = release.min_cell,
    );
    html
}
