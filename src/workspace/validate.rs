//! Validate stage: turns the raw file into the model, collecting every problem instead of
//! stopping at the first. Nothing after this module re-checks what it guarantees.

mod network;
pub(super) mod stubs;

pub use stubs::STATEFUL_NAME_MAX;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Range;

use ipnet::IpNet;
use toml::Spanned;

use super::raw::{
    RawCall, RawEgress, RawNamespace, RawPort, RawResourcePair, RawResources, RawService,
    RawWorkspace,
};
use crate::diagnostic::{Code, Problem, closest};
use crate::model::{
    Answer, Call, CallKind, CallPorts, Egress, Expose, Namespace, Platform, PodSecurity, Port,
    Project, Protocol, ResourcePair, Resources, SCHEMA_VERSION, Service, ServiceId, ServiceKeys,
};
use crate::names::{self, CidrError, NameKind};
use crate::quantity::{Quantity, QuantityError};
use crate::span::Span;

/// What validation produces before it is wrapped with the source text.
pub struct Validated {
    pub project: Project,
    pub answers: BTreeMap<String, Answer>,
    pub namespaces: BTreeMap<String, Namespace>,
    pub services: Vec<Service>,
}

/// Validates a parsed workspace. `criteria` are the ids answers may name.
pub fn validate(raw: RawWorkspace, criteria: &[&str]) -> Result<Validated, Vec<Problem>> {
    let mut v = Validator::default();
    if *raw.version.get_ref() != SCHEMA_VERSION {
        v.push(
            Problem::new(
                Code::Version,
                raw.version.span(),
                format!(
                    "workspace schema version {} is not supported",
                    raw.version.get_ref()
                ),
            )
            .label("unsupported version")
            .help(format!(
                "this k8s-advisor reads `version = {SCHEMA_VERSION}`"
            )),
        );
    }
    let project = v.project(raw.project);
    let answers = v.answers(raw.answers, criteria);
    let mut namespaces = v.namespaces(raw.namespaces);
    let services = v.services(raw.services, &project, &mut namespaces);
    v.network_namespaces(&project, &namespaces);
    v.route_clashes(&services);
    v.user_resource_clashes(&namespaces, &services);
    v.headless_clashes(&services);
    v.wiring(&services);
    if v.problems.is_empty() {
        Ok(Validated {
            project,
            answers,
            namespaces,
            services,
        })
    } else {
        Err(v.problems)
    }
}

/// One port entry, from `ports = [...]` or the `port = N` shorthand.
struct PortEntry<'a> {
    span: Range<usize>,
    name: Option<&'a Spanned<String>>,
    port: &'a Spanned<i64>,
    target: Option<&'a Spanned<i64>>,
    protocol: Option<&'a Spanned<String>>,
    app_protocol: Option<&'a Spanned<String>>,
}

#[derive(Default)]
struct Validator {
    problems: Vec<Problem>,
    /// Services whose ports had a problem: a second error saying they have no ports would
    /// only repeat the first.
    broken_ports: HashSet<ServiceId>,
    /// True when `platform` was given but is not one we know; checks that depend on the
    /// platform are skipped rather than judged against the default.
    platform_unknown: bool,
    /// True when `[project.gateway]` was written but refused: services routed through it are
    /// not told that the project declares none.
    gateway_refused: bool,
}

impl Validator {
    fn push(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    fn name(&mut self, name: &Spanned<String>, kind: NameKind) {
        if let Err(why) = kind.check(name.get_ref()) {
            let what = kind.as_str();
            let rule_name = kind.rule_name();
            self.push(
                Problem::new(
                    Code::InvalidName,
                    name.span(),
                    format!("invalid {what} name {:?}: {why}", name.get_ref()),
                )
                .label(format!("not {rule_name}"))
                .help(suggest_name(name.get_ref(), kind)),
            );
        }
    }

    fn namespace_name(&mut self, name: &Spanned<String>) {
        self.name(name, NameKind::Namespace);
        if names::reserved_namespace(name.get_ref()) {
            self.push(
                Problem::new(
                    Code::ReservedNamespace,
                    name.span(),
                    format!(
                        "namespace {:?} is reserved for Kubernetes itself",
                        name.get_ref()
                    ),
                )
                .label("reserved")
                .help(
                    "name the namespace after a business domain, such as \"pictures\" or \"users\"",
                ),
            );
        }
    }

    /// Free text (descriptions, reasons, names of people): anything printable. Control
    /// characters, invisible line and paragraph separators and bidirectional overrides are
    /// refused: they would reach a terminal, a YAML comment or the Markdown record, where they
    /// can rewrite the screen, break the document or hide what it says.
    fn free_text(&mut self, value: Option<Spanned<String>>, what: &str) -> String {
        let Some(value) = value else {
            return String::new();
        };
        if let Some(c) = crate::text::unsafe_char_in(value.get_ref()) {
            self.push(
                Problem::new(
                    Code::InvalidValue,
                    value.span(),
                    format!(
                        "the {what} contains the invisible character U+{:04X}",
                        u32::from(c)
                    ),
                )
                .label("unsafe character")
                .help("remove it: control characters, line separators and direction overrides could rewrite a terminal or a generated document"),
            );
            return String::new();
        }
        value.into_inner()
    }

    fn label_value(&mut self, value: &Spanned<String>, what: &str) {
        let text = value.get_ref();
        if let Err(rule) = names::label_value(text) {
            self.push(
                Problem::new(
                    Code::InvalidName,
                    value.span(),
                    format!("invalid {what} {text:?}: it becomes a Kubernetes label value"),
                )
                .label("not a label value")
                .help(rule),
            );
        }
    }

    fn keyword<T: Copy>(
        &mut self,
        value: &Spanned<String>,
        what: &str,
        choices: &[(&'static str, T)],
    ) -> Option<T> {
        let found = choices.iter().find(|(k, _)| k == value.get_ref());
        // `EKS` for `eks`: a difference of case is the likeliest typo of a keyword.
        let same_but_case = choices
            .iter()
            .map(|(k, _)| *k)
            .find(|k| k.eq_ignore_ascii_case(value.get_ref()));
        if found.is_none() {
            let list: Vec<_> = choices.iter().map(|(k, _)| format!("\"{k}\"")).collect();
            let hint = match same_but_case
                .or_else(|| closest(value.get_ref(), choices.iter().map(|(k, _)| *k)))
            {
                Some(c) => format!("did you mean \"{c}\"? {what} is one of {}", list.join(", ")),
                None => format!("{what} is one of {}", list.join(", ")),
            };
            self.push(
                Problem::new(
                    Code::InvalidValue,
                    value.span(),
                    format!("unknown {what} {:?}", value.get_ref()),
                )
                .label(format!("not a valid {what}"))
                .help(hint),
            );
        }
        found.map(|(_, t)| *t)
    }

    fn cidr(&mut self, text: &Spanned<String>) -> Option<IpNet> {
        match names::cidr(text.get_ref()) {
            Ok(net) => Some(net),
            Err(CidrError::HostBits(net)) => {
                self.push(
                    Problem::new(
                        Code::InvalidCidr,
                        text.span(),
                        format!("CIDR {:?} has host bits set", text.get_ref()),
                    )
                    .label("not a network address")
                    .help(format!("did you mean \"{net}\"?")),
                );
                None
            }
            Err(CidrError::NotCidr) => {
                self.push(
                    Problem::new(
                        Code::InvalidCidr,
                        text.span(),
                        format!("{:?} is not a CIDR", text.get_ref()),
                    )
                    .label("not a CIDR")
                    .help("write an address range such as \"10.0.0.0/16\" or \"2001:db8::/32\""),
                );
                None
            }
        }
    }

    fn port_number(&mut self, n: &Spanned<i64>, what: &str) -> Option<u16> {
        match names::port(*n.get_ref()) {
            Some(p) => Some(p),
            None => {
                self.push(
                    Problem::new(
                        Code::InvalidPort,
                        n.span(),
                        format!("{what} {} is outside 1..65535", n.get_ref()),
                    )
                    .label("not a port")
                    .help("ports are numbers from 1 to 65535"),
                );
                None
            }
        }
    }

    fn protocol(&mut self, p: Option<&Spanned<String>>) -> Protocol {
        p.and_then(|p| {
            self.keyword(
                p,
                "protocol",
                &[
                    ("TCP", Protocol::Tcp),
                    ("UDP", Protocol::Udp),
                    ("SCTP", Protocol::Sctp),
                ],
            )
        })
        .unwrap_or(Protocol::Tcp)
    }

    fn project(&mut self, raw: super::raw::RawProject) -> Project {
        self.name(&raw.name, NameKind::Project);
        let known = raw
            .platform
            .as_ref()
            .map(|p| self.keyword(p, "platform", &Platform::ALL.map(|p| (p.as_str(), p))));
        self.platform_unknown = matches!(known, Some(None));
        let platform = known.flatten().unwrap_or(Platform::Generic);
        let mut internal_cidrs: Vec<IpNet> = raw
            .internal_cidrs
            .iter()
            .filter_map(|c| self.cidr(c))
            .collect();
        internal_cidrs.sort();
        internal_cidrs.dedup();
        let dns = self.dns(raw.dns, platform);
        let gateway = self.gateway(raw.gateway);
        Project {
            name: raw.name.into_inner(),
            description: self.free_text(raw.description, "project description"),
            platform,
            internal_cidrs,
            decision_makers: raw
                .decision_makers
                .into_iter()
                .map(|d| self.free_text(Some(d), "decision maker"))
                .collect(),
            dns,
            gateway,
            cluster_domain: self.cluster_domain(raw.cluster_domain.as_ref()),
            calls_known: raw.calls_known.is_none_or(Spanned::into_inner),
        }
    }

    fn answers(
        &mut self,
        raw: BTreeMap<String, Spanned<bool>>,
        criteria: &[&str],
    ) -> BTreeMap<String, Answer> {
        let mut answers = BTreeMap::new();
        for (id, value) in raw {
            if !criteria.contains(&id.as_str()) {
                let help = match closest(&id, criteria.iter().copied()) {
                    Some(c) => format!("did you mean \"{c}\"?"),
                    None => format!("the criteria are {}", criteria.join(", ")),
                };
                self.push(
                    Problem::new(
                        Code::UnknownKey,
                        value.span(),
                        format!("answer to unknown criterion \"{id}\""),
                    )
                    .label("no such criterion")
                    .help(help),
                );
                continue;
            }
            answers.insert(
                id,
                Answer {
                    span: value.span().into(),
                    value: value.into_inner(),
                },
            );
        }
        answers
    }

    fn namespaces(&mut self, raw: Vec<Spanned<RawNamespace>>) -> BTreeMap<String, Namespace> {
        let mut out: BTreeMap<String, Namespace> = BTreeMap::new();
        for entry in raw {
            let span = entry.span();
            let ns = entry.into_inner();
            self.namespace_name(&ns.name);
            if let Some(team) = &ns.team {
                self.label_value(team, "team");
            }
            let pod_security = ns
                .pod_security
                .as_ref()
                .and_then(|p| {
                    self.keyword(
                        p,
                        "pod-security level",
                        &[
                            ("restricted", PodSecurity::Restricted),
                            ("baseline", PodSecurity::Baseline),
                            ("privileged", PodSecurity::Privileged),
                        ],
                    )
                })
                .unwrap_or(PodSecurity::Restricted);
            let user_resources = self.user_resources(&ns.user_resources);
            if let Some(first) = out.get(ns.name.get_ref()) {
                let first_span = first.span.unwrap_or_default();
                self.push(
                    Problem::new(
                        Code::Duplicate,
                        ns.name.span(),
                        format!("namespace \"{}\" is declared twice", ns.name.get_ref()),
                    )
                    .label("declared again here")
                    .also(first_span, "first declared here")
                    .help("merge the two [[namespaces]] entries"),
                );
                continue;
            }
            out.insert(
                ns.name.get_ref().clone(),
                Namespace {
                    name: ns.name.get_ref().clone(),
                    team: ns.team.map(Spanned::into_inner),
                    description: self.free_text(ns.description, "namespace description"),
                    pod_security,
                    user_resources,
                    span: Some(Span::from(span.start..ns.name.span().end)),
                },
            );
        }
        out
    }

    fn services(
        &mut self,
        raw: Vec<Spanned<RawService>>,
        project: &Project,
        namespaces: &mut BTreeMap<String, Namespace>,
    ) -> Vec<Service> {
        let mut services = Vec::with_capacity(raw.len());
        let mut raw_calls = Vec::with_capacity(raw.len());
        let mut seen: HashMap<ServiceId, Range<usize>> = HashMap::with_capacity(raw.len());
        for entry in raw {
            let span = entry.span();
            let raw = entry.into_inner();
            self.name(&raw.name, NameKind::Service);
            let namespace = self.service_namespace(&raw, project, namespaces);
            let id = ServiceId::new(namespace.clone(), raw.name.get_ref().clone());
            if let Some(first) = seen.get(&id) {
                self.push(
                    Problem::new(
                        Code::Duplicate,
                        raw.name.span(),
                        format!("service \"{id}\" is declared twice"),
                    )
                    .label("declared again here")
                    .also(first.clone(), "first declared here")
                    .help("rename one of them, or move it to another namespace"),
                );
                continue;
            }
            seen.insert(id.clone(), raw.name.span());
            let ns = namespaces
                .entry(namespace.clone())
                .or_insert_with(|| Namespace {
                    name: namespace.clone(),
                    team: None,
                    description: String::new(),
                    pod_security: PodSecurity::Restricted,
                    user_resources: Vec::new(),
                    span: None,
                });
            if let Some(team) = &raw.team {
                self.label_value(team, "team");
            }
            let team = raw
                .team
                .as_ref()
                .map(|t| t.get_ref().clone())
                .or_else(|| ns.team.clone());
            if let Some(image) = &raw.image {
                self.image(image);
            }
            let replicas = raw.replicas.as_ref().map_or(1, |r| self.replicas(r));
            let before = self.problems.len();
            let ports = self.ports(&raw);
            if self.problems.len() > before {
                self.broken_ports.insert(id.clone());
            }
            let expose = self.expose(&raw, &id, project, &ports);
            let sources = self.sources(&raw, expose, project);
            let route = self.route(&raw, &id, expose, project, &ports);
            let egress = raw.egress.iter().filter_map(|e| self.egress(e)).collect();
            let resources = raw
                .resources
                .as_ref()
                .map(|r| self.resources(r.get_ref()))
                .unwrap_or_default();
            let workload = self.workload(&raw);
            let writable = self.writable(&raw, &workload);
            let health = raw.health.as_ref().and_then(|h| self.health(h, &ports));
            let keys = ServiceKeys {
                image: raw.image.as_ref().map(|k| k.span().into()),
                replicas: raw.replicas.as_ref().map(|k| k.span().into()),
                ports: (raw.ports.as_ref().map(Spanned::span))
                    .or_else(|| raw.port.as_ref().map(Spanned::span))
                    .map(Span::from),
                expose: raw.expose.as_ref().map(|k| k.span().into()),
                resources: raw.resources.as_ref().map(|k| k.span().into()),
                sources: raw.sources.as_ref().map(|k| k.span().into()),
            };
            raw_calls.push(raw.calls);
            services.push(Service {
                id,
                team,
                description: self.free_text(raw.description, "service description"),
                image: raw.image.map(Spanned::into_inner),
                replicas,
                ports,
                expose,
                sources,
                route,
                calls: Vec::new(),
                egress,
                resources,
                workload,
                health,
                writable,
                span: Span::from(span.start..raw.name.span().end),
                keys,
            });
        }
        self.resolve_calls(&mut services, raw_calls);
        services.sort_by(|a, b| a.id.cmp(&b.id));
        services
    }

    /// The namespace a service goes into: its own, else the project's.
    fn service_namespace(
        &mut self,
        raw: &RawService,
        project: &Project,
        namespaces: &BTreeMap<String, Namespace>,
    ) -> String {
        let default_namespace = project.name.as_str();
        match &raw.namespace {
            Some(ns) => {
                if !namespaces.contains_key(ns.get_ref()) {
                    self.namespace_name(ns);
                }
                ns.get_ref().clone()
            }
            None => {
                if names::reserved_namespace(default_namespace) {
                    self.push(
                        Problem::new(
                            Code::ReservedNamespace,
                            raw.name.span(),
                            format!(
                                "service \"{}\" would go into namespace \"{default_namespace}\", which is reserved for Kubernetes itself",
                                raw.name.get_ref()
                            ),
                        )
                        .label("no `namespace` given")
                        .help("services without `namespace` go into the project's namespace: set `namespace = \"...\"` here, or rename the project"),
                    );
                }
                default_namespace.to_string()
            }
        }
    }

    /// An image reference in the OCI distribution grammar (`[registry/]path[:tag][@digest]`),
    /// as `oci-spec` parses it; anything else would not pull, and could smuggle text into YAML.
    fn image(&mut self, image: &Spanned<String>) {
        let text = image.get_ref();
        if let Err(why) = names::image(text) {
            self.push(
                Problem::new(
                    Code::InvalidValue,
                    image.span(),
                    format!("invalid image reference {text:?}: {why}"),
                )
                .label("not an image reference")
                .help("write a reference such as \"registry.example.com/team/app:1.2.3\" or \"app@sha256:...\""),
            );
        }
    }

    fn replicas(&mut self, r: &Spanned<i64>) -> u32 {
        match u32::try_from(*r.get_ref()) {
            Ok(n) if n <= 10_000 => n,
            _ => {
                self.push(
                    Problem::new(
                        Code::InvalidValue,
                        r.span(),
                        format!("replicas must be between 0 and 10000, not {}", r.get_ref()),
                    )
                    .label("out of range")
                    .help("set the number of pods to run, such as `replicas = 2`"),
                );
                1
            }
        }
    }

    /// The exposure, refused where the platform or the project cannot make it safe.
    fn expose(
        &mut self,
        raw: &RawService,
        id: &ServiceId,
        project: &Project,
        ports: &[Port],
    ) -> Expose {
        let Some(e) = &raw.expose else {
            return Expose::Cluster;
        };
        let expose = self
            .keyword(
                e,
                "exposure",
                &[
                    ("cluster", Expose::Cluster),
                    ("gateway", Expose::Gateway),
                    ("internal", Expose::Internal),
                    ("public", Expose::Public),
                ],
            )
            .unwrap_or(Expose::Cluster);
        if expose == Expose::Internal
            && project.platform == Platform::Generic
            && !self.platform_unknown
        {
            // Only the platform annotation makes a LoadBalancer private; without one it
            // would face the internet.
            self.push(
                Problem::new(
                    Code::InvalidValue,
                    e.span(),
                    format!("service \"{id}\" is internal, but platform \"generic\" has no private load balancer"),
                )
                .label("would be a public load balancer")
                .help("set `platform` in [project] to eks, gke or aks, or put the service behind your gateway with expose = \"gateway\""),
            );
        } else if expose == Expose::Internal
            && project.internal_cidrs.is_empty()
            && raw.sources.is_none()
        {
            // Without address ranges the private load balancer would admit no one: a
            // NetworkPolicy cannot say "the company network" any other way.
            self.push(
                Problem::new(
                    Code::InvalidValue,
                    e.span(),
                    format!("service \"{id}\" is internal, but the project lists no internal-cidrs"),
                )
                .label("reachable from nowhere")
                .help("add the company network to [project], e.g. `internal-cidrs = [\"10.0.0.0/8\"]`, or list the service's own `sources`"),
            );
        }
        if expose != Expose::Cluster && ports.is_empty() && !self.broken_ports.contains(id) {
            self.push(
                Problem::new(
                    Code::InvalidValue,
                    e.span(),
                    format!("service \"{id}\" is exposed but has no ports"),
                )
                .label("nothing to expose")
                .help("add `ports = [{ name = \"http\", port = 80, target = 8080 }]`"),
            );
        }
        expose
    }

    fn ports(&mut self, raw: &RawService) -> Vec<Port> {
        let mut entries: Vec<PortEntry<'_>> = Vec::new();
        match (&raw.port, &raw.ports) {
            (Some(p), Some(list)) => {
                self.push(
                    Problem::new(Code::Duplicate, p.span(), "both `port` and `ports` are set")
                        .label("shorthand")
                        .also(list.span(), "full list")
                        .help("keep one: `port = 80` is short for `ports = [{ port = 80 }]`"),
                );
                return Vec::new();
            }
            (Some(p), None) => entries.push(PortEntry {
                span: p.span(),
                name: None,
                port: p,
                target: None,
                protocol: None,
                app_protocol: None,
            }),
            (None, Some(list)) => {
                for entry in list.get_ref() {
                    let RawPort {
                        name,
                        port,
                        target,
                        protocol,
                        app_protocol,
                    } = entry.get_ref();
                    entries.push(PortEntry {
                        span: entry.span(),
                        name: name.as_ref(),
                        port,
                        target: target.as_ref(),
                        protocol: protocol.as_ref(),
                        app_protocol: app_protocol.as_ref(),
                    });
                }
            }
            (None, None) => {}
        }
        let mut ports: Vec<(Port, Range<usize>)> = Vec::new();
        for PortEntry {
            span,
            name,
            port,
            target,
            protocol,
            app_protocol,
        } in entries
        {
            let app_protocol = app_protocol.and_then(|app| {
                let text = app.get_ref();
                match names::label_key(text) {
                    Ok(()) => Some(text.clone()),
                    Err(why) => {
                        self.push(
                            Problem::new(
                                Code::InvalidValue,
                                app.span(),
                                format!("invalid app-protocol {text:?}: {why}"),
                            )
                            .label("not an application protocol")
                            .help("write an IANA service name such as \"http\" or \"postgresql\", or a prefixed name such as \"kubernetes.io/h2c\""),
                        );
                        None
                    }
                }
            });
            let number = self.port_number(port, "port");
            let target_number = match target {
                Some(t) => self.port_number(t, "target port"),
                None => number,
            };
            let protocol = self.protocol(protocol);
            if let Some(name) = name
                && let Err(why) = names::port_name(name.get_ref())
            {
                self.push(
                    Problem::new(
                        Code::InvalidName,
                        name.span(),
                        format!("invalid port name {:?}: {why}", name.get_ref()),
                    )
                    .label("not a port name")
                    .help("port names look like \"http\", \"grpc\" or \"metrics\""),
                );
            }
            let (Some(number), Some(target_number)) = (number, target_number) else {
                continue;
            };
            let name = name.map_or_else(
                || format!("{}-{number}", protocol.as_str().to_ascii_lowercase()),
                |n| n.get_ref().clone(),
            );
            for (other, other_span) in &ports {
                let clash = if other.name == name {
                    Some(format!("port name \"{name}\" is used twice"))
                } else if other.port == number && other.protocol == protocol {
                    Some(format!(
                        "port {number}/{} is listed twice",
                        protocol.as_str()
                    ))
                } else {
                    // Two Service ports may forward to one container port (`:80` and `:8080`
                    // to 8080); the container lists it once (`Service::container_ports`).
                    None
                };
                if let Some(message) = clash {
                    self.push(
                        Problem::new(Code::Duplicate, span.clone(), message)
                            .label("again here")
                            .also(other_span.clone(), "first here")
                            .help("each port needs its own name, number and target"),
                    );
                }
            }
            ports.push((
                Port {
                    name,
                    port: number,
                    target: target_number,
                    protocol,
                    app_protocol,
                    span: span.clone().into(),
                },
                span,
            ));
        }
        let mut ports: Vec<Port> = ports.into_iter().map(|(p, _)| p).collect();
        ports.sort_by_key(|p| (p.port, p.protocol));
        ports
    }

    fn egress(&mut self, raw: &Spanned<RawEgress>) -> Option<Egress> {
        let e = raw.get_ref();
        let cidr = self.cidr(&e.cidr);
        let listed = e.ports.as_ref().map_or(&[][..], |p| p.get_ref().as_slice());
        let mut ports: Vec<u16> = listed
            .iter()
            .filter_map(|p| self.port_number(p, "egress port"))
            .collect();
        ports.sort_unstable();
        ports.dedup();
        // Fail closed: an empty list reads as "no ports" but the rule would allow every port.
        if let Some(list) = &e.ports
            && list.get_ref().is_empty()
        {
            self.push(
                Problem::new(
                    Code::InvalidValue,
                    list.span(),
                    "`ports = []` is ambiguous: an egress entry without ports allows every port",
                )
                .label("empty ports")
                .help("list the ports, e.g. `ports = [443]`, or leave `ports` out to allow every port to the CIDR"),
            );
        }
        let protocol = self.protocol(e.protocol.as_ref());
        if let Some(p) = &e.protocol
            && listed.is_empty()
        {
            self.push(
                Problem::new(
                    Code::InvalidValue,
                    p.span(),
                    "an egress `protocol` needs `ports`: without ports the rule allows every protocol",
                )
                .label("protocol without ports")
                .help("list the ports, e.g. `ports = [53]`, or drop `protocol` to allow all traffic to the CIDR"),
            );
        }
        Some(Egress {
            cidr: cidr?,
            ports,
            protocol,
            reason: self.free_text(e.reason.clone(), "egress reason"),
            span: raw.span().into(),
        })
    }

    fn quantity(&mut self, q: &Spanned<String>, kind: &str) -> Option<Quantity> {
        match q.get_ref().parse::<Quantity>() {
            Ok(v) => Some(v),
            Err(err) => {
                let help = match (kind, &err) {
                    (_, QuantityError::Negative) => {
                        "requests and limits are zero or more".to_string()
                    }
                    ("cpu", _) => "CPU quantities look like 250m or 0.5 (1 = one core)".to_string(),
                    (_, QuantityError::UnknownSuffix(s)) if s.ends_with('B') => format!(
                        "`{s}` is not a unit; memory quantities look like 256Mi or 1Gi (or 256M for decimal megabytes)"
                    ),
                    _ => "memory quantities look like 256Mi or 1Gi".to_string(),
                };
                self.push(
                    Problem::new(
                        Code::InvalidQuantity,
                        q.span(),
                        format!("invalid {kind} quantity {:?}: {err}", q.get_ref()),
                    )
                    .label("not a quantity")
                    .help(help),
                );
                None
            }
        }
    }

    fn resources(&mut self, raw: &RawResources) -> Resources {
        let empty = RawResourcePair::default();
        let req_raw = raw.requests.as_ref().unwrap_or(&empty);
        let lim_raw = raw.limits.as_ref().unwrap_or(&empty);
        let mut pair = |p: &RawResourcePair| ResourcePair {
            cpu: p.cpu.as_ref().and_then(|q| self.quantity(q, "cpu")),
            memory: p.memory.as_ref().and_then(|q| self.quantity(q, "memory")),
            cpu_span: p.cpu.as_ref().map(|q| q.span().into()),
            memory_span: p.memory.as_ref().map(|q| q.span().into()),
        };
        let requests = pair(req_raw);
        let limits = pair(lim_raw);
        for (kind, req, lim, lim_span, req_span) in [
            (
                "cpu",
                &requests.cpu,
                &limits.cpu,
                &lim_raw.cpu,
                &req_raw.cpu,
            ),
            (
                "memory",
                &requests.memory,
                &limits.memory,
                &lim_raw.memory,
                &req_raw.memory,
            ),
        ] {
            if let (Some(req), Some(lim), Some(lim_span), Some(req_span)) =
                (req, lim, lim_span, req_span)
                && lim < req
            {
                self.push(
                    Problem::new(
                        Code::LimitBelowRequest,
                        lim_span.span(),
                        format!("{kind} limit {lim} is below the request {req}"),
                    )
                    .label("limit")
                    .also(req_span.span(), "request")
                    .help(format!(
                        "raise the {kind} limit to at least {req}, or lower the request"
                    )),
                );
            }
        }
        Resources { requests, limits }
    }

    fn resolve_calls(&mut self, services: &mut [Service], raw_calls: Vec<Vec<Spanned<RawCall>>>) {
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, s) in services.iter().enumerate() {
            by_name.entry(s.id.name.as_str()).or_default().push(i);
        }
        let index: HashMap<&ServiceId, usize> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (&s.id, i))
            .collect();
        let mut resolved: Vec<Vec<Call>> = Vec::with_capacity(services.len());
        for (caller, calls) in services.iter().zip(raw_calls) {
            let mut out: Vec<Call> = Vec::with_capacity(calls.len());
            let mut targets: BTreeMap<ServiceId, Range<usize>> = BTreeMap::new();
            for call in calls {
                let span = call.span();
                let call = call.into_inner();
                let to_span = call.to_span.clone().unwrap_or_else(|| span.clone());
                let kind = match &call.kind {
                    None => CallKind::Sync,
                    Some(k) => self
                        .keyword(
                            k,
                            "call kind",
                            &[
                                ("sync", CallKind::Sync),
                                ("async", CallKind::Async),
                                ("telemetry", CallKind::Telemetry),
                            ],
                        )
                        .unwrap_or_default(),
                };
                let Some(callee) = self.lookup(
                    caller,
                    &call.to,
                    to_span.clone(),
                    &by_name,
                    &index,
                    services,
                ) else {
                    continue;
                };
                let callee = &services[callee];
                if let Some(first) = targets.get(&callee.id) {
                    self.push(
                        Problem::new(
                            Code::Duplicate,
                            to_span,
                            format!("\"{}\" calls \"{}\" twice", caller.id, callee.id),
                        )
                        .label("again here")
                        .also(first.clone(), "first here")
                        .help("list each callee once; use { to = \"...\", ports = [...] } to name several ports"),
                    );
                    continue;
                }
                targets.insert(callee.id.clone(), to_span.clone());
                if callee.ports.is_empty() {
                    if self.broken_ports.contains(&callee.id) {
                        continue;
                    }
                    self.push(
                        Problem::new(
                            Code::UnknownPort,
                            to_span,
                            format!(
                                "\"{}\" has no ports, so \"{}\" cannot call it",
                                callee.id, caller.id
                            ),
                        )
                        .label("callee without ports")
                        .help(format!(
                            "add `ports = [...]` to \"{}\", or remove this call",
                            callee.id
                        )),
                    );
                    continue;
                }
                let ports = match &call.ports {
                    None => CallPorts::All,
                    Some(list) if list.is_empty() => {
                        self.push(
                            Problem::new(Code::UnknownPort, to_span, "a port-restricted call lists no ports")
                                .label("empty `ports`")
                                .help("name at least one of the callee's ports, or write the bare reference to allow all of them"),
                        );
                        continue;
                    }
                    Some(list) => {
                        let mut names = BTreeSet::new();
                        for name in list {
                            if callee.port(name.get_ref()).is_some() {
                                names.insert(name.get_ref().clone());
                            } else {
                                let known: Vec<&str> =
                                    callee.ports.iter().map(|p| p.name.as_str()).collect();
                                let help = match closest(name.get_ref(), known.iter().copied()) {
                                    Some(c) => format!(
                                        "did you mean \"{c}\"? \"{}\" has ports {}",
                                        callee.id,
                                        quoted(&known)
                                    ),
                                    None => {
                                        format!("\"{}\" has ports {}", callee.id, quoted(&known))
                                    }
                                };
                                self.push(
                                    Problem::new(
                                        Code::UnknownPort,
                                        name.span(),
                                        format!(
                                            "\"{}\" has no port named {:?}",
                                            callee.id,
                                            name.get_ref()
                                        ),
                                    )
                                    .label("unknown port")
                                    .help(help),
                                );
                            }
                        }
                        CallPorts::Only(names.into_iter().collect())
                    }
                };
                out.push(Call {
                    to: callee.id.clone(),
                    ports,
                    kind,
                    span: to_span.into(),
                });
            }
            out.sort_by(|a, b| a.to.cmp(&b.to));
            resolved.push(out);
        }
        for (service, calls) in services.iter_mut().zip(resolved) {
            service.calls = calls;
        }
    }

    fn lookup(
        &mut self,
        caller: &Service,
        reference: &str,
        span: Range<usize>,
        by_name: &HashMap<&str, Vec<usize>>,
        index: &HashMap<&ServiceId, usize>,
        services: &[Service],
    ) -> Option<usize> {
        let all_ids = || {
            services
                .iter()
                .map(|s| s.id.to_string())
                .collect::<Vec<_>>()
        };
        let unknown = |this: &mut Self, message: String| {
            let ids = all_ids();
            // A bare name is compared with names, a full reference with full references; the
            // suggestion is written the way that resolves from this caller.
            let suggestion = if reference.contains('/') {
                closest(reference, ids.iter().map(String::as_str)).map(str::to_string)
            } else {
                closest(reference, by_name.keys().copied()).map(|name| {
                    let mut matches = by_name[name].iter().map(|&i| &services[i].id);
                    match matches
                        .clone()
                        .find(|id| id.namespace == caller.id.namespace)
                    {
                        Some(_) => name.to_string(),
                        None if by_name[name].len() == 1 => matches
                            .next()
                            .map_or_else(|| name.to_string(), ToString::to_string),
                        None => name.to_string(),
                    }
                })
            };
            let help = match suggestion {
                Some(c) => format!("did you mean \"{c}\"?"),
                None => {
                    "call services as \"name\" (same namespace, or unique) or \"namespace/name\""
                        .to_string()
                }
            };
            this.push(
                Problem::new(Code::UnknownService, span.clone(), message)
                    .label("no such service")
                    .help(help),
            );
            None
        };
        if let Some((ns, name)) = reference.split_once('/') {
            let id = ServiceId::new(ns, name);
            return match index.get(&id) {
                Some(i) => Some(*i),
                None => unknown(
                    self,
                    format!("\"{}\" calls unknown service \"{reference}\"", caller.id),
                ),
            };
        }
        let candidates = by_name
            .get(reference)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if let Some(i) = candidates
            .iter()
            .find(|i| services[**i].id.namespace == caller.id.namespace)
        {
            return Some(*i);
        }
        match candidates {
            [] => unknown(
                self,
                format!("\"{}\" calls unknown service \"{reference}\"", caller.id),
            ),
            [one] => Some(*one),
            many => {
                let ids: Vec<String> = many.iter().map(|i| services[*i].id.to_string()).collect();
                self.push(
                    Problem::new(
                        Code::AmbiguousReference,
                        span,
                        format!("\"{reference}\" matches services in several namespaces"),
                    )
                    .label("ambiguous")
                    .help(format!("write one of {} instead", quoted(&ids))),
                );
                None
            }
        }
    }
}

fn quoted<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("\"{}\"", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn suggest_name(name: &str, kind: NameKind) -> String {
    let max = names::MAX_LABEL;
    let fixed = names::slugify(name, max);
    let fixed = if kind == NameKind::Service {
        fixed.map(|f| {
            if f.starts_with(|c: char| c.is_ascii_digit()) {
                format!("svc-{f}")
            } else {
                f
            }
        })
    } else {
        fixed
    };
    let fixed = fixed.map(|f| {
        f.chars()
            .take(max)
            .collect::<String>()
            .trim_end_matches('-')
            .to_string()
    });
    match fixed {
        Some(f) if f != name => {
            format!("try \"{f}\": lowercase letters, digits and '-', at most {max} characters")
        }
        _ => format!("use lowercase letters, digits and '-', at most {max} characters"),
    }
}
