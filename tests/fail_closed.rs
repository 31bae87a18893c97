//! The render stage fails closed by itself: where the model lacks a value that narrows a load
//! balancer or a NetworkPolicy rule, the generated form denies rather than exposes. These
//! tests take a valid workspace, break the model the way a faulty validation change could, and
//! look at what `generate` writes.

use k8s_advisor::generate::{self, GeneratedFile, exposure};
use k8s_advisor::graph::ServiceGraph;
use k8s_advisor::model::{Sources, Workspace};

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
