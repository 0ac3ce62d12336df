//! Citations of a release, or of one figure in a release: plain text (APA-like), BibTeX,
//! RIS and CSL-JSON. Each names the dataset, the release (its sequence number, short id
//! and full id), its date and a permanent URL (one that names the release); a figure's
//! citation also names its original source in the source's own words.
//!
//! Pure: the caller gives the release, the figure and the base URL.

use chrono::Datelike;
use serde_json::json;

use crate::diff::ReleaseRef;
use crate::error::ApiError;
use crate::model::Statistic;

/// Who publishes the compilation (the author of every citation).
pub const PUBLISHER: &str = "sanctuary-data";

/// A citation format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
pub enum CitationFormat {
    /// Plain text, APA-like.
    Text,
    /// BibTeX (`@misc`).
    Bibtex,
    /// RIS (`TY  - DATA`).
    Ris,
    /// CSL-JSON (an array of one item), as Zotero and citeproc read it.
    CslJson,
}

impl CitationFormat {
    /// The accepted values of the `format` parameter.
    pub const VALUES: &[&str] = &["text", "bibtex", "ris", "csl-json"];

    pub fn parse(text: &str) -> Result<Self, ApiError> {
        match text {
            "text" => Ok(CitationFormat::Text),
            "bibtex" => Ok(CitationFormat::Bibtex),
            "ris" => Ok(CitationFormat::Ris),
            "csl-json" => Ok(CitationFormat::CslJson),
            other => Err(ApiError::invalid(
                "format",
                format!(
                    "format must be one of {}, got {:?}",
                    Self::VALUES.join(", "),
                    crate::error::echo(other)
                ),
            )),
        }
    }

    /// The media type of a citation in this format.
    pub fn media_type(self) -> &'static str {
        match self {
            CitationFormat::Text => "text/plain; charset=utf-8",
            CitationFormat::Bibtex => "application/x-bibtex",
            CitationFormat::Ris => "application/x-research-info-systems",
            CitationFormat::CslJson => "application/vnd.citationstyles.csl+json",
        }
    }

    /// The file extension of a citation in this format.
    pub fn extension(self) -> &'static str {
        match self {
            CitationFormat::Text => "txt",
            CitationFormat::Bibtex => "bib",
            CitationFormat::Ris => "ris",
            CitationFormat::CslJson => "json",
        }
    }
}

/// What is cited: a release, or one figure of it.
pub struct Citable<'a> {
    /// The dataset's title (the release's package title).
    pub title: &'a str,
    pub release: &'a ReleaseRef,
    /// `scheme://host` the permanent URLs start with.
    pub base: &'a str,
    pub figure: Option<&'a Statistic>,
}

impl Citable<'_> {
    /// The permanent URL: the release record, or the figure pinned to the release.
    pub fn url(&self) -> String {
        match self.figure {
            None => format!("{}/api/v1/releases/{}", self.base, self.release.id),
            Some(figure) => format!(
                "{}/api/v1/statistics/{}?release={}",
                self.base,
                encode(&figure.id),
                self.release.id
            ),
        }
    }

    /// `r3 (0085d964c2a1)`.
    fn version(&self) -> String {
        format!("r{} ({})", self.release.seq, self.release.short_id)
    }

    /// The cited item's title: the dataset, or the figure within it.
    fn item_title(&self) -> String {
        match self.figure {
            None => self.title.to_owned(),
            Some(figure) => format!("{}: figure {}", self.title, figure.id),
        }
    }

    /// The figure in words: its value (or "suppressed"), unit, metric, program and period.
    fn figure_words(figure: &Statistic) -> String {
        let value = match figure.value {
            Some(value) if !figure.suppressed => format!("{value} {}", figure.unit),
            _ => "suppressed by disclosure control".to_owned(),
        };
        let category = if figure.dimension == "total" {
            String::new()
        } else {
            format!(", {} {}", figure.dimension, figure.category)
        };
        format!(
            "{} {}{category}, {} to {}: {value}",
            figure.program, figure.metric, figure.period_start, figure.period_end
        )
    }

    /// The original source of a figure, in its own words: title, publisher, date, URL.
    fn original_source(figure: &Statistic) -> String {
        let source = &figure.source;
        let published = source
            .published_on
            .map(|d| format!(", {d}"))
            .unwrap_or_default();
        format!(
            "{}. {}{published}. {}",
            source.title, source.publisher, source.url
        )
    }

    /// The note every format carries: the full release id and, for a figure, what it
    /// says and its original source.
    fn note(&self) -> String {
        let mut note = format!("Release {} (id {}).", self.version(), self.release.id);
        if let Some(figure) = self.figure {
            note.push_str(&format!(
                " Figure: {}. Original source: {}",
                Self::figure_words(figure),
                Self::original_source(figure)
            ));
        }
        note
    }

    /// The citation in `format`.
    pub fn render(&self, format: CitationFormat) -> String {
        match format {
            CitationFormat::Text => self.text(),
            CitationFormat::Bibtex => self.bibtex(),
            CitationFormat::Ris => self.ris(),
            CitationFormat::CslJson => self.csl_json(),
        }
    }

    fn text(&self) -> String {
        let date = self.release.date.format("%Y, %B %-d");
        let mut text = format!(
            "{PUBLISHER}. ({date}). {} (Release {}; id {}) [Data set]. {}",
            self.item_title(),
            self.version(),
            self.release.id,
            self.url()
        );
        if let Some(figure) = self.figure {
            text.push_str(&format!(
                "\nFigure: {}.\nOriginal source: {}",
                Self::figure_words(figure),
                Self::original_source(figure)
            ));
        }
        text.push('\n');
        text
    }

    /// The citation key: `sanctuary-data-r3-0085d964` (plus the figure's id).
    fn key(&self) -> String {
        let mut key = format!(
            "{PUBLISHER}-r{}-{}",
            self.release.seq,
            &self.release.id[..self.release.id.len().min(8)]
        );
        if let Some(figure) = self.figure {
            key.push('-');
            key.push_str(&figure.id);
        }
        key.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    }

    fn bibtex(&self) -> String {
        let date = self.release.date;
        format!(
            "@misc{{{key},\n  author = {{{{{PUBLISHER}}}}},\n  title = {{{{{title}}}}},\n  publisher = {{{PUBLISHER}}},\n  year = {{{year}}},\n  month = {{{month}}},\n  date = {{{date}}},\n  version = {{{version}}},\n  howpublished = {{\\url{{{url}}}}},\n  url = {{{url}}},\n  note = {{{note}}}\n}}\n",
            key = self.key(),
            title = bibtex_escape(&self.item_title()),
            year = date.year(),
            month = date.month(),
            version = bibtex_escape(&self.version()),
            url = self.url(),
            note = bibtex_escape(&self.note()),
        )
    }

    fn ris(&self) -> String {
        let date = self.release.date;
        let lines = [
            ("TY", "DATA".to_owned()),
            ("AU", PUBLISHER.to_owned()),
            ("TI", self.item_title()),
            ("PB", PUBLISHER.to_owned()),
            ("PY", date.year().to_string()),
            ("DA", date.format("%Y/%m/%d").to_string()),
            ("ET", self.version()),
            ("UR", self.url()),
            ("N1", self.note()),
            ("ER", String::new()),
        ];
        lines
            .iter()
            .map(|(tag, value)| format!("{tag}  - {}\r\n", one_line(value)))
            .collect()
    }

    fn csl_json(&self) -> String {
        let date = self.release.date;
        let mut item = json!({
            "id": self.key(),
            "type": "dataset",
            "title": self.item_title(),
            "author": [{"literal": PUBLISHER}],
            "publisher": PUBLISHER,
            "issued": {"date-parts": [[date.year(), date.month(), date.day()]]},
            "version": self.version(),
            "URL": self.url(),
            "note": self.note(),
        });
        if let Some(figure) = self.figure {
            item["source"] = json!(figure.source.publisher);
            item["archive_location"] = json!(figure.source.url);
        }
        let mut text = serde_json::to_string_pretty(&json!([item])).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// BibTeX's special characters, escaped.
fn bibtex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in one_line(text).chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' | '}' | '&' | '%' | '$' | '#' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            c => out.push(c),
        }
    }
    out
}

/// Line breaks and other control characters as spaces (RIS and BibTeX fields are one line).
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A path segment or query value, percent-encoded.
fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bibtex_special_characters_are_escaped() {
        assert_eq!(
            bibtex_escape("50% {a}_b & c\nd"),
            "50\\% \\{a\\}\\_b \\& c d"
        );
    }
}
