//! Render stage: the NetworkPolicies of one namespace, as plain data. This is where "what is
//! allowed" is decided; the templates only lay the data out as YAML.
//!
//! Structure, per namespace:
//! - `default-deny` selects every pod and denies all ingress and egress;
//! - `cluster-dns` lets every pod reach kube-system pods labelled `k8s-app: kube-dns` on 53/UDP
//!   and 53/TCP;
//! - `allow-<service>` selects `app: <service>` and holds every rule of that service: an ingress
//!   rule per caller and an egress rule per callee (each naming exactly one namespace AND one
//!   `app` label in a single peer, on the callee's container ports), ingress from CIDRs for
//!   `expose = "internal" | "public"`, and an egress rule per `egress` entry.
//!
//! NetworkPolicies only add allowances, so the union of these is exactly the declared traffic.

use std::collections::BTreeSet;

use crate::graph::ServiceGraph;
use crate::model::{Call, Expose, Port, Service, Workspace};

/// The label cluster DNS pods carry in kube-system.
pub const DNS_LABEL: (&str, &str) = ("k8s-app", "kube-dns");

/// One NetworkPolicy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPolicySpec {
    /// `metadata.name`.
    pub name: String,
    /// Why the policy exists, written above it.
    pub comment: String,
    /// The `app` label the policy selects; `None` selects every pod of the namespace.
    pub app: Option<String>,
    /// `Ingress` and/or `Egress`, always written out.
    pub policy_types: Vec<&'static str>,
    /// Ingress allow rules.
    pub ingress: Vec<Rule>,
    /// Egress allow rules.
    pub egress: Vec<Rule>,
}

/// One allow rule: traffic from (ingress) or to (egress) any of `peers` on any of `ports`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Where the rule comes from in the workspace.
    pub comment: String,
    /// The other end.
    pub peers: Vec<Peer>,
    /// Allowed destination ports; empty allows every port and protocol.
    pub ports: Vec<PolicyPort>,
}

/// The other end of a rule: an address block, or the pods with one label in one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// An `ipBlock` CIDR; when set, the other fields are unused.
    pub cidr: Option<String>,
    /// The namespace, matched on `kubernetes.io/metadata.name`.
    pub namespace: String,
    /// The pod label key.
    pub label_key: &'static str,
    /// The pod label value.
    pub label_value: String,
}

impl Peer {
    fn pods(namespace: &str, key: &'static str, value: &str) -> Self {
        Peer {
            cidr: None,
            namespace: namespace.to_string(),
            label_key: key,
            label_value: value.to_string(),
        }
    }

    fn cidr(cidr: String) -> Self {
        Peer {
            cidr: Some(cidr),
            namespace: String::new(),
            label_key: "",
            label_value: String::new(),
        }
    }
}

/// A destination port of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicyPort {
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: &'static str,
    /// The container port.
    pub port: u16,
}

/// The NetworkPolicies of `namespace`; `graph` says who calls whom.
pub fn namespace_policies(
    workspace: &Workspace,
    namespace: &str,
    graph: &ServiceGraph<'_>,
) -> Vec<NetworkPolicySpec> {
    let mut policies = vec![
        NetworkPolicySpec {
            name: "default-deny".to_string(),
            comment: "Deny all ingress and egress of every pod in the namespace; the policies below allow only the declared traffic".to_string(),
            app: None,
            policy_types: vec!["Ingress", "Egress"],
            ingress: Vec::new(),
            egress: Vec::new(),
        },
        NetworkPolicySpec {
            name: "cluster-dns".to_string(),
            comment: "Every pod may resolve names with the cluster DNS".to_string(),
            app: None,
            policy_types: vec!["Egress"],
            ingress: Vec::new(),
            egress: vec![Rule {
                comment: "cluster DNS: kube-system pods labelled k8s-app=kube-dns, 53/UDP and 53/TCP".to_string(),
                peers: vec![Peer::pods("kube-system", DNS_LABEL.0, DNS_LABEL.1)],
                ports: vec![
                    PolicyPort { protocol: "UDP", port: 53 },
                    PolicyPort { protocol: "TCP", port: 53 },
                ],
            }],
        },
    ];
    let start = workspace
        .services
        .partition_point(|s| s.id.namespace.as_str() < namespace);
    for (index, service) in workspace.services.iter().enumerate().skip(start) {
        if service.id.namespace != namespace {
            break;
        }
        if let Some(policy) = service_policy(workspace, service, &graph.incoming(index)) {
            policies.push(policy);
        }
    }
    policies
}

/// The rule that lets `call` from `caller` to `callee` through, naming `peer` (the caller on
/// the callee's ingress, the callee on the caller's egress), on the callee's container ports.
fn call_rule(
    workspace: &Workspace,
    caller: &Service,
    call: &Call,
    callee: &Service,
    peer: &Service,
) -> Option<Rule> {
    let ports = call_ports(call, callee);
    // No ports would mean "every port": never widen a call that way.
    if ports.is_empty() {
        return None;
    }
    Some(Rule {
        comment: format!(
            "call from {} to {} on {} (workspace line {})",
            caller.id,
            callee.id,
            port_names(call),
            workspace.line_of(&call.span)
        ),
        peers: vec![Peer::pods(&peer.id.namespace, "app", &peer.id.name)],
        ports,
    })
}

fn service_policy(
    workspace: &Workspace,
    service: &Service,
    incoming: &[(usize, &Call)],
) -> Option<NetworkPolicySpec> {
    let line = |span: &std::ops::Range<usize>| workspace.line_of(span);
    let mut ingress = Vec::new();
    for (caller, call) in incoming {
        let caller = &workspace.services[*caller];
        ingress.extend(call_rule(workspace, caller, call, service, caller));
    }
    let all_ports = || container_ports(service.ports.iter());
    // Without ports an ipBlock rule would admit every port: validation forbids it, and a stray
    // case falls back to admitting nothing.
    let expose = if service.ports.is_empty() {
        Expose::Cluster
    } else {
        service.expose
    };
    match expose {
        Expose::Cluster => {}
        Expose::Public => ingress.push(Rule {
            comment: format!(
                "expose = \"public\": clients anywhere may reach {} (workspace line {})",
                service.id,
                line(&service.span)
            ),
            peers: vec![
                Peer::cidr("0.0.0.0/0".to_string()),
                Peer::cidr("::/0".to_string()),
            ],
            ports: all_ports(),
        }),
        Expose::Internal if workspace.project.internal_cidrs.is_empty() => {}
        Expose::Internal => ingress.push(Rule {
            comment: format!(
                "expose = \"internal\": the project's internal-cidrs may reach {} (workspace line {})",
                service.id,
                line(&service.span)
            ),
            peers: workspace
                .project
                .internal_cidrs
                .iter()
                .map(|c| Peer::cidr(c.to_string()))
                .collect(),
            ports: all_ports(),
        }),
    }

    let mut egress = Vec::new();
    for call in &service.calls {
        if let Some(callee) = workspace.service(&call.to) {
            egress.extend(call_rule(workspace, service, call, callee, callee));
        }
    }
    let mut entries: Vec<_> = service.egress.iter().collect();
    // The file order of egress entries must not leak into the output.
    entries.sort_by(|a, b| {
        (a.cidr, a.protocol, &a.ports, &a.reason, a.span.start).cmp(&(
            b.cidr,
            b.protocol,
            &b.ports,
            &b.reason,
            b.span.start,
        ))
    });
    for entry in entries {
        let ports: BTreeSet<u16> = entry.ports.iter().copied().collect();
        let reason = if entry.reason.is_empty() {
            String::new()
        } else {
            format!(": {}", entry.reason)
        };
        egress.push(Rule {
            comment: format!(
                "egress from {} to {}{} (workspace line {})",
                service.id,
                entry.cidr,
                reason,
                line(&entry.span)
            ),
            peers: vec![Peer::cidr(entry.cidr.to_string())],
            ports: ports
                .into_iter()
                .map(|port| PolicyPort {
                    protocol: entry.protocol.as_str(),
                    port,
                })
                .collect(),
        });
    }

    let mut policy_types = Vec::new();
    if !ingress.is_empty() {
        policy_types.push("Ingress");
    }
    if !egress.is_empty() {
        policy_types.push("Egress");
    }
    if policy_types.is_empty() {
        return None;
    }
    Some(NetworkPolicySpec {
        name: format!("allow-{}", service.id.name),
        comment: format!(
            "Traffic {} may send and receive beyond cluster DNS",
            service.id
        ),
        app: Some(service.id.name.clone()),
        policy_types,
        ingress,
        egress,
    })
}

/// The callee's container ports a call may use.
fn call_ports(call: &Call, callee: &Service) -> Vec<PolicyPort> {
    container_ports(call.ports.iter().filter_map(|name| callee.port(name)))
}

/// The container (target) ports of `ports`, sorted and without repeats: what a policy names,
/// never the Service port.
fn container_ports<'a>(ports: impl Iterator<Item = &'a Port>) -> Vec<PolicyPort> {
    let mut out: Vec<PolicyPort> = ports
        .map(|p| PolicyPort {
            protocol: p.protocol.as_str(),
            port: p.target,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn port_names(call: &Call) -> String {
    let noun = if call.ports.len() == 1 {
        "port"
    } else {
        "ports"
    };
    format!("{noun} {}", call.ports.join(", "))
}
