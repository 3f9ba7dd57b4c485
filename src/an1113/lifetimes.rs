//! Process lifetimes per host: when each process of the tree ended (Sysmon 5 by GUID, Security
//! 4689 or Sysmon 5 by PID), and whose a PID is at a given time. Windows reuses PIDs: an
//! instance is (host, PID, start), ended by its termination or by the next creation of the
//! same PID, so that two processes that had one PID hours apart stay apart.

use super::collect::ProcessExit;
use crate::lineage::{HostLineage, ProcessId};
use crate::time::Timestamp;
use hashbrown::HashMap;

/// Logs round and two logs' clocks differ: a start counts from 1 s before it, an end until
/// 1 s after it (as the PID join has always taken a start).
const SLACK: i64 = 1_000_000;

/// Terminations of one process logged twice (Sysmon 5 and 4689) are at most this far apart.
const SAME_EXIT: i64 = 2_000_000;

/// A change of a PID's owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// A process of the tree was created with the PID.
    Start(ProcessId),
    /// The process that had the PID ended.
    End,
}

/// Whose a PID is at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PidOwner {
    /// The process of the tree that has it, if one does.
    pub(super) process: Option<ProcessId>,
    /// When the current holder took it over (µs, with the slack): the creation or the
    /// termination before it; `None` before anything was logged for the PID. With the PID it
    /// names an instance.
    pub(super) since: Option<i64>,
}

/// One host's lifetimes.
#[derive(Debug, Default)]
pub(super) struct HostLifetimes {
    /// Per PID: creations and terminations, in time order, each at the time it counts from.
    by_pid: HashMap<u32, Vec<(i64, Mark)>>,
    /// Per process of the tree (by index): its logged end.
    ended: Vec<Option<Timestamp>>,
}

impl HostLifetimes {
    /// The lifetimes of host `h`'s processes given its terminations (in any order, times
    /// already on the host's clock); `guid` finds a tree process by lower-cased GUID id.
    pub(super) fn new<'e>(
        h: Option<&HostLineage>,
        exits: impl IntoIterator<Item = &'e ProcessExit>,
        guid: impl Fn(u32) -> Option<ProcessId>,
    ) -> Self {
        let mut by_pid: HashMap<u32, Vec<(i64, Mark)>> = HashMap::new();
        let mut ended = vec![None; h.map_or(0, |h| h.processes.len())];
        let mut by_guid: Vec<(ProcessId, Timestamp)> = Vec::new();
        for x in exits {
            if let Some(id) = x.guid.and_then(&guid) {
                by_guid.push((id, x.ts));
            }
            if let Some(pid) = x.pid {
                by_pid
                    .entry(pid)
                    .or_default()
                    .push((x.ts.as_micros().saturating_add(SLACK), Mark::End));
            }
        }
        if let Some(h) = h {
            for (id, p) in h.processes.iter() {
                if let Some(pid) = p.pid {
                    by_pid
                        .entry(pid)
                        .or_default()
                        .push((p.ts.as_micros().saturating_sub(SLACK), Mark::Start(id)));
                }
            }
        }
        for marks in by_pid.values_mut() {
            // Ends before starts at one time, so that the start is the PID's owner from then.
            marks.sort_by_key(|&(t, m)| (t, matches!(m, Mark::Start(_))));
            // One termination logged by both Sysmon 5 and 4689 is one end.
            let mut last_end: Option<i64> = None;
            marks.retain(|&(t, m)| match m {
                Mark::End if last_end.is_some_and(|e| t - e <= SAME_EXIT) => false,
                Mark::End => {
                    last_end = Some(t);
                    true
                }
                Mark::Start(_) => {
                    last_end = None;
                    true
                }
            });
            // A process ends at the termination that follows its creation (before any other
            // creation of its PID).
            for w in marks.windows(2) {
                if let [(_, Mark::Start(id)), (t, Mark::End)] = *w
                    && let Some(e) = ended.get_mut(id.index())
                {
                    *e = Some(Timestamp(t.saturating_sub(SLACK)));
                }
            }
        }
        // A GUID names its process exactly: its termination wins.
        for (id, t) in by_guid {
            if let Some(e) = ended.get_mut(id.index()) {
                *e = Some(e.map_or(t, |x| x.min(t)));
            }
        }
        HostLifetimes { by_pid, ended }
    }

    /// Whose `pid` is at `t`.
    pub(super) fn owner(&self, pid: u32, t: Timestamp) -> PidOwner {
        let none = PidOwner {
            process: None,
            since: None,
        };
        let Some(marks) = self.by_pid.get(&pid) else {
            return none;
        };
        let n = marks.partition_point(|&(at, _)| at <= t.as_micros());
        match n.checked_sub(1).map(|k| marks[k]) {
            Some((at, Mark::Start(id))) => PidOwner {
                process: Some(id),
                since: Some(at),
            },
            Some((at, Mark::End)) => PidOwner {
                process: None,
                since: Some(at),
            },
            None => none,
        }
    }

    /// When process `id` ended, where a termination was logged.
    pub(super) fn ended(&self, id: ProcessId) -> Option<Timestamp> {
        self.ended.get(id.index()).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(pid: u32, secs: i64) -> ProcessExit {
        ProcessExit {
            host: 0,
            ts: Timestamp(secs * 1_000_000),
            pid: Some(pid),
            guid: None,
            time_source: crate::winevent::TimeSource::SystemTime,
        }
    }

    #[test]
    fn a_reused_pid_has_one_owner_at_a_time() {
        // PID 7: ended at 100 s (4689 and Sysmon 5, 0.5 s apart), unseen reuse, ended at 500 s.
        let exits = [exit(7, 100), exit(7, 100), exit(7, 500)];
        let mut exits = exits.to_vec();
        exits[1].ts = Timestamp(100_500_000);
        let l = HostLifetimes::new(None, &exits, |_| None);
        let at = |s: i64| l.owner(7, Timestamp(s * 1_000_000)).since;
        assert_eq!(at(50), None);
        assert_eq!(at(100), None, "within a second of the end: still the old process");
        assert_eq!(at(102), Some(101_000_000));
        assert_eq!(at(400), Some(101_000_000), "the second termination is the same exit");
        assert_eq!(at(502), Some(501_000_000));
        assert_eq!(l.owner(8, Timestamp(0)).since, None);
    }
}
