//! Renders an assessment verdict as text, JSON or Markdown.

use std::fmt::Write;

use console::Style;

use crate::assess::{Status, Verdict};
use crate::filters::markdown_inline;
use crate::text::Paint;

/// Aligned text for a terminal.
pub fn text(verdict: &Verdict, paint: Paint) -> String {
    let mut out = String::new();
    let head = verdict.headline();
    let head = if verdict.recommended {
        paint.apply(Style::new().green().bold(), &head)
    } else {
        paint.apply(Style::new().yellow().bold(), &head)
    };
    let _ = writeln!(out, "{head}\n");
    let id_width = verdict
        .criteria
        .iter()
        .map(|c| c.id.len())
        .max()
        .unwrap_or(0);
    for c in &verdict.criteria {
        let status = format!("{:<10}", c.status.as_str());
        let status = match c.status {
            Status::Met => paint.apply(Style::new().green(), &status),
            Status::NotMet => paint.apply(Style::new().red(), &status),
            Status::Unanswered => paint.apply(Style::new().yellow(), &status),
        };
        let weight = if c.weight == 1 {
            String::new()
        } else {
            format!(" (weight {})", c.weight)
        };
        let _ = writeln!(
            out,
            "  {status} {:<id_width$}  {:<8}  {}{weight}",
            c.id,
            c.source.as_str(),
            c.detail
        );
    }
    let contradictions: Vec<_> = verdict.contradictions().collect();
    if !contradictions.is_empty() {
        let _ = writeln!(out, "\nAnswers that contradict the model:");
        for c in contradictions {
            let _ = writeln!(out, "  - {}: {}", c.id, c.detail);
        }
    }
    let unanswered: Vec<_> = verdict
        .criteria
        .iter()
        .filter(|c| c.status == Status::Unanswered)
        .collect();
    if !unanswered.is_empty() {
        let _ = writeln!(
            out,
            "\n{} unanswered: {}.",
            if unanswered.len() == 1 {
                "One criterion is"
            } else {
                "Some criteria are"
            },
            unanswered
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if verdict.undecided {
            let _ = writeln!(
                out,
                "Answering them under [answers] could change the verdict."
            );
        }
    }
    if !verdict.alternatives.is_empty() {
        let _ = writeln!(out, "\nSimpler platforms to consider:");
        for a in &verdict.alternatives {
            let examples = if a.examples.is_empty() {
                String::new()
            } else {
                format!(" ({})", a.examples.join(", "))
            };
            let _ = writeln!(out, "  - {}{examples}\n    {}", a.name, a.fits);
        }
    }
    out
}

/// Pretty JSON with the fields of SPEC §5.
pub fn json(verdict: &Verdict) -> String {
    let mut s = serde_json::to_string_pretty(verdict).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// A Markdown section: headline, criteria table, contradictions and alternatives.
pub fn markdown(verdict: &Verdict) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Kubernetes assessment: {}\n",
        markdown_inline(&verdict.project)
    );
    let _ = writeln!(out, "{}.\n", markdown_inline(&verdict.headline()));
    let _ = writeln!(out, "| Criterion | Status | Source | Detail |");
    let _ = writeln!(out, "| --- | --- | --- | --- |");
    for c in &verdict.criteria {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            markdown_inline(&c.title),
            c.status.as_str(),
            c.source.as_str(),
            markdown_inline(&c.detail)
        );
    }
    let contradictions: Vec<_> = verdict.contradictions().collect();
    if !contradictions.is_empty() {
        let _ = writeln!(out, "\nAnswers that contradict the model:\n");
        for c in contradictions {
            let _ = writeln!(
                out,
                "- {}: {}",
                markdown_inline(&c.title),
                markdown_inline(&c.detail)
            );
        }
    }
    if !verdict.alternatives.is_empty() {
        let _ = writeln!(out, "\nSimpler platforms to consider:\n");
        for a in &verdict.alternatives {
            let _ = writeln!(
                out,
                "- **{}**: {}",
                markdown_inline(&a.name),
                markdown_inline(&a.fits)
            );
        }
    }
    out
}
