//! A damaged-file corpus in the style of the `evtx` crate's tests: truncated, bit-flipped and
//! checksum-broken copies of the real `.evtx` samples (and of two-chunk files built from
//! them), written to a temporary folder, each read by [`EvtxReader`] with the exact count of
//! records read and skipped, and the skip reasons, asserted.
//!
//! The expected counts come from the file's own structure, walked here independently of the
//! reader: chunk headers (record id range, free space offset) and the record chain (magic,
//! size, id). A record is read when it is whole in the damaged file and its chunk header
//! survives; every other record the headers promise is counted as skipped.
#![cfg(feature = "evtx")]
mod common;

use beaconstat::SkipReason;
use beaconstat::winevent::{EvtxReader, WinRecord};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FILE_HEADER: usize = 4096;
const CHUNK: usize = 65536;

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}
fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// CRC-32 (IEEE, reflected), the checksum EVTX headers store.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut c = !0u32;
    for b in parts.iter().flat_map(|p| p.iter()) {
        c ^= u32::from(*b);
        for _ in 0..8 {
            c = if c & 1 == 1 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
        }
    }
    !c
}

/// One record as the structure says: its id and where it lies in the file.
#[derive(Debug, Clone, Copy)]
struct Rec {
    id: u64,
    start: usize,
    end: usize,
}

/// One chunk: its offset in the file, its header's id range and free space offset, and its
/// records walked from the header by their sizes.
#[derive(Debug, Clone)]
struct Chunk {
    offset: usize,
    free: usize,
    recs: Vec<Rec>,
}

/// The structure of an intact file; asserts it is self-consistent (what the expectations rely
/// on): every chunk's records carry exactly its header's ids, and the file header's next
/// record id follows the last one.
fn structure(file: &[u8]) -> Vec<Chunk> {
    assert_eq!(&file[..8], b"ElfFile\0");
    let count = usize::from(u16::from_le_bytes([file[42], file[43]]));
    assert_eq!(file.len(), FILE_HEADER + count * CHUNK);
    let mut chunks = Vec::new();
    for c in 0..count {
        let offset = FILE_HEADER + c * CHUNK;
        let ch = &file[offset..offset + CHUNK];
        assert_eq!(&ch[..8], b"ElfChnk\0");
        let (first, last) = (u64_at(ch, 24), u64_at(ch, 32));
        let free = u32_at(ch, 48) as usize;
        let mut recs = Vec::new();
        let mut at = 512;
        while at < free {
            assert_eq!(&ch[at..at + 4], b"\x2a\x2a\0\0", "record magic at {at}");
            let size = u32_at(ch, at + 4) as usize;
            assert_eq!(u32_at(ch, at + size - 4) as usize, size, "size copy");
            recs.push(Rec {
                id: u64_at(ch, at + 8),
                start: offset + at,
                end: offset + at + size,
            });
            at += size;
        }
        let ids: Vec<u64> = recs.iter().map(|r| r.id).collect();
        assert_eq!(ids, (first..=last).collect::<Vec<_>>());
        chunks.push(Chunk { offset, free, recs });
    }
    let last = chunks.iter().flat_map(|c| &c.recs).map(|r| r.id).max().unwrap();
    assert_eq!(u64_at(file, 24), last + 1, "file header's next record id");
    chunks
}

fn records(chunks: &[Chunk]) -> Vec<Rec> {
    chunks.iter().flat_map(|c| c.recs.iter().copied()).collect()
}

/// Writes the chunk and file header checksums of `file` as Windows does.
fn seal(file: &mut [u8]) {
    let count = usize::from(u16::from_le_bytes([file[42], file[43]]));
    for c in 0..count {
        let ch = &mut file[FILE_HEADER + c * CHUNK..][..CHUNK];
        let free = u32_at(ch, 48) as usize;
        let events = crc32(&[&ch[512..free]]);
        put_u32(ch, 52, events);
        let header = crc32(&[&ch[..120], &ch[128..512]]);
        put_u32(ch, 124, header);
    }
    let h = crc32(&[&file[..120]]);
    put_u32(file, 124, h);
}

/// A multi-chunk log built from single-chunk samples: their chunks one after another, record
/// ids renumbered to run on, headers and checksums rewritten.
fn compose(parts: &[&[u8]]) -> Vec<u8> {
    let mut file = parts[0][..FILE_HEADER].to_vec();
    let mut next = 1u64;
    for part in parts {
        let mut ch = part[FILE_HEADER..FILE_HEADER + CHUNK].to_vec();
        let first = next;
        let free = u32_at(&ch, 48) as usize;
        let mut at = 512;
        while at < free {
            put_u64(&mut ch, at + 8, next);
            next += 1;
            at += u32_at(&ch, at + 4) as usize;
        }
        for (field, v) in [(8, first), (16, next - 1), (24, first), (32, next - 1)] {
            put_u64(&mut ch, field, v);
        }
        file.extend_from_slice(&ch);
    }
    put_u64(&mut file, 8, 0);
    put_u64(&mut file, 16, parts.len() as u64 - 1);
    put_u64(&mut file, 24, next);
    file[42..44].copy_from_slice(&(parts.len() as u16).to_le_bytes());
    seal(&mut file);
    // The checksums written here are the ones the `evtx` crate checks.
    let parser = evtx::EvtxParser::from_buffer(file.clone()).unwrap();
    assert!(parser.header().validate_checksum());
    for c in 0..parts.len() {
        let ch = file[FILE_HEADER + c * CHUNK..][..CHUNK].to_vec();
        assert!(evtx::EvtxChunkData::new(ch, true).is_ok(), "chunk {c} checksums");
    }
    file
}

/// What the reader made of a file: the ids it handed out and its skip counts per reason.
#[derive(Debug)]
struct Outcome {
    ids: Vec<u64>,
    skipped: BTreeMap<SkipReason, u64>,
    records: u64,
    details: Vec<String>,
}

fn read(path: &Path) -> Outcome {
    let mut rdr = EvtxReader::from_path(path).unwrap();
    let mut rec = WinRecord::new();
    let mut ids = Vec::new();
    while rdr.read_record(&mut rec).unwrap() {
        ids.push(rec.position().byte); // the record header's id (the rendered EventRecordID is the exporting log's)
    }
    let st = rdr.stats();
    assert_eq!(st.records, st.events + st.skipped, "{st}");
    assert_eq!(st.events as usize, ids.len());
    Outcome {
        ids,
        skipped: st.by_reason.clone(),
        records: st.records,
        details: st.skipped_samples.iter().filter_map(|s| s.detail.clone()).collect(),
    }
}

/// A scratch folder for the damaged copies, removed when dropped.
struct Scratch(PathBuf);
impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("beaconstat-damaged-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}
impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// Asserts the reader handed out exactly `want` (ids, in order) and skipped exactly `skips`.
#[track_caller]
fn assert_outcome(what: &str, got: &Outcome, want: &[u64], skips: &[(SkipReason, u64)]) {
    assert_eq!(got.ids, want, "{what}: ids read ({got:?})");
    let skips: BTreeMap<SkipReason, u64> = skips.iter().copied().filter(|s| s.1 > 0).collect();
    assert_eq!(got.skipped, skips, "{what}: skips ({got:?})");
}

/// The samples: every real `.evtx` of both folders, plus two-chunk and three-chunk logs built
/// from them. `None` (with a notice) when the data is absent.
fn samples() -> Option<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for dir in ["tasks_evtx_attack", "tasks_evtx_mitre"] {
        let dir = common::data(dir)?;
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "evtx"))
            .collect();
        names.sort();
        for p in names {
            out.push((
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
    assert_eq!(out.len(), 14, "the two sample folders hold 14 files");
    let by = |n: &str| out.iter().find(|s| s.0.starts_with(n)).unwrap().1.clone();
    let (atsvc, atexec, fast) = (
        by("LM_ScheduledTask_ATSVC"),
        by("ID4688_4698_4699_5145_4624-ATexec"),
        by("ID4698-4699-Fast"),
    );
    out.push(("two_chunks.evtx".into(), compose(&[&atsvc, &atexec])));
    out.push(("three_chunks.evtx".into(), compose(&[&fast, &atsvc, &atexec])));
    Some(out)
}

/// Truncations at every kind of cut point: inside the file header, inside a chunk header
/// (before and after its record id range), inside a record, at a record's end, between
/// chunks, in the free space after the last record. The complete records before the cut are
/// read; every other record the headers promise is `Truncated`.
#[test]
fn truncated_files_count_every_record_of_the_missing_part() {
    let Some(samples) = samples() else { return };
    let dir = Scratch::new("cut");
    let mut cuts_checked = 0;
    for (name, full) in &samples {
        let chunks = structure(full);
        let recs = records(&chunks);
        let total = recs.len() as u64;
        let mut cuts = vec![100, 2000, FILE_HEADER];
        for c in &chunks {
            cuts.extend([c.offset, c.offset + 20, c.offset + 300]);
            let n = c.recs.len();
            for r in [c.recs[0], c.recs[n / 2], c.recs[n - 1]] {
                cuts.extend([r.start + (r.end - r.start) / 2, r.end, r.end - 1]);
            }
            cuts.push(c.offset + c.free + 100);
        }
        cuts.push(full.len() - 1);
        cuts.sort_unstable();
        cuts.dedup();
        for cut in cuts {
            let path = dir.write(&format!("{name}.cut{cut}"), &full[..cut]);
            let got = read(&path);
            let want: Vec<u64> = recs.iter().filter(|r| r.end <= cut).map(|r| r.id).collect();
            let lost = total - want.len() as u64;
            assert_outcome(
                &format!("{name} cut at {cut}"),
                &got,
                &want,
                &[(SkipReason::Truncated, lost)],
            );
            if lost > 0 {
                assert!(
                    got.details.iter().any(|d| d.contains("truncated at byte")),
                    "{:?}",
                    got.details
                );
            }
            cuts_checked += 1;
        }
    }
    assert!(cuts_checked > 250, "{cuts_checked}");

    // Cut inside the file header before its record count (byte 24): the damage said once.
    let (name, full) = &samples[0];
    let got = read(&dir.write("tiny.evtx", &full[..20]));
    assert_outcome(&format!("{name} cut at 20"), &got, &[], &[(SkipReason::Truncated, 1)]);
    // Under 8 bytes the file is not recognisable: a format error, not an empty read.
    let err = EvtxReader::from_path(dir.write("magic.evtx", &full[..6])).unwrap_err();
    assert!(matches!(err.kind(), beaconstat::ErrorKind::Format { .. }), "{err}");

    // Strict mode: the first truncation is an error saying so.
    let two = &samples.iter().find(|s| s.0 == "two_chunks.evtx").unwrap().1;
    let cut = FILE_HEADER + CHUNK + 6000;
    let before = records(&structure(two)).iter().filter(|r| r.end <= cut).count() as u64;
    assert!(before > 34, "the cut leaves whole records in chunk 2");
    let path = dir.write("strict.evtx", &two[..cut]);
    let mut opts = beaconstat::ReadOptions::new();
    opts.strict(true);
    let mut rdr = EvtxReader::from_path_with(&path, &opts).unwrap();
    let mut rec = WinRecord::new();
    let err = loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => panic!("strict read of a truncated file ended without an error"),
            Err(e) => break e,
        }
    };
    assert!(err.to_string().contains("truncated"), "{err}");
    assert_eq!(rdr.stats().events, before, "the records before the cut were read first");
}

/// Bit flips at structural places, each with the loss it must be counted as.
#[test]
fn bit_flipped_files_count_the_damaged_records() {
    let Some(samples) = samples() else { return };
    let dir = Scratch::new("flip");
    for (name, full) in samples
        .iter()
        .filter(|s| s.0.contains("chunks") || s.0.starts_with("LM_Sched"))
    {
        let chunks = structure(full);
        let all: Vec<u64> = records(&chunks).iter().map(|r| r.id).collect();
        let without = |gone: &[u64]| all.iter().copied().filter(|i| !gone.contains(i)).collect::<Vec<_>>();
        for c in &chunks {
            let ids: Vec<u64> = c.recs.iter().map(|r| r.id).collect();
            let k = ids.len();
            let mid = k / 2;
            let case = |what: &str, f: &dyn Fn(&mut Vec<u8>)| {
                let mut b = full.clone();
                f(&mut b);
                (
                    format!("{name} chunk at {}: {what}", c.offset),
                    read(&dir.write("f.evtx", &b)),
                )
            };

            // A record's magic: that record is undecodable, the walk resumes at the next one.
            let r = c.recs[mid];
            let (what, got) = case("record magic", &|b| b[r.start] ^= 0x01);
            assert_outcome(&what, &got, &without(&[r.id]), &[(SkipReason::BadRecord, 1)]);

            // A record's size made huge: the record overruns its chunk, the walk resumes at
            // the next record.
            let (what, got) = case("record size", &|b| b[r.start + 7] ^= 0x40);
            assert_outcome(&what, &got, &without(&[r.id]), &[(SkipReason::BadRecord, 1)]);

            // A record's id changed to its chunk's last id: the walk takes it for the last
            // record and stops after it; the records after it are counted, not lost.
            if mid + 1 < k {
                let last = ids[k - 1];
                let (what, got) = case("record id = last id", &|b| put_u64(b, r.start + 8, last));
                let mut want = without(&ids[mid + 1..]);
                let at = want.iter().position(|&i| i == r.id).unwrap();
                want[at] = last;
                assert_outcome(&what, &got, &want, &[(SkipReason::BadRecord, (k - mid - 1) as u64)]);
                assert!(got.details.iter().any(|d| d.contains("not found")), "{:?}", got.details);
            }

            // The chunk's free space offset moved back to a record's start: the walk stops
            // there; the records after it are counted.
            let (what, got) = case("free space offset", &|b| {
                put_u32(b, c.offset + 48, (r.start - c.offset) as u32)
            });
            assert_outcome(
                &what,
                &got,
                &without(&ids[mid..]),
                &[(SkipReason::BadRecord, (k - mid) as u64)],
            );

            // The chunk's magic: the whole chunk is unreadable, its header's count is skipped.
            let (what, got) = case("chunk magic", &|b| b[c.offset + 3] ^= 0x20);
            assert_outcome(&what, &got, &without(&ids), &[(SkipReason::BadRecord, k as u64)]);
            assert!(
                got.details.iter().any(|d| d.contains("damaged chunk header")),
                "{:?}",
                got.details
            );
        }
        // The file's magic: not an EVTX file any more, refused with a format error.
        let mut b = full.clone();
        b[0] ^= 0x04;
        let err = EvtxReader::from_path(dir.write("m.evtx", &b)).unwrap_err();
        assert!(matches!(err.kind(), beaconstat::ErrorKind::Format { .. }), "{err}");
    }
}

/// Broken checksums (file header, chunk header, chunk records) with intact contents: every
/// record is still read (records are decoded and checked one by one; a log not closed cleanly
/// often has a stale chunk checksum), and nothing is skipped.
#[test]
fn checksum_broken_files_are_read_whole() {
    let Some(samples) = samples() else { return };
    let dir = Scratch::new("crc");
    for (name, full) in &samples {
        let chunks = structure(full);
        let all: Vec<u64> = records(&chunks).iter().map(|r| r.id).collect();
        let mut places = vec![("file header CRC", 124)];
        for c in &chunks {
            places.push(("chunk records CRC", c.offset + 52));
            places.push(("chunk header CRC", c.offset + 124));
        }
        for (what, at) in places {
            let mut b = full.clone();
            b[at] ^= 0xFF;
            // The damage is real: the `evtx` crate's own checks see it.
            if at < FILE_HEADER {
                assert!(
                    !evtx::EvtxParser::from_buffer(b.clone())
                        .unwrap()
                        .header()
                        .validate_checksum()
                );
            } else {
                let c = (at - FILE_HEADER) / CHUNK;
                let ch = b[FILE_HEADER + c * CHUNK..][..CHUNK].to_vec();
                assert!(evtx::EvtxChunkData::new(ch, true).is_err(), "{name}: {what}");
            }
            let got = read(&dir.write("c.evtx", &b));
            assert_outcome(&format!("{name}: {what} at {at}"), &got, &all, &[]);
        }
    }
}

/// A bit flipped anywhere in the records of a chunk (one place every 97 bytes, a different bit
/// each time): no panic, and no silent loss: every record of the file is read or inside the
/// skipped count (a flip that splits one record can make two failures of it, never fewer).
#[test]
fn a_flip_anywhere_in_the_records_loses_nothing_silently() {
    let Some(samples) = samples() else { return };
    let dir = Scratch::new("sweep");
    let mut flips = 0;
    for (name, full) in samples
        .iter()
        .filter(|s| s.0.contains("chunks") || s.0.starts_with("ID4688-4698"))
    {
        let chunks = structure(full);
        let total = records(&chunks).len() as u64;
        for c in &chunks {
            for at in (c.offset + 512..c.offset + c.free).step_by(97) {
                let mut b = full.clone();
                b[at] ^= 1 << (at % 8);
                let got = read(&dir.write("s.evtx", &b));
                assert!(
                    got.records >= total,
                    "{name}: flip at {at}: {} records of {total}: {got:?}",
                    got.records
                );
                flips += 1;
            }
        }
    }
    assert!(flips > 500, "{flips}");
}
