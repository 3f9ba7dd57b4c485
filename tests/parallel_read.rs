//! Reading on several threads gives what one reader gives: the same series (key order, times,
//! sizes), the same counts per file and the same skipped records at the same lines and byte
//! offsets, whatever the number of workers and wherever the cuts fall; and
//! `Grouper::merge` of consecutive parts is the grouper fed the whole input.

use beaconstat::read::ParallelRead;
use beaconstat::synth::Scenario;
use beaconstat::{ConnEvent, GroupBy, Grouper, ReadOptions, ReadStats, SeriesSet, SkipReason, Timestamp};
use proptest::prelude::*;
use std::path::PathBuf;

mod common;
use common::temp_dir::TempDir;
use common::windows_log::windows_log;

/// A generated conn.log (about 1.5 MB) with bad lines spread through it: a bad timestamp, a
/// missing source, a short line, a blank line, a data line starting with `#`.
fn zeek_tsv_with_bad_lines() -> String {
    let text = Scenario::builder().hosts(12).days(1.0).seed(7).build().to_zeek_tsv();
    let mut out = String::with_capacity(text.len() + 1024);
    for (i, line) in text.lines().enumerate() {
        out.push_str(line);
        out.push('\n');
        if line.starts_with('#') || i % 997 != 0 {
            continue;
        }
        match (i / 997) % 5 {
            0 => {
                let (_, rest) = line.split_once('\t').unwrap();
                out.push_str(&format!("not-a-time\t{rest}\n"));
            }
            1 => {
                // The source address unset.
                let mut cols: Vec<&str> = line.split('\t').collect();
                cols[2] = "-";
                out.push_str(&cols.join("\t"));
                out.push('\n');
            }
            2 => out.push_str("1.0\tshort\n"),
            3 => out.push('\n'),
            _ => out.push_str("#notadirective\tx\n"),
        }
    }
    out
}

/// The same connections as Zeek JSON lines (and the bad lines as broken JSON).
fn zeek_json(tsv: &str) -> String {
    let mut fields: Vec<&str> = Vec::new();
    let mut out = String::new();
    for line in tsv.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').collect();
            continue;
        }
        if line.starts_with("#separator") || line.starts_with("#set") || line.starts_with("#empty") {
            continue;
        }
        let vals: Vec<&str> = line.split('\t').collect();
        if vals.len() != fields.len() {
            out.push_str("{\"broken\": \n");
            continue;
        }
        let obj: Vec<String> = fields
            .iter()
            .zip(&vals)
            .filter(|(_, v)| **v != "-")
            .map(|(k, v)| match *k {
                "ts" | "id.orig_p" | "id.resp_p" | "orig_bytes" | "resp_bytes" | "duration" => {
                    format!("\"{k}\":{v}")
                }
                _ => format!("\"{k}\":\"{v}\""),
            })
            .collect();
        out.push_str(&format!("{{{}}}\n", obj.join(",")));
    }
    out
}

fn sequential(files: &[PathBuf]) -> (SeriesSet, Vec<ReadStats>, ReadStats) {
    let mut r = ReadOptions::new().open_files(files);
    let mut g = Grouper::new(GroupBy::PairPort);
    r.for_each(|e| g.push(&e)).unwrap();
    (g.finish(), r.files(), r.stats())
}

fn parallel(files: &[PathBuf], workers: usize, min_part: u64) -> (SeriesSet, Vec<ReadStats>, ReadStats, usize) {
    let mut r = ReadOptions::new().open_parallel(files, workers);
    r.min_part_bytes(min_part);
    let read: ParallelRead<Grouper> = r
        .for_each(|| Grouper::new(GroupBy::PairPort), |g, e| g.push(&e))
        .unwrap();
    let stats = read.stats();
    let parts = read.states.len();
    let together = Grouper::finish_parts(read.states.clone());
    let mut states = read.states.into_iter();
    let mut g = states.next().unwrap();
    states.for_each(|p| g.merge(p));
    let set = g.finish();
    assert!(together == set, "finish_parts differs from merge + finish");
    // Parts from a queue, each finished where it was read, the sets joined in order.
    let queued = r
        .for_each_part(
            || Grouper::new(GroupBy::PairPort),
            |g, e| g.push(&e),
            Grouper::finish_and_reset,
        )
        .unwrap();
    assert_eq!(queued.files, read.files, "for_each_part counts differ");
    let queued_set = SeriesSet::concat(queued.states, workers);
    assert!(queued_set == set, "for_each_part + concat differs from merge + finish");
    (set, read.files, stats, parts)
}

/// Every worker count and part size gives the sequential read exactly; returns the most parts
/// any run was cut into.
fn assert_same_as_sequential(files: &[PathBuf]) -> usize {
    let (set, per_file, total) = sequential(files);
    assert!(total.skipped > 0 && set.len() > 10, "{total}");
    let mut most = 0;
    for workers in [1, 2, 3, 4] {
        for min_part in [1, 4096, 100_000, 1 << 30] {
            let (pset, pfiles, ptotal, parts) = parallel(files, workers, min_part);
            assert_eq!(pfiles, per_file, "{workers} workers, parts ≥ {min_part} B");
            assert_eq!(ptotal, total, "{workers} workers, parts ≥ {min_part} B");
            assert!(pset == set, "{workers} workers, parts ≥ {min_part} B: series differ");
            most = most.max(parts);
        }
    }
    most
}

#[test]
fn zeek_tsv_cut_anywhere_reads_as_one() {
    let dir = TempDir::new("parallel-tsv");
    let text = zeek_tsv_with_bad_lines();
    let path = dir.write("conn.log", text.as_bytes());
    assert_eq!(assert_same_as_sequential(std::slice::from_ref(&path)), 4);
    // The skipped lines are where they are in the file.
    let (_, _, total, parts) = parallel(std::slice::from_ref(&path), 4, 4096);
    assert_eq!(parts, 4);
    let lines: Vec<&str> = text.lines().collect();
    for s in &total.skipped_samples {
        let line = lines[s.position.line as usize - 1];
        let at = &text[s.position.byte as usize..];
        assert!(at.starts_with(line), "{s}: byte offset points elsewhere");
        match s.reason {
            SkipReason::BadTimestamp => assert!(line.starts_with("not-a-time"), "{s}: {line}"),
            SkipReason::FieldCount => assert!(line == "1.0\tshort" || line.starts_with('#'), "{s}: {line}"),
            SkipReason::MissingField => assert!(line.contains("\t-\t"), "{s}: {line}"),
            r => panic!("unexpected {r}: {s}"),
        }
    }
    assert!(total.skipped_samples.len() >= 8, "{total}");
}

#[test]
fn windows_json_cut_anywhere_reads_as_one() {
    let dir = TempDir::new("parallel-windows");
    let path = dir.write("events.json", &windows_log(3_000, true));
    // Sysmon 3 connections among task and process events, and bad lines of five kinds.
    let (set, _, total) = sequential(std::slice::from_ref(&path));
    assert_eq!((total.events, total.ignored, total.skipped), (1_000, 2_000, 124));
    assert_eq!(set.events(), 1_000);
    assert_eq!(assert_same_as_sequential(std::slice::from_ref(&path)), 4);
}

#[test]
fn zeek_json_cut_anywhere_reads_as_one() {
    let dir = TempDir::new("parallel-json");
    let path = dir.write("conn.json", zeek_json(&zeek_tsv_with_bad_lines()).as_bytes());
    assert_eq!(assert_same_as_sequential(&[path]), 4);
}

#[test]
fn a_header_block_in_the_middle_is_read_in_order() {
    // Two logs concatenated, the second with its columns in another order: a cut after the
    // second header must not read the second half with the first header. The read is done
    // again with the file uncut, and comes out as the sequential one.
    let dir = TempDir::new("parallel-blocks");
    let first = zeek_tsv_with_bad_lines();
    let second: String = {
        let s = Scenario::builder().hosts(5).days(0.5).seed(9).build().to_zeek_tsv();
        let mut out = String::new();
        let mut order: Vec<usize> = Vec::new();
        for line in s.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            if let Some(rest) = line.strip_prefix("#fields\t") {
                let n = rest.split('\t').count();
                order = (0..n).rev().collect();
                let names: Vec<&str> = rest.split('\t').collect();
                let rev: Vec<&str> = order.iter().map(|&i| names[i]).collect();
                out.push_str(&format!("#fields\t{}\n", rev.join("\t")));
            } else if line.starts_with('#') {
                out.push_str(line);
                out.push('\n');
            } else {
                let rev: Vec<&str> = order.iter().filter_map(|&i| cols.get(i).copied()).collect();
                out.push_str(&rev.join("\t"));
                out.push('\n');
            }
        }
        out
    };
    let path = dir.write("conn.log", format!("{first}{second}{first}").as_bytes());
    assert_same_as_sequential(&[path]);
}

#[test]
fn many_files_plain_and_gzip_read_as_one() {
    use std::io::Write;
    let dir = TempDir::new("parallel-files");
    let text = zeek_tsv_with_bad_lines();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let files = vec![
        dir.write("conn.00.log", text.as_bytes()),
        dir.write("conn.01.log.gz", &gz.finish().unwrap()),
        dir.write("conn.02.log", zeek_json(&text).as_bytes()),
        dir.write("conn.03.log", b""),
        dir.write("conn.04.log", text.as_bytes()),
    ];
    let missing = dir.0.join("conn.05.log"); // counted as not read, in its place
    let mut all = files.clone();
    all.insert(2, missing);
    assert!(assert_same_as_sequential(&all) >= 4);
}

fn events_of(spec: &[(u8, u8, u16, Option<u16>)]) -> Vec<ConnEvent<'static>> {
    const SRC: [&str; 4] = ["10.0.0.1", "10.0.0.2", "fe80::1234:5678:9abc:def0", "host-a"];
    const DST: [&str; 3] = ["198.51.100.9", "203.0.113.77", "2001:db8::1:2:3:4:5"];
    spec.iter()
        .map(|&(s, d, t, size)| {
            let e = ConnEvent::new(
                Timestamp::from_secs(i64::from(t % 97)),
                SRC[s as usize % 4],
                DST[d as usize % 3],
            )
            .with_dst_port(443 + u16::from(d % 2));
            match size {
                // Some sizes past 4 GiB: a part's size column widens.
                Some(z) if z % 13 == 0 => e.with_bytes(u64::from(z) << 33, 0),
                Some(z) => e.with_bytes(u64::from(z) * 1000, 0),
                None => e,
            }
        })
        .collect()
}

proptest! {
    /// Groupers over consecutive parts, merged in order (or finished together with
    /// `finish_parts`), finish as one grouper over the whole: same keys in the same order,
    /// same times and sizes, same size presence.
    #[test]
    fn merged_parts_finish_as_the_whole(
        spec in prop::collection::vec((0u8..4, 0u8..3, any::<u16>(), prop::option::of(any::<u16>())), 0..300),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        by_pair in any::<bool>(),
    ) {
        let events = events_of(&spec);
        let group_by = || if by_pair { GroupBy::Pair } else { GroupBy::HostProcessDst };
        let mut whole = Grouper::new(group_by());
        events.iter().for_each(|e| whole.push(e));
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(events.len() + 1)).collect();
        at.push(0);
        at.push(events.len());
        at.sort_unstable();
        let groupers: Vec<Grouper> = at.windows(2).map(|w| {
            let mut g = Grouper::new(group_by());
            events[w[0]..w[1]].iter().for_each(|e| g.push(e));
            g
        }).collect();
        let together = Grouper::finish_parts(groupers.clone());
        let sets: Vec<SeriesSet> = groupers.iter().cloned().map(Grouper::finish).collect();
        let joined = SeriesSet::concat(sets, cuts.len() + 1);
        let mut parts = groupers.into_iter();
        let mut merged = parts.next().unwrap();
        parts.for_each(|p| merged.merge(p));
        prop_assert_eq!(merged.keys(), whole.keys());
        prop_assert_eq!(merged.events(), whole.events());
        let whole = whole.finish();
        prop_assert_eq!(merged.finish(), whole.clone());
        prop_assert_eq!(together, whole.clone());
        prop_assert_eq!(joined, whole);
    }
}

#[test]
fn merge_widens_past_65536_keys() {
    // Each part alone fits 16-bit ids; merged they do not.
    let names: Vec<String> = (0..100_000)
        .map(|i| format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255))
        .collect();
    let events: Vec<ConnEvent<'_>> = names
        .iter()
        .enumerate()
        .map(|(i, s)| ConnEvent::new(Timestamp::from_secs(i as i64), s, "198.51.100.9"))
        .collect();
    let mut whole = Grouper::new(GroupBy::Pair);
    events.iter().for_each(|e| whole.push(e));
    let (mut a, mut b) = (Grouper::new(GroupBy::Pair), Grouper::new(GroupBy::Pair));
    events[..50_000].iter().for_each(|e| a.push(e));
    events[50_000..].iter().for_each(|e| b.push(e));
    let together = Grouper::finish_parts(vec![a.clone(), b.clone()]);
    a.merge(b);
    let (set, want) = (a.finish(), whole.finish());
    assert_eq!(set.len(), 100_000);
    assert!(set == want);
    assert!(together == want, "finish_parts differs");
}
