//! Read stage: finds, reads and parses `k8s-advisor.toml`, then hands it to validation.
//!
//! This is the only module that reads the workspace file from disk.

mod pieces;
pub mod raw;
mod validate;
pub mod write;

pub use validate::STATEFUL_NAME_MAX;

use std::path::{Path, PathBuf};

use crate::diagnostic::{Error, Source};
use crate::model::Workspace;

// Shared with every TOML input (policy files, imports); they live in `tomlfile` so that reading
// a policy does not depend on the workspace module.
pub use crate::tomlfile::{decode, toml_problem};

/// The rules validation applies to single values, for questions that check an answer the
/// moment it is typed (`init`) and policy files that name such values (`images.toml`).
pub mod rules {
    pub use super::validate::stubs::{STATEFUL_NAME_MAX, TMP, container_path, probe_path};
}

/// The default workspace file name.
pub const FILE_NAME: &str = "k8s-advisor.toml";

/// Finds the workspace: `explicit` if given, else `k8s-advisor.toml` in `start` or the nearest
/// folder above it, up to the repository root (the nearest folder holding `.git`). Outside a
/// repository only `start` itself is searched: a workspace planted in a shared folder above
/// (`/tmp`, a home folder) must not be picked up.
pub fn locate(explicit: Option<&Path>, start: &Path) -> Result<PathBuf, Error> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    let real = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    let boundary = repository_root(&real).unwrap_or_else(|| real.clone());
    // Report the path relative to where the user stands, as they would type it.
    for (up, dir) in real.ancestors().enumerate() {
        if dir.join(FILE_NAME).is_file() {
            let mut path: PathBuf = std::iter::repeat_n("..", up).collect();
            path.push(FILE_NAME);
            return Ok(path);
        }
        if dir == boundary {
            break;
        }
    }
    Err(Error::NoWorkspace {
        dir: start.to_path_buf(),
    })
}

/// The repository `dir` is in: the nearest folder at or above it holding `.git` (a folder, or a
/// file as in a worktree or submodule). `dir` should be canonical, so that `..` and links do not
/// lead the search elsewhere.
pub fn repository_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| std::fs::symlink_metadata(d.join(".git")).is_ok())
        .map(Path::to_path_buf)
}

/// Reads and validates the workspace at `path`. `criteria` are the ids that `[answers]` may name.
pub fn load(path: &Path, criteria: &[&str]) -> Result<Workspace, Error> {
    let bytes = crate::files::read_regular(path, "give the workspace file")?;
    let source = decode(path, bytes)?;
    parse(&source, criteria)
}

/// Parses and validates workspace text.
pub fn parse(source: &Source, criteria: &[&str]) -> Result<Workspace, Error> {
    // A valid file is read part by part, which never holds the parsed document of the whole
    // file; a file with any problem is read again whole, so that every problem is reported as
    // the whole file shows it.
    if let Some(raw) = pieces::read(source.text())
        && let Ok(valid) = validate::validate(raw, criteria)
    {
        return Ok(workspace(source, valid));
    }
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
    Ok(workspace(source, valid))
}

fn workspace(source: &Source, valid: validate::Validated) -> Workspace {
    Workspace {
        source: source.clone(),
        project: valid.project,
        answers: valid.answers,
        namespaces: valid.namespaces,
        services: valid.services,
    }
}
