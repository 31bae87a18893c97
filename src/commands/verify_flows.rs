//! `k8s-advisor verify --flows FILE...`: reads observed flows, holds them against the workspace
//! and, when manifest paths are given too, against those manifests (their own findings as
//! `verify` reports them, and the flows their policies drop). Exits 1 on error-level findings.

use std::path::Path;

use super::{Context, Settings, current_dir, print};
use crate::cli::{VerifyArgs, VerifyFormat};
use crate::diagnostic::Error;
use crate::flows::{check, render as flows_render};
use crate::report;
use crate::severity::Severity;
use crate::verify::compare::compare;
use crate::verify::engine::Analysis;
use crate::verify::read::{Input, Options, read_inputs};
use crate::verify::render;

pub fn run(opts: &Settings, args: &VerifyArgs, options: &Options) -> Result<u8, Error> {
    let stdin_twice = args.flows.iter().any(|p| p == Path::new("-"))
        && args.paths.iter().any(|p| p == Path::new("-"));
    if stdin_twice {
        return Err(Error::usage(
            "standard input (`-`) cannot hold both the flows and the manifests",
            "write one of them to a file",
        ));
    }
    let ctx = Context::load(opts)?;
    let manifests = if args.paths.is_empty() {
        None
    } else {
        let inputs: Vec<Input> = args.paths.iter().map(|p| Input::parse(p)).collect();
        Some(read_inputs(&inputs, &mut std::io::stdin().lock(), options)?)
    };
    let manifests = manifests.as_ref();
    if let Some(m) = manifests
        && m.workloads.is_empty()
    {
        return Err(super::verify::no_workload(m));
    }
    let (reading, obs, files) =
        super::observe_flows(&args.flows, args.skip_bad, &ctx.workspace, manifests)?;
    let analysis = manifests.map(Analysis::new);
    let mut findings = check::findings(&obs, &ctx.workspace, analysis.as_ref(), &files);
    if let Some(analysis) = &analysis {
        findings.extend(compare(analysis, &ctx.workspace)?);
        crate::verify::compare::sort(&mut findings);
    }
    let summary = flows_render::summary(&reading, &obs, &files);
    let text = match args.format {
        VerifyFormat::Text => {
            let mut text = summary.clone();
            text.push('\n');
            if findings.is_empty() {
                text.push_str("No findings: every call the flows show is declared, and every declared call was seen.\n");
            } else {
                text.push_str(&render::findings_text(&findings, opts.color_out));
            }
            text
        }
        VerifyFormat::Json => {
            eprint!("{summary}");
            render::findings_json(&findings)
        }
        VerifyFormat::Sarif => {
            eprint!("{summary}");
            let cwd = current_dir()?;
            render::findings_sarif(&findings, &|path: &Path| {
                report::check::artifact_uri(path, &cwd)
            })
        }
    };
    print(&text)?;
    Ok(u8::from(
        findings.iter().any(|f| f.severity() == Severity::Error),
    ))
}
