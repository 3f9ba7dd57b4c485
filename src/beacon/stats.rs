//! Small numeric helpers: quantiles, robust dispersion, the binomial tail.

/// Linear-interpolated quantile of an ascending slice (`q` in `[0, 1]`); `0.0` when empty.
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            let frac = pos - lo as f64;
            sorted[lo] + (sorted[hi] - sorted[lo]) * frac
        }
    }
}

/// Median absolute deviation of an ascending slice around `center`: the deviations below and
/// above `center` are two ascending runs, so the two order statistics the median interpolates
/// between are found by binary search over how many come from each run (`O(log n)`, no scratch,
/// the same value as sorting every `|v − center|`).
pub(crate) fn mad_sorted(sorted: &[f64], center: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    let pos = 0.5 * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let frac = pos - lo as f64;
    let split = sorted.partition_point(|&v| v < center);
    // Run `below`: deviations of sorted[split-1], sorted[split-2], …; run `above`: of
    // sorted[split], sorted[split+1], …; both ascending.
    let below = |t: usize| {
        split
            .checked_sub(t + 1)
            .and_then(|i| sorted.get(i))
            .map_or(f64::INFINITY, |&v| (v - center).abs())
    };
    let above = |t: usize| sorted.get(split + t).map_or(f64::INFINITY, |&v| (v - center).abs());
    let (nb, na) = (split, n - split);
    // Take `i` from `below` and `lo + 1 − i` from `above`: the smallest `lo + 1` deviations
    // when below(i−1) ≤ above(lo+1−i) and above(lo−i) ≤ below(i).
    let k = lo + 1;
    let (mut l, mut h) = (k.saturating_sub(na), k.min(nb));
    while l < h {
        let i = l + (h - l) / 2;
        // Too few from `below` if its next one is smaller than the last one taken from `above`.
        if below(i) < above(k - i - 1) {
            l = i + 1;
        } else {
            h = i;
        }
    }
    let i = l;
    let last = |t: usize, run: &dyn Fn(usize) -> f64| t.checked_sub(1).map_or(f64::NEG_INFINITY, run);
    let x_lo = last(i, &below).max(last(k - i, &above));
    let x_hi = if lo + 1 < n { below(i).min(above(k - i)) } else { x_lo };
    x_lo + (x_hi - x_lo) * frac
}

/// Bowley (quartile) skewness of an ascending slice, in `[-1, 1]`; `0.0` when the quartiles tie.
pub(crate) fn bowley(sorted: &[f64]) -> f64 {
    let (q1, q2, q3) = (
        quantile_sorted(sorted, 0.25),
        quantile_sorted(sorted, 0.5),
        quantile_sorted(sorted, 0.75),
    );
    let iqr = q3 - q1;
    if iqr > 0.0 {
        ((q3 + q1 - 2.0 * q2) / iqr).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// `P(X ≥ x)` for `X ~ Binomial(n, p)`, through the regularised incomplete beta function.
/// Exact to floating-point accuracy; returns values in `[0, 1]`.
pub(crate) fn binomial_sf(x: u64, n: u64, p: f64) -> f64 {
    if x == 0 {
        return 1.0;
    }
    if x > n {
        return 0.0;
    }
    let p = p.clamp(0.0, 1.0);
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    // P(X >= x) = I_p(x, n - x + 1)
    match statrs::function::beta::checked_beta_reg(x as f64, (n - x + 1) as f64, p) {
        Ok(v) if v.is_finite() => v.clamp(0.0, 1.0),
        _ => 1.0,
    }
}

/// `(P(X ≥ x), −log10 P(X ≥ x))` for `X ~ Binomial(n, p)`, from one evaluation of the incomplete
/// beta function (the costly part of a comb fit's evaluation). The decades are exact where the
/// tail is representable, and the Chernoff–Hoeffding bound `n · KL(x/n ‖ p) / ln 10` where it
/// underflows (beyond 290 decades), so that fits too significant for an `f64` can still be ranked.
pub(crate) fn binomial_sf_with_decades(x: u64, n: u64, p: f64) -> (f64, f64) {
    let tail = binomial_sf(x, n, p);
    (tail, tail_decades(tail, x, n, p))
}

/// The decades of a tail already computed by [`binomial_sf`].
fn tail_decades(tail: f64, x: u64, n: u64, p: f64) -> f64 {
    if tail > 1e-290 || n == 0 {
        return decades(tail);
    }
    let e = (x as f64 / n as f64).clamp(0.0, 1.0);
    let kl = bernoulli_kl(e, p.clamp(1e-300, 1.0 - 1e-16));
    (n as f64 * kl / core::f64::consts::LN_10).max(decades(tail))
}

/// `KL(e ‖ p)` between Bernoulli distributions, in nats (`0 · ln 0` taken as 0): the exponent
/// of both the Chernoff bound and the method-of-types bound on a binomial tail.
fn bernoulli_kl(e: f64, p: f64) -> f64 {
    let term = |a: f64, b: f64| if a > 0.0 { a * (a / b).ln() } else { 0.0 };
    term(e, p) + term(1.0 - e, 1.0 - p)
}

/// An upper bound on the decades [`binomial_sf_with_decades`] returns for `(x, n, p)`, from two
/// logarithms instead of an incomplete beta: the tail is at least the probability of `x` itself,
/// and by the method of types that is at least `exp(−n · KL(x/n ‖ p)) / (n + 1)`; at or below
/// `⌊n·p⌋` (a median of the binomial) the tail is at least ½. A fit whose bound cannot beat the
/// best fit so far needs no exact tail. Infinite (no bound offered) near underflow, where the
/// decades come from another formula.
pub(crate) fn tail_decades_upper_bound(x: u64, n: u64, p: f64) -> f64 {
    if x == 0 || p >= 1.0 {
        return 0.0;
    }
    if x > n || p.is_nan() || p <= 0.0 {
        return f64::INFINITY;
    }
    let nf = n as f64;
    if x as f64 <= (nf * p).floor() {
        return core::f64::consts::LOG10_2;
    }
    let kl = bernoulli_kl(x as f64 / nf, p);
    let bound = nf * kl / core::f64::consts::LN_10 + (nf + 1.0).log10();
    // Rounding in the bound and in the exact tail: a margin far above both. Past 250 decades
    // the tail may underflow and be ranked by the Chernoff bound instead.
    if bound.is_finite() && bound < 250.0 {
        bound + 1e-6
    } else {
        f64::INFINITY
    }
}

/// `-log10(p)`, finite: p is floored at the smallest normal `f64`.
pub(crate) fn decades(p: f64) -> f64 {
    -(p.max(f64::MIN_POSITIVE)).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_skew() {
        let v = [1.0, 2.0, 3.0, 4.0, 100.0];
        assert_eq!(quantile_sorted(&v, 0.5), 3.0);
        assert_eq!(quantile_sorted(&v, 0.25), 2.0);
        assert_eq!(quantile_sorted(&[], 0.5), 0.0);
        assert!(bowley(&v).abs() < 1e-12);
        assert!(bowley(&[1.0, 1.1, 1.2, 5.0, 9.0]) > 0.5);
        assert_eq!(mad_sorted(&v, 3.0), 1.0);
        // Merging the deviation runs gives exactly what sorting the deviations gives.
        let w = [5.0, -1.0, 3.5, 2.0, 9.0, 0.5, 3.5, 7.25, -4.0, 6.0, 1.0];
        let mut sorted = w.to_vec();
        sorted.sort_by(f64::total_cmp);
        for c in [-5.0, -4.0, 0.0, 0.75, 2.0, 3.5, 4.0, 9.0, 10.0] {
            let mut dev: Vec<f64> = sorted.iter().map(|v| (v - c).abs()).collect();
            dev.sort_by(f64::total_cmp);
            assert_eq!(mad_sorted(&sorted, c), quantile_sorted(&dev, 0.5), "center {c}");
            for len in 1..=sorted.len() {
                assert_eq!(mad_sorted(&sorted[..len], c), {
                    let mut d: Vec<f64> = sorted[..len].iter().map(|v| (v - c).abs()).collect();
                    d.sort_by(f64::total_cmp);
                    quantile_sorted(&d, 0.5)
                });
            }
        }
    }

    #[test]
    fn tail_decades_keep_ranking_past_underflow() {
        // Exact where representable.
        assert!((binomial_sf_with_decades(7, 7, 0.5).1 - 7.0 * 2f64.log10()).abs() < 1e-9);
        // Past f64: more explained intervals at the same chance are more significant.
        let a = binomial_sf_with_decades(2300, 2367, 1.0 / 3.0).1;
        let b = binomial_sf_with_decades(1700, 2367, 1.0 / 3.0).1;
        assert!(a > b && b > 300.0, "{a} {b}");
    }

    #[test]
    fn decades_bound_is_an_upper_bound() {
        for n in [1u64, 2, 5, 20, 49, 275, 499, 3000] {
            for p in [1e-9, 1e-4, 0.01, 0.07, 0.2, 1.0 / 3.0, 0.5, 0.9, 0.999] {
                for x in (0..=n).step_by((n as usize / 40).max(1)).chain([n]) {
                    let exact = binomial_sf_with_decades(x, n, p).1;
                    let bound = tail_decades_upper_bound(x, n, p);
                    assert!(exact <= bound, "x {x} n {n} p {p}: {exact} > {bound}");
                }
            }
        }
        // Tight enough to be useful: within log10(n + 1) + a little of the exact decades.
        let (exact, bound) = (
            binomial_sf_with_decades(200, 275, 0.2).1,
            tail_decades_upper_bound(200, 275, 0.2),
        );
        assert!(bound - exact < 3.0, "{exact} {bound}");
        assert_eq!(tail_decades_upper_bound(0, 10, 0.5), 0.0);
        assert_eq!(tail_decades_upper_bound(3, 10, 0.5), core::f64::consts::LOG10_2);
    }

    #[test]
    fn binomial_tail_matches_direct_sum() {
        // P(X >= 3), n = 5, p = 0.3: sum of C(5,k) .3^k .7^(5-k), k = 3..5
        let direct = 10.0 * 0.027 * 0.49 + 5.0 * 0.0081 * 0.7 + 0.00243;
        assert!((binomial_sf(3, 5, 0.3) - direct).abs() < 1e-12);
        assert_eq!(binomial_sf(0, 5, 0.3), 1.0);
        assert_eq!(binomial_sf(6, 5, 0.3), 0.0);
        assert!((binomial_sf(7, 7, 0.5) - 0.5f64.powi(7)).abs() < 1e-15);
    }
}
