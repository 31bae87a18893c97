//! Render + write stage for the workspace file itself: turns a draft (from the questionnaire or
//! the starter) into readable, commented TOML. The output is always parsed back and validated
//! before anything is written.

use askama::Template;

use crate::filters;
use crate::model::{CallKind, Expose, HealthCheck, Platform};
use crate::policy::Policy;

/// A workspace under construction, in the shape the file will have.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Project name.
    pub name: String,
    /// Project description.
    pub description: String,
    /// Target platform.
    pub platform: Platform,
    /// CIDRs that reach internal services.
    pub internal_cidrs: Vec<String>,
    /// Explicit criteria answers, by id, in policy order.
    pub answers: Vec<(String, bool)>,
    /// Declared namespaces.
    pub namespaces: Vec<DraftNamespace>,
    /// Services.
    pub services: Vec<DraftService>,
}

/// A namespace in a draft.
#[derive(Debug, Clone)]
pub struct DraftNamespace {
    /// Name.
    pub name: String,
    /// Owning team, may be empty.
    pub team: String,
    /// Free text.
    pub description: String,
}

/// A service in a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftService {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Image reference; `None` when not known yet, written as the placeholder.
    pub image: Option<String>,
    /// Replicas.
    pub replicas: u32,
    /// Its one port, when the service takes requests.
    pub port: Option<DraftPort>,
    /// Exposure.
    pub expose: Expose,
    /// Calls: bare service names while `init` asks, `namespace/name` when written.
    pub calls: Vec<DraftCall>,
    /// Traffic allowed to addresses outside the cluster.
    pub egress: Vec<DraftEgress>,
    /// CPU and memory requests and limits.
    pub resources: DraftResources,
    /// The volume of each pod, for a stateful service (a StatefulSet).
    pub storage: Option<DraftStorage>,
    /// How Kubernetes checks it, on its port.
    pub health: Option<HealthCheck>,
    /// Folders it writes to besides `/tmp`, sorted.
    pub writable: Vec<String>,
}

impl DraftService {
    /// The `health = ...` value, on the service's port; empty without one.
    pub fn health_toml(&self) -> String {
        let (Some(check), Some(port)) = (&self.health, &self.port) else {
            return String::new();
        };
        let port = toml::Value::String(port.name.clone());
        match check {
            HealthCheck::Http { path } => {
                format!(
                    "{{ path = {}, port = {port} }}",
                    toml::Value::String(path.clone())
                )
            }
            other => format!("{{ type = \"{}\", port = {port} }}", other.as_str()),
        }
    }
}

/// A call in a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftCall {
    /// The callee.
    pub to: String,
    /// Whether the caller waits for an answer.
    pub kind: CallKind,
}

impl DraftCall {
    /// A call the caller waits on.
    pub fn sync(to: &str) -> DraftCall {
        DraftCall {
            to: to.to_string(),
            kind: CallKind::Sync,
        }
    }
}

impl DraftService {
    /// The `calls = [...]` value: a bare reference for a synchronous call, a table naming the
    /// kind for the others.
    pub fn calls_toml(&self) -> String {
        let entries: Vec<String> = self
            .calls
            .iter()
            .map(|c| {
                let to = toml::Value::String(c.to.clone());
                match c.kind {
                    CallKind::Sync => to.to_string(),
                    kind => format!("{{ to = {to}, kind = \"{}\" }}", kind.as_str()),
                }
            })
            .collect();
        format!("[{}]", entries.join(", "))
    }
}

/// The one port of a service in a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftPort {
    /// Its name (an IANA service name): what health checks and call restrictions refer to.
    pub name: String,
    /// The Service port callers use.
    pub port: u16,
    /// The container port.
    pub target: u16,
}

/// The volume each pod of a stateful service claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftStorage {
    /// Its size (`10Gi`).
    pub size: String,
    /// Where it is mounted.
    pub path: String,
}

/// An egress entry in a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftEgress {
    /// Destination network, normalised.
    pub cidr: String,
    /// Destination ports; empty for all.
    pub ports: Vec<u16>,
    /// Why the traffic is needed.
    pub reason: String,
    /// A line written above the entry (the host name the addresses stand for); one line of
    /// text the questions built, never typed as is.
    pub comment: Option<String>,
}

impl DraftEgress {
    /// The `ports = [...], ` part of the entry; empty for every port, which the workspace
    /// writes by leaving `ports` out (an empty list is refused as ambiguous).
    pub fn ports_toml(&self) -> String {
        if self.ports.is_empty() {
            return String::new();
        }
        let numbers: Vec<String> = self.ports.iter().map(u16::to_string).collect();
        format!("ports = [{}], ", numbers.join(", "))
    }
}

/// Requests and limits, as Kubernetes quantities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftResources {
    /// CPU request.
    pub cpu_request: String,
    /// Memory request.
    pub memory_request: String,
    /// CPU limit.
    pub cpu_limit: String,
    /// Memory limit.
    pub memory_limit: String,
}

impl DraftResources {
    /// True when all four values are set (a workspace may leave some out).
    pub fn is_complete(&self) -> bool {
        [
            &self.cpu_request,
            &self.memory_request,
            &self.cpu_limit,
            &self.memory_limit,
        ]
        .iter()
        .all(|v| !v.is_empty())
    }

    /// Requests and limits from four quantities, in that order.
    pub fn new(
        cpu_request: &str,
        memory_request: &str,
        cpu_limit: &str,
        memory_limit: &str,
    ) -> Self {
        DraftResources {
            cpu_request: cpu_request.to_string(),
            memory_request: memory_request.to_string(),
            cpu_limit: cpu_limit.to_string(),
            memory_limit: memory_limit.to_string(),
        }
    }
}

/// The comment written above a placeholder image. `init`'s edit mode removes exactly these
/// lines once the user names the real image, so it lives here rather than in the template.
pub const PLACEHOLDER_COMMENT: &str = "\
# Not known yet: a placeholder under the reserved .invalid domain, which never resolves, so
# nothing can be pulled by mistake. `k8s-advisor check` reports it until you name the image.";

#[derive(Template)]
#[template(path = "k8s-advisor.toml")]
struct WorkspaceFile<'a> {
    draft: &'a Draft,
    platforms: String,
    open: Vec<OpenCriterion<'a>>,
}

/// A criterion the draft does not answer, shown as a commented-out line to fill in.
struct OpenCriterion<'a> {
    id: &'a str,
    question: &'a str,
    from_model: bool,
}

/// Renders a draft as commented TOML; criteria of `policy` the draft leaves unanswered appear as
/// commented-out answers.
pub fn render(draft: &Draft, policy: &Policy) -> String {
    let open = policy
        .criteria
        .iter()
        .filter(|c| !draft.answers.iter().any(|(id, _)| *id == c.id))
        .map(|c| OpenCriterion {
            id: &c.id,
            question: &c.question,
            from_model: c.evidence.is_some(),
        })
        .collect();
    let platforms = Platform::ALL
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(" | ");
    let mut text = WorkspaceFile {
        draft,
        platforms,
        open,
    }
    .render()
    .expect("rendering into a String cannot fail");
    // A text file ends with a line break; the template's last line has none.
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The workspace `init --non-interactive` writes: small, valid, and commented so that a user can
/// edit it into shape.
pub fn starter(project: &str) -> Draft {
    let resources = DraftResources::new("250m", "256Mi", "500m", "512Mi");
    Draft {
        name: project.to_string(),
        description: "Describe the product in one sentence".to_string(),
        platform: Platform::Generic,
        internal_cidrs: vec!["10.0.0.0/8".to_string()],
        answers: Vec::new(),
        namespaces: vec![
            DraftNamespace {
                name: "storefront".to_string(),
                team: "web".to_string(),
                description: "What customers see".to_string(),
            },
            DraftNamespace {
                name: "orders".to_string(),
                team: "checkout".to_string(),
                description: "Taking and tracking orders".to_string(),
            },
        ],
        services: vec![
            DraftService {
                name: "web".to_string(),
                namespace: "storefront".to_string(),
                image: None,
                replicas: 2,
                port: Some(DraftPort {
                    name: "http".to_string(),
                    port: 80,
                    target: 8080,
                }),
                expose: Expose::Public,
                calls: vec![DraftCall::sync("orders/orders-api")],
                egress: Vec::new(),
                resources: resources.clone(),
                storage: None,
                health: None,
                writable: Vec::new(),
            },
            DraftService {
                name: "orders-api".to_string(),
                namespace: "orders".to_string(),
                image: None,
                replicas: 2,
                port: Some(DraftPort {
                    name: "http".to_string(),
                    port: 80,
                    target: 8080,
                }),
                expose: Expose::Cluster,
                calls: Vec::new(),
                egress: Vec::new(),
                resources,
                storage: None,
                health: None,
                writable: Vec::new(),
            },
        ],
    }
}
