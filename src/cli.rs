//! The command line: clap definitions only. Parsing happens here; acting on the arguments
//! happens in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Decide whether a product should run on Kubernetes, review its service graph, and generate a
/// safe starting layout.
#[derive(Debug, Parser)]
#[command(
    name = "k8s-advisor",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// The workspace file [default: k8s-advisor.toml, searched upward from the current folder]
    #[arg(short, long, global = true, value_name = "FILE")]
    pub workspace: Option<PathBuf>,

    /// A folder whose policy files replace the shipped ones of the same name
    #[arg(long, global = true, value_name = "DIR")]
    pub policies: Option<PathBuf>,

    /// When to use colors in text output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Print only errors (and what scripts asked for with --format)
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// What to do
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ask a short questionnaire and write k8s-advisor.toml
    Init(InitArgs),
    /// Draft a workspace from a Compose project, Kubernetes manifests or a Backstage catalog
    Import(ImportArgs),
    /// Score the project against the decision criteria
    Assess(AssessArgs),
    /// Show the service and namespace dependency graph and review it (cycles, coupling, fan-in)
    Graph(GraphArgs),
    /// Apply the guardrail policies to the design; exit 1 on error-level findings
    Check(CheckArgs),
    /// Write the namespace layout, NetworkPolicies, workload stubs and the decision record
    Generate(GenerateArgs),
    /// Write the Markdown architecture decision record
    Record(RecordArgs),
    /// Check any manifests' NetworkPolicies against the design; exit 1 on error-level findings
    Verify(VerifyArgs),
    /// What a change of the design means: verdict, services, calls, exposure, egress, findings
    /// and connectivity, for a pull request
    Diff(DiffArgs),
    /// Write default-deny in steps: kustomize overlays under k8s/rollout/ and docs/rollout.md,
    /// each step proven to block no declared call
    Rollout(RolloutArgs),
    /// Write the model in another catalog's format: Backstage entities or a Structurizr
    /// workspace
    Export(ExportArgs),
    /// Print the JSON Schema of k8s-advisor.toml, for editors and CI
    Schema,
    /// Print shell completions
    Completions(CompletionsArgs),
    /// Print the man page (roff)
    Man,
}

/// `init` options.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Start over even where a workspace exists (without it, init offers to add or change
    /// services in the existing file)
    #[arg(long)]
    pub force: bool,
    /// Write a commented starter workspace without asking anything
    #[arg(long)]
    pub non_interactive: bool,
    /// Import these first (Compose files, manifests or a catalog, as `import` reads them), then
    /// ask only what they could not tell
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub from: Vec<PathBuf>,
    /// With --from: the namespace of the objects that name none, as `kubectl -n` applies them
    #[arg(short = 'n', long, value_name = "NS", requires = "from")]
    pub namespace: Option<String>,
}

/// `import` options.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Compose files (merged in order), manifest files or folders, a catalog-info.yaml; `-`
    /// reads standard input
    #[arg(required_unless_present = "flows", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Draft calls (and egress) from observed traffic too, or alone: `hubble observe -o
    /// jsonpb` lines, an Otterize network-mapper export, a CSV or JSON table
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub flows: Vec<PathBuf>,
    /// With --flows: count bad lines and read the rest instead of stopping at the first
    #[arg(long, requires = "flows")]
    pub skip_bad: bool,
    /// Where to write the workspace [default: k8s-advisor.toml, or the -w file]
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite an existing workspace file
    #[arg(long)]
    pub force: bool,
    /// Compose profile to activate (repeatable); services of other profiles are listed, not
    /// imported
    #[arg(long, value_name = "NAME")]
    pub profile: Vec<String>,
    /// Compose variables from this file instead of the project's .env (repeatable, read in
    /// order); the process environment still wins, as in Compose
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// The namespace of the objects that name none, as `kubectl -n` applies them (default: the
    /// project's)
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
}

/// `assess` options.
#[derive(Debug, Args)]
pub struct AssessArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// Formats of the assessment report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Aligned text for people
    Text,
    /// JSON for scripts
    Json,
    /// A Markdown section for pull requests and wikis
    Markdown,
}

/// `check` options.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

/// Formats of the guardrail report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Findings grouped by severity, for people
    Text,
    /// JSON for scripts
    Json,
    /// SARIF 2.1.0 for code scanning (GitHub shows the findings on the pull request)
    Sarif,
}

/// `graph` options.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,
    /// Show only this namespace and its direct neighbours
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
}

/// Formats of the graph report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A summary with the findings, for people
    Text,
    /// A Mermaid flowchart, one subgraph per namespace
    Mermaid,
    /// Graphviz DOT, one cluster per namespace
    Dot,
    /// JSON for scripts
    Json,
}

/// `generate` options.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output folder [default: k8s, beside the workspace file]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// List every file written and removed
    #[arg(short, long)]
    pub verbose: bool,
    /// Write nothing; print a diff and exit 1 when any file would change
    #[arg(long, conflicts_with = "force")]
    pub check: bool,
    /// Overwrite or remove generated files (and rewrite the decision record) even if someone
    /// edited them
    #[arg(long)]
    pub force: bool,
    /// Do not write the decision record
    #[arg(long)]
    pub no_record: bool,
    /// Folder of the decision records [default: from .adr-dir, else docs/adr, doc/adr or
    /// docs/decisions if present, else docs/adr]
    #[arg(long, value_name = "DIR")]
    pub adr_dir: Option<PathBuf>,
    /// The architecture overview's file; a big model also gets a page per domain in the folder
    /// of the same name [default: docs/architecture.md, beside the workspace file]
    #[arg(long, value_name = "FILE")]
    pub docs: Option<PathBuf>,
    /// Do not write the architecture overview
    #[arg(long, conflicts_with = "docs")]
    pub no_docs: bool,
}

/// `record` options.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Folder of the decision records [default: from .adr-dir, else docs/adr, doc/adr or
    /// docs/decisions if present, else docs/adr]
    #[arg(long, value_name = "DIR")]
    pub adr_dir: Option<PathBuf>,
    /// Rewrite our record even if someone edited it (its status and date are kept)
    #[arg(long)]
    pub force: bool,
}

/// `verify` options.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Manifest files or folders (read recursively for *.yaml, *.yml and *.json), or `-` for
    /// standard input [default: the generated folder k8s, beside the workspace file]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The namespace of objects that name none, as with `kubectl apply -n` [default: default]
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    pub format: VerifyFormat,
    /// Print the connectivity itself instead of comparing it with the workspace
    #[arg(long)]
    pub connectivity: bool,
    /// Hold observed traffic against the workspace (and the policies of PATHs, when given):
    /// `hubble observe -o jsonpb` lines, an Otterize network-mapper export, a CSV or JSON
    /// table; `-` reads standard input
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with = "connectivity")]
    pub flows: Vec<PathBuf>,
    /// With --flows: count bad lines and read the rest instead of stopping at the first
    #[arg(long, requires = "flows")]
    pub skip_bad: bool,
}

/// Formats of the verify report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    /// Findings grouped by namespace, for people
    Text,
    /// JSON for scripts
    Json,
    /// SARIF 2.1.0 for code scanning (not with --connectivity)
    Sarif,
}

/// `rollout` options.
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// What each step isolates
    #[arg(long, value_enum, default_value_t = RolloutBy::Namespace)]
    pub by: RolloutBy,
    /// The generated layout's folder; the overlays go into its `rollout/` folder [default: k8s,
    /// beside the workspace file]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Observed flows every step must let through (as `verify --flows` reads them)
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub flows: Vec<PathBuf>,
    /// With --flows: count bad lines and read the rest instead of stopping at the first
    #[arg(long, requires = "flows")]
    pub skip_bad: bool,
    /// Overwrite overlays or a runbook someone edited
    #[arg(long)]
    pub force: bool,
}

/// What a rollout step isolates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RolloutBy {
    /// One namespace (business domain) per step
    Namespace,
    /// One service per step
    Service,
}

/// `diff` options.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old and the new workspace file; with --base, at most the new one [default: the
    /// workspace, as -w or the search finds it]
    #[arg(value_name = "FILE", num_args = 0..=2)]
    pub files: Vec<PathBuf>,
    /// Compare with the workspace file as committed at this git revision (a branch, tag or
    /// commit), read with git without a checkout
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Exit 1 when one of these changed for the worse: verdict (the recommendation changed),
    /// exposure or egress (widened), findings (a new guardrail finding)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LIST")]
    pub fail_on: Vec<FailOn>,
}

/// What `diff --fail-on` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// The recommendation changed
    Verdict,
    /// A service became reachable from more addresses, ports or a wider level
    Exposure,
    /// A service may send to outside addresses or ports it could not reach before
    Egress,
    /// A guardrail finding appeared
    Findings,
}

/// `export` options.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The format to write
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Write to this file instead of standard output (replaced atomically; a file that
    /// k8s-advisor did not write is kept unless --force)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the output file even if k8s-advisor did not write it, or someone edited it
    #[arg(long, requires = "output")]
    pub force: bool,
}

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A Backstage catalog (catalog-info.yaml): Groups, Domains, Systems, Components, APIs
    Backstage,
    /// A Structurizr DSL workspace (workspace.dsl)
    Structurizr,
}

/// `completions` options.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colors when printing to a terminal
    Auto,
    /// Always colors
    Always,
    /// Never colors
    Never,
}
