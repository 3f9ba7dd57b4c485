//! Readers for network connection logs: Zeek `conn.log` (TSV and JSON) and CSV, yielding
//! borrowed [`ConnEvent`]s.
//!
//! Every reader follows the `csv` crate's shape: a builder, a reader over any [`std::io::Read`]
//! (gzip is detected by its magic bytes and decompressed transparently), a reusable record that
//! keeps a whole line in one buffer plus field offsets, and events that borrow from that
//! record. After warm-up no record allocates.
//!
//! ```text
//!   io::Read ──▶ reader (owns the input buffer) ──read_record──▶ record (line + offsets)
//!                                                                 │ conn_event()
//!                                                                 ▼
//!                                                   ConnEvent<'record> (Copy, borrowed)
//! ```
//!
//! Bad input never panics and is never dropped silently: each data line is either an event or a
//! [`Skipped`] entry counted in [`ReadStats`] (with its line, byte offset, field and reason). In
//! strict mode the first bad line is an [`Error`](crate::Error) instead.
//!
//! # Example: any supported file
//! ```no_run
//! # fn main() -> beaconstat::Result<()> {
//! let mut reader = beaconstat::open("conn.log.gz")?;
//! let mut n = 0;
//! reader.for_each(|ev| n += usize::from(ev.dst_port == Some(443)))?;
//! println!("{n} HTTPS connections; {}", reader.stats());
//! # Ok(()) }
//! ```

mod csv;
mod detect;
mod input;
mod json;
mod num;
mod zeek;
mod zeek_names;

pub use self::csv::{CsvReader, CsvReaderBuilder, CsvRecord, TimeFormat};
pub use self::detect::{AnyReader, Format, detect, open, open_with};
pub use self::json::{ZeekJsonReader, ZeekJsonReaderBuilder, ZeekJsonRecord};
pub use self::zeek::{ZeekHeader, ZeekReader, ZeekReaderBuilder, ZeekRecord};
pub(crate) use self::zeek_names::strip_port;
pub use self::zeek_names::{
    Answer, AnswerIter, Answers, DnsRecord, HttpRecord, LogKind, NameLogReader, NameRecord, SslRecord,
};

use crate::error::{Error, Position};
use core::fmt;
use core::ops::Range;
use std::collections::BTreeMap;

/// Why a record was skipped. New reasons may be added, so match with a wildcard arm.
///
/// # Example
/// ```
/// use beaconstat::SkipReason;
/// assert_eq!(SkipReason::BadTimestamp.to_string(), "unparsable timestamp");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum SkipReason {
    /// A required field (timestamp, source, destination) is absent, unset or empty.
    MissingField,
    /// The timestamp is not a number of the configured unit or an RFC 3339 date-time.
    BadTimestamp,
    /// A port is not an integer in `0..=65535`.
    BadPort,
    /// A count or duration is not a non-negative number.
    BadNumber,
    /// A text field is not valid UTF-8.
    BadUtf8,
    /// The line has a different number of fields from its header.
    FieldCount,
    /// A data line came before any header naming the fields.
    NoHeader,
    /// The line is not a well-formed JSON object.
    BadJson,
    /// A CSV quote is not closed.
    BadQuote,
    /// The line is longer than the reader's limit.
    LineTooLong,
}

impl SkipReason {
    /// A short readable description.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::MissingField => "required field missing",
            SkipReason::BadTimestamp => "unparsable timestamp",
            SkipReason::BadPort => "invalid port",
            SkipReason::BadNumber => "invalid number",
            SkipReason::BadUtf8 => "invalid UTF-8",
            SkipReason::FieldCount => "wrong number of fields",
            SkipReason::NoHeader => "data before any header",
            SkipReason::BadJson => "malformed JSON",
            SkipReason::BadQuote => "unterminated quote",
            SkipReason::LineTooLong => "line too long",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One skipped record: where, why, and the field and value at fault where there is one.
///
/// # Example
/// ```
/// use beaconstat::{SkipReason, ZeekReader};
/// let log = "#fields\tts\tid.orig_h\tid.resp_h\nnot-a-time\t10.0.0.1\t10.0.0.2\n";
/// let mut r = ZeekReader::from_reader(log.as_bytes())?;
/// r.for_each(|_| {})?;
/// let s = &r.stats().skipped_samples[0];
/// assert_eq!(s.reason, SkipReason::BadTimestamp);
/// assert_eq!(s.position.line, 2);
/// assert_eq!(s.field.as_deref(), Some("ts"));
/// assert_eq!(s.value.as_deref(), Some("not-a-time"));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Skipped {
    /// Where the record starts.
    pub position: Position,
    /// Why it was skipped.
    pub reason: SkipReason,
    /// The field at fault, where one is.
    pub field: Option<String>,
    /// The offending value (at most 80 bytes, lossily decoded), where one is.
    pub value: Option<String>,
    /// Extra detail (e.g. expected and found field counts), where there is some.
    pub detail: Option<String>,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.position, self.reason)?;
        if let Some(d) = &self.detail {
            write!(f, " ({d})")?;
        }
        if let Some(field) = &self.field {
            write!(f, " in field {field}")?;
            if let Some(v) = &self.value {
                write!(f, " = {v:?}")?;
            }
        }
        Ok(())
    }
}

/// Counts of what a reader did: records seen, events produced, records skipped and why.
///
/// `records == events + skipped` once a reader has been driven through
/// [`next_event`](ZeekReader::next_event) or [`for_each`](ZeekReader::for_each). Header,
/// comment and blank lines are not records.
///
/// # Example
/// ```
/// use beaconstat::{SkipReason, ZeekReader};
/// let log = "#fields\tts\tid.orig_h\tid.resp_h\n1.0\t10.0.0.1\t10.0.0.2\n2.0\t-\t10.0.0.2\n";
/// let mut r = ZeekReader::from_reader(log.as_bytes())?;
/// r.for_each(|_| {})?;
/// let st = r.stats();
/// assert_eq!((st.records, st.events, st.skipped), (2, 1, 1));
/// assert_eq!(st.by_reason[&SkipReason::MissingField], 1);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ReadStats {
    /// Data records seen (lines that are not headers, comments or blank).
    pub records: u64,
    /// Records turned into events.
    pub events: u64,
    /// Records skipped.
    pub skipped: u64,
    /// The first [`ReadStats::MAX_SAMPLES`] skipped records.
    pub skipped_samples: Vec<Skipped>,
    /// Skipped records per reason.
    pub by_reason: BTreeMap<SkipReason, u64>,
}

impl ReadStats {
    /// How many skipped records are kept in [`ReadStats::skipped_samples`].
    pub const MAX_SAMPLES: usize = 100;

    /// Adds another reader's counts (samples are kept up to the cap).
    pub fn merge(&mut self, other: &ReadStats) {
        self.records += other.records;
        self.events += other.events;
        self.skipped += other.skipped;
        for s in &other.skipped_samples {
            if self.skipped_samples.len() >= Self::MAX_SAMPLES {
                break;
            }
            self.skipped_samples.push(s.clone());
        }
        for (k, v) in &other.by_reason {
            *self.by_reason.entry(*k).or_insert(0) += v;
        }
    }

    /// Clears all counts.
    pub fn reset(&mut self) {
        *self = ReadStats::default();
    }

    pub(crate) fn skip(&mut self, position: Position, bad: &Bad, line: &[u8]) {
        self.skipped += 1;
        *self.by_reason.entry(bad.reason).or_insert(0) += 1;
        if self.skipped_samples.len() < Self::MAX_SAMPLES {
            self.skipped_samples.push(bad.to_skipped(position, line));
        }
    }
}

impl fmt::Display for ReadStats {
    /// `463 records: 460 events, 3 skipped (invalid port 2, unparsable timestamp 1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} records: {} events, {} skipped",
            self.records, self.events, self.skipped
        )?;
        if !self.by_reason.is_empty() {
            let mut sep = " (";
            for (k, v) in &self.by_reason {
                write!(f, "{sep}{k} {v}")?;
                sep = ", ";
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A record-level problem, cheap to build (no allocation) on the hot path.
#[derive(Debug, Clone)]
pub(crate) struct Bad {
    pub(crate) reason: SkipReason,
    pub(crate) field: Option<&'static str>,
    /// Byte range of the offending value within the record's line.
    pub(crate) value: Option<Range<usize>>,
    pub(crate) detail: Option<(usize, usize)>,
}

impl Bad {
    pub(crate) fn new(reason: SkipReason) -> Self {
        Bad {
            reason,
            field: None,
            value: None,
            detail: None,
        }
    }
    pub(crate) fn field(reason: SkipReason, field: &'static str, value: Option<Range<usize>>) -> Self {
        Bad {
            reason,
            field: Some(field),
            value,
            detail: None,
        }
    }
    /// Field-count mismatch: expected, found.
    pub(crate) fn count(expected: usize, found: usize) -> Self {
        Bad {
            reason: SkipReason::FieldCount,
            field: None,
            value: None,
            detail: Some((expected, found)),
        }
    }

    /// The offending bytes, clamped to the line.
    fn value_bytes<'l>(&self, line: &'l [u8]) -> Option<&'l [u8]> {
        let r = self.value.clone()?;
        let end = r.end.min(line.len());
        line.get(r.start.min(end)..end)
    }

    fn value_text(&self, line: &[u8]) -> Option<String> {
        let v = self.value_bytes(line)?;
        Some(String::from_utf8_lossy(&v[..v.len().min(80)]).into_owned())
    }

    fn detail_text(&self) -> Option<String> {
        self.detail.map(|(e, f)| format!("expected {e}, found {f}"))
    }

    pub(crate) fn to_skipped(&self, position: Position, line: &[u8]) -> Skipped {
        Skipped {
            position,
            reason: self.reason,
            field: self.field.map(str::to_owned),
            value: self.value_text(line),
            detail: self.detail_text(),
        }
    }

    pub(crate) fn to_error(&self, position: Position, line: &[u8]) -> Error {
        let value = self.value_bytes(line);
        let reason = match self.detail_text() {
            Some(d) => format!("{} ({d})", self.reason),
            None => self.reason.to_string(),
        };
        Error::parse(position, self.field, value, reason)
    }
}

/// Settings shared by every reader's builder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Common {
    pub(crate) strict: bool,
    pub(crate) buffer_capacity: usize,
    pub(crate) max_line: usize,
}

impl Common {
    /// The line source over `rdr` (gzip detected by its magic bytes), with these buffer
    /// settings. I/O errors name `path` where there is one.
    pub(crate) fn lines<R: std::io::Read>(
        &self,
        rdr: R,
        path: Option<&std::path::Path>,
    ) -> crate::error::Result<input::Lines<R>> {
        let input = input::Input::new(rdr).map_err(|e| Error::io(path.map(std::path::Path::to_path_buf), e))?;
        Ok(input::Lines::new(input, self.buffer_capacity, self.max_line))
    }

    /// The line source over the file at `path`.
    pub(crate) fn open(&self, path: &std::path::Path) -> crate::error::Result<input::Lines<std::fs::File>> {
        let f = std::fs::File::open(path).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
        self.lines(f, Some(path))
    }
}

impl Default for Common {
    fn default() -> Self {
        Common {
            strict: false,
            buffer_capacity: 256 * 1024,
            max_line: 16 * 1024 * 1024,
        }
    }
}
