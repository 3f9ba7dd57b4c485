//! The crate's one interner: each distinct value's text is copied once into one arena and the
//! value gets a `u32` id, in first-seen order.
//!
//! An [`Interner`] is a [`Store`] (the arena plus one record per id saying where the value's
//! text lies) and a hash table of ids. What a record is depends on the value: a series key is
//! a [`StoredKey`] (five optional parts and a port), a plain string a [`Span`]. The table keeps
//! each id's hash (folded to 32 bits), so it grows without reading the arena back, and the
//! caller supplies the hash and the equality: the grouper hashes (src, dst) keys from their words and compares
//! them in the arena, names hash the string. The store alone goes with a finished
//! [`SeriesSet`](super::SeriesSet), the table stays with the grouper for the next input.

use super::hash::{eq_bytes, fold32, seed_words, spread, str_hash};
use super::key::SeriesKey;
use core::hash::BuildHasher;
use hashbrown::{DefaultHashBuilder, HashTable};

/// Marks "no such field" in a stored key part.
pub(crate) const ABSENT: u32 = u32::MAX;

/// Where a string lies in the arena: `(start, len)`.
pub(crate) type Span = (u32, u32);

/// An interned series key: its string fields lie one after the other in the arena from
/// `start`, each `lens[i]` bytes long (`ABSENT` for `None`, which takes no bytes). 28 bytes a
/// key, where a span per field took 44.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoredKey {
    start: u32,
    lens: [u32; 5],
    dst_port: Option<u16>,
}

impl StoredKey {
    /// Each field's span (`len == ABSENT` for `None`).
    #[inline]
    fn parts(&self) -> [Span; 5] {
        let mut at = self.start;
        self.lens.map(|len| {
            let span = (at, len);
            if len != ABSENT {
                at = at.saturating_add(len);
            }
            span
        })
    }
}

/// Interned values without their lookup table: one text arena and a record per id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Store<R> {
    arena: String,
    records: Vec<R>,
}

impl<R> Default for Store<R> {
    fn default() -> Self {
        Store {
            arena: String::new(),
            records: Vec::new(),
        }
    }
}

impl<R> Store<R> {
    /// Values stored.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// Capacity of the arena, in bytes (which spare store to keep).
    pub(crate) fn arena_capacity(&self) -> usize {
        self.arena.capacity()
    }

    /// The text at `span` (`None` when it is not in the arena).
    #[inline]
    pub(crate) fn text(&self, (start, len): Span) -> Option<&str> {
        self.arena.get(start as usize..start as usize + len as usize)
    }

    /// The arena and each id's record (for owners that build their own lookups).
    pub(crate) fn into_parts(self) -> (String, Vec<R>) {
        (self.arena, self.records)
    }

    fn clear(&mut self) {
        self.arena.clear();
        self.records.clear();
    }

    /// Whether the present part `span` holds the bytes of `p`.
    #[inline(always)]
    fn holds(&self, (start, len): Span, p: &str) -> bool {
        len != ABSENT
            && len as usize == p.len()
            && self
                .arena
                .as_bytes()
                .get(start as usize..start as usize + len as usize)
                .is_some_and(|a| eq_bytes(a, p.as_bytes()))
    }

    /// Room for `need` more bytes of text, the arena growing by half its size (not doubling:
    /// on a million keys a doubled arena is a third unused).
    #[inline]
    fn reserve_text(&mut self, need: usize) {
        if self.arena.capacity() - self.arena.len() < need {
            self.arena.reserve_exact(need.max(self.arena.capacity() / 2).max(64));
        }
    }

    /// Appends `s` to the arena; `None` if the arena would pass 4 GiB.
    fn push_text(&mut self, s: &str) -> Option<Span> {
        let start = u32::try_from(self.arena.len()).ok()?;
        let len = u32::try_from(s.len()).ok().filter(|&l| l != ABSENT)?;
        start.checked_add(len)?;
        self.reserve_text(s.len());
        self.arena.push_str(s);
        Some((start, len))
    }
}

impl Store<StoredKey> {
    /// Key `id`, borrowing from the arena.
    #[inline]
    pub(crate) fn get(&self, id: usize) -> Option<SeriesKey<'_>> {
        let k = self.records.get(id)?;
        let parts = k.parts();
        let part = |i: usize| {
            let span = parts[i];
            if span.1 == ABSENT { None } else { self.text(span) }
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

    /// Whether key `id` equals `key`: compares the stored byte ranges part by part (no key is
    /// rebuilt, no char-boundary check: equal bytes are equal strings).
    #[inline]
    pub(crate) fn matches(&self, id: u32, key: &SeriesKey<'_>) -> bool {
        let Some(k) = self.records.get(id as usize) else {
            return false;
        };
        if k.dst_port != key.dst_port {
            return false;
        }
        k.parts().iter().zip(key.strs()).all(|(&stored, part)| match part {
            None => stored.1 == ABSENT,
            Some(p) => self.holds(stored, p),
        })
    }

    /// [`Store::matches`] for a (src, dst[, port]) key.
    // Always inlined: the grouper's probe was left calling it, once an event.
    #[inline(always)]
    pub(crate) fn matches_pair(&self, id: u32, src: &str, dst: &str, port: Option<u16>) -> bool {
        let Some(k) = self.records.get(id as usize) else {
            return false;
        };
        let [s, d, n, h, p] = k.lens;
        k.dst_port == port
            && n == ABSENT
            && h == ABSENT
            && p == ABSENT
            && self.holds((k.start, s), src)
            && self.holds((k.start.saturating_add(s), d), dst)
    }

    /// Copies `key`'s text into the arena. Keys longer than 4 GiB in total are clamped (never
    /// panics).
    fn push_key(&mut self, key: &SeriesKey<'_>) -> StoredKey {
        let start = u32::try_from(self.arena.len()).unwrap_or(ABSENT - 1);
        self.reserve_text(key.strs().iter().flatten().map(|p| p.len()).sum());
        let mut lens = [ABSENT; 5];
        for (slot, s) in lens.iter_mut().zip(key.strs()) {
            if let Some(s) = s {
                let len = u32::try_from(s.len()).unwrap_or(0).min(ABSENT - 1);
                // What is stored is what is recorded (the parts follow one another).
                let text = s.get(..len as usize).unwrap_or("");
                self.arena.push_str(text);
                *slot = text.len() as u32;
            }
        }
        StoredKey {
            start,
            lens,
            dst_port: key.dst_port,
        }
    }
}

impl Store<Span> {
    /// String `id` (`""` for an unknown id).
    #[inline]
    pub(crate) fn get(&self, id: u32) -> &str {
        self.records
            .get(id as usize)
            .and_then(|&span| self.text(span))
            .unwrap_or("")
    }

    /// Whether string `id` is `s` (bytes compared in place: no slicing of the arena as a
    /// `str`, whose char-boundary checks cost more than the compare).
    #[inline]
    pub(crate) fn is(&self, id: u32, s: &str) -> bool {
        self.records.get(id as usize).is_some_and(|&span| self.holds(span, s))
    }

    /// The span of string `id` in the arena (`(0, 0)` for an unknown id).
    pub(crate) fn span(&self, id: u32) -> Span {
        self.records.get(id as usize).copied().unwrap_or((0, 0))
    }
}

/// Interns values: a [`Store`] plus a hash table of ids.
///
/// Hashes are seeded per interner (randomly), so crafted input cannot force collisions
/// across runs.
#[derive(Debug, Clone)]
pub(crate) struct Interner<R> {
    seed: [u64; 2],
    store: Store<R>,
    // Per id: its hash folded to 32 bits, from which the table's hash is spread again when it
    // grows (4 bytes a value, where the full hash took 8; no arena access to rehash).
    hashes: Vec<u32>,
    table: HashTable<u32>,
}

impl<R> Default for Interner<R> {
    fn default() -> Self {
        let random = DefaultHashBuilder::default();
        Interner {
            seed: seed_words(random.hash_one(0x5eed_u64), random.hash_one(0xbeac_u64)),
            store: Store::default(),
            hashes: Vec::new(),
            table: HashTable::new(),
        }
    }
}

impl<R> Interner<R> {
    /// The hash seed, for callers that hash their values themselves.
    #[inline]
    pub(crate) fn seed(&self) -> [u64; 2] {
        self.seed
    }

    /// The interned values.
    #[inline]
    pub(crate) fn store(&self) -> &Store<R> {
        &self.store
    }

    /// Values interned.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.store.len()
    }

    /// The id with `hash` for which `same(store, id)` holds.
    #[inline(always)]
    pub(crate) fn find(&self, hash: u64, same: impl Fn(&Store<R>, u32) -> bool) -> Option<u32> {
        let store = &self.store;
        self.table.find(spread(fold32(hash)), |&id| same(store, id)).copied()
    }

    /// Adds a value known to be new, its record written by `record` (which copies the text
    /// into the store); `None` when `record` fails or past `u32::MAX` values.
    pub(crate) fn insert(&mut self, hash: u64, record: impl FnOnce(&mut Store<R>) -> Option<R>) -> Option<u32> {
        let id = u32::try_from(self.store.records.len()).ok()?;
        let r = record(&mut self.store)?;
        self.store.records.push(r);
        let h = fold32(hash);
        self.hashes.push(h);
        let hashes = &self.hashes;
        self.table.insert_unique(spread(h), id, |&id| {
            spread(hashes.get(id as usize).copied().unwrap_or(0))
        });
        Some(id)
    }

    /// Forgets every value, keeping capacity.
    pub(crate) fn clear(&mut self) {
        self.table.clear();
        self.hashes.clear();
        self.store.clear();
    }

    /// Hands the values out and continues, empty, on `spare`'s memory (its contents dropped).
    pub(crate) fn take_store(&mut self, mut spare: Store<R>) -> Store<R> {
        spare.clear();
        self.table.clear();
        self.hashes.clear();
        std::mem::replace(&mut self.store, spare)
    }

    /// Frees the lookup table (an interner about to be dropped or emptied: what it holds
    /// can no longer be found, only read from the store).
    pub(crate) fn release_table(&mut self) {
        self.table = HashTable::new();
        self.hashes = Vec::new();
    }

    /// Approximate heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.store.arena.capacity()
            + self.store.records.capacity() * core::mem::size_of::<R>()
            + self.hashes.capacity() * 4
            + self.table.capacity() * 4
    }

    /// The values, without the table.
    pub(crate) fn into_store(self) -> Store<R> {
        self.store
    }
}

impl Interner<StoredKey> {
    /// Adds a series key known to be new.
    #[inline]
    pub(crate) fn insert_key(&mut self, hash: u64, key: &SeriesKey<'_>) -> Option<u32> {
        self.insert(hash, |store| Some(store.push_key(key)))
    }
}

impl Interner<Span> {
    /// The id of `s`, if interned (no allocation).
    #[inline]
    pub(crate) fn find_str(&self, s: &str) -> Option<u32> {
        self.find(str_hash(self.seed, s), |store, id| store.is(id, s))
    }

    /// The id of `s`, interning it if new. `None` only if the arena would pass 4 GiB.
    pub(crate) fn intern(&mut self, s: &str) -> Option<u32> {
        let hash = str_hash(self.seed, s);
        if let Some(id) = self.find(hash, |store, id| store.is(id, s)) {
            return Some(id);
        }
        self.insert(hash, |store| store.push_text(s))
    }

    /// String `id` (`""` for an unknown id).
    #[inline]
    pub(crate) fn get(&self, id: u32) -> &str {
        self.store.get(id)
    }

    /// Interns every string of `other`, in the order `other` interned them (so the new ids
    /// are those interning `other`'s strings here in the first place would have given):
    /// each of `other`'s ids' id here. `None` if the arena would pass 4 GiB.
    pub(crate) fn absorb(&mut self, other: &Interner<Span>) -> Option<Vec<u32>> {
        (0..other.len() as u32).map(|id| self.intern(other.get(id))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_strings_once_and_finds_them() {
        let mut i = Interner::<Span>::default();
        let a = i.intern("a.example").unwrap();
        let b = i.intern("b.example").unwrap();
        assert_eq!(i.intern("a.example"), Some(a));
        assert_ne!(a, b);
        assert_eq!(i.get(b), "b.example");
        assert_eq!(i.find_str("b.example"), Some(b));
        assert_eq!(i.find_str("c.example"), None);
        for n in 0..1000 {
            i.intern(&format!("h{n}.example"));
        }
        assert_eq!(i.find_str("a.example"), Some(a));
        assert_eq!(i.len(), 1002);
        assert_eq!(i.get(5000), "");
    }

    #[test]
    fn absorbing_gives_the_ids_interning_in_turn_gives() {
        let (mut whole, mut left, mut right) = (
            Interner::<Span>::default(),
            Interner::<Span>::default(),
            Interner::<Span>::default(),
        );
        let texts = ["a", "b", "c", "b", "d", "a", "e"];
        for t in &texts[..3] {
            whole.intern(t);
            left.intern(t);
        }
        for t in &texts[3..] {
            whole.intern(t);
            right.intern(t);
        }
        let map = left.absorb(&right).unwrap_or_default();
        assert_eq!(map.len(), right.len());
        for (id, &to) in map.iter().enumerate() {
            assert_eq!(left.get(to), right.get(id as u32));
        }
        assert_eq!(left.len(), whole.len());
        for id in 0..whole.len() as u32 {
            assert_eq!(left.get(id), whole.get(id));
        }
    }

    #[test]
    fn every_mix_of_present_and_absent_parts_reads_back() {
        assert_eq!(core::mem::size_of::<StoredKey>(), 28);
        let texts = ["10.0.0.1", "", "example.com", "host-7", "C:\\x.exe"];
        let mut i = Interner::<StoredKey>::default();
        let mut keys = Vec::new();
        for mask in 0u32..32 {
            let part = |b: usize| (mask >> b & 1 == 1).then_some(texts[b]);
            let k = SeriesKey {
                src: part(0),
                dst: part(1),
                name: part(2),
                host: part(3),
                process: part(4),
                dst_port: (mask % 3 == 0).then_some(443),
            };
            i.insert_key(u64::from(mask), &k).unwrap();
            keys.push(k);
        }
        let store = i.store();
        for (id, k) in keys.iter().enumerate() {
            assert_eq!(store.get(id), Some(*k));
            assert!(store.matches(id as u32, k));
            let pair = k
                .as_pair()
                .is_some_and(|(s, d)| store.matches_pair(id as u32, s, d, k.dst_port));
            assert_eq!(pair, k.as_pair().is_some(), "{k:?}");
            for (other, o) in keys.iter().enumerate() {
                assert_eq!(store.matches(id as u32, o), other == id, "{k:?} vs {o:?}");
            }
        }
    }

    #[test]
    fn interns_keys_and_hands_the_store_out() {
        let mut i = Interner::<StoredKey>::default();
        let k = SeriesKey::empty().with_src("10.0.0.1").with_name("example.com");
        let id = i.insert_key(7, &k).unwrap();
        assert_eq!(i.find(7, |s, id| s.matches(id, &k)), Some(id));
        assert_eq!(
            i.find(7, |s, id| s.matches(id, &SeriesKey::pair("10.0.0.1", "x"))),
            None
        );
        let store = i.take_store(Store::default());
        assert_eq!(store.get(0), Some(k));
        assert_eq!((i.len(), i.find(7, |s, id| s.matches(id, &k))), (0, None));
    }
}
