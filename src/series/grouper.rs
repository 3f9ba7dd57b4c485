//! [`Grouper`]: events in, a [`SeriesSet`] out.

use super::columns::{IdColumn, KeyIndex, SizeColumn, count, push_grown, release, scatter};
use super::hash::{PairCode, key_hash, pair_hash};
use super::intern::{ABSENT, Interner, Store, StoredKey};
use super::key::{GroupBy, SeriesKey, SizeField, pair_key};
use super::set::SeriesSet;
use crate::event::ConnEvent;
use crate::threads::each_on_own_thread;
use crate::time::Timestamp;

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
/// A key takes its text, a 28-byte record, its hash (4 bytes) and a table slot, plus 4 bytes
/// of counts.
#[derive(Debug, Clone)]
pub struct Grouper {
    group_by: GroupBy,
    size_field: SizeField,
    keys: Interner<StoredKey>,
    // Per key.
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
    spare_store: Store<StoredKey>,
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
            keys: Interner::default(),
            sizeless: Vec::new(),
            ids: IdColumn::Narrow(Vec::new()),
            ts: Vec::new(),
            sizes: SizeColumn::Narrow(Vec::new()),
            last_id: ABSENT,
            last_hash: 0,
            unkeyed: 0,
            spare_ts: Vec::new(),
            spare_store: Store::default(),
        }
    }

    /// How this grouper keys events.
    pub fn group_by(&self) -> &GroupBy {
        &self.group_by
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
        let _ = self.push_and_id(e);
    }

    /// [`Grouper::push`], returning the id of the key the event went under: for callers that
    /// keep something per series while they read (the id is the series' index in the finished
    /// set). `None` when the event has no key under this grouping (a custom key function's
    /// `None`: the event is counted as unkeyed) or past 2^32 keys.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{ConnEvent, GroupBy, Grouper, Timestamp};
    /// let mut g = Grouper::new(GroupBy::Pair);
    /// let t = Timestamp::from_secs;
    /// let a = g.push_and_id(&ConnEvent::new(t(1), "10.0.0.5", "198.51.100.9"));
    /// let b = g.push_and_id(&ConnEvent::new(t(2), "10.0.0.6", "198.51.100.9"));
    /// assert_eq!(g.push_and_id(&ConnEvent::new(t(3), "10.0.0.5", "198.51.100.9")), a);
    /// assert_eq!((a.map(|id| id.index()), b.map(|id| id.index())), (Some(0), Some(1)));
    /// let set = g.finish();
    /// assert_eq!(set.get(0).unwrap().timestamps().len(), 2);
    /// ```
    #[inline]
    pub fn push_and_id(&mut self, e: &ConnEvent<'_>) -> Option<KeyId> {
        let port = match self.group_by {
            GroupBy::Pair => None,
            GroupBy::PairPort => e.dst_port,
            GroupBy::SrcNameOrPairPort if e.name.is_none() => e.dst_port,
            _ => return self.push_generic(e),
        };
        let id = self.lookup_pair(e.src, e.dst, port);
        let size = self.size_field.of(e);
        self.record(id, e.ts, size);
        (id != ABSENT).then_some(KeyId(id))
    }

    fn push_generic(&mut self, e: &ConnEvent<'_>) -> Option<KeyId> {
        let Some(key) = self.group_by.key(e) else {
            self.unkeyed += 1;
            return None;
        };
        let size = self.size_field.of(e);
        self.push_key(&key, e.ts, size)
    }

    /// Adds one observation under an explicit key (for callers that compute keys themselves).
    #[inline]
    pub fn push_keyed(&mut self, key: &SeriesKey<'_>, ts: Timestamp, size: Option<u64>) {
        let _ = self.push_key(key, ts, size);
    }

    /// [`Grouper::push_keyed`], returning the key's id (`None` past 2^32 keys).
    #[inline]
    fn push_key(&mut self, key: &SeriesKey<'_>, ts: Timestamp, size: Option<u64>) -> Option<KeyId> {
        let id = self.lookup(key);
        self.record(id, ts, size);
        (id != ABSENT).then_some(KeyId(id))
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
        if id.index() >= self.keys.len() {
            return false;
        }
        self.record(id.0, ts, size);
        true
    }

    /// [`Grouper::push_id`] with the event's time and its size by this grouper's
    /// [`SizeField`] (for callers that key events themselves, e.g. by a dictionary code).
    #[cfg(feature = "arrow")]
    #[inline]
    pub(crate) fn push_id_event(&mut self, id: KeyId, e: &ConnEvent<'_>) -> bool {
        let size = self.size_field.of(e);
        self.push_id(id, e.ts, size)
    }

    /// The id of `key`, interning it if new. The previous event's key is checked first (equal
    /// hashes, then equal bytes), then the table.
    #[inline]
    fn lookup(&mut self, key: &SeriesKey<'_>) -> u32 {
        if let Some((src, dst)) = key.as_pair() {
            return self.lookup_pair(src, dst, key.dst_port);
        }
        let hash = key_hash(self.keys.seed(), key);
        let last = hash == self.last_hash && self.keys.store().matches(self.last_id, key);
        self.find_or_insert(hash, last, |store, id| store.matches(id, key), || *key)
    }

    /// [`Grouper::lookup`] for a (src, dst[, port]) key: no [`SeriesKey`] is built unless the
    /// key is new.
    #[inline]
    fn lookup_pair(&mut self, src: &str, dst: &str, port: Option<u16>) -> u32 {
        // Addresses of up to 16 bytes hash from their exact words, longer ones through the
        // general byte hash (the same value either way: `pair_hash`).
        let seed = self.keys.seed();
        let hash = PairCode::new(src, dst, port).map_or_else(|| pair_hash(seed, src, dst, port), |c| c.hash(seed));
        let last = hash == self.last_hash && self.keys.store().matches_pair(self.last_id, src, dst, port);
        self.find_or_insert(
            hash,
            last,
            |store, id| store.matches_pair(id, src, dst, port),
            || pair_key(src, dst, port),
        )
    }

    /// The id of the key with `hash` for which `same(store, id)` holds: the previous
    /// event's key (`last`: the caller's test of it), else a table probe, else a new key (built
    /// by `key` only then). The caller tests the previous key itself, so that `same` has one
    /// call site and is inlined into the probe.
    #[inline(always)]
    fn find_or_insert<'k>(
        &mut self,
        hash: u64,
        last: bool,
        same: impl Fn(&Store<StoredKey>, u32) -> bool,
        key: impl FnOnce() -> SeriesKey<'k>,
    ) -> u32 {
        let id = if last {
            self.last_id
        } else {
            match self.keys.find(hash, &same) {
                Some(id) => id,
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
        push_grown(&mut self.ts, ts.as_micros() as u64);
        self.sizes.push(size.unwrap_or(0));
    }

    /// Interns a key known to be new.
    #[cold]
    fn insert(&mut self, key: &SeriesKey<'_>, hash: u64) -> u32 {
        // Past 2^32 keys (unreachable: the arena would pass 4 GiB first) an event gets an id
        // no series has, and the sort leaves it out.
        let Some(id) = self.keys.insert_key(hash, key) else {
            return ABSENT;
        };
        self.sizeless.push(0);
        id
    }

    /// Another grouper's key ids (by `store`, its keys) → this grouper's, interning the new
    /// ones in `store`'s first-seen order.
    pub(super) fn intern_all(&mut self, store: &Store<StoredKey>) -> Vec<u32> {
        (0..store.len())
            .map(|i| store.get(i).map_or(ABSENT, |k| self.lookup(&k)))
            .collect()
    }

    /// Appends `other`'s events after this grouper's, exactly as if they had been pushed here
    /// after the events already pushed: keys new to this grouper are interned in the order
    /// `other` first saw them, so [`finish`](Grouper::finish) gives the same set, key order
    /// and all, as one grouper fed both inputs in turn. The way to group on several threads:
    /// one grouper per worker over consecutive parts of the input (each interning its own
    /// keys), merged once in input order.
    ///
    /// Costs one key lookup per key of `other` and one append per event; `other`'s memory is
    /// freed as it goes.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{ConnEvent, GroupBy, Grouper, Timestamp};
    /// let events: Vec<ConnEvent<'_>> = (0..10)
    ///     .map(|i| ConnEvent::new(Timestamp::from_secs(60 * i), if i % 3 == 0 { "10.0.0.5" } else { "10.0.0.6" }, "198.51.100.9"))
    ///     .collect();
    /// let mut whole = Grouper::new(GroupBy::Pair);
    /// events.iter().for_each(|e| whole.push(e));
    /// // The same events in two parts, grouped apart and merged in order.
    /// let (mut first, mut second) = (Grouper::new(GroupBy::Pair), Grouper::new(GroupBy::Pair));
    /// events[..4].iter().for_each(|e| first.push(e));
    /// events[4..].iter().for_each(|e| second.push(e));
    /// first.merge(second);
    /// assert_eq!(first.finish(), whole.finish());
    /// ```
    pub fn merge(&mut self, other: Grouper) {
        let Grouper {
            keys,
            sizeless,
            ids,
            ts,
            sizes,
            unkeyed,
            ..
        } = other;
        let map = self.intern_all(&keys.into_store());
        let to = |id: u32| map.get(id as usize).copied().unwrap_or(ABSENT);
        for (i, &u) in sizeless.iter().enumerate() {
            if let Some(s) = self.sizeless.get_mut(to(i as u32) as usize) {
                *s = s.saturating_add(u);
            }
        }
        self.reserve(ts.len());
        match ids {
            IdColumn::Narrow(v) => v.iter().for_each(|&id| self.ids.push(to(u32::from(id)))),
            IdColumn::Wide(v) => v.iter().for_each(|&id| self.ids.push(to(id))),
        }
        self.ts.extend_from_slice(&ts);
        drop(ts);
        match sizes {
            SizeColumn::Narrow(v) => v.iter().for_each(|&z| self.sizes.push(u64::from(z))),
            SizeColumn::Wide(v) => v.iter().for_each(|&z| self.sizes.push(z)),
        }
        self.unkeyed += unkeyed;
    }

    /// The interned keys, in first-seen order (for [`SeriesSet::concat`]).
    pub(super) fn into_key_store(self) -> Store<StoredKey> {
        self.keys.into_store()
    }

    /// Finishes the groupers of consecutive parts of one input into one set: what merging them
    /// in order ([`Grouper::merge`]) and then [`finish`](Grouper::finish)ing gives, the same
    /// set, key order and all, but sorted on one thread per part. Each thread writes the series
    /// of a range of keys (about an equal share of the events), taking them from every part's
    /// push-order columns; nothing is appended first.
    ///
    /// The parts must share a [`GroupBy`] and [`SizeField`] (the first part's are kept). No
    /// parts give an empty set.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{ConnEvent, GroupBy, Grouper, Timestamp};
    /// let events: Vec<ConnEvent<'_>> = (0..10)
    ///     .map(|i| ConnEvent::new(Timestamp::from_secs(60 * i), if i % 3 == 0 { "10.0.0.5" } else { "10.0.0.6" }, "198.51.100.9"))
    ///     .collect();
    /// let mut whole = Grouper::new(GroupBy::Pair);
    /// events.iter().for_each(|e| whole.push(e));
    /// // The same events in two parts, grouped apart and finished together.
    /// let (mut first, mut second) = (Grouper::new(GroupBy::Pair), Grouper::new(GroupBy::Pair));
    /// events[..4].iter().for_each(|e| first.push(e));
    /// events[4..].iter().for_each(|e| second.push(e));
    /// assert_eq!(Grouper::finish_parts(vec![first, second]), whole.finish());
    /// ```
    pub fn finish_parts(parts: Vec<Grouper>) -> SeriesSet {
        let mut parts = parts.into_iter();
        let Some(mut first) = parts.next() else {
            return Grouper::default().finish();
        };
        let rest: Vec<Grouper> = parts.collect();
        if rest.is_empty() {
            return first.finish();
        }
        // Every part's key ids → the merged ids, interning into the first part in the order
        // each part first saw its keys (as `merge` does).
        let mut maps: Vec<Vec<u32>> = vec![(0..first.keys.len() as u32).collect()];
        for p in &rest {
            maps.push(first.intern_all(p.keys.store()));
        }
        let store = first.keys.take_store(Store::default());
        first.keys.release_table();
        let k = store.len();
        let mut parts: Vec<Grouper> = std::iter::once(first).chain(rest).collect();
        // Counts per part and key, then the merged offsets and each part's first slot per key.
        let counts: Vec<Vec<usize>> = parts
            .iter()
            .zip(&maps)
            .map(|(p, map)| {
                let mut c = vec![0usize; map.len()];
                match &p.ids {
                    IdColumn::Narrow(v) => count(v, &mut c),
                    IdColumn::Wide(v) => count(v, &mut c),
                }
                c
            })
            .collect();
        let mut per_key = vec![0usize; k];
        let mut sizeless = vec![0u32; k];
        for ((p, c), map) in parts.iter().zip(&counts).zip(&maps) {
            for ((&g, &n), &u) in map.iter().zip(c).zip(&p.sizeless) {
                if let (Some(t), Some(s)) = (per_key.get_mut(g as usize), sizeless.get_mut(g as usize)) {
                    *t += n;
                    *s = s.saturating_add(u);
                }
            }
        }
        let mut offsets = vec![0usize; k + 1];
        for i in 0..k {
            offsets[i + 1] = offsets[i] + per_key[i];
        }
        // starts[w][local id]: where part w's first event of that key goes in the set.
        let mut next = offsets.clone();
        let starts: Vec<Vec<usize>> = counts
            .iter()
            .zip(&maps)
            .map(|(c, map)| {
                map.iter()
                    .zip(c)
                    .map(|(&g, &n)| match next.get_mut(g as usize) {
                        Some(at) => {
                            let s = *at;
                            *at += n;
                            s
                        }
                        None => usize::MAX,
                    })
                    .collect()
            })
            .collect();
        drop((counts, next, maps));
        let (any_sized, fully_sized) = size_flags(per_key.iter().copied(), &sizeless);
        drop((per_key, sizeless));
        let unkeyed = parts.iter().map(|p| p.unkeyed).sum();
        let n = offsets[k];
        // The threads' key ranges: about an equal share of the events each.
        let threads = parts.len();
        let ranges = key_ranges(&offsets, threads);
        // One column at a time, as `build` does (the push-order timestamps are freed before
        // the sorted sizes are allocated).
        // One slot more per range (see `scatter_ranges`).
        let mut ts = vec![0i64; n + ranges.len()];
        {
            let cols: Vec<(&IdColumn, &[u64])> = parts.iter().map(|p| (&p.ids, &p.ts[..])).collect();
            scatter_ranges(&ranges, &offsets, &starts, &mut ts, |out, cursors| {
                for ((ids, t), mut cur) in cols.iter().zip(cursors) {
                    scatter_range(ids, t, &mut cur, out, |t| t as i64);
                }
            });
        }
        for p in &mut parts {
            let mut t = std::mem::take(&mut p.ts);
            t.clear();
            t.shrink_to(1);
        }
        let mut sizes = if any_sized {
            vec![0u64; n + ranges.len()]
        } else {
            Vec::new()
        };
        if any_sized {
            let cols: Vec<(&IdColumn, &SizeColumn)> = parts.iter().map(|p| (&p.ids, &p.sizes)).collect();
            scatter_ranges(&ranges, &offsets, &starts, &mut sizes, |out, cursors| {
                for ((ids, z), mut cur) in cols.iter().zip(cursors) {
                    match z {
                        SizeColumn::Narrow(z) => scatter_range(ids, z, &mut cur, out, u64::from),
                        SizeColumn::Wide(z) => scatter_range(ids, z, &mut cur, out, |x| x),
                    }
                }
            });
        }
        drop(starts);
        for p in parts {
            release(p.ids, p.sizes);
        }
        // Each thread sorts the series of its key range.
        sort_ranges(&ranges, &offsets, &mut ts, &mut sizes);
        SeriesSet {
            store,
            offsets,
            ts,
            sizes,
            fully_sized,
            unkeyed,
        }
    }

    /// Events pushed so far (excluding those without a key).
    pub fn events(&self) -> usize {
        self.ids.len()
    }

    /// Distinct keys so far.
    pub fn keys(&self) -> usize {
        self.keys.len()
    }

    /// Clears all series, keeping allocated capacity.
    pub fn reset(&mut self) {
        self.keys.clear();
        self.ids.clear();
        self.ts.clear();
        self.sizes.clear();
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
        if store.arena_capacity() > self.spare_store.arena_capacity() {
            self.spare_store = store;
        }
    }

    /// The finished set; the push-order columns are released or kept (cleared) as asked.
    fn build(&mut self, columns: Columns) -> SeriesSet {
        // The keys go with the set; the grouper continues on spare storage (`reset` clears it).
        let store = self.keys.take_store(std::mem::take(&mut self.spare_store));
        if let Columns::Release = columns {
            // The key table is not needed to sort: freed before the sort's columns are
            // allocated.
            self.keys.release_table();
        }
        let ids = std::mem::replace(&mut self.ids, IdColumn::Narrow(Vec::new()));
        let pushed_ts = std::mem::take(&mut self.ts);
        let pushed_sizes = std::mem::replace(&mut self.sizes, SizeColumn::Narrow(Vec::new()));
        let sizeless = std::mem::take(&mut self.sizeless);
        let unkeyed = self.unkeyed;
        let k = store.len();
        // Counts per key, summed in place into the offsets (no separate count column).
        let mut offsets = vec![0usize; k + 1];
        match &ids {
            IdColumn::Narrow(v) => count(v, &mut offsets[1..]),
            IdColumn::Wide(v) => count(v, &mut offsets[1..]),
        }
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        let (any_sized, fully_sized) = size_flags(offsets.windows(2).map(|w| w[1] - w[0]), &sizeless);
        match columns {
            Columns::Release => drop(sizeless),        // before the sorted column is allocated
            Columns::Keep => self.sizeless = sizeless, // cleared by `reset`, capacity kept
        }
        // A stable counting sort by key, one column at a time. The timestamps go to a new
        // column; the sizes then go into the push-order timestamp column, which is free by then
        // and exactly as long. The peak is the push-order columns (14 bytes an event) plus
        // one sorted column (8), and the sort touches one new column, not two.
        let n = ids.len();
        // The offsets themselves are the scatter's cursors (key `i`'s next slot): after a
        // scatter each holds the next key's start, and one shift puts them back. No cursor
        // column: 8 bytes a key off the peak.
        let restore = |offsets: &mut Vec<usize>| {
            offsets.copy_within(0..k, 1);
            offsets[0] = 0;
        };
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
            IdColumn::Narrow(v) => scatter(v, &pushed_ts, &mut offsets[..k], &mut ts, as_i64),
            IdColumn::Wide(v) => scatter(v, &pushed_ts, &mut offsets[..k], &mut ts, as_i64),
        }
        restore(&mut offsets);
        let (mut sizes, unused_ts) = if any_sized {
            (pushed_ts, Vec::new())
        } else {
            (Vec::new(), pushed_ts)
        };
        if any_sized {
            let cursor = &mut offsets[..k];
            match (&ids, &pushed_sizes) {
                (IdColumn::Narrow(i), SizeColumn::Narrow(z)) => scatter(i, z, cursor, &mut sizes, u64::from),
                (IdColumn::Narrow(i), SizeColumn::Wide(z)) => scatter(i, z, cursor, &mut sizes, |x| x),
                (IdColumn::Wide(i), SizeColumn::Narrow(z)) => scatter(i, z, cursor, &mut sizes, u64::from),
                (IdColumn::Wide(i), SizeColumn::Wide(z)) => scatter(i, z, cursor, &mut sizes, |x| x),
            }
            restore(&mut offsets);
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
        sort_series(&offsets, 0, &mut ts, &mut sizes);
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
/// From each key's event count and its count of events without a size: whether any event has
/// a size, and per key whether every one of its events has.
fn size_flags(counts: impl Iterator<Item = usize>, sizeless: &[u32]) -> (bool, Vec<bool>) {
    let mut any = false;
    let fully = counts
        .zip(sizeless)
        .map(|(c, &u)| {
            any |= c > u as usize;
            c > 0 && u == 0
        })
        .collect();
    (any, fully)
}

/// Fills `out`, a column of the whole set, on one thread per key range: `fill(slice, cursors)`
/// writes the range's events into `slice`, the range's part of `out` and one slot more, and
/// each part's `cursors` give by local key id the slot in `slice` of that part's next event of
/// the key, or the extra slot (the slice's last) for keys outside the range: every event is
/// written somewhere without a branch on the key (half the events are another range's, in no
/// predictable order), and the extra slots are squeezed out afterwards. `out` comes with one
/// extra slot per range and leaves with the set's length.
fn scatter_ranges<T: Send + Copy>(
    ranges: &[(usize, usize)],
    offsets: &[usize],
    starts: &[Vec<usize>],
    out: &mut Vec<T>,
    fill: impl Fn(&mut [T], Vec<Vec<usize>>) + Sync,
) {
    let mut rest = &mut out[..];
    let mut jobs = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges {
        let (base, end) = (offsets[lo], offsets[hi]);
        let len = (end - base + 1).min(rest.len());
        let (slice, r) = std::mem::take(&mut rest).split_at_mut(len);
        rest = r;
        let trash = end - base;
        let cursors: Vec<Vec<usize>> = starts
            .iter()
            .map(|s| {
                s.iter()
                    .map(|&at| if (base..end).contains(&at) { at - base } else { trash })
                    .collect()
            })
            .collect();
        jobs.push((slice, cursors));
    }
    each_on_own_thread(jobs, |(slice, cursors)| fill(slice, cursors));
    // Range j lies `j` slots late (after the extra slots of the ranges before it).
    for (j, &(lo, hi)) in ranges.iter().enumerate().skip(1) {
        let (base, end) = (offsets[lo], offsets[hi]);
        if end > base && end + j <= out.len() {
            out.copy_within(base + j..end + j, base);
        }
    }
    out.truncate(offsets.last().copied().unwrap_or(0));
}

/// One part's events of one key range into the range's slice (see [`scatter_ranges`]):
/// `cursor[local id]` is the slot of that key's next event, or the slice's last slot, which
/// takes the events of other ranges and does not move.
#[inline]
fn scatter_range<T: Copy, U>(ids: &IdColumn, values: &[T], cursor: &mut [usize], out: &mut [U], f: impl Fn(T) -> U) {
    #[inline(always)]
    fn go<I: KeyIndex, T: Copy, U>(ids: &[I], values: &[T], cursor: &mut [usize], out: &mut [U], f: impl Fn(T) -> U) {
        let trash = out.len().saturating_sub(1);
        for (&id, &v) in ids.iter().zip(values) {
            if let Some(c) = cursor.get_mut(id.index())
                && let Some(slot) = out.get_mut(*c)
            {
                *slot = f(v);
                *c += usize::from(*c != trash);
            }
        }
    }
    match ids {
        IdColumn::Narrow(i) => go(i, values, cursor, out, f),
        IdColumn::Wide(i) => go(i, values, cursor, out, f),
    }
}

/// The key ranges `threads` threads (at least one) split a set's series into: consecutive
/// ranges of key ids, each with about an equal share of the events (`offsets` are the set's).
pub(super) fn key_ranges(offsets: &[usize], threads: usize) -> Vec<(usize, usize)> {
    let k = offsets.len().saturating_sub(1);
    let n = offsets.last().copied().unwrap_or(0);
    let threads = threads.max(1);
    let mut cuts = vec![0usize];
    for j in 1..threads {
        let want = n / threads * j;
        let at = offsets.partition_point(|&o| o < want).min(k);
        cuts.push(at.max(cuts[j - 1]));
    }
    cuts.push(k);
    cuts.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Sorts the series of each of `ranges` (from [`key_ranges`]) on a thread of its own, as
/// [`sort_series`] does. The columns may run past the set's last event (spare slots are left
/// alone); `sizes` is empty when no event had one.
pub(super) fn sort_ranges(ranges: &[(usize, usize)], offsets: &[usize], ts: &mut [i64], sizes: &mut [u64]) {
    let (mut ts_rest, mut sizes_rest) = (ts, sizes);
    let mut jobs = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges {
        let (Some(&a), Some(&b)) = (offsets.get(lo), offsets.get(hi)) else {
            continue;
        };
        let len = (b - a).min(ts_rest.len());
        let (t, tr) = std::mem::take(&mut ts_rest).split_at_mut(len);
        ts_rest = tr;
        let (z, zr) = if sizes_rest.is_empty() {
            (&mut [][..], &mut [][..])
        } else {
            let len = len.min(sizes_rest.len());
            std::mem::take(&mut sizes_rest).split_at_mut(len)
        };
        sizes_rest = zr;
        jobs.push((&offsets[lo..=hi], t, z));
    }
    each_on_own_thread(jobs, |(off, t, z)| sort_series(off, off[0], t, z));
}

/// Sorts each series (`offsets` windows, shifted down by `base`: the columns may be a slice of
/// the set's, starting at offset `base`) by (time, size) where it is not already in order; sizes
/// move with their timestamps, and ties are broken by size so the result does not depend on the
/// input order. `sizes` is empty when no event had one.
pub(super) fn sort_series(offsets: &[usize], base: usize, ts: &mut [i64], sizes: &mut [u64]) {
    let mut scratch: Vec<(i64, u64)> = Vec::new();
    for w in offsets.windows(2) {
        let (a, b) = (w[0] - base, w[1] - base);
        let Some(t) = ts.get_mut(a..b) else {
            continue;
        };
        let Some(s) = sizes.get_mut(a..b) else {
            if !t.is_sorted() {
                t.sort_unstable();
            }
            continue;
        };
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
}

/// What [`Grouper::build`] does with the push-order columns once they are sorted out.
#[derive(Clone, Copy)]
enum Columns {
    /// Shrink and free them (the grouper is done).
    Release,
    /// Keep them, cleared, for the next input.
    Keep,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ConnEvent;
    use crate::time::Timestamp;

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
