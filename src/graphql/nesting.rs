//! The first bound on a GraphQL request, before the parser sees it: how deep its brackets
//! nest ([`MAX_NESTING`]). One linear scan of the text; see [`check_nesting`].

use async_graphql::ServerResult;

use super::limits::{MAX_NESTING, PARSE_FAILED, rejection};

/// Reject a query whose brackets (`{`, `[`, `(`) nest deeper than [`MAX_NESTING`], by one
/// linear pass over the text that skips strings, block strings and comments. This runs
/// before the parser, whose recursion on nested values is unbounded (a list nested 1 500
/// deep in an argument, 3 KB of text, overflowed the stack and aborted the process).
/// Selection sets, arguments, values, variable types and default values, directives and
/// fragments are all made of these brackets, so one bound covers them all.
pub(super) fn check_nesting(query: &str) -> ServerResult<()> {
    let bytes = query.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r') {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                // A block string ends at the next `"""` not escaped as `\"""`.
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                // A string ends at the next unescaped `"` (or, malformed, at a line end).
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n' | b'\r') {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(rejection(
                        format!(
                            "the query is nested too deep: its brackets ({{ }}, [ ] and ( )) \
                             nest more than {MAX_NESTING} levels (MAX_NESTING) at byte {i}"
                        ),
                        PARSE_FAILED,
                    ));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_brackets_outside_strings_and_comments() {
        let deep = |n: usize| format!("{{ a(x: {}1{}) }}", "[".repeat(n), "]".repeat(n));
        assert!(check_nesting(&deep(MAX_NESTING - 2)).is_ok());
        assert!(check_nesting(&deep(MAX_NESTING - 1)).is_err());
        assert!(check_nesting(&deep(1500)).is_err());
        let hidden = "[".repeat(1000);
        for query in [
            format!("# {hidden}\n{{ a }}"),
            format!("{{ a(x: \"{hidden}\\\"{hidden}\") }}"),
            format!("{{ a(x: \"\"\"{hidden}\\\"\"\"{hidden}\"\"\") }}"),
        ] {
            assert!(check_nesting(&query).is_ok(), "{query}");
        }
        assert!(check_nesting(&"{".repeat(MAX_NESTING + 1)).is_err());
    }
}
