//! Render + write stage for the workspace file itself: turns a draft (from the questionnaire or
//! the starter) into readable, commented TOML. The output is always parsed back and validated
//! before anything is written.

use askama::Template;

use crate::filters;
use crate::model::{Expose, Platform};
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
#[derive(Debug, Clone)]
pub struct DraftService {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Image reference.
    pub image: String,
    /// Replicas.
    pub replicas: u32,
    /// Service port and container port, when the service takes requests.
    pub port: Option<(u16, u16)>,
    /// Exposure.
    pub expose: Expose,
    /// Call references (`namespace/name`).
    pub calls: Vec<String>,
}

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
    WorkspaceFile {
        draft,
        platforms,
        open,
    }
    .render()
    .expect("rendering into a String cannot fail")
}

/// The workspace `init --non-interactive` writes: small, valid, and commented so that a user can
/// edit it into shape.
pub fn starter(project: &str) -> Draft {
    let image = |name: &str| format!("registry.example.com/{project}/{name}:0.1.0");
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
                image: image("web"),
                replicas: 2,
                port: Some((80, 8080)),
                expose: Expose::Public,
                calls: vec!["orders/orders-api".to_string()],
            },
            DraftService {
                name: "orders-api".to_string(),
                namespace: "orders".to_string(),
                image: image("orders-api"),
                replicas: 2,
                port: Some((80, 8080)),
                expose: Expose::Cluster,
                calls: Vec::new(),
            },
        ],
    }
}
