//! Render stage for the architecture overview (`docs/architecture.md`): what the system looks
//! like now, for a new team member — the verdict with a link to the decision record, a domain
//! map, per domain its owner, services, calls, egress and what its NetworkPolicies allow, and
//! the review findings that stand. Pure: the caller says where the record is; `layout::docs`
//! compares the pages with the disk and the layout plan writes them.
//!
//! The pages hold no date, no line number and nothing else that changes when the design does
//! not, so `generate --check` reports them only when the model changed. A model with more than
//! [`map::MAX_SERVICES`] services gets one page per domain beside the index, in a folder named
//! after it (`docs/architecture/<domain>.md`), so that every page stays readable.
//!
//! Every page ends with a marker comment naming the project, with a checksum of the rest of the
//! page that reveals hand edits ([`stamp`], [`origin`]).

pub mod map;
pub mod words;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use askama::Template;

use crate::assess::Verdict;
use crate::filters::{self, markdown_inline};
use crate::generate::policy::NetworkPolicySpec;
use crate::generate::stamp::{Origin, checksum, without_cr};
use crate::graph::{Finding, ServiceGraph};
use crate::model::{Call, CallKind, CallPorts, Expose, Service, Workspace};
use crate::text::count;

/// Where the overview goes unless `--docs` says otherwise, relative to the workspace folder.
pub const DEFAULT_PATH: &str = "docs/architecture.md";

/// Findings a page lists; the rest are counted.
const MAX_FINDINGS: usize = 30;

/// One page of the overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Relative to the folder of the index: the index's own file name, or
    /// `<index stem>/<domain>.md`.
    pub rel: PathBuf,
    /// The Markdown, marker included.
    pub contents: String,
}

/// The decision record a page links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLink {
    /// Its number, four digits at least.
    pub number: String,
    /// Its path relative to the folder of the index, with `/` separators.
    pub path: String,
}

/// What the overview needs beyond the model.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// The index file name (`architecture.md`); domain pages go into the folder of its stem.
    pub index: &'a str,
    /// The current decision record, when there is one.
    pub record: Option<RecordLink>,
    /// The workspace file name, as the reader's commands name it.
    pub workspace_file: &'a str,
    /// The NetworkPolicies of every namespace, as `generate` renders them
    /// ([`crate::generate::Layout::policies`]).
    pub policies: &'a BTreeMap<String, Vec<NetworkPolicySpec>>,
    /// The review findings of the graph.
    pub findings: &'a [Finding],
}

const MARKER_START: &str = "<!-- k8s-advisor architecture";

/// `body` with the marker that names its project and holds the checksum of `body`.
pub fn stamp(project: &str, body: impl Into<String>) -> String {
    let mut page = body.into();
    page.truncate(page.trim_end().len());
    page.push('\n');
    let sum = checksum(page.as_bytes());
    page.push_str(&format!(
        "\n{MARKER_START}\nproject={project}\nchecksum={sum}\n-->\n"
    ));
    page
}

/// What a file at one of the overview's paths is, for `project`. A file checked out with CRLF
/// line endings is judged by its LF form.
pub fn origin(bytes: &[u8], project: &str) -> Origin {
    let bytes = without_cr(bytes);
    let text = String::from_utf8_lossy(&bytes);
    let Some(at) = text.rfind(&format!("\n{MARKER_START}\n")) else {
        return Origin::Foreign;
    };
    let body = &text[..at];
    let tail: Vec<&str> = text[at + 1..].trim_end_matches('\n').split('\n').collect();
    // Exactly the marker, nothing after it: text added below it is an edit too.
    let [_, project_line, checksum_line, "-->"] = tail.as_slice() else {
        return Origin::Edited;
    };
    let (Some(owner), Some(recorded)) = (
        project_line.strip_prefix("project="),
        checksum_line.strip_prefix("checksum="),
    ) else {
        return Origin::Edited;
    };
    if owner != project {
        Origin::OtherProject(owner.to_string())
    } else if recorded == checksum(body.as_bytes()) {
        Origin::Intact
    } else {
        Origin::Edited
    }
}

/// Percent-encodes a relative link path: letters, digits and `-._~/` pass.
fn link(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct ServiceRow {
    name: String,
    ports: String,
    exposure: String,
    replicas: u32,
    size: String,
    kind: String,
}

struct CallRow {
    from: String,
    to: String,
    ports: String,
    kind: &'static str,
}

struct EgressRow {
    service: String,
    destination: String,
    ports: String,
    reason: String,
}

struct MapView {
    caption: String,
    mermaid: String,
}

#[derive(Template)]
#[template(path = "architecture/domain.md")]
struct DomainView {
    h1: &'static str,
    h2: &'static str,
    name: String,
    back: Option<String>,
    description: String,
    owner: String,
    map: Option<MapView>,
    services: Vec<ServiceRow>,
    calls: Vec<CallRow>,
    egress: Vec<EgressRow>,
    policies: Vec<String>,
    findings: Option<Vec<String>>,
}

struct DomainRow {
    name: String,
    team: String,
    services: usize,
    exposed: usize,
    calls_in: usize,
    calls_out: usize,
    egress: usize,
}

#[derive(Template)]
#[template(path = "architecture/index.md")]
struct IndexView {
    title: String,
    description: String,
    verdict: String,
    record: String,
    summary: String,
    notice: String,
    map: MapView,
    pages_note: Option<String>,
    rows: Vec<DomainRow>,
    sections: Vec<String>,
    findings: Vec<String>,
}

/// What concerns one domain, gathered in one pass over the calls and findings: its services,
/// the calls that touch it (as caller index, callee index and call, in graph order) and the
/// findings that involve it.
#[derive(Default)]
struct Touching<'a> {
    services: Vec<usize>,
    calls: Vec<(usize, usize, &'a Call)>,
    findings: Vec<&'a Finding>,
}

/// [`Touching`] of every domain, by name.
struct ByDomain<'a>(BTreeMap<&'a str, Touching<'a>>);

impl<'a> ByDomain<'a> {
    fn of(graph: &ServiceGraph<'a>, findings: &'a [Finding]) -> Self {
        let ws = graph.workspace();
        let mut map: BTreeMap<&'a str, Touching<'a>> = ws
            .namespaces
            .keys()
            .map(|n| (n.as_str(), Touching::default()))
            .collect();
        for (i, s) in ws.services.iter().enumerate() {
            if let Some(t) = map.get_mut(s.id.namespace.as_str()) {
                t.services.push(i);
            }
        }
        for ((_, call, _), (a, b, _)) in graph.calls().zip(graph.edges()) {
            let (from, to) = (
                ws.services[a].id.namespace.as_str(),
                ws.services[b].id.namespace.as_str(),
            );
            if let Some(t) = map.get_mut(from) {
                t.calls.push((a, b, call));
            }
            if to != from
                && let Some(t) = map.get_mut(to)
            {
                t.calls.push((a, b, call));
            }
        }
        for f in findings {
            let domains: BTreeSet<&str> = f.services.iter().map(|s| s.namespace.as_str()).collect();
            for d in domains {
                if let Some(t) = map.get_mut(d) {
                    t.findings.push(f);
                }
            }
        }
        ByDomain(map)
    }

    fn get(&self, name: &str) -> &Touching<'a> {
        static NONE: Touching<'static> = Touching {
            services: Vec::new(),
            calls: Vec::new(),
            findings: Vec::new(),
        };
        self.0.get(name).unwrap_or(&NONE)
    }
}

/// The pages of the overview: the index, and one page per domain for a model with more than
/// [`map::MAX_SERVICES`] services.
pub fn render(graph: &ServiceGraph<'_>, verdict: &Verdict, input: &Input<'_>) -> Vec<Page> {
    let ws = graph.workspace();
    let project = &ws.project.name;
    let findings = input.findings;
    let paged = ws.services.len() > map::MAX_SERVICES;
    let stem = input.index.strip_suffix(".md").unwrap_or(input.index);
    let by_domain = ByDomain::of(graph, findings);
    let names = Names::of(ws);
    let mut pages = Vec::new();
    let mut sections = Vec::new();
    let mut rows = Vec::new();
    for name in ws.namespaces.keys() {
        let touching = by_domain.get(name);
        let view = domain(graph, name, touching, paged, input, &names);
        if paged {
            rows.push(domain_row(graph, name, touching));
            let body = view.render().expect("rendering into a String cannot fail");
            pages.push(Page {
                rel: PathBuf::from(stem).join(format!("{name}.md")),
                contents: stamp(project, body),
            });
        } else {
            sections.push(
                view.render()
                    .expect("rendering into a String cannot fail")
                    .trim_end()
                    .to_string(),
            );
        }
    }
    let drawn = if paged {
        None
    } else {
        let all: Vec<usize> = (0..ws.services.len()).collect();
        let edges: Vec<(usize, usize, CallKind)> = graph.edges().collect();
        map::service_map(graph, &all, &edges)
    };
    let drawn = drawn.unwrap_or_else(|| map::domain_map(graph));
    let index = IndexView {
        title: format!("Architecture of {}", markdown_inline(project)),
        description: markdown_inline(ws.project.description.trim()),
        verdict: verdict_line(verdict),
        record: record_line(input.record.as_ref(), ""),
        summary: summary(graph),
        notice: notice(input.workspace_file),
        map: map_view(ws, &drawn),
        pages_note: paged.then(|| {
            format!(
                "The model has {}: each domain has a page of its own in `{}/`.",
                count(ws.services.len(), "service", "services"),
                stem.replace('`', "")
            )
        }),
        rows: rows
            .into_iter()
            .map(|mut r| {
                r.name = format!(
                    "[{}]({})",
                    markdown_inline(&r.name),
                    link(&format!("{stem}/{}.md", r.name))
                );
                r
            })
            .collect(),
        sections,
        findings: finding_lines(findings.iter()),
    }
    .render()
    .expect("rendering into a String cannot fail");
    let mut all = vec![Page {
        rel: PathBuf::from(input.index),
        contents: stamp(project, index),
    }];
    all.extend(pages);
    all
}

/// The verdict, one sentence for [`filters::prose`].
fn verdict_line(verdict: &Verdict) -> String {
    format!("**Verdict:** {}.", verdict.headline())
}

/// The line that links the decision record from a page `up` levels below the index's folder
/// (`""` or `"../"`). A line of its own, never wrapped: a line break between a link's text and
/// its target would break the link.
fn record_line(record: Option<&RecordLink>, up: &str) -> String {
    match record {
        Some(r) => format!(
            "Decision record: [ADR-{}]({}).",
            r.number.replace(|c: char| !c.is_ascii_digit(), ""),
            link(&format!("{up}{}", r.path))
        ),
        None => "No decision record is written yet: `k8s-advisor record` writes one.".to_string(),
    }
}

fn summary(graph: &ServiceGraph<'_>) -> String {
    let ws = graph.workspace();
    let calls = graph.call_count();
    let kinds: Vec<String> = [CallKind::Sync, CallKind::Async, CallKind::Telemetry]
        .into_iter()
        .filter_map(|k| {
            let n = graph.call_count_of(k);
            let word = match k {
                CallKind::Sync => "synchronous",
                CallKind::Async => "asynchronous",
                CallKind::Telemetry => "telemetry",
            };
            (n > 0).then(|| format!("{n} {word}"))
        })
        .collect();
    let exposed = ws
        .services
        .iter()
        .filter(|s| s.expose != Expose::Cluster)
        .count();
    let egress = ws.services.iter().filter(|s| !s.egress.is_empty()).count();
    format!(
        "{} in {}, with {}{}; {} reachable from outside the cluster, {} sending traffic \
         outside it.",
        count(ws.services.len(), "service", "services"),
        count(ws.namespaces.len(), "business domain", "business domains"),
        count(calls, "declared call", "declared calls"),
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", crate::text::join_and(&kinds))
        },
        count(exposed, "service", "services"),
        egress
    )
}

fn notice(workspace_file: &str) -> String {
    let file = workspace_file.replace('`', "");
    format!(
        "This overview is generated from `{file}` by `k8s-advisor generate`: change the \
         workspace file, not this page. `k8s-advisor generate --check` fails when the page \
         and the model differ."
    )
}

fn map_view(ws: &Workspace, drawn: &map::Map) -> MapView {
    const LEGEND: &str = "A solid arrow is a synchronous call, a dashed one an asynchronous or telemetry call; rounded nodes are where traffic enters from outside the cluster, hexagons the address ranges services send to.";
    let mut caption = match drawn.scale {
        map::Scale::Services => format!("Services grouped by business domain. {LEGEND}"),
        map::Scale::Domains { shown, total } => {
            let mut text = format!(
                "Business domains, one node each: {} are too many to draw one by one. An arrow counts the calls from one domain to another. {LEGEND}",
                count(ws.services.len(), "service", "services")
            );
            if shown < total {
                text.push_str(&format!(
                    " The {shown} domains with the most calls across domains are drawn, of {total}; the table below lists every one."
                ));
            }
            text
        }
    };
    if drawn.hidden_exits > 0 {
        caption.push_str(&format!(
            " {} more egress {} not drawn; the egress tables list them.",
            drawn.hidden_exits,
            crate::text::noun(drawn.hidden_exits, "destination is", "destinations are")
        ));
    }
    MapView {
        caption,
        mermaid: drawn.mermaid.clone(),
    }
}

fn domain_row(graph: &ServiceGraph<'_>, name: &str, touching: &Touching<'_>) -> DomainRow {
    let ws = graph.workspace();
    let services: Vec<&Service> = touching.services.iter().map(|&i| &ws.services[i]).collect();
    let (mut calls_in, mut calls_out) = (0, 0);
    for &(a, b, _) in &touching.calls {
        let (from_here, to_here) = (
            ws.services[a].id.namespace == name,
            ws.services[b].id.namespace == name,
        );
        if from_here && !to_here {
            calls_out += 1;
        }
        if to_here && !from_here {
            calls_in += 1;
        }
    }
    DomainRow {
        name: name.to_string(),
        team: ws
            .namespaces
            .get(name)
            .and_then(|n| n.team.as_deref())
            .map_or_else(|| "—".to_string(), markdown_inline),
        services: services.len(),
        exposed: services
            .iter()
            .filter(|s| s.expose != Expose::Cluster)
            .count(),
        calls_in,
        calls_out,
        egress: services.iter().map(|s| s.egress.len()).sum(),
    }
}

/// The findings, one line each, cut after [`MAX_FINDINGS`].
fn finding_lines<'f>(findings: impl Iterator<Item = &'f Finding>) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut more = 0usize;
    for f in findings {
        if lines.len() < MAX_FINDINGS {
            lines.push(format!(
                "`{}` ({}): {}",
                f.code,
                f.severity,
                markdown_inline(&f.message)
            ));
        } else {
            more += 1;
        }
    }
    if more > 0 {
        lines.push(format!(
            "… and {more} more: `k8s-advisor graph` lists them all."
        ));
    }
    lines
}

/// What every call row of every page repeats, written once per service: its `namespace/name`
/// and the ports of a call that may use all of them (nearly every call).
struct Names {
    ids: Vec<String>,
    all_ports: Vec<String>,
}

impl Names {
    fn of(ws: &Workspace) -> Names {
        Names {
            ids: ws
                .services
                .iter()
                .map(|s| markdown_inline(&s.id.to_string()))
                .collect(),
            all_ports: ws
                .services
                .iter()
                .map(|s| words::call_ports(s.ports.iter()))
                .collect(),
        }
    }
}

fn domain(
    graph: &ServiceGraph<'_>,
    name: &str,
    touching: &Touching<'_>,
    paged: bool,
    input: &Input<'_>,
    names: &Names,
) -> DomainView {
    let ws = graph.workspace();
    let namespace = ws.namespaces.get(name);
    let md = markdown_inline;
    let services: Vec<ServiceRow> = touching
        .services
        .iter()
        .map(|&i| &ws.services[i])
        .map(|s| ServiceRow {
            name: md(&s.id.name),
            ports: words::ports(s),
            exposure: words::exposure(ws, s),
            replicas: s.replicas,
            size: words::size(s),
            kind: words::kind(s),
        })
        .collect();
    // Calls out of the domain (and within it) first, then calls into it from elsewhere.
    let mut calls: Vec<CallRow> = Vec::new();
    let mut incoming: Vec<CallRow> = Vec::new();
    for &(a, b, call) in &touching.calls {
        let (caller, callee) = (&ws.services[a], &ws.services[b]);
        let row = CallRow {
            from: names.ids[a].clone(),
            to: names.ids[b].clone(),
            ports: match call.ports {
                CallPorts::All => names.all_ports[b].clone(),
                CallPorts::Only(_) => words::call_ports(call.ports_of(callee)),
            },
            kind: call.kind.as_str(),
        };
        if caller.id.namespace == name {
            calls.push(row);
        } else {
            incoming.push(row);
        }
    }
    calls.extend(incoming);
    let mut egress: Vec<EgressRow> = ws
        .services_in(name)
        .flat_map(|s| {
            s.egress.iter().map(move |e| EgressRow {
                service: md(&s.id.name),
                destination: e.cidr.to_string(),
                ports: words::egress_ports(e),
                reason: if e.reason.trim().is_empty() {
                    "—".to_string()
                } else {
                    md(e.reason.trim())
                },
            })
        })
        .collect();
    egress.sort_by(|a, b| {
        (&a.service, &a.destination, &a.ports, &a.reason).cmp(&(
            &b.service,
            &b.destination,
            &b.ports,
            &b.reason,
        ))
    });
    let policies = input
        .policies
        .get(name)
        .expect("the layout holds the policies of every namespace")
        .iter()
        .map(words::policy)
        .collect();
    let owner = match namespace.and_then(|n| n.team.as_deref()) {
        Some(team) => format!("Owned by team {}.", md(team)),
        None => "No team is named as its owner in the workspace.".to_string(),
    };
    let (h1, h2) = if paged { ("#", "##") } else { ("###", "####") };
    let map = paged.then(|| {
        let edges: Vec<(usize, usize, CallKind)> = touching
            .calls
            .iter()
            .map(|&(a, b, call)| (a, b, call.kind))
            .collect();
        match map::service_map(graph, &touching.services, &edges) {
            Some(drawn) => map_view(ws, &drawn),
            None => MapView {
                caption: format!(
                    "The domain has too many services and calls to draw: {} lists them.",
                    "`k8s-advisor graph --format dot --namespace` with its name"
                ),
                mermaid: String::new(),
            },
        }
    });
    DomainView {
        h1,
        h2,
        name: md(name),
        back: paged.then(|| {
            format!(
                "Part of the overview: [{}]({}).\n{}",
                md(input.index),
                link(&format!("../{}", input.index)),
                record_line(input.record.as_ref(), "../")
            )
        }),
        description: namespace.map_or(String::new(), |n| md(n.description.trim())),
        owner,
        map,
        services,
        calls,
        egress,
        policies,
        findings: paged.then(|| finding_lines(touching.findings.iter().copied())),
    }
}
