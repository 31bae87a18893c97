//! `k8s-advisor record`: plans and writes only the Markdown decision record.

use std::path::{Path, PathBuf};

use super::{Context, Settings, print};
use crate::cli::RecordArgs;
use crate::diagnostic::Error;
use crate::layout;

pub fn run(opts: &Settings, args: &RecordArgs) -> Result<u8, Error> {
    let ctx = Context::load(opts)?;
    // Alone, the record lists the files `generate` writes into its default folder.
    let generated = crate::generate::generate(&ctx.workspace)
        .into_iter()
        .map(|f| Path::new(crate::generate::DEFAULT_OUT).join(f.path))
        .map(|p| p.display().to_string())
        .collect();
    let mut plan = layout::Plan {
        out: PathBuf::new(),
        ..layout::Plan::default()
    };
    let graph = crate::graph::ServiceGraph::build(&ctx.workspace);
    let verdict = crate::assess::assess(&graph, &ctx.policy);
    let findings = graph.findings(&ctx.policy.graph);
    super::plan_record(
        &ctx,
        &mut plan,
        args.adr_dir.as_deref(),
        generated,
        &graph,
        &verdict,
        &findings,
    )?;
    let applied = layout::apply(&plan, args.force)?;
    if !opts.quiet {
        print(&layout::record::summary(&plan, &applied.written))?;
    }
    Ok(0)
}
