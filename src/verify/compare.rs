//! Analyse stage of `verify`: the manifests' connectivity compared with the workspace's design.
//! Produces findings, each naming the workloads, ports and — where one exists — the
//! NetworkPolicy rule responsible. Pure: no I/O, no rendering.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::diagnostic::Error;

use crate::model::{Call, DnsTarget, Expose, Protocol, Service, Workspace};
use crate::severity::Severity;
use crate::verify::engine::{Analysis, Direction, RuleRef};
use crate::verify::manifest::{Manifests, ServiceSelector, Skip};
use crate::verify::sets::{AddrSet, PROTOCOLS, PortSet};

/// The kinds of findings, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A declared call whose callee ports are not all allowed.
    BlockedCall,
    /// Traffic allowed that the model does not declare.
    UndeclaredFlow,
    /// A `public`/`internal` service not reachable from its sources, or reachable from
    /// elsewhere.
    ExposureMismatch,
    /// No policy isolates the workload in a direction.
    UnisolatedWorkload,
    /// A workload the model does not know.
    UnmodeledWorkload,
    /// A service without a workload in the manifests.
    MissingWorkload,
    /// An object that changes connectivity whose rules are not evaluated.
    UnevaluatedPolicy,
    /// An object that was not read: a kind not known, or not a Kubernetes object.
    UnreadObject,
    /// Observed traffic the workspace does not declare: its policies will block it.
    ObservedUndeclared,
    /// Observed traffic the given manifests' policies drop.
    ObservedBlocked,
    /// A declared call no flow shows.
    DeclaredUnobserved,
    /// Observed traffic with an end that is no service of the workspace.
    UnmappedFlow,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 12] = [
        Kind::BlockedCall,
        Kind::UndeclaredFlow,
        Kind::ExposureMismatch,
        Kind::UnisolatedWorkload,
        Kind::UnmodeledWorkload,
        Kind::MissingWorkload,
        Kind::UnevaluatedPolicy,
        Kind::UnreadObject,
        Kind::ObservedUndeclared,
        Kind::ObservedBlocked,
        Kind::DeclaredUnobserved,
        Kind::UnmappedFlow,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Kind::BlockedCall => "blocked-call",
            Kind::UndeclaredFlow => "undeclared-flow",
            Kind::ExposureMismatch => "exposure-mismatch",
            Kind::UnisolatedWorkload => "unisolated-workload",
            Kind::UnmodeledWorkload => "unmodeled-workload",
            Kind::MissingWorkload => "missing-workload",
            Kind::UnevaluatedPolicy => "unevaluated-policy",
            Kind::UnreadObject => "unread-object",
            Kind::ObservedUndeclared => "observed-undeclared",
            Kind::ObservedBlocked => "observed-blocked",
            Kind::DeclaredUnobserved => "declared-unobserved",
            Kind::UnmappedFlow => "unmapped-flow",
        }
    }

    /// How serious it is.
    pub fn severity(self) -> Severity {
        match self {
            Kind::BlockedCall
            | Kind::UndeclaredFlow
            | Kind::ExposureMismatch
            | Kind::ObservedUndeclared
            | Kind::ObservedBlocked => Severity::Error,
            Kind::DeclaredUnobserved => Severity::Info,
            Kind::UnmappedFlow
            | Kind::UnisolatedWorkload
            | Kind::UnmodeledWorkload
            | Kind::MissingWorkload
            | Kind::UnevaluatedPolicy
            | Kind::UnreadObject => Severity::Warning,
        }
    }

    /// One sentence on what the kind means, for SARIF rules.
    pub fn description(self) -> &'static str {
        match self {
            Kind::BlockedCall => {
                "A call the workspace declares is not allowed by the NetworkPolicies on all of the callee's ports."
            }
            Kind::UndeclaredFlow => {
                "The NetworkPolicies allow traffic between modelled workloads, or from a workload to outside addresses, that the workspace does not declare."
            }
            Kind::ExposureMismatch => {
                "A service's reachability from outside the cluster differs from its declared `expose`."
            }
            Kind::UnisolatedWorkload => {
                "No NetworkPolicy selects the workload for ingress or for egress, so everything is allowed in that direction."
            }
            Kind::UnmodeledWorkload => {
                "A workload in the manifests has no service in the workspace."
            }
            Kind::MissingWorkload => "A service of the workspace has no workload in the manifests.",
            Kind::UnevaluatedPolicy => {
                "An object that changes what may connect or runs pods (a Cilium or Calico policy, an Istio AuthorizationPolicy, a secondary network, a virtual machine) is not evaluated: the results may allow or deny more than the cluster does."
            }
            Kind::UnreadObject => {
                "An object of a kind verify does not know, or a document that is not a Kubernetes object, was not read: if it runs pods or changes what may connect, the results miss it."
            }
            Kind::ObservedUndeclared => {
                "Traffic seen in the flows that the workspace does not declare: the NetworkPolicies it generates will block it."
            }
            Kind::ObservedBlocked => {
                "Traffic seen in the flows that the NetworkPolicies of the given manifests drop."
            }
            Kind::DeclaredUnobserved => {
                "A call the workspace declares that no flow shows in the time the flows cover."
            }
            Kind::UnmappedFlow => {
                "Traffic seen in the flows whose source or destination is no service of the workspace, or, with manifests, runs in none of their workloads: it cannot be judged."
            }
        }
    }
}

/// A NetworkPolicy rule named by a finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Responsible {
    /// `namespace/name` of the policy.
    pub policy: String,
    /// `ingress` or `egress` rule, and its 1-based position; `None` when the policy as a
    /// whole is meant (it isolates the pod and none of its rules allow the traffic).
    pub rule: Option<(Direction, usize)>,
    /// Where the policy is written.
    pub file: PathBuf,
    /// The rule's own line (its `- from:`/`- to:`/`- ports:` entry), or where the policy
    /// starts when the whole policy is meant.
    pub line: usize,
}

/// One difference between manifests and design.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What kind.
    pub kind: Kind,
    /// The namespace the finding is reported under.
    pub namespace: String,
    /// The workloads or services concerned, as `namespace/name`.
    pub workloads: Vec<String>,
    /// The ports concerned (empty when not about ports).
    pub ports: PortSet,
    /// Outside addresses concerned, as CIDRs.
    pub cidrs: Vec<String>,
    /// The policy rules responsible, when any.
    pub policies: Vec<Responsible>,
    /// One sentence.
    pub message: String,
    /// Where to point: a manifest (or the workspace for a missing workload) and a line.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
}

impl Finding {
    /// The severity of its kind.
    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }
}

/// Namespaces that belong to the platform rather than the product: Kubernetes' own, and those
/// of the DNS servers and the gateway the workspace names. The model cannot hold them.
fn is_system(namespace: &str, ws: &Workspace) -> bool {
    namespace.starts_with("kube-")
        || ws
            .project
            .gateway
            .as_ref()
            .is_some_and(|g| g.pod_namespace == namespace)
        || ws.project.dns.rules.iter().any(|rule| {
            rule.targets
                .iter()
                .any(|t| matches!(t, DnsTarget::Pods { namespace: ns, .. } if ns == namespace))
        })
}

/// Compares the manifests' connectivity with the workspace. Findings are sorted by namespace,
/// kind, workloads and message. When none of the workspace's services has a workload in the
/// manifests there is nothing to compare, and saying "no errors" would be a lie: that is an
/// [`Error::Usage`] naming the namespaces on both sides.
pub fn compare(analysis: &Analysis<'_>, workspace: &Workspace) -> Result<Vec<Finding>, Error> {
    let m = analysis.manifests();
    let mut c = Comparer {
        analysis,
        m,
        ws: workspace,
        findings: Vec::new(),
    };
    let (service_of, workloads_of) = c.map_workloads();
    if workloads_of.is_empty() && !workspace.services.is_empty() {
        return Err(c.nothing_to_compare());
    }
    c.unmodeled_and_missing(&service_of, &workloads_of);
    c.unisolated();
    c.blocked_calls(&workloads_of);
    c.undeclared(&service_of);
    c.exposure(&workloads_of);
    c.skipped();
    let mut findings = c.findings;
    sort(&mut findings);
    findings.dedup();
    Ok(findings)
}

/// Sorts findings as every report shows them: by namespace, kind, workloads and message.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.namespace, a.kind, &a.workloads, &a.message).cmp(&(
            &b.namespace,
            b.kind,
            &b.workloads,
            &b.message,
        ))
    });
}

/// The namespace of the workspace a cluster namespace stands for: its own, except `default`,
/// which the workspace cannot name (it is reserved) and where objects without a namespace go,
/// so it stands for the project's namespace, where `import` puts them.
pub fn model_namespace<'n>(ws: &'n Workspace, namespace: &'n str) -> &'n str {
    if namespace == "default" {
        &ws.project.name
    } else {
        namespace
    }
}

/// The names of the Kubernetes Services of `namespace` that select pods with `labels`, in
/// name order, from the selectors by namespace.
pub fn selecting<'s>(
    selectors: &BTreeMap<&str, Vec<&'s ServiceSelector>>,
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Vec<&'s str> {
    selectors
        .get(namespace)
        .into_iter()
        .flatten()
        .filter(|s| s.selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
        .map(|s| s.name.as_str())
        .collect()
}

/// The index of the service of the workspace that a workload (or a pod a flow names) stands
/// for: the service, in its namespace ([`model_namespace`]), named like the workload (`name`),
/// else like a Kubernetes Service that selects its pods (`selecting`, in name order), else
/// like its `app` or `app.kubernetes.io/name` label. `import` names services the same way, and
/// `verify` and `verify --flows` map workloads and flow endpoints with it.
pub fn service_for(
    ws: &Workspace,
    namespace: &str,
    name: Option<&str>,
    selecting: &[&str],
    labels: &BTreeMap<String, String>,
) -> Option<usize> {
    let namespace = model_namespace(ws, namespace);
    name.into_iter()
        .chain(selecting.iter().copied())
        .chain(labels.get("app").map(String::as_str))
        .chain(labels.get("app.kubernetes.io/name").map(String::as_str))
        .find_map(|candidate| {
            ws.services
                .binary_search_by(|s| {
                    (s.id.namespace.as_str(), s.id.name.as_str()).cmp(&(namespace, candidate))
                })
                .ok()
        })
}

struct Comparer<'a, 'm> {
    analysis: &'a Analysis<'m>,
    m: &'m Manifests,
    ws: &'a Workspace,
    findings: Vec<Finding>,
}

impl Comparer<'_, '_> {
    /// The service of each workload, and the workloads of each service, as [`service_for`]
    /// maps them.
    #[allow(clippy::type_complexity)]
    fn map_workloads(&self) -> (Vec<Option<usize>>, BTreeMap<usize, Vec<usize>>) {
        let mut selectors: BTreeMap<&str, Vec<&ServiceSelector>> = BTreeMap::new();
        for s in &self.m.services {
            selectors.entry(s.namespace.as_str()).or_default().push(s);
        }
        let mut service_of = Vec::with_capacity(self.m.workloads.len());
        let mut workloads_of: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (w, workload) in self.m.workloads.iter().enumerate() {
            let selecting = selecting(&selectors, &workload.namespace, &workload.labels);
            let found = service_for(
                self.ws,
                &workload.namespace,
                Some(&workload.name),
                &selecting,
                &workload.labels,
            );
            if let Some(s) = found {
                workloads_of.entry(s).or_default().push(w);
            }
            service_of.push(found);
        }
        (service_of, workloads_of)
    }

    /// Why nothing could be compared: the namespaces of both sides, side by side.
    fn nothing_to_compare(&self) -> Error {
        let ours: BTreeSet<&str> = self
            .m
            .workloads
            .iter()
            .map(|w| w.namespace.as_str())
            .collect();
        let theirs: BTreeSet<&str> = self
            .ws
            .services
            .iter()
            .map(|s| s.id.namespace.as_str())
            .collect();
        let namespaces = |set: &BTreeSet<&str>| {
            set.iter()
                .map(|n| crate::text::clean(n))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Error::usage(
            format!(
                "nothing to compare: none of the workspace's {} services has a workload in the manifests (namespaces in the manifests: {}; in the workspace: {})",
                self.ws.services.len(),
                namespaces(&ours),
                namespaces(&theirs)
            ),
            "workloads match services by namespace and by name, Service selector, or `app` label; objects without a namespace are in `default`, which stands for the project's namespace; give `-n NAMESPACE` to put them elsewhere, or give the manifests of this workspace",
        )
    }

    fn workload_finding(&self, kind: Kind, w: usize, message: String) -> Finding {
        let workload = &self.m.workloads[w];
        Finding {
            kind,
            namespace: workload.namespace.clone(),
            workloads: vec![workload.id()],
            ports: PortSet::none(),
            cidrs: Vec::new(),
            policies: Vec::new(),
            message,
            file: workload.origin.file.clone(),
            line: workload.origin.line,
        }
    }

    fn unmodeled_and_missing(
        &mut self,
        service_of: &[Option<usize>],
        workloads_of: &BTreeMap<usize, Vec<usize>>,
    ) {
        for (w, service) in service_of.iter().enumerate() {
            let workload = &self.m.workloads[w];
            if service.is_none() && !is_system(&workload.namespace, self.ws) {
                let f = self.workload_finding(
                    Kind::UnmodeledWorkload,
                    w,
                    format!(
                        "{} {} is not a service of the workspace (matched by namespace and name, `app` or `app.kubernetes.io/name` label)",
                        workload.kind,
                        workload.id()
                    ),
                );
                self.findings.push(f);
            }
        }
        for (s, service) in self.ws.services.iter().enumerate() {
            if !workloads_of.contains_key(&s) {
                self.findings.push(Finding {
                    kind: Kind::MissingWorkload,
                    namespace: service.id.namespace.clone(),
                    workloads: vec![service.id.to_string()],
                    ports: PortSet::none(),
                    cidrs: Vec::new(),
                    policies: Vec::new(),
                    message: format!("service {} has no workload in the manifests", service.id),
                    file: self.ws.source.path().to_path_buf(),
                    line: self.ws.line_of(service.span),
                });
            }
        }
    }

    /// Each object not read: the findings hold without it, and it may allow traffic they
    /// call denied (an admin policy's `Allow` overrides NetworkPolicies), deny traffic they
    /// call allowed, or run pods they do not show.
    fn skipped(&mut self) {
        for u in &self.m.skipped {
            let kind = match u.reason {
                Skip::Unevaluated(_) => Kind::UnevaluatedPolicy,
                Skip::UnknownKind | Skip::NotAnObject => Kind::UnreadObject,
            };
            let what = if u.kind.is_empty() {
                "a document".to_string()
            } else if u.id().is_empty() {
                format!("a {}", u.kind)
            } else {
                format!("{} {}", u.kind, u.id())
            };
            self.findings.push(Finding {
                kind,
                namespace: u.namespace.clone().unwrap_or_default(),
                workloads: Vec::new(),
                ports: PortSet::none(),
                cidrs: Vec::new(),
                policies: Vec::new(),
                message: format!("{what} is {}", u.why()),
                file: u.origin.file.clone(),
                line: u.origin.line,
            });
        }
    }

    fn unisolated(&mut self) {
        for (w, workload) in self.m.workloads.iter().enumerate() {
            if is_system(&workload.namespace, self.ws) {
                continue;
            }
            if workload.host_network {
                let f = self.workload_finding(
                    Kind::UnisolatedWorkload,
                    w,
                    format!(
                        "{} runs on the node's network (hostNetwork): NetworkPolicy does not apply to it, so all ingress and egress traffic is allowed whatever selects it",
                        workload.id()
                    ),
                );
                self.findings.push(f);
                continue;
            }
            for direction in [Direction::Ingress, Direction::Egress] {
                if !self.analysis.isolated(w, direction) && !self.analysis.tiered(w, direction) {
                    let f = self.workload_finding(
                        Kind::UnisolatedWorkload,
                        w,
                        format!(
                            "no NetworkPolicy selects {} for {}: all {} traffic is allowed",
                            workload.id(),
                            direction.as_str(),
                            direction.as_str()
                        ),
                    );
                    self.findings.push(f);
                }
            }
        }
    }

    fn responsible(&self, rule: RuleRef) -> Responsible {
        let (name, origin, rules, direction, r) = match rule {
            RuleRef::Network(p, direction, r) => {
                let policy = &self.m.policies[p];
                let rules = match direction {
                    Direction::Ingress => policy.ingress.as_deref(),
                    Direction::Egress => policy.egress.as_deref(),
                };
                let lines: Vec<usize> = rules.unwrap_or_default().iter().map(|r| r.line).collect();
                (
                    format!("{}/{}", policy.namespace, policy.name),
                    &policy.origin,
                    lines,
                    direction,
                    r,
                )
            }
            RuleRef::Admin(_, direction, r) | RuleRef::Baseline(direction, r) => {
                let policy = match rule {
                    RuleRef::Admin(p, ..) => &self.m.admin[p],
                    _ => self
                        .m
                        .baseline
                        .as_ref()
                        .expect("a baseline rule has its policy"),
                };
                let rules = match direction {
                    Direction::Ingress => &policy.ingress,
                    Direction::Egress => &policy.egress,
                };
                (
                    policy.id(),
                    &policy.origin,
                    rules.iter().map(|r| r.line).collect(),
                    direction,
                    r,
                )
            }
        };
        Responsible {
            policy: name,
            rule: Some((direction, r + 1)),
            file: origin.file.clone(),
            line: rules.get(r).copied().unwrap_or(origin.line),
        }
    }

    fn whole_policy(&self, p: usize) -> Responsible {
        let policy = &self.m.policies[p];
        Responsible {
            policy: format!("{}/{}", policy.namespace, policy.name),
            rule: None,
            file: policy.origin.file.clone(),
            line: policy.origin.line,
        }
    }

    /// NetworkPolicy `p` as responsible for what its rules of `direction` do not admit: located
    /// at its first rule of that direction, else at the policy.
    fn policy_rules(&self, p: usize, direction: Direction) -> Responsible {
        let policy = &self.m.policies[p];
        let first = match direction {
            Direction::Ingress => policy.ingress.as_deref(),
            Direction::Egress => policy.egress.as_deref(),
        }
        .and_then(|rules| rules.first());
        Responsible {
            line: first.map_or(policy.origin.line, |r| r.line),
            ..self.whole_policy(p)
        }
    }

    /// What the rules of `direction` of NetworkPolicy `p` admit, in words: `admits nothing`,
    /// or `admits only pods app=web in shop on TCP 8080; ...` (three rules at most).
    fn admits(&self, p: usize, direction: Direction) -> String {
        let policy = &self.m.policies[p];
        let rules = match direction {
            Direction::Ingress => policy.ingress.as_deref(),
            Direction::Egress => policy.egress.as_deref(),
        }
        .unwrap_or_default();
        if rules.is_empty() {
            return format!("{}/{} admits nothing", policy.namespace, policy.name);
        }
        let described: Vec<String> = rules
            .iter()
            .map(|r| self.describe(&policy.namespace, r, direction))
            .collect();
        format!(
            "{}/{} admits only {}",
            policy.namespace,
            policy.name,
            crate::text::list(described, 3).replace(", ", "; ")
        )
    }

    /// One rule in words: its peers and its ports.
    fn describe(
        &self,
        own: &str,
        rule: &crate::verify::manifest::Rule,
        direction: Direction,
    ) -> String {
        use crate::verify::manifest::{Peer, PortRule};
        let peers = match &rule.peers {
            None if direction == Direction::Ingress => "every source".to_string(),
            None => "every destination".to_string(),
            Some(peers) => peers
                .iter()
                .map(|peer| match peer {
                    Peer::Block { cidr, .. } => format!("addresses {cidr}"),
                    Peer::Pods { namespaces, pods } => {
                        let pods = pods
                            .as_ref()
                            .map_or_else(|| "every pod".to_string(), |s| format!("pods {s}"));
                        match namespaces {
                            None => format!("{pods} in {own}"),
                            Some(sel) => {
                                let none =
                                    !self.m.namespaces.values().any(|labels| sel.matches(labels));
                                let note = if none {
                                    ", which matches no namespace in the manifests"
                                } else {
                                    ""
                                };
                                format!("{pods} in namespaces {sel}{note}")
                            }
                        }
                    }
                })
                .collect::<Vec<_>>()
                .join(" or "),
        };
        let ports = match &rule.ports {
            None => "every port".to_string(),
            Some(ports) => ports
                .iter()
                .map(|p| match p {
                    PortRule::All(protocol) => format!("every {} port", protocol.as_str()),
                    PortRule::Range(protocol, lo, hi) if lo == hi => {
                        format!("{} {lo}", protocol.as_str())
                    }
                    PortRule::Range(protocol, lo, hi) => format!("{} {lo}-{hi}", protocol.as_str()),
                    PortRule::Named(protocol, name) => {
                        format!("{} port named {name}", protocol.as_str())
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        format!("{peers} on {ports}")
    }

    fn blocked_calls(&mut self, workloads_of: &BTreeMap<usize, Vec<usize>>) {
        for (s, service) in self.ws.services.iter().enumerate() {
            let Some(callers) = workloads_of.get(&s) else {
                continue;
            };
            for call in &service.calls {
                let Some(callee) = self.ws.service(&call.to) else {
                    continue;
                };
                // Services are sorted by id.
                let Ok(t) = self.ws.services.binary_search_by(|x| x.id.cmp(&call.to)) else {
                    continue;
                };
                let Some(callees) = workloads_of.get(&t) else {
                    continue;
                };
                let required = call_ports(call, callee);
                for &from in callers {
                    for &to in callees {
                        let missing = required.difference(&self.analysis.allowed(from, to));
                        if missing.is_empty() {
                            continue;
                        }
                        self.blocked(from, to, &missing);
                    }
                }
            }
        }
    }

    fn blocked(&mut self, from: usize, to: usize, missing: &PortSet) {
        let (fw, tw) = (&self.m.workloads[from], &self.m.workloads[to]);
        let mut reasons = Vec::new();
        let mut policies = Vec::new();
        for direction in [Direction::Egress, Direction::Ingress] {
            let decision = self.analysis.decide(from, to, direction);
            let mut denied = missing.difference(&decision.allowed);
            if denied.is_empty() {
                continue;
            }
            let subject = if direction == Direction::Ingress {
                to
            } else {
                from
            };
            // Admin and baseline rules that deny, then the NetworkPolicies for the rest.
            for rule in decision.rules.iter().filter(|r| !r.allowed) {
                let ports = rule.ports.intersection(&denied);
                if ports.is_empty() {
                    continue;
                }
                let who = self.responsible(rule.rule);
                let (d, n) = who.rule.unwrap_or((direction, 0));
                reasons.push(format!(
                    "{} {} rule {n} denies {ports}",
                    who.policy,
                    d.as_str()
                ));
                policies.push(who);
                denied = denied.difference(&ports);
            }
            if denied.is_empty() || decision.isolating.is_empty() {
                continue;
            }
            let admits: Vec<String> = decision
                .isolating
                .iter()
                .map(|&p| self.admits(p, direction))
                .collect();
            reasons.push(format!(
                "no rule admits {denied} in {} of {}: {}",
                direction.as_str(),
                self.m.workloads[subject].id(),
                admits.join("; ")
            ));
            policies.extend(
                decision
                    .isolating
                    .iter()
                    .map(|&p| self.policy_rules(p, direction)),
            );
        }
        // A namespace-wide policy can isolate both ends: name it once.
        let mut seen = std::collections::BTreeSet::new();
        policies.retain(|p| seen.insert(p.policy.clone()));
        let (file, line) = policies
            .first()
            .map_or((tw.origin.file.clone(), tw.origin.line), |p| {
                (p.file.clone(), p.line)
            });
        self.findings.push(Finding {
            kind: Kind::BlockedCall,
            namespace: fw.namespace.clone(),
            workloads: vec![fw.id(), tw.id()],
            ports: missing.clone(),
            cidrs: Vec::new(),
            policies,
            message: format!(
                "declared call {} -> {} is blocked on {missing}: {}",
                fw.id(),
                tw.id(),
                reasons.join("; ")
            ),
            file,
            line,
        });
    }

    fn undeclared(&mut self, service_of: &[Option<usize>]) {
        let connections: Vec<(usize, usize, PortSet)> = self
            .analysis
            .connections()
            .into_iter()
            .map(|(f, t, p)| (f, t, p.clone()))
            .collect();
        for (from, to, ports) in connections {
            let (Some(sf), Some(st)) = (service_of[from], service_of[to]) else {
                continue;
            };
            let caller = &self.ws.services[sf];
            let callee = &self.ws.services[st];
            let mut declared = PortSet::none();
            for call in caller.calls.iter().filter(|c| c.to == callee.id) {
                declared.union_with(&call_ports(call, callee));
            }
            let extra = ports.difference(&declared);
            if extra.is_empty() {
                continue;
            }
            let mut policies = Vec::new();
            let mut unisolated = Vec::new();
            for direction in [Direction::Egress, Direction::Ingress] {
                let subject = if direction == Direction::Ingress {
                    to
                } else {
                    from
                };
                let decision = self.analysis.decide(from, to, direction);
                if !decision.by_default.intersection(&extra).is_empty() {
                    unisolated.push(format!(
                        "no policy selects {} for {}",
                        self.m.workloads[subject].id(),
                        direction.as_str()
                    ));
                }
                for rule in decision.rules.iter().filter(|r| r.allowed) {
                    if !rule.ports.intersection(&extra).is_empty() {
                        policies.push(self.responsible(rule.rule));
                    }
                }
            }
            policies.sort();
            policies.dedup();
            let rules: Vec<String> = policies
                .iter()
                .map(|p| {
                    let (direction, n) = p.rule.unwrap_or((Direction::Ingress, 0));
                    format!("{} {} rule {n}", p.policy, direction.as_str())
                })
                .collect();
            let mut reasons = Vec::new();
            if !rules.is_empty() {
                reasons.push(format!("allowed by {}", rules.join(", ")));
            }
            reasons.extend(unisolated);
            let (fw, tw) = (&self.m.workloads[from], &self.m.workloads[to]);
            let (file, line) = policies
                .first()
                .map_or((fw.origin.file.clone(), fw.origin.line), |p| {
                    (p.file.clone(), p.line)
                });
            self.findings.push(Finding {
                kind: Kind::UndeclaredFlow,
                namespace: fw.namespace.clone(),
                workloads: vec![fw.id(), tw.id()],
                ports: extra.clone(),
                cidrs: Vec::new(),
                policies,
                message: format!(
                    "{} -> {} is allowed on {extra}, which the workspace does not declare ({})",
                    fw.id(),
                    tw.id(),
                    reasons.join("; ")
                ),
                file,
                line,
            });
        }
        // Egress to outside addresses beyond the declared `egress` entries.
        for (w, service) in service_of.iter().enumerate() {
            let Some(s) = service else { continue };
            let service = &self.ws.services[*s];
            let mut declared: Vec<(AddrSet, PortSet)> = dns_addresses(self.ws);
            for e in &service.egress {
                let mut ports = PortSet::none();
                if e.ports.is_empty() {
                    ports = PortSet::all();
                }
                for &p in &e.ports {
                    ports.insert(e.protocol, p, p);
                }
                declared.push((AddrSet::net(&e.cidr), ports));
            }
            let actual = self.analysis.external(w, Direction::Egress);
            let extra = excess(&actual, &declared);
            self.external_finding(
                w,
                Direction::Egress,
                Kind::UndeclaredFlow,
                extra,
                |id, what| {
                    format!("{id} may send {what}, beyond the egress the workspace declares")
                },
            );
        }
    }

    fn external_finding(
        &mut self,
        w: usize,
        direction: Direction,
        kind: Kind,
        extra: Vec<(PortSet, AddrSet)>,
        message: impl Fn(&str, &str) -> String,
    ) {
        let workload = &self.m.workloads[w];
        // One finding per address set, with every protocol's ports together.
        let mut merged: BTreeMap<AddrSet, PortSet> = BTreeMap::new();
        for (ports, addrs) in extra {
            merged.entry(addrs).or_default().union_with(&ports);
        }
        for (addrs, ports) in merged {
            let cidrs: Vec<String> = addrs.cidrs().iter().map(ToString::to_string).collect();
            let mut policies: Vec<Responsible> = self
                .analysis
                .external_rules(w, direction)
                .into_iter()
                .filter(|(_, a, p)| {
                    !a.intersection(&addrs).is_empty() && !p.intersection(&ports).is_empty()
                })
                .map(|(rule, _, _)| self.responsible(rule))
                .collect();
            policies.sort();
            policies.dedup();
            let what = format!(
                "{ports} {} {}",
                if direction == Direction::Egress {
                    "to"
                } else {
                    "from"
                },
                short_cidrs(&cidrs)
            );
            let mut text = message(&workload.id(), &what);
            if policies.is_empty() {
                text.push_str(&format!(
                    " (no policy selects it for {})",
                    direction.as_str()
                ));
            } else {
                let names: Vec<String> = policies
                    .iter()
                    .map(|p| {
                        let (d, n) = p.rule.unwrap_or((direction, 0));
                        format!("{} {} rule {n}", p.policy, d.as_str())
                    })
                    .collect();
                text.push_str(&format!(" (allowed by {})", names.join(", ")));
            }
            let (file, line) = policies
                .first()
                .map_or((workload.origin.file.clone(), workload.origin.line), |p| {
                    (p.file.clone(), p.line)
                });
            self.findings.push(Finding {
                kind,
                namespace: workload.namespace.clone(),
                workloads: vec![workload.id()],
                ports,
                cidrs,
                policies,
                message: text,
                file,
                line,
            });
        }
    }

    fn exposure(&mut self, workloads_of: &BTreeMap<usize, Vec<usize>>) {
        for (s, service) in self.ws.services.iter().enumerate() {
            let Some(ws) = workloads_of.get(&s) else {
                continue;
            };
            // A gateway reaches its services from pods, not from outside addresses.
            let sources = match service.expose {
                Expose::Cluster | Expose::Gateway => AddrSet::none(),
                Expose::Internal | Expose::Public => {
                    let mut set = AddrSet::none();
                    for c in service.sources.iter().flatten() {
                        set.insert_net(c);
                    }
                    set
                }
            };
            let mut ports = PortSet::none();
            for p in &service.ports {
                ports.insert(p.protocol, p.target, p.target);
            }
            let declared = if sources.is_empty() || ports.is_empty() {
                Vec::new()
            } else {
                vec![(sources.clone(), ports.clone())]
            };
            for &w in ws {
                let actual = self.analysis.external(w, Direction::Ingress);
                // Declared sources that cannot reach some port.
                let unreachable = excess(
                    &declared
                        .iter()
                        .flat_map(|(a, p)| {
                            PROTOCOLS
                                .into_iter()
                                .filter(|proto| !p.ranges(*proto).is_empty())
                                .map(|proto| {
                                    let mut only = PortSet::none();
                                    for (lo, hi) in p.port_ranges(proto) {
                                        only.insert(proto, lo, hi);
                                    }
                                    (proto, only, a.clone())
                                })
                        })
                        .collect::<Vec<_>>(),
                    &actual
                        .iter()
                        .map(|(_, p, a)| (a.clone(), p.clone()))
                        .collect::<Vec<_>>(),
                );
                let expose = service.expose.as_str();
                let workload = &self.m.workloads[w];
                for (missing, addrs) in unreachable {
                    let cidrs: Vec<String> =
                        addrs.cidrs().iter().map(ToString::to_string).collect();
                    self.findings.push(Finding {
                        kind: Kind::ExposureMismatch,
                        namespace: workload.namespace.clone(),
                        workloads: vec![workload.id()],
                        ports: missing.clone(),
                        message: format!(
                            "{} is expose = \"{expose}\" but {missing} cannot be reached from {}",
                            workload.id(),
                            short_cidrs(&cidrs)
                        ),
                        cidrs,
                        policies: self
                            .analysis
                            .selecting(w, Direction::Ingress)
                            .iter()
                            .map(|&p| self.whole_policy(p))
                            .collect(),
                        file: workload.origin.file.clone(),
                        line: workload.origin.line,
                    });
                }
                let extra = excess(&actual, &declared);
                self.external_finding(
                    w,
                    Direction::Ingress,
                    Kind::ExposureMismatch,
                    extra,
                    |id, what| format!("{id} is expose = \"{expose}\" but accepts {what}"),
                );
            }
        }
    }
}

/// The DNS servers outside the pod network (node-local caches, metadata servers) that every
/// workload may query, on UDP and TCP: the workspace's `dns`, as `cluster-dns` allows them.
fn dns_addresses(ws: &Workspace) -> Vec<(AddrSet, PortSet)> {
    let mut out = Vec::new();
    for rule in &ws.project.dns.rules {
        let mut ports = PortSet::none();
        for &p in &rule.ports {
            ports.insert(Protocol::Udp, p, p);
            ports.insert(Protocol::Tcp, p, p);
        }
        for target in &rule.targets {
            if let DnsTarget::Block(net) = target {
                out.push((AddrSet::net(net), ports.clone()));
            }
        }
    }
    out
}

/// The callee's container ports a call may use.
fn call_ports(call: &Call, callee: &Service) -> PortSet {
    let mut set = PortSet::none();
    for p in call.ports_of(callee) {
        set.insert(p.protocol, p.target, p.target);
    }
    set
}

/// What `actual` (per protocol: ports and addresses) allows beyond `declared` (address sets
/// with ports), as (ports, addresses) pieces with one protocol each.
fn excess(
    actual: &[(crate::model::Protocol, PortSet, AddrSet)],
    declared: &[(AddrSet, PortSet)],
) -> Vec<(PortSet, AddrSet)> {
    let mut out: BTreeMap<PortSet, AddrSet> = BTreeMap::new();
    for (protocol, ports, addrs) in actual {
        // Split the addresses by the declared pieces they meet.
        let mut rest = addrs.clone();
        let mut pieces: Vec<(AddrSet, PortSet)> = Vec::new();
        for (d_addrs, d_ports) in declared {
            let common = rest.intersection(d_addrs);
            if common.is_empty() {
                continue;
            }
            pieces.push((common, d_ports.clone()));
        }
        // Addresses covered by several declared pieces get the union of their ports.
        let mut covered = AddrSet::none();
        for (a, _) in &pieces {
            covered.union_with(a);
        }
        rest = rest.difference(&covered);
        if !rest.is_empty() {
            out.entry(only(*protocol, ports))
                .or_default()
                .union_with(&rest);
        }
        for (a, p_declared) in canonical_pieces(&pieces) {
            let extra = only(*protocol, ports).difference(&p_declared);
            if !extra.is_empty() {
                out.entry(extra).or_default().union_with(&a);
            }
        }
    }
    out.into_iter().collect()
}

/// Splits overlapping (addresses, ports) pieces into disjoint ones with the union of ports.
fn canonical_pieces(pieces: &[(AddrSet, PortSet)]) -> Vec<(AddrSet, PortSet)> {
    let mut out: Vec<(AddrSet, PortSet)> = Vec::new();
    for (addrs, ports) in pieces {
        let mut rest = addrs.clone();
        let mut next = Vec::new();
        for (a, p) in out {
            let common = a.intersection(&rest);
            if common.is_empty() {
                next.push((a, p));
                continue;
            }
            let mut both = p.clone();
            both.union_with(ports);
            next.push((a.difference(&common), p));
            next.push((common.clone(), both));
            rest = rest.difference(&common);
        }
        next.push((rest, ports.clone()));
        next.retain(|(a, _)| !a.is_empty());
        out = next;
    }
    out
}

fn only(protocol: crate::model::Protocol, ports: &PortSet) -> PortSet {
    let mut set = PortSet::none();
    for (lo, hi) in ports.port_ranges(protocol) {
        set.insert(protocol, lo, hi);
    }
    set
}

/// At most four CIDRs, then a count.
fn short_cidrs(cidrs: &[String]) -> String {
    if cidrs.len() <= 4 {
        cidrs.join(", ")
    } else {
        format!(
            "{} and {} more blocks",
            cidrs[..4].join(", "),
            cidrs.len() - 4
        )
    }
}
