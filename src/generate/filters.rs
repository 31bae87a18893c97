//! Render stage helpers: the askama filters of the generated YAML. Every user string reaches a
//! manifest through `yaml_str` (a YAML double-quoted scalar) or `comment` (one comment line), so
//! no name, description or image can change the structure of a document.

use std::fmt::Write;

/// Quotes `text` as a YAML double-quoted scalar. Printable characters pass through; `"` and `\`
/// are escaped, and every control character, line or paragraph separator, BOM and the C1 range
/// are written as escapes so that the scalar stays on one line and means exactly `text`.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let n = u32::from(c);
                // Writing into a String cannot fail.
                let _ = if n <= 0xff {
                    write!(out, "\\x{n:02x}")
                } else {
                    write!(out, "\\u{n:04x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Makes `text` safe inside a `#` comment: one line, no control characters.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_whitespace() || needs_escape(c) {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    out.trim().to_string()
}

fn needs_escape(c: char) -> bool {
    // Outside YAML's printable set (controls, U+FFFE, U+FFFF) or a line break in disguise.
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{85}' | '\u{fffe}' | '\u{ffff}'
        )
}

/// askama filter: a YAML double-quoted scalar.
pub fn yaml_str(s: impl ToString, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(quote(&s.to_string()))
}

/// askama filter: a mapping key, plain when it is a validated label key that YAML reads as a
/// string (`app`, `app.kubernetes.io/name`), double-quoted otherwise (`true`, `1`, `null`, `on`
/// and anything unusual), so that a label key is never read as a boolean, number or null.
pub fn yaml_key(s: impl ToString, _: &dyn askama::Values) -> askama::Result<String> {
    let s = s.to_string();
    let plain = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "yes" | "n" | "no" | "true" | "false" | "on" | "off" | "null"
        );
    Ok(if plain { s } else { quote(&s) })
}

/// The longest comment line we write, indentation and `# ` included: under yamllint's 120.
pub const COMMENT_WIDTH: usize = 100;

/// Splits `text` into comment lines of at most `width` columns, breaking at spaces (and inside
/// words longer than a line), with the same `textwrap` rules as the decision record's prose.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(20);
    let text = one_line(text);
    // Most comments fit on one line; skip the word splitting for them.
    if text.chars().count() <= width {
        return vec![text];
    }
    let options = textwrap::Options::new(width)
        .break_words(true)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    textwrap::wrap(&text, options)
        .into_iter()
        .map(std::borrow::Cow::into_owned)
        .collect()
}

/// askama filter: the rest of a comment that starts with `# ` at column `indent`; long text
/// continues on further `# ` lines at the same indentation.
pub fn comment(s: impl ToString, _: &dyn askama::Values, indent: usize) -> askama::Result<String> {
    let lines = wrap(&s.to_string(), COMMENT_WIDTH.saturating_sub(indent + 2));
    if let [line] = lines.as_slice() {
        return Ok(line.clone());
    }
    Ok(lines.join(&format!("\n{}# ", " ".repeat(indent))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_specials() {
        assert_eq!(quote("plain"), "\"plain\"");
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote("x\ny\u{7}\u{2028}"), "\"x\\ny\\x07\\u2028\"");
        assert_eq!(quote("été: #1"), "\"été: #1\"");
        assert_eq!(quote("a\u{fffe}\u{ffff}"), "\"a\\ufffe\\uffff\"");
    }

    #[test]
    fn long_comments_wrap() {
        let text = format!("{} {}", "word ".repeat(40), "x".repeat(130));
        let lines = wrap(&text, 50);
        assert!(lines.iter().all(|l| l.chars().count() <= 50), "{lines:?}");
        assert_eq!(lines.join(" ").replace(' ', ""), text.replace(' ', ""));
        assert_eq!(wrap("", 50), vec![String::new()]);
        assert_eq!(wrap("short", 50), vec!["short".to_string()]);
    }

    #[test]
    fn comments_stay_on_one_line() {
        assert_eq!(one_line(" a\nb\r\n\tc\u{2029} "), "a b c");
        assert_eq!(one_line("evil\u{ffff}"), "evil");
    }
}
