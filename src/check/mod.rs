//! Analyse stage: guardrails. Applies the rules configured in `policies/guardrails.toml` to the
//! validated model and returns findings, each located at the line of the workspace file it is
//! about. Pure: it reads no files (beyond the policy, in `guardrails`) and prints nothing.

pub mod guardrails;
pub mod images;

use std::collections::BTreeMap;

pub use guardrails::{Guardrails, MovingTag, Rule, RuleId, Severity, Threshold};

use crate::graph::ServiceGraph;
use crate::model::{CallKind, Expose, Namespace, Platform, Port, Service, Workspace};
use crate::span::Span;
use crate::text;

/// One guardrail violation. Rendered by `report::check`, the only place that decides how a
/// finding looks in text, JSON or SARIF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule's stable id.
    pub rule: RuleId,
    /// The severity configured for the rule.
    pub severity: Severity,
    /// What is wrong, naming the service or namespace and the values involved.
    pub message: String,
    /// The service (`namespace/name`) or namespace the finding is about.
    pub subject: String,
    /// Where, in bytes of the workspace file.
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

/// What `generate` says after writing when the model still breaks error-level guardrails (the
/// manifests then carry the same mistakes); `None` when there is nothing to say.
pub fn remaining_errors(workspace: &Workspace, guardrails: &Guardrails) -> Option<String> {
    let report = check(&ServiceGraph::build(workspace), guardrails);
    match report.count(Severity::Error) {
        0 => None,
        n => Some(format!(
            "warning: the model behind these files has {}; run `k8s-advisor check` to see {}\n",
            text::count(
                n,
                "error-level guardrail finding",
                "error-level guardrail findings"
            ),
            text::noun(n, "it", "them"),
        )),
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
        let s = Subject {
            service,
            id: service.id.to_string(),
            callers: &callers[i],
        };
        c.resources_missing(&s);
        c.memory_millibytes(&s);
        c.cpu_limit_ratio(&s);
        c.image(&s);
        c.single_replica(&s);
        c.public_and_called(&s);
        c.eks_target_port(&s);
        c.egress_anywhere(&s);
        c.exposure_fails_open(&s);
        c.client_address(&s);
        c.database_without_storage(&s);
    }
    c.namespaces();
    c.call_cycles(graph);
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

/// One service under review, with what the per-service rules share.
struct Subject<'a> {
    service: &'a Service,
    /// `namespace/name`.
    id: String,
    /// The other services that call it, sorted.
    callers: &'a [String],
}

impl Subject<'_> {
    /// The span of a key, or of the service's table when the key is not written.
    fn here(&self, span: Option<Span>) -> Span {
        span.unwrap_or(self.service.span)
    }
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

    fn resources_missing(&mut self, s: &Subject<'_>) {
        if !self.on(RuleId::ResourcesMissing) {
            return;
        }
        let r = &s.service.resources;
        let missing: Vec<&str> = [
            ("CPU request", r.requests.cpu.is_none()),
            ("memory request", r.requests.memory.is_none()),
            ("CPU limit", r.limits.cpu.is_none()),
            ("memory limit", r.limits.memory.is_none()),
        ]
        .into_iter()
        .filter_map(|(what, missing)| missing.then_some(what))
        .collect();
        if missing.is_empty() {
            return;
        }
        // The resources table when it is written, else the service.
        let span = s.here(s.service.keys.resources);
        self.push(
            RuleId::ResourcesMissing,
            s.id.clone(),
            span,
            format!("service {} has no {}", s.id, text::join_and(&missing)),
        );
    }

    fn memory_millibytes(&mut self, s: &Subject<'_>) {
        if !self.on(RuleId::MemoryMillibytes) {
            return;
        }
        let r = &s.service.resources;
        for (what, q, span) in [
            ("request", &r.requests.memory, r.requests.memory_span),
            ("limit", &r.limits.memory, r.limits.memory_span),
        ] {
            if let Some(q) = q.as_ref().filter(|q| q.is_milli()) {
                let number = q.as_str().trim_end_matches('m');
                self.push(
                    RuleId::MemoryMillibytes,
                    s.id.clone(),
                    s.here(span),
                    format!(
                        "memory {what} \"{q}\" of {} means {number} thousandths of a byte; \
                         did you mean \"{number}Mi\"?",
                        s.id
                    ),
                );
            }
        }
    }

    fn cpu_limit_ratio(&mut self, s: &Subject<'_>) {
        let r = &s.service.resources;
        let (Some(req), Some(lim)) = (&r.requests.cpu, &r.limits.cpu) else {
            return;
        };
        if !self.on(RuleId::CpuLimitRatio) {
            return;
        }
        let max = i128::from(self.guardrails.threshold(RuleId::CpuLimitRatio, 4));
        if lim.nanos() <= req.nanos().saturating_mul(max) {
            return;
        }
        let ratio = if req.nanos() == 0 {
            "unbounded times".to_string()
        } else {
            let tenths = (lim.nanos() * 10 + req.nanos() / 2) / req.nanos();
            format!("{}.{} times", tenths / 10, tenths % 10)
        };
        self.push(
            RuleId::CpuLimitRatio,
            s.id.clone(),
            s.here(r.limits.cpu_span),
            format!(
                "CPU limit \"{lim}\" of {} is {ratio} its request \"{req}\"; \
                 the policy allows at most {max} times",
                s.id
            ),
        );
    }

    /// `image-missing` and `image-unpinned`.
    fn image(&mut self, s: &Subject<'_>) {
        let image = s.service.image.as_ref();
        // The placeholder `init` writes for an unknown image is as good as none: it never pulls.
        if let Some(image) = image.filter(|i| crate::names::is_placeholder_image(i)) {
            if self.on(RuleId::ImageMissing) {
                self.push(
                    RuleId::ImageMissing,
                    s.id.clone(),
                    s.here(s.service.keys.image),
                    format!(
                        "service {} has the placeholder image \"{image}\", which cannot be pulled",
                        s.id
                    ),
                );
            }
            return;
        }
        let Some(image) = image else {
            if self.on(RuleId::ImageMissing) {
                self.push(
                    RuleId::ImageMissing,
                    s.id.clone(),
                    s.service.span,
                    format!("service {} names no container image", s.id),
                );
            }
            return;
        };
        if !self.on(RuleId::ImageUnpinned) {
            return;
        }
        let Some(problem) = unpinned(self.guardrails, image) else {
            return;
        };
        self.push(
            RuleId::ImageUnpinned,
            s.id.clone(),
            s.here(s.service.keys.image),
            format!("image \"{image}\" of {} {problem}", s.id),
        );
    }

    fn single_replica(&mut self, s: &Subject<'_>) {
        if !self.on(RuleId::SingleReplica) {
            return;
        }
        let service = s.service;
        let min = self.guardrails.threshold(RuleId::SingleReplica, 2);
        let exposed = service.expose != Expose::Cluster;
        if service.replicas >= min || (!exposed && s.callers.is_empty()) {
            return;
        }
        let why = match (exposed, s.callers.len()) {
            (true, 0) => format!("is exposed ({})", service.expose.as_str()),
            (true, n) => format!(
                "is exposed ({}) and called by {}",
                service.expose.as_str(),
                text::count(n, "service", "services")
            ),
            (false, _) => format!("is called by {}", text::list(s.callers, text::SHOWN)),
        };
        self.push(
            RuleId::SingleReplica,
            s.id.clone(),
            s.here(s.service.keys.replicas),
            format!(
                "{} runs {} but {why}; at least {min} are needed",
                s.id,
                text::count(service.replicas as usize, "replica", "replicas")
            ),
        );
    }

    fn public_and_called(&mut self, s: &Subject<'_>) {
        if self.on(RuleId::PublicAndCalled)
            && s.service.expose == Expose::Public
            && !s.callers.is_empty()
        {
            self.push(
                RuleId::PublicAndCalled,
                s.id.clone(),
                s.here(s.service.keys.expose),
                format!(
                    "{} is public and also called by {}",
                    s.id,
                    text::list(s.callers, text::SHOWN)
                ),
            );
        }
    }

    fn eks_target_port(&mut self, s: &Subject<'_>) {
        if !self.on(RuleId::EksTargetPort) || self.workspace.project.platform != Platform::Eks {
            return;
        }
        let ports: Vec<&Port> = s
            .service
            .ports
            .iter()
            .filter(|p| p.port != p.target)
            .collect();
        // The first such port as written in the file.
        let Some(first) = ports.iter().map(|p| p.span).min() else {
            return;
        };
        let differing: Vec<String> = ports
            .iter()
            .map(|p| format!("{} ({} → {})", p.name, p.port, p.target))
            .collect();
        self.push(
            RuleId::EksTargetPort,
            s.id.clone(),
            first,
            format!(
                "{} maps Service {} to different container {}: {}",
                s.id,
                text::noun(differing.len(), "port", "ports"),
                text::noun(differing.len(), "port", "ports"),
                differing.join(", ")
            ),
        );
    }

    fn exposure_fails_open(&mut self, s: &Subject<'_>) {
        if self.on(RuleId::ExposureFailsOpen)
            && s.service.expose == Expose::Internal
            && self.workspace.project.platform == Platform::Aks
        {
            self.push(
                RuleId::ExposureFailsOpen,
                s.id.clone(),
                s.here(s.service.keys.expose),
                format!(
                    "{} is internal, but on AKS only the annotation \
                     service.beta.kubernetes.io/azure-load-balancer-internal keeps its load \
                     balancer private; a controller that ignores it creates a public one",
                    s.id
                ),
            );
        }
    }

    fn client_address(&mut self, s: &Subject<'_>) {
        let service = s.service;
        if !self.on(RuleId::ClientAddress)
            || !matches!(service.expose, Expose::Internal | Expose::Public)
            || service
                .sources
                .as_ref()
                .is_none_or(crate::model::Sources::is_anywhere)
        {
            return;
        }
        let why = match self.workspace.project.platform {
            Platform::Generic => {
                "on platform \"generic\" whether the pod sees the client's address depends on \
                 the load balancer"
            }
            // The NLB forwards IPv6 clients to IPv4 pod targets from its own address.
            Platform::Eks
                if service
                    .sources
                    .iter()
                    .flatten()
                    .any(|n| matches!(n, ipnet::IpNet::V6(_))) =>
            {
                "on EKS the pod sees the load balancer's address, not the client's, for IPv6 \
                 clients of IPv4 pods"
            }
            Platform::Eks | Platform::Gke | Platform::Aks => return,
        };
        let sources: Vec<String> = service
            .sources
            .iter()
            .flatten()
            .map(ToString::to_string)
            .collect();
        self.push(
            RuleId::ClientAddress,
            s.id.clone(),
            s.here(service.keys.sources.or(service.keys.expose)),
            format!(
                "{} admits only {}, but {why}",
                s.id,
                text::list(&sources, text::SHOWN)
            ),
        );
    }

    fn database_without_storage(&mut self, s: &Subject<'_>) {
        let service = s.service;
        if !self.on(RuleId::DatabaseWithoutStorage) || service.is_stateful() {
            return;
        }
        let Some(image) = &service.image else {
            return;
        };
        let Some(known) = self.guardrails.images.find(image).filter(|k| k.keeps_data) else {
            return;
        };
        let size = known.storage.as_deref().unwrap_or("10Gi");
        let path = known
            .storage_path
            .as_deref()
            .map_or_else(String::new, |p| format!(", storage-path = \"{p}\""));
        self.push(
            RuleId::DatabaseWithoutStorage,
            s.id.clone(),
            s.here(service.keys.image),
            format!(
                "{} runs {} ({image}) as a Deployment without a volume: its data is lost \
                 whenever the pod is replaced; add kind = \"stateful\", storage = \"{size}\"{path}",
                s.id, known.title
            ),
        );
    }

    fn egress_anywhere(&mut self, s: &Subject<'_>) {
        if !self.on(RuleId::EgressAnywhere) {
            return;
        }
        for e in s.service.egress.iter().filter(|e| e.cidr.prefix_len() == 0) {
            let reason = if e.reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", e.reason)
            };
            self.push(
                RuleId::EgressAnywhere,
                s.id.clone(),
                e.span,
                format!(
                    "{} may send traffic to any address: {}{reason}",
                    s.id, e.cidr
                ),
            );
        }
    }

    /// One finding per cycle of calls, the same cycles the graph review reports as its
    /// `call-cycle` errors, placed at the first service's call into the cycle.
    fn call_cycles(&mut self, graph: &ServiceGraph<'_>) {
        if !self.on(RuleId::CallCycle) {
            return;
        }
        let services = &self.workspace.services;
        for members in graph.call_cycles() {
            let Some(&first) = members.first() else {
                continue;
            };
            let service = &services[first];
            let span = service
                .calls
                .iter()
                .find(|call| {
                    call.kind == CallKind::Sync
                        && members
                            .binary_search_by(|&m| services[m].id.cmp(&call.to))
                            .is_ok()
                })
                .map_or(service.span, |call| call.span);
            let ids: Vec<String> = members
                .iter()
                .map(|&m| services[m].id.to_string())
                .collect();
            let message = if let [only] = ids.as_slice() {
                format!("{only} calls itself synchronously")
            } else {
                format!(
                    "{} services call each other in a cycle: {}",
                    ids.len(),
                    text::list(&ids, text::SHOWN)
                )
            };
            self.push(RuleId::CallCycle, ids.join(", "), span, message);
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

    /// The rules about a namespace: load balancers, teams and size.
    fn namespaces(&mut self) {
        for ns in self.workspace.namespaces.values() {
            let services: Vec<&Service> = self.workspace.services_in(&ns.name).collect();
            let Some(first) = services.first() else {
                continue;
            };
            let span = ns.span.unwrap_or(first.span);
            self.load_balancers_per_namespace(ns, &services, span);
            self.namespace_teams(ns, &services, span);
            self.namespace_size(ns, &services, span);
        }
    }

    fn load_balancers_per_namespace(&mut self, ns: &Namespace, services: &[&Service], span: Span) {
        if !self.on(RuleId::LoadBalancersPerNamespace) {
            return;
        }
        let max = self
            .guardrails
            .threshold(RuleId::LoadBalancersPerNamespace, 2);
        let lbs: Vec<String> = services
            .iter()
            .filter(|s| matches!(s.expose, Expose::Internal | Expose::Public))
            .map(|s| format!("{} ({})", s.id.name, s.expose.as_str()))
            .collect();
        if lbs.len() > max as usize {
            self.push(
                RuleId::LoadBalancersPerNamespace,
                ns.name.clone(),
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

    fn namespace_teams(&mut self, ns: &Namespace, services: &[&Service], span: Span) {
        if !self.on(RuleId::NamespaceTeams) {
            return;
        }
        let mut teams: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for s in services {
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
                ns.name.clone(),
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

    fn namespace_size(&mut self, ns: &Namespace, services: &[&Service], span: Span) {
        if !self.on(RuleId::NamespaceSize) {
            return;
        }
        let max = self.guardrails.threshold(RuleId::NamespaceSize, 15);
        if services.len() > max as usize {
            self.push(
                RuleId::NamespaceSize,
                ns.name.clone(),
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

/// Why `image` does not name one release (the `image-unpinned` rule), or `None` when it does:
/// a digest, or a tag that none of the rule's `moving-tags` matches. A tag of two numbers names
/// a release for an image that `images.toml` says numbers its releases so (`postgres:16.4`).
/// The text follows "image \"...\" of <service>" in a finding, and `init` shows it too.
pub fn unpinned(guardrails: &Guardrails, image: &str) -> Option<String> {
    let tag = match image_tag(image) {
        ImageTag::Digest => return None,
        ImageTag::None => return Some("has no tag, so it means `latest`".to_string()),
        ImageTag::Tag(tag) => tag,
    };
    let known = guardrails
        .images
        .find(image)
        .and_then(|k| k.release.as_ref().map(|r| (k, r)));
    let release_of_two = known.is_some_and(|(_, r)| {
        MovingTag::MajorMinor.matches(tag) && major(tag).is_some_and(|m| m >= r.from_major)
    });
    let moving = guardrails.moving_tags(RuleId::ImageUnpinned);
    let rule = moving
        .iter()
        .find(|m| m.matches(tag) && !(**m == MovingTag::MajorMinor && release_of_two))?;
    Some(match rule {
        MovingTag::Named(name) if name.eq_ignore_ascii_case(tag) => {
            format!("is tagged `{tag}`, which moves to every new release")
        }
        MovingTag::Named(name) => {
            format!("is tagged `{tag}`, a variant of `{name}`, which moves to every new release")
        }
        MovingTag::Major => {
            let why = known.map_or_else(String::new, |(_, r)| format!("; {}", r.why));
            format!("is tagged `{tag}`, a major version that moves to every release in it{why}")
        }
        MovingTag::MajorMinor => format!(
            "is tagged `{tag}`, a version without a patch number that moves to every patch \
             release (images whose releases have two numbers, as PostgreSQL's do, are listed \
             in images.toml)"
        ),
    })
}

/// The major version a tag starts with (`v16.4-alpine` → 16).
fn major(tag: &str) -> Option<u64> {
    let head = tag.split(['-', '.']).next()?;
    head.strip_prefix(['v', 'V']).unwrap_or(head).parse().ok()
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
}
