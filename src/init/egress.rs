//! The egress questions: traffic a service sends outside the cluster, to address ranges or to a
//! host name. NetworkPolicy matches addresses, never names, so a host name is said to be
//! unmatchable and turned into the addresses the user gives, or into any address on the ports
//! (which `check` then reports); the host name is kept in the entry's reason and in a comment.

use super::{Session, answers};
use crate::diagnostic::Error;
use crate::model::Platform;
use crate::prompt::Prompter;
use crate::workspace::write::{DraftEgress, DraftService};

/// The egress of a service: the current entries, each kept or not, then new destinations.
pub fn ask_egress(
    p: &mut dyn Prompter,
    s: &Session<'_>,
    name: &str,
    current: Option<&DraftService>,
) -> Result<Vec<DraftEgress>, Error> {
    let mut kept = Vec::new();
    for e in current.map(|c| c.egress.as_slice()).unwrap_or_default() {
        if p.confirm(&format!("Keep egress {}?", egress_text(e)), true)? {
            kept.push(e.clone());
        }
    }
    let mut question =
        format!("Does {name} send traffic outside the cluster (an external API or database)?");
    while p.confirm(&question, false)? {
        kept.extend(ask_destination(p, s.draft.platform)?);
        question = format!("Does {name} send traffic to another address outside the cluster?");
    }
    Ok(kept)
}

/// One destination: its addresses (or a host name turned into addresses), ports and reason.
fn ask_destination(p: &mut dyn Prompter, platform: Platform) -> Result<Vec<DraftEgress>, Error> {
    let answer = p.input(
        "Destination: a host name such as api.stripe.com, or CIDRs (comma-separated; \
         0.0.0.0/0 for anywhere)",
        "",
        &|a| answers::destination(a).map(|_| ()),
    )?;
    let (cidrs, host) = match answers::destination(&answer)
        .map_err(|e| Error::usage(e, "a host name or CIDRs"))?
    {
        answers::Destination::Cidrs(cidrs) => (cidrs, None),
        answers::Destination::Host(host) => (ask_host_addresses(p, &host, platform)?, Some(host)),
    };
    let ports = p.input("Destination ports (comma-separated, or all)", "443", &|a| {
        answers::port_list(a).map(|_| ())
    })?;
    let ports = answers::port_list(&ports).map_err(|e| Error::usage(e, "ports"))?;
    let what = p.input("What for (shown to reviewers)", "", &answers::free_text)?;
    let reason = match (&host, what.is_empty()) {
        (Some(host), true) => host.clone(),
        (Some(host), false) => format!("{host}: {what}"),
        (None, _) => what,
    };
    let comment = host.map(|h| format!("{h}: {}", by_name(platform)));
    Ok(cidrs
        .into_iter()
        .map(|cidr| DraftEgress {
            cidr,
            ports: ports.clone(),
            reason: reason.clone(),
            comment: comment.clone(),
        })
        .collect())
}

/// What a NetworkPolicy can do for a host name on `platform`: nothing by name, and where the
/// platform's network plugin can match names, which feature does.
pub fn by_name(platform: Platform) -> &'static str {
    match platform {
        Platform::Gke => {
            "NetworkPolicy matches addresses, not names; on GKE Dataplane V2 an \
             FQDNNetworkPolicy can allow the name itself"
        }
        Platform::Aks => {
            "NetworkPolicy matches addresses, not names; on AKS with Azure CNI powered by \
             Cilium, FQDN filtering can allow the name itself"
        }
        Platform::Eks | Platform::Generic => {
            "NetworkPolicy matches addresses, not names; a network plugin that matches names \
             (Cilium toFQDNs, Calico domain policies) can allow the name itself"
        }
    }
}

/// The addresses that stand for `host`: the CIDRs the user knows it uses, or any IPv4 address.
fn ask_host_addresses(
    p: &mut dyn Prompter,
    host: &str,
    platform: Platform,
) -> Result<Vec<String>, Error> {
    p.note(&format!(
        "{host}: {}. The policy needs the addresses {host} uses (its provider often publishes \
         them), or any address on the ports you give.",
        by_name(platform)
    ));
    let items = vec![
        format!("its addresses: type the CIDRs {host} uses"),
        "any IPv4 address on these ports (check warns: egress-anywhere)".to_string(),
    ];
    if p.select(&format!("How may traffic reach {host}?"), &items, 0)? == 1 {
        return Ok(vec!["0.0.0.0/0".to_string()]);
    }
    let cidrs = p.input(
        &format!("Addresses of {host} (comma-separated CIDRs)"),
        "",
        &|a| answers::cidr_list(a).map(|_| ()),
    )?;
    answers::cidr_list(&cidrs).map_err(|e| Error::usage(e, "CIDRs"))
}

/// One egress entry in a line.
pub fn egress_text(e: &DraftEgress) -> String {
    let ports = if e.ports.is_empty() {
        "all ports".to_string()
    } else {
        let list: Vec<String> = e.ports.iter().map(u16::to_string).collect();
        format!("port {}", list.join(", "))
    };
    if e.reason.is_empty() {
        format!("to {} on {ports}", e.cidr)
    } else {
        format!("to {} on {ports} ({})", e.cidr, e.reason)
    }
}
