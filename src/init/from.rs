//! `init --from`: after an import, asks only what the input could not tell — the project name
//! (the input's is the default), the platform when no annotation names one, who reaches the
//! services whose exposure it guessed, the team of each domain without one, and the criteria
//! the model cannot judge — and renders the answered draft. Pure apart from the prompter, so tests
//! script it like the questionnaire.

use std::path::Path;

use crate::assess::Verdict;
use crate::diagnostic::Error;
use crate::import::draft::{NsDraft, OutNs, Prov, Resolved};
use crate::import::render;
use crate::init::evaluate_text;
use crate::model::{Expose, Platform};
use crate::policy::Policy;
use crate::prompt::Prompter;

fn answered() -> Prov {
    Prov {
        observed: false,
        at: "k8s-advisor init".into(),
        what: "answer".into(),
        guess: false,
    }
}

/// Asks the follow-up questions, then returns the workspace text and its verdict.
pub fn ask(
    p: &mut dyn Prompter,
    mut r: Resolved,
    policy: &Policy,
    path: &Path,
) -> Result<(String, Verdict), Error> {
    p.note(&format!(
        "Imported {} services from {}; {} things could not be known (listed at the top of the file). \
         A few questions about what the input cannot say:",
        r.services.len(),
        r.kind,
        r.unknowns.len()
    ));
    let name = p.input("Project name", &r.project.0, &|a| {
        crate::names::dns1123_label(a)
    })?;
    if name != r.project.0 {
        r.project = (name, answered());
    }
    let internal = r
        .services
        .iter()
        .any(|s| matches!(s.draft.expose, Some((Expose::Internal, _))));
    if r.platform.is_none() && !internal {
        let items: Vec<String> = Platform::ALL
            .iter()
            .map(|pl| format!("{} ({})", pl.as_str(), pl.title()))
            .collect();
        let default = Platform::ALL.len() - 1;
        let i = p.select("Where will the cluster run?", &items, default)?;
        if Platform::ALL[i] != Platform::Generic {
            r.platform = Some((Platform::ALL[i], answered()));
        }
    }
    ask_exposure_candidates(p, &mut r)?;
    // Every namespace in use, declared or not, so that each can get its team.
    for s in &r.services {
        if !r.namespaces.iter().any(|n| n.name == s.namespace) {
            r.namespaces.push(OutNs {
                name: s.namespace.clone(),
                original: None,
                draft: NsDraft::default(),
            });
        }
    }
    r.namespaces.sort_by(|a, b| a.name.cmp(&b.name));
    for ns in &mut r.namespaces {
        if ns.draft.team.is_some() {
            continue;
        }
        let members: Vec<&str> = r
            .services
            .iter()
            .filter(|s| s.namespace == ns.name)
            .map(|s| s.name.as_str())
            .collect();
        let team = p.input(
            &format!(
                "Team that owns domain {} ({}), empty if unknown",
                ns.name,
                members.join(", ")
            ),
            "",
            &|s| {
                if s.is_empty() || crate::names::dns1123_label(s).is_ok() {
                    Ok(())
                } else {
                    Err("lowercase letters, digits and '-', at most 63".into())
                }
            },
        )?;
        if !team.is_empty() {
            ns.draft.team = Some((team, answered()));
        }
    }
    // Criteria the model can judge are left to it; the others are asked.
    let text = render::render(&r);
    let verdict = evaluate_text(&text, policy, path)?;
    for (criterion, result) in policy.criteria.iter().zip(&verdict.criteria) {
        if result.evidence.is_some() {
            continue;
        }
        // "Don't know" writes nothing: the criterion stays unanswered in the verdict.
        if let Some(answer) = crate::init::yes_no_or_unknown(p, &criterion.question, None)? {
            r.answers.push((criterion.id.clone(), answer));
        }
    }
    let text = render::render(&r);
    let verdict = evaluate_text(&text, policy, path)?;
    Ok((text, verdict))
}

/// Services whose exposure the import guessed (a port published on every host address, a
/// NodePort, an Ingress backend: public as deployed): the user says who really reaches each
/// one, the guess being the default.
fn ask_exposure_candidates(p: &mut dyn Prompter, r: &mut Resolved) -> Result<(), Error> {
    let mut offered = vec![Expose::Cluster, Expose::Public];
    // A private load balancer needs a cloud platform (validation refuses it on generic).
    if r.platform
        .as_ref()
        .is_some_and(|(pl, _)| *pl != Platform::Generic)
    {
        offered.insert(1, Expose::Internal);
    }
    let labels: Vec<String> = offered
        .iter()
        .map(|e| crate::init::exposure_label(*e).to_string())
        .collect();
    for s in &mut r.services {
        let Some((guess, prov)) = s.draft.expose.as_ref().filter(|(_, prov)| prov.guess) else {
            continue;
        };
        p.note(&format!(
            "{}/{}: imported as {} because {} ({}).",
            s.namespace,
            s.name,
            guess.as_str(),
            prov.what,
            prov.at
        ));
        let default = offered.iter().position(|e| e == guess).unwrap_or(0);
        let question = format!(
            "Who reaches {}/{} from outside the cluster?",
            s.namespace, s.name
        );
        let expose = offered[p.select(&question, &labels, default)?];
        s.draft.expose = Some((expose, answered()));
        r.needs_internal_cidrs |= expose == Expose::Internal;
    }
    Ok(())
}
