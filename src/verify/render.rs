//! Render stage of `verify`: connectivity and findings as text, JSON and SARIF. Pure functions
//! returning strings; nothing is printed here. Names read from manifests are escaped in text
//! output, so control characters cannot drive a terminal.

use std::fmt::Write;
use std::path::Path;

use console::Style;
use serde::Serialize;

use crate::report::sarif;
use crate::severity::Severity;
use crate::text::clean;
use crate::verify::compare::{Finding, Kind};
use crate::verify::engine::{Analysis, Direction};
use crate::verify::manifest::Manifests;
use crate::verify::sets::{PROTOCOLS, PortSet};

/// One pair of workloads in the connectivity contract; fields in the contract's order.
#[derive(Serialize)]
struct ConnectionJson {
    from: String,
    to: String,
    protocol: &'static str,
    ports: Vec<(u16, u16)>,
}

/// Traffic with outside addresses in the connectivity contract; fields in the contract's order.
#[derive(Serialize)]
struct ExternalJson {
    workload: String,
    direction: &'static str,
    cidrs: Vec<String>,
    protocol: &'static str,
    ports: Vec<(u16, u16)>,
}

/// The whole connectivity contract. Typed structs rather than `json!`, whose maps sort their
/// keys: the contract promises this key order to the tools that read it.
#[derive(Serialize)]
struct ConnectivityJson {
    workloads: Vec<String>,
    connections: Vec<ConnectionJson>,
    external: Vec<ExternalJson>,
}

/// Pretty JSON with a final newline.
fn pretty<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// The connectivity as the JSON contract of `verify --connectivity --format json`.
pub fn connectivity_json(analysis: &Analysis<'_>) -> String {
    let m = analysis.manifests();
    let ids: Vec<String> = m.workloads.iter().map(|w| w.id()).collect();
    let mut workloads = ids.clone();
    workloads.sort();
    let mut connections = Vec::new();
    for (from, to, ports) in analysis.connections() {
        for protocol in PROTOCOLS {
            let ranges = ports.port_ranges(protocol);
            if ranges.is_empty() {
                continue;
            }
            connections.push(ConnectionJson {
                from: ids[from].clone(),
                to: ids[to].clone(),
                protocol: protocol.as_str(),
                ports: ranges,
            });
        }
    }
    connections.sort_by(|a, b| (&a.from, &a.to, a.protocol).cmp(&(&b.from, &b.to, b.protocol)));
    let mut external = Vec::new();
    for (w, id) in ids.iter().enumerate() {
        for direction in [Direction::Ingress, Direction::Egress] {
            for (protocol, ports, addrs) in analysis.external(w, direction) {
                external.push(ExternalJson {
                    workload: id.clone(),
                    direction: direction.as_str(),
                    cidrs: addrs.cidrs().iter().map(ToString::to_string).collect(),
                    protocol: protocol.as_str(),
                    ports: ports.port_ranges(protocol),
                });
            }
        }
    }
    // Stable: entries equal on every key keep the engine's order.
    external.sort_by(|a, b| {
        (&a.workload, a.direction, a.protocol, &a.ports).cmp(&(
            &b.workload,
            b.direction,
            b.protocol,
            &b.ports,
        ))
    });
    pretty(&ConnectivityJson {
        workloads,
        connections,
        external,
    })
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
    let skipped = skipped_lines(m);
    if !skipped.is_empty() {
        let _ = writeln!(
            out,
            "\nNot read (each may allow or deny more than shown above, or run pods not shown):"
        );
        out.push_str(&skipped);
    }
    out
}

/// One line for each object not read, with the reason; empty when none.
pub fn skipped_lines(m: &Manifests) -> String {
    let mut out = String::new();
    for u in &m.skipped {
        let name = match (u.kind.is_empty(), u.id().is_empty()) {
            (true, _) => "a document".to_string(),
            (false, true) => clean(&u.kind),
            (false, false) => format!("{} {}", clean(&u.kind), clean(&u.id())),
        };
        let _ = writeln!(
            out,
            "  {name} ({}:{}): {}",
            clean(&u.origin.file.display().to_string()),
            u.origin.line,
            u.why()
        );
    }
    out
}

/// The ports of one protocol named by a finding.
#[derive(Serialize)]
struct PortsJson {
    protocol: &'static str,
    ports: Vec<(u16, u16)>,
}

/// A rule responsible for a finding.
#[derive(Serialize)]
struct ResponsibleJson<'a> {
    policy: &'a str,
    direction: Option<&'static str>,
    rule: Option<usize>,
    file: String,
    line: usize,
}

/// One finding, fields in the order docs/guide/verify.md documents.
#[derive(Serialize)]
struct FindingJson<'a> {
    code: &'static str,
    severity: Severity,
    namespace: &'a str,
    workloads: &'a [String],
    ports: Vec<PortsJson>,
    cidrs: &'a [String],
    policies: Vec<ResponsibleJson<'a>>,
    message: &'a str,
    file: String,
    line: usize,
}

/// The findings report: the list, then the counts.
#[derive(Serialize)]
struct FindingsJson<'a> {
    findings: Vec<FindingJson<'a>>,
    errors: usize,
    warnings: usize,
}

fn finding_json(f: &Finding) -> FindingJson<'_> {
    FindingJson {
        code: f.kind.code(),
        severity: f.severity(),
        namespace: &f.namespace,
        workloads: &f.workloads,
        ports: PROTOCOLS
            .into_iter()
            .map(|protocol| PortsJson {
                protocol: protocol.as_str(),
                ports: f.ports.port_ranges(protocol),
            })
            .filter(|p| !p.ports.is_empty())
            .collect(),
        cidrs: &f.cidrs,
        policies: f
            .policies
            .iter()
            .map(|p| ResponsibleJson {
                policy: &p.policy,
                direction: p.rule.map(|(d, _)| d.as_str()),
                rule: p.rule.map(|(_, n)| n),
                file: p.file.display().to_string(),
                line: p.line,
            })
            .collect(),
        message: &f.message,
        file: f.file.display().to_string(),
        line: f.line,
    }
}

fn count(findings: &[Finding], severity: Severity) -> usize {
    findings.iter().filter(|f| f.severity() == severity).count()
}

/// The findings as JSON: `{"findings": [...], "errors": n, "warnings": n}`.
pub fn findings_json(findings: &[Finding]) -> String {
    pretty(&FindingsJson {
        findings: findings.iter().map(finding_json).collect(),
        errors: count(findings, Severity::Error),
        warnings: count(findings, Severity::Warning),
    })
}

/// The findings for people, grouped by namespace, then a summary line.
pub fn findings_text(findings: &[Finding], color: bool) -> String {
    let paint = |style: Style, s: &str| style.force_styling(color).apply_to(s).to_string();
    let mut out = String::new();
    if !findings.is_empty() {
        out.push_str(&summary(findings));
        out.push('\n');
    }
    let mut namespaces: Vec<&str> = findings.iter().map(|f| f.namespace.as_str()).collect();
    namespaces.dedup();
    for (i, namespace) in namespaces.into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let heading = if namespace.is_empty() {
            "cluster-wide".to_string()
        } else {
            format!("namespace {}", clean(namespace))
        };
        let _ = writeln!(out, "{}", paint(Style::new().bold(), &heading));
        let here: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.namespace == namespace)
            .collect();
        for group in groups(&here) {
            let f = group[0];
            let style = match f.severity() {
                Severity::Error => Style::new().red().bold(),
                Severity::Warning => Style::new().yellow().bold(),
                Severity::Info => Style::new().cyan().bold(),
            };
            let message = if group.len() == 1 {
                f.message.clone()
            } else {
                let names: Vec<&str> = group.iter().map(|g| g.workloads[0].as_str()).collect();
                let who = format!(
                    "{} workloads ({})",
                    group.len(),
                    crate::text::list(names, crate::text::SHOWN)
                );
                f.message.replace(&f.workloads[0], &who)
            };
            let _ = writeln!(
                out,
                "  {} [{}] {}",
                paint(style, f.severity().as_str()),
                f.kind.code(),
                clean(&message)
            );
            let more = if group.len() > 1 {
                format!(" and {} more places", group.len() - 1)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "      at {}:{}{more}",
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
        let _ = writeln!(
            out,
            "{}, {}.",
            crate::text::count(errors, "error", "errors"),
            crate::text::count(warnings, "warning", "warnings")
        );
    }
    out
}

/// Findings that say the same of different workloads, to be shown as one entry: same kind,
/// ports, addresses and policies, and the same message once the first workload is taken out
/// of it. In first-seen order.
fn groups<'f>(findings: &[&'f Finding]) -> Vec<Vec<&'f Finding>> {
    let mut out: Vec<Vec<&Finding>> = Vec::new();
    let mut index: std::collections::HashMap<(Kind, String, String, String, String), usize> =
        std::collections::HashMap::new();
    for f in findings {
        let template = match f.workloads.first() {
            Some(w) => f.message.replace(w.as_str(), "\u{0}"),
            None => f.message.clone(),
        };
        let key = (
            f.kind,
            template,
            f.ports.to_string(),
            f.cidrs.join(","),
            format!(
                "{:?}",
                f.policies
                    .iter()
                    .map(|p| (&p.policy, p.rule))
                    .collect::<Vec<_>>()
            ),
        );
        // Only findings about a workload are grouped.
        if f.workloads.is_empty() {
            out.push(vec![f]);
            continue;
        }
        match index.get(&key) {
            Some(&i) => out[i].push(f),
            None => {
                index.insert(key, out.len());
                out.push(vec![f]);
            }
        }
    }
    out
}

/// The first lines of the report: counts by kind and by namespace pair.
fn summary(findings: &[Finding]) -> String {
    let mut by_kind: std::collections::BTreeMap<Kind, usize> = std::collections::BTreeMap::new();
    let mut by_pair: std::collections::BTreeMap<(String, String), usize> =
        std::collections::BTreeMap::new();
    for f in findings {
        *by_kind.entry(f.kind).or_default() += 1;
        let ns = |w: &str| {
            w.split_once('/')
                .map_or(String::new(), |(n, _)| n.to_string())
        };
        let pair = match f.workloads.as_slice() {
            [from, to] => (ns(from), ns(to)),
            [one] if !f.cidrs.is_empty() => (ns(one), "outside".to_string()),
            _ => (f.namespace.clone(), String::new()),
        };
        *by_pair.entry(pair).or_default() += 1;
    }
    let kinds: Vec<String> = by_kind
        .iter()
        .map(|(k, n)| format!("{n} {}", k.code()))
        .collect();
    let mut pairs: Vec<(&(String, String), &usize)> = by_pair.iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let pairs: Vec<String> = pairs
        .iter()
        .map(|((from, to), n)| {
            let from = if from.is_empty() {
                "cluster-wide"
            } else {
                from.as_str()
            };
            if to.is_empty() {
                format!("{} in {}", n, clean(from))
            } else {
                format!("{} {} -> {}", n, clean(from), clean(to))
            }
        })
        .collect();
    format!(
        "Summary: {} findings: {}.\nWhere: {}.\n",
        findings.len(),
        kinds.join(", "),
        crate::text::list(pairs, 8)
    )
}

/// The findings as a SARIF 2.1.0 log; `uri` maps a file to its artifact URI.
pub fn findings_sarif(findings: &[Finding], uri: &dyn Fn(&Path) -> String) -> String {
    let rules: Vec<sarif::Rule<'_>> = Kind::ALL
        .iter()
        .map(|k| {
            sarif::Rule::new(
                k.code(),
                k.description(),
                k.severity(),
                &["kubernetes", "network-policy"],
            )
        })
        .collect();
    let results: Vec<sarif::Finding<'_>> = findings
        .iter()
        .map(|f| sarif::Finding {
            rule: f.kind.code(),
            severity: f.severity(),
            message: &f.message,
            uri: uri(&f.file),
            region: sarif::Region::line(f.line),
        })
        .collect();
    sarif::log(&rules, &results)
}
