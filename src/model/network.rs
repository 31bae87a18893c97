//! Model stage: how the cluster around the services reaches them and answers their lookups —
//! the project's gateway, its DNS, and a service's route and client sources. Validated like the
//! rest of the model; later stages trust these values.

use ipnet::IpNet;
use serde::Serialize;

use crate::span::Span;

/// The link-local address NodeLocal DNSCache listens on by default.
pub const NODE_LOCAL_DNS: &str = "169.254.20.10/32";

/// The address of the GKE metadata server, which answers DNS when Cloud DNS for GKE is the
/// cluster's DNS provider.
pub const GKE_METADATA_DNS: &str = "169.254.169.254/32";

/// The label CoreDNS / kube-dns pods carry in kube-system on kubeadm, EKS, GKE and AKS.
pub const KUBE_DNS_LABEL: (&str, &str) = ("k8s-app", "kube-dns");

/// The label the OpenShift DNS operator puts on the pods of its `dns-default` daemon set.
pub const OPENSHIFT_DNS_LABEL: (&str, &str) =
    ("dns.operator.openshift.io/daemonset-dns", "default");

/// The client address ranges a load balancer admits. Never empty: an empty list would render
/// as a LoadBalancer without `loadBalancerSourceRanges` and an ipBlock rule without peers, both
/// of which admit every address. "Every address" is only ever the explicit pair 0.0.0.0/0 and
/// ::/0 ([`Sources::anywhere`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources(Vec<IpNet>);

impl Sources {
    /// The ranges, sorted and without repeats; `None` when there are none (nobody may connect,
    /// which must be expressed as no load balancer at all).
    pub fn new(mut nets: Vec<IpNet>) -> Option<Self> {
        nets.sort();
        nets.dedup();
        (!nets.is_empty()).then_some(Sources(nets))
    }

    /// Every IPv4 and every IPv6 address: the default of `expose = "public"`.
    pub fn anywhere() -> Self {
        Sources(vec![
            IpNet::V4(Default::default()),
            IpNet::V6(Default::default()),
        ])
    }

    /// True when the ranges admit every IPv4 and every IPv6 address.
    pub fn is_anywhere(&self) -> bool {
        let zero = |v6: bool| {
            self.0
                .iter()
                .any(|n| matches!(n, IpNet::V6(_)) == v6 && n.prefix_len() == 0)
        };
        zero(false) && zero(true)
    }

    /// The ranges, sorted; never empty.
    pub fn as_slice(&self) -> &[IpNet] {
        &self.0
    }

    /// The ranges, sorted.
    pub fn iter(&self) -> std::slice::Iter<'_, IpNet> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a Sources {
    type Item = &'a IpNet;
    type IntoIter = std::slice::Iter<'a, IpNet>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Labels that select pods, sorted by key. Never empty: an empty `podSelector` selects every pod
/// of its namespace, which would turn a rule meant for a gateway or a DNS server into one for
/// anything running there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PodLabels(Vec<(String, String)>);

impl PodLabels {
    /// The labels, sorted by key; `None` when there are none or a key repeats (a selector is a
    /// map, and a repeated key would keep only one of its values).
    pub fn new(mut labels: Vec<(String, String)>) -> Option<Self> {
        labels.sort();
        let repeated = labels.windows(2).any(|w| w[0].0 == w[1].0);
        (!labels.is_empty() && !repeated).then_some(PodLabels(labels))
    }

    /// A single label.
    pub fn one(key: &str, value: &str) -> Self {
        PodLabels(vec![(key.to_string(), value.to_string())])
    }

    /// The labels, sorted by key; never empty.
    pub fn as_slice(&self) -> &[(String, String)] {
        &self.0
    }

    /// The labels, sorted by key.
    pub fn iter(&self) -> std::slice::Iter<'_, (String, String)> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a PodLabels {
    type Item = &'a (String, String);
    type IntoIter = std::slice::Iter<'a, (String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A named DNS setup, or the user's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DnsProfile {
    /// CoreDNS or kube-dns pods in kube-system labelled `k8s-app: kube-dns`, port 53.
    KubeDns,
    /// NodeLocal DNSCache on 169.254.20.10, with kube-dns behind it.
    NodeLocal,
    /// Cloud DNS for GKE, answered by the metadata server on 169.254.169.254.
    GkeCloudDns,
    /// OpenShift's DNS operator: pods in `openshift-dns` on port 5353.
    Openshift,
    /// A selector, address ranges and ports of the user's choosing.
    Custom,
}

impl DnsProfile {
    /// The named profiles, in the order the workspace reference lists them.
    pub const NAMED: [DnsProfile; 4] = [
        DnsProfile::KubeDns,
        DnsProfile::NodeLocal,
        DnsProfile::GkeCloudDns,
        DnsProfile::Openshift,
    ];

    /// The keyword used in the workspace file.
    pub fn as_str(self) -> &'static str {
        match self {
            DnsProfile::KubeDns => "kube-dns",
            DnsProfile::NodeLocal => "node-local",
            DnsProfile::GkeCloudDns => "gke-cloud-dns",
            DnsProfile::Openshift => "openshift",
            DnsProfile::Custom => "custom",
        }
    }
}

/// Where pods may send their DNS queries: one rule per profile, each on UDP and TCP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dns {
    /// The rules, in profile order.
    pub rules: Vec<DnsRule>,
    /// Where `dns` is written; `None` when the platform's default applies.
    pub span: Option<Span>,
}

/// The DNS servers of one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRule {
    /// Which profile.
    pub profile: DnsProfile,
    /// The servers.
    pub targets: Vec<DnsTarget>,
    /// Destination ports, each allowed on UDP and TCP; sorted, not empty.
    pub ports: Vec<u16>,
}

/// A DNS server: pods, or addresses outside the pod network.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum DnsTarget {
    /// Pods carrying every one of `labels` in `namespace`.
    Pods {
        /// Their namespace.
        namespace: String,
        /// Their labels, sorted by key; never empty.
        labels: PodLabels,
    },
    /// An address range (node-local caches and metadata servers are not pods).
    Block(IpNet),
}

impl DnsRule {
    /// The servers and ports of a named profile; `None` for `Custom`, which has no defaults.
    pub fn named(profile: DnsProfile) -> Option<DnsRule> {
        let kube_dns = || DnsTarget::Pods {
            namespace: "kube-system".to_string(),
            labels: PodLabels::one(KUBE_DNS_LABEL.0, KUBE_DNS_LABEL.1),
        };
        let block = |cidr: &str| DnsTarget::Block(cidr.parse().expect("a valid constant CIDR"));
        let (targets, ports) = match profile {
            DnsProfile::Custom => return None,
            DnsProfile::KubeDns => (vec![kube_dns()], vec![53]),
            // Pods that still use the kube-dns Service (before the node's cache is ready, or
            // where kubelet is not pointed at the cache) reach the kube-dns pods directly.
            DnsProfile::NodeLocal => (vec![kube_dns(), block(NODE_LOCAL_DNS)], vec![53]),
            DnsProfile::GkeCloudDns => (vec![block(GKE_METADATA_DNS)], vec![53]),
            DnsProfile::Openshift => (
                vec![DnsTarget::Pods {
                    namespace: "openshift-dns".to_string(),
                    labels: PodLabels::one(OPENSHIFT_DNS_LABEL.0, OPENSHIFT_DNS_LABEL.1),
                }],
                // The dns-default Service maps port 53 to the pods' 5353, and policies see the
                // pod's port.
                vec![5353],
            ),
        };
        Some(DnsRule {
            profile,
            targets,
            ports,
        })
    }
}

/// The project's shared HTTP gateway (an ingress controller or a Gateway API implementation
/// already running in the cluster), for `expose = "gateway"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    /// The Gateway resource routes attach to (`parentRefs[].name`).
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// The namespace the gateway's data-plane pods run in.
    pub pod_namespace: String,
    /// Labels that select exactly the gateway's data-plane pods; sorted by key, never empty.
    pub pod_labels: PodLabels,
    /// Default hostnames of routes; empty matches every hostname the listener accepts.
    pub hostnames: Vec<String>,
    /// Where `[project.gateway]` is written.
    pub span: Span,
}

/// How the gateway reaches one service: an HTTPRoute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Hostnames the route matches; empty matches all the listener accepts.
    pub hostnames: Vec<String>,
    /// The path prefix, starting with `/`.
    pub path: String,
    /// The name of the service port the gateway forwards to.
    pub port: String,
    /// Where the route is decided: the `route` table, else the `expose` key.
    pub span: Span,
}
