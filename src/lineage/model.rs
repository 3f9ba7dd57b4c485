//! The lineage model: tasks per host with their creation, definition, life, runs and the
//! processes they launched; built by [`LineageBuilder`] from Windows records.

use super::cmdline::normalize_task_name;
use super::events::{EvidenceEvent, EvidenceKind, ProcessEvent, ProcessSource, TaskEvent, TaskEventKind};
use super::score::{self, Finding};
use super::taskxml::TaskDefinition;
use crate::event::{ConnEvent, Proto};
use crate::time::{Interval, Timestamp};
use crate::winevent::{WinRecord, sysmon_conn_event};
use std::collections::HashMap;

/// Windows used when joining events. All are configurable; defaults in brackets.
///
/// # Example
/// ```
/// use beaconstat::{Interval, LineageConfig};
/// let c = LineageConfig { short_lived: Interval::from_secs(60), ..LineageConfig::default() };
/// assert_eq!(c.run_window, Interval::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LineageConfig {
    /// A launched process must start within this of its run's first event [10 s].
    pub run_window: Interval,
    /// Creator evidence (schtasks, taskschd.dll load, 4104, 5145, 4624) must be within this
    /// before the task event [120 s].
    pub creator_window: Interval,
    /// Created and deleted within this = short-lived [10 min].
    pub short_lived: Interval,
    /// Repetition intervals at or below this are flagged [5 min].
    pub short_repetition: Interval,
    /// A host whose `TimeCreated` differs from Sysmon `UtcTime` by more than this (median over
    /// Sysmon records) is reported and corrected, rounded to 15 minutes [60 s].
    pub clock_tolerance: Interval,
}

impl Default for LineageConfig {
    fn default() -> Self {
        LineageConfig {
            run_window: Interval::from_secs(10),
            creator_window: Interval::from_secs(120),
            short_lived: Interval::from_secs(600),
            short_repetition: Interval::from_secs(300),
            clock_tolerance: Interval::from_secs(60),
        }
    }
}

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

/// One dated event in a task's life, with its source.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LifeEvent {
    /// When (clock-corrected).
    pub ts: Timestamp,
    /// What.
    pub what: LifeKind,
    /// Which record said so (`Security 4698`, `schtasks /create`, `Sysmon 11`).
    pub source: String,
}

/// A reference to a process of some host's [`HostLineage::processes`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProcessLink {
    /// The host.
    pub host: String,
    /// Index into that host's processes.
    pub index: usize,
}

/// Who created (or last changed) a task, how, and the evidence that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Creation {
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

/// A network connection attached to a process (from Sysmon 3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Connection {
    /// When (Sysmon `UtcTime`).
    pub ts: Timestamp,
    /// Source address.
    pub src: String,
    /// Destination address.
    pub dst: String,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// Protocol.
    pub proto: Proto,
    /// `DestinationHostname`.
    pub name: Option<String>,
}

/// A process seen on a host (Sysmon 1 or 4688; a 4688 duplicating a Sysmon 1 is merged).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Process {
    /// Start time (clock-corrected).
    pub ts: Timestamp,
    /// Which event.
    pub source: ProcessSource,
    /// PID.
    pub pid: Option<u32>,
    /// Sysmon GUID.
    pub guid: Option<String>,
    /// Image path.
    pub image: Option<String>,
    /// Command line.
    pub command_line: Option<String>,
    /// User.
    pub user: Option<String>,
    /// Parent PID.
    pub parent_pid: Option<u32>,
    /// Parent GUID.
    pub parent_guid: Option<String>,
    /// Parent image.
    pub parent_image: Option<String>,
    /// Parent command line.
    pub parent_command_line: Option<String>,
    /// The parent's index, when it is in the data (by GUID, else PID + time).
    pub parent: Option<usize>,
    /// Children's indices.
    pub children: Vec<usize>,
    /// Network connections it made.
    pub connections: Vec<Connection>,
    /// Logon session (`LogonId` / `SubjectLogonId` or `TargetLogonId`).
    pub logon_id: Option<u64>,
    /// `IntegrityLevel` (Sysmon) or `MandatoryLabel` (4688).
    pub integrity_level: Option<String>,
    /// `Hashes` (Sysmon).
    pub hashes: Option<String>,
}

impl Process {
    /// The image's file name.
    pub fn image_name(&self) -> Option<&str> {
        self.image.as_deref().map(file_name)
    }
}

/// One run of a task: TaskScheduler events joined by instance id and engine PID, and the
/// process it launched with that process's descendants.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Run {
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
    /// The launched process (index into the host's processes).
    pub launched: Option<usize>,
    /// How the launched process was tied to the run.
    pub join: Option<String>,
    /// The launched process and all its descendants, parents before children.
    pub processes: Vec<usize>,
}

/// A scheduled task on one host: creation, definition, life, runs and findings.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Task {
    /// `\Folder\Name` as first seen.
    pub name: String,
    /// Under `\Microsoft\Windows\` and not created or changed in the data: baseline.
    pub builtin: bool,
    /// How it was created (or changed, when only a change was seen).
    pub creation: Creation,
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
    /// Created and deleted within [`LineageConfig::short_lived`].
    pub short_lived: bool,
    /// Hidden (XML `<Hidden>`, or TaskCache SD deletion / `Index` 0).
    pub hidden: bool,
    /// Runs, in time order.
    pub runs: Vec<Run>,
    /// Outlier findings with their reasons (empty for built-in tasks).
    pub findings: Vec<Finding>,
}

impl Task {
    /// Sum of the findings' weights.
    pub fn score(&self) -> u32 {
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
    pub tasks: Vec<Task>,
    /// Processes in start order.
    pub processes: Vec<Process>,
    /// Runs launched by the Schedule service that could not be tied to a task.
    pub unattributed_runs: Vec<Run>,
    /// Processes whose logged parent is not in the data (reported, not guessed).
    pub unresolved_parents: Vec<usize>,
}

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
pub struct Coverage {
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

/// The key of a process in [`Lineage::task_for_process`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessKey<'a> {
    /// Sysmon `ProcessGuid`.
    Guid(&'a str),
    /// Process id (the process alive at the given time).
    Pid(u32),
    /// Image path or file name (`powershell.exe`; the latest such process started at or before
    /// the given time). Where telemetry has no GUID or PID.
    Image(&'a str),
}

impl<'a> From<&'a str> for ProcessKey<'a> {
    fn from(g: &'a str) -> Self {
        ProcessKey::Guid(g)
    }
}

impl From<u32> for ProcessKey<'_> {
    fn from(p: u32) -> Self {
        ProcessKey::Pid(p)
    }
}

/// How a process relates to the task found for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum TaskRole {
    /// Launched by a run of the task.
    Launched,
    /// A descendant of a process launched by a run.
    Descendant,
    /// The process that created the task.
    Creator,
    /// An ancestor of the creating process (e.g. the `mshta.exe` that ran `schtasks.exe`).
    CreatorAncestor,
}

/// The answer of [`Lineage::task_for_process`].
#[derive(Debug, Clone, Copy)]
pub struct TaskLink<'l> {
    /// The host's lineage.
    pub host: &'l HostLineage,
    /// The task.
    pub task: &'l Task,
    /// The run, for launched processes and descendants.
    pub run: Option<&'l Run>,
    /// The process asked about.
    pub process: &'l Process,
    /// How it relates to the task.
    pub role: TaskRole,
}

impl TaskLink<'_> {
    /// The task's expected period (its repetition interval), for the beacon join.
    pub fn period(&self) -> Option<Interval> {
        self.task.period
    }

    /// How the task was created.
    pub fn method(&self) -> CreationMethod {
        self.task.creation.method
    }

    /// The account that created (or last changed) the task.
    pub fn creator_user(&self) -> Option<&str> {
        self.task.creation.user.as_deref()
    }

    /// When the task was first created (or first seen changed).
    pub fn created(&self) -> Option<Timestamp> {
        self.task.created.or_else(|| {
            self.task
                .life
                .iter()
                .find(|l| matches!(l.what, LifeKind::Created | LifeKind::Updated))
                .map(|l| l.ts)
        })
    }

    /// The remote source of the creation, where it was remote.
    pub fn remote_source(&self) -> Option<&str> {
        self.task.creation.remote_source.as_deref()
    }
}

/// Scheduled-task lineage of all hosts seen.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Lineage {
    /// Per host, in order of first appearance.
    pub hosts: Vec<HostLineage>,
    /// Telemetry coverage.
    pub coverage: Coverage,
    /// Hosts with clock disagreements.
    pub clocks: Vec<ClockReport>,
}

impl Lineage {
    /// A host's lineage by name (case-insensitive; a bare name matches its FQDN).
    pub fn host(&self, host: &str) -> Option<&HostLineage> {
        self.hosts.iter().find(|h| host_eq(&h.host, host))
    }

    /// A task by host and name (case-insensitive; `Name` and `\Name` are the same).
    pub fn task(&self, host: &str, name: &str) -> Option<&Task> {
        let n = normalize_task_name(name);
        self.host(host)?.tasks.iter().find(|t| t.name.eq_ignore_ascii_case(&n))
    }

    /// All tasks with their hosts.
    pub fn tasks(&self) -> impl Iterator<Item = (&HostLineage, &Task)> {
        self.hosts.iter().flat_map(|h| h.tasks.iter().map(move |t| (h, t)))
    }

    /// For a process that beacons: which task launched it (itself or an ancestor launched by a
    /// run), or which task it created. `time` picks among processes that reused a PID (the
    /// latest started at or before `time`); GUIDs ignore it.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{LineageBuilder, WinRecord};
    /// let mut b = LineageBuilder::new();
    /// let mut rec = WinRecord::new();
    /// rec.parse_str(r#"{"EventID":4698,"Channel":"Security","Hostname":"H","TimeCreated":"2021-01-01T00:00:00Z",
    ///   "TaskName":"\\t","TaskContent":"<Task><Actions><Exec><Command>evil.exe</Command></Exec></Actions></Task>"}"#)?;
    /// b.push_record(&rec);
    /// rec.parse_str(r#"{"EventID":4688,"Channel":"Security","Hostname":"H","TimeCreated":"2021-01-01T00:00:01Z",
    ///   "NewProcessId":"0x10","NewProcessName":"C:\\evil.exe","ProcessId":"0x4",
    ///   "ParentProcessName":"C:\\Windows\\System32\\svchost.exe"}"#)?;
    /// b.push_record(&rec);
    /// let lin = b.build();
    /// let link = lin.task_for_process("H", 16u32, beaconstat::Timestamp::from_secs(1_609_459_300)).unwrap();
    /// assert_eq!(link.task.name, r"\t");
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn task_for_process<'k>(
        &self,
        host: &str,
        key: impl Into<ProcessKey<'k>>,
        time: Timestamp,
    ) -> Option<TaskLink<'_>> {
        let h = self.host(host)?;
        let key = key.into();
        let idx = match key {
            ProcessKey::Guid(g) => h
                .processes
                .iter()
                .position(|p| p.guid.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(g)))?,
            ProcessKey::Pid(pid) => h
                .processes
                .iter()
                .enumerate()
                .filter(|(_, p)| p.pid == Some(pid) && p.ts <= time)
                .max_by_key(|(_, p)| p.ts)
                .map(|(i, _)| i)?,
            ProcessKey::Image(img) => {
                let want = file_name(img);
                h.processes
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.ts <= time && p.image_name().is_some_and(|n| n.eq_ignore_ascii_case(want)))
                    .max_by_key(|(_, p)| p.ts)
                    .map(|(i, _)| i)?
            }
        };
        let process = &h.processes[idx];
        // Walk up: the process itself, then its ancestors.
        let mut cur = Some(idx);
        let mut depth = 0;
        while let Some(i) = cur {
            for t in &h.tasks {
                for r in &t.runs {
                    if r.launched == Some(i) {
                        return Some(TaskLink {
                            host: h,
                            task: t,
                            run: Some(r),
                            process,
                            role: if depth == 0 {
                                TaskRole::Launched
                            } else {
                                TaskRole::Descendant
                            },
                        });
                    }
                }
            }
            depth += 1;
            if depth > 64 {
                break;
            }
            cur = h.processes[i].parent;
        }
        // The creator of a task (on this host or, for schtasks /S, another), or its ancestor.
        for other in &self.hosts {
            for t in &other.tasks {
                let chain = self.creator_chain(t);
                if let Some(pos) = chain.iter().position(|(ch, i)| host_eq(&ch.host, &h.host) && *i == idx) {
                    return Some(TaskLink {
                        host: other,
                        task: t,
                        run: None,
                        process,
                        role: if pos == 0 {
                            TaskRole::Creator
                        } else {
                            TaskRole::CreatorAncestor
                        },
                    });
                }
            }
        }
        None
    }

    /// [`Lineage::task_for_process`] for a connection's host and process (GUID, else PID,
    /// else image), at the connection's time. `None` when the connection names no host or
    /// process, or no task is tied to it.
    pub fn task_for_conn(&self, c: &ConnEvent<'_>) -> Option<TaskLink<'_>> {
        let host = c.host?;
        let p = c.process?;
        let key = match (p.guid, p.pid, p.image) {
            (Some(g), _, _) => ProcessKey::Guid(g),
            (None, Some(pid), _) => ProcessKey::Pid(pid),
            (None, None, Some(i)) => ProcessKey::Image(i),
            _ => return None,
        };
        self.task_for_process(host, key, c.ts)
    }

    /// The task's creating process followed by its ancestors (as far as the data goes), each
    /// with its host.
    pub fn creator_chain(&self, task: &Task) -> Vec<(&HostLineage, usize)> {
        let mut out = Vec::new();
        let Some(pl) = &task.creation.process else {
            return out;
        };
        let Some(h) = self.host(&pl.host) else {
            return out;
        };
        let mut cur = Some(pl.index);
        while let Some(i) = cur {
            if i >= h.processes.len() || out.iter().any(|(_, j)| *j == i) || out.len() > 64 {
                break;
            }
            out.push((h, i));
            cur = h.processes[i].parent;
        }
        out
    }

    /// Network connections made by the task's creator chain (see [`Lineage::creator_chain`]).
    pub fn creator_connections(&self, task: &Task) -> Vec<&Connection> {
        self.creator_chain(task)
            .into_iter()
            .flat_map(|(h, i)| h.processes[i].connections.iter())
            .collect()
    }

    /// Network connections made by the processes of the task's runs.
    pub fn run_connections<'l>(
        &'l self,
        host: &'l HostLineage,
        task: &'l Task,
    ) -> impl Iterator<Item = &'l Connection> {
        task.runs
            .iter()
            .flat_map(|r| r.processes.iter())
            .filter_map(|&i| host.processes.get(i))
            .flat_map(|p| p.connections.iter())
    }
}

pub(crate) fn host_eq(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let short = |s: &str| s.split('.').next().unwrap_or(s).to_ascii_lowercase();
    (!a.contains('.') || !b.contains('.')) && short(a) == short(b)
}

pub(crate) fn file_name(p: &str) -> &str {
    p.rsplit(['\\', '/']).next().unwrap_or(p)
}

// ---------------------------------------------------------------------------------------------
// Builder: owned copies of the events, then reconstruction.

#[derive(Debug, Clone)]
pub(crate) struct RawTask {
    pub(crate) host: usize,
    pub(crate) ts: Timestamp,
    pub(crate) kind: TaskEventKind,
    pub(crate) event_id: u32,
    pub(crate) name: Option<String>,
    pub(crate) def: Option<Result<TaskDefinition, String>>,
    pub(crate) user: Option<String>,
    pub(crate) logon_id: Option<u64>,
    pub(crate) client_pid: Option<u32>,
    pub(crate) rpc_locality: Option<u32>,
    pub(crate) instance_id: Option<String>,
    pub(crate) engine_pid: Option<u32>,
    pub(crate) path: Option<String>,
    pub(crate) action_name: Option<String>,
    pub(crate) result_code: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawEvidence {
    pub(crate) host: usize,
    pub(crate) ts: Timestamp,
    pub(crate) sysmon: bool,
    pub(crate) kind: EvidenceKind,
    pub(crate) task_name: Option<String>,
    pub(crate) image: Option<String>,
    pub(crate) guid: Option<String>,
    pub(crate) pid: Option<u32>,
    pub(crate) target: Option<String>,
    pub(crate) detail: Option<String>,
    pub(crate) value_name: Option<String>,
    pub(crate) user: Option<String>,
    pub(crate) logon_id: Option<u64>,
    pub(crate) ip: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawConn {
    pub(crate) host: usize,
    pub(crate) conn: Connection,
    pub(crate) guid: Option<String>,
    pub(crate) pid: Option<u32>,
}

/// Collects Windows records and reconstructs scheduled-task lineage.
///
/// Feed it every record of every file ([`LineageBuilder::push_record`]), then
/// [`LineageBuilder::build`]. Records are copied (owned) as they are pushed, so the caller's
/// [`WinRecord`] can be reused.
///
/// # How the pieces are joined
///
/// * **Clocks.** Per host, the median of Sysmon `UtcTime - TimeCreated` is measured; beyond
///   [`LineageConfig::clock_tolerance`] it is rounded to 15 minutes and added to every
///   non-Sysmon time of that host (exports that write local time labelled UTC). Records whose
///   own skew is far from the median (Sysmon 3 on some builds) are counted, not corrected.
/// * **Processes.** Sysmon 1 and 4688 of the same process (host, PID, image, ±2 s) are merged.
///   Parents: by `ParentProcessGuid`; where there is no GUID, the latest process with the parent
///   PID started before the child. Unresolved parents are listed, never guessed.
/// * **Tasks** are keyed by host and name (case-insensitive). Life events come from
///   4698–4702, 106/140/141/142, `schtasks`/`at` command lines (`/S` targets another host),
///   Sysmon 11 files and TaskCache values (`Id`/`Index` name a task; SD deletion or `Index` 0
///   hide it). The definition is the latest task XML, else the command line's.
/// * **Creation method**, first match wins: a `schtasks`/`at` process within
///   [`LineageConfig::creator_window`] before the registration; the 4698 `ClientProcessId`
///   (schtasks / PowerShell / other = COM); remote evidence (client PID 0 with locality 0,
///   4624 type 3 on the `SubjectLogonId`, 5145 `atsvc`); PowerShell 4104; a `taskschd.dll`
///   load; TaskCache writes only. Remote evidence also sets `remote` and the source address.
/// * **Runs.** TaskScheduler events are grouped by instance id (129 by engine PID or time);
///   the launched process is the engine PID's process within [`LineageConfig::run_window`].
///   Processes whose parent is `svchost -s Schedule` or `taskeng.exe`, or whose parent is
///   unknown, become runs of the task whose declared action they match right after a
///   registration, or of the task last asked to run (`schtasks /run`); launched by the Schedule
///   service but matching nothing, they are reported in [`HostLineage::unattributed_runs`].
///   Each run carries the sentence that justified the join.
///
/// # Example
/// ```
/// use beaconstat::{CreationMethod, LineageBuilder, WinRecord};
/// let lines = [
///   r#"{"EventID":4698,"Channel":"Security","Hostname":"H","TimeCreated":"2021-06-10T21:21:26.38Z","SubjectUserName":"admmig","SubjectDomainName":"OFFSEC","TaskName":"\\bou","TaskContent":"<Task><Settings><Hidden>true</Hidden></Settings><Actions><Exec><Command>cmd.exe</Command></Exec></Actions></Task>","ClientProcessId":"0","RpcCallClientLocality":"0"}"#,
///   r#"{"EventID":4699,"Channel":"Security","Hostname":"H","TimeCreated":"2021-06-10T21:21:26.41Z","TaskName":"\\bou"}"#,
/// ];
/// let mut b = LineageBuilder::new();
/// let mut rec = WinRecord::new();
/// for l in lines { rec.parse_str(l)?; b.push_record(&rec); }
/// let lin = b.build();
/// let t = lin.task("H", r"\bou").unwrap();
/// assert_eq!(t.creation.method, CreationMethod::Remote);
/// assert!(t.hidden && t.short_lived);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct LineageBuilder {
    pub(crate) config: LineageConfig,
    pub(crate) host_ix: HashMap<String, usize>,
    pub(crate) hosts: Vec<String>,
    pub(crate) procs: Vec<(usize, Process)>,
    pub(crate) tasks: Vec<RawTask>,
    pub(crate) evidence: Vec<RawEvidence>,
    pub(crate) conns: Vec<RawConn>,
    pub(crate) skews: Vec<Vec<i64>>,
    pub(crate) coverage: Coverage,
    pub(crate) baseline: Option<score::Baseline>,
    pub(crate) seen: std::collections::HashSet<(usize, String, u64)>,
}

fn own(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

impl LineageBuilder {
    /// A builder with default windows.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with these windows.
    pub fn with_config(config: LineageConfig) -> Self {
        LineageBuilder {
            config,
            ..Self::default()
        }
    }

    /// Scores rarity against a saved baseline instead of only the data pushed here.
    pub fn baseline(&mut self, b: score::Baseline) -> &mut Self {
        self.baseline = Some(b);
        self
    }

    fn host(&mut self, h: &str) -> usize {
        let key = h.to_ascii_lowercase();
        if let Some(&i) = self.host_ix.get(&key) {
            return i;
        }
        let i = self.hosts.len();
        self.hosts.push(h.to_owned());
        self.skews.push(Vec::new());
        self.host_ix.insert(key, i);
        i
    }

    /// Takes whatever a record holds: a task event, a process creation, a Sysmon 3 connection,
    /// supporting evidence; other records only count towards coverage.
    ///
    /// A record already pushed (same host, channel and record id, e.g. from overlapping
    /// exports) is ignored and counted in [`Coverage::duplicates`].
    pub fn push_record(&mut self, rec: &WinRecord) {
        if let (Some(h), Some(id)) = (rec.computer(), rec.record_id()) {
            let hi = self.host(h);
            let chan = rec.channel().unwrap_or("").to_ascii_lowercase();
            if !self.seen.insert((hi, chan, id)) {
                self.coverage.duplicates += 1;
                return;
            }
        }
        self.coverage.records += 1;
        if rec.is_sysmon()
            && let (Some(h), Some(skew)) = (rec.computer(), rec.clock_skew())
        {
            let hi = self.host(h);
            self.skews[hi].push(skew.as_micros());
        }
        if let Some(t) = TaskEvent::from_record(rec) {
            self.push_task(&t);
        } else if let Some(p) = ProcessEvent::from_record(rec) {
            self.push_process(&p);
        } else if let Some(c) = sysmon_conn_event(rec) {
            self.push_conn(&c);
        } else if let Some(e) = EvidenceEvent::from_record(rec) {
            self.push_evidence(&e, rec.is_sysmon());
        }
    }

    /// Adds a task event.
    pub fn push_task(&mut self, t: &TaskEvent<'_>) {
        self.coverage.task_events += 1;
        if t.kind.is_run() || (t.event_id >= 100 && t.event_id < 300) {
            self.coverage.task_scheduler_events += 1;
        }
        let host = self.host(t.host);
        let user = match (t.subject_domain, t.subject_user) {
            (Some(d), Some(u)) => Some(format!("{d}\\{u}")),
            (None, Some(u)) => Some(u.to_owned()),
            _ => own(t.user_context),
        };
        self.tasks.push(RawTask {
            host,
            ts: t.ts,
            kind: t.kind,
            event_id: t.event_id,
            name: t.task_name.map(normalize_task_name),
            def: t.xml.map(|x| TaskDefinition::parse(x).map_err(|e| e.to_string())),
            user,
            logon_id: t.subject_logon_id,
            client_pid: t.client_pid,
            rpc_locality: t.rpc_locality,
            instance_id: own(t.instance_id),
            engine_pid: t.engine_pid,
            path: own(t.path),
            action_name: own(t.action_name),
            result_code: own(t.result_code),
        });
    }

    /// Adds a process creation.
    pub fn push_process(&mut self, p: &ProcessEvent<'_>) {
        match p.source {
            ProcessSource::Sysmon1 => self.coverage.sysmon1 += 1,
            ProcessSource::Security4688 => self.coverage.security4688 += 1,
        }
        if p.command_line.is_some() {
            self.coverage.with_command_line += 1;
        }
        let host = self.host(p.host);
        let user = match (p.domain, p.user) {
            (Some(d), Some(u)) => Some(format!("{d}\\{u}")),
            (_, u) => own(u),
        };
        self.procs.push((
            host,
            Process {
                ts: p.ts,
                source: p.source,
                pid: p.pid,
                guid: own(p.guid),
                image: own(p.image),
                command_line: own(p.command_line),
                user,
                parent_pid: p.parent_pid,
                parent_guid: own(p.parent_guid),
                parent_image: own(p.parent_image),
                parent_command_line: own(p.parent_command_line),
                parent: None,
                children: Vec::new(),
                connections: Vec::new(),
                logon_id: p.logon_id,
                integrity_level: own(p.integrity_level),
                hashes: own(p.hashes),
            },
        ));
    }

    /// Adds a network connection (only connections with a host and process are joinable).
    pub fn push_conn(&mut self, c: &ConnEvent<'_>) {
        self.coverage.network_events += 1;
        let p = c.process.unwrap_or_default();
        if p.image.is_some() || p.guid.is_some() || p.pid.is_some() {
            self.coverage.network_with_process += 1;
        }
        let Some(h) = c.host else { return };
        let host = self.host(h);
        self.conns.push(RawConn {
            host,
            conn: Connection {
                ts: c.ts,
                src: c.src.to_owned(),
                dst: c.dst.to_owned(),
                dst_port: c.dst_port,
                proto: c.proto,
                name: own(c.name),
            },
            guid: own(p.guid),
            pid: p.pid,
        });
    }

    /// Adds supporting evidence. `sysmon` says whether its time is Sysmon `UtcTime` (not
    /// clock-corrected) or `TimeCreated` (corrected like task events).
    pub fn push_evidence(&mut self, e: &EvidenceEvent<'_>, sysmon: bool) {
        self.coverage.evidence += 1;
        let host = self.host(e.host);
        self.evidence.push(RawEvidence {
            host,
            ts: e.ts,
            sysmon,
            kind: e.kind,
            task_name: e.task_name(),
            image: own(e.process.image),
            guid: own(e.process.guid),
            pid: e.process.pid,
            target: own(e.target),
            detail: own(e.detail),
            value_name: own(e.value_name()),
            user: own(e.user),
            logon_id: e.logon_id,
            ip: own(e.ip),
        });
    }

    /// Reconstructs the lineage.
    pub fn build(self) -> Lineage {
        super::build::build(self)
    }
}
