//! `k8s-advisor schema`: prints the JSON Schema of the workspace file.

use super::print;
use crate::diagnostic::Error;

pub fn run() -> Result<u8, Error> {
    print(&crate::schema::workspace_schema())?;
    Ok(0)
}
