//! Render stage for the architecture overview: the domain map, a Mermaid flowchart. Pure.
//!
//! Two scales. While a map has at most [`MAX_SERVICES`] services and [`MAX_EDGES`] arrows it
//! shows services inside one subgraph per domain; above, one node per domain. Both draw the
//! traffic that enters from outside (the internet, internal networks, the gateway) as entry
//! nodes and the egress as exit nodes, one per address range. Synchronous calls are solid
//! arrows, asynchronous and telemetry calls dashed ones labelled with their kind.
//!
//! Identifiers never come from user text (`n<index>`, `d<index>`, `in<index>`, `out<index>`),
//! so no name can collide with a Mermaid keyword; every label is quoted and escaped.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::graph::ServiceGraph;
use crate::model::{CallKind, Expose, Protocol, Service, ServiceId, Workspace};
use crate::report::graph::mermaid_text;

/// A map of more services than this is drawn one node per domain.
pub const MAX_SERVICES: usize = 50;

/// A service map with more arrows than this is drawn one node per domain: beyond a few hundred
/// arrows a flowchart is a tangle (and Mermaid refuses more than 500).
pub const MAX_EDGES: usize = 200;

/// The domains a domain map draws at most: those with the most calls across domains.
pub const MAX_DOMAINS: usize = 20;

/// The address ranges of egress a map draws at most: those the most services send to.
pub const MAX_EXITS: usize = 12;

/// What a map shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Every service and call of the shown domains.
    Services,
    /// One node per domain: `shown` of `total` domains.
    Domains {
        /// Domains drawn.
        shown: usize,
        /// Domains in the model.
        total: usize,
    },
}

/// A drawn map: the Mermaid text (without the fence) and what it shows.
#[derive(Debug, Clone)]
pub struct Map {
    /// The flowchart.
    pub mermaid: String,
    /// Services or domains.
    pub scale: Scale,
    /// Egress address ranges left out of the drawing (see [`MAX_EXITS`]).
    pub hidden_exits: usize,
}

/// Where traffic from outside the cluster enters: one node per kind of entry and its sources.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    label: String,
}

/// The entry a service's exposure draws from; `None` for `cluster`.
fn entry_of(ws: &Workspace, service: &Service) -> Option<Entry> {
    if service.ports.is_empty() {
        return None;
    }
    let label = match service.expose {
        Expose::Cluster => return None,
        Expose::Gateway => match &ws.project.gateway {
            Some(g) => format!("Gateway {}/{}", g.namespace, g.name),
            None => return None,
        },
        Expose::Internal | Expose::Public => {
            let sources = service.sources.as_ref()?;
            let cidrs: Vec<String> = sources.iter().map(ToString::to_string).collect();
            match service.expose {
                Expose::Public if sources.is_anywhere() => "Internet".to_string(),
                Expose::Public => format!("Clients {}", cidrs.join(", ")),
                _ => format!("Internal network {}", cidrs.join(", ")),
            }
        }
    };
    Some(Entry { label })
}

/// "TCP 443", "TCP 80, 443", "all ports".
fn ports_label(protocol: Protocol, ports: &[u16]) -> String {
    if ports.is_empty() {
        return "all ports".to_string();
    }
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    format!("{} {}", protocol.as_str(), list.join(", "))
}

/// The egress address ranges to draw: the [`MAX_EXITS`] used by the most services of `shown`
/// (then by address), and how many were left out.
fn exits<'a>(services: impl Iterator<Item = &'a Service>) -> (BTreeMap<String, usize>, usize) {
    // By identity: services of one name in several domains are several services.
    let mut users: BTreeMap<String, BTreeSet<&'a ServiceId>> = BTreeMap::new();
    for service in services {
        for e in &service.egress {
            users
                .entry(e.cidr.to_string())
                .or_default()
                .insert(&service.id);
        }
    }
    let mut ranked: Vec<(String, usize)> = users.into_iter().map(|(k, v)| (k, v.len())).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let hidden = ranked.len().saturating_sub(MAX_EXITS);
    ranked.truncate(MAX_EXITS);
    let mut kept: Vec<String> = ranked.into_iter().map(|(k, _)| k).collect();
    kept.sort();
    (
        kept.into_iter().enumerate().map(|(i, k)| (k, i)).collect(),
        hidden,
    )
}

fn arrow(kind: CallKind, label: Option<&str>) -> String {
    match (kind, label) {
        (CallKind::Sync, None) => "-->".to_string(),
        (CallKind::Sync, Some(l)) => format!("-->|\"{}\"|", mermaid_text(l)),
        (_, None) => format!("-.->|\"{}\"|", kind.as_str()),
        (_, Some(l)) => format!("-.->|\"{}\"|", mermaid_text(l)),
    }
}

/// The map of the services `shown` (sorted indices into `workspace.services`) and the calls
/// `edges` that touch them: services grouped by domain, the services of other domains they
/// call or are called by as single domain nodes. `None` when it would be too big to read;
/// the caller then draws [`domain_map`].
pub fn service_map(
    graph: &ServiceGraph<'_>,
    shown: &[usize],
    edges: &[(usize, usize, CallKind)],
) -> Option<Map> {
    let ws = graph.workspace();
    let egress_edges: usize = shown.iter().map(|&i| ws.services[i].egress.len()).sum();
    if shown.len() > MAX_SERVICES || edges.len() + shown.len() + egress_edges > MAX_EDGES {
        return None;
    }
    let shown_set: BTreeSet<usize> = shown.iter().copied().collect();
    let (exit_index, hidden_exits) = exits(shown.iter().map(|&i| &ws.services[i]));
    let names: Vec<&String> = ws.namespaces.keys().collect();
    let domain_index = |ns: &str| names.binary_search_by(|n| n.as_str().cmp(ns)).unwrap_or(0);
    let mut out = String::from("flowchart LR\n");
    let mut entries: BTreeMap<Entry, Vec<usize>> = BTreeMap::new();
    for &i in shown {
        if let Some(entry) = entry_of(ws, &ws.services[i]) {
            entries.entry(entry).or_default().push(i);
        }
    }
    for (k, entry) in entries.keys().enumerate() {
        let _ = writeln!(out, "  in{k}([\"{}\"])", mermaid_text(&entry.label));
    }
    for (d, name) in names.iter().enumerate() {
        let members: Vec<usize> = shown
            .iter()
            .copied()
            .filter(|&i| ws.services[i].id.namespace == **name)
            .collect();
        if members.is_empty() {
            continue;
        }
        let title = match ws.namespaces.get(*name).and_then(|n| n.team.as_deref()) {
            Some(team) => format!("{name} (team {team})"),
            None => name.to_string(),
        };
        let _ = writeln!(out, "  subgraph d{d}[\"{}\"]", mermaid_text(&title));
        out.push_str("    direction TB\n");
        for i in members {
            let _ = writeln!(
                out,
                "    n{i}[\"{}\"]",
                mermaid_text(&ws.services[i].id.name)
            );
        }
        out.push_str("  end\n");
    }
    // The other ends of calls that cross into or out of the shown domains, one node each.
    let mut outside: BTreeSet<usize> = BTreeSet::new();
    for &(a, b, _) in edges {
        for end in [a, b] {
            if !shown_set.contains(&end) {
                outside.insert(domain_index(&ws.services[end].id.namespace));
            }
        }
    }
    for d in &outside {
        let _ = writeln!(
            out,
            "  d{d}[\"{}\"]",
            mermaid_text(&format!("domain {}", names[*d]))
        );
    }
    for (cidr, k) in &exit_index {
        let _ = writeln!(out, "  out{k}{{{{\"{}\"}}}}", mermaid_text(cidr));
    }
    for (k, members) in entries.values().enumerate() {
        for i in members {
            let _ = writeln!(out, "  in{k} --> n{i}");
        }
    }
    let end = |i: usize| {
        if shown_set.contains(&i) {
            format!("n{i}")
        } else {
            format!("d{}", domain_index(&ws.services[i].id.namespace))
        }
    };
    let mut drawn: BTreeSet<(String, String, CallKind)> = BTreeSet::new();
    for &(a, b, kind) in edges {
        // Several calls between one shown service and one outside domain are one arrow.
        let key = (end(a), end(b), kind);
        if drawn.insert(key.clone()) {
            let _ = writeln!(out, "  {} {} {}", key.0, arrow(kind, None), key.1);
        }
    }
    for &i in shown {
        let service = &ws.services[i];
        let mut seen = BTreeSet::new();
        for e in &service.egress {
            if let Some(k) = exit_index.get(&e.cidr.to_string())
                && seen.insert((k, e.protocol, e.ports.clone()))
            {
                let label = ports_label(e.protocol, &e.ports);
                let _ = writeln!(out, "  n{i} {} out{k}", arrow(CallKind::Sync, Some(&label)));
            }
        }
    }
    Some(Map {
        mermaid: out,
        scale: Scale::Services,
        hidden_exits,
    })
}

/// The map of the model one node per domain: the [`MAX_DOMAINS`] domains with the most calls
/// across domains, an arrow per pair of domains and kind of call with the number of calls,
/// entry nodes to the domains with exposed services and exit nodes from those with egress.
pub fn domain_map(graph: &ServiceGraph<'_>) -> Map {
    let ws = graph.workspace();
    let names: Vec<&String> = ws.namespaces.keys().collect();
    let index = |ns: &str| names.binary_search_by(|n| n.as_str().cmp(ns)).unwrap_or(0);
    // Calls across domains, by (from, to, kind).
    let mut cells: BTreeMap<(usize, usize, CallKind), usize> = BTreeMap::new();
    let mut weight = vec![0usize; names.len()];
    for (caller, call, callee) in graph.calls() {
        let (a, b) = (index(&caller.id.namespace), index(&callee.id.namespace));
        if a == b {
            continue;
        }
        *cells.entry((a, b, call.kind)).or_default() += 1;
        weight[a] += 1;
        weight[b] += 1;
    }
    let total = names.len();
    let mut ranked: Vec<usize> = (0..total).collect();
    ranked.sort_by(|&a, &b| weight[b].cmp(&weight[a]).then_with(|| a.cmp(&b)));
    ranked.truncate(MAX_DOMAINS);
    let kept: BTreeSet<usize> = ranked.into_iter().collect();
    let kept_services = ws
        .services
        .iter()
        .filter(|s| kept.contains(&index(&s.id.namespace)));
    let (exit_index, hidden_exits) = exits(kept_services.clone());
    let mut entries: BTreeMap<Entry, BTreeSet<usize>> = BTreeMap::new();
    let mut exits_of: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut sizes = vec![0usize; names.len()];
    for service in ws.services.iter() {
        sizes[index(&service.id.namespace)] += 1;
    }
    for service in kept_services {
        let d = index(&service.id.namespace);
        if let Some(entry) = entry_of(ws, service) {
            entries.entry(entry).or_default().insert(d);
        }
        for e in &service.egress {
            if let Some(k) = exit_index.get(&e.cidr.to_string()) {
                exits_of.insert((d, *k));
            }
        }
    }
    let mut out = String::from("flowchart LR\n");
    for (k, entry) in entries.keys().enumerate() {
        let _ = writeln!(out, "  in{k}([\"{}\"])", mermaid_text(&entry.label));
    }
    for &d in &kept {
        let name = names[d];
        let services = crate::text::count(sizes[d], "service", "services");
        let title = match ws.namespaces.get(name).and_then(|n| n.team.as_deref()) {
            Some(team) => format!("{name} (team {team}, {services})"),
            None => format!("{name} ({services})"),
        };
        let _ = writeln!(out, "  d{d}[\"{}\"]", mermaid_text(&title));
    }
    for (cidr, k) in &exit_index {
        let _ = writeln!(out, "  out{k}{{{{\"{}\"}}}}", mermaid_text(cidr));
    }
    for (k, domains) in entries.values().enumerate() {
        for d in domains {
            let _ = writeln!(out, "  in{k} --> d{d}");
        }
    }
    for (&(a, b, kind), &calls) in &cells {
        if !(kept.contains(&a) && kept.contains(&b)) {
            continue;
        }
        let label = match kind {
            CallKind::Sync => crate::text::count(calls, "call", "calls"),
            other => format!(
                "{calls} {} {}",
                other.as_str(),
                crate::text::noun(calls, "call", "calls")
            ),
        };
        let _ = writeln!(out, "  d{a} {} d{b}", arrow(kind, Some(&label)));
    }
    for (d, k) in exits_of {
        let _ = writeln!(out, "  d{d} --> out{k}");
    }
    Map {
        mermaid: out,
        scale: Scale::Domains {
            shown: kept.len(),
            total,
        },
        hidden_exits,
    }
}
