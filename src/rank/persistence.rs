//! Persistence with an evidence floor: short bursts are damped, strong check-in schedules are
//! not pushed below weak noise.

use crate::beacon::{BeaconReport, PERSISTENT_SHARE, persistence_over};
use crate::time::Interval;

/// Periods at or below this are bursts (floods, retry storms): no evidence floor.
pub const BURST_PERIOD_S: f64 = 2.0;
/// Periods at or above this are plausible check-in schedules: the whole floor.
pub const PLAUSIBLE_PERIOD_S: f64 = 20.0;
/// `−log10 p` at which the evidence is full.
pub const FULL_EVIDENCE_DECADES: f64 = 8.0;
/// Check-ins (beats) at which the evidence is full.
pub const FULL_EVIDENCE_BEATS: f64 = 20.0;

/// How persistent a scored series is, and how much its evidence holds it up.
///
/// - `span_factor` = [`persistence_over`]: `min(1, √(span / (0.1 × observed)))`, which keeps
///   sub-second floods and retry storms down.
/// - `evidence_floor` = `plausible(period) × min(1, −log10 p / 8) × min(1, √(beats / 20))`,
///   where `plausible` is 0 for periods ≤ 2 s, 1 from 20 s, log-linear between. A short run of
///   strongly significant check-ins at a plausible period (15 check-ins every 60 s, p ≈ 1e-6)
///   is a beacon that ran briefly, not noise.
/// - `factor` = `max(span_factor, evidence_floor)`: non-decreasing in the span, the number
///   of check-ins and `−log10 p`, so ranking is monotone in evidence.
///
/// # Example
/// ```
/// use beaconstat::Analyzer;
/// use beaconstat::rank::Persistence;
/// let two_days = 172_800.0;
/// // 15 check-ins every 60 s: a quarter of an hour of a two-day capture.
/// let beacon: Vec<i64> = (0..15).map(|i| i * 60_000_000 + (i * 7919 % 4) * 600_000).collect();
/// let r = Analyzer::default().score(&beacon, None);
/// let p = Persistence::of(&r, two_days);
/// assert!(p.span_factor < 0.25);
/// assert!(p.factor > 0.4 && p.factor == p.evidence_floor);
/// // A sub-second flood gets no floor.
/// let flood: Vec<i64> = (0..100).map(|i| i * 200_000).collect();
/// let f = Persistence::of(&Analyzer::default().score(&flood, None), two_days);
/// assert_eq!(f.evidence_floor, 0.0);
/// assert!(f.factor < 0.05);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Persistence {
    /// Span of the series over the time its source was observed, in `[0, 1]`.
    pub span_share: f64,
    /// The span's factor, in `[0, 1]`.
    pub span_factor: f64,
    /// The floor the series' evidence sets, in `[0, 1]`.
    pub evidence_floor: f64,
    /// The factor the score is multiplied by: the larger of the two, in `[0, 1]`.
    pub factor: f64,
}

impl Persistence {
    /// The persistence of `report` within `observed_s` seconds of its source's observation.
    pub fn of(report: &BeaconReport, observed_s: f64) -> Persistence {
        let span_factor = persistence_over(report, observed_s);
        let span_share = (PERSISTENT_SHARE * span_factor * span_factor).clamp(0.0, 1.0);
        let evidence_floor = evidence_floor(report);
        Persistence {
            span_share,
            span_factor,
            evidence_floor,
            factor: span_factor.max(evidence_floor).clamp(0.0, 1.0),
        }
    }
}

fn evidence_floor(r: &BeaconReport) -> f64 {
    let Some(period) = r.period.map(Interval::as_secs_f64).filter(|p| *p > 0.0) else {
        return 0.0;
    };
    let plausible = ((period / BURST_PERIOD_S).ln() / (PLAUSIBLE_PERIOD_S / BURST_PERIOD_S).ln()).clamp(0.0, 1.0);
    let decades = if r.p_value > 0.0 {
        -r.p_value.log10()
    } else {
        f64::INFINITY
    };
    let significance = (decades / FULL_EVIDENCE_DECADES).clamp(0.0, 1.0);
    let beats = (r.beats as f64 / FULL_EVIDENCE_BEATS).sqrt().clamp(0.0, 1.0);
    let floor = plausible * significance * beats;
    if floor.is_nan() { 0.0 } else { floor }
}
