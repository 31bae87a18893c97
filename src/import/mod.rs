//! `import`: reads what a team already has — a Compose project, Kubernetes manifests or a
//! Backstage catalog — and drafts a workspace from it.
//!
//! Stages: read (`read_inputs`, `crate::yaml::documents`, `locate`, `hosts`) → one reader per kind
//! (`compose`, `kube`, `backstage`) fills a `draft::Draft` with provenance → `draft::resolve`
//! makes names valid and matches references → `render` writes commented TOML. The command
//! validates the text with the workspace loader before writing it; nothing here writes files.

pub mod backstage;
pub mod compose;
pub mod draft;
pub mod hosts;
pub mod interpolate;
pub mod kube;
pub mod locate;
pub mod render;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::diagnostic::{Code, Error, Problem, Source};
use crate::yaml::Document;

/// The largest input file read; larger files are refused rather than loaded.
pub const MAX_FILE: u64 = 16 * 1024 * 1024;

/// One input file.
#[derive(Debug, Clone)]
pub struct Input {
    /// The file as problems and provenance name it.
    pub source: Source,
    /// The folder that holds it, for relative references (`extends.file`, Backstage
    /// `Location` targets); `None` for stdin.
    pub dir: Option<PathBuf>,
}

impl Input {
    /// The name used in provenance comments.
    pub fn name(&self) -> String {
        self.source.path().display().to_string()
    }
}

/// What an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Compose file.
    Compose,
    /// Kubernetes manifests.
    Kube,
    /// A Backstage catalog.
    Backstage,
}

impl Kind {
    /// How the kind is named in messages and the file header.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Compose => "Compose",
            Kind::Kube => "Kubernetes manifests",
            Kind::Backstage => "a Backstage catalog",
        }
    }
}

/// Options of one import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Compose profiles to activate.
    pub profiles: Vec<String>,
    /// Project name when the input has none.
    pub fallback_project: String,
    /// The process environment, which Compose interpolation reads before any `.env` file.
    pub env: BTreeMap<String, String>,
    /// `--env-file` files, read in order instead of the project's `.env`.
    pub env_files: Vec<PathBuf>,
    /// `-n/--namespace`: where objects that name no namespace belong.
    pub namespace: Option<String>,
    /// `--flows`: the calls observed traffic shows, added to what the inputs give.
    pub flows: Option<crate::flows::draft::FlowCalls>,
}

/// Reads the inputs, detects their kind and drafts the workspace text. Returns the text and
/// the list of what could not be known.
pub fn import(inputs: &[Input], options: &Options) -> Result<(String, Vec<String>), Error> {
    let resolved = resolve(inputs, options)?;
    let text = render::render(&resolved);
    Ok((text, resolved.unknowns))
}

/// Reads the inputs and resolves them, ready for questions (`init --from`) or rendering.
pub fn resolve(inputs: &[Input], options: &Options) -> Result<draft::Resolved, Error> {
    let mut draft = if inputs.is_empty() && options.flows.is_some() {
        draft::Draft::default()
    } else {
        let (kind, firsts) = detect_all(inputs)?;
        match kind {
            Kind::Compose => compose::read(inputs, firsts, options)?,
            Kind::Kube => kube::read(inputs, firsts, options)?,
            Kind::Backstage => backstage::read(inputs)?,
        }
    };
    if let Some(flows) = &options.flows {
        flows.apply(&mut draft, !inputs.is_empty());
    }
    // `-n/--namespace` is where everything the input places nowhere belongs (`default` is the
    // project's namespace, which the workspace cannot name).
    if let Some(ns) = options.namespace.as_deref().filter(|ns| *ns != "default") {
        for s in draft.services.iter_mut().filter(|s| s.namespace.is_empty()) {
            s.namespace = ns.to_string();
        }
    }
    Ok(draft::resolve(draft, &options.fallback_project))
}

/// Reads paths (files, folders, `-` for stdin) into inputs. Folders are read one level of
/// `.yaml`/`.yml` files per folder, recursively, in name order; symbolic links inside folders
/// are skipped (and reported) so that a folder cannot pull in files from elsewhere.
pub fn read_inputs(paths: &[PathBuf]) -> Result<(Vec<Input>, Vec<String>), Error> {
    let mut inputs = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::stdin()
                .take(MAX_FILE + 1)
                .read_to_end(&mut bytes)
                .map_err(|source| Error::Io {
                    action: "read",
                    path: PathBuf::from("<stdin>"),
                    source,
                })?;
            if bytes.len() as u64 > MAX_FILE {
                return Err(too_big(Path::new("<stdin>")));
            }
            let source = crate::workspace::decode(Path::new("<stdin>"), bytes)?;
            inputs.push(Input { source, dir: None });
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|source| Error::Io {
            action: "read",
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            walk(path, &mut inputs, &mut skipped, 0)?;
        } else {
            inputs.push(read_file(path)?);
        }
    }
    Ok((inputs, skipped))
}

fn walk(
    dir: &Path,
    inputs: &mut Vec<Input>,
    skipped: &mut Vec<String>,
    depth: usize,
) -> Result<(), Error> {
    if depth > 16 {
        skipped.push(format!(
            "{}: folders nested too deep, not read",
            dir.display()
        ));
        return Ok(());
    }
    let mut entries = crate::files::entries(dir)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).map_err(|source| Error::Io {
            action: "read",
            path: path.clone(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if meta.file_type().is_symlink() {
            skipped.push(format!("{}: a symbolic link, not followed", path.display()));
        } else if meta.is_dir() {
            walk(&path, inputs, skipped, depth + 1)?;
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            if meta.is_file() {
                // A folder also holds other YAML (Chart.yaml, values.yaml, CI files): those
                // are skipped and reported; a file named on the command line must be one of
                // the three kinds.
                let input = read_file(&path)?;
                if detect(&input)?.is_some() {
                    inputs.push(input);
                } else {
                    skipped.push(format!(
                        "{}: not a Compose file, manifest or catalog entity, not read",
                        path.display()
                    ));
                }
            } else {
                skipped.push(format!("{}: not a regular file, not read", path.display()));
            }
        }
    }
    Ok(())
}

/// Reads one regular file (never a FIFO or device: reading one could block forever).
pub fn read_file(path: &Path) -> Result<Input, Error> {
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_file() {
        return Err(Error::usage(
            format!(
                "{} is not a regular file; nothing was written",
                path.display()
            ),
            "give Compose files, manifest files or folders, or `-` to read standard input",
        ));
    }
    if meta.len() > MAX_FILE {
        return Err(too_big(path));
    }
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    let source = crate::workspace::decode(path, bytes)?;
    Ok(Input {
        source,
        dir: Some(
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        ),
    })
}

fn too_big(path: &Path) -> Error {
    Error::usage(
        format!(
            "{} is larger than {} MiB; nothing was written",
            path.display(),
            MAX_FILE >> 20
        ),
        "split the input, or import the files that describe the services",
    )
}

/// Parses one document as a YAML value, turning a syntax error into a problem with its line.
pub fn parse_doc(source: &Source, doc: &Document<'_>) -> Result<serde_yaml_ng::Value, Error> {
    crate::yaml::parse_bounded(doc.text).map_err(|e| {
        let at = doc.offset + crate::yaml::error_offset(doc.text, &e);
        let first = crate::yaml::message(&e);
        Error::invalid(
            source,
            vec![
                Problem::new(Code::Syntax, at..at, format!("invalid YAML: {first}"))
                    .label("here")
                    .help("fix the YAML; nothing was written"),
            ],
        )
    })
}

/// Points the problems the workspace loader found in drafted `text` at the input lines the
/// drafted values came from (each drafted line names its source in its comment): a draft that
/// is never written must not be what a diagnostic shows. A problem whose line names no input
/// is a bug of the import and is reported as one.
pub fn blame_inputs(text: &str, inputs: &[Input], err: Error) -> Error {
    let Error::Invalid { problems, .. } = err else {
        return err;
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<(usize, Problem)> = Vec::new();
    for p in problems {
        let Some((line, _)) = p.line_col() else {
            continue;
        };
        let comment = lines
            .get(line - 1)
            .and_then(|l| l.split_once("  # "))
            .map(|(_, c)| c);
        let place = comment.and_then(|c| {
            inputs.iter().enumerate().find_map(|(i, input)| {
                let name = input.name();
                let at = c.find(&format!("{name}:"))?;
                let digits: String = c[at + name.len() + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                Some((i, digits.parse::<usize>().ok()?))
            })
        });
        let Some((i, at_line)) = place else {
            return Error::Internal {
                message: format!(
                    "the drafted workspace does not load: {}",
                    render::comment(&p.message)
                ),
            };
        };
        let source = &inputs[i].source;
        let offset: usize = source
            .text()
            .split_inclusive('\n')
            .take(at_line.saturating_sub(1))
            .map(str::len)
            .sum();
        out.push((
            i,
            Problem::new(
                p.code,
                offset..offset,
                format!("this value cannot go into a workspace: {}", p.message),
            )
            .label("read here")
            .help(format!(
                "{}; nothing was written",
                p.help.as_deref().unwrap_or("fix the value in the input")
            )),
        ));
    }
    let Some(first) = out.first().map(|(i, _)| *i) else {
        return Error::Internal {
            message: "the drafted workspace does not load".into(),
        };
    };
    // One error names one file; problems of other files follow when this one is fixed.
    Error::invalid(
        &inputs[first].source,
        out.into_iter()
            .filter(|(i, _)| *i == first)
            .map(|(_, p)| p)
            .collect(),
    )
}

/// A problem in an input file at a 1-based line.
pub fn problem_at(
    source: &Source,
    line: usize,
    message: impl Into<String>,
    help: impl Into<String>,
) -> Error {
    let offset = source
        .text()
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    Error::invalid(
        source,
        vec![
            Problem::new(Code::InvalidValue, offset..offset, message)
                .label("here")
                .help(help),
        ],
    )
}

/// The kind of one file, from its first document; `None` when it is none of the three.
pub fn detect(input: &Input) -> Result<Option<Kind>, Error> {
    Ok(detect_first(input)?.map(|(kind, _)| kind))
}

/// The kind of one file and its first document, parsed: the readers take it from here
/// instead of parsing it again (a Compose file is one document, often the whole file).
fn detect_first(input: &Input) -> Result<Option<(Kind, serde_yaml_ng::Value)>, Error> {
    let Some(doc) = crate::yaml::documents(input.source.text())
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let value = parse_doc(&input.source, &doc)?;
    let api = value.get("apiVersion").and_then(|v| v.as_str());
    let kind = match api {
        Some(api) if api.starts_with("backstage.io/") => Some(Kind::Backstage),
        Some(_) if value.get("kind").is_some() => Some(Kind::Kube),
        _ if value
            .get("services")
            .is_some_and(serde_yaml_ng::Value::is_mapping) =>
        {
            Some(Kind::Compose)
        }
        _ => None,
    };
    Ok(kind.map(|k| (k, value)))
}

/// The one kind of all inputs, and the first document of each, parsed.
fn detect_all(inputs: &[Input]) -> Result<(Kind, Vec<serde_yaml_ng::Value>), Error> {
    let mut firsts = Vec::with_capacity(inputs.len());
    let mut kind: Option<(Kind, String)> = None;
    if inputs.is_empty() {
        return Err(Error::usage(
            "no YAML files to import; nothing was written",
            "give a Compose file, manifest files or folders, a catalog-info.yaml, or `-` for standard input",
        ));
    }
    for input in inputs {
        let Some((k, first)) = detect_first(input)? else {
            return Err(problem_at(
                &input.source,
                1,
                "this file is not a Compose file, Kubernetes manifests or a Backstage catalog",
                "Compose files have `services:`, manifests `apiVersion` and `kind`, catalog entities `apiVersion: backstage.io/...`",
            ));
        };
        match &kind {
            None => kind = Some((k, input.name())),
            Some((first, name)) if *first != k => {
                return Err(Error::usage(
                    format!(
                        "{} is {} but {name} is {}; nothing was written",
                        input.name(),
                        k.title(),
                        first.title()
                    ),
                    "import one kind of input at a time",
                ));
            }
            Some(_) => {}
        }
        firsts.push(first);
    }
    Ok((kind.map(|(k, _)| k).expect("inputs is not empty"), firsts))
}

/// Joins a relative reference to `dir` and refuses anything that leaves `root`: absolute
/// paths, `..` that climbs out, and symbolic links whose target is outside.
pub fn contained(root: &Path, dir: &Path, target: &str) -> Result<PathBuf, String> {
    let rel = Path::new(target);
    if rel.is_absolute() || target.contains('\0') {
        return Err(format!("{target:?} is an absolute path"));
    }
    let mut joined = dir.to_path_buf();
    for c in rel.components() {
        match c {
            Component::Normal(p) => joined.push(p),
            Component::CurDir => {}
            // `..` removes a name, never `.` or `..` (with the catalog given as
            // `catalog-info.yaml`, `dir` is `.`, and `../x` must stay outside it).
            Component::ParentDir => {
                if matches!(joined.components().next_back(), Some(Component::Normal(_))) {
                    joined.pop();
                } else {
                    joined.push("..");
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("{target:?} is an absolute path"));
            }
        }
    }
    let root_real = root
        .canonicalize()
        .map_err(|e| format!("{}: {e}", root.display()))?;
    let real = joined
        .canonicalize()
        .map_err(|e| format!("{target:?}: {e}"))?;
    if !real.starts_with(&root_real) {
        return Err(format!("{target:?} points outside {}", root.display()));
    }
    if std::fs::symlink_metadata(&joined).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!("{target:?} is a symbolic link"));
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draft_problems_point_at_the_input_line_their_value_came_from() {
        let input = Input {
            source: Source::new("compose.yaml", "services:\n  web:\n    image: BAD\n"),
            dir: None,
        };
        let text = "version = 1\nimage = \"BAD\"  # compose.yaml:3 image\nname = 1\n";
        let draft = Source::new("k8s-advisor.toml", text);
        let at = text.find("\"BAD").unwrap();
        let err = Error::invalid(
            &draft,
            vec![Problem::new(Code::InvalidValue, at..at + 5, "invalid image").help("fix it")],
        );
        let Error::Invalid { path, problems } =
            blame_inputs(text, std::slice::from_ref(&input), err)
        else {
            panic!("not an input problem");
        };
        assert_eq!(path, Path::new("compose.yaml"));
        assert_eq!(problems[0].line_col().map(|(l, _)| l), Some(3));
        assert!(problems[0].message.contains("invalid image"));
        // A drafted line that names no input is a bug of the import, never the draft's file.
        let at = text.find("name").unwrap();
        let err = Error::invalid(&draft, vec![Problem::new(Code::InvalidValue, at..at, "x")]);
        assert!(matches!(
            blame_inputs(text, &[input], err),
            Error::Internal { .. }
        ));
    }
}
