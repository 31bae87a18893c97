//! Read + validate stage for the policy files in `policies/`: the decision criteria and the
//! simpler alternatives. The shipped files are compiled into the binary; `--policies DIR`
//! replaces any of them with the file of the same name in DIR.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;

use crate::diagnostic::{Code, Error, Problem, Source};
use crate::tomlfile;

/// The shipped policy files, by file name.
const EMBEDDED: &[(&str, &str)] = &[
    ("criteria.toml", include_str!("../policies/criteria.toml")),
    (
        "alternatives.toml",
        include_str!("../policies/alternatives.toml"),
    ),
    (
        "guardrails.toml",
        include_str!("../policies/guardrails.toml"),
    ),
    ("graph.toml", include_str!("../policies/graph.toml")),
    ("images.toml", include_str!("../policies/images.toml")),
];

/// Model metrics a criterion can take as evidence. What each one counts is part of the policy
/// language: a criterion's verdict must not change with how the namespaces are drawn unless
/// its policy asks for a namespace-dependent metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Number of services.
    Services,
    /// Number of namespaces (business domains), including namespaces without services.
    Namespaces,
    /// Number of distinct teams that own at least one service (a service's own team, else its
    /// namespace's). Unknown when no service has a team: the model cannot tell.
    Teams,
    /// Number of declared service-to-service calls, wherever the namespaces are drawn.
    Calls,
    /// Number of calls whose caller and callee sit in different namespaces.
    CrossNamespaceCalls,
}

impl Metric {
    /// The keyword used in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Services => "services",
            Metric::Namespaces => "namespaces",
            Metric::Teams => "teams",
            Metric::Calls => "calls",
            Metric::CrossNamespaceCalls => "cross-namespace-calls",
        }
    }

    /// "12 services", "1 cross-namespace call".
    pub fn describe(self, value: u64) -> String {
        let (one, many) = match self {
            Metric::Services => ("service", "services"),
            Metric::Namespaces => ("namespace", "namespaces"),
            Metric::Teams => ("team", "teams"),
            Metric::Calls => ("service-to-service call", "service-to-service calls"),
            Metric::CrossNamespaceCalls => ("cross-namespace call", "cross-namespace calls"),
        };
        format!("{value} {}", if value == 1 { one } else { many })
    }
}

/// When a metric counts as evidence that a criterion is met.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Evidence {
    /// What to measure.
    pub metric: Metric,
    /// The smallest value that meets the criterion.
    pub at_least: u64,
}

/// One decision criterion.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Criterion {
    /// Stable id, also the key in the workspace's `[answers]`.
    pub id: String,
    /// Short name for tables.
    pub title: String,
    /// The yes/no question the questionnaire asks.
    pub question: String,
    /// Why the criterion matters.
    pub help: String,
    /// Points added to the score when met.
    #[serde(default = "one")]
    pub weight: u32,
    /// Model evidence, if the model can answer it.
    pub evidence: Option<Evidence>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCriteria {
    threshold: Spanned<u32>,
    criteria: Vec<Spanned<Criterion>>,
}

/// A simpler platform to recommend below the threshold.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Alternative {
    /// Stable id.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Products of this kind.
    #[serde(default)]
    pub examples: Vec<String>,
    /// When it is the right choice.
    pub fits: String,
    /// What speaks for it.
    #[serde(default)]
    pub pros: Vec<String>,
    /// What speaks against it.
    #[serde(default)]
    pub cons: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAlternatives {
    alternatives: Vec<Alternative>,
}

/// Thresholds of the architecture review of the service graph (`policies/graph.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GraphPolicy {
    /// A service called by at least this many other services is reported as `high-fan-in`.
    pub high_fan_in: usize,
    /// A service calling at least this many other services is reported as `high-fan-out`.
    pub high_fan_out: usize,
    /// A longest chain with at least this many services is a warning rather than info.
    pub long_chain: usize,
}

/// All policy in force for one run.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Criteria in file order.
    pub criteria: Vec<Criterion>,
    /// Score at which Kubernetes is recommended.
    pub threshold: u32,
    /// Simpler platforms, in order of preference.
    pub alternatives: Vec<Alternative>,
    /// Thresholds of the graph review.
    pub graph: GraphPolicy,
}

impl Policy {
    /// Loads the shipped policy, with files from `dir` replacing shipped ones of the same name.
    pub fn load(dir: Option<&Path>) -> Result<Policy, Error> {
        if let Some(dir) = dir
            && !dir.is_dir()
        {
            return Err(Error::usage(
                format!("policy folder {} does not exist", dir.display()),
                format!(
                    "pass a folder holding any of {}",
                    EMBEDDED
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let (source, raw): (Source, RawCriteria) = read(dir, "criteria.toml")?;
        let criteria = check_criteria(&source, raw.criteria)?;
        let threshold = *raw.threshold.get_ref();
        let max: u32 = criteria.iter().map(|c| c.weight).sum();
        if threshold == 0 || threshold > max {
            return Err(Error::invalid(
                &source,
                vec![
                    Problem::new(
                        Code::InvalidPolicy,
                        raw.threshold.span(),
                        format!("threshold {threshold} can never be met, or is always met"),
                    )
                    .label("threshold")
                    .help(format!(
                        "pick a threshold from 1 to {max}, the sum of the weights"
                    )),
                ],
            ));
        }
        let (_, alternatives): (Source, RawAlternatives) = read(dir, "alternatives.toml")?;
        let graph = read_graph_policy(dir)?;
        Ok(Policy {
            criteria,
            threshold,
            alternatives: alternatives.alternatives,
            graph,
        })
    }

    /// The criterion ids, for validating workspace answers.
    pub fn criterion_ids(&self) -> Vec<&str> {
        self.criteria.iter().map(|c| c.id.as_str()).collect()
    }
}

/// The largest weight a criterion may have; keeps every sum of weights far from overflow.
const MAX_WEIGHT: u32 = 1000;

fn check_criteria(source: &Source, raw: Vec<Spanned<Criterion>>) -> Result<Vec<Criterion>, Error> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for c in &raw {
        let id = &c.get_ref().id;
        if crate::names::dns1123_label(id).is_err() {
            problems.push(
                Problem::new(
                    Code::InvalidPolicy,
                    c.span(),
                    format!("criterion id {id:?} is not kebab-case"),
                )
                .label("criterion")
                .help("ids look like \"multiple-teams\": lowercase words joined by '-'"),
            );
        }
        if c.get_ref().weight > MAX_WEIGHT {
            problems.push(
                Problem::new(
                    Code::InvalidPolicy,
                    c.span(),
                    format!(
                        "criterion \"{id}\" has weight {}, more than {MAX_WEIGHT}",
                        c.get_ref().weight
                    ),
                )
                .label("criterion")
                .help(format!("weights are whole numbers from 0 to {MAX_WEIGHT}")),
            );
        }
        if !seen.insert(id.clone()) {
            problems.push(
                Problem::new(
                    Code::Duplicate,
                    c.span(),
                    format!("criterion \"{id}\" is defined twice"),
                )
                .label("again here")
                .help("give each criterion its own id"),
            );
        }
    }
    if raw.is_empty() {
        problems.push(
            Problem::new(Code::InvalidPolicy, 0..0, "the policy defines no criteria")
                .help("add at least one [[criteria]] table"),
        );
    }
    if problems.is_empty() {
        Ok(raw.into_iter().map(Spanned::into_inner).collect())
    } else {
        Err(Error::invalid(source, problems))
    }
}

/// Reads `graph.toml`; every threshold must be at least 1, or it would flag every service.
fn read_graph_policy(dir: Option<&Path>) -> Result<GraphPolicy, Error> {
    let (source, raw): (Source, Spanned<GraphPolicy>) = read(dir, "graph.toml")?;
    let span = raw.span();
    let graph = raw.into_inner();
    let mut problems = Vec::new();
    for (key, value, least) in [
        ("high-fan-in", graph.high_fan_in, 1),
        ("high-fan-out", graph.high_fan_out, 1),
        ("long-chain", graph.long_chain, 2),
    ] {
        if value < least {
            let at = key_span(source.text(), key).unwrap_or_else(|| span.clone());
            problems.push(
                Problem::new(
                    Code::InvalidPolicy,
                    at,
                    format!("{key} = {value} would report every service"),
                )
                .label(key)
                .help(format!("use a value of at least {least}")),
            );
        }
    }
    if problems.is_empty() {
        Ok(graph)
    } else {
        Err(Error::invalid(&source, problems))
    }
}

/// Where the top-level `key = ...` line starts, skipping comments that mention the key.
fn key_span(text: &str, key: &str) -> Option<std::ops::Range<usize>> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        let rest = &line[indent..];
        if rest
            .strip_prefix(key)
            .is_some_and(|after| after.trim_start().starts_with('='))
        {
            return Some(offset + indent..offset + indent + key.len());
        }
        offset += line.len();
    }
    None
}

/// Reads one policy file from `dir` or the embedded copy.
fn read<T: DeserializeOwned>(dir: Option<&Path>, name: &str) -> Result<(Source, T), Error> {
    // Anything of that name in the folder is the user's policy: a folder or a FIFO there is an
    // error, never a silent fallback to the shipped policy the user meant to replace.
    let override_path = dir
        .map(|d| d.join(name))
        .filter(|p| std::fs::symlink_metadata(p).is_ok());
    let source = match override_path {
        Some(path) => {
            let bytes = crate::files::read_regular(
                &path,
                "put a policy file there, or remove it to use the shipped one",
            )?;
            tomlfile::decode(&path, bytes)?
        }
        None => {
            let text = EMBEDDED
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| *t)
                .unwrap_or_default();
            Source::new(PathBuf::from(format!("<built-in>/policies/{name}")), text)
        }
    };
    // Every unknown key of the file at once, as for the workspace.
    let (value, problems) =
        crate::tomlkeys::from_str_all(&source, |e| tomlfile::toml_problem(&source, e));
    let value = match value {
        Some(value) if problems.is_empty() => value,
        _ => return Err(Error::invalid(&source, problems)),
    };
    Ok((source, value))
}

/// Reads one policy file from `dir`, or the shipped copy when `dir` is `None` or lacks it, for
/// policy files validated by the stage that uses them (`guardrails.toml` in `check`).
pub(crate) fn read_file<T: DeserializeOwned>(
    dir: Option<&Path>,
    name: &str,
) -> Result<(Source, T), Error> {
    read(dir, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_policy_has_the_five_criteria() {
        let policy = Policy::load(None).unwrap();
        assert_eq!(
            policy.criterion_ids(),
            [
                "independent-services",
                "local-network-dependencies",
                "multiple-teams",
                "infrastructure-control",
                "hybrid-cloud"
            ]
        );
        assert_eq!(policy.threshold, 2);
        assert!(policy.alternatives.len() >= 3);
    }

    #[test]
    fn every_unknown_key_of_a_policy_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("graph.toml"),
            "high-fan-inn = 4\nhigh-fan-out = 5\nlong-chian = 5\n",
        )
        .unwrap();
        let Err(Error::Invalid { problems, .. }) = Policy::load(Some(dir.path())) else {
            panic!("a policy with two unknown keys loaded");
        };
        let keys: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        // Both typos, and then what the file lacks once they are set aside.
        assert_eq!(
            keys,
            [
                "missing key `high-fan-in`",
                "unknown key `high-fan-inn`",
                "unknown key `long-chian`"
            ]
        );
    }

    #[test]
    fn shipped_graph_thresholds() {
        let policy = Policy::load(None).unwrap();
        assert_eq!(policy.graph.high_fan_in, 4);
        assert_eq!(policy.graph.high_fan_out, 5);
        assert_eq!(policy.graph.long_chain, 5);
    }
}
