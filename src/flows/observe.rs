//! Analyse stage of flows: each record classified and its endpoints mapped to the workspace,
//! then aggregated per (source, destination, port) with a count and the first and last time.
//!
//! What is not a call is counted on its own, never as a call: packets of the answering side
//! (`is_reply`), traffic of a node (kubelet health checks come from `reserved:host`), DNS
//! lookups (Hubble's `l7.dns`, or port 53 to anything that is no service of the workspace), the
//! Kubernetes API server, transports without ports (ICMP), and what the cluster dropped.
//!
//! Pods map to services the way `verify` maps workloads ([`compare::service_for`]): namespace
//! and workload name, a Kubernetes Service that selects the pod (when manifests are given),
//! the `app` or `app.kubernetes.io/name` label. With manifests, each pod is also matched to the
//! manifests' workload it runs as, so that the engine can say whether their policies let the
//! flow through. A pod that maps to no service is kept under its own name and reported. Pure.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use super::{At, Peer, Pod, Record};
use crate::model::{Protocol, Workspace};
use crate::verify::compare;
use crate::verify::manifest::{Manifests, ServiceSelector};

/// One end of an aggregated flow.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum End {
    /// A service of the workspace (its index), and the manifests' workload its pod runs as.
    Service {
        /// Index into the workspace's services.
        service: usize,
        /// Index into the manifests' workloads, when manifests are given and one matches.
        workload: Option<usize>,
    },
    /// A pod of the project's gateway, with the manifests' workload it runs as.
    Gateway {
        /// Index into the manifests' workloads.
        workload: Option<usize>,
    },
    /// A pod that is no service of the workspace, as `namespace/name`, with the manifests'
    /// workload it runs as.
    Unmapped {
        /// `namespace/name`.
        id: String,
        /// Index into the manifests' workloads.
        workload: Option<usize>,
    },
    /// An address outside the cluster, when the record gives it.
    World(Option<IpAddr>),
}

/// How often and when one (source, destination, port) was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// Records (or what a table's `count` says).
    pub count: u64,
    /// Earliest time, seconds since the epoch.
    pub first: Option<i64>,
    /// Latest time.
    pub last: Option<i64>,
    /// Where it was first read.
    pub at: At,
}

impl Seen {
    fn add(&mut self, count: u64, time: Option<i64>) {
        self.count += count;
        if let Some(t) = time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
    }

    /// Takes in what another reader saw of the same flow: the counts add up, the earliest
    /// place and the widest window win.
    pub fn merge(&mut self, other: &Seen) {
        self.count += other.count;
        self.first = min_time(self.first, other.first);
        self.last = match (self.last, other.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.at = self.at.min(other.at);
    }

    /// "42 times, 2024-01-01T10:00:00Z to 2024-01-02T09:00:00Z" (the times when known).
    pub fn describe(&self) -> String {
        let times = crate::text::count(self.count as usize, "time", "times");
        match (self.first, self.last) {
            (Some(f), Some(l)) if f != l => format!(
                "{times}, {} to {}",
                super::format_time(f),
                super::format_time(l)
            ),
            (Some(f), _) => format!("{times}, at {}", super::format_time(f)),
            _ => times,
        }
    }
}

/// The earlier of two times, when either is known.
fn min_time(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// (source, destination, transport and port).
pub type Key = (End, End, Option<(Protocol, u16)>);

/// Everything the flows showed, aggregated.
#[derive(Debug, Clone, Default)]
pub struct Observations {
    /// Calls, per (source, destination, port).
    pub calls: HashMap<Key, Seen, super::FastHash>,
    /// Packets of the answering side.
    pub replies: u64,
    /// Traffic from or to a node (health checks, the node's own network).
    pub node: u64,
    /// DNS lookups.
    pub dns: u64,
    /// Traffic with the Kubernetes API server.
    pub api_server: u64,
    /// Records without ports (ICMP).
    pub portless: u64,
    /// Records the cluster dropped.
    pub dropped: u64,
    /// Records with an end that is neither a pod nor an address, by what it is.
    pub other: BTreeMap<String, Seen>,
    /// The earliest and the latest time of any record.
    pub window: (Option<i64>, Option<i64>),
}

impl Observations {
    /// Takes in what another reader observed.
    pub fn merge(&mut self, other: Observations) {
        for (key, seen) in other.calls {
            match self.calls.entry(key) {
                std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().merge(&seen),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(seen);
                }
            }
        }
        self.replies += other.replies;
        self.node += other.node;
        self.dns += other.dns;
        self.api_server += other.api_server;
        self.portless += other.portless;
        self.dropped += other.dropped;
        for (what, seen) in other.other {
            match self.other.entry(what) {
                std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().merge(&seen),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(seen);
                }
            }
        }
        self.window.0 = min_time(self.window.0, other.window.0);
        self.window.1 = match (self.window.1, other.window.1) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    /// The calls sorted by key: the order every report uses.
    pub fn sorted_calls(&self) -> Vec<(&Key, &Seen)> {
        let mut calls: Vec<(&Key, &Seen)> = self.calls.iter().collect();
        calls.sort_by(|a, b| a.0.cmp(b.0));
        calls
    }
}

/// Maps pods to services and workloads, each distinct pod once.
pub struct Mapper<'a> {
    ws: &'a Workspace,
    manifests: Option<&'a Manifests>,
    selectors: BTreeMap<&'a str, Vec<&'a ServiceSelector>>,
    /// Pods already mapped, by a hash of their namespace and names (hashing every label of
    /// every record cost more than the rest of the mapping); pods with the same names but
    /// other labels share a bucket.
    cache: HashMap<u64, Vec<(std::sync::Arc<Pod>, End)>, super::FastHash>,
    /// Pods already mapped, by address: the Hubble reader hands out the same shared pod for
    /// the same endpoint. Each pod is kept alive in `kept`, so that no other pod can take its
    /// address while it is in the map; both are emptied at [`Mapper::KEPT`] pods.
    by_address: HashMap<usize, End, super::FastHash>,
    kept: Vec<std::sync::Arc<Pod>>,
}

impl<'a> Mapper<'a> {
    /// A mapper onto `ws`, and onto the workloads of `manifests` when given.
    pub fn new(ws: &'a Workspace, manifests: Option<&'a Manifests>) -> Self {
        let mut selectors: BTreeMap<&str, Vec<&ServiceSelector>> = BTreeMap::new();
        for s in manifests.iter().flat_map(|m| &m.services) {
            selectors.entry(s.namespace.as_str()).or_default().push(s);
        }
        Mapper {
            ws,
            manifests,
            selectors,
            cache: HashMap::default(),
            by_address: HashMap::default(),
            kept: Vec::new(),
        }
    }

    /// The manifests' workload a pod runs as: by name in its namespace (its controller, or
    /// the pod itself), else the workload whose pod labels it carries, the most specific one.
    fn workload(&self, pod: &Pod) -> Option<usize> {
        let m = self.manifests?;
        let start = m
            .workloads
            .partition_point(|w| w.namespace.as_str() < pod.namespace.as_str());
        let candidates = m.workloads[start..]
            .iter()
            .enumerate()
            .take_while(|(_, w)| w.namespace == pod.namespace);
        let mut best: Option<(usize, usize)> = None;
        for (i, w) in candidates {
            let i = start + i;
            if pod.workload.as_deref() == Some(&w.name) || pod.pod.as_deref() == Some(&w.name) {
                return Some(i);
            }
            if !w.labels.is_empty()
                && w.labels.iter().all(|(k, v)| pod.labels.get(k) == Some(v))
                && best.is_none_or(|(n, _)| w.labels.len() > n)
            {
                best = Some((w.labels.len(), i));
            }
        }
        best.map(|(_, i)| i)
    }

    fn is_gateway(&self, pod: &Pod) -> bool {
        self.ws.project.gateway.as_ref().is_some_and(|g| {
            g.pod_namespace == pod.namespace
                && g.pod_labels
                    .as_slice()
                    .iter()
                    .all(|(k, v)| pod.labels.get(k) == Some(v))
        })
    }

    /// Where a pod belongs.
    pub fn pod(&mut self, pod: &std::sync::Arc<Pod>) -> End {
        let address = std::sync::Arc::as_ptr(pod) as usize;
        if let Some(end) = self.by_address.get(&address) {
            return end.clone();
        }
        let end = self.pod_by_content(pod);
        if self.kept.len() >= Self::KEPT {
            self.by_address.clear();
            self.kept.clear();
        }
        self.by_address.insert(address, end.clone());
        self.kept.push(std::sync::Arc::clone(pod));
        end
    }

    /// The most pods [`Mapper::pod`] recognises by address.
    const KEPT: usize = 100_000;

    /// Where a pod belongs, found by its names and labels.
    fn pod_by_content(&mut self, pod: &std::sync::Arc<Pod>) -> End {
        use std::hash::BuildHasher;
        let key = self
            .cache
            .hasher()
            .hash_one((&pod.namespace, &pod.workload, &pod.pod));
        if let Some((_, end)) = self
            .cache
            .get(&key)
            .and_then(|bucket| bucket.iter().find(|(p, _)| p == pod))
        {
            return end.clone();
        }
        let workload = self.workload(pod);
        let end = if self.is_gateway(pod) {
            End::Gateway { workload }
        } else {
            let service = match workload.and_then(|w| self.manifests.map(|m| &m.workloads[w])) {
                // As `verify` maps the workload.
                Some(w) => compare::service_for(
                    self.ws,
                    &w.namespace,
                    Some(&w.name),
                    &compare::selecting(&self.selectors, &w.namespace, &w.labels),
                    &w.labels,
                ),
                None => compare::service_for(
                    self.ws,
                    &pod.namespace,
                    pod.workload.as_deref().or(pod.pod.as_deref()),
                    &compare::selecting(&self.selectors, &pod.namespace, &pod.labels),
                    &pod.labels,
                ),
            };
            match service {
                Some(service) => End::Service { service, workload },
                None => End::Unmapped {
                    id: pod.id(),
                    workload,
                },
            }
        };
        self.cache
            .entry(key)
            .or_default()
            .push((std::sync::Arc::clone(pod), end.clone()));
        end
    }

    fn end(&mut self, peer: &Peer) -> Option<End> {
        match peer {
            Peer::Pod(pod) => Some(self.pod(pod)),
            Peer::World(ip) => Some(End::World(*ip)),
            _ => None,
        }
    }

    /// Adds one record to `obs`.
    pub fn add(&mut self, obs: &mut Observations, at: At, r: &Record) {
        if let Some(t) = r.time {
            obs.window.0 = Some(obs.window.0.map_or(t, |f| f.min(t)));
            obs.window.1 = Some(obs.window.1.map_or(t, |l| l.max(t)));
        }
        let count = r.count;
        let seen = || Seen {
            count: 0,
            first: None,
            last: None,
            at,
        };
        match classify(r) {
            Class::Dropped => obs.dropped += count,
            Class::Reply => obs.replies += count,
            Class::ApiServer => obs.api_server += count,
            Class::Node => obs.node += count,
            Class::Portless => obs.portless += count,
            Class::Dns => obs.dns += count,
            Class::Other(what) => obs
                .other
                .entry(what.to_string())
                .or_insert_with(seen)
                .add(count, r.time),
            Class::Call => {
                let (Some(from), Some(to)) = (self.end(&r.source), self.end(&r.destination)) else {
                    return;
                };
                // Port 53 to anything that is no service of the workspace is a lookup.
                if is_dns_port(r) && !matches!(to, End::Service { .. }) {
                    obs.dns += count;
                    return;
                }
                obs.calls
                    .entry((from, to, r.port))
                    .or_insert_with(seen)
                    .add(count, r.time);
            }
        }
    }
}

/// Records mapped and aggregated as they are read: a [`Mapper`] and what it has observed.
pub struct Observer<'a> {
    mapper: Mapper<'a>,
    /// What the records showed.
    pub observations: Observations,
}

impl<'a> Observer<'a> {
    /// An observer onto `ws`, and onto the workloads of `manifests` when given.
    pub fn new(ws: &'a Workspace, manifests: Option<&'a Manifests>) -> Self {
        Observer {
            mapper: Mapper::new(ws, manifests),
            observations: Observations::default(),
        }
    }
}

impl super::read::Sink for Observer<'_> {
    fn add(&mut self, at: At, record: Record) {
        self.mapper.add(&mut self.observations, at, &record);
    }

    fn merge(&mut self, other: Self) {
        self.observations.merge(other.observations);
    }
}

/// What a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class<'r> {
    /// Dropped by the cluster.
    Dropped,
    /// A packet of the answering side.
    Reply,
    /// With the API server.
    ApiServer,
    /// With a node.
    Node,
    /// Without ports (ICMP).
    Portless,
    /// A DNS lookup (an L7 DNS record).
    Dns,
    /// With an end that is neither a pod nor an address: what it is.
    Other(&'r str),
    /// A call between pods or with outside addresses (port 53 to a non-service still counts
    /// as DNS once the destination is mapped).
    Call,
}

/// True when the record is to port 53 over UDP or TCP.
pub fn is_dns_port(r: &Record) -> bool {
    matches!(r.port, Some((Protocol::Udp | Protocol::Tcp, 53)))
}

/// Classifies a record, in this order: dropped, reply, API server, node, without ports, DNS,
/// other identities, call.
pub fn classify(r: &Record) -> Class<'_> {
    let either = |f: fn(&Peer) -> bool| f(&r.source) || f(&r.destination);
    if r.dropped {
        Class::Dropped
    } else if r.reply {
        Class::Reply
    } else if either(|p| matches!(p, Peer::ApiServer)) {
        Class::ApiServer
    } else if either(|p| matches!(p, Peer::Node)) {
        Class::Node
    } else if r.portless {
        Class::Portless
    } else if r.dns {
        Class::Dns
    } else if let Peer::Other(what) = &r.source {
        Class::Other(what)
    } else if let Peer::Other(what) = &r.destination {
        Class::Other(what)
    } else {
        Class::Call
    }
}
