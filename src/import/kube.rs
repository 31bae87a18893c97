//! Read stage of `import` for Kubernetes manifests (files, folders, `kubectl kustomize` or
//! `helm template` output, `kind: List`): workloads and the Services that select them become
//! services; Ingress and HTTPRoute backends and LoadBalancers set the exposure; hosts in env
//! values, arguments and referenced ConfigMaps become calls. Objects are read with the
//! `k8s-openapi` types, except HTTPRoute, which those types do not cover.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Container, PodTemplateSpec, Secret, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_yaml_ng::Value;

use super::draft::{Draft, PairDraft, PortDraft, Prov, Ref, SvcDraft, Target};
use super::{Input, Options, hosts, locate, parse_doc, problem_at};
use crate::diagnostic::Error;
use crate::model::{Expose, Platform, Protocol};
use crate::quantity::Quantity;

/// One object with where it was read.
struct Obj<'a> {
    value: Value,
    file: String,
    /// Line of the object's first line.
    line: usize,
    /// The object's own text, for finding lines inside it (`None` inside a `List`).
    text: Option<&'a str>,
    input: usize,
}

impl Obj<'_> {
    /// The line of `path` inside the object, else the object's own line.
    fn at(&self, path: &[&str]) -> Prov {
        self.prov(path, "")
    }

    fn prov(&self, path: &[&str], what: &str) -> Prov {
        let line = self
            .text
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
    /// A StatefulSet's first volume claim: its name and requested size.
    claim: Option<(String, String)>,
}

/// Reads manifests; `firsts` holds the first document of each input, already parsed.
pub fn read(inputs: &[Input], firsts: Vec<Value>, options: &Options) -> Result<Draft, Error> {
    let mut objs: Vec<Obj> = Vec::new();
    for ((i, input), first) in inputs.iter().enumerate().zip(firsts) {
        let mut first = Some(first);
        for doc in crate::yaml::documents(input.source.text()) {
            let value = match first.take() {
                Some(value) => value,
                None => parse_doc(&input.source, &doc)?,
            };
            if value.is_null() {
                continue;
            }
            let obj = Obj {
                value,
                file: input.name(),
                line: doc.first_line + leading_blank(doc.text),
                text: Some(doc.text.trim_start_matches(['\n', '\r'])),
                input: i,
            };
            if obj.kind().ends_with("List") && obj.value.get("items").is_some() {
                let items = obj
                    .value
                    .get("items")
                    .and_then(Value::as_sequence)
                    .cloned()
                    .unwrap_or_default();
                let list_line =
                    obj.line + locate::line(obj.text.unwrap_or(""), &["items"]).unwrap_or(1) - 1;
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
    default_namespace(&mut objs, options, &mut draft);
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
    let bad = |o: &Obj<'_>, e: serde_yaml_ng::Error| {
        problem_at(
            &inputs[o.input].source,
            o.line,
            format!(
                "{} \"{}\" does not follow the Kubernetes schema: {}",
                super::render::comment(o.kind()),
                super::render::comment(&o.name()),
                super::render::comment(&e.to_string())
            ),
            "fix the object; `kubectl apply --dry-run=client -f FILE` shows the same problem",
        )
    };

    let mut workloads: Vec<Workload> = Vec::new();
    let mut services: Vec<(usize, Service)> = Vec::new();
    let mut ingresses: Vec<(usize, Ingress)> = Vec::new();
    let mut routes: Vec<usize> = Vec::new();
    let mut config_maps: BTreeMap<(String, String), (usize, ConfigMap)> = BTreeMap::new();
    let mut secrets: BTreeMap<(String, String), (usize, Secret)> = BTreeMap::new();
    let mut policies: BTreeMap<String, usize> = BTreeMap::new();
    let mut ignored: BTreeMap<String, usize> = BTreeMap::new();
    let mut platforms: BTreeMap<Platform, Prov> = BTreeMap::new();
    for (i, o) in objs.iter_mut().enumerate() {
        platform_hints(o, &mut platforms);
        match (o.api(), o.kind()) {
            ("apps/v1", "Deployment") => {
                let d: Deployment = typed(o).map_err(|e| bad(o, e))?;
                let spec = d.spec.unwrap_or_default();
                workloads.push(Workload {
                    obj: i,
                    kind: "Deployment",
                    name: o.name(),
                    namespace: o.namespace(),
                    replicas: spec.replicas,
                    template: spec.template,
                    claim: None,
                });
            }
            ("apps/v1", "StatefulSet") => {
                let d: StatefulSet = typed(o).map_err(|e| bad(o, e))?;
                let spec = d.spec.unwrap_or_default();
                let claim = spec
                    .volume_claim_templates
                    .unwrap_or_default()
                    .into_iter()
                    .next()
                    .and_then(|c| {
                        let size = c
                            .spec?
                            .resources?
                            .requests?
                            .get("storage")
                            .map(|q| q.0.clone())?;
                        Some((c.metadata.name.unwrap_or_default(), size))
                    });
                workloads.push(Workload {
                    obj: i,
                    kind: "StatefulSet",
                    name: o.name(),
                    namespace: o.namespace(),
                    replicas: spec.replicas,
                    template: spec.template,
                    claim,
                });
            }
            ("apps/v1", "DaemonSet") => {
                let d: DaemonSet = typed(o).map_err(|e| bad(o, e))?;
                let spec = d.spec.unwrap_or_default();
                workloads.push(Workload {
                    obj: i,
                    kind: "DaemonSet",
                    name: o.name(),
                    namespace: o.namespace(),
                    replicas: None,
                    template: spec.template,
                    claim: None,
                });
            }
            ("v1", "Service") => services.push((i, typed(o).map_err(|e| bad(o, e))?)),
            ("networking.k8s.io/v1", "Ingress") => {
                ingresses.push((i, typed(o).map_err(|e| bad(o, e))?));
            }
            (api, "HTTPRoute") if api.starts_with("gateway.networking.k8s.io/") => routes.push(i),
            ("v1", "ConfigMap") => {
                let cm: ConfigMap = typed(o).map_err(|e| bad(o, e))?;
                config_maps.insert((o.namespace(), o.name()), (i, cm));
            }
            ("v1", "Secret") => {
                let secret: Secret = typed(o).map_err(|e| bad(o, e))?;
                secrets.insert((o.namespace(), o.name()), (i, secret));
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
    // Workloads by (namespace, label, value): a Service's candidates are those that carry the
    // first pair of its selector, so pairing stays near linear instead of services × workloads.
    let mut by_label: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
    for (wi, (wns, labels)) in pods.iter().enumerate() {
        for (k, v) in labels {
            by_label
                .entry((wns.as_str(), k.as_str(), v.as_str()))
                .or_default()
                .push(wi);
        }
    }
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
        if let Some((k0, v0)) = selector.iter().next() {
            let candidates = by_label
                .get(&(ns.as_str(), k0.as_str(), v0.as_str()))
                .map(Vec::as_slice)
                .unwrap_or_default();
            for &wi in candidates {
                let labels = &pods[wi].1;
                if selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
                    selected.entry(wi).or_default().push(si);
                    any = true;
                }
            }
        }
        if !any {
            selects_nothing.push(si);
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

    // Each workload's draft, and whether a Service names it.
    let mut grouped: Vec<(bool, SvcDraft)> = Vec::new();
    for (wi, w) in workloads.iter().enumerate() {
        let o = &objs[w.obj];
        let mut svc_ids: Vec<usize> = selected.get(&wi).cloned().unwrap_or_default();
        // The Service callers most likely use: the ClusterIP one named like the workload,
        // else a ClusterIP one that is not headless, else any; by name for a stable choice.
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
                is_headless(s),
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
        let main = main_container(&pod.containers, &svc_ids, &services);
        if w.kind == "StatefulSet" {
            match &w.claim {
                Some((claim, size)) => {
                    let path = main
                        .volume_mounts
                        .iter()
                        .flatten()
                        .find(|m| m.name == *claim)
                        .map(|m| m.mount_path.clone());
                    s.stateful = Some((
                        (size.clone(), path),
                        o.prov(
                            &["spec", "volumeClaimTemplates"],
                            &format!("StatefulSet {} volume claim {claim}", w.name),
                        ),
                    ));
                }
                None => draft.unknowns.push(format!(
                    "{name}: a StatefulSet without a volume claim; imported as a deployment [{}]",
                    o.at(&[]).at
                )),
            }
        }
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
            let headless = is_headless(svc);
            for p in spec.ports.unwrap_or_default() {
                let prov = so.prov(&["spec", "ports"], &format!("Service {} port", so.name()));
                // The API server defaults an absent, zero or empty `targetPort` to `port`.
                let target = match &p.target_port {
                    None | Some(IntOrString::Int(0)) => Some(p.port),
                    Some(IntOrString::String(n)) if n.is_empty() => Some(p.port),
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
                // A value the workspace cannot hold, listed with where it was read.
                let not_imported = |what: String| {
                    format!(
                        "{name}: Service {} port {} has {what}; not imported [{}]",
                        so.name(),
                        p.port,
                        prov.at
                    )
                };
                let protocol = match p.protocol.as_deref() {
                    None | Some("TCP") => Protocol::Tcp,
                    Some("UDP") => Protocol::Udp,
                    Some("SCTP") => Protocol::Sctp,
                    Some(other) => {
                        draft.unknowns.push(not_imported(format!(
                            "protocol {:?}, which is not TCP, UDP or SCTP",
                            super::render::comment(other)
                        )));
                        continue;
                    }
                };
                let app_protocol = match p.app_protocol.as_deref() {
                    Some(app) if crate::names::label_key(app).is_err() => {
                        draft.unknowns.push(not_imported(format!(
                            "appProtocol {:?}, which Kubernetes would refuse",
                            super::render::comment(app)
                        )));
                        None
                    }
                    other => other.map(String::from),
                };
                s.ports.push(PortDraft {
                    name: p.name.clone(),
                    app_protocol,
                    // A headless Service translates no port: its name resolves to the pods'
                    // addresses, and callers connect to the pods' port.
                    port: if headless { target } else { port },
                    target,
                    protocol,
                    prov,
                });
            }
            // Each pod of a StatefulSet has a name of its own under its headless Service
            // (`db-0.db-headless`): those reach this workload too.
            if headless && w.kind == "StatefulSet" {
                let sname = so.name().to_ascii_lowercase();
                let ns = w.namespace.to_ascii_lowercase();
                let pods = w.replicas.map_or(1, |r| r.clamp(0, MAX_POD_NAMES));
                for ordinal in 0..pods {
                    let pod = format!("{}-{ordinal}", w.name.to_ascii_lowercase());
                    for host in host_forms(&sname, &ns) {
                        draft
                            .aliases
                            .entry(format!("{pod}.{host}"))
                            .or_insert_with(|| (ns_key(&w.namespace), name.clone()));
                    }
                }
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
            } else if ty == "NodePort"
                && s.expose
                    .as_ref()
                    .is_none_or(|(old, _)| *old < Expose::Public)
            {
                // Reachable on every node's address today: public, as a guess said twice.
                let prov = so.prov(
                    &["spec", "type"],
                    &format!(
                        "Service {} is a NodePort, reachable on every node",
                        so.name()
                    ),
                );
                draft.unknowns.push(format!(
                    "{name}: Service {} is a NodePort, so it is imported as public; make it internal, gateway or cluster if that is not how it should be reached [{}]",
                    so.name(),
                    prov.at
                ));
                s.expose = Some((
                    Expose::Public,
                    Prov {
                        guess: true,
                        ..prov
                    },
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
                draft.unknowns.push(format!(
                    "{name}: the backend of {}, so it is imported as public; make it gateway (through the project's gateway) or internal if that is how it is reached [{}]",
                    prov.what.trim_end_matches(" backend"),
                    prov.at
                ));
                s.expose = Some((
                    Expose::Public,
                    Prov {
                        guess: true,
                        ..prov.clone()
                    },
                ));
            }
        }
        // Calls from the environment each container sees (envFrom, env with `$(VAR)`
        // expanded as the kubelet does, ConfigMap and Secret keys), its arguments, and the
        // ConfigMaps mounted as files.
        let mut containers = pod.init_containers.clone().unwrap_or_default();
        containers.extend(pod.containers.iter().cloned());
        let sources = Sources {
            config_maps: &config_maps,
            secrets: &secrets,
            objs: &objs,
            namespace: &w.namespace,
        };
        for c in &containers {
            let list = if pod.containers.iter().any(|m| m.name == c.name) {
                "containers"
            } else {
                "initContainers"
            };
            container_refs(o, c, list, &sources, &mut s);
        }
        let mut maps: BTreeSet<String> = BTreeSet::new();
        for v in pod.volumes.clone().unwrap_or_default() {
            if let Some(cm) = v.config_map {
                maps.insert(cm.name);
            }
        }
        for m in maps {
            for var in sources.config_map(&m) {
                refs_of(&var, &mut s);
            }
        }
        grouped.push((!svc_ids.is_empty(), s));
    }
    draft.services = one_per_service(grouped, &mut draft.unknowns);
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

/// Containers that run beside the application in many pods: a mesh proxy, a log shipper, a
/// secrets agent. Never the one a service is named after.
const SIDECARS: [&str; 9] = [
    "istio-proxy",
    "envoy",
    "linkerd-proxy",
    "cloud-sql-proxy",
    "cloudsql-proxy",
    "vault-agent",
    "fluent-bit",
    "fluentd",
    "otel-collector",
];

/// The container that serves the workload: the first that declares a port the selecting
/// Services target, else the first that is not a known sidecar, else the first.
fn main_container(
    containers: &[Container],
    svc_ids: &[usize],
    services: &[(usize, Service)],
) -> Container {
    let targets: Vec<IntOrString> = svc_ids
        .iter()
        .flat_map(|si| {
            services[*si]
                .1
                .spec
                .as_ref()
                .and_then(|s| s.ports.clone())
                .unwrap_or_default()
        })
        .map(|p| p.target_port.unwrap_or(IntOrString::Int(p.port)))
        .collect();
    let serves = |c: &&Container| {
        c.ports.iter().flatten().any(|cp| {
            targets.iter().any(|t| match t {
                IntOrString::Int(n) => *n == cp.container_port,
                IntOrString::String(name) => cp.name.as_deref() == Some(name.as_str()),
            })
        })
    };
    containers
        .iter()
        .find(serves)
        .or_else(|| {
            containers
                .iter()
                .find(|c| !SIDECARS.contains(&c.name.as_str()))
        })
        .or_else(|| containers.first())
        .cloned()
        .unwrap_or_default()
}

/// Objects that name no namespace go where `kubectl apply` would put them: the namespace of
/// `-n/--namespace`, else, when the manifests declare exactly one namespace (a Namespace
/// object or `metadata.namespace`), that one, which then also names the project. Never the
/// folder the files are in. Without either they stay in the project's namespace.
fn default_namespace(objs: &mut [Obj<'_>], options: &Options, draft: &mut Draft) {
    let mut declared: BTreeMap<String, Prov> = BTreeMap::new();
    for o in objs.iter() {
        let (name, path) = if o.kind() == "Namespace" {
            (o.name(), ["metadata", "name"])
        } else {
            (o.namespace(), ["metadata", "namespace"])
        };
        if !name.is_empty() {
            declared
                .entry(name)
                .or_insert_with(|| o.prov(&path, "the one namespace the manifests declare"));
        }
    }
    // `default` is where namespace-less objects go anyway: it names nothing.
    declared.remove("default");
    let target = match &options.namespace {
        Some(ns) => ns.clone(),
        None if declared.len() == 1 => {
            let (ns, prov) = declared.into_iter().next().expect("one namespace");
            draft.project = Some((
                ns.clone(),
                Prov {
                    guess: true,
                    ..prov
                },
            ));
            ns
        }
        None => return,
    };
    for o in objs.iter_mut() {
        if o.kind() == "Namespace" || !o.namespace().is_empty() {
            continue;
        }
        if let Value::Mapping(m) = &mut o.value
            && let Some(Value::Mapping(meta)) = m.get_mut("metadata")
        {
            meta.insert("namespace".into(), target.clone().into());
        }
    }
}

/// Workloads that one Service selects (`reviews-v1`, `-v2`, `-v3` behind `reviews`) are one
/// service with several workloads: their drafts are merged under the Service's name, with
/// every workload in the provenance, their replicas added up and their calls together.
fn one_per_service(drafts: Vec<(bool, SvcDraft)>, unknowns: &mut Vec<String>) -> Vec<SvcDraft> {
    let mut out: Vec<SvcDraft> = Vec::new();
    let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (named_by_service, s) in drafts {
        let key = (s.namespace.clone(), s.name.clone());
        let Some(&i) = index.get(&key).filter(|_| named_by_service) else {
            if named_by_service {
                index.insert(key, out.len());
            }
            out.push(s);
            continue;
        };
        let into = &mut out[i];
        into.prov.what = format!("{}, {}", into.prov.what, s.prov.what);
        into.replicas = match (into.replicas.take(), s.replicas) {
            (Some((a, prov)), Some((b, _))) => Some((a.saturating_add(b), prov)),
            (one, other) => one.or(other),
        };
        if let (Some((a, _)), Some((b, prov))) = (&into.image, &s.image)
            && a != b
        {
            unknowns.push(format!(
                "{}: its workloads run different images ({a}, {b}); the first is written [{}]",
                s.name, prov.at
            ));
        }
        if into.expose.as_ref().map(|e| e.0) < s.expose.as_ref().map(|e| e.0) {
            into.expose = s.expose;
        }
        into.ports.extend(s.ports);
        into.refs.extend(s.refs);
        into.egress.extend(s.egress);
    }
    out
}

/// A Service without a cluster address (`clusterIP: None`): its name resolves to the
/// addresses of the pods it selects.
fn is_headless(svc: &Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.cluster_ip.as_deref())
        .is_some_and(|ip| ip == "None")
}

/// The most pods of one StatefulSet whose own names are known as hosts: enough for any
/// database or broker cluster, and a bound on what a `replicas` value can add.
const MAX_POD_NAMES: i32 = 100;

/// The typed view of an object. Its YAML value keeps only what is read from it afterwards
/// (`apiVersion`, `kind` and `metadata`): holding every object twice, as a value and typed,
/// took most of the memory of a large import.
fn typed<T: serde::de::DeserializeOwned>(o: &mut Obj<'_>) -> Result<T, serde_yaml_ng::Error> {
    let Value::Mapping(map) = &mut o.value else {
        return serde_yaml_ng::from_value(o.value.clone());
    };
    let mut head = serde_yaml_ng::Mapping::new();
    for key in ["apiVersion", "kind", "metadata"] {
        if let Some(v) = map.get(key) {
            head.insert(key.into(), v.clone());
        }
    }
    let full = std::mem::replace(&mut o.value, Value::Mapping(head));
    serde_yaml_ng::from_value(full)
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

/// The ConfigMaps and Secrets of the input, for the workloads of one namespace.
struct Sources<'a> {
    config_maps: &'a BTreeMap<(String, String), (usize, ConfigMap)>,
    secrets: &'a BTreeMap<(String, String), (usize, Secret)>,
    objs: &'a [Obj<'a>],
    namespace: &'a str,
}

/// One variable a container sees: its name, value, where it was read, and whether the value
/// comes from a Secret (then it is never shown).
struct Var {
    name: String,
    value: String,
    prov: Prov,
    secret: bool,
}

impl Sources<'_> {
    fn find<'m, T>(
        &self,
        map: &'m BTreeMap<(String, String), (usize, T)>,
        name: &str,
    ) -> Option<&'m (usize, T)> {
        map.get(&(self.namespace.to_string(), name.to_string()))
            .or_else(|| map.get(&(ns_key(self.namespace), name.to_string())))
    }

    /// Every key of a ConfigMap, or nothing when the input does not hold it.
    fn config_map(&self, name: &str) -> Vec<Var> {
        let Some((oi, cm)) = self.find(self.config_maps, name) else {
            return Vec::new();
        };
        let o = &self.objs[*oi];
        cm.data
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| Var {
                prov: o.prov(&["data", &k], &format!("ConfigMap {name} {k}")),
                name: k,
                value: v,
                secret: false,
            })
            .collect()
    }

    /// Every key of a Secret (`data` decoded, `stringData`), or nothing.
    fn secret(&self, name: &str) -> Vec<Var> {
        let Some((oi, secret)) = self.find(self.secrets, name) else {
            return Vec::new();
        };
        let o = &self.objs[*oi];
        let mut all: BTreeMap<String, String> = secret
            .data
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
            .collect();
        all.extend(secret.string_data.clone().unwrap_or_default());
        all.into_iter()
            .map(|(k, v)| Var {
                prov: o.prov(&["metadata", "name"], &format!("Secret {name} key {k}")),
                name: k,
                value: v,
                secret: true,
            })
            .collect()
    }
}

/// The references of one container: its environment as the kubelet builds it (`envFrom` first,
/// then `env` in order, each `$(VAR)` expanded from the variables before it), then its command
/// and arguments with the same expansion.
fn container_refs(o: &Obj<'_>, c: &Container, list: &str, sources: &Sources<'_>, s: &mut SvcDraft) {
    let base = ["spec", "template", "spec"];
    let cstep = format!("name: {}", c.name);
    let mut env: Vec<Var> = Vec::new();
    let set = |env: &mut Vec<Var>, var: Var| {
        env.retain(|v| v.name != var.name);
        env.push(var);
    };
    for from in c.env_from.clone().unwrap_or_default() {
        let prefix = from.prefix.clone().unwrap_or_default();
        let vars = match (&from.config_map_ref, &from.secret_ref) {
            (Some(r), _) => sources.config_map(&r.name),
            (None, Some(r)) => sources.secret(&r.name),
            (None, None) => Vec::new(),
        };
        for mut var in vars {
            var.name = format!("{prefix}{}", var.name);
            set(&mut env, var);
        }
    }
    for e in c.env.clone().unwrap_or_default() {
        let estep = format!("name: {}", e.name);
        let path = [base[0], base[1], base[2], list, &cstep, "env", &estep];
        let from = e.value_from.as_ref();
        let var = if let Some(v) = &e.value {
            Some(Var {
                name: e.name.clone(),
                value: expand(v, &env),
                prov: o.prov(&path, &format!("env {}", e.name)),
                secret: env_uses_secret(v, &env),
            })
        } else if let Some(r) = from.and_then(|f| f.config_map_key_ref.as_ref()) {
            sources
                .config_map(&r.name)
                .into_iter()
                .find(|v| v.name == r.key)
                .map(|v| Var {
                    name: e.name.clone(),
                    ..v
                })
        } else if let Some(r) = from.and_then(|f| f.secret_key_ref.as_ref()) {
            sources
                .secret(&r.name)
                .into_iter()
                .find(|v| v.name == r.key)
                .map(|v| Var {
                    name: e.name.clone(),
                    ..v
                })
        } else {
            None
        };
        if let Some(var) = var {
            set(&mut env, var);
        }
    }
    for var in &env {
        refs_of(var, s);
    }
    let words: Vec<String> = c
        .command
        .clone()
        .unwrap_or_default()
        .into_iter()
        .chain(c.args.clone().unwrap_or_default())
        .map(|w| expand(&w, &env))
        .collect();
    let prov = o.prov(&[base[0], base[1], base[2], list, &cstep], "args");
    for h in hosts::in_words(&words) {
        s.refs.push(Ref {
            target: Target::Host(h.host),
            port: h.port,
            prov: prov.clone(),
        });
    }
}

/// The references a variable's value names; a Secret's hosts are marked so that no message
/// shows them.
fn refs_of(var: &Var, s: &mut SvcDraft) {
    for h in hosts::find(Some(&var.name), &var.value) {
        s.refs.push(Ref {
            target: if var.secret {
                Target::SecretHost(h.host)
            } else {
                Target::Host(h.host)
            },
            port: h.port,
            prov: var.prov.clone(),
        });
    }
}

/// `$(VAR)` expanded as the kubelet expands it: from the variables defined before, `$$` for a
/// literal `$`, and a reference to an undefined variable left as written.
fn expand(text: &str, env: &[Var]) -> String {
    if !text.contains('$') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('(')
            && let Some(end) = body.find(')')
        {
            let name = &body[..end];
            match env.iter().rev().find(|v| v.name == name) {
                Some(v) => out.push_str(&v.value),
                None => out.push_str(&rest[i..i + 3 + end]),
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Whether `$(VAR)` references in `text` take a Secret's value.
fn env_uses_secret(text: &str, env: &[Var]) -> bool {
    env.iter()
        .any(|v| v.secret && text.contains(&format!("$({})", v.name)))
}

fn resources(
    main: &Container,
    o: &Obj<'_>,
    s: &mut SvcDraft,
    name: &str,
    unknowns: &mut Vec<String>,
) {
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

fn platform_hints(o: &Obj<'_>, found: &mut BTreeMap<Platform, Prov>) {
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
fn internal_lb(o: &Obj<'_>) -> bool {
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
