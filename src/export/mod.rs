//! Render stage of `k8s-advisor export`: the model in the formats other tools keep it in, so
//! that teams find it where they already look. Pure; `commands::export` writes the result.
//!
//! - [`backstage`]: Backstage catalog entities (`catalog-info.yaml`), which `import` reads back;
//! - [`structurizr`]: a Structurizr DSL workspace (the C4 model).
//!
//! Both start with the header of [`crate::generate::stamp`] (`#` comments in both formats), so
//! that `export -o FILE` replaces only a file it wrote and nobody edited since.

pub mod backstage;
pub mod structurizr;

use crate::generate::stamp::{EXPORT_MARKER, stamp_as};
use crate::model::Workspace;

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Backstage catalog entities.
    Backstage,
    /// A Structurizr DSL workspace.
    Structurizr,
}

/// The exported text. `adrs` is the decision record folder relative to where the text is
/// saved, when it exists (Structurizr links it).
pub fn render(ws: &Workspace, format: Format, adrs: Option<&str>) -> String {
    let body = match format {
        Format::Backstage => backstage::render(ws),
        Format::Structurizr => structurizr::render(ws, adrs),
    };
    stamp_as(EXPORT_MARKER, &ws.project.name, &body)
}
