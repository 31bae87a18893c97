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
    // Its two calls are local-network dependencies; nothing else is met.
    assert_eq!(report["score"], 1);
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

// ----- the verdict does not depend on how the boxes are drawn -----

/// Assesses `workspace` (text) in a fresh folder, with `criteria` as the policy's
/// criteria.toml when given; returns the JSON report.
fn assess_text(workspace: &str, criteria: Option<&str>) -> Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k8s-advisor.toml"), workspace).unwrap();
    let mut cmd = bin();
    cmd.current_dir(dir.path())
        .args(["assess", "--format", "json"]);
    if let Some(criteria) = criteria {
        std::fs::create_dir(dir.path().join("policies")).unwrap();
        std::fs::write(dir.path().join("policies/criteria.toml"), criteria).unwrap();
        cmd.args(["--policies", "policies"]);
    }
    serde_json::from_str(&crate::support::success(&mut cmd)).unwrap()
}

/// A shop of four services calling each other: all in namespace `shop`, or (`split`) in the
/// domains `web`, `orders` and `payments`. `teams` is the text of the [[namespaces]] tables.
fn shop(split: bool, namespaces: &str) -> String {
    let ns = |domain: &'static str| if split { domain } else { "shop" };
    let at = |domain: &'static str, name: &str| format!("{}/{name}", ns(domain));
    format!(
        "version = 1\n[project]\nname = \"shop\"\n{namespaces}\n\
         [[services]]\nname = \"front\"\nnamespace = \"{}\"\nport = 80\ncalls = [\"{}\", \"{}\"]\n\
         [[services]]\nname = \"cart\"\nnamespace = \"{}\"\nport = 80\ncalls = [\"{}\"]\n\
         [[services]]\nname = \"checkout\"\nnamespace = \"{}\"\nport = 80\ncalls = [\"{}\"]\n\
         [[services]]\nname = \"charge\"\nnamespace = \"{}\"\nport = 80\n",
        ns("web"),
        at("orders", "cart"),
        at("orders", "checkout"),
        ns("orders"),
        at("orders", "checkout"),
        ns("orders"),
        at("payments", "charge"),
        ns("payments"),
    )
}

#[test]
fn local_network_dependencies_count_every_call_however_the_namespaces_are_drawn() {
    let together = assess_text(&shop(false, ""), None);
    let split = assess_text(&shop(true, ""), None);
    for report in [&together, &split] {
        let c = criterion(report, "local-network-dependencies");
        assert_eq!(c["status"], "met", "{report:#}");
        assert_eq!(c["source"], "evidence");
        assert_eq!(c["evidence"]["metric"], "calls");
        assert_eq!(c["evidence"]["value"], 4);
    }
    assert_eq!(together["score"], split["score"]);
    assert_eq!(together["recommended"], split["recommended"]);
    // The detail still says how many calls cross domains when some do.
    assert_eq!(
        criterion(&together, "local-network-dependencies")["detail"],
        "4 service-to-service calls, at least 1 needed"
    );
    assert_eq!(
        criterion(&split, "local-network-dependencies")["detail"],
        "4 service-to-service calls (3 across namespaces), at least 1 needed"
    );
}

#[test]
fn only_teams_that_own_a_service_count() {
    // One service; three more namespaces with teams but without services.
    let empty_teams = "[[namespaces]]\nname = \"shop\"\nteam = \"web\"\n\
        [[namespaces]]\nname = \"a\"\nteam = \"alpha\"\n\
        [[namespaces]]\nname = \"b\"\nteam = \"beta\"\n\
        [[namespaces]]\nname = \"c\"\nteam = \"gamma\"\n";
    let text = format!(
        "version = 1\n[project]\nname = \"shop\"\n{empty_teams}\n[[services]]\nname = \"api\"\n"
    );
    let report = assess_text(&text, None);
    let teams = criterion(&report, "multiple-teams");
    assert_eq!(teams["status"], "not-met", "{report:#}");
    assert_eq!(teams["evidence"]["value"], 1);
    assert_eq!(teams["detail"], "1 team, at least 2 needed");

    // A service's own team counts as well as its namespace's.
    let two = shop(false, "[[namespaces]]\nname = \"shop\"\nteam = \"web\"\n").replace(
        "name = \"charge\"\n",
        "name = \"charge\"\nteam = \"payments\"\n",
    );
    let report = assess_text(&two, None);
    assert_eq!(criterion(&report, "multiple-teams")["status"], "met");
    assert_eq!(criterion(&report, "multiple-teams")["evidence"]["value"], 2);
}

#[test]
fn a_workspace_that_names_no_team_leaves_multiple_teams_unanswered() {
    let report = assess_text(&shop(true, ""), None);
    let teams = criterion(&report, "multiple-teams");
    assert_eq!(teams["status"], "unanswered", "{report:#}");
    assert_eq!(teams["source"], "none");
    assert_eq!(teams["evidence"], Value::Null);
    assert_eq!(
        teams["detail"],
        "not answered, and no service has a team: set `team` on the namespaces or services, or \
         add `multiple-teams = true` or `false` under [answers]"
    );
    // An answer still settles it.
    let answered = shop(true, "[answers]\nmultiple-teams = false\n");
    let report = assess_text(&answered, None);
    assert_eq!(criterion(&report, "multiple-teams")["status"], "not-met");
    assert_eq!(criterion(&report, "multiple-teams")["source"], "answer");
}

/// The evidence rules live in the policy file: a user's criteria.toml picks the metric, so the
/// namespace-independent and the namespace-dependent reading of a criterion are both
/// expressible, and the shipped policy is just one choice.
#[test]
fn a_custom_policy_chooses_the_metrics() {
    let policy = r#"threshold = 1

[[criteria]]
id = "service-calls"
title = "Calls between services"
question = "Do services call each other?"
help = "Any call."
evidence = { metric = "calls", at-least = 3 }

[[criteria]]
id = "domain-calls"
title = "Calls between domains"
question = "Do domains call each other?"
help = "Only calls that cross a namespace."
evidence = { metric = "cross-namespace-calls", at-least = 1 }

[[criteria]]
id = "three-teams"
title = "Three teams"
question = "Do three teams own services?"
help = "Teams without services do not count."
evidence = { metric = "teams", at-least = 3 }
"#;
    let teams = "[[namespaces]]\nname = \"web\"\nteam = \"storefront\"\n\
        [[namespaces]]\nname = \"orders\"\nteam = \"orders\"\n\
        [[namespaces]]\nname = \"archive\"\nteam = \"archivists\"\n";
    let status = |report: &Value, id: &str| criterion(report, id)["status"].clone();

    let together = assess_text(&shop(false, ""), Some(policy));
    let split = assess_text(&shop(true, teams), Some(policy));
    // `calls` ignores the drawing, `cross-namespace-calls` follows it, as the policy chose.
    assert_eq!(status(&together, "service-calls"), "met");
    assert_eq!(status(&split, "service-calls"), "met");
    assert_eq!(status(&together, "domain-calls"), "not-met");
    assert_eq!(status(&split, "domain-calls"), "met");
    // Three namespaces have teams, but `archive` owns no service (and `payments` has no team).
    assert_eq!(status(&split, "three-teams"), "not-met");
    assert_eq!(criterion(&split, "three-teams")["evidence"]["value"], 2);
    assert_eq!(status(&together, "three-teams"), "unanswered");
    assert_eq!(together["max-score"], 3);
}

// ----- what other commands say about the verdict -----

/// `init --non-interactive` writes sample services: it gives no verdict about them, and says
/// that `assess` would score the samples, as it does.
#[test]
fn the_starter_gets_no_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = crate::support::success(
        bin()
            .current_dir(dir.path())
            .args(["init", "--non-interactive"]),
    );
    assert!(!stdout.contains("Kubernetes is"), "{stdout}");
    assert!(!stdout.contains("score"), "{stdout}");
    assert!(
        stdout.contains("`k8s-advisor assess` judges the samples, not your product"),
        "{stdout}"
    );
    let assess = crate::support::success(bin().current_dir(dir.path()).arg("assess"));
    assert!(assess.contains("score"), "{assess}");
}

/// Runs `generate` on a copy of an example; returns (stdout, stderr).
fn generate(name: &str, args: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example(name), dir.path().join("k8s-advisor.toml")).unwrap();
    let out = bin()
        .current_dir(dir.path())
        .arg("generate")
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(dir.path().join("k8s/kustomization.yaml").is_file());
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A negative verdict still lets `generate` write (the user asked), but it says so first.
#[test]
fn generate_says_when_kubernetes_is_not_recommended() {
    let (_, stderr) = generate("family-blog", &[]);
    assert_eq!(
        stderr,
        "warning: Kubernetes is not recommended for family-blog yet (score 1 of 5, threshold 2): \
         prefer a simpler platform.\nWriting the Kubernetes layout anyway, as asked; \
         `k8s-advisor assess` explains the verdict and the alternatives.\n"
    );
    assert_eq!(generate("family-blog", &["-q"]).1, "");
    assert_eq!(generate("picturesocial", &[]).1, "");
}

/// The text report as a reviewer reads it, for both verdicts.
#[test]
fn text_report_snapshots() {
    for name in ["picturesocial", "family-blog"] {
        let text = crate::support::success(bin().args(["assess", "-w"]).arg(example(name)));
        insta::assert_snapshot!(format!("assess-text-{name}"), text);
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_as_workspace_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("k8s-advisor.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Reading a FIFO waits for a writer forever; the timeout turns a hang into a failure.
    let out = bin()
        .arg("-w")
        .arg(&fifo)
        .arg("assess")
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

/// A policy override that is not a regular file is an error, never a silent fallback to the
/// shipped policy the user meant to replace: a FIFO (without blocking), a folder, a dangling
/// link. A link to a real file is read.
#[cfg(unix)]
#[test]
fn a_policy_override_that_is_not_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("criteria.toml");
    let run = || {
        let out = bin()
            .arg("--policies")
            .arg(dir.path())
            .arg("-w")
            .arg(example("picturesocial"))
            .arg("assess")
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let made = std::process::Command::new("mkfifo")
        .arg(&policy)
        .status()
        .unwrap();
    assert!(made.success());
    let (code, stderr) = run();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("criteria.toml") && stderr.contains("not a regular file"),
        "{stderr}"
    );
    std::fs::remove_file(&policy).unwrap();
    std::fs::create_dir(&policy).unwrap();
    let (code, stderr) = run();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    std::fs::remove_dir(&policy).unwrap();
    std::os::unix::fs::symlink(dir.path().join("missing.toml"), &policy).unwrap();
    let (code, stderr) = run();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("criteria.toml"), "{stderr}");
    std::fs::remove_file(&policy).unwrap();
    let real = dir.path().join("real.toml");
    std::fs::copy(crate::support::root().join("policies/criteria.toml"), &real).unwrap();
    std::os::unix::fs::symlink(&real, &policy).unwrap();
    let (code, stderr) = run();
    assert_eq!(code, Some(0), "{stderr}");
}
