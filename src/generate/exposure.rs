//! Render stage: how a Service is exposed on each platform, and the HTTPRoute of a service
//! behind the project's gateway. Pure data for the templates.
//!
//! Fail closed: a load balancer must never be more public than the workspace says. Where a
//! platform lets us name the controller that must own the load balancer
//! (`spec.loadBalancerClass`), we do, so that a cluster without that controller creates no load
//! balancer at all instead of falling back to a default (public) one. Where no such form exists
//! (AKS), the Service says so in a comment and `check` warns (`exposure-fails-open`).

use askama::Template;

use super::{Labels, filters};
use crate::model::{Expose, Platform, Service, Workspace};

/// The `spec.loadBalancerClass` only the AWS Load Balancer Controller acts on.
pub const EKS_NLB_CLASS: &str = "service.k8s.aws/nlb";

/// GKE's classes for its internal and external passthrough Network Load Balancers.
pub const GKE_INTERNAL_CLASS: &str = "networking.gke.io/l4-regional-internal";
/// See [`GKE_INTERNAL_CLASS`].
pub const GKE_EXTERNAL_CLASS: &str = "networking.gke.io/l4-regional-external";

/// How one Service is exposed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceExposure {
    /// `ClusterIP` or `LoadBalancer`.
    pub service_type: &'static str,
    /// `spec.loadBalancerClass`, where the platform has one.
    pub load_balancer_class: Option<&'static str>,
    /// Annotations, sorted by key.
    pub annotations: Vec<(&'static str, &'static str)>,
    /// `spec.loadBalancerSourceRanges`; empty only for a ClusterIP Service and when the sources
    /// are exactly 0.0.0.0/0 and ::/0.
    pub source_ranges: Vec<String>,
    /// Comment lines written above `spec`: what the platform does and what fails closed.
    pub notes: Vec<String>,
}

/// The exposure of `service`'s Service on the project's platform.
pub fn service_exposure(workspace: &Workspace, service: &Service) -> ServiceExposure {
    let platform = workspace.project.platform;
    let (internal, sources) = match (service.expose, &service.sources) {
        (Expose::Internal, Some(sources)) => (true, sources),
        (Expose::Public, Some(sources)) => (false, sources),
        // Fail closed: a load balancer needs sources to name in `loadBalancerSourceRanges`;
        // one without them admits every address. A service with none (validation never
        // builds one) gets no load balancer at all.
        (Expose::Cluster | Expose::Gateway | Expose::Internal | Expose::Public, _) => {
            return ServiceExposure {
                service_type: "ClusterIP",
                load_balancer_class: None,
                annotations: Vec::new(),
                source_ranges: Vec::new(),
                notes: Vec::new(),
            };
        }
    };
    // No `loadBalancerSourceRanges` is written only for the explicit 0.0.0.0/0 and ::/0.
    let source_ranges = if sources.is_anywhere() {
        Vec::new()
    } else {
        sources.iter().map(ToString::to_string).collect()
    };
    let (load_balancer_class, mut annotations, notes): (_, Vec<(&str, &str)>, Vec<&str>) =
        match platform {
            Platform::Eks => (
                Some(EKS_NLB_CLASS),
                vec![
                    (
                        "service.beta.kubernetes.io/aws-load-balancer-scheme",
                        if internal {
                            "internal"
                        } else {
                            "internet-facing"
                        },
                    ),
                    (
                        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type",
                        "ip",
                    ),
                    (
                        "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes",
                        "preserve_client_ip.enabled=true",
                    ),
                ],
                vec![
                    "Fails closed: only the AWS Load Balancer Controller acts on this loadBalancerClass; where it does not run, no load balancer is created (never a public Classic one).",
                    "Client address: IP targets with client IP preservation send IPv4 clients' own addresses to the pod; the NLB's health checks come from its addresses in the VPC, so sources must include the VPC range.",
                ],
            ),
            Platform::Gke => (
                Some(if internal {
                    GKE_INTERNAL_CLASS
                } else {
                    GKE_EXTERNAL_CLASS
                }),
                Vec::new(),
                vec![
                    "Fails closed: only GKE 1.33.1-gke.1779000 or later acts on this loadBalancerClass (the internal class also needs GKE subsetting); elsewhere no load balancer is created.",
                    "Client address: a passthrough load balancer with externalTrafficPolicy Local delivers the client's own address to the pod.",
                ],
            ),
            Platform::Aks => (
                None,
                if internal {
                    vec![(
                        "service.beta.kubernetes.io/azure-load-balancer-internal",
                        "true",
                    )]
                } else {
                    Vec::new()
                },
                if internal {
                    vec![
                        "Fails OPEN: AKS has no loadBalancerClass of its own; only this annotation keeps the load balancer private, and a cluster whose controller ignores it creates a public one.",
                        "Client address: Azure Load Balancer with externalTrafficPolicy Local delivers the client's own address to the pod.",
                    ]
                } else {
                    vec![
                        "Client address: Azure Load Balancer with externalTrafficPolicy Local delivers the client's own address to the pod.",
                    ]
                },
            ),
            Platform::Generic => (
                None,
                Vec::new(),
                vec![
                    "Client address: externalTrafficPolicy Local asks the load balancer to keep it; whether yours does depends on its implementation.",
                ],
            ),
        };
    annotations.sort();
    ServiceExposure {
        service_type: "LoadBalancer",
        load_balancer_class,
        annotations,
        source_ranges,
        notes: notes.into_iter().map(str::to_string).collect(),
    }
}

/// An HTTPRoute attaching a service to the project's gateway.
#[derive(Template)]
#[template(path = "generate/httproute.yaml")]
pub struct HttpRouteDoc<'a> {
    comment: String,
    name: &'a str,
    namespace: &'a str,
    labels: Labels<'a>,
    gateway_name: &'a str,
    gateway_namespace: &'a str,
    hostnames: &'a [String],
    path: &'a str,
    port: u16,
}

/// The HTTPRoute of a gateway service; `None` for the other exposures.
pub fn http_route<'a>(
    workspace: &'a Workspace,
    service: &'a Service,
    labels: &Labels<'a>,
) -> Option<HttpRouteDoc<'a>> {
    let gateway = workspace.project.gateway.as_ref()?;
    let route = service.route.as_ref()?;
    let port = service.port(&route.port)?;
    Some(HttpRouteDoc {
        comment: format!(
            "HTTPRoute of {}: expose = \"gateway\"; the listener of Gateway {}/{} must allow routes from namespace {}",
            service.id, gateway.namespace, gateway.name, service.id.namespace
        ),
        name: &service.id.name,
        namespace: &service.id.namespace,
        labels: labels.clone(),
        gateway_name: &gateway.name,
        gateway_namespace: &gateway.namespace,
        hostnames: &route.hostnames,
        path: &route.path,
        port: port.port,
    })
}
