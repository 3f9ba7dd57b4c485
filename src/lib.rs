//! # beaconstat
//!
//! Find command-and-control **beacons** (MITRE ATT&CK analytic AN1113: automated tools that
//! periodically call out) in connection logs, and explain each finding: the period, the jitter,
//! the missed check-ins, and a significance against random traffic.
//!
//! The crate is built from three pieces:
//! - **Zero-copy events**: [`ConnEvent<'a>`](ConnEvent) borrows its strings from the caller's
//!   buffer and is `Copy`; nothing is allocated per event.
//! - **Grouping**: a [`Grouper`] turns a stream of events into per-key series (by
//!   (src, dst), (src, dst, port), (host, process, dst), server name, or a key function),
//!   interning each key once; each [`Series`] is a pair of contiguous slices.
//! - **Scoring**: an [`Analyzer`], built once, scores many series and returns a
//!   [`BeaconReport`] per series, reusing its FFT plans and scratch buffers.
//!
//! Beacons behind proxies and rotating addresses are grouped by the **name** they asked for: a
//! [`NameResolver`](names::NameResolver) built from Zeek `dns.log`/`ssl.log`/`http.log` ([`NameLogReader`](read::NameLogReader)) names
//! each connection (by `uid`, proxy `CONNECT`, or DNS answer within its TTL) for
//! [`ConnEvent::with_name`] and [`GroupBy::SrcName`]; [`DnsChannels`](names::DnsChannels) scores DNS itself as a
//! channel, with tunnel evidence ([`DnsEvidence`](names::DnsEvidence)).
//!
//! ## Example: score a series
//! ```
//! use beaconstat::Analyzer;
//! // A 60 s beacon with ±10% jitter (timestamps in µs since the epoch).
//! let ts: Vec<i64> = (0..100).map(|i| 1_700_000_000_000_000 + i * 60_000_000 + (i * 7919 % 12_000_000) - 6_000_000).collect();
//! let mut analyzer = Analyzer::default();
//! let report = analyzer.score(&ts, None);
//! assert!(report.score > 0.8);
//! assert!((report.period.unwrap().as_secs_f64() - 60.0).abs() < 1.0);
//! println!("{}", report.explain()); // "100 check-ins every 60.0 s ±9% jitter; ..."
//! ```
//!
//! ## Example: group events, then score every pair
//! ```
//! use beaconstat::{Analyzer, ConnEvent, GroupBy, Grouper, Timestamp};
//! let mut grouper = Grouper::new(GroupBy::Pair);
//! for i in 0..50 {
//!     grouper.push(&ConnEvent::new(Timestamp::from_secs(300 * i), "10.0.0.7", "203.0.113.50"));
//!     grouper.push(&ConnEvent::new(Timestamp::from_secs(i * i * 17), "10.0.0.8", "198.51.100.2"));
//! }
//! let series = grouper.finish();
//! let mut analyzer = Analyzer::default();
//! let mut ranked: Vec<_> = series.iter().map(|s| (analyzer.score_series(&s), s.key().to_string())).collect();
//! ranked.sort_by(|a, b| b.0.score.total_cmp(&a.0.score));
//! assert_eq!(ranked[0].1, "10.0.0.7 -> 203.0.113.50");
//! ```
//!
//! ## How a series is scored
//! 1. **Beats.** Events closer than a small gap (5% of the series' 90th-percentile interval,
//!    at most 30 s) coalesce into one beat: a check-in that opens three connections is one beat.
//!    The gap must lie in a valley of the raw intervals (at most 5% of them within a factor of
//!    two of it), else nothing coalesces: merging inside a continuum of intervals carves
//!    regular-looking beats out of irregular traffic (a retry storm's quick retries).
//!    **Two time scales.** When the raw intervals split into two clusters (the widest ratio
//!    between neighbours, at least 2, with a tenth of them below), the beats of the outer scale
//!    are scored too and kept when they score as well, or are a beacon in their own right (0.5,
//!    and 0.8 of the inner score); the p-value is doubled for the two scales. This finds bursts
//!    of bursts (80 connections 0.1 s apart every 2 h: a 2 h beacon, with the burst size and
//!    spacing in [`BurstStats`](beacon::BurstStats)), fast beacons whose period is only a few times their burst
//!    width (a 5 s beacon opening 2–3 connections, ±50% jitter), and staging bursts before a
//!    few check-ins (three connections in a second, then six check-ins).
//! 2. **Interval comb fit** (the jitter-tolerant histogram). For each relative tolerance τ in a
//!    ladder (3% … 50%) the densest window of intervals gives a candidate period `P`; every
//!    interval within `τ·√k·P` of a multiple `k·P` is *explained* (`k − 1` check-ins missed).
//!    `P` is refit as the mean of explained intervals per period. The share a random process would
//!    put in the same windows (`chance`) comes from a Poisson model with the series' own mean and
//!    dead time, or a local-contrast model (the density around the peak), whichever is larger.
//!    Below ±20% the local background is read from the sidebands around the window (plus one
//!    pseudo-interval), not from the window itself: a tight cluster is not its own background,
//!    so six check-ins ±2% apart are evidence. Wider windows span what clustered non-periodic
//!    traffic spreads over (retries, clicks), and keep the whole neighbourhood as background.
//!    The binomial tail of the explained count against `chance`, corrected for the tolerances and
//!    window positions tried, is the interval p-value.
//! 3. **Periodogram** of the binned beats (bin width `P/8`, at most 16 bins per beat so the cost
//!    stays `O(n log n)`) with Fisher's g test against white noise (a binned Poisson process).
//! 4. **Autocorrelation**, from the same FFT, verifies the periodogram's top peaks (AUTOPERIOD):
//!    a peak whose lag is not on an ACF hill is a harmonic or noise. A verified period the
//!    interval fit missed gets its own comb fit; the better timing evidence wins.
//! 5. **Score** = `significance × size × max(timing, 0.9 × spectral)`, where
//!    - `timing` = `(explained − chance) / (1 − chance)` × `(1 − jitter)` (halved at ±50% jitter)
//!      × `(1 − missed/2)`. The jitter cost yields to evidence: beyond 10 decades of interval
//!      significance it shrinks as `10 / decades`. Jitter makes a short series ambiguous, but C2
//!      frameworks default to 10–50% jitter, and 950 check-ins ±25% at p ≈ 0 are no less a
//!      beacon than 30 tight ones;
//!    - `spectral` = the ACF at the period × Fisher's significance;
//!    - `significance` = `min(1, −log10(p) / 3)`, with `p = 2 · min(p_interval, p_fisher)`;
//!    - `size` = `1 − 0.2 · (1 − size regularity)` when byte counts are known, else 1.
//!
//!    Each factor is in `[0, 1]` and the score is monotone in each; the report carries them all.
//!    The explained share counts one pseudo-interval as unexplained (`explained / (m + 1)`):
//!    8 intervals that all fit give 0.89, 400 give 0.998, so with equal regularity more
//!    check-ins score higher. When under 90% of the intervals fit, the explanation starts with
//!    the unexplained share ("27% of intervals unexplained; …"): a regular core inside other
//!    traffic (a scanner, a shared service) is a different finding from a clean beacon, and the
//!    unexplained share already weighs on `timing` through the excess over chance.
//! 6. **Sleep changes** (change points). The CUSUM of the beat intervals in time order, once
//!    per series (`O(m)`), screens for a shift in the mean interval (standardised 3.5, the two
//!    sides' means 1.5× apart, 8 intervals each at least); only then does each side get its own
//!    comb fit. A split is kept when both sides are significant (p ≤ 0.01) with periods 1.3×
//!    apart, and each side is split again (up to [`MAX_SEGMENTS`](beacon::MAX_SEGMENTS)). The segments (period,
//!    jitter, span, p-value each) are in [`BeaconReport::segments`]; the score uses their
//!    combined evidence (Fisher's method, less `log10 m` decades per change point) where that
//!    beats the single fit, with the last segment's (the current) sleep as the period. One comb
//!    over a 5 s → 60 s change explains one sleep, or the other as missed check-ins.
//! 7. **Evasive schedules.** A series scoring under 0.5 is tested for sleeps built to beat
//!    regularity tests: Fibonacci sleeps (each interval the sum of the two before), exponential
//!    back-off (each interval `r ×` the one before, `r` the median growth ratio), and random
//!    times daily (the same count every whole UTC day). Chance comes from the series itself
//!    (the relation over quasi-random pairings of its intervals) or, for the daily count, from
//!    Poisson at its daily rate; the binomial tail, corrected for the three tests, gates the
//!    share in excess of chance. The winner is named in [`BeaconReport::schedule`] with no
//!    period: these are not fixed periods, and reporting one would mislead.
//! 8. **Ranking** ([`rank`]): the rank score multiplies the score by persistence (a series
//!    spanning under a tenth of its source's observed time is damped, but a strongly
//!    significant run at a plausible period keeps an evidence floor, so persistence never
//!    pushes a short real beacon below weak noise), fan-in or prevalence (a destination many
//!    sources or most local hosts reach) and the allowlist; each series carries its direction
//!    (local → external first) and every adjustment with its reason.
//!
//! On generated data (see `tests/periodicity.rs`) beacons from 1 s to 24 h, with up to ±50%
//! jitter (uniform, Gaussian, Cobalt-Strike style), 30% missed check-ins, bursts, working-hours
//! schedules and as few as 8 check-ins score above 0.5 with their period within 2–5%, while
//! Poisson, bursty-browsing and diurnal traffic of the same size stay below it; under a Poisson
//! null, `P(p < 0.05) ≤ 0.05`. On the labelled corpus of [`synth::Corpus`] (13 beacon habits,
//! 5 kinds of aperiodic traffic of the same sizes; `tests/evaluation.rs`, `examples/evaluate.rs`):
//! AUC 0.9998, TPR 0.994 at FPR 1e-3, period within 5% for 99% of the detected fixed-period
//! beacons, both segments found for every sleep change.
//!
//! ## Architecture
//! Data flows one way, from bytes to a ranked, explained answer:
//! ```text
//!  files, directories ─▶ read::Inputs ─▶ read::Reader (open: Zeek TSV/JSON, CSV, Windows
//!                                        │             event JSON, EVTX; plain or gzip)
//!                    ConnEvent<'_> ◀─────┤─────▶ winevent::WinRecord ─▶ winevent::decode
//!                        │  (borrowed)                                     │ task, process,
//!  names::NameResolver ─▶│                                                 ▼ network events
//!                        ▼                                      lineage::LineageBuilder
//!              series::Grouper ─▶ SeriesSet                                │
//!                        │                                                 ▼
//!              beacon::Analyzer / score_set ─▶ BeaconReport       lineage::Lineage
//!                        │                                                 │
//!                        ▼                                                 │
//!              rank::Ranker ─▶ Ranked (persistence, allowlist,             │
//!                        │      direction, fan-in: each adjustment kept)   │
//!                        └──────────────▶ an1113 (join, findings, coverage) ◀┘
//! ```
//! Who owns what:
//! - [`read`]: every input format behind one [`Reader`] and one [`ReadOptions`]; one
//!   [`ReadStats`] with typed [`SkipReason`]s; directory walking and format detection. What
//!   every reader stands on (the gzip-aware, length-capped line input, the options, the counts
//!   and skip reasons, the format names, the tabular column names) is one private layer under
//!   `read`, `winevent` and `arrow`, so those depend one way: `read` dispatches to the other two,
//!   which never import `read`.
//! - [`winevent`]: Windows event records (JSON shapes, EVTX) and their decoding into the
//!   events lineage and the join consume.
//! - [`series`]: keys, the one interner, the grouper and the series set.
//! - [`beacon`]: the periodicity engine (intervals, spectrum, segments, schedules, report).
//! - [`names`]: names for connections (DNS, TLS SNI, HTTP Host, proxies) and DNS channels.
//! - [`rank`]: from reports to a ranked list; [`allowlist`]: site rules it applies.
//! - [`lineage`]: scheduled-task lineage (AN0258): input collected, build stages over one
//!   context, an output model reached by methods.
//! - [`an1113`]: the join of beacons with processes and tasks, findings, coverage.
//! - [`synth`]: seeded generators for tests, examples and benchmarks (their streams are not
//!   part of the crate's contract).
//!
//! ## Panics and error handling
//! Nothing in this crate panics on data: any `&[i64]` can be scored (empty, one event, all
//! equal, the extremes of `i64`). Series too short to judge get [`Verdict::TooFew`] with score 0
//! and p-value 1. Configuration errors are returned by [`AnalyzerConfigBuilder::build`].
//!
//! ## Crate features
//! - `serde` (default): `Serialize`/`Deserialize` for events, keys, reports and configs.
//! - `parallel` (default): [`score_set`] scores a whole set over all cores with rayon, one
//!   analyzer per worker thread. Off, it scores on the calling thread.
//! - `evtx`: native `.evtx` files through the `evtx` crate (its command-line features off).
//! - `synth` (default): the [`synth`] module, seeded generators of beacons, benign traffic and
//!   whole Zeek logs, which the examples, tests and benches run on. A testing aid: what a seed
//!   generates may change between releases.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

pub mod allowlist;
pub mod an1113;
#[cfg(feature = "arrow")]
pub mod arrow;
pub mod beacon;
mod error;
mod event;
pub mod features;
mod input;
mod json;
pub mod lineage;
pub mod names;
pub mod rank;
pub mod read;
pub mod series;
#[cfg(feature = "datafusion")]
pub mod sql;
#[cfg(feature = "synth")]
pub mod synth;
#[cfg(test)]
mod tests;
mod threads;
pub mod time;
pub mod tracker;
pub mod winevent;

pub use beacon::{Analyzer, AnalyzerConfig, AnalyzerConfigBuilder, BeaconReport, Verdict, score_set};
pub use error::{Error, ErrorKind, Position, Result};
pub use event::{ConnEvent, ProcessRef, Proto};
pub use rank::{Ranked, RankedSeries, Ranker};
pub use read::{Format, ReadOptions, ReadStats, Reader, SkipReason, Skipped, open};
pub use series::{GroupBy, Grouper, Series, SeriesKey, SeriesSet};
pub use time::{Interval, Timestamp};

/// The README's examples, compiled and run as doctests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
