//! The questions that make the stub run the real service: what kind of workload it is (a web
//! service or API, a worker, or a stateful service with a volume per pod), its volume, its
//! health check and the folders it writes to. Each answer is checked with the rules validation
//! applies to the same key of the file.

use super::answers;
use crate::check::images::KnownImage;
use crate::diagnostic::Error;
use crate::model::HealthCheck;
use crate::prompt::Prompter;
use crate::workspace::rules;
use crate::workspace::write::{DraftPort, DraftService, DraftStorage};

/// What runs the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Takes requests: a Deployment and a Service.
    Web,
    /// Takes none: a Deployment without a Service.
    Worker,
    /// Keeps data: a StatefulSet with a volume per pod.
    Stateful,
}

impl Kind {
    /// The kind of a service in a draft.
    pub fn of(svc: &DraftService) -> Kind {
        match (&svc.storage, &svc.port) {
            (Some(_), _) => Kind::Stateful,
            (None, Some(_)) => Kind::Web,
            (None, None) => Kind::Worker,
        }
    }

    fn label(self) -> &'static str {
        match self {
            // Each fits an 80-column terminal: a list item that wraps breaks the redraw.
            Kind::Web => "web or API: takes requests (a Deployment and a Service)",
            Kind::Worker => "worker: takes no requests; nobody calls it (a Deployment)",
            Kind::Stateful => "stateful: keeps data, as a database does (a StatefulSet)",
        }
    }
}

/// Asks the kind; the default is stateful for a newly named image known to keep data, else the
/// current kind, else web.
pub fn ask_kind(
    p: &mut dyn Prompter,
    name: &str,
    current: Option<&DraftService>,
    known: Option<&KnownImage>,
) -> Result<Kind, Error> {
    let mut offered = vec![Kind::Web, Kind::Worker, Kind::Stateful];
    // The StatefulSet controller labels each pod with the name and a hash, within 63
    // characters: validation refuses a longer stateful name, so it is not offered.
    if name.len() > rules::STATEFUL_NAME_MAX {
        offered.pop();
        p.note(&format!(
            "{name} is too long for a StatefulSet (at most {} characters), so it cannot be \
             stateful.",
            rules::STATEFUL_NAME_MAX
        ));
    }
    let wanted = match (current, known) {
        (_, Some(k)) if k.keeps_data => Kind::Stateful,
        (Some(c), _) => Kind::of(c),
        _ => Kind::Web,
    };
    let default = offered.iter().position(|k| *k == wanted).unwrap_or(0);
    let items: Vec<String> = offered.iter().map(|k| k.label().to_string()).collect();
    let kind = offered[p.select(&format!("What kind of service is {name}?"), &items, default)?];
    if kind == Kind::Stateful && current.is_none_or(|c| Kind::of(c) != Kind::Stateful) {
        p.note(
            "The pods of a StatefulSet each keep their own data: it runs one pod, since a \
             second one would be a second, separate database unless the software replicates \
             itself (then set replicas from the summary).",
        );
    }
    Ok(kind)
}

/// The size of each pod's volume and where it is mounted.
pub fn ask_storage(
    p: &mut dyn Prompter,
    name: &str,
    current: Option<&DraftService>,
    known: Option<&KnownImage>,
) -> Result<DraftStorage, Error> {
    let old = current.and_then(|c| c.storage.as_ref());
    let size_default = known
        .and_then(|k| k.storage.clone())
        .or_else(|| old.map(|o| o.size.clone()))
        .unwrap_or_else(|| "10Gi".to_string());
    let size = p.input(
        &format!("Size of each {name} pod's volume"),
        &size_default,
        &answers::storage_size,
    )?;
    let path_default = known
        .and_then(|k| k.storage_path.clone())
        .or_else(|| old.map(|o| o.path.clone()))
        .unwrap_or_else(|| crate::model::DEFAULT_STORAGE_PATH.to_string());
    let path = p.input(
        &format!("Folder where {name} keeps its data (the volume's mount path)"),
        &path_default,
        &|a| rules::container_path(a.trim()),
    )?;
    Ok(DraftStorage {
        size: size.trim().to_string(),
        path: path.trim().to_string(),
    })
}

/// How Kubernetes checks the service, on its one port; `None` for no probes.
pub fn ask_health(
    p: &mut dyn Prompter,
    name: &str,
    port: &DraftPort,
    current: Option<&DraftService>,
    known: Option<&KnownImage>,
) -> Result<Option<HealthCheck>, Error> {
    let items: Vec<String> = vec![
        format!("http: an HTTP GET of a path on port {}", port.name),
        format!("tcp: port {} accepts connections", port.name),
        format!(
            "grpc: the gRPC health checking protocol on port {}",
            port.name
        ),
        "none yet: no probes (the stub says so)".to_string(),
    ];
    let wanted = match (current, known) {
        (_, Some(k)) => k.health.clone(),
        (Some(c), None) => c.health.clone(),
        (None, None) => None,
    };
    let default = match &wanted {
        Some(HealthCheck::Http { .. }) => 0,
        Some(HealthCheck::Tcp) => 1,
        Some(HealthCheck::Grpc) => 2,
        None => 3,
    };
    let question = format!("How does Kubernetes check that {name} is up?");
    Ok(match p.select(&question, &items, default)? {
        0 => {
            let old = match &wanted {
                Some(HealthCheck::Http { path }) => path.clone(),
                _ => "/healthz".to_string(),
            };
            let path = p.input("Path that answers when it is healthy", &old, &|a| {
                rules::probe_path(a.trim())
            })?;
            Some(HealthCheck::Http {
                path: path.trim().to_string(),
            })
        }
        1 => Some(HealthCheck::Tcp),
        2 => Some(HealthCheck::Grpc),
        _ => None,
    })
}

/// The folders the service writes to besides `/tmp` (the root file system is read-only),
/// sorted; `none` for none.
pub fn ask_writable(
    p: &mut dyn Prompter,
    name: &str,
    storage: Option<&DraftStorage>,
    current: Option<&DraftService>,
    known: Option<&KnownImage>,
) -> Result<Vec<String>, Error> {
    let old = match (current, known) {
        (Some(c), None) => c.writable.clone(),
        (_, Some(k)) => k.writable.clone(),
        (None, None) => Vec::new(),
    };
    let check = |a: &str| answers::folders(a, storage.map(|s| s.path.as_str())).map(|_| ());
    let answer = p.input(
        &format!("Folders {name} writes to besides /tmp (comma-separated; none if none)"),
        &old.join(", "),
        &check,
    )?;
    answers::folders(&answer, storage.map(|s| s.path.as_str()))
        .map_err(|e| Error::usage(e, "absolute paths, or none"))
}
