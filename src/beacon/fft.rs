//! The periodogram's real FFT, straight into power, with its plans cached by length.
//!
//! An even-length real signal `x` of `N` values is transformed as `realfft` does it: one complex
//! FFT of the `N/2` pairs `(x[2k], x[2k+1])` (rustfft), then the split of that half-length
//! spectrum into the real signal's. Here the split writes `|X_k|²` directly (the periodogram needs
//! only power), fused into one pass over the pairs `(k, N/2 − k)` with no complex spectrum stored
//! and no second pass to square it. Every operation of the split is `realfft`'s, in its order, so
//! the power is bit-identical to squaring `realfft`'s output (a test checks it over every
//! transform length the spectral stage uses). Odd lengths go through `realfft` itself.
//!
//! The inner FFT and the split's twiddle factors are built once per length and kept in the
//! engine's [`Plans`], so a warm engine does not allocate.

use realfft::num_complex::Complex;
use realfft::{ComplexToRealEven, RealToComplex, RealToComplexEven, RealToComplexOdd};
use rustfft::{Fft, FftPlanner};
use std::collections::HashMap;
use std::ops::{Add, Mul, Sub};
use std::sync::Arc;

/// The planner and the plans built so far.
///
/// One complex planner serves every transform, as one `realfft` planner did: rustfft builds a
/// new plan on the ones it has cached, so which plans a planner has built can change how a later
/// one factors its length (and so its rounding). Keeping every transform on one planner, built
/// in the order the series ask for them, keeps the periodograms what they were (for the same
/// reason engines do not share plans: the order one engine's series come in is the order its
/// planner sees).
pub(crate) struct Plans {
    complex: FftPlanner<f32>,
    even: HashMap<usize, Arc<EvenPlan>>,
    odd: HashMap<usize, Arc<dyn RealToComplex<f32>>>,
}

impl Plans {
    /// No plans yet.
    pub fn new() -> Self {
        Plans {
            complex: FftPlanner::new(),
            even: HashMap::new(),
            odd: HashMap::new(),
        }
    }

    /// A forward and an inverse real FFT of even length `len` (for plots: not cached here, but
    /// built on the one planner, whose own cache makes a second build cheap).
    pub fn real_pair(&mut self, len: usize) -> (RealToComplexEven<f32>, ComplexToRealEven<f32>) {
        (
            RealToComplexEven::new(len, &mut self.complex),
            ComplexToRealEven::new(len, &mut self.complex),
        )
    }

    /// The plan for `len`, built on first use.
    pub fn plan(&mut self, len: usize) -> Plan {
        if len % 2 == 1 {
            if let Some(p) = self.odd.get(&len) {
                return Plan::Odd(Arc::clone(p));
            }
            let p: Arc<dyn RealToComplex<f32>> = Arc::new(RealToComplexOdd::new(len, &mut self.complex));
            self.odd.insert(len, Arc::clone(&p));
            return Plan::Odd(p);
        }
        if let Some(p) = self.even.get(&len) {
            return Plan::Even(Arc::clone(p));
        }
        let p = Arc::new(EvenPlan::new(len, &mut self.complex));
        self.even.insert(len, Arc::clone(&p));
        Plan::Even(p)
    }
}

/// A real forward FFT of one length.
#[derive(Clone)]
pub(crate) enum Plan {
    Even(Arc<EvenPlan>),
    Odd(Arc<dyn RealToComplex<f32>>),
}

impl Plan {
    /// Scratch (complex values) the transform needs.
    pub fn scratch_len(&self) -> usize {
        match self {
            Plan::Even(p) => p.scratch_len,
            Plan::Odd(p) => p.get_scratch_len(),
        }
    }
}

/// An even-length real FFT: the half-length complex FFT and the split's twiddle factors.
pub(crate) struct EvenPlan {
    len: usize,
    fft: Arc<dyn Fft<f32>>,
    /// `realfft`'s twiddles `e^{−2πik/N} / 2` for `k = 1..`, rounded to `f32` as it rounds
    /// them: real and imaginary parts apart, so the split reads them as vectors.
    twiddles_re: Vec<f32>,
    twiddles_im: Vec<f32>,
    scratch_len: usize,
}

impl EvenPlan {
    fn new(len: usize, planner: &mut FftPlanner<f32>) -> Self {
        // As `realfft::RealToComplexEven::new` builds them.
        let count = if len.is_multiple_of(4) { len / 4 } else { len / 4 + 1 };
        let (twiddles_re, twiddles_im) = (1..count)
            .map(|i| {
                let angle = -2f64 * std::f64::consts::PI / len as f64 * i as f64;
                let t = Complex::new(angle.cos() as f32, angle.sin() as f32) * 0.5f32;
                (t.re, t.im)
            })
            .unzip();
        let fft = planner.plan_fft_forward(len / 2);
        let scratch_len = fft.get_outofplace_scratch_len();
        EvenPlan {
            len,
            fft,
            twiddles_re,
            twiddles_im,
            scratch_len,
        }
    }

    /// `power[k] = |X_k|²` for `k = 0..=N/2` of the real signal whose pairs `(x[2k], x[2k+1])`
    /// are `pairs` (`N/2` of them; used as scratch). `half` receives the half-length spectrum in
    /// its first `N/2` values. Both are grown, never shrunk: values past those written are left
    /// from earlier, longer transforms. `false` when a buffer has the wrong length.
    pub fn power(
        &self,
        pairs: &mut [Complex<f32>],
        half: &mut Vec<Complex<f32>>,
        scratch: &mut [Complex<f32>],
        power: &mut Vec<f32>,
    ) -> bool {
        let h = self.len / 2;
        // Both outputs only grow (the FFT and the split write every value they hand on): zeroing
        // them afresh whenever a longer series follows a shorter one is not needed.
        if half.len() < h {
            half.resize(h, Complex::default());
        }
        let half = half.get_mut(..h).unwrap_or_default();
        if h == 0
            || pairs.len() != h
            || scratch.len() < self.scratch_len
            || self.fft.len() != h
            || self.twiddles_re.len() < (h - 1) / 2
            || self.twiddles_im.len() < (h - 1) / 2
        {
            return false;
        }
        self.fft.process_outofplace_with_scratch(pairs, half, scratch);
        // Every value up to `h` is written below; the ones past it (from a longer series) are
        // never read (the readers stop at `h`, the last series' Nyquist ordinate).
        if power.len() < h + 1 {
            power.resize(h + 1, 0.0);
        }
        let power = power.get_mut(..=h).unwrap_or_default();
        // The first and last: the sum and difference of the first value's parts (imaginary 0).
        let z0 = half[0];
        power[0] = norm(z0.re + z0.im, 0.0);
        power[h] = norm(z0.re - z0.im, 0.0);
        // Pairs (k, h − k), k = 1..=(h − 1)/2, with twiddle k; for even h the centre is left,
        // its imaginary part negated (which its power does not see).
        let n_pairs = (h - 1) / 2;
        if h.is_multiple_of(2) {
            let c = half[h / 2];
            power[h / 2] = norm(c.re, -c.im);
        }
        let (lo, hi) = power.split_at_mut(h - n_pairs);
        let (front, back) = (&half[1..=n_pairs], &half[h - n_pairs..h]);
        let (front_out, back_out) = (&mut lo[1..=n_pairs], &mut hi[..n_pairs]);
        let (tw_re, tw_im) = (&self.twiddles_re[..n_pairs], &self.twiddles_im[..n_pairs]);
        // Blocks of four pairs in SSE registers (x86-64's baseline): the parts deinterleaved by
        // shuffles, the back ones reversed the same way. (Gathering them into arrays first cost
        // a stalled vector load per array, the scalar stores not forwarding to it.) The rest,
        // and other targets, one pair at a time; the same operations either way.
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        let done = split_blocks(front, back, tw_re, tw_im, front_out, back_out);
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        let done = 0;
        for k in done..n_pairs {
            let (x, y) = (front[k], back[n_pairs - 1 - k]);
            (front_out[k], back_out[n_pairs - 1 - k]) = split(x.re, x.im, y.re, y.im, tw_re[k], tw_im[k], 0.5);
        }
        true
    }
}

/// `realfft`'s split of the pair `(a, b) = (Z_k, Z_{h−k})` of the half-length spectrum with
/// twiddle `t`, returning the powers of `X_k` and `X_{h−k}` (its operations, in its order; `half`
/// is `0.5`). Generic so that one lane (`f32`) and four (`m128`) run the very same operations.
#[inline(always)]
fn split<T>(a_re: T, a_im: T, b_re: T, b_im: T, t_re: T, t_im: T, half: T) -> (T, T)
where
    T: Copy + Add<Output = T> + Sub<Output = T> + Mul<Output = T>,
{
    let (sum_re, sum_im) = (a_re + b_re, a_im + b_im);
    let (diff_re, diff_im) = (a_re - b_re, a_im - b_im);
    let out_re = sum_im * t_re + diff_re * t_im;
    let out_im = sum_im * t_im - diff_re * t_re;
    let (half_sum_re, half_diff_im) = (half * sum_re, half * diff_im);
    (
        norm(half_sum_re + out_re, half_diff_im + out_im),
        norm(half_sum_re - out_re, out_im - half_diff_im),
    )
}

/// The split of the first `4·⌊n/4⌋` pairs, four at a time (`n` = `front.len()`); returns how
/// many it did. `back` holds the partners in reverse: pair `k` is `(front[k], back[n − 1 − k])`,
/// and its powers go to `front_out[k]` and `back_out[n − 1 − k]`; so the front is read in
/// blocks from its start and the back in blocks from its end, each back block reversed.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
fn split_blocks(
    front: &[Complex<f32>],
    back: &[Complex<f32>],
    tw_re: &[f32],
    tw_im: &[f32],
    front_out: &mut [f32],
    back_out: &mut [f32],
) -> usize {
    use safe_arch::{m128, set_splat_m128, shuffle_abi_f32_all_m128 as shuffle};
    let half = set_splat_m128(0.5);
    // Two complex values as `[re, im, re, im]`.
    let two = |x: &Complex<f32>, y: &Complex<f32>| m128::from_array([x.re, x.im, y.re, y.im]);
    let mut done = 0;
    let fronts = front
        .as_chunks::<4>()
        .0
        .iter()
        .zip(back.as_rchunks::<4>().1.iter().rev());
    let twiddles = tw_re.as_chunks::<4>().0.iter().zip(tw_im.as_chunks::<4>().0);
    let outs = front_out
        .as_chunks_mut::<4>()
        .0
        .iter_mut()
        .zip(back_out.as_rchunks_mut::<4>().1.iter_mut().rev());
    for (((f, b), (&t_re, &t_im)), (fo, bo)) in fronts.zip(twiddles).zip(outs) {
        // Lane `l` pairs `f[l]` with `b[3 − l]`.
        let (f0, f1, g0, g1) = (
            two(&f[0], &f[1]),
            two(&f[2], &f[3]),
            two(&b[0], &b[1]),
            two(&b[2], &b[3]),
        );
        let (a_re, a_im) = (shuffle::<0b10_00_10_00>(f0, f1), shuffle::<0b11_01_11_01>(f0, f1));
        let (b_re, b_im) = (shuffle::<0b00_10_00_10>(g1, g0), shuffle::<0b01_11_01_11>(g1, g0));
        let (t_re, t_im) = (m128::from_array(t_re), m128::from_array(t_im));
        let (pa, pb) = split(a_re, a_im, b_re, b_im, t_re, t_im, half);
        *fo = pa.to_array();
        *bo = shuffle::<0b00_01_10_11>(pb, pb).to_array();
        done += 4;
    }
    done
}

/// `|re + i·im|²`, as `Complex::norm_sqr` computes it.
#[inline(always)]
fn norm<T: Copy + Add<Output = T> + Mul<Output = T>>(re: T, im: T) -> T {
    re * re + im * im
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::beacon::spectrum::fast_len;

    /// The fused split against `realfft`'s output squared, bit for bit, at every even fast length
    /// the spectral stage can use (up to the default 65 536-bin cap) and some others.
    #[test]
    fn power_is_realfft_squared_bit_for_bit() {
        let mut plans = Plans::new();
        let mut real = realfft::RealFftPlanner::<f32>::new();
        let mut lens: Vec<usize> = (2..=65_536).map(fast_len).filter(|n| n % 2 == 0).collect();
        lens.dedup();
        lens.extend([2, 4, 6, 10, 14, 22, 30, 98, 1000, 4002]);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let (mut half, mut power) = (Vec::new(), Vec::new());
        for &len in &lens {
            let x: Vec<f32> = (0..len)
                .map(|i| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Counts minus a mean, zero-padded at the end, as the stage bins them.
                    if i < len * 7 / 8 { (seed % 4) as f32 - 0.37 } else { 0.0 }
                })
                .collect();
            let fwd = real.plan_fft_forward(len);
            let mut input = x.clone();
            let mut spectrum = fwd.make_output_vec();
            fwd.process(&mut input, &mut spectrum).unwrap();
            let want: Vec<u32> = spectrum.iter().map(|c| c.norm_sqr().to_bits()).collect();
            let Plan::Even(plan) = plans.plan(len) else {
                panic!("{len} is even");
            };
            let mut pairs: Vec<Complex<f32>> = x.chunks_exact(2).map(|c| Complex::new(c[0], c[1])).collect();
            let mut scratch = vec![Complex::default(); plan.scratch_len];
            assert!(plan.power(&mut pairs, &mut half, &mut scratch, &mut power));
            let got: Vec<u32> = power[..=len / 2].iter().map(|p| p.to_bits()).collect();
            assert_eq!(got, want, "length {len}");
        }
    }

    #[test]
    fn wrong_buffers_are_refused() {
        let Plan::Even(plan) = Plans::new().plan(64) else {
            panic!("64 is even");
        };
        let (mut half, mut power) = (Vec::new(), Vec::new());
        let mut scratch = vec![Complex::default(); plan.scratch_len];
        assert!(!plan.power(&mut [Complex::default(); 31], &mut half, &mut scratch, &mut power));
        assert!(plan.power(&mut [Complex::default(); 32], &mut half, &mut scratch, &mut power));
        assert_eq!(power, vec![0.0; 33]);
    }
}
