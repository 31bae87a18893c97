//! `k8s-advisor assess`: the scored verdict. Exits 0 whatever the verdict.

use super::{Context, Settings, print};
use crate::assess::assess;
use crate::cli::{AssessArgs, ReportFormat};
use crate::diagnostic::Error;
use crate::graph::ServiceGraph;
use crate::report;

pub fn run(opts: &Settings, args: &AssessArgs) -> Result<u8, Error> {
    let ctx = Context::load(opts)?;
    let graph = ServiceGraph::build(&ctx.workspace);
    let verdict = assess(&graph, &ctx.policy);
    let text = match args.format {
        ReportFormat::Text => report::assess::text(&verdict, opts.paint()),
        ReportFormat::Json => report::assess::json(&verdict),
        ReportFormat::Markdown => report::assess::markdown(&verdict),
    };
    print(&text)?;
    Ok(0)
}
