//! The questions about one service: name, domain, image, kind, port, exposure, then (in
//! `workload`, `size`, `egress`) what the stub needs to run it, its size and its egress, and,
//! when changed from the summary or in an existing workspace, replicas. A service being
//! changed offers its current answers as the defaults, so Enter keeps them; a new service that
//! runs a well-known image (`policies/images.toml`) is offered that image's defaults.

use super::answers;
use super::workload::{self, Kind};
use super::{Session, egress, size};
use crate::check::images::KnownImage;
use crate::diagnostic::Error;
use crate::model::{Expose, Platform};
use crate::names;
use crate::prompt::Prompter;
use crate::workspace::write::{DraftPort, DraftService};

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
    let image = ask_image(p, s, &name, current)?;
    // A well-known image's defaults, for a new service or one whose image changed: they come
    // before the service's own answers, which are the defaults otherwise.
    let known = image
        .as_deref()
        .filter(|i| current.is_none_or(|c| c.image.as_deref() != Some(*i)))
        .and_then(|i| s.guardrails.images.find(i))
        .cloned();
    if let Some(k) = &known {
        p.note(&format!(
            "{name} runs {}: the defaults below are {}'s.",
            k.title, k.title
        ));
    }
    let kind = workload::ask_kind(p, &name, current, known.as_ref())?;
    let (port, expose) = match kind {
        Kind::Worker => (None, Expose::Cluster),
        Kind::Web | Kind::Stateful => {
            let (port, expose) = ask_port_and_exposure(p, s, &name, kind, current, known.as_ref())?;
            (Some(port), expose)
        }
    };
    let storage = match kind {
        Kind::Stateful => Some(workload::ask_storage(p, &name, current, known.as_ref())?),
        Kind::Web | Kind::Worker => None,
    };
    let health = match &port {
        Some(port) => workload::ask_health(p, &name, port, current, known.as_ref())?,
        None => None,
    };
    let writable = workload::ask_writable(p, &name, storage.as_ref(), current, known.as_ref())?;
    let resources = size::ask_size(p, &name, current)?;
    let egress = egress::ask_egress(p, s, &name, current)?;
    Ok(DraftService {
        image,
        replicas: current.map_or(1, |c| c.replicas),
        port,
        expose,
        calls: current.map(|c| c.calls.clone()).unwrap_or_default(),
        egress,
        resources,
        storage,
        health,
        writable,
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

/// The port a service listens on, its name, the Service port callers use, and how far it is
/// exposed.
fn ask_port_and_exposure(
    p: &mut dyn Prompter,
    s: &mut Session<'_>,
    name: &str,
    kind: Kind,
    current: Option<&DraftService>,
    known: Option<&KnownImage>,
) -> Result<(DraftPort, Expose), Error> {
    let old = current.and_then(|c| c.port.as_ref());
    let known_port = known.and_then(|k| k.port.as_ref());
    let old_target = known_port
        .map(|(port, _)| *port)
        .or(old.map(|o| o.target))
        .unwrap_or(8080);
    let target = p.input(
        &format!("Port {name} listens on (in the container)"),
        &old_target.to_string(),
        &|a| answers::port(a).map(|_| ()),
    )?;
    let target = answers::port(&target).map_err(|e| Error::usage(e, "a port from 1 to 65535"))?;
    // The name says what the port speaks: meshes and people read `http` as HTTP.
    let default_name = match (old, known_port) {
        (_, Some((_, n))) => n.clone(),
        (Some(o), None) => o.name.clone(),
        (None, None) if kind == Kind::Stateful => format!("tcp-{target}"),
        (None, None) => "http".to_string(),
    };
    let port_name = p.input(
        &format!("Name of port {target} (http, grpc, or the protocol it speaks)"),
        &default_name,
        &|a| names::port_name(a.trim()),
    )?;
    let plain_web = kind == Kind::Web && known.is_none();
    let default_port = service_port_default(
        s.draft.platform,
        old.map(|o| (o.port, o.target)),
        target,
        plain_web,
    );
    let port = p.input(
        "Port callers use (the Service port)",
        &default_port.to_string(),
        &|a| answers::port(a).map(|_| ()),
    )?;
    let port = answers::port(&port).map_err(|e| Error::usage(e, "a port from 1 to 65535"))?;
    let expose = ask_exposure(p, s, name, current.map(|c| c.expose))?;
    let port = DraftPort {
        name: port_name.trim().to_string(),
        port,
        target,
    };
    Ok((port, expose))
}

/// The Service port offered once the container port `target` is known. A changed service keeps
/// the port it had, on every platform, unless its container port changed: then a Service port
/// that equalled the old container port follows it, and on EKS the two stay equal anyway,
/// since the VPC CNI's network policies need that (the `eks-target-port` guardrail). A new web
/// service gets the container port on EKS and 80 elsewhere; a database or another well-known
/// image, its own port.
fn service_port_default(
    platform: Platform,
    current: Option<(u16, u16)>,
    target: u16,
    plain_web: bool,
) -> u16 {
    match current {
        Some((port, old_target))
            if old_target == target || (platform != Platform::Eks && port != old_target) =>
        {
            port
        }
        Some(_) => target,
        _ if platform == Platform::Eks || !plain_web => target,
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

/// The image; empty when not known yet. A tag that moves (`latest`, a bare major, ...) is
/// said at once, with what `check` will report, and a newly typed one is confirmed.
fn ask_image(
    p: &mut dyn Prompter,
    s: &Session<'_>,
    name: &str,
    current: Option<&DraftService>,
) -> Result<Option<String>, Error> {
    let kept = current.and_then(|c| c.image.clone()).unwrap_or_default();
    let mut default = kept.clone();
    loop {
        let image = p.input(
            &format!("Container image of {name} (empty if not known yet)"),
            &default,
            &answers::image,
        )?;
        if image.is_empty() {
            return Ok(None);
        }
        let Some(problem) = crate::check::unpinned(s.guardrails, &image) else {
            return Ok(Some(image));
        };
        p.note(&format!(
            "{image} {problem}: `check` reports it (image-unpinned), and two pods can run \
             different code. Pin a release or a digest."
        ));
        // The file's own image stays as it is on Enter; a new one is confirmed.
        if image == kept || p.confirm(&format!("Keep {image} anyway?"), false)? {
            return Ok(Some(image));
        }
        default = kept.clone();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_port_offered_keeps_what_did_not_change() {
        use Platform::{Eks, Generic};
        for (platform, current, target, plain_web, expected) in [
            // A change that keeps the container port keeps the Service port, on every platform.
            (Eks, Some((80, 3000)), 3000, true, 80),
            (Generic, Some((80, 3000)), 3000, true, 80),
            // A new container port: an equal Service port follows it; a different one stays,
            // except on EKS.
            (Generic, Some((8080, 8080)), 5432, false, 5432),
            (Generic, Some((80, 8080)), 9000, true, 80),
            (Eks, Some((80, 8080)), 9000, true, 9000),
            // A new service.
            (Eks, None, 8080, true, 8080),
            (Generic, None, 8080, true, 80),
            (Generic, None, 5432, false, 5432),
        ] {
            assert_eq!(
                service_port_default(platform, current, target, plain_web),
                expected,
                "{platform:?} {current:?} {target}"
            );
        }
    }
}
