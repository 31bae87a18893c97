//! Analyse stage of `verify`, the cluster-wide tiers of sig-network's policy API
//! (`policy.networking.k8s.io/v1alpha1`), evaluated around NetworkPolicies as its specification
//! orders them. For each direction of a connection, port by port:
//!
//! 1. the AdminNetworkPolicies whose subject holds the pod, by priority (lower first), each
//!    rule in order: the first rule that matches decides — `Allow` (allowed, whatever follows),
//!    `Deny` (denied), or `Pass` (left to the next tiers, skipping the remaining admin rules);
//! 2. what no admin rule decided, and what was passed: if NetworkPolicies isolate the pod in
//!    that direction, they decide (the union of their rules);
//! 3. otherwise the BaselineAdminNetworkPolicy's rules, first match deciding `Allow` or `Deny`;
//! 4. what nothing decided is allowed.
//!
//! A connection needs both its egress and its ingress allowed. Admin peers select pods by
//! namespace and pod labels and, for egress, address blocks (`networks`), which match
//! addresses outside the cluster's pods as `ipBlock` does. Pure computation.

use super::{Analysis, Direction, Pieces, RuleRef};
use crate::verify::manifest::{Action, AdminPolicy, AdminPort, AdminRule, ContainerPort, PodSet};
use crate::verify::sets::{AddrSet, PortSet};

/// A rule that decided some ports of one direction of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided<R = RuleRef> {
    /// The rule.
    pub rule: R,
    /// The ports it decided (an admin or baseline rule), or admits (a NetworkPolicy rule).
    pub ports: PortSet,
    /// True when it allowed them.
    pub allowed: bool,
}

/// How one direction of a connection is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<R = RuleRef> {
    /// The ports allowed in this direction.
    pub allowed: PortSet,
    /// The rules that decided ports, in evaluation order.
    pub rules: Vec<Decided<R>>,
    /// The NetworkPolicies that isolate the pod in this direction, when they decided some
    /// ports.
    pub isolating: Vec<usize>,
    /// Ports that no tier decided, so allowed because nothing isolates the pod.
    pub by_default: PortSet,
}

impl<R> Default for Decision<R> {
    fn default() -> Self {
        Decision {
            allowed: PortSet::none(),
            rules: Vec::new(),
            isolating: Vec::new(),
            by_default: PortSet::none(),
        }
    }
}

impl PodSet {
    /// True when a pod with `labels` in a namespace with `ns_labels` is in the set.
    fn holds(
        &self,
        ns_labels: Option<&crate::verify::manifest::Labels>,
        labels: &crate::verify::manifest::Labels,
    ) -> bool {
        ns_labels.is_some_and(|l| self.namespaces.matches(l))
            && self.pods.as_ref().is_none_or(|p| p.matches(labels))
    }
}

/// The ports an admin rule names towards a destination with container `ports`.
fn admin_ports(rule: &AdminRule, ports: &[ContainerPort]) -> PortSet {
    let Some(list) = &rule.ports else {
        return PortSet::all();
    };
    let mut set = PortSet::none();
    for p in list {
        match p {
            AdminPort::Range(protocol, lo, hi) => set.insert(*protocol, *lo, *hi),
            AdminPort::Named(name) => {
                for c in ports
                    .iter()
                    .filter(|c| c.name.as_deref() == Some(name.as_str()))
                {
                    set.insert(c.protocol, c.port, c.port);
                }
            }
        }
    }
    set
}

impl Analysis<'_> {
    /// True when some admin or baseline policy has rules for the group in `direction`.
    pub(super) fn has_tiers(&self) -> bool {
        !self.manifests.admin.is_empty() || self.manifests.baseline.is_some()
    }

    fn group_in(&self, set: &PodSet, g: usize) -> bool {
        let group = &self.groups[g];
        set.holds(self.manifests.namespaces.get(group.namespace), group.labels)
    }

    /// The admin rules (policy, rule) of `direction` whose policy applies to group `g`, in
    /// evaluation order; the baseline's after them, with `None` as policy.
    fn rules_of(&self, g: usize, direction: Direction) -> (Vec<(usize, usize)>, Vec<usize>) {
        if self.groups[g].host_network {
            return (Vec::new(), Vec::new());
        }
        let rules = |p: &AdminPolicy| match direction {
            Direction::Ingress => p.ingress.len(),
            Direction::Egress => p.egress.len(),
        };
        let mut admin = Vec::new();
        for (i, p) in self.manifests.admin.iter().enumerate() {
            if self.group_in(&p.subject, g) {
                admin.extend((0..rules(p)).map(|r| (i, r)));
            }
        }
        let baseline = match &self.manifests.baseline {
            Some(b) if self.group_in(&b.subject, g) => (0..rules(b)).collect(),
            _ => Vec::new(),
        };
        (admin, baseline)
    }

    /// True when an admin or baseline policy has rules for the workload in `direction`.
    pub fn tiered(&self, workload: usize, direction: Direction) -> bool {
        let (admin, baseline) = self.rules_of(self.group_of[workload], direction);
        !admin.is_empty() || !baseline.is_empty()
    }

    fn rule(&self, policy: Option<usize>, direction: Direction, r: usize) -> &AdminRule {
        let p = match policy {
            Some(i) => &self.manifests.admin[i],
            None => self
                .manifests
                .baseline
                .as_ref()
                .expect("a baseline rule has its policy"),
        };
        match direction {
            Direction::Ingress => &p.ingress[r],
            Direction::Egress => &p.egress[r],
        }
    }

    /// How the connection from group `s` to group `d` is decided in `direction`.
    pub(super) fn decide_groups(&self, s: usize, d: usize, direction: Direction) -> Decision {
        let (subject, other) = match direction {
            Direction::Ingress => (d, s),
            Direction::Egress => (s, d),
        };
        let dest_ports = self.groups[d].ports;
        let (admin, baseline) = self.rules_of(subject, direction);
        let matching = |rule: &AdminRule| rule.pods.iter().any(|set| self.group_in(set, other));
        let admin_rules = admin.into_iter().filter_map(|(p, r)| {
            let rule = self.rule(Some(p), direction, r);
            matching(rule).then(|| {
                (
                    RuleRef::Admin(p, direction, r),
                    rule.action,
                    admin_ports(rule, dest_ports),
                )
            })
        });
        let baseline_rules = baseline.into_iter().filter_map(|r| {
            let rule = self.rule(None, direction, r);
            matching(rule).then(|| {
                (
                    RuleRef::Baseline(direction, r),
                    rule.action,
                    admin_ports(rule, dest_ports),
                )
            })
        });
        let isolating = match direction {
            Direction::Ingress => &self.ingress_policies[subject],
            Direction::Egress => &self.egress_policies[subject],
        };
        let np = (!isolating.is_empty()).then(|| self.np_rules(s, d, direction));
        tier(admin_rules, np, isolating, baseline_rules)
    }

    /// How one direction of the connection between two workloads is decided.
    pub fn decide(&self, from: usize, to: usize, direction: Direction) -> Decision {
        self.decide_groups(self.group_of[from], self.group_of[to], direction)
    }

    /// Recomputes pod-to-pod connectivity and egress to outside addresses with the admin and
    /// baseline tiers.
    pub(super) fn apply_tiers(&mut self) {
        let n = self.groups.len();
        let pairs: Vec<Vec<(usize, PortSet)>> = super::in_parallel(n, |s| {
            (0..n)
                .filter_map(|d| {
                    let out = self.decide_groups(s, d, Direction::Egress).allowed;
                    if out.is_empty() {
                        return None;
                    }
                    let allowed =
                        out.intersection(&self.decide_groups(s, d, Direction::Ingress).allowed);
                    (!allowed.is_empty()).then_some((d, allowed))
                })
                .collect()
        });
        self.pairs.clear();
        for (s, list) in pairs.into_iter().enumerate() {
            for (d, ports) in list {
                self.pairs.insert((s, d), ports);
            }
        }
        let external: Vec<Option<Pieces>> =
            super::in_parallel(n, |s| self.external_egress_tiers(s));
        for (s, pieces) in external.into_iter().enumerate() {
            if let Some(pieces) = pieces {
                self.external_out[s] = pieces;
            }
        }
    }

    /// Egress of group `s` to outside addresses through the tiers, when an admin or baseline
    /// rule names address blocks; `None` when NetworkPolicies alone decide.
    fn external_egress_tiers(&self, s: usize) -> Option<Pieces> {
        let (admin, baseline) = self.rules_of(s, Direction::Egress);
        let admin: Vec<&AdminRule> = admin
            .into_iter()
            .map(|(p, r)| self.rule(Some(p), Direction::Egress, r))
            .filter(|r| !r.networks.is_empty())
            .collect();
        let baseline: Vec<&AdminRule> = baseline
            .into_iter()
            .map(|r| self.rule(None, Direction::Egress, r))
            .filter(|r| !r.networks.is_empty())
            .collect();
        let isolated = !self.egress_policies[s].is_empty();
        if admin.is_empty() && (isolated || baseline.is_empty()) {
            return None;
        }
        // The NetworkPolicy pieces as computed without tiers (all addresses when unisolated).
        let np: &Pieces = &self.external_out[s];
        // Elementary address segments between every boundary of every set involved.
        let sets: Vec<&AddrSet> = admin
            .iter()
            .chain(&baseline)
            .map(|r| &r.networks)
            .chain(np.iter().map(|(a, _)| a))
            .collect();
        let mut out = Pieces::new();
        for segment in AddrSet::segments(&sets) {
            let covers = |a: &AddrSet| a.contains_all(&segment);
            let admin_rules = admin
                .iter()
                .filter(|r| covers(&r.networks))
                .map(|r| ((), r.action, admin_ports(r, &[])));
            let mut np_ports = PortSet::none();
            for (_, p) in np.iter().filter(|(a, _)| covers(a)) {
                np_ports.union_with(p);
            }
            let np_rules = isolated.then(|| vec![((), np_ports)]);
            let baseline_rules = baseline
                .iter()
                .filter(|r| covers(&r.networks))
                .map(|r| ((), r.action, admin_ports(r, &[])));
            let allowed = tier(admin_rules, np_rules, &[], baseline_rules).allowed;
            if !allowed.is_empty() {
                out.push((segment, allowed));
            }
        }
        Some(out)
    }
}

/// The tiers of one direction of a connection: admin rules in order, then NetworkPolicy rules
/// (`None` when none isolates the pod), then baseline rules, then the default allow.
fn tier<R>(
    admin: impl Iterator<Item = (R, Action, PortSet)>,
    np: Option<Vec<(R, PortSet)>>,
    isolating: &[usize],
    baseline: impl Iterator<Item = (R, Action, PortSet)>,
) -> Decision<R> {
    let mut decision = Decision::default();
    let mut undecided = PortSet::all();
    let mut passed = PortSet::none();
    for (rule, action, ports) in admin {
        let decided = ports.intersection(&undecided);
        if decided.is_empty() {
            continue;
        }
        undecided = undecided.difference(&decided);
        match action {
            Action::Allow => decision.allowed.union_with(&decided),
            Action::Deny => {}
            Action::Pass => passed.union_with(&decided),
        }
        decision.rules.push(Decided {
            rule,
            ports: decided,
            allowed: action == Action::Allow,
        });
    }
    let mut rest = undecided;
    rest.union_with(&passed);
    if rest.is_empty() {
        return decision;
    }
    match np {
        Some(rules) => {
            decision.isolating = isolating.to_vec();
            for (rule, ports) in rules {
                let admitted = ports.intersection(&rest);
                if admitted.is_empty() {
                    continue;
                }
                decision.allowed.union_with(&admitted);
                decision.rules.push(Decided {
                    rule,
                    ports: admitted,
                    allowed: true,
                });
            }
        }
        None => {
            for (rule, action, ports) in baseline {
                let decided = ports.intersection(&rest);
                if decided.is_empty() {
                    continue;
                }
                rest = rest.difference(&decided);
                if action == Action::Allow {
                    decision.allowed.union_with(&decided);
                }
                decision.rules.push(Decided {
                    rule,
                    ports: decided,
                    allowed: action == Action::Allow,
                });
            }
            decision.allowed.union_with(&rest);
            decision.by_default = rest;
        }
    }
    decision
}
