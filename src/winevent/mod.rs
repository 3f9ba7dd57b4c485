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
//! cannot be parsed are counted in [`ReadStats`] with their position and a typed [`SkipReason`]
//! (or, in strict mode, returned as errors). [`open`](crate::open) and
//! [`read_windows_events`](crate::read::read_windows_events) choose between JSON lines and `.evtx`.

mod decode;
mod decoded;
mod field;
mod json;
mod known;
mod network;
mod process_exit;
mod record;
mod sysmon;

#[cfg(feature = "evtx")]
mod evtx_file;

pub use decode::{
    EvidenceEvent, EvidenceKind, ImageSignature, ProcessEvent, ProcessSource, TaskEvent, TaskEventKind, parse_logon_id,
};
pub(crate) use decoded::{Decoded, Prepared};
pub(crate) use known::Name;
pub use network::{DnsQueryEvent, wfp_conn_event};
pub use process_exit::{ProcessExitEvent, ProcessExitSource};
pub(crate) use record::RecordView;
pub use record::{EventTime, TimeSource, WinRecord, WinShape, parse_pid};
pub use sysmon::sysmon_conn_event;

#[cfg(feature = "evtx")]
pub use evtx_file::EvtxReader;

use crate::error::{Error, Position, Result};
use crate::input::{Lines, ReadOptions, ReadStats, SkipReason};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Reads JSON-lines Windows events (any of the three shapes, plain or gzip) into a reusable
/// [`WinRecord`], with the settings of [`ReadOptions`] (strict mode, buffer size, and a cap on
/// the line length, so a 1 GiB line or an endless stream is read in bounded memory).
///
/// Lines that are not Windows events are counted in [`ReadStats`] with their position and a
/// typed [`SkipReason`] (malformed JSON, invalid UTF-8, no event id, too long); in strict mode
/// the first one is an error.
///
/// # Example
/// ```
/// use beaconstat::{SkipReason, winevent::{WinEventReader, WinRecord}};
/// let input = "{\"EventID\":4698,\"Channel\":\"Security\",\"Hostname\":\"H\",\"TaskName\":\"\\\\T\"}\n\
///              not json\n\
///              \n\
///              {\"Event\":{\"System\":{\"EventID\":4699,\"Channel\":\"Security\",\"Computer\":\"H\"},\"EventData\":{\"TaskName\":\"\\\\T\"}}}\n";
/// let mut rdr = WinEventReader::from_reader(input.as_bytes())?;
/// let mut rec = WinRecord::new();
/// let mut ids = Vec::new();
/// while rdr.read_record(&mut rec)? {
///     ids.push((rec.event_id(), rec.data("TaskName").map(str::to_owned)));
/// }
/// assert_eq!(ids, [(Some(4698), Some(r"\T".into())), (Some(4699), Some(r"\T".into()))]);
/// assert_eq!(rdr.stats().skipped, 1);
/// assert_eq!(rdr.stats().skipped_samples[0].position.line, 2);
/// assert_eq!(rdr.stats().skipped_samples[0].reason, SkipReason::BadJson);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug)]
pub struct WinEventReader<R: Read> {
    lines: Lines<R>,
    strict: bool,
    stats: ReadStats,
    // The line that may start with a UTF-8 byte-order mark: the first, or none for a part
    // read from the middle of a file.
    bom_line: u64,
}

impl WinEventReader<File> {
    /// Opens a JSON-lines file (plain or gzip) with default settings.
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) with the path when the file cannot be opened.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_path_with(path, &ReadOptions::default())
    }

    /// Opens a JSON-lines file (plain or gzip) with `opts`.
    ///
    /// # Errors
    /// As [`from_path`](WinEventReader::from_path).
    pub fn from_path_with(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<Self> {
        let path = path.as_ref();
        Ok(Self::from_lines(opts.open_lines(path)?, Some(path.to_path_buf()), opts))
    }
}

impl<R: Read> WinEventReader<R> {
    /// A reader over `rdr` (gzip detected by its magic bytes) that skips (and counts) bad lines.
    ///
    /// # Errors
    /// An I/O error if the first read fails.
    pub fn from_reader(rdr: R) -> Result<Self> {
        Self::with_options(rdr, &ReadOptions::default())
    }

    /// A reader over `rdr` with `opts`.
    ///
    /// # Errors
    /// An I/O error if the first read fails.
    pub fn with_options(rdr: R, opts: &ReadOptions) -> Result<Self> {
        Ok(Self::from_lines(opts.lines(rdr, None)?, None, opts))
    }

    pub(crate) fn from_lines(lines: Lines<R>, path: Option<PathBuf>, opts: &ReadOptions) -> Self {
        WinEventReader {
            lines,
            strict: opts.strict,
            stats: ReadStats::for_path(path.as_deref()),
            bom_line: 1,
        }
    }

    /// For a part read from the middle of a file: its first line is not the file's, so a
    /// byte-order mark there is not one.
    pub(crate) fn in_middle(mut self) -> Self {
        self.bom_line = 0;
        self
    }

    /// Lines read so far (blank ones included).
    pub(crate) fn lines_read(&self) -> u64 {
        self.lines.lines_read()
    }

    /// The line buffer, for another reader to reuse ([`Lines::with_buffer`]).
    pub(crate) fn into_buffer(self) -> Vec<u8> {
        self.lines.into_buffer()
    }

    /// What has been read and skipped so far (`events` = records handed out).
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    pub(crate) fn stats_mut(&mut self) -> &mut ReadStats {
        &mut self.stats
    }

    /// Counts a bad line, or fails in strict mode.
    fn reject(&mut self, position: Position, reason: SkipReason, detail: Option<&str>) -> Result<()> {
        if self.strict {
            return Err(Error::parse(position, None, None, detail.unwrap_or(reason.as_str())));
        }
        self.stats.skip_reason(position, reason, detail);
        Ok(())
    }

    /// Reads the next Windows event into `rec`. Returns `false` at end of input.
    ///
    /// A line must be a JSON object with an event id to count as a Windows event.
    ///
    /// # Errors
    /// I/O errors; in strict mode also [`ErrorKind::Parse`](crate::ErrorKind::Parse) with the
    /// line number and byte offset of the bad line.
    pub fn read_record(&mut self, rec: &mut WinRecord) -> Result<bool> {
        loop {
            let (info, s, e) = match self.lines.next_slice() {
                Ok(Some(x)) => x,
                Ok(None) => {
                    self.lines.count_damage(&mut self.stats);
                    return Ok(false);
                }
                Err(err) => return Err(Error::io(self.stats.path.clone(), err)),
            };
            let mut bytes = self.lines.buf().get(s..e).unwrap_or_default();
            let position = info.position;
            // A UTF-8 byte-order mark on the first line.
            if position.line == self.bom_line {
                bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            }
            if !info.too_long && bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.stats.records += 1;
            if info.too_long {
                self.reject(position, SkipReason::LineTooLong, None)?;
                continue;
            }
            let Ok(text) = core::str::from_utf8(bytes) else {
                self.reject(position, SkipReason::BadUtf8, None)?;
                continue;
            };
            rec.clear();
            rec.line.push_str(text);
            rec.position = position;
            if let Err(e) = rec.parse_line() {
                let detail = match e.kind() {
                    crate::error::ErrorKind::Parse { reason, .. } => reason.clone(),
                    _ => e.to_string(),
                };
                if self.strict {
                    return Err(e);
                }
                self.stats.skip_reason(position, SkipReason::BadJson, Some(&detail));
                continue;
            }
            if rec.event_id().is_none() {
                self.reject(position, SkipReason::NotWindowsEvent, None)?;
                continue;
            }
            self.stats.events += 1;
            return Ok(true);
        }
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
        let mut r = WinEventReader::from_reader(input.as_slice()).unwrap();
        let mut rec = WinRecord::new();
        let mut ids = Vec::new();
        while r.read_record(&mut rec).unwrap() {
            ids.push(rec.event_id().unwrap());
        }
        assert_eq!(ids, [1, 3]);
        let s = r.stats();
        assert_eq!((s.records, s.events, s.skipped), (4, 2, 2));
        assert_eq!(s.skipped_samples[0].reason, SkipReason::BadUtf8);
        assert_eq!(s.skipped_samples[0].position.line, 2);
        assert_eq!(s.skipped_samples[0].position.byte, 33); // 3 (BOM) + 28 + 2 (CRLF)
        assert_eq!(s.skipped_samples[1].position.line, 3);
        assert_eq!(s.skipped_samples[1].reason, SkipReason::NotWindowsEvent);

        let mut r = WinEventReader::with_options(input.as_slice(), ReadOptions::new().strict(true)).unwrap();
        assert!(r.read_record(&mut rec).unwrap());
        let e = r.read_record(&mut rec).unwrap_err();
        assert_eq!(e.position().map(|p| p.line), Some(2));
    }

    #[test]
    fn a_line_over_the_cap_is_skipped_in_bounded_memory() {
        // 64 MiB of one line, read with a 1 MiB cap: counted, never held whole.
        let huge = std::io::repeat(b'x').take(64 << 20);
        let tail = &b"\n{\"EventID\":7}\n"[..];
        let mut opts = ReadOptions::new();
        opts.max_record_len(1 << 20);
        let mut r = WinEventReader::with_options(huge.chain(tail), &opts).unwrap();
        let mut rec = WinRecord::new();
        assert!(r.read_record(&mut rec).unwrap());
        assert_eq!(rec.event_id(), Some(7));
        assert!(!r.read_record(&mut rec).unwrap());
        assert_eq!(r.stats().by_reason.get(&SkipReason::LineTooLong), Some(&1));
        assert!(r.lines.capacity() <= 4 << 20, "buffer grew to {}", r.lines.capacity());
    }
}
