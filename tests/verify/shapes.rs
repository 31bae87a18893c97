//! Two shapes whose pairs grow with the square of their size, for the tests and the
//! benchmark (`benches/verify.rs` includes this file): the engine must not.

use std::fmt::Write;

/// `n` Deployments in namespaces of ten (`ns0`, `ns1` ...), of tiers front, back and db in
/// turn, each selected by a policy of its own that admits the two other tiers from every
/// namespace on 8080.
pub fn tiers(n: usize) -> String {
    let names = ["front", "back", "db"];
    let mut out = String::new();
    for i in 0..n {
        let (ns, tier) = (i / 10, names[i % 3]);
        let others: Vec<&str> = names.iter().copied().filter(|&t| t != tier).collect();
        let _ = write!(
            out,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d{i}, namespace: ns{ns}}}\nspec:\n  selector: {{matchLabels: {{app: d{i}}}}}\n  template:\n    metadata: {{labels: {{app: d{i}, tier: {tier}}}}}\n    spec: {{containers: [{{name: c, image: i, ports: [{{containerPort: 8080}}]}}]}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: ns{ns}}}\nspec:\n  podSelector: {{matchLabels: {{app: d{i}}}}}\n  ingress:\n  - from: [{{namespaceSelector: {{}}, podSelector: {{matchExpressions: [{{key: tier, operator: In, values: [{}]}}]}}}}]\n    ports: [{{port: 8080}}]\n---\n",
            others.join(", ")
        );
    }
    out
}

/// One Deployment (`x/web`) selected by `n` policies; policy `i` admits `0.0.0.0/0` minus
/// `10.a.b.0/24` (`a`, `b` the high and low bytes of `i`) on port `1000 + i`.
pub fn holes(n: usize) -> String {
    let mut out = String::from(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: x}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: i}]}\n",
    );
    for i in 0..n {
        let (a, b, port) = ((i >> 8) & 255, i & 255, 1000 + i % 60_000);
        let _ = write!(
            out,
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: x}}\nspec:\n  podSelector: {{matchLabels: {{app: web}}}}\n  ingress:\n  - from: [{{ipBlock: {{cidr: 0.0.0.0/0, except: [10.{a}.{b}.0/24]}}}}]\n    ports: [{{port: {port}}}]\n"
        );
    }
    out
}
