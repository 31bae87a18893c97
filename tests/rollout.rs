//! `rollout`: every step of every example, written by the binary, is judged by tools nobody
//! here wrote. `kubectl kustomize` builds every overlay; `kubernetes-validate --strict` accepts
//! every built step; and network-config-analyzer's connectivity of each step allows everything
//! the final step allows (so every declared call, whose connectivity the conformance tests
//! prove equal to the final layout's), allows nothing the step before did not (narrowing is
//! monotone), and the final step's is the one of the layout `generate` wrote. The runbook
//! passes markdownlint. A test that drops a policy from a step proves the comparison can fail.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::nca::{Canon, run as nca};
use crate::support::{bin, examples, tool};

/// Copies the example's folder (its workspace and user files) into `dir`, runs `generate` and
/// `rollout`, and returns the step folders in order.
fn roll_out(example: &Path, dir: &Path, args: &[&str]) -> Vec<PathBuf> {
    let from = example.parent().unwrap();
    let status = Command::new("cp")
        .arg("-r")
        .arg(format!("{}/.", from.display()))
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
    for command in [vec!["generate", "-q"], [&["rollout"][..], args].concat()] {
        let output = bin()
            .arg("-w")
            .arg(dir.join("k8s-advisor.toml"))
            .args(&command)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{} {command:?}: {}",
            example.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut steps: Vec<PathBuf> = std::fs::read_dir(dir.join("k8s/rollout"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "base"))
        .collect();
    steps.sort();
    steps
}

fn kustomize(dir: &Path) -> Result<String, String> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "kubectl kustomize {}: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The workloads our reader finds in `text`: the ones nca may name.
fn workloads(text: &str) -> BTreeSet<String> {
    k8s_advisor::verify::read::read_text("built", text)
        .unwrap()
        .workloads
        .iter()
        .map(|w| w.id())
        .collect()
}

/// A policy that selects no pod and names an IPv6 block, in `namespace`: nca shows IPv6
/// addresses only when some policy names one (`ORACLES.md`), and a step without policies names
/// none. It changes no connectivity.
fn ipv6_probe(namespace: &str) -> String {
    format!(
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: nca-ipv6-probe\n  namespace: {namespace}\nspec:\n  podSelector:\n    matchLabels:\n      nca-probe: selects-nothing\n  policyTypes: [Ingress]\n  ingress:\n    - from:\n        - ipBlock:\n            cidr: 2001:db8:ffff::/48\n"
    )
}

/// `a` minus `b` in words, or `None` when `a` allows nothing beyond `b`.
fn beyond(a: &Canon, b: &Canon) -> Option<String> {
    let rest = a.minus(b);
    (rest != Canon::default()).then(|| crate::nca::diff(&rest, &Canon::default()))
}

/// Judges the steps of one rollout; the problems found.
fn judge(name: &str, layout: &Path, steps: &[PathBuf]) -> Vec<String> {
    let mut problems = Vec::new();
    let built_layout = match kustomize(layout) {
        Ok(t) => t,
        Err(e) => return vec![e],
    };
    let ours = workloads(&built_layout);
    let probe = ipv6_probe(
        ours.iter()
            .next()
            .and_then(|w| w.split_once('/'))
            .map_or("default", |(ns, _)| ns),
    );
    let mut built = Vec::new();
    for step in steps {
        match kustomize(step) {
            Ok(text) => built.push(text),
            Err(e) => return vec![e],
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = built
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let path = dir.path().join(format!("step-{i}.yaml"));
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
    let validate = Command::new(tool("kubernetes-validate"))
        .args(["--strict", "-k", "1.30", "--quiet"])
        .args(&files)
        .output()
        .unwrap();
    if !validate.status.success() {
        problems.push(format!(
            "{name}: kubernetes-validate: {}{}",
            String::from_utf8_lossy(&validate.stdout),
            String::from_utf8_lossy(&validate.stderr)
        ));
    }
    if built.last() != Some(&built_layout) {
        problems.push(format!("{name}: the last step does not build the layout"));
    }
    let layout_canon = match nca(
        &format!("{name}-layout"),
        &format!("{built_layout}{probe}"),
        &ours,
    ) {
        Ok(c) => c,
        Err(e) => return vec![format!("{name}: nca: {e}")],
    };
    let mut previous: Option<Canon> = None;
    for (i, text) in built.iter().enumerate() {
        let canon = match nca(&format!("{name}-{i}"), &format!("{text}{probe}"), &ours) {
            Ok(c) => c,
            Err(e) => {
                problems.push(format!("{name} step {i}: nca: {e}"));
                continue;
            }
        };
        if let Some(missing) = beyond(&layout_canon, &canon) {
            problems.push(format!(
                "{name} step {i} blocks what the layout allows:\n{missing}"
            ));
        }
        if let Some(prev) = &previous
            && let Some(wider) = beyond(&canon, prev)
        {
            problems.push(format!(
                "{name} step {i} allows what step {} did not:\n{wider}",
                i - 1
            ));
        }
        previous = Some(canon);
    }
    if previous.as_ref() != Some(&layout_canon) {
        problems.push(format!(
            "{name}: the last step's connectivity is not the layout's"
        ));
    }
    problems
}

/// Runs `judge` on every example with `args`, two at a time (nca is slow, the machine has two
/// cores).
fn examples_roll_out(args: &[&str]) -> Vec<String> {
    let cases: Vec<PathBuf> = examples();
    let queue = Mutex::new(cases);
    let problems = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let Some(example) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let dir = tempfile::tempdir().unwrap();
                    let steps = roll_out(&example, dir.path(), args);
                    let name = example
                        .parent()
                        .unwrap()
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    let found = judge(&name, &dir.path().join("k8s"), &steps);
                    crate::record::markdownlint(&[dir.path().join("docs/rollout.md")]);
                    problems.lock().unwrap().extend(found);
                }
            });
        }
    });
    problems.into_inner().unwrap()
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn every_step_of_every_example_passes_the_oracles_by_namespace() {
    let problems = examples_roll_out(&[]);
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn every_step_of_every_example_passes_the_oracles_by_service() {
    let problems = examples_roll_out(&["--by", "service"]);
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// The comparison catches a step that reopens what an earlier one closed and one that blocks
/// a declared call: a policy taken out of a middle step, and one added to an early step.
#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn the_judge_catches_broken_steps() {
    let example = crate::support::example("family-blog");
    let dir = tempfile::tempdir().unwrap();
    let steps = roll_out(&example, dir.path(), &[]);
    assert!(judge("intact", &dir.path().join("k8s"), &steps).is_empty());
    // Step 2 without its policies: wider than step 1.
    let middle = &steps[2];
    std::fs::write(
        middle.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base\n",
    )
    .unwrap();
    let problems = judge("reopened", &dir.path().join("k8s"), &steps);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("allows what step 1 did not")),
        "{problems:?}"
    );
    // The step before the last without the policy that admits a callee's declared callers:
    // the callee stays isolated, and its declared calls are blocked.
    let dir = tempfile::tempdir().unwrap();
    let steps = roll_out(&example, dir.path(), &[]);
    let ws = crate::generate::load(&example);
    let callee = &ws
        .services
        .iter()
        .find_map(|s| s.calls.first())
        .unwrap()
        .to
        .name;
    let step = &steps[steps.len() - 2];
    let policies = step.join("network-policies.yaml");
    let text = std::fs::read_to_string(&policies).unwrap();
    let kept: Vec<&str> = text
        .split("\n---\n")
        .filter(|doc| !doc.contains(&format!("name: \"allow-{callee}\"")))
        .collect();
    assert!(
        kept.len() < text.split("\n---\n").count(),
        "allow-{callee} is in {text}"
    );
    std::fs::write(&policies, kept.join("\n---\n")).unwrap();
    let problems = judge("blocked", &dir.path().join("k8s"), &steps);
    let n = steps.len() - 2;
    assert!(
        problems
            .iter()
            .any(|p| p.contains(&format!("step {n} blocks what the layout allows"))),
        "{problems:?}"
    );
}

#[test]
fn rollout_with_flows_names_the_step_that_cuts_an_observed_call() {
    let example = crate::support::example("family-blog");
    let ws = crate::generate::load(&example);
    // A call nobody declared, between two services of the example.
    let (a, b) = (&ws.services[0], &ws.services[ws.services.len() - 1]);
    let port = b.ports.first().map_or(80, |p| p.target);
    let table = format!(
        "source,destination,port,protocol\n{}/{},{}/{},{port},TCP\n",
        a.id.namespace, a.id.name, b.id.namespace, b.id.name
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flows.csv"), table).unwrap();
    let from = example.parent().unwrap();
    std::fs::copy(
        from.join("k8s-advisor.toml"),
        dir.path().join("k8s-advisor.toml"),
    )
    .unwrap();
    let output = bin()
        .arg("-w")
        .arg(dir.path().join("k8s-advisor.toml"))
        .args(["rollout", "--flows"])
        .arg(dir.path().join("flows.csv"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("cuts an observed call"), "{stdout}");
    let runbook = std::fs::read_to_string(dir.path().join("docs/rollout.md")).unwrap();
    assert!(runbook.contains("that the flows show"), "{runbook}");
    assert_eq!(
        runbook.matches("It cuts 1 call").count(),
        1,
        "exactly the first step that isolates one of its ends: {runbook}"
    );
}

#[test]
fn an_edited_runbook_is_kept_without_force() {
    let example = crate::support::example("family-blog");
    let dir = tempfile::tempdir().unwrap();
    roll_out(&example, dir.path(), &[]);
    let runbook = dir.path().join("docs/rollout.md");
    let mut text = std::fs::read_to_string(&runbook).unwrap();
    text.push_str("\nOur own note.\n");
    std::fs::write(&runbook, &text).unwrap();
    let run = |force: bool| {
        let mut cmd = bin();
        cmd.arg("-w")
            .arg(dir.path().join("k8s-advisor.toml"))
            .arg("rollout");
        if force {
            cmd.arg("--force");
        }
        cmd.output().unwrap()
    };
    let output = run(false);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&runbook).unwrap(), text);
    assert!(run(true).status.success());
    assert!(
        !std::fs::read_to_string(&runbook)
            .unwrap()
            .contains("Our own note.")
    );
}

/// The documents of a multi-document YAML file, as JSON values.
fn documents(path: &Path) -> Vec<serde_json::Value> {
    use serde::Deserialize;
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| serde_json::to_value(serde_yaml_ng::Value::deserialize(d).unwrap()).unwrap())
        .filter(|d| !d.is_null())
        .collect()
}

/// The staged copies for Calico match Calico's own schema of the kind (vendored, made strict)
/// and are the final policies, object for object; the runbook gives, for every step, the
/// commands to apply it, to watch its drops on Cilium and on Calico, and to roll it back.
#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn staged_policies_and_runbook_commands() {
    let validator = crate::support::crd_validator(
        "projectcalico.org_stagedkubernetesnetworkpolicies-v3.32.1.yaml",
        "v3",
    );
    for (example, by) in [("family-blog", "namespace"), ("generic", "service")] {
        let dir = tempfile::tempdir().unwrap();
        let steps = roll_out(&crate::support::example(example), dir.path(), &["--by", by]);
        let staged = documents(&steps[0].join("calico-staged-policies.yaml"));
        let ws = crate::generate::load(&dir.path().join("k8s-advisor.toml"));
        let mut generated: Vec<serde_json::Value> = ws
            .namespaces
            .keys()
            .flat_map(|ns| documents(&dir.path().join(format!("k8s/{ns}/network-policies.yaml"))))
            .collect();
        assert!(!generated.is_empty());
        assert_eq!(staged.len(), generated.len(), "{example}");
        for (s, g) in staged.iter().zip(&mut generated) {
            let errors: Vec<String> = validator
                .iter_errors(s)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{example}: {errors:?}\n{s:#}");
            assert_eq!(s["apiVersion"], "projectcalico.org/v3");
            assert_eq!(s["kind"], "StagedKubernetesNetworkPolicy");
            g["apiVersion"] = s["apiVersion"].clone();
            g["kind"] = s["kind"].clone();
            assert_eq!(s, g, "{example}");
        }
        // The schema is strict: a misspelt field is caught.
        let mut typo = staged[0].clone();
        typo["spec"]["podselector"] = serde_json::json!({});
        assert!(!validator.is_valid(&typo));
        let runbook = std::fs::read_to_string(dir.path().join("docs/rollout.md")).unwrap();
        crate::record::markdownlint(&[dir.path().join("docs/rollout.md")]);
        let sections: Vec<&str> = runbook.split("\n## Step ").skip(1).collect();
        assert_eq!(sections.len(), steps.len(), "{runbook}");
        let whisker = "kubectl port-forward -n calico-system service/whisker 8081:8081";
        assert!(
            sections[0].contains(whisker)
                && sections[0]
                    .contains("kubectl delete -f k8s/rollout/00-stage/calico-staged-policies.yaml"),
            "{}",
            sections[0]
        );
        for (i, section) in sections.iter().enumerate().skip(1) {
            let name = |n: usize| steps[n].file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                section.contains(&format!("kubectl apply -k k8s/rollout/{}\n", name(i)))
                    && section.contains("hubble observe --verdict DROPPED")
                    && section.contains(whisker)
                    && section.contains(&format!("kubectl apply -k k8s/rollout/{}\n", name(i - 1))),
                "{section}"
            );
        }
    }
}

/// The structure of a Markdown document: every element it opens, without the text.
fn structure(markdown: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Options, Parser};
    Parser::new_ext(markdown, Options::ENABLE_TABLES)
        .filter_map(|event| match event {
            Event::Start(tag) => Some(format!("{tag:?}")),
            // The checksum differs with the text; the comment around it must not.
            Event::Html(html) if html.starts_with("<!-- k8s-advisor rollout checksum: xxh3:") => {
                Some("html checksum".to_string())
            }
            Event::Html(html) | Event::InlineHtml(html) => Some(format!("html {html}")),
            _ => None,
        })
        .map(|s| {
            // A code block's language and a link's address are structure; a heading's id is not.
            s.split(", id:").next().unwrap_or(&s).to_string()
        })
        .collect()
}

/// Names and file names from the flows reach the runbook: a pod of the DNS servers' labels
/// whose workload name is hostile, seen over a day, in a flow file with a hostile name. The
/// runbook keeps its structure and passes markdownlint.
#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn flow_names_cannot_change_the_runbook() {
    let example = crate::support::example("family-blog");
    let hubble = |workload: &str| {
        serde_json::json!({"flow": {
            "time": "2026-11-30T10:00:00.000000001Z",
            "verdict": "FORWARDED",
            "l4": {"TCP": {"source_port": 40000, "destination_port": 8080}},
            "source": {"namespace": "kube-system", "labels": ["k8s:k8s-app=kube-dns"],
                       "pod_name": "coredns-5d78c9869d-8xk2l",
                       "workloads": [{"name": workload, "kind": "Deployment"}]},
            "destination": {"namespace": "family-blog", "labels": ["k8s:app=web"],
                            "pod_name": "web-6d8f7c9b5-q2w3e",
                            "workloads": [{"name": "web", "kind": "Deployment"}]},
            "is_reply": false
        }})
        .to_string()
    };
    let runbook = |file: &str, workload: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&example, dir.path().join("k8s-advisor.toml")).unwrap();
        let flows = dir.path().join(file);
        let later = hubble(workload).replace("2026-11-30T10:00", "2026-12-01T09:59");
        std::fs::write(&flows, format!("{}\n{later}\n", hubble(workload))).unwrap();
        let output = bin()
            .arg("-w")
            .arg(dir.path().join("k8s-advisor.toml"))
            .args(["rollout", "--flows"])
            .arg(&flows)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let path = dir.path().join("docs/rollout.md");
        crate::record::markdownlint(std::slice::from_ref(&path));
        (std::fs::read_to_string(path).unwrap(), dir)
    };
    let (plain, _dir) = runbook("flows.json", "coredns");
    assert!(
        plain.contains("kube-system/coredns -> family-blog/web on TCP 8080"),
        "{plain}"
    );
    let hostile = "x` [click](https://evil.example) # <b>\u{2028}- item ```";
    let (text, _dir) = runbook("fl`ows [a](evil.html) *x* # h.json", hostile);
    assert_eq!(structure(&text), structure(&plain), "{text}");
    assert!(!text.contains('\u{2028}'), "{text}");
}

/// What a case puts in the workspace folder before `rollout` runs.
type Prepare<'a> = &'a dyn Fn(&Path);

/// `rollout` writes under the layout folder and into `docs/`: a link there, or a FIFO where a
/// file or a folder goes, is refused before anything is written, and what the link points to
/// is left alone.
#[test]
fn rollout_never_writes_through_links_or_into_special_files() {
    let example = crate::support::example("family-blog");
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("target.md");
    std::fs::write(&target, "theirs\n").unwrap();
    let cases: [(&str, Prepare); 4] = [
        ("docs/rollout.md is a link", &|dir| {
            std::fs::create_dir(dir.join("docs")).unwrap();
            std::os::unix::fs::symlink(&target, dir.join("docs/rollout.md")).unwrap();
        }),
        ("k8s is a link", &|dir| {
            std::os::unix::fs::symlink(outside.path(), dir.join("k8s")).unwrap();
        }),
        ("k8s/rollout is a FIFO", &|dir| {
            std::fs::create_dir(dir.join("k8s")).unwrap();
            let fifo = dir.join("k8s/rollout");
            assert!(
                Command::new("mkfifo")
                    .arg(&fifo)
                    .status()
                    .unwrap()
                    .success()
            );
        }),
        ("docs/rollout.md is a FIFO", &|dir| {
            std::fs::create_dir(dir.join("docs")).unwrap();
            let fifo = dir.join("docs/rollout.md");
            assert!(
                Command::new("mkfifo")
                    .arg(&fifo)
                    .status()
                    .unwrap()
                    .success()
            );
        }),
    ];
    for (what, prepare) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&example, dir.path().join("k8s-advisor.toml")).unwrap();
        prepare(dir.path());
        let output = bin()
            .arg("-w")
            .arg(dir.path().join("k8s-advisor.toml"))
            .arg("rollout")
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
        let words: Vec<&str> = stderr
            .split(|c: char| c.is_whitespace() || c == '│')
            .filter(|w| !w.is_empty())
            .collect();
        assert!(
            words.join(" ").contains("nothing was written"),
            "{what}: {stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            "theirs\n",
            "{what}"
        );
        let mut left: Vec<String> = std::fs::read_dir(outside.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["target.md"], "{what}");
    }
}
