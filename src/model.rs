//! Model stage: the validated workspace. Every value here has passed validation: names follow
//! the Kubernetes rules, call targets exist, quantities and CIDRs are parsed. Later stages trust
//! these types and never re-check them.
//!
//! Collections are sorted (namespaces by name, services by namespace then name, calls by
//! target) so that everything rendered from the model is deterministic whatever the order of
//! the workspace file.

use ipnet::IpNet;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

use crate::diagnostic::Source;
use crate::quantity::Quantity;
use crate::span::Span;

pub mod network;
pub use network::{Dns, DnsProfile, DnsRule, DnsTarget, Gateway, PodLabels, Route, Sources};

/// The workspace schema version this build reads and writes.
pub const SCHEMA_VERSION: i64 = 1;

/// A whole validated workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The file text, for line numbers in reports and generated comments.
    pub source: Source,
    /// The `[project]` table.
    pub project: Project,
    /// Explicit answers to criteria, by criterion id.
    pub answers: BTreeMap<String, Answer>,
    /// Every namespace: declared ones and those named only by services. Sorted by name.
    pub namespaces: BTreeMap<String, Namespace>,
    /// Every service, sorted by id.
    pub services: Vec<Service>,
}

impl Workspace {
    /// The service with this id.
    pub fn service(&self, id: &ServiceId) -> Option<&Service> {
        self.services
            .binary_search_by(|s| s.id.cmp(id))
            .ok()
            .map(|i| &self.services[i])
    }

    /// The services of one namespace, in name order.
    pub fn services_in<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a Service> {
        let start = self
            .services
            .partition_point(|s| s.id.namespace.as_str() < namespace);
        self.services[start..]
            .iter()
            .take_while(move |s| s.id.namespace == namespace)
    }

    /// 1-based line of a byte offset in the workspace file.
    pub fn line_of(&self, span: Span) -> usize {
        self.source.line_col(span.start).0
    }
}

/// The `[project]` table.
#[derive(Debug, Clone)]
pub struct Project {
    /// DNS-1123 label.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Where the cluster runs; selects load balancer annotations.
    pub platform: Platform,
    /// Where traffic to `expose = "internal"` services comes from.
    pub internal_cidrs: Vec<IpNet>,
    /// People who own the decision, for the decision record.
    pub decision_makers: Vec<String>,
    /// Where pods send DNS queries: `dns`, else the platform's default.
    pub dns: Dns,
    /// The shared HTTP gateway for `expose = "gateway"`, when declared.
    pub gateway: Option<Gateway>,
    /// The cluster's DNS domain, for the service addresses handed to callers.
    pub cluster_domain: String,
    /// False when the calls between services are not known yet (an import that saw none):
    /// without any declared call, the criteria that count calls stay unanswered instead of
    /// "not met".
    pub calls_known: bool,
}

/// Where the cluster runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    /// Amazon EKS.
    Eks,
    /// Google GKE.
    Gke,
    /// Azure AKS.
    Aks,
    /// Any other conformant cluster.
    Generic,
}

impl Platform {
    /// Every platform, in the order the questionnaire offers them.
    pub const ALL: [Platform; 4] = [
        Platform::Eks,
        Platform::Gke,
        Platform::Aks,
        Platform::Generic,
    ];

    /// The keyword used in the workspace file.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Eks => "eks",
            Platform::Gke => "gke",
            Platform::Aks => "aks",
            Platform::Generic => "generic",
        }
    }

    /// A human name.
    pub fn title(self) -> &'static str {
        match self {
            Platform::Eks => "Amazon EKS",
            Platform::Gke => "Google Kubernetes Engine",
            Platform::Aks => "Azure Kubernetes Service",
            Platform::Generic => "a conformant Kubernetes cluster",
        }
    }
}

/// An explicit answer to a criterion.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Yes or no.
    pub value: bool,
    /// Where it is written.
    pub span: Span,
}

/// A business domain, deployed as one Kubernetes namespace.
#[derive(Debug, Clone)]
pub struct Namespace {
    /// DNS-1123 label, not reserved.
    pub name: String,
    /// Owning team, if known.
    pub team: Option<String>,
    /// Free text.
    pub description: String,
    /// Pod Security Standard level enforced on the namespace.
    pub pod_security: PodSecurity,
    /// Files of the user in the namespace folder, relative to it, sorted: the generated
    /// kustomization lists them; `generate` never writes, checks or removes them.
    pub user_resources: Vec<UserResource>,
    /// Where it is declared; `None` when only services name it.
    pub span: Option<Span>,
}

/// Pod Security Standard levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PodSecurity {
    /// The hardened level; the default.
    Restricted,
    /// Minimal restrictions against known privilege escalations.
    Baseline,
    /// Unrestricted.
    Privileged,
}

impl PodSecurity {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            PodSecurity::Restricted => "restricted",
            PodSecurity::Baseline => "baseline",
            PodSecurity::Privileged => "privileged",
        }
    }
}

/// `namespace/name`: a service's identity across the workspace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceId {
    /// The namespace (business domain).
    pub namespace: String,
    /// The service name, a DNS-1035 label.
    pub name: String,
}

impl ServiceId {
    /// Builds an id from its parts.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ServiceId {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

impl Serialize for ServiceId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One service: a Deployment and its Service.
#[derive(Debug, Clone)]
pub struct Service {
    /// Namespace and name.
    pub id: ServiceId,
    /// Owning team: the service's own, else its namespace's.
    pub team: Option<String>,
    /// Free text.
    pub description: String,
    /// Container image reference; `None` leaves a placeholder in generated stubs.
    pub image: Option<String>,
    /// Desired replicas.
    pub replicas: u32,
    /// Ports, sorted by number then protocol; names are unique.
    pub ports: Vec<Port>,
    /// How far the service is reachable.
    pub expose: Expose,
    /// Who may reach an `internal` or `public` service: `sources`, else `internal-cidrs` for
    /// internal and every address for public; `None` for the other exposures. An `internal` or
    /// `public` service without sources (validation never builds one) is rendered closed: no
    /// load balancer and no ingress from addresses.
    pub sources: Option<Sources>,
    /// The HTTPRoute of an `expose = "gateway"` service; `None` for the other exposures.
    pub route: Option<Route>,
    /// Outgoing calls, sorted by target; at most one per target.
    pub calls: Vec<Call>,
    /// Allowed traffic to addresses outside the cluster.
    pub egress: Vec<Egress>,
    /// CPU and memory.
    pub resources: Resources,
    /// What kind of workload runs it, and its storage.
    pub workload: Workload,
    /// How Kubernetes checks that it is ready and alive; `None` leaves the probes out.
    pub health: Option<Health>,
    /// Absolute paths that get a writable, size-limited `emptyDir` besides `/tmp`; sorted.
    pub writable: Vec<String>,
    /// The start of the service's table, through its name.
    pub span: Span,
    /// Where each key that has no model value of its own is written; `None` when defaulted.
    pub keys: ServiceKeys,
}

/// Where a service's scalar keys are written, so that findings and generated comments point at
/// the key itself rather than at the service.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceKeys {
    /// `image = ...`
    pub image: Option<Span>,
    /// `replicas = ...`
    pub replicas: Option<Span>,
    /// `ports = [...]` or `port = N`.
    pub ports: Option<Span>,
    /// `expose = ...`
    pub expose: Option<Span>,
    /// `[services.resources]`
    pub resources: Option<Span>,
    /// `sources = [...]`
    pub sources: Option<Span>,
}

impl Service {
    /// The port with this name.
    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name == name)
    }
}

/// Transport protocols of a port.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
pub enum Protocol {
    /// TCP, the default.
    #[serde(rename = "TCP")]
    Tcp,
    /// UDP.
    #[serde(rename = "UDP")]
    Udp,
    /// SCTP.
    #[serde(rename = "SCTP")]
    Sctp,
}

impl Protocol {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// A port a service listens on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// IANA service name, unique in the service; defaulted to `<protocol>-<port>`.
    pub name: String,
    /// The Service port clients connect to.
    pub port: u16,
    /// The container port behind it; what NetworkPolicies must name.
    pub target: u16,
    /// Transport protocol.
    pub protocol: Protocol,
    /// The application protocol the Service port declares (`appProtocol`): an IANA service
    /// name or a prefixed name, a qualified name as Kubernetes validates it.
    pub app_protocol: Option<String>,
    /// Where the port is written: its table, or the `port = N` shorthand.
    pub span: Span,
}

/// Reachability of a service from outside its callers. Ordered from the narrowest to the
/// widest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Expose {
    /// Only declared callers inside the cluster (ClusterIP).
    Cluster,
    /// Through the project's shared HTTP gateway (an HTTPRoute to a ClusterIP Service).
    Gateway,
    /// A private load balancer reachable from `internal-cidrs`.
    Internal,
    /// A public load balancer reachable from anywhere.
    Public,
}

impl Expose {
    /// The keyword used in the workspace file.
    pub fn as_str(self) -> &'static str {
        match self {
            Expose::Cluster => "cluster",
            Expose::Gateway => "gateway",
            Expose::Internal => "internal",
            Expose::Public => "public",
        }
    }
}

/// A declared call from one service to another.
#[derive(Debug, Clone)]
pub struct Call {
    /// The callee.
    pub to: ServiceId,
    /// Which of the callee's ports the call may use.
    pub ports: CallPorts,
    /// Whether the caller waits for the answer.
    pub kind: CallKind,
    /// Where the call is written.
    pub span: Span,
}

/// How a caller depends on its callee. NetworkPolicies allow every kind alike; the graph review
/// counts only synchronous calls in cycles, chains and fan-in/fan-out, since only there does
/// the caller wait for the callee.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum CallKind {
    /// A request whose answer the caller waits for (HTTP, gRPC, a database query): the default.
    #[default]
    Sync,
    /// A message handed to a broker (Kafka, RabbitMQ, NATS, a queue): the caller does not wait
    /// for the consumer.
    Async,
    /// Traces, metrics or logs sent to a collector: nothing waits on them.
    Telemetry,
}

impl CallKind {
    /// The keyword used in the workspace file.
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Sync => "sync",
            CallKind::Async => "async",
            CallKind::Telemetry => "telemetry",
        }
    }
}

/// The callee ports a call may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallPorts {
    /// Every port the callee has: the bare reference `"ns/name"`.
    All,
    /// Only these port names, sorted and unique, each a port of the callee: the table form
    /// `{ to = "ns/name", ports = [...] }`.
    Only(Vec<String>),
}

impl Call {
    /// The callee's ports this call may use. `callee` must be the service named by `to`.
    pub fn ports_of<'a>(&'a self, callee: &'a Service) -> impl Iterator<Item = &'a Port> + 'a {
        callee.ports.iter().filter(move |p| match &self.ports {
            CallPorts::All => true,
            CallPorts::Only(names) => names.binary_search(&p.name).is_ok(),
        })
    }
}

/// Allowed egress to an address range outside the cluster.
#[derive(Debug, Clone)]
pub struct Egress {
    /// Canonical CIDR.
    pub cidr: IpNet,
    /// Destination ports; empty means every port.
    pub ports: Vec<u16>,
    /// Protocol of the ports.
    pub protocol: Protocol,
    /// Why the service needs it.
    pub reason: String,
    /// Where it is written.
    pub span: Span,
}

/// CPU and memory requests and limits, each optional.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    /// Guaranteed resources.
    pub requests: ResourcePair,
    /// Hard caps.
    pub limits: ResourcePair,
}

/// A CPU and a memory quantity.
#[derive(Debug, Clone, Default)]
pub struct ResourcePair {
    /// CPU in cores (`250m`, `0.5`).
    pub cpu: Option<Quantity>,
    /// Memory in bytes (`256Mi`).
    pub memory: Option<Quantity>,
    /// Where `cpu` is written.
    pub cpu_span: Option<Span>,
    /// Where `memory` is written.
    pub memory_span: Option<Span>,
}

/// The default cluster DNS domain: `<service>.<namespace>.svc.cluster.local`.
pub const DEFAULT_CLUSTER_DOMAIN: &str = "cluster.local";

/// A file of the user that a namespace's kustomization includes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UserResource {
    /// Relative to the namespace folder: plain components, no `..`, ends in `.yaml` or `.yml`.
    pub path: String,
    /// Where it is written.
    pub span: Span,
}

/// The kind of workload a service runs as.
#[derive(Debug, Clone)]
pub enum Workload {
    /// Interchangeable pods: a Deployment.
    Deployment,
    /// Pods with a stable identity and a volume each: a StatefulSet with a headless Service.
    Stateful(Storage),
}

/// The persistent volume each pod of a stateful service claims.
#[derive(Debug, Clone)]
pub struct Storage {
    /// The requested size (`10Gi`).
    pub size: Quantity,
    /// Where the volume is mounted in the container: an absolute path.
    pub path: String,
}

/// Where a stateful service's volume is mounted unless `storage-path` says otherwise.
pub const DEFAULT_STORAGE_PATH: &str = "/data";

/// Suffix of a stateful service's headless Service.
pub const HEADLESS_SUFFIX: &str = "-headless";

/// The probe a service answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// How the kubelet asks.
    pub check: HealthCheck,
    /// The port name, as written (a port of the service).
    pub port_name: String,
    /// The container (target) port the kubelet connects to.
    pub port: u16,
    /// Where `health` is written.
    pub span: Span,
}

/// How the kubelet checks a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthCheck {
    /// An HTTP GET of this path; 200..399 is healthy.
    Http {
        /// Absolute path, printable ASCII.
        path: String,
    },
    /// A TCP connection that opens.
    Tcp,
    /// The gRPC health checking protocol.
    Grpc,
}

impl HealthCheck {
    /// The keyword used in the workspace file.
    pub fn as_str(&self) -> &'static str {
        match self {
            HealthCheck::Http { .. } => "http",
            HealthCheck::Tcp => "tcp",
            HealthCheck::Grpc => "grpc",
        }
    }
}

impl Service {
    /// The container ports: one per distinct (target, protocol), named after the first
    /// Service port (in port order) that targets it. Two Service ports may share one container
    /// port, which the container must list only once.
    pub fn container_ports(&self) -> Vec<&Port> {
        let mut out: Vec<&Port> = Vec::with_capacity(self.ports.len());
        for port in &self.ports {
            if !out
                .iter()
                .any(|p| p.target == port.target && p.protocol == port.protocol)
            {
                out.push(port);
            }
        }
        out
    }

    /// The name of the container port a Service port forwards to.
    pub fn container_port_name<'a>(&'a self, port: &'a Port) -> &'a str {
        self.ports
            .iter()
            .find(|p| p.target == port.target && p.protocol == port.protocol)
            .map_or(port.name.as_str(), |p| p.name.as_str())
    }

    /// True for a StatefulSet.
    pub fn is_stateful(&self) -> bool {
        matches!(self.workload, Workload::Stateful(_))
    }
}
