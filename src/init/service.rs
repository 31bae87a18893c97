//! The questions about one service: name, domain, port, exposure, image, size, egress and, when
//! changed from the summary or in an existing workspace, replicas. A service being changed offers its current answers as
//! the defaults, so Enter keeps them.

use super::Session;
use super::answers;
use crate::diagnostic::Error;
use crate::model::{Expose, Platform};
use crate::names;
use crate::prompt::Prompter;
use crate::workspace::write::{DraftEgress, DraftResources, DraftService};

/// Size presets. Each keeps the CPU limit within twice the request (the `cpu-limit-ratio`
/// guardrail allows four times) and writes memory in Mi/Gi, never in millibytes.
pub const SIZES: [(&str, [&str; 4]); 3] = [
    ("small", ["250m", "256Mi", "500m", "512Mi"]),
    ("medium", ["500m", "512Mi", "1", "1Gi"]),
    ("large", ["1", "2Gi", "2", "4Gi"]),
];

/// The preset a service's resources match, if any.
pub fn size_name(r: &DraftResources) -> Option<&'static str> {
    SIZES.iter().find(|(_, q)| preset(q) == *r).map(|(n, _)| *n)
}

fn preset(q: &[&str; 4]) -> DraftResources {
    DraftResources::new(q[0], q[1], q[2], q[3])
}

/// Asks a new service's name; empty means no more services (refused for the first one).
pub fn ask_name(p: &mut dyn Prompter, s: &Session<'_>) -> Result<Option<String>, Error> {
    let first = s.draft.services.is_empty();
    let prompt = if first {
        "First service name"
    } else {
        "Another service name, empty when done"
    };
    let name = p.input(prompt, "", &|answer| {
        if answer.is_empty() {
            return if first {
                Err("a project has at least one service".into())
            } else {
                Ok(())
            };
        }
        names::dns1035_label(answer)?;
        taken(s, answer, None)
    })?;
    Ok((!name.is_empty()).then_some(name))
}

/// Refuses a name another service has. Names are unique across the whole project here, so
/// that a bare call reference can never be ambiguous.
pub fn taken(s: &Session<'_>, name: &str, except: Option<usize>) -> Result<(), String> {
    match s
        .draft
        .services
        .iter()
        .enumerate()
        .find(|(i, svc)| svc.name == name && Some(*i) != except)
    {
        Some((_, svc)) => Err(format!(
            "{}/{name} is already a service; pick another name",
            svc.namespace
        )),
        None => Ok(()),
    }
}

/// Asks everything about service `name` except its calls and replicas. `current` holds the
/// answers being changed, offered as the defaults.
pub fn ask(
    p: &mut dyn Prompter,
    s: &mut Session<'_>,
    name: String,
    current: Option<&DraftService>,
) -> Result<DraftService, Error> {
    let namespace = ask_domain(p, s, &name, current)?;
    let (port, expose) = ask_port_and_exposure(p, s, &name, current)?;
    let image = ask_image(p, &name, current)?;
    let resources = ask_size(p, &name, current)?;
    let egress = ask_egress(p, &name, current)?;
    Ok(DraftService {
        image,
        replicas: current.map_or(1, |c| c.replicas),
        port,
        expose,
        calls: current.map(|c| c.calls.clone()).unwrap_or_default(),
        egress,
        resources,
        name,
        namespace,
    })
}

fn ask_domain(
    p: &mut dyn Prompter,
    s: &Session<'_>,
    name: &str,
    current: Option<&DraftService>,
) -> Result<String, Error> {
    let domains: Vec<String> = s.draft.namespaces.iter().map(|n| n.name.clone()).collect();
    if domains.len() == 1 {
        return Ok(domains[0].clone());
    }
    let default = current
        .and_then(|c| domains.iter().position(|d| *d == c.namespace))
        .unwrap_or(0);
    Ok(domains[p.select(&format!("Domain of {name}"), &domains, default)?].clone())
}

/// The port a service listens on (none for a worker), the Service port callers use, and how
/// far it is exposed.
fn ask_port_and_exposure(
    p: &mut dyn Prompter,
    s: &mut Session<'_>,
    name: &str,
    current: Option<&DraftService>,
) -> Result<(Option<(u16, u16)>, Expose), Error> {
    let listens = p.confirm(
        &format!("Does {name} take requests over the network? (no for a worker)"),
        current.is_none_or(|c| c.port.is_some()),
    )?;
    if !listens {
        return Ok((None, Expose::Cluster));
    }
    let old_target = current.and_then(|c| c.port).map_or(8080, |(_, t)| t);
    let target = p.input(
        &format!("Port {name} listens on (in the container)"),
        &old_target.to_string(),
        &|a| answers::port(a).map(|_| ()),
    )?;
    let target = answers::port(&target).map_err(|e| Error::usage(e, "a port from 1 to 65535"))?;
    let default_port = service_port_default(s.draft.platform, current.and_then(|c| c.port), target);
    let port = p.input(
        "Port callers use (the Service port)",
        &default_port.to_string(),
        &|a| answers::port(a).map(|_| ()),
    )?;
    let port = answers::port(&port).map_err(|e| Error::usage(e, "a port from 1 to 65535"))?;
    let expose = ask_exposure(p, s, name, current.map(|c| c.expose))?;
    Ok((Some((port, target)), expose))
}

/// The Service port offered once the container port `target` is known. A changed service keeps
/// the port it had, on every platform, unless its container port changed: then on EKS the two
/// stay equal, since the VPC CNI's network policies need that (the `eks-target-port`
/// guardrail). A new service gets the container port on EKS and 80 elsewhere.
fn service_port_default(platform: Platform, current: Option<(u16, u16)>, target: u16) -> u16 {
    match current {
        Some((port, old_target)) if old_target == target || platform != Platform::Eks => port,
        _ if platform == Platform::Eks => target,
        _ => 80,
    }
}

fn ask_exposure(
    p: &mut dyn Prompter,
    s: &mut Session<'_>,
    name: &str,
    current: Option<Expose>,
) -> Result<Expose, Error> {
    // A generic cluster has no standard private load balancer to offer.
    let mut offered: Vec<Expose> = if s.draft.platform == Platform::Generic {
        vec![Expose::Cluster, Expose::Public]
    } else {
        vec![Expose::Cluster, Expose::Internal, Expose::Public]
    };
    // The gateway is offered only where the project declares `[project.gateway]` (a workspace
    // being edited), which the questions do not ask for: without it `expose = "gateway"`
    // would not validate. Every key of a service's `route` has a default, so nothing more
    // is asked.
    if s.gateway {
        offered.push(Expose::Gateway);
    }
    let choices: Vec<String> = offered
        .iter()
        .map(|e| exposure_label(*e).to_string())
        .collect();
    let default = current
        .and_then(|c| offered.iter().position(|e| *e == c))
        .unwrap_or(0);
    let question = format!("Who reaches {name} from outside the cluster?");
    let expose = offered[p.select(&question, &choices, default)?];
    if s.draft.platform == Platform::Aks && matches!(expose, Expose::Internal | Expose::Public) {
        p.note(
            "On AKS no Service form stops a load balancer from being created when its \
             annotations are ignored: `check` warns about it (exposure-fails-open).",
        );
    }
    // A service that is internal already reaches the company network some way (its own
    // `sources`, which validation checked); only a newly internal one needs the ranges.
    if expose == Expose::Internal
        && current != Some(Expose::Internal)
        && s.draft.internal_cidrs.is_empty()
    {
        let cidrs = p.input(
            "Address ranges of the company network (comma-separated CIDRs)",
            "10.0.0.0/8",
            &|a| answers::cidr_list(a).map(|_| ()),
        )?;
        s.draft.internal_cidrs = answers::cidr_list(&cidrs).unwrap_or_default();
    }
    Ok(expose)
}

/// How an exposure is offered.
pub fn exposure_label(e: Expose) -> &'static str {
    match e {
        Expose::Cluster => "cluster: only other services in the cluster",
        Expose::Internal => "internal: a private load balancer for the company network",
        Expose::Public => "public: a load balancer on the internet",
        Expose::Gateway => "gateway: through the project's shared HTTP gateway",
    }
}

fn ask_image(
    p: &mut dyn Prompter,
    name: &str,
    current: Option<&DraftService>,
) -> Result<Option<String>, Error> {
    let default = current.and_then(|c| c.image.clone()).unwrap_or_default();
    let image = p.input(
        &format!("Container image of {name} (empty if not known yet)"),
        &default,
        &answers::image,
    )?;
    Ok((!image.is_empty()).then_some(image))
}

fn ask_size(
    p: &mut dyn Prompter,
    name: &str,
    current: Option<&DraftService>,
) -> Result<DraftResources, Error> {
    // Resources the file leaves partly or wholly unset are offered as they are, first: Enter
    // must not add limits nobody asked for.
    let partial = current.map(|c| &c.resources).filter(|r| !r.is_complete());
    let mut items: Vec<String> = partial.map(as_written).into_iter().collect();
    let presets = items.len();
    items.extend(SIZES.iter().map(|(n, q)| {
        format!(
            "{n}: requests {} CPU, {} memory; limits {}, {}",
            q[0], q[1], q[2], q[3]
        )
    }));
    items.push("custom: type the four values".to_string());
    let complete = current.map(|c| &c.resources).filter(|r| r.is_complete());
    let default = match complete {
        None => 0,
        Some(r) => {
            presets
                + size_name(r)
                    .and_then(|n| SIZES.iter().position(|(s, _)| *s == n))
                    .unwrap_or(SIZES.len())
        }
    };
    let pick = p.select(&format!("Size of {name} (CPU and memory)"), &items, default)?;
    if let Some(r) = partial.filter(|_| pick == 0) {
        return Ok(r.clone());
    }
    if let Some((_, q)) = SIZES.get(pick - presets) {
        return Ok(preset(q));
    }
    let start = complete.map_or_else(|| preset(&SIZES[0].1), Clone::clone);
    let cpu_request = p.input("CPU request", &start.cpu_request, &|a| {
        answers::quantity(a, false).map(|_| ())
    })?;
    let memory_request = p.input("Memory request", &start.memory_request, &|a| {
        answers::quantity(a, true).map(|_| ())
    })?;
    let cpu_limit = p.input(
        "CPU limit",
        &answers::limit_default(&start.cpu_limit, &cpu_request, false),
        &|a| answers::limit(a, &cpu_request, false),
    )?;
    let memory_limit = p.input(
        "Memory limit",
        &answers::limit_default(&start.memory_limit, &memory_request, true),
        &|a| answers::limit(a, &memory_request, true),
    )?;
    Ok(DraftResources::new(
        cpu_request.trim(),
        memory_request.trim(),
        cpu_limit.trim(),
        memory_limit.trim(),
    ))
}

/// The size item for resources the file sets only in part, or not at all.
fn as_written(r: &DraftResources) -> String {
    let pair = |cpu: &str, memory: &str| match (cpu.is_empty(), memory.is_empty()) {
        (true, true) => None,
        (false, true) => Some(format!("{cpu} CPU")),
        (true, false) => Some(format!("{memory} memory")),
        (false, false) => Some(format!("{cpu} CPU, {memory} memory")),
    };
    let parts: Vec<String> = [
        pair(&r.cpu_request, &r.memory_request).map(|p| format!("requests {p}")),
        pair(&r.cpu_limit, &r.memory_limit).map(|p| format!("limits {p}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "as it is: no requests or limits (check reports resources-missing)".to_string()
    } else {
        format!("as it is: {}", parts.join("; "))
    }
}

fn ask_egress(
    p: &mut dyn Prompter,
    name: &str,
    current: Option<&DraftService>,
) -> Result<Vec<DraftEgress>, Error> {
    let mut kept = Vec::new();
    for e in current.map(|c| c.egress.as_slice()).unwrap_or_default() {
        if p.confirm(&format!("Keep egress {}?", egress_text(e)), true)? {
            kept.push(e.clone());
        }
    }
    let mut question =
        format!("Does {name} send traffic outside the cluster (an external API or database)?");
    while p.confirm(&question, false)? {
        let cidr = p.input(
            "Destination addresses (a CIDR; 0.0.0.0/0 for anywhere)",
            "",
            &|a| answers::cidr(a).map(|_| ()),
        )?;
        let ports = p.input("Destination ports (comma-separated, or all)", "443", &|a| {
            answers::port_list(a).map(|_| ())
        })?;
        let reason = p.input("What for (shown to reviewers)", "", &answers::free_text)?;
        kept.push(DraftEgress {
            cidr: answers::cidr(&cidr).map_err(|e| Error::usage(e, "a CIDR"))?,
            ports: answers::port_list(&ports).map_err(|e| Error::usage(e, "ports"))?,
            reason,
        });
        question = format!("Does {name} send traffic to another address outside the cluster?");
    }
    Ok(kept)
}

/// One egress entry in a line.
pub fn egress_text(e: &DraftEgress) -> String {
    let ports = if e.ports.is_empty() {
        "all ports".to_string()
    } else {
        let list: Vec<String> = e.ports.iter().map(u16::to_string).collect();
        format!("port {}", list.join(", "))
    };
    if e.reason.is_empty() {
        format!("to {} on {ports}", e.cidr)
    } else {
        format!("to {} on {ports} ({})", e.cidr, e.reason)
    }
}

/// Asks a replica count, from the summary.
pub fn ask_replicas(p: &mut dyn Prompter, name: &str, default: u32) -> Result<u32, Error> {
    let answer = p.input(
        &format!("Replicas of {name} (pods running at once)"),
        &default.to_string(),
        &|a| answers::replicas(a).map(|_| ()),
    )?;
    answers::replicas(&answer).map_err(|e| Error::usage(e, "1 to 100"))
}
