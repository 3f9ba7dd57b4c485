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
//!
//! ## Hashing attacker-chosen keys
//! Keys are addresses and names from the network, so whoever sends the traffic chooses them.
//! The grouper's key hash (a few folded 64×64→128-bit multiplies per key, wyhash/foldhash
//! style) is keyed by a seed each grouper draws from the process's random hasher state: the
//! hashes of given keys differ from grouper to grouper and cannot be computed in advance, so
//! no fixed key set collides. `hash::flood_tests` feeds a million keys from families built to
//! break weak hashes (one word varied, lengths alone, one string cut at every place into src
//! and dst, ports alone, long keys differing in one chunk) and checks that no table bucket
//! holds more keys than random hashes would put there: probes, and so grouping, stay linear.
//! The streaming tracker, which keeps keys for months, uses std's SipHash-1-3 instead (a keyed
//! PRF; see [`tracker`](crate::tracker)).
//!
//! One file per concept:
//! - `key`: what a series is keyed by ([`SeriesKey`], [`GroupBy`], [`SizeField`]);
//! - `intern`: the crate's one interner (series keys here, names in `names`): the key storage
//!   a grouper fills and a finished set keeps;
//! - `hash`: the seeded key hash and the short-string compare the key store uses;
//! - `columns`: the push-order columns and the counting sort out of them;
//! - `grouper`: the [`Grouper`] itself;
//! - `set`: the finished [`SeriesSet`] and each [`Series`].

mod columns;
mod concat;
mod grouper;
mod hash;
mod intern;
mod key;
mod set;

pub use grouper::{Grouper, KeyId};
pub use key::{GroupBy, KeyFn, SeriesKey, SizeField};
pub use set::{Series, SeriesSet};

pub(crate) use intern::{Interner, Span};
