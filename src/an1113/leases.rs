//! DHCP leases with time: which host an address was at a moment, for the host-level join.
//!
//! A lease of an address starts at its record's `ts` and lasts its `lease_time`, or (when the
//! log gives none, or `0`) until the next lease of that address; it ends early at the next
//! lease of the address (a renewal continues it, another client takes it over) or at a
//! `RELEASE` of it.

use super::origin::Origin;
use crate::time::{Interval, Timestamp};
use hashbrown::HashMap;

/// One acknowledged lease (a `dhcp.log` record with a leased address).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lease {
    /// The address leased (interned).
    pub(crate) addr: u32,
    /// The client's FQDN or host name (interned).
    pub(crate) name: Option<u32>,
    /// The client's MAC (interned).
    pub(crate) mac: Option<u32>,
    pub(crate) start: Timestamp,
    /// The lease time, when the log gives one (and it is not 0).
    pub(crate) length: Option<Interval>,
    pub(crate) origin: Origin,
}

/// Where a lease's validity ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeaseEnd {
    /// Its lease time ran out.
    Expired(Timestamp),
    /// The next lease of the address (a renewal or another client).
    NextLease(Timestamp),
    /// The client released it.
    Released(Timestamp),
    /// Nothing ends it in the data (no lease time, no later lease).
    Open,
}

impl LeaseEnd {
    fn micros(self) -> i64 {
        match self {
            LeaseEnd::Expired(t) | LeaseEnd::NextLease(t) | LeaseEnd::Released(t) => t.as_micros(),
            LeaseEnd::Open => i64::MAX,
        }
    }
}

/// What the leases say about an address at a time.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LeaseAt<'a> {
    /// A lease covers it: the lease, its index in [`LeaseTable::leases`], its end.
    Leased(&'a Lease, usize, LeaseEnd),
    /// The address has leases, none at that time.
    NotAtThatTime,
    /// No lease of the address in the DHCP logs read.
    NoLease,
}

/// The leases of every address, in time order, each with its end.
#[derive(Debug, Clone, Default)]
pub(crate) struct LeaseTable {
    leases: Vec<Lease>,
    /// Per address: indices into `leases` by start, with each lease's end.
    by_addr: HashMap<u32, Vec<(usize, LeaseEnd)>>,
}

impl LeaseTable {
    /// The table of `leases`, ended by `releases` (address, time).
    pub(crate) fn new(mut leases: Vec<Lease>, releases: &[(u32, Timestamp)]) -> Self {
        leases.sort_by_key(|l| (l.addr, l.start));
        let mut released: HashMap<u32, Vec<Timestamp>> = HashMap::new();
        for &(a, t) in releases {
            released.entry(a).or_default().push(t);
        }
        released.values_mut().for_each(|v| v.sort_unstable());
        let mut by_addr: HashMap<u32, Vec<(usize, LeaseEnd)>> = HashMap::new();
        for (i, l) in leases.iter().enumerate() {
            let next = leases
                .get(i + 1)
                .filter(|n| n.addr == l.addr)
                .map_or(LeaseEnd::Open, |n| LeaseEnd::NextLease(n.start));
            let expiry = l
                .length
                .map(|d| LeaseEnd::Expired(Timestamp(l.start.0.saturating_add(d.as_micros()))));
            let release = released.get(&l.addr).and_then(|v| {
                let k = v.partition_point(|&t| t < l.start);
                v.get(k).map(|&t| LeaseEnd::Released(t))
            });
            let end = [Some(next), expiry, release]
                .into_iter()
                .flatten()
                .min_by_key(|e| e.micros())
                .unwrap_or(LeaseEnd::Open);
            by_addr.entry(l.addr).or_default().push((i, end));
        }
        LeaseTable { leases, by_addr }
    }

    /// The leases, sorted by (address, start).
    pub(crate) fn leases(&self) -> &[Lease] {
        &self.leases
    }

    /// The lease of `addr` at `ts`.
    pub(crate) fn at(&self, addr: u32, ts: Timestamp) -> LeaseAt<'_> {
        let Some(v) = self.by_addr.get(&addr) else {
            return LeaseAt::NoLease;
        };
        let k = v.partition_point(|&(i, _)| self.leases[i].start <= ts);
        let Some(&(i, end)) = k.checked_sub(1).and_then(|k| v.get(k)) else {
            return LeaseAt::NotAtThatTime;
        };
        let l = &self.leases[i];
        if ts.as_micros() < end.micros() {
            LeaseAt::Leased(l, i, end)
        } else {
            LeaseAt::NotAtThatTime
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(addr: u32, name: u32, start: i64, secs: Option<i64>) -> Lease {
        Lease {
            addr,
            name: Some(name),
            mac: None,
            start: Timestamp::from_secs(start),
            length: secs.map(Interval::from_secs),
            origin: Origin {
                file: 0,
                record_id: None,
                line: None,
            },
        }
    }

    #[test]
    fn leases_end_at_expiry_next_lease_or_release() {
        let t = LeaseTable::new(
            vec![
                lease(1, 10, 2000, Some(600)),
                lease(1, 11, 1000, None),
                lease(2, 12, 100, Some(50)),
                lease(3, 13, 100, None),
            ],
            &[(3, Timestamp::from_secs(500)), (3, Timestamp::from_secs(50))],
        );
        let name = |a, s| match t.at(a, Timestamp::from_secs(s)) {
            LeaseAt::Leased(l, _, _) => l.name,
            _ => None,
        };
        // Address 1: host 11 from 1000 until the next lease at 2000, then host 10 for 600 s.
        assert_eq!(
            [
                name(1, 999),
                name(1, 1000),
                name(1, 1999),
                name(1, 2000),
                name(1, 2599),
                name(1, 2600)
            ],
            [None, Some(11), Some(11), Some(10), Some(10), None]
        );
        assert!(matches!(t.at(1, Timestamp::from_secs(2600)), LeaseAt::NotAtThatTime));
        assert!(matches!(t.at(1, Timestamp::from_secs(5)), LeaseAt::NotAtThatTime));
        assert!(matches!(
            t.at(1, Timestamp::from_secs(2000)),
            LeaseAt::Leased(_, _, LeaseEnd::Expired(_))
        ));
        assert!(matches!(
            t.at(1, Timestamp::from_secs(1000)),
            LeaseAt::Leased(_, _, LeaseEnd::NextLease(_))
        ));
        // Address 2: 50 s. Address 3: released at 500 (the release before its lease is not its end).
        assert_eq!([name(2, 149), name(2, 150)], [Some(12), None]);
        assert_eq!([name(3, 499), name(3, 500)], [Some(13), None]);
        assert!(matches!(t.at(9, Timestamp::from_secs(1)), LeaseAt::NoLease));
    }
}
