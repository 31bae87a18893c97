//! Analyse stage of `diff`, the model part: verdict, domains, services, calls, exposure, egress
//! and guardrail findings of two validated workspaces, compared value by value. Positions in
//! the file never count: moving a service or adding a comment changes nothing here.
//!
//! Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::assess::{Verdict, assess};
use crate::check::{Guardrails, check};
use crate::graph::ServiceGraph;
use crate::model::{
    Call, Egress, Expose, HealthCheck, Namespace, Protocol, Service, Workload, Workspace,
};
use crate::verify::sets::{AddrSet, PROTOCOLS, PortSet, Ranges};

/// The assessment of one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct VerdictSide {
    /// Sum of the weights of the met criteria.
    pub score: u32,
    /// Whether Kubernetes is recommended.
    pub recommended: bool,
    /// Sum of all weights.
    pub max_score: u32,
    /// Score needed for a recommendation.
    pub threshold: u32,
}

/// The assessment before and after.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct VerdictChange {
    /// The old side.
    pub old: VerdictSide,
    /// The new side.
    pub new: VerdictSide,
    /// True when the score or the recommendation differs.
    pub changed: bool,
    /// Criteria whose status or its source changed, in policy order.
    pub criteria: Vec<CriterionChange>,
}

/// One criterion whose status (met, not-met, unanswered) or source changed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CriterionChange {
    /// The criterion id.
    pub id: String,
    /// `status (source)` before, such as `met (evidence)`.
    pub old: String,
    /// `status (source)` after.
    pub new: String,
}

/// Services added, removed and changed (`namespace/name`, sorted).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ServiceChanges {
    /// Only on the new side.
    pub added: Vec<String>,
    /// Only on the old side.
    pub removed: Vec<String>,
    /// On both sides with different values.
    pub changed: Vec<ServiceChange>,
}

/// A service on both sides whose keys differ.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ServiceChange {
    /// `namespace/name`.
    pub service: String,
    /// The workspace keys whose values differ, sorted.
    pub fields: Vec<&'static str>,
}

/// Business domains (namespaces) added, removed and changed.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DomainChanges {
    /// Only on the new side.
    pub added: Vec<String>,
    /// Only on the old side.
    pub removed: Vec<String>,
    /// On both sides with different values.
    pub changed: Vec<DomainChange>,
}

/// A namespace on both sides whose keys differ.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DomainChange {
    /// The namespace.
    pub domain: String,
    /// The keys whose values differ, sorted.
    pub fields: Vec<&'static str>,
}

/// Keys of `[project]` and the `[answers]` table whose values differ.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProjectChanges {
    /// Sorted.
    pub fields: Vec<&'static str>,
}

/// One call, caller to callee.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CallRef {
    /// The caller, `namespace/name`.
    pub from: String,
    /// The callee, `namespace/name`.
    pub to: String,
}

/// A call on both sides that allows other ports, or whose kind changed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CallChange {
    /// The caller.
    pub from: String,
    /// The callee.
    pub to: String,
    /// What differs, sorted: `kind`, `ports`.
    pub fields: Vec<&'static str>,
    /// The call's kind before: `sync`, `async` or `telemetry`.
    pub old_kind: &'static str,
    /// The call's kind after.
    pub new_kind: &'static str,
}

/// Calls added, removed and changed, and what the added ones mean for the architecture.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CallChanges {
    /// Only on the new side, sorted by caller then callee.
    pub added: Vec<CallRef>,
    /// Only on the old side.
    pub removed: Vec<CallRef>,
    /// On both sides, restricted to other ports or of another kind.
    pub changed: Vec<CallChange>,
    /// The added calls that cross from one domain to another.
    pub cross_domain_added: Vec<CallRef>,
    /// Services on a cycle of calls that did not exist before, each cycle sorted.
    pub new_cycles: Vec<Vec<String>>,
    /// Domains whose calls form a cycle that did not exist before.
    pub new_domain_cycles: Vec<Vec<String>>,
}

/// A service whose reach from outside its callers changed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ExposureChange {
    /// `namespace/name`.
    pub service: String,
    /// `expose` before; `None` for a service that did not exist.
    pub old: Option<&'static str>,
    /// `expose` after; `None` for a service that was removed.
    pub new: Option<&'static str>,
    /// The load balancer's client ranges before (internal and public only).
    pub old_sources: Vec<String>,
    /// The load balancer's client ranges after.
    pub new_sources: Vec<String>,
}

/// Exposure that grew (reachable from a wider level, more addresses or more ports) or shrank.
/// A service whose sources changed both ways is in both lists.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ExposureChanges {
    /// Reachable from somewhere it was not before, sorted by service.
    pub widened: Vec<ExposureChange>,
    /// No longer reachable from somewhere it was.
    pub narrowed: Vec<ExposureChange>,
}

/// A service whose allowed egress to outside addresses changed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EgressChange {
    /// `namespace/name`.
    pub service: String,
    /// The CIDRs of the `egress` entries, as written, that allow what the other side did not.
    pub cidrs: Vec<String>,
}

/// Egress that grew or shrank. A service can be in both lists.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EgressChanges {
    /// Entries of the new side that allow addresses or ports the old side did not.
    pub widened: Vec<EgressChange>,
    /// Entries of the old side that allowed what the new side does not.
    pub narrowed: Vec<EgressChange>,
}

/// A guardrail finding, without its position (positions move with every edit).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FindingRef {
    /// The rule id.
    pub rule: &'static str,
    /// `error`, `warning` or `info`.
    pub severity: &'static str,
    /// The finding's message.
    pub message: String,
    /// The service or namespace it is about.
    pub subject: String,
}

/// Guardrail findings that appeared or went away.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FindingChanges {
    /// Only on the new side, sorted by rule, severity and message.
    pub new: Vec<FindingRef>,
    /// Only on the old side.
    pub fixed: Vec<FindingRef>,
}

macro_rules! empty_when {
    ($ty:ty, $($field:ident),+) => {
        impl $ty {
            /// True when nothing changed here.
            pub fn is_empty(&self) -> bool {
                true $(&& self.$field.is_empty())+
            }
        }
    };
}

empty_when!(ServiceChanges, added, removed, changed);
empty_when!(DomainChanges, added, removed, changed);
empty_when!(
    CallChanges,
    added,
    removed,
    changed,
    cross_domain_added,
    new_cycles,
    new_domain_cycles
);
empty_when!(ExposureChanges, widened, narrowed);
empty_when!(EgressChanges, widened, narrowed);
empty_when!(FindingChanges, new, fixed);

/// Compares the models of two workspaces; `connectivity` is that of their layouts.
pub fn compare(
    old: &Workspace,
    new: &Workspace,
    policy: &crate::policy::Policy,
    guardrails: &Guardrails,
    connectivity: super::ConnectivityChanges,
) -> super::DesignDiff {
    let (old_graph, new_graph) = (ServiceGraph::build(old), ServiceGraph::build(new));
    let mut out = super::DesignDiff {
        changed: false,
        verdict: verdict(&assess(&old_graph, policy), &assess(&new_graph, policy)),
        services: services(old, new),
        calls: calls(&old_graph, &new_graph),
        exposure: exposure(old, new),
        egress: egress(old, new),
        findings: findings(&old_graph, &new_graph, guardrails),
        connectivity,
        domains: domains(old, new),
        project: project(old, new),
    };
    out.changed = out.verdict.changed
        || !out.verdict.criteria.is_empty()
        || !out.services.is_empty()
        || !out.calls.is_empty()
        || !out.exposure.is_empty()
        || !out.egress.is_empty()
        || !out.findings.is_empty()
        || !out.connectivity.is_empty()
        || !out.domains.is_empty()
        || !out.project.fields.is_empty();
    out
}

fn verdict(old: &Verdict, new: &Verdict) -> VerdictChange {
    let side = |v: &Verdict| VerdictSide {
        score: v.score,
        recommended: v.recommended,
        max_score: v.max_score,
        threshold: v.threshold,
    };
    let status = |c: &crate::assess::CriterionResult| {
        format!("{} ({})", c.status.as_str(), c.source.as_str())
    };
    let before: BTreeMap<&str, String> = old
        .criteria
        .iter()
        .map(|c| (c.id.as_str(), status(c)))
        .collect();
    let criteria = new
        .criteria
        .iter()
        .filter_map(|c| {
            let now = status(c);
            let was = before.get(c.id.as_str())?;
            (*was != now).then(|| CriterionChange {
                id: c.id.clone(),
                old: was.clone(),
                new: now,
            })
        })
        .collect();
    let (old, new) = (side(old), side(new));
    VerdictChange {
        changed: old.score != new.score || old.recommended != new.recommended,
        old,
        new,
        criteria,
    }
}

/// Keys only on the new side, keys only on the old side, and keys on both sides with the
/// fields that differ.
type Split = (Vec<String>, Vec<String>, Vec<(String, Vec<&'static str>)>);

/// Added and removed keys of two sorted maps, and the keys on both sides whose values differ.
fn split<V>(
    old: &BTreeMap<String, V>,
    new: &BTreeMap<String, V>,
    differ: impl Fn(&V, &V) -> Vec<&'static str>,
) -> Split {
    let added = new.keys().filter(|k| !old.contains_key(*k)).cloned();
    let removed = old.keys().filter(|k| !new.contains_key(*k)).cloned();
    let changed = new.iter().filter_map(|(k, v)| {
        let fields = differ(old.get(k)?, v);
        (!fields.is_empty()).then(|| (k.clone(), fields))
    });
    (added.collect(), removed.collect(), changed.collect())
}

/// The names of the fields whose canonical values differ.
fn differing(
    old: Vec<(&'static str, String)>,
    new: Vec<(&'static str, String)>,
) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = old
        .into_iter()
        .zip(new)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.0)
        .collect();
    out.sort_unstable();
    out
}

fn by_id(ws: &Workspace) -> BTreeMap<String, &Service> {
    ws.services.iter().map(|s| (s.id.to_string(), s)).collect()
}

fn services(old: &Workspace, new: &Workspace) -> ServiceChanges {
    let (added, removed, changed) = split(&by_id(old), &by_id(new), |a, b| {
        differing(service_fields(a), service_fields(b))
    });
    ServiceChanges {
        added,
        removed,
        changed: changed
            .into_iter()
            .map(|(service, fields)| ServiceChange { service, fields })
            .collect(),
    }
}

/// Each key of a service as a canonical string, positions left out, in a fixed order.
fn service_fields(s: &Service) -> Vec<(&'static str, String)> {
    let quantity = |q: &Option<crate::quantity::Quantity>| {
        // Equal quantities written differently (`0.5`, `500m`) are the same value.
        q.as_ref()
            .map(|q| q.nanos().to_string())
            .unwrap_or_default()
    };
    let resources = &s.resources;
    let (kind, storage, storage_path) = match &s.workload {
        Workload::Deployment => ("deployment", String::new(), String::new()),
        Workload::Stateful(st) => ("stateful", st.size.nanos().to_string(), st.path.clone()),
    };
    vec![
        ("team", s.team.clone().unwrap_or_default()),
        ("description", s.description.clone()),
        ("image", s.image.clone().unwrap_or_default()),
        ("replicas", s.replicas.to_string()),
        (
            "ports",
            joined(
                s.ports
                    .iter()
                    .map(|p| format!("{}={}:{}/{}", p.name, p.port, p.target, p.protocol.as_str())),
            ),
        ),
        ("expose", s.expose.as_str().to_string()),
        ("sources", sources(s).join(",")),
        (
            "route",
            s.route
                .as_ref()
                .map(|r| format!("{:?} {} {}", r.hostnames, r.path, r.port))
                .unwrap_or_default(),
        ),
        (
            "calls",
            joined(s.calls.iter().map(|c| format!("{}{:?}", c.to, c.ports))),
        ),
        ("egress", joined(s.egress.iter().map(egress_text))),
        (
            "resources",
            [
                &resources.requests.cpu,
                &resources.requests.memory,
                &resources.limits.cpu,
                &resources.limits.memory,
            ]
            .map(quantity)
            .join(","),
        ),
        ("kind", kind.to_string()),
        ("storage", storage),
        ("storage-path", storage_path),
        (
            "health",
            s.health
                .as_ref()
                .map(|h| {
                    let path = match &h.check {
                        HealthCheck::Http { path } => path.as_str(),
                        _ => "",
                    };
                    format!("{} {} {}", h.check.as_str(), h.port_name, path)
                })
                .unwrap_or_default(),
        ),
        ("writable", s.writable.join(",")),
    ]
}

fn joined(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(";")
}

fn egress_text(e: &Egress) -> String {
    format!(
        "{} {:?} {} {}",
        e.cidr,
        e.ports,
        e.protocol.as_str(),
        e.reason
    )
}

/// A service's load balancer client ranges, as strings; empty for `cluster` and `gateway`.
fn sources(s: &Service) -> Vec<String> {
    s.sources
        .iter()
        .flat_map(|src| src.iter().map(ToString::to_string))
        .collect()
}

fn domains(old: &Workspace, new: &Workspace) -> DomainChanges {
    let fields = |n: &Namespace| {
        vec![
            ("team", n.team.clone().unwrap_or_default()),
            ("description", n.description.clone()),
            ("pod-security", n.pod_security.as_str().to_string()),
            (
                "user-resources",
                joined(n.user_resources.iter().map(|r| r.path.clone())),
            ),
        ]
    };
    let (added, removed, changed) = split(&old.namespaces, &new.namespaces, |a, b| {
        differing(fields(a), fields(b))
    });
    DomainChanges {
        added,
        removed,
        changed: changed
            .into_iter()
            .map(|(domain, fields)| DomainChange { domain, fields })
            .collect(),
    }
}

fn project(old: &Workspace, new: &Workspace) -> ProjectChanges {
    let fields = |ws: &Workspace| {
        let p = &ws.project;
        let answers: BTreeMap<&String, bool> =
            ws.answers.iter().map(|(k, a)| (k, a.value)).collect();
        vec![
            ("name", p.name.clone()),
            ("description", p.description.clone()),
            ("platform", p.platform.as_str().to_string()),
            (
                "internal-cidrs",
                joined(p.internal_cidrs.iter().map(ToString::to_string)),
            ),
            ("decision-makers", p.decision_makers.join(";")),
            ("dns", format!("{:?}", p.dns.rules)),
            (
                "gateway",
                p.gateway
                    .as_ref()
                    .map(|g| {
                        format!(
                            "{} {} {} {:?} {:?}",
                            g.name, g.namespace, g.pod_namespace, g.pod_labels, g.hostnames
                        )
                    })
                    .unwrap_or_default(),
            ),
            ("cluster-domain", p.cluster_domain.clone()),
            ("answers", format!("{answers:?}")),
        ]
    };
    ProjectChanges {
        fields: differing(fields(old), fields(new)),
    }
}

/// Every call of a workspace, by (caller, callee).
fn call_map<'a>(graph: &ServiceGraph<'a>) -> BTreeMap<CallRef, &'a Call> {
    graph
        .calls()
        .map(|(caller, call, callee)| {
            (
                CallRef {
                    from: caller.id.to_string(),
                    to: callee.id.to_string(),
                },
                call,
            )
        })
        .collect()
}

fn cycles(graph: &ServiceGraph<'_>) -> BTreeSet<Vec<String>> {
    let services = &graph.workspace().services;
    graph
        .call_cycles()
        .into_iter()
        .map(|cycle| {
            let mut ids: Vec<String> = cycle.iter().map(|&i| services[i].id.to_string()).collect();
            ids.sort();
            ids
        })
        .collect()
}

fn calls(old: &ServiceGraph<'_>, new: &ServiceGraph<'_>) -> CallChanges {
    let (before, after) = (call_map(old), call_map(new));
    let added: Vec<CallRef> = after
        .keys()
        .filter(|c| !before.contains_key(*c))
        .cloned()
        .collect();
    let removed = before
        .keys()
        .filter(|c| !after.contains_key(*c))
        .cloned()
        .collect();
    let changed = after
        .iter()
        .filter_map(|(c, now)| {
            let was = before.get(c)?;
            let fields: Vec<&'static str> = [
                ("kind", was.kind != now.kind),
                ("ports", was.ports != now.ports),
            ]
            .into_iter()
            .filter_map(|(field, differs)| differs.then_some(field))
            .collect();
            (!fields.is_empty()).then(|| CallChange {
                from: c.from.clone(),
                to: c.to.clone(),
                fields,
                old_kind: was.kind.as_str(),
                new_kind: now.kind.as_str(),
            })
        })
        .collect();
    let domain = |id: &str| id.split('/').next().unwrap_or_default().to_string();
    let cross_domain_added = added
        .iter()
        .filter(|c| domain(&c.from) != domain(&c.to))
        .cloned()
        .collect();
    let old_cycles = cycles(old);
    let new_cycles = cycles(new)
        .into_iter()
        .filter(|c| !old_cycles.contains(c))
        .collect();
    let old_domain_cycles: BTreeSet<Vec<String>> = old.namespace_cycles().into_iter().collect();
    let new_domain_cycles = new
        .namespace_cycles()
        .into_iter()
        .filter(|c| !old_domain_cycles.contains(c))
        .collect();
    CallChanges {
        added,
        removed,
        changed,
        cross_domain_added,
        new_cycles,
        new_domain_cycles,
    }
}

/// Who can reach a service from outside its declared callers, and on which container ports.
struct Reach {
    level: Expose,
    /// Client addresses of a load balancer.
    addresses: AddrSet,
    /// The gateway's pods (namespace and labels), for `gateway`.
    gateway: Option<String>,
    ports: PortSet,
}

fn reach(ws: &Workspace, s: &Service) -> Reach {
    let mut addresses = AddrSet::none();
    let mut ports = PortSet::none();
    let mut gateway = None;
    match s.expose {
        Expose::Cluster => {}
        Expose::Gateway => {
            if let (Some(route), Some(g)) = (&s.route, &ws.project.gateway) {
                gateway = Some(format!("{} {:?}", g.pod_namespace, g.pod_labels));
                if let Some(port) = s.port(&route.port) {
                    ports.insert(port.protocol, port.target, port.target);
                }
            }
        }
        Expose::Internal | Expose::Public => {
            for net in s.sources.iter().flatten() {
                addresses.insert_net(net);
            }
            for port in s.container_ports() {
                ports.insert(port.protocol, port.target, port.target);
            }
        }
    }
    Reach {
        level: s.expose,
        addresses,
        gateway,
        ports,
    }
}

impl Reach {
    fn nothing(&self) -> bool {
        self.ports.is_empty() || (self.addresses.is_empty() && self.gateway.is_none())
    }

    /// True when every (client, port) `other` admits, `self` admits too.
    fn covers(&self, other: &Reach) -> bool {
        other.nothing()
            || (self.ports.contains_all(&other.ports)
                && self.addresses.contains_all(&other.addresses)
                && (other.gateway.is_none() || other.gateway == self.gateway))
    }
}

fn exposure(old: &Workspace, new: &Workspace) -> ExposureChanges {
    let (before, after) = (by_id(old), by_id(new));
    let entry = |id: &str, was: Option<&Service>, now: Option<&Service>| ExposureChange {
        service: id.to_string(),
        old: was.map(|s| s.expose.as_str()),
        new: now.map(|s| s.expose.as_str()),
        old_sources: was.map(sources).unwrap_or_default(),
        new_sources: now.map(sources).unwrap_or_default(),
    };
    let mut out = ExposureChanges::default();
    let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for id in ids {
        let (was, now) = (before.get(id).copied(), after.get(id).copied());
        let r_was = was.map(|s| reach(old, s));
        let r_now = now.map(|s| reach(new, s));
        let wider = match (&r_was, &r_now) {
            (_, None) => false,
            (None, Some(n)) => n.level != Expose::Cluster,
            (Some(w), Some(n)) => n.level > w.level || (n.level == w.level && !w.covers(n)),
        };
        let narrower = match (&r_was, &r_now) {
            (None, _) => false,
            (Some(w), None) => w.level != Expose::Cluster,
            (Some(w), Some(n)) => n.level < w.level || (n.level == w.level && !n.covers(w)),
        };
        if wider {
            out.widened.push(entry(id, was, now));
        }
        if narrower {
            out.narrowed.push(entry(id, was, now));
        }
    }
    out
}

/// One protocol's share of an egress entry: addresses and ports.
struct Piece {
    protocol: Protocol,
    addresses: AddrSet,
    ports: Ranges,
}

fn pieces(e: &Egress) -> Vec<Piece> {
    let addresses = AddrSet::net(&e.cidr);
    if e.ports.is_empty() {
        // No ports: every port of every protocol.
        return PROTOCOLS
            .iter()
            .map(|&protocol| Piece {
                protocol,
                addresses: addresses.clone(),
                ports: Ranges::span(1, 65535),
            })
            .collect();
    }
    let mut ports = Ranges::new();
    for &p in &e.ports {
        ports.insert(u128::from(p), u128::from(p));
    }
    vec![Piece {
        protocol: e.protocol,
        addresses,
        ports,
    }]
}

/// True when `by` allows every (address, port) of `piece`. Each stretch of ports on which the
/// pieces of `by` do not change is checked on its own: there, the addresses allowed are the
/// union of those of the pieces that cover the whole stretch.
fn covered(piece: &Piece, by: &[Piece]) -> bool {
    let by: Vec<&Piece> = by.iter().filter(|b| b.protocol == piece.protocol).collect();
    let mut bounds: BTreeSet<u128> = BTreeSet::new();
    for ranges in std::iter::once(&piece.ports).chain(by.iter().map(|b| &b.ports)) {
        for (lo, hi) in ranges.iter() {
            bounds.insert(lo);
            bounds.insert(hi + 1);
        }
    }
    let bounds: Vec<u128> = bounds.into_iter().collect();
    bounds.windows(2).all(|w| {
        let (lo, hi) = (w[0], w[1] - 1);
        if !piece.ports.covers(lo, hi) {
            return true;
        }
        let mut allowed = AddrSet::none();
        for b in by.iter().filter(|b| b.ports.covers(lo, hi)) {
            allowed.union_with(&b.addresses);
        }
        allowed.contains_all(&piece.addresses)
    })
}

/// The CIDRs of the entries of `of` that allow something `than` does not, sorted.
fn wider_entries(of: &[Egress], than: &[Egress]) -> Vec<String> {
    let by: Vec<Piece> = than.iter().flat_map(pieces).collect();
    let mut cidrs: Vec<String> = of
        .iter()
        .filter(|e| !pieces(e).iter().all(|p| covered(p, &by)))
        .map(|e| e.cidr.to_string())
        .collect();
    cidrs.sort();
    cidrs.dedup();
    cidrs
}

fn egress(old: &Workspace, new: &Workspace) -> EgressChanges {
    let (before, after) = (by_id(old), by_id(new));
    let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut out = EgressChanges::default();
    for id in ids {
        let was = before.get(id).map_or(&[][..], |s| &s.egress[..]);
        let now = after.get(id).map_or(&[][..], |s| &s.egress[..]);
        let wider = wider_entries(now, was);
        if !wider.is_empty() {
            out.widened.push(EgressChange {
                service: id.clone(),
                cidrs: wider,
            });
        }
        let narrower = wider_entries(was, now);
        if !narrower.is_empty() {
            out.narrowed.push(EgressChange {
                service: id.clone(),
                cidrs: narrower,
            });
        }
    }
    out
}

fn finding_set(graph: &ServiceGraph<'_>, guardrails: &Guardrails) -> BTreeSet<FindingRef> {
    check(graph, guardrails)
        .findings
        .into_iter()
        .map(|f| FindingRef {
            rule: f.rule.as_str(),
            severity: f.severity.as_str(),
            message: f.message,
            subject: f.subject,
        })
        .collect()
}

fn findings(
    old: &ServiceGraph<'_>,
    new: &ServiceGraph<'_>,
    guardrails: &Guardrails,
) -> FindingChanges {
    let (before, after) = (finding_set(old, guardrails), finding_set(new, guardrails));
    FindingChanges {
        new: after.difference(&before).cloned().collect(),
        fixed: before.difference(&after).cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn egress(cidr: &str, ports: &[u16], protocol: Protocol) -> Egress {
        Egress {
            cidr: cidr.parse().unwrap(),
            ports: ports.to_vec(),
            protocol,
            reason: String::new(),
            span: crate::span::Span::from(0..0),
        }
    }

    #[test]
    fn an_entry_is_covered_by_the_union_of_others() {
        let tcp = Protocol::Tcp;
        let old = [
            egress("0.0.0.0/0", &[443], tcp),
            egress("0.0.0.0/0", &[80], tcp),
        ];
        // Ports spread over two entries still cover both.
        assert!(wider_entries(&[egress("10.0.0.0/8", &[80, 443], tcp)], &old).is_empty());
        // Addresses spread over two entries cover their union.
        let halves = [
            egress("10.0.0.0/9", &[443], tcp),
            egress("10.128.0.0/9", &[443], tcp),
        ];
        assert!(wider_entries(&[egress("10.0.0.0/8", &[443], tcp)], &halves).is_empty());
        // Another port, another protocol, or every port is wider.
        assert_eq!(
            wider_entries(&[egress("10.0.0.0/8", &[444], tcp)], &old),
            ["10.0.0.0/8"]
        );
        assert_eq!(
            wider_entries(&[egress("10.0.0.0/8", &[443], Protocol::Udp)], &old),
            ["10.0.0.0/8"]
        );
        assert_eq!(
            wider_entries(&[egress("10.0.0.0/8", &[], tcp)], &old),
            ["10.0.0.0/8"]
        );
        // Every port of every protocol covers anything.
        assert!(wider_entries(&old, &[egress("0.0.0.0/0", &[], Protocol::Sctp)]).is_empty());
        // IPv6 is never covered by IPv4.
        assert_eq!(
            wider_entries(&[egress("::/0", &[443], tcp)], &old),
            ["::/0"]
        );
    }
}
