//! Seeded random manifests for the differential test of `verify` against nca: namespaces with
//! random labels, workloads of every kind nca reads with random labels and named container
//! ports, and NetworkPolicies using every feature of `networking.k8s.io/v1`.
//!
//! Every optional field also comes in its absent, `null` and empty forms, so that the
//! comparison covers the API server's defaulting of each.
//!
//! [`world`] returns the objects as JSON values; [`for_us`] writes them as we read them (in a
//! shuffled order), [`for_nca`] rewrites nca's copy for its known quirks (ORACLES.md) without
//! changing what Kubernetes would do with it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::random_model::Rng;

const NS_NAMES: [&str; 4] = ["alpha", "beta", "gamma", "delta"];
const NS_KEYS: [(&str, &[&str]); 2] = [
    ("env", &["prod", "dev"]),
    ("team", &["red", "blue", "green"]),
];
const POD_KEYS: [(&str, &[&str]); 3] = [
    ("app", &["web", "api", "db", "cache"]),
    ("tier", &["front", "back"]),
    ("env", &["prod", "dev"]),
];
const PORT_NAMES: [&str; 4] = ["http", "metrics", "grpc", "dns"];
const PORT_NUMBERS: [u16; 6] = [53, 80, 443, 5000, 8080, 9090];
/// ipBlock CIDRs, each with the blocks an `except` may cut out of it.
const BLOCKS: [(&str, &[&str]); 6] = [
    ("10.0.0.0/8", &["10.1.0.0/16", "10.2.128.0/17"]),
    ("0.0.0.0/0", &["10.0.0.0/8", "192.168.0.0/16"]),
    ("192.168.1.0/24", &["192.168.1.128/25", "192.168.1.0/30"]),
    ("172.16.0.0/12", &["172.16.5.0/24"]),
    ("2001:db8::/32", &["2001:db8:1::/48"]),
    ("::/0", &["2001:db8::/32"]),
];

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len())]
}

fn protocol(rng: &mut Rng) -> &'static str {
    match rng.below(20) {
        0..=11 => "TCP",
        12..=16 => "UDP",
        _ => "SCTP",
    }
}

fn labels(rng: &mut Rng, keys: &[(&str, &[&str])], percent: usize) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, values) in keys {
        if rng.chance(percent) {
            out.insert((*key).to_string(), json!(pick(rng, values)));
        }
    }
    out
}

/// A selector over `keys` (plus `extra` keys with their values).
fn selector(rng: &mut Rng, keys: &[(&str, &[&str])]) -> Value {
    let mut sel = Map::new();
    if rng.chance(25) {
        // The empty selector, written in each of its forms.
        match rng.below(4) {
            0 => {
                sel.insert("matchLabels".into(), Value::Null);
            }
            1 => {
                sel.insert("matchExpressions".into(), json!([]));
            }
            2 => {
                sel.insert("matchLabels".into(), json!({}));
                sel.insert("matchExpressions".into(), Value::Null);
            }
            _ => {}
        }
        return Value::Object(sel);
    }
    if rng.chance(60) {
        let mut labels = Map::new();
        for _ in 0..1 + rng.below(2) {
            let (key, values) = pick(rng, keys);
            labels.insert((*key).to_string(), json!(pick(rng, values)));
        }
        sel.insert("matchLabels".into(), Value::Object(labels));
    }
    if !sel.contains_key("matchLabels") || rng.chance(40) {
        let exprs: Vec<Value> = (0..1 + rng.below(2))
            .map(|_| {
                let (key, values) = pick(rng, keys);
                match rng.below(4) {
                    0 | 1 => {
                        let op = if rng.chance(50) { "In" } else { "NotIn" };
                        let mut vals: BTreeSet<&str> = BTreeSet::new();
                        for _ in 0..1 + rng.below(2) {
                            vals.insert(*pick(rng, values));
                        }
                        json!({"key": key, "operator": op, "values": vals})
                    }
                    2 => json!({"key": key, "operator": "Exists"}),
                    _ => json!({"key": key, "operator": "DoesNotExist"}),
                }
            })
            .collect();
        sel.insert("matchExpressions".into(), Value::Array(exprs));
    }
    Value::Object(sel)
}

fn ns_keys() -> Vec<(&'static str, &'static [&'static str])> {
    let mut keys = NS_KEYS.to_vec();
    keys.push(("kubernetes.io/metadata.name", &NS_NAMES));
    keys
}

fn peer(rng: &mut Rng) -> Value {
    match rng.below(20) {
        0..=5 => json!({"podSelector": selector(rng, &POD_KEYS)}),
        6..=10 => json!({"namespaceSelector": selector(rng, &ns_keys())}),
        11..=14 => json!({
            "namespaceSelector": selector(rng, &ns_keys()),
            "podSelector": selector(rng, &POD_KEYS),
        }),
        // A null podSelector beside a namespaceSelector: every pod of those namespaces.
        15 => json!({
            "namespaceSelector": selector(rng, &ns_keys()),
            "podSelector": null,
        }),
        _ => {
            let (cidr, excepts) = pick(rng, &BLOCKS);
            let mut block = json!({"cidr": cidr});
            let chosen: BTreeSet<&str> =
                excepts.iter().copied().filter(|_| rng.chance(40)).collect();
            if !chosen.is_empty() {
                block["except"] = json!(chosen);
            } else if rng.chance(30) {
                block["except"] = if rng.chance(50) {
                    Value::Null
                } else {
                    json!([])
                };
            }
            json!({"ipBlock": block})
        }
    }
}

fn port(rng: &mut Rng) -> Value {
    let mut p = Map::new();
    if rng.chance(70) {
        p.insert("protocol".into(), json!(protocol(rng)));
    }
    match rng.below(10) {
        0..=3 => {
            p.insert("port".into(), json!(pick(rng, &PORT_NUMBERS)));
        }
        4..=6 => {
            p.insert("port".into(), json!(pick(rng, &PORT_NAMES)));
        }
        7 | 8 => {
            let lo = *pick(rng, &PORT_NUMBERS);
            p.insert("port".into(), json!(lo));
            p.insert(
                "endPort".into(),
                json!(lo + [0, 1, 100, 5000][rng.below(4)]),
            );
        }
        // Only a protocol: every port of it.
        _ => {
            p.insert("protocol".into(), json!(protocol(rng)));
        }
    }
    // A null protocol is an absent one: TCP.
    if !p.contains_key("protocol") && rng.chance(20) {
        p.insert("protocol".into(), Value::Null);
    }
    // A null entry is an empty port: every TCP port.
    if rng.chance(5) {
        return Value::Null;
    }
    Value::Object(p)
}

/// A rule list: missing (`None`), `null`, empty, or one to three rules (a rule may be `null`).
fn rules(rng: &mut Rng, peers_key: &str) -> Option<Value> {
    match rng.below(20) {
        0..=3 => None,
        4 => Some(Value::Null),
        5..=7 => Some(json!([])),
        _ => Some(Value::Array(
            (0..1 + rng.below(3))
                .map(|_| {
                    if rng.chance(4) {
                        return Value::Null;
                    }
                    let mut rule = Map::new();
                    match rng.below(11) {
                        0 | 1 => {}
                        2 => {
                            rule.insert(peers_key.into(), json!([]));
                        }
                        3 => {
                            rule.insert(peers_key.into(), Value::Null);
                        }
                        _ => {
                            let peers: Vec<Value> =
                                (0..1 + rng.below(3)).map(|_| peer(rng)).collect();
                            rule.insert(peers_key.into(), Value::Array(peers));
                        }
                    }
                    match rng.below(11) {
                        0..=2 => {}
                        3 => {
                            rule.insert("ports".into(), json!([]));
                        }
                        4 => {
                            rule.insert("ports".into(), Value::Null);
                        }
                        _ => {
                            let ports: Vec<Value> =
                                (0..1 + rng.below(3)).map(|_| port(rng)).collect();
                            rule.insert("ports".into(), Value::Array(ports));
                        }
                    }
                    Value::Object(rule)
                })
                .collect(),
        )),
    }
}

fn pod_spec(rng: &mut Rng) -> Value {
    let mut used: BTreeSet<(u16, &str)> = BTreeSet::new();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    let containers: Vec<Value> = (0..1 + rng.below(2))
        .map(|c| {
            let mut ports = Vec::new();
            for _ in 0..rng.below(3) {
                let number = *pick(rng, &PORT_NUMBERS);
                let proto = protocol(rng);
                if !used.insert((number, proto)) {
                    continue;
                }
                let mut p = json!({"containerPort": number});
                if proto != "TCP" || rng.chance(50) {
                    p["protocol"] = json!(proto);
                }
                let name = *pick(rng, &PORT_NAMES);
                if rng.chance(70) && names.insert(name) {
                    p["name"] = json!(name);
                }
                ports.push(p);
            }
            json!({"name": format!("c{c}"), "image": "registry.example.com/app:1", "ports": ports})
        })
        .collect();
    json!({"containers": containers})
}

/// The objects of world `seed`.
pub fn world(seed: u64) -> Vec<Value> {
    let mut rng = Rng::new(seed.wrapping_mul(7919));
    let ns_count = 2 + rng.below(3);
    let namespaces: Vec<&str> = NS_NAMES[..ns_count].to_vec();
    let mut docs = Vec::new();
    for ns in &namespaces {
        // Now and then a namespace exists only because objects name it.
        if rng.chance(90) {
            let labels = labels(&mut rng, &NS_KEYS, 60);
            docs.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}));
        }
    }
    let mut previous: Option<(Map<String, Value>, Value)> = None;
    for i in 0..2 + rng.below(7) {
        let ns = *pick(&mut rng, &namespaces);
        // Sometimes a twin of the previous workload: identical labels and ports.
        let (labels, spec) = match &previous {
            Some(twin) if rng.chance(15) => twin.clone(),
            _ => (labels(&mut rng, &POD_KEYS, 55), pod_spec(&mut rng)),
        };
        previous = Some((labels.clone(), spec.clone()));
        let template = json!({"metadata": {"labels": labels}, "spec": spec});
        let select = json!({"matchLabels": labels});
        let doc = match rng.below(5) {
            0 => {
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": format!("deploy{i}"), "namespace": ns},
                "spec": {"selector": select, "template": template}})
            }
            1 => {
                json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": format!("sts{i}"), "namespace": ns},
                "spec": {"selector": select, "serviceName": "x", "template": template}})
            }
            2 => {
                json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": format!("ds{i}"), "namespace": ns},
                "spec": {"selector": select, "template": template}})
            }
            3 => {
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("pod{i}"), "namespace": ns, "labels": labels},
                "spec": spec})
            }
            _ => {
                json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": format!("cron{i}"), "namespace": ns},
                "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}})
            }
        };
        docs.push(doc);
    }
    for i in 0..1 + rng.below(6) {
        let ns = *pick(&mut rng, &namespaces);
        let mut spec = Map::new();
        match rng.below(10) {
            // Absent or null: the empty selector, every pod of the namespace.
            0 => {}
            1 => {
                spec.insert("podSelector".into(), Value::Null);
            }
            _ => {
                spec.insert("podSelector".into(), selector(&mut rng, &POD_KEYS));
            }
        }
        match rng.below(12) {
            0..=2 => {}
            10 => {
                spec.insert("policyTypes".into(), Value::Null);
            }
            11 => {
                spec.insert("policyTypes".into(), json!([]));
            }
            3 | 4 => {
                spec.insert("policyTypes".into(), json!(["Ingress"]));
            }
            5 | 6 => {
                spec.insert("policyTypes".into(), json!(["Egress"]));
            }
            7 | 8 => {
                spec.insert("policyTypes".into(), json!(["Ingress", "Egress"]));
            }
            _ => {
                spec.insert("policyTypes".into(), json!(["Egress", "Ingress"]));
            }
        }
        if let Some(r) = rules(&mut rng, "from") {
            spec.insert("ingress".into(), r);
        }
        if let Some(r) = rules(&mut rng, "to") {
            spec.insert("egress".into(), r);
        }
        docs.push(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": format!("pol{i}"), "namespace": ns}, "spec": spec}),
        );
    }
    docs
}

pub fn yaml(docs: &[Value]) -> String {
    docs.iter()
        .map(|d| serde_yaml_ng::to_string(d).expect("serializable"))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The manifests as `verify` reads them: the objects in an order drawn from the seed (so the
/// engine must not depend on Namespaces coming first).
pub fn for_us(seed: u64, docs: &[Value]) -> String {
    let mut docs = docs.to_vec();
    Rng::new(seed ^ 0xabcd).shuffle(&mut docs);
    yaml(&docs)
}

/// A policy that selects no pod and names an IPv6 block: nca shows IPv6 addresses only when
/// some policy names one; this one changes no connectivity.
pub fn ipv6_probe(namespace: &str) -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "nca-ipv6-probe", "namespace": namespace},
        "spec": {"podSelector": {"matchLabels": {"nca-probe": "selects-nothing"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": "2001:db8:ffff::/48"}}]}]}})
}

/// The values each pod label key has across all workloads.
fn label_values(docs: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for doc in docs {
        let labels = match doc["kind"].as_str() {
            Some("Pod") => &doc["metadata"]["labels"],
            Some("CronJob") => {
                &doc["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
            }
            Some("Namespace" | "NetworkPolicy") | None => continue,
            Some(_) => &doc["spec"]["template"]["metadata"]["labels"],
        };
        for (k, v) in labels.as_object().into_iter().flatten() {
            out.entry(k.clone())
                .or_default()
                .insert(v.as_str().unwrap_or("").to_string());
        }
    }
    out
}

/// A value no label in the generated worlds has.
const ABSENT: &str = "nca-absent-value";

/// Rewrites `Exists`/`DoesNotExist` in a pod selector to `In`/`NotIn` over the values present.
fn rewrite_exists(selector: &mut Value, values: &BTreeMap<String, BTreeSet<String>>) {
    let Some(exprs) = selector
        .get_mut("matchExpressions")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for expr in exprs {
        let key = expr["key"].as_str().unwrap_or("").to_string();
        let present: Vec<String> = values
            .get(&key)
            .map_or_else(Vec::new, |v| v.iter().cloned().collect());
        let present = if present.is_empty() {
            vec![ABSENT.to_string()]
        } else {
            present
        };
        let op = match expr["operator"].as_str() {
            Some("Exists") => "In",
            Some("DoesNotExist") => "NotIn",
            _ => continue,
        };
        *expr = json!({"key": key, "operator": op, "values": present});
    }
}

/// nca's copy: one file, Namespaces first, and each quirk of ORACLES.md rewritten into an
/// equivalent input nca judges correctly.
pub fn for_nca(docs: &[Value]) -> String {
    let values = label_values(docs);
    let mut out: Vec<Value> = docs
        .iter()
        .filter(|d| d["kind"] == "Namespace")
        .cloned()
        .collect();
    let mut namespaces = BTreeSet::new();
    for doc in docs.iter().filter(|d| d["kind"] != "Namespace") {
        let mut doc = doc.clone();
        if let Some(ns) = doc["metadata"]["namespace"].as_str() {
            namespaces.insert(ns.to_string());
        }
        if doc["kind"] == "NetworkPolicy" {
            let spec = doc["spec"].as_object_mut().expect("spec");
            // nca refuses a policy without podSelector, or with `podSelector: null`; for the
            // API server both are the empty selector (the Go field is not a pointer).
            if spec.get("podSelector").is_none_or(Value::is_null) {
                spec.insert("podSelector".into(), json!({}));
            }
            match spec
                .get("policyTypes")
                .and_then(Value::as_array)
                .filter(|t| !t.is_empty())
                .cloned()
            {
                Some(types) => {
                    let has = |t: &str| types.iter().any(|x| x == t);
                    // Inert sections (type not listed) are a hard error in nca.
                    if !has("Ingress") {
                        spec.remove("ingress");
                    }
                    if !has("Egress") {
                        spec.remove("egress");
                    }
                    // nca refuses [Egress, Ingress].
                    let ordered: Vec<&str> = ["Ingress", "Egress"]
                        .into_iter()
                        .filter(|t| has(t))
                        .collect();
                    spec.insert("policyTypes".into(), json!(ordered));
                }
                // Absent, null or empty: left for nca to default.
                None => {
                    // Kubernetes adds Egress only for a non-empty list; nca isolates on `[]`
                    // and on `null`.
                    if spec
                        .get("egress")
                        .is_some_and(|e| e.is_null() || e.as_array().is_some_and(Vec::is_empty))
                    {
                        spec.remove("egress");
                    }
                }
            }
            for section in ["ingress", "egress"] {
                let Some(rules) = spec.get_mut(section).and_then(Value::as_array_mut) else {
                    continue;
                };
                for rule in rules {
                    // A null entry (a rule, a port) makes nca fail; Kubernetes reads it as an
                    // empty object, Go's zero value.
                    if rule.is_null() {
                        *rule = json!({});
                    }
                    if let Some(ports) = rule.get_mut("ports").and_then(Value::as_array_mut) {
                        for port in ports.iter_mut().filter(|p| p.is_null()) {
                            *port = json!({});
                        }
                    }
                    let key = if section == "ingress" { "from" } else { "to" };
                    let Some(peers) = rule.get_mut(key).and_then(Value::as_array_mut) else {
                        continue;
                    };
                    for peer in peers {
                        if peer.get("namespaceSelector").is_some()
                            && let Some(pods) = peer.get_mut("podSelector")
                        {
                            rewrite_exists(pods, &values);
                        }
                    }
                }
            }
        }
        out.push(doc);
    }
    out.push(ipv6_probe(
        namespaces.iter().next().map_or("alpha", String::as_str),
    ));
    yaml(&out)
}
