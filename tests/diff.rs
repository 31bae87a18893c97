//! `diff`: golden pairs made from the examples (every section of the report exercised, each
//! output read by a person and kept as a snapshot), the connectivity section judged by nca on
//! 200 random model mutations, the Markdown judged by a CommonMark parser and mermaid, its size
//! bound held on 5,000-service models, and the command's handling of git, bad sides and hostile
//! arguments.
//!
//! A failing mutation prints its chain and step; `mutation_chain(chain)` rebuilds the models.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

use k8s_advisor::check::Guardrails;
use k8s_advisor::diff::{self, DesignDiff, render};
use k8s_advisor::model::Workspace;
use k8s_advisor::policy::Policy;
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use serde_json::Value;

use crate::generate::load_text;
use crate::nca::{self, Canon, parse_ours};
use crate::random_model::{self, CallSpec, EgressSpec, ModelSpec, Rng, ServiceSpec};
use crate::support::{bin, example, mermaid_parse};

/// The diff of two workspaces under the shipped policies.
fn diff_of(old: &Workspace, new: &Workspace) -> DesignDiff {
    let policy = Policy::load(None).expect("shipped policy");
    let guardrails = Guardrails::load(None).expect("shipped guardrails");
    diff::diff(old, new, &policy, &guardrails).expect("diff")
}

/// `text` with each (from, to) replaced once; panics when `from` is not there, so that an
/// example changing under a golden pair is noticed.
fn edited(text: &str, edits: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (from, to) in edits {
        assert!(out.contains(from), "the example no longer holds {from:?}");
        out = out.replacen(from, to, 1);
    }
    out
}

/// The golden pairs: an example, and the same example after a change a pull request could make.
fn golden_pairs() -> Vec<(&'static str, String, String)> {
    let read = |name: &str| std::fs::read_to_string(example(name)).unwrap();
    let pictures = read("picturesocial");
    let family = read("family-blog");
    let eks = read("eks");
    let gke = read("gke");
    vec![
        (
            // Exposure and egress widened, a call across domains that closes a cycle, a
            // replica fewer on a public service (a new finding), an egress entry dropped.
            "picturesocial-widened",
            pictures.clone(),
            edited(
                &pictures,
                &[
                    (
                        r#"calls = ["thumbnailer", "image-analyzer", "users/users-api"]"#,
                        "calls = [\"thumbnailer\", \"image-analyzer\", \"users/users-api\", \"social/feed-api\"]\nexpose = \"internal\"",
                    ),
                    (
                        r#"egress = [{ cidr = "52.216.0.0/15", ports = [443], reason = "Amazon S3 picture bucket" }]"#,
                        r#"egress = [{ cidr = "0.0.0.0/0", ports = [443], reason = "any bucket" }]"#,
                    ),
                    (
                        r#"egress = [{ cidr = "0.0.0.0/0", ports = [443], reason = "Amazon Rekognition image analysis API" }]"#,
                        "",
                    ),
                    ("replicas = 3", "replicas = 1"),
                ],
            ),
        ),
        (
            // The verdict flips: a second team owns a new domain, and the answers change.
            "family-blog-verdict",
            family.clone(),
            edited(
                &family,
                &[
                    (
                        "infrastructure-control = false",
                        "infrastructure-control = true",
                    ),
                    (
                        "[[services]]\nname = \"gallery\"",
                        "[[namespaces]]\nname = \"photos\"\nteam = \"the-grandparents\"\n\n[[services]]\nname = \"gallery\"\nnamespace = \"photos\"",
                    ),
                    (
                        r#"calls = ["gallery", "comments"]"#,
                        r#"calls = ["photos/gallery", "comments"]"#,
                    ),
                ],
            ),
        ),
        (
            // Narrowed: the public web becomes internal, the internal admin API goes away.
            "eks-narrowed",
            eks.clone(),
            edited(
                &eks,
                &[
                    ("expose = \"public\"", "expose = \"internal\""),
                    ("name = \"admin-api\"", "name = \"admin-api-gone\""),
                ],
            )
            .split("[[services]]\nname = \"admin-api-gone\"")
            .next()
            .unwrap()
            .to_string(),
        ),
        (
            // Project keys and a domain's team change; nothing reaches further.
            "gke-domains",
            gke.clone(),
            edited(
                &gke,
                &[
                    (
                        "internal-cidrs = [\"10.128.0.0/9\"]",
                        "internal-cidrs = [\"10.128.0.0/10\"]",
                    ),
                    ("team = \"editorial\"", "team = \"newsdesk\""),
                ],
            ),
        ),
    ]
}

/// Every golden pair in text, JSON and Markdown, as the binary prints them; each snapshot was
/// read against the edit that made the pair.
#[test]
fn golden_pairs_from_the_examples() {
    let dir = tempfile::tempdir().unwrap();
    for (name, old, new) in golden_pairs() {
        let (a, b) = (dir.path().join("old.toml"), dir.path().join("new.toml"));
        std::fs::write(&a, &old).unwrap();
        std::fs::write(&b, &new).unwrap();
        for (format, ext) in [("text", "txt"), ("json", "json"), ("markdown", "md")] {
            let out = bin()
                .args(["diff", "--format", format])
                .arg(&a)
                .arg(&b)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{name}: {out:?}");
            insta::assert_snapshot!(
                format!("diff-{name}-{ext}"),
                String::from_utf8(out.stdout).unwrap()
            );
        }
    }
}

/// Between them the golden pairs exercise every section and both directions of each.
#[test]
fn the_golden_pairs_exercise_every_section() {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (_, old, new) in golden_pairs() {
        let d = diff_of(&load_text(&old), &load_text(&new));
        let v = serde_json::to_value(&d).unwrap();
        for (section, lists) in [
            ("services", &["added", "removed", "changed"][..]),
            (
                "calls",
                &["added", "removed", "cross-domain-added", "new-cycles"],
            ),
            ("exposure", &["widened", "narrowed"]),
            ("egress", &["widened", "narrowed"]),
            ("findings", &["new", "fixed"]),
            (
                "connectivity",
                &["added", "removed", "external-added", "external-removed"],
            ),
            ("domains", &["added", "changed"]),
        ] {
            for list in lists {
                if v[section][list].as_array().is_some_and(|l| !l.is_empty()) {
                    seen.insert(format!("{section}.{list}"));
                }
            }
        }
        if d.verdict.changed {
            seen.insert("verdict".into());
        }
        if !d.project.fields.is_empty() {
            seen.insert("project".into());
        }
    }
    assert_eq!(seen.len(), 21, "{seen:?}");
}

#[test]
fn the_same_workspace_is_no_change() {
    let path = example("stateful");
    for (format, expected) in [
        ("text", "No design change.\n".to_string()),
        (
            "markdown",
            format!(
                "**k8s-advisor diff**: No design change.\n\n{}\n",
                render::MARKER
            ),
        ),
    ] {
        let out = bin()
            .args([
                "diff",
                "--format",
                format,
                "--fail-on",
                "verdict,exposure,egress,findings",
            ])
            .arg(&path)
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    }
    let json: Value = serde_json::from_slice(
        &bin()
            .args(["diff", "--format", "json"])
            .arg(&path)
            .arg(&path)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(json["changed"], false);
    assert_eq!(json["verdict"]["changed"], false);
}

/// The keys of the JSON contract, in the contract's order, with the additions after them.
#[test]
fn json_keeps_the_contract_keys_in_order() {
    let (_, old, new) = golden_pairs().remove(0);
    let d = diff_of(&load_text(&old), &load_text(&new));
    let text = render::json(&d);
    let top: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = top
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // serde_json's map sorts; the order is checked on the text.
    let mut at = 0;
    for key in [
        "changed",
        "verdict",
        "services",
        "calls",
        "exposure",
        "egress",
        "findings",
        "connectivity",
    ] {
        let found = text[at..]
            .find(&format!("\n  \"{key}\":"))
            .unwrap_or_else(|| panic!("{key} missing or out of order"));
        at += found + 1;
        assert!(keys.contains(&key));
    }
    assert_eq!(
        top["verdict"]["old"].as_object().unwrap().keys().count(),
        4,
        "score, recommended, max-score, threshold"
    );
    let first_connection = &top["connectivity"]["added"][0];
    let conn_keys: Vec<&str> = text
        .split("\"added\": [\n      {")
        .last()
        .unwrap()
        .lines()
        .skip(1)
        .take(4)
        .map(|l| l.trim().split('"').nth(1).unwrap())
        .collect();
    assert_eq!(
        conn_keys,
        ["from", "to", "protocol", "ports"],
        "{first_connection}"
    );
    let ext = top["connectivity"]["external-added"][0]
        .as_object()
        .unwrap();
    for key in ["workload", "direction", "cidrs", "protocol", "ports"] {
        assert!(ext.contains_key(key), "{ext:?}");
    }
    for key in ["service", "old", "new"] {
        assert!(top["exposure"]["widened"][0].get(key).is_some());
    }
    for key in ["service", "cidrs"] {
        assert!(top["egress"]["widened"][0].get(key).is_some());
    }
    for key in ["rule", "severity", "message"] {
        assert!(top["findings"]["new"][0].get(key).is_some());
    }
}

/// A call whose kind changes is a changed call, with both kinds; a call that becomes
/// synchronous can close a cycle that did not count before.
#[test]
fn a_call_of_another_kind_is_a_changed_call() {
    let workspace = |kind: &str| {
        format!(
            "version = 1\n[project]\nname = \"shop\"\n\n[[services]]\nname = \"orders\"\nport = 80\ncalls = [\"stock\"]\n\n[[services]]\nname = \"stock\"\nport = 80\ncalls = [{{ to = \"orders\", kind = \"{kind}\" }}]\n"
        )
    };
    let (queued, waiting) = (
        load_text(&workspace("async")),
        load_text(&workspace("sync")),
    );
    let d = serde_json::to_value(diff_of(&queued, &waiting)).unwrap();
    assert_eq!(d["changed"], true);
    assert_eq!(
        d["calls"]["changed"],
        serde_json::json!([{
            "from": "shop/stock", "to": "shop/orders", "fields": ["kind"],
            "old-kind": "async", "new-kind": "sync"
        }])
    );
    assert_eq!(
        d["calls"]["new-cycles"],
        serde_json::json!([["shop/orders", "shop/stock"]])
    );
    // The other way round the cycle goes away, which is no new cycle; NetworkPolicies allow
    // every kind alike, so the connectivity is the same.
    let back = diff_of(&waiting, &queued);
    assert!(back.calls.new_cycles.is_empty());
    assert!(back.connectivity.is_empty());
    let text = render::text(&back, k8s_advisor::text::Paint { color: false });
    assert!(
        text.contains("~ shop/stock -> shop/orders: kind sync -> async"),
        "{text}"
    );
}

/// `--fail-on` exits 1 only for the sections named that changed for the worse.
#[test]
fn fail_on_names_what_counts_as_worse() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = golden_pairs();
    let run = |old: &str, new: &str, fail_on: &str| {
        let (a, b) = (dir.path().join("a.toml"), dir.path().join("b.toml"));
        std::fs::write(&a, old).unwrap();
        std::fs::write(&b, new).unwrap();
        bin()
            .args(["diff", "--format", "json", "--fail-on", fail_on])
            .arg(&a)
            .arg(&b)
            .output()
            .unwrap()
            .status
            .code()
    };
    let (_, wide_old, wide_new) = &pairs[0];
    let (_, verdict_old, verdict_new) = &pairs[1];
    let (_, narrow_old, narrow_new) = &pairs[2];
    assert_eq!(run(wide_old, wide_new, "exposure"), Some(1));
    assert_eq!(run(wide_old, wide_new, "egress"), Some(1));
    assert_eq!(run(wide_old, wide_new, "findings"), Some(1));
    assert_eq!(run(wide_old, wide_new, "verdict"), Some(0));
    assert_eq!(run(verdict_old, verdict_new, "verdict"), Some(1));
    // Narrowing is no reason to fail, and its fixed findings are not new ones.
    assert_eq!(
        run(narrow_old, narrow_new, "verdict,exposure,egress"),
        Some(0)
    );
    // The same change the other way round widens.
    assert_eq!(run(narrow_new, narrow_old, "exposure"), Some(1));
    assert_eq!(run(wide_old, wide_new, "nonsense"), Some(2));
}

/// A repository in a temporary folder with the picturesocial example committed, then edited.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    let (_, old, new) = golden_pairs().remove(0);
    std::fs::create_dir(dir.path().join("design")).unwrap();
    let path = dir.path().join("design/k8s-advisor.toml");
    git(&["init", "-q", "-b", "main"]);
    std::fs::write(&path, old).unwrap();
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "design"]);
    std::fs::write(&path, new).unwrap();
    dir
}

/// `--base REF` reads the committed file with git, from the workspace the search finds, from
/// a subfolder, or from the file given; the result equals a diff of the two files.
#[test]
fn base_reads_the_committed_workspace_with_git() {
    let repo = repository();
    let design = repo.path().join("design");
    let (_, old, _) = golden_pairs().remove(0);
    let old_file = repo.path().join("old.toml");
    std::fs::write(&old_file, old).unwrap();
    let files = bin()
        .args(["diff", "--format", "json"])
        .arg(&old_file)
        .arg(design.join("k8s-advisor.toml"))
        .output()
        .unwrap();
    assert_eq!(files.status.code(), Some(0));
    for (cwd, args) in [
        (
            design.clone(),
            vec!["diff", "--base", "main", "--format", "json"],
        ),
        (
            repo.path().to_path_buf(),
            vec![
                "diff",
                "--base",
                "HEAD",
                "--format",
                "json",
                "design/k8s-advisor.toml",
            ],
        ),
        (
            repo.path().join("design"),
            vec![
                "-w",
                "k8s-advisor.toml",
                "diff",
                "--base",
                "main",
                "--format",
                "json",
            ],
        ),
    ] {
        let out = bin().current_dir(&cwd).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        assert_eq!(out.stdout, files.stdout, "{args:?}");
    }
    // Nothing was checked out or written: the working file is still the new side.
    let status = std::process::Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&status.stdout),
        " M design/k8s-advisor.toml\n?? old.toml\n"
    );
}

/// Runs the binary in `cwd`; asserts exit 2 and returns standard error.
fn refused(cwd: &Path, args: &[&str]) -> String {
    let out = bin().current_dir(cwd).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    String::from_utf8(out.stderr).unwrap()
}

/// Each side's problem names the side; revisions that are options, controls, separators or
/// unknown are refused; a missing repository is explained.
#[test]
fn bad_sides_and_hostile_revisions_are_refused() {
    let repo = repository();
    let design = repo.path().join("design");
    let bad = design.join("bad.toml");
    std::fs::write(
        &bad,
        "version = 1\n[project]\nname = \"x\"\nplatfrom = \"eks\"\n",
    )
    .unwrap();
    let good = design.join("k8s-advisor.toml");
    let (bad, good) = (bad.to_str().unwrap(), good.to_str().unwrap());
    let err = refused(&design, &["diff", bad, good]);
    assert!(err.contains("the old side of the diff"), "{err}");
    assert!(err.contains("unknown key `platfrom`"), "{err}");
    let err = refused(&design, &["diff", good, bad]);
    assert!(err.contains("the new side of the diff"), "{err}");
    let err = refused(&design, &["diff", good, "missing.toml"]);
    assert!(
        err.contains("new side") && err.contains("missing.toml"),
        "{err}"
    );
    // A file that was never committed has no old side.
    let err = refused(&design, &["diff", "--base", "main", bad]);
    assert!(err.contains("old side") && err.contains("main:"), "{err}");
    for hostile in [
        "--output=/tmp/x",
        "-p",
        "",
        "main\u{1b}[31m",
        "main\u{2028}x",
        "main branch",
    ] {
        let err = refused(&design, &["diff", &format!("--base={hostile}")]);
        assert!(err.contains("is not a git revision"), "{hostile:?}: {err}");
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{2028}'),
            "{err}"
        );
    }
    let err = refused(&design, &["diff", "--base", "no-such-branch"]);
    assert!(
        err.contains("git cannot read") && err.contains("no-such-branch"),
        "{err}"
    );
    let outside = tempfile::tempdir().unwrap();
    std::fs::copy(good, outside.path().join("k8s-advisor.toml")).unwrap();
    let err = refused(outside.path(), &["diff", "--base", "main"]);
    assert!(err.contains("git cannot read"), "{err}");
    // Usage: one file without --base, two with it.
    let err = refused(&design, &["diff", good]);
    assert!(err.contains("two workspace files"), "{err}");
    let err = refused(&design, &["diff", "--base", "main", good, good]);
    assert!(err.contains("at most the new workspace"), "{err}");
}

/// A FIFO or a folder given as a side is refused before it is opened (a FIFO would block); a
/// symbolic link to a workspace is read like the file.
#[cfg(unix)]
#[test]
fn special_files_as_sides() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let good = example("eks");
    let link = dir.path().join("link.toml");
    std::os::unix::fs::symlink(&good, &link).unwrap();
    let err = refused(
        dir.path(),
        &["diff", fifo.to_str().unwrap(), good.to_str().unwrap()],
    );
    assert!(err.contains("not a regular file"), "{err}");
    let err = refused(
        dir.path(),
        &["diff", good.to_str().unwrap(), dir.path().to_str().unwrap()],
    );
    assert!(err.contains("not a regular file"), "{err}");
    let out = bin()
        .args(["diff", "--format", "json"])
        .arg(&link)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"changed\": false"));
}

// ---- Markdown ----

/// The events of the comment's Markdown, as GitHub's parser sees the structure (GFM tables,
/// strikethrough and alerts' blockquotes included).
fn events(text: &str) -> Vec<Event<'_>> {
    Parser::new_ext(text, Options::all()).collect()
}

/// The Mermaid blocks of a Markdown text.
fn mermaid_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for event in events(text) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) if &*info == "mermaid" => {
                current = Some(String::new());
            }
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => out.extend(current.take()),
            _ => {}
        }
    }
    out
}

/// The comment's structure: the summary first, the warning as a blockquote, only our own HTML
/// (details, summary and the marker), no link, image or heading, whatever the workspace text.
fn assert_structure(text: &str) {
    let evs = events(text);
    assert!(
        matches!(evs.first(), Some(Event::Start(Tag::Paragraph))),
        "{text}"
    );
    assert!(text.starts_with("**k8s-advisor diff**: "));
    assert!(text.ends_with(&format!("\n{}\n", render::MARKER)));
    for e in &evs {
        match e {
            Event::Start(Tag::Link { .. } | Tag::Image { .. } | Tag::Heading { .. }) => {
                panic!("unexpected {e:?} in\n{text}")
            }
            Event::Html(h) | Event::InlineHtml(h) => {
                let h = h.trim();
                assert!(
                    h.starts_with("<details>")
                        || h.starts_with("</details>")
                        || h.starts_with("<summary>")
                        || h == render::MARKER,
                    "unexpected HTML {h:?} in\n{text}"
                );
            }
            _ => {}
        }
    }
}

/// Every golden pair's comment, and one whose egress reason is hostile Markdown, parse into the
/// expected structure, and every Mermaid block parses with mermaid's own parser.
#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn markdown_parses_and_its_mermaid_too() {
    let mut comments: Vec<String> = golden_pairs()
        .into_iter()
        .map(|(_, old, new)| render::markdown(&diff_of(&load_text(&old), &load_text(&new))))
        .collect();
    let (_, old, new) = golden_pairs().remove(0);
    let hostile = new.replace(
        "reason = \"any bucket\"",
        "reason = \"[x](https://evil.example/) ![i](https://evil.example/i.png) <b>x</b> # h | a | <!-- --> <details>\"",
    );
    comments.push(render::markdown(&diff_of(
        &load_text(&old),
        &load_text(&hostile),
    )));
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, comment) in comments.iter().enumerate() {
        assert_structure(comment);
        for (j, block) in mermaid_blocks(comment).into_iter().enumerate() {
            let file = dir.path().join(format!("{i}-{j}.mmd"));
            std::fs::write(&file, block).unwrap();
            files.push(file);
        }
    }
    assert!(files.len() >= 3, "{files:?}");
    let out = mermaid_parse(&files);
    assert!(out.status.success(), "{out:?}");
    // Added and removed calls are drawn differently.
    let all = comments.join("\n");
    assert!(all.contains("==>|added|") && all.contains("-.->|removed|"));
}

// ---- Size ----

/// A big model like the contract's: `services` services, 25 per namespace, each calling up to
/// five others; every 50th public, every 20th with egress. `salt` rewires the calls, exposure
/// and egress so that two salts differ nearly everywhere.
fn big_model(services: usize, salt: usize) -> String {
    let per = 25;
    let mut out = String::from(
        "version = 1\n\n[project]\nname = \"big\"\nplatform = \"eks\"\ninternal-cidrs = [\"10.0.0.0/8\"]\n",
    );
    for i in 0..services {
        let ns = i / per;
        let mut calls: Vec<String> = (1..=5)
            .map(|k| (i + k * (7 + salt * 13)) % services)
            .filter(|&t| t != i)
            .map(|t| format!("\"ns-{}/svc-{t}\"", t / per))
            .collect();
        calls.sort();
        calls.dedup();
        let expose = match (i + salt) % 50 {
            0 => "public",
            1 => "internal",
            _ => "cluster",
        };
        out.push_str(&format!(
            "\n[[services]]\nname = \"svc-{i}\"\nnamespace = \"ns-{ns}\"\nports = [{{ name = \"http\", port = 80, target = {} }}]\nexpose = \"{expose}\"\ncalls = [{}]\n",
            8080 + salt % 3,
            calls.join(", ")
        ));
        if (i + salt).is_multiple_of(20) {
            out.push_str(&format!(
                "egress = [{{ cidr = \"{}.0.0.0/8\", ports = [443], reason = \"api\" }}]\n",
                1 + (i + salt) % 200
            ));
        }
    }
    out
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 2,
        failure_persistence: None,
        ..Default::default()
    })]

    /// However big the change between two 5,000-service models, the comment stays within
    /// GitHub's 65,536 characters, keeps its summary, warning and marker, says that it was
    /// shortened, and still parses.
    #[test]
    fn markdown_stays_within_the_comment_limit(salt in 1usize..40) {
        let old = load_text(&big_model(5000, 0));
        let new = load_text(&big_model(5000, salt));
        let d = diff_of(&old, &new);
        let text = render::markdown(&d);
        proptest::prop_assert!(text.chars().count() <= render::MAX_MARKDOWN, "{}", text.len());
        proptest::prop_assert!(text.contains("Shortened to fit one comment"));
        proptest::prop_assert!(text.contains("> [!WARNING]"));
        assert_structure(&text);
    }
}

/// The full report of the same change is far beyond the limit: the bound is real.
#[test]
fn an_unshortened_big_comment_would_not_fit() {
    let d = diff_of(
        &load_text(&big_model(2000, 0)),
        &load_text(&big_model(2000, 7)),
    );
    let full = render::text(&d, k8s_advisor::text::Paint { color: false });
    assert!(
        full.chars().count() > 2 * render::MAX_MARKDOWN,
        "{}",
        full.len()
    );
    let md = render::markdown(&d);
    assert!(md.chars().count() <= render::MAX_MARKDOWN);
    assert!(md.contains("… and "), "lists say what was left out");
}

// ---- Connectivity against nca ----

/// Pairs checked against nca: `DIFF_CHAINS` chains of `DIFF_STEPS` mutations (10 × 20 = 200).
fn chains() -> (u64, usize) {
    let var = |name: &str, default| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    (var("DIFF_CHAINS", 10), var("DIFF_STEPS", 20) as usize)
}

/// A change a pull request could make to a random model: a call added, removed or restricted,
/// an exposure or a container port changed, egress added or dropped, a service added or
/// removed, the internal ranges changed.
fn mutate(m: &mut ModelSpec, rng: &mut Rng) {
    let n = m.services.len();
    let callable: Vec<usize> = (0..n)
        .filter(|&i| !m.services[i].ports.is_empty())
        .collect();
    match rng.below(9) {
        0 if !callable.is_empty() => {
            let from = rng.below(n);
            let to = callable[rng.below(callable.len())];
            if !m.services[from].calls.iter().any(|c| c.to == to) {
                m.services[from].calls.push(CallSpec { to, ports: None });
            }
        }
        1 => {
            let from = rng.below(n);
            let calls = &mut m.services[from].calls;
            if !calls.is_empty() {
                calls.remove(rng.below(calls.len()));
            }
        }
        2 => {
            let from = rng.below(n);
            let i = m.services[from].calls.len();
            if i > 0 {
                let c = rng.below(i);
                let to = m.services[from].calls[c].to;
                let names: Vec<String> = m.services[to]
                    .ports
                    .iter()
                    .map(|p| p.name.clone())
                    .collect();
                m.services[from].calls[c].ports = match m.services[from].calls[c].ports {
                    None if names.len() > 1 => Some(names[..1].to_vec()),
                    _ => None,
                };
            }
        }
        3 if !callable.is_empty() => {
            let s = &mut m.services[callable[rng.below(callable.len())]];
            let choices: &[&'static str] = if m.platform == "generic" {
                &["cluster", "public"]
            } else {
                &["cluster", "internal", "public"]
            };
            s.expose = choices[rng.below(choices.len())];
        }
        4 if !callable.is_empty() => {
            let s = &mut m.services[callable[rng.below(callable.len())]];
            let p = rng.below(s.ports.len());
            let target = 1024 + rng.below(60000) as u16;
            let (protocol, old) = (s.ports[p].protocol, s.ports[p].target);
            if !s
                .ports
                .iter()
                .any(|q| q.protocol == protocol && q.target == target)
            {
                // Ports that shared the container port keep sharing it.
                for q in s
                    .ports
                    .iter_mut()
                    .filter(|q| q.protocol == protocol && q.target == old)
                {
                    q.target = target;
                }
            }
        }
        5 => {
            let s = &mut m.services[rng.below(n)];
            s.egress.push(EgressSpec {
                cidr: ["0.0.0.0/0", "10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"][rng.below(4)]
                    .to_string(),
                ports: if rng.chance(30) {
                    Vec::new()
                } else {
                    vec![[443, 80, 5432][rng.below(3)]]
                },
                protocol: ["TCP", "UDP"][rng.below(2)],
            });
        }
        6 => {
            let s = &mut m.services[rng.below(n)];
            if !s.egress.is_empty() {
                s.egress.remove(rng.below(s.egress.len()));
            }
        }
        7 if n > 1 => {
            let gone = rng.below(n);
            m.services.remove(gone);
            for s in &mut m.services {
                s.calls.retain(|c| c.to != gone);
                for c in &mut s.calls {
                    if c.to > gone {
                        c.to -= 1;
                    }
                }
            }
        }
        8 => {
            let mut copy: ServiceSpec = m.services[rng.below(n)].clone();
            copy.name = format!("added-{}", rng.below(1_000_000));
            copy.calls.clear();
            let namespace = m.namespaces[rng.below(m.namespaces.len())].0.clone();
            copy.namespace = namespace;
            m.services.push(copy);
        }
        _ => {
            m.internal_cidrs =
                vec![["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"][rng.below(3)].to_string()];
        }
    }
}

/// The models of one chain: a random model and its successive mutations.
fn mutation_chain(chain: u64, steps: usize) -> Vec<String> {
    let mut model = random_model::model(9000 + chain, 10);
    let mut rng = Rng::new(chain);
    let mut out = vec![random_model::toml(&model, None)];
    for _ in 0..steps {
        for _ in 0..1 + rng.below(2) {
            mutate(&mut model, &mut rng);
        }
        out.push(random_model::toml(&model, None));
    }
    out
}

/// nca's connectivity of the layout generated for `ws`: Namespaces first (nca reads a Namespace
/// after one of its workloads as if it had no labels), kustomizations left out.
fn nca_of(name: &str, ws: &Workspace) -> Result<Canon, String> {
    let files = k8s_advisor::generate::generate(ws);
    let is_ns = |p: &Path| p.file_name().is_some_and(|n| n == "namespace.yaml");
    let mut text = String::new();
    for first in [true, false] {
        for f in files.iter().filter(|f| is_ns(&f.path) == first) {
            if f.path
                .file_name()
                .is_some_and(|n| n == "kustomization.yaml")
            {
                continue;
            }
            text.push_str(&f.contents);
            text.push_str("\n---\n");
        }
    }
    let ours: BTreeSet<String> = ws.services.iter().map(|s| s.id.to_string()).collect();
    nca::run(name, &text, &ours)
}

/// The connectivity section of a diff in canonical form: (added, removed).
fn sections_of(d: &DesignDiff) -> (Canon, Canon) {
    let c = serde_json::to_value(&d.connectivity).unwrap();
    let canon = |conns: &str, ext: &str| {
        parse_ours(&serde_json::json!({"connections": c[conns], "external": c[ext]}).to_string())
    };
    (
        canon("added", "external-added"),
        canon("removed", "external-removed"),
    )
}

/// Checks one chain; the failures, each naming chain and step.
fn check_chain(chain: u64, steps: usize) -> Vec<String> {
    let texts = mutation_chain(chain, steps);
    let mut failures = Vec::new();
    let mut previous: Option<(Workspace, Canon)> = None;
    for (step, text) in texts.iter().enumerate() {
        let ws = load_text(text);
        let seen = match nca_of(&format!("chain-{chain}-{step}"), &ws) {
            Ok(seen) => seen,
            Err(e) => {
                failures.push(format!("chain {chain} step {step}: nca: {e}"));
                return failures;
            }
        };
        if let Some((old, old_seen)) = &previous {
            let d = diff_of(old, &ws);
            let (added, removed) = sections_of(&d);
            let (want_added, want_removed) = (seen.minus(old_seen), old_seen.minus(&seen));
            for (what, got, want) in [
                ("added", added, want_added),
                ("removed", removed, want_removed),
            ] {
                let delta = nca::diff(&got, &want);
                if !delta.is_empty() {
                    failures.push(format!(
                        "chain {chain} step {step}: connectivity {what} differs from nca's set difference (diff, then nca):\n{delta}"
                    ));
                }
            }
        }
        previous = Some((ws, seen));
    }
    failures
}

/// The connectivity section equals nca's connectivity of the two generated layouts,
/// set-differenced, on 200 random mutations.
#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn connectivity_equals_the_set_difference_of_nca() {
    let (chains, steps) = chains();
    let queue = Mutex::new((0..chains).collect::<Vec<u64>>());
    let failures = Mutex::new(Vec::new());
    let changed = Mutex::new(0usize);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while let Some(chain) = queue.lock().unwrap().pop() {
                    let found = std::panic::catch_unwind(|| check_chain(chain, steps))
                        .unwrap_or_else(|_| vec![format!("chain {chain}: panicked")]);
                    failures.lock().unwrap().extend(found);
                }
            });
        }
    });
    // The mutations must actually move the connectivity, or the test proves little.
    for chain in 0..chains.min(3) {
        let texts = mutation_chain(chain, steps);
        for pair in texts.windows(2) {
            let d = diff_of(&load_text(&pair[0]), &load_text(&pair[1]));
            *changed.lock().unwrap() += usize::from(!d.connectivity.is_empty());
        }
    }
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let changed = changed.into_inner().unwrap();
    assert!(
        changed * 3 >= steps,
        "only {changed} of the first pairs change connectivity"
    );
}
