//! # beaconstat
//!
//! Beacon (command-and-control periodicity) scoring and scheduled-task lineage over zero-copy
//! security events.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

mod beacon;
mod error;
mod event;
mod series;
pub mod synth;
mod time;

pub use beacon::{
    Analyzer, AnalyzerConfig, AnalyzerConfigBuilder, BeaconReport, Evidence, Explanation, IntervalStats, PeriodSource,
    SizeStats, SpectralStats, SubScores, Verdict, human_secs,
};
pub use error::{Error, ErrorKind, Position, Result};
pub use event::{ConnEvent, ProcessRef, Proto};
pub use series::{GroupBy, Grouper, KeyFn, Series, SeriesKey, SeriesSet, SizeField};
pub use time::{Interval, MICROS_PER_SEC, Timestamp};
