//! The `init` questionnaire: asks about the project, its domains, services, calls and the
//! criteria, shows a summary to review and fix, and returns the finished workspace text.
//! Pure apart from the prompter, so a test can script whole sessions; writing the file is the
//! caller's job. `edit` changes an existing workspace in place instead; `from` asks what an
//! import could not tell (`init --from`).

mod answers;
pub mod edit;
mod egress;
pub mod from;
mod review;
mod service;
mod size;
mod summary;
mod workload;

pub use service::exposure_label;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::assess::{Status, Verdict, assess};
use crate::check::Guardrails;
use crate::diagnostic::{Error, Source};
use crate::graph::ServiceGraph;
use crate::model::{CallKind, Expose, Platform};
use crate::names;
use crate::policy::Policy;
use crate::prompt::Prompter;
use crate::workspace::write::{Draft, DraftCall, DraftNamespace, DraftService};
use crate::workspace::{self};

/// What a finished questionnaire produces.
pub struct Outcome {
    /// The workspace file text, already validated.
    pub text: String,
    /// The verdict shown at the end.
    pub verdict: Verdict,
}

/// A session in progress. While it runs, `calls` in the draft hold bare service names (names
/// are unique across the project here); `draft()` turns them into `namespace/name`.
struct Session<'a> {
    policy: &'a Policy,
    /// The guardrails `check` applies, and what they know about well-known images: tags that
    /// move are said at the prompt, and a known image's defaults are offered.
    guardrails: &'a Guardrails,
    path: &'a Path,
    draft: Draft,
    /// Services whose replica count the user typed; the others follow the default rule.
    fixed_replicas: BTreeSet<String>,
    /// Explicit criteria answers. A criterion left out is "don't know", or follows the model.
    answers: BTreeMap<String, bool>,
    /// Whether the project declares `[project.gateway]`, so that `expose = "gateway"` can be
    /// offered. Only a workspace being edited has one: the questions do not ask for it.
    gateway: bool,
}

/// Runs the questionnaire. `default_name` seeds the project name (usually the folder name).
pub fn questionnaire(
    p: &mut dyn Prompter,
    policy: &Policy,
    guardrails: &Guardrails,
    path: &Path,
    default_name: &str,
) -> Result<Outcome, Error> {
    let mut s = Session {
        policy,
        guardrails,
        path,
        draft: Draft {
            name: default_name.to_string(),
            description: String::new(),
            platform: Platform::Generic,
            internal_cidrs: Vec::new(),
            answers: Vec::new(),
            namespaces: Vec::new(),
            services: Vec::new(),
        },
        fixed_replicas: BTreeSet::new(),
        answers: BTreeMap::new(),
        gateway: false,
    };
    p.note(
        "Describe the project; you can review and change every answer before anything is written.",
    );
    ask_project(p, &mut s)?;
    ask_namespaces(p, &mut s)?;
    p.note("Services: each runs as a Deployment, or as a StatefulSet if it keeps data.");
    while let Some(name) = service::ask_name(p, &s)? {
        let svc = service::ask(p, &mut s, name, None)?;
        s.draft.services.push(svc);
    }
    ask_calls(p, &mut s)?;
    s.apply_default_replicas();
    ask_criteria(p, &mut s)?;
    review::run(p, &mut s)?;
    let text = workspace::write::render(&s.draft(), policy);
    let verdict = evaluate_text(&text, policy, path)?;
    Ok(Outcome { text, verdict })
}

/// Name, description and platform; the current values are the defaults.
fn ask_project(p: &mut dyn Prompter, s: &mut Session<'_>) -> Result<(), Error> {
    let d = &mut s.draft;
    d.name = p.input("Project name", &d.name, &|a| names::dns1123_label(a))?;
    d.description = p.input(
        "One-sentence description",
        &d.description,
        &answers::free_text,
    )?;
    // A generic cluster has no private load balancer, so it is not offered while a service is
    // internal.
    let internal = d.services.iter().any(|svc| svc.expose == Expose::Internal);
    let offered: Vec<Platform> = Platform::ALL
        .into_iter()
        .filter(|pl| !(internal && *pl == Platform::Generic))
        .collect();
    let labels: Vec<String> = offered
        .iter()
        .map(|pl| format!("{} ({})", pl.as_str(), pl.title()))
        .collect();
    let default = offered.iter().position(|pl| *pl == d.platform).unwrap_or(0);
    d.platform = offered[p.select("Where will the cluster run?", &labels, default)?];
    if d.platform == Platform::Eks {
        align_ports_for_eks(p, d);
    }
    Ok(())
}

/// On EKS the VPC CNI's network policies need each Service port to equal its container port
/// (the `eks-target-port` guardrail); services entered before the platform became eks are
/// brought in line, and the user is told.
fn align_ports_for_eks(p: &mut dyn Prompter, d: &mut Draft) {
    for svc in &mut d.services {
        if let Some(port) = &mut svc.port
            && port.port != port.target
        {
            p.note(&format!(
                "{}/{}: callers now use port {} instead of {}, as EKS needs.",
                svc.namespace, svc.name, port.target, port.port
            ));
            port.port = port.target;
        }
    }
}

/// The business domains, each with its team; the project's own namespace when none is given.
fn ask_namespaces(p: &mut dyn Prompter, s: &mut Session<'_>) -> Result<(), Error> {
    p.note("Business domains become namespaces; each one is owned by a team.");
    loop {
        let prompt = if s.draft.namespaces.is_empty() {
            "First business domain (namespace), empty to use the project name"
        } else {
            "Another business domain, empty when done"
        };
        match ask_domain_name(p, s, prompt)? {
            Some(ns) => add_domain(p, s, ns)?,
            None => break,
        }
    }
    if s.draft.namespaces.is_empty() {
        let name = s.draft.name.clone();
        add_domain(p, s, name)?;
    }
    Ok(())
}

/// A new domain's name, checked against the rules and the domains already listed; `None` for
/// an empty answer.
fn ask_domain_name(
    p: &mut dyn Prompter,
    s: &Session<'_>,
    prompt: &str,
) -> Result<Option<String>, Error> {
    let ns = p.input(prompt, "", &|a| {
        if a.is_empty() {
            return Ok(());
        }
        names::dns1123_label(a)?;
        if names::reserved_namespace(a) {
            return Err("that namespace belongs to Kubernetes itself".into());
        }
        if s.draft.namespaces.iter().any(|n| n.name == a) {
            return Err(format!("{a} is already a domain"));
        }
        Ok(())
    })?;
    Ok((!ns.is_empty()).then_some(ns))
}

fn add_domain(p: &mut dyn Prompter, s: &mut Session<'_>, name: String) -> Result<(), Error> {
    let team = p.input(
        &format!("Team that owns {name} (empty if none yet)"),
        "",
        &answers::label_value,
    )?;
    s.draft.namespaces.push(DraftNamespace {
        name,
        team,
        description: String::new(),
    });
    Ok(())
}

/// Who calls whom, picked from every service that takes requests, so a call can go to a
/// service entered later. The current calls are picked already.
fn ask_calls(p: &mut dyn Prompter, s: &mut Session<'_>) -> Result<(), Error> {
    if s.callable().is_empty() {
        return Ok(());
    }
    p.note("Calls: which services each one calls, and how (a request, a message, telemetry).");
    for i in 0..s.draft.services.len() {
        ask_calls_of(p, s, i)?;
    }
    Ok(())
}

/// Which services service `i` calls, from every other service that takes requests.
fn ask_calls_of(p: &mut dyn Prompter, s: &mut Session<'_>, i: usize) -> Result<(), Error> {
    let services = &s.draft.services;
    let targets: Vec<usize> = s.callable().into_iter().filter(|j| *j != i).collect();
    if targets.is_empty() {
        return Ok(());
    }
    let labels: Vec<String> = targets.iter().map(|j| s.id(*j)).collect();
    let picked: Vec<bool> = targets.iter().map(|j| s.call(i, *j).is_some()).collect();
    let question = format!("Which services does {} call?", s.id(i));
    let chosen = p.multi_select(&question, &labels, &picked)?;
    let mut calls = Vec::with_capacity(chosen.len());
    for k in chosen {
        let j = targets[k];
        calls.push(DraftCall {
            to: services[j].name.clone(),
            kind: ask_call_kind(p, s, i, j)?,
        });
    }
    s.draft.services[i].calls = calls;
    Ok(())
}

/// How service `i` reaches service `j`. The default is the call's current kind, else what the
/// callee's image is reached by (a broker: async; a collector: telemetry), else a request.
fn ask_call_kind(
    p: &mut dyn Prompter,
    s: &Session<'_>,
    i: usize,
    j: usize,
) -> Result<CallKind, Error> {
    const KINDS: [CallKind; 3] = [CallKind::Sync, CallKind::Async, CallKind::Telemetry];
    let callee = &s.draft.services[j];
    let from_image = callee
        .image
        .as_deref()
        .and_then(|image| s.guardrails.images.find(image))
        .and_then(|k| k.called);
    let current = s.call(i, j).map(|c| c.kind);
    let wanted = current.or(from_image).unwrap_or_default();
    let items: Vec<String> = [
        "sync: a request it waits for (HTTP, gRPC, SQL)",
        "async: a message through a broker (a queue)",
        "telemetry: traces, metrics or logs to a collector",
    ]
    .map(String::from)
    .to_vec();
    let default = KINDS.iter().position(|k| *k == wanted).unwrap_or(0);
    let question = format!("How does {} reach {}?", s.id(i), s.id(j));
    Ok(KINDS[p.select(&question, &items, default)?])
}

/// The criteria. Where the model can tell, its answer is the default and an answer that
/// repeats it is not recorded, so the verdict follows the model as it grows. The others are
/// yes / no / don't know; "don't know" stays unanswered.
fn ask_criteria(p: &mut dyn Prompter, s: &mut Session<'_>) -> Result<(), Error> {
    p.note("Now the decision criteria.");
    let mut bare = s.draft();
    bare.answers.clear();
    let verdict = evaluate(&bare, s.policy, s.path)?;
    for (criterion, result) in s.policy.criteria.iter().zip(&verdict.criteria) {
        let id = &criterion.id;
        if result.evidence.is_some() {
            let model = result.status == Status::Met;
            // The model's reading goes on a line of its own: appended to the question it
            // would wrap on a narrow terminal, and dialoguer redraws only the last line.
            p.note(&format!("The model says: {}.", result.detail));
            let answer = p.confirm(
                &criterion.question,
                s.answers.get(id).copied().unwrap_or(model),
            )?;
            set_answer(&mut s.answers, id, (answer != model).then_some(answer));
        } else {
            let answer = yes_no_or_unknown(p, &criterion.question, s.answers.get(id).copied())?;
            set_answer(&mut s.answers, id, answer);
        }
    }
    Ok(())
}

/// Asks a criterion the model cannot judge: yes, no, or don't know (`None`), which leaves it
/// unanswered rather than recording a "no" nobody gave. `current` is the default.
pub fn yes_no_or_unknown(
    p: &mut dyn Prompter,
    question: &str,
    current: Option<bool>,
) -> Result<Option<bool>, Error> {
    let choices: Vec<String> = ["yes", "no", "don't know"].map(String::from).to_vec();
    let default = match current {
        Some(true) => 0,
        Some(false) => 1,
        None => 2,
    };
    Ok([Some(true), Some(false), None][p.select(question, &choices, default)?])
}

fn set_answer(answers: &mut BTreeMap<String, bool>, id: &str, answer: Option<bool>) {
    match answer {
        Some(a) => answers.insert(id.to_string(), a),
        None => answers.remove(id),
    };
}

impl Session<'_> {
    /// `namespace/name` of service `i`.
    fn id(&self, i: usize) -> String {
        let svc = &self.draft.services[i];
        format!("{}/{}", svc.namespace, svc.name)
    }

    /// The services a call can go to, by index: those that take requests.
    fn callable(&self) -> Vec<usize> {
        (0..self.draft.services.len())
            .filter(|i| self.draft.services[*i].port.is_some())
            .collect()
    }

    /// The call of service `i` to service `j`, if it makes one.
    fn call(&self, i: usize, j: usize) -> Option<&DraftCall> {
        let callee = &self.draft.services[j].name;
        self.draft.services[i]
            .calls
            .iter()
            .find(|c| c.to == *callee)
    }

    /// Whether some service calls `name`.
    fn called(&self, name: &str) -> bool {
        self.draft
            .services
            .iter()
            .any(|s| s.calls.iter().any(|c| c.to == name))
    }

    /// Two replicas for anything exposed or called (the `single-replica` guardrail), one for
    /// the rest and for stateful services, except where the user typed a number.
    fn apply_default_replicas(&mut self) {
        for i in 0..self.draft.services.len() {
            let name = self.draft.services[i].name.clone();
            if !self.fixed_replicas.contains(&name) {
                self.draft.services[i].replicas = self.default_replicas(i);
            }
        }
    }

    /// A stateful service runs one pod: each pod of a StatefulSet keeps its own data, so a
    /// second one is a second database unless the software replicates itself.
    fn default_replicas(&self, i: usize) -> u32 {
        let svc = &self.draft.services[i];
        if svc.storage.is_none() && (svc.expose != Expose::Cluster || self.called(&svc.name)) {
            2
        } else {
            1
        }
    }

    /// The replica count offered when a service is changed: the number typed before (or
    /// written in the file), else the rule's. Enter keeps what the user chose, as every other
    /// question of a change does.
    fn replicas_default(&self, old: &DraftService, rule: u32) -> u32 {
        if self.fixed_replicas.contains(&old.name) {
            old.replicas
        } else {
            rule
        }
    }

    /// Records the replica count typed for a service (renamed from `old`): a number other than
    /// the rule's is kept from then on, one equal to it follows the rule again.
    fn typed_replicas(&mut self, old: &str, name: &str, replicas: u32, rule: u32) {
        self.fixed_replicas.remove(old);
        if replicas != rule {
            self.fixed_replicas.insert(name.to_string());
        }
    }

    /// Removes every call to `name`, for a service deleted or no longer taking requests.
    fn forget_calls_to(&mut self, name: &str) {
        for svc in &mut self.draft.services {
            svc.calls.retain(|c| c.to != name);
        }
    }

    /// The draft as it would be written: calls as `namespace/name`, answers in policy order.
    fn draft(&self) -> Draft {
        let mut d = self.draft.clone();
        let ns_of = |name: &str| {
            self.draft
                .services
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.namespace.clone())
                .unwrap_or_default()
        };
        for svc in &mut d.services {
            for call in &mut svc.calls {
                call.to = format!("{}/{}", ns_of(&call.to), call.to);
            }
            svc.calls.sort_by(|a, b| a.to.cmp(&b.to));
        }
        d.answers = self
            .policy
            .criteria
            .iter()
            .filter_map(|c| self.answers.get(&c.id).map(|a| (c.id.clone(), *a)))
            .collect();
        d
    }
}

/// Folder names that say what a folder holds rather than which product it is.
const GENERIC_FOLDERS: &[&str] = &[
    "app",
    "apps",
    "build",
    "chart",
    "charts",
    "code",
    "compose",
    "config",
    "configs",
    "deploy",
    "deployment",
    "deployments",
    "dev",
    "devops",
    "docker",
    "docs",
    "example",
    "examples",
    "helm",
    "infra",
    "infrastructure",
    "k8s",
    "kube",
    "kubernetes",
    "manifests",
    "ops",
    "platform",
    "project",
    "projects",
    "repo",
    "repos",
    "service",
    "services",
    "src",
    "temp",
    "terraform",
    "tmp",
    "work",
    "workspace",
];

/// The project name a folder suggests: its own name, or, when that is generic (`docker`,
/// `examples`, ...), the nearest folder above it that is not, up to `repository` (the root of
/// the repository that holds it; without one only the folder itself counts). `my-product` when
/// none will do.
pub fn project_name(folder: &Path, repository: Option<&Path>) -> String {
    let stop = repository.unwrap_or(folder);
    folder
        .ancestors()
        .take_while(|dir| dir.starts_with(stop))
        .filter_map(|dir| dir.file_name())
        .filter_map(|n| names::slugify(&n.to_string_lossy(), names::MAX_LABEL))
        .find(|n| !GENERIC_FOLDERS.contains(&n.as_str()))
        .unwrap_or_else(|| "my-product".to_string())
}

/// The verdict a draft would get.
fn evaluate(draft: &Draft, policy: &Policy, path: &Path) -> Result<Verdict, Error> {
    evaluate_text(&workspace::write::render(draft, policy), policy, path)
}

/// Validates workspace text and scores it.
pub fn evaluate_text(text: &str, policy: &Policy, path: &Path) -> Result<Verdict, Error> {
    let source = Source::new(path, text);
    let ws = workspace::parse(&source, &policy.criterion_ids())?;
    Ok(assess(&ServiceGraph::build(&ws), policy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generic_folder_name_gives_way_to_the_one_above() {
        let repo = Path::new("/src/tiny-shop");
        for (folder, expected) in [
            ("/src/tiny-shop", "tiny-shop"),
            ("/src/tiny-shop/docker", "tiny-shop"),
            ("/src/tiny-shop/deploy/k8s", "tiny-shop"),
            ("/src/tiny-shop/Payments API", "payments-api"),
        ] {
            assert_eq!(
                project_name(Path::new(folder), Some(repo)),
                expected,
                "{folder}"
            );
        }
        // Never above the repository, and without one only the folder itself.
        assert_eq!(
            project_name(
                Path::new("/src/examples/docker"),
                Some(Path::new("/src/examples"))
            ),
            "my-product"
        );
        assert_eq!(
            project_name(Path::new("/home/ana/docker"), None),
            "my-product"
        );
        assert_eq!(project_name(Path::new("/home/ana/shop"), None), "shop");
        assert_eq!(project_name(Path::new("/"), None), "my-product");
    }
}
