//! Render stage: turns the validated model into the files of the namespace layout (section 6 of
//! the product contract): a root `kustomization.yaml`, and per namespace a `kustomization.yaml`,
//! `namespace.yaml`, `network-policies.yaml` and one Deployment + Service stub per service.
//!
//! Pure: no I/O, no clock, no randomness. The same model always gives the same bytes, and the
//! model is sorted, so the order of entries in the workspace file does not matter either
//! (only the `workspace line N` references in comments follow the file).
//! Every file starts with the header of [`stamp`], which lets the write stage notice hand edits.

pub mod exposure;
pub mod policy;
pub mod stamp;
pub mod workload;

use std::path::PathBuf;

use askama::Template;

use crate::filters;
use crate::model::{Namespace, Protocol, ResourcePair, Service, Workspace};
use crate::quantity::Quantity;
use policy::{NetworkPolicySpec, Peer};

/// The user and group id the stubs run as: any non-zero id passes the restricted level.
pub const RUN_AS_USER: u32 = 10001;

/// The output folder, relative to the folder holding the workspace file, unless `--out` says
/// otherwise.
pub const DEFAULT_OUT: &str = "k8s";

/// Names of the per-namespace files that a service stub must not take.
pub const RESERVED_STEMS: [&str; 3] = ["kustomization", "namespace", "network-policies"];

/// One file to write, relative to the output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Relative path: `kustomization.yaml` or `<namespace>/<file>.yaml`.
    pub path: PathBuf,
    /// The whole file, header included.
    pub contents: String,
}

/// Every file of the layout, sorted by path.
pub fn generate(workspace: &Workspace) -> Vec<GeneratedFile> {
    let graph = crate::graph::ServiceGraph::build(workspace);
    let mut files =
        Vec::with_capacity(workspace.services.len() + 3 * workspace.namespaces.len() + 1);
    files.push(GeneratedFile {
        path: PathBuf::from("kustomization.yaml"),
        contents: stamp::stamp(
            &workspace.project.name,
            &render(&KustomizationDoc {
                comment: format!(
                    "Every namespace (business domain) of {}",
                    workspace.project.name
                ),
                resources: workspace.namespaces.keys().map(String::as_str).collect(),
                user_resources: Vec::new(),
            }),
        ),
    });
    // Namespaces render independently: spread them over the cores. The result is sorted
    // below, so the split cannot show in the output.
    let namespaces: Vec<&Namespace> = workspace.namespaces.values().collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let chunk = namespaces.len().div_ceil(threads).max(8);
    if namespaces.len() <= chunk {
        for namespace in &namespaces {
            files.extend(namespace_files(workspace, &graph, namespace));
        }
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = namespaces
                .chunks(chunk)
                .map(|part| {
                    let graph = &graph;
                    scope.spawn(move || {
                        part.iter()
                            .flat_map(|ns| namespace_files(workspace, graph, ns))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for worker in workers {
                match worker.join() {
                    Ok(part) => files.extend(part),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// The files of one namespace folder.
fn namespace_files(
    workspace: &Workspace,
    graph: &crate::graph::ServiceGraph<'_>,
    namespace: &Namespace,
) -> Vec<GeneratedFile> {
    debug_assert!(crate::names::dns1123_label(&namespace.name).is_ok());
    let dir = PathBuf::from(&namespace.name);
    let mut stubs: Vec<(String, String)> = workspace
        .services_in(&namespace.name)
        .map(|s| (stub_file_name(&s.id.name), stub(workspace, s)))
        .collect();
    stubs.sort();
    let mut resources = vec!["namespace.yaml", "network-policies.yaml"];
    resources.extend(stubs.iter().map(|(name, _)| name.as_str()));
    let mut files = Vec::with_capacity(stubs.len() + 3);
    files.push(GeneratedFile {
        path: dir.join("kustomization.yaml"),
        contents: stamp::stamp(
            &workspace.project.name,
            &render(&KustomizationDoc {
                comment: format!("Namespace {} and its workloads", namespace.name),
                resources,
                user_resources: namespace
                    .user_resources
                    .iter()
                    .map(|r| r.path.as_str())
                    .collect(),
            }),
        ),
    });
    files.push(GeneratedFile {
        path: dir.join("namespace.yaml"),
        contents: stamp::stamp(
            &workspace.project.name,
            &namespace_doc(workspace, namespace),
        ),
    });
    let policies = policy::namespace_policies(workspace, &namespace.name, graph);
    files.push(GeneratedFile {
        path: dir.join("network-policies.yaml"),
        contents: stamp::stamp(
            &workspace.project.name,
            &policies_doc(workspace, namespace, &policies),
        ),
    });
    files.extend(stubs.into_iter().map(|(name, body)| GeneratedFile {
        path: dir.join(name),
        contents: stamp::stamp(&workspace.project.name, &body),
    }));
    files
}

/// The user's own files of every namespace, relative to the output folder, sorted: the layout
/// includes them; the write stage checks and keeps them.
pub fn user_files(workspace: &Workspace) -> Vec<PathBuf> {
    workspace
        .namespaces
        .values()
        .flat_map(|ns| {
            ns.user_resources
                .iter()
                .map(|r| PathBuf::from(&ns.name).join(&r.path))
        })
        .collect()
}

/// The file name of a service's stub: `<service>.yaml`, or `<service>.workload.yaml` for the
/// few names that would clash with the per-namespace files (a service name has no dot, so this
/// cannot clash with another service).
pub fn stub_file_name(service: &str) -> String {
    if RESERVED_STEMS.contains(&service) {
        format!("{service}.workload.yaml")
    } else {
        format!("{service}.yaml")
    }
}

/// Renders a template into a String, ending with exactly one newline.
fn render(template: &impl Template) -> String {
    let mut text = template
        .render()
        .expect("rendering into a String cannot fail");
    let trimmed = text.trim_end().len();
    text.truncate(trimmed);
    text.push('\n');
    text
}

type Labels<'a> = Vec<(&'a str, &'a str)>;

#[derive(Template)]
#[template(path = "generate/kustomization.yaml")]
struct KustomizationDoc<'a> {
    comment: String,
    resources: Vec<&'a str>,
    /// The user's own files (`user-resources`), listed after ours.
    user_resources: Vec<&'a str>,
}

#[derive(Template)]
#[template(path = "generate/namespace.yaml")]
struct NamespaceDoc<'a> {
    name: &'a str,
    labels: Labels<'a>,
}

#[derive(Template)]
#[template(path = "generate/network-policy.yaml")]
struct PolicyDoc<'a> {
    namespace: &'a str,
    labels: Labels<'a>,
    policy: &'a NetworkPolicySpec,
}

#[derive(Template)]
#[template(path = "generate/service.yaml")]
struct ServiceDoc<'a> {
    comment: String,
    name: &'a str,
    namespace: &'a str,
    labels: Labels<'a>,
    exposure: exposure::ServiceExposure,
    ports: Vec<ServicePort<'a>>,
}

/// A Service port and the name of the container port it forwards to: two Service ports may
/// share one container port, which carries the name of the first.
struct ServicePort<'a> {
    name: &'a str,
    port: u16,
    protocol: Protocol,
    target_name: &'a str,
}

const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "k8s-advisor");

fn namespace_doc(workspace: &Workspace, namespace: &Namespace) -> String {
    let mut labels = vec![
        MANAGED_BY,
        ("app.kubernetes.io/part-of", workspace.project.name.as_str()),
        (
            "pod-security.kubernetes.io/enforce",
            namespace.pod_security.as_str(),
        ),
        ("pod-security.kubernetes.io/enforce-version", "latest"),
    ];
    if let Some(team) = &namespace.team {
        labels.push(("team", team));
    }
    labels.sort();
    render(&NamespaceDoc {
        name: &namespace.name,
        labels,
    })
}

fn policies_doc(
    workspace: &Workspace,
    namespace: &Namespace,
    policies: &[NetworkPolicySpec],
) -> String {
    let labels = vec![
        MANAGED_BY,
        ("app.kubernetes.io/part-of", workspace.project.name.as_str()),
    ];
    let docs: Vec<String> = policies
        .iter()
        .map(|policy| {
            render(&PolicyDoc {
                namespace: &namespace.name,
                labels: labels.clone(),
                policy,
            })
        })
        .collect();
    docs.join("---\n")
}

fn stub(workspace: &Workspace, service: &Service) -> String {
    let project = workspace.project.name.as_str();
    let name = service.id.name.as_str();
    let pod_labels = vec![
        ("app", name),
        ("app.kubernetes.io/name", name),
        ("app.kubernetes.io/part-of", project),
    ];
    let mut labels = pod_labels.clone();
    labels.push(MANAGED_BY);
    if let Some(team) = &service.team {
        labels.push(("team", team));
    }
    labels.sort();
    let line = workspace.line_of(service.span);
    let description = if service.description.is_empty() {
        String::new()
    } else {
        format!(": {}", service.description)
    };
    let kind = if service.is_stateful() {
        "StatefulSet"
    } else {
        "Deployment"
    };
    let mut text = workload::workload(
        workspace,
        service,
        format!(
            "{kind} of {} (workspace line {line}){description}",
            service.id
        ),
        labels.clone(),
        pod_labels,
    );
    if !service.ports.is_empty() {
        text.push_str("---\n");
        text.push_str(&render(&ServiceDoc {
            comment: format!(
                "Service of {}: expose = \"{}\"",
                service.id,
                service.expose.as_str()
            ),
            name,
            namespace: &service.id.namespace,
            labels: labels.clone(),
            exposure: exposure::service_exposure(workspace, service),
            ports: service
                .ports
                .iter()
                .map(|p| ServicePort {
                    name: &p.name,
                    port: p.port,
                    protocol: p.protocol,
                    target_name: service.container_port_name(p),
                })
                .collect(),
        }));
        if let Some(route) = exposure::http_route(workspace, service, &labels) {
            text.push_str("---\n");
            text.push_str(&render(&route));
        }
    }
    for doc in [
        workload::headless(service, labels.clone()),
        workload::disruption_budget(service, labels),
    ]
    .into_iter()
    .flatten()
    {
        text.push_str("---\n");
        text.push_str(&doc);
    }
    text
}

/// The quantities of a request or limit pair, copied exactly as written.
fn pair(p: &ResourcePair) -> Vec<(&'static str, &str)> {
    let mut out = Vec::new();
    if let Some(cpu) = &p.cpu {
        out.push(("cpu", Quantity::as_str(cpu)));
    }
    if let Some(memory) = &p.memory {
        out.push(("memory", Quantity::as_str(memory)));
    }
    out
}
