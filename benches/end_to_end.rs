//! End to end: a Zeek conn.log → ranked beacon reports, the library path of `hunt --json`
//! without the printing: read (format detected) → group by (src, dst, port) → `score_set` on all
//! cores → persistence and the default allowlist → sort by score → top 15.
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
//! Run: `cargo bench --bench end_to_end`.

#[path = "../tests/common/hostile.rs"]
mod hostile;

use beaconstat::synth::Scenario;
use beaconstat::{
    Action, Allowlist, AnalyzerConfig, AnyReader, GroupBy, Grouper, SeriesSet, persistence_over, score_set,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

/// `hunt`'s defaults.
const MIN_EVENTS: usize = 6;
const TOP: usize = 15;

/// Scores `set` and ranks it as `hunt` does: beacon score × persistence within the time its
/// source was observed × any allowlist downrank (suppressed series kept, as in `--json`),
/// highest first, ties by events. Returns the top `TOP` as (series index, ranking score).
fn rank(set: &SeriesSet, cfg: &AnalyzerConfig, allow: &Allowlist, min_events: usize) -> Vec<(usize, f64)> {
    let reports = score_set(set, cfg, min_events);
    let observed = set.observed_seconds_by_source();
    let mut rows: Vec<(usize, f64, usize)> = Vec::with_capacity(reports.len());
    for (i, r) in &reports {
        let Some(s) = set.get(*i) else { continue };
        let key = s.key();
        let Some(&observed_s) = observed.get(key.source().unwrap_or("")) else {
            continue;
        };
        let mut score = r.score * persistence_over(r, observed_s);
        if let Some(rule) = allow.match_key(&key, None)
            && let Action::Downrank(f) = rule.action()
        {
            score *= f;
        }
        rows.push((*i, score, r.events));
    }
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.cmp(&a.2)));
    rows.truncate(TOP);
    rows.into_iter().map(|(i, s, _)| (i, s)).collect()
}

fn conn_log_to_ranked(data: &[u8], cfg: &AnalyzerConfig, allow: &Allowlist) -> (u64, Vec<(usize, f64)>) {
    let mut reader = AnyReader::from_reader(data, false).unwrap();
    let mut grouper = Grouper::new(GroupBy::PairPort);
    reader.for_each(|ev| grouper.push(&ev)).unwrap();
    let events = reader.stats().events;
    let set = grouper.finish();
    (events, rank(&set, cfg, allow, MIN_EVENTS))
}

fn bench_end_to_end(c: &mut Criterion) {
    let cfg = AnalyzerConfig::default();
    let allow = Allowlist::default_rules();
    let mut g = c.benchmark_group("end_to_end");
    g.sample_size(10);

    let scenario = Scenario::builder()
        .hosts(100)
        .days(7.0)
        .browsing_per_host_day(240)
        .web_servers(5)
        .seed(2024)
        .build();
    let data = scenario.to_zeek_tsv().into_bytes();
    let (events, top) = conn_log_to_ranked(&data, &cfg, &allow);
    assert!(top.len() == TOP && top[0].1 > 0.5, "{top:?}");
    eprintln!(
        "end_to_end/conn_log_to_ranked: {events} events, {:.1} MB of Zeek TSV",
        data.len() as f64 / 1e6
    );
    let id = format!("{events} events, {:.0} MB TSV", data.len() as f64 / 1e6);
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function(BenchmarkId::new("conn_log_to_ranked/bytes", &id), |b| {
        b.iter(|| conn_log_to_ranked(black_box(&data), &cfg, &allow))
    });
    g.throughput(Throughput::Elements(events));
    g.bench_function(BenchmarkId::new("conn_log_to_ranked/events", &id), |b| {
        b.iter(|| conn_log_to_ranked(black_box(&data), &cfg, &allow))
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
        b.iter(|| rank(&group(black_box(&events)), &cfg, &allow, 1))
    });
    g.finish();
}

criterion_group!(benches, bench_end_to_end);
criterion_main!(benches);
