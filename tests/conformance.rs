//! Conformance: what `generate` writes is judged by tools nobody here wrote. For every example
//! and for seeded random models, every manifest passes `kubernetes-validate --strict`, `kubectl
//! kustomize` builds the root, yamllint is clean, and the connectivity that
//! network-config-analyzer (`nca`) computes equals the declared connectivity exactly: each call
//! on the callee's container ports, each workload's DNS under the project's `dns` profiles,
//! public/internal ingress from `sources`, ingress from the gateway's pods, and egress CIDRs.
//! The expected side is computed here from the model, without the generator's code.
//! HTTPRoutes, which kubernetes-validate does not know, are checked against the Gateway API
//! CRD's schema instead, strictly (no field the schema does not name).
//!
//! A failing random model prints its seed; `random_model::model(seed, MAX_SERVICES)` replays it.
//! Missing oracles fail the tests (see `support::tool`); nothing is skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use ipnet::IpNet;
use k8s_advisor::generate;
use k8s_advisor::model::{DnsTarget, Expose, Workspace};
use serde::Deserialize;

use crate::generate::{load, load_text};
use crate::random_model;
use crate::support::{examples, tool, write_layout};

/// How many random models the suite checks, and how big they get.
const RANDOM_MODELS: u64 = 25;
const MAX_SERVICES: usize = 40;

/// The stand-in workload of a pod target (DNS servers, gateway pods) in the support file:
/// `coredns` for the usual kube-dns pods, else `<role>-<n>`.
fn stand_in(namespace: &str, labels: &[(String, String)], role: &str, n: usize) -> String {
    if namespace == "kube-system" && labels == [("k8s-app".to_string(), "kube-dns".to_string())] {
        "kube-system/coredns".to_string()
    } else {
        format!("{namespace}/{role}-{n}")
    }
}

/// A pod outside the workspace: its stand-in workload `namespace/name`, its labels and the
/// ports it listens on (TCP and UDP).
type PodTarget = (String, Vec<(String, String)>, Vec<u16>);

/// The pod targets of a workspace that live outside it: the DNS servers and the gateway.
fn pod_targets(ws: &Workspace) -> Vec<PodTarget> {
    let mut out: Vec<PodTarget> = Vec::new();
    // nca invents a kube-dns pod of its own; a real one gives the DNS edges a stable name.
    out.push((
        "kube-system/coredns".to_string(),
        vec![("k8s-app".to_string(), "kube-dns".to_string())],
        vec![53],
    ));
    for rule in &ws.project.dns.rules {
        for target in &rule.targets {
            if let DnsTarget::Pods { namespace, labels } = target {
                let name = stand_in(namespace, labels.as_slice(), "dns", out.len());
                match out.iter_mut().find(|(n, _, _)| *n == name) {
                    Some((_, _, ports)) => ports.extend(&rule.ports),
                    None => out.push((name, labels.as_slice().to_vec(), rule.ports.clone())),
                }
            }
        }
    }
    if let Some(g) = &ws.project.gateway {
        out.push((
            format!("{}/gateway", g.pod_namespace),
            g.pod_labels.as_slice().to_vec(),
            vec![80],
        ));
    }
    out
}

/// Namespaces first, then a Deployment per stand-in: nca reads a Namespace after a workload of
/// it as if the workload's namespace had no labels.
fn support(ws: &Workspace) -> String {
    let targets = pod_targets(ws);
    let mut namespaces: Vec<&str> = targets
        .iter()
        .map(|(name, _, _)| name.split_once('/').unwrap().0)
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let mut docs: Vec<String> = namespaces
        .iter()
        .map(|ns| format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"))
        .collect();
    for (id, labels, ports) in &targets {
        let (ns, name) = id.split_once('/').unwrap();
        let labels: String = labels
            .iter()
            .map(|(k, v)| format!("        {k:?}: {v:?}\n"))
            .collect();
        let mut ports = ports.clone();
        ports.sort_unstable();
        ports.dedup();
        let ports: String = ports
            .iter()
            .flat_map(|p| {
                ["UDP", "TCP"].map(|proto| {
                    format!(
                        "            - name: {}-{p}\n              containerPort: {p}\n              protocol: {proto}\n",
                        proto.to_ascii_lowercase()
                    )
                })
            })
            .collect();
        docs.push(format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  selector:\n    matchLabels:\n{sel}  template:\n    metadata:\n      labels:\n{labels}    spec:\n      containers:\n        - name: server\n          image: registry.k8s.io/pause:3.9\n          ports:\n{ports}",
            sel = labels.replace("        ", "      "),
        ));
    }
    docs.join("---\n")
}

/// A connection kind: every protocol and port, or one protocol and destination port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Conn {
    All,
    Port(String, u16),
}

impl fmt::Display for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conn::All => f.write_str("all"),
            Conn::Port(p, n) => write!(f, "{n}/{p}"),
        }
    }
}

/// Direction of traffic between a workload and address ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Dir {
    /// From the addresses into the workload.
    In,
    /// From the workload to the addresses.
    Out,
}

/// Inclusive address ranges, as (family, first, last), kept sorted and merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ranges(Vec<(u8, u128, u128)>);

impl Ranges {
    fn add(&mut self, family: u8, lo: u128, hi: u128) {
        self.0.push((family, lo, hi));
        self.normalize();
    }

    fn add_net(&mut self, net: &IpNet) {
        match net {
            IpNet::V4(n) => self.add(
                4,
                u128::from(n.network().to_bits()),
                u128::from(n.broadcast().to_bits()),
            ),
            IpNet::V6(n) => self.add(6, n.network().to_bits(), n.broadcast().to_bits()),
        }
    }

    fn normalize(&mut self) {
        self.0.sort();
        let mut merged: Vec<(u8, u128, u128)> = Vec::with_capacity(self.0.len());
        for (f, lo, hi) in self.0.drain(..) {
            match merged.last_mut() {
                Some((lf, _, lhi)) if *lf == f && lhi.checked_add(1).is_none_or(|n| n >= lo) => {
                    *lhi = (*lhi).max(hi);
                }
                _ => merged.push((f, lo, hi)),
            }
        }
        self.0 = merged;
    }

    /// These ranges without any address of `other`.
    fn minus(&self, other: &Ranges) -> Ranges {
        let mut out = Vec::new();
        for &(f, lo, hi) in &self.0 {
            let mut pieces = vec![(lo, hi)];
            for &(of, olo, ohi) in &other.0 {
                if of != f {
                    continue;
                }
                pieces = pieces
                    .into_iter()
                    .flat_map(|(a, b)| {
                        let mut keep = Vec::new();
                        if ohi < a || olo > b {
                            keep.push((a, b));
                        } else {
                            if olo > a {
                                keep.push((a, olo - 1));
                            }
                            if ohi < b {
                                keep.push((ohi + 1, b));
                            }
                        }
                        keep
                    })
                    .collect();
            }
            out.extend(pieces.into_iter().map(|(a, b)| (f, a, b)));
        }
        let mut r = Ranges(out);
        r.normalize();
        r
    }
}

impl fmt::Display for Ranges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|&(fam, lo, hi)| {
                let show = |n: u128| -> String {
                    if fam == 4 {
                        std::net::Ipv4Addr::from(n as u32).to_string()
                    } else {
                        std::net::Ipv6Addr::from(n).to_string()
                    }
                };
                format!("{}-{}", show(lo), show(hi))
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// Connectivity as sets: workload pairs, and address ranges per (workload, direction, conn).
#[derive(Debug, Default, PartialEq, Eq)]
struct Connectivity {
    pods: BTreeSet<(String, String, Conn)>,
    ips: BTreeMap<(String, Dir, Conn), Ranges>,
}

impl Connectivity {
    /// Makes the representation canonical: a port covered by "every connection" to the same
    /// addresses is dropped, since nca reports only the wider one.
    fn normalize(mut self) -> Self {
        let all: BTreeMap<(String, Dir), Ranges> = self
            .ips
            .iter()
            .filter(|((_, _, c), _)| *c == Conn::All)
            .map(|((p, d, _), r)| ((p.clone(), *d), r.clone()))
            .collect();
        for ((pod, dir, conn), ranges) in self.ips.iter_mut() {
            if *conn != Conn::All
                && let Some(wide) = all.get(&(pod.clone(), *dir))
            {
                *ranges = ranges.minus(wide);
            }
        }
        self.ips.retain(|_, r| !r.0.is_empty());
        self
    }

    /// A readable list of differences; empty when equal.
    fn diff(&self, observed: &Connectivity) -> String {
        let mut out = String::new();
        for p in self.pods.difference(&observed.pods) {
            out.push_str(&format!("  missing  {} => {} : {}\n", p.0, p.1, p.2));
        }
        for p in observed.pods.difference(&self.pods) {
            out.push_str(&format!("  extra    {} => {} : {}\n", p.0, p.1, p.2));
        }
        let keys: BTreeSet<_> = self.ips.keys().chain(observed.ips.keys()).collect();
        for key in keys {
            let empty = Ranges::default();
            let want = self.ips.get(key).unwrap_or(&empty);
            let got = observed.ips.get(key).unwrap_or(&empty);
            if want != got {
                let (pod, dir, conn) = key;
                out.push_str(&format!(
                    "  {pod} {dir:?} {conn}: expected [{want}], nca says [{got}]\n"
                ));
            }
        }
        out
    }
}

/// What the model declares, computed straight from the model.
fn expected(ws: &Workspace) -> Connectivity {
    let mut c = Connectivity::default();
    let targets = pod_targets(ws);
    for s in &ws.services {
        let id = s.id.to_string();
        for rule in &ws.project.dns.rules {
            for target in &rule.targets {
                for port in &rule.ports {
                    for protocol in ["TCP", "UDP"] {
                        let conn = Conn::Port(protocol.into(), *port);
                        match target {
                            DnsTarget::Pods { namespace, labels } => {
                                let dns = targets
                                    .iter()
                                    .find(|(name, l, _)| {
                                        l.as_slice() == labels.as_slice()
                                            && name.starts_with(&format!("{namespace}/"))
                                    })
                                    .map(|(name, _, _)| name.clone())
                                    .unwrap();
                                c.pods.insert((id.clone(), dns, conn));
                            }
                            DnsTarget::Block(net) => {
                                c.ips
                                    .entry((id.clone(), Dir::Out, conn))
                                    .or_default()
                                    .add_net(net);
                            }
                        }
                    }
                }
            }
        }
        if s.expose == Expose::Gateway {
            let g = ws.project.gateway.as_ref().unwrap();
            let route = s.route.as_ref().unwrap();
            let port = s.port(&route.port).unwrap();
            c.pods.insert((
                format!("{}/gateway", g.pod_namespace),
                id.clone(),
                Conn::Port(port.protocol.as_str().into(), port.target),
            ));
        }
        for call in &s.calls {
            // nca does not report a workload's traffic to itself.
            if call.to == s.id {
                continue;
            }
            let callee = ws.service(&call.to).unwrap();
            for port in call.ports_of(callee) {
                c.pods.insert((
                    id.clone(),
                    callee.id.to_string(),
                    Conn::Port(port.protocol.as_str().into(), port.target),
                ));
            }
        }
        let sources: Vec<IpNet> = match s.expose {
            Expose::Cluster | Expose::Gateway => Vec::new(),
            Expose::Internal | Expose::Public => s.sources.iter().flatten().copied().collect(),
        };
        for net in &sources {
            for port in &s.ports {
                c.ips
                    .entry((
                        id.clone(),
                        Dir::In,
                        Conn::Port(port.protocol.as_str().into(), port.target),
                    ))
                    .or_default()
                    .add_net(net);
            }
        }
        for e in &s.egress {
            if e.ports.is_empty() {
                c.ips
                    .entry((id.clone(), Dir::Out, Conn::All))
                    .or_default()
                    .add_net(&e.cidr);
            }
            for port in &e.ports {
                c.ips
                    .entry((
                        id.clone(),
                        Dir::Out,
                        Conn::Port(e.protocol.as_str().into(), *port),
                    ))
                    .or_default()
                    .add_net(&e.cidr);
            }
        }
    }
    c.normalize()
}

/// An endpoint of an nca line.
enum Endpoint {
    Workload(String),
    Addresses(Ranges),
}

fn endpoint(text: &str) -> Result<Endpoint, String> {
    let text = text.trim();
    if let Some(open) = text.find('[') {
        return Ok(Endpoint::Workload(text[..open].to_string()));
    }
    let mut ranges = Ranges::default();
    for part in text.split(',') {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let lo: IpAddr = lo
            .trim()
            .parse()
            .map_err(|_| format!("bad address in {text:?}"))?;
        let hi: IpAddr = hi
            .trim()
            .parse()
            .map_err(|_| format!("bad address in {text:?}"))?;
        match (lo, hi) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                ranges.add(4, u128::from(a.to_bits()), u128::from(b.to_bits()))
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => ranges.add(6, a.to_bits(), b.to_bits()),
            _ => return Err(format!("mixed address range {text:?}")),
        }
    }
    Ok(Endpoint::Addresses(ranges))
}

/// Parses `{protocols:TCP, UDP,dst_ports:53},{...}` or `All connections`.
fn connections(text: &str) -> Result<Vec<Conn>, String> {
    let text = text.trim();
    if text == "All connections" {
        return Ok(vec![Conn::All]);
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
        for protocol in protocols.split(',').map(str::trim) {
            let Some(ports) = ports else {
                // Every port of one protocol: never declared by a model, so keep it visible.
                out.push(Conn::Port(protocol.to_string(), 0));
                continue;
            };
            for range in ports.split(',') {
                let (lo, hi) = range.split_once('-').unwrap_or((range, range));
                let lo: u16 = lo
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad port in {text:?}"))?;
                let hi: u16 = hi
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad port in {text:?}"))?;
                for port in lo..=hi {
                    out.push(Conn::Port(protocol.to_string(), port));
                }
            }
        }
    }
    Ok(out)
}

/// Parses nca's `txt_no_fw_rules` output. Lines between two addresses-only or DNS-only
/// endpoints are not about our workloads and are left out.
fn observed(text: &str, ours: &BTreeSet<String>) -> Result<Connectivity, String> {
    let mut c = Connectivity::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (pair, conn) = line
            .split_once(" : ")
            .ok_or_else(|| format!("unexpected nca line {line:?}"))?;
        let (src, dst) = pair
            .split_once(" => ")
            .ok_or_else(|| format!("unexpected nca line {line:?}"))?;
        let conns = connections(conn)?;
        match (endpoint(src)?, endpoint(dst)?) {
            (Endpoint::Workload(a), Endpoint::Workload(b)) => {
                if !ours.contains(&a) && !ours.contains(&b) {
                    continue;
                }
                for conn in conns {
                    c.pods.insert((a.clone(), b.clone(), conn));
                }
            }
            (Endpoint::Addresses(r), Endpoint::Workload(w)) if ours.contains(&w) => {
                for conn in conns {
                    let entry = c.ips.entry((w.clone(), Dir::In, conn)).or_default();
                    for &(f, lo, hi) in &r.0 {
                        entry.add(f, lo, hi);
                    }
                }
            }
            (Endpoint::Workload(w), Endpoint::Addresses(r)) if ours.contains(&w) => {
                for conn in conns {
                    let entry = c.ips.entry((w.clone(), Dir::Out, conn)).or_default();
                    for &(f, lo, hi) in &r.0 {
                        entry.add(f, lo, hi);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(c.normalize())
}

fn run(cmd: &mut Command) -> Result<(String, String), String> {
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() {
        Ok((stdout, stderr))
    } else {
        Err(format!(
            "{cmd:?} failed ({}):\n{stdout}\n{stderr}",
            output.status
        ))
    }
}

/// Every `.yaml` file of the layout.
fn yaml_files(out: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Runs the schema and lint oracles once over many layouts (their start-up dominates), then
/// kustomize per layout. Returns the path of each built (kustomized) layout.
fn static_oracles(outs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let manifests: Vec<PathBuf> = outs
        .iter()
        .flat_map(|out| yaml_files(out))
        .filter(|p| p.file_name().is_some_and(|n| n != "kustomization.yaml"))
        .collect();
    let side = outs[0].parent().unwrap().join("without-routes");
    let manifests = split_routes(&manifests, &side)?;
    run(Command::new(tool("kubernetes-validate"))
        .args(["--strict", "-k", "1.30", "--quiet"])
        .args(&manifests))?;
    run(Command::new(tool("yamllint"))
        .args([
            "-s",
            "-d",
            "{extends: default, rules: {document-start: disable, line-length: {max: 120}}}",
        ])
        .args(outs))?;
    outs.iter()
        .map(|out| {
            let (built, _) = run(Command::new(tool("kubectl")).arg("kustomize").arg(out))?;
            let path = out.with_file_name("built.yaml");
            std::fs::write(&path, built).map_err(|e| e.to_string())?;
            Ok(path)
        })
        .collect()
}

/// The HTTPRoute schema of the vendored Gateway API CRD (standard channel, `v1`), made strict.
fn route_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    VALIDATOR.get_or_init(|| {
        crate::support::crd_validator("gateway.networking.k8s.io_httproutes-v1.6.1.yaml", "v1")
    })
}

/// The problems of one HTTPRoute document against the CRD schema.
fn route_errors(doc: &serde_json::Value) -> Vec<String> {
    route_validator()
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// Checks every HTTPRoute document of `manifests` against the CRD schema, and returns the files
/// to hand to kubernetes-validate: unchanged where they hold no HTTPRoute, else a copy in
/// `side` without them (kubernetes-validate does not know the kind, and must judge the rest).
fn split_routes(manifests: &[PathBuf], side: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::with_capacity(manifests.len());
    for (i, path) in manifests.iter().enumerate() {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        if !text.contains("\nkind: HTTPRoute\n") {
            out.push(path.clone());
            continue;
        }
        let mut rest = Vec::new();
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            let value = serde_yaml_ng::Value::deserialize(doc).map_err(|e| e.to_string())?;
            if value["kind"].as_str() == Some("HTTPRoute") {
                let json = serde_json::to_value(&value).map_err(|e| e.to_string())?;
                let errors = route_errors(&json);
                if !errors.is_empty() {
                    return Err(format!(
                        "{}: HTTPRoute does not match the Gateway API schema:\n{}",
                        path.display(),
                        errors.join("\n")
                    ));
                }
            } else {
                rest.push(serde_yaml_ng::to_string(&value).map_err(|e| e.to_string())?);
            }
        }
        std::fs::create_dir_all(side).map_err(|e| e.to_string())?;
        let copy = side.join(format!(
            "{i}-{}",
            path.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&copy, rest.join("---\n")).map_err(|e| e.to_string())?;
        out.push(copy);
    }
    Ok(out)
}

/// Runs nca on built manifests and returns its view of the connectivity.
fn nca(
    built: &Path,
    work: &Path,
    ours: &BTreeSet<String>,
    support_text: &str,
) -> Result<Connectivity, String> {
    let support = work.join("support.yaml");
    std::fs::write(&support, support_text).map_err(|e| e.to_string())?;
    let report = work.join("connectivity.txt");
    let (_, stderr) = run(Command::new(tool("nca"))
        .arg("--connectivity")
        .arg("-r")
        .arg(built)
        .arg("-r")
        .arg(&support)
        .args(["-o", "txt_no_fw_rules", "-f"])
        .arg(&report))?;
    for bad in ["Parse Error", "selects no pods", "Error"] {
        if stderr.contains(bad) {
            return Err(format!("nca reported {bad:?}:\n{stderr}"));
        }
    }
    let text = std::fs::read_to_string(&report).map_err(|e| e.to_string())?;
    observed(&text, ours)
}

fn workloads(ws: &Workspace) -> BTreeSet<String> {
    ws.services.iter().map(|s| s.id.to_string()).collect()
}

/// Compares nca's view of a written layout with the model.
fn compare(ws: &Workspace, built: &Path, work: &Path) -> Result<(), String> {
    let want = expected(ws);
    let got = nca(built, work, &workloads(ws), &support(ws))?;
    let diff = want.diff(&got);
    if diff.is_empty() {
        Ok(())
    } else {
        Err(format!("connectivity differs from the model:\n{diff}"))
    }
}

/// Generates, writes and checks workspaces with every oracle; returns the failures, each
/// prefixed with its case name.
pub(crate) fn conform(cases: Vec<(String, Workspace)>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for (i, (name, ws)) in cases.iter().enumerate() {
        let out = dir.path().join(format!("case-{i}")).join("k8s");
        if let Err(e) = write_layout(ws, &out) {
            return vec![format!("{name}: write failed: {e}")];
        }
        outs.push(out);
    }
    let names: Vec<String> = cases
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!("case-{i} = {name}"))
        .collect();
    let built = match static_oracles(&outs) {
        Ok(built) => built,
        Err(e) => return vec![format!("{}\n{e}", names.join("\n"))],
    };
    let jobs = cases
        .into_iter()
        .zip(built)
        .map(|((name, ws), built)| {
            let job: Job = Box::new(move || {
                let work = built.parent().unwrap().to_path_buf();
                compare(&ws, &built, &work)
            });
            (name, job)
        })
        .collect();
    parallel(jobs)
}

/// A check to run on a worker thread.
type Job = Box<dyn FnOnce() -> Result<(), String> + Send>;

/// Runs jobs on two threads (the machine has two cores) and collects the failures.
fn parallel(jobs: Vec<(String, Job)>) -> Vec<String> {
    let queue = Mutex::new(jobs);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let Some((name, job)) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))
                        .unwrap_or_else(|_| Err("panicked".to_string()));
                    if let Err(e) = outcome {
                        failures.lock().unwrap().push(format!("{name}: {e}"));
                    }
                }
            });
        }
    });
    failures.into_inner().unwrap()
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn examples_conform() {
    let cases = examples()
        .into_iter()
        .map(|path| (path.display().to_string(), load(&path)))
        .collect();
    let failures = conform(cases);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Random model text with a `dns` setting chosen by `seed`: the platform default, each named
/// profile, a union and a custom table, in turn.
pub(crate) fn with_dns(text: &str, seed: u64) -> String {
    const SETTINGS: [&str; 7] = [
        "",
        r#"dns = "kube-dns""#,
        r#"dns = "node-local""#,
        r#"dns = "gke-cloud-dns""#,
        r#"dns = "openshift""#,
        r#"dns = ["node-local", "gke-cloud-dns"]"#,
        r#"dns = { namespace = "dns-system", pod-labels = { app = "unbound" }, cidrs = ["10.96.0.10/32"], ports = [53, 5353] }"#,
    ];
    let setting = SETTINGS[(seed % SETTINGS.len() as u64) as usize];
    text.replacen("[project]\n", &format!("[project]\n{setting}\n"), 1)
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn random_models_conform() {
    let started = std::time::Instant::now();
    let cases = (1..=RANDOM_MODELS)
        .map(|seed| {
            let text = with_dns(
                &random_model::toml(&random_model::model(seed, MAX_SERVICES), None),
                seed,
            );
            (
                format!(
                    "seed {seed} (replay: with_dns(random_model::model({seed}, {MAX_SERVICES}), {seed}))"
                ),
                load_text(&text),
            )
        })
        .collect();
    let failures = conform(cases);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!(
        "{RANDOM_MODELS} random models conform ({:.0?})",
        started.elapsed()
    );
}

/// A small model where every protection matters: a callee whose Service port differs from its
/// container port, and a worker nothing calls (only the default deny keeps it closed).
const MUTATION_MODEL: &str = r#"version = 1
[project]
name = "mutants"
[[services]]
name = "web"
namespace = "front"
ports = [{ name = "http", port = 80, target = 8080 }]
calls = ["back/api"]
[[services]]
name = "api"
namespace = "back"
ports = [{ name = "http", port = 80, target = 8080 }]
[[services]]
name = "worker"
namespace = "back"
"#;

/// Writes the mutation model, applies `mutate` to the files, and compares with nca.
fn mutated(mutate: impl FnOnce(&Path)) -> Result<(), String> {
    mutated_model(MUTATION_MODEL, mutate)
}

/// Writes `model`, applies `mutate` to the files, and compares with nca.
fn mutated_model(model: &str, mutate: impl FnOnce(&Path)) -> Result<(), String> {
    let ws = load_text(model);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k8s");
    write_layout(&ws, &out).unwrap();
    mutate(&out);
    let built = static_oracles(std::slice::from_ref(&out))?;
    compare(&ws, &built[0], dir.path())
}

fn edit(path: &Path, f: impl FnOnce(&str) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    let new = f(&text);
    assert_ne!(
        new,
        text,
        "the mutation changed nothing in {}",
        path.display()
    );
    std::fs::write(path, new).unwrap();
}

/// Removes the NetworkPolicy document called `name` from a policies file.
fn drop_policy(text: &str, name: &str) -> String {
    text.split("---\n")
        .filter(|doc| !doc.contains(&format!("name: \"{name}\"")))
        .collect::<Vec<_>>()
        .join("---\n")
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn the_suite_catches_broken_policies() {
    mutated(|_| {}).expect("the unmutated layout conforms");
    let service_port = mutated(|out| {
        for ns in ["front", "back"] {
            edit(&out.join(ns).join("network-policies.yaml"), |t| {
                t.replace("port: 8080\n", "port: 80\n")
            });
        }
    });
    let e = service_port.expect_err("a policy on the Service port must fail");
    assert!(
        e.contains("missing  front/web => back/api : 8080/TCP"),
        "{e}"
    );
    let no_dns = mutated(|out| {
        edit(&out.join("back/network-policies.yaml"), |t| {
            drop_policy(t, "cluster-dns")
        })
    });
    let e = no_dns.expect_err("a missing DNS rule must fail");
    assert!(
        e.contains("missing  back/worker => kube-system/coredns : 53/UDP"),
        "{e}"
    );
    let no_deny = mutated(|out| {
        edit(&out.join("back/network-policies.yaml"), |t| {
            drop_policy(t, "default-deny")
        })
    });
    let e = no_deny.expect_err("a missing default deny must fail");
    assert!(e.contains("extra"), "{e}");
    let unknown_field = mutated(|out| {
        edit(&out.join("back/api.yaml"), |t| {
            t.replacen("spec:\n  replicas:", "spec:\n  replica: 1\n  replicas:", 1)
        })
    });
    let e = unknown_field.expect_err("a manifest outside the schema must fail");
    assert!(e.contains("did not validate"), "{e}");
}

#[test]
fn nca_lines_parse() {
    let ours: BTreeSet<String> = ["a/web".to_string(), "b/api".to_string()].into();
    let text = "0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255 => a/web[Deployment] : {protocols:TCP,dst_ports:8080-8081,9000}\n\
        a/web[Deployment] => b/api[Deployment] : {protocols:TCP, UDP,dst_ports:53}\n\
        a/web[Deployment] => ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff : All connections\n\
        kube-system/coredns[Deployment] => 0.0.0.0-255.255.255.255 : All connections\n";
    let c = observed(text, &ours).unwrap();
    assert_eq!(c.pods.len(), 2);
    let web_in = &c.ips[&("a/web".to_string(), Dir::In, Conn::Port("TCP".into(), 8081))];
    assert_eq!(
        web_in.to_string(),
        "0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255"
    );
    assert!(
        c.ips
            .contains_key(&("a/web".to_string(), Dir::Out, Conn::All))
    );
    assert_eq!(c.ips.len(), 4);
}

/// A model with every exposure that reaches into the cluster from elsewhere: a service behind
/// the project's gateway (two ports, one routed), an internal service with its own sources, a
/// call between namespaces and a worker nothing calls. `PLATFORM`, `DNS` and `EXPOSE` vary.
const NETWORK_MODEL: &str = r#"version = 1
[project]
name = "profiles"
platform = "PLATFORM"
internal-cidrs = ["10.0.0.0/16"]
DNS
[project.gateway]
name = "public"
namespace = "infra"
pod-namespace = "envoy-gateway-system"
pod-labels = { "app.kubernetes.io/name" = "envoy", "gateway.envoyproxy.io/owning-gateway-name" = "public" }
hostnames = ["shop.example.com"]
[[services]]
name = "web"
namespace = "front"
ports = [{ name = "http", port = 80, target = 8080 }, { name = "metrics", port = 9090 }]
expose = "gateway"
route = { path = "/shop", port = "http" }
calls = ["back/api"]
[[services]]
name = "api"
namespace = "back"
ports = [{ name = "http", port = 8080 }]
expose = "EXPOSE"
sources = ["10.1.0.0/16", "192.168.0.0/24"]
[[services]]
name = "worker"
namespace = "back"
"#;

/// The network model on one platform with one `dns` line.
fn network_model(platform: &str, dns: &str) -> String {
    let expose = if platform == "generic" {
        "public"
    } else {
        "internal"
    };
    NETWORK_MODEL
        .replace("PLATFORM", platform)
        .replace("DNS", dns)
        .replace("EXPOSE", expose)
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn every_dns_profile_and_the_gateway_conform() {
    let cases: Vec<(String, Workspace)> = [
        ("eks", ""),
        ("gke", ""),
        ("aks", ""),
        ("generic", ""),
        ("eks", r#"dns = "kube-dns""#),
        ("gke", r#"dns = "node-local""#),
        ("gke", r#"dns = "gke-cloud-dns""#),
        ("generic", r#"dns = "openshift""#),
        ("aks", r#"dns = ["kube-dns", "openshift"]"#),
        (
            "aks",
            r#"dns = { namespace = "dns-system", pod-labels = { app = "unbound" }, cidrs = ["10.96.0.10/32"], ports = [53, 5353] }"#,
        ),
    ]
    .into_iter()
    .map(|(platform, dns)| {
        let text = network_model(platform, dns);
        (format!("{platform} {dns:?}"), load_text(&text))
    })
    .collect();
    let failures = conform(cases);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_route_schema_is_strict() {
    let ws = load_text(&network_model("eks", ""));
    let files = generate::generate(&ws);
    let web = files
        .iter()
        .find(|f| f.path.ends_with("front/web.yaml"))
        .unwrap();
    let route: serde_json::Value = serde_yaml_ng::Deserializer::from_str(&web.contents)
        .map(|d| serde_yaml_ng::Value::deserialize(d).unwrap())
        .find(|d| d["kind"].as_str() == Some("HTTPRoute"))
        .map(|d| serde_json::to_value(d).unwrap())
        .expect("the gateway service has an HTTPRoute");
    assert_eq!(route_errors(&route), Vec::<String>::new());
    assert_eq!(route["spec"]["rules"][0]["backendRefs"][0]["port"], 80);
    assert_eq!(route["spec"]["parentRefs"][0]["namespace"], "infra");
    let mut unknown = route.clone();
    unknown["spec"]["hostname"] = "shop.example.com".into();
    assert!(!route_errors(&unknown).is_empty(), "an unknown field");
    let mut bad_host = route.clone();
    bad_host["spec"]["hostnames"][0] = "Shop_Example".into();
    assert!(!route_errors(&bad_host).is_empty(), "an invalid hostname");
    let mut no_parent = route;
    no_parent["spec"]["parentRefs"][0]
        .as_object_mut()
        .unwrap()
        .remove("name");
    assert!(
        !route_errors(&no_parent).is_empty(),
        "a parentRef without a name"
    );
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn the_suite_catches_broken_gateway_and_dns_rules() {
    let openshift = network_model("generic", r#"dns = "openshift""#);
    mutated_model(&openshift, |_| {}).expect("the unmutated layout conforms");
    // The gateway rule on the Service port (80) instead of the container port (8080).
    let gateway_on_service_port = mutated_model(&openshift, |out| {
        edit(&out.join("front/network-policies.yaml"), |t| {
            let (head, tail) = t.split_once("owning-gateway-name").unwrap();
            format!(
                "{head}owning-gateway-name{}",
                tail.replacen("port: 8080\n", "port: 80\n", 1)
            )
        })
    });
    let e = gateway_on_service_port.expect_err("a gateway rule on the wrong port must fail");
    assert!(
        e.contains("missing  envoy-gateway-system/gateway => front/web : 8080/TCP"),
        "{e}"
    );
    let wrong_dns_port = mutated_model(&openshift, |out| {
        edit(&out.join("back/network-policies.yaml"), |t| {
            t.replace("port: 5353\n", "port: 53\n")
        })
    });
    let e = wrong_dns_port.expect_err("DNS on the Service port instead of the pods' must fail");
    assert!(
        e.contains("missing  back/worker => openshift-dns/dns-1 : 5353/UDP"),
        "{e}"
    );
    let node_local = network_model("eks", r#"dns = "node-local""#);
    let no_cache = mutated_model(&node_local, |out| {
        edit(&out.join("back/network-policies.yaml"), |t| {
            t.replace("cidr: \"169.254.20.10/32\"", "cidr: \"169.254.20.11/32\"")
        })
    });
    let e = no_cache.expect_err("DNS to the wrong cache address must fail");
    assert!(e.contains("169.254.20.10"), "{e}");
}
