//! Questions asked of a built [`Lineage`]: a host, a task, and for a beaconing process which
//! task launched (or created) it.

use super::cmdline::normalize_task_name;
use super::hosts::find_host;
use super::model::{CreationMethod, HostLineage, LifeKind, Lineage, ScheduledTask, TaskRun};
use super::naming::file_name;
use super::process::{ProcessConnection, ProcessId, ProcessNode};
use crate::event::ConnEvent;
use crate::time::{Interval, Timestamp};
use hashbrown::HashMap;

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
    pub task: &'l ScheduledTask,
    /// The run, for launched processes and descendants.
    pub run: Option<&'l TaskRun>,
    /// The process asked about.
    pub process: &'l ProcessNode,
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

impl Lineage {
    /// A host's lineage by name: case-insensitive, and a bare name finds its FQDN (or an FQDN
    /// its bare name) when only one host has that short name.
    pub fn host(&self, host: &str) -> Option<&HostLineage> {
        find_host(self.hosts.iter().map(|h| h.host.as_str()), host).map(|i| &self.hosts[i])
    }

    /// A task by host and name (case-insensitive; `Name` and `\Name` are the same).
    pub fn task(&self, host: &str, name: &str) -> Option<&ScheduledTask> {
        let n = normalize_task_name(name);
        self.host(host)?.tasks.iter().find(|t| t.name.eq_ignore_ascii_case(&n))
    }

    /// All tasks with their hosts.
    pub fn tasks(&self) -> impl Iterator<Item = (&HostLineage, &ScheduledTask)> {
        self.hosts.iter().flat_map(|h| h.tasks.iter().map(move |t| (h, t)))
    }

    /// For a process that beacons: which task launched it (itself or an ancestor launched by a
    /// run), or which task it created. `time` picks among processes that reused a PID (the
    /// latest started at or before `time`); GUIDs ignore it.
    ///
    /// # Example
    /// ```
    /// use beaconstat::winevent::WinRecord;
    /// use beaconstat::lineage::LineageBuilder;
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
        let tree = &h.processes;
        let idx = match key {
            ProcessKey::Guid(g) => tree
                .iter()
                .find(|(_, p)| p.guid.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(g)))
                .map(|(i, _)| i)?,
            ProcessKey::Pid(pid) => tree
                .iter()
                .filter(|(_, p)| p.pid == Some(pid) && p.ts <= time)
                .max_by_key(|(_, p)| p.ts)
                .map(|(i, _)| i)?,
            ProcessKey::Image(img) => {
                let want = file_name(img);
                tree.iter()
                    .filter(|(_, p)| p.ts <= time && p.image_name().is_some_and(|n| n.eq_ignore_ascii_case(want)))
                    .max_by_key(|(_, p)| p.ts)
                    .map(|(i, _)| i)?
            }
        };
        self.task_for_process_id(h, idx)
    }

    /// [`Lineage::task_for_process`] for a process already found in `host`'s tree.
    pub fn task_for_process_id<'l>(&'l self, h: &'l HostLineage, idx: ProcessId) -> Option<TaskLink<'l>> {
        let tree = &h.processes;
        let process = tree.get(idx)?;
        // The process itself, then its ancestors: the first one a run launched.
        for (depth, i) in self_and_ancestors(h, idx).enumerate() {
            for t in &h.tasks {
                for r in &t.runs {
                    if r.launched == Some(i) {
                        return Some(run_link(h, t, r, process, depth));
                    }
                }
            }
        }
        // The creator of a task (on this host or, for schtasks /S, another), or its ancestor.
        for other in &self.hosts {
            for t in &other.tasks {
                let chain = self.creator_chain(t);
                if let Some(pos) = chain
                    .iter()
                    .position(|(ch, i)| ch.host.eq_ignore_ascii_case(&h.host) && *i == idx)
                {
                    return Some(creator_link(other, t, process, pos));
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
    pub fn creator_chain(&self, task: &ScheduledTask) -> Vec<(&HostLineage, ProcessId)> {
        let mut out = Vec::new();
        let Some(pl) = &task.creation.process else {
            return out;
        };
        let Some(h) = self.host(&pl.host) else {
            return out;
        };
        if h.processes.get(pl.id).is_none() {
            return out;
        }
        out.push((h, pl.id));
        out.extend(h.processes.ancestors(pl.id).map(|(i, _)| (h, i)));
        out
    }

    /// Network connections made by the task's creator chain (see [`Lineage::creator_chain`]).
    pub fn creator_connections(&self, task: &ScheduledTask) -> Vec<&ProcessConnection> {
        self.creator_chain(task)
            .into_iter()
            .flat_map(|(h, i)| h.processes[i].connections.iter())
            .collect()
    }

    /// Network connections made by the processes of the task's runs.
    pub fn run_connections<'l>(
        &'l self,
        host: &'l HostLineage,
        task: &'l ScheduledTask,
    ) -> impl Iterator<Item = &'l ProcessConnection> {
        task.runs
            .iter()
            .flat_map(|r| r.processes.iter())
            .filter_map(|&i| host.processes.get(i))
            .flat_map(|p| p.connections.iter())
    }
}

/// The process `idx` of `h`, then its ancestors.
fn self_and_ancestors(h: &HostLineage, idx: ProcessId) -> impl Iterator<Item = ProcessId> + '_ {
    core::iter::once(idx).chain(h.processes.ancestors(idx).map(|(i, _)| i))
}

/// `h`'s address, which tells the hosts of one lineage apart (they live in one vector).
fn address(h: &HostLineage) -> usize {
    core::ptr::from_ref(h) as usize
}

/// The link of a process launched by run `r` of `t` (itself at `depth` 0, else a descendant).
fn run_link<'l>(
    h: &'l HostLineage,
    t: &'l ScheduledTask,
    r: &'l TaskRun,
    process: &'l ProcessNode,
    depth: usize,
) -> TaskLink<'l> {
    TaskLink {
        host: h,
        task: t,
        run: Some(r),
        process,
        role: if depth == 0 {
            TaskRole::Launched
        } else {
            TaskRole::Descendant
        },
    }
}

/// The link of a process at position `pos` of task `t`'s creator chain (`other`'s task).
fn creator_link<'l>(
    other: &'l HostLineage,
    t: &'l ScheduledTask,
    process: &'l ProcessNode,
    pos: usize,
) -> TaskLink<'l> {
    TaskLink {
        host: other,
        task: t,
        run: None,
        process,
        role: if pos == 0 {
            TaskRole::Creator
        } else {
            TaskRole::CreatorAncestor
        },
    }
}

/// [`Lineage::task_for_process_id`]'s answers from maps built once, for a caller asking about
/// many processes (the AN1113 join asks for every process that made a connection: a scan of
/// every run for each ancestor of each grew with the square of the data).
#[derive(Debug)]
pub(crate) struct TaskLinks<'l> {
    lineage: &'l Lineage,
    /// Per host (`lineage.hosts` order): launched process → (task, run), the first in task
    /// then run order, as the scan finds it.
    launched: Vec<HashMap<ProcessId, (usize, usize)>>,
    /// A host's position in `lineage.hosts`, by its address (callers hand hosts by reference;
    /// a scan of the hosts for each lookup grew with hosts times processes).
    position: HashMap<usize, usize>,
    /// Per host: the first host with its name (case-insensitively), which keys `created`.
    name_of: Vec<usize>,
    /// (host name, process) on a task's creator chain → (host, task, position in the chain),
    /// the first in host then task then chain order, as the scan finds it.
    created: HashMap<(usize, ProcessId), (usize, usize, usize)>,
}

impl<'l> TaskLinks<'l> {
    /// The maps of `lineage`.
    pub(crate) fn new(lineage: &'l Lineage) -> Self {
        let hosts = &lineage.hosts;
        let launched = hosts
            .iter()
            .map(|h| {
                let mut m = HashMap::new();
                for (ti, t) in h.tasks.iter().enumerate() {
                    for (ri, r) in t.runs.iter().enumerate() {
                        if let Some(p) = r.launched {
                            m.entry(p).or_insert((ti, ri));
                        }
                    }
                }
                m
            })
            .collect();
        // The first host of each name (ASCII case folded, as `eq_ignore_ascii_case` compares).
        let mut first_named: HashMap<String, usize> = HashMap::new();
        let name_of: Vec<usize> = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| *first_named.entry(h.host.to_ascii_lowercase()).or_insert(i))
            .collect();
        let position: HashMap<usize, usize> = hosts.iter().enumerate().map(|(i, h)| (address(h), i)).collect();
        let mut created = HashMap::new();
        for (oi, other) in hosts.iter().enumerate() {
            for (ti, t) in other.tasks.iter().enumerate() {
                for (pos, (ch, i)) in lineage.creator_chain(t).into_iter().enumerate() {
                    if let Some(&c) = position.get(&address(ch)) {
                        created.entry((name_of[c], i)).or_insert((oi, ti, pos));
                    }
                }
            }
        }
        TaskLinks {
            lineage,
            launched,
            position,
            name_of,
            created,
        }
    }

    /// [`Lineage::task_for_process_id`], the same answer.
    pub(crate) fn task_for_process_id(&self, h: &'l HostLineage, idx: ProcessId) -> Option<TaskLink<'l>> {
        let hosts = &self.lineage.hosts;
        let Some(&hi) = self.position.get(&address(h)) else {
            return self.lineage.task_for_process_id(h, idx);
        };
        let process = h.processes.get(idx)?;
        for (depth, i) in self_and_ancestors(h, idx).enumerate() {
            if let Some(&(t, r)) = self.launched[hi].get(&i) {
                let task = &h.tasks[t];
                return Some(run_link(h, task, &task.runs[r], process, depth));
            }
        }
        let &(oi, ti, pos) = self.created.get(&(self.name_of[hi], idx))?;
        let other = &hosts[oi];
        Some(creator_link(other, &other.tasks[ti], process, pos))
    }
}

// The generated scenario needs the `synth` feature (on by default).
#[cfg(all(test, feature = "synth"))]
mod tests {
    use super::*;
    use crate::lineage::LineageBuilder;
    use crate::winevent::WinRecord;

    /// The maps answer as the scan does, for every process of every host: runs' processes,
    /// their descendants, task creators and their ancestors, and processes tied to no task.
    #[test]
    fn task_links_answer_as_the_scan() {
        let s = crate::synth::an1113_scenario(5, 6.0);
        let mut b = LineageBuilder::new();
        let mut rec = WinRecord::new();
        for l in &s.lines {
            if rec.parse_str(l).is_ok() {
                b.push_record(&rec);
            }
        }
        let lin = b.build();
        let links = TaskLinks::new(&lin);
        let key = |l: Option<TaskLink<'_>>| {
            l.map(|l| {
                (
                    core::ptr::from_ref(l.host),
                    core::ptr::from_ref(l.task),
                    l.run.map(core::ptr::from_ref),
                    core::ptr::from_ref(l.process),
                    l.role,
                )
            })
        };
        let (mut roles, mut none) = (Vec::new(), 0);
        for h in &lin.hosts {
            for (id, _) in h.processes.iter() {
                let scan = lin.task_for_process_id(h, id);
                match &scan {
                    Some(l) if !roles.contains(&l.role) => roles.push(l.role),
                    Some(_) => {}
                    None => none += 1,
                }
                assert_eq!(key(links.task_for_process_id(h, id)), key(scan));
            }
        }
        assert!(roles.len() >= 3 && none > 0, "{roles:?}, {none} tied to none");
    }
}
