//! The reader shell shared by the Zeek logs other than `conn.log` (`dns`/`ssl`/`http` in
//! [`zeek_names`](super::zeek_names), `dhcp` in [`zeek_dhcp`](super::zeek_dhcp)): TSV or JSON
//! detection, the connection readers' header handling, gzip, line limits and skip accounting,
//! with each log's own fields read by a [`LogSchema`].
//!
//! ```text
//!   io::Read ──▶ ZeekLog (ZeekReader or ZeekJsonReader + the schema's column cache)
//!                  │ advance: one line into the reader's record
//!                  ▼
//!              LogSchema::tsv / ::json ──▶ S::Record<'record> (borrowed) or Bad (counted)
//! ```

use super::num::parse_duration;
use super::{Format, ZeekJsonReader, ZeekJsonReaderBuilder, ZeekJsonRecord};
use super::{ZeekHeader, ZeekReader, ZeekReaderBuilder, ZeekRecord, detect};
use crate::error::{Error, Result};
use crate::input::{Bad, ReadOptions, ReadStats, SkipReason};
use crate::time::Interval;
use core::ops::Range;
use std::io::Read;
use std::path::Path;

/// A field's value: absent/unset, text, or not UTF-8 (with its byte range in the line).
pub(super) type Val<'a> = core::result::Result<Option<&'a str>, Option<Range<usize>>>;

/// How one Zeek log's records are read from a TSV or JSON line.
pub(super) trait LogSchema {
    /// What is cached per TSV header block (column indices).
    type Cols: Default + core::fmt::Debug;
    /// A record, borrowed from the line.
    type Record<'a>;
    /// Refreshes `cols` for `rec`'s header block (cheap when the block is the same).
    fn refresh(cols: &mut Self::Cols, rec: &ZeekRecord);
    /// Reads a TSV line.
    fn tsv<'a>(rec: &'a ZeekRecord, cols: &Self::Cols) -> core::result::Result<Self::Record<'a>, Bad>;
    /// Reads a JSON line.
    fn json(rec: &ZeekJsonRecord) -> core::result::Result<Self::Record<'_>, Bad>;
}

/// Column indices of `N` field names, cached per TSV header block (identified by its
/// address, which is stable while the reader holds the block's `Arc`).
#[derive(Debug, Clone)]
pub(super) struct ColIndex<const N: usize> {
    header: usize,
    pub(super) idx: [Option<usize>; N],
    /// The header's set separator (`,` by default).
    pub(super) sep: u8,
}

impl<const N: usize> Default for ColIndex<N> {
    fn default() -> Self {
        ColIndex {
            header: 0,
            idx: [None; N],
            sep: b',',
        }
    }
}

impl<const N: usize> ColIndex<N> {
    /// Looks `fields` up in `rec`'s header when the block changed; the header when it did
    /// (`None` when unchanged, or when there is no header: then every column is absent).
    pub(super) fn refresh<'r>(&mut self, rec: &'r ZeekRecord, fields: &[&str; N]) -> Option<&'r ZeekHeader> {
        let Some(h) = rec.header() else {
            *self = ColIndex::default();
            return None;
        };
        let addr = core::ptr::from_ref(h) as usize;
        if addr == self.header {
            return None;
        }
        self.header = addr;
        for (slot, name) in self.idx.iter_mut().zip(fields) {
            *slot = h.index(name);
        }
        self.sep = h.set_separator().first().copied().unwrap_or(b',');
        Some(h)
    }
}

/// Checks a TSV line against its header and gives the accessor of its fields by slot:
/// unset (`-`) and empty (`(empty)`) values are absent, text must be UTF-8.
pub(super) fn tsv_fields<'a, const N: usize>(
    rec: &'a ZeekRecord,
    cols: &ColIndex<N>,
) -> core::result::Result<impl Fn(usize) -> Val<'a>, Bad> {
    let Some(h) = rec.header() else {
        return Err(Bad::new(SkipReason::NoHeader));
    };
    if rec.len() != h.fields().len() {
        return Err(Bad::count(h.fields().len(), rec.len()));
    }
    let base = rec.as_bytes().as_ptr() as usize;
    let (unset, empty) = (h.unset_field(), h.empty_field());
    let idx = cols.idx;
    Ok(move |i: usize| -> Val<'a> {
        let Some(v) = idx.get(i).copied().flatten().and_then(|c| rec.get(c)) else {
            return Ok(None);
        };
        if v.is_empty() || v == unset || v == empty {
            return Ok(None);
        }
        match core::str::from_utf8(v) {
            Ok(s) => Ok(Some(s)),
            Err(_) => {
                let start = (v.as_ptr() as usize).saturating_sub(base);
                Err(Some(start..start + v.len()))
            }
        }
    })
}

/// A JSON line's string or number field (`""` and `null` are absent).
pub(super) fn json_field<'a>(rec: &'a ZeekJsonRecord, name: &str) -> Val<'a> {
    match rec.field(name) {
        Some("") | None => Ok(None),
        Some(s) => Ok(Some(s)),
    }
}

/// An optional interval field (`lease_time`, `duration`): absent, or a non-negative number of
/// seconds (else [`SkipReason::BadNumber`] naming the field).
pub(super) fn interval_field(v: Option<&str>, field: &'static str) -> core::result::Result<Option<Interval>, Bad> {
    v.map(|s| parse_duration(s.as_bytes()).ok_or_else(|| Bad::field(SkipReason::BadNumber, field, None)))
        .transpose()
}

/// A Zeek `set` or `vector` field (TSV: items joined by the set separator; JSON: an array),
/// borrowed from the line. Iterate with [`ZeekList::iter`]; nothing is split until then.
///
/// # Example
/// ```
/// use beaconstat::read::{DhcpLogReader};
/// let log = r#"{"ts":1.0,"uids":["C1","C2"],"mac":"00:11:22:33:44:55","assigned_addr":"10.0.0.7","msg_types":["REQUEST","ACK"]}"#;
/// let mut r = DhcpLogReader::from_reader(log.as_bytes())?;
/// let d = r.next_record()?.unwrap();
/// assert_eq!(d.uids.iter().collect::<Vec<_>>(), ["C1", "C2"]);
/// assert_eq!(d.msg_types.iter().collect::<Vec<_>>(), ["REQUEST", "ACK"]);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ZeekList<'a> {
    raw: &'a str,
    sep: u8,
    json: bool,
}

impl<'a> ZeekList<'a> {
    /// A TSV field's text split at `sep`.
    pub(super) fn tsv(raw: Option<&'a str>, sep: u8) -> Self {
        ZeekList {
            raw: raw.unwrap_or(""),
            sep,
            json: false,
        }
    }

    /// A JSON value's text as written (`["a","b"]`, or a lone string or number).
    pub(super) fn json(raw: Option<&'a str>) -> Self {
        let t = raw.unwrap_or("").trim();
        ZeekList {
            raw: t.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(t),
            sep: b',',
            json: true,
        }
    }

    /// The items in order, trimmed (JSON quotes removed); empty items are given too, so two
    /// lists logged side by side (DNS `answers` and `TTLs`) stay in step.
    pub fn iter(&self) -> ZeekListIter<'a> {
        ZeekListIter {
            rest: self.raw,
            sep: self.sep,
            json: self.json,
        }
    }

    /// Whether there are no non-empty items.
    pub fn is_empty(&self) -> bool {
        self.iter().all(str::is_empty)
    }

    /// Whether an item equals `item` ignoring ASCII case.
    pub fn contains(&self, item: &str) -> bool {
        self.iter().any(|i| i.eq_ignore_ascii_case(item))
    }
}

/// Iterator over a [`ZeekList`] (see there for an example).
#[derive(Debug, Clone)]
pub struct ZeekListIter<'a> {
    rest: &'a str,
    sep: u8,
    json: bool,
}

impl<'a> Iterator for ZeekListIter<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let (item, rest) = match memchr::memchr(self.sep, self.rest.as_bytes()) {
            // `sep` is ASCII, so both sides are on char boundaries.
            Some(i) => (self.rest.get(..i).unwrap_or(""), self.rest.get(i + 1..).unwrap_or("")),
            None => (self.rest, ""),
        };
        self.rest = rest;
        let item = item.trim();
        Some(if self.json { item.trim_matches('"') } else { item })
    }
}

/// The reader and its reusable record (boxed: the two differ in size by hundreds of bytes).
#[derive(Debug)]
enum Inner<R: Read, C> {
    Tsv(Box<ZeekReader<R>>, ZeekRecord, C),
    Json(Box<ZeekJsonReader<R>>, Box<ZeekJsonRecord>),
}

/// A Zeek TSV or JSON log read line by line into `S`'s records, bad lines skipped and
/// counted (or, in strict mode, the first one an error).
#[derive(Debug)]
pub(super) struct ZeekLog<R: Read, S: LogSchema> {
    inner: Inner<R, S::Cols>,
    stats: ReadStats,
    strict: bool,
}

impl<R: Read, S: LogSchema> ZeekLog<R, S> {
    /// A log over `rdr` (TSV or JSON detected from the first line; gzip by its magic); `path`
    /// names it in errors and statistics.
    pub(super) fn build(rdr: R, opts: &ReadOptions, path: Option<&Path>) -> Result<Self> {
        let io = |e| Error::io(path.map(Path::to_path_buf), e);
        let mut lines = opts.lines(rdr, path)?;
        let head = lines.peek(64 * 1024).map_err(io)?;
        let what = path.map_or_else(|| "input".to_owned(), |p| p.display().to_string());
        let path_buf = path.map(Path::to_path_buf);
        // The inner reader counts lines; this reader decides what is skipped (strictly or not).
        let mut lenient = opts.clone();
        lenient.strict(false);
        let format = detect(head);
        let empty = format.is_none() && head.iter().all(u8::is_ascii_whitespace);
        let inner = match format {
            Some(Format::ZeekJson) => Inner::Json(
                Box::new(
                    ZeekJsonReaderBuilder::new()
                        .options(&lenient)
                        .build_input(lines, path_buf.clone()),
                ),
                Box::new(ZeekJsonRecord::new()),
            ),
            // An empty file reads as TSV (no records).
            Some(Format::ZeekTsv) | None if format.is_some() || empty => Inner::Tsv(
                Box::new(
                    ZeekReaderBuilder::new()
                        .options(&lenient)
                        .build_input(lines, path_buf.clone()),
                ),
                ZeekRecord::new(),
                S::Cols::default(),
            ),
            _ => return Err(Error::format(format!("{what}: not a Zeek TSV or Zeek JSON log"))),
        };
        Ok(ZeekLog {
            inner,
            stats: ReadStats::for_path(path_buf.as_deref()),
            strict: opts.strict,
        })
    }

    /// The input format (Zeek TSV or Zeek JSON).
    pub(super) fn format(&self) -> Format {
        match self.inner {
            Inner::Tsv(..) => Format::ZeekTsv,
            Inner::Json(..) => Format::ZeekJson,
        }
    }

    /// Reads the next line into the reader's record; `false` at the end.
    fn advance(&mut self) -> Result<bool> {
        let more = match &mut self.inner {
            Inner::Tsv(r, rec, cols) => {
                let more = r.read_record(rec)?;
                if more {
                    S::refresh(cols, rec);
                }
                more
            }
            Inner::Json(r, rec) => r.read_record(rec)?,
        };
        if more {
            self.stats.records += 1;
        }
        Ok(more)
    }

    fn parse(inner: &Inner<R, S::Cols>) -> core::result::Result<S::Record<'_>, Bad> {
        match inner {
            Inner::Tsv(_, rec, cols) => S::tsv(rec, cols),
            Inner::Json(_, rec) => S::json(rec),
        }
    }

    /// Counts a bad record, or fails in strict mode.
    fn reject(&mut self, bad: &Bad) -> Result<()> {
        let (pos, line) = match &self.inner {
            Inner::Tsv(_, rec, _) => (rec.position(), rec.as_bytes()),
            Inner::Json(_, rec) => (rec.position(), rec.as_bytes()),
        };
        if self.strict {
            return Err(bad.to_error(pos, line));
        }
        self.stats.skip(pos, bad, line);
        Ok(())
    }

    /// The next record, skipping (and counting) bad ones; `None` at end of input.
    pub(super) fn next_record(&mut self) -> Result<Option<S::Record<'_>>> {
        loop {
            if !self.advance()? {
                return Ok(None);
            }
            // Validate first, then hand out the borrow (the borrow checker cannot yet return a
            // borrow from one loop iteration and mutate in the next).
            match Self::parse(&self.inner).err() {
                None => break,
                Some(bad) => self.reject(&bad)?,
            }
        }
        self.stats.events += 1;
        Self::parse(&self.inner)
            .map(Some)
            .map_err(|_| Error::format("record changed"))
    }

    /// Calls `f` with every record until the end of input (each parsed once).
    pub(super) fn for_each<F: FnMut(S::Record<'_>)>(&mut self, mut f: F) -> Result<()> {
        while self.advance()? {
            let bad = match Self::parse(&self.inner) {
                Ok(rec) => {
                    f(rec);
                    None
                }
                Err(bad) => Some(bad),
            };
            match bad {
                None => self.stats.events += 1,
                Some(bad) => self.reject(&bad)?,
            }
        }
        Ok(())
    }

    /// What has been read so far (`events` = records handed out).
    pub(super) fn stats(&self) -> &ReadStats {
        &self.stats
    }
}

/// The public API of a reader wrapping a [`ZeekLog`] (`pub struct $reader<R: Read = File> {
/// log: ZeekLog<R, Schema> }`): opening, options, the format, `next_record`, `for_each`,
/// `stats`, each with its docs.
macro_rules! log_reader_api {
    ($reader:ident, $record:ident, $what:literal) => {
        impl $reader<File> {
            #[doc = concat!("Opens ", $what, " (TSV or JSON, plain or gzip).")]
            ///
            /// # Errors
            /// I/O errors naming the path; a format error if the file is neither Zeek TSV nor JSON.
            pub fn from_path<P: AsRef<Path>>(path: P) -> Result<$reader<File>> {
                Self::from_path_with(path, &ReadOptions::default())
            }

            #[doc = concat!("[`from_path`](", stringify!($reader), "::from_path) with `opts` (strict mode: the first bad record")]
            /// is an error instead of a counted skip).
            ///
            /// # Errors
            #[doc = concat!("As [`from_path`](", stringify!($reader), "::from_path).")]
            pub fn from_path_with<P: AsRef<Path>>(path: P, opts: &ReadOptions) -> Result<$reader<File>> {
                let path = path.as_ref();
                let f = File::open(path).map_err(|e| Error::io(Some(path.to_owned()), e))?;
                ZeekLog::build(f, opts, Some(path)).map(|log| $reader { log })
            }
        }

        impl<R: Read> $reader<R> {
            /// A reader over `rdr` (TSV or JSON detected from the first line; gzip by its magic).
            ///
            /// # Errors
            /// I/O errors; a format error if the input is neither Zeek TSV nor Zeek JSON.
            pub fn from_reader(rdr: R) -> Result<$reader<R>> {
                Self::with_options(rdr, &ReadOptions::default())
            }

            #[doc = concat!("[`from_reader`](", stringify!($reader), "::from_reader) with `opts`.")]
            ///
            /// # Errors
            #[doc = concat!("As [`from_reader`](", stringify!($reader), "::from_reader).")]
            pub fn with_options(rdr: R, opts: &ReadOptions) -> Result<$reader<R>> {
                ZeekLog::build(rdr, opts, None).map(|log| $reader { log })
            }

            /// The input format (Zeek TSV or Zeek JSON).
            pub fn format(&self) -> Format {
                self.log.format()
            }

            /// The next record, skipping (and counting) bad ones; `None` at end of input.
            ///
            /// # Errors
            /// I/O errors; in strict mode, the first bad record.
            pub fn next_record(&mut self) -> Result<Option<$record<'_>>> {
                self.log.next_record()
            }

            /// Calls `f` with every record until the end of input (each parsed once).
            ///
            /// # Errors
            #[doc = concat!("As [`next_record`](", stringify!($reader), "::next_record).")]
            pub fn for_each<F: FnMut($record<'_>)>(&mut self, f: F) -> Result<()> {
                self.log.for_each(f)
            }

            /// What has been read so far (`events` = records handed out).
            pub fn stats(&self) -> &ReadStats {
                self.log.stats()
            }
        }
    };
}
pub(super) use log_reader_api;
