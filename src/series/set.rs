//! Finished series: [`SeriesSet`] (one contiguous timestamp array plus per-key offsets) and
//! [`Series`] (a key and two slices).

use super::intern::{Store, StoredKey};
use super::key::SeriesKey;
use crate::time::Timestamp;

/// Finished series: contiguous, time-ordered timestamps (and sizes) for every key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeriesSet {
    pub(super) store: Store<StoredKey>,
    pub(super) offsets: Vec<usize>, // len = keys + 1; series i is offsets[i]..offsets[i+1]
    pub(super) ts: Vec<i64>,
    pub(super) sizes: Vec<u64>,
    pub(super) fully_sized: Vec<bool>, // every event of the series had a size
    pub(super) unkeyed: u64,
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
    /// [`persistence`](crate::beacon::persistence) against: separate captures of one host, days apart,
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
