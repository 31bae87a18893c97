//! Validate stage, network keys: the project's `dns` and `gateway`, and a service's `sources`
//! and `route`. Collects problems like the rest of validation; nothing here is re-checked later.

use std::collections::BTreeMap;

use toml::Spanned;

use super::Validator;
use crate::diagnostic::{Code, Problem};
use crate::model::{
    Dns, DnsProfile, DnsRule, DnsTarget, Expose, Gateway, Namespace, Platform, PodLabels, Port,
    Project, Protocol, Route, Service, ServiceId, Sources,
};
use crate::names::{self, NameKind};
use crate::span::Span;
use crate::workspace::raw::{RawDns, RawGateway, RawService};

/// The longest path prefix an HTTPRoute accepts.
use super::stubs::MAX_PATH;

impl Validator {
    /// The DNS rules: `dns` as written, else the platform's default.
    pub(super) fn dns(&mut self, raw: Option<Spanned<RawDns>>, platform: Platform) -> Dns {
        let Some(raw) = raw else {
            return Dns {
                rules: union(default_dns(platform).iter().copied()),
                span: None,
            };
        };
        let span = raw.span();
        let rules = match raw.into_inner() {
            RawDns::Named(names) => {
                if names.is_empty() {
                    self.push(
                        Problem::new(Code::InvalidValue, span.clone(), "`dns` lists no profile")
                            .label("empty list")
                            .help("name at least one profile, e.g. `dns = \"kube-dns\"`, or leave `dns` out for the platform's default"),
                    );
                }
                let mut profiles = Vec::new();
                for name in &names {
                    // A bare string carries no span of its own: point at the whole value.
                    let name = if name.span() == (0..0) {
                        Spanned::new(span.clone(), name.get_ref().clone())
                    } else {
                        name.clone()
                    };
                    let choices = DnsProfile::NAMED.map(|p| (p.as_str(), p));
                    if let Some(p) = self.keyword(&name, "DNS profile", &choices) {
                        profiles.push(p);
                    }
                }
                profiles.sort();
                profiles.dedup();
                union(profiles)
            }
            RawDns::Custom(custom) => {
                let mut targets = Vec::new();
                match (&custom.namespace, &custom.pod_labels) {
                    (Some(ns), Some(labels)) => {
                        self.name(ns, NameKind::Namespace);
                        if let Some(labels) = self.labels(labels, "DNS pod label") {
                            targets.push(DnsTarget::Pods {
                                namespace: ns.get_ref().clone(),
                                labels,
                            });
                        }
                    }
                    (None, None) => {}
                    (Some(ns), None) => self.push(
                        Problem::new(Code::MissingKey, ns.span(), "a custom `dns` namespace needs `pod-labels`")
                            .label("which pods?")
                            .help("add the labels of the DNS pods, e.g. `pod-labels = { k8s-app = \"kube-dns\" }`"),
                    ),
                    (None, Some(labels)) => self.push(
                        Problem::new(Code::MissingKey, labels.span(), "custom `dns` pod labels need a `namespace`")
                            .label("in which namespace?")
                            .help("add the namespace the DNS pods run in, e.g. `namespace = \"kube-system\"`"),
                    ),
                }
                for cidr in &custom.cidrs {
                    if let Some(net) = self.cidr(cidr) {
                        targets.push(DnsTarget::Block(net));
                    }
                }
                if targets.is_empty() && custom.namespace.is_none() && custom.pod_labels.is_none() {
                    self.push(
                        Problem::new(Code::MissingKey, span.clone(), "a custom `dns` names no server")
                            .label("no `namespace`/`pod-labels` and no `cidrs`")
                            .help("set `namespace` and `pod-labels` for DNS pods, `cidrs` for DNS addresses, or both"),
                    );
                }
                let mut ports: Vec<u16> = custom
                    .ports
                    .iter()
                    .filter_map(|p| self.port_number(p, "DNS port"))
                    .collect();
                if custom.ports.is_empty() {
                    ports.push(53);
                }
                ports.sort_unstable();
                ports.dedup();
                targets.sort();
                targets.dedup();
                vec![DnsRule {
                    profile: DnsProfile::Custom,
                    targets,
                    ports,
                }]
            }
        };
        Dns {
            rules,
            span: Some(span.into()),
        }
    }

    /// Label keys and values that select pods; `None` when none is valid (a problem has been
    /// pushed then).
    fn labels(
        &mut self,
        raw: &Spanned<BTreeMap<String, Spanned<String>>>,
        what: &str,
    ) -> Option<PodLabels> {
        if raw.get_ref().is_empty() {
            self.push(
                Problem::new(Code::InvalidValue, raw.span(), format!("no {what}s given"))
                    .label("empty table")
                    .help("an empty selector would match every pod: name at least one label"),
            );
        }
        let mut out = Vec::new();
        for (key, value) in raw.get_ref() {
            if let Err(why) = label_key(key) {
                self.push(
                    Problem::new(
                        Code::InvalidName,
                        raw.span(),
                        format!("invalid {what} key {key:?}: {why}"),
                    )
                    .label("not a label key")
                    .help("label keys look like \"app\" or \"app.kubernetes.io/name\""),
                );
                continue;
            }
            // Empty values are valid labels, so they are allowed in selectors.
            if !value.get_ref().is_empty() {
                self.label_value(value, what);
            }
            out.push((key.clone(), value.get_ref().clone()));
        }
        // The keys come from a table, so they are unique.
        PodLabels::new(out)
    }

    /// The `[project.gateway]` table.
    pub(super) fn gateway(&mut self, raw: Option<Spanned<RawGateway>>) -> Option<Gateway> {
        let raw = raw?;
        let span = raw.span();
        let g = raw.into_inner();
        self.name(&g.name, NameKind::Namespace);
        self.name(&g.namespace, NameKind::Namespace);
        let pod_namespace = g.pod_namespace.as_ref().unwrap_or(&g.namespace);
        if let Some(ns) = &g.pod_namespace {
            self.name(ns, NameKind::Namespace);
        }
        let pod_labels = self.labels(&g.pod_labels, "gateway pod label");
        let hostnames = self.hostnames(&g.hostnames);
        // Without labels there is no gateway to admit; the services routed through it are not
        // blamed for the project's mistake.
        let Some(pod_labels) = pod_labels else {
            self.gateway_refused = true;
            return None;
        };
        Some(Gateway {
            name: g.name.get_ref().clone(),
            namespace: g.namespace.get_ref().clone(),
            pod_namespace: pod_namespace.get_ref().clone(),
            pod_labels,
            hostnames,
            span: Span::from(span),
        })
    }

    fn hostnames(&mut self, raw: &[Spanned<String>]) -> Vec<String> {
        let mut out = Vec::new();
        for h in raw {
            match hostname(h.get_ref()) {
                Ok(()) => out.push(h.get_ref().clone()),
                Err(why) => self.push(
                    Problem::new(
                        Code::InvalidValue,
                        h.span(),
                        format!("invalid hostname {:?}: {why}", h.get_ref()),
                    )
                    .label("not a hostname")
                    .help("write a DNS name such as \"pictures.example.com\" or \"*.example.com\""),
                ),
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Who may reach an exposed service; `None` for the other exposures, and when nothing valid
    /// is listed (a problem has been pushed then).
    pub(super) fn sources(
        &mut self,
        raw: &RawService,
        expose: Expose,
        project: &Project,
    ) -> Option<Sources> {
        let written = raw.sources.as_ref();
        if let Some(list) = written
            && !matches!(expose, Expose::Internal | Expose::Public)
        {
            self.push(
                Problem::new(
                    Code::InvalidValue,
                    list.span(),
                    format!("`sources` only applies to internal and public services, not to expose = \"{}\"", expose.as_str()),
                )
                .label("no load balancer to restrict")
                .help("remove `sources`, or set `expose = \"internal\"` or `\"public\"`"),
            );
            return None;
        }
        match (written, expose) {
            (Some(list), _) => {
                if list.get_ref().is_empty() {
                    self.push(
                        Problem::new(Code::InvalidValue, list.span(), "`sources` lists no address range")
                            .label("reachable from nowhere")
                            .help("list the client networks, e.g. `sources = [\"203.0.113.0/24\"]`, or remove `sources` for the default"),
                    );
                }
                Sources::new(list.get_ref().iter().filter_map(|c| self.cidr(c)).collect())
            }
            // An internal service without `internal-cidrs` is refused by the exposure check.
            (None, Expose::Internal) => Sources::new(project.internal_cidrs.clone()),
            (None, Expose::Public) => Some(Sources::anywhere()),
            (None, Expose::Cluster | Expose::Gateway) => None,
        }
    }

    /// The HTTPRoute of a gateway service.
    pub(super) fn route(
        &mut self,
        raw: &RawService,
        id: &ServiceId,
        expose: Expose,
        project: &Project,
        ports: &[Port],
    ) -> Option<Route> {
        if expose != Expose::Gateway {
            if let Some(route) = &raw.route {
                self.push(
                    Problem::new(
                        Code::InvalidValue,
                        route.span(),
                        format!(
                            "`route` only applies to expose = \"gateway\", not to \"{}\"",
                            expose.as_str()
                        ),
                    )
                    .label("no gateway route")
                    .help("remove `route`, or set `expose = \"gateway\"`"),
                );
            }
            return None;
        }
        let expose_span = raw.expose.as_ref().map(Spanned::span).unwrap_or_default();
        let span = Span::from(
            raw.route
                .as_ref()
                .map_or_else(|| expose_span.clone(), Spanned::span),
        );
        let Some(gateway) = &project.gateway else {
            if self.gateway_refused {
                return None;
            }
            self.push(
                Problem::new(Code::MissingKey, expose_span, format!("service \"{id}\" is exposed through the gateway, but the project declares none"))
                    .label("which gateway?")
                    .help("add [project.gateway] with the Gateway's `name` and `namespace` and its pods' `pod-labels`"),
            );
            return None;
        };
        let route = raw.route.as_ref().map(Spanned::get_ref);
        let hostnames = match route.and_then(|r| r.hostnames.as_ref()) {
            Some(list) => self.hostnames(list),
            None => gateway.hostnames.clone(),
        };
        let path = match route.and_then(|r| r.path.as_ref()) {
            Some(p) => match path_prefix(p.get_ref()) {
                Ok(()) => p.get_ref().clone(),
                Err(why) => {
                    self.push(
                        Problem::new(
                            Code::InvalidValue,
                            p.span(),
                            format!("invalid route path {:?}: {why}", p.get_ref()),
                        )
                        .label("not a path prefix")
                        .help("write an absolute path such as \"/\" or \"/pictures\""),
                    );
                    "/".to_string()
                }
            },
            None => "/".to_string(),
        };
        let tcp: Vec<&Port> = ports
            .iter()
            .filter(|p| p.protocol == Protocol::Tcp)
            .collect();
        let port = match route.and_then(|r| r.port.as_ref()) {
            Some(name) => match ports.iter().find(|p| p.name == *name.get_ref()) {
                Some(p) if p.protocol == Protocol::Tcp => Some(p.name.clone()),
                Some(_) => {
                    self.push(
                        Problem::new(Code::UnknownPort, name.span(), format!("port {:?} of \"{id}\" is not TCP, so a gateway cannot send HTTP to it", name.get_ref()))
                            .label("not a TCP port")
                            .help("name a TCP port of the service"),
                    );
                    None
                }
                None => {
                    let known: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
                    self.push(
                        Problem::new(
                            Code::UnknownPort,
                            name.span(),
                            format!("\"{id}\" has no port named {:?}", name.get_ref()),
                        )
                        .label("unknown port")
                        .help(format!("the service's ports are {}", known.join(", "))),
                    );
                    None
                }
            },
            None => match tcp.as_slice() {
                [one] => Some(one.name.clone()),
                [] => {
                    // Without any port, the exposure check has said so already.
                    if !ports.is_empty() && !self.broken_ports.contains(id) {
                        self.push(
                            Problem::new(Code::InvalidValue, expose_span, format!("service \"{id}\" is exposed through the gateway but has no TCP port"))
                                .label("nothing to route to")
                                .help("add `ports = [{ name = \"http\", port = 80, target = 8080 }]`"),
                        );
                    }
                    None
                }
                many => match many.iter().find(|p| p.name == "http") {
                    Some(p) => Some(p.name.clone()),
                    None => {
                        let names: Vec<&str> = many.iter().map(|p| p.name.as_str()).collect();
                        self.push(
                            Problem::new(Code::InvalidValue, expose_span, format!("service \"{id}\" has several TCP ports; which one does the gateway route to?"))
                                .label("ambiguous port")
                                .help(format!("set `route = {{ port = \"...\" }}` to one of {}", names.join(", "))),
                        );
                        None
                    }
                },
            },
        }?;
        Some(Route {
            hostnames,
            path,
            port,
            span,
        })
    }

    /// Refuses two services whose routes match the same requests: the same path prefix on a
    /// hostname both name (or on every hostname, when neither names one). The Gateway API
    /// breaks such a tie by the routes' creation time, so one of the services would silently
    /// get no traffic. A route that names a hostname wins over one that names none, so that
    /// pair is no tie.
    pub(super) fn route_clashes(&mut self, services: &[Service]) {
        // Routes by matched path; services come sorted, so the first of a clash is stable.
        let mut by_path: BTreeMap<&str, Vec<(&ServiceId, &Route)>> = BTreeMap::new();
        for service in services {
            if let Some(route) = &service.route {
                by_path
                    .entry(path_key(&route.path))
                    .or_default()
                    .push((&service.id, route));
            }
        }
        for routes in by_path.values() {
            for (i, (second, route)) in routes.iter().enumerate() {
                let clash = routes[..i].iter().find_map(|(first, earlier)| {
                    let shared = match (route.hostnames.is_empty(), earlier.hostnames.is_empty()) {
                        (true, true) => Some("every hostname of the listener".to_string()),
                        (false, false) => route
                            .hostnames
                            .iter()
                            .find(|h| earlier.hostnames.binary_search(h).is_ok())
                            .map(|h| format!("hostname {h:?}")),
                        _ => None,
                    };
                    shared.map(|shared| (first, earlier, shared))
                });
                if let Some((first, earlier, shared)) = clash {
                    let path = if earlier.path == route.path {
                        format!("path {:?}", route.path)
                    } else {
                        format!("paths {:?} and {:?}", earlier.path, route.path)
                    };
                    self.push(
                        Problem::new(
                            Code::Duplicate,
                            route.span,
                            format!(
                                "services \"{first}\" and \"{second}\" are both routed on {path} for {shared}"
                            ),
                        )
                        .label("same match as an earlier route")
                        .also(earlier.span, format!("\"{first}\" is routed here"))
                        .help("give one of them its own `route = { path = \"...\" }` or `hostnames`: the gateway sends requests that match two routes equally to the older route only"),
                    );
                }
            }
        }
    }

    /// Refuses a gateway or DNS server placed in a namespace of the model: the model's
    /// default-deny policies would cut it off.
    pub(super) fn network_namespaces(
        &mut self,
        project: &Project,
        namespaces: &BTreeMap<String, Namespace>,
    ) {
        if let Some(g) = &project.gateway
            && namespaces.contains_key(&g.pod_namespace)
        {
            self.push(
                Problem::new(Code::InvalidValue, g.span, format!("the gateway's pods run in namespace \"{}\", which the workspace also uses for services", g.pod_namespace))
                    .label("gateway inside a business domain")
                    .help("run the gateway in its own namespace: the generated default-deny policies of a workspace namespace would block its traffic"),
            );
        }
        // The defaults live in kube-system, which no workspace namespace can be.
        let Some(dns_span) = project.dns.span else {
            return;
        };
        for rule in &project.dns.rules {
            for target in &rule.targets {
                if let DnsTarget::Pods { namespace, .. } = target
                    && namespaces.contains_key(namespace)
                    && !names::reserved_namespace(namespace)
                {
                    self.push(
                        Problem::new(Code::InvalidValue, dns_span, format!("the DNS pods run in namespace \"{namespace}\", which the workspace also uses for services"))
                            .label("DNS inside a business domain")
                            .help("the generated default-deny policies of a workspace namespace would block DNS itself: name the namespace the cluster's DNS pods run in"),
                    );
                }
            }
        }
    }
}

/// The rules of several named profiles, each server and port named once: a later profile
/// keeps only the servers an earlier one does not already allow on the same ports.
fn union(profiles: impl IntoIterator<Item = DnsProfile>) -> Vec<DnsRule> {
    let mut seen: Vec<(DnsTarget, Vec<u16>)> = Vec::new();
    let mut out = Vec::new();
    for mut rule in profiles.into_iter().filter_map(DnsRule::named) {
        rule.targets
            .retain(|t| !seen.iter().any(|(s, ports)| s == t && *ports == rule.ports));
        seen.extend(rule.targets.iter().map(|t| (t.clone(), rule.ports.clone())));
        if !rule.targets.is_empty() {
            out.push(rule);
        }
    }
    out
}

/// The DNS profiles a platform implies when `dns` is not written.
pub fn default_dns(platform: Platform) -> &'static [DnsProfile] {
    match platform {
        // GKE answers lookups through NodeLocal DNSCache (Autopilot, and Standard from 1.33.1),
        // Cloud DNS (169.254.169.254) or kube-dns, depending on the cluster's mode and version:
        // allow all three, on port 53 only, so that every GKE cluster resolves.
        Platform::Gke => &[
            DnsProfile::KubeDns,
            DnsProfile::NodeLocal,
            DnsProfile::GkeCloudDns,
        ],
        Platform::Eks | Platform::Aks | Platform::Generic => &[DnsProfile::KubeDns],
    }
}

/// A Kubernetes label key: an optional DNS subdomain prefix and `/`, then a name of at most 63
/// letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit.
fn label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let ok = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix
                .split('.')
                .all(|part| names::dns1123_label(part).is_ok());
        if !ok {
            return Err(
                "the prefix before '/' must be a DNS subdomain such as \"app.kubernetes.io\""
                    .into(),
            );
        }
    }
    names::label_value(name).map_err(|_| {
        "the name must have 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit".to_string()
    })?;
    if name.is_empty() {
        return Err("the name cannot be empty".into());
    }
    Ok(())
}

/// A Gateway API hostname: a lowercase DNS name of at most 253 characters, optionally starting
/// with the wildcard label `*.`; never an IP address.
fn hostname(text: &str) -> Result<(), String> {
    let bare = text.strip_prefix("*.").unwrap_or(text);
    if text.len() > 253 {
        return Err(format!(
            "a hostname has at most 253 characters, this one has {}",
            text.len()
        ));
    }
    if text.parse::<std::net::IpAddr>().is_ok() {
        return Err("an IP address is not a hostname".into());
    }
    if bare.is_empty()
        || !bare
            .split('.')
            .all(|part| names::dns1123_label(part).is_ok())
    {
        return Err(
            "use lowercase letters, digits, '-' and '.', with an optional leading \"*.\"".into(),
        );
    }
    Ok(())
}

/// The requests a `PathPrefix` matches are decided element by element, ignoring a trailing
/// '/': "/a" and "/a/" match the same paths.
fn path_key(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    }
}

/// An HTTPRoute `PathPrefix` value, as the Gateway API CRD's validation rules accept it.
fn path_prefix(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err("it must start with '/'".into());
    }
    if path.len() > MAX_PATH {
        return Err(format!("a path has at most {MAX_PATH} characters"));
    }
    for bad in ["//", "/./", "/../", "%2f", "%2F", "#"] {
        if path.contains(bad) {
            return Err(format!("it must not contain {bad:?}"));
        }
    }
    if path.ends_with("/..") || path.ends_with("/.") {
        return Err("it must not end with \"/.\" or \"/..\"".into());
    }
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'%' {
            let hex = |b: Option<&u8>| b.is_some_and(u8::is_ascii_hexdigit);
            if !(hex(bytes.get(i + 1)) && hex(bytes.get(i + 2))) {
                return Err("'%' must start an escape such as %20".into());
            }
            i += 3;
            continue;
        }
        if !(c.is_ascii_alphanumeric() || b"-/._~!$&'()*+,;=:@".contains(&c)) {
            return Err(format!(
                "{:?} is not allowed; escape it with %XX",
                path[i..].chars().next().unwrap_or('?')
            ));
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_gateway_api_rules() {
        for ok in ["/", "/pictures", "/a-b/c_d~e", "/%20x", "/v1:2@x"] {
            assert_eq!(path_prefix(ok), Ok(()), "{ok}");
        }
        for bad in [
            "pictures",
            "//x",
            "/a/./b",
            "/a/../b",
            "/a%2fb",
            "/a#b",
            "/a/..",
            "/a/.",
            "/a b",
            "/\u{1b}[2J",
            "/\u{2028}",
            "/%zz",
        ] {
            assert!(path_prefix(bad).is_err(), "{bad:?}");
        }
        assert!(path_prefix(&format!("/{}", "a".repeat(MAX_PATH))).is_err());
    }

    #[test]
    fn hostnames_follow_the_gateway_api_rules() {
        for ok in ["example.com", "*.example.com", "a-1.b"] {
            assert_eq!(hostname(ok), Ok(()), "{ok}");
        }
        for bad in [
            "10.0.0.1",
            "Example.com",
            "a..b",
            "*",
            "a.*.b",
            "x\u{1b}y",
            "-a.b",
            "",
        ] {
            assert!(hostname(bad).is_err(), "{bad:?}");
        }
        assert!(hostname(&format!("{}.com", "a.".repeat(130))).is_err());
    }

    #[test]
    fn label_keys_follow_the_kubernetes_rules() {
        for ok in ["app", "app.kubernetes.io/name", "k8s-app", "a_b.c"] {
            assert_eq!(label_key(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "/app",
            "Bad Prefix/app",
            "app/",
            "-app",
            "a\u{2028}b",
            "x/y/z",
        ] {
            assert!(label_key(bad).is_err(), "{bad:?}");
        }
    }
}
