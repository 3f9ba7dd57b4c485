//! Name join throughput: resolving connections to server names (by uid from ssl.log, else by
//! the most recent DNS answer within its TTL) against a realistic generated dns.log, in
//! connections/s; and building the index from dns.log + ssl.log text, in MB/s.
//!
//! `cargo bench --bench names -- --quick`

use beaconstat::synth::NameLogs;
use beaconstat::{
    ConnEvent, Timestamp,
    names::{NameResolver, ResolveStats},
    read::{NameLogReader, ZeekReader},
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

/// Owned copies of the connections' fields, so the join is measured without parsing.
struct Conn {
    ts: i64,
    src: String,
    dst: String,
    uid: String,
}

fn resolver(logs: &NameLogs) -> NameResolver {
    let mut b = NameResolver::builder();
    for text in [&logs.dns, &logs.ssl] {
        let mut r = NameLogReader::from_reader(text.as_bytes()).expect("generated log");
        r.for_each(|rec| b.add(&rec)).expect("generated log");
    }
    b.build()
}

fn bench_names(c: &mut Criterion) {
    // 400 hosts browsing for a day (~140 k DNS records, ~500 k connections), the CDN beacon,
    // the tunnel.
    let logs = NameLogs::builder()
        .hosts(400)
        .days(1.0)
        .sessions_per_host_day(350)
        .build();
    let res = resolver(&logs);
    let mut conns = Vec::with_capacity(logs.conn_records);
    ZeekReader::from_reader(logs.conn.as_bytes())
        .expect("generated log")
        .for_each(|ev| {
            conns.push(Conn {
                ts: ev.ts.as_micros(),
                src: ev.src.to_owned(),
                dst: ev.dst.to_owned(),
                uid: ev.uid.unwrap_or("").to_owned(),
            })
        })
        .expect("generated log");
    let mut st = ResolveStats::default();
    for c in &conns {
        st.add(&res.resolve(&ConnEvent::new(Timestamp(c.ts), &c.src, &c.dst).with_uid(&c.uid)));
    }
    eprintln!(
        "names bench: {} dns records ({:.1} MB), {} connections ({:.1} MB); index {:.1} MB; {st}",
        logs.dns_records,
        logs.dns.len() as f64 / 1e6,
        logs.conn_records,
        logs.conn.len() as f64 / 1e6,
        res.heap_bytes() as f64 / 1e6
    );

    let mut g = c.benchmark_group("names");
    g.sample_size(10);
    g.throughput(Throughput::Elements(conns.len() as u64));
    g.bench_function("resolve_join", |b| {
        b.iter(|| {
            let mut st = ResolveStats::default();
            for c in &conns {
                let ev = ConnEvent::new(Timestamp(c.ts), &c.src, &c.dst).with_uid(&c.uid);
                st.add(&res.resolve(black_box(&ev)));
            }
            black_box(st)
        })
    });
    g.bench_function("read_conn_and_resolve", |b| {
        b.iter(|| {
            let mut st = ResolveStats::default();
            let mut r = ZeekReader::from_reader(logs.conn.as_bytes()).expect("generated log");
            r.for_each(|ev| st.add(&res.resolve(&ev))).expect("generated log");
            black_box(st)
        })
    });
    g.throughput(Throughput::Bytes((logs.dns.len() + logs.ssl.len()) as u64));
    g.bench_function("build_index_from_dns_and_ssl", |b| {
        b.iter(|| black_box(resolver(&logs)))
    });
    g.finish();
}

criterion_group!(benches, bench_names);
criterion_main!(benches);
