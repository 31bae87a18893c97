//! Read stage of `verify`: manifest files, folders and standard input → [`Manifests`].
//!
//! Files are parsed document by document into the real Kubernetes types (`k8s-openapi`), then
//! validated as the API server would and reduced to what NetworkPolicy semantics need. Unknown
//! kinds and documents that are not Kubernetes objects (no `kind`) are ignored; bad YAML or an
//! invalid object is an [`Error::Invalid`] naming the file, the document and the line. Only
//! regular files are read: a FIFO or device among the inputs is refused before it is opened.
//! This module does not evaluate policies.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};

use ipnet::IpNet;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Namespace, Pod, PodSpec};
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_yaml_ng::Value;

use crate::diagnostic::{Code, Error, Problem, Source};
use crate::model::Protocol;
use crate::verify::locate;
use crate::verify::manifest::{
    ContainerPort, Labels, Manifests, Origin, Peer, Policy, PortRule, Requirement, Rule, Selector,
    Unevaluated, Workload,
};
use crate::verify::sets::AddrSet;

/// The label every namespace carries automatically.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Where the inputs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file or a folder (read recursively for `*.yaml` and `*.yml`).
    Path(PathBuf),
    /// Standard input.
    Stdin,
}

impl Input {
    /// `-` means standard input; anything else is a path.
    pub fn parse(arg: &Path) -> Input {
        if arg == Path::new("-") {
            Input::Stdin
        } else {
            Input::Path(arg.to_path_buf())
        }
    }
}

/// The display name of standard input in messages.
pub const STDIN_NAME: &str = "<stdin>";

/// Reads every input; `stdin` supplies standard input when `-` is among them. Files are
/// parsed on every core and merged in input order as they arrive, so the result and the
/// first error reported do not depend on timing, and a file's text is freed once it is merged
/// (only a duplicate found while merging it needs the text, to show where).
pub fn read_inputs(inputs: &[Input], stdin: &mut dyn Read) -> Result<Manifests, Error> {
    enum Job {
        Stdin(Vec<u8>),
        File(PathBuf),
    }
    type Parsed = Result<(Source, FileItems), Error>;
    let mut jobs = Vec::new();
    let mut stdin_read = false;
    for input in inputs {
        match input {
            Input::Stdin if stdin_read => {}
            Input::Stdin => {
                stdin_read = true;
                let mut bytes = Vec::new();
                stdin.read_to_end(&mut bytes).map_err(|source| Error::Io {
                    action: "read",
                    path: PathBuf::from(STDIN_NAME),
                    source,
                })?;
                jobs.push(Job::Stdin(bytes));
            }
            Input::Path(path) => jobs.extend(manifest_files(path)?.into_iter().map(Job::File)),
        }
    }
    let run = |job: Job| -> Parsed {
        match job {
            Job::Stdin(bytes) => parse_file(Path::new(STDIN_NAME), bytes),
            Job::File(file) => {
                let bytes = std::fs::read(&file).map_err(|source| Error::Io {
                    action: "read",
                    path: file.clone(),
                    source,
                })?;
                parse_file(&file, bytes)
            }
        }
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(jobs.len().max(1));
    let jobs: Vec<Mutex<Option<Job>>> = jobs.into_iter().map(|j| Mutex::new(Some(j))).collect();
    let next = AtomicUsize::new(0);
    // Set on the first error: the workers stop taking files.
    let stop = AtomicBool::new(false);
    let (sender, receiver) = mpsc::channel::<(usize, Parsed)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let (jobs, next, stop) = (&jobs, &next, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = jobs.get(i) else { break };
                    let job = slot
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .take();
                    let Some(job) = job else { break };
                    // The merger has stopped listening after an error: nothing more to do.
                    if sender.send((i, run(job))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        // Files that finished before those ahead of them wait here for their turn.
        let mut waiting = BTreeMap::new();
        let mut merger = Merger::default();
        let mut turn = 0;
        for (i, parsed) in receiver {
            waiting.insert(i, parsed);
            while let Some(parsed) = waiting.remove(&turn) {
                turn += 1;
                if let Err(e) = parsed.and_then(|(source, items)| merger.add(&source, items)) {
                    stop.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
        Ok(merger.finish())
    })
}

/// Parses manifests held in memory (tests, benchmarks), as if read from `name`.
pub fn read_text(name: &str, text: &str) -> Result<Manifests, Error> {
    let (source, items) = parse_file(Path::new(name), text.as_bytes().to_vec())?;
    let mut merger = Merger::default();
    merger.add(&source, items)?;
    Ok(merger.finish())
}

fn not_regular(path: &Path) -> Error {
    Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source: std::io::Error::other(
            "not a regular file (a FIFO, socket or device); give files or folders, or `-` to read standard input",
        ),
    }
}

/// The manifest files a path names: itself, or every `*.yaml`/`*.yml` regular file below a
/// folder, sorted. Hidden folders and symbolic links to folders are not entered (no loops).
pub fn manifest_files(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    if !meta.is_dir() {
        return Err(not_regular(path));
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| Error::Io {
            action: "read",
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io {
                action: "read",
                path: dir.clone(),
                source,
            })?;
            let child = entry.path();
            let link = entry.file_type().is_ok_and(|t| t.is_symlink());
            let Ok(meta) = std::fs::metadata(&child) else {
                // A dangling link reads as nothing at all.
                continue;
            };
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if meta.is_dir() {
                if !link && !hidden {
                    stack.push(child);
                }
                continue;
            }
            let yaml = child.extension().is_some_and(|e| e == "yaml" || e == "yml");
            if !yaml {
                continue;
            }
            if !meta.is_file() {
                return Err(not_regular(&child));
            }
            files.push(child);
        }
    }
    files.sort();
    Ok(files)
}

/// One YAML document of a file.
struct Doc<'a> {
    source: &'a Source,
    /// The document text.
    text: &'a str,
    /// Byte offset of `text` in the file.
    offset: usize,
    /// 1-based document number.
    number: usize,
}

impl Doc<'_> {
    fn origin(&self) -> Origin {
        Origin {
            file: self.source.path().to_path_buf(),
            document: self.number,
            line: self
                .source
                .line_col(self.offset + first_content(self.text))
                .0,
        }
    }

    /// The span of the document's first content line.
    fn head(&self) -> Range<usize> {
        let start = first_content(self.text);
        let end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |n| start + n);
        self.offset + start..self.offset + end
    }

    /// The span of the first occurrence of `needle` in the document, else its first line.
    fn find(&self, needle: &str) -> Range<usize> {
        match self.text.find(needle) {
            Some(at) if !needle.is_empty() => self.offset + at..self.offset + at + needle.len(),
            _ => self.head(),
        }
    }

    fn problem(&self, code: Code, span: Range<usize>, message: impl Into<String>) -> Problem {
        Problem::new(
            code,
            span,
            format!("document {}: {}", self.number, message.into()),
        )
    }
}

/// Offset of the first line that is not blank, a comment or a `---` marker.
fn first_content(text: &str) -> usize {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if !(t.is_empty() || t.starts_with('#') || t.starts_with("---")) {
            return at;
        }
        at += line.len();
    }
    0
}

/// True when a line starts a new YAML document (`---` at column 0).
fn is_marker(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Splits a YAML stream into its documents, each with its byte offset.
fn documents(text: &str) -> Vec<(usize, &str)> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if is_marker(line) && at > start {
            docs.push((start, &text[start..at]));
            start = at;
        }
        at += line.len();
    }
    if start < text.len() {
        docs.push((start, &text[start..]));
    }
    docs
}

/// The message of a YAML error without its position (we report positions in the whole file).
fn yaml_message(err: &serde_yaml_ng::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// The kind and name of the object that controls a workload (its `ownerReferences` entry with
/// `controller: true`).
type Controller = (String, String);

/// What one file holds, in document order; duplicates are found when files are merged.
#[derive(Default)]
struct FileItems {
    namespaces: Vec<(String, Labels)>,
    /// Each with the span of its document's first line, and the kind and name of its
    /// controller, if it has one.
    workloads: Vec<(Workload, Range<usize>, Option<Controller>)>,
    policies: Vec<(Policy, Range<usize>)>,
    unevaluated: Vec<Unevaluated>,
}

/// Reads one file's documents into items.
#[derive(Default)]
struct Builder {
    items: FileItems,
    /// While a `List` document is read: where each of its entries is written, when its
    /// layout could be read (see [`locate`]).
    entries: Option<Vec<Range<usize>>>,
}

/// Parses one file into its items.
fn parse_file(path: &Path, bytes: Vec<u8>) -> Result<(Source, FileItems), Error> {
    Builder::default().add_file(path, bytes)
}

impl Builder {
    fn add_file(mut self, path: &Path, bytes: Vec<u8>) -> Result<(Source, FileItems), Error> {
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let source = Source::new(path, String::from_utf8_lossy(e.as_bytes()).into_owned());
                return Err(Error::invalid(
                    &source,
                    vec![
                        Problem::new(Code::Encoding, at..at + 1, "the file is not valid UTF-8")
                            .help("save the manifest as UTF-8"),
                    ],
                ));
            }
        };
        let source = Source::new(path, text);
        let mut problems = Vec::new();
        let mut number = 0;
        for (offset, text) in documents(source.text()) {
            let only_markers = text.lines().all(|l| {
                l.trim().is_empty()
                    || l.trim_start().starts_with('#')
                    || l.trim() == "---"
                    || l.trim() == "..."
            });
            if only_markers {
                continue;
            }
            number += 1;
            let doc = Doc {
                source: &source,
                text,
                offset,
                number,
            };
            if let Err(problem) = self.add_document(&doc) {
                problems.push(*problem);
            }
        }
        if problems.is_empty() {
            Ok((source, self.items))
        } else {
            Err(Error::invalid(&source, problems))
        }
    }

    fn add_document(&mut self, doc: &Doc<'_>) -> Result<(), Box<Problem>> {
        // libyaml takes quadratic time on deeply nested flow collections (`[[[[...`); no
        // manifest nests like that, so refuse before parsing.
        if let Some(at) = too_deep(doc.text, MAX_FLOW_DEPTH) {
            let start = doc.offset + at;
            return Err(Box::new(
                doc.problem(
                    Code::Syntax,
                    start..start + 1,
                    format!("flow collections nested deeper than {MAX_FLOW_DEPTH} levels"),
                )
                .label("too deep"),
            ));
        }
        // Most documents say what they are on top-level lines: parse those once, straight
        // into their type. Anything else (or a failure, to report it exactly) takes the
        // general path through a YAML value.
        if let Some((api_version, kind)) = peek_kind(doc.text) {
            if Builder::known(api_version, kind) {
                // An object is pushed only once it is complete, so a failure leaves nothing
                // behind.
                if self.add_object(doc, api_version, kind, None, None).is_ok() {
                    return Ok(());
                }
            } else if !kind.ends_with("List")
                && !Unevaluated::is_unevaluated_kind(api_version, kind)
                && ignored(doc.text, api_version, kind)
            {
                return Ok(());
            }
        }
        let value: Value = serde_yaml_ng::from_str(doc.text).map_err(|e| {
            let start = doc.offset + crate::yaml::error_offset(doc.text, &e);
            doc.problem(Code::Syntax, start..start + 1, yaml_message(&e))
                .label("invalid YAML")
        })?;
        self.add_value(doc, &value, None)
    }

    /// Adds one object; `item` is its index when it comes from a `List`.
    fn add_value(
        &mut self,
        doc: &Doc<'_>,
        value: &Value,
        item: Option<usize>,
    ) -> Result<(), Box<Problem>> {
        let Value::Mapping(map) = value else {
            if value.is_null() {
                return Ok(());
            }
            return Err(Box::new(
                doc.problem(
                    Code::WrongType,
                    doc.head(),
                    "not a Kubernetes object (a mapping with apiVersion and kind)",
                )
                .help("each YAML document must be one object, or a `kind: List` of objects"),
            ));
        };
        let field = |name: &str| map.get(name).and_then(Value::as_str).unwrap_or("");
        let (api_version, kind) = (field("apiVersion"), field("kind"));
        if kind.ends_with("List")
            && let Some(Value::Sequence(items)) = map.get("items")
        {
            // Entry positions are read for the outermost List only; a List nested in one
            // points at its outer entry's document.
            self.entries = match item {
                None => locate::list_items(doc.text).filter(|e| e.len() == items.len()),
                Some(_) => None,
            };
            let result = items
                .iter()
                .enumerate()
                .try_for_each(|(i, entry)| self.add_value(doc, entry, Some(i)));
            self.entries = None;
            return result;
        }
        self.add_object(doc, api_version, kind, Some(value), item)
    }

    /// True when `add_object` reads this kind (the others are ignored).
    fn known(api_version: &str, kind: &str) -> bool {
        matches!(
            (api_version, kind),
            ("v1", "Namespace" | "Pod")
                | (
                    "apps/v1",
                    "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"
                )
                | ("batch/v1", "Job" | "CronJob")
                | ("networking.k8s.io/v1", "NetworkPolicy")
        )
    }

    /// Adds one object of a known kind: from `value` when it is a `List` item, else parsed
    /// straight from the document text.
    fn add_object(
        &mut self,
        doc: &Doc<'_>,
        api_version: &str,
        kind: &str,
        value: Option<&Value>,
        item: Option<usize>,
    ) -> Result<(), Box<Problem>> {
        match (api_version, kind) {
            ("v1", "Namespace") => {
                let ns: Namespace = typed(doc, value, item)?;
                let name = required_name(doc, &ns.metadata, item)?;
                let mut labels = ns.metadata.labels.unwrap_or_default();
                labels.insert(NAMESPACE_NAME_LABEL.to_string(), name.clone());
                self.items.namespaces.push((name, labels));
            }
            ("v1", "Pod") => {
                let pod: Pod = typed(doc, value, item)?;
                let labels = pod.metadata.labels.clone().unwrap_or_default();
                self.add_workload(doc, "Pod", &pod.metadata, labels, pod.spec.as_ref(), item)?;
            }
            ("apps/v1", "Deployment") => {
                let o: Deployment = typed(doc, value, item)?;
                let t = o.spec.map(|s| s.template);
                self.add_template(doc, "Deployment", &o.metadata, t, item)?;
            }
            ("apps/v1", "ReplicaSet") => {
                let o: ReplicaSet = typed(doc, value, item)?;
                let t = o.spec.and_then(|s| s.template);
                self.add_template(doc, "ReplicaSet", &o.metadata, t, item)?;
            }
            ("apps/v1", "StatefulSet") => {
                let o: StatefulSet = typed(doc, value, item)?;
                let t = o.spec.map(|s| s.template);
                self.add_template(doc, "StatefulSet", &o.metadata, t, item)?;
            }
            ("apps/v1", "DaemonSet") => {
                let o: DaemonSet = typed(doc, value, item)?;
                let t = o.spec.map(|s| s.template);
                self.add_template(doc, "DaemonSet", &o.metadata, t, item)?;
            }
            ("batch/v1", "Job") => {
                let o: Job = typed(doc, value, item)?;
                let t = o.spec.map(|s| s.template);
                self.add_template(doc, "Job", &o.metadata, t, item)?;
            }
            ("batch/v1", "CronJob") => {
                let o: CronJob = typed(doc, value, item)?;
                let t = o.spec.and_then(|s| s.job_template.spec).map(|s| s.template);
                self.add_template(doc, "CronJob", &o.metadata, t, item)?;
            }
            ("networking.k8s.io/v1", "NetworkPolicy") => {
                let p: net::NetworkPolicy = typed(doc, value, item)?;
                self.add_policy(doc, p, item)?;
            }
            _ if Unevaluated::is_unevaluated_kind(api_version, kind) => {
                let meta = value.and_then(|v| v.get("metadata"));
                let field = |key: &str| meta.and_then(|m| m.get(key)).and_then(Value::as_str);
                self.items.unevaluated.push(Unevaluated {
                    kind: format!("{api_version}/{kind}"),
                    namespace: field("namespace").map(str::to_string),
                    name: field("name").unwrap_or_default().to_string(),
                    origin: self.origin(doc, item),
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// The text of the object being read and its offset in the document: the document, or
    /// its entry in a `List` when that could be located.
    fn object_text<'d>(&self, doc: &Doc<'d>, item: Option<usize>) -> Option<(usize, &'d str)> {
        match item {
            None => Some((0, doc.text)),
            Some(i) => {
                let range = self.entries.as_ref()?.get(i)?.clone();
                Some((range.start, doc.text.get(range.clone())?))
            }
        }
    }

    /// Where the object being read starts.
    fn origin(&self, doc: &Doc<'_>, item: Option<usize>) -> Origin {
        let mut origin = doc.origin();
        if let (Some(_), Some((at, _))) = (item, self.object_text(doc, item)) {
            origin.line = doc.source.line_col(doc.offset + at).0;
        }
        origin
    }

    fn add_template(
        &mut self,
        doc: &Doc<'_>,
        kind: &'static str,
        meta: &ObjectMeta,
        template: Option<k8s_openapi::api::core::v1::PodTemplateSpec>,
        item: Option<usize>,
    ) -> Result<(), Box<Problem>> {
        let template = template.unwrap_or_default();
        let labels = template.metadata.and_then(|m| m.labels).unwrap_or_default();
        self.add_workload(doc, kind, meta, labels, template.spec.as_ref(), item)
    }

    fn add_workload(
        &mut self,
        doc: &Doc<'_>,
        kind: &'static str,
        meta: &ObjectMeta,
        labels: Labels,
        spec: Option<&PodSpec>,
        item: Option<usize>,
    ) -> Result<(), Box<Problem>> {
        // Pods of a ReplicaSet, ReplicaSets of a Deployment, Jobs of a CronJob: when their
        // controller is read too (`kubectl get deploy,rs,pod`), they are left out once all
        // files are merged, so as not to count them twice.
        let controller = meta
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true))
            .map(|o| (o.kind.clone(), o.name.clone()));
        let name = required_name(doc, meta, item)?;
        let namespace = meta.namespace.clone().unwrap_or_else(|| "default".into());
        let mut ports = Vec::new();
        for container in spec.iter().flat_map(|s| &s.containers) {
            for p in container.ports.iter().flatten() {
                let port = u16::try_from(p.container_port)
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| {
                        doc.problem(
                            Code::InvalidPort,
                            doc.find(&format!("containerPort: {}", p.container_port)),
                            format!(
                                "{kind} {namespace}/{name}: containerPort {} is outside 1..65535",
                                p.container_port
                            ),
                        )
                    })?;
                let protocol = protocol(doc, p.protocol.as_deref())?;
                ports.push(ContainerPort {
                    port,
                    protocol,
                    name: p.name.clone(),
                });
            }
        }
        ports.sort();
        ports.dedup();
        let workload = Workload {
            namespace,
            name,
            kind,
            labels,
            ports,
            origin: self.origin(doc, item),
        };
        self.items
            .workloads
            .push((workload, doc.head(), controller));
        Ok(())
    }

    fn add_policy(
        &mut self,
        doc: &Doc<'_>,
        policy: net::NetworkPolicy,
        item: Option<usize>,
    ) -> Result<(), Box<Problem>> {
        let name = required_name(doc, &policy.metadata, item)?;
        let namespace = policy
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let spec = policy.spec.unwrap_or_default();
        let selector = selector(doc, spec.pod_selector.as_ref())?;
        let ingress_rules = spec.ingress.unwrap_or_default();
        let egress_rules = spec.egress.unwrap_or_default();
        // Kubernetes defaulting: Ingress always, Egress when egress rules are given.
        let (has_ingress, has_egress) = match &spec.policy_types {
            None => (true, !egress_rules.is_empty()),
            Some(types) => {
                for t in types {
                    if t != "Ingress" && t != "Egress" {
                        return Err(Box::new(
                            doc.problem(
                                Code::InvalidValue,
                                doc.find(t),
                                format!(
                                    "NetworkPolicy {namespace}/{name}: unknown policyType {t:?}"
                                ),
                            )
                            .help("policyTypes lists Ingress and/or Egress"),
                        ));
                    }
                }
                (
                    types.iter().any(|t| t == "Ingress"),
                    types.iter().any(|t| t == "Egress"),
                )
            }
        };
        let origin = self.origin(doc, item);
        // Each rule's own line, when one entry per rule is found; else the policy's line.
        let (ingress_at, egress_at) = match self.object_text(doc, item) {
            Some((base, text)) => {
                let (i, e) = locate::rule_offsets(text);
                let lines = |offsets: Option<Vec<usize>>, count: usize| {
                    offsets.filter(|o| o.len() == count).map(|o| {
                        o.into_iter()
                            .map(|at| doc.source.line_col(doc.offset + base + at).0)
                            .collect::<Vec<_>>()
                    })
                };
                (lines(i, ingress_rules.len()), lines(e, egress_rules.len()))
            }
            None => (None, None),
        };
        let line = |lines: &Option<Vec<usize>>, n: usize| {
            lines
                .as_ref()
                .and_then(|l| l.get(n).copied())
                .unwrap_or(origin.line)
        };
        let ingress = if has_ingress {
            let mut rules = Vec::new();
            for (n, r) in ingress_rules.into_iter().enumerate() {
                rules.push(rule(doc, r.from, r.ports, line(&ingress_at, n))?);
            }
            Some(rules)
        } else {
            None
        };
        let egress = if has_egress {
            let mut rules = Vec::new();
            for (n, r) in egress_rules.into_iter().enumerate() {
                rules.push(rule(doc, r.to, r.ports, line(&egress_at, n))?);
            }
            Some(rules)
        } else {
            None
        };
        self.items.policies.push((
            Policy {
                namespace,
                name,
                selector,
                ingress,
                egress,
                origin,
            },
            doc.head(),
        ));
        Ok(())
    }
}

/// The items of every file, merged in file order: namespaces' labels are united, and a
/// workload or policy defined twice is an error located at the second definition.
#[derive(Default)]
struct Merger {
    namespaces: BTreeMap<String, Labels>,
    workloads: BTreeMap<(String, String), Workload>,
    /// The controller (kind, name) of each workload that has one, by namespace and name.
    controllers: BTreeMap<(String, String), Controller>,
    policies: BTreeMap<(String, String), Policy>,
    unevaluated: Vec<Unevaluated>,
}

impl Merger {
    /// Adds the items of the next file; `source` is that file, for the error.
    fn add(&mut self, source: &Source, items: FileItems) -> Result<(), Error> {
        for (name, labels) in items.namespaces {
            self.namespaces.entry(name).or_default().extend(labels);
        }
        for (w, head, controller) in items.workloads {
            let key = (w.namespace.clone(), w.name.clone());
            if let Some(first) = self.workloads.get(&key) {
                let problem = Problem::new(
                    Code::Duplicate,
                    head,
                    format!(
                        "document {}: two workloads are named {}/{}: a {} in {} (document {}) and this {}",
                        w.origin.document,
                        w.namespace,
                        w.name,
                        first.kind,
                        first.origin.file.display(),
                        first.origin.document,
                        w.kind
                    ),
                )
                .help("workloads are identified by namespace and name; read each object once");
                return Err(Error::invalid(source, vec![problem]));
            }
            if let Some(controller) = controller {
                self.controllers.insert(key.clone(), controller);
            }
            self.workloads.insert(key, w);
        }
        for (p, head) in items.policies {
            let key = (p.namespace.clone(), p.name.clone());
            if let Some(first) = self.policies.get(&key) {
                let problem = Problem::new(
                    Code::Duplicate,
                    head,
                    format!(
                        "document {}: NetworkPolicy {}/{} is defined twice (first in {} document {})",
                        p.origin.document,
                        p.namespace,
                        p.name,
                        first.origin.file.display(),
                        first.origin.document
                    ),
                );
                return Err(Error::invalid(source, vec![problem]));
            }
            self.policies.insert(key, p);
        }
        self.unevaluated.extend(items.unevaluated);
        Ok(())
    }

    /// The manifests: every namespace an object names exists, with its automatic label, and a
    /// workload whose controller was read too is left out (its pods are the controller's). One
    /// whose controller was not read stays: `kubectl get pods` alone, or pods of a kind `verify`
    /// does not read (an operator's, a rollout tool's), must not vanish from the connectivity.
    fn finish(self) -> Manifests {
        let Merger {
            mut namespaces,
            mut workloads,
            controllers,
            policies,
            unevaluated,
        } = self;
        let read: BTreeSet<(&str, &str, &str)> = workloads
            .values()
            .map(|w| (w.namespace.as_str(), w.kind, w.name.as_str()))
            .collect();
        let covered: Vec<(String, String)> = controllers
            .iter()
            .filter(|((ns, _), (kind, name))| {
                read.contains(&(ns.as_str(), kind.as_str(), name.as_str()))
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in covered {
            workloads.remove(&key);
        }
        let named = workloads
            .values()
            .map(|w| &w.namespace)
            .chain(policies.values().map(|p| &p.namespace));
        for ns in named {
            if !namespaces.contains_key(ns) {
                let labels = namespaces.entry(ns.clone()).or_default();
                labels.insert(NAMESPACE_NAME_LABEL.to_string(), ns.clone());
            }
        }
        Manifests {
            namespaces,
            workloads: workloads.into_values().collect(),
            policies: policies.into_values().collect(),
            unevaluated,
        }
    }
}

/// The deepest nesting of `[`/`{` a document may have.
const MAX_FLOW_DEPTH: usize = 256;

/// The offset where `[`/`{` outside quotes and comments first nest deeper than `limit`.
fn too_deep(text: &str, limit: usize) -> Option<usize> {
    // Fewer openers than the limit cannot nest deeper than it: one quick count spares most
    // documents the scan.
    let openers = text.bytes().filter(|b| matches!(b, b'[' | b'{')).count();
    if openers <= limit {
        return None;
    }
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut comment = false;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if comment {
            comment = b != b'\n';
            continue;
        }
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'#') if i == 0 || bytes[i - 1].is_ascii_whitespace() => comment = true,
            (None, b'[' | b'{') => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
            }
            (None, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The top-level `apiVersion` and `kind` of a block-style document, read from its lines
/// without parsing it; `None` when either is not written that way.
fn peek_kind(text: &str) -> Option<(&str, &str)> {
    fn value(rest: &str) -> Option<&str> {
        let rest = rest.split(" #").next().unwrap_or("").trim();
        let rest = rest
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .or_else(|| rest.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')))
            .unwrap_or(rest);
        let plain = rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '/');
        (!rest.is_empty() && plain).then_some(rest)
    }
    let mut api_version = None;
    let mut kind = None;
    // Both usually open the document: stop there. A second `kind:` further down would make
    // the typed parse fail, and the general path report it.
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("apiVersion:") {
            api_version = Some(value(rest)?);
        } else if let Some(rest) = line.strip_prefix("kind:") {
            kind = Some(value(rest)?);
        }
        if let (Some(api_version), Some(kind)) = (api_version, kind) {
            return Some((api_version, kind));
        }
    }
    None
}

/// The two fields that say what an object is; serde skips the rest without building it.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
}

/// True when the document is well-formed YAML holding an object of the kind its lines say,
/// one `verify` does not read (a Service, a Kustomization, ...). The syntax is still checked
/// in full, but no value is built for it: in a generated layout these are a third of the
/// documents. Anything else (a failure included) takes the general path, which reports it.
/// A key repeated deep inside such an ignored object is not reported (the general path's
/// `Value` refused it); the typed path does not check that either, in label maps for one.
fn ignored(text: &str, api_version: &str, kind: &str) -> bool {
    serde_yaml_ng::from_str::<Head>(text)
        .is_ok_and(|head| head.api_version == api_version && head.kind == kind)
}

/// Deserializes an object into its Kubernetes type, with the error located in the file.
fn typed<T: DeserializeOwned>(
    doc: &Doc<'_>,
    value: Option<&Value>,
    item: Option<usize>,
) -> Result<T, Box<Problem>> {
    let result = match (item, value) {
        (Some(_), Some(value)) => serde_yaml_ng::from_value::<T>(value.clone()),
        // The document text itself: errors then carry their position.
        _ => serde_yaml_ng::from_str::<T>(doc.text),
    };
    result.map_err(|e| {
        let span = match (item, e.location()) {
            (None, Some(l)) => {
                let at = doc.offset + l.index().min(doc.text.len());
                at..at + 1
            }
            _ => doc.head(),
        };
        let prefix = item.map_or_else(String::new, |i| format!("item {}: ", i + 1));
        doc.problem(
            Code::WrongType,
            span,
            format!("{prefix}{}", yaml_message(&e)),
        )
        .label("not a valid Kubernetes object")
        .into()
    })
}

fn required_name(
    doc: &Doc<'_>,
    meta: &ObjectMeta,
    item: Option<usize>,
) -> Result<String, Box<Problem>> {
    match meta.name.as_deref() {
        Some(name) if !name.is_empty() => Ok(name.to_string()),
        _ => {
            let prefix = item.map_or_else(String::new, |i| format!("item {}: ", i + 1));
            Err(Box::new(
                doc.problem(
                    Code::MissingKey,
                    doc.head(),
                    format!("{prefix}the object has no metadata.name"),
                )
                .help("every object needs a name"),
            ))
        }
    }
}

fn protocol(doc: &Doc<'_>, text: Option<&str>) -> Result<Protocol, Box<Problem>> {
    match text {
        None | Some("TCP") => Ok(Protocol::Tcp),
        Some("UDP") => Ok(Protocol::Udp),
        Some("SCTP") => Ok(Protocol::Sctp),
        Some(other) => Err(Box::new(
            doc.problem(
                Code::InvalidValue,
                doc.find(other),
                format!("unknown protocol {other:?}"),
            )
            .help("use TCP, UDP or SCTP"),
        )),
    }
}

fn selector(doc: &Doc<'_>, selector: Option<&LabelSelector>) -> Result<Selector, Box<Problem>> {
    let mut requirements = Vec::new();
    let Some(selector) = selector else {
        return Ok(Selector { requirements });
    };
    for (key, value) in selector.match_labels.iter().flatten() {
        requirements.push(Requirement::In(key.clone(), vec![value.clone()]));
    }
    for expr in selector.match_expressions.iter().flatten() {
        let values = expr.values.clone().unwrap_or_default();
        let key = expr.key.clone();
        let requirement = match expr.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => {
                return Err(Box::new(
                    doc.problem(
                        Code::InvalidValue,
                        doc.find(&expr.operator),
                        format!(
                            "operator {} on {key:?} needs at least one value",
                            expr.operator
                        ),
                    )
                    .help("list the values, or use Exists/DoesNotExist"),
                ));
            }
            "Exists" | "DoesNotExist" if !values.is_empty() => {
                return Err(Box::new(
                    doc.problem(
                        Code::InvalidValue,
                        doc.find(&expr.operator),
                        format!("operator {} on {key:?} takes no values", expr.operator),
                    )
                    .help("remove `values`, or use In/NotIn"),
                ));
            }
            "In" => Requirement::In(key, values),
            "NotIn" => Requirement::NotIn(key, values),
            "Exists" => Requirement::Exists(key),
            "DoesNotExist" => Requirement::DoesNotExist(key),
            other => {
                return Err(Box::new(
                    doc.problem(
                        Code::InvalidValue,
                        doc.find(other),
                        format!("unknown selector operator {other:?}"),
                    )
                    .help("use In, NotIn, Exists or DoesNotExist"),
                ));
            }
        };
        requirements.push(requirement);
    }
    Ok(Selector { requirements })
}

fn rule(
    doc: &Doc<'_>,
    peers: Option<Vec<net::NetworkPolicyPeer>>,
    ports: Option<Vec<net::NetworkPolicyPort>>,
    line: usize,
) -> Result<Rule, Box<Problem>> {
    let peers = match peers {
        Some(list) if !list.is_empty() => {
            let mut out = Vec::new();
            for p in list {
                out.push(peer(doc, p)?);
            }
            Some(out)
        }
        _ => None,
    };
    let ports = match ports {
        Some(list) if !list.is_empty() => {
            let mut out = Vec::new();
            for p in list {
                out.push(port_rule(doc, p)?);
            }
            Some(out)
        }
        _ => None,
    };
    Ok(Rule { peers, ports, line })
}

fn peer(doc: &Doc<'_>, peer: net::NetworkPolicyPeer) -> Result<Peer, Box<Problem>> {
    match peer {
        net::NetworkPolicyPeer {
            ip_block: Some(block),
            namespace_selector: None,
            pod_selector: None,
        } => {
            let cidr = parse_cidr(doc, &block.cidr)?;
            let mut set = AddrSet::net(&cidr);
            for except in block.except.iter().flatten() {
                let e = parse_cidr(doc, except)?;
                let inside = match (cidr, e) {
                    (IpNet::V4(c), IpNet::V4(x)) => c.contains(&x) && c != x,
                    (IpNet::V6(c), IpNet::V6(x)) => c.contains(&x) && c != x,
                    _ => false,
                };
                if !inside {
                    return Err(Box::new(doc
                        .problem(
                            Code::InvalidCidr,
                            doc.find(except),
                            format!("except {except} is not strictly inside {}", block.cidr),
                        )
                        .help("an except block must be a proper sub-range of the ipBlock cidr")));
                }
                set = set.difference(&AddrSet::net(&e));
            }
            Ok(Peer::Block {
                cidr,
                allowed: set,
            })
        }
        net::NetworkPolicyPeer { ip_block: Some(block), .. } => Err(Box::new(doc
            .problem(
                Code::InvalidValue,
                doc.find(&block.cidr),
                "a peer with ipBlock cannot also have podSelector or namespaceSelector",
            )
            .help("split it into two peers"))),
        net::NetworkPolicyPeer {
            ip_block: None,
            namespace_selector: None,
            pod_selector: None,
        } => Err(Box::new(doc
            .problem(Code::MissingKey, doc.head(), "a peer needs podSelector, namespaceSelector or ipBlock")
            .help("an empty peer `{}` is rejected by the API server; leave out `from`/`to` to match everything"))),
        net::NetworkPolicyPeer {
            ip_block: None,
            namespace_selector,
            pod_selector,
        } => Ok(Peer::Pods {
            namespaces: namespace_selector
                .as_ref()
                .map(|s| selector(doc, Some(s)))
                .transpose()?,
            pods: pod_selector
                .as_ref()
                .map(|s| selector(doc, Some(s)))
                .transpose()?,
        }),
    }
}

fn parse_cidr(doc: &Doc<'_>, text: &str) -> Result<IpNet, Box<Problem>> {
    let net: IpNet = text.parse().map_err(|_| {
        doc.problem(
            Code::InvalidCidr,
            doc.find(text),
            format!("{text:?} is not a CIDR block"),
        )
        .help("write an address and a prefix length, like 10.0.0.0/16 or 2001:db8::/32")
    })?;
    Ok(net.trunc())
}

fn port_rule(doc: &Doc<'_>, port: net::NetworkPolicyPort) -> Result<PortRule, Box<Problem>> {
    let protocol = protocol(doc, port.protocol.as_deref())?;
    let bad = |needle: String, message: String| {
        doc.problem(Code::InvalidPort, doc.find(&needle), message)
    };
    match (port.port, port.end_port) {
        (None, None) => Ok(PortRule::All(protocol)),
        (None, Some(end)) => Err(Box::new(bad(
            format!("endPort: {end}"),
            format!("endPort {end} without a port"),
        ))),
        (Some(IntOrString::String(name)), None) => {
            if name.is_empty() {
                return Err(Box::new(bad("port:".into(), "an empty port name".into())));
            }
            Ok(PortRule::Named(protocol, name))
        }
        (Some(IntOrString::String(name)), Some(_)) => Err(Box::new(bad(
            name.clone(),
            format!("endPort needs a numeric port, not the name {name:?}"),
        ))),
        (Some(IntOrString::Int(n)), end) => {
            let lo = u16::try_from(n).ok().filter(|p| *p >= 1).ok_or_else(|| {
                bad(
                    format!("port: {n}"),
                    format!("port {n} is outside 1..65535"),
                )
            })?;
            let hi = match end {
                None => lo,
                Some(e) => u16::try_from(e).ok().filter(|p| *p >= lo).ok_or_else(|| {
                    bad(
                        format!("endPort: {e}"),
                        format!("endPort {e} must be between port {lo} and 65535"),
                    )
                })?,
            };
            Ok(PortRule::Range(protocol, lo, hi))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_at_markers_only_at_column_zero() {
        let text = "a: 1\n---\nb: |\n  ---\n--- # c\nc: 3\n";
        let docs = documents(text);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[1].1, "---\nb: |\n  ---\n");
        assert_eq!(docs[2].0, text.find("--- # c").unwrap());
    }
}
