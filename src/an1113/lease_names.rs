//! Who each DHCP lease names: a Windows host of the data, or a host known only by its leases.
//!
//! Lease names are matched by host identity, the rule every other consumer uses (case
//! variants, a bare name and its only FQDN), both to the Windows hosts and among themselves:
//! a client that sends `ws07` in one lease and `WS07.corp.example` in its renewal is one host,
//! so its beacon stays one series and counts once in fan-in. A lease that names no host (a
//! renewal without option 12, a Zeek 2.x log mixed with newer ones) takes the name of the
//! same MAC's named lease nearest in time, and says so.

use super::leases::Lease;
use crate::lineage::{HostIdentity, find_host};
use crate::time::Timestamp;
use hashbrown::{HashMap, HashSet};

/// Who an address is at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owner {
    /// A Windows host of the data (its index).
    Host(u32),
    /// A host named only by its DHCP leases (the interned name it is known by): no Windows
    /// telemetry from it.
    Named(u32),
}

/// Who one lease names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LeaseName {
    pub(super) owner: Owner,
    /// When the lease names no host itself: the index of the same MAC's lease whose name it
    /// takes.
    pub(super) via: Option<usize>,
}

/// Per lease of `leases` (in their order): who it names, if anyone. `name` gives an interned
/// string; `windows` are the Windows hosts' names, by host index.
pub(super) fn name_leases<'s>(
    leases: &[Lease],
    name: impl Fn(u32) -> &'s str,
    windows: &[&str],
) -> Vec<Option<LeaseName>> {
    // The distinct names, in order of first appearance.
    let mut seen = HashSet::new();
    let distinct: Vec<u32> = leases
        .iter()
        .filter_map(|l| l.name)
        .filter(|&n| seen.insert(n))
        .collect();
    let mut owner_of: HashMap<u32, Owner> = HashMap::with_capacity(distinct.len());
    let mut others = Vec::new();
    for &n in &distinct {
        match find_host(windows.iter().copied(), name(n)) {
            Some(h) => {
                owner_of.insert(n, Owner::Host(h as u32));
            }
            None => others.push(n),
        }
    }
    // The rest among themselves: each group known by the spelling host identity picks.
    let id = HostIdentity::resolve(others.iter().map(|&n| name(n)));
    let mut known_by: Vec<Option<u32>> = vec![None; id.names().len()];
    for (j, &n) in others.iter().enumerate() {
        let g = id.of(j);
        if known_by[g].is_none() && id.names().get(g).is_some_and(|k| k == name(n)) {
            known_by[g] = Some(n);
        }
    }
    for (j, &n) in others.iter().enumerate() {
        let by = known_by.get(id.of(j)).copied().flatten().unwrap_or(n);
        owner_of.insert(n, Owner::Named(by));
    }
    // The named leases of each MAC, by start.
    let mut named_of_mac: HashMap<u32, Vec<(Timestamp, usize)>> = HashMap::new();
    for (i, l) in leases.iter().enumerate() {
        if let (Some(m), Some(_)) = (l.mac, l.name) {
            named_of_mac.entry(m).or_default().push((l.start, i));
        }
    }
    named_of_mac.values_mut().for_each(|v| v.sort_unstable());
    leases
        .iter()
        .map(|l| match l.name {
            Some(n) => owner_of.get(&n).map(|&owner| LeaseName { owner, via: None }),
            None => {
                let j = nearest(named_of_mac.get(&l.mac?)?, l.start)?;
                let owner = *owner_of.get(&leases.get(j)?.name?)?;
                Some(LeaseName { owner, via: Some(j) })
            }
        })
        .collect()
}

/// The index of the lease of `named` (sorted by start) that starts nearest `t`; the earlier
/// on a tie.
fn nearest(named: &[(Timestamp, usize)], t: Timestamp) -> Option<usize> {
    let k = named.partition_point(|&(s, _)| s <= t);
    let before = k.checked_sub(1).and_then(|k| named.get(k));
    let after = named.get(k);
    let gap = |s: Timestamp| s.as_micros().abs_diff(t.as_micros());
    match (before, after) {
        (Some(&(b, i)), Some(&(a, j))) => Some(if gap(a) < gap(b) { j } else { i }),
        (Some(&(_, i)), None) | (None, Some(&(_, i))) => Some(i),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::an1113::origin::Origin;

    fn lease(name: Option<u32>, mac: Option<u32>, start: i64) -> Lease {
        Lease {
            addr: 1,
            name,
            mac,
            start: Timestamp::from_secs(start),
            length: None,
            origin: Origin {
                file: 0,
                record_id: None,
                line: None,
            },
        }
    }

    #[test]
    fn names_merge_by_host_identity_and_nameless_leases_take_their_macs_name() {
        let strings = ["ws07", "WS07.corp.example", "printer", "WSA", "wsa.corp.example"];
        let s = |i: u32| strings[i as usize];
        let leases = [
            lease(Some(0), Some(70), 100),
            lease(Some(1), Some(70), 200),
            lease(None, Some(70), 260),
            lease(None, Some(71), 300),
            lease(Some(2), Some(72), 400),
            lease(Some(4), None, 500),
            lease(None, None, 600),
            lease(None, Some(72), 50),
        ];
        let got = name_leases(&leases, s, &["WSA"]);
        let named = |n, via| {
            Some(LeaseName {
                owner: Owner::Named(n),
                via,
            })
        };
        assert_eq!(
            got,
            [
                // ws07 and WS07.corp.example are one host, known by its FQDN.
                named(1, None),
                named(1, None),
                // Nearest named lease of MAC 70: the one at 200.
                named(1, Some(1)),
                // MAC 71 has no named lease.
                None,
                named(2, None),
                // A lease name that is a Windows host's FQDN is that host.
                Some(LeaseName {
                    owner: Owner::Host(0),
                    via: None
                }),
                None,
                // Before MAC 72's only named lease: still its name.
                named(2, Some(4)),
            ]
        );
    }

    #[test]
    fn nearest_prefers_the_closer_start_and_the_earlier_on_a_tie() {
        let t = Timestamp::from_secs;
        let v = [(t(100), 7), (t(200), 8)];
        assert_eq!(nearest(&v, t(140)), Some(7));
        assert_eq!(nearest(&v, t(160)), Some(8));
        assert_eq!(nearest(&v, t(150)), Some(7));
        assert_eq!(nearest(&v, t(10)), Some(7));
        assert_eq!(nearest(&v, t(900)), Some(8));
        assert_eq!(nearest(&[], t(1)), None);
    }
}
