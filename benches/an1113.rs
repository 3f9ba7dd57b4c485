//! The AN1113 join's cost on a log with process identity.
//!
//! Input: the generated AN1113 scenario (3 Windows hosts, 48 hours: Sysmon 1/3/22, Security
//! 4698/4688/5156, TaskScheduler runs), as JSON lines.
//!
//! In memory (the lines parsed from a `Vec<String>`):
//! - `an1113/hunt_path`: what `hunt` does with such a log: parse every record, take Sysmon 3
//!   as connections, group by (host, process, destination), score every series.
//! - `an1113/join`: the same records through `An1113Builder` (lineage, network events with
//!   5156 and Sysmon 22, the join, chains, evidence, severity, coverage).
//!
//! From a file (the scenario written to a temporary file, read through the reader layer as the
//! `hunt` and `an1113` examples read it: `ReadOptions::open`, then connections or records):
//! - `an1113_file/hunt`: the reader's Sysmon 3 connections grouped and scored as above.
//! - `an1113_file/join`: the reader's records through `An1113Builder`, built.
//! - `an1113_file/join_pipelined`: the same through `An1113Builder::push_parallel` with one
//!   worker, as the `an1113` example reads on two cores: the file cut into chunks, each parsed
//!   and collected on the thread that takes it (the worker, or the bench's thread when it would
//!   otherwise wait), the chunks' parts absorbed in input order.
//!
//! Both in records/s (groups `an1113`, `an1113_file`) and in bytes/s of JSON lines (group
//! `an1113_bytes`); the join's cost is the ratio of the two.
//!
//! Run: `cargo bench --bench an1113`.

use beaconstat::an1113::An1113Builder;
use beaconstat::synth::an1113_scenario;
use beaconstat::winevent::{WinRecord, sysmon_conn_event};
use beaconstat::{Analyzer, GroupBy, Grouper, ReadOptions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;

/// Scores every series of `grouper`: the periodic ones (score ≥ 0.5).
fn score_all(grouper: Grouper) -> usize {
    let set = grouper.finish();
    let mut analyzer = Analyzer::default();
    set.iter()
        .map(|s| analyzer.score_series(&s))
        .filter(|r| r.score >= 0.5)
        .count()
}

// Not inlined, so a profiler can count one pass (`--toggle-collect=an1113::hunt_path`).
#[inline(never)]
fn hunt_path(lines: &[String]) -> usize {
    let mut rec = WinRecord::new();
    let mut grouper = Grouper::new(GroupBy::HostProcessDst);
    for l in lines {
        if rec.parse_str(l).is_ok()
            && let Some(c) = sysmon_conn_event(&rec)
        {
            grouper.push(&c);
        }
    }
    score_all(grouper)
}

#[inline(never)]
fn join(lines: &[String]) -> usize {
    let mut rec = WinRecord::new();
    let mut b = An1113Builder::new();
    let file = b.file("bench");
    for l in lines {
        if rec.parse_str(l).is_ok() {
            b.push_record(&rec, file);
        }
    }
    b.build().findings.len()
}

#[inline(never)]
fn hunt_file(path: &Path) -> usize {
    let mut r = ReadOptions::new().open(path).expect("the scenario file opens");
    let mut grouper = Grouper::new(GroupBy::HostProcessDst);
    while let Some(c) = r.next_event().expect("the scenario file reads") {
        grouper.push(&c);
    }
    score_all(grouper)
}

#[inline(never)]
fn join_file(path: &Path) -> usize {
    let mut r = ReadOptions::new().open(path).expect("the scenario file opens");
    let mut b = An1113Builder::new();
    let file = b.file("bench");
    r.for_each_record(|rec| b.push_record(rec, file))
        .expect("the scenario file reads");
    b.build().findings.len()
}

#[inline(never)]
fn join_file_parallel(path: &Path, workers: usize) -> usize {
    let r = ReadOptions::new().open_parallel([path], workers);
    let mut b = An1113Builder::new();
    b.push_parallel(&r).expect("the scenario file reads");
    b.build().findings.len()
}

fn bench(c: &mut Criterion) {
    let s = an1113_scenario(11, 48.0);
    let bytes: usize = s.lines.iter().map(|l| l.len() + 1).sum();
    for (group, throughput) in [
        ("an1113", Throughput::Elements(s.lines.len() as u64)),
        ("an1113_bytes", Throughput::Bytes(bytes as u64)),
    ] {
        let mut g = c.benchmark_group(group);
        g.sample_size(10);
        g.throughput(throughput);
        g.bench_function("hunt_path", |b| b.iter(|| black_box(hunt_path(&s.lines))));
        g.bench_function("join", |b| b.iter(|| black_box(join(&s.lines))));
        g.finish();
    }
    let path = std::env::temp_dir().join(format!("beaconstat-an1113-bench-{}.json", std::process::id()));
    let mut text = s.lines.join("\n");
    text.push('\n');
    std::fs::write(&path, text).expect("the scenario is written to a temporary file");
    let mut g = c.benchmark_group("an1113_file");
    g.sample_size(10);
    g.throughput(Throughput::Elements(s.lines.len() as u64));
    g.bench_function("hunt", |b| b.iter(|| black_box(hunt_file(&path))));
    g.bench_function("join", |b| b.iter(|| black_box(join_file(&path))));
    g.bench_function("join_pipelined", |b| b.iter(|| black_box(join_file_parallel(&path, 1))));
    g.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, bench);
criterion_main!(benches);
