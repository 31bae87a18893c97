//! Analyse stage: scores the workspace against the decision criteria of the policy.
//!
//! Pure: takes the model, its graph and the policy, returns a verdict. Rendering lives in
//! `report::assess`.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::graph::ServiceGraph;
use crate::model::Workspace;
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
    pub metric: Metric,
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

/// What `generate` says before it writes a Kubernetes layout for a workspace whose verdict does
/// not recommend Kubernetes (it still writes: the user asked); `None` when it is recommended.
pub fn generate_warning(workspace: &Workspace, policy: &Policy) -> Option<String> {
    let verdict = assess(&ServiceGraph::build(workspace), policy);
    (!verdict.recommended).then(|| {
        format!(
            "warning: {}.\nWriting the Kubernetes layout anyway, as asked; `k8s-advisor assess` \
             explains the verdict and the alternatives.\n",
            verdict.headline()
        )
    })
}

/// Measures one metric on the model; `None` when the model cannot tell (no service names a
/// team; no call is declared and `calls-known = false`), which leaves a criterion unanswered
/// rather than silently not met.
pub fn measure(graph: &ServiceGraph<'_>, metric: Metric) -> Option<u64> {
    let ws = graph.workspace();
    let n = match metric {
        Metric::Services => ws.services.len(),
        Metric::Namespaces => ws.namespaces.len(),
        // Teams of empty namespaces own nothing of the application, so they do not count.
        Metric::Teams => match ws
            .services
            .iter()
            .filter_map(|s| s.team.as_deref())
            .collect::<BTreeSet<_>>()
            .len()
        {
            0 => return None,
            n => n,
        },
        // No call declared, and the workspace says the calls are not known yet.
        Metric::Calls | Metric::CrossNamespaceCalls
            if graph.call_count() == 0 && !ws.project.calls_known =>
        {
            return None;
        }
        Metric::Calls => graph.call_count(),
        Metric::CrossNamespaceCalls => graph.cross_namespace_call_count(),
    };
    Some(n as u64)
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
    let evidence = c.evidence.as_ref().and_then(|e| {
        measure(graph, e.metric).map(|value| EvidenceValue {
            metric: e.metric,
            value,
            at_least: e.at_least,
            met: value >= e.at_least,
        })
    });
    let evidence_text = evidence.as_ref().map(|e| {
        format!(
            "{}{}, at least {} needed",
            e.metric.describe(e.value),
            context(graph, e.metric),
            e.at_least
        )
    });
    // The criterion names a metric, but the model cannot measure it.
    let unmeasured = c
        .evidence
        .as_ref()
        .filter(|_| evidence.is_none())
        .map(|e| unmeasured(e.metric, &c.id));
    let yes_no = |value: bool| if value { "yes" } else { "no" };
    let (status, source, detail, contradiction) = match (answer, &evidence) {
        (Some(value), ev) => {
            let status = if value { Status::Met } else { Status::NotMet };
            let contradiction = ev.as_ref().is_some_and(|e| e.met != value);
            let detail = match (&evidence_text, contradiction) {
                (Some(text), true) => format!(
                    "answered {}, but the model says otherwise ({text})",
                    yes_no(value)
                ),
                (Some(text), false) => {
                    format!("answered {}; the model agrees ({text})", yes_no(value))
                }
                (None, _) => format!("answered {}", yes_no(value)),
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
            match unmeasured {
                Some(text) => text,
                None => format!(
                    "not answered: add `{} = true` or `false` under [answers]",
                    c.id
                ),
            },
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

/// What a reviewer should know beside a metric's value: how many calls cross domains.
fn context(graph: &ServiceGraph<'_>, metric: Metric) -> String {
    match metric {
        Metric::Calls => match graph.cross_namespace_call_count() {
            0 => String::new(),
            n => format!(" ({n} across namespaces)"),
        },
        _ => String::new(),
    }
}

/// The detail of a criterion whose metric the model cannot measure: why, and what to add.
fn unmeasured(metric: Metric, id: &str) -> String {
    let answer = format!("add `{id} = true` or `false` under [answers]");
    match metric {
        Metric::Teams => format!(
            "not answered, and no service has a team: set `team` on the namespaces or services, or {answer}"
        ),
        Metric::Calls | Metric::CrossNamespaceCalls => format!(
            "not answered, and the calls are not known yet (`calls-known = false`): declare them under `calls`, or {answer}"
        ),
        _ => format!("not answered, and the model cannot tell: {answer}"),
    }
}
