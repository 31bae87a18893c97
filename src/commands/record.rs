//! `k8s-advisor record`: writes the Markdown decision record. `generate` calls
//! `write_record` too, after writing the manifests.

use std::path::{Path, PathBuf};

use super::{Context, print};
use crate::adr;
use crate::assess::assess;
use crate::cli::{Cli, RecordArgs};
use crate::diagnostic::Error;
use crate::fsutil;
use crate::graph::ServiceGraph;
use crate::record::{self, Extras, Meta};
use crate::report;

pub fn run(cli: &Cli, args: &RecordArgs) -> Result<u8, Error> {
    let ctx = Context::load(cli)?;
    // Alone, the record lists the files `generate` writes into its default folder.
    let generated = crate::generate::generate(&ctx.workspace)
        .into_iter()
        .map(|f| Path::new(crate::generate::DEFAULT_OUT).join(f.path))
        .map(|p| p.display().to_string())
        .collect();
    let outcome = write_record(&ctx, args.adr_dir.as_deref(), generated, args.force)?;
    if !cli.quiet {
        print(&outcome.summary())?;
    }
    Ok(0)
}

/// What happened to the record folder.
pub struct RecordOutcome {
    /// The record written or kept.
    pub path: PathBuf,
    /// False when the record already had exactly this text.
    pub changed: bool,
    /// The record that the new one superseded.
    pub superseded: Option<PathBuf>,
}

impl RecordOutcome {
    /// One line per file, for the terminal.
    pub fn summary(&self) -> String {
        let mut s = if self.changed {
            format!("Wrote {}\n", self.path.display())
        } else {
            format!("Unchanged {}\n", self.path.display())
        };
        if let Some(old) = &self.superseded {
            s.push_str(&format!("Marked {} as superseded\n", old.display()));
        }
        s
    }
}

/// Renders the record for `ctx` and places it in the record folder: in place while the verdict
/// holds, as a new superseding record when it changed. `generated` lists the generated files,
/// relative to the workspace folder.
pub fn write_record(
    ctx: &Context,
    adr_dir: Option<&Path>,
    generated: Vec<String>,
    force: bool,
) -> Result<RecordOutcome, Error> {
    let ws = &ctx.workspace;
    let graph = ServiceGraph::build(ws);
    let verdict = assess(&graph, &ctx.policy);
    let dir = adr::locate_dir(&ctx.root, adr_dir)?;
    let existing = adr::scan(&dir)?;
    let title = record::title(ws, &verdict);
    let plan = adr::plan(&existing, &ws.project.name, verdict.recommended, &title);
    if plan.edited && !force {
        return Err(Error::usage(
            format!(
                "{} was edited by hand since k8s-advisor wrote it; the record was not updated",
                dir.join(&plan.file).display()
            ),
            "keep the edits and leave the record as it is, or rerun with --force to rewrite it \
             from the workspace (its status and date are kept)",
        ));
    }
    let (status, date) = match &plan.keep {
        Some((status, date)) if !date.is_empty() => (status.clone(), date.clone()),
        Some((status, _)) => (status.clone(), today()?),
        None => ("proposed".to_string(), today()?),
    };
    let meta = Meta {
        status,
        date,
        supersedes: plan.supersedes.clone(),
    };
    let extras = Extras {
        mermaid: report::graph::mermaid_overview(&graph),
        mermaid_by_domain: graph.call_count() > report::graph::MERMAID_MAX_EDGES,
        findings: graph
            .findings(&ctx.policy)
            .into_iter()
            .map(|f| (f.code.to_string(), f.message))
            .collect(),
        generated,
    };
    let workspace_file = ws.source.path().file_name().map_or_else(
        || "k8s-advisor.toml".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let text = record::render(
        &graph,
        &verdict,
        &ctx.policy.alternatives,
        &meta,
        &extras,
        &workspace_file,
    );
    let path = dir.join(&plan.file);
    let changed = std::fs::read(&path).map_or(true, |old| old != text.as_bytes());
    if changed {
        fsutil::write_atomic(&path, text.as_bytes())?;
    }
    let superseded = match &plan.rewrite {
        Some((old_file, old_text)) => {
            let old_path = dir.join(old_file);
            fsutil::write_atomic(&old_path, old_text.as_bytes())?;
            Some(old_path)
        }
        None => None,
    };
    Ok(RecordOutcome {
        path,
        changed,
        superseded,
    })
}

/// Today's date, or the one `SOURCE_DATE_EPOCH` names (reproducible builds and tests).
fn today() -> Result<String, Error> {
    let bad = |value: &str| {
        Error::usage(
            format!("SOURCE_DATE_EPOCH={value:?} is not a number of seconds"),
            "unset it, or set it to a Unix timestamp such as 1767225600",
        )
    };
    let timestamp = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => {
            let seconds: i64 = value.trim().parse().map_err(|_| bad(&value))?;
            jiff::Timestamp::from_second(seconds).map_err(|_| bad(&value))?
        }
        Err(_) => jiff::Timestamp::now(),
    };
    Ok(timestamp
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string())
}
