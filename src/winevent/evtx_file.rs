//! Native `.evtx` files through the `evtx` crate (feature `evtx`).

use super::{WinReadStats, WinRecord};
use crate::error::{Error, Position, Result};
use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Reads a native `.evtx` file record by record into a reusable [`WinRecord`].
///
/// The file is decoded one 64 KiB chunk at a time (memory stays bounded by a chunk's records);
/// the `evtx` crate renders each record as evtx-shaped JSON, which is then flattened like any
/// JSON line. Records or chunks the `evtx` crate cannot decode are counted in [`WinReadStats`]
/// (position `line` 0, `byte` = record id, or the ordinal of the failure), not returned as
/// errors.
///
/// ```text
///   EvtxParser (owns the file) ─▶ chunk (64 KiB) ─▶ JSON strings (this chunk) ─▶ WinRecord
/// ```
pub struct EvtxReader {
    path: PathBuf,
    chunks: evtx::IntoIterChunks<File>,
    settings: Arc<evtx::ParserSettings>,
    pending: VecDeque<core::result::Result<(u64, String), String>>,
    stats: WinReadStats,
    failures: u64,
}

impl core::fmt::Debug for EvtxReader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EvtxReader")
            .field("path", &self.path)
            .field("pending", &self.pending.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl EvtxReader {
    /// Opens a `.evtx` file (single-threaded decoding, no indentation).
    ///
    /// # Errors
    /// [`ErrorKind::Format`](crate::ErrorKind::Format), naming the file, when it cannot be read
    /// or is not an EVTX file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let settings = evtx::ParserSettings::new().num_threads(1).indent(false);
        let parser = evtx::EvtxParser::from_path(&path)
            .map_err(|e| Error::format(format!("{}: {e}", path.display())))?
            .with_configuration(settings.clone());
        Ok(EvtxReader {
            path,
            chunks: parser.into_chunks(),
            settings: Arc::new(settings),
            pending: VecDeque::new(),
            stats: WinReadStats::default(),
            failures: 0,
        })
    }

    /// What has been read and skipped so far.
    pub fn stats(&self) -> &WinReadStats {
        &self.stats
    }

    /// Decodes the next chunk into `pending`; false when there are no more chunks.
    fn next_chunk(&mut self) -> bool {
        let Some(chunk) = self.chunks.next() else {
            return false;
        };
        match chunk {
            Ok(mut data) => match data.parse(Arc::clone(&self.settings)) {
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
            },
            Err(e) => self.pending.push_back(Err(format!("chunk: {e}"))),
        }
        true
    }

    /// Reads the next record into `rec`; `false` at the end.
    ///
    /// # Errors
    /// None at present (bad records are skipped and counted); the signature leaves room.
    pub fn read_record(&mut self, rec: &mut WinRecord) -> Result<bool> {
        loop {
            let Some(item) = self.pending.pop_front() else {
                if self.next_chunk() {
                    continue;
                }
                return Ok(false);
            };
            match item {
                Ok((id, json)) => {
                    rec.clear();
                    rec.line.push_str(&json);
                    rec.position = Position { line: 0, byte: id };
                    match rec.parse_line() {
                        Ok(()) if rec.event_id().is_some() => {
                            self.stats.records += 1;
                            return Ok(true);
                        }
                        Ok(()) => self.stats.skip(rec.position, "no event id"),
                        Err(e) => self.stats.skip(rec.position, e.to_string()),
                    }
                }
                Err(e) => {
                    self.failures += 1;
                    let pos = Position {
                        line: 0,
                        byte: self.failures,
                    };
                    self.stats.skip(pos, format!("{}: {e}", self.path.display()));
                }
            }
        }
    }
}
