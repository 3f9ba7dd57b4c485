//! Native `.evtx` files through the `evtx` crate (feature `evtx`).

use super::WinRecord;
use crate::error::{Error, Position, Result};
use crate::read::options::ReadOptions;
use crate::read::stats::{ReadStats, SkipReason};
use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const FILE_HEADER: u64 = 4096;
const CHUNK: u64 = 65536;

/// What the file's own headers say it should hold, read before decoding, so a truncated file
/// can say how many records its damaged part held.
#[derive(Debug, Clone, Copy, Default)]
struct Layout {
    len: u64,
    // The file header's chunk count and next record id.
    chunk_count: u64,
    next_record_id: u64,
    // The partial chunk at the end of a truncated file: its header's last record id, when its
    // header survived.
    partial_last_id: Option<u64>,
    partial_first_id: Option<u64>,
}

impl Layout {
    fn read(path: &Path) -> Option<Layout> {
        let mut f = File::open(path).ok()?;
        let len = f.metadata().ok()?.len();
        let mut head = [0u8; 128];
        f.read_exact(&mut head).ok()?;
        let u64_at = |b: &[u8], at: usize| {
            b.get(at..at + 8)
                .and_then(|s| s.try_into().ok())
                .map(u64::from_le_bytes)
        };
        let chunk_count = u64::from(u16::from_le_bytes([head[42], head[43]]));
        let next_record_id = u64_at(&head, 24)?;
        let mut layout = Layout {
            len,
            chunk_count,
            next_record_id,
            ..Layout::default()
        };
        let full = len.saturating_sub(FILE_HEADER) / CHUNK;
        let partial_at = FILE_HEADER + full * CHUNK;
        if len > partial_at + 40 {
            use std::io::{Seek, SeekFrom};
            let mut ch = [0u8; 40];
            if f.seek(SeekFrom::Start(partial_at)).is_ok()
                && f.read_exact(&mut ch).is_ok()
                && ch.starts_with(b"ElfChnk\0")
            {
                layout.partial_first_id = u64_at(&ch, 24);
                layout.partial_last_id = u64_at(&ch, 32);
            }
        }
        Some(layout)
    }

    /// Whether the file ends before the chunks its header counts, or inside a chunk.
    fn truncated(&self) -> bool {
        let body = self.len.saturating_sub(FILE_HEADER);
        !body.is_multiple_of(CHUNK) || self.len < FILE_HEADER + self.chunk_count * CHUNK
    }
}

/// Reads a native `.evtx` file record by record into a reusable [`WinRecord`].
///
/// The file is decoded one 64 KiB chunk at a time (memory stays bounded by a chunk's records);
/// the `evtx` crate renders each record as evtx-shaped JSON, which is then flattened like any
/// JSON line. Records or chunks the `evtx` crate cannot decode are counted in [`ReadStats`]
/// ([`SkipReason::BadRecord`]; position `line` 0, `byte` = record id, or the ordinal of the
/// failure), not returned as errors unless strict. A file that ends early (a partial last
/// chunk, or fewer chunks than its header counts) has the records of its damaged part, taken
/// from the chunk and file headers, counted as [`SkipReason::Truncated`].
///
/// ```text
///   EvtxParser (owns the file) ─▶ chunk (64 KiB) ─▶ JSON strings (this chunk) ─▶ WinRecord
/// ```
pub struct EvtxReader {
    chunks: evtx::IntoIterChunks<File>,
    settings: Arc<evtx::ParserSettings>,
    pending: VecDeque<core::result::Result<(u64, String), String>>,
    stats: ReadStats,
    strict: bool,
    max_record_len: usize,
    failures: u64,
    layout: Option<Layout>,
    // The largest record id of the whole chunks decoded.
    last_full_id: u64,
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
    /// or is not an EVTX file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_path_with(path, &ReadOptions::default())
    }

    /// Opens a `.evtx` file with `opts` (strict mode; the cap on a record's rendered JSON).
    ///
    /// # Errors
    /// As [`from_path`](EvtxReader::from_path).
    pub fn from_path_with(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<Self> {
        let path: PathBuf = path.as_ref().to_path_buf();
        let settings = evtx::ParserSettings::new().num_threads(1).indent(false);
        let parser = evtx::EvtxParser::from_path(&path)
            .map_err(|e| Error::format(format!("{}: {e}", path.display())))?
            .with_configuration(settings.clone());
        Ok(EvtxReader {
            chunks: parser.into_chunks(),
            settings: Arc::new(settings),
            pending: VecDeque::new(),
            stats: ReadStats::for_path(Some(&path)),
            strict: opts.strict,
            max_record_len: opts.max_record_len,
            failures: 0,
            layout: Layout::read(&path),
            last_full_id: 0,
            done: false,
        })
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
        let Some(chunk) = self.chunks.next() else {
            return false;
        };
        match chunk {
            Ok(mut data) => {
                self.last_full_id = self.last_full_id.max(data.header.last_event_record_id);
                match data.parse(Arc::clone(&self.settings)) {
                    Ok(mut chunk) => {
                        for r in chunk.iter() {
                            let item = r
                                .and_then(|rec| rec.into_json())
                                .map(|s| (s.event_record_id, s.data))
                                .map_err(|e| e.to_string());
                            self.pending.push_back(item);
                        }
                    }
                    Err(e) => self.pending.push_back(Err(format!("chunk: {e}"))),
                }
            }
            Err(e) => self.pending.push_back(Err(format!("chunk: {e}"))),
        }
        true
    }

    /// At the end: the records a truncated file's damaged part held, from its headers.
    fn count_truncation(&mut self) -> Result<()> {
        let Some(l) = self.layout.filter(Layout::truncated) else {
            return Ok(());
        };
        let expected_last = l.next_record_id.saturating_sub(1).max(l.partial_last_id.unwrap_or(0));
        let before = if self.last_full_id > 0 {
            self.last_full_id
        } else {
            l.partial_first_id.unwrap_or(1).saturating_sub(1)
        };
        let lost = expected_last.saturating_sub(before);
        let detail = format!(
            "file truncated: {} bytes where its header counts {} chunks ({} bytes); {lost} records of the missing part not read",
            l.len,
            l.chunk_count,
            FILE_HEADER + l.chunk_count * CHUNK
        );
        let at = Position {
            line: 0,
            byte: before + 1,
        };
        if self.strict {
            return Err(Error::parse(at, None, None, detail));
        }
        // Even with no record count recoverable, the damage is said once.
        self.stats.skip_detail(lost.max(1), at, SkipReason::Truncated, detail);
        Ok(())
    }

    /// Reads the next record into `rec`; `false` at the end.
    ///
    /// # Errors
    /// In strict mode, the first undecodable record and a truncated file; otherwise none (bad
    /// records are skipped and counted).
    pub fn read_record(&mut self, rec: &mut WinRecord) -> Result<bool> {
        loop {
            let Some(item) = self.pending.pop_front() else {
                if self.next_chunk() {
                    continue;
                }
                if !self.done {
                    self.done = true;
                    self.count_truncation()?;
                }
                return Ok(false);
            };
            self.stats.records += 1;
            match item {
                Ok((id, json)) => {
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
                Err(e) => {
                    self.failures += 1;
                    let pos = Position {
                        line: 0,
                        byte: self.failures,
                    };
                    self.reject(pos, SkipReason::BadRecord, Some(&e))?;
                }
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
