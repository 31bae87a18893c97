//! Read stage of `verify`, positions: where the entries of a `kind: List` and the rules of a
//! NetworkPolicy are written in a document, so that findings can point at the rule itself.
//!
//! The YAML parser hands back values without positions, so this reads the document's block
//! structure from indentation alone. It is a pointer, never a source of meaning: the caller
//! uses an answer only when it finds exactly one entry per rule it parsed, and otherwise points
//! at the policy's document. Flow collections (`ingress: [...]`), quoted keys, anchors and
//! tags on these keys give no answer. Pure functions over text; nothing here fails.

use std::ops::Range;

/// A line that carries content: not blank, not only a comment, not a document marker.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    /// Byte offset of the line's first content character in the text.
    offset: usize,
    /// Column of that character (0-based); for an entry's first line, the column after `- `.
    indent: usize,
    /// The line from that character on.
    content: &'a str,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut at = 0;
    for raw in text.split_inclusive('\n') {
        let start = at;
        at += raw.len();
        let body = raw.trim_end_matches(['\n', '\r']);
        let content = body.trim_start_matches(' ');
        let indent = body.len() - content.len();
        let marker = indent == 0 && (content.starts_with("---") || content.starts_with("..."));
        if content.trim().is_empty() || content.starts_with('#') || marker {
            continue;
        }
        out.push(Line {
            offset: start + indent,
            indent,
            content,
        });
    }
    out
}

/// The value written after `key:` on this line (comment removed, trimmed), when the line is
/// that key of a block mapping.
fn key_value<'a>(content: &'a str, key: &str) -> Option<&'a str> {
    let rest = content.strip_prefix(key)?.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = rest.trim();
    Some(if rest.starts_with('#') { "" } else { rest })
}

/// The lines of the block value of the mapping key at `lines[at]`: those indented deeper, and
/// sequence entries at the key's own column (`ingress:` followed by `- from:` is valid YAML).
fn value_of<'l, 'a>(lines: &'l [Line<'a>], at: usize) -> &'l [Line<'a>] {
    let key = lines[at].indent;
    let len = lines[at + 1..]
        .iter()
        .take_while(|l| l.indent > key || (l.indent == key && is_entry(l.content)))
        .count();
    &lines[at + 1..at + 1 + len]
}

fn is_entry(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// The block value of `key` in the mapping made of `lines` (its keys are at the first line's
/// column); `None` unless the key is there, once, with nothing after its colon.
fn block_value<'l, 'a>(lines: &'l [Line<'a>], key: &str) -> Option<&'l [Line<'a>]> {
    let column = lines.first()?.indent;
    let mut found = None;
    for (i, line) in lines.iter().enumerate() {
        if line.indent != column {
            continue;
        }
        if let Some(value) = key_value(line.content, key) {
            if found.is_some() || !value.is_empty() {
                return None;
            }
            found = Some(i);
        }
    }
    found.map(|i| value_of(lines, i))
}

/// The entries of the block sequence made of `lines`: each entry's dash offset and its lines,
/// the first one re-read from the column after `- ` so an entry's mapping reads like any other.
fn entries<'a>(lines: &[Line<'a>]) -> Option<Vec<(usize, Vec<Line<'a>>)>> {
    let column = lines.first()?.indent;
    let mut out: Vec<(usize, Vec<Line<'a>>)> = Vec::new();
    for line in lines {
        if line.indent < column {
            return None;
        }
        if line.indent > column {
            out.last_mut()?.1.push(*line);
            continue;
        }
        if !is_entry(line.content) {
            return None;
        }
        let after = &line.content[1..];
        let content = after.trim_start_matches(' ');
        let mut first = Vec::new();
        if !content.is_empty() && !content.starts_with('#') {
            let skipped = line.content.len() - content.len();
            first.push(Line {
                offset: line.offset + skipped,
                indent: line.indent + skipped,
                content,
            });
        }
        out.push((line.offset, first));
    }
    Some(out)
}

/// The byte ranges of the entries of a `kind: List` document's top-level `items`, each from
/// the start of its dash's line to the next one (comments and blank lines between belong to
/// the earlier entry).
pub fn list_items(text: &str) -> Option<Vec<Range<usize>>> {
    let all = lines(text);
    let block = block_value(&all, "items")?;
    // The last entry ends with the line that ends the `items` block.
    let last = block.last()?;
    let end = text[last.offset..]
        .find('\n')
        .map_or(text.len(), |n| last.offset + n + 1);
    // Each entry starts at the beginning of its dash's line, so its text keeps its columns.
    let column = block.first()?.indent;
    let starts: Vec<usize> = entries(block)?
        .into_iter()
        .map(|(at, _)| at - column)
        .collect();
    let ends = starts.iter().skip(1).copied().chain([end]);
    Some(starts.iter().zip(ends).map(|(s, e)| *s..e).collect())
}

/// Where a NetworkPolicy's rules are written in `text` (a whole document, or one entry of a
/// `List` starting at its dash's line): byte offsets of the dash of every `spec.ingress` entry and of
/// every `spec.egress` entry, in order. A section is `None` when it is absent or not a block
/// sequence; callers must also check the count against the rules they parsed.
pub fn rule_offsets(text: &str) -> (Option<Vec<usize>>, Option<Vec<usize>>) {
    let all = lines(text);
    let entry;
    let object: &[Line<'_>] = match all.first() {
        Some(first) if is_entry(first.content) => match entries(&all) {
            Some(mut list) if list.len() == 1 => {
                entry = list.remove(0).1;
                &entry
            }
            _ => return (None, None),
        },
        _ => &all,
    };
    let Some(spec) = block_value(object, "spec") else {
        return (None, None);
    };
    let section = |key: &str| {
        let list = entries(block_value(spec, key)?)?;
        Some(list.into_iter().map(|(at, _)| at).collect())
    };
    (section("ingress"), section("egress"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(text: &str, offset: usize) -> usize {
        text[..offset].matches('\n').count() + 1
    }

    #[test]
    fn rules_are_found_in_block_style() {
        let text = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: p
spec:
  podSelector: {}
  ingress:
  # a comment between entries
  - from:
    - podSelector: {matchLabels: {a: b}}
    ports:
    - port: 80
  -   ports: [{port: 81}]
  egress:
    - to: [{ipBlock: {cidr: 10.0.0.0/8}}]
    - {}
";
        let (ingress, egress) = rule_offsets(text);
        let lines = |v: Option<Vec<usize>>| -> Vec<usize> {
            v.unwrap().into_iter().map(|o| line_of(text, o)).collect()
        };
        assert_eq!(lines(ingress), [9, 13]);
        assert_eq!(lines(egress), [15, 16]);
    }

    #[test]
    fn flow_style_and_odd_layouts_give_no_answer() {
        let flow = "kind: NetworkPolicy\nspec: {ingress: [{}]}\n";
        assert_eq!(rule_offsets(flow), (None, None));
        let inline = "kind: NetworkPolicy\nspec:\n  ingress: [{}, {}]\n  egress:\n  - {}\n";
        let (ingress, egress) = rule_offsets(inline);
        assert_eq!(ingress, None);
        assert_eq!(egress.map(|v| v.len()), Some(1));
        let twice = "spec:\n  egress:\n  - {}\nspec:\n  egress:\n  - {}\n";
        assert_eq!(rule_offsets(twice), (None, None));
        // Hostile text: nothing found, nothing panics.
        for text in [
            "",
            "-",
            "- \u{2028}\n  - \u{1b}[31m",
            "spec:\n\tingress:\n\t- {}\n",
            "spec:\n  ingress:\n  - a\n bad\n",
        ] {
            let _ = rule_offsets(text);
            let _ = list_items(text);
        }
    }

    #[test]
    fn list_items_and_their_rules() {
        let text = "\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Namespace
    metadata: {name: a}
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: p, namespace: a}
    spec:
      podSelector: {}
      egress:
      - to:
        - podSelector: {}
      - ports:
        - port: 53
          protocol: UDP
";
        let items = list_items(text).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(line_of(text, items[0].start), 4);
        assert_eq!(line_of(text, items[1].start), 7);
        assert_eq!(items[1].end, text.len());
        let item = &text[items[1].clone()];
        let (ingress, egress) = rule_offsets(item);
        assert_eq!(ingress, None);
        let egress: Vec<usize> = egress
            .unwrap()
            .into_iter()
            .map(|o| line_of(text, items[1].start + o))
            .collect();
        assert_eq!(egress, [13, 15]);
    }
}
