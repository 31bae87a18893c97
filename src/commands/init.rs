//! `k8s-advisor init`: the questionnaire, a starter file with `--non-interactive`, or, on a
//! folder that already has a workspace, a change of its services in place.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::schema::SchemaBeside;
use super::{Settings, current_dir, print};
use crate::check::Guardrails;
use crate::cli::InitArgs;
use crate::diagnostic::Error;
use crate::files;
use crate::init::{edit, evaluate_text, questionnaire};
use crate::policy::Policy;
use crate::prompt::Terminal;
use crate::report;
use crate::text::shown;
use crate::workspace::{self, FILE_NAME};

pub fn run(opts: &Settings, args: &InitArgs) -> Result<u8, Error> {
    let policy = Policy::load(opts.policies.as_deref())?;
    let guardrails = Guardrails::load(opts.policies.as_deref())?;
    let cwd = current_dir()?;
    let path: PathBuf = opts
        .workspace
        .clone()
        .unwrap_or_else(|| PathBuf::from(FILE_NAME));
    let exists = path.exists();
    if exists && !args.force {
        if args.non_interactive || !args.from.is_empty() || !interactive() {
            return Err(Error::usage(
                format!("{} already exists; nothing was written", path.display()),
                "run `k8s-advisor init` in a terminal to add or change its services, or \
                 `k8s-advisor init --force` to start over",
            ));
        }
        // Loaded (and so validated) before any question: a broken file is reported at once.
        let ws = workspace::load(&path, &policy.criterion_ids())?;
        let text = ws.source.text();
        // The terminal goes before the file is written: Ctrl-C then no longer ends the run.
        let outcome = {
            let mut terminal = Terminal::new(opts.color_err);
            edit::run(&mut terminal, &policy, &guardrails, &ws)?
        };
        let Some(outcome) = outcome else {
            return finish(opts, "", &path, None, "Nothing changed in");
        };
        let new = edit::keep_line_endings(text, outcome.text);
        files::replace_user_file(&path, Some(text.as_bytes()), new.as_bytes())?;
        return finish(opts, &shown(&path), &path, Some(&outcome.verdict), "");
    }
    // A second workspace below the repository's would shadow it for every command run there.
    if opts.workspace.is_none()
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
    // Judged before any question, like the workspace: the answers are not lost to a refusal.
    let schema = SchemaBeside::plan(&path)?;
    if !args.from.is_empty() {
        return super::import::init_from(opts, args, &path, exists, &schema);
    }
    let folder = folder_name(&path, &cwd);
    let (text, verdict) = if args.non_interactive {
        let text = workspace::write::render(&workspace::write::starter(&folder), &policy);
        // Validated like any workspace, but its verdict would be about the sample services.
        evaluate_text(&text, &policy, &path)?;
        (text, None)
    } else {
        if !interactive() {
            return Err(Error::usage(
                "init asks questions, but there is no terminal to ask them on",
                "run `k8s-advisor init --non-interactive` to write a commented starter workspace instead",
            ));
        }
        let mut terminal = Terminal::new(opts.color_err);
        let outcome = questionnaire(&mut terminal, &policy, &guardrails, &path, &folder)?;
        drop(terminal);
        (outcome.text, Some(outcome.verdict))
    };
    schema.write_with(&path, exists, &text)?;
    if verdict.is_none() && !opts.quiet {
        print(&format!(
            "Wrote {}.\nThe workspace is a starter whose services, namespaces and teams are \
             samples. Until you describe your own project in it, `k8s-advisor assess` judges \
             the samples, not your product.\n",
            schema.written(&path)
        ))?;
        return Ok(0);
    }
    finish(opts, &schema.written(&path), &path, verdict.as_ref(), "")
}

fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// The project name the folder of the workspace suggests.
fn folder_name(path: &Path, cwd: &Path) -> String {
    let folder = cwd
        .join(path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let folder = folder.canonicalize().unwrap_or(folder);
    crate::init::project_name(&folder, workspace::repository_root(&folder).as_deref())
}

/// The end screen: the verdict, what was written, and the commands that matter next. With no
/// verdict, nothing was written and `unchanged` says so.
fn finish(
    opts: &Settings,
    written: &str,
    path: &Path,
    verdict: Option<&crate::assess::Verdict>,
    unchanged: &str,
) -> Result<u8, Error> {
    if opts.quiet {
        return Ok(0);
    }
    let Some(verdict) = verdict else {
        print(&format!("{unchanged} {}.\n", path.display()))?;
        return Ok(0);
    };
    print(&report::assess::text(verdict, opts.paint()))?;
    print(&format!("\nWrote {written}\n\n{}", next_steps(opts, path)))?;
    Ok(0)
}

/// The next commands, with the paths they read and write.
fn next_steps(opts: &Settings, path: &Path) -> String {
    let w = match &opts.workspace {
        Some(p) => format!(" -w {}", p.display()),
        None => String::new(),
    };
    let root = path.parent().unwrap_or(Path::new(""));
    let out = root.join(crate::generate::DEFAULT_OUT);
    let adr = crate::adr::locate_dir(root, None).map_or_else(
        |_| root.join("docs/adr"),
        |place| place.shown().to_path_buf(),
    );
    let rows = [
        (
            format!("k8s-advisor assess{w}"),
            "the verdict and its reasons".to_string(),
        ),
        (
            format!("k8s-advisor graph --format mermaid{w}"),
            "the call graph, as a Mermaid diagram".to_string(),
        ),
        (
            format!("k8s-advisor check{w}"),
            "guardrails: resources, images, exposure, replicas".to_string(),
        ),
        (
            format!("k8s-advisor generate{w}"),
            format!(
                "writes {}/ and a decision record in {}/",
                out.display(),
                adr.display()
            ),
        ),
    ];
    let width = rows.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    let mut text = String::from("Next:\n");
    for (command, what) in rows {
        text.push_str(&format!("  {command:<width$}  {what}\n"));
    }
    text
}
