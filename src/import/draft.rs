//! Model stage of `import`: what the readers (Compose, Kubernetes, Backstage) found, in the
//! readers' own names, each value with the place it came from; and `resolve`, which turns that
//! into names the workspace accepts, matches references to services, and lists everything it
//! could not decide. Nothing here reads files or renders text.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{CallKind, Expose, Platform, Protocol};
use crate::names;
use crate::quantity::Quantity;
use crate::workspace::STATEFUL_NAME_MAX;

/// Where a value came from: `compose.yaml:14 depends_on`. A guess says so.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Prov {
    /// True when the value was seen in recorded traffic rather than read from a file.
    pub observed: bool,
    /// `file:line`.
    pub at: String,
    /// What was read there.
    pub what: String,
    /// True when the value is inferred rather than read.
    pub guess: bool,
}

impl Prov {
    /// A value read at `file:line`.
    pub fn read(file: &str, line: usize, what: impl Into<String>) -> Prov {
        Prov {
            observed: false,
            at: format!("{file}:{line}"),
            what: what.into(),
            guess: false,
        }
    }

    /// A value inferred from what is at `file:line`.
    pub fn guess(file: &str, line: usize, what: impl Into<String>) -> Prov {
        Prov {
            guess: true,
            ..Prov::read(file, line, what)
        }
    }

    /// A call or port seen at line `line` of a flow capture.
    pub fn observed(file: &str, line: usize, what: impl Into<String>) -> Prov {
        Prov {
            observed: true,
            ..Prov::read(file, line, what)
        }
    }

    /// The comment text.
    pub fn text(&self) -> String {
        if self.guess {
            format!("guess: {} ({})", self.what, self.at)
        } else {
            format!("{} {}", self.at, self.what)
        }
    }
}

/// A value with its provenance.
pub type Sourced<T> = (T, Prov);

/// Everything the readers found.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// The files read, in order, as shown to the user.
    pub sources: Vec<String>,
    /// What kind of input it was: "Compose", "Kubernetes manifests", "Backstage catalog".
    pub kind: String,
    /// The project name and where it came from.
    pub project: Option<Sourced<String>>,
    /// The platform, when annotations tell.
    pub platform: Option<Sourced<Platform>>,
    /// Namespaces the input declares or implies, by original name.
    pub namespaces: BTreeMap<String, NsDraft>,
    /// Services, in input order.
    pub services: Vec<SvcDraft>,
    /// Other names a service answers to (Compose aliases, hostnames), lowercase.
    pub aliases: BTreeMap<String, (String, String)>,
    /// What the readers could not know or did not import.
    pub unknowns: Vec<String>,
    /// Facts worth a look that are not problems (domain candidates, existing policies).
    pub notes: Vec<String>,
}

/// A namespace as read.
#[derive(Debug, Clone, Default)]
pub struct NsDraft {
    /// Owning team.
    pub team: Option<Sourced<String>>,
    /// Free text.
    pub description: Option<Sourced<String>>,
    /// Where it is declared, if it is.
    pub prov: Option<Prov>,
}

/// A service as read, in the reader's names.
#[derive(Debug, Clone)]
pub struct SvcDraft {
    /// Original name.
    pub name: String,
    /// Original namespace; empty for "the project's".
    pub namespace: String,
    /// Where it is defined.
    pub prov: Prov,
    /// Owning team.
    pub team: Option<Sourced<String>>,
    /// Free text.
    pub description: Option<Sourced<String>>,
    /// Container image.
    pub image: Option<Sourced<String>>,
    /// Replicas.
    pub replicas: Option<Sourced<u32>>,
    /// Ports.
    pub ports: Vec<PortDraft>,
    /// Exposure, when the input says.
    pub expose: Option<Sourced<Expose>>,
    /// A reason to consider wider exposure than the input declares (published Compose ports).
    pub expose_hint: Option<String>,
    /// References to other services or hosts.
    pub refs: Vec<Ref>,
    /// External dependencies that need an egress rule nobody can write for them yet.
    pub egress: Vec<EgressHint>,
    /// Egress to outside addresses with the addresses known (observed flows).
    pub egress_cidrs: Vec<EgressDraft>,
    /// CPU and memory requests.
    pub requests: PairDraft,
    /// CPU and memory limits.
    pub limits: PairDraft,
    /// A StatefulSet's storage: each pod's volume size and where it is mounted.
    pub stateful: Option<Sourced<(String, Option<String>)>>,
}

impl SvcDraft {
    /// A service with nothing known but its name.
    pub fn new(name: &str, namespace: &str, prov: Prov) -> SvcDraft {
        SvcDraft {
            name: name.to_string(),
            namespace: namespace.to_string(),
            prov,
            team: None,
            description: None,
            image: None,
            replicas: None,
            ports: Vec::new(),
            expose: None,
            expose_hint: None,
            refs: Vec::new(),
            egress: Vec::new(),
            egress_cidrs: Vec::new(),
            requests: PairDraft::default(),
            limits: PairDraft::default(),
            stateful: None,
        }
    }
}

/// CPU and memory quantities, already in Kubernetes notation.
#[derive(Debug, Clone, Default)]
pub struct PairDraft {
    /// CPU.
    pub cpu: Option<Sourced<String>>,
    /// Memory.
    pub memory: Option<Sourced<String>>,
}

/// A port as read.
#[derive(Debug, Clone)]
pub struct PortDraft {
    /// Name, if the input gives one.
    pub name: Option<String>,
    /// What callers connect to.
    pub port: u16,
    /// What the container listens on.
    pub target: u16,
    /// Protocol.
    pub protocol: Protocol,
    /// The Service port's `appProtocol`, when the input gives it or the image is well known.
    pub app_protocol: Option<String>,
    /// Where it was read.
    pub prov: Prov,
}

/// A reference from one service to something else.
#[derive(Debug, Clone)]
pub struct Ref {
    /// What is referred to.
    pub target: Target,
    /// The port named with it, if any.
    pub port: Option<u16>,
    /// Where.
    pub prov: Prov,
}

/// The two ways inputs refer to services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// By the input's own service name (`depends_on`, Backstage `dependsOn`); `namespace`
    /// empty means the caller's namespace first, then any unique match.
    Service {
        /// Original namespace, or empty.
        namespace: String,
        /// Original name.
        name: String,
    },
    /// A host name found in configuration.
    Host(String),
    /// A host name found in a Secret: matched like any host, never shown in a message.
    SecretHost(String),
}

/// An egress need the input shows but cannot give an address for.
#[derive(Debug, Clone)]
pub struct EgressHint {
    /// Why.
    pub reason: String,
    /// Where.
    pub prov: Prov,
}

/// A namespace ready to write.
#[derive(Debug, Clone)]
pub struct OutNs {
    /// Valid name.
    pub name: String,
    /// The name in the input, when it had to change.
    pub original: Option<String>,
    /// As read.
    pub draft: NsDraft,
}

/// A port ready to write.
#[derive(Debug, Clone)]
pub struct OutPort {
    /// Valid, unique name.
    pub name: String,
    /// The name in the input, when it had to change.
    pub original: Option<String>,
    /// As read.
    pub draft: PortDraft,
}

/// A resolved call.
#[derive(Debug, Clone)]
pub struct OutCall {
    /// `namespace/name` in workspace names.
    pub to: String,
    /// Port names the call is limited to; empty for all.
    pub ports: Vec<String>,
    /// The kind guessed from the callee or the caller, and why; `None` for a plain call.
    pub kind: Option<(CallKind, String)>,
    /// Every place that shows the call.
    pub provs: Vec<Prov>,
}

/// An egress entry with its addresses, as observed traffic shows them.
#[derive(Debug, Clone)]
pub struct EgressDraft {
    /// The block.
    pub cidr: ipnet::IpNet,
    /// The ports; empty for all.
    pub ports: Vec<u16>,
    /// Their protocol.
    pub protocol: Protocol,
    /// Where it was seen.
    pub prov: Prov,
}

/// A service ready to write.
#[derive(Debug, Clone)]
pub struct OutSvc {
    /// Valid name.
    pub name: String,
    /// The name in the input, when it had to change.
    pub original: Option<String>,
    /// Valid namespace.
    pub namespace: String,
    /// As read.
    pub draft: SvcDraft,
    /// Ports, with any added by inference.
    pub ports: Vec<OutPort>,
    /// Resolved calls, sorted by target.
    pub calls: Vec<OutCall>,
    /// Calls that cannot be written (the callee has no port), as comments.
    pub blocked: Vec<String>,
}

/// The import, ready to render.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Files read.
    pub sources: Vec<String>,
    /// Input kind.
    pub kind: String,
    /// Project name and why.
    pub project: Sourced<String>,
    /// Platform, if known.
    pub platform: Option<Sourced<Platform>>,
    /// Whether an internal service needs `internal-cidrs` (a placeholder is written).
    pub needs_internal_cidrs: bool,
    /// Namespaces, sorted.
    pub namespaces: Vec<OutNs>,
    /// Services, sorted by namespace and name.
    pub services: Vec<OutSvc>,
    /// What could not be known.
    pub unknowns: Vec<String>,
    /// Facts worth a look.
    pub notes: Vec<String>,
    /// Criteria answers given after the import (`init --from`), by id.
    pub answers: Vec<(String, bool)>,
}

/// A port a reference names (if any) and where.
type PortRef = (Option<u16>, Prov);

/// Container ports of well-known images, for services whose definition declares none, with a
/// port name that says what the port speaks and never claims HTTP (meshes treat `http*` names
/// as HTTP), and the Service's `appProtocol` where the Kubernetes convention has one: an IANA
/// service name registered for that protocol.
const WELL_KNOWN: [(&str, u16, &str, Option<&str>); 14] = [
    ("redis", 6379, "tcp-redis", Some("redis")),
    ("valkey", 6379, "tcp-redis", Some("redis")),
    ("postgres", 5432, "tcp-postgres", Some("postgresql")),
    ("mysql", 3306, "tcp-mysql", Some("mysql")),
    ("mariadb", 3306, "tcp-mysql", Some("mysql")),
    ("mongo", 27017, "tcp-mongo", Some("mongodb")),
    ("rabbitmq", 5672, "tcp-amqp", Some("amqp")),
    ("memcached", 11211, "tcp-memcached", Some("memcache")),
    ("elasticsearch", 9200, "tcp-elastic", None),
    ("nats", 4222, "tcp-nats", None),
    ("kafka", 9092, "tcp-kafka", None),
    ("zookeeper", 2181, "tcp-zookeeper", None),
    ("cassandra", 9042, "tcp-cql", None),
    ("etcd", 2379, "tcp-etcd", None),
];

/// The last path segment of an image's repository: `postgres` of
/// `docker.io/library/postgres:15@sha256:...`.
fn image_name(image: &str) -> &str {
    let repo = image.split('@').next().unwrap_or(image);
    let last = repo.rsplit('/').next().unwrap_or(repo);
    last.split(':').next().unwrap_or(last)
}

/// The default port of an image by its repository's last path segment, its port name and
/// its `appProtocol`.
fn well_known_port(image: &str) -> Option<(&'static str, u16, &'static str, Option<&'static str>)> {
    let name = image_name(image);
    WELL_KNOWN.iter().find(|(n, ..)| name == *n).copied()
}

/// Images, by a word of their repository name, that carry messages between services.
const BROKERS: [&str; 8] = [
    "kafka",
    "redpanda",
    "rabbitmq",
    "nats",
    "activemq",
    "artemis",
    "pulsar",
    "elasticmq",
];

/// Images, by a word of their repository name, that collect traces, metrics or logs.
const COLLECTORS: [&str; 11] = [
    "otel-collector",
    "opentelemetry-collector",
    "otelcol",
    "jaeger",
    "zipkin",
    "tempo",
    "fluentd",
    "fluent-bit",
    "logstash",
    "loki",
    "prometheus",
];

/// Ports that only brokers and collectors listen on: Kafka, AMQP, NATS; OTLP, Zipkin, Jaeger,
/// Fluentd forward.
const BROKER_PORTS: [u16; 3] = [9092, 5672, 4222];
const COLLECTOR_PORTS: [u16; 6] = [4317, 4318, 9411, 14250, 14268, 24224];

/// What a service is, from its image (else its name) and its ports: a broker, a collector,
/// or neither.
fn role(s: &SvcDraft, ports: &[u16]) -> Option<(CallKind, String)> {
    let image = s.image.as_ref().map(|(i, _)| image_name(i)).unwrap_or("");
    let words = [image, s.name.as_str()];
    let has = |list: &[&'static str]| -> Option<(&'static str, String)> {
        words.iter().find_map(|w| {
            list.iter()
                .find(|k| w.contains(*k))
                .map(|k| (*k, (*w).to_string()))
        })
    };
    if let Some((_, w)) = has(&COLLECTORS) {
        return Some((CallKind::Telemetry, format!("{w} is a telemetry collector")));
    }
    if let Some((_, w)) = has(&BROKERS) {
        return Some((CallKind::Async, format!("{w} is a message broker")));
    }
    if let Some(p) = ports.iter().find(|p| COLLECTOR_PORTS.contains(p)) {
        return Some((
            CallKind::Telemetry,
            format!("port {p} is a telemetry collector's"),
        ));
    }
    if let Some(p) = ports.iter().find(|p| BROKER_PORTS.contains(p)) {
        return Some((CallKind::Async, format!("port {p} is a message broker's")));
    }
    None
}

/// Makes a valid DNS label from `text`, unique among `taken`.
fn label(text: &str, letter_first: bool, taken: &mut BTreeSet<String>, fallback: &str) -> String {
    let mut base = names::slugify(text, names::MAX_LABEL).unwrap_or_else(|| fallback.to_string());
    if letter_first && !base.starts_with(|c: char| c.is_ascii_lowercase()) {
        base = format!("svc-{base}");
    }
    if names::reserved_namespace(&base) {
        base = format!("imported-{base}");
    }
    base.truncate(names::MAX_LABEL);
    let base = base.trim_end_matches('-').to_string();
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) {
        let suffix = format!("-{n}");
        let mut stem = base.clone();
        stem.truncate(names::MAX_LABEL - suffix.len());
        name = format!("{}{suffix}", stem.trim_end_matches('-'));
        n += 1;
    }
    taken.insert(name.clone());
    name
}

/// Turns a draft into names the workspace accepts and resolves every reference.
pub fn resolve(draft: Draft, fallback_project: &str) -> Resolved {
    let mut unknowns = draft.unknowns.clone();
    let notes = draft.notes.clone();
    let (project_text, project_prov) = draft.project.clone().unwrap_or_else(|| {
        (
            fallback_project.to_string(),
            Prov {
                observed: false,
                at: draft.sources.first().cloned().unwrap_or_default(),
                what: "the input names no project; named after its folder".into(),
                guess: true,
            },
        )
    });
    let mut taken = BTreeSet::new();
    let project = label(&project_text, false, &mut taken, "imported");
    let project_prov = if project == project_text {
        project_prov
    } else {
        Prov {
            what: format!("{} (written {:?})", project_prov.what, project_text),
            ..project_prov
        }
    };

    // Namespaces: the project's own first, so that services without one land there.
    let mut ns_names: BTreeMap<String, String> = BTreeMap::new();
    let mut ns_taken: BTreeSet<String> = BTreeSet::new();
    ns_taken.insert(project.clone());
    ns_names.insert(String::new(), project.clone());
    let mut ns_originals: BTreeSet<String> = draft.namespaces.keys().cloned().collect();
    ns_originals.extend(draft.services.iter().map(|s| s.namespace.clone()));
    for original in &ns_originals {
        if original.is_empty() || original == "default" {
            ns_names.insert(original.clone(), project.clone());
            continue;
        }
        let name = if names::dns1123_label(original).is_ok()
            && !names::reserved_namespace(original)
            && !ns_taken.contains(original)
        {
            ns_taken.insert(original.clone());
            original.clone()
        } else if *original == project {
            project.clone()
        } else {
            label(original, false, &mut ns_taken, "imported")
        };
        ns_names.insert(original.clone(), name);
    }
    let mut namespaces: Vec<OutNs> = draft
        .namespaces
        .iter()
        .map(|(original, nd)| {
            let name = ns_names[original].clone();
            OutNs {
                original: (name != *original && !original.is_empty()).then(|| original.clone()),
                name,
                draft: nd.clone(),
            }
        })
        .collect();
    namespaces.sort_by(|a, b| a.name.cmp(&b.name));
    namespaces.dedup_by(|a, b| a.name == b.name);

    // Services: valid, unique names per namespace.
    let mut svc_taken: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut services: Vec<OutSvc> = Vec::new();
    for s in &draft.services {
        let namespace = ns_names[&s.namespace].clone();
        let taken = svc_taken.entry(namespace.clone()).or_default();
        let name = if names::dns1035_label(&s.name).is_ok() && !taken.contains(&s.name) {
            taken.insert(s.name.clone());
            s.name.clone()
        } else {
            label(&s.name, true, taken, "service")
        };
        services.push(OutSvc {
            original: (name != s.name).then(|| s.name.clone()),
            name,
            namespace,
            draft: s.clone(),
            ports: Vec::new(),
            calls: Vec::new(),
            blocked: Vec::new(),
        });
    }

    // Index by original names (lowercase: hosts are case-insensitive).
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut by_full: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (i, s) in draft.services.iter().enumerate() {
        by_name
            .entry(s.name.to_ascii_lowercase())
            .or_default()
            .push(i);
        // Two workloads behind one Service share its name: the first one answers to it.
        by_full
            .entry((
                s.namespace.to_ascii_lowercase(),
                s.name.to_ascii_lowercase(),
            ))
            .or_insert(i);
    }
    let lookup = |caller: usize, ns: &str, name: &str| -> Result<usize, Vec<usize>> {
        let name = name.to_ascii_lowercase();
        if !ns.is_empty() {
            let ns = ns.to_ascii_lowercase();
            // Kubernetes writes "no namespace" as "default"; both mean the project's.
            let key = if ns == "default" { String::new() } else { ns };
            return by_full
                .get(&(key.clone(), name.clone()))
                .or_else(|| {
                    (key.is_empty())
                        .then(|| by_full.get(&("default".to_string(), name.clone())))
                        .flatten()
                })
                .copied()
                .ok_or_else(Vec::new);
        }
        let own = draft.services[caller].namespace.to_ascii_lowercase();
        if let Some(i) = by_full.get(&(own, name.clone())) {
            return Ok(*i);
        }
        match by_name.get(&name).map(Vec::as_slice) {
            Some([one]) => Ok(*one),
            Some(many) => Err(many.to_vec()),
            None => Err(Vec::new()),
        }
    };

    // Resolve every reference to (callee index, port) or report it.
    let mut edges: Vec<(usize, usize, Option<u16>, Prov)> = Vec::new();
    for (caller, s) in draft.services.iter().enumerate() {
        for r in &s.refs {
            let found = match &r.target {
                Target::Service { namespace, name } => lookup(caller, namespace, name),
                Target::Host(host) | Target::SecretHost(host) => {
                    // The host as a service name first (the caller's namespace wins), then
                    // the other names services answer to.
                    let direct = kube_host(host).map(|(name, ns)| lookup(caller, ns, name));
                    match (direct, draft.aliases.get(host)) {
                        (Some(Ok(i)), _) => Ok(i),
                        // Several services of that name: an alias must not pick one silently.
                        (Some(Err(many)), _) if many.len() > 1 => Err(many),
                        (_, Some((ns, name))) => lookup(caller, ns, name),
                        (Some(other), None) => other,
                        (None, None) => Err(Vec::new()),
                    }
                }
            };
            match found {
                Ok(callee) if callee == caller => {}
                Ok(callee) => edges.push((caller, callee, r.port, r.prov.clone())),
                Err(many) if many.len() > 1 => {
                    let mut list: Vec<String> = many
                        .iter()
                        .map(|i| format!("{}/{}", services[*i].namespace, services[*i].name))
                        .collect();
                    list.sort();
                    unknowns.push(
                        format!(
                            "{}: {} is ambiguous ({}); add the call by hand",
                            s.name,
                            describe(&r.target),
                            list.join(", ")
                        ) + &format!(" [{}]", r.prov.at),
                    );
                }
                Err(_) => {
                    let text = match &r.target {
                        Target::SecretHost(_) => format!(
                            "{}: a host in {} matches no service; if it is outside the cluster, add an `egress` entry [{}]",
                            s.name, r.prov.what, r.prov.at
                        ),
                        Target::Host(h) if hosts_is_local(h) => format!(
                            "{}: {} is a local address, not a call [{}]",
                            s.name, h, r.prov.at
                        ),
                        Target::Host(h) => format!(
                            "{}: host {}{} matches no service; if it is outside the cluster, add an `egress` entry [{}]",
                            s.name,
                            h,
                            r.port.map(|p| format!(":{p}")).unwrap_or_default(),
                            r.prov.at
                        ),
                        Target::Service { .. } => format!(
                            "{}: {} is not among the imported services [{}]",
                            s.name,
                            describe(&r.target),
                            r.prov.at
                        ),
                    };
                    unknowns.push(text);
                }
            }
        }
    }

    // Ports: as read, then inferred for callees that declare none.
    // The calls each service receives, found once: scanning every call for every service made
    // large imports quadratic.
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); services.len()];
    for (e, (_, callee, _, _)) in edges.iter().enumerate() {
        incoming[*callee].push(e);
    }
    for (i, out) in services.iter_mut().enumerate() {
        let mut ports: Vec<PortDraft> = Vec::new();
        for p in &out.draft.ports {
            if !ports
                .iter()
                .any(|q| q.port == p.port && q.protocol == p.protocol)
            {
                ports.push(p.clone());
            }
        }
        if ports.is_empty() {
            let mut named: BTreeMap<u16, Prov> = BTreeMap::new();
            for (_, _, port, prov) in incoming[i].iter().map(|&e| &edges[e]) {
                if let Some(p) = port {
                    named.entry(*p).or_insert_with(|| Prov {
                        guess: true,
                        what: format!("a caller connects to port {p}"),
                        ..prov.clone()
                    });
                }
            }
            for (p, prov) in named {
                ports.push(PortDraft {
                    name: None,
                    port: p,
                    target: p,
                    protocol: Protocol::Tcp,
                    app_protocol: None,
                    prov,
                });
            }
        }
        let called = !incoming[i].is_empty();
        if ports.is_empty()
            && let Some((image, prov)) = &out.draft.image
            && let Some((known, p, port_name, app_protocol)) = well_known_port(image)
        {
            ports.push(PortDraft {
                name: Some(port_name.to_string()),
                port: p,
                target: p,
                protocol: Protocol::Tcp,
                app_protocol: app_protocol.map(String::from),
                prov: Prov {
                    guess: true,
                    what: format!("the usual port of the {known} image"),
                    ..prov.clone()
                },
            });
        }
        // A well-known image's own port speaks its protocol: say so where the convention can.
        if let Some((image, _)) = &out.draft.image
            && let Some((_, p, _, Some(app))) = well_known_port(image)
        {
            for port in ports.iter_mut().filter(|q| {
                q.target == p && q.protocol == Protocol::Tcp && q.app_protocol.is_none()
            }) {
                port.app_protocol = Some(app.to_string());
            }
        }
        if ports.is_empty() {
            let why = if called {
                "is called but declares no ports; add `ports` and the calls listed under it"
            } else {
                "declares no ports (a worker or a client?)"
            };
            unknowns.push(format!(
                "{}: {} [{}]",
                out.draft.name, why, out.draft.prov.at
            ));
        }
        ports.sort_by_key(|p| (p.port, p.protocol));
        let mut names_taken = BTreeSet::new();
        out.ports = ports
            .into_iter()
            .map(|p| {
                let wanted = p.name.clone().map(|n| n.to_ascii_lowercase());
                let name = match &wanted {
                    Some(n) if names::port_name(n).is_ok() && !names_taken.contains(n) => n.clone(),
                    _ => {
                        let base =
                            format!("{}-{}", p.protocol.as_str().to_ascii_lowercase(), p.port);
                        let mut name = base.clone();
                        let mut k = 2;
                        while names_taken.contains(&name) {
                            name = format!("p{}-{k}", p.port);
                            k += 1;
                        }
                        name
                    }
                };
                names_taken.insert(name.clone());
                OutPort {
                    original: p.name.clone().filter(|n| *n != name),
                    name,
                    draft: p,
                }
            })
            .collect();
    }

    // What the workspace would refuse is set aside and listed rather than written.
    for s in &mut services {
        let name = s.draft.name.clone();
        if let Some((image, prov)) = &s.draft.image
            && let Err(why) = names::image(image)
        {
            unknowns.push(format!(
                "{name}: image {image:?} is not a reference the workspace accepts ({why}); not written [{}]",
                prov.at
            ));
            s.draft.image = None;
        }
        if let Some(((size, path), prov)) = &s.draft.stateful {
            let size_ok = size
                .parse::<Quantity>()
                .is_ok_and(|q| q.nanos() > 0 && !q.is_milli());
            if !size_ok || s.name.len() > STATEFUL_NAME_MAX {
                unknowns.push(format!(
                    "{name}: a StatefulSet, imported as a deployment: {} [{}]",
                    if size_ok {
                        "its name is too long for a StatefulSet's pod labels"
                    } else {
                        "its volume size is not a quantity"
                    },
                    prov.at
                ));
                s.draft.stateful = None;
            } else if let Some(p) = path
                && !(p.starts_with('/')
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')))
            {
                unknowns.push(format!(
                    "{name}: volume mounted at {p:?}, which the workspace cannot hold; the default path is written [{}]",
                    prov.at
                ));
                s.draft.stateful = Some(((size.clone(), None), prov.clone()));
            }
        }
        if s.ports.is_empty()
            && let Some((e, prov)) = &s.draft.expose
            && *e != Expose::Cluster
        {
            unknowns.push(format!(
                "{name}: exposed as {} but without a port the import could read; written as cluster [{}]",
                e.as_str(),
                prov.at
            ));
            s.draft.expose = None;
        }
        if let Some((n, prov)) = &s.draft.replicas
            && *n > 10_000
        {
            unknowns.push(format!(
                "{name}: {n} replicas is more than the workspace allows; left at the default [{}]",
                prov.at
            ));
            s.draft.replicas = None;
        }
        let d = &mut s.draft;
        for (what, req, lim) in [
            ("cpu", &mut d.requests.cpu, &d.limits.cpu),
            ("memory", &mut d.requests.memory, &d.limits.memory),
        ] {
            let (Some((r, prov)), Some((l, _))) = (req.as_ref(), lim.as_ref()) else {
                continue;
            };
            if let (Ok(rq), Ok(lq)) = (r.parse::<Quantity>(), l.parse::<Quantity>())
                && rq > lq
            {
                unknowns.push(format!(
                    "{name}: {what} request {r} is above its limit {l}; the request is left out [{}]",
                    prov.at
                ));
                *req = None;
            }
        }
    }

    // Calls, merged per (caller, callee).
    let mut grouped: BTreeMap<(usize, usize), Vec<PortRef>> = BTreeMap::new();
    for (caller, callee, port, prov) in edges {
        grouped
            .entry((caller, callee))
            .or_default()
            .push((port, prov));
    }
    for ((caller, callee), refs) in grouped {
        let to = format!("{}/{}", services[callee].namespace, services[callee].name);
        let mut provs: Vec<Prov> = refs.iter().map(|(_, p)| p.clone()).collect();
        // Observations first: the comment is cut at its length limit, and whether the static
        // import found an observed call too must survive however long the paths before it.
        provs.sort_by(|a, b| b.observed.cmp(&a.observed).then_with(|| a.cmp(b)));
        provs.dedup();
        if services[callee].ports.is_empty() {
            let text = format!(
                "calls {to} ({}), which has no ports",
                provs
                    .iter()
                    .map(|p| p.at.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            services[caller].blocked.push(text);
            continue;
        }
        let mut restricted: BTreeSet<String> = BTreeSet::new();
        for (port, prov) in &refs {
            let Some(p) = port else { continue };
            let callee_ports = &services[callee].ports;
            match callee_ports
                .iter()
                .find(|q| q.draft.port == *p)
                .or_else(|| callee_ports.iter().find(|q| q.draft.target == *p))
            {
                Some(q) => {
                    restricted.insert(q.name.clone());
                }
                None => unknowns.push(format!(
                    "{}: names port {p} of {to}, which does not declare it; the call allows all of its ports [{}]",
                    services[caller].draft.name, prov.at
                )),
            }
        }
        // A call limited to the callee's only port reads better as a bare reference.
        let ports = if restricted.len() == services[callee].ports.len() {
            Vec::new()
        } else {
            restricted.into_iter().collect()
        };
        let callee_ports: Vec<u16> = services[callee]
            .ports
            .iter()
            .map(|p| p.draft.port)
            .collect();
        let caller_ports: Vec<u16> = services[caller]
            .ports
            .iter()
            .map(|p| p.draft.port)
            .collect();
        // Whatever a collector calls is telemetry (metrics scraping, export); a call into a
        // broker or a collector is asynchronous or telemetry.
        let kind = role(&services[caller].draft, &caller_ports)
            .filter(|(k, _)| *k == CallKind::Telemetry)
            .map(|(k, why)| (k, format!("{why}, which scrapes or collects from it")))
            .or_else(|| role(&services[callee].draft, &callee_ports));
        services[caller].calls.push(OutCall {
            to,
            ports,
            kind,
            provs,
        });
    }
    for s in &mut services {
        s.calls.sort_by(|a, b| a.to.cmp(&b.to));
        for b in &s.blocked {
            unknowns.push(format!("{}: {b}", s.draft.name));
        }
        for e in &s.draft.egress {
            unknowns.push(format!(
                "{}: needs egress to {} (no address known) [{}]",
                s.draft.name, e.reason, e.prov.at
            ));
        }
    }
    services.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    if services.len() > 1 && services.iter().all(|s| s.calls.is_empty()) {
        unknowns.push(
            "calls: the input shows no call between services (they may be in the code); the criteria that count calls stay unanswered until calls are declared (`calls-known = false`)".into(),
        );
    }
    let needs_internal_cidrs = services
        .iter()
        .any(|s| matches!(s.draft.expose, Some((Expose::Internal, _))));
    if needs_internal_cidrs {
        unknowns.push(
            "internal-cidrs: the company network is not in the input; a placeholder 10.0.0.0/8 is written".into(),
        );
    }
    let mut seen = BTreeSet::new();
    unknowns.retain(|u| seen.insert(u.clone()));
    Resolved {
        sources: draft.sources,
        kind: draft.kind,
        project: (project, project_prov),
        platform: draft.platform,
        needs_internal_cidrs,
        namespaces,
        services,
        unknowns,
        notes,
        answers: Vec::new(),
    }
}

fn describe(t: &Target) -> String {
    match t {
        Target::Service { namespace, name } if namespace.is_empty() => format!("\"{name}\""),
        Target::Service { namespace, name } => format!("\"{namespace}/{name}\""),
        Target::Host(h) => format!("host {h}"),
        Target::SecretHost(_) => "a host in a Secret".to_string(),
    }
}

fn hosts_is_local(h: &str) -> bool {
    super::hosts::is_local(h)
}

/// Splits a Kubernetes service host (`name`, `name.ns`, `name.ns.svc`,
/// `name.ns.svc.cluster.local`) into name and namespace (empty when absent). Other dotted
/// names are outside the cluster.
pub fn kube_host(host: &str) -> Option<(&str, &str)> {
    let host = host
        .strip_suffix(".svc.cluster.local")
        .or_else(|| host.strip_suffix(".svc"))
        .unwrap_or(host);
    let mut parts = host.split('.');
    let name = parts.next()?;
    match (parts.next(), parts.next()) {
        (None, _) => Some((name, "")),
        (Some(ns), None) => Some((name, ns)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_hosts() {
        assert_eq!(kube_host("cart"), Some(("cart", "")));
        assert_eq!(kube_host("cart.shop"), Some(("cart", "shop")));
        assert_eq!(kube_host("cart.shop.svc"), Some(("cart", "shop")));
        assert_eq!(
            kube_host("cart.shop.svc.cluster.local"),
            Some(("cart", "shop"))
        );
        assert_eq!(kube_host("api.example.com"), None);
    }

    #[test]
    fn labels_are_valid_and_unique() {
        let mut taken = BTreeSet::new();
        assert_eq!(label("Cart_Service", true, &mut taken, "x"), "cart-service");
        assert_eq!(
            label("cart.service", true, &mut taken, "x"),
            "cart-service-2"
        );
        assert_eq!(label("1st", true, &mut taken, "x"), "svc-1st");
        assert_eq!(
            label("kube-system", false, &mut taken, "x"),
            "imported-kube-system"
        );
        assert_eq!(label("日本", false, &mut taken, "x"), "ri-ben");
        assert_eq!(label("!!!", false, &mut taken, "x"), "x");
        let long = label(&"a".repeat(100), true, &mut taken, "x");
        assert!(names::dns1035_label(&long).is_ok());
        let again = label(&"a".repeat(100), true, &mut taken, "x");
        assert!(names::dns1035_label(&again).is_ok() && again != long);
    }

    #[test]
    fn well_known_ports() {
        assert_eq!(
            well_known_port("redis:alpine"),
            Some(("redis", 6379, "tcp-redis", Some("redis")))
        );
        assert_eq!(
            well_known_port("docker.io/library/postgres:15-alpine"),
            Some(("postgres", 5432, "tcp-postgres", Some("postgresql")))
        );
        // Kafka's protocol has no IANA service name: no appProtocol is claimed.
        assert_eq!(
            well_known_port("apache/kafka:3.7.0"),
            Some(("kafka", 9092, "tcp-kafka", None))
        );
        assert_eq!(well_known_port("example/redis-exporter"), None);
    }
}
