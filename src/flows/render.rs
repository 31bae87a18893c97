//! Render stage of flows: what reading and classifying the flows found besides the calls, in a
//! few lines for people. Pure: returns a string.

use std::fmt::Write;

use super::observe::Observations;
use super::read::Reading;
use crate::text::{clean, count, shown};

/// "Read 1,000 records from flows.json (Hubble flows) ..." and what was not a call.
pub fn summary(reading: &Reading, obs: &Observations, files: &[std::path::PathBuf]) -> String {
    let mut out = String::new();
    let sources: Vec<String> = reading
        .files
        .iter()
        .map(|(path, format)| format!("{} ({})", shown(path), format.title()))
        .collect();
    let window = match obs.window {
        (Some(f), Some(l)) => format!(", {} to {}", super::format_time(f), super::format_time(l)),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "Flows: {} from {}{window}; {} between distinct ends and ports.",
        count(reading.records as usize, "record", "records"),
        sources.join(", "),
        count(obs.calls.len(), "call", "calls"),
    );
    let mut not_calls = Vec::new();
    for (n, one, many) in [
        (obs.replies, "reply packet", "reply packets"),
        (
            obs.node,
            "record of a node (health checks, host network)",
            "records of nodes (health checks, host network)",
        ),
        (obs.dns, "DNS lookup", "DNS lookups"),
        (
            obs.api_server,
            "record with the API server",
            "records with the API server",
        ),
        (
            obs.portless,
            "record without ports (ICMP)",
            "records without ports (ICMP)",
        ),
        (
            obs.dropped,
            "record the cluster dropped",
            "records the cluster dropped",
        ),
    ] {
        if n > 0 {
            not_calls.push(count(n as usize, one, many));
        }
    }
    for (what, seen) in &obs.other {
        not_calls.push(format!(
            "{} with {}",
            count(seen.count as usize, "record", "records"),
            clean(what)
        ));
    }
    if !not_calls.is_empty() {
        let _ = writeln!(out, "Not calls, not judged: {}.", not_calls.join(", "));
    }
    if reading.bad > 0 {
        let first = reading
            .first_bad
            .as_ref()
            .map(|(at, why)| {
                format!(
                    " (the first: {}:{}: {})",
                    files.get(at.file).map(|p| shown(p)).unwrap_or_default(),
                    at.line,
                    clean(why)
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "warning: {} skipped{first}.",
            count(reading.bad as usize, "bad line", "bad lines")
        );
    }
    if reading.lost > 0 {
        let _ = writeln!(
            out,
            "warning: Hubble lost {} events: the flows are incomplete, and traffic that only the lost events showed is missing from these results.",
            reading.lost
        );
    }
    out
}
