//! `k8s-advisor import`: reads the inputs, drafts the workspace, validates the text with the
//! workspace loader and writes it only then (never over an existing file without `--force`).

use std::path::{Path, PathBuf};

use super::{current_dir, print};
use crate::cli::{Cli, ImportArgs};
use crate::diagnostic::Error;
use crate::fsutil;
use crate::import::{self, Options};
use crate::names;
use crate::policy::Policy;
use crate::workspace::{self, FILE_NAME};

pub fn run(cli: &Cli, args: &ImportArgs) -> Result<u8, Error> {
    let policy = Policy::load(cli.policies.as_deref())?;
    let path: PathBuf = args
        .output
        .clone()
        .or_else(|| cli.workspace.clone())
        .unwrap_or_else(|| PathBuf::from(FILE_NAME));
    let exists = path.exists();
    if exists && !args.force {
        return Err(Error::usage(
            format!("{} already exists; nothing was written", path.display()),
            "choose another file with -o, or add --force to replace it",
        ));
    }
    let (text, unknowns, skipped) = draft(&args.paths, &args.profile, &policy)?;
    if exists {
        fsutil::write_atomic(&path, text.as_bytes())?;
    } else {
        fsutil::create_new(&path, text.as_bytes())?;
    }
    if !cli.quiet {
        eprint!("{}", summary(&unknowns, &skipped));
        print(&format!("Wrote {}\n", path.display()))?;
    }
    Ok(0)
}

/// Imports `paths` into workspace text that the loader accepts; also returns what could not be
/// known and which paths were skipped. Shared with `init --from`.
pub fn draft(
    paths: &[PathBuf],
    profiles: &[String],
    policy: &Policy,
) -> Result<(String, Vec<String>, Vec<String>), Error> {
    let (inputs, skipped) = import::read_inputs(paths)?;
    let cwd = current_dir()?;
    let options = Options {
        profiles: profiles.to_vec(),
        fallback_project: fallback_name(paths, &cwd),
    };
    let (text, unknowns) = import::import(&inputs, &options)?;
    // The draft must load like any workspace; if it does not, that is a bug of the import,
    // reported with the text so that nothing half-valid is written.
    let source = crate::diagnostic::Source::new(Path::new(FILE_NAME), text.clone());
    workspace::parse(&source, &policy.criterion_ids())?;
    Ok((text, unknowns, skipped))
}

/// The project name when the input has none: the folder of the first path.
fn fallback_name(paths: &[PathBuf], cwd: &Path) -> String {
    let first = paths.first().filter(|p| p.as_os_str() != "-");
    let dir = match first {
        Some(p) if p.is_dir() => cwd.join(p),
        Some(p) => cwd
            .join(p)
            .parent()
            .map_or_else(|| cwd.to_path_buf(), Path::to_path_buf),
        None => cwd.to_path_buf(),
    };
    dir.canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .and_then(|n| names::slugify(&n, names::MAX_LABEL))
        .unwrap_or_else(|| "imported".to_string())
}

/// The summary printed after a successful import.
pub fn summary(unknowns: &[String], skipped: &[String]) -> String {
    let mut out = String::new();
    for s in skipped {
        out.push_str(&format!("skipped: {s}\n"));
    }
    if unknowns.is_empty() {
        out.push_str("Everything in the input was imported.\n");
    } else {
        out.push_str(&format!(
            "{} thing{} could not be known (listed at the top of the file too):\n",
            unknowns.len(),
            if unknowns.len() == 1 { "" } else { "s" }
        ));
        for u in unknowns {
            out.push_str(&format!("  - {}\n", import::render::comment(u)));
        }
    }
    out
}
