//! # beaconstat
//!
//! Beacon (command-and-control periodicity) scoring and scheduled-task lineage over zero-copy
//! security events.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

mod beacon;
mod error;
mod event;
mod lineage;
mod series;
mod time;
mod winevent;

pub use beacon::{AnalyzerConfig, AnalyzerConfigBuilder};
pub use error::{Error, ErrorKind, Position, Result};
pub use event::{ConnEvent, ProcessRef, Proto};
pub use lineage::{
    EvidenceEvent, EvidenceKind, Principal, ProcessEvent, ProcessSource, TaskAction, TaskDefinition, TaskEvent,
    TaskEventKind, Trigger, TriggerKind, parse_iso_duration, parse_logon_id,
};
pub use series::{GroupBy, Grouper, KeyFn, Series, SeriesKey, SeriesSet, SizeField};
pub use time::{Interval, MICROS_PER_SEC, Timestamp};
#[cfg(feature = "evtx")]
pub use winevent::EvtxReader;
pub use winevent::{
    ReadStats, Shape, Skip, WinEventReader, WinRecord, parse_pid, read_windows_events, sysmon_conn_event,
};
