//! [`SeriesSet::concat`]: the finished sets of consecutive parts of one input, joined into the
//! set one grouper fed every part in turn finishes.

use super::grouper::{Grouper, key_ranges, sort_ranges};
use super::intern::ABSENT;
use super::set::SeriesSet;
use crate::threads::each_on_own_thread;

impl SeriesSet {
    /// Joins the sets of consecutive parts of one input, each finished on its own (for
    /// instance by the thread that grouped it, while other parts are still being read), into
    /// what one [`Grouper`] fed all parts in turn gives: the same set, key order and all. Keys
    /// are numbered in the order the parts first saw them; each series is its parts' runs one
    /// after the other, sorted again only where they are not in order. The copying runs on up
    /// to `threads` threads (at least one), each filling the series of a range of keys (about an
    /// equal share of the events).
    ///
    /// The parts must have been grouped with the same [`GroupBy`](crate::GroupBy) and
    /// [`SizeField`](crate::series::SizeField). No parts give an empty set.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{ConnEvent, GroupBy, Grouper, SeriesSet, Timestamp};
    /// let events: Vec<ConnEvent<'_>> = (0..10)
    ///     .map(|i| ConnEvent::new(Timestamp::from_secs(60 * i), if i % 3 == 0 { "10.0.0.5" } else { "10.0.0.6" }, "198.51.100.9"))
    ///     .collect();
    /// let mut whole = Grouper::new(GroupBy::Pair);
    /// events.iter().for_each(|e| whole.push(e));
    /// // The same events in two parts, each grouped and finished apart, then joined.
    /// let (mut first, mut second) = (Grouper::new(GroupBy::Pair), Grouper::new(GroupBy::Pair));
    /// events[..4].iter().for_each(|e| first.push(e));
    /// events[4..].iter().for_each(|e| second.push(e));
    /// let parts = vec![first.finish(), second.finish()];
    /// assert_eq!(SeriesSet::concat(parts, 2), whole.finish());
    /// ```
    pub fn concat(parts: Vec<SeriesSet>, threads: usize) -> SeriesSet {
        let mut parts = parts;
        if parts.len() <= 1 {
            return parts.pop().unwrap_or_else(|| Grouper::default().finish());
        }
        // Every part's key ids → the joined ids, in the order the parts first saw their keys
        // (as `Grouper::merge` numbers them).
        let mut keys = Grouper::default();
        let maps: Vec<Vec<u32>> = parts.iter().map(|p| keys.intern_all(&p.store)).collect();
        let store = keys.into_key_store();
        let k = store.len();
        // Per joined key: its events, and whether every one has a size; per part and joined
        // key, the part's local id (a key a part never saw has none).
        let mut offsets = vec![0usize; k + 1];
        let mut all_sized = vec![true; k];
        let mut local: Vec<Vec<u32>> = Vec::with_capacity(parts.len());
        for (p, map) in parts.iter().zip(&maps) {
            let mut inv = vec![ABSENT; k];
            for (l, &g) in map.iter().enumerate() {
                let n = p.offsets.get(l + 1).zip(p.offsets.get(l)).map_or(0, |(b, a)| b - a);
                if let (Some(o), Some(s), Some(i)) = (
                    offsets.get_mut(g as usize + 1),
                    all_sized.get_mut(g as usize),
                    inv.get_mut(g as usize),
                ) {
                    *o += n;
                    *i = l as u32;
                    if n > 0 && !p.fully_sized.get(l).copied().unwrap_or(false) {
                        *s = false;
                    }
                }
            }
            local.push(inv);
        }
        drop(maps);
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        let fully_sized: Vec<bool> = offsets
            .windows(2)
            .zip(&all_sized)
            .map(|(w, &s)| w[1] > w[0] && s)
            .collect();
        drop(all_sized);
        let any_sized = parts.iter().any(|p| !p.sizes.is_empty());
        let unkeyed = parts.iter().map(|p| p.unkeyed).sum();
        let n = offsets[k];
        // The threads' key ranges: about an equal share of the events each.
        let threads = threads.clamp(1, parts.len());
        let ranges = key_ranges(&offsets, threads);
        // One column at a time (the parts' timestamps are freed before the sizes are joined):
        // the peak is the parts' sets and one joined column.
        let mut ts = vec![0i64; n];
        join_column(&ranges, &offsets, &mut ts, |g, out| {
            let mut at = 0;
            for (p, inv) in parts.iter().zip(&local) {
                if let Some(run) = run_of(p, inv, g, &p.ts) {
                    out[at..at + run.len()].copy_from_slice(run);
                    at += run.len();
                }
            }
        });
        for p in &mut parts {
            p.ts = Vec::new();
        }
        let mut sizes = if any_sized { vec![0u64; n] } else { Vec::new() };
        if any_sized {
            join_column(&ranges, &offsets, &mut sizes, |g, out| {
                let mut at = 0;
                for (p, inv) in parts.iter().zip(&local) {
                    let Some(l) = inv.get(g).copied().filter(|&l| l != ABSENT) else {
                        continue;
                    };
                    let (a, b) = (p.offsets[l as usize], p.offsets[l as usize + 1]);
                    // A part whose events had no size at all keeps no column: its zeros stay.
                    if let Some(run) = p.sizes.get(a..b) {
                        out[at..at + run.len()].copy_from_slice(run);
                    }
                    at += b - a;
                }
            });
        }
        drop((parts, local));
        // Each thread sorts the series of its key range where its parts' runs are out of order.
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
}

/// Part `p`'s run of joined key `g` in its column `col`, if the part saw the key.
fn run_of<'c, T>(p: &SeriesSet, inv: &[u32], g: usize, col: &'c [T]) -> Option<&'c [T]> {
    let l = *inv.get(g).filter(|&&l| l != ABSENT)? as usize;
    col.get(*p.offsets.get(l)?..*p.offsets.get(l + 1)?)
}

/// Fills `out`, a column of the joined set, on one thread per key range: `fill(key, slice)`
/// writes the key's series into its slice.
fn join_column<T: Send>(
    ranges: &[(usize, usize)],
    offsets: &[usize],
    out: &mut [T],
    fill: impl Fn(usize, &mut [T]) + Sync,
) {
    let mut rest = out;
    let mut jobs = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges {
        let (slice, r) = std::mem::take(&mut rest).split_at_mut(offsets[hi] - offsets[lo]);
        rest = r;
        jobs.push((lo, hi, slice));
    }
    each_on_own_thread(jobs, |(lo, hi, mut slice)| {
        for g in lo..hi {
            let (s, r) = std::mem::take(&mut slice).split_at_mut(offsets[g + 1] - offsets[g]);
            slice = r;
            fill(g, s);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ConnEvent;
    use crate::series::GroupBy;
    use crate::time::Timestamp;

    fn events() -> Vec<ConnEvent<'static>> {
        const SRC: [&str; 4] = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"];
        const DST: [&str; 3] = ["198.51.100.1", "198.51.100.2", "203.0.113.9"];
        (0..600u64)
            .map(|i| {
                // Times go back now and then (out-of-order runs across parts), equal times
                // with different sizes, some events without a size, some keys in one part only.
                let t = (i * 37 % 101) as i64 + (i / 50) as i64 * 40;
                let e = ConnEvent::new(
                    Timestamp::from_secs(t),
                    SRC[(i % 4) as usize],
                    DST[(i * 7 % 3) as usize],
                )
                .with_dst_port(if i > 400 && i % 5 == 0 { 8443 } else { 443 });
                if i % 11 == 0 { e } else { e.with_bytes(i % 13, 0) }
            })
            .collect()
    }

    #[test]
    fn joined_parts_are_the_whole_set() {
        let evs = events();
        for group_by in [GroupBy::PairPort, GroupBy::Pair] {
            let mut whole = Grouper::new(group_by.clone());
            evs.iter().for_each(|e| whole.push(e));
            let whole = whole.finish();
            for cuts in [
                vec![0, 600],
                vec![0, 1, 600],
                vec![0, 100, 350, 351, 600],
                vec![0, 200, 400, 600, 600],
            ] {
                let parts: Vec<SeriesSet> = cuts
                    .windows(2)
                    .map(|w| {
                        let mut g = Grouper::new(group_by.clone());
                        evs[w[0]..w[1]].iter().for_each(|e| g.push(e));
                        g.finish()
                    })
                    .collect();
                for threads in [1, 2, 3] {
                    assert_eq!(SeriesSet::concat(parts.clone(), threads), whole, "cuts {cuts:?}");
                }
            }
        }
    }

    #[test]
    fn sizes_of_a_part_without_any_are_zeros_and_unsized() {
        let (mut a, mut b, mut whole) = (
            Grouper::new(GroupBy::Pair),
            Grouper::new(GroupBy::Pair),
            Grouper::new(GroupBy::Pair),
        );
        let first = ConnEvent::new(Timestamp::from_secs(1), "a", "b");
        let second = ConnEvent::new(Timestamp::from_secs(2), "a", "b").with_bytes(5, 0);
        a.push(&first);
        b.push(&second);
        whole.push(&first);
        whole.push(&second);
        let joined = SeriesSet::concat(vec![a.finish(), b.finish()], 2);
        assert_eq!(joined, whole.finish());
        assert_eq!(joined.get(0).and_then(|s| s.sizes().map(<[u64]>::to_vec)), None);
        assert_eq!(SeriesSet::concat(Vec::new(), 2), Grouper::default().finish());
    }
}
