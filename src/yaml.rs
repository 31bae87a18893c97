//! Read-stage helpers shared by `import` and `verify`, the one YAML input layer of both: the
//! split of a stream into documents, a parse whose alias expansion is bounded, a bound on
//! nesting checked before libyaml scans, a parse error's message without libyaml's positions,
//! and where in a YAML document a parse error is. libyaml reports most errors with their
//! position; for a character YAML does not allow at all (a control character such as ESC,
//! U+FFFE) its reader reports the start of the document instead. The first such character is
//! the place to show.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, EnumAccess, MapAccess, SeqAccess};
use serde::de::{VariantAccess, Visitor};
use serde_yaml_ng::value::{Tag, TaggedValue};
use serde_yaml_ng::{Mapping, Value};

/// Values a document may hold once its aliases are expanded, beyond one for every two bytes of
/// its text: an alias repeats its anchor's whole content, so a few kilobytes of anchors and
/// aliases can stand for millions of values.
pub const ALIAS_ALLOWANCE: usize = 100_000;

/// What [`parse_bounded`] says when a document expands beyond its budget.
pub const TOO_LARGE: &str = "the document expands to more values than its text holds: YAML \
                             aliases repeat their anchor's content";

/// Parses one YAML document into a value, refusing it as soon as its aliases would expand it
/// to more than half a value per byte of text plus [`ALIAS_ALLOWANCE`]. Duplicate keys are
/// refused as `serde_yaml_ng` refuses them. The error carries the place where the budget ran
/// out.
pub fn parse_bounded(text: &str) -> Result<Value, serde_yaml_ng::Error> {
    if let Err((at, message)) = nesting(text) {
        let (line, column) = line_col(text, at);
        return Err(de::Error::custom(format_args!(
            "{message} (line {line}, column {column} of the document)"
        )));
    }
    let budget = Cell::new(text.len() / 2 + ALIAS_ALLOWANCE);
    Budget(&budget).deserialize(serde_yaml_ng::Deserializer::from_str(text))
}

/// The deepest a document's collections may nest. No manifest comes near it.
pub const MAX_DEPTH: usize = 256;

/// Where a document's collections first nest deeper than [`MAX_DEPTH`], or where it stops being
/// YAML before that, as (byte offset, message). libyaml's scanner takes time quadratic in the
/// depth of flow collections (`{a: {a: ...`), before any limit of the deserializer applies:
/// 100,000 levels took 42 s. So a second scanner, saphyr-parser, which follows YAML's quoting
/// and block scalars exactly and is linear up to the limit, reads the document first and stops
/// there. A document with no more than [`MAX_DEPTH`] `[` and `{` in all cannot nest deeper and is
/// not scanned twice.
pub fn nesting(text: &str) -> Result<(), (usize, String)> {
    let openers = text.bytes().filter(|b| matches!(b, b'[' | b'{')).count();
    if openers <= MAX_DEPTH {
        return Ok(());
    }
    let mut depth = 0usize;
    for event in saphyr_parser::Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            // saphyr-parser has a depth limit of its own, near this one.
            let message = if e.info().contains("recursion limit") {
                format!("collections nested deeper than {MAX_DEPTH} levels")
            } else {
                e.info().to_string()
            };
            (e.marker().index(), message)
        })?;
        match event {
            saphyr_parser::Event::SequenceStart(..) | saphyr_parser::Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err((
                        span.start.index(),
                        format!("collections nested deeper than {MAX_DEPTH} levels"),
                    ));
                }
            }
            saphyr_parser::Event::SequenceEnd | saphyr_parser::Event::MappingEnd => {
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    Ok(())
}

/// 1-based line and column (in characters) of a byte offset in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = (0..=at.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// Builds a [`Value`], counting every value it builds against the budget: aliases are
/// expanded by the deserializer through this visitor, so the count is the expanded size.
struct Budget<'a>(&'a Cell<usize>);

impl Budget<'_> {
    fn take<E: de::Error>(&self) -> Result<(), E> {
        match self.0.get() {
            0 => Err(E::custom(TOO_LARGE)),
            left => {
                self.0.set(left - 1);
                Ok(())
            }
        }
    }

    fn again(&self) -> Self {
        Budget(self.0)
    }
}

impl<'de> DeserializeSeed<'de> for Budget<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Budget<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.take()?;
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.take()?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.take()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.again())? {
            items.push(item);
        }
        Ok(Value::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.take()?;
        let mut mapping = Mapping::new();
        while let Some(key) = map.next_key_seed(self.again())? {
            if mapping.contains_key(&key) {
                let shown = match &key {
                    Value::String(s) => format!("key {s:?}"),
                    Value::Number(n) => format!("key {n}"),
                    Value::Bool(b) => format!("key `{b}`"),
                    _ => "key".to_string(),
                };
                return Err(de::Error::custom(format!("duplicate entry with {shown}")));
            }
            let value = map.next_value_seed(self.again())?;
            mapping.insert(key, value);
        }
        Ok(Value::Mapping(mapping))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        self.take()?;
        let (tag, contents) = data.variant::<String>()?;
        let tag = if tag.is_empty() { "!".to_string() } else { tag };
        let value = contents.newtype_variant_seed(self.again())?;
        Ok(Value::Tagged(Box::new(TaggedValue {
            tag: Tag::new(tag),
            value,
        })))
    }
}

/// One YAML document of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Document<'a> {
    /// The document's text: from the line after a bare `---` (or from the marker itself when
    /// content follows it on its line) to the line before the next marker.
    pub text: &'a str,
    /// Where the text starts in the stream.
    pub offset: usize,
    /// The 1-based line of the stream on which the text starts.
    pub first_line: usize,
}

/// The byte-order mark, which belongs to the stream, not to its first document.
const BOM: &str = "\u{feff}";

/// Whether `line` is the marker `marker` (`---` or `...`): at column 0, followed by nothing,
/// whitespace or a comment. Markers cannot occur inside content, so no other line is one.
fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Whether a marker line holds nothing after its marker but whitespace and a comment.
fn bare(line: &str) -> bool {
    let rest = line[3..].trim();
    rest.is_empty() || rest.starts_with('#')
}

/// Splits a YAML stream into its documents as YAML 1.2 does: `---` starts a document, `...`
/// ends one, and a document may start without a marker after `...` or at the top of the
/// stream. Documents of nothing but blank lines and comments are left out.
pub fn documents(stream: &str) -> Vec<Document<'_>> {
    let mut docs = Vec::new();
    let mut push = |start: usize, end: usize, first_line: usize| {
        let text = &stream[start..end];
        let content = text.lines().any(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#')
        });
        if content {
            docs.push(Document {
                text,
                offset: start,
                first_line,
            });
        }
    };
    let mut start = if stream.starts_with(BOM) {
        BOM.len()
    } else {
        0
    };
    let mut start_line = 1;
    let mut at = start;
    for (n, line) in stream[start..].split_inclusive('\n').enumerate() {
        let number = n + 1;
        let next = at + line.len();
        if is_marker(line, "---") {
            push(start, at, start_line);
            (start, start_line) = if bare(line) {
                (next, number + 1)
            } else {
                (at, number)
            };
        } else if is_marker(line, "...") {
            push(start, at, start_line);
            (start, start_line) = (next, number + 1);
        }
        at = next;
    }
    push(start, stream.len(), start_line);
    docs
}

/// A parse error's message without the positions libyaml adds (" at line 3 column 5"): they
/// count from the start of the document, and callers report positions in the whole file.
pub fn message(err: &serde_yaml_ng::Error) -> String {
    let text = err.to_string();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + " at line ".len()..];
        let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let line_len = digits(tail);
        let after_line = &tail[line_len..];
        match after_line.strip_prefix(" column ") {
            Some(col) if line_len > 0 && digits(col) > 0 => rest = &col[digits(col)..],
            _ => {
                out.push_str(" at line ");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

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

    fn texts(stream: &str) -> Vec<(&str, usize)> {
        documents(stream)
            .iter()
            .map(|d| {
                assert_eq!(&stream[d.offset..d.offset + d.text.len()], d.text);
                (d.text, d.first_line)
            })
            .collect()
    }

    #[test]
    fn documents_split_at_markers_at_column_zero() {
        let stream = "a: 1\n---\n# only a comment\n---\nb: 2\nc: 3\n--- \n";
        assert_eq!(texts(stream), [("a: 1\n", 1), ("b: 2\nc: 3\n", 5)]);
        // A tab or a comment after the marker; CRLF line ends.
        let stream = "a: 1\r\n---\t\r\nb: 2\r\n--- # next\r\nc: 3\r\n";
        assert_eq!(
            texts(stream),
            [("a: 1\r\n", 1), ("b: 2\r\n", 3), ("c: 3\r\n", 5)]
        );
        // Not markers: indented, or followed by other text.
        let stream = "a: |\n  ---\nb: ----\n---x: 1\n";
        assert_eq!(texts(stream), [(stream, 1)]);
    }

    #[test]
    fn the_end_marker_ends_a_document_and_a_bare_one_may_follow() {
        let stream = "a: 1\n...\nb: 2\n...\n---\nc: 3\n... # done\n";
        assert_eq!(texts(stream), [("a: 1\n", 1), ("b: 2\n", 3), ("c: 3\n", 6)]);
    }

    #[test]
    fn content_after_the_start_marker_belongs_to_the_document() {
        let stream = "--- {a: 1}\n--- !!map\nb: 2\n";
        assert_eq!(
            texts(stream),
            [("--- {a: 1}\n", 1), ("--- !!map\nb: 2\n", 2)]
        );
        for (text, _) in texts(stream) {
            assert!(parse_bounded(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn a_byte_order_mark_belongs_to_the_stream() {
        let stream = "\u{feff}a: 1\n---\nb: 2\n";
        let docs = documents(stream);
        assert_eq!(docs[0].text, "a: 1\n");
        assert_eq!(docs[0].offset, 3);
        assert_eq!(docs[1].first_line, 3);
    }

    #[test]
    fn messages_lose_every_position() {
        let err = parse_bounded("a:\n  - b\n c: d\n").unwrap_err();
        let full = err.to_string();
        assert!(full.contains(" at line "), "{full}");
        let short = message(&err);
        assert!(!short.contains(" at line "), "{short}");
        assert!(
            short.starts_with(full.split(" at line ").next().unwrap()),
            "{short}"
        );
        // libyaml names two places in some messages: both go, the words between them stay.
        let err = parse_bounded("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(err.to_string().matches(" at line ").count(), 2, "{err}");
        assert_eq!(
            message(&err),
            "did not find expected ',' or ']', while parsing a flow sequence"
        );
    }

    #[test]
    fn a_control_character_is_located() {
        let text = "apiVersion: v1\ndata:\n  a: \"x\u{1b}[31m\"\n";
        let err = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text).unwrap_err();
        assert_eq!(error_offset(text, &err), text.find('\u{1b}').unwrap());
    }

    #[test]
    fn a_wide_alias_bomb_is_refused_early() {
        // One anchor of 3,000 scalars referenced 3,000 times: 9 million values from 21 KB.
        let mut text = String::from("a: &a [");
        text.push_str(&"x,".repeat(3000));
        text.push_str("x]\nb: [");
        text.push_str(&"*a,".repeat(3000));
        text.push_str("*a]\n");
        let err = parse_bounded(&text).unwrap_err();
        assert!(err.to_string().contains(TOO_LARGE), "{err}");
        assert!(error_offset(&text, &err) > 0);
        // A few aliases, as Compose files use them, are fine.
        let ok = "x: &log {driver: json, options: {max-size: 5m}}\na: *log\nb: *log\n";
        assert_eq!(
            parse_bounded(ok).unwrap()["b"]["driver"].as_str(),
            Some("json")
        );
    }

    #[test]
    fn tags_duplicates_and_scalars_read_as_the_crate_reads_them() {
        let text = "a: !reset [1]\nb: !!str 12\nc: 1.5\nd: ~\n3: true\n";
        let ours = parse_bounded(text).unwrap();
        let theirs: Value = serde_yaml_ng::from_str(text).unwrap();
        assert_eq!(ours, theirs);
        assert!(parse_bounded("a: 1\na: 2\n").is_err());
    }

    #[test]
    fn a_located_error_keeps_its_place() {
        let text = "a: 1\nb: [\n";
        let err = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text).unwrap_err();
        assert_eq!(error_offset(text, &err), err.location().unwrap().index());
    }
}
