//! The render stage fails closed by itself: where the model lacks a value that narrows a load
//! balancer or a NetworkPolicy rule, the generated form denies rather than exposes. These
//! tests take a valid workspace, break the model the way a faulty validation change could, and
//! look at what `generate` writes.

use k8s_advisor::generate::{self, GeneratedFile, exposure};
use k8s_advisor::graph::ServiceGraph;
use k8s_advisor::model::{PodLabels, Sources, Workspace};
use k8s_openapi::api::networking::v1::NetworkPolicy;

use crate::generate::load_text;

const SHOP: &str = r#"version = 1
[project]
name = "shop"
platform = "eks"
internal-cidrs = ["10.0.0.0/8"]

[[services]]
name = "web"
namespace = "store"
port = 8080
expose = "public"

[[services]]
name = "admin"
namespace = "store"
port = 9000
expose = "internal"

[[services]]
name = "partner"
namespace = "store"
port = 7000
expose = "public"
sources = ["203.0.113.0/24"]
"#;

fn file<'a>(files: &'a [GeneratedFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path.to_str() == Some(path))
        .unwrap_or_else(|| panic!("no {path}"))
        .contents
}

fn service<'a>(ws: &'a Workspace, name: &str) -> &'a k8s_advisor::model::Service {
    ws.services.iter().find(|s| s.id.name == name).unwrap()
}

#[test]
fn sources_are_never_empty_and_anywhere_is_only_explicit() {
    assert_eq!(Sources::new(Vec::new()), None);
    let one = Sources::new(vec!["0.0.0.0/0".parse().unwrap()]).unwrap();
    assert!(!one.is_anywhere(), "IPv4 alone is not every address");
    let both = Sources::new(vec!["::/0".parse().unwrap(), "0.0.0.0/0".parse().unwrap()]).unwrap();
    assert!(both.is_anywhere());
    assert_eq!(both, Sources::anywhere());

    let ws = load_text(SHOP);
    assert_eq!(service(&ws, "web").sources, Some(Sources::anywhere()));
    assert_eq!(
        service(&ws, "admin").sources.as_ref().unwrap().as_slice(),
        ["10.0.0.0/8".parse().unwrap()]
    );
}

#[test]
fn a_load_balancer_without_sources_is_not_written() {
    let mut ws = load_text(SHOP);
    let exposed = generate::generate(&ws);
    assert!(file(&exposed, "store/admin.yaml").contains("type: LoadBalancer"));
    assert!(file(&exposed, "store/admin.yaml").contains("- \"10.0.0.0/8\""));
    assert!(file(&exposed, "store/partner.yaml").contains("- \"203.0.113.0/24\""));

    // A model whose exposed services lost their sources, as a faulty validation would build.
    for s in &mut ws.services {
        s.sources = None;
    }
    for s in &ws.services {
        let e = exposure::service_exposure(&ws, s);
        assert_eq!(e.service_type, "ClusterIP", "{}", s.id);
        assert_eq!(e.load_balancer_class, None);
        assert!(e.annotations.is_empty());
    }
    let files = generate::generate(&ws);
    for name in ["web", "admin", "partner"] {
        let text = file(&files, &format!("store/{name}.yaml"));
        assert!(!text.contains("LoadBalancer"), "{text}");
    }
    // And the NetworkPolicies admit no address: no ipBlock, no rule without peers.
    let policies = file(&files, "store/network-policies.yaml");
    assert!(!policies.contains("ipBlock"), "{policies}");
    let graph = ServiceGraph::build(&ws);
    for policy in generate::policy::namespace_policies(&ws, "store", &graph) {
        for rule in policy.ingress.iter().chain(&policy.egress) {
            assert!(!rule.peers.is_empty(), "{}: {}", policy.name, rule.comment);
        }
    }
}

const GATEWAY: &str = r#"version = 1
[project]
name = "shop"
platform = "generic"
dns = { namespace = "dns-system", pod-labels = { app = "unbound" }, cidrs = ["10.96.0.10/32"] }

[project.gateway]
name = "public"
namespace = "gateways"
pod-labels = { "app.kubernetes.io/name" = "envoy" }

[[services]]
name = "web"
namespace = "store"
port = 8080
expose = "gateway"
calls = ["api"]

[[services]]
name = "api"
namespace = "store"
port = 9000
"#;

#[test]
fn pod_labels_are_never_empty_nor_ambiguous() {
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(PodLabels::new(Vec::new()), None);
    assert_eq!(
        PodLabels::new(vec![pair("app", "a"), pair("app", "b")]),
        None
    );
    let labels = PodLabels::new(vec![pair("z", "1"), pair("app", "a")]).unwrap();
    assert_eq!(labels.as_slice(), [pair("app", "a"), pair("z", "1")]);
}

/// Every pod peer the policies name selects by at least one label, and every rule names a peer:
/// an empty podSelector would admit every pod of the namespace, an empty `from`/`to` everyone.
fn assert_peers_are_narrow(files: &[GeneratedFile]) {
    for f in files
        .iter()
        .filter(|f| f.path.ends_with("network-policies.yaml"))
    {
        for doc in serde_yaml_ng::Deserializer::from_str(&f.contents) {
            let policy: NetworkPolicy = serde::Deserialize::deserialize(doc).unwrap();
            let spec = policy.spec.unwrap();
            let name = policy.metadata.name.unwrap();
            let ingress = spec.ingress.unwrap_or_default().into_iter().map(|r| r.from);
            let egress = spec.egress.unwrap_or_default().into_iter().map(|r| r.to);
            for peers in ingress.chain(egress) {
                let peers = peers.unwrap_or_default();
                assert!(!peers.is_empty(), "{name}: a rule without peers");
                for peer in peers {
                    if let Some(pods) = peer.pod_selector {
                        let labels = pods.match_labels.unwrap_or_default();
                        assert!(!labels.is_empty(), "{name}: every pod selected");
                        assert!(pods.match_expressions.is_none());
                    }
                }
            }
        }
    }
}

#[test]
fn gateway_and_dns_peers_select_exactly_their_labels() {
    let ws = load_text(GATEWAY);
    let files = generate::generate(&ws);
    assert_peers_are_narrow(&files);
    let policies = file(&files, "store/network-policies.yaml");
    assert!(
        policies.contains("app.kubernetes.io/name: \"envoy\""),
        "{policies}"
    );
    assert!(policies.contains("app: \"unbound\""), "{policies}");
    for example in crate::support::examples() {
        assert_peers_are_narrow(&generate::generate(&crate::generate::load(&example)));
    }
}

#[test]
fn dns_servers_without_targets_or_ports_allow_nothing() {
    let mut ws = load_text(GATEWAY);
    let graph_rules = |ws: &Workspace| {
        let graph = ServiceGraph::build(ws);
        let policies = generate::policy::namespace_policies(ws, "store", &graph);
        let dns = policies
            .into_iter()
            .find(|p| p.name == "cluster-dns")
            .unwrap();
        assert_eq!(
            dns.policy_types.names(),
            ["Egress"],
            "still isolates egress"
        );
        assert!(dns.ingress.is_empty());
        dns.egress
    };
    assert_eq!(graph_rules(&ws).len(), 1);
    ws.project.dns.rules[0].ports.clear();
    assert!(
        graph_rules(&ws).is_empty(),
        "no ports must not mean every port"
    );
    let mut ws = load_text(GATEWAY);
    ws.project.dns.rules[0].targets.clear();
    assert!(
        graph_rules(&ws).is_empty(),
        "no servers must not mean everyone"
    );
    let files = generate::generate(&ws);
    let policies = file(&files, "store/network-policies.yaml");
    assert!(!policies.contains("unbound") && !policies.contains("10.96.0.10"));
    assert_peers_are_narrow(&files);
}

/// On random models (seeded, so a failure can be replayed): no peer selects every pod, no rule
/// names no peer, and a LoadBalancer names its source ranges unless its sources are exactly
/// every IPv4 and IPv6 address.
#[test]
fn random_models_render_narrow_peers_and_load_balancers() {
    let (mut restricted, mut anywhere) = (0, 0);
    for seed in 0..24 {
        let ws = load_text(&crate::random_model::toml(
            &crate::random_model::model(seed, 12),
            None,
        ));
        assert_peers_are_narrow(&generate::generate(&ws));
        for s in &ws.services {
            let e = exposure::service_exposure(&ws, s);
            if e.service_type != "LoadBalancer" {
                continue;
            }
            let sources = s.sources.as_ref().expect("a load balancer has sources");
            assert_eq!(
                e.source_ranges.is_empty(),
                sources.is_anywhere(),
                "seed {seed}: {}",
                s.id
            );
            if sources.is_anywhere() {
                anywhere += 1;
            } else {
                restricted += 1;
            }
        }
    }
    assert!(restricted > 0 && anywhere > 0, "{restricted} {anywhere}");
}
