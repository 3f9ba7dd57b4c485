//! Beats and the jitter-tolerant interval fit.
//!
//! 1. **Coalescing**: events closer than a small gap merge into one *beat* (a check-in that
//!    opens three connections is one beat). The gap adapts to the series: a share of its
//!    90th-percentile raw interval, capped.
//! 2. **Densest window** (the interval histogram with series-adaptive bins): for each relative
//!    tolerance τ, the window `[x, x·(1+τ)/(1−τ)]` holding the most intervals gives a first period.
//! 3. **Comb fit**: every interval within `τ·√k·P` of a multiple `k·P` (renewal jitter grows like
//!    √k; `k` stops before neighbouring windows overlap) is *explained*; `k − 1` beats were missed.
//!    `P` is refit as `Σd / Σk` over explained intervals (the renewal-process MLE of the mean).
//! 4. **Null**: the share of intervals a random process would put in those windows: the larger of
//!    an exponential (Poisson) model with the series' own mean interval and a *local-contrast*
//!    model (the density in a window `contrast ×` wider). The binomial upper tail of the explained
//!    count against that share is the interval p-value, Bonferroni-corrected for the tolerances and
//!    window positions scanned.

use super::stats::{binomial_sf_with_decades, tail_decades_upper_bound};

/// Window starts the densest-window scan rules out at once.
const SKIP: usize = 4;

/// Tolerances below which the local-contrast null reads its background from the sidebands.
const NARROW_BELOW: f64 = 0.2;

/// Tolerances from which the period is re-centred on the median of the widest window.
const WIDE_REFINE_FROM: f64 = 0.2;

/// The fit of one period candidate at one tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct CombFit {
    pub period: f64,
    pub tolerance: f64,
    pub explained: usize,
    pub explained_fundamental: usize,
    pub missed_beats: u64,
    pub null_share: f64,
    pub p_value: f64,
    /// `−log10` of the uncorrected p-value, finite even where `p_value` underflows to 0.
    pub decades: f64,
    pub jitter: f64,
}

impl CombFit {
    /// Missed check-ins as a share of the check-ins expected over `m` intervals.
    pub fn missed_share(&self, m: usize) -> f64 {
        let expected = (m as u64).saturating_add(self.missed_beats);
        if expected > 0 {
            self.missed_beats as f64 / expected as f64
        } else {
            0.0
        }
    }

    /// Sets the p-value (and its decades): the binomial tail of the explained count among `m`
    /// intervals against the null share.
    fn with_tail(mut self, m: usize) -> Self {
        (self.p_value, self.decades) = binomial_sf_with_decades(self.explained as u64, m as u64, self.null_share);
        self
    }

    /// `(E − q) / (1 − q)`: explained share `E = explained / (m + 1)` in excess of chance, in `[0, 1]`.
    pub fn excess(&self, m: usize) -> f64 {
        if m == 0 {
            return 0.0;
        }
        // One pseudo-interval counts as unexplained: 8 intervals that all fit give 0.89, 400
        // give 0.998. With equal regularity, more check-ins are more evidence.
        let e = self.explained as f64 / (m + 1) as f64;
        let q = self.null_share;
        if q >= 1.0 {
            0.0
        } else {
            ((e - q) / (1.0 - q)).clamp(0.0, 1.0)
        }
    }
}

/// What coalescing merged: the intervals inside beats.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Merged {
    /// Intervals inside beats (events that joined the beat before them).
    pub intervals: usize,
    /// Their total length, µs.
    pub total_us: u64,
    /// Events in the largest beat.
    pub largest: usize,
    /// Duration of the longest beat (first to last event), µs.
    pub longest_us: u64,
}

/// Merges events closer than `gap_us` into beats (each beat at its first event, its size the sum
/// of its events' sizes). `sorted` must be ascending. Identical timestamps always merge.
pub(crate) fn coalesce(
    sorted: &[i64],
    sizes: Option<&[u64]>,
    gap_us: u64,
    beats: &mut Vec<i64>,
    beat_sizes: &mut Vec<u64>,
) -> Merged {
    beats.clear();
    beat_sizes.clear();
    let mut merged = Merged::default();
    let mut run = 0usize;
    let mut beat_start = 0i64;
    let mut last_event: Option<i64> = None;
    for (i, &t) in sorted.iter().enumerate() {
        let size = sizes.and_then(|s| s.get(i)).copied().unwrap_or(0);
        match last_event {
            Some(prev) if t.abs_diff(prev) <= gap_us => {
                if let Some(s) = beat_sizes.last_mut() {
                    *s = s.saturating_add(size);
                }
                merged.intervals += 1;
                merged.total_us = merged.total_us.saturating_add(t.abs_diff(prev));
                merged.longest_us = merged.longest_us.max(t.abs_diff(beat_start));
                run += 1;
                // A beat only grows here: its size is checked here, not per event.
                merged.largest = merged.largest.max(run);
            }
            _ => {
                beats.push(t);
                beat_sizes.push(size);
                run = 1;
                beat_start = t;
            }
        }
        last_event = Some(t);
    }
    if !sorted.is_empty() {
        merged.largest = merged.largest.max(1);
    }
    merged
}

/// [`coalesce`] where no two events are within the gap (the caller knows the smallest interval
/// exceeds it: the usual case): every event is its own beat, so the beats are the events and
/// their sizes the events' sizes (`0` without sizes), copied rather than merged one by one.
pub(crate) fn singles(
    sorted: &[i64],
    sizes: Option<&[u64]>,
    beats: &mut Vec<i64>,
    beat_sizes: &mut Vec<u64>,
) -> Merged {
    beats.clear();
    beats.extend_from_slice(sorted);
    beat_sizes.clear();
    beat_sizes.extend_from_slice(sizes.map_or(&[][..], |s| s.get(..sorted.len()).unwrap_or(s)));
    beat_sizes.resize(sorted.len(), 0);
    Merged {
        largest: usize::from(!sorted.is_empty()),
        ..Merged::default()
    }
}

/// Largest share of the raw intervals within a factor of two of the coalescing gap for the
/// gap to count as lying in a valley (see [`coalesce_gap`]).
const VALLEY_SHARE: f64 = 0.05;

/// The coalescing gap, in µs: `min(cap, ratio × q90(raw intervals))`, from the series' raw
/// intervals (between events), ascending. `0` (no coalescing) below two intervals, and when the
/// gap would cut through a dense run of intervals (more than 5% of them, and at least two,
/// within a factor of two of it): merging there would carve a regular-looking distribution of
/// beat intervals out of a continuum (a retry storm's quick retries become "check-ins every
/// 4 s ±40%"), where a check-in's connections sit far below the gap and its sleep far above.
pub(crate) fn coalesce_gap(sorted_raw: &[u64], ratio: f64, cap_us: i64) -> u64 {
    if ratio <= 0.0 || cap_us <= 0 || sorted_raw.len() < 2 {
        return 0;
    }
    let k = ((sorted_raw.len() - 1) as f64 * 0.9).round() as usize;
    let q90 = sorted_raw.get(k).copied().unwrap_or(0);
    let gap = (ratio * q90 as f64).min(cap_us as f64);
    if !(gap.is_finite() && gap > 0.0) {
        return 0;
    }
    let gap = gap as u64;
    let near =
        sorted_raw.partition_point(|&v| v <= gap.saturating_mul(2)) - sorted_raw.partition_point(|&v| v < gap / 2);
    if near >= 2 && near as f64 > VALLEY_SHARE * sorted_raw.len() as f64 {
        0
    } else {
        gap
    }
}

/// Smallest ratio between the two scales of a series for [`burst_gap`] to split them.
const BURST_SPLIT_RATIO: f64 = 2.0;

/// The gap that separates two time scales of a series, in µs, when its raw intervals (ascending)
/// fall into two clusters: the widest ratio between neighbouring intervals, at least
/// [`BURST_SPLIT_RATIO`], with at least a tenth of the intervals (and two) below it, enough
/// above it for `min_beats` beats, and the lower cluster's largest interval at most 0.4 × the
/// upper cluster's median. The gap is the lower cluster's largest interval (so every interval of
/// the lower scale merges and none of the upper one), at most `cap_us`. Bursts of connections
/// per check-in, bursts of bursts and staging bursts have such a split; a beacon with missed
/// check-ins (clusters at `P`, `2P`, …) does not.
pub(crate) fn burst_gap(sorted_raw: &[u64], min_beats: usize, cap_us: i64) -> Option<u64> {
    let m = sorted_raw.len();
    let lo = (m.div_ceil(10)).max(2);
    let hi = m.checked_sub(min_beats.saturating_sub(1))?;
    let best_k = widest_split(sorted_raw, lo, hi.min(m.saturating_sub(1)))?;
    let gap = *sorted_raw.get(best_k - 1)?;
    let upper_median = *sorted_raw.get(best_k + (m - best_k) / 2)?;
    (gap as f64 <= 0.4 * upper_median as f64 && i64::try_from(gap).is_ok_and(|g| g <= cap_us)).then_some(gap)
}

/// Values below which doubling and the float ratio are exact, so [`widest_split`] may skip.
const EXACT_BELOW: u64 = 1 << 52;

/// The split `k` in `lo..=hi` (between `sorted[k − 1]` and `sorted[k]`) with the widest ratio
/// `sorted[k] / sorted[k − 1]`, at least [`BURST_SPLIT_RATIO`], the last of equals; `None` when
/// no neighbours are that far apart.
///
/// A split at `k' > k` needs `sorted[k'] ≥ 2·sorted[k' − 1] ≥ 2·sorted[k]`, so after looking at
/// `k` the scan jumps (by binary search) to the first value at least twice `sorted[k]`: the
/// values at least double every step, so a long series costs `O(log(range) · log m)` instead of
/// one comparison per interval.
fn widest_split(sorted: &[u64], lo: usize, hi: usize) -> Option<usize> {
    let (mut best_k, mut best) = (0usize, BURST_SPLIT_RATIO);
    let mut k = lo;
    while k <= hi {
        let (Some(&a), Some(&b)) = (sorted.get(k - 1), sorted.get(k)) else {
            break;
        };
        if a > 0 && b as f64 >= best * a as f64 {
            best = b as f64 / a as f64;
            best_k = k;
        }
        k = if b == 0 {
            // Zero intervals (simultaneous events) never split: on to the first positive one.
            k.max(sorted.partition_point(|&v| v == 0)) + 1
        } else if b < EXACT_BELOW {
            let from = k + 1;
            from + sorted
                .get(from..)
                .map_or(0, |rest| rest.partition_point(|&v| v < 2 * b))
        } else {
            k + 1
        };
    }
    (best_k > 0).then_some(best_k)
}

/// Fills `prefix` with the prefix sums of `sorted` (`prefix[i] = Σ sorted[..i]`, `m + 1` values)
/// and returns the total.
pub(crate) fn prefix_sums(sorted: &[f64], prefix: &mut Vec<f64>) -> f64 {
    prefix.clear();
    prefix.push(0.0);
    let mut acc = 0.0;
    prefix.extend(sorted.iter().map(|&v| {
        acc += v;
        acc
    }));
    acc
}

/// The largest multiple whose window does not overlap its neighbour's at tolerance `tau`.
pub(crate) fn max_multiple(tau: f64, cap: u32) -> u32 {
    let mut k = 1u32;
    while k < cap {
        let next = f64::from(k + 1);
        if tau * (f64::from(k).sqrt() + next.sqrt()) >= 1.0 {
            break;
        }
        k += 1;
    }
    k
}

/// Inputs shared by every fit of one series.
///
/// Every comb window `{d : round(d/P) = k, |d − kP| ≤ τ√k·P}` is an interval of interval
/// lengths, hence a contiguous run of `sorted`: a fit finds each run by binary search and sums it
/// through `prefix`, so one refinement pass costs `O(k_max · log m)` instead of `O(m)`.
pub(crate) struct IntervalData<'a> {
    /// Intervals between beats, seconds, ascending.
    pub sorted: &'a [f64],
    /// Prefix sums of `sorted`: `prefix[i] = Σ sorted[..i]` (`m + 1` values, `prefix[0] = 0`).
    pub prefix: &'a [f64],
    /// Mean interval (span / count), seconds.
    pub mean: f64,
    /// The coalescing gap, seconds: no interval is shorter, so the Poisson null is an
    /// exponential shifted by it (a dead time).
    pub dead_time: f64,
}

impl IntervalData<'_> {
    /// Sum of `sorted[a..b]` through the prefix sums.
    #[inline]
    fn sum(&self, a: usize, b: usize) -> f64 {
        match (self.prefix.get(a), self.prefix.get(b)) {
            (Some(x), Some(y)) if b > a => y - x,
            _ => 0.0,
        }
    }

    /// The run `sorted[a..b]` of intervals explained by multiple `k` of `period` at tolerance
    /// `tau` (`round(d / period) = k` and `|d − k·period| ≤ tau·√k·period`), searched from `from`,
    /// starting near `guess` (the run at a nearby period) when there is one.
    #[inline]
    fn window(&self, period: f64, tau: f64, k: u32, from: usize, guess: Option<(usize, usize)>) -> (usize, usize) {
        let kf = f64::from(k);
        let half = tau * kf.sqrt() * period;
        let center = kf * period;
        // Rounding to k keeps [(k − ½)P, (k + ½)P); the tolerance keeps [kP − half, kP + half].
        let lo = (center - half).max((kf - 0.5) * period);
        let (round_hi, tol_hi) = ((kf + 0.5) * period, center + half);
        let s = self.sorted;
        let (ga, gb) = guess.unwrap_or((from, from));
        let a = partition_near(s, from, ga, guess.is_some(), |v| v < lo);
        let b = if tol_hi < round_hi {
            partition_near(s, a, gb, guess.is_some(), |v| v <= tol_hi)
        } else {
            partition_near(s, a, gb, guess.is_some(), |v| v < round_hi)
        };
        (a, b)
    }

    /// The densest window of relative half-width `tau`: the mean of the intervals inside it.
    #[cfg(test)]
    pub fn densest(&self, tau: f64) -> Option<f64> {
        self.densest_at_least(tau, 0).map(|(mean, _)| mean)
    }

    /// [`IntervalData::densest`], knowing that some window holds at least `floor` intervals
    /// (the count of the densest window at a smaller tolerance: a narrower window fits inside
    /// the wider one). The result is the same — the first window holding the most intervals —
    /// and the scan stops as soon as too few intervals remain to beat `floor`. Returns the
    /// window's mean and count.
    fn densest_at_least(&self, tau: f64, floor: usize) -> Option<(f64, usize)> {
        // `[x, x·(1+τ)/(1−τ)]`: a window of constant log-width, compared as a ratio (no `ln`).
        let ratio = (1.0 + tau) / (1.0 - tau);
        let s = self.sorted;
        // Counts only ever go up; starting one below `floor` makes the first window holding
        // `floor` or more the first kept, as a scan from zero would keep it.
        let (mut best_i, mut best_n) = (0usize, floor.min(s.len()).saturating_sub(1));
        let mut found = false;
        let mut j = 0usize;
        let mut i = 0usize;
        // No window starting at `i` or later can hold more than the best so far once fewer than
        // `best_n + 1` intervals remain.
        while let (Some(&x), Some(&end)) = (s.get(i), s.get(i + best_n)) {
            // Only a window holding more than `best_n` intervals matters: one comparison (its
            // `best_n + 1`-th interval) rules the others out without walking their end. Most
            // starts are ruled out, so [`SKIP`] are tried at once (one branch for all of them).
            if let (Some(starts), Some(ends)) = (s.get(i..i + SKIP), s.get(i + best_n..i + best_n + SKIP))
                && starts
                    .iter()
                    .zip(ends)
                    .fold(true, |out, (&a, &b)| out & (b > a * ratio))
            {
                i += SKIP;
                continue;
            }
            let limit = x * ratio;
            if end > limit {
                i += 1;
                continue;
            }
            // Window ends only grow with the start, so the walk resumes where it stopped.
            j = j.max(i + best_n);
            while j + 1 < s.len() && s[j + 1] <= limit {
                j += 1;
            }
            best_n = j + 1 - i;
            best_i = i;
            found = true;
            i += 1;
        }
        if !found {
            // `floor` was not a true lower bound: scan from nothing.
            return if floor > 0 { self.densest_at_least(tau, 0) } else { None };
        }
        Some((self.sum(best_i, best_i + best_n) / best_n as f64, best_n))
    }

    /// Number of window positions of log-width `w` needed to cover the data's log range: the
    /// multiplicity of the densest-window scan, used to correct its p-value.
    fn scan_positions(&self, w: f64) -> f64 {
        match (self.sorted.first(), self.sorted.last()) {
            (Some(a), Some(b)) if w > 0.0 && *a > 0.0 => ((b / a).ln() / w).max(1.0),
            _ => 1.0,
        }
    }

    /// Fits the comb of multiples of a period starting from `start` at tolerance `tau`.
    /// The jitter is left at 0: [`IntervalData::jitter`] computes it for the fit that is kept.
    #[cfg(test)]
    pub fn fit(&self, start: f64, tau: f64, max_k: u32, contrast: f64) -> CombFit {
        self.comb(start, tau, max_k, contrast).with_tail(self.sorted.len())
    }

    /// [`IntervalData::fit`] without the p-value (left at 1): the tail is computed only for fits
    /// that may be kept.
    fn comb(&self, start: f64, tau: f64, max_k: u32, contrast: f64) -> CombFit {
        let kmax = max_multiple(tau, max_k).min(MAX_RUNS as u32);
        let mut period = start;
        let mut runs = [(0usize, 0usize); MAX_RUNS];
        let mut have_runs = false;
        for _ in 0..4 {
            if !(period.is_finite() && period > 0.0) {
                break;
            }
            let (mut sum_d, mut sum_k) = (0.0f64, 0.0f64);
            let mut from = 0;
            for (k, run) in (1..=kmax).zip(runs.iter_mut()) {
                if from >= self.sorted.len() {
                    break; // every later window is empty
                }
                // After the first pass the period moves little: search near the last runs.
                let (a, b) = self.window(period, tau, k, from, have_runs.then_some(*run));
                *run = (a, b);
                sum_d += self.sum(a, b);
                sum_k += f64::from(k) * (b - a) as f64;
                from = b;
            }
            have_runs = true;
            if sum_k <= 0.0 {
                break;
            }
            let next = sum_d / sum_k;
            let converged = (next - period).abs() <= 1e-9 * period;
            period = next;
            if converged {
                break;
            }
        }
        if tau >= WIDE_REFINE_FROM {
            // A trimmed mean re-centred on itself has a continuum of fixed points inside a wide,
            // flat jitter distribution; the mean of a window twice as wide as the jitter does not.
            period = self.wide_mean(period);
        }
        self.evaluate(period, tau, kmax, contrast, have_runs.then_some(&runs))
    }

    /// Iterated mean of the intervals within a factor of two of `period`: a window that holds
    /// the whole of a ±50% jitter distribution from any start inside it, so the fixed point is
    /// unique and the estimate is the (efficient) sample mean.
    fn wide_mean(&self, mut period: f64) -> f64 {
        for _ in 0..6 {
            let (lo, hi) = (0.5 * period, 2.0 * period);
            let a = self.sorted.partition_point(|&v| v < lo);
            let b = self.sorted.partition_point(|&v| v <= hi);
            if b <= a {
                break;
            }
            let next = self.sum(a, b) / (b - a) as f64;
            if (next - period).abs() <= 1e-9 * period {
                break;
            }
            period = next;
        }
        period
    }

    /// Evaluates the comb at a fixed period: explained intervals, misses, null (not the p-value).
    fn evaluate(
        &self,
        period: f64,
        tau: f64,
        kmax: u32,
        contrast: f64,
        guess: Option<&[(usize, usize); MAX_RUNS]>,
    ) -> CombFit {
        let mut fit = CombFit {
            period,
            tolerance: tau,
            p_value: 1.0,
            ..CombFit::default()
        };
        if !(period.is_finite() && period > 0.0) {
            return fit;
        }
        let mut from = 0;
        for k in 1..=kmax {
            if from >= self.sorted.len() {
                break;
            }
            let near = guess.and_then(|g| g.get(k as usize - 1)).copied();
            let (a, b) = self.window(period, tau, k, from, near);
            let n = b - a;
            fit.explained += n;
            if k == 1 {
                fit.explained_fundamental = n;
            }
            fit.missed_beats += u64::from(k - 1) * n as u64;
            from = b;
        }
        fit.null_share = self.null_share(period, tau, kmax, contrast, &fit);
        fit
    }

    /// Jitter of a fit: half the 5–95% spread of the explained intervals' normalised residuals
    /// `(d − kP) / (√k·P)` (the full range below ten intervals). Only computed for the fit kept.
    ///
    /// Within one window the residuals ascend with `d`, so the residuals are `k_max` sorted runs
    /// of `sorted`: the two quantiles are read by merging the runs from each end, about 5% of the
    /// way in (the same values as sorting every residual, without the sort).
    pub fn jitter(&self, fit: &CombFit, max_k: u32) -> f64 {
        let (period, tau) = (fit.period, fit.tolerance);
        if !(period.is_finite() && period > 0.0) {
            return 0.0;
        }
        let kmax = max_multiple(tau, max_k).min(MAX_RUNS as u32);
        let mut runs = [(0usize, 0usize); MAX_RUNS];
        let mut n = 0;
        let mut from = 0;
        for (k, run) in (1..=kmax).zip(runs.iter_mut()) {
            let (a, b) = self.window(period, tau, k, from, None);
            *run = (a, b);
            n += b - a;
            from = b;
        }
        let runs = runs.get(..kmax as usize).unwrap_or(&[]);
        if n < 2 {
            return 0.0;
        }
        let residual = |i: usize, k: usize| {
            let kf = (k + 1) as f64;
            self.sorted
                .get(i)
                .map_or(0.0, |&d| (d - kf * period) / (kf.sqrt() * period))
        };
        // Ranks (from the bottom) of the order statistics a quantile interpolates between.
        let ranks = |q: f64| {
            let pos = q * (n - 1) as f64;
            let lo = pos.floor() as usize;
            (lo, (lo + 1).min(n - 1), pos - lo as f64)
        };
        let (lo_q, hi_q) = if n >= 10 {
            (ranks(0.05), ranks(0.95))
        } else {
            ((0, 0, 0.0), (n - 1, n - 1, 0.0))
        };
        let [a0, a1] = merged(runs, &residual, true, [lo_q.0, lo_q.1]);
        let [b0, b1] = merged(runs, &residual, false, [n - 1 - hi_q.0, n - 1 - hi_q.1]);
        let lower = a0 + (a1 - a0) * lo_q.2;
        let upper = b0 + (b1 - b0) * hi_q.2;
        ((upper - lower) / 2.0).max(0.0)
    }

    /// Share of intervals a random process would put in the comb's windows (see module docs).
    fn null_share(&self, period: f64, tau: f64, kmax: u32, contrast: f64, fit: &CombFit) -> f64 {
        let g = self.dead_time.max(0.0);
        let mu = self.mean - g;
        let mut q_exp = 0.0;
        if mu > 0.0 {
            for k in 1..=kmax {
                let kf = f64::from(k);
                let half = tau * kf.sqrt() * period;
                let (lo, hi) = ((kf * period - half).max(g) - g, (kf * period + half).max(g) - g);
                q_exp += (-lo / mu).exp() - (-hi / mu).exp();
            }
        }
        // Local contrast around the fundamental window, in log space: the window
        // `[(1−τ)P, (1+τ)P]` widened `contrast ×` about its log-centre, compared as values.
        let center = period * ((1.0 - tau) * (1.0 + tau)).sqrt();
        let widen = (contrast * 0.5 * ((1.0 + tau) / (1.0 - tau)).ln()).exp();
        let (clo, chi) = (center / widen, center * widen);
        let s = self.sorted;
        let a = s.partition_point(|&v| v < clo);
        let b = s.partition_point(|&v| v <= chi);
        let m = s.len().max(1) as f64;
        let wide = b.saturating_sub(a) as f64;
        // Below ±20%, the background is read from the sidebands (the wide window without the
        // fundamental window's own intervals, plus one pseudo-interval) scaled to the
        // fundamental window's width: a tight cluster with empty sidebands is not its own
        // background, and six check-ins ±5% apart are evidence. A wider window spans what
        // clustered non-periodic traffic spreads over too (quick retries, clicks), so there
        // the whole neighbourhood, the window included, is the background.
        let background = if tau < NARROW_BELOW {
            let fa = s.partition_point(|&v| v < (1.0 - tau) * period);
            let fb = s.partition_point(|&v| v <= (1.0 + tau) * period);
            let sideband = wide - fb.saturating_sub(fa) as f64;
            ((sideband.max(0.0) + 1.0) / (contrast - 1.0)).min(wide / contrast)
        } else {
            wide / contrast
        };
        let fundamental_share = background / m;
        let per_fundamental = fit.explained as f64 / fit.explained_fundamental.max(1) as f64;
        let q_local = fundamental_share * per_fundamental;
        q_exp.max(q_local).clamp(1e-12, 1.0)
    }

    /// The best fit over the tolerance ladder from one starting period, with the p-value
    /// corrected for the tolerances and window positions tried.
    pub fn best_fit(&self, start: Option<f64>, tolerances: &[f64], max_k: u32, contrast: f64) -> Option<CombFit> {
        let mut best: Option<(f64, CombFit)> = None;
        // The densest window at the previous tolerance: (tolerance, count).
        let mut last_densest: Option<(f64, usize)> = None;
        for chunk in tolerances.chunks(LADDER_CHUNK) {
            // Every comb of the chunk first, with an upper bound on its corrected decades.
            let mut fits = [None::<Candidate>; LADDER_CHUNK];
            for (&tau, slot) in chunk.iter().zip(&mut fits) {
                let seed = match start {
                    Some(p) => Some(p),
                    None => {
                        let floor = last_densest.filter(|&(t, _)| t <= tau).map_or(0, |(_, n)| n);
                        let d = self.densest_at_least(tau, floor);
                        last_densest = d.map(|(_, n)| (tau, n));
                        d.map(|(mean, _)| mean)
                    }
                };
                let Some(seed) = seed else {
                    continue;
                };
                let fit = self.comb(seed, tau, max_k, contrast);
                let w = ((1.0 + tau) / (1.0 - tau)).ln();
                let penalty = if start.is_some() {
                    0.0
                } else {
                    self.scan_positions(w).log10()
                };
                let bound = tail_decades_upper_bound(fit.explained as u64, self.sorted.len() as u64, fit.null_share);
                *slot = Some(Candidate {
                    fit,
                    penalty,
                    bound: bound - penalty,
                    corrected: None,
                });
            }
            self.rank_chunk(&mut fits, &mut best);
        }
        best.map(|(d, mut fit)| {
            fit.decades = (d - (tolerances.len() as f64).log10()).max(0.0);
            fit.p_value = 10f64.powf(-fit.decades).min(1.0);
            fit.jitter = self.jitter(&fit, max_k);
            fit
        })
    }

    /// Keeps the best of `fits` (in ladder order: a later fit wins only if more significant by
    /// more than 1e-9 decades), computing exact tails (an incomplete beta each, the costly part)
    /// only where a fit's upper bound could beat the best exact value known. The most promising
    /// fit's tail is computed first, so that its value prunes the rest. A pruned fit is at least
    /// 1e-6 decades below an exact value that is ranked (the bound's margin), so it could not
    /// have been kept, nor have changed which fit is: the choice is the one exact tails
    /// everywhere would make.
    fn rank_chunk(&self, fits: &mut [Option<Candidate>; LADDER_CHUNK], best: &mut Option<(f64, CombFit)>) {
        let m = self.sorted.len();
        let exact = |c: &mut Candidate| {
            c.fit = c.fit.with_tail(m);
            let corrected = (c.fit.decades - c.penalty).max(0.0);
            c.corrected = Some(corrected);
            corrected
        };
        // Corrected decades are clamped at 0, where fits tie and the first in the ladder is kept:
        // nothing is pruned against a best of (nearly) 0.
        let may_win = |c: &Candidate, known: f64| known <= 1e-6 || c.bound > known + 1e-9;
        let mut known = best.as_ref().map_or(0.0, |b| b.0);
        if let Some(top) = fits
            .iter_mut()
            .flatten()
            .max_by(|a, b| a.bound.total_cmp(&b.bound))
            .filter(|c| may_win(c, known))
        {
            known = known.max(exact(top));
        }
        for c in fits.iter_mut().flatten() {
            if c.corrected.is_none() && may_win(c, known) {
                known = known.max(exact(c));
            }
        }
        for c in fits.iter().flatten() {
            let Some(corrected) = c.corrected else {
                continue;
            };
            if best.as_ref().is_none_or(|(d, _)| corrected > *d + 1e-9) {
                *best = Some((corrected, c.fit));
            }
        }
    }
}

/// Tolerances ranked together by [`IntervalData::best_fit`] (a longer ladder is taken in
/// chunks): a fixed array, so that ranking allocates nothing.
const LADDER_CHUNK: usize = 8;

/// One tolerance's comb fit while the ladder is ranked.
#[derive(Clone, Copy)]
struct Candidate {
    fit: CombFit,
    /// `log10` of the window positions scanned (the multiplicity correction).
    penalty: f64,
    /// Upper bound on the corrected decades.
    bound: f64,
    /// The corrected decades, once the exact tail is computed.
    corrected: Option<f64>,
}

/// The partition point of `pred` (true on a prefix) in `s[start..]`, as an index into `s`.
/// With `near`, first walks a few steps from `guess` (exact: the point is where `pred` turns
/// false), falling back to binary search; else binary search.
#[inline]
fn partition_near(s: &[f64], start: usize, guess: usize, near: bool, pred: impl Fn(f64) -> bool) -> usize {
    if near {
        let mut i = guess.clamp(start, s.len());
        for _ in 0..8 {
            let left_in = i == start || s.get(i - 1).is_some_and(|&v| pred(v));
            if !left_in {
                i -= 1;
                continue;
            }
            if s.get(i).is_none_or(|&v| !pred(v)) {
                return i;
            }
            i += 1;
        }
    }
    let rest = s.get(start..).unwrap_or(&[]);
    start + rest.partition_point(|&v| pred(v))
}

/// Most comb windows whose residuals [`IntervalData::jitter`] merges (the `max_multiple` cap).
const MAX_RUNS: usize = 64;

/// Values at two ranks (counted from the low end if `ascending`, else from the high end) of the
/// union of runs `sorted[a..b]`, each mapped through `value(index, run)`, which is ascending in
/// the index within each run. A k-way merge from that end, stopping at the larger rank.
fn merged(
    runs: &[(usize, usize)],
    value: &impl Fn(usize, usize) -> f64,
    ascending: bool,
    ranks: [usize; 2],
) -> [f64; 2] {
    let mut heads = [(0usize, 0usize); MAX_RUNS];
    for (h, &r) in heads.iter_mut().zip(runs) {
        *h = r;
    }
    let heads = &mut heads[..runs.len().min(MAX_RUNS)];
    let mut out = [0.0; 2];
    let last = ranks[0].max(ranks[1]);
    for t in 0..=last {
        let mut pick: Option<(usize, f64)> = None;
        for (k, &(a, b)) in heads.iter().enumerate() {
            if a >= b {
                continue;
            }
            let v = if ascending { value(a, k) } else { value(b - 1, k) };
            let better = match pick {
                None => true,
                Some((_, p)) => {
                    if ascending {
                        v < p
                    } else {
                        v > p
                    }
                }
            };
            if better {
                pick = Some((k, v));
            }
        }
        let Some((k, v)) = pick else { break };
        if let Some(h) = heads.get_mut(k) {
            if ascending {
                h.0 += 1;
            } else {
                h.1 -= 1;
            }
        }
        for (slot, &r) in out.iter_mut().zip(&ranks) {
            if r == t {
                *slot = v;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::beacon::stats::quantile_sorted;
    use proptest::prelude::*;

    /// Uniform draws in `[0, 1)` from a xorshift generator seeded with `x` (non-zero).
    fn uniform_from(mut x: u64) -> impl FnMut() -> f64 {
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Interval data over sorted intervals and their prefix sums, with no dead time.
    fn interval_data<'a>(sorted: &'a [f64], prefix: &'a [f64], mean: f64) -> IntervalData<'a> {
        IntervalData {
            sorted,
            prefix,
            mean,
            dead_time: 0.0,
        }
    }

    fn data(intervals: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let mut s = intervals.to_vec();
        s.sort_by(f64::total_cmp);
        let mut prefix = vec![0.0];
        prefix.extend(s.iter().scan(0.0, |acc, &v| {
            *acc += v;
            Some(*acc)
        }));
        (s, prefix)
    }

    #[test]
    fn coalesces_bursts_into_beats() {
        let ts = [0, 100, 200, 60_000_000, 60_000_050, 120_000_000];
        let (mut b, mut s) = (Vec::new(), Vec::new());
        let merged = coalesce(&ts, Some(&[1, 2, 3, 4, 5, 6]), 1_000, &mut b, &mut s);
        assert_eq!(b, vec![0, 60_000_000, 120_000_000]);
        assert_eq!(s, vec![6, 9, 6]);
        assert_eq!(
            merged,
            Merged {
                intervals: 3,
                total_us: 250,
                largest: 3,
                longest_us: 200,
            }
        );
    }

    #[test]
    fn singles_is_coalesce_when_nothing_merges() {
        let ts = [0, 2_000, 5_000, 60_000_000, 60_001_001, 120_000_000];
        for sizes in [None, Some(&[1u64, 2, 3, 4, 5, 6][..]), Some(&[7u64, 8][..])] {
            for gap in [0, 999, 1_000] {
                let (mut b, mut s, mut b2, mut s2) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                let want = coalesce(&ts, sizes, gap, &mut b, &mut s);
                let got = singles(&ts, sizes, &mut b2, &mut s2);
                assert_eq!((got, &b2, &s2), (want, &b, &s), "gap {gap}, sizes {sizes:?}");
            }
        }
        // One event more in the gap, and the two differ (the test can fail).
        let (mut b, mut s) = (Vec::new(), Vec::new());
        let merged = coalesce(&ts, None, 1_001, &mut b, &mut s);
        assert_ne!(merged, singles(&ts, None, &mut b, &mut s));
        let (mut b, mut s) = (Vec::new(), Vec::new());
        assert_eq!(singles(&[], None, &mut b, &mut s), Merged::default());
    }

    /// The neighbour-by-neighbour scan `widest_split` replaces.
    fn widest_split_linear(sorted: &[u64], lo: usize, hi: usize) -> Option<usize> {
        let (mut best_k, mut best) = (0usize, BURST_SPLIT_RATIO);
        for k in lo..=hi {
            let (Some(&a), Some(&b)) = (sorted.get(k - 1), sorted.get(k)) else {
                break;
            };
            if a > 0 && b as f64 >= best * a as f64 {
                best = b as f64 / a as f64;
                best_k = k;
            }
        }
        (best_k > 0).then_some(best_k)
    }

    proptest! {
        // Small values (ties, zeros), values across the whole range and powers of two (ratios
        // of exactly 2): the jumps must never skip the split the full scan picks.
        #[test]
        fn widest_split_finds_what_the_linear_scan_finds(
            mut v in prop_oneof![
                proptest::collection::vec(0u64..4, 0..300),
                proptest::collection::vec((1u64..7).prop_map(|x| x * 1_000), 0..300),
                proptest::collection::vec(0u64..2_000, 0..300),
                proptest::collection::vec(any::<u64>(), 0..300),
                proptest::collection::vec((0u32..64).prop_map(|b| 1u64 << b), 0..300),
            ],
            lo in 1usize..40,
            hi_back in 0usize..40,
        ) {
            v.sort_unstable();
            let hi = v.len().saturating_sub(hi_back).min(v.len().saturating_sub(1));
            prop_assert_eq!(widest_split(&v, lo, hi), widest_split_linear(&v, lo, hi));
        }
    }

    #[test]
    fn burst_gap_splits_two_scales_and_not_missed_check_ins() {
        // Bursts of four 0.2 s apart every 60 s: the gap is the inner spacing.
        let mut raw: Vec<u64> = (0..30).flat_map(|_| [200_000, 200_000, 200_000, 59_400_000]).collect();
        raw.sort_unstable();
        assert_eq!(burst_gap(&raw, 4, 30_000_000), Some(200_000));
        // Check-ins at 60 s with some missed (120 s, 180 s): one scale, no split.
        let mut missed: Vec<u64> = (0..40)
            .map(|i| [60_000_000, 60_600_000, 120_000_000, 180_000_000][i % 4])
            .collect();
        missed.sort_unstable();
        assert_eq!(burst_gap(&missed, 4, 30_000_000), None);
        // The gap never exceeds the cap, and too few outer intervals give no split.
        assert_eq!(burst_gap(&raw, 4, 100_000), None);
        assert_eq!(burst_gap(&raw, 40, 30_000_000), None);
    }

    #[test]
    fn multiples_stop_before_windows_overlap() {
        assert_eq!(max_multiple(0.5, 8), 1);
        assert_eq!(max_multiple(0.35, 8), 2);
        assert_eq!(max_multiple(0.03, 8), 8);
    }

    #[test]
    fn fits_missed_beats_exactly() {
        let iv = [60.0, 60.0, 120.0, 60.0, 180.0, 60.0, 60.0, 60.0];
        let (s, prefix) = data(&iv);
        let d = interval_data(&s, &prefix, iv.iter().sum::<f64>() / 8.0);
        let fit = d.best_fit(None, &[0.03, 0.1], 8, 3.0).unwrap();
        assert!((fit.period - 60.0).abs() < 1e-9);
        assert_eq!(fit.explained, 8);
        assert_eq!(fit.missed_beats, 3);
        assert!(fit.p_value < 0.01, "{fit:?}");
    }

    #[test]
    fn jitter_merge_matches_sorting_the_residuals() {
        let mut uniform = uniform_from(0x2545_f491_4f6c_dd1d);
        for (n, jit) in [(7usize, 0.05), (40, 0.1), (300, 0.3), (300, 0.02), (1000, 0.45)] {
            let iv: Vec<f64> = (0..n)
                .map(|_| {
                    let k = 1.0 + (uniform() * 3.0).floor();
                    60.0 * k + 60.0 * jit * (2.0 * uniform() - 1.0) * k.sqrt()
                })
                .collect();
            let (s, prefix) = data(&iv);
            let d = interval_data(&s, &prefix, iv.iter().sum::<f64>() / n as f64);
            for tau in [0.03, 0.06, 0.12, 0.22, 0.35, 0.5] {
                let fit = d.fit(60.0, tau, 8, 3.0);
                let kmax = max_multiple(tau, 8);
                let mut res: Vec<f64> = Vec::new();
                for &v in &s {
                    let r = (v / fit.period).round();
                    if (1.0..=f64::from(kmax)).contains(&r) {
                        let dev = v - r * fit.period;
                        if dev.abs() <= tau * r.sqrt() * fit.period {
                            res.push(dev / (r.sqrt() * fit.period));
                        }
                    }
                }
                res.sort_by(f64::total_cmp);
                let want = match res.len() {
                    0 | 1 => 0.0,
                    2..=9 => (res[res.len() - 1] - res[0]) / 2.0,
                    _ => (quantile_sorted(&res, 0.95) - quantile_sorted(&res, 0.05)) / 2.0,
                };
                assert_eq!(res.len(), fit.explained, "n {n} tau {tau}");
                assert_eq!(d.jitter(&fit, 8), want.max(0.0), "n {n} tau {tau}");
            }
        }
    }

    #[test]
    fn pruned_ranking_keeps_the_fit_exact_tails_keep() {
        let mut uniform = uniform_from(0x2545_f491_4f6c_dd1d);
        let ladder = [0.03, 0.06, 0.12, 0.22, 0.35, 0.5];
        let mut pruned_some = false;
        for case in 0..300 {
            let n = 20 + case % 280;
            // Beacons with every jitter, missed beats, and exponential (Poisson) intervals.
            let jit = uniform() * 0.6;
            let iv: Vec<f64> = (0..n)
                .map(|_| match case % 3 {
                    0 => -60.0 * (1.0 - uniform()).ln() + 0.5,
                    _ => {
                        let k = if uniform() < 0.15 { 2.0 } else { 1.0 };
                        (60.0 * k * (1.0 + jit * (2.0 * uniform() - 1.0))).max(0.5)
                    }
                })
                .collect();
            let (s, prefix) = data(&iv);
            let d = interval_data(&s, &prefix, iv.iter().sum::<f64>() / n as f64);
            // Exact tails for every tolerance, kept in ladder order.
            let mut want: Option<(f64, CombFit)> = None;
            for &tau in &ladder {
                let Some(seed) = d.densest(tau) else { continue };
                let fit = d.fit(seed, tau, 8, 3.0);
                let w = ((1.0 + tau) / (1.0 - tau)).ln();
                let corrected = (fit.decades - d.scan_positions(w).log10()).max(0.0);
                if want.as_ref().is_none_or(|(b, _)| corrected > *b + 1e-9) {
                    want = Some((corrected, fit));
                }
                pruned_some |= want.as_ref().is_some_and(|(b, _)| {
                    *b > 1e-6
                        && tail_decades_upper_bound(fit.explained as u64, n as u64, fit.null_share)
                            - d.scan_positions(w).log10()
                            <= *b
                });
            }
            let got = d
                .best_fit(None, &ladder, 8, 3.0)
                .map(|f| (f.period, f.tolerance, f.explained));
            assert_eq!(
                got,
                want.map(|(_, f)| (f.period, f.tolerance, f.explained)),
                "case {case}"
            );
        }
        assert!(pruned_some, "no case exercised the pruning");
    }

    #[test]
    fn densest_matches_the_naive_scan() {
        let mut uniform = uniform_from(0x9e37_79b9_7f4a_7c15);
        for n in [1usize, 2, 5, 50, 300] {
            let iv: Vec<f64> = (0..n)
                .map(|i| {
                    if i % 3 == 0 {
                        60.0 + uniform() * 6.0
                    } else {
                        1.0 + uniform() * 500.0
                    }
                })
                .collect();
            let (s, prefix) = data(&iv);
            let d = interval_data(&s, &prefix, 100.0);
            for tau in [0.03, 0.06, 0.12, 0.22, 0.35, 0.5] {
                let ratio = (1.0 + tau) / (1.0 - tau);
                let (mut best_i, mut best_n) = (0, 0);
                for i in 0..n {
                    let k = s[i..].iter().take_while(|&&v| v <= s[i] * ratio).count();
                    if k > best_n {
                        (best_i, best_n) = (i, k);
                    }
                }
                let want = s[best_i..best_i + best_n].iter().sum::<f64>() / best_n as f64;
                let got = d.densest(tau).unwrap();
                assert!((got - want).abs() <= 1e-9 * want, "n {n} tau {tau}: {got} vs {want}");
                // Seeded with the count at the previous (narrower) tolerance, as the ladder
                // scan is: the same window, bit for bit.
                let narrower = (tau * 0.5, d.densest_at_least(tau * 0.5, 0).map_or(0, |(_, c)| c));
                assert_eq!(
                    d.densest_at_least(tau, narrower.1),
                    Some((got, best_n)),
                    "n {n} tau {tau}"
                );
                // A floor that is too high falls back to the full scan.
                assert_eq!(d.densest_at_least(tau, n + 5), Some((got, best_n)), "n {n} tau {tau}");
            }
        }
    }
}
