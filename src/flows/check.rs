//! Analyse stage of `verify --flows`: the observed calls held against the workspace's design,
//! and, when manifests are given, against their NetworkPolicies as the `verify` engine computes
//! them. One finding per (source, destination, port), with how often and when it was seen:
//!
//! - `observed-undeclared` (error): traffic the workspace does not declare — a call, an egress
//!   to outside addresses, an ingress from them — which the policies `generate` writes block;
//! - `observed-blocked` (error): traffic the given manifests' policies drop;
//! - `declared-unobserved` (info): a declared call that no flow shows;
//! - `unmapped-flow` (warning): traffic with an end that is no service of the workspace, or,
//!   with manifests, that none of their workloads runs: it cannot be judged.
//!
//! Pure: no I/O, no rendering.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;

use super::observe::{End, Key, Observations, Seen};
use crate::model::{Expose, Protocol, Service, Workspace};
use crate::verify::compare::{Finding, Kind};
use crate::verify::engine::{Analysis, Direction};
use crate::verify::sets::{AddrSet, PortSet};

/// The findings, sorted by namespace, kind, workloads and message. `files` are the flow files
/// as the records' `At::file` indexes them.
pub fn findings(
    obs: &Observations,
    ws: &Workspace,
    analysis: Option<&Analysis<'_>>,
    files: &[PathBuf],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen_calls: BTreeMap<(usize, usize), PortSet> = BTreeMap::new();
    let mut seen_any: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (key, seen) in obs.sorted_calls() {
        let (from, to, port) = key;
        if let (End::Service { service: a, .. }, End::Service { service: b, .. }) = (from, to) {
            match port {
                Some((protocol, p)) => {
                    seen_calls
                        .entry((*a, *b))
                        .or_default()
                        .insert(*protocol, *p, *p);
                }
                None => {
                    seen_any.insert((*a, *b));
                }
            }
        }
        let file = files.get(seen.at.file).cloned().unwrap_or_default();
        let finding = |kind: Kind, message: String| Finding {
            kind,
            namespace: namespace_of(ws, from, to),
            workloads: vec![name(ws, from), name(ws, to)],
            ports: port_set(*port),
            cidrs: [from, to]
                .iter()
                .filter_map(|e| match e {
                    End::World(Some(ip)) => Some(IpNet::from(*ip).to_string()),
                    _ => None,
                })
                .collect(),
            policies: Vec::new(),
            message,
            file: file.clone(),
            line: seen.at.line,
        };
        let what = describe(ws, key, seen);
        let verdict = judge(ws, key);
        let unmapped = matches!(verdict, Verdict::Unmapped(_));
        match verdict {
            Verdict::Declared => {}
            Verdict::Undeclared(why) => out.push(finding(
                Kind::ObservedUndeclared,
                format!("{what}: {why}, so the policies `generate` writes will block it"),
            )),
            Verdict::Unmapped(who) => out.push(finding(
                Kind::UnmappedFlow,
                format!(
                    "{what}: {who} is no service of the workspace (matched by namespace and workload name, Service selector, `app` or `app.kubernetes.io/name` label), so the flow cannot be judged; add the service or leave its traffic out of the flows"
                ),
            )),
        }
        let Some(analysis) = analysis else { continue };
        match blocked(analysis, key) {
            Some(true) => out.push(finding(
                Kind::ObservedBlocked,
                format!("{what}: the NetworkPolicies of the manifests drop it"),
            )),
            Some(false) => {}
            // Never silently unjudged: say which end the manifests do not run.
            None if !unmapped => {
                let who: Vec<String> = [from, to]
                    .into_iter()
                    .filter(|e| !matches!(e, End::World(_)) && workload_of(e).is_none())
                    .map(|e| crate::text::clean(&name(ws, e)))
                    .collect();
                out.push(finding(
                    Kind::UnmappedFlow,
                    format!(
                        "{what}: no workload of the manifests runs {} (matched by namespace and workload or pod name, else by the pod's labels), so whether their NetworkPolicies let it through cannot be judged; give the manifests that run it",
                        who.join(" or ")
                    ),
                ));
            }
            None => {}
        }
    }
    let window = match obs.window {
        (Some(f), Some(l)) => format!(
            "between {} and {}",
            super::format_time(f),
            super::format_time(l)
        ),
        _ => "in the flows given".to_string(),
    };
    for (a, caller) in ws.services.iter().enumerate() {
        for call in &caller.calls {
            let Some(b) = ws.services.binary_search_by(|s| s.id.cmp(&call.to)).ok() else {
                continue;
            };
            let callee = &ws.services[b];
            let mut ports = PortSet::none();
            for p in call.ports_of(callee) {
                ports.insert(p.protocol, p.target, p.target);
            }
            let observed = seen_any.contains(&(a, b))
                || seen_calls
                    .get(&(a, b))
                    .is_some_and(|s| !s.intersection(&ports).is_empty());
            if observed {
                continue;
            }
            out.push(Finding {
                kind: Kind::DeclaredUnobserved,
                namespace: caller.id.namespace.clone(),
                workloads: vec![caller.id.to_string(), callee.id.to_string()],
                message: format!(
                    "declared call {} -> {} on {ports} was not seen {window}",
                    caller.id, callee.id
                ),
                ports,
                cidrs: Vec::new(),
                policies: Vec::new(),
                file: ws.source.path().to_path_buf(),
                line: ws.line_of(call.span),
            });
        }
    }
    crate::verify::compare::sort(&mut out);
    out
}

/// What the workspace says of one observed flow.
enum Verdict {
    /// It declares it.
    Declared,
    /// It does not, and why in a few words.
    Undeclared(String),
    /// An end is no service: who.
    Unmapped(String),
}

fn port_set(port: Option<(Protocol, u16)>) -> PortSet {
    let mut set = PortSet::none();
    if let Some((protocol, p)) = port {
        set.insert(protocol, p, p);
    }
    set
}

/// The container ports of `service` named `port` (or all, for a record without a port).
fn covers(ports: &PortSet, port: Option<(Protocol, u16)>) -> bool {
    match port {
        Some((protocol, p)) => ports.contains(protocol, p),
        None => !ports.is_empty(),
    }
}

fn target_ports(service: &Service) -> PortSet {
    let mut set = PortSet::none();
    for p in &service.ports {
        set.insert(p.protocol, p.target, p.target);
    }
    set
}

fn addresses(ip: Option<IpAddr>) -> AddrSet {
    match ip {
        Some(ip) => AddrSet::net(&IpNet::from(ip)),
        // An address not given: only a rule for every address is sure to cover it.
        None => AddrSet::all(),
    }
}

fn judge(ws: &Workspace, (from, to, port): &Key) -> Verdict {
    let port = *port;
    match (from, to) {
        (End::Service { service: a, .. }, End::Service { service: b, .. }) => {
            let (caller, callee) = (&ws.services[*a], &ws.services[*b]);
            let declared = caller.calls.iter().filter(|c| c.to == callee.id).any(|c| {
                let mut ports = PortSet::none();
                for p in c.ports_of(callee) {
                    ports.insert(p.protocol, p.target, p.target);
                }
                covers(&ports, port)
            });
            if declared {
                Verdict::Declared
            } else if caller.calls.iter().any(|c| c.to == callee.id) {
                Verdict::Undeclared(format!(
                    "{} declares its call to {} on other ports",
                    caller.id, callee.id
                ))
            } else {
                Verdict::Undeclared(format!(
                    "the workspace declares no call from {} to {}",
                    caller.id, callee.id
                ))
            }
        }
        (End::Service { service: a, .. }, End::World(ip)) => {
            let caller = &ws.services[*a];
            let wanted = addresses(*ip);
            let declared = caller.egress.iter().any(|e| {
                let ports_ok = match port {
                    None => e.ports.is_empty(),
                    Some((protocol, p)) => {
                        e.ports.is_empty() || (e.protocol == protocol && e.ports.contains(&p))
                    }
                };
                ports_ok && AddrSet::net(&e.cidr).contains_all(&wanted)
            });
            if declared {
                Verdict::Declared
            } else {
                Verdict::Undeclared(format!("no `egress` entry of {} covers it", caller.id))
            }
        }
        (End::World(ip), End::Service { service: b, .. }) => {
            let callee = &ws.services[*b];
            let wanted = addresses(*ip);
            let exposed = matches!(callee.expose, Expose::Public | Expose::Internal)
                && callee.sources.as_ref().is_some_and(|sources| {
                    sources
                        .iter()
                        .any(|net| AddrSet::net(net).contains_all(&wanted))
                })
                && covers(&target_ports(callee), port);
            if exposed {
                Verdict::Declared
            } else {
                Verdict::Undeclared(format!(
                    "{} is expose = \"{}\" and does not admit that address and port",
                    callee.id,
                    callee.expose.as_str()
                ))
            }
        }
        (End::Gateway { .. }, End::Service { service: b, .. }) => {
            let callee = &ws.services[*b];
            let routed = (callee.expose == Expose::Gateway)
                .then_some(callee.route.as_ref())
                .flatten()
                .and_then(|route| callee.port(&route.port))
                .is_some_and(|p| covers(&port_set(Some((p.protocol, p.target))), port));
            if routed {
                Verdict::Declared
            } else {
                Verdict::Undeclared(format!(
                    "{} is not routed through the gateway on that port",
                    callee.id
                ))
            }
        }
        (End::Unmapped { id, .. }, _) | (_, End::Unmapped { id, .. }) => {
            Verdict::Unmapped(crate::text::clean(id))
        }
        (End::Gateway { .. }, _) | (_, End::Gateway { .. }) => {
            Verdict::Unmapped("the gateway's pods (the other end)".to_string())
        }
        (End::World(_), End::World(_)) => {
            Verdict::Unmapped("an address outside the cluster".to_string())
        }
    }
}

/// Whether the manifests' policies drop the flow: `None` when an end has no workload in them.
pub fn blocked(analysis: &Analysis<'_>, (from, to, port): &Key) -> Option<bool> {
    let workload = workload_of;
    let allows = |ports: &PortSet| covers(ports, *port);
    let outside = |w: usize, direction: Direction, ip: &Option<IpAddr>| {
        let wanted = addresses(*ip);
        !analysis
            .external(w, direction)
            .iter()
            .any(|(_, ports, addrs)| allows(ports) && addrs.contains_all(&wanted))
    };
    match (from, to) {
        (End::World(ip), _) => Some(outside(workload(to)?, Direction::Ingress, ip)),
        (_, End::World(ip)) => Some(outside(workload(from)?, Direction::Egress, ip)),
        _ => {
            let (a, b) = (workload(from)?, workload(to)?);
            // A workload's traffic to itself is never judged by the engine.
            (a != b).then(|| !allows(&analysis.allowed(a, b)))
        }
    }
}

/// The manifests' workload an end runs as.
fn workload_of(end: &End) -> Option<usize> {
    match end {
        End::Service { workload, .. }
        | End::Unmapped { workload, .. }
        | End::Gateway { workload } => *workload,
        End::World(_) => None,
    }
}

fn name(ws: &Workspace, end: &End) -> String {
    match end {
        End::Service { service, .. } => ws.services[*service].id.to_string(),
        End::Gateway { .. } => "gateway".to_string(),
        End::Unmapped { id, .. } => id.clone(),
        End::World(Some(ip)) => ip.to_string(),
        End::World(None) => "outside the cluster".to_string(),
    }
}

fn namespace_of(ws: &Workspace, from: &End, to: &End) -> String {
    for end in [from, to] {
        match end {
            End::Service { service, .. } => return ws.services[*service].id.namespace.clone(),
            End::Unmapped { id, .. } => {
                return id
                    .split_once('/')
                    .map_or(id.as_str(), |(ns, _)| ns)
                    .to_string();
            }
            _ => {}
        }
    }
    String::new()
}

/// "shop/web -> shop/cart on TCP 7070, seen 42 times, 2024-01-01T10:00:00Z to ..."
pub fn describe(ws: &Workspace, (from, to, port): &Key, seen: &Seen) -> String {
    let on = match port {
        Some((protocol, p)) => format!(" on {} {p}", protocol.as_str()),
        None => String::new(),
    };
    format!(
        "{} -> {}{on}, seen {}",
        crate::text::clean(&name(ws, from)),
        crate::text::clean(&name(ws, to)),
        seen.describe()
    )
}
