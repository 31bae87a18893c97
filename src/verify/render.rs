//! Render stage of `verify`: connectivity and findings as text, JSON and SARIF. Pure functions
//! returning strings; nothing is printed here. Names read from manifests are escaped in text
//! output, so control characters cannot drive a terminal.

use std::fmt::Write;
use std::path::Path;

use console::Style;
use serde_json::{Value, json};

use crate::severity::Severity;
use crate::verify::compare::{Finding, Kind};
use crate::verify::engine::{Analysis, Direction};
use crate::verify::sets::{PROTOCOLS, PortSet};

/// Text with every control character escaped (`\n`, `\u{1b}`, ...).
pub fn clean(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn ranges_json(ports: &PortSet, protocol: crate::model::Protocol) -> Value {
    Value::Array(
        ports
            .port_ranges(protocol)
            .into_iter()
            .map(|(lo, hi)| json!([lo, hi]))
            .collect(),
    )
}

/// The connectivity as the JSON contract of `verify --connectivity --format json`.
pub fn connectivity_json(analysis: &Analysis<'_>) -> String {
    let m = analysis.manifests();
    let ids: Vec<String> = m.workloads.iter().map(|w| w.id()).collect();
    let mut workloads = ids.clone();
    workloads.sort();
    let mut connections: Vec<(String, String, &str, Value)> = Vec::new();
    for (from, to, ports) in analysis.connections() {
        for protocol in PROTOCOLS {
            if ports.ranges(protocol).is_empty() {
                continue;
            }
            connections.push((
                ids[from].clone(),
                ids[to].clone(),
                protocol.as_str(),
                ranges_json(ports, protocol),
            ));
        }
    }
    connections.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    let mut external: Vec<(String, &str, &str, Value, Value)> = Vec::new();
    for (w, id) in ids.iter().enumerate() {
        for direction in [Direction::Ingress, Direction::Egress] {
            for (protocol, ports, addrs) in analysis.external(w, direction) {
                let cidrs: Vec<String> = addrs.cidrs().iter().map(ToString::to_string).collect();
                external.push((
                    id.clone(),
                    direction.as_str(),
                    protocol.as_str(),
                    ranges_json(&ports, protocol),
                    json!(cidrs),
                ));
            }
        }
    }
    external
        .sort_by(|a, b| (&a.0, a.1, a.2, a.3.to_string()).cmp(&(&b.0, b.1, b.2, b.3.to_string())));
    let value = json!({
        "workloads": workloads,
        "connections": connections.into_iter().map(|(from, to, protocol, ports)| json!({
            "from": from, "to": to, "protocol": protocol, "ports": ports,
        })).collect::<Vec<_>>(),
        "external": external.into_iter().map(|(workload, direction, protocol, ports, cidrs)| json!({
            "workload": workload, "direction": direction, "cidrs": cidrs,
            "protocol": protocol, "ports": ports,
        })).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// The connectivity for people: one line per pair, then traffic with outside addresses.
pub fn connectivity_text(analysis: &Analysis<'_>) -> String {
    let m = analysis.manifests();
    let ids: Vec<String> = m.workloads.iter().map(|w| clean(&w.id())).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} workloads, {} NetworkPolicies",
        m.workloads.len(),
        m.policies.len()
    );
    let mut lines: Vec<String> = analysis
        .connections()
        .into_iter()
        .map(|(from, to, ports)| format!("  {} -> {} : {ports}", ids[from], ids[to]))
        .collect();
    lines.sort();
    let _ = writeln!(out, "\nBetween workloads ({}):", lines.len());
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "\nWith addresses outside the cluster:");
    let mut order: Vec<usize> = (0..m.workloads.len()).collect();
    order.sort_by(|a, b| ids[*a].cmp(&ids[*b]));
    for w in order {
        for direction in [Direction::Ingress, Direction::Egress] {
            // One line per address set, every protocol's ports together.
            let mut merged: std::collections::BTreeMap<_, PortSet> =
                std::collections::BTreeMap::new();
            for (_, ports, addrs) in analysis.external(w, direction) {
                merged.entry(addrs).or_default().union_with(&ports);
            }
            for (addrs, ports) in merged {
                let cidrs: Vec<String> = addrs.cidrs().iter().map(ToString::to_string).collect();
                let arrow = match direction {
                    Direction::Ingress => "<-",
                    Direction::Egress => "->",
                };
                let _ = writeln!(out, "  {} {arrow} {} : {ports}", ids[w], cidrs.join(", "));
            }
        }
    }
    out
}

fn ports_json(ports: &PortSet) -> Value {
    Value::Array(
        PROTOCOLS
            .into_iter()
            .filter(|p| !ports.ranges(*p).is_empty())
            .map(|p| json!({ "protocol": p.as_str(), "ports": ranges_json(ports, p) }))
            .collect(),
    )
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "code": f.kind.code(),
        "severity": f.severity(),
        "namespace": f.namespace,
        "workloads": f.workloads,
        "ports": ports_json(&f.ports),
        "cidrs": f.cidrs,
        "policies": f.policies.iter().map(|p| json!({
            "policy": p.policy,
            "direction": p.rule.map(|(d, _)| d.as_str()),
            "rule": p.rule.map(|(_, n)| n),
            "file": p.file.display().to_string(),
            "line": p.line,
        })).collect::<Vec<_>>(),
        "message": f.message,
        "file": f.file.display().to_string(),
        "line": f.line,
    })
}

fn count(findings: &[Finding], severity: Severity) -> usize {
    findings.iter().filter(|f| f.severity() == severity).count()
}

/// The findings as JSON: `{"findings": [...], "errors": n, "warnings": n}`.
pub fn findings_json(findings: &[Finding]) -> String {
    let value = json!({
        "findings": findings.iter().map(finding_json).collect::<Vec<_>>(),
        "errors": count(findings, Severity::Error),
        "warnings": count(findings, Severity::Warning),
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// The findings for people, grouped by namespace, then a summary line.
pub fn findings_text(findings: &[Finding], color: bool) -> String {
    let paint = |style: Style, s: &str| style.force_styling(color).apply_to(s).to_string();
    let mut out = String::new();
    let mut current: Option<&str> = None;
    for f in findings {
        if current != Some(f.namespace.as_str()) {
            if current.is_some() {
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "{}",
                paint(
                    Style::new().bold(),
                    &format!("namespace {}", clean(&f.namespace))
                )
            );
            current = Some(&f.namespace);
        }
        let style = match f.severity() {
            Severity::Error => Style::new().red().bold(),
            Severity::Warning => Style::new().yellow().bold(),
            Severity::Info => Style::new().cyan().bold(),
        };
        let _ = writeln!(
            out,
            "  {} [{}] {}",
            paint(style, f.severity().as_str()),
            f.kind.code(),
            clean(&f.message)
        );
        let _ = writeln!(
            out,
            "      at {}:{}",
            clean(&f.file.display().to_string()),
            f.line
        );
        for p in &f.policies {
            let rule = p
                .rule
                .map_or_else(String::new, |(d, n)| format!(" {} rule {n}", d.as_str()));
            let _ = writeln!(
                out,
                "      policy {}{rule} ({}:{})",
                clean(&p.policy),
                clean(&p.file.display().to_string()),
                p.line
            );
        }
    }
    if !findings.is_empty() {
        out.push('\n');
    }
    let (errors, warnings) = (
        count(findings, Severity::Error),
        count(findings, Severity::Warning),
    );
    if findings.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint(
                Style::new().green().bold(),
                "No findings: the manifests allow exactly what the workspace declares."
            )
        );
    } else {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let _ = writeln!(
            out,
            "{}, {}.",
            plural(errors, "error"),
            plural(warnings, "warning")
        );
    }
    out
}

/// The findings as a SARIF 2.1.0 log; `uri` maps a file to its artifact URI.
pub fn findings_sarif(findings: &[Finding], uri: &dyn Fn(&Path) -> String) -> String {
    let level = |s: Severity| match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    let rules: Vec<Value> = Kind::ALL
        .iter()
        .map(|k| {
            json!({
                "id": k.code(),
                "shortDescription": { "text": k.description() },
                "defaultConfiguration": { "level": level(k.severity()) },
                "properties": { "tags": ["kubernetes", "network-policy"] },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let target = uri(&f.file);
            let mut location = json!({ "uri": target });
            if !target.contains(':')
                && let Some(map) = location.as_object_mut()
            {
                map.insert("uriBaseId".into(), json!("%SRCROOT%"));
            }
            json!({
                "ruleId": f.kind.code(),
                "ruleIndex": Kind::ALL.iter().position(|k| *k == f.kind).unwrap_or(0),
                "level": level(f.severity()),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": location,
                        "region": { "startLine": f.line.max(1) },
                    },
                }],
            })
        })
        .collect();
    let value = json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "k8s-advisor",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
