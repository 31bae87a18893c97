//! Read stage of `import` for a Backstage software catalog: `Component`s of type service or
//! website become services, the owning Group their team, the Domain (else the System) their
//! namespace; `dependsOn` and `consumesApis` become calls, `Resource` dependencies egress
//! needs. `Location` entities are followed relative to their file and never outside the
//! folder of the file given on the command line.
//!
//! References are resolved as Backstage resolves them: `[kind:][namespace/]name`, a missing
//! namespace meaning the referring entity's own (`default` when it names none), so that two
//! components of one name in different catalog namespaces stay apart. A Group carrying the
//! [`PLACEHOLDER`] annotation (what `export` writes as the owner of what no team owns) is no
//! team.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

use super::draft::{Draft, EgressHint, PortDraft, Prov, Ref, SvcDraft, Target};
use super::{Input, contained, locate, parse_doc, problem_at, read_file};
use crate::diagnostic::Error;
use crate::model::Protocol;

/// The annotation of a Group that stands in for "no team": its components get none.
pub const PLACEHOLDER: &str = "k8s-advisor/placeholder";

/// Locations followed at most, so that a catalog cannot make the import read forever.
const MAX_FILES: usize = 1000;

/// One catalog entity and where it was read.
struct Entity {
    value: Value,
    file: String,
    line: usize,
    text: String,
}

impl Entity {
    fn kind(&self) -> String {
        str_at(&self.value, &["kind"]).to_ascii_lowercase()
    }

    fn name(&self) -> String {
        str_at(&self.value, &["metadata", "name"])
    }

    /// The catalog namespace, lowercase; `default` when the entity names none.
    fn namespace(&self) -> String {
        let ns = str_at(&self.value, &["metadata", "namespace"]).to_ascii_lowercase();
        if ns.is_empty() { "default".into() } else { ns }
    }

    fn prov(&self, path: &[&str], what: &str) -> Prov {
        let line = locate::line(&self.text, path).map_or(self.line, |l| self.line + l - 1);
        Prov::read(&self.file, line, what)
    }

    fn spec_list(&self, key: &str) -> Vec<String> {
        self.value
            .get("spec")
            .and_then(|s| s.get(key))
            .and_then(Value::as_sequence)
            .map(|l| {
                l.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn str_at(v: &Value, path: &[&str]) -> String {
    let mut cur = v;
    for p in path {
        match cur.get(*p) {
            Some(next) => cur = next,
            None => return String::new(),
        }
    }
    cur.as_str().unwrap_or_default().to_string()
}

/// `[kind:][namespace/]name` → (kind, name), lowercase; `default_kind` when absent.
fn entity_ref(text: &str, default_kind: &str) -> (String, String) {
    let (kind, rest) = match text.split_once(':') {
        Some((k, r)) => (k.to_ascii_lowercase(), r),
        None => (default_kind.to_string(), text),
    };
    let name = rest.rsplit('/').next().unwrap_or(rest);
    (kind, name.to_ascii_lowercase())
}

/// `[kind:][namespace/]name` → (kind, namespace, name), lowercase; `default_kind` and
/// `default_ns` when absent.
fn qualified_ref(text: &str, default_kind: &str, default_ns: &str) -> (String, String, String) {
    let (kind, rest) = match text.split_once(':') {
        Some((k, r)) => (k.to_ascii_lowercase(), r),
        None => (default_kind.to_string(), text),
    };
    let (ns, name) = match rest.rsplit_once('/') {
        Some((ns, name)) => (ns.to_ascii_lowercase(), name),
        None => (default_ns.to_string(), rest),
    };
    (kind, ns, name.to_ascii_lowercase())
}

/// Reads a catalog.
pub fn read(inputs: &[Input]) -> Result<Draft, Error> {
    let mut draft = Draft {
        sources: inputs.iter().map(Input::name).collect(),
        kind: "a Backstage catalog".into(),
        ..Draft::default()
    };
    let mut entities: Vec<Entity> = Vec::new();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    for input in inputs {
        let root = input.dir.clone();
        if let Ok(p) = input.source.path().canonicalize() {
            seen.insert(p);
        }
        load(input, root.as_deref(), &mut entities, &mut seen, &mut draft)?;
    }
    let catalog = Catalog::of(&entities);
    // The catalog namespace of each imported service, in `draft.services` order.
    let mut catalog_ns: Vec<String> = Vec::new();
    for &ci in &catalog.components {
        let e = &entities[ci];
        if let Some(s) = catalog.service(e, &mut draft) {
            catalog_ns.push(e.namespace());
            draft.services.push(s);
        }
    }
    if !draft.services.is_empty() {
        draft.unknowns.push(
            "ports: the catalog has none; every service got a guessed HTTP port 80 → 8080".into(),
        );
    }
    resolve_refs(&mut draft, &catalog_ns);
    Ok(draft)
}

/// The entities of a catalog by kind, as the components need them.
struct Catalog<'a> {
    entities: &'a [Entity],
    /// Systems, Domains and Resources by lower-case name.
    systems: BTreeMap<String, usize>,
    domains: BTreeMap<String, usize>,
    resources: BTreeMap<String, usize>,
    /// (catalog namespace, API) → the components that provide it, as (namespace, name).
    apis: BTreeMap<(String, String), Vec<(String, String)>>,
    /// The stand-in Groups of an export, as `namespace/name`.
    placeholders: BTreeSet<String>,
    components: Vec<usize>,
}

impl<'a> Catalog<'a> {
    fn of(entities: &'a [Entity]) -> Catalog<'a> {
        let mut c = Catalog {
            entities,
            systems: BTreeMap::new(),
            domains: BTreeMap::new(),
            resources: BTreeMap::new(),
            apis: BTreeMap::new(),
            placeholders: BTreeSet::new(),
            components: Vec::new(),
        };
        for (i, e) in entities.iter().enumerate() {
            match e.kind().as_str() {
                "system" => {
                    c.systems.insert(e.name().to_ascii_lowercase(), i);
                }
                "domain" => {
                    c.domains.insert(e.name().to_ascii_lowercase(), i);
                }
                "resource" => {
                    c.resources.insert(e.name().to_ascii_lowercase(), i);
                }
                "component" => c.components.push(i),
                "group" => {
                    let marked = e
                        .value
                        .get("metadata")
                        .and_then(|m| m.get("annotations"))
                        .and_then(|a| a.get(PLACEHOLDER))
                        .is_some();
                    if marked {
                        c.placeholders.insert(format!(
                            "{}/{}",
                            e.namespace(),
                            e.name().to_ascii_lowercase()
                        ));
                    }
                }
                _ => {}
            }
        }
        for &ci in &c.components {
            let e = &entities[ci];
            for api in e.spec_list("providesApis") {
                let (_, ns, name) = qualified_ref(&api, "api", &e.namespace());
                c.apis
                    .entry((ns, name))
                    .or_default()
                    .push((e.namespace(), e.name().to_ascii_lowercase()));
            }
        }
        c
    }

    /// Owned by the stand-in Group of an export: no team, and nothing to report.
    fn placeholder(&self, owner: &str, ns: &str) -> bool {
        let (kind, owner_ns, name) = qualified_ref(owner, "group", ns);
        kind == "group" && self.placeholders.contains(&format!("{owner_ns}/{name}"))
    }

    /// The service a Component of type service or website becomes; `None` for other types.
    fn service(&self, e: &Entity, draft: &mut Draft) -> Option<SvcDraft> {
        let name = e.name();
        let ty = str_at(&e.value, &["spec", "type"]);
        if ty != "service" && ty != "website" {
            draft.unknowns.push(format!(
                "{name}: a Component of type {ty:?}, not a running service; not imported [{}]",
                e.prov(&["spec", "type"], "").at
            ));
            return None;
        }
        let namespace = self.namespace(e, draft);
        let mut s = SvcDraft::new(
            &name,
            &namespace,
            e.prov(&["metadata", "name"], &format!("Component ({ty})")),
        );
        let desc = str_at(&e.value, &["metadata", "description"]);
        if !desc.is_empty() {
            s.description = Some((desc, e.prov(&["metadata", "description"], "description")));
        }
        let owner = str_at(&e.value, &["spec", "owner"]);
        match group_team(&owner) {
            _ if self.placeholder(&owner, &e.namespace()) => {}
            Some(team) => s.team = Some((team, e.prov(&["spec", "owner"], "owner"))),
            None if !owner.is_empty() => draft.unknowns.push(format!(
                "{name}: owned by {owner}, not a Group; no team set [{}]",
                e.prov(&["spec", "owner"], "").at
            )),
            None => {}
        }
        // The catalog knows no ports; callers need one, so an HTTP port is assumed.
        s.ports.push(PortDraft {
            name: Some("http".into()),
            port: 80,
            target: 8080,
            protocol: Protocol::Tcp,
            app_protocol: None,
            prov: Prov {
                guess: true,
                ..e.prov(
                    &["metadata", "name"],
                    "the catalog has no ports; HTTP 80 → 8080 assumed",
                )
            },
        });
        self.depends_on(e, &mut s, draft);
        self.consumes(e, &mut s, draft);
        Some(s)
    }

    /// A Component's namespace: its System's Domain, else its System; the namespace's
    /// description and team come from that entity.
    fn namespace(&self, e: &Entity, draft: &mut Draft) -> String {
        let system = entity_ref(&str_at(&e.value, &["spec", "system"]), "system").1;
        if system.is_empty() {
            return String::new();
        }
        let domain = self
            .systems
            .get(&system)
            .map(|si| {
                entity_ref(
                    &str_at(&self.entities[*si].value, &["spec", "domain"]),
                    "domain",
                )
                .1
            })
            .unwrap_or_default();
        let (ns, ei, what) = if !domain.is_empty() {
            (domain.clone(), self.domains.get(&domain).copied(), "Domain")
        } else {
            (system.clone(), self.systems.get(&system).copied(), "System")
        };
        let nd = draft.namespaces.entry(ns.clone()).or_default();
        let Some(ei) = ei else {
            nd.prov = Some(e.prov(
                &["spec", "system"],
                &format!("system {system} (not in the catalog)"),
            ));
            return ns;
        };
        let d = &self.entities[ei];
        nd.prov = Some(d.prov(&["metadata", "name"], what));
        let desc = str_at(&d.value, &["metadata", "description"]);
        if !desc.is_empty() {
            nd.description = Some((desc, d.prov(&["metadata", "description"], "description")));
        }
        let owner = str_at(&d.value, &["spec", "owner"]);
        if !self.placeholder(&owner, &d.namespace())
            && let Some(team) = group_team(&owner)
        {
            nd.team = Some((team, d.prov(&["spec", "owner"], "owner")));
        }
        ns
    }

    /// `spec.dependsOn`: Components are calls, Resources egress candidates.
    fn depends_on(&self, e: &Entity, s: &mut SvcDraft, draft: &mut Draft) {
        for dep in e.spec_list("dependsOn") {
            let (kind, target_ns, target) = qualified_ref(&dep, "component", &e.namespace());
            let prov = e.prov(&["spec", "dependsOn"], &format!("dependsOn {dep}"));
            match kind.as_str() {
                "resource" => {
                    let reason = match self.resources.get(&target) {
                        Some(ri) => {
                            let r = &self.entities[*ri];
                            let rtype = str_at(&r.value, &["spec", "type"]);
                            let rdesc = str_at(&r.value, &["metadata", "description"]);
                            format!(
                                "Resource {target} ({rtype}){}",
                                if rdesc.is_empty() {
                                    String::new()
                                } else {
                                    format!(": {rdesc}")
                                }
                            )
                        }
                        None => format!("Resource {target} (not in the catalog)"),
                    };
                    s.egress.push(EgressHint { reason, prov });
                }
                // The catalog namespace for now; the workspace's once every component is read.
                "component" => s.refs.push(Ref {
                    target: Target::Service {
                        namespace: target_ns,
                        name: target,
                    },
                    port: None,
                    prov,
                }),
                _ => draft.unknowns.push(format!(
                    "{}: dependsOn {dep} is neither a Component nor a Resource [{}]",
                    e.name(),
                    prov.at
                )),
            }
        }
    }

    /// `spec.consumesApis`: a call to every Component that provides the API.
    fn consumes(&self, e: &Entity, s: &mut SvcDraft, draft: &mut Draft) {
        for api in e.spec_list("consumesApis") {
            let (kind, api_ns, target) = qualified_ref(&api, "api", &e.namespace());
            let prov = e.prov(&["spec", "consumesApis"], &format!("consumesApis {api}"));
            let providers: Vec<(String, String)> = if kind == "component" {
                vec![(api_ns, target.clone())]
            } else {
                self.apis
                    .get(&(api_ns, target.clone()))
                    .cloned()
                    .unwrap_or_default()
            };
            if providers.is_empty() {
                draft.unknowns.push(format!(
                    "{}: consumes API {target}, which no Component provides [{}]",
                    e.name(),
                    prov.at
                ));
            }
            for (namespace, p) in providers {
                s.refs.push(Ref {
                    target: Target::Service { namespace, name: p },
                    port: None,
                    prov: prov.clone(),
                });
            }
        }
    }
}

/// The team an owner names, when it is a Group.
fn group_team(owner: &str) -> Option<String> {
    let (kind, name) = entity_ref(owner, "group");
    (kind == "group").then_some(name)
}

/// References name catalog namespaces, which are not Kubernetes ones: each resolves to the
/// component of that name in that catalog namespace, else to the one component of that name,
/// and takes its workspace namespace. `catalog_ns` is each service's, in `draft.services` order.
fn resolve_refs(draft: &mut Draft, catalog_ns: &[String]) {
    let workspace_ns = |ns: &str| {
        if ns.is_empty() {
            "default".to_string()
        } else {
            ns.to_string()
        }
    };
    let mut by_ref: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (s, catalog) in draft.services.iter().zip(catalog_ns) {
        let name = s.name.to_ascii_lowercase();
        by_ref.insert((catalog.clone(), name.clone()), workspace_ns(&s.namespace));
        by_name
            .entry(name)
            .or_default()
            .push(workspace_ns(&s.namespace));
    }
    for s in &mut draft.services {
        for r in &mut s.refs {
            if let Target::Service { namespace, name } = &mut r.target {
                let found =
                    by_ref.get(&(namespace.clone(), name.clone())).or_else(|| {
                        match by_name.get(name.as_str()).map(Vec::as_slice) {
                            Some([only]) => Some(only),
                            _ => None,
                        }
                    });
                *namespace = found.cloned().unwrap_or_default();
            }
        }
    }
}

/// Reads one catalog file and follows its Locations.
fn load(
    input: &Input,
    root: Option<&Path>,
    entities: &mut Vec<Entity>,
    seen: &mut BTreeSet<PathBuf>,
    draft: &mut Draft,
) -> Result<(), Error> {
    for doc in crate::yaml::documents(input.source.text()) {
        let value = parse_doc(&input.source, &doc)?;
        if value.is_null() {
            continue;
        }
        let api = str_at(&value, &["apiVersion"]);
        let lead = doc
            .text
            .lines()
            .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
            .count();
        let e = Entity {
            value,
            file: input.name(),
            line: doc.first_line + lead,
            text: doc.text.to_string(),
        };
        if !api.starts_with("backstage.io/") {
            return Err(problem_at(
                &input.source,
                e.line,
                format!(
                    "not a Backstage entity (apiVersion \"{}\")",
                    super::render::comment(&api)
                ),
                "catalog files hold entities with `apiVersion: backstage.io/v1alpha1`",
            ));
        }
        if e.kind() == "location" {
            let mut targets = e.spec_list("targets");
            let one = str_at(&e.value, &["spec", "target"]);
            if !one.is_empty() {
                targets.push(one);
            }
            let ltype = str_at(&e.value, &["spec", "type"]);
            for t in targets {
                let prov = e.prov(&["spec"], "");
                if (!ltype.is_empty() && ltype != "file") || t.contains("://") {
                    draft.unknowns.push(format!(
                        "Location target {t} is not a file here; not followed [{}]",
                        prov.at
                    ));
                    continue;
                }
                let (Some(root), Some(dir)) = (root, input.dir.as_deref()) else {
                    draft.unknowns.push(format!(
                        "Location target {t} in standard input has no folder to be relative to; not followed [{}]",
                        prov.at
                    ));
                    continue;
                };
                for path in expand(root, dir, &t, &prov, draft) {
                    let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
                    if !seen.insert(canonical) {
                        continue;
                    }
                    if seen.len() > MAX_FILES {
                        draft.unknowns.push(format!(
                            "more than {MAX_FILES} catalog files; the rest were not read [{}]",
                            prov.at
                        ));
                        return Ok(());
                    }
                    let next = read_file(&path)?;
                    load(&next, Some(root), entities, seen, draft)?;
                }
            }
        } else {
            entities.push(e);
        }
    }
    Ok(())
}

/// The files a Location target names, inside `root` only; a `*` in the last segment matches
/// file names. Refusals are listed as unknowns.
fn expand(root: &Path, dir: &Path, target: &str, prov: &Prov, draft: &mut Draft) -> Vec<PathBuf> {
    let refuse = |why: String, draft: &mut Draft| {
        draft
            .unknowns
            .push(format!("Location target refused: {why} [{}]", prov.at));
    };
    let (parent, last) = match target.rsplit_once('/') {
        Some((p, l)) => (p, l),
        None => (".", target),
    };
    if !last.contains('*') {
        return match contained(root, dir, target) {
            Ok(p) => vec![p],
            Err(why) => {
                refuse(why, draft);
                Vec::new()
            }
        };
    }
    let folder = match contained(root, dir, parent) {
        Ok(p) => p,
        Err(why) => {
            refuse(why, draft);
            return Vec::new();
        }
    };
    let (pre, post) = last.split_once('*').unwrap_or((last, ""));
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    n.starts_with(pre) && n.ends_with(post) && n.len() >= pre.len() + post.len()
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out = Vec::new();
    for n in names {
        let rel = format!("{parent}/{n}");
        match contained(root, dir, &rel) {
            Ok(p) => out.push(p),
            Err(why) => refuse(why, draft),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs() {
        assert_eq!(
            entity_ref("team-a", "group"),
            ("group".into(), "team-a".into())
        );
        assert_eq!(
            entity_ref("user:guest", "group"),
            ("user".into(), "guest".into())
        );
        assert_eq!(
            entity_ref("resource:default/artists-db", "component"),
            ("resource".into(), "artists-db".into())
        );
    }
}
