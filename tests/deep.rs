//! Depth follows the model, never the call stack: a chain of 200,000 services and one of
//! 100,000 namespaces go through every stage on a thread with a 1 MiB stack. Recursion on
//! user-sized input would overflow it.

use k8s_advisor::assess::assess;
use k8s_advisor::check::Guardrails;
use k8s_advisor::graph::{FindingCode, ServiceGraph};
use k8s_advisor::layout::{self, record::RecordInput};
use k8s_advisor::policy::Policy;
use k8s_advisor::report;

use crate::generate::load_text;

/// `services` services, each calling the next; `namespaces` says whether each gets its own
/// namespace (a chain of domains) or all share one.
fn chain(services: usize, own_namespaces: bool) -> String {
    let mut text = String::from("version = 1\n[project]\nname = \"deep\"\n");
    for i in 0..services {
        let namespace = if own_namespaces {
            format!("n{i}")
        } else {
            "chain".to_string()
        };
        text.push_str(&format!(
            "[[services]]\nname = \"s{i}\"\nnamespace = \"{namespace}\"\nport = 80\n"
        ));
        if i + 1 < services {
            text.push_str(&format!(
                "calls = [\"{}/s{}\"]\n",
                if own_namespaces {
                    format!("n{}", i + 1)
                } else {
                    namespace.clone()
                },
                i + 1
            ));
        }
    }
    text
}

fn on_small_stack(work: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(work)
        .unwrap()
        .join()
        .expect("the stage ran out of stack or panicked");
}

#[test]
fn a_chain_of_200000_services_does_not_overflow_the_stack() {
    on_small_stack(|| {
        let ws = load_text(&chain(200_000, false));
        let policy = Policy::load(None).unwrap();
        let graph = ServiceGraph::build(&ws);
        assert_eq!(graph.longest_chain().len(), 200_000);
        assert!(graph.call_cycles().is_empty());
        let findings = graph.findings(&policy.graph);
        assert!(findings.iter().any(|f| f.code == FindingCode::LongestChain));
        let report = k8s_advisor::check::check(&graph, &Guardrails::load(None).unwrap());
        assert!(
            !report
                .findings
                .iter()
                .any(|f| f.rule.as_str() == "namespace-cycle")
        );
        assert!(report::graph::json(&graph, &findings, None).contains("\"s199999\""));
        let verdict = assess(&graph, &policy);
        let dir = tempfile::tempdir().unwrap();
        let mut plan = layout::Plan::default();
        let input = RecordInput {
            root: dir.path(),
            adr_dir: None,
            generated: Vec::new(),
            today: "2026-01-01",
            findings: &findings,
        };
        layout::record::plan(&mut plan, &graph, &policy, &verdict, input).unwrap();
        assert_eq!(plan.writes.len(), 1);
        let files = k8s_advisor::generate::generate(&ws);
        assert_eq!(files.len(), 200_000 + 4);
    });
}

#[test]
fn a_chain_of_100000_namespaces_does_not_overflow_the_stack() {
    on_small_stack(|| {
        let ws = load_text(&chain(100_000, true));
        let policy = Policy::load(None).unwrap();
        let graph = ServiceGraph::build(&ws);
        assert!(graph.namespace_cycles().is_empty());
        let findings = graph.findings(&policy.graph);
        assert!(
            findings
                .iter()
                .any(|f| f.code == FindingCode::CrossNamespaceCalls)
        );
        assert_eq!(graph.longest_chain().len(), 100_000);
        let report = k8s_advisor::check::check(&graph, &Guardrails::load(None).unwrap());
        assert!(
            !report
                .findings
                .iter()
                .any(|f| f.rule.as_str() == "namespace-cycle")
        );
    });
}
