//! Benchmark of the analyse stage for `k8s-advisor graph`: building the service graph and
//! running the whole review (cycles, coupling, fan-in/out, isolated services, longest chain) on
//! a model of 5,000 services in 200 namespaces with 25,000 calls. Parsing is measured apart so
//! the graph's own cost is visible. Run with `cargo bench --bench graph`.

use std::fmt::Write;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use k8s_advisor::diagnostic::Source;
use k8s_advisor::graph::ServiceGraph;
use k8s_advisor::policy::Policy;

/// The binary's allocator (see `mimalloc` in Cargo.toml), so that the figures are the tool's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SERVICES: usize = 5_000;
const NAMESPACES: usize = 200;
const CALLS_PER_SERVICE: usize = 5;

/// A workspace with mostly downstream calls, some across namespaces and a few cycles, from a
/// fixed seed so every run measures the same model.
fn workspace_text() -> String {
    let mut state: u64 = 42;
    let mut next = move |bound: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % bound
    };
    let id = |i: usize| format!("ns-{:03}/svc-{i:04}", i % NAMESPACES);
    let mut text = String::from("version = 1\n[project]\nname = \"bench\"\n");
    for i in 0..SERVICES {
        let mut targets = std::collections::BTreeSet::new();
        while targets.len() < CALLS_PER_SERVICE {
            // Mostly calls to later services (a DAG), one in twenty back (cycles).
            let t = if next(20) == 0 {
                next(SERVICES)
            } else {
                (i + 1 + next(400)) % SERVICES
            };
            if t != i {
                targets.insert(t);
            }
        }
        let calls: Vec<String> = targets.iter().map(|&t| format!("\"{}\"", id(t))).collect();
        let _ = write!(
            text,
            "[[services]]\nname = \"svc-{i:04}\"\nnamespace = \"ns-{:03}\"\nport = 8080\ncalls = [{}]\n",
            i % NAMESPACES,
            calls.join(", ")
        );
    }
    text
}

fn bench(c: &mut Criterion) {
    let policy = Policy::load(None).expect("shipped policy");
    let criteria = policy.criterion_ids();
    let source = Source::new("bench.toml", workspace_text());
    let workspace = k8s_advisor::workspace::parse(&source, &criteria).expect("valid workspace");
    assert_eq!(workspace.services.len(), SERVICES);
    assert_eq!(workspace.namespaces.len(), NAMESPACES);
    assert_eq!(
        ServiceGraph::build(&workspace).call_count(),
        SERVICES * CALLS_PER_SERVICE
    );

    let mut group = c.benchmark_group("graph-5000-services");
    group.sample_size(20);
    group.bench_function("parse workspace", |b| {
        b.iter(|| k8s_advisor::workspace::parse(black_box(&source), &criteria))
    });
    group.bench_function("build graph + all findings", |b| {
        b.iter(|| {
            let graph = ServiceGraph::build(black_box(&workspace));
            let findings = graph.findings(&policy.graph);
            black_box((findings.len(), graph.namespace_cycles().len()))
        })
    });
    group.bench_function("longest chain", |b| {
        let graph = ServiceGraph::build(&workspace);
        b.iter(|| black_box(graph.longest_chain().len()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
