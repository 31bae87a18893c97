//! Analyse stage of `rollout`: every step proven with the `verify` engine before anything is
//! written. Each step's manifests — the generated workloads, stand-ins for the DNS servers and
//! the gateway the policies name, and the step's policies — are read back as `verify` reads
//! files, and:
//!
//! - everything the final layout allows, the step allows too (the final layout allows exactly
//!   the declared calls, DNS, exposure and egress: so no declared traffic is blocked);
//! - with flows, every observed call is listed with the step that first blocks it;
//! - on models of up to [`PAIRWISE_LIMIT`] workloads, nothing the step allows was closed by an
//!   earlier step (narrowing is monotone), and what it closes is listed;
//! - the last step's policies are byte for byte the ones `generate` writes.
//!
//! A failed proof of declared traffic is a bug of the planner, reported as an internal error.
//! Pure: no I/O.

use super::{Step, policies};
use crate::diagnostic::Error;
use crate::flows::check;
use crate::flows::observe::{Key, Observations, Seen};
use crate::generate;
use crate::graph::ServiceGraph;
use crate::model::{DnsTarget, Workspace};
use crate::verify::engine::{Analysis, Direction};
use crate::verify::manifest::Manifests;
use crate::verify::read::read_text;
use crate::verify::sets::{AddrSet, PortSet};

/// Up to this many workloads, narrowing is checked pair by pair and the connections each step
/// closes are listed; above it that would take time quadratic in the workloads.
pub const PAIRWISE_LIMIT: usize = 500;

/// What the proof of one step found.
#[derive(Debug, Clone, Default)]
pub struct Proof {
    /// Connections between workloads that this step closes, as `from -> to : ports`; `None`
    /// when the model is too large to list them.
    pub closes: Option<Vec<String>>,
    /// Workloads that this step closes to or from outside addresses (beyond what the final
    /// layout keeps), as `workload direction`.
    pub closes_external: Option<Vec<String>>,
    /// Observed calls this step blocks, described.
    pub cuts: Vec<String>,
}

/// The policies of every namespace in a step, as one YAML text.
pub fn step_policies(ws: &Workspace, graph: &ServiceGraph<'_>, step: &Step) -> String {
    let mut text = String::new();
    for namespace in ws.namespaces.values() {
        let specs = policies::namespace_policies(ws, graph, &namespace.name, &step.state);
        if specs.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push_str("---\n");
        }
        text.push_str(&generate::policies_doc(ws, namespace, &specs));
    }
    text
}

/// Stand-in workloads for the pods outside the workspace that policies name: the DNS servers
/// and the gateway, each listening on the ports the policies allow to it.
fn stand_ins(ws: &Workspace) -> String {
    let mut docs = Vec::new();
    let mut roles: Vec<&str> = Vec::new();
    let mut add = |role: &'static str,
                   namespace: &str,
                   labels: &[(String, String)],
                   ports: &[u16]| {
        // Named for what they stand for, as the runbook lists what a step closes.
        let n = roles.iter().filter(|r| **r == role).count();
        roles.push(role);
        let name = if n == 0 {
            role.to_string()
        } else {
            format!("{role}-{n}")
        };
        let labels: String = labels
            .iter()
            .map(|(k, v)| format!("        {k:?}: {v:?}\n"))
            .collect();
        let ports: String = ports
            .iter()
            .flat_map(|p| {
                ["UDP", "TCP"].map(|proto| {
                    format!("            - containerPort: {p}\n              protocol: {proto}\n")
                })
            })
            .collect();
        docs.push(format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {namespace:?}\nspec:\n  selector:\n    matchLabels:\n{selector}  template:\n    metadata:\n      labels:\n{labels}    spec:\n      containers:\n        - name: c\n          ports:\n{ports}",
            selector = labels.replace("        ", "      "),
        ));
    };
    for rule in &ws.project.dns.rules {
        for target in &rule.targets {
            if let DnsTarget::Pods { namespace, labels } = target {
                add("dns-pods", namespace, labels.as_slice(), &rule.ports);
            }
        }
    }
    if let Some(g) = &ws.project.gateway {
        // Its own ports do not matter: it only opens connections.
        add(
            "gateway-pods",
            &g.pod_namespace,
            g.pod_labels.as_slice(),
            &[80],
        );
    }
    docs.join("---\n")
}

/// The manifests of the generated layout without its NetworkPolicies, with the stand-ins.
pub fn base(ws: &Workspace) -> Result<Manifests, Error> {
    let layout = crate::diff::connectivity::layout_text(ws);
    let mut text = String::with_capacity(layout.len());
    for doc in layout.split("---\n") {
        if doc.trim().is_empty() || doc.lines().any(|l| l == "kind: NetworkPolicy") {
            continue;
        }
        text.push_str("---\n");
        text.push_str(doc);
    }
    let stand_ins = stand_ins(ws);
    if !stand_ins.is_empty() {
        text.push_str("---\n");
        text.push_str(&stand_ins);
    }
    read_text("the rollout's workloads", &text).map_err(|e| Error::Internal {
        message: format!("the generated workloads do not read back: {e}"),
    })
}

/// `base` with the policies of `text`.
fn with_policies(base: &Manifests, text: &str, name: &str) -> Result<Manifests, Error> {
    let policies = read_text(name, text).map_err(|e| Error::Internal {
        message: format!("the policies of {name} do not read back: {e}"),
    })?;
    let mut m = base.clone();
    m.policies = policies.policies;
    for (ns, labels) in policies.namespaces {
        m.namespaces.entry(ns).or_insert(labels);
    }
    Ok(m)
}

/// True when `step` allows everything `fin` (the final layout) allows.
fn covers_final(step: &Analysis<'_>, fin: &Analysis<'_>) -> Vec<String> {
    let m = fin.manifests();
    let mut missing = Vec::new();
    for (from, to, ports) in fin.connections() {
        let allowed = step.allowed(from, to);
        if !allowed.contains_all(ports) {
            missing.push(format!(
                "{} -> {} on {}",
                m.workloads[from].id(),
                m.workloads[to].id(),
                ports.difference(&allowed)
            ));
        }
    }
    for w in 0..m.workloads.len() {
        for direction in [Direction::Ingress, Direction::Egress] {
            if !covers_pieces(&step.external(w, direction), &fin.external(w, direction)) {
                missing.push(format!(
                    "{} {} with outside addresses",
                    m.workloads[w].id(),
                    direction.as_str()
                ));
            }
        }
    }
    missing
}

/// What `cur` allows between workloads beyond `prev` (should be nothing), and what `prev`
/// allowed that `cur` no longer does.
fn pairwise(prev: &Analysis<'_>, cur: &Analysis<'_>) -> (Vec<String>, Vec<String>) {
    let m = cur.manifests();
    let (mut wider, mut closed) = (Vec::new(), Vec::new());
    for from in 0..m.workloads.len() {
        for to in 0..m.workloads.len() {
            if from == to {
                continue;
            }
            let (before, after) = (prev.allowed(from, to), cur.allowed(from, to));
            let line = |ports: &PortSet| {
                format!(
                    "{} -> {} : {ports}",
                    m.workloads[from].id(),
                    m.workloads[to].id()
                )
            };
            let more = after.difference(&before);
            if !more.is_empty() {
                wider.push(line(&more));
            }
            let less = before.difference(&after);
            if !less.is_empty() {
                closed.push(line(&less));
            }
        }
    }
    (wider, closed)
}

/// Workloads whose traffic with outside addresses in a direction `cur` narrows, and whether
/// any widened.
fn external_changes(prev: &Analysis<'_>, cur: &Analysis<'_>) -> (Vec<String>, Vec<String>) {
    let m = cur.manifests();
    let (mut wider, mut closed) = (Vec::new(), Vec::new());
    for w in 0..m.workloads.len() {
        for direction in [Direction::Ingress, Direction::Egress] {
            let (a, b) = (prev.external(w, direction), cur.external(w, direction));
            if a != b {
                let name = format!("{} {}", m.workloads[w].id(), direction.as_str());
                if covers_pieces(&a, &b) {
                    closed.push(name);
                } else {
                    wider.push(name);
                }
            }
        }
    }
    (wider, closed)
}

type Pieces = Vec<(crate::model::Protocol, PortSet, AddrSet)>;

/// True when every (address, port) of `inner` is in `outer` (both canonical pieces, which
/// partition the addresses by their full port set: the pieces of `outer` whose ports include
/// those of a piece of `inner` must cover its addresses).
fn covers_pieces(outer: &Pieces, inner: &Pieces) -> bool {
    inner.iter().all(|(protocol, ports, addrs)| {
        let mut covered = AddrSet::none();
        for (p, o_ports, o_addrs) in outer {
            if p == protocol && o_ports.contains_all(ports) {
                covered.union_with(o_addrs);
            }
        }
        covered.contains_all(addrs)
    })
}

/// Proves every step; `observed` are the flows, mapped onto `base`'s workloads.
pub fn prove(
    ws: &Workspace,
    steps: &[Step],
    base: &Manifests,
    observed: Option<&Observations>,
) -> Result<Vec<Proof>, Error> {
    let graph = ServiceGraph::build(ws);
    let last = steps.last().ok_or_else(|| Error::Internal {
        message: "a rollout without steps".to_string(),
    })?;
    // The last step's policies are the generated ones, byte for byte.
    let final_text = step_policies(ws, &graph, last);
    let generated: Vec<String> = generate::generate(ws)
        .into_iter()
        .filter(|f| f.path.ends_with("network-policies.yaml"))
        .map(|f| f.contents)
        .collect();
    let mut final_docs = Vec::new();
    for namespace in ws.namespaces.values() {
        let specs = policies::namespace_policies(ws, &graph, &namespace.name, &last.state);
        final_docs.push(generate::stamp::stamp(
            &ws.project.name,
            &generate::policies_doc(ws, namespace, &specs),
        ));
    }
    if final_docs != generated {
        return Err(Error::Internal {
            message: "the last step of the rollout differs from the generated policies".to_string(),
        });
    }
    let fin_m = with_policies(base, &final_text, "the final layout")?;
    let fin = Analysis::new(&fin_m);
    let pairwise_ok = base.workloads.len() <= PAIRWISE_LIMIT;
    let calls: Vec<(&Key, &Seen)> = observed.map(|o| o.sorted_calls()).unwrap_or_default();
    let mut proofs = Vec::with_capacity(steps.len());
    let mut prev: Option<Manifests> = None;
    let mut was_blocked = vec![false; calls.len()];
    for step in steps {
        let text = step_policies(ws, &graph, step);
        let m = with_policies(base, &text, &step.folder)?;
        let analysis = Analysis::new(&m);
        let missing = covers_final(&analysis, &fin);
        if !missing.is_empty() {
            return Err(Error::Internal {
                message: format!(
                    "rollout step {} blocks declared traffic: {}",
                    step.folder,
                    crate::text::list(missing, 4)
                ),
            });
        }
        // Observed calls this step is the first to block.
        let blocked: Vec<bool> = calls
            .iter()
            .map(|(key, _)| check::blocked(&analysis, key) == Some(true))
            .collect();
        let mut proof = Proof {
            cuts: calls
                .iter()
                .zip(&blocked)
                .zip(&was_blocked)
                .filter(|((_, now), before)| **now && !**before)
                .map(|(((key, seen), _), _)| check::describe(ws, key, seen))
                .collect(),
            ..Proof::default()
        };
        was_blocked = blocked;
        if pairwise_ok && let Some(prev_m) = &prev {
            let before = Analysis::new(prev_m);
            let (mut wider, closed) = pairwise(&before, &analysis);
            let (wider_ext, closed_ext) = external_changes(&before, &analysis);
            wider.extend(wider_ext);
            if !wider.is_empty() {
                return Err(Error::Internal {
                    message: format!(
                        "rollout step {} allows what an earlier step closed: {}",
                        step.folder,
                        crate::text::list(wider, 4)
                    ),
                });
            }
            proof.closes = Some(closed);
            proof.closes_external = Some(closed_ext);
        }
        proofs.push(proof);
        prev = Some(m);
    }
    Ok(proofs)
}
