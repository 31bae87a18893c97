//! `export`: reviewed snapshots of every example and of imported real applications in both
//! formats; the Backstage entities against Backstage's own entity schemas (vendored in
//! `tests/schemas/backstage/`) and through `import` back to the same services, domains, owners
//! and calls; the Structurizr workspace through a real DSL parser (c4studio) whose reading is
//! compared with the model; and `-o` against files of others, links and FIFOs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::generate::load;
use crate::support::{bin, example_name, examples, outcome, root};

/// Runs `export --format FORMAT` on `ws` from `dir`; returns (exit code, stdout, stderr).
fn export(dir: &Path, ws: &Path, format: &str, extra: &[&str]) -> (i32, String, String) {
    let output = bin()
        .current_dir(dir)
        .arg("-w")
        .arg(ws)
        .arg("export")
        .arg("--format")
        .arg(format)
        .args(extra)
        .output()
        .unwrap();
    outcome(output)
}

/// The workspaces the golden tests cover: every example, and the workspaces `import` drafts
/// from real applications (Online Boutique's manifests, the OpenTelemetry demo's manifests,
/// Backstage's example catalog), each as (name, folder holding `k8s-advisor.toml`).
fn cases() -> Vec<(String, tempfile::TempDir)> {
    let mut all = Vec::new();
    for ws in examples() {
        let name = example_name(&ws);
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&ws, dir.path().join("k8s-advisor.toml")).unwrap();
        all.push((name, dir));
    }
    for (name, input) in [
        ("online-boutique", "online-boutique/kubernetes-manifests"),
        ("otel-demo", "otel-demo/kubernetes"),
        ("backstage-example", "backstage-example/catalog-info.yaml"),
    ] {
        all.push((name.to_string(), imported(input)));
    }
    all
}

/// A folder holding the workspace `import` drafts from `input` (below `tests/import/`).
pub fn imported(input: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = bin()
        .current_dir(dir.path())
        .arg("import")
        .arg(root().join("tests/import").join(input))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{input}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

/// The documents of a multi-document YAML text, as JSON values.
fn documents(text: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| Value::deserialize(d).expect("valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

/// Backstage's entity schemas, each registered under the URI its relative `$id` resolves to.
fn backstage_validators() -> Vec<(String, jsonschema::Validator)> {
    let dir = root().join("tests/schemas/backstage");
    let read = |file: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap()
    };
    let shared = [
        "Entity.schema.json",
        "EntityEnvelope.schema.json",
        "EntityMeta.schema.json",
        "common.schema.json",
    ];
    let kinds = [
        ("EntityEnvelope", "EntityEnvelope.schema.json"),
        ("Entity", "Entity.schema.json"),
        ("API", "API.v1alpha1.schema.json"),
        ("Component", "Component.v1alpha1.schema.json"),
        ("Domain", "Domain.v1alpha1.schema.json"),
        ("Group", "Group.v1alpha1.schema.json"),
        ("System", "System.v1alpha1.schema.json"),
    ];
    let mut registry = jsonschema::Registry::new();
    for file in shared {
        let schema = read(file);
        let id = schema["$id"].as_str().unwrap().to_string();
        registry = registry
            .add(format!("json-schema:///{id}"), schema)
            .expect("a valid schema URI");
    }
    let registry = registry.prepare().expect("the shared schemas resolve");
    kinds
        .into_iter()
        .map(|(kind, file)| {
            let validator = jsonschema::options()
                .with_registry(&registry)
                .build(&read(file))
                .unwrap_or_else(|e| panic!("{file} compiles: {e}"));
            (kind.to_string(), validator)
        })
        .collect()
}

/// Backstage's rules for names and namespaces, beyond the schemas (its
/// `KubernetesValidatorFunctions`: an object name is 1 to 63 letters, digits and `-_.`,
/// starting and ending with a letter or digit; a namespace a DNS label).
fn valid_name(name: &str) -> bool {
    label(name, |c| {
        c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')
    })
}

fn valid_namespace(ns: &str) -> bool {
    label(ns, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-'
    })
}

/// 1 to 63 bytes of `allowed`, alphanumeric at both ends.
fn label(text: &str, allowed: fn(u8) -> bool) -> bool {
    let b = text.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|&c| allowed(c))
}

/// Every problem Backstage's schemas and name rules find in a catalog, and every reference
/// that names no entity of the catalog.
fn backstage_problems(validators: &[(String, jsonschema::Validator)], text: &str) -> Vec<String> {
    entity_problems(validators, &documents(text))
}

fn entity_problems(
    validators: &[(String, jsonschema::Validator)],
    entities: &[Value],
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut refs: BTreeSet<String> = BTreeSet::new();
    for e in entities {
        let kind = e["kind"].as_str().unwrap_or_default();
        let ns = e["metadata"]["namespace"].as_str().unwrap_or("default");
        let name = e["metadata"]["name"].as_str().unwrap_or_default();
        refs.insert(format!("{}:{ns}/{name}", kind.to_ascii_lowercase()));
        for (schema, validator) in validators {
            if schema == "EntityEnvelope" || schema == "Entity" || schema == kind {
                problems.extend(
                    validator
                        .iter_errors(e)
                        .map(|err| format!("{kind} {ns}/{name} ({schema}): {err}")),
                );
            }
        }
        if !validators.iter().any(|(k, _)| k == kind) {
            problems.push(format!("{kind} {ns}/{name}: a kind without a schema here"));
        }
        if !valid_name(name) || !valid_namespace(ns) {
            problems.push(format!("{kind} {ns}/{name}: not a valid entity name"));
        }
    }
    // Every reference leads to an entity of the export: nothing dangles in Backstage.
    for e in entities {
        let ns = e["metadata"]["namespace"].as_str().unwrap_or("default");
        let spec = &e["spec"];
        let mut wanted: Vec<(String, &str)> = Vec::new();
        for (key, kind) in [
            ("owner", "group"),
            ("domain", "domain"),
            ("system", "system"),
        ] {
            if let Some(r) = spec[key].as_str() {
                wanted.push((r.to_string(), kind));
            }
        }
        for (key, kind) in [("dependsOn", "component"), ("providesApis", "api")] {
            for r in spec[key].as_array().into_iter().flatten() {
                wanted.push((r.as_str().unwrap().to_string(), kind));
            }
        }
        for (r, default_kind) in wanted {
            let (kind, rest) = r.split_once(':').unwrap_or((default_kind, r.as_str()));
            let full = if rest.contains('/') {
                format!("{kind}:{rest}")
            } else {
                format!("{kind}:{ns}/{rest}")
            };
            if !refs.contains(&full) {
                problems.push(format!("{full} is referenced but not exported"));
            }
        }
    }
    problems
}

#[test]
fn backstage_exports_are_snapshotted_and_valid_against_backstages_schemas() {
    let validators = backstage_validators();
    for (name, dir) in cases() {
        let ws = dir.path().join("k8s-advisor.toml");
        let (code, text, stderr) = export(dir.path(), &ws, "backstage", &[]);
        assert_eq!(code, 0, "{name}: {stderr}");
        let problems = backstage_problems(&validators, &text);
        assert!(
            problems.is_empty(),
            "{name}:\n{}\n{text}",
            problems.join("\n")
        );
        insta::assert_snapshot!(format!("backstage-{name}"), text);
    }
}

#[test]
fn the_schema_check_catches_what_backstage_would_refuse() {
    let validators = backstage_validators();
    let ws = crate::support::example("picturesocial");
    let (_, text, _) = export(&root(), &ws, "backstage", &[]);
    assert!(backstage_problems(&validators, &text).is_empty());
    let entities = documents(&text);
    // Each of these mistakes, made by hand in the export, is caught.
    type Break = fn(&mut Value);
    let mistakes: [(&str, &str, Break); 6] = [
        ("a Component without lifecycle", "Component", |e| {
            e["spec"].as_object_mut().unwrap().remove("lifecycle");
        }),
        ("a Domain without owner", "Domain", |e| {
            e["spec"].as_object_mut().unwrap().remove("owner");
        }),
        ("an unknown top-level key", "Group", |e| {
            e["status2"] = Value::from("x");
        }),
        ("a name Backstage refuses", "System", |e| {
            e["metadata"]["name"] = Value::from("media team");
        }),
        ("a dangling owner", "Component", |e| {
            e["spec"]["owner"] = Value::from("group:default/nobody");
        }),
        ("a Group without children", "Group", |e| {
            e["spec"].as_object_mut().unwrap().remove("children");
        }),
    ];
    for (what, kind, mistake) in mistakes {
        let mut broken = entities.clone();
        let victim = broken
            .iter_mut()
            .find(|e| e["kind"] == kind)
            .unwrap_or_else(|| panic!("{what}: no {kind} in the export"));
        mistake(victim);
        assert!(
            !entity_problems(&validators, &broken).is_empty(),
            "{what} went unnoticed"
        );
    }
}

/// What a round trip must keep: services, the namespace and team of each, the team of each
/// namespace, and the calls.
#[derive(Debug, PartialEq, Eq)]
struct Essence {
    services: BTreeSet<(String, Option<String>)>,
    domains: BTreeSet<(String, Option<String>)>,
    calls: BTreeSet<(String, String)>,
}

fn essence(ws: &k8s_advisor::model::Workspace) -> Essence {
    Essence {
        services: ws
            .services
            .iter()
            .map(|s| (s.id.to_string(), s.team.clone()))
            .collect(),
        domains: ws
            .namespaces
            .values()
            .filter(|n| ws.services_in(&n.name).next().is_some())
            .map(|n| (n.name.clone(), n.team.clone()))
            .collect(),
        calls: ws
            .services
            .iter()
            .flat_map(|s| {
                s.calls
                    .iter()
                    // Not exported: a dependency of an entity on itself means nothing.
                    .filter(|c| c.to != s.id)
                    .map(|c| (s.id.to_string(), c.to.to_string()))
            })
            .collect(),
    }
}

/// Exports `dir`'s workspace to a catalog, imports it into a second folder, and compares.
fn round_trip(dir: &Path, what: &str) {
    let ws = dir.join("k8s-advisor.toml");
    let catalog = dir.join("catalog-info.yaml");
    let (code, _, stderr) = export(dir, &ws, "backstage", &["-o", "catalog-info.yaml"]);
    assert_eq!(code, 0, "{what}: {stderr}");
    let back = dir.join("back");
    std::fs::create_dir(&back).unwrap();
    let output = bin()
        .current_dir(&back)
        .arg("import")
        .arg(&catalog)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let before = essence(&load(&ws));
    let after = essence(&load(&back.join("k8s-advisor.toml")));
    assert_eq!(
        before, after,
        "{what}: the round trip through Backstage changed the model"
    );
}

#[test]
fn import_of_a_backstage_export_gives_back_the_same_services_domains_owners_and_calls() {
    for (name, dir) in cases() {
        round_trip(dir.path(), &name);
    }
}

#[test]
fn random_models_survive_the_round_trip_through_backstage() {
    let cases: u64 = std::env::var("EXPORT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    for seed in 0..cases {
        let model = crate::random_model::model(seed, 12);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("k8s-advisor.toml"),
            crate::random_model::toml(&model, None),
        )
        .unwrap();
        round_trip(dir.path(), &format!("seed {seed}"));
    }
}

#[test]
fn two_services_of_one_name_in_two_domains_stay_apart_through_backstage() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("k8s-advisor.toml"),
        r#"version = 1
[project]
name = "twins"

[[namespaces]]
name = "orders"
team = "shop"

[[services]]
name = "api"
namespace = "orders"
port = 8080
calls = ["billing/api"]

[[services]]
name = "api"
namespace = "billing"
port = 8080

[[services]]
name = "web"
namespace = "orders"
port = 8080
calls = ["orders/api"]
"#,
    )
    .unwrap();
    round_trip(dir.path(), "twins");
    let text = std::fs::read_to_string(dir.path().join("catalog-info.yaml")).unwrap();
    // The billing domain has no team: the stand-in Group owns it, and reads back as none.
    assert!(text.contains("owner: group:default/unassigned"), "{text}");
    assert!(text.contains("k8s-advisor/placeholder:"), "{text}");
}

/// The c4studio command the test suite installs (`scripts/install-tools.sh`).
fn c4studio() -> PathBuf {
    crate::support::tool("c4")
}

/// What c4studio reports about `dsl`: its diagnostics, and the workspace it read.
fn c4studio_read(dsl: &Path) -> (Vec<Value>, Value) {
    let check = std::process::Command::new(c4studio())
        .arg("check")
        .arg("--json")
        .arg(dsl)
        .output()
        .unwrap();
    let diagnostics: Vec<Value> = serde_json::from_slice(&check.stdout).unwrap_or_else(|e| {
        panic!(
            "c4studio check printed no JSON ({e}):\n{}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        )
    });
    let exported = std::process::Command::new(c4studio())
        .arg("export")
        .arg(dsl)
        .output()
        .unwrap();
    assert!(
        exported.status.success(),
        "c4studio export failed:\n{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let workspace: Value = serde_json::from_slice(&exported.stdout).unwrap();
    (diagnostics, workspace["workspace"].clone())
}

/// The parts of a Structurizr workspace JSON a test compares with the model: containers as
/// (group, name, technology), relationships as (source, destination, tags) by element name,
/// and deployment instances as (namespace node, workload node, instances, container).
#[derive(Debug, Default, PartialEq, Eq)]
struct Read {
    containers: BTreeSet<(String, String, String)>,
    relationships: BTreeSet<(String, String, String)>,
    instances: BTreeSet<(String, String, String, String)>,
}

fn read_workspace(workspace: &Value) -> Read {
    let mut names = std::collections::BTreeMap::new();
    let model = &workspace["model"];
    let systems = model["softwareSystems"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for system in &systems {
        names.insert(
            system["id"].as_str().unwrap().to_string(),
            system["name"].as_str().unwrap().to_string(),
        );
        for c in system["containers"].as_array().into_iter().flatten() {
            names.insert(
                c["id"].as_str().unwrap().to_string(),
                c["name"].as_str().unwrap().to_string(),
            );
        }
    }
    let mut read = Read::default();
    let mut relationships = |source: &str, element: &Value| {
        for r in element["relationships"].as_array().into_iter().flatten() {
            let to = r["destinationId"].as_str().unwrap();
            let to = names
                .get(to)
                .cloned()
                .unwrap_or_else(|| format!("UNRESOLVED {to}"));
            read.relationships.insert((
                source.to_string(),
                to,
                r["tags"].as_str().unwrap_or_default().to_string(),
            ));
        }
    };
    for system in &systems {
        relationships(system["name"].as_str().unwrap(), system);
        for c in system["containers"].as_array().into_iter().flatten() {
            relationships(c["name"].as_str().unwrap(), c);
        }
    }
    for system in &systems {
        for c in system["containers"].as_array().into_iter().flatten() {
            read.containers.insert((
                c["group"].as_str().unwrap_or_default().to_string(),
                c["name"].as_str().unwrap().to_string(),
                c["technology"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    for cluster in model["deploymentNodes"].as_array().into_iter().flatten() {
        for ns in cluster["children"].as_array().into_iter().flatten() {
            for workload in ns["children"].as_array().into_iter().flatten() {
                for instance in workload["containerInstances"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let container = instance["containerId"].as_str().unwrap();
                    read.instances.insert((
                        ns["name"].as_str().unwrap().to_string(),
                        workload["name"].as_str().unwrap().to_string(),
                        // Absent: Structurizr's default of one instance.
                        match &workload["instances"] {
                            Value::Null => "1".to_string(),
                            Value::String(n) => n.clone(),
                            other => other.to_string(),
                        },
                        names.get(container).cloned().unwrap_or_default(),
                    ));
                }
            }
        }
    }
    read
}

/// What the DSL of `ws` must say, worked out from the model independently of the exporter's
/// code: the same facts, from the validated workspace.
fn expected(ws: &k8s_advisor::model::Workspace) -> Read {
    use k8s_advisor::model::{CallKind, Expose};
    let mut count = std::collections::BTreeMap::new();
    for s in &ws.services {
        *count.entry(s.id.name.clone()).or_insert(0) += 1;
    }
    let name = |s: &k8s_advisor::model::Service| {
        if count[&s.id.name] > 1 {
            s.id.to_string()
        } else {
            s.id.name.clone()
        }
    };
    let mut read = Read::default();
    for s in &ws.services {
        let technology = s
            .image
            .as_deref()
            .map_or("no image chosen yet".to_string(), |i| {
                i.rsplit('/').next().unwrap().to_string()
            });
        read.containers
            .insert((s.id.namespace.clone(), name(s), technology));
        read.instances.insert((
            s.id.namespace.clone(),
            s.id.name.clone(),
            s.replicas.to_string(),
            name(s),
        ));
        for c in &s.calls {
            let callee = ws.service(&c.to).unwrap();
            let tag = match c.kind {
                CallKind::Sync => "Synchronous",
                CallKind::Async => "Asynchronous",
                CallKind::Telemetry => "Telemetry",
            };
            read.relationships
                .insert((name(s), name(callee), tag.to_string()));
        }
        for e in &s.egress {
            read.relationships
                .insert((name(s), e.cidr.to_string(), "Egress".to_string()));
        }
        if !s.ports.is_empty() && s.expose != Expose::Cluster {
            let from = match s.expose {
                Expose::Gateway => {
                    let g = ws.project.gateway.as_ref().unwrap();
                    format!("Gateway {}/{}", g.namespace, g.name)
                }
                Expose::Public if s.sources.as_ref().unwrap().is_anywhere() => "Internet".into(),
                Expose::Public => format!("Clients {}", cidrs(s)),
                _ => format!("Internal network {}", cidrs(s)),
            };
            read.relationships
                .insert((from, name(s), "Ingress".to_string()));
        }
    }
    read
}

fn cidrs(s: &k8s_advisor::model::Service) -> String {
    s.sources
        .as_ref()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn structurizr_exports_are_snapshotted_and_read_by_a_real_dsl_parser_as_the_model() {
    for (name, dir) in cases() {
        let ws = dir.path().join("k8s-advisor.toml");
        // A decision record, so that the workspace links it.
        let record = bin()
            .current_dir(dir.path())
            .env("SOURCE_DATE_EPOCH", "1795651200")
            .arg("record")
            .output()
            .unwrap();
        assert_eq!(record.status.code(), Some(0), "{name}");
        let (code, _, stderr) = export(dir.path(), &ws, "structurizr", &["-o", "workspace.dsl"]);
        assert_eq!(code, 0, "{name}: {stderr}");
        let dsl = dir.path().join("workspace.dsl");
        let text = std::fs::read_to_string(&dsl).unwrap();
        // c4studio does not read `!adrs`: the folder it names is checked here instead.
        assert!(
            text.contains("    !adrs \"docs/adr\" madr\n"),
            "{name}:\n{text}"
        );
        assert!(dir.path().join("docs/adr").read_dir().unwrap().count() > 0);
        let (diagnostics, workspace) = c4studio_read(&dsl);
        let unexpected: Vec<&Value> = diagnostics
            .iter()
            .filter(|d| d["message"] != "unsupported directive '!adrs' ignored")
            .collect();
        assert!(unexpected.is_empty(), "{name}: {unexpected:#?}\n{text}");
        let read = read_workspace(&workspace);
        let model = expected(&load(&ws));
        assert_eq!(read.containers, model.containers, "{name}");
        let calls_and_edges: BTreeSet<_> = read.relationships.clone();
        assert_eq!(calls_and_edges, model.relationships, "{name}");
        assert_eq!(read.instances, model.instances, "{name}");
        insta::assert_snapshot!(format!("structurizr-{name}"), text);
    }
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn the_structurizr_check_catches_a_broken_workspace() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate::support::example("picturesocial"),
        dir.path().join("k8s-advisor.toml"),
    )
    .unwrap();
    let ws = dir.path().join("k8s-advisor.toml");
    let (_, text, _) = export(dir.path(), &ws, "structurizr", &[]);
    let model = expected(&load(&ws));
    let call = text
        .lines()
        .find(|l| l.starts_with("        s1 -> s"))
        .expect("api-gateway calls")
        .to_string();
    for (what, from, to) in [
        (
            "an unclosed workspace",
            "    }\n}\n".to_string(),
            "    }\n".to_string(),
        ),
        (
            "a relationship to nothing",
            call.clone(),
            format!("        s1 -> nowhere \"Calls\"\n{call}"),
        ),
        (
            "a lost call",
            call.clone(),
            format!("        // {}", call.trim()),
        ),
    ] {
        let (from, to) = (from.as_str(), to.as_str());
        assert!(text.contains(from), "{what}: {from:?} is not in the export");
        let broken = text.replacen(from, to, 1);
        let dsl = dir.path().join("broken.dsl");
        std::fs::write(&dsl, &broken).unwrap();
        let check = std::process::Command::new(c4studio())
            .arg("check")
            .arg(&dsl)
            .output()
            .unwrap();
        let caught = !check.status.success() || {
            let (_, workspace) = c4studio_read(&dsl);
            let read = read_workspace(&workspace);
            read.relationships != model.relationships || read.containers != model.containers
        };
        assert!(caught, "{what} went unnoticed");
    }
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn structurizr_text_cannot_end_a_string_nor_ask_for_a_substitution() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("k8s-advisor.toml");
    std::fs::write(
        &ws,
        r#"version = 1
[project]
name = "quotes"
description = "say \"hi\" } { ${HOME} \\ end"

[[services]]
name = "web"
description = "a \"quoted\" ${PATH} word"
port = 8080
"#,
    )
    .unwrap();
    let (code, text, stderr) = export(dir.path(), &ws, "structurizr", &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(text.contains("\"say 'hi' } { $ {HOME} \\ end\""), "{text}");
    assert!(!text.contains("${"), "{text}");
    assert!(stderr.contains("no decision records yet"), "{stderr}");
    let dsl = dir.path().join("w.dsl");
    std::fs::write(&dsl, &text).unwrap();
    let (diagnostics, workspace) = c4studio_read(&dsl);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    assert_eq!(workspace["description"], "say 'hi' } { $ {HOME} \\ end");
}

#[test]
fn export_to_a_file_replaces_only_its_own_unedited_export() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("k8s-advisor.toml");
    std::fs::copy(crate::support::example("family-blog"), &ws).unwrap();
    let out = dir.path().join("catalog-info.yaml");
    let (code, stdout, _) = export(dir.path(), &ws, "backstage", &["-o", "catalog-info.yaml"]);
    assert_eq!((code, stdout.as_str()), (0, "Wrote catalog-info.yaml\n"));
    let (code, stdout, _) = export(dir.path(), &ws, "backstage", &["-o", "catalog-info.yaml"]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "Unchanged catalog-info.yaml\n")
    );
    // A model change replaces our export.
    std::fs::write(
        &ws,
        std::fs::read_to_string(&ws)
            .unwrap()
            .replace("replicas = 1", "replicas = 2"),
    )
    .unwrap();
    let ours = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        export(dir.path(), &ws, "structurizr", &["-o", "catalog-info.yaml"]).0,
        0
    );
    assert_ne!(std::fs::read_to_string(&out).unwrap(), ours);
    // An edited export, or a file of someone else, is kept unless --force.
    for theirs in [
        format!("{}# our note\n", std::fs::read_to_string(&out).unwrap()),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n".to_string(),
    ] {
        std::fs::write(&out, &theirs).unwrap();
        let (code, _, stderr) = export(dir.path(), &ws, "backstage", &["-o", "catalog-info.yaml"]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("--force"), "{stderr}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), theirs);
    }
    let (code, _, stderr) = export(
        dir.path(),
        &ws,
        "backstage",
        &["-o", "catalog-info.yaml", "--force"],
    );
    assert_eq!(code, 0, "{stderr}");
    // --force needs a file.
    assert_eq!(export(dir.path(), &ws, "backstage", &["--force"]).0, 2);
}

#[cfg(unix)]
#[test]
fn export_never_writes_through_a_link_nor_into_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let ws = dir.path().join("k8s-advisor.toml");
    std::fs::copy(crate::support::example("family-blog"), &ws).unwrap();
    // A link at the file, and a link at a folder on the way.
    std::os::unix::fs::symlink(
        outside.path().join("x.yaml"),
        dir.path().join("catalog.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("catalog")).unwrap();
    for target in ["catalog.yaml", "catalog/catalog-info.yaml"] {
        let (code, _, stderr) = export(dir.path(), &ws, "backstage", &["-o", target, "--force"]);
        assert_eq!(code, 2, "{target}: {stderr}");
        assert!(stderr.contains("symbolic link"), "{target}: {stderr}");
    }
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join("fifo.yaml"))
        .status()
        .unwrap();
    assert!(status.success());
    let (code, _, stderr) = export(
        dir.path(),
        &ws,
        "backstage",
        &["-o", "fifo.yaml", "--force"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("FIFO"), "{stderr}");
}

/// What a Structurizr DSL string holds for `text`: white space as single spaces, double quotes
/// as single ones, `${` broken, and a space after a final backslash.
fn dsl_text(text: &str) -> String {
    let mut out: String = text
        .replace("${", "$ {")
        .chars()
        .map(|c| match c {
            '"' => '\'',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .collect();
    if out.ends_with('\\') {
        out.push(' ');
    }
    out
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn hostile_workspace_text_leaves_both_exports_valid_and_whole() {
    let validators = backstage_validators();
    for text in crate::injection::HOSTILE {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("k8s-advisor.toml");
        std::fs::write(&ws, crate::injection::workspace(text)).unwrap();

        let (code, dsl, stderr) = export(dir.path(), &ws, "structurizr", &[]);
        assert_eq!(code, 0, "{text:?}: {stderr}");
        let file = dir.path().join("w.dsl");
        std::fs::write(&file, &dsl).unwrap();
        let (diagnostics, workspace) = c4studio_read(&file);
        assert!(diagnostics.is_empty(), "{text:?}: {diagnostics:#?}\n{dsl}");
        assert_eq!(
            read_workspace(&workspace),
            expected(&load(&ws)),
            "{text:?}:\n{dsl}"
        );
        assert_eq!(workspace["description"], dsl_text(text.trim()), "{text:?}");

        let (code, catalog, stderr) = export(dir.path(), &ws, "backstage", &[]);
        assert_eq!(code, 0, "{text:?}: {stderr}");
        let problems = backstage_problems(&validators, &catalog);
        assert!(problems.is_empty(), "{text:?}: {problems:#?}");
        round_trip(dir.path(), text);
    }
}
