//! The Windows-event reader and Sysmon 3 → ConnEvent on real OTRF exports.
mod common;

use beaconstat::{
    Proto, Timestamp,
    winevent::{WinEventReader, WinRecord, WinShape, sysmon_conn_event},
};

type First = (
    Timestamp,
    String,
    String,
    Option<u32>,
    Option<u16>,
    String,
    String,
    Option<String>,
);

struct Beacon {
    count: usize,
    first: Option<First>,
    records: u64,
    skipped: u64,
    shape: Option<WinShape>,
}

fn empire_beacons(zip: &str) -> Option<Beacon> {
    let json = common::unzip_json(&common::data("otrf_empire_sysmon")?.join(zip))?;
    let mut rdr = WinEventReader::from_path(&json).expect("open");
    let mut rec = WinRecord::new();
    let mut b = Beacon {
        count: 0,
        first: None,
        records: 0,
        skipped: 0,
        shape: None,
    };
    while rdr.read_record(&mut rec).expect("read") {
        b.shape.get_or_insert(rec.shape());
        let Some(c) = sysmon_conn_event(&rec) else { continue };
        let p = c.process.unwrap_or_default();
        if c.src == "172.18.39.5"
            && c.dst == "10.10.10.5"
            && c.dst_port == Some(80)
            && p.image_name().is_some_and(|i| i.eq_ignore_ascii_case("powershell.exe"))
        {
            assert_eq!(c.proto, Proto::Tcp);
            assert_eq!(c.name, None, "DestinationHostname '-' is no name");
            b.count += 1;
            if b.first.is_none() {
                b.first = Some((
                    c.ts,
                    p.image.unwrap_or_default().to_owned(),
                    p.guid.unwrap_or_default().to_owned(),
                    p.pid,
                    c.src_port,
                    c.host.unwrap_or_default().to_owned(),
                    c.user.unwrap_or_default().to_owned(),
                    c.name.map(str::to_owned),
                ));
            }
        }
    }
    b.records = rdr.stats().events;
    b.skipped = rdr.stats().skipped;
    let _ = std::fs::remove_dir_all(json.parent()?);
    Some(b)
}

#[test]
fn empire_dllinjection_beacon_connections() {
    let Some(b) = empire_beacons("empire_dllinjection_LoadLibrary_CreateRemoteThread.zip") else {
        return;
    };
    assert_eq!(b.records, 12_200);
    assert_eq!(b.skipped, 0);
    assert_eq!(b.shape, Some(WinShape::Flat));
    assert_eq!(b.count, 51);
    let (ts, image, guid, pid, sport, host, user, name) = b.first.unwrap();
    assert_eq!(ts, Timestamp::parse_rfc3339("2020-07-22T04:00:48.097Z").unwrap());
    assert_eq!(image, r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe");
    assert_eq!(guid, "{b59756a9-b239-5f17-5307-000000000400}");
    assert_eq!(pid, Some(9076));
    assert_eq!(sport, Some(50783));
    assert_eq!(host, "WORKSTATION5.mordor.local");
    assert_eq!(user, r"MORDOR\pgustavo");
    assert_eq!(name, None);
}

#[test]
fn empire_mimikatz_beacon_connections() {
    let Some(b) = empire_beacons("empire_mimikatz_logonpasswords.zip") else {
        return;
    };
    assert_eq!(b.records, 6_026);
    assert_eq!(b.skipped, 0);
    assert_eq!(b.count, 35);
    let (ts, _, guid, pid, sport, host, user, _) = b.first.unwrap();
    assert_eq!(ts, Timestamp::parse_rfc3339("2020-08-07T14:32:22.751Z").unwrap());
    assert_eq!(guid, "{297bc33e-65d0-5f2d-8207-000000000400}");
    assert_eq!(pid, Some(1648));
    assert_eq!(sport, Some(65372));
    assert_eq!(host, "WORKSTATION5.theshire.local");
    assert_eq!(user, r"THESHIRE\pgustavo");
}

#[test]
fn otrf_task_file_reads_every_line() {
    let Some(dir) = common::data("tasks_otrf") else { return };
    let mut rdr = WinEventReader::from_path(dir.join("schtask_modification_2020-12-1907505969.json")).unwrap();
    let mut rec = WinRecord::new();
    let mut n4702 = 0;
    while rdr.read_record(&mut rec).unwrap() {
        if rec.event_id() == Some(4702) {
            n4702 += 1;
            assert_eq!(rec.computer(), Some("WORKSTATION6.theshire.local"));
            assert!(
                rec.data("TaskContentNew")
                    .unwrap()
                    .starts_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<Task")
            );
        }
    }
    assert_eq!(n4702, 1);
    // One blank line, not a record.
    assert_eq!((rdr.stats().records, rdr.stats().events), (2_657, 2_657));
    assert_eq!(rdr.stats().skipped, 0);
}
