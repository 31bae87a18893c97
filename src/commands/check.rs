//! `k8s-advisor check`: the guardrail report. Exits 1 when an error-level finding remains.

use super::{Context, Settings, current_dir, print};
use crate::check::{Guardrails, Severity, check};
use crate::cli::{CheckArgs, CheckFormat};
use crate::diagnostic::Error;
use crate::graph::ServiceGraph;
use crate::report;

pub fn run(opts: &Settings, args: &CheckArgs) -> Result<u8, Error> {
    let ctx = Context::load(opts)?;
    let guardrails = Guardrails::load(opts.policies.as_deref())?;
    let graph = ServiceGraph::build(&ctx.workspace);
    let outcome = check(&graph, &guardrails);
    let path = ctx.workspace.source.path();
    let file = path.display().to_string();
    let text = match args.format {
        // Quiet: the errors alone, which are what fail the run.
        CheckFormat::Text if opts.quiet => {
            let mut errors = outcome.clone();
            errors.findings.retain(|f| f.severity == Severity::Error);
            if errors.findings.is_empty() {
                String::new()
            } else {
                report::check::text(&errors, &file, opts.paint())
            }
        }
        CheckFormat::Text => report::check::text(&outcome, &file, opts.paint()),
        CheckFormat::Json => report::check::json(&outcome, &file),
        CheckFormat::Sarif => report::check::sarif(
            &outcome,
            &report::check::artifact_uri(path, &current_dir()?),
        ),
    };
    print(&text)?;
    Ok(u8::from(outcome.has_errors()))
}
