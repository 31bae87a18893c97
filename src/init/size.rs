//! The size question: CPU and memory requests and limits, as a preset, as the file has them, or
//! typed one by one.

use super::answers;
use crate::diagnostic::Error;
use crate::prompt::Prompter;
use crate::workspace::write::{DraftResources, DraftService};

/// Size presets. Each keeps the CPU limit within twice the request (the `cpu-limit-ratio`
/// guardrail allows four times) and writes memory in Mi/Gi, never in millibytes.
pub const SIZES: [(&str, [&str; 4]); 3] = [
    ("small", ["250m", "256Mi", "500m", "512Mi"]),
    ("medium", ["500m", "512Mi", "1", "1Gi"]),
    ("large", ["1", "2Gi", "2", "4Gi"]),
];

/// The preset a service's resources match, if any.
pub fn size_name(r: &DraftResources) -> Option<&'static str> {
    SIZES.iter().find(|(_, q)| preset(q) == *r).map(|(n, _)| *n)
}

fn preset(q: &[&str; 4]) -> DraftResources {
    DraftResources::new(q[0], q[1], q[2], q[3])
}

pub fn ask_size(
    p: &mut dyn Prompter,
    name: &str,
    current: Option<&DraftService>,
) -> Result<DraftResources, Error> {
    // Resources the file leaves partly or wholly unset are offered as they are, first: Enter
    // must not add limits nobody asked for.
    let partial = current.map(|c| &c.resources).filter(|r| !r.is_complete());
    let mut items: Vec<String> = partial.map(as_written).into_iter().collect();
    let presets = items.len();
    items.extend(SIZES.iter().map(|(n, q)| {
        format!(
            "{n}: requests {} CPU, {} memory; limits {}, {}",
            q[0], q[1], q[2], q[3]
        )
    }));
    items.push("custom: type the four values".to_string());
    let complete = current.map(|c| &c.resources).filter(|r| r.is_complete());
    let default = match complete {
        None => 0,
        Some(r) => {
            presets
                + size_name(r)
                    .and_then(|n| SIZES.iter().position(|(s, _)| *s == n))
                    .unwrap_or(SIZES.len())
        }
    };
    let pick = p.select(&format!("Size of {name} (CPU and memory)"), &items, default)?;
    if let Some(r) = partial.filter(|_| pick == 0) {
        return Ok(r.clone());
    }
    if let Some((_, q)) = SIZES.get(pick - presets) {
        return Ok(preset(q));
    }
    let start = complete.map_or_else(|| preset(&SIZES[0].1), Clone::clone);
    let cpu_request = p.input("CPU request", &start.cpu_request, &|a| {
        answers::quantity(a, false).map(|_| ())
    })?;
    let memory_request = p.input("Memory request", &start.memory_request, &|a| {
        answers::quantity(a, true).map(|_| ())
    })?;
    let cpu_limit = p.input(
        "CPU limit",
        &answers::limit_default(&start.cpu_limit, &cpu_request, false),
        &|a| answers::limit(a, &cpu_request, false),
    )?;
    let memory_limit = p.input(
        "Memory limit",
        &answers::limit_default(&start.memory_limit, &memory_request, true),
        &|a| answers::limit(a, &memory_request, true),
    )?;
    Ok(DraftResources::new(
        cpu_request.trim(),
        memory_request.trim(),
        cpu_limit.trim(),
        memory_limit.trim(),
    ))
}

/// The size item for resources the file sets only in part, or not at all.
fn as_written(r: &DraftResources) -> String {
    let pair = |cpu: &str, memory: &str| match (cpu.is_empty(), memory.is_empty()) {
        (true, true) => None,
        (false, true) => Some(format!("{cpu} CPU")),
        (true, false) => Some(format!("{memory} memory")),
        (false, false) => Some(format!("{cpu} CPU, {memory} memory")),
    };
    let parts: Vec<String> = [
        pair(&r.cpu_request, &r.memory_request).map(|p| format!("requests {p}")),
        pair(&r.cpu_limit, &r.memory_limit).map(|p| format!("limits {p}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "as it is: no requests or limits (check reports resources-missing)".to_string()
    } else {
        format!("as it is: {}", parts.join("; "))
    }
}
