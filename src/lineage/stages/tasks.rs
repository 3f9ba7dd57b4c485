//! Stage 3, tasks: each task's life events and definitions, from task events, `schtasks` /
//! `at` command lines (`/S` targets another host), Sysmon 11 task files and TaskCache
//! registry writes.

use super::context::{BuildContext, ToolUse, after};
use crate::lineage::cmdline::{SchtasksCommand, SchtasksVerb, normalize_task_name};
use crate::lineage::collected::{RawEvidence, RawTask};
use crate::lineage::coverage::SkippedDefinition;
use crate::lineage::hosts::find_host_from;
use crate::lineage::model::{DefinitionSource, LifeEvent, LifeKind};
use crate::lineage::process::{ProcessId, ProcessLink};
use crate::lineage::taskxml::TaskDefinition;
use crate::winevent::{EvidenceKind, TaskEventKind, TimeSource};

/// Takes the task events (clock-corrected, then in time order) into each host's task
/// accumulators; returns the indices of the run events (107–201) for the runs stage.
pub(super) fn from_task_events(cx: &mut BuildContext<'_>, mut events: Vec<RawTask>) -> Vec<usize> {
    for t in events.iter_mut() {
        t.ts = cx.fix(t.host, t.time_source, t.ts);
    }
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| events[i].ts);
    let mut run_events = Vec::new();
    // A task event without `TaskName` is named by its XML's `<URI>`, where it has one.
    for t in events.iter_mut().filter(|t| t.name.is_none()) {
        if let Some(Ok(def)) = t.def.as_deref() {
            t.name = def
                .uri
                .as_deref()
                .and_then(|u| cx.strings.intern(&normalize_task_name(u)));
        }
    }
    for &i in &order {
        let t = &events[i];
        if let Some(Err(e)) = t.def.as_deref() {
            cx.coverage.definitions_skipped += 1;
            cx.skipped.push(SkippedDefinition {
                host: cx.hosts[t.host].clone(),
                task: cx.text(t.name).map(str::to_owned),
                event_id: t.event_id,
                record_id: t.origin.record_id,
                input: t.origin.input.and_then(|i| cx.inputs.get(i as usize).cloned()),
                position: t.origin.position,
                error: e.clone(),
            });
        }
        let Some(name_id) = t.name else {
            cx.coverage.unnamed_task_events += 1;
            continue;
        };
        let name = cx.strings.get(name_id);
        let host_name = &cx.hosts[t.host];
        let hs = &mut cx.host[t.host];
        let slot = hs.task_slot_of(name_id, name);
        let acc = &mut hs.tasks[slot];
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
            let mut life = LifeEvent::new(t.ts, what, format!("{chan} {}", t.event_id));
            life.user = t.user.map(|u| cx.strings.get(u).to_owned());
            life.logon_id = t.logon_id;
            // The 4698 v1 client: PID 0 with locality 0 is RPC from another host.
            match (t.client_pid, t.rpc_locality) {
                (Some(0), Some(0) | None) => life.remote = true,
                (Some(pid), _) => {
                    if let Some(id) = hs.index.pid_at(&hs.procs, pid, after(t.ts, 1)) {
                        life.image = hs.procs[id.index()].image.clone();
                        life.process = Some(ProcessLink {
                            host: host_name.clone(),
                            id,
                        });
                    }
                }
                _ => {}
            }
            acc.life.push(life);
            if !matches!(t.kind, ManuallyTriggered) {
                acc.reg.push(i);
            }
        }
        if matches!(t.kind, Created | Updated)
            && let Some(Ok(def)) = t.def.as_deref()
        {
            acc.defs.push((t.ts, def.clone(), DefinitionSource::Xml));
        }
        if t.kind.is_run() {
            run_events.push(i);
        }
    }
    cx.task_events = events;
    run_events
}

/// What one `schtasks` / `at` command line says about a task.
struct CommandLineEvent {
    target: usize,
    name: String,
    life: LifeEvent,
    /// For a create or change: the tool use, and the definition the command line implies.
    change: Option<(ToolUse, Option<TaskDefinition>)>,
}

/// Adds the life events and definitions of `schtasks` / `at` command lines.
pub(super) fn from_command_lines(cx: &mut BuildContext<'_>) {
    let mut found = Vec::new();
    for (h, hs) in cx.host.iter().enumerate() {
        for (pi, p) in hs.procs.iter().enumerate() {
            let Some(cmd) = p.command_line.as_deref() else { continue };
            let Some(c) = SchtasksCommand::parse(cmd) else { continue };
            let target = match c.remote_system.as_deref() {
                Some(r) => match find_host_from(cx.hosts.iter().map(String::as_str), &cx.hosts[h], r) {
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
            let tool = if c.at { "at.exe" } else { "schtasks" };
            let verb = match what {
                LifeKind::Created => "/create",
                LifeKind::Updated => "/change",
                LifeKind::Deleted => "/delete",
                _ => "/run",
            };
            let remote = if target != h {
                format!(" from {}", cx.hosts[h])
            } else {
                String::new()
            };
            let change = c.is_change().then(|| {
                let tool = ToolUse {
                    host: h,
                    process: ProcessId::new(pi),
                    ts: p.ts,
                    at: c.at,
                };
                let def = c.definition();
                let implied = c.task_run.is_some() || !def.triggers.is_empty();
                (tool, implied.then_some(def))
            });
            let mut life = LifeEvent::new(p.ts, what, format!("{tool} {verb}{remote}"));
            life.user = p.user.clone();
            life.logon_id = p.logon_id;
            life.image = p.image.clone();
            life.process = Some(ProcessLink {
                host: cx.hosts[h].clone(),
                id: ProcessId::new(pi),
            });
            if target != h {
                life.remote = true;
                life.remote_source = Some(cx.hosts[h].clone());
            }
            found.push(CommandLineEvent {
                target,
                name,
                life,
                change,
            });
        }
    }
    for e in found {
        let hs = &mut cx.host[e.target];
        let slot = hs.task_slot(&e.name);
        let acc = &mut hs.tasks[slot];
        let ts = e.life.ts;
        acc.life.push(e.life);
        if let Some((tool, def)) = e.change {
            acc.tools.push(tool);
            if let Some(def) = def {
                acc.defs.push((ts, def, DefinitionSource::CommandLine));
            }
        }
    }
}

/// Adds Sysmon 11 task files and TaskCache registry writes (clock-corrected where their time
/// is `TimeCreated`), keeping the evidence for the creation stage.
pub(super) fn from_evidence(cx: &mut BuildContext<'_>, mut evidence: Vec<RawEvidence>) {
    for e in evidence.iter_mut() {
        e.ts = cx.fix(e.host, e.time_source, e.ts);
    }
    name_task_keys(&mut evidence);
    // TaskCache\Tree keys name folders as well as tasks; only a task has `Id` / `Index`
    // values (and a `Tasks\{GUID}\Path`). Other registry evidence only adds to a task known
    // from something else, whatever the order of the records.
    let named: std::collections::HashSet<(usize, String)> = evidence
        .iter()
        .filter(|e| names_task(e))
        .filter_map(|e| Some((e.host, e.task_name.as_deref()?.to_ascii_lowercase())))
        .collect();
    for e in &evidence {
        let Some(name) = &e.task_name else { continue };
        let Some(what) = life_kind(e) else { continue };
        let v = e.value_name.as_deref().unwrap_or("");
        let hs = &mut cx.host[e.host];
        let known = hs.tasks.iter().any(|t| t.name.eq_ignore_ascii_case(name));
        if !known && !named.contains(&(e.host, name.to_ascii_lowercase())) {
            continue;
        }
        let slot = hs.task_slot(name);
        let record = match (e.kind, e.time_source) {
            (EvidenceKind::TaskFile, _) => "Sysmon 11",
            (EvidenceKind::TaskCacheKey, _) => "Sysmon 12",
            (_, TimeSource::UtcTime) => "Sysmon 13",
            _ => "Security 4657",
        };
        let source = match what {
            LifeKind::RegistryHidden if v.eq_ignore_ascii_case("SD") => format!("{record}: SD deleted"),
            LifeKind::RegistryHidden => format!("{record}: Index set to 0"),
            _ => record.to_owned(),
        };
        let mut life = LifeEvent::new(e.ts, what, source);
        life.user = e.user.clone();
        life.image = e.image.clone();
        let writer = e
            .guid
            .as_deref()
            .and_then(|g| hs.index.guid(g))
            .or_else(|| hs.index.pid_at(&hs.procs, e.pid?, after(e.ts, 1)));
        life.process = writer.map(|id| ProcessLink {
            host: cx.hosts[e.host].clone(),
            id,
        });
        hs.tasks[slot].life.push(life);
    }
    cx.evidence = evidence;
    from_network_logons(cx);
}

/// What a task file or TaskCache write does to its task: written, or hidden (its `SD` value
/// deleted, its `Index` set to 0).
fn life_kind(e: &RawEvidence) -> Option<LifeKind> {
    match e.kind {
        EvidenceKind::TaskFile => Some(LifeKind::FileWritten),
        EvidenceKind::TaskCacheValue | EvidenceKind::TaskCacheKey => {
            let v = e.value_name.as_deref().unwrap_or("");
            let d = e.detail.as_deref().unwrap_or("");
            let sd_deleted = v.eq_ignore_ascii_case("SD") && d.eq_ignore_ascii_case("DeleteValue");
            let index0 = v.eq_ignore_ascii_case("Index") && d.contains("0x00000000");
            Some(if sd_deleted || index0 {
                LifeKind::RegistryHidden
            } else {
                LifeKind::RegistryWritten
            })
        }
        _ => None,
    }
}

/// Whether this evidence alone says its name is a task's (not a folder's).
fn names_task(e: &RawEvidence) -> bool {
    let v = e.value_name.as_deref().unwrap_or("");
    e.kind == EvidenceKind::TaskFile
        || life_kind(e) == Some(LifeKind::RegistryHidden)
        || (e.kind == EvidenceKind::TaskCacheValue && ["Id", "Index", "Path"].iter().any(|n| v.eq_ignore_ascii_case(n)))
}

/// `TaskCache\Tasks\{GUID}` keys name no task: the task's `Tree\…\Id` value (the GUID) or
/// its `Tasks\{GUID}\Path` value (the name) tie the GUID to its name, per host; writes under
/// the GUID's key (`Actions`, `Triggers`, `DynamicInfo`) then count for that task.
fn name_task_keys(evidence: &mut [RawEvidence]) {
    let guid_of = |key: &str| {
        let l = key.to_ascii_lowercase();
        let i = l.find("\\taskcache\\tasks\\")? + "\\taskcache\\tasks\\".len();
        let g = key[i..].split('\\').next()?;
        (g.starts_with('{') && g.ends_with('}')).then(|| g.to_ascii_lowercase())
    };
    let mut names: std::collections::HashMap<(usize, String), String> = std::collections::HashMap::new();
    for e in evidence.iter() {
        let (Some(v), Some(d)) = (e.value_name.as_deref(), e.detail.as_deref()) else {
            continue;
        };
        if let Some(name) = &e.task_name
            && v.eq_ignore_ascii_case("Id")
            && d.starts_with('{')
        {
            names.insert((e.host, d.to_ascii_lowercase()), name.clone());
        } else if v.eq_ignore_ascii_case("Path")
            && d.starts_with('\\')
            && let Some(g) = e.target.as_deref().and_then(guid_of)
        {
            names.insert((e.host, g), normalize_task_name(d));
        }
    }
    for e in evidence.iter_mut().filter(|e| e.task_name.is_none()) {
        if let Some(g) = e.target.as_deref().and_then(guid_of) {
            e.task_name = names.get(&(e.host, g)).cloned();
        }
    }
}

/// From where: a life event whose logon session is a 4624 network logon (type 3) came from
/// that logon's address.
fn from_network_logons(cx: &mut BuildContext<'_>) {
    let evidence = &cx.evidence;
    for (h, hs) in cx.host.iter_mut().enumerate() {
        for l in hs.tasks.iter_mut().flat_map(|t| t.life.iter_mut()) {
            let Some(id) = l.logon_id else { continue };
            let Some(e) = evidence
                .iter()
                .find(|e| e.host == h && e.kind == EvidenceKind::NetworkLogon && e.logon_id == Some(id))
            else {
                continue;
            };
            l.remote = true;
            if l.remote_source.is_none() {
                l.remote_source = e.ip.clone().filter(|i| !i.is_empty() && i != "-");
            }
        }
    }
}
