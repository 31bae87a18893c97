//! Render stage of `import`: writes a resolved import as a commented `k8s-advisor.toml`. Every
//! value goes through the `toml` crate's encoder and every comment through `comment`, so no
//! input text can end a comment, open a table or change a key. The result is parsed back and
//! validated by the caller before anything is written.

use std::fmt::Write as _;

use super::draft::{OutSvc, Prov, Resolved};
use crate::model::{Expose, Protocol};

/// The longest comment text kept; longer input is cut with an ellipsis.
const MAX_COMMENT: usize = 240;

/// A TOML string, always on one line.
pub fn string(s: &str) -> String {
    // Line breaks are escaped rather than left to the encoder, which may choose a multi-line
    // string; one value per line keeps every provenance comment beside its value.
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if crate::text::unsafe_char(c) => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text made safe for a `#` comment: one line, no control characters, bounded length.
pub fn comment(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if out.chars().count() >= MAX_COMMENT {
            out.push('…');
            break;
        }
        if c == '\n' || c == '\r' || c == '\t' {
            out.push(' ');
        } else if crate::text::unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

fn provs(list: &[Prov]) -> String {
    let mut texts: Vec<String> = list.iter().take(3).map(Prov::text).collect();
    if list.len() > 3 {
        texts.push(format!("and {} more", list.len() - 3));
    }
    texts.join("; ")
}

fn line(out: &mut String, key: &str, value: &str, why: Option<&str>) {
    match why {
        Some(w) if !w.is_empty() => {
            let _ = writeln!(out, "{key} = {value}  # {}", comment(w));
        }
        _ => {
            let _ = writeln!(out, "{key} = {value}");
        }
    }
}

/// Renders the workspace text.
pub fn render(r: &Resolved) -> String {
    let mut out = String::new();
    let mut sources: Vec<String> = r.sources.iter().take(3).cloned().collect();
    if r.sources.len() > 3 {
        sources.push(format!("and {} more files", r.sources.len() - 3));
    }
    let _ = writeln!(
        out,
        "# Imported by `k8s-advisor import` from {}: {}",
        r.kind,
        comment(&sources.join(", "))
    );
    out.push_str(
        "# Each value names where it was read; \"guess:\" marks what was inferred instead.\n\
         # Review the guesses and the list below, then run `k8s-advisor check`.\n",
    );
    if r.unknowns.is_empty() {
        out.push_str("#\n# Nothing was left undecided.\n");
    } else {
        out.push_str("#\n# Could not be known from the input (review these):\n");
        for u in &r.unknowns {
            let _ = writeln!(out, "# - {}", comment(u));
        }
    }
    if !r.notes.is_empty() {
        out.push_str("#\n# Worth a look:\n");
        for n in &r.notes {
            let _ = writeln!(out, "# - {}", comment(n));
        }
    }
    out.push_str("version = 1\n\n[project]\n");
    line(
        &mut out,
        "name",
        &string(&r.project.0),
        Some(&r.project.1.text()),
    );
    line(
        &mut out,
        "description",
        &string(&format!("Imported from {}", r.kind)),
        None,
    );
    match &r.platform {
        Some((p, prov)) => line(
            &mut out,
            "platform",
            &string(p.as_str()),
            Some(&prov.text()),
        ),
        None => line(
            &mut out,
            "platform",
            "\"generic\"",
            Some("guess: the input names no platform (eks | gke | aks | generic)"),
        ),
    }
    if r.services.len() > 1 && r.services.iter().all(|s| s.calls.is_empty()) {
        line(
            &mut out,
            "calls-known",
            "false",
            Some(
                "the input shows no call between services; declare them under `calls`, then remove this line",
            ),
        );
    }
    if r.needs_internal_cidrs {
        line(
            &mut out,
            "internal-cidrs",
            "[\"10.0.0.0/8\"]",
            Some("guess: a placeholder; write the networks that may reach internal services"),
        );
    }
    out.push_str(
        "\n# Answers to the decision criteria are not in the input: `k8s-advisor assess` lists them.\n[answers]\n",
    );
    for (id, value) in &r.answers {
        // Criterion ids come from the policy file, never from the input; quoted all the same.
        let _ = writeln!(
            out,
            "{} = {value}  # answered in `k8s-advisor init`",
            string(id)
        );
    }
    for ns in &r.namespaces {
        out.push_str("\n[[namespaces]]\n");
        let why = match (&ns.original, &ns.draft.prov) {
            (Some(o), Some(p)) => Some(format!("{} (written {o:?})", p.text())),
            (Some(o), None) => Some(format!("written {o:?}")),
            (None, Some(p)) => Some(p.text()),
            (None, None) => None,
        };
        line(&mut out, "name", &string(&ns.name), why.as_deref());
        if let Some((team, prov)) = &ns.draft.team {
            line(
                &mut out,
                "team",
                &string(&team_label(team)),
                Some(&team_why(team, prov)),
            );
        }
        if let Some((d, prov)) = &ns.draft.description {
            line(&mut out, "description", &string(d), Some(&prov.text()));
        }
    }
    for s in &r.services {
        service(&mut out, s);
    }
    out
}

/// Team names are labels in generated manifests; the workspace checks them as label values.
fn team_label(team: &str) -> String {
    crate::names::slugify(team, crate::names::MAX_LABEL).unwrap_or_else(|| "unknown".into())
}

fn team_why(team: &str, prov: &Prov) -> String {
    if team_label(team) == team {
        prov.text()
    } else {
        format!("{} (written {team:?})", prov.text())
    }
}

fn service(out: &mut String, s: &OutSvc) {
    let d = &s.draft;
    out.push_str("\n[[services]]\n");
    let why = match &s.original {
        Some(o) => format!("{} (written {o:?})", d.prov.text()),
        None => d.prov.text(),
    };
    line(out, "name", &string(&s.name), Some(&why));
    let ns_why = match d.namespace.as_str() {
        "" => Some("guess: the input gives no namespace; the project's".to_string()),
        "default" => {
            Some("the input says \"default\", which is reserved; the project's".to_string())
        }
        _ => None,
    };
    line(out, "namespace", &string(&s.namespace), ns_why.as_deref());
    if let Some((team, prov)) = &d.team {
        line(
            out,
            "team",
            &string(&team_label(team)),
            Some(&team_why(team, prov)),
        );
    }
    if let Some((text, prov)) = &d.description {
        line(out, "description", &string(text), Some(&prov.text()));
    }
    if let Some((image, prov)) = &d.image {
        if image.is_empty() || image.chars().any(char::is_whitespace) {
            let _ = writeln!(
                out,
                "# image not written, not a reference: {}",
                comment(image)
            );
        } else {
            line(out, "image", &string(image), Some(&prov.text()));
        }
    }
    if let Some((n, prov)) = &d.replicas {
        line(
            out,
            "replicas",
            &n.min(&10_000).to_string(),
            Some(&prov.text()),
        );
    }
    if !s.ports.is_empty() {
        out.push_str("ports = [\n");
        for p in &s.ports {
            let mut value = format!(
                "{{ name = {}, port = {}, target = {}",
                string(&p.name),
                p.draft.port,
                p.draft.target
            );
            if p.draft.protocol != Protocol::Tcp {
                let _ = write!(value, ", protocol = {}", string(p.draft.protocol.as_str()));
            }
            if let Some(app) = &p.draft.app_protocol {
                let _ = write!(value, ", app-protocol = {}", string(app));
            }
            value.push_str(" },");
            let mut why = p.draft.prov.text();
            if let Some(o) = &p.original {
                let _ = write!(why, " (named {o:?})");
            }
            let _ = writeln!(out, "  {value}  # {}", comment(&why));
        }
        out.push_str("]\n");
    }
    match &d.expose {
        Some((e, prov)) => line(out, "expose", &string(e.as_str()), Some(&prov.text())),
        None => {
            let why = d.expose_hint.clone();
            line(
                out,
                "expose",
                &string(Expose::Cluster.as_str()),
                why.as_deref(),
            );
        }
    }
    if !s.calls.is_empty() {
        out.push_str("calls = [\n");
        for c in &s.calls {
            let mut parts = Vec::new();
            if !c.ports.is_empty() {
                let list: Vec<String> = c.ports.iter().map(|p| string(p)).collect();
                parts.push(format!("ports = [{}]", list.join(", ")));
            }
            let mut why = provs(&c.provs);
            if let Some((kind, reason)) = &c.kind {
                parts.push(format!("kind = {}", string(kind.as_str())));
                why = format!("guess: {} ({reason}); {why}", kind.as_str());
            }
            let value = if parts.is_empty() {
                string(&c.to)
            } else {
                format!("{{ to = {}, {} }}", string(&c.to), parts.join(", "))
            };
            let _ = writeln!(out, "  {value},  # {}", comment(&why));
        }
        out.push_str("]\n");
    }
    for b in &s.blocked {
        let _ = writeln!(out, "# not written: {}", comment(b));
    }
    if !d.egress_cidrs.is_empty() {
        out.push_str("egress = [\n");
        for e in &d.egress_cidrs {
            let mut value = format!("{{ cidr = {}", string(&e.cidr.to_string()));
            if !e.ports.is_empty() {
                let ports: Vec<String> = e.ports.iter().map(u16::to_string).collect();
                let _ = write!(value, ", ports = [{}]", ports.join(", "));
                if e.protocol != Protocol::Tcp {
                    let _ = write!(value, ", protocol = {}", string(e.protocol.as_str()));
                }
            }
            value.push_str(", reason = \"observed in flows\" },");
            let _ = writeln!(out, "  {value}  # {}", comment(&e.prov.text()));
        }
        out.push_str("]\n");
    }
    for e in &d.egress {
        let _ = writeln!(
            out,
            "# egress needed, address unknown: {} ({}); add {{ cidr = \"...\", ports = [...], reason = \"...\" }} to `egress`",
            comment(&e.reason),
            comment(&e.prov.text())
        );
    }
    if let Some(((size, path), prov)) = &d.stateful {
        line(out, "kind", &string("stateful"), Some(&prov.text()));
        line(out, "storage", &string(size), Some(&prov.text()));
        if let Some(p) = path {
            line(out, "storage-path", &string(p), Some(&prov.text()));
        }
    }
    let pair = |p: &super::draft::PairDraft| -> Option<(String, String)> {
        let mut parts = Vec::new();
        let mut why = Vec::new();
        if let Some((cpu, prov)) = &p.cpu {
            parts.push(format!("cpu = {}", string(cpu)));
            why.push(prov.text());
        }
        if let Some((mem, prov)) = &p.memory {
            parts.push(format!("memory = {}", string(mem)));
            why.push(prov.text());
        }
        (!parts.is_empty()).then(|| (format!("{{ {} }}", parts.join(", ")), why.join("; ")))
    };
    let requests = pair(&d.requests);
    let limits = pair(&d.limits);
    if requests.is_some() || limits.is_some() {
        out.push_str("[services.resources]\n");
        if let Some((v, why)) = requests {
            line(out, "requests", &v, Some(&why));
        }
        if let Some((v, why)) = limits {
            line(out, "limits", &v, Some(&why));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_stay_on_one_line_and_parse_back() {
        for s in [
            "plain",
            "quote \" and \\ backslash",
            "line\nbreak\r\n",
            "sep\u{2028}ara\u{2029}tor",
            "nul\0 del\u{7f} c1\u{85} bom\u{feff}",
            "\"\"\" ''' ]] [x] # not a comment",
        ] {
            let text = string(s);
            assert!(!text.contains('\n') && !text.contains('\u{2028}'), "{text}");
            let parsed: toml::Table = toml::from_str(&format!("k = {text}")).unwrap();
            assert_eq!(parsed["k"].as_str(), Some(s));
        }
    }

    #[test]
    fn comments_cannot_break_out() {
        let c = comment("a\nb = 1\r\n[x]\u{2028}y\u{1b}[31m");
        assert!(!c.contains('\n') && !c.contains('\r') && !c.contains('\u{2028}'));
        assert!(!c.contains('\u{1b}'));
        let parsed: toml::Table = toml::from_str(&format!("# {c}\nk = 1")).unwrap();
        assert_eq!(parsed.len(), 1);
        assert!(comment(&"x".repeat(1000)).chars().count() <= MAX_COMMENT + 1);
    }
}
