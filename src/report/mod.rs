//! Render stage: turns analysis results into text, JSON or Markdown. Pure functions returning
//! strings: whether to colour is decided at the edge (`commands`) and passed in.

pub mod assess;
pub mod check;
pub mod graph;
pub mod sarif;

use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::diagnostic::Error;

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
