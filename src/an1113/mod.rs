//! AN1113 end to end: which scheduled or background process beacons out, who made it, and
//! what the data cannot see.
//!
//! [`An1113Builder`] takes Windows records (Sysmon, Security, TaskScheduler; any file the
//! readers open) and host-level connections (Zeek `conn.log`). Network events that name their
//! process (Sysmon 3, Security 5156) are grouped by (host, process instance, destination,
//! port) — an instance is its GUID, else its PID at that time, so two `powershell.exe` hours
//! apart stay apart — and scored by the beacon [`Analyzer`](crate::Analyzer). Each series is
//! tied to its process's lineage ([`crate::lineage`]): the chain up to a scheduled task run
//! (TaskScheduler 129/200 engine PID, or a parent `svchost -s Schedule` / `taskeng.exe`), the
//! task's creator, method and definition; else a service, WMI, a user session or a background
//! process that predates the data. Sysmon 22 names the destinations a process asked for.
//! Host-level connections are tied to a host by its addresses at their time (the caller's
//! `known_host`, DHCP leases from Zeek `dhcp.log`, the source addresses of Sysmon 3 / 5156)
//! and to its tasks by time only, and say so.
//!
//! Each [`An1113Finding`] carries the periodicity report, the direction, the prevalence, the
//! chain, the evidence that the beacon is the task's own behaviour ([`TaskEvidence`]: the
//! trigger interval against the observed period, runs against check-ins, creation before the
//! first check-in), a [`Severity`] with its reasons in words, and references back to the raw
//! records. [`HostCoverage`] says per host what telemetry is present, how much of it joins,
//! the blind spots with their fixes, and AN1113's own answer: can recurring automation be
//! paired with external transmission here?
//!
//! Data flows one way: `collect` (the builder) → `join` (the process-identity join, which runs
//! `host_join` for host-level connections and `coverage_assembly` for the coverage report) →
//! `chain`, `evidence`, `severity`, `coverage` → `finding` (the output types).

mod chain;
mod collect;
mod config;
mod coverage;
mod coverage_assembly;
mod evidence;
mod finding;
mod host_join;
mod join;
mod lease_names;
mod leases;
mod lifetimes;
mod origin;
mod severity;

pub use crate::rank::Direction;
pub use collect::{An1113Builder, FileId};
pub use config::{An1113Config, SeverityWeights};
pub use coverage::{An1113Answer, BlindSpot, HostCoverage, JoinRate, JoinRates, TelemetryPresence};
pub use finding::{
    An1113Finding, ChainProcess, Destination, FindingProcess, JoinBasis, Launcher, LineageChain, NetworkSource,
    PeriodMatch, RecordRef, RunAlignment, Severity, SeverityLevel, TaskEvidence, TaskSummary,
};
pub use join::An1113Report;
