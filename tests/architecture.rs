//! The architecture overview `generate` writes (`docs/architecture.md`, and a page per domain
//! for big models): reviewed snapshots of every example and of an imported real application,
//! markdownlint and mermaid's parser on every page, drift and hand-edit protection, the
//! switch to one page per domain and back, and hostile paths.

use std::path::{Path, PathBuf};

use crate::record::markdownlint;
use crate::support::{bin, copy_tree, example_name, examples, mermaid_parse, outcome};

/// Runs `generate` on the workspace in `dir` with `args`; returns (exit code, stdout, stderr).
fn generate(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = bin()
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1795651200")
        .arg("generate")
        .args(args)
        .output()
        .unwrap();
    outcome(output)
}

/// A repository folder holding a copy of `workspace`.
fn repo(workspace: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::copy(workspace, dir.path().join("k8s-advisor.toml")).unwrap();
    // The stateful example keeps a file of its own in its layout.
    let beside = workspace.parent().unwrap().join("k8s");
    if beside.is_dir() {
        copy_tree(&beside, &dir.path().join("k8s"));
    }
    dir
}

/// Every page of the overview under `dir`: the index first, then the domain pages by name.
fn pages(dir: &Path) -> Vec<PathBuf> {
    let mut all = vec![dir.join("docs/architecture.md")];
    if let Ok(entries) = std::fs::read_dir(dir.join("docs/architecture")) {
        let mut more: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        more.sort();
        all.extend(more);
    }
    all
}

/// Every ```mermaid block of every page through mermaid's own parser; returns how many.
fn mermaid_blocks(pages: &[PathBuf]) -> usize {
    let scratch = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (p, page) in pages.iter().enumerate() {
        let text = std::fs::read_to_string(page).unwrap();
        for (i, block) in text.split("```mermaid\n").skip(1).enumerate() {
            let body = block.split("\n```").next().unwrap();
            let path = scratch.path().join(format!("page-{p}-{i}.mmd"));
            std::fs::write(&path, body).unwrap();
            files.push(path);
        }
    }
    let out = mermaid_parse(&files);
    assert!(
        out.status.success(),
        "mermaid refused a diagram:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    files.len()
}

/// No date, no time and no line number of the workspace in a page.
fn assert_timeless(text: &str) {
    assert!(!text.contains("2026"), "a date in:\n{text}");
    assert!(
        !text.contains("k8s-advisor.toml:"),
        "a line number in:\n{text}"
    );
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn every_example_overview_is_snapshotted_and_passes_markdownlint_and_mermaid() {
    let mut all = Vec::new();
    for ws in examples() {
        let name = example_name(&ws);
        let dir = repo(&ws);
        let (code, stdout, stderr) = generate(dir.path(), &[]);
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(
            stdout.contains("docs/architecture.md: architecture overview, 1 page"),
            "{stdout}"
        );
        let page = dir.path().join("docs/architecture.md");
        let text = std::fs::read_to_string(&page).unwrap();
        assert_timeless(&text);
        insta::assert_snapshot!(format!("architecture-{name}"), text);
        // Kept: the folder is removed with the test.
        let kept = std::env::temp_dir().join(format!(
            "k8s-advisor-architecture-{}-{name}.md",
            std::process::id()
        ));
        std::fs::copy(&page, &kept).unwrap();
        all.push(kept);
    }
    markdownlint(&all);
    assert_eq!(mermaid_blocks(&all), all.len(), "one map per overview");
    for page in all {
        std::fs::remove_file(page).unwrap();
    }
}

/// A workspace of `domains` domains with `per` services each, in a ring of calls (every
/// seventh call asynchronous, a few exposed services and some egress).
fn ring(domains: usize, per: usize) -> String {
    let mut out = String::from(
        "version = 1\n[project]\nname = \"ring\"\nplatform = \"eks\"\ninternal-cidrs = [\"10.0.0.0/8\"]\n",
    );
    for d in 0..domains {
        out.push_str(&format!(
            "\n[[namespaces]]\nname = \"d{d}\"\nteam = \"team-{}\"\n",
            d % 3
        ));
    }
    let total = domains * per;
    let id = |i: usize| format!("d{}/s{i}", i / per);
    for i in 0..total {
        let mut calls = vec![format!("{:?}", id((i + 1) % total))];
        if i % 7 == 0 && total > 2 {
            calls.push(format!(
                "{{ to = {:?}, kind = \"async\" }}",
                id((i + 2) % total)
            ));
        }
        let expose = match i % 25 {
            0 => "public",
            1 => "internal",
            _ => "cluster",
        };
        out.push_str(&format!(
            "\n[[services]]\nname = \"s{i}\"\nnamespace = \"d{}\"\nimage = \"r.example.com/s{i}:1.0.0\"\nreplicas = 2\nport = 8080\nexpose = \"{expose}\"\ncalls = [{}]\n",
            i / per,
            calls.join(", ")
        ));
        if i % 9 == 0 {
            out.push_str(
                "egress = [{ cidr = \"198.51.100.0/24\", ports = [443], reason = \"payments API\" }]\n",
            );
        }
    }
    out
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn a_big_model_gets_a_page_per_domain_and_loses_them_when_it_shrinks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let ws = dir.path().join("k8s-advisor.toml");
    std::fs::write(&ws, ring(6, 11)).unwrap();
    let (code, stdout, stderr) = generate(dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("architecture overview, 7 pages, 7 written"),
        "{stdout}"
    );
    let all = pages(dir.path());
    assert_eq!(all.len(), 7, "{all:?}");
    markdownlint(&all);
    assert_eq!(
        mermaid_blocks(&all),
        7,
        "a map on the index and on every domain page"
    );
    let index = std::fs::read_to_string(&all[0]).unwrap();
    assert!(
        index.contains("| [d0](architecture/d0.md) | team-0 | 11 |"),
        "{index}"
    );
    assert!(
        index.contains("66 services are too many to draw one by one"),
        "{index}"
    );
    // Asynchronous calls between domains are dashed, with their count.
    assert!(index.contains("-.->|\"1 async call\"|"), "{index}");
    let page = std::fs::read_to_string(dir.path().join("docs/architecture/d1.md")).unwrap();
    assert!(page.starts_with("# Domain d1\n\nPart of the overview: [architecture.md](../architecture.md).\nDecision record: [ADR-0001](../adr/0001-"), "{page}");
    assert!(page.contains("## NetworkPolicies of d1"), "{page}");
    insta::assert_snapshot!("architecture-ring-d1", page);
    let (code, stdout, _) = generate(dir.path(), &["--check"]);
    assert_eq!(code, 0, "{stdout}");
    // The index stands for the pages, not the first page in path order.
    assert!(
        stdout.contains("docs/architecture.md: up to date"),
        "{stdout}"
    );

    // Down to 48 services: one page again; the domain pages and their folder go.
    std::fs::write(&ws, ring(4, 12)).unwrap();
    let (code, stdout, _) = generate(dir.path(), &["--check"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("+++ /dev/null"), "{stdout}");
    let (code, stdout, stderr) = generate(dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("architecture overview, 1 page, 1 written, 0 unchanged, 6 stale removed"),
        "{stdout}"
    );
    assert!(!dir.path().join("docs/architecture").exists());
    let index = std::fs::read_to_string(dir.path().join("docs/architecture.md")).unwrap();
    assert!(index.contains("### Domain d3"), "{index}");
    assert!(index.contains("n0 -.->|\"async\"| n4"), "{index}");
}

/// 300 services: 30 domains `d00`…`d29` of ten services `w0`…`w9` each (the same names in
/// every domain), each calling its namesake in the next domain. `w0` of `d00`…`d04` sends to
/// 203.0.113.0/24; `w1` and `w2` of `d00`…`d13` to a /28 of their domain's own.
fn three_hundred() -> String {
    let mut out = String::from("version = 1\n[project]\nname = \"big\"\nplatform = \"eks\"\n");
    for d in 0..30 {
        out.push_str(&format!(
            "\n[[namespaces]]\nname = \"d{d:02}\"\nteam = \"team-{}\"\n",
            d % 4
        ));
    }
    for d in 0..30 {
        for w in 0..10 {
            out.push_str(&format!(
                "\n[[services]]\nname = \"w{w}\"\nnamespace = \"d{d:02}\"\nport = 8080\ncalls = [\"d{:02}/w{w}\"]\n",
                (d + 1) % 30
            ));
            let cidr = match (w, d) {
                (0, 0..5) => Some("203.0.113.0/24".to_string()),
                (1 | 2, 0..14) => Some(format!("198.51.100.{}/28", d * 16)),
                _ => None,
            };
            if let Some(cidr) = cidr {
                out.push_str(&format!(
                    "egress = [{{ cidr = \"{cidr}\", ports = [443], reason = \"partner\" }}]\n"
                ));
            }
        }
    }
    out
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn three_hundred_services_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join("k8s-advisor.toml"), three_hundred()).unwrap();
    let (code, stdout, stderr) = generate(dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("architecture overview, 31 pages"),
        "{stdout}"
    );
    let all = pages(dir.path());
    markdownlint(&all);
    assert_eq!(mermaid_blocks(&all), 31);
    let index = std::fs::read_to_string(&all[0]).unwrap();
    let map = index
        .split("```mermaid\n")
        .nth(1)
        .unwrap()
        .split("\n```")
        .next()
        .unwrap();
    // 20 domain nodes of 30, and 12 egress ranges of 15, each said in the caption.
    let domains = map
        .lines()
        .filter(|l| l.starts_with("  d") && l.contains("[\""))
        .count();
    assert_eq!(domains, 20, "{map}");
    let words = index.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("The 20 domains with the most calls across domains are drawn, of 30"),
        "{index}"
    );
    assert_eq!(map.matches("{{\"").count(), 12, "{map}");
    assert!(
        words.contains("3 more egress destinations are not drawn"),
        "{index}"
    );
    // Five services send to 203.0.113.0/24, two to each /28: the range of five is drawn,
    // although all five are called w0.
    assert!(map.contains("203.0.113.0/24"), "{map}");
    // A domain page draws its ten services one by one, its neighbours as one node each.
    let page = std::fs::read_to_string(dir.path().join("docs/architecture/d03.md")).unwrap();
    assert!(
        page.contains("subgraph d3[\"d03 (team team-3)\"]"),
        "{page}"
    );
    assert!(
        page.contains("[\"domain d02\"]") && page.contains("[\"domain d04\"]"),
        "{page}"
    );
}

#[test]
fn a_page_of_someone_else_in_the_pages_folder_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k8s-advisor.toml"), ring(6, 11)).unwrap();
    assert_eq!(generate(dir.path(), &[]).0, 0);
    let theirs = dir.path().join("docs/architecture/notes.md");
    std::fs::write(&theirs, "# Our notes\n").unwrap();
    std::fs::write(dir.path().join("k8s-advisor.toml"), ring(2, 3)).unwrap();
    let (code, _, stderr) = generate(dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "# Our notes\n");
    assert!(!dir.path().join("docs/architecture/d0.md").exists());
}

#[test]
fn drift_and_hand_edits_are_reported_like_the_manifests() {
    let dir = repo(&crate::support::example("picturesocial"));
    let ws = dir.path().join("k8s-advisor.toml");
    let page = dir.path().join("docs/architecture.md");
    assert_eq!(generate(dir.path(), &[]).0, 0);
    let (code, stdout, _) = generate(dir.path(), &["--check"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("docs/architecture.md: up to date"),
        "{stdout}"
    );
    // Line endings are not an edit.
    let written = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, written.replace('\n', "\r\n")).unwrap();
    assert_eq!(generate(dir.path(), &["--check"]).0, 0);

    // A model change that only the overview shows: an egress reason.
    let model = std::fs::read_to_string(&ws).unwrap();
    assert!(model.contains("egress"), "the example has egress");
    let changed = model.replacen("reason = \"", "reason = \"new: ", 1);
    std::fs::write(&ws, &changed).unwrap();
    let (code, stdout, _) = generate(dir.path(), &["--check", "--no-record"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("b/docs/architecture.md"), "{stdout}");
    assert!(stdout.contains("| new: "), "{stdout}");
    std::fs::write(&ws, &model).unwrap();

    // A hand edit is refused, named, and kept; --force discards it.
    std::fs::write(
        &page,
        written.replace("Owned by team", "Owned (we think) by team"),
    )
    .unwrap();
    std::fs::write(&ws, &changed).unwrap();
    let (code, _, stderr) = generate(dir.path(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("docs/architecture.md (architecture overview)"),
        "{stderr}"
    );
    assert!(
        std::fs::read_to_string(&page)
            .unwrap()
            .contains("(we think)")
    );
    let (code, stdout, _) = generate(dir.path(), &["--check"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("edited by hand"), "{stdout}");
    assert_eq!(generate(dir.path(), &["--force"]).0, 0);
    assert!(
        !std::fs::read_to_string(&page)
            .unwrap()
            .contains("(we think)")
    );

    // A file of someone else at our path is not ours to replace.
    std::fs::write(&page, "# Our own architecture notes\n").unwrap();
    let (code, _, stderr) = generate(dir.path(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&page).unwrap(),
        "# Our own architecture notes\n"
    );
    // Nor one that k8s-advisor wrote for another project.
    assert_eq!(generate(dir.path(), &["--force"]).0, 0);
    let other = std::fs::read_to_string(&page)
        .unwrap()
        .replace("project=picturesocial", "project=other");
    std::fs::write(&page, &other).unwrap();
    let (code, _, stderr) = generate(dir.path(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("(project other)"), "{stderr}");
}

#[test]
fn the_overview_goes_where_docs_says_or_nowhere() {
    let dir = repo(&crate::support::example("family-blog"));
    let (code, stdout, stderr) = generate(dir.path(), &["--docs", "handbook/system.md"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("handbook/system.md: architecture overview"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(dir.path().join("handbook/system.md")).unwrap();
    // The record link leads from the overview's folder to the record.
    assert!(
        text.contains("Decision record: [ADR-0001](../docs/adr/0001-"),
        "{text}"
    );
    assert!(!dir.path().join("docs/architecture.md").exists());
    assert_eq!(
        generate(dir.path(), &["--docs", "handbook/system.md", "--check"]).0,
        0
    );

    let dir = repo(&crate::support::example("family-blog"));
    assert_eq!(generate(dir.path(), &["--no-docs"]).0, 0);
    assert!(!dir.path().join("docs/architecture.md").exists());
    assert!(dir.path().join("docs/adr").is_dir());
    for bad in ["docs/architecture.txt", "docs/", "docs/.md"] {
        let (code, _, stderr) = generate(dir.path(), &["--docs", bad]);
        assert_eq!(code, 2, "{bad}: {stderr}");
        assert!(stderr.contains("does not name a Markdown file"), "{stderr}");
    }
    let (code, _, stderr) = generate(dir.path(), &["--docs", "x.md", "--no-docs"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn with_no_record_the_overview_links_the_record_already_there() {
    let dir = repo(&crate::support::example("family-blog"));
    assert_eq!(generate(dir.path(), &["--no-record"]).0, 0);
    let text = std::fs::read_to_string(dir.path().join("docs/architecture.md")).unwrap();
    assert!(text.contains("No decision record is written yet"), "{text}");
    assert_eq!(generate(dir.path(), &[]).0, 0);
    let text = std::fs::read_to_string(dir.path().join("docs/architecture.md")).unwrap();
    assert!(
        text.contains("Decision record: [ADR-0001](adr/0001-"),
        "{text}"
    );
    // The same page whether or not this run writes the record: no flapping in CI.
    assert_eq!(generate(dir.path(), &["--check", "--no-record"]).0, 0);
}

#[cfg(unix)]
#[test]
fn links_and_fifos_on_the_way_to_the_overview_are_refused() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    type Plant = fn(&Path, &Path);
    let cases: [(&str, Plant); 4] = [
        ("docs", |repo, outside| {
            symlink(outside, repo.join("docs")).unwrap()
        }),
        ("docs/architecture.md", |repo, outside| {
            std::fs::create_dir(repo.join("docs")).unwrap();
            std::fs::write(outside.join("page.md"), "x").unwrap();
            symlink(outside.join("page.md"), repo.join("docs/architecture.md")).unwrap();
        }),
        ("docs/architecture", |repo, outside| {
            std::fs::create_dir(repo.join("docs")).unwrap();
            symlink(outside, repo.join("docs/architecture")).unwrap();
        }),
        ("FIFO docs/architecture.md", |repo, _| {
            std::fs::create_dir(repo.join("docs")).unwrap();
            let status = std::process::Command::new("mkfifo")
                .arg(repo.join("docs/architecture.md"))
                .status()
                .unwrap();
            assert!(status.success());
        }),
    ];
    for (what, plant) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k8s-advisor.toml"), ring(6, 11)).unwrap();
        plant(dir.path(), outside.path());
        let (code, _, stderr) = generate(dir.path(), &[]);
        assert_eq!(code, 2, "{what}: {stderr}");
        assert!(
            std::fs::read_dir(outside.path()).unwrap().all(|e| {
                let name = e.unwrap().file_name();
                name == "page.md"
            }),
            "{what}: something was written outside"
        );
        assert!(
            !dir.path().join("k8s").exists(),
            "{what}: the run was not all or nothing"
        );
    }
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn the_overview_of_imported_real_applications_is_snapshotted() {
    for (name, input) in [
        ("online-boutique", "online-boutique/kubernetes-manifests"),
        ("otel-demo", "otel-demo/kubernetes"),
    ] {
        let dir = crate::export::imported(input);
        let (code, _, stderr) = generate(dir.path(), &[]);
        assert_eq!(code, 0, "{name}: {stderr}");
        let all = pages(dir.path());
        assert_eq!(all.len(), 1, "{name}");
        markdownlint(&all);
        assert_eq!(mermaid_blocks(&all), 1);
        let text = std::fs::read_to_string(&all[0]).unwrap();
        assert_timeless(&text);
        insta::assert_snapshot!(format!("architecture-{name}"), text);
    }
}

/// The overview of the injection suite's workspace with `text` in every free-text field (team
/// names are label values: validation refuses anything else).
fn overview(text: &str) -> String {
    let ws = crate::generate::load_text(&crate::injection::workspace(text));
    let policy = k8s_advisor::policy::Policy::load(None).unwrap();
    let graph = k8s_advisor::graph::ServiceGraph::build(&ws);
    let verdict = k8s_advisor::assess::assess(&graph, &policy);
    let policies = k8s_advisor::generate::layout(&ws).policies;
    let input = k8s_advisor::architecture::Input {
        index: "architecture.md",
        record: None,
        workspace_file: "k8s-advisor.toml",
        policies: &policies,
        findings: &graph.findings(&policy.graph),
    };
    let pages = k8s_advisor::architecture::render(&graph, &verdict, &input);
    assert_eq!(pages.len(), 1);
    pages.into_iter().next().unwrap().contents
}

/// The CommonMark structure of an overview, with the injection suite's parser. That one skips
/// a record's front matter; an overview has none, so an empty one goes first.
fn structure(page: &str) -> Vec<String> {
    crate::injection::structure(&format!("---\n---\n{page}"))
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn workspace_text_cannot_change_the_overview_structure_nor_break_its_map() {
    let plain = overview("plain words");
    let expected = structure(&plain);
    assert!(plain.contains("| plain words |"), "{plain}");
    let scratch = tempfile::tempdir().unwrap();
    let mut pages = Vec::new();
    for (i, text) in crate::injection::HOSTILE.iter().enumerate() {
        let hostile = overview(text);
        assert_eq!(
            structure(&hostile),
            expected,
            "{text:?} changed the structure of:\n{hostile}"
        );
        let path = scratch.path().join(format!("hostile-{i}.md"));
        std::fs::write(&path, &hostile).unwrap();
        pages.push(path);
    }
    assert_eq!(mermaid_blocks(&pages), pages.len());
    markdownlint(&pages);
}

#[test]
fn the_marker_tells_our_pages_from_edited_and_foreign_ones() {
    use k8s_advisor::architecture::{origin, stamp};
    use k8s_advisor::generate::stamp::Origin;
    let page = stamp("shop", "# Architecture of shop\n\nText.\n");
    assert!(page.ends_with("-->\n"), "{page}");
    assert_eq!(origin(page.as_bytes(), "shop"), Origin::Intact);
    assert_eq!(
        origin(page.replace('\n', "\r\n").as_bytes(), "shop"),
        Origin::Intact
    );
    assert_eq!(
        origin(page.as_bytes(), "other"),
        Origin::OtherProject("shop".into())
    );
    assert_eq!(
        origin(page.replace("Text.", "Text!").as_bytes(), "shop"),
        Origin::Edited
    );
    // Text added after the marker is an edit too, and so is a marker without its project.
    assert_eq!(
        origin(format!("{page}more\n").as_bytes(), "shop"),
        Origin::Edited
    );
    assert_eq!(
        origin(page.replace("project=shop\n", "").as_bytes(), "shop"),
        Origin::Edited
    );
    assert_eq!(origin(b"# Notes\n", "shop"), Origin::Foreign);
    assert_eq!(origin(b"\xff\xfe", "shop"), Origin::Foreign);
}
