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

/// A truncated `.evtx` file says so, and counts the records of its damaged part (from the
/// chunk header) as skipped instead of reading "0 records, 0 skipped".
#[test]
fn truncated_evtx_counts_the_damaged_records() {
    use beaconstat::SkipReason;
    let Some(dir) = common::data("tasks_evtx_attack") else {
        return;
    };
    let src = dir.join("temp_scheduled_task_4698_4699.evtx");
    let full = std::fs::read(&src).unwrap();
    let whole = {
        let mut rdr = EvtxReader::from_path(&src).unwrap();
        let mut rec = WinRecord::new();
        while rdr.read_record(&mut rec).unwrap() {}
        assert_eq!(rdr.stats().skipped, 0);
        rdr.stats().events
    };
    assert!(whole > 0);
    let tmp = std::env::temp_dir().join(format!("beaconstat-evtx-cut-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    // Cuts inside the one chunk, after its header: every record of the chunk is accounted for.
    for cut in [4096 + 512, 4096 + 20_000, full.len() - 1] {
        let path = tmp.join(format!("cut{cut}.evtx"));
        std::fs::write(&path, &full[..cut]).unwrap();
        let mut rdr = EvtxReader::from_path(&path).unwrap();
        let mut rec = WinRecord::new();
        while rdr.read_record(&mut rec).unwrap() {}
        let st = rdr.stats();
        assert_eq!(st.events + st.skipped, whole, "cut at {cut}: {st}");
        assert_eq!(
            st.by_reason.get(&SkipReason::Truncated),
            Some(&whole),
            "cut at {cut}: {st}"
        );
        let why = st.skipped_samples[0].detail.as_deref().unwrap();
        assert!(why.contains("truncated"), "{why}");
        // Strict mode: an error naming the truncation.
        let mut opts = beaconstat::ReadOptions::new();
        opts.strict(true);
        let mut rdr = EvtxReader::from_path_with(&path, &opts).unwrap();
        let err = loop {
            match rdr.read_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => panic!("cut at {cut}: strict read ended without an error"),
                Err(e) => break e,
            }
        };
        assert!(err.to_string().contains("truncated"), "{err}");
    }
    // Cut inside the chunk header: the damage is still said, with the file header's count.
    let path = tmp.join("cut-header.evtx");
    std::fs::write(&path, &full[..4096 + 16]).unwrap();
    let mut rdr = EvtxReader::from_path(&path).unwrap();
    let mut rec = WinRecord::new();
    while rdr.read_record(&mut rec).unwrap() {}
    assert!(rdr.stats().by_reason.get(&SkipReason::Truncated).copied().unwrap_or(0) >= 1);
    std::fs::remove_dir_all(&tmp).ok();
}
