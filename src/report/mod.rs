//! Render stage: turns analysis results into text, JSON or Markdown. Pure functions returning
//! strings, except `print_error`, which the binary calls to show an error on stderr.

pub mod assess;
pub mod graph;

use std::io::IsTerminal;

use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::cli::ColorChoice;
use crate::diagnostic::Error;

/// Whether to color output written to stdout (`stdout = true`) or stderr.
pub fn use_color(choice: ColorChoice, stdout: bool) -> bool {
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

/// Renders an error with its source snippets, as the binary shows it.
pub fn render_error(err: &Error, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, err).is_err() {
        out = format!("error: {err}\n");
    }
    out
}

/// Prints an error to stderr.
pub fn print_error(err: &Error, choice: ColorChoice) {
    eprint!("{}", render_error(err, use_color(choice, false)));
}

/// Escapes text for a Markdown table cell or inline text: nothing in it can open a structure.
pub fn markdown_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
