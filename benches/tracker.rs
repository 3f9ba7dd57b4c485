//! Streaming tracker throughput and memory: `BeaconTracker::push` of 1 M events over 2 000
//! (src, dst) keys in time order (events/s), the same into a tracker capped at 500 keys (the
//! eviction path), and `reports()` over 2 000 live keys with full windows. Bytes per tracked
//! key (key strings, window, table share) are printed once: `BeaconTracker::heap_bytes`
//! divided by live keys. Run: `cargo bench --bench tracker`.

use beaconstat::tracker::{BeaconTracker, TrackerConfig};
use beaconstat::{ConnEvent, Timestamp};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn events<'a>(srcs: &'a [String], dsts: &'a [String], n: usize) -> Vec<ConnEvent<'a>> {
    let mut x = 0x9E37_79B9u64;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let (s, d) = ((x % 400) as usize, ((x >> 20) % 5) as usize);
            ConnEvent::new(Timestamp::from_micros(i as i64 * 50_000), &srcs[s], &dsts[d]).with_bytes(x % 4000, 0)
        })
        .collect()
}

fn bench_tracker(c: &mut Criterion) {
    let srcs: Vec<String> = (0..400).map(|i| format!("10.0.{}.{}", i / 250, i % 250)).collect();
    let dsts: Vec<String> = (0..5).map(|i| format!("203.0.113.{i}")).collect();
    let n = 1_000_000usize;
    let evs = events(&srcs, &dsts, n);

    // Bytes per key with full default windows (512 events, timestamps and sizes).
    let mut full = BeaconTracker::new(TrackerConfig::new()).expect("valid config");
    full.extend(&evs);
    eprintln!(
        "tracker: {} keys, {} B heap, {:.0} B per tracked key (window {} events)",
        full.len(),
        full.heap_bytes(),
        full.heap_bytes() as f64 / full.len() as f64,
        full.config().window()
    );

    let mut g = c.benchmark_group("tracker");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    for (name, max_keys) in [("push", 100_000), ("push_evicting", 500)] {
        g.bench_function(BenchmarkId::new(name, "1e6 events, 2000 keys"), |b| {
            b.iter(|| {
                let mut t = BeaconTracker::new(TrackerConfig::new().with_max_keys(max_keys)).expect("valid config");
                for e in &evs {
                    t.push(black_box(e));
                }
                t.len()
            })
        });
    }
    g.throughput(Throughput::Elements(full.len() as u64));
    g.bench_function(BenchmarkId::new("reports", "2000 keys x 500 events"), |b| {
        b.iter(|| full.reports().len())
    });
    g.finish();
}

criterion_group!(benches, bench_tracker);
criterion_main!(benches);
