//! Grouping events into per-key time series: [`Grouper`] → [`SeriesSet`] → [`Series`].
//!
//! The grouper interns each distinct key once (its text copied into one arena, so at most one
//! amortised allocation per distinct key and none per event) and appends each event's timestamp
//! and size to flat vectors. [`Grouper::finish`] counting-sorts those into one contiguous
//! timestamp array with per-key offsets (the `csv` crate's "one buffer plus ends" idea), so each
//! [`Series`] is a pair of plain slices a scorer can take without copying.
//!
//! ```
//! use beaconstat::{ConnEvent, GroupBy, Grouper, Timestamp};
//! let mut g = Grouper::new(GroupBy::Pair);
//! for i in 0..10 {
//!     g.push(&ConnEvent::new(Timestamp::from_secs(60 * i), "10.0.0.5", "198.51.100.9"));
//!     g.push(&ConnEvent::new(Timestamp::from_secs(7 * i), "10.0.0.6", "198.51.100.9"));
//! }
//! let set = g.finish();
//! assert_eq!(set.len(), 2);
//! let s = set.get(0).unwrap();
//! assert_eq!(s.key().src, Some("10.0.0.5"));
//! assert_eq!(s.timestamps().len(), 10);
//! ```

use crate::event::ConnEvent;
use crate::time::Timestamp;
use core::fmt;
use core::hash::BuildHasher;
use hashbrown::{DefaultHashBuilder, HashTable};
use std::sync::Arc;

/// The identity of one series: whichever fields the grouping uses, the others `None`.
///
/// Keys handed out by a [`SeriesSet`] borrow from the set; keys built by a custom key function
/// borrow from the event.
///
/// # Example
/// ```
/// use beaconstat::SeriesKey;
/// let k = SeriesKey::pair("10.0.0.5", "198.51.100.9").with_dst_port(443);
/// assert_eq!(k.to_string(), "10.0.0.5 -> 198.51.100.9:443");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct SeriesKey<'s> {
    /// Originator.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub src: Option<&'s str>,
    /// Responder address.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub dst: Option<&'s str>,
    /// Responder port.
    pub dst_port: Option<u16>,
    /// Server name (FQDN or registered domain) the connections asked for.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub name: Option<&'s str>,
    /// Originating host name.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub host: Option<&'s str>,
    /// Originating process image.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub process: Option<&'s str>,
}

impl<'s> SeriesKey<'s> {
    /// Who originated the series: its source address, else its host name. The key
    /// [`SeriesSet::observed_seconds_by_source`] groups by.
    ///
    /// # Example
    /// ```
    /// use beaconstat::SeriesKey;
    /// assert_eq!(SeriesKey::pair("10.0.0.5", "198.51.100.9").source(), Some("10.0.0.5"));
    /// assert_eq!(SeriesKey::empty().source(), None);
    /// ```
    pub const fn source(&self) -> Option<&'s str> {
        match self.src {
            Some(s) => Some(s),
            None => self.host,
        }
    }
    /// A key with no field set (every event with it falls in one series).
    pub const fn empty() -> Self {
        SeriesKey {
            src: None,
            dst: None,
            dst_port: None,
            name: None,
            host: None,
            process: None,
        }
    }
    /// The (source, destination) key.
    pub const fn pair(src: &'s str, dst: &'s str) -> Self {
        let mut k = Self::empty();
        k.src = Some(src);
        k.dst = Some(dst);
        k
    }
    /// With the source.
    pub const fn with_src(mut self, src: &'s str) -> Self {
        self.src = Some(src);
        self
    }
    /// With the destination address.
    pub const fn with_dst(mut self, dst: &'s str) -> Self {
        self.dst = Some(dst);
        self
    }
    /// With the destination port.
    pub const fn with_dst_port(mut self, port: u16) -> Self {
        self.dst_port = Some(port);
        self
    }
    /// With the server name.
    pub const fn with_name(mut self, name: &'s str) -> Self {
        self.name = Some(name);
        self
    }
    /// With the originating host.
    pub const fn with_host(mut self, host: &'s str) -> Self {
        self.host = Some(host);
        self
    }
    /// With the originating process image.
    pub const fn with_process(mut self, image: &'s str) -> Self {
        self.process = Some(image);
        self
    }

    /// `(src, dst)` when these are the only string parts (the port may be set).
    #[inline]
    fn as_pair(&self) -> Option<(&'s str, &'s str)> {
        match (self.src, self.dst, self.name, self.host, self.process) {
            (Some(s), Some(d), None, None, None) => Some((s, d)),
            _ => None,
        }
    }

    #[inline]
    fn strs(&self) -> [Option<&'s str>; 5] {
        [self.src, self.dst, self.name, self.host, self.process]
    }
}

impl fmt::Display for SeriesKey<'_> {
    /// `[host/process] src -> dst|name[:port]`, omitting what is not set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(h) = self.host {
            write!(f, "{h}")?;
            sep = " ";
        }
        if let Some(p) = self.process {
            let short = p.rsplit(['\\', '/']).next().unwrap_or(p);
            write!(f, "{}{short}", if self.host.is_some() { "/" } else { "" })?;
            sep = " ";
        }
        if let Some(s) = self.src {
            write!(f, "{sep}{s}")?;
            sep = " ";
        }
        let target = self.name.or(self.dst);
        if let Some(t) = target {
            write!(f, "{sep}-> {t}")?;
        }
        if let Some(p) = self.dst_port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// A user-supplied key function: maps an event to its key, or `None` to leave it out
/// (counted in [`SeriesSet::unkeyed`]).
pub type KeyFn = Arc<dyn for<'e> Fn(&ConnEvent<'e>) -> Option<SeriesKey<'e>> + Send + Sync>;

/// How events are grouped into series.
///
/// # Example
/// ```
/// use beaconstat::{ConnEvent, GroupBy, SeriesKey, Timestamp};
/// // Group by destination only (e.g. "who talks to this C2 server", summed over sources).
/// let by_dst = GroupBy::custom(|e: &ConnEvent<'_>| Some(SeriesKey::empty().with_dst(e.dst)));
/// let e = ConnEvent::new(Timestamp::from_secs(0), "a", "b");
/// assert_eq!(by_dst.key(&e).unwrap().dst, Some("b"));
/// assert_eq!(GroupBy::Pair.key(&e), Some(SeriesKey::pair("a", "b")));
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum GroupBy {
    /// (src, dst): the classic beacon pair.
    #[default]
    Pair,
    /// (src, dst, dst_port).
    PairPort,
    /// (host, process image, dst): which program on which machine calls out. Events without
    /// a host fall back to `src` as the host; events without a process keep `process = None`.
    HostProcessDst,
    /// (src, name): by the server name asked for; events without a name fall back to `dst`.
    SrcName,
    /// A custom key function.
    Custom(KeyFn),
}

impl GroupBy {
    /// Wraps a closure as [`GroupBy::Custom`].
    pub fn custom<F>(f: F) -> Self
    where
        F: for<'e> Fn(&ConnEvent<'e>) -> Option<SeriesKey<'e>> + Send + Sync + 'static,
    {
        GroupBy::Custom(Arc::new(f))
    }

    /// The key of one event under this grouping (borrowing from the event).
    #[inline]
    pub fn key<'e>(&self, e: &ConnEvent<'e>) -> Option<SeriesKey<'e>> {
        match self {
            GroupBy::Pair => Some(SeriesKey::pair(e.src, e.dst)),
            GroupBy::PairPort => {
                let mut k = SeriesKey::pair(e.src, e.dst);
                k.dst_port = e.dst_port;
                Some(k)
            }
            GroupBy::HostProcessDst => Some(SeriesKey {
                host: Some(e.host.unwrap_or(e.src)),
                process: e.process.and_then(|p| p.image),
                dst: Some(e.dst),
                ..SeriesKey::empty()
            }),
            GroupBy::SrcName => Some(match e.name {
                Some(n) => SeriesKey {
                    src: Some(e.src),
                    name: Some(n),
                    ..SeriesKey::empty()
                },
                None => SeriesKey::pair(e.src, e.dst),
            }),
            GroupBy::Custom(f) => f(e),
        }
    }
}

impl fmt::Debug for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GroupBy::Pair => "Pair",
            GroupBy::PairPort => "PairPort",
            GroupBy::HostProcessDst => "HostProcessDst",
            GroupBy::SrcName => "SrcName",
            GroupBy::Custom(_) => "Custom(..)",
        })
    }
}

/// Which byte count becomes a series' size (for data-size regularity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum SizeField {
    /// Originator payload bytes (what the implant sends: its check-in). The default.
    #[default]
    BytesOut,
    /// Responder payload bytes.
    BytesIn,
    /// Both directions summed.
    Total,
    /// No sizes.
    None,
}

impl SizeField {
    fn of(self, e: &ConnEvent<'_>) -> Option<u64> {
        match self {
            SizeField::BytesOut => e.bytes_out,
            SizeField::BytesIn => e.bytes_in,
            SizeField::Total => match (e.bytes_out, e.bytes_in) {
                (Some(a), Some(b)) => Some(a.saturating_add(b)),
                _ => None,
            },
            SizeField::None => None,
        }
    }
}

/// Marks "no such field" in a stored key part.
const ABSENT: u32 = u32::MAX;

/// An interned key: each string field as (start, len) in the arena, `len == ABSENT` for `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StoredKey {
    parts: [(u32, u32); 5],
    dst_port: Option<u16>,
}

/// Owned key storage shared by the grouper and the finished set: one text arena + offsets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct KeyStore {
    arena: String,
    keys: Vec<StoredKey>,
}

impl KeyStore {
    fn get(&self, id: usize) -> Option<SeriesKey<'_>> {
        let k = self.keys.get(id)?;
        let part = |i: usize| {
            let (start, len) = k.parts[i];
            if len == ABSENT {
                None
            } else {
                self.arena.get(start as usize..start as usize + len as usize)
            }
        };
        Some(SeriesKey {
            src: part(0),
            dst: part(1),
            name: part(2),
            host: part(3),
            process: part(4),
            dst_port: k.dst_port,
        })
    }

    /// Whether interned key `id` equals `key`: compares the stored byte ranges part by part
    /// (no key is rebuilt, no char-boundary check: equal bytes are equal strings).
    #[inline]
    fn matches(&self, id: u32, key: &SeriesKey<'_>) -> bool {
        let Some(k) = self.keys.get(id as usize) else {
            return false;
        };
        if k.dst_port != key.dst_port {
            return false;
        }
        k.parts.iter().zip(key.strs()).all(|(&stored, part)| match part {
            None => stored.1 == ABSENT,
            Some(p) => self.part_is(stored, p),
        })
    }

    /// [`KeyStore::matches`] for a (src, dst[, port]) key.
    #[inline]
    fn matches_pair(&self, id: u32, src: &str, dst: &str, port: Option<u16>) -> bool {
        let Some(k) = self.keys.get(id as usize) else {
            return false;
        };
        let [s, d, n, h, p] = k.parts;
        k.dst_port == port
            && n.1 == ABSENT
            && h.1 == ABSENT
            && p.1 == ABSENT
            && self.part_is(s, src)
            && self.part_is(d, dst)
    }

    /// Whether the stored part `(start, len)` (present) holds the bytes of `p`.
    #[inline]
    fn part_is(&self, (start, len): (u32, u32), p: &str) -> bool {
        len != ABSENT
            && len as usize == p.len()
            && self
                .arena
                .as_bytes()
                .get(start as usize..start as usize + len as usize)
                .is_some_and(|a| eq_bytes(a, p.as_bytes()))
    }

    fn insert(&mut self, key: &SeriesKey<'_>) -> u32 {
        let mut parts = [(0u32, ABSENT); 5];
        for (slot, s) in parts.iter_mut().zip(key.strs()) {
            if let Some(s) = s {
                // Keys longer than 4 GiB in total cannot be interned; clamp (never panics).
                let start = u32::try_from(self.arena.len()).unwrap_or(ABSENT - 1);
                let len = u32::try_from(s.len()).unwrap_or(0).min(ABSENT - 1);
                self.arena.push_str(s.get(..len as usize).unwrap_or(""));
                *slot = (start, len);
            }
        }
        self.keys.push(StoredKey {
            parts,
            dst_port: key.dst_port,
        });
        (self.keys.len() - 1) as u32
    }
}

/// Seeds for [`key_hash`]: odd 64-bit constants (the fractional digits of π), mixed with a
/// per-grouper random seed.
const MUL0: u64 = 0x243F_6A88_85A3_08D3;
const MUL1: u64 = 0x1319_8A2E_0370_7345;

/// The 64×64→128-bit product folded to 64 bits (high half xor low half): one multiply that
/// mixes every input bit into every output bit, the core of `foldhash` and `wyhash`.
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline]
fn first8(b: &[u8]) -> u64 {
    b.first_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w))
}

#[inline]
fn last8(b: &[u8]) -> u64 {
    b.last_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w))
}

#[inline]
fn first4(b: &[u8]) -> u64 {
    b.first_chunk::<4>().map_or(0, |w| u64::from(u32::from_le_bytes(*w)))
}

#[inline]
fn last4(b: &[u8]) -> u64 {
    b.last_chunk::<4>().map_or(0, |w| u64::from(u32::from_le_bytes(*w)))
}

/// Two words that, with the length, determine `b` exactly when it is at most 16 bytes long:
/// two overlapping 8-byte (or 4-byte) words, or the bytes themselves below 4.
#[inline]
fn short_words(b: &[u8]) -> Option<(u64, u64)> {
    let n = b.len();
    Some(if n > 16 {
        return None;
    } else if n >= 8 {
        (first8(b), last8(b))
    } else if n >= 4 {
        (first4(b), last4(b))
    } else {
        let byte = |i: usize| b.get(i).map_or(0, |&x| u64::from(x));
        (byte(0) | byte(n / 2) << 8 | byte(n.wrapping_sub(1)) << 16, 0)
    })
}

/// One [`hash_bytes`] step over the [`short_words`] of a string of length `n`.
#[inline]
fn hash_words(h: u64, seed: u64, n: usize, (lo, hi): (u64, u64)) -> u64 {
    fold_mul(lo ^ h, hi ^ (n as u64).wrapping_mul(MUL0) ^ seed)
}

/// Hashes `b` into the running state `h`: two (possibly overlapping) words for up to 16 bytes,
/// one folded multiply per 16 bytes beyond. Addresses and host names are short, so a key part
/// costs one or two multiplies instead of a byte-at-a-time `Hasher` walk.
#[inline]
fn hash_bytes(h: u64, seed: u64, b: &[u8]) -> u64 {
    let n = b.len();
    if let Some(words) = short_words(b) {
        return hash_words(h, seed, n, words);
    }
    let len = (n as u64).wrapping_mul(MUL0) ^ seed;
    let mut acc = h;
    let mut chunks = b.chunks_exact(16);
    for c in &mut chunks {
        acc = fold_mul(first8(c) ^ acc, last8(c) ^ seed);
    }
    // The last 16 bytes (overlapping the chunks when the length is not a multiple of 16).
    fold_mul(b.get(n - 16..).map_or(0, first8) ^ acc, last8(b) ^ len)
}

/// The hash of a (src, dst[, port]) key: two [`hash_bytes`] steps.
#[inline]
fn pair_hash(seed: [u64; 2], src: &str, dst: &str, port: Option<u16>) -> u64 {
    let h = seed[0] ^ port_code(port);
    hash_bytes(hash_bytes(h, seed[1], src.as_bytes()), seed[1], dst.as_bytes())
}

/// The (src, dst[, port]) key.
#[inline]
fn pair_key<'k>(src: &'k str, dst: &'k str, port: Option<u16>) -> SeriesKey<'k> {
    let mut key = SeriesKey::pair(src, dst);
    key.dst_port = port;
    key
}

#[inline]
fn port_code(port: Option<u16>) -> u64 {
    port.map_or(0x1_0000, u64::from)
}

/// A (src, dst[, port]) key whose addresses are at most 16 bytes each (every IPv4 address, short
/// names and IPv6 addresses), as five words that determine it exactly: comparing two keys is
/// comparing 40 bytes, with no arena access. Keys of any other shape get [`PairCode::NONE`],
/// which no computed code equals.
#[derive(Debug, Clone, Copy, Eq)]
struct PairCode {
    words: [u64; 4],
    meta: u64,
}

impl PartialEq for PairCode {
    /// Branch-free and inlined: the derived comparison goes through the array's element-wise
    /// equality (about 12 more instructions per pushed event under callgrind).
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        let [a, b, c, d] = self.words;
        let [e, f, g, h] = other.words;
        ((a ^ e) | (b ^ f) | (c ^ g) | (d ^ h) | (self.meta ^ other.meta)) == 0
    }
}

impl PairCode {
    const NONE: PairCode = PairCode { words: [0; 4], meta: 0 };
    const VALID: u64 = 1 << 40;

    /// `meta`: the source's length (bits 0–7), the destination's (8–15), the [`port_code`]
    /// (16–32) and [`PairCode::VALID`].
    #[inline]
    fn new(src: &str, dst: &str, port: Option<u16>) -> Option<PairCode> {
        let (s, d) = (short_words(src.as_bytes())?, short_words(dst.as_bytes())?);
        let meta = src.len() as u64 | (dst.len() as u64) << 8 | port_code(port) << 16 | PairCode::VALID;
        Some(PairCode {
            words: [s.0, s.1, d.0, d.1],
            meta,
        })
    }

    /// [`pair_hash`] from the words already computed (lengths and port read back from `meta`).
    #[inline]
    fn hash(&self, seed: [u64; 2]) -> u64 {
        let [a, b, c, d] = self.words;
        let (src_len, dst_len) = ((self.meta & 0xff) as usize, (self.meta >> 8 & 0xff) as usize);
        let h = seed[0] ^ (self.meta >> 16 & 0x1_ffff);
        let h = hash_words(h, seed[1], src_len, (a, b));
        hash_words(h, seed[1], dst_len, (c, d))
    }
}

/// The hash of a key: its port and each string part (absent parts hash differently from empty
/// ones), seeded per grouper so that crafted keys cannot force collisions across runs.
/// (src, dst[, port]) keys take [`pair_hash`], as the pair fast path does.
#[inline]
fn key_hash(seed: [u64; 2], key: &SeriesKey<'_>) -> u64 {
    if let Some((src, dst)) = key.as_pair() {
        return pair_hash(seed, src, dst, key.dst_port);
    }
    let mut h = seed[0] ^ port_code(key.dst_port);
    for part in key.strs() {
        h = match part {
            Some(p) => hash_bytes(h, seed[1], p.as_bytes()),
            None => h.rotate_left(29) ^ MUL1,
        };
    }
    fold_mul(h ^ MUL1, seed[1] | 1)
}

/// Byte equality, with short strings (addresses, ports, host names) compared as one or two
/// overlapping words instead of through a `memcmp` call.
#[inline]
fn eq_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if (8..=16).contains(&n) {
        first8(a) == first8(b) && last8(a) == last8(b)
    } else if (4..8).contains(&n) {
        first4(a) == first4(b) && last4(a) == last4(b)
    } else {
        a == b
    }
}

/// A push-order column kept in a narrow integer type while every value fits, widened once (a
/// copy, then appends) when one does not. Lossless; values go in and come out as `W`.
#[derive(Debug, Clone)]
enum Widening<N, W> {
    Narrow(Vec<N>),
    Wide(Vec<W>),
}

/// Per-event key ids in push order: 16 bits each while there are at most 65 536 keys (a whole
/// conn.log usually has far fewer), 32 bits once a key beyond that appears.
type IdColumn = Widening<u16, u32>;

/// Per-event sizes in push order: 32 bits each while every size fits (payload byte counts of a
/// single connection almost always do), 64 bits otherwise.
type SizeColumn = Widening<u32, u64>;

impl<N: Copy + TryFrom<W> + Into<W>, W: Copy> Widening<N, W> {
    #[inline]
    fn push(&mut self, value: W) {
        match self {
            Widening::Narrow(v) => match N::try_from(value) {
                Ok(x) => v.push(x),
                Err(_) => self.widen_and_push(value),
            },
            Widening::Wide(v) => v.push(value),
        }
    }

    #[cold]
    fn widen_and_push(&mut self, value: W) {
        if let Widening::Narrow(v) = self {
            let mut wide = Vec::with_capacity(v.capacity().max(v.len() + 1));
            wide.extend(v.iter().map(|&x| x.into()));
            *self = Widening::Wide(wide);
        }
        if let Widening::Wide(v) = self {
            v.push(value);
        }
    }

    fn len(&self) -> usize {
        match self {
            Widening::Narrow(v) => v.len(),
            Widening::Wide(v) => v.len(),
        }
    }

    fn reserve(&mut self, n: usize) {
        match self {
            Widening::Narrow(v) => v.reserve(n),
            Widening::Wide(v) => v.reserve(n),
        }
    }

    fn clear(&mut self) {
        match self {
            Widening::Narrow(v) => v.clear(),
            Widening::Wide(v) => v.clear(),
        }
    }
}

/// A key id as stored in an id column.
trait KeyIndex: Copy {
    fn index(self) -> usize;
}

impl KeyIndex for u16 {
    #[inline]
    fn index(self) -> usize {
        usize::from(self)
    }
}

impl KeyIndex for u32 {
    #[inline]
    fn index(self) -> usize {
        self as usize
    }
}

/// Frees the push-order columns, each shrunk in place to almost nothing first.
///
/// Shrinking returns the pages of a large column to the system (glibc: `mremap`) without a
/// `free` of the large block, which would raise glibc's dynamic mmap threshold to the block's
/// size: every later allocation up to that size (all of the scorer's buffers) would then come
/// from heaps that are rarely trimmed, and the process would keep megabytes it no longer uses.
fn release(ids: IdColumn, sizes: SizeColumn) {
    fn shrink<T>(mut v: Vec<T>) {
        v.clear();
        v.shrink_to(1);
    }
    match ids {
        IdColumn::Narrow(v) => shrink(v),
        IdColumn::Wide(v) => shrink(v),
    }
    match sizes {
        SizeColumn::Narrow(v) => shrink(v),
        SizeColumn::Wide(v) => shrink(v),
    }
}

/// Events per key.
fn count<I: KeyIndex>(ids: &[I], counts: &mut [usize]) {
    for &id in ids {
        if let Some(c) = counts.get_mut(id.index()) {
            *c += 1;
        }
    }
}

/// One column of a stable counting sort: each value goes to its key's next free slot.
/// `cursor[k]` starts at key `k`'s offset; out-of-range ids or slots are skipped (they cannot
/// occur: ids come from the grouper and the offsets from its own counts).
#[inline]
fn scatter<I: KeyIndex, T: Copy, U>(ids: &[I], values: &[T], cursor: &mut [usize], out: &mut [U], f: impl Fn(T) -> U) {
    for (&id, &v) in ids.iter().zip(values) {
        if let Some(c) = cursor.get_mut(id.index()) {
            if let Some(slot) = out.get_mut(*c) {
                *slot = f(v);
            }
            *c += 1;
        }
    }
}

/// A key interned by [`Grouper::key_id`]: the index its series will have in the
/// [`SeriesSet`] (keys are numbered in first-seen order, from 0).
///
/// An id is meaningful only for the grouper that issued it, until that grouper is reset.
///
/// # Example
/// ```
/// use beaconstat::{GroupBy, Grouper, SeriesKey};
/// let mut g = Grouper::new(GroupBy::Pair);
/// let a = g.key_id(&SeriesKey::pair("10.0.0.5", "198.51.100.9"));
/// let b = g.key_id(&SeriesKey::pair("10.0.0.6", "198.51.100.9"));
/// assert_eq!((a.index(), b.index()), (0, 1));
/// assert_eq!(g.key_id(&SeriesKey::pair("10.0.0.5", "198.51.100.9")), a);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(u32);

impl KeyId {
    /// The key's index: the position of its series in the finished [`SeriesSet`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Groups a stream of events into per-key series.
///
/// Push events with [`Grouper::push`], then call [`Grouper::finish`]. The grouper can be reused
/// after [`Grouper::reset`], keeping its capacity; input after input, finish each with
/// [`Grouper::finish_and_reset`] and hand the sets back with [`Grouper::recycle`].
///
/// Costs: one key hash (a few multiplies over the key's 8-byte words) and one hash-table probe
/// per event (the probe skipped when an event has the same key as the one before it, as in
/// sorted or bursty logs), three vector pushes (amortised), and one arena append per distinct
/// key. Callers that already hold small integer keys (a reader's or an Arrow column's
/// dictionary) can intern each distinct key once with [`Grouper::key_id`] and push events with
/// [`Grouper::push_id`], which skips hashing altogether.
///
/// While grouping, an event takes 14 bytes (a 16-bit key id, a 64-bit timestamp and a 32-bit
/// size); ids widen to 32 bits past 65 536 keys and sizes to 64 bits when one exceeds 4 GiB.
#[derive(Debug, Clone)]
pub struct Grouper {
    group_by: GroupBy,
    size_field: SizeField,
    seed: [u64; 2],
    table: HashTable<u32>,
    store: KeyStore,
    // Per key.
    hashes: Vec<u64>,
    codes: Vec<PairCode>,
    sizeless: Vec<u32>,
    // Per event, in push order.
    ids: IdColumn,
    // µs since the epoch as the bits of an `i64`: a `u64` column, so that `finish` can reuse it
    // for the sorted sizes once the timestamps are sorted out of it.
    ts: Vec<u64>,
    sizes: SizeColumn,
    last_id: u32,
    last_hash: u64,
    unkeyed: u64,
    // Memory handed back by `recycle`, for the next `finish_and_reset`: the sorted-timestamp
    // column and the key storage of a finished set.
    spare_ts: Vec<i64>,
    spare_store: KeyStore,
}

impl Default for Grouper {
    fn default() -> Self {
        Grouper::new(GroupBy::default())
    }
}

impl Grouper {
    /// A grouper with the given key; sizes from [`SizeField::BytesOut`].
    pub fn new(group_by: GroupBy) -> Self {
        let random = DefaultHashBuilder::default();
        Grouper {
            group_by,
            size_field: SizeField::default(),
            seed: [random.hash_one(0x5eed_u64), random.hash_one(0xbeac_u64)],
            table: HashTable::new(),
            store: KeyStore::default(),
            hashes: Vec::new(),
            codes: Vec::new(),
            sizeless: Vec::new(),
            ids: IdColumn::Narrow(Vec::new()),
            ts: Vec::new(),
            sizes: SizeColumn::Narrow(Vec::new()),
            last_id: ABSENT,
            last_hash: 0,
            unkeyed: 0,
            spare_ts: Vec::new(),
            spare_store: KeyStore::default(),
        }
    }

    /// Chooses which byte count becomes the series' sizes.
    pub fn size_field(mut self, field: SizeField) -> Self {
        self.size_field = field;
        self
    }

    /// Reserves room for `events` more events.
    pub fn reserve(&mut self, events: usize) {
        self.ids.reserve(events);
        self.ts.reserve(events);
        self.sizes.reserve(events);
    }

    /// Adds one event. Its key's text is copied only the first time the key is seen.
    #[inline]
    pub fn push(&mut self, e: &ConnEvent<'_>) {
        let port = match self.group_by {
            GroupBy::Pair => None,
            GroupBy::PairPort => e.dst_port,
            _ => return self.push_generic(e),
        };
        let id = self.lookup_pair(e.src, e.dst, port);
        let size = self.size_field.of(e);
        self.record(id, e.ts, size);
    }

    fn push_generic(&mut self, e: &ConnEvent<'_>) {
        let Some(key) = self.group_by.key(e) else {
            self.unkeyed += 1;
            return;
        };
        let size = self.size_field.of(e);
        self.push_keyed(&key, e.ts, size);
    }

    /// Adds one observation under an explicit key (for callers that compute keys themselves).
    #[inline]
    pub fn push_keyed(&mut self, key: &SeriesKey<'_>, ts: Timestamp, size: Option<u64>) {
        let id = self.lookup(key);
        self.record(id, ts, size);
    }

    /// Interns `key` (copying its text the first time it is seen) and returns its id, for
    /// [`Grouper::push_id`]. Interning a key creates its series, even if no event is pushed
    /// under it (the series is then empty).
    ///
    /// # Example
    /// ```
    /// use beaconstat::{GroupBy, Grouper, SeriesKey, Timestamp};
    /// // A dictionary-encoded column: each distinct key once, then small integers per event.
    /// let dictionary = [SeriesKey::pair("10.0.0.5", "198.51.100.9"), SeriesKey::pair("10.0.0.6", "198.51.100.9")];
    /// let codes = [0usize, 1, 0, 0, 1];
    /// let mut g = Grouper::new(GroupBy::Pair);
    /// let ids: Vec<_> = dictionary.iter().map(|k| g.key_id(k)).collect();
    /// for (i, &c) in codes.iter().enumerate() {
    ///     assert!(g.push_id(ids[c], Timestamp::from_secs(60 * i as i64), Some(100)));
    /// }
    /// let set = g.finish();
    /// assert_eq!(set.get(0).unwrap().timestamps().len(), 3);
    /// assert_eq!(set.get(1).unwrap().key().src, Some("10.0.0.6"));
    /// ```
    pub fn key_id(&mut self, key: &SeriesKey<'_>) -> KeyId {
        KeyId(self.lookup(key))
    }

    /// Adds one observation under a key interned with [`Grouper::key_id`]: no hashing and no
    /// key comparison, only the per-event appends. Returns `false` (and adds nothing) when `id`
    /// is not a key of this grouper.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{GroupBy, Grouper, SeriesKey, Timestamp};
    /// let mut g = Grouper::new(GroupBy::Pair);
    /// let id = g.key_id(&SeriesKey::pair("a", "b"));
    /// assert!(g.push_id(id, Timestamp::from_secs(1), None));
    /// let mut other = Grouper::new(GroupBy::Pair);
    /// assert!(!other.push_id(id, Timestamp::from_secs(1), None)); // not interned there
    /// assert_eq!(g.finish().events(), 1);
    /// ```
    #[inline]
    #[must_use = "false means the id was unknown and nothing was added"]
    pub fn push_id(&mut self, id: KeyId, ts: Timestamp, size: Option<u64>) -> bool {
        if id.index() >= self.store.keys.len() {
            return false;
        }
        self.record(id.0, ts, size);
        true
    }

    /// The id of `key`, interning it if new. The previous event's key is checked first (equal
    /// hashes, then equal bytes), then the table.
    #[inline]
    fn lookup(&mut self, key: &SeriesKey<'_>) -> u32 {
        if let Some((src, dst)) = key.as_pair() {
            return self.lookup_pair(src, dst, key.dst_port);
        }
        let hash = key_hash(self.seed, key);
        self.find_or_insert(hash, |_, store, id| store.matches(id, key), || *key)
    }

    /// [`Grouper::lookup`] for a (src, dst[, port]) key: no [`SeriesKey`] is built unless the
    /// key is new.
    #[inline]
    fn lookup_pair(&mut self, src: &str, dst: &str, port: Option<u16>) -> u32 {
        let Some(code) = PairCode::new(src, dst, port) else {
            return self.lookup_long_pair(src, dst, port);
        };
        self.find_or_insert(
            code.hash(self.seed),
            |codes, _, id| codes.get(id as usize) == Some(&code),
            || pair_key(src, dst, port),
        )
    }

    /// [`Grouper::lookup_pair`] for addresses longer than 16 bytes: compared in the arena.
    fn lookup_long_pair(&mut self, src: &str, dst: &str, port: Option<u16>) -> u32 {
        self.find_or_insert(
            pair_hash(self.seed, src, dst, port),
            |_, store, id| store.matches_pair(id, src, dst, port),
            || pair_key(src, dst, port),
        )
    }

    /// The id of the key with `hash` for which `same(codes, store, id)` holds: the previous
    /// event's key, else a table probe, else a new key (built by `key` only then).
    #[inline(always)]
    fn find_or_insert<'k>(
        &mut self,
        hash: u64,
        same: impl Fn(&[PairCode], &KeyStore, u32) -> bool,
        key: impl FnOnce() -> SeriesKey<'k>,
    ) -> u32 {
        let id = if hash == self.last_hash && same(&self.codes, &self.store, self.last_id) {
            self.last_id
        } else {
            let (codes, store) = (&self.codes, &self.store);
            match self.table.find(hash, |&id| same(codes, store, id)) {
                Some(&id) => id,
                None => self.insert(&key(), hash),
            }
        };
        self.last_id = id;
        self.last_hash = hash;
        id
    }

    /// Appends one event under interned key `id` (which must be below `self.keys()`).
    #[inline(always)]
    fn record(&mut self, id: u32, ts: Timestamp, size: Option<u64>) {
        if size.is_none()
            && let Some(u) = self.sizeless.get_mut(id as usize)
        {
            *u = u.saturating_add(1);
        }
        self.ids.push(id);
        self.ts.push(ts.as_micros() as u64);
        self.sizes.push(size.unwrap_or(0));
    }

    /// Interns a key known to be new.
    #[cold]
    fn insert(&mut self, key: &SeriesKey<'_>, hash: u64) -> u32 {
        let id = self.store.insert(key);
        self.hashes.push(hash);
        let hashes = &self.hashes;
        // Rehash on growth from the stored hashes (8 bytes per key, not per event).
        self.table
            .insert_unique(hash, id, |&id| hashes.get(id as usize).copied().unwrap_or(0));
        self.codes.push(
            key.as_pair()
                .and_then(|(s, d)| PairCode::new(s, d, key.dst_port))
                .unwrap_or(PairCode::NONE),
        );
        self.sizeless.push(0);
        id
    }

    /// Events pushed so far (excluding those without a key).
    pub fn events(&self) -> usize {
        self.ids.len()
    }

    /// Distinct keys so far.
    pub fn keys(&self) -> usize {
        self.store.keys.len()
    }

    /// Clears all series, keeping allocated capacity.
    pub fn reset(&mut self) {
        self.table.clear();
        self.store.arena.clear();
        self.store.keys.clear();
        self.hashes.clear();
        self.ids.clear();
        self.ts.clear();
        self.sizes.clear();
        self.codes.clear();
        self.sizeless.clear();
        self.last_id = ABSENT;
        self.last_hash = 0;
        self.unkeyed = 0;
    }

    /// Sorts the events into contiguous per-key series, each in time order.
    ///
    /// Series keep the order in which their keys were first seen.
    pub fn finish(mut self) -> SeriesSet {
        self.build(Columns::Release)
    }

    /// [`Grouper::finish`], keeping the grouper for the next input (window after window): it
    /// is left empty, as after [`Grouper::reset`], with its capacity. Hand each set back with
    /// [`Grouper::recycle`] once done with it, and the next call reuses its memory as well: in
    /// steady state grouping then touches no new memory (a fresh grouper's first touch of its
    /// columns, page faults included, is about a fifth of grouping's time).
    ///
    /// # Example
    /// ```
    /// use beaconstat::{ConnEvent, GroupBy, Grouper, Timestamp};
    /// let mut g = Grouper::new(GroupBy::Pair);
    /// for window in 0..3i64 {
    ///     for i in 0..10 {
    ///         g.push(&ConnEvent::new(Timestamp::from_secs(window * 600 + i * 60), "10.0.0.5", "198.51.100.9"));
    ///     }
    ///     let set = g.finish_and_reset();
    ///     assert_eq!((set.len(), set.events()), (1, 10));
    ///     g.recycle(set); // its memory serves the next window
    /// }
    /// ```
    pub fn finish_and_reset(&mut self) -> SeriesSet {
        let set = self.build(Columns::Keep);
        self.reset();
        set
    }

    /// Takes back a set's memory (see [`Grouper::finish_and_reset`]). Any set will do; its
    /// contents are discarded.
    pub fn recycle(&mut self, set: SeriesSet) {
        let SeriesSet { store, ts, sizes, .. } = set;
        if ts.capacity() > self.spare_ts.capacity() {
            self.spare_ts = ts;
        }
        // The set's size column was a push-order timestamp column (see `build`).
        if sizes.capacity() > self.ts.capacity() && self.ts.is_empty() {
            self.ts = sizes;
            self.ts.clear();
        }
        if store.arena.capacity() > self.spare_store.arena.capacity() {
            self.spare_store = store;
        }
    }

    /// The finished set; the push-order columns are released or kept (cleared) as asked.
    fn build(&mut self, columns: Columns) -> SeriesSet {
        // The keys go with the set; the grouper continues on spare storage (`reset` clears it).
        let store = std::mem::replace(&mut self.store, std::mem::take(&mut self.spare_store));
        let ids = std::mem::replace(&mut self.ids, IdColumn::Narrow(Vec::new()));
        let pushed_ts = std::mem::take(&mut self.ts);
        let pushed_sizes = std::mem::replace(&mut self.sizes, SizeColumn::Narrow(Vec::new()));
        let sizeless = std::mem::take(&mut self.sizeless);
        let unkeyed = self.unkeyed;
        let k = store.keys.len();
        let mut counts = vec![0usize; k];
        match &ids {
            IdColumn::Narrow(v) => count(v, &mut counts),
            IdColumn::Wide(v) => count(v, &mut counts),
        }
        let mut offsets = Vec::with_capacity(k + 1);
        let mut acc = 0usize;
        offsets.push(0);
        for &c in &counts {
            acc += c;
            offsets.push(acc);
        }
        // A stable counting sort by key, one column at a time. The timestamps go to a new
        // column; the sizes then go into the push-order timestamp column, which is free by then
        // and exactly as long. The peak is the push-order columns (14 bytes an event) plus
        // one sorted column (8), and the sort touches one new column, not two.
        let n = ids.len();
        let mut cursor: Vec<usize> = offsets[..k].to_vec();
        // A recycled column if it is large enough; else fresh zeroed memory (`calloc`: pages
        // the scatter touches first, not written twice).
        let mut ts = std::mem::take(&mut self.spare_ts);
        if ts.capacity() >= n {
            ts.clear();
            ts.resize(n, 0);
        } else {
            ts = vec![0i64; n];
        }
        let as_i64 = |t: u64| t as i64;
        match &ids {
            IdColumn::Narrow(v) => scatter(v, &pushed_ts, &mut cursor, &mut ts, as_i64),
            IdColumn::Wide(v) => scatter(v, &pushed_ts, &mut cursor, &mut ts, as_i64),
        }
        let any_sized = counts.iter().zip(&sizeless).any(|(&c, &u)| c > u as usize);
        let (mut sizes, unused_ts) = if any_sized {
            (pushed_ts, Vec::new())
        } else {
            (Vec::new(), pushed_ts)
        };
        if any_sized {
            cursor.copy_from_slice(&offsets[..k]);
            match (&ids, &pushed_sizes) {
                (IdColumn::Narrow(i), SizeColumn::Narrow(z)) => scatter(i, z, &mut cursor, &mut sizes, u64::from),
                (IdColumn::Narrow(i), SizeColumn::Wide(z)) => scatter(i, z, &mut cursor, &mut sizes, |x| x),
                (IdColumn::Wide(i), SizeColumn::Narrow(z)) => scatter(i, z, &mut cursor, &mut sizes, u64::from),
                (IdColumn::Wide(i), SizeColumn::Wide(z)) => scatter(i, z, &mut cursor, &mut sizes, |x| x),
            }
        }
        match columns {
            Columns::Release => {
                release(ids, pushed_sizes);
                drop(unused_ts); // freed before the per-series sort, not after it
            }
            Columns::Keep => {
                self.ids = ids;
                self.ids.clear();
                self.sizes = pushed_sizes;
                self.sizes.clear();
                // An unused timestamp column stays; a used one left with the set (`recycle`).
                self.ts = unused_ts;
                self.ts.clear();
            }
        }
        drop(cursor);
        // Sort each series by (time, size) where it is not already in order; sizes move with
        // their timestamps, and ties are broken by size so the result does not depend on the
        // input order.
        let mut scratch: Vec<(i64, u64)> = Vec::new();
        for w in offsets.windows(2) {
            let (a, b) = (w[0], w[1]);
            let t = &mut ts[a..b];
            if sizes.is_empty() {
                if !t.is_sorted() {
                    t.sort_unstable();
                }
                continue;
            }
            let s = &mut sizes[a..b];
            // Strictly increasing times (the common case) need no look at the sizes.
            let sorted = t.windows(2).all(|w| w[0] < w[1])
                || t.windows(2)
                    .zip(s.windows(2))
                    .all(|(tw, sw)| (tw[0], sw[0]) <= (tw[1], sw[1]));
            if !sorted {
                scratch.clear();
                scratch.extend(t.iter().copied().zip(s.iter().copied()));
                scratch.sort_unstable();
                for ((dt, ds), (st, ss)) in t.iter_mut().zip(s.iter_mut()).zip(&scratch) {
                    *dt = *st;
                    *ds = *ss;
                }
            }
        }
        let fully_sized = counts.iter().zip(&sizeless).map(|(&c, &u)| c > 0 && u == 0).collect();
        if let Columns::Keep = columns {
            self.sizeless = sizeless; // cleared by `reset`, capacity kept
        }
        SeriesSet {
            store,
            offsets,
            ts,
            sizes,
            fully_sized,
            unkeyed,
        }
    }
}

/// What [`Grouper::build`] does with the push-order columns once they are sorted out.
#[derive(Clone, Copy)]
enum Columns {
    /// Shrink and free them (the grouper is done).
    Release,
    /// Keep them, cleared, for the next input.
    Keep,
}

/// Finished series: contiguous, time-ordered timestamps (and sizes) for every key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeriesSet {
    store: KeyStore,
    offsets: Vec<usize>, // len = keys + 1; series i is offsets[i]..offsets[i+1]
    ts: Vec<i64>,
    sizes: Vec<u64>,
    fully_sized: Vec<bool>, // every event of the series had a size
    unkeyed: u64,
}

impl SeriesSet {
    /// Number of series.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether there are no series.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total events over all series.
    pub fn events(&self) -> usize {
        self.ts.len()
    }

    /// Events left out because the key function returned `None`.
    pub fn unkeyed(&self) -> u64 {
        self.unkeyed
    }

    /// The first and last timestamp over all series (the observation window), if any.
    pub fn time_range(&self) -> Option<(Timestamp, Timestamp)> {
        // Each series is sorted, so its ends bound it.
        self.offsets.windows(2).filter(|w| w[1] > w[0]).fold(None, |acc, w| {
            let (a, b) = (self.ts[w[0]], self.ts[w[1] - 1]);
            Some(match acc {
                None => (Timestamp(a), Timestamp(b)),
                Some((lo, hi)) => (Timestamp(a.min(lo.0)), Timestamp(b.max(hi.0))),
            })
        })
    }

    /// Seconds each source was observed: the union of the time spans of its series, keyed by
    /// the series' [`SeriesKey::source`] (`""` for series with neither `src` nor `host`). The window to judge
    /// [`persistence`](crate::persistence) against: separate captures of one host, days apart,
    /// do not dilute each other.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{ConnEvent, GroupBy, Grouper, Timestamp};
    /// let mut g = Grouper::new(GroupBy::Pair);
    /// for (t, dst) in [(0, "x"), (60, "x"), (30, "y"), (90, "y"), (1000, "x"), (1010, "x")] {
    ///     g.push(&ConnEvent::new(Timestamp::from_secs(t), "a", dst));
    /// }
    /// // Spans: x 0..1010, y 30..90: their union is 1010 s.
    /// assert_eq!(g.finish().observed_seconds_by_source()["a"], 1010.0);
    /// ```
    pub fn observed_seconds_by_source(&self) -> std::collections::HashMap<&str, f64> {
        // One (source number, first, last) per series, sorted, then swept: no list per source
        // (a million sources were a million small vectors and two maps' worth of hashing).
        // Sized for one source per series (the most there can be): no rehash while it fills.
        let mut number: hashbrown::HashMap<&str, u32> = hashbrown::HashMap::with_capacity(self.len());
        let mut names: Vec<&str> = Vec::new();
        let mut spans: Vec<(u32, i64, i64)> = Vec::with_capacity(self.len());
        for s in self.iter() {
            if let (Some(a), Some(b)) = (s.first(), s.last()) {
                let src = s.key().source().unwrap_or("");
                let next = names.len() as u32;
                let id = *number.entry(src).or_insert_with(|| {
                    names.push(src);
                    next
                });
                spans.push((id, a.0, b.0));
            }
        }
        spans.sort_unstable();
        let mut total = vec![0u64; names.len()];
        // A merged span is added to its source's total when the sweep leaves it.
        let mut close = |(cid, ca, cb): (u32, i64, i64)| {
            if let Some(t) = total.get_mut(cid as usize) {
                *t = t.saturating_add(cb.abs_diff(ca));
            }
        };
        // The span being merged: (source, start, end).
        let mut cur: Option<(u32, i64, i64)> = None;
        for (id, a, b) in spans {
            cur = match cur {
                Some((cid, ca, cb)) if cid == id && a <= cb => Some((cid, ca, cb.max(b))),
                Some(done) => {
                    close(done);
                    Some((id, a, b))
                }
                None => Some((id, a, b)),
            };
        }
        if let Some(done) = cur {
            close(done);
        }
        let mut out = std::collections::HashMap::with_capacity(names.len());
        out.extend(names.into_iter().zip(total).map(|(src, t)| (src, t as f64 / 1e6)));
        out
    }

    /// Series `i`, in first-seen order.
    pub fn get(&self, i: usize) -> Option<Series<'_>> {
        let (a, b) = (*self.offsets.get(i)?, *self.offsets.get(i + 1)?);
        let key = self.store.get(i)?;
        let timestamps = self.ts.get(a..b)?;
        let sizes = if self.fully_sized.get(i).copied().unwrap_or(false) {
            self.sizes.get(a..b)
        } else {
            None
        };
        Some(Series {
            index: i,
            key,
            timestamps,
            sizes,
        })
    }

    /// All series, in first-seen order.
    pub fn iter(&self) -> impl Iterator<Item = Series<'_>> + '_ {
        (0..self.len()).filter_map(move |i| self.get(i))
    }
}

/// One series: its key and its time-ordered timestamps (µs) and sizes, as slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Series<'s> {
    index: usize,
    key: SeriesKey<'s>,
    timestamps: &'s [i64],
    sizes: Option<&'s [u64]>,
}

impl<'s> Series<'s> {
    /// A series over caller-owned slices (sizes, if given, must be as long as timestamps; a
    /// mismatched slice is ignored).
    pub fn new(key: SeriesKey<'s>, timestamps: &'s [i64], sizes: Option<&'s [u64]>) -> Self {
        let sizes = sizes.filter(|s| s.len() == timestamps.len());
        Series {
            index: 0,
            key,
            timestamps,
            sizes,
        }
    }
    /// Position in its [`SeriesSet`].
    pub fn index(&self) -> usize {
        self.index
    }
    /// The key.
    pub fn key(&self) -> SeriesKey<'s> {
        self.key
    }
    /// Timestamps in µs since the epoch, ascending.
    pub fn timestamps(&self) -> &'s [i64] {
        self.timestamps
    }
    /// Sizes aligned with the timestamps; `None` unless every event had one.
    pub fn sizes(&self) -> Option<&'s [u64]> {
        self.sizes
    }
    /// Number of events.
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }
    /// Whether the series has no events.
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }
    /// First event time.
    pub fn first(&self) -> Option<Timestamp> {
        self.timestamps.first().copied().map(Timestamp)
    }
    /// Last event time.
    pub fn last(&self) -> Option<Timestamp> {
        self.timestamps.last().copied().map(Timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_seconds_merge_overlaps_per_source_only() {
        let mut g = Grouper::new(GroupBy::Pair);
        // a: x 0..100, y 50..150 (overlap → 0..150), z 1000..1010 → 160 s.
        // b: x 20..30 → 10 s; its span does not merge with a's.
        for (t, src, dst) in [
            (0, "a", "x"),
            (100, "a", "x"),
            (50, "a", "y"),
            (150, "a", "y"),
            (1000, "a", "z"),
            (1010, "a", "z"),
            (20, "b", "x"),
            (30, "b", "x"),
            (70, "c", "x"),
        ] {
            g.push(&ConnEvent::new(Timestamp::from_secs(t), src, dst));
        }
        let set = g.finish();
        let seen = set.observed_seconds_by_source();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen["a"], 160.0);
        assert_eq!(seen["b"], 10.0);
        assert_eq!(seen["c"], 0.0);
    }

    #[test]
    fn groups_sorts_and_keeps_sizes_with_their_times() {
        let mut g = Grouper::new(GroupBy::PairPort);
        let evs = [
            ConnEvent::new(Timestamp(30), "a", "b")
                .with_dst_port(443)
                .with_bytes(3, 0),
            ConnEvent::new(Timestamp(10), "a", "b")
                .with_dst_port(443)
                .with_bytes(1, 0),
            ConnEvent::new(Timestamp(20), "a", "b")
                .with_dst_port(80)
                .with_bytes(9, 0),
            ConnEvent::new(Timestamp(20), "a", "b")
                .with_dst_port(443)
                .with_bytes(2, 0),
        ];
        for e in &evs {
            g.push(e);
        }
        assert_eq!(g.keys(), 2);
        let set = g.finish();
        let s = set.get(0).unwrap();
        assert_eq!(s.key(), SeriesKey::pair("a", "b").with_dst_port(443));
        assert_eq!(s.timestamps(), &[10, 20, 30]);
        assert_eq!(s.sizes(), Some(&[1u64, 2, 3][..]));
        assert_eq!(set.get(1).unwrap().timestamps(), &[20]);
        assert_eq!(set.events(), 4);
    }

    #[test]
    fn missing_sizes_hide_the_size_slice() {
        let mut g = Grouper::new(GroupBy::Pair);
        g.push(&ConnEvent::new(Timestamp(1), "a", "b").with_bytes(1, 1));
        g.push(&ConnEvent::new(Timestamp(2), "a", "b"));
        let set = g.finish();
        assert_eq!(set.get(0).unwrap().sizes(), None);
    }

    #[test]
    fn custom_key_can_skip_events() {
        let only_443 =
            GroupBy::custom(|e: &ConnEvent<'_>| (e.dst_port == Some(443)).then(|| SeriesKey::pair(e.src, e.dst)));
        let mut g = Grouper::new(only_443);
        g.push(&ConnEvent::new(Timestamp(1), "a", "b").with_dst_port(80));
        g.push(&ConnEvent::new(Timestamp(2), "a", "b").with_dst_port(443));
        let set = g.finish();
        assert_eq!(set.len(), 1);
        assert_eq!(set.unkeyed(), 1);
    }

    #[test]
    fn none_and_empty_strings_are_distinct_keys() {
        let mut g = Grouper::new(GroupBy::SrcName);
        g.push(&ConnEvent::new(Timestamp(1), "a", "b").with_name(""));
        g.push(&ConnEvent::new(Timestamp(2), "a", "b"));
        assert_eq!(g.keys(), 2);
        let set = g.finish();
        assert_eq!(set.get(0).unwrap().key().name, Some(""));
        assert_eq!(set.get(1).unwrap().key().name, None);
    }
}
