//! `assess` on the examples: verdicts, sources and the JSON contract.

use serde_json::Value;

use crate::support::{bin, example};

fn assess_json(name: &str) -> Value {
    let output = bin()
        .args(["assess", "--format", "json", "-w"])
        .arg(example(name))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn criterion<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("criterion {id} missing"))
}

#[test]
fn picturesocial_should_use_kubernetes() {
    let report = assess_json("picturesocial");
    assert_eq!(report["project"], "picturesocial");
    assert_eq!(report["recommended"], true);
    assert_eq!(report["score"], 4);
    assert_eq!(report["max-score"], 5);
    assert_eq!(report["threshold"], 2);
    for (id, status, source) in [
        ("independent-services", "met", "evidence"),
        ("local-network-dependencies", "met", "evidence"),
        ("multiple-teams", "met", "evidence"),
        ("infrastructure-control", "met", "answer"),
        ("hybrid-cloud", "not-met", "answer"),
    ] {
        let c = criterion(&report, id);
        assert_eq!(c["status"], status, "{id}");
        assert_eq!(c["source"], source, "{id}");
    }
    assert_eq!(
        criterion(&report, "independent-services")["detail"],
        "12 services, at least 10 needed"
    );
    assert_eq!(report["alternatives"].as_array().unwrap().len(), 0);
}

#[test]
fn family_blog_should_not() {
    let report = assess_json("family-blog");
    assert_eq!(report["recommended"], false);
    assert_eq!(report["score"], 0);
    assert!(report["alternatives"].as_array().unwrap().len() >= 3);
    assert_eq!(
        criterion(&report, "multiple-teams")["detail"],
        "1 team, at least 2 needed"
    );
}

#[test]
fn unanswered_is_never_no_and_contradictions_are_called_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k8s-advisor.toml");
    std::fs::write(
        &path,
        r#"version = 1
[project]
name = "duo"
[answers]
multiple-teams = true
[[services]]
name = "a"
team = "one"
"#,
    )
    .unwrap();
    let output = bin()
        .args(["assess", "--format", "json", "-w"])
        .arg(&path)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let teams = criterion(&report, "multiple-teams");
    assert_eq!(teams["status"], "met");
    assert_eq!(teams["source"], "answer");
    assert_eq!(teams["contradiction"], true);
    let hybrid = criterion(&report, "hybrid-cloud");
    assert_eq!(hybrid["status"], "unanswered");
    assert_eq!(hybrid["source"], "none");
    // Score 1 of 2 with two criteria open: the verdict can still change.
    assert_eq!(report["recommended"], false);
    assert_eq!(report["undecided"], true);

    let text = bin().args(["assess", "-w"]).arg(&path).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("contradict the model"), "{text}");
    assert!(
        text.contains("multiple-teams: answered yes, but the model says otherwise (1 team"),
        "{text}"
    );
    assert!(
        text.contains("Answering them under [answers] could change the verdict"),
        "{text}"
    );
}

#[test]
fn a_user_policy_changes_threshold_and_weights() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    let shipped =
        std::fs::read_to_string(crate::support::root().join("policies/criteria.toml")).unwrap();
    let custom = shipped.replace("threshold = 2", "threshold = 6").replacen(
        "weight = 1",
        "weight = 3",
        1,
    ) + "\n[[criteria]]\nid = \"compliance\"\ntitle = \"Compliance\"\nquestion = \"Must workloads be isolated for an audit?\"\nhelp = \"Auditors ask for network isolation.\"\n";
    std::fs::write(policies.join("criteria.toml"), custom).unwrap();
    let output = bin()
        .args(["assess", "--format", "json", "--policies"])
        .arg(&policies)
        .arg("-w")
        .arg(example("picturesocial"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["threshold"], 6);
    assert_eq!(report["max-score"], 8);
    assert_eq!(report["score"], 6);
    assert_eq!(report["recommended"], true);
    assert_eq!(criterion(&report, "compliance")["status"], "unanswered");
}

#[test]
fn a_broken_policy_file_is_reported_like_a_workspace() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("criteria.toml"),
        "threshold = 2\n[[criteria]]\nid = \"x\"\ntitle = \"X\"\nquestion = \"?\"\nhelp = \"\"\nwieght = 2\n",
    )
    .unwrap();
    let output = bin()
        .args(["assess", "--policies"])
        .arg(dir.path())
        .arg("-w")
        .arg(example("picturesocial"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("unknown key `wieght`"), "{stderr}");
    assert!(stderr.contains("criteria.toml:7:1"), "{stderr}");
    assert!(stderr.contains("did you mean `weight`?"), "{stderr}");
}

#[test]
fn markdown_report_has_a_table() {
    let output = bin()
        .args(["assess", "--format", "markdown", "-w"])
        .arg(example("family-blog"))
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("| Criterion | Status | Source | Detail |\n| --- | --- | --- | --- |"),
        "{text}"
    );
    assert!(text.contains("Simpler platforms to consider"), "{text}");
}

#[test]
fn the_workspace_is_found_upward() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example("family-blog"), dir.path().join("k8s-advisor.toml")).unwrap();
    // Upward up to the repository root; outside a repository only the current folder counts.
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let nested = dir.path().join("src/deep");
    std::fs::create_dir_all(&nested).unwrap();
    let output = bin()
        .current_dir(&nested)
        .args(["assess", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["project"], "family-blog");
}

#[test]
fn every_example_assesses_in_every_format() {
    let examples = crate::support::examples();
    assert!(examples.len() >= 2);
    for path in examples {
        for format in ["text", "json", "markdown"] {
            bin()
                .args(["assess", "--format", format, "-w"])
                .arg(&path)
                .assert()
                .success();
        }
    }
}
