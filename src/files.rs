//! Write stage: atomic file writes. A file is written to a temporary file in the same folder
//! and renamed into place, so a crash or Ctrl-C never leaves a half-written file and readers see
//! either the old or the new contents. Whether a write must also survive a power loss is the
//! caller's choice, named at every call ([`Durability`]).
//!
//! The files of the layout and the records are written through [`Place`] and [`Folder`]:
//! by folder descriptor, never through a symbolic link (see `folder`).

#[cfg(not(unix))]
compile_error!(
    "k8s-advisor writes its output by folder descriptor (openat, renameat), which needs a Unix system"
);

mod folder;

pub use folder::{Entry, Folder, Place, Unreadable, lexical, link_error, not_a_folder};

use std::fs::File;
use std::io::Write;
use std::path::Path;

use tempfile::NamedTempFile;

use crate::diagnostic::Error;

/// What a write promises once it returns, beyond being atomic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// On disk: the new contents are fsynced before the rename and the folder after it, so a
    /// power loss right after the write leaves the new file, never an empty or a lost one.
    /// For files only the user has, such as the workspace.
    Synced,
    /// Left to the kernel's write-back, seconds later: safe when the program is killed, not
    /// when the power fails meanwhile (a file can then be empty or old). For `generate`'s
    /// thousands of files, rebuilt from the workspace at any time: an fsync per file would
    /// make every run wait on the disk thousands of times (docs/performance.md).
    Deferred,
}

/// The name every temporary file of ours starts with, so that a later run can recognise and
/// remove what a killed one left behind.
const TEMP_PREFIX: &str = ".k8s-advisor-";

/// True when `path` names a temporary file of ours (`.k8s-advisor-` and six random characters).
pub fn is_temporary(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix(TEMP_PREFIX))
        .is_some_and(|rest| rest.len() == 6 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Writes `contents` to `path` atomically, creating parent folders, as durably as asked.
pub fn write_atomic(path: &Path, contents: &[u8], durability: Durability) -> Result<(), Error> {
    let tmp = staged(path, contents, durability)?;
    tmp.persist(path).map_err(|e| io_error(path, e.error))?;
    settle(path, durability)
}

/// Replaces a file the user keeps (the workspace), which held `old` when it was read (`None`:
/// whatever it holds), durably ([`Durability::Synced`]): it may be the only copy of the user's
/// work. A symbolic link stays a link: the file it names is replaced. A
/// read-only file, or one that changed since it was read (saved from an editor meanwhile), is
/// refused, so that nobody's work is lost.
pub fn replace_user_file(path: &Path, old: Option<&[u8]>, contents: &[u8]) -> Result<(), Error> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let target = if is_link {
        std::fs::canonicalize(path).map_err(|e| io_error(path, e))?
    } else {
        path.to_path_buf()
    };
    let meta = std::fs::metadata(&target).map_err(|e| io_error(path, e))?;
    if !meta.is_file() {
        return Err(Error::Refused {
            message: format!(
                "{} is not a regular file; nothing was written",
                path.display()
            ),
            help: "give the path of the workspace file itself".to_string(),
        });
    }
    if meta.permissions().readonly() {
        return Err(Error::Refused {
            message: format!("{} is read-only; nothing was written", path.display()),
            help: "make it writable (for example `chmod u+w`), then run the command again"
                .to_string(),
        });
    }
    if let Some(old) = old {
        let now = std::fs::read(&target).map_err(|e| io_error(path, e))?;
        if now != old {
            return Err(Error::Refused {
                message: format!(
                    "{} changed while the questions were asked; nothing was written",
                    path.display()
                ),
                help: "run the command again to work on the file as it is now".to_string(),
            });
        }
    }
    write_atomic(&target, contents, Durability::Synced)
}

/// Creates the user's file `path` (a new workspace) with `contents` only if it does not exist
/// yet: atomically, never clobbering a file that appears meanwhile, and durably
/// ([`Durability::Synced`]).
pub fn create_new(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let tmp = staged(path, contents, Durability::Synced)?;
    tmp.persist_noclobber(path)
        .map_err(|e| io_error(path, e.error))?;
    settle(path, Durability::Synced)
}

/// The folder a file at `path` goes into.
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// A temporary file beside `path` holding `contents`, readable like any file the user creates
/// (the replaced file's mode, else rw-r--r--) rather than tempfile's private 0600. Synced, its
/// contents are on disk before the caller renames it: otherwise a power loss can leave the
/// rename done and the data not, an empty file where the old one was.
fn staged(path: &Path, contents: &[u8], durability: Durability) -> Result<NamedTempFile, Error> {
    let dir = folder_of(path);
    std::fs::create_dir_all(dir).map_err(|e| io_error(path, e))?;
    let permissions = match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Some(meta.permissions()),
        _ => default_permissions(),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX);
    if let Some(permissions) = permissions {
        builder.permissions(permissions);
    }
    let mut tmp = builder.tempfile_in(dir).map_err(|e| io_error(path, e))?;
    tmp.write_all(contents).map_err(|e| io_error(path, e))?;
    if durability == Durability::Synced {
        counted_sync();
        tmp.as_file().sync_all().map_err(|e| io_error(path, e))?;
    }
    Ok(tmp)
}

/// After the rename of a synced write: the folder is fsynced too, as the rename is a change of
/// the folder, and on Linux only that makes the new name itself survive a power loss.
fn settle(path: &Path, durability: Durability) -> Result<(), Error> {
    if durability == Durability::Deferred || cfg!(not(unix)) {
        // std cannot open a folder on Windows to flush it; there the file's data is synced.
        return Ok(());
    }
    counted_sync();
    let synced = File::open(folder_of(path)).and_then(|dir| dir.sync_all());
    match synced {
        // Some file systems (a few network and FUSE ones) cannot fsync a folder: the file is
        // in place and its data on disk, which is all they offer.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(()),
        other => other.map_err(|e| io_error(path, e)),
    }
}

#[cfg(test)]
thread_local! {
    /// The fsyncs this thread asked for, so that a test can see which writes are durable.
    static SYNCS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn counted_sync() {
    #[cfg(test)]
    SYNCS.with(|n| n.set(n.get() + 1));
}

#[cfg(unix)]
fn default_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<std::fs::Permissions> {
    None
}

/// The bytes of the regular file at `path` (or of the file a link names). Anything else is
/// refused before it is opened: a FIFO would block the read until someone writes to it, and a
/// folder or device fails obscurely. `hint` says what to give instead.
pub fn read_regular(path: &Path, hint: &str) -> Result<Vec<u8>, Error> {
    let io = |source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    };
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(io(std::io::Error::other(format!(
            "not a regular file (a FIFO, socket, device or folder); {hint}"
        ))));
    }
    std::fs::read(path).map_err(io)
}

/// The entries of `dir`; none when the folder does not exist (yet).
pub fn entries(dir: &Path) -> Result<Vec<std::fs::DirEntry>, Error> {
    let io = |source| Error::Io {
        action: "read",
        path: dir.to_path_buf(),
        source,
    };
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.map_err(io)).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io(e)),
    }
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn new_files_are_world_readable_and_replaced_files_keep_their_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.yaml");
        write_atomic(&path, b"x", Durability::Deferred).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o644);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&path, b"y", Durability::Deferred).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"y");
        assert!(create_new(&path, b"z").is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"y");
    }

    #[test]
    fn the_users_files_are_synced_and_generated_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k8s-advisor.toml");
        let syncs = |write: &dyn Fn()| {
            let before = SYNCS.with(std::cell::Cell::get);
            write();
            SYNCS.with(std::cell::Cell::get) - before
        };
        // The file before the rename, its folder after.
        assert_eq!(syncs(&|| create_new(&path, b"a = 1\n").unwrap()), 2);
        assert_eq!(
            syncs(&|| replace_user_file(&path, Some(b"a = 1\n"), b"a = 2\n").unwrap()),
            2
        );
        assert_eq!(
            syncs(&|| write_atomic(&path, b"a = 3\n", Durability::Synced).unwrap()),
            2
        );
        let generated = dir.path().join("k8s/shop/namespace.yaml");
        assert_eq!(
            syncs(&|| write_atomic(&generated, b"x", Durability::Deferred).unwrap()),
            0
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"a = 3\n");
        assert_eq!(std::fs::read(&generated).unwrap(), b"x");
    }

    #[cfg(unix)]
    #[test]
    fn a_user_file_is_replaced_through_its_link_and_never_over_a_change() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.toml");
        let link = dir.path().join("k8s-advisor.toml");
        std::fs::write(&real, "a = 1\n").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        replace_user_file(&link, Some(b"a = 1\n"), b"a = 2\n").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).unwrap(), b"a = 2\n");
        // Saved from an editor meanwhile: refused, the file keeps the editor's version.
        let err = replace_user_file(&link, Some(b"a = 1\n"), b"a = 3\n").unwrap_err();
        assert!(err.to_string().contains("changed"), "{err}");
        assert_eq!(std::fs::read(&real).unwrap(), b"a = 2\n");
        // Read-only: refused.
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o444)).unwrap();
        let err = replace_user_file(&real, None, b"a = 4\n").unwrap_err();
        assert!(err.to_string().contains("read-only"), "{err}");
        assert_eq!(std::fs::read(&real).unwrap(), b"a = 2\n");
    }
}
