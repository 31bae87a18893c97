//! `k8s-advisor generate`: the write stage of the namespace layout. Renders the files with the
//! pure `generate` stage, compares them with what is on disk, then writes, removes or (with
//! `--check`) only reports the differences.
//!
//! Safety rules, in order: every path is a plain relative path inside `--out`; a file that a
//! person edited since we wrote it (or a file we did not write at one of our paths) is neither
//! overwritten nor removed without `--force`; a file we wrote that the model no longer produces
//! is removed; files are replaced atomically; files of others are never touched.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use similar::TextDiff;

use super::{Context, print};
use crate::cli::{Cli, GenerateArgs};
use crate::diagnostic::Error;
use crate::fsutil;
use crate::generate::stamp::{self, Origin};
use crate::generate::{self, GeneratedFile};

/// What `generate` did to the output folder.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// The output folder.
    pub out: PathBuf,
    /// Every file of the layout (written or already up to date), in path order. A later stage
    /// (the decision record) lists these.
    pub files: Vec<PathBuf>,
    /// Files created or replaced.
    pub written: Vec<PathBuf>,
    /// Stale files of ours that were removed.
    pub removed: Vec<PathBuf>,
}

/// How the output folder compares with the layout.
#[derive(Debug, Default)]
struct Plan {
    /// Generated files that differ from disk or are missing: (relative path, old contents).
    changes: Vec<(PathBuf, Option<String>)>,
    /// Files of ours on disk that the model no longer produces: (relative path, contents).
    stale: Vec<(PathBuf, String)>,
    /// Files that would be overwritten or removed although someone edited them.
    edited: Vec<PathBuf>,
}

/// Runs `generate`.
pub fn run(cli: &Cli, args: &GenerateArgs) -> Result<u8, Error> {
    let ctx = Context::load(cli)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| ctx.root.join(generate::DEFAULT_OUT));
    let files = generate::generate(&ctx.workspace);
    if args.check {
        return check(&out, &ctx.workspace.project.name, &files, cli.quiet);
    }
    let guardrails = crate::check::Guardrails::load(cli.policies.as_deref())?;
    if !cli.quiet
        && let Some(warning) = crate::assess::generate_warning(&ctx.workspace, &ctx.policy)
    {
        eprint!("{warning}");
    }
    let written = write_manifests(&out, &ctx.workspace.project.name, &files, args.force)?;
    let record = if args.no_record {
        None
    } else {
        // The record lists the files as a reader of the repository sees them: relative to the
        // folder of the workspace file when they are inside it.
        let listed = written
            .files
            .iter()
            .map(|p| p.strip_prefix(&ctx.root).unwrap_or(p).display().to_string())
            .collect();
        Some(super::record::write_record(
            &ctx,
            args.adr_dir.as_deref(),
            listed,
            args.force,
        )?)
    };
    if !cli.quiet {
        let mut text = String::new();
        if cli.verbose > 0 {
            for path in &written.written {
                text.push_str(&format!("wrote {}\n", path.display()));
            }
            for path in &written.removed {
                text.push_str(&format!("removed {}\n", path.display()));
            }
        }
        text.push_str(&format!(
            "{}: {} files, {} written, {} unchanged, {} stale removed\n",
            out.display(),
            written.files.len(),
            written.written.len(),
            written.files.len() - written.written.len(),
            written.removed.len()
        ));
        if let Some(record) = &record {
            text.push_str(&record.summary());
        }
        print(&text)?;
    }
    if !cli.quiet
        && let Some(warning) = crate::check::remaining_errors(&ctx.workspace, &guardrails)
    {
        eprint!("{warning}");
    }
    Ok(0)
}

/// Writes the layout into `out`: creates and replaces what changed, removes stale files of
/// ours, and refuses (exit 2, nothing written) when that would lose someone's edits, unless
/// `force`.
pub fn write_manifests(
    out: &Path,
    project: &str,
    files: &[GeneratedFile],
    force: bool,
) -> Result<Written, Error> {
    let plan = plan(out, project, files)?;
    if !plan.edited.is_empty() && !force {
        let list: Vec<String> = plan
            .edited
            .iter()
            .map(|p| format!("  {}", out.join(p).display()))
            .collect();
        return Err(Error::usage(
            format!(
                "{} generated file{} changed by hand since k8s-advisor wrote {}; nothing was written:\n{}",
                plan.edited.len(),
                if plan.edited.len() == 1 {
                    " was"
                } else {
                    "s were"
                },
                if plan.edited.len() == 1 { "it" } else { "them" },
                list.join("\n")
            ),
            "move the change into the workspace file (see `k8s-advisor generate --check` for the diff), \
             or run `k8s-advisor generate --force` to discard the edits",
        ));
    }
    let contents: std::collections::HashMap<&Path, &str> = files
        .iter()
        .map(|f| (f.path.as_path(), f.contents.as_str()))
        .collect();
    let mut written = Written {
        out: out.to_path_buf(),
        files: files.iter().map(|f| out.join(&f.path)).collect(),
        ..Written::default()
    };
    let jobs: Vec<(PathBuf, &str)> = plan
        .changes
        .iter()
        .map(|(path, _)| (out.join(path), contents[path.as_path()]))
        .collect();
    write_all(&jobs)?;
    written.written = jobs.into_iter().map(|(path, _)| path).collect();
    let mut emptied = Vec::new();
    for (path, _) in &plan.stale {
        let target = out.join(path);
        std::fs::remove_file(&target).map_err(|source| Error::Io {
            action: "remove",
            path: target.clone(),
            source,
        })?;
        if let Some(dir) = target.parent() {
            emptied.push(dir.to_path_buf());
        }
        written.removed.push(target);
    }
    emptied.sort();
    emptied.dedup();
    for dir in emptied {
        if dir != out {
            // Only succeeds when the folder is now empty: other people's files keep it.
            let _ = std::fs::remove_dir(dir);
        }
    }
    Ok(written)
}

/// Writes every (path, contents) atomically, in order; stops at the first error.
fn write_all(jobs: &[(PathBuf, &str)]) -> Result<(), Error> {
    jobs.iter()
        .try_for_each(|(path, text)| fsutil::write_atomic(path, text.as_bytes()))
}

/// `--check`: prints a unified diff of every change and returns 1 when there is one.
fn check(out: &Path, project: &str, files: &[GeneratedFile], quiet: bool) -> Result<u8, Error> {
    let plan = plan(out, project, files)?;
    let contents: std::collections::HashMap<&Path, &str> = files
        .iter()
        .map(|f| (f.path.as_path(), f.contents.as_str()))
        .collect();
    let mut text = String::new();
    for (path, old) in &plan.changes {
        let shown = out.join(path).display().to_string();
        let old_name = if old.is_some() {
            format!("a/{shown}")
        } else {
            "/dev/null".to_string()
        };
        text.push_str(&unified(
            old.as_deref().unwrap_or(""),
            contents[path.as_path()],
            &old_name,
            &format!("b/{shown}"),
        ));
    }
    for (path, old) in &plan.stale {
        let shown = out.join(path).display().to_string();
        text.push_str(&unified(old, "", &format!("a/{shown}"), "/dev/null"));
    }
    let changed = plan.changes.len() + plan.stale.len();
    if changed > 0 {
        text.push_str(&format!(
            "{}: {changed} file{} out of date{}\n",
            out.display(),
            if changed == 1 { "" } else { "s" },
            if plan.edited.is_empty() {
                "; run `k8s-advisor generate` to update".to_string()
            } else {
                format!(
                    " ({} edited by hand: move the edits into the workspace, or discard them \
                     with `k8s-advisor generate --force`)",
                    plan.edited.len()
                )
            }
        ));
        print(&text)?;
        return Ok(1);
    }
    if !quiet {
        print(&format!(
            "{}: {} files up to date\n",
            out.display(),
            files.len()
        ))?;
    }
    Ok(0)
}

fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    let mut diff = TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string();
    if !diff.ends_with('\n') {
        diff.push('\n');
    }
    diff
}

/// Compares the layout with the output folder; reads, never writes.
fn plan(out: &Path, project: &str, files: &[GeneratedFile]) -> Result<Plan, Error> {
    let mut plan = Plan::default();
    // One listing of the folder instead of an attempt to open every file: into an empty folder
    // that halves the system calls.
    let on_disk = existing_yaml(out)?;
    let present: HashSet<&Path> = on_disk.iter().map(PathBuf::as_path).collect();
    let mut ours: HashSet<&Path> = HashSet::with_capacity(files.len());
    let mut checked_dirs: HashSet<&Path> = HashSet::new();
    for file in files {
        ensure_inside(&file.path)?;
        ours.insert(&file.path);
        if let Some(dir) = file.path.parent().filter(|d| !d.as_os_str().is_empty())
            && checked_dirs.insert(dir)
        {
            refuse_link(out, dir)?;
        }
        refuse_link(out, &file.path)?;
        let target = out.join(&file.path);
        let current = if present.contains(file.path.as_path()) {
            read_if_exists(&target)?
        } else {
            None
        };
        match current {
            None => plan.changes.push((file.path.clone(), None)),
            Some(bytes) if bytes == file.contents.as_bytes() => {}
            Some(bytes) => {
                if stamp::origin(&bytes, project) != Origin::Intact {
                    plan.edited.push(file.path.clone());
                }
                plan.changes.push((
                    file.path.clone(),
                    Some(String::from_utf8_lossy(&bytes).into_owned()),
                ));
            }
        }
    }
    for path in on_disk.iter().cloned() {
        if ours.contains(path.as_path()) {
            continue;
        }
        let target = out.join(&path);
        let Some(bytes) = read_if_exists(&target)? else {
            continue;
        };
        match stamp::origin(&bytes, project) {
            Origin::Foreign => {}
            origin => {
                if origin == Origin::Edited {
                    plan.edited.push(path.clone());
                }
                plan.stale
                    .push((path, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    }
    plan.edited.sort();
    Ok(plan)
}

/// Refuses any path that could leave the output folder. Names are validated DNS labels, so this
/// never fires unless a bug slips through; it is an error, not a panic.
fn ensure_inside(path: &Path) -> Result<(), Error> {
    let components: Vec<Component<'_>> = path.components().collect();
    let plain = !components.is_empty()
        && components.len() <= 2
        && components.iter().all(|c| match c {
            Component::Normal(name) => !name.to_string_lossy().starts_with('.'),
            _ => false,
        });
    if plain {
        Ok(())
    } else {
        Err(Error::usage(
            format!(
                "refusing to write {}: it is not a plain path inside the output folder",
                path.display()
            ),
            "this is a bug in k8s-advisor; please report it with your workspace file",
        ))
    }
}

/// Refuses a symbolic link inside the output folder where the layout has a folder or file of
/// its own: writing through it could land outside `--out`.
fn refuse_link(out: &Path, relative: &Path) -> Result<(), Error> {
    let path = out.join(relative);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(Error::usage(
            format!("{} is a symbolic link; nothing was written", path.display()),
            "generated files are never written through links: remove the link, or choose another --out",
        )),
        _ => Ok(()),
    }
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The `.yaml` files directly in `out` and in its sub-folders (the depth of our layout), as
/// relative paths. Symbolic links are not followed: they are never ours.
fn existing_yaml(out: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut found = Vec::new();
    for (entry, is_dir) in list(out)? {
        if is_dir {
            for (inner, inner_dir) in list(&out.join(&entry))? {
                if !inner_dir && is_yaml(&inner) {
                    found.push(entry.join(inner));
                }
            }
        } else if is_yaml(&entry) {
            found.push(entry);
        }
    }
    found.sort();
    Ok(found)
}

fn is_yaml(name: &Path) -> bool {
    name.extension().is_some_and(|e| e == "yaml")
}

/// Entries of a folder as (name, is a real folder); regular files and folders only.
fn list(dir: &Path) -> Result<Vec<(PathBuf, bool)>, Error> {
    let io = |source| Error::Io {
        action: "read",
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in fsutil::entries(dir)? {
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() || kind.is_file() {
            out.push((PathBuf::from(entry.file_name()), kind.is_dir()));
        }
    }
    Ok(out)
}
