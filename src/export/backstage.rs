//! Render stage of `export --format backstage`: the model as Backstage catalog entities
//! (`catalog-info.yaml`). Pure.
//!
//! Backstage links a component to a domain only through its system, so every business domain
//! becomes a Domain and a System of the same name, both in a Backstage namespace named after
//! the Kubernetes namespace; a service becomes a Component of that System (names are unique per
//! Kubernetes namespace, so they are per Backstage namespace too), with `dependsOn` for its
//! calls (but a call to itself) and an API per port in `providesApis`; a team becomes a
//! Group. Team names are
//! Kubernetes label values, which Backstage accepts as entity names as they are.
//!
//! What has no Backstage field is kept where Backstage's own plugins look for it: the
//! Kubernetes plugin's `backstage.io/kubernetes-namespace` and
//! `backstage.io/kubernetes-label-selector` annotations find the generated workloads.
//! Backstage needs an owner for every entity: one without a team is owned by the Group
//! [`UNASSIGNED`], marked with the [`PLACEHOLDER`] annotation so that `import` reads it back as
//! "no team".

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::{Service, Workspace};

/// The Group that owns what no team owns.
pub const UNASSIGNED: &str = "unassigned";

pub use crate::import::backstage::PLACEHOLDER;

/// The longest entity name Backstage accepts.
const NAME_MAX: usize = 63;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entity {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<&'static str, String>,
}

/// The `spec` of every kind exported, each field only where its kind has it.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lifecycle: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    depends_on: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provides_apis: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    definition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    children: Option<Vec<String>>,
}

fn described(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn owner(team: Option<&str>) -> String {
    format!("group:default/{}", team.unwrap_or(UNASSIGNED))
}

/// A service is `experimental` until it has an image of its own: there is nothing to run yet.
fn lifecycle(service: &Service) -> &'static str {
    if service.image.is_some() {
        "production"
    } else {
        "experimental"
    }
}

/// The API entity name of a port: `<service>-<port>`, shortened with a checksum of the whole
/// when it would pass Backstage's 63 characters, so that it stays unique.
fn api_name(service: &str, port: &str) -> String {
    let name = format!("{service}-{port}");
    if name.len() <= NAME_MAX {
        return name;
    }
    let hash = &crate::generate::stamp::checksum(name.as_bytes())[..8];
    let keep = NAME_MAX - port.len() - hash.len() - 2;
    let head = service[..keep].trim_end_matches(['-', '.', '_']);
    format!("{head}-{hash}-{port}")
}

/// The catalog: Groups, then per domain its Domain, System, Components and APIs, as YAML
/// documents (without the header the caller adds).
pub fn render(ws: &Workspace) -> String {
    let mut entities: Vec<Entity> = Vec::new();
    let mut teams: BTreeSet<&str> = BTreeSet::new();
    let mut unowned = false;
    let owners = ws
        .namespaces
        .values()
        .map(|n| n.team.as_deref())
        .chain(ws.services.iter().map(|s| s.team.as_deref()));
    for team in owners {
        match team {
            Some(team) => {
                teams.insert(team);
            }
            None => unowned = true,
        }
    }
    for team in &teams {
        entities.push(Entity {
            api_version: "backstage.io/v1alpha1",
            kind: "Group",
            metadata: Metadata {
                name: (*team).to_string(),
                namespace: None,
                title: None,
                description: Some(format!("Team {team} of {}", ws.project.name)),
                annotations: BTreeMap::new(),
            },
            spec: Spec {
                kind: Some("team".to_string()),
                children: Some(Vec::new()),
                ..Spec::default()
            },
        });
    }
    if unowned && !teams.contains(UNASSIGNED) {
        entities.push(Entity {
            api_version: "backstage.io/v1alpha1",
            kind: "Group",
            metadata: Metadata {
                name: UNASSIGNED.to_string(),
                namespace: None,
                title: None,
                description: Some(format!(
                    "Owns what no team owns yet in the k8s-advisor workspace of {}",
                    ws.project.name
                )),
                annotations: [(PLACEHOLDER, "no team is named in the workspace".to_string())]
                    .into_iter()
                    .collect(),
            },
            spec: Spec {
                kind: Some("team".to_string()),
                children: Some(Vec::new()),
                ..Spec::default()
            },
        });
    }
    for ns in ws.namespaces.values() {
        let team = ns.team.as_deref();
        entities.push(Entity {
            api_version: "backstage.io/v1alpha1",
            kind: "Domain",
            metadata: Metadata {
                name: ns.name.clone(),
                namespace: Some(ns.name.clone()),
                title: None,
                description: described(&ns.description),
                annotations: BTreeMap::new(),
            },
            spec: Spec {
                owner: Some(owner(team)),
                ..Spec::default()
            },
        });
        entities.push(Entity {
            api_version: "backstage.io/v1alpha1",
            kind: "System",
            metadata: Metadata {
                name: ns.name.clone(),
                namespace: Some(ns.name.clone()),
                title: Some(format!("{} {}", ws.project.name, ns.name)),
                description: Some(format!(
                    "The services of business domain {} of {}",
                    ns.name, ws.project.name
                )),
                annotations: BTreeMap::new(),
            },
            spec: Spec {
                owner: Some(owner(team)),
                domain: Some(ns.name.clone()),
                ..Spec::default()
            },
        });
        for service in ws.services_in(&ns.name) {
            component(ws, service, &mut entities);
        }
    }
    let mut out = String::new();
    for entity in entities {
        out.push_str("---\n");
        // Plain data with string keys: serializing it cannot fail.
        out.push_str(&serde_yaml_ng::to_string(&entity).unwrap_or_default());
    }
    out
}

/// A service's Component and the APIs of its ports.
fn component(ws: &Workspace, service: &Service, entities: &mut Vec<Entity>) {
    let ns = &service.id.namespace;
    let owner = owner(service.team.as_deref());
    // A call of a service to itself is no dependency between entities.
    let depends_on: BTreeSet<String> = service
        .calls
        .iter()
        .filter(|c| c.to != service.id)
        .map(|c| format!("component:{}/{}", c.to.namespace, c.to.name))
        .collect();
    let apis: Vec<(String, &crate::model::Port)> = service
        .ports
        .iter()
        .map(|p| (api_name(&service.id.name, &p.name), p))
        .collect();
    let mut annotations = BTreeMap::new();
    annotations.insert("backstage.io/kubernetes-namespace", ns.clone());
    annotations.insert(
        "backstage.io/kubernetes-label-selector",
        format!("app={}", service.id.name),
    );
    entities.push(Entity {
        api_version: "backstage.io/v1alpha1",
        kind: "Component",
        metadata: Metadata {
            name: service.id.name.clone(),
            namespace: Some(ns.clone()),
            title: None,
            description: described(&service.description),
            annotations,
        },
        spec: Spec {
            kind: Some("service".to_string()),
            lifecycle: Some(lifecycle(service)),
            owner: Some(owner.clone()),
            system: Some(ns.clone()),
            depends_on: (!depends_on.is_empty()).then(|| depends_on.into_iter().collect()),
            provides_apis: (!apis.is_empty())
                .then(|| apis.iter().map(|(name, _)| name.clone()).collect()),
            ..Spec::default()
        },
    });
    for (name, port) in apis {
        let service_port = if port.port == port.target {
            String::new()
        } else {
            format!(", Service port {}", port.port)
        };
        entities.push(Entity {
            api_version: "backstage.io/v1alpha1",
            kind: "API",
            metadata: Metadata {
                name,
                namespace: Some(ns.clone()),
                title: None,
                description: Some(format!("Port {} of {}", port.name, service.id)),
                annotations: BTreeMap::new(),
            },
            spec: Spec {
                kind: Some(port.name.clone()),
                lifecycle: Some(lifecycle(service)),
                owner: Some(owner.clone()),
                system: Some(ns.clone()),
                definition: Some(format!(
                    "{} port {} (container port {}{service_port}) of {} in {}. The workspace \
                     describes no API beyond the port.\n",
                    port.protocol.as_str(),
                    port.name,
                    port.target,
                    service.id,
                    ws.project.name
                )),
                ..Spec::default()
            },
        });
    }
}
