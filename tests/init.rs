//! `init`: scripted questionnaire sessions through the library, the non-interactive starter,
//! the refusals, and one session through a real pseudo-terminal.

use std::path::Path;

use k8s_advisor::init::questionnaire;
use k8s_advisor::policy::Policy;
use k8s_advisor::prompt::Script;

use crate::support::bin;

fn session(answers: &[&str]) -> Result<k8s_advisor::init::Outcome, k8s_advisor::Error> {
    let mut script = Script::new(answers.iter().copied());
    ask(&mut script)
}

/// The questionnaire with the shipped policy, for a project folder called "shop".
fn ask(
    p: &mut dyn k8s_advisor::prompt::Prompter,
) -> Result<k8s_advisor::init::Outcome, k8s_advisor::Error> {
    let policy = Policy::load(None).unwrap();
    let guardrails = k8s_advisor::check::Guardrails::load(None).unwrap();
    questionnaire(
        p,
        &policy,
        &guardrails,
        Path::new("k8s-advisor.toml"),
        "shop",
    )
}

/// A whole session: two domains, three services (one a worker without ports), calls in both
/// directions of the entry order, egress, a size preset, criteria with a "don't know".
const SHOP: &[&str] = &[
    "",               // project name: default "shop"
    "An online shop", // description
    "eks",            // platform
    "storefront",     // first domain
    "web-team",       // its team
    "orders",         // second domain
    "checkout",       // its team
    "",               // no more domains
    "web",            // first service
    "storefront",     // its domain
    "",               // image: not known yet
    "",               // kind: web or API
    "",               // container port: default 8080
    "",               // port name: http
    "",               // Service port: on eks, the container port
    "public",         // exposure
    "",               // health check: none yet
    "",               // writable folders: none
    "",               // size: small
    "",               // egress: none
    "orders-api",     // second service
    "orders",
    "ghcr.io/shop/orders-api:1.2.0", // image
    "",
    "",
    "",
    "",
    "",                 // exposure: cluster
    "",                 // health
    "",                 // writable
    "medium",           // size
    "y",                // egress: yes
    "0.0.0.0/0",        // anywhere
    "",                 // ports: 443
    "payment provider", // reason
    "",                 // no more egress
    "mailer",           // third service, a worker
    "orders",
    "ghcr.io/shop/mailer:1.0.0",
    "worker",            // takes no requests
    "",                  // writable
    "",                  // size
    "",                  // egress: none
    "",                  // no more services
    "orders/orders-api", // web calls
    "",                  // a request it waits for
    "",                  // orders-api calls nothing
    "orders/orders-api", // mailer calls
    "",                  // a request it waits for
    "",                  // independent-services: keep the model's "no"
    "",                  // local-network-dependencies: keep the model's "yes"
    "",                  // multiple-teams: keep "yes"
    "yes",               // infrastructure-control
    "",                  // hybrid-cloud: don't know
];

/// SHOP, then `extra` at the summary, then "write".
fn shop_then(extra: &[&str]) -> Vec<&'static str> {
    let mut answers: Vec<&'static str> = SHOP.to_vec();
    answers.extend(
        extra
            .iter()
            .map(|a| -> &'static str { Box::leak(a.to_string().into_boxed_str()) }),
    );
    answers.push(""); // write
    answers
}

/// The findings `check` reports on a workspace text, as (rule, subject).
fn findings(text: &str) -> Vec<(String, String)> {
    let policy = Policy::load(None).unwrap();
    let source = k8s_advisor::diagnostic::Source::new(Path::new("k8s-advisor.toml"), text);
    let ws = k8s_advisor::workspace::parse(&source, &policy.criterion_ids()).unwrap();
    let guardrails = k8s_advisor::check::Guardrails::load(None).unwrap();
    let report =
        k8s_advisor::check::check(&k8s_advisor::graph::ServiceGraph::build(&ws), &guardrails);
    report
        .findings
        .iter()
        .map(|f| (f.rule.as_str().to_string(), f.subject.clone()))
        .collect()
}

#[test]
fn a_scripted_session_writes_a_valid_workspace_and_a_verdict() {
    let outcome = session(&shop_then(&[])).unwrap();
    let text = &outcome.text;
    assert!(text.contains("name = \"shop\""), "{text}");
    // A text file: its last line ends with a line break.
    assert!(text.ends_with("memory = \"512Mi\" } }\n"), "{text:?}");
    assert!(text.contains("platform = \"eks\""), "{text}");
    // eks: the Service port defaults to the container port.
    assert!(
        text.contains("ports = [{ name = \"http\", port = 8080, target = 8080 }]"),
        "{text}"
    );
    // A call to a service entered later (mailer → orders-api is earlier; web → orders-api later).
    assert!(text.contains("calls = [\"orders/orders-api\"]"), "{text}");
    // The unknown image is the placeholder, with its comment.
    assert!(
        text.contains("image = \"registry.example.invalid/replace-me/web:0.0.0\""),
        "{text}"
    );
    assert!(text.contains("# Not known yet"), "{text}");
    // Egress as answered; medium size; replicas 2 for the exposed and the called, 1 for the worker.
    assert!(
        text.contains("{ cidr = \"0.0.0.0/0\", ports = [443], reason = \"payment provider\" },"),
        "{text}"
    );
    assert!(
        text.contains("requests = { cpu = \"500m\", memory = \"512Mi\" }"),
        "{text}"
    );
    let replicas: Vec<&str> = text.lines().filter(|l| l.starts_with("replicas")).collect();
    assert_eq!(
        replicas,
        ["replicas = 2", "replicas = 2", "replicas = 1"],
        "{text}"
    );
    // The worker has no ports.
    assert!(text.contains("ports = []"), "{text}");
    // Answers that repeat the evidence are not written; "don't know" is not written at all.
    assert!(text.contains("\ninfrastructure-control = true"), "{text}");
    assert!(!text.contains("\nhybrid-cloud ="), "{text}");
    assert!(text.contains("# hybrid-cloud = true"), "{text}");
    assert!(!text.contains("\nmultiple-teams ="), "{text}");
    let hybrid = outcome
        .verdict
        .criteria
        .iter()
        .find(|c| c.id == "hybrid-cloud")
        .unwrap();
    assert_eq!(hybrid.status, k8s_advisor::assess::Status::Unanswered);
    // Score: local-network-dependencies, multiple-teams, infrastructure-control.
    assert_eq!(outcome.verdict.score, 3);
    assert!(outcome.verdict.recommended);
    // `check` reports only what the user chose: the unknown image and the open egress.
    assert_eq!(
        findings(text),
        [
            ("image-missing".to_string(), "storefront/web".to_string()),
            (
                "egress-anywhere".to_string(),
                "orders/orders-api".to_string()
            ),
        ]
    );

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
fn a_service_is_changed_from_the_summary() {
    let outcome = session(&shop_then(&[
        "change a service",
        "orders/mailer",
        "",     // keep the name
        "",     // domain: orders
        "",     // image kept
        "web",  // now takes requests
        "9000", // container port
        "",     // port name: http
        "",     // Service port: on eks, 9000
        "",     // cluster
        "",     // no health check
        "",     // writable: none
        "",     // size kept
        "",     // no egress
        "3",    // replicas
    ]))
    .unwrap();
    let text = &outcome.text;
    let mailer = &text[text.find("name = \"mailer\"").unwrap()..];
    assert!(mailer.contains("port = 9000, target = 9000"), "{mailer}");
    assert!(mailer.contains("replicas = 3"), "{mailer}");
    assert!(
        mailer.contains("image = \"ghcr.io/shop/mailer:1.0.0\""),
        "{mailer}"
    );
}

#[test]
fn a_service_is_deleted_from_the_summary_with_the_calls_to_it() {
    let outcome = session(&shop_then(&["delete a service", "orders/orders-api", "y"])).unwrap();
    let text = &outcome.text;
    assert!(!text.contains("orders-api"), "{text}");
    // Nobody is called any more: web keeps 2 replicas (public), mailer 1.
    assert_eq!(text.matches("calls = []").count(), 2, "{text}");
}

#[test]
fn going_back_from_a_submenu_changes_nothing() {
    let plain = session(&shop_then(&[])).unwrap().text;
    let back = session(&shop_then(&[
        "change a service",
        "back to the summary",
        "delete a service",
        "back to the summary",
        "change the domains",
        "back to the summary",
    ]))
    .unwrap()
    .text;
    assert_eq!(plain, back);
}

#[test]
fn a_service_added_from_the_summary_is_called_by_earlier_ones() {
    let outcome = session(&shop_then(&[
        "add a service",
        "search",
        "storefront",
        "", // image unknown
        "", // web or API
        "", // 8080
        "", // http
        "", // 8080
        "", // cluster
        "", // no health check
        "", // writable: none
        "large",
        "",                  // no egress
        "orders/orders-api", // search calls
        "",                  // sync
        "storefront/web",    // and web calls search
        "",                  // sync
    ]))
    .unwrap();
    let text = &outcome.text;
    let web =
        &text[text.find("name = \"web\"").unwrap()..text.find("name = \"orders-api\"").unwrap()];
    assert!(
        web.contains("calls = [\"orders/orders-api\", \"storefront/search\"]"),
        "{web}"
    );
    let search = &text[text.find("name = \"search\"").unwrap()..];
    assert!(search.contains("replicas = 2"), "{search}");
    assert!(search.contains("cpu = \"1\", memory = \"2Gi\""), "{search}");
}

#[test]
fn a_duplicate_name_is_caught_the_moment_it_is_typed() {
    let mut answers = SHOP.to_vec();
    // A second "web", refused at once; then the real name.
    let at = answers.iter().position(|a| *a == "orders-api").unwrap();
    answers.insert(at, "web");
    answers.push("");
    let mut script = Script::new(answers.iter().copied());
    ask(&mut script).unwrap();
    let refusal = script
        .transcript
        .iter()
        .position(|t| t == "refused: storefront/web is already a service; pick another name")
        .expect("refused");
    assert_eq!(
        script.transcript[refusal - 1],
        "Another service name, empty when done"
    );
    // A duplicate domain too.
    let mut answers = SHOP.to_vec();
    answers.insert(5, "storefront");
    answers.push("");
    let mut script = Script::new(answers.iter().copied());
    ask(&mut script).unwrap();
    assert!(
        script
            .transcript
            .contains(&"refused: storefront is already a domain".to_string())
    );
}

#[test]
fn hostile_answers_are_refused_and_asked_again() {
    for hostile in [
        "line\u{2028}separator",
        "escape \u{1b}[2J",
        "direction \u{202e}override",
        "delete\u{7f}",
    ] {
        let mut answers = shop_then(&[]);
        let leaked: &'static str = Box::leak(hostile.to_string().into_boxed_str());
        answers.insert(1, leaked);
        let mut script = Script::new(answers.iter().copied());
        let outcome = ask(&mut script).unwrap();
        assert!(
            script.transcript.iter().any(|t| t.starts_with("refused: ")),
            "{hostile:?} accepted"
        );
        assert!(outcome.text.contains("description = \"An online shop\""));
    }
}

/// What the file accepts, the questions accept: a tab and a very long text are taken (the
/// workspace file has no length limit) and come back from the written file unchanged.
#[test]
fn answers_the_file_accepts_are_taken() {
    let huge = "x".repeat(100_000);
    for text in ["tab\tcharacter", huge.as_str()] {
        let mut answers = shop_then(&[]);
        answers[1] = Box::leak(text.to_string().into_boxed_str());
        let policy = Policy::load(None).unwrap();
        let mut script = Script::new(answers.iter().copied());
        let outcome = ask(&mut script).unwrap();
        assert!(
            !script.transcript.iter().any(|t| t.starts_with("refused: ")),
            "{:?}",
            script.transcript
        );
        let source = k8s_advisor::diagnostic::Source::new(Path::new("k.toml"), &outcome.text);
        let ws = k8s_advisor::workspace::parse(&source, &policy.criterion_ids()).unwrap();
        assert_eq!(ws.project.description, text);
    }
}

#[test]
fn the_questionnaire_asks_again_after_an_invalid_answer() {
    let mut answers = shop_then(&[]);
    answers.insert(0, "My Shop");
    let mut script = Script::new(answers.iter().copied());
    let outcome = ask(&mut script).unwrap();
    assert!(outcome.text.contains("name = \"shop\""));
    assert!(
        script.transcript[2].starts_with("refused: "),
        "{:?}",
        script.transcript
    );
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

const ENTER: &str = "\r";
const DOWN: &str = "\x1b[B";
/// Console's escape sequence that shows the cursor again.
const SHOW_CURSOR: &str = "\x1b[?25h";
/// The "›" that ends every prompt line of dialoguer's colorful theme, as rexpect reads it: it
/// turns each byte of the output into one char, so UTF-8 arrives as its three bytes.
const PROMPT_END: &str = "\u{e2}\u{80}\u{ba}";

/// `k8s-advisor init` in `dir` on a pseudo-terminal, with `--color never`.
fn spawn_init(dir: &Path, args: &[&str]) -> rexpect::session::PtySession {
    let exe = assert_cmd::cargo::cargo_bin("k8s-advisor");
    let mut cmd = std::process::Command::new(exe);
    cmd.current_dir(dir)
        .args(["init", "--color", "never"])
        .args(args)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR");
    rexpect::session::spawn_command(cmd, Some(30_000)).unwrap()
}

/// Waits until the prompt is drawn, then types `keys`. Dialoguer draws the prompt line last
/// for a text prompt (it ends in `PROMPT_END`) and the items last for a list, so `last` names the last
/// text drawn: the keys go out only once the prompt waits for them, with no fixed sleep.
fn answer(p: &mut rexpect::session::PtySession, prompt: &str, last: &str, keys: &str) {
    p.exp_string(prompt)
        .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
    p.exp_string(last)
        .unwrap_or_else(|e| panic!("waiting for {last:?} after {prompt:?}: {e}"));
    p.send(keys).unwrap();
    p.flush().unwrap();
}

/// A text prompt or a yes/no question.
fn type_in(p: &mut rexpect::session::PtySession, prompt: &str, keys: &str) {
    answer(p, prompt, PROMPT_END, keys);
}

/// The questions about a service that takes requests, through a real terminal, from its image
/// to its exposure: `image` and `expose` are the keys typed there; Enter keeps the rest (a web
/// service, or the image's kind, the port, its name, the Service port).
fn takes_requests(p: &mut rexpect::session::PtySession, name: &str, image: &str, expose: &str) {
    type_in(p, &format!("Container image of {name}"), image);
    answer(
        p,
        &format!("What kind of service is {name}?"),
        "stateful:",
        ENTER,
    );
    type_in(p, &format!("Port {name} listens on"), ENTER);
    type_in(p, "Name of port", ENTER);
    type_in(p, "Port callers use", ENTER);
    answer(
        p,
        &format!("Who reaches {name} from outside"),
        "public:",
        expose,
    );
}

/// Enter at every criterion (the model's answer, or "don't know") and at the summary, which
/// writes the workspace.
fn criteria_then_write(p: &mut rexpect::session::PtySession) {
    for _ in 0..3 {
        p.exp_string("The model says").unwrap();
        type_in(p, "?", ENTER);
    }
    for _ in 0..2 {
        answer(p, "?", "don't know", ENTER);
    }
    answer(
        p,
        "Write it, or change something?",
        "change the criteria answers",
        ENTER,
    );
    p.exp_string("Wrote k8s-advisor.toml").unwrap();
}

/// The last item of edit mode's menu, which still reads "leave it as it is": nothing is
/// written, and `init` says so.
fn leave_unchanged(p: &mut rexpect::session::PtySession) {
    answer(
        p,
        "What do you want to do?",
        "leave it as it is",
        &format!("{DOWN}{DOWN}{DOWN}{ENTER}"),
    );
    p.exp_string("Nothing changed in k8s-advisor.toml").unwrap();
    p.exp_eof().unwrap();
}

/// The project questions through a real terminal: the folder's name, `description`, EKS, the
/// project's own domain, owned by shop-team.
fn project_on_eks(p: &mut rexpect::session::PtySession, project: &str, description: &str) {
    type_in(p, "Project name", ENTER);
    type_in(
        p,
        "One-sentence description",
        &format!("{description}{ENTER}"),
    );
    // From the default, generic (the last), down wraps to eks.
    answer(
        p,
        "Where will the cluster run?",
        "generic",
        &format!("{DOWN}{ENTER}"),
    );
    type_in(p, "First business domain", ENTER);
    type_in(
        p,
        &format!("Team that owns {project}"),
        &format!("shop-team{ENTER}"),
    );
}

fn exit_code(p: &rexpect::session::PtySession) -> Option<i32> {
    match p.process().wait().unwrap() {
        rexpect::process::WaitStatus::Exited(_, code) => Some(code),
        _ => None,
    }
}

/// Drives the real binary through a pseudo-terminal: the dialoguer screens a person sees, from
/// the first question to the end screen.
#[test]
fn a_session_through_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("tiny-shop");
    std::fs::create_dir(&project).unwrap();
    let mut p = spawn_init(&project, &[]);
    let p = &mut p;
    project_on_eks(p, "tiny-shop", "Tiny shop");
    type_in(p, "First service name", &format!("api{ENTER}"));
    takes_requests(p, "api", ENTER, ENTER);
    answer(p, "How does Kubernetes check", "none yet", ENTER);
    type_in(p, "Folders api writes to", ENTER);
    answer(p, "Size of api", "custom", ENTER);
    type_in(p, "Does api send traffic outside", ENTER);
    type_in(p, "Another service name", &format!("web{ENTER}"));
    takes_requests(
        p,
        "web",
        &format!("ghcr.io/tiny/web:1.0.0{ENTER}"),
        &format!("{DOWN}{DOWN}{ENTER}"),
    );
    answer(p, "How does Kubernetes check", "none yet", ENTER);
    type_in(p, "Folders web writes to", ENTER);
    answer(p, "Size of web", "custom", ENTER);
    type_in(p, "Does web send traffic outside", ENTER);
    type_in(p, "Another service name", ENTER);
    answer(
        p,
        "Which services does tiny-shop/api call?",
        "tiny-shop/web",
        ENTER,
    );
    answer(
        p,
        "Which services does tiny-shop/web call?",
        "tiny-shop/api",
        &format!(" {ENTER}"),
    );
    answer(
        p,
        "How does tiny-shop/web reach tiny-shop/api?",
        "telemetry:",
        ENTER,
    );
    criteria_then_write(p);
    p.exp_string("k8s-advisor graph --format mermaid").unwrap();
    p.exp_string("writes k8s/ and a decision record in docs/adr/")
        .unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(p), Some(0));
    let text = std::fs::read_to_string(project.join("k8s-advisor.toml")).unwrap();
    assert!(text.contains("name = \"tiny-shop\""), "{text}");
    assert!(text.contains("expose = \"public\""), "{text}");
    assert!(text.contains("calls = [\"tiny-shop/api\"]"), "{text}");
    // Port 8080 on both sides: on eks the Service port defaults to the container port.
    assert!(text.contains("port = 8080, target = 8080"), "{text}");
}

/// Ctrl-C at `prompt` (whose drawing ends with `last`): one line, the cursor shown, exit 130,
/// and no file, not even a temporary one.
fn ctrl_c_at(before: &[(&str, &str)], prompt: &str, last: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_init(dir.path(), &[]);
    for (prompt, keys) in before {
        type_in(&mut p, prompt, keys);
    }
    answer(&mut p, prompt, last, "\x03");
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains(SHOW_CURSOR), "{rest:?}");
    assert!(
        rest.contains("init interrupted; nothing was written"),
        "{rest:?}"
    );
    assert_eq!(
        rest.matches("nothing was written").count(),
        1,
        "one line: {rest:?}"
    );
    assert_eq!(exit_code(&p), Some(130));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn ctrl_c_at_a_text_prompt_leaves_cleanly() {
    ctrl_c_at(&[], "Project name", PROMPT_END);
}

#[test]
fn ctrl_c_at_a_list_prompt_restores_the_cursor() {
    ctrl_c_at(
        &[("Project name", ENTER), ("One-sentence description", ENTER)],
        "Where will the cluster run?",
        "generic",
    );
}

/// The first prompt as drawn with `--color` set to `choice`.
fn first_prompt(choice: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let exe = assert_cmd::cargo::cargo_bin("k8s-advisor");
    let mut cmd = std::process::Command::new(exe);
    cmd.current_dir(dir.path())
        .args(["init", "--color", choice])
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR");
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
    let drawn = p.exp_string(PROMPT_END).unwrap();
    p.send_control('c').unwrap();
    p.exp_eof().unwrap();
    drawn
}

#[test]
fn color_never_also_applies_to_the_prompts() {
    // Select Graphic Rendition: every colour or bold the theme would use starts so.
    let styled = |text: &str| text.contains("\x1b[") && text.contains('m');
    let never = first_prompt("never");
    assert!(never.contains("Project name"), "{never:?}");
    assert!(
        !never.contains("\x1b[3") && !never.contains("\x1b[1m"),
        "{never:?}"
    );
    let always = first_prompt("always");
    assert!(styled(&always) && always.contains("\x1b[3"), "{always:?}");
}

#[test]
fn init_on_an_existing_workspace_adds_a_service_through_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k8s-advisor.toml");
    std::fs::write(&path, EXISTING).unwrap();
    let mut p = spawn_init(dir.path(), &[]);
    let p = &mut p;
    answer(p, "What do you want to do?", "leave it as it is", ENTER);
    type_in(p, "Another service name", &format!("audit{ENTER}"));
    type_in(p, "Container image of audit", ENTER);
    answer(
        p,
        "What kind of service is audit?",
        "stateful:",
        &format!("{DOWN}{ENTER}"),
    );
    type_in(p, "Folders audit writes to", ENTER);
    answer(p, "Size of audit", "custom", ENTER);
    type_in(p, "Does audit send traffic outside", ENTER);
    answer(
        p,
        "Which services does shop/audit call?",
        "shop/api",
        &format!(" {ENTER}"),
    );
    answer(
        p,
        "How does shop/audit reach shop/api?",
        "telemetry:",
        ENTER,
    );
    answer(
        p,
        "What do you want to do?",
        "write the changes",
        &format!("{DOWN}{DOWN}{DOWN}{ENTER}"),
    );
    p.exp_string("Wrote k8s-advisor.toml").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(p), Some(0));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(EXISTING), "{text}");
    assert!(text.contains("name = \"audit\""), "{text}");
}

/// A hand-written workspace with comments in odd places, for the edit mode.
const EXISTING: &str = r#"# Our shop. Keep this comment!
version = 1

[project]
name = "shop"   # the product
platform = "eks"

[[services]]
# The API, owned by the web team.
name = "api"
image = "ghcr.io/shop/api:2.0.1"  # pinned on purpose
replicas = 3
ports = [{ name = "web", port = 8080, target = 8080 }]
resources = { requests = { cpu = "100m", memory = "128Mi" }, limits = { cpu = "200m", memory = "256Mi" } }

[[services]]
name = "db-proxy"
image = "ghcr.io/shop/db-proxy:1.0.0"
ports = [{ name = "pg", port = 5432, target = 5432 }]
calls = [] # nothing yet
"#;

#[test]
fn edit_mode_changes_a_service_and_keeps_comments_and_layout() {
    let mut script = Script::new([
        "change a service",
        "shop/db-proxy",
        "",         // image kept
        "",         // kind: web or API
        "",         // port 5432
        "",         // port name pg
        "",         // Service port 5432
        "",         // cluster
        "",         // no health check
        "",         // writable: none
        "medium",   // a size: resources were missing
        "",         // no egress
        "2",        // replicas
        "shop/api", // db-proxy calls api now
        "",         // sync
        "write the changes",
    ]);
    let outcome = edited(&mut script, EXISTING);
    let text = &outcome.text;
    // Everything above db-proxy is byte for byte what it was.
    let api_end = EXISTING.find("[[services]]\nname = \"db-proxy\"").unwrap();
    assert_eq!(&text[..api_end], &EXISTING[..api_end]);
    let proxy = &text[api_end..];
    assert!(
        proxy.contains("calls = [\"shop/api\"] # nothing yet"),
        "{proxy}"
    );
    assert!(proxy.contains("replicas = 2"), "{proxy}");
    assert!(proxy.contains("cpu = \"500m\""), "{proxy}");
    assert!(
        proxy.contains("ports = [{ name = \"pg\", port = 5432, target = 5432 }]"),
        "{proxy}"
    );
    // The api is now called, and keeps its 3 replicas; check is clean.
    assert_eq!(findings(text), []);
}

#[test]
fn edit_mode_with_no_change_writes_nothing() {
    let mut script = Script::new(["leave it as it is"]);
    let outcome = edit(&mut script, EXISTING).unwrap();
    assert!(outcome.is_none());
}

/// Answers every question at random, as a person trying things out would: sometimes the
/// default, sometimes a value, sometimes one the check refuses (then it tries again, as the
/// terminal asks again). Lists and counts are capped so that a session ends.
struct Random {
    state: u64,
    services: usize,
    domains: usize,
    egress: usize,
    reviews: usize,
}

impl Random {
    fn new(seed: u64) -> Self {
        Random {
            state: seed | 1,
            services: 0,
            domains: 0,
            egress: 0,
            reviews: 0,
        }
    }

    fn below(&mut self, n: usize) -> usize {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        (self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }

    fn candidates(&mut self, prompt: &str) -> Vec<String> {
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        if prompt.contains("service name") || prompt == "Service name" {
            self.services += 1;
            if self.services > 5 && !prompt.starts_with("First") {
                return owned(&[""]);
            }
            let n = self.below(7);
            return vec![
                "web".to_string(),
                "Bad Name".to_string(),
                format!("svc-{n}"),
                "".to_string(),
            ];
        }
        if prompt.contains("business domain") {
            self.domains += 1;
            if self.domains > 3 {
                return owned(&[""]);
            }
            return owned(&["sales", "orders", "kube-system", "default", "", "sales"]);
        }
        match prompt.split_whitespace().next().unwrap_or("") {
            "Project" => owned(&["", "Not A Label", "shop"]),
            "One-sentence" | "What" => owned(&["", "text\u{2028}", "\u{1b}[2J", "Sells things"]),
            "Team" => owned(&["", "team-a", "team b", "team-b"]),
            "Port" if prompt.contains("listens") => owned(&["", "0", "9090", "70000", "8443"]),
            "Container" => owned(&[
                "",
                "ghcr.io/shop/app:1.2.3",
                "bad image",
                "",
                "postgres:16.4",
                "redis:7",
                "nginx:latest",
            ]),
            "Destination:" => owned(&[
                "0.0.0.0/0",
                "10.1.2.3/8",
                "203.0.113.0/24, 198.51.100.0/24",
                "api.stripe.com",
                "1.2.3.4",
                "nonsense",
            ]),
            "Destination" => owned(&["", "all", "443, 5432", "0"]),
            "Addresses" => owned(&["203.0.113.0/24", "bad", "10.0.0.1/8"]),
            "Address" => owned(&["", "10.0.0.1/8", "172.16.0.0/12"]),
            "Name" => owned(&["", "grpc", "Bad Name", "a-very-long-port-name"]),
            "Size" => owned(&["", "0", "256m", "5Gi", "x"]),
            "Folder" => owned(&["", "data", "/var/lib/app", "/tmp/../x"]),
            "Folders" => owned(&[
                "",
                "none",
                "/var/cache/app, /var/run",
                "/tmp",
                "relative",
                "/data",
            ]),
            "Path" => owned(&["", "/healthz", "no-slash", "/with space"]),
            // Everything else (Service port, replicas, custom sizes) keeps the default, so
            // that no finding comes from a number typed here.
            _ => owned(&[""]),
        }
    }
}

impl k8s_advisor::prompt::Prompter for Random {
    fn input(
        &mut self,
        prompt: &str,
        default: &str,
        check: k8s_advisor::prompt::Check<'_>,
    ) -> Result<String, k8s_advisor::Error> {
        let mut candidates = self.candidates(prompt);
        while !candidates.is_empty() {
            let pick = candidates.remove(self.below(candidates.len()));
            let answer = if pick.is_empty() {
                default.to_string()
            } else {
                pick
            };
            if check(&answer).is_ok() {
                return Ok(answer);
            }
        }
        // The terminal would ask until something passes; the default always does here.
        check(default).map_err(|why| k8s_advisor::Error::usage(prompt, why))?;
        Ok(default.to_string())
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool, k8s_advisor::Error> {
        if prompt.contains("traffic") {
            self.egress += 1;
            return Ok(self.egress <= 3 && self.below(3) == 0);
        }
        Ok(match self.below(3) {
            0 => default,
            1 => true,
            _ => false,
        })
    }

    fn select(
        &mut self,
        prompt: &str,
        items: &[String],
        default: usize,
    ) -> Result<usize, k8s_advisor::Error> {
        if prompt.starts_with("Write it") {
            self.reviews += 1;
            if self.reviews > 4 {
                return Ok(0);
            }
        }
        if prompt.starts_with("Size") && self.below(2) == 0 {
            return Ok(default);
        }
        Ok(self.below(items.len()))
    }

    fn multi_select(
        &mut self,
        _: &str,
        items: &[String],
        _: &[bool],
    ) -> Result<Vec<usize>, k8s_advisor::Error> {
        Ok((0..items.len()).filter(|_| self.below(3) == 0).collect())
    }

    fn note(&mut self, _: &str) {}
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// Whatever a person answers, `init` writes a workspace that validates, and `check` finds
    /// only what the answers chose: an image left unknown, a moving tag kept after the warning,
    /// a database image run as a web service, egress to anywhere, a public service that is
    /// also called, many load balancers, one on AKS, a cycle of calls, a stateful service's one
    /// pod. Never missing resources, a single replica of a stateless service others depend on,
    /// or differing ports on EKS.
    #[test]
    fn every_workspace_init_writes_is_valid_and_checks_clean(seed in proptest::prelude::any::<u64>()) {
        let mut random = Random::new(seed);
        let outcome = ask(&mut random)
            .unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
        let chosen = [
            "image-missing",
            "egress-anywhere",
            "public-and-called",
            "load-balancers-per-namespace",
            // A load balancer on AKS, where none fails closed; init says so when it is chosen.
            "exposure-fails-open",
            "call-cycle",
            "namespace-cycle",
            "image-unpinned",
            "database-without-storage",
        ];
        let stateful = |subject: &str| {
            let name = subject.rsplit('/').next().unwrap_or(subject);
            let table = &outcome.text[outcome.text.find(&format!("name = \"{name}\"")).unwrap()..];
            let table = &table[..table.find("[[services]]").unwrap_or(table.len())];
            table.contains("kind = \"stateful\"")
        };
        for (rule, subject) in findings(&outcome.text) {
            proptest::prop_assert!(
                chosen.contains(&rule.as_str()) || (rule == "single-replica" && stateful(&subject)),
                "seed {}: {} on {}\n{}", seed, rule, subject, outcome.text
            );
        }
    }
}

#[test]
fn edit_mode_keeps_the_replicas_typed_for_a_service_added_in_the_session() {
    let mut script = Script::new([
        "add a service",
        "audit",
        "",       // image unknown
        "worker", // takes no requests
        "",       // writable: none
        "small",  // size
        "",       // no egress
        "",       // calls nobody
        "change a service",
        "shop/audit",
        "",      // image unknown
        "",      // still a worker
        "",      // writable: none
        "small", // size
        "",      // no egress
        "5",     // replicas, more than the rule's 1
        "",      // calls nobody
        "write the changes",
    ]);
    let outcome = edited(&mut script, EXISTING);
    let audit = &outcome.text[outcome.text.find("name = \"audit\"").unwrap()..];
    assert!(audit.contains("replicas = 5"), "{audit}");
}

#[test]
fn edit_mode_keeps_the_comment_after_a_changed_value() {
    let mut script = Script::new([
        "change a service",
        "shop/api",
        "ghcr.io/shop/api:2.0.2", // a new image
        "",                       // kind: web or API
        "",                       // port 8080
        "",                       // port name web
        "",                       // Service port 8080
        "",                       // cluster
        "",                       // no health check
        "",                       // writable: none
        "",                       // size: custom, as it is
        "",                       // CPU request
        "",                       // memory request
        "",                       // CPU limit
        "",                       // memory limit
        "",                       // no egress
        "",                       // replicas as they are
        "",                       // calls as they are
        "write the changes",
    ]);
    let outcome = edited(&mut script, EXISTING);
    assert!(
        outcome
            .text
            .contains("image = \"ghcr.io/shop/api:2.0.2\"  # pinned on purpose\n"),
        "{}",
        outcome.text
    );
}

#[test]
fn edit_mode_refuses_inline_services_before_any_question() {
    let inline =
        "version = 1\nservices = [{ name = \"api\", port = 8080 }]\n\n[project]\nname = \"shop\"\n";
    let mut script = Script::new(Vec::<&str>::new());
    let err = edit(&mut script, inline).err().expect("refused");
    assert!(err.to_string().contains("[[services]]"), "{err}");
    assert!(
        !script.transcript.iter().any(|t| t.contains('?')),
        "{:?}",
        script.transcript
    );
}

#[test]
fn edit_mode_writes_the_size_picked_for_a_service_without_resources() {
    let mut script = Script::new([
        "change a service",
        "shop/db-proxy",
        "",      // image kept
        "",      // kind: web or API
        "",      // port 5432
        "",      // port name pg
        "",      // Service port 5432
        "",      // cluster
        "",      // no health check
        "",      // writable: none
        "small", // size: the default keeps none; small is picked
        "",      // no egress
        "",      // replicas
        "",      // calls as they are
        "write the changes",
    ]);
    let outcome = edited(&mut script, EXISTING);
    let proxy = &outcome.text[outcome.text.find("name = \"db-proxy\"").unwrap()..];
    assert!(proxy.contains("resources = "), "{proxy}");
    assert!(
        !findings(&outcome.text)
            .iter()
            .any(|(rule, _)| rule == "resources-missing"),
        "{}",
        outcome.text
    );
}

/// Two services with the placeholder image `init` writes, one with a comment of the user's own.
const PLACEHOLDERS: &str = r#"version = 1

[project]
name = "shop"
platform = "eks"

[[services]]
name = "web"
# Ask Ana which registry.
# Not known yet: a placeholder under the reserved .invalid domain, which never resolves, so
# nothing can be pulled by mistake. `k8s-advisor check` reports it until you name the image.
image = "registry.example.invalid/replace-me/web:0.0.0"
ports = [{ name = "http", port = 8080, target = 8080 }]

[[services]]
name = "worker"
# Not known yet: a placeholder under the reserved .invalid domain, which never resolves, so
# nothing can be pulled by mistake. `k8s-advisor check` reports it until you name the image.
image = "registry.example.invalid/replace-me/worker:0.0.0"
ports = []
"#;

#[test]
fn edit_mode_drops_the_placeholder_comment_once_the_image_is_named() {
    // The comment is the one init writes.
    let comment = &PLACEHOLDERS[PLACEHOLDERS.find("# Not known").unwrap()..]
        [..PLACEHOLDERS.find("image =").unwrap() - PLACEHOLDERS.find("# Not known").unwrap()];
    assert!(session(&shop_then(&[])).unwrap().text.contains(comment));
    for (existing, eol) in [
        (PLACEHOLDERS.to_string(), "\n"),
        (PLACEHOLDERS.replace('\n', "\r\n"), "\r\n"),
    ] {
        let mut script = Script::new([
            "change a service",
            "shop/web",
            "ghcr.io/shop/web:1.0.0", // the real image
            "",                       // kind: web or API
            "",                       // port 8080
            "",                       // port name http
            "",                       // Service port 8080
            "",                       // cluster
            "",                       // no health check
            "",                       // writable: none
            "",                       // size: none, as it is
            "",                       // no egress
            "",                       // replicas
            "write the changes",
        ]);
        let outcome = edited(&mut script, &existing);
        let text = k8s_advisor::init::edit::keep_line_endings(&existing, outcome.text);
        let (web, worker) = text.split_at(text.find("name = \"worker\"").unwrap());
        assert!(
            web.contains(&format!(
                "# Ask Ana which registry.{eol}image = \"ghcr.io/shop/web:1.0.0\"{eol}"
            )),
            "{web}"
        );
        assert!(!web.contains("Not known yet"), "{web}");
        assert!(worker.contains(&comment.replace('\n', eol)), "{worker}");
    }
}

/// An edit-mode session on the workspace `text`, loaded and validated once, as `init` does.
fn edit(
    script: &mut Script,
    text: &str,
) -> Result<Option<k8s_advisor::init::Outcome>, k8s_advisor::Error> {
    let policy = Policy::load(None).unwrap();
    let source = k8s_advisor::diagnostic::Source::new(Path::new("k8s-advisor.toml"), text);
    let ws = k8s_advisor::workspace::parse(&source, &policy.criterion_ids())?;
    let guardrails = k8s_advisor::check::Guardrails::load(None).unwrap();
    k8s_advisor::init::edit::run(script, &policy, &guardrails, &ws)
}

/// A workspace with a shared gateway: one public service limited to some clients, one behind
/// the gateway with its own route.
const WITH_GATEWAY: &str = r#"version = 1

[project]
name = "shop"
platform = "eks"

[project.gateway]
name = "public"
namespace = "gateway-infra"
pod-labels = { "app.kubernetes.io/name" = "envoy" }

[[services]]
name = "web"
image = "ghcr.io/shop/web:1.0.0"
ports = [{ name = "http", port = 8080, target = 8080 }]
expose = "public"
sources = ["203.0.113.0/24"]

[[services]]
name = "api"
image = "ghcr.io/shop/api:1.0.0"
ports = [{ name = "http", port = 8080, target = 8080 }]
expose = "gateway"
route = { path = "/api" }
"#;

/// The answers that change `service` of a two-service workspace to `expose`, keeping the rest.
fn change_exposure(service: &str, expose: &str) -> Script {
    Script::new([
        "change a service",
        service,
        "", // image
        "", // kind
        "", // port
        "", // port name
        "", // Service port
        expose,
        "", // health check
        "", // writable
        "", // size
        "", // no egress
        "", // replicas
        "", // calls as they are
        "write the changes",
    ])
}

#[test]
fn edit_mode_offers_the_gateway_the_project_declares() {
    let mut script = change_exposure("shop/web", "gateway");
    let outcome = edited(&mut script, WITH_GATEWAY);
    let web = &outcome.text[outcome.text.find("name = \"web\"").unwrap()..];
    let web = &web[..web.find("[[services]]").unwrap()];
    assert!(web.contains("expose = \"gateway\""), "{web}");
    // `sources` restricts a load balancer; behind the gateway it would not validate.
    assert!(!web.contains("\nsources"), "{web}");
    // The file validates: `edit` returned, and the route defaults apply.
    edit(&mut Script::new(["leave it as it is"]), &outcome.text).unwrap();
}

#[test]
fn edit_mode_drops_the_route_of_a_service_taken_off_the_gateway() {
    let mut script = change_exposure("shop/api", "cluster");
    let outcome = edited(&mut script, WITH_GATEWAY);
    let api = &outcome.text[outcome.text.find("name = \"api\"").unwrap()..];
    assert!(api.contains("expose = \"cluster\""), "{api}");
    assert!(!api.contains("route"), "{api}");
}

#[test]
fn without_a_project_gateway_the_gateway_is_not_offered() {
    let mut script = change_exposure("shop/api", "gateway");
    let err = edit(&mut script, EXISTING).err().expect("gateway refused");
    let k8s_advisor::Error::Usage {
        help: Some(choices),
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert!(choices.contains("public: "), "{choices}");
    assert!(!choices.contains("gateway: "), "{choices}");
}

/// `edit` that must succeed and change something; a failure shows the session's transcript.
fn edited(script: &mut Script, text: &str) -> k8s_advisor::init::Outcome {
    edit(script, text)
        .unwrap_or_else(|e| panic!("{e:?}\n{:#?}", script.transcript))
        .expect("changed")
}

/// An EKS workspace a person wrote: a public load balancer on port 80 in front of container
/// port 3000 (the `eks-target-port` warning accepted), with a comment on the line; requests
/// without limits, inline and as dotted keys under a `[services.resources]` header.
const HAND_WRITTEN_EKS: &str = r#"version = 1

[project]
name = "shop"
platform = "eks"

[[services]]
name = "web"
image = "ghcr.io/shop/web:1.0.0"
replicas = 2
ports = [{ name = "http", port = 80, target = 3000 }]  # browsers expect 80
expose = "public"
calls = ["api"]
resources = { requests = { cpu = "100m", memory = "128Mi" } }

[[services]]
name = "api"
image = "ghcr.io/shop/api:1.0.0"
replicas = 2
port = 8080

[services.resources]
requests.cpu = "250m"   # measured
requests.memory = "256Mi"
limits.memory = "512Mi"
"#;

/// Edit mode through a real terminal: Enter at every question of "change a service", for both
/// services, then the last menu item: the file is left byte for byte as it was.
#[test]
fn edit_mode_enter_everywhere_writes_nothing_through_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k8s-advisor.toml");
    std::fs::write(&path, HAND_WRITTEN_EKS).unwrap();
    let mut p = spawn_init(dir.path(), &[]);
    let p = &mut p;
    for (service, callee) in [("web", "shop/api"), ("api", "shop/web")] {
        answer(
            p,
            "What do you want to do?",
            "leave it as it is",
            &format!("{DOWN}{ENTER}"),
        );
        // The services by name, then the way back.
        let down = if service == "api" { "" } else { DOWN };
        answer(
            p,
            "Which service?",
            "back to the summary",
            &format!("{down}{ENTER}"),
        );
        takes_requests(p, service, ENTER, ENTER);
        answer(p, "How does Kubernetes check", "none yet", ENTER);
        type_in(p, &format!("Folders {service} writes to"), ENTER);
        answer(p, &format!("Size of {service}"), "custom", ENTER);
        type_in(p, &format!("Does {service} send traffic outside"), ENTER);
        type_in(p, &format!("Replicas of {service}"), ENTER);
        answer(
            p,
            &format!("Which services does shop/{service} call?"),
            callee,
            ENTER,
        );
        if service == "web" {
            answer(p, "How does shop/web reach shop/api?", "telemetry:", ENTER);
        }
    }
    leave_unchanged(p);
    assert_eq!(exit_code(p), Some(0));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), HAND_WRITTEN_EKS);
}

/// The same answers through the library, so that a failure shows what changed.
#[test]
fn edit_mode_enter_everywhere_keeps_ports_and_partial_resources() {
    let mut answers = Vec::new();
    for service in ["shop/web", "shop/api"] {
        answers.extend(["change a service", service]);
        // image, kind, port, name, Service port, exposure, health, writable, size, egress,
        // replicas, calls
        answers.extend(["", "", "", "", "", "", "", "", "", "", "", ""]);
        if service == "shop/web" {
            answers.push(""); // the kind of its call to api: sync, as written
        }
    }
    answers.push("leave it as it is");
    let mut script = Script::new(answers);
    let outcome = edit(&mut script, HAND_WRITTEN_EKS).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        outcome.is_none(),
        "{}\n{:#?}",
        outcome.map(|o| o.text).unwrap_or_default(),
        script.transcript
    );
    // The Service port offered is the one in the file, not the container port.
    let asked = script
        .transcript
        .iter()
        .position(|t| t == "Port callers use (the Service port)")
        .unwrap();
    assert!(
        script.transcript[..asked]
            .iter()
            .any(|t| t.contains("Port web listens"))
    );
}

/// A size picked for a service whose file writes resources as dotted keys under a
/// `[services.resources]` header keeps that form, and the comment after a value.
#[test]
fn edit_mode_changes_dotted_resources_in_place() {
    let mut script = Script::new([
        "change a service",
        "shop/api",
        "",       // image
        "",       // kind
        "",       // port
        "",       // port name
        "",       // Service port
        "",       // cluster
        "",       // health check
        "",       // writable
        "medium", // size
        "",       // no egress
        "",       // replicas
        "",       // calls
        "write the changes",
    ]);
    let outcome = edited(&mut script, HAND_WRITTEN_EKS);
    let api = &outcome.text[outcome.text.find("name = \"api\"").unwrap()..];
    assert_eq!(
        api,
        "name = \"api\"\nimage = \"ghcr.io/shop/api:1.0.0\"\nreplicas = 2\nport = 8080\n\n\
         [services.resources]\nrequests.cpu = \"500m\"   # measured\n\
         requests.memory = \"512Mi\"\nlimits.memory = \"1Gi\"\nlimits.cpu = \"1\"\n",
        "{api}"
    );
    // Everything before the changed service is as it was.
    let web_end = HAND_WRITTEN_EKS.find("name = \"api\"").unwrap();
    assert_eq!(outcome.text[..web_end], HAND_WRITTEN_EKS[..web_end]);
}

/// From the summary, on EKS, a service whose Service port differs from its container port
/// keeps it when it is changed with Enter everywhere: the defaults of a change are the current
/// answers, on every platform.
#[test]
fn a_change_from_the_summary_keeps_the_service_port() {
    for platform in ["eks", "gke", "generic"] {
        let mut answers: Vec<String> = SHOP.iter().map(|a| a.to_string()).collect();
        answers[2] = platform.to_string();
        // web: container port 3000, Service port 80.
        let web = answers.iter().position(|a| a == "web").unwrap();
        answers[web + 4] = "3000".into();
        answers[web + 6] = "80".into();
        answers.extend(
            [
                "change a service",
                "storefront/web",
                "", // name
                "", // domain
                "", // image
                "", // kind
                "", // container port 3000
                "", // port name
                "", // Service port: as it was
                "", // exposure
                "", // health check
                "", // writable
                "", // size
                "", // egress
                "", // replicas
                "", // write
            ]
            .map(String::from),
        );
        let outcome = session(&answers.iter().map(String::as_str).collect::<Vec<_>>())
            .unwrap_or_else(|e| panic!("{platform}: {e:?}"));
        let web = &outcome.text[outcome.text.find("name = \"web\"").unwrap()..];
        assert!(
            web.contains("port = 80, target = 3000"),
            "{platform}: {web}"
        );
    }
}

/// A custom size: after a request larger than the preset's limit, the limit offered is the
/// request, not a smaller value that Enter could not take.
#[test]
fn a_custom_size_offers_limits_no_smaller_than_the_requests_typed() {
    let mut answers: Vec<&str> = SHOP.to_vec();
    let web = answers.iter().position(|a| *a == "web").unwrap();
    answers[web + 10] = "custom";
    for (k, typed) in ["2", "1Gi", "", ""].into_iter().enumerate() {
        answers.insert(web + 11 + k, typed);
    }
    answers.push("");
    let outcome = session(&answers).unwrap();
    let web = &outcome.text[outcome.text.find("name = \"web\"").unwrap()..];
    assert!(
        web.contains(
            "requests = { cpu = \"2\", memory = \"1Gi\" }, limits = { cpu = \"2\", memory = \"1Gi\" }"
        ),
        "{web}"
    );
}

const UP: &str = "\x1b[A";

/// The shop of the issue that asked for stateful services, through a real terminal on EKS: a
/// public web front, an internal admin UI, an API, payments calling Stripe by host name on
/// 443, a worker whose `latest` tag is caught and replaced, and Postgres, whose well-known
/// defaults are taken with Enter. `generate` then writes Postgres as a StatefulSet with a
/// volume (the test below has kubernetes-validate judge those manifests); and edit mode, Enter
/// everywhere on Postgres, writes nothing.
#[test]
fn the_shop_session_describes_a_database_and_generates_its_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("shop");
    std::fs::create_dir(&project).unwrap();
    describe_the_shop(&project);
    let text = std::fs::read_to_string(project.join("k8s-advisor.toml")).unwrap();
    let db = &text[text.find("name = \"db\"").unwrap()..];
    for line in [
        "image = \"postgres:16.4\"",
        "replicas = 1",
        "ports = [{ name = \"postgres\", port = 5432, target = 5432 }]",
        "kind = \"stateful\"",
        "storage = \"10Gi\"",
        "storage-path = \"/var/lib/postgresql\"",
        "health = { type = \"tcp\", port = \"postgres\" }",
        "writable = [\"/var/run/postgresql\"]",
    ] {
        assert!(db.contains(line), "{line} missing from\n{db}");
    }
    let payments = &text[text.find("name = \"payments\"").unwrap()..];
    assert!(
        payments.contains(
            "  # api.stripe.com: NetworkPolicy matches addresses, not names; a network plugin \
             that matches names (Cilium toFQDNs, Calico domain policies) can allow the name \
             itself\n  { cidr = \"0.0.0.0/0\", ports = [443], reason = \"api.stripe.com: card \
             payments\" },"
        ),
        "{payments}"
    );
    assert!(
        text.contains("image = \"ghcr.io/shop/worker:1.0.0\""),
        "{text}"
    );
    // The broker is reached by messages; the database by requests.
    assert!(
        text.contains(
            "calls = [\"shop/db\", \"shop/payments\", { to = \"shop/queue\", kind = \"async\" }]"
        ),
        "{text}"
    );
    assert!(
        text.contains("calls = [\"shop/db\", { to = \"shop/queue\", kind = \"async\" }]"),
        "{text}"
    );
    assert!(text.ends_with("memory = \"512Mi\" } }\n"), "{text}");

    crate::support::success(bin().current_dir(&project).arg("generate"));
    let manifest = std::fs::read_to_string(project.join("k8s/shop/db.yaml")).unwrap();
    assert!(manifest.contains("kind: StatefulSet"), "{manifest}");
    assert!(manifest.contains("volumeClaimTemplates:"), "{manifest}");
    assert!(
        manifest.contains("mountPath: \"/var/lib/postgresql\""),
        "{manifest}"
    );

    // Edit mode: Enter at every question about db changes nothing.
    let mut p = spawn_init(&project, &[]);
    let p = &mut p;
    answer(
        p,
        "What do you want to do?",
        "leave it as it is",
        &format!("{DOWN}{ENTER}"),
    );
    answer(
        p,
        "Which service?",
        "back to the summary",
        &format!("{DOWN}{DOWN}{ENTER}"),
    );
    type_in(p, "Container image of db", ENTER);
    answer(p, "What kind of service is db?", "stateful:", ENTER);
    type_in(p, "Port db listens on", ENTER);
    type_in(p, "Name of port 5432", ENTER);
    type_in(p, "Port callers use", ENTER);
    answer(p, "Who reaches db from outside", "public:", ENTER);
    type_in(p, "Size of each db pod's volume", ENTER);
    type_in(p, "Folder where db keeps its data", ENTER);
    answer(p, "How does Kubernetes check", "none yet", ENTER);
    type_in(p, "Folders db writes to", ENTER);
    answer(p, "Size of db", "custom", ENTER);
    type_in(p, "Does db send traffic outside", ENTER);
    type_in(p, "Replicas of db", ENTER);
    answer(p, "Which services does shop/db call?", "shop/queue", ENTER);
    leave_unchanged(p);
    assert_eq!(
        std::fs::read_to_string(project.join("k8s-advisor.toml")).unwrap(),
        text
    );
}

/// The manifests `generate` writes for the shop session pass kubernetes-validate in strict
/// mode, the StatefulSet of Postgres and its volume claim included.
#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn the_shop_sessions_manifests_pass_kubernetes_validate() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("shop");
    std::fs::create_dir(&project).unwrap();
    describe_the_shop(&project);
    crate::support::success(bin().current_dir(&project).arg("generate"));
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(project.join("k8s/shop"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "kustomization.yaml"))
        .collect();
    assert!(files.len() >= 8, "{files:?}");
    let out = std::process::Command::new(crate::support::tool("kubernetes-validate"))
        .args(["--strict", "-k", "1.30", "--quiet"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Describes the shop of the two tests above through `init` in a real terminal, in `project`;
/// the session ends by writing `k8s-advisor.toml`.
fn describe_the_shop(project: &std::path::Path) {
    let mut p = spawn_init(project, &[]);
    let p = &mut p;
    project_on_eks(p, "shop", "An online shop");
    type_in(p, "First service name", &format!("web{ENTER}"));
    takes_requests(
        p,
        "web",
        "ghcr.io/shop/web:1.4.2\r",
        &format!("{DOWN}{DOWN}{ENTER}"),
    );
    answer(
        p,
        "How does Kubernetes check",
        "none yet",
        &format!("{UP}{UP}{UP}{ENTER}"),
    );
    type_in(p, "Path that answers", ENTER);
    type_in(
        p,
        "Folders web writes to",
        &format!("/var/cache/nginx{ENTER}"),
    );
    answer(p, "Size of web", "custom", ENTER);
    type_in(p, "Does web send traffic outside", ENTER);
    type_in(p, "Another service name", &format!("admin{ENTER}"));
    takes_requests(
        p,
        "admin",
        "ghcr.io/shop/admin:2.0.0\r",
        &format!("{DOWN}{ENTER}"),
    );
    type_in(p, "Address ranges of the company network", ENTER);
    answer(p, "How does Kubernetes check", "none yet", ENTER);
    type_in(p, "Folders admin writes to", ENTER);
    answer(p, "Size of admin", "custom", ENTER);
    type_in(p, "Does admin send traffic outside", ENTER);
    for (name, image) in [
        ("api", "ghcr.io/shop/api:3.1.0"),
        ("payments", "ghcr.io/shop/payments:1.0.3"),
    ] {
        type_in(p, "Another service name", &format!("{name}{ENTER}"));
        takes_requests(p, name, &format!("{image}{ENTER}"), ENTER);
        answer(p, "How does Kubernetes check", "none yet", ENTER);
        type_in(p, &format!("Folders {name} writes to"), ENTER);
        answer(p, &format!("Size of {name}"), "custom", ENTER);
        if name == "api" {
            type_in(p, "Does api send traffic outside", ENTER);
        }
    }
    type_in(
        p,
        "Does payments send traffic outside",
        &format!("y{ENTER}"),
    );
    type_in(
        p,
        "Destination: a host name",
        &format!("api.stripe.com{ENTER}"),
    );
    p.exp_string("NetworkPolicy matches addresses, not names")
        .unwrap();
    answer(
        p,
        "How may traffic reach api.stripe.com?",
        "any IPv4 address",
        &format!("{DOWN}{ENTER}"),
    );
    type_in(p, "Destination ports", ENTER);
    type_in(p, "What for", &format!("card payments{ENTER}"));
    type_in(p, "Does payments send traffic to another address", ENTER);
    type_in(p, "Another service name", &format!("worker{ENTER}"));
    type_in(
        p,
        "Container image of worker",
        &format!("ghcr.io/shop/worker:latest{ENTER}"),
    );
    p.exp_string("moves to every new release").unwrap();
    type_in(p, "Keep ghcr.io/shop/worker:latest anyway?", ENTER);
    type_in(
        p,
        "Container image of worker",
        &format!("ghcr.io/shop/worker:1.0.0{ENTER}"),
    );
    answer(
        p,
        "What kind of service is worker?",
        "stateful:",
        &format!("{DOWN}{ENTER}"),
    );
    type_in(p, "Folders worker writes to", ENTER);
    answer(p, "Size of worker", "custom", ENTER);
    type_in(p, "Does worker send traffic outside", ENTER);
    // Postgres: every default is the image's.
    type_in(p, "Another service name", &format!("db{ENTER}"));
    type_in(p, "Container image of db", &format!("postgres:16.4{ENTER}"));
    p.exp_string("db runs PostgreSQL").unwrap();
    answer(p, "What kind of service is db?", "stateful:", ENTER);
    type_in(p, "Port db listens on", ENTER);
    type_in(p, "Name of port 5432", ENTER);
    type_in(p, "Port callers use", ENTER);
    answer(p, "Who reaches db from outside", "public:", ENTER);
    type_in(p, "Size of each db pod's volume", ENTER);
    type_in(p, "Folder where db keeps its data", ENTER);
    answer(p, "How does Kubernetes check", "none yet", ENTER);
    type_in(p, "Folders db writes to", ENTER);
    answer(p, "Size of db", "custom", &format!("{DOWN}{ENTER}"));
    type_in(p, "Does db send traffic outside", ENTER);
    // A broker, which callers reach by messages: the calls to it default to async.
    type_in(p, "Another service name", &format!("queue{ENTER}"));
    takes_requests(p, "queue", &format!("rabbitmq:3.13.7{ENTER}"), ENTER);
    type_in(p, "Size of each queue pod's volume", ENTER);
    type_in(p, "Folder where queue keeps its data", ENTER);
    answer(p, "How does Kubernetes check", "none yet", ENTER);
    type_in(p, "Folders queue writes to", ENTER);
    answer(p, "Size of queue", "custom", ENTER);
    type_in(p, "Does queue send traffic outside", ENTER);
    type_in(p, "Another service name", ENTER);
    // Calls, picked among the services that take requests, in entry order without the caller;
    // then the kind of each call, where Enter takes the default.
    for (caller, last, keys, callees) in [
        ("web", "shop/queue", format!("{DOWN} {ENTER}"), &["api"][..]),
        ("admin", "shop/queue", format!("{DOWN} {ENTER}"), &["api"]),
        (
            "api",
            "shop/queue",
            format!("{DOWN}{DOWN} {DOWN} {DOWN} {ENTER}"),
            &["payments", "db", "queue"],
        ),
        (
            "payments",
            "shop/queue",
            format!("{DOWN}{DOWN}{DOWN} {ENTER}"),
            &["db"],
        ),
        (
            "worker",
            "shop/queue",
            format!("{DOWN}{DOWN}{DOWN}{DOWN} {DOWN} {ENTER}"),
            &["db", "queue"],
        ),
        ("db", "shop/queue", ENTER.to_string(), &[]),
        ("queue", "shop/db", ENTER.to_string(), &[]),
    ] {
        answer(
            p,
            &format!("Which services does shop/{caller} call?"),
            last,
            &keys,
        );
        for callee in callees {
            answer(
                p,
                &format!("How does shop/{caller} reach shop/{callee}?"),
                "telemetry:",
                ENTER,
            );
        }
    }
    criteria_then_write(p);
    p.exp_eof().unwrap();
    assert_eq!(exit_code(p), Some(0));
}

/// Deleting a service from the summary names the calls that go with it and asks first: "no"
/// keeps everything.
#[test]
fn deleting_a_service_asks_first() {
    let mut answers = shop_then(&["delete a service", "orders/orders-api", ""]);
    answers.push("");
    let mut script = Script::new(answers.iter().copied());
    let kept = ask(&mut script).unwrap();
    assert_eq!(kept.text, session(&shop_then(&[])).unwrap().text);
    assert!(
        script.transcript.iter().any(|t| t
            == "Deleting orders/orders-api removes its answers. The calls to it from \
                storefront/web and orders/mailer go too."),
        "{:#?}",
        script.transcript
    );
    assert!(kept.text.ends_with('\n'));
}

/// Edit mode deletes a service: its table and the comments above it go, and so do the calls
/// to it; everything else stays as written.
#[test]
fn edit_mode_deletes_a_service_and_the_calls_to_it() {
    let with_call = EXISTING.replace(
        "calls = [] # nothing yet",
        "calls = [\"api\"] # nothing yet",
    );
    let mut script = Script::new(["delete a service", "shop/api", "y", "write the changes"]);
    let outcome = edited(&mut script, &with_call);
    assert_eq!(
        outcome.text,
        "# Our shop. Keep this comment!\nversion = 1\n\n[project]\nname = \"shop\"   # the \
         product\nplatform = \"eks\"\n\n[[services]]\nname = \"db-proxy\"\nimage = \
         \"ghcr.io/shop/db-proxy:1.0.0\"\nports = [{ name = \"pg\", port = 5432, target = 5432 \
         }]\ncalls = [] # nothing yet\n"
    );
}

/// Renaming a port in edit mode carries the new name into the calls limited to it and into
/// the service's health check, so that the file still validates.
#[test]
fn edit_mode_follows_a_renamed_port() {
    let text = r#"version = 1

[project]
name = "shop"

[[services]]
name = "web"
image = "ghcr.io/shop/web:1.0.0"
port = 8080
calls = [{ to = "db", ports = ["pg"] }]

[[services]]
name = "db"
image = "ghcr.io/shop/db:1.0.0"
ports = [{ name = "pg", port = 5432 }]
health = { type = "tcp", port = "pg" }
"#;
    let mut script = Script::new([
        "change a service",
        "shop/db",
        "",         // image
        "",         // kind
        "",         // port
        "postgres", // the port's new name
        "",         // Service port
        "",         // cluster
        "",         // health: tcp
        "",         // writable
        "",         // size: as it is
        "",         // egress
        "",         // replicas
        "",         // calls
        "write the changes",
    ]);
    let outcome = edited(&mut script, text);
    assert!(
        outcome
            .text
            .contains("calls = [{ to = \"db\", ports = [\"postgres\"] }]"),
        "{}",
        outcome.text
    );
    assert!(
        outcome
            .text
            .contains("health = { type = \"tcp\", port = \"postgres\" }"),
        "{}",
        outcome.text
    );
}

/// The project name comes from the repository, not from a folder such as `docker` that says
/// what it holds.
#[test]
fn a_generic_folder_does_not_name_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("corner-shop");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("docker")).unwrap();
    crate::support::success(
        bin()
            .current_dir(repo.join("docker"))
            .args(["init", "--non-interactive"]),
    );
    let text = std::fs::read_to_string(repo.join("docker/k8s-advisor.toml")).unwrap();
    assert!(text.contains("name = \"corner-shop\""), "{text}");
}

/// Edit mode: naming a well-known database image for a service brings that image's defaults,
/// and Enter takes them: the service becomes a StatefulSet with a volume, written key by key
/// into its table, and `check` has nothing to say about its storage.
#[test]
fn edit_mode_takes_a_database_image_s_defaults() {
    let mut answers = vec!["change a service", "shop/db-proxy", "postgres:16.4"];
    // kind, port, port name, Service port, exposure, volume size and folder, health, writable
    answers.extend(["", "", "", "", "", "", "", "", ""]);
    answers.extend(["small", "", "", "", "write the changes"]);
    let mut script = Script::new(answers);
    let outcome = edited(&mut script, EXISTING);
    let proxy = &outcome.text[outcome.text.find("name = \"db-proxy\"").unwrap()..];
    assert_eq!(
        proxy,
        "name = \"db-proxy\"\nimage = \"postgres:16.4\"\n\
         ports = [{ name = \"postgres\", port = 5432, target = 5432 }]\ncalls = [] # nothing yet\n\
         kind = \"stateful\"\nstorage = \"10Gi\"\nstorage-path = \"/var/lib/postgresql\"\n\
         health = { type = \"tcp\", port = \"postgres\" }\nwritable = [\"/var/run/postgresql\"]\n\
         resources = { requests = { cpu = \"250m\", memory = \"256Mi\" }, limits = { cpu = \
         \"500m\", memory = \"512Mi\" } }\n"
    );
    assert!(
        script
            .transcript
            .contains(&"db-proxy runs PostgreSQL: the defaults below are PostgreSQL's.".into())
    );
    assert!(
        !findings(&outcome.text)
            .iter()
            .any(|(rule, _)| rule == "database-without-storage"),
        "{}",
        outcome.text
    );
}

/// Calls are asked as sync, async or telemetry. The default comes from the callee: a broker's
/// image is reached by messages, a collector's by telemetry, anything else by requests; what is
/// picked is written, and the graph review reads it.
#[test]
fn calls_have_a_kind_whose_default_comes_from_the_callee() {
    let mut answers: Vec<&str> = SHOP.to_vec();
    let at = answers.iter().position(|a| *a == "mailer").unwrap();
    // Two more services before the worker: a broker and a collector, all defaults.
    let more = [
        "queue",
        "orders",
        "rabbitmq:3.13.7",
        // kind, port, its name, Service port, exposure, volume size and folder, health,
        // writable, size, egress
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "otel",
        "orders",
        "otel/opentelemetry-collector-contrib:0.111.0",
        // kind, port, its name, Service port, exposure, health, writable, size, egress
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ];
    for (k, a) in more.into_iter().enumerate() {
        answers.insert(at + k, a);
    }
    let calls = answers
        .iter()
        .position(|a| *a == "orders/orders-api")
        .unwrap();
    // web: orders-api as before; orders-api: the broker (default async) and the collector,
    // picked as sync on purpose, then mailer: the collector (default telemetry).
    answers.splice(
        calls..calls + 5,
        [
            "orders/orders-api",
            "",
            "orders/queue, orders/otel",
            "",
            "sync",
            "",
            "",
            "orders/otel",
            "",
        ],
    );
    answers.push("");
    let mut script = Script::new(answers.iter().copied());
    let outcome = ask(&mut script).unwrap_or_else(|e| panic!("{e:?}\n{:#?}", script.transcript));
    let text = &outcome.text;
    assert!(
        text.contains("calls = [\"orders/otel\", { to = \"orders/queue\", kind = \"async\" }]"),
        "{text}"
    );
    assert!(
        text.contains("calls = [{ to = \"orders/otel\", kind = \"telemetry\" }]"),
        "{text}"
    );
    assert!(
        script
            .transcript
            .contains(&"How does orders/orders-api reach orders/queue?".into()),
        "{:#?}",
        script.transcript
    );
    // The summary says which calls are not requests.
    assert!(
        script
            .transcript
            .iter()
            .any(|t| t.contains("calls  orders/otel (telemetry)")),
        "{:#?}",
        script.transcript
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k8s-advisor.toml");
    std::fs::write(&path, text).unwrap();
    let graph: serde_json::Value = serde_json::from_str(&crate::support::success(
        bin().args(["graph", "--format", "json", "-w"]).arg(&path),
    ))
    .unwrap();
    let kinds: Vec<(String, String)> = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["to"] != "orders/orders-api")
        .map(|e| {
            (
                format!(
                    "{} -> {}",
                    e["from"].as_str().unwrap(),
                    e["to"].as_str().unwrap()
                ),
                e["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (
                "orders/mailer -> orders/otel".to_string(),
                "telemetry".to_string()
            ),
            (
                "orders/orders-api -> orders/otel".to_string(),
                "sync".to_string()
            ),
            (
                "orders/orders-api -> orders/queue".to_string(),
                "async".to_string()
            ),
        ]
    );
}

/// Edit mode: a call's kind changes in place: a bare reference becomes a table naming the
/// kind, its comment kept, and back to sync it is a bare reference again.
#[test]
fn edit_mode_changes_the_kind_of_a_call() {
    let with_call = EXISTING.replace(
        "calls = [] # nothing yet",
        "calls = [\"api\"] # nothing yet",
    );
    let change = |kind: &'static str| {
        let mut answers = vec!["change a service", "shop/db-proxy"];
        // image, kind, port, name, Service port, exposure, health, writable, size, egress,
        // replicas, calls
        answers.extend(["", "", "", "", "", "", "", "", "", "", "", ""]);
        answers.extend([kind, "write the changes"]);
        Script::new(answers)
    };
    let outcome = edited(&mut change("async"), &with_call);
    assert!(
        outcome
            .text
            .contains("calls = [{ to = \"api\", kind = \"async\" }] # nothing yet"),
        "{}",
        outcome.text
    );
    let back = edited(&mut change("sync"), &outcome.text);
    assert!(
        back.text.contains("calls = [\"api\"] # nothing yet"),
        "{}",
        back.text
    );
}
