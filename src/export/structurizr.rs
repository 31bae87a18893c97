//! Render stage of `export --format structurizr`: the model as a Structurizr DSL workspace (the
//! C4 model). Pure.
//!
//! The product is one software system; each business domain a group in it; each service a
//! container whose technology is its image (name and tag, without the registry). Calls are
//! relationships tagged `Synchronous`, `Asynchronous` or `Telemetry` (the last two drawn
//! dashed), with the callee's ports as their technology. Traffic from outside enters from
//! external software systems (the internet, internal networks, the gateway), and egress goes to
//! one external software system per address range. A deployment environment named after the
//! platform holds the cluster, a node per namespace and a node per workload with its replicas.
//! `!adrs` points at the decision records when their folder exists.
//!
//! Identifiers never come from user text (`s<index>`, `x<index>`, `in<index>`). Text is quoted;
//! a double quote in it becomes a single one, a backslash at its end is followed by a space and
//! `${` becomes `$ {`, so that no text can end a string or ask the DSL parser to substitute a
//! constant or an environment variable.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::model::{CallKind, Expose, Service, Workload, Workspace};

/// A DSL string literal holding `text`.
fn q(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.replace("${", "$ {").chars() {
        match c {
            '"' => out.push('\''),
            c if c.is_whitespace() => out.push(' '),
            c => out.push(c),
        }
    }
    // A backslash escapes the next character in the DSL's strings, the closing quote too.
    if out.ends_with('\\') {
        out.push(' ');
    }
    out.push('"');
    out
}

/// The technology of a container: its image's name and tag (or digest), without the registry
/// and path.
fn technology(service: &Service) -> String {
    match &service.image {
        Some(image) => image.rsplit('/').next().unwrap_or(image).to_string(),
        None => "no image chosen yet".to_string(),
    }
}

fn tag(kind: CallKind) -> &'static str {
    match kind {
        CallKind::Sync => "Synchronous",
        CallKind::Async => "Asynchronous",
        CallKind::Telemetry => "Telemetry",
    }
}

fn verb(kind: CallKind) -> &'static str {
    match kind {
        CallKind::Sync => "Calls",
        CallKind::Async => "Sends messages to",
        CallKind::Telemetry => "Sends telemetry to",
    }
}

/// Where traffic from outside enters a service: (name, description) of the external system.
fn entry(ws: &Workspace, service: &Service) -> Option<(String, String)> {
    if service.ports.is_empty() {
        return None;
    }
    match service.expose {
        Expose::Cluster => None,
        Expose::Gateway => ws.project.gateway.as_ref().map(|g| {
            (
                format!("Gateway {}/{}", g.namespace, g.name),
                "The shared HTTP gateway of the cluster".to_string(),
            )
        }),
        Expose::Internal | Expose::Public => {
            let sources = service.sources.as_ref()?;
            let cidrs: Vec<String> = sources.iter().map(ToString::to_string).collect();
            Some(match service.expose {
                Expose::Public if sources.is_anywhere() => {
                    ("Internet".to_string(), "Clients on any address".to_string())
                }
                Expose::Public => (
                    format!("Clients {}", cidrs.join(", ")),
                    "Clients on these addresses".to_string(),
                ),
                _ => (
                    format!("Internal network {}", cidrs.join(", ")),
                    "Private addresses behind an internal load balancer".to_string(),
                ),
            })
        }
    }
}

/// The DSL text (without the header the caller adds). `adrs` is the record folder relative to
/// the DSL file, when it exists.
pub fn render(ws: &Workspace, adrs: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "workspace {} {} {{",
        q(&ws.project.name),
        q(ws.project.description.trim())
    );
    if let Some(path) = adrs {
        let _ = writeln!(out, "    !adrs {} madr", q(path));
    }
    out.push_str("\n    model {\n");
    // Container names must be unique in the software system: a name two domains share is
    // qualified with its domain.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &ws.services {
        *seen.entry(s.id.name.as_str()).or_default() += 1;
    }
    let name = |s: &Service| {
        if seen.get(s.id.name.as_str()).copied().unwrap_or(0) > 1 {
            s.id.to_string()
        } else {
            s.id.name.clone()
        }
    };
    let index: BTreeMap<&crate::model::ServiceId, usize> = ws
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (&s.id, i))
        .collect();
    // External systems: where traffic enters, and the address ranges of egress.
    let mut entries: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    let mut ranges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, s) in ws.services.iter().enumerate() {
        if let Some(e) = entry(ws, s) {
            entries.entry(e).or_default().push(i);
        }
        for e in &s.egress {
            let reasons = ranges.entry(e.cidr.to_string()).or_default();
            if !e.reason.trim().is_empty() {
                reasons.insert(e.reason.trim().to_string());
            }
        }
    }
    for (k, (label, description)) in entries.keys().enumerate() {
        let _ = writeln!(
            out,
            "        in{k} = softwareSystem {} {} {{\n            tags \"External\"\n        }}",
            q(label),
            q(description)
        );
    }
    let range_index: BTreeMap<&str, usize> = ranges
        .keys()
        .enumerate()
        .map(|(k, r)| (r.as_str(), k))
        .collect();
    for (k, (range, reasons)) in ranges.iter().enumerate() {
        let reasons: Vec<&str> = reasons.iter().map(String::as_str).collect();
        let description = if reasons.is_empty() {
            "Addresses outside the cluster".to_string()
        } else {
            reasons.join("; ")
        };
        let _ = writeln!(
            out,
            "        x{k} = softwareSystem {} {} {{\n            tags \"External\"\n        }}",
            q(range),
            q(&description)
        );
    }
    let _ = writeln!(
        out,
        "        product = softwareSystem {} {} {{",
        q(&ws.project.name),
        q(ws.project.description.trim())
    );
    for ns in ws.namespaces.values() {
        let members: Vec<&Service> = ws.services_in(&ns.name).collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(out, "            group {} {{", q(&ns.name));
        for s in members {
            let i = index[&s.id];
            let _ = writeln!(
                out,
                "                s{i} = container {} {} {} {{",
                q(&name(s)),
                q(s.description.trim()),
                q(&technology(s))
            );
            out.push_str("                    tags \"Service\"\n");
            out.push_str("                    properties {\n");
            let mut props: Vec<(&str, String)> = vec![
                ("k8s-advisor.namespace", s.id.namespace.clone()),
                ("k8s-advisor.expose", s.expose.as_str().to_string()),
                ("k8s-advisor.replicas", s.replicas.to_string()),
            ];
            if let Some(team) = &s.team {
                props.push(("k8s-advisor.team", team.clone()));
            }
            for (key, value) in props {
                let _ = writeln!(out, "                        {} {}", q(key), q(&value));
            }
            out.push_str("                    }\n                }\n");
        }
        out.push_str("            }\n");
    }
    out.push_str("        }\n\n");
    for (i, s) in ws.services.iter().enumerate() {
        for call in &s.calls {
            let Some(callee) = ws.service(&call.to) else {
                continue;
            };
            let ports: Vec<String> = call
                .ports_of(callee)
                .map(|p| format!("{} {} ({})", p.protocol.as_str(), p.target, p.name))
                .collect();
            let _ = writeln!(
                out,
                "        s{i} -> s{} {} {} {}",
                index[&callee.id],
                q(verb(call.kind)),
                q(&ports.join(", ")),
                q(tag(call.kind))
            );
        }
    }
    for (k, members) in entries.values().enumerate() {
        for &i in members {
            let s = &ws.services[i];
            let ports: Vec<String> = s
                .ports
                .iter()
                .map(|p| format!("{} {} ({})", p.protocol.as_str(), p.target, p.name))
                .collect();
            let _ = writeln!(
                out,
                "        in{k} -> s{i} \"Sends requests to\" {} \"Ingress\"",
                q(&ports.join(", "))
            );
        }
    }
    for (i, s) in ws.services.iter().enumerate() {
        // One relationship per address range: several entries to one range are merged.
        let mut by_range: BTreeMap<&str, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
        let cidrs: Vec<String> = s.egress.iter().map(|e| e.cidr.to_string()).collect();
        for (e, cidr) in s.egress.iter().zip(&cidrs) {
            let slot = by_range.entry(cidr.as_str()).or_default();
            slot.0.insert(crate::architecture::words::egress_ports(e));
            if !e.reason.trim().is_empty() {
                slot.1.insert(e.reason.trim().to_string());
            }
        }
        for (range, (ports, reasons)) in by_range {
            let description = if reasons.is_empty() {
                "Sends traffic to".to_string()
            } else {
                reasons.into_iter().collect::<Vec<_>>().join("; ")
            };
            let _ = writeln!(
                out,
                "        s{i} -> x{} {} {} \"Egress\"",
                range_index[range],
                q(&description),
                q(&ports.into_iter().collect::<Vec<_>>().join("; "))
            );
        }
    }
    deployment(ws, &index, &mut out);
    out.push_str("    }\n\n    views {\n");
    out.push_str(
        "        container product \"Containers\" {\n            include *\n            autolayout lr\n        }\n",
    );
    out.push_str(
        "        deployment product platform \"Deployment\" {\n            include *\n            autolayout lr\n        }\n",
    );
    out.push_str("        styles {\n");
    for kind in ["Asynchronous", "Telemetry"] {
        let _ = writeln!(
            out,
            "            relationship \"{kind}\" {{\n                style dashed\n            }}"
        );
    }
    out.push_str(
        "            element \"External\" {\n                background #999999\n                color #ffffff\n            }\n",
    );
    out.push_str("        }\n    }\n}\n");
    out
}

/// The deployment environment: the cluster, a node per namespace, a node per workload with
/// its replicas as instances.
fn deployment(ws: &Workspace, index: &BTreeMap<&crate::model::ServiceId, usize>, out: &mut String) {
    let platform = ws.project.platform.title();
    let _ = writeln!(
        out,
        "\n        platform = deploymentEnvironment {} {{",
        q(platform)
    );
    let _ = writeln!(
        out,
        "            deploymentNode \"Kubernetes cluster\" \"\" {} {{",
        q(platform)
    );
    for ns in ws.namespaces.values() {
        let members: Vec<&Service> = ws.services_in(&ns.name).collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "                deploymentNode {} {} \"Kubernetes namespace\" {{",
            q(&ns.name),
            q(ns.description.trim())
        );
        for s in members {
            let kind = match s.workload {
                Workload::Deployment => "Deployment",
                Workload::Stateful(_) => "StatefulSet",
            };
            let _ = writeln!(
                out,
                "                    deploymentNode {} \"\" {} \"\" {} {{\n                        containerInstance s{}\n                    }}",
                q(&s.id.name),
                q(kind),
                s.replicas,
                index[&s.id]
            );
        }
        out.push_str("                }\n");
    }
    out.push_str("            }\n        }\n");
}
