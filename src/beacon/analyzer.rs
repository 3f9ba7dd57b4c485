//! [`Analyzer`]: scores many series, reusing its FFT plans and scratch buffers.

use super::config::AnalyzerConfig;
use super::intervals::{CombFit, IntervalData, burst_gap, coalesce, coalesce_gap, prefix_sums, singles};
use super::report::{
    BeaconReport, BurstStats, IntervalStats, MAX_SEGMENTS, PeriodSource, Segment, Segments, SizeStats, SpectralStats,
    SubScores, Verdict,
};
use super::schedule::ScheduleScratch;
use super::segments::{FitParams, SegmentFit, SegmentScratch, change_point, combined_decades, segment};
use super::spectrum::{SpectralEngine, SpectralFit, SpectralParams};
use super::stats::{bowley, decades, mad_sorted, quantile_sorted};
use crate::series::Series;
use crate::time::{Interval, Timestamp};

/// Scores how periodic series of timestamps are.
///
/// Build once, score many: the analyzer keeps its FFT plans (cached by length) and every scratch
/// buffer, so after warming up to the largest series it has seen, scoring allocates nothing.
/// Not `Sync` (it mutates its scratch); use one analyzer per thread.
///
/// # Example
/// ```
/// use beaconstat::{Analyzer, AnalyzerConfig};
/// let mut analyzer = Analyzer::new(AnalyzerConfig::default());
/// // A 5-minute beacon with a few seconds of jitter, µs since the epoch.
/// let ts: Vec<i64> = (0..40).map(|i| 1_700_000_000_000_000 + i * 300_000_000 + (i % 3) * 2_000_000).collect();
/// let report = analyzer.score(&ts, None);
/// assert!(report.score > 0.8);
/// assert!((report.period.unwrap().as_secs_f64() - 300.0).abs() < 3.0);
/// ```
#[derive(Debug)]
pub struct Analyzer {
    cfg: AnalyzerConfig,
    pairs: Vec<(i64, u64)>,
    ts: Vec<i64>,
    sizes: Vec<u64>,
    beats: Vec<i64>,
    beat_sizes: Vec<u64>,
    raw_sorted: Vec<u64>,
    sorted_us: Vec<u64>,
    sorted_sizes: Vec<u64>,
    radix: Vec<u64>,
    sorted: Vec<f64>,
    prefix: Vec<f64>,
    scratch: Vec<f64>,
    spectral: SpectralEngine,
    last_spectral: SpectralFit,
    beat_intervals: Vec<f64>,
    seg_scratch: SegmentScratch,
    seg_fits: [Option<SegmentFit>; MAX_SEGMENTS],
    schedules: ScheduleScratch,
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new(AnalyzerConfig::default())
    }
}

impl Clone for Analyzer {
    /// A new analyzer with the same configuration (scratch is not copied).
    fn clone(&self) -> Self {
        Analyzer::new(self.cfg.clone())
    }
}

impl Analyzer {
    /// An analyzer with the given configuration.
    pub fn new(cfg: AnalyzerConfig) -> Self {
        Analyzer {
            cfg,
            pairs: Vec::new(),
            ts: Vec::new(),
            sizes: Vec::new(),
            beats: Vec::new(),
            beat_sizes: Vec::new(),
            raw_sorted: Vec::new(),
            sorted_us: Vec::new(),
            sorted_sizes: Vec::new(),
            radix: Vec::new(),
            sorted: Vec::new(),
            prefix: Vec::new(),
            scratch: Vec::new(),
            spectral: SpectralEngine::new(),
            last_spectral: SpectralFit::default(),
            beat_intervals: Vec::new(),
            seg_scratch: SegmentScratch::default(),
            seg_fits: [None; MAX_SEGMENTS],
            schedules: ScheduleScratch::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AnalyzerConfig {
        &self.cfg
    }

    /// Scores one series from a [`SeriesSet`](crate::SeriesSet).
    pub fn score_series(&mut self, series: &Series<'_>) -> BeaconReport {
        self.score(series.timestamps(), series.sizes())
    }

    /// Scores one series: timestamps in µs (any order), optional sizes aligned with them
    /// (ignored unless the lengths match).
    ///
    /// Never panics, for any input: empty, one event, all equal, the extremes of `i64`. Series
    /// with fewer than `min_events` beats get [`Verdict::TooFew`] with score 0 and p-value 1.
    pub fn score(&mut self, timestamps: &[i64], sizes: Option<&[u64]>) -> BeaconReport {
        self.score_keeping(timestamps, sizes, false)
    }

    /// [`Analyzer::score`]; with `keep_scratch` the scratch buffers are left as the returned
    /// report's scoring left them (what [`Analyzer::evidence`] reads), which can take one more
    /// scoring of the series (see [`Analyzer::score_sorted`]).
    fn score_keeping(&mut self, timestamps: &[i64], sizes: Option<&[u64]>, keep_scratch: bool) -> BeaconReport {
        let sizes = sizes.filter(|s| s.len() == timestamps.len());
        // Already in order (the usual case: grouped series are sorted): read the input in place.
        let in_place = self.prepare(timestamps, sizes);
        // The sorted copies leave their buffers for the call (and come back, capacity kept).
        let (own_ts, own_sizes) = (std::mem::take(&mut self.ts), std::mem::take(&mut self.sizes));
        let (ts, sz) = if in_place {
            (timestamps, sizes)
        } else {
            (own_ts.as_slice(), sizes.map(|_| own_sizes.as_slice()))
        };
        let report = self.score_sorted(ts, sz, keep_scratch);
        (self.ts, self.sizes) = (own_ts, own_sizes);
        report
    }

    /// [`Analyzer::score`] on ascending timestamps: picks the time scale of the beats, then
    /// scores them. With `keep_scratch` the scratch follows the report returned (see
    /// [`Analyzer::score_keeping`]).
    fn score_sorted(&mut self, ts: &[i64], sz: Option<&[u64]>, keep_scratch: bool) -> BeaconReport {
        // The raw intervals, sorted, set the coalescing gap; when nothing coalesces (the usual
        // case) they are also the beat intervals and are not sorted again.
        self.raw_sorted.clear();
        self.raw_sorted.extend(ts.windows(2).map(|w| w[1].abs_diff(w[0])));
        sort_u64(&mut self.raw_sorted, &mut self.radix);
        let cap = self.cfg.coalesce_max.as_micros();
        let gap = coalesce_gap(&self.raw_sorted, self.cfg.coalesce_ratio, cap);
        // Two time scales (connections within a check-in, check-ins): the beats of the outer
        // scale are scored too, their p-values doubled for the two scales tried. A check-in is
        // the unit of a beacon, so the outer scale is kept when it scores at least as well, or
        // when it is a beacon in its own right (at least 0.5, and 0.8 of the inner score):
        // bursts of regularly spaced connections once an hour are an hourly beacon.
        let outer = (self.cfg.coalesce_ratio > 0.0)
            .then(|| burst_gap(&self.raw_sorted, self.cfg.min_events, cap))
            .flatten()
            .filter(|&g| g > gap);
        let Some(outer_gap) = outer else {
            return self.score_beats(ts, sz, gap, 1.0);
        };
        // The outer scale first: the inner one usually wins, and the analyzer's scratch (read
        // by `evidence`) must follow the report returned, so scoring the inner scale last
        // saves scoring it twice. When the outer one wins, only `evidence` needs it scored
        // again (scoring is a function of the series: the same report; its FFT length is
        // planned already, so the plans are unchanged too).
        let outer = self.score_beats(ts, sz, outer_gap, 2.0);
        // A check-in is short against its period: an outer "beat" lasting half a period or more
        // is a stretch of faster check-ins (a sleep change), not a burst.
        let short_beats = outer
            .period
            .zip(outer.bursts)
            .is_some_and(|(p, b)| b.longest.as_secs_f64() <= 0.5 * p.as_secs_f64());
        let inner = self.score_beats(ts, sz, gap, 2.0);
        if outer.verdict == Verdict::Scored
            && short_beats
            && outer.score >= inner.score.min((0.8 * inner.score).max(0.5))
        {
            if keep_scratch {
                self.score_beats(ts, sz, outer_gap, 2.0)
            } else {
                outer
            }
        } else {
            inner
        }
    }

    /// Coalesces ascending events with `gap` (µs) into beats and scores them; `trials` is the
    /// number of time scales tried (the p-value's multiplicity).
    fn score_beats(&mut self, ts: &[i64], sz: Option<&[u64]>, gap: u64, trials: f64) -> BeaconReport {
        let events = ts.len();
        let (first, last) = match (ts.first(), ts.last()) {
            (Some(&a), Some(&b)) => (Timestamp(a), Timestamp(b)),
            _ => return BeaconReport::too_few(0, 0, Timestamp::default(), Timestamp::default()),
        };
        // `raw_sorted` holds this series' intervals between events, ascending: when the smallest
        // exceeds the gap, nothing merges and the beats are a copy of the events.
        let merged = if self.raw_sorted.first().is_some_and(|&d| d > gap) {
            singles(ts, sz, &mut self.beats, &mut self.beat_sizes)
        } else {
            coalesce(ts, sz, gap, &mut self.beats, &mut self.beat_sizes)
        };
        let beats = self.beats.len();
        if beats < self.cfg.min_events {
            let mut r = BeaconReport::too_few(events, beats, first, last);
            r.coalesce_gap = Interval::from_micros_u64(gap);
            return r;
        }

        // Intervals between beats, seconds; all > 0 because coalescing merges equal times.
        // Sorted as integer µs (radix sort for long series), then converted: the conversion is
        // monotone, so this is the order of the intervals in seconds.
        let sorted_us = if beats == events {
            &self.raw_sorted
        } else {
            self.sorted_us.clear();
            self.sorted_us
                .extend(self.beats.windows(2).map(|w| w[1].abs_diff(w[0])));
            sort_u64(&mut self.sorted_us, &mut self.radix);
            &self.sorted_us
        };
        self.sorted.clear();
        self.sorted.extend(sorted_us.iter().map(|&us| us as f64 / 1e6));
        prefix_sums(&self.sorted, &mut self.prefix);
        let m = self.sorted.len();
        let span = last.0.abs_diff(first.0) as f64 / 1e6;
        let mean = span / m as f64;
        let data = IntervalData {
            sorted: &self.sorted,
            prefix: &self.prefix,
            mean,
            dead_time: gap as f64 / 1e6,
        };
        let (tols, kmax, contrast) = (&self.cfg.tolerances, self.cfg.max_multiple, self.cfg.contrast);

        let median = quantile_sorted(&self.sorted, 0.5);
        let interval_fit = data.best_fit(None, tols, kmax, contrast);
        let hint = interval_fit.map_or(median, |f| f.period);
        let params = SpectralParams {
            bins_per_period: self.cfg.bins_per_period,
            bins_per_beat: self.cfg.bins_per_beat,
            max_bins: self.cfg.max_bins,
        };
        let spec = self.spectral.analyze(&self.beats, hint, params);
        self.last_spectral = spec;

        // A verified spectral period that the interval fit missed gets its own comb fit; the
        // better timing evidence wins (it penalises missed beats, so sub-harmonics lose).
        let mut source = PeriodSource::Intervals;
        let mut fit = interval_fit;
        if let (Some(ps), Some(fi)) = (spec.period, interval_fit)
            && (ps - fi.period).abs() > fi.tolerance * fi.period
            && let Some(alt) = data.best_fit(Some(ps), tols, kmax, contrast)
            && timing_evidence(&alt, m) > timing_evidence(&fi, m)
        {
            fit = Some(alt);
            source = PeriodSource::Spectrum;
        }
        let fit = fit.unwrap_or(CombFit {
            p_value: 1.0,
            ..CombFit::default()
        });
        let period = (fit.period > 0.0).then_some(fit.period);

        // Spectral sub-score: the ACF hill at the comb's period or at the verified periodogram
        // period, whichever is higher, damped by Fisher's p. A pattern of several events per
        // cycle (a reconnect and its retry: intervals 7 s, 3 s, 7 s, 3 s …) has no simple
        // interval comb but a strong ACF at the cycle (10 s).
        let comb_acf = period
            .and_then(|p| self.spectral.acf_at(p, spec.bin_width))
            .map_or(0.0, |(_, r)| r.clamp(0.0, 1.0));
        let (acf, acf_period) = match spec.period {
            Some(ps) if spec.acf_peak > comb_acf => (spec.acf_peak, Some(ps)),
            _ => (comb_acf, period),
        };
        let gate = |p: f64| (decades(p) / self.cfg.gate_decades).clamp(0.0, 1.0);
        let spectral = acf * gate(spec.fisher_p);

        let missed = fit.missed_share(m);
        let timing = timing_evidence(&fit, m);

        let p_value = (2.0 * trials * fit.p_value.min(spec.fisher_p)).clamp(0.0, 1.0);
        let significance = gate(p_value);
        let size = sz.map(|_| {
            let (sorted, tmp) = (&mut self.sorted_sizes, &mut self.radix);
            size_stats(&self.beat_sizes, sorted, tmp, &mut self.scratch)
        });
        let size_factor = size.map_or(1.0, |s| 1.0 - self.cfg.size_weight * (1.0 - s.regularity));
        let score = significance * size_factor * timing.max(0.9 * spectral);
        // Where the spectral evidence carries the score, its period is the one to report.
        let (period, source) = if 0.9 * spectral > timing && acf_period != period {
            (acf_period, PeriodSource::Spectrum)
        } else {
            (period, source)
        };
        let score = if score.is_finite() {
            score.clamp(0.0, 1.0) + 0.0
        } else {
            0.0
        };

        let mad = mad_sorted(&self.sorted, median);
        let mut report = BeaconReport {
            verdict: Verdict::Scored,
            score,
            p_value,
            events,
            beats,
            coalesce_gap: Interval::from_micros_u64(gap),
            first,
            last,
            period: period.map(Interval::from_estimate),
            period_source: if period.is_some() { source } else { PeriodSource::None },
            jitter: fit.jitter,
            tolerance: fit.tolerance,
            explained: fit.explained as f64 / m as f64,
            chance: fit.null_share,
            missed_beats: fit.missed_beats,
            missed,
            subscores: SubScores {
                timing,
                spectral,
                size: size.map(|s| s.regularity),
                significance,
            },
            intervals: IntervalStats {
                median: Interval::from_estimate(median),
                mad: Interval::from_estimate(mad),
                bowley: bowley(&self.sorted),
                mean: Interval::from_estimate(mean),
                comb_period: (fit.period > 0.0).then(|| Interval::from_estimate(fit.period)),
            },
            spectrum: SpectralStats {
                period: spec.period.map(Interval::from_estimate),
                fisher_g: spec.fisher_g,
                fisher_p: spec.fisher_p,
                acf,
                bin_width: Interval::from_estimate(spec.bin_width),
            },
            size,
            segments: Segments::default(),
            bursts: (merged.intervals > 0).then(|| BurstStats {
                connections_per_beat: events as f64 / beats as f64,
                largest: merged.largest,
                spacing: Interval::from_estimate(merged.total_us as f64 / merged.intervals as f64 / 1e6),
                longest: Interval::from_micros_u64(merged.longest_us),
            }),
            schedule: None,
        };
        // The beats' intervals in time order, seconds: read by the segment and schedule tests.
        self.beat_intervals.clear();
        self.beat_intervals
            .extend(self.beats.windows(2).map(|w| w[1].abs_diff(w[0]) as f64 / 1e6));
        self.segment_beats(&mut report, gap as f64 / 1e6, trials, size_factor);
        if report.score < SCHEDULE_BELOW {
            self.name_schedule(&mut report, trials, size_factor);
        }
        report
    }

    /// Sleep changes: splits the beats at change points of their intervals (see
    /// `segments.rs`); when two or more segments with distinct periods are each significant,
    /// reports them, and scores on their combined evidence where that beats the whole-series fit
    /// (the period, jitter and explained share are then the segments': the last segment's period
    /// and jitter, the explained share over all of them).
    fn segment_beats(&mut self, report: &mut BeaconReport, dead_time: f64, trials: f64, size_factor: f64) {
        // The screen first: most series have no change point.
        let Some(first) = change_point(&self.beat_intervals) else {
            return;
        };
        let params = FitParams {
            tolerances: &self.cfg.tolerances,
            max_k: self.cfg.max_multiple,
            contrast: self.cfg.contrast,
            dead_time,
        };
        let n = segment(
            &self.beat_intervals,
            Some(first),
            params,
            &mut self.seg_scratch,
            &mut self.seg_fits,
        );
        if n < 2 {
            return;
        }
        let m = self.beat_intervals.len();
        let (mut decades_each, mut timing, mut explained, mut chance) = ([0.0f64; MAX_SEGMENTS], 0.0, 0usize, 0.0);
        for (slot, s) in decades_each.iter_mut().zip(self.seg_fits.iter().flatten()) {
            let len = s.end - s.start;
            *slot = s.fit.decades;
            timing += len as f64 / m as f64 * timing_evidence(&s.fit, len);
            explained += s.fit.explained;
            chance += len as f64 / m as f64 * s.fit.null_share;
            let at = |i: usize| Timestamp(self.beats.get(i).copied().unwrap_or_default());
            report.segments.push(Segment {
                first: at(s.start),
                last: at(s.end),
                beats: len + 1,
                period: Interval::from_estimate(s.fit.period),
                jitter: s.fit.jitter,
                explained: s.fit.explained as f64 / len.max(1) as f64,
                p_value: s.fit.p_value,
            });
        }
        let combined = combined_decades(decades_each.get(..n).unwrap_or(&[]), m) - (2.0 * trials).log10();
        let significance = (combined / self.cfg.gate_decades).clamp(0.0, 1.0);
        let score = significance * size_factor * timing;
        if score > report.score
            && let Some(last) = self.seg_fits.iter().flatten().last()
        {
            report.score = score.clamp(0.0, 1.0);
            report.p_value = 10f64.powf(-combined.max(0.0)).min(1.0);
            report.period = Some(Interval::from_estimate(last.fit.period));
            report.period_source = PeriodSource::Intervals;
            report.jitter = last.fit.jitter;
            report.tolerance = last.fit.tolerance;
            report.explained = explained as f64 / m as f64;
            report.chance = chance;
            report.subscores.timing = timing;
            report.subscores.significance = significance;
        }
    }

    /// Evasive schedules (see `schedule.rs`): a weakly periodic series whose intervals follow a
    /// Fibonacci or back-off relation, or that checks in the same number of times every day,
    /// is named for it, with no period, when that evidence scores higher.
    fn name_schedule(&mut self, report: &mut BeaconReport, trials: f64, size_factor: f64) {
        let Some(mut e) = self.schedules.detect_with(&self.beats, &self.beat_intervals) else {
            return;
        };
        e.p_value = (e.p_value * trials).min(1.0);
        let significance = (decades(e.p_value) / self.cfg.gate_decades).clamp(0.0, 1.0);
        let score = significance * size_factor * e.excess();
        if score > report.score {
            report.score = score.clamp(0.0, 1.0);
            report.p_value = e.p_value;
            report.period = None;
            report.period_source = PeriodSource::None;
            report.subscores.significance = significance;
            report.schedule = Some(e);
        }
    }

    /// Scores a series and keeps the intermediate results for plots and explanations:
    /// beats, intervals, periodogram and autocorrelation. Allocates; not for the hot path.
    ///
    /// # Example
    /// ```
    /// use beaconstat::Analyzer;
    /// let ts: Vec<i64> = (0..30).map(|i| i * 60_000_000).collect();
    /// let ev = Analyzer::default().evidence(&ts, None);
    /// assert_eq!(ev.beats.len(), 30);
    /// assert_eq!(ev.intervals_s.len(), 29);
    /// assert!(!ev.periodogram.is_empty() && !ev.autocorrelation.is_empty());
    /// ```
    pub fn evidence(&mut self, timestamps: &[i64], sizes: Option<&[u64]>) -> Evidence {
        let report = self.score_keeping(timestamps, sizes, true);
        if report.verdict != Verdict::Scored {
            return Evidence {
                report,
                ..Evidence::default()
            };
        }
        let spec = self.last_spectral;
        Evidence {
            report,
            beats: self.beats.clone(),
            intervals_s: self
                .beats
                .windows(2)
                .map(|w| w[1].abs_diff(w[0]) as f64 / 1e6)
                .collect(),
            periodogram: self.spectral.periodogram(&spec),
            autocorrelation: self.spectral.autocorrelation(&spec),
        }
    }

    /// Returns `true` when the input is already ordered by time, then size (it is then read in
    /// place); otherwise sorts a copy into the `ts`/`sizes` scratch buffers and returns `false`.
    fn prepare(&mut self, timestamps: &[i64], sizes: Option<&[u64]>) -> bool {
        self.ts.clear();
        self.sizes.clear();
        let ordered = match sizes {
            Some(s) => timestamps
                .windows(2)
                .zip(s.windows(2))
                .all(|(t, z)| (t[0], z[0]) <= (t[1], z[1])),
            None => timestamps.is_sorted(),
        };
        if ordered {
            return true;
        }
        self.pairs.clear();
        match sizes {
            Some(s) => self.pairs.extend(timestamps.iter().copied().zip(s.iter().copied())),
            None => self.pairs.extend(timestamps.iter().map(|&t| (t, 0))),
        }
        self.pairs.sort_unstable();
        self.ts.extend(self.pairs.iter().map(|p| p.0));
        if sizes.is_some() {
            self.sizes.extend(self.pairs.iter().map(|p| p.1));
        }
        false
    }
}

/// Sorts `v` ascending: comparison sort for short slices; for longer ones an LSD radix sort
/// (8-bit digits) of the values less their minimum, with `tmp` as the second buffer. One
/// read counts every digit; a digit all values share moves nothing and is skipped. A series'
/// intervals cluster (a beacon's within its jitter, a day's browsing within hours), so few
/// digits differ, and the passes are branch-free where a comparison sort mispredicts about
/// every other compare: 1.5–2× faster from a few hundred values on (measured in wall time;
/// in instructions the two are close).
fn sort_u64(v: &mut Vec<u64>, tmp: &mut Vec<u64>) {
    const RADIX_FROM: usize = 256;
    let n = v.len();
    // Counts are `u32`: a longer slice (never a series in practice) is sorted by comparison.
    if n < RADIX_FROM || u32::try_from(n).is_err() {
        v.sort_unstable();
        return;
    }
    let (lo, hi) = v.iter().fold((u64::MAX, 0), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let digits = (u64::BITS - (hi - lo).leading_zeros()).div_ceil(8) as usize;
    let mut counts = [[0u32; 256]; 8];
    for &x in v.iter() {
        let d = x - lo;
        for (p, c) in counts.iter_mut().take(digits).enumerate() {
            c[usize::from((d >> (8 * p)) as u8)] += 1;
        }
    }
    tmp.resize(n, 0);
    for (p, c) in counts.iter_mut().take(digits).enumerate() {
        let shift = 8 * p;
        if c.iter().any(|&k| k as usize == n) {
            continue;
        }
        let mut total = 0u32;
        for o in c.iter_mut() {
            let k = *o;
            *o = total;
            total += k;
        }
        for &x in v.iter() {
            let slot = &mut c[usize::from(((x - lo) >> shift) as u8)];
            if let Some(t) = tmp.get_mut(*slot as usize) {
                *t = x;
            }
            *slot += 1;
        }
        std::mem::swap(v, tmp);
    }
}

/// Scores below which a series is tested for an evasive schedule.
const SCHEDULE_BELOW: f64 = 0.5;

/// Decades of interval significance up to which jitter costs in full (see [`timing_evidence`]).
const JITTER_FULL_COST_DECADES: f64 = 10.0;

/// Timing sub-score: explained share in excess of chance, damped by jitter (halved at ±50%)
/// and by missed check-ins (halved when all are missed).
///
/// The jitter damping yields to evidence: beyond [`JITTER_FULL_COST_DECADES`] of significance
/// its cost shrinks as `10 / decades`. Jitter makes a short series ambiguous (a few loose
/// intervals fit many periods), but C2 frameworks default to 10–50% jitter, and hundreds of
/// check-ins that fit a period at p ≈ 0 are no less a beacon for it.
fn timing_evidence(fit: &CombFit, m: usize) -> f64 {
    let yielding = (JITTER_FULL_COST_DECADES / fit.decades.max(JITTER_FULL_COST_DECADES)).min(1.0);
    let jitter_cost = 0.5 * (fit.jitter / 0.5).min(1.0) * yielding;
    fit.excess(m) * (1.0 - jitter_cost) * (1.0 - 0.5 * fit.missed_share(m))
}

/// Size regularity of the beats' byte counts. The counts are sorted as integers (a radix
/// sort for long series, `sorted` and `tmp` its buffers), then converted: the conversion is
/// monotone, so this is the order sorting the converted values gives, at a fraction of a
/// float comparison sort's cost.
fn size_stats(beat_sizes: &[u64], sorted: &mut Vec<u64>, tmp: &mut Vec<u64>, scratch: &mut Vec<f64>) -> SizeStats {
    sorted.clear();
    sorted.extend_from_slice(beat_sizes);
    sort_u64(sorted, tmp);
    scratch.clear();
    scratch.extend(sorted.iter().map(|&s| s as f64));
    size_stats_sorted(scratch)
}

/// [`size_stats`] of the sorted sizes.
fn size_stats_sorted(sorted: &[f64]) -> SizeStats {
    let median = quantile_sorted(sorted, 0.5);
    // Mode of the sorted values: the longest run.
    let (mut mode, mut best, mut run) = (sorted.first().copied().unwrap_or(0.0), 0usize, 0usize);
    for (i, &v) in sorted.iter().enumerate() {
        run = if i > 0 && sorted[i - 1] == v { run + 1 } else { 1 };
        if run > best {
            best = run;
            mode = v;
        }
    }
    let mode_share = if sorted.is_empty() {
        0.0
    } else {
        best as f64 / sorted.len() as f64
    };
    let mad = mad_sorted(sorted, median);
    let spread = if median > 0.0 {
        1.0 - (mad / median).min(1.0)
    } else if mad == 0.0 {
        1.0
    } else {
        0.0
    };
    SizeStats {
        median,
        mad,
        mode: mode as u64,
        mode_share,
        regularity: mode_share.max(spread).clamp(0.0, 1.0),
    }
}

/// A report with the intermediate results behind it (see [`Analyzer::evidence`]).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Evidence {
    /// The report.
    pub report: BeaconReport,
    /// Beat times, µs since the epoch.
    pub beats: Vec<i64>,
    /// Intervals between beats, seconds, in time order.
    pub intervals_s: Vec<f64>,
    /// Periodogram: `(period_s, share of total power)`, longest period first.
    pub periodogram: Vec<(f64, f64)>,
    /// Autocorrelation of the binned beats: `(lag_s, r)`, `r(0) = 1`.
    pub autocorrelation: Vec<(f64, f64)>,
}

impl Evidence {
    /// Histogram of the intervals on a log scale: `bins` equal log-width bins spanning the
    /// intervals, as `(low_s, high_s, count)`.
    pub fn interval_histogram(&self, bins: usize) -> Vec<(f64, f64, usize)> {
        let (lo, hi) = self
            .intervals_s
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        if bins == 0 || !(lo > 0.0 && hi.is_finite()) {
            return Vec::new();
        }
        let (llo, lhi) = ((lo * 0.95).ln(), (hi * 1.05).ln());
        let w = (lhi - llo) / bins as f64;
        let mut counts = vec![0usize; bins];
        for &v in &self.intervals_s {
            let i = (((v.ln() - llo) / w) as usize).min(bins - 1);
            counts[i] += 1;
        }
        counts
            .into_iter()
            .enumerate()
            .map(|(i, c)| ((llo + w * i as f64).exp(), (llo + w * (i + 1) as f64).exp(), c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_stats_match_a_float_sort() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let (mut sorted, mut tmp, mut scratch) = (Vec::new(), Vec::new(), Vec::new());
        // Short (comparison sort) and long (radix) series; small sizes with many ties, and sizes
        // past 2^53 where distinct counts convert to one float.
        for (len, bits) in [
            (0usize, 8u32),
            (1, 8),
            (7, 3),
            (255, 12),
            (256, 12),
            (257, 64),
            (500, 12),
            (2047, 64),
            (2048, 6),
            (9000, 20),
            (9000, 64),
        ] {
            let sizes: Vec<u64> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if bits == 64 { x | (1 << 63) } else { x >> (64 - bits) }
                })
                .collect();
            let got = size_stats(&sizes, &mut sorted, &mut tmp, &mut scratch);
            // The oracle: the sizes converted, then sorted as floats (as before the integer sort).
            let mut floats: Vec<f64> = sizes.iter().map(|&s| s as f64).collect();
            floats.sort_unstable_by(f64::total_cmp);
            assert_eq!(got, size_stats_sorted(&floats), "len {len}, bits {bits}");
        }
    }

    /// Where the outer scale wins, `score` returns its first scoring and `evidence` scores it
    /// again to leave the scratch behind it: the same report either way, and the evidence's
    /// beats are the outer scale's.
    #[test]
    fn outer_scale_wins_alike_for_score_and_evidence() {
        // 37 bursts of 40 connections 0.1 s apart, one burst about every 2 h.
        let ts: Vec<i64> = (0..37i64)
            .flat_map(|i| (0..40i64).map(move |j| i * 7_200_000_000 + (i % 5) * 40_000_000 + j * 100_000))
            .collect();
        let mut warm = Analyzer::default();
        // Other series first, so the warm analyzer's plans and memo differ from a fresh one's.
        for n in [50i64, 700, 3000] {
            let other: Vec<i64> = (0..n).map(|i| i * 61_000_000 + (i * i % 7) * 1_000_000).collect();
            warm.score(&other, None);
        }
        let r = warm.score(&ts, None);
        assert_eq!((r.events, r.beats), (1480, 37), "{r:?}");
        let ev = Analyzer::default().evidence(&ts, None);
        assert_eq!(ev.report, r);
        assert_eq!((ev.beats.len(), ev.intervals_s.len()), (37, 36));
        assert_eq!(warm.evidence(&ts, None).report, r);
    }

    proptest::proptest! {
        // Any values, clustered or spread, ties, lengths on both sides of the radix threshold,
        // a reused second buffer: the order `sort_unstable` gives.
        #[test]
        fn radix_sort_sorts_any_values(
            v in proptest::prop_oneof![
                proptest::collection::vec(proptest::prelude::any::<u64>(), 0..1200),
                proptest::collection::vec(0u64..3, 0..1200),
                proptest::collection::vec(59_000_000u64..61_000_000, 0..1200),
                proptest::collection::vec(proptest::strategy::Strategy::prop_map(0u32..64, |b| 1u64 << b), 0..1200),
            ],
            stale in proptest::collection::vec(proptest::prelude::any::<u64>(), 0..50),
        ) {
            let mut want = v.clone();
            want.sort_unstable();
            let (mut got, mut tmp) = (v, stale);
            sort_u64(&mut got, &mut tmp);
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn radix_sort_matches_comparison_sort() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for (len, bits) in [
            (10usize, 64u32),
            (255, 40),
            (256, 40),
            (257, 9),
            (700, 33),
            (5000, 25),
            (5000, 64),
            (4097, 1),
            (3000, 0),
        ] {
            let mut v: Vec<u64> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if bits == 0 { 0 } else { x >> (64 - bits) }
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort_u64(&mut v, &mut Vec::new());
            assert_eq!(v, want, "len {len}, bits {bits}");
        }
        // Values clustered far from zero (a beacon's intervals), and at the top of the range:
        // sorted less their minimum, in as many digits as their spread needs.
        for base in [60_000_000u64, u64::MAX - (1 << 20)] {
            let mut v: Vec<u64> = (0..3000u64)
                .map(|i| base + (i.wrapping_mul(0x9e37_79b9) % (1 << 20)))
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort_u64(&mut v, &mut Vec::new());
            assert_eq!(v, want, "base {base}");
        }
        // A digit every value shares (the lowest, then a middle one) is skipped, not mis-sorted.
        for keep in [!0xffu64, !(0xffu64 << 8), !0x7ffu64, !(0x7ffu64 << 11)] {
            let mut v: Vec<u64> = (0..5000u64)
                .map(|i| (i.wrapping_mul(0x9e37_79b9) % (1 << 40)) & keep)
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort_u64(&mut v, &mut Vec::new());
            assert_eq!(v, want, "mask {keep:#x}");
        }
    }
}
