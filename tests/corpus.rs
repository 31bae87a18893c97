//! The corpus of bad workspaces: each file in `tests/corpus/` must be refused with exit code 2
//! and a message that names the problem and its line. The expected messages are insta
//! snapshots in `tests/snapshots/`, each read by a person before it was accepted.

use crate::support::{bin, root};

/// One run of the binary per file: exit 2, nothing on stdout, every problem located at
/// file:line:column with a hint, and the whole message as a reviewed snapshot.
#[test]
fn every_bad_workspace_is_refused_with_its_message() {
    let mut seen = 0;
    insta::glob!("corpus/*.toml", |path| {
        seen += 1;
        let relative = path
            .strip_prefix(root())
            .expect("corpus is inside the repo");
        let output = bin()
            .args(["assess", "--workspace"])
            .arg(relative)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{}", relative.display());
        assert!(
            output.stdout.is_empty(),
            "nothing on stdout for {}",
            relative.display()
        );
        let stderr = String::from_utf8(output.stderr).expect("utf-8 stderr");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let located = format!("[{}:", relative.display());
        assert!(
            stderr.contains(&located),
            "no file:line:column in\n{stderr}"
        );
        assert!(stderr.contains("help:"), "no hint in\n{stderr}");
        insta::assert_snapshot!(stderr);
    });
    assert!(seen >= 25, "the corpus has {seen} cases");
}

#[test]
fn a_missing_workspace_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = bin()
        .current_dir(dir.path())
        .arg("assess")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("no k8s-advisor.toml"), "{stderr}");
    assert!(stderr.contains("k8s-advisor init"), "{stderr}");
}

#[test]
fn a_huge_workspace_is_handled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k8s-advisor.toml");
    let mut text = String::from("version = 1\n[project]\nname = \"big\"\n");
    text.push_str(&format!("description = \"{}\"\n", "x".repeat(20_000_000)));
    std::fs::write(&path, text).unwrap();
    bin().args(["assess", "-w"]).arg(&path).assert().success();
}

#[test]
fn unknown_flags_and_formats_exit_2() {
    bin().args(["assess", "--format", "yaml"]).assert().code(2);
    bin().args(["frobnicate"]).assert().code(2);
}
