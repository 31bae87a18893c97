//! Render stage of `diff`: a [`DesignDiff`] as text for people, as Markdown for a pull-request
//! comment, and as the JSON contract. Pure functions returning strings.
//!
//! The Markdown is made for a bot that posts one comment and updates it in place: a summary
//! line first, a warning line when exposure or egress widened or the verdict changed, every
//! section collapsed, a Mermaid graph of the calls that changed, and a hidden marker line
//! ([`MARKER`]) to find the comment by. However large the change, it stays within
//! [`MAX_MARKDOWN`] characters, GitHub's limit for a comment: lists are cut, and say so.
//!
//! Names in the report are validated workspace names (DNS labels); the only free text, guardrail
//! messages, goes through [`markdown_inline`].

use std::fmt::Write;

use console::Style;

use super::DesignDiff;
use super::connectivity::{Connection, External};
use super::design::{CallChange, CallRef, ExposureChange, FindingRef};
use crate::filters::markdown_inline;
use crate::text::{Paint, count, list};

/// The hidden line that identifies the comment, so that a bot updates it instead of adding one.
pub const MARKER: &str = "<!-- k8s-advisor-diff -->";

/// GitHub refuses a comment longer than this many characters.
pub const MAX_MARKDOWN: usize = 65_536;

/// Calls drawn in the Markdown graph at most; the rest are listed.
const MAX_DRAWN_CALLS: usize = 100;

/// The JSON contract, pretty-printed, with a final newline.
pub fn json(diff: &DesignDiff) -> String {
    let mut text = serde_json::to_string_pretty(diff).unwrap_or_default();
    text.push('\n');
    text
}

/// `TCP 8080, 9000-9100`.
fn ports(protocol: &str, ranges: &[(u16, u16)]) -> String {
    let parts: Vec<String> = ranges
        .iter()
        .map(|&(lo, hi)| match (lo, hi) {
            (1, 65535) => "all ports".to_string(),
            (lo, hi) if lo == hi => lo.to_string(),
            (lo, hi) => format!("{lo}-{hi}"),
        })
        .collect();
    format!("{protocol} {}", parts.join(", "))
}

fn connection_line(c: &Connection) -> String {
    format!("{} -> {} : {}", c.from, c.to, ports(&c.protocol, &c.ports))
}

fn external_line(e: &External) -> String {
    let arrow = if e.direction == "ingress" { "<-" } else { "->" };
    format!(
        "{} {arrow} {} : {}",
        e.workload,
        e.cidrs.join(", "),
        ports(&e.protocol, &e.ports)
    )
}

fn exposure_line(e: &ExposureChange) -> String {
    let side = |level: Option<&str>, sources: &[String]| match level {
        None => "absent".to_string(),
        Some(level) if sources.is_empty() => level.to_string(),
        Some(level) => format!("{level} from {}", sources.join(", ")),
    };
    format!(
        "{}: {} -> {}",
        e.service,
        side(e.old, &e.old_sources),
        side(e.new, &e.new_sources)
    )
}

fn finding_line(f: &FindingRef) -> String {
    format!("{} [{}] {}", f.severity, f.rule, f.message)
}

fn call_line(c: &CallRef) -> String {
    format!("{} -> {}", c.from, c.to)
}

/// What changed in a call: `kind sync -> async`, `ports`.
fn call_fields(c: &CallChange) -> String {
    c.fields
        .iter()
        .map(|&field| match field {
            "kind" => format!("kind {} -> {}", c.old_kind, c.new_kind),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The counts of every section, for the summary line; empty when nothing changed.
fn summary_parts(d: &DesignDiff) -> Vec<String> {
    let mut parts = Vec::new();
    if d.verdict.changed {
        parts.push("verdict changed".to_string());
    } else if !d.verdict.criteria.is_empty() {
        parts.push("criteria changed".to_string());
    }
    let c = &d.connectivity;
    for (n, one, many) in [
        (d.domains.added.len(), "domain added", "domains added"),
        (d.domains.removed.len(), "domain removed", "domains removed"),
        (d.domains.changed.len(), "domain changed", "domains changed"),
        (d.services.added.len(), "service added", "services added"),
        (
            d.services.removed.len(),
            "service removed",
            "services removed",
        ),
        (
            d.services.changed.len(),
            "service changed",
            "services changed",
        ),
        (d.calls.added.len(), "call added", "calls added"),
        (d.calls.removed.len(), "call removed", "calls removed"),
        (d.calls.changed.len(), "call changed", "calls changed"),
        (
            d.exposure.widened.len(),
            "exposure widened",
            "exposures widened",
        ),
        (
            d.exposure.narrowed.len(),
            "exposure narrowed",
            "exposures narrowed",
        ),
        (d.egress.widened.len(), "egress widened", "egress widened"),
        (
            d.egress.narrowed.len(),
            "egress narrowed",
            "egress narrowed",
        ),
        (d.findings.new.len(), "new finding", "new findings"),
        (d.findings.fixed.len(), "finding fixed", "findings fixed"),
        (
            c.added.len() + c.external_added.len(),
            "connection added",
            "connections added",
        ),
        (
            c.removed.len() + c.external_removed.len(),
            "connection removed",
            "connections removed",
        ),
    ] {
        if n > 0 {
            parts.push(count(n, one, many));
        }
    }
    if !d.project.fields.is_empty() {
        parts.push(format!("project: {}", d.project.fields.join(", ")));
    }
    parts
}

/// The warnings a reviewer must not miss: exposure or egress widened, the verdict changed.
fn warnings(d: &DesignDiff) -> Vec<String> {
    let mut out = Vec::new();
    if d.verdict.changed {
        let side = |s: &super::design::VerdictSide| {
            format!(
                "{} (score {} of {}, threshold {})",
                if s.recommended {
                    "recommended"
                } else {
                    "not recommended"
                },
                s.score,
                s.max_score,
                s.threshold
            )
        };
        out.push(format!(
            "verdict changed: Kubernetes was {}, is now {}",
            side(&d.verdict.old),
            side(&d.verdict.new)
        ));
    }
    if !d.exposure.widened.is_empty() {
        out.push(format!(
            "exposure widened: {}",
            list(d.exposure.widened.iter().map(exposure_line), 3)
        ));
    }
    if !d.egress.widened.is_empty() {
        out.push(format!(
            "egress widened: {}",
            list(
                d.egress.widened.iter().map(|e| format!(
                    "{} may now reach {}",
                    e.service,
                    e.cidrs.join(", ")
                )),
                3
            )
        ));
    }
    out
}

/// The report for people.
pub fn text(d: &DesignDiff, paint: Paint) -> String {
    if !d.changed {
        return "No design change.\n".to_string();
    }
    let mut out = format!("Design change: {}.\n", summary_parts(d).join(", "));
    for w in warnings(d) {
        let _ = writeln!(
            out,
            "{}",
            paint.apply(Style::new().red().bold(), &format!("WARNING: {w}"))
        );
    }
    for (title, _, lines) in sections(d, None) {
        let _ = writeln!(out, "\n{title}:");
        for line in lines {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

/// A list that shows at most `cap` items, then how many were left out.
fn capped(items: Vec<String>, cap: Option<usize>) -> Vec<String> {
    match cap {
        Some(cap) if items.len() > cap => {
            let more = items.len() - cap;
            let mut out: Vec<String> = items.into_iter().take(cap).collect();
            out.push(format!("… and {more} more"));
            out
        }
        _ => items,
    }
}

/// Every non-empty section as (title, number of entries, lines), each list cut to `cap`
/// entries. Lines start with `+` (new), `-` (gone), `~` (changed) or `!` (called out).
fn sections(d: &DesignDiff, cap: Option<usize>) -> Vec<(&'static str, usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut push = |title: &'static str, lines: Vec<String>| {
        if !lines.is_empty() {
            out.push((title, lines.len(), capped(lines, cap)));
        }
    };
    let mut verdict = Vec::new();
    if d.verdict.changed {
        let (o, n) = (&d.verdict.old, &d.verdict.new);
        verdict.push(format!(
            "~ score {} -> {} of {} (threshold {}); recommended: {} -> {}",
            o.score, n.score, n.max_score, n.threshold, o.recommended, n.recommended
        ));
    }
    for c in &d.verdict.criteria {
        verdict.push(format!("~ {}: {} -> {}", c.id, c.old, c.new));
    }
    push("Verdict", verdict);
    if !d.project.fields.is_empty() {
        push(
            "Project",
            vec![format!("~ {}", d.project.fields.join(", "))],
        );
    }
    let mut domains: Vec<String> = d.domains.added.iter().map(|n| format!("+ {n}")).collect();
    domains.extend(d.domains.removed.iter().map(|n| format!("- {n}")));
    domains.extend(
        d.domains
            .changed
            .iter()
            .map(|c| format!("~ {}: {}", c.domain, c.fields.join(", "))),
    );
    push("Domains", domains);
    let mut services: Vec<String> = d.services.added.iter().map(|s| format!("+ {s}")).collect();
    services.extend(d.services.removed.iter().map(|s| format!("- {s}")));
    services.extend(
        d.services
            .changed
            .iter()
            .map(|c| format!("~ {}: {}", c.service, c.fields.join(", "))),
    );
    push("Services", services);
    let mut calls: Vec<String> = d
        .calls
        .added
        .iter()
        .map(|c| {
            let crosses = d.calls.cross_domain_added.contains(c);
            format!(
                "+ {}{}",
                call_line(c),
                if crosses { " (crosses domains)" } else { "" }
            )
        })
        .collect();
    calls.extend(
        d.calls
            .removed
            .iter()
            .map(|c| format!("- {}", call_line(c))),
    );
    calls.extend(
        d.calls
            .changed
            .iter()
            .map(|c| format!("~ {} -> {}: {}", c.from, c.to, call_fields(c))),
    );
    calls.extend(
        d.calls
            .new_cycles
            .iter()
            .map(|c| format!("! new call cycle: {}", c.join(", "))),
    );
    calls.extend(
        d.calls
            .new_domain_cycles
            .iter()
            .map(|c| format!("! new domain cycle: {}", c.join(", "))),
    );
    push("Calls", calls);
    let mut exposure: Vec<String> = d
        .exposure
        .widened
        .iter()
        .map(|e| format!("+ widened {}", exposure_line(e)))
        .collect();
    exposure.extend(
        d.exposure
            .narrowed
            .iter()
            .map(|e| format!("- narrowed {}", exposure_line(e))),
    );
    push("Exposure", exposure);
    let mut egress: Vec<String> = d
        .egress
        .widened
        .iter()
        .map(|e| format!("+ {} may now reach {}", e.service, e.cidrs.join(", ")))
        .collect();
    egress.extend(
        d.egress
            .narrowed
            .iter()
            .map(|e| format!("- {} may no longer reach {}", e.service, e.cidrs.join(", "))),
    );
    push("Egress", egress);
    let mut findings: Vec<String> = d
        .findings
        .new
        .iter()
        .map(|f| format!("+ {}", finding_line(f)))
        .collect();
    findings.extend(
        d.findings
            .fixed
            .iter()
            .map(|f| format!("- {}", finding_line(f))),
    );
    push("Guardrail findings", findings);
    let c = &d.connectivity;
    let mut conn: Vec<String> = c
        .added
        .iter()
        .map(|x| format!("+ {}", connection_line(x)))
        .collect();
    conn.extend(
        c.removed
            .iter()
            .map(|x| format!("- {}", connection_line(x))),
    );
    conn.extend(
        c.external_added
            .iter()
            .map(|x| format!("+ {}", external_line(x))),
    );
    conn.extend(
        c.external_removed
            .iter()
            .map(|x| format!("- {}", external_line(x))),
    );
    push("Connectivity", conn);
    out
}

/// The Markdown comment for a pull request, at most [`MAX_MARKDOWN`] characters.
pub fn markdown(d: &DesignDiff) -> String {
    if !d.changed {
        return format!("**k8s-advisor diff**: No design change.\n\n{MARKER}\n");
    }
    // Lists are cut shorter until the comment fits; at a cut of zero only the counts remain,
    // which always fit.
    let mut caps = vec![None];
    caps.extend([1000, 300, 100, 30, 10, 3, 0].map(Some));
    let mut text = String::new();
    for cap in caps {
        text = markdown_with(d, cap);
        if text.chars().count() <= MAX_MARKDOWN {
            break;
        }
    }
    text
}

fn markdown_with(d: &DesignDiff, cap: Option<usize>) -> String {
    let mut out = format!(
        "**k8s-advisor diff**: {}.\n",
        markdown_inline(&summary_parts(d).join(", "))
    );
    let warnings = warnings(d);
    if !warnings.is_empty() {
        out.push_str("\n> [!WARNING]\n");
        let _ = writeln!(
            out,
            "> **Review this change:** {}.",
            markdown_inline(&warnings.join("; "))
        );
    }
    match cap {
        None => {}
        Some(0) => out.push_str(
            "\n_Shortened to fit one comment: only the counts are shown; run `k8s-advisor diff` for the whole report._\n",
        ),
        Some(cap) => {
            let _ = writeln!(
                out,
                "\n_Shortened to fit one comment: each list shows its first {}; run `k8s-advisor diff` for the whole report._",
                count(cap, "entry", "entries")
            );
        }
    }
    for (title, total, lines) in sections(d, cap) {
        let _ = write!(out, "\n<details>\n<summary>{title} ({total})</summary>\n\n");
        if title == "Calls" {
            out.push_str(&calls_graph(d, cap));
        }
        for line in lines {
            let _ = writeln!(out, "- {}", markdown_inline(&line));
        }
        out.push_str("\n</details>\n");
    }
    let _ = write!(out, "\n{MARKER}\n");
    out
}

/// A Mermaid flowchart of the calls added (thick arrows) and removed (dotted arrows), at most
/// [`MAX_DRAWN_CALLS`] (and `cap`) of them; empty when there are none to draw.
fn calls_graph(d: &DesignDiff, cap: Option<usize>) -> String {
    let limit = cap.map_or(MAX_DRAWN_CALLS, |c| c.min(MAX_DRAWN_CALLS));
    let edges: Vec<(&CallRef, bool)> = d
        .calls
        .added
        .iter()
        .map(|c| (c, true))
        .chain(d.calls.removed.iter().map(|c| (c, false)))
        .take(limit)
        .collect();
    if edges.is_empty() {
        return String::new();
    }
    let mut nodes: Vec<&str> = edges
        .iter()
        .flat_map(|(c, _)| [c.from.as_str(), c.to.as_str()])
        .collect();
    nodes.sort_unstable();
    nodes.dedup();
    let id = |name: &str| nodes.binary_search(&name).unwrap_or_default();
    let mut out = String::from("```mermaid\nflowchart LR\n");
    for (i, name) in nodes.iter().enumerate() {
        let _ = writeln!(out, "  n{i}[\"{name}\"]");
    }
    for (c, added) in &edges {
        let arrow = if *added {
            "==>|added|"
        } else {
            "-.->|removed|"
        };
        let _ = writeln!(out, "  n{} {arrow} n{}", id(&c.from), id(&c.to));
    }
    out.push_str("```\n\n");
    let total = d.calls.added.len() + d.calls.removed.len();
    if total > edges.len() {
        let _ = writeln!(
            out,
            "The graph draws {} of the {total} calls added or removed.\n",
            edges.len()
        );
    }
    out
}
