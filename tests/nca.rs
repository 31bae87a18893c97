//! network-config-analyzer (nca) as an oracle of connectivity, shared by the tests of `verify`
//! and `diff`: running it, reading its `txt_no_fw_rules` output, reading our
//! `verify --connectivity --format json` contract, and bringing both to one canonical form that
//! can be compared (and set-differenced) exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::process::Command;

use k8s_advisor::verify::sets::Ranges;
use serde_json::Value;

use crate::support::tool;

/// nca's invented DNS pod; not part of any manifest.
pub const NCA_DNS_POD: &str = "kube-system/kube-dns-livesim";

/// Connectivity in a canonical form both tools can be brought to: pod-to-pod port ranges per
/// (from, to, protocol), and for outside addresses, per (workload, direction, protocol), the
/// address intervals with their port ranges (disjoint, adjacent equal ones merged).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Canon {
    /// Pod-to-pod ports per (from, to, protocol).
    pub pods: BTreeMap<Key, Ranges>,
    /// Traffic with outside addresses per (workload, direction, protocol).
    pub external: Pieces,
}

impl Canon {
    /// What `self` allows and `other` does not: per pair the ports, per address the ports.
    pub fn minus(&self, other: &Canon) -> Canon {
        let mut pods = BTreeMap::new();
        for (key, ranges) in &self.pods {
            let rest = match other.pods.get(key) {
                Some(theirs) => ranges.difference(theirs),
                None => ranges.clone(),
            };
            if !rest.is_empty() {
                pods.insert(key.clone(), rest);
            }
        }
        let mut pieces: Pieces = BTreeMap::new();
        for (key, mine) in &self.external {
            let theirs = other.external.get(key).map_or(&[][..], |v| &v[..]);
            // Both lists are disjoint intervals: cut them at every bound of either.
            let mut bounds: BTreeSet<(u8, u128)> = BTreeSet::new();
            for &(f, lo, hi, _) in mine.iter().chain(theirs) {
                bounds.insert((f, lo));
                if let Some(next) = hi.checked_add(1) {
                    bounds.insert((f, next));
                }
            }
            for &(f, lo, hi, ref ports) in mine {
                let cuts: Vec<u128> = bounds
                    .range((f, lo)..=(f, hi))
                    .map(|&(_, b)| b)
                    .chain(hi.checked_add(1))
                    .collect();
                for w in cuts.windows(2) {
                    let (a, b) = (w[0], w[1] - 1);
                    let mut rest = ports.clone();
                    for (g, tlo, thi, tports) in theirs {
                        if *g == f && *tlo <= a && b <= *thi {
                            rest = rest.difference(tports);
                        }
                    }
                    if !rest.is_empty() {
                        pieces.entry(key.clone()).or_default().push((f, a, b, rest));
                    }
                }
                if hi == u128::MAX {
                    // The last stretch runs to the end of the address space.
                    let a = cuts.last().copied().unwrap_or(lo);
                    let mut rest = ports.clone();
                    for (g, tlo, thi, tports) in theirs {
                        if *g == f && *tlo <= a && *thi == u128::MAX {
                            rest = rest.difference(tports);
                        }
                    }
                    if !rest.is_empty() {
                        pieces
                            .entry(key.clone())
                            .or_default()
                            .push((f, a, hi, rest));
                    }
                }
            }
        }
        Canon {
            pods,
            external: canonical_external(pieces),
        }
    }
}

/// (workload, direction, protocol), or (from, to, protocol).
pub type Key = (String, String, String);
/// An address interval of one family (4 or 6) with its ports.
pub type Atom = (u8, u128, u128, Ranges);
/// External traffic per key, as address intervals with ports.
pub type Pieces = BTreeMap<Key, Vec<Atom>>;
/// Address intervals as (family, first, last).
pub type Intervals = Vec<(u8, u128, u128)>;

pub fn canonical_external(pieces: Pieces) -> Pieces {
    let mut out = BTreeMap::new();
    for (key, list) in pieces {
        let mut atoms: Vec<(u8, u128, u128, Ranges)> = Vec::new();
        for family in [4u8, 6] {
            let mut bounds: BTreeSet<u128> = BTreeSet::new();
            let mut to_end = false;
            for &(f, lo, hi, _) in &list {
                if f != family {
                    continue;
                }
                bounds.insert(lo);
                match hi.checked_add(1) {
                    Some(n) => {
                        bounds.insert(n);
                    }
                    None => to_end = true,
                }
            }
            let bounds: Vec<u128> = bounds.into_iter().collect();
            for (i, &lo) in bounds.iter().enumerate() {
                let hi = match bounds.get(i + 1) {
                    Some(n) => n - 1,
                    None if to_end => u128::MAX,
                    None => continue,
                };
                let mut ports = Ranges::new();
                for (f, a, b, p) in &list {
                    if *f == family && *a <= lo && hi <= *b {
                        ports.union_with(p);
                    }
                }
                if ports.is_empty() {
                    continue;
                }
                match atoms.last_mut() {
                    Some(last)
                        if last.0 == family
                            && last.3 == ports
                            && last.2.checked_add(1) == Some(lo) =>
                    {
                        last.2 = hi;
                    }
                    _ => atoms.push((family, lo, hi, ports)),
                }
            }
        }
        if !atoms.is_empty() {
            out.insert(key, atoms);
        }
    }
    out
}

fn address(text: &str) -> Result<(u8, u128), String> {
    match text.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => Ok((4, u128::from(a.to_bits()))),
        Ok(IpAddr::V6(a)) => Ok((6, a.to_bits())),
        Err(_) => Err(format!("bad address {text:?}")),
    }
}

/// The address intervals of an nca endpoint like `0.0.0.0-9.255.255.255,11.0.0.0-...`, or
/// `None` for a workload.
fn addresses(text: &str) -> Result<Option<Intervals>, String> {
    let text = text.trim();
    if text.ends_with(']') {
        return Ok(None);
    }
    let mut out = Vec::new();
    for part in text.split(',') {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let (f1, lo) = address(lo)?;
        let (f2, hi) = address(hi)?;
        if f1 != f2 {
            return Err(format!("mixed families in {text:?}"));
        }
        out.push((f1, lo, hi));
    }
    Ok(Some(out))
}

/// nca's right-hand side as (protocol, port ranges).
fn nca_connections(text: &str) -> Result<Vec<(String, Ranges)>, String> {
    let all = || Ranges::span(1, 65535);
    let text = text.trim();
    if text == "All connections" {
        return Ok(["TCP", "UDP", "SCTP"]
            .iter()
            .map(|p| (p.to_string(), all()))
            .collect());
    }
    let mut out = Vec::new();
    for group in text.split('}') {
        let group = group.trim_start_matches([',', ' ']).trim();
        if group.is_empty() {
            continue;
        }
        let body = group
            .strip_prefix("{protocols:")
            .ok_or_else(|| format!("unknown connection text {text:?}"))?;
        let (protocols, ports) = match body.split_once(",dst_ports:") {
            Some((p, ports)) => (p, Some(ports)),
            None => (body, None),
        };
        let mut ranges = Ranges::new();
        match ports {
            None => ranges = all(),
            Some(ports) => {
                for range in ports.split(',') {
                    let (lo, hi) = range.split_once('-').unwrap_or((range, range));
                    let lo: u128 = lo
                        .trim()
                        .parse()
                        .map_err(|_| format!("bad port in {text:?}"))?;
                    let hi: u128 = hi
                        .trim()
                        .parse()
                        .map_err(|_| format!("bad port in {text:?}"))?;
                    ranges.insert(lo, hi);
                }
            }
        }
        for protocol in protocols.split(',').map(str::trim) {
            if ["TCP", "UDP", "SCTP"].contains(&protocol) {
                out.push((protocol.to_string(), ranges.clone()));
            }
        }
    }
    Ok(out)
}

fn workload_name(endpoint: &str) -> String {
    let e = endpoint.trim();
    e[..e.find('[').unwrap_or(e.len())].to_string()
}

/// nca's `txt_no_fw_rules` output in canonical form.
pub fn parse_nca(text: &str, ours: &BTreeSet<String>) -> Result<Canon, String> {
    let mut canon = Canon::default();
    let mut pieces: Pieces = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (pair, conns) = line
            .split_once(" : ")
            .ok_or_else(|| format!("unexpected nca line {line:?}"))?;
        let (src, dst) = pair
            .split_once(" => ")
            .ok_or_else(|| format!("unexpected nca line {line:?}"))?;
        let conns = nca_connections(conns)?;
        let (src_ips, dst_ips) = (addresses(src)?, addresses(dst)?);
        let known = |name: &str| -> Result<bool, String> {
            if ours.contains(name) {
                Ok(true)
            } else if name == NCA_DNS_POD {
                Ok(false)
            } else {
                Err(format!("nca names a workload we did not read: {name}"))
            }
        };
        match (src_ips, dst_ips) {
            (None, None) => {
                let (a, b) = (workload_name(src), workload_name(dst));
                if !known(&a)? || !known(&b)? {
                    continue;
                }
                for (protocol, ranges) in conns {
                    canon
                        .pods
                        .entry((a.clone(), b.clone(), protocol))
                        .or_default()
                        .union_with(&ranges);
                }
            }
            (Some(ips), None) | (None, Some(ips)) => {
                let (workload, direction) = if addresses(src)?.is_some() {
                    (workload_name(dst), "ingress")
                } else {
                    (workload_name(src), "egress")
                };
                if !known(&workload)? {
                    continue;
                }
                for (protocol, ranges) in conns {
                    let entry = pieces
                        .entry((workload.clone(), direction.to_string(), protocol))
                        .or_default();
                    for &(f, lo, hi) in &ips {
                        entry.push((f, lo, hi, ranges.clone()));
                    }
                }
            }
            (Some(_), Some(_)) => {}
        }
    }
    canon.external = canonical_external(pieces);
    Ok(canon)
}

fn json_ranges(value: &Value) -> Ranges {
    let mut r = Ranges::new();
    for pair in value.as_array().into_iter().flatten() {
        r.insert(
            u128::from(pair[0].as_u64().unwrap_or(0)),
            u128::from(pair[1].as_u64().unwrap_or(0)),
        );
    }
    r
}

/// Our `verify --connectivity --format json` output in canonical form.
pub fn parse_ours(json: &str) -> Canon {
    let value: Value = serde_json::from_str(json).expect("valid JSON");
    let mut canon = Canon::default();
    for c in value["connections"].as_array().expect("connections") {
        let key = (
            c["from"].as_str().unwrap().to_string(),
            c["to"].as_str().unwrap().to_string(),
            c["protocol"].as_str().unwrap().to_string(),
        );
        canon
            .pods
            .entry(key)
            .or_default()
            .union_with(&json_ranges(&c["ports"]));
    }
    let mut pieces: Pieces = BTreeMap::new();
    for e in value["external"].as_array().expect("external") {
        let key = (
            e["workload"].as_str().unwrap().to_string(),
            e["direction"].as_str().unwrap().to_string(),
            e["protocol"].as_str().unwrap().to_string(),
        );
        let ports = json_ranges(&e["ports"]);
        for cidr in e["cidrs"].as_array().unwrap() {
            let net: ipnet::IpNet = cidr.as_str().unwrap().parse().expect("a CIDR");
            let (f, lo, hi) = match net {
                ipnet::IpNet::V4(n) => (
                    4,
                    u128::from(n.network().to_bits()),
                    u128::from(n.broadcast().to_bits()),
                ),
                ipnet::IpNet::V6(n) => (6, n.network().to_bits(), n.broadcast().to_bits()),
            };
            pieces
                .entry(key.clone())
                .or_default()
                .push((f, lo, hi, ports.clone()));
        }
    }
    canon.external = canonical_external(pieces);
    canon
}

pub fn show_ranges(r: &Ranges) -> String {
    r.iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The differences, one line each; empty when equal.
pub fn diff(ours: &Canon, nca: &Canon) -> String {
    let mut out = String::new();
    let keys: BTreeSet<_> = ours.pods.keys().chain(nca.pods.keys()).collect();
    for key in keys {
        let (a, b) = (ours.pods.get(key), nca.pods.get(key));
        if a != b {
            out.push_str(&format!(
                "  {} -> {} {}: verify [{}], nca [{}]\n",
                key.0,
                key.1,
                key.2,
                a.map(show_ranges).unwrap_or_default(),
                b.map(show_ranges).unwrap_or_default()
            ));
        }
    }
    let keys: BTreeSet<_> = ours.external.keys().chain(nca.external.keys()).collect();
    for key in keys {
        let (a, b) = (ours.external.get(key), nca.external.get(key));
        if a != b {
            let show = |v: Option<&Vec<(u8, u128, u128, Ranges)>>| {
                v.into_iter()
                    .flatten()
                    .map(|(f, lo, hi, p)| format!("v{f} {lo}-{hi}: {}", show_ranges(p)))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            out.push_str(&format!(
                "  {} {} {}: verify [{}], nca [{}]\n",
                key.0,
                key.1,
                key.2,
                show(a),
                show(b)
            ));
        }
    }
    out
}

/// Runs nca on `text` (one file, written as `NAME.yaml`); its connectivity in canonical form.
/// `ours` are the workloads our reader found: nca naming any other (but its own DNS pod) is an
/// error.
pub fn run(name: &str, text: &str, ours: &BTreeSet<String>) -> Result<Canon, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let input = dir.path().join(format!("{name}.yaml"));
    std::fs::write(&input, text).map_err(|e| e.to_string())?;
    let report = dir.path().join("connectivity.txt");
    let output = Command::new(tool("nca"))
        .arg("--connectivity")
        .arg("-r")
        .arg(&input)
        .args(["-o", "txt_no_fw_rules", "-f"])
        .arg(&report)
        .output()
        .map_err(|e| format!("cannot run nca: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Lint warnings are normal on random policies; anything else means nca could not judge.
    for bad in ["Traceback", "Parse Error", "Error:"] {
        if stderr.contains(bad) {
            return Err(format!("nca reported {bad:?}:\n{stderr}"));
        }
    }
    if !output.status.success() {
        return Err(format!("nca failed ({}):\n{stderr}", output.status));
    }
    let text = std::fs::read_to_string(&report).map_err(|e| e.to_string())?;
    parse_nca(&text, ours)
}
