//! After warm-up, scoring a series allocates nothing: checked with a counting global allocator.
//! (This test binary has its own allocator; the library itself stays `forbid(unsafe_code)`.)

use beaconstat::Analyzer;
use beaconstat::synth::{BeaconSpec, Jitter, Rng, poisson};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
