//! Read stage of flows: a plain table of observed traffic, for every tool that is neither Hubble
//! nor Otterize (VPC flow logs joined with pod names, Calico flow logs, a spreadsheet), as CSV
//! with a header line or as JSON (an array of objects, or one object a line). Columns:
//! `source`, `destination` (required), `port` (empty: any port), `protocol` (TCP, UDP or SCTP;
//! default TCP), `count` (default 1), and `time`, or `first` and `last`, in RFC 3339. An
//! endpoint is `namespace/name` (a workload), a bare `name` (in `default`, like an object
//! without a namespace) or an IP address outside the cluster. Any other column is an error:
//! a misspelt `destination` must not turn into traffic nobody asked about. Pure.

use std::net::IpAddr;

use serde::Deserialize;

use super::{Peer, Pod, Record};
use crate::model::Protocol;

/// One row, as CSV or JSON gives it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    source: String,
    destination: String,
    #[serde(default, deserialize_with = "number")]
    port: Option<u64>,
    #[serde(default)]
    protocol: Option<String>,
    #[serde(default, deserialize_with = "number")]
    count: Option<u64>,
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    first: Option<String>,
    #[serde(default)]
    last: Option<String>,
}

/// A number given as a number or as a string (CSV has only strings); empty is absent.
fn number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(u64),
        Text(String),
    }
    match Option::<Either>::deserialize(d)? {
        None => Ok(None),
        Some(Either::Number(n)) => Ok(Some(n)),
        Some(Either::Text(t)) if t.trim().is_empty() => Ok(None),
        Some(Either::Text(t)) => t.trim().parse().map(Some).map_err(|_| {
            serde::de::Error::custom(format!("{:?} is not a number", crate::text::clean(&t)))
        }),
    }
}

/// The CSV columns, for the error about one that is not among them.
pub const COLUMNS: [&str; 8] = [
    "source",
    "destination",
    "port",
    "protocol",
    "count",
    "time",
    "first",
    "last",
];

fn endpoint(text: &str, what: &str) -> Result<Peer, String> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Peer::World(Some(ip)));
    }
    let (namespace, name) = text.split_once('/').unwrap_or(("default", text));
    let label = |s: &str| {
        crate::names::dns1123_label(s).is_ok() || crate::names::dns1123_subdomain(s).is_ok()
    };
    if !label(namespace) || !label(name) {
        return Err(format!(
            "`{what}` {:?} is neither `namespace/name`, a name nor an IP address",
            crate::text::clean(text)
        ));
    }
    Ok(Peer::Pod(std::sync::Arc::new(Pod {
        namespace: namespace.to_string(),
        workload: Some(name.to_string()),
        pod: None,
        labels: Default::default(),
    })))
}

fn time(text: &Option<String>, what: &str) -> Result<Option<i64>, String> {
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse::<jiff::Timestamp>()
            .map(|t| Some(t.as_second()))
            .map_err(|_| {
                format!(
                    "`{what}` {:?} is not an RFC 3339 time",
                    crate::text::clean(t)
                )
            }),
    }
}

impl Row {
    /// The record of the row: when it gives `first` and `last`, the first with the count
    /// and the last as a second record of none, so that the window covers both.
    pub fn records(self) -> Result<Vec<Record>, String> {
        let protocol = match self.protocol.as_deref().map(str::trim) {
            None | Some("") => Protocol::Tcp,
            Some(p) => match p.to_ascii_uppercase().as_str() {
                "TCP" => Protocol::Tcp,
                "UDP" => Protocol::Udp,
                "SCTP" => Protocol::Sctp,
                _ => {
                    return Err(format!(
                        "`protocol` {:?} is not TCP, UDP or SCTP",
                        crate::text::clean(p)
                    ));
                }
            },
        };
        let port = match self.port {
            None => None,
            Some(p @ 1..=65535) => Some((protocol, p as u16)),
            Some(p) => return Err(format!("`port` {p} is outside 1..65535")),
        };
        let first = time(&self.first, "first")?.or(time(&self.time, "time")?);
        let last = time(&self.last, "last")?;
        let record = Record {
            source: endpoint(&self.source, "source")?,
            destination: endpoint(&self.destination, "destination")?,
            port,
            portless: false,
            time: first,
            count: self.count.unwrap_or(1),
            reply: false,
            dns: false,
            dropped: false,
        };
        let mut out = vec![record.clone()];
        if last.is_some() && last != first {
            out.push(Record {
                time: last,
                count: 0,
                ..record
            });
        }
        Ok(out)
    }
}

/// The records of one row given as a JSON object.
pub fn json_row(text: &str) -> Result<Vec<Record>, String> {
    serde_json::from_str::<Row>(text)
        .map_err(|e| format!("not a flow table row: {e}"))
        .and_then(Row::records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_columns() {
        let row: Row = serde_json::from_str(
            r#"{"source": "shop/web", "destination": "203.0.113.9", "port": "443", "first": "2024-01-01T00:00:00Z", "last": "2024-01-02T00:00:00Z", "count": 7}"#,
        )
        .unwrap();
        let records = row.records().unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].count, 7);
        assert_eq!(records[1].count, 0);
        assert_eq!(records[0].port, Some((Protocol::Tcp, 443)));
        let bad: Result<Row, _> =
            serde_json::from_str(r#"{"source": "a", "destinaton": "b", "port": 1}"#);
        assert!(bad.unwrap_err().to_string().contains("destinaton"));
        let row: Row = serde_json::from_str(r#"{"source": "a b", "destination": "b"}"#).unwrap();
        assert!(row.records().unwrap_err().contains("neither"));
    }
}
