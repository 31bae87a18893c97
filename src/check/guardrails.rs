//! Read + validate stage for `policies/guardrails.toml`: which guardrail rules run, at what
//! severity, with which thresholds and texts. The shipped file defines every rule; a
//! `guardrails.toml` in `--policies DIR` is applied over it, rule by rule. Nothing here looks
//! at a workspace.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::images::Images;
use crate::diagnostic::{Code, Error, Problem, Source, closest};
use crate::policy;

/// The policy file name, shipped and in `--policies DIR`.
pub const FILE_NAME: &str = "guardrails.toml";

pub use crate::severity::Severity;

/// The guardrail rules this build implements. The ids are part of the interface (reports,
/// SARIF, users' policy files): never rename or reuse one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleId {
    /// Requests or limits missing.
    ResourcesMissing,
    /// Memory with the `m` suffix.
    MemoryMillibytes,
    /// CPU limit far above the request.
    CpuLimitRatio,
    /// No image.
    ImageMissing,
    /// Image without a tag, or with a tag that moves (`latest`, `alpine`, a bare major, ...).
    ImageUnpinned,
    /// Too few replicas for a service others depend on.
    SingleReplica,
    /// A public service that is also called internally.
    PublicAndCalled,
    /// Too many LoadBalancer services in one namespace.
    LoadBalancersPerNamespace,
    /// Service port differs from target port on EKS.
    EksTargetPort,
    /// Services whose synchronous calls form a cycle (the graph review's `call-cycle` error).
    CallCycle,
    /// Namespaces whose calls form a cycle.
    NamespaceCycle,
    /// Several teams in one namespace.
    NamespaceTeams,
    /// Too many services in one namespace.
    NamespaceSize,
    /// Egress to any address.
    EgressAnywhere,
    /// An internal load balancer kept private only by an annotation (AKS).
    ExposureFailsOpen,
    /// Restricted sources where the pod may not see the client's address (generic).
    ClientAddress,
    /// An image known to keep data (a database) run as a Deployment, without a volume.
    DatabaseWithoutStorage,
}

/// A rule's threshold key in the policy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdKey {
    /// `max-ratio` of `cpu-limit-ratio`.
    MaxRatio,
    /// `min-replicas` of `single-replica`.
    MinReplicas,
    /// `max-load-balancers` of `load-balancers-per-namespace`.
    MaxLoadBalancers,
    /// `max-services` of `namespace-size`.
    MaxServices,
    /// `moving-tags` of `image-unpinned`: a list of tags, not a number.
    MovingTags,
}

/// A rule's threshold as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Threshold {
    /// A count or ratio.
    Count(u32),
    /// Image tags that move; see [`MovingTag`].
    Tags(Vec<MovingTag>),
}

/// One entry of `moving-tags`: a tag that is republished for new releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MovingTag {
    /// This exact tag (compared without case), alone or before a `-variant` (`lts-alpine`).
    Named(String),
    /// `<major>`: a bare major version (`7`, `v7`, `7-alpine`).
    Major,
    /// `<major>.<minor>`: a version without its patch number (`7.2`, `7.2-bookworm`).
    MajorMinor,
}

impl MovingTag {
    /// The entry as written in the policy file.
    pub fn as_str(&self) -> &str {
        match self {
            MovingTag::Named(tag) => tag,
            MovingTag::Major => "<major>",
            MovingTag::MajorMinor => "<major>.<minor>",
        }
    }

    /// Reads a policy entry; `None` when it is neither a pattern nor a valid tag.
    fn parse(text: &str) -> Option<MovingTag> {
        match text {
            "<major>" => Some(MovingTag::Major),
            "<major>.<minor>" => Some(MovingTag::MajorMinor),
            // The grammar of a Docker image tag.
            _ if !text.is_empty()
                && text.len() <= 128
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
                && !text.starts_with(['.', '-']) =>
            {
                Some(MovingTag::Named(text.to_ascii_lowercase()))
            }
            _ => None,
        }
    }

    /// Whether `tag` (of an image reference) matches this entry. Only the part before the first
    /// `-` counts, so that `lts-alpine` and `7-slim` move while `1.4.2-alpine` is pinned.
    pub fn matches(&self, tag: &str) -> bool {
        let head = tag.split('-').next().unwrap_or(tag);
        let numbers = |text: &str| -> Option<usize> {
            let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
            let parts: Vec<&str> = text.split('.').collect();
            parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
                .then_some(parts.len())
        };
        match self {
            MovingTag::Named(name) => head.eq_ignore_ascii_case(name),
            MovingTag::Major => numbers(head) == Some(1),
            MovingTag::MajorMinor => numbers(head) == Some(2),
        }
    }
}

impl ThresholdKey {
    /// The key as written.
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdKey::MaxRatio => "max-ratio",
            ThresholdKey::MinReplicas => "min-replicas",
            ThresholdKey::MaxLoadBalancers => "max-load-balancers",
            ThresholdKey::MaxServices => "max-services",
            ThresholdKey::MovingTags => "moving-tags",
        }
    }

    /// The smallest value that makes sense, for numeric thresholds.
    fn minimum(self) -> u32 {
        match self {
            ThresholdKey::MaxRatio | ThresholdKey::MinReplicas | ThresholdKey::MaxServices => 1,
            ThresholdKey::MaxLoadBalancers | ThresholdKey::MovingTags => 0,
        }
    }
}

impl RuleId {
    /// Every rule, in the order reports and SARIF list them.
    pub const ALL: [RuleId; 17] = [
        RuleId::ResourcesMissing,
        RuleId::MemoryMillibytes,
        RuleId::CpuLimitRatio,
        RuleId::ImageMissing,
        RuleId::ImageUnpinned,
        RuleId::SingleReplica,
        RuleId::PublicAndCalled,
        RuleId::LoadBalancersPerNamespace,
        RuleId::EksTargetPort,
        RuleId::CallCycle,
        RuleId::NamespaceCycle,
        RuleId::NamespaceTeams,
        RuleId::NamespaceSize,
        RuleId::EgressAnywhere,
        RuleId::ExposureFailsOpen,
        RuleId::ClientAddress,
        RuleId::DatabaseWithoutStorage,
    ];

    /// The stable id.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::ResourcesMissing => "resources-missing",
            RuleId::MemoryMillibytes => "memory-millibytes",
            RuleId::CpuLimitRatio => "cpu-limit-ratio",
            RuleId::ImageMissing => "image-missing",
            RuleId::ImageUnpinned => "image-unpinned",
            RuleId::SingleReplica => "single-replica",
            RuleId::PublicAndCalled => "public-and-called",
            RuleId::LoadBalancersPerNamespace => "load-balancers-per-namespace",
            RuleId::EksTargetPort => "eks-target-port",
            RuleId::CallCycle => "call-cycle",
            RuleId::NamespaceCycle => "namespace-cycle",
            RuleId::NamespaceTeams => "namespace-teams",
            RuleId::NamespaceSize => "namespace-size",
            RuleId::EgressAnywhere => "egress-anywhere",
            RuleId::ExposureFailsOpen => "exposure-fails-open",
            RuleId::ClientAddress => "client-address",
            RuleId::DatabaseWithoutStorage => "database-without-storage",
        }
    }

    /// The threshold the rule takes, if any.
    pub fn threshold_key(self) -> Option<ThresholdKey> {
        match self {
            RuleId::CpuLimitRatio => Some(ThresholdKey::MaxRatio),
            RuleId::SingleReplica => Some(ThresholdKey::MinReplicas),
            RuleId::LoadBalancersPerNamespace => Some(ThresholdKey::MaxLoadBalancers),
            RuleId::NamespaceSize => Some(ThresholdKey::MaxServices),
            RuleId::ImageUnpinned => Some(ThresholdKey::MovingTags),
            _ => None,
        }
    }

    fn parse(text: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule as configured.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Which rule.
    pub id: RuleId,
    /// False when the policy switched it off.
    pub enabled: bool,
    /// Severity of its findings.
    pub severity: Severity,
    /// What the rule wants, in one line.
    pub title: String,
    /// What triggers a finding.
    pub description: String,
    /// Why it matters.
    pub rationale: String,
    /// How to fix a finding.
    pub fix: String,
    /// The threshold, for rules that have one.
    pub threshold: Option<Threshold>,
}

/// Every rule, configured, in `RuleId::ALL` order, and what the rules know about images.
#[derive(Debug, Clone)]
pub struct Guardrails {
    /// The rules.
    pub rules: Vec<Rule>,
    /// Well-known images (`images.toml`): their release numbering and whether they keep data.
    pub images: Images,
}

impl Guardrails {
    /// Loads the shipped rules, with `dir/guardrails.toml` (when anything has that name:
    /// a folder or FIFO there is an error, never the shipped rules) applied over them, and the
    /// known images likewise.
    pub fn load(dir: Option<&Path>) -> Result<Guardrails, Error> {
        let (source, shipped): (Source, RawGuardrails) = policy::read_file(None, FILE_NAME)?;
        let mut rules = base(&source, shipped)?;
        if let Some(dir) = dir.filter(|d| std::fs::symlink_metadata(d.join(FILE_NAME)).is_ok()) {
            let (source, overrides): (Source, RawGuardrails) =
                policy::read_file(Some(dir), FILE_NAME)?;
            apply(&source, overrides, &mut rules)?;
        }
        let images = Images::load(dir)?;
        Ok(Guardrails { rules, images })
    }

    /// The configuration of one rule.
    pub fn rule(&self, id: RuleId) -> &Rule {
        // `load` guarantees one entry per id, in `RuleId::ALL` order.
        &self.rules[RuleId::ALL.iter().position(|r| *r == id).unwrap_or(0)]
    }

    /// The rule's numeric threshold, or `default` if it has none (never the case after `load`
    /// for a rule whose key is numeric).
    pub fn threshold(&self, id: RuleId, default: u32) -> u32 {
        match self.rule(id).threshold {
            Some(Threshold::Count(n)) => n,
            _ => default,
        }
    }

    /// The rule's list of moving tags; empty when it has none.
    pub fn moving_tags(&self, id: RuleId) -> &[MovingTag] {
        match &self.rule(id).threshold {
            Some(Threshold::Tags(tags)) => tags,
            _ => &[],
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawGuardrails {
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRule {
    id: Spanned<String>,
    enabled: Option<bool>,
    severity: Option<Spanned<String>>,
    title: Option<String>,
    description: Option<String>,
    rationale: Option<String>,
    fix: Option<String>,
    max_ratio: Option<Spanned<i64>>,
    min_replicas: Option<Spanned<i64>>,
    max_load_balancers: Option<Spanned<i64>>,
    max_services: Option<Spanned<i64>>,
    moving_tags: Option<Spanned<Vec<Spanned<String>>>>,
}

impl RawRule {
    fn thresholds(&self) -> impl Iterator<Item = (ThresholdKey, &Spanned<i64>)> {
        [
            (ThresholdKey::MaxRatio, &self.max_ratio),
            (ThresholdKey::MinReplicas, &self.min_replicas),
            (ThresholdKey::MaxLoadBalancers, &self.max_load_balancers),
            (ThresholdKey::MaxServices, &self.max_services),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
    }
}

/// Builds the rules from the shipped file, which must define each of them completely.
fn base(source: &Source, raw: RawGuardrails) -> Result<Vec<Rule>, Error> {
    let mut slots: Vec<Option<Rule>> = vec![None; RuleId::ALL.len()];
    let mut problems = Vec::new();
    for (id, entry) in known_rules(&raw, &mut problems) {
        let span = entry.span();
        let raw = entry.get_ref();
        let slot = &mut slots[index(id)];
        let missing: Vec<&str> = [
            ("title", raw.title.is_none()),
            ("description", raw.description.is_none()),
            ("rationale", raw.rationale.is_none()),
            ("fix", raw.fix.is_none()),
            ("severity", raw.severity.is_none()),
        ]
        .into_iter()
        .filter_map(|(k, m)| m.then_some(k))
        .collect();
        if !missing.is_empty() {
            problems.push(
                Problem::new(
                    Code::InvalidPolicy,
                    span.clone(),
                    format!("rule \"{id}\" lacks {}", missing.join(", ")),
                )
                .label("incomplete rule")
                .help("the shipped guardrails define every key of every rule"),
            );
            continue;
        }
        let mut rule = Rule {
            id,
            enabled: raw.enabled.unwrap_or(true),
            severity: Severity::Error,
            title: raw.title.clone().unwrap_or_default(),
            description: raw.description.clone().unwrap_or_default(),
            rationale: raw.rationale.clone().unwrap_or_default(),
            fix: raw.fix.clone().unwrap_or_default(),
            threshold: None,
        };
        override_rule(raw, &mut rule, &mut problems);
        if let Some(key) = id.threshold_key()
            && rule.threshold.is_none()
        {
            problems.push(
                Problem::new(
                    Code::InvalidPolicy,
                    span,
                    format!("rule \"{id}\" lacks its threshold `{}`", key.as_str()),
                )
                .label("incomplete rule")
                .help(format!("add `{} = ...`", key.as_str())),
            );
        }
        *slot = Some(rule);
    }
    for (id, slot) in RuleId::ALL.iter().zip(&slots) {
        if slot.is_none() && problems.is_empty() {
            problems.push(
                Problem::new(
                    Code::InvalidPolicy,
                    0..0,
                    format!("the shipped guardrails do not define rule \"{id}\""),
                )
                .help("add a [[rules]] table for it"),
            );
        }
    }
    if problems.is_empty() {
        Ok(slots.into_iter().flatten().collect())
    } else {
        Err(Error::invalid(source, problems))
    }
}

/// Applies a user's policy file over the rules.
fn apply(source: &Source, raw: RawGuardrails, rules: &mut [Rule]) -> Result<(), Error> {
    let mut problems = Vec::new();
    for (id, entry) in known_rules(&raw, &mut problems) {
        override_rule(entry.get_ref(), &mut rules[index(id)], &mut problems);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(source, problems))
    }
}

/// The entries of a policy file whose id names a rule, each rule once; unknown ids and
/// repeats become problems.
fn known_rules<'a>(
    raw: &'a RawGuardrails,
    problems: &mut Vec<Problem>,
) -> Vec<(RuleId, &'a Spanned<RawRule>)> {
    let mut first: Vec<Option<Range<usize>>> = vec![None; RuleId::ALL.len()];
    let mut known = Vec::with_capacity(raw.rules.len());
    for entry in &raw.rules {
        let Some(id) = rule_id(entry.get_ref(), problems) else {
            continue;
        };
        if let Some(earlier) = first[index(id)].replace(entry.get_ref().id.span()) {
            problems.push(duplicate(entry.get_ref(), earlier));
            continue;
        }
        known.push((id, entry));
    }
    known
}

fn index(id: RuleId) -> usize {
    RuleId::ALL.iter().position(|r| *r == id).unwrap_or(0)
}

fn rule_id(raw: &RawRule, problems: &mut Vec<Problem>) -> Option<RuleId> {
    let text = raw.id.get_ref();
    let id = RuleId::parse(text);
    if id.is_none() {
        let help = match closest(text, RuleId::ALL.iter().map(|r| r.as_str())) {
            Some(c) => format!("did you mean \"{c}\"? The rules are listed in docs/guide/check.md"),
            None => format!(
                "the rules are {}",
                RuleId::ALL
                    .iter()
                    .map(|r| format!("\"{r}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        problems.push(
            Problem::new(
                Code::InvalidPolicy,
                raw.id.span(),
                format!("unknown guardrail rule \"{text}\""),
            )
            .label("no such rule")
            .help(help),
        );
    }
    id
}

fn duplicate(raw: &RawRule, first: Range<usize>) -> Problem {
    Problem::new(
        Code::Duplicate,
        raw.id.span(),
        format!("rule \"{}\" is configured twice", raw.id.get_ref()),
    )
    .label("again here")
    .also(first, "first here")
    .help("merge the two [[rules]] tables into one")
}

/// Replaces the rule's settings with those the raw entry sets, checking each.
fn override_rule(raw: &RawRule, rule: &mut Rule, problems: &mut Vec<Problem>) {
    if let Some(enabled) = raw.enabled {
        rule.enabled = enabled;
    }
    if let Some(severity) = &raw.severity {
        match Severity::parse(severity.get_ref()) {
            Some(s) => rule.severity = s,
            None => {
                let names = Severity::ALL.iter().map(|s| s.as_str());
                let help = match closest(severity.get_ref(), names) {
                    Some(c) => format!(
                        "did you mean \"{c}\"? A severity is \"error\", \"warning\" or \"info\""
                    ),
                    None => "a severity is \"error\", \"warning\" or \"info\"".to_string(),
                };
                problems.push(
                    Problem::new(
                        Code::InvalidPolicy,
                        severity.span(),
                        format!("unknown severity {:?}", severity.get_ref()),
                    )
                    .label("not a severity")
                    .help(help),
                );
            }
        }
    }
    for (text, field) in [
        (&raw.title, &mut rule.title),
        (&raw.description, &mut rule.description),
        (&raw.rationale, &mut rule.rationale),
        (&raw.fix, &mut rule.fix),
    ] {
        if let Some(text) = text {
            field.clone_from(text);
        }
    }
    if let Some(tags) = &raw.moving_tags {
        if rule.id.threshold_key() == Some(ThresholdKey::MovingTags) {
            rule.threshold = Some(Threshold::Tags(moving_tags(tags.get_ref(), problems)));
        } else {
            problems.push(foreign_threshold(
                rule.id,
                ThresholdKey::MovingTags,
                tags.span(),
            ));
        }
    }
    for (key, value) in raw.thresholds() {
        if rule.id.threshold_key() != Some(key) {
            problems.push(foreign_threshold(rule.id, key, value.span()));
            continue;
        }
        match u32::try_from(*value.get_ref()) {
            Ok(n) if n >= key.minimum() && n <= 100_000 => {
                rule.threshold = Some(Threshold::Count(n))
            }
            _ => problems.push(
                Problem::new(
                    Code::InvalidPolicy,
                    value.span(),
                    format!(
                        "`{}` must be between {} and 100000, not {}",
                        key.as_str(),
                        key.minimum(),
                        value.get_ref()
                    ),
                )
                .label("out of range")
                .help(format!(
                    "set a whole number from {} to 100000",
                    key.minimum()
                )),
            ),
        }
    }
}

/// A threshold key set on a rule that does not take it.
fn foreign_threshold(id: RuleId, key: ThresholdKey, span: Range<usize>) -> Problem {
    let help = match id.threshold_key() {
        Some(own) => format!("did you mean `{}`?", own.as_str()),
        None => format!("rule \"{id}\" has no threshold; remove the key"),
    };
    Problem::new(
        Code::InvalidPolicy,
        span,
        format!("rule \"{id}\" does not take `{}`", key.as_str()),
    )
    .label("not a threshold of this rule")
    .help(help)
}

/// Reads `moving-tags`, reporting entries that are neither a tag nor a pattern.
fn moving_tags(raw: &[Spanned<String>], problems: &mut Vec<Problem>) -> Vec<MovingTag> {
    let mut tags = Vec::with_capacity(raw.len());
    for entry in raw {
        match MovingTag::parse(entry.get_ref()) {
            Some(tag) => tags.push(tag),
            None => problems.push(
                Problem::new(
                    Code::InvalidPolicy,
                    entry.span(),
                    format!("{:?} is not an image tag", entry.get_ref()),
                )
                .label("not a tag")
                .help(
                    "a tag has letters, digits, '_', '.' and '-' (not first), at most 128 of \
                     them; or write the pattern \"<major>\" or \"<major>.<minor>\"",
                ),
            ),
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_file_defines_every_rule_once() {
        let g = Guardrails::load(None).unwrap();
        let ids: Vec<_> = g.rules.iter().map(|r| r.id).collect();
        assert_eq!(ids, RuleId::ALL);
        for rule in &g.rules {
            assert!(rule.enabled, "{}", rule.id);
            assert_eq!(
                rule.threshold.is_some(),
                rule.id.threshold_key().is_some(),
                "{}",
                rule.id
            );
        }
    }

    #[test]
    fn moving_tags_match_the_part_before_a_variant() {
        let named = MovingTag::parse("lts").unwrap();
        assert!(named.matches("lts"));
        assert!(named.matches("LTS-alpine"));
        assert!(!named.matches("ltsx"));
        for tag in ["7", "v7", "7-alpine"] {
            assert!(MovingTag::Major.matches(tag), "{tag}");
            assert!(!MovingTag::MajorMinor.matches(tag), "{tag}");
        }
        for tag in ["7.2", "7.2-bookworm"] {
            assert!(MovingTag::MajorMinor.matches(tag), "{tag}");
        }
        for tag in [
            "7.2.4",
            "7.2.4-alpine",
            "20240101",
            "alpine3.19",
            "sha-3f2a1b",
        ] {
            assert!(!MovingTag::Major.matches(tag), "{tag}");
            assert!(!MovingTag::MajorMinor.matches(tag), "{tag}");
        }
        assert_eq!(MovingTag::parse("-x"), None);
        assert_eq!(MovingTag::parse(""), None);
        assert_eq!(MovingTag::parse("a:b"), None);
    }

    /// The rules that carry a graph finding into `check` keep the graph's code as their id, so
    /// the review and the CI gate name the problem the same way.
    #[test]
    fn graph_rules_share_the_graph_codes() {
        use crate::graph::FindingCode;
        assert_eq!(RuleId::CallCycle.as_str(), FindingCode::CallCycle.as_str());
        assert_eq!(
            RuleId::NamespaceCycle.as_str(),
            FindingCode::NamespaceCycle.as_str()
        );
    }

    #[test]
    fn rule_ids_are_unique_kebab_case() {
        let mut ids: Vec<_> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
        for id in &ids {
            assert!(crate::names::dns1123_label(id).is_ok(), "{id}");
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RuleId::ALL.len());
    }
}
