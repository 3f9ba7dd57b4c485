//! After warm-up, scoring a series allocates nothing: checked with a counting global allocator.
//! (This test binary has its own allocator; the library itself stays `forbid(unsafe_code)`.)
mod common;

use beaconstat::Analyzer;
use beaconstat::synth::{BeaconSpec, Jitter, Rng, poisson};
use common::counting::{ALLOCS, COUNTING};
use std::sync::atomic::Ordering;

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

#[test]
fn scoring_allocates_nothing_after_warm_up() {
    let mut rng = Rng::new(3);
    let mut series: Vec<(Vec<i64>, Vec<u64>)> = Vec::new();
    for i in 0..200 {
        let n = 50 + (i * 7) % 450;
        let ts = if i % 2 == 0 {
            BeaconSpec::new(30.0 + i as f64, n)
                .jitter(Jitter::Uniform(0.3))
                .missed(0.1)
                .generate(&mut rng, 0)
        } else {
            poisson(&mut rng, n, 120.0, 0)
        };
        let sizes = ts.iter().map(|t| t.unsigned_abs() % 700).collect();
        series.push((ts, sizes));
    }
    let mut analyzer = Analyzer::default();
    // Warm-up: every FFT length and buffer size these series need.
    for (ts, sizes) in &series {
        analyzer.score(ts, Some(sizes));
    }
    ALLOCS.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let mut total = 0.0;
    for (ts, sizes) in &series {
        total += analyzer.score(ts, Some(sizes)).score;
        total += analyzer.score(ts, None).score;
    }
    COUNTING.store(false, Ordering::SeqCst);
    let allocs = ALLOCS.load(Ordering::SeqCst);
    assert!(total > 0.0);
    assert_eq!(
        allocs, 0,
        "{allocs} allocations while scoring 400 series with a warm analyzer"
    );
}
