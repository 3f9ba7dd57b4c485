//! The bodies of the fuzz targets, one function per target. Each takes arbitrary bytes, drives
//! one reader (or the analyzer) to the end and checks what must hold for any input: no panic,
//! every record counted (`records == events + skipped`), reports in range.
//!
//! The `fuzz_targets/*.rs` binaries call these under libFuzzer; the library's
//! `tests/fuzz_regressions.rs` includes this file and replays the committed corpus through the
//! same functions under `cargo test`, without the fuzz toolchain.
#![forbid(unsafe_code)]
#![allow(dead_code)] // included by a test that calls each target only where its feature is on

use beaconstat::lineage::{LineageBuilder, SchtasksCommand, TaskDefinition, parse_iso_duration};
use beaconstat::read::{CsvReader, Inputs, ReadOptions, ZeekJsonReader, ZeekReader};
use beaconstat::winevent::{EvidenceEvent, ProcessEvent, TaskEvent, WinEventReader, WinRecord, sysmon_conn_event};
use beaconstat::{Analyzer, AnalyzerConfig, ConnEvent, GroupBy, Grouper, ReadStats, Timestamp};

/// Drives a line reader to its end, grouping every event, then checks the counts.
macro_rules! drive {
    ($reader:expr) => {{
        let Ok(mut rdr) = $reader else { return };
        let mut grouper = Grouper::new(GroupBy::PairPort);
        let clean_end = loop {
            match rdr.next_event() {
                Ok(Some(e)) => touch(&e, &mut grouper),
                Ok(None) => break true,
                Err(_) => break false,
            }
        };
        check_read_stats(rdr.stats(), clean_end, grouper.finish().events());
    }};
}

/// What holds after any input: each record is an event or a counted skip (once the reader has
/// reached the end), and every event reached the grouper.
fn check_read_stats(st: &ReadStats, clean_end: bool, grouped: usize) {
    assert!(st.skipped_samples.len() as u64 <= st.skipped.min(ReadStats::MAX_SAMPLES as u64));
    assert_eq!(st.by_reason.values().sum::<u64>(), st.skipped, "{st:?}");
    if clean_end {
        assert_eq!(
            st.records,
            st.events + st.skipped + st.ignored,
            "every record counted: {st:?}"
        );
        assert_eq!(grouped as u64, st.events);
    }
}

fn touch(e: &ConnEvent<'_>, g: &mut Grouper) {
    // Borrowed strings must be valid slices of the reader's buffer: reading them must not fault.
    let n = e.src.len() + e.dst.len() + e.name.map_or(0, str::len) + e.host.map_or(0, str::len);
    assert!(n <= 3 << 16, "a field longer than the line cap");
    let _ = Timestamp::from_micros(e.ts.as_micros());
    g.push(e);
}

/// Options for every fuzzed reader: records capped at 64 KiB (the fuzzer's input cap).
fn opts() -> ReadOptions {
    let mut o = ReadOptions::new();
    o.max_record_len(1 << 16);
    o
}

/// Zeek `conn.log` TSV (any header, any lines, gzip when the magic bytes say so).
pub fn zeek_tsv(data: &[u8]) {
    drive!(ZeekReader::builder().options(&opts()).from_reader(data));
}

/// Zeek `conn.log` JSON lines.
pub fn zeek_json(data: &[u8]) {
    drive!(ZeekJsonReader::builder().options(&opts()).from_reader(data));
}

/// CSV with a header row (any columns, any quoting).
pub fn csv(data: &[u8]) {
    drive!(CsvReader::builder().options(&opts()).from_reader(data));
}

/// Feeds one Windows event to everything that reads Windows events: the Sysmon connection
/// view, the lineage event views and the lineage builder.
fn windows_record(rec: &WinRecord, lineage: &mut LineageBuilder) {
    if let Some(c) = sysmon_conn_event(rec) {
        assert!(c.src.len() + c.dst.len() < usize::MAX);
    }
    if let Some(xml) = TaskEvent::from_record(rec).and_then(|t| t.xml) {
        let _ = TaskDefinition::parse(xml);
    }
    let _ = ProcessEvent::from_record(rec);
    let _ = EvidenceEvent::from_record(rec);
    let _ = rec.timestamp();
    let _ = rec.clock_skew();
    lineage.push_record(rec);
}

fn check_win_stats(st: &ReadStats) {
    assert!(st.skipped_samples.len() as u64 <= st.skipped.min(ReadStats::MAX_SAMPLES as u64));
    assert_eq!(st.by_reason.values().sum::<u64>(), st.skipped, "{st:?}");
}

/// Windows event JSON lines (winlogbeat, OTRF, `evtx_dump` output), through to a lineage.
pub fn windows_json(data: &[u8]) {
    let Ok(mut rdr) = WinEventReader::with_options(data, &opts()) else {
        return;
    };
    let mut rec = WinRecord::new();
    let mut lineage = LineageBuilder::new();
    while let Ok(true) = rdr.read_record(&mut rec) {
        windows_record(&rec, &mut lineage);
    }
    check_win_stats(rdr.stats());
    let lineage = lineage.build();
    let _ = lineage.tasks().count();
}

/// Scheduled-task XML, and the same text as a `schtasks`/`at` command line and a duration.
pub fn task_xml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match TaskDefinition::parse(&text) {
        Ok(def) => {
            let _ = def.period();
            for a in &def.actions {
                let _ = a.command_line();
            }
        }
        Err(e) => assert!(e.offset() <= text.len() as u64 + 16, "{e}"),
    }
    if let Some(c) = SchtasksCommand::parse(&text) {
        let d = c.definition();
        let _ = d.period();
    }
    let _ = parse_iso_duration(&text);
}

/// A whole `.evtx` file (written to a temporary file: the reader opens paths).
#[cfg(feature = "evtx")]
pub fn evtx(data: &[u8]) {
    let path = std::env::temp_dir().join(format!("beaconstat-fuzz-{}.evtx", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let mut lineage = LineageBuilder::new();
    if let Ok(mut rdr) = beaconstat::winevent::EvtxReader::from_path(&path) {
        let mut rec = WinRecord::new();
        while let Ok(true) = rdr.read_record(&mut rec) {
            windows_record(&rec, &mut lineage);
        }
        check_win_stats(rdr.stats());
    }
    let _ = lineage.build();
    let _ = std::fs::remove_file(&path);
}

/// The analyzer on arbitrary timestamps and sizes: 12 bytes an event (i64 µs, u32 bytes); the
/// first byte picks sizes on/off and the minimum event count.
pub fn analyzer(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut ts = Vec::with_capacity(rest.len() / 12);
    let mut sizes = Vec::with_capacity(rest.len() / 12);
    for c in rest.chunks_exact(12) {
        let mut t = [0u8; 8];
        t.copy_from_slice(&c[..8]);
        let mut s = [0u8; 4];
        s.copy_from_slice(&c[8..]);
        // Small values as often as extreme ones: the top flag bit scales timestamps to seconds.
        let t = i64::from_le_bytes(t);
        ts.push(if flags & 0x80 != 0 { t >> 32 } else { t });
        sizes.push(u64::from(u32::from_le_bytes(s)));
    }
    let mut analyzer = Analyzer::new(AnalyzerConfig::default());
    let report = analyzer.score(&ts, (flags & 1 != 0).then_some(&sizes[..]));
    assert!(
        report.score.is_finite() && (0.0..=1.0).contains(&report.score),
        "{report:?}"
    );
    assert!(
        report.p_value.is_finite() && (0.0..=1.0).contains(&report.p_value),
        "{report:?}"
    );
    let _ = report.explain();
    // The same series scored twice by one analyzer gives the same report (scratch reuse).
    let again = analyzer.score(&ts, (flags & 1 != 0).then_some(&sizes[..]));
    assert_eq!(report.score.to_bits(), again.score.to_bits());
}

/// `data` gzip-compressed; `cut` bytes of it dropped from the end (a truncated stream) or,
/// with `garbage`, text appended after it (trailing garbage).
fn gzip(data: &[u8], cut: usize, garbage: bool) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut z = match enc.write_all(data).and_then(|()| enc.try_finish()) {
        Ok(()) => enc.get_ref().clone(),
        Err(_) => return Vec::new(),
    };
    z.truncate(z.len().saturating_sub(cut));
    if garbage {
        z.extend_from_slice(b"not gzip\n");
    }
    z
}

/// The first byte of a reader-layer input: how the rest is presented.
struct Presentation {
    gzip: bool,
    strict: bool,
    records: bool,
    cut: usize,
    garbage: bool,
}

impl Presentation {
    fn of(flags: u8) -> Presentation {
        Presentation {
            gzip: flags & 1 != 0,
            strict: flags & 2 != 0,
            records: flags & 4 != 0,
            // Bits 3..5: drop 0, 1, 4, 9, … bytes of the gzip stream (its trailer, then data).
            cut: usize::from((flags >> 3) & 7).pow(2),
            garbage: flags & 0x40 != 0,
        }
    }

    fn bytes(&self, data: &[u8]) -> Vec<u8> {
        if self.gzip {
            gzip(data, self.cut, self.garbage)
        } else {
            data.to_vec()
        }
    }

    fn options(&self) -> ReadOptions {
        let mut o = opts();
        o.strict(self.strict);
        o
    }
}

/// Drives a [`beaconstat::Reader`] to its end (connection events, or Windows records), then
/// checks its counts, each file's and the total's.
fn drive_reader(mut r: beaconstat::Reader, records: bool) {
    if records {
        if r.for_each_record(|_| {}).is_ok() {
            let st = r.stats();
            assert_eq!(
                st.records,
                st.events + st.skipped + st.ignored,
                "every record counted: {st:?}"
            );
        }
        return;
    }
    let mut grouper = Grouper::new(GroupBy::PairPort);
    let clean_end = loop {
        match r.next_event() {
            Ok(Some(e)) => touch(&e, &mut grouper),
            Ok(None) => break true,
            Err(_) => break false,
        }
    };
    let total = r.stats();
    check_read_stats(&total, clean_end, grouper.finish().events());
    // The total is the sum of the files.
    let files = r.files();
    assert_eq!(files.iter().map(|f| f.records).sum::<u64>(), total.records);
    assert_eq!(files.iter().map(|f| f.skipped).sum::<u64>(), total.skipped);
    for f in &files {
        check_read_stats(f, clean_end, f.events as usize);
    }
}

/// The reader layer on one stream: format detection (`ReadOptions::from_reader`: Zeek TSV or
/// JSON, CSV with any separator, Windows event JSON), then the reader it picked. The first
/// byte says how the rest is presented (see [`Presentation`]): plain or gzip (whole,
/// truncated, or with trailing garbage), lenient or strict, read as connections or as Windows
/// records.
pub fn reader(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let p = Presentation::of(flags);
    let Ok(r) = p.options().from_reader(std::io::Cursor::new(p.bytes(rest))) else {
        return;
    };
    drive_reader(r, p.records);
}

/// Names a file of the `inputs` target may take: what the walk and detection key on (Zeek's
/// `conn`/`dns` prefixes, `.gz`, `.csv`, `.json`, other names).
const FILE_NAMES: [&str; 8] = [
    "conn.log",
    "conn.01.log.gz",
    "flows.csv",
    "events.json",
    "dns.log",
    "stats.log.gz",
    "notes.txt",
    "x",
];

/// The reader layer over a directory: the input split at NUL bytes into up to four files,
/// each named by its first byte ([`FILE_NAMES`]; `.gz` names are gzip-compressed, truncated
/// when bit 3 is set), then `Inputs::scan` (walk, detection, passed-over files, copies) and a
/// `Reader` over what it found.
pub fn inputs(data: &[u8]) {
    let dir = std::env::temp_dir().join(format!("beaconstat-fuzz-inputs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (i, part) in data.splitn(4, |&b| b == 0).enumerate() {
        let Some((&kind, body)) = part.split_first() else {
            continue;
        };
        let name = FILE_NAMES[usize::from(kind & 7)];
        let sub = dir.join(i.to_string());
        let bytes = if name.ends_with(".gz") {
            gzip(body, usize::from(kind >> 3 & 1) * 5, false)
        } else {
            body.to_vec()
        };
        if std::fs::create_dir_all(&sub)
            .and_then(|()| std::fs::write(sub.join(name), bytes))
            .is_err()
        {
            return;
        }
    }
    if let Ok(found) = Inputs::scan(&[&dir]) {
        let n = found.logs().len() + found.passed_over().len();
        assert!(n <= 4, "{found:?}");
        drive_reader(opts().open_inputs(&found), false);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
