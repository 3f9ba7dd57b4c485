//! Questions asked of a built [`Lineage`]: a host, a task, and for a beaconing process which
//! task launched (or created) it.

use super::cmdline::normalize_task_name;
use super::hosts::find_host;
use super::model::{CreationMethod, HostLineage, LifeKind, Lineage, ScheduledTask, TaskRun};
use super::naming::file_name;
use super::process::{ProcessConnection, ProcessId, ProcessNode};
use crate::event::ConnEvent;
use crate::time::{Interval, Timestamp};

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
        let up = core::iter::once(idx).chain(tree.ancestors(idx).map(|(i, _)| i));
        for (depth, i) in up.enumerate() {
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
        }
        // The creator of a task (on this host or, for schtasks /S, another), or its ancestor.
        for other in &self.hosts {
            for t in &other.tasks {
                let chain = self.creator_chain(t);
                if let Some(pos) = chain
                    .iter()
                    .position(|(ch, i)| ch.host.eq_ignore_ascii_case(&h.host) && *i == idx)
                {
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
