//! The ranked list and its entries.

use super::adjustment::{Adjustment, AdjustmentKind};
use super::destination::DestinationStats;
use super::locality::Direction;
use crate::allowlist::AllowlistSummary;
use crate::beacon::BeaconReport;
use crate::series::Series;
use core::cmp::Ordering;

/// What a series counts: connections, or DNS queries (per source and registered domain, from
/// [`DnsChannelSet`](crate::names::DnsChannelSet)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Channel {
    /// Connections (Zeek `conn.log`, Sysmon 3, CSV).
    #[default]
    Conn,
    /// DNS queries.
    Dns,
}

impl Channel {
    /// `conn` or `dns`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Conn => "conn",
            Channel::Dns => "dns",
        }
    }
}

/// One series in a [`Ranked`] list: the series, its beacon report, its rank score and the
/// adjustments that led from one to the other.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RankedSeries<'s> {
    /// The series (its key, its index in its set, its timestamps).
    pub series: Series<'s>,
    /// What the series counts.
    pub channel: Channel,
    /// The beacon report ([`BeaconReport::score`] is the raw score).
    pub report: BeaconReport,
    /// The score the list is ordered by: the raw score times every adjustment's factor, in
    /// `[0, 1]`.
    pub rank_score: f64,
    /// Which way the series goes (local → external, …).
    pub direction: Direction,
    /// Fan-in, prevalence and novelty of the series' destination.
    pub destination: DestinationStats,
    /// Every adjustment made, in the order applied.
    pub adjustments: Vec<Adjustment>,
}

impl RankedSeries<'_> {
    /// The beacon score before any adjustment.
    pub fn raw_score(&self) -> f64 {
        self.report.score
    }

    /// The persistence factor applied (1 when the series is persistent).
    pub fn persistence(&self) -> f64 {
        self.adjustments
            .iter()
            .find(|a| matches!(a.kind, AdjustmentKind::Persistence { .. }))
            .map_or(1.0, |a| a.factor)
    }

    /// The allowlist rule that suppressed the series, if one did.
    pub fn suppressed_by(&self) -> Option<&str> {
        self.adjustments.iter().find_map(|a| match &a.kind {
            AdjustmentKind::Suppressed { rule } => Some(rule.as_str()),
            _ => None,
        })
    }

    /// The allowlist rule that down-ranked the series, if one did.
    pub fn downranked_by(&self) -> Option<&str> {
        self.adjustments.iter().find_map(|a| match &a.kind {
            AdjustmentKind::Downranked { rule } => Some(rule.as_str()),
            _ => None,
        })
    }

    /// Whether the series is suppressed.
    pub fn is_suppressed(&self) -> bool {
        self.suppressed_by().is_some()
    }

    /// Ranking order: higher rank score first, then more events.
    pub(crate) fn order(&self, other: &Self) -> Ordering {
        other
            .rank_score
            .total_cmp(&self.rank_score)
            .then(other.report.events.cmp(&self.report.events))
    }
}

/// A ranked list of series: every series scored (suppressed ones included, marked), highest
/// rank score first, with what the allowlist did.
#[derive(Debug, Clone, Default)]
pub struct Ranked<'s> {
    pub(crate) entries: Vec<RankedSeries<'s>>,
    pub(crate) allowlist: AllowlistSummary,
    // The ranker's settings, kept so the list answers `top` and `beacons` by itself.
    pub(crate) threshold: f64,
    pub(crate) top: usize,
}

impl<'s> Ranked<'s> {
    /// Every series, in rank order (suppressed ones included).
    pub fn entries(&self) -> &[RankedSeries<'s>] {
        &self.entries
    }

    /// Consumes the list into its entries, in rank order.
    pub fn into_entries(self) -> Vec<RankedSeries<'s>> {
        self.entries
    }

    /// Number of series ranked.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no series was ranked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first [`top`](super::RankerBuilder::top) series that are not suppressed, in rank
    /// order.
    pub fn top(&self) -> impl Iterator<Item = &RankedSeries<'s>> + '_ {
        self.entries.iter().filter(|r| !r.is_suppressed()).take(self.top)
    }

    /// How many series are not suppressed and score at or above the threshold.
    pub fn beacons(&self) -> usize {
        self.entries
            .iter()
            .filter(|r| !r.is_suppressed() && r.rank_score >= self.threshold)
            .count()
    }

    /// The series of one direction, in rank order (suppressed ones included).
    pub fn view(&self, direction: Direction) -> impl Iterator<Item = &RankedSeries<'s>> + '_ {
        self.entries.iter().filter(move |r| r.direction == direction)
    }

    /// The first [`top`](super::RankerBuilder::top) series of one direction that are not
    /// suppressed, in rank order.
    pub fn top_in(&self, direction: Direction) -> impl Iterator<Item = &RankedSeries<'s>> + '_ {
        self.view(direction).filter(|r| !r.is_suppressed()).take(self.top)
    }

    /// Per direction (in [`Direction::ALL`] order, outbound first): how many series, and how
    /// many of them are beacons (not suppressed, at or above the threshold).
    pub fn counts(&self) -> [(Direction, usize, usize); 5] {
        Direction::ALL.map(|d| {
            let (mut n, mut beacons) = (0, 0);
            for r in self.view(d) {
                n += 1;
                beacons += usize::from(!r.is_suppressed() && r.rank_score >= self.threshold);
            }
            (d, n, beacons)
        })
    }

    /// What the allowlist suppressed and down-ranked among the series that reached the
    /// threshold before down-ranking.
    pub fn allowlist_summary(&self) -> &AllowlistSummary {
        &self.allowlist
    }

    /// Adds another list's series (e.g. DNS series next to connection series), keeping rank
    /// order; on equal rank score and events, this list's series come first.
    pub fn merge(&mut self, other: Ranked<'s>) {
        self.entries.extend(other.entries);
        // Stable: ties keep their order of arrival.
        self.entries.sort_by(RankedSeries::order);
        self.allowlist.merge(&other.allowlist);
    }
}
