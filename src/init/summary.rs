//! Render stage of the review: the summary shown before anything is written. Every piece of
//! user text in it passed the answer checks, so it holds no control characters.

use std::fmt::Write;

use super::Session;
use super::egress::egress_text;
use super::size::size_name;
use crate::assess::Verdict;
use crate::model::CallKind;
use crate::workspace::write::DraftService;

/// The whole session in a few lines per service.
pub fn text(s: &Session<'_>, verdict: &Verdict) -> String {
    let d = &s.draft;
    let mut out = String::from("\nSummary\n");
    let description = if d.description.is_empty() {
        String::new()
    } else {
        format!(": {}", d.description)
    };
    let _ = writeln!(out, "  project  {}{description}", d.name);
    let _ = writeln!(out, "  platform {}", d.platform.as_str());
    if !d.internal_cidrs.is_empty() {
        let _ = writeln!(out, "  company network {}", d.internal_cidrs.join(", "));
    }
    let domains: Vec<String> = d
        .namespaces
        .iter()
        .map(|n| match n.team.as_str() {
            "" => format!("{} (no team)", n.name),
            team => format!("{} (team {team})", n.name),
        })
        .collect();
    let _ = writeln!(out, "  domains  {}", domains.join(", "));
    out.push_str("  services\n");
    for (i, svc) in d.services.iter().enumerate() {
        service(&mut out, &s.id(i), svc, s);
    }
    out.push_str("  criteria\n");
    for r in &verdict.criteria {
        let how = match s.answers.get(&r.id) {
            Some(true) => "yes (your answer)".to_string(),
            Some(false) => "no (your answer)".to_string(),
            None if r.evidence.is_some() => format!("{} (from the model)", r.status.as_str()),
            None => "don't know".to_string(),
        };
        let _ = writeln!(out, "    {:<28} {how}", r.id);
    }
    let _ = writeln!(out, "  verdict  {}", verdict.headline());
    out
}

fn service(out: &mut String, id: &str, svc: &DraftService, s: &Session<'_>) {
    let port = match &svc.port {
        Some(p) if p.port == p.target => format!("port {} ({})", p.port, p.name),
        Some(p) => format!("port {} → {} ({})", p.port, p.target, p.name),
        None => "no ports (worker)".to_string(),
    };
    let kind = match &svc.storage {
        Some(storage) => format!(", stateful: {} at {}", storage.size, storage.path),
        None => String::new(),
    };
    let size = size_name(&svc.resources).map_or_else(
        || {
            let r = &svc.resources;
            format!(
                "custom size {}/{} → {}/{}",
                r.cpu_request, r.memory_request, r.cpu_limit, r.memory_limit
            )
        },
        |n| format!("{n} size"),
    );
    let replicas = if svc.replicas == 1 {
        "1 replica".to_string()
    } else {
        format!("{} replicas", svc.replicas)
    };
    let _ = writeln!(
        out,
        "    {id}: {port}, {}{kind}, {replicas}, {size}",
        svc.expose.as_str()
    );
    let image = svc
        .image
        .as_deref()
        .unwrap_or("not known yet (placeholder)");
    let _ = writeln!(out, "      image  {image}");
    if !svc.calls.is_empty() {
        let calls: Vec<String> = svc
            .calls
            .iter()
            .filter_map(|c| {
                let j = s.draft.services.iter().position(|t| t.name == c.to)?;
                Some(match c.kind {
                    CallKind::Sync => s.id(j),
                    kind => format!("{} ({})", s.id(j), kind.as_str()),
                })
            })
            .collect();
        let _ = writeln!(out, "      calls  {}", calls.join(", "));
    }
    if let Some(health) = &svc.health {
        let how = match health {
            crate::model::HealthCheck::Http { path } => format!("http {path}"),
            other => other.as_str().to_string(),
        };
        let _ = writeln!(out, "      health {how}");
    }
    if !svc.writable.is_empty() {
        let _ = writeln!(out, "      writes {}", svc.writable.join(", "));
    }
    for e in &svc.egress {
        let _ = writeln!(out, "      egress {}", egress_text(e));
    }
}
