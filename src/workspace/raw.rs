//! Parse stage: serde types that mirror `k8s-advisor.toml` exactly, with the span of every value
//! that validation may need to point at. No checks happen here beyond TOML types and key names.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawWorkspace {
    pub version: Spanned<i64>,
    pub project: RawProject,
    #[serde(default)]
    pub answers: BTreeMap<String, Spanned<bool>>,
    #[serde(default)]
    pub namespaces: Vec<Spanned<RawNamespace>>,
    #[serde(default)]
    pub services: Vec<Spanned<RawService>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawProject {
    pub name: Spanned<String>,
    pub description: Option<Spanned<String>>,
    pub platform: Option<Spanned<String>>,
    #[serde(default)]
    pub internal_cidrs: Vec<Spanned<String>>,
    #[serde(default)]
    pub decision_makers: Vec<Spanned<String>>,
    pub dns: Option<Spanned<RawDns>>,
    pub gateway: Option<Spanned<RawGateway>>,
    pub cluster_domain: Option<Spanned<String>>,
    pub calls_known: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawNamespace {
    pub name: Spanned<String>,
    pub team: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub pod_security: Option<Spanned<String>>,
    #[serde(default)]
    pub user_resources: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawService {
    pub name: Spanned<String>,
    pub namespace: Option<Spanned<String>>,
    pub team: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub image: Option<Spanned<String>>,
    pub replicas: Option<Spanned<i64>>,
    pub port: Option<Spanned<i64>>,
    pub ports: Option<Spanned<Vec<Spanned<RawPort>>>>,
    pub expose: Option<Spanned<String>>,
    #[serde(default)]
    pub calls: Vec<Spanned<RawCall>>,
    #[serde(default)]
    pub egress: Vec<Spanned<RawEgress>>,
    pub resources: Option<Spanned<RawResources>>,
    pub sources: Option<Spanned<Vec<Spanned<String>>>>,
    pub route: Option<Spanned<RawRoute>>,
    pub kind: Option<Spanned<String>>,
    pub storage: Option<Spanned<String>>,
    pub storage_path: Option<Spanned<String>>,
    pub health: Option<Spanned<RawHealth>>,
    #[serde(default)]
    pub writable: Vec<Spanned<String>>,
}

/// `health = { path = "/healthz", port = "http" }`, or `{ type = "tcp", port = "db" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawHealth {
    pub r#type: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
    pub port: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPort {
    pub name: Option<Spanned<String>>,
    pub port: Spanned<i64>,
    pub target: Option<Spanned<i64>>,
    pub protocol: Option<Spanned<String>>,
}

/// A call: `"ns/name"` or `{ to = "ns/name", ports = ["http"], kind = "async" }`.
#[derive(Debug)]
pub struct RawCall {
    /// The reference as written.
    pub to: String,
    /// Where the reference is, when it sits in a table; a bare string spans its whole entry.
    pub to_span: Option<std::ops::Range<usize>>,
    /// The allowed port names, when the call is restricted.
    pub ports: Option<Vec<Spanned<String>>>,
    /// `sync`, `async` or `telemetry`, when the table names one.
    pub kind: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCallTable {
    to: Spanned<String>,
    ports: Option<Vec<Spanned<String>>>,
    kind: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for RawCall {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CallVisitor;

        impl<'de> Visitor<'de> for CallVisitor {
            type Value = RawCall;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a service reference such as "users/users-api", or a table { to = "...", ports = ["..."], kind = "..." }"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawCall, E> {
                Ok(RawCall {
                    to: v.to_string(),
                    to_span: None,
                    ports: None,
                    kind: None,
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawCall, A::Error> {
                let table = RawCallTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawCall {
                    to_span: Some(table.to.span()),
                    to: table.to.into_inner(),
                    ports: table.ports,
                    kind: table.kind,
                })
            }
        }

        deserializer.deserialize_any(CallVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawEgress {
    pub cidr: Spanned<String>,
    /// Absent means every port; an empty list is refused as ambiguous.
    pub ports: Option<Spanned<Vec<Spanned<i64>>>>,
    pub protocol: Option<Spanned<String>>,
    pub reason: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawResources {
    pub requests: Option<RawResourcePair>,
    pub limits: Option<RawResourcePair>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawResourcePair {
    pub cpu: Option<Spanned<String>>,
    pub memory: Option<Spanned<String>>,
}

/// `dns = "profile"`, `dns = ["profile", ...]` or a custom table.
#[derive(Debug)]
pub enum RawDns {
    /// Named profiles.
    Named(Vec<Spanned<String>>),
    /// `dns = { namespace = ..., pod-labels = {...}, cidrs = [...], ports = [...] }`.
    Custom(RawDnsCustom),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawDnsCustom {
    pub namespace: Option<Spanned<String>>,
    pub pod_labels: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    #[serde(default)]
    pub cidrs: Vec<Spanned<String>>,
    #[serde(default)]
    pub ports: Vec<Spanned<i64>>,
}

impl<'de> Deserialize<'de> for RawDns {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DnsVisitor;

        impl<'de> Visitor<'de> for DnsVisitor {
            type Value = RawDns;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a DNS profile such as "kube-dns", a list of profiles, or a table { namespace = "...", pod-labels = { ... }, cidrs = [...], ports = [...] }"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDns, E> {
                // A bare string has no span of its own here; the whole `dns` value is used.
                Ok(RawDns::Named(vec![Spanned::new(0..0, v.to_string())]))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<RawDns, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<String>>()? {
                    out.push(item);
                }
                Ok(RawDns::Named(out))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawDns, A::Error> {
                RawDnsCustom::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawDns::Custom)
            }
        }

        deserializer.deserialize_any(DnsVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawGateway {
    pub name: Spanned<String>,
    pub namespace: Spanned<String>,
    pub pod_namespace: Option<Spanned<String>>,
    pub pod_labels: Spanned<BTreeMap<String, Spanned<String>>>,
    #[serde(default)]
    pub hostnames: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRoute {
    pub hostnames: Option<Vec<Spanned<String>>>,
    pub path: Option<Spanned<String>>,
    pub port: Option<Spanned<String>>,
}
