//! Fan-in, prevalence and novelty of each destination, over a whole series set.

use super::locality::LocalNets;
use crate::series::{SeriesKey, SeriesSet};
use crate::time::Timestamp;
use hashbrown::{HashMap, HashSet};

/// What the whole data says about a series' destination: how many sources reach it (fan-in),
/// how many of the local hosts do (prevalence), and when it was first seen (novelty).
///
/// A destination many sources reach on one port is a service (a brute-forced SSH port, a
/// monitoring endpoint); one most local hosts reach is shared infrastructure (an update
/// service). A C2 server is usually reached by few.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct DestinationStats {
    /// Distinct sources reaching the destination on this series' port (on any port when the
    /// series has none).
    pub port_sources: u32,
    /// Distinct sources reaching the destination on any port.
    pub sources: u32,
    /// Distinct local sources reaching the destination on any port.
    pub local_sources: u32,
    /// Distinct local sources in the whole data.
    pub local_total: u32,
    /// The first contact with the destination, by any source.
    pub first_seen: Timestamp,
    /// Whether the destination was first seen after the first tenth of the data's time range
    /// (new, rather than reached since the data began).
    pub novel: bool,
}

impl DestinationStats {
    /// The share of local sources reaching the destination, in `[0, 1]` (0 with no local
    /// sources).
    pub fn local_share(&self) -> f64 {
        if self.local_total == 0 {
            0.0
        } else {
            f64::from(self.local_sources) / f64::from(self.local_total)
        }
    }
}

/// The destination a key names: its address, else its server name.
pub(crate) fn destination<'k>(key: &SeriesKey<'k>) -> Option<&'k str> {
    key.dst.or(key.name)
}

#[derive(Debug, Clone, Copy)]
struct PerDestination {
    sources: u32,
    local_sources: u32,
    first_seen: i64,
}

/// Per-destination counts over every series of a set (every series, whatever its size: a
/// brute-forcer or a scanner with two connections still counts as a source).
#[derive(Debug)]
pub(crate) struct DestinationIndex<'s> {
    per_dst: HashMap<&'s str, PerDestination>,
    per_port: HashMap<(&'s str, Option<u16>), u32>,
    local_total: u32,
    // The data's time range, for novelty.
    start: i64,
    span: i64,
}

impl<'s> DestinationIndex<'s> {
    pub(crate) fn build(set: &'s SeriesSet, nets: &LocalNets) -> Self {
        let mut per_dst: HashMap<&'s str, PerDestination> = HashMap::new();
        let mut per_port: HashMap<(&'s str, Option<u16>), u32> = HashMap::new();
        // Distinct (destination, source) and (destination, port, source): keys may repeat a
        // pair when they also carry a host, a process or a name.
        let mut seen_dst: HashSet<(&'s str, &'s str)> = HashSet::with_capacity(set.len());
        let mut seen_port: HashSet<(&'s str, Option<u16>, &'s str)> = HashSet::with_capacity(set.len());
        // Each source's locality, decided once.
        let mut local: HashMap<&'s str, bool> = HashMap::new();
        for s in set.iter() {
            let key = s.key();
            let (Some(dst), Some(first)) = (destination(&key), s.first()) else {
                continue;
            };
            let src = key.source().unwrap_or("");
            let is_local = *local
                .entry(src)
                .or_insert_with(|| nets.source_is_local(&key).unwrap_or(false));
            let d = per_dst.entry(dst).or_insert(PerDestination {
                sources: 0,
                local_sources: 0,
                first_seen: first.0,
            });
            d.first_seen = d.first_seen.min(first.0);
            if seen_dst.insert((dst, src)) {
                d.sources += 1;
                d.local_sources += u32::from(is_local);
            }
            if seen_port.insert((dst, key.dst_port, src)) {
                *per_port.entry((dst, key.dst_port)).or_insert(0) += 1;
            }
        }
        let local_total = local.values().filter(|&&l| l).count() as u32;
        let (start, span) = set.time_range().map_or((0, 0), |(a, b)| (a.0, b.0.saturating_sub(a.0)));
        DestinationIndex {
            per_dst,
            per_port,
            local_total,
            start,
            span,
        }
    }

    pub(crate) fn stats(&self, key: &SeriesKey<'_>) -> DestinationStats {
        let Some(dst) = destination(key) else {
            return DestinationStats::default();
        };
        let Some(d) = self.per_dst.get(dst) else {
            return DestinationStats::default();
        };
        let port_sources = self.per_port.get(&(dst, key.dst_port)).copied().unwrap_or(d.sources);
        DestinationStats {
            port_sources,
            sources: d.sources,
            local_sources: d.local_sources,
            local_total: self.local_total,
            first_seen: Timestamp(d.first_seen),
            novel: self.span > 0 && d.first_seen.saturating_sub(self.start) > self.span / 10,
        }
    }
}
