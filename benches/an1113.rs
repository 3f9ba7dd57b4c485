//! The AN1113 join's cost on a log with process identity.
//!
//! Input: the generated AN1113 scenario (3 Windows hosts, 48 hours: Sysmon 1/3/22, Security
//! 4698/4688/5156, TaskScheduler runs), as JSON lines in memory.
//!
//! - `an1113/hunt_path`: what `hunt` does with such a log: parse every record, take Sysmon 3
//!   as connections, group by (host, process, destination), score every series.
//! - `an1113/join`: the same records through `An1113Builder` (lineage, network events with
//!   5156 and Sysmon 22, the join, chains, evidence, severity, coverage).
//!
//! Both in records/s (group `an1113`) and in bytes/s of JSON lines (group `an1113_bytes`); the
//! join's cost is the ratio of the two.
//!
//! Run: `cargo bench --bench an1113`.

use beaconstat::an1113::An1113Builder;
use beaconstat::synth::an1113_scenario;
use beaconstat::winevent::{WinRecord, sysmon_conn_event};
use beaconstat::{Analyzer, GroupBy, Grouper};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

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
    let set = grouper.finish();
    let mut analyzer = Analyzer::default();
    set.iter()
        .map(|s| analyzer.score_series(&s))
        .filter(|r| r.score >= 0.5)
        .count()
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
}

criterion_group!(benches, bench);
criterion_main!(benches);
