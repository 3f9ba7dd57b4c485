//! What lineage reconstructs, as a user reads it: per host, each [`ScheduledTask`] with its
//! creation, definition, life and [`TaskRun`]s, and the host's [`ProcessTree`].

use super::coverage::{ClockReport, SkippedDefinition, TelemetryCoverage};
use super::process::{ProcessId, ProcessLink, ProcessTree};
use super::reason::TaskFinding;
use super::taskxml::TaskDefinition;
use crate::time::{Interval, Timestamp};
use crate::winevent::TaskEventKind;

/// How a task came to exist, as decided from the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum CreationMethod {
    /// `schtasks.exe /Create` (its command line seen).
    Schtasks,
    /// `at.exe`.
    At,
    /// The Task Scheduler COM API (taskschd.dll loaded, or 4698 from a non-schtasks client).
    ComApi,
    /// PowerShell ScheduledTasks cmdlets (4104, or a PowerShell client process).
    PowerShell,
    /// Over RPC from another host (locality 0 / client PID 0, 5145 `atsvc`, 4624 type 3).
    Remote,
    /// Only TaskCache registry writes: no 4698/106 and no tool seen (hidden-task technique).
    RegistryOnly,
    /// A built-in task that was only seen running.
    PreExisting,
    /// Not decidable from the telemetry.
    Unknown,
}

/// A point in a task's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum LifeKind {
    /// Created (4698, 106, `schtasks /create`, `at`).
    Created,
    /// Updated (4702, 140, `schtasks /change`).
    Updated,
    /// Deleted (4699, 141, `schtasks /delete`).
    Deleted,
    /// Enabled (4700).
    Enabled,
    /// Disabled (4701, 142).
    Disabled,
    /// Its file under `System32\Tasks` was written (Sysmon 11).
    FileWritten,
    /// Its TaskCache keys were written (Sysmon 12/13).
    RegistryWritten,
    /// Its TaskCache security descriptor was deleted or `Index` set to 0 (hides the task).
    RegistryHidden,
    /// A run was requested (`schtasks /run`, 110).
    RunRequested,
}

/// One dated event in a task's life: what, when, which record said so, and — where the
/// telemetry tells — who (account and logon session), from where (the 4624 network logon of
/// that session, or the host a `schtasks /S` ran on) and how (the process).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct LifeEvent {
    /// When (clock-corrected).
    pub ts: Timestamp,
    /// What.
    pub what: LifeKind,
    /// Which record said so (`Security 4698`, `schtasks /create`, `Sysmon 11`).
    pub source: String,
    /// The account (`DOMAIN\user`).
    pub user: Option<String>,
    /// Its logon session.
    pub logon_id: Option<u64>,
    /// Done over the network (a network logon, RPC from another host, `schtasks /S`).
    pub remote: bool,
    /// The remote address or host, where known.
    pub remote_source: Option<String>,
    /// The process that did it (the `ClientProcessId`'s, the `schtasks` process, the
    /// registry writer), possibly on another host, when it is in the data.
    pub process: Option<ProcessLink>,
    /// That process's image as logged (also when the process itself is not in the data).
    pub image: Option<String>,
}

impl LifeEvent {
    /// A life event with nothing known of who did it.
    pub fn new(ts: Timestamp, what: LifeKind, source: impl Into<String>) -> Self {
        LifeEvent {
            ts,
            what,
            source: source.into(),
            user: None,
            logon_id: None,
            remote: false,
            remote_source: None,
            process: None,
            image: None,
        }
    }

    /// Who and from where, in words (`by CORP\eve (logon 0x1234) from 10.0.0.5`), empty when
    /// nothing is known; the process is in [`LifeEvent::process`].
    ///
    /// # Example
    /// ```
    /// use beaconstat::Timestamp;
    /// use beaconstat::lineage::{LifeEvent, LifeKind};
    /// let mut e = LifeEvent::new(Timestamp::from_secs(0), LifeKind::Deleted, "Security 4699");
    /// e.user = Some(r"CORP\eve".into());
    /// e.logon_id = Some(0x1234);
    /// e.remote_source = Some("10.0.0.5".into());
    /// assert_eq!(e.who(), r"by CORP\eve (logon 0x1234) from 10.0.0.5");
    /// ```
    pub fn who(&self) -> String {
        let mut s = String::new();
        if let Some(u) = &self.user {
            s.push_str("by ");
            s.push_str(u);
        }
        if let Some(l) = self.logon_id {
            s.push_str(&format!("{}(logon {l:#x})", if s.is_empty() { "" } else { " " }));
        }
        match (&self.remote_source, self.remote) {
            (Some(r), _) => s.push_str(&format!("{}from {r}", if s.is_empty() { "" } else { " " })),
            (None, true) => s.push_str(&format!("{}remotely", if s.is_empty() { "" } else { " " })),
            _ => {}
        }
        s
    }
}

/// Who created (or last changed) a task, how, and the evidence that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TaskCreation {
    /// The method.
    pub method: CreationMethod,
    /// Why, one line per piece of evidence.
    pub evidence: Vec<String>,
    /// The account (`DOMAIN\user`).
    pub user: Option<String>,
    /// The creating logon session.
    pub logon_id: Option<u64>,
    /// The creating process (possibly on another host for `schtasks /S`).
    pub process: Option<ProcessLink>,
    /// True when created over the network.
    pub remote: bool,
    /// The remote source address, where known.
    pub remote_source: Option<String>,
    /// No creation was seen, only a change (4702, 140, `schtasks /change`): the fields above
    /// describe who changed the task, and how.
    pub by_update: bool,
}

/// Where a task's definition came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum DefinitionSource {
    /// The task XML of 4698/4702.
    Xml,
    /// Implied by a `schtasks /create` / `at` command line.
    CommandLine,
}

/// One run of a task: TaskScheduler events joined by instance id and engine PID, and the
/// process it launched with that process's descendants.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TaskRun {
    /// `InstanceId` / `TaskInstanceId`.
    pub instance_id: Option<String>,
    /// What triggered it (107/108/110), where logged.
    pub trigger: Option<TaskEventKind>,
    /// TaskScheduler event ids of this run, in time order.
    pub events: Vec<u32>,
    /// First event or launch (clock-corrected).
    pub started: Option<Timestamp>,
    /// 102 / 201 time.
    pub ended: Option<Timestamp>,
    /// The engine process (129 `ProcessID` = 200 `EnginePID`).
    pub engine_pid: Option<u32>,
    /// 129 `Path`.
    pub path: Option<String>,
    /// 200 `ActionName`.
    pub action_name: Option<String>,
    /// 201 `ResultCode`.
    pub result_code: Option<String>,
    /// The launched process (in the host's tree).
    pub launched: Option<ProcessId>,
    /// How the launched process was tied to the run.
    pub join: Option<String>,
    /// The launched process and all its descendants, parents before children.
    pub processes: Vec<ProcessId>,
    /// For a run tied to no task ([`HostLineage::unattributed_runs`]): the tasks of the host
    /// that could have launched it, best first (action matching the image, then nearest).
    pub candidates: Vec<RunCandidate>,
}

/// A task that could have launched a run tied to no task: registered, changed or asked to run
/// shortly before the process started.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct RunCandidate {
    /// The task's name.
    pub task: String,
    /// What happened to it before the run (created, updated, run requested).
    pub after: LifeKind,
    /// How long before the process started.
    pub gap: Interval,
    /// The task's declared action names the process's image.
    pub action_matches: bool,
}

/// A scheduled task on one host: creation, definition, life, runs and findings.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ScheduledTask {
    /// `\Folder\Name` as first seen.
    pub name: String,
    /// Under `\Microsoft\Windows\` and not created or changed in the data: baseline.
    pub builtin: bool,
    /// How it was created (or changed, when only a change was seen).
    pub creation: TaskCreation,
    /// The latest definition seen.
    pub definition: Option<TaskDefinition>,
    /// Where the definition came from.
    pub definition_source: Option<DefinitionSource>,
    /// The expected period (shortest enabled repetition / daily / weekly interval).
    pub period: Option<Interval>,
    /// Dated life events, in time order.
    pub life: Vec<LifeEvent>,
    /// First creation.
    pub created: Option<Timestamp>,
    /// Deletion.
    pub deleted: Option<Timestamp>,
    /// Created and deleted within [`LineageConfig::short_lived`](super::LineageConfig::short_lived).
    pub short_lived: bool,
    /// Hidden (XML `<Hidden>`, or TaskCache SD deletion / `Index` 0).
    pub hidden: bool,
    /// Runs, in time order.
    pub runs: Vec<TaskRun>,
    /// Outlier findings with their reasons (empty for built-in tasks).
    pub findings: Vec<TaskFinding>,
}

impl ScheduledTask {
    /// How suspicious the task is: the sum of its findings' weights
    /// ([`TaskReason::weight`](super::TaskReason::weight)), 0 for a task with no finding. A
    /// count of reasons, not a probability (unlike a beacon report's score in `[0, 1]`).
    pub fn suspicion(&self) -> u32 {
        self.findings.iter().map(|f| f.reason.weight()).sum()
    }
}

/// Everything reconstructed on one host.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HostLineage {
    /// The computer name as logged.
    pub host: String,
    /// Tasks in order of first appearance.
    pub tasks: Vec<ScheduledTask>,
    /// Processes in start order.
    pub processes: ProcessTree,
    /// Runs launched by the Schedule service that could not be tied to a task.
    pub unattributed_runs: Vec<TaskRun>,
    /// Processes whose logged parent is not in the data (reported, not guessed).
    pub unresolved_parents: Vec<ProcessId>,
}

/// Scheduled-task lineage of all hosts seen (queries in [`Lineage::host`] and below).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Lineage {
    /// Per host, in order of first appearance.
    pub hosts: Vec<HostLineage>,
    /// Telemetry coverage.
    pub coverage: TelemetryCoverage,
    /// Hosts with clock disagreements.
    pub clocks: Vec<ClockReport>,
    /// Task definitions that could not be parsed, with their records and reasons, in time
    /// order (counted in [`TelemetryCoverage::definitions_skipped`]).
    pub skipped_definitions: Vec<SkippedDefinition>,
}
