//! `verify`: our NetworkPolicy engine judged by network-config-analyzer (nca) on seeded random
//! manifests, a mutation test proving that judgement catches real engine bugs, every layout
//! `generate` writes verified clean, and the command's behaviour on hand-written and hostile
//! input.
//!
//! A failing seed prints itself; `world::world(seed)` rebuilds its objects, and setting
//! `VERIFY_KEEP=DIR` writes both copies of every checked seed there.

mod world;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use k8s_advisor::verify::compare::compare;
use k8s_advisor::verify::engine::Analysis;
#[cfg(feature = "mutants")]
use k8s_advisor::verify::engine::Mutation;
use k8s_advisor::verify::manifest::Manifests;

/// Without the `mutants` feature the engine has no deliberate bugs to inject.
#[cfg(not(feature = "mutants"))]
#[derive(Clone, Copy)]
enum Mutation {}

#[cfg(feature = "mutants")]
fn analyse(manifests: &Manifests, mutation: Option<Mutation>) -> Analysis<'_> {
    match mutation {
        Some(mutation) => Analysis::with_mutation(manifests, mutation),
        None => Analysis::new(manifests),
    }
}

#[cfg(not(feature = "mutants"))]
fn analyse(manifests: &Manifests, _: Option<Mutation>) -> Analysis<'_> {
    Analysis::new(manifests)
}
use k8s_advisor::verify::read::{Input, read_inputs, read_text};
use k8s_advisor::verify::render;
use serde_json::Value;

use crate::nca::{self, Canon, diff, parse_nca, parse_ours, show_ranges};
use crate::support::{bin, example, examples, root, success};

/// How many random worlds the differential test checks (`VERIFY_SEEDS` overrides it for a
/// longer local run; CI uses the default).
fn seeds() -> u64 {
    std::env::var("VERIFY_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200)
}

type NcaResult = Arc<OnceLock<Result<Canon, String>>>;

/// nca's verdict on world `seed`, computed once per test binary run.
fn nca_verdict(seed: u64) -> NcaResult {
    static CACHE: OnceLock<Mutex<HashMap<u64, NcaResult>>> = OnceLock::new();
    let cell = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(seed)
        .or_default()
        .clone();
    cell.get_or_init(|| {
        let docs = world::world(seed);
        let ours =
            read_text("world.yaml", &world::for_us(seed, &docs)).map_err(|e| format!("{e:?}"))?;
        let names: BTreeSet<String> = ours.workloads.iter().map(|w| w.id()).collect();
        nca::run(&format!("seed-{seed}"), &world::for_nca(&docs), &names)
    });
    cell
}

/// Our verdict on world `seed`, with an optional deliberate bug.
fn our_verdict(seed: u64, mutation: Option<Mutation>) -> Result<Canon, String> {
    let docs = world::world(seed);
    let text = world::for_us(seed, &docs);
    if let Ok(dir) = std::env::var("VERIFY_KEEP") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(dir.join(format!("seed-{seed}.yaml")), &text).map_err(|e| e.to_string())?;
        std::fs::write(
            dir.join(format!("seed-{seed}.nca.yaml")),
            world::for_nca(&docs),
        )
        .map_err(|e| e.to_string())?;
    }
    let manifests =
        read_text("world.yaml", &text).map_err(|e| format!("seed {seed} does not read: {e:?}"))?;
    Ok(parse_ours(&render::connectivity_json(&analyse(
        &manifests, mutation,
    ))))
}

/// Compares one seed; `Err` holds a readable report.
fn check_seed(seed: u64, mutation: Option<Mutation>) -> Result<(), String> {
    let ours = our_verdict(seed, mutation)?;
    let nca = nca_verdict(seed);
    let nca = nca
        .get()
        .expect("computed")
        .as_ref()
        .map_err(|e| format!("seed {seed}: {e}"))?;
    let d = diff(&ours, nca);
    if d.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "seed {seed}: verify and nca disagree (replay: VERIFY_KEEP=/tmp/w, world::world({seed})):\n{d}"
        ))
    }
}

/// Runs `check` on every seed on two threads (the machine has two cores); the failures.
fn each_seed(
    seeds: impl Iterator<Item = u64>,
    check: impl Fn(u64) -> Result<(), String> + Sync,
) -> Vec<String> {
    let queue = Mutex::new(seeds.collect::<Vec<_>>());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let Some(seed) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let outcome =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(seed)))
                            .unwrap_or_else(|_| Err(format!("seed {seed}: panicked")));
                    if let Err(e) = outcome {
                        failures.lock().unwrap().push(e);
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    failures
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn engine_agrees_with_nca_on_random_manifests() {
    let started = std::time::Instant::now();
    let seeds = seeds();
    let failures = each_seed(1..=seeds, |seed| check_seed(seed, None));
    assert!(
        failures.is_empty(),
        "{} of {seeds} seeds failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "{seeds} random worlds agree with nca ({:.0?})",
        started.elapsed()
    );
}

#[cfg(feature = "mutants")]
/// Each deliberate engine bug must make some of the first seeds disagree with nca: proof that
/// the differential test sees wrong operators, dropped excepts and ignored endPorts.
#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn the_differential_test_catches_engine_bugs() {
    let mutations = [
        (
            "NotIn evaluated as In",
            Mutation {
                wrong_operator: true,
                ..Mutation::default()
            },
        ),
        (
            "ipBlock except dropped",
            Mutation {
                dropped_except: true,
                ..Mutation::default()
            },
        ),
        (
            "endPort ignored",
            Mutation {
                ignored_end_port: true,
                ..Mutation::default()
            },
        ),
    ];
    for (name, mutation) in mutations {
        let caught = each_seed(1..=60, |seed| check_seed(seed, Some(mutation)));
        assert!(
            !caught.is_empty(),
            "the mutation `{name}` went unnoticed on 60 seeds"
        );
        assert!(
            caught.iter().all(|f| f.contains("disagree")),
            "{name}: {}",
            caught.join("\n")
        );
    }
}

#[test]
fn random_worlds_are_deterministic_and_read_in_any_order() {
    for seed in 1..=20 {
        let docs = world::world(seed);
        assert_eq!(docs, world::world(seed));
        let shuffled = read_text("a.yaml", &world::for_us(seed, &docs)).unwrap();
        let ordered = read_text("a.yaml", &world::for_us(seed + 1000, &docs)).unwrap();
        assert_eq!(
            render::connectivity_json(&Analysis::new(&shuffled)),
            render::connectivity_json(&Analysis::new(&ordered)),
            "seed {seed}"
        );
    }
}

#[test]
fn nca_output_parses() {
    let ours: BTreeSet<String> = ["a/web".to_string(), "b/api".to_string()].into();
    let text = "0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255 => a/web[Deployment] : {protocols:TCP,dst_ports:8080-8081,9000}\n\
        a/web[Deployment] => b/api[Deployment] : {protocols:TCP, UDP,dst_ports:53}\n\
        a/web[Deployment] => b/api[Deployment] : {protocols:SCTP}\n\
        a/web[Deployment] => kube-system/kube-dns-livesim[Pod] : All connections\n\
        a/web[Deployment] => ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff : All connections\n";
    let c = parse_nca(text, &ours).unwrap();
    let key = |p: &str| ("a/web".to_string(), "b/api".to_string(), p.to_string());
    assert_eq!(show_ranges(&c.pods[&key("TCP")]), "53");
    assert_eq!(show_ranges(&c.pods[&key("SCTP")]), "1-65535");
    assert_eq!(c.pods.len(), 3);
    let ingress = &c.external[&(
        "a/web".to_string(),
        "ingress".to_string(),
        "TCP".to_string(),
    )];
    assert_eq!(ingress.len(), 2, "{ingress:?}");
    assert_eq!(show_ranges(&ingress[0].3), "8080-8081,9000");
    assert!(
        parse_nca(
            "x/unknown[Pod] => a/web[Deployment] : All connections",
            &ours
        )
        .is_err()
    );
}

/// Writes the layout `generate` makes for `ws` and verifies it against `ws`: the findings.
fn verify_generated(
    ws: &k8s_advisor::model::Workspace,
) -> Vec<k8s_advisor::verify::compare::Finding> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k8s");
    crate::support::write_layout(ws, &out).expect("layout written");
    let manifests = read_inputs(
        &[Input::Path(out)],
        &mut std::io::empty(),
        &Default::default(),
    )
    .expect("layout reads");
    assert_eq!(manifests.workloads.len(), ws.services.len());
    compare(&Analysis::new(&manifests), ws).expect("services found")
}

#[test]
fn every_generated_layout_verifies_clean() {
    let mut failures = Vec::new();
    let mut cases: Vec<(String, k8s_advisor::model::Workspace)> = examples()
        .into_iter()
        .map(|p| (p.display().to_string(), crate::generate::load(&p)))
        .collect();
    for seed in 1..=60 {
        let text = crate::conformance::with_dns(
            &crate::random_model::toml(&crate::random_model::model(seed, 40), None),
            seed,
        );
        cases.push((
            format!("random_model::model({seed}, 40)"),
            crate::generate::load_text(&text),
        ));
    }
    for (name, ws) in &cases {
        let findings = verify_generated(ws);
        if !findings.is_empty() {
            let list: Vec<String> = findings
                .iter()
                .map(|f| format!("  [{}] {}", f.kind.code(), f.message))
                .collect();
            failures.push(format!("{name}:\n{}", list.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The hand-written shop: every mistake in its manifests is reported with the rule responsible.
#[test]
fn hand_written_mistakes_are_found() {
    let shop = root().join("tests/verify/shop");
    let mut cmd = bin();
    cmd.args([
        "-w",
        "tests/verify/shop/k8s-advisor.toml",
        "verify",
        "--format",
        "json",
    ])
    .arg(shop.join("manifests"));
    let report = failing_report(&mut cmd);
    let findings = report["findings"].as_array().unwrap();
    let summary: BTreeSet<(String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["workloads"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|w| w.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(" -> "),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("blocked-call", "storefront/web -> orders/orders-api"),
        ("undeclared-flow", "storefront/web -> orders/payments"),
        ("undeclared-flow", "orders/db -> orders/payments"),
        ("undeclared-flow", "orders/db"),
        ("unisolated-workload", "orders/db"),
        ("exposure-mismatch", "storefront/web"),
        ("unmodeled-workload", "storefront/debug"),
        ("missing-workload", "orders/notifications"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(summary, want);
    let find = |code: &str, workloads: &str| {
        findings
            .iter()
            .find(|f| {
                f["code"] == code
                    && f["workloads"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|w| w.as_str().unwrap())
                        .collect::<Vec<_>>()
                        .join(" -> ")
                        == workloads
            })
            .unwrap()
    };
    let blocked = find("blocked-call", "storefront/web -> orders/orders-api");
    assert_eq!(
        blocked["ports"],
        serde_json::json!([{"protocol": "TCP", "ports": [[8080, 8080]]}])
    );
    assert_eq!(blocked["policies"][0]["policy"], "orders/orders-api");
    assert_eq!(blocked["severity"], "error");
    let flow = find("undeclared-flow", "storefront/web -> orders/payments");
    let rules: Vec<String> = flow["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {} {}",
                p["policy"].as_str().unwrap(),
                p["direction"].as_str().unwrap(),
                p["rule"]
            )
        })
        .collect();
    assert_eq!(
        rules,
        ["orders/payments ingress 1", "storefront/web egress 1"]
    );
    let exposure = find("exposure-mismatch", "storefront/web");
    assert_eq!(exposure["cidrs"], serde_json::json!(["::/0"]));
    assert!(
        exposure["file"]
            .as_str()
            .unwrap()
            .ends_with("storefront.yaml")
    );
    assert_eq!(report["errors"], 5);
    assert_eq!(report["warnings"], 3);
    // The text report groups by namespace and names the rule.
    let text = bin()
        .args(["-w", "tests/verify/shop/k8s-advisor.toml", "verify"])
        .arg(shop.join("manifests"))
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.starts_with("Summary: 8 findings: 1 blocked-call, 3 undeclared-flow,")
            && text.contains("\n\nnamespace orders\n"),
        "{text}"
    );
    assert!(text.contains("\nnamespace storefront\n"), "{text}");
    assert!(
        text.contains("policy orders/payments ingress rule 1"),
        "{text}"
    );
    assert!(text.ends_with("5 errors, 3 warnings.\n"), "{text}");
}

#[test]
fn sarif_report_is_valid_and_located_in_the_manifests() {
    let out = bin()
        .args([
            "-w",
            "tests/verify/shop/k8s-advisor.toml",
            "verify",
            "--format",
            "sarif",
            "tests/verify/shop/manifests",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 8);
    let blocked = results
        .iter()
        .find(|r| r["ruleId"] == "blocked-call")
        .unwrap();
    let location = &blocked["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "tests/verify/shop/manifests/orders.yaml"
    );
    assert!(location["region"]["startLine"].as_u64().unwrap() > 1);
}

#[test]
fn a_generated_folder_is_the_default_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        example("picturesocial"),
        dir.path().join("k8s-advisor.toml"),
    )
    .unwrap();
    success(
        bin()
            .current_dir(dir.path())
            .args(["generate", "--no-record"]),
    );
    let out = success(bin().current_dir(dir.path()).arg("verify"));
    assert!(out.contains("No findings"), "{out}");
    // One edit to a policy: the declared call breaks, and verify says which.
    let file = dir.path().join("k8s/users/network-policies.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("port: 9090", "port: 9091")).unwrap();
    let out = bin()
        .current_dir(dir.path())
        .arg("verify")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(
            "[blocked-call] declared call users/auth -> users/users-api is blocked on TCP 9090"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("[undeclared-flow] users/auth -> users/users-api is allowed on TCP 9091"),
        "{stdout}"
    );
}

/// The JSON contract, on a small hand-written case computed by hand.
#[test]
fn connectivity_json_contract() {
    let manifests = "\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Namespace
    metadata: {name: a, labels: {zone: x}}
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: a}
    spec:
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 8080}]}]}
  - apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: a, labels: {app: api}}
    spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 9000}, {containerPort: 53, protocol: UDP}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: a}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{port: http}, {port: 9100, endPort: 9200}]
    - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]
      ports: [{protocol: UDP, port: 53}]
  egress:
    - to: [{ipBlock: {cidr: 192.168.0.0/24}}]
";
    let out = bin()
        .args(["verify", "--connectivity", "--format", "json", "-"])
        .write_stdin(manifests)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = serde_json::json!([[1, 65535]]);
    let mut external = Vec::new();
    // web is not isolated: everything in and out.
    for protocol in ["SCTP", "TCP", "UDP"] {
        external.push(serde_json::json!({"workload": "a/web", "direction": "egress", "cidrs": ["0.0.0.0/0", "::/0"], "protocol": protocol, "ports": all}));
        external.push(serde_json::json!({"workload": "a/web", "direction": "ingress", "cidrs": ["0.0.0.0/0", "::/0"], "protocol": protocol, "ports": all}));
    }
    let tail = vec![
        serde_json::json!({"workload": "a/api", "direction": "egress", "cidrs": ["192.168.0.0/24"], "protocol": "SCTP", "ports": all}),
        serde_json::json!({"workload": "a/api", "direction": "egress", "cidrs": ["192.168.0.0/24"], "protocol": "TCP", "ports": all}),
        serde_json::json!({"workload": "a/api", "direction": "egress", "cidrs": ["192.168.0.0/24"], "protocol": "UDP", "ports": all}),
        serde_json::json!({"workload": "a/api", "direction": "ingress",
            "cidrs": ["10.0.0.0/16", "10.2.0.0/15", "10.4.0.0/14", "10.8.0.0/13", "10.16.0.0/12", "10.32.0.0/11", "10.64.0.0/10", "10.128.0.0/9"],
            "protocol": "UDP", "ports": [[53, 53]]}),
    ];
    let mut want_external = tail;
    external.sort_by_key(|e| {
        (
            e["workload"].to_string(),
            e["direction"].to_string(),
            e["protocol"].to_string(),
        )
    });
    want_external.extend(external);
    let want = serde_json::json!({
        "workloads": ["a/api", "a/web"],
        // api may not send to web (egress only to 192.168.0.0/24); web reaches api's named
        // port and the endPort range.
        "connections": [
            {"from": "a/web", "to": "a/api", "protocol": "TCP", "ports": [[9000, 9000], [9100, 9200]]},
        ],
        "external": want_external,
    });
    assert_eq!(got, want);
}

#[test]
fn bad_input_names_file_document_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template: {spec: {containers: [{name: c, ports: [{containerPort: eighty}]}]}}\n",
    )
    .unwrap();
    let stderr = refused(&file);
    assert!(stderr.contains("bad.yaml"), "{stderr}");
    assert!(stderr.contains("document 2"), "{stderr}");
    assert!(stderr.contains("bad.yaml:10:"), "{stderr}");
    for (text, expected) in [
        ("a: [1, 2\n", "document 1"),
        (
            "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: p}\nspec:\n  podSelector:\n    matchExpressions: [{key: a, operator: Maybe}]\n",
            "unknown selector operator \"Maybe\"",
        ),
        (
            "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: p}\nspec:\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}}]}]\n",
            "not strictly inside",
        ),
        (
            "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: p}\nspec:\n  ingress: [{ports: [{port: 90, endPort: 80}]}]\n",
            "endPort 80",
        ),
        (
            "- just\n- a list\n",
            "no workload in the manifests (1 objects not read)",
        ),
        (
            "kind: Pod\napiVersion: v1\nmetadata: {name: p}\nspec: {containers: [{name: c, ports: [{containerPort: 70000}]}]}\n",
            "outside 1..65535",
        ),
    ] {
        let out = bin()
            .args(["verify", "--connectivity", "-"])
            .write_stdin(text)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(expected), "{text}\n{stderr}");
        assert!(stderr.contains("<stdin>"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Deep flow nesting makes libyaml quadratic: refused at once, not after minutes.
    let deep = format!(
        "kind: Pod\napiVersion: v1\nspec: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let started = std::time::Instant::now();
    let out = bin()
        .args(["verify", "--connectivity", "-"])
        .write_stdin(deep)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nested deeper than 256 levels"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let out = bin()
        .args(["verify", "--connectivity", "-"])
        .write_stdin(vec![0xff, 0xfe, b'\n'])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid UTF-8"));
}

#[test]
fn hostile_inputs_are_refused_or_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // A FIFO among the manifests: refused before anyone opens it (which would hang).
    let fifo = dir.path().join("pipe.yaml");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let out = bin()
        .args(["verify", "--connectivity"])
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("pipe.yaml") && stderr.contains("not a regular file"),
        "{stderr}"
    );
    std::fs::remove_file(&fifo).unwrap();
    // A symbolic link loop is not followed; a link to a file is read.
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    std::fs::write(
        dir.path().join("real.yml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"evil\\e[31mred\\u0007\"\nspec: {containers: [{name: c, image: i}]}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path().join("real.yml"), dir.path().join("link.yaml")).unwrap();
    // A huge line is just text.
    std::fs::write(
        dir.path().join("big.yaml"),
        format!("# {}\nkind: Unknown\n", "x".repeat(2_000_000)),
    )
    .unwrap();
    // The API server refuses such a name, and so does verify; the message shows it escaped.
    let stderr = refused(dir.path());
    assert!(
        stderr.contains("metadata.name \"evil\\u{1b}[31mred\\u{7}\" is refused")
            && !stderr.contains('\u{1b}')
            && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
    std::fs::remove_file(dir.path().join("link.yaml")).unwrap();
    std::fs::write(
        dir.path().join("real.yml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec: {containers: [{name: c, image: i}]}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path().join("real.yml"), dir.path().join("link.yaml")).unwrap();
    // Read twice (the file and the link): the same name twice is refused.
    let stderr = refused(dir.path());
    assert!(
        stderr.contains("two workloads are named default/web"),
        "{stderr}"
    );
    std::fs::remove_file(dir.path().join("link.yaml")).unwrap();
    let out = success(bin().args(["verify", "--connectivity"]).arg(dir.path()));
    assert!(out.contains("default/web"), "{out}");
    // A raw ESC, which YAML forbids anywhere: exit 2, located on its own line, and the
    // terminal gets no escape sequence.
    let raw = dir.path().join("raw.yaml");
    std::fs::write(
        &raw,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"\u{1b}[31m\"\n",
    )
    .unwrap();
    let out = bin()
        .args(["verify", "--connectivity"])
        .arg(&raw)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("raw.yaml:6:"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

#[test]
fn binary_and_library_agree_on_a_random_world() {
    let docs = world::world(7);
    let text = world::for_us(7, &docs);
    let out = success(
        bin()
            .args(["verify", "--connectivity", "--format", "json", "-"])
            .write_stdin(text.clone()),
    );
    let manifests = read_text("w.yaml", &text).unwrap();
    assert_eq!(out, render::connectivity_json(&Analysis::new(&manifests)));
}

#[test]
fn usage_errors() {
    let out = bin()
        .args(["verify", "--connectivity", "--format", "sarif", "-"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin()
        .args(["verify", "--connectivity", "no-such-folder"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-folder"));
}

/// The connectivity contract's key order, on the exact text of a small case worked by hand:
/// `web` may reach `api` on its named port only, `api` may send only to one outside block.
#[test]
fn connectivity_json_keeps_the_contract_key_order() {
    let manifests = "\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c, image: i}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: a, labels: {app: api}}
spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 9000}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: a}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  egress:
    - to: [{podSelector: {matchLabels: {app: api}}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: a}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress, Egress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{port: http}]
  egress:
    - to: [{ipBlock: {cidr: 192.168.0.0/24}}]
      ports: [{port: 443}]
";
    let out = success(
        bin()
            .args(["verify", "--connectivity", "--format", "json", "-"])
            .write_stdin(manifests),
    );
    let want = r#"{
  "workloads": [
    "a/api",
    "a/web"
  ],
  "connections": [
    {
      "from": "a/web",
      "to": "a/api",
      "protocol": "TCP",
      "ports": [
        [
          9000,
          9000
        ]
      ]
    }
  ],
  "external": [
    {
      "workload": "a/api",
      "direction": "egress",
      "cidrs": [
        "192.168.0.0/24"
      ],
      "protocol": "TCP",
      "ports": [
        [
          443,
          443
        ]
      ]
    }
  ]
}
"#;
    assert_eq!(out, want);
}

/// The keys of the first pretty-printed JSON object whose first key is `first`, in order.
fn object_keys(text: &str, first: &str) -> Vec<String> {
    let opening = format!("\"{first}\":");
    let mut lines = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(&opening));
    let Some(head) = lines.next() else {
        return Vec::new();
    };
    let indent = head.len() - head.trim_start().len();
    let mut keys = vec![first.to_string()];
    for line in lines {
        let depth = line.len() - line.trim_start().len();
        if depth < indent {
            break;
        }
        if depth == indent
            && let Some(rest) = line.trim_start().strip_prefix('"')
        {
            keys.push(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    keys
}

#[test]
fn findings_json_keeps_the_documented_key_order() {
    let out = bin()
        .args([
            "-w",
            "tests/verify/shop/k8s-advisor.toml",
            "verify",
            "--format",
            "json",
            "tests/verify/shop/manifests",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        object_keys(&text, "findings"),
        ["findings", "errors", "warnings"]
    );
    assert_eq!(
        object_keys(&text, "code"),
        [
            "code",
            "severity",
            "namespace",
            "workloads",
            "ports",
            "cidrs",
            "policies",
            "message",
            "file",
            "line"
        ]
    );
    assert_eq!(
        object_keys(&text, "policy"),
        ["policy", "direction", "rule", "file", "line"]
    );
}

/// The 1-based line of `text` that contains `marker`.
fn line_with(text: &str, marker: &str) -> usize {
    text.lines().position(|l| l.contains(marker)).unwrap() + 1
}

/// A hand-written policy with several rules: each finding points at the rule responsible
/// (its `- from:`/`- to:`/`- ports:` entry), in text, JSON and SARIF, for a policy in its own
/// document and for one inside a `kind: List`.
#[test]
fn findings_point_at_the_rule_responsible() {
    let workspace = r#"version = 1

[project]
name = "rules"
platform = "generic"

[[services]]
name = "web"
namespace = "a"
ports = [{ name = "http", port = 80, target = 9000 }]
calls = ["api", "db"]

[[services]]
name = "api"
namespace = "a"
ports = [{ name = "http", port = 80, target = 9000 }]

[[services]]
name = "db"
namespace = "a"
ports = [{ name = "pg", port = 5432 }]
"#;
    let manifests = "\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 9000}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: a, labels: {app: api}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 9000}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: a, labels: {app: db}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: a}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress, Egress]
  ingress:
    - from:                                   # api ingress 1
        - podSelector: {matchLabels: {app: web}}
      ports: [{port: 9000}]
    # The mistake: db may call api.
    - ports:                                  # api ingress 2
        - port: 9000
      from:
        - podSelector: {matchLabels: {app: db}}
---
apiVersion: v1
kind: List
items:
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: web, namespace: a}
    spec:
      podSelector: {matchLabels: {app: web}}
      policyTypes: [Ingress, Egress]
      egress:
        - to: [{podSelector: {matchLabels: {app: api}}}]
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: db, namespace: a}
    spec:
      podSelector: {matchLabels: {app: db}}
      policyTypes: [Ingress, Egress]
      egress:
      - to:                                   # db egress 1
        - ipBlock: {cidr: 192.168.0.0/16}
      - to:                                   # db egress 2
        - podSelector: {matchLabels: {app: api}}
";
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("k8s-advisor.toml");
    std::fs::write(&ws, workspace).unwrap();
    let file = dir.path().join("m.yaml");
    std::fs::write(&file, manifests).unwrap();
    let run = |format: &str| {
        let out = bin()
            .arg("-w")
            .arg(&ws)
            .args(["verify", "--format", format])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let api_2 = line_with(manifests, "# api ingress 2");
    let db_1 = line_with(manifests, "# db egress 1");
    let db_2 = line_with(manifests, "# db egress 2");
    let db_policy = line_with(manifests, "metadata: {name: db, namespace: a}") - 2;
    let web_policy = line_with(manifests, "metadata: {name: web, namespace: a}") - 2;

    let report: Value = serde_json::from_str(&run("json")).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let find = |code: &str, workloads: &[&str]| {
        findings
            .iter()
            .find(|f| f["code"] == code && f["workloads"] == serde_json::json!(workloads))
            .unwrap_or_else(|| panic!("no {code} {workloads:?} in {findings:#?}"))
    };
    let flow = find("undeclared-flow", &["a/db", "a/api"]);
    let rules: Vec<(String, String, u64, u64)> = flow["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["policy"].as_str().unwrap().to_string(),
                p["direction"].as_str().unwrap().to_string(),
                p["rule"].as_u64().unwrap(),
                p["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rules,
        [
            ("a/api".into(), "ingress".into(), 2, api_2 as u64),
            ("a/db".into(), "egress".into(), 2, db_2 as u64),
        ]
    );
    assert_eq!(flow["line"], api_2);
    let outside = find("undeclared-flow", &["a/db"]);
    assert_eq!(outside["policies"][0]["rule"], 1);
    assert_eq!(outside["line"], db_1);

    let text = run("text");
    let at = |line: usize| format!("m.yaml:{line}");
    assert!(
        text.contains(&format!("policy a/api ingress rule 2 ({}", file.display()))
            && text.contains(&format!("{})\n", at(api_2))),
        "{text}"
    );
    assert!(
        text.contains(&format!("policy a/db egress rule 1 ({}", file.display()))
            && text.contains(&format!("{})\n", at(db_1))),
        "{text}"
    );

    let sarif: Value = serde_json::from_str(&run("sarif")).unwrap();
    let lines: BTreeSet<(String, u64)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["message"]["text"].as_str().unwrap().to_string(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
            )
        })
        .collect();
    assert!(
        lines
            .iter()
            .any(|(m, l)| m.starts_with("a/db -> a/api") && *l == api_2 as u64),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(m, l)| m.starts_with("a/db may send") && *l == db_1 as u64),
        "{lines:?}"
    );
    // A policy whose rules do not admit is located at its first rule of that direction, or
    // where its List entry starts when it has none.
    let web_rules = line_with(
        manifests,
        "- to: [{podSelector: {matchLabels: {app: api}}}]",
    );
    let blocked = find("blocked-call", &["a/web", "a/db"]);
    let whole: Vec<(&str, u64)> = blocked["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["policy"].as_str().unwrap(), p["line"].as_u64().unwrap()))
        .collect();
    assert!(whole.contains(&("a/db", db_policy as u64)), "{whole:?}");
    assert!(whole.contains(&("a/web", web_rules as u64)), "{whole:?}");
    assert!(web_policy < web_rules);
}

/// Runs a `verify --format json` that must find errors (exit 1); its report.
fn failing_report(cmd: &mut assert_cmd::Command) -> Value {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// Runs `verify --connectivity` on `path`, asserts exit 2 and returns standard error.
fn refused(path: &std::path::Path) -> String {
    let out = bin()
        .args(["verify", "--connectivity"])
        .arg(path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    stderr
}

/// Files are parsed on several threads and merged as they finish: the error reported is still
/// the first in input order, and a policy defined again in a later file is shown there.
#[test]
fn errors_come_in_input_order_whatever_the_timing() {
    let dir = tempfile::tempdir().unwrap();
    let policy = |name: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  podSelector: {{}}\n"
        )
    };
    for i in 0..60 {
        let text = match i {
            // Two broken files; the later one is small, so it is usually parsed first.
            17 => format!("{}{}", policy("p17"), "spec: [unclosed\n".repeat(2_000)),
            41 => "kind: [\n".to_string(),
            _ => policy(&format!("p{i}")),
        };
        std::fs::write(dir.path().join(format!("f{i:02}.yaml")), text).unwrap();
    }
    for _ in 0..5 {
        let stderr = refused(dir.path());
        assert!(
            stderr.contains("f17.yaml") && !stderr.contains("f41.yaml"),
            "{stderr}"
        );
    }
    std::fs::write(dir.path().join("f17.yaml"), policy("p17")).unwrap();
    std::fs::write(dir.path().join("f41.yaml"), policy("p3")).unwrap();
    let stderr = refused(dir.path());
    assert!(
        stderr.contains("NetworkPolicy shop/p3 is defined twice (first in")
            && stderr.contains("f03.yaml")
            && stderr.contains("f41.yaml:1:1"),
        "{stderr}"
    );
}

/// Online Boutique's own manifests and NetworkPolicies (Google's microservices demo, Apache-2.0;
/// see `tests/verify/online-boutique/README.md`), built by `kubectl kustomize` into one
/// namespace as a team would deploy them: our connectivity equals nca's on policies nobody
/// here wrote, and compared with the workspace `import` drafts from the same manifests,
/// `verify` finds exactly what upstream's policies leave open (every egress, and any pod to
/// the frontend), and no call they block.
#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn online_boutique_policies_agree_with_nca_and_show_what_they_leave_open() {
    let fixture = root().join("tests/verify/online-boutique");
    let built = Command::new(crate::support::tool("kubectl"))
        .arg("kustomize")
        .arg(&fixture)
        .output()
        .expect("kubectl runs");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let built = String::from_utf8(built.stdout).expect("utf-8");
    let connectivity = success(
        bin()
            .args(["verify", "--connectivity", "--format", "json", "-"])
            .write_stdin(built.clone()),
    );
    let ours = parse_ours(&connectivity);
    let names: BTreeSet<String> = read_text("built.yaml", &built)
        .expect("reads")
        .workloads
        .iter()
        .map(|w| w.id())
        .collect();
    assert_eq!(names.len(), 12, "{names:?}");
    let probe = world::yaml(&[world::ipv6_probe("online-boutique")]);
    let nca = nca::run("seed-0", &format!("{built}---\n{probe}"), &names).expect("nca judges it");
    let d = diff(&ours, &nca);
    assert!(d.is_empty(), "verify and nca disagree:\n{d}");
    // Every pod may reach the frontend, and only the declared callers reach the others.
    assert_eq!(
        ours.pods
            .keys()
            .filter(|(_, to, _)| to != "online-boutique/frontend")
            .count(),
        15,
        "{connectivity}"
    );

    let dir = tempfile::tempdir().unwrap();
    success(
        bin()
            .current_dir(dir.path())
            .arg("import")
            .arg(fixture.join("kubernetes-manifests")),
    );
    let report = failing_report(
        bin()
            .current_dir(dir.path())
            .args(["verify", "--format", "json", "-"])
            .write_stdin(built),
    );
    let messages: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}: {}",
                f["code"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    insta::assert_snapshot!(messages.join("\n"));
}

/// What `kubectl get` prints: pods and ReplicaSets carry their controller. A workload is left
/// out when its controller is read too; pods alone stand for their controller, one workload
/// for the pods that are alike, so the report names the ReplicaSet as netpol-analyzer does; a
/// pod that differs (the canary here) stays a workload of its own, so a policy that selects
/// one replica is judged for that replica.
#[test]
fn owned_objects_count_unless_their_controller_is_read() {
    let pod = |name: &str, owner_kind: &str, owner: &str, extra: &str| {
        format!(
            "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: {name}\n    namespace: shop\n    labels: {{app: web{extra}}}\n    ownerReferences: [{{apiVersion: apps/v1, kind: {owner_kind}, name: {owner}, uid: u, controller: true}}]\n  spec: {{containers: [{{name: c, image: i, ports: [{{containerPort: 8080}}]}}]}}\n"
        )
    };
    let replica_set = "- apiVersion: apps/v1\n  kind: ReplicaSet\n  metadata:\n    name: web-7d9c\n    namespace: shop\n    ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u, controller: true}]\n  spec:\n    selector: {matchLabels: {app: web}}\n    template:\n      metadata: {labels: {app: web}}\n      spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}\n";
    let deployment = "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: web, namespace: shop}\n  spec:\n    selector: {matchLabels: {app: web}}\n    template:\n      metadata: {labels: {app: web}}\n      spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}\n";
    // Only the canary replica may be reached, from anywhere.
    let policy = "- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata: {name: canary, namespace: shop}\n  spec:\n    podSelector: {matchLabels: {app: web}}\n    ingress: [{from: [{podSelector: {matchLabels: {track: canary}}}]}]\n";
    let pods = format!(
        "{}{}",
        pod("web-7d9c-a", "ReplicaSet", "web-7d9c", ""),
        pod("web-7d9c-b", "ReplicaSet", "web-7d9c", ", track: canary")
    );
    let workloads = |items: &str| -> Vec<String> {
        let json = success(
            bin()
                .args(["verify", "--connectivity", "--format", "json", "-"])
                .write_stdin(format!("apiVersion: v1\nkind: List\nitems:\n{items}")),
        );
        let value: Value = serde_json::from_str(&json).unwrap();
        value["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        workloads(&pods),
        ["shop/web-7d9c", "shop/web-7d9c-b"],
        "pods without their ReplicaSet"
    );
    assert_eq!(
        workloads(&format!("{replica_set}{pods}")),
        ["shop/web-7d9c"],
        "pods and their ReplicaSet, without its Deployment"
    );
    assert_eq!(
        workloads(&format!("{deployment}{replica_set}{pods}")),
        ["shop/web"],
        "the whole chain"
    );
    assert_eq!(
        workloads(&pod("web-x1", "Rollout", "web", "")),
        ["shop/web"],
        "a pod of a controller kind verify reads, without it"
    );
    assert_eq!(
        workloads(&pod("web-x1", "Widget", "web", "")),
        ["shop/web-x1"],
        "a pod of a controller kind verify does not know"
    );
    let json = success(
        bin()
            .args(["verify", "--connectivity", "--format", "json", "-"])
            .write_stdin(format!(
                "apiVersion: v1\nkind: List\nitems:\n{pods}{policy}"
            )),
    );
    // One entry per protocol, all between the same two pods.
    let connections: BTreeSet<(String, String)> =
        serde_json::from_str::<Value>(&json).unwrap()["connections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["from"].as_str().unwrap().to_string(),
                    c["to"].as_str().unwrap().to_string(),
                )
            })
            .collect();
    assert_eq!(
        connections,
        BTreeSet::from([("shop/web-7d9c-b".to_string(), "shop/web-7d9c".to_string())]),
        "{json}"
    );
}

/// Policies of other APIs change what may connect, and `verify` does not evaluate them: each is
/// a warning where it is written, and the connectivity says so too (on standard error for the
/// JSON contract, which has no place for it). Networking's own v1 NetworkPolicy is evaluated.
#[test]
fn policies_of_other_apis_are_reported_as_not_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let extra = dir.path().join("extra.yaml");
    std::fs::write(
        &extra,
        "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata:\n  name: \"allow-\\e[31mall\"\nspec: {endpointSelector: {}, ingress: [{fromEntities: [all]}]}\n---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: l7, namespace: orders}\nspec: {endpointSelector: {}}\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-all, namespace: orders}\nspec: {}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: extra, namespace: orders}\nspec: {podSelector: {matchLabels: {app: nothing}}}\n",
    )
    .unwrap();
    let report = failing_report(
        bin()
            .args([
                "-w",
                "tests/verify/shop/k8s-advisor.toml",
                "verify",
                "--format",
                "json",
            ])
            .arg("tests/verify/shop/manifests")
            .arg(&extra),
    );
    let unevaluated: Vec<(String, String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "unevaluated-policy")
        .map(|f| {
            assert_eq!(f["severity"], "warning");
            let message = f["message"].as_str().unwrap();
            (
                f["namespace"].as_str().unwrap().to_string(),
                message[..message.find(" is ").unwrap()].to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        unevaluated,
        [
            (
                String::new(),
                "cilium.io/v2/CiliumClusterwideNetworkPolicy allow-\u{1b}[31mall".to_string(),
                1
            ),
            (
                "orders".to_string(),
                "cilium.io/v2/CiliumNetworkPolicy orders/l7".to_string(),
                7
            ),
            (
                "orders".to_string(),
                "security.istio.io/v1/AuthorizationPolicy orders/deny-all".to_string(),
                12
            ),
        ]
    );
    // Text: the cluster-wide object under its own heading, the escape shown, not sent.
    let out = bin()
        .args(["-w", "tests/verify/shop/k8s-advisor.toml", "verify"])
        .arg("tests/verify/shop/manifests")
        .arg(&extra)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\n\ncluster-wide\n  warning [unevaluated-policy] cilium.io/v2/CiliumClusterwideNetworkPolicy allow-\\u{1b}[31mall is a Cilium policy or address group: not evaluated"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");
    // Connectivity: listed in text; on standard error beside the JSON.
    let text = success(
        bin()
            .args(["verify", "--connectivity"])
            .arg("tests/verify/shop/manifests")
            .arg(&extra),
    );
    assert!(
        text.contains("Not read (each may allow or deny more than shown above, or run pods not shown):\n  cilium.io/v2/CiliumClusterwideNetworkPolicy allow-\\u{1b}[31mall ("),
        "{text}"
    );
    let out = bin()
        .args(["verify", "--connectivity", "--format", "json"])
        .arg("tests/verify/shop/manifests")
        .arg(&extra)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("warning: not read;")
            && stderr.contains("orders/deny-all")
            && !stderr.contains('\u{1b}'),
        "{stderr}"
    );
    serde_json::from_slice::<Value>(&out.stdout).expect("the JSON contract is unchanged");
}

/// Names are shown, never obeyed: a line separator or a direction override in a name read
/// from a manifest is escaped in text output like an escape sequence is. A workload named so
/// is refused, as the API server refuses it; a skipped object's name is only shown.
#[test]
fn line_separators_and_direction_overrides_in_names_are_escaped() {
    let out = bin()
        .args(["verify", "--connectivity", "-"])
        .write_stdin("apiVersion: v1\nkind: Pod\nmetadata: {name: \"a\\u2028b\", namespace: \"n\\u202es\"}\nspec: {containers: [{name: c, image: i}]}\n")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("\"a\\u{2028}b\" is refused by the API server")
            && !stderr.contains(['\u{2028}', '\u{2029}', '\u{202e}']),
        "{stderr}"
    );
    let text = success(
        bin()
            .args(["verify", "--connectivity", "-"])
            .write_stdin("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n}\nspec: {containers: [{name: c, image: i}]}\n---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: \"x\\u2029y\", namespace: \"n\\u202es\"}\n"),
    );
    assert!(
        !text.contains(['\u{2028}', '\u{2029}', '\u{202e}']),
        "{text:?}"
    );
    assert!(
        text.contains("n/a -> 0.0.0.0/0")
            && text.contains("CiliumNetworkPolicy n\\u{202e}s/x\\u{2029}y ("),
        "{text}"
    );
}

/// The explanations come from `Analysis::decide`, a second path beside the group-level
/// connectivity. On the random worlds, for every pair of workloads and both directions: the
/// ports it allows meet in exactly the connectivity, and the rules it names as admitting are
/// exactly the NetworkPolicy rules that select the subject, match the other end and allow some
/// port, found here by reading the policies one by one as the API documents them.
#[test]
fn explanations_name_exactly_the_rules_that_admit() {
    use k8s_advisor::verify::engine::{Direction, RuleRef};
    use k8s_advisor::verify::manifest::{Manifests, Peer, PortRule};
    use k8s_advisor::verify::sets::PortSet;

    fn admitting(m: &Manifests, from: usize, to: usize, d: Direction) -> Vec<(RuleRef, PortSet)> {
        let (subject, other) = match d {
            Direction::Ingress => (&m.workloads[to], &m.workloads[from]),
            Direction::Egress => (&m.workloads[from], &m.workloads[to]),
        };
        let mut out = Vec::new();
        for (p, policy) in m.policies.iter().enumerate() {
            let section = match d {
                Direction::Ingress => &policy.ingress,
                Direction::Egress => &policy.egress,
            };
            let Some(rules) = section else { continue };
            if subject.host_network
                || policy.namespace != subject.namespace
                || !policy.selector.matches(&subject.labels)
            {
                continue;
            }
            for (r, rule) in rules.iter().enumerate() {
                let peer_ok = rule.peers.as_ref().is_none_or(|peers| {
                    peers.iter().any(|peer| match peer {
                        Peer::Block { .. } => false,
                        Peer::Pods { namespaces, pods } => {
                            let ns_ok = match namespaces {
                                None => other.namespace == policy.namespace,
                                Some(sel) => sel.matches(&m.namespaces[&other.namespace]),
                            };
                            ns_ok && pods.as_ref().is_none_or(|s| s.matches(&other.labels))
                        }
                    })
                });
                if !peer_ok {
                    continue;
                }
                let mut ports = PortSet::none();
                match &rule.ports {
                    None => ports = PortSet::all(),
                    Some(list) => {
                        for port in list {
                            match port {
                                PortRule::All(proto) => ports.insert_all(*proto),
                                PortRule::Range(proto, lo, hi) => ports.insert(*proto, *lo, *hi),
                                PortRule::Named(proto, name) => {
                                    for c in &m.workloads[to].ports {
                                        if c.protocol == *proto && c.name.as_deref() == Some(name) {
                                            ports.insert(*proto, c.port, c.port);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                if !ports.is_empty() {
                    out.push((RuleRef::Network(p, d, r), ports));
                }
            }
        }
        out
    }

    let mut pairs = 0;
    for seed in 1..=100 {
        let docs = world::world(seed);
        let m = read_text("world.yaml", &world::for_us(seed, &docs)).unwrap();
        let a = Analysis::new(&m);
        let n = m.workloads.len();
        for from in 0..n {
            for to in (0..n).filter(|&t| t != from) {
                let egress = a.decide(from, to, Direction::Egress);
                let ingress = a.decide(from, to, Direction::Ingress);
                assert_eq!(
                    egress.allowed.intersection(&ingress.allowed),
                    a.allowed(from, to),
                    "seed {seed}: {from} -> {to}"
                );
                for (d, decision) in [(Direction::Egress, egress), (Direction::Ingress, ingress)] {
                    let named: Vec<(RuleRef, PortSet)> = decision
                        .rules
                        .iter()
                        .filter(|r| r.allowed)
                        .map(|r| (r.rule, r.ports.clone()))
                        .collect();
                    let expected = admitting(&m, from, to, d);
                    assert_eq!(named, expected, "seed {seed}: {from} -> {to} {d:?}");
                    let subject = if d == Direction::Ingress { to } else { from };
                    if a.isolated(subject, d) {
                        let mut union = PortSet::none();
                        for (_, p) in &expected {
                            union.union_with(p);
                        }
                        assert_eq!(decision.allowed, union, "seed {seed}: {from} -> {to} {d:?}");
                        assert!(decision.by_default.is_empty());
                    } else {
                        assert_eq!(decision.allowed, PortSet::all());
                        assert_eq!(decision.by_default, PortSet::all());
                    }
                    pairs += 1;
                }
            }
        }
    }
    assert!(pairs > 1000, "{pairs}");
}
