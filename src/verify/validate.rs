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
use crate::verify::manifest::{ContainerPort, Labels, Peer, PortRule, Requirement, Rule, Selector};
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
