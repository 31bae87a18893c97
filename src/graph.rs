//! Analyse stage: the service dependency graph. Services are nodes, declared calls are edges,
//! namespaces group the nodes. Every other stage that needs adjacency asks this module; there is
//! no second adjacency structure in the program.

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::model::{Call, Service, Workspace};

/// The call graph of a workspace. Node `i` is `workspace.services[i]`.
pub struct ServiceGraph<'a> {
    workspace: &'a Workspace,
    graph: DiGraph<usize, usize>,
}

impl<'a> ServiceGraph<'a> {
    /// Builds the graph in O(services + calls).
    pub fn build(workspace: &'a Workspace) -> Self {
        let mut graph = DiGraph::with_capacity(
            workspace.services.len(),
            workspace.services.iter().map(|s| s.calls.len()).sum(),
        );
        for i in 0..workspace.services.len() {
            graph.add_node(i);
        }
        for (i, service) in workspace.services.iter().enumerate() {
            for (c, call) in service.calls.iter().enumerate() {
                let j = workspace
                    .services
                    .binary_search_by(|s| s.id.cmp(&call.to))
                    .expect("validated calls point at existing services");
                graph.add_edge(NodeIndex::new(i), NodeIndex::new(j), c);
            }
        }
        ServiceGraph { workspace, graph }
    }

    /// The workspace the graph was built from.
    pub fn workspace(&self) -> &'a Workspace {
        self.workspace
    }

    /// The underlying petgraph graph; node weights index `workspace.services`, edge weights
    /// index the caller's `calls`.
    pub fn inner(&self) -> &DiGraph<usize, usize> {
        &self.graph
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

    /// Number of calls that cross a namespace boundary.
    pub fn cross_namespace_call_count(&self) -> usize {
        self.calls()
            .filter(|(from, _, to)| from.id.namespace != to.id.namespace)
            .count()
    }

    /// The services that call `service` (index into `workspace.services`).
    pub fn callers(&self, service: usize) -> impl Iterator<Item = &'a Service> + '_ {
        let services = &self.workspace.services;
        self.graph
            .neighbors_directed(NodeIndex::new(service), petgraph::Direction::Incoming)
            .map(move |n| &services[n.index()])
    }
}
