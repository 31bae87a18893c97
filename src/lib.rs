//! `k8s-advisor`: decide whether a product should run on Kubernetes, review its service graph,
//! and generate a safe starting layout.
//!
//! The pipeline, one module per stage:
//! read (`workspace`, `policy`, `prompt`; `tomlfile` for both files) → validate
//! (`workspace::validate`, `names`, `quantity`) → model (`model`) → analyse (`graph`, `assess`,
//! `check`, `wiring`, `diff`) → render (`report`, `generate`, `record`, `architecture`,
//! `export`, `workspace::write`, `schema`) → write (`layout`,
//! `adr`, `files`).
//! `commands` is the I/O edge that wires the stages together for each subcommand; `init` runs
//! the questionnaire over a `prompt::Prompter`.

pub mod adr;
pub mod architecture;
pub mod assess;
pub mod check;
pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod diff;
pub mod export;
pub mod files;
pub mod filters;
pub mod flows;
pub mod generate;
pub mod graph;
pub mod import;
pub mod init;
pub mod layout;
pub mod model;
pub mod names;
pub mod policy;
pub mod prompt;
pub mod quantity;
pub mod record;
pub mod report;
pub mod rollout;
pub mod schema;
pub mod severity;
pub mod span;
pub mod text;
pub mod tomlfile;
pub mod tomlkeys;
pub mod verify;
pub mod wiring;
pub mod workspace;
pub mod yaml;

pub use diagnostic::Error;

/// Runs one command line; returns the exit code on success (0, or 1 for findings/drift).
pub fn run(cli: cli::Cli) -> Result<u8, Error> {
    commands::run(cli)
}
