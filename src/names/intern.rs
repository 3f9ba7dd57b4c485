//! String interning: one text arena, `(start, len)` spans and a hash table of ids.

use core::hash::BuildHasher;
use hashbrown::{DefaultHashBuilder, HashTable};

/// Interns strings: each distinct string is copied once into one arena and gets a `u32` id.
#[derive(Debug, Clone, Default)]
pub(crate) struct Interner {
    arena: String,
    spans: Vec<(u32, u32)>,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Interner {
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    pub(crate) fn get(&self, id: u32) -> &str {
        let Some(&(s, l)) = self.spans.get(id as usize) else {
            return "";
        };
        self.arena.get(s as usize..s as usize + l as usize).unwrap_or("")
    }

    #[inline]
    pub(crate) fn hash(&self, s: &str) -> u64 {
        self.hasher.hash_one(s.as_bytes())
    }

    /// The id of `s`, if interned (no allocation).
    #[inline]
    pub(crate) fn find(&self, s: &str) -> Option<u32> {
        let h = self.hash(s);
        self.table.find(h, |&id| self.get(id) == s).copied()
    }

    /// The id of `s`, interning it if new. `None` only if the arena would pass 4 GiB.
    pub(crate) fn intern(&mut self, s: &str) -> Option<u32> {
        let h = self.hash(s);
        if let Some(&id) = self.table.find(h, |&id| self.get(id) == s) {
            return Some(id);
        }
        let start = u32::try_from(self.arena.len()).ok()?;
        let len = u32::try_from(s.len()).ok()?;
        start.checked_add(len)?;
        let id = u32::try_from(self.spans.len()).ok()?;
        self.arena.push_str(s);
        self.spans.push((start, len));
        let (arena, spans, hasher) = (&self.arena, &self.spans, &self.hasher);
        self.table.insert_unique(h, id, |&other| {
            let (s, l) = spans.get(other as usize).copied().unwrap_or((0, 0));
            hasher.hash_one(arena.get(s as usize..(s + l) as usize).unwrap_or("").as_bytes())
        });
        Some(id)
    }

    /// The arena and each id's `(start, len)` in it (the lookup table is dropped).
    pub(crate) fn into_parts(self) -> (String, Vec<(u32, u32)>) {
        (self.arena, self.spans)
    }

    /// The `(start, len)` of an id's text in the arena.
    pub(crate) fn span(&self, id: u32) -> (u32, u32) {
        self.spans.get(id as usize).copied().unwrap_or((0, 0))
    }

    pub(crate) fn bytes(&self) -> usize {
        self.arena.capacity() + self.spans.capacity() * 8 + self.table.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once_and_finds() {
        let mut i = Interner::default();
        let a = i.intern("a.example").unwrap();
        let b = i.intern("b.example").unwrap();
        assert_eq!(i.intern("a.example"), Some(a));
        assert_ne!(a, b);
        assert_eq!(i.get(b), "b.example");
        assert_eq!(i.find("b.example"), Some(b));
        assert_eq!(i.find("c.example"), None);
        for n in 0..1000 {
            i.intern(&format!("h{n}.example"));
        }
        assert_eq!(i.find("a.example"), Some(a));
        assert_eq!(i.len(), 1002);
    }
}
