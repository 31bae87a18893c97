//! Benchmark of `import` at scale: a Compose project and a set of manifests of 10,000 and
//! 100,000 services, each service calling two others (one by URL, one by `host:port`).
//!
//! `cargo bench --bench import` measures drafting the workspace from inputs in memory. With
//! `K8S_ADVISOR_BENCH_IMPORT=DIR` it only writes the inputs of `K8S_ADVISOR_BENCH_SERVICES`
//! services (default 100,000) into DIR (`compose.yaml`, and `k8s/` in files under the input
//! size cap) and exits, so that `scripts/bench-import.sh` can time the whole binary and its
//! peak memory on them.

use std::fmt::Write;
use std::hint::black_box;
use std::path::PathBuf;

use criterion::Criterion;
use k8s_advisor::diagnostic::Source;
use k8s_advisor::import::{Input, Options, import};

/// The binary's allocator (see `mimalloc` in Cargo.toml), so that the figures are the tool's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Services per namespace in the manifests.
const PER_NAMESPACE: usize = 25;

/// Manifest files the services are spread over: each stays under the 16 MiB input cap.
const FILES: usize = 10;

/// A Compose file of `n` services.
fn compose(n: usize) -> String {
    let mut out = String::from("name: big\nservices:\n");
    for i in 0..n {
        let (a, b) = ((i + 1) % n, (i + 7) % n);
        let _ = write!(
            out,
            "  s{i}:\n    image: r/s{i}:1.0.0\n    ports: [\"8080\"]\n    environment:\n      A_URL: http://s{a}:8080/\n      B_ADDR: s{b}:8080\n"
        );
    }
    out
}

/// Manifests of `n` services (a Deployment and a Service each), in [`FILES`] files.
fn manifests(n: usize) -> Vec<String> {
    let per = n.div_ceil(FILES);
    (0..FILES)
        .map(|f| {
            let mut out = String::new();
            for i in (f * per)..((f + 1) * per).min(n) {
                let (a, b) = ((i + 1) % n, (i + 7) % n);
                let (ns, na, nb) = (i / PER_NAMESPACE, a / PER_NAMESPACE, b / PER_NAMESPACE);
                let _ = write!(
                    out,
                    "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: s{i}, namespace: ns{ns}}}\nspec:\n  template:\n    metadata: {{labels: {{app: s{i}}}}}\n    spec:\n      containers:\n        - name: app\n          image: r/s{i}:1.0.0\n          ports: [{{containerPort: 8080}}]\n          env:\n            - {{name: A_URL, value: \"http://s{a}.ns{na}:8080/\"}}\n            - {{name: B_ADDR, value: \"s{b}.ns{nb}:8080\"}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: ns{ns}}}\nspec:\n  selector: {{app: s{i}}}\n  ports: [{{port: 80, targetPort: 8080}}]\n"
                );
            }
            out
        })
        .collect()
}

fn inputs(files: Vec<(String, String)>) -> Vec<Input> {
    files
        .into_iter()
        .map(|(name, text)| Input {
            source: Source::new(name, text),
            dir: None,
        })
        .collect()
}

fn main() {
    let services: usize = std::env::var("K8S_ADVISOR_BENCH_SERVICES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    if let Some(dir) = std::env::var_os("K8S_ADVISOR_BENCH_IMPORT") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(dir.join("k8s")).expect("create the folders");
        std::fs::write(dir.join("compose.yaml"), compose(services)).expect("write compose");
        for (i, text) in manifests(services).into_iter().enumerate() {
            std::fs::write(dir.join(format!("k8s/part-{i}.yaml")), text).expect("write k8s");
        }
        eprintln!(
            "wrote the inputs of {services} services into {}",
            dir.display()
        );
        return;
    }
    let options = Options {
        fallback_project: "big".into(),
        ..Options::default()
    };
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    for n in [10_000, services] {
        let compose = inputs(vec![("compose.yaml".into(), compose(n))]);
        let manifests = inputs(
            manifests(n)
                .into_iter()
                .enumerate()
                .map(|(i, t)| (format!("part-{i}.yaml"), t))
                .collect(),
        );
        let (_, unknowns) = import(&compose, &options).expect("compose imports");
        assert!(
            unknowns.is_empty(),
            "{:?}",
            &unknowns[..unknowns.len().min(3)]
        );
        c.bench_function(&format!("import: Compose, {n} services"), |b| {
            b.iter(|| import(black_box(&compose), &options).expect("imports"))
        });
        c.bench_function(&format!("import: manifests, {n} services"), |b| {
            b.iter(|| import(black_box(&manifests), &options).expect("imports"))
        });
    }
    c.final_summary();
}
