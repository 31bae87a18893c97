//! Write stage: everything `generate` and `record` put on disk — the manifests and the decision
//! record — is planned first, checked against the disk, and only then written.
//!
//! `plan_manifests` and `record::plan` only read. `Plan::preflight` checks everything that can
//! be known before writing: hand edits, files of others, symbolic links, a file where a folder
//! must go, read-only folders. `apply` writes only after all of that passed, so a foreseeable
//! failure never leaves a half-applied layout; an unforeseeable one (a full disk) is reported
//! with the exact list of what was already written.
//!
//! Safety rules: every manifest path is a plain relative path inside `--out`; a file that a
//! person edited since we wrote it, or a file we did not write at one of our paths, is neither
//! overwritten nor removed without `--force`; a file we wrote that the model no longer produces
//! is removed; files are replaced atomically; files of others are never touched. The user's
//! own files that a namespace lists (`user-resources`) are never written, compared or removed,
//! even when they start with our header; they must exist as regular files reached without any
//! symbolic link, so that the kustomization cannot include something from elsewhere.

pub mod record;

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use similar::TextDiff;

use crate::diagnostic::Error;
use crate::fsutil;
use crate::generate::GeneratedFile;
use crate::generate::stamp::{self, Origin};

/// What a planned file is, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A generated manifest.
    Manifest,
    /// The decision record.
    Record,
    /// An older decision record, marked as superseded.
    Superseded,
}

/// A file to create or replace.
#[derive(Debug, Clone)]
pub struct Write {
    /// Where.
    pub path: PathBuf,
    /// What is there now; `None` when the file is missing.
    pub old: Option<String>,
    /// What will be there: bytes, so that a record someone saved with CRLF or invalid UTF-8
    /// keeps them when only its status changes.
    pub new: Vec<u8>,
    /// What the file is.
    pub kind: Kind,
}

/// A stale file of ours to remove.
#[derive(Debug, Clone)]
pub struct Removal {
    /// Where.
    pub path: PathBuf,
    /// What is there now.
    pub old: String,
}

/// Everything one command would change on disk.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The manifest folder.
    pub out: PathBuf,
    /// Every manifest of the layout, written or already up to date, in path order.
    pub manifests: Vec<PathBuf>,
    /// Files to create or replace, in the order they are written.
    pub writes: Vec<Write>,
    /// Stale files of ours to remove, after the writes.
    pub removals: Vec<Removal>,
    /// Files that would lose a person's edits, with what they are.
    pub edited: Vec<(PathBuf, Kind)>,
    /// Files at our paths that k8s-advisor wrote for another project, with its name.
    pub others: Vec<(PathBuf, String)>,
    /// Temporary files a killed run left behind in the output folder: removed by `apply`.
    pub leftovers: Vec<PathBuf>,
    /// The decision record's path, when the plan covers it.
    pub record: Option<PathBuf>,
}

impl Plan {
    /// True when the disk already holds exactly the planned files.
    pub fn is_current(&self) -> bool {
        self.writes.is_empty() && self.removals.is_empty() && self.leftovers.is_empty()
    }

    /// A unified diff of every planned change, as `generate --check` prints it.
    pub fn diff(&self) -> String {
        let mut text = String::new();
        for write in &self.writes {
            let shown = write.path.display().to_string();
            let old_name = if write.old.is_some() {
                format!("a/{shown}")
            } else {
                "/dev/null".to_string()
            };
            text.push_str(&unified(
                write.old.as_deref().unwrap_or(""),
                &String::from_utf8_lossy(&write.new),
                &old_name,
                &format!("b/{shown}"),
            ));
        }
        for removal in &self.removals {
            let shown = removal.path.display().to_string();
            text.push_str(&unified(
                &removal.old,
                "",
                &format!("a/{shown}"),
                "/dev/null",
            ));
        }
        for leftover in &self.leftovers {
            text.push_str(&format!(
                "leftover temporary file {} (from an interrupted run; removed on the next run)\n",
                leftover.display()
            ));
        }
        text
    }

    /// Refuses the plan, before anything is written, when it would lose hand edits (unless
    /// `force`) or when the file system will not let it through: a symbolic link, a file where
    /// a folder must go, a folder or special file where a file must go, a read-only folder.
    pub fn preflight(&self, force: bool) -> Result<(), Error> {
        if !self.others.is_empty() && !force {
            return Err(others_error(&self.others));
        }
        if !self.edited.is_empty() && !force {
            return Err(edited_error(&self.edited));
        }
        let mut checked: HashSet<&Path> = HashSet::new();
        let targets = self
            .writes
            .iter()
            .map(|w| (&w.path, w.kind))
            .chain(self.removals.iter().map(|r| (&r.path, Kind::Manifest)));
        for (path, kind) in targets {
            check_target(path)?;
            // The folders we own: the output folder and what is below it, or the record's
            // folder. What lies above them is the user's business (a home folder may well be
            // a symbolic link).
            let top = match kind {
                Kind::Manifest => self.out.as_path(),
                Kind::Record | Kind::Superseded => path.parent().unwrap_or(Path::new("")),
            };
            for dir in path.ancestors().skip(1) {
                if dir.as_os_str().is_empty() || !checked.insert(dir) {
                    break;
                }
                check_folder(dir)?;
                if dir == top {
                    break;
                }
            }
        }
        Ok(())
    }
}

/// What `apply` did.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// Files created or replaced.
    pub written: Vec<PathBuf>,
    /// Stale files removed.
    pub removed: Vec<PathBuf>,
}

/// Carries out a plan that passed `preflight`: writes every file atomically, in order, then
/// removes the stale ones and the folders they leave empty. When a write fails anyway, the
/// error names the file and lists every file already written.
pub fn apply(plan: &Plan, force: bool) -> Result<Applied, Error> {
    plan.preflight(force)?;
    let mut applied = Applied::default();
    let incomplete = |applied: &Applied, path: &Path, source: Error| Error::Incomplete {
        path: path.to_path_buf(),
        done: applied
            .written
            .iter()
            .map(|p| format!("wrote {}", p.display()))
            .chain(
                applied
                    .removed
                    .iter()
                    .map(|p| format!("removed {}", p.display())),
            )
            .collect(),
        source: Box::new(source),
    };
    for write in &plan.writes {
        // Deferred: thousands of files, rebuilt from the workspace at any time; an fsync
        // each would make the run wait on the disk (README, Performance).
        fsutil::write_atomic(&write.path, &write.new, fsutil::Durability::Deferred)
            .map_err(|e| incomplete(&applied, &write.path, e))?;
        applied.written.push(write.path.clone());
    }
    for leftover in &plan.leftovers {
        // Gone meanwhile (another run cleaned up) is as good as removed.
        if std::fs::remove_file(leftover).is_ok() {
            applied.removed.push(leftover.clone());
        }
    }
    let mut emptied = Vec::new();
    for removal in &plan.removals {
        match std::fs::remove_file(&removal.path) {
            // Removed meanwhile, by a concurrent run: the goal is reached.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                let err = Error::Io {
                    action: "remove",
                    path: removal.path.clone(),
                    source,
                };
                return Err(incomplete(&applied, &removal.path, err));
            }
            Ok(()) => applied.removed.push(removal.path.clone()),
        }
        if let Some(dir) = removal.path.parent() {
            emptied.push(dir.to_path_buf());
        }
    }
    emptied.sort();
    emptied.dedup();
    for dir in emptied {
        if dir != plan.out {
            // Only succeeds when the folder is now empty: other people's files keep it.
            let _ = std::fs::remove_dir(dir);
        }
    }
    Ok(applied)
}

/// Compares the layout with the output folder `out`; reads, never writes. `user_files` are the
/// user's own files the layout includes (relative to `out`): checked, then left alone.
pub fn plan_manifests(
    out: &Path,
    project: &str,
    files: Vec<GeneratedFile>,
    user_files: &[PathBuf],
) -> Result<Plan, Error> {
    refuse_link(out)?;
    for file in user_files {
        check_user_file(out, file)?;
    }
    let mut plan = Plan {
        out: out.to_path_buf(),
        manifests: files.iter().map(|f| out.join(&f.path)).collect(),
        ..Plan::default()
    };
    // One listing of the folder instead of an attempt to open every file: into an empty folder
    // that halves the system calls.
    let (on_disk, leftovers) = existing_yaml(out)?;
    plan.leftovers = leftovers.into_iter().map(|p| out.join(p)).collect();
    let present: HashSet<&Path> = on_disk.iter().map(PathBuf::as_path).collect();
    // The user's files count as taken: never stale, never removed.
    let mut ours: HashSet<PathBuf> = user_files.iter().cloned().collect();
    let mut checked_dirs: HashSet<PathBuf> = HashSet::new();
    // The files are moved into the plan: on the 5,000-service model a copy of their contents
    // was 47 MB more at the peak.
    for file in files {
        ensure_inside(&file.path)?;
        ours.insert(file.path.clone());
        if let Some(dir) = file.path.parent().filter(|d| !d.as_os_str().is_empty())
            && checked_dirs.insert(dir.to_path_buf())
        {
            refuse_link(&out.join(dir))?;
        }
        let target = out.join(&file.path);
        refuse_link(&target)?;
        let current = if present.contains(file.path.as_path()) {
            read_if_exists(&target)?
        } else {
            None
        };
        let old = match current {
            None => None,
            Some(bytes) if bytes == file.contents.as_bytes() => continue,
            // Checked out with CRLF line endings (git's autocrlf): the same file.
            Some(bytes) if stamp::without_cr(&bytes) == file.contents.as_bytes() => continue,
            Some(bytes) => {
                match stamp::origin(&bytes, project) {
                    Origin::Intact => {}
                    Origin::OtherProject(owner) => plan.others.push((target.clone(), owner)),
                    Origin::Edited | Origin::Foreign => {
                        plan.edited.push((target.clone(), Kind::Manifest));
                    }
                }
                Some(String::from_utf8_lossy(&bytes).into_owned())
            }
        };
        plan.writes.push(Write {
            path: target,
            old,
            new: file.contents.into_bytes(),
            kind: Kind::Manifest,
        });
    }
    for path in on_disk {
        if ours.contains(path.as_path()) {
            continue;
        }
        let target = out.join(&path);
        let Some(bytes) = read_if_exists(&target)? else {
            continue;
        };
        match stamp::origin(&bytes, project) {
            Origin::Foreign | Origin::OtherProject(_) => {}
            origin => {
                if origin == Origin::Edited {
                    plan.edited.push((target.clone(), Kind::Manifest));
                }
                plan.removals.push(Removal {
                    path: target,
                    old: String::from_utf8_lossy(&bytes).into_owned(),
                });
            }
        }
    }
    plan.edited.sort();
    plan.others.sort();
    Ok(plan)
}

fn edited_error(edited: &[(PathBuf, Kind)]) -> Error {
    let list: Vec<String> = edited
        .iter()
        .map(|(p, kind)| match kind {
            Kind::Manifest => format!("  {}", p.display()),
            Kind::Record | Kind::Superseded => format!("  {} (decision record)", p.display()),
        })
        .collect();
    let n = edited.len();
    Error::Refused {
        message: format!(
            "{n} generated file{} edited by hand since k8s-advisor wrote {}; nothing was written:\n{}",
            if n == 1 { " was" } else { "s were" },
            if n == 1 { "it" } else { "them" },
            list.join("\n")
        ),
        help: "move the change into the workspace file (see `k8s-advisor generate --check` for \
               the diff), or run again with --force to discard the edits (a record keeps its \
               status and date)"
            .to_string(),
    }
}

fn others_error(others: &[(PathBuf, String)]) -> Error {
    let list: Vec<String> = others
        .iter()
        .map(|(p, owner)| format!("  {} (project {owner})", p.display()))
        .collect();
    let n = others.len();
    Error::Refused {
        message: format!(
            "{n} file{} in the output folder belong{} to another project; nothing was written:\n{}",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" },
            list.join("\n")
        ),
        help: "if the project was renamed, rerun with --force to take the files over; if two \
               projects share the folder, give each its own --out"
            .to_string(),
    }
}

/// Checks a user's file before the kustomization includes it: it must exist as a regular file,
/// and no folder on the way from `out` to it may be a symbolic link, which could make the
/// layout include a file from anywhere. Validation already refused `..`, absolute paths and
/// hidden components.
fn check_user_file(out: &Path, file: &Path) -> Result<(), Error> {
    let shown = out.join(file);
    let mut path = out.to_path_buf();
    let components: Vec<Component<'_>> = file.components().collect();
    for (i, component) in components.iter().enumerate() {
        let Component::Normal(name) = component else {
            return Err(Error::Internal {
                message: format!("user resource {} is not a plain path", file.display()),
            });
        };
        path.push(name);
        let last = i + 1 == components.len();
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(Error::Refused {
                    message: format!(
                        "user resource {} is reached through the symbolic link {}; nothing was written",
                        shown.display(),
                        path.display()
                    ),
                    help: "a kustomization includes only files inside the namespace folder: \
                           replace the link with the file itself"
                        .to_string(),
                });
            }
            Ok(meta) if last && !meta.is_file() => {
                return Err(Error::Refused {
                    message: format!(
                        "user resource {} is not a regular file; nothing was written",
                        shown.display()
                    ),
                    help: "list files in `user-resources`, not folders".to_string(),
                });
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Refused {
                    message: format!(
                        "user resource {} does not exist; nothing was written",
                        shown.display()
                    ),
                    help: "create the file (the namespace's kustomization includes it), or                            remove it from `user-resources` in the workspace file"
                        .to_string(),
                });
            }
            Err(source) => {
                return Err(Error::Io {
                    action: "read",
                    path,
                    source,
                });
            }
        }
    }
    Ok(())
}

/// Refuses a file target that is not a regular file: writing would fail (a folder) or go
/// somewhere else (a symbolic link, a FIFO).
fn check_target(path: &Path) -> Result<(), Error> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(link_error(path)),
        Ok(meta) if !meta.is_file() => Err(Error::Refused {
            message: format!(
                "{} is not a regular file; nothing was written",
                path.display()
            ),
            help: "k8s-advisor writes a file there: move the folder or special file away"
                .to_string(),
        }),
        _ => Ok(()),
    }
}

/// Refuses a folder on the way to a target that is a file, a link or read-only.
fn check_folder(dir: &Path) -> Result<(), Error> {
    match std::fs::symlink_metadata(dir) {
        Err(_) => Ok(()),
        Ok(meta) if meta.file_type().is_symlink() => Err(link_error(dir)),
        Ok(meta) if !meta.is_dir() => Err(Error::Refused {
            message: format!(
                "{} is a file where k8s-advisor needs a folder; nothing was written",
                dir.display()
            ),
            help: "move the file away, or choose another output folder".to_string(),
        }),
        Ok(meta) if meta.permissions().readonly() => Err(Error::Refused {
            message: format!("{} is read-only; nothing was written", dir.display()),
            help: "make the folder writable, or choose another output folder".to_string(),
        }),
        Ok(_) => Ok(()),
    }
}

/// Refuses a symbolic link where the layout has a folder or file of its own, the output folder
/// itself included: writing through it could land outside the repository.
fn refuse_link(path: &Path) -> Result<(), Error> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(link_error(path)),
        _ => Ok(()),
    }
}

fn link_error(path: &Path) -> Error {
    Error::Refused {
        message: format!("{} is a symbolic link; nothing was written", path.display()),
        help: "generated files are never written through links: remove the link, or choose \
               another output folder"
            .to_string(),
    }
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
        Err(Error::Internal {
            message: format!(
                "refusing to write {}: it is not a plain path inside the output folder",
                path.display()
            ),
        })
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

/// The `.yaml` files directly in `out` and in its sub-folders (the depth of our layout), and the
/// temporary files of ours a killed run left there, as relative paths. Symbolic links are not
/// followed: they are never ours.
fn existing_yaml(out: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Error> {
    let mut found = Vec::new();
    let mut leftovers = Vec::new();
    let mut sort = |path: PathBuf| {
        if fsutil::is_temporary(&path) {
            leftovers.push(path);
        } else if is_yaml(&path) {
            found.push(path);
        }
    };
    for (entry, is_dir) in list(out)? {
        if is_dir {
            for (inner, inner_dir) in list(&out.join(&entry))? {
                if !inner_dir {
                    sort(entry.join(inner));
                }
            }
        } else {
            sort(entry);
        }
    }
    found.sort();
    leftovers.sort();
    Ok((found, leftovers))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: PathBuf) -> Write {
        Write {
            path,
            old: None,
            new: b"x\n".to_vec(),
            kind: Kind::Manifest,
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_user_file_behind_a_link_gets_a_one_sentence_hint() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("k8s");
        std::fs::create_dir_all(out.join("shop")).unwrap();
        std::fs::write(dir.path().join("real.yaml"), "x: 1\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real.yaml"), out.join("shop/cm.yaml")).unwrap();
        let Err(Error::Refused { help, .. }) = check_user_file(&out, Path::new("shop/cm.yaml"))
        else {
            panic!("a link must be refused");
        };
        assert!(!help.contains("  "), "{help:?}");
        assert!(
            help.ends_with("replace the link with the file itself"),
            "{help:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn folders_above_the_output_folder_may_be_links() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let out = link.join("repo/k8s");
        let plan = Plan {
            out: out.clone(),
            writes: vec![write(out.join("a/b.yaml"))],
            ..Plan::default()
        };
        apply(&plan, false).unwrap();
        assert!(real.join("repo/k8s/a/b.yaml").is_file());
    }

    #[test]
    fn a_write_that_fails_midway_lists_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.yaml");
        // A folder name longer than any file system allows: nothing can foresee this failure.
        let second = dir.path().join("n".repeat(300)).join("b.yaml");
        let plan = Plan {
            out: dir.path().to_path_buf(),
            writes: vec![write(first.clone()), write(second.clone())],
            ..Plan::default()
        };
        let err = apply(&plan, false).unwrap_err();
        let Error::Incomplete { path, done, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(path, &second);
        assert_eq!(done, &[format!("wrote {}", first.display())]);
        assert!(err.to_string().contains("1 change had been made"), "{err}");
        assert!(first.is_file());
    }
}
