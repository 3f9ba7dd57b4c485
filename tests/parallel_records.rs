//! `ParallelReader::for_each_record` gives, in order, what one `Reader` gives record by
//! record: the same records at the same lines and byte offsets, the same counts per file and
//! the same skipped records, whatever the number of workers and wherever the chunks are cut;
//! strict mode fails at the same record after the same records.

use beaconstat::winevent::WinRecord;
use beaconstat::{ReadOptions, ReadStats, SkipReason};
use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;

mod common;
use common::temp_dir::TempDir;
use common::windows_log::windows_log;
use std::io::Write;
use std::path::PathBuf;

/// What a record read as: its file, line, byte offset, event id, computer and fields.
type Seen = (usize, u64, u64, Option<u32>, Option<String>, String);

fn seen(file: usize, rec: &WinRecord) -> Seen {
    let p = rec.position();
    let fields: Vec<(&str, &str)> = rec.fields().collect();
    (
        file,
        p.line,
        p.byte,
        rec.event_id(),
        rec.computer().map(str::to_owned),
        format!("{fields:?}"),
    )
}

/// Each file read in turn by one `Reader`, record by record.
fn sequential(files: &[PathBuf], opts: &ReadOptions) -> (Vec<Seen>, Vec<ReadStats>, Option<String>) {
    let mut out = Vec::new();
    let mut stats = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let mut r = opts.open_files([f]);
        if let Err(e) = r.for_each_record(|rec| out.push(seen(i, rec))) {
            return (out, stats, Some(e.to_string()));
        }
        stats.extend(r.files());
    }
    (out, stats, None)
}

/// The files read by `for_each_record` on `workers` workers, chunks of about `part` bytes.
fn parallel(
    files: &[PathBuf],
    opts: &ReadOptions,
    workers: usize,
    part: u64,
) -> (Vec<Seen>, Vec<ReadStats>, Option<String>) {
    let mut reader = opts.open_parallel(files, workers);
    reader.min_part_bytes(part);
    let mut out = Vec::new();
    match reader.for_each_record(|i, rec| out.push(seen(i, rec))) {
        Ok(read) => (out, read.files, None),
        Err(e) => (out, Vec::new(), Some(e.to_string())),
    }
}

fn assert_same(files: &[PathBuf], opts: &ReadOptions, workers: usize, part: u64) {
    let (want, want_stats, want_err) = sequential(files, opts);
    let (got, got_stats, got_err) = parallel(files, opts, workers, part);
    assert_eq!(got_err, want_err, "workers {workers}, parts of {part} bytes");
    assert_eq!(got.len(), want.len(), "workers {workers}, parts of {part} bytes");
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "record {k}, workers {workers}, parts of {part} bytes");
    }
    if want_err.is_none() {
        assert_eq!(got_stats, want_stats, "workers {workers}, parts of {part} bytes");
    }
}

#[test]
fn a_windows_log_cut_anywhere_reads_as_one() {
    let dir = TempDir::new("records-cut");
    let path = dir.write("events.json", &windows_log(3_000, true));
    let opts = ReadOptions::new();
    let (want, stats, _) = sequential(std::slice::from_ref(&path), &opts);
    // The log is what the test means it to be: records, and skipped lines of each kind.
    assert_eq!(want.len(), 3_000);
    assert_eq!(stats.len(), 1);
    assert_eq!(
        (stats[0].records, stats[0].skipped, stats[0].ignored),
        (3_000 + 4 * 31, 4 * 31, 3_000)
    );
    // Broken JSON, and a byte-order mark in the middle (text there, so no JSON).
    assert_eq!(stats[0].by_reason.get(&SkipReason::BadJson), Some(&62));
    assert_eq!(stats[0].by_reason.get(&SkipReason::BadUtf8), Some(&31));
    assert_eq!(want[0].1, 1, "the byte-order mark at the start is not a bad line");
    for workers in [1, 2, 3, 5] {
        for part in [1_000, 4_099, 20_000, 150_000, 10_000_000] {
            assert_same(std::slice::from_ref(&path), &opts, workers, part);
        }
    }
}

#[test]
fn many_files_plain_gzip_and_not_windows_read_in_order() {
    let dir = TempDir::new("records-many");
    let a = dir.write("a.json", &windows_log(1_500, false));
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&windows_log(700, true)).unwrap();
    let b = dir.write("b.json.gz", &gz.finish().unwrap());
    let c = dir.write(
        "conn.log",
        b"#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\n1.0\t10.0.0.1\t203.0.113.9\n",
    );
    let d = dir.write("d.json", &windows_log(2_200, false));
    let files = [a, b, c, d];
    let opts = ReadOptions::new();
    let (want, stats, _) = sequential(&files, &opts);
    assert_eq!(stats.len(), 4);
    assert!(want.iter().any(|s| s.0 == 3) && !want.iter().any(|s| s.0 == 2));
    for workers in [1, 2, 4] {
        for part in [2_048, 30_000, 10_000_000] {
            assert_same(&files, &opts, workers, part);
        }
    }
}

#[test]
fn strict_mode_fails_at_the_same_record() {
    let dir = TempDir::new("records-strict");
    let a = dir.write("a.json", &windows_log(300, false));
    let mut opts = ReadOptions::new();
    opts.strict(true);
    let (want, _, err) = sequential(std::slice::from_ref(&a), &opts);
    assert!(err.is_some(), "the log has bad lines");
    assert!(!want.is_empty());
    for workers in [1, 2, 3] {
        assert_same(std::slice::from_ref(&a), &opts, workers, 1_000);
    }
}

#[test]
fn a_line_over_the_cap_is_skipped_where_it_is() {
    let dir = TempDir::new("records-long");
    let mut log = windows_log(800, false);
    let long = format!("{{\"EventID\":1,\"CommandLine\":\"{}\"}}\n", "a".repeat(5_000));
    let at = log.len() / 2;
    let at = at + log[at..].iter().position(|&b| b == b'\n').unwrap() + 1;
    log.splice(at..at, long.bytes());
    let path = dir.write("long.json", &log);
    let mut opts = ReadOptions::new();
    opts.max_record_len(4_096);
    for part in [3_000, 9_000, 60_000] {
        assert_same(std::slice::from_ref(&path), &opts, 2, part);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any mix of good and bad lines, any chunk size, any number of workers.
    #[test]
    fn any_log_reads_as_one(
        picks in prop::collection::vec(0u8..8, 0..400),
        part in 64u64..4_000,
        workers in 1usize..5,
    ) {
        let mut log = Vec::new();
        for (i, p) in picks.iter().enumerate() {
            let line: &[u8] = match p {
                0..=2 => b"{\"EventID\":4688,\"Hostname\":\"H\"}\n",
                3 => b"{\"EventID\":3,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Hostname\":\"H\",\"SourceIp\":\"10.0.0.1\",\"DestinationIp\":\"203.0.113.9\"}\r\n",
                4 => b"\n",
                5 => b"{\"EventID\":\n",
                6 => b"\xEF\xBB\xBF{\"EventID\":1}\n",
                _ => b"\xff\n",
            };
            log.extend_from_slice(line);
            if i % 13 == 12 {
                log.extend_from_slice(format!("{{\"EventID\":{i}}}\n").as_bytes());
            }
        }
        let dir = TempDir::new(&format!("records-prop-{part}-{workers}-{}", picks.len()));
        let path = dir.write("p.json", &log);
        let opts = ReadOptions::new();
        let (want, want_stats, want_err) = sequential(std::slice::from_ref(&path), &opts);
        let (got, got_stats, got_err) = parallel(std::slice::from_ref(&path), &opts, workers, part);
        prop_assert_eq!(got_err, want_err);
        prop_assert_eq!(got, want);
        prop_assert_eq!(got_stats, want_stats);
    }
}
