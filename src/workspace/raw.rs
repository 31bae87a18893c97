//! Parse stage: serde types that mirror `k8s-advisor.toml` exactly, with the span of every value
//! that validation may need to point at. No checks happen here beyond TOML types and key names.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use crate::model::{Expose, Platform, PodSecurity, Protocol};

// The JSON Schema of the file (`k8s-advisor schema`) is derived from these types: each
// `Spanned` field names its plain type with `schemars(with)`, and the values validation allows
// (names, ranges, keywords) are stated where a schema can state them. `crate::schema` and its
// tests hold the schema to the loader.

/// A DNS-1123 label: project and namespace names.
const DNS1123: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// A DNS-1035 label: service names.
const DNS1035: &str = "^[a-z]([-a-z0-9]*[a-z0-9])?$";
/// A qualified name, as Kubernetes validates label keys and `appProtocol`: an optional DNS
/// subdomain and `/`, then a name (the lengths are checked by the loader).
const QUALIFIED_NAME: &str = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$";

/// The whole file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawWorkspace {
    #[schemars(with = "i64", range(min = 1, max = 1))]
    pub version: Spanned<i64>,
    pub project: RawProject,
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, bool>")]
    pub answers: BTreeMap<String, Spanned<bool>>,
    #[serde(default)]
    #[schemars(with = "Vec<RawNamespace>")]
    pub namespaces: Vec<Spanned<RawNamespace>>,
    #[serde(default)]
    #[schemars(with = "Vec<RawService>")]
    pub services: Vec<Spanned<RawService>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawProject {
    #[schemars(with = "String", regex(pattern = DNS1123), length(min = 1, max = 63))]
    pub name: Spanned<String>,
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    #[schemars(with = "Option<Platform>")]
    pub platform: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub internal_cidrs: Vec<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub decision_makers: Vec<Spanned<String>>,
    #[schemars(with = "Option<RawDns>")]
    pub dns: Option<Spanned<RawDns>>,
    #[schemars(with = "Option<RawGateway>")]
    pub gateway: Option<Spanned<RawGateway>>,
    #[schemars(with = "Option<String>")]
    pub cluster_domain: Option<Spanned<String>>,
    #[schemars(with = "Option<bool>")]
    pub calls_known: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawNamespace {
    #[schemars(with = "String", regex(pattern = DNS1123), length(min = 1, max = 63))]
    pub name: Spanned<String>,
    #[schemars(with = "Option<String>")]
    pub team: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    #[schemars(with = "Option<PodSecurity>")]
    pub pod_security: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub user_resources: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(extend("not" = { "required": ["port", "ports"] }))]
pub struct RawService {
    #[schemars(with = "String", regex(pattern = DNS1035), length(min = 1, max = 63))]
    pub name: Spanned<String>,
    #[schemars(with = "Option<String>", regex(pattern = DNS1123), length(min = 1, max = 63))]
    pub namespace: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub team: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub image: Option<Spanned<String>>,
    #[schemars(with = "Option<i64>", range(min = 0, max = 10000))]
    pub replicas: Option<Spanned<i64>>,
    #[schemars(with = "Option<i64>", range(min = 1, max = 65535))]
    pub port: Option<Spanned<i64>>,
    #[schemars(with = "Option<Vec<RawPort>>")]
    pub ports: Option<Spanned<Vec<Spanned<RawPort>>>>,
    #[schemars(with = "Option<Expose>")]
    pub expose: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<RawCall>")]
    pub calls: Vec<Spanned<RawCall>>,
    #[serde(default)]
    #[schemars(with = "Vec<RawEgress>")]
    pub egress: Vec<Spanned<RawEgress>>,
    #[schemars(with = "Option<RawResources>")]
    pub resources: Option<Spanned<RawResources>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub sources: Option<Spanned<Vec<Spanned<String>>>>,
    #[schemars(with = "Option<RawRoute>")]
    pub route: Option<Spanned<RawRoute>>,
    #[schemars(with = "Option<String>", extend("enum" = ["deployment", "stateful"]))]
    pub kind: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub storage: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub storage_path: Option<Spanned<String>>,
    #[schemars(with = "Option<RawHealth>")]
    pub health: Option<Spanned<RawHealth>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub writable: Vec<Spanned<String>>,
}

/// `health = { path = "/healthz", port = "http" }`, or `{ type = "tcp", port = "db" }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawHealth {
    #[schemars(with = "Option<String>", extend("enum" = ["http", "tcp", "grpc"]))]
    pub r#type: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub path: Option<Spanned<String>>,
    #[schemars(with = "String")]
    pub port: Spanned<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPort {
    #[schemars(with = "Option<String>", length(min = 1, max = 15))]
    pub name: Option<Spanned<String>>,
    #[schemars(with = "i64", range(min = 1, max = 65535))]
    pub port: Spanned<i64>,
    #[schemars(with = "Option<i64>", range(min = 1, max = 65535))]
    pub target: Option<Spanned<i64>>,
    #[schemars(with = "Option<Protocol>")]
    pub protocol: Option<Spanned<String>>,
    /// The Service port's `appProtocol`: an IANA service name (`http`, `postgresql`) or a
    /// prefixed name (`kubernetes.io/h2c`).
    #[schemars(with = "Option<String>", regex(pattern = QUALIFIED_NAME), length(min = 1, max = 317))]
    pub app_protocol: Option<Spanned<String>>,
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

/// A call limited to some of the callee's ports, by name.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCallTable {
    #[schemars(with = "String")]
    to: Spanned<String>,
    #[schemars(with = "Option<Vec<String>>")]
    ports: Option<Vec<Spanned<String>>>,
    #[schemars(with = "Option<crate::model::CallKind>")]
    kind: Option<Spanned<String>>,
}

impl JsonSchema for RawCall {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RawCall".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let table = generator.subschema_for::<RawCallTable>();
        schemars::json_schema!({
            "description": "A service reference, \"name\" or \"namespace/name\", or a table { to, ports } limiting the call to some of the callee's ports",
            "anyOf": [{ "type": "string" }, table]
        })
    }
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(extend("dependentRequired" = { "protocol": ["ports"] }))]
pub struct RawEgress {
    #[schemars(with = "String")]
    pub cidr: Spanned<String>,
    /// Absent means every port; an empty list is refused as ambiguous.
    #[schemars(
        with = "Option<Vec<i64>>",
        length(min = 1),
        inner(range(min = 1, max = 65535))
    )]
    pub ports: Option<Spanned<Vec<Spanned<i64>>>>,
    #[schemars(with = "Option<Protocol>")]
    pub protocol: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub reason: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawResources {
    pub requests: Option<RawResourcePair>,
    pub limits: Option<RawResourcePair>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawResourcePair {
    #[schemars(with = "Option<String>")]
    pub cpu: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawDnsCustom {
    #[schemars(with = "Option<String>")]
    pub namespace: Option<Spanned<String>>,
    #[schemars(with = "Option<BTreeMap<String, String>>", extend("minProperties" = 1))]
    pub pod_labels: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub cidrs: Vec<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<i64>", inner(range(min = 1, max = 65535)))]
    pub ports: Vec<Spanned<i64>>,
}

impl JsonSchema for RawDns {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RawDns".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let profiles: Vec<&str> = crate::model::DnsProfile::NAMED
            .iter()
            .map(|p| p.as_str())
            .collect();
        let custom = generator.subschema_for::<RawDnsCustom>();
        schemars::json_schema!({
            "description": "Where pods resolve names: a DNS profile, a list of profiles (their union), or a custom table",
            "anyOf": [
                { "type": "string", "enum": profiles },
                { "type": "array", "items": { "type": "string", "enum": profiles }, "minItems": 1 },
                custom
            ]
        })
    }
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawGateway {
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    #[schemars(with = "String")]
    pub namespace: Spanned<String>,
    #[schemars(with = "Option<String>")]
    pub pod_namespace: Option<Spanned<String>>,
    #[schemars(with = "BTreeMap<String, String>", extend("minProperties" = 1))]
    pub pod_labels: Spanned<BTreeMap<String, Spanned<String>>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub hostnames: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRoute {
    #[schemars(with = "Option<Vec<String>>")]
    pub hostnames: Option<Vec<Spanned<String>>>,
    #[schemars(with = "Option<String>")]
    pub path: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub port: Option<Spanned<String>>,
}
