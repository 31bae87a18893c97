//! Model stage of `import --flows`: observed calls turned into what an import drafts — callers
//! and callees as services (found among those a static import read, or new), each call with
//! the port it was seen on, and egress to outside addresses as `egress` entries whose CIDRs are
//! the fewest blocks that hold exactly the addresses seen (a guess: the service behind them may
//! use others). Every value names the flow file and line it comes from, how often and when it
//! was seen, and whether the static import found the call too. Traffic that is no call
//! (replies, DNS, nodes, the API server) never becomes one. Pure.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;

use super::observe::{Class, Seen, classify, is_dns_port};
use super::{At, Peer, Pod, Record};
use crate::import::draft::{Draft, EgressDraft, PortDraft, Prov, Ref, SvcDraft, Target};
use crate::model::{Expose, Protocol};

impl super::read::Sink for FlowCalls {
    fn add(&mut self, at: At, record: Record) {
        FlowCalls::add(self, at, &record);
    }

    fn merge(&mut self, other: Self) {
        self.merge_calls(other);
    }
}

/// A pod as an import names it: its namespace (empty for `default`, the project's) and the
/// names it may go by, best first: its workload, its `app` and `app.kubernetes.io/name`
/// labels, its own name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Named {
    /// Namespace; empty for `default`.
    pub namespace: String,
    /// Candidate names, best first, never empty.
    pub names: Vec<String>,
}

fn named(pod: &Pod) -> Option<Named> {
    let mut names: Vec<String> = Vec::new();
    for n in [
        pod.workload.as_deref(),
        pod.labels.get("app").map(String::as_str),
        pod.labels.get("app.kubernetes.io/name").map(String::as_str),
        pod.pod.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        if !n.is_empty() && !names.iter().any(|x| x == n) {
            names.push(n.to_string());
        }
    }
    (!names.is_empty()).then(|| Named {
        namespace: if pod.namespace == "default" {
            String::new()
        } else {
            pod.namespace.clone()
        },
        names,
    })
}

/// One end as the import sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    /// A pod.
    Pod(Named),
    /// An address outside the cluster.
    World(Option<IpAddr>),
}

/// Transport and port.
type Port = Option<(Protocol, u16)>;

/// Ports seen, as (protocol, port).
type Ports = BTreeSet<(Protocol, u16)>;

/// The calls the flows show, per (source, destination, port).
#[derive(Debug, Clone, Default)]
pub struct FlowCalls {
    /// Calls.
    pub calls: BTreeMap<(End, End, Port), Seen>,
    /// The flow files, as the records' `At::file` indexes them.
    pub files: Vec<PathBuf>,
}

impl FlowCalls {
    /// Adds one record: only calls count.
    pub fn add(&mut self, at: At, r: &Record) {
        if classify(r) != Class::Call {
            return;
        }
        let end = |p: &Peer| match p {
            Peer::Pod(pod) => named(pod).map(End::Pod),
            Peer::World(ip) => Some(End::World(*ip)),
            _ => None,
        };
        let (Some(from), Some(to)) = (end(&r.source), end(&r.destination)) else {
            return;
        };
        // Lookups of the cluster's DNS are no call of the product.
        if is_dns_port(r)
            && matches!(&to, End::Pod(n) if crate::names::reserved_namespace(&n.namespace))
        {
            return;
        }
        let seen = self.calls.entry((from, to, r.port)).or_insert(Seen {
            count: 0,
            first: None,
            last: None,
            at,
        });
        seen.count += r.count;
        if let Some(t) = r.time {
            seen.first = Some(seen.first.map_or(t, |f| f.min(t)));
            seen.last = Some(seen.last.map_or(t, |l| l.max(t)));
        }
    }

    fn merge_calls(&mut self, other: FlowCalls) {
        for (key, seen) in other.calls {
            match self.calls.entry(key) {
                std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().merge(&seen),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(seen);
                }
            }
        }
    }

    fn prov(&self, seen: &Seen, also: Option<bool>) -> Prov {
        let file = self
            .files
            .get(seen.at.file)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut what = format!("observed {}", seen.describe());
        match also {
            Some(true) => what.push_str("; the static import found it too"),
            Some(false) => what.push_str("; the static import did not find it"),
            None => {}
        }
        Prov::observed(&file, seen.at.line, what)
    }

    /// Adds the calls to `draft`: services found by name (or added), ports seen on services
    /// that declare none, a reference per call, egress entries per caller. `static_input` says
    /// whether a static import filled the draft first.
    pub fn apply(&self, draft: &mut Draft, static_input: bool) {
        for file in &self.files {
            draft.sources.push(file.display().to_string());
        }
        draft.kind = if static_input {
            format!("{} and observed flows", draft.kind)
        } else {
            "observed flows".to_string()
        };
        let static_count = draft.services.len();
        let mut egress: BTreeMap<usize, BTreeMap<IpAddr, (Ports, Seen)>> = BTreeMap::new();
        for ((from, to, port), seen) in &self.calls {
            match (from, to) {
                (End::Pod(a), End::Pod(b)) => {
                    let ai = self.service(draft, a, seen);
                    let bi = self.service(draft, b, seen);
                    if ai == bi {
                        continue;
                    }
                    // A port the callee listens on, seen in the flows, whether or not the
                    // static import knew it: a call on it must be allowed. Not on a service
                    // reached from outside, whose every port is exposed: there the import
                    // names the port as one the callee does not declare.
                    let callee = &mut draft.services[bi];
                    let exposed = matches!(&callee.expose, Some((e, _)) if *e != Expose::Cluster);
                    if let Some((protocol, p)) = port
                        && !exposed
                        && !callee
                            .ports
                            .iter()
                            .any(|x| x.protocol == *protocol && (x.target == *p || x.port == *p))
                    {
                        callee.ports.push(PortDraft {
                            name: None,
                            port: *p,
                            target: *p,
                            protocol: *protocol,
                            app_protocol: None,
                            prov: self.prov(seen, None),
                        });
                    }
                    let callee_name = draft.services[bi].name.clone();
                    let callee_ns = draft.services[bi].namespace.clone();
                    let also = static_input.then(|| {
                        ai < static_count
                            && draft.services[ai].refs.iter().any(|r| {
                                !r.prov.observed
                                    && match &r.target {
                                        Target::Service { name, .. } => {
                                            name.eq_ignore_ascii_case(&callee_name)
                                        }
                                        Target::Host(h) | Target::SecretHost(h) => {
                                            crate::import::draft::kube_host(h).is_some_and(
                                                |(n, _)| n.eq_ignore_ascii_case(&callee_name),
                                            )
                                        }
                                    }
                            })
                    });
                    let prov = self.prov(seen, also);
                    draft.services[ai].refs.push(Ref {
                        target: Target::Service {
                            namespace: if callee_ns.is_empty() {
                                "default".to_string()
                            } else {
                                callee_ns
                            },
                            name: callee_name,
                        },
                        port: port.map(|(_, p)| p),
                        prov,
                    });
                }
                (End::Pod(a), End::World(ip)) => {
                    let ai = self.service(draft, a, seen);
                    let Some(ip) = ip else {
                        draft.unknowns.push(format!(
                            "{}: sends to an outside address the flows do not give; add an `egress` entry [{}]",
                            draft.services[ai].name,
                            self.prov(seen, None).at
                        ));
                        continue;
                    };
                    let entry = egress
                        .entry(ai)
                        .or_default()
                        .entry(*ip)
                        .or_insert((BTreeSet::new(), *seen));
                    if let Some(port) = port {
                        entry.0.insert(*port);
                    }
                    entry.1.count += seen.count;
                }
                (End::World(_), End::Pod(b)) => {
                    let bi = self.service(draft, b, seen);
                    draft.unknowns.push(format!(
                        "{}: received traffic from outside the cluster{} ({}); if it is exposed, set `expose` [{}]",
                        draft.services[bi].name,
                        port.map(|(pr, p)| format!(" on {} {p}", pr.as_str())).unwrap_or_default(),
                        seen.describe(),
                        self.prov(seen, None).at
                    ));
                }
                (End::World(_), End::World(_)) => {}
            }
        }
        for (service, addresses) in egress {
            // Addresses with the same ports share entries, in the fewest blocks.
            let mut by_ports: BTreeMap<Ports, (Vec<IpNet>, Seen)> = BTreeMap::new();
            for (ip, (ports, seen)) in addresses {
                let e = by_ports.entry(ports).or_insert((Vec::new(), seen));
                e.0.push(IpNet::from(ip));
                e.1.count += if e.0.len() > 1 { seen.count } else { 0 };
            }
            for (ports, (nets, seen)) in by_ports {
                let mut protocols: BTreeMap<Protocol, Vec<u16>> = BTreeMap::new();
                for (protocol, p) in &ports {
                    protocols.entry(*protocol).or_default().push(*p);
                }
                if protocols.is_empty() {
                    protocols.insert(Protocol::Tcp, Vec::new());
                }
                for cidr in IpNet::aggregate(&nets) {
                    for (protocol, ports) in &protocols {
                        draft.services[service].egress_cidrs.push(EgressDraft {
                            cidr,
                            ports: ports.clone(),
                            protocol: *protocol,
                            prov: Prov {
                                guess: true,
                                ..self.prov(&seen, None)
                            },
                        });
                    }
                }
            }
        }
    }

    /// The index of the draft's service a pod is, adding one when none matches.
    fn service(&self, draft: &mut Draft, pod: &Named, seen: &Seen) -> usize {
        let same_ns = |s: &SvcDraft| {
            let ns = if s.namespace == "default" {
                ""
            } else {
                s.namespace.as_str()
            };
            ns.eq_ignore_ascii_case(&pod.namespace)
        };
        for name in &pod.names {
            if let Some(i) = draft
                .services
                .iter()
                .position(|s| same_ns(s) && s.name.eq_ignore_ascii_case(name))
            {
                return i;
            }
        }
        let mut prov = self.prov(seen, None);
        prov.what = "a pod seen in the flows".to_string();
        draft
            .services
            .push(SvcDraft::new(&pod.names[0], &pod.namespace, prov));
        draft.services.len() - 1
    }
}
