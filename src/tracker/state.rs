//! Saving and restoring a [`BeaconTracker`]: a versioned serde value ([`TrackerState`]) and a
//! checksummed file format around its JSON.
//!
//! The file is four header lines, then the JSON payload:
//! ```text
//! beaconstat tracker state
//! version 1
//! length <payload bytes>
//! fnv1a64 <16 hex digits of the payload's FNV-1a hash>
//! {...}
//! ```
//! The length catches truncation, the hash catches corruption, the version catches a file
//! from another release; each is a distinct error message.

use super::{BeaconTracker, KeyMap, NO_SIZE, TrackedKey, TrackerConfig, TrackerStats, Window};
use crate::error::{Error, Result};
use crate::series::SizeField;
use std::io::{Read, Write};

const MAGIC: &str = "beaconstat tracker state";

/// Everything a [`BeaconTracker`] holds (windows, counters, clock), as a serde value.
///
/// [`BeaconTracker::save`] and [`BeaconTracker::load`] wrap it in a checked file; use this
/// type directly for another serde format.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrackerState {
    version: u32,
    now: Option<i64>,
    stats: TrackerStats,
    keys: Vec<SavedKey>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct SavedKey {
    key: TrackedKey,
    // The window, oldest first.
    ts: Vec<i64>,
    // Aligned with `ts`, or empty when the tracker kept no sizes.
    sizes: Vec<Option<u64>>,
    events_seen: u64,
    first_seen: i64,
    last_seen: i64,
}

impl TrackerState {
    /// The format version this build writes and reads.
    pub const VERSION: u32 = 1;
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn bad(reason: impl core::fmt::Display) -> Error {
    Error::format(format!("tracker state: {reason}"))
}

impl BeaconTracker {
    /// The tracker's whole state, windows oldest event first, keys in key order.
    pub fn state(&self) -> TrackerState {
        let mut keys: Vec<SavedKey> = self
            .keys
            .iter()
            .map(|(k, w)| {
                let (mut ts, mut known_sizes) = (Vec::new(), Vec::new());
                w.copy_into(&mut ts, &mut known_sizes);
                // Sizes as they are, unknown ones too (`copy_into` gives them only when all are known).
                let (new, old) = w.sizes.split_at(w.head.min(w.sizes.len()));
                let sizes = old.iter().chain(new).map(|&s| (s != NO_SIZE).then_some(s)).collect();
                SavedKey {
                    key: k.clone(),
                    ts,
                    sizes,
                    events_seen: w.events_seen,
                    first_seen: w.first_seen,
                    last_seen: w.last_seen,
                }
            })
            .collect();
        keys.sort_by(|a, b| a.key.cmp(&b.key));
        TrackerState {
            version: TrackerState::VERSION,
            now: self.now,
            stats: self.stats,
            keys,
        }
    }

    /// A tracker with `cfg` holding `state`. A window longer than `cfg`'s keeps its newest
    /// events (the rest counted as overwritten); more keys than `cfg` allows are evicted as
    /// usual and counted.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) as [`BeaconTracker::new`];
    /// [`ErrorKind::Format`](crate::ErrorKind::Format) for another version or an inconsistent
    /// state (sizes not aligned with timestamps, a key twice, counts that do not add up).
    pub fn from_state(cfg: TrackerConfig, state: TrackerState) -> Result<Self> {
        if state.version != TrackerState::VERSION {
            return Err(bad(format!(
                "version {} (this build reads version {})",
                state.version,
                TrackerState::VERSION
            )));
        }
        let mut t = BeaconTracker::new(cfg)?;
        t.now = state.now;
        t.stats = state.stats;
        let keep_sizes = t.cfg.size_field != SizeField::None;
        let cap = t.cfg.window;
        let mut keys = KeyMap::with_capacity(state.keys.len().min(t.cfg.max_keys));
        for (i, s) in state.keys.into_iter().enumerate() {
            if !s.sizes.is_empty() && s.sizes.len() != s.ts.len() {
                return Err(bad(format!("key {i} ({}): sizes not aligned with timestamps", s.key)));
            }
            if s.ts.is_empty() || s.events_seen < s.ts.len() as u64 || s.first_seen > s.last_seen {
                return Err(bad(format!("key {i} ({}): inconsistent counts or times", s.key)));
            }
            let skip = s.ts.len().saturating_sub(cap);
            t.stats.overwritten += skip as u64;
            let mut w = Window {
                events_seen: 0,
                first_seen: s.first_seen,
                last_seen: s.last_seen,
                ..Window::default()
            };
            for (j, &ts) in s.ts.iter().enumerate().skip(skip) {
                let size = if s.sizes.is_empty() {
                    None
                } else {
                    s.sizes.get(j).copied().flatten()
                };
                w.push(cap, keep_sizes, ts, size);
            }
            w.events_seen = s.events_seen;
            w.first_seen = s.first_seen;
            w.last_seen = s.last_seen;
            if !keys.insert(s.key, w) {
                return Err(bad(format!("key {i} appears twice")));
            }
        }
        t.keys = keys;
        t.make_room(0);
        Ok(t)
    }

    /// Writes the tracker's state: four header lines, then the JSON of [`TrackerState`].
    /// ```text
    /// beaconstat tracker state
    /// version 1
    /// length <payload bytes>
    /// fnv1a64 <16 lowercase hex digits: the payload's FNV-1a hash>
    /// {...}
    /// ```
    /// The length catches truncation, the hash corruption, the version a file from another
    /// release; [`BeaconTracker::load`] names which.
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when writing fails.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{ConnEvent, Timestamp};
    /// use beaconstat::tracker::{BeaconTracker, TrackerConfig};
    /// let mut t = BeaconTracker::new(TrackerConfig::new())?;
    /// for i in 0..20 {
    ///     t.push(&ConnEvent::new(Timestamp::from_secs(60 * i), "10.0.0.7", "203.0.113.50"));
    /// }
    /// let mut file = Vec::new();
    /// t.save(&mut file)?;
    /// let mut back = BeaconTracker::load(TrackerConfig::new(), &file[..])?;
    /// assert_eq!(back.reports(), t.reports());
    /// // A cut file is an error that says so, not a panic or a silent empty tracker.
    /// let err = BeaconTracker::load(TrackerConfig::new(), &file[..file.len() - 3]).unwrap_err();
    /// assert!(err.to_string().contains("truncated"), "{err}");
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn save<W: Write>(&self, mut w: W) -> Result<()> {
        let payload = serde_json::to_vec(&self.state()).map_err(bad)?;
        let header = format!(
            "{MAGIC}\nversion {}\nlength {}\nfnv1a64 {:016x}\n",
            TrackerState::VERSION,
            payload.len(),
            fnv1a64(&payload)
        );
        w.write_all(header.as_bytes())
            .and_then(|()| w.write_all(&payload))
            .and_then(|()| w.flush())
            .map_err(|e| Error::io(None, e))
    }

    /// Reads a state written by [`BeaconTracker::save`] into a tracker with `cfg` (see
    /// [`BeaconTracker::from_state`] for a `cfg` smaller than the saved state).
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when reading fails;
    /// [`ErrorKind::Format`](crate::ErrorKind::Format) naming the problem when the input is not
    /// a tracker state, is of another version, is truncated, fails its checksum or does not
    /// decode.
    pub fn load<R: Read>(cfg: TrackerConfig, mut r: R) -> Result<Self> {
        let mut bytes = Vec::new();
        r.read_to_end(&mut bytes).map_err(|e| Error::io(None, e))?;
        let mut rest = &bytes[..];
        let mut line = |what: &str| -> Result<&str> {
            let end = memchr::memchr(b'\n', rest).ok_or_else(|| bad(format!("truncated in the header ({what})")))?;
            let (l, tail) = rest.split_at(end);
            rest = &tail[1..];
            core::str::from_utf8(l).map_err(|_| bad(format!("header line {what} is not text")))
        };
        if line("magic")? != MAGIC {
            return Err(bad("not a beaconstat tracker state"));
        }
        let version: u32 = field(line("version")?, "version")?;
        if version != TrackerState::VERSION {
            return Err(bad(format!(
                "version {version} (this build reads version {})",
                TrackerState::VERSION
            )));
        }
        let length: u64 = field(line("length")?, "length")?;
        // Exactly as written (16 lowercase digits): a changed letter case is corruption too.
        let hash = line("fnv1a64")?
            .strip_prefix("fnv1a64 ")
            .filter(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .ok_or_else(|| bad("bad fnv1a64 header line"))?;
        let payload = rest;
        if (payload.len() as u64) < length {
            return Err(bad(format!("truncated: {} of {length} payload bytes", payload.len())));
        }
        if payload.len() as u64 > length {
            return Err(bad(format!(
                "{} bytes after the {length}-byte payload",
                payload.len() as u64 - length
            )));
        }
        if fnv1a64(payload) != hash {
            return Err(bad("checksum mismatch: the file is corrupted"));
        }
        let state: TrackerState = serde_json::from_slice(payload).map_err(|e| bad(format!("payload: {e}")))?;
        BeaconTracker::from_state(cfg, state)
    }
}

/// `name <number>`.
fn field<T: core::str::FromStr>(line: &str, name: &str) -> Result<T> {
    line.strip_prefix(name)
        .and_then(|v| v.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| bad(format!("bad {name} header line {line:?}")))
}
