//! Render stage: the workload of a service stub — a Deployment, or a StatefulSet with its
//! headless Service — and its PodDisruptionBudget. The pod template is shared
//! (`templates/generate/pod.yaml`): a read-only root file system with a size-limited writable
//! `/tmp` and the declared writable paths, health probes, the callees' addresses as
//! environment variables, and zone spreading for replicated services.

use askama::Template;

use super::{Labels, RUN_AS_USER, filters, pair, render};
use crate::model::{HealthCheck, Port, Service, Workload, Workspace};
use crate::wiring::{self, EnvVar};

/// The size limit of `/tmp` and of every declared writable path. An `emptyDir` counts against
/// the node's ephemeral storage; a pod that writes more is evicted, not the node filled.
pub const SCRATCH_SIZE: &str = "256Mi";

/// The name of a stateful service's volume (claim template and mount).
pub const DATA_VOLUME: &str = "data";

/// From this many replicas on, a service gets a PodDisruptionBudget and zone spreading.
pub const REPLICATED: u32 = 2;

/// The probe of a container, for the template.
struct ProbeDoc<'a> {
    check: &'static str,
    path: &'a str,
    port: u16,
    /// (probe kind, periodSeconds, failureThreshold).
    timings: [(&'static str, u32, u32); 3],
}

/// The pod template shared by Deployments and StatefulSets.
struct PodDoc<'a> {
    name: &'a str,
    labels: Labels<'a>,
    uid: u32,
    image: String,
    placeholder_image: bool,
    ports: Vec<&'a Port>,
    env: Vec<EnvVar>,
    probe: Option<ProbeDoc<'a>>,
    requests: Vec<(&'static str, &'a str)>,
    limits: Vec<(&'static str, &'a str)>,
    /// (volume name, mount path, size limit) of each emptyDir.
    scratch: Vec<(String, &'a str, &'static str)>,
    /// (volume name, mount path) of the persistent volume of a stateful service.
    data: Option<(&'static str, &'a str)>,
    spread: bool,
}

#[derive(Template)]
#[template(path = "generate/deployment.yaml")]
struct DeploymentDoc<'a> {
    comment: String,
    namespace: &'a str,
    labels: Labels<'a>,
    replicas: u32,
    pod: PodDoc<'a>,
}

#[derive(Template)]
#[template(path = "generate/statefulset.yaml")]
struct StatefulSetDoc<'a> {
    comment: String,
    namespace: &'a str,
    labels: Labels<'a>,
    replicas: u32,
    headless: String,
    storage: &'a str,
    data_volume: &'static str,
    pod: PodDoc<'a>,
}

#[derive(Template)]
#[template(path = "generate/headless-service.yaml")]
struct HeadlessDoc<'a> {
    comment: String,
    name: String,
    namespace: &'a str,
    labels: Labels<'a>,
    app: &'a str,
    ports: Vec<&'a Port>,
}

#[derive(Template)]
#[template(path = "generate/pdb.yaml")]
struct PdbDoc<'a> {
    comment: String,
    name: &'a str,
    namespace: &'a str,
    labels: Labels<'a>,
}

/// The name of a stateful service's headless Service.
pub fn headless_name(service: &str) -> String {
    format!("{service}{}", crate::model::HEADLESS_SUFFIX)
}

/// The workload document of `service`: a Deployment or a StatefulSet. `comment` is its first
/// line; `labels` are the object labels, `pod_labels` those of its pods.
pub fn workload(
    workspace: &Workspace,
    service: &Service,
    comment: String,
    labels: Labels<'_>,
    pod_labels: Labels<'_>,
) -> String {
    let name = service.id.name.as_str();
    let (image, placeholder_image) = match &service.image {
        Some(image) => (image.clone(), crate::names::is_placeholder_image(image)),
        None => (crate::names::placeholder_image(name), true),
    };
    let mut scratch = vec![("tmp".to_string(), "/tmp", SCRATCH_SIZE)];
    scratch.extend(
        service
            .writable
            .iter()
            .enumerate()
            .map(|(i, path)| (format!("writable-{i}"), path.as_str(), SCRATCH_SIZE)),
    );
    let (env, _) = wiring::env_vars(
        service,
        |id| workspace.service(id),
        &workspace.project.cluster_domain,
    );
    let pod = PodDoc {
        name,
        labels: pod_labels,
        uid: RUN_AS_USER,
        image,
        placeholder_image,
        ports: service.container_ports(),
        env,
        probe: service.health.as_ref().map(|h| ProbeDoc {
            check: h.check.as_str(),
            path: match &h.check {
                HealthCheck::Http { path } => path,
                HealthCheck::Tcp | HealthCheck::Grpc => "",
            },
            port: h.port,
            // Startup allows 5 s × 30 = 150 s to come up before liveness may restart the
            // container; readiness takes a pod out of the Service within 15 s.
            timings: [
                ("startupProbe", 5, 30),
                ("readinessProbe", 5, 3),
                ("livenessProbe", 10, 3),
            ],
        }),
        requests: pair(&service.resources.requests),
        limits: pair(&service.resources.limits),
        scratch,
        data: match &service.workload {
            Workload::Stateful(storage) => Some((DATA_VOLUME, storage.path.as_str())),
            Workload::Deployment => None,
        },
        spread: service.replicas >= REPLICATED,
    };
    match &service.workload {
        Workload::Deployment => render(&DeploymentDoc {
            comment,
            namespace: &service.id.namespace,
            labels,
            replicas: service.replicas,
            pod,
        }),
        Workload::Stateful(storage) => render(&StatefulSetDoc {
            comment,
            namespace: &service.id.namespace,
            labels,
            replicas: service.replicas,
            headless: headless_name(name),
            storage: storage.size.as_str(),
            data_volume: DATA_VOLUME,
            pod,
        }),
    }
}

/// The headless Service that gives each pod of a stateful service its DNS name
/// (`<pod>.<service>-headless.<namespace>.svc`); `None` for a Deployment.
pub fn headless(service: &Service, labels: Labels<'_>) -> Option<String> {
    if !service.is_stateful() {
        return None;
    }
    Some(render(&HeadlessDoc {
        comment: format!(
            "Headless Service of {}: a stable DNS name per pod, on the container ports",
            service.id
        ),
        name: headless_name(&service.id.name),
        namespace: &service.id.namespace,
        labels,
        app: &service.id.name,
        ports: service.container_ports(),
    }))
}

/// The PodDisruptionBudget of a replicated service: a voluntary disruption (a node drain, an
/// upgrade) takes down at most one pod at a time. `None` below two replicas, where a budget
/// would either block every drain or allow everything.
pub fn disruption_budget(service: &Service, labels: Labels<'_>) -> Option<String> {
    if service.replicas < REPLICATED {
        return None;
    }
    Some(render(&PdbDoc {
        comment: format!(
            "Disruption budget of {}: node drains evict at most one of its {} pods at a time",
            service.id, service.replicas
        ),
        name: &service.id.name,
        namespace: &service.id.namespace,
        labels,
    }))
}
