//! Read-stage helper: deserializes a TOML file while reporting every unknown key, not only the
//! first. serde stops at the first unknown field; this removes each one it reports (by its
//! span) from the parsed document and tries again, so a file with five typos gets five problems
//! at once, and the rest of the file is still validated.

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Code, Problem, Source};

/// More unknown keys than this in one file stop the search: the file is likely not ours.
const MAX_UNKNOWN: usize = 100;

/// Deserializes `source`. Returns the value when the file deserializes once its unknown keys
/// are set aside, and every problem found: each unknown key, or the first other error.
pub fn from_str_all<T: DeserializeOwned>(
    source: &Source,
    problem: impl Fn(&toml::de::Error) -> Problem,
) -> (Option<T>, Vec<Problem>) {
    // Most files have no unknown key: deserialize straight from the text, which holds no
    // second copy of the document (on the 5,000-service benchmark model the parsed document
    // is 30 MB, and a clone of it doubled the peak memory of every command).
    let first = match toml::from_str::<T>(source.text()) {
        Ok(value) => return (Some(value), Vec::new()),
        Err(err) => problem(&err),
    };
    if first.code != Code::UnknownKey {
        return (None, vec![first]);
    }
    let mut document = match DeTable::parse(source.text()) {
        Ok(document) => document,
        Err(err) => return (None, vec![problem(&err)]),
    };
    let mut problems = Vec::new();
    loop {
        let attempt = T::deserialize(toml::de::Deserializer::from(document.clone()));
        let err = match attempt {
            Ok(value) => return (Some(value), problems),
            Err(err) => err,
        };
        let found = problem(&err);
        let removed = found.code == Code::UnknownKey
            && problems.len() < MAX_UNKNOWN
            && err
                .span()
                .is_some_and(|span| remove_key(document.get_mut(), &span));
        problems.push(found);
        if !removed {
            return (None, problems);
        }
    }
}

/// Removes the key written at `span`, wherever it is in `table`; false when none is.
fn remove_key(table: &mut DeTable<'_>, span: &std::ops::Range<usize>) -> bool {
    let hit = table.keys().find(|k| k.span() == *span).cloned();
    if let Some(key) = hit {
        return table.remove(&key).is_some();
    }
    table
        .iter_mut()
        .any(|(_, value)| remove_in_value(value, span))
}

fn remove_in_value(value: &mut Spanned<DeValue<'_>>, span: &std::ops::Range<usize>) -> bool {
    match value.get_mut() {
        DeValue::Table(table) => remove_key(table, span),
        DeValue::Array(items) => items.iter_mut().any(|item| remove_in_value(item, span)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        #[allow(dead_code)]
        a: i64,
    }

    #[test]
    fn every_unknown_key_is_reported() {
        let source = Source::new("x.toml", "a = 1\nb = 2\n[c]\nd = 3\n[[e]]\nf = 1\n");
        let (doc, problems) = from_str_all::<Doc>(&source, |e| {
            Problem::new(Code::UnknownKey, e.span().unwrap_or(0..0), e.message())
        });
        assert!(doc.is_some(), "{problems:?}");
        assert_eq!(problems.len(), 3);
    }
}
