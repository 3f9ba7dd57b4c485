//! Native `.evtx` files through the `evtx` crate (feature `evtx`).

use super::{ReadStats, WinRecord};
use crate::error::{Error, Position, Result};
use std::path::{Path, PathBuf};

/// Reads a native `.evtx` file record by record into a reusable [`WinRecord`] (the `evtx`
/// crate renders each record as evtx-shaped JSON, which is then flattened like any JSON line).
///
/// Records the `evtx` crate cannot decode are counted in [`ReadStats`] with their record
/// number (record id, or ordinal for undecodable ones) as the position's `byte` (there are no lines), not returned as errors.
#[derive(Debug)]
pub struct EvtxReader {
    path: PathBuf,
    records: std::vec::IntoIter<core::result::Result<(u64, String), String>>,
    stats: ReadStats,
    index: u64,
}

impl EvtxReader {
    /// Opens and decodes a `.evtx` file (single-threaded; records are decoded up front).
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the file cannot be read,
    /// [`ErrorKind::Format`](crate::ErrorKind::Format) when it is not an EVTX file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let settings = evtx::ParserSettings::new().num_threads(1).indent(false);
        let mut parser = evtx::EvtxParser::from_path(&path)
            .map_err(|e| Error::format(format!("{}: {e}", path.display())))?
            .with_configuration(settings);
        let records: Vec<_> = parser
            .records_json()
            .map(|r| r.map(|r| (r.event_record_id, r.data)).map_err(|e| e.to_string()))
            .collect();
        Ok(EvtxReader {
            path,
            records: records.into_iter(),
            stats: ReadStats::default(),
            index: 0,
        })
    }

    /// What has been read and skipped so far.
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    /// Reads the next record into `rec`; `false` at the end.
    ///
    /// # Errors
    /// None at present (bad records are skipped and counted); the signature leaves room.
    pub fn read_record(&mut self, rec: &mut WinRecord) -> Result<bool> {
        for r in self.records.by_ref() {
            self.index += 1;
            match r {
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
                Err(e) => self.stats.skip(
                    Position {
                        line: 0,
                        byte: self.index,
                    },
                    format!("{}: {e}", self.path.display()),
                ),
            }
        }
        Ok(false)
    }
}
