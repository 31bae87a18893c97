//! No injection through workspace text: whatever a description, a reason or a decision maker
//! says, the decision record parses into the same Markdown structure as one with plain words
//! (checked with a CommonMark parser), its front matter is valid YAML holding the text as
//! written, and control characters never get past validation.

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag};

use k8s_advisor::assess::assess;
use k8s_advisor::graph::ServiceGraph;
use k8s_advisor::layout::{self, record::RecordInput};
use k8s_advisor::policy::Policy;

use crate::generate::load_text;
use crate::support::bin;

/// Text that would open a structure if it were pasted into Markdown as it is.
pub const HOSTILE: &[&str] = &[
    "- injected item",
    "# injected heading",
    "---",
    "1. step",
    "x\n\n- item after a blank line",
    "https://x.example/aaaa-[click](https://evil.example/)",
    "![image](https://evil.example/x.png)",
    "[link](https://evil.example/)",
    "[ref]: https://evil.example/",
    "<script>alert(1)</script>",
    "<!-- comment -->",
    "`code` and ```fence```",
    "| a | b |",
    "*emphasis* _emphasis_ ~~strike~~",
    "> quote",
    "    indented code",
    "&amp; &#60; \\",
    "O'Brien: \"quoted\" # not a comment",
    "{{ template }} {% tag %}",
];

pub fn workspace(text: &str) -> String {
    let quoted = toml_string(text);
    format!(
        r#"version = 1
[project]
name = "shop"
description = {quoted}
decision-makers = [{quoted}, "Ann"]

[[namespaces]]
name = "shop"
description = {quoted}

[[services]]
name = "web"
description = {quoted}
port = 8080
expose = "public"
replicas = 2
calls = ["api"]

[[services]]
name = "api"
description = {quoted}
port = 9000
egress = [{{ cidr = "192.0.2.0/24", ports = [443], reason = {quoted} }}]
"#
    )
}

/// A TOML basic string holding `text` exactly.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn record(text: &str) -> String {
    let ws = load_text(&workspace(text));
    let policy = Policy::load(None).unwrap();
    let graph = ServiceGraph::build(&ws);
    let verdict = assess(&graph, &policy);
    let dir = tempfile::tempdir().unwrap();
    let mut plan = layout::Plan::default();
    let input = RecordInput {
        root: dir.path(),
        adr_dir: None,
        generated: vec!["k8s/shop/web.yaml".into()],
        today: "2026-01-01",
        findings: &graph.findings(&policy.graph),
    };
    layout::record::plan(&mut plan, &graph, &policy, &verdict, input).unwrap();
    String::from_utf8(plan.writes.remove(0).new).expect("a record is UTF-8")
}

/// The structure of a Markdown document: every element it opens, and every piece of raw HTML,
/// without the text.
pub fn structure(markdown: &str) -> Vec<String> {
    let body = markdown.splitn(3, "---\n").nth(2).unwrap_or(markdown);
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    Parser::new_ext(body, options)
        .filter_map(|event| match event {
            // An autolink shows its own address as its text: it hides nothing.
            Event::Start(Tag::Link {
                link_type: LinkType::Autolink,
                ..
            }) => None,
            Event::Start(tag) => Some(match tag {
                Tag::Heading { level, .. } => format!("heading {level}"),
                Tag::Link { dest_url, .. } => format!("link {dest_url}"),
                Tag::Image { dest_url, .. } => format!("image {dest_url}"),
                other => format!("{other:?}"),
            }),
            // The marker's checksum differs with the text; the comment around it must not.
            Event::Html(html) if html.starts_with("checksum=") => Some("html checksum".into()),
            Event::Html(html) | Event::InlineHtml(html) => Some(format!("html {html}")),
            _ => None,
        })
        .collect()
}

#[test]
fn workspace_text_cannot_change_the_record_structure() {
    let plain = structure(&record("plain words"));
    assert!(plain.iter().any(|s| s.starts_with("heading")));
    for text in HOSTILE {
        let hostile = record(text);
        assert_eq!(
            structure(&hostile),
            plain,
            "{text:?} changed the structure of:\n{hostile}"
        );
    }
}

#[test]
fn the_front_matter_holds_the_decision_makers_as_written() {
    for text in HOSTILE {
        let record = record(text);
        let front = record.split("---\n").nth(1).unwrap();
        let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(front)
            .unwrap_or_else(|e| panic!("{text:?}: front matter is not YAML ({e}):\n{front}"));
        let makers = yaml["decision-makers"].as_str().unwrap();
        assert_eq!(makers, format!("{text}, Ann"), "{text:?}");
    }
}

#[test]
fn control_characters_are_refused_before_they_reach_a_terminal() {
    for bad in [
        "\u{1b}]0;title\u{7}",
        "\u{7f}",
        "\u{85}",
        "\u{2028}",
        "\u{202e}",
        "\u{fffe}",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k8s-advisor.toml");
        let mut text = workspace("plain").replace("\"plain\"", &format!("\"x{bad}y\""));
        // TOML needs control characters escaped; the others may be written raw.
        if bad.chars().any(char::is_control) {
            text = text.replace(
                bad,
                &bad.chars()
                    .map(|c| format!("\\u{:04X}", u32::from(c)))
                    .collect::<String>(),
            );
        }
        std::fs::write(&path, text).unwrap();
        for command in [
            &["check", "--color", "never"][..],
            &["record"],
            &["assess"],
            &["generate"],
            &["export", "--format", "structurizr"],
        ] {
            let out = bin()
                .current_dir(dir.path())
                .args(command)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{bad:?} {command:?}");
            let all = [out.stdout, out.stderr].concat();
            let shown = String::from_utf8_lossy(&all);
            assert!(shown.contains("invisible character"), "{shown}");
            assert!(
                !shown.contains('\u{1b}'),
                "an escape sequence reached the terminal"
            );
        }
        assert!(!dir.path().join("docs").exists());
    }
}
