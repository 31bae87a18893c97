//! Render stage for the architecture decision record: a MADR 4 Markdown document built from the
//! verdict, the model, the graph findings and the generated files. Pure: the caller supplies the
//! date, the number and the links to other records; `adr` decides those and writes the file.

use askama::Template;

use crate::assess::{Status, Verdict};
use crate::filters::{self, markdown_inline};
use crate::graph::ServiceGraph;
use crate::model::{Expose, Platform, Workspace};
use crate::policy::{Alternative, Metric};
use crate::report::graph::Overview;
use crate::text::count;

/// The marker that identifies a record written by k8s-advisor: an HTML comment at the end
/// naming the project and verdict, with a checksum of the rest of the record (status and date
/// excluded, since people are expected to change those) that reveals hand edits. Records
/// without it are never touched. One field a line keeps every line under 80 columns.
pub fn marker(project: &str, recommended: bool, body: &str) -> String {
    format!(
        "{MARKER_START}\nproject={project}\nverdict={}\nchecksum={}\n{MARKER_END}",
        verdict_keyword(recommended),
        checksum(body)
    )
}

const MARKER_START: &str = "<!-- k8s-advisor record";
const MARKER_END: &str = "-->";

/// The record's lines without the marker block, and the marker's `key=value` fields.
fn split_marker(text: &str) -> (Vec<&str>, Vec<(&str, &str)>) {
    let mut content = Vec::new();
    let mut fields = Vec::new();
    let mut in_marker = false;
    for line in text.lines() {
        if line == MARKER_START {
            in_marker = true;
        } else if in_marker && line == MARKER_END {
            in_marker = false;
        } else if in_marker {
            if let Some(field) = line.split_once('=') {
                fields.push(field);
            }
        } else {
            content.push(line);
        }
    }
    (content, fields)
}

/// Checksum of the record without its marker and without the front matter's status and date,
/// in lowercase hex.
fn checksum(text: &str) -> String {
    let (lines, _) = split_marker(text);
    let mut kept: Vec<&str> = Vec::with_capacity(lines.len());
    let mut in_front = false;
    for (i, line) in lines.into_iter().enumerate() {
        if i == 0 && line == "---" {
            in_front = true;
        } else if in_front && line == "---" {
            in_front = false;
        } else if in_front && (line.starts_with("status:") || line.starts_with("date:")) {
            continue;
        }
        kept.push(line);
    }
    // Blank lines at the end (before the marker) are layout, not content.
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    let mut joined = kept.join("\n");
    joined.push('\n');
    crate::generate::stamp::checksum(joined.as_bytes())
}

/// True when a record of ours was changed by hand since it was written.
pub fn edited(text: &str) -> bool {
    let (_, fields) = split_marker(text);
    let recorded = fields
        .iter()
        .find(|(k, _)| *k == "checksum")
        .map(|(_, v)| *v);
    recorded != Some(checksum(text).as_str())
}

/// `kubernetes` or `simpler-platform`.
pub fn verdict_keyword(recommended: bool) -> &'static str {
    if recommended {
        "kubernetes"
    } else {
        "simpler-platform"
    }
}

/// Reads the project and verdict back from a record's marker.
pub fn parse_marker(text: &str) -> Option<(String, bool)> {
    let (_, fields) = split_marker(text);
    let field = |key: &str| fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let verdict = match field("verdict")? {
        "kubernetes" => true,
        "simpler-platform" => false,
        _ => return None,
    };
    Some((field("project")?.to_string(), verdict))
}

/// The Kubernetes option by name: on the chosen managed platform, or plain "Kubernetes".
fn kubernetes_option(ws: &Workspace) -> String {
    match ws.project.platform {
        Platform::Generic => "Kubernetes".to_string(),
        platform => format!("Kubernetes ({})", platform.title()),
    }
}

/// The record's title, also the source of its file name slug.
pub fn title(ws: &Workspace, verdict: &Verdict) -> String {
    if verdict.recommended {
        format!("Run {} on {}", ws.project.name, kubernetes_option(ws))
    } else {
        format!(
            "Run {} on a simpler platform than Kubernetes",
            ws.project.name
        )
    }
}

/// A link to another record.
#[derive(Debug, Clone)]
pub struct Link {
    /// Four-digit number.
    pub number: String,
    /// File name, relative to the record folder.
    pub file: String,
}

/// Everything a record needs beyond the model and the verdict.
#[derive(Debug, Clone)]
pub struct Meta {
    /// `proposed`, `accepted`, ... (kept from an existing record when updated in place).
    pub status: String,
    /// ISO date of the decision.
    pub date: String,
    /// The record this one supersedes.
    pub supersedes: Option<Link>,
}

/// Findings listed in a record; the rest are counted.
const MAX_FINDINGS: usize = 30;

/// Generated files listed in a record; the rest are counted.
const MAX_FILES: usize = 100;

/// Inputs computed elsewhere: the Mermaid diagram, graph findings and generated files.
#[derive(Debug, Clone)]
pub struct Extras {
    /// A Mermaid flowchart of the dependency graph (without the code fence).
    pub mermaid: String,
    /// What the diagram shows: services, or namespaces when there are too many to draw.
    pub diagram: Overview,
    /// Graph findings as (code, message).
    pub findings: Vec<(String, String)>,
    /// Paths of the generated files, relative to the repository.
    pub generated: Vec<String>,
}

struct CriterionRow {
    title: String,
    question: String,
    status: &'static str,
    source: &'static str,
    detail: String,
}

struct OptionView {
    name: String,
    summary: String,
    pros: Vec<String>,
    cons: Vec<String>,
}

struct NamespaceRow {
    name: String,
    team: String,
    services: String,
    exposure: String,
}

#[derive(Template)]
#[template(path = "record.md")]
struct RecordView<'a> {
    meta: &'a Meta,
    decision_makers: String,
    title: String,
    context: Vec<String>,
    criteria: Vec<CriterionRow>,
    outcome: String,
    confirmation: String,
    kubernetes: OptionView,
    alternatives: Vec<OptionView>,
    good: Vec<String>,
    bad: Vec<String>,
    contradictions: Vec<String>,
    mermaid: &'a str,
    diagram_caption: String,
    findings: Vec<String>,
    namespaces: Vec<NamespaceRow>,
    namespaces_note: Option<String>,
    generated: Vec<String>,
    generated_note: Option<&'static str>,
    workspace_file: String,
}

/// Renders the record. `workspace_file` is the workspace path as a reader would pass it to `-w`.
pub fn render(
    graph: &ServiceGraph<'_>,
    verdict: &Verdict,
    alternatives: &[Alternative],
    meta: &Meta,
    extras: &Extras,
    workspace_file: &str,
) -> String {
    let ws = graph.workspace();
    let md = |s: &str| markdown_inline(s);
    let option = kubernetes_option(ws);
    let context = context(graph, verdict, &option);
    let criteria = verdict
        .criteria
        .iter()
        .map(|c| CriterionRow {
            title: md(&c.title),
            question: md(&c.question),
            status: c.status.as_str(),
            source: c.source.as_str(),
            detail: md(&c.detail),
        })
        .collect();
    let met: Vec<&str> = verdict
        .criteria
        .iter()
        .filter(|c| c.status == Status::Met)
        .map(|c| c.title.as_str())
        .collect();
    let kubernetes_name = option.clone();
    let chosen = if verdict.recommended {
        kubernetes_name.clone()
    } else {
        verdict
            .alternatives
            .first()
            .map_or_else(|| "a simpler platform".to_string(), |a| a.name.clone())
    };
    let outcome = outcome(verdict, &chosen);
    let kubernetes = kubernetes_view(&kubernetes_name, &met);
    let alternatives = option_views(alternatives);
    let (good, bad) = consequences(verdict);
    let contradictions = verdict
        .contradictions()
        .map(|c| format!("{}: {}", md(&c.title), md(&c.detail)))
        .collect();
    // A record is read by people: long lists are cut, with where to find the rest.
    let findings = capped(
        extras
            .findings
            .iter()
            .map(|(code, message)| format!("`{code}`: {}", md(message))),
        MAX_FINDINGS,
        |n| format!("… and {n} more: `k8s-advisor graph` lists them all"),
    );
    let generated = capped(
        extras
            .generated
            .iter()
            .map(|g| format!("`{}`", g.replace('`', ""))),
        MAX_FILES,
        |n| format!("… and {n} more, one file per service"),
    );
    let (namespaces, namespaces_note) = namespace_rows(ws);
    let body = RecordView {
        meta,
        decision_makers: filters::quote(&ws.project.decision_makers.join(", ")),
        title: md(&title(ws, verdict)),
        context,
        criteria,
        outcome,
        confirmation: confirmation(verdict, workspace_file),
        generated_note: generated_note(verdict, extras),
        kubernetes,
        alternatives,
        good: good_because(good),
        bad: bad_because(bad),
        contradictions,
        mermaid: &extras.mermaid,
        findings,
        namespaces,
        namespaces_note,
        generated,
        diagram_caption: diagram_caption(extras.diagram),
        workspace_file: workspace_file.replace('`', ""),
    }
    .render()
    .expect("rendering into a String cannot fail");
    let marker = marker(&ws.project.name, verdict.recommended, &body);
    format!("{body}\n\n{marker}\n")
}

/// What the diagram shows, and where to see the rest.
fn diagram_caption(diagram: Overview) -> String {
    const TOO_BIG: &str =
        "the service graph is too big to draw here: `k8s-advisor graph --format dot` draws it";
    match diagram {
        Overview::Services => {
            "Services grouped by business domain; a solid arrow is a declared synchronous call, a dashed one an asynchronous or telemetry call."
                .to_string()
        }
        Overview::Domains => format!(
            "Business domains; an arrow counts the declared calls from one to the other ({TOO_BIG})."
        ),
        Overview::BusiestDomains { shown, total } => format!(
            "The {shown} business domains with the most calls, of {total}; an arrow counts the declared calls from one to the other ({TOO_BIG}, and `k8s-advisor graph --format json` lists every domain)."
        ),
    }
}

/// The context paragraphs: what the product is, how big, and the question.
fn context(graph: &ServiceGraph<'_>, verdict: &Verdict, option: &str) -> Vec<String> {
    let ws = graph.workspace();
    let md = |s: &str| markdown_inline(s);
    let teams = crate::assess::measure(graph, Metric::Teams);
    let calls = graph.call_count();
    let cross = graph.cross_namespace_call_count();
    let mut context = Vec::new();
    if !ws.project.description.trim().is_empty() {
        context.push(format!(
            "{}: {}.",
            md(&ws.project.name),
            md(ws.project.description.trim().trim_end_matches('.'))
        ));
    }
    context.push(format!(
        "The product has {} in {}{}, with {} between services{}.",
        count(ws.services.len(), "service", "services"),
        count(ws.namespaces.len(), "business domain", "business domains"),
        teams.map_or(String::new(), |t| format!(
            ", maintained by {}",
            count(t as usize, "team", "teams")
        )),
        count(calls, "declared call", "declared calls"),
        match (calls, cross) {
            (0, _) => String::new(),
            (_, 0) => ", none of them across domains".to_string(),
            (_, n) => format!(", {n} of them across domains"),
        }
    ));
    context.push(format!(
        "Should it run on {option}, or on a simpler platform? The question is settled with the criteria below: Kubernetes is a good option when the met criteria weigh at least {} of {}.",
        verdict.threshold, verdict.max_score
    ));
    context
}

/// The decision outcome: the chosen option, why, and what is still open.
fn outcome(verdict: &Verdict, chosen: &str) -> String {
    let md = |s: &str| markdown_inline(s);
    let mut outcome = format!(
        "Chosen option: \"{}\", because the met criteria score {} of {}, {} the threshold of {}.",
        md(chosen),
        verdict.score,
        verdict.max_score,
        if verdict.recommended {
            "reaching"
        } else {
            "below"
        },
        verdict.threshold
    );
    if !verdict.recommended && verdict.alternatives.len() > 1 {
        outcome.push_str(
            " It is the first of the simpler platforms the decision policy lists; the others below may fit as well.",
        );
    }
    let open: Vec<String> = verdict
        .criteria
        .iter()
        .filter(|c| c.status == Status::Unanswered)
        .map(|c| md(&c.title))
        .collect();
    if !open.is_empty() {
        outcome.push_str(&format!(
            " {} unanswered ({}){}.",
            if open.len() == 1 {
                "One criterion is"
            } else {
                "Some criteria are"
            },
            open.join("; "),
            if verdict.undecided {
                ": answering them could still change this decision"
            } else {
                ", but could not change this decision"
            }
        ));
    }
    outcome
}

/// Kubernetes as a considered option.
fn kubernetes_view(name: &str, met: &[&str]) -> OptionView {
    let md = |s: &str| markdown_inline(s);
    OptionView {
        name: md(name),
        summary: "One cluster per environment, a namespace per business domain, NetworkPolicies between domains.".into(),
        pros: good_because(if met.is_empty() {
            vec!["the industry standard orchestrator, portable across clouds".into()]
        } else {
            met.iter().map(|m| format!("it fits: {}", md(&m.to_lowercase()))).collect()
        }),
        cons: bad_because(vec![
            "a cluster, its upgrades and its add-ons must be operated".into(),
            "the team needs Kubernetes skills for manifests, policies and debugging".into(),
        ]),
    }
}

/// The good and bad consequences of the decision, for either verdict.
fn consequences(verdict: &Verdict) -> (Vec<String>, Vec<String>) {
    let md = |s: &str| markdown_inline(s);
    if verdict.recommended {
        (
            vec![
                "each domain gets its own namespace, owned by its team, with NetworkPolicies that allow only the declared calls".into(),
                "services scale and roll out independently on shared infrastructure".into(),
            ],
            vec!["the cluster and its upgrades become a platform responsibility".into()],
        )
    } else {
        let mut bad: Vec<String> = verdict
            .alternatives
            .first()
            .map(|a| a.cons.iter().map(|c| md(c)).collect())
            .unwrap_or_default();
        bad.push("a product that outgrows it must later migrate to Kubernetes".into());
        (
            vec!["less to operate: no cluster, no control plane upgrades".into()],
            bad,
        )
    }
}

/// The first `max` items, then a line saying how many more there are.
fn capped(
    items: impl ExactSizeIterator<Item = String>,
    max: usize,
    more: impl Fn(usize) -> String,
) -> Vec<String> {
    let total = items.len();
    let mut out: Vec<String> = items.take(max).collect();
    if total > max {
        out.push(more(total - max));
    }
    out
}

/// Namespaces the layout table lists; beyond, the ones with the most services.
const MAX_NAMESPACES: usize = 30;

/// Services named in one row of the layout table; the rest are counted.
const MAX_SERVICE_NAMES: usize = 8;

/// The namespace layout table, one summary row per domain, and for a model with more domains
/// than [`MAX_NAMESPACES`] a sentence on the rest: the record stays a page a person reads, and
/// the full lists are in `graph --format json`.
fn namespace_rows(ws: &Workspace) -> (Vec<NamespaceRow>, Option<String>) {
    let md = |s: &str| markdown_inline(s);
    let mut domains: Vec<(&crate::model::Namespace, Vec<&crate::model::Service>)> = ws
        .namespaces
        .values()
        .map(|ns| (ns, ws.services_in(&ns.name).collect()))
        .collect();
    let mut note = None;
    if domains.len() > MAX_NAMESPACES {
        // The largest first; by name among equals, so that the same model gives the same rows.
        domains.sort_by(|a, b| {
            b.1.len()
                .cmp(&a.1.len())
                .then_with(|| a.0.name.cmp(&b.0.name))
        });
        let rest = domains.split_off(MAX_NAMESPACES);
        let services: usize = rest.iter().map(|(_, s)| s.len()).sum();
        note = Some(format!(
            "The {MAX_NAMESPACES} business domains with the most services are listed; {} more hold {}: `k8s-advisor graph --format json` lists every domain and service.",
            rest.len(),
            count(services, "service", "services")
        ));
    }
    let rows = domains
        .into_iter()
        .map(|(ns, services)| {
            let mut exposure: Vec<&str> = services.iter().map(|s| s.expose.as_str()).collect();
            exposure.sort_unstable();
            exposure.dedup();
            let mut names: Vec<String> = services
                .iter()
                .take(MAX_SERVICE_NAMES)
                .map(|s| md(&s.id.name))
                .collect();
            if services.len() > MAX_SERVICE_NAMES {
                names.push(format!("… and {} more", services.len() - MAX_SERVICE_NAMES));
            }
            NamespaceRow {
                name: md(&ns.name),
                team: ns.team.as_deref().map_or_else(|| "—".into(), md),
                services: if services.is_empty() {
                    "—".into()
                } else {
                    names.join(", ")
                },
                exposure: if services.iter().all(|s| s.expose == Expose::Cluster) {
                    "cluster only".into()
                } else {
                    exposure.join(", ")
                },
            }
        })
        .collect();
    (rows, note)
}

/// How the decision is kept honest: the commands that reproduce it, and for a negative verdict
/// when to look at it again.
fn confirmation(verdict: &Verdict, workspace_file: &str) -> String {
    let workspace_file = workspace_file.replace('`', "");
    if verdict.recommended {
        format!(
            "`k8s-advisor -w {workspace_file} assess` reproduces the verdict from the workspace file. In CI, `k8s-advisor check` keeps the design within the guardrails and `k8s-advisor generate --check` fails when the committed manifests drift from the model."
        )
    } else {
        format!(
            "`k8s-advisor -w {workspace_file} assess` reproduces the verdict from the workspace file. Keep the file up to date as the product grows (more services, more teams, more calls that need traffic policies) and revisit this decision when `assess` recommends Kubernetes."
        )
    }
}

/// A word on Kubernetes manifests generated although the verdict prefers a simpler platform.
fn generated_note(verdict: &Verdict, extras: &Extras) -> Option<&'static str> {
    (!verdict.recommended && !extras.generated.is_empty()).then_some(
        "The decision prefers a simpler platform, but a Kubernetes layout was generated anyway: keep it as a starting point for when the decision is revisited, or delete it.",
    )
}

fn option_views(alternatives: &[Alternative]) -> Vec<OptionView> {
    alternatives
        .iter()
        .map(|a| OptionView {
            name: markdown_inline(&a.name),
            summary: markdown_inline(&if a.examples.is_empty() {
                a.fits.clone()
            } else {
                format!("{} Examples: {}.", a.fits, a.examples.join(", "))
            }),
            pros: good_because(a.pros.iter().map(|p| markdown_inline(p)).collect()),
            cons: bad_because(a.cons.iter().map(|c| markdown_inline(c)).collect()),
        })
        .collect()
}

fn good_because(items: Vec<String>) -> Vec<String> {
    items
        .into_iter()
        .map(|i| format!("Good, because {i}"))
        .collect()
}

fn bad_because(items: Vec<String>) -> Vec<String> {
    items
        .into_iter()
        .map(|i| format!("Bad, because {i}"))
        .collect()
}
