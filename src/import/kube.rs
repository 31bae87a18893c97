//! Read stage of `import` for Kubernetes manifests (files, folders, `kubectl kustomize` or
//! `helm template` output, `kind: List`): workloads and the Services that select them become
//! services; Ingress and HTTPRoute backends and LoadBalancers set the exposure; hosts in env
//! values, arguments and referenced ConfigMaps become calls. Objects are read with the
//! `k8s-openapi` types, except HTTPRoute, which those types do not cover.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Container, PodTemplateSpec, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_yaml_ng::Value;

use super::draft::{Draft, PairDraft, PortDraft, Prov, Ref, SvcDraft, Target};
use super::{Input, hosts, locate, parse_doc, problem_at, yaml_docs};
use crate::diagnostic::Error;
use crate::model::{Expose, Platform, Protocol};
use crate::quantity::Quantity;

/// One object with where it was read.
struct Obj {
    value: Value,
    file: String,
    /// Line of the object's first line.
    line: usize,
    /// The object's own text, for finding lines inside it (`None` inside a `List`).
    text: Option<String>,
    input: usize,
}

impl Obj {
    /// The line of `path` inside the object, else the object's own line.
    fn at(&self, path: &[&str]) -> Prov {
        self.prov(path, "")
    }

    fn prov(&self, path: &[&str], what: &str) -> Prov {
        let line = self
            .text
            .as_deref()
            .and_then(|t| locate::line(t, path))
            .map_or(self.line, |l| self.line + l - 1);
        Prov::read(&self.file, line, what)
    }

    fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    fn api(&self) -> &str {
        self.value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    fn name(&self) -> String {
        self.value
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    }

    fn namespace(&self) -> String {
        self.value
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    }
}

/// A workload as the import needs it.
struct Workload {
    obj: usize,
    kind: &'static str,
    name: String,
    namespace: String,
    replicas: Option<i32>,
    template: PodTemplateSpec,
}

/// Reads manifests.
pub fn read(inputs: &[Input]) -> Result<Draft, Error> {
    let mut objs: Vec<Obj> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        for doc in yaml_docs(input.source.text()) {
            let value = parse_doc(&input.source, &doc)?;
            if value.is_null() {
                continue;
            }
            let obj = Obj {
                value,
                file: input.name(),
                line: doc.first_line + leading_blank(doc.text),
                text: Some(doc.text.trim_start_matches(['\n', '\r']).to_string()),
                input: i,
            };
            if obj.kind().ends_with("List") && obj.value.get("items").is_some() {
                let items = obj
                    .value
                    .get("items")
                    .and_then(Value::as_sequence)
                    .cloned()
                    .unwrap_or_default();
                let list_line = obj.line
                    + locate::line(obj.text.as_deref().unwrap_or(""), &["items"]).unwrap_or(1)
                    - 1;
                for item in items {
                    objs.push(Obj {
                        value: item,
                        file: obj.file.clone(),
                        line: list_line,
                        text: None,
                        input: i,
                    });
                }
            } else {
                objs.push(obj);
            }
        }
    }
    let mut draft = Draft {
        sources: inputs.iter().map(Input::name).collect(),
        kind: "Kubernetes manifests".into(),
        ..Draft::default()
    };
    // Workloads of the retired beta groups (still in many demos and old charts) have the
    // fields the import reads in the same places as apps/v1: read them as apps/v1, and say so.
    let mut legacy: BTreeMap<String, usize> = BTreeMap::new();
    for o in &mut objs {
        let old_api = o.api().to_string();
        if matches!(o.kind(), "Deployment" | "StatefulSet" | "DaemonSet")
            && matches!(
                old_api.as_str(),
                "extensions/v1beta1" | "apps/v1beta1" | "apps/v1beta2"
            )
            && let Value::Mapping(m) = &mut o.value
        {
            m.insert("apiVersion".into(), "apps/v1".into());
            *legacy
                .entry(format!("{} ({old_api})", o.kind()))
                .or_default() += 1;
        }
    }
    for (what, n) in &legacy {
        draft.notes.push(format!(
            "{n} × {what} read as apps/v1; that API is gone since Kubernetes 1.16"
        ));
    }
    let bad = |o: &Obj, e: serde_yaml_ng::Error| {
        problem_at(
            &inputs[o.input].source,
            o.line,
            format!(
                "{} \"{}\" does not follow the Kubernetes schema: {e}",
                o.kind(),
                o.name()
            ),
            "fix the object; `kubectl apply --dry-run=client -f FILE` shows the same problem",
        )
    };

    let mut workloads: Vec<Workload> = Vec::new();
    let mut services: Vec<(usize, Service)> = Vec::new();
    let mut ingresses: Vec<(usize, Ingress)> = Vec::new();
    let mut routes: Vec<usize> = Vec::new();
    let mut config_maps: BTreeMap<(String, String), (usize, ConfigMap)> = BTreeMap::new();
    let mut policies: BTreeMap<String, usize> = BTreeMap::new();
    let mut ignored: BTreeMap<String, usize> = BTreeMap::new();
    let mut platforms: BTreeMap<Platform, Prov> = BTreeMap::new();
    for (i, o) in objs.iter().enumerate() {
        platform_hints(o, &mut platforms);
        match (o.api(), o.kind()) {
            ("apps/v1", "Deployment") => {
                let d: Deployment = of(&o.value).map_err(|e| bad(o, e))?;
                let spec = d.spec.unwrap_or_default();
                workloads.push(Workload {
                    obj: i,
                    kind: "Deployment",
                    name: o.name(),
                    namespace: o.namespace(),
                    replicas: spec.replicas,
                    template: spec.template,
                });
            }
            ("apps/v1", "StatefulSet") => {
                let d: StatefulSet = of(&o.value).map_err(|e| bad(o, e))?;
                let spec = d.spec.unwrap_or_default();
                workloads.push(Workload {
                    obj: i,
                    kind: "StatefulSet",
                    name: o.name(),
                    namespace: o.namespace(),
                    replicas: spec.replicas,
                    template: spec.template,
                });
            }
            ("apps/v1", "DaemonSet") => {
                let d: DaemonSet = of(&o.value).map_err(|e| bad(o, e))?;
                let spec = d.spec.unwrap_or_default();
                workloads.push(Workload {
                    obj: i,
                    kind: "DaemonSet",
                    name: o.name(),
                    namespace: o.namespace(),
                    replicas: None,
                    template: spec.template,
                });
            }
            ("v1", "Service") => services.push((i, of(&o.value).map_err(|e| bad(o, e))?)),
            ("networking.k8s.io/v1", "Ingress") => {
                ingresses.push((i, of(&o.value).map_err(|e| bad(o, e))?));
            }
            (api, "HTTPRoute") if api.starts_with("gateway.networking.k8s.io/") => routes.push(i),
            ("v1", "ConfigMap") => {
                let cm: ConfigMap = of(&o.value).map_err(|e| bad(o, e))?;
                config_maps.insert((o.namespace(), o.name()), (i, cm));
            }
            ("networking.k8s.io/v1", "NetworkPolicy") => {
                *policies.entry(ns_or_default(&o.namespace())).or_default() += 1;
            }
            ("v1", "Namespace") => {
                let entry = draft.namespaces.entry(o.name()).or_default();
                entry.prov = Some(o.prov(&["metadata", "name"], "Namespace"));
            }
            (_, "") => {
                return Err(problem_at(
                    &inputs[o.input].source,
                    o.line,
                    "a manifest without `kind`",
                    "every Kubernetes object has apiVersion and kind",
                ));
            }
            (api, kind) => *ignored.entry(format!("{kind} ({api})")).or_default() += 1,
        }
    }

    let platform = match platforms.len() {
        0 => None,
        1 => platforms.into_iter().next(),
        _ => {
            let list: Vec<String> = platforms
                .iter()
                .map(|(p, prov)| format!("{} ({})", p.as_str(), prov.at))
                .collect();
            draft.unknowns.push(format!(
                "platform: annotations of several platforms ({}); choose one",
                list.join(", ")
            ));
            None
        }
    };

    // Which Services select which workload.
    let mut selected: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut selects_nothing: Vec<usize> = Vec::new();
    // Labels and namespace of each workload, computed once: the pairing below is services ×
    // workloads.
    let pods: Vec<(String, BTreeMap<String, String>)> = workloads
        .iter()
        .map(|w| {
            let labels = w
                .template
                .metadata
                .as_ref()
                .and_then(|m| m.labels.clone())
                .unwrap_or_default();
            (ns_or_default(&w.namespace), labels)
        })
        .collect();
    for (si, (oi, svc)) in services.iter().enumerate() {
        let o = &objs[*oi];
        let selector = svc
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .cloned()
            .unwrap_or_default();
        let ns = ns_or_default(&o.namespace());
        let mut any = false;
        if !selector.is_empty() {
            for (wi, (wns, labels)) in pods.iter().enumerate() {
                if *wns == ns && selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
                    selected.entry(wi).or_default().push(si);
                    any = true;
                }
            }
        }
        if !any {
            selects_nothing.push(si);
        }
    }
    let mut per_service: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (wi, list) in &selected {
        for si in list {
            per_service
                .entry(*si)
                .or_default()
                .push(workloads[*wi].name.clone());
        }
    }
    for (si, names) in per_service {
        if names.len() > 1 {
            let o = &objs[services[si].0];
            draft.unknowns.push(format!(
                "Service {} selects several workloads ({}); each is imported, calls go to the first [{}]",
                o.name(),
                names.join(", "),
                o.at(&[]).at
            ));
        }
    }
    for si in selects_nothing {
        let (oi, svc) = &services[si];
        let o = &objs[*oi];
        let spec = svc.spec.clone().unwrap_or_default();
        let text = match (&spec.type_, &spec.external_name) {
            (Some(t), Some(ext)) if t == "ExternalName" => format!(
                "Service {} points outside the cluster ({ext}): callers need an `egress` entry [{}]",
                o.name(),
                o.at(&[]).at
            ),
            _ => format!(
                "Service {} selects no workload in the input; not imported [{}]",
                o.name(),
                o.at(&[]).at
            ),
        };
        draft.unknowns.push(text);
    }

    // Ingress and HTTPRoute backends: public entry points, by (namespace, Service name).
    let mut entry_points: BTreeMap<(String, String), Prov> = BTreeMap::new();
    for (oi, ing) in &ingresses {
        let o = &objs[*oi];
        let spec = ing.spec.clone().unwrap_or_default();
        let mut backends: Vec<String> = Vec::new();
        if let Some(b) = spec.default_backend.and_then(|b| b.service) {
            backends.push(b.name);
        }
        for rule in spec.rules.unwrap_or_default() {
            for path in rule.http.map(|h| h.paths).unwrap_or_default() {
                if let Some(s) = path.backend.service {
                    backends.push(s.name);
                }
            }
        }
        for b in backends {
            entry_points
                .entry((ns_or_default(&o.namespace()), b.clone()))
                .or_insert_with(|| o.prov(&["spec"], &format!("Ingress {} backend", o.name())));
        }
    }
    for oi in &routes {
        let o = &objs[*oi];
        let rules = o
            .value
            .get("spec")
            .and_then(|s| s.get("rules"))
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for rule in rules {
            for b in rule
                .get("backendRefs")
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default()
            {
                let kind = b.get("kind").and_then(Value::as_str).unwrap_or("Service");
                let Some(name) = b.get("name").and_then(Value::as_str) else {
                    continue;
                };
                if kind != "Service" {
                    continue;
                }
                let ns = b
                    .get("namespace")
                    .and_then(Value::as_str)
                    .map_or_else(|| o.namespace(), String::from);
                entry_points
                    .entry((ns_or_default(&ns), name.to_string()))
                    .or_insert_with(|| {
                        o.prov(&["spec"], &format!("HTTPRoute {} backend", o.name()))
                    });
            }
        }
    }

    for (wi, w) in workloads.iter().enumerate() {
        let o = &objs[w.obj];
        let mut svc_ids: Vec<usize> = selected.get(&wi).cloned().unwrap_or_default();
        // The Service callers most likely use: the ClusterIP one named like the workload,
        // else a ClusterIP one, else any; by name for a stable choice.
        svc_ids.sort_by_key(|si| {
            let (oi, s) = &services[*si];
            let ty = s
                .spec
                .as_ref()
                .and_then(|s| s.type_.clone())
                .unwrap_or_else(|| "ClusterIP".into());
            (
                objs[*oi].name() != w.name,
                ty != "ClusterIP",
                objs[*oi].name(),
            )
        });
        let name = svc_ids
            .first()
            .map_or_else(|| w.name.clone(), |si| objs[services[*si].0].name());
        let mut s = SvcDraft::new(
            &name,
            &ns_key(&w.namespace),
            o.prov(&["metadata", "name"], &format!("{} {}", w.kind, w.name)),
        );
        let pod = w.template.spec.clone().unwrap_or_default();
        let main = pod.containers.first().cloned().unwrap_or_default();
        let main_step = format!("name: {}", main.name);
        if let Some(image) = &main.image {
            s.image = Some((
                image.clone(),
                o.prov(
                    &[
                        "spec",
                        "template",
                        "spec",
                        "containers",
                        &main_step,
                        "image",
                    ],
                    "image",
                ),
            ));
        }
        match (w.kind, w.replicas) {
            ("DaemonSet", _) => draft.unknowns.push(format!(
                "{name}: a DaemonSet runs one pod per node; replicas left at the default [{}]",
                o.at(&[]).at
            )),
            (_, Some(r)) => {
                s.replicas = Some((
                    u32::try_from(r).unwrap_or(0),
                    o.prov(&["spec", "replicas"], "replicas"),
                ));
            }
            _ => {}
        }
        resources(&main, o, &mut s, &name, &mut draft.unknowns);
        if pod.containers.len() > 1 {
            draft.unknowns.push(format!(
                "{name}: {} containers; image and resources are those of the first, {:?} [{}]",
                pod.containers.len(),
                main.name,
                o.at(&[]).at
            ));
        }
        // Ports of every selecting Service, `targetPort` resolved against container ports.
        for si in &svc_ids {
            let (oi, svc) = &services[*si];
            let so = &objs[*oi];
            let spec = svc.spec.clone().unwrap_or_default();
            for p in spec.ports.unwrap_or_default() {
                let prov = so.prov(&["spec", "ports"], &format!("Service {} port", so.name()));
                let target = match &p.target_port {
                    None => Some(p.port),
                    Some(IntOrString::Int(n)) => Some(*n),
                    Some(IntOrString::String(port_name)) => pod
                        .containers
                        .iter()
                        .flat_map(|c| c.ports.clone().unwrap_or_default())
                        .find(|cp| cp.name.as_deref() == Some(port_name.as_str()))
                        .map(|cp| cp.container_port),
                };
                let (Some(port), Some(target)) = (
                    u16::try_from(p.port).ok().filter(|p| *p > 0),
                    target
                        .and_then(|t| u16::try_from(t).ok())
                        .filter(|t| *t > 0),
                ) else {
                    draft.unknowns.push(format!(
                        "{name}: Service {} port {} has a target port no container declares [{}]",
                        so.name(),
                        p.port,
                        prov.at
                    ));
                    continue;
                };
                let protocol = match p.protocol.as_deref() {
                    Some("UDP") => Protocol::Udp,
                    Some("SCTP") => Protocol::Sctp,
                    _ => Protocol::Tcp,
                };
                s.ports.push(PortDraft {
                    name: p.name.clone(),
                    port,
                    target,
                    protocol,
                    prov,
                });
            }
            let ty = spec.type_.clone().unwrap_or_default();
            if ty == "LoadBalancer" {
                let internal = internal_lb(so);
                let e = if internal {
                    Expose::Internal
                } else {
                    Expose::Public
                };
                let what = if internal {
                    format!(
                        "Service {} type LoadBalancer, internal annotation",
                        so.name()
                    )
                } else {
                    format!("Service {} type LoadBalancer", so.name())
                };
                if s.expose.as_ref().is_none_or(|(old, _)| *old < e) {
                    s.expose = Some((e, so.prov(&["spec", "type"], &what)));
                }
            } else if ty == "NodePort" {
                s.expose_hint = Some(format!(
                    "Service {} is a NodePort: reachable on every node; a candidate for \"internal\" or \"public\"",
                    so.name()
                ));
            }
            // Every other selecting Service's name reaches this workload too.
            let sname = so.name().to_ascii_lowercase();
            if sname == name.to_ascii_lowercase() {
                continue;
            }
            let ns = w.namespace.to_ascii_lowercase();
            for host in host_forms(&sname, &ns) {
                draft
                    .aliases
                    .entry(host)
                    .or_insert_with(|| (ns_key(&w.namespace), name.clone()));
            }
        }
        if svc_ids.is_empty() {
            draft.unknowns.push(format!(
                "{name}: no Service selects this {}; nothing can call it by name [{}]",
                w.kind,
                o.at(&[]).at
            ));
        }
        for si in &svc_ids {
            let key = (ns_or_default(&w.namespace), objs[services[*si].0].name());
            if let Some(prov) = entry_points.get(&key)
                && s.expose
                    .as_ref()
                    .is_none_or(|(old, _)| *old < Expose::Public)
            {
                s.expose = Some((Expose::Public, prov.clone()));
            }
        }
        // Calls from env values, envFrom and ConfigMap volumes, arguments.
        let mut containers = pod.init_containers.clone().unwrap_or_default();
        containers.extend(pod.containers.iter().cloned());
        let mut maps: BTreeSet<String> = BTreeSet::new();
        for c in &containers {
            let base = ["spec", "template", "spec"];
            let list = if pod.containers.iter().any(|m| m.name == c.name) {
                "containers"
            } else {
                "initContainers"
            };
            let cstep = format!("name: {}", c.name);
            for e in c.env.clone().unwrap_or_default() {
                let estep = format!("name: {}", e.name);
                let path = [base[0], base[1], base[2], list, &cstep, "env", &estep];
                if let Some(v) = &e.value {
                    for h in hosts::find(Some(&e.name), v) {
                        s.refs.push(Ref {
                            target: Target::Host(h.host),
                            port: h.port,
                            prov: o.prov(&path, &format!("env {}", e.name)),
                        });
                    }
                }
                if let Some(r) = e
                    .value_from
                    .as_ref()
                    .and_then(|f| f.config_map_key_ref.as_ref())
                {
                    config_refs(
                        &config_maps,
                        &objs,
                        &w.namespace,
                        &r.name,
                        Some(&r.key),
                        &mut s,
                    );
                }
            }
            for from in c.env_from.clone().unwrap_or_default() {
                if let Some(r) = from.config_map_ref {
                    maps.insert(r.name);
                }
            }
            let words: Vec<String> = c
                .command
                .clone()
                .unwrap_or_default()
                .into_iter()
                .chain(c.args.clone().unwrap_or_default())
                .collect();
            for (k, word) in words.iter().enumerate() {
                // `--flag value`: the flag is the key of the value after it.
                let key = k
                    .checked_sub(1)
                    .map(|p| words[p].as_str())
                    .filter(|p| p.starts_with('-') && !p.contains('='));
                for h in hosts::find(key, word) {
                    s.refs.push(Ref {
                        target: Target::Host(h.host),
                        port: h.port,
                        prov: o.prov(&[base[0], base[1], base[2], list, &cstep], "args"),
                    });
                }
            }
        }
        for v in pod.volumes.clone().unwrap_or_default() {
            if let Some(cm) = v.config_map {
                maps.insert(cm.name);
            }
        }
        for m in maps {
            config_refs(&config_maps, &objs, &w.namespace, &m, None, &mut s);
        }
        draft.services.push(s);
    }
    for (ns, n) in &policies {
        draft.notes.push(format!(
            "{n} existing NetworkPolicy object{} in namespace {ns}: not imported; compare {} with the calls before replacing {} with the generated policies",
            if *n == 1 { "" } else { "s" },
            if *n == 1 { "it" } else { "them" },
            if *n == 1 { "it" } else { "them" }
        ));
    }
    for (kind, n) in &ignored {
        draft.notes.push(format!("{n} × {kind} not imported"));
    }
    draft.platform = platform;
    // An internal load balancer needs a platform that has one.
    if draft.platform.is_none() {
        for s in &mut draft.services {
            if matches!(s.expose, Some((Expose::Internal, _))) {
                draft.unknowns.push(format!(
                    "{}: an internal load balancer, but the platform is unclear; written as cluster",
                    s.name
                ));
                s.expose = None;
            }
        }
    }
    Ok(draft)
}

/// The typed view of an object.
fn of<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, serde_yaml_ng::Error> {
    serde_yaml_ng::from_value(v.clone())
}

/// Lines before the first non-blank line of a document.
fn leading_blank(text: &str) -> usize {
    text.lines()
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        .count()
}

/// "No namespace" and `default` are the same place in a cluster.
fn ns_or_default(ns: &str) -> String {
    if ns.is_empty() {
        "default".into()
    } else {
        ns.to_string()
    }
}

/// The draft's key for a namespace: empty for the project's.
fn ns_key(ns: &str) -> String {
    if ns == "default" {
        String::new()
    } else {
        ns.to_string()
    }
}

/// The DNS names a Service answers to.
fn host_forms(name: &str, ns: &str) -> Vec<String> {
    let ns = if ns.is_empty() { "default" } else { ns };
    vec![
        name.to_string(),
        format!("{name}.{ns}"),
        format!("{name}.{ns}.svc"),
        format!("{name}.{ns}.svc.cluster.local"),
    ]
}

/// Hosts in a ConfigMap the workload uses (one key, or all of them).
fn config_refs(
    maps: &BTreeMap<(String, String), (usize, ConfigMap)>,
    objs: &[Obj],
    ns: &str,
    name: &str,
    key: Option<&str>,
    s: &mut SvcDraft,
) {
    let Some((oi, cm)) = maps
        .get(&(ns.to_string(), name.to_string()))
        .or_else(|| maps.get(&(ns_key(ns), name.to_string())))
    else {
        return;
    };
    let o = &objs[*oi];
    for (k, v) in cm.data.clone().unwrap_or_default() {
        if key.is_some_and(|want| want != k) {
            continue;
        }
        for h in hosts::find(Some(&k), &v) {
            s.refs.push(Ref {
                target: Target::Host(h.host),
                port: h.port,
                prov: o.prov(&["data", &k], &format!("ConfigMap {name} {k}")),
            });
        }
    }
}

fn resources(main: &Container, o: &Obj, s: &mut SvcDraft, name: &str, unknowns: &mut Vec<String>) {
    let Some(r) = &main.resources else { return };
    let mut fill = |list: &Option<
        BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    >,
                    key: &str,
                    pair: &mut PairDraft| {
        for (res, q) in list.clone().unwrap_or_default() {
            let step = format!("name: {}", main.name);
            let prov = o.prov(
                &[
                    "spec",
                    "template",
                    "spec",
                    "containers",
                    &step,
                    "resources",
                    key,
                    &res,
                ],
                &format!("resources.{key}.{res}"),
            );
            if q.0.parse::<Quantity>().is_err() {
                unknowns.push(format!(
                    "{name}: {key}.{res} {:?} is not a quantity [{}]",
                    q.0, prov.at
                ));
                continue;
            }
            match res.as_str() {
                "cpu" => pair.cpu = Some((q.0.clone(), prov)),
                "memory" => pair.memory = Some((q.0.clone(), prov)),
                _ => {}
            }
        }
    };
    fill(&r.requests, "requests", &mut s.requests);
    fill(&r.limits, "limits", &mut s.limits);
}

/// Annotation prefixes that only one platform uses.
const PLATFORM_PREFIXES: [(&str, Platform); 8] = [
    ("service.beta.kubernetes.io/aws-", Platform::Eks),
    ("eks.amazonaws.com/", Platform::Eks),
    ("alb.ingress.kubernetes.io/", Platform::Eks),
    ("cloud.google.com/", Platform::Gke),
    ("networking.gke.io/", Platform::Gke),
    ("iam.gke.io/", Platform::Gke),
    ("service.beta.kubernetes.io/azure-", Platform::Aks),
    ("azure.workload.identity/", Platform::Aks),
];

fn annotations(v: &Value) -> Vec<(String, String)> {
    v.get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    Some((
                        k.as_str()?.to_string(),
                        match v {
                            Value::String(s) => s.clone(),
                            Value::Bool(b) => b.to_string(),
                            _ => String::new(),
                        },
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn platform_hints(o: &Obj, found: &mut BTreeMap<Platform, Prov>) {
    let mut all = annotations(&o.value);
    if let Some(t) = o.value.get("spec").and_then(|s| s.get("template")) {
        all.extend(annotations(t));
    }
    for (k, _) in all {
        if let Some((_, p)) = PLATFORM_PREFIXES.iter().find(|(pre, _)| k.starts_with(pre)) {
            found.entry(*p).or_insert_with(|| {
                o.prov(&["metadata", "annotations"], &format!("annotation {k}"))
            });
        }
    }
}

/// True when a LoadBalancer Service carries its platform's "internal" annotation.
fn internal_lb(o: &Obj) -> bool {
    annotations(&o.value).iter().any(|(k, v)| {
        let v = v.to_ascii_lowercase();
        match k.as_str() {
            "service.beta.kubernetes.io/aws-load-balancer-scheme" => v == "internal",
            "service.beta.kubernetes.io/aws-load-balancer-internal" => v != "false",
            "networking.gke.io/load-balancer-type" | "cloud.google.com/load-balancer-type" => {
                v == "internal"
            }
            "service.beta.kubernetes.io/azure-load-balancer-internal" => v == "true",
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_host_forms() {
        assert_eq!(
            host_forms("cart", "shop"),
            [
                "cart",
                "cart.shop",
                "cart.shop.svc",
                "cart.shop.svc.cluster.local"
            ]
        );
    }
}
