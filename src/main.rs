//! The `k8s-advisor` binary: parse arguments, run, map the outcome to an exit code.
//!
//! Exit codes: 0 success, 1 findings/drift (per command), 2 bad input or usage; 130 when
//! Ctrl-C stops `init` (the prompt module exits itself, see `prompt::Terminal`).

use std::process::ExitCode;

use clap::Parser;

/// See the comment on `mimalloc` in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = k8s_advisor::cli::Cli::parse();
    let color = cli.color;
    match k8s_advisor::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            k8s_advisor::commands::print_error(&err, color);
            ExitCode::from(2)
        }
    }
}
