//! Read stage of `import` for Compose projects: merges the files in order as `docker compose`
//! does, resolves `extends`, applies profiles, then reads each service with the typed schema of
//! the `docker-compose-types` crate into the draft.
//!
//! Merging happens on plain YAML values, before typing: lists of environment variables, labels,
//! `depends_on` and networks are turned into mappings first so that a later file changes one
//! entry instead of replacing or duplicating the list, as the Compose specification says.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use docker_compose_types as dct;
use serde_yaml_ng::{Mapping, Value};

use super::draft::{Draft, PairDraft, PortDraft, Prov, Ref, Sourced, SvcDraft, Target};
use super::interpolate::{self, Vars};
use super::render::comment;
use super::{Input, Options, hosts, locate, parse_doc, problem_at};
use crate::diagnostic::Error;
use crate::model::{Expose, Protocol};
use crate::quantity::Quantity;
use crate::text;

/// Keys whose list a later file replaces rather than extends.
const REPLACED: [&str; 3] = ["command", "entrypoint", "test"];

/// Service keys that turn from lists into mappings before merging.
const LIST_MAPS: [&str; 4] = ["environment", "labels", "depends_on", "networks"];

/// Levels of `extends` followed at most; a longer chain is refused.
const MAX_EXTENDS: usize = 64;

/// Keys `extends` never copies from the base service.
const NOT_INHERITED: [&str; 3] = ["links", "volumes_from", "depends_on"];

/// A file of the project and its parsed top level.
struct File {
    input: Input,
    top: Mapping,
    /// Its canonical path, so that one file reached by two spellings is one file.
    real: Option<PathBuf>,
}

/// The variables Compose interpolates with, by name.
type Variables = BTreeMap<String, String>;

/// Reads a Compose project made of `inputs`, merged in order; `firsts` holds the first
/// document of each, already parsed.
pub fn read(inputs: &[Input], firsts: Vec<Value>, options: &Options) -> Result<Draft, Error> {
    let mut unknowns = Vec::new();
    let vars = variables(inputs, options, &mut unknowns)?;
    let files = project_files(inputs, firsts, &vars, &mut unknowns)?;
    let mut merged = Mapping::new();
    for f in &files {
        merge(&mut merged, &f.top);
    }
    let mut draft = Draft {
        sources: inputs.iter().map(Input::name).collect(),
        kind: "Compose".into(),
        unknowns,
        ..Draft::default()
    };
    draft.project = project_name(&merged, &files);
    top_level_unknowns(&mut merged, &files, &mut draft.unknowns);
    // Taken out of the merged file rather than copied: the merged file is not read again.
    let services = match merged.remove("services") {
        Some(Value::Mapping(services)) => services,
        _ => Mapping::new(),
    };
    drop(merged);
    let names: Vec<String> = services
        .keys()
        .filter_map(|k| k.as_str().map(String::from))
        .collect();
    let mut extra: Vec<File> = Vec::new();
    let resolved = extended(
        &files,
        &mut extra,
        &services,
        &names,
        &vars,
        &mut draft.unknowns,
    )?;
    let all_files: Vec<&File> = files.iter().chain(extra.iter()).collect();
    // Each service's block of each file, found once: searching whole files for every value
    // made large projects quadratic.
    let blocks: Vec<BTreeMap<String, (usize, &str)>> = all_files
        .iter()
        .map(|f| locate::children(f.input.source.text(), "services"))
        .collect();
    let place = |origins: &[(usize, String)], path: &[&str]| -> (String, usize) {
        for (fi, svc) in origins {
            if let Some((first, block)) = blocks[*fi].get(svc) {
                let mut full = vec![svc.as_str()];
                full.extend_from_slice(path);
                if let Some(l) = locate::exact(block, &full) {
                    return (all_files[*fi].input.name(), first + l - 1);
                }
            }
        }
        for (fi, svc) in origins {
            if let Some((first, _)) = blocks[*fi].get(svc) {
                return (all_files[*fi].input.name(), *first);
            }
        }
        (all_files[0].input.name(), 1)
    };
    let project = Project {
        files: &all_files,
        place: &place,
        vars: &vars,
        profiles: &options.profiles,
    };
    let mut networks: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in &names {
        let (changed, origins) = &resolved[name];
        let Some(value) = changed.as_ref().or_else(|| services.get(name.as_str())) else {
            continue;
        };
        if let Some(s) = service(&project, name, value, origins, &mut networks, &mut draft)? {
            draft.services.push(s);
        }
    }
    networks.remove("default");
    if networks.len() > 1 {
        let list: Vec<String> = networks
            .iter()
            .map(|(n, members)| {
                format!(
                    "{n} ({})",
                    members.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        draft.notes.push(format!(
            "networks as domain candidates: {}; every service is placed in the project namespace",
            list.join("; ")
        ));
    }
    Ok(draft)
}

/// The project's files in order, each followed by the files it includes.
fn project_files(
    inputs: &[Input],
    firsts: Vec<Value>,
    vars: &Variables,
    unknowns: &mut Vec<String>,
) -> Result<Vec<File>, Error> {
    let mut files = Vec::new();
    let root = inputs[0].dir.clone().unwrap_or_else(|| ".".into());
    for (input, first) in inputs.iter().zip(firsts) {
        let file = load(input.clone(), Some(first), vars, unknowns)?;
        // Included files follow the file that includes them (the project's first file stays
        // first); their services cannot be defined again, so the order merges nothing away.
        let mut more = Vec::new();
        included(&file, &root, vars, unknowns, &mut more, &mut Vec::new())?;
        files.push(file);
        files.extend(more);
    }
    Ok(files)
}

/// The project's name and where it is set: `name` in the last file that sets it, else the
/// folder of the first file, as Compose names projects.
fn project_name(merged: &Mapping, files: &[File]) -> Option<Sourced<String>> {
    let first = &files[0];
    let project_line = |f: &File| locate::exact(f.input.source.text(), &["name"]);
    if let Some(name) = merged.get("name").and_then(Value::as_str) {
        let f = files
            .iter()
            .rev()
            .find(|f| project_line(f).is_some())
            .unwrap_or(first);
        Some((
            name.to_string(),
            Prov::read(&f.input.name(), project_line(f).unwrap_or(1), "name"),
        ))
    } else if let Some(dir) = &first.input.dir
        && let Some(folder) = dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
    {
        Some((
            folder,
            Prov::guess(
                &first.input.name(),
                1,
                "the folder name, as Compose names projects",
            ),
        ))
    } else {
        None
    }
}

/// Top-level keys the workspace has no place for, listed; `include` is done with.
fn top_level_unknowns(merged: &mut Mapping, files: &[File], unknowns: &mut Vec<String>) {
    let first = &files[0];
    merged.remove("include");
    for key in ["secrets", "configs"] {
        if merged.contains_key(key) {
            let f = files
                .iter()
                .rev()
                .find(|f| locate::exact(f.input.source.text(), &[key]).is_some())
                .unwrap_or(first);
            let line = locate::line(f.input.source.text(), &[key]).unwrap_or(1);
            unknowns.push(format!(
                "top-level `{key}`: not imported (no workspace equivalent) [{}:{line}]",
                f.input.name()
            ));
        }
    }
}

/// A service's merged value and where each layer came from. A service that `extends` nothing
/// and carries no merge tag is its own merged value: it is read from `services` rather than
/// kept twice (`None`).
type Extended = BTreeMap<String, (Option<Value>, Origins)>;

/// Every service with its `extends` chain applied: against the merged services, or another
/// file for `extends.file` (added to `extra`).
fn extended(
    files: &[File],
    extra: &mut Vec<File>,
    services: &Mapping,
    names: &[String],
    vars: &Variables,
    unknowns: &mut Vec<String>,
) -> Result<Extended, Error> {
    let mut resolved = Extended::new();
    for name in names {
        let (value, origins) = extend(
            files,
            extra,
            services,
            name,
            None,
            &mut Vec::new(),
            (vars, &mut *unknowns),
        )?;
        let mut value = value;
        resolve_tags(&mut value);
        let changed = services.get(name.as_str()) != Some(&value);
        resolved.insert(name.clone(), (changed.then_some(value), origins));
    }
    Ok(resolved)
}

/// What every service's draft reads besides its own value.
struct Project<'a> {
    /// The project's files, then the files `extends.file` named.
    files: &'a [&'a File],
    place: &'a Place<'a>,
    vars: &'a Variables,
    /// `--profile`.
    profiles: &'a [String],
}

/// One service's draft, or `None` (and why, in the unknowns) when its profiles are off.
/// Adds the networks it joins to `networks`.
fn service(
    project: &Project<'_>,
    name: &str,
    value: &Value,
    origins: &Origins,
    networks: &mut BTreeMap<String, BTreeSet<String>>,
    draft: &mut Draft,
) -> Result<Option<SvcDraft>, Error> {
    let (place, all_files, options_profiles) = (project.place, project.files, project.profiles);
    let (file, line) = place(origins, &[]);
    let profiles: Vec<String> = value
        .get("profiles")
        .and_then(Value::as_sequence)
        .map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if !profiles.is_empty() && !profiles.iter().any(|p| options_profiles.contains(p)) {
        draft.unknowns.push(format!(
            "{name}: not imported, it runs only with profile {} (use --profile) [{file}:{line}]",
            profiles.join(" or ")
        ));
        return Ok(None);
    }
    let typed = typed(value).map_err(|e| {
        let source = &all_files[origins[0].0].input.source;
        problem_at(
            source,
            line,
            format!(
                "service \"{}\" does not follow the Compose specification: {}",
                comment(name),
                comment(&e)
            ),
            "fix the service; `docker compose config` shows what Compose makes of it",
        )
    })?;
    let mut s = SvcDraft::new(name, "", Prov::read(&file, line, "service"));
    if let Some(image) = &typed.image {
        let (f, l) = place(origins, &["image"]);
        s.image = Some((image.clone(), Prov::read(&f, l, "image")));
    } else if typed.build_.is_some() {
        draft.unknowns.push(format!(
            "{name}: built from source (`build`), no image to reference [{file}:{line}]"
        ));
    }
    let replicas = typed
        .deploy
        .as_ref()
        .and_then(|d| d.replicas)
        .map(|r| (r, "deploy.replicas", vec!["deploy", "replicas"]))
        .or_else(|| (typed.scale > 0).then(|| (typed.scale, "scale", vec!["scale"])));
    if let Some((r, what, path)) = replicas {
        let (f, l) = place(origins, &path);
        match u32::try_from(r) {
            Ok(n) => s.replicas = Some((n, Prov::read(&f, l, what))),
            Err(_) => draft.unknowns.push(format!(
                "{name}: {what} {r} is not a number of replicas [{f}:{l}]"
            )),
        }
    }
    ports(&typed, name, origins, place, &mut s, &mut draft.unknowns);
    resources(&typed, name, origins, place, &mut s, &mut draft.unknowns);
    calls(project, name, value, origins, &typed, &mut s, draft)?;
    if let Some(mode) = &typed.network_mode {
        draft.unknowns.push(format!(
            "{name}: network_mode {mode:?} has no Kubernetes equivalent here [{file}:{line}]"
        ));
    }
    aliases_and_networks(name, &typed, networks, &mut draft.aliases);
    Ok(Some(s))
}

/// The other names a service answers to (`hostname`, `container_name`, network aliases), and
/// the networks it joins.
fn aliases_and_networks(
    name: &str,
    typed: &dct::Service,
    networks: &mut BTreeMap<String, BTreeSet<String>>,
    aliases: &mut BTreeMap<String, (String, String)>,
) {
    for alias in [&typed.hostname, &typed.container_name]
        .into_iter()
        .flatten()
    {
        aliases.insert(
            alias.to_ascii_lowercase(),
            (String::new(), name.to_string()),
        );
    }
    match &typed.networks {
        dct::Networks::Simple(list) => {
            for n in list {
                networks
                    .entry(n.clone())
                    .or_default()
                    .insert(name.to_string());
            }
        }
        dct::Networks::Advanced(adv) => {
            for (n, settings) in &adv.0 {
                networks
                    .entry(n.clone())
                    .or_default()
                    .insert(name.to_string());
                if let dct::MapOrEmpty::Map(settings) = settings {
                    for a in &settings.aliases {
                        aliases.insert(a.to_ascii_lowercase(), (String::new(), name.to_string()));
                    }
                }
            }
        }
    }
}

/// The calls of one service: depends_on and links by service name, then hosts in its
/// environment (`env_file` under `environment`), command, entrypoint and health check.
fn calls(
    project: &Project<'_>,
    name: &str,
    value: &Value,
    origins: &Origins,
    typed: &dct::Service,
    s: &mut SvcDraft,
    draft: &mut Draft,
) -> Result<(), Error> {
    let (place, all_files, vars) = (project.place, project.files, project.vars);
    // Calls: depends_on and links by service name, then hosts in environment values.
    let deps: Vec<String> = match &typed.depends_on {
        dct::DependsOnOptions::Simple(list) => list.clone(),
        dct::DependsOnOptions::Conditional(map) => map.keys().cloned().collect(),
    };
    for dep in deps {
        let (f, l) = place(origins, &["depends_on", &dep]);
        s.refs.push(Ref {
            target: Target::Service {
                namespace: String::new(),
                name: dep.clone(),
            },
            port: None,
            prov: Prov::read(&f, l, "depends_on"),
        });
    }
    for link in &typed.links {
        let (target, alias) = link.split_once(':').unwrap_or((link, link));
        let (f, l) = place(origins, &["links", link]);
        s.refs.push(Ref {
            target: Target::Service {
                namespace: String::new(),
                name: target.to_string(),
            },
            port: None,
            prov: Prov::read(&f, l, "links"),
        });
        if alias != target {
            draft.aliases.insert(
                alias.to_ascii_lowercase(),
                (String::new(), target.to_string()),
            );
        }
    }
    let from_files = env_files(value, name, origins, place, all_files, vars)
        .map_err(|(source, line, message, help)| problem_at(source, line, message, help))?;
    for (key, value, prov) in from_files.vars {
        // `environment` wins over `env_file`, as in Compose.
        let shadowed =
            matches!(&typed.environment, dct::Environment::KvPair(env) if env.contains_key(&key));
        if !shadowed {
            refs_in(&key, &value, prov, s);
        }
    }
    draft.unknowns.extend(from_files.unknowns);
    if let dct::Environment::KvPair(env) = &typed.environment {
        for (key, value) in env {
            let (f, l) = place(origins, &["environment", key]);
            let text = match value {
                Some(v) => v.to_string(),
                // `- KEY` alone passes the variable through from the environment.
                None => match vars.get(key) {
                    Some(v) => v.clone(),
                    None => {
                        draft.unknowns.push(format!(
                            "{}: environment {} passes a variable through that is set neither in the environment nor in .env; a host it names is not known [{f}:{l}]",
                            comment(name),
                            comment(key)
                        ));
                        continue;
                    }
                },
            };
            refs_in(
                key,
                &text,
                Prov::read(&f, l, format!("environment {key}")),
                s,
            );
        }
    }
    for key in ["command", "entrypoint"] {
        if let Some(words) = value.get(key).map(words) {
            let (f, l) = place(origins, &[key]);
            args_refs(&words, Prov::read(&f, l, key), s);
        }
    }
    if let Some(test) = value.get("healthcheck").and_then(|h| h.get("test")) {
        let (f, l) = place(origins, &["healthcheck", "test"]);
        args_refs(&words(test), Prov::read(&f, l, "healthcheck"), s);
    }
    Ok(())
}

/// Parses one Compose file (unless its document is `parsed` already), interpolates its values
/// with `vars` and checks its `version`. Variables that are not set are listed in `unknowns`.
fn load(
    input: Input,
    parsed: Option<Value>,
    vars: &Variables,
    unknowns: &mut Vec<String>,
) -> Result<File, Error> {
    let docs = crate::yaml::documents(input.source.text());
    let Some(doc) = docs.first() else {
        return Err(problem_at(
            &input.source,
            1,
            "the Compose file is empty",
            "a Compose file has a `services:` mapping",
        ));
    };
    let mut value = match parsed {
        Some(value) => value,
        None => parse_doc(&input.source, doc)?,
    };
    value.apply_merge().map_err(|e| {
        problem_at(
            &input.source,
            doc.first_line,
            format!("invalid YAML merge key: {e}"),
            "`<<` must refer to a mapping or a list of mappings",
        )
    })?;
    let lookup = |name: &str| vars.get(name).cloned();
    let mut interpolation = Vars::new(&lookup);
    interpolate_values(&mut value, &mut interpolation).map_err(|f| {
        let needle = match &f {
            interpolate::Failure::Required { name, .. } => format!("{{{name}"),
            interpolate::Failure::Invalid { template } => template.clone(),
        };
        problem_at(
            &input.source,
            line_of(input.source.text(), &needle).unwrap_or(doc.first_line),
            interpolate::failure_text(&f),
            "set the variable in the environment, in .env or in a file given with --env-file; `docker compose config` refuses the file too",
        )
    })?;
    for name in interpolation.unset {
        let line = line_of(input.source.text(), &format!("${{{name}"))
            .or_else(|| line_of(input.source.text(), &format!("${name}")))
            .unwrap_or(doc.first_line);
        unknowns.push(format!(
            "variable {} is not set (environment, .env, --env-file); read as an empty string, as Compose does [{}:{line}]",
            comment(&name),
            input.name()
        ));
    }
    let Value::Mapping(mut top) = value else {
        return Err(problem_at(
            &input.source,
            doc.first_line,
            "a Compose file is a mapping with `services:`",
            "see https://compose-spec.io",
        ));
    };
    if let Some(Value::Mapping(services)) = top.get_mut("services") {
        service_keys(services, &input)?;
    }
    top.values().try_for_each(|v| check_tags(v, &input))?;
    if let Some(v) = top.get("version") {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        // The version field is obsolete; Compose accepts the 2.x and 3.x formats and nothing
        // else (version 1 had no `services:`).
        if !(text.starts_with('2') || text.starts_with('3')) || text.len() > 5 {
            let line = locate::line(input.source.text(), &["version"]).unwrap_or(1);
            return Err(problem_at(
                &input.source,
                line,
                format!("unknown Compose file version {text:?}"),
                "Compose files of format 2.x and 3.x are read; the `version` line can be removed",
            ));
        }
    }
    if let Some(Value::Mapping(services)) = top.get_mut("services") {
        for (_, svc) in services.iter_mut() {
            if let Value::Mapping(m) = svc {
                normalize(m);
            }
        }
    }
    let real = input
        .dir
        .as_ref()
        .and_then(|_| input.source.path().canonicalize().ok());
    Ok(File { input, top, real })
}

/// Files an `include` entry names (a path, a list of paths, or `{ path: ... }` entries),
/// relative to the including file and inside the project folder, loaded depth first before
/// the file that includes them. A service defined by an included file and again by another
/// file is refused, as Compose refuses it.
fn included(
    file: &File,
    root: &Path,
    vars: &Variables,
    unknowns: &mut Vec<String>,
    files: &mut Vec<File>,
    seen: &mut Vec<PathBuf>,
) -> Result<(), Error> {
    let Some(list) = file.top.get("include") else {
        return Ok(());
    };
    let line = locate::line(file.input.source.text(), &["include"]).unwrap_or(1);
    let entries: Vec<&Value> = match list {
        Value::Sequence(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut paths: Vec<String> = Vec::new();
    for entry in entries {
        match entry {
            Value::String(p) => paths.push(p.clone()),
            Value::Mapping(_) => match entry.get("path") {
                Some(Value::String(p)) => paths.push(p.clone()),
                Some(Value::Sequence(ps)) => paths.extend(ps.iter().filter_map(scalar)),
                _ => {}
            },
            _ => {}
        }
    }
    let dir = file.input.dir.clone().unwrap_or_else(|| ".".into());
    for rel in paths {
        let path = super::contained(root, &dir, &rel).map_err(|why| {
            problem_at(
                &file.input.source,
                line,
                format!("`include` is not read: {}", comment(&why)),
                "include files inside the project folder",
            )
        })?;
        let real = path.canonicalize().ok();
        if real.is_some() && seen.contains(real.as_ref().expect("checked")) {
            return Err(problem_at(
                &file.input.source,
                line,
                format!(
                    "`include` of {} loops back to a file that includes it",
                    comment(&rel)
                ),
                "break the cycle of `include`",
            ));
        }
        seen.extend(real.clone());
        let inc = load(super::read_file(&path)?, None, vars, unknowns)?;
        included(&inc, root, vars, unknowns, files, seen)?;
        let defined = |f: &File| -> Vec<String> {
            f.top
                .get("services")
                .and_then(Value::as_mapping)
                .map(|m| m.keys().filter_map(scalar).collect())
                .unwrap_or_default()
        };
        let theirs = defined(&inc);
        if let Some(clash) = defined(file)
            .into_iter()
            .chain(files.iter().flat_map(defined))
            .find(|name| theirs.contains(name))
        {
            return Err(problem_at(
                &file.input.source,
                line,
                format!(
                    "service \"{}\" is defined by the included file {} and again here",
                    comment(&clash),
                    comment(&rel)
                ),
                "define each service once; override an included service in a file given after it",
            ));
        }
        if real.is_some() {
            seen.pop();
        }
        files.push(inc);
    }
    Ok(())
}

/// Service names written as numbers or booleans (`123:`, `true:`) are names all the same, as
/// Compose reads them; a name that is no scalar at all is refused at its line.
fn service_keys(services: &mut Mapping, input: &Input) -> Result<(), Error> {
    let odd: Vec<Value> = services
        .keys()
        .filter(|k| !matches!(k, Value::String(_)))
        .cloned()
        .collect();
    for key in odd {
        let text = match &key {
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                let line = locate::line(input.source.text(), &["services"]).unwrap_or(1);
                return Err(problem_at(
                    &input.source,
                    line,
                    "a service name under `services` is not a string",
                    "name each service with a plain word, such as `web:`",
                ));
            }
        };
        if services.contains_key(text.as_str()) {
            let line = locate::line(input.source.text(), &["services", &text]).unwrap_or(1);
            return Err(problem_at(
                &input.source,
                line,
                format!("service {} is defined twice", comment(&text)),
                "give each service one entry",
            ));
        }
        if let Some(value) = services.remove(&key) {
            services.insert(Value::String(text), value);
        }
    }
    Ok(())
}

/// What is left of the merge tags once no earlier file is under them: `!reset` removes the
/// value, `!override` is its value.
fn resolve_tags(value: &mut Value) {
    match value {
        Value::Tagged(t) => {
            let inner = std::mem::take(&mut t.value);
            *value = inner;
            resolve_tags(value);
        }
        Value::Sequence(items) => items.iter_mut().for_each(resolve_tags),
        Value::Mapping(map) => {
            map.retain(|_, v| !matches!(v, Value::Tagged(t) if t.tag == "reset"));
            map.values_mut().for_each(resolve_tags);
        }
        _ => {}
    }
}

/// Refuses YAML tags other than Compose's `!reset` and `!override`: a tagged value would
/// otherwise be read as something it is not, or dropped.
fn check_tags(value: &Value, input: &Input) -> Result<(), Error> {
    match value {
        Value::Tagged(t) => {
            let tag = t.tag.to_string();
            if !(t.tag == "reset" || t.tag == "override") {
                return Err(problem_at(
                    &input.source,
                    line_of(input.source.text(), &tag).unwrap_or(1),
                    format!("the YAML tag {} is not part of Compose", comment(&tag)),
                    "remove the tag; Compose knows only !reset and !override",
                ));
            }
            check_tags(&t.value, input)
        }
        Value::Sequence(items) => items.iter().try_for_each(|v| check_tags(v, input)),
        Value::Mapping(map) => map.values().try_for_each(|v| check_tags(v, input)),
        _ => Ok(()),
    }
}

/// Turns the list forms of mergeable keys into mappings: `- KEY=value` → `KEY: value`,
/// `- redis` → `redis: {}`.
fn normalize(service: &mut Mapping) {
    for key in LIST_MAPS {
        let Some(Value::Sequence(list)) = service.get(key) else {
            continue;
        };
        let mut map = Mapping::new();
        for item in list {
            let Some(text) = scalar(item) else { continue };
            match (key, text.split_once('=')) {
                ("environment" | "labels", Some((k, v))) => {
                    map.insert(Value::String(k.to_string()), Value::String(v.to_string()));
                }
                ("environment" | "labels", None) => {
                    map.insert(Value::String(text), Value::Null);
                }
                _ => {
                    map.insert(Value::String(text), Value::Mapping(Mapping::new()));
                }
            }
        }
        service.insert(Value::String(key.to_string()), Value::Mapping(map));
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Merges `over` into `base` as Compose merges files: mappings key by key, most lists appended
/// without duplicates, scalars and the `REPLACED` lists replaced.
fn merge(base: &mut Mapping, over: &Mapping) {
    for (k, v) in over {
        let name = k.as_str().unwrap_or_default();
        // Compose's merge tags: `!reset` removes what earlier files set, `!override` replaces
        // it whole.
        if let Value::Tagged(t) = v {
            if t.tag == "reset" {
                base.remove(k);
            } else {
                base.insert(k.clone(), t.value.clone());
            }
            continue;
        }
        match (base.get_mut(k), v) {
            (Some(Value::Mapping(b)), Value::Mapping(o)) => merge(b, o),
            (Some(Value::Sequence(b)), Value::Sequence(o)) if !REPLACED.contains(&name) => {
                for item in o {
                    if !b.contains(item) {
                        b.push(item.clone());
                    }
                }
            }
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

type Origins = Vec<(usize, String)>;

/// The file `extends.file` names (`rel`), as an index into `extra`, read and added there the
/// first time. Compose resolves it against the folder of the file that declares the `extends`.
fn extends_file(
    files: &[File],
    extra: &mut Vec<File>,
    name: &str,
    in_file: Option<usize>,
    rel: &str,
    env: (&Variables, &mut Vec<String>),
) -> Result<Option<usize>, Error> {
    // Compose resolves `extends.file` against the folder of the file that declares the
    // `extends`: the last project file that gives this service one.
    let from = match in_file {
        Some(i) => &extra[i],
        None => files
            .iter()
            .rev()
            .find(|f| {
                f.top
                    .get("services")
                    .and_then(|s| s.get(name))
                    .and_then(|v| v.get("extends"))
                    .is_some()
            })
            .unwrap_or(&files[files.len() - 1]),
    };
    let dir = from.input.dir.clone().unwrap_or_else(|| ".".into());
    let root = files[0].input.dir.clone().unwrap_or_else(|| ".".into());
    let line = locate::line(from.input.source.text(), &["services", name, "extends"]).unwrap_or(1);
    // Only files of the project folder: a path elsewhere would show the first lines
    // of any file in a diagnostic, or merge it silently.
    let path = super::contained(&root, &dir, rel).map_err(|why| {
        problem_at(
            &from.input.source,
            line,
            format!(
                "`extends.file` of service \"{}\" is not read: {why}",
                comment(name)
            ),
            format!(
                "extend a file inside the project folder {}",
                comment(&root.display().to_string())
            ),
        )
    })?;
    let real = path.canonicalize().ok();
    if let Some(i) = extra
        .iter()
        .position(|f| f.real.is_some() && f.real == real)
    {
        Ok(Some(i))
    } else {
        let input = super::read_file(Path::new(&path))?;
        extra.push(load(input, None, env.0, &mut *env.1)?);
        Ok(Some(extra.len() - 1))
    }
}

/// A service with its `extends` chain applied, and where each layer came from (most specific
/// first): indexes into the project's files followed by `extra`.
fn extend(
    files: &[File],
    extra: &mut Vec<File>,
    services: &Mapping,
    name: &str,
    in_file: Option<usize>,
    seen: &mut Vec<(Option<usize>, String)>,
    env: (&Variables, &mut Vec<String>),
) -> Result<(Value, Origins), Error> {
    let key = (in_file, name.to_string());
    let origin_files: Vec<usize> = match in_file {
        None => (0..files.len()).rev().collect(),
        Some(i) => vec![files.len() + i],
    };
    let origins: Origins = origin_files
        .iter()
        .map(|f| (*f, name.to_string()))
        .collect();
    let home = match in_file {
        None => files[0].input.source.clone(),
        Some(i) => extra[i].input.source.clone(),
    };
    let home = &home;
    // Only the one service is cloned: cloning the whole mapping for every service made large
    // projects quadratic.
    let value = match in_file {
        None => services.get(name).cloned(),
        Some(i) => extra[i]
            .top
            .get("services")
            .and_then(|s| s.get(name))
            .cloned(),
    };
    let Some(value) = value else {
        return Err(problem_at(
            home,
            locate::line(home.text(), &["services"]).unwrap_or(1),
            format!(
                "`extends` names service \"{}\", which is not defined",
                comment(name)
            ),
            "name a service of the file given in `extends.file`, or of this project",
        ));
    };
    if seen.contains(&key) {
        return Err(problem_at(
            home,
            locate::line(home.text(), &["services", name, "extends"]).unwrap_or(1),
            format!(
                "`extends` of service \"{}\" loops back to itself",
                comment(name)
            ),
            "break the cycle of `extends`",
        ));
    }
    seen.push(key);
    let Some(ext) = value.get("extends").cloned() else {
        return Ok((value, origins));
    };
    let (base_name, base_file) = match &ext {
        Value::String(s) => (s.clone(), None),
        Value::Mapping(m) => (
            m.get("service")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            m.get("file").and_then(Value::as_str).map(String::from),
        ),
        _ => (String::new(), None),
    };
    let base_in = match base_file {
        None => in_file,
        Some(rel) => extends_file(files, extra, name, in_file, &rel, (env.0, &mut *env.1))?,
    };
    if seen.len() > MAX_EXTENDS {
        return Err(problem_at(
            home,
            locate::line(home.text(), &["services", name, "extends"]).unwrap_or(1),
            format!(
                "`extends` of service \"{}\" goes more than {MAX_EXTENDS} levels deep",
                comment(name)
            ),
            "shorten the chain of `extends`",
        ));
    }
    let (base, base_origins) = extend(files, extra, services, &base_name, base_in, seen, env)?;
    let mut merged = match base {
        Value::Mapping(mut m) => {
            for k in NOT_INHERITED {
                m.remove(k);
            }
            m
        }
        _ => Mapping::new(),
    };
    if let Value::Mapping(mut own) = value {
        own.remove("extends");
        merge(&mut merged, &own);
    }
    let mut all = origins;
    all.extend(base_origins);
    Ok((Value::Mapping(merged), all))
}

/// The typed view of a merged service, with the few values the schema types too narrowly
/// (numbers where it expects strings) turned into strings first.
fn typed(value: &Value) -> Result<dct::Service, String> {
    let mut value = value.clone();
    let mut keep = Mapping::new();
    if let Value::Mapping(m) = &mut value {
        // Only the keys the import reads are typed: keys newer than the schema crate must not
        // make a valid project unreadable.
        for k in [
            "image",
            "build",
            "ports",
            "expose",
            "environment",
            "env_file",
            "depends_on",
            "links",
            "networks",
            "deploy",
            "scale",
            "hostname",
            "container_name",
            "network_mode",
            "profiles",
        ] {
            if let Some(v) = m.get(k) {
                keep.insert(Value::String(k.into()), v.clone());
            }
        }
    }
    for list in ["ports", "expose"] {
        if let Some(Value::Sequence(items)) = keep.get_mut(list) {
            for item in items.iter_mut() {
                if let Value::Number(n) = item {
                    *item = Value::String(n.to_string());
                }
            }
        }
    }
    // Only what the import reads of each entry: the schema crate refuses settings newer
    // than itself (`gw_priority`, ...) and a `depends_on` entry without `condition`.
    if let Some(Value::Mapping(deps)) = keep.get_mut("depends_on") {
        for (_, v) in deps.iter_mut() {
            let mut entry = Mapping::new();
            entry.insert("condition".into(), "service_started".into());
            *v = Value::Mapping(entry);
        }
    }
    if let Some(Value::Mapping(nets)) = keep.get_mut("networks") {
        for (_, v) in nets.iter_mut() {
            let aliases = v.get("aliases").cloned();
            let mut entry = Mapping::new();
            if let Some(a) = aliases {
                entry.insert("aliases".into(), a);
            }
            *v = Value::Mapping(entry);
        }
    }
    if let Some(Value::Mapping(deploy)) = keep.get_mut("deploy") {
        deploy.retain(|k, _| matches!(k.as_str(), Some("replicas" | "resources" | "mode")));
        if let Some(Value::Mapping(res)) = deploy.get_mut("resources") {
            for (_, pair) in res.iter_mut() {
                if let Value::Mapping(pair) = pair {
                    pair.retain(|k, _| matches!(k.as_str(), Some("cpus" | "memory")));
                    for (_, v) in pair.iter_mut() {
                        if let Value::Number(n) = v {
                            *v = Value::String(n.to_string());
                        }
                    }
                }
            }
        }
    }
    serde_yaml_ng::from_value(Value::Mapping(keep)).map_err(|e| e.to_string())
}

type Place<'a> = dyn Fn(&[(usize, String)], &[&str]) -> (String, usize) + 'a;

/// The variables of the project: its `.env` file (or the `--env-file` files, in order), with
/// the process environment over them, as Compose reads them.
fn variables(
    inputs: &[Input],
    options: &Options,
    unknowns: &mut Vec<String>,
) -> Result<Variables, Error> {
    let mut paths: Vec<PathBuf> = options.env_files.clone();
    if paths.is_empty() {
        let dir = inputs[0].dir.clone().unwrap_or_else(|| ".".into());
        let dotenv = dir.join(".env");
        match std::fs::symlink_metadata(&dotenv) {
            Ok(meta) if meta.is_file() => paths.push(dotenv),
            Ok(_) => unknowns.push(format!(
                "{}: not a regular file, not read; its variables are unset",
                comment(&dotenv.display().to_string())
            )),
            Err(_) => {}
        }
    }
    let mut vars = Variables::new();
    for path in paths {
        let input = super::read_file(&path)?;
        let lookup = |name: &str| options.env.get(name).or_else(|| vars.get(name)).cloned();
        let parsed = interpolate::env_file(input.source.text(), &lookup).map_err(|e| {
            problem_at(
                &input.source,
                e.line,
                e.message,
                "write one KEY=value a line; quote values with spaces",
            )
        })?;
        for (key, value, _) in parsed {
            vars.insert(key, value);
        }
    }
    for (key, value) in &options.env {
        vars.insert(key.clone(), value.clone());
    }
    Ok(vars)
}

/// Interpolates every string value of a parsed file (keys stay as written, as the
/// specification says).
fn interpolate_values(value: &mut Value, vars: &mut Vars<'_>) -> Result<(), interpolate::Failure> {
    match value {
        Value::String(s) => {
            if s.contains('$') {
                *s = vars.substitute(s)?;
            }
        }
        Value::Sequence(items) => {
            for item in items {
                interpolate_values(item, vars)?;
            }
        }
        Value::Mapping(map) => {
            for (_, v) in map.iter_mut() {
                interpolate_values(v, vars)?;
            }
        }
        Value::Tagged(tagged) => interpolate_values(&mut tagged.value, vars)?,
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

/// 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.find(needle)
        .map(|at| text[..at].bytes().filter(|b| *b == b'\n').count() + 1)
}

/// The variables a service reads from its `env_file` entries, and what could not be read.
struct EnvFiles {
    vars: Vec<(String, String, Prov)>,
    unknowns: Vec<String>,
}

/// A problem to report in a file: its source, line, message and hint.
type Located<'a> = (&'a crate::diagnostic::Source, usize, String, String);

/// Reads a service's `env_file` entries (a path, a list of paths, or `{ path, required }`
/// entries), relative to the project folder and never outside it.
fn env_files<'a>(
    service: &Value,
    name: &str,
    origins: &[(usize, String)],
    place: &Place<'_>,
    all_files: &[&'a File],
    vars: &Variables,
) -> Result<EnvFiles, Located<'a>> {
    let mut out = EnvFiles {
        vars: Vec::new(),
        unknowns: Vec::new(),
    };
    let Some(entries) = service.get("env_file") else {
        return Ok(out);
    };
    let list: Vec<(String, bool)> = match entries {
        Value::String(p) => vec![(p.clone(), true)],
        Value::Sequence(items) => items
            .iter()
            .filter_map(|item| match item {
                Value::String(p) => Some((p.clone(), true)),
                Value::Mapping(_) => Some((
                    item.get("path").and_then(Value::as_str)?.to_string(),
                    item.get("required")
                        .and_then(Value::as_bool)
                        .unwrap_or(true),
                )),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let (file, line) = place(origins, &["env_file"]);
    let declaring = origins
        .iter()
        .map(|(fi, _)| all_files[*fi])
        .find(|f| f.input.name() == file)
        .unwrap_or(all_files[0]);
    let root = all_files[0].input.dir.clone().unwrap_or_else(|| ".".into());
    for (path, required) in list {
        let target = match super::contained(&root, &root, &path) {
            Ok(p) => p,
            Err(why) if !required && !root.join(&path).exists() => {
                let _ = why;
                continue;
            }
            Err(why) => {
                out.unknowns.push(format!(
                    "{}: env_file not read: {} [{file}:{line}]",
                    comment(name),
                    comment(&why)
                ));
                continue;
            }
        };
        let input = match super::read_file(&target) {
            Ok(i) => i,
            Err(e) => {
                out.unknowns.push(format!(
                    "{}: env_file {} not read: {} [{file}:{line}]",
                    comment(name),
                    comment(&path),
                    comment(&e.to_string())
                ));
                continue;
            }
        };
        let lookup = |n: &str| vars.get(n).cloned();
        let parsed = interpolate::env_file(input.source.text(), &lookup).map_err(|e| {
            (
                &declaring.input.source,
                line,
                format!(
                    "env_file {} of service \"{}\", line {}: {}",
                    comment(&path),
                    comment(name),
                    e.line,
                    e.message
                ),
                "fix the file: one KEY=value a line".to_string(),
            )
        })?;
        for (key, value, l) in parsed {
            let prov = Prov::read(&input.name(), l, format!("env_file {key}"));
            out.vars.retain(|(k, _, _)| *k != key);
            out.vars.push((key, value, prov));
        }
    }
    Ok(out)
}

/// The calls a variable's value names.
fn refs_in(key: &str, value: &str, prov: Prov, s: &mut SvcDraft) {
    for h in hosts::find(Some(key), value) {
        s.refs.push(Ref {
            target: Target::Host(h.host),
            port: h.port,
            prov: prov.clone(),
        });
    }
}

/// The words of a `command`, `entrypoint` or `healthcheck.test`: a list as it is, a string
/// split at white space.
fn words(value: &Value) -> Vec<String> {
    match value {
        Value::Sequence(items) => items.iter().filter_map(scalar).collect(),
        Value::String(s) => s.split_whitespace().map(String::from).collect(),
        _ => Vec::new(),
    }
}

/// The calls named in command-line words.
fn args_refs(words: &[String], prov: Prov, s: &mut SvcDraft) {
    for h in hosts::in_words(words) {
        s.refs.push(Ref {
            target: Target::Host(h.host),
            port: h.port,
            prov: prov.clone(),
        });
    }
}

/// A `ports` entry of a Compose service as the draft holds it.
struct Published {
    /// As written.
    entry: String,
    /// The container ports it publishes that were imported.
    ports: Vec<(Protocol, u16)>,
    /// Published on a loopback address only.
    local: bool,
    /// File and line.
    at: (String, usize),
}

fn ports(
    typed: &dct::Service,
    name: &str,
    origins: &[(usize, String)],
    place: &Place<'_>,
    s: &mut SvcDraft,
    unknowns: &mut Vec<String>,
) {
    let mut published: Vec<Published> = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    // The port as imported, or `None` when its protocol is refused.
    let mut add = |target: u16, protocol: &str, prov: Prov| -> Option<(Protocol, u16)> {
        let protocol = match protocol.to_ascii_lowercase().as_str() {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            "sctp" => Protocol::Sctp,
            other => {
                refused.push(format!(
                    "{}: port {target} has protocol {:?}, which is not tcp, udp or sctp; not imported [{}]",
                    comment(name),
                    comment(other),
                    prov.at
                ));
                return None;
            }
        };
        s.ports.push(PortDraft {
            name: None,
            port: target,
            target,
            protocol,
            app_protocol: None,
            prov,
        });
        Some((protocol, target))
    };
    let (pf, pl) = place(origins, &["ports"]);
    match &typed.ports {
        dct::Ports::Short(list) => {
            for entry in list {
                let (f, l) = place(origins, &["ports", entry]);
                match short_port(entry) {
                    Some((targets, protocol, host)) => {
                        let imported: Vec<(Protocol, u16)> = targets
                            .into_iter()
                            .filter_map(|t| add(t, &protocol, Prov::read(&f, l, "ports")))
                            .collect();
                        // A container port alone is published too, on a host port Docker
                        // picks, on every host address. A refused protocol publishes nothing
                        // the draft holds.
                        let local = host.as_deref().is_some_and(loopback);
                        if !imported.is_empty() {
                            published.push(Published {
                                entry: entry.clone(),
                                ports: imported,
                                local,
                                at: (f.clone(), l),
                            });
                        }
                    }
                    None => unknowns.push(format!(
                        "{name}: port {entry:?} is not understood [{f}:{l}]"
                    )),
                }
            }
        }
        dct::Ports::Long(list) => {
            for p in list {
                let protocol = p.protocol.as_deref().unwrap_or("tcp");
                // Without `published`, Docker picks the host port: published all the same.
                if let Some(imported) = add(p.target, protocol, Prov::read(&pf, pl, "ports")) {
                    let local = p.host_ip.as_deref().is_some_and(loopback);
                    published.push(Published {
                        entry: p.target.to_string(),
                        ports: vec![imported],
                        local,
                        at: (pf.clone(), pl),
                    });
                }
            }
        }
    }
    for e in &typed.expose {
        let (f, l) = place(origins, &["expose"]);
        match short_port(e) {
            Some((targets, protocol, _)) => {
                for t in targets {
                    add(t, &protocol, Prov::read(&f, l, "expose"));
                }
            }
            None => unknowns.push(format!("{name}: expose {e:?} is not understood [{f}:{l}]")),
        }
    }
    unknowns.extend(refused);
    // A port published on every host address is reachable from outside today: the import
    // describes the system as it runs, so the service is public, as a guess said twice.
    if let Some(Published {
        entry, at: (f, l), ..
    }) = published.iter().find(|p| !p.local)
    {
        s.expose = Some((
            Expose::Public,
            Prov::guess(
                f,
                *l,
                format!("port {entry} is published on every host address"),
            ),
        ));
        unknowns.push(format!(
            "{}: port {} is published on every host address, so it is imported as public; make it internal, gateway or cluster if that is not how it should be reached [{f}:{l}]",
            comment(name),
            comment(entry)
        ));
        // `expose` opens every port of a service: say which ones nobody published.
        let open: BTreeSet<(Protocol, u16)> = published
            .iter()
            .filter(|p| !p.local)
            .flat_map(|p| p.ports.iter().copied())
            .collect();
        let closed: BTreeSet<(u16, Protocol)> = s
            .ports
            .iter()
            .filter(|p| !open.contains(&(p.protocol, p.target)))
            .map(|p| (p.target, p.protocol))
            .collect();
        if !closed.is_empty() {
            let list: Vec<String> = closed
                .iter()
                .map(|(port, protocol)| match protocol {
                    Protocol::Tcp => port.to_string(),
                    other => format!("{port}/{}", other.as_str()),
                })
                .collect();
            let (what, verb, them, their) = if list.len() == 1 {
                ("port", "is", "it", "its")
            } else {
                ("ports", "are", "them", "their")
            };
            unknowns.push(format!(
                "{}: {what} {} {verb} not published on every address, yet `expose` opens all ports of a service; to keep {them} inside, move {them} to {their} own service or drop {them} [{f}:{l}]",
                comment(name),
                text::join_and(&list)
            ));
        }
    } else if let Some(Published {
        entry, at: (f, l), ..
    }) = published.first()
    {
        s.expose_hint = Some(format!(
            "port {entry} is published on the loopback address only ({f}:{l}): not exposed"
        ));
    }
}

/// Whether a published port's host address is a loopback one (`127.0.0.1:8080:80`,
/// `[::1]:8080:80`, `localhost`): reachable from the host itself only.
fn loopback(host: &str) -> bool {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    let ip = host
        .strip_prefix('[')
        .and_then(|h| h.split_once(']').map(|(ip, _)| ip))
        .unwrap_or_else(|| host.rsplit_once(':').map_or(host, |(ip, _)| ip));
    ip == "localhost"
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

/// `[HOST_IP:][HOST:]CONTAINER[/PROTOCOL]`, with ranges: the container ports, the protocol and
/// the published part if any.
fn short_port(entry: &str) -> Option<(Vec<u16>, String, Option<String>)> {
    let (spec, protocol) = entry.split_once('/').unwrap_or((entry, "tcp"));
    let (host, container) = match spec.rsplit_once(':') {
        Some((h, c)) => (Some(h.to_string()), c),
        None => (None, spec),
    };
    let targets: Vec<u16> = match container.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.parse::<u16>().ok()?, b.parse::<u16>().ok()?);
            if a == 0 || b < a || b - a > 20 {
                return None;
            }
            (a..=b).collect()
        }
        None => vec![container.parse::<u16>().ok().filter(|p| *p > 0)?],
    };
    Some((targets, protocol.to_string(), host))
}

fn resources(
    typed: &dct::Service,
    name: &str,
    origins: &[(usize, String)],
    place: &Place<'_>,
    s: &mut SvcDraft,
    unknowns: &mut Vec<String>,
) {
    let Some(res) = typed.deploy.as_ref().and_then(|d| d.resources.as_ref()) else {
        return;
    };
    let mut fill = |limits: Option<&dct::Limits>, key: &str, pair: &mut PairDraft| {
        let Some(l) = limits else { return };
        if let Some(cpus) = &l.cpus {
            let (f, line) = place(origins, &["deploy", "resources", key, "cpus"]);
            match cpu(cpus) {
                Some(q) => {
                    pair.cpu = Some((
                        q,
                        Prov::read(&f, line, format!("deploy.resources.{key}.cpus {cpus}")),
                    ));
                }
                None => unknowns.push(format!(
                    "{name}: cpus {cpus:?} is not a number of CPUs [{f}:{line}]"
                )),
            }
        }
        if let Some(m) = &l.memory {
            let (f, line) = place(origins, &["deploy", "resources", key, "memory"]);
            match memory(m) {
                Some(q) => {
                    pair.memory = Some((
                        q,
                        Prov::read(&f, line, format!("deploy.resources.{key}.memory {m}")),
                    ));
                }
                None => unknowns.push(format!(
                    "{name}: memory {m:?} is not a byte size [{f}:{line}]"
                )),
            }
        }
    };
    fill(res.reservations.as_ref(), "reservations", &mut s.requests);
    fill(res.limits.as_ref(), "limits", &mut s.limits);
}

/// Compose CPUs (`0.5`, `2`) as a Kubernetes quantity (`500m`, `2`).
pub fn cpu(text: &str) -> Option<String> {
    let v: f64 = text.trim().parse().ok()?;
    if !v.is_finite() || !(0.0..=1.0e6).contains(&v) {
        return None;
    }
    let milli = (v * 1000.0).round() as u64;
    let q = if milli.is_multiple_of(1000) {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    };
    q.parse::<Quantity>().ok().map(|_| q)
}

/// A Compose byte size (`512m`, `1gb`, `1024`) as a Kubernetes quantity (`512Mi`, `1Gi`).
/// Compose sizes are binary: `1m` is 1024 × 1024 bytes.
pub fn memory(text: &str) -> Option<String> {
    let t = text.trim().to_ascii_lowercase();
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    let unit = &t[digits.len()..];
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let suffix = match unit {
        "" | "b" => "",
        "k" | "kb" => "Ki",
        "m" | "mb" => "Mi",
        "g" | "gb" => "Gi",
        _ => return None,
    };
    let q = format!("{digits}{suffix}");
    q.parse::<Quantity>().ok().map(|_| q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(cpu("0.5").as_deref(), Some("500m"));
        assert_eq!(cpu("2").as_deref(), Some("2"));
        assert_eq!(cpu("0.25").as_deref(), Some("250m"));
        assert_eq!(cpu("x"), None);
        assert_eq!(cpu("-1"), None);
        assert_eq!(memory("512M").as_deref(), Some("512Mi"));
        assert_eq!(memory("1gb").as_deref(), Some("1Gi"));
        assert_eq!(memory("1024").as_deref(), Some("1024"));
        assert_eq!(memory("50x"), None);
    }

    #[test]
    fn loopback_hosts() {
        assert!(loopback("127.0.0.1:8080"));
        assert!(loopback("[::1]:8080"));
        assert!(loopback("::1"));
        assert!(loopback("127.0.0.1"));
        assert!(!loopback("8080"));
        assert!(!loopback("0.0.0.0:8080"));
        assert!(!loopback("[::]:8080"));
    }

    #[test]
    fn short_ports() {
        assert_eq!(short_port("80"), Some((vec![80], "tcp".into(), None)));
        assert_eq!(
            short_port("5000:80"),
            Some((vec![80], "tcp".into(), Some("5000".into())))
        );
        assert_eq!(
            short_port("127.0.0.1:5353:53/udp"),
            Some((vec![53], "udp".into(), Some("127.0.0.1:5353".into())))
        );
        assert_eq!(
            short_port("9000-9002").map(|p| p.0),
            Some(vec![9000, 9001, 9002])
        );
        assert_eq!(short_port("0"), None);
        assert_eq!(short_port("1-60000"), None);
    }
}
