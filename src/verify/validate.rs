//! Validate stage of `verify`: the objects of [`raw`](super::raw) checked as the API server
//! validates them on create, then reduced with its defaulting to the
//! [`manifest`](super::manifest) types that later stages trust.
//!
//! The API server is the specification: an object it would refuse is refused here (exit 2,
//! with file and line), since the cluster would never hold it, and every field takes the
//! meaning the server gives it after defaulting (`SetDefaults_NetworkPolicy`): a port without a
//! protocol is TCP; `policyTypes` absent, `null` or empty is `[Ingress]`, plus `Egress` when
//! the egress list has entries; a missing or empty `from`/`to`/`ports` matches everything; an
//! absent `podSelector` is the empty one, which selects every pod of the namespace. Pure
//! functions; problems are located through [`At`].

use std::collections::BTreeSet;

use ipnet::IpNet;

use crate::diagnostic::{Code, Problem};
use crate::model::Protocol;
use crate::names;
use crate::verify::manifest::{
    Action, AdminPolicy, AdminPort, AdminRule, ContainerPort, Direction, Labels, Peer, PodSet,
    PortRule, Requirement, Rule, Selector,
};
use crate::verify::raw::{self, IntOrString, LabelMap, Meta, Text};
use crate::verify::read::At;
use crate::verify::sets::AddrSet;

/// A problem, boxed: `Problem` is large and errors are rare.
pub type Result<T> = std::result::Result<T, Box<Problem>>;

/// The naming rule of an object's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// An RFC 1123 subdomain: most objects.
    Subdomain,
    /// An RFC 1123 label: a Namespace.
    Label,
    /// An RFC 1035 label: a Service.
    Service,
}

/// The object's `metadata.name`, which must be there and follow `rule`.
pub fn name(at: &At<'_>, meta: &Meta, rule: NameRule) -> Result<String> {
    let Some(name) = meta.name.as_ref().map(Text::as_str) else {
        let help = if meta.namespace.is_some() || meta.labels.is_some() {
            "every object needs metadata.name (generateName is not read: give the name)"
        } else {
            "every object needs metadata.name"
        };
        return Err(Box::new(
            at.problem(
                Code::MissingKey,
                at.head(),
                "the object has no metadata.name",
            )
            .help(help),
        ));
    };
    let checked = match rule {
        NameRule::Subdomain => names::dns1123_subdomain(name),
        NameRule::Label => names::dns1123_label(name),
        NameRule::Service => names::dns1035_label(name),
    };
    checked.map_err(|why| {
        Box::new(
            at.problem(
                Code::InvalidName,
                at.find(name),
                format!("metadata.name {name:?} is refused by the API server: {why}"),
            )
            .help("rename the object"),
        )
    })?;
    Ok(name.to_string())
}

/// The object's namespace: `metadata.namespace`, else `default` (the namespace objects
/// without one are applied to, `-n` on the command line).
pub fn namespace(at: &At<'_>, meta: &Meta, default: &str) -> Result<String> {
    let Some(ns) = meta.namespace.as_ref().map(Text::as_str) else {
        return Ok(default.to_string());
    };
    // An empty namespace is the same as none, as kubectl reads it.
    if ns.is_empty() {
        return Ok(default.to_string());
    }
    names::dns1123_label(ns).map_err(|why| {
        Box::new(
            at.problem(
                Code::InvalidName,
                at.find(ns),
                format!("metadata.namespace {ns:?} is not a valid namespace: {why}"),
            )
            .help("a namespace is a DNS label: lowercase letters, digits and '-'"),
        )
    })?;
    Ok(ns.to_string())
}

/// The controller of an object (its `ownerReferences` entry with `controller: true`) as
/// (kind, name); every entry must name the owner's apiVersion, kind, name and uid, as the API
/// server requires, and at most one may be the controller.
pub fn controller(at: &At<'_>, meta: &Meta) -> Result<Option<(String, String)>> {
    let mut found = None;
    for owner in meta.owner_references.iter().flatten().flatten() {
        fn field(value: &Option<Text>) -> Option<&str> {
            value.as_ref().map(Text::as_str).filter(|v| !v.is_empty())
        }
        let (Some(_), Some(kind), Some(name), Some(_)) = (
            field(&owner.api_version),
            field(&owner.kind),
            field(&owner.name),
            field(&owner.uid),
        ) else {
            return Err(Box::new(
                at.problem(
                    Code::MissingKey,
                    at.find("ownerReferences"),
                    "an ownerReferences entry lacks apiVersion, kind, name or uid, which the API server requires",
                )
                .help("copy owner references from the cluster as they are, or leave them out"),
            ));
        };
        if owner.controller == Some(true) {
            if found.is_some() {
                return Err(Box::new(
                    at.problem(
                        Code::Duplicate,
                        at.find("controller: true"),
                        "two ownerReferences entries are the controller",
                    )
                    .help("an object has at most one controller"),
                ));
            }
            found = Some((kind.to_string(), name.to_string()));
        }
    }
    Ok(found)
}

/// A label map (labels, `matchLabels`, a Service's selector) with valid keys and values.
pub fn labels(at: &At<'_>, map: Option<LabelMap>, what: &str) -> Result<Labels> {
    let map = map.map(|m| m.0).unwrap_or_default();
    for (key, value) in &map {
        label_key(at, key, what)?;
        label_value(at, value, what)?;
    }
    Ok(map)
}

fn label_key(at: &At<'_>, key: &str, what: &str) -> Result<()> {
    names::label_key(key).map_err(|why| {
        Box::new(
            at.problem(
                Code::InvalidName,
                at.find(key),
                format!("{what}: the label key {key:?} is refused by the API server: {why}"),
            )
            .help("a label key is an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.'"),
        )
    })
}

fn label_value(at: &At<'_>, value: &str, what: &str) -> Result<()> {
    names::label_value_or_empty(value).map_err(|why| {
        Box::new(
            at.problem(
                Code::InvalidValue,
                at.find(value),
                format!("{what}: the label value {value:?} is refused by the API server: {why}"),
            )
            .help("a label value is empty or up to 63 letters, digits, '-', '_' or '.'"),
        )
    })
}

/// A label selector; `None` (absent or `null`) is the empty selector.
pub fn selector(at: &At<'_>, selector: Option<raw::LabelSelector>, what: &str) -> Result<Selector> {
    let mut requirements = Vec::new();
    let Some(selector) = selector else {
        return Ok(Selector { requirements });
    };
    for (key, value) in labels(at, selector.match_labels, what)? {
        requirements.push(Requirement::In(key, vec![value]));
    }
    for expr in raw::entries(selector.match_expressions)
        .into_iter()
        .flatten()
    {
        let Some(key) = expr.key.map(|t| t.0) else {
            return Err(Box::new(
                at.problem(
                    Code::MissingKey,
                    at.find("matchExpressions"),
                    format!("{what}: a matchExpressions entry has no key"),
                )
                .help("each expression names a label key"),
            ));
        };
        label_key(at, &key, what)?;
        let operator = expr.operator.map(|t| t.0).unwrap_or_default();
        let values: Vec<String> = expr.values.into_iter().flatten().map(|t| t.0).collect();
        for value in &values {
            label_value(at, value, what)?;
        }
        let requirement = match operator.as_str() {
            "In" | "NotIn" if values.is_empty() => {
                return Err(Box::new(
                    at.problem(
                        Code::InvalidValue,
                        at.find(&operator),
                        format!("{what}: operator {operator} on {key:?} needs at least one value"),
                    )
                    .help("list the values, or use Exists/DoesNotExist"),
                ));
            }
            "Exists" | "DoesNotExist" if !values.is_empty() => {
                return Err(Box::new(
                    at.problem(
                        Code::InvalidValue,
                        at.find(&operator),
                        format!("{what}: operator {operator} on {key:?} takes no values"),
                    )
                    .help("remove `values`, or use In/NotIn"),
                ));
            }
            "In" => Requirement::In(key, values),
            "NotIn" => Requirement::NotIn(key, values),
            "Exists" => Requirement::Exists(key),
            "DoesNotExist" => Requirement::DoesNotExist(key),
            other => {
                let needle = if other.is_empty() {
                    "matchExpressions"
                } else {
                    other
                };
                return Err(Box::new(
                    at.problem(
                        Code::InvalidValue,
                        at.find(needle),
                        format!("{what}: unknown selector operator {other:?}"),
                    )
                    .help("use In, NotIn, Exists or DoesNotExist"),
                ));
            }
        };
        requirements.push(requirement);
    }
    Ok(Selector { requirements })
}

/// A protocol; absent is TCP.
pub fn protocol(at: &At<'_>, text: Option<&Text>) -> Result<Protocol> {
    match text.map(Text::as_str) {
        None | Some("TCP") => Ok(Protocol::Tcp),
        Some("UDP") => Ok(Protocol::Udp),
        Some("SCTP") => Ok(Protocol::Sctp),
        Some(other) => Err(Box::new(
            at.problem(
                Code::InvalidValue,
                at.find(other),
                format!("unknown protocol {other:?}"),
            )
            .help("use TCP, UDP or SCTP (upper case)"),
        )),
    }
}

/// The ports of every container of a pod spec, sorted; names must be valid and unique in the
/// pod, as the API server requires.
pub fn container_ports(
    at: &At<'_>,
    spec: Option<&raw::PodSpec>,
    id: &str,
) -> Result<Vec<ContainerPort>> {
    let mut ports = Vec::new();
    let mut names_seen = BTreeSet::new();
    let containers = spec.and_then(|s| s.containers.as_ref());
    for container in containers.into_iter().flatten().flatten() {
        for p in container.ports.iter().flatten().flatten() {
            let Some(number) = p.container_port else {
                return Err(Box::new(
                    at.problem(
                        Code::MissingKey,
                        at.find("ports"),
                        format!("{id}: a container port has no containerPort"),
                    )
                    .help("each entry of `ports` needs containerPort"),
                ));
            };
            let port = names::port(number).ok_or_else(|| {
                at.problem(
                    Code::InvalidPort,
                    at.find(&format!("containerPort: {number}")),
                    format!("{id}: containerPort {number} is outside 1..65535"),
                )
            })?;
            let protocol = protocol(at, p.protocol.as_ref())?;
            let name = p.name.as_ref().map(|t| t.0.clone());
            if let Some(name) = &name {
                names::port_name(name).map_err(|why| {
                    at.problem(
                        Code::InvalidName,
                        at.find(name),
                        format!("{id}: the container port name {name:?} is refused by the API server: {why}"),
                    )
                })?;
                if !names_seen.insert(name.clone()) {
                    return Err(Box::new(
                        at.problem(
                            Code::Duplicate,
                            at.find(name),
                            format!("{id}: two container ports are named {name:?}"),
                        )
                        .help("port names must be unique in a pod"),
                    ));
                }
            }
            ports.push(ContainerPort {
                port,
                protocol,
                name,
            });
        }
    }
    ports.sort();
    ports.dedup();
    Ok(ports)
}

/// The policy types in effect after defaulting: (ingress, egress).
pub fn policy_types(
    at: &At<'_>,
    types: Option<Vec<Text>>,
    egress_given: bool,
    id: &str,
) -> Result<(bool, bool)> {
    let types = types.unwrap_or_default();
    if types.len() > 2 {
        return Err(Box::new(
            at.problem(
                Code::InvalidValue,
                at.find("policyTypes"),
                format!(
                    "NetworkPolicy {id}: policyTypes lists {} entries",
                    types.len()
                ),
            )
            .help("policyTypes lists Ingress and/or Egress, at most two entries"),
        ));
    }
    for t in &types {
        if t.as_str() != "Ingress" && t.as_str() != "Egress" {
            return Err(Box::new(
                at.problem(
                    Code::InvalidValue,
                    at.find(t.as_str()),
                    format!("NetworkPolicy {id}: unknown policyType {:?}", t.as_str()),
                )
                .help("policyTypes lists Ingress and/or Egress"),
            ));
        }
    }
    // SetDefaults_NetworkPolicy: an absent or empty list means Ingress, and Egress when the
    // policy has egress rules.
    if types.is_empty() {
        return Ok((true, egress_given));
    }
    Ok((
        types.iter().any(|t| t.as_str() == "Ingress"),
        types.iter().any(|t| t.as_str() == "Egress"),
    ))
}

/// One rule; missing or empty peers and ports match everything.
pub fn rule(
    at: &At<'_>,
    peers: raw::List<raw::Peer>,
    ports: raw::List<raw::PolicyPort>,
    line: usize,
) -> Result<Rule> {
    let peers = match raw::entries(peers) {
        Some(list) if !list.is_empty() => Some(
            list.into_iter()
                .map(|p| peer(at, p))
                .collect::<Result<Vec<_>>>()?,
        ),
        _ => None,
    };
    let ports = match raw::entries(ports) {
        Some(list) if !list.is_empty() => Some(
            list.into_iter()
                .map(|p| port_rule(at, p))
                .collect::<Result<Vec<_>>>()?,
        ),
        _ => None,
    };
    Ok(Rule { peers, ports, line })
}

fn peer(at: &At<'_>, peer: raw::Peer) -> Result<Peer> {
    match peer {
        raw::Peer {
            ip_block: Some(block),
            namespace_selector: None,
            pod_selector: None,
        } => ip_block(at, block),
        raw::Peer {
            ip_block: Some(_), ..
        } => Err(Box::new(
            at.problem(
                Code::InvalidValue,
                at.find("ipBlock"),
                "a peer with ipBlock cannot also have podSelector or namespaceSelector",
            )
            .help("split it into two peers"),
        )),
        raw::Peer {
            ip_block: None,
            namespace_selector: None,
            pod_selector: None,
        } => Err(Box::new(
            at.problem(
                Code::MissingKey,
                at.head(),
                "a peer needs podSelector, namespaceSelector or ipBlock",
            )
            .help("an empty peer `{}` is refused by the API server; leave out `from`/`to` to match everything"),
        )),
        raw::Peer {
            ip_block: None,
            namespace_selector,
            pod_selector,
        } => Ok(Peer::Pods {
            namespaces: namespace_selector
                .map(|s| selector(at, Some(s), "namespaceSelector"))
                .transpose()?,
            pods: pod_selector
                .map(|s| selector(at, Some(s), "podSelector"))
                .transpose()?,
        }),
    }
}

fn ip_block(at: &At<'_>, block: raw::IpBlock) -> Result<Peer> {
    let Some(text) = block.cidr else {
        return Err(Box::new(
            at.problem(
                Code::MissingKey,
                at.find("ipBlock"),
                "an ipBlock has no cidr",
            )
            .help("write the address range, like 10.0.0.0/16"),
        ));
    };
    let cidr = parse_cidr(at, text.as_str())?;
    let mut set = AddrSet::net(&cidr);
    for except in block.except.into_iter().flatten() {
        let e = parse_cidr(at, except.as_str())?;
        // The API server: the except block's address lies in the cidr and its prefix is longer.
        let inside = match (cidr, e) {
            (IpNet::V4(c), IpNet::V4(x)) => {
                c.contains(&x.network()) && c.prefix_len() < x.prefix_len()
            }
            (IpNet::V6(c), IpNet::V6(x)) => {
                c.contains(&x.network()) && c.prefix_len() < x.prefix_len()
            }
            _ => false,
        };
        if !inside {
            return Err(Box::new(
                at.problem(
                    Code::InvalidCidr,
                    at.find(except.as_str()),
                    format!(
                        "except {} is not strictly inside {}",
                        except.as_str(),
                        text.as_str()
                    ),
                )
                .help("an except block must be a proper sub-range of the ipBlock cidr"),
            ));
        }
        set = set.difference(&AddrSet::net(&e));
    }
    Ok(Peer::Block { cidr, allowed: set })
}

fn parse_cidr(at: &At<'_>, text: &str) -> Result<IpNet> {
    let net: IpNet = text.parse().map_err(|_| {
        at.problem(
            Code::InvalidCidr,
            at.find(text),
            format!("{text:?} is not a CIDR block"),
        )
        .help("write an address and a prefix length, like 10.0.0.0/16 or 2001:db8::/32")
    })?;
    // Host bits are allowed and ignored, as by Go's net.ParseCIDR.
    Ok(net.trunc())
}

fn port_rule(at: &At<'_>, port: raw::PolicyPort) -> Result<PortRule> {
    let protocol = protocol(at, port.protocol.as_ref())?;
    let bad = |needle: String, message: String, help: &str| {
        Box::new(
            at.problem(Code::InvalidPort, at.find(&needle), message)
                .help(help.to_string()),
        )
    };
    match (port.port, port.end_port) {
        (None, None) => Ok(PortRule::All(protocol)),
        (None, Some(end)) => Err(bad(
            "endPort".into(),
            format!("endPort {end} without a port"),
            "give `port`, the first port of the range",
        )),
        (Some(IntOrString::String(name)), end) => {
            if let Err(why) = names::port_name(&name) {
                let help = if name.parse::<u16>().is_ok() {
                    "a port number is written without quotes: the API server refuses a numeric string, which would be a port name"
                } else {
                    "a named port is a container port's name: up to 15 lowercase letters, digits and '-'"
                };
                return Err(bad(
                    name.clone(),
                    format!("port {name:?} is not a valid port name: {why}"),
                    help,
                ));
            }
            if end.is_some() {
                return Err(bad(
                    "endPort".into(),
                    format!("endPort needs a numeric port, not the name {name:?}"),
                    "use a port number with endPort, or leave endPort out",
                ));
            }
            Ok(PortRule::Named(protocol, name))
        }
        (Some(IntOrString::Int(n)), end) => {
            let lo = names::port(n).ok_or_else(|| {
                bad(
                    format!("port: {n}"),
                    format!("port {n} is outside 1..65535"),
                    "use a port number from 1 to 65535",
                )
            })?;
            let hi = match end {
                None => lo,
                Some(e) => u16::try_from(e).ok().filter(|p| *p >= lo).ok_or_else(|| {
                    bad(
                        "endPort".into(),
                        format!("endPort {e} must be between port {lo} and 65535"),
                        "endPort is the last port of the range",
                    )
                })?,
            };
            Ok(PortRule::Range(protocol, lo, hi))
        }
    }
}

/// The rules of a direction of an admin policy, at most this many.
const MAX_ADMIN_RULES: usize = 100;

/// An AdminNetworkPolicy (`baseline` false) or the BaselineAdminNetworkPolicy, validated as
/// its CustomResourceDefinition's schema and rules require: a priority from 0 to 1000 (admin
/// only), exactly one subject, at most 100 rules a direction, each with an action, one to 100
/// peers (each of exactly one kind) and ports of exactly one form.
pub fn admin_policy(
    at: &At<'_>,
    name: String,
    spec: raw::AdminSpec,
    baseline: bool,
    lines: (&[usize], &[usize]),
    origin: crate::verify::manifest::Origin,
) -> Result<AdminPolicy> {
    let what = if baseline {
        "BaselineAdminNetworkPolicy"
    } else {
        "AdminNetworkPolicy"
    };
    let invalid = |needle: &str, message: String, help: &str| {
        Box::new(
            at.problem(
                Code::InvalidValue,
                at.find(needle),
                format!("{what} {name}: {message}"),
            )
            .help(help.to_string()),
        )
    };
    let priority = match (baseline, spec.priority) {
        (true, None) => None,
        (true, Some(_)) => {
            return Err(invalid(
                "priority",
                "a baseline policy has no priority".into(),
                "remove `priority`: the baseline policy always comes after NetworkPolicies",
            ));
        }
        (false, None) => {
            return Err(invalid(
                "spec",
                "spec.priority is required".into(),
                "give a priority from 0 (first) to 1000",
            ));
        }
        (false, Some(p)) => Some(u32::try_from(p).ok().filter(|p| *p <= 1000).ok_or_else(
            || {
                invalid(
                    "priority",
                    format!("priority {p} is outside 0..1000"),
                    "give a priority from 0 (first) to 1000",
                )
            },
        )?),
    };
    let subject = match spec.subject {
        Some(raw::AdminSubject {
            namespaces: Some(ns),
            pods: None,
        }) => PodSet {
            namespaces: selector(at, Some(ns), "subject.namespaces")?,
            pods: None,
        },
        Some(raw::AdminSubject {
            namespaces: None,
            pods: Some(pods),
        }) => namespaced_pods(at, pods, "subject.pods")?,
        _ => {
            return Err(invalid(
                "subject",
                "the subject must set exactly one of `namespaces` and `pods`".into(),
                "select the pods the policy applies to with one of the two",
            ));
        }
    };
    let mut directions = Vec::new();
    for (direction, rules, rule_lines) in [
        (Direction::Ingress, spec.ingress, lines.0),
        (Direction::Egress, spec.egress, lines.1),
    ] {
        let rules = raw::entries(rules).unwrap_or_default();
        if rules.len() > MAX_ADMIN_RULES {
            return Err(invalid(
                direction.as_str(),
                format!(
                    "{} {} rules, at most {MAX_ADMIN_RULES} are allowed",
                    rules.len(),
                    direction.as_str()
                ),
                "split the policy",
            ));
        }
        let mut out = Vec::new();
        for (n, rule) in rules.into_iter().enumerate() {
            let line = rule_lines.get(n).copied().unwrap_or(origin.line);
            out.push(admin_rule(at, rule, direction, baseline, line, &invalid)?);
        }
        directions.push(out);
    }
    let egress = directions.pop().unwrap_or_default();
    let ingress = directions.pop().unwrap_or_default();
    Ok(AdminPolicy {
        name,
        priority,
        subject,
        ingress,
        egress,
        origin,
    })
}

fn namespaced_pods(at: &At<'_>, pods: raw::NamespacedPod, what: &str) -> Result<PodSet> {
    let (Some(ns), Some(p)) = (pods.namespace_selector, pods.pod_selector) else {
        return Err(Box::new(
            at.problem(
                Code::MissingKey,
                at.find("pods"),
                format!("{what}: `pods` needs both namespaceSelector and podSelector"),
            )
            .help("write `namespaceSelector: {}` for every namespace"),
        ));
    };
    Ok(PodSet {
        namespaces: selector(at, Some(ns), what)?,
        pods: Some(selector(at, Some(p), what)?),
    })
}

/// What an admin rule's ingress or egress peers select: pods, address blocks, and whether
/// nodes are among them.
struct AdminPeers {
    pods: Vec<PodSet>,
    networks: AddrSet,
    nodes: bool,
}

/// The error for an invalid part of an admin policy: the text to point at, what is wrong,
/// how to fix it.
type Invalid<'a> = &'a dyn Fn(&str, String, &str) -> Box<Problem>;

fn admin_rule(
    at: &At<'_>,
    rule: raw::AdminRule,
    direction: Direction,
    baseline: bool,
    line: usize,
    invalid: Invalid<'_>,
) -> Result<AdminRule> {
    let name = rule.name.map(|t| t.0).unwrap_or_default();
    if name.chars().count() > 100 {
        return Err(invalid(
            &name,
            "a rule name has at most 100 characters".into(),
            "shorten it",
        ));
    }
    let action = admin_action(
        rule.action.as_ref().map(Text::as_str),
        &name,
        baseline,
        invalid,
    )?;
    let (peers, other) = match direction {
        Direction::Ingress => (rule.from, rule.to),
        Direction::Egress => (rule.to, rule.from),
    };
    let key = if direction == Direction::Ingress {
        "from"
    } else {
        "to"
    };
    if other.is_some() {
        return Err(invalid(
            if key == "from" { "to" } else { "from" },
            format!(
                "rule {name:?}: an {} rule has `{key}`, not the other",
                direction.as_str()
            ),
            "ingress rules list `from`, egress rules `to`",
        ));
    }
    let peers = raw::entries(peers).unwrap_or_default();
    if peers.is_empty() || peers.len() > 100 {
        return Err(invalid(
            key,
            format!(
                "rule {name:?}: `{key}` lists 1 to 100 peers, not {}",
                peers.len()
            ),
            "name the peers the rule is about",
        ));
    }
    let AdminPeers {
        pods,
        networks,
        nodes,
    } = admin_peers(at, peers, &name, direction, invalid)?;
    let ports = match raw::entries(rule.ports) {
        None => None,
        Some(list) if list.is_empty() || list.len() > 100 => {
            return Err(invalid(
                "ports",
                format!(
                    "rule {name:?}: `ports` lists 1 to 100 entries, not {}",
                    list.len()
                ),
                "leave `ports` out to match every port",
            ));
        }
        Some(list) => Some(
            list.into_iter()
                .map(|p| admin_port(at, p, &name, invalid))
                .collect::<Result<Vec<_>>>()?,
        ),
    };
    Ok(AdminRule {
        name,
        action,
        pods,
        networks,
        nodes,
        ports,
        line,
    })
}

/// An admin rule's action: Allow, Deny, or (not in the baseline) Pass.
fn admin_action(
    action: Option<&str>,
    name: &str,
    baseline: bool,
    invalid: Invalid<'_>,
) -> Result<Action> {
    match action {
        Some("Allow") => Ok(Action::Allow),
        Some("Deny") => Ok(Action::Deny),
        Some("Pass") if !baseline => Ok(Action::Pass),
        other => {
            let (allowed, give) = if baseline {
                ("Allow or Deny", "Allow` or `Deny")
            } else {
                ("Allow, Deny or Pass", "Allow`, `Deny` or `Pass")
            };
            Err(invalid(
                other.unwrap_or("action"),
                format!(
                    "rule {name:?}: the action {:?} is not {allowed}",
                    other.unwrap_or("")
                ),
                &format!("give `action: {give}`"),
            ))
        }
    }
}

/// An admin rule's peers: each sets exactly one of namespaces, pods, and (egress only) nodes
/// or networks.
fn admin_peers(
    at: &At<'_>,
    peers: Vec<raw::AdminPeer>,
    name: &str,
    direction: Direction,
    invalid: Invalid<'_>,
) -> Result<AdminPeers> {
    let key = if direction == Direction::Ingress {
        "from"
    } else {
        "to"
    };
    let egress = direction == Direction::Egress;
    let mut out = AdminPeers {
        pods: Vec::new(),
        networks: AddrSet::none(),
        nodes: false,
    };
    for peer in peers {
        match (peer.namespaces, peer.pods, peer.nodes, peer.networks) {
            (Some(ns), None, None, None) => out.pods.push(PodSet {
                namespaces: selector(at, Some(ns), key)?,
                pods: None,
            }),
            (None, Some(p), None, None) => out.pods.push(namespaced_pods(at, p, key)?),
            // Nodes are not among the inputs: a node peer matches no pod and no address
            // verify knows of. The reader names the policy in a warning.
            (None, None, Some(_), None) if egress => out.nodes = true,
            (None, None, None, Some(blocks)) if egress => {
                if blocks.is_empty() || blocks.len() > 25 {
                    return Err(invalid(
                        "networks",
                        format!(
                            "rule {name:?}: `networks` lists 1 to 25 blocks, not {}",
                            blocks.len()
                        ),
                        "list the address blocks",
                    ));
                }
                for block in blocks {
                    out.networks.insert_net(&parse_cidr(at, block.as_str())?);
                }
            }
            _ => {
                let kinds = if egress {
                    "`namespaces`, `pods`, `nodes` or `networks`"
                } else {
                    "`namespaces` or `pods`"
                };
                return Err(invalid(
                    key,
                    format!("rule {name:?}: each peer sets exactly one of {kinds}"),
                    "split the peer in two",
                ));
            }
        }
    }
    Ok(out)
}

fn admin_port(
    at: &At<'_>,
    port: raw::AdminPort,
    rule: &str,
    invalid: Invalid<'_>,
) -> Result<AdminPort> {
    let number = |n: Option<i64>, what: &str| {
        n.and_then(names::port).ok_or_else(|| {
            invalid(
                what,
                format!("rule {rule:?}: {what} must be a port from 1 to 65535"),
                "give a port number",
            )
        })
    };
    match port {
        raw::AdminPort {
            port_number: Some(p),
            named_port: None,
            port_range: None,
        } => {
            let protocol = protocol(at, p.protocol.as_ref())?;
            let n = number(p.port, "port")?;
            Ok(AdminPort::Range(protocol, n, n))
        }
        raw::AdminPort {
            port_number: None,
            named_port: Some(name),
            port_range: None,
        } => {
            names::port_name(name.as_str()).map_err(|why| {
                invalid(
                    name.as_str(),
                    format!("rule {rule:?}: namedPort {:?}: {why}", name.as_str()),
                    "name a container port",
                )
            })?;
            Ok(AdminPort::Named(name.0))
        }
        raw::AdminPort {
            port_number: None,
            named_port: None,
            port_range: Some(r),
        } => {
            let protocol = protocol(at, r.protocol.as_ref())?;
            let (start, end) = (number(r.start, "start")?, number(r.end, "end")?);
            // The schema: "the End value must be greater than Start".
            if start >= end {
                return Err(invalid(
                    "start",
                    format!("rule {rule:?}: the port range {start}-{end} must end above its start"),
                    "start is the first port of the range, end a greater one (use portNumber for one port)",
                ));
            }
            Ok(AdminPort::Range(protocol, start, end))
        }
        _ => Err(invalid(
            "ports",
            format!(
                "rule {rule:?}: each port sets exactly one of portNumber, namedPort and portRange"
            ),
            "split the entry",
        )),
    }
}
