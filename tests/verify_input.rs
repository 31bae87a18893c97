//! `verify` never says "clean" about what it did not read or understand: every field read as
//! the API server defaults it, every object the API server refuses refused, every document
//! either read or named in a warning, and no empty pass.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{bin, success};

/// The connectivity JSON of manifests given on standard input (exit 0 expected).
fn connectivity(text: &str) -> Value {
    let out = success(
        bin()
            .args(["verify", "--connectivity", "--format", "json", "-"])
            .write_stdin(text.to_string()),
    );
    serde_json::from_str(&out).expect("JSON")
}

/// The (from, to) pairs that may connect on some port.
fn pairs(json: &Value) -> BTreeSet<(String, String)> {
    json["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["from"].as_str().unwrap().to_string(),
                c["to"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Standard error of a run on standard input that must be refused with exit 2.
fn refused(args: &[&str], text: &str) -> String {
    let out = bin()
        .args(args)
        .write_stdin(text.to_string())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{text}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// Two pods in namespace `x`, `a` and `b`, both listening on TCP 80.
const PODS: &str = "apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: a}}
spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {app: b}}
spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
";

fn with_policy(spec: &str) -> String {
    format!(
        "{PODS}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: x}}\nspec:\n{spec}"
    )
}

fn a_to_b(spec: &str) -> bool {
    pairs(&connectivity(&with_policy(spec))).contains(&("x/a".to_string(), "x/b".to_string()))
}

/// Each absent, `null` and empty form of every field of a NetworkPolicy means what the API
/// server makes of it after defaulting.
#[test]
fn absent_null_and_empty_forms_are_defaulted_as_the_api_server_does() {
    let b = "  podSelector: {matchLabels: {app: b}}\n";
    // policyTypes absent, null or empty: Ingress; with no rules, nothing may come in.
    for types in [
        "",
        "  policyTypes: null\n",
        "  policyTypes: []\n",
        "  policyTypes: [Ingress]\n",
    ] {
        assert!(!a_to_b(&format!("{b}{types}")), "{types:?} must isolate b");
        assert!(
            !a_to_b(&format!("{b}{types}  ingress: []\n")),
            "{types:?} ingress: [] must isolate b"
        );
        assert!(
            !a_to_b(&format!("{b}{types}  ingress: null\n")),
            "{types:?} ingress: null must isolate b"
        );
    }
    // An empty egress list adds no Egress type: a's egress stays open.
    assert!(a_to_b(
        "  podSelector: {matchLabels: {app: a}}\n  egress: []\n"
    ));
    assert!(!a_to_b(
        "  podSelector: {matchLabels: {app: a}}\n  policyTypes: [Egress]\n  egress: []\n"
    ));
    // A rule with peers or ports absent, null or empty matches everything; a null rule is an
    // empty one.
    for rule in [
        "  ingress: [{}]\n",
        "  ingress: [null]\n",
        "  ingress: [{from: null}]\n",
        "  ingress: [{from: []}]\n",
        "  ingress: [{ports: null}]\n",
        "  ingress: [{ports: []}]\n",
        "  ingress: [{from: [], ports: []}]\n",
        "  ingress: [{ports: [null]}]\n",
        "  ingress: [{ports: [{}]}]\n",
        "  ingress: [{ports: [{protocol: null, port: null}]}]\n",
        "  ingress: [{from: [{podSelector: null, namespaceSelector: {}}]}]\n",
        "  ingress: [{from: [{podSelector: {}}]}]\n",
        "  ingress: [{from: [{podSelector: {matchLabels: null, matchExpressions: null}}]}]\n",
        "  ingress: [{from: [{podSelector: {matchLabels: {}, matchExpressions: []}}]}]\n",
        "  ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0, except: null}}, {podSelector: {}}]}]\n",
    ] {
        assert!(a_to_b(&format!("{b}{rule}")), "{rule:?} must admit a");
    }
    // podSelector absent, null or empty selects every pod of the namespace.
    for selector in ["", "  podSelector: null\n", "  podSelector: {}\n"] {
        assert!(
            !a_to_b(&format!("{selector}  policyTypes: [Ingress]\n")),
            "{selector:?}"
        );
    }
    // A port without a protocol is TCP only.
    let protocols = |spec: &str| -> BTreeSet<String> {
        connectivity(&with_policy(spec))["connections"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["from"] == "x/a" && c["to"] == "x/b")
            .map(|c| c["protocol"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        protocols(&format!("{b}  ingress: [{{ports: [{{}}]}}]\n")),
        BTreeSet::from(["TCP".to_string()])
    );
    assert_eq!(
        protocols(&format!("{b}  ingress: [{{ports: [{{protocol: UDP}}]}}]\n")),
        BTreeSet::from(["UDP".to_string()])
    );
    // A namespaceSelector with a podSelector of null is every pod in those namespaces; a
    // namespaceSelector absent is the policy's own namespace.
    assert!(a_to_b(&format!(
        "{b}  ingress: [{{from: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: x}}}}, podSelector: null}}]}}]\n"
    )));
    assert!(!a_to_b(&format!(
        "{b}  ingress: [{{from: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: y}}}}}}]}}]\n"
    )));
}

/// Objects the API server refuses are refused, with the file, the document and a hint.
#[test]
fn objects_the_api_server_refuses_are_refused() {
    let b = "  podSelector: {matchLabels: {app: b}}\n";
    let cases: Vec<(String, &str)> = vec![
        (with_policy(&format!("{b}  ingress: [{{ports: [{{port: \"80\"}}]}}]\n")), "a port number is written without quotes"),
        (with_policy("  podSelctor: {}\n"), "unknown field `podSelctor`"),
        (with_policy("  podSelector: {}\n  podSelector: {matchLabels: {app: b}}\n"), "duplicate field `podSelector`"),
        (with_policy("  podSelector: {matchLabels: {app: a, app: b}}\n"), "the key \"app\" is given twice"),
        (with_policy("  podSelector:\n    matchLabels:\n      app: a\n      app: b\n"), "the key \"app\" is given twice"),
        (with_policy(&format!("  podSelector: {{matchLabels: {{{}: x}}}}\n", "k".repeat(64))), "the label key"),
        (with_policy("  podSelector: {matchLabels: {\"a b\": x}}\n"), "the label key \"a b\""),
        (with_policy("  podSelector: {matchLabels: {app: \"-x\"}}\n"), "the label value \"-x\""),
        (with_policy("  podSelector: {matchLabels: {app: 1.0}}\n"), "invalid type"),
        (with_policy("  policyTypes: [Ingress, Egress, Ingress]\n"), "policyTypes lists 3 entries"),
        (with_policy("  policyTypes: [ingress]\n"), "unknown policyType \"ingress\""),
        (with_policy("  ingress: [{from: [{}]}]\n"), "a peer needs podSelector, namespaceSelector or ipBlock"),
        (with_policy("  ingress: [{from: [null]}]\n"), "a peer needs podSelector, namespaceSelector or ipBlock"),
        (with_policy("  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]\n"), "cannot also have podSelector"),
        (with_policy("  ingress: [{from: [{ipBlock: {except: [10.0.0.0/9]}}]}]\n"), "an ipBlock has no cidr"),
        (with_policy("  ingress: [{ports: [{port: http, endPort: 90}]}]\n"), "endPort needs a numeric port"),
        (with_policy("  ingress: [{ports: [{port: 0}]}]\n"), "port 0 is outside 1..65535"),
        (with_policy("  ingress: [{ports: [{protocol: tcp}]}]\n"), "unknown protocol \"tcp\""),
        (with_policy("  ingress: [{ports: [{port: http-web-server-long}]}]\n"), "not a valid port name"),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, ports: [{containerPort: 80, name: abcdefghijklmnopqrstuvwxyz}]}]}\n".into(),
            "the container port name \"abcdefghijklmnopqrstuvwxyz\"",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, ports: [{containerPort: 80, name: \"8080\"}]}]}\n".into(),
            "must contain at least one letter",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, ports: [{containerPort: 80, name: web}]}, {name: d, ports: [{containerPort: 81, name: web}]}]}\n".into(),
            "two container ports are named \"web\"",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: Shop Floor}\nspec: {}\n".into(),
            "metadata.namespace \"Shop Floor\" is not a valid namespace",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: 123}\nspec: {}\n".into(),
            "invalid type: integer `123`",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a, lables: {app: a}}\nspec: {}\n".into(),
            "unknown field `lables`",
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {template: {metadata: {labels: {app: a}}, metadata: {}}}\n".into(),
            "duplicate field `metadata`",
        ),
    ];
    for (text, expected) in cases {
        let stderr = refused(&["verify", "--connectivity", "-"], &text);
        assert!(
            stderr.contains(expected),
            "{text}\nexpected {expected:?} in:\n{stderr}"
        );
        assert!(stderr.contains("<stdin>:"), "{stderr}");
    }
}

/// `kubectl get --raw` returns typed lists whose items name neither apiVersion nor kind, as
/// minified JSON: every item is read.
#[test]
fn typed_lists_without_item_kinds_are_read_yaml_or_json() {
    let json = r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[{"metadata":{"name":"a","namespace":"x","labels":{"app":"a"}},"spec":{"containers":[{"name":"c","ports":[{"containerPort":80}]}]},"status":{"phase":"Running"}},{"metadata":{"name":"b","namespace":"x","labels":{"app":"b"}},"spec":{"containers":[{"name":"c","ports":[{"containerPort":80}]}]}}]}"#;
    let json = connectivity(json);
    assert_eq!(json["workloads"], serde_json::json!(["x/a", "x/b"]));
    let yaml = "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- metadata: {name: web, namespace: x}\n  spec: {template: {metadata: {labels: {app: web}}}}\n---\napiVersion: v1\nkind: NamespaceList\nitems:\n- metadata: {name: x, labels: {team: red}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nitems:\n- metadata: {name: deny, namespace: x}\n  spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n";
    let json = connectivity(yaml);
    assert_eq!(json["workloads"], serde_json::json!(["x/web"]));
    // The NetworkPolicyList's deny-all was read: no external traffic either way.
    assert_eq!(json["external"], serde_json::json!([]), "{json}");
}

/// A folder is searched for JSON files as well as YAML.
#[test]
fn folders_are_read_for_json_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pod.json"),
        r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "from-json", "namespace": "x"}, "spec": {"containers": [{"name": "c"}]}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: from-yaml, namespace: x}\nspec: {}\n",
    )
    .unwrap();
    let out = success(bin().args(["verify", "--connectivity"]).arg(dir.path()));
    assert!(
        out.contains("x/from-json") && out.contains("x/from-yaml"),
        "{out}"
    );
}

/// Every workload kind and version the API server serves or has served is read.
#[test]
fn every_served_workload_version_is_read() {
    let template = "{template: {metadata: {labels: {app: w}}, spec: {containers: [{name: c}]}}}";
    let mut text = String::new();
    let kinds = [
        ("extensions/v1beta1", "Deployment"),
        ("extensions/v1beta1", "DaemonSet"),
        ("extensions/v1beta1", "ReplicaSet"),
        ("apps/v1beta1", "Deployment"),
        ("apps/v1beta1", "StatefulSet"),
        ("apps/v1beta2", "Deployment"),
        ("apps/v1", "ReplicaSet"),
        ("v1", "ReplicationController"),
    ];
    for (i, (version, kind)) in kinds.iter().enumerate() {
        text.push_str(&format!(
            "---\napiVersion: {version}\nkind: {kind}\nmetadata: {{name: w{i}, namespace: x}}\nspec: {template}\n"
        ));
    }
    text.push_str("---\napiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: cron, namespace: x}\nspec: {schedule: '* * * * *', jobTemplate: {spec: {template: {metadata: {labels: {app: c}}, spec: {containers: [{name: c}]}}}}}\n");
    let json = connectivity(&text);
    let workloads = json["workloads"].as_array().unwrap();
    assert_eq!(workloads.len(), kinds.len() + 1, "{json}");
}

/// Kinds that change pod networking without being evaluated, kinds nobody knows and documents
/// that are not objects: each is named, with where and why, and none passes silently.
#[test]
fn objects_not_read_are_named_with_file_line_and_reason() {
    let text = format!(
        "{PODS}---\napiVersion: k8s.ovn.org/v1\nkind: UserDefinedNetwork\nmetadata: {{name: udn, namespace: x}}\nspec: {{topology: Layer2}}\n---\napiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata: {{name: nad, namespace: x}}\n---\napiVersion: k8s.cni.cncf.io/v1beta1\nkind: MultiNetworkPolicy\nmetadata: {{name: mnp, namespace: x}}\n---\napiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {{name: vm, namespace: x}}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w, namespace: x}}\n---\nreplicas: 3\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm, namespace: x}}\n"
    );
    let out = bin()
        .args([
            "-w",
            "tests/verify/shop/k8s-advisor.toml",
            "verify",
            "--format",
            "json",
            "-",
        ])
        .write_stdin(text.clone())
        .output()
        .unwrap();
    // The shop's services are not in these manifests: nothing to compare.
    assert_eq!(out.status.code(), Some(2));
    let out = bin()
        .args(["verify", "--connectivity", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "k8s.ovn.org/v1/UserDefinedNetwork x/udn (<stdin>:11): an OVN-Kubernetes network",
        "k8s.cni.cncf.io/v1/NetworkAttachmentDefinition x/nad (<stdin>:16): a secondary network",
        "k8s.cni.cncf.io/v1beta1/MultiNetworkPolicy x/mnp (<stdin>:20)",
        "kubevirt.io/v1/VirtualMachine x/vm (<stdin>:24): a virtual machine",
        "example.com/v1/Widget x/w (<stdin>:28): a kind verify does not know",
        "a document (<stdin>:32): not a Kubernetes object",
    ] {
        assert!(stdout.contains(expected), "{expected}\n{stdout}");
    }
    assert!(!stdout.contains("ConfigMap"), "{stdout}");
}

/// Manifests with no workload at all are exit 2, never an empty pass.
#[test]
fn no_workload_is_an_error_not_an_empty_pass() {
    for args in [
        vec!["verify", "--connectivity", "-"],
        vec!["-w", "tests/verify/shop/k8s-advisor.toml", "verify", "-"],
    ] {
        let stderr = refused(
            &args,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {}\n",
        );
        assert!(
            stderr.contains("no workload in the manifests (1 NetworkPolicies, 1 v1/ConfigMap)"),
            "{stderr}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let stderr = refused(
        &["verify", "--connectivity", dir.path().to_str().unwrap()],
        "",
    );
    assert!(stderr.contains("no Kubernetes object at all"), "{stderr}");
}

/// A pod on the node's network is not subject to NetworkPolicy: under a deny-all it is still
/// reported as open, never as isolated.
#[test]
fn host_network_pods_are_never_isolated() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: agent, namespace: x}\nspec: {hostNetwork: true, containers: [{name: c}]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n";
    let json = connectivity(text);
    let external = json["external"].as_array().unwrap();
    assert!(
        external
            .iter()
            .any(|e| e["direction"] == "ingress" && e["cidrs"][0] == "0.0.0.0/0"),
        "{json}"
    );
}

/// A byte-order mark at the start of a file is not a document of its own.
#[test]
fn a_byte_order_mark_is_read_past() {
    let json = connectivity(
        "\u{feff}apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {}\n",
    );
    assert_eq!(json["workloads"], serde_json::json!(["x/a"]));
}

/// Standard input has a size limit, like files.
#[test]
fn unbounded_input_is_refused() {
    let big = "#\n".repeat(33 * 1024 * 1024 + 1);
    let out = bin()
        .args(["verify", "--connectivity", "-"])
        .write_stdin(big)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than 64 MiB"));
}

/// Manifests without namespaces and without NetworkPolicies, as many apps ship: the workspace
/// `import` drafts from them and `verify` of the same manifests must report what is open,
/// never pass. Objects without a namespace are in `default`, which stands for the project's
/// namespace; a Service maps its pods (`api-v1`) to the service named after it (`api`).
#[test]
fn import_then_verify_of_the_same_manifests_reports_what_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("k8s-advisor.toml");
    let manifests = crate::support::root().join("tests/verify/no-namespace.yaml");
    success(bin().arg("import").arg(&manifests).arg("-o").arg(&ws));
    let out = bin()
        .arg("-w")
        .arg(&ws)
        .args(["verify", "--format", "json"])
        .arg(&manifests)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let codes: BTreeSet<&str> = findings
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains("undeclared-flow") && codes.contains("exposure-mismatch"),
        "{codes:?}"
    );
    assert!(
        !codes.contains("missing-workload") && !codes.contains("unmodeled-workload"),
        "{codes:?}"
    );
    // -n elsewhere: nothing of the workspace is there, which is exit 2, not a pass.
    let out = bin()
        .arg("-w")
        .arg(&ws)
        .args(["verify", "-n", "elsewhere"])
        .arg(&manifests)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("nothing to compare: none of the workspace's 2 services")
            && stderr.contains("namespaces in the manifests: elsewhere;"),
        "{stderr}"
    );
    // -n puts them where kubectl apply -n would.
    let json = connectivity(&std::fs::read_to_string(&manifests).unwrap());
    assert_eq!(
        json["workloads"],
        serde_json::json!(["default/api-v1", "default/web"])
    );
    let out = success(
        bin()
            .args(["verify", "--connectivity", "--format", "json", "-n", "shop"])
            .arg(&manifests),
    );
    assert!(out.contains("\"shop/api-v1\""), "{out}");
    let stderr = refused(&["verify", "--connectivity", "-n", "Shop Floor", "-"], "");
    assert!(stderr.contains("is not a namespace name"), "{stderr}");
}

/// Two namespaces, an admin policy that denies one port and allows another whatever the
/// NetworkPolicies say, and a baseline that denies what nothing else decided.
const TIERS: &str = "apiVersion: v1
kind: Pod
metadata: {name: x, namespace: a, labels: {app: x}}
spec: {containers: [{name: c, ports: [{containerPort: 22}, {containerPort: 80}, {containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: y, namespace: b, labels: {app: y}}
spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: guard}
spec:
  priority: 1
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: a}}}
  ingress:
  - name: no-ssh-from-b
    action: Deny
    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: b}}}]
    ports: [{portNumber: {port: 22}}]
  - name: admin-port
    action: Allow
    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: b}}}]
    ports: [{portNumber: {protocol: TCP, port: 8080}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-b, namespace: a}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: b}}}]
    ports: [{port: 80}, {port: 22}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress:
  - name: deny-rest
    action: Deny
    from: [{namespaces: {}}]
";

/// AdminNetworkPolicies decide first (Deny beats the NetworkPolicy that allows port 22; Allow
/// opens port 8080 the NetworkPolicy does not), NetworkPolicies next, the baseline last (it
/// denies what reaches an unisolated pod); findings name the admin rule responsible.
#[test]
fn admin_and_baseline_policies_are_evaluated_in_their_tiers() {
    let json = connectivity(TIERS);
    let connections: Vec<(String, String, String, Value)> = json["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["from"].as_str().unwrap().to_string(),
                c["to"].as_str().unwrap().to_string(),
                c["protocol"].as_str().unwrap().to_string(),
                c["ports"].clone(),
            )
        })
        .collect();
    assert_eq!(
        connections,
        [(
            "b/y".to_string(),
            "a/x".to_string(),
            "TCP".to_string(),
            serde_json::json!([[80, 80], [8080, 8080]])
        )],
        "{json}"
    );
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("k8s-advisor.toml");
    std::fs::write(
        &ws,
        "version = 1\n[project]\nname = \"p\"\n\n[[services]]\nname = \"x\"\nnamespace = \"a\"\nports = [{ name = \"ssh\", port = 22 }, { name = \"http\", port = 80 }]\n\n[[services]]\nname = \"y\"\nnamespace = \"b\"\nports = [{ name = \"http\", port = 80 }]\ncalls = [\"a/x\"]\n",
    )
    .unwrap();
    let out = bin()
        .arg("-w")
        .arg(&ws)
        .args(["verify", "--format", "json", "-"])
        .write_stdin(TIERS)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(
            |m| m.starts_with("declared call b/y -> a/x is blocked on TCP 22")
                && m.contains("AdminNetworkPolicy guard ingress rule 1 denies TCP 22")
        ),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("b/y -> a/x is allowed on TCP 8080")
                && m.contains("AdminNetworkPolicy guard ingress rule 2")),
        "{messages:#?}"
    );
    // a/x -> b/y is denied by the baseline: no finding says it is open.
    assert!(
        !messages.iter().any(|m| m.starts_with("a/x -> b/y")),
        "{messages:#?}"
    );
}

/// The admin API's own rules: one baseline policy, named default; no two admin policies at
/// the same priority (the order of their rules would be undefined); the fields its schema
/// requires.
#[test]
fn admin_policies_the_api_refuses_are_refused() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: a}\nspec: {}\n---\n";
    let anp = |name: &str, priority: &str, rest: &str| {
        format!(
            "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n  priority: {priority}\n  subject: {{namespaces: {{}}}}\n{rest}---\n"
        )
    };
    let cases = [
        (format!("{}{}", anp("one", "5", ""), anp("two", "5", "")), "have the same priority 5"),
        (anp("one", "1001", ""), "priority 1001 is outside 0..1000"),
        (
            anp("one", "1", "  egress: [{action: Pass, to: [{pods: {podSelector: {}}}]}]\n"),
            "needs both namespaceSelector and podSelector",
        ),
        (
            anp("one", "1", "  egress: [{action: Maybe, to: [{namespaces: {}}]}]\n"),
            "is not Allow, Deny or Pass",
        ),
        (
            anp("one", "1", "  ingress: [{action: Allow, from: [{networks: [10.0.0.0/8]}]}]\n"),
            "each peer sets exactly one of `namespaces`",
        ),
        (
            anp("one", "1", "  egress: [{action: Allow, to: [{namespaces: {}}], ports: [{portRange: {start: 10, end: 1}}]}]\n"),
            "must end above its start",
        ),
        (
            "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: other}\nspec: {subject: {namespaces: {}}}\n".to_string(),
            "named `default`",
        ),
        (
            "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec: {subject: {namespaces: {}}, egress: [{action: Pass, to: [{namespaces: {}}]}]}\n".to_string(),
            "the action \"Pass\" is not Allow or",
        ),
    ];
    for (text, expected) in cases {
        let stderr = refused(&["verify", "--connectivity", "-"], &format!("{pod}{text}"));
        assert!(
            stderr.contains(expected),
            "{text}\nexpected {expected:?} in:\n{stderr}"
        );
    }
}

/// Small inputs that would take minutes or gigabytes are refused at once: flow collections
/// nested 100,000 deep behind an apostrophe that is not a quote (`it's`), and one anchor of
/// 3,000 values repeated 3,000 times. Quoted brackets do not count as nesting.
#[test]
fn nesting_and_alias_bombs_are_refused_at_once() {
    let started = std::time::Instant::now();
    let deep = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: it's}}\nspec: {}\n",
        "{a: ".repeat(100_000)
    );
    let stderr = refused(&["verify", "--connectivity", "-"], &deep);
    assert!(stderr.contains("nested deeper than 256 levels"), "{stderr}");
    let anchor: String = (0..3000).map(|i| format!("  k{i}: v\n")).collect();
    let aliases: String = (0..3000).map(|i| format!("  a{i}: *big\n")).collect();
    let bomb = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\nbig: &big\n{anchor}data:\n{aliases}"
    );
    let stderr = refused(&["verify", "--connectivity", "-"], &bomb);
    assert!(stderr.contains("expands to more values"), "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    // import reads YAML through the same guard.
    let dir = tempfile::tempdir().unwrap();
    let compose = dir.path().join("compose.yaml");
    std::fs::write(
        &compose,
        format!("name: it's\nservices:\n  web: {}\n", "{a: ".repeat(100_000)),
    )
    .unwrap();
    let out = bin()
        .arg("import")
        .arg(&compose)
        .arg("-o")
        .arg(dir.path().join("ws.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nested deeper than 256"));
    // Brackets inside quotes and block scalars are text.
    let quoted = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  a: \"{}\"\n  b: |\n    {}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec: {{}}\n",
        "[".repeat(1000),
        "{".repeat(1000)
    );
    let json = connectivity(&quoted);
    assert_eq!(json["workloads"], serde_json::json!(["default/p"]));
}

/// `import` and `verify` split a stream into the same documents: `...` ends one (and a bare
/// document may follow it), a tab or a comment may follow `---`, and content on the marker's
/// line belongs to its document.
#[test]
fn import_and_verify_read_the_same_documents() {
    let stream = "apiVersion: apps/v1
kind: Deployment
metadata: {name: a, namespace: x}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec: {containers: [{name: c, image: a:1, ports: [{containerPort: 80}]}]}
...
apiVersion: apps/v1
kind: Deployment
metadata: {name: b, namespace: x}
spec:
  selector: {matchLabels: {app: b}}
  template:
    metadata: {labels: {app: b}}
    spec: {containers: [{name: c, image: b:1, ports: [{containerPort: 80}]}]}
---\t
apiVersion: apps/v1
kind: Deployment
metadata: {name: c, namespace: x}
spec:
  selector: {matchLabels: {app: c}}
  template:
    metadata: {labels: {app: c}}
    spec: {containers: [{name: c, image: c:1, ports: [{containerPort: 80}]}]}
--- # the last one, flow style on the marker's line
{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: x}, spec: {selector: {matchLabels: {app: d}}, template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c, image: d:1, ports: [{containerPort: 80}]}]}}}}
...
";
    let json = connectivity(stream);
    assert_eq!(
        json["workloads"],
        serde_json::json!(["x/a", "x/b", "x/c", "x/d"])
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pods.yaml");
    std::fs::write(&file, stream).unwrap();
    let ws = dir.path().join("k8s-advisor.toml");
    success(bin().arg("import").arg(&file).arg("-o").arg(&ws));
    let text = std::fs::read_to_string(&ws).unwrap();
    for name in ["a", "b", "c", "d"] {
        assert!(
            text.contains(&format!("[services.{name}]"))
                || text.contains(&format!("name = \"{name}\"")),
            "service {name} missing from the import:\n{text}"
        );
    }
}
