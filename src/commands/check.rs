//! `k8s-advisor check`: the guardrail report. Exits 1 when an error-level finding remains.

use super::{Context, current_dir, print};
use crate::check::{Guardrails, check};
use crate::cli::{CheckArgs, CheckFormat, Cli};
use crate::diagnostic::Error;
use crate::graph::ServiceGraph;
use crate::report;

pub fn run(cli: &Cli, args: &CheckArgs) -> Result<u8, Error> {
    let ctx = Context::load(cli)?;
    let guardrails = Guardrails::load(cli.policies.as_deref())?;
    let graph = ServiceGraph::build(&ctx.workspace);
    let outcome = check(&graph, &guardrails);
    let path = ctx.workspace.source.path();
    let file = path.display().to_string();
    let text = match args.format {
        CheckFormat::Text => report::check::text(&outcome, &file, super::paint(cli.color, true)),
        CheckFormat::Json => report::check::json(&outcome, &file),
        CheckFormat::Sarif => report::check::sarif(
            &outcome,
            &report::check::artifact_uri(path, &current_dir()?),
        ),
    };
    print(&text)?;
    Ok(u8::from(outcome.has_errors()))
}
