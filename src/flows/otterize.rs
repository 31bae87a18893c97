//! Read stage of flows: the JSON that `otterize network-mapper export --format json` prints, a
//! JSON array of `ClientIntents` (otterize/network-mapper; `k8s.otterize.com/v2beta1` with
//! `spec.workload` and `spec.targets`, and the older `v1alpha2`/`v1alpha3` with
//! `spec.service` and `spec.calls`). Each target the mapper saw a client reach is one record: a
//! call without a port or a time (the export has neither), or, for an `internet` target, one
//! record per address and port. A target name is `name` (the client's namespace) or
//! `name.namespace`. Targets that are no network peer of the cluster (`sql`, `aws`, `gcp`,
//! `azure`) become records whose destination is named for the report, never dropped. Pure.

use std::net::IpAddr;

use serde::Deserialize;

use super::{Items, Peer, Pod, Record};

/// Destinations with their ports.
type Ends = Vec<(Peer, Option<(Protocol, u16)>)>;
use crate::model::Protocol;

#[derive(Deserialize)]
struct ClientIntents {
    kind: Option<String>,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Deserialize)]
struct Metadata {
    namespace: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct Spec {
    workload: Option<Named>,
    service: Option<Named>,
    #[serde(default)]
    targets: Vec<Target>,
    #[serde(default)]
    calls: Vec<Call>,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

/// A `v2` target: exactly one of these is set.
#[derive(Deserialize)]
struct Target {
    kubernetes: Option<Named>,
    service: Option<Named>,
    kafka: Option<Named>,
    internet: Option<Internet>,
    sql: Option<serde::de::IgnoredAny>,
    aws: Option<serde::de::IgnoredAny>,
    gcp: Option<serde::de::IgnoredAny>,
    azure: Option<serde::de::IgnoredAny>,
}

/// A `v1` call: a name and a type (`http`, `kafka`, `database`, `internet`, ...).
#[derive(Deserialize)]
struct Call {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    internet: Option<Internet>,
}

#[derive(Deserialize)]
struct Internet {
    #[serde(default)]
    ips: Vec<String>,
    #[serde(default)]
    ports: Vec<u32>,
}

fn pod(namespace: &str, name: &str) -> Peer {
    Peer::Pod(std::sync::Arc::new(Pod {
        namespace: namespace.to_string(),
        workload: Some(name.to_string()),
        pod: None,
        labels: Default::default(),
    }))
}

/// `name` or `name.namespace` (or a longer Kubernetes host name).
fn target(name: &str, own: &str) -> Peer {
    match crate::import::draft::kube_host(name) {
        Some((n, "")) => pod(own, n),
        Some((n, ns)) => pod(ns, n),
        None => Peer::Other(format!("host {}", crate::text::clean(name))),
    }
}

fn internet(i: &Internet) -> Result<Ends, String> {
    let mut ips = Vec::new();
    for ip in &i.ips {
        ips.push(Some(ip.parse::<IpAddr>().map_err(|_| {
            format!("`ips` entry {:?} is not an address", crate::text::clean(ip))
        })?));
    }
    if ips.is_empty() {
        ips.push(None);
    }
    let mut ports = Vec::new();
    for &p in &i.ports {
        let p = u16::try_from(p)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("`ports` entry {p} is outside 1..65535"))?;
        ports.push(Some((Protocol::Tcp, p)));
    }
    if ports.is_empty() {
        ports.push(None);
    }
    Ok(ips
        .iter()
        .flat_map(|ip| ports.iter().map(move |p| (Peer::World(*ip), *p)))
        .collect())
}

/// The records of one `ClientIntents` object.
fn records(value: &str) -> Result<Vec<Record>, String> {
    let ci: ClientIntents =
        serde_json::from_str(value).map_err(|e| format!("not a ClientIntents object: {e}"))?;
    if ci.kind.as_deref() != Some("ClientIntents") {
        return Err("not a ClientIntents object: its `kind` is not ClientIntents".to_string());
    }
    let namespace = ci
        .metadata
        .namespace
        .filter(|n| !n.is_empty())
        .ok_or("a ClientIntents without `metadata.namespace`")?;
    let client = ci
        .spec
        .workload
        .or(ci.spec.service)
        .map(|n| n.name)
        .or(ci.metadata.name)
        .ok_or("a ClientIntents that names no client (`spec.workload.name`)")?;
    let source = pod(&namespace, &client);
    let mut ends: Ends = Vec::new();
    for t in &ci.spec.targets {
        if let Some(n) = t
            .kubernetes
            .as_ref()
            .or(t.service.as_ref())
            .or(t.kafka.as_ref())
        {
            ends.push((target(&n.name, &namespace), None));
        } else if let Some(i) = &t.internet {
            ends.extend(internet(i)?);
        } else {
            let what = if t.sql.is_some() {
                "an SQL database"
            } else if t.aws.is_some() {
                "an AWS resource"
            } else if t.gcp.is_some() {
                "a GCP resource"
            } else if t.azure.is_some() {
                "an Azure resource"
            } else {
                "a target of a kind not known"
            };
            ends.push((Peer::Other(what.to_string()), None));
        }
    }
    for c in &ci.spec.calls {
        if let Some(i) = &c.internet {
            ends.extend(internet(i)?);
        } else if let Some(name) = &c.name {
            ends.push((target(name, &namespace), None));
        } else {
            let kind = c.kind.as_deref().unwrap_or("unknown");
            ends.push((
                Peer::Other(format!("a {} call", crate::text::clean(kind))),
                None,
            ));
        }
    }
    Ok(ends
        .into_iter()
        .map(|(destination, port)| Record {
            source: source.clone(),
            destination,
            port,
            portless: false,
            time: None,
            count: 1,
            reply: false,
            dns: false,
            dropped: false,
        })
        .collect())
}

/// Reads a whole export: each `ClientIntents` object with the line it starts on, as records or
/// as what is wrong with it. `Err` when the text is not a JSON array at all.
pub fn parse(text: &str) -> Result<Items, String> {
    Ok(super::json_items(text)?
        .into_iter()
        .map(|(line, raw)| (line, records(raw)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_a_namespace_and_internet_targets() {
        let text = r#"[
  {"kind": "ClientIntents", "apiVersion": "k8s.otterize.com/v2beta1",
   "metadata": {"name": "web", "namespace": "shop"},
   "spec": {"workload": {"name": "web", "kind": "Deployment"},
            "targets": [{"kubernetes": {"name": "db.data", "kind": "StatefulSet"}},
                        {"internet": {"ips": ["203.0.113.7"], "ports": [443]}}]}}
]"#;
        let parsed = parse(text).unwrap();
        assert_eq!(parsed[0].0, 2);
        let records = parsed[0].1.as_ref().unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].destination, pod("data", "db"));
        assert_eq!(
            records[1].destination,
            Peer::World(Some("203.0.113.7".parse().unwrap()))
        );
        assert_eq!(records[1].port, Some((Protocol::Tcp, 443)));
    }
}
