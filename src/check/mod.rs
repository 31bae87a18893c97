//! Analyse stage: guardrails. Applies the rules configured in `policies/guardrails.toml` to the
//! validated model and returns findings, each located at the line of the workspace file it is
//! about. Pure: it reads no files (beyond the policy, in `guardrails`) and prints nothing.

pub mod guardrails;

use std::collections::BTreeMap;

use serde::Serialize;

pub use guardrails::{Guardrails, Rule, RuleId, Severity};

use crate::graph::ServiceGraph;
use crate::model::{Expose, Platform, Service, Workspace};
use crate::span::Span;

/// One guardrail violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Finding {
    /// The rule's stable id.
    #[serde(serialize_with = "serialize_rule")]
    pub rule: RuleId,
    /// The severity configured for the rule.
    pub severity: Severity,
    /// What is wrong, naming the service or namespace and the values involved.
    pub message: String,
    /// The service (`namespace/name`) or namespace the finding is about.
    pub subject: String,
    /// Where, in bytes of the workspace file.
    #[serde(skip)]
    pub span: Span,
    /// 1-based line of the span start.
    pub line: usize,
    /// 1-based column (in characters) of the span start.
    pub column: usize,
    /// 1-based line of the span end.
    pub end_line: usize,
    /// 1-based column just after the span end.
    pub end_column: usize,
}

fn serialize_rule<S: serde::Serializer>(rule: &RuleId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(rule.as_str())
}

/// The outcome of `check`: the rules in force and what they found.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// Every rule, enabled or not, in `RuleId::ALL` order.
    pub rules: Vec<Rule>,
    /// Findings, ordered by position in the file, then rule.
    pub findings: Vec<Finding>,
}

impl CheckReport {
    /// Number of findings of one severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// True when an error-level finding exists (`check` then exits 1).
    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }

    /// The configuration of one rule.
    pub fn rule(&self, id: RuleId) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// Applies every enabled rule to the workspace behind `graph`.
pub fn check(graph: &ServiceGraph<'_>, guardrails: &Guardrails) -> CheckReport {
    let mut c = Checker {
        workspace: graph.workspace(),
        guardrails,
        findings: Vec::new(),
    };
    let callers = callers(graph);
    for (i, service) in c.workspace.services.iter().enumerate() {
        c.service(service, &callers[i]);
    }
    c.namespaces();
    c.namespace_cycles(graph);
    let mut findings = c.findings;
    findings.sort_by(|a, b| {
        (a.span.start, a.rule, &a.subject, &a.message).cmp(&(
            b.span.start,
            b.rule,
            &b.subject,
            &b.message,
        ))
    });
    CheckReport {
        rules: guardrails.rules.clone(),
        findings,
    }
}

/// For each service, the other services that call it, by id.
fn callers(graph: &ServiceGraph<'_>) -> Vec<Vec<String>> {
    let services = &graph.workspace().services;
    (0..services.len())
        .map(|i| {
            let mut ids: Vec<String> = graph
                .callers(i)
                .filter(|caller| caller.id != services[i].id)
                .map(|caller| caller.id.to_string())
                .collect();
            ids.sort();
            ids.dedup();
            ids
        })
        .collect()
}

struct Checker<'a> {
    workspace: &'a Workspace,
    guardrails: &'a Guardrails,
    findings: Vec<Finding>,
}

impl Checker<'_> {
    fn on(&self, rule: RuleId) -> bool {
        self.guardrails.rule(rule).enabled
    }

    fn push(&mut self, rule: RuleId, subject: String, span: Span, message: String) {
        let source = &self.workspace.source;
        let (line, column) = source.line_col(span.start);
        let (end_line, end_column) = source.line_col(span.end.max(span.start));
        self.findings.push(Finding {
            rule,
            severity: self.guardrails.rule(rule).severity,
            message,
            subject,
            span,
            line,
            column,
            end_line,
            end_column,
        });
    }

    fn service(&mut self, s: &Service, callers: &[String]) {
        let at = &s.keys;
        let id = s.id.to_string();
        let here = |span: &Option<Span>| span.unwrap_or(s.span);
        let r = &s.resources;

        if self.on(RuleId::ResourcesMissing) {
            let missing: Vec<&str> = [
                ("CPU request", r.requests.cpu.is_none()),
                ("memory request", r.requests.memory.is_none()),
                ("CPU limit", r.limits.cpu.is_none()),
                ("memory limit", r.limits.memory.is_none()),
            ]
            .into_iter()
            .filter_map(|(what, missing)| missing.then_some(what))
            .collect();
            if !missing.is_empty() {
                let span = at.resources.unwrap_or(s.span);
                self.push(
                    RuleId::ResourcesMissing,
                    id.clone(),
                    span,
                    format!("service {id} has no {}", join_and(&missing)),
                );
            }
        }

        if self.on(RuleId::MemoryMillibytes) {
            for (what, q, span) in [
                ("request", &r.requests.memory, &r.requests.memory_span),
                ("limit", &r.limits.memory, &r.limits.memory_span),
            ] {
                if let Some(q) = q.as_ref().filter(|q| q.is_milli()) {
                    let number = q.as_str().trim_end_matches('m');
                    self.push(
                        RuleId::MemoryMillibytes,
                        id.clone(),
                        here(span),
                        format!(
                            "memory {what} \"{q}\" of {id} means {number} thousandths of a byte; \
                             did you mean \"{number}Mi\"?"
                        ),
                    );
                }
            }
        }

        if self.on(RuleId::CpuLimitRatio)
            && let (Some(req), Some(lim)) = (&r.requests.cpu, &r.limits.cpu)
        {
            let max = i128::from(self.guardrails.threshold(RuleId::CpuLimitRatio, 4));
            if lim.nanos() > req.nanos().saturating_mul(max) {
                let ratio = if req.nanos() == 0 {
                    "unbounded times".to_string()
                } else {
                    let tenths = (lim.nanos() * 10 + req.nanos() / 2) / req.nanos();
                    format!("{}.{} times", tenths / 10, tenths % 10)
                };
                self.push(
                    RuleId::CpuLimitRatio,
                    id.clone(),
                    here(&r.limits.cpu_span),
                    format!(
                        "CPU limit \"{lim}\" of {id} is {ratio} its request \"{req}\"; \
                         the policy allows at most {max} times"
                    ),
                );
            }
        }

        match &s.image {
            None if self.on(RuleId::ImageMissing) => self.push(
                RuleId::ImageMissing,
                id.clone(),
                s.span,
                format!("service {id} names no container image"),
            ),
            Some(image) if self.on(RuleId::ImageUnpinned) => {
                let problem = match image_tag(image) {
                    ImageTag::Digest => None,
                    ImageTag::None => Some("has no tag, so it means `latest`"),
                    ImageTag::Tag("latest") => Some("is tagged `latest`"),
                    ImageTag::Tag(_) => None,
                };
                if let Some(problem) = problem {
                    self.push(
                        RuleId::ImageUnpinned,
                        id.clone(),
                        here(&at.image),
                        format!("image \"{image}\" of {id} {problem}"),
                    );
                }
            }
            _ => {}
        }

        if self.on(RuleId::SingleReplica) {
            let min = self.guardrails.threshold(RuleId::SingleReplica, 2);
            let exposed = s.expose != Expose::Cluster;
            if s.replicas < min && (exposed || !callers.is_empty()) {
                let why = match (exposed, callers.len()) {
                    (true, 0) => format!("is exposed ({})", s.expose.as_str()),
                    (true, n) => format!(
                        "is exposed ({}) and called by {n} service{}",
                        s.expose.as_str(),
                        plural(n)
                    ),
                    (false, n) => format!("is called by {}", list(callers, n)),
                };
                self.push(
                    RuleId::SingleReplica,
                    id.clone(),
                    here(&at.replicas),
                    format!(
                        "{id} runs {} replica{} but {why}; at least {min} are needed",
                        s.replicas,
                        plural(s.replicas as usize)
                    ),
                );
            }
        }

        if self.on(RuleId::PublicAndCalled) && s.expose == Expose::Public && !callers.is_empty() {
            self.push(
                RuleId::PublicAndCalled,
                id.clone(),
                here(&at.expose),
                format!(
                    "{id} is public and also called by {}",
                    list(callers, callers.len())
                ),
            );
        }

        if self.on(RuleId::EksTargetPort) && self.workspace.project.platform == Platform::Eks {
            let differing: Vec<String> = s
                .ports
                .iter()
                .filter(|p| p.port != p.target)
                .map(|p| format!("{} ({} → {})", p.name, p.port, p.target))
                .collect();
            if !differing.is_empty() {
                self.push(
                    RuleId::EksTargetPort,
                    id.clone(),
                    here(&at.ports),
                    format!(
                        "{id} maps Service port{} to different container port{}: {}",
                        plural(differing.len()),
                        plural(differing.len()),
                        differing.join(", ")
                    ),
                );
            }
        }

        if self.on(RuleId::EgressAnywhere) {
            for e in s.egress.iter().filter(|e| e.cidr.prefix_len() == 0) {
                let reason = if e.reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", e.reason)
                };
                self.push(
                    RuleId::EgressAnywhere,
                    id.clone(),
                    e.span,
                    format!("{id} may send traffic to any address: {}{reason}", e.cidr),
                );
            }
        }
    }

    /// One finding per cycle of domains, placed at the first namespace of the cycle.
    fn namespace_cycles(&mut self, graph: &ServiceGraph<'_>) {
        if !self.on(RuleId::NamespaceCycle) {
            return;
        }
        for cycle in graph.namespace_cycles() {
            let Some(first) = cycle.first() else {
                continue;
            };
            let span = self
                .workspace
                .namespaces
                .get(first)
                .and_then(|ns| ns.span)
                .or_else(|| self.workspace.services_in(first).next().map(|s| s.span))
                .unwrap_or_default();
            self.push(
                RuleId::NamespaceCycle,
                cycle.join(", "),
                span,
                format!(
                    "namespaces {} call each other in a cycle",
                    cycle.join(" ⇄ ")
                ),
            );
        }
    }

    fn namespaces(&mut self) {
        for ns in self.workspace.namespaces.values() {
            let services: Vec<&Service> = self.workspace.services_in(&ns.name).collect();
            let Some(first) = services.first() else {
                continue;
            };
            let span = ns.span.unwrap_or(first.span);
            let subject = ns.name.clone();

            if self.on(RuleId::LoadBalancersPerNamespace) {
                let max = self
                    .guardrails
                    .threshold(RuleId::LoadBalancersPerNamespace, 2);
                let lbs: Vec<String> = services
                    .iter()
                    .filter(|s| s.expose != Expose::Cluster)
                    .map(|s| format!("{} ({})", s.id.name, s.expose.as_str()))
                    .collect();
                if lbs.len() > max as usize {
                    self.push(
                        RuleId::LoadBalancersPerNamespace,
                        subject.clone(),
                        span,
                        format!(
                            "namespace {} has {} LoadBalancer services, more than {max}: {}",
                            ns.name,
                            lbs.len(),
                            lbs.join(", ")
                        ),
                    );
                }
            }

            if self.on(RuleId::NamespaceTeams) {
                let mut teams: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
                for s in &services {
                    if let Some(team) = &s.team {
                        teams.entry(team).or_default().push(&s.id.name);
                    }
                }
                if teams.len() > 1 {
                    let owners: Vec<String> = teams
                        .iter()
                        .map(|(team, names)| format!("{team} ({})", names.join(", ")))
                        .collect();
                    self.push(
                        RuleId::NamespaceTeams,
                        subject.clone(),
                        span,
                        format!(
                            "namespace {} is shared by {} teams: {}",
                            ns.name,
                            teams.len(),
                            owners.join("; ")
                        ),
                    );
                }
            }

            if self.on(RuleId::NamespaceSize) {
                let max = self.guardrails.threshold(RuleId::NamespaceSize, 15);
                if services.len() > max as usize {
                    self.push(
                        RuleId::NamespaceSize,
                        subject.clone(),
                        span,
                        format!(
                            "namespace {} holds {} services, more than {max}",
                            ns.name,
                            services.len()
                        ),
                    );
                }
            }
        }
    }
}

/// What an image reference says about its version.
#[derive(Debug, PartialEq, Eq)]
enum ImageTag<'a> {
    /// Pinned by `@sha256:...`.
    Digest,
    /// No tag at all.
    None,
    /// `name:tag`.
    Tag(&'a str),
}

fn image_tag(image: &str) -> ImageTag<'_> {
    if image.contains('@') {
        return ImageTag::Digest;
    }
    // A colon before the last '/' belongs to a registry port (`registry:5000/app`).
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) if !tag.is_empty() => ImageTag::Tag(tag),
        _ => ImageTag::None,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// "a", "a and b", "a, b and c".
fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// "a, b", or "a, b, c and 4 more" past three items.
fn list(items: &[String], total: usize) -> String {
    const SHOWN: usize = 3;
    if total <= SHOWN {
        items.join(", ")
    } else {
        format!("{} and {} more", items[..SHOWN].join(", "), total - SHOWN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tags() {
        assert_eq!(image_tag("nginx"), ImageTag::None);
        assert_eq!(image_tag("nginx:latest"), ImageTag::Tag("latest"));
        assert_eq!(image_tag("registry:5000/app"), ImageTag::None);
        assert_eq!(image_tag("registry:5000/app:1.2"), ImageTag::Tag("1.2"));
        assert_eq!(image_tag("app@sha256:abc"), ImageTag::Digest);
        assert_eq!(image_tag("app:"), ImageTag::None);
    }

    #[test]
    fn lists_read_naturally() {
        assert_eq!(join_and(&["a"]), "a");
        assert_eq!(join_and(&["a", "b", "c"]), "a, b and c");
        let items: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        assert_eq!(list(&items, 4), "a, b, c and 1 more");
    }
}
