//! The library's own `.evtx` reader (feature `evtx`) agrees with the JSON path.
#![cfg(feature = "evtx")]
mod common;

use beaconstat::{
    read::read_windows_events,
    winevent::{EvtxReader, WinRecord},
};

#[test]
fn evtx_reader_matches_json_path() {
    let Some(dir) = common::data("tasks_evtx_attack") else {
        return;
    };
    for name in [
        "LM_ScheduledTask_ATSVC_target_host.evtx",
        "exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx",
    ] {
        let path = dir.join(name);
        let mut via_lib = Vec::new();
        let mut rdr = EvtxReader::from_path(&path).unwrap();
        let mut rec = WinRecord::new();
        while rdr.read_record(&mut rec).unwrap() {
            via_lib.push((rec.event_id(), rec.record_id(), rec.computer().map(str::to_owned)));
        }
        assert_eq!(rdr.stats().skipped, 0);
        let mut via_dev = Vec::new();
        common::read_events(&path, |r| {
            via_dev.push((r.event_id(), r.record_id(), r.computer().map(str::to_owned)))
        });
        assert_eq!(via_lib, via_dev, "{name}");
        let stats = read_windows_events(&path, |_| {}).unwrap();
        assert_eq!(stats.records as usize, via_lib.len());
    }
    // Not an EVTX file: a format error naming the file, not a panic.
    let err = EvtxReader::from_path(dir.join("SOURCE.md")).unwrap_err();
    assert!(matches!(err.kind(), beaconstat::ErrorKind::Format { .. }), "{err}");
    assert!(err.to_string().contains("SOURCE.md"));
}

// Truncated, bit-flipped and checksum-broken files: tests/damaged_evtx.rs.
