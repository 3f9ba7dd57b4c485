//! Streaming beacon tracking for sensors that run for months: [`BeaconTracker`].
//!
//! Events are pushed one at a time or in batches; the current ranked reports can be asked for
//! at any time. Memory is bounded whatever the traffic:
//! - **per key**, a window of the most recent [`TrackerConfig::window`] events (a ring: the
//!   oldest event is overwritten and counted in [`TrackerStats::overwritten`]);
//! - **idle keys** expire: a key whose last event is more than
//!   [`TrackerConfig::idle_expiry`] older than the newest event seen is dropped
//!   ([`TrackerStats::keys_expired`]). Time is event time, so a replayed log behaves as live;
//! - **a global cap** of [`TrackerConfig::max_keys`] live keys. When a new key finds the
//!   tracker full, idle keys are expired first; if it is still full, the 1/32 of keys with the
//!   fewest events in their window (ties: the longest idle) are evicted, counted in
//!   [`TrackerStats::keys_evicted`] and [`TrackerStats::evicted_events`]. Established series
//!   survive a flood of one-event keys (a scan evicts its own earlier keys).
//!
//! Keys with a control character (NUL, newline, …) in an address, host, process or name are
//! refused and counted ([`TrackerStats::invalid_keys`]), never made a series.
//!
//! # Ranking
//! [`BeaconTracker::reports`] ranks through the same [`Ranker`] as the batch path (`hunt`):
//! the live windows are grouped into one [`SeriesSet`](crate::SeriesSet), scored, and ranked
//! with persistence (against the time each source was seen in the windows), fan-in and
//! prevalence, direction and the allowlist ([`TrackerConfig::with_ranker`]). A streaming
//! sensor and a batch run over the same events therefore order series the same way.
//!
//! # Accuracy against the batch analyzer
//! A key's report is [`Analyzer::score`] over the events in its window. While a key has had
//! at most `window` events (and was not evicted or expired) the report is exactly the batch
//! report of the same events grouped by a [`Grouper`] and scored by
//! [`score_set`](crate::score_set) (bit-identical; `tests/tracker.rs` checks it on random
//! streams). Past the window it describes the most recent `window` events: a steady beacon
//! keeps its period (the property test allows 2%) and its verdict, but a beacon that stopped
//! long ago and a change of period show only as far as the window reaches back.
//!
//! The ranking is the batch ranking of the same events under the same condition (every live
//! key's events in its window, none expired or evicted): the same rank scores to the bit and
//! the same order, except that series tied on rank score and events are in key order here and
//! in first-seen order in the batch (`tests/tracker.rs` checks it on random streams). Past
//! the window, persistence and fan-in are judged on what the windows hold.
//!
//! # Saving and restoring
//! With the `serde` feature, [`BeaconTracker::save`] writes the whole state (every window,
//! counter and the clock) in a versioned, checksummed format and [`BeaconTracker::load`] reads
//! it back, so a restart loses nothing. A truncated, corrupted or foreign file is an
//! [`ErrorKind::Format`](crate::ErrorKind::Format) error naming what is wrong, never a panic.
//! [`BeaconTracker::state`] / [`BeaconTracker::from_state`] give the state as a serde value for
//! other formats.
//!
//! # Example
//! ```
//! use beaconstat::{ConnEvent, Timestamp};
//! use beaconstat::tracker::{BeaconTracker, TrackerConfig};
//! let mut tracker = BeaconTracker::new(TrackerConfig::new().with_max_keys(10_000))?;
//! for i in 0..200 {
//!     tracker.push(&ConnEvent::new(Timestamp::from_secs(60 * i), "10.0.0.7", "203.0.113.50"));
//!     tracker.push(&ConnEvent::new(Timestamp::from_secs(i * i * 17 % 12_000), "10.0.0.8", "198.51.100.2"));
//! }
//! let ranked = tracker.reports();
//! assert_eq!(ranked[0].key.to_string(), "10.0.0.7 -> 203.0.113.50");
//! assert!((ranked[0].report.period.unwrap().as_secs_f64() - 60.0).abs() < 1.0);
//! assert_eq!(tracker.stats().events, 400);
//! # Ok::<(), beaconstat::Error>(())
//! ```

mod key;
#[cfg(feature = "serde")]
mod state;

pub use key::TrackedKey;
#[cfg(feature = "serde")]
pub use state::TrackerState;

use crate::beacon::{Analyzer, AnalyzerConfig, BeaconReport};
use crate::error::{Error, Result};
use crate::event::ConnEvent;
use crate::rank::{Adjustment, Direction, Ranker};
use crate::series::{GroupBy, Grouper, SeriesKey, SizeField};
use crate::time::{Interval, Timestamp};
use key::has_control_char;

/// The live keys and their windows. Keys hash with std's SipHash-1-3, keyed at random per
/// tracker: keys come from the network and a tracker lives for months, so the hasher must
/// resist chosen collisions (a keyed PRF: without the key no input set collides more than
/// chance). Each key is hashed in one `write` of its encoded parts (see [`key::key_hash`]).
#[derive(Debug)]
struct KeyMap {
    table: hashbrown::HashTable<(TrackedKey, Window)>,
    state: std::hash::RandomState,
}

impl KeyMap {
    fn with_capacity(n: usize) -> Self {
        KeyMap {
            table: hashbrown::HashTable::with_capacity(n),
            state: std::hash::RandomState::new(),
        }
    }
    fn len(&self) -> usize {
        self.table.len()
    }
    fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
    fn capacity(&self) -> usize {
        self.table.capacity()
    }
    fn get(&self, key: &SeriesKey<'_>) -> Option<&(TrackedKey, Window)> {
        let hash = key::key_hash(&self.state, key);
        self.table.find(hash, |(k, _)| k.as_series_key() == *key)
    }
    fn get_mut(&mut self, key: &SeriesKey<'_>) -> Option<&mut Window> {
        let hash = key::key_hash(&self.state, key);
        self.table
            .find_mut(hash, |(k, _)| k.as_series_key() == *key)
            .map(|(_, w)| w)
    }
    /// Inserts a key known to be absent; false (and nothing changed) when it is present.
    fn insert(&mut self, key: TrackedKey, w: Window) -> bool {
        if self.get(&key.as_series_key()).is_some() {
            return false;
        }
        let hash = key::key_hash(&self.state, &key.as_series_key());
        let state = &self.state;
        self.table
            .insert_unique(hash, (key, w), |(k, _)| key::key_hash(state, &k.as_series_key()));
        true
    }
    fn retain(&mut self, mut keep: impl FnMut(&Window) -> bool) {
        self.table.retain(|(_, w)| keep(w));
    }
    fn iter(&self) -> impl Iterator<Item = (&TrackedKey, &Window)> {
        self.table.iter().map(|(k, w)| (k, w))
    }
}

/// A size that was not known (the window's sizes are used only when every event has one).
const NO_SIZE: u64 = u64::MAX;

/// How a [`BeaconTracker`] groups, what it keeps and how it scores.
///
/// # Example
/// ```
/// use beaconstat::{GroupBy, Interval};
/// use beaconstat::tracker::TrackerConfig;
/// let cfg = TrackerConfig::new()
///     .with_group_by(GroupBy::PairPort)
///     .with_window(256)
///     .with_idle_expiry(Interval::from_secs(86_400));
/// assert_eq!(cfg.window(), 256);
/// ```
#[derive(Debug, Clone)]
pub struct TrackerConfig {
    group_by: GroupBy,
    size_field: SizeField,
    // >= 1
    max_keys: usize,
    // in [2, MAX_WINDOW]
    window: usize,
    // > 0
    idle_expiry: Interval,
    analyzer: AnalyzerConfig,
    min_events: usize,
    ranker: Ranker,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            group_by: GroupBy::Pair,
            size_field: SizeField::BytesOut,
            max_keys: 100_000,
            window: 512,
            idle_expiry: Interval::from_secs(7 * 86_400),
            analyzer: AnalyzerConfig::default(),
            min_events: 4,
            // The batch defaults (allowlist, local networks, threshold), with no minimum of
            // its own: `min_events` above says which keys are reported.
            ranker: Ranker::builder().min_events(0).build().unwrap_or_default(),
        }
    }
}

impl TrackerConfig {
    /// The largest window accepted (16 M events per key).
    pub const MAX_WINDOW: usize = 1 << 24;

    /// The defaults: (src, dst) keys, originator bytes as sizes, at most 100 000 keys, a window
    /// of 512 events per key, keys idle for 7 days expire, the default analyzer, reports for
    /// keys with at least 4 events, ranked by [`Ranker`]'s defaults (with no minimum of its
    /// own).
    pub fn new() -> Self {
        Self::default()
    }
    /// How events are keyed.
    pub fn with_group_by(mut self, g: GroupBy) -> Self {
        self.group_by = g;
        self
    }
    /// Which byte count is a series' size.
    pub fn with_size_field(mut self, f: SizeField) -> Self {
        self.size_field = f;
        self
    }
    /// The most live keys (at least 1).
    pub fn with_max_keys(mut self, n: usize) -> Self {
        self.max_keys = n;
        self
    }
    /// Events kept per key (2 to [`TrackerConfig::MAX_WINDOW`]).
    pub fn with_window(mut self, n: usize) -> Self {
        self.window = n;
        self
    }
    /// How long a key may go without events before it expires (positive).
    pub fn with_idle_expiry(mut self, d: Interval) -> Self {
        self.idle_expiry = d;
        self
    }
    /// The analyzer's configuration.
    pub fn with_analyzer(mut self, cfg: AnalyzerConfig) -> Self {
        self.analyzer = cfg;
        self
    }
    /// The fewest events in its window for a key to be reported.
    pub fn with_min_events(mut self, n: usize) -> Self {
        self.min_events = n;
        self
    }
    /// The ranking [`BeaconTracker::reports`] applies: the batch path's [`Ranker`] (allowlist,
    /// local networks, threshold). Its own `min_events` applies too, on top of
    /// [`with_min_events`](TrackerConfig::with_min_events).
    ///
    /// # Example
    /// ```
    /// use beaconstat::{ConnEvent, GroupBy, Ranker, Timestamp, allowlist::Allowlist};
    /// use beaconstat::tracker::{BeaconTracker, TrackerConfig};
    /// let ranker = Ranker::builder().allowlist(Allowlist::default_rules()).min_events(0).build()?;
    /// let cfg = TrackerConfig::new().with_group_by(GroupBy::PairPort).with_ranker(ranker);
    /// let mut t = BeaconTracker::new(cfg)?;
    /// for i in 0..50 {
    ///     // An NTP poll (the default allowlist suppresses it) and a beacon.
    ///     t.push(&ConnEvent::new(Timestamp::from_secs(64 * i), "10.0.0.7", "216.239.35.4").with_dst_port(123));
    ///     t.push(&ConnEvent::new(Timestamp::from_secs(60 * i), "10.0.0.7", "203.0.113.5").with_dst_port(8443));
    /// }
    /// let ranked = t.reports();
    /// assert_eq!(ranked.len(), 2);
    /// let ntp = ranked.iter().find(|r| r.key.as_series_key().dst_port == Some(123)).unwrap();
    /// assert_eq!(ntp.adjustments[0].reason, "suppressed by allowlist rule ntp");
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn with_ranker(mut self, ranker: Ranker) -> Self {
        self.ranker = ranker;
        self
    }
    /// Events kept per key.
    pub fn window(&self) -> usize {
        self.window
    }
    /// The most live keys.
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }
    /// The idle time after which a key expires.
    pub fn idle_expiry(&self) -> Interval {
        self.idle_expiry
    }

    fn validate(&self) -> Result<()> {
        if self.max_keys == 0 {
            return Err(Error::config("max_keys", "must be at least 1"));
        }
        if !(2..=Self::MAX_WINDOW).contains(&self.window) {
            return Err(Error::config("window", format!("must be in 2..={}", Self::MAX_WINDOW)));
        }
        if self.idle_expiry.as_micros() <= 0 {
            return Err(Error::config("idle_expiry", "must be positive"));
        }
        Ok(())
    }
}

/// What a [`BeaconTracker`] did with its events and keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct TrackerStats {
    /// Events accepted into a key's window.
    pub events: u64,
    /// Events the grouping gave no key (a custom key function's `None`).
    pub unkeyed: u64,
    /// Events refused because a key part held a control character.
    pub invalid_keys: u64,
    /// Keys created (including those since expired or evicted).
    pub keys_created: u64,
    /// Keys dropped for being idle longer than the expiry.
    pub keys_expired: u64,
    /// Events that were in the windows of expired keys.
    pub expired_events: u64,
    /// Keys evicted to stay within the key cap.
    pub keys_evicted: u64,
    /// Events that were in the windows of evicted keys.
    pub evicted_events: u64,
    /// Events overwritten in a full window by newer ones.
    pub overwritten: u64,
}

/// One key's current report.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TrackedReport {
    /// The series.
    pub key: TrackedKey,
    /// The analyzer's report over the key's window.
    pub report: BeaconReport,
    /// The score reports are ranked by: the report's score after persistence, fan-in or
    /// prevalence and the allowlist (as [`RankedSeries::rank_score`](crate::RankedSeries)),
    /// in `[0, 1]`. [`BeaconTracker::report`] gives the raw score here.
    pub rank_score: f64,
    /// Which way the series goes, by the ranker's local networks.
    pub direction: Direction,
    /// What the ranking did to the score, and why, in words (empty from
    /// [`BeaconTracker::report`]).
    pub adjustments: Vec<Adjustment>,
    /// Events in the window (what the report is over).
    pub window_events: usize,
    /// Events ever pushed for the key (since it was created).
    pub events_seen: u64,
    /// The key's earliest and latest event time ever seen.
    pub first_seen: Timestamp,
    /// See `first_seen`.
    pub last_seen: Timestamp,
}

/// One key's recent events: a ring of timestamps (and sizes) in arrival order.
#[derive(Debug, Clone, Default)]
struct Window {
    ts: Vec<i64>,
    // Empty when the tracker keeps no sizes, else aligned with `ts` (NO_SIZE: unknown).
    sizes: Vec<u64>,
    // Index of the oldest event once the ring is full (`ts.len() == window`), else 0.
    head: usize,
    // Events in the window without a size.
    sizeless: u32,
    events_seen: u64,
    first_seen: i64,
    last_seen: i64,
}

impl Window {
    fn new(ts: i64) -> Self {
        Window {
            first_seen: ts,
            last_seen: ts,
            ..Window::default()
        }
    }

    /// Appends one event; true when it overwrote the oldest.
    fn push(&mut self, cap: usize, keep_sizes: bool, ts: i64, size: Option<u64>) -> bool {
        self.events_seen += 1;
        self.first_seen = self.first_seen.min(ts);
        self.last_seen = self.last_seen.max(ts);
        let size = size.map_or(NO_SIZE, |s| s.min(NO_SIZE - 1));
        if size == NO_SIZE && keep_sizes {
            self.sizeless += 1;
        }
        if self.ts.len() < cap {
            self.ts.push(ts);
            if keep_sizes {
                self.sizes.push(size);
            }
            return false;
        }
        // Full: overwrite the oldest. (`cap >= 2` and the ring is full, so `head < len`.)
        let h = self.head;
        if let Some(slot) = self.ts.get_mut(h) {
            *slot = ts;
        }
        if let Some(slot) = self.sizes.get_mut(h) {
            if *slot == NO_SIZE {
                self.sizeless -= 1;
            }
            *slot = size;
        }
        self.head = (h + 1) % self.ts.len().max(1);
        true
    }

    /// The window in arrival order, into `ts` and (when every event has a size) `sizes`.
    fn copy_into(&self, ts: &mut Vec<i64>, sizes: &mut Vec<u64>) -> bool {
        ts.clear();
        sizes.clear();
        let (new, old) = self.ts.split_at(self.head);
        ts.extend_from_slice(old);
        ts.extend_from_slice(new);
        let sized = !self.sizes.is_empty() && self.sizeless == 0;
        if sized {
            let (new, old) = self.sizes.split_at(self.head);
            sizes.extend_from_slice(old);
            sizes.extend_from_slice(new);
        }
        sized
    }

    fn heap_bytes(&self) -> usize {
        (self.ts.capacity() + self.sizes.capacity()) * 8
    }
}

/// A streaming beacon tracker: bounded memory per key and in total, idle expiry, eviction
/// with counters, current ranked reports at any time. See the [module docs](self).
#[derive(Debug)]
pub struct BeaconTracker {
    cfg: TrackerConfig,
    keys: KeyMap,
    stats: TrackerStats,
    // The newest event time seen (µs): the clock idle expiry is measured against.
    now: Option<i64>,
    // Pushes since the last idle sweep: sweeps are amortised over at least `keys.len()` pushes.
    since_sweep: usize,
    analyzer: Analyzer,
    scratch_ts: Vec<i64>,
    scratch_sizes: Vec<u64>,
    order: Vec<usize>,
    sorted_ts: Vec<i64>,
    sorted_sizes: Vec<u64>,
}

impl BeaconTracker {
    /// A tracker with `cfg`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for a zero key cap, a window outside
    /// `2..=MAX_WINDOW` or a non-positive idle expiry.
    pub fn new(cfg: TrackerConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(BeaconTracker {
            analyzer: Analyzer::new(cfg.analyzer.clone()),
            cfg,
            keys: KeyMap::with_capacity(0),
            stats: TrackerStats::default(),
            now: None,
            since_sweep: 0,
            scratch_ts: Vec::new(),
            scratch_sizes: Vec::new(),
            order: Vec::new(),
            sorted_ts: Vec::new(),
            sorted_sizes: Vec::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TrackerConfig {
        &self.cfg
    }

    /// The counters.
    pub fn stats(&self) -> &TrackerStats {
        &self.stats
    }

    /// Live keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is live.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The newest event time seen.
    pub fn now(&self) -> Option<Timestamp> {
        self.now.map(Timestamp::from_micros)
    }

    /// Pushes one event. Allocates only for a new key or while a window grows to its size.
    pub fn push(&mut self, e: &ConnEvent<'_>) {
        let Some(key) = self.cfg.group_by.key(e) else {
            self.stats.unkeyed += 1;
            return;
        };
        let size = self.cfg.size_field.of(e);
        self.push_keyed(&key, e.ts, size);
    }

    /// Pushes a batch of events, in order.
    pub fn extend<'e, I: IntoIterator<Item = &'e ConnEvent<'e>>>(&mut self, events: I) {
        for e in events {
            self.push(e);
        }
    }

    /// Pushes one event already keyed.
    pub fn push_keyed(&mut self, key: &SeriesKey<'_>, ts: Timestamp, size: Option<u64>) {
        if has_control_char(key) {
            self.stats.invalid_keys += 1;
            return;
        }
        let ts = ts.as_micros();
        self.now = Some(self.now.map_or(ts, |n| n.max(ts)));
        self.since_sweep += 1;
        if self.since_sweep > self.keys.len().max(1024) {
            self.expire_idle();
        }
        let cap = self.cfg.window;
        let keep_sizes = self.cfg.size_field != SizeField::None;
        if let Some(w) = self.keys.get_mut(key) {
            if w.push(cap, keep_sizes, ts, size) {
                self.stats.overwritten += 1;
            }
            self.stats.events += 1;
            return;
        }
        if self.keys.len() >= self.cfg.max_keys {
            self.make_room(1);
        }
        let mut w = Window::new(ts);
        w.push(cap, keep_sizes, ts, size);
        self.keys.insert(TrackedKey::from(*key), w);
        // (Absent: `get_mut` just missed, and `make_room` only removes.)
        self.stats.keys_created += 1;
        self.stats.events += 1;
    }

    /// Drops every key idle for longer than the expiry (measured against the newest event
    /// seen); returns how many. Runs by itself every so often as events are pushed.
    pub fn expire_idle(&mut self) -> usize {
        self.since_sweep = 0;
        let Some(now) = self.now else { return 0 };
        let horizon = now.saturating_sub(self.cfg.idle_expiry.as_micros());
        let before = self.keys.len();
        let stats = &mut self.stats;
        self.keys.retain(|w| {
            let keep = w.last_seen >= horizon;
            if !keep {
                stats.keys_expired += 1;
                stats.expired_events += w.ts.len() as u64;
            }
            keep
        });
        before - self.keys.len()
    }

    /// Frees room for `new` keys: idle keys first, else the 1/32 with the fewest events in
    /// their window (ties: the longest idle), so eviction costs O(1) per key amortised. With
    /// `new == 0` (a restored state over the cap) it evicts just the excess.
    pub(super) fn make_room(&mut self, new: usize) {
        if self.keys.len() + new <= self.cfg.max_keys {
            return;
        }
        if self.expire_idle() > 0 && self.keys.len() + new <= self.cfg.max_keys {
            return;
        }
        let excess = (self.keys.len() + new).saturating_sub(self.cfg.max_keys);
        let batch = if new == 0 {
            excess
        } else {
            (self.cfg.max_keys / 32).max(excess)
        };
        let mut ranks: Vec<(usize, i64)> = self.keys.iter().map(|(_, w)| (w.ts.len(), w.last_seen)).collect();
        let batch = batch.min(ranks.len());
        if batch == 0 {
            return;
        }
        let (_, &mut threshold, _) = ranks.select_nth_unstable(batch - 1);
        let mut left = batch;
        let stats = &mut self.stats;
        self.keys.retain(|w| {
            let evict = left > 0 && (w.ts.len(), w.last_seen) <= threshold;
            if evict {
                left -= 1;
                stats.keys_evicted += 1;
                stats.evicted_events += w.ts.len() as u64;
            }
            !evict
        });
    }

    /// The current report of one key, if it is live.
    pub fn report(&mut self, key: &SeriesKey<'_>) -> Option<TrackedReport> {
        let (k, w) = self.keys.get(key)?;
        let report = score_window(
            &mut self.analyzer,
            w,
            [&mut self.scratch_ts, &mut self.sorted_ts],
            [&mut self.scratch_sizes, &mut self.sorted_sizes],
            &mut self.order,
        );
        let direction = self.cfg.ranker.local_nets().direction(&k.as_series_key());
        Some(tracked(k, w, report, direction))
    }

    /// The current reports of every live key with at least `min_events` events in its window,
    /// ranked by the configured [`Ranker`] as the batch path ranks (see the
    /// [module docs](self#ranking)): highest rank score first, then more events, then key
    /// order. Suppressed series are kept, marked in their adjustments. Expires idle keys first.
    pub fn reports(&mut self) -> Vec<TrackedReport> {
        self.expire_idle();
        // Every live window, in key order, as one series set: persistence and fan-in are
        // judged over all of them, as the batch ranker judges over all series.
        let mut live: Vec<(&TrackedKey, &Window)> = self.keys.iter().collect();
        live.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut grouper = Grouper::new(self.cfg.group_by.clone()).size_field(self.cfg.size_field);
        grouper.reserve(live.iter().map(|(_, w)| w.ts.len()).sum());
        for (k, w) in &live {
            let id = grouper.key_id(&k.as_series_key());
            // Arrival order, sizes included when known: the grouper sorts stably by time, as
            // it would the original stream.
            w.copy_into(&mut self.scratch_ts, &mut self.scratch_sizes);
            let (new, old) = w.sizes.split_at(w.head.min(w.sizes.len()));
            let mut sizes = old.iter().chain(new).map(|&s| (s != NO_SIZE).then_some(s));
            for &ts in &self.scratch_ts {
                // (The id comes from this grouper.)
                let _ = grouper.push_id(id, Timestamp::from_micros(ts), sizes.next().flatten());
            }
        }
        let set = grouper.finish();
        let min = self.cfg.min_events;
        let scored = set
            .iter()
            .filter(|s| s.len() >= min)
            .map(|s| (s.index(), self.analyzer.score_series(&s)))
            .collect();
        let ranked = self.cfg.ranker.rank(&set, scored);
        let mut out = Vec::with_capacity(ranked.len());
        for r in ranked.into_entries() {
            let Some(&(k, w)) = live.get(r.series.index()) else {
                continue;
            };
            let mut t = tracked(k, w, r.report, r.direction);
            t.rank_score = r.rank_score;
            t.adjustments = r.adjustments;
            out.push(t);
        }
        // Ties on rank score and events in key order (the sort is stable, the set in key order).
        out
    }

    /// Heap bytes held for tracked keys: key strings, windows and the key table. The
    /// bench `tracker` reports it per key.
    pub fn heap_bytes(&self) -> usize {
        let table = self.keys.capacity() * (size_of::<(TrackedKey, Window)>() + 1);
        table
            + self
                .keys
                .iter()
                .map(|(k, w)| k.heap_bytes() + w.heap_bytes())
                .sum::<usize>()
    }
}

fn tracked(k: &TrackedKey, w: &Window, report: BeaconReport, direction: Direction) -> TrackedReport {
    TrackedReport {
        key: k.clone(),
        rank_score: report.score,
        direction,
        adjustments: Vec::new(),
        report,
        window_events: w.ts.len(),
        events_seen: w.events_seen,
        first_seen: Timestamp::from_micros(w.first_seen),
        last_seen: Timestamp::from_micros(w.last_seen),
    }
}

/// Scores a window as the batch path scores a series: timestamps sorted (stably, sizes
/// following), sizes only when every event has one.
fn score_window(
    analyzer: &mut Analyzer,
    w: &Window,
    [ts, sorted_ts]: [&mut Vec<i64>; 2],
    [sizes, sorted_sizes]: [&mut Vec<u64>; 2],
    order: &mut Vec<usize>,
) -> BeaconReport {
    let sized = w.copy_into(ts, sizes);
    if ts.is_sorted() {
        return analyzer.score(ts, sized.then_some(&sizes[..]));
    }
    order.clear();
    order.extend(0..ts.len());
    order.sort_by_key(|&i| ts.get(i).copied().unwrap_or(0));
    sorted_ts.clear();
    sorted_ts.extend(order.iter().filter_map(|&i| ts.get(i)));
    sorted_sizes.clear();
    if sized {
        sorted_sizes.extend(order.iter().filter_map(|&i| sizes.get(i)));
    }
    analyzer.score(sorted_ts, sized.then_some(&sorted_sizes[..]))
}
