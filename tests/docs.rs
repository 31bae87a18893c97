//! The project's own documentation: the README stays a page a newcomer reads, every relative
//! link of the README, CONTRIBUTING.md and `docs/` leads to a file and a heading that exist,
//! no page cites issue numbers or commit hashes, and markdownlint accepts every page.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::support::{root, tool};

/// README.md, CONTRIBUTING.md and every page under docs/, relative to the repository.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md"), PathBuf::from("CONTRIBUTING.md")];
    let mut folders = vec![PathBuf::from("docs")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(root().join(&folder)).unwrap() {
            let path = folder.join(entry.unwrap().file_name());
            if root().join(&path).is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

/// GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped,
/// spaces turned into `-`.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a page's headings, and the destinations of its links.
fn read(page: &Path) -> (BTreeSet<String>, Vec<String>) {
    let text = std::fs::read_to_string(root().join(page)).unwrap();
    let mut anchors = BTreeSet::new();
    let mut links = Vec::new();
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(&text, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => {
                anchors.insert(anchor(&heading.take().unwrap_or_default()));
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = &mut heading {
                    h.push_str(&t);
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url.to_string()),
            _ => {}
        }
    }
    (anchors, links)
}

#[test]
fn every_relative_link_leads_to_a_page_and_heading_that_exist() {
    let pages = pages();
    let parsed: BTreeMap<PathBuf, _> = pages.iter().map(|p| (p.clone(), read(p))).collect();
    let mut broken = Vec::new();
    let mut checked = 0;
    for (page, (_, links)) in &parsed {
        for link in links {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, fragment) = link.split_once('#').unwrap_or((link, ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                normalise(&page.parent().unwrap().join(file))
            };
            if !root().join(&target).exists() {
                broken.push(format!(
                    "{}: {link}: no file {}",
                    page.display(),
                    target.display()
                ));
                continue;
            }
            if fragment.is_empty() {
                continue;
            }
            let target_anchors = match parsed.get(&target) {
                Some((a, _)) => a,
                None if target.extension().is_some_and(|e| e == "md") => &read(&target).0,
                None => {
                    broken.push(format!(
                        "{}: {link}: an anchor into a non-page",
                        page.display()
                    ));
                    continue;
                }
            };
            if !target_anchors.contains(fragment) {
                broken.push(format!(
                    "{}: {link}: no heading #{fragment}",
                    page.display()
                ));
            }
        }
    }
    assert!(
        checked > 40,
        "only {checked} relative links: did the parser see them?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// `a/b/../c` as `a/c`, without touching the disk.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn the_readme_is_a_page_not_a_manual() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines; move detail under docs/"
    );
    // The two commands a newcomer runs first.
    assert!(readme.contains("cargo run -- -w examples/picturesocial/k8s-advisor.toml assess"));
    assert!(readme.contains("\nscripts/test.sh\n"));
    let (anchors, links) = read(Path::new("README.md"));
    for heading in [
        "install",
        "quick-start",
        "commands",
        "what-the-tool-guarantees",
        "limits",
    ] {
        assert!(anchors.contains(heading), "README lacks ## {heading}");
    }
    for page in ["docs/README.md", "CONTRIBUTING.md", "docs/reference/cli.md"] {
        assert!(
            links.iter().any(|l| l == page),
            "README does not link {page}"
        );
    }
}

#[test]
fn no_page_cites_issue_numbers_or_commit_hashes() {
    let hash = |word: &str| {
        let w = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        (7..=40).contains(&w.len())
            && w.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            && w.chars().any(|c| c.is_ascii_digit())
            && w.chars().any(|c| c.is_ascii_alphabetic())
            && word.starts_with('`')
    };
    let mut found = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(root().join(&page)).unwrap();
        for (n, line) in text.lines().enumerate() {
            let lower = line.to_lowercase();
            let cites = lower.contains("issue #")
                || lower.contains("previous session")
                || line.split_whitespace().any(hash);
            if cites {
                found.push(format!("{}:{}: {line}", page.display(), n + 1));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn every_page_passes_markdownlint() {
    let out = Command::new(tool("markdownlint-cli2"))
        .current_dir(root())
        .arg("--config")
        .arg(root().join("tests/oracles/markdownlint-docs.jsonc"))
        .args(pages().iter().map(|p| format!(":{}", p.display())))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "markdownlint-cli2 refused the documentation:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The headings the link check relies on are the ones GitHub renders.
#[test]
fn anchors_follow_github() {
    assert_eq!(anchor("Review a change: `diff`"), "review-a-change-diff");
    assert_eq!(
        anchor("Editors: the JSON Schema"),
        "editors-the-json-schema"
    );
    assert_eq!(
        anchor("Probes and NetworkPolicies, per platform"),
        "probes-and-networkpolicies-per-platform"
    );
}
