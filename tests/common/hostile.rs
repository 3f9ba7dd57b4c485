//! W4, the hostile workload: every event a new key, timestamps over the whole `i64` range, runs
//! of identical timestamps. Shared by `tests/hostile.rs` (the clear result, bounded memory) and
//! `benches/end_to_end.rs` (its cost), so both see the same input.
//!
//! - [`SINGLES`] keys `h0 … h999999` with one event each, at timestamps spread over
//!   `0..=i64::MAX` in scrambled order (`h0` at 0, `h1` at `i64::MAX`);
//! - `dup-periodic`: a 60 s beacon of [`DUP_BEATS`] check-ins, each logged [`DUP_COPIES`] times
//!   at the same microsecond;
//! - `dup-same`: [`DUP_RUN`] events all at `i64::MAX`;
//! - `dup-extremes`: [`DUP_RUN`] / 2 events at `i64::MIN` and as many at `i64::MAX`;
//! - `full-range`: [`FULL_RANGE`] events from `i64::MIN` to `i64::MAX`, evenly spaced with
//!   ±10% jitter (a "beacon" whose period is about 5.8 years).
#![allow(dead_code)]

use beaconstat::{ConnEvent, Timestamp};

/// Single-event keys.
pub const SINGLES: usize = 1_000_000;
/// Check-ins of `dup-periodic`.
pub const DUP_BEATS: usize = 200;
/// Copies of each `dup-periodic` check-in.
pub const DUP_COPIES: usize = 50;
/// Events of `dup-same` and of `dup-extremes`.
pub const DUP_RUN: usize = 10_000;
/// Events of `full-range`.
pub const FULL_RANGE: usize = 100_000;
/// The keys with many events, after the singles.
pub const SPECIAL: [&str; 4] = ["dup-periodic", "dup-same", "dup-extremes", "full-range"];
/// Every event.
pub const EVENTS: usize = SINGLES + DUP_BEATS * DUP_COPIES + 2 * DUP_RUN + FULL_RANGE;
/// Every key.
pub const KEYS: usize = SINGLES + SPECIAL.len();

/// The destination of every event (keys differ by source).
pub const DST: &str = "198.51.100.9";

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The source names: `h0 … h999999`, then [`SPECIAL`].
pub fn sources() -> Vec<String> {
    (0..SINGLES)
        .map(|i| format!("h{i}"))
        .chain(SPECIAL.iter().map(|s| s.to_string()))
        .collect()
}

/// `full-range`'s timestamps, in order, from `i64::MIN` to `i64::MAX`.
pub fn full_range_timestamps() -> Vec<i64> {
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let step = (u64::MAX / (FULL_RANGE as u64 - 1)) as i128;
    (0..FULL_RANGE)
        .map(|i| {
            let nominal = i64::MIN as i128 + i as i128 * step;
            let jitter = (rng.next() % (step as u64 / 5)) as i128 - step / 10;
            let t = match i {
                0 => i64::MIN as i128,
                _ if i == FULL_RANGE - 1 => i64::MAX as i128,
                _ => nominal + jitter,
            };
            t.clamp(i64::MIN as i128, i64::MAX as i128) as i64
        })
        .collect()
}

/// Every event of W4, over `sources()`, shuffled (a fixed seed: the same order every run).
pub fn events(sources: &[String]) -> Vec<ConnEvent<'_>> {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut ev = Vec::with_capacity(EVENTS);
    for (i, s) in sources[..SINGLES].iter().enumerate() {
        let t = match i {
            0 => 0,
            1 => i64::MAX,
            _ => (rng.next() >> 1) as i64,
        };
        ev.push(ConnEvent::new(Timestamp(t), s, DST));
    }
    let special = |name: &str| &sources[SINGLES + SPECIAL.iter().position(|s| *s == name).unwrap()];
    let start = 1_700_000_000_000_000i64;
    for b in 0..DUP_BEATS {
        for _ in 0..DUP_COPIES {
            ev.push(ConnEvent::new(
                Timestamp(start + b as i64 * 60_000_000),
                special("dup-periodic"),
                DST,
            ));
        }
    }
    for _ in 0..DUP_RUN {
        ev.push(ConnEvent::new(Timestamp(i64::MAX), special("dup-same"), DST));
    }
    for i in 0..DUP_RUN {
        let t = if i % 2 == 0 { i64::MIN } else { i64::MAX };
        ev.push(ConnEvent::new(Timestamp(t), special("dup-extremes"), DST));
    }
    for t in full_range_timestamps() {
        ev.push(ConnEvent::new(Timestamp(t), special("full-range"), DST));
    }
    // Fisher–Yates: keys and times arrive interleaved and out of order.
    for i in (1..ev.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        ev.swap(i, j);
    }
    ev
}
