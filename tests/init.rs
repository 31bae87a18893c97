//! `init`: scripted questionnaire sessions through the library, the non-interactive starter,
//! the refusals, and one session through a real pseudo-terminal.

use std::path::Path;

use k8s_advisor::init::questionnaire;
use k8s_advisor::policy::Policy;
use k8s_advisor::prompt::Script;

use crate::support::bin;

fn session(answers: &[&str]) -> Result<k8s_advisor::init::Outcome, k8s_advisor::Error> {
    let policy = Policy::load(None).unwrap();
    let mut script = Script::new(answers.iter().copied());
    questionnaire(&mut script, &policy, Path::new("k8s-advisor.toml"), "shop")
}

/// A whole session: two domains, three services, calls, criteria.
const SHOP: &[&str] = &[
    "",                 // project name: default "shop"
    "An online shop",   // description
    "eks (Amazon EKS)", // platform
    "storefront",       // first domain
    "web-team",         // its team
    "orders",           // second domain
    "checkout",         // its team
    "",                 // no more domains
    "web",              // first service
    "storefront",       // its domain
    "8080",             // container port
    "80",               // service port
    "public: a load balancer on the internet",
    "",           // image: default
    "orders-api", // second service
    "orders",
    "",       // container port: default 8080
    "",       // service port: default 80
    "",       // exposure: default cluster
    "",       // image
    "mailer", // third service, a worker without ports
    "orders",
    "", // port: accept the default 8080...
    "",
    "internal: a private load balancer for the company network",
    "10.20.0.0/16, 192.168.0.0/24", // internal CIDRs
    "ghcr.io/shop/mailer:1.0.0",
    "",                  // no more services
    "orders/orders-api", // web calls
    "orders/mailer",     // orders-api calls
    "",                  // mailer calls nothing
    "",                  // independent-services: keep the model's "no"
    "",                  // local-network-dependencies: keep the model's "yes"
    "",                  // multiple-teams: keep "yes"
    "y",                 // infrastructure-control
    "n",                 // hybrid-cloud
];

#[test]
fn a_scripted_session_writes_a_valid_workspace_and_a_verdict() {
    let outcome = session(SHOP).unwrap();
    let text = &outcome.text;
    assert!(text.contains("name = \"shop\""), "{text}");
    assert!(text.contains("platform = \"eks\""), "{text}");
    assert!(
        text.contains("internal-cidrs = [\"10.20.0.0/16\", \"192.168.0.0/24\"]"),
        "{text}"
    );
    assert!(text.contains("calls = [\"orders/orders-api\"]"), "{text}");
    assert!(
        text.contains("image = \"ghcr.io/shop/mailer:1.0.0\""),
        "{text}"
    );
    assert!(
        text.contains("image = \"registry.example.com/shop/web:0.1.0\""),
        "{text}"
    );
    // Answers that repeat the evidence are not written; the others are.
    assert!(text.contains("infrastructure-control = true"), "{text}");
    assert!(text.contains("hybrid-cloud = false"), "{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("multiple-teams =")),
        "{text}"
    );
    // Score: local-network-dependencies, multiple-teams, infrastructure-control.
    assert_eq!(outcome.verdict.score, 3);
    assert!(outcome.verdict.recommended);

    // The file is what `assess` reads back, with the same verdict.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k8s-advisor.toml");
    std::fs::write(&path, text).unwrap();
    let stdout =
        crate::support::success(bin().args(["assess", "--format", "json", "-w"]).arg(&path));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["score"], 3);
}

#[test]
fn the_questionnaire_refuses_invalid_answers() {
    let mut answers = SHOP.to_vec();
    answers[0] = "My Shop";
    let err = session(&answers).err().expect("refused");
    let text = format!("{err}");
    assert!(text.contains("\"My Shop\""), "{text}");

    let mut answers = SHOP.to_vec();
    answers[3] = "kube-system";
    assert!(session(&answers).is_err());
}

#[test]
fn running_out_of_answers_is_an_interruption_and_writes_nothing() {
    let err = session(&SHOP[..10]).err().expect("interrupted");
    assert!(matches!(err, k8s_advisor::Error::Interrupted));
}

#[test]
fn non_interactive_writes_a_valid_commented_starter() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("My Product");
    std::fs::create_dir(&project).unwrap();
    bin()
        .current_dir(&project)
        .args(["init", "--non-interactive"])
        .assert()
        .success();
    let text = std::fs::read_to_string(project.join("k8s-advisor.toml")).unwrap();
    assert!(text.contains("name = \"my-product\""), "{text}");
    assert!(
        text.lines().filter(|l| l.starts_with('#')).count() >= 5,
        "{text}"
    );
    bin().current_dir(&project).arg("assess").assert().success();
}

#[test]
fn init_never_overwrites_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k8s-advisor.toml");
    std::fs::write(&path, "# mine\n").unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["init", "--non-interactive"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
    bin()
        .current_dir(dir.path())
        .args(["init", "--non-interactive", "--force"])
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("[project]")
    );
}

#[test]
fn without_a_terminal_init_fails_at_once_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(dir.path())
        .arg("init")
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--non-interactive"), "{stderr}");
    assert!(!dir.path().join("k8s-advisor.toml").exists());
}

/// Drives the real binary through a pseudo-terminal: the dialoguer screens a person sees.
#[test]
fn a_session_through_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("tiny-shop");
    std::fs::create_dir(&project).unwrap();
    let exe = assert_cmd::cargo::cargo_bin("k8s-advisor");
    let mut cmd = std::process::Command::new(exe);
    cmd.current_dir(&project)
        .arg("init")
        .env("TERM", "xterm-256color")
        .env("NO_COLOR", "1");
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    const ENTER: &str = "\r";
    const DOWN: &str = "\x1b[B";
    let step = |p: &mut rexpect::session::PtySession, prompt: &str, keys: &str| {
        p.exp_string(prompt)
            .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
        settle();
        p.send(keys).unwrap();
        p.flush().unwrap();
    };
    step(&mut p, "Project name", ENTER);
    step(
        &mut p,
        "One-sentence description",
        &format!("Tiny shop{ENTER}"),
    );
    step(&mut p, "Where will the cluster run?", ENTER);
    step(&mut p, "First business domain", ENTER);
    step(&mut p, "First service name", &format!("api{ENTER}"));
    step(&mut p, "Port api listens on", ENTER);
    step(&mut p, "Port callers use", ENTER);
    step(&mut p, "Who reaches api from outside the cluster?", ENTER);
    step(&mut p, "Container image of api", ENTER);
    step(&mut p, "Another service name", &format!("web{ENTER}"));
    step(&mut p, "Port web listens on", ENTER);
    step(&mut p, "Port callers use", ENTER);
    step(
        &mut p,
        "Who reaches web from outside the cluster?",
        &format!("{DOWN}{DOWN}{ENTER}"),
    );
    step(&mut p, "Container image of web", ENTER);
    step(&mut p, "Another service name", ENTER);
    step(&mut p, "Which services does tiny-shop/api call?", ENTER);
    step(
        &mut p,
        "Which services does tiny-shop/web call?",
        &format!(" {ENTER}"),
    );
    for _ in 0..5 {
        step(&mut p, "?", ENTER);
    }
    p.exp_string("Wrote k8s-advisor.toml").unwrap();
    p.exp_eof().unwrap();
    let text = std::fs::read_to_string(project.join("k8s-advisor.toml")).unwrap();
    assert!(text.contains("name = \"tiny-shop\""), "{text}");
    assert!(text.contains("expose = \"public\""), "{text}");
    assert!(text.contains("calls = [\"tiny-shop/api\"]"), "{text}");
}

#[test]
fn ctrl_c_in_the_middle_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let exe = assert_cmd::cargo::cargo_bin("k8s-advisor");
    let mut cmd = std::process::Command::new(exe);
    cmd.current_dir(dir.path())
        .arg("init")
        .env("TERM", "xterm-256color")
        .env("NO_COLOR", "1");
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    for prompt in ["Project name", "One-sentence description"] {
        p.exp_string(prompt).unwrap();
        settle();
        p.send_line("").unwrap();
    }
    p.exp_string("Where will the cluster run?").unwrap();
    settle();
    p.send_control('c').unwrap();
    p.exp_eof().unwrap();
    assert!(!dir.path().join("k8s-advisor.toml").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The prompt text appears before dialoguer switches the terminal to raw mode; keys sent in
/// between would be cooked by the line discipline. Give it a moment.
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(150));
}
