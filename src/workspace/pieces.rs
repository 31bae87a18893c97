//! Parse stage for large files: deserializes the workspace one `[[services]]` table at a time,
//! so that the parsed TOML document of the whole file (several times the size of the text, for
//! a drafted workspace of 100,000 services hundreds of megabytes) is never held at once.
//!
//! The file is cut before each line that starts with `[[services]]`. The part above the first
//! cut is read as the whole file would be; each later part must hold nothing but services.
//! Spans are moved by the offset of their part, so every value carries the span the whole file
//! would give it. A cut inside a multi-line string leaves that string unterminated in its part,
//! which then fails to parse: any part that does not parse or deserialize gives `None`, and the
//! caller reads the whole file as before, so a bad file gets the same problems either way.

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::raw::{RawService, RawWorkspace};

/// What a part after a cut may hold.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Services {
    #[serde(default)]
    services: Vec<Spanned<RawService>>,
}

/// The file deserialized part by part, or `None` when a part does not deserialize on its own.
pub fn read(text: &str) -> Option<RawWorkspace> {
    let mut cuts = cuts(text);
    let first = cuts.next().unwrap_or(text.len());
    let mut raw: RawWorkspace = toml::from_str(&text[..first]).ok()?;
    if first == text.len() {
        return Some(raw);
    }
    // The whole file refuses `services` defined both above the first cut and after it, even
    // as an empty array (`services = []`, which a `[[services]]` table cannot extend).
    let head = DeTable::parse(&text[..first]).ok()?;
    if head.get_ref().keys().any(|k| k.get_ref() == "services") {
        return None;
    }
    let mut start = first;
    for end in cuts.chain(std::iter::once(text.len())) {
        raw.services.extend(part(text, start, end)?.services);
        start = end;
    }
    Some(raw)
}

/// The byte offset of each line that starts with `[[services]]`.
fn cuts(text: &str) -> impl Iterator<Item = usize> + '_ {
    let at_start = text.starts_with("[[services]]").then_some(0);
    at_start.into_iter().chain(
        text.match_indices("\n[[services]]")
            .map(|(newline, _)| newline + 1),
    )
}

/// `text[start..end]` deserialized, its spans moved to where they are in `text`.
fn part(text: &str, start: usize, end: usize) -> Option<Services> {
    let mut table = DeTable::parse(&text[start..end]).ok()?;
    shift_table(table.get_mut(), start);
    Services::deserialize(toml::de::Deserializer::from(table)).ok()
}

fn shift_table(table: &mut DeTable<'_>, by: usize) {
    for (_, value) in table.iter_mut() {
        shift(value, by);
    }
}

fn shift(value: &mut Spanned<DeValue<'_>>, by: usize) {
    let span = value.span();
    let mut inner = std::mem::replace(value.get_mut(), DeValue::Boolean(false));
    match &mut inner {
        DeValue::Table(table) => shift_table(table, by),
        DeValue::Array(items) => items.iter_mut().for_each(|item| shift(item, by)),
        _ => {}
    }
    *value = Spanned::new(span.start + by..span.end + by, inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole file deserialized at once, as `Debug` text (which shows every span).
    fn whole(text: &str) -> Option<String> {
        toml::from_str::<RawWorkspace>(text)
            .ok()
            .map(|raw| format!("{raw:?}"))
    }

    fn pieces(text: &str) -> Option<String> {
        read(text).map(|raw| format!("{raw:?}"))
    }

    /// Every workspace in the repository (examples, test fixtures, the corpus of bad files,
    /// imported drafts): read in parts, it gives the values and spans the whole file gives, or
    /// nothing, and it gives nothing only when the whole file has a problem.
    #[test]
    fn parts_give_what_the_whole_file_gives() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<std::path::PathBuf> = Vec::new();
        for dir in [
            "examples",
            "tests/corpus",
            "tests/verify/shop",
            "tests/robust",
        ] {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                for entry in std::fs::read_dir(&d).expect("a fixture folder").flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "toml") {
                        files.push(path);
                    }
                }
            }
        }
        let snapshot = std::fs::read_to_string(
            root.join("tests/snapshots/integration__import__voting-app-compose.snap"),
        )
        .expect("the voting-app snapshot");
        let drafted = snapshot.splitn(3, "---\n").nth(2).expect("insta header");
        let mut texts: Vec<(String, String)> = vec![("voting-app draft".into(), drafted.into())];
        for f in &files {
            // Files that are not UTF-8 are refused before they are parsed.
            if let Ok(text) = String::from_utf8(std::fs::read(f).expect("a fixture")) {
                texts.push((f.display().to_string(), text));
            }
        }
        let mut split = 0;
        for (name, text) in &texts {
            let (parts, whole) = (pieces(text), whole(text));
            match (&parts, &whole) {
                (Some(p), Some(w)) => assert_eq!(p, w, "{name}"),
                (None, None) => {}
                (None, Some(_)) => panic!("{name}: the whole file reads, its parts do not"),
                (Some(_), None) => panic!("{name}: the parts read, the whole file does not"),
            }
            split += usize::from(parts.is_some() && cuts(text).count() > 1);
        }
        assert!(
            files.len() > 20 && split > 5,
            "{} files, {split} split",
            files.len()
        );
    }

    #[test]
    fn a_cut_inside_a_multi_line_string_falls_back() {
        let text = "version = 1\n[project]\nname = \"p\"\n[[services]]\nname = \"a\"\n\
                    description = \"\"\"\n[[services]]\nname = \"b\"\n\"\"\"\n";
        assert!(whole(text).is_some());
        assert_eq!(pieces(text), None);
    }

    #[test]
    fn services_above_and_below_the_first_cut_fall_back() {
        let text = "version = 1\nservices = [{ name = \"a\" }]\n[project]\nname = \"p\"\n\
                    [[services]]\nname = \"b\"\n";
        assert_eq!(whole(text), None);
        assert_eq!(pieces(text), None);
    }

    #[test]
    fn an_empty_services_array_above_the_first_cut_falls_back() {
        let text =
            "version = 1\nservices = []\n[project]\nname = \"p\"\n[[services]]\nname = \"b\"\n";
        assert_eq!(whole(text), None);
        assert_eq!(pieces(text), None);
    }

    #[test]
    fn a_table_after_the_services_falls_back() {
        let text = "version = 1\n[[services]]\nname = \"a\"\n[project]\nname = \"p\"\n";
        assert!(whole(text).is_some());
        assert_eq!(pieces(text), None);
    }

    /// Text an adversary would write where a cut could go wrong: a header in an escaped or a
    /// literal string, after U+2028 or a lone carriage return, after a comment, indented, in an
    /// inline array, and a 70,000-column line between two services.
    #[test]
    fn hostile_text_reads_as_the_whole_file_does() {
        let head = "version = 1\n[project]\nname = \"p\"\n";
        let long = "x".repeat(70_000);
        let bodies = [
            "[[services]]\nname = \"a\"\ndescription = \"\\n[[services]]\"\n".to_string(),
            "[[services]]\nname = \"a\"\ndescription = '''\n[[services]]\nname = 1'''\n"
                .to_string(),
            "[[services]]\nname = \"a\"\n\u{2028}[[services]]\nname = \"b\"\n".to_string(),
            "[[services]]\nname = \"a\"\r[[services]]\nname = \"b\"\n".to_string(),
            "# [[services]]\n[[services]]\nname = \"a\" # [[services]]\n".to_string(),
            "  [[services]]\nname = \"a\"\n[[services]]\nname = \"b\"\n".to_string(),
            "[[services]]\nname = \"a\"\ncalls = [\n[[services]]\n]\n".to_string(),
            format!(
                "[[services]]\nname = \"a\"\ndescription = \"{long}\"\n[[services]]\nname = \"b\"\n"
            ),
            "[[services]]\nname = \"a\"\n[[services]]\nname = \"a\"\n\u{1b}[31m\n".to_string(),
        ];
        for body in &bodies {
            let text = format!("{head}{body}");
            let (parts, whole) = (pieces(&text), whole(&text));
            let shown = &text[..text.len().min(120)];
            // Parts that read give what the whole file gives; parts that do not read leave the
            // file to be read whole, which is always right.
            assert!(parts.is_none() || parts == whole, "{shown:?}");
        }
    }

    #[test]
    fn sub_tables_and_crlf_keep_their_spans() {
        let text = "version = 1\r\n[project]\r\nname = \"p\"\r\n[[services]]\r\nname = \"a\"\r\n\
                    [services.resources.requests]\r\ncpu = \"100m\"\r\n[[services]]\r\nname = \"b\"\r\n\
                    calls = [{ to = \"a\", ports = [\"http\"] }]\r\n";
        assert!(pieces(text).is_some());
        assert_eq!(pieces(text), whole(text));
    }
}
