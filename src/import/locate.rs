//! Read stage of `import`: finds the line of a value in YAML text, for provenance comments.
//!
//! The YAML parser gives values without positions, so this walks the text by indentation: each
//! step of a path is a mapping key (`depends_on:`) or a list item (`- redis`, `- KEY=value`)
//! inside the block of the previous step. It understands block style, which is what people
//! write; inside flow style (`{ a: 1 }`) it stops at the deepest line it found. A position is
//! only ever used in a comment, so an approximate line is acceptable, a wrong file is not.

use std::collections::BTreeMap;

/// 1-based line of the deepest step of `path` found in `text`; `None` when not even the first
/// step is there.
pub fn line(text: &str, path: &[&str]) -> Option<usize> {
    deepest(text, path).map(|(line, _)| line)
}

/// 1-based line of `path` in `text` only when every step is found.
pub fn exact(text: &str, path: &[&str]) -> Option<usize> {
    deepest(text, path)
        .filter(|(_, depth)| *depth == path.len())
        .map(|(line, _)| line)
}

/// The line of the deepest step found and how many steps matched.
fn deepest(text: &str, path: &[&str]) -> Option<(usize, usize)> {
    let mut found: Option<(usize, usize)> = None;
    let mut depth = 0;
    // Indentation of the last matched step; the next step must be indented more (or be a list
    // item at the same indentation, which YAML allows under a key).
    let mut parent: Option<(usize, bool)> = None;
    // Indentation of the direct children of the last match: that of the first line inside it.
    let mut child: Option<usize> = None;
    let mut base: Option<usize> = None;
    for (i, raw) in text.lines().enumerate() {
        if depth == path.len() {
            break;
        }
        let trimmed = raw.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if raw.starts_with("---") || raw.starts_with("...") {
            continue;
        }
        let indent = raw.len() - trimmed.len();
        let is_item = trimmed.starts_with("- ") || trimmed == "-";
        if let Some((pi, _)) = parent {
            let inside = indent > pi || (indent == pi && is_item);
            if !inside {
                break;
            }
            if *child.get_or_insert(indent) != indent {
                continue;
            }
        } else if indent != *base.get_or_insert(indent) {
            // The first step sits at the indentation of the text's first line (0 for a whole
            // file, deeper for a block cut out of one).
            continue;
        }
        let content = if is_item {
            trimmed[1..].trim_start()
        } else {
            trimmed
        };
        if step_matches(content, path[depth]) {
            depth += 1;
            found = Some((i + 1, depth));
            // An item's own keys sit at the indentation of its content.
            let own = if is_item {
                indent + (trimmed.len() - content.len())
            } else {
                indent
            };
            parent = Some((if is_item { own.saturating_sub(1) } else { own }, is_item));
            child = None;
        }
    }
    found
}

/// The direct children of the top-level key `parent`, each with its 1-based first line and the
/// text of its block (from its key line to the line before the next sibling). Block style
/// only; a flow-style parent has no entries.
pub fn children<'a>(text: &'a str, parent: &str) -> BTreeMap<String, (usize, &'a str)> {
    let mut out = BTreeMap::new();
    let mut inside = false;
    let mut child_indent: Option<usize> = None;
    let mut current: Option<(String, usize, usize)> = None; // key, first line, byte start
    let mut offset = 0;
    let mut close = |current: &mut Option<(String, usize, usize)>, end: usize| {
        if let Some((key, line, start)) = current.take() {
            out.entry(key).or_insert((line, &text[start..end]));
        }
    };
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let bare = raw.trim_end_matches(['\n', '\r']);
        let trimmed = bare.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = bare.len() - trimmed.len();
        if indent == 0 {
            close(&mut current, start);
            inside = step_matches(trimmed, parent);
            child_indent = None;
            continue;
        }
        if !inside {
            continue;
        }
        let ci = *child_indent.get_or_insert(indent);
        if indent == ci {
            close(&mut current, start);
            let key = trimmed
                .split(':')
                .next()
                .unwrap_or_default()
                .trim_matches(['"', '\'', ' ']);
            current = Some((key.to_string(), i + 1, start));
        }
    }
    close(&mut current, text.len());
    out
}

fn step_matches(content: &str, step: &str) -> bool {
    let unquoted = content.trim_start_matches(['"', '\'']);
    let Some(rest) = unquoted.strip_prefix(step) else {
        return false;
    };
    let rest = rest.trim_start_matches(['"', '\'']);
    rest.is_empty() || rest.starts_with(':') || rest.starts_with('=') || rest.starts_with(' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "services:
  vote:
    image: vote
    depends_on:
      - redis
    environment:
      - REDIS_URL=redis://redis:6379
      OTHER: x
  redis:
    image: redis
x-vote:
  image: no
";

    #[test]
    fn paths() {
        assert_eq!(line(TEXT, &["services"]), Some(1));
        assert_eq!(line(TEXT, &["services", "vote", "image"]), Some(3));
        assert_eq!(
            line(TEXT, &["services", "vote", "depends_on", "redis"]),
            Some(5)
        );
        assert_eq!(
            line(TEXT, &["services", "vote", "environment", "REDIS_URL"]),
            Some(7)
        );
        assert_eq!(line(TEXT, &["services", "redis", "image"]), Some(10));
        // Only direct children match: `redis` under depends_on is not the service.
        assert_eq!(exact(TEXT, &["services", "redis"]), Some(9));
        // A step that is missing leaves the deepest match.
        assert_eq!(line(TEXT, &["services", "redis", "ports"]), Some(9));
        // Keys of other blocks never match.
        assert_eq!(line(TEXT, &["services", "vote", "ports"]), Some(2));
        assert_eq!(line(TEXT, &["nothing"]), None);
    }

    #[test]
    fn service_blocks() {
        let blocks = children(TEXT, "services");
        assert_eq!(blocks.keys().collect::<Vec<_>>(), ["redis", "vote"]);
        let (first, block) = blocks["redis"];
        assert_eq!(first, 9);
        assert_eq!(block, "  redis:\n    image: redis\n");
        // Lines inside a block count from its first line (the file's line 2).
        assert_eq!(
            exact(blocks["vote"].1, &["vote", "environment", "OTHER"]),
            Some(7)
        );
    }

    #[test]
    fn list_items_with_keys() {
        let text = "spec:\n  containers:\n    - name: a\n      env:\n        - name: X\n          value: y\n";
        assert_eq!(
            line(text, &["spec", "containers", "name", "env", "name"]),
            Some(5)
        );
    }
}
