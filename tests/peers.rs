//! A peer's own test suite as an oracle of `verify`: np-guard's netpol-analyzer ships scenarios
//! (Kubernetes manifests, NetworkPolicies, AdminNetworkPolicies and the baseline policy) with
//! their expected connectivity. They are kept unchanged in `tests/peers/netpol-analyzer/`
//! (source, commit and licence in its README) and read exactly as shipped: every scenario with
//! an expected connectivity list must give the same connections between workloads and with
//! outside addresses, or be one of the documented disagreements below, each checked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use k8s_advisor::verify::engine::Analysis;
use k8s_advisor::verify::read::{Input, read_inputs};
use k8s_advisor::verify::render;
use k8s_advisor::verify::sets::Ranges;

use crate::nca::{Canon, Pieces, canonical_external, diff, parse_ours};
use crate::support::{bin, root};

fn suite() -> PathBuf {
    root().join("tests/peers/netpol-analyzer")
}

/// Scenarios whose objects the API server refuses, so `verify` refuses them (exit 2) where
/// netpol-analyzer reads them: what the message names, and the rule.
const REFUSED: [(&str, &str); 22] = [
    // "unknown field": kubectl applies with strict field validation, the API server refuses
    // fields its schema does not have.
    ("netpol_named_port_test", "unknown field `containerport`"),
    ("netpol_named_port_test_2", "unknown field `containerport`"),
    // Object names are DNS subdomains: lowercase letters, digits, '-' and '.'.
    (
        "example_pods_w_same_owner_and_labels_gap_with_good_match_expression",
        "\"use_common_labels_same_values\" is refused",
    ),
    (
        "example_pods_w_same_owner_and_labels_gap_with_good_match_expression2",
        "\"use_match_exp_with_all_gap_values_of_app\" is refused",
    ),
    (
        "example_pods_w_same_owner_and_labels_gap_with_policy_selector_not_in_gap",
        "is refused by the",
    ),
    // ObjectMeta validation: an owner reference needs apiVersion, kind, name and uid.
    (
        "example_pods_w_same_owner_and_labels_gap_no_policy",
        "an ownerReferences entry lacks",
    ),
    (
        "example_pods_w_same_owner_and_labels_gap_anp_good",
        "needs both namespaceSelector and podSelector",
    ),
    (
        "example_pods_w_same_owner_and_labels_gap_banp_good",
        "needs both namespaceSelector and podSelector",
    ),
    // The AdminNetworkPolicy CRD (network-policy-api v0.1.7, standard channel) lists
    // `namespaceSelector` and `podSelector` as required properties of a `pods` peer or subject.
    ("anp_demo", "needs both namespaceSelector and podSelector"),
    (
        "anp_test_3_pass_traffic",
        "needs both namespaceSelector and podSelector",
    ),
    ("anp_test_8", "needs both namespaceSelector and podSelector"),
    (
        "anp_test_8_swapping_rules",
        "needs both namespaceSelector and podSelector",
    ),
    ("anp_test_9", "needs both namespaceSelector and podSelector"),
    (
        "anp_test_9_swapping_rules",
        "needs both namespaceSelector and podSelector",
    ),
    (
        "anp_test_10",
        "needs both namespaceSelector and podSelector",
    ),
    (
        "anp_test_10_swapping_rules",
        "needs both namespaceSelector and podSelector",
    ),
    (
        "anp_test_11",
        "needs both namespaceSelector and podSelector",
    ),
    (
        "anp_test_11_swapping_rules",
        "needs both namespaceSelector and podSelector",
    ),
    (
        "anp_test_12",
        "needs both namespaceSelector and podSelector",
    ),
    (
        "anp_test_12_swapping_rules",
        "needs both namespaceSelector and podSelector",
    ),
    (
        "anp_test_combining_test_6_and_test_10",
        "needs both namespaceSelector and podSelector",
    ),
    (
        "anp_test_multiple_anps",
        "needs both namespaceSelector and podSelector",
    ),
];

/// Scenarios with pods on the node's network (`hostNetwork: true`), which netpol-analyzer
/// treats as ordinary pods. The NetworkPolicy concepts page says policies do not reliably
/// apply to them ("the behaviour is undefined"), and CNIs do not enforce them there, so
/// `verify` never calls them isolated: there the two tools differ, and only there.
const HOST_NETWORK: [&str; 13] = [
    "ipblockstest",
    "ipblockstest_2",
    "ipblockstest_3",
    "ipblockstest_4",
    "multiple_topology_resources_1",
    "multiple_topology_resources_2",
    "semanticDiff-same-topologies-new1",
    "semanticDiff-same-topologies-new1a",
    "semanticDiff-same-topologies-new2",
    "semanticDiff-same-topologies-new3",
    "semanticDiff-same-topologies-old1",
    "semanticDiff-same-topologies-old2",
    "semanticDiff-same-topologies-old3",
];

/// netpol-analyzer's connectivity list (`src => dst : conns`) in canonical form. Lines with the
/// ingress controller that Ingress and Route objects imply are left out: `verify` evaluates
/// policies, not ingress controllers.
fn parse_connlist(text: &str) -> Result<Canon, String> {
    let mut canon = Canon::default();
    let mut pieces: Pieces = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (pair, conns) = line
            .split_once(" : ")
            .ok_or_else(|| format!("unexpected line {line:?}"))?;
        let (src, dst) = pair
            .split_once(" => ")
            .ok_or_else(|| format!("unexpected line {line:?}"))?;
        if src.contains("{ingress-controller}") || dst.contains("{ingress-controller}") {
            continue;
        }
        let conns = connections(conns)?;
        let external = |e: &str| e.ends_with("[External]");
        let name = |e: &str| e[..e.find('[').unwrap_or(e.len())].to_string();
        match (external(src), external(dst)) {
            (false, false) => {
                for (protocol, ranges) in conns {
                    canon
                        .pods
                        .entry((name(src), name(dst), protocol))
                        .or_default()
                        .union_with(&ranges);
                }
            }
            (true, false) | (false, true) => {
                let (workload, direction, ips) = if external(src) {
                    (name(dst), "ingress", name(src))
                } else {
                    (name(src), "egress", name(dst))
                };
                let intervals = addresses(&ips)?;
                for (protocol, ranges) in conns {
                    let entry = pieces
                        .entry((workload.clone(), direction.to_string(), protocol))
                        .or_default();
                    for &(f, lo, hi) in &intervals {
                        entry.push((f, lo, hi, ranges.clone()));
                    }
                }
            }
            (true, true) => return Err(format!("two outside ends in {line:?}")),
        }
    }
    canon.external = canonical_external(pieces);
    Ok(canon)
}

/// `All Connections`, or `TCP 1-79,81-65535,UDP 53`.
fn connections(text: &str) -> Result<Vec<(String, Ranges)>, String> {
    let text = text.trim();
    if text == "All Connections" {
        return Ok(["TCP", "UDP", "SCTP"]
            .iter()
            .map(|p| (p.to_string(), Ranges::span(1, 65535)))
            .collect());
    }
    let mut out: Vec<(String, Ranges)> = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let (protocol, range) = match part.split_once(' ') {
            Some((p, r)) => (Some(p), r),
            None => (None, part),
        };
        if let Some(p) = protocol {
            out.push((p.to_string(), Ranges::new()));
        }
        let (lo, hi) = range.split_once('-').unwrap_or((range, range));
        let parse = |s: &str| {
            s.parse::<u128>()
                .map_err(|_| format!("bad port in {text:?}"))
        };
        out.last_mut()
            .ok_or_else(|| format!("no protocol in {text:?}"))?
            .1
            .insert(parse(lo)?, parse(hi)?);
    }
    Ok(out)
}

/// `a-b` address intervals, IPv4 or IPv6, comma-separated.
fn addresses(text: &str) -> Result<Vec<(u8, u128, u128)>, String> {
    let mut out = Vec::new();
    for range in text.split(',') {
        let (lo, hi) = range
            .split_once('-')
            .ok_or_else(|| format!("bad address range {range:?}"))?;
        let one = |s: &str| -> Result<(u8, u128), String> {
            match s.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(a)) => Ok((4, u128::from(u32::from(a)))),
                Ok(std::net::IpAddr::V6(a)) => Ok((6, u128::from(a))),
                Err(_) => Err(format!("bad address {s:?}")),
            }
        };
        let ((f, lo), (g, hi)) = (one(lo)?, one(hi)?);
        if f != g {
            return Err(format!("mixed families in {range:?}"));
        }
        out.push((f, lo, hi));
    }
    Ok(out)
}

/// Our connectivity of a scenario folder, and the workloads on the node's network.
fn ours(dir: &Path) -> Result<(Canon, BTreeSet<String>), String> {
    let manifests = read_inputs(
        &[Input::Path(dir.to_path_buf())],
        &mut std::io::empty(),
        &Default::default(),
    )
    .map_err(|e| format!("{e:?}"))?;
    let host: BTreeSet<String> = manifests
        .workloads
        .iter()
        .filter(|w| w.host_network)
        .map(|w| w.id())
        .collect();
    let json = render::connectivity_json(&Analysis::new(&manifests));
    Ok((parse_ours(&json), host))
}

/// netpol-analyzer shows IPv6 only where a policy names an IPv6 block; without any, our IPv6
/// traffic has nothing to be compared with.
fn without_ipv6_unless(canon: &mut Canon, theirs: &Canon) {
    let theirs_v6 = theirs.external.values().flatten().any(|a| a.0 == 6);
    if !theirs_v6 {
        for atoms in canon.external.values_mut() {
            atoms.retain(|a| a.0 == 4);
        }
        canon.external.retain(|_, atoms| !atoms.is_empty());
    }
}

/// Leaves out everything that involves one of `host`.
fn without(canon: &mut Canon, host: &BTreeSet<String>) {
    canon
        .pods
        .retain(|(a, b, _), _| !host.contains(a) && !host.contains(b));
    canon.external.retain(|(w, _, _), _| !host.contains(w));
}

#[test]
fn netpol_analyzer_connectivity_scenarios_agree() {
    let expected_dir = suite().join("expected");
    let mut names: Vec<String> = std::fs::read_dir(&expected_dir)
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".txt")
                .to_string()
        })
        .collect();
    names.sort();
    let refused: BTreeMap<&str, &str> = REFUSED.into_iter().collect();
    let mut failures = Vec::new();
    let (mut agreed, mut host_network) = (0, 0);
    for name in &names {
        let dir = suite().join("tests").join(name);
        if let Some(expected) = refused.get(name.as_str()) {
            let out = bin()
                .args(["verify", "--connectivity"])
                .arg(&dir)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.code() != Some(2) || !stderr.contains(expected) {
                failures.push(format!(
                    "{name}: expected exit 2 naming {expected:?}:\n{stderr}"
                ));
            }
            continue;
        }
        let text = std::fs::read_to_string(expected_dir.join(format!("{name}.txt"))).unwrap();
        let theirs = match parse_connlist(&text) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let (mut canon, host) = match ours(&dir) {
            Ok(x) => x,
            Err(e) => {
                failures.push(format!("{name}: verify refused it: {e}"));
                continue;
            }
        };
        without_ipv6_unless(&mut canon, &theirs);
        let mut theirs = theirs;
        if HOST_NETWORK.contains(&name.as_str()) {
            // The difference must come from those pods alone, and exist.
            if host.is_empty() || diff(&canon, &theirs).is_empty() {
                failures.push(format!(
                    "{name}: listed as differing through host-network pods, but it does not"
                ));
            }
            without(&mut canon, &host);
            without(&mut theirs, &host);
            host_network += 1;
        } else {
            agreed += 1;
        }
        let d = diff(&canon, &theirs);
        if !d.is_empty() {
            failures.push(format!("{name}: verify and netpol-analyzer disagree:\n{d}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(agreed >= 69, "only {agreed} scenarios compared");
    eprintln!(
        "netpol-analyzer: {agreed} scenarios agree, {host_network} agree but for host-network pods, {} refused as the API server would",
        REFUSED.len()
    );
}

/// The peer's scenarios of invalid input: every one is refused, never evaluated.
#[test]
fn netpol_analyzer_invalid_scenarios_are_refused() {
    let tests = suite().join("tests");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&tests)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            // Not the secondary-network ones: verify does not evaluate those objects, and
            // names them instead (below).
            (name.contains("bad_path") && !name.starts_with("udn_"))
                || name.ends_with("_with_empty_port_range")
        })
        .collect();
    // Not subdir6: a named port in a rule whose peer is an ipBlock is valid for the API
    // server (it matches no outside address); netpol-analyzer refuses it by choice.
    for sub in ["subdir1", "subdir2", "subdir3", "subdir4", "subdir7"] {
        dirs.push(tests.join("bad_netpols").join(sub));
    }
    dirs.sort();
    assert!(dirs.len() >= 40, "{dirs:?}");
    for dir in dirs {
        let out = bin()
            .args(["verify", "--connectivity"])
            .arg(&dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}:\n{stderr}", dir.display());
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// The peer's scenarios with secondary networks and virtual machines, which change pod
/// networking and which `verify` does not evaluate: each such object is named.
#[test]
fn netpol_analyzer_secondary_networks_are_named_not_evaluated() {
    let tests = suite().join("tests");
    let mut checked = 0;
    for entry in std::fs::read_dir(&tests).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let secondary = ["udn_", "cudn_", "nad_"]
            .iter()
            .any(|p| name.starts_with(p));
        if !secondary {
            continue;
        }
        let out = bin()
            .args(["verify", "--connectivity"])
            .arg(&dir)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let named = [
            "UserDefinedNetwork",
            "NetworkAttachmentDefinition",
            "VirtualMachine",
        ]
        .iter()
        .any(|k| all.contains(k));
        // Named as not evaluated, or the scenario refused for an object the API server
        // refuses: never evaluated in silence.
        let refused = out.status.code() == Some(2) && all.contains("invalid-input");
        assert!(
            (named && matches!(out.status.code(), Some(0 | 2))) || refused,
            "{name}: {all}"
        );
        checked += 1;
    }
    assert!(checked >= 20, "{checked}");
}
