//! Observed traffic as input: flow records that teams already export, held against the design.
//!
//! The stages, one module each, in data-flow order: `read` (files → records, one line at a
//! time, in the format it detects: `hubble` for `hubble observe -o json`/`jsonpb` lines,
//! `otterize` for the network mapper's `export --format json`, `table` for a plain CSV or JSON
//! table), then `observe` (each record classified — a call, a reply, traffic of the node, a DNS
//! lookup, the API server — its endpoints mapped to the workspace's services the way `verify`
//! maps workloads, and aggregated per source, destination and port), then `check` (the
//! findings of `verify --flows`) and `draft` (the calls `import --flows` writes).
//!
//! Records are never kept: each is classified and added to a counter as it is read, so memory
//! grows with the number of distinct (source, destination, port), not with the number of
//! records. Only `read` touches the file system; nothing here prints.

pub mod check;
pub mod draft;
pub mod hubble;
pub mod observe;
pub mod otterize;
pub mod read;
pub mod render;
pub mod table;

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::model::Protocol;

/// Pod labels, as a flow shows them (`k8s:` prefix removed).
pub type Labels = BTreeMap<String, String>;

/// The hash of the maps filled once per record: fast, and their order never shows (reports
/// sort).
pub type FastHash = foldhash::fast::RandomState;

/// One end of a flow record, as the record names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// A pod of the cluster (shared: a pod is named by many records).
    Pod(std::sync::Arc<Pod>),
    /// An address outside the cluster (Cilium's `reserved:world`); the address when known.
    World(Option<IpAddr>),
    /// A node: its own network, or a health check it runs (`reserved:host`, `remote-node`,
    /// `health`).
    Node,
    /// The Kubernetes API server (`reserved:kube-apiserver`).
    ApiServer,
    /// An identity that names no pod and no address: `reserved:ingress`, `unmanaged`,
    /// `unknown`, or a bare identity number; what the record says, for the report.
    Other(String),
}

/// A pod as a flow record names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pod {
    /// Its namespace.
    pub namespace: String,
    /// The name of its controller (Hubble's `workloads`), or the name a table or an export
    /// gives.
    pub workload: Option<String>,
    /// The pod's own name, when the record gives it.
    pub pod: Option<String>,
    /// Its labels.
    pub labels: Labels,
}

impl Pod {
    /// `namespace/name`, for messages and for grouping: the workload, else the `app` or
    /// `app.kubernetes.io/name` label (which the replicas of a workload share), else the pod.
    pub fn id(&self) -> String {
        let name = self
            .workload
            .as_deref()
            .or(self.labels.get("app").map(String::as_str))
            .or(self
                .labels
                .get("app.kubernetes.io/name")
                .map(String::as_str))
            .or(self.pod.as_deref())
            .unwrap_or("?");
        format!("{}/{name}", self.namespace)
    }
}

/// One flow record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Who sent the packet or opened the connection.
    pub source: Peer,
    /// Who received it.
    pub destination: Peer,
    /// The transport protocol and destination port; `None` when the record has none (ICMP, or
    /// an export that lists calls without ports).
    pub port: Option<(Protocol, u16)>,
    /// True when the record says the transport has no port (ICMP): not a call a policy names.
    pub portless: bool,
    /// When it was seen, in seconds since the Unix epoch.
    pub time: Option<i64>,
    /// How many connections or packets the record stands for (a table may aggregate).
    pub count: u64,
    /// A packet of the answering side.
    pub reply: bool,
    /// An application-level DNS record (Hubble's `l7.dns`).
    pub dns: bool,
    /// The cluster dropped it (`DROPPED`, `ERROR`): not traffic that flows today.
    pub dropped: bool,
}

/// The input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `hubble observe -o json` / `-o jsonpb`: one JSON object a line.
    Hubble,
    /// `otterize network-mapper export --format json`: a JSON array of ClientIntents.
    Otterize,
    /// A CSV table with a header line.
    Csv,
    /// A JSON table: an array of objects, or one object a line.
    JsonTable,
}

impl Format {
    /// How messages name it.
    pub fn title(self) -> &'static str {
        match self {
            Format::Hubble => "Hubble flows",
            Format::Otterize => "an Otterize network-mapper export",
            Format::Csv => "a CSV flow table",
            Format::JsonTable => "a JSON flow table",
        }
    }
}

/// Where a record was read: the index of its file among the inputs, and its 1-based line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct At {
    /// Index into the list of files read.
    pub file: usize,
    /// 1-based line.
    pub line: usize,
}

/// The items of a JSON document, each read into records or refused with the reason.
pub type Items = Vec<(usize, Result<Vec<Record>, String>)>;

/// The items of a JSON array, each as its text with the 1-based line it starts on.
pub fn json_items(text: &str) -> Result<Vec<(usize, &str)>, String> {
    let items: Vec<&serde_json::value::RawValue> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON array: {e}"))?;
    let base = text.as_ptr() as usize;
    let mut line = 1;
    let mut counted = 0;
    Ok(items
        .into_iter()
        .map(|raw| {
            let offset = (raw.get().as_ptr() as usize)
                .saturating_sub(base)
                .min(text.len());
            line += text.as_bytes()[counted..offset]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            counted = offset;
            (line, raw.get())
        })
        .collect())
}

/// `2024-01-01T10:00:00Z` for seconds since the epoch.
pub fn format_time(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).map_or_else(|_| seconds.to_string(), |t| t.to_string())
}
