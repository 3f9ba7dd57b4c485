//! Readers on real, published logs (see each folder's SOURCE.md under ../shared/data).
//! Skipped with a notice when the data directory is absent.

mod common;

use beaconstat::{
    ConnEvent, Format, Interval, Proto, ReadOptions, ReadStats, open,
    read::{ZeekJsonReader, ZeekReader, ZeekRecord, detect},
};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

fn data_dir() -> Option<PathBuf> {
    common::data("")
}

#[derive(Debug, Clone, PartialEq)]
struct Owned {
    ts: i64,
    uid: Option<String>,
    src: String,
    src_port: Option<u16>,
    dst: String,
    dst_port: Option<u16>,
    proto: Proto,
    duration: Option<Interval>,
    bytes_out: Option<u64>,
    bytes_in: Option<u64>,
}

impl From<ConnEvent<'_>> for Owned {
    fn from(e: ConnEvent<'_>) -> Self {
        Owned {
            ts: e.ts.as_micros(),
            uid: e.uid.map(str::to_owned),
            src: e.src.to_owned(),
            src_port: e.src_port,
            dst: e.dst.to_owned(),
            dst_port: e.dst_port,
            proto: e.proto,
            duration: e.duration,
            bytes_out: e.bytes_out,
            bytes_in: e.bytes_in,
        }
    }
}

fn read_all(path: &std::path::Path) -> (Vec<Owned>, ReadStats) {
    let mut r = ZeekReader::builder().strict(true).from_path(path).unwrap();
    let mut out = Vec::new();
    r.for_each(|e| out.push(Owned::from(e))).unwrap();
    (out, r.stats().clone())
}

#[test]
fn rita_proxy_conn_log() {
    let Some(d) = data_dir() else { return };
    let path = d.join("rita_proxy/conn.log");
    let (evs, st) = read_all(&path);
    assert_eq!((st.records, st.events, st.skipped), (463, 463, 0));
    assert_eq!(
        evs[0],
        Owned {
            ts: 1_672_843_056_913_119,
            uid: Some("CXHB1X22027MRWU6D".into()),
            src: "10.136.0.18".into(),
            src_port: Some(55548),
            dst: "10.136.0.16".into(),
            dst_port: Some(3128),
            proto: Proto::Tcp,
            duration: Some(Interval::from_micros(84_044)),
            bytes_out: Some(1030),
            bytes_in: Some(20275),
        }
    );
    let last = evs.last().unwrap();
    assert_eq!(
        (last.ts, last.uid.as_deref()),
        (1_672_944_522_948_240, Some("CECKzD4TuuheZo0EQl"))
    );
    // SOURCE.md: the proxied beacon pair 10.136.0.18 -> 10.136.0.16:3128 has 407 connections.
    let pair = evs
        .iter()
        .filter(|e| e.src == "10.136.0.18" && e.dst == "10.136.0.16" && e.dst_port == Some(3128))
        .count();
    assert_eq!(pair, 407);
    // An ICMP record with unset duration and bytes.
    let icmp = evs
        .iter()
        .find(|e| e.uid.as_deref() == Some("Cr4U3w2E9iSU8zBzkk"))
        .unwrap();
    assert_eq!(
        (icmp.proto, icmp.duration, icmp.bytes_out, icmp.dst_port),
        (Proto::Icmp, None, None, Some(134))
    );

    // Other columns through the record, by name.
    let mut r = ZeekReader::from_path(&path).unwrap();
    let mut rec = ZeekRecord::new();
    assert!(r.read_record(&mut rec).unwrap());
    assert_eq!(rec.field("conn_state"), Some("SF"));
    assert_eq!(rec.field("service"), Some("http,ssl"));
    assert_eq!(rec.count("orig_pkts").unwrap(), Some(18));
    assert_eq!(rec.count("resp_pkts").unwrap(), Some(14));
    assert_eq!(rec.count("orig_ip_bytes").unwrap(), Some(1974));
    assert_eq!(rec.count("resp_ip_bytes").unwrap(), Some(21011));
    assert_eq!(rec.field("tunnel_parents"), None);
    assert_eq!(rec.position().line, 9);
    assert_eq!(rec.header().unwrap().path(), Some("conn"));
}

#[test]
fn stratosphere_relative_timestamps() {
    let Some(d) = data_dir() else { return };
    let (evs, st) = read_all(&d.join("stratosphere_sdt/001-zeek-scenario-malicious/conn.log"));
    assert_eq!((st.records, st.events), (992, 992));
    assert_eq!(evs[0].ts, 19_981_745);
    assert_eq!(evs[0].uid.as_deref(), Some("C91Ycq25p2quMWzEMk"));
    assert_eq!(evs[0].src, "fd2d:ab8c:225:0:81d3:fd3e:7f62:aec8");
    assert_eq!(
        (evs[0].dst.as_str(), evs[0].dst_port, evs[0].proto),
        ("fd2d:ab8c:225::1", Some(53), Proto::Udp)
    );
    assert_eq!(evs.last().unwrap().ts, 3_023_361_477);
    let c2 = evs
        .iter()
        .filter(|e| e.src == "192.168.1.115" && e.dst == "41.108.179.197" && e.dst_port == Some(1177))
        .count();
    assert_eq!(c2, 237);

    // The labelled copy has the same flows plus label columns.
    let mut r = ZeekReader::from_path(d.join("stratosphere_sdt/001-zeek-scenario-malicious/labeled-conn.log")).unwrap();
    let mut labels = BTreeMap::new();
    while let Some(ev) = r.next_event().unwrap() {
        let _ = ev;
        let l = r.record().field("label").unwrap_or("?").to_owned();
        *labels.entry(l).or_insert(0) += 1;
    }
    assert_eq!(r.stats().events, 992);
    assert_eq!(labels.get("Malicious"), Some(&244));
    assert_eq!(labels.get("Background"), Some(&739));
    assert_eq!(labels.get("Benign"), Some(&9));
}

fn label_counts(path: PathBuf, col: &str) -> (ReadStats, BTreeMap<String, u64>) {
    let mut r = ZeekReader::builder().strict(true).from_path(path).unwrap();
    let mut labels = BTreeMap::new();
    while r.next_event().unwrap().is_some() {
        let l = r.record().field(col).unwrap_or("-").to_owned();
        *labels.entry(l).or_insert(0) += 1;
    }
    (r.stats().clone(), labels)
}

#[test]
fn iot23_flow_counts_and_space_quirk() {
    let Some(d) = data_dir() else { return };
    let (st, labels) = label_counts(
        d.join("iot23/CTU-IoT-Malware-Capture-34-1/conn.log.labeled"),
        "det_label",
    );
    assert_eq!((st.records, st.events, st.skipped), (23_145, 23_145, 0));
    assert_eq!(labels.get("C&C"), Some(&6706));
    assert_eq!(labels.get("DDoS"), Some(&14_394));
    assert_eq!(labels.get("PartOfAHorizontalPortScan"), Some(&122));

    for (dir, n) in [("CTU-Honeypot-Capture-4-1", 452), ("CTU-Honeypot-Capture-5-1", 1374)] {
        let path = d.join("iot23").join(dir).join("conn.log.labeled");
        let (st, labels) = label_counts(path.clone(), "label");
        assert_eq!((st.records, st.events, st.skipped), (n, n, 0), "{dir}");
        assert_eq!(
            labels.into_iter().collect::<Vec<_>>(),
            [("benign".to_owned(), n)],
            "{dir}"
        );
        let mut r = ZeekReader::from_path(&path).unwrap();
        let mut rec = ZeekRecord::new();
        assert!(r.read_record(&mut rec).unwrap());
        let h = rec.header().unwrap();
        assert!(h.has_space_quirk());
        assert_eq!(&h.fields()[20..], ["tunnel_parents", "label", "detailed-label"]);
        assert_eq!(h.types().len(), 23);
        assert_eq!(rec.len(), 23);
    }
    // First flow of 4-1: Google NTP.
    let (evs, _) = read_all(&d.join("iot23/CTU-Honeypot-Capture-4-1/conn.log.labeled"));
    assert_eq!(evs[0].ts, 1_540_469_302_538_640);
    assert_eq!(
        (evs[0].dst.as_str(), evs[0].dst_port, evs[0].proto),
        ("216.239.35.4", Some(123), Proto::Udp)
    );
}

#[test]
fn ctu_sme11_remcos() {
    let Some(d) = data_dir() else { return };
    let path = d.join("ctu_sme11_remcos/conn.log.labeled");
    let (evs, st) = read_all(&path);
    assert_eq!((st.records, st.events), (766, 766));
    let c2 = evs
        .iter()
        .filter(|e| e.dst == "66.63.168.35" && e.dst_port == Some(5888))
        .count();
    assert_eq!(c2, 719);
    assert_eq!(evs[0].ts, 1_677_024_003_714_845);
    assert_eq!((evs[0].bytes_out, evs[0].bytes_in), (Some(0), Some(0)));
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("beaconstat-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn gzip_copy_reads_identically() {
    let Some(d) = data_dir() else { return };
    let src = d.join("iot23/CTU-Honeypot-Capture-5-1/conn.log.labeled");
    let plain = std::fs::read(&src).unwrap();
    let tmp = temp_dir("gz");
    let gz = tmp.join("conn.log.labeled.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&plain).unwrap();
    let bytes = enc.finish().unwrap();
    assert_eq!(detect(&bytes[..bytes.len().min(4096)]), Some(Format::ZeekTsv));
    std::fs::write(&gz, &bytes).unwrap();

    let (a, sa) = read_all(&src);
    let mut r = ZeekReader::from_path(&gz).unwrap();
    assert!(r.is_gzip());
    let mut b = Vec::new();
    r.for_each(|e| b.push(Owned::from(e))).unwrap();
    assert_eq!(a, b);
    let mut sb = r.stats().clone();
    assert_eq!(sb.path.as_deref(), Some(gz.as_path()));
    sb.path.clone_from(&sa.path);
    assert_eq!(sa, sb);

    // And through format detection.
    let mut any = open(&gz).unwrap();
    assert_eq!(any.format(), Some(Format::ZeekTsv));
    let mut n = 0;
    any.for_each(|_| n += 1).unwrap();
    assert_eq!(n, 1374);
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn zeek_json_conversion_matches_tsv() {
    let Some(d) = data_dir() else { return };
    let src = d.join("rita_proxy/conn.log");
    // Convert TSV to Zeek JSON at test time (ts as a number; every 3rd line ISO 8601; nested
    // `id` object on every 5th).
    let mut r = ZeekReader::from_path(&src).unwrap();
    let mut rec = ZeekRecord::new();
    let mut json = String::new();
    let mut i = 0;
    while r.read_record(&mut rec).unwrap() {
        let e = rec.conn_event().unwrap();
        let q = |s: &str| serde_json::to_string(s).unwrap();
        let opt = |v: Option<u16>| v.map_or("null".to_owned(), |p| p.to_string());
        let ts = if i % 3 == 0 {
            q(&e.ts.to_string())
        } else {
            rec.field("ts").unwrap().to_owned()
        };
        let id = if i % 5 == 0 {
            format!(
                r#""id":{{"orig_h":{},"orig_p":{},"resp_h":{},"resp_p":{}}}"#,
                q(e.src),
                opt(e.src_port),
                q(e.dst),
                opt(e.dst_port)
            )
        } else {
            format!(
                r#""id.orig_h":{},"id.orig_p":{},"id.resp_h":{},"id.resp_p":{}"#,
                q(e.src),
                opt(e.src_port),
                q(e.dst),
                opt(e.dst_port)
            )
        };
        json.push_str(&format!(
            r#"{{"ts":{ts},"uid":{},{id},"proto":"{}""#,
            q(e.uid.unwrap()),
            e.proto
        ));
        if let Some(dur) = rec.field("duration") {
            json.push_str(&format!(r#","duration":{dur}"#));
        }
        if let (Some(o), Some(r)) = (e.bytes_out, e.bytes_in) {
            json.push_str(&format!(r#","orig_bytes":{o},"resp_bytes":{r}"#));
        }
        json.push_str(&format!(
            r#","conn_state":{},"tunnel_parents":[]}}"#,
            q(rec.field("conn_state").unwrap())
        ));
        json.push('\n');
        i += 1;
    }
    let (tsv, _) = read_all(&src);
    let mut jr = ZeekJsonReader::builder()
        .strict(true)
        .from_reader(json.as_bytes())
        .unwrap();
    let mut from_json = Vec::new();
    let mut states = 0;
    while let Some(e) = jr.next_event().unwrap() {
        from_json.push(Owned::from(e));
        states += usize::from(jr.record().field("conn_state").is_some());
    }
    assert_eq!(from_json.len(), 463);
    assert_eq!(states, 463);
    assert_eq!(from_json, tsv);
    let any = ReadOptions::new()
        .strict(true)
        .from_reader(std::io::Cursor::new(json))
        .unwrap();
    assert_eq!(any.format(), Some(Format::ZeekJson));
}

#[test]
fn detects_real_formats() {
    let Some(d) = data_dir() else { return };
    let head = |p: &str| {
        let b = std::fs::read(d.join(p)).unwrap();
        b[..b.len().min(4096)].to_vec()
    };
    assert_eq!(detect(&head("rita_proxy/conn.log")), Some(Format::ZeekTsv));
    assert_eq!(
        detect(&head("iot23/CTU-Honeypot-Capture-4-1/conn.log.labeled")),
        Some(Format::ZeekTsv)
    );
    assert_eq!(
        detect(&head("c2ms_packet_csv/sliver_beaconing_1.csv")),
        Some(Format::Csv)
    );
    assert_eq!(
        detect(&head("tasks_otrf/schtask_create_2020-12-1907003032.json")),
        Some(Format::WindowsEventJson)
    );
    // Windows event JSON is read by `open` too: its connections are the Sysmon 3 events, the
    // other events are counted as of another kind.
    let mut win = open(d.join("tasks_otrf/schtask_create_2020-12-1907003032.json")).unwrap();
    assert_eq!(win.format(), Some(Format::WindowsEventJson));
    let mut conns = 0u64;
    win.for_each(|e| {
        assert!(e.process.is_some());
        conns += 1;
    })
    .unwrap();
    let st = win.stats();
    assert_eq!(st.events, conns);
    assert!(st.ignored > 1000, "{st}");
    assert_eq!(st.records, st.events + st.skipped + st.ignored);
    let evtx = open(d.join("tasks_evtx_attack/temp_scheduled_task_4698_4699.evtx"));
    if cfg!(feature = "evtx") {
        assert_eq!(evtx.unwrap().format(), Some(Format::Evtx));
    } else {
        assert!(evtx.unwrap_err().to_string().contains("evtx"));
    }
}
