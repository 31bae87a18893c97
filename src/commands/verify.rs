//! `k8s-advisor verify`: read manifests, compute their connectivity, and either print it
//! (`--connectivity`) or compare it with the workspace. Exits 1 on error-level findings.

use std::path::Path;

use super::{Context, Settings, current_dir, print};
use crate::cli::{VerifyArgs, VerifyFormat};
use crate::diagnostic::Error;
use crate::report;
use crate::severity::Severity;
use crate::verify::compare::compare;
use crate::verify::engine::Analysis;
use crate::verify::manifest::Manifests;
use crate::verify::read::{Input, Options, read_inputs};
use crate::verify::render;

pub fn run(opts: &Settings, args: &VerifyArgs) -> Result<u8, Error> {
    if args.connectivity && args.format == VerifyFormat::Sarif {
        return Err(Error::usage(
            "--connectivity has no SARIF form",
            "use --format text or --format json with --connectivity",
        ));
    }
    let options = Options {
        namespace: match &args.namespace {
            Some(ns) => {
                crate::names::dns1123_label(ns).map_err(|why| {
                    Error::usage(
                        format!(
                            "-n {:?} is not a namespace name: {why}",
                            crate::text::clean(ns)
                        ),
                        "a namespace is a DNS label: lowercase letters, digits and '-'",
                    )
                })?;
                ns.clone()
            }
            None => Options::default().namespace,
        },
    };
    if !args.flows.is_empty() {
        return super::verify_flows::run(opts, args, &options);
    }
    // The workspace is needed to compare, and to find the default folder.
    let workspace_path = if args.connectivity && !args.paths.is_empty() {
        None
    } else {
        Some(Context::locate(opts)?)
    };
    let inputs: Vec<Input> = if args.paths.is_empty() {
        let root = workspace_path.as_deref().map(super::root_of);
        vec![Input::Path(root.unwrap_or_default().join("k8s"))]
    } else {
        args.paths.iter().map(|p| Input::parse(p)).collect()
    };
    // The workspace is parsed on a thread of its own while the manifests are read; its
    // error, if any, is reported first, as if it had been read first.
    let (ctx, manifests) = rayon::join(
        || {
            workspace_path
                .as_deref()
                .map(|path| Context::load_at(opts, path))
        },
        || read_inputs(&inputs, &mut std::io::stdin().lock(), &options),
    );
    let ctx = ctx.transpose()?;
    let manifests = manifests?;
    if manifests.workloads.is_empty() {
        return Err(no_workload(&manifests));
    }
    let analysis = Analysis::new(&manifests);
    let Some(ctx) = ctx.filter(|_| !args.connectivity) else {
        let text = match args.format {
            VerifyFormat::Json => {
                // The JSON contract has no place for them: say so where a person will see it.
                let skipped = render::skipped_lines(&manifests);
                if !skipped.is_empty() {
                    eprint!(
                        "warning: not read; each may allow or deny more than the JSON shows, or run pods it does not show:\n{skipped}"
                    );
                }
                render::connectivity_json(&analysis)
            }
            _ => render::connectivity_text(&analysis),
        };
        print(&text)?;
        return Ok(0);
    };
    let findings = compare(&analysis, &ctx.workspace)?;
    let text = match args.format {
        VerifyFormat::Text => render::findings_text(&findings, opts.color_out),
        VerifyFormat::Json => render::findings_json(&findings),
        VerifyFormat::Sarif => {
            let cwd = current_dir()?;
            render::findings_sarif(&findings, &|path: &Path| {
                report::check::artifact_uri(path, &cwd)
            })
        }
    };
    print(&text)?;
    let code = u8::from(findings.iter().any(|f| f.severity() == Severity::Error));
    Ok(code)
}

/// The error for manifests that hold no workload: an empty pass would say nothing was open.
pub(super) fn no_workload(m: &Manifests) -> Error {
    let mut read: Vec<String> = m
        .irrelevant
        .iter()
        .map(|(kind, n)| format!("{n} {}", crate::text::clean(kind)))
        .collect();
    if !m.policies.is_empty() {
        read.insert(0, format!("{} NetworkPolicies", m.policies.len()));
    }
    if !m.skipped.is_empty() {
        let kinds: std::collections::BTreeSet<String> = m
            .skipped
            .iter()
            .map(|s| crate::text::clean(&s.kind))
            .filter(|k| !k.is_empty())
            .collect();
        let mut what = format!("{} objects not read", m.skipped.len());
        if !kinds.is_empty() {
            what.push_str(&format!(
                " ({})",
                crate::text::list(kinds, crate::text::SHOWN)
            ));
        }
        read.push(what);
    }
    let what = if read.is_empty() {
        "no Kubernetes object at all".to_string()
    } else {
        read.join(", ")
    };
    // Where the objects not read are, so that a misread input can be found.
    let mut message =
        format!("no workload in the manifests ({what}): there is no connectivity to verify");
    let skipped = render::skipped_lines(m);
    for line in skipped.lines().take(crate::text::SHOWN) {
        message.push('\n');
        message.push_str(line);
    }
    Error::usage(
        message,
        "give the files or folders that hold the Deployments, StatefulSets, Pods ... (YAML or JSON, `-` for standard input)",
    )
}
