//! Lineage's inputs, on generated event sequences: each event timed by its own clock in every
//! export shape (the collector's only as a fallback, its lag reported), one process where
//! Sysmon 1 and 4688 describe the same one, and nothing dropped silently (task definitions
//! that cannot be parsed are counted and listed with their record, reason and XML offset).

use beaconstat::lineage::{CoverageGap, Lineage, LineageBuilder, TaskXmlErrorKind};
use beaconstat::winevent::{TimeSource, WinRecord};
use beaconstat::{Interval, Timestamp};

fn build(lines: &[String]) -> Lineage {
    let mut b = LineageBuilder::new();
    b.input("events.json");
    let mut rec = WinRecord::new();
    for l in lines {
        rec.parse_str(l).unwrap();
        b.push_record(&rec);
    }
    b.build()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

const XML: &str = "<Task><Actions><Exec><Command>cmd.exe</Command></Exec></Actions></Task>";

fn created_at(lin: &Lineage, host: &str, task: &str) -> Option<Timestamp> {
    lin.task(host, task).and_then(|t| t.created)
}

/// The same 4698, created at 10:00:00.250 UTC and received by a collector 2.2 s later, in each
/// export shape: the task is created at the event's own time.
#[test]
fn every_shape_times_a_task_event_by_the_event() {
    let want = ts("2024-01-01T10:00:00.250Z");
    // evtx_dump JSON: System.TimeCreated.SystemTime (no collector time).
    let evtx = r##"{"Event":{"System":{"EventID":4698,"Channel":"Security","Computer":"E","TimeCreated":{"#attributes":{"SystemTime":"2024-01-01T10:00:00.250Z"}}},"EventData":{"TaskName":"\\T"}}}"##;
    // Winlogbeat: @timestamp is the record's time, event.created the agent's.
    let beat = r#"{"@timestamp":"2024-01-01T10:00:00.250Z","event":{"created":"2024-01-01T10:00:02.450Z"},"winlog":{"event_id":4698,"channel":"Security","computer_name":"W","event_data":{"TaskName":"\\T"}}}"#;
    // Flat export with TimeCreated and a Logstash @timestamp.
    let flat = r#"{"EventID":4698,"Channel":"Security","Hostname":"F","TimeCreated":"2024-01-01T10:00:00.250Z","@timestamp":"2024-01-01T10:00:02.450Z","TaskName":"\\T"}"#;
    // Flat export with only the collector's time: used, as a last resort.
    let only = r#"{"EventID":4698,"Channel":"Security","Hostname":"C","@timestamp":"2024-01-01T10:00:02.450Z","TaskName":"\\T"}"#;
    let lin = build(&[evtx.into(), beat.into(), flat.into(), only.into()]);
    assert_eq!(created_at(&lin, "E", r"\T"), Some(want));
    assert_eq!(created_at(&lin, "W", r"\T"), Some(want));
    assert_eq!(created_at(&lin, "F", r"\T"), Some(want));
    assert_eq!(created_at(&lin, "C", r"\T"), Some(ts("2024-01-01T10:00:02.450Z")));
    // Two collectors 2.2 s late: reported (one record each), nothing corrected.
    let lags: Vec<_> = lin
        .clocks
        .iter()
        .map(|c| {
            (
                c.host.as_str(),
                c.source,
                c.correction,
                c.collector_lag,
                c.collector_samples,
            )
        })
        .collect();
    let lag = Some(Interval::from_micros(2_200_000));
    assert_eq!(
        lags,
        [
            ("W", TimeSource::SystemTime, Interval::ZERO, lag, 1),
            ("F", TimeSource::SystemTime, Interval::ZERO, lag, 1)
        ]
    );
    assert!(
        !lin.coverage
            .gaps
            .iter()
            .any(|g| matches!(g, CoverageGap::ClockDisagreement { .. }))
    );
}

/// NXLog through Logstash: `EventTime` is local time (UTC-4) without a zone, `@timestamp` the
/// collector's. With Sysmon on the host, UtcTime gives the offset; without, the collector's
/// time does (rounded to 15 minutes); either way the 4698 lands on UTC and the lag is
/// reported.
#[test]
fn local_event_time_is_corrected_by_sysmon_or_by_the_collector() {
    let sysmon1 = |host: &str, local: &str, utc: &str, at: &str| {
        format!(
            r#"{{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"{host}","EventTime":"{local}","UtcTime":"{utc}","@timestamp":"{at}","ProcessGuid":"{{G}}","Image":"C:\\x.exe"}}"#
        )
    };
    let task = |host: &str, local: &str, at: &str| {
        format!(
            r#"{{"EventID":4698,"Channel":"security","Hostname":"{host}","EventTime":"{local}","@timestamp":"{at}","TaskName":"\\T"}}"#
        )
    };
    let lin = build(&[
        sysmon1(
            "S",
            "2020-09-21 23:03:59",
            "2020-09-22 03:03:59.400",
            "2020-09-22T03:04:01.100Z",
        ),
        task("S", "2020-09-21 23:04:00", "2020-09-22T03:04:01.454Z"),
        task("N", "2020-09-21 23:04:00", "2020-09-22T03:04:02.237Z"),
    ]);
    assert_eq!(created_at(&lin, "S", r"\T"), Some(ts("2020-09-22T03:04:00Z")));
    assert_eq!(created_at(&lin, "N", r"\T"), Some(ts("2020-09-22T03:04:00Z")));
    let four_hours = Interval::from_secs(4 * 3600);
    let s = lin.clocks.iter().find(|c| c.host == "S").unwrap();
    assert_eq!(s.source, TimeSource::LocalTime);
    assert_eq!(s.median_skew, Some(Interval::from_micros(4 * 3_600_000_000 + 400_000)));
    assert_eq!((s.correction, s.samples, s.collector_samples), (four_hours, 1, 2));
    // Lags of 2.1 s (the Sysmon record, against its whole-second EventTime) and 1.454 s: the
    // median of two is the upper one.
    assert_eq!(s.collector_lag, Some(Interval::from_micros(2_100_000)));
    let n = lin.clocks.iter().find(|c| c.host == "N").unwrap();
    assert_eq!((n.median_skew, n.correction), (None, four_hours));
    assert_eq!(n.collector_lag, Some(Interval::from_micros(2_237_000)));
    assert!(lin.coverage.gaps.contains(&CoverageGap::ClockDisagreement {
        host: "N".into(),
        source: TimeSource::LocalTime,
        skew: Interval::from_micros(4 * 3_600_000_000 + 2_237_000),
    }));
    let gap = lin
        .coverage
        .gaps
        .iter()
        .find(|g| matches!(g, CoverageGap::ClockDisagreement { host, .. } if host == "N"));
    assert_eq!(
        gap.unwrap().to_string(),
        "N: EventTime is local time, 14402.237s from UTC (corrected)"
    );
}

fn sysmon1(t: &str, data: &str) -> String {
    format!(
        r#"{{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1","UtcTime":"2024-01-01 10:00:{t}",{data}}}"#
    )
}

fn sec(id: u32, t: &str, data: &str) -> String {
    format!(r#"{{"EventID":{id},"Channel":"Security","Hostname":"WS1","TimeCreated":"2024-01-01T10:00:{t}Z",{data}}}"#)
}

/// A Sysmon 1 whose export dropped `ProcessId` and the 4688 of the same process (same image
/// and parent PID, 0.9 s apart): one process, with the 4688's PID, so the 4698's
/// `ClientProcessId` finds its creator. A 4688 with another parent PID stays its own process.
#[test]
fn sysmon1_and_4688_of_one_process_are_one_creation() {
    let image = r#""Image":"C:\\Windows\\System32\\usocoreworker.exe","CommandLine":"usocoreworker.exe -Embedding","ProcessGuid":"{G1}","ParentProcessGuid":"{G0}","ParentProcessId":"960""#;
    let new_process = |pid: &str, parent: &str| {
        format!(
            r#""NewProcessId":"{pid}","ProcessId":"{parent}","NewProcessName":"C:\\Windows\\System32\\usocoreworker.exe","SubjectUserName":"WS1$","SubjectDomainName":"CORP","SubjectLogonId":"0x3e7""#
        )
    };
    let lin = build(&[
        sysmon1("00.087", image),
        sec(4688, "00.990", &new_process("0x1f98", "0x3c0")),
        sec(4688, "01.000", &new_process("0x2000", "0x4")),
        sec(
            4698,
            "01.500",
            &format!(
                r#""TaskName":"\\T","TaskContent":"{XML}","ClientProcessId":"8088","SubjectUserName":"WS1$","SubjectDomainName":"CORP""#
            ),
        ),
    ]);
    let h = lin.host("WS1").unwrap();
    let pids: Vec<_> = h.processes.iter().map(|(_, p)| (p.pid, p.guid.as_deref())).collect();
    assert_eq!(pids, [(Some(8088), Some("{G1}")), (Some(0x2000), None)]);
    assert_eq!(lin.coverage.merged_4688, 1);
    let t = lin.task("WS1", r"\T").unwrap();
    let creator = &h.processes[t.creation.process.as_ref().unwrap().id];
    assert_eq!((creator.pid, creator.guid.as_deref()), (Some(8088), Some("{G1}")));
    assert_eq!(creator.logon_id, Some(0x3e7), "taken from the 4688");
    assert_eq!(t.creation.evidence[1], "ClientProcessId 8088 = usocoreworker.exe");
}

/// A 4698 whose XML is each bad form of the issue: the task is kept without a definition,
/// and the definition is counted and listed with its record, reason and byte offset.
#[test]
fn every_bad_definition_is_a_counted_skip_with_its_reason() {
    let json = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"").replace('\0', "\\u0000");
    let twice = XML.replace('<', "&amp;lt;").replace('>', "&amp;gt;");
    let utf16: String = XML.chars().flat_map(|c| [c, '\0']).collect();
    let forms = [
        ("Twice", twice.as_str()),
        ("Cut", &XML[..27]),
        ("Mismatch", &XML.replace("</Exec>", "</Exe>")),
        ("Wide", utf16.as_str()),
    ];
    let mut lines: Vec<String> = forms
        .iter()
        .enumerate()
        .map(|(i, (name, xml))| {
            format!(
                r#"{{"EventID":4698,"Channel":"Security","Hostname":"WS1","RecordNumber":{},"TimeCreated":"2024-01-01T10:00:0{i}Z","TaskName":"\\{name}","TaskContent":"{}"}}"#,
                100 + i,
                json(xml)
            )
        })
        .collect();
    // A task event naming no task and carrying no URI: counted too.
    lines.push(sec(4699, "09.000", r#""SubjectUserName":"x""#));
    let lin = build(&lines);
    assert_eq!(lin.coverage.definitions_skipped, 4);
    let got: Vec<_> = lin
        .skipped_definitions
        .iter()
        .map(|s| (s.task.as_deref().unwrap(), s.record_id, s.error.offset()))
        .collect();
    assert_eq!(
        got,
        [
            (r"\Twice", Some(100), 0),
            (r"\Cut", Some(101), 21),
            (r"\Mismatch", Some(102), 47),
            (r"\Wide", Some(103), 1)
        ]
    );
    let kinds: Vec<_> = lin.skipped_definitions.iter().map(|s| s.error.kind().clone()).collect();
    assert_eq!(kinds[0], TaskXmlErrorKind::EscapedTwice);
    assert!(matches!(kinds[1], TaskXmlErrorKind::Malformed { .. }));
    assert!(matches!(&kinds[2], TaskXmlErrorKind::Malformed { message } if message.contains("Exec")));
    assert_eq!(kinds[3], TaskXmlErrorKind::Utf16Bytes);
    assert_eq!(
        lin.skipped_definitions[3].to_string(),
        r"events.json: WS1 Security 4698 (record 103) task \Wide: task XML at byte 1: UTF-16 bytes (NUL after each character), not text"
    );
    for (name, _) in forms {
        let t = lin.task("WS1", name).unwrap();
        assert!(t.definition.is_none() && t.created.is_some(), "{name}");
    }
    assert_eq!(lin.coverage.unnamed_task_events, 1);
    assert!(
        lin.coverage
            .gaps
            .contains(&CoverageGap::UnparsedDefinitions { count: 4 })
    );
    assert!(lin.coverage.gaps.contains(&CoverageGap::UnnamedTaskEvents { count: 1 }));
    // In the JSON export too.
    #[cfg(feature = "serde")]
    {
        let v = serde_json::to_value(&lin).unwrap();
        assert_eq!(v["skipped_definitions"][1]["error"]["offset"], 21);
        assert_eq!(v["skipped_definitions"][0]["error"]["kind"], "EscapedTwice");
    }
}
