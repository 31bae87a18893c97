//! Read stage: finds, reads and parses `k8s-advisor.toml`, then hands it to validation.
//!
//! This is the only module that reads the workspace file from disk.

pub mod raw;
mod validate;
pub mod write;

use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Error, Problem, Source, closest};
use crate::model::Workspace;

/// The default workspace file name.
pub const FILE_NAME: &str = "k8s-advisor.toml";

/// Finds the workspace: `explicit` if given, else `k8s-advisor.toml` in `start` or the nearest
/// folder above it.
pub fn locate(explicit: Option<&Path>, start: &Path) -> Result<PathBuf, Error> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    // Report the path relative to where the user stands, as they would type it.
    start
        .ancestors()
        .enumerate()
        .find(|(_, dir)| dir.join(FILE_NAME).is_file())
        .map(|(up, _)| {
            let mut path: PathBuf = std::iter::repeat_n("..", up).collect();
            path.push(FILE_NAME);
            path
        })
        .ok_or_else(|| Error::NoWorkspace {
            dir: start.to_path_buf(),
        })
}

/// Reads and validates the workspace at `path`. `criteria` are the ids that `[answers]` may name.
pub fn load(path: &Path, criteria: &[&str]) -> Result<Workspace, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    let source = decode(path, bytes)?;
    parse(&source, criteria)
}

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

/// Parses and validates workspace text.
pub fn parse(source: &Source, criteria: &[&str]) -> Result<Workspace, Error> {
    let (raw, mut problems) =
        crate::tomlkeys::from_str_all::<raw::RawWorkspace>(source, |e| toml_problem(source, e));
    // Unknown keys do not stop validation: the rest of the file is judged too, and every
    // problem is reported at once.
    let Some(raw) = raw else {
        return Err(Error::invalid(source, problems));
    };
    let valid = match validate::validate(raw, criteria) {
        Ok(valid) if problems.is_empty() => valid,
        Ok(_) => return Err(Error::invalid(source, problems)),
        Err(more) => {
            problems.extend(more);
            return Err(Error::invalid(source, problems));
        }
    };
    Ok(Workspace {
        source: source.clone(),
        project: valid.project,
        answers: valid.answers,
        namespaces: valid.namespaces,
        services: valid.services,
    })
}

/// Turns a TOML or serde error into a problem with a hint. Shared with policy files.
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
                "add `{key} = ...`; see the workspace reference in the README"
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
        "check the value's type against the workspace reference in the README".to_string()
    }
}
