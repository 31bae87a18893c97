//! Read stage of `verify`: manifest files, folders and standard input → [`Manifests`].
//!
//! YAML and JSON files alike (JSON is read by the same YAML parser, which positions every
//! error), document by document, each into the [`raw`] type of its kind, which
//! [`validate`] checks as the API server would and reduces to the [`manifest`] types. Lists
//! (`kind: List`, and typed lists such as `PodList` whose items leave out `apiVersion` and
//! `kind`, as the API returns them) are read item by item. What is not read is never dropped
//! without a word: a kind that changes connectivity without being evaluated, a kind not known,
//! a document that is not an object each become a [`Skipped`] entry that the report names;
//! kinds known not to matter are counted. Bad YAML or an invalid object is an
//! [`Error::Invalid`] naming the file, the document and the line. Only regular files are read,
//! each up to [`MAX_INPUT`] bytes. This module does not evaluate policies.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};

use serde::de::{DeserializeOwned, IgnoredAny};
use serde_yaml_ng::Value;

use crate::diagnostic::{Code, Error, Problem, Source};
use crate::verify::kinds::{self, Class};
use crate::verify::locate;
use crate::verify::manifest::{
    AdminPolicy, Labels, Manifests, Origin, Policy, ServiceSelector, Skip, Skipped, Workload,
};
use crate::verify::raw::{self, ControllerSpec, Object, PodSpec, PolicySpec, ServiceSpec, Text};
use crate::verify::validate::{self, NameRule};

/// The label every namespace carries automatically.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The largest file (or standard input) read: a cluster's whole state as one
/// `kubectl get -A -o yaml` dump fits; anything larger is refused before it fills the memory.
pub const MAX_INPUT: u64 = 64 * 1024 * 1024;

/// Where the inputs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file or a folder (read recursively for `*.yaml`, `*.yml` and `*.json`).
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

/// How to read objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The namespace of objects that name none, as `kubectl apply -n` would put them.
    pub namespace: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            namespace: "default".into(),
        }
    }
}

/// The display name of standard input in messages.
pub const STDIN_NAME: &str = "<stdin>";

/// Reads every input; `stdin` supplies standard input when `-` is among them. Files are
/// parsed on every core and merged in input order as they arrive, so the result and the
/// first error reported do not depend on timing, and a file's text is freed once it is merged
/// (only a duplicate found while merging it needs the text, to show where). The workers are
/// threads of our own, not a rayon collect: the merge consumes files in order while later ones
/// are still parsed, and the first error stops the workers, neither of which a collect does.
pub fn read_inputs(
    inputs: &[Input],
    stdin: &mut dyn Read,
    options: &Options,
) -> Result<Manifests, Error> {
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
                jobs.push(Job::Stdin(read_limited(Path::new(STDIN_NAME), stdin)?));
            }
            Input::Path(path) => jobs.extend(manifest_files(path)?.into_iter().map(Job::File)),
        }
    }
    let run = |job: Job| -> Parsed {
        match job {
            Job::Stdin(bytes) => parse_file(Path::new(STDIN_NAME), bytes, options),
            Job::File(file) => {
                let bytes = read_file(&file)?;
                parse_file(&file, bytes, options)
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

/// Parses manifests held in memory (tests, benchmarks), as if read from `name`, with objects
/// that name no namespace in `default`.
pub fn read_text(name: &str, text: &str) -> Result<Manifests, Error> {
    merge_texts([parse_text(name, text)?])
}

/// Manifests parsed from memory and not merged yet, so that one parse can go into several
/// sets of manifests: `diff` parses the documents its two sides share once.
#[derive(Clone)]
pub struct ParsedText {
    source: Source,
    items: FileItems,
}

/// Parses manifests held in memory, as if read from `name`, with objects that name no
/// namespace in `default`.
pub fn parse_text(name: &str, text: &str) -> Result<ParsedText, Error> {
    let (source, items) = parse_file(
        Path::new(name),
        text.as_bytes().to_vec(),
        &Options::default(),
    )?;
    Ok(ParsedText { source, items })
}

/// The manifests of several parsed texts, merged in order as files are: an object in two of
/// them is a duplicate.
pub fn merge_texts(parts: impl IntoIterator<Item = ParsedText>) -> Result<Manifests, Error> {
    let mut merger = Merger::default();
    for part in parts {
        merger.add(&part.source, part.items)?;
    }
    Ok(merger.finish())
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    }
}

fn too_large(path: &Path) -> Error {
    io_error(
        path,
        std::io::Error::other(format!(
            "larger than {} MiB, the most verify reads from one input; split the manifests into several files (one per namespace, say)",
            MAX_INPUT / (1024 * 1024)
        )),
    )
}

/// Everything `reader` holds, up to [`MAX_INPUT`] bytes.
fn read_limited(path: &Path, reader: &mut dyn Read) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_INPUT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(too_large(path));
    }
    Ok(bytes)
}

/// A regular file's bytes, up to [`MAX_INPUT`]; anything that is not a regular file is refused
/// before it is opened (a FIFO would block the read).
fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if !meta.is_file() {
        return Err(not_regular(path));
    }
    if meta.len() > MAX_INPUT {
        return Err(too_large(path));
    }
    let mut file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    // The file may grow after the size was read.
    read_limited(path, &mut file)
}

fn not_regular(path: &Path) -> Error {
    io_error(
        path,
        std::io::Error::other(
            "not a regular file (a FIFO, socket or device); give files or folders, or `-` to read standard input",
        ),
    )
}

/// True for the file names a folder is searched for.
fn is_manifest_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
}

/// The manifest files a path names: itself, or every `*.yaml`/`*.yml`/`*.json` regular file
/// below a folder, sorted. Hidden folders and symbolic links to folders are not entered (no
/// loops); a link that leads nowhere among the manifests is an error, not an empty input.
pub fn manifest_files(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    if !meta.is_dir() {
        return Err(not_regular(path));
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| io_error(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&dir, e))?;
            let child = entry.path();
            let link = entry.file_type().is_ok_and(|t| t.is_symlink());
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            let meta = match std::fs::metadata(&child) {
                Ok(meta) => meta,
                Err(e) if is_manifest_name(&child) => return Err(io_error(&child, e)),
                // A dangling link that is not named like a manifest reads as nothing.
                Err(_) => continue,
            };
            if meta.is_dir() {
                if !link && !hidden {
                    stack.push(child);
                }
                continue;
            }
            if !is_manifest_name(&child) {
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
pub struct Doc<'a> {
    source: &'a Source,
    /// The document text.
    text: &'a str,
    /// Byte offset of `text` in the file.
    offset: usize,
    /// 1-based document number.
    number: usize,
}

/// The object being read: a whole document, or one item of a list in it. Problems found in it
/// point into its own text.
pub struct At<'a> {
    doc: &'a Doc<'a>,
    /// The item's index when the object is an item of a list.
    item: Option<usize>,
    /// The object's text within the document, when known (an item whose place in the list was
    /// not found is searched for in the whole document).
    range: Range<usize>,
}

impl At<'_> {
    /// The object's text.
    fn text(&self) -> &str {
        &self.doc.text[self.range.clone()]
    }

    /// The span of the object's first content line.
    pub fn head(&self) -> Range<usize> {
        let text = self.text();
        let start = first_content(text);
        let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
        let base = self.doc.offset + self.range.start;
        base + start..base + end
    }

    /// The span of the first occurrence of `needle` in the object, else its first line.
    pub fn find(&self, needle: &str) -> Range<usize> {
        let base = self.doc.offset + self.range.start;
        match self.text().find(needle) {
            Some(at) if !needle.is_empty() => base + at..base + at + needle.len(),
            _ => self.head(),
        }
    }

    /// A problem in this object: its message says the document and, in a list, the item.
    pub fn problem(&self, code: Code, span: Range<usize>, message: impl Into<String>) -> Problem {
        let item = self
            .item
            .map_or_else(String::new, |i| format!("item {}: ", i + 1));
        Problem::new(
            code,
            span,
            format!("document {}: {item}{}", self.doc.number, message.into()),
        )
    }

    /// Where the object starts.
    fn origin(&self) -> Origin {
        let text = self.text();
        let start = match self.item {
            // A list item's text starts at its dash's line.
            Some(_) => 0,
            None => first_content(text),
        };
        Origin {
            file: self.doc.source.path().to_path_buf(),
            document: self.doc.number,
            line: self
                .doc
                .source
                .line_col(self.doc.offset + self.range.start + start)
                .0,
        }
    }

    /// 1-based line of an offset in the object's text.
    fn line_at(&self, at: usize) -> usize {
        self.doc
            .source
            .line_col(self.doc.offset + self.range.start + at)
            .0
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

/// The kind and name of the object that controls a workload (its `ownerReferences` entry with
/// `controller: true`).
type Controller = (String, String);

/// What one file holds, in document order; duplicates are found when files are merged.
#[derive(Default, Clone)]
struct FileItems {
    /// Each with the span of its first line.
    namespaces: Vec<(String, Labels, Range<usize>)>,
    /// Each with the span of its first line, and the kind and name of its controller, if it
    /// has one.
    workloads: Vec<(Workload, Range<usize>, Option<Controller>)>,
    policies: Vec<(Policy, Range<usize>)>,
    /// Admin and baseline policies, each with the span of its first line.
    admin: Vec<(AdminPolicy, Range<usize>)>,
    services: Vec<ServiceSelector>,
    skipped: Vec<Skipped>,
    irrelevant: BTreeMap<String, usize>,
}

/// Reads one file's documents into items.
struct Builder<'o> {
    items: FileItems,
    options: &'o Options,
    /// While a list document is read: where each of its entries is written, when its layout
    /// could be read (see [`locate`]).
    entries: Option<Vec<Range<usize>>>,
}

/// Parses one file into its items.
fn parse_file(
    path: &Path,
    bytes: Vec<u8>,
    options: &Options,
) -> Result<(Source, FileItems), Error> {
    Builder {
        items: FileItems::default(),
        options,
        entries: None,
    }
    .add_file(path, bytes)
}

impl Builder<'_> {
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
        for (i, document) in crate::yaml::documents(source.text())
            .into_iter()
            .enumerate()
        {
            let doc = Doc {
                source: &source,
                text: document.text,
                offset: document.offset,
                number: i + 1,
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
        // Refused before libyaml scans it: nesting deep enough to take minutes, or aliases
        // that expand a few kilobytes into millions of values.
        if let Err((at, message)) = crate::yaml::nesting(doc.text) {
            let start = doc.offset + at.min(doc.text.len());
            return Err(Box::new(
                Problem::new(
                    Code::Syntax,
                    start..start + 1,
                    format!("document {}: {message}", doc.number),
                )
                .label("too deep"),
            ));
        }
        if doc.text.contains('*')
            && doc.text.contains('&')
            && let Err(e) = crate::yaml::parse_bounded(doc.text)
        {
            let start = doc.offset + crate::yaml::error_offset(doc.text, &e);
            return Err(Box::new(
                Problem::new(
                    Code::Syntax,
                    start..start + 1,
                    format!("document {}: {}", doc.number, crate::yaml::message(&e)),
                )
                .label("invalid YAML"),
            ));
        }
        let at = At {
            doc,
            item: None,
            range: 0..doc.text.len(),
        };
        // Most documents say what they are on top-level lines; anything else has its head
        // parsed (which also checks the YAML).
        let (api_version, kind) = match peek_kind(doc.text) {
            Some((v, k)) => (v.to_string(), k.to_string()),
            None => {
                let head: raw::Head = match typed(&at) {
                    Ok(head) => head,
                    // Well-formed YAML that is not a mapping (a list, a scalar): not an object.
                    Err(_) if is_yaml(doc.text) => {
                        return self.skip(&at, "", "", None, Skip::NotAnObject);
                    }
                    Err(e) => return Err(e),
                };
                match head {
                    raw::Head {
                        api_version: None,
                        kind: None,
                    } if is_null_document(doc.text) => return Ok(()),
                    raw::Head { api_version, kind } => (
                        api_version.map(|t| t.0).unwrap_or_default(),
                        kind.map(|t| t.0).unwrap_or_default(),
                    ),
                }
            }
        };
        if kinds::is_list(&kind) {
            let value: Value = serde_yaml_ng::from_str(doc.text).map_err(|e| {
                let start = doc.offset + crate::yaml::error_offset(doc.text, &e);
                Problem::new(
                    Code::Syntax,
                    start..start + 1,
                    format!("document {}: {}", doc.number, crate::yaml::message(&e)),
                )
                .label("invalid YAML")
            })?;
            return self.add_list(&at, &api_version, &kind, &value);
        }
        self.add_object(&at, &api_version, &kind, None)
    }

    /// Reads the items of a list; items that name no `apiVersion` or `kind` take the list's
    /// (a `PodList` holds pods).
    fn add_list(
        &mut self,
        at: &At<'_>,
        api_version: &str,
        kind: &str,
        value: &Value,
    ) -> Result<(), Box<Problem>> {
        let list: raw::ListObject<Value> = from_value(at, value)?;
        let items = list.items.unwrap_or_default();
        self.entries = locate::list_items(at.doc.text).filter(|e| e.len() == items.len());
        let result = items.iter().enumerate().try_for_each(|(i, item)| {
            let range = self
                .entries
                .as_ref()
                .and_then(|e| e.get(i).cloned())
                .unwrap_or(0..at.doc.text.len());
            let item_at = At {
                doc: at.doc,
                item: Some(i),
                range,
            };
            let head: raw::Head = from_value(&item_at, item)?;
            let item_version = head
                .api_version
                .map_or_else(|| api_version.to_string(), |t| t.0);
            let item_kind = match (head.kind, kinds::item_kind(kind)) {
                (Some(k), _) => k.0,
                (None, Some(k)) => k.to_string(),
                (None, None) => String::new(),
            };
            if kinds::is_list(&item_kind) {
                // A list in a list: its items are read as if the outer list held them.
                let inner: raw::ListObject<Value> = from_value(&item_at, item)?;
                return inner.items.iter().flatten().try_for_each(|entry| {
                    let head: raw::Head = from_value(&item_at, entry)?;
                    let v = head.api_version.map_or_else(String::new, |t| t.0);
                    let k = head.kind.map_or_else(String::new, |t| t.0);
                    self.add_object(&item_at, &v, &k, Some(entry))
                });
            }
            self.add_object(&item_at, &item_version, &item_kind, Some(item))
        });
        self.entries = None;
        result
    }

    /// Reads one object, from `value` when it is a list item, else from the document text.
    fn add_object(
        &mut self,
        at: &At<'_>,
        api_version: &str,
        kind: &str,
        value: Option<&Value>,
    ) -> Result<(), Box<Problem>> {
        let default_ns = self.options.namespace.as_str();
        if api_version.is_empty() && kind.is_empty() {
            let meta: Option<raw::Meta> = None;
            return self.skip(at, api_version, kind, meta, Skip::NotAnObject);
        }
        match kinds::classify(api_version, kind) {
            Class::Namespace => {
                let o: Object<IgnoredAny> = parse(at, value)?;
                let meta = o.metadata.unwrap_or_default();
                let name = validate::name(at, &meta, NameRule::Label)?;
                let mut labels = validate::labels(at, meta.labels, "metadata.labels")?;
                labels.insert(NAMESPACE_NAME_LABEL.to_string(), name.clone());
                self.items.namespaces.push((name, labels, at.head()));
            }
            Class::Pod => {
                let o: Object<PodSpec> = parse(at, value)?;
                let meta = o.metadata.unwrap_or_default();
                let labels = validate::labels(at, meta.labels.clone(), "metadata.labels")?;
                self.add_workload(at, kind, &meta, labels, o.spec.as_ref(), default_ns)?;
            }
            Class::Controller => {
                let o: Object<ControllerSpec> = parse(at, value)?;
                let meta = o.metadata.unwrap_or_default();
                // A CronJob's pods come from the template of its job template.
                let template = o.spec.and_then(|s| match s.template {
                    Some(t) => Some(t),
                    None => s.job_template.and_then(|j| j.spec).and_then(|s| s.template),
                });
                let template = template.unwrap_or_default();
                let labels = validate::labels(
                    at,
                    template.metadata.and_then(|m| m.labels),
                    "the pod template's labels",
                )?;
                self.add_workload(at, kind, &meta, labels, template.spec.as_ref(), default_ns)?;
            }
            Class::Service => {
                let o: Object<ServiceSpec> = parse(at, value)?;
                let meta = o.metadata.unwrap_or_default();
                let name = validate::name(at, &meta, NameRule::Service)?;
                let namespace = validate::namespace(at, &meta, default_ns)?;
                let selector =
                    validate::labels(at, o.spec.and_then(|s| s.selector), "spec.selector")?;
                *self
                    .items
                    .irrelevant
                    .entry(format!("{api_version}/{kind}"))
                    .or_default() += 1;
                if !selector.is_empty() {
                    self.items.services.push(ServiceSelector {
                        namespace,
                        name,
                        selector,
                    });
                }
            }
            Class::NetworkPolicy => {
                let o: Object<PolicySpec> = parse(at, value)?;
                self.add_policy(at, o, default_ns)?;
            }
            class @ (Class::AdminPolicy | Class::BaselinePolicy) => {
                let o: Object<raw::AdminSpec> = parse(at, value)?;
                self.add_admin(at, o, class == Class::BaselinePolicy, api_version, kind)?;
            }
            Class::Irrelevant => {
                // Checked as YAML, as everything is, but not as an object of its kind.
                if value.is_none() {
                    let _: raw::Head = typed(at)?;
                }
                *self
                    .items
                    .irrelevant
                    .entry(format!("{api_version}/{kind}"))
                    .or_default() += 1;
            }
            Class::Unevaluated(what) => {
                let o: Option<raw::Meta> = metadata(at, value);
                self.skip(at, api_version, kind, o, Skip::Unevaluated(what))?;
            }
            Class::Unknown => {
                let o: Option<raw::Meta> = metadata(at, value);
                self.skip(at, api_version, kind, o, Skip::UnknownKind)?;
            }
        }
        Ok(())
    }

    /// Notes an object that is not read, naming it as well as its metadata allows.
    fn skip(
        &mut self,
        at: &At<'_>,
        api_version: &str,
        kind: &str,
        meta: Option<raw::Meta>,
        reason: Skip,
    ) -> Result<(), Box<Problem>> {
        if at.item.is_none() {
            // The document's YAML is still checked.
            let _: IgnoredAny = typed(at)?;
        }
        let meta = meta.unwrap_or_default();
        self.items.skipped.push(Skipped {
            kind: match (api_version.is_empty(), kind.is_empty()) {
                (true, true) => String::new(),
                _ => format!("{api_version}/{kind}"),
            },
            namespace: meta.namespace.map(|t| t.0),
            name: meta.name.map(|t| t.0).unwrap_or_default(),
            origin: at.origin(),
            reason,
        });
        Ok(())
    }

    fn add_workload(
        &mut self,
        at: &At<'_>,
        kind: &str,
        meta: &raw::Meta,
        labels: Labels,
        spec: Option<&PodSpec>,
        default_ns: &str,
    ) -> Result<(), Box<Problem>> {
        // Pods of a ReplicaSet, ReplicaSets of a Deployment, Jobs of a CronJob: when their
        // controller is read too (`kubectl get deploy,rs,pod`), they are left out once all
        // files are merged, so as not to count them twice; else they stand for it.
        let controller = validate::controller(at, meta)?;
        let name = validate::name(at, meta, NameRule::Subdomain)?;
        let namespace = validate::namespace(at, meta, default_ns)?;
        let id = format!("{kind} {namespace}/{name}");
        let ports = validate::container_ports(at, spec, &id)?;
        let workload = Workload {
            namespace,
            name,
            kind: workload_kind(kind),
            labels,
            ports,
            host_network: spec.and_then(|s| s.host_network).unwrap_or(false),
            origin: at.origin(),
        };
        self.items.workloads.push((workload, at.head(), controller));
        Ok(())
    }

    fn add_admin(
        &mut self,
        at: &At<'_>,
        policy: Object<raw::AdminSpec>,
        baseline: bool,
        api_version: &str,
        kind: &str,
    ) -> Result<(), Box<Problem>> {
        let meta = policy.metadata.unwrap_or_default();
        let name = validate::name(at, &meta, NameRule::Subdomain)?;
        if baseline && name != "default" {
            return Err(Box::new(
                at.problem(
                    Code::InvalidName,
                    at.find(&name),
                    format!("a BaselineAdminNetworkPolicy is named `default`, not {name:?}"),
                )
                .help("the cluster has one baseline policy, named default"),
            ));
        }
        let spec = policy.spec.unwrap_or_default();
        let (ingress_at, egress_at) = locate::rule_offsets(at.text());
        let origin = at.origin();
        let lines = |offsets: Option<Vec<usize>>| -> Vec<usize> {
            offsets
                .unwrap_or_default()
                .into_iter()
                .map(|off| at.line_at(off))
                .collect()
        };
        let (ingress_lines, egress_lines) = (lines(ingress_at), lines(egress_at));
        let policy = validate::admin_policy(
            at,
            name,
            spec,
            baseline,
            (&ingress_lines, &egress_lines),
            origin,
        )?;
        // The API's own words: "cluster-internal traffic will be checked against the rule as
        // well". Pod addresses are not among the inputs; blocks that may hold them are named.
        let private = crate::verify::sets::AddrSet::private();
        if policy
            .egress
            .iter()
            .any(|r| !r.networks.intersection(&private).is_empty())
        {
            self.items.skipped.push(Skipped {
                kind: format!("{api_version}/{kind}"),
                namespace: None,
                name: policy.name.clone(),
                origin: policy.origin.clone(),
                reason: Skip::Unevaluated(
                    "a policy whose `networks` may hold pod addresses, which are not among the inputs (its rules are applied to outside addresses only)",
                ),
            });
        }
        if policy.egress.iter().any(|r| r.nodes) {
            self.items.skipped.push(Skipped {
                kind: format!("{api_version}/{kind}"),
                namespace: None,
                name: policy.name.clone(),
                origin: policy.origin.clone(),
                reason: Skip::Unevaluated(
                    "a policy with a `nodes` peer, and nodes are not among the inputs (that peer matches nothing here)",
                ),
            });
        }
        self.items.admin.push((policy, at.head()));
        Ok(())
    }

    fn add_policy(
        &mut self,
        at: &At<'_>,
        policy: Object<PolicySpec>,
        default_ns: &str,
    ) -> Result<(), Box<Problem>> {
        let meta = policy.metadata.unwrap_or_default();
        let name = validate::name(at, &meta, NameRule::Subdomain)?;
        let namespace = validate::namespace(at, &meta, default_ns)?;
        let id = format!("{namespace}/{name}");
        let spec = policy.spec.unwrap_or_default();
        let selector = validate::selector(at, spec.pod_selector, "spec.podSelector")?;
        let ingress_rules = raw::entries(spec.ingress).unwrap_or_default();
        let egress_rules = raw::entries(spec.egress).unwrap_or_default();
        let (has_ingress, has_egress) =
            validate::policy_types(at, spec.policy_types, !egress_rules.is_empty(), &id)?;
        let origin = at.origin();
        // Each rule's own line, when one entry per rule is found; else the policy's line.
        let (ingress_at, egress_at) = locate::rule_offsets(at.text());
        let lines = |offsets: Option<Vec<usize>>, count: usize| -> Vec<usize> {
            match offsets.filter(|o| o.len() == count) {
                Some(o) => o.into_iter().map(|off| at.line_at(off)).collect(),
                None => vec![origin.line; count],
            }
        };
        let ingress_lines = lines(ingress_at, ingress_rules.len());
        let egress_lines = lines(egress_at, egress_rules.len());
        // Every rule is validated, in effect or not, as the API server does.
        let ingress = ingress_rules
            .into_iter()
            .zip(ingress_lines)
            .map(|(r, line)| validate::rule(at, r.from, r.ports, line))
            .collect::<Result<Vec<_>, _>>()?;
        let egress = egress_rules
            .into_iter()
            .zip(egress_lines)
            .map(|(r, line)| validate::rule(at, r.to, r.ports, line))
            .collect::<Result<Vec<_>, _>>()?;
        self.items.policies.push((
            Policy {
                namespace,
                name,
                selector,
                ingress: has_ingress.then_some(ingress),
                egress: has_egress.then_some(egress),
                origin,
            },
            at.head(),
        ));
        Ok(())
    }
}

/// The kind names workloads are reported with; an unknown one cannot reach here.
fn workload_kind(kind: &str) -> &'static str {
    const KINDS: [&str; 10] = [
        "Pod",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
        "DeploymentConfig",
        "Rollout",
    ];
    KINDS.into_iter().find(|k| *k == kind).unwrap_or("Workload")
}

/// True when a document is well-formed YAML.
fn is_yaml(text: &str) -> bool {
    serde_yaml_ng::from_str::<IgnoredAny>(text).is_ok()
}

/// True when a document holds nothing but `null` (`~`, `null`, or an empty value).
fn is_null_document(text: &str) -> bool {
    serde_yaml_ng::from_str::<Value>(text).is_ok_and(|v| v.is_null())
}

/// The metadata of an object that is not read, for naming it; `None` when it has none that
/// reads.
fn metadata(at: &At<'_>, value: Option<&Value>) -> Option<raw::Meta> {
    #[derive(serde::Deserialize)]
    struct WithMeta {
        metadata: Option<Lenient>,
    }
    #[derive(serde::Deserialize)]
    struct Lenient {
        name: Option<Text>,
        namespace: Option<Text>,
    }
    let parsed: Option<WithMeta> = match value {
        Some(v) => serde_yaml_ng::from_value(v.clone()).ok(),
        None => serde_yaml_ng::from_str(at.text()).ok(),
    };
    let m = parsed?.metadata?;
    Some(raw::Meta::named(m.name, m.namespace))
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
    admin: BTreeMap<(bool, String), AdminPolicy>,
    services: BTreeMap<(String, String), ServiceSelector>,
    skipped: Vec<Skipped>,
    irrelevant: BTreeMap<String, usize>,
}

impl Merger {
    /// Adds the items of the next file; `source` is that file, for the error.
    fn add(&mut self, source: &Source, items: FileItems) -> Result<(), Error> {
        for (name, labels, head) in items.namespaces {
            if self.namespaces.contains_key(&name) {
                let problem = Problem::new(
                    Code::Duplicate,
                    head,
                    format!("Namespace {name} is defined twice; which labels hold is unclear"),
                )
                .help("each object is read once; give each file or folder once");
                return Err(Error::invalid(source, vec![problem]));
            }
            self.namespaces.insert(name, labels);
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
                )
                .help("each object is read once; give each file or folder once");
                return Err(Error::invalid(source, vec![problem]));
            }
            self.policies.insert(key, p);
        }
        for (p, head) in items.admin {
            let baseline = p.priority.is_none();
            let clash = if baseline {
                self.admin.values().find(|q| q.priority.is_none())
            } else {
                self.admin.values().find(|q| {
                    q.name == p.name || (q.priority.is_some() && q.priority == p.priority)
                })
            };
            if let Some(first) = clash {
                let why = if baseline {
                    "a cluster has one BaselineAdminNetworkPolicy".to_string()
                } else if first.name == p.name {
                    format!("AdminNetworkPolicy {} is defined twice", p.name)
                } else {
                    format!(
                        "AdminNetworkPolicies {} and {} have the same priority {}: the order of their rules is undefined",
                        first.name,
                        p.name,
                        p.priority.unwrap_or_default()
                    )
                };
                let problem = Problem::new(
                    Code::Duplicate,
                    head,
                    format!(
                        "document {}: {why} (first in {} document {})",
                        p.origin.document,
                        first.origin.file.display(),
                        first.origin.document
                    ),
                )
                .help("give every AdminNetworkPolicy its own name and priority");
                return Err(Error::invalid(source, vec![problem]));
            }
            self.admin.insert((baseline, p.name.clone()), p);
        }
        for s in items.services {
            self.services
                .insert((s.namespace.clone(), s.name.clone()), s);
        }
        self.skipped.extend(items.skipped);
        for (kind, n) in items.irrelevant {
            *self.irrelevant.entry(kind).or_default() += n;
        }
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
            admin,
            services,
            skipped,
            irrelevant,
        } = self;
        let read: BTreeSet<(String, &str, String)> = workloads
            .values()
            .map(|w| (w.namespace.clone(), w.kind, w.name.clone()))
            .collect();
        let is_read = |ns: &str, kind: &str, name: &str| {
            read.contains(&(ns.to_string(), kind, name.to_string()))
        };
        let mut out: BTreeMap<(String, String), Workload> = BTreeMap::new();
        let mut standing: Vec<(String, Workload)> = Vec::new();
        for (key, mut w) in std::mem::take(&mut workloads) {
            let Some((kind, name)) = controllers.get(&key) else {
                out.insert(key, w);
                continue;
            };
            // A Deployment's ReplicaSet is named after it and the pods' template hash.
            let deployment = (kind == "ReplicaSet")
                .then(|| w.labels.get("pod-template-hash"))
                .flatten()
                .and_then(|hash| name.strip_suffix(&format!("-{hash}")));
            let covered = is_read(&w.namespace, kind, name)
                || deployment.is_some_and(|d| is_read(&w.namespace, "Deployment", d));
            if covered {
                continue;
            }
            // The pods of a controller that was not read stand for it, as one workload.
            let kind = workload_kind(kind);
            if w.kind == "Pod" && kind != "Workload" {
                let pod = std::mem::replace(&mut w.name, name.clone());
                w.kind = kind;
                standing.push((pod, w));
            } else {
                out.insert(key, w);
            }
        }
        for (pod, mut w) in standing {
            let key = (w.namespace.clone(), w.name.clone());
            match out.get(&key) {
                None => {
                    out.insert(key, w);
                }
                // Pods of one controller alike to policies are one workload; a pod that
                // differs (a rollout half done) is a workload of its own, under its own name.
                Some(first)
                    if first.kind == w.kind
                        && first.labels == w.labels
                        && first.ports == w.ports
                        && first.host_network == w.host_network => {}
                Some(_) => {
                    w.name = pod;
                    w.kind = "Pod";
                    out.insert((w.namespace.clone(), w.name.clone()), w);
                }
            }
        }
        let workloads = out;
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
            admin: {
                let mut list: Vec<AdminPolicy> = admin
                    .values()
                    .filter(|p| p.priority.is_some())
                    .cloned()
                    .collect();
                list.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
                list
            },
            baseline: admin.into_values().find(|p| p.priority.is_none()),
            services: services.into_values().collect(),
            skipped,
            irrelevant,
        }
    }
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

/// Deserializes the object into `T`: from its list item's value, else from its own text.
fn parse<T: DeserializeOwned>(at: &At<'_>, value: Option<&Value>) -> Result<T, Box<Problem>> {
    match value {
        Some(v) => from_value(at, v),
        None => typed(at),
    }
}

/// Deserializes the object's text into `T`, with the error located where it is.
fn typed<T: DeserializeOwned>(at: &At<'_>) -> Result<T, Box<Problem>> {
    serde_yaml_ng::from_str::<T>(at.text()).map_err(|e| {
        let span = match e.location() {
            Some(l) if l.index() > 0 || at.text().is_empty() => {
                let start = at.doc.offset + at.range.start + l.index().min(at.text().len());
                start..start + 1
            }
            _ => {
                let start =
                    at.doc.offset + at.range.start + crate::yaml::error_offset(at.text(), &e);
                start..start + 1
            }
        };
        object_problem(at, span, &e)
    })
}

/// Deserializes a list item into `T`; the error points at the item.
fn from_value<T: DeserializeOwned>(at: &At<'_>, value: &Value) -> Result<T, Box<Problem>> {
    serde_yaml_ng::from_value::<T>(value.clone()).map_err(|e| object_problem(at, at.head(), &e))
}

/// The messages of errors in what a document holds, as opposed to errors in its YAML.
const TYPE_ERRORS: [&str; 9] = [
    "invalid type",
    "invalid value",
    "invalid length",
    "unknown field",
    "missing field",
    "duplicate",
    "unknown variant",
    "given twice",
    "out of range",
];

fn object_problem(at: &At<'_>, span: Range<usize>, e: &serde_yaml_ng::Error) -> Box<Problem> {
    let message = crate::yaml::message(e);
    if !TYPE_ERRORS.iter().any(|t| message.contains(t)) {
        return Box::new(
            at.problem(Code::Syntax, span, message)
                .label("invalid YAML"),
        );
    }
    let help = if message.starts_with("unknown field") {
        "the API server refuses fields it does not know (kubectl applies with strict field validation): check the spelling and the indentation"
    } else if message.contains("duplicate") || message.contains("given twice") {
        "the API server refuses a key given twice: keep one"
    } else {
        "fix the object so that the API server would accept it"
    };
    Box::new(
        at.problem(Code::WrongType, span, message)
            .label("not a valid Kubernetes object")
            .help(help),
    )
}
