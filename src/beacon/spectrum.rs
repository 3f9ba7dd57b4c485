//! The binned beat signal, its periodogram (Fisher's g test) and its autocorrelation.
//!
//! Beats are counted into bins of width `period / bins_per_period` (the interval fit's period),
//! the number of bins capped at `bins_per_beat × beats` and `max_bins` so the cost stays
//! `O(n log n)` in the number of beats whatever the span. The mean-removed signal is zero-padded
//! to `N'` (the next `2^a·3^b` length, so plans stay fast) and one real FFT gives the periodogram
//! at the Fourier frequencies of the `N'`-point signal (Fisher's test needs those).
//!
//! The autocorrelation is *not* taken from a second (inverse, twice as long) FFT: verifying a few
//! candidates reads it at a few dozen lags, so each lag read is one dot product of the signal with
//! itself shifted (linear, not circular), memoised. That is exact, and for the short series that
//! dominate real logs it costs a fraction of the inverse transform. [`SpectralEngine::autocorrelation`]
//! (every lag, for plots) uses the FFT.
//!
//! Candidate periods come from the periodogram's highest peaks; each is verified on the
//! autocorrelation (AUTOPERIOD, Vlachos et al. 2005): its lag, or a small multiple of it, must sit
//! on a hill, which discards harmonics and spurious peaks, and the hill's top refines the period.

use super::fft::{Plan, Plans};
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealToComplex};

/// Reusable FFT state and buffers; plans are cached by length (see `fft.rs`).
pub(crate) struct SpectralEngine {
    /// FFT plans by length.
    plans: Plans,
    /// Odd lengths: the padded signal (`realfft` consumes it).
    signal: Vec<f32>,
    /// Even lengths: the padded signal as `(x[2k], x[2k+1])` pairs (the FFT consumes it).
    pairs: Vec<Complex<f32>>,
    /// The half-length spectrum (even) or the spectrum (odd).
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// The binned, mean-removed signal of the last series (`bins` values; the FFT consumes its
    /// input, so the autocorrelation reads this).
    centered: Vec<f32>,
    /// Memoised autocorrelation of `centered` by lag, unscaled (`NaN`: not computed yet); at
    /// least `bins` long, `NaN` but at the lags listed in `acf_read`.
    acf: Vec<f32>,
    /// The lags memoised in `acf` for this series (reset to `NaN` for the next one, so no pass
    /// over every lag is needed).
    acf_read: Vec<usize>,
    /// One over the lag-0 autocorrelation (`0` when the signal is flat).
    acf_scale: f32,
    /// `|X_k|²` for `k = 0..=N'/2` of the last series; the periodogram's ordinates are
    /// `k = 1..N'/2` (see [`SpectralEngine::ordinates`]).
    power: Vec<f32>,
    /// The padded FFT length `N'` the periodogram was taken at (ordinate `j` is frequency
    /// `j / N'` per bin).
    fft_len: usize,
}

impl core::fmt::Debug for SpectralEngine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SpectralEngine")
            .field("capacity", &self.signal.capacity())
            .finish_non_exhaustive()
    }
}

/// Result of the spectral stage for one series.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct SpectralFit {
    /// Bin width, seconds.
    pub bin_width: f64,
    /// Data bins (before padding).
    pub bins: usize,
    /// Fisher's g: the largest periodogram ordinate's share of the total.
    pub fisher_g: f64,
    /// Its p-value against white noise (a Poisson process binned).
    pub fisher_p: f64,
    /// The ACF-verified period, seconds, if any candidate was verified.
    pub period: Option<f64>,
    /// The normalised autocorrelation at that period's lag.
    pub acf_peak: f64,
}

/// Settings the spectral stage needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpectralParams {
    pub bins_per_period: usize,
    pub bins_per_beat: usize,
    pub max_bins: usize,
}

/// Fisher's p above which the periodogram's peaks are not verified as candidate periods.
const VERIFY_BELOW_P: f64 = 0.05;

/// Smallest `2^a · 3^b ≥ n`.
pub(crate) fn fast_len(n: usize) -> usize {
    let n = n.max(2);
    let mut best = usize::MAX;
    let mut p3 = 1usize;
    while p3 < best {
        let mut v = p3;
        while v < n {
            v = v.saturating_mul(2);
        }
        best = best.min(v);
        match p3.checked_mul(3) {
            Some(x) => p3 = x,
            None => break,
        }
    }
    best
}

/// `out` = the count of each bin `0..n` less `mean`, the bins of the events given in `bins`.
/// Ascending bins (ascending beats) are counted in one pass, each value written once; the
/// signal is mostly empty bins, and zeroing it, adding the events and taking the mean off
/// were three passes over it. Bins out of order fall back to those passes; the values are
/// the same bits either way (a count is exact in `f32`; an empty bin is `0 - mean`).
fn bin_centered(out: &mut Vec<f32>, bins: impl Iterator<Item = usize> + Clone, n: usize, mean: f32) {
    out.clear();
    let empty = 0.0 - mean;
    let (mut at, mut count) = (0usize, 0.0f32);
    for j in bins.clone() {
        if j < at {
            // Out of order: the plain histogram.
            out.clear();
            out.resize(n, 0.0);
            for j in bins {
                if let Some(x) = out.get_mut(j) {
                    *x += 1.0;
                }
            }
            out.iter_mut().for_each(|x| *x -= mean);
            return;
        }
        if j > at {
            out.push(count - mean);
            out.resize(j, empty);
            (at, count) = (j, 0.0);
        }
        count += 1.0;
    }
    out.push(count - mean);
    out.resize(n, empty);
}

impl SpectralEngine {
    pub fn new() -> Self {
        SpectralEngine {
            plans: Plans::new(),
            signal: Vec::new(),
            pairs: Vec::new(),
            spectrum: Vec::new(),
            scratch: Vec::new(),
            centered: Vec::new(),
            acf: Vec::new(),
            acf_read: Vec::new(),
            acf_scale: 0.0,
            power: Vec::new(),
            fft_len: 0,
        }
    }

    /// The periodogram's ordinates of the last series: `|X_j|²` for `j = 1..N'/2`.
    fn ordinates(&self) -> &[f32] {
        let m = (self.fft_len / 2).saturating_sub(1);
        self.power.get(1..=m).unwrap_or(&[])
    }

    /// Runs the spectral stage on ascending beats, binning at `hint_period / bins_per_period`.
    pub fn analyze(&mut self, beats: &[i64], hint_period: f64, p: SpectralParams) -> SpectralFit {
        let mut out = SpectralFit {
            fisher_p: 1.0,
            ..SpectralFit::default()
        };
        let (Some(&t0), Some(&t1)) = (beats.first(), beats.last()) else {
            return out;
        };
        let span = t1.abs_diff(t0) as f64 / 1e6;
        if beats.len() < 3 || span <= 0.0 || !hint_period.is_finite() || hint_period <= 0.0 {
            return out;
        }
        let cap = p.max_bins.min(p.bins_per_beat.saturating_mul(beats.len())).max(16);
        let mut w = hint_period / p.bins_per_period as f64;
        let mut n = ((span / w).floor() as usize).saturating_add(1);
        if !(n <= cap && w > 0.0) {
            n = cap;
            w = span / (cap - 1) as f64;
        }
        let n_fast = fast_len(n);
        self.fft_len = n_fast;
        // The memo of the last series: only the lags it read are reset.
        for &k in &self.acf_read {
            if let Some(slot) = self.acf.get_mut(k) {
                *slot = f32::NAN;
            }
        }
        self.acf_read.clear();
        if self.acf.len() < n {
            self.acf.resize(n, f32::NAN);
        }
        // Bin, then remove the mean: the autocorrelation's signal; the FFT's is a padded copy.
        let w_us = w * 1e6;
        let bin = |t: i64| ((t.abs_diff(t0) as f64 / w_us) as usize).min(n - 1);
        let mean = beats.len() as f32 / n as f32;
        bin_centered(&mut self.centered, beats.iter().map(|&t| bin(t)), n, mean);
        let plan = self.plans.plan(n_fast);
        grow(&mut self.scratch, plan.scratch_len());
        let done = match &plan {
            Plan::Even(p) => {
                self.pairs.clear();
                let two = self.centered.chunks_exact(2);
                let odd_one = two.remainder().first().map(|&x| Complex::new(x, 0.0));
                self.pairs.extend(two.map(|c| Complex::new(c[0], c[1])));
                self.pairs.extend(odd_one);
                self.pairs.resize(n_fast / 2, Complex::default());
                p.power(&mut self.pairs, &mut self.spectrum, &mut self.scratch, &mut self.power)
            }
            Plan::Odd(p) => {
                self.signal.clear();
                self.signal.extend_from_slice(&self.centered);
                self.signal.resize(n_fast, 0.0);
                // The FFT overwrites its whole output and needs no zeroed scratch.
                self.spectrum.resize(n_fast / 2 + 1, Complex::default());
                let ok = p
                    .process_with_scratch(&mut self.signal, &mut self.spectrum, &mut self.scratch)
                    .is_ok();
                self.power.clear();
                self.power.extend(self.spectrum.iter().map(|c| c.norm_sqr()));
                ok
            }
        };
        if !done {
            return out;
        }
        out.bin_width = w;
        out.bins = n;

        // Periodogram at the Fourier frequencies j = 1..M of the N'-point signal: its total and
        // maximum in one pass, then the peaks.
        let m = n_fast / 2 - 1;
        let ordinates = self.ordinates();
        // Total and maximum in eight lanes (one running f64 sum would serialise on its latency).
        let (mut total, mut best) = ([0.0f64; 8], [0.0f32; 8]);
        let mut add = |c: &[f32]| {
            for ((t, b), &p) in total.iter_mut().zip(&mut best).zip(c) {
                *t += f64::from(p);
                *b = if p > *b { p } else { *b };
            }
        };
        let chunks = ordinates.chunks_exact(8);
        let rest = chunks.remainder();
        chunks.for_each(&mut add);
        add(rest);
        let total: f64 = total.iter().sum();
        let best = f64::from(best.iter().fold(0.0f32, |a, &b| if b > a { b } else { a }));
        let peaks = top_peaks(ordinates, self.power.get(m + 1).copied().unwrap_or(0.0));
        if total > 0.0 && m >= 2 {
            let g = best / total;
            out.fisher_g = g;
            // First term of Fisher's exact series: an upper bound, accurate where p is small.
            out.fisher_p = (m as f64 * (1.0 - g).max(0.0).powf(m as f64 - 1.0)).min(1.0);
        }

        // Autocorrelation: computed lag by lag when read (see the module docs).
        let r0 = self.raw_acf(0);
        if r0.is_nan() || r0 <= 0.0 {
            self.acf_scale = 0.0;
            return out;
        }
        self.acf_scale = 1.0 / r0;
        // Once the bin cap widens the bins past half the period they were chosen for, the
        // signal cannot show that period and a verified peak would be an alias of it.
        let resolvable = w <= 0.5 * hint_period;
        // A periodogram no more peaked than white noise would often make has no period to
        // offer: its peaks are noise, and verifying them would only cost time.
        if out.fisher_p > VERIFY_BELOW_P {
            return out;
        }

        // Verify candidates (strongest first) on the ACF; keep the best verified one.
        let mut peaks = peaks;
        peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut verified: Option<(f64, f64)> = None;
        for &(pw, idx) in &peaks {
            if pw <= 0.0 || !resolvable {
                continue;
            }
            let lag = n_fast as f64 / refine_peak(idx, &self.power);
            if let Some((lag, r)) = self.verify(lag)
                && verified.is_none_or(|(_, rb)| r > rb + 1e-6)
            {
                verified = Some((lag * w, r));
            }
        }
        if let Some((period, r)) = verified {
            out.period = Some(period);
            out.acf_peak = r.clamp(0.0, 1.0);
        }
        out
    }

    /// The ACF hill at `lag_bins` or a small multiple of it: a candidate from the periodogram may
    /// be a harmonic (`P/h`) of the true period, whose own lag is then a valley while `h·lag` is a
    /// hill. Returns the smallest multiple whose hill reaches three quarters of the highest, as
    /// `(refined lag of that hill, height)`.
    fn verify(&mut self, lag_bins: f64) -> Option<(f64, f64)> {
        let mut hills: [Option<(f64, f64)>; 4] = [None; 4];
        for (h, slot) in hills.iter_mut().enumerate() {
            *slot = self.hill((h + 1) as f64 * lag_bins);
        }
        let top = hills
            .iter()
            .flatten()
            .map(|&(_, r)| r)
            .fold(f64::NEG_INFINITY, f64::max);
        if top.is_nan() || top <= 0.0 {
            return None;
        }
        hills.iter().flatten().find(|&&(_, r)| r >= 0.75 * top).copied()
    }

    /// Climbs the ACF from `lag` to the nearest local maximum within ±10% (at least ±1 bin);
    /// `None` unless it is a strict hill (not the window's edge) with a positive height.
    pub fn hill(&mut self, lag: f64) -> Option<(f64, f64)> {
        let (n, scale) = (self.centered.len(), self.acf_scale);
        if lag.is_nan() || lag < 1.0 || lag >= (n as f64) * 0.75 || scale <= 0.0 {
            return None;
        }
        let reach = (lag * 0.1).max(1.0).ceil() as usize;
        let center = lag.round() as usize;
        let (lo, hi) = (
            center.saturating_sub(reach).max(1),
            (center + reach).min(n.saturating_sub(2)),
        );
        if lo > hi {
            return None; // too few lags for a hill with two neighbours
        }
        let mut i = center.clamp(lo, hi);
        let mut acf = |k: usize| self.raw_acf(k);
        let mut here = acf(i);
        loop {
            if i > lo && acf(i - 1) > here {
                i -= 1;
            } else if i < hi && acf(i + 1) > here {
                i += 1;
            } else {
                break;
            }
            here = acf(i);
        }
        let (l, c, r) = (acf(i - 1), here, acf(i + 1));
        if !(c > l && c >= r && c > 0.0) {
            return None;
        }
        // Parabolic refinement of the hill's top (the scale cancels).
        let denom = l - 2.0 * c + r;
        let delta = if denom < 0.0 {
            (0.5 * (l - r) / denom).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        Some((i as f64 + f64::from(delta), f64::from(c * scale)))
    }

    /// The unscaled linear autocorrelation of the last signal at lag `k`:
    /// `Σ_{j < n−k} x_j·x_{j+k}`, memoised (a hill climb reads each lag about three times).
    fn raw_acf(&mut self, k: usize) -> f32 {
        let n = self.centered.len();
        let (Some(slot), Some(shifted)) = (self.acf.get_mut(k).filter(|_| k < n), self.centered.get(k..)) else {
            return 0.0;
        };
        if slot.is_nan() {
            *slot = dot(&self.centered[..shifted.len()], shifted);
            self.acf_read.push(k);
        }
        *slot
    }

    /// The ACF hill nearest `period` seconds, with the bin width of the last `analyze`.
    pub fn acf_at(&mut self, period: f64, bin_width: f64) -> Option<(f64, f64)> {
        if bin_width.is_nan() || bin_width <= 0.0 {
            return None;
        }
        self.hill(period / bin_width).map(|(lag, r)| (lag * bin_width, r))
    }

    /// The last periodogram at the Fourier frequencies, as `(period_s, share of total power)`
    /// pairs, longest period first (allocates: for plots and explanations, not the hot path).
    pub fn periodogram(&self, fit: &SpectralFit) -> Vec<(f64, f64)> {
        let n_fast = self.fft_len;
        let ordinates = self.ordinates();
        let total: f64 = ordinates.iter().map(|&p| f64::from(p)).sum();
        if fit.bin_width <= 0.0 || total <= 0.0 {
            return Vec::new();
        }
        ordinates
            .iter()
            .enumerate()
            .map(|(i, &p)| (n_fast as f64 * fit.bin_width / (i + 1) as f64, f64::from(p) / total))
            .collect()
    }

    /// The last autocorrelation at every lag as `(lag_s, r)` pairs (allocates; one FFT of
    /// twice the signal's length and its inverse, for plots rather than the hot path).
    pub fn autocorrelation(&mut self, fit: &SpectralFit) -> Vec<(f64, f64)> {
        let n = self.centered.len();
        if n == 0 || self.acf_scale <= 0.0 {
            return Vec::new();
        }
        let len = 2 * fast_len(n);
        let mut signal = vec![0.0f32; len];
        signal[..n].copy_from_slice(&self.centered);
        let (fwd, inv) = self.plans.real_pair(len);
        let mut spectrum = fwd.make_output_vec();
        if fwd.process(&mut signal, &mut spectrum).is_err() {
            return Vec::new();
        }
        for c in &mut spectrum {
            *c = Complex::new(c.norm_sqr(), 0.0);
        }
        if inv.process(&mut spectrum, &mut signal).is_err() {
            return Vec::new();
        }
        // realfft's inverse is unnormalised: lag 0 is `len · r0`.
        let scale = signal.first().map_or(0.0, |&r0| if r0 > 0.0 { 1.0 / r0 } else { 0.0 });
        signal
            .iter()
            .take(n)
            .enumerate()
            .map(|(i, &r)| (i as f64 * fit.bin_width, f64::from(r * scale)))
            .collect()
    }
}

/// Dot product in sixteen independent lanes, so the compiler vectorises it (summing in one lane
/// fixes the order of the additions and forbids that) and keeps four vector additions in flight
/// (with one or two, each waits for the previous one's latency).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    let mut lanes = [0.0f32; LANES];
    for (x, y) in ca.zip(cb) {
        for ((l, &p), &q) in lanes.iter_mut().zip(x).zip(y) {
            *l += p * q;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Grows `buf` to at least `len` elements (never shrinks, never clears).
fn grow(buf: &mut Vec<Complex<f32>>, len: usize) {
    if buf.len() < len {
        buf.resize(len, Complex::default());
    }
}

/// The three highest local maxima of the periodogram's `ordinates` over `j ≥ 2` (at least two
/// cycles in the window) as `(power, j)` (ordinate `i` is frequency `j = i + 1`; `nyquist` is
/// the last one's right neighbour); `(0, 0)` where fewer.
///
/// `floor` is the smallest kept: only an ordinate above it is looked at further. Most are noise
/// below it, so a block of ordinates is ruled out at once by its maximum (one predictable
/// branch a block); the blocks that hold a larger one are scanned one by one as before, so the
/// peaks are the same.
fn top_peaks(ordinates: &[f32], nyquist: f32) -> [(f64, usize); 3] {
    const BLOCK: usize = 16;
    let mut peaks: [(f64, usize); 3] = [(0.0, 0); 3];
    let mut floor = 0.0f32;
    let look = |i: usize, pj: f32, peaks: &mut [(f64, usize); 3], floor: &mut f32| {
        if pj <= *floor || i == 0 {
            return;
        }
        let prev = ordinates[i - 1];
        let next = ordinates.get(i + 1).copied().unwrap_or(nyquist);
        if pj > prev
            && pj >= next
            && let Some(slot) = peaks.iter_mut().min_by(|a, b| a.0.total_cmp(&b.0))
        {
            *slot = (f64::from(pj), i + 1);
            *floor = peaks.iter().map(|p| p.0).min_by(f64::total_cmp).unwrap_or(0.0) as f32;
        }
    };
    let blocks = ordinates.chunks_exact(BLOCK);
    let tail = blocks.remainder();
    for (b, block) in blocks.enumerate() {
        let top = block.iter().fold(0.0f32, |a, &p| if p > a { p } else { a });
        if top <= floor {
            continue;
        }
        for (k, &pj) in block.iter().enumerate() {
            look(b * BLOCK + k, pj, &mut peaks, &mut floor);
        }
    }
    let start = ordinates.len() - tail.len();
    for (k, &pj) in tail.iter().enumerate() {
        look(start + k, pj, &mut peaks, &mut floor);
    }
    peaks
}

/// Fractional FFT index of the peak at `i` by parabolic interpolation on its neighbours' power
/// (`power[k] = |X_k|²`).
fn refine_peak(i: usize, power: &[f32]) -> f64 {
    let p = |k: usize| power.get(k).map_or(0.0, |&c| f64::from(c));
    if i == 0 {
        return 1.0;
    }
    let (l, c, r) = (p(i - 1), p(i), p(i + 1));
    let denom = l - 2.0 * c + r;
    let delta = if denom < 0.0 {
        (0.5 * (l - r) / denom).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    (i as f64 + delta).max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain histogram less the mean: what [`bin_centered`] must give, bit for bit.
    fn plain_centered(bins: &[usize], n: usize, mean: f32) -> Vec<u32> {
        let mut v = vec![0.0f32; n];
        for &j in bins {
            v[j] += 1.0;
        }
        v.iter().map(|x| (x - mean).to_bits()).collect()
    }

    #[test]
    fn no_events_leave_positive_zeros() {
        let mut out = Vec::new();
        bin_centered(&mut out, core::iter::empty(), 2, 0.0);
        assert_eq!(out.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), [0, 0]);
    }

    proptest::proptest! {
        /// One pass over ascending bins, the plain passes over any others: the same bits.
        #[test]
        fn bins_centered_as_the_plain_histogram(
            mut bins in proptest::collection::vec(0usize..64, 0..200),
            n_extra in 0usize..8,
            sorted in proptest::bool::ANY,
        ) {
            if sorted {
                bins.sort_unstable();
            }
            let n = bins.iter().max().map_or(1, |m| m + 1) + n_extra;
            let mean = bins.len() as f32 / n as f32;
            let mut out = vec![7.0; 3];
            bin_centered(&mut out, bins.iter().copied(), n, mean);
            let got: Vec<u32> = out.iter().map(|x| x.to_bits()).collect();
            proptest::prop_assert_eq!(got, plain_centered(&bins, n, mean));
        }
    }

    /// The default binning with `bins_per_period` bins to a period.
    fn params(bins_per_period: usize) -> SpectralParams {
        SpectralParams {
            bins_per_period,
            bins_per_beat: 16,
            max_bins: 1 << 16,
        }
    }

    /// Found by the analyzer fuzz target: a period hint so small that `span / w` saturates the
    /// bin count made `n + 1` overflow (to 0 bins in release builds). It is capped instead.
    #[test]
    fn a_vanishing_period_hint_caps_the_bins() {
        let mut e = SpectralEngine::new();
        let beats = [0i64, 1, i64::MAX / 2, i64::MAX];
        let fit = e.analyze(&beats, 1e-300, params(8));
        assert_eq!(fit.bins, 16 * beats.len());
        assert!((0.0..=1.0).contains(&fit.fisher_p), "{fit:?}");
    }

    #[test]
    fn fast_lengths() {
        assert_eq!(fast_len(1), 2);
        assert_eq!(fast_len(5), 6);
        assert_eq!(fast_len(100), 108);
        assert_eq!(fast_len(1025), 1152);
    }

    #[test]
    fn finds_a_strict_period_and_rejects_noise() {
        let mut e = SpectralEngine::new();
        let beats: Vec<i64> = (0..200).map(|i| i * 60_000_000).collect();
        let p = params(8);
        let fit = e.analyze(&beats, 60.0, p);
        let period = fit.period.unwrap();
        assert!((period - 60.0).abs() < 0.6, "{fit:?}");
        assert!(fit.acf_peak > 0.8 && fit.fisher_p < 1e-6, "{fit:?}");
    }

    #[test]
    fn capped_bins_report_no_aliased_period() {
        // 40 000 check-ins every 30 s: the 65 536-bin cap makes bins 18 s wide, too coarse to
        // show a 30 s period; the stage must not report an alias of it.
        let mut e = SpectralEngine::new();
        let beats: Vec<i64> = (0..40_000)
            .map(|i| i * 30_000_000 + (i * 7919 % 13) * 100_000)
            .collect();
        let p = params(4);
        let fit = e.analyze(&beats, 30.0, p);
        assert!(fit.bin_width > 15.0, "{fit:?}");
        assert_eq!(fit.period, None, "{fit:?}");
    }

    #[test]
    fn lag_by_lag_autocorrelation_matches_the_fft() {
        // The hot path reads the ACF one dot product at a time; plots take it from the FFT.
        let mut e = SpectralEngine::new();
        let beats: Vec<i64> = (0..300).map(|i| i * 45_000_000 + (i * 7919 % 17) * 1_000_000).collect();
        let p = params(4);
        let fit = e.analyze(&beats, 45.0, p);
        let full = e.autocorrelation(&fit);
        assert_eq!(full.len(), fit.bins);
        for k in [1usize, 2, 3, 4, 5, 8, 40, 200, fit.bins / 2] {
            let direct = f64::from(e.raw_acf(k) * e.acf_scale);
            assert!((direct - full[k].1).abs() < 1e-4, "lag {k}: {direct} vs {}", full[k].1);
        }
        assert!((full[0].1 - 1.0).abs() < 1e-6);
    }

    #[test]
    fn a_hill_needs_neighbours_on_both_sides() {
        // Two lags only: no hill can be climbed (and the search range must not invert).
        let mut e = SpectralEngine::new();
        e.centered = vec![1.0, -1.0];
        e.acf = vec![f32::NAN; 2];
        e.acf_scale = 0.5;
        assert_eq!(e.hill(1.2), None);
        assert_eq!(e.hill(1.0), None);
    }

    #[test]
    fn periodogram_periods_use_the_transform_length_even_when_odd() {
        // Ten check-ins a minute apart bin into 73 lags, padded to N' = 81 (odd): ordinate j is
        // the period 81·w/j, which N' inferred from the ordinate count (82) would misplace.
        let mut e = SpectralEngine::new();
        let beats: Vec<i64> = (0..10).map(|i| i * 60_000_000).collect();
        let p = params(8);
        let fit = e.analyze(&beats, 60.0, p);
        assert_eq!((fit.bins, e.fft_len), (73, 81));
        let gram = e.periodogram(&fit);
        let peak = gram
            .iter()
            .copied()
            .fold((0.0, 0.0), |a, b| if b.1 > a.1 { b } else { a });
        assert!((peak.0 - 60.75).abs() < 1e-9, "{peak:?}");
    }

    /// The periodogram (one real FFT of the padded signal) against a direct DFT, and both
    /// autocorrelations (lag by lag, and the full one from the FFT) against the `O(n²)` sum,
    /// over arbitrary beat trains and binnings.
    #[test]
    fn fast_paths_match_naive_oracles() {
        use crate::tests::{exercised::check_exercised, naive};
        use proptest::prelude::*;
        let beats = prop::collection::vec(1i64..200_000_000, 2..60).prop_map(|gaps| {
            gaps.iter()
                .scan(1_600_000_000_000_000i64, |t, g| {
                    *t += g;
                    Some(*t)
                })
                .collect::<Vec<i64>>()
        });
        let strategy = (beats, 0.5f64..500.0, 2usize..12, prop::bool::ANY);
        check_exercised("spectrum oracles", 200, 150, strategy, |(beats, hint, per, capped)| {
            let mut e = SpectralEngine::new();
            let p = SpectralParams {
                bins_per_period: per,
                bins_per_beat: 16,
                max_bins: if capped { 64 } else { 1 << 16 },
            };
            let fit = e.analyze(&beats, hint, p);
            if fit.bins < 4 || e.acf_scale <= 0.0 {
                return Ok(false);
            }
            let (x, n_fast) = (e.centered.clone(), e.fft_len);
            // Periodogram: ordinate i is frequency j = i + 1 of the N'-point transform.
            let want = naive::dft_power(&x, n_fast, 1..=e.ordinates().len());
            let top = want.iter().fold(0.0f64, |a, &b| a.max(b)).max(1e-9);
            for (i, (&got, &w)) in e.ordinates().iter().zip(&want).enumerate() {
                prop_assert!((f64::from(got) - w).abs() <= 1e-4 * top, "ordinate {i}: {got} vs {w}");
            }
            let total: f64 = want.iter().sum();
            for (i, (period, share)) in e.periodogram(&fit).into_iter().enumerate() {
                prop_assert!((period - n_fast as f64 * fit.bin_width / (i + 1) as f64).abs() < 1e-9);
                prop_assert!(
                    (share - want[i] / total).abs() < 1e-4,
                    "share {i}: {share} vs {}",
                    want[i] / total
                );
            }
            // Autocorrelation, normalised by lag 0.
            let acf = naive::autocorrelation(&x);
            let r0 = acf[0];
            let full = e.autocorrelation(&fit);
            prop_assert_eq!(full.len(), x.len());
            for (k, &(lag, r)) in full.iter().enumerate() {
                prop_assert!((lag - k as f64 * fit.bin_width).abs() < 1e-9);
                prop_assert!((r - acf[k] / r0).abs() < 1e-4, "fft lag {k}: {r} vs {}", acf[k] / r0);
            }
            for (k, &want) in acf.iter().enumerate() {
                let direct = f64::from(e.raw_acf(k) * e.acf_scale);
                prop_assert!(
                    (direct - want / r0).abs() < 1e-4,
                    "dot lag {k}: {direct} vs {}",
                    want / r0
                );
            }
            Ok(true)
        });
    }
}
