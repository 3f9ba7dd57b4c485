//! Resolving connections to names allocates nothing: checked with a counting global allocator.
//! (This test binary has its own allocator; the library itself stays `forbid(unsafe_code)`.)

use beaconstat::synth::NameLogs;
use beaconstat::{NameLogReader, NameResolver, ResolveStats, ZeekReader, ZeekRecord};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
