//! `k8s-advisor export`: renders the model as Backstage entities or a Structurizr workspace and
//! prints it, or writes it to `-o FILE`. A file is replaced only when k8s-advisor exported it
//! and nobody edited it since (else `--force`); it is reached by descriptor, never through a
//! symbolic link below the workspace folder, and replaced atomically.

use std::path::{Path, PathBuf};

use super::{Context, Settings, print};
use crate::cli::{ExportArgs, ExportFormat};
use crate::diagnostic::Error;
use crate::export::{self, Format};
use crate::files::{self, Place};
use crate::generate::stamp::{EXPORT_MARKER, Origin, origin_as};
use crate::text::shown;

/// The largest existing output file read before it is replaced: far above any export.
const MAX_BYTES: u64 = 256 << 20;

/// Runs `export`.
pub fn run(opts: &Settings, args: &ExportArgs) -> Result<u8, Error> {
    let ctx = Context::load(opts)?;
    let format = match args.format {
        ExportFormat::Backstage => Format::Backstage,
        ExportFormat::Structurizr => Format::Structurizr,
    };
    let adrs = match format {
        Format::Structurizr => record_folder(&ctx, args.output.as_deref())?,
        Format::Backstage => None,
    };
    if format == Format::Structurizr && adrs.is_none() && !opts.quiet {
        eprintln!(
            "note: no decision records yet, so the workspace has no `!adrs`; run `k8s-advisor \
             record` and export again"
        );
    }
    let text = export::render(&ctx.workspace, format, adrs.as_deref());
    let Some(output) = &args.output else {
        print(&text)?;
        return Ok(0);
    };
    let written = write(&ctx, output, text.as_bytes(), args.force)?;
    if !opts.quiet {
        let verb = if written { "Wrote" } else { "Unchanged" };
        print(&format!("{verb} {}\n", shown(output)))?;
    }
    Ok(0)
}

/// The decision record folder relative to the folder the DSL is saved in (the workspace folder
/// for standard output), when it exists.
fn record_folder(ctx: &Context, output: Option<&Path>) -> Result<Option<String>, Error> {
    let place = crate::adr::locate_dir(&ctx.root, None)?;
    if place.open(Path::new(""))?.is_none() {
        return Ok(None);
    }
    let from = match output {
        Some(file) => file.parent().map_or_else(PathBuf::new, Path::to_path_buf),
        None => ctx.root.clone(),
    };
    super::relative(&from, place.shown()).map(Some)
}

/// Writes `bytes` to `path` unless it holds them already; false when nothing changed.
fn write(ctx: &Context, path: &Path, bytes: &[u8], force: bool) -> Result<bool, Error> {
    let (folder, name) = match (path.parent(), path.file_name()) {
        (Some(folder), Some(name)) => (folder.to_path_buf(), name.to_os_string()),
        (None, Some(name)) => (PathBuf::new(), name.to_os_string()),
        _ => {
            return Err(Error::usage(
                format!("-o {} does not name a file", shown(path)),
                "name the file to write, such as catalog-info.yaml",
            ));
        }
    };
    let place = Place::new(&folder, &ctx.root)?;
    let existing = match place.open(Path::new(""))? {
        Some(folder) => folder
            .read(&name, false, MAX_BYTES)
            .map_err(|why| why.into_error(path, "the export file"))?,
        None => None,
    };
    if let Some(old) = &existing {
        if old == bytes {
            return Ok(false);
        }
        let refuse = |why: String| Error::Refused {
            message: format!("{} {why}; nothing was written", shown(path)),
            help: "choose another file with -o, or run again with --force to replace it"
                .to_string(),
        };
        match origin_as(EXPORT_MARKER, old, &ctx.workspace.project.name) {
            Origin::Intact => {}
            _ if force => {}
            Origin::Edited => {
                return Err(refuse("was edited since k8s-advisor exported it".into()));
            }
            Origin::Foreign => return Err(refuse("was not written by k8s-advisor".into())),
            Origin::OtherProject(owner) => {
                return Err(refuse(format!(
                    "holds the export of project {}",
                    crate::text::clean(&owner)
                )));
            }
        }
    }
    let target = place.create(Path::new(""))?;
    target.write_atomic(&name, bytes, files::Durability::Deferred)?;
    Ok(true)
}
