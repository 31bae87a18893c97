//! Analyse stage of `diff`: what a change of the design means, for the review of a pull
//! request. Two validated workspaces (the old and the new side of a change) are compared as
//! models, never as text: the verdict, domains, services, calls, exposure, egress, guardrail
//! findings, and the connectivity of the two generated layouts as the `verify` engine computes
//! it (`connectivity`).
//!
//! Pure: nothing here reads a file or prints; `commands::diff` loads the two sides and
//! `render` turns a [`DesignDiff`] into text, Markdown or JSON. Every list is sorted, so the
//! report never depends on the order of either workspace file.

pub mod connectivity;
pub mod design;
pub mod render;

use serde::Serialize;

use crate::check::Guardrails;
use crate::diagnostic::Error;
use crate::model::Workspace;
use crate::policy::Policy;

pub use connectivity::ConnectivityChanges;
pub use design::{
    CallChanges, DomainChanges, EgressChanges, ExposureChanges, FindingChanges, ProjectChanges,
    ServiceChanges, VerdictChange,
};

/// Everything that changed between two workspaces. Serialised, it is the JSON contract of
/// `diff --format json`: the keys in this order, the contract's first, additions after them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DesignDiff {
    /// True when any section below holds a change.
    pub changed: bool,
    /// The assessment on each side.
    pub verdict: VerdictChange,
    /// Services added, removed and changed.
    pub services: ServiceChanges,
    /// Calls added, removed and changed, with new cross-domain calls and new cycles.
    pub calls: CallChanges,
    /// Services reachable from more (or fewer) places than before.
    pub exposure: ExposureChanges,
    /// Services that may send to more (or fewer) outside addresses than before.
    pub egress: EgressChanges,
    /// Guardrail findings that appeared or went away.
    pub findings: FindingChanges,
    /// What the generated NetworkPolicies allow now and did not before, and the reverse.
    pub connectivity: ConnectivityChanges,
    /// Business domains (namespaces) added, removed and changed.
    pub domains: DomainChanges,
    /// Keys of `[project]` (and `[answers]`) that changed.
    pub project: ProjectChanges,
}

/// What `--fail-on` can name: a change for the worse in one of these makes `diff` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concern {
    /// The recommendation changed: the decision on record no longer holds.
    Verdict,
    /// Some service became reachable from somewhere it was not before.
    Exposure,
    /// Some service may send to outside addresses or ports it could not reach before.
    Egress,
    /// A guardrail finding appeared.
    Findings,
}

impl Concern {
    /// The keyword `--fail-on` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Concern::Verdict => "verdict",
            Concern::Exposure => "exposure",
            Concern::Egress => "egress",
            Concern::Findings => "findings",
        }
    }
}

impl DesignDiff {
    /// True when the change is for the worse in `concern`.
    pub fn worse(&self, concern: Concern) -> bool {
        match concern {
            Concern::Verdict => self.verdict.old.recommended != self.verdict.new.recommended,
            Concern::Exposure => !self.exposure.widened.is_empty(),
            Concern::Egress => !self.egress.widened.is_empty(),
            Concern::Findings => !self.findings.new.is_empty(),
        }
    }
}

/// Compares the `old` and `new` workspaces under one policy and one set of guardrails (those
/// in force for the command). The connectivity of the two generated layouts is computed on two
/// threads. An `Err` is an internal error: a layout `generate` renders always reads.
pub fn diff(
    old: &Workspace,
    new: &Workspace,
    policy: &Policy,
    guardrails: &Guardrails,
) -> Result<DesignDiff, Error> {
    let (old_conn, new_conn) = connectivity::of_layouts(old, new)?;
    let connectivity = connectivity::difference(&old_conn, &new_conn);
    Ok(design::compare(old, new, policy, guardrails, connectivity))
}
