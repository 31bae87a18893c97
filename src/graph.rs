//! Analyse stage: the service dependency graph. Services are nodes, declared calls are edges,
//! namespaces group the nodes. Every other stage that needs adjacency asks this module; there is
//! no second adjacency structure in the program.
//!
//! It also runs the architecture review of the graph ([`ServiceGraph::findings`]): call cycles,
//! namespace cycles, coupling between domains, fan-in and fan-out, isolated services and the
//! longest chain of synchronous calls. Cycles, chains and fan-in/fan-out count synchronous calls
//! only (a caller does not wait on a broker's consumers or on a telemetry collector); coupling
//! and isolation count every call, since each needs a NetworkPolicy rule. Every algorithm is
//! linear (or n log n for sorting) in the size of the model. Pure: no I/O and no rendering,
//! which live in `report::graph`.

use std::collections::{BTreeSet, HashMap};

use petgraph::Direction;
use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::Serialize;

use crate::model::{Call, CallKind, Expose, Service, ServiceId, Workspace};
use crate::policy::GraphPolicy;
use crate::text;

/// The call graph of a workspace. Node `i` is `workspace.services[i]`; an edge's weight is the
/// index of the call in its caller's `calls`.
pub struct ServiceGraph<'a> {
    workspace: &'a Workspace,
    /// Every call.
    graph: DiGraph<usize, usize>,
    /// The synchronous calls only: what cycles, chains and fan-in/fan-out are computed on.
    sync: DiGraph<usize, usize>,
}

impl<'a> ServiceGraph<'a> {
    /// Builds the graph in O(services + calls).
    pub fn build(workspace: &'a Workspace) -> Self {
        let services = workspace.services.len();
        let calls = || workspace.services.iter().flat_map(|s| &s.calls);
        let mut graph = DiGraph::with_capacity(services, calls().count());
        let mut sync = DiGraph::with_capacity(
            services,
            calls().filter(|c| c.kind == CallKind::Sync).count(),
        );
        for i in 0..services {
            graph.add_node(i);
            sync.add_node(i);
        }
        for (i, service) in workspace.services.iter().enumerate() {
            for (c, call) in service.calls.iter().enumerate() {
                let j = workspace
                    .services
                    .binary_search_by(|s| s.id.cmp(&call.to))
                    .expect("validated calls point at existing services");
                let (from, to) = (NodeIndex::new(i), NodeIndex::new(j));
                graph.add_edge(from, to, c);
                if call.kind == CallKind::Sync {
                    sync.add_edge(from, to, c);
                }
            }
        }
        ServiceGraph {
            workspace,
            graph,
            sync,
        }
    }

    /// The workspace the graph was built from.
    pub fn workspace(&self) -> &'a Workspace {
        self.workspace
    }

    /// Every call as (caller, call, callee), in caller then callee order.
    pub fn calls(&self) -> impl Iterator<Item = (&'a Service, &'a Call, &'a Service)> + '_ {
        let services = &self.workspace.services;
        self.graph.edge_references().map(move |e| {
            let caller = &services[e.source().index()];
            (
                caller,
                &caller.calls[*e.weight()],
                &services[e.target().index()],
            )
        })
    }

    /// Number of declared calls.
    pub fn call_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Number of declared calls of one kind.
    pub fn call_count_of(&self, kind: CallKind) -> usize {
        self.calls()
            .filter(|(_, call, _)| call.kind == kind)
            .count()
    }

    /// Number of calls that cross a namespace boundary.
    pub fn cross_namespace_call_count(&self) -> usize {
        self.calls()
            .filter(|(from, _, to)| from.id.namespace != to.id.namespace)
            .count()
    }

    /// The calls `service` receives (index into `workspace.services`), as (caller index,
    /// call), in caller order.
    pub fn incoming(&self, service: usize) -> Vec<(usize, &'a Call)> {
        let services = &self.workspace.services;
        let mut calls: Vec<(usize, &'a Call)> = self
            .graph
            .edges_directed(NodeIndex::new(service), petgraph::Direction::Incoming)
            .map(|e| {
                let caller = e.source().index();
                (caller, &services[caller].calls[*e.weight()])
            })
            .collect();
        calls.sort_by_key(|(caller, _)| *caller);
        calls
    }

    /// The services that call `service` (index into `workspace.services`).
    pub fn callers(&self, service: usize) -> impl Iterator<Item = &'a Service> + '_ {
        let services = &self.workspace.services;
        self.graph
            .neighbors_directed(NodeIndex::new(service), petgraph::Direction::Incoming)
            .map(move |n| &services[n.index()])
    }

    /// Every call as (caller index, callee index, kind) into `workspace.services`, in caller
    /// then callee order.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize, CallKind)> + '_ {
        let services = &self.workspace.services;
        self.graph.edge_references().map(move |e| {
            let caller = e.source().index();
            (
                caller,
                e.target().index(),
                services[caller].calls[*e.weight()].kind,
            )
        })
    }

    /// Whether the workspace has a namespace of this name.
    pub fn has_namespace(&self, namespace: &str) -> bool {
        self.workspace.namespaces.contains_key(namespace)
    }

    /// The services of `namespace` and their direct neighbours (callers and callees in other
    /// namespaces), as sorted indices into `workspace.services`; `None` for an unknown namespace.
    pub fn neighbourhood(&self, namespace: &str) -> Option<Vec<usize>> {
        if !self.has_namespace(namespace) {
            return None;
        }
        let services = &self.workspace.services;
        let mut keep = BTreeSet::new();
        for (i, service) in services.iter().enumerate() {
            if service.id.namespace != namespace {
                continue;
            }
            keep.insert(i);
            for dir in [Direction::Outgoing, Direction::Incoming] {
                keep.extend(
                    self.graph
                        .neighbors_directed(NodeIndex::new(i), dir)
                        .map(|n| n.index()),
                );
            }
        }
        Some(keep.into_iter().collect())
    }

    /// Services on a cycle of synchronous calls, as sorted index lists: every strongly connected
    /// component of more than one service, and every service that calls itself (also when it
    /// sits in a larger component). Sorted.
    pub fn call_cycles(&self) -> Vec<Vec<usize>> {
        self.cycles_of(&self.components())
    }

    fn cycles_of(&self, comps: &Components) -> Vec<Vec<usize>> {
        let mut cycles: Vec<Vec<usize>> = comps
            .members
            .iter()
            .filter(|m| m.len() > 1)
            .cloned()
            .chain(
                (0..self.graph.node_count())
                    .filter(|&i| self.calls_itself(i))
                    .map(|i| vec![i]),
            )
            .collect();
        cycles.sort();
        cycles
    }

    fn calls_itself(&self, i: usize) -> bool {
        let node = NodeIndex::new(i);
        self.sync.contains_edge(node, node)
    }

    /// Strongly connected components of the synchronous calls, O(services + calls), with
    /// Kosaraju's algorithm: petgraph runs it with explicit stacks, so a chain of any length
    /// cannot overflow the call stack.
    fn components(&self) -> Components {
        let sccs = kosaraju_scc(&self.sync);
        let mut of = vec![0; self.sync.node_count()];
        let members = sccs
            .into_iter()
            .enumerate()
            .map(|(c, nodes)| {
                let mut members: Vec<usize> = nodes.iter().map(|n| n.index()).collect();
                for &m in &members {
                    of[m] = c;
                }
                members.sort_unstable();
                members
            })
            .collect();
        Components { of, members }
    }

    /// Calls whose caller and callee sit in different namespaces, grouped by (caller namespace,
    /// callee namespace): the coupling matrix between domains, sorted.
    pub fn coupling(&self) -> Vec<Coupling> {
        let (names, cells) = self.cells(&self.graph);
        let services = &self.workspace.services;
        cells
            .into_iter()
            .map(|cell| Coupling {
                from: names[cell.from].to_string(),
                to: names[cell.to].to_string(),
                calls: cell
                    .calls
                    .iter()
                    .map(|&(a, b)| (services[a].id.clone(), services[b].id.clone()))
                    .collect(),
            })
            .collect()
    }

    /// The coupling matrix of the calls in `graph` (every call, or the synchronous ones) with
    /// namespace and service indices: the namespace names in order, and the non-empty cells
    /// sorted by (caller namespace, callee namespace). Integer keys keep the grouping cheap; both
    /// orders agree with names, since namespaces are sorted by name and services by namespace
    /// first.
    fn cells(&self, graph: &DiGraph<usize, usize>) -> (Vec<&'a str>, Vec<Cell>) {
        let services = &self.workspace.services;
        let names: Vec<&'a str> = self
            .workspace
            .namespaces
            .keys()
            .map(String::as_str)
            .collect();
        let ns: Vec<usize> = services
            .iter()
            .map(|s| {
                names
                    .binary_search(&s.id.namespace.as_str())
                    .expect("every service's namespace is in the workspace")
            })
            .collect();
        let mut cross: Vec<(usize, usize, usize, usize)> = graph
            .edge_references()
            .map(|e| (e.source().index(), e.target().index()))
            .filter(|&(a, b)| ns[a] != ns[b])
            .map(|(a, b)| (ns[a], ns[b], a, b))
            .collect();
        cross.sort_unstable();
        let mut cells: Vec<Cell> = Vec::new();
        for (from, to, a, b) in cross {
            match cells.last_mut() {
                Some(cell) if cell.from == from && cell.to == to => cell.calls.push((a, b)),
                _ => cells.push(Cell {
                    from,
                    to,
                    calls: vec![(a, b)],
                }),
            }
        }
        (names, cells)
    }

    /// Namespaces whose synchronous calls form a cycle: the strongly connected components of
    /// more than one namespace in the graph of namespaces (a namespace calling itself is
    /// normal). Each cycle lists its namespace names sorted; the list is sorted.
    pub fn namespace_cycles(&self) -> Vec<Vec<String>> {
        let (names, cells) = self.cells(&self.sync);
        namespace_cycles_of(names.len(), &cells)
            .into_iter()
            .map(|cycle| cycle.into_iter().map(|n| names[n].to_string()).collect())
            .collect()
    }

    /// The longest chain of synchronous calls, as a real path of the call graph with no service
    /// twice; empty when no service calls another.
    ///
    /// Computed in linear time on the condensation (each cycle collapsed into one node): a
    /// dynamic program over its topological order finds the path through the most components,
    /// which is then expanded through each cycle it crosses. On an acyclic graph this is the
    /// longest path; with cycles, each cycle on the chain counts once.
    pub fn longest_chain(&self) -> Vec<&'a Service> {
        let services = &self.workspace.services;
        self.chain_of(&self.components())
            .into_iter()
            .map(|i| &services[i])
            .collect()
    }

    fn chain_of(&self, comps: &Components) -> Vec<usize> {
        let k = comps.members.len();
        if k == 0 {
            return Vec::new();
        }
        // Tarjan yields components callees first, so every callee's best is known in time.
        let mut best = vec![1usize; k];
        let mut next: Vec<Option<(usize, usize)>> = vec![None; k];
        for c in 0..k {
            for &u in &comps.members[c] {
                for v in self.sync.neighbors(NodeIndex::new(u)) {
                    let (v, d) = (v.index(), comps.of[v.index()]);
                    if d == c {
                        continue;
                    }
                    let length = best[d] + 1;
                    let better = length > best[c]
                        || (length == best[c] && next[c].is_some_and(|e| (u, v) < e));
                    if better {
                        best[c] = length;
                        next[c] = Some((u, v));
                    }
                }
            }
        }
        let start = (0..k)
            .max_by(|&a, &b| {
                best[a]
                    .cmp(&best[b])
                    .then(comps.members[a].len().cmp(&comps.members[b].len()))
                    .then(comps.members[b][0].cmp(&comps.members[a][0]))
            })
            .unwrap_or(0);
        let mut path = Vec::new();
        let mut c = start;
        let mut entry = None;
        while let Some((u, v)) = next[c] {
            // Enter each component where the previous call lands and leave it by the chosen
            // call; the first component is entered as far upstream inside it as possible.
            match entry {
                None => path.extend(self.walk(u, c, comps, Direction::Incoming)),
                Some(e) => path.extend(self.inner_path(e, u, c, comps)),
            }
            entry = Some(v);
            c = comps.of[v];
        }
        let last = entry.unwrap_or(comps.members[c][0]);
        path.extend(self.walk(last, c, comps, Direction::Outgoing));
        if path.len() < 2 { Vec::new() } else { path }
    }

    /// Breadth-first search from `from` inside component `c`, following calls in `dir`, until
    /// `stop` is reached. Returns the visit order and each visited service's parent.
    fn bfs(
        &self,
        from: usize,
        c: usize,
        comps: &Components,
        dir: Direction,
        stop: Option<usize>,
    ) -> (Vec<usize>, HashMap<usize, usize>) {
        let mut order = vec![from];
        let mut parent = HashMap::with_capacity(comps.members[c].len());
        parent.insert(from, from);
        let mut head = 0;
        while head < order.len() && stop.is_none_or(|s| !parent.contains_key(&s)) {
            let u = order[head];
            head += 1;
            for v in self.sync.neighbors_directed(NodeIndex::new(u), dir) {
                let v = v.index();
                if comps.of[v] == c && !parent.contains_key(&v) {
                    parent.insert(v, u);
                    order.push(v);
                }
            }
        }
        (order, parent)
    }

    /// The services from `to` back to the start of the search, following parents.
    fn back_to_start(parent: &HashMap<usize, usize>, to: usize) -> Vec<usize> {
        let mut out = vec![to];
        let mut at = to;
        while let Some(&p) = parent.get(&at) {
            if p == at {
                break;
            }
            out.push(p);
            at = p;
        }
        out
    }

    /// A path inside component `c` that ends at `from` (`Incoming`) or starts at it
    /// (`Outgoing`), reaching the service farthest from it.
    fn walk(&self, from: usize, c: usize, comps: &Components, dir: Direction) -> Vec<usize> {
        if comps.members[c].len() == 1 {
            return vec![from];
        }
        let (order, parent) = self.bfs(from, c, comps, dir, None);
        let farthest = order.last().copied().unwrap_or(from);
        let mut path = Self::back_to_start(&parent, farthest);
        if dir == Direction::Outgoing {
            path.reverse();
        }
        path
    }

    /// A shortest path from `from` to `to` inside component `c` (both are in it, so one exists).
    fn inner_path(&self, from: usize, to: usize, c: usize, comps: &Components) -> Vec<usize> {
        if from == to {
            return vec![from];
        }
        let (_, parent) = self.bfs(from, c, comps, Direction::Outgoing, Some(to));
        let mut path = Self::back_to_start(&parent, to);
        path.reverse();
        path
    }
}

/// Strongly connected components of the call graph.
struct Components {
    /// The component of each service.
    of: Vec<usize>,
    /// The members of each component, sorted; components come callees first (reverse
    /// topological order of the condensation), as Kosaraju's algorithm finds them.
    members: Vec<Vec<usize>>,
}

/// One cell of the coupling matrix, by index: namespaces into the sorted namespace names,
/// services into `workspace.services`.
struct Cell {
    from: usize,
    to: usize,
    /// (caller, callee), sorted.
    calls: Vec<(usize, usize)>,
}

/// The calls from one namespace to another: one cell of the coupling matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Coupling {
    /// The calling namespace.
    pub from: String,
    /// The called namespace.
    pub to: String,
    /// Every call between them as (caller, callee), sorted.
    pub calls: Vec<(ServiceId, ServiceId)>,
}

pub use crate::severity::Severity;

/// One result of the architecture review of the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Finding {
    /// Stable code.
    pub code: FindingCode,
    /// How much it matters.
    pub severity: Severity,
    /// The services involved, as `namespace/name`; sorted, except for `longest-chain`, whose
    /// services are in call order.
    pub services: Vec<ServiceId>,
    /// Why it matters and what to do.
    pub message: String,
}

/// What the graph review can report. The codes are part of the interface: never rename one.
/// Declared in the alphabetical order of their codes, so that sorting by code sorts by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingCode {
    /// Services on one cycle of synchronous calls, or a service calling itself.
    CallCycle,
    /// The calls of one namespace into others: a row of the coupling matrix.
    CrossNamespaceCalls,
    /// A service called by many others.
    HighFanIn,
    /// A service calling many others.
    HighFanOut,
    /// A service that neither calls nor is called.
    IsolatedService,
    /// The longest chain of synchronous calls.
    LongestChain,
    /// Namespaces whose calls form a cycle.
    NamespaceCycle,
}

impl FindingCode {
    /// Every code.
    pub const ALL: [FindingCode; 7] = [
        FindingCode::CallCycle,
        FindingCode::CrossNamespaceCalls,
        FindingCode::HighFanIn,
        FindingCode::HighFanOut,
        FindingCode::IsolatedService,
        FindingCode::LongestChain,
        FindingCode::NamespaceCycle,
    ];

    /// The code as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::CallCycle => "call-cycle",
            FindingCode::CrossNamespaceCalls => "cross-namespace-calls",
            FindingCode::HighFanIn => "high-fan-in",
            FindingCode::HighFanOut => "high-fan-out",
            FindingCode::IsolatedService => "isolated-service",
            FindingCode::LongestChain => "longest-chain",
            FindingCode::NamespaceCycle => "namespace-cycle",
        }
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding before its service ids are attached: (severity, code, service indices, message).
type Raw = (Severity, FindingCode, Vec<usize>, String);

/// How many names a message lists before it says "and N more".
const LIST_MAX: usize = 6;

fn list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    text::list(items, LIST_MAX)
}

impl<'a> ServiceGraph<'a> {
    /// The architecture review: every finding, sorted by severity, code, services and message.
    /// Runs in O((services + calls) log(services + calls)).
    pub fn findings(&self, limits: &GraphPolicy) -> Vec<Finding> {
        let comps = self.components();
        // Findings are built with service indices and sorted on them (services are sorted by
        // id, so the order is the same) before the ids are attached: cheaper than comparing
        // strings on large models.
        let mut out: Vec<Raw> = Vec::new();
        self.call_cycle_findings(&comps, &mut out);
        let (names, sync_cells) = self.cells(&self.sync);
        self.namespace_cycle_findings(&names, &sync_cells, &mut out);
        let (names, cells) = self.cells(&self.graph);
        Self::coupling_findings(&names, &cells, &mut out);
        for i in 0..self.workspace.services.len() {
            self.service_findings(i, limits, &mut out);
        }
        self.chain_finding(&comps, limits, &mut out);
        out.sort_unstable();
        let services = &self.workspace.services;
        out.into_iter()
            .map(|(severity, code, members, message)| Finding {
                code,
                severity,
                services: members.iter().map(|&i| services[i].id.clone()).collect(),
                message,
            })
            .collect()
    }

    fn call_cycle_findings(&self, comps: &Components, out: &mut Vec<Raw>) {
        let services = &self.workspace.services;
        for members in self.cycles_of(comps) {
            let message = if members.len() == 1 {
                format!(
                    "{} calls itself synchronously: a request can wait on its own capacity and \
                     deadlock under load, and retries multiply; do the work in-process or hand \
                     it to a queue",
                    services[members[0]].id
                )
            } else {
                format!(
                    "{} services call each other in a cycle ({}): a slow or failing one stalls \
                     the others, retries can circle and amplify, and none can be deployed or \
                     changed alone; break the cycle by making one call asynchronous (events, a \
                     queue) or moving the shared logic into a service they all call",
                    members.len(),
                    list(members.iter().map(|&i| &services[i].id))
                )
            };
            out.push((Severity::Error, FindingCode::CallCycle, members, message));
        }
    }

    fn namespace_cycle_findings(&self, names: &[&str], cells: &[Cell], out: &mut Vec<Raw>) {
        let mut in_cycle = vec![usize::MAX; names.len()];
        let ns_cycles = namespace_cycles_of(names.len(), cells);
        for (k, cycle) in ns_cycles.iter().enumerate() {
            for &n in cycle {
                in_cycle[n] = k;
            }
        }
        for (k, cycle) in ns_cycles.iter().enumerate() {
            let inner: Vec<&Cell> = cells
                .iter()
                .filter(|c| in_cycle[c.from] == k && in_cycle[c.to] == k)
                .collect();
            let message = format!(
                "namespaces {} depend on each other ({}): these domains cannot be released, \
                 versioned or owned independently, and their NetworkPolicies must open in both \
                 directions; keep the dependency in one direction and turn the other into \
                 events, or merge the domains",
                list(cycle.iter().map(|&n| names[n])),
                list(inner.iter().map(|c| format!(
                    "{} -> {}: {}",
                    names[c.from],
                    names[c.to],
                    text::count(c.calls.len(), "call", "calls")
                )))
            );
            out.push((
                Severity::Warning,
                FindingCode::NamespaceCycle,
                involved(&inner),
                message,
            ));
        }
    }

    /// One finding per calling namespace: a row of the coupling matrix. One per cell would bury
    /// a large model in thousands of near-identical findings.
    fn coupling_findings(names: &[&str], cells: &[Cell], out: &mut Vec<Raw>) {
        for row in cells.chunk_by(|a, b| a.from == b.from) {
            let row: Vec<&Cell> = row.iter().collect();
            let total: usize = row.iter().map(|c| c.calls.len()).sum();
            let message = format!(
                "namespace {} makes {} into {} ({}): each call across domains is an API \
                 contract between teams and needs a matching egress and ingress NetworkPolicy \
                 rule; keep these calls few and versioned",
                names[row[0].from],
                text::count(total, "call", "calls"),
                text::count(row.len(), "other namespace", "other namespaces"),
                list(row.iter().map(|c| format!(
                    "{}: {}",
                    names[c.to],
                    text::count(c.calls.len(), "call", "calls")
                )))
            );
            out.push((
                Severity::Info,
                FindingCode::CrossNamespaceCalls,
                involved(&row),
                message,
            ));
        }
    }

    /// Fan-in and fan-out (synchronous calls) and isolation (every call) of service `i`.
    fn service_findings(&self, i: usize, limits: &GraphPolicy, out: &mut Vec<Raw>) {
        let services = &self.workspace.services;
        let service = &services[i];
        let node = NodeIndex::new(i);
        let callers: Vec<usize> = self.others(node, Direction::Incoming);
        let callees: Vec<usize> = self.others(node, Direction::Outgoing);
        if callers.len() >= limits.high_fan_in {
            let replicas = if service.replicas < 2 {
                format!("; it runs {} replica, so add more", service.replicas)
            } else {
                String::new()
            };
            out.push((
                Severity::Info,
                FindingCode::HighFanIn,
                vec![i],
                format!(
                    "{} is called by {} ({}; threshold {}): when it is slow or down, so are \
                     they; give it several replicas, a PodDisruptionBudget and autoscaling, \
                     and have callers use timeouts and circuit breakers{replicas}",
                    service.id,
                    text::count(callers.len(), "service", "services"),
                    list(callers.iter().map(|&c| &services[c].id)),
                    limits.high_fan_in
                ),
            ));
        }
        if callees.len() >= limits.high_fan_out {
            out.push((
                Severity::Warning,
                FindingCode::HighFanOut,
                vec![i],
                format!(
                    "{} calls {} ({}; threshold {}): it fails when any of them fails and is \
                     as slow as the slowest; call them in parallel with timeouts, degrade \
                     gracefully when one is down, or split its responsibilities",
                    service.id,
                    text::count(callees.len(), "service", "services"),
                    list(callees.iter().map(|&c| &services[c].id)),
                    limits.high_fan_out
                ),
            ));
        }
        if self.graph.neighbors_undirected(node).next().is_none() {
            let reach = match service.expose {
                Expose::Cluster => {
                    "it is not exposed either, so with default-deny NetworkPolicies nothing \
                     can reach it; declare its callers, expose it, or remove it"
                }
                Expose::Gateway | Expose::Internal | Expose::Public => {
                    "it is reached only from outside the cluster; check that no call is \
                     missing from the model"
                }
            };
            out.push((
                Severity::Info,
                FindingCode::IsolatedService,
                vec![i],
                format!(
                    "{} neither calls nor is called by another service: {reach}",
                    service.id
                ),
            ));
        }
    }

    fn chain_finding(&self, comps: &Components, limits: &GraphPolicy, out: &mut Vec<Raw>) {
        let services = &self.workspace.services;
        let chain = self.chain_of(comps);
        if chain.is_empty() {
            return;
        }
        let crosses_cycle = chain.iter().any(|&i| comps.members[comps.of[i]].len() > 1);
        let message = format!(
            "the longest chain of synchronous calls passes {} ({}; a warning from {}){}: \
             a request waits for every hop, so latencies add up and availabilities \
             multiply; keep user-facing paths short, call in parallel, or make the tail \
             asynchronous",
            text::count(chain.len(), "service", "services"),
            chain
                .iter()
                .map(|&i| services[i].id.to_string())
                .collect::<Vec<_>>()
                .join(" -> "),
            limits.long_chain,
            if crosses_cycle {
                ", counting each cycle it crosses once"
            } else {
                ""
            },
        );
        let severity = if chain.len() >= limits.long_chain {
            Severity::Warning
        } else {
            Severity::Info
        };
        out.push((severity, FindingCode::LongestChain, chain, message));
    }

    /// Distinct neighbours of `node` over synchronous calls in `dir`, itself excluded, sorted.
    fn others(&self, node: NodeIndex, dir: Direction) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .sync
            .neighbors_directed(node, dir)
            .filter(|&n| n != node)
            .map(|n| n.index())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Every service that takes part in the calls of `cells`, sorted and unique.
fn involved(cells: &[&Cell]) -> Vec<usize> {
    let mut all: Vec<usize> = cells
        .iter()
        .flat_map(|c| c.calls.iter().flat_map(|&(a, b)| [a, b]))
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// SCCs of more than one namespace in the namespace graph built from the coupling matrix, as
/// sorted namespace indices; the list is sorted.
fn namespace_cycles_of(namespaces: usize, cells: &[Cell]) -> Vec<Vec<usize>> {
    let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(namespaces, cells.len());
    for _ in 0..namespaces {
        graph.add_node(());
    }
    for cell in cells {
        graph.add_edge(NodeIndex::new(cell.from), NodeIndex::new(cell.to), ());
    }
    let mut cycles: Vec<Vec<usize>> = kosaraju_scc(&graph)
        .into_iter()
        .filter(|scc| scc.len() > 1)
        .map(|scc| {
            let mut cycle: Vec<usize> = scc.iter().map(|n| n.index()).collect();
            cycle.sort_unstable();
            cycle
        })
        .collect();
    cycles.sort();
    cycles
}
