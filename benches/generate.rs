//! Benchmark of the generate stage on the size the product contract names: 5,000 services in
//! 200 namespaces with 25,000 calls.
//!
//! `cargo bench --bench generate` measures rendering alone, load + render, and the
//! architecture overview (analysis included: graph, verdict, findings; the policies come with
//! the layout). With
//! `K8S_ADVISOR_BENCH_WORKSPACE=FILE` it only writes the big workspace to FILE and exits, so
//! that `scripts/bench-generate.sh` can time the whole binary on it;
//! `K8S_ADVISOR_BENCH_SERVICES=N` changes the number of services (default 5,000; always 25 per
//! namespace and five calls each, so that 10,000 is the same model twice as large).

use std::fmt::Write;
use std::hint::black_box;
use std::path::Path;

use criterion::Criterion;
use k8s_advisor::diagnostic::Source;
use k8s_advisor::generate::generate;
use k8s_advisor::policy::Policy;

/// The binary's allocator (see `mimalloc` in Cargo.toml), so that the figures are the tool's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SERVICES: usize = 5_000;
const PER_NAMESPACE: usize = 25;
const CALLS_PER_SERVICE: usize = 5;

/// The big workspace: services spread evenly over namespaces, each calling five others (two in
/// its own namespace, three elsewhere), a few exposed, a few with egress.
fn big_workspace(services: usize) -> String {
    let mut out = String::from(
        "version = 1\n\n[project]\nname = \"big\"\nplatform = \"eks\"\ninternal-cidrs = [\"10.0.0.0/8\"]\n",
    );
    for n in 0..services.div_ceil(PER_NAMESPACE) {
        let _ = write!(
            out,
            "\n[[namespaces]]\nname = \"ns-{n}\"\nteam = \"team-{}\"\n",
            n % 17
        );
    }
    let per_ns = PER_NAMESPACE;
    let id = |i: usize| format!("ns-{}/svc-{i}", i / per_ns);
    for i in 0..services {
        let ns = i / per_ns;
        let base = ns * per_ns;
        let size = per_ns.min(services - base);
        let targets = [
            base + (i - base + 1) % size,
            base + (i - base + 2) % size,
            (i + per_ns * 7 + 3) % services,
            (i + per_ns * 31 + 5) % services,
            (i + per_ns * 53 + 9) % services,
        ];
        let mut calls: Vec<String> = Vec::new();
        for t in targets.iter().take(CALLS_PER_SERVICE) {
            let r = format!("{:?}", id(*t));
            if *t != i && !calls.contains(&r) {
                calls.push(r);
            }
        }
        let expose = match i % 50 {
            0 => "public",
            1 => "internal",
            _ => "cluster",
        };
        let _ = write!(
            out,
            "\n[[services]]\nname = \"svc-{i}\"\nnamespace = \"ns-{ns}\"\nimage = \"registry.example.com/big/svc-{i}:1.0.0\"\nreplicas = 2\nports = [{{ name = \"http\", port = 80, target = 8080 }}, {{ name = \"metrics\", port = 9090 }}]\nexpose = \"{expose}\"\ncalls = [{}]\n",
            calls.join(", ")
        );
        if i % 20 == 0 {
            out.push_str("egress = [{ cidr = \"0.0.0.0/0\", ports = [443], reason = \"third-party API\" }]\n");
        }
        out.push_str("resources = { requests = { cpu = \"100m\", memory = \"128Mi\" }, limits = { cpu = \"500m\", memory = \"256Mi\" } }\n");
    }
    out
}

fn main() {
    let services = std::env::var("K8S_ADVISOR_BENCH_SERVICES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SERVICES);
    let text = big_workspace(services);
    if let Some(path) = std::env::var_os("K8S_ADVISOR_BENCH_WORKSPACE") {
        std::fs::write(&path, &text).expect("write the big workspace");
        eprintln!("wrote {} ({services} services)", Path::new(&path).display());
        return;
    }
    let policy = Policy::load(None).expect("shipped policy");
    let criteria = policy.criterion_ids();
    let source = Source::new("k8s-advisor.toml", text);
    let workspace = k8s_advisor::workspace::parse(&source, &criteria).expect("valid workspace");
    let calls: usize = workspace.services.iter().map(|s| s.calls.len()).sum();
    eprintln!(
        "{} services, {} namespaces, {calls} calls",
        workspace.services.len(),
        workspace.namespaces.len()
    );
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    c.bench_function(&format!("generate {services} services"), |b| {
        b.iter(|| generate(black_box(&workspace)))
    });
    c.bench_function(
        &format!("parse + validate + generate {services} services"),
        |b| {
            b.iter(|| {
                let ws = k8s_advisor::workspace::parse(black_box(&source), &criteria).unwrap();
                generate(&ws)
            })
        },
    );
    // The policies come with the layout, which the benchmarks above measure.
    let policies = k8s_advisor::generate::layout(&workspace).policies;
    c.bench_function(&format!("architecture overview {services} services"), |b| {
        b.iter(|| {
            let graph = k8s_advisor::graph::ServiceGraph::build(black_box(&workspace));
            let verdict = k8s_advisor::assess::assess(&graph, &policy);
            let input = k8s_advisor::architecture::Input {
                index: "architecture.md",
                record: None,
                workspace_file: "k8s-advisor.toml",
                policies: &policies,
                findings: &graph.findings(&policy.graph),
            };
            k8s_advisor::architecture::render(&graph, &verdict, &input)
        })
    });
    c.final_summary();
}
