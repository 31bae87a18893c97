//! Analyse stage: the service addresses a caller's container receives as environment
//! variables, one per declared call and callee port, so that the generated layout is wired and
//! not only allowed. Pure: validation uses it to refuse names that would collide, the render
//! stage to write them.
//!
//! Naming, from the callee's name and port names upper-cased with every `-` turned into `_`:
//!
//! - a call that may use one port: `<CALLEE>_ADDR` (`users-api` → `USERS_API_ADDR`);
//! - a call that may use several ports (the callee has several, and the call is not restricted
//!   to one): one variable per port, `<CALLEE>_<PORT>_ADDR` (`USERS_API_METRICS_ADDR`);
//! - when one caller calls two services of the same name (in two namespaces), or two of its
//!   calls would get the same variable (`a-b` with port `c` beside `a-b-c`), every variable of
//!   those calls is qualified with the callee's namespace: `<NAMESPACE>_<CALLEE>[_<PORT>]_ADDR`;
//! - a name that would start with a digit (a namespace such as `2fa`) gets a leading `_`.
//!
//! If qualified names still collide, [`env_vars`] reports the clash; validation turns it into an
//! error. The value is `<callee>.<namespace>.svc.<cluster-domain>:<service port>`: the Service,
//! never a pod, as the source article advises.

use std::collections::BTreeMap;

use crate::model::{Call, Port, Service, ServiceId};

/// One environment variable of a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    /// The variable name: upper case, digits and `_`.
    pub name: String,
    /// `host:port` of the callee's Service.
    pub value: String,
    /// The callee.
    pub to: ServiceId,
    /// The callee port's name.
    pub port: String,
}

/// Two calls of one caller whose variables would share a name, even when qualified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    /// The variable name.
    pub name: String,
    /// The two calls, by index in the caller's `calls`.
    pub calls: (usize, usize),
}

/// One variable name of a call: the name, the call's index in the caller's `calls`, the
/// callee and its port.
type Named<'a> = (String, usize, &'a Service, &'a Port);

/// The variables of `caller`, sorted by name, and any clash left after qualifying. `lookup`
/// finds a callee by id; calls whose callee it does not find are skipped.
pub fn env_vars<'a>(
    caller: &'a Service,
    lookup: impl Fn(&ServiceId) -> Option<&'a Service>,
    cluster_domain: &str,
) -> (Vec<EnvVar>, Vec<Clash>) {
    let (vars, clashes) = names(caller, lookup);
    let mut out: Vec<EnvVar> = vars
        .into_iter()
        .map(|(name, _, callee, port)| EnvVar {
            name,
            // The fully qualified name fails closed: with a wrong cluster domain the lookup
            // fails, where a short name (`api.users`) would go through the resolver's search
            // list and could answer with some other host.
            value: format!(
                "{}.{}.svc.{cluster_domain}:{}",
                callee.id.name, callee.id.namespace, port.port
            ),
            to: callee.id.clone(),
            port: port.name.clone(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    (out, clashes)
}

/// The clashes of [`env_vars`] alone, without building the variables: what validation asks.
pub fn clashes<'a>(
    caller: &'a Service,
    lookup: impl Fn(&ServiceId) -> Option<&'a Service>,
) -> Vec<Clash> {
    names(caller, lookup).1
}

/// The variable names of `caller`'s calls after qualifying, in call and port order, and the
/// clashes left.
fn names<'a>(
    caller: &'a Service,
    lookup: impl Fn(&ServiceId) -> Option<&'a Service>,
) -> (Vec<Named<'a>>, Vec<Clash>) {
    let calls: Vec<(usize, &Call, &Service)> = caller
        .calls
        .iter()
        .enumerate()
        .filter_map(|(i, call)| lookup(&call.to).map(|callee| (i, call, callee)))
        .collect();
    let named = |qualified: &[bool]| -> Vec<Named<'a>> {
        let mut out = Vec::new();
        for (&(i, call, callee), &qualify) in calls.iter().zip(qualified) {
            let several = call.ports_of(callee).nth(1).is_some();
            for port in call.ports_of(callee) {
                out.push((name(callee, port, several, qualify), i, callee, port));
            }
        }
        out
    };
    // First pass: short names; callees that share a name, and the calls that take part in a
    // collision, get qualified.
    let short = named(&vec![false; calls.len()]);
    let mut qualified: Vec<bool> = calls
        .iter()
        .map(|(_, _, callee)| {
            calls
                .iter()
                .filter(|(_, _, other)| other.id.name == callee.id.name)
                .count()
                > 1
        })
        .collect();
    for (_, (a, b)) in collisions(&short) {
        for (pos, (i, _, _)) in calls.iter().enumerate() {
            if *i == a || *i == b {
                qualified[pos] = true;
            }
        }
    }
    // Nearly always nothing needs qualifying: the short names are the names.
    let vars = if qualified.contains(&true) {
        named(&qualified)
    } else {
        short
    };
    let clashes = collisions(&vars)
        .into_iter()
        .map(|(name, calls)| Clash { name, calls })
        .collect();
    (vars, clashes)
}

/// Each name used by two different calls, with the first two such calls.
fn collisions(vars: &[Named<'_>]) -> Vec<(String, (usize, usize))> {
    // The common case first: no name repeats (one sort, no map).
    let mut sorted: Vec<&str> = vars.iter().map(|v| v.0.as_str()).collect();
    sorted.sort_unstable();
    if sorted.windows(2).all(|w| w[0] != w[1]) {
        return Vec::new();
    }
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (name, call, _, _) in vars {
        match first.get(name.as_str()) {
            Some(&other) if other != *call => out.push((name.clone(), (other, *call))),
            Some(_) => {}
            None => {
                first.insert(name, *call);
            }
        }
    }
    out
}

fn name(callee: &Service, port: &Port, with_port: bool, qualify: bool) -> String {
    let mut name = String::with_capacity(
        callee.id.namespace.len() + callee.id.name.len() + port.name.len() + 8,
    );
    let mut first = true;
    let mut part = |text: &str| {
        if !std::mem::take(&mut first) {
            name.push('_');
        }
        name.extend(text.chars().map(|c| match c {
            '-' => '_',
            c => c.to_ascii_uppercase(),
        }));
    };
    if qualify {
        part(&callee.id.namespace);
    }
    part(&callee.id.name);
    if with_port {
        part(&port.name);
    }
    part("addr");
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}
