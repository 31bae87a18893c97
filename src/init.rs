//! The `init` questionnaire: asks about the project, its domains, services and calls, then the
//! criteria, and returns the finished workspace text. Pure apart from the prompter, so a test
//! can script whole sessions; writing the file is the caller's job.

use std::path::Path;

use crate::assess::{Status, Verdict, assess};
use crate::diagnostic::{Error, Source};
use crate::graph::ServiceGraph;
use crate::model::{Expose, Platform};
use crate::names::{self, CidrError};
use crate::policy::Policy;
use crate::prompt::Prompter;
use crate::workspace::{self, write::Draft, write::DraftNamespace, write::DraftService};

/// What a finished questionnaire produces.
pub struct Outcome {
    /// The workspace file text, already validated.
    pub text: String,
    /// The verdict shown at the end.
    pub verdict: Verdict,
}

/// Runs the questionnaire. `default_name` seeds the project name (usually the folder name).
pub fn questionnaire(
    p: &mut dyn Prompter,
    policy: &Policy,
    path: &Path,
    default_name: &str,
) -> Result<Outcome, Error> {
    p.note("Describe the project; every answer can be changed later in k8s-advisor.toml.");
    let name = p.input("Project name", default_name, &|s| names::dns1123_label(s))?;
    let description = p.input("One-sentence description", "", &|s| free_text(s))?;
    let platforms: Vec<String> = Platform::ALL
        .iter()
        .map(|pl| format!("{} ({})", pl.as_str(), pl.title()))
        .collect();
    let platform = Platform::ALL[p.select("Where will the cluster run?", &platforms, 0)?];

    let namespaces = ask_namespaces(p, &name)?;
    let ns_names: Vec<String> = namespaces.iter().map(|n| n.name.clone()).collect();
    let (mut services, internal_cidrs) = ask_services(p, &name, platform, &ns_names)?;
    ask_calls(p, &mut services)?;

    let mut draft = Draft {
        name,
        description,
        platform,
        internal_cidrs,
        answers: Vec::new(),
        namespaces,
        services,
    };
    let without_answers = evaluate(&draft, policy, path)?;
    p.note("Now the criteria. Where the model can tell, its answer is the default.");
    for (criterion, result) in policy.criteria.iter().zip(&without_answers.criteria) {
        let default = result.status == Status::Met;
        let prompt = if result.evidence.is_some() {
            format!("{} (the model says: {})", criterion.question, result.detail)
        } else {
            criterion.question.clone()
        };
        let answer = p.confirm(&prompt, default)?;
        // An answer that merely repeats the evidence is not written: the model stays the source
        // and keeps the verdict current as the workspace grows.
        if result.evidence.is_none() || answer != default {
            draft.answers.push((criterion.id.clone(), answer));
        }
    }
    let text = workspace::write::render(&draft, policy);
    let verdict = evaluate_text(&text, policy, path)?;
    Ok(Outcome { text, verdict })
}

/// The business domains, each with its team; the project's own namespace when none is given.
fn ask_namespaces(p: &mut dyn Prompter, project: &str) -> Result<Vec<DraftNamespace>, Error> {
    p.note("Business domains become namespaces; each one is owned by a team.");
    let mut namespaces: Vec<DraftNamespace> = Vec::new();
    loop {
        let taken: Vec<String> = namespaces.iter().map(|n| n.name.clone()).collect();
        let prompt = if namespaces.is_empty() {
            "First business domain (namespace), empty to use the project name"
        } else {
            "Another business domain, empty when done"
        };
        let ns = p.input(prompt, "", &|s| {
            if s.is_empty() {
                return Ok(());
            }
            names::dns1123_label(s)?;
            if names::reserved_namespace(s) {
                return Err("that namespace belongs to Kubernetes itself".into());
            }
            if taken.iter().any(|t| t == s) {
                return Err("that domain is already listed".into());
            }
            Ok(())
        })?;
        if ns.is_empty() {
            break;
        }
        let team = p.input(&format!("Team that owns {ns}"), "", &|s| label_value(s))?;
        namespaces.push(DraftNamespace {
            name: ns,
            team,
            description: String::new(),
        });
    }
    if namespaces.is_empty() {
        namespaces.push(DraftNamespace {
            name: project.to_string(),
            team: String::new(),
            description: String::new(),
        });
    }

    Ok(namespaces)
}

/// The services, each with its domain, port, exposure and image; also the company network's
/// ranges, asked once the first internal service needs them.
fn ask_services(
    p: &mut dyn Prompter,
    project: &str,
    platform: Platform,
    ns_names: &[String],
) -> Result<(Vec<DraftService>, Vec<String>), Error> {
    p.note("Services: one Deployment and one Service each.");
    let mut services: Vec<DraftService> = Vec::new();
    let mut internal_cidrs: Vec<String> = Vec::new();
    loop {
        let prompt = if services.is_empty() {
            "First service name"
        } else {
            "Another service name, empty when done"
        };
        let taken: Vec<(String, String)> = services
            .iter()
            .map(|s| (s.namespace.clone(), s.name.clone()))
            .collect();
        let first = services.is_empty();
        let service = p.input(prompt, "", &|s| {
            if s.is_empty() {
                return if first {
                    Err("a project has at least one service".into())
                } else {
                    Ok(())
                };
            }
            names::dns1035_label(s)
        })?;
        if service.is_empty() {
            break;
        }
        let namespace = if ns_names.len() == 1 {
            ns_names[0].clone()
        } else {
            ns_names[p.select(&format!("Domain of {service}"), ns_names, 0)?].clone()
        };
        if taken.contains(&(namespace.clone(), service.clone())) {
            p.note(&format!(
                "{namespace}/{service} is already listed; skipped."
            ));
            continue;
        }
        let (port_pair, expose) = ask_port_and_exposure(p, platform, &service)?;
        if expose == Expose::Internal && internal_cidrs.is_empty() {
            let cidrs = p.input(
                "Address ranges of the company network (comma-separated CIDRs)",
                "10.0.0.0/8",
                &|s| cidr_list(s).map(|_| ()),
            )?;
            internal_cidrs = cidr_list(&cidrs).unwrap_or_default();
        }
        let image = p.input(
            &format!("Container image of {service}"),
            &format!("registry.example.com/{project}/{service}:0.1.0"),
            &|s| names::image(s),
        )?;
        services.push(DraftService {
            name: service,
            namespace,
            image,
            replicas: if expose == Expose::Cluster { 1 } else { 2 },
            port: port_pair,
            expose,
            calls: Vec::new(),
        });
    }

    Ok((services, internal_cidrs))
}

/// The port a service listens on (none when it takes no requests), the Service port callers
/// use, and how far it is exposed.
fn ask_port_and_exposure(
    p: &mut dyn Prompter,
    platform: Platform,
    service: &str,
) -> Result<(Option<(u16, u16)>, Expose), Error> {
    let target = p.input(
        &format!("Port {service} listens on (empty if it takes no requests)"),
        "8080",
        &|s| {
            if s.is_empty() {
                Ok(())
            } else {
                port(s).map(|_| ())
            }
        },
    )?;
    let (port_pair, expose) = if target.is_empty() {
        (None, Expose::Cluster)
    } else {
        let target = port(&target).map_err(|e| Error::usage(e, "enter a port from 1 to 65535"))?;
        let service_port = p.input("Port callers use (the Service port)", "80", &|s| {
            port(s).map(|_| ())
        })?;
        let service_port =
            port(&service_port).map_err(|e| Error::usage(e, "enter a port from 1 to 65535"))?;
        // A generic cluster has no standard private load balancer to offer.
        let offered: Vec<Expose> = if platform == Platform::Generic {
            vec![Expose::Cluster, Expose::Public]
        } else {
            vec![Expose::Cluster, Expose::Internal, Expose::Public]
        };
        let choices: Vec<String> = offered
            .iter()
            .map(|e| match e {
                Expose::Cluster => "cluster: only other services in the cluster",
                Expose::Internal => "internal: a private load balancer for the company network",
                Expose::Public => "public: a load balancer on the internet",
                // Not offered: a gateway needs [project.gateway], which the questionnaire
                // does not ask for.
                Expose::Gateway => "gateway: through the project's shared HTTP gateway",
            })
            .map(String::from)
            .collect();
        let question = format!("Who reaches {service} from outside the cluster?");
        let expose = offered[p.select(&question, &choices, 0)?];
        (Some((service_port, target)), expose)
    };
    Ok((port_pair, expose))
}

/// Who calls whom, picked from the services that take requests.
fn ask_calls(p: &mut dyn Prompter, services: &mut [DraftService]) -> Result<(), Error> {
    let callable: Vec<usize> = (0..services.len())
        .filter(|i| services[*i].port.is_some())
        .collect();
    if !callable.is_empty() {
        p.note("Calls: which services each service calls synchronously.");
        for i in 0..services.len() {
            let targets: Vec<usize> = callable.iter().copied().filter(|j| *j != i).collect();
            if targets.is_empty() {
                continue;
            }
            let labels: Vec<String> = targets
                .iter()
                .map(|j| format!("{}/{}", services[*j].namespace, services[*j].name))
                .collect();
            let caller = format!("{}/{}", services[i].namespace, services[i].name);
            let picked = p.multi_select(&format!("Which services does {caller} call?"), &labels)?;
            services[i].calls = picked.into_iter().map(|k| labels[k].clone()).collect();
        }
    }

    Ok(())
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

// The answers are checked with the same rules as the workspace file (`names`), so that what
// the questionnaire accepts always validates.

fn port(s: &str) -> Result<u16, String> {
    s.trim()
        .parse::<i64>()
        .ok()
        .and_then(names::port)
        .ok_or_else(|| "a port is a number from 1 to 65535".into())
}

fn cidr_list(s: &str) -> Result<Vec<String>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| match names::cidr(c) {
            Ok(net) => Ok(net.to_string()),
            Err(CidrError::HostBits(net)) => {
                Err(format!("{c} has host bits set; did you mean {net}?"))
            }
            Err(CidrError::NotCidr) => Err(format!("{c} is not a CIDR such as 10.0.0.0/16")),
        })
        .collect()
}

fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() {
        Ok(())
    } else {
        names::label_value(s)
    }
}

fn free_text(s: &str) -> Result<(), String> {
    match s.chars().find(|&c| names::unsafe_char(c)) {
        Some(c) => Err(format!(
            "remove the invisible character U+{:04X}",
            u32::from(c)
        )),
        None => Ok(()),
    }
}
