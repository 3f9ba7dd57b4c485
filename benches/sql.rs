//! The `beacon` SQL aggregate against the plain library on the same data: a generated network
//! (50 hosts over 2 days, about 90 000 connections) as one Arrow record batch, every
//! (src, dst) pair scored.
//!
//! - `sql_vs_library/library`: `arrow::series_from_batches` (dictionary keys, the grouper's id
//!   path) then `score_set` on all cores.
//! - `sql_vs_library/datafusion_1`, `…/datafusion_2`: `SELECT beacon(ts, orig_bytes) … GROUP BY
//!   src, dst` on an in-memory table, with 1 and 2 target partitions (partial aggregation per
//!   partition, a hash repartition, the final merge and scoring), collected.
//!
//! Throughput in events/s. Run: `cargo bench --features datafusion --bench sql`.

use arrow_array::RecordBatch;
use beaconstat::arrow::{ArrowColumns, series_from_batches};
use beaconstat::synth::Scenario;
use beaconstat::{AnalyzerConfig, GroupBy, score_set};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datafusion::prelude::{SessionConfig, SessionContext};
use std::hint::black_box;

const QUERY: &str = "SELECT \"id.orig_h\", \"id.resp_h\", beacon(ts, orig_bytes) AS b FROM conn \
                     GROUP BY \"id.orig_h\", \"id.resp_h\"";

fn context(batch: &RecordBatch, partitions: usize) -> SessionContext {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
    beaconstat::sql::register(&ctx);
    // The batch split into as many partitions as the plan runs.
    let rows = batch.num_rows();
    let parts: Vec<Vec<RecordBatch>> = (0..partitions)
        .map(|k| {
            let (from, to) = (rows * k / partitions, rows * (k + 1) / partitions);
            vec![batch.slice(from, to - from)]
        })
        .collect();
    let table = datafusion::datasource::MemTable::try_new(batch.schema(), parts).unwrap();
    ctx.register_table("conn", std::sync::Arc::new(table)).unwrap();
    ctx
}

fn bench_sql(c: &mut Criterion) {
    let batch = Scenario::builder()
        .hosts(50)
        .days(2.0)
        .seed(7)
        .build()
        .to_record_batch()
        .unwrap();
    let cfg = AnalyzerConfig::default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut g = c.benchmark_group("sql_vs_library");
    g.sample_size(10);
    g.throughput(Throughput::Elements(batch.num_rows() as u64));
    g.bench_function("library", |b| {
        b.iter(|| {
            let (set, _) = series_from_batches([&batch], &ArrowColumns::new(), GroupBy::Pair).unwrap();
            black_box(score_set(&set, &cfg, 0).len())
        })
    });
    for partitions in [1, 2] {
        let ctx = context(&batch, partitions);
        g.bench_function(format!("datafusion_{partitions}"), |b| {
            b.iter(|| {
                let out = rt.block_on(async { ctx.sql(QUERY).await?.collect().await }).unwrap();
                black_box(out.iter().map(RecordBatch::num_rows).sum::<usize>())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_sql);
criterion_main!(benches);
