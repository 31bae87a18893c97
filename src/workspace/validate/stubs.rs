//! Validate stage, continued: the keys that make a generated stub run a real service —
//! `kind`/`storage`/`storage-path`, `health`, `writable`, the project's `cluster-domain` and a
//! namespace's `user-resources` — and the collision check of the callers' address variables.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::Validator;
use crate::diagnostic::{Code, Problem, closest};
use crate::model::{
    DEFAULT_CLUSTER_DOMAIN, DEFAULT_STORAGE_PATH, HEADLESS_SUFFIX, Health, HealthCheck, Namespace,
    Port, Protocol, Service, Storage, UserResource, Workload,
};
use crate::quantity::Quantity;
use crate::workspace::raw::{RawHealth, RawService};

/// The longest path we accept in a container path or an HTTP probe path.
pub(super) const MAX_PATH: usize = 1024;

/// The longest name of a stateful service. The StatefulSet controller labels each pod
/// `controller-revision-hash: <name>-<10-character hash>`, a label value of at most 63
/// characters, so a longer name gives a StatefulSet whose pods are never created
/// (kubernetes/kubernetes#64023). That also leaves room for [`HEADLESS_SUFFIX`].
pub const STATEFUL_NAME_MAX: usize = 52;

/// The path mounted writable in every stub.
pub const TMP: &str = "/tmp";

impl Validator {
    /// `cluster-domain`: a DNS subdomain, default `cluster.local`.
    pub(super) fn cluster_domain(&mut self, raw: Option<&Spanned<String>>) -> String {
        let Some(raw) = raw else {
            return DEFAULT_CLUSTER_DOMAIN.to_string();
        };
        let text = raw.get_ref();
        let ok = !text.is_empty()
            && text.len() <= 253
            && text
                .split('.')
                .all(|label| crate::names::dns1123_label(label).is_ok());
        if !ok {
            self.push(
                Problem::new(
                    Code::InvalidName,
                    raw.span(),
                    format!("invalid cluster domain {text:?}"),
                )
                .label("not a DNS domain")
                .help("write the cluster's DNS domain without a trailing dot, such as \"cluster.local\" (the default)"),
            );
            return DEFAULT_CLUSTER_DOMAIN.to_string();
        }
        text.clone()
    }

    /// `user-resources`: relative paths of plain components inside the namespace folder.
    pub(super) fn user_resources(&mut self, raw: &[Spanned<String>]) -> Vec<UserResource> {
        let mut out: Vec<UserResource> = Vec::new();
        for entry in raw {
            if let Err(why) = user_path(entry.get_ref()) {
                self.push(
                    Problem::new(
                        Code::InvalidValue,
                        entry.span(),
                        format!("invalid user resource {:?}: {why}", entry.get_ref()),
                    )
                    .label("not a file inside the namespace folder")
                    .help("name a .yaml file relative to the namespace folder, such as \"app-config.yaml\" or \"config/app.yaml\""),
                );
                continue;
            }
            if let Some(first) = out.iter().find(|r| r.path == *entry.get_ref()) {
                self.push(
                    Problem::new(
                        Code::Duplicate,
                        entry.span(),
                        format!("user resource {:?} is listed twice", entry.get_ref()),
                    )
                    .label("again here")
                    .also(first.span, "first here")
                    .help("list each file once"),
                );
                continue;
            }
            out.push(UserResource {
                path: entry.get_ref().clone(),
                span: entry.span().into(),
            });
        }
        out.sort();
        out
    }

    /// A user resource may not take the path of a file `generate` writes.
    pub(super) fn user_resource_clashes(
        &mut self,
        namespaces: &BTreeMap<String, Namespace>,
        services: &[Service],
    ) {
        for ns in namespaces.values() {
            for resource in &ns.user_resources {
                // Compared without case and with either YAML extension: kustomize refuses a
                // folder with both `kustomization.yaml` and `kustomization.yml`, and on a
                // case-insensitive file system `Namespace.yaml` is `namespace.yaml`.
                let path = resource.path.to_lowercase();
                let stem = path
                    .strip_suffix(".yaml")
                    .or_else(|| path.strip_suffix(".yml"))
                    .unwrap_or(&path);
                let generated = crate::names::RESERVED_STEMS.contains(&stem)
                    || services.iter().any(|s| {
                        s.id.namespace == ns.name
                            && crate::names::stub_file_name(&s.id.name).strip_suffix(".yaml")
                                == Some(stem)
                    });
                if generated {
                    self.push(
                        Problem::new(
                            Code::Duplicate,
                            resource.span,
                            format!(
                                "user resource {:?} is a file that `generate` writes in namespace \"{}\"",
                                resource.path, ns.name
                            ),
                        )
                        .label("generated file")
                        .help("give your file another name; to change a generated file, use a kustomize overlay (see docs/guide/generate.md)"),
                    );
                }
            }
        }
    }

    /// A stateful service's headless Service may not take the name of another service's
    /// Service in its namespace (`db` beside a service called `db-headless`).
    pub(super) fn headless_clashes(&mut self, services: &[Service]) {
        let ids: BTreeMap<&crate::model::ServiceId, &Service> =
            services.iter().map(|s| (&s.id, s)).collect();
        for s in services.iter().filter(|s| s.is_stateful()) {
            let headless = crate::model::ServiceId::new(
                s.id.namespace.clone(),
                format!("{}{HEADLESS_SUFFIX}", s.id.name),
            );
            if let Some(other) = ids.get(&headless) {
                self.push(
                    Problem::new(
                        Code::Duplicate,
                        other.span,
                        format!("service \"{headless}\" has the name of the headless Service of the stateful service \"{}\"", s.id),
                    )
                    .label("name taken")
                    .also(s.span, "stateful service")
                    .help("rename one of the two services"),
                );
            }
        }
    }

    /// `kind`, `storage` and `storage-path`.
    pub(super) fn workload(&mut self, raw: &RawService) -> Workload {
        let stateful = raw.kind.as_ref().and_then(|k| {
            self.keyword(
                k,
                "workload kind",
                &[("deployment", false), ("stateful", true)],
            )
        });
        let storage = raw.storage.as_ref().and_then(|s| self.storage_size(s));
        let path = raw
            .storage_path
            .as_ref()
            .and_then(|p| self.container_path(p, "storage path"));
        match stateful {
            Some(true) => {
                let name = raw.name.get_ref();
                if name.len() > STATEFUL_NAME_MAX {
                    self.push(
                        Problem::new(
                            Code::InvalidName,
                            raw.name.span(),
                            format!("stateful service name \"{name}\" is too long for a StatefulSet's pod labels"),
                        )
                        .label("too long")
                        .help(format!(
                            "a stateful service's name has at most {STATEFUL_NAME_MAX} characters: \
                             Kubernetes labels each pod with the name, a dash and a 10-character hash"
                        )),
                    );
                }
                let Some(size) = storage else {
                    if raw.storage.is_none()
                        && let Some(kind) = &raw.kind
                    {
                        self.push(
                            Problem::new(
                                Code::MissingKey,
                                kind.span(),
                                "a stateful service needs `storage`",
                            )
                            .label("no storage")
                            .help(
                                "add the size of each pod's volume, such as `storage = \"10Gi\"`",
                            ),
                        );
                    }
                    return Workload::Deployment;
                };
                Workload::Stateful(Storage {
                    size,
                    path: path.unwrap_or_else(|| DEFAULT_STORAGE_PATH.to_string()),
                })
            }
            Some(false) | None => {
                // `kind` itself may be misspelt: the keyword error already says so.
                if raw.kind.is_none() || stateful.is_some() {
                    for (key, span) in [
                        ("storage", raw.storage.as_ref().map(Spanned::span)),
                        ("storage-path", raw.storage_path.as_ref().map(Spanned::span)),
                    ] {
                        if let Some(span) = span {
                            self.push(
                                Problem::new(
                                    Code::InvalidValue,
                                    span,
                                    format!("`{key}` needs `kind = \"stateful\"`"),
                                )
                                .label("a Deployment has no volume of its own")
                                .help("add `kind = \"stateful\"` to run the service as a StatefulSet with a volume per pod, or remove the key"),
                            );
                        }
                    }
                }
                Workload::Deployment
            }
        }
    }

    fn storage_size(&mut self, raw: &Spanned<String>) -> Option<Quantity> {
        let parsed = raw.get_ref().parse::<Quantity>();
        match parsed {
            Ok(q) if q.nanos() > 0 && !q.is_milli() => Some(q),
            Ok(_) | Err(_) => {
                self.push(
                    Problem::new(
                        Code::InvalidQuantity,
                        raw.span(),
                        format!("invalid storage size {:?}", raw.get_ref()),
                    )
                    .label("not a size")
                    .help("storage sizes are positive quantities such as \"10Gi\" or \"500Mi\""),
                );
                None
            }
        }
    }

    /// An absolute path inside a container: plain components of `[A-Za-z0-9._-]`, no `.` or
    /// `..`, no empty component, not `/` itself.
    fn container_path(&mut self, raw: &Spanned<String>, what: &str) -> Option<String> {
        match container_path(raw.get_ref()) {
            Ok(()) => Some(raw.get_ref().clone()),
            Err(why) => {
                self.push(
                    Problem::new(
                        Code::InvalidValue,
                        raw.span(),
                        format!("invalid {what} {:?}: {why}", raw.get_ref()),
                    )
                    .label("not an absolute path")
                    .help("write an absolute path of letters, digits, '.', '_', '-' and '/', such as \"/var/cache/app\""),
                );
                None
            }
        }
    }

    /// `writable`: absolute paths, each once, not `/tmp` (always mounted).
    /// `writable`; `workload` is the service's, whose storage path is writable already.
    pub(super) fn writable(&mut self, raw: &RawService, workload: &Workload) -> Vec<String> {
        let mut out: BTreeMap<String, std::ops::Range<usize>> = BTreeMap::new();
        for entry in &raw.writable {
            let Some(path) = self.container_path(entry, "writable path") else {
                continue;
            };
            if path == TMP {
                self.push(
                    Problem::new(Code::Duplicate, entry.span(), "`/tmp` is always writable")
                        .label("already mounted")
                        .help("remove it: every stub mounts a size-limited emptyDir at /tmp"),
                );
                continue;
            }
            if let Some(first) = out.get(&path) {
                self.push(
                    Problem::new(
                        Code::Duplicate,
                        entry.span(),
                        format!("writable path {path:?} is listed twice"),
                    )
                    .label("again here")
                    .also(first.clone(), "first here")
                    .help("list each path once"),
                );
                continue;
            }
            // The effective path: `storage-path`, or the default a stateful service gets.
            if let Workload::Stateful(storage) = workload
                && storage.path == path
            {
                let at = raw
                    .storage_path
                    .as_ref()
                    .map(Spanned::span)
                    .or_else(|| raw.kind.as_ref().map(Spanned::span))
                    .unwrap_or_else(|| entry.span());
                self.push(
                    Problem::new(
                        Code::Duplicate,
                        entry.span(),
                        format!("{path:?} is already the storage path"),
                    )
                    .label("mounted twice")
                    .also(at, "the persistent volume")
                    .help("remove it from `writable`: the persistent volume is writable"),
                );
                continue;
            }
            out.insert(path, entry.span());
        }
        out.into_keys().collect()
    }

    /// `health`: an HTTP, TCP or gRPC probe on one of the service's TCP ports.
    pub(super) fn health(&mut self, raw: &Spanned<RawHealth>, ports: &[Port]) -> Option<Health> {
        let h = raw.get_ref();
        let kind = match &h.r#type {
            Some(t) => self.keyword(
                t,
                "health check type",
                &[("http", 0), ("tcp", 1), ("grpc", 2)],
            ),
            None => Some(0),
        };
        let check = match (kind, &h.path) {
            (Some(0), Some(path)) => match probe_path(path.get_ref()) {
                Ok(()) => Some(HealthCheck::Http {
                    path: path.get_ref().clone(),
                }),
                Err(why) => {
                    self.push(
                        Problem::new(
                            Code::InvalidValue,
                            path.span(),
                            format!("invalid health check path {:?}: {why}", path.get_ref()),
                        )
                        .label("not an HTTP path")
                        .help("write the path the service answers on, such as \"/healthz\""),
                    );
                    None
                }
            },
            (Some(0), None) => {
                self.push(
                    Problem::new(Code::MissingKey, raw.span(), "an HTTP health check needs `path`")
                        .label("no path")
                        .help("add the path, e.g. `health = { path = \"/healthz\", port = \"http\" }`, or set `type = \"tcp\"` or `\"grpc\"`"),
                );
                None
            }
            (Some(k), Some(path)) => {
                let t = if k == 1 { "tcp" } else { "grpc" };
                self.push(
                    Problem::new(
                        Code::InvalidValue,
                        path.span(),
                        format!("a {t} health check has no `path`"),
                    )
                    .label("only for HTTP")
                    .help("remove `path`, or drop `type` for an HTTP check"),
                );
                None
            }
            (Some(1), None) => Some(HealthCheck::Tcp),
            (Some(_), None) => Some(HealthCheck::Grpc),
            (None, _) => None,
        };
        let port = ports.iter().find(|p| p.name == *h.port.get_ref());
        let port = match port {
            Some(p) if p.protocol == Protocol::Tcp => Some(p),
            Some(p) => {
                self.push(
                    Problem::new(
                        Code::UnknownPort,
                        h.port.span(),
                        format!(
                            "port \"{}\" is {}: the kubelet probes over TCP",
                            p.name,
                            p.protocol.as_str()
                        ),
                    )
                    .label("not a TCP port")
                    .help("name a TCP port of the service"),
                );
                None
            }
            None => {
                let known: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
                let help = match closest(h.port.get_ref(), known.iter().copied()) {
                    Some(c) => format!("did you mean \"{c}\"?"),
                    None if known.is_empty() => {
                        "the service has no ports: add `ports = [...]` first".to_string()
                    }
                    None => format!("the service's ports are {}", known.join(", ")),
                };
                self.push(
                    Problem::new(
                        Code::UnknownPort,
                        h.port.span(),
                        format!("the service has no port named {:?}", h.port.get_ref()),
                    )
                    .label("unknown port")
                    .help(help),
                );
                None
            }
        };
        let (check, port) = (check?, port?);
        Some(Health {
            check,
            port_name: port.name.clone(),
            port: port.target,
            span: raw.span().into(),
        })
    }

    /// Refuses a caller whose address variables collide even after qualification.
    pub(super) fn wiring(&mut self, services: &[Service]) {
        let lookup = |id: &crate::model::ServiceId| {
            services
                .binary_search_by(|s| s.id.cmp(id))
                .ok()
                .map(|i| &services[i])
        };
        for caller in services {
            let clashes = crate::wiring::clashes(caller, lookup);
            let mut seen = BTreeSet::new();
            for clash in clashes {
                if !seen.insert(clash.name.clone()) {
                    continue;
                }
                let (a, b) = (&caller.calls[clash.calls.0], &caller.calls[clash.calls.1]);
                self.push(
                    Problem::new(
                        Code::Duplicate,
                        b.span,
                        format!(
                            "calls of \"{}\" to \"{}\" and \"{}\" would both set the address variable {}",
                            caller.id, a.to, b.to, clash.name
                        ),
                    )
                    .label("same variable")
                    .also(a.span, "as this call")
                    .help("rename one of the two services: variable names join namespace, service and port names with '_'"),
                );
            }
        }
    }
}

/// Why `path` is not a safe relative file path inside a namespace folder.
fn user_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    if path.len() > MAX_PATH {
        return Err(format!("the path has more than {MAX_PATH} characters"));
    }
    if path.starts_with('/') {
        return Err("the path is absolute".into());
    }
    if let Some(bad) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')))
    {
        return Err(format!(
            "only letters, digits, '.', '_', '-' and '/' are allowed, not {bad:?}"
        ));
    }
    for part in path.split('/') {
        if part.is_empty() {
            return Err("the path has an empty component".into());
        }
        if part == ".." {
            return Err("`..` would leave the namespace folder".into());
        }
        if part.starts_with('.') {
            return Err("a component starts with '.'".into());
        }
    }
    if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
        return Err("the file name does not end in .yaml or .yml".into());
    }
    Ok(())
}

/// Why `path` is not a safe absolute path inside a container.
pub fn container_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err("the path is not absolute".into());
    }
    if path.len() > MAX_PATH {
        return Err(format!("the path has more than {MAX_PATH} characters"));
    }
    if let Some(bad) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')))
    {
        return Err(format!(
            "only letters, digits, '.', '_', '-' and '/' are allowed, not {bad:?}"
        ));
    }
    for part in path[1..].split('/') {
        if part.is_empty() {
            return Err("the path has an empty component (or is `/`)".into());
        }
        if part == "." || part == ".." {
            return Err("`.` and `..` are not allowed".into());
        }
    }
    Ok(())
}

/// Why `path` is not an HTTP probe path: absolute, printable ASCII without spaces.
pub fn probe_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err("the path does not start with '/'".into());
    }
    if path.len() > MAX_PATH {
        return Err(format!("the path has more than {MAX_PATH} characters"));
    }
    if let Some(bad) = path.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(format!(
            "only printable ASCII without spaces is allowed, not {bad:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_paths() {
        for good in ["a.yaml", "config/app.yml", "x-1_2.yaml"] {
            assert_eq!(user_path(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd.yaml",
            "../x.yaml",
            "a/../../x.yaml",
            "a//b.yaml",
            ".hidden.yaml",
            "a/./b.yaml",
            "a.json",
            "a\u{1b}[2J.yaml",
            "a\u{2028}.yaml",
            "a\\..\\b.yaml",
            "a b.yaml",
        ] {
            assert!(user_path(bad).is_err(), "{bad:?}");
        }
        assert!(user_path(&format!("{}.yaml", "a".repeat(2000))).is_err());
    }

    #[test]
    fn container_paths() {
        assert_eq!(container_path("/var/cache/nginx"), Ok(()));
        for bad in [
            "/", "var", "/a//b", "/a/../b", "/a/.", "/a/", "/a\u{0}", "/é",
        ] {
            assert!(container_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn probe_paths() {
        assert_eq!(probe_path("/healthz?full=1"), Ok(()));
        for bad in ["healthz", "/a b", "/a\u{1b}", "/a\u{2028}", "/a\n"] {
            assert!(probe_path(bad).is_err(), "{bad:?}");
        }
        // A huge value is refused, not copied into every probe of the manifest.
        assert!(probe_path(&format!("/{}", "a".repeat(5000))).is_err());
        assert!(container_path(&format!("/{}", "a".repeat(5000))).is_err());
    }
}
