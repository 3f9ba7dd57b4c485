//! Ranking: from scored series to a ranked, explained list.
//!
//! A [`BeaconReport`](crate::BeaconReport) says how periodic one series is. A hunter needs
//! more: which series to look at first. A [`Ranker`], built once from a [`RankerBuilder`],
//! turns the reports of a [`SeriesSet`](crate::SeriesSet) into a [`Ranked`] list of
//! [`RankedSeries`], each with its `rank_score`, its raw beacon score and every
//! [`Adjustment`] that moved one to the other, in words and as data:
//!
//! 1. **Direction.** Each series' source and destination are local or external
//!    ([`LocalNets`]: private ranges, the user's networks, and what the sensor marked local),
//!    which gives its [`Direction`]. Direction does not change the score: each direction is
//!    its own view ([`Ranked::view`]), outbound (what AN1113 asks for) shown first.
//! 2. **Persistence.** A series spanning less than a tenth of the time its source was observed
//!    is damped (sub-second floods and retry storms are regular, but they are not check-in
//!    schedules), but never below the floor its evidence sets: a short run of strongly
//!    significant check-ins at a plausible period keeps most of its score ([`Persistence`]).
//! 3. **Fan-in and prevalence.** A destination more than [`FAN_IN_FREE`] sources reach on
//!    the series' port is a service or a probed port: the score is multiplied by
//!    `√(FAN_IN_FREE / sources)` ("one of 421 sources hitting 203.0.113.10:22"). Otherwise, a
//!    destination at least [`PREVALENT_SHARE`] of the local hosts reach (with at least
//!    [`PREVALENCE_MIN_HOSTS`] of them) is shared infrastructure: multiplied by
//!    `1 − share / 2`. Both are reported with the first sight of the destination (novelty) in
//!    [`DestinationStats`].
//! 4. **Allowlist.** The first matching [`Rule`](crate::allowlist::Rule) either suppresses the series
//!    (it stays in the list, marked, at its score: JSON output keeps it) or multiplies its
//!    score by the rule's down-rank factor.
//! 5. **Order.** Highest `rank_score` first, ties by more events; [`Ranked::top`] yields the
//!    first `top` series not suppressed, [`Ranked::beacons`] counts those at or above the
//!    threshold.
//!
//! Each adjustment has an [`AdjustmentKind`] (new kinds may be added, e.g. task context from
//! the lineage join), a factor in `[0, 1]` and a reason a person can read. The rank score is
//! monotone in the evidence: each factor is, and the beacon score is.
//!
//! # Example
//! ```
//! use beaconstat::{AnalyzerConfig, ConnEvent, GroupBy, Grouper, Ranker, Timestamp};
//! let mut g = Grouper::new(GroupBy::PairPort);
//! for i in 0..200 {
//!     // A 5-minute beacon for the whole capture, and a 2-second burst early on.
//!     g.push(&ConnEvent::new(Timestamp::from_secs(300 * i), "10.0.0.7", "203.0.113.50").with_dst_port(443));
//!     g.push(&ConnEvent::new(Timestamp::from_secs(2 * i), "10.0.0.7", "198.51.100.2").with_dst_port(80));
//! }
//! let set = g.finish();
//! let ranker = Ranker::builder().threshold(0.5).build()?;
//! let ranked = ranker.score_and_rank(&set, &AnalyzerConfig::default());
//! let first = &ranked.entries()[0];
//! assert_eq!(first.series.key().dst, Some("203.0.113.50"));
//! let burst = &ranked.entries()[1];
//! assert!(burst.rank_score < burst.raw_score());
//! assert!(burst.adjustments[0].reason.starts_with("short-lived"));
//! # Ok::<(), beaconstat::Error>(())
//! ```

mod adjustment;
mod destination;
mod locality;
mod persistence;
mod ranked;
mod ranker;

pub use adjustment::{Adjustment, AdjustmentKind};
pub use destination::DestinationStats;
pub use locality::{Direction, LocalNets};
pub use persistence::{BURST_PERIOD_S, FULL_EVIDENCE_BEATS, FULL_EVIDENCE_DECADES, PLAUSIBLE_PERIOD_S, Persistence};
pub use ranked::{Channel, Ranked, RankedSeries};
pub use ranker::{FAN_IN_FREE, PREVALENCE_MIN_HOSTS, PREVALENT_SHARE, Ranker, RankerBuilder};
