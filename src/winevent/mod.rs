//! Windows event records from the JSON shapes people export, and (feature `evtx`) from native
//! `.evtx` files.
//!
//! Three JSON shapes are recognised per line, with no configuration:
//!
//! | shape | event id | computer | event data |
//! |---|---|---|---|
//! | evtx_dump / `evtx` crate | `Event.System.EventID` | `Event.System.Computer` | `Event.EventData.*` |
//! | Winlogbeat | `winlog.event_id` | `winlog.computer_name` | `winlog.event_data.*` |
//! | flat NXLog / OTRF | `EventID` | `Hostname` | top-level keys |
//!
//! [`WinEventReader`] reads one JSON object per line into a caller-owned [`WinRecord`]; lines that
//! cannot be parsed are counted in [`WinReadStats`] with their line number and reason (or, in strict
//! mode, returned as errors).

mod decode;
mod json;
mod record;
mod sysmon;

#[cfg(feature = "evtx")]
mod evtx_file;

pub use decode::{EvidenceEvent, EvidenceKind, ProcessEvent, ProcessSource, TaskEvent, TaskEventKind, parse_logon_id};
pub use record::{WinRecord, WinShape, parse_pid};
pub use sysmon::sysmon_conn_event;

#[cfg(feature = "evtx")]
pub use evtx_file::EvtxReader;

use crate::error::{Error, Position, Result};
use std::io::BufRead;
use std::path::Path;

/// How many skipped lines keep their details in [`WinReadStats::skips`] (all are counted).
const MAX_SKIP_DETAILS: usize = 100;

/// A line or record that was not turned into a [`WinRecord`], and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WinSkip {
    /// Where the line starts.
    pub position: Position,
    /// Why it was skipped.
    pub reason: String,
}

/// Counts of what a reader did with its input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WinReadStats {
    /// Records returned.
    pub records: u64,
    /// Blank lines (ignored, not counted as skipped).
    pub blank: u64,
    /// Lines or records skipped (bad JSON, not a Windows event, invalid UTF-8).
    pub skipped: u64,
    /// Details of the first skipped lines (at most 100).
    pub skips: Vec<WinSkip>,
}

impl WinReadStats {
    pub(crate) fn skip(&mut self, position: Position, reason: impl Into<String>) {
        self.skipped += 1;
        if self.skips.len() < MAX_SKIP_DETAILS {
            self.skips.push(WinSkip {
                position,
                reason: reason.into(),
            });
        }
    }

    /// Adds another reader's counts to these.
    pub fn add(&mut self, other: &WinReadStats) {
        self.records += other.records;
        self.blank += other.blank;
        self.skipped += other.skipped;
        for s in &other.skips {
            if self.skips.len() < MAX_SKIP_DETAILS {
                self.skips.push(s.clone());
            }
        }
    }
}

/// Reads JSON-lines Windows events (any of the three shapes) into a reusable [`WinRecord`].
///
/// # Example
/// ```
/// use beaconstat::{WinEventReader, WinRecord};
/// let input = "{\"EventID\":4698,\"Channel\":\"Security\",\"Hostname\":\"H\",\"TaskName\":\"\\\\T\"}\n\
///              not json\n\
///              \n\
///              {\"Event\":{\"System\":{\"EventID\":4699,\"Channel\":\"Security\",\"Computer\":\"H\"},\"EventData\":{\"TaskName\":\"\\\\T\"}}}\n";
/// let mut rdr = WinEventReader::new(input.as_bytes());
/// let mut rec = WinRecord::new();
/// let mut ids = Vec::new();
/// while rdr.read_record(&mut rec)? {
///     ids.push((rec.event_id(), rec.data("TaskName").map(str::to_owned)));
/// }
/// assert_eq!(ids, [(Some(4698), Some(r"\T".into())), (Some(4699), Some(r"\T".into()))]);
/// assert_eq!(rdr.stats().skipped, 1);
/// assert_eq!(rdr.stats().skips[0].position.line, 2);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug)]
pub struct WinEventReader<R> {
    rdr: R,
    line_no: u64,
    byte: u64,
    strict: bool,
    stats: WinReadStats,
    buf: Vec<u8>,
}

impl WinEventReader<std::io::BufReader<std::fs::File>> {
    /// Opens a JSON-lines file.
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) with the path when the file cannot be opened.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let f = std::fs::File::open(path).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
        Ok(Self::new(std::io::BufReader::with_capacity(1 << 16, f)))
    }
}

impl<R: BufRead> WinEventReader<R> {
    /// A reader over `rdr` that skips (and counts) bad lines.
    pub fn new(rdr: R) -> Self {
        WinEventReader {
            rdr,
            line_no: 0,
            byte: 0,
            strict: false,
            stats: WinReadStats::default(),
            buf: Vec::new(),
        }
    }

    /// In strict mode a bad line is returned as an error instead of being skipped.
    pub fn strict(mut self, yes: bool) -> Self {
        self.strict = yes;
        self
    }

    /// What has been read and skipped so far.
    pub fn stats(&self) -> &WinReadStats {
        &self.stats
    }

    /// Reads the next Windows event into `rec`. Returns `false` at end of input.
    ///
    /// A line must be a JSON object with an event id to count as a record.
    ///
    /// # Errors
    /// I/O errors; in strict mode also [`ErrorKind::Parse`](crate::ErrorKind::Parse) with the
    /// line number and byte offset of the bad line.
    pub fn read_record(&mut self, rec: &mut WinRecord) -> Result<bool> {
        loop {
            let mut bytes = core::mem::take(&mut self.buf);
            bytes.clear();
            let start = self.byte;
            let n = self.rdr.read_until(b'\n', &mut bytes).map_err(|e| Error::io(None, e))?;
            if n == 0 {
                self.buf = bytes;
                return Ok(false);
            }
            self.line_no += 1;
            self.byte += n as u64;
            let position = Position {
                line: self.line_no,
                byte: start,
            };
            while let Some(b'\n' | b'\r') = bytes.last() {
                bytes.pop();
            }
            // Strip a UTF-8 byte-order mark on the first line.
            if self.line_no == 1 && bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
                bytes.drain(..3);
            }
            if bytes.iter().all(u8::is_ascii_whitespace) {
                self.stats.blank += 1;
                self.buf = bytes;
                continue;
            }
            // Move the bytes into the record's line buffer without copying; give the record's
            // old buffer back to the reader so both keep their capacity.
            let old = core::mem::take(&mut rec.line).into_bytes();
            match String::from_utf8(bytes) {
                Ok(s) => {
                    rec.line = s;
                    self.buf = old;
                }
                Err(e) => {
                    self.buf = e.into_bytes();
                    rec.line = String::from_utf8(old).unwrap_or_default();
                    if self.strict {
                        return Err(Error::parse(position, None, None, "invalid UTF-8"));
                    }
                    self.stats.skip(position, "invalid UTF-8");
                    continue;
                }
            }
            rec.position = position;
            if let Err(e) = rec.parse_line() {
                if self.strict {
                    return Err(e);
                }
                let reason = match e.kind() {
                    crate::ErrorKind::Parse { reason, .. } => reason.clone(),
                    _ => e.to_string(),
                };
                self.stats.skip(position, reason);
                continue;
            }
            if rec.event_id().is_none() {
                if self.strict {
                    return Err(Error::parse(
                        position,
                        Some("EventID"),
                        None,
                        "no event id: not a Windows event",
                    ));
                }
                self.stats.skip(position, "no event id: not a Windows event");
                continue;
            }
            self.stats.records += 1;
            return Ok(true);
        }
    }
}

/// Reads every Windows event of a file, calling `f` on each: `.evtx` files through the `evtx`
/// crate (feature `evtx`), anything else as JSON lines.
///
/// # Errors
/// I/O errors, and [`ErrorKind::Format`](crate::ErrorKind::Format) for `.evtx` without the
/// `evtx` feature.
pub fn read_windows_events(path: impl AsRef<Path>, mut f: impl FnMut(&WinRecord)) -> Result<WinReadStats> {
    let path = path.as_ref();
    let mut rec = WinRecord::new();
    let is_evtx = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("evtx"));
    if is_evtx {
        #[cfg(feature = "evtx")]
        {
            let mut rdr = EvtxReader::from_path(path)?;
            while rdr.read_record(&mut rec)? {
                f(&rec);
            }
            return Ok(rdr.stats().clone());
        }
        #[cfg(not(feature = "evtx"))]
        {
            return Err(Error::format(format!(
                "{}: reading .evtx needs the `evtx` cargo feature",
                path.display()
            )));
        }
    }
    let mut rdr = WinEventReader::from_path(path)?;
    while rdr.read_record(&mut rec).map_err(|e| with_path(e, path))? {
        f(&rec);
    }
    Ok(rdr.stats().clone())
}

fn with_path(e: Error, path: &Path) -> Error {
    match e.into_kind() {
        crate::ErrorKind::Io { path: None, source } => Error::io(Some(path.to_path_buf()), source),
        k => Error::from(k),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_with_positions_and_strict_mode() {
        let mut input = Vec::new();
        input.extend_from_slice(b"\xEF\xBB\xBF{\"EventID\":1,\"Hostname\":\"a\"}\r\n");
        input.extend_from_slice(b"{\"EventID\":2,\"x\":\"\xFF\"}\n");
        input.extend_from_slice(b"{\"no\":\"id\"}\n");
        input.extend_from_slice(b"   \n");
        input.extend_from_slice(b"{\"EventID\":3}");
        let mut r = WinEventReader::new(input.as_slice());
        let mut rec = WinRecord::new();
        let mut ids = Vec::new();
        while r.read_record(&mut rec).unwrap() {
            ids.push(rec.event_id().unwrap());
        }
        assert_eq!(ids, [1, 3]);
        let s = r.stats();
        assert_eq!((s.records, s.skipped, s.blank), (2, 2, 1));
        assert_eq!(s.skips[0].reason, "invalid UTF-8");
        assert_eq!(s.skips[0].position.line, 2);
        assert_eq!(s.skips[0].position.byte, 33); // 3 (BOM) + 28 + 2 (CRLF)
        assert_eq!(s.skips[1].position.line, 3);

        let mut r = WinEventReader::new(input.as_slice()).strict(true);
        assert!(r.read_record(&mut rec).unwrap());
        let e = r.read_record(&mut rec).unwrap_err();
        assert_eq!(e.position().map(|p| p.line), Some(2));
    }

    #[test]
    fn evtx_without_feature_or_missing_file() {
        let e = read_windows_events("/nonexistent/x.json", |_| {}).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/x.json"), "{e}");
        #[cfg(not(feature = "evtx"))]
        {
            let e = read_windows_events("x.evtx", |_| {}).unwrap_err();
            assert!(e.to_string().contains("evtx"), "{e}");
        }
    }
}
