//! Model stage of `verify`: the objects read from manifests, reduced to what the NetworkPolicy
//! semantics need and validated as the API server would (operators, ports, CIDRs). Later
//! stages trust these types.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ipnet::IpNet;

use crate::model::Protocol;
use crate::verify::sets::AddrSet;

/// A direction of traffic, seen from a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Traffic into the workload.
    Ingress,
    /// Traffic out of the workload.
    Egress,
}

impl Direction {
    /// `ingress` or `egress`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

/// Labels of a pod or namespace.
pub type Labels = BTreeMap<String, String>;

/// Where an object was read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    /// The file as given (or found in a folder); `-` for standard input.
    pub file: PathBuf,
    /// 1-based number of the YAML document in the file.
    pub document: usize,
    /// 1-based line where the object starts: its document, or its entry in a `List`.
    pub line: usize,
}

/// Everything `verify` reads from a set of manifests.
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    /// Namespaces by name, with their labels (always including `kubernetes.io/metadata.name`).
    /// Namespaces that only objects name are here too.
    pub namespaces: BTreeMap<String, Labels>,
    /// Every workload, sorted by namespace then name.
    pub workloads: Vec<Workload>,
    /// Every NetworkPolicy, sorted by namespace then name.
    pub policies: Vec<Policy>,
    /// Every AdminNetworkPolicy, in the order they are evaluated: by priority, then name.
    pub admin: Vec<AdminPolicy>,
    /// The BaselineAdminNetworkPolicy, when one is given.
    pub baseline: Option<AdminPolicy>,
    /// Every Service with a selector, sorted by namespace then name.
    pub services: Vec<ServiceSelector>,
    /// Objects not read, each with the reason, in input order.
    pub skipped: Vec<Skipped>,
    /// How many objects of each kind known to make no difference to connectivity were
    /// passed over (`v1/ConfigMap` → 3), and how many Services were read for their selector.
    pub irrelevant: BTreeMap<String, usize>,
}

/// An object `verify` did not read, and why: the results hold without it, and it may allow or
/// deny more than they say, or run pods they do not show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// `apiVersion/kind`, as written (empty parts when absent).
    pub kind: String,
    /// Its namespace; `None` for a cluster-wide object or when it names none.
    pub namespace: Option<String>,
    /// Its name (empty when it has none).
    pub name: String,
    /// Where it was read.
    pub origin: Origin,
    /// Why it was not read.
    pub reason: Skip,
}

/// Why an object was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// A kind that changes what may connect, or runs pods, which is not evaluated; what it is.
    Unevaluated(&'static str),
    /// A kind `verify` does not know.
    UnknownKind,
    /// A mapping without `apiVersion` and `kind`: not a Kubernetes object.
    NotAnObject,
}

impl Skipped {
    /// `namespace/name`, or the name alone for a cluster-wide object.
    pub fn id(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// Why it was not read, in words.
    pub fn why(&self) -> String {
        match self.reason {
            Skip::Unevaluated(what) => format!(
                "{what}: not evaluated, and it may allow traffic these results call denied, deny traffic they call allowed, or run pods they do not show"
            ),
            Skip::UnknownKind => {
                "a kind verify does not know: not read; if it runs pods or changes what may connect, these results miss it".to_string()
            }
            Skip::NotAnObject => {
                "not a Kubernetes object (no apiVersion and kind): not read".to_string()
            }
        }
    }
}

/// A Service's selector: the workloads it selects belong to the service of its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSelector {
    /// Namespace.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.selector`, never empty (a Service without one selects no pods).
    pub selector: Labels,
}

/// An AdminNetworkPolicy or the BaselineAdminNetworkPolicy (sig-network's cluster-wide
/// policies, `policy.networking.k8s.io/v1alpha1`): rules with actions, evaluated before
/// NetworkPolicies (admin) or after them (baseline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminPolicy {
    /// `metadata.name`.
    pub name: String,
    /// `spec.priority` (lower first); `None` for the baseline policy.
    pub priority: Option<u32>,
    /// The pods it applies to.
    pub subject: PodSet,
    /// Ingress rules, in order: the first that matches decides.
    pub ingress: Vec<AdminRule>,
    /// Egress rules, in order.
    pub egress: Vec<AdminRule>,
    /// Where it was read.
    pub origin: Origin,
}

impl AdminPolicy {
    /// `AdminNetworkPolicy name` or `BaselineAdminNetworkPolicy name`.
    pub fn id(&self) -> String {
        match self.priority {
            Some(_) => format!("AdminNetworkPolicy {}", self.name),
            None => format!("BaselineAdminNetworkPolicy {}", self.name),
        }
    }
}

/// Pods selected by namespace labels and, optionally, pod labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSet {
    /// The namespaces.
    pub namespaces: Selector,
    /// The pods in them; `None` for every pod.
    pub pods: Option<Selector>,
}

/// What an admin rule does with the traffic it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// Allowed, whatever NetworkPolicies say.
    Allow,
    /// Denied, whatever NetworkPolicies say.
    Deny,
    /// Left to NetworkPolicies, and where none isolates the pod, to the baseline policy.
    Pass,
}

impl Action {
    /// `Allow`, `Deny` or `Pass`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "Allow",
            Action::Deny => "Deny",
            Action::Pass => "Pass",
        }
    }
}

/// A rule of an admin policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminRule {
    /// `name`.
    pub name: String,
    /// `action`.
    pub action: Action,
    /// Pods it matches.
    pub pods: Vec<PodSet>,
    /// Addresses outside the cluster it matches (`networks`, egress only).
    pub networks: AddrSet,
    /// True when it also names nodes (`nodes`, egress only), which are not among the inputs:
    /// that part matches nothing here.
    pub nodes: bool,
    /// The ports; `None` for every port.
    pub ports: Option<Vec<AdminPort>>,
    /// 1-based line of the rule's entry, or the policy's.
    pub line: usize,
}

/// A destination port of an admin rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminPort {
    /// A number or a range.
    Range(Protocol, u16, u16),
    /// A named container port of the destination pod, whatever its protocol.
    Named(String),
}

/// A Pod or the pod template of a controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// Namespace (`default` when the object names none).
    pub namespace: String,
    /// The object's name.
    pub name: String,
    /// `Deployment`, `Pod`, ...
    pub kind: &'static str,
    /// The pod (template) labels.
    pub labels: Labels,
    /// Container ports of every container, sorted.
    pub ports: Vec<ContainerPort>,
    /// True when the pods use the node's network (`hostNetwork`): NetworkPolicy does not
    /// apply to them.
    pub host_network: bool,
    /// Where it was read.
    pub origin: Origin,
}

impl Workload {
    /// `namespace/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// A port a container listens on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContainerPort {
    /// The port number.
    pub port: u16,
    /// The transport protocol.
    pub protocol: Protocol,
    /// The IANA name a NetworkPolicy can refer to.
    pub name: Option<String>,
}

/// A NetworkPolicy after defaulting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Its namespace: it selects pods only there.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// The pods it selects in its namespace.
    pub selector: Selector,
    /// Ingress rules when the policy has type Ingress (then the selected pods are isolated for
    /// ingress); `None` otherwise.
    pub ingress: Option<Vec<Rule>>,
    /// Egress rules when the policy has type Egress; `None` otherwise.
    pub egress: Option<Vec<Rule>>,
    /// Where it was read.
    pub origin: Origin,
}

/// One ingress or egress rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The other ends; `None` (a missing or empty list) matches every source or destination.
    pub peers: Option<Vec<Peer>>,
    /// The destination ports; `None` (a missing or empty list) allows every port.
    pub ports: Option<Vec<PortRule>>,
    /// 1-based line of the rule's entry (its `- from:`, `- to:` or `- ports:` line); the
    /// policy's own line when the layout of its document could not be read.
    pub line: usize,
}

/// The other end of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// Pods: those matching `pods` (all when `None`) in the namespaces matching `namespaces`
    /// (the policy's own namespace when `None`).
    Pods {
        /// The namespace selector.
        namespaces: Option<Selector>,
        /// The pod selector.
        pods: Option<Selector>,
    },
    /// Addresses outside the cluster's pods.
    Block {
        /// `ipBlock.cidr`.
        cidr: IpNet,
        /// The CIDR minus its `except` blocks: the addresses the peer matches.
        allowed: AddrSet,
    },
}

/// A destination port of a rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortRule {
    /// Every port of the protocol.
    All(Protocol),
    /// A number or a range (`port` .. `endPort`).
    Range(Protocol, u16, u16),
    /// A named container port of the destination pod.
    Named(Protocol, String),
}

/// A label selector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    /// Requirements that must all hold; empty matches everything.
    pub requirements: Vec<Requirement>,
}

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// The label has one of the values (`matchLabels` is `In` with one value).
    In(String, Vec<String>),
    /// The label is absent or has none of the values.
    NotIn(String, Vec<String>),
    /// The label is present.
    Exists(String),
    /// The label is absent.
    DoesNotExist(String),
}

impl std::fmt::Display for Selector {
    /// kubectl's selector syntax: `app=web,tier in (back,db),!canary`; `everything` when empty.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.requirements.is_empty() {
            return f.write_str("everything");
        }
        let parts: Vec<String> = self
            .requirements
            .iter()
            .map(|r| match r {
                Requirement::In(k, v) if v.len() == 1 => format!("{k}={}", v[0]),
                Requirement::In(k, v) => format!("{k} in ({})", v.join(",")),
                Requirement::NotIn(k, v) => format!("{k} notin ({})", v.join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::DoesNotExist(k) => format!("!{k}"),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

impl Selector {
    /// True when `labels` satisfy every requirement.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
            Requirement::NotIn(key, values) => labels.get(key).is_none_or(|v| !values.contains(v)),
            Requirement::Exists(key) => labels.contains_key(key),
            Requirement::DoesNotExist(key) => !labels.contains_key(key),
        })
    }

    /// A label pair every match must carry, for index lookups.
    pub fn required_pair(&self) -> Option<(&str, &str)> {
        self.requirements.iter().find_map(|r| match r {
            Requirement::In(key, values) if values.len() == 1 => {
                Some((key.as_str(), values[0].as_str()))
            }
            _ => None,
        })
    }
}
