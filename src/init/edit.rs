//! `init` on a folder that already has a workspace: add services or change them, then write
//! only what changed into the file, through `toml_edit`, so that the user's comments, key
//! order and layout stay as they were. Pure apart from the prompter; the caller writes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use toml_edit::{Array, DocumentMut, InlineTable, Item, RawString, Table, Value, value};

use super::{Outcome, Session, ask_calls_of, evaluate_text, review, service};
use crate::check::Guardrails;
use crate::diagnostic::Error;
use crate::model::{CallKind, Expose, HealthCheck, Protocol, Workload, Workspace};
use crate::names;
use crate::policy::Policy;
use crate::prompt::Prompter;
use crate::workspace::write::{
    DraftCall, DraftPort, DraftResources, DraftService, DraftStorage, PLACEHOLDER_COMMENT,
};
use crate::workspace::{self, write::Draft, write::DraftEgress, write::DraftNamespace};

/// Offers to add or change services in `ws`, the workspace as loaded and validated (its text
/// is edited); `None` when the user changed nothing.
pub fn run(
    p: &mut dyn Prompter,
    policy: &Policy,
    guardrails: &Guardrails,
    ws: &Workspace,
) -> Result<Option<Outcome>, Error> {
    let path = ws.source.path();
    refuse_shared_names(ws)?;
    let mut doc: DocumentMut = ws.source.text().parse().map_err(|e| Error::Internal {
        message: format!("toml_edit cannot read a file toml accepted: {e}"),
    })?;
    refuse_unusual_layout(&doc)?;
    let mut s = session(ws, policy, guardrails, path);
    let before = s.draft.clone();
    p.note(&format!(
        "{} already describes {} in {}. Add or change services; comments and layout stay.",
        path.display(),
        crate::text::count(ws.services.len(), "service", "services"),
        crate::text::count(ws.namespaces.len(), "domain", "domains"),
    ));
    loop {
        let last = if s.draft.services == before.services {
            "leave it as it is"
        } else {
            "write the changes"
        };
        let menu: Vec<String> = [
            "add a service",
            "change a service",
            "delete a service",
            last,
        ]
        .map(String::from)
        .to_vec();
        match p.select("What do you want to do?", &menu, 0)? {
            0 => review::add_service(p, &mut s)?,
            1 => change(p, &mut s, ws)?,
            2 => review::delete_service(p, &mut s)?,
            _ => break,
        }
    }
    if s.draft.services == before.services {
        return Ok(None);
    }
    apply(&mut doc, &before, &s)?;
    let text = doc.to_string();
    // Answers that came back to what the file says (calls picked again in another order, a
    // value changed and changed back) leave the text as it was: nothing to write.
    if text == ws.source.text() {
        return Ok(None);
    }
    let verdict = evaluate_text(&text, policy, path)?;
    Ok(Some(Outcome { text, verdict }))
}

/// The edits go into `[project]` and `[[services]]` tables: a file that writes them inline
/// (`services = [{ ... }]`, `project = { ... }`) is refused before any question, not after the
/// whole session.
fn refuse_unusual_layout(doc: &DocumentMut) -> Result<(), Error> {
    let services_ok = doc
        .get("services")
        .is_none_or(|item| item.is_array_of_tables());
    let project_ok = doc.get("project").is_none_or(Item::is_table);
    if services_ok && project_ok {
        return Ok(());
    }
    Err(Error::usage(
        "init changes only workspaces that write [project] and [[services]] as tables; \
         nothing was written",
        "edit the file in a text editor, or rewrite those parts as tables",
    ))
}

/// The session works with names unique across the project; a workspace that reuses a name in
/// two domains is left to a text editor.
fn refuse_shared_names(ws: &Workspace) -> Result<(), Error> {
    let mut seen = BTreeSet::new();
    match ws.services.iter().find(|s| !seen.insert(&s.id.name)) {
        Some(s) => Err(Error::usage(
            format!(
                "two services are called {}; init changes only workspaces whose service names are unique",
                s.id.name
            ),
            "edit the file in a text editor, or rename one of them",
        )),
        None => Ok(()),
    }
}

/// A session over the workspace as it is. Every existing replica count counts as typed.
fn session<'a>(
    ws: &Workspace,
    policy: &'a Policy,
    guardrails: &'a Guardrails,
    path: &'a Path,
) -> Session<'a> {
    let draft = Draft {
        name: ws.project.name.clone(),
        description: ws.project.description.clone(),
        platform: ws.project.platform,
        internal_cidrs: ws
            .project
            .internal_cidrs
            .iter()
            .map(ToString::to_string)
            .collect(),
        answers: Vec::new(),
        namespaces: ws
            .namespaces
            .values()
            .map(|n| DraftNamespace {
                name: n.name.clone(),
                team: n.team.clone().unwrap_or_default(),
                description: n.description.clone(),
            })
            .collect(),
        services: ws.services.iter().map(draft_service).collect(),
    };
    let fixed_replicas = ws.services.iter().map(|s| s.id.name.clone()).collect();
    let answers = ws
        .answers
        .iter()
        .map(|(id, a)| (id.clone(), a.value))
        .collect();
    Session {
        policy,
        guardrails,
        path,
        draft,
        fixed_replicas,
        answers,
        gateway: ws.project.gateway.is_some(),
    }
}

fn draft_service(s: &crate::model::Service) -> DraftService {
    // A value the file leaves out stays empty: so it equals no size preset, and whichever
    // size the user picks is written (a preset filled in here would compare equal to "small"
    // and leave the file without resources).
    let q = |q: &Option<crate::quantity::Quantity>| {
        q.as_ref().map_or_else(String::new, ToString::to_string)
    };
    let r = &s.resources;
    DraftService {
        name: s.id.name.clone(),
        namespace: s.id.namespace.clone(),
        image: s.image.clone().filter(|i| !names::is_placeholder_image(i)),
        replicas: s.replicas,
        port: s.ports.first().map(|p| DraftPort {
            name: p.name.clone(),
            port: p.port,
            target: p.target,
        }),
        expose: s.expose,
        calls: s
            .calls
            .iter()
            .map(|c| DraftCall {
                to: c.to.name.clone(),
                kind: c.kind,
            })
            .collect(),
        egress: s
            .egress
            .iter()
            .map(|e| DraftEgress {
                cidr: e.cidr.to_string(),
                ports: e.ports.clone(),
                reason: e.reason.clone(),
                comment: None,
            })
            .collect(),
        resources: DraftResources::new(
            &q(&r.requests.cpu),
            &q(&r.requests.memory),
            &q(&r.limits.cpu),
            &q(&r.limits.memory),
        ),
        storage: match &s.workload {
            Workload::Stateful(storage) => Some(DraftStorage {
                size: storage.size.to_string(),
                path: storage.path.clone(),
            }),
            Workload::Deployment => None,
        },
        health: s.health.as_ref().map(|h| h.check.clone()),
        writable: s.writable.clone(),
    }
}

/// Changes one service. Those with several ports, or ports or egress other than TCP, are not
/// offered: the questions describe one TCP port and would lose the rest.
fn change(p: &mut dyn Prompter, s: &mut Session<'_>, ws: &Workspace) -> Result<(), Error> {
    let simple = |svc: &crate::model::Service| {
        svc.ports.len() <= 1
            && svc.ports.iter().all(|p| p.protocol == Protocol::Tcp)
            && svc.egress.iter().all(|e| e.protocol == Protocol::Tcp)
    };
    let offered: Vec<usize> = (0..s.draft.services.len())
        .filter(|i| {
            let name = &s.draft.services[*i].name;
            ws.services
                .iter()
                .find(|w| w.id.name == *name)
                .is_none_or(simple)
        })
        .collect();
    if offered.len() < s.draft.services.len() {
        p.note("Services with several ports, or UDP or SCTP, are changed in the file itself.");
    }
    let labels: Vec<String> = offered.iter().map(|i| s.id(*i)).collect();
    let Some(k) = review::pick(p, "Which service?", &labels)? else {
        return Ok(());
    };
    let i = offered[k];
    let old = s.draft.services[i].clone();
    let svc = service::ask(p, s, old.name.clone(), Some(&old))?;
    s.draft.services[i] = svc;
    let rule = s.default_replicas(i);
    let default = s.replicas_default(&old, rule);
    let replicas = service::ask_replicas(p, &old.name, default)?;
    s.draft.services[i].replicas = replicas;
    // Without this, the defaults applied after the calls would overwrite a typed number.
    s.typed_replicas(&old.name, &old.name, replicas, rule);
    if s.draft.services[i].port.is_none() {
        s.forget_calls_to(&old.name);
    }
    ask_calls_of(p, s, i)?;
    s.apply_default_replicas();
    Ok(())
}

/// Writes the session's changes into the document: new services as new tables, changed keys
/// of the others, and call references to services that moved domain.
fn apply(doc: &mut DocumentMut, before: &Draft, s: &Session<'_>) -> Result<(), Error> {
    let written = s.draft();
    if before.internal_cidrs != s.draft.internal_cidrs
        && let Some(project) = doc.get_mut("project").and_then(Item::as_table_mut)
    {
        project["internal-cidrs"] = value(Array::from_iter(s.draft.internal_cidrs.iter()));
    }
    let namespace_of: BTreeMap<&str, &str> = s
        .draft
        .services
        .iter()
        .map(|svc| (svc.name.as_str(), svc.namespace.as_str()))
        .collect();
    let fresh = fresh_tables(&written, s.policy)?;
    let tables = doc
        .get_mut("services")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| {
            Error::usage(
                "the services are not written as [[services]] tables; nothing was written",
                "edit the file in a text editor",
            )
        })?;
    // Services deleted in the session go, with the comments above them.
    tables.retain(|t| {
        t.get("name")
            .and_then(Item::as_str)
            .is_none_or(|name| s.draft.services.iter().any(|x| x.name == name))
    });
    // Ports renamed in the session: calls limited to them, and routes, follow.
    let renamed: BTreeMap<&str, (&str, &str)> = before
        .services
        .iter()
        .filter_map(|old| {
            let new = s.draft.services.iter().find(|x| x.name == old.name)?;
            let (was, now) = (old.port.as_ref()?, new.port.as_ref()?);
            (was.name != now.name)
                .then_some((old.name.as_str(), (was.name.as_str(), now.name.as_str())))
        })
        .collect();
    for table in tables.iter_mut() {
        let Some(name) = table.get("name").and_then(Item::as_str).map(String::from) else {
            continue;
        };
        rename_ports(table, &name, &renamed);
        let (Some(old), Some(new)) = (
            before.services.iter().find(|x| x.name == name),
            s.draft.services.iter().find(|x| x.name == name),
        ) else {
            continue;
        };
        update(table, old, new);
        update_calls(table, &new.calls, &namespace_of);
    }
    for new in &s.draft.services {
        if !before.services.iter().any(|x| x.name == new.name)
            && let Some(table) = fresh.get(&new.name)
        {
            tables.push(table.clone());
        }
    }
    Ok(())
}

/// Follows port renames (service → (old name, new name)) in the table of service `name`: the
/// port names of its calls limited to a renamed port, and its route's port.
fn rename_ports(table: &mut Table, name: &str, renamed: &BTreeMap<&str, (&str, &str)>) {
    if let Some((was, now)) = renamed.get(name)
        && let Some(route) = table.get_mut("route").and_then(Item::as_table_like_mut)
        && route.get("port").and_then(Item::as_str) == Some(*was)
    {
        route.insert("port", Item::Value((*now).into()));
    }
    let Some(calls) = table.get_mut("calls").and_then(Item::as_array_mut) else {
        return;
    };
    for call in calls.iter_mut() {
        let Some(to) = target(call).map(|t| t.name) else {
            continue;
        };
        let Some((was, now)) = renamed.get(to.as_str()) else {
            continue;
        };
        let Some(ports) = call
            .as_inline_table_mut()
            .and_then(|t| t.get_mut("ports"))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for port in ports.iter_mut() {
            if port.as_str() == Some(*was) {
                let decor = port.decor().clone();
                *port = (*now).into();
                *port.decor_mut() = decor;
            }
        }
    }
}

/// The `[[services]]` tables `init` would write for the draft, comments included, by name.
fn fresh_tables(draft: &Draft, policy: &Policy) -> Result<BTreeMap<String, Table>, Error> {
    let text = workspace::write::render(draft, policy);
    let doc: DocumentMut = text.parse().map_err(|e| Error::Internal {
        message: format!("the rendered workspace does not parse: {e}"),
    })?;
    let tables = doc
        .get("services")
        .and_then(Item::as_array_of_tables)
        .map(|t| t.iter().cloned().collect::<Vec<Table>>())
        .unwrap_or_default();
    Ok(tables
        .into_iter()
        .filter_map(|mut t| {
            // Placed after the last table before it, wherever the user's file puts them.
            t.set_position(None);
            Some((t.get("name")?.as_str()?.to_string(), t))
        })
        .collect())
}

/// Sets the keys whose answers changed; untouched keys keep their text and comments.
fn update(table: &mut Table, old: &DraftService, new: &DraftService) {
    if old.namespace != new.namespace {
        set(table, "namespace", new.namespace.as_str().into());
    }
    if old.image != new.image {
        let image = new
            .image
            .clone()
            .unwrap_or_else(|| names::placeholder_image(&new.name));
        set(table, "image", image.into());
        if old.image.is_none() {
            drop_placeholder_comment(table);
        }
    }
    if old.replicas != new.replicas {
        set(table, "replicas", i64::from(new.replicas).into());
    }
    if old.port != new.port {
        // `port = N` and `ports = [...]` are one key: the shorthand goes, its comment stays.
        let shorthand = table.remove("port");
        let mut ports = Array::new();
        if let Some(port) = &new.port {
            let mut entry = InlineTable::new();
            entry.insert("name", port.name.as_str().into());
            entry.insert("port", i64::from(port.port).into());
            entry.insert("target", i64::from(port.target).into());
            ports.push(entry);
        }
        let mut ports = Value::from(ports);
        if let Some(old) = shorthand.as_ref().and_then(Item::as_value) {
            *ports.decor_mut() = old.decor().clone();
        }
        set(table, "ports", ports);
    }
    update_workload(table, old, new);
    if old.expose != new.expose {
        set(table, "expose", new.expose.as_str().into());
        // What belongs to the old exposure goes with it; validation refuses it under the new.
        if new.expose != Expose::Gateway {
            table.remove("route");
        }
        if !matches!(new.expose, Expose::Internal | Expose::Public) {
            table.remove("sources");
        }
    }
    if old.egress != new.egress {
        set(table, "egress", egress(&new.egress).into());
    }
    if old.resources != new.resources {
        set_resources(table, &new.resources);
    }
}

/// Sets `key` to `new`, keeping the comment and spacing around the old value (`# pinned on
/// purpose` after an image stays after the new one).
fn set(table: &mut Table, key: &str, mut new: toml_edit::Value) {
    if let Some(old) = table.get(key).and_then(Item::as_value) {
        *new.decor_mut() = old.decor().clone();
    }
    table[key] = Item::Value(new);
}

/// Removes the lines `init` writes above a placeholder image from the comments above `image`,
/// now that a real image is named. Only those lines go, and only as written: a comment of the
/// user's own, or one they reworded, stays.
fn drop_placeholder_comment(table: &mut Table) {
    let Some(mut key) = table.key_mut("image") else {
        return;
    };
    let decor = key.leaf_decor_mut();
    let Some(prefix) = decor.prefix().and_then(RawString::as_str) else {
        return;
    };
    let ours: Vec<&str> = PLACEHOLDER_COMMENT.lines().collect();
    // Lines with their endings, so that a CRLF file keeps its CRLF.
    let lines: Vec<&str> = prefix.split_inclusive('\n').collect();
    let Some(at) = lines.windows(ours.len()).position(|window| {
        window
            .iter()
            .zip(&ours)
            .all(|(line, our)| line.trim() == *our)
    }) else {
        return;
    };
    let kept = [&lines[..at], &lines[at + ours.len()..]].concat().concat();
    decor.set_prefix(kept);
}

/// Writes `kind`, `storage`, `storage-path`, `health` and `writable` where they changed.
fn update_workload(table: &mut Table, old: &DraftService, new: &DraftService) {
    match (&old.storage, &new.storage) {
        (None, Some(st)) => {
            set(table, "kind", "stateful".into());
            set(table, "storage", st.size.as_str().into());
            set(table, "storage-path", st.path.as_str().into());
        }
        (Some(_), None) => {
            for key in ["kind", "storage", "storage-path"] {
                table.remove(key);
            }
        }
        (Some(was), Some(st)) => {
            if was.size != st.size {
                set(table, "storage", st.size.as_str().into());
            }
            if was.path != st.path {
                set(table, "storage-path", st.path.as_str().into());
            }
        }
        (None, None) => {}
    }
    // A health check names its port: a renamed port rewrites it too.
    let port_name = |s: &DraftService| s.port.as_ref().map(|p| p.name.clone());
    if old.health != new.health || port_name(old) != port_name(new) {
        match health(new) {
            Some(h) => set(table, "health", h.into()),
            None => {
                table.remove("health");
            }
        }
    }
    if old.writable != new.writable {
        if new.writable.is_empty() {
            table.remove("writable");
        } else {
            set(
                table,
                "writable",
                Array::from_iter(new.writable.iter().map(String::as_str)).into(),
            );
        }
    }
}

/// The `health` table of a service, on its port.
fn health(svc: &DraftService) -> Option<InlineTable> {
    let (check, port) = (svc.health.as_ref()?, svc.port.as_ref()?);
    let mut t = InlineTable::new();
    match check {
        HealthCheck::Http { path } => {
            t.insert("path", path.as_str().into());
        }
        other => {
            t.insert("type", other.as_str().into());
        }
    }
    t.insert("port", port.name.as_str().into());
    Some(t)
}

fn egress(list: &[DraftEgress]) -> Array {
    list.iter()
        .map(|e| {
            let mut t = InlineTable::new();
            t.insert("cidr", e.cidr.as_str().into());
            // Every port is written by leaving `ports` out: an empty list is refused.
            if !e.ports.is_empty() {
                t.insert(
                    "ports",
                    Array::from_iter(e.ports.iter().map(|p| i64::from(*p))).into(),
                );
            }
            t.insert("reason", e.reason.as_str().into());
            t
        })
        .collect()
}

/// Writes new resources in the form the file uses: values of an existing `resources` table
/// (inline, dotted keys or a `[services.resources]` header) are replaced one by one, keeping
/// their comments; a service without resources gets an inline table.
fn set_resources(table: &mut Table, r: &DraftResources) {
    let pairs = [
        (
            "requests",
            [("cpu", &r.cpu_request), ("memory", &r.memory_request)],
        ),
        (
            "limits",
            [("cpu", &r.cpu_limit), ("memory", &r.memory_limit)],
        ),
    ];
    let Some(resources) = table.get_mut("resources").and_then(Item::as_table_like_mut) else {
        let mut t = InlineTable::new();
        for (pair, values) in pairs {
            let mut inner = InlineTable::new();
            for (key, v) in values.into_iter().filter(|(_, v)| !v.is_empty()) {
                inner.insert(key, v.as_str().into());
            }
            t.insert(pair, inner.into());
        }
        set(table, "resources", t.into());
        return;
    };
    for (pair, values) in pairs {
        let values: Vec<(&str, &String)> =
            values.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        if let Some(inner) = resources.get_mut(pair).and_then(Item::as_table_like_mut) {
            for (key, v) in values {
                let mut new = Value::from(v.as_str());
                if let Some(old) = inner.get(key).and_then(Item::as_value) {
                    *new.decor_mut() = old.decor().clone();
                }
                inner.insert(key, Item::Value(new));
            }
        } else if !values.is_empty() {
            let mut inner = InlineTable::new();
            for (key, v) in values {
                inner.insert(key, v.as_str().into());
            }
            resources.insert(pair, Item::Value(inner.into()));
        }
    }
}

/// Brings a `calls` array to `calls`: entries to services no longer called go, entries to a
/// service that moved domain are rewritten, a changed kind is set, new ones are appended.
/// Entries that stay keep their form (a bare name, or a table limited to some ports).
fn update_calls(table: &mut Table, calls: &[DraftCall], namespace_of: &BTreeMap<&str, &str>) {
    let reference = |name: &str| format!("{}/{name}", namespace_of.get(name).unwrap_or(&""));
    if table.get("calls").and_then(Item::as_array).is_none() {
        if calls.is_empty() {
            return;
        }
        table["calls"] = value(Array::new());
    }
    // Changed in place, so that the comments around the array stay.
    let Some(array) = table.get_mut("calls").and_then(Item::as_array_mut) else {
        return;
    };
    let kind_of = |name: &str| calls.iter().find(|c| c.to == name).map(|c| c.kind);
    array.retain(|v| target(v).is_some_and(|t| kind_of(&t.name).is_some()));
    for v in array.iter_mut() {
        let Some(t) = target(v) else { continue };
        if let Some(kind) = kind_of(&t.name) {
            set_call_kind(v, kind);
        }
        let home = namespace_of.get(t.name.as_str()).copied();
        if t.namespace.is_some_and(|ns| Some(ns.as_str()) != home) {
            let new = reference(&t.name);
            match v {
                Value::InlineTable(it) => {
                    it.insert("to", new.into());
                }
                other => *other = new.into(),
            }
        }
    }
    let present: BTreeSet<String> = array.iter().filter_map(target).map(|t| t.name).collect();
    for call in calls.iter().filter(|c| !present.contains(&c.to)) {
        let mut entry = Value::from(reference(&call.to));
        set_call_kind(&mut entry, call.kind);
        array.push(entry);
    }
}

/// Sets the kind of a `calls` entry: a bare reference is a synchronous call, so another kind
/// makes it a table `{ to = ..., kind = ... }`; `sync` is written by leaving `kind` out (and a
/// table left with only `to` becomes the bare reference).
fn set_call_kind(entry: &mut Value, kind: CallKind) {
    let written = match entry {
        Value::InlineTable(t) => t.get("kind").and_then(Value::as_str).unwrap_or("sync"),
        _ => "sync",
    };
    if written == kind.as_str() {
        return;
    }
    match entry {
        Value::InlineTable(t) if kind == CallKind::Sync => {
            t.remove("kind");
            // `{ to = "x" }` alone reads better as the bare reference it means.
            if let (1, Some(to)) = (t.len(), t.get("to").and_then(Value::as_str)) {
                let mut bare = Value::from(to);
                *bare.decor_mut() = t.decor().clone();
                *entry = bare;
            }
        }
        Value::InlineTable(t) => {
            t.insert("kind", kind.as_str().into());
        }
        other => {
            let mut t = InlineTable::new();
            t.insert("to", Value::from(other.as_str().unwrap_or_default()));
            t.insert("kind", kind.as_str().into());
            let mut new = Value::InlineTable(t);
            *new.decor_mut() = other.decor().clone();
            *other = new;
        }
    }
}

/// A call entry's target: its name, and its namespace when written.
struct Target {
    namespace: Option<String>,
    name: String,
}

fn target(v: &Value) -> Option<Target> {
    let text = match v {
        Value::String(s) => s.value().as_str(),
        Value::InlineTable(t) => t.get("to")?.as_str()?,
        _ => return None,
    };
    Some(match text.split_once('/') {
        Some((ns, name)) => Target {
            namespace: Some(ns.to_string()),
            name: name.to_string(),
        },
        None => Target {
            namespace: None,
            name: text.to_string(),
        },
    })
}

/// `edited` with the line endings of `original`: toml_edit writes line feeds, and a file kept
/// with CRLF should differ only in the lines that changed.
pub fn keep_line_endings(original: &str, edited: String) -> String {
    if original.contains("\r\n") {
        edited.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        edited
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_files_keep_crlf() {
        assert_eq!(
            keep_line_endings("a = 1\r\n", "a = 2\nb = 3\n".into()),
            "a = 2\r\nb = 3\r\n"
        );
        assert_eq!(keep_line_endings("a = 1\n", "a = 2\n".into()), "a = 2\n");
    }

    /// Every port is written by leaving `ports` out, in the editor as in the template: the
    /// workspace refuses `ports = []`.
    #[test]
    fn egress_to_every_port_has_no_ports_key() {
        let entry = |ports: Vec<u16>| DraftEgress {
            cidr: "0.0.0.0/0".into(),
            ports,
            reason: "r".into(),
            comment: None,
        };
        let written = egress(&[entry(Vec::new()), entry(vec![443])]).to_string();
        assert_eq!(
            written,
            r#"[{ cidr = "0.0.0.0/0", reason = "r" }, { cidr = "0.0.0.0/0", ports = [443], reason = "r" }]"#
        );
        assert_eq!(entry(Vec::new()).ports_toml(), "");
        assert_eq!(entry(vec![53, 443]).ports_toml(), "ports = [53, 443], ");
    }
}
