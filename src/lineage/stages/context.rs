//! The typed state the build stages share: the configuration, per-host processes with their
//! lookups, task accumulators, and the task and evidence events (clock-corrected).

use crate::lineage::baseline::TaskBaseline;
use crate::lineage::collected::{ClockSamples, RawEvidence, RawTask};
use crate::lineage::config::LineageConfig;
use crate::lineage::coverage::{ClockReport, SkippedDefinition, TelemetryCoverage};
use crate::lineage::model::{DefinitionSource, LifeEvent, TaskRun};
use crate::lineage::process::{ProcessId, ProcessNode};
use crate::lineage::taskxml::TaskDefinition;
use crate::series::{Interner, Span};
use crate::time::{Interval, Timestamp};
use crate::winevent::TimeSource;
// foldhash: GUID and PID lookups per event.
use hashbrown::HashMap;

/// What every stage reads and the stages before it wrote. Hosts are numbered as in the input.
#[derive(Debug)]
pub(super) struct BuildContext<'a> {
    pub(super) cfg: &'a LineageConfig,
    pub(super) baseline: Option<&'a TaskBaseline>,
    /// Host names as first logged.
    pub(super) hosts: Vec<String>,
    /// Per host, same numbering as `hosts`.
    pub(super) host: Vec<HostState>,
    /// Task events, clock-corrected (stage "tasks" on).
    pub(super) task_events: Vec<RawTask>,
    /// Evidence, clock-corrected where its time is `TimeCreated` (stage "tasks" on).
    pub(super) evidence: Vec<RawEvidence>,
    pub(super) coverage: TelemetryCoverage,
    pub(super) clocks: Vec<ClockReport>,
    /// Definitions that could not be parsed (stage "tasks").
    pub(super) skipped: Vec<SkippedDefinition>,
    /// The task events' strings.
    pub(super) strings: Interner<Span>,
    /// The inputs named, by number (`RecordOrigin::input`).
    pub(super) inputs: Vec<String>,
}

impl<'a> BuildContext<'a> {
    pub(super) fn new(
        cfg: &'a LineageConfig,
        baseline: Option<&'a TaskBaseline>,
        hosts: Vec<String>,
        coverage: TelemetryCoverage,
    ) -> Self {
        let host = (0..hosts.len()).map(|_| HostState::default()).collect();
        BuildContext {
            cfg,
            baseline,
            hosts,
            host,
            task_events: Vec::new(),
            evidence: Vec::new(),
            coverage,
            clocks: Vec::new(),
            skipped: Vec::new(),
            strings: Interner::default(),
            inputs: Vec::new(),
        }
    }

    /// `ts`, read from field `source` on host `h`, on the host's corrected clock (Sysmon
    /// `UtcTime` and collector times are not corrected).
    pub(super) fn fix(&self, h: usize, source: TimeSource, ts: Timestamp) -> Timestamp {
        match ClockSamples::slot(source) {
            Some(slot) => Timestamp(ts.0.saturating_add(self.host[h].correction[slot])),
            None => ts,
        }
    }

    /// The text of an interned task-event string.
    pub(super) fn text(&self, id: Option<u32>) -> Option<&str> {
        id.map(|i| self.strings.get(i))
    }
}

/// One host's state during the build.
#[derive(Debug, Default)]
pub(super) struct HostState {
    /// µs added to this host's logged times, per field (`[TimeCreated, EventTime]`; stage
    /// "clocks").
    pub(super) correction: [i64; 2],
    /// Processes in start order, linked to their parents (stage "processes").
    pub(super) procs: Vec<ProcessNode>,
    pub(super) index: ProcessIndex,
    /// Processes whose logged parent is not in the data.
    pub(super) unresolved: Vec<ProcessId>,
    /// Tasks in order of first appearance (stage "tasks" on).
    pub(super) tasks: Vec<TaskAcc>,
    /// Schedule-service launches tied to no task (stage "runs").
    pub(super) unattributed: Vec<TaskRun>,
    /// Per process: already the launched process of some run (stage "runs").
    pub(super) launched: Vec<bool>,
    /// Interned task name → its accumulator (`task_slot_of`): a run event looks its task up
    /// in constant time, not by a case-insensitive scan of the host's tasks.
    pub(super) slot_of: HashMap<u32, usize>,
}

impl HostState {
    /// The accumulator of task `name` (case-insensitive), added when new.
    pub(super) fn task_slot(&mut self, name: &str) -> usize {
        if let Some(i) = self.tasks.iter().position(|t| t.name.eq_ignore_ascii_case(name)) {
            return i;
        }
        self.tasks.push(TaskAcc::new(name));
        self.tasks.len() - 1
    }

    /// [`HostState::task_slot`] of `name`, interned as `id`.
    pub(super) fn task_slot_of(&mut self, id: u32, name: &str) -> usize {
        if let Some(&i) = self.slot_of.get(&id) {
            return i;
        }
        let i = self.task_slot(name);
        self.slot_of.insert(id, i);
        i
    }
}

/// A `schtasks` / `at` process that created or changed a task.
#[derive(Debug, Clone, Copy)]
pub(super) struct ToolUse {
    /// The host it ran on (another one for `schtasks /S`).
    pub(super) host: usize,
    pub(super) process: ProcessId,
    pub(super) ts: Timestamp,
    /// `at.exe`, not `schtasks.exe`.
    pub(super) at: bool,
}

/// What is known about one task while it is being reconstructed.
#[derive(Debug)]
pub(super) struct TaskAcc {
    pub(super) name: String,
    pub(super) life: Vec<LifeEvent>,
    pub(super) defs: Vec<(Timestamp, TaskDefinition, DefinitionSource)>,
    /// Task events (indices into `BuildContext::task_events`) of registration kinds, in time
    /// order.
    pub(super) reg: Vec<usize>,
    /// `schtasks` / `at` creators and changers.
    pub(super) tools: Vec<ToolUse>,
    pub(super) runs: Vec<TaskRun>,
}

impl TaskAcc {
    fn new(name: &str) -> Self {
        TaskAcc {
            name: name.to_owned(),
            life: Vec::new(),
            defs: Vec::new(),
            reg: Vec::new(),
            tools: Vec::new(),
            runs: Vec::new(),
        }
    }
}

/// Per-host lookups: GUID → process, PID → processes in start order.
#[derive(Debug, Default)]
pub(super) struct ProcessIndex {
    by_guid: HashMap<String, ProcessId>,
    by_pid: HashMap<u32, Vec<ProcessId>>,
}

impl ProcessIndex {
    /// `ps` must be sorted by start time.
    pub(super) fn new(ps: &[ProcessNode]) -> Self {
        let mut ix = ProcessIndex::default();
        for (i, p) in ps.iter().enumerate() {
            let id = ProcessId::new(i);
            if let Some(g) = &p.guid {
                ix.by_guid.insert(g.to_ascii_lowercase(), id);
            }
            if let Some(pid) = p.pid {
                ix.by_pid.entry(pid).or_default().push(id);
            }
        }
        ix
    }

    pub(super) fn guid(&self, g: &str) -> Option<ProcessId> {
        // Lower-cased on the stack when it fits (a GUID is 38 bytes): no allocation per lookup.
        let mut buf = [0u8; 64];
        match buf.get_mut(..g.len()) {
            Some(b) => {
                b.copy_from_slice(g.as_bytes());
                b.make_ascii_lowercase();
                let key = core::str::from_utf8(b).ok()?;
                self.by_guid.get(key).copied()
            }
            None => self.by_guid.get(&g.to_ascii_lowercase()).copied(),
        }
    }

    pub(super) fn pid_all(&self, pid: u32) -> &[ProcessId] {
        self.by_pid.get(&pid).map_or(&[], Vec::as_slice)
    }

    /// The latest process with `pid` started at or before `t`.
    pub(super) fn pid_at(&self, ps: &[ProcessNode], pid: u32, t: Timestamp) -> Option<ProcessId> {
        let v = self.pid_all(pid);
        let n = v.partition_point(|&j| ps[j.index()].ts <= t);
        n.checked_sub(1).map(|k| v[k])
    }
}

/// `ts + secs` (saturating).
pub(super) fn after(ts: Timestamp, secs: i64) -> Timestamp {
    Timestamp(ts.0.saturating_add(secs.saturating_mul(1_000_000)))
}

/// `items` (each with its host's number) split into one list per host of `hosts`, each in
/// input order: for the stages that do each host on its own, side by side
/// ([`threads::map_each`](crate::threads::map_each)). An item of no host is dropped.
pub(super) fn by_host<T>(hosts: usize, items: impl IntoIterator<Item = (usize, T)>) -> Vec<Vec<T>> {
    let mut mine: Vec<Vec<T>> = (0..hosts).map(|_| Vec::new()).collect();
    for (h, t) in items {
        if let Some(m) = mine.get_mut(h) {
            m.push(t);
        }
    }
    mine
}

/// A duration as the join sentences write it (`1.500 s`), written straight into the sentence
/// (no string of its own: a run's explanation is formatted for every run).
pub(super) fn secs(d: Interval) -> Secs {
    Secs(d)
}

/// [`secs`]'s duration, for `format!`.
pub(super) struct Secs(Interval);

impl core::fmt::Display for Secs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let us = self.0.as_micros();
        // Milliseconds in integers where that is the float's rounding: not a tie (a tie's
        // side depends on the float's binary error), not negative (`-0.000`), and small
        // enough that the float is exact to well under a microsecond. A sentence per task
        // run says a duration: the float formatting was most of its cost.
        if (0..1_000_000_000_000_000).contains(&us) && us % 1000 != 500 {
            let ms = (us + 500) / 1000;
            write!(f, "{}.{:03} s", ms / 1000, ms % 1000)
        } else {
            write!(f, "{:.3} s", self.0.as_secs_f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn by_float(us: i64) -> String {
        format!("{:.3} s", Interval::from_micros(us).as_secs_f64())
    }

    #[test]
    fn seconds_written_as_the_float_rounds_them() {
        for us in [
            0,
            1,
            499,
            500,
            501,
            1_499,
            1_500,
            2_500,
            999_499,
            999_500,
            999_999,
            120_000_000,
            -1,
            -400,
            -1_500,
        ] {
            assert_eq!(secs(Interval::from_micros(us)).to_string(), by_float(us), "{us}");
        }
        assert_eq!(secs(Interval::from_micros(61_234_567)).to_string(), "61.235 s");
    }

    proptest! {
        #[test]
        fn seconds_agree_with_the_float(us in any::<i64>(), small in -10_000_000i64..10_000_000_000) {
            prop_assert_eq!(secs(Interval::from_micros(us)).to_string(), by_float(us));
            prop_assert_eq!(secs(Interval::from_micros(small)).to_string(), by_float(small));
        }
    }
}
