//! Write stage: atomic file writes. A file is written to a temporary file in the same folder
//! and renamed into place, so a crash or Ctrl-C never leaves a half-written file and readers see
//! either the old or the new contents. Files are not fsynced one by one: generating thousands of
//! manifests would spend seconds waiting for the disk, and their durable copy is the repository.

use std::io::Write;
use std::path::Path;

use tempfile::NamedTempFile;

use crate::diagnostic::Error;

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

/// Writes `contents` to `path` atomically, creating parent folders.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let tmp = staged(path, contents)?;
    tmp.persist(path).map_err(|e| io_error(path, e.error))?;
    Ok(())
}

/// Replaces a file the user keeps (the workspace), which held `old` when it was read (`None`:
/// whatever it holds). A symbolic link stays a link: the file it names is replaced. A
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
    write_atomic(&target, contents)
}

/// Creates `path` with `contents` only if it does not exist yet (atomically, never clobbering a
/// file that appears meanwhile).
pub fn create_new(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let tmp = staged(path, contents)?;
    tmp.persist_noclobber(path)
        .map_err(|e| io_error(path, e.error))?;
    Ok(())
}

/// A temporary file beside `path` holding `contents`, readable like any file the user creates
/// (the replaced file's mode, else rw-r--r--) rather than tempfile's private 0600.
fn staged(path: &Path, contents: &[u8]) -> Result<NamedTempFile, Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
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
    Ok(tmp)
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
        write_atomic(&path, b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o644);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&path, b"y").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"y");
        assert!(create_new(&path, b"z").is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"y");
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
