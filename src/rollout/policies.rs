//! Render stage of `rollout`: the NetworkPolicies of one namespace after a step, as the halves
//! of the generated ones (`generate::policy::namespace_policies`) that the isolated units need.
//!
//! Per namespace: `default-deny` in the directions the namespace is isolated in; `cluster-dns`
//! once its egress is; per service, its `allow-<service>` with the ingress rules when the
//! service is isolated for ingress and the egress rules when it is for egress. A service
//! isolated before its namespace (`--by service`) gets the isolation itself: its policy names
//! the direction even without rules, and carries the DNS rules with its egress. When
//! everything is isolated this is exactly the generated list, so the last step equals
//! `generate`'s layout. Pure.

use crate::generate::policy::{self, NetworkPolicySpec, PolicyTypes};
use crate::graph::ServiceGraph;
use crate::model::Workspace;

use super::State;

/// The policies of `namespace` in `state`, in the order `generate` writes them.
pub fn namespace_policies(
    ws: &Workspace,
    graph: &ServiceGraph<'_>,
    namespace: &str,
    state: &State,
) -> Vec<NetworkPolicySpec> {
    let ns_in = state.namespaces_ingress.contains(namespace);
    let ns_out = state.namespaces_egress.contains(namespace);
    let generated = policy::namespace_policies(ws, namespace, graph);
    let dns_rules: Vec<policy::Rule> = generated
        .iter()
        .find(|p| p.name == "cluster-dns")
        .map(|p| p.egress.clone())
        .unwrap_or_default();
    let mut out = Vec::new();
    for spec in &generated {
        match (spec.name.as_str(), &spec.app) {
            ("default-deny", None) => {
                if let Some(t) = PolicyTypes::of(ns_in, ns_out) {
                    let mut spec = spec.clone();
                    if t != PolicyTypes::Both {
                        spec.comment = format!(
                            "Deny all {} of every pod in the namespace; the policies below allow only the declared traffic ({} is isolated in a later step of the rollout)",
                            if ns_in { "ingress" } else { "egress" },
                            if ns_in { "egress" } else { "ingress" },
                        );
                    }
                    spec.policy_types = t;
                    out.push(spec);
                }
            }
            ("cluster-dns", None) if ns_out => out.push(spec.clone()),
            _ => {}
        }
    }
    for service in ws.services_in(namespace) {
        let index = ws
            .services
            .binary_search_by(|s| s.id.cmp(&service.id))
            .unwrap_or(usize::MAX);
        let s_in = state.ingress.contains(&index) || ns_in;
        let s_out = state.egress.contains(&index) || ns_out;
        let name = format!("allow-{}", service.id.name);
        let spec = generated.iter().find(|p| p.name == name);
        let ingress = if s_in {
            spec.map(|p| p.ingress.clone()).unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut egress = if s_out {
            spec.map(|p| p.egress.clone()).unwrap_or_default()
        } else {
            Vec::new()
        };
        // Isolated before its namespace: the service names the direction itself.
        let own_in = s_in && !ns_in;
        let own_out = s_out && !ns_out;
        if own_out {
            egress.extend(dns_rules.iter().cloned());
        }
        let Some(t) = PolicyTypes::of(!ingress.is_empty() || own_in, !egress.is_empty() || own_out)
        else {
            continue;
        };
        let comment = match spec {
            Some(p) if !own_in && !own_out => p.comment.clone(),
            _ => format!(
                "Isolates {} for {} ahead of its namespace, and allows only its declared traffic{}",
                service.id,
                match (own_in, own_out) {
                    (true, true) => "ingress and egress",
                    (true, false) => "ingress",
                    _ => "egress",
                },
                if own_out { " and cluster DNS" } else { "" }
            ),
        };
        out.push(NetworkPolicySpec {
            name,
            comment,
            app: Some(service.id.name.clone()),
            policy_types: t,
            ingress,
            egress,
        });
    }
    out
}
