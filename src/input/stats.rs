//! What a reader did: [`ReadStats`] (counts, reasons, samples, the file), [`Skipped`] (one
//! skipped record) and [`SkipReason`]; and `Bad`, the allocation-free record problem the
//! readers build on their hot paths.

use crate::error::{Error, Position};
use core::fmt;
use core::ops::Range;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// The line or record is longer than the reader's limit
    /// ([`ReadOptions::max_record_len`](crate::ReadOptions::max_record_len)).
    LineTooLong,
    /// A JSON object without an event id: not a Windows event.
    NotWindowsEvent,
    /// A record the EVTX decoder could not decode (a damaged record or chunk).
    BadRecord,
    /// The input ends early or cannot be decoded from here on (a truncated or corrupt gzip
    /// stream, trailing garbage, a truncated EVTX file, a read error): what came before was
    /// read, the rest is counted here.
    Truncated,
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
            SkipReason::NotWindowsEvent => "not a Windows event (no event id)",
            SkipReason::BadRecord => "undecodable record",
            SkipReason::Truncated => "input truncated or corrupt",
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
/// use beaconstat::{SkipReason, read::ZeekReader};
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
    /// The file, when the reader was opened from a path.
    pub path: Option<PathBuf>,
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
        if let Some(p) = &self.path {
            write!(f, "{}: ", p.display())?;
        }
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

/// Counts of what a reader did: records seen, events produced, records skipped and why, and
/// the file read. Every reader of this crate keeps one (connection logs, name logs, Windows
/// events, EVTX, and [`Reader`](crate::Reader) over many files).
///
/// `records == events + skipped + ignored` once a reader has been driven to the end. Header,
/// comment and blank lines are not records. `ignored` counts well-formed records of another
/// kind than the reader hands out (Windows events that are not network connections when
/// reading connections), which are not errors.
///
/// # Example
/// ```
/// use beaconstat::{SkipReason, read::ZeekReader};
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
    /// Well-formed records of another kind than the reader hands out (not errors).
    pub ignored: u64,
    /// The first [`ReadStats::MAX_SAMPLES`] skipped records.
    pub skipped_samples: Vec<Skipped>,
    /// Skipped records per reason.
    pub by_reason: BTreeMap<SkipReason, u64>,
    /// The file these counts are for (`None` for a stream, or counts merged over files).
    pub path: Option<PathBuf>,
    /// The format read, where a reader over several formats ([`Reader`](crate::Reader)) says.
    pub format: Option<super::Format>,
}

impl ReadStats {
    /// How many skipped records are kept in [`ReadStats::skipped_samples`].
    pub const MAX_SAMPLES: usize = 100;

    /// Counts for the file at `path`.
    pub(crate) fn for_path(path: Option<&Path>) -> ReadStats {
        ReadStats {
            path: path.map(Path::to_path_buf),
            ..ReadStats::default()
        }
    }

    /// Adds another reader's counts (samples are kept up to the cap, each naming its file).
    /// The path of `self` is kept.
    pub fn merge(&mut self, other: &ReadStats) {
        self.records += other.records;
        self.events += other.events;
        self.skipped += other.skipped;
        self.ignored += other.ignored;
        for s in &other.skipped_samples {
            if self.skipped_samples.len() >= Self::MAX_SAMPLES {
                break;
            }
            let mut s = s.clone();
            if s.path.is_none() {
                s.path.clone_from(&other.path);
            }
            self.skipped_samples.push(s);
        }
        for (k, v) in &other.by_reason {
            *self.by_reason.entry(*k).or_insert(0) += v;
        }
    }

    /// These counts with every record handed out counted as an event: the view of a read
    /// of Windows records (task lineage, the AN1113 join). [`Reader`](crate::Reader) and
    /// [`ParallelReader`](crate::read::ParallelReader) keep a connection reader's counts:
    /// `events` are the network connections handed out as connections, the other records
    /// `ignored`, so a read of records (`for_each_record`) counts every record `ignored`.
    ///
    /// # Example
    /// ```
    /// use beaconstat::read::{ReadOptions, ReadStats};
    /// let log = concat!(
    ///     r#"{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WS01","UtcTime":"2024-01-01 10:00:00.000","SourceIp":"10.0.0.5","DestinationIp":"203.0.113.9","DestinationPort":443,"Protocol":"tcp"}"#, "\n",
    ///     r#"{"EventID":106,"Channel":"Microsoft-Windows-TaskScheduler/Operational","Computer":"WS01","TimeCreated":"2024-01-01T10:00:01Z","TaskName":"\\Updater"}"#, "\n",
    /// );
    /// let mut r = ReadOptions::new().from_reader(log.as_bytes())?;
    /// let mut n = 0;
    /// r.for_each_record(|_| n += 1)?;
    /// let as_connections: ReadStats = r.stats();
    /// assert_eq!((as_connections.events, as_connections.ignored), (0, 2));
    /// let as_records = as_connections.as_records();
    /// assert_eq!((as_records.events, as_records.ignored, n), (2, 0, 2));
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    #[must_use]
    pub fn as_records(&self) -> ReadStats {
        let mut s = self.clone();
        s.events += s.ignored;
        s.ignored = 0;
        s
    }

    /// Clears all counts (the path is kept).
    pub fn reset(&mut self) {
        let path = self.path.take();
        *self = ReadStats::default();
        self.path = path;
    }

    /// Counts a skipped record (already counted in `records`).
    pub(crate) fn skip(&mut self, position: Position, bad: &Bad, line: &[u8]) {
        self.skipped += 1;
        *self.by_reason.entry(bad.reason).or_insert(0) += 1;
        if self.skipped_samples.len() < Self::MAX_SAMPLES {
            let mut s = bad.to_skipped(position, line);
            s.path.clone_from(&self.path);
            self.skipped_samples.push(s);
        }
    }

    /// Counts a skipped record (already counted in `records`) with a reason and an optional
    /// free-text detail, for readers whose problems are not [`Bad`]s.
    pub(crate) fn skip_reason(&mut self, position: Position, reason: SkipReason, detail: Option<&str>) {
        self.count_skips(1, position, reason, || detail.map(str::to_owned));
    }

    /// Counts `n` skips for `reason`, keeping a sample (its detail made only when kept).
    fn count_skips(&mut self, n: u64, position: Position, reason: SkipReason, detail: impl FnOnce() -> Option<String>) {
        self.skipped += n;
        *self.by_reason.entry(reason).or_insert(0) += n;
        if self.skipped_samples.len() < Self::MAX_SAMPLES {
            self.skipped_samples.push(Skipped {
                path: self.path.clone(),
                position,
                reason,
                field: None,
                value: None,
                detail: detail(),
            });
        }
    }

    /// Counts `n` records not yet seen as records (a damaged stretch, the unreadable rest of a
    /// file) as skipped, with a free-text detail (an I/O or decoder message).
    pub(crate) fn skip_detail(&mut self, n: u64, position: Position, reason: SkipReason, detail: String) {
        if n == 0 {
            return;
        }
        self.records += n;
        self.count_skips(n, position, reason, || Some(detail));
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
        if self.ignored > 0 {
            write!(f, ", {} of other kinds", self.ignored)?;
        }
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
            path: None,
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
