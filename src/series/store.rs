//! Owned key storage: one text arena plus each key's parts as spans in it.

use super::hash::eq_bytes;
use super::key::SeriesKey;

/// Marks "no such field" in a stored key part.
pub(super) const ABSENT: u32 = u32::MAX;

/// An interned key: each string field as (start, len) in the arena, `len == ABSENT` for `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct StoredKey {
    parts: [(u32, u32); 5],
    dst_port: Option<u16>,
}

/// Owned key storage shared by the grouper and the finished set: one text arena + offsets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct KeyStore {
    pub(super) arena: String,
    pub(super) keys: Vec<StoredKey>,
}

impl KeyStore {
    #[inline]
    pub(super) fn get(&self, id: usize) -> Option<SeriesKey<'_>> {
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
    pub(super) fn matches(&self, id: u32, key: &SeriesKey<'_>) -> bool {
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
    pub(super) fn matches_pair(&self, id: u32, src: &str, dst: &str, port: Option<u16>) -> bool {
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

    pub(super) fn insert(&mut self, key: &SeriesKey<'_>) -> u32 {
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
