//! Evasive schedules: sleeps built to beat regularity tests, named for what they are.
//!
//! - **Fibonacci sleeps**: each interval is about the sum of the previous two (restarting from
//!   a base now and then). Test: the share of intervals within 10% of the sum of the two before.
//! - **Exponential back-off**: each interval is a constant factor `r > 1` times the one before
//!   (restarting). `r` is the median ratio over the growing steps; test: the share of intervals
//!   within 10% of `r` times the one before.
//! - **Random times daily**: the same number of check-ins every UTC day at random times.
//!   Test: the share of whole days (the first and last are partial) with the modal count,
//!   against the Poisson probability of that count at the series' daily rate.
//!
//! The chance of each relation comes from the series itself: the same relation over quasi-random
//! pairings of its intervals (two per interval), which keeps the intervals' distribution and
//! breaks their order (plus one pseudo-hit). The daily test's chance is the Poisson one. The
//! binomial tail of the hits is the p-value, corrected for the three tests. The two interval
//! tests run only when intervals grow often (more than 55% of steps grow by a quarter; about 44%
//! do in a Poisson series, none in a fixed-period one), the daily one on eight days or more.

use super::stats::binomial_sf_with_decades;

/// A named evasive schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ScheduleKind {
    /// Each interval about the sum of the previous two.
    #[default]
    Fibonacci,
    /// Each interval a constant factor times the one before.
    Backoff,
    /// The same number of check-ins each UTC day, at random times.
    Daily,
}

/// The evidence for a named schedule: hits of its relation against chance.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ScheduleEvidence {
    /// Which schedule.
    pub kind: ScheduleKind,
    /// Intervals (or days) that follow the relation.
    pub hits: usize,
    /// Intervals (or days) tested.
    pub trials: usize,
    /// Share expected by chance.
    pub chance: f64,
    /// Binomial tail of the hits against chance, corrected for the three schedules tried.
    pub p_value: f64,
    /// The back-off factor, or the check-ins per day (0 for Fibonacci).
    pub parameter: f64,
}

impl ScheduleEvidence {
    /// `(hits/(trials + 1) − chance) / (1 − chance)`, in `[0, 1]` (one pseudo-trial missed, as
    /// for the interval fit: more evidence scores higher).
    pub fn excess(&self) -> f64 {
        if self.trials == 0 || self.chance >= 1.0 {
            return 0.0;
        }
        let e = self.hits as f64 / (self.trials + 1) as f64;
        ((e - self.chance) / (1.0 - self.chance)).clamp(0.0, 1.0)
    }
}

/// Relative tolerance of the Fibonacci and back-off relations.
const RELATION_TOLERANCE: f64 = 0.1;

/// Share of growing steps (by a quarter or more) from which the interval tests run.
const GROWTH_SCREEN: f64 = 0.55;

/// Fewest intervals for the interval tests, and fewest whole days for the daily one.
const MIN_INTERVALS: usize = 12;
const MIN_DAYS: usize = 6;

/// Largest daily count the daily test considers.
const MAX_PER_DAY: usize = 24;

/// Schedules tried (the p-value's correction).
const TESTS: f64 = 3.0;

const DAY_US: i64 = 86_400_000_000;

/// Scratch for the schedule tests.
#[derive(Debug, Default)]
pub(crate) struct ScheduleScratch {
    ratios: Vec<f64>,
}

impl ScheduleScratch {
    /// The most significant named schedule of ascending `beats`, if any test runs.
    #[cfg(test)]
    pub fn detect(&mut self, beats: &[i64]) -> Option<ScheduleEvidence> {
        let d: Vec<f64> = beats.windows(2).map(|w| w[1].abs_diff(w[0]) as f64 / 1e6).collect();
        self.detect_with(beats, &d)
    }

    /// The most significant named schedule of ascending `beats`, with their intervals in seconds
    /// (time order) already at hand: the analyzer's.
    pub fn detect_with(&mut self, beats: &[i64], d: &[f64]) -> Option<ScheduleEvidence> {
        let mut best: Option<ScheduleEvidence> = None;
        let mut keep = |e: Option<ScheduleEvidence>| {
            if let Some(e) = e
                && best.is_none_or(|b| e.p_value < b.p_value)
            {
                best = Some(e);
            }
        };
        if d.len() >= MIN_INTERVALS {
            let growing = d.windows(2).filter(|w| w[1] > 1.25 * w[0]).count();
            if growing as f64 > GROWTH_SCREEN * (d.len() - 1) as f64 {
                keep(fibonacci(d));
                self.ratios.clear();
                self.ratios
                    .extend(d.windows(2).filter(|w| w[1] > 1.25 * w[0]).map(|w| w[1] / w[0]));
                let mid = self.ratios.len() / 2;
                if let Some((_, &mut r, _)) =
                    (!self.ratios.is_empty()).then(|| self.ratios.select_nth_unstable_by(mid, f64::total_cmp))
                {
                    keep(backoff(d, r));
                }
            }
        }
        keep(daily(beats));
        best
    }
}

/// Quasi-random partners of interval `i` among `m` (two per interval), never `i` itself.
fn partners(i: usize, m: usize) -> [usize; 2] {
    let a = (i.wrapping_mul(7919).wrapping_add(13)) % m;
    let b = (i.wrapping_mul(104_729).wrapping_add(71)) % m;
    [
        if a == i { (a + 1) % m } else { a },
        if b == i { (b + 2) % m } else { b },
    ]
}

fn evidence(
    kind: ScheduleKind,
    hits: usize,
    trials: usize,
    control: (usize, usize),
    parameter: f64,
) -> ScheduleEvidence {
    let chance = ((control.0 + 1) as f64 / (control.1 + 1) as f64).min(1.0);
    let (tail, _) = binomial_sf_with_decades(hits as u64, trials as u64, chance);
    ScheduleEvidence {
        kind,
        hits,
        trials,
        chance,
        p_value: (tail * TESTS).min(1.0),
        parameter,
    }
}

/// Fibonacci sleeps: `|d_i − d_{i−1} − d_{i−2}| ≤ 10% · d_i`.
fn fibonacci(d: &[f64]) -> Option<ScheduleEvidence> {
    let m = d.len();
    let fits = |x: f64, y: f64, z: f64| (x - y - z).abs() <= RELATION_TOLERANCE * x;
    let hits = d.windows(3).filter(|w| fits(w[2], w[1], w[0])).count();
    let mut control = (0usize, 0usize);
    for (i, &x) in d.iter().enumerate() {
        let [j, k] = partners(i, m);
        let (Some(&y), Some(&z)) = (d.get(j), d.get(k)) else {
            continue;
        };
        control.0 += usize::from(fits(x, y, z));
        control.1 += 1;
        let [j2, k2] = partners(i + m, m);
        let (Some(&y), Some(&z)) = (d.get(j2), d.get(k2)) else {
            continue;
        };
        control.0 += usize::from(fits(x, y, z));
        control.1 += 1;
    }
    Some(evidence(ScheduleKind::Fibonacci, hits, m.checked_sub(2)?, control, 0.0))
}

/// Exponential back-off by `r`: `|d_i − r · d_{i−1}| ≤ 10% · d_i`.
fn backoff(d: &[f64], r: f64) -> Option<ScheduleEvidence> {
    let m = d.len();
    let fits = |x: f64, y: f64| (x - r * y).abs() <= RELATION_TOLERANCE * x;
    let hits = d.windows(2).filter(|w| fits(w[1], w[0])).count();
    let mut control = (0usize, 0usize);
    for (i, &x) in d.iter().enumerate() {
        for j in partners(i, m) {
            if let Some(&y) = d.get(j) {
                control.0 += usize::from(fits(x, y));
                control.1 += 1;
            }
        }
    }
    Some(evidence(ScheduleKind::Backoff, hits, m.checked_sub(1)?, control, r))
}

/// Random times daily: whole UTC days with the modal (non-zero) count.
fn daily(beats: &[i64]) -> Option<ScheduleEvidence> {
    let (&first, &last) = (beats.first()?, beats.last()?);
    let day = |t: i64| t.div_euclid(DAY_US);
    let (d0, d1) = (day(first), day(last));
    // Whole days only: the first and the last are partial.
    let days = usize::try_from(d1.checked_sub(d0)?.checked_sub(1)?).ok()?;
    if days < MIN_DAYS {
        return None;
    }
    let mut histogram = [0usize; MAX_PER_DAY + 1];
    let (mut current, mut run, mut total) = (d0 + 1, 0usize, 0usize);
    for &t in beats {
        let d = day(t);
        if d <= d0 || d >= d1 {
            continue;
        }
        while current < d {
            if run > MAX_PER_DAY {
                return None;
            }
            histogram[run] += 1;
            (current, run) = (current + 1, 0);
        }
        run += 1;
        total += 1;
    }
    while current < d1 {
        if run > MAX_PER_DAY {
            return None;
        }
        histogram[run] += 1;
        (current, run) = (current + 1, 0);
    }
    let (per_day, hits) = histogram
        .iter()
        .enumerate()
        .skip(1)
        .max_by_key(|&(c, &n)| (n, core::cmp::Reverse(c)))
        .map(|(c, &n)| (c, n))?;
    let lambda = total as f64 / days as f64;
    // Poisson probability of exactly `per_day` check-ins in a day at the series' daily rate.
    let ln_pmf = -lambda + per_day as f64 * lambda.ln() - (1..=per_day).map(|j| (j as f64).ln()).sum::<f64>();
    let chance = ln_pmf.exp().clamp(1e-12, 1.0);
    let (tail, _) = binomial_sf_with_decades(hits as u64, days as u64, chance);
    Some(ScheduleEvidence {
        kind: ScheduleKind::Daily,
        hits,
        trials: days,
        chance,
        p_value: (tail * TESTS).min(1.0),
        parameter: per_day as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beats(intervals: &[f64]) -> Vec<i64> {
        let mut t = 1_704_067_200.0;
        let mut out = vec![(t * 1e6) as i64];
        for d in intervals {
            t += d;
            out.push((t * 1e6) as i64);
        }
        out
    }

    #[test]
    fn names_fibonacci_and_backoff_and_not_a_fixed_period() {
        let mut fib = Vec::new();
        for _ in 0..8 {
            let (mut a, mut b) = (3.0, 3.0);
            for _ in 0..10 {
                fib.push(b);
                (a, b) = (b, a + b);
            }
        }
        let e = ScheduleScratch::default().detect(&beats(&fib)).unwrap();
        assert_eq!(e.kind, ScheduleKind::Fibonacci);
        assert!(e.p_value < 1e-10 && e.excess() > 0.7, "{e:?}");
        let back: Vec<f64> = (0..60).map(|i| 5.0 * 2f64.powi(i % 6)).collect();
        let e = ScheduleScratch::default().detect(&beats(&back)).unwrap();
        assert_eq!(e.kind, ScheduleKind::Backoff);
        assert!((e.parameter - 2.0).abs() < 1e-9 && e.p_value < 1e-10, "{e:?}");
        let fixed: Vec<f64> = (0..60).map(|i| 60.0 + f64::from(i % 3)).collect();
        assert_eq!(ScheduleScratch::default().detect(&beats(&fixed)), None);
    }

    #[test]
    fn names_random_times_daily() {
        // One check-in a day at a scattered time of day, for 20 days.
        let day0 = 1_704_067_200_000_000i64;
        let ts: Vec<i64> = (0..20)
            .map(|d| day0 + d * DAY_US + (d * 7919 % 86_000) * 1_000_000)
            .collect();
        let e = ScheduleScratch::default().detect(&ts).unwrap();
        assert_eq!(
            (e.kind, e.hits, e.trials, e.parameter),
            (ScheduleKind::Daily, 18, 18, 1.0)
        );
        assert!(e.p_value < 1e-6, "{e:?}");
    }
}
