//! Resolving connections to names allocates nothing: checked with a counting global allocator.
//! (This test binary has its own allocator; the library itself stays `forbid(unsafe_code)`.)
mod common;

use beaconstat::synth::NameLogs;
use beaconstat::{
    names::{NameResolver, ResolveStats},
    read::{NameLogReader, ZeekReader, ZeekRecord},
};
use common::counting::{ALLOCS, COUNTING};
use std::sync::atomic::Ordering;

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

#[test]
fn the_name_join_allocates_nothing() {
    let logs = NameLogs::builder().hosts(10).days(0.5).build();
    let mut b = NameResolver::builder();
    for text in [&logs.dns, &logs.ssl] {
        NameLogReader::from_reader(text.as_bytes())
            .unwrap()
            .for_each(|r| b.add(&r))
            .unwrap();
    }
    let resolver = b.build();
    let mut reader = ZeekReader::from_reader(logs.conn.as_bytes()).unwrap();
    let mut rec = ZeekRecord::new();
    // Warm up the record's buffers on the first line.
    assert!(reader.read_record(&mut rec).unwrap());
    let mut stats = ResolveStats::default();
    let mut join_allocs = 0;
    while reader.read_record(&mut rec).unwrap() {
        let ev = rec.conn_event().unwrap();
        COUNTING.store(true, Ordering::SeqCst);
        let before = ALLOCS.load(Ordering::SeqCst);
        let r = resolver.resolve(&ev);
        stats.add(&r);
        join_allocs += ALLOCS.load(Ordering::SeqCst) - before;
        COUNTING.store(false, Ordering::SeqCst);
    }
    assert!(stats.named() > 1000, "{stats}");
    assert_eq!(join_allocs, 0, "allocations in {} resolutions", stats.connections);
}
