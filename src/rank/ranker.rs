//! The ranker: settings checked once, then any number of series sets ranked.

use super::adjustment::{Adjustment, AdjustmentKind};
use super::destination::{DestinationIndex, DestinationStats};
use super::locality::LocalNets;
use super::persistence::Persistence;
use super::ranked::{Channel, Ranked, RankedSeries};
use crate::allowlist::{Action, Allowlist, AllowlistSummary, Rule};
use crate::beacon::{AnalyzerConfig, BeaconReport, human_secs, score_set};
use crate::error::{Error, Result};
use crate::series::SeriesSet;
use crate::threads::{join, map_in_order};
use std::collections::HashMap;

/// Sources a destination (on one port) may have before fan-in down-ranks it.
pub const FAN_IN_FREE: u32 = 10;
/// Share of the local hosts from which a destination counts as prevalent.
pub const PREVALENT_SHARE: f64 = 0.5;
/// Local hosts the data must have before prevalence is judged.
pub const PREVALENCE_MIN_HOSTS: u32 = 4;

/// Ranks scored series: persistence, allowlist suppression and down-ranking, threshold,
/// minimum size and top-k. Built once by [`Ranker::builder`], used for any number of sets.
///
/// # Example
/// ```
/// use beaconstat::{AnalyzerConfig, ConnEvent, GroupBy, Grouper, Ranker, Timestamp, score_set, allowlist::Allowlist};
/// let mut g = Grouper::new(GroupBy::PairPort);
/// for i in 0..100 {
///     // An NTP poll (suppressed by the default allowlist) and a beacon.
///     g.push(&ConnEvent::new(Timestamp::from_secs(64 * i), "10.0.0.7", "216.239.35.4").with_dst_port(123));
///     g.push(&ConnEvent::new(Timestamp::from_secs(60 * i), "10.0.0.7", "203.0.113.5").with_dst_port(8443));
/// }
/// let set = g.finish();
/// let ranker = Ranker::builder().allowlist(Allowlist::default_rules()).min_events(6).top(10).build()?;
/// let ranked = ranker.rank(&set, score_set(&set, &AnalyzerConfig::default(), 6));
/// assert_eq!(ranked.len(), 2);
/// let shown: Vec<_> = ranked.top().map(|r| r.series.key().dst_port).collect();
/// assert_eq!(shown, [Some(8443)]);
/// assert_eq!(ranked.entries().iter().find_map(|r| r.suppressed_by()), Some("ntp"));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Ranker {
    allowlist: Allowlist,
    local_nets: LocalNets,
    // In [0, 1].
    threshold: f64,
    min_events: usize,
    top: usize,
}

impl Default for Ranker {
    /// [`RankerBuilder`]'s defaults: the default allowlist, threshold 0.5, 6 events, top 15.
    fn default() -> Self {
        Ranker {
            allowlist: Allowlist::default_rules(),
            local_nets: LocalNets::new(),
            threshold: 0.5,
            min_events: 6,
            top: 15,
        }
    }
}

impl Ranker {
    /// A builder with the defaults (see [`RankerBuilder`]).
    pub fn builder() -> RankerBuilder {
        RankerBuilder::default()
    }

    /// The allowlist applied.
    pub fn allowlist(&self) -> &Allowlist {
        &self.allowlist
    }

    /// The local networks directions are judged by.
    pub fn local_nets(&self) -> &LocalNets {
        &self.local_nets
    }

    /// The rank score from which a series counts as a beacon.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The smallest series ranked, in events.
    pub fn min_events(&self) -> usize {
        self.min_events
    }

    /// How many series [`Ranked::top`] yields.
    pub fn top(&self) -> usize {
        self.top
    }

    /// Scores every series of `set` with at least [`min_events`](Ranker::min_events) events
    /// (all cores with the `parallel` feature) and ranks them.
    pub fn score_and_rank<'s>(&self, set: &'s SeriesSet, cfg: &AnalyzerConfig) -> Ranked<'s> {
        // The set-wide views the ranking reads are built while the series are scored.
        let (reports, views) = join(
            || score_set(set, cfg, self.min_events),
            || SetViews::build(set, &self.local_nets),
        );
        self.rank_with(Channel::Conn, set, reports, &views)
    }

    /// Ranks connection series of `set` from their reports (`(series index, report)`, as
    /// [`score_set`] returns them). Reports of series shorter than
    /// [`min_events`](Ranker::min_events) or with an index not in `set` are left out.
    pub fn rank<'s>(&self, set: &'s SeriesSet, reports: Vec<(usize, BeaconReport)>) -> Ranked<'s> {
        self.rank_channel(Channel::Conn, set, reports)
    }

    /// [`rank`](Ranker::rank) for series of the given channel (e.g. DNS query series).
    pub fn rank_channel<'s>(
        &self,
        channel: Channel,
        set: &'s SeriesSet,
        reports: Vec<(usize, BeaconReport)>,
    ) -> Ranked<'s> {
        self.rank_with(channel, set, reports, &SetViews::build(set, &self.local_nets))
    }

    /// Ranks the reports against the set's views: each series on its own (on all cores with
    /// the `parallel` feature), then the allowlist counts and the order, in report order.
    fn rank_with<'s>(
        &self,
        channel: Channel,
        set: &'s SeriesSet,
        reports: Vec<(usize, BeaconReport)>,
        views: &SetViews<'s>,
    ) -> Ranked<'s> {
        let ranked = map_in_order(reports, |(index, report)| {
            self.rank_one(channel, set, views, index, report)
        });
        let mut summary = AllowlistSummary::new();
        let mut entries = Vec::with_capacity(ranked.len());
        for (entry, counted) in ranked.into_iter().flatten() {
            if let Some(rule) = counted {
                summary.record(rule);
            }
            entries.push(entry);
        }
        entries.sort_by(RankedSeries::order);
        Ranked {
            entries,
            allowlist: summary,
            threshold: self.threshold,
            top: self.top,
        }
    }

    /// One report ranked: its entry and the allowlist rule to count for it (one that matched
    /// a series that would have been a beacon but for the allowlist); `None` when the series
    /// is not in `set`, is too short or has no source span.
    fn rank_one<'s, 'r>(
        &'r self,
        channel: Channel,
        set: &'s SeriesSet,
        views: &SetViews<'s>,
        index: usize,
        report: BeaconReport,
    ) -> Option<(RankedSeries<'s>, Option<&'r Rule>)> {
        let series = set.get(index)?;
        if series.len() < self.min_events {
            return None;
        }
        let key = series.key();
        // Persistence is judged against the time each source was observed: the union of the
        // spans of its series (so separate captures of one host, days apart, do not dilute
        // each other).
        let &observed_s = views.observed.get(key.source().unwrap_or(""))?;
        let direction = self.local_nets.direction(&key);
        let destination = views.destinations.stats(&key);
        let mut adjustments = Vec::new();
        let persistence = Persistence::of(&report, observed_s);
        if persistence.factor < 1.0 || persistence.span_factor < 1.0 {
            adjustments.push(persistence_adjustment(&report, &persistence));
        }
        let mut rank_score = report.score * persistence.factor;
        if let Some(a) = fan_in_adjustment(&key, &destination) {
            rank_score *= a.factor;
            adjustments.push(a);
        }
        let mut counted = None;
        if let Some(rule) = self.allowlist.match_key(&key, None) {
            // Counted when the series would have been a beacon but for the allowlist.
            if rank_score >= self.threshold {
                counted = Some(rule);
            }
            let name = rule.name().to_string();
            match rule.action() {
                Action::Suppress => adjustments.push(Adjustment::new(
                    AdjustmentKind::Suppressed { rule: name },
                    1.0,
                    format!("suppressed by allowlist rule {}", rule.name()),
                )),
                Action::Downrank(f) => {
                    rank_score *= f;
                    adjustments.push(Adjustment::new(
                        AdjustmentKind::Downranked { rule: name },
                        f,
                        format!(
                            "downranked by allowlist rule {} (raw score {:.2})",
                            rule.name(),
                            report.score
                        ),
                    ));
                }
            }
        }
        let entry = RankedSeries {
            series,
            channel,
            report,
            rank_score,
            direction,
            destination,
            adjustments,
        };
        Some((entry, counted))
    }
}

/// What the ranking reads of the whole set: each source's observed time and the
/// destinations' fan-in, prevalence and novelty.
struct SetViews<'s> {
    observed: HashMap<&'s str, f64>,
    destinations: DestinationIndex<'s>,
}

impl<'s> SetViews<'s> {
    /// Both views, built side by side with the `parallel` feature.
    fn build(set: &'s SeriesSet, nets: &LocalNets) -> Self {
        let (observed, destinations) = join(
            || set.observed_seconds_by_source(),
            || DestinationIndex::build(set, nets),
        );
        SetViews { observed, destinations }
    }
}

/// The persistence adjustment, in words: the span, and the evidence floor where it held the
/// series up.
fn persistence_adjustment(report: &BeaconReport, p: &Persistence) -> Adjustment {
    let kind = AdjustmentKind::Persistence {
        span_share: p.span_share,
        evidence_floor: p.evidence_floor,
    };
    let span = format!("short-lived: spans {:.1}% of its source's time", 100.0 * p.span_share);
    let reason = if p.evidence_floor > p.span_factor {
        format!(
            "{span}, but {} check-ins every {} at p={:.0e} hold it at x{:.2}",
            report.beats,
            report.period.map_or("?".to_string(), |p| human_secs(p.as_secs_f64())),
            report.p_value,
            p.factor
        )
    } else {
        format!("{span} (score x{:.2})", p.factor)
    };
    Adjustment::new(kind, p.factor, reason)
}

/// Fan-in (many sources on the destination's port), else prevalence (most local hosts reach
/// the destination): one down-rank at most, the stronger reason first.
fn fan_in_adjustment(key: &crate::series::SeriesKey<'_>, d: &DestinationStats) -> Option<Adjustment> {
    let dst = super::destination::destination(key)?;
    if d.port_sources > FAN_IN_FREE {
        let factor = (f64::from(FAN_IN_FREE) / f64::from(d.port_sources)).sqrt();
        let target = match key.dst_port {
            Some(p) if dst.contains(':') => format!("[{dst}]:{p}"),
            Some(p) => format!("{dst}:{p}"),
            None => dst.to_string(),
        };
        return Some(Adjustment::new(
            AdjustmentKind::FanIn {
                sources: d.port_sources,
                port: key.dst_port,
            },
            factor,
            format!(
                "one of {} sources hitting {target}: a service or a probed port (score x{factor:.2})",
                d.port_sources
            ),
        ));
    }
    let share = d.local_share();
    if d.local_total >= PREVALENCE_MIN_HOSTS && share >= PREVALENT_SHARE {
        let factor = 1.0 - share / 2.0;
        return Some(Adjustment::new(
            AdjustmentKind::Prevalence {
                local_sources: d.local_sources,
                local_total: d.local_total,
            },
            factor,
            format!(
                "reached by {} of {} local hosts ({:.0}%): shared infrastructure (score x{factor:.2})",
                d.local_sources,
                d.local_total,
                100.0 * share
            ),
        ));
    }
    None
}

/// Settings of a [`Ranker`], checked by [`build`](RankerBuilder::build).
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `allowlist` | [`Allowlist::default_rules`] | suppress or down-rank known-benign series |
/// | `local_nets` | [`LocalNets::new`] | which addresses are local (the direction of a series) |
/// | `threshold` | 0.5 | rank score from which a series counts as a beacon |
/// | `min_events` | 6 | smallest series ranked |
/// | `top` | 15 | series [`Ranked::top`] yields |
///
/// # Example
/// ```
/// use beaconstat::{ErrorKind, Ranker, allowlist::Allowlist};
/// let ranker = Ranker::builder().allowlist(Allowlist::new()).threshold(0.7).build()?;
/// assert_eq!(ranker.threshold(), 0.7);
/// let err = Ranker::builder().threshold(1.5).build().unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Config { field: "threshold", .. }));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct RankerBuilder {
    ranker: Ranker,
}

impl RankerBuilder {
    /// The allowlist (default: [`Allowlist::default_rules`]; [`Allowlist::new`] for none).
    pub fn allowlist(mut self, allowlist: Allowlist) -> Self {
        self.ranker.allowlist = allowlist;
        self
    }

    /// The local networks (default: [`LocalNets::new`], the private ranges; add the site's own
    /// networks and what the sensor marked local with [`LocalNets::observe`]).
    pub fn local_nets(mut self, nets: LocalNets) -> Self {
        self.ranker.local_nets = nets;
        self
    }

    /// The rank score from which a series counts as a beacon, in `[0, 1]` (default 0.5).
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.ranker.threshold = threshold;
        self
    }

    /// The smallest series ranked, in events (default 6).
    pub fn min_events(mut self, n: usize) -> Self {
        self.ranker.min_events = n;
        self
    }

    /// How many series [`Ranked::top`] yields (default 15).
    pub fn top(mut self, k: usize) -> Self {
        self.ranker.top = k;
        self
    }

    /// Checks the settings and returns the ranker.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for a threshold that is not a number
    /// in `[0, 1]`.
    pub fn build(self) -> Result<Ranker> {
        let t = self.ranker.threshold;
        if !(t.is_finite() && (0.0..=1.0).contains(&t)) {
            return Err(Error::config("threshold", format!("{t} is not in [0, 1]")));
        }
        Ok(self.ranker)
    }
}
