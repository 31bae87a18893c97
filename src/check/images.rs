//! Read + validate stage for `policies/images.toml`: what is known about well-known container
//! images — the port, probe and folders a service running one needs, whether it keeps data that
//! must outlive a pod, and how it numbers its releases. `init` offers these as defaults; `check`
//! judges image tags and stateless databases with them. The shipped file is applied first, then
//! the entries of `images.toml` in `--policies DIR`, by name. Nothing here looks at a workspace.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::{Code, Error, Problem, Source};
use crate::model::{CallKind, HealthCheck};
use crate::names;
use crate::policy;
use crate::quantity::Quantity;
use crate::workspace::rules;

/// The policy file name, shipped and in `--policies DIR`.
pub const FILE_NAME: &str = "images.toml";

/// What is known about one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownImage {
    /// The repository's last path component (`postgres`).
    pub name: String,
    /// What people call it (`PostgreSQL`).
    pub title: String,
    /// It keeps data that must outlive a pod: a StatefulSet with a volume, not a Deployment.
    pub keeps_data: bool,
    /// The port it listens on, and that port's name.
    pub port: Option<(u16, String)>,
    /// How Kubernetes checks it (on `port`).
    pub health: Option<HealthCheck>,
    /// The volume size offered.
    pub storage: Option<String>,
    /// Where it keeps its data: the volume's mount path.
    pub storage_path: Option<String>,
    /// Other folders it writes to.
    pub writable: Vec<String>,
    /// How it numbers releases, when a tag of two numbers names one release.
    pub release: Option<TwoPartRelease>,
    /// How other services reach it, when not by a request they wait for: a broker is called
    /// `async`, a collector `telemetry`.
    pub called: Option<CallKind>,
}

/// An image whose releases are numbered `<major>.<minor>`, the second number being the patch
/// release: a tag of two numbers is pinned, from major version `from_major` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwoPartRelease {
    /// The first major version numbered so.
    pub from_major: u64,
    /// Why, with its source; quoted in findings.
    pub why: String,
}

/// Every known image, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Images {
    /// By name.
    pub images: BTreeMap<String, KnownImage>,
}

impl Images {
    /// Loads the shipped entries, with `dir/images.toml` (when anything has that name) applied
    /// over them by name.
    pub fn load(dir: Option<&Path>) -> Result<Images, Error> {
        let (source, shipped): (Source, RawImages) = policy::read_file(None, FILE_NAME)?;
        let mut images = read(&source, shipped)?;
        if let Some(dir) = dir.filter(|d| std::fs::symlink_metadata(d.join(FILE_NAME)).is_ok()) {
            let (source, overrides): (Source, RawImages) = policy::read_file(Some(dir), FILE_NAME)?;
            images.images.extend(read(&source, overrides)?.images);
        }
        Ok(images)
    }

    /// What is known about `image` (a reference such as `docker.io/library/postgres:16.4`).
    pub fn find(&self, image: &str) -> Option<&KnownImage> {
        self.images.get(repository_name(image))
    }
}

/// The last path component of an image reference's repository, without tag or digest:
/// `registry:5000/team/postgres:16.4@sha256:...` → `postgres`.
pub fn repository_name(image: &str) -> &str {
    let repo = image.split('@').next().unwrap_or(image);
    let last = repo.rsplit('/').next().unwrap_or(repo);
    last.split(':').next().unwrap_or(last)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawImages {
    #[serde(default)]
    images: Vec<Spanned<RawImage>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawImage {
    name: Spanned<String>,
    title: Spanned<String>,
    keeps_data: Option<bool>,
    port: Option<Spanned<i64>>,
    port_name: Option<Spanned<String>>,
    health: Option<Spanned<String>>,
    health_path: Option<Spanned<String>>,
    storage: Option<Spanned<String>>,
    storage_path: Option<Spanned<String>>,
    #[serde(default)]
    writable: Vec<Spanned<String>>,
    versions: Option<Spanned<RawVersions>>,
    called: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawVersions {
    release: Spanned<String>,
    from_major: Option<Spanned<i64>>,
    why: Spanned<String>,
}

/// Validates the entries of one file; every problem of the file is reported together.
fn read(source: &Source, raw: RawImages) -> Result<Images, Error> {
    let mut problems = Vec::new();
    let mut images: BTreeMap<String, KnownImage> = BTreeMap::new();
    let mut first: BTreeMap<String, Range<usize>> = BTreeMap::new();
    for entry in raw.images {
        let span = entry.span();
        let raw = entry.into_inner();
        let name = raw.name.get_ref().clone();
        if let Some(earlier) = first.insert(name.clone(), raw.name.span()) {
            problems.push(
                Problem::new(
                    Code::Duplicate,
                    raw.name.span(),
                    format!("image \"{name}\" is described twice"),
                )
                .label("again here")
                .also(earlier, "first here")
                .help("merge the two [[images]] tables into one"),
            );
            continue;
        }
        if let Some(image) = image(raw, span, &mut problems) {
            images.insert(name, image);
        }
    }
    if problems.is_empty() {
        Ok(Images { images })
    } else {
        Err(Error::invalid(source, problems))
    }
}

/// A problem with one value of an entry.
fn bad(span: Range<usize>, message: String, help: &str) -> Problem {
    Problem::new(Code::InvalidPolicy, span, message)
        .label("invalid")
        .help(help.to_string())
}

fn image(raw: RawImage, span: Range<usize>, problems: &mut Vec<Problem>) -> Option<KnownImage> {
    let before = problems.len();
    let name = raw.name.get_ref();
    if !repository_component(name) {
        problems.push(bad(
            raw.name.span(),
            format!("{name:?} is not the last part of an image repository"),
            "lowercase letters and digits, separated by single '.', '_' or '-', as in \"postgres\"",
        ));
    }
    for text in [&raw.title]
        .into_iter()
        .chain(raw.versions.as_ref().map(|v| &v.get_ref().why))
    {
        if let Some(c) = crate::text::unsafe_char_in(text.get_ref()) {
            problems.push(bad(
                text.span(),
                format!(
                    "the text holds the invisible character U+{:04X}",
                    u32::from(c)
                ),
                "remove it",
            ));
        }
    }
    let port = port(&raw, span.clone(), problems);
    let health = health(&raw, port.is_some(), problems);
    if let Some(storage) = &raw.storage
        && !storage
            .get_ref()
            .parse::<Quantity>()
            .is_ok_and(|q| q.nanos() > 0 && !q.is_milli())
    {
        problems.push(bad(
            storage.span(),
            format!("invalid storage size {:?}", storage.get_ref()),
            "storage sizes are positive quantities such as \"10Gi\"",
        ));
    }
    let mut seen: Vec<&str> = vec![rules::TMP];
    for path in raw.storage_path.iter().chain(&raw.writable) {
        if let Err(why) = rules::container_path(path.get_ref()) {
            problems.push(bad(
                path.span(),
                format!("invalid path {:?}: {why}", path.get_ref()),
                "write an absolute path of letters, digits, '.', '_', '-' and '/'",
            ));
        } else if seen.contains(&path.get_ref().as_str()) {
            problems.push(bad(
                path.span(),
                format!("{:?} is listed twice, or is /tmp", path.get_ref()),
                "list each folder once; /tmp is always writable",
            ));
        }
        seen.push(path.get_ref());
    }
    let release = raw
        .versions
        .as_ref()
        .and_then(|v| release(v.get_ref(), problems));
    let called = raw.called.as_ref().and_then(|c| {
        let kind = [CallKind::Sync, CallKind::Async, CallKind::Telemetry]
            .into_iter()
            .find(|k| k.as_str() == c.get_ref());
        if kind.is_none() {
            problems.push(bad(
                c.span(),
                format!("unknown call kind {:?}", c.get_ref()),
                "\"sync\", \"async\" (through a broker) or \"telemetry\" (to a collector)",
            ));
        }
        kind
    });
    (problems.len() == before).then(|| KnownImage {
        name: raw.name.get_ref().clone(),
        title: raw.title.get_ref().clone(),
        keeps_data: raw.keeps_data.unwrap_or(false),
        port,
        health,
        storage: raw.storage.map(Spanned::into_inner),
        storage_path: raw.storage_path.map(Spanned::into_inner),
        writable: raw.writable.into_iter().map(Spanned::into_inner).collect(),
        release,
        called,
    })
}

/// The grammar of a path component of an image repository (the distribution reference).
fn repository_component(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.split(['.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn port(raw: &RawImage, span: Range<usize>, problems: &mut Vec<Problem>) -> Option<(u16, String)> {
    match (&raw.port, &raw.port_name) {
        (None, None) => None,
        (Some(port), Some(name)) => {
            let number = names::port(*port.get_ref());
            if number.is_none() {
                problems.push(bad(
                    port.span(),
                    format!("port {} is outside 1..65535", port.get_ref()),
                    "a port is a number from 1 to 65535",
                ));
            }
            if let Err(why) = names::port_name(name.get_ref()) {
                problems.push(bad(
                    name.span(),
                    format!("invalid port name {:?}: {why}", name.get_ref()),
                    "an IANA service name such as \"postgres\"",
                ));
            }
            Some((number?, name.get_ref().clone()))
        }
        _ => {
            problems.push(bad(
                span,
                "`port` and `port-name` go together".to_string(),
                "give both, or neither",
            ));
            None
        }
    }
}

fn health(raw: &RawImage, has_port: bool, problems: &mut Vec<Problem>) -> Option<HealthCheck> {
    let kind = raw.health.as_ref()?;
    let check = match (kind.get_ref().as_str(), &raw.health_path) {
        ("tcp", None) => HealthCheck::Tcp,
        ("grpc", None) => HealthCheck::Grpc,
        ("http", Some(path)) => match rules::probe_path(path.get_ref()) {
            Ok(()) => HealthCheck::Http {
                path: path.get_ref().clone(),
            },
            Err(why) => {
                problems.push(bad(
                    path.span(),
                    format!("invalid health check path {:?}: {why}", path.get_ref()),
                    "the path the image answers on, such as \"/healthz\"",
                ));
                return None;
            }
        },
        _ => {
            problems.push(bad(
                kind.span(),
                format!("invalid health check {:?}", kind.get_ref()),
                "\"tcp\", \"grpc\", or \"http\" with `health-path`; `health-path` only with \"http\"",
            ));
            return None;
        }
    };
    if !has_port {
        problems.push(bad(
            kind.span(),
            "a health check needs `port` and `port-name`".to_string(),
            "the kubelet checks the image on its port",
        ));
        return None;
    }
    Some(check)
}

fn release(raw: &RawVersions, problems: &mut Vec<Problem>) -> Option<TwoPartRelease> {
    if raw.release.get_ref() != "<major>.<minor>" {
        problems.push(bad(
            raw.release.span(),
            format!("unknown release numbering {:?}", raw.release.get_ref()),
            "the only numbering to declare is \"<major>.<minor>\"; leave `versions` out for <major>.<minor>.<patch>",
        ));
        return None;
    }
    let from_major = match &raw.from_major {
        None => 0,
        Some(n) => match u64::try_from(*n.get_ref()) {
            Ok(n) => n,
            Err(_) => {
                problems.push(bad(
                    n.span(),
                    format!("`from-major` is {}, below 0", n.get_ref()),
                    "the first major version numbered <major>.<minor>",
                ));
                return None;
            }
        },
    };
    if raw.why.get_ref().trim().is_empty() {
        problems.push(bad(
            raw.why.span(),
            "`why` is empty".to_string(),
            "say why a tag of two numbers is one release, with a source; findings quote it",
        ));
        return None;
    }
    Some(TwoPartRelease {
        from_major,
        why: raw.why.get_ref().clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_images_load_and_are_found_by_repository_name() {
        let images = Images::load(None).unwrap();
        for reference in [
            "postgres:16.4",
            "docker.io/library/postgres:16.4",
            "registry.example.com/mirror/postgres:16.4.0",
            "registry:5000/postgres@sha256:0123",
        ] {
            assert_eq!(
                images.find(reference).unwrap().name,
                "postgres",
                "{reference}"
            );
        }
        assert!(images.find("ghcr.io/shop/postgres-exporter:1.0").is_none());
        let postgres = images.find("postgres").unwrap();
        assert!(postgres.keeps_data);
        assert_eq!(postgres.port, Some((5432, "postgres".to_string())));
        assert_eq!(postgres.release.as_ref().unwrap().from_major, 10);
        assert!(!images.find("redis:7.4.1").unwrap().keeps_data);
        assert_eq!(
            images.find("rabbitmq:3.13.7").unwrap().called,
            Some(CallKind::Async)
        );
        assert_eq!(
            images
                .find("otel/opentelemetry-collector-contrib:0.111.0")
                .unwrap()
                .called,
            Some(CallKind::Telemetry)
        );
    }

    fn load(text: &str) -> Result<Images, Error> {
        let source = Source::new("images.toml", text);
        let raw: RawImages = toml::from_str(text).unwrap();
        read(&source, raw)
    }

    #[test]
    fn bad_entries_are_refused_together() {
        let text = r#"
[[images]]
name = "Postgres"
title = "x"
port = 70000
port-name = "a name"
health = "http"

[[images]]
name = "db"
title = "y"
health = "tcp"
storage = "256m"
storage-path = "data"
writable = ["/tmp"]
versions = { release = "<year>", why = "" }
called = "later"

[[images]]
name = "db"
title = "again"
"#;
        let Err(Error::Invalid { problems, .. }) = load(text) else {
            panic!("accepted");
        };
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "\"Postgres\" is not the last part of an image repository",
                "port 70000 is outside 1..65535",
                "invalid port name \"a name\": a port name has only lowercase letters, digits \
                 and '-', not ' '",
                "invalid health check \"http\"",
                "a health check needs `port` and `port-name`",
                "invalid storage size \"256m\"",
                "invalid path \"data\": the path is not absolute",
                "\"/tmp\" is listed twice, or is /tmp",
                "unknown release numbering \"<year>\"",
                "unknown call kind \"later\"",
                "image \"db\" is described twice",
            ],
            "{messages:#?}"
        );
    }
}
