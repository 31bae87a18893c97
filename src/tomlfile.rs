//! Read-stage helpers shared by every TOML input (the workspace, the policy files): decoding a
//! file's bytes into a [`Source`] and turning a TOML or serde error into a located [`Problem`]
//! with a hint. They depend on nothing but `diagnostic`, so the readers of each input can use
//! them without depending on one another.

use std::path::Path;

use crate::diagnostic::{Code, Error, Problem, Source, closest};

/// Decodes file bytes as UTF-8, pointing at the first invalid byte otherwise.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<Source, Error> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source::new(path, text)),
        Err(err) => {
            let at = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            // The lossy text replaces the bad byte with U+FFFD at the same char position.
            let source = Source::new(path, text);
            let start = at.min(source.text().len());
            let end = source.text()[start..]
                .chars()
                .next()
                .map_or(start, |c| start + c.len_utf8());
            Err(Error::invalid(
                &source,
                vec![
                    Problem::new(Code::Encoding, start..end, "the file is not valid UTF-8")
                        .label("invalid byte")
                        .help("save the file as UTF-8"),
                ],
            ))
        }
    }
}

/// Turns a TOML or serde error into a problem with a hint.
pub fn toml_problem(source: &Source, err: &toml::de::Error) -> Problem {
    let span = err.span().unwrap_or(0..0);
    let message = err.message().trim().to_string();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = rest
            .split_once("expected")
            .map(|(_, list)| list.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        let help = match closest(key, expected.iter().copied()) {
            Some(c) => format!("did you mean `{c}`?"),
            None if expected.is_empty() => "remove it".to_string(),
            None => format!(
                "valid keys here: {}",
                expected
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        return Problem::new(Code::UnknownKey, span, format!("unknown key `{key}`"))
            .label("unknown key")
            .help(help);
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or_default();
        return Problem::new(Code::MissingKey, span, format!("missing key `{key}`"))
            .label(format!("`{key}` is required in this table"))
            .help(format!(
                "add `{key} = ...`; see docs/reference/workspace.md"
            ));
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        let message = message.replace("i64", "integer");
        return Problem::new(Code::WrongType, span, message)
            .label("wrong type")
            .help(type_help(source, &err.span().unwrap_or(0..0)));
    }
    let first_line = message.lines().next().unwrap_or("invalid TOML").to_string();
    let rest: Vec<&str> = message
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut problem =
        Problem::new(Code::Syntax, span, format!("invalid TOML: {first_line}")).label("here");
    problem = if rest.is_empty() {
        problem.help("see https://toml.io for the syntax")
    } else {
        problem.help(rest.join("; "))
    };
    problem
}

fn type_help(source: &Source, span: &std::ops::Range<usize>) -> String {
    let text = source.text().get(span.clone()).unwrap_or_default();
    if text.starts_with('"') {
        "remove the quotes if a number or boolean is meant".to_string()
    } else {
        "check the value's type against docs/reference/workspace.md".to_string()
    }
}
