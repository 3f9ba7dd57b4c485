//! Decoding of Windows records into the borrowed events the analytics use: scheduled-task
//! events (Security 4698–4702, TaskScheduler/Operational), process creations (Sysmon 1,
//! Security 4688) and supporting evidence (Sysmon 7/11/12/13, Security 5145/4624, PowerShell
//! 4104). Each decoder reads one [`WinRecord`] and borrows from it.

use super::known::Name;
use super::record::RecordView;
use super::record::{TimeSource, WinRecord, parse_pid};
use crate::event::ProcessRef;
use crate::time::Timestamp;

/// What a task event says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum TaskEventKind {
    /// Security 4698: a scheduled task was created.
    Created,
    /// Security 4702: a scheduled task was updated (`TaskContentNew`).
    Updated,
    /// Security 4699: a scheduled task was deleted.
    Deleted,
    /// Security 4700: a scheduled task was enabled.
    Enabled,
    /// Security 4701: a scheduled task was disabled.
    Disabled,
    /// TaskScheduler 106: task registered.
    Registered,
    /// TaskScheduler 140: task registration updated.
    RegistrationUpdated,
    /// TaskScheduler 141: task registration deleted.
    RegistrationDeleted,
    /// TaskScheduler 142: task disabled.
    RegistrationDisabled,
    /// TaskScheduler 107: launched on a time trigger.
    TimeTriggered,
    /// TaskScheduler 108: launched on an event trigger.
    EventTriggered,
    /// TaskScheduler 110: launched manually (or by `schtasks /run`).
    ManuallyTriggered,
    /// TaskScheduler 129: created the task process (`Path`, `ProcessID`).
    ProcessCreated,
    /// TaskScheduler 100: run started (`InstanceId`).
    RunStarted,
    /// TaskScheduler 102: run finished (`InstanceId`).
    RunCompleted,
    /// TaskScheduler 200: action started (`ActionName`, `TaskInstanceId`, `EnginePID`).
    ActionStarted,
    /// TaskScheduler 201: action completed (`ResultCode`).
    ActionCompleted,
}

impl TaskEventKind {
    /// From a channel flag and an event id.
    pub fn from_ids(security: bool, task_scheduler: bool, id: u32) -> Option<Self> {
        use TaskEventKind::*;
        Some(match (security, task_scheduler, id) {
            (true, _, 4698) => Created,
            (true, _, 4702) => Updated,
            (true, _, 4699) => Deleted,
            (true, _, 4700) => Enabled,
            (true, _, 4701) => Disabled,
            (_, true, 106) => Registered,
            (_, true, 140) => RegistrationUpdated,
            (_, true, 141) => RegistrationDeleted,
            (_, true, 142) => RegistrationDisabled,
            (_, true, 107) => TimeTriggered,
            (_, true, 108) => EventTriggered,
            (_, true, 110) => ManuallyTriggered,
            (_, true, 129) => ProcessCreated,
            (_, true, 100) => RunStarted,
            (_, true, 102) => RunCompleted,
            (_, true, 200) => ActionStarted,
            (_, true, 201) => ActionCompleted,
            _ => return None,
        })
    }

    /// True for events that belong to one run of a task (107/108/110/129/100/102/200/201).
    pub fn is_run(self) -> bool {
        use TaskEventKind::*;
        matches!(
            self,
            TimeTriggered
                | EventTriggered
                | ManuallyTriggered
                | ProcessCreated
                | RunStarted
                | RunCompleted
                | ActionStarted
                | ActionCompleted
        )
    }
}

/// A scheduled-task event (Security 4698–4702, TaskScheduler/Operational), borrowed from its
/// record.
///
/// # Example
/// ```
/// use beaconstat::winevent::WinRecord;
/// use beaconstat::winevent::{TaskEvent, TaskEventKind};
/// let mut rec = WinRecord::new();
/// rec.parse_str(r#"{"EventID":200,"Channel":"Microsoft-Windows-TaskScheduler/Operational",
///   "Hostname":"WS5","TimeCreated":"2020-12-19T07:50:26.112Z","TaskName":"\\T",
///   "ActionName":"A","TaskInstanceId":"{0503ac85}","EnginePID":"1532"}"#)?;
/// let ev = TaskEvent::from_record(&rec).unwrap();
/// assert_eq!(ev.kind, TaskEventKind::ActionStarted);
/// assert_eq!((ev.task_name, ev.instance_id, ev.engine_pid), (Some(r"\T"), Some("{0503ac85}"), Some(1532)));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskEvent<'a> {
    /// What happened.
    pub kind: TaskEventKind,
    /// The Windows event id.
    pub event_id: u32,
    /// The event's own time as logged ([`WinRecord::event_time`]; see the lineage's clock
    /// report for exports that mislabel it).
    pub ts: Timestamp,
    /// Which field `ts` came from.
    pub time_source: TimeSource,
    /// The record's `EventRecordID` / `RecordNumber`.
    pub record_id: Option<u64>,
    /// The computer.
    pub host: &'a str,
    /// `TaskName` (`\Folder\Name`).
    pub task_name: Option<&'a str>,
    /// The task XML (`TaskContent` / `TaskContentNew`), possibly escaped once more.
    pub xml: Option<&'a str>,
    /// `SubjectUserName`.
    pub subject_user: Option<&'a str>,
    /// `SubjectDomainName`.
    pub subject_domain: Option<&'a str>,
    /// `SubjectUserSid`.
    pub subject_sid: Option<&'a str>,
    /// `SubjectLogonId` (hex in the log).
    pub subject_logon_id: Option<u64>,
    /// `ClientProcessId` (4698 version 1+).
    pub client_pid: Option<u32>,
    /// `ParentProcessId` (4698 version 1+).
    pub parent_pid: Option<u32>,
    /// `ClientProcessStartKey`.
    pub client_start_key: Option<&'a str>,
    /// `RpcCallClientLocality` (0 with client PID 0 = created over RPC from another host).
    pub rpc_locality: Option<u32>,
    /// `FQDN`.
    pub fqdn: Option<&'a str>,
    /// `InstanceId` / `TaskInstanceId`, else the record's correlation `ActivityID`.
    pub instance_id: Option<&'a str>,
    /// `ActionName` (200/201).
    pub action_name: Option<&'a str>,
    /// The engine process id: `EnginePID` (200/201) or `ProcessID` (129).
    pub engine_pid: Option<u32>,
    /// `Path` (129): the launched image (`taskhostw.exe`, or the action's command).
    pub path: Option<&'a str>,
    /// `ResultCode` (201).
    pub result_code: Option<&'a str>,
    /// `UserContext` / `UserName`.
    pub user_context: Option<&'a str>,
}

impl<'a> TaskEvent<'a> {
    /// Builds a task event from a Security 4698–4702 or TaskScheduler/Operational record;
    /// `None` for anything else or when the time or host is missing.
    pub fn from_record(rec: &'a WinRecord) -> Option<TaskEvent<'a>> {
        Self::from_view(&RecordView::new(rec))
    }

    /// [`TaskEvent::from_record`] of a record whose times may be decoded already.
    pub(crate) fn from_view(v: &RecordView<'a>) -> Option<TaskEvent<'a>> {
        let rec = v.rec;
        let id = rec.event_id()?;
        let kind = TaskEventKind::from_ids(rec.is_security(), rec.is_task_scheduler(), id)?;
        let time = v.event_time()?;
        let host = rec.computer()?;
        let d = |k: Name| rec.field_opt(k);
        let engine_pid = match kind {
            TaskEventKind::ProcessCreated => d(Name::Message)
                .and_then(pid_from_message)
                .or_else(|| d(Name::ProcessID).and_then(parse_pid)),
            _ => d(Name::EnginePID).and_then(parse_pid),
        };
        Some(TaskEvent {
            kind,
            event_id: id,
            ts: time.ts,
            time_source: time.source,
            record_id: v.record_id(),
            host,
            task_name: d(Name::TaskName),
            xml: d(Name::TaskContent).or_else(|| d(Name::TaskContentNew)),
            subject_user: d(Name::SubjectUserName),
            subject_domain: d(Name::SubjectDomainName),
            subject_sid: d(Name::SubjectUserSid),
            subject_logon_id: d(Name::SubjectLogonId).and_then(parse_logon_id),
            client_pid: d(Name::ClientProcessId).and_then(parse_pid),
            parent_pid: d(Name::ParentProcessId).and_then(parse_pid),
            client_start_key: d(Name::ClientProcessStartKey),
            rpc_locality: d(Name::RpcCallClientLocality).and_then(|v| v.parse().ok()),
            fqdn: d(Name::FQDN),
            instance_id: d(Name::InstanceId)
                .or_else(|| d(Name::TaskInstanceId))
                .or_else(|| if kind.is_run() { rec.activity_id() } else { None }),
            action_name: d(Name::ActionName),
            engine_pid,
            path: d(Name::Path),
            result_code: d(Name::ResultCode),
            user_context: d(Name::UserContext).or_else(|| d(Name::UserName)),
        })
    }
}

/// `... with process ID 1532.` in a TaskScheduler 129 message.
fn pid_from_message(m: &str) -> Option<u32> {
    let i = m.find("process ID ")?;
    let rest = &m[i + "process ID ".len()..];
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A logon id as Windows writes it (`0x3e7`) or decimal.
///
/// # Example
/// ```
/// use beaconstat::winevent::parse_logon_id;
/// assert_eq!(parse_logon_id("0x3e7"), Some(999));
/// assert_eq!(parse_logon_id(" 999 "), Some(999));
/// assert_eq!(parse_logon_id("-"), None);
/// ```
pub fn parse_logon_id(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Where a process event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum ProcessSource {
    /// Sysmon event 1 (GUIDs, UTC time, parent command line, hashes).
    Sysmon1,
    /// Security 4688 (hex PIDs; command line only when auditing includes it).
    Security4688,
}

/// A process creation (Sysmon 1 or Security 4688), borrowed from its record, PIDs normalised.
///
/// # Example
/// ```
/// use beaconstat::winevent::WinRecord;
/// use beaconstat::winevent::ProcessEvent;
/// let mut rec = WinRecord::new();
/// rec.parse_str(r#"{"EventID":4688,"Channel":"Security","Hostname":"FS01",
///   "TimeCreated":"2021-06-10T21:21:26.39Z","NewProcessId":"0x3d0",
///   "NewProcessName":"C:\\Windows\\System32\\cmd.exe","ProcessId":"0x414",
///   "ParentProcessName":"C:\\Windows\\System32\\svchost.exe","CommandLine":"cmd.exe /C whoami"}"#)?;
/// let p = ProcessEvent::from_record(&rec).unwrap();
/// assert_eq!((p.pid, p.parent_pid), (Some(976), Some(1044)));
/// assert_eq!(p.image, Some(r"C:\Windows\System32\cmd.exe"));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessEvent<'a> {
    /// Sysmon 1 or Security 4688.
    pub source: ProcessSource,
    /// Start time: Sysmon `UtcTime`, else the event's own time ([`WinRecord::event_time`]).
    pub ts: Timestamp,
    /// Which field `ts` came from.
    pub time_source: TimeSource,
    /// `TimeCreated` as logged (compare with `ts` for clock disagreements).
    pub time_created: Option<Timestamp>,
    /// The computer.
    pub host: &'a str,
    /// Process id (decimal; 4688's hex `NewProcessId` normalised).
    pub pid: Option<u32>,
    /// Sysmon `ProcessGuid`.
    pub guid: Option<&'a str>,
    /// Image path (`Image` / `NewProcessName`).
    pub image: Option<&'a str>,
    /// Command line (absent or empty when 4688 auditing omits it).
    pub command_line: Option<&'a str>,
    /// Parent process id (4688's hex `ProcessId` normalised).
    pub parent_pid: Option<u32>,
    /// Sysmon `ParentProcessGuid`.
    pub parent_guid: Option<&'a str>,
    /// `ParentImage` / `ParentProcessName`.
    pub parent_image: Option<&'a str>,
    /// `ParentCommandLine` (Sysmon only).
    pub parent_command_line: Option<&'a str>,
    /// `User` (Sysmon, `DOMAIN\name`), or 4688's `TargetUserName` (when a target logon is
    /// given) else `SubjectUserName`.
    pub user: Option<&'a str>,
    /// 4688's `TargetDomainName` / `SubjectDomainName` (matching `user`).
    pub domain: Option<&'a str>,
    /// `LogonId` / `SubjectLogonId`.
    pub logon_id: Option<u64>,
    /// `IntegrityLevel` (Sysmon) or `MandatoryLabel` (4688).
    pub integrity_level: Option<&'a str>,
    /// `Hashes` (Sysmon).
    pub hashes: Option<&'a str>,
    /// The image's signature, where the export logs one with the process (`Signed`,
    /// `Signature`, `SignatureStatus`; plain Sysmon 1 does not: its Sysmon 7 does).
    pub signature: Option<ImageSignature<'a>>,
}

/// The signature of a loaded image as Sysmon 7 logs it (`Signed`, `Signature`,
/// `SignatureStatus`), borrowed from its record.
///
/// # Example
/// ```
/// use beaconstat::winevent::ImageSignature;
/// let s = ImageSignature { signed: Some(true), signature: Some("Microsoft Windows"), status: Some("Valid") };
/// assert!(s.is_valid() && s.is_microsoft());
/// assert_eq!(s.to_string(), "signed by Microsoft Windows (Valid)");
/// let u = ImageSignature { signed: Some(false), signature: Some("-"), status: Some("Unavailable") };
/// assert!(!u.is_valid());
/// assert_eq!(u.to_string(), "not signed (Signed false, SignatureStatus Unavailable)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSignature<'a> {
    /// `Signed`.
    pub signed: Option<bool>,
    /// `Signature`: the signer's name (`Microsoft Windows`; `-` when none).
    pub signature: Option<&'a str>,
    /// `SignatureStatus` (`Valid`, `Unavailable`, `Expired`, …).
    pub status: Option<&'a str>,
}

impl<'a> ImageSignature<'a> {
    /// The signature fields of a record, when it has any.
    pub(crate) fn from_record(rec: &'a WinRecord) -> Option<ImageSignature<'a>> {
        let d = |k: Name| rec.field_opt(k);
        let s = ImageSignature {
            signed: d(Name::Signed).map(|v| v.eq_ignore_ascii_case("true")),
            signature: d(Name::Signature),
            status: d(Name::SignatureStatus),
        };
        (s.signed.is_some() || s.signature.is_some() || s.status.is_some()).then_some(s)
    }

    /// Signed, with a valid signature.
    pub fn is_valid(&self) -> bool {
        self.signed != Some(false)
            && self.signature.is_some_and(|s| !s.is_empty() && s != "-")
            && self.status.is_none_or(|s| s.eq_ignore_ascii_case("valid"))
    }

    /// Validly signed by Microsoft (`Microsoft Windows`, `Microsoft Corporation`, …).
    pub fn is_microsoft(&self) -> bool {
        self.is_valid()
            && self
                .signature
                .is_some_and(|s| s.to_ascii_lowercase().starts_with("microsoft"))
    }
}

impl core::fmt::Display for ImageSignature<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.is_valid() {
            write!(f, "signed by {}", self.signature.unwrap_or("?"))?;
            if let Some(s) = self.status {
                write!(f, " ({s})")?;
            }
            return Ok(());
        }
        let mut parts = Vec::new();
        if let Some(s) = self.signed {
            parts.push(format!("Signed {s}"));
        }
        if let Some(s) = self.signature.filter(|s| *s != "-") {
            parts.push(format!("Signature {s}"));
        }
        if let Some(s) = self.status {
            parts.push(format!("SignatureStatus {s}"));
        }
        write!(f, "not signed ({})", parts.join(", "))
    }
}

impl<'a> ProcessEvent<'a> {
    /// Builds a process event from Sysmon 1 or Security 4688; `None` otherwise.
    pub fn from_record(rec: &'a WinRecord) -> Option<ProcessEvent<'a>> {
        Self::from_view(&RecordView::new(rec))
    }

    /// [`ProcessEvent::from_record`] of a record whose times may be decoded already.
    pub(crate) fn from_view(v: &RecordView<'a>) -> Option<ProcessEvent<'a>> {
        let rec = v.rec;
        let id = rec.event_id()?;
        // The id first: most records are not process creations, and their time is not needed.
        if !(id == 1 && rec.is_sysmon() || id == 4688 && rec.is_security()) {
            return None;
        }
        let host = rec.computer()?;
        let d = |k: Name| rec.field_opt(k);
        let time = v.event_time()?;
        if id == 1 && rec.is_sysmon() {
            Some(ProcessEvent {
                source: ProcessSource::Sysmon1,
                ts: time.ts,
                time_source: time.source,
                time_created: v.time_created(),
                host,
                pid: d(Name::ProcessId).and_then(parse_pid),
                guid: d(Name::ProcessGuid),
                image: d(Name::Image),
                command_line: d(Name::CommandLine),
                parent_pid: d(Name::ParentProcessId).and_then(parse_pid),
                parent_guid: d(Name::ParentProcessGuid),
                parent_image: d(Name::ParentImage),
                parent_command_line: d(Name::ParentCommandLine),
                user: d(Name::User),
                domain: None,
                logon_id: d(Name::LogonId).and_then(parse_logon_id),
                integrity_level: d(Name::IntegrityLevel),
                hashes: d(Name::Hashes),
                signature: ImageSignature::from_record(rec),
            })
        } else if id == 4688 && rec.is_security() {
            // 4688 v2 names the new process's account in Target* when it differs from the
            // creator's (a task launched for a user by the Schedule service).
            let target = d(Name::TargetLogonId)
                .and_then(parse_logon_id)
                .filter(|&l| l != 0)
                .and(d(Name::TargetUserName));
            let (user, domain, logon) = match target {
                Some(u) => (Some(u), d(Name::TargetDomainName), d(Name::TargetLogonId)),
                None => (
                    d(Name::SubjectUserName),
                    d(Name::SubjectDomainName),
                    d(Name::SubjectLogonId),
                ),
            };
            Some(ProcessEvent {
                source: ProcessSource::Security4688,
                ts: time.ts,
                time_source: time.source,
                time_created: v.time_created(),
                host,
                pid: d(Name::NewProcessId).and_then(parse_pid),
                guid: None,
                image: d(Name::NewProcessName),
                command_line: d(Name::CommandLine),
                parent_pid: d(Name::ProcessId).and_then(parse_pid),
                parent_guid: None,
                parent_image: d(Name::ParentProcessName),
                parent_command_line: None,
                user,
                domain,
                logon_id: logon.and_then(parse_logon_id),
                integrity_level: d(Name::MandatoryLabel),
                hashes: None,
                signature: None,
            })
        } else {
            None
        }
    }

    /// The process identity as a [`ProcessRef`].
    pub fn process_ref(&self) -> ProcessRef<'a> {
        let mut p = ProcessRef::new();
        if let Some(i) = self.image {
            p = p.with_image(i);
        }
        if let Some(g) = self.guid {
            p = p.with_guid(g);
        }
        if let Some(pid) = self.pid {
            p = p.with_pid(pid);
        }
        p
    }
}

/// The kind of a piece of supporting evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum EvidenceKind {
    /// Sysmon 7: `taskschd.dll` loaded (the process used the Task Scheduler COM API).
    TaskSchedulerDllLoad,
    /// Sysmon 7 of a process's own executable (`ImageLoaded` = `Image`): its signature, in
    /// [`EvidenceEvent::signature`].
    ProcessImageLoad,
    /// Sysmon 11: a file created under `System32\Tasks\`.
    TaskFile,
    /// Sysmon 12/14: a TaskCache registry key created, deleted or renamed (`EventType` in
    /// `detail`).
    TaskCacheKey,
    /// Sysmon 13 or Security 4657: a TaskCache registry value set or deleted (`SD`, `Index`,
    /// …).
    TaskCacheValue,
    /// Security 5145: `IPC$` / `atsvc` accessed (remote at / atexec).
    AtsvcPipe,
    /// PowerShell 4104: a script block using the ScheduledTasks cmdlets or schtasks.
    ScriptBlock,
    /// Security 4624 logon type 3 (network): ties a remote creator to a `SubjectLogonId`.
    NetworkLogon,
    /// Security 4720 (an account created) or 4728/4732/4756 (a member added to a
    /// security-enabled group): `target` the account or group, `detail` the event id.
    AccountChange,
}

/// Supporting evidence for task lineage (Sysmon 7/11/12/13/14, Security 5145/4624/4657,
/// 4720/4728/4732/4756, PowerShell 4104), borrowed from its record. Only the relevant records produce one (e.g. Sysmon 7 only
/// for `taskschd.dll`).
///
/// # Example
/// ```
/// use beaconstat::winevent::WinRecord;
/// use beaconstat::winevent::{EvidenceEvent, EvidenceKind};
/// let mut rec = WinRecord::new();
/// rec.parse_str(r#"{"EventID":11,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"H",
///   "UtcTime":"2019-05-21 15:32:59.809","Image":"C:\\Windows\\system32\\svchost.exe",
///   "TargetFilename":"C:\\Windows\\System32\\Tasks\\MSOFFICE_"}"#)?;
/// let e = EvidenceEvent::from_record(&rec).unwrap();
/// assert_eq!(e.kind, EvidenceKind::TaskFile);
/// assert_eq!(e.task_name().as_deref(), Some(r"\MSOFFICE_"));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EvidenceEvent<'a> {
    /// What it is.
    pub kind: EvidenceKind,
    /// When (Sysmon `UtcTime`, else the event's own time, [`WinRecord::event_time`]).
    pub ts: Timestamp,
    /// Which field `ts` came from.
    pub time_source: TimeSource,
    /// The computer.
    pub host: &'a str,
    /// The acting process, where logged.
    pub process: ProcessRef<'a>,
    /// The object: loaded DLL, file, registry key, share-relative name, or script text.
    pub target: Option<&'a str>,
    /// A detail: registry `EventType`/`Details` (`DeleteValue` for a deleted value), share
    /// name, the event id of an account change.
    pub detail: Option<&'a str>,
    /// For Security 4657: `ObjectValueName` (the key is in `target`).
    pub value: Option<&'a str>,
    /// The user (`User`, `SubjectUserName`, `TargetUserName`).
    pub user: Option<&'a str>,
    /// The logon id (`SubjectLogonId`; `TargetLogonId` for 4624).
    pub logon_id: Option<u64>,
    /// The remote address (`IpAddress`).
    pub ip: Option<&'a str>,
    /// Sysmon 7: the loaded image's signature.
    pub signature: Option<ImageSignature<'a>>,
}

impl<'a> EvidenceEvent<'a> {
    /// Builds evidence from a relevant record; `None` for anything else.
    pub fn from_record(rec: &'a WinRecord) -> Option<EvidenceEvent<'a>> {
        Self::from_view(&RecordView::new(rec))
    }

    /// [`EvidenceEvent::from_record`] of a record whose times may be decoded already.
    pub(crate) fn from_view(v: &RecordView<'a>) -> Option<EvidenceEvent<'a>> {
        let rec = v.rec;
        let id = rec.event_id()?;
        // Only these ids can be evidence: decide before looking any field up.
        let candidate = match id {
            7 | 11 | 12 | 13 => rec.is_sysmon(),
            5145 | 4624 | 4657 | 4720 | 4728 | 4732 | 4756 => rec.is_security(),
            14 => rec.is_sysmon(),
            4104 => rec.is_powershell(),
            _ => false,
        };
        if !candidate {
            return None;
        }
        let host = rec.computer()?;
        let d = |k: Name| rec.field_opt(k);
        let mut process = ProcessRef::new();
        if let Some(i) = d(Name::Image) {
            process = process.with_image(i);
        }
        if let Some(g) = d(Name::ProcessGuid) {
            process = process.with_guid(g);
        }
        if let Some(p) = d(Name::ProcessId).and_then(parse_pid) {
            process = process.with_pid(p);
        }
        let time = v.event_time()?;
        let mut ev = EvidenceEvent {
            kind: EvidenceKind::TaskFile,
            ts: time.ts,
            time_source: time.source,
            host,
            process,
            target: None,
            detail: None,
            value: None,
            user: d(Name::User).or_else(|| d(Name::SubjectUserName)),
            logon_id: d(Name::SubjectLogonId).and_then(parse_logon_id),
            ip: d(Name::IpAddress),
            signature: None,
        };
        let icontains = |h: &str, n: &str| h.to_ascii_lowercase().contains(n);
        if rec.is_sysmon() {
            match id {
                7 => {
                    let dll = d(Name::ImageLoaded)?;
                    ev.kind = if dll.to_ascii_lowercase().ends_with("\\taskschd.dll") {
                        EvidenceKind::TaskSchedulerDllLoad
                    } else if process.image.is_some_and(|i| i.eq_ignore_ascii_case(dll)) {
                        // The process's own executable: the signer of the process.
                        EvidenceKind::ProcessImageLoad
                    } else {
                        return None;
                    };
                    ev.target = Some(dll);
                    ev.signature = ImageSignature::from_record(rec);
                }
                11 => {
                    let f = d(Name::TargetFilename)?;
                    if !icontains(f, "\\system32\\tasks\\") {
                        return None;
                    }
                    ev.kind = EvidenceKind::TaskFile;
                    ev.target = Some(f);
                }
                12..=14 => {
                    let k = d(Name::TargetObject)?;
                    if !icontains(k, "\\schedule\\taskcache\\") {
                        return None;
                    }
                    ev.kind = if id == 13 {
                        EvidenceKind::TaskCacheValue
                    } else {
                        EvidenceKind::TaskCacheKey
                    };
                    ev.target = Some(k);
                    ev.detail = if id == 13 { d(Name::Details) } else { d(Name::EventType) };
                }
                _ => return None,
            }
        } else if rec.is_security() && id == 5145 {
            let t = d(Name::RelativeTargetName)?;
            if !t.eq_ignore_ascii_case("atsvc") {
                return None;
            }
            ev.kind = EvidenceKind::AtsvcPipe;
            ev.target = Some(t);
            ev.detail = d(Name::ShareName);
        } else if rec.is_security() && id == 4657 {
            // A registry value audited by SACL: `ObjectName` the key, `ObjectValueName` the
            // value; `OperationType` %%1904 created, %%1905 modified, %%1906 deleted.
            let key = rec.data_opt("ObjectName")?;
            if !icontains(key, "\\schedule\\taskcache\\") {
                return None;
            }
            ev.kind = EvidenceKind::TaskCacheValue;
            ev.target = Some(key);
            ev.value = rec.data_opt("ObjectValueName");
            ev.detail = match rec.data_opt("OperationType") {
                Some(op) if op.contains("1906") || op.to_ascii_lowercase().contains("deleted") => Some("DeleteValue"),
                _ => rec.data_opt("NewValue"),
            };
            ev.process = ProcessRef::new();
            if let Some(i) = rec.data_opt("ProcessName") {
                ev.process = ev.process.with_image(i);
            }
            if let Some(p) = rec.data_opt("ProcessId").and_then(parse_pid) {
                ev.process = ev.process.with_pid(p);
            }
        } else if rec.is_security() && matches!(id, 4720 | 4728 | 4732 | 4756) {
            ev.kind = EvidenceKind::AccountChange;
            ev.target = rec.data_opt("TargetUserName").or_else(|| rec.data_opt("MemberName"));
            ev.detail = Some(match id {
                4720 => "4720",
                4728 => "4728",
                4732 => "4732",
                _ => "4756",
            });
            ev.user = rec.data_opt("SubjectUserName");
        } else if rec.is_security() && id == 4624 {
            if d(Name::LogonType)? != "3" {
                return None;
            }
            ev.kind = EvidenceKind::NetworkLogon;
            ev.user = d(Name::TargetUserName);
            ev.logon_id = d(Name::TargetLogonId).and_then(parse_logon_id);
        } else if rec.is_powershell() && id == 4104 {
            let s = d(Name::ScriptBlockText)?;
            let l = s.to_ascii_lowercase();
            if !(l.contains("register-scheduledtask")
                || l.contains("new-scheduledtaskaction")
                || l.contains("schtasks")
                || l.contains("schedule.service"))
            {
                return None;
            }
            ev.kind = EvidenceKind::ScriptBlock;
            ev.target = Some(s);
        } else {
            return None;
        }
        Some(ev)
    }

    /// The task name this evidence is about, where it names one: the path under
    /// `System32\Tasks\` or under `TaskCache\Tree\` (with a leading `\`).
    pub fn task_name(&self) -> Option<String> {
        let t = self.target?;
        let l = t.to_ascii_lowercase();
        let (marker, strip_last) = match self.kind {
            EvidenceKind::TaskFile => ("\\system32\\tasks\\", false),
            // Sysmon 12 also logs `DeleteValue`: then the last component is a value name.
            EvidenceKind::TaskCacheKey => ("\\taskcache\\tree\\", self.detail.is_some_and(|d| d.ends_with("Value"))),
            EvidenceKind::TaskCacheValue => ("\\taskcache\\tree\\", self.value.is_none()),
            _ => return None,
        };
        let i = l.find(marker)? + marker.len();
        let mut name = &t[i..];
        if strip_last {
            name = &name[..name.rfind('\\')?];
        }
        if name.is_empty() {
            return None;
        }
        Some(format!("\\{name}"))
    }

    /// For a TaskCache value: the value name (`SD`, `Index`, `Id`).
    pub fn value_name(&self) -> Option<&'a str> {
        match self.kind {
            EvidenceKind::TaskCacheValue | EvidenceKind::TaskCacheKey => {
                self.value.or_else(|| self.target.and_then(|t| t.rsplit('\\').next()))
            }
            _ => None,
        }
    }
}
