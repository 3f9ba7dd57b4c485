//! What telemetry lineage saw, what is missing or not joinable, and where clocks disagree.

use crate::time::Interval;

/// A host whose `TimeCreated` disagrees with Sysmon `UtcTime`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClockReport {
    /// The host.
    pub host: String,
    /// Median `UtcTime - TimeCreated` over its Sysmon records.
    pub median_skew: Interval,
    /// The correction added to non-Sysmon times (median rounded to 15 min; zero if within
    /// tolerance).
    pub correction: Interval,
    /// Sysmon records compared.
    pub samples: u64,
    /// Records whose own skew differs from the median by more than the tolerance (e.g.
    /// Sysmon 3 `UtcTime` hours off on some builds).
    pub disagreeing: u64,
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
    /// A host's clocks disagree (see the clock report).
    ClockDisagreement {
        /// The host.
        host: String,
        /// The median skew.
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
            CoverageGap::ClockDisagreement { host, skew } => {
                write!(
                    f,
                    "{host}: TimeCreated differs from Sysmon UtcTime by {skew} (corrected)"
                )
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
    /// Sysmon 3 events.
    pub network_events: u64,
    /// Of which with a process identity.
    pub network_with_process: u64,
    /// Supporting evidence records (Sysmon 7/11/12/13, 5145, 4624 type 3, 4104).
    pub evidence: u64,
    /// The gaps, each explained by its `Display`.
    pub gaps: Vec<CoverageGap>,
}

impl TelemetryCoverage {
    /// Adds the gaps these counts show (after any clock gaps already listed): missing task
    /// events first, then processes, command lines and network events.
    pub(crate) fn add_count_gaps(&mut self) {
        let nproc = self.sysmon1 + self.security4688;
        if self.task_events == 0 {
            self.gaps.insert(0, CoverageGap::NoTaskEvents);
        } else if self.task_scheduler_events == 0 {
            self.gaps.insert(0, CoverageGap::NoTaskSchedulerOperational);
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
