//! End to end: a Zeek conn.log → ranked beacon reports, the library path of `hunt --json`
//! without the printing: read (format detected) → group by (src, dst, port) → `score_set` on all
//! cores → the library's `Ranker` (persistence, the default allowlist, sort) → top 15.
//!
//! - `conn_log_to_ranked/bytes`, `conn_log_to_ranked/events`: one run, two throughput units
//!   (MB/s of Zeek TSV, events/s). The log is W1-like (the generator's beacons, automation and
//!   browsing; 100 hosts over 7 days, about 1/5 of W1), generated once with a fixed seed and
//!   read from memory (the reader takes any `io::Read`; from a file in the page cache the cost
//!   is the same plus one copy).
//! - `hostile_w4/group_score`: W4 (see `tests/common/hostile.rs`: 1 M single-event keys with
//!   timestamps over `0..=i64::MAX`, runs of identical timestamps, one series of 100 000 events
//!   over the whole `i64` range), grouped, every series scored (`min_events` 1), top 15 by
//!   score, in events/s; `hostile_w4/group_score_rank`: the same ranked as above.
//!
//! - `hunt_shape/threads_N`: `hunt --json`'s library path on a generated conn.log of the shape
//!   of the performance issue (120 hosts over 7 days, about 1 450 connections per host and day
//!   to six web servers plus the generator's beacons and automation: 1.36 M connections over
//!   about 1 600 (src, dst, port) series, 176 MB of Zeek TSV), written once to a temporary file
//!   and read from it (the page cache, after the first run) as `hunt` reads it: the file cut
//!   into one part per thread at line boundaries (`ReadOptions::open_parallel`), one grouper
//!   per thread, finished together (`Grouper::finish_parts`), `score_set` on every core, ranked
//!   and cut to the top 15. In MB/s of input and events/s, reading on 1 thread and on 2
//!   (`score_set` uses every core in both).
//!   Generate the same file for `hunt` itself with
//!   `cargo run --release --example generate -- --hosts 120 --days 7 --browsing 1450 --servers 6 --seed 2024 > conn.log`.
//!
//! Run: `cargo bench --bench end_to_end` (`-- hunt_shape` for the last group only).

#[path = "../tests/common/hostile.rs"]
mod hostile;

use beaconstat::synth::Scenario;
use beaconstat::{AnalyzerConfig, GroupBy, Grouper, Ranker, ReadOptions, SeriesSet, score_set};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

/// `hunt`'s defaults.
const MIN_EVENTS: usize = 6;
const TOP: usize = 15;

/// Scores `set` and ranks it as `hunt` does (the library's [`Ranker`]: beacon score ×
/// persistence within the time its source was observed × any allowlist downrank, highest
/// first, ties by events). Returns the top `TOP` not suppressed as (series index, rank score).
fn rank(set: &SeriesSet, cfg: &AnalyzerConfig, ranker: &Ranker) -> Vec<(usize, f64)> {
    let ranked = ranker.score_and_rank(set, cfg);
    ranked.top().map(|r| (r.series.index(), r.rank_score)).collect()
}

fn conn_log_to_ranked(data: &Arc<[u8]>, cfg: &AnalyzerConfig, ranker: &Ranker) -> (u64, Vec<(usize, f64)>) {
    // The reader hunt uses (format detection included); the bytes are shared, not copied.
    let mut reader = ReadOptions::new()
        .from_reader(std::io::Cursor::new(Arc::clone(data)))
        .unwrap();
    let mut grouper = Grouper::new(GroupBy::PairPort);
    reader.for_each(|ev| grouper.push(&ev)).unwrap();
    let events = reader.stats().events;
    let set = grouper.finish();
    (events, rank(&set, cfg, ranker))
}

/// `hunt`'s read path over a file on `threads` threads: one grouper per thread, finished together
/// (`Grouper::finish_parts`), then scored and ranked. Returns the events read and the top series.
fn hunt_file(path: &Path, threads: usize, cfg: &AnalyzerConfig, ranker: &Ranker) -> (u64, Vec<(usize, f64)>) {
    let read = ReadOptions::new()
        .open_parallel([path], threads)
        .for_each(|| Grouper::new(GroupBy::SrcNameOrPairPort), |g, ev| g.push(&ev))
        .unwrap();
    let events = read.stats().events;
    let set = Grouper::finish_parts(read.states);
    (events, rank(&set, cfg, ranker))
}

/// The performance issue's workload: `hunt` on a 176 MB conn.log, 1 and 2 threads.
fn bench_hunt_shape(c: &mut Criterion) {
    let cfg = AnalyzerConfig::default();
    let ranker = Ranker::builder().min_events(MIN_EVENTS).top(TOP).build().unwrap();
    let scenario = Scenario::builder()
        .hosts(120)
        .days(7.0)
        .browsing_per_host_day(1450)
        .web_servers(6)
        .seed(2024)
        .build();
    let path = std::env::temp_dir().join(format!("beaconstat-bench-{}.conn.log", std::process::id()));
    std::fs::write(&path, scenario.to_zeek_tsv()).unwrap();
    drop(scenario);
    let bytes = std::fs::metadata(&path).unwrap().len();
    let (events, top) = hunt_file(&path, 1, &cfg, &ranker);
    assert!(top.len() == TOP && top[0].1 > 0.5, "{top:?}");
    assert_eq!(hunt_file(&path, 2, &cfg, &ranker), (events, top));
    eprintln!(
        "end_to_end/hunt_shape: {events} events, {:.1} MB of Zeek TSV",
        bytes as f64 / 1e6
    );
    let mut g = c.benchmark_group("end_to_end/hunt_shape");
    g.sample_size(10);
    let id = format!("{events} events, {:.0} MB TSV", bytes as f64 / 1e6);
    for threads in [1, 2] {
        g.throughput(Throughput::Bytes(bytes));
        g.bench_function(BenchmarkId::new(format!("threads_{threads}/bytes"), &id), |b| {
            b.iter(|| hunt_file(black_box(&path), threads, &cfg, &ranker))
        });
        g.throughput(Throughput::Elements(events));
        g.bench_function(BenchmarkId::new(format!("threads_{threads}/events"), &id), |b| {
            b.iter(|| hunt_file(black_box(&path), threads, &cfg, &ranker))
        });
    }
    g.finish();
    let _ = std::fs::remove_file(&path);
}

fn bench_end_to_end(c: &mut Criterion) {
    let cfg = AnalyzerConfig::default();
    let ranker = Ranker::builder().min_events(MIN_EVENTS).top(TOP).build().unwrap();
    // W4 ranks every series (`min_events` 1).
    let ranker_all = Ranker::builder().min_events(1).top(TOP).build().unwrap();
    let mut g = c.benchmark_group("end_to_end");
    g.sample_size(10);

    let scenario = Scenario::builder()
        .hosts(100)
        .days(7.0)
        .browsing_per_host_day(240)
        .web_servers(5)
        .seed(2024)
        .build();
    let data: Arc<[u8]> = scenario.to_zeek_tsv().into_bytes().into();
    let (events, top) = conn_log_to_ranked(&data, &cfg, &ranker);
    assert!(top.len() == TOP && top[0].1 > 0.5, "{top:?}");
    eprintln!(
        "end_to_end/conn_log_to_ranked: {events} events, {:.1} MB of Zeek TSV",
        data.len() as f64 / 1e6
    );
    let id = format!("{events} events, {:.0} MB TSV", data.len() as f64 / 1e6);
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function(BenchmarkId::new("conn_log_to_ranked/bytes", &id), |b| {
        b.iter(|| conn_log_to_ranked(black_box(&data), &cfg, &ranker))
    });
    g.throughput(Throughput::Elements(events));
    g.bench_function(BenchmarkId::new("conn_log_to_ranked/events", &id), |b| {
        b.iter(|| conn_log_to_ranked(black_box(&data), &cfg, &ranker))
    });
    drop(data);

    // W4: the events are built once (no reading: the keys would not survive a Zeek log's
    // address fields). Per iteration: group and score every series (`min_events` 1), keep the
    // top by beacon score; then the same with `hunt`'s ranking (persistence window per source,
    // allowlist), which on 1 M sources is a cost of its own.
    let sources = hostile::sources();
    let events = hostile::events(&sources);
    let id = format!("{} events, {} keys", events.len(), hostile::KEYS);
    g.throughput(Throughput::Elements(events.len() as u64));
    let group = |events: &[beaconstat::ConnEvent<'_>]| {
        let mut grouper = Grouper::new(GroupBy::Pair);
        for e in events {
            grouper.push(e);
        }
        grouper.finish()
    };
    g.bench_function(BenchmarkId::new("hostile_w4/group_score", &id), |b| {
        b.iter(|| {
            let set = group(black_box(&events));
            let mut reports = score_set(&set, &cfg, 1);
            reports.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
            reports.truncate(TOP);
            reports
        })
    });
    g.bench_function(BenchmarkId::new("hostile_w4/group_score_rank", &id), |b| {
        b.iter(|| rank(&group(black_box(&events)), &cfg, &ranker_all))
    });
    g.finish();
}

criterion_group!(benches, bench_end_to_end, bench_hunt_shape);
criterion_main!(benches);
