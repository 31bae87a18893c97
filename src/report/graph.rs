//! Render stage for `k8s-advisor graph`: the service graph and its findings as text, JSON,
//! Mermaid and Graphviz DOT. Pure functions returning strings; nothing here analyses the graph
//! beyond selecting what a `--namespace` focus shows.
//!
//! Identifiers in diagrams never come from user text: Mermaid nodes are `n<index>` and
//! subgraphs `ns<index>`, DOT clusters `cluster_<index>`, so names such as `end`, `graph` or
//! `subgraph` cannot collide with keywords. Labels are always quoted and escaped.

use std::collections::BTreeSet;
use std::fmt::Write;

use console::Style;
use serde::Serialize;

use crate::graph::{Coupling, Finding, ServiceGraph, Severity};
use crate::model::{CallKind, ServiceId};
use crate::text::{self, Paint};

/// What a diagram or report shows: every service, or one namespace and its direct neighbours.
struct View {
    /// Shown services, sorted indices into `workspace.services`.
    services: Vec<usize>,
    /// Shown calls as (caller, callee, kind) indices, in caller then callee order.
    edges: Vec<(usize, usize, CallKind)>,
    /// The focused namespace, if any.
    focus: Option<String>,
}

impl View {
    /// Every service when `focus` is `None`; an empty view for an unknown namespace (the
    /// command refuses those before rendering).
    fn new(graph: &ServiceGraph<'_>, focus: Option<&str>) -> View {
        let services = &graph.workspace().services;
        match focus {
            None => View {
                services: (0..services.len()).collect(),
                edges: graph.edges().collect(),
                focus: None,
            },
            Some(ns) => {
                let in_ns = |i: usize| services[i].id.namespace == ns;
                View {
                    services: graph.neighbourhood(ns).unwrap_or_default(),
                    // Calls between two neighbours say nothing about the focused domain.
                    edges: graph
                        .edges()
                        .filter(|&(a, b, _)| in_ns(a) || in_ns(b))
                        .collect(),
                    focus: Some(ns.to_string()),
                }
            }
        }
    }

    /// The shown services grouped by namespace, namespaces in name order, with the namespace's
    /// position among all namespaces (for stable identifiers).
    fn groups<'g>(&self, graph: &ServiceGraph<'g>) -> Vec<(usize, &'g str, Vec<usize>)> {
        let ws = graph.workspace();
        ws.namespaces
            .keys()
            .enumerate()
            .filter_map(|(n, name)| {
                let members: Vec<usize> = self
                    .services
                    .iter()
                    .copied()
                    .filter(|&i| ws.services[i].id.namespace == *name)
                    .collect();
                (!members.is_empty()).then_some((n, name.as_str(), members))
            })
            .collect()
    }

    /// Whether a finding concerns the focused namespace (every finding without a focus).
    fn involves(&self, finding: &Finding) -> bool {
        self.focus
            .as_deref()
            .is_none_or(|ns| finding.services.iter().any(|s| s.namespace == ns))
    }
}

/// Services on a call cycle, for highlighting.
fn on_cycles(graph: &ServiceGraph<'_>) -> BTreeSet<usize> {
    graph.call_cycles().into_iter().flatten().collect()
}

/// The graph as a Mermaid flowchart (without the Markdown fence): one subgraph per namespace,
/// services on call cycles highlighted, asynchronous and telemetry calls dashed and labelled
/// with their kind. `focus` limits it to one namespace and its direct neighbours. Renders on
/// GitHub.
pub fn mermaid(graph: &ServiceGraph, focus: Option<&str>) -> String {
    let view = View::new(graph, focus);
    let ws = graph.workspace();
    let mut out = String::from("flowchart LR\n");
    for (n, name, members) in view.groups(graph) {
        let team = ws.namespaces.get(name).and_then(|ns| ns.team.as_deref());
        let title = match team {
            Some(team) => format!("{name} (team {team})"),
            None => name.to_string(),
        };
        let _ = writeln!(out, "  subgraph ns{n}[\"{}\"]", mermaid_text(&title));
        let _ = writeln!(out, "    direction TB");
        for i in members {
            let _ = writeln!(
                out,
                "    n{i}[\"{}\"]",
                mermaid_text(&ws.services[i].id.name)
            );
        }
        let _ = writeln!(out, "  end");
    }
    for &(a, b, kind) in &view.edges {
        let _ = match kind {
            CallKind::Sync => writeln!(out, "  n{a} --> n{b}"),
            CallKind::Async | CallKind::Telemetry => {
                writeln!(out, "  n{a} -.->|\"{}\"| n{b}", kind.as_str())
            }
        };
    }
    let shown: BTreeSet<usize> = view.services.iter().copied().collect();
    let cyclic: Vec<String> = on_cycles(graph)
        .intersection(&shown)
        .map(|i| format!("n{i}"))
        .collect();
    if !cyclic.is_empty() {
        out.push_str("  classDef cycle stroke:#c62828,stroke-width:3px\n");
        let _ = writeln!(out, "  class {} cycle", cyclic.join(","));
    }
    out
}

/// Mermaid refuses to draw a flowchart with more edges than this (its `maxEdges` default), so
/// bigger graphs are drawn one node per namespace instead.
pub const MERMAID_MAX_EDGES: usize = 500;

/// A diagram of more services than this is unreadable in a document: it is drawn one node per
/// namespace instead.
pub const MERMAID_MAX_SERVICES: usize = 150;

/// The namespaces a domain diagram draws at most: the ones with the most calls. Twenty keep
/// even a fully coupled diagram (380 arrows) under [`MERMAID_MAX_EDGES`].
pub const MERMAID_MAX_DOMAINS: usize = 20;

/// What a diagram of [`mermaid_overview`] shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overview {
    /// Every service and call.
    Services,
    /// Every namespace, with the number of calls on each arrow.
    Domains,
    /// The `shown` namespaces with the most calls, of `total`.
    BusiestDomains {
        /// Namespaces drawn.
        shown: usize,
        /// Namespaces in the model.
        total: usize,
    },
}

/// A Mermaid flowchart fit for a document, and what it shows: the service graph of [`mermaid`]
/// while it stays within [`MERMAID_MAX_EDGES`] and [`MERMAID_MAX_SERVICES`], else one node per
/// namespace with the number of calls on each arrow — at most [`MERMAID_MAX_DOMAINS`] of them,
/// those with the most calls, so that the diagram stays the same size however big the model.
pub fn mermaid_overview(graph: &ServiceGraph) -> (String, Overview) {
    let ws = graph.workspace();
    if graph.call_count() <= MERMAID_MAX_EDGES && ws.services.len() <= MERMAID_MAX_SERVICES {
        return (mermaid(graph, None), Overview::Services);
    }
    let couplings = graph.coupling();
    let mut weight: std::collections::BTreeMap<&str, usize> = ws
        .namespaces
        .keys()
        .map(|name| (name.as_str(), 0))
        .collect();
    for cell in &couplings {
        for end in [&cell.from, &cell.to] {
            if let Some(w) = weight.get_mut(end.as_str()) {
                *w += cell.calls.len();
            }
        }
    }
    let total = weight.len();
    let overview = if total > MERMAID_MAX_DOMAINS {
        let mut busiest: Vec<(&str, usize)> = weight.iter().map(|(n, w)| (*n, *w)).collect();
        // Most calls first, then by name: the same model always draws the same domains.
        busiest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let keep: BTreeSet<&str> = busiest
            .iter()
            .take(MERMAID_MAX_DOMAINS)
            .map(|(n, _)| *n)
            .collect();
        weight.retain(|name, _| keep.contains(name));
        Overview::BusiestDomains {
            shown: MERMAID_MAX_DOMAINS,
            total,
        }
    } else {
        Overview::Domains
    };
    let index: std::collections::BTreeMap<&str, usize> = ws
        .namespaces
        .keys()
        .enumerate()
        .filter(|(_, name)| weight.contains_key(name.as_str()))
        .map(|(i, name)| (name.as_str(), i))
        .collect();
    let mut out = String::from("flowchart LR\n");
    for (name, i) in &index {
        let team = ws.namespaces.get(*name).and_then(|ns| ns.team.as_deref());
        let services = ws.services_in(name).count();
        let title = match team {
            Some(team) => format!("{name} (team {team}, {services} services)"),
            None => format!("{name} ({services} services)"),
        };
        let _ = writeln!(out, "  ns{i}[\"{}\"]", mermaid_text(&title));
    }
    for cell in couplings {
        let (Some(a), Some(b)) = (index.get(cell.from.as_str()), index.get(cell.to.as_str()))
        else {
            continue;
        };
        let calls = cell.calls.len();
        let label = if calls == 1 {
            "1 call".to_string()
        } else {
            format!("{calls} calls")
        };
        let _ = writeln!(out, "  ns{a} -->|\"{label}\"| ns{b}");
    }
    (out, overview)
}

/// Escapes text for a quoted Mermaid label: quotes and markup become entity codes.
pub(crate) fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The graph in Graphviz DOT: one `cluster_<n>` subgraph per namespace, services on call
/// cycles drawn in red, asynchronous and telemetry calls dashed and labelled with their kind.
/// `focus` as for [`mermaid`].
pub fn dot(graph: &ServiceGraph, focus: Option<&str>) -> String {
    let view = View::new(graph, focus);
    let ws = graph.workspace();
    let cyclic = on_cycles(graph);
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", dot_text(&ws.project.name));
    out.push_str("  rankdir=LR;\n");
    // The newer ranking copes with edges between clusters; the default one makes graphviz 2.43
    // fail to route some of them ("lost edge", exit 1).
    out.push_str("  newrank=true;\n");
    out.push_str("  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\"];\n");
    for (n, name, members) in view.groups(graph) {
        let team = ws.namespaces.get(name).and_then(|ns| ns.team.as_deref());
        let title = match team {
            Some(team) => format!("{name} (team {team})"),
            None => name.to_string(),
        };
        let _ = writeln!(out, "  subgraph cluster_{n} {{");
        let _ = writeln!(out, "    label=\"{}\";", dot_text(&title));
        out.push_str("    style=rounded;\n");
        for i in members {
            let service = &ws.services[i];
            let color = if cyclic.contains(&i) {
                ", color=\"#c62828\", penwidth=2"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    \"{}\" [label=\"{}\"{color}];",
                dot_text(&service.id.to_string()),
                dot_text(&service.id.name)
            );
        }
        out.push_str("  }\n");
    }
    for &(a, b, kind) in &view.edges {
        let style = match kind {
            CallKind::Sync => String::new(),
            CallKind::Async | CallKind::Telemetry => {
                format!(" [style=dashed, label=\"{}\"]", kind.as_str())
            }
        };
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\"{style};",
            dot_text(&ws.services[a].id.to_string()),
            dot_text(&ws.services[b].id.to_string())
        );
    }
    out.push_str("}\n");
    out
}

/// Escapes text for a double-quoted DOT string.
fn dot_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct JsonReport<'a> {
    project: &'a str,
    focus: Option<&'a str>,
    nodes: Vec<JsonNode<'a>>,
    edges: Vec<JsonEdge<'a>>,
    coupling: Vec<JsonCoupling<'a>>,
    namespace_cycles: Vec<Vec<String>>,
    findings: Vec<&'a Finding>,
    longest_chain: Vec<&'a ServiceId>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct JsonNode<'a> {
    id: &'a ServiceId,
    namespace: &'a str,
    name: &'a str,
    team: Option<&'a str>,
    expose: &'static str,
}

#[derive(Serialize)]
struct JsonEdge<'a> {
    from: &'a ServiceId,
    to: &'a ServiceId,
    kind: CallKind,
}

#[derive(Serialize)]
struct JsonCoupling<'a> {
    from: &'a str,
    to: &'a str,
    calls: usize,
}

/// The graph and its findings as JSON (SPEC §5): nodes, edges, the coupling matrix, namespace
/// cycles, findings and the longest chain. With `focus`, nodes, edges, coupling and findings are
/// limited to the namespace and its direct neighbours; the longest chain stays global.
pub fn json(graph: &ServiceGraph, findings: &[Finding], focus: Option<&str>) -> String {
    let view = View::new(graph, focus);
    let ws = graph.workspace();
    let coupling = graph.coupling();
    let report = JsonReport {
        project: &ws.project.name,
        focus,
        nodes: view
            .services
            .iter()
            .map(|&i| {
                let s = &ws.services[i];
                JsonNode {
                    id: &s.id,
                    namespace: &s.id.namespace,
                    name: &s.id.name,
                    team: s.team.as_deref(),
                    expose: s.expose.as_str(),
                }
            })
            .collect(),
        edges: view
            .edges
            .iter()
            .map(|&(a, b, kind)| JsonEdge {
                from: &ws.services[a].id,
                to: &ws.services[b].id,
                kind,
            })
            .collect(),
        coupling: shown_coupling(&coupling, focus)
            .map(|c| JsonCoupling {
                from: &c.from,
                to: &c.to,
                calls: c.calls.len(),
            })
            .collect(),
        namespace_cycles: graph
            .namespace_cycles()
            .into_iter()
            .filter(|c| focus.is_none_or(|ns| c.iter().any(|n| n == ns)))
            .collect(),
        findings: findings.iter().filter(|f| view.involves(f)).collect(),
        longest_chain: graph.longest_chain().into_iter().map(|s| &s.id).collect(),
    };
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

fn shown_coupling<'c>(
    coupling: &'c [Coupling],
    focus: Option<&'c str>,
) -> impl Iterator<Item = &'c Coupling> {
    coupling
        .iter()
        .filter(move |c| focus.is_none_or(|ns| c.from == ns || c.to == ns))
}

/// A readable summary for a terminal: size, coupling between namespaces, the longest chain and
/// every finding with its advice.
pub fn text(
    graph: &ServiceGraph,
    findings: &[Finding],
    focus: Option<&str>,
    paint: Paint,
) -> String {
    let view = View::new(graph, focus);
    let ws = graph.workspace();
    let mut out = String::new();
    let cross = graph.cross_namespace_call_count();
    let head = format!(
        "Service graph of {}: {} in {}, {} ({} across namespaces)",
        ws.project.name,
        text::count(ws.services.len(), "service", "services"),
        text::count(ws.namespaces.len(), "namespace", "namespaces"),
        text::count(graph.call_count(), "call", "calls"),
        cross
    );
    let _ = writeln!(out, "{}", paint.apply(Style::new().bold(), &head));
    let (async_calls, telemetry) = (
        graph.call_count_of(CallKind::Async),
        graph.call_count_of(CallKind::Telemetry),
    );
    if async_calls + telemetry > 0 {
        let _ = writeln!(
            out,
            "Of these, {} asynchronous and {} telemetry: cycles, the longest chain and \
             fan-in/fan-out count only the {} synchronous calls",
            async_calls,
            telemetry,
            graph.call_count() - async_calls - telemetry
        );
    }
    if let Some(ns) = focus {
        let _ = writeln!(
            out,
            "Focus: namespace {ns} and its direct neighbours ({}, {})",
            text::count(view.services.len(), "service", "services"),
            text::count(view.edges.len(), "call", "calls")
        );
    }

    let coupling = graph.coupling();
    let cells: Vec<&Coupling> = shown_coupling(&coupling, focus).collect();
    if cells.is_empty() {
        let _ = writeln!(out, "\nNo calls between namespaces.");
    } else {
        let _ = writeln!(out, "\nCalls between namespaces:");
        let width = cells
            .iter()
            .map(|c| c.from.len() + c.to.len() + 4)
            .max()
            .unwrap_or(0);
        for c in cells {
            let pair = format!("{} -> {}", c.from, c.to);
            let _ = writeln!(out, "  {pair:<width$}  {}", c.calls.len());
        }
    }

    let chain = graph.longest_chain();
    if chain.is_empty() {
        let _ = writeln!(out, "\nNo service calls another.");
    } else {
        let _ = writeln!(
            out,
            "\nLongest chain ({}): {}",
            text::count(chain.len(), "service", "services"),
            chain
                .iter()
                .map(|s| s.id.to_string())
                .collect::<Vec<_>>()
                .join(" -> ")
        );
    }

    let findings: Vec<&Finding> = findings.iter().filter(|f| view.involves(f)).collect();
    if findings.is_empty() {
        let _ = writeln!(out, "\nNo findings.");
        return out;
    }
    let _ = writeln!(out, "\nFindings ({}):", findings.len());
    for f in findings {
        let severity = format!("{:<7}", f.severity.as_str());
        let severity = match f.severity {
            Severity::Error => paint.apply(Style::new().red().bold(), &severity),
            Severity::Warning => paint.apply(Style::new().yellow(), &severity),
            Severity::Info => paint.apply(Style::new().cyan(), &severity),
        };
        // At most a few names on the headline of a finding; the message has the details.
        let services = text::list(&f.services, text::SHOWN);
        let _ = writeln!(out, "  {severity}  {}: {services}", f.code);
        let _ = writeln!(out, "           {}", f.message);
    }
    out
}
