//! Scoring throughput: many short series (W2: 100 000 series of 50–500 events) on one core with
//! a warm analyzer (plans and scratch reused), on all cores with `score_set`, with a cold analyzer
//! (built per series), and one long series (W3: 10⁶ events).
//! Run: `cargo bench --bench score` (`cargo bench --bench score -- quick` for the short variant).

use beaconstat::synth::{BeaconSpec, Jitter, Rng, poisson};
use beaconstat::{Analyzer, AnalyzerConfig, ConnEvent, GroupBy, Grouper, Timestamp, score_set};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

/// `n` series of 50–500 events, half beacons with jitter and misses, half Poisson.
fn many_series(n: usize) -> Vec<Vec<i64>> {
    let mut rng = Rng::new(42);
    (0..n)
        .map(|i| {
            let len = 50 + rng.below(451) as usize;
            if i % 2 == 0 {
                let p = 10.0 + rng.uniform() * 3600.0;
                BeaconSpec::new(p, len)
                    .jitter(Jitter::Uniform(0.2))
                    .missed(0.1)
                    .generate(&mut rng, 0)
            } else {
                let mean = 60.0 + rng.uniform() * 600.0;
                poisson(&mut rng, len, mean, 0)
            }
        })
        .collect()
}

fn bench_score(c: &mut Criterion) {
    let series = many_series(100_000);
    let events: usize = series.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("score");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events as u64));
    g.bench_function(
        BenchmarkId::new("many_series_warm", format!("{}x50-500", series.len())),
        |b| {
            let mut a = Analyzer::default();
            b.iter(|| {
                let mut acc = 0.0;
                for s in &series {
                    acc += a.score(black_box(s), None).score;
                }
                acc
            })
        },
    );
    // The same series as one SeriesSet, scored by `score_set` over all cores.
    let names: Vec<String> = (0..series.len())
        .map(|i| format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255))
        .collect();
    let mut grouper = Grouper::new(GroupBy::Pair);
    for (name, s) in names.iter().zip(&series) {
        for &t in s {
            grouper.push(&ConnEvent::new(Timestamp(t), name, "203.0.113.1"));
        }
    }
    let set = grouper.finish();
    let cfg = AnalyzerConfig::default();
    g.bench_function(
        BenchmarkId::new("many_series_score_set_all_cores", format!("{}x50-500", set.len())),
        |b| b.iter(|| score_set(black_box(&set), &cfg, 1).len()),
    );
    let few = &series[..1000];
    let few_events: usize = few.iter().map(Vec::len).sum();
    g.throughput(Throughput::Elements(few_events as u64));
    // The same workload on a tenth of the series: a quick check while iterating.
    g.bench_function(
        BenchmarkId::new("many_series_warm_quick", format!("{}x50-500", few.len())),
        |b| {
            let mut a = Analyzer::default();
            b.iter(|| {
                let mut acc = 0.0;
                for s in few {
                    acc += a.score(black_box(s), None).score;
                }
                acc
            })
        },
    );
    g.bench_function(
        BenchmarkId::new("many_series_cold", format!("{}x50-500", few.len())),
        |b| {
            b.iter(|| {
                let mut acc = 0.0;
                for s in few {
                    acc += Analyzer::new(AnalyzerConfig::default()).score(black_box(s), None).score;
                }
                acc
            })
        },
    );
    let long = BeaconSpec::new(30.0, 1_000_000)
        .jitter(Jitter::Uniform(0.1))
        .generate(&mut Rng::new(1), 0);
    g.throughput(Throughput::Elements(long.len() as u64));
    g.bench_function(BenchmarkId::new("one_long_series", "1e6"), |b| {
        let mut a = Analyzer::default();
        b.iter(|| a.score(black_box(&long), None).score)
    });
    g.finish();
}

criterion_group!(benches, bench_score);
criterion_main!(benches);
