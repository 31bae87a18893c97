//! Where decision records live and what happens to them: the record folder (adr-tools'
//! `.adr-dir`, common folder names), the next number, and the lifecycle of our records —
//! update in place while the verdict holds, supersede when it changes. Records that
//! k8s-advisor did not write are never touched.
//!
//! `plan` is pure; `locate_dir` and `scan` read the file system, nothing here writes.

use std::path::{Path, PathBuf};

use crate::diagnostic::Error;
use crate::record::{self, Link};

/// The folders searched for existing records, in order, below the workspace folder.
const CONVENTIONAL: [&str; 3] = ["docs/adr", "doc/adr", "docs/decisions"];

/// The record folder: `explicit`, else the folder named by the nearest `.adr-dir` at or above
/// `root`, else the first conventional folder that exists under `root`, else `root/docs/adr`.
pub fn locate_dir(root: &Path, explicit: Option<&Path>) -> Result<PathBuf, Error> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    let base = if root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        root
    };
    let absolute = std::path::absolute(base).map_err(|source| Error::Io {
        action: "read",
        path: root.to_path_buf(),
        source,
    })?;
    for (up, dir) in absolute.ancestors().enumerate() {
        let marker = dir.join(".adr-dir");
        if marker.is_file() {
            let named = std::fs::read_to_string(&marker).map_err(|source| Error::Io {
                action: "read",
                path: marker.clone(),
                source,
            })?;
            let named = named.trim();
            if named.is_empty() {
                return Err(Error::usage(
                    format!("{} is empty", marker.display()),
                    "write the record folder into it, as `adr init` does, or pass --adr-dir",
                ));
            }
            // Relative to the workspace folder, as the user would write it.
            let mut path = root.to_path_buf();
            path.extend(std::iter::repeat_n("..", up));
            return Ok(path.join(named));
        }
    }
    Ok(CONVENTIONAL
        .iter()
        .map(|c| root.join(c))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| root.join(CONVENTIONAL[0])))
}

/// A record file found in the folder.
#[derive(Debug, Clone)]
pub struct Existing {
    /// The number of its `NNNN-` prefix.
    pub number: u32,
    /// Its file name.
    pub file: String,
    /// Its text.
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
            number: format!("{:04}", self.number),
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

/// Reads every `NNNN-*.md` record in `dir` (none when the folder does not exist yet).
pub fn scan(dir: &Path) -> Result<Vec<Existing>, Error> {
    let io = |source| Error::Io {
        action: "read",
        path: dir.to_path_buf(),
        source,
    };
    let mut found = Vec::new();
    for entry in crate::fsutil::entries(dir)? {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(number) = record_number(&file) else {
            continue;
        };
        let bytes = std::fs::read(entry.path()).map_err(io)?;
        found.push(Existing {
            number,
            file,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        });
    }
    found.sort_by(|a, b| a.number.cmp(&b.number).then_with(|| a.file.cmp(&b.file)));
    Ok(found)
}

/// The number of a record file name such as `0007-use-kubernetes.md`.
fn record_number(file: &str) -> Option<u32> {
    let (digits, rest) = file.split_once('-')?;
    // At most 8 digits: anything longer is not a record number (and could not be counted past).
    if digits.is_empty()
        || digits.len() > 8
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || !rest.ends_with(".md")
    {
        return None;
    }
    digits.parse().ok()
}

/// What to do with the record folder.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The file to write our record to.
    pub file: String,
    /// Its number, four digits.
    pub number: String,
    /// Status and date to keep from the record being updated in place.
    pub keep: Option<(String, String)>,
    /// True when the record to update in place was edited by hand since it was written.
    pub edited: bool,
    /// The record ours supersedes, to link back to.
    pub supersedes: Option<Link>,
    /// An older record of ours to rewrite as superseded: its file and new text.
    pub rewrite: Option<(String, String)>,
}

/// Decides where the record for `project` with this verdict goes.
pub fn plan(existing: &[Existing], project: &str, recommended: bool, title: &str) -> Plan {
    let current = existing.iter().rev().find(|e| {
        e.ours().is_some_and(|(p, _)| p == project)
            && !e.status().is_some_and(|s| s.starts_with("superseded"))
    });
    if let Some(current) = current
        && current.ours().is_some_and(|(_, v)| v == recommended)
    {
        let number = format!("{:04}", current.number);
        let superseded_status = format!("superseded by ADR-{number}");
        let supersedes = existing
            .iter()
            .filter(|e| e.ours().is_some_and(|(p, _)| p == project))
            .rfind(|e| e.status() == Some(superseded_status.as_str()))
            .map(Existing::link);
        return Plan {
            file: current.file.clone(),
            number,
            keep: Some((
                current.status().unwrap_or("proposed").to_string(),
                current.date().unwrap_or_default().to_string(),
            )),
            supersedes,
            rewrite: None,
            edited: record::edited(&current.text),
        };
    }
    let next = existing.iter().map(|e| e.number).max().unwrap_or(0) + 1;
    let number = format!("{next:04}");
    let slug = crate::names::slugify(title, 60).unwrap_or_else(|| "decision".into());
    let file = format!("{number}-{slug}.md");
    let new = Link {
        number: number.clone(),
        file: file.clone(),
    };
    Plan {
        supersedes: current.map(Existing::link),
        rewrite: current.map(|old| (old.file.clone(), mark_superseded(&old.text, &new))),
        file,
        number,
        keep: None,
        edited: false,
    }
}

/// Rewrites one of our records as superseded by `by`: its status, and a link under the title.
fn mark_superseded(text: &str, by: &Link) -> String {
    let mut out = String::with_capacity(text.len() + 80);
    let mut in_front = false;
    let mut front_done = false;
    let mut linked = false;
    for (i, line) in text.lines().enumerate() {
        if i == 0 && line == "---" {
            in_front = true;
        } else if in_front && line == "---" {
            in_front = false;
            front_done = true;
        } else if in_front && line.starts_with("status:") {
            out.push_str(&format!("status: superseded by ADR-{}\n", by.number));
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if front_done && !linked && line.starts_with("# ") {
            out.push_str(&format!(
                "\nSuperseded by [ADR {}]({}).\n",
                by.number, by.file
            ));
            linked = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(number: u32, project: &str, recommended: bool, status: &str) -> Existing {
        let body = format!("---\nstatus: {status}\ndate: 2026-01-02\n---\n\n# Title\n\nBody");
        let marker = record::marker(project, recommended, &body);
        Existing {
            number,
            file: format!("{number:04}-x.md"),
            text: format!("{body}\n\n{marker}\n"),
        }
    }

    fn theirs(number: u32) -> Existing {
        Existing {
            number,
            file: format!("{number:04}-record-architecture-decisions.md"),
            text: "# 1. Record architecture decisions\n\nDate: 2026-01-01\n".into(),
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
        assert!(plan.keep.is_none() && plan.supersedes.is_none() && plan.rewrite.is_none());
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
        let (file, text) = plan.rewrite.unwrap();
        assert_eq!(file, "0002-x.md");
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
        assert!(plan.rewrite.is_none() && plan.supersedes.is_none());
    }

    #[test]
    fn record_numbers() {
        assert_eq!(record_number("0001-x.md"), Some(1));
        assert_eq!(record_number("12-x.md"), Some(12));
        assert_eq!(record_number("README.md"), None);
        assert_eq!(record_number("4294967295-big.md"), None);
        assert_eq!(record_number("0001-x.txt"), None);
    }
}
