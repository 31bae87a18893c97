//! Render-stage helpers for English text and terminal colour, shared by every report: counts
//! with the right noun, short lists, styling that is decided once, at the edge, and the one
//! escaping of text that came from input before it is printed ([`clean`]).

use std::fmt::Display;
use std::path::Path;

use console::Style;

/// How many items a list in a one-line message shows before "and N more".
pub const SHOWN: usize = 4;

/// The noun for `n` things: `one` for exactly one, `many` otherwise.
pub fn noun<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// "1 call", "3 calls".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", noun(n, one, many))
}

/// "a, b, c" or, past `shown` items, "a, b, c and 4 more".
pub fn list<T: Display>(items: impl IntoIterator<Item = T>, shown: usize) -> String {
    let mut out = Vec::new();
    let mut more = 0usize;
    for item in items {
        if out.len() < shown {
            out.push(item.to_string());
        } else {
            more += 1;
        }
    }
    let mut text = out.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

/// "a", "a and b", "a, b and c".
pub fn join_and<T: AsRef<str>>(items: &[T]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

/// True for characters that must never reach a terminal or a generated document from the
/// workspace: control characters (C0, DEL, C1), the Unicode line and paragraph separators,
/// bidirectional controls, zero-width and byte-order marks, and noncharacters.
pub fn unsafe_char(c: char) -> bool {
    let n = u32::from(c);
    c.is_control()
        || matches!(n, 0x2028 | 0x2029 | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2069 | 0xFEFF)
        || (0xFDD0..=0xFDEF).contains(&n)
        || n & 0xFFFE == 0xFFFE
}

/// The first character that free text (a description, a reason) may not hold: an
/// [`unsafe_char`] other than a tab, a line feed, or a carriage return before a line feed.
/// Validation and `init`'s questions both ask this, so they accept exactly the same text.
pub fn unsafe_char_in(text: &str) -> Option<char> {
    text.char_indices()
        .find(|&(i, c)| {
            let crlf = c == '\r' && text[i + 1..].starts_with('\n');
            !(c == '\n' || c == '\t' || crlf) && unsafe_char(c)
        })
        .map(|(_, c)| c)
}

/// Text with every character that must not reach a terminal as it is escaped: controls, line
/// separators, direction overrides ([`unsafe_char`]), as `\n`, `\u{1b}`,
/// `\u{2028}`, ... Every string that comes from input (a name, a file name, a folder named in
/// a file) goes through it before it is printed.
pub fn clean(text: &str) -> String {
    if !text.chars().any(unsafe_char) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if unsafe_char(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A path as a message shows it: [`clean`]ed, since file and folder names come from input.
pub fn shown(path: &Path) -> String {
    clean(&path.display().to_string())
}

/// Terminal styling, on or off for a whole report: the caller decides once (from `--color`,
/// `NO_COLOR` and whether the output is a terminal) and renderers only apply it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paint {
    /// Whether styles are applied.
    pub color: bool,
}

impl Paint {
    /// `text` in `style`, or unchanged when colour is off.
    pub fn apply(self, style: Style, text: &str) -> String {
        style.force_styling(self.color).apply_to(text).to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unsafe_characters() {
        for c in [
            '\u{1b}', '\u{7f}', '\u{85}', '\u{2028}', '\u{202e}', '\u{fffe}', '\u{feff}',
        ] {
            assert!(unsafe_char(c), "{c:?}");
        }
        for c in ['a', 'é', '→', '漢', ' '] {
            assert!(!unsafe_char(c), "{c:?}");
        }
    }

    use super::*;

    #[test]
    fn counts_and_lists_read_naturally() {
        assert_eq!(count(1, "call", "calls"), "1 call");
        assert_eq!(count(0, "call", "calls"), "0 calls");
        assert_eq!(list(["a", "b"], 3), "a, b");
        assert_eq!(list(["a", "b", "c", "d", "e"], 3), "a, b, c and 2 more");
        assert_eq!(join_and(&["a"]), "a");
        assert_eq!(join_and(&["a", "b", "c"]), "a, b and c");
        assert_eq!(join_and::<&str>(&[]), "");
    }

    #[test]
    fn paint_is_plain_without_colour() {
        let plain = Paint { color: false };
        assert_eq!(plain.apply(Style::new().red(), "x"), "x");
        let coloured = Paint { color: true };
        assert_ne!(coloured.apply(Style::new().red(), "x"), "x");
    }
}
