//! Stage 3, tasks: each task's life events and definitions, from task events, `schtasks` /
//! `at` command lines (`/S` targets another host), Sysmon 11 task files and TaskCache
//! registry writes.

use super::context::{BuildContext, ToolUse};
use crate::lineage::cmdline::{SchtasksCommand, SchtasksVerb, normalize_task_name};
use crate::lineage::collected::{RawEvidence, RawTask};
use crate::lineage::coverage::SkippedDefinition;
use crate::lineage::model::{DefinitionSource, LifeEvent, LifeKind};
use crate::lineage::naming::host_eq;
use crate::lineage::process::ProcessId;
use crate::lineage::taskxml::TaskDefinition;
use crate::winevent::{EvidenceKind, TaskEventKind};

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
        if let Some(Ok(def)) = &t.def {
            t.name = def.uri.as_deref().map(normalize_task_name);
        }
    }
    for &i in &order {
        let t = &events[i];
        if let Some(Err(e)) = &t.def {
            cx.coverage.definitions_skipped += 1;
            cx.skipped.push(SkippedDefinition {
                host: cx.hosts[t.host].clone(),
                task: t.name.clone(),
                event_id: t.event_id,
                record_id: t.origin.record_id,
                input: t.origin.input.clone(),
                position: t.origin.position,
                error: e.clone(),
            });
        }
        let Some(name) = &t.name else {
            cx.coverage.unnamed_task_events += 1;
            continue;
        };
        let hs = &mut cx.host[t.host];
        let slot = hs.task_slot(name);
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
                Some(r) => match cx.hosts.iter().position(|x| host_eq(x, r)) {
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
            found.push(CommandLineEvent {
                target,
                name,
                life: LifeEvent {
                    ts: p.ts,
                    what,
                    source: format!("{tool} {verb}{remote}"),
                },
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
        let hs = &mut cx.host[e.host];
        let known = hs.tasks.iter().any(|t| t.name.eq_ignore_ascii_case(name));
        if !names_task && !known {
            continue;
        }
        let slot = hs.task_slot(name);
        hs.tasks[slot].life.push(LifeEvent {
            ts: e.ts,
            what,
            source: match e.kind {
                EvidenceKind::TaskFile => "Sysmon 11".into(),
                EvidenceKind::TaskCacheKey => "Sysmon 12".into(),
                _ => "Sysmon 13".into(),
            },
        });
    }
    cx.evidence = evidence;
}
