//! Coverage and blind spots, per host: which telemetry is present, how much of it joins, what
//! cannot be seen (in words, with the fix), and AN1113's own question: can recurring
//! automation be paired with external transmission on this host?

use crate::time::Timestamp;

/// Counts of the telemetry seen for one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TelemetryPresence {
    /// Task creation: Security 4698, TaskScheduler 106.
    pub task_created: u64,
    /// Task updates: Security 4702, TaskScheduler 140.
    pub task_updated: u64,
    /// Task runs: TaskScheduler 100/102/107/108/110/129/200/201.
    pub task_runs: u64,
    /// Process creation: Sysmon 1.
    pub sysmon1: u64,
    /// Process creation: Security 4688.
    pub security4688: u64,
    /// Process creations with a command line.
    pub with_command_line: u64,
    /// Network events with process identity: Sysmon 3.
    pub sysmon3: u64,
    /// Network events with process identity: Security 5156 (outbound).
    pub security5156: u64,
    /// Network events that name no process.
    pub network_without_process: u64,
    /// Host-level connections from this host's addresses (Zeek, CSV).
    pub host_level: u64,
    /// DNS queries with the process: Sysmon 22.
    pub dns_with_process: u64,
    /// TaskCache registry writes (Sysmon 12/13).
    pub taskcache_registry: u64,
    /// Task files written under `System32\Tasks` (Sysmon 11).
    pub task_files: u64,
}

impl TelemetryPresence {
    /// Adds `o`'s counts (two names of one host).
    pub(crate) fn add(&mut self, o: &TelemetryPresence) {
        let TelemetryPresence {
            task_created,
            task_updated,
            task_runs,
            sysmon1,
            security4688,
            with_command_line,
            sysmon3,
            security5156,
            network_without_process,
            host_level,
            dns_with_process,
            taskcache_registry,
            task_files,
        } = o;
        self.task_created += task_created;
        self.task_updated += task_updated;
        self.task_runs += task_runs;
        self.sysmon1 += sysmon1;
        self.security4688 += security4688;
        self.with_command_line += with_command_line;
        self.sysmon3 += sysmon3;
        self.security5156 += security5156;
        self.network_without_process += network_without_process;
        self.host_level += host_level;
        self.dns_with_process += dns_with_process;
        self.taskcache_registry += taskcache_registry;
        self.task_files += task_files;
    }

    /// Every count with its name in words, in declaration order (for reports and tables).
    ///
    /// # Example
    /// ```
    /// use beaconstat::an1113::TelemetryPresence;
    /// let t = TelemetryPresence { sysmon3: 12, ..TelemetryPresence::default() };
    /// let c = t.counts();
    /// assert_eq!(c[0], ("task created (4698/106)", 0));
    /// assert_eq!(c.iter().find(|(k, _)| *k == "Sysmon 3"), Some(&("Sysmon 3", 12)));
    /// ```
    pub fn counts(&self) -> [(&'static str, u64); 13] {
        let t = self;
        [
            ("task created (4698/106)", t.task_created),
            ("task updated (4702/140)", t.task_updated),
            ("task runs (129/200/201)", t.task_runs),
            ("Sysmon 1", t.sysmon1),
            ("4688", t.security4688),
            ("with command lines", t.with_command_line),
            ("Sysmon 3", t.sysmon3),
            ("5156", t.security5156),
            ("network without process", t.network_without_process),
            ("host-level", t.host_level),
            ("Sysmon 22", t.dns_with_process),
            ("TaskCache registry", t.taskcache_registry),
            ("task files", t.task_files),
        ]
    }

    /// Process creations of either kind.
    pub fn process_events(&self) -> u64 {
        self.sysmon1 + self.security4688
    }

    /// Network events that name their process.
    pub fn network_with_process(&self) -> u64 {
        self.sysmon3 + self.security5156
    }
}

/// `joined` of `total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct JoinRate {
    /// Joined.
    pub joined: u64,
    /// Of.
    pub total: u64,
}

impl JoinRate {
    /// `joined / total`, `None` when there is nothing to join.
    pub fn share(&self) -> Option<f64> {
        (self.total > 0).then(|| self.joined as f64 / self.total as f64)
    }
}

/// How much of one host's telemetry joins up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct JoinRates {
    /// Network events with process identity whose process is in the process-creation data.
    pub network_to_process: JoinRate,
    /// Processes whose logged parent is in the data.
    pub process_to_parent: JoinRate,
    /// Task runs tied to the process they launched.
    pub run_to_process: JoinRate,
    /// Periodic series tied to a scheduled task.
    pub beacon_to_task: JoinRate,
}

/// Something the data cannot show, in plain words, with what would fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BlindSpot {
    /// A short stable code (`no_command_lines`, `no_task_creation`, …).
    pub code: String,
    /// What cannot be seen.
    pub what: String,
    /// How to fix it.
    pub fix: String,
}

/// AN1113's question for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct An1113Answer {
    /// Can recurring automation be paired with external transmission here?
    pub possible: bool,
    /// Why not (empty when possible), one sentence each.
    pub why_not: Vec<String>,
}

/// Coverage of one host.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HostCoverage {
    /// The computer name (or address, for a host seen only in host-level data).
    pub host: String,
    /// Addresses it was seen using.
    pub addresses: Vec<String>,
    /// First record.
    pub first: Option<Timestamp>,
    /// Last record.
    pub last: Option<Timestamp>,
    /// What telemetry is present.
    pub telemetry: TelemetryPresence,
    /// Join rates.
    pub joins: JoinRates,
    /// What cannot be seen, and the fix.
    pub blind_spots: Vec<BlindSpot>,
    /// AN1113's yes/no.
    pub an1113: An1113Answer,
}

/// The blind spots of one host's telemetry.
pub(crate) fn blind_spots(host: &str, t: &TelemetryPresence) -> Vec<BlindSpot> {
    let mut out = Vec::new();
    let mut add = |code: &str, what: String, fix: &str| {
        out.push(BlindSpot {
            code: code.to_owned(),
            what,
            fix: fix.to_owned(),
        })
    };
    if t.task_created == 0 && t.task_updated == 0 {
        add(
            "no_task_creation",
            format!("{host}: no task creation or update events (4698/4702, 106/140): who made a task is not seen"),
            "audit Other Object Access Events (Security 4698/4702) and enable the Microsoft-Windows-TaskScheduler/Operational log",
        );
    }
    if t.task_runs == 0 {
        add(
            "no_task_runs",
            format!("{host}: no TaskScheduler run events (129/200/201): runs are tied to processes by parent only"),
            "enable the Microsoft-Windows-TaskScheduler/Operational log",
        );
    }
    if t.process_events() == 0 {
        add(
            "no_process_creation",
            format!("{host}: no process creation events (Sysmon 1, 4688): no lineage chain"),
            "add Sysmon event 1, or audit Process Creation (Security 4688) with command lines",
        );
    } else if t.with_command_line < t.process_events() {
        add(
            "no_command_lines",
            format!(
                "{host}: {} of {} process creations without command lines",
                t.process_events() - t.with_command_line,
                t.process_events()
            ),
            "enable Include command line in process creation events (Group Policy: Audit Process Creation), or add Sysmon event 1",
        );
    }
    if t.network_with_process() == 0 {
        add(
            "no_process_network",
            format!(
                "{host}: no network events with process identity: beacons are tied to the host by address and time only"
            ),
            "add Sysmon event 3, or enable WFP auditing (Filtering Platform Connection) for Security 5156",
        );
    }
    if t.dns_with_process == 0 {
        add(
            "no_process_dns",
            format!("{host}: no DNS queries with the process (Sysmon 22): a beacon's name is not tied to its process"),
            "enable Sysmon event 22 (DnsQuery)",
        );
    }
    out
}

/// AN1113's answer from a host's telemetry.
pub(crate) fn an1113_answer(t: &TelemetryPresence) -> An1113Answer {
    let mut why_not = Vec::new();
    let automation = t.task_created + t.task_updated + t.task_runs + t.process_events() > 0;
    if !automation {
        why_not.push("no scheduled-task or process-creation events: recurring automation is not visible".to_owned());
    }
    if t.network_with_process() == 0 && t.host_level == 0 {
        why_not.push("no network events from this host: transmission is not visible".to_owned());
    } else if t.network_with_process() == 0 && t.process_events() == 0 {
        why_not.push(
            "only host-level network data and no process creation: a beacon cannot be paired with a process".to_owned(),
        );
    }
    An1113Answer {
        possible: why_not.is_empty(),
        why_not,
    }
}
