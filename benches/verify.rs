//! Benchmark of `verify` on the contract's size: the layout `generate` writes for 5,000
//! services in 200 namespaces with 25,000 calls, read back and verified against its workspace.
//!
//! `cargo bench --bench verify` measures reading the manifests, the engine, and the comparison
//! with the model. With `K8S_ADVISOR_BENCH_WORKSPACE=FILE` it only writes a workspace of
//! `K8S_ADVISOR_BENCH_SERVICES` services (default 5,000; 25 per namespace) to FILE and exits,
//! so that `scripts/bench-verify.sh` can time the whole binary and nca on it.
//!
//! Two shapes whose pairs grow with the square of their size are benchmarked too, at 10,000:
//! `tiers` (Deployments in namespaces of ten, each selected by a policy of its own that admits
//! the two other tiers from every namespace) and `holes` (one Deployment selected by N policies
//! that each admit `0.0.0.0/0` minus a /24 on a port of their own). With
//! `K8S_ADVISOR_BENCH_SHAPE=tiers|holes` and `K8S_ADVISOR_BENCH_MANIFESTS=FILE` it only writes
//! that shape at `K8S_ADVISOR_BENCH_SERVICES` (default 10,000) to FILE and exits.

use std::fmt::Write;
use std::hint::black_box;
use std::path::Path;

use criterion::Criterion;
use k8s_advisor::diagnostic::Source;
use k8s_advisor::policy::Policy;
use k8s_advisor::verify::compare::compare;
use k8s_advisor::verify::engine::Analysis;
use k8s_advisor::verify::read::{Input, read_inputs, read_text};
use k8s_advisor::verify::render;

#[path = "../tests/verify/shapes.rs"]
mod shapes;
use shapes::{holes, tiers};

/// The binary's allocator (see `mimalloc` in Cargo.toml), so that the figures are the tool's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Services per namespace, as in the contract's model (5,000 in 200).
const PER_NAMESPACE: usize = 25;

/// A workspace of `services` services, 25 per namespace, each calling up to five others (two
/// in its namespace, three elsewhere); every 50th is public or internal, every 20th has egress.
fn workspace(services: usize) -> String {
    let namespaces = services.div_ceil(PER_NAMESPACE);
    let mut out = String::from(
        "version = 1\n\n[project]\nname = \"big\"\nplatform = \"eks\"\ninternal-cidrs = [\"10.0.0.0/8\"]\n",
    );
    let ns_of = |i: usize| i / PER_NAMESPACE;
    for i in 0..services {
        let ns = ns_of(i);
        let first = ns * PER_NAMESPACE;
        let size = PER_NAMESPACE.min(services - first);
        let targets = [
            first + (i - first + 1) % size,
            first + (i - first + 2) % size,
            (i + PER_NAMESPACE * 7 + 3) % services,
            (i + PER_NAMESPACE * 31 + 5) % services,
            (i + PER_NAMESPACE * 53 + 9) % services,
        ];
        let mut calls: Vec<String> = Vec::new();
        for t in targets {
            let reference = format!("\"ns-{}/svc-{t}\"", ns_of(t));
            if t != i && !calls.contains(&reference) {
                calls.push(reference);
            }
        }
        let expose = match i % 50 {
            0 => "public",
            1 => "internal",
            _ => "cluster",
        };
        let _ = write!(
            out,
            "\n[[services]]\nname = \"svc-{i}\"\nnamespace = \"ns-{ns}\"\nports = [{{ name = \"http\", port = 80, target = 8080 }}, {{ name = \"metrics\", port = 9090 }}]\nexpose = \"{expose}\"\ncalls = [{}]\n",
            calls.join(", ")
        );
        if i % 20 == 0 {
            out.push_str("egress = [{ cidr = \"0.0.0.0/0\", ports = [443], reason = \"third-party API\" }]\n");
        }
    }
    debug_assert!(namespaces > 0);
    out
}

fn main() {
    let size = std::env::var("K8S_ADVISOR_BENCH_SERVICES")
        .ok()
        .and_then(|s| s.parse::<usize>().ok());
    if let (Ok(shape), Some(path)) = (
        std::env::var("K8S_ADVISOR_BENCH_SHAPE"),
        std::env::var_os("K8S_ADVISOR_BENCH_MANIFESTS"),
    ) {
        let n = size.unwrap_or(10_000);
        let text = match shape.as_str() {
            "tiers" => tiers(n),
            "holes" => holes(n),
            other => panic!("K8S_ADVISOR_BENCH_SHAPE is tiers or holes, not {other}"),
        };
        std::fs::write(&path, text).expect("write the manifests");
        eprintln!("wrote {} ({shape}, {n})", Path::new(&path).display());
        return;
    }
    let services = size.unwrap_or(5_000);
    let text = workspace(services);
    if let Some(path) = std::env::var_os("K8S_ADVISOR_BENCH_WORKSPACE") {
        std::fs::write(&path, &text).expect("write the workspace");
        eprintln!("wrote {} ({services} services)", Path::new(&path).display());
        return;
    }
    let policy = Policy::load(None).expect("shipped policy");
    let source = Source::new("k8s-advisor.toml", text);
    let ws =
        k8s_advisor::workspace::parse(&source, &policy.criterion_ids()).expect("valid workspace");
    let dir = tempfile::tempdir().expect("temporary folder");
    let out = dir.path().join("k8s");
    let plan = k8s_advisor::layout::plan_manifests(
        dir.path(),
        &out,
        &ws.project.name,
        k8s_advisor::generate::generate(&ws),
        &[],
    )
    .expect("layout planned");
    k8s_advisor::layout::apply(&plan, false).expect("layout written");
    let inputs = [Input::Path(out)];
    let read =
        || read_inputs(&inputs, &mut std::io::empty(), &Default::default()).expect("layout reads");
    let manifests = read();
    let calls: usize = ws.services.iter().map(|s| s.calls.len()).sum();
    let findings = compare(&Analysis::new(&manifests), &ws).expect("services found");
    eprintln!(
        "{} services, {} namespaces, {calls} calls; {} workloads, {} NetworkPolicies; {} findings",
        ws.services.len(),
        ws.namespaces.len(),
        manifests.workloads.len(),
        manifests.policies.len(),
        findings.len()
    );
    assert!(findings.is_empty(), "a generated layout must verify clean");
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    c.bench_function("verify: read the layout", |b| b.iter(read));
    c.bench_function("verify: connectivity", |b| {
        b.iter(|| Analysis::new(black_box(&manifests)))
    });
    c.bench_function("verify: connectivity + comparison", |b| {
        b.iter(|| compare(&Analysis::new(black_box(&manifests)), &ws))
    });
    for (shape, text) in [("tiers", tiers(10_000)), ("holes", holes(10_000))] {
        let manifests = read_text("shape.yaml", &text).expect("the shape reads");
        c.bench_function(
            &format!("verify: connectivity as text, {shape} 10,000"),
            |b| b.iter(|| render::connectivity_text(&Analysis::new(black_box(&manifests)))),
        );
    }
    c.final_summary();
}
