//! The I/O edge: one function per subcommand that loads inputs, calls the pure stages and
//! writes the results. Nothing here computes anything the stages could compute.

mod assess;
mod check;
mod diff;
mod export;
mod generate;
mod graph;
mod import;
mod init;
mod record;
mod rollout;
mod schema;
mod verify;
mod verify_flows;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::{Cli, ColorChoice, Command};
use crate::diagnostic::Error;
use crate::model::Workspace;
use crate::policy::Policy;
use crate::text::Paint;
use crate::workspace;

/// The global options, resolved once before any command runs: each command takes these, never
/// the clap struct, so colour, quiet and the paths mean the same everywhere.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `-w/--workspace`: the workspace file, when named.
    pub workspace: Option<PathBuf>,
    /// `--policies`: the folder whose files replace the shipped policies.
    pub policies: Option<PathBuf>,
    /// Colour on standard output, from `--color`, `NO_COLOR` and whether it is a terminal.
    pub color_out: bool,
    /// Colour on standard error (prompts, warnings, errors), decided the same way.
    pub color_err: bool,
    /// `-q/--quiet`: only errors, and what `--format` asked for.
    pub quiet: bool,
}

impl Settings {
    /// Resolves the global options of `cli`.
    pub fn resolve(cli: &Cli) -> Self {
        Settings {
            workspace: cli.workspace.clone(),
            policies: cli.policies.clone(),
            color_out: use_color(cli.color, true),
            color_err: use_color(cli.color, false),
            quiet: cli.quiet,
        }
    }

    /// The styling of reports written to standard output.
    pub fn paint(&self) -> Paint {
        Paint {
            color: self.color_out,
        }
    }
}

/// What every command that reads a workspace starts from.
pub struct Context {
    /// The policy in force.
    pub policy: Policy,
    /// The validated workspace.
    pub workspace: Workspace,
    /// The folder holding the workspace file (empty for the current folder); relative paths
    /// start here.
    pub root: PathBuf,
}

impl Context {
    /// Loads policy and workspace as the global options say.
    pub fn load(opts: &Settings) -> Result<Context, Error> {
        Context::load_at(opts, &Context::locate(opts)?)
    }

    /// The workspace file the global options name, or the one found from the current folder.
    pub fn locate(opts: &Settings) -> Result<PathBuf, Error> {
        workspace::locate(opts.workspace.as_deref(), &current_dir()?)
    }

    /// Loads policy and the workspace at `path` (from [`Context::locate`]).
    pub fn load_at(opts: &Settings, path: &Path) -> Result<Context, Error> {
        let policy = Policy::load(opts.policies.as_deref())?;
        let workspace = workspace::load(path, &policy.criterion_ids())?;
        Ok(Context {
            policy,
            workspace,
            root: root_of(path),
        })
    }
}

/// The folder of the workspace file at `path`: empty when it is in the current folder, so
/// that paths derived from it read `k8s/...`, not `./k8s/...`.
fn root_of(path: &Path) -> PathBuf {
    path.parent().map_or_else(PathBuf::new, Path::to_path_buf)
}

fn current_dir() -> Result<PathBuf, Error> {
    std::env::current_dir().map_err(|source| Error::Io {
        action: "read",
        path: PathBuf::from("."),
        source,
    })
}

/// Whether to colour text written to stdout (`stdout = true`) or stderr: decided once, here at
/// the edge, from `--color`, `NO_COLOR` and whether the stream is a terminal.
fn use_color(choice: ColorChoice, stdout: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && if stdout {
                    std::io::stdout().is_terminal()
                } else {
                    std::io::stderr().is_terminal()
                }
        }
    }
}

/// Prints an error to stderr, with its source snippets, as the binary shows it.
pub fn print_error(err: &Error, choice: ColorChoice) {
    eprint!(
        "{}",
        crate::report::render_error(err, use_color(choice, false))
    );
}

/// Prints a rendered report to stdout.
pub(crate) fn print(text: &str) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (`| head`) is not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|source| Error::Io {
            action: "write",
            path: PathBuf::from("<stdout>"),
            source,
        }),
    }
}

/// Today's date, or the one `SOURCE_DATE_EPOCH` names (reproducible builds and tests).
pub(crate) fn today() -> Result<String, Error> {
    let bad = |value: &str| {
        Error::usage(
            format!("SOURCE_DATE_EPOCH={value:?} is not a number of seconds"),
            "unset it, or set it to a Unix timestamp such as 1767225600",
        )
    };
    let timestamp = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => {
            let seconds: i64 = value.trim().parse().map_err(|_| bad(&value))?;
            jiff::Timestamp::from_second(seconds).map_err(|_| bad(&value))?
        }
        Err(_) => jiff::Timestamp::now(),
    };
    Ok(timestamp
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string())
}

/// Adds the decision record to `plan`, as `generate` and `record` both place it.
/// `generated` lists the generated files, relative to the workspace folder.
pub(crate) fn plan_record(
    ctx: &Context,
    plan: &mut crate::layout::Plan,
    adr_dir: Option<&Path>,
    generated: Vec<String>,
    graph: &crate::graph::ServiceGraph<'_>,
    verdict: &crate::assess::Verdict,
    findings: &[crate::graph::Finding],
) -> Result<(), Error> {
    let today = today()?;
    let input = crate::layout::record::RecordInput {
        root: &ctx.root,
        adr_dir,
        generated,
        today: &today,
        findings,
    };
    crate::layout::record::plan(plan, graph, &ctx.policy, verdict, input)
}

/// `to` as a relative path from the folder `from`, with `/` separators (`.` for the folder
/// itself): both made absolute and compared component by component, so that a document can
/// link another wherever the two are.
pub(crate) fn relative(from: &Path, to: &Path) -> Result<String, Error> {
    let from = crate::files::lexical(from)?;
    let to = crate::files::lexical(to)?;
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_string(); a.len() - common];
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    Ok(if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    })
}

/// Reads flow files (`--flows`) and classifies and maps their records onto `ws` (and the
/// workloads of `manifests`): what reading found, the observations, the files as read.
pub(crate) fn observe_flows(
    paths: &[PathBuf],
    skip_bad: bool,
    ws: &Workspace,
    manifests: Option<&crate::verify::manifest::Manifests>,
) -> Result<
    (
        crate::flows::read::Reading,
        crate::flows::observe::Observations,
        Vec<PathBuf>,
    ),
    Error,
> {
    let (reading, observer) =
        crate::flows::read::read(paths, &mut std::io::stdin().lock(), skip_bad, &|| {
            crate::flows::observe::Observer::new(ws, manifests)
        })?;
    let files = reading.files.iter().map(|(p, _)| p.clone()).collect();
    Ok((reading, observer.observations, files))
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<u8, Error> {
    let opts = Settings::resolve(&cli);
    match &cli.command {
        Command::Init(args) => init::run(&opts, args),
        Command::Import(args) => import::run(&opts, args),
        Command::Assess(args) => assess::run(&opts, args),
        Command::Check(args) => check::run(&opts, args),
        Command::Graph(args) => graph::run(&opts, args),
        Command::Generate(args) => generate::run(&opts, args),
        Command::Record(args) => record::run(&opts, args),
        Command::Verify(args) => verify::run(&opts, args),
        Command::Diff(args) => diff::run(&opts, args),
        Command::Export(args) => export::run(&opts, args),
        Command::Rollout(args) => rollout::run(&opts, args),
        Command::Schema => schema::run(),
        Command::Completions(args) => {
            let mut out = Vec::new();
            clap_complete::generate(args.shell, &mut Cli::command(), "k8s-advisor", &mut out);
            print(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|source| Error::Io {
                    action: "write",
                    path: PathBuf::from("<stdout>"),
                    source,
                })?;
            print(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
    }
}
