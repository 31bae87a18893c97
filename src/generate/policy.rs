//! Render stage: the NetworkPolicies of one namespace, as plain data. This is where "what is
//! allowed" is decided; the templates only lay the data out as YAML.
//!
//! Structure, per namespace:
//! - `default-deny` selects every pod and denies all ingress and egress;
//! - `cluster-dns` lets every pod reach the cluster's DNS servers on UDP and TCP: the project's
//!   `dns` profiles (kube-system pods labelled `k8s-app: kube-dns` on port 53 by default);
//! - `allow-<service>` selects `app: <service>` and holds every rule of that service: an ingress
//!   rule per caller and an egress rule per callee (each naming exactly one namespace AND one
//!   `app` label in a single peer, on the callee's container ports), ingress from the service's
//!   `sources` for `expose = "internal" | "public"`, ingress from exactly the gateway's pods on
//!   the routed port for `expose = "gateway"`, and an egress rule per `egress` entry.
//!
//! NetworkPolicies only add allowances, so the union of these is exactly the declared traffic.

use std::collections::BTreeSet;

use ipnet::IpNet;

use crate::graph::ServiceGraph;
use crate::model::{Call, DnsTarget, Expose, PodLabels, Port, Protocol, Service, Workspace};

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
    /// True when the rule lets one declared call through: the architecture overview lists
    /// such rules' peers together instead of repeating each call's comment.
    pub call: bool,
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
    pub fn of(ingress: bool, egress: bool) -> Option<Self> {
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
    /// The pods carrying all of `labels` in one namespace (matched on
    /// `kubernetes.io/metadata.name`): a namespaceSelector AND a podSelector in a single peer.
    Pods {
        /// The namespace.
        namespace: String,
        /// The pod labels; never empty (the type cannot be), so never "every pod".
        labels: PodLabels,
    },
}

impl Peer {
    fn app(namespace: &str, app: &str) -> Self {
        Peer::Pods {
            namespace: namespace.to_string(),
            labels: PodLabels::one("app", app),
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
        dns_policy(workspace),
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
fn call_rule(caller: &Service, call: &Call, callee: &Service, peer: &Service) -> Option<Rule> {
    let ports = call_ports(call, callee);
    // No ports would mean "every port": never widen a call that way.
    if ports.is_empty() {
        return None;
    }
    Some(Rule {
        comment: format!(
            "call from {} to {} on {}",
            caller.id,
            callee.id,
            port_names(call, callee)
        ),
        call: true,
        peers: vec![Peer::app(&peer.id.namespace, &peer.id.name)],
        ports,
    })
}

fn service_policy(
    workspace: &Workspace,
    service: &Service,
    incoming: &[(usize, &Call)],
) -> Option<NetworkPolicySpec> {
    let mut ingress = Vec::new();
    for (caller, call) in incoming {
        let caller = &workspace.services[*caller];
        ingress.extend(call_rule(caller, call, service, caller));
    }
    let all_ports = || container_ports(service.ports.iter());
    // Without ports an ipBlock rule would admit every port: validation forbids it, and a stray
    // case falls back to admitting nothing.
    let expose = if service.ports.is_empty() {
        Expose::Cluster
    } else {
        service.expose
    };
    ingress.extend(exposure_rule(workspace, service, expose, all_ports()));

    let mut egress = Vec::new();
    for call in &service.calls {
        if let Some(callee) = workspace.service(&call.to) {
            egress.extend(call_rule(service, call, callee, callee));
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
            comment: format!("egress from {} to {}{}", service.id, entry.cidr, reason),
            call: false,
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

/// The ingress rule of an exposed service: its `sources` for a load balancer, exactly the
/// gateway's pods on the routed port for `gateway`; `None` for `cluster`, or when nothing may
/// come in (no rule rather than a rule without peers, which would admit everyone).
fn exposure_rule(
    workspace: &Workspace,
    service: &Service,
    expose: Expose,
    all_ports: Vec<PolicyPort>,
) -> Option<Rule> {
    match expose {
        Expose::Cluster => None,
        Expose::Internal | Expose::Public => {
            // No sources: no rule, rather than a rule without peers, which would admit
            // everyone.
            let sources = service.sources.as_ref()?;
            let whence = match (expose, service.keys.sources) {
                (_, Some(_)) => "its `sources`".to_string(),
                (Expose::Internal, None) => "the project's internal-cidrs".to_string(),
                _ => "clients anywhere".to_string(),
            };
            Some(Rule {
                comment: format!(
                    "expose = \"{}\": {whence} may reach {}",
                    expose.as_str(),
                    service.id,
                ),
                call: false,
                peers: sources.iter().copied().map(Peer::Block).collect(),
                ports: all_ports,
            })
        }
        Expose::Gateway => {
            let gateway = workspace.project.gateway.as_ref()?;
            let route = service.route.as_ref()?;
            let port = service.port(&route.port)?;
            Some(Rule {
                comment: format!(
                    "expose = \"gateway\": the pods of gateway {}/{} may reach {} on port {}",
                    gateway.namespace, gateway.name, service.id, port.name
                ),
                call: false,
                peers: vec![Peer::Pods {
                    namespace: gateway.pod_namespace.clone(),
                    labels: gateway.pod_labels.clone(),
                }],
                ports: container_ports(std::iter::once(port)),
            })
        }
    }
}

/// `cluster-dns`: every pod may query the DNS servers of the project's `dns` profiles, on UDP
/// and TCP (answers too large for UDP are retried over TCP).
fn dns_policy(workspace: &Workspace) -> NetworkPolicySpec {
    let dns = &workspace.project.dns;
    let origin = match dns.span {
        Some(_) => "the project's `dns` setting".to_string(),
        None => format!(
            "the default for platform \"{}\"",
            workspace.project.platform.as_str()
        ),
    };
    let egress = dns
        .rules
        .iter()
        .filter(|rule| !rule.targets.is_empty() && !rule.ports.is_empty())
        .map(|rule| {
            let servers: Vec<String> = rule
                .targets
                .iter()
                .map(|t| match t {
                    DnsTarget::Pods { namespace, labels } => {
                        let labels: Vec<String> =
                            labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                        format!("{namespace} pods labelled {}", labels.join(","))
                    }
                    DnsTarget::Block(net) => net.to_string(),
                })
                .collect();
            let ports: Vec<String> = rule.ports.iter().map(u16::to_string).collect();
            Rule {
                comment: format!(
                    "DNS profile {} ({origin}): {}, port {} UDP and TCP",
                    rule.profile.as_str(),
                    servers.join(" and "),
                    ports.join(", ")
                ),
                call: false,
                peers: rule
                    .targets
                    .iter()
                    .map(|t| match t {
                        DnsTarget::Pods { namespace, labels } => Peer::Pods {
                            namespace: namespace.clone(),
                            labels: labels.clone(),
                        },
                        DnsTarget::Block(net) => Peer::Block(*net),
                    })
                    .collect(),
                ports: rule
                    .ports
                    .iter()
                    .flat_map(|&port| {
                        [Protocol::Udp, Protocol::Tcp].map(|protocol| PolicyPort { protocol, port })
                    })
                    .collect(),
            }
        })
        .collect();
    NetworkPolicySpec {
        name: "cluster-dns".to_string(),
        comment: "Every pod may resolve names with the cluster DNS".to_string(),
        app: None,
        policy_types: PolicyTypes::Egress,
        ingress: Vec::new(),
        egress,
    }
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
