//! Parse stage of `verify`: serde types that mirror the Kubernetes objects `verify` reads, as
//! the API server decodes them. No meaning is given here; `read` validates and reduces them.
//!
//! The real types of `k8s-openapi` are lenient where `kubectl apply` is strict, and that leniency
//! would let `verify` evaluate objects the cluster never holds: they ignore unknown fields
//! (`podSelctor:` would select every pod), keep the last of two equal keys of a label map,
//! take `123` where a string is due, and refuse `null` entries in lists that the API server
//! reads as empty objects. These types decode the way the API server's strict decoder does:
//! - unknown fields are refused in every part `verify` evaluates (the whole NetworkPolicy, the
//!   metadata of every object, pod templates, container ports); the rest of a pod spec is
//!   skipped unread, as it does not change what may connect;
//! - a key given twice is refused (serde's derived structs do that for fields; [`LabelMap`] for
//!   maps);
//! - a string field takes only a string: a plain `123`, `1.0` or `true` is refused ([`Text`]);
//! - `null` is the field's absence, also inside a list, where it stands for an empty object
//!   (`ingress: [null]` is one rule with no peers and no ports, as in Go).

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

/// A string field: a YAML plain scalar that resolves to a number, a boolean or null is refused,
/// as the API server refuses a JSON number or boolean where a string is due.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string (quote numbers and booleans where a string is due)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(v))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

impl Text {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A map of strings (labels, `matchLabels`, a Service's `selector`) in which a key may appear
/// once; a value of `null` is the empty string, as Go decodes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelMap(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for LabelMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = LabelMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LabelMap, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<Key>()? {
                    let value: Option<Text> = map.next_value()?;
                    if out.contains_key(&key.0) {
                        return Err(de::Error::custom(format_args!(
                            "the key {:?} is given twice",
                            key.0
                        )));
                    }
                    out.insert(key.0, value.map(|t| t.0).unwrap_or_default());
                }
                Ok(LabelMap(out))
            }
        }
        deserializer.deserialize_map(MapVisitor)
    }
}

/// A map key. YAML-to-JSON conversion turns a plain `1:` or `true:` key into the string `"1"`
/// or `"true"`, so any scalar is taken as its text.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

/// `port` of a NetworkPolicy port: a number, or a string (a named port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntOrString {
    /// `port: 80`.
    Int(i64),
    /// `port: http` or `port: "80"` (a string, which must then be a valid port name).
    String(String),
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PortVisitor;
        impl Visitor<'_> for PortVisitor {
            type Value = IntOrString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number or a port name")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrString, E> {
                Ok(IntOrString::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
                i64::try_from(v)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom(format_args!("port {v} is out of range")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrString, E> {
                Ok(IntOrString::String(v.to_string()))
            }
        }
        deserializer.deserialize_any(PortVisitor)
    }
}

/// A list whose entries may be `null`, each read as an empty object (Go's zero value).
pub type List<T> = Option<Vec<Option<T>>>;

/// The entries of a [`List`], `null` ones as `T::default()`; `None` when the list is absent or
/// `null` (the caller decides what an empty list means).
pub fn entries<T: Default>(list: List<T>) -> Option<Vec<T>> {
    list.map(|items| items.into_iter().map(Option::unwrap_or_default).collect())
}

/// The two fields that say what an object is. Everything else is skipped unread. Only a
/// mapping is an object (serde's derived structs would also take a sequence).
#[derive(Debug, Default)]
pub struct Head {
    /// `apiVersion`.
    pub api_version: Option<Text>,
    /// `kind`.
    pub kind: Option<Text>,
}

impl<'de> Deserialize<'de> for Head {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeadVisitor;
        impl<'de> Visitor<'de> for HeadVisitor {
            type Value = Head;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Kubernetes object (a mapping with apiVersion and kind)")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Head, E> {
                Ok(Head::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
                let mut head = Head::default();
                while let Some(key) = map.next_key::<Key>()? {
                    match key.0.as_str() {
                        "apiVersion" if head.api_version.is_none() => {
                            head.api_version = map.next_value()?;
                        }
                        "kind" if head.kind.is_none() => head.kind = map.next_value()?,
                        "apiVersion" | "kind" => {
                            return Err(de::Error::custom(format_args!(
                                "duplicate field `{}`",
                                key.0
                            )));
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(head)
            }
        }
        deserializer.deserialize_any(HeadVisitor)
    }
}

/// An object: the four top-level fields every Kubernetes object has, with `spec` of type `S`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Object<S> {
    /// Checked by the caller against what dispatched here.
    pub api_version: Option<Text>,
    /// Checked by the caller.
    pub kind: Option<Text>,
    /// `metadata`.
    pub metadata: Option<Meta>,
    /// `spec`.
    pub spec: Option<S>,
    /// What the cluster reports; not read.
    pub status: Option<IgnoredAny>,
}

/// `metadata`: every field of ObjectMeta is known; the ones `verify` does not need are skipped.
#[derive(Debug, Default, Deserialize)]
#[allow(
    dead_code,
    reason = "the fields verify does not read are listed only so that unknown ones are refused"
)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Meta {
    /// `name`.
    pub name: Option<Text>,
    /// `namespace`.
    pub namespace: Option<Text>,
    /// `labels`.
    pub labels: Option<LabelMap>,
    /// `ownerReferences`: a pod's ReplicaSet, a ReplicaSet's Deployment.
    pub owner_references: List<OwnerReference>,
    annotations: Option<IgnoredAny>,
    cluster_name: Option<IgnoredAny>,
    creation_timestamp: Option<IgnoredAny>,
    deletion_grace_period_seconds: Option<IgnoredAny>,
    deletion_timestamp: Option<IgnoredAny>,
    finalizers: Option<IgnoredAny>,
    generate_name: Option<IgnoredAny>,
    generation: Option<IgnoredAny>,
    managed_fields: Option<IgnoredAny>,
    resource_version: Option<IgnoredAny>,
    self_link: Option<IgnoredAny>,
    uid: Option<IgnoredAny>,
}

impl Meta {
    /// Metadata with only a name and a namespace.
    pub fn named(name: Option<Text>, namespace: Option<Text>) -> Meta {
        Meta {
            name,
            namespace,
            ..Meta::default()
        }
    }
}

/// An entry of `ownerReferences`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    /// The owner's `apiVersion` (required).
    pub api_version: Option<Text>,
    /// The owner's kind (required).
    pub kind: Option<Text>,
    /// The owner's name (required).
    pub name: Option<Text>,
    /// The owner's `uid` (required).
    pub uid: Option<Text>,
    /// True for the one owner that manages the object.
    pub controller: Option<bool>,
}

/// The `spec` of a controller: a pod template, directly or in a job template. Other fields are
/// skipped.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ControllerSpec {
    /// `template` (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, ReplicationController).
    pub template: Option<PodTemplate>,
    /// `jobTemplate` (CronJob).
    pub job_template: Option<JobTemplate>,
}

/// A CronJob's `jobTemplate`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobTemplate {
    /// The Jobs' metadata; not read.
    pub metadata: Option<IgnoredAny>,
    /// The Job spec.
    pub spec: Option<JobSpec>,
}

/// The spec of a CronJob's Jobs: their pod template. Other fields are skipped.
#[derive(Debug, Default, Deserialize)]
pub struct JobSpec {
    /// `template`.
    pub template: Option<PodTemplate>,
}

/// A pod template.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodTemplate {
    /// The pods' metadata: their labels.
    pub metadata: Option<Meta>,
    /// The pods' spec.
    pub spec: Option<PodSpec>,
}

/// A pod spec: the containers' ports and whether the pod uses the node's network. Other
/// fields are skipped.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    /// `containers`.
    pub containers: List<Container>,
    /// `hostNetwork`: such a pod is not subject to NetworkPolicy.
    pub host_network: Option<bool>,
}

/// A container: its ports. Other fields are skipped.
#[derive(Debug, Default, Deserialize)]
pub struct Container {
    /// `name`.
    pub name: Option<Text>,
    /// `ports`.
    pub ports: List<ContainerPort>,
}

/// A container port.
#[derive(Debug, Default, Deserialize)]
#[allow(
    dead_code,
    reason = "the fields verify does not read are listed only so that unknown ones are refused"
)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerPort {
    /// `containerPort` (required).
    pub container_port: Option<i64>,
    /// `name`: what a NetworkPolicy's named port refers to.
    pub name: Option<Text>,
    /// `protocol`, TCP when absent.
    pub protocol: Option<Text>,
    host_ip: Option<IgnoredAny>,
    host_port: Option<IgnoredAny>,
}

/// A Service's `spec`: its selector maps workloads to services. Other fields are skipped.
#[derive(Debug, Default, Deserialize)]
pub struct ServiceSpec {
    /// `selector`.
    pub selector: Option<LabelMap>,
}

/// A NetworkPolicy's `spec`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicySpec {
    /// `podSelector`; absent is empty (every pod of the namespace).
    pub pod_selector: Option<LabelSelector>,
    /// `policyTypes`.
    pub policy_types: Option<Vec<Text>>,
    /// `ingress`.
    pub ingress: List<IngressRule>,
    /// `egress`.
    pub egress: List<EgressRule>,
}

/// An ingress rule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngressRule {
    /// `from`.
    pub from: List<Peer>,
    /// `ports`.
    pub ports: List<PolicyPort>,
}

/// An egress rule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgressRule {
    /// `to`.
    pub to: List<Peer>,
    /// `ports`.
    pub ports: List<PolicyPort>,
}

/// A peer of a rule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Peer {
    /// `podSelector`.
    pub pod_selector: Option<LabelSelector>,
    /// `namespaceSelector`.
    pub namespace_selector: Option<LabelSelector>,
    /// `ipBlock`.
    pub ip_block: Option<IpBlock>,
}

/// An `ipBlock`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpBlock {
    /// `cidr` (required).
    pub cidr: Option<Text>,
    /// `except`.
    pub except: Option<Vec<Text>>,
}

/// A port of a rule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyPort {
    /// `protocol`, TCP when absent.
    pub protocol: Option<Text>,
    /// `port`.
    pub port: Option<IntOrString>,
    /// `endPort`.
    pub end_port: Option<i64>,
}

/// A label selector.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    /// `matchLabels`.
    pub match_labels: Option<LabelMap>,
    /// `matchExpressions`.
    pub match_expressions: List<SelectorRequirement>,
}

/// An entry of `matchExpressions`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectorRequirement {
    /// `key` (required).
    pub key: Option<Text>,
    /// `operator` (required).
    pub operator: Option<Text>,
    /// `values`.
    pub values: Option<Vec<Text>>,
}

/// The `spec` of an AdminNetworkPolicy or a BaselineAdminNetworkPolicy
/// (`policy.networking.k8s.io/v1alpha1`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSpec {
    /// `priority` (an AdminNetworkPolicy only; required there).
    pub priority: Option<i64>,
    /// `subject` (required).
    pub subject: Option<AdminSubject>,
    /// `ingress`.
    pub ingress: List<AdminRule>,
    /// `egress`.
    pub egress: List<AdminRule>,
}

/// The pods an admin policy applies to: exactly one of the two fields.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSubject {
    /// Every pod of the namespaces selected.
    pub namespaces: Option<LabelSelector>,
    /// The pods selected in the namespaces selected.
    pub pods: Option<NamespacedPod>,
}

/// Pods by namespace and pod labels; both selectors are required.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NamespacedPod {
    /// `namespaceSelector`.
    pub namespace_selector: Option<LabelSelector>,
    /// `podSelector`.
    pub pod_selector: Option<LabelSelector>,
}

/// A rule of an admin policy; `from` for ingress, `to` for egress.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminRule {
    /// `name`.
    pub name: Option<Text>,
    /// `action`: Allow, Deny or Pass (Allow or Deny in a baseline policy).
    pub action: Option<Text>,
    /// `from` (ingress rules).
    pub from: List<AdminPeer>,
    /// `to` (egress rules).
    pub to: List<AdminPeer>,
    /// `ports`.
    pub ports: List<AdminPort>,
}

/// A peer of an admin rule: exactly one field.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminPeer {
    /// Every pod of the namespaces selected.
    pub namespaces: Option<LabelSelector>,
    /// Pods by namespace and pod labels.
    pub pods: Option<NamespacedPod>,
    /// Nodes by their labels (egress only).
    pub nodes: Option<LabelSelector>,
    /// Address blocks outside the cluster (egress only).
    pub networks: Option<Vec<Text>>,
}

/// A port of an admin rule: exactly one field.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdminPort {
    /// One port of a protocol.
    pub port_number: Option<AdminPortNumber>,
    /// A named container port of the destination pod.
    pub named_port: Option<Text>,
    /// A range of ports of a protocol.
    pub port_range: Option<AdminPortRange>,
}

/// `portNumber`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminPortNumber {
    /// TCP when absent.
    pub protocol: Option<Text>,
    /// The port (required).
    pub port: Option<i64>,
}

/// `portRange`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminPortRange {
    /// TCP when absent.
    pub protocol: Option<Text>,
    /// The first port (required).
    pub start: Option<i64>,
    /// The last port (required).
    pub end: Option<i64>,
}

/// The envelope of a list (`kind: List`, `PodList`, ...): its items are read one by one.
#[derive(Debug, Deserialize)]
pub struct ListObject<T> {
    /// `apiVersion`, the items' when they name none.
    #[serde(rename = "apiVersion")]
    pub api_version: Option<Text>,
    /// `kind`.
    pub kind: Option<Text>,
    /// `items`.
    pub items: Option<Vec<T>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_numbers_and_duplicate_keys_are_decoded_as_the_api_server_does() {
        let meta: Meta = serde_yaml_ng::from_str("name: \"123\"\nlabels: {a: null, 1: x}").unwrap();
        assert_eq!(meta.name.unwrap().0, "123");
        let labels = meta.labels.unwrap().0;
        assert_eq!(labels["a"], "");
        assert_eq!(labels["1"], "x");
        for bad in [
            "name: 123",
            "name: true",
            "labels: {a: 1.0}",
            "labels: {a: x, a: y}",
            "labels:\n  a: x\n  a: y\n",
            "lables: {}",
            "name: a\nname: b\n",
        ] {
            assert!(serde_yaml_ng::from_str::<Meta>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn null_entries_are_empty_objects() {
        let spec: PolicySpec = serde_yaml_ng::from_str("ingress: [null, {from: null}]").unwrap();
        let rules = entries(spec.ingress).unwrap();
        assert_eq!(rules.len(), 2);
        assert!(rules.iter().all(|r| r.from.is_none() && r.ports.is_none()));
    }

    #[test]
    fn ports_keep_their_type() {
        let port: PolicyPort = serde_yaml_ng::from_str("port: \"80\"").unwrap();
        assert_eq!(port.port, Some(IntOrString::String("80".into())));
        let port: PolicyPort = serde_yaml_ng::from_str("port: 80").unwrap();
        assert_eq!(port.port, Some(IntOrString::Int(80)));
    }
}
