//! Native `.evtx` files through the `evtx` crate (feature `evtx`).
//!
//! The file is walked here, chunk by chunk, and each chunk handed to the `evtx` crate to
//! decode, so that what a damaged file held can be counted: the chunk headers say which
//! record ids each chunk holds, the file header which id comes next. Every record id a header
//! promises is either handed out or counted as skipped with a reason.

use super::WinRecord;
use crate::error::{Error, Position, Result};
use crate::input::{ReadOptions, ReadStats, SkipReason};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const FILE_HEADER: u64 = 4096;
const CHUNK: u64 = 65536;
const CHUNK_HEADER: usize = 512;
const FILE_MAGIC: &[u8; 8] = b"ElfFile\0";
const CHUNK_MAGIC: &[u8; 8] = b"ElfChnk\0";
const RECORD_MAGIC: &[u8; 4] = b"\x2a\x2a\0\0";
/// The most records a chunk can hold (each has a 24-byte header and a 4-byte size copy): a
/// header claiming more is damaged, and its range is not believed.
const MAX_CHUNK_RECORDS: u64 = (CHUNK - CHUNK_HEADER as u64) / 28;

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map(u64::from_le_bytes)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_le_bytes)
}

/// The record ids a chunk header says its chunk holds, when they are believable.
fn chunk_range(header: &[u8]) -> Option<(u64, u64)> {
    let (first, last) = (u64_at(header, 24)?, u64_at(header, 32)?);
    (first >= 1 && first <= last && last - first < MAX_CHUNK_RECORDS).then_some((first, last))
}

/// Where the complete records of a chunk cut at `data.len()` end: the record chain walked from
/// the chunk header by each record's size, up to the first record the cut reaches into.
fn complete_records_end(data: &[u8]) -> usize {
    let mut at = CHUNK_HEADER;
    while data.get(at..at + 4) == Some(RECORD_MAGIC) {
        let Some(size) = u32_at(data, at + 4).map(|s| s as usize) else {
            break;
        };
        // A record is at least its header and the copy of its size.
        match at.checked_add(size) {
            Some(end) if size >= 28 && end <= data.len() => at = end,
            _ => break,
        }
    }
    at.min(data.len())
}

/// What the file header says, read before decoding.
#[derive(Debug, Clone, Copy, Default)]
struct FileHeader {
    len: u64,
    // The header's chunk count and next record id (`None` when the file ends before them).
    chunk_count: Option<u64>,
    next_record_id: Option<u64>,
}

impl FileHeader {
    /// Chunks present in the file, the last one possibly partial.
    fn chunks_present(&self) -> u64 {
        self.len.saturating_sub(FILE_HEADER).div_ceil(CHUNK)
    }

    /// Whether the file ends inside its header, inside a chunk, or before the chunks its
    /// header counts.
    fn truncated(&self) -> bool {
        self.len < FILE_HEADER
            || !(self.len - FILE_HEADER).is_multiple_of(CHUNK)
            || self.chunk_count.is_some_and(|n| self.len < FILE_HEADER + n * CHUNK)
    }
}

/// One item decoded from a chunk, waiting to be handed out.
enum Item {
    Record(u64, String),
    /// A record the decoder failed on (where, why).
    Failed(Position, String),
    /// Records a header promises that were not found: how many, where, why.
    Lost(u64, Position, SkipReason, String),
}

/// Reads a native `.evtx` file record by record into a reusable [`WinRecord`].
///
/// The file is decoded one 64 KiB chunk at a time (memory stays bounded by a chunk's records),
/// oldest chunk first as Windows reads a log that has wrapped around; the `evtx` crate renders
/// each record as evtx-shaped JSON, which is then flattened like any JSON line.
///
/// Nothing a damaged file held disappears: each chunk header names the record ids its chunk
/// holds and the file header the next id, and every id they promise is either handed out or
/// counted in [`ReadStats`]:
/// - a record the decoder fails on, a chunk whose header is damaged (all the records it
///   names), and records its header names that the record walk did not reach (a damaged
///   record size or id): [`SkipReason::BadRecord`];
/// - a file that ends early (inside its header, inside a chunk, or before the chunks its
///   header counts): the complete records before the cut are read, the rest are
///   [`SkipReason::Truncated`].
///
/// A checksum that does not match is not by itself a reason to skip: records are decoded and
/// checked one by one, and a log that was not closed cleanly often has a stale chunk checksum.
/// Positions: a record's `byte` is its record id; a skip's is the file offset of the damage.
///
/// ```text
///   file ─▶ chunk (64 KiB, read here) ─▶ evtx crate: JSON strings (this chunk) ─▶ WinRecord
/// ```
pub struct EvtxReader {
    file: File,
    header: FileHeader,
    settings: Arc<evtx::ParserSettings>,
    // Chunk numbers in reading order, and the next one to read.
    order: Vec<u64>,
    next: usize,
    pending: VecDeque<Item>,
    stats: ReadStats,
    strict: bool,
    max_record_len: usize,
    // The largest record id accounted for so far (read, skipped or counted from a header).
    max_id: u64,
    done: bool,
}

impl core::fmt::Debug for EvtxReader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EvtxReader")
            .field("pending", &self.pending.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl EvtxReader {
    /// Opens a `.evtx` file (single-threaded decoding, no indentation) with default settings.
    ///
    /// # Errors
    /// [`ErrorKind::Format`](crate::ErrorKind::Format), naming the file, when it cannot be read
    /// or is not an EVTX file (it does not start with the EVTX magic).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_path_with(path, &ReadOptions::default())
    }

    /// Opens a `.evtx` file with `opts` (strict mode; the cap on a record's rendered JSON).
    ///
    /// # Errors
    /// As [`from_path`](EvtxReader::from_path).
    pub fn from_path_with(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<Self> {
        let path: PathBuf = path.as_ref().to_path_buf();
        let fail = |what: &dyn core::fmt::Display| Error::format(format!("{}: {what}", path.display()));
        let mut file = File::open(&path).map_err(|e| fail(&e))?;
        let len = file.metadata().map_err(|e| fail(&e))?.len();
        let mut head = Vec::with_capacity(128);
        (&mut file).take(128).read_to_end(&mut head).map_err(|e| fail(&e))?;
        if !head.starts_with(FILE_MAGIC) {
            return Err(fail(&"not an EVTX file (no ElfFile magic)"));
        }
        let header = FileHeader {
            len,
            chunk_count: head.get(42..44).map(|b| u64::from(u16::from_le_bytes([b[0], b[1]]))),
            next_record_id: u64_at(&head, 24),
        };
        let order = Self::chunk_order(&mut file, &header).map_err(|e| fail(&e))?;
        let settings = evtx::ParserSettings::new().num_threads(1).indent(false);
        Ok(EvtxReader {
            file,
            header,
            settings: Arc::new(settings),
            order,
            next: 0,
            pending: VecDeque::new(),
            stats: ReadStats::for_path(Some(&path)),
            strict: opts.strict,
            max_record_len: opts.max_record_len,
            max_id: 0,
            done: false,
        })
    }

    /// The chunks in reading order: from the one whose header names the lowest record id to
    /// the end of the file, then from the start (a log that wrapped around writes each new
    /// chunk over its oldest).
    fn chunk_order(file: &mut File, header: &FileHeader) -> std::io::Result<Vec<u64>> {
        let n = header.chunks_present();
        let mut oldest = (u64::MAX, 0);
        let mut ch = [0u8; 40];
        for i in 0..n {
            file.seek(SeekFrom::Start(FILE_HEADER + i * CHUNK))?;
            if file.read_exact(&mut ch).is_err() {
                break;
            }
            if ch.starts_with(CHUNK_MAGIC)
                && let Some((first, _)) = chunk_range(&ch)
                && first < oldest.0
            {
                oldest = (first, i);
            }
        }
        Ok((oldest.1..n).chain(0..oldest.1).collect())
    }

    /// What has been read and skipped so far (`events` = records handed out).
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    pub(crate) fn stats_mut(&mut self) -> &mut ReadStats {
        &mut self.stats
    }

    /// Decodes the next chunk into `pending`; false when there are no more chunks.
    fn next_chunk(&mut self) -> bool {
        let Some(&n) = self.order.get(self.next) else {
            return false;
        };
        self.next += 1;
        let offset = FILE_HEADER + n * CHUNK;
        let at = Position { line: 0, byte: offset };
        let mut data = Vec::with_capacity(CHUNK as usize);
        let read = self
            .file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| (&mut self.file).take(CHUNK).read_to_end(&mut data));
        if let Err(e) = read {
            // The rest of the file cannot be read: said here, and the file header's count
            // says what the rest held.
            self.order.truncate(self.next);
            let detail = format!("read error in chunk {n} at byte {offset}: {e}");
            self.pending.push_back(Item::Lost(1, at, SkipReason::Truncated, detail));
            return true;
        }
        let got = data.len();
        if got == CHUNK as usize && data.iter().all(|&b| b == 0) {
            return true; // an empty chunk in a dirty file holds nothing
        }
        let range = if got >= 40 { chunk_range(&data) } else { None };
        let partial = got < CHUNK as usize;
        if partial {
            // Keep the complete records before the cut; zeroes after them end the walk there.
            let end = complete_records_end(&data);
            data.truncate(end);
            data.resize(CHUNK as usize, 0);
        }
        let (reason, why) = if partial {
            let why = format!("file truncated at byte {} inside chunk {n}", self.header.len);
            (SkipReason::Truncated, why)
        } else {
            (SkipReason::BadRecord, format!("chunk {n} at byte {offset}"))
        };
        let (mut found, mut max_id) = (0u64, 0u64);
        match evtx::EvtxChunkData::new(data, false) {
            Err(e) => {
                let lost = range.map_or(u64::from(!partial), |(a, b)| b - a + 1);
                let ids = range.map_or(String::new(), |(a, b)| format!(" (record ids {a}..={b})"));
                let detail = format!("{why}: damaged chunk header: {e}; its {lost} records{ids} not read");
                self.pending.push_back(Item::Lost(lost, at, reason, detail));
                found = lost;
            }
            Ok(mut chunk_data) => match chunk_data.parse(Arc::clone(&self.settings)) {
                Err(e) => {
                    let lost = range.map_or(1, |(a, b)| b - a + 1);
                    let detail = format!("{why}: undecodable chunk: {e}; its {lost} records not read");
                    self.pending
                        .push_back(Item::Lost(lost, at, SkipReason::BadRecord, detail));
                    found = lost;
                }
                Ok(mut chunk) => {
                    for r in chunk.iter() {
                        found += 1;
                        let item = match r.and_then(|rec| rec.into_json()) {
                            Ok(s) => {
                                max_id = max_id.max(s.event_record_id);
                                Item::Record(s.event_record_id, s.data)
                            }
                            Err(e) => {
                                let byte = match &e {
                                    evtx::err::EvtxError::FailedToReadRecordAt { offset: o, .. } => offset + o,
                                    _ => offset,
                                };
                                Item::Failed(Position { line: 0, byte }, e.to_string())
                            }
                        };
                        self.pending.push_back(item);
                    }
                }
            },
        }
        if let Some((first, last)) = range {
            let missing = (last - first + 1).saturating_sub(found);
            if missing > 0 {
                let detail = format!(
                    "{why}: {missing} of the {} records its header names (ids {first}..={last}) not found",
                    last - first + 1
                );
                self.pending.push_back(Item::Lost(missing, at, reason, detail));
            }
            max_id = max_id.max(last);
        }
        self.max_id = self.max_id.max(max_id);
        true
    }

    /// At the end: the records the file header promises beyond the last id accounted for (the
    /// chunks a truncated file lost, a damaged last chunk header), or the damage said once
    /// when a truncated file keeps no count.
    fn count_tail(&mut self) -> Result<()> {
        let h = self.header;
        let expected_last = h.next_record_id.map_or(0, |n| n.saturating_sub(1));
        // What the chunks the header counts (or those present) can hold, at most.
        let chunks = h.chunk_count.unwrap_or(0).max(h.chunks_present()).max(1);
        let lost = expected_last.saturating_sub(self.max_id);
        // Where the file ends: what the header promises is missing from there on.
        let at = Position { line: 0, byte: h.len };
        let (n, detail) = if lost > 0 && lost <= chunks * MAX_CHUNK_RECORDS {
            let what = if h.truncated() {
                format!("file truncated at byte {}", h.len)
            } else {
                "a damaged chunk".to_owned()
            };
            let detail = format!(
                "{what}: the file header's next record id is {}, the chunks account for ids up to {}; {lost} records not read",
                expected_last + 1,
                self.max_id
            );
            (lost, detail)
        } else if h.truncated() && !self.stats.by_reason.contains_key(&SkipReason::Truncated) && self.max_id == 0 {
            // A cut before any count survived: at least one record is gone.
            (
                1,
                format!(
                    "file truncated at byte {} before any chunk header; its record count is lost",
                    h.len
                ),
            )
        } else {
            return Ok(());
        };
        let reason = if h.truncated() {
            SkipReason::Truncated
        } else {
            SkipReason::BadRecord
        };
        self.lost(n, at, reason, detail)
    }

    fn lost(&mut self, n: u64, at: Position, reason: SkipReason, detail: String) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        if self.strict {
            return Err(Error::parse(at, None, None, detail));
        }
        self.stats.skip_detail(n, at, reason, detail);
        Ok(())
    }

    /// Reads the next record into `rec`; `false` at the end.
    ///
    /// # Errors
    /// In strict mode, the first undecodable record, damaged chunk or truncation; otherwise
    /// none (bad records are skipped and counted).
    pub fn read_record(&mut self, rec: &mut WinRecord) -> Result<bool> {
        loop {
            let Some(item) = self.pending.pop_front() else {
                if self.next_chunk() {
                    continue;
                }
                if !self.done {
                    self.done = true;
                    self.count_tail()?;
                }
                return Ok(false);
            };
            match item {
                Item::Record(id, json) => {
                    self.stats.records += 1;
                    let position = Position { line: 0, byte: id };
                    if json.len() > self.max_record_len {
                        self.reject(position, SkipReason::LineTooLong, None)?;
                        continue;
                    }
                    rec.clear();
                    rec.line.push_str(&json);
                    rec.position = position;
                    match rec.parse_line() {
                        Ok(()) if rec.event_id().is_some() => {
                            self.stats.events += 1;
                            return Ok(true);
                        }
                        Ok(()) => self.reject(position, SkipReason::NotWindowsEvent, None)?,
                        Err(e) => self.reject(position, SkipReason::BadJson, Some(&e.to_string()))?,
                    }
                }
                Item::Failed(position, e) => {
                    self.stats.records += 1;
                    self.reject(position, SkipReason::BadRecord, Some(&e))?;
                }
                Item::Lost(n, position, reason, detail) => self.lost(n, position, reason, detail)?,
            }
        }
    }

    fn reject(&mut self, position: Position, reason: SkipReason, detail: Option<&str>) -> Result<()> {
        if self.strict {
            return Err(Error::parse(position, None, None, detail.unwrap_or(reason.as_str())));
        }
        self.stats.skip_reason(position, reason, detail);
        Ok(())
    }
}
