//! Reconstruction: clocks → processes and their tree → connections → tasks (life, definition,
//! creation) → runs and launched processes → findings → coverage.

use super::cmdline::{SchtasksCommand, SchtasksVerb};
use super::events::{EvidenceKind, ProcessSource, TaskEventKind};
use super::model::*;
use super::score::{self, Finding, Reason};
use super::taskxml::{TaskAction, TaskDefinition};
use crate::time::{Interval, Timestamp};
use std::collections::HashMap;

const QUARTER_HOUR: i64 = 15 * 60 * 1_000_000;

struct TaskAcc {
    name: String,
    life: Vec<LifeEvent>,
    defs: Vec<(Timestamp, TaskDefinition, DefinitionSource)>,
    /// Raw task events (indices into `b.tasks`) of registration kinds, time-ordered.
    reg: Vec<usize>,
    /// schtasks/at creators: (host, process index, verb).
    tools: Vec<(usize, usize, Timestamp, bool)>,
    runs: Vec<Run>,
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

fn task_slot(tasks: &mut Vec<TaskAcc>, name: &str) -> usize {
    if let Some(i) = tasks.iter().position(|t| t.name.eq_ignore_ascii_case(name)) {
        return i;
    }
    tasks.push(TaskAcc::new(name));
    tasks.len() - 1
}

fn lname(s: &str) -> String {
    let n = file_name(s.trim_matches('"')).to_ascii_lowercase();
    n.strip_suffix(".exe").map(str::to_owned).unwrap_or(n)
}

/// Per-host lookups: GUID → process, PID → processes in start order.
#[derive(Debug, Default)]
struct Index {
    by_guid: HashMap<String, usize>,
    by_pid: HashMap<u32, Vec<usize>>,
}

impl Index {
    /// `ps` must be sorted by start time.
    fn new(ps: &[Process]) -> Self {
        let mut ix = Index::default();
        for (i, p) in ps.iter().enumerate() {
            if let Some(g) = &p.guid {
                ix.by_guid.insert(g.to_ascii_lowercase(), i);
            }
            if let Some(pid) = p.pid {
                ix.by_pid.entry(pid).or_default().push(i);
            }
        }
        ix
    }

    fn guid(&self, g: &str) -> Option<usize> {
        self.by_guid.get(&g.to_ascii_lowercase()).copied()
    }

    fn pid_all(&self, pid: u32) -> &[usize] {
        self.by_pid.get(&pid).map_or(&[], Vec::as_slice)
    }

    /// The latest process with `pid` started at or before `t`.
    fn pid_at(&self, ps: &[Process], pid: u32, t: Timestamp) -> Option<usize> {
        let v = self.pid_all(pid);
        let n = v.partition_point(|&j| ps[j].ts <= t);
        n.checked_sub(1).map(|k| v[k])
    }
}

/// `ts + secs` (saturating).
fn after(ts: Timestamp, secs: i64) -> Timestamp {
    Timestamp(ts.0.saturating_add(secs.saturating_mul(1_000_000)))
}

fn secs(d: Interval) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

#[allow(clippy::needless_range_loop)] // host indices tie several per-host vectors together
pub(crate) fn build(b: LineageBuilder) -> Lineage {
    let cfg = b.config;
    let nh = b.hosts.len();
    let mut coverage = b.coverage.clone();

    // 1. Clocks: median UtcTime - TimeCreated over each host's Sysmon records.
    let mut correction = vec![0i64; nh];
    let mut clocks = Vec::new();
    for (h, sk) in b.skews.iter().enumerate() {
        if sk.is_empty() {
            continue;
        }
        let mut v = sk.clone();
        v.sort_unstable();
        let median = v[v.len() / 2];
        let tol = cfg.clock_tolerance.as_micros();
        let disagreeing = v.iter().filter(|&&s| (s - median).abs() > tol).count() as u64;
        let corr = if median.abs() > tol {
            (median as f64 / QUARTER_HOUR as f64).round() as i64 * QUARTER_HOUR
        } else {
            0
        };
        correction[h] = corr;
        if corr != 0 || disagreeing > 0 {
            clocks.push(ClockReport {
                host: b.hosts[h].clone(),
                median_skew: Interval(median),
                correction: Interval(corr),
                samples: v.len() as u64,
                disagreeing,
            });
        }
        if corr != 0 {
            coverage.gaps.push(CoverageGap::ClockDisagreement {
                host: b.hosts[h].clone(),
                skew: Interval(median),
            });
        }
    }
    let fix = |h: usize, ts: Timestamp| Timestamp(ts.0.saturating_add(correction[h]));

    // 2. Processes per host: Sysmon 1 first, 4688 merged into a matching Sysmon 1.
    let mut procs: Vec<Vec<Process>> = vec![Vec::new(); nh];
    let mut raw = b.procs;
    for (h, p) in raw.iter_mut() {
        if p.source == ProcessSource::Security4688 {
            p.ts = fix(*h, p.ts);
        }
    }
    raw.sort_by_key(|(_, p)| (p.source != ProcessSource::Sysmon1, p.ts));
    let mut sysmon_by_pid: HashMap<(usize, u32), Vec<usize>> = HashMap::new();
    for (h, p) in raw {
        if p.source == ProcessSource::Security4688
            && let Some(pid) = p.pid
            && let Some(cands) = sysmon_by_pid.get(&(h, pid))
            && let Some(&si) = cands.iter().find(|&&si| {
                let s = &procs[h][si];
                (s.ts - p.ts).as_micros().abs() <= 2_000_000
                    && s.image_name().map(str::to_ascii_lowercase) == p.image_name().map(str::to_ascii_lowercase)
            })
        {
            let s = &mut procs[h][si];
            if s.command_line.is_none() {
                s.command_line = p.command_line;
            }
            continue;
        }
        if p.source == ProcessSource::Sysmon1
            && let Some(pid) = p.pid
        {
            sysmon_by_pid.entry((h, pid)).or_default().push(procs[h].len());
        }
        procs[h].push(p);
    }
    let mut unresolved: Vec<Vec<usize>> = vec![Vec::new(); nh];
    let mut index: Vec<Index> = Vec::with_capacity(nh);
    for (h, ps) in procs.iter_mut().enumerate() {
        ps.sort_by_key(|p| p.ts);
        let ix = Index::new(ps);
        for i in 0..ps.len() {
            let parent = if let Some(g) = &ps[i].parent_guid {
                ix.guid(g)
            } else if let Some(pp) = ps[i].parent_pid {
                ix.pid_at(ps, pp, after(ps[i].ts, 1)).filter(|&j| j != i)
            } else {
                None
            };
            match parent {
                Some(j) if j != i => {
                    ps[i].parent = Some(j);
                    ps[j].children.push(i);
                }
                _ if ps[i].parent_guid.is_some() || ps[i].parent_pid.is_some() => unresolved[h].push(i),
                _ => {}
            }
        }
        index.push(ix);
    }

    // 3. Connections → processes (GUID, else PID at that time, else the only process with it).
    for c in b.conns {
        let ps = &mut procs[c.host];
        let ix = &index[c.host];
        let idx = c.guid.as_deref().and_then(|g| ix.guid(g)).or_else(|| {
            let pid = c.pid?;
            ix.pid_at(ps, pid, c.conn.ts).or_else(|| match ix.pid_all(pid) {
                [only] => Some(*only),
                _ => None,
            })
        });
        if let Some(i) = idx {
            ps[i].connections.push(c.conn);
        }
    }

    // 4. Tasks: life events, definitions, registration events.
    let mut tasks: Vec<Vec<TaskAcc>> = (0..nh).map(|_| Vec::new()).collect();
    let mut raw_tasks = b.tasks;
    for t in raw_tasks.iter_mut() {
        t.ts = fix(t.host, t.ts);
    }
    let mut order: Vec<usize> = (0..raw_tasks.len()).collect();
    order.sort_by_key(|&i| raw_tasks[i].ts);
    // Run events per (host, task slot).
    let mut run_events: Vec<usize> = Vec::new();
    for &i in &order {
        let t = &raw_tasks[i];
        let Some(name) = &t.name else { continue };
        let slot = task_slot(&mut tasks[t.host], name);
        let acc = &mut tasks[t.host][slot];
        use TaskEventKind::*;
        let what = match t.kind {
            Created | Registered => Some(LifeKind::Created),
            Updated | RegistrationUpdated => Some(LifeKind::Updated),
            Deleted | RegistrationDeleted => Some(LifeKind::Deleted),
            Enabled => Some(LifeKind::Enabled),
            Disabled | RegistrationDisabled => Some(LifeKind::Disabled),
            ManuallyTriggered => Some(LifeKind::RunRequested),
            _ => None,
        };
        if let Some(what) = what {
            let chan = if t.event_id >= 4000 {
                "Security"
            } else {
                "TaskScheduler"
            };
            acc.life.push(LifeEvent {
                ts: t.ts,
                what,
                source: format!("{chan} {}", t.event_id),
            });
            if !matches!(t.kind, ManuallyTriggered) {
                acc.reg.push(i);
            }
        }
        if matches!(t.kind, Created | Updated)
            && let Some(Ok(def)) = &t.def
        {
            acc.defs.push((t.ts, def.clone(), DefinitionSource::Xml));
        }
        if t.kind.is_run() {
            run_events.push(i);
        }
    }
    // schtasks / at command lines (possibly against another host with /S).
    for h in 0..nh {
        for (pi, p) in procs[h].iter().enumerate() {
            let Some(cmd) = p.command_line.as_deref() else { continue };
            let Some(c) = SchtasksCommand::parse(cmd) else { continue };
            let target = match c.remote_system.as_deref() {
                Some(r) => match (0..nh).find(|&x| host_eq(&b.hosts[x], r)) {
                    Some(x) => x,
                    None => continue,
                },
                None => h,
            };
            let name = c
                .normalized_task_name()
                .unwrap_or_else(|| if c.at { "\\At".into() } else { String::new() });
            if name.is_empty() {
                continue;
            }
            let what = match (c.at, c.verb) {
                (true, _) | (_, Some(SchtasksVerb::Create)) => LifeKind::Created,
                (_, Some(SchtasksVerb::Change)) => LifeKind::Updated,
                (_, Some(SchtasksVerb::Delete)) => LifeKind::Deleted,
                (_, Some(SchtasksVerb::Run)) => LifeKind::RunRequested,
                _ => continue,
            };
            let slot = task_slot(&mut tasks[target], &name);
            let acc = &mut tasks[target][slot];
            let tool = if c.at { "at.exe" } else { "schtasks" };
            let verb = match what {
                LifeKind::Created => "/create",
                LifeKind::Updated => "/change",
                LifeKind::Deleted => "/delete",
                _ => "/run",
            };
            let remote = if target != h {
                format!(" from {}", b.hosts[h])
            } else {
                String::new()
            };
            acc.life.push(LifeEvent {
                ts: p.ts,
                what,
                source: format!("{tool} {verb}{remote}"),
            });
            if c.is_change() {
                acc.tools.push((h, pi, p.ts, c.at));
                let def = c.definition();
                if c.task_run.is_some() || !def.triggers.is_empty() {
                    acc.defs.push((p.ts, def, DefinitionSource::CommandLine));
                }
            }
        }
    }
    // Sysmon 11 task files and TaskCache registry writes.
    let mut evidence = b.evidence;
    for e in evidence.iter_mut() {
        if !e.sysmon {
            e.ts = fix(e.host, e.ts);
        }
    }
    for e in &evidence {
        let Some(name) = &e.task_name else { continue };
        let what = match e.kind {
            EvidenceKind::TaskFile => LifeKind::FileWritten,
            EvidenceKind::TaskCacheValue | EvidenceKind::TaskCacheKey => {
                let v = e.value_name.as_deref().unwrap_or("");
                let d = e.detail.as_deref().unwrap_or("");
                let sd_deleted = v.eq_ignore_ascii_case("SD") && d.eq_ignore_ascii_case("DeleteValue");
                let index0 = v.eq_ignore_ascii_case("Index") && d.contains("0x00000000");
                if sd_deleted || index0 {
                    LifeKind::RegistryHidden
                } else {
                    LifeKind::RegistryWritten
                }
            }
            _ => continue,
        };
        // TaskCache\Tree keys name folders as well as tasks; only a task has `Id` / `Index`
        // values. Other registry evidence only adds to a task already known.
        let v = e.value_name.as_deref().unwrap_or("");
        let names_task = e.kind == EvidenceKind::TaskFile
            || (e.kind == EvidenceKind::TaskCacheValue
                && (v.eq_ignore_ascii_case("Id") || v.eq_ignore_ascii_case("Index")));
        let known = tasks[e.host].iter().any(|t| t.name.eq_ignore_ascii_case(name));
        if !names_task && !known {
            continue;
        }
        let slot = task_slot(&mut tasks[e.host], name);
        tasks[e.host][slot].life.push(LifeEvent {
            ts: e.ts,
            what,
            source: match e.kind {
                EvidenceKind::TaskFile => "Sysmon 11".into(),
                EvidenceKind::TaskCacheKey => "Sysmon 12".into(),
                _ => "Sysmon 13".into(),
            },
        });
    }

    // 5. Runs from TaskScheduler events: by instance id; 129 by engine PID.
    for &i in &run_events {
        let t = &raw_tasks[i];
        let Some(name) = &t.name else { continue };
        let slot = task_slot(&mut tasks[t.host], name);
        let acc = &mut tasks[t.host][slot];
        let pos = if let Some(id) = &t.instance_id {
            acc.runs
                .iter()
                .position(|r| r.instance_id.as_deref() == Some(id.as_str()))
        } else {
            acc.runs.iter().position(|r| {
                r.engine_pid.is_some()
                    && r.engine_pid == t.engine_pid
                    && r.started
                        .is_some_and(|s| (t.ts - s).as_micros().abs() <= cfg.run_window.as_micros())
            })
        }
        .or_else(|| {
            // 129 before the run's 100/200: join the run whose engine PID it names, or the
            // run that starts right after it.
            acc.runs.iter().position(|r| {
                r.started
                    .is_some_and(|s| (t.ts - s).as_micros().abs() <= cfg.run_window.as_micros())
                    && (r.engine_pid.is_none() || t.engine_pid.is_none() || r.engine_pid == t.engine_pid)
                    && (r.instance_id.is_none() || t.instance_id.is_none())
            })
        });
        let r = match pos {
            Some(p) => &mut acc.runs[p],
            None => {
                acc.runs.push(Run::default());
                let n = acc.runs.len() - 1;
                &mut acc.runs[n]
            }
        };
        if r.instance_id.is_none() {
            r.instance_id = t.instance_id.clone();
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
        if t.path.is_some() {
            r.path = t.path.clone();
        }
        if t.action_name.is_some() {
            r.action_name = t.action_name.clone();
        }
        if t.result_code.is_some() {
            r.result_code = t.result_code.clone();
        }
    }
    // Launched process of each logged run: the engine PID near the run's start.
    let mut launched_any: Vec<Vec<bool>> = procs.iter().map(|p| vec![false; p.len()]).collect();
    for h in 0..nh {
        for acc in tasks[h].iter_mut() {
            for r in acc.runs.iter_mut() {
                let (Some(pid), Some(start)) = (r.engine_pid, r.started) else {
                    continue;
                };
                let best = index[h]
                    .pid_all(pid)
                    .iter()
                    .map(|&j| (j, (procs[h][j].ts - start).as_micros().abs()))
                    .filter(|&(_, d)| d <= cfg.run_window.as_micros())
                    .min_by_key(|&(_, d)| d);
                if let Some((j, _)) = best {
                    r.launched = Some(j);
                    launched_any[h][j] = true;
                    let p = &procs[h][j];
                    let pimg = p.parent_image.as_deref().map(lname).unwrap_or_default();
                    let pcmd = p.parent_command_line.as_deref().unwrap_or("").to_ascii_lowercase();
                    let parent = if pimg == "svchost" && pcmd.contains("-s schedule") {
                        "parent is the Schedule service (svchost -s Schedule)".to_owned()
                    } else if matches!(pimg.as_str(), "svchost" | "taskeng" | "taskhostw" | "taskhost") {
                        format!("parent is {pimg}.exe")
                    } else if pimg.is_empty() {
                        "parent not logged".to_owned()
                    } else {
                        format!("parent {pimg}.exe is not a task host")
                    };
                    r.join = Some(format!(
                        "engine PID {pid} (TaskScheduler {}) = {} started {} from the run's first event; {parent}",
                        if r.events.contains(&129) { "129" } else { "200" },
                        p.image_name().unwrap_or("?"),
                        secs(p.ts - start)
                    ));
                }
            }
        }
    }

    // 6. Implicit runs: processes launched by the Schedule service, taskeng.exe, or matching a
    //    task's declared action right after a registration.
    let mut unattributed: Vec<Vec<Run>> = vec![Vec::new(); nh];
    for h in 0..nh {
        for j in 0..procs[h].len() {
            if launched_any[h][j] {
                continue;
            }
            let p = &procs[h][j];
            let pimg = p.parent_image.as_deref().map(lname).unwrap_or_default();
            let pcmd = p.parent_command_line.as_deref().unwrap_or("").to_ascii_lowercase();
            let schedule_svc = pimg == "svchost" && pcmd.contains("-s schedule");
            let taskeng = pimg == "taskeng";
            // A parent that cannot tell us (4688 svchost with no command line, or missing).
            let weak_parent = (pimg == "svchost" && p.parent_command_line.is_none()) || p.parent.is_none();
            if !(schedule_svc || taskeng || weak_parent) {
                continue;
            }
            let img = p.image.as_deref().map(lname).unwrap_or_default();
            // Action match: the task's Exec command is this image and it was registered or
            // asked to run shortly before.
            let action_match = tasks[h].iter().enumerate().find_map(|(ti, acc)| {
                let def = acc.defs.last().map(|d| &d.1)?;
                let matches = def.actions.iter().any(|a| match a {
                    TaskAction::Exec { command, .. } => lname(command) == img,
                    TaskAction::ComHandler { .. } => img == "taskhostw",
                    _ => false,
                });
                if !matches {
                    return None;
                }
                let ev = acc
                    .life
                    .iter()
                    .filter(|l| {
                        matches!(l.what, LifeKind::Created | LifeKind::Updated | LifeKind::RunRequested)
                            && l.ts <= after(p.ts, 1)
                            && p.ts - l.ts <= cfg.run_window
                    })
                    .max_by_key(|l| l.ts)?;
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
                tasks[h].iter().enumerate().find_map(|(ti, acc)| {
                    let ev = acc
                        .life
                        .iter()
                        .filter(|l| l.what == LifeKind::RunRequested && l.ts <= p.ts && p.ts - l.ts <= cfg.run_window)
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
                    p.parent_command_line.as_deref().unwrap_or("taskeng.exe")
                )
            } else if p.parent.is_none() {
                match p.parent_pid {
                    Some(pp) => format!("parent PID {pp} is not in the data"),
                    None => "parent unknown".to_owned(),
                }
            } else {
                "parent is svchost.exe".to_owned()
            };
            let run = |join: String| Run {
                started: Some(p.ts),
                launched: Some(j),
                join: Some(join),
                ..Run::default()
            };
            match action_match.or(requested) {
                Some((ti, why)) => {
                    let r = run(format!("{why}; {parent_desc}"));
                    tasks[h][ti].runs.push(r);
                    launched_any[h][j] = true;
                }
                None if schedule_svc || taskeng => {
                    unattributed[h].push(run(parent_desc));
                    launched_any[h][j] = true;
                }
                None => {}
            }
        }
    }

    // 7. Descendant trees of launched processes.
    let tree = |ps: &[Process], root: usize| {
        let mut out = vec![root];
        let mut k = 0;
        while k < out.len() && out.len() <= ps.len() {
            for &c in &ps[out[k]].children {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
            k += 1;
        }
        out
    };
    for h in 0..nh {
        for acc in tasks[h].iter_mut() {
            for r in acc.runs.iter_mut() {
                if let Some(l) = r.launched {
                    r.processes = tree(&procs[h], l);
                }
            }
            acc.runs.sort_by_key(|r| r.started);
        }
        for r in unattributed[h].iter_mut() {
            if let Some(l) = r.launched {
                r.processes = tree(&procs[h], l);
            }
        }
    }

    // 8. Creation, life summary, findings.
    // Rarity across all hosts and runs: (task, image, shape) → count; task → runs.
    let mut shape_count: HashMap<(String, String, String), u64> = HashMap::new();
    let mut task_runs: HashMap<String, u64> = HashMap::new();
    for h in 0..nh {
        for acc in &tasks[h] {
            for r in &acc.runs {
                if let Some(p) = r.launched.map(|l| &procs[h][l]) {
                    let key = rarity_key(&acc.name, p);
                    *shape_count.entry(key).or_default() += 1;
                    *task_runs.entry(acc.name.to_ascii_lowercase()).or_default() += 1;
                }
            }
        }
    }
    let mut all_tasks: Vec<Vec<Task>> = Vec::with_capacity(nh);
    for h in 0..nh {
        let mut out_tasks = Vec::new();
        for acc in tasks[h].drain(..) {
            let mut life = acc.life;
            life.sort_by_key(|l| l.ts);
            let creation = creation(
                &index, h, &acc.reg, &acc.tools, &raw_tasks, &evidence, &procs, &b.hosts, &life, &acc.name, &cfg,
            );
            let (definition, definition_source) = match acc.defs.iter().rev().find(|d| d.2 == DefinitionSource::Xml) {
                Some(d) => (Some(d.1.clone()), Some(DefinitionSource::Xml)),
                None => match acc.defs.last() {
                    Some(d) => (Some(d.1.clone()), Some(DefinitionSource::CommandLine)),
                    None => (None, None),
                },
            };
            let created = life
                .iter()
                .find(|l| matches!(l.what, LifeKind::Created | LifeKind::FileWritten))
                .map(|l| l.ts);
            let deleted = life.iter().rev().find(|l| l.what == LifeKind::Deleted).map(|l| l.ts);
            let short_lived = matches!((created, deleted), (Some(c), Some(d)) if d >= c && d - c <= cfg.short_lived);
            let reg_hidden = life.iter().any(|l| l.what == LifeKind::RegistryHidden);
            let hidden = definition.as_ref().is_some_and(|d| d.hidden) || reg_hidden;
            // Built-in tasks changed only by the machine itself (SYSTEM, `HOST$`) stay baseline.
            let by_machine = creation.user.as_deref().is_some_and(machine_account) && !creation.remote;
            let changed = life
                .iter()
                .any(|l| matches!(l.what, LifeKind::Created | LifeKind::Updated))
                && !by_machine;
            let builtin = acc.name.to_ascii_lowercase().starts_with("\\microsoft\\windows\\") && !changed;
            let period = definition.as_ref().and_then(TaskDefinition::period);
            let mut task = Task {
                name: acc.name,
                builtin,
                creation,
                definition,
                definition_source,
                period,
                life,
                created,
                deleted,
                short_lived,
                hidden,
                runs: acc.runs,
                findings: Vec::new(),
            };
            if task.creation.method == CreationMethod::Unknown && builtin {
                task.creation.method = CreationMethod::PreExisting;
            }
            if !builtin {
                let all: Vec<(&str, &[Process])> = b
                    .hosts
                    .iter()
                    .map(String::as_str)
                    .zip(procs.iter().map(Vec::as_slice))
                    .collect();
                task.findings = findings(
                    &task,
                    &procs[h],
                    &all,
                    &cfg,
                    &shape_count,
                    &task_runs,
                    b.baseline.as_ref(),
                );
            }
            out_tasks.push(task);
        }
        all_tasks.push(out_tasks);
    }
    let hosts_out: Vec<HostLineage> = all_tasks
        .into_iter()
        .zip(procs)
        .zip(unattributed)
        .zip(unresolved)
        .zip(b.hosts.iter())
        .map(
            |((((tasks, processes), unattributed_runs), unresolved_parents), host)| HostLineage {
                host: host.clone(),
                tasks,
                processes,
                unattributed_runs,
                unresolved_parents,
            },
        )
        .collect();

    // 9. Coverage gaps.
    let c = &mut coverage;
    let nproc = c.sysmon1 + c.security4688;
    if c.task_events == 0 {
        c.gaps.insert(0, CoverageGap::NoTaskEvents);
    } else if c.task_scheduler_events == 0 {
        c.gaps.insert(0, CoverageGap::NoTaskSchedulerOperational);
    }
    if nproc == 0 {
        c.gaps.push(CoverageGap::NoProcessEvents);
    } else {
        if c.sysmon1 == 0 {
            c.gaps.push(CoverageGap::NoSysmon1);
        }
        if c.with_command_line < nproc {
            c.gaps.push(CoverageGap::MissingCommandLines {
                without: nproc - c.with_command_line,
                total: nproc,
            });
        }
    }
    if c.network_events == 0 {
        c.gaps.push(CoverageGap::NoNetworkEvents);
    } else if c.network_with_process < c.network_events {
        c.gaps.push(CoverageGap::MissingNetworkProcess {
            without: c.network_events - c.network_with_process,
            total: c.network_events,
        });
    }
    Lineage {
        hosts: hosts_out,
        coverage,
        clocks,
    }
}

/// SYSTEM, LOCAL SERVICE, NETWORK SERVICE, or a computer account (`DOMAIN\\HOST$`).
fn machine_account(u: &str) -> bool {
    let l = u.to_ascii_lowercase();
    l.ends_with('$')
        || l.starts_with("nt authority\\")
        || matches!(
            l.as_str(),
            "s-1-5-18" | "s-1-5-19" | "s-1-5-20" | "system" | "local system"
        )
}

fn rarity_key(task: &str, p: &Process) -> (String, String, String) {
    (
        task.to_ascii_lowercase(),
        p.image_name().unwrap_or("").to_ascii_lowercase(),
        score::command_line_shape(p.command_line.as_deref().unwrap_or("")),
    )
}

fn fmt_logon(l: u64) -> String {
    format!("{l:#x}")
}

#[allow(clippy::too_many_arguments)]
fn creation(
    index: &[Index],
    h: usize,
    reg: &[usize],
    tools: &[(usize, usize, Timestamp, bool)],
    raw: &[RawTask],
    evidence: &[RawEvidence],
    procs: &[Vec<Process>],
    hosts: &[String],
    life: &[LifeEvent],
    name: &str,
    cfg: &LineageConfig,
) -> Creation {
    let mut c = Creation {
        method: CreationMethod::Unknown,
        evidence: Vec::new(),
        user: None,
        logon_id: None,
        process: None,
        remote: false,
        remote_source: None,
    };
    // The registration event: first creation, else first update.
    let first = reg
        .iter()
        .find(|&&i| matches!(raw[i].kind, TaskEventKind::Created))
        .or_else(|| reg.iter().find(|&&i| matches!(raw[i].kind, TaskEventKind::Registered)))
        .or_else(|| reg.iter().find(|&&i| matches!(raw[i].kind, TaskEventKind::Updated)))
        .or_else(|| {
            reg.iter()
                .find(|&&i| matches!(raw[i].kind, TaskEventKind::RegistrationUpdated))
        })
        .map(|&i| &raw[i]);
    let when = first.map(|t| t.ts).or_else(|| {
        life.iter()
            .find(|l| matches!(l.what, LifeKind::Created | LifeKind::Updated))
            .map(|l| l.ts)
    });
    if let Some(t) = first {
        c.user = t.user.clone();
        c.logon_id = t.logon_id;
        c.evidence.push(format!(
            "{} {} by {}{}",
            if t.event_id >= 4000 {
                "Security"
            } else {
                "TaskScheduler"
            },
            t.event_id,
            t.user.as_deref().unwrap_or("?"),
            t.logon_id
                .map(|l| format!(" (logon {})", fmt_logon(l)))
                .unwrap_or_default()
        ));
    }
    let near = |ts: Timestamp| when.is_none_or(|w| ts <= after(w, 1) && w - ts <= cfg.creator_window);
    // a) schtasks / at seen.
    if let Some(&(th, pi, _, at)) = tools.iter().filter(|t| near(t.2)).min_by_key(|t| t.2)
        && let Some(p) = procs.get(th).and_then(|ps| ps.get(pi))
    {
        c.method = if at {
            CreationMethod::At
        } else {
            CreationMethod::Schtasks
        };
        c.process = Some(ProcessLink {
            host: hosts[th].clone(),
            index: pi,
        });
        c.evidence.push(format!(
            "{} on {}: {}",
            p.image_name().unwrap_or("schtasks.exe"),
            hosts[th],
            p.command_line.as_deref().unwrap_or("")
        ));
        if c.user.is_none() {
            c.user = p.user.clone();
        }
        if th != h {
            c.remote = true;
            c.remote_source = Some(hosts[th].clone());
        }
    }
    // b) 4698 v1 ClientProcessId.
    if let Some(t) = first {
        match (t.client_pid, t.rpc_locality) {
            (Some(0), Some(0)) | (Some(0), None) => {
                c.remote = true;
                c.evidence.push(
                    "ClientProcessId 0 with RpcCallClientLocality 0: registered over RPC from another host".into(),
                );
                if c.method == CreationMethod::Unknown {
                    c.method = CreationMethod::Remote;
                }
            }
            (Some(pid), _) if pid != 0 && c.process.is_none() => {
                let ps = &procs[h];
                let found = index[h].pid_at(ps, pid, after(t.ts, 1));
                if let Some(j) = found {
                    let img = ps[j].image.as_deref().map(lname).unwrap_or_default();
                    c.method = match img.as_str() {
                        "schtasks" => CreationMethod::Schtasks,
                        "powershell" | "pwsh" => CreationMethod::PowerShell,
                        _ => CreationMethod::ComApi,
                    };
                    c.process = Some(ProcessLink {
                        host: hosts[h].clone(),
                        index: j,
                    });
                    c.evidence
                        .push(format!("ClientProcessId {pid} = {}", ps[j].image_name().unwrap_or("?")));
                } else {
                    c.method = CreationMethod::ComApi;
                    c.evidence
                        .push(format!("ClientProcessId {pid} (process not in the data)"));
                }
            }
            _ => {}
        }
    }
    // c) 4624 type 3 on the same logon session; 5145 atsvc.
    if let Some(t) = first {
        if let Some(l) = t.logon_id
            && let Some(e) = evidence
                .iter()
                .find(|e| e.host == h && e.kind == EvidenceKind::NetworkLogon && e.logon_id == Some(l))
        {
            c.remote = true;
            let ip = e.ip.as_deref().filter(|i| !i.is_empty() && *i != "-");
            c.evidence.push(format!(
                "4624 logon type 3 for logon {}{}",
                fmt_logon(l),
                ip.map(|i| format!(" from {i}")).unwrap_or_default()
            ));
            if let Some(ip) = ip {
                c.remote_source = Some(ip.to_owned());
            }
        }
        if let Some(e) = evidence
            .iter()
            .filter(|e| e.host == h && e.kind == EvidenceKind::AtsvcPipe && near(e.ts))
            .filter(|e| {
                let u = t.user.as_deref().unwrap_or("");
                e.user.as_deref().is_none_or(|eu| u.is_empty() || u.ends_with(eu))
            })
            .max_by_key(|e| e.ts)
        {
            c.remote = true;
            let ip = e.ip.as_deref().filter(|i| !i.is_empty() && *i != "-");
            c.evidence.push(format!(
                "5145 {}\\atsvc{} (remote at / atexec)",
                e.detail.as_deref().unwrap_or("IPC$"),
                ip.map(|i| format!(" from {i}")).unwrap_or_default()
            ));
            if let Some(ip) = ip {
                c.remote_source = Some(ip.to_owned());
            }
        }
    }
    if c.remote && c.method == CreationMethod::Unknown {
        c.method = CreationMethod::Remote;
    }
    // d) PowerShell 4104 and taskschd.dll loads near the registration.
    if c.method == CreationMethod::Unknown {
        let leaf = name.rsplit('\\').next().unwrap_or(name).to_ascii_lowercase();
        if let Some(e) = evidence.iter().find(|e| {
            e.host == h
                && e.kind == EvidenceKind::ScriptBlock
                && (near(e.ts)
                    || e.target
                        .as_deref()
                        .is_some_and(|s| s.to_ascii_lowercase().contains(&leaf)))
        }) {
            c.method = CreationMethod::PowerShell;
            c.evidence
                .push("PowerShell 4104 script block with ScheduledTasks cmdlets".into());
            let _ = e;
        } else if let Some(e) = evidence
            .iter()
            .filter(|e| e.host == h && e.kind == EvidenceKind::TaskSchedulerDllLoad && when.is_some() && near(e.ts))
            .max_by_key(|e| e.ts)
        {
            let img = e.image.as_deref().map(lname).unwrap_or_default();
            c.method = if img == "powershell" || img == "pwsh" {
                CreationMethod::PowerShell
            } else {
                CreationMethod::ComApi
            };
            c.evidence.push(format!(
                "Sysmon 7: {} loaded taskschd.dll",
                e.image.as_deref().map(file_name).unwrap_or("?")
            ));
            let found = e
                .guid
                .as_deref()
                .and_then(|g| index[h].guid(g))
                .or_else(|| index[h].pid_at(&procs[h], e.pid?, e.ts));
            if let Some(j) = found {
                c.process = Some(ProcessLink {
                    host: hosts[h].clone(),
                    index: j,
                });
            }
        }
    }
    // e) Registry only.
    if c.method == CreationMethod::Unknown
        && first.is_none()
        && life
            .iter()
            .any(|l| matches!(l.what, LifeKind::RegistryWritten | LifeKind::RegistryHidden))
        && !life.iter().any(|l| l.what == LifeKind::FileWritten)
    {
        c.method = CreationMethod::RegistryOnly;
        c.evidence
            .push("TaskCache registry writes with no 4698/106 and no tool seen".into());
    }
    c
}

#[allow(clippy::too_many_arguments)]
fn findings(
    task: &Task,
    ps: &[Process],
    all: &[(&str, &[Process])],
    cfg: &LineageConfig,
    shape_count: &HashMap<(String, String, String), u64>,
    task_runs: &HashMap<String, u64>,
    baseline: Option<&score::Baseline>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |reason, detail: String| {
        out.push(Finding {
            reason,
            detail,
            process: None,
        })
    };
    if task.hidden {
        push(Reason::Hidden, "the task is hidden".into());
    }
    if score::random_like(&task.name) {
        push(Reason::RandomName, format!("task name {} looks random", task.name));
    }
    if let Some(p) = task.period
        && p <= cfg.short_repetition
    {
        push(Reason::ShortRepetition, format!("repeats every {p}"));
    }
    if task.creation.remote {
        push(
            Reason::RemoteCreation,
            format!(
                "created remotely{}",
                task.creation
                    .remote_source
                    .as_deref()
                    .map(|s| format!(" from {s}"))
                    .unwrap_or_default()
            ),
        );
    }
    if task.short_lived
        && let (Some(c), Some(d)) = (task.created, task.deleted)
    {
        push(Reason::ShortLived, format!("deleted {} after creation", secs(d - c)));
    }
    if task.creation.method == CreationMethod::RegistryOnly {
        push(Reason::RegistryOnly, "only TaskCache registry writes".into());
    }
    if task.name.to_ascii_lowercase().starts_with("\\microsoft\\windows\\") {
        push(
            Reason::BuiltinModified,
            "a built-in task path was created or changed".into(),
        );
    }
    if let Some(pl) = &task.creation.process
        && let Some(cps) = all.iter().find(|(h, _)| host_eq(h, &pl.host)).map(|(_, p)| p)
    {
        // The creator and up to four ancestors: any script host or LOLBin among them?
        let mut chain: Vec<&str> = Vec::new();
        let mut cur = Some(pl.index);
        while let Some(i) = cur {
            let Some(p) = cps.get(i) else { break };
            chain.extend(p.image.as_deref());
            if chain.len() >= 5 {
                break;
            }
            cur = p.parent;
            if cur.is_none() {
                chain.extend(p.parent_image.as_deref());
            }
        }
        if let Some(s) = chain.iter().find(|i| score::is_script_host(i) || score::is_lolbin(i)) {
            push(
                Reason::ScriptHostCreator,
                format!("created by a process chain including {}", file_name(s)),
            );
        }
    }
    // The declared action itself.
    if let Some(def) = &task.definition
        && let Some((cmd, args)) = def.exec()
    {
        let full = format!("{cmd} {}", args.unwrap_or(""));
        if score::is_lolbin(cmd) {
            push(Reason::Lolbin, format!("the action runs {}, a LOLBin", file_name(cmd)));
        }
        let l = full.to_ascii_lowercase();
        if (lname(cmd) == "powershell" || lname(cmd) == "pwsh")
            && l.split_whitespace()
                .any(|t| matches!(t, "-e" | "-ec" | "-en" | "-enc" | "-encodedcommand"))
        {
            push(
                Reason::EncodedPowerShell,
                "the action is PowerShell with an encoded command".into(),
            );
        }
        if let Some(w) = score::user_writable(&full) {
            push(Reason::UserWritablePath, format!("the action uses a path under {w}"));
        }
    }
    for r in &task.runs {
        for &i in &r.processes {
            if let Some(p) = ps.get(i) {
                score::process_findings(task, i, p, r.launched == Some(i), &mut out);
            }
        }
        if let Some(p) = r.launched.and_then(|l| ps.get(l)) {
            let key = rarity_key(&task.name, p);
            match baseline {
                Some(b) if b.total() > 0 => {
                    if b.count(&key.0, &key.1, &key.2) == 0 {
                        out.push(Finding {
                            reason: Reason::Rare,
                            detail: format!("never seen in the baseline ({} observations)", b.total()),
                            process: r.launched,
                        });
                    }
                }
                _ => {
                    let n = shape_count.get(&key).copied().unwrap_or(0);
                    let total = task_runs.get(&key.0).copied().unwrap_or(0);
                    if n == 1 && total >= 3 {
                        out.push(Finding {
                            reason: Reason::Rare,
                            detail: format!("this image and command-line shape ran once in {total} runs of the task"),
                            process: r.launched,
                        });
                    }
                }
            }
        }
    }
    // One finding per (reason, process).
    let mut seen = Vec::new();
    out.retain(|f| {
        let k = (f.reason, f.process);
        if seen.contains(&k) {
            false
        } else {
            seen.push(k);
            true
        }
    });
    out
}
