//! Zeek JSON logs (`LogAscii::use_json=T`): one object per line, flat keys such as
//! `id.orig_h` (a nested `"id": {"orig_h": …}` object is flattened to the same names).
//!
//! On the crate's one borrowed JSON scanner: strings without escapes are borrowed from the
//! line; strings with escapes are unescaped into the record's own reusable scratch buffer, so
//! steady-state reading allocates nothing.

use super::builder::line_reader_builder_methods;
use super::num::{is_text, parse_count, parse_duration, parse_port, parse_proto, parse_ts_secs};
use crate::error::{Error, Position, Result};
use crate::event::{ConnEvent, Proto};
use crate::input::{Bad, Lines, ReadOptions, ReadStats, SkipReason};
use crate::json::{Literal, ScanError, Scanner, Text};
use crate::time::{Interval, Timestamp};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A byte range in either the line or the scratch buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    scratch: bool,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Num,
    Bool,
    Null,
    // An object or array, kept raw.
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: Span,
    val: Span,
    kind: Kind,
    // The value as written in the line (quotes and escapes included), for error reports.
    raw: (usize, usize),
}

const SLOT_NAMES: [&str; 12] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "local_orig",
    "local_resp",
];
const TS: usize = 0;
const UID: usize = 1;
const ORIG_H: usize = 2;
const ORIG_P: usize = 3;
const RESP_H: usize = 4;
const RESP_P: usize = 5;
const PROTO: usize = 6;
const DURATION: usize = 7;
const ORIG_BYTES: usize = 8;
const RESP_BYTES: usize = 9;
const LOCAL_ORIG: usize = 10;
const LOCAL_RESP: usize = 11;

/// A reusable Zeek JSON record: the line, a scratch buffer for unescaped strings, and the
/// key/value spans.
///
/// # Example
/// ```
/// use beaconstat::{read::{ZeekJsonReader, ZeekJsonRecord}};
/// let log = r#"{"ts":1672843056.913119,"uid":"CX","id.orig_h":"10.0.0.1","id.orig_p":5555,"id.resp_h":"10.0.0.2","id.resp_p":443,"conn_state":"S\u0046","orig_pkts":18}"#;
/// let mut r = ZeekJsonReader::from_reader(log.as_bytes())?;
/// let mut rec = ZeekJsonRecord::new();
/// assert!(r.read_record(&mut rec)?);
/// assert_eq!(rec.field("conn_state"), Some("SF"));
/// assert_eq!(rec.count("orig_pkts")?, Some(18));
/// let ev = rec.conn_event()?;
/// assert_eq!(ev.ts.as_micros(), 1_672_843_056_913_119);
/// assert_eq!(ev.dst_port, Some(443));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ZeekJsonRecord {
    line: Vec<u8>,
    parsed: Parsed,
    position: Position,
}

/// The scan of one line: unescaped strings, key/value spans and the known fields' slots.
#[derive(Debug, Clone, Default)]
struct Parsed {
    scratch: Vec<u8>,
    entries: Vec<Entry>,
    // Index into `entries` of each known field.
    slots: [Option<usize>; 12],
    // A problem found while scanning the line.
    bad: Option<Bad>,
}

impl Parsed {
    /// Scans `line` into entries.
    fn scan(&mut self, line: &[u8]) {
        self.entries.clear();
        self.scratch.clear();
        self.slots = [None; 12];
        self.bad = None;
        let mut sc = Scanner::new(line);
        let r = scan_object(&mut sc, &mut self.scratch, &mut self.entries, None, 0)
            .and_then(|()| if sc.at_end() { Ok(()) } else { Err(bad_json(sc.i)) });
        if let Err(b) = r {
            self.bad = Some(b);
            return;
        }
        for (n, e) in self.entries.iter().enumerate() {
            if let Some(s) = span_bytes(line, &self.scratch, e.key).and_then(slot_of) {
                self.slots[s] = Some(n);
            }
        }
    }
}

fn span_bytes<'a>(line: &'a [u8], scratch: &'a [u8], s: Span) -> Option<&'a [u8]> {
    let buf = if s.scratch { scratch } else { line };
    buf.get(s.start..s.end)
}

/// A scanned line: the line itself plus its scan.
#[derive(Clone, Copy)]
struct View<'a> {
    line: &'a [u8],
    p: &'a Parsed,
}

fn bad_json(at: usize) -> Bad {
    let mut b = Bad::new(SkipReason::BadJson);
    b.value = Some(at..at.saturating_add(40));
    b
}

impl From<ScanError> for Bad {
    fn from(e: ScanError) -> Bad {
        bad_json(e.offset)
    }
}

/// A scanned string as a span of the line or the scratch buffer.
fn span(t: Text) -> Span {
    match t {
        Text::Input(start, end) => Span {
            scratch: false,
            start,
            end,
        },
        Text::Scratch(start, end) => Span {
            scratch: true,
            start,
            end,
        },
    }
}

#[inline]
fn slot_of(key: &[u8]) -> Option<usize> {
    // A match compiles to a switch on length, then a few compares.
    Some(match key {
        b"ts" => TS,
        b"uid" => UID,
        b"id.orig_h" => ORIG_H,
        b"id.orig_p" => ORIG_P,
        b"id.resp_h" => RESP_H,
        b"id.resp_p" => RESP_P,
        b"proto" => PROTO,
        b"duration" => DURATION,
        b"orig_bytes" => ORIG_BYTES,
        b"resp_bytes" => RESP_BYTES,
        b"local_orig" => LOCAL_ORIG,
        b"local_resp" => LOCAL_RESP,
        _ => return None,
    })
}

impl ZeekJsonRecord {
    /// An empty record.
    pub fn new() -> Self {
        ZeekJsonRecord::default()
    }

    /// The whole line.
    pub fn as_bytes(&self) -> &[u8] {
        &self.line
    }

    /// Where the record starts in the (decompressed) input.
    pub fn position(&self) -> Position {
        self.position
    }

    /// The number of keys (nested `id` keys counted flattened).
    pub fn len(&self) -> usize {
        self.parsed.entries.len()
    }

    /// Whether the record has no keys.
    pub fn is_empty(&self) -> bool {
        self.parsed.entries.is_empty()
    }

    fn view(&self) -> View<'_> {
        View {
            line: &self.line,
            p: &self.parsed,
        }
    }

    /// The keys, in order (`id.orig_h`, …).
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        let v = self.view();
        self.parsed.entries.iter().map(move |e| v.text(e.key))
    }

    /// A string or number value by key, unescaped; `None` if absent, `null`, an object or
    /// array, or not UTF-8.
    pub fn field(&self, name: &str) -> Option<&str> {
        let v = self.view();
        let e = v.entry(name)?;
        match e.kind {
            Kind::Str | Kind::Num | Kind::Bool => core::str::from_utf8(v.bytes(e.val)).ok(),
            Kind::Null | Kind::Other => None,
        }
    }

    /// A value's JSON text exactly as written in the line (quotes, escapes, arrays and objects
    /// included); `None` if the key is absent. For array fields such as DNS `answers`.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{read::{ZeekJsonReader, ZeekJsonRecord}};
    /// let log = r#"{"ts":1,"id.orig_h":"a","id.resp_h":"b","answers":["1.2.3.4", "5.6.7.8"]}"#;
    /// let mut r = ZeekJsonReader::from_reader(log.as_bytes())?;
    /// let mut rec = ZeekJsonRecord::new();
    /// assert!(r.read_record(&mut rec)?);
    /// assert_eq!(rec.raw_value("answers"), Some(r#"["1.2.3.4", "5.6.7.8"]"#));
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn raw_value(&self, name: &str) -> Option<&str> {
        let e = self.view().entry(name)?;
        core::str::from_utf8(self.line.get(e.raw.0..e.raw.1)?).ok()
    }

    /// Why the line could not be scanned (malformed JSON, too long), if it could not.
    pub(crate) fn scan_error(&self) -> Option<&Bad> {
        self.parsed.bad.as_ref()
    }

    /// A count by key: `Ok(None)` if absent or `null`.
    ///
    /// # Errors
    /// A parse error naming the key and value if it is not a non-negative integer.
    pub fn count(&self, name: &str) -> Result<Option<u64>> {
        let v = self.view();
        let Some(e) = v.entry(name) else {
            return Ok(None);
        };
        if e.kind == Kind::Null {
            return Ok(None);
        }
        parse_count(v.bytes(e.val)).map(Some).ok_or_else(|| {
            Error::parse(
                self.position,
                Some(name),
                self.line.get(e.raw.0..e.raw.1),
                SkipReason::BadNumber.as_str(),
            )
        })
    }

    /// The connection as a borrowed event.
    ///
    /// # Errors
    /// A parse error with the line, field and value when the line is not a JSON object, a
    /// required key (`ts`, `id.orig_h`, `id.resp_h`) is missing, or a mapped value does not
    /// parse.
    pub fn conn_event(&self) -> Result<ConnEvent<'_>> {
        let v = self.view();
        match v.raw() {
            Ok(raw) => Ok(v.resolve(raw)),
            Err(bad) => Err(bad.to_error(self.position, &self.line)),
        }
    }
}

impl<'a> View<'a> {
    fn bytes(&self, s: Span) -> &'a [u8] {
        span_bytes(self.line, &self.p.scratch, s).unwrap_or_default()
    }

    fn text(&self, s: Span) -> &'a str {
        core::str::from_utf8(self.bytes(s)).unwrap_or("")
    }

    fn entry(&self, name: &str) -> Option<&'a Entry> {
        self.p
            .entries
            .iter()
            .rev()
            .find(|e| self.bytes(e.key) == name.as_bytes())
    }

    fn raw(&self) -> core::result::Result<RawJson, Bad> {
        if let Some(b) = &self.p.bad {
            return Err(b.clone());
        }
        let get = |slot: usize| -> Option<&Entry> {
            let e = self.p.entries.get(self.p.slots[slot]?)?;
            (e.kind != Kind::Null && !(e.kind == Kind::Str && e.val.start == e.val.end)).then_some(e)
        };
        let raw_range = |e: &Entry| Some(e.raw.0..e.raw.1);
        let name = |slot: usize| SLOT_NAMES[slot];
        let ts_e = get(TS).ok_or_else(|| Bad::field(SkipReason::MissingField, "ts", None))?;
        let ts = match ts_e.kind {
            Kind::Num | Kind::Str => parse_ts_secs(self.bytes(ts_e.val)),
            _ => None,
        }
        .ok_or_else(|| Bad::field(SkipReason::BadTimestamp, "ts", raw_range(ts_e)))?;
        let text = |slot: usize, required: bool| -> core::result::Result<Option<Span>, Bad> {
            match get(slot) {
                None if required => Err(Bad::field(SkipReason::MissingField, name(slot), None)),
                None => Ok(None),
                Some(e) if e.kind == Kind::Str || e.kind == Kind::Num => {
                    if is_text(self.bytes(e.val)) {
                        Ok(Some(e.val))
                    } else {
                        Err(Bad::field(SkipReason::BadUtf8, name(slot), raw_range(e)))
                    }
                }
                Some(e) => Err(Bad::field(SkipReason::MissingField, name(slot), raw_range(e))),
            }
        };
        let src = text(ORIG_H, true)?.unwrap_or_default();
        let dst = text(RESP_H, true)?.unwrap_or_default();
        let uid = text(UID, false)?;
        let port = |slot: usize| match get(slot) {
            None => Ok(None),
            Some(e) => parse_port(self.bytes(e.val))
                .map(Some)
                .ok_or_else(|| Bad::field(SkipReason::BadPort, name(slot), raw_range(e))),
        };
        let count = |slot: usize| match get(slot) {
            None => Ok(None),
            Some(e) => parse_count(self.bytes(e.val))
                .map(Some)
                .ok_or_else(|| Bad::field(SkipReason::BadNumber, name(slot), raw_range(e))),
        };
        let src_port = port(ORIG_P)?;
        let dst_port = port(RESP_P)?;
        let bytes_out = count(ORIG_BYTES)?;
        let bytes_in = count(RESP_BYTES)?;
        let duration = match get(DURATION) {
            None => None,
            Some(e) => Some(
                parse_duration(self.bytes(e.val))
                    .ok_or_else(|| Bad::field(SkipReason::BadNumber, "duration", raw_range(e)))?,
            ),
        };
        let proto = get(PROTO).map_or(Proto::Other, |e| parse_proto(self.bytes(e.val)));
        // JSON `true`/`false`; anything else says nothing (not a reason to skip the event).
        let flag = |slot: usize| match get(slot) {
            Some(e) if e.kind == Kind::Bool => Some(self.bytes(e.val) == b"true"),
            _ => None,
        };
        let (local_orig, local_resp) = (flag(LOCAL_ORIG), flag(LOCAL_RESP));
        Ok(RawJson {
            ts,
            src,
            dst,
            uid,
            src_port,
            dst_port,
            proto,
            duration,
            bytes_out,
            bytes_in,
            local_orig,
            local_resp,
        })
    }

    fn resolve(&self, r: RawJson) -> ConnEvent<'a> {
        let mut ev = ConnEvent::new(r.ts, self.text(r.src), self.text(r.dst));
        ev.src_port = r.src_port;
        ev.dst_port = r.dst_port;
        ev.proto = r.proto;
        ev.duration = r.duration;
        ev.bytes_out = r.bytes_out;
        ev.bytes_in = r.bytes_in;
        ev.uid = r.uid.map(|s| self.text(s));
        ev.local_orig = r.local_orig;
        ev.local_resp = r.local_resp;
        ev
    }
}

fn scan_object(
    sc: &mut Scanner<'_>,
    scratch: &mut Vec<u8>,
    entries: &mut Vec<Entry>,
    prefix: Option<Span>,
    depth: usize,
) -> core::result::Result<(), Bad> {
    sc.eat(b'{', "expected '{'")?;
    sc.ws();
    if sc.peek() == Some(b'}') {
        sc.i += 1;
        return Ok(());
    }
    loop {
        sc.ws();
        if sc.peek() != Some(b'"') {
            return Err(bad_json(sc.i));
        }
        let mut key = span(sc.string(scratch)?);
        if let Some(p) = prefix {
            // Flattened nested key: "<prefix>.<key>" in scratch.
            let s0 = scratch.len();
            append_span(sc.input(), scratch, p);
            scratch.push(b'.');
            append_span(sc.input(), scratch, key);
            key = Span {
                scratch: true,
                start: s0,
                end: scratch.len(),
            };
        }
        sc.eat(b':', "expected ':'")?;
        sc.ws();
        let vstart = sc.i;
        let raw = |end: usize| Span {
            scratch: false,
            start: vstart,
            end,
        };
        let (val, kind) = match sc.peek() {
            Some(b'"') => (span(sc.string(scratch)?), Kind::Str),
            Some(b'{') if depth == 0 => {
                scan_object(sc, scratch, entries, Some(key), depth + 1)?;
                (raw(sc.i), Kind::Other)
            }
            Some(b'{' | b'[') => {
                sc.skip_value()?;
                (raw(sc.i), Kind::Other)
            }
            Some(b'-' | b'0'..=b'9') => {
                let (_, end) = sc.number();
                (raw(end), Kind::Num)
            }
            _ => {
                let kind = match sc.literal()? {
                    Literal::True | Literal::False => Kind::Bool,
                    Literal::Null => Kind::Null,
                };
                (raw(sc.i), kind)
            }
        };
        entries.push(Entry {
            key,
            val,
            kind,
            raw: (vstart, sc.i),
        });
        sc.ws();
        match sc.peek() {
            Some(b',') => sc.i += 1,
            Some(b'}') => {
                sc.i += 1;
                return Ok(());
            }
            _ => return Err(bad_json(sc.i)),
        }
    }
}

/// Appends a span's bytes to scratch without a temporary allocation.
fn append_span(line: &[u8], scratch: &mut Vec<u8>, s: Span) {
    if s.scratch {
        if s.start <= s.end && s.end <= scratch.len() {
            scratch.extend_from_within(s.start..s.end);
        }
    } else {
        scratch.extend_from_slice(line.get(s.start..s.end).unwrap_or_default());
    }
}

#[derive(Debug, Clone, Copy)]
struct RawJson {
    ts: Timestamp,
    src: Span,
    dst: Span,
    uid: Option<Span>,
    src_port: Option<u16>,
    dst_port: Option<u16>,
    proto: Proto,
    duration: Option<Interval>,
    bytes_out: Option<u64>,
    bytes_in: Option<u64>,
    local_orig: Option<bool>,
    local_resp: Option<bool>,
}

/// Builds a [`ZeekJsonReader`].
///
/// # Example
/// ```
/// use beaconstat::read::ZeekJsonReader;
/// let log = "{\"ts\":\"2023-01-04T14:37:37.5Z\",\"id.orig_h\":\"a\",\"id.resp_h\":\"b\"}\nnot json\n";
/// let mut r = ZeekJsonReader::builder().strict(true).from_reader(log.as_bytes())?;
/// assert_eq!(r.next_event()?.unwrap().ts.as_micros(), 1_672_843_057_500_000);
/// assert!(r.next_event().is_err());
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ZeekJsonReaderBuilder {
    opts: ReadOptions,
}

impl ZeekJsonReaderBuilder {
    /// Defaults: skip bad records.
    pub fn new() -> Self {
        ZeekJsonReaderBuilder::default()
    }
    line_reader_builder_methods! {
        builder: ZeekJsonReaderBuilder,
        reader: ZeekJsonReader,
        log: "{\"ts\":1.5,\"id.orig_h\":\"a\",\"id.resp_h\":\"b\"}\nnot json\n",
        from_reader_errors: "An I/O error if the first read fails.",
        from_path_errors: "An I/O error naming the path.",
        build: |this, lines, path| Ok(this.build_input(lines, path)),
    }
    pub(crate) fn build_input<R: Read>(&self, lines: Lines<R>, path: Option<PathBuf>) -> ZeekJsonReader<R> {
        ZeekJsonReader {
            lines,
            stats: ReadStats::for_path(path.as_deref()),
            path,
            strict: self.opts.strict,
            rec: ZeekJsonRecord::new(),
            parsed: Parsed::default(),
            raw: None,
        }
    }
}

/// Reads Zeek JSON logs (one object per line, plain or gzip) into borrowed [`ConnEvent`]s.
///
/// `ts` may be float seconds (parsed exactly from its decimal text) or an ISO 8601 string.
///
/// # Example
/// ```
/// use beaconstat::read::ZeekJsonReader;
/// let log = concat!(
///     r#"{"ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2","id.resp_p":443,"proto":"tcp"}"#, "\n",
///     r#"{"ts":2.5,"id":{"orig_h":"10.0.0.1","resp_h":"10.0.0.3"},"orig_bytes":10}"#, "\n",
/// );
/// let mut r = ZeekJsonReader::from_reader(log.as_bytes())?;
/// let mut dsts = Vec::new();
/// r.for_each(|ev| dsts.push(ev.dst.to_owned()))?;
/// assert_eq!(dsts, ["10.0.0.2", "10.0.0.3"]);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug)]
pub struct ZeekJsonReader<R: Read> {
    lines: Lines<R>,
    path: Option<PathBuf>,
    stats: ReadStats,
    strict: bool,
    rec: ZeekJsonRecord,
    // Scan state for the in-place path of `for_each`.
    parsed: Parsed,
    // The event `advance` stopped at, as spans into `rec`.
    raw: Option<RawJson>,
}

impl ZeekJsonReader<File> {
    /// A builder for non-default settings.
    pub fn builder() -> ZeekJsonReaderBuilder {
        ZeekJsonReaderBuilder::new()
    }

    /// Opens a Zeek JSON log (plain or gzip) with default settings.
    ///
    /// # Errors
    /// An I/O error naming the path.
    pub fn from_path<P: AsRef<Path>>(path: P) -> Result<ZeekJsonReader<File>> {
        ZeekJsonReaderBuilder::new().from_path(path)
    }
}

impl<R: Read> ZeekJsonReader<R> {
    /// A reader over `rdr` with default settings.
    ///
    /// # Errors
    /// An I/O error if the first read fails.
    pub fn from_reader(rdr: R) -> Result<ZeekJsonReader<R>> {
        ZeekJsonReaderBuilder::new().from_reader(rdr)
    }

    fn read_into(
        lines: &mut Lines<R>,
        path: &Option<PathBuf>,
        stats: &mut ReadStats,
        rec: &mut ZeekJsonRecord,
    ) -> Result<bool> {
        loop {
            let info = match lines.next_line(&mut rec.line) {
                Ok(Some(i)) => i,
                Ok(None) => {
                    lines.count_damage(stats);
                    return Ok(false);
                }
                Err(e) => return Err(Error::io(path.clone(), e)),
            };
            if rec.line.iter().all(u8::is_ascii_whitespace) && !info.too_long {
                continue;
            }
            stats.records += 1;
            rec.position = info.position;
            rec.parsed.scan(&rec.line);
            if info.too_long {
                rec.parsed.bad = Some(Bad::new(SkipReason::LineTooLong));
            }
            return Ok(true);
        }
    }

    /// Reads the next non-blank line into `rec` and scans it. Returns `false` at end of input.
    /// A malformed line is still a record: [`ZeekJsonRecord::conn_event`] reports why.
    ///
    /// # Errors
    /// I/O errors.
    pub fn read_record(&mut self, rec: &mut ZeekJsonRecord) -> Result<bool> {
        Self::read_into(&mut self.lines, &self.path, &mut self.stats, rec)
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
            if !Self::read_into(&mut self.lines, &self.path, &mut self.stats, &mut self.rec)? {
                self.raw = None;
                return Ok(false);
            }
            match self.rec.view().raw() {
                Ok(raw) => {
                    self.stats.events += 1;
                    self.raw = Some(raw);
                    return Ok(true);
                }
                Err(bad) => {
                    if self.strict {
                        return Err(bad.to_error(self.rec.position, &self.rec.line));
                    }
                    self.stats.skip(self.rec.position, &bad, &self.rec.line);
                }
            }
        }
    }

    /// The event [`advance`](ZeekJsonReader::advance) stopped at.
    pub(crate) fn current(&self) -> Option<ConnEvent<'_>> {
        self.raw.map(|raw| self.rec.view().resolve(raw))
    }

    /// Like `next_event`, also handing out the record the event came from, for its other
    /// fields (`conn_state`, labels, packet counts).
    ///
    /// # Errors
    /// As `next_event`.
    pub fn next_event_with_record(&mut self) -> Result<Option<(ConnEvent<'_>, &ZeekJsonRecord)>> {
        if self.next_event()?.is_none() {
            return Ok(None);
        }
        // The record just parsed; parse it again from the shared borrow (cheap, no I/O).
        let v = self.rec.view();
        match v.raw() {
            Ok(raw) => Ok(Some((v.resolve(raw), &self.rec))),
            Err(bad) => Err(bad.to_error(self.rec.position, &self.rec.line)),
        }
    }

    /// Calls `f` with every event until the end of input: the fastest path, scanning each
    /// line in place in the input buffer (no copy into a record). It does not update
    /// [`record`](ZeekJsonReader::record).
    ///
    /// # Errors
    /// As [`next_event`](ZeekJsonReader::next_event).
    pub fn for_each<F: FnMut(ConnEvent<'_>)>(&mut self, mut f: F) -> Result<()> {
        loop {
            let (info, s, e) = match self.lines.next_slice() {
                Ok(Some(x)) => x,
                Ok(None) => {
                    self.lines.count_damage(&mut self.stats);
                    return Ok(());
                }
                Err(err) => return Err(Error::io(self.path.clone(), err)),
            };
            let line = &self.lines.buf()[s..e];
            if line.iter().all(u8::is_ascii_whitespace) && !info.too_long {
                continue;
            }
            self.stats.records += 1;
            self.parsed.scan(line);
            if info.too_long {
                self.parsed.bad = Some(Bad::new(SkipReason::LineTooLong));
            }
            let v = View { line, p: &self.parsed };
            match v.raw() {
                Ok(raw) => {
                    self.stats.events += 1;
                    f(v.resolve(raw));
                }
                Err(bad) => {
                    if self.strict {
                        return Err(bad.to_error(info.position, line));
                    }
                    self.stats.skip(info.position, &bad, line);
                }
            }
        }
    }

    /// The last record read by [`next_event`](ZeekJsonReader::next_event) or
    /// [`next_event_with_record`](ZeekJsonReader::next_event_with_record).
    pub fn record(&self) -> &ZeekJsonRecord {
        &self.rec
    }

    /// What has been read so far.
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    pub(crate) fn stats_mut(&mut self) -> &mut ReadStats {
        &mut self.stats
    }

    /// Lines read so far (blank lines included).
    pub(crate) fn lines_read(&self) -> u64 {
        self.lines.lines_read()
    }

    /// Whether the input is gzip-compressed.
    pub fn is_gzip(&self) -> bool {
        self.lines.input.is_gzip()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> core::result::Result<String, SkipReason> {
        let mut r = ZeekJsonReader::from_reader(line.as_bytes()).unwrap();
        let mut rec = ZeekJsonRecord::new();
        assert!(r.read_record(&mut rec).unwrap());
        let v = rec.view();
        match v.raw() {
            Ok(raw) => {
                let e = v.resolve(raw);
                Ok(format!(
                    "{} {} {} {:?} {:?}",
                    e.ts.as_micros(),
                    e.src,
                    e.dst,
                    e.dst_port,
                    e.uid
                ))
            }
            Err(b) => Err(b.reason),
        }
    }

    #[test]
    fn escapes_unicode_and_nesting() {
        assert_eq!(
            one(
                r#"{"ts":1,"uid":"C\"x\u00e9\ud83d\ude00","id.orig_h":"a\/b","id.resp_h":"c","tags":["x}",{"y":"]"}]}"#
            ),
            Ok("1000000 a/b c None Some(\"C\\\"xé😀\")".to_owned())
        );
        assert_eq!(
            one(r#" { "ts" : 1.25e0 , "id" : { "orig_h" : "a" , "resp_h" : "b", "resp_p": 53 } } "#),
            Ok("1250000 a b Some(53) None".to_owned())
        );
        // An unpaired surrogate is one replaced character, as in every JSON input of the crate.
        assert_eq!(
            one(r#"{"ts":1,"id.orig_h":"\ud800x","id.resp_h":"b"}"#),
            Ok("1000000 \u{FFFD}x b None None".to_owned())
        );
        assert_eq!(
            one(r#"{"ts":"1672843057.000001","id.orig_h":"a","id.resp_h":"b","id.resp_p":null}"#),
            Ok("1672843057000001 a b None None".to_owned())
        );
    }

    #[test]
    fn malformed_lines() {
        for bad in [
            r#"{"ts":1,"id.orig_h":"a","id.resp_h":"b""#,
            r#"{"ts":1,"id.orig_h":"a","id.resp_h":"b"} x"#,
            r#"{"ts":1,"id.orig_h":"a\q","id.resp_h":"b"}"#,
            r#"{"ts":tru}"#,
            r#"[1,2]"#,
            r#"{"ts":1,"x":[1,2}"#,
        ] {
            assert_eq!(one(bad), Err(SkipReason::BadJson), "{bad}");
        }
        assert_eq!(
            one(r#"{"id.orig_h":"a","id.resp_h":"b"}"#),
            Err(SkipReason::MissingField)
        );
        assert_eq!(
            one(r#"{"ts":"x","id.orig_h":"a","id.resp_h":"b"}"#),
            Err(SkipReason::BadTimestamp)
        );
        assert_eq!(
            one(r#"{"ts":1,"id.orig_h":"a","id.resp_h":"b","id.resp_p":-1}"#),
            Err(SkipReason::BadPort)
        );
    }

    #[test]
    fn slots_match_names() {
        for (i, n) in SLOT_NAMES.iter().enumerate() {
            assert_eq!(slot_of(n.as_bytes()), Some(i));
        }
        assert_eq!(slot_of(b"id.orig"), None);
    }

    #[test]
    fn scratch_is_reused() {
        let line = r#"{"ts":1,"id.orig_h":"\u0061","id.resp_h":"b"}"#;
        let input = format!("{line}\n{line}\n{line}\n");
        let mut r = ZeekJsonReader::from_reader(input.as_bytes()).unwrap();
        let mut rec = ZeekJsonRecord::new();
        assert!(r.read_record(&mut rec).unwrap());
        let cap = (
            rec.parsed.scratch.capacity(),
            rec.line.capacity(),
            rec.parsed.entries.capacity(),
        );
        while r.read_record(&mut rec).unwrap() {
            assert_eq!(rec.conn_event().unwrap().src, "a");
            assert_eq!(
                (
                    rec.parsed.scratch.capacity(),
                    rec.line.capacity(),
                    rec.parsed.entries.capacity()
                ),
                cap
            );
        }
    }
}
