//! Read stage of `import` for a Backstage catalog.

use super::Input;
use super::draft::Draft;
use crate::diagnostic::Error;

/// Reads a catalog.
pub fn read(_inputs: &[Input]) -> Result<Draft, Error> {
    Err(Error::usage("not yet", "not yet"))
}
