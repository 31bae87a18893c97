//! The decision record: where it goes, its number, its lifecycle, and what external tools say
//! about it (markdownlint-cli2, mermaid's parser, adr-tools' `adr list`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{bin, example, mermaid_parse, root, success, tool};

/// Copies an example into a fresh repository folder.
fn repo_with(example_name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example(example_name), dir.path().join("k8s-advisor.toml")).unwrap();
    dir
}

fn record(dir: &Path, extra: &[&str]) -> String {
    success(
        bin()
            .current_dir(dir)
            .env("SOURCE_DATE_EPOCH", "1795651200")
            .arg("record")
            .args(extra),
    )
}

fn records(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .collect();
    names.sort();
    names
}

/// Runs markdownlint-cli2 with the shipped settings; panics with its report on failure.
pub fn markdownlint(files: &[PathBuf]) {
    let out = Command::new(tool("markdownlint-cli2"))
        .arg("--config")
        .arg(root().join("tests/oracles/markdownlint.jsonc"))
        .args(files.iter().map(|f| format!(":{}", f.display())))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "markdownlint-cli2 refused the record:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Feeds every ```mermaid block of `markdown` to mermaid's own parser.
fn mermaid_blocks_parse(markdown: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, block) in markdown.split("```mermaid\n").skip(1).enumerate() {
        let body = block.split("\n```").next().unwrap();
        let path = dir.path().join(format!("block-{i}.mmd"));
        std::fs::write(&path, body).unwrap();
        files.push(path);
    }
    assert_eq!(files.len(), 1, "one diagram per record");
    let out = mermaid_parse(&files);
    assert!(
        out.status.success(),
        "mermaid refused the diagram:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn every_example_record_passes_markdownlint_and_mermaid() {
    for name in ["picturesocial", "family-blog"] {
        let dir = repo_with(name);
        record(dir.path(), &[]);
        let adr = dir.path().join("docs/adr");
        let files = records(&adr);
        assert_eq!(files.len(), 1, "{files:?}");
        let path = adr.join(&files[0]);
        markdownlint(std::slice::from_ref(&path));
        mermaid_blocks_parse(&std::fs::read_to_string(&path).unwrap());
    }
}

#[test]
fn records_are_snapshotted() {
    for name in ["picturesocial", "family-blog"] {
        let dir = repo_with(name);
        record(dir.path(), &[]);
        let adr = dir.path().join("docs/adr");
        let file = &records(&adr)[0];
        let text = std::fs::read_to_string(adr.join(file)).unwrap();
        insta::assert_snapshot!(format!("record-{name}"), format!("{file}\n\n{text}"));
    }
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn beside_adr_tools_records_it_takes_the_next_number_and_keeps_its_place() {
    let dir = repo_with("picturesocial");
    let adr = |args: &[&str]| {
        let out = Command::new(crate::support::tool("adr"))
            .args(args)
            .current_dir(dir.path())
            .env("VISUAL", "true")
            .env("EDITOR", "true")
            .output()
            .expect("adr-tools is installed by scripts/install-tools.sh");
        assert!(
            out.status.success(),
            "adr {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    adr(&["init", "decisions"]);
    adr(&["new", "Use PostgreSQL for pictures metadata"]);
    let theirs: Vec<(String, String)> = records(&dir.path().join("decisions"))
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(dir.path().join("decisions").join(&f)).unwrap();
            (f, text)
        })
        .collect();
    assert_eq!(theirs.len(), 2);

    let said = record(dir.path(), &[]);
    let ours = dir
        .path()
        .join("decisions/0003-run-picturesocial-on-kubernetes-amazon-eks.md");
    assert!(ours.is_file(), "{said}");
    let listed = adr(&["list"]);
    assert!(
        listed.contains("decisions/0003-run-picturesocial-on-kubernetes-amazon-eks.md"),
        "{listed}"
    );
    assert_eq!(listed.lines().count(), 3, "{listed}");

    // A second run changes nothing, byte for byte.
    let before = std::fs::read(&ours).unwrap();
    let said = record(dir.path(), &[]);
    assert!(said.starts_with("Unchanged"), "{said}");
    assert_eq!(std::fs::read(&ours).unwrap(), before);
    assert_eq!(records(&dir.path().join("decisions")).len(), 3);

    // A changed verdict writes a new record that supersedes ours, both linked.
    let ws = dir.path().join("k8s-advisor.toml");
    let text = std::fs::read_to_string(&ws).unwrap();
    let simpler = text
        .replace("infrastructure-control = true", "infrastructure-control = false")
        .replace("[answers]", "[answers]\nindependent-services = false\nlocal-network-dependencies = false\nmultiple-teams = false");
    std::fs::write(&ws, simpler).unwrap();
    let said = record(dir.path(), &[]);
    let new = dir
        .path()
        .join("decisions/0004-run-picturesocial-on-a-simpler-platform-than-kubernetes.md");
    assert!(new.is_file(), "{said}");
    let old_text = std::fs::read_to_string(&ours).unwrap();
    assert!(
        old_text.contains("status: superseded by ADR-0004\n"),
        "{old_text}"
    );
    assert!(
        old_text.contains("Superseded by [ADR 0004](0004-run-picturesocial-on-a-simpler-platform-than-kubernetes.md)."),
        "{old_text}"
    );
    let new_text = std::fs::read_to_string(&new).unwrap();
    assert!(
        new_text
            .contains("Supersedes [ADR 0003](0003-run-picturesocial-on-kubernetes-amazon-eks.md)."),
        "{new_text}"
    );
    markdownlint(&[ours.clone(), new.clone()]);

    // Records we did not write are untouched.
    for (file, text) in theirs {
        assert_eq!(
            std::fs::read_to_string(dir.path().join("decisions").join(&file)).unwrap(),
            text
        );
    }
    assert_eq!(adr(&["list"]).lines().count(), 4);
}

#[test]
fn the_record_folder_is_found_by_convention() {
    let dir = repo_with("family-blog");
    std::fs::create_dir_all(dir.path().join("doc/adr")).unwrap();
    record(dir.path(), &[]);
    assert_eq!(records(&dir.path().join("doc/adr")).len(), 1);

    let dir = repo_with("family-blog");
    record(dir.path(), &["--adr-dir", "architecture"]);
    assert_eq!(
        records(&dir.path().join("architecture")),
        ["0001-run-family-blog-on-a-simpler-platform-than-kubernetes.md"]
    );
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn hostile_text_cannot_break_the_markdown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("k8s-advisor.toml"),
        r#"version = 1

[project]
name = "hostile"
description = '''| pipes | in | tables |
# not a heading
- not a list
1. not a list either
> not a quote
<script>alert(1)</script> `code` *bold* _em_ [link](http://x) ![img](y) ~~strike~~ &amp; $x$
---
===
https://example.com/path?a=1&b=2 trailing \ backslash'''
decision-makers = ["Ada | Lovelace", "`Grace` Hopper", "- Linus"]

[[namespaces]]
name = "end"
team = "a_b.c-d"
description = "| also | a | table |"

[[services]]
name = "graph"
namespace = "end"
port = 80
calls = ["subgraph"]

[[services]]
name = "subgraph"
namespace = "end"
port = 80
egress = [{ cidr = "0.0.0.0/0", reason = "| <b>x</b> `y`\n- z" }]
"#,
    )
    .unwrap();
    record(dir.path(), &[]);
    let adr = dir.path().join("docs/adr");
    let files = records(&adr);
    let path = adr.join(&files[0]);
    markdownlint(std::slice::from_ref(&path));
    let text = std::fs::read_to_string(&path).unwrap();
    mermaid_blocks_parse(&text);
    assert!(!text.contains("<script>"), "{text}");
    assert!(text.contains("\\| pipes \\|"), "{text}");
}

#[test]
fn generate_writes_the_record_unless_told_not_to() {
    let dir = repo_with("family-blog");
    let run = |args: &[&str]| {
        success(
            bin()
                .current_dir(dir.path())
                .env("SOURCE_DATE_EPOCH", "1795651200")
                .arg("generate")
                .args(args),
        )
    };
    run(&["--no-record", "--no-docs"]);
    assert!(dir.path().join("k8s/kustomization.yaml").is_file());
    assert!(!dir.path().join("docs").exists());

    let said = run(&[]);
    let adr = dir.path().join("docs/adr");
    let files = records(&adr);
    assert_eq!(files.len(), 1, "{said}");
    let text = std::fs::read_to_string(adr.join(&files[0])).unwrap();
    assert!(
        text.contains("* `k8s/family-blog/network-policies.yaml`"),
        "{text}"
    );
    assert!(text.contains("* `k8s/kustomization.yaml`"), "{text}");

    let said = run(&[]);
    assert!(said.contains("Unchanged docs/adr/0001-"), "{said}");
    assert_eq!(records(&adr).len(), 1);
}

#[test]
fn a_hand_edited_record_is_kept_unless_forced() {
    let dir = repo_with("family-blog");
    record(dir.path(), &[]);
    let adr = dir.path().join("docs/adr");
    let path = adr.join(&records(&adr)[0]);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.ends_with("-->\n"),
        "the marker ends the file with a newline"
    );

    // Accepting the decision is what people do: not an edit.
    let accepted = text.replace("status: proposed", "status: accepted");
    std::fs::write(&path, &accepted).unwrap();
    assert!(record(dir.path(), &[]).starts_with("Unchanged"));

    let edited = accepted.replace(
        "## Decision Drivers\n",
        "## Decision Drivers\n\nOur own note.\n",
    );
    std::fs::write(&path, &edited).unwrap();
    let out = bin()
        .current_dir(dir.path())
        .arg("record")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("edited by hand") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);

    record(dir.path(), &["--force"]);
    let rewritten = std::fs::read_to_string(&path).unwrap();
    assert!(!rewritten.contains("Our own note."));
    assert!(rewritten.contains("status: accepted"), "status is kept");
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn a_big_model_gets_a_domain_diagram_and_short_lists() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("version = 1\n[project]\nname = \"big\"\n");
    for i in 0..60 {
        let calls: Vec<String> = (1..=10)
            .map(|k| format!("\"d{}/s{}\"", (i + k) % 60 % 10, (i + k) % 60))
            .collect();
        text.push_str(&format!(
            "[[services]]\nname = \"s{i}\"\nnamespace = \"d{}\"\nport = 80\ncalls = [{}]\n",
            i % 10,
            calls.join(", ")
        ));
    }
    std::fs::write(dir.path().join("k8s-advisor.toml"), text).unwrap();
    record(dir.path(), &[]);
    let adr = dir.path().join("docs/adr");
    let path = adr.join(&records(&adr)[0]);
    let record_text = std::fs::read_to_string(&path).unwrap();
    // 600 calls: more than mermaid draws, so one node per domain with call counts.
    assert!(
        record_text.contains("ns0[\"d0 (6 services)\"]"),
        "{record_text}"
    );
    assert!(!record_text.contains("subgraph"), "{record_text}");
    assert!(
        record_text.contains("more: `k8s-advisor graph` lists them all"),
        "{record_text}"
    );
    markdownlint(std::slice::from_ref(&path));
    mermaid_blocks_parse(&record_text);
}

// Hardening (issue #10): the record folder stays inside the repository, only regular files of
// bounded size are read, numbers have no digit limit, superseding keeps a person's bytes.

/// A workspace whose verdict follows two answers: both true recommend Kubernetes.
fn flip(recommended: bool) -> String {
    format!(
        "version = 1\n[project]\nname = \"flip\"\n[answers]\ninfrastructure-control = {recommended}\nhybrid-cloud = {recommended}\n[[services]]\nname = \"web\"\nport = 80\n"
    )
}

/// Runs `k8s-advisor ARGS` in `dir`, at most 20 seconds.
fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    bin()
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1795651200")
        .args(args)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap()
}

/// Asserts exit 2 and returns stderr.
fn refused(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    stderr
}

/// A folder `repo` holding `.git` and the workspace, inside a fresh temporary folder.
fn git_repo(recommended: bool) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::write(repo.join("k8s-advisor.toml"), flip(recommended)).unwrap();
    (tmp, repo)
}

#[test]
fn adr_dir_cannot_send_records_outside_the_repository() {
    let (tmp, repo) = git_repo(true);
    std::fs::write(repo.join(".adr-dir"), "../../escape\n").unwrap();
    let stderr = refused(&run_in(&repo, &["record"]));
    assert!(
        stderr.contains(".adr-dir names `../../escape`") && stderr.contains("outside"),
        "{stderr}"
    );
    assert!(!tmp.path().join("escape").exists());
    assert!(!tmp.path().parent().unwrap().join("escape").exists());

    // Through a link inside the repository, too.
    std::fs::create_dir(tmp.path().join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("elsewhere"), repo.join("records")).unwrap();
    std::fs::write(repo.join(".adr-dir"), "records/adr").unwrap();
    let stderr = refused(&run_in(&repo, &["record"]));
    assert!(stderr.contains("outside"), "{stderr}");
    assert!(!tmp.path().join("elsewhere/adr").exists());

    // A conventional folder that is a link out of the repository is refused as well.
    std::fs::remove_file(repo.join(".adr-dir")).unwrap();
    std::fs::create_dir(repo.join("docs")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("elsewhere"), repo.join("docs/adr")).unwrap();
    let stderr = refused(&run_in(&repo, &["record"]));
    assert!(stderr.contains("outside"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(tmp.path().join("elsewhere"))
            .unwrap()
            .count(),
        0
    );

    // --adr-dir is the user's own choice: taken as given, even outside the repository.
    std::fs::remove_file(repo.join("docs/adr")).unwrap();
    let out = run_in(&repo, &["record", "--adr-dir", "../elsewhere"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(records(&tmp.path().join("elsewhere")).len(), 1);
}

#[test]
fn adr_dir_is_searched_only_from_the_real_workspace_folder_up_to_the_repository_root() {
    // Planted above the repository: ignored.
    let (tmp, repo) = git_repo(true);
    std::fs::write(tmp.path().join(".adr-dir"), "planted").unwrap();
    std::fs::create_dir(repo.join("sub")).unwrap();
    std::fs::rename(
        repo.join("k8s-advisor.toml"),
        repo.join("sub/k8s-advisor.toml"),
    )
    .unwrap();
    let out = run_in(&repo.join("sub"), &["record"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!tmp.path().join("planted").exists());
    assert_eq!(records(&repo.join("sub/docs/adr")).len(), 1);

    // Inside the repository, above the workspace: used, relative to its own folder.
    std::fs::write(repo.join(".adr-dir"), "decisions").unwrap();
    let out = run_in(&repo.join("sub"), &["record"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(records(&repo.join("decisions")).len(), 1);

    // `-w ../b/...` from a folder holding its own `.adr-dir`: the search starts at b, not here.
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(b.join(".git")).unwrap();
    std::fs::write(a.join(".adr-dir"), "a-records").unwrap();
    std::fs::write(b.join("k8s-advisor.toml"), flip(true)).unwrap();
    let out = run_in(&a, &["-w", "../b/k8s-advisor.toml", "record"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!a.join("a-records").exists());
    assert_eq!(records(&b.join("docs/adr")).len(), 1);

    // Without a repository only the workspace folder itself is searched.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join(".adr-dir"), "planted").unwrap();
    let ws = tmp.path().join("ws");
    std::fs::create_dir(&ws).unwrap();
    std::fs::write(ws.join("k8s-advisor.toml"), flip(true)).unwrap();
    let out = run_in(&ws, &["record"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!tmp.path().join("planted").exists());
    assert_eq!(records(&ws.join("docs/adr")).len(), 1);
}

#[test]
fn only_regular_record_files_are_read_and_a_bad_entry_is_named() {
    let (_tmp, repo) = git_repo(true);
    let adr = repo.join("docs/adr");
    std::fs::create_dir_all(&adr).unwrap();

    // A FIFO would block the read forever.
    let fifo = adr.join("0002-x.md");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let stderr = refused(&run_in(&repo, &["record"]));
    assert!(
        stderr.contains("0002-x.md is a FIFO, device or socket"),
        "{stderr}"
    );
    std::fs::remove_file(&fifo).unwrap();

    // A link to an endless device would grow memory without limit.
    std::os::unix::fs::symlink("/dev/zero", adr.join("0003-zero.md")).unwrap();
    let stderr = refused(&run_in(&repo, &["record"]));
    assert!(
        stderr.contains("0003-zero.md is a FIFO, device or socket"),
        "{stderr}"
    );
    std::fs::remove_file(adr.join("0003-zero.md")).unwrap();

    // A folder named like a record: the message names the entry, not the record folder.
    std::fs::create_dir(adr.join("0004-folder.md")).unwrap();
    let stderr = refused(&run_in(&repo, &["record"]));
    assert!(stderr.contains("0004-folder.md is a folder"), "{stderr}");
    std::fs::remove_dir(adr.join("0004-folder.md")).unwrap();

    // Larger than 16 MiB (far above any record, ours or an older version's): refused, named.
    std::fs::write(adr.join("0005-big.md"), vec![b'x'; (16 << 20) + 1]).unwrap();
    let stderr = refused(&run_in(&repo, &["record"]));
    assert!(
        stderr.contains("0005-big.md is larger than 16384 KiB"),
        "{stderr}"
    );
    assert_eq!(records(&adr), ["0005-big.md"]);
}

#[test]
fn a_record_with_a_long_number_is_recognised_as_ours() {
    let (_tmp, repo) = git_repo(true);
    record(&repo, &[]);
    let adr = repo.join("docs/adr");
    let name = records(&adr).remove(0);
    let long = name.replacen("0001", "100000000", 1);
    std::fs::rename(adr.join(&name), adr.join(&long)).unwrap();
    let edited = std::fs::read_to_string(adr.join(&long)).unwrap().replace(
        "## Decision Drivers\n",
        "## Decision Drivers\n\nOur own note.\n",
    );
    std::fs::write(adr.join(&long), &edited).unwrap();

    let stderr = refused(&run_in(&repo, &["record"]));
    assert!(
        stderr.contains("edited by hand") && stderr.contains(&long),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(adr.join(&long)).unwrap(), edited);
    assert_eq!(records(&adr), [long]);

    // Beyond any machine integer: the next record still counts past it.
    let huge = format!("{}-theirs.md", "9".repeat(40));
    std::fs::write(adr.join(&huge), "# Theirs\n").unwrap();
    std::fs::write(repo.join("k8s-advisor.toml"), flip(false)).unwrap();
    let out = run_in(&repo, &["record", "--force"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let next = format!("1{}-", "0".repeat(40));
    assert!(
        records(&adr).iter().any(|f| f.starts_with(&next)),
        "{:?}",
        records(&adr)
    );
}

#[test]
fn superseding_an_edited_record_changes_only_its_status_line() {
    let (_tmp, repo) = git_repo(true);
    record(&repo, &[]);
    let adr = repo.join("docs/adr");
    let name = records(&adr).remove(0);
    let path = adr.join(&name);
    // Saved by someone's editor: CRLF, and a byte that is not UTF-8 in the body.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut edited = text.replace('\n', "\r\n").into_bytes();
    let at = edited.windows(4).position(|w| w == b"## C").unwrap();
    edited.splice(at..at, b"Latin-1 caf\xe9.\r\n\r\n".iter().copied());
    std::fs::write(&path, &edited).unwrap();

    std::fs::write(repo.join("k8s-advisor.toml"), flip(false)).unwrap();
    let said = record(&repo, &[]);
    assert!(
        said.contains(&format!("Marked docs/adr/{name} as superseded")),
        "{said}"
    );
    let new = records(&adr).into_iter().find(|f| f != &name).unwrap();

    // The expected bytes: the original with its status line replaced and a link under the
    // title, both with CRLF.
    let find = |bytes: &[u8], what: &[u8], from: usize| {
        from + bytes[from..]
            .windows(what.len())
            .position(|w| w == what)
            .unwrap()
    };
    let title = find(&edited, b"\r\n# ", 0) + 2;
    let title_end = find(&edited, b"\r\n", title) + 2;
    let mut expected = edited[..title_end].to_vec();
    expected.extend_from_slice(format!("\r\nSuperseded by [ADR 0002]({new}).\r\n").as_bytes());
    expected.extend_from_slice(&edited[title_end..]);
    let old_status: &[u8] = b"status: proposed\r\n";
    let at = find(&expected, old_status, 0);
    expected.splice(
        at..at + old_status.len(),
        b"status: superseded by ADR-0002\r\n".iter().copied(),
    );
    let marked = std::fs::read(&path).unwrap();
    assert_eq!(marked, expected, "{}", String::from_utf8_lossy(&marked));
}

#[test]
fn superseding_a_record_without_its_status_line_needs_force() {
    let (_tmp, repo) = git_repo(true);
    record(&repo, &[]);
    let adr = repo.join("docs/adr");
    let path = adr.join(records(&adr).remove(0));
    let text = std::fs::read_to_string(&path).unwrap();
    let without = text.replace("status: proposed\n", "");
    std::fs::write(&path, &without).unwrap();

    std::fs::write(repo.join("k8s-advisor.toml"), flip(false)).unwrap();
    let stderr = refused(&run_in(&repo, &["record"]));
    assert!(
        stderr.contains("edited by hand") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), without);
    assert_eq!(records(&adr).len(), 1);

    record(&repo, &["--force"]);
    let marked = std::fs::read_to_string(&path).unwrap();
    assert!(
        marked.starts_with("---\nstatus: superseded by ADR-0002\n"),
        "{marked}"
    );
    assert_eq!(records(&adr).len(), 2);
}

// Writes outside the repository, killed runs and escapes (issue #27).

#[test]
fn a_committed_docs_link_sends_no_record_outside() {
    let (tmp, repo) = git_repo(true);
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    // Committed as a link, with no `docs/adr` yet: the conventional folder is created below
    // it, which is outside.
    std::os::unix::fs::symlink(&outside, repo.join("docs")).unwrap();
    for command in ["record", "generate"] {
        let stderr = refused(&run_in(&repo, &[command]));
        assert!(
            stderr.contains("docs/adr resolves to") && stderr.contains("outside"),
            "{command}: {stderr}"
        );
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "{command}");
    }
    // A link inside the repository is refused as well: records are never written through one.
    std::fs::remove_file(repo.join("docs")).unwrap();
    std::fs::create_dir(repo.join("notes")).unwrap();
    std::os::unix::fs::symlink("notes", repo.join("docs")).unwrap();
    let stderr = refused(&run_in(&repo, &["record"]));
    assert!(stderr.contains("docs is a symbolic link"), "{stderr}");
    assert_eq!(std::fs::read_dir(repo.join("notes")).unwrap().count(), 0);
}

/// The state a run killed between the two writes of a supersede leaves: the new record, which
/// links back, and the old one still `proposed`. Made here from a completed run by putting
/// the old record's bytes back.
fn half_superseded() -> (tempfile::TempDir, PathBuf, PathBuf, Vec<u8>) {
    let (tmp, repo) = git_repo(true);
    record(&repo, &[]);
    let adr = repo.join("docs/adr");
    let old = adr.join(records(&adr).remove(0));
    let before = std::fs::read(&old).unwrap();
    std::fs::write(repo.join("k8s-advisor.toml"), flip(false)).unwrap();
    record(&repo, &[]);
    assert_eq!(records(&adr).len(), 2);
    std::fs::write(&old, &before).unwrap();
    (tmp, repo, old, before)
}

#[test]
fn a_supersede_killed_between_its_two_writes_is_completed_by_the_next_run() {
    for command in ["record", "generate"] {
        let (_tmp, repo, old, _) = half_superseded();
        let adr = repo.join("docs/adr");
        let new = adr.join(&records(&adr)[1]);
        let new_bytes = std::fs::read(&new).unwrap();
        // `--check` notices the unmarked record.
        let out = run_in(&repo, &["generate", "--check"]);
        assert_eq!(out.status.code(), Some(1), "{command}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("+status: superseded by ADR-0002"),
            "{command}: {stdout}"
        );
        let said = record_or_generate(&repo, command);
        assert!(said.contains("as superseded"), "{command}: {said}");
        let marked = std::fs::read_to_string(&old).unwrap();
        assert!(
            marked.contains("status: superseded by ADR-0002"),
            "{command}: {marked}"
        );
        assert!(marked.contains("Superseded by [ADR 0002]"), "{command}");
        // The new record is as the killed run wrote it, and nothing more is to do.
        assert_eq!(std::fs::read(&new).unwrap(), new_bytes, "{command}");
        assert_eq!(records(&adr).len(), 2, "{command}");
        let out = run_in(&repo, &["generate", "--check"]);
        if command == "generate" {
            assert_eq!(out.status.code(), Some(0), "{command}");
        }
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("b/docs/adr/"),
            "{command}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

fn record_or_generate(repo: &Path, command: &str) -> String {
    let out = run_in(repo, &[command]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn temporary_files_a_killed_run_left_in_the_record_folder_are_cleaned() {
    let (_tmp, repo) = git_repo(true);
    record(&repo, &[]);
    let leftover = repo.join("docs/adr/.k8s-advisor-Ab12Cd");
    std::fs::write(&leftover, "").unwrap();
    let out = run_in(&repo, &["generate", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("leftover temporary file docs/adr/.k8s-advisor-Ab12Cd"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    record(&repo, &[]);
    assert!(!leftover.exists());
    // Not ours: kept.
    let theirs = repo.join("docs/adr/.k8s-advisor-notes.txt");
    std::fs::write(&theirs, "x").unwrap();
    record(&repo, &[]);
    assert!(theirs.exists());
}

/// Asserts that `text` holds no escape character and shows `\u{1b}` instead.
fn escaped(text: &str) {
    assert!(!text.contains('\u{1b}'), "raw escape: {text:?}");
    assert!(text.contains("\\u{1b}"), "{text}");
}

#[test]
fn names_from_the_repository_reach_the_terminal_escaped() {
    // A planted `.adr-dir` naming a folder with an escape sequence: refused, shown escaped, and
    // no folder of that name is created.
    let (_tmp, repo) = git_repo(true);
    std::fs::write(repo.join(".adr-dir"), "docs/\u{1b}]0;owned\u{7}adr\n").unwrap();
    let stderr = refused(&run_in(&repo, &["record"]));
    escaped(&stderr);
    assert!(!stderr.contains('\u{7}'), "{stderr:?}");
    assert!(!repo.join("docs").exists());
    std::fs::remove_file(repo.join(".adr-dir")).unwrap();

    // A record of ours under a planted name, edited by hand: the refusal list and `--check`'s
    // diff show the name escaped.
    record(&repo, &[]);
    let adr = repo.join("docs/adr");
    let ours = std::fs::read_to_string(adr.join(&records(&adr)[0])).unwrap();
    let planted = adr.join("0009-\u{1b}[2J.md");
    std::fs::write(
        &planted,
        ours.replace("## Context", "Edited.\n\n## Context"),
    )
    .unwrap();
    let stderr = refused(&run_in(&repo, &["record"]));
    assert!(stderr.contains("edited by hand"), "{stderr}");
    escaped(&stderr);
    let out = run_in(&repo, &["generate", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    escaped(&String::from_utf8_lossy(&out.stdout));
    let out = run_in(&repo, &["record", "--force"]);
    assert_eq!(out.status.code(), Some(0));
    escaped(&String::from_utf8_lossy(&out.stdout));
}

/// A workspace of `services` services in `namespaces` namespaces, each calling the next two in
/// its namespace and one in the next namespace.
fn big(services: usize, namespaces: usize) -> String {
    let per = services / namespaces;
    let mut text = String::from("version = 1\n[project]\nname = \"big\"\n");
    for i in 0..services {
        let ns = i / per;
        let at = |k: usize| format!("\"n{ns}/s{}\"", ns * per + (i % per + k) % per);
        let other = (ns + 1) % namespaces;
        text.push_str(&format!(
            "[[services]]\nname = \"s{i}\"\nnamespace = \"n{ns}\"\nport = 80\ncalls = [{}, {}, \"n{other}/s{}\"]\n",
            at(1),
            at(2),
            other * per + i % per
        ));
    }
    text
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn the_record_of_10000_services_stays_a_document_and_is_never_refused() {
    let (_tmp, repo) = git_repo(true);
    std::fs::write(repo.join("k8s-advisor.toml"), big(10_000, 400)).unwrap();
    let adr = repo.join("docs/adr");
    // A record an earlier version wrote, listing every service: 1.5 MB, intact.
    let body = format!(
        "---\nstatus: accepted\ndate: 2026-01-02\n---\n\n# Run big\n\n{}",
        "| n0 | — | s0, s1, s2, s3 | cluster only |\n".repeat(36_000)
    );
    let marker = k8s_advisor::record::marker("big", false, &body);
    std::fs::create_dir_all(&adr).unwrap();
    let old = adr.join("0001-run-big.md");
    std::fs::write(&old, format!("{body}\n\n{marker}\n")).unwrap();
    assert!(std::fs::metadata(&old).unwrap().len() > 1_500_000);

    let said = record(&repo, &[]);
    assert!(
        said.contains("Marked docs/adr/0001-run-big.md as superseded"),
        "{said}"
    );
    let path = adr.join(records(&adr).pop().unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    // A page a person reads: summaries, the largest items, where the full lists are.
    assert!(text.len() < 48 * 1024, "{} bytes", text.len());
    assert!(text.contains("The 20 business domains with the most calls, of 400"));
    assert!(text.contains("370 more hold 9250"), "{text}");
    assert!(text.contains("… and 17 more"));
    markdownlint(std::slice::from_ref(&path));
    mermaid_blocks_parse(&text);
    // Its own output is never refused: the next run finds it unchanged.
    let said = record(&repo, &[]);
    assert!(said.contains("Unchanged"), "{said}");
}
