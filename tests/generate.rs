//! `generate`: every document parses into the Kubernetes types, output is deterministic, and
//! the write stage protects hand edits, removes only its own stale files and reports drift.

use std::path::{Path, PathBuf};

use k8s_advisor::generate::{self, GeneratedFile};
use k8s_advisor::model::Workspace;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde::Deserialize;

use crate::random_model;
use crate::support::{bin, copy_tree, example, examples, outcome};

/// Loads a workspace file with the shipped criteria.
pub fn load(path: &Path) -> Workspace {
    let policy = k8s_advisor::policy::Policy::load(None).expect("shipped policy");
    k8s_advisor::workspace::load(path, &policy.criterion_ids())
        .unwrap_or_else(|e| panic!("{} does not load: {e:?}", path.display()))
}

/// Loads workspace text through a temporary file.
pub fn load_text(text: &str) -> Workspace {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k8s-advisor.toml");
    std::fs::write(&path, text).unwrap();
    load(&path)
}

/// The documents of a multi-document YAML file.
fn documents(text: &str) -> Vec<serde_yaml_ng::Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| serde_yaml_ng::Value::deserialize(d).expect("valid YAML"))
        .collect()
}

/// Parses every document of the layout into its Kubernetes type; returns them by kind.
#[derive(Default)]
struct Parsed {
    namespaces: Vec<Namespace>,
    deployments: Vec<Deployment>,
    statefulsets: Vec<StatefulSet>,
    budgets: Vec<PodDisruptionBudget>,
    services: Vec<Service>,
    policies: Vec<NetworkPolicy>,
    kustomizations: usize,
    routes: usize,
}

fn parse(files: &[GeneratedFile]) -> Parsed {
    let mut parsed = Parsed::default();
    for file in files {
        for doc in documents(&file.contents) {
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            let ctx = || format!("{} ({kind})", file.path.display());
            match kind.as_str() {
                "Namespace" => parsed.namespaces.push(
                    serde_yaml_ng::from_value(doc).unwrap_or_else(|e| panic!("{}: {e}", ctx())),
                ),
                "Deployment" => parsed.deployments.push(
                    serde_yaml_ng::from_value(doc).unwrap_or_else(|e| panic!("{}: {e}", ctx())),
                ),
                "StatefulSet" => parsed.statefulsets.push(
                    serde_yaml_ng::from_value(doc).unwrap_or_else(|e| panic!("{}: {e}", ctx())),
                ),
                "PodDisruptionBudget" => parsed.budgets.push(
                    serde_yaml_ng::from_value(doc).unwrap_or_else(|e| panic!("{}: {e}", ctx())),
                ),
                "Service" => parsed.services.push(
                    serde_yaml_ng::from_value(doc).unwrap_or_else(|e| panic!("{}: {e}", ctx())),
                ),
                "NetworkPolicy" => parsed.policies.push(
                    serde_yaml_ng::from_value(doc).unwrap_or_else(|e| panic!("{}: {e}", ctx())),
                ),
                "Kustomization" => parsed.kustomizations += 1,
                // Checked against the Gateway API schema in the conformance suite.
                "HTTPRoute" => parsed.routes += 1,
                other => panic!("{}: unexpected kind {other:?}", file.path.display()),
            }
        }
    }
    parsed
}

fn check_stubs(workspace: &Workspace, parsed: &Parsed) {
    assert_eq!(parsed.namespaces.len(), workspace.namespaces.len());
    assert_eq!(parsed.kustomizations, workspace.namespaces.len() + 1);
    let stateful = workspace
        .services
        .iter()
        .filter(|s| s.is_stateful())
        .count();
    assert_eq!(
        parsed.deployments.len(),
        workspace.services.len() - stateful
    );
    assert_eq!(parsed.statefulsets.len(), stateful);
    let with_ports = workspace.services.iter().filter(|s| !s.ports.is_empty());
    let gateway = workspace.services.iter().filter(|s| s.route.is_some());
    assert_eq!(parsed.routes, gateway.count());
    // A ClusterIP (or LoadBalancer) Service per service with ports, and a headless one per
    // stateful service.
    assert_eq!(parsed.services.len(), with_ports.count() + stateful);
    let replicated: Vec<String> = workspace
        .services
        .iter()
        .filter(|s| s.replicas >= 2)
        .map(|s| s.id.to_string())
        .collect();
    let budgets: Vec<String> = parsed
        .budgets
        .iter()
        .map(|b| {
            let spec = b.spec.as_ref().unwrap();
            assert_eq!(
                spec.max_unavailable,
                Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(1))
            );
            assert_eq!(spec.min_available, None);
            let name = b.metadata.name.clone().unwrap();
            assert_eq!(
                spec.selector
                    .as_ref()
                    .unwrap()
                    .match_labels
                    .as_ref()
                    .unwrap()["app"],
                name
            );
            format!("{}/{name}", b.metadata.namespace.as_deref().unwrap())
        })
        .collect();
    assert_eq!(budgets, replicated);
    // Every Service port, the headless ones too, carries the model port's app-protocol.
    for svc in &parsed.services {
        let ns = svc.metadata.namespace.as_deref().unwrap();
        let name = svc.metadata.name.as_deref().unwrap();
        let model = workspace
            .services
            .iter()
            .find(|s| {
                s.id.namespace == ns
                    && (s.id.name == name || format!("{}-headless", s.id.name) == name)
            })
            .unwrap_or_else(|| panic!("no service behind Service {ns}/{name}"));
        for port in svc.spec.as_ref().unwrap().ports.iter().flatten() {
            let named = model
                .port(port.name.as_deref().unwrap())
                .unwrap_or_else(|| panic!("{ns}/{name}: port {:?}", port.name));
            assert_eq!(port.app_protocol, named.app_protocol, "{ns}/{name}");
        }
    }
    for ns in &parsed.namespaces {
        let labels = ns.metadata.labels.as_ref().unwrap();
        let name = ns.metadata.name.as_deref().unwrap();
        let model = &workspace.namespaces[name];
        assert_eq!(labels["app.kubernetes.io/part-of"], workspace.project.name);
        assert_eq!(labels["app.kubernetes.io/managed-by"], "k8s-advisor");
        assert_eq!(
            labels["pod-security.kubernetes.io/enforce"],
            model.pod_security.as_str()
        );
        assert_eq!(
            labels["pod-security.kubernetes.io/enforce-version"],
            "latest"
        );
        assert_eq!(labels.get("team"), model.team.as_ref());
    }
    let workloads = parsed
        .deployments
        .iter()
        .map(|d| {
            let spec = d.spec.as_ref().unwrap();
            (&d.metadata, spec.replicas, &spec.selector, &spec.template)
        })
        .chain(parsed.statefulsets.iter().map(|d| {
            let spec = d.spec.as_ref().unwrap();
            assert_eq!(
                spec.service_name.as_deref(),
                Some(format!("{}-headless", d.metadata.name.as_deref().unwrap()).as_str())
            );
            let claims = spec.volume_claim_templates.as_ref().unwrap();
            assert_eq!(claims.len(), 1);
            (&d.metadata, spec.replicas, &spec.selector, &spec.template)
        }));
    for (meta, replicas, selector, template) in workloads {
        let id = k8s_advisor::model::ServiceId::new(
            meta.namespace.clone().unwrap(),
            meta.name.clone().unwrap(),
        );
        let service = workspace.service(&id).expect("workload of a model service");
        assert_eq!(replicas, Some(service.replicas as i32));
        let selector = selector.match_labels.as_ref().unwrap();
        assert_eq!(selector.len(), 1);
        assert_eq!(selector["app"], id.name);
        let pod = template.spec.as_ref().unwrap();
        assert_eq!(pod.enable_service_links, Some(false));
        let spread = pod
            .topology_spread_constraints
            .as_deref()
            .unwrap_or_default();
        assert_eq!(spread.len(), usize::from(service.replicas >= 2));
        for c in spread {
            assert_eq!(c.topology_key, "topology.kubernetes.io/zone");
            assert_eq!(
                c.label_selector
                    .as_ref()
                    .unwrap()
                    .match_labels
                    .as_ref()
                    .unwrap()["app"],
                id.name
            );
        }
        let pod_labels = template.metadata.as_ref().unwrap().labels.as_ref().unwrap();
        assert_eq!(pod_labels["app"], id.name);
        let psc = pod.security_context.as_ref().unwrap();
        assert_eq!(psc.run_as_non_root, Some(true));
        assert!(psc.run_as_user.unwrap() > 0);
        assert_eq!(
            psc.seccomp_profile.as_ref().unwrap().type_,
            "RuntimeDefault"
        );
        assert_eq!(pod.containers.len(), 1);
        let c = &pod.containers[0];
        let sc = c.security_context.as_ref().unwrap();
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        assert_eq!(
            sc.capabilities.as_ref().unwrap().drop.as_deref(),
            Some(&["ALL".to_string()][..])
        );
        match &service.image {
            Some(image) => assert_eq!(c.image.as_ref(), Some(image)),
            None => assert!(c.image.as_ref().unwrap().contains("replace-me")),
        }
        let ports: Vec<(String, i32, String)> = c
            .ports
            .iter()
            .flatten()
            .map(|p| {
                (
                    p.name.clone().unwrap(),
                    p.container_port,
                    p.protocol.clone().unwrap(),
                )
            })
            .collect();
        // Two Service ports may forward to one container port: the container lists it once.
        let expected: Vec<(String, i32, String)> = service
            .container_ports()
            .into_iter()
            .map(|p| {
                (
                    p.name.clone(),
                    i32::from(p.target),
                    p.protocol.as_str().to_string(),
                )
            })
            .collect();
        assert_eq!(ports, expected);
        // A read-only root file system, with /tmp and each declared path writable.
        let mounts: Vec<&str> = c
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| m.mount_path.as_str())
            .collect();
        let mut expected_mounts = vec!["/tmp"];
        expected_mounts.extend(service.writable.iter().map(String::as_str));
        if let k8s_advisor::model::Workload::Stateful(storage) = &service.workload {
            expected_mounts.push(&storage.path);
        }
        assert_eq!(mounts, expected_mounts);
        let volumes = pod.volumes.as_deref().unwrap_or_default();
        assert_eq!(volumes.len(), 1 + service.writable.len());
        assert!(
            volumes
                .iter()
                .all(|v| v.empty_dir.as_ref().is_some_and(|e| e.size_limit.is_some()))
        );
        // Probes exactly when the model has `health`, on the container port.
        assert_eq!(c.readiness_probe.is_some(), service.health.is_some());
        assert_eq!(c.liveness_probe.is_some(), service.health.is_some());
        // One address per callee port a call may use.
        let env = c.env.as_deref().unwrap_or_default();
        let allowed: usize = service
            .calls
            .iter()
            .map(|call| call.ports_of(workspace.service(&call.to).unwrap()).count())
            .sum();
        assert_eq!(env.len(), allowed);
        let resources = c.resources.as_ref().unwrap();
        let get =
            |map: &Option<
                std::collections::BTreeMap<
                    String,
                    k8s_openapi::apimachinery::pkg::api::resource::Quantity,
                >,
            >,
             key: &str| { map.as_ref().and_then(|m| m.get(key)).map(|q| q.0.clone()) };
        let r = &service.resources;
        assert_eq!(
            get(&resources.requests, "cpu"),
            r.requests.cpu.as_ref().map(|q| q.as_str().to_string())
        );
        assert_eq!(
            get(&resources.requests, "memory"),
            r.requests.memory.as_ref().map(|q| q.as_str().to_string())
        );
        assert_eq!(
            get(&resources.limits, "cpu"),
            r.limits.cpu.as_ref().map(|q| q.as_str().to_string())
        );
        assert_eq!(
            get(&resources.limits, "memory"),
            r.limits.memory.as_ref().map(|q| q.as_str().to_string())
        );
    }
    for s in &parsed.services {
        let id = k8s_advisor::model::ServiceId::new(
            s.metadata.namespace.clone().unwrap(),
            s.metadata.name.clone().unwrap(),
        );
        let Some(service) = workspace.service(&id) else {
            let headless = id.name.strip_suffix("-headless").unwrap();
            let owner = k8s_advisor::model::ServiceId::new(id.namespace.clone(), headless);
            assert!(workspace.service(&owner).unwrap().is_stateful());
            assert_eq!(s.spec.as_ref().unwrap().cluster_ip.as_deref(), Some("None"));
            continue;
        };
        let spec = s.spec.as_ref().unwrap();
        let expected_type = match service.expose {
            k8s_advisor::model::Expose::Cluster | k8s_advisor::model::Expose::Gateway => {
                "ClusterIP"
            }
            _ => "LoadBalancer",
        };
        assert_eq!(spec.type_.as_deref(), Some(expected_type));
        assert_eq!(spec.selector.as_ref().unwrap()["app"], id.name);
        for (p, model) in spec.ports.iter().flatten().zip(&service.ports) {
            assert_eq!(p.port, i32::from(model.port));
            assert_eq!(
                p.target_port,
                Some(
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(
                        service.container_port_name(model).to_string()
                    )
                )
            );
        }
    }
    for p in &parsed.policies {
        let spec = p.spec.as_ref().unwrap();
        assert!(spec.policy_types.as_ref().is_some_and(|t| !t.is_empty()));
    }
}

#[test]
fn examples_parse_into_kubernetes_types() {
    for path in examples() {
        let workspace = load(&path);
        let files = generate::generate(&workspace);
        check_stubs(&workspace, &parse(&files));
    }
}

#[test]
fn random_models_parse_into_kubernetes_types() {
    for seed in 0..60 {
        let text = random_model::toml(&random_model::model(seed, 40), None);
        let workspace = load_text(&text);
        let files = generate::generate(&workspace);
        let parsed = std::panic::catch_unwind(|| parse(&files));
        let parsed = parsed.unwrap_or_else(|_| panic!("seed {seed}"));
        check_stubs(&workspace, &parsed);
    }
}

#[test]
fn picturesocial_stubs_follow_the_article() {
    let workspace = load(&example("picturesocial"));
    let files = generate::generate(&workspace);
    let file = |p: &str| {
        &files
            .iter()
            .find(|f| f.path == Path::new(p))
            .unwrap_or_else(|| panic!("{p} missing"))
            .contents
    };
    let moderation = file("backoffice/moderation.yaml");
    assert!(moderation.contains("type: LoadBalancer"));
    assert!(
        moderation.contains("service.beta.kubernetes.io/aws-load-balancer-scheme: \"internal\"")
    );
    let gateway = file("gateway/api-gateway.yaml");
    assert!(
        gateway
            .contains("service.beta.kubernetes.io/aws-load-balancer-scheme: \"internet-facing\"")
    );
    let profiles = file("users/network-policies.yaml");
    // Every allow rule names what it comes from: the call, exposure or egress entry, by service.
    let lines: Vec<&str> = profiles.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if t.starts_with("- from:") || t.starts_with("- to:") {
            assert!(
                lines[i - 1].trim_start().starts_with("# "),
                "rule without comment at line {i}"
            );
        }
    }
    assert!(profiles.contains("# call from users/users-api to users/profiles on port http\n"));
    // The port-restricted call allows only http (8080), not metrics.
    let restricted = profiles
        .split("---\n")
        .find(|d| d.contains("name: \"allow-profiles\""))
        .unwrap();
    assert!(!restricted.contains("port: 9090"));
    // Policies name the container port, never the Service port.
    assert!(!profiles.contains("port: 80\n"));
}

#[test]
fn user_text_cannot_break_the_yaml() {
    let text = r##"version = 1
[project]
name = "quotes"
[[namespaces]]
name = "ns"
team = "a.b_c-d"
[[services]]
name = "web"
namespace = "ns"
description = "two\nkind: Secret\nlines"
image = "reg.example.com/x:1.0"
port = 8080
egress = [{ cidr = "0.0.0.0/0", ports = [443], reason = "line one\nkind: Secret\r\nx" }]
"##;
    let workspace = load_text(text);
    let files = generate::generate(&workspace);
    let parsed = parse(&files);
    assert_eq!(parsed.deployments.len(), 1);
    assert!(files.iter().all(|f| !f.contents.contains("\nkind: Secret")));
}

/// `text` with a comment line added above every table and the `[[services]]` tables (each
/// with its sub-tables) in reverse order.
fn commented_and_reordered(text: &str) -> String {
    let mut head = String::new();
    let mut services: Vec<String> = Vec::new();
    let mut tail = String::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with('[') {
            let comment = "# a note a reviewer added\n";
            if line.starts_with("[[services]]") {
                services.push(comment.to_string());
            } else if !line.starts_with("[services.") {
                // Another table after the services ends them.
                if !services.is_empty() {
                    tail.push_str(comment);
                } else {
                    head.push_str(comment);
                }
            }
        }
        if services.is_empty() {
            head.push_str(line);
        } else if tail.is_empty() {
            services.last_mut().unwrap().push_str(line);
        } else {
            tail.push_str(line);
        }
    }
    services.reverse();
    format!("{head}{}{tail}", services.concat())
}

#[test]
fn a_comment_or_a_reordering_of_the_workspace_changes_no_generated_file() {
    for name in [
        "picturesocial",
        "family-blog",
        "eks",
        "gke",
        "aks",
        "generic",
        "stateful",
    ] {
        let (dir, ws) = scratch(name);
        // Examples that name user resources keep them beside the workspace.
        let example_dir = example(name);
        let example_dir = example_dir.parent().unwrap();
        if example_dir.join("k8s").is_dir() {
            copy_tree(&example_dir.join("k8s"), &dir.path().join("k8s"));
        }
        let (code, _, stderr) = run(&ws, &[]);
        assert_eq!(code, 0, "{name}: {stderr}");
        let text = std::fs::read_to_string(&ws).unwrap();
        let moved = commented_and_reordered(&text);
        assert_ne!(moved, text);
        assert_eq!(
            moved.matches("[[services]]").count(),
            text.matches("[[services]]").count()
        );
        std::fs::write(&ws, &moved).unwrap();
        let (code, stdout, stderr) = run(&ws, &["--check"]);
        assert_eq!(
            code, 0,
            "{name}: the moved workspace changes files:\n{stdout}{stderr}"
        );
    }
}

#[test]
fn output_does_not_depend_on_the_order_of_the_workspace() {
    for seed in 0..40 {
        let model = random_model::model(seed, 40);
        let plain = generate::generate(&load_text(&random_model::toml(&model, None)));
        let again = generate::generate(&load_text(&random_model::toml(&model, None)));
        assert_eq!(plain, again, "seed {seed}: same file, different bytes");
        let shuffled = generate::generate(&load_text(&random_model::toml(&model, Some(seed + 1))));
        assert_eq!(plain.len(), shuffled.len(), "seed {seed}");
        for (a, b) in plain.iter().zip(&shuffled) {
            assert_eq!(a.path, b.path, "seed {seed}");
            // Byte for byte: no comment cites a line of the workspace file.
            assert_eq!(
                a.contents,
                b.contents,
                "seed {seed}: {} depends on the order of the workspace",
                a.path.display()
            );
        }
    }
}

/// A copy of an example in a temporary folder, so `generate` writes beside it.
fn scratch(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("k8s-advisor.toml");
    std::fs::copy(example(name), &ws).unwrap();
    (dir, ws)
}

fn run(ws: &Path, args: &[&str]) -> (i32, String, String) {
    let output = bin()
        .arg("-w")
        .arg(ws)
        .arg("generate")
        .args(args)
        .output()
        .unwrap();
    outcome(output)
}

#[test]
fn generate_writes_the_layout_and_a_second_run_changes_nothing() {
    let (dir, ws) = scratch("picturesocial");
    let out = dir.path().join("k8s");
    let (code, stdout, _) = run(&ws, &[]);
    assert_eq!(code, 0);
    assert!(stdout.contains("28 files, 28 written"), "{stdout}");
    for p in [
        "kustomization.yaml",
        "users/kustomization.yaml",
        "users/namespace.yaml",
        "users/network-policies.yaml",
        "users/users-api.yaml",
    ] {
        assert!(out.join(p).is_file(), "{p}");
    }
    let before = std::fs::read(out.join("users/users-api.yaml")).unwrap();
    let (code, stdout, _) = run(&ws, &[]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("0 written, 28 unchanged, 0 stale removed"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read(out.join("users/users-api.yaml")).unwrap(),
        before
    );
    let (code, stdout, _) = run(&ws, &["--check"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("28 files up to date"));
    assert!(stdout.contains("docs/adr/0001-"), "{stdout}");
}

#[test]
fn check_reports_a_missing_or_stale_record() {
    let (dir, ws) = scratch("family-blog");
    assert_eq!(run(&ws, &[]).0, 0);
    let adr = dir.path().join("docs/adr");
    let record = std::fs::read_dir(&adr)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(&record).unwrap();
    // A model change that touches only the record: the project's description.
    let model = std::fs::read_to_string(&ws).unwrap();
    let described = model.replace(
        "A blog with a photo gallery for the family",
        "A new line of text",
    );
    assert_ne!(model, described);
    std::fs::write(&ws, &described).unwrap();
    let (code, stdout, _) = run(&ws, &["--check"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("+family-blog: A new line of text."),
        "{stdout}"
    );
    // The record and the architecture overview, which shows the description too.
    assert!(stdout.contains("2 files out of date"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&record).unwrap(), text);
    std::fs::remove_file(&record).unwrap();
    let (code, stdout, _) = run(&ws, &["--check"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("--- /dev/null"), "{stdout}");
    assert!(!record.exists());
    // Without the record and the overview, only the manifests are compared.
    assert_eq!(run(&ws, &["--check", "--no-record", "--no-docs"]).0, 0);
}

#[test]
fn an_edited_record_stops_the_manifests_too() {
    let (dir, ws) = scratch("family-blog");
    let out = dir.path().join("k8s");
    assert_eq!(run(&ws, &[]).0, 0);
    let adr = dir.path().join("docs/adr");
    let record = std::fs::read_dir(&adr)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let edited = std::fs::read_to_string(&record).unwrap() + "\nOur own note.\n";
    std::fs::write(&record, &edited).unwrap();
    let model = std::fs::read_to_string(&ws)
        .unwrap()
        .replace("replicas = 1", "replicas = 3");
    std::fs::write(&ws, model).unwrap();
    let before = std::fs::read_to_string(out.join("family-blog/web.yaml")).unwrap();
    let (code, _, stderr) = run(&ws, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("(decision record)"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.join("family-blog/web.yaml")).unwrap(),
        before,
        "a manifest was written although the plan was refused"
    );
    assert_eq!(std::fs::read_to_string(&record).unwrap(), edited);
}

#[test]
fn files_checked_out_with_crlf_are_not_edits() {
    let (dir, ws) = scratch("family-blog");
    let out = dir.path().join("k8s");
    assert_eq!(run(&ws, &["--no-record"]).0, 0);
    let web = out.join("family-blog/web.yaml");
    let crlf = std::fs::read_to_string(&web).unwrap().replace('\n', "\r\n");
    std::fs::write(&web, &crlf).unwrap();
    let (code, stdout, _) = run(&ws, &["--check", "--no-record"]);
    assert_eq!(code, 0, "{stdout}");
    // A model change replaces the CRLF file like any file of ours.
    let model = std::fs::read_to_string(&ws)
        .unwrap()
        .replace("replicas = 1", "replicas = 3");
    std::fs::write(&ws, model).unwrap();
    let (code, _, stderr) = run(&ws, &["--no-record"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        std::fs::read_to_string(&web)
            .unwrap()
            .contains("replicas: 3")
    );
}

#[test]
fn temporary_files_of_a_killed_run_are_reported_and_removed() {
    let (dir, ws) = scratch("family-blog");
    let out = dir.path().join("k8s");
    assert_eq!(run(&ws, &["--no-record"]).0, 0);
    let leftover = out.join("family-blog/.k8s-advisor-Ab3xZ9");
    let not_ours = out.join("family-blog/.k8s-advisor-notes.txt");
    std::fs::write(&leftover, "half a manifest").unwrap();
    std::fs::write(&not_ours, "mine").unwrap();
    let (code, stdout, _) = run(&ws, &["--check", "--no-record"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("leftover temporary file"), "{stdout}");
    assert!(stdout.contains(".k8s-advisor-Ab3xZ9"), "{stdout}");
    assert!(leftover.exists(), "--check removed a file");
    assert_eq!(run(&ws, &["--no-record"]).0, 0);
    assert!(!leftover.exists());
    assert!(not_ours.exists(), "a file that is not ours was removed");
    assert_eq!(run(&ws, &["--check", "--no-record"]).0, 0);
}

#[test]
fn a_renamed_project_names_the_owner_of_the_files() {
    let (dir, ws) = scratch("family-blog");
    assert_eq!(run(&ws, &["--no-record"]).0, 0);
    let model = std::fs::read_to_string(&ws).unwrap().replacen(
        "name = \"family-blog\"",
        "name = \"family-site\"",
        1,
    );
    std::fs::write(&ws, model).unwrap();
    let (code, _, stderr) = run(&ws, &["--no-record"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("belong to another project"), "{stderr}");
    assert!(stderr.contains("(project family-blog)"), "{stderr}");
    assert!(!stderr.contains("by hand"), "{stderr}");
    assert_eq!(run(&ws, &["--no-record", "--force"]).0, 0);
    let root = std::fs::read_to_string(dir.path().join("k8s/kustomization.yaml")).unwrap();
    assert!(root.contains("project=family-site"), "{root}");
}

#[test]
fn a_file_where_a_folder_goes_is_found_before_anything_is_written() {
    let (dir, ws) = scratch("picturesocial");
    let out = dir.path().join("k8s");
    std::fs::create_dir_all(&out).unwrap();
    // `users` sorts after most namespaces: a writer that did not look first would have
    // written those before failing here.
    std::fs::write(out.join("users"), "not a folder").unwrap();
    let (code, _, stderr) = run(&ws, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("needs a folder"), "{stderr}");
    let entries: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert_eq!(entries.len(), 1, "something was written");
    assert!(!dir.path().join("docs").exists());
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_as_the_output_folder_is_refused() {
    let (dir, ws) = scratch("family-blog");
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("k8s")).unwrap();
    let (code, _, stderr) = run(&ws, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    let link = dir.path().join("link-out");
    std::os::unix::fs::symlink(elsewhere.path(), &link).unwrap();
    let (code, _, stderr) = run(&ws, &["--out", link.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

#[test]
fn an_intermediate_link_in_out_is_refused() {
    let (dir, ws) = scratch("family-blog");
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("deploy")).unwrap();
    // Relative to the current folder, as a user types it, and absolute.
    for out in [
        "deploy/k8s".to_string(),
        dir.path().join("deploy/k8s").display().to_string(),
    ] {
        let output = bin()
            .current_dir(dir.path())
            .args(["generate", "--out", &out])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{out}: {stderr}");
        assert!(
            stderr.contains("deploy is a symbolic link"),
            "{out}: {stderr}"
        );
        assert_eq!(
            std::fs::read_dir(elsewhere.path()).unwrap().count(),
            0,
            "{out}"
        );
    }
    assert!(!ws.with_file_name("docs").exists());
    // Above the workspace folder, links are the user's business.
    let link = elsewhere.path().join("repo");
    std::os::unix::fs::symlink(dir.path(), &link).unwrap();
    let (code, _, stderr) = run(&link.join("k8s-advisor.toml"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(dir.path().join("k8s/kustomization.yaml").is_file());
    // An --out outside the workspace folder is the user's choice: its missing folders are
    // created.
    let new = elsewhere.path().join("new/deep/k8s");
    let (code, _, stderr) = run(&ws, &["--out", new.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(new.join("kustomization.yaml").is_file());
}

#[test]
fn check_writes_nothing_and_shows_a_diff() {
    let (dir, ws) = scratch("family-blog");
    let out = dir.path().join("k8s");
    let (code, stdout, _) = run(&ws, &["--check"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("--- /dev/null"));
    assert!(stdout.contains("+kind: Deployment"));
    assert!(!out.exists(), "--check wrote files");
    assert_eq!(run(&ws, &[]).0, 0);
    // A model change shows up as a diff of the file it touches.
    let text = std::fs::read_to_string(&ws)
        .unwrap()
        .replace("replicas = 1", "replicas = 3");
    std::fs::write(&ws, text).unwrap();
    let (code, stdout, _) = run(&ws, &["--check"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("-  replicas: 1\n+  replicas: 3"),
        "{stdout}"
    );
    // The stub and the architecture overview's table of services.
    assert!(stdout.contains("2 files out of date"), "{stdout}");
}

#[test]
fn hand_edits_are_kept_unless_forced() {
    let (dir, ws) = scratch("family-blog");
    let out = dir.path().join("k8s");
    assert_eq!(run(&ws, &[]).0, 0);
    let edited = out.join("family-blog/web.yaml");
    let text = std::fs::read_to_string(&edited)
        .unwrap()
        .replace("replicas: 1", "replicas: 5");
    std::fs::write(&edited, &text).unwrap();
    // Also a model change, so that generate has something to write.
    let model = std::fs::read_to_string(&ws)
        .unwrap()
        .replace("replicas = 1", "replicas = 2");
    std::fs::write(&ws, model).unwrap();
    let (code, _, stderr) = run(&ws, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("web.yaml"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&edited).unwrap(),
        text,
        "edited file was touched"
    );
    // --check reports the edited file as drift.
    let (code, stdout, _) = run(&ws, &["--check"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("edited by hand"), "{stdout}");
    let (code, _, stderr) = run(&ws, &["--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        std::fs::read_to_string(&edited)
            .unwrap()
            .contains("replicas: 2")
    );
    assert_eq!(run(&ws, &["--check"]).0, 0);
}

#[test]
fn a_file_we_did_not_write_is_never_overwritten_or_removed() {
    let (dir, ws) = scratch("family-blog");
    let out = dir.path().join("k8s");
    std::fs::create_dir_all(out.join("family-blog")).unwrap();
    std::fs::write(out.join("family-blog/web.yaml"), "kind: Mine\n").unwrap();
    std::fs::write(out.join("family-blog/extra.yaml"), "kind: AlsoMine\n").unwrap();
    std::fs::write(out.join("notes.yaml"), "kind: Notes\n").unwrap();
    let (code, _, stderr) = run(&ws, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("web.yaml"));
    assert_eq!(
        std::fs::read_to_string(out.join("family-blog/web.yaml")).unwrap(),
        "kind: Mine\n"
    );
    assert_eq!(run(&ws, &["--force"]).0, 0);
    assert_eq!(
        std::fs::read_to_string(out.join("family-blog/extra.yaml")).unwrap(),
        "kind: AlsoMine\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.yaml")).unwrap(),
        "kind: Notes\n"
    );
}

#[test]
fn stale_files_of_ours_are_removed() {
    let (dir, ws) = scratch("family-blog");
    let out = dir.path().join("k8s");
    let text = std::fs::read_to_string(&ws).unwrap();
    let extra =
        format!("{text}\n[[services]]\nname = \"old\"\nnamespace = \"archive\"\nport = 8080\n");
    std::fs::write(&ws, &extra).unwrap();
    assert_eq!(run(&ws, &[]).0, 0);
    assert!(out.join("archive/old.yaml").is_file());
    std::fs::write(out.join("archive/keep.txt"), "mine").unwrap();
    std::fs::write(&ws, &text).unwrap();
    let (code, stdout, _) = run(&ws, &["--check"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("+++ /dev/null"), "{stdout}");
    let (code, stdout, _) = run(&ws, &["-v"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("removed"), "{stdout}");
    assert!(!out.join("archive/old.yaml").exists());
    assert!(!out.join("archive/namespace.yaml").exists());
    assert!(
        out.join("archive/keep.txt").is_file(),
        "a file of someone else was removed"
    );
    assert!(!out.join("family-blog/web.yaml").exists() || run(&ws, &["--check"]).0 == 0);
}

#[test]
fn out_is_relative_to_the_current_folder_and_check_conflicts_with_force() {
    let (dir, ws) = scratch("family-blog");
    let out = dir.path().join("elsewhere");
    let output = bin()
        .arg("-w")
        .arg(&ws)
        .args(["generate", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(out.join("kustomization.yaml").is_file());
    assert!(!dir.path().join("k8s").exists());
    let (code, _, stderr) = run(&ws, &["--check", "--force"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn bad_workspace_is_exit_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("k8s-advisor.toml");
    std::fs::write(
        &ws,
        "version = 1\n[project]\nname = \"x\"\n[[services]]\nname = \"Bad_Name\"\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&ws, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("Bad_Name"), "{stderr}");
    assert!(!dir.path().join("k8s").exists());
}

#[test]
fn comments_cite_the_service_not_the_line() {
    let workspace = load_text(
        r#"version = 1
[project]
name = "shop"
platform = "eks"
internal-cidrs = ["10.0.0.0/16"]

[[services]]
name = "web"
ports = [{ name = "http", port = 8080 }]
replicas = 2
expose = "public"
calls = ["api"]

[[services]]
name = "api"
port = 9000
egress = [{ cidr = "192.0.2.0/24", ports = [443], reason = "bank" }]
"#,
    );
    let files = generate::generate(&workspace);
    let policies = &files
        .iter()
        .find(|f| f.path == Path::new("shop/network-policies.yaml"))
        .unwrap()
        .contents;
    // Each rule names its service and what of it the rule comes from, never a line of the
    // workspace file: a comment added above would otherwise rewrite the file.
    for cited in [
        "# expose = \"public\": clients anywhere may reach shop/web\n",
        "# call from shop/web to shop/api on port tcp-9000\n",
        "# egress from shop/api to 192.0.2.0/24: bank\n",
    ] {
        assert!(policies.contains(cited), "{cited}\n{policies}");
    }
    assert!(!policies.contains("line"), "{policies}");
}

/// The rendered files of the main example, read by a person before acceptance: a change to
/// the output format shows up here first.
#[test]
fn picturesocial_snapshots() {
    let workspace = load(&example("picturesocial"));
    let files = generate::generate(&workspace);
    for path in [
        "kustomization.yaml",
        "users/kustomization.yaml",
        "users/namespace.yaml",
        "users/network-policies.yaml",
        "users/users-api.yaml",
        "gateway/api-gateway.yaml",
        "pictures/thumbnailer.yaml",
    ] {
        let file = files.iter().find(|f| f.path == Path::new(path)).unwrap();
        insta::assert_snapshot!(
            format!("picturesocial-{}", path.replace('/', "-")),
            file.contents
        );
    }
}

/// One layout per platform: the exposed services' stubs (Service per platform, HTTPRoute) and
/// the policies of a namespace (DNS per profile, sources, gateway peers).
#[test]
fn platform_snapshots() {
    for (example_name, paths) in [
        (
            "eks",
            &["orders/admin-api.yaml", "orders/network-policies.yaml"][..],
        ),
        (
            "gke",
            &[
                "site/articles-api.yaml",
                "site/network-policies.yaml",
                "newsroom/editor.yaml",
            ][..],
        ),
        (
            "aks",
            &[
                "booking/back-office.yaml",
                "booking/booking-api.yaml",
                "booking/network-policies.yaml",
            ][..],
        ),
        (
            "generic",
            &[
                "helpdesk/web.yaml",
                "helpdesk/tickets-api.yaml",
                "helpdesk/network-policies.yaml",
            ][..],
        ),
    ] {
        let workspace = load(&example(example_name));
        let files = generate::generate(&workspace);
        for path in paths {
            let file = files.iter().find(|f| f.path == Path::new(path)).unwrap();
            insta::assert_snapshot!(
                format!("{example_name}-{}", path.replace('/', "-")),
                file.contents
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn symbolic_links_inside_out_are_refused() {
    let (dir, ws) = scratch("family-blog");
    let out = dir.path().join("k8s");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("family-blog")).unwrap();
    let (code, _, stderr) = run(&ws, &["--force"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[test]
fn projects_sharing_an_output_folder_leave_each_other_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut codes = Vec::new();
    let mut stderr = String::new();
    for project in ["one", "two"] {
        std::fs::write(
            dir.path().join(format!("{project}.toml")),
            format!("version = 1\n[project]\nname = \"{project}\"\n[[services]]\nname = \"a\"\nport = 80\n"),
        )
        .unwrap();
        let out = bin()
            .current_dir(dir.path())
            .args(["generate", "--no-record", "--out", "deploy", "-w"])
            .arg(format!("{project}.toml"))
            .output()
            .unwrap();
        codes.push(out.status.code());
        stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    }
    // The second project would take over the first one's root kustomization: refused, and
    // nothing of the first project is removed as "stale".
    assert_eq!(codes, [Some(0), Some(2)], "{stderr}");
    assert!(stderr.contains("deploy/kustomization.yaml"), "{stderr}");
    assert!(stderr.contains("(project one)"), "{stderr}");
    assert!(dir.path().join("deploy/one/a.yaml").is_file());
    assert!(!dir.path().join("deploy/two").exists());
}

// ---- User-owned files (`user-resources`) ----

/// A workspace whose namespace `shop` lists two user files, one in a sub-folder.
const USER_FILES: &str = r#"version = 1
[project]
name = "shop"
[[namespaces]]
name = "shop"
user-resources = ["app-config.yaml", "config/extra.yaml"]
[[services]]
name = "api"
namespace = "shop"
port = 8080
"#;

const CONFIG_MAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: shop\n";

/// A folder with the workspace and both user files in place.
fn user_files_scratch() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("k8s-advisor.toml");
    std::fs::write(&ws, USER_FILES).unwrap();
    let ns = dir.path().join("k8s/shop");
    std::fs::create_dir_all(ns.join("config")).unwrap();
    std::fs::write(ns.join("app-config.yaml"), CONFIG_MAP).unwrap();
    std::fs::write(
        ns.join("config/extra.yaml"),
        CONFIG_MAP.replace("app", "extra"),
    )
    .unwrap();
    (dir, ws, ns)
}

#[test]
#[ignore = "oracle tier: scripts/test.sh runs it with the external checkers"]
fn user_files_are_included_and_never_touched() {
    let (dir, ws, ns) = user_files_scratch();
    let (code, _, stderr) = run(&ws, &["--no-record"]);
    assert_eq!(code, 0, "{stderr}");
    let kustomization = std::fs::read_to_string(ns.join("kustomization.yaml")).unwrap();
    assert!(
        kustomization.ends_with("  - \"app-config.yaml\"\n  - \"config/extra.yaml\"\n"),
        "{kustomization}"
    );
    // kustomize builds the namespace with the user's ConfigMaps in it.
    let built = std::process::Command::new(crate::support::tool("kubectl"))
        .arg("kustomize")
        .arg(dir.path().join("k8s"))
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let built = String::from_utf8(built.stdout).unwrap();
    assert!(
        built.contains("kind: ConfigMap") && built.contains("name: extra"),
        "{built}"
    );
    // A user file that starts with our header (copied from a generated file) is still the
    // user's: not stale, not removed, not rewritten, and `--check` has nothing to report.
    let stamped = k8s_advisor::generate::stamp::stamp("shop", CONFIG_MAP);
    std::fs::write(ns.join("app-config.yaml"), &stamped).unwrap();
    std::fs::write(ns.join("config/extra.yaml"), "edited: by hand\n").unwrap();
    let (code, stdout, stderr) = run(&ws, &["--no-record", "--check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, _, stderr) = run(&ws, &["--no-record", "--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(ns.join("app-config.yaml")).unwrap(),
        stamped
    );
    assert_eq!(
        std::fs::read_to_string(ns.join("config/extra.yaml")).unwrap(),
        "edited: by hand\n"
    );
}

#[test]
fn a_missing_user_file_is_refused_before_anything_is_written() {
    let (dir, ws, ns) = user_files_scratch();
    std::fs::remove_file(ns.join("config/extra.yaml")).unwrap();
    let (code, _, stderr) = run(&ws, &["--no-record"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(stderr.contains("config/extra.yaml"), "{stderr}");
    assert!(!dir.path().join("k8s/kustomization.yaml").exists());
}

#[cfg(unix)]
#[test]
fn user_files_reached_through_symbolic_links_are_refused() {
    // A link as the file, and a link as a folder on the way: both could pull in a file from
    // anywhere on the machine.
    for link_folder in [false, true] {
        let (dir, ws, ns) = user_files_scratch();
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("extra.yaml"), CONFIG_MAP).unwrap();
        if link_folder {
            std::fs::remove_dir_all(ns.join("config")).unwrap();
            std::os::unix::fs::symlink(&outside, ns.join("config")).unwrap();
        } else {
            std::fs::remove_file(ns.join("config/extra.yaml")).unwrap();
            std::os::unix::fs::symlink(outside.join("extra.yaml"), ns.join("config/extra.yaml"))
                .unwrap();
        }
        let (code, _, stderr) = run(&ws, &["--no-record", "--force"]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("symbolic"), "{stderr}");
        assert!(!ns.join("kustomization.yaml").exists());
    }
}

#[test]
fn a_user_file_that_is_a_folder_is_refused() {
    let (_dir, ws, ns) = user_files_scratch();
    std::fs::remove_file(ns.join("app-config.yaml")).unwrap();
    std::fs::create_dir(ns.join("app-config.yaml")).unwrap();
    let (code, _, stderr) = run(&ws, &["--no-record"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_user_file_that_is_a_fifo_is_refused_without_blocking() {
    let (_dir, ws, ns) = user_files_scratch();
    let fifo = ns.join("app-config.yaml");
    std::fs::remove_file(&fifo).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Opening a FIFO for reading would wait for a writer forever: the run must end on its own.
    let (code, _, stderr) = run(&ws, &["--no-record"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    assert!(!ns.join("kustomization.yaml").exists());
}

// ---- Callee addresses ----

#[test]
fn callee_addresses_are_unambiguous() {
    let ws = load_text(
        r#"version = 1
[project]
name = "shop"
cluster-domain = "corp.example"
[[services]]
name = "web"
namespace = "front"
calls = ["users/api", "2fa/api", { to = "billing/ledger", ports = ["http"] }, "billing/ledger-http"]
[[services]]
name = "api"
namespace = "users"
port = 8080
[[services]]
name = "api"
namespace = "2fa"
ports = [{ name = "http", port = 80, target = 8080 }, { name = "grpc", port = 9000 }]
[[services]]
name = "ledger"
namespace = "billing"
ports = [{ name = "http", port = 80 }, { name = "admin", port = 81 }]
[[services]]
name = "ledger-http"
namespace = "billing"
port = 443
"#,
    );
    let web = ws
        .service(&k8s_advisor::model::ServiceId::new("front", "web"))
        .unwrap();
    let (vars, clashes) =
        k8s_advisor::wiring::env_vars(web, |id| ws.service(id), &ws.project.cluster_domain);
    assert!(clashes.is_empty(), "{clashes:?}");
    let vars: Vec<(&str, &str)> = vars
        .iter()
        .map(|v| (v.name.as_str(), v.value.as_str()))
        .collect();
    // Two `api` callees: both qualified, the digit-first one behind a `_`. `ledger` may use
    // only `http`, one port, so it is LEDGER_ADDR and meets nothing; `ledger-http` keeps its
    // short name.
    assert_eq!(
        vars,
        [
            ("LEDGER_ADDR", "ledger.billing.svc.corp.example:80"),
            (
                "LEDGER_HTTP_ADDR",
                "ledger-http.billing.svc.corp.example:443"
            ),
            ("USERS_API_ADDR", "api.users.svc.corp.example:8080"),
            ("_2FA_API_GRPC_ADDR", "api.2fa.svc.corp.example:9000"),
            ("_2FA_API_HTTP_ADDR", "api.2fa.svc.corp.example:80"),
        ]
    );
    let files = generate::generate(&ws);
    let stub = files
        .iter()
        .find(|f| f.path == Path::new("front/web.yaml"))
        .unwrap();
    assert!(stub.contents.contains(
        "            - name: \"USERS_API_ADDR\"\n              value: \"api.users.svc.corp.example:8080\"\n"
    ));
}
