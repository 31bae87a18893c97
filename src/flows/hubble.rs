//! Read stage of flows: one line of `hubble observe -o json` (or `-o jsonpb`), the JSON form of
//! Cilium's `GetFlowsResponse` (`{"flow": {...}, "node_name", "time"}`), or of a bare `Flow`
//! (the legacy `-o json` and Hubble's flow export). Field names are those of `flow.proto`
//! (`api/v1/flow/flow.proto` in cilium/cilium): `verdict`, `IP`, `l4.TCP.destination_port`,
//! `source`/`destination` with `namespace`, `labels` (`k8s:app=web`, `reserved:world`),
//! `pod_name` and `workloads`, `is_reply`, `l7.dns`. The many other fields of a flow say nothing
//! a NetworkPolicy depends on and are passed over. Pure: text in, record out.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::{Labels, Peer, Pod, Record};
use crate::model::Protocol;

/// What one line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A flow.
    Flow(Box<Record>),
    /// Hubble's notice that it lost this many events: the flows are incomplete.
    Lost(u64),
    /// Another response (a node's status): nothing to read.
    Other,
}

/// A `GetFlowsResponse`, or a bare flow: the flow's fields are read at the top too, in the
/// same pass (serde's `flatten` would buffer every field of every line).
#[derive(Deserialize)]
struct Response<'a> {
    #[serde(borrow)]
    flow: Option<Flow<'a>>,
    lost_events: Option<LostEvents>,
    node_status: Option<IgnoredAny>,
    agent_event: Option<IgnoredAny>,
    debug_event: Option<IgnoredAny>,
    #[serde(borrow)]
    time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    verdict: Option<Cow<'a, str>>,
    #[serde(rename = "IP", borrow)]
    ip: Option<Ip<'a>>,
    l4: Option<Layer4>,
    #[serde(borrow)]
    source: Option<&'a RawValue>,
    #[serde(borrow)]
    destination: Option<&'a RawValue>,
    is_reply: Option<bool>,
    reply: Option<bool>,
    l7: Option<Layer7>,
}

impl<'a> Response<'a> {
    /// The top-level fields as a flow: a bare flow.
    fn bare(self) -> Flow<'a> {
        Flow {
            time: self.time,
            verdict: self.verdict,
            ip: self.ip,
            l4: self.l4,
            source: self.source,
            destination: self.destination,
            is_reply: self.is_reply,
            reply: self.reply,
            l7: self.l7,
        }
    }
}

#[derive(Deserialize)]
struct LostEvents {
    #[serde(default)]
    num_events_lost: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Flow<'a> {
    #[serde(borrow)]
    time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    verdict: Option<Cow<'a, str>>,
    #[serde(rename = "IP", borrow)]
    ip: Option<Ip<'a>>,
    l4: Option<Layer4>,
    #[serde(borrow)]
    source: Option<&'a RawValue>,
    #[serde(borrow)]
    destination: Option<&'a RawValue>,
    is_reply: Option<bool>,
    reply: Option<bool>,
    l7: Option<Layer7>,
}

#[derive(Deserialize)]
struct Ip<'a> {
    #[serde(borrow)]
    source: Option<Cow<'a, str>>,
    #[serde(borrow)]
    destination: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[allow(non_snake_case, reason = "the field names of flow.proto")]
struct Layer4 {
    TCP: Option<Ports>,
    UDP: Option<Ports>,
    SCTP: Option<Ports>,
    ICMPv4: Option<IgnoredAny>,
    ICMPv6: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Ports {
    destination_port: Option<u32>,
}

#[derive(Deserialize)]
struct Layer7 {
    dns: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Endpoint<'a> {
    identity: Option<u32>,
    #[serde(borrow)]
    namespace: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    labels: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    pod_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    workloads: Vec<Workload<'a>>,
}

#[derive(Deserialize)]
struct Workload<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
}

/// The endpoints already read, by their JSON text: a pod is named the same way by every record
/// of its traffic, and reading its labels again each time was most of the work. Each reader
/// thread has its own; it is emptied when it holds [`Cache::MAX`] endpoints.
#[derive(Default)]
pub struct Cache {
    endpoints: std::collections::HashMap<Box<str>, Peer, super::FastHash>,
}

impl Cache {
    /// The most endpoints kept.
    pub const MAX: usize = 100_000;

    /// The peer an endpoint names, with `address` for one outside the cluster.
    fn peer(&mut self, raw: Option<&RawValue>, address: Option<&str>) -> Result<Peer, String> {
        let Some(raw) = raw else {
            return Ok(Peer::Other("no endpoint".to_string()));
        };
        let peer = match self.endpoints.get(raw.get()) {
            Some(peer) => peer.clone(),
            None => {
                let endpoint: Endpoint<'_> = serde_json::from_str(raw.get())
                    .map_err(|e| format!("not a Hubble flow: `source` or `destination`: {e}"))?;
                let peer = peer(&endpoint)?;
                if self.endpoints.len() >= Self::MAX {
                    self.endpoints.clear();
                }
                self.endpoints.insert(raw.get().into(), peer.clone());
                peer
            }
        };
        // The address is the record's own, not the endpoint's.
        match peer {
            Peer::World(_) => Ok(Peer::World(world_address(address)?)),
            peer => Ok(peer),
        }
    }
}

/// Cilium's reserved identities by number, for records that carry no labels.
fn reserved_identity(identity: u32) -> Option<&'static str> {
    Some(match identity {
        1 => "host",
        2 | 9 | 10 => "world",
        3 => "unmanaged",
        4 => "health",
        5 => "init",
        6 => "remote-node",
        7 => "kube-apiserver",
        8 => "ingress",
        _ => return None,
    })
}

/// The address of an outside peer, when the record gives one.
fn world_address(address: Option<&str>) -> Result<Option<IpAddr>, String> {
    match address {
        Some(a) if !a.is_empty() => a
            .parse::<IpAddr>()
            .map(Some)
            .map_err(|_| format!("`IP` {:?} is not an address", crate::text::clean(a))),
        _ => Ok(None),
    }
}

/// The peer an endpoint names; one outside the cluster without its address.
fn peer(e: &Endpoint<'_>) -> Result<Peer, String> {
    let mut reserved: Vec<&str> = e
        .labels
        .iter()
        .filter_map(|l| l.strip_prefix("reserved:"))
        .collect();
    if reserved.is_empty()
        && let Some(r) = e.identity.and_then(reserved_identity)
    {
        reserved.push(r);
    }
    let namespace = e.namespace.as_deref().unwrap_or("");
    // The API server before the node: on a control-plane node it carries both.
    if reserved.contains(&"kube-apiserver") {
        return Ok(Peer::ApiServer);
    }
    if !namespace.is_empty() {
        let mut labels = Labels::new();
        for l in &e.labels {
            let Some(kv) = l.strip_prefix("k8s:") else {
                continue;
            };
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            // Cilium's own bookkeeping, not labels of the pod.
            if k.starts_with("io.cilium.") || k.starts_with("io.kubernetes.pod.") {
                continue;
            }
            labels.insert(k.to_string(), v.to_string());
        }
        return Ok(Peer::Pod(std::sync::Arc::new(Pod {
            namespace: namespace.to_string(),
            workload: e
                .workloads
                .iter()
                .find_map(|w| w.name.as_deref())
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            pod: e
                .pod_name
                .as_deref()
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            labels,
        })));
    }
    if reserved
        .iter()
        .any(|r| matches!(*r, "host" | "remote-node" | "health"))
    {
        return Ok(Peer::Node);
    }
    if reserved.iter().any(|r| r.starts_with("world")) {
        return Ok(Peer::World(None));
    }
    Ok(Peer::Other(match (reserved.first(), e.identity) {
        (Some(r), _) => format!("reserved:{r}"),
        (None, Some(id)) => format!("identity {id}"),
        (None, None) => "an endpoint without identity".to_string(),
    }))
}

fn time(text: &str) -> Result<i64, String> {
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|_| {
            format!(
                "`time` {:?} is not an RFC 3339 time",
                crate::text::clean(text)
            )
        })
}

fn port(p: &Ports, protocol: Protocol) -> Result<Option<(Protocol, u16)>, String> {
    match p.destination_port {
        None | Some(0) => Ok(None),
        Some(n) => u16::try_from(n)
            .map(|n| Some((protocol, n)))
            .map_err(|_| format!("destination port {n} is outside 1..65535")),
    }
}

/// Reads one line, with the endpoints read before in `cache`. An `Err` says what is wrong with
/// it, without the line's text.
pub fn parse(line: &str, cache: &mut Cache) -> Result<Line, String> {
    let mut response: Response<'_> =
        serde_json::from_str(line).map_err(|e| format!("not a Hubble flow: {e}"))?;
    if let Some(lost) = response.lost_events {
        let n = lost
            .num_events_lost
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(0);
        return Ok(Line::Lost(n));
    }
    if response.flow.is_none()
        && (response.node_status.is_some()
            || response.agent_event.is_some()
            || response.debug_event.is_some())
    {
        return Ok(Line::Other);
    }
    let flow = match response.flow.take() {
        Some(flow) => flow,
        None => response.bare(),
    };
    if flow.source.is_none() && flow.destination.is_none() && flow.l4.is_none() {
        return Err(
            "not a Hubble flow: it has none of `flow`, `source`, `destination` and `l4`"
                .to_string(),
        );
    }
    let (src_ip, dst_ip) = match &flow.ip {
        Some(ip) => (ip.source.as_deref(), ip.destination.as_deref()),
        None => (None, None),
    };
    let (port, portless) = match &flow.l4 {
        None => (None, false),
        Some(l4) => {
            if let Some(p) = &l4.TCP {
                (port(p, Protocol::Tcp)?, false)
            } else if let Some(p) = &l4.UDP {
                (port(p, Protocol::Udp)?, false)
            } else if let Some(p) = &l4.SCTP {
                (port(p, Protocol::Sctp)?, false)
            } else {
                (None, l4.ICMPv4.is_some() || l4.ICMPv6.is_some())
            }
        }
    };
    let verdict = flow.verdict.as_deref().unwrap_or("");
    Ok(Line::Flow(Box::new(Record {
        source: cache.peer(flow.source, src_ip)?,
        destination: cache.peer(flow.destination, dst_ip)?,
        port,
        portless,
        time: flow.time.as_deref().map(time).transpose()?,
        count: 1,
        reply: flow.is_reply.or(flow.reply).unwrap_or(false),
        dns: flow.l7.is_some_and(|l7| l7.dns.is_some()),
        dropped: matches!(verdict, "DROPPED" | "ERROR"),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_identities_by_label_and_number() {
        let line = r#"{"flow":{"source":{"identity":4},"destination":{"labels":["reserved:kube-apiserver","reserved:host"]},"l4":{"TCP":{"destination_port":6443}}}}"#;
        let Line::Flow(r) = parse(line, &mut Cache::default()).unwrap() else {
            panic!()
        };
        assert_eq!(r.source, Peer::Node);
        assert_eq!(r.destination, Peer::ApiServer);
        assert_eq!(r.port, Some((Protocol::Tcp, 6443)));
    }

    #[test]
    fn endpoints_read_once_keep_each_records_address() {
        let mut cache = Cache::default();
        let line = |ip: &str| {
            format!(
                r#"{{"flow":{{"IP":{{"source":"10.0.0.1","destination":"{ip}"}},"source":{{"namespace":"shop","labels":["k8s:app=web"],"pod_name":"web-1"}},"destination":{{"identity":2,"labels":["reserved:world"]}},"l4":{{"TCP":{{"destination_port":443}}}}}}}}"#
            )
        };
        let read = |text: String, cache: &mut Cache| match parse(&text, cache).unwrap() {
            Line::Flow(r) => r,
            other => panic!("{other:?}"),
        };
        let a = read(line("203.0.113.1"), &mut cache);
        let b = read(line("203.0.113.2"), &mut cache);
        assert_eq!(
            a.destination,
            Peer::World(Some("203.0.113.1".parse().unwrap()))
        );
        assert_eq!(
            b.destination,
            Peer::World(Some("203.0.113.2".parse().unwrap()))
        );
        let (Peer::Pod(x), Peer::Pod(y)) = (&a.source, &b.source) else {
            panic!("{a:?}")
        };
        assert!(std::sync::Arc::ptr_eq(x, y), "the pod is read once");
        assert_eq!(x.labels.get("app").map(String::as_str), Some("web"));
        let err = parse(&line("not-an-address"), &mut cache).unwrap_err();
        assert!(err.contains("not an address"), "{err}");
    }

    #[test]
    fn bad_values_are_named_without_the_line() {
        let err = parse(
            r#"{"flow":{"l4":{"TCP":{"destination_port":70000}}}}"#,
            &mut Cache::default(),
        )
        .unwrap_err();
        assert!(err.contains("70000"), "{err}");
        let err = parse(
            r#"{"flow":{"time":"yesterday","l4":{}}}"#,
            &mut Cache::default(),
        )
        .unwrap_err();
        assert!(err.contains("RFC 3339"), "{err}");
        assert!(parse(r#"{"something":1}"#, &mut Cache::default()).is_err());
        assert_eq!(
            parse(
                r#"{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"12"}}"#,
                &mut Cache::default()
            ),
            Ok(Line::Lost(12))
        );
    }
}
