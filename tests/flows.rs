//! Observed flows: the real outputs of Hubble and Otterize under `tests/flows/` (source and
//! licence in its README), and Online Boutique's call graph written by hand (the CALLS table
//! below, as `tests/import/online-boutique/README.md` derives it) turned into flows in the
//! real Hubble format, with everything a real capture holds besides the calls: replies, the
//! kubelet's probes from the node, DNS lookups, the API server, ICMP, a drop and traffic to
//! outside addresses. `import --flows` must find exactly the calls, `verify --flows` exactly
//! the undeclared flows injected into them, and neither may be fooled by hostile input.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::generate::load_text;
use crate::import::edges;
use crate::support::{bin, copy_tree, root};

/// Online Boutique's calls with the callee's container port, from each service's gRPC clients
/// and the load generator's HTTP requests (`tests/import/online-boutique/README.md`).
const CALLS: [(&str, &str, u16); 16] = [
    ("cartservice", "redis-cart", 6379),
    ("checkoutservice", "cartservice", 7070),
    ("checkoutservice", "currencyservice", 7000),
    ("checkoutservice", "emailservice", 8080),
    ("checkoutservice", "paymentservice", 50051),
    ("checkoutservice", "productcatalogservice", 3550),
    ("checkoutservice", "shippingservice", 50051),
    ("frontend", "adservice", 9555),
    ("frontend", "cartservice", 7070),
    ("frontend", "checkoutservice", 5050),
    ("frontend", "currencyservice", 7000),
    ("frontend", "productcatalogservice", 3550),
    ("frontend", "recommendationservice", 8080),
    ("frontend", "shippingservice", 50051),
    ("loadgenerator", "frontend", 8080),
    ("recommendationservice", "productcatalogservice", 3550),
];

/// Undeclared traffic injected among the true calls: (source, destination, port).
const INJECTED: [(&str, &str, u16); 2] = [
    ("frontend", "paymentservice", 50051),
    ("checkoutservice", "redis-cart", 6379),
];

/// An outside address the payment service sends to (injected: not declared).
const WORLD: &str = "203.0.113.10";

/// A Hubble endpoint of an Online Boutique pod in `default`, as Cilium labels it.
fn pod(name: &str) -> Value {
    json!({
        "ID": 1000 + name.len(),
        "identity": 20000 + name.len(),
        "cluster_name": "default",
        "namespace": "default",
        "labels": [
            format!("k8s:app={name}"),
            "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default",
            "k8s:io.cilium.k8s.policy.cluster=default",
            format!("k8s:io.cilium.k8s.policy.serviceaccount={name}"),
            "k8s:io.kubernetes.pod.namespace=default"
        ],
        "pod_name": format!("{name}-7d9c8b6f5-x2x7q"),
        "workloads": [{"name": name, "kind": "Deployment"}]
    })
}

fn reserved(label: &str, identity: u32) -> Value {
    json!({"identity": identity, "labels": [format!("reserved:{label}")]})
}

/// One `hubble observe -o jsonpb` line.
fn line(src: Value, dst: Value, l4: Value, reply: bool, second: u32, extra: Value) -> String {
    let time = format!(
        "2026-11-30T10:{:02}:{:02}.123456789Z",
        second / 60,
        second % 60
    );
    let mut flow = json!({
        "time": time,
        "uuid": format!("00000000-0000-4000-8000-{second:012}"),
        "verdict": "FORWARDED",
        "IP": {"source": "10.244.1.15", "destination": "10.244.2.48", "ipVersion": "IPv4"},
        "l4": l4,
        "source": src,
        "destination": dst,
        "Type": "L3_L4",
        "node_name": "kind-worker",
        "event_type": {"type": 4},
        "traffic_direction": if reply { "INGRESS" } else { "EGRESS" },
        "trace_observation_point": "TO_ENDPOINT",
        "is_reply": reply,
        "Summary": "TCP Flags: SYN"
    });
    if let (Some(f), Some(e)) = (flow.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            f.insert(k.clone(), v.clone());
        }
    }
    json!({"flow": flow, "node_name": "kind-worker", "time": time}).to_string()
}

fn tcp(port: u16) -> Value {
    json!({"TCP": {"source_port": 40000 + port % 1000, "destination_port": port, "flags": {"SYN": true}}})
}

/// Flows of the calls `calls`, each with its reply, plus what a capture holds besides calls.
fn capture(calls: &[(&str, &str, u16)]) -> String {
    let mut lines = Vec::new();
    let mut t = 0;
    for (from, to, port) in calls {
        for _ in 0..3 {
            t += 1;
            lines.push(line(pod(from), pod(to), tcp(*port), false, t, json!({})));
            lines.push(line(
                pod(to),
                pod(from),
                json!({"TCP": {"source_port": port, "destination_port": 40000 + port % 1000}}),
                true,
                t,
                json!({}),
            ));
        }
    }
    let names: BTreeSet<&str> = CALLS.iter().flat_map(|(a, b, _)| [*a, *b]).collect();
    let coredns = json!({
        "identity": 102, "namespace": "kube-system",
        "labels": ["k8s:k8s-app=kube-dns", "k8s:io.kubernetes.pod.namespace=kube-system"],
        "pod_name": "coredns-5d78c9869d-8xk2l",
        "workloads": [{"name": "coredns", "kind": "Deployment"}]
    });
    for name in &names {
        t += 1;
        // The kubelet's probe, from the node.
        lines.push(line(
            reserved("host", 1),
            pod(name),
            tcp(8080),
            false,
            t,
            json!({}),
        ));
        // A DNS lookup, with and without Hubble's L7 record.
        lines.push(line(
            pod(name),
            coredns.clone(),
            json!({"UDP": {"source_port": 53000, "destination_port": 53}}),
            false,
            t,
            json!({}),
        ));
        lines.push(line(
            pod(name),
            coredns.clone(),
            json!({"UDP": {"source_port": 53001, "destination_port": 53}}),
            false,
            t,
            json!({"Type": "L7", "l7": {"type": "REQUEST", "dns": {"query": "cartservice.default.svc.cluster.local.", "qtypes": ["A"]}}}),
        ));
    }
    t += 1;
    lines.push(line(
        pod("frontend"),
        json!({"identity": 7, "labels": ["reserved:kube-apiserver", "reserved:world"]}),
        tcp(6443),
        false,
        t,
        json!({}),
    ));
    lines.push(line(
        pod("frontend"),
        pod("cartservice"),
        json!({"ICMPv4": {"type": 8}}),
        false,
        t,
        json!({}),
    ));
    lines.push(line(
        pod("adservice"),
        pod("emailservice"),
        tcp(8080),
        false,
        t,
        json!({"verdict": "DROPPED", "drop_reason_desc": "POLICY_DENIED"}),
    ));
    lines.join("\n") + "\n"
}

/// The capture with the injected undeclared flows, including the payment service's egress.
fn capture_with_injected() -> String {
    let mut text = capture(&[&CALLS[..], &INJECTED[..]].concat());
    let world = json!({"identity": 2, "labels": ["reserved:world"]});
    let mut flow = line(
        pod("paymentservice"),
        world,
        tcp(443),
        false,
        900,
        json!({}),
    );
    flow = flow.replace("10.244.2.48", WORLD);
    text.push_str(&flow);
    text.push('\n');
    text
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn true_edges() -> BTreeSet<String> {
    CALLS
        .iter()
        .map(|(a, b, _)| format!("{a} -> {b}"))
        .collect()
}

/// Runs `import` with `args` in `dir`; the drafted text.
fn import(dir: &Path, args: &[&str]) -> String {
    let out = dir.join("k8s-advisor.toml");
    let output = bin()
        .arg("import")
        .args(args)
        .arg("-o")
        .arg(&out)
        .arg("--force")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn import_flows_finds_exactly_the_true_calls() {
    let dir = tempfile::tempdir().unwrap();
    let flows = write(dir.path(), "flows.json", &capture(&CALLS));
    let text = import(dir.path(), &["--flows", flows.to_str().unwrap()]);
    let ws = load_text(&text);
    assert_eq!(edges(&ws), true_edges(), "{text}");
    // Every service the calls name, and nothing from the node, DNS or the API server.
    let names: BTreeSet<String> = ws.services.iter().map(|s| s.id.name.clone()).collect();
    assert_eq!(names.len(), 12, "{names:?}");
    // Callees get the ports they were seen on; callers' comments name the flows.
    let cart = ws
        .services
        .iter()
        .find(|s| s.id.name == "cartservice")
        .unwrap();
    assert_eq!(
        cart.ports.iter().map(|p| p.target).collect::<Vec<_>>(),
        [7070]
    );
    assert!(text.contains("flows.json:"), "{text}");
    assert!(
        text.contains("observed 3 times, 2026-11-30T10:00:"),
        "{text}"
    );
    // With the static import: the same calls, each saying the static import found it too. The
    // manifests' paths sort before the capture's, as they may on any machine: the observation
    // still leads each call's comment, which is cut at its length limit.
    let manifests = dir.path().join("a-long-folder-name-".repeat(4));
    copy_tree(
        &root().join("tests/import/online-boutique/kubernetes-manifests"),
        &manifests,
    );
    let text = import(
        dir.path(),
        &[
            manifests.to_str().unwrap(),
            "--flows",
            flows.to_str().unwrap(),
        ],
    );
    let ws = load_text(&text);
    assert_eq!(edges(&ws), true_edges(), "{text}");
    assert_eq!(
        text.matches("the static import found it too").count(),
        16,
        "{text}"
    );
    assert!(
        !text.contains("the static import did not find it"),
        "{text}"
    );
}

#[test]
fn import_flows_drafts_egress_blocks_as_guesses() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = capture(&CALLS);
    let world = json!({"identity": 2, "labels": ["reserved:world"]});
    for (i, ip) in [
        "198.51.100.4",
        "198.51.100.5",
        "198.51.100.6",
        "198.51.100.7",
    ]
    .iter()
    .enumerate()
    {
        let l = line(
            pod("paymentservice"),
            world.clone(),
            tcp(443),
            false,
            800 + i as u32,
            json!({}),
        )
        .replace("10.244.2.48", ip);
        text.push_str(&l);
        text.push('\n');
    }
    let flows = write(dir.path(), "flows.json", &text);
    let text = import(dir.path(), &["--flows", flows.to_str().unwrap()]);
    let ws = load_text(&text);
    let payment = ws
        .services
        .iter()
        .find(|s| s.id.name == "paymentservice")
        .unwrap();
    let egress: Vec<(String, Vec<u16>)> = payment
        .egress
        .iter()
        .map(|e| (e.cidr.to_string(), e.ports.clone()))
        .collect();
    assert_eq!(egress, [("198.51.100.4/30".to_string(), vec![443])]);
    assert!(text.contains("guess: observed"), "{text}");
}

#[test]
fn import_flows_adds_the_ports_calls_were_seen_on_to_static_callees() {
    let dir = tempfile::tempdir().unwrap();
    let compose = write(
        dir.path(),
        "compose.yaml",
        "services:\n  web:\n    image: nginx:1.27\n    ports: [\"8080:80\"]\n  api:\n    image: example/api:1.0\n  db:\n    image: postgres:16\n    expose: [\"5432\"]\n",
    );
    // The database's exporter port is known to nobody but the flows; the public web is
    // called on a port it does not publish.
    let flows = write(
        dir.path(),
        "flows.csv",
        "source,destination,port,protocol\napi,db,5432,TCP\napi,db,9187,TCP\napi,web,8081,TCP\n",
    );
    let text = import(
        dir.path(),
        &[
            compose.to_str().unwrap(),
            "--flows",
            flows.to_str().unwrap(),
        ],
    );
    assert!(
        text.contains("{ name = \"tcp-9187\", port = 9187, target = 9187 },  # ")
            && text.contains("flows.csv:3 observed 1 time\n"),
        "{text}"
    );
    // The drafted design lets the database calls through; the port of the public web is not
    // opened to the world for one internal call, and the import says so.
    assert!(
        text.contains("names port 8081 of") && !text.contains("port = 8081"),
        "{text}"
    );
    let (findings, _) = verify(dir.path(), &flows, &[]);
    let undeclared: Vec<&str> = findings
        .iter()
        .filter(|(c, _, _)| c == "observed-undeclared")
        .map(|(_, w, p)| if p.contains("8081") { w.as_str() } else { "?" })
        .collect();
    assert!(
        undeclared.len() == 1
            && undeclared[0].contains("/api -> ")
            && undeclared[0].ends_with("/web"),
        "{findings:?}"
    );
}

/// `verify --flows` on the workspace `import` drafts from the manifests; the findings as
/// (code, workloads, ports) and the exit code.
fn verify(dir: &Path, flows: &Path, extra: &[&str]) -> (Vec<(String, String, String)>, i32) {
    let output = bin()
        .arg("-w")
        .arg(dir.join("k8s-advisor.toml"))
        .args(["verify", "--format", "json"])
        .args(extra)
        .arg("--flows")
        .arg(flows)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr)));
    let mut findings: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
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
                f["ports"].to_string(),
            )
        })
        .collect();
    findings.sort();
    (findings, output.status.code().unwrap_or(-1))
}

fn boutique_workspace(dir: &Path) {
    let manifests = root().join("tests/import/online-boutique/kubernetes-manifests");
    import(dir, &[manifests.to_str().unwrap()]);
}

/// Runs `generate` on the workspace in `dir`, writing `dir/k8s`.
fn generate(dir: &Path) {
    let status = bin()
        .arg("-w")
        .arg(dir.join("k8s-advisor.toml"))
        .args(["generate", "--no-record", "-q"])
        .output()
        .unwrap()
        .status;
    assert!(status.success());
}

#[test]
fn verify_flows_reports_exactly_the_injected_flows() {
    let dir = tempfile::tempdir().unwrap();
    boutique_workspace(dir.path());
    let flows = write(dir.path(), "flows.json", &capture_with_injected());
    let (findings, code) = verify(dir.path(), &flows, &[]);
    let ns = "online-boutique";
    let tcp = |p: u16| format!(r#"[{{"ports":[[{p},{p}]],"protocol":"TCP"}}]"#);
    let want = vec![
        (
            "observed-undeclared".to_string(),
            format!("{ns}/checkoutservice -> {ns}/redis-cart"),
            tcp(6379),
        ),
        (
            "observed-undeclared".to_string(),
            format!("{ns}/frontend -> {ns}/paymentservice"),
            tcp(50051),
        ),
        (
            "observed-undeclared".to_string(),
            format!("{ns}/paymentservice -> {WORLD}"),
            tcp(443),
        ),
    ];
    assert_eq!(findings, want);
    assert_eq!(code, 1);
    // The true calls alone: nothing undeclared, nothing declared and unseen.
    let flows = write(dir.path(), "true.json", &capture(&CALLS));
    let (findings, code) = verify(dir.path(), &flows, &[]);
    assert_eq!(findings, []);
    assert_eq!(code, 0);
    // A call nobody made is reported as unseen, for information only.
    let flows = write(dir.path(), "some.json", &capture(&CALLS[1..]));
    let (findings, code) = verify(dir.path(), &flows, &[]);
    assert_eq!(
        findings,
        [(
            "declared-unobserved".to_string(),
            format!("{ns}/cartservice -> {ns}/redis-cart"),
            tcp(6379)
        )]
    );
    assert_eq!(code, 0);
}

#[test]
fn verify_flows_with_the_generated_policies_says_what_they_drop() {
    let dir = tempfile::tempdir().unwrap();
    boutique_workspace(dir.path());
    generate(dir.path());
    // The generated layout runs the pods in the project's namespace.
    let text = capture_with_injected().replace(
        r#""namespace":"default""#,
        r#""namespace":"online-boutique""#,
    );
    let flows = write(dir.path(), "flows.json", &text);
    let k8s = dir.path().join("k8s");
    let (findings, code) = verify(dir.path(), &flows, &[k8s.to_str().unwrap()]);
    let blocked: Vec<&str> = findings
        .iter()
        .filter(|(code, _, _)| code == "observed-blocked")
        .map(|(_, w, _)| w.as_str())
        .collect();
    let ns = "online-boutique";
    assert_eq!(
        blocked,
        [
            format!("{ns}/checkoutservice -> {ns}/redis-cart"),
            format!("{ns}/frontend -> {ns}/paymentservice"),
            format!("{ns}/paymentservice -> {WORLD}"),
        ]
    );
    // The layout itself verifies clean against the workspace: only the flows are findings.
    assert!(
        findings
            .iter()
            .all(|(c, _, _)| c == "observed-blocked" || c == "observed-undeclared"),
        "{findings:?}"
    );
    assert_eq!(code, 1);
}

#[test]
fn verify_flows_names_the_flows_the_manifests_cannot_judge() {
    let dir = tempfile::tempdir().unwrap();
    boutique_workspace(dir.path());
    generate(dir.path());
    // The cart service's workload is left out of the manifests: the calls to it cannot be
    // held against their policies, and that is said, not passed over.
    let ns = "online-boutique";
    std::fs::remove_file(dir.path().join(format!("k8s/{ns}/cartservice.yaml"))).unwrap();
    let text = capture(&CALLS).replace(
        r#""namespace":"default""#,
        r#""namespace":"online-boutique""#,
    );
    let flows = write(dir.path(), "flows.json", &text);
    let k8s = dir.path().join("k8s");
    let (findings, code) = verify(dir.path(), &flows, &[k8s.to_str().unwrap()]);
    let unjudged: Vec<&str> = findings
        .iter()
        .filter(|(c, _, _)| c == "unmapped-flow")
        .map(|(_, w, _)| w.as_str())
        .collect();
    assert_eq!(
        unjudged,
        [
            format!("{ns}/cartservice -> {ns}/redis-cart"),
            format!("{ns}/checkoutservice -> {ns}/cartservice"),
            format!("{ns}/frontend -> {ns}/cartservice"),
        ],
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|(c, w, _)| c == "missing-workload" && w == &format!("{ns}/cartservice")),
        "{findings:?}"
    );
    assert_eq!(code, 0, "warnings only: {findings:?}");
}

#[test]
fn verify_flows_holds_the_gateways_traffic_against_the_policies() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate::support::example("generic"),
        dir.path().join("k8s-advisor.toml"),
    )
    .unwrap();
    generate(dir.path());
    // The gateway's pods, as OpenShift runs them, beside the generated layout.
    write(
        &dir.path().join("k8s"),
        "gateway.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: openshift-ingress\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: tickets-gateway\n  namespace: openshift-ingress\nspec:\n  selector:\n    matchLabels:\n      gateway.networking.k8s.io/gateway-name: tickets\n  template:\n    metadata:\n      labels:\n        gateway.networking.k8s.io/gateway-name: tickets\n    spec:\n      containers:\n        - name: envoy\n          image: registry.example.com/envoy:1.31.0\n",
    );
    let gateway = json!({
        "identity": 30001,
        "namespace": "openshift-ingress",
        "labels": ["k8s:gateway.networking.k8s.io/gateway-name=tickets"],
        "pod_name": "tickets-gateway-5f7b9c-abcde",
        "workloads": [{"name": "tickets-gateway", "kind": "Deployment"}]
    });
    let helpdesk = |name: &str| {
        json!({
            "identity": 30002,
            "namespace": "helpdesk",
            "labels": [format!("k8s:app={name}")],
            "pod_name": format!("{name}-6d8f7c9b5-q2w3e"),
            "workloads": [{"name": name, "kind": "Deployment"}]
        })
    };
    // The route to the web is declared; the store is not routed through the gateway.
    let text = [
        line(
            gateway.clone(),
            helpdesk("web"),
            tcp(8080),
            false,
            1,
            json!({}),
        ),
        line(
            gateway,
            helpdesk("tickets-store"),
            tcp(8080),
            false,
            2,
            json!({}),
        ),
    ]
    .join("\n");
    let flows = write(dir.path(), "flows.json", &text);
    let k8s = dir.path().join("k8s");
    let (findings, code) = verify(dir.path(), &flows, &[k8s.to_str().unwrap()]);
    let tcp = r#"[{"ports":[[8080,8080]],"protocol":"TCP"}]"#.to_string();
    let flow_findings: Vec<&(String, String, String)> = findings
        .iter()
        .filter(|(c, _, _)| c.starts_with("observed-") || c == "unmapped-flow")
        .collect();
    assert_eq!(
        flow_findings,
        [
            &(
                "observed-blocked".to_string(),
                "gateway -> helpdesk/tickets-store".to_string(),
                tcp.clone()
            ),
            &(
                "observed-undeclared".to_string(),
                "gateway -> helpdesk/tickets-store".to_string(),
                tcp
            ),
        ],
        "{findings:?}"
    );
    assert_eq!(code, 1);
}

/// The tutorial workspace the Otterize fixtures describe: `client` declares its call, `client2`
/// does not.
const TUTORIAL: &str = r#"version = 1
[project]
name = "tutorial"
[[services]]
name = "client"
namespace = "otterize-tutorial-mapper"
calls = ["server"]
[[services]]
name = "client2"
namespace = "otterize-tutorial-mapper"
[[services]]
name = "server"
namespace = "otterize-tutorial-mapper"
port = 80
"#;

#[test]
fn real_otterize_exports_of_both_versions_are_read() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "k8s-advisor.toml", TUTORIAL);
    let tutorial = "otterize-tutorial-mapper";
    for file in [
        "simple-tutorial-intents.json",
        "simple-tutorial-intents-v1alpha2.json",
    ] {
        let flows = root().join("tests/flows/otterize").join(file);
        let (findings, code) = verify(dir.path(), &flows, &[]);
        assert_eq!(
            findings,
            [(
                "observed-undeclared".to_string(),
                format!("{tutorial}/client2 -> {tutorial}/server"),
                "[]".to_string()
            )],
            "{file}"
        );
        assert_eq!(code, 1);
    }
    // The kafka tutorial's clients are no services of this workspace: reported, not dropped.
    let flows = root().join("tests/flows/otterize/kafka-tutorial-intents.json");
    let (findings, _) = verify(dir.path(), &flows, &[]);
    assert_eq!(
        findings
            .iter()
            .filter(|(c, _, _)| c == "unmapped-flow")
            .count(),
        2,
        "{findings:?}"
    );
}

#[test]
fn real_hubble_samples_hold_no_call() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "k8s-advisor.toml", TUTORIAL);
    let output = bin()
        .arg("-w")
        .arg(dir.path().join("k8s-advisor.toml"))
        .args(["verify", "--flows"])
        .arg(root().join("tests/flows/hubble/cilium-samples.jsonl"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Flows: 4 records") && stdout.contains("0 calls"),
        "{stdout}"
    );
    assert!(stdout.contains("4 records the cluster dropped"), "{stdout}");
    assert!(!stdout.contains("observed-undeclared"), "{stdout}");
}

#[test]
fn replicas_without_a_workload_are_one_unmapped_flow() {
    // Older Hubble versions give no `workloads`: the replicas of one Deployment differ only
    // in their pod names, and their traffic is one flow, not one per replica.
    let replica = |pod: &str| {
        json!({
            "namespace": "otterize-tutorial-mapper",
            "labels": ["k8s:app=ghost"],
            "pod_name": pod,
        })
    };
    let text = [
        line(
            replica("ghost-7d9c8b6f5-x2x7q"),
            pod("server"),
            tcp(80),
            false,
            1,
            json!({}),
        ),
        line(
            replica("ghost-7d9c8b6f5-k4j2m"),
            pod("server"),
            tcp(80),
            false,
            2,
            json!({}),
        ),
    ]
    .join("\n")
    .replace(
        r#""namespace":"default""#,
        r#""namespace":"otterize-tutorial-mapper""#,
    );
    let (code, stdout, stderr) = verify_text(text.as_bytes(), &["--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let unmapped: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "unmapped-flow")
        .collect();
    assert_eq!(unmapped.len(), 1, "{stdout}");
    assert_eq!(
        unmapped[0]["workloads"],
        json!([
            "otterize-tutorial-mapper/ghost",
            "otterize-tutorial-mapper/server"
        ])
    );
    assert!(
        unmapped[0]["message"]
            .as_str()
            .unwrap()
            .contains("seen 2 times"),
        "{stdout}"
    );
}

/// The `kapinger` app of the AKS sample, with its two Deployments and no call declared.
const KAPINGER: &str = r#"version = 1
[project]
name = "kapinger"
[[services]]
name = "kapinger-good"
namespace = "kapinger"
port = 8080
[[services]]
name = "kapinger-bad"
namespace = "kapinger"
port = 8080
"#;

#[test]
fn real_hubble_flows_of_an_aks_cluster_give_their_one_call() {
    let sample = root().join("tests/flows/hubble/aks-kapinger.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let text = import(dir.path(), &["--flows", sample.to_str().unwrap()]);
    let ws = load_text(&text);
    // The replies of kapinger-good are no call of it.
    assert_eq!(
        edges(&ws),
        BTreeSet::from(["kapinger-bad -> kapinger-good".to_string()]),
        "{text}"
    );
    let good = ws
        .services
        .iter()
        .find(|s| s.id.name == "kapinger-good")
        .unwrap();
    assert_eq!(
        good.ports.iter().map(|p| p.target).collect::<Vec<_>>(),
        [8080]
    );
    write(dir.path(), "k8s-advisor.toml", KAPINGER);
    let (findings, code) = verify(dir.path(), &sample, &[]);
    assert_eq!(
        findings,
        [(
            "observed-undeclared".to_string(),
            "kapinger/kapinger-bad -> kapinger/kapinger-good".to_string(),
            r#"[{"ports":[[8080,8080]],"protocol":"TCP"}]"#.to_string()
        )]
    );
    assert_eq!(code, 1);
    let output = bin()
        .arg("-w")
        .arg(dir.path().join("k8s-advisor.toml"))
        .args(["verify", "--flows"])
        .arg(&sample)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Flows: 3 records") && stdout.contains("2 reply packets"),
        "{stdout}"
    );
}

/// Runs `verify --flows` on `text` as the flow file; exit code, stdout, stderr.
fn verify_text(text: &[u8], extra: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "k8s-advisor.toml", TUTORIAL);
    let flows = dir.path().join("flows.json");
    std::fs::write(&flows, text).unwrap();
    let output = bin()
        .arg("-w")
        .arg(dir.path().join("k8s-advisor.toml"))
        .args(["verify", "--flows"])
        .arg(&flows)
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn table_line(source: &str, destination: &str) -> String {
    format!("{source},{destination},80,TCP\n")
}

#[test]
fn bad_lines_name_file_and_line_or_are_counted() {
    let good = table_line(
        "otterize-tutorial-mapper/client",
        "otterize-tutorial-mapper/server",
    );
    let text = format!("source,destination,port,protocol\n{good}{good}a,b,99999,TCP\n{good}");
    let (code, _, stderr) = verify_text(text.as_bytes(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("flows.json:4"), "{stderr}");
    assert!(stderr.contains("outside 1..65535"), "{stderr}");
    let (code, stdout, _) = verify_text(text.as_bytes(), &["--skip-bad"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("1 bad line skipped"), "{stdout}");
    // A CSV header of 70,000 columns: named, not dumped.
    let wide = format!("source,destination,{}\n", vec!["x"; 70_000].join(","));
    let (code, _, stderr) = verify_text(wide.as_bytes(), &[]);
    assert_eq!(code, 2);
    assert!(stderr.len() < 2_000, "{stderr}");
    // A misspelt column is an error, not a silent empty table.
    let (code, _, stderr) = verify_text(b"source,destinaton,port\na,b,1\n", &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("\"destinaton\""), "{stderr}");
    // A file with no record at all says so.
    let (code, _, stderr) = verify_text(b"source,destination,port\n", &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("holds no flow record"), "{stderr}");
}

/// A file of several megabytes is read in chunks on several threads: the bad line reported is
/// still the first in the file, a line of 3 MiB is skipped as one bad line, the lines after it
/// keep their numbers, and every record is counted once.
#[test]
fn a_long_file_reads_as_if_line_by_line() {
    let ns = |line: String| {
        line.replace(
            r#""namespace":"default""#,
            r#""namespace":"otterize-tutorial-mapper""#,
        )
    };
    let call = ns(line(
        pod("client"),
        pod("server"),
        tcp(80),
        false,
        1,
        json!({}),
    ));
    let undeclared = ns(line(
        pod("client2"),
        pod("server"),
        tcp(80),
        false,
        2,
        json!({}),
    ));
    let lines: Vec<String> = (1..=3000)
        .map(|n| match n {
            1000 => "z".repeat(3 << 20),
            1500 => "{\"flow\": 1500}".to_string(),
            2900 => undeclared.clone(),
            _ => call.clone(),
        })
        .collect();
    let text = lines.join("\n") + "\n";
    let (code, _, stderr) = verify_text(text.as_bytes(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("flows.json:1000:") && stderr.contains("longer than 1 MiB"),
        "{stderr}"
    );
    let (code, stdout, stderr) = verify_text(text.as_bytes(), &["--skip-bad", "--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("Flows: 2998 records") && stderr.contains("2 calls between"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 bad lines skipped (the first: ")
            && stderr.contains("flows.json:1000: the line is longer than 1 MiB"),
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let finding = &report["findings"][0];
    assert_eq!(finding["code"], "observed-undeclared", "{stdout}");
    assert_eq!(finding["line"], 2900, "{stdout}");
}

#[test]
fn hostile_input_is_refused_or_escaped() {
    // A 70,000-column line in a Hubble file: a bad line, never a crash or a dump of the line.
    let mut text = line(pod("client"), pod("server"), tcp(80), false, 1, json!({}));
    text.push('\n');
    text.push_str(&"x".repeat(70_000));
    text.push('\n');
    let (code, _, stderr) = verify_text(text.as_bytes(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("flows.json:2") && stderr.len() < 2_000,
        "{stderr}"
    );
    // A line longer than the limit is a bad line too.
    let mut long = line(pod("client"), pod("server"), tcp(80), false, 1, json!({}));
    long.push_str(&format!("\n{}\n", "y".repeat((1 << 20) + 10)));
    let (code, _, stderr) = verify_text(long.as_bytes(), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("longer than 1 MiB"), "{stderr}");
    // Escape sequences and line separators in names are escaped in the report.
    let nasty = json!({
        "namespace": "otterize-tutorial-mapper",
        "labels": ["k8s:app=evil\u{1b}[31m\u{2028}x"],
        "pod_name": "evil\u{1b}[31m\u{2028}x",
    });
    let text = line(nasty, pod("server"), tcp(80), false, 1, json!({}));
    let (code, stdout, _) = verify_text(text.as_bytes(), &[]);
    assert_eq!(code, 0, "an unmapped end is a warning: {stdout}");
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{2028}'),
        "{stdout:?}"
    );
    assert!(stdout.contains("\\u{1b}"), "{stdout}");
    // Not UTF-8: a bad line.
    let (code, _, stderr) = verify_text(b"{\"flow\": \xff}\n", &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not UTF-8"), "{stderr}");
}

#[test]
fn special_files_are_refused_before_they_are_opened() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "k8s-advisor.toml", TUTORIAL);
    let fifo = dir.path().join("flows.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let refused = |args: &[&std::ffi::OsStr]| {
        let output = bin()
            .arg("-w")
            .arg(dir.path().join("k8s-advisor.toml"))
            .arg("verify")
            .args(args)
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let stderr = refused(&["--flows".as_ref(), fifo.as_os_str()]);
    assert!(stderr.contains("not a regular file"), "{stderr}");
    // A folder after --flows is most often a manifest folder put after it: say where it goes.
    let stderr = refused(&["--flows".as_ref(), fifo.as_os_str(), dir.path().as_os_str()]);
    assert!(stderr.contains("not a regular file"), "{stderr}");
    let table = write(
        dir.path(),
        "flows.csv",
        &format!(
            "source,destination,port,protocol\n{}",
            table_line(
                "otterize-tutorial-mapper/client",
                "otterize-tutorial-mapper/server"
            )
        ),
    );
    let stderr = refused(&[
        "--flows".as_ref(),
        table.as_os_str(),
        dir.path().as_os_str(),
    ]);
    assert!(
        stderr.contains("is a folder, not a flow file")
            && stderr.contains("give manifest paths before it"),
        "{stderr}"
    );
    // Manifests without any workload are refused as `verify` refuses them, flows or not.
    let config = write(
        dir.path(),
        "config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
    );
    let stderr = refused(&[config.as_os_str(), "--flows".as_ref(), table.as_os_str()]);
    assert!(
        stderr.contains("no workload in the manifests (1 v1/ConfigMap)"),
        "{stderr}"
    );
    // A symbolic link named on the command line is the user's choice: read through.
    let target = write(
        dir.path(),
        "table.csv",
        &format!(
            "source,destination,port,protocol\n{}",
            table_line(
                "otterize-tutorial-mapper/client",
                "otterize-tutorial-mapper/server"
            )
        ),
    );
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let output = bin()
        .arg("-w")
        .arg(dir.path().join("k8s-advisor.toml"))
        .args(["verify", "--flows"])
        .arg(&link)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
}
