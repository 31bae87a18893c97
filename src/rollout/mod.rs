//! `rollout`: default-deny in steps. The layout `generate` writes isolates every pod at once;
//! what breaks a first rollout is the traffic nobody remembered. This plans the same end state
//! as a sequence of kustomize overlays, each one narrower than the one before:
//!
//! - step 0 enforces nothing: the workloads without NetworkPolicies, and staged copies of the
//!   final policies for clusters that can stage them (Calico), so the drops can be watched
//!   before anything is dropped;
//! - then ingress isolation one unit (a namespace, or with `--by service` a service) at a time,
//!   the least-called first, with the unit's gateway and load-balancer allowances;
//! - then egress isolation one unit at a time, the one that calls least first, with its DNS
//!   allowance in the same step (an egress allowance alone would already isolate egress);
//! - the last step is exactly the generated layout.
//!
//! NetworkPolicy has no "deny last": any policy that selects a pod isolates it in the
//! directions it names. So the steps are ordered by scope, and each step's policies are the
//! halves of the generated ones that its isolated units need ([`policies`]). Every step is
//! proven with the `verify` engine before anything is written ([`prove`]): every declared call
//! (and, given flows, every observed call) still allowed, nothing wider than the step before,
//! the last equal to `generate`'s. `render` writes the overlays and `docs/rollout.md`.
//!
//! Pure: planning, policies, proof and rendering take the model and return data or text.

pub mod policies;
pub mod prove;
pub mod render;

use std::collections::BTreeSet;

use crate::model::Workspace;

/// What one step isolates at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// A namespace (a business domain).
    Namespace,
    /// A service.
    Service,
}

/// A direction of isolation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    /// What may come in.
    Ingress,
    /// What may go out.
    Egress,
}

impl Side {
    /// `ingress` or `egress`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Ingress => "ingress",
            Side::Egress => "egress",
        }
    }
}

/// Which services and namespaces are isolated in which direction after a step. A namespace is
/// isolated (its `default-deny` selects every pod in it) when its own step came (`--by
/// namespace`), or when all its services are (`--by service`; a namespace without services
/// from the first step of the direction on).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Services isolated for ingress (indices into the workspace's services).
    pub ingress: BTreeSet<usize>,
    /// Services isolated for egress.
    pub egress: BTreeSet<usize>,
    /// Namespaces isolated for ingress.
    pub namespaces_ingress: BTreeSet<String>,
    /// Namespaces isolated for egress.
    pub namespaces_egress: BTreeSet<String>,
}

/// One step of the rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 0 for the staging step.
    pub number: usize,
    /// The folder under `k8s/rollout/`: `00-stage`, `03-ingress-shop`, ...
    pub folder: String,
    /// What the step isolates: `None` for step 0.
    pub change: Option<(Side, Unit)>,
    /// The isolation in force after it.
    pub state: State,
}

/// A namespace or a service that a step isolates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit {
    /// A namespace, by name.
    Namespace(String),
    /// A service, by index.
    Service(usize),
}

impl Unit {
    /// The services of the unit.
    fn services(&self, ws: &Workspace) -> Vec<usize> {
        match self {
            Unit::Namespace(ns) => ws
                .services
                .iter()
                .enumerate()
                .filter(|(_, s)| &s.id.namespace == ns)
                .map(|(i, _)| i)
                .collect(),
            Unit::Service(i) => vec![*i],
        }
    }

    /// `namespace shop`, `service shop/cart`.
    pub fn describe(&self, ws: &Workspace) -> String {
        match self {
            Unit::Namespace(ns) => format!("namespace {ns}"),
            Unit::Service(i) => format!("service {}", ws.services[*i].id),
        }
    }

    /// A slug for the folder name.
    fn slug(&self, ws: &Workspace) -> String {
        match self {
            Unit::Namespace(ns) => ns.clone(),
            Unit::Service(i) => {
                let id = &ws.services[*i].id;
                format!("{}-{}", id.namespace, id.name)
            }
        }
    }
}

/// The steps, in order: staging, ingress per unit (least-called first), egress per unit
/// (fewest outgoing calls and egress entries first); ties in name order.
pub fn plan(ws: &Workspace, by: By) -> Vec<Step> {
    let units: Vec<Unit> = match by {
        By::Namespace => ws.namespaces.keys().cloned().map(Unit::Namespace).collect(),
        By::Service => (0..ws.services.len()).map(Unit::Service).collect(),
    };
    let mut incoming = vec![0usize; ws.services.len()];
    for caller in &ws.services {
        for call in &caller.calls {
            if let Ok(callee) = ws.services.binary_search_by(|s| s.id.cmp(&call.to)) {
                incoming[callee] += 1;
            }
        }
    }
    let weight = |unit: &Unit, side: Side| -> usize {
        unit.services(ws)
            .iter()
            .map(|&s| match side {
                Side::Ingress => incoming[s],
                Side::Egress => ws.services[s].calls.len() + ws.services[s].egress.len(),
            })
            .sum()
    };
    let total = 1 + 2 * units.len();
    let width = total.saturating_sub(1).to_string().len().max(2);
    let mut steps = vec![Step {
        number: 0,
        folder: format!("{:0width$}-stage", 0),
        change: None,
        state: State::default(),
    }];
    let mut state = State::default();
    for side in [Side::Ingress, Side::Egress] {
        let mut order: Vec<(usize, usize)> = units
            .iter()
            .enumerate()
            .map(|(i, u)| (weight(u, side), i))
            .collect();
        order.sort();
        for (_, i) in order {
            let unit = &units[i];
            let (set, namespaces) = match side {
                Side::Ingress => (&mut state.ingress, &mut state.namespaces_ingress),
                Side::Egress => (&mut state.egress, &mut state.namespaces_egress),
            };
            set.extend(unit.services(ws));
            for ns in ws.namespaces.keys() {
                let complete = match unit {
                    Unit::Namespace(n) => n == ns,
                    Unit::Service(_) => ws.services_in(ns).all(|s| {
                        set.contains(
                            &ws.services
                                .binary_search_by(|x| x.id.cmp(&s.id))
                                .unwrap_or(usize::MAX),
                        )
                    }),
                };
                if complete {
                    namespaces.insert(ns.clone());
                }
            }
            let number = steps.len();
            steps.push(Step {
                number,
                folder: format!("{number:0width$}-{}-{}", side.as_str(), unit.slug(ws)),
                change: Some((side, unit.clone())),
                state: state.clone(),
            });
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order the issue asks for, not name order: staging, then ingress of the least-called
    /// namespace first, then egress of the one that calls least first.
    #[test]
    fn steps_go_least_called_first_and_egress_last() {
        let text = r#"version = 1

[project]
name = "order"

[[services]]
name = "x"
namespace = "a"
port = 8080

[[services]]
name = "y"
namespace = "b"
port = 8080
calls = ["a/x", "c/z"]

[[services]]
name = "z"
namespace = "c"
port = 8080
calls = ["a/x"]
"#;
        let policy = crate::policy::Policy::load(None).unwrap();
        let ws = crate::workspace::parse(
            &crate::diagnostic::Source::new("k8s-advisor.toml", text.to_string()),
            &policy.criterion_ids(),
        )
        .unwrap();
        let folders: Vec<String> = plan(&ws, By::Namespace)
            .into_iter()
            .map(|s| s.folder)
            .collect();
        assert_eq!(
            folders,
            [
                "00-stage",
                "01-ingress-b",
                "02-ingress-c",
                "03-ingress-a",
                "04-egress-a",
                "05-egress-c",
                "06-egress-b",
            ]
        );
    }
}
