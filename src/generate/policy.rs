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

use ipnet::IpNet;

use crate::graph::ServiceGraph;
use crate::model::{Call, Expose, Port, Protocol, Service, Workspace};

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
    /// The directions the policy isolates, always written out.
    pub policy_types: PolicyTypes,
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

/// The directions a NetworkPolicy isolates (`spec.policyTypes`). A policy always names at least
/// one, so there is no empty value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyTypes {
    /// Only ingress.
    Ingress,
    /// Only egress.
    Egress,
    /// Both directions.
    Both,
}

impl PolicyTypes {
    /// The directions of a policy with these rule lists; `None` when both are empty.
    fn of(ingress: bool, egress: bool) -> Option<Self> {
        match (ingress, egress) {
            (true, true) => Some(PolicyTypes::Both),
            (true, false) => Some(PolicyTypes::Ingress),
            (false, true) => Some(PolicyTypes::Egress),
            (false, false) => None,
        }
    }

    /// The values of `spec.policyTypes`, in the order Kubernetes documents them.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            PolicyTypes::Ingress => &["Ingress"],
            PolicyTypes::Egress => &["Egress"],
            PolicyTypes::Both => &["Ingress", "Egress"],
        }
    }
}

/// The other end of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// Addresses outside the cluster: an `ipBlock`.
    Block(IpNet),
    /// The pods carrying one label in one namespace (matched on `kubernetes.io/metadata.name`):
    /// a namespaceSelector AND a podSelector in a single peer.
    Pods {
        /// The namespace.
        namespace: String,
        /// The pod label key.
        key: &'static str,
        /// The pod label value.
        value: String,
    },
}

impl Peer {
    fn pods(namespace: &str, key: &'static str, value: &str) -> Self {
        Peer::Pods {
            namespace: namespace.to_string(),
            key,
            value: value.to_string(),
        }
    }
}

/// A destination port of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicyPort {
    /// The transport protocol.
    pub protocol: Protocol,
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
            policy_types: PolicyTypes::Both,
            ingress: Vec::new(),
            egress: Vec::new(),
        },
        NetworkPolicySpec {
            name: "cluster-dns".to_string(),
            comment: "Every pod may resolve names with the cluster DNS".to_string(),
            app: None,
            policy_types: PolicyTypes::Egress,
            ingress: Vec::new(),
            egress: vec![Rule {
                comment: "cluster DNS: kube-system pods labelled k8s-app=kube-dns, 53/UDP and 53/TCP".to_string(),
                peers: vec![Peer::pods("kube-system", DNS_LABEL.0, DNS_LABEL.1)],
                ports: vec![
                    PolicyPort { protocol: Protocol::Udp, port: 53 },
                    PolicyPort { protocol: Protocol::Tcp, port: 53 },
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
            port_names(call, callee),
            workspace.line_of(call.span)
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
    // Exposure comments cite the `expose` key, which is always written when a service is
    // exposed; the service's header is only a fallback.
    let expose_line = workspace.line_of(service.keys.expose.unwrap_or(service.span));
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
                expose_line
            ),
            peers: [IpNet::V4(Default::default()), IpNet::V6(Default::default())]
                .into_iter()
                .map(Peer::Block)
                .collect(),
            ports: all_ports(),
        }),
        Expose::Internal if workspace.project.internal_cidrs.is_empty() => {}
        Expose::Internal => ingress.push(Rule {
            comment: format!(
                "expose = \"internal\": the project's internal-cidrs may reach {} (workspace line {})",
                service.id,
                expose_line
            ),
            peers: workspace
                .project
                .internal_cidrs
                .iter()
                .copied()
                .map(Peer::Block)
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
                workspace.line_of(entry.span)
            ),
            peers: vec![Peer::Block(entry.cidr)],
            ports: ports
                .into_iter()
                .map(|port| PolicyPort {
                    protocol: entry.protocol,
                    port,
                })
                .collect(),
        });
    }

    let policy_types = PolicyTypes::of(!ingress.is_empty(), !egress.is_empty())?;
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
    container_ports(call.ports_of(callee))
}

/// The container (target) ports of `ports`, sorted and without repeats: what a policy names,
/// never the Service port.
fn container_ports<'a>(ports: impl Iterator<Item = &'a Port>) -> Vec<PolicyPort> {
    let mut out: Vec<PolicyPort> = ports
        .map(|p| PolicyPort {
            protocol: p.protocol,
            port: p.target,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn port_names(call: &Call, callee: &Service) -> String {
    let names: Vec<&str> = call.ports_of(callee).map(|p| p.name.as_str()).collect();
    let noun = if names.len() == 1 { "port" } else { "ports" };
    format!("{noun} {}", names.join(", "))
}
