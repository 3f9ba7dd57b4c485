//! What the AN1113 join reports: one [`An1113Finding`] per (host, process or task,
//! destination), with the periodicity, the lineage chain, the evidence that the beacon is the
//! task's own behaviour, a severity with its reasons, and references to the raw records.

use crate::beacon::BeaconReport;
use crate::lineage::{CreationMethod, TaskRole};
use crate::rank::Direction;
use crate::time::{Interval, Timestamp};

/// Where a network event came from in the input: the file (as given to the builder) and the
/// record id (Windows `EventRecordID`) or line number, so an analyst can open the log there.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RecordRef {
    /// The file.
    pub file: String,
    /// The Windows event record id, where the record has one.
    pub record_id: Option<u64>,
    /// The line number (JSON lines, Zeek logs), where known.
    pub line: Option<u64>,
}

/// Which telemetry carried the connections of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum NetworkSource {
    /// Sysmon event 3.
    Sysmon3,
    /// Security 5156 (Windows Filtering Platform).
    Security5156,
    /// A host-level connection log (Zeek `conn.log`, CSV): no process identity.
    HostLevel,
}

/// How the beaconing connections were tied to a process (or a host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum JoinBasis {
    /// The connection names the process GUID (Sysmon).
    ProcessGuid,
    /// The connection names a PID, matched to the process with that PID alive at the time.
    PidAndTime,
    /// The connection names a process that is not in the process-creation data (started
    /// before it, or no process auditing): the instance is its GUID, else its PID and image.
    ProcessNotInData,
    /// Only host-level network data: joined by host address ↔ host name and time only.
    HostAndTime,
}

/// The process (instance) or task a finding is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FindingProcess {
    /// Image path as logged.
    pub image: Option<String>,
    /// PID.
    pub pid: Option<u32>,
    /// Sysmon process GUID.
    pub guid: Option<String>,
    /// Command line, where logged.
    pub command_line: Option<String>,
    /// Start time, where the process creation is in the data.
    pub started: Option<Timestamp>,
}

/// Where the beacon goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Destination {
    /// Address.
    pub addr: String,
    /// Port.
    pub port: Option<u16>,
    /// The name the process asked for (Sysmon 22), else the name the sensor logged
    /// (Sysmon 3 `DestinationHostname`, often a reverse-DNS name).
    pub name: Option<String>,
}

/// What launched the beaconing process, as far as the data goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Launcher {
    /// A run of a scheduled task the data identifies (or the process created one).
    ScheduledTask,
    /// The Schedule service (`svchost -s Schedule`, `taskeng.exe`, `taskhostw.exe`) with no
    /// task identified.
    TaskScheduler,
    /// A service (`services.exe`).
    Service,
    /// WMI (`WmiPrvSE.exe`).
    Wmi,
    /// A user session (`explorer.exe`, `userinit.exe`): started by the user or a Run key.
    UserSession,
    /// A process whose start is not in the data (it predates the logs): a long-lived
    /// background process.
    BackgroundProcess,
    /// The chain is in the data but ends in none of the above.
    Other,
}

/// One process of a lineage chain, the beaconing process first, then its ancestors.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ChainProcess {
    /// Image path.
    pub image: Option<String>,
    /// PID.
    pub pid: Option<u32>,
    /// Command line.
    pub command_line: Option<String>,
    /// Start time.
    pub started: Timestamp,
}

/// The scheduled task a beacon is tied to, as an analyst reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TaskSummary {
    /// `\Folder\Name`.
    pub name: String,
    /// How the beaconing process relates to it.
    pub role: TaskRole,
    /// How it was created.
    pub method: CreationMethod,
    /// The account that created it.
    pub creator_user: Option<String>,
    /// The creating process and its ancestors (image names), nearest first.
    pub creator_chain: Vec<String>,
    /// The creating process's command line.
    pub creator_command_line: Option<String>,
    /// When it was created (or first seen changed).
    pub created: Option<Timestamp>,
    /// The declared action (`command arguments`).
    pub action: Option<String>,
    /// The trigger's repetition or schedule interval.
    pub trigger_interval: Option<Interval>,
    /// The task's own outlier reasons (lineage findings), in words.
    pub task_reasons: Vec<String>,
    /// Runs seen.
    pub runs: usize,
}

/// The beaconing process's lineage.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LineageChain {
    /// What launched it.
    pub launcher: Launcher,
    /// The process and its ancestors in the data.
    pub processes: Vec<ChainProcess>,
    /// The logged parent image where the parent itself is not in the data.
    pub unresolved_parent: Option<String>,
    /// The task, where one is tied.
    pub task: Option<TaskSummary>,
}

/// The trigger's interval against the observed period.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PeriodMatch {
    /// The task's trigger interval.
    #[cfg_attr(feature = "serde", serde(rename = "trigger_s", with = "crate::time::secs"))]
    pub trigger: Interval,
    /// The observed period.
    #[cfg_attr(feature = "serde", serde(rename = "observed_s", with = "crate::time::secs"))]
    pub observed: Interval,
    /// `|observed − trigger| / trigger`.
    pub relative_error: f64,
    /// Within the tolerance of the configuration.
    pub matches: bool,
}

/// Task runs against the beacon's check-ins.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RunAlignment {
    /// Runs of the task during the beacon's active span.
    pub runs: usize,
    /// Of which followed by a check-in within the alignment window.
    pub runs_with_checkin: usize,
    /// Check-ins.
    pub checkins: usize,
    /// Of which preceded by a run within the window.
    pub checkins_after_run: usize,
}

/// Why the beacon is (or is not) the task's own behaviour.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TaskEvidence {
    /// Trigger interval vs observed period.
    pub period: Option<PeriodMatch>,
    /// Runs vs check-ins.
    pub runs: Option<RunAlignment>,
    /// The first check-in came after the task's creation (`None` when either is unknown).
    pub starts_after_creation: Option<bool>,
}

/// How urgent a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum SeverityLevel {
    /// Context only.
    Info,
    /// Worth a look.
    Low,
    /// Likely automation calling out; check the chain.
    Medium,
    /// Periodic external transmission tied to suspicious automation.
    High,
}

/// A severity with the reasons that made it, in words.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Severity {
    /// The level.
    pub level: SeverityLevel,
    /// The ranking score in `[0, 1]` the level comes from.
    pub score: f64,
    /// Each factor, in words (`"periodic: 0.91"`, `"tied to task \\Upd created by wscript.exe"`).
    pub reasons: Vec<String>,
}

/// One AN1113 finding: a process (or a host, for host-level data) calling a destination, its
/// periodicity, its lineage, and why it matters.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct An1113Finding {
    /// The host (computer name; the source address for host-level data without a name).
    pub host: String,
    /// The source address of the connections.
    pub src: String,
    /// The process instance (absent for host-level data).
    pub process: Option<FindingProcess>,
    /// Where it goes.
    pub destination: Destination,
    /// Local → external, …
    pub direction: Direction,
    /// Hosts in the data that reach this destination (address and port).
    pub prevalence: usize,
    /// Which telemetry.
    pub source: NetworkSource,
    /// How the connections were tied to a process.
    pub join: JoinBasis,
    /// For host-level data: how the source address was tied to the host, in words (`10.0.0.7
    /// was ws07.corp.example by its DHCP lease of … (MAC …), until …; dhcp.log line 12`, the
    /// source address of its Sysmon 3 / 5156 events, given by the caller), or why it is no
    /// host; `None` for connections with process identity.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub address_mapping: Option<String>,
    /// The series is every run of one task (each run launches a new process; `process` is the
    /// first run's), not one process instance.
    pub per_task: bool,
    /// The periodicity report of the connection times.
    pub report: BeaconReport,
    /// The lineage chain (for host-level data: the best candidate on that host, joined by host
    /// and time only).
    pub chain: Option<LineageChain>,
    /// Other candidates on the host for host-level data (processes and tasks whose lifetime
    /// covers the beacon), ranked; empty otherwise.
    pub host_candidates: Vec<String>,
    /// Evidence that the beacon is the task's own behaviour.
    pub evidence: TaskEvidence,
    /// Severity and reasons.
    pub severity: Severity,
    /// The first and last records of the connections (at most 10).
    pub references: Vec<RecordRef>,
    /// Every check-in time (not serialised: the report summarises them).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub checkins: Vec<Timestamp>,
}
