//! `check`: every guardrail on a workspace that triggers it and one that does not, policy
//! overrides and their errors, the exit codes, the examples, and the three formats (snapshots,
//! and SARIF validated against the official SARIF 2.1.0 schema vendored in `tests/schemas/`).

use std::path::Path;

use serde_json::Value;

use crate::support::{bin, examples, root};

const RESOURCES: &str = r#"{ requests = { cpu = "250m", memory = "256Mi" }, limits = { cpu = "500m", memory = "512Mi" } }"#;

/// A `[[services]]` table with sound defaults; `overrides` replace a key's value, or drop the
/// key when the value is empty.
fn svc(name: &str, overrides: &[(&str, &str)]) -> String {
    let image = format!("\"registry.example.com/{name}:1.0.0\"");
    let mut keys: Vec<(String, String)> = vec![
        ("image".into(), image),
        ("replicas".into(), "2".into()),
        ("port".into(), "8080".into()),
        ("resources".into(), RESOURCES.into()),
    ];
    for (key, value) in overrides {
        match keys.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = (*value).to_string(),
            None => keys.push(((*key).to_string(), (*value).to_string())),
        }
    }
    let mut out = format!("\n[[services]]\nname = \"{name}\"\n");
    for (key, value) in keys.into_iter().filter(|(_, v)| !v.is_empty()) {
        out.push_str(&format!("{key} = {value}\n"));
    }
    out
}

/// A workspace on `platform` with the given service tables.
fn ws(platform: &str, services: &[String]) -> String {
    let mut text = format!(
        "version = 1\n\n[project]\nname = \"shop\"\nplatform = \"{platform}\"\ninternal-cidrs = [\"10.0.0.0/8\"]\n\
         [[namespaces]]\nname = \"shop\"\nteam = \"web\"\n"
    );
    for s in services {
        text.push_str(s);
    }
    text
}

/// Runs `check` with `args` in a fresh folder holding `workspace` as k8s-advisor.toml and the
/// given policy files under `policies/`.
fn run(workspace: &str, policies: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k8s-advisor.toml"), workspace).unwrap();
    if !policies.is_empty() {
        std::fs::create_dir(dir.path().join("policies")).unwrap();
        for (name, text) in policies {
            std::fs::write(dir.path().join("policies").join(name), text).unwrap();
        }
    }
    let output = bin()
        .current_dir(dir.path())
        .arg("check")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        stderr,
    )
}

/// The JSON report of `check` on `workspace` with the shipped policy.
fn report(workspace: &str) -> Value {
    let (code, stdout, stderr) = run(workspace, &[], &["--format", "json"]);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    let value: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["passed"], code == 0, "exit code follows `passed`");
    value
}

/// The rule ids of the findings, in report order.
fn rules(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// Asserts that `rule` fires on `bad` (with `severity`) and not on `good`.
fn fires(rule: &str, severity: &str, bad: &str, good: &str) -> Value {
    let bad_report = report(bad);
    let found: Vec<&Value> = bad_report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect();
    assert!(!found.is_empty(), "{rule} did not fire on\n{bad}");
    for f in &found {
        assert_eq!(f["severity"], severity, "{f}");
        assert!(f["line"].as_u64().unwrap() >= 1);
    }
    let good_report = report(good);
    assert!(
        !rules(&good_report).iter().any(|r| r == rule),
        "{rule} fired on\n{good}\n{good_report:#}"
    );
    found[0].clone()
}

/// The line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> u64 {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in text"));
    text[..at].matches('\n').count() as u64 + 1
}

#[test]
fn a_sound_workspace_has_no_findings() {
    let text = ws(
        "eks",
        &[
            svc("web", &[("expose", "\"public\""), ("calls", "[\"api\"]")]),
            svc("api", &[]),
        ],
    );
    let (code, stdout, _) = run(&text, &[], &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("No findings: 17 guardrails passed"),
        "{stdout}"
    );
}

#[test]
fn resources_missing() {
    let bad = ws("generic", &[svc("api", &[("resources", "")])]);
    let good = ws("generic", &[svc("api", &[])]);
    let f = fires("resources-missing", "error", &bad, &good);
    assert_eq!(
        f["message"],
        "service shop/api has no CPU request, memory request, CPU limit and memory limit"
    );
    assert_eq!(f["line"], line_of(&bad, "[[services]]"));
    let partial = ws(
        "generic",
        &[svc(
            "api",
            &[(
                "resources",
                r#"{ requests = { cpu = "250m", memory = "256Mi" } }"#,
            )],
        )],
    );
    let f = &report(&partial)["findings"][0];
    assert_eq!(
        f["message"],
        "service shop/api has no CPU limit and memory limit"
    );
    assert_eq!(f["line"], line_of(&partial, "resources ="));
}

#[test]
fn memory_millibytes() {
    let res = r#"{ requests = { cpu = "250m", memory = "256m" }, limits = { cpu = "500m", memory = "512Mi" } }"#;
    let bad = ws("generic", &[svc("api", &[("resources", res)])]);
    let good = ws("generic", &[svc("api", &[])]);
    let f = fires("memory-millibytes", "error", &bad, &good);
    assert_eq!(
        f["message"],
        "memory request \"256m\" of shop/api means 256 thousandths of a byte; did you mean \"256Mi\"?"
    );
    // Points at the quantity itself.
    let column = bad
        .lines()
        .find(|l| l.starts_with("resources"))
        .unwrap()
        .find("\"256m\"")
        .unwrap();
    assert_eq!(f["column"], column as u64 + 1);
    // CPU in millicores is the normal spelling.
    assert!(rules(&report(&good)).is_empty());
}

#[test]
fn cpu_limit_ratio() {
    let ratio = |req: &str, lim: &str| {
        format!(
            r#"{{ requests = {{ cpu = "{req}", memory = "256Mi" }}, limits = {{ cpu = "{lim}", memory = "512Mi" }} }}"#
        )
    };
    let bad = ws(
        "generic",
        &[svc("api", &[("resources", &ratio("100m", "1"))])],
    );
    let good = ws(
        "generic",
        &[svc("api", &[("resources", &ratio("250m", "1"))])],
    );
    let f = fires("cpu-limit-ratio", "warning", &bad, &good);
    assert_eq!(
        f["message"],
        "CPU limit \"1\" of shop/api is 10.0 times its request \"100m\"; the policy allows at most 4 times"
    );
    let zero = ws("generic", &[svc("api", &[("resources", &ratio("0", "1"))])]);
    assert_eq!(rules(&report(&zero)), ["cpu-limit-ratio"]);
}

#[test]
fn image_missing() {
    let bad = ws("generic", &[svc("api", &[("image", "")])]);
    let good = ws("generic", &[svc("api", &[])]);
    let f = fires("image-missing", "warning", &bad, &good);
    assert_eq!(f["message"], "service shop/api names no container image");
}

#[test]
fn image_unpinned() {
    for (image, message) in [
        (
            "nginx",
            "image \"nginx\" of shop/api has no tag, so it means `latest`",
        ),
        (
            "nginx:latest",
            "image \"nginx:latest\" of shop/api is tagged `latest`, which moves to every new release",
        ),
        (
            "registry:5000/team/nginx",
            "image \"registry:5000/team/nginx\" of shop/api has no tag, so it means `latest`",
        ),
        (
            "redis:alpine",
            "image \"redis:alpine\" of shop/api is tagged `alpine`, which moves to every new release",
        ),
        (
            "node:lts-alpine",
            "image \"node:lts-alpine\" of shop/api is tagged `lts-alpine`, a variant of `lts`, \
             which moves to every new release",
        ),
        (
            "redis:7",
            "image \"redis:7\" of shop/api is tagged `7`, a major version that moves to every \
             release in it",
        ),
        (
            "nginx:1.25-bookworm",
            "image \"nginx:1.25-bookworm\" of shop/api is tagged `1.25-bookworm`, a version \
             without a patch number that moves to every patch release (images whose releases \
             have two numbers, as PostgreSQL's do, are listed in images.toml)",
        ),
        (
            "postgres:16",
            "image \"postgres:16\" of shop/api is tagged `16`, a major version that moves to \
             every release in it; PostgreSQL 10 and later number a release <major>.<minor>: the \
             first number is the major version, the second the minor (patch) release \
             (https://www.postgresql.org/support/versioning/)",
        ),
        (
            // Before PostgreSQL 10, 9.6 was a major version.
            "postgres:9.6",
            "image \"postgres:9.6\" of shop/api is tagged `9.6`, a version without a patch \
             number that moves to every patch release (images whose releases have two numbers, \
             as PostgreSQL's do, are listed in images.toml)",
        ),
    ] {
        let bad = ws(
            "generic",
            &[svc("api", &[("image", &format!("\"{image}\""))])],
        );
        let good = ws(
            "generic",
            &[svc(
                "api",
                &[("image", "\"registry:5000/team/nginx:1.25.3\"")],
            )],
        );
        let f = fires("image-unpinned", "error", &bad, &good);
        assert_eq!(f["message"], message);
        assert_eq!(f["line"], line_of(&bad, "image ="));
    }
    // A digest or a full version passes, with or without a variant.
    for image in [
        "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "redis:7.2.4-alpine",
        "registry.example.com/app:v1.4.2",
        "app:20240101",
        // PostgreSQL numbers a release <major>.<minor>.
        "postgres:16.4",
        "docker.io/library/postgres:16.4-bookworm",
        "registry.example.com/mirror/postgres:17.2-alpine3.21",
    ] {
        let pinned = ws(
            "generic",
            &[svc("api", &[("image", &format!("\"{image}\""))])],
        );
        let found = rules(&report(&pinned));
        assert!(!found.iter().any(|r| r == "image-unpinned"), "{image}");
    }
}

#[test]
fn moving_tags_are_the_policy_s_list() {
    let text = ws(
        "generic",
        &[
            svc("a", &[("image", "\"redis:7\"")]),
            svc("b", &[("image", "\"app:nightly-2024\"")]),
            svc("c", &[("image", "\"app:rolling\"")]),
        ],
    );
    let policy = "[[rules]]\nid = \"image-unpinned\"\nmoving-tags = [\"latest\", \"Rolling\"]\n";
    let (code, stdout, stderr) = run(
        &text,
        &[("guardrails.toml", policy)],
        &["--policies", "policies", "--format", "json"],
    );
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let subjects: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "image-unpinned")
        .map(|f| f["subject"].as_str().unwrap())
        .collect();
    // `<major>` is no longer listed, `nightly` neither; `rolling` now is.
    assert_eq!(subjects, ["shop/c"]);
    let rule = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "image-unpinned")
        .unwrap();
    assert_eq!(
        rule["moving-tags"],
        serde_json::json!(["latest", "rolling"])
    );
    // The shipped list names the well-known moving tags.
    let (_, stdout, _) = run(&text, &[], &["--format", "json"]);
    let shipped: Value = serde_json::from_str(&stdout).unwrap();
    let shipped = shipped["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "image-unpinned")
        .unwrap()["moving-tags"]
        .clone();
    for tag in [
        "latest", "alpine", "stable", "edge", "main", "master", "lts", "<major>",
    ] {
        assert!(
            shipped.as_array().unwrap().contains(&Value::from(tag)),
            "{tag}"
        );
    }
}

#[test]
fn images_whose_releases_have_two_numbers_are_the_policy_s_list() {
    let text = ws(
        "generic",
        &[
            svc("a", &[("image", "\"ghcr.io/shop/ledger:2.3\"")]),
            svc("b", &[("image", "\"ghcr.io/shop/other:2.3\"")]),
        ],
    );
    let images = "[[images]]\nname = \"ledger\"\ntitle = \"Ledger\"\n\
                  versions = { release = \"<major>.<minor>\", why = \"our releases are 2.3, 2.4\" }\n";
    let (code, stdout, stderr) = run(
        &text,
        &[("images.toml", images)],
        &["--policies", "policies", "--format", "json"],
    );
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let subjects: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["shop/b"]);
    // A bad entry is refused with its line, and so is anything of that name that is not a file.
    let bad = "[[images]]\nname = \"ledger\"\ntitle = \"Ledger\"\nport = 0\nport-name = \"x\"\n";
    let (code, _, stderr) = run(&text, &[("images.toml", bad)], &["--policies", "policies"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("port 0 is outside 1..65535"), "{stderr}");
    assert!(stderr.contains("images.toml:4:8"), "{stderr}");
}

/// A folder, a FIFO or a broken link where a policy file is expected is an error, for
/// `guardrails.toml` and `images.toml` alike, never a silent fallback to the shipped rules
/// (nor a wait on the FIFO).
#[test]
fn a_policy_override_that_is_not_a_file_is_an_error() {
    for name in ["guardrails.toml", "images.toml"] {
        let make: [&dyn Fn(&Path); 3] = [
            &|p| std::fs::create_dir(p).unwrap(),
            &|p| {
                let made = std::process::Command::new("mkfifo")
                    .arg(p)
                    .status()
                    .unwrap();
                assert!(made.success());
            },
            &|p| std::os::unix::fs::symlink(p.with_file_name("missing.toml"), p).unwrap(),
        ];
        for make in make {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(
                dir.path().join("k8s-advisor.toml"),
                ws("generic", &[svc("api", &[])]),
            )
            .unwrap();
            std::fs::create_dir(dir.path().join("policies")).unwrap();
            make(&dir.path().join("policies").join(name));
            let output = bin()
                .current_dir(dir.path())
                .args(["check", "--policies", "policies"])
                .timeout(std::time::Duration::from_secs(20))
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
            assert!(stderr.contains(name), "{stderr}");
        }
    }
}

/// Text in `images.toml` reaches findings and prompts: control characters and invisible
/// separators are refused there, with the line, and never echoed raw.
#[test]
fn hostile_text_in_images_toml_is_refused() {
    let text = ws("generic", &[svc("api", &[])]);
    let images = "[[images]]\nname = \"ledger\"\ntitle = \"Led\\u2028ger\"\n\
                  versions = { release = \"<major>.<minor>\", why = \"\\u001b[2J\" }\n\n\
                  [[images]]\nname = \"\\u001b[31mx\"\ntitle = \"x\"\n";
    let (code, _, stderr) = run(
        &text,
        &[("images.toml", images)],
        &["--policies", "policies"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("U+2028"), "{stderr}");
    assert!(stderr.contains("U+001B"), "{stderr}");
    assert!(stderr.contains("images.toml:3:"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{2028}'),
        "{stderr:?}"
    );
}

#[test]
fn database_without_storage() {
    let bad = ws(
        "generic",
        &[svc(
            "db",
            &[("image", "\"docker.io/library/postgres:16.4\"")],
        )],
    );
    let good = ws(
        "generic",
        &[svc(
            "db",
            &[
                ("image", "\"docker.io/library/postgres:16.4\""),
                ("kind", "\"stateful\""),
                ("storage", "\"10Gi\""),
                ("storage-path", "\"/var/lib/postgresql\""),
            ],
        )],
    );
    let f = fires("database-without-storage", "error", &bad, &good);
    assert_eq!(
        f["message"],
        "shop/db runs PostgreSQL (docker.io/library/postgres:16.4) as a Deployment without a \
         volume: its data is lost whenever the pod is replaced; add kind = \"stateful\", \
         storage = \"10Gi\", storage-path = \"/var/lib/postgresql\""
    );
    assert_eq!(f["line"], line_of(&bad, "image ="));
    // A cache that may start empty is not a database: Redis as a Deployment is fine.
    let cache = ws("generic", &[svc("cache", &[("image", "\"redis:7.4.1\"")])]);
    assert!(rules(&report(&cache)).is_empty());
}

#[test]
fn single_replica() {
    let bad = ws(
        "generic",
        &[
            svc("web", &[("calls", "[\"api\"]")]),
            svc("api", &[("replicas", "1")]),
        ],
    );
    // A lone worker nobody calls may run one pod.
    let good = ws(
        "generic",
        &[svc("web", &[]), svc("api", &[("replicas", "1")])],
    );
    let f = fires("single-replica", "warning", &bad, &good);
    assert_eq!(
        f["message"],
        "shop/api runs 1 replica but is called by shop/web; at least 2 are needed"
    );
    assert_eq!(f["line"], line_of(&bad, "replicas = 1"));
    let exposed = ws(
        "gke",
        &[svc("web", &[("replicas", ""), ("expose", "\"internal\"")])],
    );
    let f = &report(&exposed)["findings"][0];
    assert_eq!(
        f["message"],
        "shop/web runs 1 replica but is exposed (internal); at least 2 are needed"
    );
}

#[test]
fn public_and_called() {
    let bad = ws(
        "generic",
        &[
            svc("web", &[("calls", "[\"api\"]")]),
            svc("api", &[("expose", "\"public\"")]),
        ],
    );
    let good = ws(
        "generic",
        &[
            svc("web", &[("calls", "[\"api\"]"), ("expose", "\"public\"")]),
            svc("api", &[]),
        ],
    );
    let f = fires("public-and-called", "warning", &bad, &good);
    assert_eq!(
        f["message"],
        "shop/api is public and also called by shop/web"
    );
    assert_eq!(f["line"], line_of(&bad, "expose ="));
}

#[test]
fn load_balancers_per_namespace() {
    let lb = |n: usize| -> Vec<String> {
        (0..n)
            .map(|i| svc(&format!("edge{i}"), &[("expose", "\"internal\"")]))
            .collect()
    };
    let bad = ws("gke", &lb(3));
    let good = ws("gke", &lb(2));
    let f = fires("load-balancers-per-namespace", "warning", &bad, &good);
    assert_eq!(
        f["message"],
        "namespace shop has 3 LoadBalancer services, more than 2: \
         edge0 (internal), edge1 (internal), edge2 (internal)"
    );
    assert_eq!(f["subject"], "shop");
    assert_eq!(f["line"], line_of(&bad, "[[namespaces]]"));
}

#[test]
fn eks_target_port() {
    let ports =
        r#"[{ name = "http", port = 80, target = 8080 }, { name = "metrics", port = 9090 }]"#;
    let bad = ws("eks", &[svc("api", &[("port", ""), ("ports", ports)])]);
    let good = ws("eks", &[svc("api", &[])]);
    let f = fires("eks-target-port", "warning", &bad, &good);
    assert_eq!(
        f["message"],
        "shop/api maps Service port to different container port: http (80 → 8080)"
    );
    assert_eq!(f["line"], line_of(&bad, "ports ="));
    // Only EKS has the caveat.
    let gke = ws("gke", &[svc("api", &[("port", ""), ("ports", ports)])]);
    assert!(rules(&report(&gke)).is_empty());
}

#[test]
fn namespace_teams() {
    let bad = ws(
        "generic",
        &[svc("api", &[]), svc("billing", &[("team", "\"finance\"")])],
    );
    let good = ws(
        "generic",
        &[svc("api", &[]), svc("billing", &[("team", "\"web\"")])],
    );
    let f = fires("namespace-teams", "warning", &bad, &good);
    assert_eq!(
        f["message"],
        "namespace shop is shared by 2 teams: finance (billing); web (api)"
    );
}

#[test]
fn namespace_cycle() {
    let api = svc(
        "api",
        &[
            ("namespace", "\"orders\""),
            ("calls", "[\"users/accounts\"]"),
        ],
    );
    let back = svc(
        "accounts",
        &[("namespace", "\"users\""), ("calls", "[\"orders/api\"]")],
    );
    let one_way = svc("accounts", &[("namespace", "\"users\"")]);
    let bad = ws("generic", &[api.clone(), back]);
    let good = ws("generic", &[api, one_way]);
    let f = fires("namespace-cycle", "warning", &bad, &good);
    assert_eq!(
        f["message"],
        "namespaces orders ⇄ users call each other in a cycle"
    );
    assert_eq!(f["line"], line_of(&bad, "[[services]]"));
}

/// The graph review's error (a cycle of calls) fails `check` too, at the call into the cycle,
/// under its own rule whose severity a policy can change.
#[test]
fn call_cycle() {
    let bad = ws(
        "generic",
        &[
            svc("a", &[("calls", "[\"b\"]")]),
            svc("b", &[("calls", "[\"c\"]")]),
            svc("c", &[("calls", "[\"a\"]")]),
            svc("d", &[("calls", "[\"d\"]")]),
        ],
    );
    let good = ws(
        "generic",
        &[
            svc("a", &[("calls", "[\"b\"]")]),
            svc("b", &[("calls", "[\"c\"]")]),
            svc("c", &[]),
        ],
    );
    let f = fires("call-cycle", "error", &bad, &good);
    assert_eq!(
        f["message"],
        "3 services call each other in a cycle: shop/a, shop/b, shop/c"
    );
    assert_eq!(f["line"], line_of(&bad, "calls = [\"b\"]"));
    let all = report(&bad);
    let cycles: Vec<&Value> = all["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "call-cycle")
        .collect();
    assert_eq!(cycles.len(), 2);
    assert_eq!(cycles[1]["message"], "shop/d calls itself synchronously");
    assert_eq!(all["passed"], false);

    let (code, stdout, stderr) = run(
        &bad,
        &[(
            "guardrails.toml",
            "[[rules]]\nid = \"call-cycle\"\nseverity = \"warning\"\n",
        )],
        &["--policies", "policies"],
    );
    assert_eq!(code, 0, "{stderr}{stdout}");
    assert!(stdout.contains("[call-cycle]"), "{stdout}");
}

/// Every error-level finding of `graph` is also a `check` finding with the same id and the same
/// services, so the CI gate and the architecture review cannot disagree.
#[test]
fn check_fails_on_every_error_the_graph_reports() {
    let cyclic = ws(
        "generic",
        &[
            svc("a", &[("calls", "[\"b\"]")]),
            svc("b", &[("calls", "[\"a\"]")]),
            svc("c", &[("calls", "[\"c\"]")]),
        ],
    );
    let mut workspaces = vec![cyclic, review_problems()];
    workspaces.extend(
        examples()
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap()),
    );
    // Random models have plenty of cycles, of every size.
    workspaces.extend(
        (0..16).map(|seed| crate::random_model::toml(&crate::random_model::model(seed, 12), None)),
    );
    let mut compared = 0;
    for text in workspaces {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k8s-advisor.toml"), &text).unwrap();
        let graph = bin()
            .current_dir(dir.path())
            .args(["graph", "--format", "json"])
            .output()
            .unwrap();
        let graph: Value = serde_json::from_slice(&graph.stdout).unwrap();
        let check = report(&text);
        for finding in graph["findings"].as_array().unwrap() {
            if finding["severity"] != "error" {
                continue;
            }
            let services: Vec<&str> = finding["services"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            let found = check["findings"].as_array().unwrap().iter().any(|f| {
                f["rule"] == finding["code"]
                    && f["severity"] == "error"
                    && f["subject"] == services.join(", ")
            });
            assert!(found, "graph error {finding:#} is not in\n{check:#}");
            compared += 1;
        }
    }
    assert!(compared >= 4, "only {compared} graph errors were compared");
}

/// The rule's rationale names its source, so a reviewer can judge it, and it stays a warning.
#[test]
fn eks_target_port_cites_the_eks_documentation() {
    let (_, stdout, _) = run(&ws("eks", &[svc("api", &[])]), &[], &["--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let rule = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "eks-target-port")
        .unwrap();
    assert_eq!(rule["severity"], "warning");
    let rationale = rule["rationale"].as_str().unwrap();
    assert!(
        rationale.contains("Amazon EKS User Guide")
            && rationale.contains(
                "https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html"
            )
            && rationale.contains("the service port be the same as the container port"),
        "{rationale}"
    );
}

/// The text report shows a rule's rationale and help once, above the places it found; JSON and
/// SARIF keep one result per place.
#[test]
fn text_groups_the_findings_of_a_rule() {
    let path = "examples/picturesocial/k8s-advisor.toml";
    let text = crate::support::success(bin().args(["check", "-w", path]));
    assert_eq!(text.matches("[eks-target-port]").count(), 1, "{text}");
    assert_eq!(text.matches("cni-network-policy.html").count(), 1, "{text}");
    assert_eq!(
        text.matches("help: Use the same number").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("[eks-target-port] On EKS, Service ports equal container ports (12 places)"),
        "{text}"
    );
    assert_eq!(text.matches("maps Service port").count(), 12, "{text}");
    let json: Value = serde_json::from_str(&crate::support::success(
        bin().args(["check", "--format", "json", "-w", path]),
    ))
    .unwrap();
    assert_eq!(
        rules(&json)
            .iter()
            .filter(|r| *r == "eks-target-port")
            .count(),
        12
    );
    let sarif: Value = serde_json::from_str(&crate::support::success(
        bin().args(["check", "--format", "sarif", "-w", path]),
    ))
    .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(
        results
            .iter()
            .filter(|r| r["ruleId"] == "eks-target-port")
            .count(),
        12
    );
}

/// `generate` writes what the model says, mistakes included; afterwards it counts the
/// error-level findings left and names the command that lists them.
#[test]
fn generate_counts_the_errors_it_wrote() {
    let text = review_problems();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k8s-advisor.toml"), &text).unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["generate", "--no-record"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.ends_with(
            "warning: the model behind these files has 3 error-level guardrail findings; run \
             `k8s-advisor check` to see them\n"
        ),
        "{stderr}"
    );
    // No word when nothing is wrong.
    let sound = ws("generic", &[svc("api", &[])]);
    std::fs::write(dir.path().join("k8s-advisor.toml"), &sound).unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["generate", "--no-record", "--force"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("guardrail"));
}

#[test]
fn namespace_size() {
    let many =
        |n: usize| -> Vec<String> { (0..n).map(|i| svc(&format!("s{i:02}"), &[])).collect() };
    let bad = ws("generic", &many(16));
    let good = ws("generic", &many(15));
    let f = fires("namespace-size", "info", &bad, &good);
    assert_eq!(
        f["message"],
        "namespace shop holds 16 services, more than 15"
    );
    // Info alone does not fail the check.
    assert_eq!(run(&bad, &[], &[]).0, 0);
}

#[test]
fn egress_anywhere() {
    for cidr in ["0.0.0.0/0", "::/0"] {
        let bad = ws(
            "generic",
            &[svc(
                "api",
                &[(
                    "egress",
                    &format!(r#"[{{ cidr = "{cidr}", ports = [443], reason = "payment API" }}]"#),
                )],
            )],
        );
        let good = ws(
            "generic",
            &[svc(
                "api",
                &[("egress", r#"[{ cidr = "203.0.113.0/24", ports = [443] }]"#)],
            )],
        );
        let f = fires("egress-anywhere", "warning", &bad, &good);
        assert_eq!(
            f["message"],
            format!("shop/api may send traffic to any address: {cidr} (payment API)")
        );
        assert_eq!(f["line"], line_of(&bad, "egress ="));
    }
}

/// A workspace with something for most rules, for the snapshots and the SARIF schema test.
fn review_problems() -> String {
    let mut text = ws(
        "eks",
        &[
            svc(
                "web",
                &[
                    ("image", "\"registry.example.com/web:latest\""),
                    ("replicas", "1"),
                    ("expose", "\"public\""),
                    ("calls", "[\"api\"]"),
                ],
            ),
            svc(
                "api",
                &[
                    ("port", ""),
                    ("ports", r#"[{ name = "http", port = 80, target = 8080 }]"#),
                    ("expose", "\"public\""),
                    (
                        "resources",
                        r#"{ requests = { cpu = "100m", memory = "128m" }, limits = { cpu = "2" } }"#,
                    ),
                    (
                        "egress",
                        r#"[{ cidr = "0.0.0.0/0", ports = [443], reason = "card payments" }]"#,
                    ),
                ],
            ),
            svc(
                "worker",
                &[
                    ("image", ""),
                    ("team", "\"data\""),
                    ("expose", "\"internal\""),
                ],
            ),
        ],
    );
    text.insert_str(0, "# A shop whose design review found problems.\n");
    text
}

#[test]
fn error_findings_exit_1_and_warnings_alone_exit_0() {
    assert_eq!(run(&review_problems(), &[], &[]).0, 1);
    let warnings_only = ws("generic", &[svc("api", &[("image", "")])]);
    assert_eq!(run(&warnings_only, &[], &[]).0, 0);
}

/// `-q` prints the errors alone, which are what fail the run; with none, it prints nothing.
#[test]
fn quiet_prints_errors_only() {
    let (code, stdout, _) = run(&review_problems(), &[], &["-q"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("Errors ("), "{stdout}");
    assert!(
        !stdout.contains("Warnings") && !stdout.contains("Info"),
        "{stdout}"
    );
    let (_, loud, _) = run(&review_problems(), &[], &[]);
    assert!(
        loud.contains("Warnings ("),
        "the fixture must have warnings: {loud}"
    );
    let warnings_only = ws("generic", &[svc("api", &[("image", "")])]);
    let (code, stdout, stderr) = run(&warnings_only, &[], &["-q"]);
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (0, "", ""));
}

#[test]
fn text_report_snapshot() {
    let (code, stdout, stderr) = run(&review_problems(), &[], &[]);
    assert_eq!(code, 1, "{stderr}");
    insta::assert_snapshot!(stdout);
}

/// The grouped text report on the Picturesocial example, as a reviewer reads it.
#[test]
fn picturesocial_text_snapshot() {
    let text = crate::support::success(bin().args([
        "check",
        "-w",
        "examples/picturesocial/k8s-advisor.toml",
    ]));
    insta::assert_snapshot!(text);
}

#[test]
fn json_report_snapshot() {
    let (_, stdout, _) = run(&review_problems(), &[], &["--format", "json"]);
    insta::assert_snapshot!(stdout);
}

/// The SARIF log with the crate version replaced, so the snapshot survives releases.
fn sarif_of(workspace: &str) -> String {
    let (_, stdout, stderr) = run(workspace, &[], &["--format", "sarif"]);
    assert!(stderr.is_empty(), "{stderr}");
    stdout.replace(
        &format!("\"semanticVersion\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"semanticVersion\": \"[version]\"",
    )
}

#[test]
fn sarif_report_snapshot() {
    insta::assert_snapshot!(sarif_of(&review_problems()));
}

fn sarif_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_valid_sarif(validator: &jsonschema::Validator, log: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let validator = sarif_validator();
    // The validator itself must reject what the schema forbids, or this test proves nothing.
    let broken: Value = serde_json::json!({ "version": "2.0.0", "runs": [] });
    assert!(!validator.is_valid(&broken));

    let text = review_problems();
    let log: Value = serde_json::from_str(&sarif_of(&text)).unwrap();
    assert_valid_sarif(&validator, &log);

    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 17, "every rule is described");
    for rule in rules {
        for key in ["shortDescription", "fullDescription", "help"] {
            assert!(!rule[key]["text"].as_str().unwrap().is_empty(), "{rule}");
        }
        assert!(rule["defaultConfiguration"]["level"].is_string());
    }
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "k8s-advisor.toml");
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
    }
    // The image finding sits on the image line, at the value.
    let image = results
        .iter()
        .find(|r| r["ruleId"] == "image-unpinned")
        .unwrap();
    let region = &image["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        region["startLine"],
        line_of(&text, "image = \"registry.example.com/web:latest\"")
    );
    assert_eq!(region["startColumn"], 9);
}

#[test]
fn sarif_uri_is_relative_to_the_current_folder() {
    let output = bin()
        .args([
            "check",
            "--format",
            "sarif",
            "-w",
            "examples/picturesocial/k8s-advisor.toml",
        ])
        .output()
        .unwrap();
    let log: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid_sarif(&sarif_validator(), &log);
    let uri = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"];
    assert_eq!(uri, "examples/picturesocial/k8s-advisor.toml");
}

#[test]
fn the_examples_have_no_error_level_findings() {
    for path in examples() {
        let relative = path.strip_prefix(root()).unwrap();
        let output = bin()
            .args(["check", "--format", "json", "-w"])
            .arg(relative)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}: {report:#}",
            relative.display()
        );
        assert_eq!(report["summary"]["error"], 0);
    }
}

#[test]
fn output_is_deterministic() {
    let text = review_problems();
    for format in ["text", "json", "sarif"] {
        let first = run(&text, &[], &["--format", format]).1;
        let second = run(&text, &[], &["--format", format]).1;
        assert_eq!(first, second, "{format}");
    }
}

// ----- policy overrides -----

fn policy_run(policy: &str, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["--policies", "policies"];
    all.extend_from_slice(args);
    run(&review_problems(), &[("guardrails.toml", policy)], &all)
}

#[test]
fn a_policy_can_disable_rules_and_change_severity_and_thresholds() {
    let before = report(&review_problems());
    let count = |r: &Value, rule: &str| rules(r).iter().filter(|x| *x == rule).count();
    assert_eq!(count(&before, "eks-target-port"), 1);
    assert_eq!(count(&before, "cpu-limit-ratio"), 1);

    let policy = r#"
[[rules]]
id = "eks-target-port"
enabled = false

[[rules]]
id = "cpu-limit-ratio"
max-ratio = 20

[[rules]]
id = "image-unpinned"
severity = "warning"

[[rules]]
id = "memory-millibytes"
severity = "info"

[[rules]]
id = "resources-missing"
severity = "warning"
fix = "Ask the platform team for sizing."
"#;
    let (code, stdout, stderr) = policy_run(policy, &["--format", "json"]);
    assert_eq!(code, 0, "{stderr}{stdout}");
    let after: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(count(&after, "eks-target-port"), 0);
    assert_eq!(count(&after, "cpu-limit-ratio"), 0);
    let by_rule = |rule: &str| {
        after["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap()
            .clone()
    };
    assert_eq!(by_rule("image-unpinned")["severity"], "warning");
    assert_eq!(by_rule("memory-millibytes")["severity"], "info");
    assert_eq!(
        by_rule("resources-missing")["help"],
        "Ask the platform team for sizing."
    );
    let rule = after["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "eks-target-port")
        .unwrap();
    assert_eq!(rule["enabled"], false);
    // Untouched rules keep their shipped settings.
    assert_eq!(count(&after, "egress-anywhere"), 1);
}

#[test]
fn a_policy_folder_without_guardrails_keeps_the_shipped_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k8s-advisor.toml"), review_problems()).unwrap();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    let output = bin()
        .current_dir(dir.path())
        .args(["check", "--policies", "policies"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}

/// Policy files that must be refused with exit 2 and a located, hinted message.
#[test]
fn bad_policies_are_refused_with_their_message() {
    let cases = [
        (
            "unknown-rule",
            "[[rules]]\nid = \"image-unpined\"\nenabled = false\n",
        ),
        (
            "unknown-severity",
            "[[rules]]\nid = \"image-unpinned\"\nseverity = \"fatal\"\n",
        ),
        (
            "foreign-threshold",
            "[[rules]]\nid = \"namespace-size\"\nmax-ratio = 3\n",
        ),
        (
            "threshold-out-of-range",
            "[[rules]]\nid = \"single-replica\"\nmin-replicas = 0\n",
        ),
        (
            "duplicate-rule",
            "[[rules]]\nid = \"image-missing\"\n\n[[rules]]\nid = \"image-missing\"\n",
        ),
        (
            "unknown-key",
            "[[rules]]\nid = \"image-missing\"\nenable = false\n",
        ),
        ("syntax", "[[rules]\nid = \"image-missing\"\n"),
        (
            "bad-moving-tag",
            "[[rules]]\nid = \"image-unpinned\"\nmoving-tags = [\"latest\", \"a:b\"]\n",
        ),
        (
            "foreign-moving-tags",
            "[[rules]]\nid = \"image-missing\"\nmoving-tags = [\"latest\"]\n",
        ),
    ];
    for (name, policy) in cases {
        let (code, stdout, stderr) = policy_run(policy, &[]);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        assert!(
            stderr.contains("[policies/guardrails.toml:"),
            "{name}: no file:line:col in\n{stderr}"
        );
        assert!(stderr.contains("help:"), "{name}: no hint in\n{stderr}");
        insta::assert_snapshot!(format!("bad_policy_{name}"), stderr);
    }
}

#[test]
fn shipped_policy_file_matches_the_guide() {
    let readme = std::fs::read_to_string(root().join("docs/guide/check.md")).unwrap();
    let shipped: toml::Value =
        toml::from_str(&std::fs::read_to_string(root().join("policies/guardrails.toml")).unwrap())
            .unwrap();
    for rule in shipped["rules"].as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        let severity = rule["severity"].as_str().unwrap();
        assert!(
            readme.contains(&format!("| `{id}` | {severity} |")),
            "the Guardrails table of docs/guide/check.md lacks `{id}` ({severity})"
        );
    }
    assert!(Path::new(&root().join("tests/schemas/README.md")).is_file());
}

#[test]
fn an_internal_load_balancer_kept_private_by_an_annotation_only_is_flagged() {
    let internal = svc("admin", &[("expose", "\"internal\"")]);
    let bad = ws("aks", std::slice::from_ref(&internal));
    let finding = fires(
        "exposure-fails-open",
        "warning",
        &bad,
        // EKS and GKE name a loadBalancerClass, so a missing controller creates nothing.
        &ws("eks", std::slice::from_ref(&internal)),
    );
    assert_eq!(finding["line"], line_of(&bad, "expose = \"internal\""));
    assert!(!rules(&report(&ws("gke", &[internal]))).contains(&"exposure-fails-open".to_string()));
    // A public service on AKS asked to be public: nothing fails open.
    let public = ws("aks", &[svc("web", &[("expose", "\"public\"")])]);
    assert!(!rules(&report(&public)).contains(&"exposure-fails-open".to_string()));
}

#[test]
fn restricted_sources_where_the_client_address_may_be_lost_are_flagged() {
    let restricted = svc(
        "api",
        &[("expose", "\"public\""), ("sources", "[\"192.0.2.0/24\"]")],
    );
    let bad = ws("generic", std::slice::from_ref(&restricted));
    let finding = fires(
        "client-address",
        "warning",
        &bad,
        // Everyone may connect: the policy admits every address whatever the pod sees.
        &ws("generic", &[svc("api", &[("expose", "\"public\"")])]),
    );
    assert_eq!(finding["line"], line_of(&bad, "\nsources =") + 1);
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("192.0.2.0/24")
    );
    // On a cloud platform the generated Service keeps the address.
    assert!(!rules(&report(&ws("eks", &[restricted]))).contains(&"client-address".to_string()));
}

#[test]
fn ipv6_sources_on_eks_are_flagged() {
    let v6 = svc(
        "api",
        &[("expose", "\"public\""), ("sources", "[\"2001:db8::/32\"]")],
    );
    let v4 = svc(
        "api",
        &[("expose", "\"public\""), ("sources", "[\"192.0.2.0/24\"]")],
    );
    let finding = fires(
        "client-address",
        "warning",
        &ws("eks", &[v6]),
        &ws("eks", &[v4]),
    );
    assert!(
        finding["message"].as_str().unwrap().contains("IPv6"),
        "{finding}"
    );
}
