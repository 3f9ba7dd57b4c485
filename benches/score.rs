//! Scoring throughput: many short series (W2-like) and one long series (W3-like), with a warm
//! analyzer (plans and scratch reused) and a cold one (built per series).
//! Run: `cargo bench --bench score` (`cargo bench --bench score -- quick` for the short variant).

use beaconstat::synth::{BeaconSpec, Jitter, Rng, poisson};
use beaconstat::{Analyzer, AnalyzerConfig};
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
    let series = many_series(10_000);
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
