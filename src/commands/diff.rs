//! `k8s-advisor diff`: loads the two sides of a change (two workspace files, or the workspace
//! and its version committed at `--base REF`, read with `git cat-file` without a checkout),
//! compares them and prints the report. Exits 0, or 1 when `--fail-on` names a section that
//! changed for the worse; 2 when either side is not a valid workspace (the error says which).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Context, Settings, print};
use crate::check::Guardrails;
use crate::cli::{DiffArgs, FailOn, ReportFormat};
use crate::diagnostic::Error;
use crate::diff::{self, Concern};
use crate::model::Workspace;
use crate::policy::Policy;
use crate::text::clean;
use crate::workspace;

pub fn run(opts: &Settings, args: &DiffArgs) -> Result<u8, Error> {
    let (old, new) = sides(opts, args)?;
    let policy = Policy::load(opts.policies.as_deref())?;
    let guardrails = Guardrails::load(opts.policies.as_deref())?;
    let criteria = policy.criterion_ids();
    let old = old.load(&criteria)?;
    let new = new.load(&criteria)?;
    let report = diff::diff(&old, &new, &policy, &guardrails)?;
    let text = match args.format {
        ReportFormat::Text => diff::render::text(&report, opts.paint()),
        ReportFormat::Json => diff::render::json(&report),
        ReportFormat::Markdown => diff::render::markdown(&report),
    };
    print(&text)?;
    let worse = args.fail_on.iter().any(|&c| report.worse(concern(c)));
    Ok(u8::from(worse))
}

fn concern(c: FailOn) -> Concern {
    match c {
        FailOn::Verdict => Concern::Verdict,
        FailOn::Exposure => Concern::Exposure,
        FailOn::Egress => Concern::Egress,
        FailOn::Findings => Concern::Findings,
    }
}

/// Where one side of the diff comes from.
enum Side {
    /// A file on disk.
    File { side: &'static str, path: PathBuf },
    /// A file as committed at a git revision.
    Committed { reference: String, path: PathBuf },
}

/// The old and the new side, as the arguments name them.
fn sides(opts: &Settings, args: &DiffArgs) -> Result<(Side, Side), Error> {
    let file = |side, path: &PathBuf| Side::File {
        side,
        path: path.clone(),
    };
    match (&args.base, args.files.as_slice()) {
        (None, [old, new]) => Ok((file("old", old), file("new", new))),
        (None, _) => Err(Error::usage(
            "diff needs two workspace files, or --base REF",
            "run `k8s-advisor diff OLD.toml NEW.toml`, or `k8s-advisor diff --base main` to compare the workspace with its committed version",
        )),
        (Some(_), [_, _]) => Err(Error::usage(
            "--base REF takes the old side from git: give at most the new workspace file",
            "run `k8s-advisor diff --base main [NEW.toml]`, or `k8s-advisor diff OLD.toml NEW.toml` without --base",
        )),
        (Some(reference), files) => {
            let new = match files.first() {
                Some(path) => path.clone(),
                None => Context::locate(opts)?,
            };
            Ok((
                Side::Committed {
                    reference: checked_reference(reference)?,
                    path: new.clone(),
                },
                file("new", &new),
            ))
        }
    }
}

/// A revision git can be given as an argument: not empty, not an option, one printable line.
fn checked_reference(reference: &str) -> Result<String, Error> {
    if reference.is_empty()
        || reference.starts_with('-')
        || reference
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(Error::usage(
            format!("--base {:?} is not a git revision", clean(reference)),
            "name a branch, tag or commit, such as `--base main` or `--base HEAD~1`",
        ));
    }
    Ok(reference.to_string())
}

impl Side {
    /// Reads and validates this side; an error says which side it is.
    fn load(&self, criteria: &[&str]) -> Result<Workspace, Error> {
        let (side, name, result) = match self {
            Side::File { side, path } => (
                *side,
                path.display().to_string(),
                workspace::load(path, criteria),
            ),
            Side::Committed { reference, path } => {
                let name = format!("{reference}:{}", path.display());
                let result = committed(reference, path).and_then(|bytes| {
                    let source = workspace::decode(Path::new(&name), bytes)?;
                    workspace::parse(&source, criteria)
                });
                ("old", name, result)
            }
        };
        result.map_err(|source| Error::Side {
            side,
            name: clean(&name),
            cause: vec![source],
        })
    }
}

/// The bytes of the file at `path` (relative to the current folder) as committed at
/// `reference`: `git cat-file blob REF:./NAME`, run in the file's folder.
fn committed(reference: &str, path: &Path) -> Result<Vec<u8>, Error> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Err(Error::usage(
            format!("{} names no workspace file", path.display()),
            "give the workspace file, such as k8s-advisor.toml",
        ));
    };
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["cat-file", "blob"])
        .arg(format!("{reference}:./{name}"))
        .output()
        .map_err(|e| {
            Error::usage(
                format!("cannot run git to read {name} at {reference}: {e}"),
                "install git, or give the old workspace as a file: `k8s-advisor diff OLD.toml NEW.toml`",
            )
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr.lines().next().unwrap_or("git failed").trim();
        return Err(Error::usage(
            format!(
                "git cannot read {} at {reference}: {}",
                path.display(),
                clean(reason)
            ),
            "check that the folder is in a git repository, that the revision exists (`git log`) and that the file was committed there",
        ));
    }
    Ok(output.stdout)
}
