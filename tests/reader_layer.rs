//! The reader layer as a user drives it: `open` over files and directories, every format, and
//! the damaged inputs that used to abort a run or vanish silently.

mod common;

use beaconstat::read::{Inputs, LogContent};
use beaconstat::{ErrorKind, Format, ReadOptions, SkipReason, open, read::LogKind};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A fresh directory under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("beaconstat-layer-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A Zeek TSV log with `#path` and `#open`, and `n` connections from `src`.
fn zeek_log(path: &str, open: &str, src: &str, n: usize) -> String {
    let mut s = format!(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n#open\t{open}\n\
         #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n"
    );
    for i in 0..n {
        s.push_str(&format!(
            "{}.5\tC{i}\t{src}\t5000\t10.9.9.9\t443\ttcp\n",
            1_700_000_000 + 60 * i
        ));
    }
    s
}

fn count(r: &mut beaconstat::Reader) -> u64 {
    let mut n = 0;
    r.for_each(|_| n += 1).unwrap();
    n
}

#[test]
fn a_zeekctl_archive_is_read_by_path_header_as_one_stream() {
    let d = temp_dir("archive");
    let day = d.join("2024-01-02");
    std::fs::create_dir_all(&day).unwrap();
    let w = |p: &Path, b: &[u8]| std::fs::write(p, b).unwrap();
    w(
        &day.join("conn.00:00:00-01:00:00.log.gz"),
        &gzip(zeek_log("conn", "2024-01-02-00-00-00", "10.0.0.1", 30).as_bytes()),
    );
    w(
        &day.join("conn.01:00:00-02:00:00.log.gz"),
        &gzip(zeek_log("conn", "2024-01-02-01-00-00", "10.0.0.1", 20).as_bytes()),
    );
    // Named like conn logs, but their #path says otherwise.
    w(
        &day.join("conn-summary.00:00:00-01:00:00.log.gz"),
        &gzip(zeek_log("conn-summary", "2024-01-02-00-00-00", "10.0.0.7", 5).as_bytes()),
    );
    w(
        &day.join("capture_loss.00:00:00-01:00:00.log"),
        zeek_log("capture_loss", "x", "10.0.0.7", 3).as_bytes(),
    );
    w(
        &day.join("stats.00:00:00-01:00:00.log"),
        zeek_log("stats", "y", "10.0.0.7", 3).as_bytes(),
    );
    w(
        &day.join("dns.00:00:00-01:00:00.log"),
        zeek_log("dns", "z", "10.0.0.7", 3).as_bytes(),
    );
    // An empty rotated file and a labelled copy of a log already read.
    w(&day.join("conn.02:00:00-03:00:00.log"), b"");
    w(
        &day.join("labeled-conn.00:00:00-01:00:00.log"),
        zeek_log("conn", "2024-01-02-00-00-00", "10.0.0.1", 30).as_bytes(),
    );
    w(&d.join("README.md"), b"# notes\nsee https://example.org\n");

    let inputs = Inputs::scan(&[&d]).unwrap();
    let conns: Vec<String> = inputs
        .connection_logs()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        conns,
        [
            "conn.00:00:00-01:00:00.log.gz",
            "conn.01:00:00-02:00:00.log.gz",
            "conn.02:00:00-03:00:00.log"
        ]
    );
    assert_eq!(inputs.name_logs().count(), 1);
    assert!(
        inputs
            .logs()
            .iter()
            .any(|l| l.content == LogContent::Names(LogKind::Dns))
    );
    let passed: Vec<&str> = inputs.passed_over().iter().map(|p| p.reason.as_str()).collect();
    assert_eq!(passed.len(), 5, "{passed:?}");
    assert!(passed.iter().any(|r| r.contains("conn-summary")), "{passed:?}");
    assert!(passed.iter().any(|r| r.contains("copy")), "{passed:?}");

    let mut r = open(&d).unwrap();
    assert_eq!(count(&mut r), 50);
    let files = r.files();
    assert_eq!(files.len(), 3);
    assert_eq!(files[2].records, 0);
    let st = r.stats();
    assert_eq!((st.records, st.events, st.skipped), (50, 50, 0));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn a_truncated_or_trailing_garbage_gzip_keeps_its_lines_and_the_run_goes_on() {
    let d = temp_dir("gz");
    let full = gzip(zeek_log("conn", "a", "10.0.0.1", 10_000).as_bytes());
    // Cut inside the deflate stream: the lines before the cut are kept.
    std::fs::write(d.join("conn.1.log.gz"), &full[..full.len() / 2]).unwrap();
    let mut garbage = gzip(zeek_log("conn", "b", "10.0.0.2", 100).as_bytes());
    garbage.extend_from_slice(b"\x00\x01 not gzip at all");
    std::fs::write(d.join("conn.2.log.gz"), &garbage).unwrap();
    std::fs::write(
        d.join("conn.3.log.gz"),
        gzip(zeek_log("conn", "c", "10.0.0.3", 7).as_bytes()),
    )
    .unwrap();

    let mut r = open(&d).unwrap();
    let n = count(&mut r);
    let files = r.files();
    assert_eq!(files.len(), 3);
    let truncated = &files[0];
    assert!(truncated.events > 2_000 && truncated.events < 10_000, "{truncated}");
    assert_eq!(truncated.by_reason.get(&SkipReason::Truncated), Some(&1), "{truncated}");
    let sample = truncated.skipped_samples.last().unwrap();
    assert!(sample.detail.as_deref().unwrap().contains("gzip"), "{sample}");
    assert_eq!(sample.path.as_deref(), Some(d.join("conn.1.log.gz").as_path()));
    // All 100 lines before the garbage are read; the garbage is counted once.
    assert_eq!(files[1].events, 100);
    assert_eq!(files[1].by_reason.get(&SkipReason::Truncated), Some(&1));
    assert_eq!(files[2].events, 7);
    assert_eq!(n, truncated.events + 107);

    // Strict mode stops at the damage, naming the file.
    let mut strict = ReadOptions::new();
    strict.strict(true);
    let mut r = strict.open(d.join("conn.1.log.gz")).unwrap();
    let err = r.for_each(|_| {}).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io { .. }), "{err}");
    assert!(err.to_string().contains("conn.1.log.gz"), "{err}");
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn a_zeek_data_line_starting_with_hash_is_counted() {
    let log = "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\n1.0\ta\tb\n#2.0\ta\tb\n#close\t2024\n3.0\ta\tb\n";
    let mut r = ReadOptions::new().from_reader(std::io::Cursor::new(log)).unwrap();
    assert_eq!(count(&mut r), 2);
    let st = r.stats();
    assert_eq!((st.records, st.events, st.skipped), (3, 2, 1));
    assert_eq!(st.skipped_samples[0].reason, SkipReason::BadTimestamp);
    assert_eq!(st.skipped_samples[0].position.line, 4);
}

#[test]
fn zeek_json_detection_looks_past_a_bad_first_line_and_a_huge_first_record() {
    let good = r#"{"ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2","id.resp_p":443}"#;
    let input = format!("{{\"ts\":1.0,\"broken\n{good}\n{good}\n");
    let mut r = ReadOptions::new().from_reader(std::io::Cursor::new(input)).unwrap();
    assert_eq!(r.format(), Some(Format::ZeekJson));
    assert_eq!(count(&mut r), 2);
    assert_eq!(r.stats().by_reason.get(&SkipReason::BadJson), Some(&1));

    // A first record of 600 KB whose conn keys come after a huge value.
    let huge = format!(
        "{{\"ts\":1.0,\"uid\":\"{}\",\"id.orig_h\":\"a\",\"id.resp_h\":\"b\"}}\n{good}\n",
        "x".repeat(600_000)
    );
    let mut r = ReadOptions::new().from_reader(std::io::Cursor::new(huge)).unwrap();
    assert_eq!(r.format(), Some(Format::ZeekJson));
    assert_eq!(count(&mut r), 2);
}

#[test]
fn csv_separators_are_detected_and_a_missing_column_names_the_separator() {
    for (sep, name) in [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")] {
        let data = format!("ts{sep}src{sep}dst{sep}dst_port\n1.5{sep}10.0.0.1{sep}10.0.0.2{sep}443\n");
        let mut r = ReadOptions::new().from_reader(std::io::Cursor::new(data)).unwrap();
        assert_eq!(r.format(), Some(Format::Csv), "{name}");
        let ev = r.next_event().unwrap().unwrap();
        assert_eq!(
            (ev.src, ev.dst, ev.dst_port),
            ("10.0.0.1", "10.0.0.2", Some(443)),
            "{name}"
        );
    }
    let err = ReadOptions::new()
        .from_reader(std::io::Cursor::new("when;from;to\n1;a;b\n"))
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("no ts column") && msg.contains("';'"), "{msg}");
}

#[test]
fn an_unterminated_csv_quote_costs_one_record() {
    let mut data = String::from("ts,src,dst,note\n1,a,b,\"never closed\n");
    for i in 0..200_000 {
        data.push_str(&format!("{},10.0.0.1,10.0.0.{},ok\n", i + 2, i % 200));
    }
    let mut r = ReadOptions::new().from_reader(std::io::Cursor::new(data)).unwrap();
    assert_eq!(count(&mut r), 200_000);
    let st = r.stats();
    assert_eq!((st.records, st.events, st.skipped), (200_001, 200_000, 1));
    assert_eq!(st.skipped_samples[0].reason, SkipReason::BadQuote);
    assert_eq!(st.skipped_samples[0].position.line, 2);
    // A field that does close within the caps is still one record across lines.
    let data = "ts,src,dst,note\n1,a,b,\"two\nlines, \"\"quoted\"\"\"\n2,a,c,x\n";
    let mut r = ReadOptions::new().from_reader(std::io::Cursor::new(data)).unwrap();
    let mut notes = Vec::new();
    while r.next_event().unwrap().is_some() {}
    assert_eq!(r.stats().events, 2);
    let mut csv = beaconstat::read::CsvReader::from_reader(data.as_bytes()).unwrap();
    let mut rec = beaconstat::read::CsvRecord::new();
    while csv.read_record(&mut rec).unwrap() {
        notes.push(rec.field("note").unwrap_or("").to_owned());
    }
    assert_eq!(notes, ["two\nlines, \"quoted\"", "x"]);
}

#[test]
fn windows_event_json_is_read_by_open_plain_gzip_or_zipped() {
    let d = temp_dir("win");
    let sysmon3 = r#"{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1","UtcTime":"2024-01-02 03:04:05.000","Image":"C:\\a.exe","SourceIp":"10.0.0.5","DestinationIp":"203.0.113.9","DestinationPort":"443"}"#;
    let other = r#"{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1"}"#;
    let text = format!("{other}\n{sysmon3}\nnot json\n{sysmon3}\n");
    std::fs::write(d.join("events.json.gz"), gzip(text.as_bytes())).unwrap();
    let mut r = open(d.join("events.json.gz")).unwrap();
    assert_eq!(r.format(), Some(Format::WindowsEventJson));
    let mut dsts = Vec::new();
    r.for_each(|e| dsts.push((e.dst.to_owned(), e.process.and_then(|p| p.image).map(str::to_owned))))
        .unwrap();
    assert_eq!(dsts.len(), 2);
    assert_eq!(dsts[0], ("203.0.113.9".to_owned(), Some(r"C:\a.exe".to_owned())));
    let st = r.stats();
    assert_eq!((st.records, st.events, st.skipped, st.ignored), (4, 2, 1, 1));

    // The same lines in a zip, split over a deflated and a stored member (the second without
    // a final line break), beside a folder entry: the same counts, the bad line at line 3.
    let (a, b) = text.split_at(text.find("not json").unwrap());
    let b = b.trim_end_matches('\n');
    let zip = common::zip::zip_of(&[
        ("logs/", b"", false),
        ("logs/a.json", a.as_bytes(), true),
        ("logs/b.json", b.as_bytes(), false),
    ]);
    std::fs::write(d.join("events.zip"), &zip).unwrap();
    let mut r = open(d.join("events.zip")).unwrap();
    assert_eq!(r.format(), Some(Format::WindowsEventJson));
    let mut n = 0;
    r.for_each(|_| n += 1).unwrap();
    let st = r.stats();
    assert_eq!((n, st.records, st.events, st.skipped, st.ignored), (2, 4, 2, 1, 1));
    assert_eq!(st.skipped_samples[0].position.line, 3);
    // Windows records themselves, as `tasks` reads them.
    let s = beaconstat::read::read_windows_events(d.join("events.zip"), |_| {}).unwrap();
    assert_eq!((s.events, s.skipped), (3, 1), "{s:?}");

    // A zip damaged inside a member: what was read is kept, the rest counted as truncated,
    // with the member and the CRC named.
    let mut bad = zip.clone();
    let at = zip.windows(8).position(|w| w == b"not json").unwrap();
    bad[at] = b'N';
    std::fs::write(d.join("damaged.zip"), &bad).unwrap();
    let mut r = open(d.join("damaged.zip")).unwrap();
    r.for_each(|_| {}).unwrap();
    let st = r.stats();
    assert_eq!(st.by_reason.get(&SkipReason::Truncated), Some(&1), "{st}");
    let why = st
        .skipped_samples
        .iter()
        .find(|s| s.reason == SkipReason::Truncated)
        .unwrap();
    let detail = why.detail.as_deref().unwrap_or("");
    assert!(
        detail.contains("zip member logs/b.json") && detail.contains("CRC-32"),
        "{detail}"
    );

    // Not an archive after all (cut short): an error that says so; in a directory it is
    // passed over and the run goes on.
    std::fs::write(d.join("sample.zip"), b"PK\x03\x04\x14\x00rest").unwrap();
    let err = open(d.join("sample.zip")).unwrap_err();
    assert!(err.to_string().contains("not a readable zip archive"), "{err}");
    std::fs::remove_file(d.join("damaged.zip")).unwrap();
    let inputs = Inputs::scan(&[&d]).unwrap();
    assert_eq!(inputs.connection_logs().count(), 2, "{:?}", inputs.logs());
    assert_eq!(inputs.passed_over().len(), 1);
    assert!(inputs.passed_over()[0].reason.contains("not a readable zip archive"));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn a_missing_path_says_so_plainly() {
    let err = open("/nonexistent/conn.log").unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("/nonexistent/conn.log") && msg.contains("No such file"),
        "{msg}"
    );
}
