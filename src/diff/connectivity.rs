//! Analyse stage of `diff`, the connectivity part: what the NetworkPolicies `generate` would
//! write for each side allow, as the `verify` engine computes it, and the set difference of the
//! two. The layouts are rendered in memory and read back by `verify`'s reader, so the answer is
//! the one `verify --connectivity` gives for the written files; nothing touches the disk.
//!
//! The two connectivities are compared in the form of `verify --connectivity --format json`,
//! the engine's stable contract, so that the entries of the difference have exactly that shape.
//! Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::diagnostic::Error;
use crate::model::Workspace;
use crate::verify::engine::Analysis;
use crate::verify::manifest::Manifests;
use crate::verify::read::{ParsedText, merge_texts, parse_text};
use crate::verify::render::connectivity_json;
use crate::verify::sets::{AddrSet, Ranges};

/// Pod-to-pod traffic, as in `verify --connectivity --format json`: every pod of `from` may
/// open connections to every pod of `to` on these destination ports (inclusive ranges).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// `namespace/name` of the source workload.
    pub from: String,
    /// `namespace/name` of the destination workload.
    pub to: String,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// Sorted, merged inclusive ranges.
    pub ports: Vec<(u16, u16)>,
}

/// Traffic between a workload and outside addresses, as in `verify --connectivity --format
/// json`: on these ports, exactly these addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct External {
    /// `namespace/name`.
    pub workload: String,
    /// `ingress` or `egress`.
    pub direction: String,
    /// The fewest CIDRs of the address set, IPv4 then IPv6.
    pub cidrs: Vec<String>,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// Sorted, merged inclusive ranges.
    pub ports: Vec<(u16, u16)>,
}

/// The connectivity contract of `verify --connectivity --format json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connectivity {
    /// Every workload, sorted.
    pub workloads: Vec<String>,
    /// Pod-to-pod traffic.
    pub connections: Vec<Connection>,
    /// Traffic with outside addresses.
    pub external: Vec<External>,
}

/// What the new side allows that the old did not (`added`), and the reverse (`removed`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ConnectivityChanges {
    /// New pod-to-pod traffic, sorted by from, to, protocol.
    pub added: Vec<Connection>,
    /// Pod-to-pod traffic no longer allowed.
    pub removed: Vec<Connection>,
    /// New traffic with outside addresses, sorted by workload, direction, protocol, ports.
    pub external_added: Vec<External>,
    /// Traffic with outside addresses no longer allowed.
    pub external_removed: Vec<External>,
}

impl ConnectivityChanges {
    /// True when both sides allow the same.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.external_added.is_empty()
            && self.external_removed.is_empty()
    }
}

/// Kinds of the generated layout that the `verify` engine reads nothing from: their documents
/// are left out of the text it parses, a tenth of the layout's bytes.
const UNREAD_KINDS: [&str; 4] = [
    "Service",
    "PodDisruptionBudget",
    "HTTPRoute",
    "Kustomization",
];

/// The documents of the layout `generate` renders for `ws` that the `verify` engine reads:
/// those of every file but the [`UNREAD_KINDS`], without comment lines (a quarter of the bytes,
/// and parsing is nearly all of the time). `generate` writes no block scalars and quotes every
/// string on one line, so a line whose first non-blank character is `#` is always a comment
/// there.
fn layout_documents(ws: &Workspace) -> Vec<String> {
    let files = crate::generate::generate(ws);
    let mut docs = Vec::new();
    for file in &files {
        for doc in crate::yaml::documents(&file.contents) {
            let unread = doc.text.lines().any(|l| {
                l.strip_prefix("kind: ")
                    .is_some_and(|kind| UNREAD_KINDS.contains(&kind.trim()))
            });
            if !unread {
                let mut kept = String::with_capacity(doc.text.len());
                for line in doc.text.lines() {
                    if !line.trim_start().starts_with('#') {
                        kept.push_str(line);
                        kept.push('\n');
                    }
                }
                docs.push(kept);
            }
        }
    }
    docs
}

/// The manifests of the layout `generate` renders for `ws`, as one multi-document YAML text
/// for the `verify` engine: the documents [`layout_documents`] keeps.
pub fn layout_text(ws: &Workspace) -> String {
    let docs = layout_documents(ws);
    let mut text = String::with_capacity(docs.iter().map(|d| d.len() + 4).sum());
    for doc in docs {
        text.push_str("---\n");
        text.push_str(&doc);
    }
    text
}

/// `docs` parsed as one multi-document text named `name`.
fn parse(name: &str, docs: &[&str]) -> Result<ParsedText, Error> {
    let mut text = String::with_capacity(docs.iter().map(|d| d.len() + 4).sum());
    for doc in docs {
        text.push_str("---\n");
        text.push_str(doc);
    }
    parse_text(name, &text).map_err(|e| Error::Internal {
        message: format!("the generated layout {name} does not read back: {e}"),
    })
}

/// The connectivity of the layouts `generate` renders for `old` and `new`. A design change
/// leaves most documents as they were: each document the two sides share is parsed once and
/// merged into both, and the work is shared by two threads.
pub fn of_layouts(old: &Workspace, new: &Workspace) -> Result<(Connectivity, Connectivity), Error> {
    let (old_docs, new_docs) = rayon::join(|| layout_documents(old), || layout_documents(new));
    let in_old: HashSet<&str> = old_docs.iter().map(String::as_str).collect();
    let in_new: HashSet<&str> = new_docs.iter().map(String::as_str).collect();
    let (shared, new_only): (Vec<&str>, Vec<&str>) = new_docs
        .iter()
        .map(String::as_str)
        .partition(|d| in_old.contains(d));
    let old_only: Vec<&str> = old_docs
        .iter()
        .map(String::as_str)
        .filter(|d| !in_new.contains(d))
        .collect();
    let name = |ws: &Workspace| format!("{} (generated)", ws.source.path().display());
    let (first, second) = shared.split_at(shared.len() / 2);
    let (old_parts, new_parts) = rayon::join(
        || Ok::<_, Error>((parse("both layouts", first)?, parse(&name(old), &old_only)?)),
        || {
            Ok::<_, Error>((
                parse("both layouts", second)?,
                parse(&name(new), &new_only)?,
            ))
        },
    );
    let ((first, old_only), (second, new_only)) = (old_parts?, new_parts?);
    let internal = |e: Error| Error::Internal {
        message: format!("the generated layouts do not merge: {e}"),
    };
    let old_manifests = merge_texts([first.clone(), second.clone(), old_only]).map_err(internal)?;
    let new_manifests = merge_texts([first, second, new_only]).map_err(internal)?;
    let (old_conn, new_conn) = rayon::join(
        || connectivity(&old_manifests),
        || connectivity(&new_manifests),
    );
    Ok((old_conn?, new_conn?))
}

/// The connectivity of `manifests`, in the form of `verify --connectivity --format json`.
fn connectivity(manifests: &Manifests) -> Result<Connectivity, Error> {
    let json = connectivity_json(&Analysis::new(manifests));
    serde_json::from_str(&json).map_err(|e| Error::Internal {
        message: format!("verify's connectivity JSON does not parse: {e}"),
    })
}

fn ranges(ports: &[(u16, u16)]) -> Ranges {
    let mut r = Ranges::new();
    for &(lo, hi) in ports {
        r.insert(u128::from(lo), u128::from(hi));
    }
    r
}

fn port_pairs(r: &Ranges) -> Vec<(u16, u16)> {
    r.iter()
        .map(|(lo, hi)| {
            (
                u16::try_from(lo).unwrap_or(u16::MAX),
                u16::try_from(hi).unwrap_or(u16::MAX),
            )
        })
        .collect()
}

type PairKey = (String, String, String);

fn pair_map(c: &Connectivity) -> BTreeMap<PairKey, Ranges> {
    let mut out: BTreeMap<PairKey, Ranges> = BTreeMap::new();
    for conn in &c.connections {
        out.entry((conn.from.clone(), conn.to.clone(), conn.protocol.clone()))
            .or_default()
            .union_with(&ranges(&conn.ports));
    }
    out
}

/// Pairs of `a` with the ports `b` does not allow.
fn pairs_beyond(a: &BTreeMap<PairKey, Ranges>, b: &BTreeMap<PairKey, Ranges>) -> Vec<Connection> {
    a.iter()
        .filter_map(|((from, to, protocol), ports)| {
            let extra = match b.get(&(from.clone(), to.clone(), protocol.clone())) {
                Some(other) => ports.difference(other),
                None => ports.clone(),
            };
            (!extra.is_empty()).then(|| Connection {
                from: from.clone(),
                to: to.clone(),
                protocol: protocol.clone(),
                ports: port_pairs(&extra),
            })
        })
        .collect()
}

/// (workload, direction, protocol).
type ExternalKey = (String, String, String);

/// External traffic per key as (addresses, ports) pieces.
fn external_map(c: &Connectivity) -> BTreeMap<ExternalKey, Vec<(AddrSet, Ranges)>> {
    let mut out: BTreeMap<ExternalKey, Vec<(AddrSet, Ranges)>> = BTreeMap::new();
    for e in &c.external {
        let mut addresses = AddrSet::none();
        for cidr in &e.cidrs {
            if let Ok(net) = cidr.parse::<IpNet>() {
                addresses.insert_net(&net);
            }
        }
        out.entry((e.workload.clone(), e.direction.clone(), e.protocol.clone()))
            .or_default()
            .push((addresses, ranges(&e.ports)));
    }
    out
}

/// The stretches of addresses of one family on which no piece starts or ends, within the union
/// of `ranges`.
fn stretches<'a>(ranges: impl Iterator<Item = &'a Ranges>) -> Vec<(u128, u128)> {
    let mut union = Ranges::new();
    let mut bounds: BTreeSet<u128> = BTreeSet::new();
    for r in ranges {
        union.union_with(r);
        for (lo, hi) in r.iter() {
            bounds.insert(lo);
            if let Some(next) = hi.checked_add(1) {
                bounds.insert(next);
            }
        }
    }
    let bounds: Vec<u128> = bounds.into_iter().collect();
    let mut out = Vec::new();
    for (i, &lo) in bounds.iter().enumerate() {
        let hi = bounds.get(i + 1).map_or(u128::MAX, |next| next - 1);
        if union.covers(lo, hi) {
            out.push((lo, hi));
        }
    }
    out
}

/// What `a` allows with outside addresses beyond `b`, per key: for each address, the ports of
/// `a` minus those of `b`; addresses with the same remaining ports are one entry, as the
/// contract groups them.
fn external_beyond(
    a: &BTreeMap<ExternalKey, Vec<(AddrSet, Ranges)>>,
    b: &BTreeMap<ExternalKey, Vec<(AddrSet, Ranges)>>,
) -> Vec<External> {
    let mut out = Vec::new();
    for (key, mine) in a {
        let theirs = b.get(key).map_or(&[][..], |v| &v[..]);
        let mut by_ports: BTreeMap<Ranges, AddrSet> = BTreeMap::new();
        for v6 in [false, true] {
            let family = |set: &AddrSet| if v6 { set.v6.clone() } else { set.v4.clone() };
            let all: Vec<Ranges> = mine.iter().chain(theirs).map(|(s, _)| family(s)).collect();
            for (lo, hi) in stretches(all.iter()) {
                let ports_at = |pieces: &[(AddrSet, Ranges)]| {
                    let mut ports = Ranges::new();
                    for (set, p) in pieces {
                        if family(set).covers(lo, hi) {
                            ports.union_with(p);
                        }
                    }
                    ports
                };
                let extra = ports_at(mine).difference(&ports_at(theirs));
                if extra.is_empty() {
                    continue;
                }
                let entry = by_ports.entry(extra).or_default();
                if v6 {
                    entry.v6.insert(lo, hi);
                } else {
                    entry.v4.insert(lo, hi);
                }
            }
        }
        for (ports, addresses) in by_ports {
            out.push(External {
                workload: key.0.clone(),
                direction: key.1.clone(),
                cidrs: addresses.cidrs().iter().map(ToString::to_string).collect(),
                protocol: key.2.clone(),
                ports: port_pairs(&ports),
            });
        }
    }
    out.sort_by(|x, y| {
        (&x.workload, &x.direction, &x.protocol, &x.ports).cmp(&(
            &y.workload,
            &y.direction,
            &y.protocol,
            &y.ports,
        ))
    });
    out
}

/// The set difference of two connectivities, both ways.
pub fn difference(old: &Connectivity, new: &Connectivity) -> ConnectivityChanges {
    let (old_pairs, new_pairs) = (pair_map(old), pair_map(new));
    let (old_ext, new_ext) = (external_map(old), external_map(new));
    ConnectivityChanges {
        added: pairs_beyond(&new_pairs, &old_pairs),
        removed: pairs_beyond(&old_pairs, &new_pairs),
        external_added: external_beyond(&new_ext, &old_ext),
        external_removed: external_beyond(&old_ext, &new_ext),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(cidrs: &[&str], ports: &[(u16, u16)]) -> External {
        External {
            workload: "a/web".into(),
            direction: "egress".into(),
            cidrs: cidrs.iter().map(ToString::to_string).collect(),
            protocol: "TCP".into(),
            ports: ports.to_vec(),
        }
    }

    fn of(external: Vec<External>) -> Connectivity {
        Connectivity {
            external,
            ..Connectivity::default()
        }
    }

    /// Worked by hand: 0.0.0.0/0 on 443 against 10.0.0.0/8 on 443 and 10.0.0.0/9 on 80 leaves
    /// everything but 10.0.0.0/8 on 443, and 10.0.0.0/9 on 80 the other way round.
    #[test]
    fn external_difference_per_address_and_port() {
        let old = of(vec![
            ext(&["10.0.0.0/8"], &[(443, 443)]),
            ext(&["10.0.0.0/9"], &[(80, 80)]),
        ]);
        let new = of(vec![ext(&["0.0.0.0/0"], &[(443, 443)])]);
        let d = difference(&old, &new);
        assert_eq!(d.external_added.len(), 1);
        assert_eq!(d.external_added[0].ports, [(443, 443)]);
        assert_eq!(
            d.external_added[0].cidrs,
            [
                "0.0.0.0/5",
                "8.0.0.0/7",
                "11.0.0.0/8",
                "12.0.0.0/6",
                "16.0.0.0/4",
                "32.0.0.0/3",
                "64.0.0.0/2",
                "128.0.0.0/1"
            ]
        );
        assert_eq!(d.external_removed, [ext(&["10.0.0.0/9"], &[(80, 80)])]);
        // Addresses that keep some ports and lose others are grouped by what they lose.
        let wide = of(vec![ext(&["::/0"], &[(1, 65535)])]);
        let narrow = of(vec![ext(&["2001:db8::/32"], &[(443, 443)])]);
        let d = difference(&wide, &narrow);
        assert_eq!(
            d.external_removed
                .iter()
                .map(|e| (e.cidrs.len(), e.ports.clone()))
                .collect::<Vec<_>>(),
            [(1, vec![(1, 442), (444, 65535)]), (32, vec![(1, 65535)])]
        );
    }

    #[test]
    fn pairs_lose_only_the_ports_the_other_side_allows() {
        let conn = |ports: Vec<(u16, u16)>| Connection {
            from: "a/x".into(),
            to: "b/y".into(),
            protocol: "TCP".into(),
            ports,
        };
        let old = Connectivity {
            connections: vec![conn(vec![(80, 80), (8000, 8100)])],
            ..Connectivity::default()
        };
        let new = Connectivity {
            connections: vec![conn(vec![(8050, 9000)])],
            ..Connectivity::default()
        };
        let d = difference(&old, &new);
        assert_eq!(d.added, [conn(vec![(8101, 9000)])]);
        assert_eq!(d.removed, [conn(vec![(80, 80), (8000, 8049)])]);
    }
}
