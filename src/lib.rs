//! # beaconstat
//!
//! Beacon (command-and-control periodicity) scoring and scheduled-task lineage over zero-copy
//! security events.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

mod allowlist;
mod beacon;
mod error;
mod event;
mod read;
mod series;
mod time;

pub use allowlist::{Action, Allowlist, AllowlistSummary, Rule};
pub use beacon::{AnalyzerConfig, AnalyzerConfigBuilder};
pub use error::{Error, ErrorKind, Position, Result};
pub use event::{ConnEvent, ProcessRef, Proto};
pub use read::{
    AnyReader, CsvReader, CsvReaderBuilder, CsvRecord, Format, ReadStats, SkipReason, Skipped, TimeFormat, ZeekHeader,
    ZeekJsonReader, ZeekJsonReaderBuilder, ZeekJsonRecord, ZeekReader, ZeekReaderBuilder, ZeekRecord, detect, open,
    open_with,
};
pub use series::{GroupBy, Grouper, KeyFn, Series, SeriesKey, SeriesSet, SizeField};
pub use time::{Interval, MICROS_PER_SEC, Timestamp};
