//! `k8s-advisor export`: the model in another catalog's format.

use super::Context;
use crate::cli::{Cli, ExportArgs};
use crate::diagnostic::Error;

/// Runs `export`.
pub fn run(cli: &Cli, _args: &ExportArgs) -> Result<u8, Error> {
    let _ctx = Context::load(cli)?;
    Ok(0)
}
