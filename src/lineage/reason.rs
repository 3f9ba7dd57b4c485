//! Why a scheduled task or one of its processes stands out: [`TaskReason`] with its weight, and
//! [`TaskFinding`] (a reason, a sentence, the process concerned).

use super::process::ProcessId;

/// Why a task or process stands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum TaskReason {
    /// The launched process is not the task's declared action.
    DiffersFromAction,
    /// (task, image, command-line shape) is rare across the hosts and runs seen / the baseline.
    Rare,
    /// A LOLBin (mshta, rundll32, regsvr32, certutil, bitsadmin, curl, …).
    Lolbin,
    /// PowerShell with an encoded command.
    EncodedPowerShell,
    /// A script host (powershell, wscript, cscript, cmd /c with redirection to Temp).
    ScriptHost,
    /// Runs from or refers to a user-writable path (Temp, AppData, Users\Public, ProgramData).
    UserWritablePath,
    /// The task is hidden.
    Hidden,
    /// The task name looks random or is a GUID.
    RandomName,
    /// The repetition interval is very short.
    ShortRepetition,
    /// Created by a script host or LOLBin process (or one whose parent is).
    ScriptHostCreator,
    /// Created remotely.
    RemoteCreation,
    /// Created and deleted within minutes.
    ShortLived,
    /// Only TaskCache registry writes: no task registration event.
    RegistryOnly,
    /// A built-in `\Microsoft\Windows\` task created or changed by an account.
    BuiltinModified,
    /// PowerShell told to hide its window (`-W hidden`).
    HiddenWindow,
    /// A string executed as code (`IEX`, `Invoke-Expression`).
    InMemoryExecution,
    /// Base64 decoded at run time (`FromBase64String`).
    FromBase64,
    /// A download at run time (`DownloadString`, `Net.WebClient`, `Invoke-WebRequest`, …).
    DownloadCradle,
    /// The payload read from a registry value (`gp HKCU:…`, `Get-ItemProperty`).
    RegistryPayload,
    /// Runs from or refers to a network share (`\\host\share`).
    UncPath,
    /// The definition asks for privileges that serve escalation (`SeImpersonatePrivilege`,
    /// `SeAssignPrimaryTokenPrivilege`, `SeDebugPrivilege`, …).
    RiskyPrivileges,
    /// The XML's author is not the account that registered the task.
    AuthorMismatch,
    /// Changed (updated, deleted, enabled, disabled) by another account than the one that
    /// created it.
    ChangedByOther,
    /// Deleted from another logon session than the one that created it.
    DeletedFromOtherSession,
    /// Under `\Microsoft\` or named like a Windows built-in task, but its definition is not
    /// a built-in's (action outside System32 or a bare word, author not Microsoft).
    Masquerade,
    /// Created shortly after the same account created an account (4720) or added one to a
    /// group (4728/4732/4756).
    AfterAccountChange,
    /// Its TaskCache security descriptor (`SD`) was deleted or its `Index` set to 0: hidden
    /// from `schtasks /query` and the Task Scheduler UI (Tarrask).
    SecurityDescriptorRemoved,
    /// Seen running (or written) with no creation event in the data: created without
    /// creation telemetry, or before the data starts.
    NoCreationTelemetry,
    /// Registered through the COM API (taskschd.dll), or written straight to the TaskCache, by
    /// a process outside the system's folders, a script host or a LOLBin, joined by process.
    UntrustedComCreator,
    /// Most hosts with a task of this name run another action: this host's is the outlier.
    ActionDiffersAcrossHosts,
    /// Registered through the COM API, or written to the TaskCache, by a process whose image
    /// is not validly signed (Sysmon 7 of its image, or its Sysmon 1).
    UnsignedComCreator,
    /// Runs elevated (`RunLevel` `HighestAvailable`) or as SYSTEM an action in a user-writable
    /// place: whoever can write there runs code with those rights.
    ElevatedUserWritable,
    /// Runs as SYSTEM through a script host, a LOLBin or a script file.
    SystemScriptHost,
    /// A boot or logon trigger on a task that is not Microsoft's (persistence at startup).
    BootOrLogonTrigger,
    /// Expires (`EndBoundary`) soon after it can first run, or soon after its registration
    /// when its start is in the past: a one-shot run that leaves nothing behind, more so with
    /// `DeleteExpiredTaskAfter`.
    SelfCleaning,
    /// The account's password is stored with the task (`LogonType` `Password`).
    StoredPassword,
}

impl TaskReason {
    /// The weight this reason adds to a task's suspicion
    /// ([`ScheduledTask::suspicion`](super::ScheduledTask::suspicion)): 3 for what is rarely
    /// benign, 2 for strong signs, 1 for weak ones.
    ///
    /// # Example
    /// ```
    /// use beaconstat::lineage::TaskReason;
    /// assert_eq!(TaskReason::RegistryOnly.weight(), 3);
    /// assert_eq!(TaskReason::Rare.weight(), 1);
    /// ```
    pub fn weight(self) -> u32 {
        match self {
            TaskReason::DiffersFromAction | TaskReason::BuiltinModified | TaskReason::RegistryOnly => 3,
            TaskReason::Masquerade | TaskReason::SecurityDescriptorRemoved | TaskReason::ActionDiffersAcrossHosts => 3,
            TaskReason::ChangedByOther | TaskReason::AfterAccountChange | TaskReason::UntrustedComCreator => 2,
            TaskReason::UnsignedComCreator => 2,
            TaskReason::DeletedFromOtherSession | TaskReason::NoCreationTelemetry => 1,
            TaskReason::RegistryPayload => 3,
            TaskReason::HiddenWindow | TaskReason::InMemoryExecution | TaskReason::DownloadCradle => 2,
            TaskReason::UncPath | TaskReason::RiskyPrivileges => 2,
            TaskReason::FromBase64 | TaskReason::AuthorMismatch => 1,
            TaskReason::EncodedPowerShell | TaskReason::Lolbin | TaskReason::Hidden | TaskReason::RemoteCreation => 2,
            TaskReason::ShortLived | TaskReason::ScriptHostCreator | TaskReason::UserWritablePath => 2,
            TaskReason::Rare | TaskReason::ScriptHost | TaskReason::RandomName | TaskReason::ShortRepetition => 1,
            TaskReason::ElevatedUserWritable | TaskReason::SystemScriptHost | TaskReason::SelfCleaning => 2,
            TaskReason::BootOrLogonTrigger | TaskReason::StoredPassword => 1,
        }
    }
}

/// One finding about a task: the reason, a sentence explaining it, and the process it concerns
/// when it is about a process.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TaskFinding {
    /// The reason.
    pub reason: TaskReason,
    /// The explanation.
    pub detail: String,
    /// The process concerned (in the task's host's tree), if any.
    pub process: Option<ProcessId>,
}
