//! Read stage of `verify`: what each kind of object means for connectivity. Every document is
//! either read, known to make no difference, or named in a warning: nothing is dropped
//! without a word. Pure lookups, no I/O.

/// What `verify` does with an object of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A `Namespace`: its labels.
    Namespace,
    /// A `Pod`: its labels and container ports.
    Pod,
    /// A controller of pods (`Deployment`, `StatefulSet`, ...): its pod template. Every API
    /// version the API server serves or has served is read, as the pod template is the same.
    Controller,
    /// A `Service`: its selector, which maps workloads to the workspace's services.
    Service,
    /// A NetworkPolicy (`networking.k8s.io/v1`, or `extensions/v1beta1`, which had the same
    /// schema and semantics).
    NetworkPolicy,
    /// An AdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`).
    AdminPolicy,
    /// The BaselineAdminNetworkPolicy.
    BaselinePolicy,
    /// A kind known not to change which pods exist or what may connect (a ConfigMap, a
    /// PodDisruptionBudget, a Role ...): counted, not read.
    Irrelevant,
    /// A kind that changes what may connect, or runs pods, which `verify` does not evaluate:
    /// named in a warning with the reason.
    Unevaluated(&'static str),
    /// A kind `verify` does not know: named in a warning, as it may run pods or change
    /// connectivity.
    Unknown,
}

/// API groups in which no kind runs pods or changes what may connect.
const IRRELEVANT_GROUPS: [&str; 27] = [
    "rbac.authorization.k8s.io",
    "autoscaling",
    "policy",
    "storage.k8s.io",
    "apiextensions.k8s.io",
    "admissionregistration.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "node.k8s.io",
    "certificates.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "apiregistration.k8s.io",
    "resource.k8s.io",
    "internal.apiserver.k8s.io",
    "storagemigration.k8s.io",
    "kustomize.config.k8s.io",
    "cert-manager.io",
    "acme.cert-manager.io",
    "monitoring.coreos.com",
    // Gateway API, Ingress and Routes send outside traffic to pods through a gateway or
    // ingress controller, which is itself a workload under NetworkPolicy.
    "gateway.networking.k8s.io",
    "gateway.networking.x-k8s.io",
    "route.openshift.io",
    "image.openshift.io",
    "template.openshift.io",
    "metrics.k8s.io",
];

/// Core (`v1`) kinds that neither run pods nor change what may connect.
const IRRELEVANT_CORE: [&str; 13] = [
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Endpoints",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "LimitRange",
    "ResourceQuota",
    "Event",
    "Node",
    "PodTemplate",
    "Binding",
    "ComponentStatus",
];

/// Groups whose kinds change what may connect (policies of other projects, secondary
/// networks, service meshes), with why `verify`'s answer may then be wrong.
const UNEVALUATED_GROUPS: [(&str, &str); 14] = [
    ("cilium.io", "a Cilium policy or address group"),
    ("crd.projectcalico.org", "a Calico policy or network set"),
    ("projectcalico.org", "a Calico policy or network set"),
    ("crd.antrea.io", "an Antrea policy or group"),
    ("security.istio.io", "an Istio mesh policy"),
    ("policy.linkerd.io", "a Linkerd mesh policy"),
    ("consul.hashicorp.com", "a Consul service-mesh intention"),
    (
        "k8s.ovn.org",
        "an OVN-Kubernetes network, egress firewall or route",
    ),
    ("k8s.cni.cncf.io", "a secondary network (Multus)"),
    (
        "policy.networking.k8s.io",
        "an admin network policy of an API version not read",
    ),
    (
        "kubevirt.io",
        "a virtual machine, which runs on the pod network",
    ),
    ("serving.knative.dev", "a Knative service, which runs pods"),
    ("networking.istio.io", "an Istio routing or sidecar rule"),
    ("networking.gke.io", "a GKE network policy or network"),
];

/// The class of `kind` in `api_version`.
pub fn classify(api_version: &str, kind: &str) -> Class {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    match (group, version, kind) {
        ("", "v1", "Namespace") => Class::Namespace,
        ("", "v1", "Pod") => Class::Pod,
        ("", "v1", "Service") => Class::Service,
        ("", "v1", "ReplicationController")
        | ("apps", "v1", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("apps", "v1beta2", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("apps", "v1beta1", "Deployment" | "StatefulSet")
        | ("extensions", "v1beta1", "Deployment" | "DaemonSet" | "ReplicaSet")
        | ("batch", "v1", "Job" | "CronJob")
        | ("batch", "v1beta1" | "v2alpha1", "CronJob")
        | ("apps.openshift.io", "v1", "DeploymentConfig")
        | ("argoproj.io", "v1alpha1", "Rollout") => Class::Controller,
        ("policy.networking.k8s.io", "v1alpha1", "AdminNetworkPolicy") => Class::AdminPolicy,
        ("policy.networking.k8s.io", "v1alpha1", "BaselineAdminNetworkPolicy") => {
            Class::BaselinePolicy
        }
        ("networking.k8s.io", "v1", "NetworkPolicy")
        | ("extensions", "v1beta1", "NetworkPolicy") => Class::NetworkPolicy,
        ("", "v1", k) if IRRELEVANT_CORE.contains(&k) => Class::Irrelevant,
        ("apps", _, "ControllerRevision") => Class::Irrelevant,
        ("networking.k8s.io", _, "Ingress" | "IngressClass" | "IPAddress" | "ServiceCIDR")
        | ("extensions", _, "Ingress") => Class::Irrelevant,
        (g, _, _) if IRRELEVANT_GROUPS.contains(&g) => Class::Irrelevant,
        (g, _, _) => match UNEVALUATED_GROUPS.iter().find(|(name, _)| *name == g) {
            Some((_, why)) => Class::Unevaluated(why),
            None if kind.ends_with("NetworkPolicy") => {
                Class::Unevaluated("a network policy of another API")
            }
            None => Class::Unknown,
        },
    }
}

/// The kind of the items of a typed list (`PodList` → `Pod`), whose items may leave out their
/// `apiVersion` and `kind`; `None` for the generic `List`.
pub fn item_kind(list_kind: &str) -> Option<&str> {
    list_kind.strip_suffix("List").filter(|k| !k.is_empty())
}

/// True for a list envelope (`List`, `PodList`, ...).
pub fn is_list(kind: &str) -> bool {
    kind.ends_with("List")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_workload_version_is_read() {
        for (v, k) in [
            ("apps/v1", "Deployment"),
            ("apps/v1beta1", "Deployment"),
            ("apps/v1beta2", "DaemonSet"),
            ("extensions/v1beta1", "ReplicaSet"),
            ("batch/v1beta1", "CronJob"),
            ("v1", "ReplicationController"),
        ] {
            assert_eq!(classify(v, k), Class::Controller, "{v} {k}");
        }
        assert_eq!(
            classify("extensions/v1beta1", "NetworkPolicy"),
            Class::NetworkPolicy
        );
        // A combination the API server never served is not guessed at.
        assert_eq!(classify("apps/v1beta1", "DaemonSet"), Class::Unknown);
    }

    #[test]
    fn kinds_that_change_connectivity_are_never_irrelevant() {
        for (v, k) in [
            ("k8s.ovn.org/v1", "UserDefinedNetwork"),
            ("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition"),
            ("k8s.cni.cncf.io/v1beta1", "MultiNetworkPolicy"),
            ("kubevirt.io/v1", "VirtualMachine"),
            ("cilium.io/v2", "CiliumNetworkPolicy"),
            ("example.com/v1", "FancyNetworkPolicy"),
            ("security.istio.io/v1", "AuthorizationPolicy"),
        ] {
            assert!(matches!(classify(v, k), Class::Unevaluated(_)), "{v} {k}");
        }
        assert_eq!(classify("example.com/v1", "Widget"), Class::Unknown);
        assert_eq!(classify("v1", "ConfigMap"), Class::Irrelevant);
        assert_eq!(
            classify("policy/v1", "PodDisruptionBudget"),
            Class::Irrelevant
        );
    }

    #[test]
    fn typed_lists_name_their_items() {
        assert_eq!(item_kind("PodList"), Some("Pod"));
        assert_eq!(item_kind("List"), None);
        assert!(is_list("NamespaceList"));
    }
}
