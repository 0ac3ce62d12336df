//! Text search (`q`): folding text so that case and accents do not matter, the same way
//! on SQLite and PostgreSQL.
//!
//! Each searchable row (events, documents, programs, sources) stores its searched fields
//! folded into one `search_text` column, computed here at import (and by the migration
//! that added the column, for releases imported before it). A query is folded the same
//! way and matched with `LIKE '%…%'` on that column: both sides are already folded, so
//! neither database's own case or accent rules take part, and both return the same rows.
//! `search_text` is derived from published columns, so it is not part of the release id
//! (`seed::digest`).
//!
//! Folding: Unicode compatibility decomposition (NFKD), combining marks dropped,
//! lower-cased (`Bogotá` → `bogota`, `Ñ` → `n`, `É` → `e`, `ﬁ` → `fi`).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::entity::{document, event, program, source};

/// Between two fields of a search text: a control character, which no query may contain
/// (`query::check_text`), so a match never spans two fields.
pub const FIELD_SEPARATOR: char = '\u{1f}';

/// `text` without case or accents: NFKD, combining marks dropped, lower-cased, twice (a
/// lower-cased letter can decompose further: `İ` → `i̇` → `i`), so folding is idempotent.
pub fn fold(text: &str) -> String {
    fn once(text: &str) -> String {
        text.nfkd()
            .filter(|c| !is_combining_mark(*c))
            .flat_map(char::to_lowercase)
            .collect()
    }
    once(&once(text))
}

/// The search text of a row: its fields folded, separated by [`FIELD_SEPARATOR`].
pub fn search_text(fields: &[&str]) -> String {
    let mut text = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            text.push(FIELD_SEPARATOR);
        }
        text.push_str(&fold(field));
    }
    text
}

/// An event's searched fields: title and description.
pub fn event_text(title: &str, description: &str) -> String {
    search_text(&[title, description])
}

/// A document's searched fields: title and summary.
pub fn document_text(title: &str, summary: &str) -> String {
    search_text(&[title, summary])
}

/// A program's searched fields: name, jurisdiction, administrator and description.
pub fn program_text(
    name: &str,
    jurisdiction: &str,
    administered_by: &str,
    description: &str,
) -> String {
    search_text(&[name, jurisdiction, administered_by, description])
}

/// A source's searched fields: title and publisher.
pub fn source_text(title: &str, publisher: &str) -> String {
    search_text(&[title, publisher])
}

/// The event with its search text filled in.
pub fn event(mut row: event::Model) -> event::Model {
    row.search_text = event_text(&row.title, &row.description);
    row
}

/// The document with its search text filled in.
pub fn document(mut row: document::Model) -> document::Model {
    row.search_text = document_text(&row.title, &row.summary);
    row
}

/// The program with its search text filled in.
pub fn program(mut row: program::Model) -> program::Model {
    row.search_text = program_text(
        &row.name,
        &row.jurisdiction,
        &row.administered_by,
        &row.description,
    );
    row
}

/// The source with its search text filled in.
pub fn source(mut row: source::Model) -> source::Model {
    row.search_text = source_text(&row.title, &row.publisher);
    row
}

/// The `LIKE` pattern of a query: folded, `%`, `_` and `\` escaped (with `\` as the
/// escape character), between `%`s.
pub fn like_text(q: &str) -> String {
    let escaped = fold(q)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_case_and_accents() {
        for (text, folded) in [
            ("Bogotá", "bogota"),
            ("BOGOTÁ", "bogota"),
            ("Ñuñoa", "nunoa"),
            ("ÉCOLE", "ecole"),
            ("São Paulo", "sao paulo"),
            ("Zürich", "zurich"),
            ("İstanbul", "istanbul"),
            ("ﬁle", "file"),
            ("Ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
            ("50% off_", "50% off_"),
            ("日本語", "日本語"),
        ] {
            assert_eq!(fold(text), folded, "{text}");
            assert_eq!(fold(folded), folded, "{text}: idempotent");
        }
    }

    #[test]
    fn patterns_fold_and_treat_wildcards_literally() {
        assert_eq!(like_text("50%_Off"), "%50\\%\\_off%");
        assert_eq!(like_text("Bogotá\\"), "%bogota\\\\%");
    }

    #[test]
    fn fields_are_kept_apart() {
        let text = event_text("Alpha launches", "Ñew cards");
        assert_eq!(text, "alpha launches\u{1f}new cards");
        assert!(crate::query::check_text("q", &text).is_err());
    }
}
