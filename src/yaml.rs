//! Read-stage helper shared by `import` and `verify`: where in a YAML document a parse error
//! is. libyaml reports most errors with their position; for a character YAML does not allow
//! at all (a control character such as ESC, U+FFFE) its reader reports the start of the
//! document instead. The first such character is the place to show.

/// The byte offset of `err` in `text`: its own position, unless that is the start of the
/// document and the text holds a character outside YAML's printable set; then that character.
pub fn error_offset(text: &str, err: &serde_yaml_ng::Error) -> usize {
    let at = err.location().map_or(0, |l| l.index().min(text.len()));
    if at > 0 {
        return at;
    }
    text.char_indices()
        .find(|(_, c)| !printable(*c))
        .map_or(0, |(at, _)| at)
}

/// YAML 1.2's `c-printable`: tab, line breaks, and every character but the other C0 and C1
/// controls (NEL excepted), DEL, and U+FFFE/U+FFFF.
fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{85}')
        || !(c.is_control() || c == '\u{fffe}' || c == '\u{ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_control_character_is_located() {
        let text = "apiVersion: v1\ndata:\n  a: \"x\u{1b}[31m\"\n";
        let err = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text).unwrap_err();
        assert_eq!(error_offset(text, &err), text.find('\u{1b}').unwrap());
    }

    #[test]
    fn a_located_error_keeps_its_place() {
        let text = "a: 1\nb: [\n";
        let err = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text).unwrap_err();
        assert_eq!(error_offset(text, &err), err.location().unwrap().index());
    }
}
