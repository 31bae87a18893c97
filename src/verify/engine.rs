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
//! label index for the common `app=x` selectors. A peer (namespace and pod selectors) is
//! evaluated once however many rules name it, and groups that every rule treats alike (the
//! same peers hold them, their rules admit the same peers on the same ports) form one class:
//! connectivity is computed and stored between classes, so N workloads admitting "every pod
//! of tier front" cost N, not N². Pure computation: no I/O.

use std::collections::{BTreeMap, HashMap};

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
    /// Class of each group: groups every rule treats alike (with admin or baseline policies,
    /// each group is a class of its own, class `g` being group `g`).
    class_of: Vec<usize>,
    /// The workloads of each class, sorted.
    classes: Vec<Vec<usize>>,
    /// Allowed pod-to-pod ports between classes (source, destination).
    pairs: BTreeMap<(usize, usize), PortSet>,
    /// Allowed external traffic per group.
    external_in: Vec<Pieces>,
    external_out: Vec<Pieces>,
    mutation: Mutation,
}

/// What a destination group accepts.
#[derive(Default)]
struct Inbound {
    /// From the pods of each peer set, sorted by peer set.
    from: Vec<(usize, PortSet)>,
    /// From any pod and any address.
    any: PortSet,
    /// From addresses outside the cluster's pods.
    external: Pieces,
}

/// What a source group may send, before the destination's ingress is applied.
#[derive(Default)]
struct Egress<'m> {
    /// No policy selects it for egress: everything.
    unisolated: bool,
    /// The ports of rules towards every destination (resolved per destination), sorted.
    any: Vec<&'m Option<Vec<PortRule>>>,
    /// The ports of rules towards the pods of a peer set: (peer set, ports), sorted.
    to: Vec<(usize, &'m Option<Vec<PortRule>>)>,
    /// To addresses outside the cluster's pods.
    external: Pieces,
}

/// A peer's pods: the policy's namespace when the peer has no namespace selector, the
/// namespace selector, the pod selector.
type PeerKey<'m> = (Option<&'m str>, Option<&'m Selector>, Option<&'m Selector>);

/// The distinct pod peers of the rules of every policy that selects a group, with the
/// groups each matches.
#[derive(Default)]
struct PeerSets<'m> {
    ids: HashMap<PeerKey<'m>, usize>,
    /// The groups of each peer set, sorted.
    groups: Vec<Vec<usize>>,
}

impl<'m> PeerSets<'m> {
    /// The id of a rule's pod peer of a policy in namespace `own`.
    fn id(
        &self,
        own: &'m str,
        namespaces: Option<&'m Selector>,
        pods: Option<&'m Selector>,
    ) -> usize {
        self.ids[&peer_key(own, namespaces, pods)]
    }
}

fn peer_key<'m>(
    own: &'m str,
    namespaces: Option<&'m Selector>,
    pods: Option<&'m Selector>,
) -> PeerKey<'m> {
    (namespaces.is_none().then_some(own), namespaces, pods)
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
        for w in &manifests.workloads {
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
                });
                groups.len() - 1
            });
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
            class_of: Vec::new(),
            classes: Vec::new(),
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

    /// The phases: which groups each policy selects, the groups of each distinct peer, what
    /// each group accepts and may send, the classes of groups treated alike, what each class
    /// may send to each other where the destination accepts it, then the admin tiers over the
    /// result.
    fn compute(&mut self) {
        let scope = Scope::new(self.manifests, &self.groups);
        self.select(&scope);
        let this = &*self;
        let peers = this.peer_sets(&scope);
        // Which peer sets hold each group, sorted.
        let mut member_of: Vec<Vec<usize>> = vec![Vec::new(); this.groups.len()];
        for (set, groups) in peers.groups.iter().enumerate() {
            for &g in groups {
                member_of[g].push(set);
            }
        }
        // Each group is computed on its own, on every core.
        let inbound: Vec<Inbound> = in_parallel(this.groups.len(), |d| this.inbound(d, &peers));
        let egress: Vec<Egress> = in_parallel(this.groups.len(), |s| this.egress(s, &peers));
        let (class_of, reps) = this.classify(&member_of, &inbound, &egress);
        let pairs: Vec<Vec<(usize, PortSet)>> = in_parallel(reps.len(), |c| {
            this.outbound(
                reps[c],
                &class_of,
                &reps,
                &peers,
                &member_of,
                &inbound,
                &egress[reps[c]],
            )
        });
        let mut classes = vec![Vec::new(); reps.len()];
        for (w, &g) in self.group_of.iter().enumerate() {
            classes[class_of[g]].push(w);
        }
        self.classes = classes;
        self.class_of = class_of;
        for (d, inbound) in inbound.into_iter().enumerate() {
            self.external_in[d] = inbound.external;
        }
        for (s, egress) in egress.into_iter().enumerate() {
            self.external_out[s] = egress.external;
        }
        for (s, list) in pairs.into_iter().enumerate() {
            for (d, ports) in list {
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

    /// The groups of every distinct pod peer of the policies that select some group, each
    /// peer evaluated once.
    fn peer_sets(&self, scope: &Scope<'m>) -> PeerSets<'m> {
        let mut used = vec![false; self.manifests.policies.len()];
        for &p in self
            .ingress_policies
            .iter()
            .chain(&self.egress_policies)
            .flatten()
        {
            used[p] = true;
        }
        let mut keys: Vec<PeerKey<'m>> = Vec::new();
        let mut sets = PeerSets::default();
        for (p, policy) in self.manifests.policies.iter().enumerate() {
            if !used[p] {
                continue;
            }
            let rules = policy.ingress.iter().chain(&policy.egress).flatten();
            for peer in rules.flat_map(|r| r.peers.iter().flatten()) {
                if let Peer::Pods { namespaces, pods } = peer {
                    let key = peer_key(&policy.namespace, namespaces.as_ref(), pods.as_ref());
                    let next = sets.ids.len();
                    sets.ids.entry(key).or_insert_with(|| {
                        keys.push(key);
                        next
                    });
                }
            }
        }
        sets.groups = in_parallel(keys.len(), |i| {
            let (own, namespaces, pods) = keys[i];
            let own = own.unwrap_or_default();
            let mut groups = self.peer_groups(scope, own, namespaces, pods);
            groups.sort_unstable();
            groups.dedup();
            groups
        });
        sets
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

    /// Ingress allowed at destination group `d`: per peer set, from any pod, and from
    /// outside addresses.
    fn inbound(&self, d: usize, peers: &PeerSets<'m>) -> Inbound {
        let mut inbound = Inbound::default();
        if self.ingress_policies[d].is_empty() {
            inbound.any = PortSet::all();
            inbound.external.push((AddrSet::all(), PortSet::all()));
            return inbound;
        }
        let ports_d = self.groups[d].ports;
        let mut from: BTreeMap<usize, PortSet> = BTreeMap::new();
        for &p in &self.ingress_policies[d] {
            let policy = &self.manifests.policies[p];
            for rule in policy.ingress.iter().flatten() {
                let ports = self.resolve(rule, ports_d);
                if ports.is_empty() {
                    continue;
                }
                let Some(list) = &rule.peers else {
                    inbound.any.union_with(&ports);
                    inbound.external.push((AddrSet::all(), ports.clone()));
                    continue;
                };
                for peer in list {
                    match peer {
                        Peer::Block { cidr, allowed } => {
                            let addrs = self.block(cidr, allowed);
                            inbound.external.push((addrs, ports.clone()));
                        }
                        Peer::Pods { namespaces, pods } => {
                            let set =
                                peers.id(&policy.namespace, namespaces.as_ref(), pods.as_ref());
                            from.entry(set).or_default().union_with(&ports);
                        }
                    }
                }
            }
        }
        // Ports every pod may use need no peer set.
        inbound.from = from
            .into_iter()
            .map(|(set, ports)| (set, ports.difference(&inbound.any)))
            .filter(|(_, ports)| !ports.is_empty())
            .collect();
        inbound
    }

    /// Egress allowed at source group `s`, before the destinations' ingress.
    fn egress(&self, s: usize, peers: &PeerSets<'m>) -> Egress<'m> {
        let mut egress = Egress {
            unisolated: self.egress_policies[s].is_empty(),
            ..Egress::default()
        };
        if egress.unisolated {
            egress.external.push((AddrSet::all(), PortSet::all()));
        }
        let m: &'m Manifests = self.manifests;
        for &p in &self.egress_policies[s] {
            let policy = &m.policies[p];
            for rule in policy.egress.iter().flatten() {
                let Some(list) = &rule.peers else {
                    egress.any.push(&rule.ports);
                    let ports = self.resolve(rule, &[]);
                    if !ports.is_empty() {
                        egress.external.push((AddrSet::all(), ports));
                    }
                    continue;
                };
                for peer in list {
                    match peer {
                        Peer::Block { cidr, allowed } => {
                            let ports = self.resolve(rule, &[]);
                            if !ports.is_empty() {
                                egress.external.push((self.block(cidr, allowed), ports));
                            }
                        }
                        Peer::Pods { namespaces, pods } => {
                            let set =
                                peers.id(&policy.namespace, namespaces.as_ref(), pods.as_ref());
                            egress.to.push((set, &rule.ports));
                        }
                    }
                }
            }
        }
        egress.any.sort_unstable();
        egress.any.dedup();
        egress.to.sort_unstable();
        egress.to.dedup();
        egress
    }

    /// The class of each group, and a group standing for each class. Groups are alike when
    /// the same peer sets hold them, they have the same container ports, and their ingress
    /// and egress are the same; with admin or baseline policies, whose rules are evaluated
    /// pair by pair, every group is a class of its own.
    fn classify(
        &self,
        member_of: &[Vec<usize>],
        inbound: &[Inbound],
        egress: &[Egress<'m>],
    ) -> (Vec<usize>, Vec<usize>) {
        type Key<'k, 'm> = (
            Option<usize>,
            &'k [usize],
            &'m [ContainerPort],
            &'k PortSet,
            &'k [(usize, PortSet)],
            bool,
            &'k [&'m Option<Vec<PortRule>>],
            &'k [(usize, &'m Option<Vec<PortRule>>)],
        );
        let tiered = self.has_tiers();
        let mut ids: HashMap<Key<'_, 'm>, usize> = HashMap::new();
        let mut class_of = Vec::with_capacity(self.groups.len());
        let mut reps = Vec::new();
        for g in 0..self.groups.len() {
            let key: Key<'_, 'm> = (
                tiered.then_some(g),
                &member_of[g],
                self.groups[g].ports,
                &inbound[g].any,
                &inbound[g].from,
                egress[g].unisolated,
                &egress[g].any,
                &egress[g].to,
            );
            let next = reps.len();
            let c = *ids.entry(key).or_insert(next);
            if c == next {
                reps.push(g);
            }
            class_of.push(c);
        }
        (class_of, reps)
    }

    /// The ports the class of group `s` may use towards each class, where the destination's
    /// ingress allows them too; `reps` names a group of each class.
    #[allow(clippy::too_many_arguments)]
    fn outbound(
        &self,
        s: usize,
        class_of: &[usize],
        reps: &[usize],
        peers: &PeerSets<'m>,
        member_of: &[Vec<usize>],
        inbound: &[Inbound],
        egress: &Egress<'m>,
    ) -> Vec<(usize, PortSet)> {
        let member = |g: usize, set: usize| member_of[g].binary_search(&set).is_ok();
        let candidates: Vec<usize> = if egress.unisolated || !egress.any.is_empty() {
            (0..reps.len()).collect()
        } else {
            let mut classes: Vec<usize> = egress
                .to
                .iter()
                .flat_map(|&(set, _)| peers.groups[set].iter().map(|&g| class_of[g]))
                .collect();
            classes.sort_unstable();
            classes.dedup();
            classes
        };
        let mut out = Vec::new();
        for c in candidates {
            let d = reps[c];
            let dest_ports = self.groups[d].ports;
            let mut allowed_out = if egress.unisolated {
                PortSet::all()
            } else {
                PortSet::none()
            };
            for &(set, ports) in &egress.to {
                if member(d, set) {
                    allowed_out.union_with(&resolve_list(ports, dest_ports, self.mutation));
                }
            }
            for ports in &egress.any {
                allowed_out.union_with(&resolve_list(ports, dest_ports, self.mutation));
            }
            if allowed_out.is_empty() {
                continue;
            }
            let mut allowed_in = inbound[d].any.clone();
            for (set, ports) in &inbound[d].from {
                if member(s, *set) {
                    allowed_in.union_with(ports);
                }
            }
            let allowed = allowed_out.intersection(&allowed_in);
            if !allowed.is_empty() {
                out.push((c, allowed));
            }
        }
        out
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
        let class = |w: usize| self.class_of[self.group_of[w]];
        self.pairs
            .get(&(class(from), class(to)))
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
            for &from in &self.classes[s] {
                for &to in &self.classes[d] {
                    if from != to {
                        out.push((from, to, ports));
                    }
                }
            }
        }
        out.sort_by_key(|&(from, to, _)| (from, to));
        out
    }

    /// The allowed connections as blocks: every workload of the first list may open
    /// connections to every workload of the second on the ports (a workload's traffic to
    /// itself aside). Lists sorted; blocks in no particular order. Their size grows with the
    /// number of workloads, where [`Analysis::connections`] grows with the pairs.
    pub fn connection_blocks(&self) -> Vec<(&[usize], &[usize], &PortSet)> {
        self.pairs
            .iter()
            .map(|(&(s, d), ports)| {
                (
                    self.classes[s].as_slice(),
                    self.classes[d].as_slice(),
                    ports,
                )
            })
            .collect()
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
    resolve_list(&rule.ports, ports, mutation)
}

/// The ports a rule's `ports` list allows towards a destination with container `ports`.
fn resolve_list(
    rule: &Option<Vec<PortRule>>,
    ports: &[ContainerPort],
    mutation: Mutation,
) -> PortSet {
    let Some(list) = rule else {
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
///
/// One sweep over the address boundaries of every piece: the pieces covering the current
/// segment are counted per port in a [`PortCover`], so N pieces (N policies admitting
/// `0.0.0.0/0` minus a hole each) cost N log N, not N².
fn canonical(pieces: &Pieces) -> Vec<(Protocol, PortSet, AddrSet)> {
    let mut out: BTreeMap<(Protocol, PortSet), AddrSet> = BTreeMap::new();
    for family in [false, true] {
        fn v4(a: &AddrSet) -> &crate::verify::sets::Ranges {
            &a.v4
        }
        fn v6(a: &AddrSet) -> &crate::verify::sets::Ranges {
            &a.v6
        }
        let ranges = if family { v6 } else { v4 };
        // (address, piece, +1 where it starts covering, -1 where it stops); `None` for the end
        // of the address space.
        let mut events: Vec<(Option<u128>, i32, usize)> = Vec::new();
        for (i, (addrs, _)) in pieces.iter().enumerate() {
            for (lo, hi) in ranges(addrs).iter() {
                events.push((Some(lo), 1, i));
                events.push((hi.checked_add(1), -1, i));
            }
        }
        // Addresses in order (`None`, the end, last), removals before additions at one address.
        events.sort_unstable_by_key(|&(at, delta, i)| (at.is_none(), at, delta, i));
        let mut cover = PortCover::new(pieces.iter().map(|(_, ports)| ports));
        let mut k = 0;
        while k < events.len() {
            let Some(lo) = events[k].0 else { break };
            while k < events.len() && events[k].0 == Some(lo) {
                let (_, delta, i) = events[k];
                cover.add(&pieces[i].1, delta);
                k += 1;
            }
            let hi = match events.get(k) {
                Some((Some(next), _, _)) => next - 1,
                _ => u128::MAX,
            };
            for (p, protocol) in PROTOCOLS.into_iter().enumerate() {
                let covered = cover.ranges(p);
                if covered.is_empty() {
                    continue;
                }
                let mut key_ports = PortSet::none();
                for (a, b) in covered {
                    key_ports.insert(protocol, a, b);
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

/// How many port sets cover each port, per protocol: a segment tree over the elementary
/// intervals between the boundaries of the sets it will be given.
struct PortCover {
    /// Per protocol: the boundaries (a range's start, the port after its end), sorted.
    bounds: Vec<Vec<u32>>,
    /// Per protocol, per node: the sets covering the node's whole span, and how many of its
    /// elementary intervals some set covers.
    count: Vec<Vec<u32>>,
    covered: Vec<Vec<u32>>,
}

impl PortCover {
    /// A cover ready for any of `sets`.
    fn new<'a>(sets: impl Iterator<Item = &'a PortSet> + Clone) -> Self {
        let bounds: Vec<Vec<u32>> = PROTOCOLS
            .into_iter()
            .map(|protocol| {
                let mut b: Vec<u32> = sets
                    .clone()
                    .flat_map(|set| set.ranges(protocol).iter())
                    .flat_map(|(lo, hi)| [lo as u32, hi as u32 + 1])
                    .collect();
                b.sort_unstable();
                b.dedup();
                b
            })
            .collect();
        let nodes = |b: &Vec<u32>| 4 * b.len().max(1);
        PortCover {
            count: bounds.iter().map(|b| vec![0; nodes(b)]).collect(),
            covered: bounds.iter().map(|b| vec![0; nodes(b)]).collect(),
            bounds,
        }
    }

    /// Elementary intervals of protocol `p`.
    fn size(&self, p: usize) -> usize {
        self.bounds[p].len().saturating_sub(1)
    }

    /// Counts `ports` once more (`delta` 1) or once less (-1).
    fn add(&mut self, ports: &PortSet, delta: i32) {
        for (p, protocol) in PROTOCOLS.into_iter().enumerate() {
            for (lo, hi) in ports.ranges(protocol).iter() {
                let b = &self.bounds[p];
                let first = b.partition_point(|&x| x < lo as u32);
                let last = b.partition_point(|&x| x < hi as u32 + 1) - 1;
                let size = self.size(p);
                self.update(p, 1, (0, size - 1), (first, last), delta);
            }
        }
    }

    fn update(
        &mut self,
        p: usize,
        node: usize,
        (a, b): (usize, usize),
        (lo, hi): (usize, usize),
        delta: i32,
    ) {
        if hi < a || b < lo {
            return;
        }
        if lo <= a && b <= hi {
            self.count[p][node] = self.count[p][node].wrapping_add_signed(delta);
        } else {
            let mid = (a + b) / 2;
            self.update(p, 2 * node, (a, mid), (lo, hi), delta);
            self.update(p, 2 * node + 1, (mid + 1, b), (lo, hi), delta);
        }
        self.covered[p][node] = if self.count[p][node] > 0 {
            (b - a + 1) as u32
        } else if a == b {
            0
        } else {
            self.covered[p][2 * node] + self.covered[p][2 * node + 1]
        };
    }

    /// The ports of protocol `p` (an index into [`PROTOCOLS`]) some set covers, as merged
    /// inclusive ranges.
    fn ranges(&self, p: usize) -> Vec<(u16, u16)> {
        let mut out: Vec<(u16, u16)> = Vec::new();
        if self.size(p) > 0 {
            self.collect(p, 1, (0, self.size(p) - 1), &mut out);
        }
        out
    }

    fn collect(&self, p: usize, node: usize, (a, b): (usize, usize), out: &mut Vec<(u16, u16)>) {
        if self.covered[p][node] == 0 {
            return;
        }
        if self.covered[p][node] as usize == b - a + 1 {
            let (lo, hi) = (self.bounds[p][a] as u16, (self.bounds[p][b + 1] - 1) as u16);
            match out.last_mut() {
                Some(last) if u32::from(last.1) + 1 == u32::from(lo) => last.1 = hi,
                _ => out.push((lo, hi)),
            }
            return;
        }
        let mid = (a + b) / 2;
        self.collect(p, 2 * node, (a, mid), out);
        self.collect(p, 2 * node + 1, (mid + 1, b), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The sweep gives, for every address, the union of the ports of the pieces holding
        /// it, each port set once with its exact addresses.
        #[test]
        fn external_pieces_merge_address_by_address(
            pieces in proptest::collection::vec(
                (proptest::collection::vec((0u8..48, 0u8..12), 1..4),
                 proptest::collection::vec((1u16..40, 0u16..6), 1..3)),
                0..8,
            )
        ) {
            let pieces: Pieces = pieces
                .into_iter()
                .map(|(addrs, ports)| {
                    let mut a = AddrSet::none();
                    for (lo, len) in addrs {
                        a.v4.insert(u128::from(lo), u128::from(lo + len));
                    }
                    let mut p = PortSet::none();
                    for (lo, len) in ports {
                        p.insert(Protocol::Tcp, lo, lo + len);
                    }
                    (a, p)
                })
                .collect();
            let merged = canonical(&pieces);
            for addr in 0u128..64 {
                let mut want = PortSet::none();
                for (a, p) in &pieces {
                    if a.v4.covers(addr, addr) {
                        want.union_with(p);
                    }
                }
                let got: Vec<&PortSet> = merged
                    .iter()
                    .filter(|(_, _, a)| a.v4.covers(addr, addr))
                    .map(|(_, p, _)| p)
                    .collect();
                if want.is_empty() {
                    proptest::prop_assert!(got.is_empty());
                } else {
                    proptest::prop_assert_eq!(got, vec![&want]);
                }
            }
            let mut keys: Vec<&PortSet> = merged.iter().map(|(_, p, _)| p).collect();
            keys.dedup();
            proptest::prop_assert_eq!(keys.len(), merged.len());
        }
    }
}
