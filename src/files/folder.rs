//! Write stage: folders opened once, by descriptor, and every file and folder below them created,
//! read, renamed and removed relative to that descriptor (`openat`, `mkdirat`, `renameat`,
//! `unlinkat`), never by a path the kernel walks again. A component is never followed when it
//! is a symbolic link (`O_NOFOLLOW`): a folder that someone swaps for a link — before the run or
//! in the millisecond between a check and a write — is refused, never written through.
//!
//! [`Place`] splits a path the user gave into the part whose location is the user's business
//! (the workspace folder, opened once by its path like any file the user names) and the part
//! below it that the repository's content decides, which is walked one component at a time.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::{Durability, TEMP_PREFIX};
use crate::diagnostic::Error;
use crate::text::shown;

/// What an entry of a folder is, its links not followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Entry {
    /// A regular file.
    File,
    /// A real folder.
    Folder,
    /// A symbolic link, wherever it leads.
    Link,
    /// A FIFO, socket or device.
    Special,
}

impl Entry {
    fn of(file_type: FileType) -> Entry {
        match file_type {
            FileType::RegularFile => Entry::File,
            FileType::Directory => Entry::Folder,
            FileType::Symlink => Entry::Link,
            _ => Entry::Special,
        }
    }
}

/// An open folder, and the path it is shown as in messages.
#[derive(Debug)]
pub struct Folder {
    fd: OwnedFd,
    shown: PathBuf,
}

/// The flags every folder is opened with: never through a link, never kept across `exec`.
fn folder_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

impl Folder {
    /// Opens the folder at `path` as the user named it: links on the way are followed, since
    /// where the user's own folders live is their business.
    pub fn open_trusted(path: &Path) -> Result<Folder, Error> {
        let at = if path.as_os_str().is_empty() {
            Path::new(".")
        } else {
            path
        };
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(at, flags, Mode::empty()).map_err(|e| Error::Io {
            action: "open",
            path: path.to_path_buf(),
            source: e.into(),
        })?;
        Ok(Folder {
            fd,
            shown: path.to_path_buf(),
        })
    }

    /// The path this folder is shown as.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// The path `name` in this folder is shown as.
    pub fn shown_child(&self, name: &OsStr) -> PathBuf {
        self.shown.join(name)
    }

    /// The sub-folder `name`, never through a symbolic link; `None` when it does not exist.
    pub fn child(&self, name: &OsStr) -> Result<Option<Folder>, Error> {
        match rustix::fs::openat(&self.fd, name, folder_flags(), Mode::empty()) {
            Ok(fd) => Ok(Some(Folder {
                fd,
                shown: self.shown_child(name),
            })),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(self.blocked(name, e, Entry::Folder)),
        }
    }

    /// The sub-folder `name`, created when missing, never through a symbolic link.
    pub fn child_or_create(&self, name: &OsStr) -> Result<Folder, Error> {
        if let Some(folder) = self.child(name)? {
            return Ok(folder);
        }
        match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o777)) {
            // Created meanwhile by a concurrent run: as good.
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(self.io("create", name, e)),
        }
        self.child(name)?.ok_or_else(|| {
            self.io(
                "create",
                name,
                Errno::NOENT, // removed again between the two calls
            )
        })
    }

    /// What `name` is, its link not followed; `None` when it does not exist.
    pub fn entry(&self, name: &OsStr) -> Result<Option<Entry>, Error> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(Entry::of(FileType::from_raw_mode(stat.st_mode)))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(self.io("read", name, e)),
        }
    }

    /// True when nobody may write into this folder (no write permission bit at all).
    pub fn read_only(&self) -> Result<bool, Error> {
        let stat = rustix::fs::fstat(&self.fd).map_err(|e| Error::Io {
            action: "read",
            path: self.shown.clone(),
            source: e.into(),
        })?;
        Ok(stat.st_mode & 0o222 == 0)
    }

    /// The entries of this folder, sorted by name, links not followed.
    pub fn list(&self) -> Result<Vec<(OsString, Entry)>, Error> {
        let io = |e: Errno| Error::Io {
            action: "read",
            path: self.shown.clone(),
            source: e.into(),
        };
        let mut found = Vec::new();
        for entry in rustix::fs::Dir::read_from(&self.fd).map_err(io)? {
            let entry = entry.map_err(io)?;
            let bytes = entry.file_name().to_bytes();
            if bytes == b"." || bytes == b".." {
                continue;
            }
            let name = OsString::from(<OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes));
            let kind = match entry.file_type() {
                FileType::Unknown => match self.entry(&name)? {
                    Some(kind) => kind,
                    // Removed while the folder was read.
                    None => continue,
                },
                known => Entry::of(known),
            };
            found.push((name, kind));
        }
        found.sort();
        Ok(found)
    }

    /// The bytes of the regular file `name`, at most `limit` of them; `None` when it does not
    /// exist. `follow` says whether a symbolic link is read through (to a regular file) or is
    /// refused. A FIFO is never waited on: it is opened without blocking and refused.
    pub fn read(
        &self,
        name: &OsStr,
        follow: bool,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, Unreadable> {
        let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
        if !follow {
            flags |= OFlags::NOFOLLOW;
        }
        let fd = match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) if follow && self.entry(name).ok().flatten() == Some(Entry::Link) => {
                return Err(Unreadable::Dangling);
            }
            Err(Errno::NOENT) => return Ok(None),
            Err(Errno::LOOP) if !follow => return Err(Unreadable::Link),
            Err(Errno::ISDIR) => return Err(Unreadable::Folder),
            Err(e) => return Err(Unreadable::Io(e.into())),
        };
        let file = File::from(fd);
        let meta = file.metadata().map_err(Unreadable::Io)?;
        if meta.is_dir() {
            return Err(Unreadable::Folder);
        }
        if !meta.is_file() {
            return Err(Unreadable::Special);
        }
        if meta.len() > limit {
            return Err(Unreadable::TooBig(limit));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(Unreadable::Io)?;
        if bytes.len() as u64 > limit {
            return Err(Unreadable::TooBig(limit));
        }
        Ok(Some(bytes))
    }

    /// Replaces `name` atomically with `contents`: a temporary file of ours is created in this
    /// folder (never through a link: `O_EXCL`), filled and renamed over `name` by descriptor,
    /// so a link put at `name` meanwhile is replaced, not followed. A replaced file keeps its
    /// mode; a new one is rw-r--r-- (less what the umask takes).
    pub fn write_atomic(
        &self,
        name: &OsStr,
        contents: &[u8],
        durability: Durability,
    ) -> Result<(), Error> {
        let old_mode = match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile => {
                Some(stat.st_mode & 0o7777)
            }
            _ => None,
        };
        let (temp, mut file) = self.create_temporary()?;
        let written = (|| -> Result<(), Errno> {
            if let Some(mode) = old_mode {
                rustix::fs::fchmod(&file, Mode::from_raw_mode(mode))?;
            }
            file.write_all(contents)
                .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
            if durability == Durability::Synced {
                super::counted_sync();
                rustix::fs::fsync(&file)?;
            }
            drop(file);
            rustix::fs::renameat(&self.fd, &temp, &self.fd, name)
        })();
        if let Err(e) = written {
            let _ = rustix::fs::unlinkat(&self.fd, &temp, AtFlags::empty());
            return Err(self.io("write", name, e));
        }
        if durability == Durability::Synced {
            super::counted_sync();
            match rustix::fs::fsync(&self.fd) {
                // Some file systems (a few network and FUSE ones) cannot fsync a folder.
                Ok(()) | Err(Errno::INVAL) => {}
                Err(e) => return Err(self.io("write", name, e)),
            }
        }
        Ok(())
    }

    /// A new temporary file of ours (`.k8s-advisor-` and six random characters) in this folder.
    fn create_temporary(&self) -> Result<(OsString, File), Error> {
        let flags = OFlags::WRONLY
            | OFlags::CREATE
            | OFlags::EXCL
            | OFlags::NOFOLLOW
            | OFlags::CLOEXEC
            | OFlags::NOCTTY;
        let mut last = Errno::EXIST;
        for _ in 0..64 {
            let name = OsString::from(format!("{TEMP_PREFIX}{}", random_suffix()));
            match rustix::fs::openat(&self.fd, &name, flags, Mode::from_raw_mode(0o644)) {
                Ok(fd) => return Ok((name, File::from(fd))),
                Err(Errno::EXIST) => last = Errno::EXIST,
                Err(e) => {
                    last = e;
                    break;
                }
            }
        }
        Err(Error::Io {
            action: "write",
            path: self.shown.clone(),
            source: last.into(),
        })
    }

    /// Removes the file (or link) `name`; false when it was already gone.
    pub fn remove_file(&self, name: &OsStr) -> Result<bool, Error> {
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Ok(()) => Ok(true),
            Err(Errno::NOENT) => Ok(false),
            Err(e) => Err(self.io("remove", name, e)),
        }
    }

    /// Removes the folder `name` when it is empty; true when it was removed.
    pub fn remove_empty_folder(&self, name: &OsStr) -> bool {
        rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR).is_ok()
    }

    fn io(&self, action: &'static str, name: &OsStr, e: Errno) -> Error {
        Error::Io {
            action,
            path: self.shown_child(name),
            source: e.into(),
        }
    }

    /// The error for `name`, which could not be opened as `wanted`: a symbolic link or a thing
    /// of the wrong kind is refused by name; anything else is an I/O error.
    fn blocked(&self, name: &OsStr, e: Errno, wanted: Entry) -> Error {
        let path = self.shown_child(name);
        match (e, self.entry(name).ok().flatten()) {
            (Errno::LOOP | Errno::NOTDIR, Some(Entry::Link)) => link_error(&path),
            (Errno::NOTDIR, Some(_)) if wanted == Entry::Folder => not_a_folder(&path),
            _ => Error::Io {
                action: "open",
                path,
                source: e.into(),
            },
        }
    }
}

/// Six random alphanumeric characters, from the standard library's randomly keyed hasher.
fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let mut n = hasher.finish();
    (0..6)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize];
            n /= ALPHABET.len() as u64;
            char::from(c)
        })
        .collect()
}

/// Why a file was not read.
#[derive(Debug)]
pub enum Unreadable {
    /// A folder.
    Folder,
    /// A FIFO, device or socket (or a link to one).
    Special,
    /// A symbolic link where links are not read through.
    Link,
    /// A symbolic link to nothing.
    Dangling,
    /// Larger than the limit.
    TooBig(u64),
    /// Another I/O error.
    Io(std::io::Error),
}

impl Unreadable {
    /// The error for `path`, which was read as `what` (`a decision record`).
    pub fn into_error(self, path: &Path, what: &str) -> Error {
        let refused = |why: String| Error::Refused {
            message: format!("{} is {why}; nothing was written", shown(path)),
            help: format!(
                "k8s-advisor reads {what} there as a regular file: rename it or move it away"
            ),
        };
        match self {
            Unreadable::Link => link_error(path),
            Unreadable::Dangling => refused("a symbolic link to nothing".to_string()),
            Unreadable::Folder => refused(format!("a folder, not {what}")),
            Unreadable::Special => refused(format!("a FIFO, device or socket, not {what}")),
            Unreadable::TooBig(limit) => refused(format!(
                "larger than {} KiB, too large for {what}",
                limit / 1024
            )),
            Unreadable::Io(source) => Error::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            },
        }
    }
}

/// The refusal of a symbolic link where k8s-advisor writes.
pub fn link_error(path: &Path) -> Error {
    Error::Refused {
        message: format!("{} is a symbolic link; nothing was written", shown(path)),
        help: "generated files and records are never written through links: remove the link, \
               or choose another folder"
            .to_string(),
    }
}

/// The refusal of a file where k8s-advisor needs a folder.
pub fn not_a_folder(path: &Path) -> Error {
    Error::Refused {
        message: format!(
            "{} is a file where k8s-advisor needs a folder; nothing was written",
            shown(path)
        ),
        help: "move the file away, or choose another output folder".to_string(),
    }
}

/// A folder k8s-advisor writes into: a trusted base, opened once, and the plain names below it,
/// each opened without following a link.
#[derive(Debug, Clone)]
pub struct Place {
    base: Arc<Folder>,
    below: Vec<OsString>,
    shown: PathBuf,
}

/// `shown` without its last components when they are `names`: the path the walk starts from,
/// as the user would read it.
fn shown_base(shown: &Path, names: &[OsString]) -> Option<PathBuf> {
    let components: Vec<Component<'_>> = shown.components().collect();
    let keep = components.len().checked_sub(names.len())?;
    let tail_matches = components[keep..]
        .iter()
        .zip(names)
        .all(|(c, n)| c.as_os_str() == n.as_os_str());
    tail_matches.then(|| components[..keep].iter().collect())
}

impl Place {
    /// The folder `path` (as the user or the repository names it). When it lies inside
    /// `trusted` (the workspace folder), every component below `trusted` is checked; otherwise
    /// `path` is the user's own choice on the command line: the part of it that exists above
    /// its last component is taken as given, and only what is below is checked (and created).
    /// `..` is read lexically (`k8s/../x` is `x`).
    pub fn new(path: &Path, trusted: &Path) -> Result<Place, Error> {
        let absolute = lexical(path)?;
        if let Ok(rest) = absolute.strip_prefix(lexical(trusted)?) {
            return Place::beneath(trusted, rest, path.to_path_buf());
        }
        let (Some(parent), Some(name)) = (absolute.parent(), absolute.file_name()) else {
            return Place::beneath(&absolute, Path::new(""), path.to_path_buf());
        };
        // The deepest folder on the way that exists: the rest is created.
        let mut base = parent;
        let mut missing = vec![name];
        while !base.is_dir() {
            match (base.parent(), base.file_name()) {
                (Some(up), Some(last)) => {
                    missing.push(last);
                    base = up;
                }
                _ => break,
            }
        }
        let below: PathBuf = missing.into_iter().rev().collect();
        Place::beneath(base, &below, path.to_path_buf())
    }

    /// The folder `below` (plain names only) under `base`, shown as `shown`.
    pub fn beneath(base: &Path, below: &Path, shown: PathBuf) -> Result<Place, Error> {
        let mut names = Vec::new();
        for component in below.components() {
            match component {
                Component::Normal(name) => names.push(name.to_os_string()),
                Component::CurDir => {}
                _ => {
                    return Err(Error::usage(
                        format!(
                            "{} goes up (`..`) below a folder that does not exist",
                            crate::text::shown(&shown)
                        ),
                        "name the folder without `..`",
                    ));
                }
            }
        }
        let mut base = Folder::open_trusted(base)?;
        if let Some(start) = shown_base(&shown, &names) {
            base.shown = start;
        }
        Ok(Place {
            base: Arc::new(base),
            below: names,
            shown,
        })
    }

    /// The path this folder is shown as.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// Opens this folder, or with `sub` a folder below it; `None` when some part of it does not
    /// exist (yet). Never through a link.
    pub fn open(&self, sub: &Path) -> Result<Option<Folder>, Error> {
        self.walk(sub, false)
    }

    /// Opens this folder (or `sub` below it), creating what is missing; never through a link.
    pub fn create(&self, sub: &Path) -> Result<Folder, Error> {
        self.walk(sub, true)?.ok_or_else(|| Error::Internal {
            message: format!("{} was not created", self.shown.join(sub).display()),
        })
    }

    /// The deepest existing folder on the way to `sub` (this folder itself when `sub` is
    /// empty), and whether it is the whole way. Never through a link.
    pub fn deepest(&self, sub: &Path) -> Result<(Folder, bool), Error> {
        let mut current = self.reopen_base()?;
        for name in self.names(sub) {
            match current.child(&name)? {
                Some(next) => current = next,
                None => return Ok((current, false)),
            }
        }
        Ok((current, true))
    }

    fn walk(&self, sub: &Path, create: bool) -> Result<Option<Folder>, Error> {
        let mut current = self.reopen_base()?;
        for name in self.names(sub) {
            current = if create {
                current.child_or_create(&name)?
            } else {
                match current.child(&name)? {
                    Some(next) => next,
                    None => return Ok(None),
                }
            };
        }
        Ok(Some(current))
    }

    fn names<'a>(&'a self, sub: &'a Path) -> impl Iterator<Item = OsString> + 'a {
        self.below
            .iter()
            .cloned()
            .chain(sub.components().filter_map(|c| match c {
                Component::Normal(name) => Some(name.to_os_string()),
                _ => None,
            }))
    }

    /// A second descriptor of the base, shown where the walk starts.
    fn reopen_base(&self) -> Result<Folder, Error> {
        let fd = self.base.fd.try_clone().map_err(|source| Error::Io {
            action: "open",
            path: self.base.shown.clone(),
            source,
        })?;
        Ok(Folder {
            fd,
            shown: self.base.shown.clone(),
        })
    }
}

/// `path` made absolute against the current folder, `.` and `..` applied lexically.
pub fn lexical(path: &Path) -> Result<PathBuf, Error> {
    let absolute = std::path::absolute(if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    })
    .map_err(|source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> &OsStr {
        OsStr::new(s)
    }

    #[test]
    fn a_link_is_never_opened_as_a_folder_nor_read() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("file")).unwrap();
        let folder = Folder::open_trusted(dir.path()).unwrap();
        let err = folder.child(name("sub")).unwrap_err().to_string();
        assert!(err.contains("is a symbolic link"), "{err}");
        let err = folder.child_or_create(name("sub")).unwrap_err().to_string();
        assert!(err.contains("is a symbolic link"), "{err}");
        assert!(matches!(
            folder.read(name("file"), false, 100),
            Err(Unreadable::Link)
        ));
        assert_eq!(folder.entry(name("file")).unwrap(), Some(Entry::Link));
        assert_eq!(
            folder.list().unwrap(),
            [
                (OsString::from("file"), Entry::Link),
                (OsString::from("sub"), Entry::Link)
            ]
        );
    }

    #[test]
    fn a_write_replaces_a_link_at_its_name_instead_of_following_it() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("victim");
        std::fs::write(&target, "theirs").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("a.yaml")).unwrap();
        let folder = Folder::open_trusted(dir.path()).unwrap();
        folder
            .write_atomic(name("a.yaml"), b"ours", Durability::Deferred)
            .unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "theirs");
        let meta = std::fs::symlink_metadata(dir.path().join("a.yaml")).unwrap();
        assert!(meta.is_file());
        assert_eq!(std::fs::read(dir.path().join("a.yaml")).unwrap(), b"ours");
        // No temporary file stays behind, and a failed write removes its own.
        std::fs::create_dir(dir.path().join("b.yaml")).unwrap();
        std::fs::write(dir.path().join("b.yaml/x"), "").unwrap();
        assert!(
            folder
                .write_atomic(name("b.yaml"), b"ours", Durability::Deferred)
                .is_err()
        );
        let names: Vec<OsString> = folder.list().unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, [OsString::from("a.yaml"), OsString::from("b.yaml")]);
    }

    #[test]
    fn a_place_checks_every_component_below_its_trusted_folder_only() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir_all(real.join("repo/deploy")).unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
        // Above the trusted folder a link is the user's business.
        let root = dir.path().join("link/repo");
        let place = Place::new(&root.join("deploy/k8s"), &root).unwrap();
        let created = place.create(Path::new("shop")).unwrap();
        assert_eq!(created.shown(), root.join("deploy/k8s/shop"));
        assert!(real.join("repo/deploy/k8s/shop").is_dir());
        // Below it, never.
        std::fs::remove_dir_all(real.join("repo/deploy")).unwrap();
        std::os::unix::fs::symlink(dir.path(), real.join("repo/deploy")).unwrap();
        let place = Place::new(&root.join("deploy/k8s"), &root).unwrap();
        let err = place.create(Path::new("")).unwrap_err().to_string();
        assert!(err.contains("deploy is a symbolic link"), "{err}");
        assert!(!dir.path().join("k8s").exists());
    }

    #[test]
    fn a_replaced_file_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let folder = Folder::open_trusted(dir.path()).unwrap();
        folder
            .write_atomic(name("a.yaml"), b"new", Durability::Synced)
            .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn temporary_names_are_recognised_as_ours() {
        let name = format!("{TEMP_PREFIX}{}", random_suffix());
        assert!(super::super::is_temporary(Path::new(&name)), "{name}");
        assert_ne!(random_suffix(), random_suffix());
    }
}
