//! `k8s-advisor import`: reads the inputs, drafts the workspace, validates the text with the
//! workspace loader and writes it only then (never over an existing file without `--force`).

use std::path::{Path, PathBuf};

use super::schema::SchemaBeside;
use super::{Settings, current_dir, print};
use std::io::IsTerminal;

use crate::cli::{ImportArgs, InitArgs};
use crate::diagnostic::Error;
use crate::import::{self, Options};
use crate::names;
use crate::policy::Policy;
use crate::workspace::{self, FILE_NAME};

pub fn run(opts: &Settings, args: &ImportArgs) -> Result<u8, Error> {
    let policy = Policy::load(opts.policies.as_deref())?;
    let path: PathBuf = args
        .output
        .clone()
        .or_else(|| opts.workspace.clone())
        .unwrap_or_else(|| PathBuf::from(FILE_NAME));
    let exists = path.exists();
    if exists && !args.force {
        return Err(Error::usage(
            format!("{} already exists; nothing was written", path.display()),
            "choose another file with -o, or add --force to replace it",
        ));
    }
    let schema = SchemaBeside::plan(&path)?;
    let settings = ImportSettings {
        profiles: args.profile.clone(),
        env_files: args.env_file.clone(),
        namespace: args.namespace.clone(),
        flows: args.flows.clone(),
        skip_bad: args.skip_bad,
    };
    let (text, unknowns, skipped) = draft(&args.paths, &settings, &policy)?;
    schema.write_with(&path, exists, &text)?;
    if !opts.quiet {
        eprint!("{}", summary(&unknowns, &skipped));
        print(&format!("Wrote {}\n", schema.written(&path)))?;
    }
    Ok(0)
}

/// `init --from PATHS`: imports, asks what the input could not tell, writes `path` and shows
/// the verdict. With `--non-interactive` it is `import` under another name.
pub fn init_from(
    opts: &Settings,
    args: &InitArgs,
    path: &Path,
    exists: bool,
    schema: &SchemaBeside,
) -> Result<u8, Error> {
    let policy = Policy::load(opts.policies.as_deref())?;
    let settings = ImportSettings {
        profiles: Vec::new(),
        env_files: Vec::new(),
        namespace: args.namespace.clone(),
        flows: Vec::new(),
        skip_bad: false,
    };
    if args.non_interactive {
        let (text, unknowns, skipped) = draft(&args.from, &settings, &policy)?;
        schema.write_with(path, exists, &text)?;
        if !opts.quiet {
            eprint!("{}", summary(&unknowns, &skipped));
            print(&format!("Wrote {}\n", schema.written(path)))?;
        }
        return Ok(0);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Error::usage(
            "init asks questions, but there is no terminal to ask them on",
            "run `k8s-advisor import PATH...` (or `init --from PATH... --non-interactive`) to import without questions",
        ));
    }
    let (inputs, skipped) = import::read_inputs(&args.from)?;
    let options = options(&args.from, &settings)?;
    let resolved = import::resolve(&inputs, &options)?;
    let unknowns = resolved.unknowns.clone();
    let (text, verdict) = crate::init::from::ask(
        &mut crate::prompt::Terminal::new(opts.color_err),
        resolved,
        &policy,
        path,
    )?;
    schema.write_with(path, exists, &text)?;
    if !opts.quiet {
        eprint!("{}", summary(&unknowns, &skipped));
        print(&crate::report::assess::text(&verdict, opts.paint()))?;
        print(&format!("\nWrote {}\n", schema.written(path)))?;
    }
    Ok(0)
}

/// What the command line sets for one import.
pub struct ImportSettings {
    /// `--profile`.
    pub profiles: Vec<String>,
    /// `--env-file`.
    pub env_files: Vec<PathBuf>,
    /// `-n/--namespace`.
    pub namespace: Option<String>,
    /// `--flows`.
    pub flows: Vec<PathBuf>,
    /// `--skip-bad`.
    pub skip_bad: bool,
}

/// The import's options: the settings, the process environment (Compose interpolation reads
/// it) and the project name to fall back on.
fn options(paths: &[PathBuf], settings: &ImportSettings) -> Result<Options, Error> {
    if let Some(ns) = &settings.namespace
        && ns != "default"
        && (names::dns1123_label(ns).is_err() || names::reserved_namespace(ns))
    {
        return Err(Error::usage(
            format!(
                "--namespace {:?} cannot be a workspace namespace; nothing was written",
                import::render::comment(ns)
            ),
            "give a DNS-1123 label (lowercase letters, digits and '-') that is not kube-*",
        ));
    }
    let flows = if settings.flows.is_empty() {
        None
    } else {
        if settings.flows.iter().any(|p| p.as_os_str() == "-")
            && paths.iter().any(|p| p.as_os_str() == "-")
        {
            return Err(Error::usage(
                "standard input (`-`) cannot hold both the flows and the files to import; nothing was written",
                "write one of them to a file",
            ));
        }
        let (reading, mut calls) = crate::flows::read::read(
            &settings.flows,
            &mut std::io::stdin().lock(),
            settings.skip_bad,
            &crate::flows::draft::FlowCalls::default,
        )?;
        calls.files = reading.files.into_iter().map(|(p, _)| p).collect();
        Some(calls)
    };
    Ok(Options {
        profiles: settings.profiles.clone(),
        fallback_project: fallback_name(paths, &current_dir()?),
        env: std::env::vars().collect(),
        env_files: settings.env_files.clone(),
        namespace: settings.namespace.clone(),
        flows,
    })
}

/// Imports `paths` into workspace text that the loader accepts; also returns what could not be
/// known and which paths were skipped. Shared with `init --from`.
pub fn draft(
    paths: &[PathBuf],
    settings: &ImportSettings,
    policy: &Policy,
) -> Result<(String, Vec<String>, Vec<String>), Error> {
    let (inputs, skipped) = import::read_inputs(paths)?;
    let options = options(paths, settings)?;
    let (text, unknowns) = import::import(&inputs, &options)?;
    // The draft must load like any workspace; if it does not, the problems point at the
    // input lines the values came from, and nothing half-valid is written.
    let source = crate::diagnostic::Source::new(Path::new(FILE_NAME), text.clone());
    workspace::parse(&source, &policy.criterion_ids())
        .map_err(|e| import::blame_inputs(&text, &inputs, e))?;
    Ok((text, unknowns, skipped))
}

/// The project name when the input has none: the folder of the first path.
fn fallback_name(paths: &[PathBuf], cwd: &Path) -> String {
    let first = paths.first().filter(|p| p.as_os_str() != "-");
    let dir = match first {
        Some(p) if p.is_dir() => cwd.join(p),
        Some(p) => cwd
            .join(p)
            .parent()
            .map_or_else(|| cwd.to_path_buf(), Path::to_path_buf),
        None => cwd.to_path_buf(),
    };
    // `k8s/`, `deploy/`, `kubernetes-manifests/` say where manifests live, not what the product
    // is called: the folder above them does.
    let generic = [
        "k8s",
        "kubernetes",
        "manifests",
        "kubernetes-manifests",
        "k8s-specifications",
        "deploy",
        "deployment",
        "deployments",
        "base",
        "catalog",
    ];
    dir.canonicalize()
        .ok()
        .and_then(|d| {
            d.ancestors()
                .filter_map(|a| a.file_name().map(|n| n.to_string_lossy().into_owned()))
                .find(|n| !generic.contains(&n.to_ascii_lowercase().as_str()))
        })
        .and_then(|n| names::slugify(&n, names::MAX_LABEL))
        .unwrap_or_else(|| "imported".to_string())
}

/// The summary printed after a successful import.
pub fn summary(unknowns: &[String], skipped: &[String]) -> String {
    let mut out = String::new();
    for s in skipped {
        out.push_str(&format!("skipped: {s}\n"));
    }
    if unknowns.is_empty() {
        out.push_str("Everything in the input was imported.\n");
    } else {
        out.push_str(&format!(
            "{} thing{} could not be known (listed at the top of the file too):\n",
            unknowns.len(),
            if unknowns.len() == 1 { "" } else { "s" }
        ));
        for u in unknowns {
            out.push_str(&format!("  - {}\n", import::render::comment(u)));
        }
    }
    out
}
