//! Analyse stage, building blocks of the `verify` engine: sets of port numbers per protocol and
//! sets of IP addresses, both as sorted, merged, inclusive ranges. Pure data; no I/O.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::model::Protocol;

/// A set of integers as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ranges(Vec<(u128, u128)>);

impl Ranges {
    /// The empty set.
    pub fn new() -> Self {
        Ranges(Vec::new())
    }

    /// The set `lo..=hi` (empty when `lo > hi`).
    pub fn span(lo: u128, hi: u128) -> Self {
        if lo > hi {
            Ranges::new()
        } else {
            Ranges(vec![(lo, hi)])
        }
    }

    /// The ranges, sorted.
    pub fn iter(&self) -> impl Iterator<Item = (u128, u128)> + '_ {
        self.0.iter().copied()
    }

    /// True when nothing is in the set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds `lo..=hi`.
    pub fn insert(&mut self, lo: u128, hi: u128) {
        if lo > hi {
            return;
        }
        // Keep the common cases (appending in order, or extending the last range) cheap.
        if let Some(last) = self.0.last_mut() {
            if lo > last.1 && lo - last.1 > 1 {
                self.0.push((lo, hi));
                return;
            }
            if lo >= last.0 {
                last.1 = last.1.max(hi);
                return;
            }
        } else {
            self.0.push((lo, hi));
            return;
        }
        self.0.push((lo, hi));
        self.normalize();
    }

    fn normalize(&mut self) {
        self.0.sort_unstable();
        let mut merged: Vec<(u128, u128)> = Vec::with_capacity(self.0.len());
        for (lo, hi) in self.0.drain(..) {
            match merged.last_mut() {
                Some(last) if last.1.checked_add(1).is_none_or(|next| next >= lo) => {
                    last.1 = last.1.max(hi);
                }
                _ => merged.push((lo, hi)),
            }
        }
        self.0 = merged;
    }

    /// Adds every member of `other`.
    pub fn union_with(&mut self, other: &Ranges) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            self.0.clone_from(&other.0);
            return;
        }
        self.0.extend_from_slice(&other.0);
        self.normalize();
    }

    /// The members of both sets.
    pub fn intersection(&self, other: &Ranges) -> Ranges {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < other.0.len() {
            let (a, b) = self.0[i];
            let (c, d) = other.0[j];
            let lo = a.max(c);
            let hi = b.min(d);
            if lo <= hi {
                out.push((lo, hi));
            }
            if b < d {
                i += 1;
            } else {
                j += 1;
            }
        }
        Ranges(out)
    }

    /// The members of this set that are not in `other`.
    pub fn difference(&self, other: &Ranges) -> Ranges {
        let mut out = Vec::new();
        let mut j = 0;
        for &(lo, hi) in &self.0 {
            let mut start = lo;
            let mut open = true;
            while j < other.0.len() && other.0[j].1 < start {
                j += 1;
            }
            let mut k = j;
            while k < other.0.len() && other.0[k].0 <= hi {
                let (c, d) = other.0[k];
                if c > start {
                    out.push((start, c - 1));
                }
                match d.checked_add(1) {
                    Some(next) if next <= hi => start = next,
                    _ => {
                        open = false;
                        break;
                    }
                }
                k += 1;
            }
            if open && start <= hi {
                out.push((start, hi));
            }
        }
        Ranges(out)
    }

    /// True when every member of `other` is in this set.
    pub fn contains_all(&self, other: &Ranges) -> bool {
        other.difference(self).is_empty()
    }

    /// True when `lo..=hi` lies inside one range of the set.
    pub fn covers(&self, lo: u128, hi: u128) -> bool {
        let i = self.0.partition_point(|r| r.1 < lo);
        self.0.get(i).is_some_and(|r| r.0 <= lo && hi <= r.1)
    }
}

/// Every port number.
pub const ALL_PORTS: (u128, u128) = (1, 65535);

/// Destination ports per transport protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortSet {
    /// Indexed by [`protocol_index`].
    by_protocol: [Ranges; 3],
}

/// The protocols a NetworkPolicy can name, in output order.
pub const PROTOCOLS: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

fn protocol_index(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Tcp => 0,
        Protocol::Udp => 1,
        Protocol::Sctp => 2,
    }
}

impl PortSet {
    /// No port at all.
    pub fn none() -> Self {
        PortSet::default()
    }

    /// Every port of every protocol.
    pub fn all() -> Self {
        let all = Ranges::span(ALL_PORTS.0, ALL_PORTS.1);
        PortSet {
            by_protocol: [all.clone(), all.clone(), all],
        }
    }

    /// True when no port is in the set.
    pub fn is_empty(&self) -> bool {
        self.by_protocol.iter().all(Ranges::is_empty)
    }

    /// Adds `lo..=hi` of `protocol`.
    pub fn insert(&mut self, protocol: Protocol, lo: u16, hi: u16) {
        self.by_protocol[protocol_index(protocol)].insert(u128::from(lo), u128::from(hi));
    }

    /// Adds every port of `protocol`.
    pub fn insert_all(&mut self, protocol: Protocol) {
        self.by_protocol[protocol_index(protocol)].insert(ALL_PORTS.0, ALL_PORTS.1);
    }

    /// The ports of one protocol.
    pub fn ranges(&self, protocol: Protocol) -> &Ranges {
        &self.by_protocol[protocol_index(protocol)]
    }

    /// The ports of one protocol as `(first, last)` pairs.
    pub fn port_ranges(&self, protocol: Protocol) -> Vec<(u16, u16)> {
        self.ranges(protocol)
            .iter()
            .map(|(lo, hi)| (port(lo), port(hi)))
            .collect()
    }

    /// True when `port` of `protocol` is in the set.
    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        let p = u128::from(port);
        self.ranges(protocol).covers(p, p)
    }

    /// Adds every port of `other`.
    pub fn union_with(&mut self, other: &PortSet) {
        for (mine, theirs) in self.by_protocol.iter_mut().zip(&other.by_protocol) {
            mine.union_with(theirs);
        }
    }

    /// The ports in both sets.
    pub fn intersection(&self, other: &PortSet) -> PortSet {
        PortSet {
            by_protocol: std::array::from_fn(|i| {
                self.by_protocol[i].intersection(&other.by_protocol[i])
            }),
        }
    }

    /// The ports of this set that are not in `other`.
    pub fn difference(&self, other: &PortSet) -> PortSet {
        PortSet {
            by_protocol: std::array::from_fn(|i| {
                self.by_protocol[i].difference(&other.by_protocol[i])
            }),
        }
    }

    /// True when every port of `other` is in this set.
    pub fn contains_all(&self, other: &PortSet) -> bool {
        other.difference(self).is_empty()
    }
}

fn port(n: u128) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

impl fmt::Display for PortSet {
    /// `TCP 8080, 9000-9100; UDP 53`, or `all ports` / `nothing`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == PortSet::all() {
            return f.write_str("all ports");
        }
        if self.is_empty() {
            return f.write_str("nothing");
        }
        let mut first = true;
        for protocol in PROTOCOLS {
            let ranges = self.port_ranges(protocol);
            if ranges.is_empty() {
                continue;
            }
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{} ", protocol.as_str())?;
            let parts: Vec<String> = ranges
                .iter()
                .map(|&(lo, hi)| match (lo, hi) {
                    (1, 65535) => "all".to_string(),
                    (lo, hi) if lo == hi => lo.to_string(),
                    (lo, hi) => format!("{lo}-{hi}"),
                })
                .collect();
            f.write_str(&parts.join(", "))?;
        }
        Ok(())
    }
}

/// A set of IPv4 and IPv6 addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddrSet {
    /// IPv4 addresses as numbers.
    pub v4: Ranges,
    /// IPv6 addresses as numbers.
    pub v6: Ranges,
}

impl AddrSet {
    /// No address.
    pub fn none() -> Self {
        AddrSet::default()
    }

    /// Every IPv4 and IPv6 address.
    pub fn all() -> Self {
        AddrSet {
            v4: Ranges::span(0, u128::from(u32::MAX)),
            v6: Ranges::span(0, u128::MAX),
        }
    }

    /// The addresses of one CIDR block.
    pub fn net(net: &IpNet) -> Self {
        let mut set = AddrSet::none();
        set.insert_net(net);
        set
    }

    /// Adds the addresses of `net`.
    pub fn insert_net(&mut self, net: &IpNet) {
        match net {
            IpNet::V4(n) => self.v4.insert(
                u128::from(n.network().to_bits()),
                u128::from(n.broadcast().to_bits()),
            ),
            IpNet::V6(n) => self
                .v6
                .insert(n.network().to_bits(), n.broadcast().to_bits()),
        }
    }

    /// True when there is no address.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Adds every address of `other`.
    pub fn union_with(&mut self, other: &AddrSet) {
        self.v4.union_with(&other.v4);
        self.v6.union_with(&other.v6);
    }

    /// The addresses in both.
    pub fn intersection(&self, other: &AddrSet) -> AddrSet {
        AddrSet {
            v4: self.v4.intersection(&other.v4),
            v6: self.v6.intersection(&other.v6),
        }
    }

    /// The addresses of this set not in `other`.
    pub fn difference(&self, other: &AddrSet) -> AddrSet {
        AddrSet {
            v4: self.v4.difference(&other.v4),
            v6: self.v6.difference(&other.v6),
        }
    }

    /// True when every address of `other` is in this set.
    pub fn contains_all(&self, other: &AddrSet) -> bool {
        other.difference(self).is_empty()
    }

    /// The set as the fewest CIDR blocks, IPv4 first, each family in address order.
    /// The private and shared address ranges pods are usually given: RFC 1918, the
    /// carrier-grade NAT range and IPv6 unique local addresses.
    pub fn private() -> Self {
        let mut set = AddrSet::none();
        for net in [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
            "fc00::/7",
        ] {
            if let Ok(net) = net.parse::<IpNet>() {
                set.insert_net(&net);
            }
        }
        set
    }

    /// The elementary pieces of the union of `sets`: disjoint intervals, each inside or
    /// outside every one of the sets, together covering the union.
    pub fn segments(sets: &[&AddrSet]) -> Vec<AddrSet> {
        let mut out = Vec::new();
        for v6 in [false, true] {
            let family = |a: &AddrSet| if v6 { a.v6.clone() } else { a.v4.clone() };
            let mut bounds: std::collections::BTreeSet<u128> = std::collections::BTreeSet::new();
            let mut union = Ranges::new();
            for set in sets {
                let ranges = family(set);
                for (lo, hi) in ranges.iter() {
                    bounds.insert(lo);
                    if let Some(next) = hi.checked_add(1) {
                        bounds.insert(next);
                    }
                }
                union.union_with(&ranges);
            }
            let bounds: Vec<u128> = bounds.into_iter().collect();
            for (i, &lo) in bounds.iter().enumerate() {
                let hi = bounds.get(i + 1).map_or(u128::MAX, |next| next - 1);
                if !union.covers(lo, hi) {
                    continue;
                }
                let mut piece = AddrSet::none();
                if v6 {
                    piece.v6.insert(lo, hi);
                } else {
                    piece.v4.insert(lo, hi);
                }
                out.push(piece);
            }
        }
        out
    }

    pub fn cidrs(&self) -> Vec<IpNet> {
        let mut out = Vec::new();
        for (lo, hi) in self.v4.iter() {
            for (addr, len) in blocks(lo, hi, 32) {
                let addr = Ipv4Addr::from(u32::try_from(addr).unwrap_or(u32::MAX));
                out.extend(Ipv4Net::new(addr, len).ok().map(IpNet::V4));
            }
        }
        for (lo, hi) in self.v6.iter() {
            for (addr, len) in blocks(lo, hi, 128) {
                out.extend(Ipv6Net::new(Ipv6Addr::from(addr), len).ok().map(IpNet::V6));
            }
        }
        out
    }
}

/// Splits `lo..=hi` of a `bits`-wide address space into the fewest aligned blocks, as
/// (first address, prefix length).
fn blocks(mut lo: u128, hi: u128, bits: u8) -> Vec<(u128, u8)> {
    let mut out = Vec::new();
    loop {
        // The largest block that starts at `lo` (alignment) and ends at or before `hi`.
        let mut size_log = if lo == 0 {
            u32::from(bits)
        } else {
            lo.trailing_zeros().min(u32::from(bits))
        };
        while size_log > 0 {
            let last = if size_log == 128 {
                u128::MAX
            } else {
                lo + ((1u128 << size_log) - 1)
            };
            if last <= hi {
                break;
            }
            size_log -= 1;
        }
        let len = bits - u8::try_from(size_log).unwrap_or(bits);
        out.push((lo, len));
        let last = if size_log == 128 {
            u128::MAX
        } else {
            lo + ((1u128 << size_log) - 1)
        };
        if last >= hi {
            break;
        }
        lo = last + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(pairs: &[(u128, u128)]) -> Ranges {
        let mut set = Ranges::new();
        for &(lo, hi) in pairs {
            set.insert(lo, hi);
        }
        set
    }

    #[test]
    fn ranges_merge_adjacent_and_overlapping() {
        let set = r(&[(10, 20), (1, 3), (4, 5), (15, 30), (40, 40)]);
        assert_eq!(set.iter().collect::<Vec<_>>(), [(1, 5), (10, 30), (40, 40)]);
    }

    #[test]
    fn difference_and_intersection() {
        let a = r(&[(1, 100)]);
        let b = r(&[(10, 20), (50, 50), (90, 200)]);
        assert_eq!(
            a.difference(&b).iter().collect::<Vec<_>>(),
            [(1, 9), (21, 49), (51, 89)]
        );
        assert_eq!(
            a.intersection(&b).iter().collect::<Vec<_>>(),
            [(10, 20), (50, 50), (90, 100)]
        );
        let full = r(&[(0, u128::MAX)]);
        assert!(full.difference(&full).is_empty());
        assert_eq!(
            full.difference(&r(&[(0, 0)])).iter().collect::<Vec<_>>(),
            [(1, u128::MAX)]
        );
        assert!(a.contains_all(&r(&[(5, 6), (99, 100)])));
        assert!(!a.contains_all(&r(&[(100, 101)])));
    }

    #[test]
    fn cidrs_are_minimal() {
        let mut set = AddrSet::net(&"10.0.0.0/8".parse().unwrap());
        set = set.difference(&AddrSet::net(&"10.1.0.0/16".parse().unwrap()));
        let cidrs: Vec<String> = set.cidrs().iter().map(ToString::to_string).collect();
        assert_eq!(
            cidrs,
            [
                "10.0.0.0/16",
                "10.2.0.0/15",
                "10.4.0.0/14",
                "10.8.0.0/13",
                "10.16.0.0/12",
                "10.32.0.0/11",
                "10.64.0.0/10",
                "10.128.0.0/9"
            ]
        );
        let all: Vec<String> = AddrSet::all()
            .cidrs()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(all, ["0.0.0.0/0", "::/0"]);
        let odd = AddrSet {
            v4: Ranges::span(1, 6),
            v6: Ranges::new(),
        };
        let cidrs: Vec<String> = odd.cidrs().iter().map(ToString::to_string).collect();
        assert_eq!(
            cidrs,
            ["0.0.0.1/32", "0.0.0.2/31", "0.0.0.4/31", "0.0.0.6/32"]
        );
    }

    proptest::proptest! {
        #[test]
        fn cidrs_cover_exactly_the_set(pairs in proptest::collection::vec((0u32..5000, 0u32..300), 0..6)) {
            let mut set = AddrSet::none();
            for (lo, len) in pairs {
                set.v4.insert(u128::from(lo), u128::from(lo + len));
            }
            let mut back = AddrSet::none();
            for net in set.cidrs() {
                back.insert_net(&net);
            }
            proptest::prop_assert_eq!(back, set);
        }

        #[test]
        fn set_algebra_matches_bitsets(a in proptest::collection::vec((0u8..60, 0u8..8), 0..5),
                                       b in proptest::collection::vec((0u8..60, 0u8..8), 0..5)) {
            let build = |pairs: &[(u8, u8)]| {
                let mut set = Ranges::new();
                let mut bits = [false; 70];
                for &(lo, len) in pairs {
                    set.insert(u128::from(lo), u128::from(lo + len));
                    for bit in &mut bits[usize::from(lo)..=usize::from(lo + len)] {
                        *bit = true;
                    }
                }
                (set, bits)
            };
            let (sa, ba) = build(&a);
            let (sb, bb) = build(&b);
            let members = |s: &Ranges| -> Vec<bool> { (0..70).map(|i| s.covers(i, i)).collect() };
            let want_diff: Vec<bool> = (0..70).map(|i| ba[i] && !bb[i]).collect();
            let want_and: Vec<bool> = (0..70).map(|i| ba[i] && bb[i]).collect();
            proptest::prop_assert_eq!(members(&sa.difference(&sb)), want_diff);
            proptest::prop_assert_eq!(members(&sa.intersection(&sb)), want_and);
            let mut u = sa.clone();
            u.union_with(&sb);
            let want_or: Vec<bool> = (0..70).map(|i| ba[i] || bb[i]).collect();
            proptest::prop_assert_eq!(members(&u), want_or);
        }
    }
}
