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
    Baseline, ClockReport, Connection, Coverage, CoverageGap, Creation, CreationMethod, DefinitionSource,
    EvidenceEvent, EvidenceKind, Finding, HostLineage, LifeEvent, LifeKind, Lineage, LineageBuilder, LineageConfig,
    Principal, Process, ProcessEvent, ProcessKey, ProcessLink, ProcessSource, Reason, Run, SchtasksCommand,
    SchtasksVerb, Task, TaskAction, TaskDefinition, TaskEvent, TaskEventKind, TaskLink, TaskRole, Trigger, TriggerKind,
    command_line_shape, parse_iso_duration, parse_logon_id, split_command_line,
};
pub use series::{GroupBy, Grouper, KeyFn, Series, SeriesKey, SeriesSet, SizeField};
pub use time::{Interval, MICROS_PER_SEC, Timestamp};
#[cfg(feature = "evtx")]
pub use winevent::EvtxReader;
pub use winevent::{
    WinEventReader, WinReadStats, WinRecord, WinShape, WinSkip, parse_pid, read_windows_events, sysmon_conn_event,
};
