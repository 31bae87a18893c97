//! Render stage helpers: the one home of the escaping and wrapping rules every renderer uses,
//! and of the askama filters its templates call. Every user string reaches an output file
//! through one of these:
//!
//! - YAML manifests: [`yaml_str`] (a double-quoted scalar) or [`comment`] (`#` comment lines);
//! - Markdown (decision record, `assess --format markdown`): [`markdown_inline`], then [`prose`]
//!   or [`bullet`] to wrap it;
//! - TOML (the workspace file `init` writes): [`toml_str`], [`toml_list`], and [`one_line`] for
//!   comments.
//!
//! So no name, description or image can change the structure of a document, whatever it holds.

use std::fmt::Write;

// ---- YAML ----
/// Quotes `text` as a YAML double-quoted scalar. Printable characters pass through; `"` and `\`
/// are escaped, and every control character, line or paragraph separator, BOM and the C1 range
/// are written as escapes so that the scalar stays on one line and means exactly `text`.
pub fn quote(text: &str) -> String {
    // Most scalars are names and numbers: printable ASCII with nothing to escape, copied whole
    // (a third of `generate`'s time went to escaping them character by character).
    if text
        .bytes()
        .all(|b| matches!(b, b' '..=b'~') && b != b'"' && b != b'\\')
    {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('"');
        out.push_str(text);
        out.push('"');
        return out;
    }
    quote_escaped(text)
}

/// [`quote`], character by character.
fn quote_escaped(text: &str) -> String {
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
                } else if n <= 0xffff {
                    write!(out, "\\u{n:04x}")
                } else {
                    write!(out, "\\U{n:08x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Makes `text` safe inside a `#` comment: one line, no control characters.
pub fn single_line(text: &str) -> String {
    // Most comments are printable ASCII, single-spaced and trimmed already: copied whole.
    let plain = text.bytes().all(|b| matches!(b, b' '..=b'~'))
        && !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.contains("  ");
    if plain {
        return text.to_string();
    }
    single_line_collapsed(text)
}

/// [`single_line`], character by character.
fn single_line_collapsed(text: &str) -> String {
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
    // Outside YAML's printable set (controls, noncharacters), a line break in disguise, or a
    // character that reorders or hides text: the same set every output escapes.
    crate::text::unsafe_char(c)
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
pub fn comment_lines(text: &str, width: usize) -> Vec<String> {
    let width = width.max(20);
    let text = single_line(text);
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
    let mut lines = comment_lines(&s.to_string(), COMMENT_WIDTH.saturating_sub(indent + 2));
    if let [line] = lines.as_mut_slice() {
        return Ok(std::mem::take(line));
    }
    Ok(lines.join(&format!("\n{}# ", " ".repeat(indent))))
}

// ---- Markdown ----

/// Escapes text for a Markdown table cell or inline text, so that nothing in it can open a
/// structure: no emphasis, code, links, HTML, table cells, headings or list items, wherever a
/// later line wrap puts it. Every kind of white space (line and paragraph separators, NEL,
/// vertical tab and form feed included) becomes one space; a web address made only of
/// characters that cannot end an autolink becomes an autolink, any other is escaped like text.
pub fn markdown_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    markdown_inline_into(&mut out, text);
    out
}

/// [`markdown_inline`], appended to `out`.
pub fn markdown_inline_into(out: &mut String, text: &str) {
    if text.is_ascii() {
        // The same words, split without decoding characters: ASCII white space is U+0009 to
        // U+000D and the space.
        let mut start = 0;
        for (i, b) in text.bytes().enumerate() {
            if matches!(b, b'\t'..=b'\r' | b' ') {
                word_into(out, &text[start..i]);
                out.push(' ');
                start = i + 1;
            }
        }
        word_into(out, &text[start..]);
        return;
    }
    for (i, word) in text.split(char::is_whitespace).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        word_into(out, word);
    }
}

/// Characters escaped wherever they are.
fn always_escaped(c: char) -> bool {
    matches!(
        c,
        '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' | '&' | '$'
    )
}

/// One word of [`markdown_inline`].
fn word_into(out: &mut String, word: &str) {
    let Some(first) = word.chars().next() else {
        return;
    };
    // Most words need nothing escaped: copied whole.
    if !first.is_ascii_digit()
        && !matches!(first, '-' | '+' | '=' | 'h')
        && !word.contains(|c| always_escaped(c) || c == ':')
    {
        out.push_str(word);
        return;
    }
    if is_url(word) {
        out.push('<');
        out.push_str(word);
        out.push('>');
        return;
    }
    // A word that would start a list, a heading underline or a thematic break at the start
    // of a line gets its marker escaped.
    let all_marks = word.chars().all(|c| matches!(c, '-' | '+' | '='));
    let digits = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let ordinal = digits.len() < word.len() && matches!(digits, "." | ")");
    let last = word.chars().count() - 1;
    for (j, c) in word.chars().enumerate() {
        // A colon inside a word that is not a whole URL would let `x(http://y)` become
        // a bare link.
        let url_colon = c == ':' && word.contains("://");
        if always_escaped(c) || url_colon || (all_marks && j == 0) || (ordinal && j == last) {
            out.push('\\');
        }
        out.push(c);
    }
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

/// askama filter: Markdown prose wrapped at 80 columns; continuation lines are indented by
/// `indent` spaces. Lines break at spaces only: a break after the `/` of `shop/web` would show
/// as a space in the rendered text, and one between `]` and `(` would break a link.
pub fn prose(s: impl AsRef<str>, _: &dyn askama::Values, indent: usize) -> askama::Result<String> {
    Ok(fill_at_spaces(
        s.as_ref(),
        80 - indent,
        "",
        &" ".repeat(indent),
    ))
}

/// askama filter: a `*` list item, wrapped at 80 columns, nested `indent` spaces deep.
pub fn bullet(s: impl AsRef<str>, _: &dyn askama::Values, indent: usize) -> askama::Result<String> {
    let first = format!("{}* ", " ".repeat(indent));
    Ok(fill_at_spaces(
        s.as_ref(),
        80,
        &first,
        &" ".repeat(indent + 2),
    ))
}

/// `text` filled to `width` columns (indentation included) at spaces only, words never broken:
/// exactly what `textwrap::fill` does with first-fit wrapping, `WordSeparator::AsciiSpace`, no
/// hyphenation and `break_words(false)` (a property test holds the two together), without its
/// general machinery, which cost a third of the architecture overview's time on a big model.
fn fill_at_spaces(text: &str, width: usize, first: &str, rest: &str) -> String {
    if text.len() < width && !text.contains('\n') && first.is_empty() {
        return text.trim_end_matches(' ').to_string();
    }
    let widths = [
        width.saturating_sub(textwrap::core::display_width(first)),
        width.saturating_sub(textwrap::core::display_width(rest)),
    ];
    let mut out = String::with_capacity(text.len() + text.len() / 64 * (rest.len() + 1) + 8);
    let mut lines = 0usize;
    // Only wrapped lines are indented, as in textwrap.
    let push = |out: &mut String, lines: &mut usize, line: &str, indented: bool| {
        if *lines > 0 {
            out.push('\n');
        }
        if indented {
            out.push_str(if *lines == 0 { first } else { rest });
        }
        out.push_str(line);
        *lines += 1;
    };
    for line in text.split('\n') {
        let indent = if lines == 0 { first } else { rest };
        if line.len() < width && indent.is_empty() {
            push(&mut out, &mut lines, line.trim_end_matches(' '), false);
            continue;
        }
        // Words are runs of non-spaces with the spaces after them; a line holds words while
        // their widths and the spaces between them fit.
        let (mut start, mut end, mut used, mut on_line, mut here) = (0, 0, 0, 0, 0);
        // Printable ASCII, as nearly all our text is: a word is as wide as it is long.
        let printable = line.bytes().all(|b| (b' '..=b'~').contains(&b));
        for (word_start, word_end, next) in ascii_words(line) {
            let w = if printable {
                word_end - word_start
            } else {
                display_width(&line[word_start..word_end])
            };
            let limit = widths[here.min(1)];
            if used + w > limit && on_line > 0 {
                push(&mut out, &mut lines, &line[start..end], true);
                here += 1;
                start = word_start;
                used = 0;
                on_line = 0;
            }
            used += w + (next - word_end);
            end = word_end;
            on_line += 1;
        }
        if on_line == 0 {
            push(&mut out, &mut lines, "", false);
        } else {
            push(&mut out, &mut lines, &line[start..end], true);
        }
    }
    out
}

/// The words of `line` as (start, end of the word, end of the spaces after it), split like
/// textwrap's `WordSeparator::AsciiSpace` (leading spaces make an empty first word).
fn ascii_words(line: &str) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let bytes = line.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let mut i = start;
        // The first byte belongs to the word even when it is a space, as in textwrap.
        let mut in_space = false;
        while i < bytes.len() {
            let space = bytes[i] == b' ';
            if in_space && !space {
                break;
            }
            in_space = space;
            i += 1;
        }
        let word = line[start..i].trim_end_matches(' ').len();
        let found = (start, start + word, i);
        start = i;
        Some(found)
    })
}

/// Display width of a word: its length when it is printable ASCII, else textwrap's measure.
fn display_width(word: &str) -> usize {
    if word.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        word.len()
    } else {
        textwrap::core::display_width(word)
    }
}

// ---- TOML ----

/// askama filter: a TOML basic string.
pub fn toml_str(s: impl ToString, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(toml::Value::String(s.to_string()).to_string())
}

/// askama filter: text that can sit in a `#` comment of any of our formats (see
/// [`single_line`]).
pub fn one_line(s: impl ToString, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(single_line(&s.to_string()))
}

/// askama filter: a TOML array of strings.
pub fn toml_list(items: &[String], _: &dyn askama::Values) -> askama::Result<String> {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| toml::Value::String(s.clone()).to_string())
        .collect();
    Ok(format!("[{}]", quoted.join(", ")))
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
        assert_eq!(quote("\u{202e}\u{1fffe}"), "\"\\u202e\\U0001fffe\"");
    }

    proptest::proptest! {
        /// The whole-string fast paths give exactly what the character-by-character rules give:
        /// mostly printable ASCII, with quotes, backslashes, runs of spaces at either end, tabs,
        /// line breaks, controls and a few non-ASCII characters mixed in.
        #[test]
        fn fast_paths_agree_with_the_rules(text in "[ -~]{0,12}|[ a\"\\\\\t\n\u{7}\u{7f}\u{85}\u{2028}é\u{ffff}]{0,8}") {
            proptest::prop_assert_eq!(quote(&text), quote_escaped(&text));
            proptest::prop_assert_eq!(single_line(&text), single_line_collapsed(&text));
        }
    }

    #[test]
    fn long_comments_comment_lines() {
        let text = format!("{} {}", "word ".repeat(40), "x".repeat(130));
        let lines = comment_lines(&text, 50);
        assert!(lines.iter().all(|l| l.chars().count() <= 50), "{lines:?}");
        assert_eq!(lines.join(" ").replace(' ', ""), text.replace(' ', ""));
        assert_eq!(comment_lines("", 50), vec![String::new()]);
        assert_eq!(comment_lines("short", 50), vec!["short".to_string()]);
    }

    #[test]
    fn comments_stay_on_one_line() {
        assert_eq!(single_line(" a\nb\r\n\tc\u{2029} "), "a b c");
        assert_eq!(single_line("evil\u{ffff}"), "evil");
        // TOML allows no control character but tab in a comment.
        let comment = format!("# {}", one_line("red \u{1b}[31m", &()).unwrap());
        assert!(
            toml::from_str::<toml::Table>(&comment).is_ok(),
            "{comment:?}"
        );
    }

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

    #[test]
    fn markdown_wraps_only_at_spaces() {
        // A break after the `/` of a service name renders as a space ("shop/ web"); one
        // between `]` and `(` turns a link into text.
        let text = "call from booking/back-office to booking/availability on port grpc; ".repeat(6)
            + "see [the record](adr/0001-use-kubernetes.md) first";
        for wrapped in [
            prose(&text, &(), 2).unwrap(),
            bullet(&text, &(), 2).unwrap(),
        ] {
            for line in wrapped.lines() {
                assert!(!line.ends_with('/') && !line.ends_with(']'), "{wrapped}");
            }
            let words: Vec<&str> = wrapped.split_whitespace().filter(|w| *w != "*").collect();
            assert_eq!(words, text.split_whitespace().collect::<Vec<_>>());
        }
    }

    /// What [`fill_at_spaces`] must equal.
    fn textwrap_fill(text: &str, width: usize, first: &str, rest: &str) -> String {
        let options = textwrap::Options::new(width)
            .initial_indent(first)
            .subsequent_indent(rest)
            .break_words(false)
            .word_separator(textwrap::WordSeparator::AsciiSpace)
            .word_splitter(textwrap::WordSplitter::NoHyphenation);
        textwrap::fill(text, options)
    }

    #[test]
    fn filling_at_spaces_is_textwraps_fill() {
        for (text, width, first, rest) in [
            ("", 80, "", ""),
            ("", 80, "* ", "  "),
            ("   ", 10, "* ", "  "),
            ("  lead", 4, "", "  "),
            ("a\n\nb", 80, "* ", "  "),
            ("a  b   c", 3, "", ""),
            ("→ wide 表 words", 6, "* ", "  "),
            ("averyveryverylongword x", 5, "* ", "  "),
        ] {
            assert_eq!(
                fill_at_spaces(text, width, first, rest),
                textwrap_fill(text, width, first, rest),
                "{text:?} at {width}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn ascii_text_splits_into_the_same_words(text in "[ -~\t\n\x0b\x0c\r]{0,40}") {
            let mut expected = String::new();
            for (i, word) in text.split(char::is_whitespace).enumerate() {
                if i > 0 {
                    expected.push(' ');
                }
                word_into(&mut expected, word);
            }
            proptest::prop_assert_eq!(markdown_inline(&text), expected);
        }

        #[test]
        fn filling_at_spaces_is_textwraps_fill_for_any_text(
            text in "([a-z]{0,12}|[ ]{1,3}|\n|→|表|/|\\[|\\]\\(){0,40}",
            width in 1usize..40,
            indent in 0usize..4,
        ) {
            let first = format!("{}* ", " ".repeat(indent));
            let rest = " ".repeat(indent + 2);
            for (f, r) in [(first.as_str(), rest.as_str()), ("", rest.as_str()), ("", "")] {
                proptest::prop_assert_eq!(
                    fill_at_spaces(&text, width, f, r),
                    textwrap_fill(&text, width, f, r)
                );
            }
        }
    }

    #[test]
    fn toml_values_round_trip() {
        let hostile = "a\"b\\c\u{1b}[31m\u{2028}d";
        let quoted = toml_str(hostile, &()).unwrap();
        let parsed: toml::Value = toml::from_str(&format!("x = {quoted}")).unwrap();
        assert_eq!(parsed["x"].as_str(), Some(hostile));
    }
}
