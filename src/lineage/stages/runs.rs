//! Stage 4, runs: TaskScheduler events grouped into runs (by instance id; 129 by engine PID or
//! time), each run's launched process (the engine PID's process near the run's start), runs
//! implied by processes the Schedule service launched, and each run's process tree.

use super::context::{BuildContext, HostState, TaskAcc, after, by_host, secs};
use crate::lineage::collected::RawTask;
use crate::lineage::heuristics::{is_lolbin, is_script_host, user_writable};
use crate::lineage::model::{LifeEvent, LifeKind, RunCandidate, TaskRun};
use crate::lineage::naming::image_stem;
use crate::lineage::process::{ProcessId, ProcessNode, ProcessTree};
use crate::lineage::taskxml::TaskAction;
use crate::series::{Interner, Span};
use crate::time::{Interval, Timestamp};
use crate::winevent::TaskEventKind;
use core::fmt::Write as _;
use hashbrown::HashMap;

/// The runs of one task so far, for finding the run an event belongs to in constant time.
#[derive(Default)]
struct RunIndex {
    /// Instance id (interned) → run (an id names one run: a run takes one only when no run
    /// has it).
    by_instance: HashMap<u32, usize>,
    /// The first run started within the run window before the current event. Events come
    /// in time order, so runs are created in start order and a run's start never moves
    /// (it is its first event): the runs within the window are the ones from here on.
    in_window: usize,
}

/// Groups the run events (indices into the context's task events, in time order) into runs.
pub(super) fn from_task_events(cx: &mut BuildContext<'_>, run_events: &[usize]) {
    let window = cx.cfg.run_window.as_micros();
    let (events, strings) = (&cx.task_events, &cx.strings);
    // Each host's run events, in time order: a run is one host's, so the hosts are grouped
    // side by side.
    let mine = by_host(
        cx.host.len(),
        run_events.iter().filter_map(|&i| events.get(i)).map(|t| (t.host, t)),
    );
    let hosts: Vec<_> = cx.host.iter_mut().zip(mine).collect();
    crate::threads::map_each(hosts, |(hs, events)| host_runs(hs, &events, strings, window));
}

/// [`from_task_events`] of one host's run events.
fn host_runs(hs: &mut HostState, events: &[&RawTask], strings: &Interner<Span>, window: i64) {
    let mut index: HashMap<usize, RunIndex> = HashMap::new();
    for &t in events {
        let Some(name) = t.name else { continue };
        let slot = hs.task_slot_of(name, strings.get(name));
        let acc = &mut hs.tasks[slot];
        let ix = index.entry(slot).or_default();
        let near = |r: &TaskRun| r.started.is_some_and(|s| (t.ts - s).as_micros().abs() <= window);
        while acc.runs.get(ix.in_window).is_some_and(|r| !near(r)) {
            ix.in_window += 1;
        }
        let recent = acc.runs.iter().enumerate().skip(ix.in_window);
        let pos = if let Some(id) = t.instance_id {
            ix.by_instance.get(&id).copied()
        } else {
            recent
                .clone()
                .find(|(_, r)| r.engine_pid.is_some() && r.engine_pid == t.engine_pid && near(r))
                .map(|(p, _)| p)
        }
        .or_else(|| {
            // 129 before the run's 100/200: join the run whose engine PID it names, or the
            // run that starts right after it.
            recent
                .clone()
                .find(|(_, r)| {
                    near(r)
                        && (r.engine_pid.is_none() || t.engine_pid.is_none() || r.engine_pid == t.engine_pid)
                        && (r.instance_id.is_none() || t.instance_id.is_none())
                })
                .map(|(p, _)| p)
        });
        let p = pos.unwrap_or_else(|| {
            acc.runs.push(TaskRun::default());
            acc.runs.len() - 1
        });
        let r = &mut acc.runs[p];
        if r.instance_id.is_none()
            && let Some(id) = t.instance_id
        {
            r.instance_id = Some(strings.get(id).to_owned());
            ix.by_instance.entry(id).or_insert(p);
        }
        r.events.push(t.event_id);
        r.started = Some(r.started.map_or(t.ts, |s| s.min(t.ts)));
        use TaskEventKind::*;
        match t.kind {
            TimeTriggered | EventTriggered | ManuallyTriggered => r.trigger = Some(t.kind),
            RunCompleted | ActionCompleted => r.ended = Some(r.ended.map_or(t.ts, |e| e.max(t.ts))),
            _ => {}
        }
        if t.engine_pid.is_some() {
            r.engine_pid = t.engine_pid;
        }
        // A copy only when the text changes (the next event mostly repeats it).
        for (to, from) in [
            (&mut r.path, t.path),
            (&mut r.action_name, t.action_name),
            (&mut r.result_code, t.result_code),
        ] {
            if let Some(id) = from {
                let text = strings.get(id);
                if to.as_deref() != Some(text) {
                    *to = Some(text.to_owned());
                }
            }
        }
    }
}

/// True when `p`'s parent is the Schedule service (`svchost.exe ... -s Schedule`).
fn parent_is_schedule_service(p: &ProcessNode) -> bool {
    let pimg = p.parent_image.as_deref().map(image_stem).unwrap_or_default();
    let pcmd = p.parent_command_line.as_deref().unwrap_or("").to_ascii_lowercase();
    pimg == "svchost" && pcmd.contains("-s schedule")
}

/// The launched process of each logged run: the engine PID's process nearest the run's
/// start, within the run window.
pub(super) fn launched_processes(cx: &mut BuildContext<'_>) {
    let window = cx.cfg.run_window.as_micros();
    // One host's runs and processes only: the hosts side by side.
    crate::threads::map_each(cx.host.iter_mut().collect(), |hs| launched_on_host(hs, window));
}

/// [`launched_processes`] of one host.
fn launched_on_host(hs: &mut HostState, window: i64) {
    // What a launched process's parent says, once per distinct logged parent (a task's
    // runs are launched by the same host process, run after run).
    let mut parents: HashMap<(Option<&str>, Option<&str>), String> = HashMap::new();
    for acc in hs.tasks.iter_mut() {
        for r in acc.runs.iter_mut() {
            let (Some(pid), Some(start)) = (r.engine_pid, r.started) else {
                continue;
            };
            let best = hs
                .index
                .pid_all(pid)
                .iter()
                .map(|&j| (j, (hs.procs[j.index()].ts - start).as_micros().abs()))
                .filter(|&(_, d)| d <= window)
                .min_by_key(|&(_, d)| d);
            let Some((j, _)) = best else { continue };
            r.launched = Some(j);
            hs.launched[j.index()] = true;
            let p = &hs.procs[j.index()];
            let parent = parents
                .entry((p.parent_image.as_deref(), p.parent_command_line.as_deref()))
                .or_insert_with(|| parent_says(p));
            // "engine PID {pid} (TaskScheduler 129|200) = {image} started {secs} from the
            // run's first event; {parent}", written piece by piece: one sentence a run, and
            // `format!` over five arguments was most of this stage's time.
            let image = p.image_name().unwrap_or("?");
            let mut join = String::with_capacity(96 + image.len() + parent.len());
            join.push_str("engine PID ");
            let _ = write!(join, "{pid}");
            join.push_str(if r.events.contains(&129) {
                " (TaskScheduler 129) = "
            } else {
                " (TaskScheduler 200) = "
            });
            join.push_str(image);
            join.push_str(" started ");
            let _ = write!(join, "{}", secs(p.ts - start));
            join.push_str(" from the run's first event; ");
            join.push_str(parent);
            r.join = Some(join);
        }
    }
}

/// What `p`'s logged parent says about a launch: the Schedule service, another task host,
/// not logged, or no task host.
fn parent_says(p: &ProcessNode) -> String {
    let pimg = p.parent_image.as_deref().map(image_stem).unwrap_or_default();
    if parent_is_schedule_service(p) {
        "parent is the Schedule service (svchost -s Schedule)".to_owned()
    } else if matches!(pimg.as_str(), "svchost" | "taskeng" | "taskhostw" | "taskhost") {
        format!("parent is {pimg}.exe")
    } else if pimg.is_empty() {
        "parent not logged".to_owned()
    } else {
        format!("parent {pimg}.exe is not a task host")
    }
}

/// Runs no TaskScheduler event logged: processes launched by the Schedule service or
/// `taskeng.exe` (or whose parent cannot tell) that match a task's declared action right after
/// a registration, or follow a `schtasks /run`; Schedule-service launches matching no task are
/// kept as unattributed runs.
pub(super) fn implicit_runs(cx: &mut BuildContext<'_>) {
    let window = cx.cfg.run_window;
    let candidate_window = cx.cfg.candidate_window;
    for hs in cx.host.iter_mut() {
        for j in 0..hs.procs.len() {
            if hs.launched[j] {
                continue;
            }
            let p = &hs.procs[j];
            let pimg = p.parent_image.as_deref().map(image_stem).unwrap_or_default();
            let schedule_svc = parent_is_schedule_service(p);
            // taskeng.exe (Windows 7), or a taskhostw.exe not in the data (the COM-handler
            // host: when it is in the data, its children are its run's descendants).
            let taskeng = pimg == "taskeng" || (pimg == "taskhostw" && p.parent.is_none());
            // A parent that cannot tell us (4688 svchost with no command line, or missing).
            let weak_parent = (pimg == "svchost" && p.parent_command_line.is_none()) || p.parent.is_none();
            if !(schedule_svc || taskeng || weak_parent) {
                continue;
            }
            let img = p.image.as_deref().map(image_stem).unwrap_or_default();
            // Action match: the task's Exec command is this image and it was registered or
            // asked to run shortly before.
            let action_match = hs.tasks.iter().enumerate().find_map(|(ti, acc)| {
                let def = acc.defs.last().map(|d| &d.1)?;
                let matches = def.actions.iter().any(|a| match a {
                    TaskAction::Exec { command, .. } => image_stem(command) == img,
                    TaskAction::ComHandler { .. } => img == "taskhostw",
                    _ => false,
                });
                if !matches {
                    return None;
                }
                let ev = last_change_before(acc, p.ts, window)?;
                Some((
                    ti,
                    format!(
                        "{} matches the declared action and started {} relative to {}",
                        p.image_name().unwrap_or("?"),
                        secs(p.ts - ev.ts),
                        ev.source
                    ),
                ))
            });
            let requested = if action_match.is_none() && (schedule_svc || taskeng) {
                hs.tasks.iter().enumerate().find_map(|(ti, acc)| {
                    let ev = acc
                        .life
                        .iter()
                        .filter(|l| l.what == LifeKind::RunRequested && l.ts <= p.ts && p.ts - l.ts <= window)
                        .max_by_key(|l| l.ts)?;
                    Some((
                        ti,
                        format!("started {} after {} of this task", secs(p.ts - ev.ts), ev.source),
                    ))
                })
            } else {
                None
            };
            let parent_desc = if schedule_svc {
                "parent is the Schedule service (svchost -s Schedule)".to_owned()
            } else if taskeng {
                format!(
                    "parent is {}",
                    p.parent_command_line.as_deref().unwrap_or(if pimg == "taskhostw" {
                        "taskhostw.exe"
                    } else {
                        "taskeng.exe"
                    })
                )
            } else if p.parent.is_none() {
                match p.parent_pid {
                    Some(pp) => format!("parent PID {pp} is not in the data"),
                    None => "parent unknown".to_owned(),
                }
            } else {
                "parent is svchost.exe".to_owned()
            };
            let run = |join: String| TaskRun {
                started: Some(p.ts),
                launched: Some(ProcessId::new(j)),
                join: Some(join),
                ..TaskRun::default()
            };
            match action_match.or(requested) {
                Some((ti, why)) => {
                    let r = run(format!("{why}; {parent_desc}"));
                    hs.tasks[ti].runs.push(r);
                    hs.launched[j] = true;
                }
                None => {
                    // Launched by the task engine, or a likely run (a LOLBin, script host or
                    // user-writable image whose parent is unknown) shortly after a task
                    // changed: kept with the tasks that could have launched it.
                    let candidates = run_candidates(hs, j, candidate_window);
                    let image = p.image.as_deref().unwrap_or("");
                    let likely = p.parent.is_none()
                        && !candidates.is_empty()
                        && (is_lolbin(image) || is_script_host(image) || user_writable(image).is_some());
                    if schedule_svc || taskeng || likely {
                        let mut r = run(if likely && !(schedule_svc || taskeng) {
                            format!("{parent_desc}; started after a task change on this host")
                        } else {
                            parent_desc
                        });
                        r.candidates = candidates;
                        hs.unattributed.push(r);
                        hs.launched[j] = true;
                    }
                }
            }
        }
    }
}

/// The task's latest registration, change or run request at most `window` before `ts` (and
/// not more than a second after: clocks of two logs).
fn last_change_before(acc: &TaskAcc, ts: Timestamp, window: Interval) -> Option<&LifeEvent> {
    acc.life
        .iter()
        .filter(|l| {
            matches!(l.what, LifeKind::Created | LifeKind::Updated | LifeKind::RunRequested)
                && l.ts <= after(ts, 1)
                && ts - l.ts <= window
        })
        .max_by_key(|l| l.ts)
}

/// The tasks of host `hs` that could have launched process `j`: created, updated or asked to
/// run within `window` before it started; those whose action names its image first, then the
/// nearest.
fn run_candidates(hs: &HostState, j: usize, window: Interval) -> Vec<RunCandidate> {
    let p = &hs.procs[j];
    let img = p.image.as_deref().map(image_stem).unwrap_or_default();
    let mut out: Vec<RunCandidate> = hs
        .tasks
        .iter()
        .filter_map(|acc| {
            let l = last_change_before(acc, p.ts, window)?;
            let action_matches = acc.defs.last().is_some_and(|d| {
                d.1.actions.iter().any(|a| match a {
                    TaskAction::Exec { command, arguments, .. } => {
                        image_stem(command) == img
                            || (!img.is_empty()
                                && arguments
                                    .as_deref()
                                    .is_some_and(|a| a.to_ascii_lowercase().contains(&img)))
                    }
                    TaskAction::ComHandler { .. } => img == "taskhostw",
                    _ => false,
                })
            });
            Some(RunCandidate {
                task: acc.name.clone(),
                after: l.what,
                gap: p.ts - l.ts,
                action_matches,
            })
        })
        .collect();
    out.sort_by_key(|c| (!c.action_matches, c.gap));
    out
}

/// Each run's launched process with all its descendants; runs in time order.
pub(super) fn process_trees(cx: &mut BuildContext<'_>) {
    crate::threads::map_each(cx.host.iter_mut().collect(), |hs| {
        // The tree is read through a view; the nodes go back unchanged.
        let tree = ProcessTree::from_nodes(core::mem::take(&mut hs.procs));
        for acc in hs.tasks.iter_mut() {
            for r in acc.runs.iter_mut() {
                if let Some(l) = r.launched {
                    r.processes = tree.descendants(l);
                }
            }
            acc.runs.sort_by_key(|r| r.started);
        }
        for r in hs.unattributed.iter_mut() {
            if let Some(l) = r.launched {
                r.processes = tree.descendants(l);
            }
        }
        hs.procs = tree.into_nodes();
    });
}
