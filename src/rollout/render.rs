//! Render stage of `rollout`: the overlays under `<out>/rollout/` and the runbook
//! `docs/rollout.md`. Pure: returns the files' paths and contents.
//!
//! `base/` is the generated layout with its NetworkPolicies deleted (a kustomize patch on
//! every NetworkPolicy of the namespace folders); each step is `../base` plus its own
//! `network-policies.yaml`, and the last step is the generated layout itself (the namespace
//! folders, as the layout's root lists them). Every file a step lists lives in
//! its own folder or is a folder, so kustomize's default load restrictions hold.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::PathBuf;

use super::prove::{Proof, step_policies};
use super::{By, Side, Step, Unit, policies};
use crate::generate::GeneratedFile;
use crate::generate::stamp::stamp;
use crate::graph::ServiceGraph;
use crate::model::Workspace;

/// The staged copies of the final policies for Calico, in the staging step's folder.
pub const CALICO_STAGED: &str = "calico-staged-policies.yaml";

/// The command that opens Calico Whisker, the flow log console of Calico Open Source 3.30 and
/// later, on `localhost:8081`.
const WHISKER: &str = "kubectl port-forward -n calico-system service/whisker 8081:8081";

/// Where Calico shows its flow logs.
const CALICO_WATCH: &str = "On Calico, the flow logs show each flow with the policy that allows or denies it: in Calico Whisker (Open Source 3.30 or later) at `http://localhost:8081` while the command below runs, in the web console of Calico Cloud and Enterprise.";

/// How many connections a step's section lists before "and N more".
const LISTED: usize = 12;

/// What the runbook says about the inputs.
pub struct Context<'a> {
    /// The generated layout's folder as the commands name it (`k8s`).
    pub out: &'a str,
    /// `namespace` or `service`.
    pub by: By,
    /// The flow files held against the steps, as shown.
    pub flows: Vec<String>,
}

fn kustomization(
    ws: &Workspace,
    comment: &str,
    resources: &[&str],
    delete_policies: bool,
) -> String {
    let mut body = format!(
        "# {comment}\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
    );
    for r in resources {
        let _ = writeln!(body, "  - {r}");
    }
    if delete_policies {
        body.push_str(
            "patches:\n  - target:\n      group: networking.k8s.io\n      version: v1\n      kind: NetworkPolicy\n    patch: |-\n      $patch: delete\n      apiVersion: networking.k8s.io/v1\n      kind: NetworkPolicy\n      metadata:\n        name: any\n",
        );
    }
    stamp(&ws.project.name, &body)
}

/// The step's title: `Step 3: ingress of namespace shop`.
fn title(ws: &Workspace, step: &Step) -> String {
    match &step.change {
        None => format!("Step {}: stage, enforce nothing", step.number),
        Some((side, unit)) => format!(
            "Step {}: {} of {}",
            step.number,
            side.as_str(),
            unit.describe(ws)
        ),
    }
}

/// (namespace, policy name) of every policy of a step.
fn policy_names(
    ws: &Workspace,
    graph: &ServiceGraph<'_>,
    step: &Step,
) -> BTreeSet<(String, String)> {
    ws.namespaces
        .keys()
        .flat_map(|ns| {
            policies::namespace_policies(ws, graph, ns, &step.state)
                .into_iter()
                .map(move |p| (ns.clone(), p.name))
        })
        .collect()
}

/// The overlay files, relative to `<out>/rollout/`.
pub fn files(ws: &Workspace, steps: &[Step]) -> Vec<GeneratedFile> {
    let graph = ServiceGraph::build(ws);
    // Every namespace folder of the layout, as its root kustomization lists them: kustomize
    // refuses a folder that contains the kustomization that names it (`../..`).
    let namespaces: Vec<String> = ws
        .namespaces
        .keys()
        .map(|ns| format!("../../{ns}"))
        .collect();
    let namespaces: Vec<&str> = namespaces.iter().map(String::as_str).collect();
    let mut files = vec![GeneratedFile {
        path: PathBuf::from("base/kustomization.yaml"),
        contents: kustomization(
            ws,
            "The generated layout without its NetworkPolicies: each step of the rollout adds its own",
            &namespaces,
            true,
        ),
    }];
    let last = steps.len().saturating_sub(1);
    for (i, step) in steps.iter().enumerate() {
        let dir = PathBuf::from(&step.folder);
        let comment = title(ws, step);
        if i == last && i > 0 {
            files.push(GeneratedFile {
                path: dir.join("kustomization.yaml"),
                contents: kustomization(
                    ws,
                    &format!("{comment}: the generated layout itself"),
                    &namespaces,
                    false,
                ),
            });
            continue;
        }
        let policies = step_policies(ws, &graph, step);
        if policies.is_empty() {
            files.push(GeneratedFile {
                path: dir.join("kustomization.yaml"),
                contents: kustomization(ws, &comment, &["../base"], false),
            });
        } else {
            files.push(GeneratedFile {
                path: dir.join("kustomization.yaml"),
                contents: kustomization(ws, &comment, &["../base", "network-policies.yaml"], false),
            });
            files.push(GeneratedFile {
                path: dir.join("network-policies.yaml"),
                contents: stamp(&ws.project.name, &policies),
            });
        }
        if step.number == 0
            && let Some(last_step) = steps.last()
        {
            let staged = step_policies(ws, &graph, last_step).replace(
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n",
                "apiVersion: projectcalico.org/v3\nkind: StagedKubernetesNetworkPolicy\n",
            );
            files.push(GeneratedFile {
                path: dir.join(CALICO_STAGED),
                contents: stamp(
                    &ws.project.name,
                    &format!(
                        "# Calico only: the final NetworkPolicies as staged policies, which Calico evaluates and reports\n# without enforcing. Not part of the overlay: `kubectl apply -f` this file by hand.\n{staged}"
                    ),
                ),
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

fn wrap(text: &str) -> String {
    let mut out = textwrap::fill(text, 78);
    out.push('\n');
    out
}

fn watch(ws: &Workspace, unit: &Unit, side: Side) -> String {
    let (flag, target) = match unit {
        Unit::Namespace(ns) => ("--namespace", ns.clone()),
        Unit::Service(i) => ("--pod", ws.services[*i].id.to_string()),
    };
    let dir = match side {
        Side::Ingress => "--to-",
        Side::Egress => "--from-",
    };
    let flag = flag.trim_start_matches("--");
    format!("hubble observe --verdict DROPPED {dir}{flag} {target} --follow")
}

/// The runbook.
pub fn runbook(ws: &Workspace, steps: &[Step], proofs: &[Proof], cx: &Context<'_>) -> String {
    let graph = ServiceGraph::build(ws);
    let dir = format!("{}/rollout", cx.out);
    let calls: usize = ws.services.iter().map(|s| s.calls.len()).sum();
    let mut md = format!("# Default-deny rollout of {}\n\n", ws.project.name);
    md.push_str(&wrap(&format!(
        "Written by `k8s-advisor rollout --by {}` from the workspace file: edit the workspace and run it again rather than this file. The generated layout in `{}/` isolates every pod at once; these steps reach the same end one {} at a time, so that traffic nobody declared shows up as drops in one place before the next step.",
        match cx.by {
            By::Namespace => "namespace",
            By::Service => "service",
        },
        cx.out,
        match cx.by {
            By::Namespace => "namespace",
            By::Service => "service",
        },
    )));
    md.push('\n');
    md.push_str(&wrap(&format!(
        "Every step below was checked with the engine of `k8s-advisor verify` before this file was written: all {calls} declared calls, cluster DNS, the exposure and the egress the workspace declares stay allowed in every step; no step allows what an earlier one closed; the last step is exactly `{}/`. Apply the steps in order, and wait at each for the traffic it would cut to show up.",
        cx.out
    )));
    if !cx.flows.is_empty() {
        md.push('\n');
        md.push_str(&wrap(&format!(
            "The observed flows in {} were held against every step too.",
            cx.flows
                .iter()
                .map(|f| crate::filters::markdown_inline(f))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    md.push_str("\n## Steps\n\n| step | isolates | overlay |\n| --- | --- | --- |\n");
    for step in steps {
        let what = match &step.change {
            None => "nothing: staging".to_string(),
            Some((side, unit)) => format!("{} of {}", side.as_str(), unit.describe(ws)),
        };
        let _ = writeln!(md, "| {} | {what} | `{dir}/{}` |", step.number, step.folder);
    }
    let mut prev_names: BTreeSet<(String, String)> = BTreeSet::new();
    for (i, (step, proof)) in steps.iter().zip(proofs).enumerate() {
        let _ = write!(md, "\n## {}\n\n", title(ws, step));
        let names = policy_names(ws, &graph, step);
        if step.change.is_none() {
            md.push_str(&wrap(
                "Deploy the workloads without any NetworkPolicy: nothing is enforced yet.",
            ));
            let _ = write!(
                md,
                "\n```sh\nkubectl apply -k {dir}/{}\n```\n\n",
                step.folder
            );
            md.push_str(&wrap(
                "On Calico (Open Source 3.30 or later, Cloud or Enterprise), stage the final policies: Calico evaluates staged policies and shows what they would deny in its flow logs without denying anything.",
            ));
            let _ = write!(
                md,
                "\n```sh\nkubectl apply -f {dir}/{}/{CALICO_STAGED}\n```\n\n",
                step.folder
            );
            md.push_str(&wrap(CALICO_WATCH));
            let _ = write!(md, "\n```sh\n{WHISKER}\n```\n\n");
            md.push_str(&wrap(
                "Once no flow the staged policies would deny is left, remove them before the next step:",
            ));
            let _ = write!(
                md,
                "\n```sh\nkubectl delete -f {dir}/{}/{CALICO_STAGED}\n```\n\n",
                step.folder
            );
            md.push_str(&wrap(
                "On Cilium, policy audit mode does the same for real policies: with audit mode on (Helm value `policyAuditMode=true`), apply the final layout and watch for flows Cilium would have dropped; with no such flow left for long enough, turn audit mode off and the layout is enforced in one go.",
            ));
            let _ = write!(
                md,
                "\n```sh\nkubectl apply -k {}\nhubble observe --verdict AUDIT --follow\n```\n",
                cx.out
            );
            prev_names = names;
            continue;
        }
        let Some((side, unit)) = &step.change else {
            continue;
        };
        let _ = write!(md, "```sh\nkubectl apply -k {dir}/{}\n```\n\n", step.folder);
        match (&proof.closes, &proof.closes_external) {
            (Some(closes), Some(external)) => {
                let mut lines: Vec<String> = closes.clone();
                lines.extend(
                    external
                        .iter()
                        .map(|e| format!("{e} with outside addresses")),
                );
                if lines.is_empty() {
                    md.push_str(&wrap("It closes nothing that the step before allowed."));
                } else {
                    md.push_str(&wrap(&format!(
                        "It closes {} that the step before allowed, none of them declared:",
                        crate::text::count(lines.len(), "connection", "connections")
                    )));
                    md.push_str("\n```text\n");
                    for l in lines.iter().take(LISTED) {
                        let _ = writeln!(md, "{l}");
                    }
                    if lines.len() > LISTED {
                        let _ = writeln!(md, "and {} more", lines.len() - LISTED);
                    }
                    md.push_str("```\n");
                }
            }
            _ => md.push_str(&wrap(&format!(
                "It closes all {} traffic of {} that the workspace does not declare.",
                side.as_str(),
                unit.describe(ws)
            ))),
        }
        if !cx.flows.is_empty() {
            md.push('\n');
            if proof.cuts.is_empty() {
                md.push_str(&wrap("No observed flow is cut by this step."));
            } else {
                md.push_str(&wrap(&format!(
                    "**It cuts {} that the flows show**: declare them in the workspace and run `k8s-advisor rollout` again, or make sure they are not needed, before applying it:",
                    crate::text::count(proof.cuts.len(), "call", "calls")
                )));
                // A code block: the names come from the flows, and nothing in it is markup.
                md.push_str("\n```text\n");
                for c in &proof.cuts {
                    let _ = writeln!(md, "{}", crate::text::clean(c).replace('`', "'"));
                }
                md.push_str("```\n");
            }
        }
        md.push('\n');
        md.push_str(&wrap("Watch what it drops. On Cilium, with Hubble:"));
        let _ = write!(md, "\n```sh\n{}\n```\n\n", watch(ws, unit, *side));
        md.push_str(&wrap(&format!(
            "{CALICO_WATCH} Look for the denied flows of {}:",
            unit.describe(ws)
        )));
        let _ = write!(md, "\n```sh\n{WHISKER}\n```\n\n");
        md.push_str(&wrap(
            "Roll back: apply the step before and delete the policies this step added.",
        ));
        let previous = &steps[i - 1];
        let _ = write!(md, "\n```sh\nkubectl apply -k {dir}/{}\n", previous.folder);
        for (ns, name) in names.difference(&prev_names) {
            let _ = writeln!(md, "kubectl -n {ns} delete networkpolicy {name}");
        }
        md.push_str("```\n");
        prev_names = names;
    }
    md
}
