//! [`ReadOptions`]: the settings every reader of this crate takes (strict mode, buffer size,
//! record cap), built with `&mut self` setters like the `csv` crate's `ReaderBuilder`.

use super::lines::{Input, Lines};
use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Settings shared by every reader: Zeek TSV and JSON, CSV, name logs, Windows event JSON,
/// EVTX, and [`Reader`](crate::Reader) over files and directories.
///
/// - **strict** (default off): the first bad record is an [`Error`] (with its position, field
///   and value) instead of a counted [`Skipped`](crate::Skipped) entry; a read or decode error
///   midway is an error too, where a lenient reader keeps what it read and counts the rest as
///   [`SkipReason::Truncated`](crate::SkipReason::Truncated).
/// - **buffer capacity** (default 256 KiB): the input buffer a reader starts with.
/// - **max record length** (default 16 MiB): a line (or a multi-line CSV record, or an EVTX
///   record's JSON) longer than this is skipped with
///   [`SkipReason::LineTooLong`](crate::SkipReason::LineTooLong) and never held whole in memory,
///   whatever the input (a 1 GiB line or `/dev/zero` reads in bounded memory).
///
/// # Example
/// ```
/// use beaconstat::{ReadOptions, SkipReason};
/// let log = "#fields\tts\tid.orig_h\tid.resp_h\n1.0\ta\tb\n2.0\ta\tbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n";
/// let mut opts = ReadOptions::new();
/// opts.max_record_len(40);
/// let mut r = opts.from_reader(std::io::Cursor::new(log))?;
/// let mut n = 0;
/// r.for_each(|_| n += 1)?;
/// assert_eq!(n, 1);
/// assert_eq!(r.stats().by_reason[&SkipReason::LineTooLong], 1);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub(crate) strict: bool,
    pub(crate) buffer_capacity: usize,
    // At least 1.
    pub(crate) max_record_len: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            strict: false,
            buffer_capacity: 256 * 1024,
            max_record_len: 16 * 1024 * 1024,
        }
    }
}

impl ReadOptions {
    /// The defaults: lenient, 256 KiB buffer, 16 MiB record cap.
    pub fn new() -> Self {
        ReadOptions::default()
    }

    /// Strict mode: the first bad record (or a read error midway) is an error instead of a
    /// counted skip.
    pub fn strict(&mut self, yes: bool) -> &mut Self {
        self.strict = yes;
        self
    }

    /// The input buffer size in bytes (default 256 KiB; at least 64).
    pub fn buffer_capacity(&mut self, bytes: usize) -> &mut Self {
        self.buffer_capacity = bytes.max(64);
        self
    }

    /// Lines and records longer than this are skipped with
    /// [`SkipReason::LineTooLong`](crate::SkipReason::LineTooLong) (default 16 MiB; at least 1).
    pub fn max_record_len(&mut self, bytes: usize) -> &mut Self {
        self.max_record_len = bytes.max(1);
        self
    }

    /// Whether strict mode is on.
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// The record cap in bytes.
    pub fn record_cap(&self) -> usize {
        self.max_record_len
    }

    /// The line source over `rdr` (gzip detected by its header), with these buffer
    /// settings. I/O errors name `path` where there is one.
    pub(crate) fn lines<R: Read>(&self, rdr: R, path: Option<&Path>) -> Result<Lines<R>> {
        let input = Input::new(rdr).map_err(|e| Error::io(path.map(Path::to_path_buf), e))?;
        Ok(Lines::new(
            input,
            self.buffer_capacity,
            self.max_record_len,
            !self.strict,
        ))
    }

    /// The line source over the file at `path`.
    pub(crate) fn open_lines(&self, path: &Path) -> Result<Lines<std::fs::File>> {
        let f = std::fs::File::open(path).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
        self.lines(f, Some(path))
    }
}
