//! `k8s-advisor init`: the questionnaire, or a starter file with `--non-interactive`.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::{current_dir, print};
use crate::cli::{Cli, InitArgs};
use crate::diagnostic::Error;
use crate::fsutil;
use crate::init::{evaluate_text, questionnaire};
use crate::names;
use crate::policy::Policy;
use crate::prompt::Terminal;
use crate::report;
use crate::workspace::{self, FILE_NAME};

pub fn run(cli: &Cli, args: &InitArgs) -> Result<u8, Error> {
    let policy = Policy::load(cli.policies.as_deref())?;
    let cwd = current_dir()?;
    let path: PathBuf = cli
        .workspace
        .clone()
        .unwrap_or_else(|| PathBuf::from(FILE_NAME));
    let exists = path.exists();
    if exists && !args.force {
        return Err(Error::usage(
            format!("{} already exists; nothing was written", path.display()),
            "edit it, or run `k8s-advisor init --force` to replace it",
        ));
    }
    // A second workspace below the repository's would shadow it for every command run there.
    if cli.workspace.is_none()
        && !exists
        && let Ok(found) = workspace::locate(None, &cwd)
    {
        return Err(Error::usage(
            format!(
                "this repository already has a workspace, {}; nothing was written",
                found.display()
            ),
            "run k8s-advisor from there, or pass `-w k8s-advisor.toml` to start a second workspace here",
        ));
    }
    if !args.from.is_empty() {
        return super::import::init_from(cli, args, &path, exists);
    }
    let folder = path
        .canonicalize()
        .ok()
        .or_else(|| cwd.join(&path).parent().map(PathBuf::from))
        .and_then(|p| {
            let dir = if p.is_dir() {
                p
            } else {
                p.parent()?.to_path_buf()
            };
            dir.file_name().map(|n| n.to_string_lossy().into_owned())
        })
        .and_then(|n| names::slugify(&n, names::MAX_LABEL))
        .unwrap_or_else(|| "my-product".to_string());
    let (text, verdict) = if args.non_interactive {
        let text = workspace::write::render(&workspace::write::starter(&folder), &policy);
        // Validated like any workspace, but its verdict would be about the sample services.
        evaluate_text(&text, &policy, &path)?;
        (text, None)
    } else {
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return Err(Error::usage(
                "init asks questions, but there is no terminal to ask them on",
                "run `k8s-advisor init --non-interactive` to write a commented starter workspace instead",
            ));
        }
        let outcome = questionnaire(&mut Terminal::new(), &policy, &path, &folder)?;
        (outcome.text, Some(outcome.verdict))
    };
    if exists {
        fsutil::write_atomic(&path, text.as_bytes())?;
    } else {
        fsutil::create_new(&path, text.as_bytes())?;
    }
    if !cli.quiet {
        match &verdict {
            Some(verdict) => {
                print(&report::assess::text(
                    verdict,
                    super::paint(cli.color, true),
                ))?;
                print(&format!("\nWrote {}\n", path.display()))?;
            }
            None => print(&format!(
                "Wrote {}: a starter whose services, namespaces and teams are samples, so no \
                 verdict yet.\nDescribe your own project in it, then run `k8s-advisor assess`.\n",
                path.display()
            ))?,
        }
    }
    Ok(0)
}
