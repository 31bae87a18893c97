//! The `k8s-advisor` binary: parse arguments, run, map the outcome to an exit code.
//!
//! Exit codes: 0 success, 1 findings/drift (per command), 2 bad input or usage; 130 when
//! Ctrl-C stops a questionnaire (128 + SIGINT, what shells report for a program stopped so).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;

/// See the comment on `mimalloc` in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = k8s_advisor::cli::Cli::parse();
    let color = cli.color;
    // Without a handler, SIGINT's default action would kill the process with the cursor still
    // hidden by a list prompt. Outside a questionnaire Ctrl-C stops the process as usual.
    let _ = ctrlc::set_handler(|| {
        if k8s_advisor::prompt::asking() {
            interrupted();
        }
        std::process::exit(130);
    });
    match k8s_advisor::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(k8s_advisor::Error::Interrupted) => interrupted(),
        Err(err) => {
            k8s_advisor::commands::print_error(&err, color);
            ExitCode::from(2)
        }
    }
}

/// Ends a questionnaire stopped by Ctrl-C: shows the cursor again, says that nothing was
/// written, and exits 130. The handler thread and the prompt that read ^C may both get here;
/// the second one waits for the first one's exit.
fn interrupted() -> ! {
    static LEAVING: AtomicBool = AtomicBool::new(false);
    if LEAVING.swap(true, Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
    let term = console::Term::stderr();
    let _ = term.show_cursor();
    let _ = term.write_line("");
    let _ = term.write_line(k8s_advisor::prompt::INTERRUPTED);
    std::process::exit(130)
}
