//! Analyse stage of `verify`: the NetworkPolicy engine. From [`Manifests`] it computes which
//! workload may open connections to which, on which destination ports, and which addresses
//! outside the cluster's pods each workload may exchange traffic with.
//!
//! Semantics are those of `networking.k8s.io/v1`: a pod is isolated in a direction when a
//! policy of its namespace selects it with that policy type; an isolated pod accepts what the
//! union of those policies' rules allow; a pod-to-pod connection needs egress allowed at the
//! source and ingress allowed at the destination; named ports resolve against the destination
//! pod's container ports.
//!
//! Workloads with the same namespace, labels and container ports are indistinguishable to
//! policies, so they form one group and every selector is evaluated once per group, using a
//! label index for the common `app=x` selectors. Pure computation: no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rayon::prelude::*;

use crate::model::Protocol;
use crate::verify::manifest::{ContainerPort, Labels, Manifests, Peer, PortRule, Rule, Selector};
use crate::verify::sets::{AddrSet, PROTOCOLS, PortSet};

pub use crate::verify::manifest::Direction;

mod tiers;

pub use tiers::{Decided, Decision};

/// A rule of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleRef {
    /// A NetworkPolicy's rule: (policy index in `Manifests::policies`, direction, rule index).
    Network(usize, Direction, usize),
    /// An AdminNetworkPolicy's rule: (policy index in `Manifests::admin`, direction, rule index).
    Admin(usize, Direction, usize),
    /// A rule of the BaselineAdminNetworkPolicy: (direction, rule index).
    Baseline(Direction, usize),
}

/// Test-only deliberate bugs, to prove that the differential tests catch each of them. They
/// exist only with the `mutants` feature, which the full test suite turns on: the production
/// engine carries none of them.
#[cfg(feature = "mutants")]
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mutation {
    /// Evaluate `NotIn` as `In`.
    pub wrong_operator: bool,
    /// Ignore `except` of ipBlocks.
    pub dropped_except: bool,
    /// Treat `port`..`endPort` as `port` alone.
    pub ignored_end_port: bool,
}

/// Without the `mutants` feature: no deliberate bug, known at compile time.
#[cfg(not(feature = "mutants"))]
#[derive(Debug, Clone, Copy)]
struct Mutation;

#[cfg(not(feature = "mutants"))]
impl Mutation {
    const NONE: Self = Mutation;

    fn wrong_operator(self) -> bool {
        false
    }
    fn dropped_except(self) -> bool {
        false
    }
    fn ignored_end_port(self) -> bool {
        false
    }
}

#[cfg(feature = "mutants")]
impl Mutation {
    const NONE: Self = Mutation {
        wrong_operator: false,
        dropped_except: false,
        ignored_end_port: false,
    };

    fn wrong_operator(self) -> bool {
        self.wrong_operator
    }
    fn dropped_except(self) -> bool {
        self.dropped_except
    }
    fn ignored_end_port(self) -> bool {
        self.ignored_end_port
    }
}

/// The pods with identical namespace, labels, container ports and network.
#[derive(Debug, Clone)]
struct Group<'m> {
    namespace: &'m str,
    labels: &'m Labels,
    ports: &'m [ContainerPort],
    /// Pods on the node's network, which NetworkPolicy does not apply to.
    host_network: bool,
    /// Indices into `Manifests::workloads`, sorted.
    members: Vec<usize>,
}

/// External traffic of one group in one direction: address sets with their ports.
type Pieces = Vec<(AddrSet, PortSet)>;

/// The connectivity of a set of manifests.
#[derive(Debug)]
pub struct Analysis<'m> {
    manifests: &'m Manifests,
    groups: Vec<Group<'m>>,
    /// Group of each workload.
    group_of: Vec<usize>,
    /// Policies selecting each group for ingress / egress.
    ingress_policies: Vec<Vec<usize>>,
    egress_policies: Vec<Vec<usize>>,
    /// Allowed pod-to-pod ports between groups (source, destination).
    pairs: BTreeMap<(usize, usize), PortSet>,
    /// Allowed external traffic per group.
    external_in: Vec<Pieces>,
    external_out: Vec<Pieces>,
    mutation: Mutation,
}

/// What a destination group accepts.
#[derive(Default)]
struct Inbound {
    /// From the pods of each source group.
    from: HashMap<usize, PortSet>,
    /// From any pod and any address.
    any: PortSet,
    /// From addresses outside the cluster's pods.
    external: Pieces,
}

/// What a source group may send, where ingress allows it too.
#[derive(Default)]
struct Outbound {
    /// To each destination group, the ports both sides allow.
    pairs: Vec<(usize, PortSet)>,
    /// To addresses outside the cluster's pods.
    external: Pieces,
}

/// `f(0)`, ..., `f(n - 1)` in that order, computed on every core.
fn in_parallel<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    (0..n).into_par_iter().map(f).collect()
}

/// Label index: which items carry `key=value`.
type Index<'m> = HashMap<(&'m str, &'m str), Vec<usize>>;

fn index<'m>(items: impl Iterator<Item = (usize, &'m Labels)>) -> Index<'m> {
    let mut index: Index<'m> = HashMap::new();
    for (i, labels) in items {
        for (k, v) in labels {
            index.entry((k.as_str(), v.as_str())).or_default().push(i);
        }
    }
    index
}

/// Where selectors look: the namespaces with a label index, and the groups of each namespace
/// with a label index per namespace.
struct Scope<'m> {
    namespaces: Vec<(&'m str, &'m Labels)>,
    ns_index: Index<'m>,
    groups_in: BTreeMap<&'m str, Vec<usize>>,
    group_index: BTreeMap<&'m str, Index<'m>>,
}

impl<'m> Scope<'m> {
    fn new(m: &'m Manifests, groups: &[Group<'m>]) -> Self {
        let mut groups_in: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (g, group) in groups.iter().enumerate() {
            groups_in.entry(group.namespace).or_default().push(g);
        }
        let namespaces: Vec<(&str, &Labels)> =
            m.namespaces.iter().map(|(n, l)| (n.as_str(), l)).collect();
        let ns_index = index(namespaces.iter().map(|(_, l)| *l).enumerate());
        let group_index = groups_in
            .iter()
            .map(|(ns, gs)| (*ns, index(gs.iter().map(|&g| (g, groups[g].labels)))))
            .collect();
        Scope {
            namespaces,
            ns_index,
            groups_in,
            group_index,
        }
    }

    /// The groups of namespace `ns`.
    fn groups_of(&self, ns: &str) -> &[usize] {
        self.groups_in.get(ns).map_or(&[], Vec::as_slice)
    }
}

impl<'m> Analysis<'m> {
    /// Computes the connectivity of `manifests`.
    pub fn new(manifests: &'m Manifests) -> Self {
        Analysis::build(manifests, Mutation::NONE)
    }

    /// As [`Analysis::new`], with deliberate bugs for mutation tests.
    #[cfg(feature = "mutants")]
    #[doc(hidden)]
    pub fn with_mutation(manifests: &'m Manifests, mutation: Mutation) -> Self {
        Analysis::build(manifests, mutation)
    }

    fn build(manifests: &'m Manifests, mutation: Mutation) -> Self {
        let mut by_key: BTreeMap<(&str, &Labels, &[ContainerPort], bool), usize> = BTreeMap::new();
        let mut groups: Vec<Group<'m>> = Vec::new();
        let mut group_of = Vec::with_capacity(manifests.workloads.len());
        for (i, w) in manifests.workloads.iter().enumerate() {
            let key = (
                w.namespace.as_str(),
                &w.labels,
                w.ports.as_slice(),
                w.host_network,
            );
            let g = *by_key.entry(key).or_insert_with(|| {
                groups.push(Group {
                    namespace: &w.namespace,
                    labels: &w.labels,
                    ports: &w.ports,
                    host_network: w.host_network,
                    members: Vec::new(),
                });
                groups.len() - 1
            });
            groups[g].members.push(i);
            group_of.push(g);
        }
        let mut analysis = Analysis {
            manifests,
            ingress_policies: vec![Vec::new(); groups.len()],
            egress_policies: vec![Vec::new(); groups.len()],
            external_in: vec![Vec::new(); groups.len()],
            external_out: vec![Vec::new(); groups.len()],
            groups,
            group_of,
            pairs: BTreeMap::new(),
            mutation,
        };
        analysis.compute();
        analysis
    }

    fn matches(&self, selector: &Selector, labels: &Labels) -> bool {
        if self.mutation.wrong_operator() {
            let mut s = selector.clone();
            for r in &mut s.requirements {
                if let crate::verify::manifest::Requirement::NotIn(k, v) = r {
                    *r = crate::verify::manifest::Requirement::In(k.clone(), v.clone());
                }
            }
            return s.matches(labels);
        }
        selector.matches(labels)
    }

    /// The phases: which groups each policy selects, what each group accepts, what each group
    /// may send where its destination accepts it, then the admin tiers over the result.
    fn compute(&mut self) {
        let scope = Scope::new(self.manifests, &self.groups);
        self.select(&scope);
        let this = &*self;
        // Each group is computed on its own, on every core.
        let inbound: Vec<Inbound> = in_parallel(this.groups.len(), |d| this.inbound(d, &scope));
        let outbound: Vec<Outbound> =
            in_parallel(this.groups.len(), |s| this.outbound(s, &scope, &inbound));
        for (d, inbound) in inbound.into_iter().enumerate() {
            self.external_in[d] = inbound.external;
        }
        for (s, outbound) in outbound.into_iter().enumerate() {
            self.external_out[s] = outbound.external;
            for (d, ports) in outbound.pairs {
                self.pairs.insert((s, d), ports);
            }
        }
        if self.has_tiers() {
            self.apply_tiers();
        }
    }

    /// Which groups each policy selects; NetworkPolicy does not apply to pods on the node's
    /// network, so they stay unisolated.
    fn select(&mut self, scope: &Scope<'m>) {
        for (p, policy) in self.manifests.policies.iter().enumerate() {
            for &g in scope.groups_of(&policy.namespace) {
                if !self.groups[g].host_network
                    && self.matches(&policy.selector, self.groups[g].labels)
                {
                    if policy.ingress.is_some() {
                        self.ingress_policies[g].push(p);
                    }
                    if policy.egress.is_some() {
                        self.egress_policies[g].push(p);
                    }
                }
            }
        }
    }

    /// The groups a peer of a policy in namespace `own` matches.
    fn peer_groups(
        &self,
        scope: &Scope<'m>,
        own: &str,
        peer_ns: Option<&Selector>,
        pods: Option<&Selector>,
    ) -> Vec<usize> {
        let selected_ns: Vec<&str> = match peer_ns {
            None => vec![own],
            Some(sel) => {
                let candidates: Vec<usize> = match sel.required_pair() {
                    Some(pair) if !self.mutation.wrong_operator() => {
                        scope.ns_index.get(&pair).cloned().unwrap_or_default()
                    }
                    _ => (0..scope.namespaces.len()).collect(),
                };
                candidates
                    .into_iter()
                    .filter(|&i| self.matches(sel, scope.namespaces[i].1))
                    .map(|i| scope.namespaces[i].0)
                    .collect()
            }
        };
        let mut out = Vec::new();
        for ns in selected_ns {
            let gs = scope.groups_of(ns);
            let Some(sel) = pods else {
                out.extend(gs.iter().copied());
                continue;
            };
            let candidates: &[usize] = match sel.required_pair() {
                Some(pair) if !self.mutation.wrong_operator() => scope
                    .group_index
                    .get(ns)
                    .and_then(|ix| ix.get(&pair))
                    .map_or(&[], Vec::as_slice),
                _ => gs,
            };
            out.extend(
                candidates
                    .iter()
                    .copied()
                    .filter(|&g| self.matches(sel, self.groups[g].labels)),
            );
        }
        out
    }

    /// Ingress allowed at destination group `d`: per source group, from any pod, and from
    /// outside addresses.
    fn inbound(&self, d: usize, scope: &Scope<'m>) -> Inbound {
        let mut inbound = Inbound::default();
        if self.ingress_policies[d].is_empty() {
            inbound.any = PortSet::all();
            inbound.external.push((AddrSet::all(), PortSet::all()));
            return inbound;
        }
        let ports_d = self.groups[d].ports;
        for &p in &self.ingress_policies[d] {
            let policy = &self.manifests.policies[p];
            for rule in policy.ingress.iter().flatten() {
                let ports = self.resolve(rule, ports_d);
                if ports.is_empty() {
                    continue;
                }
                let Some(peers) = &rule.peers else {
                    inbound.any.union_with(&ports);
                    inbound.external.push((AddrSet::all(), ports.clone()));
                    continue;
                };
                for peer in peers {
                    match peer {
                        Peer::Block { cidr, allowed } => {
                            let addrs = self.block(cidr, allowed);
                            inbound.external.push((addrs, ports.clone()));
                        }
                        Peer::Pods { namespaces, pods } => {
                            let sources = self.peer_groups(
                                scope,
                                &policy.namespace,
                                namespaces.as_ref(),
                                pods.as_ref(),
                            );
                            for s in sources {
                                inbound.from.entry(s).or_default().union_with(&ports);
                            }
                        }
                    }
                }
            }
        }
        inbound
    }

    /// Egress allowed at source group `s`, intersected with ingress at each destination.
    fn outbound(&self, s: usize, scope: &Scope<'m>, inbound: &[Inbound]) -> Outbound {
        let mut outbound = Outbound::default();
        let mut egress: BTreeMap<usize, PortSet> = BTreeMap::new();
        // Rules that allow every destination: resolved per destination (named ports).
        let mut any_rules: Vec<&Rule> = Vec::new();
        let unisolated = self.egress_policies[s].is_empty();
        if unisolated {
            outbound.external.push((AddrSet::all(), PortSet::all()));
        }
        for &p in &self.egress_policies[s] {
            let policy = &self.manifests.policies[p];
            for rule in policy.egress.iter().flatten() {
                let Some(peers) = &rule.peers else {
                    any_rules.push(rule);
                    let ports = self.resolve(rule, &[]);
                    if !ports.is_empty() {
                        outbound.external.push((AddrSet::all(), ports));
                    }
                    continue;
                };
                for peer in peers {
                    match peer {
                        Peer::Block { cidr, allowed } => {
                            let ports = self.resolve(rule, &[]);
                            if !ports.is_empty() {
                                outbound.external.push((self.block(cidr, allowed), ports));
                            }
                        }
                        Peer::Pods { namespaces, pods } => {
                            let destinations = self.peer_groups(
                                scope,
                                &policy.namespace,
                                namespaces.as_ref(),
                                pods.as_ref(),
                            );
                            for d in destinations {
                                let ports = self.resolve(rule, self.groups[d].ports);
                                if !ports.is_empty() {
                                    egress.entry(d).or_default().union_with(&ports);
                                }
                            }
                        }
                    }
                }
            }
        }
        let everyone = unisolated || !any_rules.is_empty();
        let candidates: BTreeSet<usize> = if everyone {
            (0..self.groups.len()).collect()
        } else {
            egress.keys().copied().collect()
        };
        for d in candidates {
            let mut out = if unisolated {
                PortSet::all()
            } else {
                egress.get(&d).cloned().unwrap_or_default()
            };
            for rule in &any_rules {
                out.union_with(&self.resolve(rule, self.groups[d].ports));
            }
            if out.is_empty() {
                continue;
            }
            let mut allowed_in = inbound[d].any.clone();
            if let Some(ports) = inbound[d].from.get(&s) {
                allowed_in.union_with(ports);
            }
            let allowed = out.intersection(&allowed_in);
            if !allowed.is_empty() {
                outbound.pairs.push((d, allowed));
            }
        }
        outbound
    }

    fn block(&self, cidr: &ipnet::IpNet, allowed: &AddrSet) -> AddrSet {
        if self.mutation.dropped_except() {
            AddrSet::net(cidr)
        } else {
            allowed.clone()
        }
    }

    /// The ports a rule allows towards a pod with `ports` (empty for addresses outside the
    /// cluster's pods, where a named port matches nothing).
    fn resolve(&self, rule: &Rule, ports: &[ContainerPort]) -> PortSet {
        resolve_ports(rule, ports, self.mutation)
    }

    /// The manifests analysed.
    pub fn manifests(&self) -> &'m Manifests {
        self.manifests
    }

    /// The ports `from` may use to open connections to `to` (workload indices).
    pub fn allowed(&self, from: usize, to: usize) -> PortSet {
        self.pairs
            .get(&(self.group_of[from], self.group_of[to]))
            .cloned()
            .unwrap_or_default()
    }

    /// True when some policy selects the workload for `direction`.
    pub fn isolated(&self, workload: usize, direction: Direction) -> bool {
        let g = self.group_of[workload];
        match direction {
            Direction::Ingress => !self.ingress_policies[g].is_empty(),
            Direction::Egress => !self.egress_policies[g].is_empty(),
        }
    }

    /// The policies that select the workload for `direction`.
    pub fn selecting(&self, workload: usize, direction: Direction) -> &[usize] {
        let g = self.group_of[workload];
        match direction {
            Direction::Ingress => &self.ingress_policies[g],
            Direction::Egress => &self.egress_policies[g],
        }
    }

    /// Every allowed connection between two different workloads, sorted by source then
    /// destination.
    pub fn connections(&self) -> Vec<(usize, usize, &PortSet)> {
        let mut out = Vec::new();
        for (&(s, d), ports) in &self.pairs {
            for &from in &self.groups[s].members {
                for &to in &self.groups[d].members {
                    if from != to {
                        out.push((from, to, ports));
                    }
                }
            }
        }
        out.sort_by_key(|&(from, to, _)| (from, to));
        out
    }

    /// The external traffic of a workload in one direction: for each protocol, the distinct
    /// port sets with the exact addresses they hold for.
    pub fn external(
        &self,
        workload: usize,
        direction: Direction,
    ) -> Vec<(Protocol, PortSet, AddrSet)> {
        let g = self.group_of[workload];
        let pieces = match direction {
            Direction::Ingress => &self.external_in[g],
            Direction::Egress => &self.external_out[g],
        };
        canonical(pieces)
    }

    /// The rules through which `from` may reach `to` in `direction` (the egress rules of
    /// `from`'s policies, or the ingress rules of `to`'s), with the ports each allows.
    pub fn rules_between(
        &self,
        from: usize,
        to: usize,
        direction: Direction,
    ) -> Vec<(RuleRef, PortSet)> {
        self.np_rules(self.group_of[from], self.group_of[to], direction)
    }

    /// The NetworkPolicy rules through which group `s` may reach group `d` in `direction`,
    /// with the ports each allows.
    fn np_rules(&self, s: usize, d: usize, direction: Direction) -> Vec<(RuleRef, PortSet)> {
        let m = self.manifests;
        let (subject, other) = match direction {
            Direction::Ingress => (d, s),
            Direction::Egress => (s, d),
        };
        let other = &self.groups[other];
        let dest_ports = self.groups[d].ports;
        let policies = match direction {
            Direction::Ingress => &self.ingress_policies[subject],
            Direction::Egress => &self.egress_policies[subject],
        };
        let mut out = Vec::new();
        for &p in policies {
            let policy = &m.policies[p];
            let rules = match direction {
                Direction::Ingress => policy.ingress.as_deref(),
                Direction::Egress => policy.egress.as_deref(),
            };
            for (r, rule) in rules.unwrap_or_default().iter().enumerate() {
                let hit = match &rule.peers {
                    None => true,
                    Some(peers) => peers.iter().any(|peer| {
                        self.peer_matches(&policy.namespace, peer, other.namespace, other.labels)
                    }),
                };
                if hit {
                    let ports = resolve_ports(rule, dest_ports, self.mutation);
                    if !ports.is_empty() {
                        out.push((RuleRef::Network(p, direction, r), ports));
                    }
                }
            }
        }
        out
    }

    /// The rules that let external addresses in (or out) for a workload, with their ports.
    pub fn external_rules(
        &self,
        workload: usize,
        direction: Direction,
    ) -> Vec<(RuleRef, AddrSet, PortSet)> {
        let m = self.manifests;
        let mut out = Vec::new();
        let dest_ports: &[ContainerPort] = match direction {
            Direction::Ingress => &m.workloads[workload].ports,
            Direction::Egress => &[],
        };
        for &p in self.selecting(workload, direction) {
            let policy = &m.policies[p];
            let rules = match direction {
                Direction::Ingress => policy.ingress.as_deref(),
                Direction::Egress => policy.egress.as_deref(),
            };
            for (r, rule) in rules.unwrap_or_default().iter().enumerate() {
                let ports = resolve_ports(rule, dest_ports, self.mutation);
                if ports.is_empty() {
                    continue;
                }
                let mut addrs = AddrSet::none();
                match &rule.peers {
                    None => addrs = AddrSet::all(),
                    Some(peers) => {
                        for peer in peers {
                            if let Peer::Block { cidr, allowed } = peer {
                                addrs.union_with(&self.block(cidr, allowed));
                            }
                        }
                    }
                }
                if !addrs.is_empty() {
                    out.push((RuleRef::Network(p, direction, r), addrs, ports));
                }
            }
        }
        out
    }

    fn peer_matches(&self, own: &str, peer: &Peer, namespace: &str, labels: &Labels) -> bool {
        match peer {
            Peer::Block { .. } => false,
            Peer::Pods { namespaces, pods } => {
                let ns_ok = match namespaces {
                    None => namespace == own,
                    Some(sel) => self
                        .manifests
                        .namespaces
                        .get(namespace)
                        .is_some_and(|labels| self.matches(sel, labels)),
                };
                ns_ok && pods.as_ref().is_none_or(|sel| self.matches(sel, labels))
            }
        }
    }
}

/// The ports `rule` allows towards a destination with container `ports`.
fn resolve_ports(rule: &Rule, ports: &[ContainerPort], mutation: Mutation) -> PortSet {
    let Some(list) = &rule.ports else {
        return PortSet::all();
    };
    let mut set = PortSet::none();
    for p in list {
        match p {
            PortRule::All(protocol) => set.insert_all(*protocol),
            PortRule::Range(protocol, lo, hi) => {
                let hi = if mutation.ignored_end_port() { lo } else { hi };
                set.insert(*protocol, *lo, *hi);
            }
            PortRule::Named(protocol, name) => {
                for c in ports {
                    if c.protocol == *protocol && c.name.as_deref() == Some(name.as_str()) {
                        set.insert(*protocol, c.port, c.port);
                    }
                }
            }
        }
    }
    set
}

/// Groups external pieces into, per protocol, the distinct port sets and the exact address
/// set each holds for. Sorted by protocol, then ports.
fn canonical(pieces: &Pieces) -> Vec<(Protocol, PortSet, AddrSet)> {
    let mut out: BTreeMap<(Protocol, PortSet), AddrSet> = BTreeMap::new();
    for family in [false, true] {
        let ranges = |a: &AddrSet| if family { a.v6.clone() } else { a.v4.clone() };
        // Elementary segments between every boundary of every piece.
        let mut bounds: BTreeSet<u128> = BTreeSet::new();
        let mut open_end = false;
        for (addrs, _) in pieces {
            for (lo, hi) in ranges(addrs).iter() {
                bounds.insert(lo);
                match hi.checked_add(1) {
                    Some(next) => {
                        bounds.insert(next);
                    }
                    None => open_end = true,
                }
            }
        }
        let bounds: Vec<u128> = bounds.into_iter().collect();
        for (i, &lo) in bounds.iter().enumerate() {
            let hi = match bounds.get(i + 1) {
                Some(next) => next - 1,
                None if open_end => u128::MAX,
                None => continue,
            };
            let mut ports = PortSet::none();
            for (addrs, p) in pieces {
                if ranges(addrs).covers(lo, hi) {
                    ports.union_with(p);
                }
            }
            for protocol in PROTOCOLS {
                let r = ports.ranges(protocol);
                if r.is_empty() {
                    continue;
                }
                let mut key_ports = PortSet::none();
                for (a, b) in r.iter() {
                    key_ports.insert(protocol, a as u16, b as u16);
                }
                let entry = out.entry((protocol, key_ports)).or_default();
                if family {
                    entry.v6.insert(lo, hi);
                } else {
                    entry.v4.insert(lo, hi);
                }
            }
        }
    }
    out.into_iter()
        .map(|((p, ports), addrs)| (p, ports, addrs))
        .collect()
}
