//! Analyse stage: guardrails. Applies the rules configured in `policies/guardrails.toml` to the
//! validated model and returns findings, each located at the line of the workspace file it is
//! about. Pure: it reads no files (beyond the policy, in `guardrails`) and prints nothing.

pub mod guardrails;
