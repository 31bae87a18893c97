//! `k8s-advisor rollout`: plans default-deny in steps, proves every step with the `verify`
//! engine (and against observed flows, given `--flows`), then writes the overlays under
//! `<out>/rollout/` and the runbook `docs/rollout.md`, all or nothing. Exits 1 when a step
//! would cut an observed call.

use std::path::{Path, PathBuf};

use super::{Context, Settings, print};
use crate::cli::{RolloutArgs, RolloutBy};
use crate::diagnostic::Error;
use crate::files::{Place, Unreadable};
use crate::generate::{self, stamp};
use crate::layout::{self, Kind, Write};
use crate::rollout::{self, By, prove, render};
use crate::text::shown;

/// The runbook's name in the `docs` folder beside the workspace file.
const RUNBOOK: &str = "rollout.md";

/// The last line of the runbook: its checksum, so that a person's edits are not lost.
const CHECKSUM: &str = "<!-- k8s-advisor rollout checksum: xxh3:";

fn runbook_text(body: &str) -> String {
    format!(
        "{body}\n{CHECKSUM}{} -->\n",
        stamp::checksum(body.as_bytes())
    )
}

/// True when `bytes` is a runbook we wrote, unedited.
fn intact(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some(at) = text.rfind(&format!("\n{CHECKSUM}")) else {
        return false;
    };
    let (body, tail) = text.split_at(at);
    tail.trim_end() == format!("\n{CHECKSUM}{} -->", stamp::checksum(body.as_bytes())).trim_end()
}

pub fn run(opts: &Settings, args: &RolloutArgs) -> Result<u8, Error> {
    let ctx = Context::load(opts)?;
    let ws = &ctx.workspace;
    if ws.namespaces.contains_key("rollout") {
        return Err(Error::usage(
            "the workspace has a namespace named `rollout`, whose folder is where the rollout's overlays would go",
            "rename the namespace in the workspace",
        ));
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| ctx.root.join(generate::DEFAULT_OUT));
    let by = match args.by {
        RolloutBy::Namespace => By::Namespace,
        RolloutBy::Service => By::Service,
    };
    let steps = rollout::plan(ws, by);
    let base = prove::base(ws)?;
    let (observed, flow_files) = if args.flows.is_empty() {
        (None, Vec::new())
    } else {
        let (reading, obs, files) =
            super::observe_flows(&args.flows, args.skip_bad, ws, Some(&base))?;
        if !opts.quiet {
            eprint!("{}", crate::flows::render::summary(&reading, &obs, &files));
        }
        (Some(obs), files)
    };
    let proofs = prove::prove(ws, &steps, &base, observed.as_ref())?;
    let out_shown = out
        .strip_prefix(&ctx.root)
        .unwrap_or(&out)
        .display()
        .to_string();
    let cx = render::Context {
        out: &out_shown,
        by,
        flows: flow_files.iter().map(|p| shown(p)).collect(),
    };
    let doc = runbook_text(&render::runbook(ws, &steps, &proofs, &cx));
    let files = render::files(ws, &steps);
    let mut plan = layout::plan_manifests(
        &ctx.root,
        &out.join("rollout"),
        &ws.project.name,
        files,
        &[],
    )?;
    plan_runbook(&mut plan, &ctx.root, doc)?;
    let applied = layout::apply(&plan, args.force)?;
    let cut: Vec<(&str, &String)> = steps
        .iter()
        .zip(&proofs)
        .flat_map(|(s, p)| p.cuts.iter().map(move |c| (s.folder.as_str(), c)))
        .collect();
    if !opts.quiet {
        let mut text = format!(
            "{}: {} steps, {} files written, {} stale removed\n",
            shown(&out.join("rollout")),
            steps.len(),
            applied.written.len(),
            applied.removed.len()
        );
        for (folder, c) in &cut {
            text.push_str(&format!(
                "error: step {folder} cuts an observed call: {}\n",
                crate::text::clean(c)
            ));
        }
        print(&text)?;
    }
    Ok(u8::from(!cut.is_empty()))
}

/// Adds `docs/rollout.md` to the plan: written when missing or ours, else an edited file.
fn plan_runbook(plan: &mut layout::Plan, root: &Path, doc: String) -> Result<(), Error> {
    let docs = root.join("docs");
    let place = Place::new(&docs, root)?;
    let path = docs.join(RUNBOOK);
    let old = match place.open(Path::new(""))? {
        Some(folder) => {
            folder
                .read(RUNBOOK.as_ref(), false, 16 << 20)
                .map_err(|why| match why {
                    Unreadable::Io(source) => Error::Io {
                        action: "read",
                        path: path.clone(),
                        source,
                    },
                    other => other.into_error(&path, "the rollout runbook"),
                })?
        }
        None => None,
    };
    if old.as_deref() == Some(doc.as_bytes()) {
        return Ok(());
    }
    if let Some(bytes) = &old
        && !intact(bytes)
    {
        plan.edited.push((path.clone(), Kind::Record));
    }
    plan.records_place = Some(place);
    plan.writes.push(Write {
        path,
        rel: PathBuf::from(RUNBOOK),
        old: old.map(|b| String::from_utf8_lossy(&b).into_owned()),
        new: doc.into_bytes(),
        kind: Kind::Record,
    });
    Ok(())
}
