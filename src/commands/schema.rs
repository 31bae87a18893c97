//! `k8s-advisor schema`: prints the JSON Schema of the workspace file. Also the write of a new
//! workspace by `init` and `import`, which keep a copy of the schema beside it for editors.

use std::path::{Path, PathBuf};

use super::print;
use crate::diagnostic::Error;
use crate::files;
use crate::schema::{BESIDE, directive, is_ours, workspace_schema};
use crate::text::shown;

pub fn run() -> Result<u8, Error> {
    print(&workspace_schema())?;
    Ok(0)
}

/// A larger file beside the workspace is not a schema of ours: it is not read.
const LARGEST_SCHEMA: u64 = 1 << 20;

/// The schema copy a new workspace will name, as judged before anything is written: created
/// when missing, replaced when it is an older schema of ours, kept when it is already this
/// one. Anything else there (someone else's file, a link to another file, a FIFO, a folder)
/// is refused, since the workspace's first line would name it.
pub struct SchemaBeside {
    path: PathBuf,
    write: Option<Write>,
}

enum Write {
    Create,
    Replace,
}

impl SchemaBeside {
    /// Judges the schema file beside the workspace at `workspace`.
    pub fn plan(workspace: &Path) -> Result<SchemaBeside, Error> {
        let path = match workspace.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join(BESIDE),
            _ => PathBuf::from(BESIDE),
        };
        if workspace.file_name().is_some_and(|n| n == BESIDE) {
            return Err(Error::usage(
                format!(
                    "{} is the name of the workspace's schema copy",
                    shown(workspace)
                ),
                "name the workspace k8s-advisor.toml, or any other name ending in .toml",
            ));
        }
        let refused = |what: &str| Error::Refused {
            message: format!("{} {what}; nothing was written", shown(&path)),
            help: format!(
                "the workspace's first line names {BESIDE} beside it, so that editors check the \
                 file: move that one away (or write `k8s-advisor schema > {BESIDE}` into it), \
                 or write the workspace into another folder"
            ),
        };
        let meta = match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(SchemaBeside {
                    path,
                    write: Some(Write::Create),
                });
            }
            Err(source) => {
                return Err(Error::Io {
                    action: "read",
                    path,
                    source,
                });
            }
            Ok(meta) => meta,
        };
        let wanted = workspace_schema();
        if meta.file_type().is_symlink() {
            // A link shared by several workspaces is fine when it names this very schema; it
            // is never written through.
            let target = std::fs::metadata(&path);
            if target.is_ok_and(|t| t.is_file() && t.len() <= LARGEST_SCHEMA)
                && std::fs::read(&path).is_ok_and(|now| now == wanted.as_bytes())
            {
                return Ok(SchemaBeside { path, write: None });
            }
            return Err(refused(
                "is a symbolic link to something other than this version's schema",
            ));
        }
        if !meta.is_file() {
            return Err(refused("exists and is not a regular file"));
        }
        if meta.len() > LARGEST_SCHEMA {
            return Err(refused("exists and is not k8s-advisor's schema"));
        }
        let now = std::fs::read(&path).map_err(|source| Error::Io {
            action: "read",
            path: path.clone(),
            source,
        })?;
        let write = if now == wanted.as_bytes() {
            None
        } else if is_ours(&now) {
            Some(Write::Replace)
        } else {
            return Err(refused("exists and is not k8s-advisor's schema"));
        };
        Ok(SchemaBeside { path, write })
    }

    /// What [`SchemaBeside::write_with`] writes, for the "Wrote" line: the workspace, and the
    /// schema copy when it is new or replaced.
    pub fn written(&self, workspace: &Path) -> String {
        match self.write {
            Some(_) => format!("{} and {}", shown(workspace), shown(&self.path)),
            None => shown(workspace),
        }
    }

    /// Writes the schema copy if needed, then the workspace `text` at `workspace` with the
    /// line that names the copy first: a new file, or (`exists`, after `--force`) the user's
    /// file replaced.
    pub fn write_with(&self, workspace: &Path, exists: bool, text: &str) -> Result<(), Error> {
        let schema = workspace_schema();
        match self.write {
            Some(Write::Create) => files::create_new(&self.path, schema.as_bytes())?,
            Some(Write::Replace) => {
                files::write_atomic(&self.path, schema.as_bytes(), files::Durability::Synced)?;
            }
            None => {}
        }
        let text = format!("{}{text}", directive());
        if exists {
            files::replace_user_file(workspace, None, text.as_bytes())
        } else {
            files::create_new(workspace, text.as_bytes())
        }
    }
}
