//! The review before writing: the summary, then a menu to change any section or service,
//! delete a service, or write. Every submenu has a way back that changes nothing.

use super::{Session, answers, ask_call_kind, ask_calls, ask_calls_of, ask_criteria};
use super::{add_domain, ask_domain_name, service, summary};
use super::{ask_project, evaluate};
use crate::diagnostic::Error;
use crate::prompt::Prompter;
use crate::workspace::write::DraftCall;

const BACK: &str = "back to the summary";

/// Shows the summary and applies changes until the user chooses to write.
pub fn run(p: &mut dyn Prompter, s: &mut Session<'_>) -> Result<(), Error> {
    let menu: Vec<String> = [
        "write the workspace",
        "change the project (name, description, platform)",
        "change the domains",
        "change a service",
        "add a service",
        "delete a service",
        "change the calls",
        "change the criteria answers",
    ]
    .map(String::from)
    .to_vec();
    loop {
        s.apply_default_replicas();
        let verdict = evaluate(&s.draft(), s.policy, s.path)?;
        p.note(&summary::text(s, &verdict));
        match p.select("Write it, or change something?", &menu, 0)? {
            0 => return Ok(()),
            1 => ask_project(p, s)?,
            2 => change_domains(p, s)?,
            3 => change_service(p, s)?,
            4 => add_service(p, s)?,
            5 => delete_service(p, s)?,
            6 => ask_calls(p, s)?,
            _ => ask_criteria(p, s)?,
        }
    }
}

/// Picks one of `items`, or `None` for the way back.
pub(super) fn pick(
    p: &mut dyn Prompter,
    prompt: &str,
    items: &[String],
) -> Result<Option<usize>, Error> {
    let mut all = items.to_vec();
    all.push(BACK.to_string());
    let i = p.select(prompt, &all, 0)?;
    Ok((i < items.len()).then_some(i))
}

/// What the domains submenu can do.
enum DomainChange {
    Add,
    Team(usize),
    Remove(usize),
}

fn change_domains(p: &mut dyn Prompter, s: &mut Session<'_>) -> Result<(), Error> {
    let used = |ns: &str| s.draft.services.iter().any(|svc| svc.namespace == ns);
    let mut items = vec!["add a domain".to_string()];
    let mut actions = vec![DomainChange::Add];
    for (i, ns) in s.draft.namespaces.iter().enumerate() {
        items.push(format!("set the team of {}", ns.name));
        actions.push(DomainChange::Team(i));
        if !used(&ns.name) && s.draft.namespaces.len() > 1 {
            items.push(format!("remove {} (no services)", ns.name));
            actions.push(DomainChange::Remove(i));
        }
    }
    let Some(k) = pick(p, "Which change?", &items)? else {
        return Ok(());
    };
    match actions[k] {
        DomainChange::Add => {
            if let Some(name) = ask_domain_name(p, s, "New business domain (namespace)")? {
                add_domain(p, s, name)?;
            }
        }
        DomainChange::Team(i) => {
            let ns = &s.draft.namespaces[i];
            let team = p.input(
                &format!("Team that owns {} (empty if none yet)", ns.name),
                &ns.team,
                &answers::label_value,
            )?;
            s.draft.namespaces[i].team = team;
        }
        DomainChange::Remove(i) => {
            s.draft.namespaces.remove(i);
        }
    }
    Ok(())
}

fn service_ids(s: &Session<'_>) -> Vec<String> {
    (0..s.draft.services.len()).map(|i| s.id(i)).collect()
}

fn change_service(p: &mut dyn Prompter, s: &mut Session<'_>) -> Result<(), Error> {
    let Some(i) = pick(p, "Which service?", &service_ids(s))? else {
        return Ok(());
    };
    let old = s.draft.services[i].clone();
    let name = p.input("Service name", &old.name, &|a| {
        crate::names::dns1035_label(a)?;
        service::taken(s, a, Some(i))
    })?;
    let mut svc = service::ask(p, s, name.clone(), Some(&old))?;
    s.draft.services[i] = svc.clone();
    let rule = s.default_replicas(i);
    svc.replicas = service::ask_replicas(p, &name, s.replicas_default(&old, rule))?;
    s.typed_replicas(&old.name, &name, svc.replicas, rule);
    s.draft.services[i] = svc;
    if name != old.name {
        for other in &mut s.draft.services {
            for c in other.calls.iter_mut().filter(|c| c.to == old.name) {
                c.to.clone_from(&name);
            }
        }
    }
    if s.draft.services[i].port.is_none() {
        s.forget_calls_to(&name);
    }
    s.apply_default_replicas();
    Ok(())
}

pub(super) fn add_service(p: &mut dyn Prompter, s: &mut Session<'_>) -> Result<(), Error> {
    let Some(name) = service::ask_name(p, s)? else {
        return Ok(());
    };
    let svc = service::ask(p, s, name.clone(), None)?;
    let takes_requests = svc.port.is_some();
    s.draft.services.push(svc);
    let i = s.draft.services.len() - 1;
    ask_calls_of(p, s, i)?;
    if takes_requests {
        ask_callers(p, s, i)?;
    }
    s.apply_default_replicas();
    Ok(())
}

/// Which services call service `i`: the second direction, for a service added late.
fn ask_callers(p: &mut dyn Prompter, s: &mut Session<'_>, i: usize) -> Result<(), Error> {
    let others: Vec<usize> = (0..s.draft.services.len()).filter(|j| *j != i).collect();
    if others.is_empty() {
        return Ok(());
    }
    let name = s.draft.services[i].name.clone();
    let labels: Vec<String> = others.iter().map(|j| s.id(*j)).collect();
    let picked: Vec<bool> = others.iter().map(|j| s.call(*j, i).is_some()).collect();
    let chosen = p.multi_select(
        &format!("Which services call {}?", s.id(i)),
        &labels,
        &picked,
    )?;
    for (k, j) in others.iter().enumerate() {
        let call = match chosen.contains(&k) {
            true => Some(DraftCall {
                to: name.clone(),
                kind: ask_call_kind(p, s, *j, i)?,
            }),
            false => None,
        };
        let calls = &mut s.draft.services[*j].calls;
        calls.retain(|c| c.to != name);
        calls.extend(call);
    }
    Ok(())
}

/// Deletes a service and the calls to it, once the user confirms.
pub(super) fn delete_service(p: &mut dyn Prompter, s: &mut Session<'_>) -> Result<(), Error> {
    if s.draft.services.len() == 1 {
        p.note(
            "A project has at least one service: change this one instead, or add another first.",
        );
        return Ok(());
    }
    let Some(i) = pick(p, "Delete which service?", &service_ids(s))? else {
        return Ok(());
    };
    let callers: Vec<String> = (0..s.draft.services.len())
        .filter(|j| s.call(*j, i).is_some())
        .map(|j| s.id(j))
        .collect();
    let also = match callers.len() {
        0 => String::new(),
        _ => format!(
            " The calls to it from {} go too.",
            crate::text::join_and(&callers)
        ),
    };
    p.note(&format!("Deleting {} removes its answers.{also}", s.id(i)));
    if !p.confirm(&format!("Delete {}?", s.id(i)), false)? {
        return Ok(());
    }
    let gone = s.draft.services.remove(i);
    s.forget_calls_to(&gone.name);
    s.fixed_replicas.remove(&gone.name);
    s.apply_default_replicas();
    p.note(&format!("Deleted {}/{}.", gone.namespace, gone.name));
    Ok(())
}
