//! Grouping throughput: borrowed events → per-key series (`Grouper::push` then `finish`), in
//! events/s. Two key mixes: ~2 000 pairs in time order (a conn.log), and 1 M distinct keys
//! (the hostile case: every event a new key). The `dict_ids` case groups the same 2 M events
//! given as columns with a dictionary-encoded key (as in an Arrow record batch): the 2 000
//! dictionary entries are interned with `Grouper::key_id`, the events pushed by id with
//! `Grouper::push_id`. The `pair_as_read` case pushes the same string-keyed events built one at
//! a time, as a reader yields them; `pair_as_read_reused` the same through one grouper reused
//! input after input (`finish_and_reset`, `recycle`). Run: `cargo bench --bench group`.

use beaconstat::{ConnEvent, GroupBy, Grouper, SeriesKey, Timestamp};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn bench_group(c: &mut Criterion) {
    let mut g = c.benchmark_group("group");
    g.sample_size(10);
    // 2 M events over 2 000 (src, dst) pairs, interleaved in time order as a sensor logs them.
    let srcs: Vec<String> = (0..400).map(|i| format!("10.0.{}.{}", i / 250, i % 250)).collect();
    let dsts: Vec<String> = (0..5).map(|i| format!("203.0.113.{i}")).collect();
    let n = 2_000_000usize;
    let mut x = 0x9E37_79B9u64;
    let events: Vec<ConnEvent<'_>> = (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let (s, d) = ((x % 400) as usize, ((x >> 20) % 5) as usize);
            ConnEvent::new(Timestamp(i as i64 * 50_000), &srcs[s], &dsts[d])
                .with_dst_port(443)
                .with_bytes(x % 4000, 0)
        })
        .collect();
    g.throughput(Throughput::Elements(n as u64));
    for (name, by) in [("pair", GroupBy::Pair), ("pair_port", GroupBy::PairPort)] {
        g.bench_function(BenchmarkId::new(name, "2e6 events, 2000 keys"), |b| {
            b.iter(|| {
                let mut grouper = Grouper::new(by.clone());
                grouper.reserve(n);
                for e in &events {
                    grouper.push(black_box(e));
                }
                grouper.finish().len()
            })
        });
    }
    // Finishing only: the same events pushed into two groupers (the halves of the input, as two
    // reading threads leave them), then merged and finished on one thread, or finished together
    // with `Grouper::finish_parts` (one thread per part).
    let halves = || {
        let (mut a, mut b) = (Grouper::new(GroupBy::Pair), Grouper::new(GroupBy::Pair));
        events[..n / 2].iter().for_each(|e| a.push(e));
        events[n / 2..].iter().for_each(|e| b.push(e));
        (a, b)
    };
    g.bench_function(
        BenchmarkId::new("finish_two_parts_merged", "2e6 events, 2000 keys"),
        |b| {
            b.iter_batched(
                halves,
                |(mut first, second)| {
                    first.merge(second);
                    first.finish().len()
                },
                criterion::BatchSize::PerIteration,
            )
        },
    );
    g.bench_function(
        BenchmarkId::new("finish_two_parts_together", "2e6 events, 2000 keys"),
        |b| {
            b.iter_batched(
                halves,
                |(first, second)| Grouper::finish_parts(vec![first, second]).len(),
                criterion::BatchSize::PerIteration,
            )
        },
    );
    // The same events as an Arrow-style batch with a dictionary-encoded key column: a code per
    // event (into the 2 000-entry dictionary), a time column and a size column. The input is
    // 28 bytes an event instead of a 208-byte `ConnEvent`.
    let codes: Vec<u32> = events
        .iter()
        .map(|e| {
            let s = srcs.iter().position(|s| s == e.src).unwrap_or(0);
            let d = dsts.iter().position(|d| d == e.dst).unwrap_or(0);
            (s * dsts.len() + d) as u32
        })
        .collect();
    let times: Vec<Timestamp> = events.iter().map(|e| e.ts).collect();
    let sizes: Vec<Option<u64>> = events.iter().map(|e| e.bytes_out).collect();
    let dictionary: Vec<SeriesKey<'_>> = srcs
        .iter()
        .flat_map(|s| dsts.iter().map(move |d| SeriesKey::pair(s, d)))
        .collect();
    g.bench_function(BenchmarkId::new("dict_ids", "2e6 events, 2000 keys"), |b| {
        b.iter(|| {
            let mut grouper = Grouper::new(GroupBy::Pair);
            grouper.reserve(n);
            let ids: Vec<_> = dictionary.iter().map(|k| grouper.key_id(k)).collect();
            let mut unknown = 0usize;
            for ((&c, &t), &z) in codes.iter().zip(&times).zip(&sizes) {
                match ids.get(c as usize) {
                    Some(&id) if grouper.push_id(black_box(id), t, z) => {}
                    _ => unknown += 1,
                }
            }
            assert_eq!(unknown, 0);
            grouper.finish().len()
        })
    });
    // The string-keyed path as a reader feeds it: each event built where it is pushed (from the
    // same columns and address strings), instead of streamed from a 2 M-element `Vec` of
    // 208-byte events, whose 416 MB of memory traffic the `pair` case measures as well.
    let push_as_read = |grouper: &mut Grouper| {
        for ((&c, &t), &z) in codes.iter().zip(&times).zip(&sizes) {
            let (s, d) = (c as usize / dsts.len(), c as usize % dsts.len());
            let (Some(src), Some(dst)) = (srcs.get(s), dsts.get(d)) else {
                continue;
            };
            let e = ConnEvent::new(t, src, dst)
                .with_dst_port(443)
                .with_bytes(z.unwrap_or(0), 0);
            grouper.push(black_box(&e));
        }
    };
    g.bench_function(BenchmarkId::new("pair_as_read", "2e6 events, 2000 keys"), |b| {
        b.iter(|| {
            let mut grouper = Grouper::new(GroupBy::Pair);
            grouper.reserve(n);
            push_as_read(&mut grouper);
            grouper.finish().len()
        })
    });
    // The same, one grouper reused input after input as a sensor or a streaming tracker would
    // use it (`finish_and_reset`, then `recycle` of each set): the steady state, in which
    // grouping touches no new memory.
    g.bench_function(BenchmarkId::new("pair_as_read_reused", "2e6 events, 2000 keys"), |b| {
        let mut grouper = Grouper::new(GroupBy::Pair);
        b.iter(|| {
            push_as_read(&mut grouper);
            let set = grouper.finish_and_reset();
            let n = set.len();
            grouper.recycle(set);
            n
        })
    });
    // Hostile: 1 M distinct keys, timestamps spanning the whole i64 range out of order.
    let keys: Vec<String> = (0..1_000_000).map(|i| format!("h{i}")).collect();
    let hostile: Vec<ConnEvent<'_>> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| ConnEvent::new(Timestamp((i as i64).wrapping_mul(0x5851_F42D_4C95_7F2D)), k, "x"))
        .collect();
    g.throughput(Throughput::Elements(hostile.len() as u64));
    g.bench_function(BenchmarkId::new("distinct_keys", "1e6 events, 1e6 keys"), |b| {
        b.iter(|| {
            let mut grouper = Grouper::new(GroupBy::Pair);
            for e in &hostile {
                grouper.push(black_box(e));
            }
            grouper.finish().len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_group);
criterion_main!(benches);
