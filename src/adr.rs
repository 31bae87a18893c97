//! Where decision records live and what happens to them: the record folder (adr-tools'
//! `.adr-dir`, common folder names), the next number, and the lifecycle of our records —
//! update in place while the verdict holds, supersede when it changes. Records that
//! k8s-advisor did not write are never touched.
//!
//! `plan` is pure; `locate_dir` and `scan` read the file system, nothing here writes.
//!
//! Safety rules, because a repository's content may be planted by someone else: the record
//! folder that `.adr-dir` or a conventional folder name points to must resolve (symbolic links
//! and `..` followed) inside the repository; `.adr-dir` is looked for only from the workspace's
//! real folder up to the repository root; only regular files of bounded size are read.

use std::cmp::Ordering;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use crate::diagnostic::Error;
use crate::files::{Folder, Place};
use crate::record::{self, Link};
use crate::text::{clean, shown};
use crate::workspace;

/// The folders searched for existing records, in order, below the workspace folder.
const CONVENTIONAL: [&str; 3] = ["docs/adr", "doc/adr", "docs/decisions"];

/// The largest record file read, so that a link to `/dev/zero` is never read into memory.
/// Far above what k8s-advisor writes (a record stays a short document however big the model),
/// and above the records of older versions, which listed every service: the tool never refuses
/// a file it wrote.
pub const MAX_RECORD_BYTES: u64 = 16 << 20;

/// The largest `.adr-dir` read: it holds one folder name.
const MAX_MARKER_BYTES: u64 = 4096;

/// The record folder: `explicit` (`--adr-dir`, the user's own choice, taken as given), else the
/// folder named by the nearest `.adr-dir` between the workspace's real folder and the
/// repository root, else the first conventional folder that exists under `root`, else
/// `root/docs/adr`. A folder found through `.adr-dir` or by convention that resolves outside
/// the repository (outside the workspace folder when there is no repository) is refused. The
/// result is opened by descriptor from a folder the user chose (the workspace folder, the
/// repository root): no component below it may be a symbolic link, then or later.
pub fn locate_dir(root: &Path, explicit: Option<&Path>) -> Result<Place, Error> {
    if let Some(dir) = explicit {
        return Place::new(dir, root);
    }
    let base = if root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        root
    };
    let real = base.canonicalize().map_err(|source| Error::Io {
        action: "read",
        path: base.to_path_buf(),
        source,
    })?;
    let boundary = workspace::repository_root(&real).unwrap_or_else(|| real.clone());
    for (up, dir) in real.ancestors().enumerate() {
        let marker = dir.join(".adr-dir");
        if let Some(named) = read_marker(dir, &marker)? {
            let what = || format!("{} names `{}`", shown(&marker), clean(&named));
            ensure_within(&dir.join(&named), &boundary, what)?;
            // Relative to the workspace folder, as the user would write it; `..` after the
            // workspace folder resolves through its real location, as `real` does.
            let mut path = root.to_path_buf();
            path.extend(std::iter::repeat_n("..", up));
            let path = path.join(&named);
            // `dir` and `boundary` are real folders (no link in them): the folder lies below
            // the repository root, lexically.
            let below = crate::files::lexical(&dir.join(&named))?
                .strip_prefix(&boundary)
                .map(Path::to_path_buf)
                .map_err(|_| Error::Refused {
                    message: format!("{} leads outside {}", what(), shown(&boundary)),
                    help: OUTSIDE_HELP.to_string(),
                })?;
            return Place::beneath(&boundary, &below, path);
        }
        if dir == boundary {
            break;
        }
    }
    for conventional in CONVENTIONAL {
        let path = root.join(conventional);
        let place = Place::beneath(base, Path::new(conventional), path.clone())?;
        match place.open(Path::new("")) {
            Ok(Some(_)) => return Ok(place),
            Ok(None) => {}
            Err(link) => {
                // Say where the link leads when that is outside; it is refused either way.
                let what = || format!("the record folder {}", shown(&path));
                ensure_within(&real.join(conventional), &boundary, what)?;
                return Err(link);
            }
        }
    }
    Place::beneath(base, Path::new(CONVENTIONAL[0]), root.join(CONVENTIONAL[0]))
}

const OUTSIDE_HELP: &str = "records are kept inside the repository (or beside the workspace \
                            when there is none): fix the folder name or link, or choose a \
                            folder with --adr-dir";

/// The folder name the `.adr-dir` file `marker` in `dir` holds; `None` when there is no such
/// file. A name with a character that must not reach a terminal or a file name (an escape
/// sequence, a line separator) is refused: nobody names a folder so.
fn read_marker(dir: &Path, marker: &Path) -> Result<Option<String>, Error> {
    let folder = Folder::open_trusted(dir)?;
    let bytes = match folder.read(".adr-dir".as_ref(), true, MAX_MARKER_BYTES) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(why) => return Err(why.into_error(marker, "a `.adr-dir` file")),
    };
    let refuse = |why: &str| {
        Error::usage(
            format!("{} {why}", shown(marker)),
            "write the record folder into it, as `adr init` does, or pass --adr-dir",
        )
    };
    let text = String::from_utf8(bytes).map_err(|_| refuse("is not valid UTF-8"))?;
    let named = text.trim();
    if named.is_empty() {
        return Err(refuse("is empty"));
    }
    if let Some(c) = named.chars().find(|&c| crate::text::unsafe_char(c)) {
        return Err(refuse(&format!(
            "names `{}`, which holds the character {}",
            clean(named),
            c.escape_unicode()
        )));
    }
    Ok(Some(named.to_string()))
}

/// Refuses `target` when it resolves outside `boundary`. `what` says where it came from.
fn ensure_within(target: &Path, boundary: &Path, what: impl Fn() -> String) -> Result<(), Error> {
    match resolve(target) {
        Ok(real) if real.starts_with(boundary) => Ok(()),
        Ok(real) => Err(Error::Refused {
            message: format!(
                "{} resolves to {}, outside {}; nothing was written",
                what(),
                shown(&real),
                shown(boundary)
            ),
            help: OUTSIDE_HELP.to_string(),
        }),
        Err(source) => Err(Error::Refused {
            message: format!(
                "{} cannot be resolved ({}); nothing was written",
                what(),
                clean(&source.to_string())
            ),
            help: "remove the broken link, or choose a folder with --adr-dir".to_string(),
        }),
    }
}

/// `path` with every symbolic link and `..` resolved, although its last components may not
/// exist yet: the longest existing prefix is canonicalized and the rest applied to it. A link
/// that leads nowhere is an error, since creating the folder would follow it.
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let components: Vec<Component<'_>> = path.components().collect();
    for existing in (0..=components.len()).rev() {
        let prefix: PathBuf = components[..existing].iter().collect();
        let prefix = if prefix.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            prefix
        };
        match prefix.canonicalize() {
            Ok(mut real) => {
                for component in &components[existing..] {
                    match component {
                        Component::ParentDir => {
                            real.pop();
                        }
                        Component::Normal(name) => real.push(name),
                        _ => {}
                    }
                }
                return Ok(real);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if std::fs::symlink_metadata(&prefix).is_ok() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("{} is a symbolic link to nothing", prefix.display()),
                    ));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "no part of the path exists",
    ))
}

/// A record number, of any length: decimal digits without leading zeros, compared by value.
/// Never parsed into a machine integer, so no number is too long to count past.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number(String);

impl Number {
    /// The number `digits` (ASCII digits, leading zeros allowed) spell.
    pub fn parse(digits: &str) -> Option<Number> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let trimmed = digits.trim_start_matches('0');
        Some(Number(
            if trimmed.is_empty() { "0" } else { trimmed }.to_string(),
        ))
    }

    /// The number after this one.
    pub fn next(&self) -> Number {
        let mut digits = self.0.clone().into_bytes();
        for digit in digits.iter_mut().rev() {
            if *digit == b'9' {
                *digit = b'0';
            } else {
                *digit += 1;
                return Number(String::from_utf8(digits).unwrap_or_default());
            }
        }
        digits.insert(0, b'1');
        Number(String::from_utf8(digits).unwrap_or_default())
    }

    /// At least four digits, as in file names and links (`0007`).
    pub fn padded(&self) -> String {
        format!("{:0>4}", self.0)
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        // Without leading zeros, the longer digit string is the larger number.
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A record file found in the folder.
#[derive(Debug, Clone)]
pub struct Existing {
    /// The number of its `NNNN-` prefix.
    pub number: Number,
    /// Its file name.
    pub file: String,
    /// Its bytes, exactly as on disk.
    pub bytes: Vec<u8>,
    /// Its text (invalid UTF-8 replaced), for reading its fields.
    pub text: String,
}

impl Existing {
    /// Project and verdict, when k8s-advisor wrote it.
    pub fn ours(&self) -> Option<(String, bool)> {
        record::parse_marker(&self.text)
    }

    /// The `status:` of its front matter.
    pub fn status(&self) -> Option<&str> {
        front_matter(&self.text, "status")
    }

    /// The `date:` of its front matter.
    pub fn date(&self) -> Option<&str> {
        front_matter(&self.text, "date")
    }

    fn link(&self) -> Link {
        Link {
            number: self.number.padded(),
            file: self.file.clone(),
        }
    }
}

fn front_matter<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let mut lines = text.lines();
    if lines.next()? != "---" {
        return None;
    }
    lines
        .take_while(|l| *l != "---")
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

/// What the record folder holds.
#[derive(Debug, Clone, Default)]
pub struct Scanned {
    /// Every record, by number.
    pub records: Vec<Existing>,
    /// The temporary files of ours a killed run left behind.
    pub leftovers: Vec<OsString>,
}

/// Reads every `NNNN-*.md` record in `folder` (none when the folder does not exist yet). An
/// entry named like a record that is not a regular file of at most [`MAX_RECORD_BYTES`] — a
/// folder, a FIFO, a device, a link to one of them — is refused, naming the entry. A name
/// that is not UTF-8 counts for numbering but is not read: it is never one of ours.
pub fn scan(folder: Option<&Folder>) -> Result<Scanned, Error> {
    let mut scanned = Scanned::default();
    let Some(folder) = folder else {
        return Ok(scanned);
    };
    for (name, entry) in folder.list()? {
        if entry == crate::files::Entry::File && crate::files::is_temporary(Path::new(&name)) {
            scanned.leftovers.push(name);
            continue;
        }
        let lossy = name.to_string_lossy();
        let Some(number) = record_number(&lossy) else {
            continue;
        };
        let Some(file) = name.to_str() else {
            scanned.records.push(Existing {
                number,
                file: lossy.into_owned(),
                bytes: Vec::new(),
                text: String::new(),
            });
            continue;
        };
        let path = folder.shown_child(&name);
        let read = folder
            .read(&name, true, MAX_RECORD_BYTES)
            .map_err(|why| why.into_error(&path, "a decision record"))?;
        // Removed since the listing: as if it had never been there.
        let Some(bytes) = read else {
            continue;
        };
        scanned.records.push(Existing {
            number,
            file: file.to_string(),
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        });
    }
    scanned
        .records
        .sort_by(|a, b| a.number.cmp(&b.number).then_with(|| a.file.cmp(&b.file)));
    Ok(scanned)
}

/// The number of a record file name such as `0007-use-kubernetes.md`, however many digits.
fn record_number(file: &str) -> Option<Number> {
    let (digits, rest) = file.split_once('-')?;
    if !rest.ends_with(".md") {
        return None;
    }
    Number::parse(digits)
}

/// An older record of ours to mark as superseded.
#[derive(Debug, Clone)]
pub struct Rewrite {
    /// Its file name.
    pub file: String,
    /// Its new bytes.
    pub bytes: Vec<u8>,
    /// True when only its status line changed and a link was added: every other byte kept.
    /// False when its front matter has no status line any more, so one had to be inserted.
    pub exact: bool,
}

/// What to do with the record folder.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The file to write our record to.
    pub file: String,
    /// Its number, at least four digits.
    pub number: String,
    /// Status and date to keep from the record being updated in place.
    pub keep: Option<(String, String)>,
    /// True when the record to update in place was edited by hand since it was written.
    pub edited: bool,
    /// The record ours supersedes, to link back to.
    pub supersedes: Option<Link>,
    /// Older records of ours to rewrite as superseded: the one ours replaces, and any that a
    /// killed run left unmarked.
    pub rewrites: Vec<Rewrite>,
}

/// The file of the record that a record says it supersedes: the `Supersedes [ADR NNNN](file).`
/// line under its title.
fn supersedes_file(text: &str) -> Option<&str> {
    text.lines().find_map(|line| {
        line.strip_prefix("Supersedes [ADR ")?
            .split_once("](")?
            .1
            .strip_suffix(").")
    })
}

/// Supersessions a killed run left half done, as (the old record, the record replacing it).
/// Replacing a record is two writes — the new record, which links back, then the old one's
/// status — and the new record is written first: when it exists, the change was decided, so
/// the next run completes it by marking the old one. A record that is superseded already, by
/// whatever number, is left as it is.
fn unfinished<'a>(existing: &'a [Existing], project: &str) -> Vec<(&'a Existing, &'a Existing)> {
    let ours = |e: &&Existing| e.ours().is_some_and(|(p, _)| p == project);
    existing
        .iter()
        .filter(ours)
        .filter_map(|by| {
            let file = supersedes_file(&by.text)?;
            let old = existing.iter().filter(ours).find(|e| e.file == file)?;
            let marked = old.status().is_some_and(|s| s.starts_with("superseded"));
            (!marked && old.number < by.number).then_some((old, by))
        })
        .collect()
}

/// `old` rewritten as superseded by `by`.
fn rewrite(old: &Existing, by: &Link) -> Rewrite {
    let (bytes, exact) = mark_superseded(&old.bytes, by);
    Rewrite {
        file: old.file.clone(),
        bytes,
        exact,
    }
}

/// Decides where the record for `project` with this verdict goes, and completes what a killed
/// run left half done.
pub fn plan(existing: &[Existing], project: &str, recommended: bool, title: &str) -> Plan {
    let pending = unfinished(existing, project);
    let unmarked = |e: &Existing| {
        !e.status().is_some_and(|s| s.starts_with("superseded"))
            && !pending.iter().any(|(old, _)| old.file == e.file)
    };
    let current = existing
        .iter()
        .rev()
        .find(|e| e.ours().is_some_and(|(p, _)| p == project) && unmarked(e));
    let mut rewrites: Vec<Rewrite> = pending
        .iter()
        .map(|(old, by)| rewrite(old, &by.link()))
        .collect();
    if let Some(current) = current
        && current.ours().is_some_and(|(_, v)| v == recommended)
    {
        let number = current.number.padded();
        let superseded_status = format!("superseded by ADR-{number}");
        let supersedes = pending
            .iter()
            .find(|(_, by)| by.file == current.file)
            .map(|(old, _)| old.link())
            .or_else(|| {
                existing
                    .iter()
                    .filter(|e| e.ours().is_some_and(|(p, _)| p == project))
                    .rfind(|e| e.status() == Some(superseded_status.as_str()))
                    .map(Existing::link)
            });
        return Plan {
            file: current.file.clone(),
            number,
            keep: Some((
                current.status().unwrap_or("proposed").to_string(),
                current.date().unwrap_or_default().to_string(),
            )),
            supersedes,
            rewrites,
            edited: record::edited(&current.text),
        };
    }
    let next = existing
        .iter()
        .map(|e| &e.number)
        .max()
        .map_or_else(|| Number("1".into()), Number::next);
    let number = next.padded();
    let slug = crate::names::slugify(title, 60).unwrap_or_else(|| "decision".into());
    let file = format!("{number}-{slug}.md");
    let new = Link {
        number: number.clone(),
        file: file.clone(),
    };
    rewrites.extend(current.map(|old| rewrite(old, &new)));
    Plan {
        supersedes: current.map(Existing::link),
        rewrites,
        file,
        number,
        keep: None,
        edited: false,
    }
}

/// Marks one of our records as superseded by `by`, on its bytes: the front matter's status line
/// is replaced and a link is added under the title, each with the line ending of the line it
/// follows; every other byte stays as it was (CRLF, invalid UTF-8, trailing spaces). Returns
/// the new bytes and whether that was possible; when the front matter has no status line, one
/// is inserted (a front matter too, when there is none) and the result is not exact.
fn mark_superseded(bytes: &[u8], by: &Link) -> (Vec<u8>, bool) {
    let status = format!("status: superseded by ADR-{}", by.number);
    let link = format!("Superseded by [ADR {}]({}).", by.number, by.file);
    let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
    let content = |line: &[u8]| -> usize {
        let end = line.len() - usize::from(line.ends_with(b"\n"));
        end - usize::from(line[..end].ends_with(b"\r"))
    };
    let ending = |line: &[u8]| -> &'static [u8] {
        if line.ends_with(b"\r\n") {
            b"\r\n"
        } else {
            b"\n"
        }
    };
    let has_front = lines.first().is_some_and(|l| &l[..content(l)] == b"---");
    let front_end = if has_front {
        lines
            .iter()
            .skip(1)
            .position(|l| &l[..content(l)] == b"---")
            .map(|i| i + 1)
    } else {
        None
    };
    let status_line = front_end
        .and_then(|end| (1..end).find(|&i| lines[i][..content(lines[i])].starts_with(b"status:")));
    let mut out = Vec::with_capacity(bytes.len() + status.len() + link.len() + 8);
    if !has_front || front_end.is_none() {
        out.extend_from_slice(format!("---\n{status}\n---\n\n").as_bytes());
    }
    let mut linked = false;
    for (i, line) in lines.iter().enumerate() {
        let eol = ending(line);
        if Some(i) == status_line {
            out.extend_from_slice(status.as_bytes());
            out.extend_from_slice(&line[content(line)..]);
            continue;
        }
        out.extend_from_slice(line);
        if i == 0 && has_front && front_end.is_some() && status_line.is_none() {
            out.extend_from_slice(status.as_bytes());
            out.extend_from_slice(eol);
        }
        let body = front_end.is_none_or(|end| i > end);
        if body && !linked && line.starts_with(b"# ") {
            if !line.ends_with(b"\n") {
                out.extend_from_slice(eol);
            }
            out.extend_from_slice(eol);
            out.extend_from_slice(link.as_bytes());
            out.extend_from_slice(eol);
            linked = true;
        }
    }
    (out, status_line.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn existing(number: u32, file: String, text: String) -> Existing {
        Existing {
            number: Number::parse(&number.to_string()).unwrap(),
            file,
            bytes: text.clone().into_bytes(),
            text,
        }
    }

    fn ours(number: u32, project: &str, recommended: bool, status: &str) -> Existing {
        let body = format!("---\nstatus: {status}\ndate: 2026-01-02\n---\n\n# Title\n\nBody");
        let marker = record::marker(project, recommended, &body);
        existing(
            number,
            format!("{number:04}-x.md"),
            format!("{body}\n\n{marker}\n"),
        )
    }

    fn theirs(number: u32) -> Existing {
        existing(
            number,
            format!("{number:04}-record-architecture-decisions.md"),
            "# 1. Record architecture decisions\n\nDate: 2026-01-01\n".into(),
        )
    }

    fn link(number: &str, file: &str) -> Link {
        Link {
            number: number.into(),
            file: file.into(),
        }
    }

    #[test]
    fn numbers_follow_the_highest_existing_record() {
        let plan = plan(
            &[theirs(1), theirs(7)],
            "shop",
            true,
            "Run shop on Kubernetes (Amazon EKS)",
        );
        assert_eq!(plan.file, "0008-run-shop-on-kubernetes-amazon-eks.md");
        assert!(plan.keep.is_none() && plan.supersedes.is_none() && plan.rewrites.is_empty());
    }

    #[test]
    fn same_verdict_updates_in_place_keeping_status_and_date() {
        let plan = plan(
            &[theirs(1), ours(2, "shop", true, "accepted")],
            "shop",
            true,
            "Anything",
        );
        assert_eq!(plan.file, "0002-x.md");
        assert_eq!(plan.keep, Some(("accepted".into(), "2026-01-02".into())));
        assert!(!plan.edited);
    }

    #[test]
    fn a_hand_edit_is_noticed_but_a_status_change_is_not() {
        let mut record = ours(2, "shop", true, "proposed");
        record.text = record.text.replace("status: proposed", "status: accepted");
        assert!(!plan(std::slice::from_ref(&record), "shop", true, "T").edited);
        record.text = record.text.replace("Body", "Body, with a note of ours");
        assert!(plan(&[record], "shop", true, "T").edited);
    }

    #[test]
    fn a_changed_verdict_supersedes_ours() {
        let plan = plan(
            &[theirs(1), ours(2, "shop", true, "accepted")],
            "shop",
            false,
            "Run shop simply",
        );
        assert_eq!(plan.file, "0003-run-shop-simply.md");
        assert_eq!(plan.supersedes.unwrap().number, "0002");
        let [rewrite] = <[Rewrite; 1]>::try_from(plan.rewrites).unwrap();
        assert_eq!(rewrite.file, "0002-x.md");
        assert!(rewrite.exact);
        let text = String::from_utf8(rewrite.bytes).unwrap();
        assert!(text.contains("status: superseded by ADR-0003\n"), "{text}");
        assert!(
            text.contains("# Title\n\nSuperseded by [ADR 0003](0003-run-shop-simply.md).\n"),
            "{text}"
        );
    }

    #[test]
    fn other_projects_and_superseded_records_are_not_current() {
        let plan = plan(
            &[
                ours(1, "other", true, "accepted"),
                ours(2, "shop", true, "superseded by ADR-0003"),
            ],
            "shop",
            true,
            "Run shop",
        );
        assert_eq!(plan.file, "0003-run-shop.md");
        assert!(plan.rewrites.is_empty() && plan.supersedes.is_none());
    }

    #[test]
    fn record_numbers_have_no_digit_limit() {
        let n = |s: &str| record_number(s).map(|n| n.0);
        assert_eq!(n("0001-x.md").as_deref(), Some("1"));
        assert_eq!(n("12-x.md").as_deref(), Some("12"));
        assert_eq!(n("0000-x.md").as_deref(), Some("0"));
        assert_eq!(n("100000000-x.md").as_deref(), Some("100000000"));
        assert_eq!(n("4294967295-big.md").as_deref(), Some("4294967295"));
        assert_eq!(n("README.md"), None);
        assert_eq!(n("-x.md"), None);
        assert_eq!(n("12a-x.md"), None);
        assert_eq!(n("0001-x.txt"), None);

        let beyond_u128 = "9".repeat(60);
        let big = record_number(&format!("{beyond_u128}-x.md")).unwrap();
        assert_eq!(big.next().0, format!("1{}", "0".repeat(60)));
        assert!(big.next() > big);
        assert!(Number::parse("10").unwrap() > Number::parse("9").unwrap());
        assert!(Number::parse("00010").unwrap() > Number::parse("9").unwrap());
        assert_eq!(Number::parse("7").unwrap().padded(), "0007");
        assert_eq!(Number::parse("0123456").unwrap().padded(), "123456");
    }

    #[test]
    fn a_long_number_is_counted_past() {
        let records = [theirs(1), ours(100_000_000, "other", true, "accepted")];
        assert_eq!(records[1].file, "100000000-x.md");
        let plan = plan(&records, "shop", true, "Run shop");
        assert_eq!(plan.file, "100000001-run-shop.md");
    }

    #[test]
    fn superseding_keeps_every_other_byte() {
        let by = link("0009", "0009-new.md");
        let mut old = b"---\r\nstatus: accepted\r\ndate: 2026-01-02\r\n---\r\n\r\n# T\xff\r\n\r\nBody \xfe\r\n"
            .to_vec();
        let (new, exact) = mark_superseded(&old, &by);
        assert!(exact);
        let expected = b"---\r\nstatus: superseded by ADR-0009\r\ndate: 2026-01-02\r\n---\r\n\r\n# T\xff\r\n\r\nSuperseded by [ADR 0009](0009-new.md).\r\n\r\nBody \xfe\r\n";
        assert_eq!(new, expected.to_vec(), "{}", String::from_utf8_lossy(&new));

        // No status line: one is inserted, and the caller must ask for --force.
        old = b"---\ndate: 2026-01-02\n---\n\n# T\n".to_vec();
        let (new, exact) = mark_superseded(&old, &by);
        assert!(!exact);
        assert_eq!(
            String::from_utf8(new).unwrap(),
            "---\nstatus: superseded by ADR-0009\ndate: 2026-01-02\n---\n\n# T\n\nSuperseded by [ADR 0009](0009-new.md).\n"
        );
        let (new, exact) = mark_superseded(b"# T", &by);
        assert!(!exact);
        assert_eq!(
            String::from_utf8(new).unwrap(),
            "---\nstatus: superseded by ADR-0009\n---\n\n# T\n\nSuperseded by [ADR 0009](0009-new.md).\n"
        );
    }

    #[cfg(unix)]
    #[test]
    fn adr_dir_is_looked_for_above_the_real_workspace_folder_not_above_a_link_to_it() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let real = tmp.path().join("elsewhere/ws");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(&real).unwrap();
        std::fs::write(repo.join(".adr-dir"), "decisions").unwrap();
        std::os::unix::fs::symlink(&real, repo.join("link")).unwrap();
        // Through the link, the text of the path passes the repository's `.adr-dir`, but
        // `link/..` is `elsewhere`: that `.adr-dir` must not count.
        let dir = locate_dir(&repo.join("link"), None).unwrap();
        assert_eq!(dir.shown(), repo.join("link/docs/adr"));
        // From inside the repository it does.
        std::fs::create_dir(repo.join("ws")).unwrap();
        assert_eq!(
            locate_dir(&repo.join("ws"), None).unwrap().shown(),
            repo.join("ws/../decisions")
        );
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_of_bounded_size_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let scan = |path: &Path| {
            let folder = Folder::open_trusted(path).unwrap();
            super::scan(Some(&folder)).map(|s| s.records)
        };
        std::fs::write(dir.path().join("0001-a.md"), "# A\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        assert_eq!(scan(dir.path()).unwrap().len(), 1);

        let refused = |entry: &str| {
            let err = scan(dir.path()).unwrap_err().to_string();
            assert!(err.contains(entry), "{err}");
            std::fs::remove_file(dir.path().join(entry))
                .or_else(|_| std::fs::remove_dir(dir.path().join(entry)))
                .unwrap();
            err
        };
        std::fs::create_dir(dir.path().join("0002-folder.md")).unwrap();
        assert!(refused("0002-folder.md").contains("is a folder"));
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("0003-zero.md")).unwrap();
        assert!(refused("0003-zero.md").contains("FIFO, device or socket"));
        let status = std::process::Command::new("mkfifo")
            .arg(dir.path().join("0004-fifo.md"))
            .status()
            .unwrap();
        assert!(status.success());
        assert!(refused("0004-fifo.md").contains("FIFO, device or socket"));
        let big = vec![b'x'; MAX_RECORD_BYTES as usize + 1];
        std::fs::write(dir.path().join("0005-big.md"), big).unwrap();
        assert!(refused("0005-big.md").contains("larger than 16384 KiB"));
        std::fs::write(
            dir.path().join("0005-big.md"),
            vec![b'x'; MAX_RECORD_BYTES as usize],
        )
        .unwrap();
        assert_eq!(scan(dir.path()).unwrap().len(), 2);
    }
}
