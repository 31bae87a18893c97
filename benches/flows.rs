//! Benchmark of `verify --flows` at the issue's size: 1,000,000 Hubble flow records (the
//! `hubble observe -o jsonpb` form, with the labels, workloads and fields a real capture has)
//! over a model of 5,000 services in 200 namespaces, each calling three others. Of the
//! records, most are calls the model declares, then their replies, DNS lookups, the kubelet's
//! probes, and one in fifty a call nobody declared.
//!
//! `cargo bench --bench flows` measures reading, classifying, mapping and judging the records
//! in the library. With `K8S_ADVISOR_BENCH_FLOWS=DIR` it only writes `DIR/k8s-advisor.toml` and
//! `DIR/flows.json` and exits, so that `scripts/bench-flows.sh` can time the binary and its
//! peak memory.

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::path::Path;

use criterion::Criterion;
use k8s_advisor::diagnostic::Source;
use k8s_advisor::flows::observe::Observer;
use k8s_advisor::flows::{check, read};
use k8s_advisor::policy::Policy;

/// The binary's allocator, so that the figures are the tool's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SERVICES: usize = 5_000;
const PER_NAMESPACE: usize = 25;
/// The records written, unless `K8S_ADVISOR_BENCH_FLOWS_RECORDS` says another number (the bench
/// script also times a tenth of them, to show that memory does not grow with the records).
fn records() -> usize {
    std::env::var("K8S_ADVISOR_BENCH_FLOWS_RECORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000)
}

fn callee(i: usize, k: usize) -> usize {
    (i + 1 + k * 977) % SERVICES
}

fn workspace() -> String {
    let mut out = String::from("version = 1\n\n[project]\nname = \"flows\"\n");
    for i in 0..SERVICES {
        let calls: Vec<String> = (0..3)
            .map(|k| {
                let c = callee(i, k);
                format!("\"ns-{}/svc-{c}\"", c / PER_NAMESPACE)
            })
            .collect();
        let _ = write!(
            out,
            "\n[[services]]\nname = \"svc-{i}\"\nnamespace = \"ns-{}\"\nport = 8080\ncalls = [{}]\n",
            i / PER_NAMESPACE,
            calls.join(", ")
        );
    }
    out
}

fn endpoint(out: &mut String, i: usize) {
    let ns = i / PER_NAMESPACE;
    let _ = write!(
        out,
        r#"{{"ID":{},"identity":{},"cluster_name":"default","namespace":"ns-{ns}","labels":["k8s:app=svc-{i}","k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=ns-{ns}","k8s:io.cilium.k8s.policy.cluster=default","k8s:io.cilium.k8s.policy.serviceaccount=default","k8s:io.kubernetes.pod.namespace=ns-{ns}"],"pod_name":"svc-{i}-7d9c8b6f5-x2x7q","workloads":[{{"name":"svc-{i}","kind":"Deployment"}}]}}"#,
        1000 + i,
        20000 + i
    );
}

/// Record `n` as one line.
fn record(out: &mut String, n: usize) {
    let i = (n * 7919) % SERVICES;
    let second = n / 1000;
    let time = format!(
        "2026-11-30T{:02}:{:02}:{:02}.{:09}Z",
        (second / 3600) % 24,
        (second / 60) % 60,
        second % 60,
        n % 1_000_000_000
    );
    let kind = n % 50;
    let (src, dst, port, reply) = match kind {
        0 => (i, (i + SERVICES / 2) % SERVICES, 8080, false),
        1..=10 => (callee(i, kind % 3), i, 40000 + kind, true),
        12 => (i, i, 53, false),
        _ => (i, callee(i, kind % 3), 8080, false),
    };
    let transport = if kind == 12 { "UDP" } else { "TCP" };
    let _ = write!(
        out,
        r#"{{"flow":{{"time":"{time}","uuid":"00000000-0000-4000-8000-{n:012}","verdict":"FORWARDED","ethernet":{{"source":"9a:4b:92:54:a9:62","destination":"72:59:04:fd:68:13"}},"IP":{{"source":"10.0.{}.{}","destination":"10.0.{}.{}","ipVersion":"IPv4"}},"l4":{{"{transport}":{{"source_port":{},"destination_port":{port}}}}},"source":"#,
        src / 250,
        src % 250,
        dst / 250,
        dst % 250,
        50000 + n % 10000
    );
    if kind == 11 {
        out.push_str(r#"{"identity":1,"labels":["reserved:host"]}"#);
    } else {
        endpoint(out, src);
    }
    out.push_str(r#","destination":"#);
    if kind == 12 {
        out.push_str(r#"{"identity":102,"namespace":"kube-system","labels":["k8s:k8s-app=kube-dns"],"pod_name":"coredns-5d78c9869d-8xk2l","workloads":[{"name":"coredns","kind":"Deployment"}]}"#);
    } else {
        endpoint(out, dst);
    }
    let _ = write!(
        out,
        r#","Type":"L3_L4","node_name":"kind-worker","event_type":{{"type":4}},"traffic_direction":"EGRESS","trace_observation_point":"TO_ENDPOINT","is_reply":{reply},"interface":{{"index":6,"name":"lxc12345"}},"Summary":"TCP Flags: ACK"}},"node_name":"kind-worker","time":"{time}"}}"#
    );
    out.push('\n');
}

fn write_flows(path: &Path) {
    let file = std::fs::File::create(path).expect("create the flows");
    let mut w = std::io::BufWriter::new(file);
    let mut line = String::new();
    for n in 0..records() {
        line.clear();
        record(&mut line, n);
        w.write_all(line.as_bytes()).expect("write the flows");
    }
    w.flush().expect("write the flows");
}

fn main() {
    let text = workspace();
    if let Some(dir) = std::env::var_os("K8S_ADVISOR_BENCH_FLOWS") {
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).expect("create the folder");
        std::fs::write(dir.join("k8s-advisor.toml"), &text).expect("write the workspace");
        write_flows(&dir.join("flows.json"));
        eprintln!(
            "wrote {} ({SERVICES} services, {} flow records)",
            dir.display(),
            records()
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let flows = dir.path().join("flows.json");
    write_flows(&flows);
    let policy = Policy::load(None).expect("shipped policy");
    let ws = k8s_advisor::workspace::parse(
        &Source::new("k8s-advisor.toml", text),
        &policy.criterion_ids(),
    )
    .expect("the workspace loads");
    let mut c = Criterion::default().configure_from_args().sample_size(10);
    c.bench_function("verify --flows, 1,000,000 records", |b| {
        b.iter(|| {
            let (reading, observer) = read::read(
                std::slice::from_ref(&flows),
                &mut std::io::empty(),
                false,
                &|| Observer::new(&ws, None),
            )
            .expect("the flows read");
            let files: Vec<_> = reading.files.iter().map(|(p, _)| p.clone()).collect();
            black_box(check::findings(&observer.observations, &ws, None, &files))
        });
    });
    c.final_summary();
}
