//! Zeek TSV logs (`conn.log`, `conn.log.gz`, Stratosphere/IoT-23 `conn.log.labeled`).
//!
//! The reader honours Zeek's header: `#separator` (with its `\x09` escape), `#set_separator`,
//! `#empty_field`, `#unset_field`, `#fields`, `#types`, and any number of `#open`…`#close`
//! blocks in one file, each with its own field order. Fields may come in any order, extra
//! columns (labels) are kept, and optional columns may be missing. IoT-23's quirk, where the
//! last header column reads `tunnel_parents   label   detailed-label` (three spaces, not tabs),
//! is recognised and the last data column is split the same way.

use super::builder::line_reader_builder_methods;
use super::num::{is_text, parse_duration, parse_port_in, parse_proto, parse_ts_secs, parse_u64, parse_u64_in};
use crate::error::{Error, Position, Result};
use crate::event::{ConnEvent, Proto};
use crate::input::{Bad, LineInfo, Lines, ReadOptions, ReadStats, SkipReason};
use crate::time::{Interval, Timestamp};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The standard Zeek `conn.log` columns, used when a headerless log is read with
/// [`ZeekReaderBuilder::default_conn_fields`].
const CONN_FIELDS: [&str; 21] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
];

/// Column positions of the fields an event is built from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Idx {
    ts: Option<usize>,
    uid: Option<usize>,
    orig_h: Option<usize>,
    orig_p: Option<usize>,
    resp_h: Option<usize>,
    resp_p: Option<usize>,
    proto: Option<usize>,
    duration: Option<usize>,
    orig_bytes: Option<usize>,
    resp_bytes: Option<usize>,
    local_orig: Option<usize>,
    local_resp: Option<usize>,
}

impl Idx {
    fn needed(&self) -> usize {
        [
            self.ts,
            self.uid,
            self.orig_h,
            self.orig_p,
            self.resp_h,
            self.resp_p,
            self.proto,
            self.duration,
            self.orig_bytes,
            self.resp_bytes,
            self.local_orig,
            self.local_resp,
        ]
        .iter()
        .flatten()
        .max()
        .map_or(0, |m| m + 1)
    }

    fn from_names(names: &[String]) -> Idx {
        let find = |n: &str| names.iter().position(|f| f == n);
        Idx {
            ts: find("ts"),
            uid: find("uid"),
            orig_h: find("id.orig_h"),
            orig_p: find("id.orig_p"),
            resp_h: find("id.resp_h"),
            resp_p: find("id.resp_p"),
            proto: find("proto"),
            duration: find("duration"),
            orig_bytes: find("orig_bytes"),
            resp_bytes: find("resp_bytes"),
            local_orig: find("local_orig"),
            local_resp: find("local_resp"),
        }
    }
}

/// One Zeek header block: separators, markers and field names (shared by the records read
/// under it).
///
/// # Example
/// ```
/// use beaconstat::{read::{ZeekReader, ZeekRecord}};
/// let log = "#separator \\x09\n#unset_field\t-\n#fields\tts\tid.orig_h\tid.resp_h\n#types\ttime\taddr\taddr\n";
/// let mut r = ZeekReader::from_reader(log.as_bytes())?;
/// assert!(!r.read_record(&mut ZeekRecord::new())?);
/// let h = r.header().unwrap();
/// assert_eq!(h.fields(), ["ts", "id.orig_h", "id.resp_h"]);
/// assert_eq!(h.types(), ["time", "addr", "addr"]);
/// assert_eq!(h.separator(), b'\t');
/// assert_eq!(h.index("id.resp_h"), Some(2));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZeekHeader {
    separator: u8,
    set_separator: Vec<u8>,
    empty_field: Vec<u8>,
    unset_field: Vec<u8>,
    path: Option<String>,
    fields: Vec<String>,
    types: Vec<String>,
    // Names split out of the last tab column by three spaces (IoT-23); 0 for normal logs.
    quirk_extra: usize,
    idx: Idx,
    // 1 + the largest column index an event needs.
    needed: usize,
    // No marker starts with a digit or is `T` or `F` (Zeek's `-` and `(empty)`): a value that
    // does is then never a marker, and numbers and flags need no marker compare.
    plain_markers: bool,
}

impl ZeekHeader {
    fn new(state: &HeaderState, mut fields: Vec<String>) -> ZeekHeader {
        let mut quirk_extra = 0;
        if let Some(last) = fields.last()
            && last.contains("   ")
        {
            let parts: Vec<String> = last
                .split("   ")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect();
            if parts.len() > 1 {
                quirk_extra = parts.len() - 1;
                fields.pop();
                fields.extend(parts);
            }
        }
        let idx = Idx::from_names(&fields);
        let needed = idx.needed();
        let plain = |m: &[u8]| !(m.first().is_some_and(u8::is_ascii_digit) || m == b"T" || m == b"F");
        let plain_markers = plain(&state.unset_field) && plain(&state.empty_field);
        ZeekHeader {
            separator: state.separator,
            set_separator: state.set_separator.clone(),
            empty_field: state.empty_field.clone(),
            unset_field: state.unset_field.clone(),
            path: state.path.clone(),
            fields,
            types: Vec::new(),
            quirk_extra,
            idx,
            needed,
            plain_markers,
        }
    }

    /// The field names, in column order (IoT-23's space-joined last column split apart).
    pub fn fields(&self) -> &[String] {
        &self.fields
    }
    /// The field types from `#types` (empty if the block had none).
    pub fn types(&self) -> &[String] {
        &self.types
    }
    /// The column index of a field.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f == name)
    }
    /// The field separator byte (`\t` by default).
    pub fn separator(&self) -> u8 {
        self.separator
    }
    /// The separator inside set and vector values (`,` by default).
    pub fn set_separator(&self) -> &[u8] {
        &self.set_separator
    }
    /// The marker of an empty set or string (`(empty)` by default).
    pub fn empty_field(&self) -> &[u8] {
        &self.empty_field
    }
    /// The marker of an unset value (`-` by default).
    pub fn unset_field(&self) -> &[u8] {
        &self.unset_field
    }
    /// The log's `#path` (`conn`), if given.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }
    /// Whether the last column uses IoT-23's three-space quirk.
    pub fn has_space_quirk(&self) -> bool {
        self.quirk_extra > 0
    }

    #[inline(always)]
    fn is_unset(&self, v: &[u8]) -> bool {
        v.is_empty() || is_marker(v, &self.unset_field) || is_marker(v, &self.empty_field)
    }
}

/// Whether value `v` is marker `m` (`-`, `(empty)`): lengths first, and a one-byte marker as
/// one byte, so that the common one-byte values (`T`, `0`) cost no compare call.
#[inline(always)]
fn is_marker(v: &[u8], m: &[u8]) -> bool {
    v.len() == m.len()
        && match (v, m) {
            ([a], [b]) => a == b,
            _ => v == m,
        }
}

/// The header directives seen so far (they apply to the next `#fields`).
#[derive(Debug, Clone)]
struct HeaderState {
    separator: u8,
    set_separator: Vec<u8>,
    empty_field: Vec<u8>,
    unset_field: Vec<u8>,
    path: Option<String>,
}

impl Default for HeaderState {
    fn default() -> Self {
        HeaderState {
            separator: b'\t',
            set_separator: b",".to_vec(),
            empty_field: b"(empty)".to_vec(),
            unset_field: b"-".to_vec(),
            path: None,
        }
    }
}

/// Decodes Zeek's `\xNN` escapes in a header value.
fn unescape_header(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\'
            && v.get(i + 1) == Some(&b'x')
            && let Some(h) = v.get(i + 2..i + 4)
            && let Ok(s) = core::str::from_utf8(h)
            && let Ok(b) = u8::from_str_radix(s, 16)
        {
            out.push(b);
            i += 4;
            continue;
        }
        out.push(v[i]);
        i += 1;
    }
    out
}

/// A reusable Zeek record: one line buffer plus field bounds (the `csv` crate's
/// `ByteRecord` idea). Reading into the same record again reuses its capacity.
///
/// # Example
/// ```
/// use beaconstat::{read::{ZeekReader, ZeekRecord}};
/// let log = "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tconn_state\torig_pkts\n\
///            1672843056.913119\tCXHB1\t10.0.0.1\t5555\t10.0.0.2\t443\tSF\t18\n";
/// let mut r = ZeekReader::from_reader(log.as_bytes())?;
/// let mut rec = ZeekRecord::new();
/// assert!(r.read_record(&mut rec)?);
/// assert_eq!(rec.len(), 8);
/// assert_eq!(rec.field("conn_state"), Some("SF"));
/// assert_eq!(rec.count("orig_pkts")?, Some(18));
/// let ev = rec.conn_event()?;
/// assert_eq!(ev.ts.as_micros(), 1_672_843_056_913_119);
/// assert_eq!((ev.src, ev.dst, ev.dst_port), ("10.0.0.1", "10.0.0.2", Some(443)));
/// assert_eq!(rec.position().line, 2);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ZeekRecord {
    line: Vec<u8>,
    // Byte ranges of the fields within `line`, in column order.
    // Only the first `bounds.len()` fields are located eagerly (those an event needs); the
    // rest are found on demand by `get`. `nfields` counts them all.
    bounds: Vec<(usize, usize)>,
    nfields: usize,
    sep: u8,
    position: Position,
    header: Option<Arc<ZeekHeader>>,
    too_long: bool,
    allow_prefix: bool,
}

/// An event as byte ranges into the record's line (no borrow, so a reader can count a
/// skip and retry in a loop; see [`ZeekReader::next_event`]).
#[derive(Debug, Clone, Copy)]
struct RawEvent {
    ts: Timestamp,
    src: (usize, usize),
    dst: (usize, usize),
    uid: Option<(usize, usize)>,
    src_port: Option<u16>,
    dst_port: Option<u16>,
    proto: Proto,
    duration: Option<Interval>,
    bytes_out: Option<u64>,
    bytes_in: Option<u64>,
    local_orig: Option<bool>,
    local_resp: Option<bool>,
}

/// The high bit of every zero byte of `w` (exact: no false positives).
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2", not(test)), allow(dead_code))]
#[inline(always)]
fn zero_bytes(w: u64) -> u64 {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((w & LO7) + LO7) | w | LO7)
}

/// The number of bytes [`zero_bytes`] flagged, with one multiply (no popcnt needed).
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2", not(test)), allow(dead_code))]
#[inline(always)]
fn flagged(m: u64) -> usize {
    ((m >> 7).wrapping_mul(0x0101_0101_0101_0101) >> 56) as usize
}

/// The `sep` bytes (one high bit each) among the eight of `buf` from byte `i`, before `end`.
/// Whole words are read past `end` where `buf` goes on (a line inside its input buffer needs
/// no copy of its last partial word); only at the very end of `buf` is one padded.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2", not(test)), allow(dead_code))]
#[inline(always)]
fn sep_marks(buf: &[u8], i: usize, end: usize, rep: u64) -> u64 {
    let keep = end - i;
    let m = match buf.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
        Some(w) => zero_bytes(u64::from_le_bytes(*w) ^ rep),
        None => {
            let mut pad = [0u8; 8];
            let rest = buf.get(i..end).unwrap_or_default();
            pad.iter_mut().zip(rest).for_each(|(p, &b)| *p = b);
            zero_bytes(u64::from_le_bytes(pad) ^ rep)
        }
    };
    if keep < 8 { m & ((1u64 << (8 * keep)) - 1) } else { m }
}

/// Splits the line `buf[start..end]` at every `sep` byte, eight bytes at a time (SWAR: fields
/// are short, so one word-wide scan beats a SIMD search restarted per field). The bounds of
/// the first `slots.len()` fields, relative to `start`, are written to `slots`; the fields
/// after them are only counted. Returns the number of slots written and of fields.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2", not(test)), allow(dead_code))]
#[inline(always)]
fn split_words(buf: &[u8], start: usize, end: usize, sep: u8, slots: &mut [(usize, usize)]) -> (usize, usize) {
    let rep = u64::from_ne_bytes([sep; 8]);
    // `k` separators seen; the current field starts at `field`.
    let (mut i, mut field, mut k) = (start, start, 0usize);
    let limit = slots.len();
    // Writes the fields that end in word `m` (at byte `i`) while slots last; returns the
    // marks left over.
    let mut locate = |mut m: u64, i: usize, field: &mut usize, k: &mut usize| -> u64 {
        while m != 0 {
            let Some(slot) = slots.get_mut(*k) else {
                break;
            };
            let j = i + (m.trailing_zeros() / 8) as usize;
            *slot = (*field - start, j - start);
            *field = j + 1;
            *k += 1;
            m &= m - 1;
        }
        m
    };
    // Whole words: located fields first, then (slots full) only counted.
    let mut words = buf.get(start..end).unwrap_or_default().chunks_exact(8);
    for w in &mut words {
        let m = zero_bytes(u64::from_le_bytes(w.try_into().unwrap_or_default()) ^ rep);
        let rest = locate(m, i, &mut field, &mut k);
        k += flagged(rest);
        i += 8;
        if k >= limit {
            break;
        }
    }
    for w in &mut words {
        k += flagged(zero_bytes(u64::from_le_bytes(w.try_into().unwrap_or_default()) ^ rep));
        i += 8;
    }
    if i < end {
        let m = sep_marks(buf, i, end, rep);
        let rest = if k < limit { locate(m, i, &mut field, &mut k) } else { m };
        k += flagged(rest);
    }
    match slots.get_mut(k) {
        Some(slot) => {
            *slot = (field - start, end - start);
            (k + 1, k + 1)
        }
        None => (limit, k + 1),
    }
}

/// The `sep` bytes among the 64 of `buf` from byte `i`, before `end`, as one bit each (bit
/// `b` for byte `i + b`): four 16-byte SSE2 compares. Reads past `end` where `buf` goes on, as
/// [`sep_marks`] does; only at the very end of `buf` are the bytes copied into a padded block.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn sep_mask64(buf: &[u8], i: usize, end: usize, splat: safe_arch::m128i) -> u64 {
    use safe_arch::{cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i};
    #[inline(always)]
    fn mask16(c: &[u8; 16], splat: safe_arch::m128i) -> u64 {
        u64::from(move_mask_i8_m128i(cmp_eq_mask_i8_m128i(load_unaligned_m128i(c), splat)) as u16)
    }
    #[inline(always)]
    fn mask64(c: &[u8; 64], splat: safe_arch::m128i) -> u64 {
        let (q, _) = c.as_chunks::<16>();
        let [a, b, c, d] = [&q[0], &q[1], &q[2], &q[3]];
        mask16(a, splat) | mask16(b, splat) << 16 | mask16(c, splat) << 32 | mask16(d, splat) << 48
    }
    let keep = end - i;
    let m = match buf.get(i..).and_then(|rest| rest.first_chunk::<64>()) {
        Some(c) => mask64(c, splat),
        None => {
            let mut pad = [0u8; 64];
            let rest = buf.get(i..end).unwrap_or_default();
            pad.iter_mut().zip(rest).for_each(|(p, &b)| *p = b);
            mask64(&pad, splat)
        }
    };
    if keep < 64 { m & ((1u64 << keep) - 1) } else { m }
}

/// The separator and newline bytes of a block of complete lines, found in one pass of SSE2
/// compares over the block (each byte compared once, 64 at a time) and read off bit by bit,
/// line after line: no newline search per line and no split restarted at each line's start.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
struct Marks<'a> {
    block: &'a [u8],
    sep: safe_arch::m128i,
    nl: safe_arch::m128i,
    // The 64-byte chunk at `base`: its separator and newline bits not read yet (bit `b` for
    // byte `base + b`), and its newline bits.
    base: usize,
    marks: u64,
    nls: u64,
}

/// What [`Marks::line`] found of one line.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[derive(Clone, Copy)]
struct LineMarks {
    // The newline's offset in the block.
    nl: usize,
    // Separators before it.
    seps: usize,
    // Where the field after the last located separator starts, relative to the line.
    last: usize,
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
impl<'a> Marks<'a> {
    /// The marks of `block` (`sep` must not be `\n`), from its first byte.
    #[inline(always)]
    fn new(block: &'a [u8], sep: u8) -> Self {
        let mut m = Marks {
            block,
            sep: safe_arch::set_splat_i8_m128i(sep as i8),
            nl: safe_arch::set_splat_i8_m128i(b'\n' as i8),
            base: 0,
            marks: 0,
            nls: 0,
        };
        m.load();
        m
    }

    /// Computes the chunk at `base` (the block's last, short chunk from a padded copy, its bits
    /// past the block's end cleared).
    #[inline(always)]
    fn load(&mut self) {
        use safe_arch::{bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i};
        #[inline(always)]
        fn masks(c: &[u8; 64], sep: safe_arch::m128i, nl: safe_arch::m128i) -> (u64, u64) {
            let (q, _) = c.as_chunks::<16>();
            let (mut marks, mut nls) = (0u64, 0u64);
            for (i, c) in q.iter().enumerate() {
                let v = load_unaligned_m128i(c);
                let n = cmp_eq_mask_i8_m128i(v, nl);
                let s = cmp_eq_mask_i8_m128i(v, sep);
                marks |= u64::from(move_mask_i8_m128i(bitor_m128i(s, n)) as u16) << (16 * i);
                nls |= u64::from(move_mask_i8_m128i(n) as u16) << (16 * i);
            }
            (marks, nls)
        }
        let (marks, nls) = match self.block.get(self.base..).and_then(|r| r.first_chunk::<64>()) {
            Some(c) => masks(c, self.sep, self.nl),
            None => {
                let mut pad = [0u8; 64];
                let rest = self.block.get(self.base..).unwrap_or_default();
                pad.iter_mut().zip(rest).for_each(|(p, &b)| *p = b);
                let keep = if rest.len() < 64 {
                    (1u64 << rest.len()) - 1
                } else {
                    u64::MAX
                };
                let (m, n) = masks(&pad, self.sep, self.nl);
                (m & keep, n & keep)
            }
        };
        self.marks = marks;
        self.nls = nls;
    }

    /// Moves to the next chunk; `false` past the block's end.
    #[inline(always)]
    fn advance(&mut self) -> bool {
        self.base += 64;
        if self.base >= self.block.len() {
            return false;
        }
        self.load();
        true
    }

    /// Reads the line starting at `at` (where the previous line ended): the bounds of its
    /// fields, relative to `at`, for the first `cuts.len()` separators, as [`Cuts`] (the field
    /// after the last of them is the caller's to close, at the line's end without a `\r`); the
    /// separators after them only counted. `None` if no newline is left (a block of complete
    /// lines always ends in one).
    // Not inlined: in the reader's loop its state was kept in memory, not in registers.
    #[inline(never)]
    fn line(&mut self, at: usize, cuts: &mut [u64]) -> Option<LineMarks> {
        // The chunk's bits in locals (kept in registers, stored back once); offsets relative
        // to `at`: the chunk's base may lie before it (wrapping arithmetic, exact once a bit's
        // offset is added).
        let mut marks = self.marks;
        let mut rel = self.base.wrapping_sub(at);
        let (mut k, mut more, mut field) = (0usize, 0usize, 0u64);
        loop {
            // The line's separators in this chunk: the marks below its first unread newline
            // (all of them if it has none), located one per bit, with no newline test per bit.
            let n = marks & self.nls;
            let below = if n != 0 { (n & n.wrapping_neg()) - 1 } else { u64::MAX };
            let mut s = marks & below;
            while s != 0 {
                let Some(c) = cuts.get_mut(k) else {
                    break;
                };
                let j = rel.wrapping_add(s.trailing_zeros() as usize) as u64;
                *c = field | j << 32;
                field = j + 1;
                s &= s - 1;
                k += 1;
            }
            if s != 0 {
                more += s.count_ones() as usize;
            }
            if n != 0 {
                // The newline's bit and those below it are read.
                self.marks = marks & !(below << 1 | 1);
                return Some(LineMarks {
                    nl: self.base + n.trailing_zeros() as usize,
                    seps: k + more,
                    last: field as usize,
                });
            }
            if !self.advance() {
                self.marks = 0;
                return None;
            }
            marks = self.marks;
            rel = self.base.wrapping_sub(at);
        }
    }
}

/// [`split_words`] 64 bytes at a time with SSE2 compares (x86-64's baseline, so always
/// there): one bit mask per block, the located fields read off it bit by bit, the rest
/// counted. Same bounds, same counts.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn split_blocks(buf: &[u8], start: usize, end: usize, sep: u8, slots: &mut [(usize, usize)]) -> (usize, usize) {
    let splat = safe_arch::set_splat_i8_m128i(sep as i8);
    // `k` separators seen; the current field starts at `field`.
    let (mut i, mut field, mut k) = (start, start, 0usize);
    while i < end {
        let mut m = sep_mask64(buf, i, end, splat);
        while m != 0 {
            let Some(slot) = slots.get_mut(k) else {
                break;
            };
            let j = i + m.trailing_zeros() as usize;
            *slot = (field - start, j - start);
            field = j + 1;
            k += 1;
            m &= m - 1;
        }
        k += m.count_ones() as usize;
        i += 64;
    }
    match slots.get_mut(k) {
        Some(slot) => {
            *slot = (field - start, end - start);
            (k + 1, k + 1)
        }
        None => (slots.len(), k + 1),
    }
}

/// Splits the line `buf[start..end]` at every `sep` byte: [`split_blocks`] where SSE2 is
/// there (every x86-64), [`split_words`] elsewhere. Writes the first `slots.len()` fields'
/// bounds, relative to `start`; returns the number of slots written and of fields.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn split_fields(buf: &[u8], start: usize, end: usize, sep: u8, slots: &mut [(usize, usize)]) -> (usize, usize) {
    split_blocks(buf, start, end, sep, slots)
}

/// Splits the line `buf[start..end]` at every `sep` byte (see the x86-64 version).
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn split_fields(buf: &[u8], start: usize, end: usize, sep: u8, slots: &mut [(usize, usize)]) -> (usize, usize) {
    split_words(buf, start, end, sep, slots)
}

/// [`split_fields`] of a whole `line` into `out` (the first `limit` fields' bounds). Returns
/// the number of fields.
#[inline]
fn split_swar(line: &[u8], sep: u8, out: &mut Vec<(usize, usize)>, limit: usize) -> usize {
    out.clear();
    // A line of n bytes has at most n + 1 fields.
    out.resize(limit.min(line.len() + 1), (0, 0));
    let (located, fields) = split_fields(line, 0, line.len(), sep, out);
    out.truncate(located);
    fields
}

/// Splits a data line into field bounds (only the fields an event needs, unless the header
/// uses IoT-23's three-space quirk). Returns the number of fields.
#[inline]
fn split_line(line: &[u8], header: Option<&ZeekHeader>, bounds: &mut Vec<(usize, usize)>) -> usize {
    bounds.clear();
    let sep = header.map_or(b'\t', |h| h.separator);
    let limit = match header {
        Some(h) if h.quirk_extra == 0 => h.needed,
        _ => usize::MAX,
    };
    let mut nfields = split_swar(line, sep, bounds, limit);
    if let Some(h) = header
        && h.quirk_extra > 0
        && bounds.len() + h.quirk_extra == h.fields.len()
        && let Some((mut s, e)) = bounds.pop()
    {
        let finder = memchr::memmem::Finder::new(b"   ");
        for _ in 0..h.quirk_extra {
            let Some(i) = line.get(s..e).and_then(|f| finder.find(f)) else {
                break;
            };
            bounds.push((s, s + i));
            s += i + 3;
        }
        bounds.push((s, e));
        nfields = bounds.len();
    }
    nfields
}

/// Where a split line's located fields lie: field `i`'s bounds, relative to the line.
trait Fields: Copy {
    fn at(self, i: usize) -> Option<(usize, usize)>;
    /// Where the last located field ends (0 if none is).
    fn located_end(self) -> usize;
}

/// Fields as their (start, end) pairs.
impl Fields for &[(usize, usize)] {
    #[inline(always)]
    fn at(self, i: usize) -> Option<(usize, usize)> {
        self.get(i).copied()
    }

    #[inline(always)]
    fn located_end(self) -> usize {
        self.last().map_or(0, |r| r.1)
    }
}

/// Fields as the block reader's marks left them: field `i` from the low 32 bits of `cuts[i]`
/// to its high 32 bits: one word a field, written with one store while marking.
#[derive(Clone, Copy)]
struct Cuts<'a>(&'a [u64]);

impl Fields for Cuts<'_> {
    #[inline(always)]
    fn at(self, i: usize) -> Option<(usize, usize)> {
        let w = *self.0.get(i)?;
        Some((w as u32 as usize, (w >> 32) as usize))
    }

    #[inline(always)]
    fn located_end(self) -> usize {
        self.0.last().map_or(0, |&w| (w >> 32) as usize)
    }
}

/// One split line and what is known about it.
#[derive(Clone, Copy)]
struct LineRef<'a, B: Fields> {
    line: &'a [u8],
    bounds: B,
    nfields: usize,
    header: Option<&'a ZeekHeader>,
    too_long: bool,
    // Headerless default layout: a prefix of the standard columns is accepted.
    allow_prefix: bool,
    // The located fields are already known to be valid UTF-8.
    text_ok: bool,
}

/// The located fields of one split line, read under its header. Small methods, each always
/// inlined, instead of closures (closures with several call sites were left as calls).
#[derive(Clone, Copy)]
struct Cols<'a, B: Fields> {
    line: &'a [u8],
    bounds: B,
    header: &'a ZeekHeader,
    // The located fields are valid text (checked once for the line or its block).
    text_ok: bool,
}

/// A field whose value does not parse (out of line: the hot path only tests for it).
#[cold]
#[inline(never)]
fn bad_value(reason: SkipReason, name: &'static str, r: (usize, usize)) -> Bad {
    Bad::field(reason, name, Some(r.0..r.1))
}

impl<'a, B: Fields> Cols<'a, B> {
    /// The bounds of column `i`, or `None` if the column is absent or unset.
    #[inline(always)]
    fn val(self, i: Option<usize>) -> Option<(usize, usize)> {
        let r = self.bounds.at(i?)?;
        let v = self.line.get(r.0..r.1)?;
        (!self.header.is_unset(v)).then_some(r)
    }

    /// [`val`](Cols::val) for a number column: a value starting with a digit is no marker
    /// under plain markers, so it goes to its parser without the marker compares.
    #[inline(always)]
    fn num(self, i: Option<usize>) -> Option<(usize, usize)> {
        let r = self.bounds.at(i?)?;
        let v = self.line.get(r.0..r.1)?;
        let digit = self.header.plain_markers && v.first().is_some_and(u8::is_ascii_digit);
        (digit || !self.header.is_unset(v)).then_some(r)
    }

    #[inline(always)]
    fn bytes(self, r: (usize, usize)) -> &'a [u8] {
        self.line.get(r.0..r.1).unwrap_or_default()
    }

    /// A required column that is absent or unset.
    #[cold]
    #[inline(never)]
    fn missing(self, i: Option<usize>, name: &'static str) -> Bad {
        let at = i.and_then(|i| self.bounds.at(i)).map(|r| r.0..r.1);
        Bad::field(SkipReason::MissingField, name, at)
    }

    /// A text column: its bounds if set, checked to be UTF-8 unless the line is known to be.
    #[inline(always)]
    fn text(self, i: Option<usize>, name: &'static str) -> core::result::Result<Option<(usize, usize)>, Bad> {
        match self.val(i) {
            None => Ok(None),
            Some(r) if self.text_ok || is_text(self.bytes(r)) => Ok(Some(r)),
            Some(r) => Err(bad_value(SkipReason::BadUtf8, name, r)),
        }
    }

    /// A text column that must be set.
    #[inline(always)]
    fn required(self, i: Option<usize>, name: &'static str) -> core::result::Result<(usize, usize), Bad> {
        match self.text(i, name)? {
            Some(r) => Ok(r),
            None => Err(self.missing(i, name)),
        }
    }

    /// A port column (`None` if unset).
    #[inline(always)]
    fn port(self, i: Option<usize>, name: &'static str) -> core::result::Result<Option<u16>, Bad> {
        match self.num(i) {
            None => Ok(None),
            Some(r) => match parse_port_in(self.line, r.0, r.1) {
                Some(v) => Ok(Some(v)),
                None => Err(bad_value(SkipReason::BadPort, name, r)),
            },
        }
    }

    /// A count column (`None` if unset).
    #[inline(always)]
    fn count(self, i: Option<usize>, name: &'static str) -> core::result::Result<Option<u64>, Bad> {
        match self.num(i) {
            None => Ok(None),
            Some(r) => match parse_u64_in(self.line, r.0, r.1) {
                Some(v) => Ok(Some(v)),
                None => Err(bad_value(SkipReason::BadNumber, name, r)),
            },
        }
    }

    /// An interval column (`None` if unset).
    #[inline(always)]
    fn interval(self, i: Option<usize>, name: &'static str) -> core::result::Result<Option<Interval>, Bad> {
        match self.num(i) {
            None => Ok(None),
            Some(r) => match parse_duration(self.bytes(r)) {
                Some(v) => Ok(Some(v)),
                None => Err(bad_value(SkipReason::BadNumber, name, r)),
            },
        }
    }

    /// Zeek's `bool`: `T` or `F`; anything else says nothing (not a reason to skip the event).
    #[inline(always)]
    fn flag(self, i: Option<usize>) -> Option<bool> {
        // Under plain markers `T` and `F` are no markers, and any other value says nothing.
        let v = if self.header.plain_markers {
            self.bounds.at(i?).map(|r| self.bytes(r))
        } else {
            self.val(i).map(|r| self.bytes(r))
        };
        match v {
            Some([b'T']) => Some(true),
            Some([b'F']) => Some(false),
            _ => None,
        }
    }
}

/// Always inlined: the event then goes from the fields to `f` without a copy through memory.
#[inline(always)]
fn parse_raw<B: Fields>(l: LineRef<'_, B>) -> core::result::Result<RawEvent, Bad> {
    if l.too_long {
        return Err(Bad::new(SkipReason::LineTooLong));
    }
    let Some(h) = l.header else {
        return Err(Bad::new(SkipReason::NoHeader));
    };
    if l.nfields != h.fields.len() && !(l.allow_prefix && l.nfields < h.fields.len()) {
        return Err(Bad::count(h.fields.len(), l.nfields));
    }
    let idx = &h.idx;
    let c = Cols {
        line: l.line,
        bounds: l.bounds,
        header: h,
        text_ok: l.text_ok || l.line.is_ascii(),
    };
    let ts = match c.num(idx.ts) {
        None => return Err(c.missing(idx.ts, "ts")),
        Some(r) => match parse_ts_secs(c.bytes(r)) {
            Some(ts) => ts,
            None => return Err(bad_value(SkipReason::BadTimestamp, "ts", r)),
        },
    };
    let src = c.required(idx.orig_h, "id.orig_h")?;
    let dst = c.required(idx.resp_h, "id.resp_h")?;
    let uid = c.text(idx.uid, "uid")?;
    let src_port = c.port(idx.orig_p, "id.orig_p")?;
    let dst_port = c.port(idx.resp_p, "id.resp_p")?;
    let bytes_out = c.count(idx.orig_bytes, "orig_bytes")?;
    let bytes_in = c.count(idx.resp_bytes, "resp_bytes")?;
    let duration = c.interval(idx.duration, "duration")?;
    // A match, not `map_or`: the closure was left as a call in the reader's loop.
    let proto = match c.val(idx.proto) {
        Some(r) => parse_proto(c.bytes(r)),
        None => Proto::Other,
    };
    Ok(RawEvent {
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
        local_orig: c.flag(idx.local_orig),
        local_resp: c.flag(idx.local_resp),
    })
}

/// Looks up an already validated UTF-8 range (falls back to "" rather than panicking).
#[inline]
pub(crate) fn str_at(buf: &[u8], r: (usize, usize)) -> &str {
    buf.get(r.0..r.1)
        .and_then(|b| core::str::from_utf8(b).ok())
        .unwrap_or("")
}

impl RawEvent {
    /// The event, each text field fetched by `at` from its byte range. Always inlined: the
    /// reader's hot loop loses a third of its throughput when this is a call.
    #[inline(always)]
    fn build<'a>(self, at: impl Fn((usize, usize)) -> &'a str) -> ConnEvent<'a> {
        let mut ev = ConnEvent::new(self.ts, at(self.src), at(self.dst));
        ev.src_port = self.src_port;
        ev.dst_port = self.dst_port;
        ev.proto = self.proto;
        ev.duration = self.duration;
        ev.bytes_out = self.bytes_out;
        ev.bytes_in = self.bytes_in;
        ev.uid = self.uid.map(&at);
        ev.local_orig = self.local_orig;
        ev.local_resp = self.local_resp;
        ev
    }

    /// The event, its text sliced from `text` (the validated line prefix holding every
    /// located field).
    #[inline(always)]
    fn resolve_str(self, text: &str) -> ConnEvent<'_> {
        self.build(|r| text.get(r.0..r.1).unwrap_or(""))
    }

    #[inline]
    fn resolve(self, line: &[u8]) -> ConnEvent<'_> {
        // One validation of the whole line is cheaper than one per field; a line with invalid
        // UTF-8 outside the fields used falls back to per-field checks.
        match core::str::from_utf8(line) {
            Ok(text) => self.resolve_str(text),
            Err(_) => self.build(|r| str_at(line, r)),
        }
    }
}

impl ZeekRecord {
    /// An empty record.
    pub fn new() -> Self {
        ZeekRecord::default()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.nfields
    }

    /// Whether the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.nfields == 0
    }

    /// The raw bytes of field `i` (unset markers included).
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if let Some(&(s, e)) = self.bounds.get(i) {
            return self.line.get(s..e);
        }
        if i >= self.nfields {
            return None;
        }
        // Walk on from the last located field.
        let (mut s, mut k) = match self.bounds.last() {
            Some(&(_, e)) => (e + 1, self.bounds.len()),
            None => (0, 0),
        };
        loop {
            let rest = self.line.get(s..)?;
            let end = memchr::memchr(self.sep, rest).map_or(self.line.len(), |j| s + j);
            if k == i {
                return self.line.get(s..end);
            }
            s = end + 1;
            k += 1;
        }
    }

    /// The whole line, without its line terminator.
    pub fn as_bytes(&self) -> &[u8] {
        &self.line
    }

    /// Where the record starts in the (decompressed) input.
    pub fn position(&self) -> Position {
        self.position
    }

    /// The header this record was read under.
    pub fn header(&self) -> Option<&ZeekHeader> {
        self.header.as_deref()
    }

    /// A field's text by name; `None` if the column is absent, unset (`-`), empty (`(empty)`)
    /// or not UTF-8. The text is as logged: Zeek's `\xNN` escapes are not decoded, and set
    /// values keep their set separator (`http,ssl`).
    pub fn field(&self, name: &str) -> Option<&str> {
        let h = self.header.as_deref()?;
        let v = self.get(h.index(name)?)?;
        if h.is_unset(v) {
            return None;
        }
        core::str::from_utf8(v).ok()
    }

    /// A count field by name (`orig_pkts`, `resp_ip_bytes`, …): `Ok(None)` if absent or unset.
    ///
    /// # Errors
    /// A parse error naming the field and value if it is not a non-negative integer.
    pub fn count(&self, name: &str) -> Result<Option<u64>> {
        let Some(h) = self.header.as_deref() else {
            return Ok(None);
        };
        let Some(v) = h.index(name).and_then(|i| self.get(i)) else {
            return Ok(None);
        };
        if h.is_unset(v) {
            return Ok(None);
        }
        parse_u64(v)
            .map(Some)
            .ok_or_else(|| Error::parse(self.position, Some(name), Some(v), SkipReason::BadNumber.as_str()))
    }

    /// The connection as a borrowed event.
    ///
    /// # Errors
    /// A parse error with the line, field and value when a required field (`ts`,
    /// `id.orig_h`, `id.resp_h`) is missing or any mapped field does not parse.
    pub fn conn_event(&self) -> Result<ConnEvent<'_>> {
        match self.raw() {
            Ok(raw) => Ok(raw.resolve(&self.line)),
            Err(bad) => Err(bad.to_error(self.position, &self.line)),
        }
    }

    fn line_ref(&self) -> LineRef<'_, &[(usize, usize)]> {
        LineRef {
            line: &self.line,
            bounds: self.bounds.as_slice(),
            nfields: self.nfields,
            header: self.header.as_deref(),
            too_long: self.too_long,
            allow_prefix: self.allow_prefix,
            text_ok: false,
        }
    }

    #[inline]
    fn raw(&self) -> core::result::Result<RawEvent, Bad> {
        parse_raw(self.line_ref())
    }
}

/// Builds a [`ZeekReader`].
///
/// # Example
/// ```
/// use beaconstat::read::ZeekReader;
/// let headerless = "1.5\tC1\t10.0.0.1\t5555\t10.0.0.2\t53\tudp\n";
/// let mut r = ZeekReader::builder()
///     .default_conn_fields(true)
///     .strict(true)
///     .from_reader(headerless.as_bytes())?;
/// let ev = r.next_event()?.unwrap();
/// assert_eq!(ev.dst_port, Some(53));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ZeekReaderBuilder {
    opts: ReadOptions,
    default_fields: bool,
}

impl ZeekReaderBuilder {
    /// A builder with the defaults: skip bad records, require a `#fields` header.
    pub fn new() -> Self {
        ZeekReaderBuilder::default()
    }

    /// For headerless logs (e.g. after `grep`): assume Zeek's standard `conn.log` columns
    /// until a `#fields` line says otherwise. Off by default (such lines are skipped with
    /// [`SkipReason::NoHeader`]). A data line may then have fewer columns than the standard 21
    /// (a prefix of them), but not more.
    pub fn default_conn_fields(&mut self, yes: bool) -> &mut Self {
        self.default_fields = yes;
        self
    }

    line_reader_builder_methods! {
        builder: ZeekReaderBuilder,
        reader: ZeekReader,
        log: "#fields\tts\tid.orig_h\tid.resp_h\n1.5\t10.0.0.1\t10.0.0.2\nnot a record\n",
        from_reader_errors: "An I/O error if the first read fails.",
        from_path_errors: "An I/O error naming the path if it cannot be opened or read.",
        build: |this, lines, path| Ok(this.build_input(lines, path)),
    }

    pub(crate) fn build_input<R: Read>(&self, lines: Lines<R>, path: Option<PathBuf>) -> ZeekReader<R> {
        let state = HeaderState::default();
        let header = self.default_fields.then(|| {
            let mut h = ZeekHeader::new(&state, CONN_FIELDS.iter().map(|s| (*s).to_owned()).collect());
            h.path = Some("conn".to_owned());
            Arc::new(h)
        });
        ZeekReader {
            core: Core {
                lines,
                hdr: HeaderCtx {
                    state,
                    header,
                    default_layout: self.default_fields,
                    directives: 0,
                },
                stats: ReadStats::for_path(path.as_deref()),
                path,
                strict: self.opts.strict,
                bounds: Vec::new(),
                cuts: Vec::new(),
            },
            rec: ZeekRecord::new(),
            raw: None,
        }
    }
}

/// Reads Zeek TSV logs, plain or gzip, into borrowed [`ConnEvent`]s.
///
/// ```text
///   io::Read ──▶ ZeekReader (input buffer) ──read_record──▶ ZeekRecord (line + field bounds)
///                                                            │ conn_event()
///                                                            ▼
///                                              ConnEvent<'record> (Copy, borrowed)
/// ```
///
/// The header is honoured: `#separator` (with its `\x09` escape), `#set_separator`,
/// `#empty_field`, `#unset_field`, `#fields`, `#types`, several `#open`…`#close` blocks with
/// different field orders, extra columns (labels) and missing optional columns, and IoT-23's
/// three-space last column. Lines starting with `#` are headers or comments, never records.
/// Each data line becomes an event or a counted [`Skipped`](crate::Skipped) entry.
///
/// # Panics and error handling
/// Never panics on input data. A data line that cannot be parsed is counted in
/// [`ReadStats`] with its line, byte offset, field, value and reason (or, in strict mode,
/// returned as an [`Error`]); only I/O errors, a corrupt gzip stream and a multi-byte
/// `#separator` stop a non-strict reader.
///
/// Two ways to drive it, as with the `csv` crate:
/// - [`read_record`](ZeekReader::read_record) into your own [`ZeekRecord`], then
///   [`ZeekRecord::conn_event`] or [`ZeekRecord::field`] — full control, no allocation;
/// - [`next_event`](ZeekReader::next_event) / [`for_each`](ZeekReader::for_each), which skip
///   and count bad records (or fail on them in strict mode) and keep [`ReadStats`].
///
/// # Example
/// ```
/// use beaconstat::{Proto, read::ZeekReader};
/// let log = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_bytes\tresp_bytes\n\
///            1672843056.913119\tCXHB\t10.136.0.18\t55548\t10.136.0.16\t3128\ttcp\t0.084044\t1030\t20275\n\
///            1672843078.129079\tCpUS\t10.136.0.18\t41268\t10.136.0.16\t3128\ttcp\t-\t-\t-\n";
/// let mut r = ZeekReader::from_reader(log.as_bytes())?;
/// let mut seen = Vec::new();
/// r.for_each(|ev| seen.push((ev.ts.as_micros(), ev.bytes_out, ev.proto)))?;
/// assert_eq!(seen, [(1_672_843_056_913_119, Some(1030), Proto::Tcp), (1_672_843_078_129_079, None, Proto::Tcp)]);
/// assert_eq!(r.stats().events, 2);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug)]
pub struct ZeekReader<R: Read> {
    core: Core<R>,
    // Record used by next_event / for_each.
    rec: ZeekRecord,
    // The event `advance` stopped at, as ranges into `rec`.
    raw: Option<RawEvent>,
}

#[derive(Debug)]
struct Core<R: Read> {
    lines: Lines<R>,
    hdr: HeaderCtx,
    path: Option<PathBuf>,
    stats: ReadStats,
    strict: bool,
    // Field bounds for the in-place path of `for_each`.
    bounds: Vec<(usize, usize)>,
    // The block reader's field bounds (see [`Cuts`]).
    cuts: Vec<u64>,
}

/// Header directives and the current header block.
#[derive(Debug)]
struct HeaderCtx {
    state: HeaderState,
    header: Option<Arc<ZeekHeader>>,
    // The current header is the assumed standard layout (no #fields seen yet).
    default_layout: bool,
    // Directive lines read so far (a parallel read checks that a part saw no new header block).
    directives: u64,
}

impl HeaderCtx {
    /// Whether a line with `nfields` columns may be a prefix of the assumed standard layout.
    #[inline]
    fn allow_prefix(&self, nfields: usize) -> bool {
        self.default_layout && (5..CONN_FIELDS.len()).contains(&nfields)
    }

    fn header_line(&mut self, line: &[u8], pos: Position) -> Result<()> {
        if let Some(rest) = line.strip_prefix(b"#separator") {
            let v = rest
                .strip_prefix(b" ")
                .or_else(|| rest.strip_prefix(b"\t"))
                .unwrap_or(rest);
            let sep = unescape_header(v);
            match sep.as_slice() {
                [b] => self.state.separator = *b,
                _ => {
                    return Err(Error::parse(
                        pos,
                        Some("#separator"),
                        Some(v),
                        "only single-byte separators are supported",
                    ));
                }
            }
            return Ok(());
        }
        let sep = self.state.separator;
        let mut parts = line.split(|&c| c == sep);
        let key = parts.next().unwrap_or_default();
        let value = || line.get(key.len() + 1..).map(unescape_header).unwrap_or_default();
        match key {
            b"#set_separator" => self.state.set_separator = value(),
            b"#empty_field" => self.state.empty_field = value(),
            b"#unset_field" => self.state.unset_field = value(),
            b"#path" => self.state.path = Some(String::from_utf8_lossy(&value()).into_owned()),
            b"#fields" => {
                let names = parts.map(|p| String::from_utf8_lossy(p).into_owned()).collect();
                self.header = Some(Arc::new(ZeekHeader::new(&self.state, names)));
                self.default_layout = false;
            }
            b"#types" => {
                if let Some(h) = self.header.as_mut() {
                    let mut types: Vec<String> = parts.map(|p| String::from_utf8_lossy(p).into_owned()).collect();
                    if h.quirk_extra > 0
                        && let Some(last) = types.pop()
                    {
                        types.extend(last.split("   ").map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()));
                    }
                    Arc::make_mut(h).types = types;
                }
            }
            // #open, #close and any other comment.
            _ => {}
        }
        Ok(())
    }
}

/// Whether `line` is one of Zeek's header directives (`#separator`, `#fields`, `#open`, …).
/// Any other line is data, even when its first field starts with `#`: it is counted (and
/// parsed or skipped), never dropped as a comment.
#[inline]
fn is_directive(line: &[u8], sep: u8) -> bool {
    const KEYS: [&[u8]; 9] = [
        b"#separator",
        b"#set_separator",
        b"#empty_field",
        b"#unset_field",
        b"#path",
        b"#open",
        b"#close",
        b"#fields",
        b"#types",
    ];
    if line.first() != Some(&b'#') {
        return false;
    }
    KEYS.iter().any(|k| {
        line.strip_prefix(*k)
            .is_some_and(|rest| matches!(rest.first(), None | Some(b' ' | b'\t')) || rest.first() == Some(&sep))
    })
}

impl<R: Read> Core<R> {
    fn io(&self, e: std::io::Error) -> Error {
        Error::io(self.path.clone(), e)
    }

    fn read_record(&mut self, rec: &mut ZeekRecord) -> Result<bool> {
        loop {
            let info = match self.lines.next_line(&mut rec.line) {
                Ok(Some(i)) => i,
                Ok(None) => {
                    self.lines.count_damage(&mut self.stats);
                    return Ok(false);
                }
                Err(e) => return Err(self.io(e)),
            };
            if rec.line.is_empty() && !info.too_long {
                continue;
            }
            if is_directive(&rec.line, self.hdr.state.separator) {
                self.hdr.directives += 1;
                self.hdr.header_line(&rec.line, info.position)?;
                continue;
            }
            self.stats.records += 1;
            rec.position = info.position;
            rec.too_long = info.too_long;
            match (&rec.header, &self.hdr.header) {
                (Some(a), Some(b)) if Arc::ptr_eq(a, b) => {}
                _ => rec.header = self.hdr.header.clone(),
            }
            let h = rec.header.as_deref();
            rec.sep = h.map_or(b'\t', |h| h.separator);
            rec.nfields = split_line(&rec.line, h, &mut rec.bounds);
            rec.allow_prefix = self.hdr.allow_prefix(rec.nfields);
            return Ok(true);
        }
    }

    /// Reads every remaining record in place (no copy into a record) and calls `f` with each
    /// event: the complete lines the buffer holds as one block, then one line through
    /// [`Lines::next_slice`] (which reads more input, or ends it), and so on.
    fn for_each_in_place<F: FnMut(ConnEvent<'_>)>(&mut self, mut f: F) -> Result<()> {
        loop {
            let (bytes, lines, done) = self.read_block(&mut f);
            self.lines.consume(bytes, lines);
            done?;
            let (info, s, e) = match self.lines.next_slice() {
                Ok(Some(x)) => x,
                Ok(None) => {
                    self.lines.count_damage(&mut self.stats);
                    return Ok(());
                }
                Err(e) => return Err(self.io(e)),
            };
            let at = LineAt {
                buf: self.lines.buf(),
                start: s,
                end: e,
            };
            take_line(
                &mut self.hdr,
                &mut self.stats,
                self.strict,
                &mut self.bounds,
                at,
                info,
                None,
                None,
                &mut f,
            )?;
        }
    }

    /// Reads the complete lines in the buffer where they are: one search for each line's end,
    /// one UTF-8 validation for them all. Stops after a header directive (it may change how
    /// the lines after it split). Returns the bytes and lines read (to consume) and the first
    /// error.
    fn read_block<F: FnMut(ConnEvent<'_>)>(&mut self, f: &mut F) -> (usize, u64, Result<()>) {
        let Core {
            lines,
            hdr,
            stats,
            strict,
            bounds,
            cuts,
            ..
        } = self;
        let Some(block) = lines.complete_lines() else {
            return (0, 0, Ok(()));
        };
        let first = lines.position();
        let max_line = lines.max_line();
        // Lines up to the first invalid byte take their text from here; the rest are checked
        // one by one, as `next_slice`'s are.
        let valid = match core::str::from_utf8(block) {
            Ok(text) => text,
            Err(e) => block
                .get(..e.valid_up_to())
                .and_then(|p| core::str::from_utf8(p).ok())
                .unwrap_or_default(),
        };
        // On x86-64 the block's separators and newlines are marked in one pass; lines under a
        // header without IoT-23's quirk (and a separator other than `\r`, which a line end may
        // drop) take their fields from the marks, the others split themselves as `next_slice`'s
        // lines do.
        // Offsets within a line are kept as 32-bit cuts: a longer block splits its lines itself.
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        let (mut marks, limit) = match hdr.header.as_deref() {
            Some(h) if h.quirk_extra == 0 && h.separator != b'\r' && u32::try_from(block.len()).is_ok() => {
                if cuts.len() != h.needed {
                    cuts.clear();
                    cuts.resize(h.needed, 0);
                }
                (Marks::new(block, h.separator), h.needed)
            }
            _ => (Marks::new(block, b'\n'), 0),
        };
        let (mut at, mut n) = (0usize, 0u64);
        while at < block.len() {
            #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
            let (nl, marked) = {
                let Some(m) = marks.line(at, cuts.get_mut(..limit).unwrap_or_default()) else {
                    break;
                };
                (m.nl, (limit > 0).then_some(m))
            };
            #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
            let (nl, marked): (usize, Option<()>) = match block.get(at..).and_then(|rest| memchr::memchr(b'\n', rest)) {
                Some(i) => (at + i, None),
                None => break,
            };
            let end = if nl > at && block.get(nl - 1) == Some(&b'\r') {
                nl - 1
            } else {
                nl
            };
            let info = LineInfo {
                position: Position {
                    line: first.line + n,
                    byte: first.byte + at as u64,
                },
                too_long: end - at > max_line,
            };
            // An over-long line's content is dropped, as `next_slice` drops it.
            let (line, text, split) = if info.too_long {
                (
                    LineAt {
                        buf: block,
                        start: at,
                        end: at,
                    },
                    None,
                    None,
                )
            } else {
                // The field after the last located separator ends at the line's end.
                #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
                let split = marked.map(|m| {
                    let located = match cuts.get_mut(m.seps) {
                        Some(c) => {
                            *c = m.last as u64 | ((end - at) as u64) << 32;
                            m.seps + 1
                        }
                        None => limit,
                    };
                    (Cuts(cuts.get(..located).unwrap_or_default()), m.seps + 1)
                });
                #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
                let split: Option<(Cuts<'_>, usize)> = marked.map(|()| (Cuts(&[]), 0));
                (
                    LineAt {
                        buf: block,
                        start: at,
                        end,
                    },
                    valid.get(at..end),
                    split,
                )
            };
            at = nl + 1;
            n += 1;
            match take_line(hdr, stats, *strict, bounds, line, info, text, split, f) {
                Ok(false) => {}
                Ok(true) => break,
                Err(e) => return (at, n, Err(e)),
            }
        }
        (at, n, Ok(()))
    }
}

/// A line in place: `buf[start..end]`, with the rest of `buf` around it (read, never used,
/// by the word-wise split).
#[derive(Clone, Copy)]
struct LineAt<'a> {
    buf: &'a [u8],
    start: usize,
    end: usize,
}

/// One line: skipped if blank, a header directive (`Ok(true)`), or a data line split, parsed
/// and handed to `f` or counted as skipped. `text` is the line, when its block was validated.
/// `slots` holds the field bounds of a line split here; `marked`, when given, holds this
/// line's already (as the block's marks cut it, under the current header, with its number of
/// fields: the same fields as [`split_fields`] finds).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn take_line<F: FnMut(ConnEvent<'_>)>(
    hdr: &mut HeaderCtx,
    stats: &mut ReadStats,
    strict: bool,
    slots: &mut Vec<(usize, usize)>,
    at: LineAt<'_>,
    info: LineInfo,
    text: Option<&str>,
    marked: Option<(Cuts<'_>, usize)>,
    f: &mut F,
) -> Result<bool> {
    let line = at.buf.get(at.start..at.end).unwrap_or_default();
    if line.is_empty() && !info.too_long {
        return Ok(false);
    }
    if is_directive(line, hdr.state.separator) {
        hdr.directives += 1;
        hdr.header_line(line, info.position)?;
        return Ok(true);
    }
    stats.records += 1;
    let header = hdr.header.as_deref();
    let (nfields, located) = match (header, marked) {
        // Split already, by the block's marks (cut for this header).
        (Some(h), Some((cuts, nfields))) if h.quirk_extra == 0 => {
            let l = LineRef {
                line,
                bounds: cuts,
                nfields,
                header,
                too_long: info.too_long,
                allow_prefix: hdr.allow_prefix(nfields),
                text_ok: false,
            };
            return emit(stats, strict, l, info, text, f);
        }
        // The fields an event needs, written in place; the slots stay sized for the header.
        (Some(h), _) if h.quirk_extra == 0 => {
            if slots.len() != h.needed {
                slots.clear();
                slots.resize(h.needed, (0, 0));
            }
            let (located, n) = split_fields(at.buf, at.start, at.end, h.separator, slots);
            (n, located)
        }
        _ => (split_line(line, header, slots), slots.len()),
    };
    let l = LineRef {
        line,
        bounds: slots.get(..located).unwrap_or_default(),
        nfields,
        header,
        too_long: info.too_long,
        allow_prefix: hdr.allow_prefix(nfields),
        text_ok: false,
    };
    emit(stats, strict, l, info, text, f)
}

/// The event of a split line `l` handed to `f`, or its skip counted (an error if `strict`).
/// `text` is the line, when its block was validated; else the located fields are validated
/// here, once, and the event's text is sliced from them.
#[inline(always)]
fn emit<B: Fields, F: FnMut(ConnEvent<'_>)>(
    stats: &mut ReadStats,
    strict: bool,
    mut l: LineRef<'_, B>,
    info: LineInfo,
    text: Option<&str>,
    f: &mut F,
) -> Result<bool> {
    let line = l.line;
    let text = text.or_else(|| {
        line.get(..l.bounds.located_end())
            .and_then(|p| core::str::from_utf8(p).ok())
    });
    l.text_ok = text.is_some();
    match parse_raw(l) {
        Ok(raw) => {
            stats.events += 1;
            f(match text {
                Some(t) => raw.resolve_str(t),
                None => raw.resolve(line),
            });
        }
        Err(bad) => {
            if strict {
                return Err(bad.to_error(info.position, line));
            }
            stats.skip(info.position, &bad, line);
        }
    }
    Ok(false)
}

impl ZeekReader<File> {
    /// A builder for non-default settings.
    pub fn builder() -> ZeekReaderBuilder {
        ZeekReaderBuilder::new()
    }

    /// Opens a Zeek log file (plain or gzip) with default settings.
    ///
    /// # Errors
    /// An I/O error naming the path.
    pub fn from_path<P: AsRef<Path>>(path: P) -> Result<ZeekReader<File>> {
        ZeekReaderBuilder::new().from_path(path)
    }
}

impl<R: Read> ZeekReader<R> {
    /// A reader over `rdr` with default settings (gzip detected by its magic bytes).
    ///
    /// # Errors
    /// An I/O error if the first read fails.
    pub fn from_reader(rdr: R) -> Result<ZeekReader<R>> {
        ZeekReaderBuilder::new().from_reader(rdr)
    }

    /// Reads the next data record into `rec`, processing any header lines before it.
    /// Returns `false` at end of input. Counts [`ReadStats::records`] only: use
    /// [`ZeekRecord::conn_event`] to parse it.
    ///
    /// # Errors
    /// I/O errors, and a `#separator` this reader cannot use (more than one byte).
    pub fn read_record(&mut self, rec: &mut ZeekRecord) -> Result<bool> {
        self.core.read_record(rec)
    }

    /// The next event, skipping (and counting) bad records; `None` at end of input.
    ///
    /// # Errors
    /// I/O errors; in strict mode, the first bad record.
    #[inline]
    pub fn next_event(&mut self) -> Result<Option<ConnEvent<'_>>> {
        if self.advance()? { Ok(self.current()) } else { Ok(None) }
    }

    /// Reads up to the next good record (counting bad ones); `false` at end of input. The
    /// event is then [`current`](ZeekReader::current) (no borrow is held across, so callers
    /// can move between inputs in a loop).
    #[inline]
    pub(crate) fn advance(&mut self) -> Result<bool> {
        loop {
            if !self.core.read_record(&mut self.rec)? {
                self.raw = None;
                return Ok(false);
            }
            match self.rec.raw() {
                Ok(raw) => {
                    self.core.stats.events += 1;
                    self.raw = Some(raw);
                    return Ok(true);
                }
                Err(bad) => {
                    if self.core.strict {
                        return Err(bad.to_error(self.rec.position, &self.rec.line));
                    }
                    self.core.stats.skip(self.rec.position, &bad, &self.rec.line);
                }
            }
        }
    }

    /// The event [`advance`](ZeekReader::advance) stopped at.
    #[inline]
    pub(crate) fn current(&self) -> Option<ConnEvent<'_>> {
        self.raw.map(|raw| raw.resolve(&self.rec.line))
    }

    /// Like `next_event`, also handing out the record the event came from, for its other
    /// fields (`conn_state`, labels, packet counts).
    ///
    /// # Errors
    /// As `next_event`.
    pub fn next_event_with_record(&mut self) -> Result<Option<(ConnEvent<'_>, &ZeekRecord)>> {
        if self.next_event()?.is_none() {
            return Ok(None);
        }
        // The record just parsed; parse it again from the shared borrow (cheap, no I/O).
        match self.rec.raw() {
            Ok(raw) => Ok(Some((raw.resolve(&self.rec.line), &self.rec))),
            Err(bad) => Err(bad.to_error(self.rec.position, &self.rec.line)),
        }
    }

    /// Calls `f` with every event until the end of input: the fastest path, parsing each
    /// line in place in the input buffer (no copy into a record). It does not update
    /// [`record`](ZeekReader::record).
    ///
    /// # Errors
    /// As [`next_event`](ZeekReader::next_event).
    pub fn for_each<F: FnMut(ConnEvent<'_>)>(&mut self, f: F) -> Result<()> {
        self.core.for_each_in_place(f)
    }

    /// The last record read by [`next_event`](ZeekReader::next_event) or
    /// [`next_event_with_record`](ZeekReader::next_event_with_record) (for its other fields:
    /// `reader.record().field("conn_state")`).
    pub fn record(&self) -> &ZeekRecord {
        &self.rec
    }

    /// The current header block, if one has been read.
    pub fn header(&self) -> Option<&ZeekHeader> {
        self.core.hdr.header.as_deref()
    }

    /// What has been read so far.
    pub fn stats(&self) -> &ReadStats {
        &self.core.stats
    }

    pub(crate) fn stats_mut(&mut self) -> &mut ReadStats {
        &mut self.core.stats
    }

    /// Header directive lines read so far.
    pub(crate) fn directives(&self) -> u64 {
        self.core.hdr.directives
    }

    /// Lines read so far (headers and blank lines included).
    pub(crate) fn lines_read(&self) -> u64 {
        self.core.lines.lines_read()
    }

    /// Whether the input is gzip-compressed.
    pub fn is_gzip(&self) -> bool {
        self.core.lines.input.is_gzip()
    }

    /// The position the next line starts at.
    pub fn position(&self) -> Position {
        self.core.lines.position()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HDR: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n";

    fn read_all(s: &str) -> (Vec<String>, ReadStats) {
        let mut r = ZeekReader::from_reader(s.as_bytes()).unwrap();
        let mut out = Vec::new();
        r.for_each(|e| out.push(format!("{} {} {} {:?}", e.ts.as_micros(), e.src, e.dst, e.dst_port)))
            .unwrap();
        (out, r.stats().clone())
    }

    #[test]
    fn swar_split_matches_naive() {
        let mut out = Vec::new();
        for line in [
            "",
            "\t",
            "a",
            "a\tb",
            "\t\t\t\t\t\t\t\t\t",
            "0123456\t89abcdef\tx\t",
            "long field without tabs at all",
        ] {
            let want: Vec<&str> = line.split('\t').collect();
            for limit in [0, 1, 2, 3, usize::MAX] {
                out.clear();
                let n = split_swar(line.as_bytes(), b'\t', &mut out, limit);
                assert_eq!(n, want.len(), "{line:?} {limit}");
                let got: Vec<&str> = out.iter().map(|&(s, e)| &line[s..e]).collect();
                assert_eq!(got, want[..want.len().min(limit)], "{line:?} {limit}");
            }
        }
    }

    /// The word-wise split against `split` on any bytes, any separator (NUL included, which
    /// the padding of a short last word must not fake) and any limit.
    #[test]
    fn swar_split_matches_naive_on_any_bytes() {
        use proptest::prelude::*;
        let byte = prop_oneof![Just(b'\t'), Just(0u8), Just(b','), any::<u8>()];
        let strategy = (
            proptest::collection::vec(byte, 0..80),
            0usize..14,
            prop_oneof![Just(b'\t'), Just(0u8), Just(b',')],
        );
        crate::tests::exercised::check_exercised("word-wise split", 512, 150, strategy, |(line, limit, sep)| {
            let want: Vec<&[u8]> = line.split(|&c| c == sep).collect();
            let mut out = Vec::new();
            let n = split_swar(&line, sep, &mut out, limit);
            prop_assert_eq!(n, want.len());
            let got: Vec<&[u8]> = out.iter().map(|&(s, e)| &line[s..e]).collect();
            prop_assert_eq!(&got[..], &want[..want.len().min(limit)]);
            // Exercised: several words, and fields past the limit to count.
            Ok(line.len() > 16 && want.len() > limit)
        });
    }

    /// The split the reader uses (SSE2 blocks on x86-64) and the word-wise one, on lines in
    /// the middle of a buffer (read past their end, never into it) and at its very end (the
    /// padded last block), against `split` on the line alone.
    #[test]
    fn block_split_matches_naive_inside_a_buffer() {
        use proptest::prelude::*;
        let byte = prop_oneof![Just(b'\t'), Just(0u8), Just(b','), any::<u8>()];
        // A line of 65 to 129 bytes from near the start of a buffer of at least 170: bytes
        // after it; or running to the buffer's end (its last block padded).
        let strategy = (
            proptest::collection::vec(byte, 170..300),
            0usize..40,
            65usize..130,
            any::<bool>(),
            0usize..40,
            prop_oneof![Just(b'\t'), Just(0u8), Just(b',')],
        );
        crate::tests::exercised::check_exercised(
            "block split",
            512,
            150,
            strategy,
            |(buf, start, len, to_end, limit, sep)| {
                let end = if to_end { buf.len() } else { start + len };
                let line = &buf[start..end];
                let want: Vec<&[u8]> = line.split(|&c| c == sep).collect();
                for split in [split_fields, split_words] {
                    let mut slots = vec![(0, 0); limit.min(line.len() + 1)];
                    let (located, n) = split(&buf, start, end, sep, &mut slots);
                    prop_assert_eq!(n, want.len());
                    let got: Vec<&[u8]> = slots[..located].iter().map(|&(s, e)| &line[s..e]).collect();
                    prop_assert_eq!(&got[..], &want[..want.len().min(limit)]);
                }
                // Exercised: fields past the limit to count.
                Ok(want.len() > limit)
            },
        );
    }

    #[test]
    fn two_blocks_with_different_orders() {
        let s = format!(
            "{HDR}#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\n1.0\ta\tb\t80\n#close\tx\n\
             {HDR}#fields\tid.resp_p\tid.resp_h\tid.orig_h\tts\n443\td\tc\t2.5\n"
        );
        let (ev, st) = read_all(&s);
        assert_eq!(ev, ["1000000 a b Some(80)", "2500000 c d Some(443)"]);
        assert_eq!((st.records, st.events, st.skipped), (2, 2, 0));
    }

    #[test]
    fn markers_that_look_like_numbers_and_flags() {
        // Markers starting with a digit or reading `T`/`F` are still markers (no fast path
        // takes them for values); under the default markers the same values are values.
        let body = "#fields\tts\tid.orig_h\tid.resp_h\tid.orig_p\tid.resp_p\torig_bytes\tduration\tlocal_orig\tlocal_resp\n\
                    1.5\ta\tb\t0\t80\t0\t0\tT\tF\n";
        let first = |unset: &str, empty: &str| {
            let log = format!("#separator \\x09\n#unset_field\t{unset}\n#empty_field\t{empty}\n{body}");
            let mut r = ZeekReader::from_reader(log.as_bytes()).unwrap();
            let ev = r.next_event().unwrap();
            let fields = ev.map(|e| {
                (
                    e.src_port,
                    e.dst_port,
                    e.bytes_out,
                    e.duration,
                    e.local_orig,
                    e.local_resp,
                )
            });
            (fields, r.stats().by_reason.clone())
        };
        let zero = Some(Interval::from_micros(0));
        assert_eq!(first("0", "T").0, Some((None, Some(80), None, None, None, Some(false))));
        assert_eq!(
            first("F", "(empty)").0,
            Some((Some(0), Some(80), Some(0), zero, Some(true), None))
        );
        assert_eq!(
            first("-", "(empty)").0,
            Some((Some(0), Some(80), Some(0), zero, Some(true), Some(false)))
        );
        // A ts that is the marker is missing, not a parse error.
        let (none, skipped) = first("1.5", "(empty)");
        assert_eq!(none, None);
        assert_eq!(skipped.get(&SkipReason::MissingField), Some(&1));
    }

    #[test]
    fn custom_separator_and_markers() {
        let s = "#separator \\x2c\n#unset_field,NA\n#empty_field,EMPTY\n#fields,ts,id.orig_h,id.resp_h,id.resp_p,orig_bytes\n\
                 1,a,b,NA,EMPTY\n";
        let mut r = ZeekReader::from_reader(s.as_bytes()).unwrap();
        let ev = r.next_event().unwrap().unwrap();
        assert_eq!((ev.src, ev.dst, ev.dst_port, ev.bytes_out), ("a", "b", None, None));
    }

    #[test]
    fn iot23_space_quirk() {
        let s = "#fields\tts\tid.orig_h\tid.resp_h\ttunnel_parents   label   detailed-label\n\
                 #types\ttime\taddr\taddr\tset[string]   string   string\n\
                 1.0\ta\tb\t-   Malicious   C&C\n";
        let mut r = ZeekReader::from_reader(s.as_bytes()).unwrap();
        let mut rec = ZeekRecord::new();
        assert!(r.read_record(&mut rec).unwrap());
        let h = rec.header().unwrap();
        assert!(h.has_space_quirk());
        assert_eq!(h.fields().len(), 6);
        assert_eq!(h.types().len(), 6);
        assert_eq!(rec.field("label"), Some("Malicious"));
        assert_eq!(rec.field("detailed-label"), Some("C&C"));
        assert_eq!(rec.field("tunnel_parents"), None);
        assert_eq!(rec.conn_event().unwrap().dst, "b");
    }

    #[test]
    fn skips_are_counted_with_positions() {
        let s = "#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\n\
                 1.0\ta\tb\t80\n\
                 x\ta\tb\t80\n\
                 1.0\ta\tb\t99999\n\
                 1.0\ta\tb\n\
                 \n\
                 1.0\t-\tb\t1\n";
        let (ev, st) = read_all(s);
        assert_eq!(ev.len(), 1);
        assert_eq!((st.records, st.events, st.skipped), (5, 1, 4));
        let reasons: Vec<_> = st.skipped_samples.iter().map(|s| (s.position.line, s.reason)).collect();
        assert_eq!(
            reasons,
            [
                (3, SkipReason::BadTimestamp),
                (4, SkipReason::BadPort),
                (5, SkipReason::FieldCount),
                (7, SkipReason::MissingField)
            ]
        );
        assert_eq!(st.skipped_samples[1].value.as_deref(), Some("99999"));
        assert_eq!(st.skipped_samples[2].detail.as_deref(), Some("expected 4, found 3"));
        assert_eq!(st.skipped_samples[0].position.byte, 52);
    }

    #[test]
    fn strict_mode_fails_with_field_and_value() {
        let s = "#fields\tts\tid.orig_h\tid.resp_h\n1.0\ta\tb\nbad\ta\tb\n";
        let mut r = ZeekReader::builder().strict(true).from_reader(s.as_bytes()).unwrap();
        assert!(r.next_event().unwrap().is_some());
        let err = r.next_event().unwrap_err();
        assert_eq!(err.position().map(|p| p.line), Some(3));
        let msg = err.to_string();
        assert!(msg.contains("field ts") && msg.contains("\"bad\""), "{msg}");
    }

    #[test]
    fn no_header_is_skipped_unless_defaults() {
        let s = "1.0\tC\ta\t1\tb\t2\ttcp\n";
        let (ev, st) = read_all(s);
        assert!(ev.is_empty());
        assert_eq!(st.by_reason.get(&SkipReason::NoHeader), Some(&1));
        let mut r = ZeekReader::builder()
            .default_conn_fields(true)
            .from_reader(s.as_bytes())
            .unwrap();
        let e = r.next_event().unwrap().unwrap();
        assert_eq!((e.uid, e.src_port, e.proto), (Some("C"), Some(1), Proto::Tcp));
    }

    #[test]
    fn crlf_and_too_long_lines() {
        let s =
            "#fields\tts\tid.orig_h\tid.resp_h\r\n1.0\ta\tb\r\n1.0\ta\tbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n";
        let mut r = ZeekReader::builder()
            .max_record_len(40)
            .from_reader(s.as_bytes())
            .unwrap();
        let e = r.next_event().unwrap().unwrap();
        assert_eq!(e.dst, "b");
        assert!(r.next_event().unwrap().is_none());
        assert_eq!(r.stats().by_reason.get(&SkipReason::LineTooLong), Some(&1));
    }

    #[test]
    fn bad_separator_is_an_error() {
        let s = "#separator \\x09\\x09\n";
        let mut r = ZeekReader::from_reader(s.as_bytes()).unwrap();
        assert!(r.next_event().is_err());
    }
}
