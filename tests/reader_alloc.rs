//! After warm-up, reading Windows events and turning Sysmon 3 into `ConnEvent`s allocates
//! nothing: the record's buffers are reused (checked with a counting global allocator).
mod common;

use beaconstat::winevent::{WinEventReader, WinRecord, sysmon_conn_event};
use common::counting::{ALLOCS, COUNTING};
use std::sync::atomic::Ordering;

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

#[test]
fn steady_state_reading_allocates_nothing() {
    let Some(dir) = common::data("tasks_otrf") else { return };
    let one = std::fs::read(dir.join("schtask_modification_2020-12-1907505969.json")).unwrap();
    // Three copies: the first two warm up both of the buffers the reader swaps between.
    let mut input = Vec::with_capacity(one.len() * 3);
    for _ in 0..3 {
        input.extend_from_slice(&one);
        if !input.ends_with(b"\n") {
            input.push(b'\n');
        }
    }
    let per_copy = {
        let mut r = WinEventReader::from_reader(one.as_slice()).unwrap();
        let mut rec = WinRecord::new();
        let mut n = 0u64;
        while r.read_record(&mut rec).unwrap() {
            n += 1;
        }
        n
    };
    let mut rdr = WinEventReader::from_reader(input.as_slice()).unwrap();
    let mut rec = WinRecord::new();
    let (mut n, mut conns, mut ports) = (0u64, 0u64, 0u64);
    while rdr.read_record(&mut rec).unwrap() {
        n += 1;
        if n == 2 * per_copy {
            COUNTING.store(true, Ordering::SeqCst);
        }
        if let Some(c) = sysmon_conn_event(&rec) {
            conns += 1;
            ports += u64::from(c.dst_port.unwrap_or(0));
        }
        let _ = (rec.event_id(), rec.computer(), rec.timestamp(), rec.data("TaskName"));
    }
    COUNTING.store(false, Ordering::SeqCst);
    assert_eq!(n, 3 * per_copy);
    assert_eq!(conns, 18);
    assert!(ports > 0);
    assert_eq!(ALLOCS.load(Ordering::SeqCst), 0, "allocations in the third pass");
}
