//! Read stage of `import` for Kubernetes manifests.

use super::Input;
use super::draft::Draft;
use crate::diagnostic::Error;

/// Reads manifests.
pub fn read(_inputs: &[Input]) -> Result<Draft, Error> {
    Err(Error::usage("not yet", "not yet"))
}
