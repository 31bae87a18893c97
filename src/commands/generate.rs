//! `k8s-advisor generate`: renders the layout, the decision record and the architecture
//! overview, plans them against the disk with `layout`, then applies the plan or (with
//! `--check`) prints it as a diff.

use super::{Context, Settings, print};
use crate::architecture;
use crate::assess::Verdict;
use crate::cli::GenerateArgs;
use crate::diagnostic::Error;
use crate::generate;
use crate::graph::ServiceGraph;
use crate::layout;
use crate::text::shown;

/// Runs `generate`.
pub fn run(opts: &Settings, args: &GenerateArgs) -> Result<u8, Error> {
    let ctx = Context::load(opts)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| ctx.root.join(generate::DEFAULT_OUT));
    let generate::Layout { files, policies } = generate::layout(&ctx.workspace);
    // Loaded before anything is written, so that a bad guardrails.toml stops the run first.
    let guardrails = crate::check::Guardrails::load(opts.policies.as_deref())?;
    let mut plan = layout::plan_manifests(
        &ctx.root,
        &out,
        &ctx.workspace.project.name,
        files,
        &generate::user_files(&ctx.workspace),
    )?;
    let graph = ServiceGraph::build(&ctx.workspace);
    let verdict = crate::assess::assess(&graph, &ctx.policy);
    // Once for the record and the overview.
    let findings = graph.findings(&ctx.policy.graph);
    if !args.no_record {
        // The record lists the files as a reader of the repository sees them: relative to the
        // folder of the workspace file when they are inside it.
        let generated = plan
            .manifests
            .iter()
            .map(|p| p.strip_prefix(&ctx.root).unwrap_or(p).display().to_string())
            .collect();
        super::plan_record(
            &ctx,
            &mut plan,
            args.adr_dir.as_deref(),
            generated,
            &graph,
            &verdict,
            &findings,
        )?;
    }
    if !args.no_docs {
        plan_docs(
            &ctx, &mut plan, args, &graph, &verdict, &policies, &findings,
        )?;
    }
    if args.check {
        return check(&plan, opts.quiet);
    }
    if !opts.quiet
        && let Some(warning) = crate::assess::generate_warning(&ctx.workspace, &ctx.policy)
    {
        eprint!("{warning}");
    }
    let applied = layout::apply(&plan, args.force)?;
    if !opts.quiet {
        let mut text = String::new();
        if args.verbose {
            for path in &applied.written {
                text.push_str(&format!("wrote {}\n", shown(path)));
            }
            for path in &applied.removed {
                text.push_str(&format!("removed {}\n", shown(path)));
            }
        }
        let manifests_written = plan
            .writes
            .iter()
            .filter(|w| w.kind == layout::Kind::Manifest)
            .count();
        text.push_str(&format!(
            "{}: {} files, {} written, {} unchanged, {} stale removed\n",
            shown(&out),
            plan.manifests.len(),
            manifests_written,
            plan.manifests.len() - manifests_written,
            applied.removed.len()
        ));
        text.push_str(&layout::record::summary(&plan, &applied.written));
        text.push_str(&docs_summary(&plan, &applied.written));
        print(&text)?;
    }
    if !opts.quiet
        && let Some(warning) = crate::check::remaining_errors(&ctx.workspace, &guardrails)
    {
        eprint!("{warning}");
    }
    Ok(0)
}

/// `--check`: prints a unified diff of every change and returns 1 when there is one.
fn check(plan: &layout::Plan, quiet: bool) -> Result<u8, Error> {
    if plan.is_current() {
        if !quiet {
            let mut text = format!(
                "{}: {} files up to date\n",
                shown(&plan.out),
                plan.manifests.len()
            );
            if let Some(record) = &plan.record {
                text.push_str(&format!("{}: up to date\n", shown(record)));
            }
            if let Some(index) = plan.docs.iter().min_by_key(|p| p.components().count()) {
                text.push_str(&format!("{}: up to date\n", shown(index)));
            }
            print(&text)?;
        }
        return Ok(0);
    }
    let mut text = plan.diff();
    let changed = plan.writes.len() + plan.removals.len();
    text.push_str(&format!(
        "{}: {changed} file{} out of date{}\n",
        shown(&plan.out),
        if changed == 1 { "" } else { "s" },
        if plan.edited.is_empty() {
            "; run `k8s-advisor generate` to update".to_string()
        } else {
            format!(
                " ({} edited by hand: move the edits into the workspace, or discard them \
                 with `k8s-advisor generate --force`)",
                plan.edited.len()
            )
        }
    ));
    print(&text)?;
    Ok(1)
}

/// Adds the architecture overview to `plan`, linking the decision record the plan writes (or,
/// with `--no-record`, the one already in the record folder).
fn plan_docs(
    ctx: &super::Context,
    plan: &mut layout::Plan,
    args: &GenerateArgs,
    graph: &ServiceGraph<'_>,
    verdict: &Verdict,
    policies: &std::collections::BTreeMap<String, Vec<generate::policy::NetworkPolicySpec>>,
    findings: &[crate::graph::Finding],
) -> Result<(), Error> {
    let index = args
        .docs
        .clone()
        .unwrap_or_else(|| ctx.root.join(architecture::DEFAULT_PATH));
    let (folder, index_name) = layout::docs::split_index(&index)?;
    let record = match (&plan.record, &plan.record_number) {
        (Some(path), Some(number)) => Some((number.clone(), path.clone())),
        _ => layout::record::current(&ctx.root, args.adr_dir.as_deref(), graph, verdict)?,
    };
    let record = match record {
        Some((number, path)) => Some(architecture::RecordLink {
            number,
            path: super::relative(&folder, &path)?,
        }),
        None => None,
    };
    let workspace_file = ctx.workspace.source.path().file_name().map_or_else(
        || "k8s-advisor.toml".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let input = architecture::Input {
        index: &index_name,
        record,
        workspace_file: &workspace_file,
        policies,
        findings,
    };
    let pages = architecture::render(graph, verdict, &input);
    layout::docs::plan(plan, &ctx.root, &index, &ctx.workspace.project.name, pages)
}

/// The overview, as `apply` left it, in one line named after its index.
fn docs_summary(plan: &layout::Plan, written: &[std::path::PathBuf]) -> String {
    let Some(index) = plan.docs.iter().min_by_key(|p| p.components().count()) else {
        return String::new();
    };
    let pages = plan.docs.len();
    let changed = written.iter().filter(|p| plan.docs.contains(p)).count();
    let removed = plan
        .removals
        .iter()
        .filter(|r| r.area == layout::Area::Docs)
        .count();
    format!(
        "{}: architecture overview, {}, {changed} written, {} unchanged, {removed} stale removed\n",
        shown(index),
        crate::text::count(pages, "page", "pages"),
        pages - changed
    )
}
