//! Readers on small hand-written fixtures in tests/data/.

use beaconstat::{
    Format, Interval, Proto, ReadOptions, SkipReason, open,
    read::{CsvReader, ZeekJsonReader, ZeekReader, ZeekRecord, detect},
};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

#[test]
fn zeek_tsv_two_blocks_extra_columns_and_skips() {
    let mut r = ZeekReader::from_path(fixture("conn_blocks.log")).unwrap();
    let mut got = Vec::new();
    while let Some((e, rec)) = r.next_event_with_record().unwrap() {
        let label = rec.field("label").map(str::to_owned);
        got.push((
            e.ts.as_micros(),
            e.uid.map(str::to_owned),
            e.src.to_owned(),
            e.dst.to_owned(),
            e.dst_port,
            e.proto,
            e.duration,
            e.bytes_out,
            label,
        ));
    }
    assert_eq!(
        got,
        [
            (
                1_704_067_200_000_001,
                Some("Ca1".to_owned()),
                "10.0.0.5".to_owned(),
                "198.51.100.7".to_owned(),
                Some(443),
                Proto::Tcp,
                Some(Interval::from_micros(1_500_000)),
                Some(512),
                Some("Malicious".to_owned())
            ),
            (
                1_704_067_260_250_000,
                Some("Ca2".to_owned()),
                "10.0.0.5".to_owned(),
                "198.51.100.7".to_owned(),
                Some(443),
                Proto::Tcp,
                None,
                None,
                Some("Malicious".to_owned())
            ),
            (
                1_704_070_800_000_000,
                None,
                "fe80::1".to_owned(),
                "2001:db8::1".to_owned(),
                Some(123),
                Proto::Udp,
                None,
                None,
                None
            ),
        ]
    );
    let st = r.stats();
    assert_eq!((st.records, st.events, st.skipped), (6, 3, 3));
    let skips: Vec<_> = st
        .skipped_samples
        .iter()
        .map(|s| (s.position.line, s.reason, s.field.clone(), s.value.clone()))
        .collect();
    assert_eq!(
        skips,
        [
            (
                11,
                SkipReason::BadTimestamp,
                Some("ts".into()),
                Some("not-a-time".into())
            ),
            (12, SkipReason::BadPort, Some("id.resp_p".into()), Some("70000".into())),
            (23, SkipReason::FieldCount, None, None),
        ]
    );
    assert_eq!(st.skipped_samples[2].detail.as_deref(), Some("expected 5, found 4"));
    assert_eq!(
        st.to_string(),
        "6 records: 3 events, 3 skipped (unparsable timestamp 1, invalid port 1, wrong number of fields 1)"
    );
    // The second block's header replaced the first.
    assert_eq!(
        r.header().unwrap().fields(),
        ["id.resp_h", "id.resp_p", "ts", "id.orig_h", "proto"]
    );
}

#[test]
fn zeek_tsv_strict_reports_line_field_value() {
    let mut r = ZeekReader::builder()
        .strict(true)
        .from_path(fixture("conn_blocks.log"))
        .unwrap();
    let mut rec = ZeekRecord::new();
    let mut n = 0;
    let err = loop {
        assert!(r.read_record(&mut rec).unwrap());
        match rec.conn_event() {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(n, 2);
    assert_eq!(err.position().map(|p| p.line), Some(11));
    assert_eq!(
        err.to_string(),
        "line 11 (byte 521): unparsable timestamp (field ts, value \"not-a-time\")"
    );
    let mut r = ZeekReader::builder()
        .strict(true)
        .from_path(fixture("conn_blocks.log"))
        .unwrap();
    let mut n = 0;
    let err = r.for_each(|_| n += 1).unwrap_err();
    assert_eq!((n, err.position().map(|p| p.line)), (2, Some(11)));
}

#[test]
fn zeek_json_fixture() {
    let mut r = ZeekJsonReader::from_path(fixture("conn.json")).unwrap();
    let mut got = Vec::new();
    while let Some(e) = r.next_event().unwrap() {
        got.push((
            e.ts.as_micros(),
            e.uid.map(str::to_owned),
            e.dst_port,
            e.duration,
            e.bytes_out,
        ));
        if got.len() == 1 {
            assert_eq!(r.record().field("history"), Some("ShADadFf"));
            assert_eq!(r.record().field("conn_state"), Some("SF"));
        }
    }
    assert_eq!(
        got,
        [
            (
                1_704_067_200_000_001,
                Some("Cj1".to_owned()),
                Some(443),
                Some(Interval::from_micros(1_500_000)),
                Some(512)
            ),
            (1_704_067_260_250_000, Some("Cj\"2".to_owned()), Some(443), None, None),
        ]
    );
    let st = r.stats();
    assert_eq!((st.records, st.events, st.skipped), (4, 2, 2));
    let skips: Vec<_> = st.skipped_samples.iter().map(|s| (s.position.line, s.reason)).collect();
    assert_eq!(skips, [(4, SkipReason::MissingField), (5, SkipReason::BadJson)]);
    assert_eq!(st.skipped_samples[0].field.as_deref(), Some("id.resp_h"));
}

#[test]
fn csv_fixture() {
    let mut r = CsvReader::from_path(fixture("flows.csv")).unwrap();
    let mut got = Vec::new();
    while let Some((e, rec)) = r.next_event_with_record().unwrap() {
        let note = rec.field("note").map(str::to_owned);
        got.push((
            e.ts.as_micros(),
            e.dst_port,
            e.proto,
            e.bytes_out,
            e.bytes_in,
            e.name.map(str::to_owned),
            note,
        ));
    }
    let name = Some("c2.example.net".to_owned());
    assert_eq!(
        got,
        [
            (
                1_704_067_200_000_000,
                Some(443),
                Proto::Tcp,
                Some(512),
                Some(4096),
                name.clone(),
                Some("first, with comma".to_owned())
            ),
            (
                1_704_067_260_500_000,
                Some(443),
                Proto::Tcp,
                None,
                None,
                name.clone(),
                Some("quote \"inside\"".to_owned())
            ),
            (
                1_704_067_380_000_000,
                Some(443),
                Proto::Tcp,
                Some(1),
                Some(1),
                name,
                Some("two\nlines".to_owned())
            ),
        ]
    );
    let st = r.stats();
    assert_eq!((st.records, st.events, st.skipped), (4, 3, 1));
    assert_eq!(st.skipped_samples[0].reason, SkipReason::BadPort);
    assert_eq!(st.skipped_samples[0].value.as_deref(), Some("https"));
    assert_eq!(st.skipped_samples[0].position.line, 4);
}

#[test]
fn open_detects_each_fixture() {
    for (name, format, events) in [
        ("conn_blocks.log", Format::ZeekTsv, 3),
        ("conn.json", Format::ZeekJson, 2),
        ("flows.csv", Format::Csv, 3),
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        assert_eq!(detect(&bytes), Some(format), "{name}");
        let mut r = open(fixture(name)).unwrap();
        assert_eq!(r.format(), Some(format));
        let mut n = 0;
        r.for_each(|_| n += 1).unwrap();
        assert_eq!(n, events, "{name}");
        assert_eq!(r.stats().events, events);
        // Strict mode stops at the first bad record in each fixture.
        let mut r = ReadOptions::new().strict(true).open(fixture(name)).unwrap();
        assert!(r.for_each(|_| {}).is_err(), "{name}");
    }
    let err = open(fixture("missing.log")).unwrap_err();
    assert!(err.to_string().contains("missing.log"), "{err}");
}
