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
        let arena = self.arena.as_bytes();
        k.parts.iter().zip(key.strs()).all(|(&(start, len), part)| match part {
            None => len == ABSENT,
            Some(p) => {
                len != ABSENT
                    && len as usize == p.len()
                    && arena.get(start as usize..start as usize + len as usize) == Some(p.as_bytes())
            }
        })
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

/// Groups a stream of events into per-key series.
///
/// Push events with [`Grouper::push`], then call [`Grouper::finish`]. The grouper can be reused
/// after [`Grouper::reset`], keeping its capacity.
///
/// Costs: one hash-table probe per event (skipped when an event has the same key as the one
/// before it, as in sorted or bursty logs), three vector pushes (amortised), and one arena append
/// per distinct key.
#[derive(Debug, Clone)]
pub struct Grouper {
    group_by: GroupBy,
    size_field: SizeField,
    hasher: DefaultHashBuilder,
    table: HashTable<u32>,
    store: KeyStore,
    // Per event, in push order.
    ids: Vec<u32>,
    ts: Vec<i64>,
    sizes: Vec<u64>,
    // Per key.
    counts: Vec<u32>,
    sized: Vec<u32>,
    last: Option<u32>,
    unkeyed: u64,
}

impl Default for Grouper {
    fn default() -> Self {
        Grouper::new(GroupBy::default())
    }
}

impl Grouper {
    /// A grouper with the given key; sizes from [`SizeField::BytesOut`].
    pub fn new(group_by: GroupBy) -> Self {
        Grouper {
            group_by,
            size_field: SizeField::default(),
            hasher: DefaultHashBuilder::default(),
            table: HashTable::new(),
            store: KeyStore::default(),
            ids: Vec::new(),
            ts: Vec::new(),
            sizes: Vec::new(),
            counts: Vec::new(),
            sized: Vec::new(),
            last: None,
            unkeyed: 0,
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
        let id = match self.last {
            Some(id) if self.store.matches(id, key) => id,
            _ => self.intern(key),
        };
        self.last = Some(id);
        self.ids.push(id);
        self.ts.push(ts.as_micros());
        self.sizes.push(size.unwrap_or(0));
        let i = id as usize;
        self.counts[i] = self.counts[i].saturating_add(1);
        if size.is_some() {
            self.sized[i] = self.sized[i].saturating_add(1);
        }
    }

    fn intern(&mut self, key: &SeriesKey<'_>) -> u32 {
        let hash = self.hasher.hash_one(key);
        let store = &self.store;
        if let Some(&id) = self.table.find(hash, |&id| store.matches(id, key)) {
            return id;
        }
        let id = self.store.insert(key);
        let (store, hasher) = (&self.store, &self.hasher);
        // Rehash on growth from the stored key (no per-entry hash cache: keys are small).
        self.table
            .insert_unique(hash, id, |&id| store.get(id as usize).map_or(0, |k| hasher.hash_one(k)));
        self.counts.push(0);
        self.sized.push(0);
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
        self.ids.clear();
        self.ts.clear();
        self.sizes.clear();
        self.counts.clear();
        self.sized.clear();
        self.last = None;
        self.unkeyed = 0;
    }

    /// Sorts the events into contiguous per-key series, each in time order.
    ///
    /// Series keep the order in which their keys were first seen.
    pub fn finish(self) -> SeriesSet {
        let Grouper {
            store,
            ids,
            ts: pushed_ts,
            sizes: pushed_sizes,
            counts,
            sized,
            unkeyed,
            ..
        } = self;
        let k = counts.len();
        let mut offsets = Vec::with_capacity(k + 1);
        let mut acc = 0usize;
        offsets.push(0);
        for &c in &counts {
            acc += c as usize;
            offsets.push(acc);
        }
        // A stable counting sort by key, one column at a time, each source column freed as
        // soon as it has been scattered: the peak is the push-order columns plus one sorted
        // column, not two full copies.
        let n = ids.len();
        let mut cursor: Vec<usize> = offsets[..k].to_vec();
        let mut ts = vec![0i64; n];
        for (&id, &t) in ids.iter().zip(&pushed_ts) {
            let c = &mut cursor[id as usize];
            ts[*c] = t;
            *c += 1;
        }
        drop(pushed_ts);
        let any_sized = sized.iter().any(|&s| s > 0);
        let mut sizes = if any_sized { vec![0u64; n] } else { Vec::new() };
        if any_sized {
            cursor.copy_from_slice(&offsets[..k]);
            for (&id, &z) in ids.iter().zip(&pushed_sizes) {
                let c = &mut cursor[id as usize];
                sizes[*c] = z;
                *c += 1;
            }
        }
        drop((pushed_sizes, ids, cursor));
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
            let sorted = t
                .windows(2)
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
        let fully_sized = counts.iter().zip(&sized).map(|(c, s)| c == s && *c > 0).collect();
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
    /// the series' `src` (or `host` where there is no `src`). The window to judge
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
        let mut spans: std::collections::HashMap<&str, Vec<(i64, i64)>> = std::collections::HashMap::new();
        for s in self.iter() {
            if let (Some(a), Some(b)) = (s.first(), s.last()) {
                spans
                    .entry(s.key().src.or(s.key().host).unwrap_or(""))
                    .or_default()
                    .push((a.0, b.0));
            }
        }
        spans
            .into_iter()
            .map(|(src, mut v)| {
                v.sort_unstable();
                let (mut total, mut cur): (u64, Option<(i64, i64)>) = (0, None);
                for (a, b) in v {
                    cur = match cur {
                        Some((ca, cb)) if a <= cb => Some((ca, cb.max(b))),
                        Some((ca, cb)) => {
                            total = total.saturating_add(cb.abs_diff(ca));
                            Some((a, b))
                        }
                        None => Some((a, b)),
                    };
                }
                if let Some((ca, cb)) = cur {
                    total = total.saturating_add(cb.abs_diff(ca));
                }
                (src, total as f64 / 1e6)
            })
            .collect()
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
