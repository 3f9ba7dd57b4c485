//! Ranking: from scored series to a ranked, explained list.
//!
//! A [`BeaconReport`](crate::BeaconReport) says how periodic one series is. A hunter needs
//! more: which series to look at first. A [`Ranker`], built once from a [`RankerBuilder`],
//! turns the reports of a [`SeriesSet`](crate::SeriesSet) into a [`Ranked`] list of
//! [`RankedSeries`], each with its `rank_score`, its raw beacon score and every
//! [`Adjustment`] that moved one to the other, in words and as data:
//!
//! 1. **Persistence.** A series spanning less than a tenth of the time its source was observed
//!    is damped by [`persistence_over`](crate::beacon::persistence_over) (sub-second floods and retry
//!    storms are regular, but they are not check-in schedules).
//! 2. **Allowlist.** The first matching [`Rule`](crate::allowlist::Rule) either suppresses the series
//!    (it stays in the list, marked, at its score: JSON output keeps it) or multiplies its
//!    score by the rule's down-rank factor.
//! 3. **Order.** Highest `rank_score` first, ties by more events; [`Ranked::top`] yields the
//!    first `top` series not suppressed, [`Ranked::beacons`] counts those at or above the
//!    threshold.
//!
//! Each adjustment has an [`AdjustmentKind`] (new kinds may be added: direction, fan-in,
//! task context), a factor in `[0, 1]` and a reason a person can read.
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
mod ranked;
mod ranker;

pub use adjustment::{Adjustment, AdjustmentKind};
pub use ranked::{Channel, Ranked, RankedSeries};
pub use ranker::{Ranker, RankerBuilder};
