//! Write stage: where the decision record goes and what it replaces. Reads the record folder,
//! never writes: the result joins the layout's plan, so the record is checked and written with
//! the manifests, all or nothing.

use std::path::{Path, PathBuf};

use super::{Area, Kind, Leftover, Plan, Write};
use crate::adr;
use crate::assess::Verdict;
use crate::diagnostic::Error;
use crate::graph::ServiceGraph;
use crate::policy::Policy;
use crate::record::{self, Extras, Meta};
use crate::report;
use crate::text::shown;

/// What the record needs that the model does not hold.
pub struct RecordInput<'a> {
    /// The folder holding the workspace file; the record folder is found from there.
    pub root: &'a Path,
    /// `--adr-dir`, when given.
    pub adr_dir: Option<&'a Path>,
    /// The generated files the record lists, relative to the workspace folder.
    pub generated: Vec<String>,
    /// The date a new record gets (`YYYY-MM-DD`).
    pub today: &'a str,
    /// The review findings of the graph (computed once for the record and the overview).
    pub findings: &'a [crate::graph::Finding],
}

/// Adds the decision record to `plan`: in place while the verdict holds (keeping status and
/// date), as a new record superseding the old one when it changed. A record edited by hand is
/// reported in `plan.edited`.
pub fn plan(
    plan: &mut Plan,
    graph: &ServiceGraph<'_>,
    policy: &Policy,
    verdict: &Verdict,
    input: RecordInput<'_>,
) -> Result<(), Error> {
    let ws = graph.workspace();
    let place = adr::locate_dir(input.root, input.adr_dir)?;
    let dir = place.shown().to_path_buf();
    let scanned = adr::scan(place.open(Path::new(""))?.as_ref())?;
    plan.leftovers
        .extend(scanned.leftovers.into_iter().map(|name| Leftover {
            path: dir.join(&name),
            rel: PathBuf::from(name),
            area: Area::Records,
        }));
    plan.records_place = Some(place);
    let existing = scanned.records;
    let title = record::title(ws, verdict);
    let placed = adr::plan(&existing, &ws.project.name, verdict.recommended, &title);
    let path = dir.join(&placed.file);
    if placed.edited {
        plan.edited.push((path.clone(), Kind::Record));
    }
    let (status, date) = match &placed.keep {
        Some((status, date)) if !date.is_empty() => (status.clone(), date.clone()),
        Some((status, _)) => (status.clone(), input.today.to_string()),
        None => ("proposed".to_string(), input.today.to_string()),
    };
    let meta = Meta {
        status,
        date,
        supersedes: placed.supersedes.clone(),
    };
    let (mermaid, diagram) = report::graph::mermaid_overview(graph);
    let extras = Extras {
        mermaid,
        diagram,
        findings: input
            .findings
            .iter()
            .map(|f| (f.code.to_string(), f.message.clone()))
            .collect(),
        generated: input.generated,
    };
    let workspace_file = ws.source.path().file_name().map_or_else(
        || "k8s-advisor.toml".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let text = record::render(
        graph,
        verdict,
        &policy.alternatives,
        &meta,
        &extras,
        &workspace_file,
    );
    let old = existing
        .iter()
        .find(|e| e.file == placed.file)
        .map(|e| e.text.clone());
    let unchanged = existing
        .iter()
        .any(|e| e.file == placed.file && e.bytes == text.as_bytes());
    if !unchanged {
        plan.writes.push(Write {
            path: path.clone(),
            rel: PathBuf::from(&placed.file),
            old,
            new: text.into_bytes(),
            kind: Kind::Record,
        });
    }
    for rewrite in placed.rewrites {
        let old = existing
            .iter()
            .find(|e| e.file == rewrite.file)
            .map(|e| e.text.clone());
        let target = dir.join(&rewrite.file);
        // Its status line is gone: marking it superseded means inserting one, which is more
        // than the status change a person's edits allow without --force.
        if !rewrite.exact {
            plan.edited.push((target.clone(), Kind::Superseded));
        }
        plan.writes.push(Write {
            path: target,
            rel: PathBuf::from(&rewrite.file),
            old,
            new: rewrite.bytes,
            kind: Kind::Superseded,
        });
    }
    plan.record = Some(path);
    plan.record_number = Some(placed.number);
    Ok(())
}

/// The current decision record of the project, read-only: its number and path, when the record
/// folder holds one of ours that a `record` run with this verdict would update in place.
pub fn current(
    root: &Path,
    adr_dir: Option<&Path>,
    graph: &ServiceGraph<'_>,
    verdict: &Verdict,
) -> Result<Option<(String, PathBuf)>, Error> {
    let ws = graph.workspace();
    let place = adr::locate_dir(root, adr_dir)?;
    let scanned = adr::scan(place.open(Path::new(""))?.as_ref())?;
    let title = record::title(ws, verdict);
    let placed = adr::plan(
        &scanned.records,
        &ws.project.name,
        verdict.recommended,
        &title,
    );
    Ok(placed
        .keep
        .is_some()
        .then(|| (placed.number, place.shown().join(&placed.file))))
}

/// The record and the record it superseded, as `apply` left them, one line each.
pub fn summary(plan: &Plan, written: &[PathBuf]) -> String {
    let mut s = String::new();
    if let Some(path) = &plan.record {
        if written.contains(path) {
            s.push_str(&format!("Wrote {}\n", shown(path)));
        } else {
            s.push_str(&format!("Unchanged {}\n", shown(path)));
        }
    }
    for write in plan.writes.iter().filter(|w| w.kind == Kind::Superseded) {
        s.push_str(&format!("Marked {} as superseded\n", shown(&write.path)));
    }
    s
}
