//! Render stage for the architecture overview: the Markdown cells and sentences that describe
//! services, calls, egress and NetworkPolicies in plain words. Pure; every user string goes
//! through [`markdown_inline`].
//!
//! What the NetworkPolicies allow is read from the very policies `generate` writes
//! ([`crate::generate::policy::namespace_policies`]), never worked out a second time, so the
//! words cannot drift from the YAML.

use crate::filters::markdown_inline;
use crate::generate::policy::{NetworkPolicySpec, Peer, PolicyPort, Rule};
use crate::model::{Call, Egress, Expose, Protocol, Service, Workload, Workspace};

/// "`http` 80 → 8080/TCP, `grpc` 9090/TCP", or "none (a worker)".
pub fn ports(service: &Service) -> String {
    if service.ports.is_empty() {
        return "none (a worker)".to_string();
    }
    service
        .ports
        .iter()
        .map(|p| {
            let numbers = if p.port == p.target {
                p.port.to_string()
            } else {
                format!("{} → {}", p.port, p.target)
            };
            format!(
                "{} {numbers}/{}",
                markdown_inline(&p.name),
                p.protocol.as_str()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Who reaches the service from outside its callers.
pub fn exposure(ws: &Workspace, service: &Service) -> String {
    let sources = || {
        service.sources.as_ref().map_or_else(
            || "nobody: no sources".to_string(),
            |s| {
                if s.is_anywhere() {
                    "any address".to_string()
                } else {
                    s.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            },
        )
    };
    match service.expose {
        Expose::Cluster => "cluster".to_string(),
        Expose::Public | Expose::Internal => {
            format!("{} ({})", service.expose.as_str(), sources())
        }
        Expose::Gateway => match (&ws.project.gateway, &service.route) {
            (Some(g), Some(route)) => {
                let hosts = if route.hostnames.is_empty() {
                    String::new()
                } else {
                    format!("{} ", route.hostnames.join(", "))
                };
                format!(
                    "gateway {}/{} ({hosts}{})",
                    markdown_inline(&g.namespace),
                    markdown_inline(&g.name),
                    markdown_inline(&route.path)
                )
            }
            _ => "gateway".to_string(),
        },
    }
}

/// Requests and limits, as written: "250m CPU, 256Mi; limits 500m, 512Mi".
pub fn size(service: &Service) -> String {
    let pair = |p: &crate::model::ResourcePair| {
        let cpu = p
            .cpu
            .as_ref()
            .map_or("—".to_string(), |q| format!("{q} CPU"));
        let memory = p
            .memory
            .as_ref()
            .map_or("—".to_string(), ToString::to_string);
        format!("{cpu}, {memory}")
    };
    let r = &service.resources;
    if r.requests.cpu.is_none()
        && r.requests.memory.is_none()
        && r.limits.cpu.is_none()
        && r.limits.memory.is_none()
    {
        return "not set".to_string();
    }
    format!("{}; limits {}", pair(&r.requests), pair(&r.limits))
}

/// "Deployment", or "StatefulSet, 10Gi at /data".
pub fn kind(service: &Service) -> String {
    match &service.workload {
        Workload::Deployment => "Deployment".to_string(),
        Workload::Stateful(storage) => format!(
            "StatefulSet, {} at {}",
            storage.size,
            markdown_inline(&storage.path)
        ),
    }
}

/// The callee ports a call may use: "`http`" or "all (`http`, `grpc`)".
pub fn call_ports(call: &Call, callee: &Service) -> String {
    let names: Vec<String> = call
        .ports_of(callee)
        .map(|p| {
            format!(
                "{} ({}/{})",
                markdown_inline(&p.name),
                p.target,
                p.protocol.as_str()
            )
        })
        .collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// "TCP 443", "TCP 80, 443", "every port and protocol".
pub fn egress_ports(egress: &Egress) -> String {
    if egress.ports.is_empty() {
        return "every port and protocol".to_string();
    }
    let list: Vec<String> = egress.ports.iter().map(u16::to_string).collect();
    format!("{} {}", egress.protocol.as_str(), list.join(", "))
}

/// "TCP 8080", "UDP and TCP 53", "TCP 80, 443 and UDP 53": ports grouped by protocol.
fn policy_ports(ports: &[PolicyPort]) -> String {
    if ports.is_empty() {
        return "every port and protocol".to_string();
    }
    let mut groups: Vec<(Vec<Protocol>, Vec<u16>)> = Vec::new();
    for protocol in [Protocol::Tcp, Protocol::Udp, Protocol::Sctp] {
        let numbers: Vec<u16> = ports
            .iter()
            .filter(|p| p.protocol == protocol)
            .map(|p| p.port)
            .collect();
        if numbers.is_empty() {
            continue;
        }
        match groups.iter_mut().find(|(_, n)| *n == numbers) {
            Some((protocols, _)) => protocols.push(protocol),
            None => groups.push((vec![protocol], numbers)),
        }
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|(protocols, numbers)| {
            let protocols: Vec<&str> = protocols.iter().map(|p| p.as_str()).collect();
            let numbers: Vec<String> = numbers.iter().map(u16::to_string).collect();
            format!(
                "{} {}",
                crate::text::join_and(&protocols),
                numbers.join(", ")
            )
        })
        .collect();
    crate::text::join_and(&parts)
}

fn peers(peers: &[Peer]) -> String {
    let parts: Vec<String> = peers
        .iter()
        .map(|peer| match peer {
            Peer::Block(net) => net.to_string(),
            Peer::Pods { namespace, labels } => {
                let pairs: Vec<&(String, String)> = labels.iter().collect();
                match pairs.as_slice() {
                    [(key, value)] if key == "app" => {
                        format!("{}/{}", markdown_inline(namespace), markdown_inline(value))
                    }
                    _ => {
                        let shown: Vec<String> =
                            pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                        format!(
                            "the pods of {} labelled {}",
                            markdown_inline(namespace),
                            markdown_inline(&shown.join(", "))
                        )
                    }
                }
            }
        })
        .collect();
    crate::text::join_and(&parts)
}

fn rule(direction: &str, rule: &Rule) -> String {
    format!(
        "{direction} {} on {} ({})",
        peers(&rule.peers),
        policy_ports(&rule.ports),
        markdown_inline(&rule.comment)
    )
}

/// What one NetworkPolicy allows, in one sentence.
pub fn policy(spec: &NetworkPolicySpec) -> String {
    let name = format!("`{}`", spec.name.replace('`', ""));
    if spec.ingress.is_empty() && spec.egress.is_empty() {
        return format!(
            "{name}: every pod of the domain is denied all ingress and egress; only the policies \
             below let traffic through."
        );
    }
    let subject = match &spec.app {
        Some(app) => markdown_inline(app),
        None => "every pod of the domain".to_string(),
    };
    let mut clauses: Vec<String> = spec.ingress.iter().map(|r| rule("accepts", r)).collect();
    clauses.extend(spec.egress.iter().map(|r| rule("may send to", r)));
    format!("{name}: {subject} {}.", clauses.join("; "))
}
