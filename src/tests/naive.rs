//! One-line (or nearly) oracles for the engine's fast paths, in `f64` and the textbook order:
//! slow, obviously right, and independent of the code they check.

use core::f64::consts::TAU;

/// The power `|X_j|²` of the `n`-point DFT of `x` (zero-padded to `n`) at each `j` of `js`:
/// `X_j = Σ_t x_t · e^(−2πi·j·t/n)`, summed directly (`O(len · |js|)`).
pub(crate) fn dft_power(x: &[f32], n: usize, js: impl Iterator<Item = usize>) -> Vec<f64> {
    js.map(|j| {
        let (re, im) = x.iter().enumerate().fold((0.0, 0.0), |(re, im), (t, &v)| {
            let a = TAU * ((j * t) % n) as f64 / n as f64;
            (re + f64::from(v) * a.cos(), im - f64::from(v) * a.sin())
        });
        re * re + im * im
    })
    .collect()
}

/// The linear autocorrelation `Σ_{t < len−k} x_t · x_{t+k}` at every lag `k < len` (`O(len²)`).
pub(crate) fn autocorrelation(x: &[f32]) -> Vec<f64> {
    (0..x.len())
        .map(|k| x.iter().zip(&x[k..]).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum())
        .collect()
}
