//! The standard beacon regimes and an evaluation of an [`Analyzer`] on them: recall at a
//! threshold, period accuracy, and false positives on aperiodic traffic of the same size.

use super::{BeaconSpec, Jitter, Rng, browsing, diurnal, poisson};
use crate::beacon::Analyzer;

/// One beacon style, with what a detector should recover from it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Regime {
    /// Short name.
    pub name: &'static str,
    /// The generator.
    pub spec: BeaconSpec,
    /// True mean interval between check-ins, seconds.
    pub period: f64,
    /// Relative period tolerance: 2%, 5% at ±50% jitter, and 5% where few check-ins make the
    /// sampling error itself larger.
    pub tolerance: f64,
    /// Another acceptable period (a sleep that changes midway may report either).
    pub alt_period: Option<f64>,
    /// The recall this crate's defaults must reach at a 0.5 threshold.
    pub min_recall: f64,
}

/// The regimes attackers use: periods from 1 s to 24 h; ±50% jitter (uniform, Gaussian, Cobalt
/// Strike); 30% missed check-ins; bursts; working hours; a sleep that changes midway; as few as
/// 8 check-ins.
///
/// # Example
/// ```
/// let names: Vec<_> = beaconstat::synth::regimes().iter().map(|r| r.name).collect();
/// assert!(names.contains(&"300 s ±50% uniform"));
/// ```
pub fn regimes() -> Vec<Regime> {
    let r = |name, spec, period, tolerance, min_recall| Regime {
        name,
        spec,
        period,
        tolerance,
        alt_period: None,
        min_recall,
    };
    vec![
        r("1 s strict", BeaconSpec::new(1.0, 300), 1.0, 0.02, 1.0),
        r("60 s strict", BeaconSpec::new(60.0, 200), 60.0, 0.02, 1.0),
        r(
            "24 h strict, 8 check-ins",
            BeaconSpec::new(86_400.0, 8),
            86_400.0,
            0.02,
            1.0,
        ),
        r(
            "60 s ±5%, 8 check-ins",
            BeaconSpec::new(60.0, 8).jitter(Jitter::Uniform(0.05)),
            60.0,
            0.05,
            0.9,
        ),
        r(
            "300 s ±10% uniform",
            BeaconSpec::new(300.0, 150).jitter(Jitter::Uniform(0.1)),
            300.0,
            0.02,
            1.0,
        ),
        r(
            "300 s ±50% uniform",
            BeaconSpec::new(300.0, 300).jitter(Jitter::Uniform(0.5)),
            300.0,
            0.05,
            0.9,
        ),
        r(
            "300 s ±50% gaussian",
            BeaconSpec::new(300.0, 300).jitter(Jitter::Gaussian(0.5)),
            300.0,
            0.05,
            0.95,
        ),
        r(
            "300 s Cobalt Strike 50%",
            BeaconSpec::new(300.0, 300).jitter(Jitter::CobaltStrike(0.5)),
            225.0,
            0.05,
            0.95,
        ),
        r(
            "60 s ±10%, 30% missed",
            BeaconSpec::new(60.0, 200).jitter(Jitter::Uniform(0.1)).missed(0.3),
            60.0,
            0.02,
            0.95,
        ),
        r(
            "60 s, bursts of 3",
            BeaconSpec::new(60.0, 150).jitter(Jitter::Uniform(0.05)).burst(3, 0.2),
            60.0,
            0.02,
            1.0,
        ),
        r(
            "60 s working hours only",
            BeaconSpec::new(60.0, 1500)
                .jitter(Jitter::Uniform(0.1))
                .working_hours(8, 18),
            60.0,
            0.02,
            1.0,
        ),
        // 60 intervals at ±20% (σ 11.5%): the sampling error of the mean alone is 1.5%.
        r(
            "4 h ±20%",
            BeaconSpec::new(14_400.0, 60).jitter(Jitter::Uniform(0.2)),
            14_400.0,
            0.05,
            1.0,
        ),
        Regime {
            name: "60 s then 300 s midway",
            spec: BeaconSpec::new(60.0, 200)
                .jitter(Jitter::Uniform(0.1))
                .sleep_change(0.5, 300.0),
            period: 60.0,
            tolerance: 0.05,
            alt_period: Some(300.0),
            min_recall: 0.9,
        },
    ]
}

/// Aperiodic traffic with the same event count and span as `like`: Poisson, bursty browsing
/// or diurnal load, by `kind % 3`.
pub fn aperiodic_like(kind: usize, rng: &mut Rng, like: &[i64], start_us: i64) -> Vec<i64> {
    let n = like.len().max(2);
    let span = match (like.first(), like.last()) {
        (Some(a), Some(b)) => (b.saturating_sub(*a)) as f64 / 1e6,
        _ => 3600.0,
    };
    let gap = (span / n as f64).max(1e-3);
    match kind % 3 {
        0 => poisson(rng, n, gap, start_us),
        1 => browsing(rng, n, gap * 6.0, 5.0, start_us),
        _ => diurnal(rng, n, gap / 2.0, start_us),
    }
}

/// How an analyzer did on one regime.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct RegimeResult {
    /// Share of beacons scoring at or above the threshold.
    pub recall: f64,
    /// Share of beacons whose period is within the regime's tolerance.
    pub period_ok: f64,
    /// Mean beacon score.
    pub beacon_mean: f64,
    /// Mean score of the matched aperiodic series.
    pub aperiodic_mean: f64,
    /// Share of aperiodic series scoring at or above the threshold.
    pub false_positive: f64,
}

/// Runs `trials` seeds of a regime (and as many aperiodic series of the same size) through
/// `analyzer`.
///
/// # Example
/// ```
/// use beaconstat::{Analyzer, synth};
/// let reg = &synth::regimes()[1];
/// let res = synth::evaluate(&mut Analyzer::default(), reg, 5, 0.5);
/// assert_eq!(res.recall, 1.0);
/// assert_eq!(res.false_positive, 0.0);
/// ```
pub fn evaluate(analyzer: &mut Analyzer, regime: &Regime, trials: u64, threshold: f64) -> RegimeResult {
    const START: i64 = 1_700_000_000_000_000;
    let mut out = RegimeResult::default();
    if trials == 0 {
        return out;
    }
    for seed in 0..trials {
        let mut rng = Rng::new(seed);
        let ts = regime.spec.generate(&mut rng, START);
        let r = analyzer.score(&ts, None);
        out.beacon_mean += r.score;
        out.recall += f64::from(u8::from(r.score >= threshold));
        let within = |p: f64, want: f64| (p - want).abs() <= regime.tolerance * want;
        if let Some(p) = r.period.map(|p| p.as_secs_f64())
            && (within(p, regime.period) || regime.alt_period.is_some_and(|a| within(p, a)))
        {
            out.period_ok += 1.0;
        }
        let noise = aperiodic_like(seed as usize, &mut rng, &ts, START);
        let rn = analyzer.score(&noise, None);
        out.aperiodic_mean += rn.score;
        out.false_positive += f64::from(u8::from(rn.score >= threshold));
    }
    let t = trials as f64;
    out.recall /= t;
    out.period_ok /= t;
    out.beacon_mean /= t;
    out.aperiodic_mean /= t;
    out.false_positive /= t;
    out
}
