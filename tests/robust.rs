//! Robustness: arbitrary workspaces through every command. Each input runs through `assess`,
//! `graph` and `check` in every format, `generate` (twice, then `--check`) and `record`, in a
//! repository inside a temporary folder, and each run must:
//!
//! - exit 0, 1 or 2 — never panic (exit 101, "panicked" on stderr) or die of a signal;
//! - finish within [`TIMEOUT`] (the process is killed after that, and the case fails);
//! - write nothing but the layout (`k8s/`) and the record folder (`docs/adr/`) of its repository.
//!
//! Inputs come from two generators: structured workspaces (proptest builds a TOML table with
//! hostile names, numbers, references and text) and byte-level mutations of the examples'
//! `k8s-advisor.toml`. Case counts are chosen for CI time: [`STRUCTURED_CASES`] and
//! [`MUTATED_CASES`], about 30 seconds on two cores; `ROBUST_CASES=N` runs N of each instead.
//!
//! Every input that ever failed is kept in `tests/robust/` and replayed by
//! `every_input_that_ever_failed_passes_now`. A failing case saves its input to
//! `target/robust-failures/` and says so: copy it into `tests/robust/` with the fix.
//! `tests/robust/pending/` holds inputs that still fail in code another change fixes: they are
//! listed in its README, not replayed.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::support::{examples, root};

/// The longest one command may take on one small workspace (a debug build, a busy machine).
const TIMEOUT: Duration = Duration::from_secs(20);

/// Structured workspaces per CI run.
const STRUCTURED_CASES: u32 = 200;

/// Mutated examples per CI run.
const MUTATED_CASES: u32 = 200;

/// Every command and format, in the order a user meets them.
const COMMANDS: &[&[&str]] = &[
    &["assess"],
    &["assess", "--format", "json"],
    &["assess", "--format", "markdown"],
    &["graph"],
    &["graph", "--format", "mermaid"],
    &["graph", "--format", "dot"],
    &["graph", "--format", "json"],
    &["check"],
    &["check", "--format", "json"],
    &["check", "--format", "sarif"],
    &["generate"],
    &["generate"],
    &["generate", "--check"],
    &["record"],
];

/// Runs the binary in `dir` with `args`, killing it after [`TIMEOUT`]. Returns the exit code
/// (`None` when killed by a signal) and stderr.
fn run(dir: &Path, home: &Path, args: &[&str]) -> Result<(Option<i32>, String), String> {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("k8s-advisor"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("HOME", home)
        .env("SOURCE_DATE_EPOCH", "1795651200")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the binary: {e}"))?;
    // Read stderr on a thread so that a chatty child cannot block on a full pipe.
    let mut pipe = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("`{}` took more than {TIMEOUT:?}", args.join(" ")));
            }
            Err(e) => return Err(format!("cannot wait for the binary: {e}")),
        }
    };
    let stderr = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    Ok((status.code(), stderr))
}

/// Every path under `dir`, relative, without following links.
pub fn tree(dir: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path.clone());
            }
            found.insert(path.strip_prefix(dir).unwrap_or(&path).to_path_buf());
        }
    }
    found
}

/// Runs `workspace` through every command; `Err` says what went wrong, `Ok(true)` that the
/// workspace was valid (`assess` succeeded), so that the later stages ran on it.
fn check_workspace(workspace: &[u8]) -> Result<bool, String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).map_err(|e| e.to_string())?;
    std::fs::write(tmp.path().join("outside.txt"), "untouched").map_err(|e| e.to_string())?;
    std::fs::write(repo.join("k8s-advisor.toml"), workspace).map_err(|e| e.to_string())?;
    let before = tree(tmp.path());
    let mut valid = false;
    for args in COMMANDS {
        let (code, stderr) = run(&repo, tmp.path(), args)?;
        valid |= args == &["assess"] && code == Some(0);
        let shown = args.join(" ");
        if stderr.contains("panicked") || code == Some(101) {
            return Err(format!("`{shown}` panicked:\n{stderr}"));
        }
        match code {
            Some(0..=2) => {}
            other => return Err(format!("`{shown}` ended with {other:?}:\n{stderr}")),
        }
    }
    let allowed =
        |p: &Path| before.contains(p) || p.starts_with("repo/k8s") || p.starts_with("repo/docs");
    if let Some(stray) = tree(tmp.path()).into_iter().find(|p| !allowed(p)) {
        return Err(format!(
            "wrote {} outside the layout and the record",
            stray.display()
        ));
    }
    if std::fs::read_to_string(tmp.path().join("outside.txt"))
        .ok()
        .as_deref()
        != Some("untouched")
    {
        return Err("changed a file outside the repository".to_string());
    }
    Ok(valid)
}

/// Saves a failing input where a developer finds it and returns the message to fail with.
fn report_failure(workspace: &[u8], why: &str) -> String {
    let hash = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(workspace));
    let dir = root().join("target/robust-failures");
    let path = dir.join(format!("{hash}.toml"));
    let saved = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, workspace));
    let saved = match saved {
        Ok(()) => format!("input saved to {}", path.display()),
        Err(e) => format!("input not saved ({e})"),
    };
    format!("{why}\n{saved}; keep it in tests/robust/ with the fix")
}

fn cases(default: u32) -> u32 {
    std::env::var("ROBUST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        // The shrunk input is saved by `report_failure`; no proptest-regressions files.
        failure_persistence: None,
        // Each case starts 14 processes: shrinking must stay short.
        max_shrink_iters: 64,
        ..Config::default()
    })
}

/// Runs `cases` inputs; returns how many were valid workspaces.
fn run_cases(cases: u32, strategy: impl Strategy<Value = Vec<u8>>) -> u32 {
    let valid = std::cell::Cell::new(0);
    let result = runner(cases).run(&strategy, |workspace| {
        let ok = check_workspace(&workspace)
            .map_err(|why| TestCaseError::fail(report_failure(&workspace, &why)))?;
        valid.set(valid.get() + u32::from(ok));
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
    valid.get()
}

// ---- Structured workspaces ----
//
// Each workspace is drawn either tame (every value valid, so that the model reaches `generate`
// and `record`) or hostile (each value invalid one time in four, in every way the rules know).

type Boxed<T> = BoxedStrategy<T>;

/// `valid`, or when `hostile`, `bad` one time in four.
fn pick<T: std::fmt::Debug + Clone + 'static>(
    hostile: bool,
    valid: Boxed<T>,
    bad: Boxed<T>,
) -> Boxed<T> {
    if hostile {
        prop_oneof![3 => valid, 1 => bad].boxed()
    } else {
        valid
    }
}

/// Names: invalid in every way the rules know, reserved, long, non-ASCII, hostile.
fn name(hostile: bool) -> Boxed<String> {
    pick(
        hostile,
        "[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?".boxed(),
        prop_oneof![
            Just("default".to_string()),
            Just("kube-system".to_string()),
            "[a-z]{64,70}",
            "[A-Z0-9_.]{1,8}",
            "\\PC{0,12}",
            Just(String::new()),
            Just("a\u{1b}[2Jb".to_string()),
        ]
        .boxed(),
    )
}

/// Free text: printable Unicode, or control characters, Markdown and YAML syntax and line
/// separators when hostile.
fn text(hostile: bool) -> Boxed<String> {
    pick(
        hostile,
        "\\PC{0,40}".boxed(),
        prop_oneof![
            "[\\x00-\\x1f\\x7f\u{85}\u{2028}\u{2029}\u{202e}\u{feff}|`*_#>\\[\\]<-]{0,30}",
            Just("https://x.example/aaaa-[click](https://evil.example/)".to_string()),
            Just("x\u{2028}- injected item\n---\n# heading".to_string()),
        ]
        .boxed(),
    )
}

fn port(hostile: bool) -> Boxed<i64> {
    pick(
        hostile,
        (1i64..=65535).boxed(),
        prop_oneof![
            Just(0i64),
            Just(65536i64),
            Just(80800i64),
            Just(-1i64),
            Just(i64::MAX)
        ]
        .boxed(),
    )
}

fn quantity(hostile: bool, memory: bool) -> Boxed<String> {
    let valid = if memory {
        "[1-9][0-9]{0,2}(Mi|Gi|Ki|M|G)"
    } else {
        "[1-9][0-9]{0,2}m?"
    };
    pick(
        hostile,
        valid.boxed(),
        prop_oneof![
            "\\PC{0,8}",
            Just("1e400".to_string()),
            Just("99999999999999999999999999Gi".to_string()),
            Just("0.000000000001".to_string()),
            Just("1MB".to_string()),
        ]
        .boxed(),
    )
}

fn cidr(hostile: bool) -> Boxed<String> {
    pick(
        hostile,
        prop_oneof![
            (1u8..=223, 0u8..=255).prop_map(|(a, b)| format!("{a}.{b}.0.0/16")),
            (1u8..=223).prop_map(|a| format!("{a}.0.0.0/8")),
            Just("0.0.0.0/0".to_string()),
        ]
        .boxed(),
        prop_oneof![
            Just("::/0".to_string()),
            Just("10.0.0.1/8".to_string()),
            Just("1.2.3.4/33".to_string()),
            "\\PC{0,12}",
        ]
        .boxed(),
    )
}

fn one_of(values: &[&'static str]) -> Boxed<String> {
    proptest::sample::select(values.to_vec())
        .prop_map(str::to_string)
        .boxed()
}

/// A TOML value of any type, for keys the schema expects another type at or does not know.
fn any_value() -> Boxed<toml::Value> {
    prop_oneof![
        any::<i64>().prop_map(toml::Value::Integer),
        any::<bool>().prop_map(toml::Value::Boolean),
        "\\PC{0,10}".prop_map(toml::Value::String),
        Just(toml::Value::Array(Vec::new())),
        Just(toml::Value::Table(toml::Table::new())),
    ]
    .boxed()
}

fn table(pairs: Vec<(&str, Option<toml::Value>)>) -> toml::Value {
    toml::Value::Table(
        pairs
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_string(), v?)))
            .collect(),
    )
}

fn string(s: String) -> toml::Value {
    toml::Value::String(s)
}

fn strings(list: Vec<String>) -> toml::Value {
    toml::Value::Array(list.into_iter().map(string).collect())
}

/// A service named `me`, calling some of `names` (and, when hostile, names that do not exist).
fn service(hostile: bool, me: String, names: Vec<String>) -> Boxed<toml::Value> {
    let reference = pick(
        hostile,
        proptest::sample::select(names).boxed(),
        prop_oneof![
            name(true),
            (name(true), name(true)).prop_map(|(n, s)| format!("{n}/{s}"))
        ]
        .boxed(),
    );
    let call = pick(
        hostile,
        reference.clone().prop_map(string).boxed(),
        (reference, proptest::collection::vec(name(true), 0..3))
            .prop_map(|(to, ports)| {
                table(vec![
                    ("to", Some(string(to))),
                    ("ports", Some(strings(ports))),
                ])
            })
            .boxed(),
    );
    let ports = pick(
        hostile,
        prop_oneof![
            port(false).prop_map(|p| ("port", toml::Value::Integer(p))),
            (port(false), port(false)).prop_map(|(port, target)| (
                "ports",
                toml::Value::Array(vec![table(vec![
                    ("name", Some(string("http".into()))),
                    ("port", Some(toml::Value::Integer(port))),
                    ("target", Some(toml::Value::Integer(target))),
                ])])
            )),
        ]
        .boxed(),
        proptest::collection::vec(
            (
                proptest::option::of(name(true)),
                port(true),
                proptest::option::of(port(true)),
                proptest::option::of(one_of(&["TCP", "UDP", "SCTP", "tcp", "ICMP"])),
            )
                .prop_map(|(name, port, target, protocol)| {
                    table(vec![
                        ("name", name.map(string)),
                        ("port", Some(toml::Value::Integer(port))),
                        ("target", target.map(toml::Value::Integer)),
                        ("protocol", protocol.map(string)),
                    ])
                }),
            0..3,
        )
        .prop_map(|list| ("ports", toml::Value::Array(list)))
        .boxed(),
    );
    let egress = (
        cidr(hostile),
        proptest::collection::vec(port(hostile), 0..3),
        text(hostile),
    )
        .prop_map(|(cidr, ports, reason)| {
            table(vec![
                ("cidr", Some(string(cidr))),
                (
                    "ports",
                    Some(toml::Value::Array(
                        ports.into_iter().map(toml::Value::Integer).collect(),
                    )),
                ),
                ("reason", Some(string(reason))),
            ])
        });
    let resources =
        proptest::option::of((quantity(hostile, false), quantity(hostile, true), 1u32..4))
            .prop_map(|q| {
                q.map(|(cpu, memory, factor)| {
                    // The limit is the request with a factor appended: "100m" → "1002m" is not a
                    // multiple, but it is never lower.
                    let limit = |q: &str| {
                        let digits = q.find(|c: char| !c.is_ascii_digit()).unwrap_or(q.len());
                        format!("{}{factor}{}", &q[..digits], &q[digits..])
                    };
                    let pair = |cpu: String, memory: String| {
                        table(vec![
                            ("cpu", Some(string(cpu))),
                            ("memory", Some(string(memory))),
                        ])
                    };
                    table(vec![
                        ("limits", Some(pair(limit(&cpu), limit(&memory)))),
                        ("requests", Some(pair(cpu, memory))),
                    ])
                })
            });
    let unknown = if hostile {
        proptest::option::of(("[a-z-]{1,12}", any_value())).boxed()
    } else {
        Just(None).boxed()
    };
    (
        (
            proptest::option::of(pick(hostile, one_of(&["shop", "pay", "media"]), name(true))),
            proptest::option::of(name(hostile)),
            proptest::option::of(pick(
                hostile,
                one_of(&["ghcr.io/acme/web:1.2.3", "nginx", "registry.example:5000/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"]),
                one_of(&["a\"b:1", "{{x}}:1", "UPPER/case", ":", ""]),
            )),
            proptest::option::of(pick(
                hostile,
                (1i64..5).boxed(),
                prop_oneof![Just(0i64), Just(-1i64), Just(i64::MAX)].boxed(),
            )),
            proptest::option::of(pick(
                hostile,
                one_of(&["cluster", "public"]),
                one_of(&["internal", "private", ""]),
            )),
        ),
        (
            ports,
            proptest::collection::vec(call, 0..4),
            proptest::collection::vec(egress, 0..2),
            resources,
            unknown,
        ),
    )
        .prop_map(
            move |((namespace, team, image, replicas, expose), (ports, calls, egress, resources, unknown))| {
                let mut t = table(vec![
                    ("name", Some(string(me.clone()))),
                    ("namespace", namespace.map(string)),
                    ("team", team.map(string)),
                    ("image", image.map(string)),
                    ("replicas", replicas.map(toml::Value::Integer)),
                    ("expose", expose.map(string)),
                    ("resources", resources),
                ]);
                let toml::Value::Table(map) = &mut t else {
                    unreachable!("table() builds a table")
                };
                map.insert(ports.0.into(), ports.1);
                let mut calls = calls;
                if !hostile {
                    // A callee named twice is an error of its own: tame workspaces have none.
                    let mut seen = Vec::new();
                    calls.retain(|c| {
                        let new = !seen.contains(c);
                        seen.push(c.clone());
                        new
                    });
                }
                if !calls.is_empty() {
                    map.insert("calls".into(), toml::Value::Array(calls));
                }
                if !egress.is_empty() {
                    map.insert("egress".into(), toml::Value::Array(egress));
                }
                if let Some((key, value)) = unknown {
                    map.insert(key, value);
                }
                t
            },
        )
        .boxed()
}

fn workspace() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        proptest::collection::btree_set(name(false), 1..8),
    )
        .prop_flat_map(|(hostile, names)| {
            let names: Vec<String> = names.into_iter().collect();
            let project = (
                name(hostile),
                proptest::option::of(text(hostile)),
                proptest::option::of(pick(
                    hostile,
                    one_of(&["eks", "gke", "aks", "generic"]),
                    one_of(&["EKS", "openshift", ""]),
                )),
                proptest::option::of(proptest::collection::vec(cidr(hostile), 0..3)),
                proptest::option::of(proptest::collection::vec(text(hostile), 0..3)),
            )
                .prop_map(|(name, description, platform, cidrs, makers)| {
                    table(vec![
                        ("name", Some(string(name))),
                        ("description", description.map(string)),
                        ("platform", platform.map(string)),
                        ("internal-cidrs", cidrs.map(strings)),
                        ("decision-makers", makers.map(strings)),
                    ])
                });
            let answers = proptest::collection::btree_map(
                pick(
                    hostile,
                    one_of(&[
                        "infrastructure-control",
                        "hybrid-cloud",
                        "independent-services",
                        "local-network-dependencies",
                        "multiple-teams",
                    ]),
                    "[a-z-]{1,10}".boxed(),
                ),
                pick(
                    hostile,
                    any::<bool>().prop_map(toml::Value::Boolean).boxed(),
                    any_value(),
                ),
                0..4,
            );
            let namespaces = proptest::collection::vec(
                (
                    pick(hostile, one_of(&["shop", "pay", "media"]), name(true)),
                    proptest::option::of(name(hostile)),
                    proptest::option::of(text(hostile)),
                )
                    .prop_map(|(name, team, description)| {
                        table(vec![
                            ("name", Some(string(name))),
                            ("team", team.map(string)),
                            ("description", description.map(string)),
                        ])
                    }),
                0..2,
            );
            let services: Vec<Boxed<toml::Value>> = names
                .iter()
                .map(|me| service(hostile, me.clone(), names.clone()))
                .collect();
            (
                pick(hostile, Just(1i64).boxed(), any::<i64>().boxed()),
                project,
                answers,
                namespaces,
                services,
            )
                .prop_map(|(version, project, answers, namespaces, services)| {
                    let mut doc = toml::Table::new();
                    doc.insert("version".into(), toml::Value::Integer(version));
                    doc.insert("project".into(), project);
                    if !answers.is_empty() {
                        doc.insert(
                            "answers".into(),
                            toml::Value::Table(answers.into_iter().collect()),
                        );
                    }
                    if !namespaces.is_empty() {
                        doc.insert("namespaces".into(), toml::Value::Array(namespaces));
                    }
                    doc.insert("services".into(), toml::Value::Array(services));
                    toml::to_string(&doc).unwrap_or_default().into_bytes()
                })
        })
}

#[test]
fn structured_workspaces_never_crash_hang_or_escape() {
    let n = cases(STRUCTURED_CASES);
    let valid = run_cases(n, workspace());
    eprintln!("{valid} of {n} structured workspaces were valid");
    // Hostile values are drawn often, but not always: enough valid models must reach
    // `generate` and `record` for the suite to test them at all.
    assert!(valid * 5 >= n, "only {valid} of {n} workspaces were valid");
}

// ---- Byte-level mutations of the examples ----

/// One edit of a file's bytes; positions are fractions of the length, so they always land.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(f64, u8),
    Insert(f64, Vec<u8>),
    Delete(f64, usize),
    DuplicateLine(f64),
    Truncate(f64),
    /// The value of the `key = value` line at a position replaced: a semantic error, or none.
    ReplaceValue(f64, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..8),
        proptest::sample::select(vec![
            b"\"".to_vec(),
            b"'''".to_vec(),
            b"[".to_vec(),
            b"]]".to_vec(),
            b"{".to_vec(),
            b"=".to_vec(),
            b"\n".to_vec(),
            b"\r\n".to_vec(),
            b"\xff".to_vec(),
            b"\x1b[2J".to_vec(),
            b"\\u0000".to_vec(),
            b"99999999999999999999".to_vec(),
            b"-1".to_vec(),
            b"\n[[services]]\nname = \"x\"\n".to_vec(),
            b"\nbogus = 1\n".to_vec(),
        ]),
        // A line beyond miette's column limit.
        Just(vec![b'a'; 70_000]),
    ];
    prop_oneof![
        3 => (0.0..1.0f64, any::<u8>()).prop_map(|(at, b)| Mutation::Flip(at, b)),
        3 => (0.0..1.0f64, interesting).prop_map(|(at, b)| Mutation::Insert(at, b)),
        2 => (0.0..1.0f64, 1usize..40).prop_map(|(at, n)| Mutation::Delete(at, n)),
        1 => (0.0..1.0f64).prop_map(Mutation::DuplicateLine),
        1 => (0.0..1.0f64).prop_map(Mutation::Truncate),
        4 => (0.0..1.0f64, value()).prop_map(|(at, v)| Mutation::ReplaceValue(at, v)),
    ]
}

/// Values that are valid TOML and test what validation makes of them.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::sample::select(vec![
            "0",
            "1",
            "-1",
            "65536",
            "80800",
            "9223372036854775807",
            "1e400",
            "nan",
            "true",
            "[]",
            "{}",
            "[\"web\", \"web\"]",
            "\"\"",
            "\"EKS\"",
            "\"kube-system\"",
            "\"default\"",
            "\"internal\"",
            "\"0.0.0.0/0\"",
            "\"10.0.0.1/8\"",
            "\"1MB\"",
            "\"\\u001b]0;title\\u0007\\u001b[2J\"",
            "\"x\\u2028- injected\"",
            "\"\\u202e\\u007f\\ufffe\"",
            "[{ to = \"nowhere\", ports = [\"http\"] }]",
            "{ requests = { cpu = \"2\", memory = \"1Gi\" }, limits = { cpu = \"1\", memory = \"1Mi\" } }",
        ])
        .prop_map(|v| v.as_bytes().to_vec()),
        "\"[a-z0-9/-]{0,20}\"".prop_map(String::into_bytes),
        Just(format!("\"{}\"", "a".repeat(70_000)).into_bytes()),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    // Position `at` (a fraction) as an index into `len + extra` slots, rounded down.
    let index = |at: f64, len: usize| ((at * len as f64) as usize).min(len);
    for m in mutations {
        let len = bytes.len();
        match m {
            Mutation::Flip(at, b) if len > 0 => {
                let i = index(*at, len - 1);
                bytes[i] = *b;
            }
            Mutation::Flip(..) => {}
            Mutation::Insert(at, new) => {
                let i = index(*at, len);
                bytes.splice(i..i, new.iter().copied());
            }
            Mutation::Delete(at, n) => {
                let i = index(*at, len);
                let end = (i + n).min(len);
                bytes.drain(i..end);
            }
            Mutation::DuplicateLine(at) => {
                let i = index(*at, len);
                let start = bytes[..i]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |p| p + 1);
                let end = bytes[i..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(len, |p| i + p + 1);
                let line = bytes[start..end].to_vec();
                bytes.splice(end..end, line);
            }
            Mutation::Truncate(at) => bytes.truncate(index(*at, len)),
            Mutation::ReplaceValue(at, value) => {
                let i = index(*at, len);
                let start = bytes[..i]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |p| p + 1);
                let end = bytes[i..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(len, |p| i + p);
                if let Some(eq) = bytes[start..end].windows(3).position(|w| w == b" = ") {
                    bytes.splice(start + eq + 3..end, value.iter().copied());
                }
            }
        }
    }
    bytes
}

#[test]
fn mutated_examples_never_crash_hang_or_escape() {
    let originals: Vec<Vec<u8>> = examples()
        .iter()
        .map(|p| std::fs::read(p).expect("example readable"))
        .collect();
    assert!(!originals.is_empty());
    let strategy = (
        proptest::sample::select(originals),
        proptest::collection::vec(mutation(), 1..5),
    )
        .prop_map(|(original, mutations)| apply(original, &mutations));
    let n = cases(MUTATED_CASES);
    let valid = run_cases(n, strategy);
    eprintln!("{valid} of {n} mutated examples were valid");
}

// ---- Every input that ever failed ----

#[test]
fn every_input_that_ever_failed_passes_now() {
    let dir = root().join("tests/robust");
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/robust exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    fixtures.sort();
    assert!(
        !fixtures.is_empty(),
        "tests/robust holds the inputs that once failed"
    );
    let failures: Vec<String> = fixtures
        .iter()
        .filter_map(|path| {
            let bytes = std::fs::read(path).expect("fixture readable");
            check_workspace(&bytes)
                .err()
                .map(|why| format!("{}: {why}", path.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---- Fixed regressions that need a file system set up, not just a workspace ----

/// Issue #10, item 9: a problem beyond column 65,535 made miette panic (exit 101).
#[test]
fn a_problem_on_a_70000_column_line_is_reported_with_its_exact_place() {
    let dir = tempfile::tempdir().unwrap();
    let line = format!("description = \"{}\", bogus = 1", "a".repeat(70_000));
    std::fs::write(
        dir.path().join("k8s-advisor.toml"),
        format!("version = 1\n[project]\nname = \"x\"\n{line}\n"),
    )
    .unwrap();
    for args in [
        &["assess"][..],
        &["check", "--format", "json"],
        &["generate"],
    ] {
        let (code, stderr) = run(dir.path(), dir.path(), args).unwrap();
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.contains("[k8s-advisor.toml:4:70017]"), "{stderr}");
        assert!(stderr.lines().all(|l| l.chars().count() < 400), "{stderr}");
    }
}

/// Issue #10, item 3: without `-w`, the search for the workspace stops at the repository root,
/// and outside any repository it looks only in the current folder.
#[test]
fn the_workspace_search_stops_at_the_repository_root() {
    let tmp = tempfile::tempdir().unwrap();
    let outer = tmp.path().join("outer");
    let inner = outer.join("inner");
    std::fs::create_dir_all(outer.join(".git")).unwrap();
    std::fs::create_dir_all(inner.join(".git")).unwrap();
    std::fs::create_dir_all(outer.join("sub")).unwrap();
    std::fs::copy(examples().first().unwrap(), outer.join("k8s-advisor.toml")).unwrap();

    // A nested repository without a workspace does not use its parent's.
    let (code, stderr) = run(&inner, tmp.path(), &["generate"]).unwrap();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no k8s-advisor.toml"), "{stderr}");
    assert!(!outer.join("k8s").exists());

    // A subfolder of the same repository does.
    let (code, stderr) = run(&outer.join("sub"), tmp.path(), &["assess"]).unwrap();
    assert_eq!(code, Some(0), "{stderr}");

    // Outside any repository, only the current folder is searched.
    let plain = tempfile::tempdir().unwrap();
    std::fs::create_dir(plain.path().join("sub")).unwrap();
    std::fs::copy(
        examples().first().unwrap(),
        plain.path().join("k8s-advisor.toml"),
    )
    .unwrap();
    let (code, stderr) = run(&plain.path().join("sub"), tmp.path(), &["assess"]).unwrap();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no k8s-advisor.toml"), "{stderr}");
    let (code, stderr) = run(plain.path(), tmp.path(), &["assess"]).unwrap();
    assert_eq!(code, Some(0), "{stderr}");

    // init in a subfolder of a repository that has a workspace says so, and writes nothing;
    // -w makes a second workspace a deliberate choice.
    let args = ["init", "--non-interactive"];
    let (code, stderr) = run(&outer.join("sub"), tmp.path(), &args).unwrap();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("already has a workspace, ../k8s-advisor.toml") && stderr.contains("-w"),
        "{stderr}"
    );
    assert!(!outer.join("sub/k8s-advisor.toml").exists());
    let args = ["-w", "k8s-advisor.toml", "init", "--non-interactive"];
    let (code, stderr) = run(&outer.join("sub"), tmp.path(), &args).unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(outer.join("sub/k8s-advisor.toml").is_file());
}
