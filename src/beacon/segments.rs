//! Sleep changes: change points in a series' beat intervals, and a comb fit per segment.
//!
//! An operator's `sleep` command changes a beacon's period midway (5 s → 60 s). One comb fit
//! over the whole series then explains one sleep, or the other as "missed check-ins", and says
//! nothing of the change. Here:
//! 1. **Screen** (`O(m)`, every scored series): the CUSUM of the intervals in time order,
//!    `D(k) = S_k − k·S_m/m`, standardised by `σ̂·√(k(m−k)/m)`; its maximum over the split `k`
//!    (each side at least [`MIN_SEGMENT`] intervals) must reach [`SCREEN_Z`] and the two sides'
//!    mean intervals must differ by half. Random traffic rarely passes; a beacon with one sleep
//!    never does, so the fits below cost nothing on most series.
//! 2. **Fit**: each side gets its own comb fit over the tolerance ladder. The split is kept when
//!    both sides are significant (p ≤ 0.01 each, after their own corrections) with periods at
//!    least 1.3× apart; each side is then split again the same way (binary segmentation), up to
//!    [`MAX_SEGMENTS`](super::report::MAX_SEGMENTS) segments.
//! 3. **Combined evidence**: Fisher's method over the segments' p-values, less `log10 m` decades
//!    per change point for the positions searched.

use super::intervals::{CombFit, IntervalData, prefix_sums};
use super::stats::decades;

/// Fewest intervals on each side of a change point.
pub(crate) const MIN_SEGMENT: usize = 8;

/// Standardised CUSUM from which a split is fitted.
const SCREEN_Z: f64 = 3.5;

/// Smallest ratio of the two sides' mean intervals for a split to be fitted.
const SCREEN_RATIO: f64 = 1.5;

/// Smallest ratio of two neighbouring segments' periods for a change to be kept.
const DISTINCT_PERIODS: f64 = 1.3;

/// Decades of significance each segment needs (p ≤ 0.01).
const SEGMENT_DECADES: f64 = 2.0;

/// The most promising change point of the beat intervals `d` (time order): the split index `k`
/// (intervals `..k` and `k..`) maximising the standardised CUSUM, if it passes the screen.
pub(crate) fn change_point(d: &[f64]) -> Option<usize> {
    let m = d.len();
    if m < 2 * MIN_SEGMENT {
        return None;
    }
    let mf = m as f64;
    let (total, squares) = d.iter().fold((0.0, 0.0), |(s, q), &x| (s + x, q + x * x));
    let mean = total / mf;
    let var = (squares / mf - mean * mean).max(0.0);
    if !(var > 0.0 && mean > 0.0) {
        return None;
    }
    // The split maximising `D(k)² / (k(m−k))` (the standardised CUSUM squared, up to the
    // constant `σ̂²/m`), compared by cross-multiplying: no root or division per split. The
    // first `MIN_SEGMENT` intervals only add to the running sum (no split there), so the loop
    // over the candidate splits carries no test of `k`.
    let head = d.get(..MIN_SEGMENT)?;
    let splits = d.get(MIN_SEGMENT..=m - MIN_SEGMENT)?;
    let mut s: f64 = head.iter().sum();
    let (mut best_num, mut best_den, mut best_sum) = (0.0f64, 1.0f64, 0.0f64);
    // `kf` is the split `k` as a float, counted rather than converted; the index is recovered
    // from it once, at the end (exact: `k` < 2^53).
    let (mut kf, mut best_kf) = (MIN_SEGMENT as f64, 0.0f64);
    for &x in splits {
        let dk = s - kf * mean;
        let (num, den) = (dk * dk, kf * (mf - kf));
        if num * best_den > best_num * den {
            (best_kf, best_num, best_den, best_sum) = (kf, num, den, s);
        }
        s += x;
        kf += 1.0;
    }
    let best_k = best_kf as usize;
    let best_z = (best_num * mf / best_den).sqrt() / var.sqrt();
    if best_z < SCREEN_Z || best_k == 0 {
        return None;
    }
    let left = best_sum / best_k as f64;
    let right = (total - best_sum) / (m - best_k) as f64;
    let ratio = if left > right { left / right } else { right / left };
    (ratio >= SCREEN_RATIO).then_some(best_k)
}

/// Scratch for fitting segments: the sorted intervals of one segment and their prefix sums.
#[derive(Debug, Default)]
pub(crate) struct SegmentScratch {
    sorted: Vec<f64>,
    prefix: Vec<f64>,
}

/// Settings of the comb fit a segment gets (those of the whole series).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FitParams<'a> {
    pub tolerances: &'a [f64],
    pub max_k: u32,
    pub contrast: f64,
    pub dead_time: f64,
}

impl SegmentScratch {
    /// The comb fit of the intervals `d` (any order) with its jitter.
    pub fn fit(&mut self, d: &[f64], p: FitParams<'_>) -> Option<CombFit> {
        self.sorted.clear();
        self.sorted.extend_from_slice(d);
        self.sorted.sort_unstable_by(f64::total_cmp);
        let total = prefix_sums(&self.sorted, &mut self.prefix);
        let data = IntervalData {
            sorted: &self.sorted,
            prefix: &self.prefix,
            mean: total / d.len().max(1) as f64,
            dead_time: p.dead_time,
        };
        data.best_fit(None, p.tolerances, p.max_k, p.contrast)
    }
}

/// One accepted segment: intervals `start..end` of the series and their fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SegmentFit {
    pub start: usize,
    pub end: usize,
    pub fit: CombFit,
}

/// Binary segmentation of the intervals `d` (time order) into at most `out.len()` segments,
/// each significant and with a period distinct from its neighbours'. Writes the segments in time
/// order into `out` and returns how many (0 when the series has one period, or none).
/// `whole_split`, when given, is the whole series' split as [`change_point`] found it (the caller
/// screened before writing `d` out); the ranges after a split are screened here.
pub(crate) fn segment(
    d: &[f64],
    mut whole_split: Option<usize>,
    p: FitParams<'_>,
    scratch: &mut SegmentScratch,
    out: &mut [Option<SegmentFit>],
) -> usize {
    out.iter_mut().for_each(|slot| *slot = None);
    let Some(first) = out.first_mut() else {
        return 0;
    };
    // The whole series is one range without a fit yet; ranges stay in time order.
    *first = Some(SegmentFit {
        start: 0,
        end: d.len(),
        fit: CombFit::default(),
    });
    let (mut len, mut i) = (1usize, 0usize);
    while i < len {
        let Some(Some(range)) = out.get(i).copied() else { break };
        let intervals = d.get(range.start..range.end).unwrap_or(&[]);
        let split = match whole_split.take() {
            Some(k) => Some(k),
            None if len < out.len() => change_point(intervals),
            None => None,
        };
        let accepted = split.and_then(|k| {
            let left = scratch.fit(intervals.get(..k)?, p)?;
            let right = scratch.fit(intervals.get(k..)?, p)?;
            let ratio = left.period.max(right.period) / left.period.min(right.period).max(f64::MIN_POSITIVE);
            (left.decades >= SEGMENT_DECADES && right.decades >= SEGMENT_DECADES && ratio >= DISTINCT_PERIODS)
                .then_some((range.start + k, left, right))
        });
        let Some((cut, left, right)) = accepted else {
            i += 1;
            continue;
        };
        // Range i becomes its two halves; the left half is examined next.
        out[i..=len].rotate_right(1);
        out[i] = Some(SegmentFit {
            end: cut,
            fit: left,
            ..range
        });
        out[i + 1] = Some(SegmentFit {
            start: cut,
            fit: right,
            ..range
        });
        len += 1;
    }
    if len < 2 {
        out.iter_mut().for_each(|slot| *slot = None);
        return 0;
    }
    len
}

/// Decades of the combined evidence of segments with these decades (Fisher's method: the upper
/// tail of `χ²` with `2k` degrees of freedom at `2 Σ ln(1/pᵢ)`), less `log10 m` per change point.
pub(crate) fn combined_decades(segment_decades: &[f64], m: usize) -> f64 {
    let k = segment_decades.len();
    if k == 0 {
        return 0.0;
    }
    let y: f64 = segment_decades.iter().sum::<f64>() * core::f64::consts::LN_10;
    // P = e^{−y} Σ_{j<k} y^j / j!, in logarithms.
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    for j in 1..k {
        term *= y / j as f64;
        sum += term;
    }
    let tail_decades = (y - sum.ln()) / core::f64::consts::LN_10;
    let penalty = (k - 1) as f64 * (m.max(1) as f64).log10();
    (tail_decades - penalty).max(0.0).max(decades(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> FitParams<'static> {
        FitParams {
            tolerances: &[0.03, 0.06, 0.12, 0.22, 0.35, 0.5],
            max_k: 8,
            contrast: 3.0,
            dead_time: 0.0,
        }
    }

    #[test]
    fn finds_a_sleep_change_and_nothing_in_one_sleep() {
        let mut d: Vec<f64> = (0..60).map(|i| 5.0 + 0.1 * f64::from(i % 3)).collect();
        d.extend((0..40).map(|i| 60.0 + f64::from(i % 5)));
        assert_eq!(change_point(&d), Some(60));
        let mut out = [None; 4];
        let n = segment(&d, None, params(), &mut SegmentScratch::default(), &mut out);
        assert_eq!(n, 2);
        let periods: Vec<f64> = out.iter().flatten().map(|s| s.fit.period.round()).collect();
        assert_eq!(periods, [5.0, 62.0]);
        let steady: Vec<f64> = (0..100).map(|i| 60.0 + f64::from(i % 7)).collect();
        assert_eq!(change_point(&steady), None);
        assert_eq!(
            segment(&steady, None, params(), &mut SegmentScratch::default(), &mut out),
            0
        );
    }

    #[test]
    fn three_sleeps_give_three_segments() {
        let mut d: Vec<f64> = (0..30).map(|i| 10.0 + 0.2 * f64::from(i % 3)).collect();
        d.extend((0..30).map(|i| 120.0 + f64::from(i % 5)));
        d.extend((0..30).map(|i| 30.0 + 0.5 * f64::from(i % 4)));
        let mut out = [None; 4];
        let n = segment(&d, None, params(), &mut SegmentScratch::default(), &mut out);
        let periods: Vec<f64> = out
            .iter()
            .flatten()
            .map(|s| (s.fit.period / 10.0).round() * 10.0)
            .collect();
        assert_eq!((n, periods), (3, vec![10.0, 120.0, 30.0]));
    }

    #[test]
    fn fisher_combination_is_a_valid_tail() {
        // One segment: its own decades. Two at 1e-3 each: x(1 − ln x) with x = 1e-6, less log10 m.
        assert!((combined_decades(&[3.0], 50) - 3.0).abs() < 1e-9);
        let x: f64 = 1e-6;
        let want = -(x * (1.0 - x.ln())).log10() - 2.0;
        assert!((combined_decades(&[3.0, 3.0], 100) - want).abs() < 1e-9);
        assert_eq!(combined_decades(&[], 10), 0.0);
    }
}
