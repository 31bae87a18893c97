//! Write stage: everything `generate` and `record` put on disk — the manifests and the decision
//! record — is planned first, checked against the disk, and only then written.
//!
//! `plan_manifests` and `record::plan` only read. `Plan::preflight` checks everything that can
//! be known before writing: hand edits, files of others, symbolic links, a file where a folder
//! must go, read-only folders. `apply` writes only after all of that passed, so a foreseeable
//! failure never leaves a half-applied layout; an unforeseeable one (a full disk) is reported
//! with the exact list of what was already written.
//!
//! Every file and folder is reached by descriptor from the output and record folders, opened
//! once ([`files::Place`]) without following a link at any component below the workspace
//! folder: a folder swapped for a link between the checks and the writes stops the run rather
//! than receiving a file.
//!
//! Safety rules: every manifest path is a plain relative path inside `--out`; a file that a
//! person edited since we wrote it, or a file we did not write at one of our paths, is neither
//! overwritten nor removed without `--force`; a file we wrote that the model no longer produces
//! is removed; files are replaced atomically; files of others are never touched. The user's
//! own files that a namespace lists (`user-resources`) are never written, compared or removed,
//! even when they start with our header; they must exist as regular files reached without any
//! symbolic link, so that the kustomization cannot include something from elsewhere.

pub mod docs;
pub mod record;

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

use similar::TextDiff;

use crate::diagnostic::Error;
use crate::files::{self, Entry, Folder, Place, Unreadable};
use crate::generate::GeneratedFile;
use crate::generate::stamp::{self, Origin};
use crate::text::shown;

/// What a planned file is, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A generated manifest.
    Manifest,
    /// The decision record.
    Record,
    /// An older decision record, marked as superseded.
    Superseded,
    /// A page of the architecture overview.
    Docs,
}

/// The two folders a plan writes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Area {
    /// The manifest folder, `--out`.
    Manifests,
    /// The record folder.
    Records,
    /// The folder of the architecture overview.
    Docs,
}

impl Kind {
    fn area(self) -> Area {
        match self {
            Kind::Manifest => Area::Manifests,
            Kind::Record | Kind::Superseded => Area::Records,
            Kind::Docs => Area::Docs,
        }
    }
}

/// A file to create or replace.
#[derive(Debug, Clone)]
pub struct Write {
    /// Where, as messages show it.
    pub path: PathBuf,
    /// Where, relative to the folder of its kind (`shop/cart.yaml`, `0002-x.md`).
    pub rel: PathBuf,
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
    /// Where, as messages show it.
    pub path: PathBuf,
    /// Where, relative to the folder of its area.
    pub rel: PathBuf,
    /// The folder it is in: the manifests or the architecture overview.
    pub area: Area,
    /// What is there now.
    pub old: String,
}

/// A temporary file of ours that a killed run left behind.
#[derive(Debug, Clone)]
pub struct Leftover {
    /// Where, as messages show it.
    pub path: PathBuf,
    /// Where, relative to the folder of its area.
    pub rel: PathBuf,
    /// The folder it is in.
    pub area: Area,
}

/// Everything one command would change on disk.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The manifest folder.
    pub out: PathBuf,
    /// The manifest folder, opened by descriptor; `None` when the plan writes no manifests.
    pub manifests_place: Option<Place>,
    /// The record folder, opened by descriptor; `None` when the plan covers no record.
    pub records_place: Option<Place>,
    /// The folder of the architecture overview, opened by descriptor; `None` when the plan
    /// covers no overview.
    pub docs_place: Option<Place>,
    /// Every page of the architecture overview, written or already up to date, in path order.
    pub docs: Vec<PathBuf>,
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
    /// Temporary files a killed run left behind in the output or record folder: removed by
    /// `apply`.
    pub leftovers: Vec<Leftover>,
    /// The decision record's path, when the plan covers it.
    pub record: Option<PathBuf>,
    /// The decision record's number (four digits at least), when the plan covers it.
    pub record_number: Option<String>,
}

impl Plan {
    /// True when the disk already holds exactly the planned files.
    pub fn is_current(&self) -> bool {
        self.writes.is_empty() && self.removals.is_empty() && self.leftovers.is_empty()
    }

    /// A unified diff of every planned change, as `generate --check` prints it. File names
    /// come from the disk and the repository: they are escaped.
    pub fn diff(&self) -> String {
        let mut text = String::new();
        for write in &self.writes {
            let name = shown(&write.path);
            let old_name = if write.old.is_some() {
                format!("a/{name}")
            } else {
                "/dev/null".to_string()
            };
            text.push_str(&unified(
                write.old.as_deref().unwrap_or(""),
                &String::from_utf8_lossy(&write.new),
                &old_name,
                &format!("b/{name}"),
            ));
        }
        for removal in &self.removals {
            let name = shown(&removal.path);
            text.push_str(&unified(
                &removal.old,
                "",
                &format!("a/{name}"),
                "/dev/null",
            ));
        }
        for leftover in &self.leftovers {
            text.push_str(&format!(
                "leftover temporary file {} (from an interrupted run; removed on the next run)\n",
                shown(&leftover.path)
            ));
        }
        text
    }

    fn place(&self, area: Area) -> Result<&Place, Error> {
        let place = match area {
            Area::Manifests => self.manifests_place.as_ref(),
            Area::Records => self.records_place.as_ref(),
            Area::Docs => self.docs_place.as_ref(),
        };
        place.ok_or_else(|| Error::Internal {
            message: format!("the plan has no folder for its {area:?}"),
        })
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
        // Every target, by the folder it is in: each folder is walked once.
        let mut by_folder: BTreeMap<(Area, &Path), Vec<(&OsStr, &Path)>> = BTreeMap::new();
        let targets = self
            .writes
            .iter()
            .map(|w| (w.kind.area(), &w.rel, &w.path))
            .chain(self.removals.iter().map(|r| (r.area, &r.rel, &r.path)));
        for (area, rel, path) in targets {
            let (folder, name) = split(rel)?;
            by_folder
                .entry((area, folder))
                .or_default()
                .push((name, path.as_path()));
        }
        for ((area, sub), names) in by_folder {
            // A missing folder is created inside the deepest one that exists: that one must
            // take new entries.
            let (folder, complete) = self.place(area)?.deepest(sub)?;
            if folder.read_only()? {
                return Err(Error::Refused {
                    message: format!(
                        "{} is read-only; nothing was written",
                        shown(folder.shown())
                    ),
                    help: "make the folder writable, or choose another output folder".to_string(),
                });
            }
            if !complete {
                // The folder is still to be created: nothing can be in the way inside it.
                continue;
            }
            for (name, path) in names {
                check_target(&folder, name, path)?;
            }
        }
        Ok(())
    }
}

/// The folder part and the file name of a plain relative path.
fn split(rel: &Path) -> Result<(&Path, &OsStr), Error> {
    match (rel.parent(), rel.file_name()) {
        (Some(folder), Some(name)) => Ok((folder, name)),
        _ => Err(Error::Internal {
            message: format!("{} is not a file path", rel.display()),
        }),
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

/// The folder writes go into, opened once for a run of targets in the same folder.
struct Cursor<'p> {
    plan: &'p Plan,
    at: Option<((Area, PathBuf), Option<Folder>)>,
}

impl<'p> Cursor<'p> {
    /// The folder `sub` of `area`: created when `create`, else `None` when it is missing.
    fn folder(&mut self, area: Area, sub: &Path, create: bool) -> Result<Option<&Folder>, Error> {
        let key = (area, sub.to_path_buf());
        let stale = match &self.at {
            Some((k, folder)) => *k != key || (create && folder.is_none()),
            None => true,
        };
        if stale {
            let place = self.plan.place(area)?;
            let folder = if create {
                Some(place.create(sub)?)
            } else {
                place.open(sub)?
            };
            self.at = Some((key, folder));
        }
        Ok(self.at.as_ref().and_then(|(_, f)| f.as_ref()))
    }
}

/// Carries out a plan that passed `preflight`: writes every file atomically, in order, then
/// removes the stale ones and the folders they leave empty. Every file and folder is reached by
/// descriptor from the folders the plan opened, never through a symbolic link, so a folder
/// swapped for a link meanwhile stops the run instead of sending a write elsewhere. When a
/// write fails anyway, the error names the file and lists every file already written.
pub fn apply(plan: &Plan, force: bool) -> Result<Applied, Error> {
    plan.preflight(force)?;
    let mut applied = Applied::default();
    let incomplete = |applied: &Applied, path: &Path, source: Error| Error::Incomplete {
        path: path.to_path_buf(),
        done: applied
            .written
            .iter()
            .map(|p| format!("wrote {}", shown(p)))
            .chain(
                applied
                    .removed
                    .iter()
                    .map(|p| format!("removed {}", shown(p))),
            )
            .collect(),
        source: Box::new(source),
    };
    let mut cursor = Cursor { plan, at: None };
    for write in &plan.writes {
        let (sub, name) = split(&write.rel)?;
        // Deferred: thousands of files, rebuilt from the workspace at any time; an fsync
        // each would make the run wait on the disk (docs/performance.md).
        cursor
            .folder(write.kind.area(), sub, true)
            .and_then(|folder| {
                let folder = folder.ok_or_else(|| Error::Internal {
                    message: "a created folder is missing".to_string(),
                })?;
                folder.write_atomic(name, &write.new, files::Durability::Deferred)
            })
            .map_err(|e| incomplete(&applied, &write.path, e))?;
        applied.written.push(write.path.clone());
    }
    for leftover in &plan.leftovers {
        let (sub, name) = split(&leftover.rel)?;
        // Gone meanwhile (another run cleaned up) is as good as removed.
        if let Ok(Some(folder)) = cursor.folder(leftover.area, sub, false)
            && folder.remove_file(name).unwrap_or(false)
        {
            applied.removed.push(leftover.path.clone());
        }
    }
    let mut emptied = Vec::new();
    for removal in &plan.removals {
        let (sub, name) = split(&removal.rel)?;
        let removed = match cursor.folder(removal.area, sub, false) {
            // Removed meanwhile, by a concurrent run: the goal is reached.
            Ok(None) => false,
            Ok(Some(folder)) => folder
                .remove_file(name)
                .map_err(|e| incomplete(&applied, &removal.path, e))?,
            Err(e) => return Err(incomplete(&applied, &removal.path, e)),
        };
        if removed {
            applied.removed.push(removal.path.clone());
        }
        if !sub.as_os_str().is_empty() {
            emptied.push((removal.area, sub.to_path_buf()));
        }
    }
    emptied.sort();
    emptied.dedup();
    for (area, dir) in emptied {
        // Only succeeds when the folder is now empty: other people's files keep it.
        if let Ok((parent, name)) = split(&dir)
            && let Ok(Some(folder)) = cursor.folder(area, parent, false)
        {
            folder.remove_empty_folder(name);
        }
    }
    Ok(applied)
}

/// Compares the layout with the output folder `out`; reads, never writes. `root` is the folder
/// of the workspace file: every folder between it and `out` is part of the repository and is
/// opened without following a link. `user_files` are the user's own files the layout includes
/// (relative to `out`): checked, then left alone.
pub fn plan_manifests(
    root: &Path,
    out: &Path,
    project: &str,
    files: Vec<GeneratedFile>,
    user_files: &[PathBuf],
) -> Result<Plan, Error> {
    let place = Place::new(out, root)?;
    let folder = place.open(Path::new(""))?;
    for file in user_files {
        check_user_file(out, folder.as_ref(), file)?;
    }
    // One listing of the folder instead of an attempt to open every file: into an empty folder
    // that halves the system calls.
    let listing = match &folder {
        Some(folder) => listing(folder)?,
        None => BTreeMap::new(),
    };
    let mut plan = Plan {
        out: out.to_path_buf(),
        manifests: files.iter().map(|f| out.join(&f.path)).collect(),
        leftovers: listing
            .iter()
            .filter(|(p, entry)| **entry == Entry::File && files::is_temporary(p))
            .map(|(p, _)| Leftover {
                path: out.join(p),
                rel: p.clone(),
                area: Area::Manifests,
            })
            .collect(),
        ..Plan::default()
    };
    // The user's files count as taken: never stale, never removed.
    let mut ours: HashSet<PathBuf> = user_files.iter().cloned().collect();
    let mut reader = Reader {
        out: folder.as_ref(),
        at: None,
    };
    // The files are moved into the plan: on the 5,000-service model a copy of their contents
    // was 47 MB more at the peak.
    for file in files {
        ensure_inside(&file.path)?;
        let target = out.join(&file.path);
        let (sub, _) = split(&file.path)?;
        if !sub.as_os_str().is_empty() {
            match listing.get(sub) {
                Some(Entry::Link) => return Err(files::link_error(&out.join(sub))),
                Some(Entry::File | Entry::Special) => {
                    return Err(files::not_a_folder(&out.join(sub)));
                }
                _ => {}
            }
        }
        let current = match listing.get(&file.path) {
            Some(Entry::Link) => return Err(files::link_error(&target)),
            Some(Entry::File) => reader.read(&file.path, &target)?,
            _ => None,
        };
        ours.insert(file.path.clone());
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
            rel: file.path,
            old,
            new: file.contents.into_bytes(),
            kind: Kind::Manifest,
        });
    }
    for (path, entry) in &listing {
        if *entry != Entry::File || !is_yaml(path) || ours.contains(path) {
            continue;
        }
        let target = out.join(path);
        let Some(bytes) = reader.read(path, &target)? else {
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
                    rel: path.clone(),
                    area: Area::Manifests,
                    old: String::from_utf8_lossy(&bytes).into_owned(),
                });
            }
        }
    }
    plan.edited.sort();
    plan.others.sort();
    plan.manifests_place = Some(place);
    Ok(plan)
}

/// Reads files of the manifest folder by descriptor, keeping the last sub-folder open.
struct Reader<'f> {
    out: Option<&'f Folder>,
    at: Option<(PathBuf, Option<Folder>)>,
}

impl Reader<'_> {
    /// The bytes of the file `rel` (shown as `path`); `None` when it is gone. A symbolic link
    /// is refused, never read through.
    fn read(&mut self, rel: &Path, path: &Path) -> Result<Option<Vec<u8>>, Error> {
        let Some(out) = self.out else {
            return Ok(None);
        };
        let (sub, name) = split(rel)?;
        let folder = if sub.as_os_str().is_empty() {
            Some(out)
        } else {
            if self.at.as_ref().is_none_or(|(k, _)| k != sub) {
                let mut opened = None;
                for component in sub.components() {
                    let from = opened.as_ref().unwrap_or(out);
                    match from.child(component.as_os_str())? {
                        Some(next) => opened = Some(next),
                        None => {
                            opened = None;
                            break;
                        }
                    }
                }
                self.at = Some((sub.to_path_buf(), opened));
            }
            self.at.as_ref().and_then(|(_, f)| f.as_ref())
        };
        let Some(folder) = folder else {
            return Ok(None);
        };
        folder.read(name, false, u64::MAX).map_err(|why| match why {
            Unreadable::Io(source) => Error::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            },
            other => other.into_error(path, "a generated manifest"),
        })
    }
}

fn edited_error(edited: &[(PathBuf, Kind)]) -> Error {
    let list: Vec<String> = edited
        .iter()
        .map(|(p, kind)| match kind {
            Kind::Manifest => format!("  {}", shown(p)),
            Kind::Record | Kind::Superseded => format!("  {} (decision record)", shown(p)),
            Kind::Docs => format!("  {} (architecture overview)", shown(p)),
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
        .map(|(p, owner)| format!("  {} (project {})", shown(p), crate::text::clean(owner)))
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
fn check_user_file(out: &Path, folder: Option<&Folder>, file: &Path) -> Result<(), Error> {
    let path = out.join(file);
    let missing = || Error::Refused {
        message: format!(
            "user resource {} does not exist; nothing was written",
            shown(&path)
        ),
        help: "create the file (the namespace's kustomization includes it), or remove it from \
               `user-resources` in the workspace file"
            .to_string(),
    };
    let linked = |at: &Path| Error::Refused {
        message: format!(
            "user resource {} is reached through the symbolic link {}; nothing was written",
            shown(&path),
            shown(at)
        ),
        help: "a kustomization includes only files inside the namespace folder: replace the link \
               with the file itself"
            .to_string(),
    };
    let Some(out_folder) = folder else {
        return Err(missing());
    };
    let names: Vec<&OsStr> = file
        .components()
        .map(|c| match c {
            Component::Normal(name) => Ok(name),
            _ => Err(Error::Internal {
                message: format!("user resource {} is not a plain path", file.display()),
            }),
        })
        .collect::<Result<_, _>>()?;
    let Some((last, folders)) = names.split_last() else {
        return Err(missing());
    };
    let mut opened: Option<Folder> = None;
    for name in folders {
        let from = opened.as_ref().unwrap_or(out_folder);
        let at = from.shown_child(name);
        match from.entry(name)? {
            Some(Entry::Link) => return Err(linked(&at)),
            Some(Entry::Folder) => {}
            Some(_) => return Err(files::not_a_folder(&at)),
            None => return Err(missing()),
        }
        opened = match from.child(name) {
            Ok(Some(next)) => Some(next),
            Ok(None) => return Err(missing()),
            Err(_) => return Err(linked(&at)),
        };
    }
    let from = opened.as_ref().unwrap_or(out_folder);
    match from.entry(last)? {
        Some(Entry::File) => Ok(()),
        Some(Entry::Link) => Err(linked(&path)),
        Some(_) => Err(Error::Refused {
            message: format!(
                "user resource {} is not a regular file; nothing was written",
                shown(&path)
            ),
            help: "list files in `user-resources`, not folders".to_string(),
        }),
        None => Err(missing()),
    }
}

/// Refuses a file target that is not a regular file: writing would fail (a folder) or go
/// somewhere else (a symbolic link, a FIFO).
fn check_target(folder: &Folder, name: &OsStr, path: &Path) -> Result<(), Error> {
    match folder.entry(name)? {
        Some(Entry::Link) => Err(files::link_error(path)),
        Some(Entry::Folder | Entry::Special) => Err(Error::Refused {
            message: format!("{} is not a regular file; nothing was written", shown(path)),
            help: "k8s-advisor writes a file there: move the folder or special file away"
                .to_string(),
        }),
        _ => Ok(()),
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

/// The entries directly in the output folder and in its real sub-folders (the depth of our
/// layout), as relative paths with what they are. Symbolic links are listed, never followed.
fn listing(out: &Folder) -> Result<BTreeMap<PathBuf, Entry>, Error> {
    let mut found = BTreeMap::new();
    for (name, entry) in out.list()? {
        if entry == Entry::Folder
            && let Some(sub) = out.child(&name)?
        {
            for (inner, inner_entry) in sub.list()? {
                found.insert(Path::new(&name).join(inner), inner_entry);
            }
        }
        found.insert(PathBuf::from(name), entry);
    }
    Ok(found)
}

fn is_yaml(name: &Path) -> bool {
    name.extension().is_some_and(|e| e == "yaml")
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

    /// A manifest write of `rel` into the folder `out`.
    fn write(out: &Path, rel: &str) -> Write {
        Write {
            path: out.join(rel),
            rel: PathBuf::from(rel),
            old: None,
            new: b"x\n".to_vec(),
            kind: Kind::Manifest,
        }
    }

    #[test]
    fn a_user_file_behind_a_link_gets_a_one_sentence_hint() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("k8s");
        std::fs::create_dir_all(out.join("shop")).unwrap();
        std::fs::write(dir.path().join("real.yaml"), "x: 1\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real.yaml"), out.join("shop/cm.yaml")).unwrap();
        let folder = Folder::open_trusted(&out).unwrap();
        let Err(Error::Refused { help, .. }) =
            check_user_file(&out, Some(&folder), Path::new("shop/cm.yaml"))
        else {
            panic!("a link must be refused");
        };
        assert!(!help.contains("  "), "{help:?}");
        assert!(
            help.ends_with("replace the link with the file itself"),
            "{help:?}"
        );
    }

    #[test]
    fn folders_above_the_workspace_folder_may_be_links() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir_all(real.join("repo")).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let root = link.join("repo");
        let out = root.join("k8s");
        let plan = Plan {
            out: out.clone(),
            manifests_place: Some(Place::new(&out, &root).unwrap()),
            writes: vec![write(&out, "a/b.yaml")],
            ..Plan::default()
        };
        apply(&plan, false).unwrap();
        assert!(real.join("repo/k8s/a/b.yaml").is_file());
    }

    #[test]
    fn a_write_that_fails_midway_lists_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        // The first write puts a file where the second needs a folder: the disk as checked
        // before the first write let both through.
        let long = "a.yaml/b.yaml".to_string();
        let plan = Plan {
            out: out.to_path_buf(),
            manifests_place: Some(Place::new(out, out).unwrap()),
            writes: vec![write(out, "a.yaml"), write(out, &long)],
            ..Plan::default()
        };
        let err = apply(&plan, false).unwrap_err();
        let Error::Incomplete { path, done, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(path, &out.join(&long));
        assert_eq!(done, &[format!("wrote {}", out.join("a.yaml").display())]);
        assert!(err.to_string().contains("1 change had been made"), "{err}");
        assert!(out.join("a.yaml").is_file());
    }
}
