//! What telemetry lineage saw, what is missing or not joinable, and where clocks disagree.

use super::taskxml::TaskXmlError;
use crate::error::Position;
use crate::time::Interval;
use crate::winevent::TimeSource;

/// A host whose logged times (`TimeCreated`, or NXLog's zone-less `EventTime`) disagree with
/// Sysmon `UtcTime`, or whose collector's times lag the events' own.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ClockReport {
    /// The host.
    pub host: String,
    /// The logged time field this report is about (and the correction applies to).
    pub source: TimeSource,
    /// Median `UtcTime` minus the logged time over the host's Sysmon records (`None` without
    /// Sysmon: the correction then comes from the collector's times).
    pub median_skew: Option<Interval>,
    /// The correction added to the logged times of this field (the offset rounded to 15 min;
    /// zero if within the tolerance).
    pub correction: Interval,
    /// Sysmon records compared.
    pub samples: u64,
    /// Records whose own skew differs from the median by more than the tolerance (e.g.
    /// Sysmon 3 `UtcTime` hours off on some builds).
    pub disagreeing: u64,
    /// Median collector time (`@timestamp` of a Logstash export) minus the corrected event
    /// time: how late the collector stamps records. Its times are not used.
    pub collector_lag: Option<Interval>,
    /// Records with a collector time compared.
    pub collector_samples: u64,
}

/// A task definition (the XML of a 4698/4702) that could not be parsed: the record it came
/// in, and why, with the byte offset of the problem in the XML. The task itself is kept (its
/// name, its life); only this definition is not used.
///
/// # Example
/// ```
/// use beaconstat::lineage::{LineageBuilder, TaskXmlErrorKind};
/// use beaconstat::winevent::WinRecord;
/// let mut rec = WinRecord::new();
/// rec.parse_str(r#"{"EventID":4698,"Channel":"Security","Hostname":"H","RecordNumber":7,
///   "TimeCreated":"2021-06-10T21:21:26Z","TaskName":"\\T","TaskContent":"<Task><Actions></Oops></Task>"}"#)?;
/// let mut b = LineageBuilder::new();
/// b.input("security.json").push_record(&rec);
/// let lin = b.build();
/// let s = &lin.skipped_definitions[0];
/// assert_eq!((s.task.as_deref(), s.event_id, s.record_id), (Some(r"\T"), 4698, Some(7)));
/// assert!(matches!(s.error.kind(), TaskXmlErrorKind::Malformed { .. }));
/// assert_eq!(s.error.offset(), 15);
/// assert!(s.to_string().starts_with("security.json: H Security 4698 (record 7) task \\T: task XML at byte 15: "));
/// assert_eq!(lin.coverage.definitions_skipped, 1);
/// assert!(lin.task("H", r"\T").unwrap().definition.is_none());
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct SkippedDefinition {
    /// The host.
    pub host: String,
    /// The task the record names.
    pub task: Option<String>,
    /// The event id (4698, 4702).
    pub event_id: u32,
    /// The record's `EventRecordID` / `RecordNumber`.
    pub record_id: Option<u64>,
    /// The input it was read from, as named to [`LineageBuilder::input`](super::LineageBuilder::input).
    pub input: Option<String>,
    /// The record's line and byte in that input (line 0 for EVTX).
    pub position: Position,
    /// Why, with the byte offset of the problem in the XML.
    pub error: TaskXmlError,
}

impl core::fmt::Display for SkippedDefinition {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if let Some(i) = &self.input {
            write!(f, "{i}")?;
            if self.position.line > 0 {
                write!(f, " {}", self.position)?;
            }
            f.write_str(": ")?;
        }
        let chan = if self.event_id >= 4000 {
            "Security"
        } else {
            "TaskScheduler"
        };
        write!(f, "{} {chan} {}", self.host, self.event_id)?;
        if let Some(r) = self.record_id {
            write!(f, " (record {r})")?;
        }
        if let Some(t) = &self.task {
            write!(f, " task {t}")?;
        }
        write!(f, ": {}", self.error)
    }
}

/// A gap in the telemetry that limits what lineage can say.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum CoverageGap {
    /// No scheduled-task events at all (4698–4702, TaskScheduler/Operational).
    NoTaskEvents,
    /// No TaskScheduler/Operational events: runs have no instance ids or engine PIDs.
    NoTaskSchedulerOperational,
    /// No process-creation events at all.
    NoProcessEvents,
    /// No Sysmon 1: processes have no GUIDs; runs are tied by PID and time only.
    NoSysmon1,
    /// Process events without command lines (4688 auditing without command line).
    MissingCommandLines {
        /// Events without a command line.
        without: u64,
        /// All process events.
        total: u64,
    },
    /// No network events (Sysmon 3): beacons cannot be tied to processes from this data.
    NoNetworkEvents,
    /// Network events without process identity.
    MissingNetworkProcess {
        /// Events without image/GUID/PID.
        without: u64,
        /// All network events.
        total: u64,
    },
    /// Task definitions that could not be parsed (listed with their records and reasons in
    /// [`Lineage::skipped_definitions`](super::Lineage::skipped_definitions)).
    UnparsedDefinitions {
        /// How many.
        count: u64,
    },
    /// Task events that name no task (no `TaskName`, no `<URI>` in their XML): counted, not
    /// tied to any task.
    UnnamedTaskEvents {
        /// How many.
        count: u64,
    },
    /// A host's logged times are not UTC (see the clock report): corrected.
    ClockDisagreement {
        /// The host.
        host: String,
        /// The logged time field concerned.
        source: TimeSource,
        /// The measured offset (median `UtcTime`, else collector time, minus the logged time).
        skew: Interval,
    },
}

impl core::fmt::Display for CoverageGap {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CoverageGap::NoTaskEvents => f.write_str("no scheduled-task events (4698-4702, TaskScheduler/Operational)"),
            CoverageGap::NoTaskSchedulerOperational => {
                f.write_str("no TaskScheduler/Operational events: runs have no instance id or engine PID")
            }
            CoverageGap::NoProcessEvents => f.write_str("no process-creation events: runs cannot be tied to processes"),
            CoverageGap::NoSysmon1 => f.write_str("no Sysmon 1: no process GUIDs, runs tied by PID and time only"),
            CoverageGap::MissingCommandLines { without, total } => {
                write!(f, "{without} of {total} process events have no command line")
            }
            CoverageGap::NoNetworkEvents => {
                f.write_str("no Sysmon 3 network events: beacons cannot be tied to processes")
            }
            CoverageGap::MissingNetworkProcess { without, total } => {
                write!(f, "{without} of {total} network events have no process identity")
            }
            CoverageGap::UnparsedDefinitions { count } => {
                write!(
                    f,
                    "{count} task definitions could not be parsed (skipped, with their reasons)"
                )
            }
            CoverageGap::UnnamedTaskEvents { count } => write!(f, "{count} task events name no task"),
            CoverageGap::ClockDisagreement { host, source, skew } => {
                let field = source.as_str();
                match source {
                    TimeSource::LocalTime => write!(f, "{host}: {field} is local time, {skew} from UTC (corrected)"),
                    _ => write!(f, "{host}: {field} differs from UTC by {skew} (corrected)"),
                }
            }
        }
    }
}

/// What telemetry was seen, and what is missing or not joinable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TelemetryCoverage {
    /// Records pushed.
    pub records: u64,
    /// Records ignored as duplicates (same host, channel, record id).
    pub duplicates: u64,
    /// Task events (Security 4698–4702 + TaskScheduler/Operational).
    pub task_events: u64,
    /// Of which TaskScheduler/Operational.
    pub task_scheduler_events: u64,
    /// Sysmon 1 events.
    pub sysmon1: u64,
    /// Security 4688 events.
    pub security4688: u64,
    /// Process events with a command line.
    pub with_command_line: u64,
    /// 4688 events merged into the Sysmon 1 of the same process (host, image, PID and parent
    /// PID where both name them, starts within 2 s): one process each.
    pub merged_4688: u64,
    /// Task definitions (4698/4702 XML) that could not be parsed, each listed in
    /// [`Lineage::skipped_definitions`](super::Lineage::skipped_definitions).
    pub definitions_skipped: u64,
    /// Sysmon 3 events.
    pub network_events: u64,
    /// Of which with a process identity.
    pub network_with_process: u64,
    /// Task events that name no task (neither `TaskName` nor an XML `<URI>`).
    pub unnamed_task_events: u64,
    /// Supporting evidence records (Sysmon 7/11/12/13, 5145, 4624 type 3, 4104).
    pub evidence: u64,
    /// Sysmon 7 of a process's own executable: the signer of that process (counted apart
    /// from `evidence`).
    pub image_signatures: u64,
    /// The gaps, each explained by its `Display`.
    pub gaps: Vec<CoverageGap>,
}

impl TelemetryCoverage {
    /// Adds `o`'s counts and gaps to these (the coverage of both inputs together).
    pub(crate) fn add(&mut self, o: TelemetryCoverage) {
        // Destructured so that a new count cannot be left out.
        let TelemetryCoverage {
            records,
            duplicates,
            task_events,
            task_scheduler_events,
            sysmon1,
            security4688,
            with_command_line,
            merged_4688,
            definitions_skipped,
            network_events,
            network_with_process,
            unnamed_task_events,
            evidence,
            image_signatures,
            gaps,
        } = o;
        self.records += records;
        self.duplicates += duplicates;
        self.task_events += task_events;
        self.task_scheduler_events += task_scheduler_events;
        self.sysmon1 += sysmon1;
        self.security4688 += security4688;
        self.with_command_line += with_command_line;
        self.merged_4688 += merged_4688;
        self.definitions_skipped += definitions_skipped;
        self.network_events += network_events;
        self.network_with_process += network_with_process;
        self.unnamed_task_events += unnamed_task_events;
        self.evidence += evidence;
        self.image_signatures += image_signatures;
        self.gaps.extend(gaps);
    }

    /// Adds the gaps these counts show (after any clock gaps already listed): missing task
    /// events first, then processes, command lines and network events.
    pub(crate) fn add_count_gaps(&mut self) {
        let nproc = self.sysmon1 + self.security4688;
        if self.task_events == 0 {
            self.gaps.insert(0, CoverageGap::NoTaskEvents);
        } else if self.task_scheduler_events == 0 {
            self.gaps.insert(0, CoverageGap::NoTaskSchedulerOperational);
        }
        if self.definitions_skipped > 0 {
            self.gaps.push(CoverageGap::UnparsedDefinitions {
                count: self.definitions_skipped,
            });
        }
        if self.unnamed_task_events > 0 {
            self.gaps.push(CoverageGap::UnnamedTaskEvents {
                count: self.unnamed_task_events,
            });
        }
        if nproc == 0 {
            self.gaps.push(CoverageGap::NoProcessEvents);
        } else {
            if self.sysmon1 == 0 {
                self.gaps.push(CoverageGap::NoSysmon1);
            }
            if self.with_command_line < nproc {
                self.gaps.push(CoverageGap::MissingCommandLines {
                    without: nproc - self.with_command_line,
                    total: nproc,
                });
            }
        }
        if self.network_events == 0 {
            self.gaps.push(CoverageGap::NoNetworkEvents);
        } else if self.network_with_process < self.network_events {
            self.gaps.push(CoverageGap::MissingNetworkProcess {
                without: self.network_events - self.network_with_process,
                total: self.network_events,
            });
        }
    }
}
