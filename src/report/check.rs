//! Render stage for `check`: findings as text grouped by severity, as JSON, and as SARIF 2.1.0
//! for code scanning. Pure functions of the report and the file's path; nothing is printed here.

use std::fmt::Write;
use std::path::{Component, Path, PathBuf};

use console::Style;
use serde_json::{Value, json};

use crate::check::{CheckReport, Finding, Rule, Severity, Threshold};
use crate::report::sarif;
use crate::text::{self, Paint};

/// Where the rationale and fix of a rule wrap in the text report.
const WIDTH: usize = 100;

/// Text for a terminal: findings grouped by severity (most serious first), then by rule, so
/// that a rule's title, rationale and fix are shown once above the list of places it found
/// (`file:line:col` and the message of each); then a summary line.
pub fn text(report: &CheckReport, file: &str, paint: Paint) -> String {
    let mut out = String::new();
    for severity in Severity::ALL {
        let count = report.count(severity);
        if count == 0 {
            continue;
        }
        let (heading, style) = match severity {
            Severity::Error => ("Errors", Style::new().red().bold()),
            Severity::Warning => ("Warnings", Style::new().yellow().bold()),
            Severity::Info => ("Info", Style::new().cyan().bold()),
        };
        let _ = writeln!(
            out,
            "{}\n",
            paint.apply(style, &format!("{heading} ({count})"))
        );
        for rule in &report.rules {
            let findings: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.severity == severity && f.rule == rule.id)
                .collect();
            if findings.is_empty() {
                continue;
            }
            let places = if findings.len() == 1 {
                String::new()
            } else {
                format!(" ({})", text::count(findings.len(), "place", "places"))
            };
            let _ = writeln!(
                out,
                "  {} {}{places}",
                paint.apply(Style::new().bold(), &format!("[{}]", rule.id)),
                rule.title
            );
            for f in findings {
                let _ = writeln!(out, "    {}:{}:{}: {}", file, f.line, f.column, f.message);
            }
            for (label, text) in [("why", &rule.rationale), ("help", &rule.fix)] {
                let hang = " ".repeat(4 + label.len() + 2);
                let options = textwrap::Options::new(WIDTH)
                    .initial_indent("    ")
                    .subsequent_indent(&hang)
                    .break_words(false)
                    .word_separator(textwrap::WordSeparator::AsciiSpace)
                    .word_splitter(textwrap::WordSplitter::NoHyphenation);
                let _ = writeln!(
                    out,
                    "{}",
                    textwrap::fill(&format!("{label}: {text}"), options)
                );
            }
            out.push('\n');
        }
    }
    let _ = writeln!(out, "{}", summary_line(report, file, paint));
    out
}

/// The last line of the text report: the counts, or that every enabled guardrail passed.
pub fn summary_line(report: &CheckReport, file: &str, paint: Paint) -> String {
    let enabled = report.rules.iter().filter(|r| r.enabled).count();
    if report.findings.is_empty() {
        paint.apply(
            Style::new().green().bold(),
            &format!("No findings: {enabled} guardrails passed on {file}."),
        )
    } else {
        format!(
            "{} from {enabled} of {} guardrails on {file}.",
            summary(report),
            report.rules.len()
        )
    }
}

/// "1 error, 2 warnings, 0 info".
fn summary(report: &CheckReport) -> String {
    Severity::ALL
        .iter()
        .map(|s| {
            let n = report.count(*s);
            match s {
                Severity::Info => format!("{n} info"),
                _ if n == 1 => format!("{n} {s}"),
                _ => format!("{n} {s}s"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// JSON for scripts: the file, whether it passed (no error-level finding), counts per
/// severity, every finding with its location and fix, and every rule as configured.
pub fn json(report: &CheckReport, file: &str) -> String {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule.as_str(),
                "severity": f.severity,
                "subject": f.subject,
                "message": f.message,
                "file": file,
                "line": f.line,
                "column": f.column,
                "end-line": f.end_line,
                "end-column": f.end_column,
                "help": report.rule(f.rule).map(|r| r.fix.as_str()),
            })
        })
        .collect();
    let rules: Vec<Value> = report.rules.iter().map(rule_json).collect();
    let value = json!({
        "file": file,
        "passed": !report.has_errors(),
        "summary": {
            "error": report.count(Severity::Error),
            "warning": report.count(Severity::Warning),
            "info": report.count(Severity::Info),
        },
        "findings": findings,
        "rules": rules,
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

fn rule_json(rule: &Rule) -> Value {
    let mut value = json!({
        "id": rule.id.as_str(),
        "enabled": rule.enabled,
        "severity": rule.severity,
        "title": rule.title,
        "description": rule.description,
        "rationale": rule.rationale,
        "fix": rule.fix,
    });
    if let (Some(key), Some(threshold), Some(map)) = (
        rule.id.threshold_key(),
        &rule.threshold,
        value.as_object_mut(),
    ) {
        let threshold = match threshold {
            Threshold::Count(n) => json!(n),
            Threshold::Tags(tags) => json!(tags.iter().map(|t| t.as_str()).collect::<Vec<_>>()),
        };
        map.insert(key.as_str().to_string(), threshold);
    }
    value
}

/// A SARIF 2.1.0 log with one run: every rule in `tool.driver.rules` and every finding as a
/// result located in the workspace file at `uri` (see [`artifact_uri`]).
pub fn sarif(report: &CheckReport, uri: &str) -> String {
    let rules: Vec<sarif::Rule<'_>> = report
        .rules
        .iter()
        .map(|r| {
            let mut rule = sarif::Rule::new(
                r.id.as_str(),
                &r.title,
                r.severity,
                &["kubernetes", "guardrail"],
            );
            rule.full_description = Some(sarif::Text::new(&r.description));
            rule.help = Some(sarif::Help {
                text: format!("{}\n\nHow to fix: {}", r.rationale, r.fix),
                markdown: format!("{}\n\n**How to fix:** {}", r.rationale, r.fix),
            });
            rule.default_configuration.enabled = Some(r.enabled);
            rule
        })
        .collect();
    let findings: Vec<sarif::Finding<'_>> = report
        .findings
        .iter()
        .map(|f| sarif::Finding {
            rule: f.rule.as_str(),
            severity: f.severity,
            message: &f.message,
            uri: uri.to_string(),
            region: sarif::Region {
                start_line: f.line,
                start_column: Some(f.column),
                end_line: Some(f.end_line),
                end_column: Some(f.end_column),
            },
        })
        .collect();
    sarif::log(&rules, &findings)
}

/// The URI a SARIF log uses for the workspace file at `path` (as given on the command line or
/// found by the upward search): relative to `cwd` with `/` separators when the file lies
/// inside it, which is what code scanning expects when run from the repository root; else an
/// absolute `file://` URI. Characters outside the URI grammar are percent-encoded.
pub fn artifact_uri(path: &Path, cwd: &Path) -> String {
    let absolute = normalize(&cwd.join(path));
    let base = normalize(cwd);
    match absolute.strip_prefix(&base) {
        Ok(relative) if !relative.as_os_str().is_empty() => segments(relative).join("/"),
        _ => format!("file:///{}", segments(&absolute).join("/")),
    }
}

/// Removes `.` and resolves `..` lexically (the file need not exist, links are not followed).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn segments(path: &Path) -> Vec<String> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(percent_encode(&s.to_string_lossy())),
            _ => None,
        })
        .collect()
}

fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_to_the_current_folder() {
        let cwd = Path::new("/repo");
        assert_eq!(
            artifact_uri(Path::new("k8s-advisor.toml"), cwd),
            "k8s-advisor.toml"
        );
        assert_eq!(
            artifact_uri(Path::new("./infra/../k8s-advisor.toml"), cwd),
            "k8s-advisor.toml"
        );
        assert_eq!(
            artifact_uri(Path::new("/repo/a b/k8s-advisor.toml"), cwd),
            "a%20b/k8s-advisor.toml"
        );
        assert_eq!(
            artifact_uri(Path::new("../k8s-advisor.toml"), Path::new("/repo/sub")),
            "file:///repo/k8s-advisor.toml"
        );
    }
}
