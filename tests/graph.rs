//! `graph`: snapshots of every format on the examples, the JSON contract, `--namespace`,
//! properties of the review on random graphs (cycles, longest chain) checked against brute
//! force, and the external oracles: graphviz `dot` and mermaid's own parser must accept every
//! diagram, including those of random models with hostile-but-valid names.

use std::collections::BTreeSet;
use std::path::Path;

use k8s_advisor::diagnostic::Source;
use k8s_advisor::graph::{FindingCode, ServiceGraph};
use k8s_advisor::model::{ServiceId, Workspace};
use k8s_advisor::policy::Policy;
use k8s_advisor::report;
use proptest::prelude::*;
use serde_json::Value;

use crate::support::{bin, example, success, tool};

fn run_graph(name: &str, args: &[&str]) -> String {
    let output = bin()
        .args(["graph", "-w"])
        .arg(example(name))
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn every_format_of_every_example() {
    for name in ["picturesocial", "family-blog"] {
        for format in ["text", "mermaid", "dot", "json"] {
            let out = run_graph(name, &["--format", format]);
            insta::assert_snapshot!(format!("{name}-{format}"), out);
        }
    }
}

#[test]
fn focus_on_one_namespace() {
    let out = run_graph(
        "picturesocial",
        &["--format", "mermaid", "--namespace", "users"],
    );
    insta::assert_snapshot!("picturesocial-users-mermaid", out);
    let json: Value = serde_json::from_str(&run_graph(
        "picturesocial",
        &["--format", "json", "--namespace", "users"],
    ))
    .unwrap();
    let nodes: Vec<&str> = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        nodes,
        [
            "backoffice/moderation",
            "gateway/api-gateway",
            "pictures/pictures-api",
            "social/comments-api",
            "social/feed-api",
            "users/auth",
            "users/profiles",
            "users/users-api"
        ]
    );
    for edge in json["edges"].as_array().unwrap() {
        let touches = [&edge["from"], &edge["to"]]
            .iter()
            .any(|e| e.as_str().unwrap().starts_with("users/"));
        assert!(touches, "{edge} does not touch the focus");
    }
    for finding in json["findings"].as_array().unwrap() {
        let services = finding["services"].as_array().unwrap();
        assert!(
            services
                .iter()
                .any(|s| s.as_str().unwrap().starts_with("users/")),
            "{finding}"
        );
    }
}

#[test]
fn unknown_namespace_is_a_usage_error_with_a_hint() {
    let output = bin()
        .args(["graph", "--namespace", "user", "-w"])
        .arg(example("picturesocial"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("namespace `user` is not in the workspace"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `users`?"), "{stderr}");
}

#[test]
fn json_follows_the_contract() {
    let json: Value =
        serde_json::from_str(&run_graph("picturesocial", &["--format", "json"])).unwrap();
    let nodes = json["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 12);
    for node in nodes {
        let id = node["id"].as_str().unwrap();
        assert_eq!(
            id,
            format!(
                "{}/{}",
                node["namespace"].as_str().unwrap(),
                node["name"].as_str().unwrap()
            )
        );
        assert!(node["team"].is_string());
    }
    assert_eq!(json["edges"].as_array().unwrap().len(), 19);
    for finding in json["findings"].as_array().unwrap() {
        let code = finding["code"].as_str().unwrap();
        assert!(
            FindingCode::ALL.iter().any(|c| c.as_str() == code),
            "{code}"
        );
        assert!(["error", "warning", "info"].contains(&finding["severity"].as_str().unwrap()));
        assert!(!finding["services"].as_array().unwrap().is_empty());
        assert!(!finding["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(
        json["longest-chain"],
        serde_json::json!([
            "gateway/api-gateway",
            "social/feed-api",
            "pictures/pictures-api",
            "users/users-api",
            "users/profiles"
        ])
    );
}

#[test]
fn thresholds_come_from_the_policy_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("graph.toml"),
        "high-fan-in = 3\nhigh-fan-out = 3\nlong-chain = 2\n",
    )
    .unwrap();
    let output = bin()
        .args(["graph", "--format", "json", "--policies"])
        .arg(dir.path())
        .arg("-w")
        .arg(example("picturesocial"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let with = |code: &str| -> Vec<String> {
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == code)
            .map(|f| f["services"][0].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        with("high-fan-in"),
        ["pictures/pictures-api", "users/profiles", "users/users-api"]
    );
    assert_eq!(
        with("high-fan-out"),
        [
            "backoffice/moderation",
            "gateway/api-gateway",
            "pictures/pictures-api",
            "social/feed-api"
        ]
    );

    std::fs::write(
        dir.path().join("graph.toml"),
        "high-fan-in = 0\nhigh-fan-out = 3\nlong-chain = 2\n",
    )
    .unwrap();
    let output = bin()
        .args(["graph", "--policies"])
        .arg(dir.path())
        .arg("-w")
        .arg(example("picturesocial"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("high-fan-in = 0 would report every service"),
        "{stderr}"
    );
}

#[test]
fn finding_codes_are_unique_and_sort_by_name() {
    let codes: Vec<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
    let unique: BTreeSet<&str> = codes.iter().copied().collect();
    assert_eq!(unique.len(), codes.len());
    // Findings are sorted by code: the enum's order must be the order of the names.
    assert!(codes.is_sorted(), "{codes:?}");
}

// ---- random models -------------------------------------------------------------------------

/// Service names that are keywords or awkward in Mermaid or DOT, yet valid DNS-1035 labels.
const HOSTILE_SERVICES: &[&str] = &[
    "end",
    "graph",
    "subgraph",
    "a-b-c",
    "flowchart",
    "digraph",
    "node",
    "edge",
    "strict",
    "class",
    "classdef",
    "style",
    "click",
    "direction",
    "default",
    "x123456789-123456789-123456789-123456789-123456789-123456789-ab",
];

/// Namespace names likewise (DNS-1123 labels, not reserved); some start with a digit.
const HOSTILE_NAMESPACES: &[&str] = &[
    "end",
    "graph",
    "subgraph",
    "a-b-c",
    "0day",
    "cluster",
    "n0",
    "z123456789-123456789-123456789-123456789-123456789-123456789-ab",
];

/// A random model: each service's namespace (index into [`HOSTILE_NAMESPACES`]) and its calls.
/// With `mixed_kinds`, calls are synchronous, asynchronous or telemetry by [`Spec::kind`].
#[derive(Debug, Clone)]
struct Spec {
    namespaces: Vec<usize>,
    calls: Vec<(usize, usize)>,
    mixed_kinds: bool,
}

impl Spec {
    /// Service ids, unique within each namespace: the first use of a name in a namespace is the
    /// bare hostile name.
    fn ids(&self) -> Vec<ServiceId> {
        let mut used = BTreeSet::new();
        self.namespaces
            .iter()
            .enumerate()
            .map(|(i, &ns)| {
                let ns = HOSTILE_NAMESPACES[ns % HOSTILE_NAMESPACES.len()];
                let base = HOSTILE_SERVICES[i % HOSTILE_SERVICES.len()];
                let name = if used.insert((ns, base)) {
                    base.to_string()
                } else {
                    format!("{}-{i}", &base[..base.len().min(50)])
                };
                ServiceId::new(ns, name)
            })
            .collect()
    }

    /// The kind of the call from `a` to `b`.
    fn kind(&self, a: usize, b: usize) -> &'static str {
        if !self.mixed_kinds {
            return "sync";
        }
        ["sync", "async", "telemetry"][(a * 7 + b * 3) % 3]
    }

    /// The same model with only its synchronous calls, all of them bare references.
    fn sync_only(&self) -> Spec {
        Spec {
            namespaces: self.namespaces.clone(),
            calls: (self.calls.iter().copied())
                .filter(|&(a, b)| self.kind(a, b) == "sync")
                .collect(),
            mixed_kinds: false,
        }
    }

    fn toml(&self) -> String {
        let ids = self.ids();
        let mut text = String::from("version = 1\n[project]\nname = \"random\"\n");
        for (i, id) in ids.iter().enumerate() {
            let mut callees: Vec<String> = self
                .calls
                .iter()
                .filter(|(from, _)| *from == i)
                .map(|&(_, to)| match self.kind(i, to) {
                    "sync" => format!("\"{}\"", ids[to]),
                    kind => format!("{{ to = \"{}\", kind = \"{kind}\" }}", ids[to]),
                })
                .collect();
            callees.sort();
            callees.dedup();
            text.push_str(&format!(
                "[[services]]\nname = \"{}\"\nnamespace = \"{}\"\nport = 8080\ncalls = [{}]\n",
                id.name,
                id.namespace,
                callees.join(", ")
            ));
        }
        text
    }

    fn workspace(&self) -> Workspace {
        let policy = Policy::load(None).unwrap();
        let source = Source::new("random.toml", self.toml());
        k8s_advisor::workspace::parse(&source, &policy.criterion_ids())
            .unwrap_or_else(|e| panic!("{e:?}\n{}", self.toml()))
    }

    /// Successor sets over spec indices.
    fn adjacency(&self) -> Vec<BTreeSet<usize>> {
        let mut adj = vec![BTreeSet::new(); self.namespaces.len()];
        for &(a, b) in &self.calls {
            adj[a].insert(b);
        }
        adj
    }

    /// `reach[a][b]`: a path of at least one call leads from a to b.
    fn reach(&self) -> Vec<Vec<bool>> {
        let n = self.namespaces.len();
        let adj = self.adjacency();
        let mut reach = vec![vec![false; n]; n];
        for (a, row) in reach.iter_mut().enumerate() {
            let mut stack: Vec<usize> = adj[a].iter().copied().collect();
            while let Some(x) = stack.pop() {
                if !row[x] {
                    row[x] = true;
                    stack.extend(adj[x].iter().copied());
                }
            }
        }
        reach
    }
}

/// Random DAGs: calls only go from a lower to a higher position of a random order.
fn dag() -> impl Strategy<Value = Spec> {
    (2usize..=8).prop_flat_map(|n| {
        (
            proptest::collection::vec(0usize..4, n),
            proptest::collection::vec(proptest::bool::weighted(0.35), n * n),
            Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
        )
            .prop_map(move |(namespaces, edges, order)| {
                let mut calls = Vec::new();
                for p in 0..n {
                    for q in p + 1..n {
                        if edges[p * n + q] {
                            calls.push((order[p], order[q]));
                        }
                    }
                }
                Spec {
                    namespaces,
                    calls,
                    mixed_kinds: false,
                }
            })
    })
}

/// Random graphs with cycles and self-calls allowed.
fn any_graph() -> impl Strategy<Value = Spec> {
    (1usize..=7).prop_flat_map(|n| {
        (
            proptest::collection::vec(0usize..4, n),
            proptest::collection::vec(proptest::bool::weighted(0.25), n * n),
        )
            .prop_map(move |(namespaces, edges)| {
                let calls = (0..n * n)
                    .filter(|&k| edges[k])
                    .map(|k| (k / n, k % n))
                    .collect();
                Spec {
                    namespaces,
                    calls,
                    mixed_kinds: false,
                }
            })
    })
}

fn cycle_findings(ws: &Workspace) -> Vec<Vec<ServiceId>> {
    let policy = Policy::load(None).unwrap();
    ServiceGraph::build(ws)
        .findings(&policy.graph)
        .into_iter()
        .filter(|f| f.code == FindingCode::CallCycle)
        .map(|f| f.services)
        .collect()
}

/// The chain as spec indices, checked to be a real path with no service twice.
fn chain_as_path(spec: &Spec, ws: &Workspace) -> Vec<usize> {
    let ids = spec.ids();
    let graph = ServiceGraph::build(ws);
    let chain: Vec<usize> = graph
        .longest_chain()
        .iter()
        .map(|s| ids.iter().position(|id| *id == s.id).unwrap())
        .collect();
    let adj = spec.adjacency();
    for w in chain.windows(2) {
        assert!(adj[w[0]].contains(&w[1]), "{w:?} is not a call");
    }
    let distinct: BTreeSet<usize> = chain.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        chain.len(),
        "a service repeats in {chain:?}"
    );
    chain
}

/// Longest simple path in number of services, by trying every path.
fn brute_longest(adj: &[BTreeSet<usize>]) -> usize {
    fn dfs(at: usize, adj: &[BTreeSet<usize>], seen: &mut Vec<bool>) -> usize {
        seen[at] = true;
        let mut best = 1;
        for &next in &adj[at] {
            if !seen[next] {
                best = best.max(1 + dfs(next, adj, seen));
            }
        }
        seen[at] = false;
        best
    }
    (0..adj.len())
        .map(|s| dfs(s, adj, &mut vec![false; adj.len()]))
        .max()
        .unwrap_or(0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_graph_without_back_edges_has_no_cycle(spec in dag()) {
        let ws = spec.workspace();
        prop_assert!(cycle_findings(&ws).is_empty());
        prop_assert!(ServiceGraph::build(&ws).call_cycles().is_empty());
    }

    #[test]
    fn one_back_edge_makes_exactly_one_cycle_of_exactly_its_members(
        spec in dag(),
        pick in (0usize..64, 0usize..64),
    ) {
        let n = spec.namespaces.len();
        let reach = spec.reach();
        // A pair (a, b) where b is reachable from a (or a == b, a self-call); the back edge
        // b -> a then closes a cycle through every service on a path from a to b.
        let (a, b) = (pick.0 % n, pick.1 % n);
        let (a, b) = if a == b || reach[a][b] { (a, b) } else if reach[b][a] { (b, a) } else { (a, a) };
        let mut with_back = spec.clone();
        with_back.calls.push((b, a));
        let ids = spec.ids();
        let expected: Vec<ServiceId> = {
            let mut members: Vec<ServiceId> = (0..n)
                .filter(|&x| x == a || x == b || (reach[a][x] && reach[x][b]))
                .map(|x| ids[x].clone())
                .collect();
            members.sort();
            members
        };
        let found = cycle_findings(&with_back.workspace());
        prop_assert_eq!(found, vec![expected]);
    }

    #[test]
    fn the_longest_chain_of_a_dag_is_a_real_path_and_none_is_longer(spec in dag()) {
        let ws = spec.workspace();
        let chain = chain_as_path(&spec, &ws);
        let longest = brute_longest(&spec.adjacency());
        if longest < 2 {
            prop_assert!(chain.is_empty());
        } else {
            prop_assert_eq!(chain.len(), longest);
        }
    }

    #[test]
    fn with_cycles_the_chain_crosses_the_most_components(spec in any_graph()) {
        let ws = spec.workspace();
        let chain = chain_as_path(&spec, &ws);
        let n = spec.namespaces.len();
        let reach = spec.reach();
        // Components by mutual reachability; the condensation's longest path by brute force.
        let comp: Vec<usize> = (0..n)
            .map(|x| (0..n).find(|&y| y == x || (reach[x][y] && reach[y][x])).unwrap())
            .collect();
        let mut condensed = vec![BTreeSet::new(); n];
        for &(a, b) in &spec.calls {
            if comp[a] != comp[b] {
                condensed[comp[a]].insert(comp[b]);
            }
        }
        let most = brute_longest(&condensed);
        let crossed: BTreeSet<usize> = chain.iter().map(|&x| comp[x]).collect();
        let any_call = spec.calls.iter().any(|(a, b)| a != b);
        prop_assert_eq!(chain.is_empty(), !any_call);
        if any_call {
            prop_assert_eq!(crossed.len(), most);
        }
        // And the cycle findings are exactly the components of several services plus every
        // self-call.
        let ids = spec.ids();
        let mut expected: Vec<Vec<ServiceId>> = Vec::new();
        for c in (0..n).filter(|&c| comp[c] == c) {
            let mut members: Vec<ServiceId> =
                (0..n).filter(|&x| comp[x] == c).map(|x| ids[x].clone()).collect();
            members.sort();
            if members.len() > 1 {
                expected.push(members);
            }
        }
        for &(a, b) in &spec.calls {
            if a == b {
                expected.push(vec![ids[a].clone()]);
            }
        }
        expected.sort();
        let mut found = cycle_findings(&ws);
        found.sort();
        prop_assert_eq!(found, expected);
    }

    #[test]
    fn the_review_of_mixed_kinds_is_the_review_of_the_synchronous_calls(
        spec in any_graph(),
    ) {
        // Asynchronous and telemetry calls change no cycle, chain or fan-in/fan-out finding:
        // dropping them leaves those findings as they were. Coupling and isolation count
        // every call, so they are left out of the comparison.
        let policy = Policy::load(None).unwrap();
        let mixed = Spec { mixed_kinds: true, ..spec };
        let (a, b) = (mixed.workspace(), mixed.sync_only().workspace());
        let review = |ws: &Workspace| -> Vec<_> {
            ServiceGraph::build(ws)
                .findings(&policy.graph)
                .into_iter()
                .filter(|f| !matches!(
                    f.code,
                    FindingCode::CrossNamespaceCalls | FindingCode::IsolatedService
                ))
                .collect()
        };
        prop_assert_eq!(review(&a), review(&b));
        let (ga, gb) = (ServiceGraph::build(&a), ServiceGraph::build(&b));
        prop_assert_eq!(ga.call_cycles(), gb.call_cycles());
        prop_assert_eq!(ga.namespace_cycles(), gb.namespace_cycles());
        let ids = |g: &ServiceGraph| -> Vec<ServiceId> {
            g.longest_chain().iter().map(|s| s.id.clone()).collect()
        };
        prop_assert_eq!(ids(&ga), ids(&gb));
        prop_assert_eq!(ga.call_count(), mixed.calls.iter().collect::<BTreeSet<_>>().len());
    }

    #[test]
    fn findings_do_not_depend_on_file_order(spec in any_graph()) {
        let policy = Policy::load(None).unwrap();
        let ws = spec.workspace();
        let mut reversed = spec.toml().split("[[services]]").map(str::to_string).collect::<Vec<_>>();
        let head = reversed.remove(0);
        reversed.reverse();
        let text = format!("{head}[[services]]{}", reversed.join("[[services]]"));
        let other = k8s_advisor::workspace::parse(
            &Source::new("reversed.toml", text),
            &policy.criterion_ids(),
        )
        .unwrap();
        let (a, b) = (ServiceGraph::build(&ws), ServiceGraph::build(&other));
        prop_assert_eq!(a.findings(&policy.graph), b.findings(&policy.graph));
        prop_assert_eq!(report::graph::mermaid(&a, None), report::graph::mermaid(&b, None));
        prop_assert_eq!(report::graph::dot(&a, None), report::graph::dot(&b, None));
    }
}

#[test]
fn namespace_cycles_ignore_calls_inside_a_namespace() {
    // a -> b -> a across namespaces is a cycle; c calling itself (internally) is not.
    let spec = Spec {
        namespaces: vec![0, 1, 0, 2, 2],
        calls: vec![(0, 1), (1, 2), (3, 4), (4, 3)],
        mixed_kinds: false,
    };
    let ws = spec.workspace();
    let graph = ServiceGraph::build(&ws);
    assert_eq!(
        graph.namespace_cycles(),
        vec![vec!["end".to_string(), "graph".to_string()]]
    );
    let policy = Policy::load(None).unwrap();
    let findings = graph.findings(&policy.graph);
    let ns_cycles: Vec<_> = findings
        .iter()
        .filter(|f| f.code == FindingCode::NamespaceCycle)
        .collect();
    assert_eq!(ns_cycles.len(), 1);
    assert_eq!(
        ns_cycles[0]
            .services
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["end/end", "end/subgraph", "graph/graph"]
    );
}

// ---- external oracles ------------------------------------------------------------------------

/// Random models from a fixed seed, so a failure can be replayed.
fn seeded_specs(count: usize) -> Vec<Spec> {
    let mut state: u64 = 0x5eed_cafe_f00d_d00d;
    let mut next = move |bound: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % bound
    };
    (0..count)
        .map(|k| {
            let n = 1 + next(3 + k % 20);
            let namespaces = (0..n).map(|_| next(HOSTILE_NAMESPACES.len())).collect();
            let calls = (0..n * 2).map(|_| (next(n), next(n))).collect();
            Spec {
                namespaces,
                calls,
                mixed_kinds: k % 2 == 1,
            }
        })
        .collect()
}

/// Every diagram the oracles check: both examples (whole and focused on each namespace) and
/// random models, as (file stem, workspace).
fn diagram_inputs() -> Vec<(String, Workspace)> {
    let policy = Policy::load(None).unwrap();
    let mut all = Vec::new();
    for path in crate::support::examples() {
        let name = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let ws = k8s_advisor::workspace::load(&path, &policy.criterion_ids()).unwrap();
        all.push((name, ws));
    }
    for (k, spec) in seeded_specs(40).into_iter().enumerate() {
        all.push((format!("random-{k}"), spec.workspace()));
    }
    all
}

fn write_diagrams(
    dir: &Path,
    ext: &str,
    render: fn(&ServiceGraph, Option<&str>) -> String,
) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for (name, ws) in diagram_inputs() {
        let graph = ServiceGraph::build(&ws);
        let mut views: Vec<Option<&str>> = vec![None];
        views.extend(ws.namespaces.keys().map(|ns| Some(ns.as_str())));
        for (v, focus) in views.into_iter().enumerate() {
            let path = dir.join(format!("{name}-{v}.{ext}"));
            std::fs::write(&path, render(&graph, focus)).unwrap();
            files.push(path);
        }
    }
    files
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn graphviz_accepts_every_dot_output() {
    let dot = tool("dot");
    let dir = tempfile::tempdir().unwrap();
    let files = write_diagrams(dir.path(), "dot", report::graph::dot);
    assert!(files.len() > 40);
    // One process for every file (`-O` names each output after its input); dot names the file
    // in any error it reports.
    let output = std::process::Command::new(&dot)
        .args(["-Tsvg", "-O"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "dot rejected a diagram:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in &files {
        let svg = std::path::PathBuf::from(format!("{}.svg", file.display()));
        assert!(svg.is_file(), "dot drew no {}", svg.display());
    }
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn graphviz_names_a_broken_diagram() {
    // The oracle must be able to fail, and say which file, when it runs on many at once.
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.dot");
    let bad = dir.path().join("bad.dot");
    std::fs::write(&good, "digraph { a -> b }\n").unwrap();
    std::fs::write(&bad, "digraph { a -> }\n").unwrap();
    let output = std::process::Command::new(tool("dot"))
        .args(["-Tsvg", "-O"])
        .args([&good, &bad])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("bad.dot"));
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn mermaid_parses_every_mermaid_output() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_diagrams(dir.path(), "mmd", report::graph::mermaid);
    assert!(files.len() > 40);
    let output = crate::support::mermaid_parse(&files);
    assert!(
        output.status.success(),
        "mermaid rejected a diagram:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("{} diagrams parsed", files.len())),
        "{stdout}"
    );
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn the_parser_script_rejects_a_broken_diagram() {
    // The oracle must be able to fail: `end` as a bare node id breaks a flowchart.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.mmd");
    std::fs::write(&bad, "flowchart LR\n  a --> end\n").unwrap();
    let output = crate::support::mermaid_parse(&[bad]);
    assert_eq!(output.status.code(), Some(1));
}

// ---- call kinds --------------------------------------------------------------------------------

/// A shop whose services depend on a broker and a telemetry collector besides calling each
/// other: `orders` and `payments` answer each other only through Kafka, and four services
/// export traces. `kinds = false` declares every call synchronous, one call a line either way,
/// so both files have the same lines.
fn kinds_workspace(kinds: bool) -> String {
    let call = |to: &str, kind: &str| {
        if kinds {
            format!("{{ to = \"{to}\", kind = \"{kind}\" }}")
        } else {
            format!("\"{to}\"")
        }
    };
    let service = |name: &str, port: u16, calls: &[String]| {
        format!(
            "[[services]]\nname = \"{name}\"\nport = {port}\ncalls = [\n{}]\n",
            calls
                .iter()
                .map(|c| format!("  {c},\n"))
                .collect::<String>()
        )
    };
    let otel = call("otel-collector", "telemetry");
    let mut text = String::from("version = 1\n[project]\nname = \"kinds\"\n");
    text.push_str(&service(
        "frontend",
        8080,
        &["\"orders\"".into(), otel.clone()],
    ));
    text.push_str(&service(
        "orders",
        8080,
        &["\"payments\"".into(), call("kafka", "async"), otel.clone()],
    ));
    text.push_str(&service(
        "payments",
        8080,
        &[call("kafka", "async"), otel.clone()],
    ));
    text.push_str(&service("kafka", 9092, &[call("orders", "async")]));
    text.push_str(&service("shipping", 8080, &[otel]));
    text.push_str(&service("otel-collector", 4317, &[]));
    text
}

/// Writes the workspace into a new folder `dir` and returns its path.
fn write_kinds(dir: &Path, kinds: bool) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("k8s-advisor.toml");
    std::fs::write(&path, kinds_workspace(kinds)).unwrap();
    path
}

#[test]
fn only_synchronous_calls_make_cycles_chains_and_fan_in() {
    let dir = tempfile::tempdir().unwrap();
    let all_sync = write_kinds(&dir.path().join("sync"), false);
    let kinds = write_kinds(&dir.path().join("kinds"), true);

    // Declared synchronous, Kafka closes a cycle and the collector reaches the fan-in
    // threshold: the test can fail.
    let json = |ws: &Path| -> Value {
        let out = bin()
            .args(["graph", "--format", "json", "-w"])
            .arg(ws)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let codes = |v: &Value| -> BTreeSet<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    };
    // `check` reports the same cycles under its `call-cycle` rule.
    let check_rules = |ws: &Path| -> BTreeSet<String> {
        let out = bin()
            .args(["check", "--format", "json", "-w"])
            .arg(ws)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect()
    };
    let before = json(&all_sync);
    assert!(codes(&before).contains("call-cycle"), "{before}");
    assert!(codes(&before).contains("high-fan-in"), "{before}");
    assert!(check_rules(&all_sync).contains("call-cycle"));

    let after = json(&kinds);
    assert!(!codes(&after).contains("call-cycle"), "{after}");
    assert!(!codes(&after).contains("high-fan-in"), "{after}");
    assert!(!codes(&after).contains("isolated-service"), "{after}");
    assert_eq!(
        after["longest-chain"],
        serde_json::json!(["kinds/frontend", "kinds/orders", "kinds/payments"])
    );
    let kinds_of: BTreeSet<(String, String, String)> = after["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_string();
            (s("from"), s("to"), s("kind"))
        })
        .collect();
    assert!(kinds_of.contains(&("kinds/kafka".into(), "kinds/orders".into(), "async".into())));
    assert!(kinds_of.contains(&(
        "kinds/shipping".into(),
        "kinds/otel-collector".into(),
        "telemetry".into()
    )));
    assert!(kinds_of.contains(&(
        "kinds/orders".into(),
        "kinds/payments".into(),
        "sync".into()
    )));
    assert!(!check_rules(&kinds).contains("call-cycle"));

    // The text report says what the review counted.
    let text = success(bin().args(["graph", "-w"]).arg(&kinds));
    assert!(
        text.contains(
            "Of these, 3 asynchronous and 4 telemetry: cycles, the longest chain and \
             fan-in/fan-out count only the 2 synchronous calls"
        ),
        "{text}"
    );
    let text = success(bin().args(["graph", "-w"]).arg(&all_sync));
    assert!(!text.contains("Of these"), "{text}");

    // Diagrams draw the other kinds dashed, labelled with their kind.
    let mermaid = success(
        bin()
            .args(["graph", "--format", "mermaid", "-w"])
            .arg(&kinds),
    );
    assert!(mermaid.contains(" -.->|\"async\"| "), "{mermaid}");
    assert!(mermaid.contains(" -.->|\"telemetry\"| "), "{mermaid}");
    assert_eq!(mermaid.matches(" --> ").count(), 2, "{mermaid}");
    let dot = success(bin().args(["graph", "--format", "dot", "-w"]).arg(&kinds));
    assert_eq!(
        dot.matches("[style=dashed, label=\"telemetry\"]").count(),
        4,
        "{dot}"
    );
}

#[test]
fn network_policies_allow_every_kind_of_call_alike() {
    let dir = tempfile::tempdir().unwrap();
    let mut layouts = Vec::new();
    for kinds in [false, true] {
        let folder = dir.path().join(if kinds { "kinds" } else { "sync" });
        let ws = write_kinds(&folder, kinds);
        bin().args(["generate", "-w"]).arg(&ws).assert().success();
        layouts
            .push(std::fs::read_to_string(folder.join("k8s/kinds/network-policies.yaml")).unwrap());
    }
    assert!(layouts[0].contains("otel-collector"));
    assert_eq!(layouts[0], layouts[1]);
}
