//! Render stage for the architecture overview: the Markdown cells and sentences that describe
//! services, calls, egress and NetworkPolicies in plain words. Pure; every user string goes
//! through [`markdown_inline`].
//!
//! What the NetworkPolicies allow is read from the very policies `generate` renders into the
//! YAML ([`crate::generate::Layout::policies`]), never worked out a second time, so the words
//! cannot drift from the YAML.

use std::fmt::Write;

use crate::filters::{markdown_inline, markdown_inline_into};
use crate::generate::policy::{NetworkPolicySpec, Peer, PolicyPort, Rule};
use crate::model::{Egress, Expose, Port, Protocol, Service, Workload, Workspace};

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

/// The callee ports a call may use (`Call::ports_of`): "`http` (8080/TCP), `grpc`
/// (9090/TCP)", or "none".
pub fn call_ports<'a>(ports: impl Iterator<Item = &'a Port>) -> String {
    let mut out = String::new();
    for (i, p) in ports.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        markdown_inline_into(&mut out, &p.name);
        let _ = write!(out, " ({}/{})", p.target, p.protocol.as_str());
    }
    if out.is_empty() {
        out.push_str("none");
    }
    out
}

/// "TCP 443", "TCP 80, 443", "every port and protocol".
pub fn egress_ports(egress: &Egress) -> String {
    if egress.ports.is_empty() {
        return "every port and protocol".to_string();
    }
    let list: Vec<String> = egress.ports.iter().map(u16::to_string).collect();
    format!("{} {}", egress.protocol.as_str(), list.join(", "))
}

/// Appends `items` written by `each` as "a", "a and b", "a, b and c".
fn list_and<T>(out: &mut String, items: &[T], mut each: impl FnMut(&mut String, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == items.len() { " and " } else { ", " });
        }
        each(out, item);
    }
}

/// Appends the numbers, comma-separated.
fn numbers(out: &mut String, ports: &[u16]) {
    for (i, port) in ports.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{port}");
    }
}

/// "TCP 8080", "UDP and TCP 53", "TCP 80, 443 and UDP 53": ports grouped by protocol.
fn policy_ports(out: &mut String, ports: &[PolicyPort]) {
    if ports.is_empty() {
        out.push_str("every port and protocol");
        return;
    }
    // Nearly always one protocol: no grouping to do.
    if ports.iter().all(|p| p.protocol == ports[0].protocol) {
        out.push_str(ports[0].protocol.as_str());
        out.push(' ');
        let list: Vec<u16> = ports.iter().map(|p| p.port).collect();
        numbers(out, &list);
        return;
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
    list_and(out, &groups, |out, (protocols, list)| {
        list_and(out, protocols, |out, p| out.push_str(p.as_str()));
        out.push(' ');
        numbers(out, list);
    });
}

fn peers(out: &mut String, peers: &[&Peer]) {
    list_and(out, peers, |out, peer| match *peer {
        Peer::Block(net) => {
            let _ = write!(out, "{net}");
        }
        Peer::Pods { namespace, labels } => {
            let pairs: Vec<&(String, String)> = labels.iter().collect();
            match pairs.as_slice() {
                [(key, value)] if key == "app" => {
                    markdown_inline_into(out, namespace);
                    out.push('/');
                    markdown_inline_into(out, value);
                }
                _ => {
                    let shown: Vec<String> =
                        pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    out.push_str("the pods of ");
                    markdown_inline_into(out, namespace);
                    out.push_str(" labelled ");
                    markdown_inline_into(out, &shown.join(", "));
                }
            }
        }
    });
}

fn rule(out: &mut String, direction: &str, rule: &Rule) {
    out.push_str(direction);
    out.push(' ');
    peers(out, &rule.peers.iter().collect::<Vec<_>>());
    out.push_str(" on ");
    policy_ports(out, &rule.ports);
    out.push_str(" (");
    markdown_inline_into(out, &rule.comment);
    out.push(')');
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
    let mut out = String::with_capacity(128 * (1 + spec.ingress.len() + spec.egress.len()));
    out.push_str(&name);
    out.push_str(": ");
    match &spec.app {
        Some(app) => markdown_inline_into(&mut out, app),
        None => out.push_str("every pod of the domain"),
    }
    out.push(' ');
    let ingress = clauses(&spec.ingress, "accepts calls from", "accepts");
    let egress = clauses(&spec.egress, "may call", "may send to");
    for (i, clause) in ingress.iter().chain(&egress).enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        match clause {
            Clause::Calls(direction, peers_of, ports) => {
                out.push_str(direction);
                out.push(' ');
                let all: Vec<&Peer> = peers_of.iter().flat_map(|r| &r.peers).collect();
                peers(&mut out, &all);
                out.push_str(" on ");
                policy_ports(&mut out, ports);
            }
            Clause::Other(direction, r) => rule(&mut out, direction, r),
        }
    }
    out.push('.');
    out
}

/// One part of a policy's sentence: the calls a policy lets through on the same ports, with
/// their peers together (the calls table names each call), or any other rule with its reason.
enum Clause<'a> {
    Calls(&'static str, Vec<&'a Rule>, &'a [PolicyPort]),
    Other(&'static str, &'a Rule),
}

/// The rules of one direction as clauses, in the order of their first rule.
fn clauses<'a>(rules: &'a [Rule], calls: &'static str, other: &'static str) -> Vec<Clause<'a>> {
    let mut out: Vec<Clause<'a>> = Vec::new();
    for r in rules {
        if !r.call {
            out.push(Clause::Other(other, r));
            continue;
        }
        let same = out.iter_mut().find_map(|c| match c {
            Clause::Calls(_, list, ports) if *ports == r.ports.as_slice() => Some(list),
            _ => None,
        });
        match same {
            Some(list) => list.push(r),
            None => out.push(Clause::Calls(calls, vec![r], &r.ports)),
        }
    }
    out
}
