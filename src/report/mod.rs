//! Render stage: turns analysis results into text, JSON or Markdown. Pure functions returning
//! strings: whether to colour is decided at the edge (`commands`) and passed in.

pub mod assess;
pub mod check;
pub mod graph;

use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::diagnostic::Error;

/// Renders an error with its source snippets, as the binary shows it.
pub fn render_error(err: &Error, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, err).is_err() {
        out = format!("error: {err}\n");
    }
    out
}

/// Escapes text for a Markdown table cell or inline text, so that nothing in it can open a
/// structure: no emphasis, code, links, HTML, table cells, headings or list items, wherever a
/// later line wrap puts it. Every kind of white space (line and paragraph separators, NEL,
/// vertical tab and form feed included) becomes one space; a web address made only of
/// characters that cannot end an autolink becomes an autolink, any other is escaped like text.
pub fn markdown_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, word) in text.split(char::is_whitespace).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.is_empty() {
            continue;
        }
        if is_url(word) {
            out.push('<');
            out.push_str(word);
            out.push('>');
            continue;
        }
        // A word that would start a list, a heading underline or a thematic break at the start
        // of a line gets its marker escaped.
        let all_marks = word.chars().all(|c| matches!(c, '-' | '+' | '='));
        let digits = word.trim_start_matches(|c: char| c.is_ascii_digit());
        let ordinal = digits.len() < word.len() && matches!(digits, "." | ")");
        let last = word.chars().count() - 1;
        for (j, c) in word.chars().enumerate() {
            let always = matches!(
                c,
                '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' | '&' | '$'
            );
            // A colon inside a word that is not a whole URL would let `x(http://y)` become
            // a bare link.
            let url_colon = c == ':' && word.contains("://");
            if always || url_colon || (all_marks && j == 0) || (ordinal && j == last) {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// A web address that is safe as an autolink: letters, digits and the punctuation of paths
/// and queries only. Brackets, parentheses, quotes and emphasis marks are left out, so that no
/// part of it can become link text, an image or markup if a renderer splits it.
fn is_url(word: &str) -> bool {
    (word.starts_with("https://") || word.starts_with("http://"))
        && word.len() > 8
        && word.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '-' | '.'
                        | '/'
                        | ':'
                        | '?'
                        | '='
                        | '&'
                        | '%'
                        | '+'
                        | '#'
                        | '~'
                        | ','
                        | ';'
                        | '@'
                )
        })
}

#[cfg(test)]
mod tests {
    use super::markdown_inline;

    #[test]
    fn nothing_can_open_a_structure() {
        assert_eq!(markdown_inline("a | b"), "a \\| b");
        assert_eq!(markdown_inline("`rm -rf`"), "\\`rm -rf\\`");
        assert_eq!(markdown_inline("# title"), "\\# title");
        assert_eq!(markdown_inline("<b>x</b>"), "\\<b\\>x\\</b\\>");
        assert_eq!(markdown_inline("- item"), "\\- item");
        assert_eq!(markdown_inline("a - b"), "a \\- b");
        assert_eq!(markdown_inline("12. step"), "12\\. step");
        assert_eq!(markdown_inline("line\nbreak"), "line break");
        assert_eq!(markdown_inline("well-known 3.5"), "well-known 3.5");
        assert_eq!(
            markdown_inline("see https://example.com/x"),
            "see <https://example.com/x>"
        );
        assert_eq!(markdown_inline("x\u{2028}- item"), "x \\- item");
        assert_eq!(markdown_inline("x\u{85}---"), "x \\---");
        assert_eq!(
            markdown_inline("https://x.example/a-[click](https://evil.example/)"),
            "https\\://x.example/a-\\[click\\](https\\://evil.example/)"
        );
    }
}
