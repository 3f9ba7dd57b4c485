//! CSV connection logs with a header row and a column mapping (firewall/proxy exports,
//! NetFlow dumps, spreadsheets).
//!
//! Fields may be quoted (`"a,b"`, `""` for a quote, line breaks inside quotes). Columns are
//! found by name (case-insensitive, with common aliases tried by default) or by index.

use super::builder::line_reader_builder_methods;
use super::num::{is_text, parse_count, parse_duration, parse_port};
use crate::error::{Error, Position, Result};
use crate::event::{ConnEvent, Proto};
use crate::input::columns::{
    ALIASES, BYTES_IN, BYTES_OUT, COL_NAMES, DST, DST_PORT, DURATION, HOST, N_COLS, NAME, PROTO, SRC, SRC_PORT, TS, UID,
};
use crate::input::{Bad, LineInfo, Lines, ReadOptions, ReadStats, SkipReason};
use crate::time::{Interval, Timestamp};
use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How the timestamp column is written.
///
/// # Example
/// ```
/// use beaconstat::{Timestamp, read::TimeFormat};
/// assert_eq!(TimeFormat::EpochMillis.parse("1500"), Some(Timestamp::from_micros(1_500_000)));
/// assert_eq!(TimeFormat::Auto.parse("1672843057123"), Timestamp::parse_epoch_secs("1672843057.123"));
/// assert_eq!(TimeFormat::Auto.parse("2023-01-04T14:37:37Z"), Timestamp::parse_epoch_secs("1672843057"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TimeFormat {
    /// Decimal seconds since the epoch (`1672843057.123456`).
    EpochSecs,
    /// Decimal milliseconds since the epoch.
    EpochMillis,
    /// Decimal microseconds since the epoch.
    EpochMicros,
    /// RFC 3339 / ISO 8601 (`2023-01-04T14:37:37.5Z`, `2023-01-04 14:37:37`).
    Rfc3339,
    /// RFC 3339 if it looks like a date, else epoch seconds, milliseconds or microseconds by
    /// the number of integer digits (≤ 11, 12–14, ≥ 15).
    #[default]
    Auto,
}

impl TimeFormat {
    /// Parses `s` in this format.
    pub fn parse(self, s: &str) -> Option<Timestamp> {
        let s = s.trim();
        match self {
            TimeFormat::EpochSecs => Timestamp::parse_epoch_secs(s),
            TimeFormat::EpochMillis => Timestamp::parse_epoch_millis(s),
            TimeFormat::EpochMicros => Timestamp::parse_epoch_micros(s),
            TimeFormat::Rfc3339 => Timestamp::parse_rfc3339(s),
            TimeFormat::Auto => {
                if s.len() >= 19 && s.as_bytes().get(4) == Some(&b'-') {
                    return Timestamp::parse_rfc3339(s);
                }
                let int_digits = s.trim_start_matches(['-', '+']).split('.').next().unwrap_or("").len();
                match int_digits {
                    0..=11 => Timestamp::parse_epoch_secs(s),
                    12..=14 => Timestamp::parse_epoch_millis(s),
                    _ => Timestamp::parse_epoch_micros(s),
                }
            }
        }
    }
}

/// Which column each event field comes from: by name or by 0-based index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Name(String),
    Index(usize),
}

/// Resolved column positions plus the header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Map {
    idx: [Option<usize>; N_COLS],
    headers: Vec<String>,
    time: TimeFormat,
}

/// A reusable CSV record: unescaped fields in one buffer plus end offsets.
///
/// # Example
/// ```
/// use beaconstat::{read::{CsvReader, CsvRecord}};
/// let data = "time,src_ip,dst_ip,dport,note\n1.5,10.0.0.1,10.0.0.2,443,\"a, \"\"quoted\"\" note\"\n";
/// let mut r = CsvReader::from_reader(data.as_bytes())?;
/// let mut rec = CsvRecord::new();
/// assert!(r.read_record(&mut rec)?);
/// assert_eq!(rec.get(4), Some("a, \"quoted\" note"));
/// assert_eq!(rec.field("note"), Some("a, \"quoted\" note"));
/// assert_eq!(rec.conn_event()?.dst_port, Some(443));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct CsvRecord {
    buf: Vec<u8>,
    ends: Vec<usize>,
    // Raw line(s), kept to join quoted line breaks.
    raw: Vec<u8>,
    position: Position,
    map: Option<Arc<Map>>,
    bad: Option<Bad>,
}

#[derive(Debug, Clone, Copy)]
struct RawCsv {
    ts: Timestamp,
    src: (usize, usize),
    dst: (usize, usize),
    uid: Option<(usize, usize)>,
    name: Option<(usize, usize)>,
    host: Option<(usize, usize)>,
    src_port: Option<u16>,
    dst_port: Option<u16>,
    proto: Proto,
    duration: Option<Interval>,
    bytes_out: Option<u64>,
    bytes_in: Option<u64>,
}

/// Splits `raw` into unescaped fields. Returns `false` if a quote is left open (the open
/// field's text so far is the last field; [`split_continue`] goes on with the next line).
fn split_fields(raw: &[u8], delim: u8, buf: &mut Vec<u8>, ends: &mut Vec<usize>) -> bool {
    buf.clear();
    ends.clear();
    split_from(raw, false, delim, buf, ends)
}

/// Continues a split whose last field was left inside an open quote with `more`, the next
/// line: only the new line is scanned, so a field spanning `k` lines costs `O(k)`, not `O(k²)`.
fn split_continue(more: &[u8], delim: u8, buf: &mut Vec<u8>, ends: &mut Vec<usize>) -> bool {
    ends.pop();
    buf.push(b'\n');
    split_from(more, true, delim, buf, ends)
}

/// The field loop, starting inside an open quoted field when `quoted`.
fn split_from(raw: &[u8], mut quoted: bool, delim: u8, buf: &mut Vec<u8>, ends: &mut Vec<usize>) -> bool {
    let mut i = 0;
    loop {
        if quoted || raw.get(i) == Some(&b'"') {
            if !quoted {
                i += 1;
            }
            quoted = false;
            loop {
                let rest = raw.get(i..).unwrap_or_default();
                let Some(j) = memchr::memchr(b'"', rest) else {
                    buf.extend_from_slice(rest);
                    ends.push(buf.len());
                    return false;
                };
                buf.extend_from_slice(&rest[..j]);
                i += j + 1;
                if raw.get(i) == Some(&b'"') {
                    buf.push(b'"');
                    i += 1;
                } else {
                    break;
                }
            }
            // Anything after the closing quote up to the delimiter is kept literally.
            let rest = raw.get(i..).unwrap_or_default();
            let j = memchr::memchr(delim, rest).unwrap_or(rest.len());
            buf.extend_from_slice(&rest[..j]);
            i += j;
        } else {
            let rest = raw.get(i..).unwrap_or_default();
            let j = memchr::memchr(delim, rest).unwrap_or(rest.len());
            buf.extend_from_slice(&rest[..j]);
            i += j;
        }
        ends.push(buf.len());
        if i >= raw.len() {
            return true;
        }
        i += 1; // the delimiter
        if i == raw.len() {
            ends.push(buf.len());
            return true;
        }
    }
}

/// The delimiter a header line uses: the most frequent of `,`, `;`, tab and `|` outside
/// quotes (`,` when there is none).
fn sniff_delimiter(header: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for &c in header {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(e) = counts.iter_mut().find(|e| e.0 == c) {
            e.1 += 1;
        }
    }
    // Ties go to the earlier (more common) delimiter.
    counts
        .iter()
        .fold((b',', 0), |best, &(d, n)| if n > best.1 { (d, n) } else { best })
        .0
}

/// How many lines a quoted field may span before it is taken for an unterminated quote.
const MAX_QUOTED_LINES: usize = 100;

impl CsvRecord {
    /// An empty record.
    pub fn new() -> Self {
        CsvRecord::default()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn bounds(&self, i: usize) -> Option<(usize, usize)> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        Some((start, end))
    }

    /// The raw (unescaped) bytes of field `i`.
    pub fn get_bytes(&self, i: usize) -> Option<&[u8]> {
        let (s, e) = self.bounds(i)?;
        self.buf.get(s..e)
    }

    /// Field `i` as text (`None` if absent or not UTF-8).
    pub fn get(&self, i: usize) -> Option<&str> {
        core::str::from_utf8(self.get_bytes(i)?).ok()
    }

    /// A field by header name (case-insensitive); `None` if absent, empty or not UTF-8.
    pub fn field(&self, name: &str) -> Option<&str> {
        let m = self.map.as_deref()?;
        let i = m.headers.iter().position(|h| h.eq_ignore_ascii_case(name))?;
        self.get(i).filter(|s| !s.is_empty())
    }

    /// The header row (empty when reading without headers).
    pub fn headers(&self) -> &[String] {
        self.map.as_deref().map_or(&[], |m| &m.headers)
    }

    /// Where the record starts.
    pub fn position(&self) -> Position {
        self.position
    }

    /// The connection as a borrowed event.
    ///
    /// # Errors
    /// A parse error with the line, field and value when a required column (ts, src, dst) is
    /// missing or empty or any mapped value does not parse.
    pub fn conn_event(&self) -> Result<ConnEvent<'_>> {
        match self.raw_event() {
            Ok(r) => Ok(self.resolve(r)),
            Err(b) => Err(b.to_error(self.position, &self.buf)),
        }
    }

    fn resolve(&self, r: RawCsv) -> ConnEvent<'_> {
        let s = |r| super::zeek::str_at(&self.buf, r);
        let mut ev = ConnEvent::new(r.ts, s(r.src), s(r.dst));
        ev.src_port = r.src_port;
        ev.dst_port = r.dst_port;
        ev.proto = r.proto;
        ev.duration = r.duration;
        ev.bytes_out = r.bytes_out;
        ev.bytes_in = r.bytes_in;
        ev.uid = r.uid.map(s);
        ev.name = r.name.map(s);
        ev.host = r.host.map(s);
        ev
    }

    fn raw_event(&self) -> core::result::Result<RawCsv, Bad> {
        if let Some(b) = &self.bad {
            return Err(b.clone());
        }
        let Some(m) = self.map.as_deref() else {
            return Err(Bad::new(SkipReason::NoHeader));
        };
        if !m.headers.is_empty() && self.ends.len() != m.headers.len() {
            return Err(Bad::count(m.headers.len(), self.ends.len()));
        }
        let val = |c: usize| -> Option<(usize, usize)> {
            let (s, e) = self.bounds(m.idx[c]?)?;
            let v = self.buf.get(s..e)?;
            let t = v.trim_ascii();
            if t.is_empty() || t == b"-" {
                return None;
            }
            let off = v.len() - v.trim_ascii_start().len();
            Some((s + off, s + off + t.len()))
        };
        let rng = |r: (usize, usize)| Some(r.0..r.1);
        let bytes = |r: (usize, usize)| self.buf.get(r.0..r.1).unwrap_or_default();
        let text = |c: usize, required: bool| match val(c) {
            None if required => Err(Bad::field(SkipReason::MissingField, COL_NAMES[c], None)),
            None => Ok(None),
            Some(r) => {
                if is_text(bytes(r)) {
                    Ok(Some(r))
                } else {
                    Err(Bad::field(SkipReason::BadUtf8, COL_NAMES[c], rng(r)))
                }
            }
        };
        let ts_r = val(TS).ok_or_else(|| Bad::field(SkipReason::MissingField, "ts", None))?;
        let ts = core::str::from_utf8(bytes(ts_r))
            .ok()
            .and_then(|s| m.time.parse(s))
            .ok_or_else(|| Bad::field(SkipReason::BadTimestamp, "ts", rng(ts_r)))?;
        let src = text(SRC, true)?.unwrap_or_default();
        let dst = text(DST, true)?.unwrap_or_default();
        let uid = text(UID, false)?;
        let name = text(NAME, false)?;
        let host = text(HOST, false)?;
        let port = |c: usize| match val(c) {
            None => Ok(None),
            Some(r) => parse_port(bytes(r))
                .map(Some)
                .ok_or_else(|| Bad::field(SkipReason::BadPort, COL_NAMES[c], rng(r))),
        };
        let count = |c: usize| match val(c) {
            None => Ok(None),
            Some(r) => parse_count(bytes(r))
                .map(Some)
                .ok_or_else(|| Bad::field(SkipReason::BadNumber, COL_NAMES[c], rng(r))),
        };
        let duration = match val(DURATION) {
            None => None,
            Some(r) => {
                Some(parse_duration(bytes(r)).ok_or_else(|| Bad::field(SkipReason::BadNumber, "duration", rng(r)))?)
            }
        };
        let proto = val(PROTO).map_or(Proto::Other, |r| {
            core::str::from_utf8(bytes(r)).map_or(Proto::Other, Proto::parse)
        });
        Ok(RawCsv {
            ts,
            src,
            dst,
            uid,
            name,
            host,
            src_port: port(SRC_PORT)?,
            dst_port: port(DST_PORT)?,
            proto,
            duration,
            bytes_out: count(BYTES_OUT)?,
            bytes_in: count(BYTES_IN)?,
        })
    }
}

/// Builds a [`CsvReader`]: delimiter, header, column mapping and timestamp format.
///
/// Columns not set explicitly are looked up in the header by common names (`ts`,
/// `timestamp`, `time`; `src`, `src_ip`, `source`, `id.orig_h`; `dst`, `dst_ip`,
/// `destination`; `dst_port`, `dport`; `proto`, `protocol`; `bytes_out`, `orig_bytes`,
/// `sent_bytes`; `bytes_in`, `resp_bytes`; `duration`; `uid`; `name`, `domain`, `sni`;
/// `host`, `hostname`).
///
/// # Example
/// ```
/// use beaconstat::{read::{CsvReader, TimeFormat}};
/// let data = "when;from;to;port\n1672843057123;10.0.0.1;10.0.0.2;8443\n";
/// let mut r = CsvReader::builder()
///     .delimiter(b';')
///     .ts_column("when")
///     .src_column("from")
///     .dst_column("to")
///     .dst_port_column("port")
///     .time_format(TimeFormat::EpochMillis)
///     .from_reader(data.as_bytes())?;
/// let ev = r.next_event()?.unwrap();
/// assert_eq!((ev.ts.as_micros(), ev.dst_port), (1_672_843_057_123_000, Some(8443)));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CsvReaderBuilder {
    opts: ReadOptions,
    // None: sniffed from the header line.
    delimiter: Option<u8>,
    has_headers: bool,
    time: TimeFormat,
    cols: [Option<Column>; N_COLS],
}

impl Default for CsvReaderBuilder {
    fn default() -> Self {
        CsvReaderBuilder {
            opts: ReadOptions::default(),
            delimiter: None,
            has_headers: true,
            time: TimeFormat::Auto,
            cols: Default::default(),
        }
    }
}

macro_rules! col_setters {
    ($($name:ident, $idx_name:ident, $c:expr, $doc:literal;)*) => {$(
        #[doc = concat!("The ", $doc, " column, by header name.")]
        pub fn $name(&mut self, header: &str) -> &mut Self {
            self.cols[$c] = Some(Column::Name(header.to_owned()));
            self
        }
        #[doc = concat!("The ", $doc, " column, by 0-based index.")]
        pub fn $idx_name(&mut self, index: usize) -> &mut Self {
            self.cols[$c] = Some(Column::Index(index));
            self
        }
    )*};
}

impl CsvReaderBuilder {
    /// Defaults: `,`, a header row, [`TimeFormat::Auto`], columns found by common names.
    pub fn new() -> Self {
        CsvReaderBuilder::default()
    }

    col_setters! {
        ts_column, ts_index, TS, "timestamp";
        src_column, src_index, SRC, "source address";
        dst_column, dst_index, DST, "destination address";
        src_port_column, src_port_index, SRC_PORT, "source port";
        dst_port_column, dst_port_index, DST_PORT, "destination port";
        proto_column, proto_index, PROTO, "protocol";
        bytes_out_column, bytes_out_index, BYTES_OUT, "bytes sent by the source";
        bytes_in_column, bytes_in_index, BYTES_IN, "bytes received by the source";
        duration_column, duration_index, DURATION, "duration (seconds)";
        uid_column, uid_index, UID, "connection id";
        name_column, name_index, NAME, "server name (domain, SNI)";
        host_column, host_index, HOST, "originating host name";
    }

    /// The field delimiter. By default it is taken from the header line: the most frequent
    /// of `,`, `;`, tab and `|` (`,` without a header or when there is none).
    pub fn delimiter(&mut self, d: u8) -> &mut Self {
        self.delimiter = Some(d);
        self
    }
    /// Whether the first line is a header (default `true`). Without one, set every column by
    /// index.
    pub fn has_headers(&mut self, yes: bool) -> &mut Self {
        self.has_headers = yes;
        self
    }
    /// How timestamps are written (default [`TimeFormat::Auto`]).
    pub fn time_format(&mut self, f: TimeFormat) -> &mut Self {
        self.time = f;
        self
    }
    line_reader_builder_methods! {
        builder: CsvReaderBuilder,
        reader: CsvReader,
        log: "timestamp,source,destination\n2023-01-04T14:37:37Z,10.0.0.1,198.51.100.7\n2023-01-04T14:38:37Z,10.0.0.1,\n",
        from_reader_errors: "I/O errors reading the header; a [`Config`](crate::ErrorKind::Config) error if a named \
                             column is not in the header or ts/src/dst cannot be found.",
        from_path_errors: "As [`from_reader`](CsvReaderBuilder::from_reader), naming the path for I/O errors.",
        build: |this, lines, path| this.build_input(lines, path),
    }

    pub(crate) fn build_input<R: Read>(&self, lines: Lines<R>, path: Option<PathBuf>) -> Result<CsvReader<R>> {
        let mut lines = lines;
        let mut headers = Vec::new();
        let mut stats = ReadStats::for_path(path.as_deref());
        let mut delimiter = self.delimiter.unwrap_or(b',');
        if self.has_headers {
            let mut line = Vec::new();
            loop {
                match lines.next_line(&mut line) {
                    Ok(Some(_)) if line.trim_ascii().is_empty() => continue,
                    Ok(Some(_)) => break,
                    Ok(None) => break,
                    Err(e) => return Err(Error::io(path, e)),
                }
            }
            let (mut buf, mut ends) = (Vec::new(), Vec::new());
            delimiter = self.delimiter.unwrap_or_else(|| sniff_delimiter(&line));
            split_fields(&line, delimiter, &mut buf, &mut ends);
            let mut start = 0;
            for &e in &ends {
                let h = String::from_utf8_lossy(buf.get(start..e).unwrap_or_default());
                headers.push(h.trim().trim_start_matches('\u{feff}').to_owned());
                start = e;
            }
        }
        let mut idx = [None; N_COLS];
        for c in 0..N_COLS {
            idx[c] = match &self.cols[c] {
                Some(Column::Index(i)) => Some(*i),
                Some(Column::Name(n)) => Some(
                    headers
                        .iter()
                        .position(|h| h.eq_ignore_ascii_case(n))
                        .ok_or_else(|| Error::config("csv column", format!("no column named {n:?} in the header")))?,
                ),
                None => ALIASES[c]
                    .iter()
                    .find_map(|a| headers.iter().position(|h| h.eq_ignore_ascii_case(a))),
            };
        }
        for c in [TS, SRC, DST] {
            if idx[c].is_none() {
                let shown = |d: u8| {
                    if d == b'\t' {
                        "tab".to_owned()
                    } else {
                        format!("{:?}", char::from(d))
                    }
                };
                return Err(Error::config(
                    "csv column",
                    format!(
                        "no {} column in the header {headers:?} (split at {}): set it with the builder",
                        COL_NAMES[c],
                        shown(delimiter)
                    ),
                ));
            }
        }
        stats.records = 0;
        Ok(CsvReader {
            lines,
            path,
            stats,
            strict: self.opts.strict,
            delimiter,
            max_line: self.opts.max_record_len,
            map: Arc::new(Map {
                idx,
                headers,
                time: self.time,
            }),
            replay: Replay::default(),
            rec: CsvRecord::new(),
            raw: None,
        })
    }
}

/// Lines read ahead while looking for the end of a quoted field that never closed: they are
/// read again as records of their own (the reader resynchronises at the line after the bad
/// record's first line, so an unterminated quote costs one record, not the rest of the file).
#[derive(Debug, Default)]
struct Replay {
    // The lines' bytes; emptied when `lines` is.
    buf: Vec<u8>,
    // Ranges into `buf`, in reading order.
    lines: VecDeque<(usize, usize, LineInfo)>,
    // Scratch: the continuation lines of the record being read (ranges into its `raw`).
    cont: Vec<(usize, usize, LineInfo)>,
    // Scratch for one continuation line.
    tmp: Vec<u8>,
}

/// Reads CSV connection logs into borrowed [`ConnEvent`]s (see [`CsvReaderBuilder`]).
///
/// # Example
/// ```
/// use beaconstat::read::CsvReader;
/// let data = "timestamp,source,destination,dst_port,protocol,bytes_out\n\
///             2023-01-04T14:37:37Z,10.0.0.1,198.51.100.7,443,tcp,512\n\
///             2023-01-04T14:38:37Z,10.0.0.1,,443,tcp,512\n";
/// let mut r = CsvReader::from_reader(data.as_bytes())?;
/// let mut n = 0;
/// r.for_each(|ev| { n += 1; assert_eq!(ev.bytes_out, Some(512)); })?;
/// assert_eq!((n, r.stats().skipped), (1, 1));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug)]
pub struct CsvReader<R: Read> {
    lines: Lines<R>,
    path: Option<PathBuf>,
    stats: ReadStats,
    strict: bool,
    delimiter: u8,
    max_line: usize,
    map: Arc<Map>,
    replay: Replay,
    rec: CsvRecord,
    // The event `advance` stopped at, as ranges into `rec`.
    raw: Option<RawCsv>,
}

struct Parts<'a, R: Read> {
    lines: &'a mut Lines<R>,
    path: &'a Option<PathBuf>,
    stats: &'a mut ReadStats,
    delimiter: u8,
    max_line: usize,
    map: &'a Arc<Map>,
    replay: &'a mut Replay,
}

impl<R: Read> Parts<'_, R> {
    /// The next line into `out`: a replayed one first, else from the input.
    fn next_line(lines: &mut Lines<R>, replay: &mut Replay, out: &mut Vec<u8>) -> std::io::Result<Option<LineInfo>> {
        if let Some((s, e, info)) = replay.lines.pop_front() {
            out.clear();
            out.extend_from_slice(replay.buf.get(s..e).unwrap_or_default());
            if replay.lines.is_empty() {
                replay.buf.clear();
            }
            return Ok(Some(info));
        }
        lines.next_line(out)
    }

    fn read(&mut self, rec: &mut CsvRecord) -> Result<bool> {
        loop {
            let info = match Self::next_line(self.lines, self.replay, &mut rec.raw) {
                Ok(Some(i)) => i,
                Ok(None) => {
                    self.lines.count_damage(self.stats);
                    return Ok(false);
                }
                Err(e) => return Err(Error::io(self.path.clone(), e)),
            };
            // An over-long line comes back empty: a skip to count, not a blank line.
            if rec.raw.trim_ascii().is_empty() && !info.too_long {
                continue;
            }
            self.stats.records += 1;
            rec.position = info.position;
            rec.bad = info.too_long.then(|| Bad::new(SkipReason::LineTooLong));
            if !Arc::ptr_eq(rec.map.get_or_insert_with(|| self.map.clone()), self.map) {
                rec.map = Some(self.map.clone());
            }
            if split_fields(&rec.raw, self.delimiter, &mut rec.buf, &mut rec.ends) {
                return Ok(true);
            }
            // A quoted field spans lines: scan each next line only, up to the caps.
            self.replay.cont.clear();
            let mut tmp = core::mem::take(&mut self.replay.tmp);
            let closed = self.continue_quoted(rec, &mut tmp);
            self.replay.tmp = tmp;
            if closed? {
                return Ok(true);
            }
            // Unterminated: the record is its first line; the lines after it are read again.
            let Replay { buf, lines, cont, .. } = &mut *self.replay;
            for &(s, e, info) in cont.iter().rev() {
                let b = buf.len();
                buf.extend_from_slice(rec.raw.get(s..e.min(rec.raw.len())).unwrap_or_default());
                lines.push_front((b, buf.len(), info));
            }
            cont.clear();
            let first = memchr::memchr(b'\n', &rec.raw).unwrap_or(rec.raw.len());
            rec.raw.truncate(first);
            split_fields(&rec.raw, self.delimiter, &mut rec.buf, &mut rec.ends);
            return Ok(true);
        }
    }

    /// Appends the lines after a record's open quote until it closes (`true`), or a cap or
    /// the end of input is reached (`false`, with [`SkipReason::BadQuote`]).
    fn continue_quoted(&mut self, rec: &mut CsvRecord, tmp: &mut Vec<u8>) -> Result<bool> {
        {
            loop {
                let more = match Self::next_line(self.lines, self.replay, tmp) {
                    Ok(m) => m,
                    Err(e) => return Err(Error::io(self.path.clone(), e)),
                };
                let tmp = &*tmp;
                let Some(more) = more else {
                    rec.bad = Some(Bad::new(SkipReason::BadQuote));
                    return Ok(false);
                };
                let at = rec.raw.len() + 1;
                self.replay.cont.push((at, at + tmp.len(), more));
                rec.raw.push(b'\n');
                rec.raw.extend_from_slice(tmp);
                if more.too_long || rec.raw.len() > self.max_line || self.replay.cont.len() > MAX_QUOTED_LINES {
                    rec.bad = Some(Bad::new(SkipReason::BadQuote));
                    return Ok(false);
                }
                if split_continue(tmp, self.delimiter, &mut rec.buf, &mut rec.ends) {
                    self.replay.cont.clear();
                    return Ok(true);
                }
            }
        }
    }
}

impl CsvReader<File> {
    /// A builder for the delimiter, columns and timestamp format.
    pub fn builder() -> CsvReaderBuilder {
        CsvReaderBuilder::new()
    }

    /// Opens a CSV file (plain or gzip) with default settings.
    ///
    /// # Errors
    /// As [`CsvReaderBuilder::from_path`].
    pub fn from_path<P: AsRef<Path>>(path: P) -> Result<CsvReader<File>> {
        CsvReaderBuilder::new().from_path(path)
    }
}

impl<R: Read> CsvReader<R> {
    /// A reader with default settings (header row, columns found by common names).
    ///
    /// # Errors
    /// As [`CsvReaderBuilder::from_reader`].
    pub fn from_reader(rdr: R) -> Result<CsvReader<R>> {
        CsvReaderBuilder::new().from_reader(rdr)
    }

    fn parts(&mut self) -> (Parts<'_, R>, &mut CsvRecord) {
        (
            Parts {
                lines: &mut self.lines,
                path: &self.path,
                stats: &mut self.stats,
                delimiter: self.delimiter,
                max_line: self.max_line,
                map: &self.map,
                replay: &mut self.replay,
            },
            &mut self.rec,
        )
    }

    /// The header row.
    pub fn headers(&self) -> &[String] {
        &self.map.headers
    }

    /// Reads the next record into `rec`; `false` at end of input.
    ///
    /// # Errors
    /// I/O errors.
    pub fn read_record(&mut self, rec: &mut CsvRecord) -> Result<bool> {
        self.parts().0.read(rec)
    }

    /// The next event, skipping (and counting) bad records; `None` at end of input.
    ///
    /// # Errors
    /// I/O errors; in strict mode, the first bad record.
    pub fn next_event(&mut self) -> Result<Option<ConnEvent<'_>>> {
        if self.advance()? { Ok(self.current()) } else { Ok(None) }
    }

    /// Reads up to the next good record (counting bad ones); `false` at end of input.
    pub(crate) fn advance(&mut self) -> Result<bool> {
        loop {
            let (mut parts, rec) = self.parts();
            if !parts.read(rec)? {
                self.raw = None;
                return Ok(false);
            }
            match self.rec.raw_event() {
                Ok(r) => {
                    self.stats.events += 1;
                    self.raw = Some(r);
                    return Ok(true);
                }
                Err(bad) => {
                    if self.strict {
                        return Err(bad.to_error(self.rec.position, &self.rec.buf));
                    }
                    self.stats.skip(self.rec.position, &bad, &self.rec.buf);
                }
            }
        }
    }

    /// The event [`advance`](CsvReader::advance) stopped at.
    pub(crate) fn current(&self) -> Option<ConnEvent<'_>> {
        self.raw.map(|r| self.rec.resolve(r))
    }

    /// Like `next_event`, also handing out the record the event came from, for its other
    /// fields (`conn_state`, labels, packet counts).
    ///
    /// # Errors
    /// As `next_event`.
    pub fn next_event_with_record(&mut self) -> Result<Option<(ConnEvent<'_>, &CsvRecord)>> {
        if self.next_event()?.is_none() {
            return Ok(None);
        }
        // The record just parsed; parse it again from the shared borrow (cheap, no I/O).
        match self.rec.raw_event() {
            Ok(raw) => Ok(Some((self.rec.resolve(raw), &self.rec))),
            Err(bad) => Err(bad.to_error(self.rec.position, &self.rec.buf)),
        }
    }

    /// Calls `f` with every event until the end of input.
    ///
    /// # Errors
    /// As [`next_event`](CsvReader::next_event).
    pub fn for_each<F: FnMut(ConnEvent<'_>)>(&mut self, mut f: F) -> Result<()> {
        while let Some(ev) = self.next_event()? {
            f(ev);
        }
        Ok(())
    }

    /// The last record read by [`next_event`](CsvReader::next_event).
    pub fn record(&self) -> &CsvRecord {
        &self.rec
    }

    /// What has been read so far (the header row is not a record).
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    pub(crate) fn stats_mut(&mut self) -> &mut ReadStats {
        &mut self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> (Vec<String>, bool) {
        let (mut b, mut e) = (Vec::new(), Vec::new());
        let ok = split_fields(s.as_bytes(), b',', &mut b, &mut e);
        let mut out = Vec::new();
        let mut st = 0;
        for &x in &e {
            out.push(String::from_utf8(b[st..x].to_vec()).unwrap());
            st = x;
        }
        (out, ok)
    }

    #[test]
    fn splitting() {
        assert_eq!(split("a,b,c"), (vec!["a".into(), "b".into(), "c".into()], true));
        assert_eq!(split("a,,"), (vec!["a".into(), "".into(), "".into()], true));
        assert_eq!(split(""), (vec!["".into()], true));
        assert_eq!(split("\"a,\"\"b\",c"), (vec!["a,\"b".into(), "c".into()], true));
        assert_eq!(split("\"a\"x,c"), (vec!["ax".into(), "c".into()], true));
        assert!(!split("\"open,c").1);
    }

    #[test]
    fn multiline_quotes_and_unterminated() {
        let data = "ts,src,dst,note\n1,a,b,\"two\nlines\"\n2,a,c,x\n3,a,d,\"never closed\n";
        let mut r = CsvReader::from_reader(data.as_bytes()).unwrap();
        let mut got = Vec::new();
        r.for_each(|e| got.push(e.dst.to_owned())).unwrap();
        assert_eq!(got, ["b", "c"]);
        let st = r.stats();
        assert_eq!((st.records, st.events, st.skipped), (3, 2, 1));
        assert_eq!(st.skipped_samples[0].reason, SkipReason::BadQuote);
        assert_eq!(st.skipped_samples[0].position.line, 5);
    }

    #[test]
    fn missing_required_column_is_config_error() {
        let err = CsvReader::from_reader("a,b\n1,2\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("ts"), "{err}");
        let err = CsvReader::builder()
            .src_column("nope")
            .from_reader("ts,src,dst\n".as_bytes())
            .unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn over_long_record_is_counted_not_dropped() {
        let data = format!("ts,src,dst\n1,a,b\n2,a,{}\n3,a,c\n", "x".repeat(100));
        let mut r = CsvReader::builder()
            .max_record_len(64)
            .from_reader(data.as_bytes())
            .unwrap();
        let mut got = Vec::new();
        r.for_each(|e| got.push(e.dst.to_owned())).unwrap();
        assert_eq!(got, ["b", "c"]);
        let st = r.stats();
        assert_eq!((st.records, st.events, st.skipped), (3, 2, 1));
        assert_eq!(st.skipped_samples[0].reason, SkipReason::LineTooLong);
        assert_eq!(st.skipped_samples[0].position.line, 3);
    }

    #[test]
    fn headerless_by_index() {
        let mut r = CsvReader::builder()
            .has_headers(false)
            .ts_index(2)
            .src_index(0)
            .dst_index(1)
            .time_format(TimeFormat::EpochMicros)
            .from_reader("a,b,1500000\n".as_bytes())
            .unwrap();
        let e = r.next_event().unwrap().unwrap();
        assert_eq!((e.src, e.dst, e.ts.as_micros()), ("a", "b", 1_500_000));
    }
}
