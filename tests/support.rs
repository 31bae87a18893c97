//! Shared test helpers: run the binary, find the repository and the external oracles.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary, run from the repository root with colors off.
pub fn bin() -> Command {
    let mut cmd = Command::cargo_bin("k8s-advisor").expect("binary is built");
    cmd.current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    cmd
}

/// Runs `cmd`, asserts exit 0 (showing stderr otherwise) and returns its stdout.
pub fn success(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// An example workspace by folder name.
pub fn example(name: &str) -> PathBuf {
    root().join("examples").join(name).join("k8s-advisor.toml")
}

/// Every example workspace.
pub fn examples() -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples folder")
        .map(|e| e.expect("dir entry").path().join("k8s-advisor.toml"))
        .filter(|p| p.is_file())
        .collect();
    all.sort();
    all
}

/// A finished run as (exit code, stdout, stderr); -1 when a signal ended it.
pub fn outcome(output: std::process::Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The folder name of an example workspace (`aks` for `examples/aks/k8s-advisor.toml`).
pub fn example_name(ws: &Path) -> String {
    ws.parent()
        .and_then(Path::file_name)
        .expect("an example workspace is in a folder")
        .to_string_lossy()
        .into_owned()
}

/// The environment variable that turns on the oracle tier: `scripts/test.sh` sets it and runs
/// the ignored tests too. A plain `cargo test` leaves the tier off and reports those tests as
/// ignored, with the reason below; it needs none of the external tools.
pub const ORACLE_TIER: &str = "K8S_ADVISOR_ORACLES";

/// The path of an external oracle installed by `scripts/install-tools.sh` (or found on PATH).
///
/// Every test that runs an oracle belongs to the oracle tier and carries
/// `#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]`. Such a test
/// run without the tier (`cargo test -- --include-ignored`), or an untagged test that reaches
/// an oracle, fails here naming the fix; with the tier on, a missing oracle fails too. Never a
/// skip that passes.
pub fn tool(name: &str) -> PathBuf {
    assert!(
        std::env::var_os(ORACLE_TIER).is_some(),
        "`{name}` is an external oracle: a test that runs it belongs to the oracle tier, which \
         scripts/test.sh runs ({ORACLE_TIER}=1 cargo test -- --include-ignored); tag the test \
         #[ignore = \"oracle tier: scripts/test.sh runs it with the external checkers\"]"
    );
    let tools = root().join(".tools");
    let candidates = [
        tools.join("venv/bin").join(name),
        tools.join("node/node_modules/.bin").join(name),
        tools.join("c4studio/bin").join(name),
    ];
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return found.clone();
    }
    if let Some(found) = which(name) {
        return found;
    }
    panic!("oracle `{name}` is missing: run scripts/install-tools.sh (or scripts/test.sh)");
}

/// `node scripts/mermaid-parse.mjs FILES...`: mermaid's own parser on each file, with the
/// packages installed in `.tools/node` (exit 1 names the first diagram it refuses).
pub fn mermaid_parse(files: &[PathBuf]) -> std::process::Output {
    node_script("mermaid-parse.mjs", &["mermaid", "jsdom"], files)
}

/// `node scripts/SCRIPT FILES...` with `packages` from `.tools/node`; panics with a hint when
/// one is missing (the oracles are never optional).
pub fn node_script(script: &str, packages: &[&str], files: &[PathBuf]) -> std::process::Output {
    let node = tool("node");
    let modules = root().join(".tools/node/node_modules");
    for package in packages {
        assert!(
            modules.join(package).is_dir(),
            "{package} is missing: run scripts/install-tools.sh (or scripts/test.sh)"
        );
    }
    std::process::Command::new(node)
        .arg(root().join("scripts").join(script))
        .args(files)
        .env("NODE_PATH", &modules)
        .current_dir(root())
        .output()
        .expect("node runs")
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| Path::new(p).is_file())
    })
}

/// Writes the layout `generate` makes for `ws` into `out`, as the command does. The user's own
/// files a namespace lists (`user-resources`) are copied first from the `k8s/` folder beside
/// the workspace file, where an example keeps them.
pub fn write_layout(
    ws: &k8s_advisor::model::Workspace,
    out: &Path,
) -> Result<(), k8s_advisor::diagnostic::Error> {
    let user_files = k8s_advisor::generate::user_files(ws);
    let beside = ws
        .source
        .path()
        .parent()
        .unwrap_or(Path::new("."))
        .join("k8s");
    for file in &user_files {
        let to = out.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(beside.join(file), &to)
            .unwrap_or_else(|e| panic!("user file {}: {e}", beside.join(file).display()));
    }
    let files = k8s_advisor::generate::generate(ws);
    // The folder `out` is in stands for the workspace folder, which always exists.
    let root = out.parent().unwrap_or(Path::new(""));
    std::fs::create_dir_all(root).unwrap();
    let plan =
        k8s_advisor::layout::plan_manifests(root, out, &ws.project.name, files, &user_files)?;
    k8s_advisor::layout::apply(&plan, false).map(|_| ())
}

/// The schema of one version of a CustomResourceDefinition vendored in `tests/schemas/`, made
/// strict: every object that names its properties admits no others, as `kubernetes-validate
/// --strict` treats the built-in kinds (the API server would prune unknown fields silently
/// instead).
pub fn crd_validator(file: &str, version: &str) -> jsonschema::Validator {
    let path = root().join("tests/schemas").join(file);
    let crd: serde_json::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let served = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == version)
        .unwrap_or_else(|| panic!("{file} serves {version}"));
    let mut schema = served["schema"]["openAPIV3Schema"].clone();
    strict(&mut schema);
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn strict(schema: &mut serde_json::Value) {
    if let Some(object) = schema.as_object_mut() {
        if object.contains_key("properties")
            && !object.contains_key("additionalProperties")
            && !object.contains_key("x-kubernetes-preserve-unknown-fields")
        {
            object.insert("additionalProperties".into(), false.into());
        }
        object.values_mut().for_each(strict);
    } else if let Some(items) = schema.as_array_mut() {
        items.iter_mut().for_each(strict);
    }
}

/// Copies the files under `from` into `to`, creating `to` and its folders.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
