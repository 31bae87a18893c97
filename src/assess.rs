//! Analyse stage: scores the workspace against the decision criteria of the policy.
//!
//! Pure: takes the model, its graph and the policy, returns a verdict. Rendering lives in
//! `report::assess`.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::graph::ServiceGraph;
use crate::policy::{Alternative, Criterion, Metric, Policy};

/// Whether a criterion holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The criterion holds.
    Met,
    /// The criterion does not hold.
    NotMet,
    /// Nobody said, and the model cannot tell.
    Unanswered,
}

impl Status {
    /// The keyword used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::NotMet => "not-met",
            Status::Unanswered => "unanswered",
        }
    }
}

/// Where a status comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// An explicit answer in the workspace.
    Answer,
    /// A metric of the model.
    Evidence,
    /// Neither.
    None,
}

impl Source {
    /// The keyword used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Answer => "answer",
            Source::Evidence => "evidence",
            Source::None => "none",
        }
    }
}

/// What the model says about a criterion.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EvidenceValue {
    /// The metric measured.
    pub metric: &'static str,
    /// Its value.
    pub value: u64,
    /// The bound that meets the criterion.
    pub at_least: u64,
    /// Whether the bound is reached.
    pub met: bool,
}

/// The outcome for one criterion.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CriterionResult {
    /// Criterion id.
    pub id: String,
    /// Short name.
    pub title: String,
    /// The question behind it.
    pub question: String,
    /// Points when met.
    pub weight: u32,
    /// Met, not met or unanswered.
    pub status: Status,
    /// Answer, evidence or none.
    pub source: Source,
    /// One sentence explaining the status.
    pub detail: String,
    /// The model's evidence, when the criterion has a metric.
    pub evidence: Option<EvidenceValue>,
    /// True when an explicit answer disagrees with the evidence.
    pub contradiction: bool,
}

/// The scored verdict.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Verdict {
    /// Project name.
    pub project: String,
    /// Sum of the weights of met criteria.
    pub score: u32,
    /// Sum of all weights.
    pub max_score: u32,
    /// Score needed for a recommendation.
    pub threshold: u32,
    /// Whether Kubernetes is recommended.
    pub recommended: bool,
    /// Whether answering the unanswered criteria could still change the verdict.
    pub undecided: bool,
    /// One result per criterion, in policy order.
    pub criteria: Vec<CriterionResult>,
    /// Simpler platforms; empty when Kubernetes is recommended.
    pub alternatives: Vec<Alternative>,
}

impl Verdict {
    /// Results whose answer contradicts the evidence.
    pub fn contradictions(&self) -> impl Iterator<Item = &CriterionResult> {
        self.criteria.iter().filter(|c| c.contradiction)
    }

    /// A one-line summary of the recommendation.
    pub fn headline(&self) -> String {
        if self.recommended {
            format!(
                "Kubernetes is a good option for {} (score {} of {}, threshold {})",
                self.project, self.score, self.max_score, self.threshold
            )
        } else {
            format!(
                "Kubernetes is not recommended for {} yet (score {} of {}, threshold {}): prefer a simpler platform",
                self.project, self.score, self.max_score, self.threshold
            )
        }
    }
}

/// Measures one metric on the model.
pub fn measure(graph: &ServiceGraph<'_>, metric: Metric) -> u64 {
    let ws = graph.workspace();
    let n = match metric {
        Metric::Services => ws.services.len(),
        Metric::Namespaces => ws.namespaces.len(),
        Metric::Teams => ws
            .services
            .iter()
            .filter_map(|s| s.team.as_deref())
            .chain(ws.namespaces.values().filter_map(|n| n.team.as_deref()))
            .collect::<BTreeSet<_>>()
            .len(),
        Metric::Calls => graph.call_count(),
        Metric::CrossNamespaceCalls => graph.cross_namespace_call_count(),
    };
    n as u64
}

/// Scores the workspace behind `graph` against `policy`.
pub fn assess(graph: &ServiceGraph<'_>, policy: &Policy) -> Verdict {
    let ws = graph.workspace();
    let criteria: Vec<CriterionResult> = policy
        .criteria
        .iter()
        .map(|c| judge(graph, c, ws.answers.get(&c.id).map(|a| a.value)))
        .collect();
    let score = criteria
        .iter()
        .filter(|c| c.status == Status::Met)
        .map(|c| c.weight)
        .sum();
    let open: u32 = criteria
        .iter()
        .filter(|c| c.status == Status::Unanswered)
        .map(|c| c.weight)
        .sum();
    let recommended = score >= policy.threshold;
    Verdict {
        project: ws.project.name.clone(),
        score,
        max_score: criteria.iter().map(|c| c.weight).sum(),
        threshold: policy.threshold,
        recommended,
        undecided: !recommended && score + open >= policy.threshold,
        criteria,
        alternatives: if recommended {
            Vec::new()
        } else {
            policy.alternatives.clone()
        },
    }
}

fn judge(graph: &ServiceGraph<'_>, c: &Criterion, answer: Option<bool>) -> CriterionResult {
    let evidence = c.evidence.as_ref().map(|e| {
        let value = measure(graph, e.metric);
        EvidenceValue {
            metric: e.metric.as_str(),
            value,
            at_least: e.at_least,
            met: value >= e.at_least,
        }
    });
    let evidence_text = evidence.as_ref().map(|e| {
        let metric = c.evidence.as_ref().map_or(Metric::Services, |e| e.metric);
        format!(
            "{}, {} needed",
            metric.describe(e.value),
            if e.at_least == 1 {
                "at least 1".to_string()
            } else {
                format!("at least {}", e.at_least)
            }
        )
    });
    let (status, source, detail, contradiction) = match (answer, &evidence) {
        (Some(value), ev) => {
            let status = if value { Status::Met } else { Status::NotMet };
            let contradiction = ev.as_ref().is_some_and(|e| e.met != value);
            let detail = match (&evidence_text, contradiction) {
                (Some(text), true) => format!(
                    "answered {}, but the model says otherwise ({text})",
                    if value { "yes" } else { "no" }
                ),
                (Some(text), false) => format!(
                    "answered {}; the model agrees ({text})",
                    if value { "yes" } else { "no" }
                ),
                (None, _) => format!("answered {}", if value { "yes" } else { "no" }),
            };
            (status, Source::Answer, detail, contradiction)
        }
        (None, Some(e)) => {
            let status = if e.met { Status::Met } else { Status::NotMet };
            (
                status,
                Source::Evidence,
                evidence_text.clone().unwrap_or_default(),
                false,
            )
        }
        (None, None) => (
            Status::Unanswered,
            Source::None,
            format!(
                "not answered: add `{} = true` or `false` under [answers]",
                c.id
            ),
            false,
        ),
    };
    CriterionResult {
        id: c.id.clone(),
        title: c.title.clone(),
        question: c.question.clone(),
        weight: c.weight,
        status,
        source,
        detail,
        evidence,
        contradiction,
    }
}
