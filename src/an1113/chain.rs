//! The lineage chain of a beaconing process: its ancestors in the data, what launched it, and
//! the scheduled task it is tied to.

use super::finding::{ChainProcess, Launcher, LineageChain, TaskSummary};
use crate::lineage::{HostLineage, Lineage, ProcessId, ScheduledTask, TaskLink, TaskLinks, TaskRole};

/// The image's file name, lower-cased.
fn stem(image: Option<&str>) -> String {
    image
        .map(|i| i.rsplit(['\\', '/']).next().unwrap_or(i).to_ascii_lowercase())
        .unwrap_or_default()
}

/// What a chain's ancestors say launched it (nearest telling ancestor first).
fn launcher_of(images: &[(String, Option<String>)], started_in_data: bool) -> Launcher {
    if !started_in_data {
        return Launcher::BackgroundProcess;
    }
    for (img, cmd) in images {
        let cmd = cmd.as_deref().unwrap_or("").to_ascii_lowercase();
        match img.as_str() {
            "svchost.exe" if cmd.contains("-s schedule") => return Launcher::TaskScheduler,
            "taskeng.exe" | "taskhostw.exe" | "taskhost.exe" => return Launcher::TaskScheduler,
            "wmiprvse.exe" => return Launcher::Wmi,
            "services.exe" => return Launcher::Service,
            "explorer.exe" | "userinit.exe" => return Launcher::UserSession,
            _ => {}
        }
    }
    Launcher::Other
}

/// The task summary an analyst reads, from a lineage link.
pub(crate) fn task_summary(lineage: &Lineage, task: &ScheduledTask, role: TaskRole) -> TaskSummary {
    let creator = lineage.creator_chain(task);
    let creator_chain = creator
        .iter()
        .filter_map(|(h, i)| h.processes.get(*i))
        .map(|p| p.image_name().unwrap_or("?").to_owned())
        .collect();
    let creator_command_line = creator
        .first()
        .and_then(|(h, i)| h.processes.get(*i))
        .and_then(|p| p.command_line.clone());
    let action = task.definition.as_ref().and_then(|d| d.exec()).map(|(c, a)| match a {
        Some(a) => format!("{c} {a}"),
        None => c.to_owned(),
    });
    TaskSummary {
        name: task.name.clone(),
        role,
        method: task.creation.method,
        creator_user: task.creation.user.clone(),
        creator_chain,
        creator_command_line,
        created: task.created.or_else(|| task.life.first().map(|l| l.ts)),
        action,
        trigger_interval: task.period,
        task_reasons: {
            let mut v: Vec<String> = Vec::new();
            for f in &task.findings {
                if !v.contains(&f.detail) {
                    v.push(f.detail.clone());
                }
            }
            v
        },
        runs: task.runs.len(),
    }
}

/// The chain of process `id` on `host`, with its task when one is tied.
pub(crate) fn chain<'l>(
    lineage: &'l Lineage,
    links: &TaskLinks<'l>,
    host: &'l HostLineage,
    id: ProcessId,
) -> (LineageChain, Option<TaskLink<'l>>) {
    let tree = &host.processes;
    let mut processes = Vec::new();
    let mut images = Vec::new();
    let mut last = None;
    for (i, p) in core::iter::once((id, tree.get(id))).chain(tree.ancestors(id).map(|(i, p)| (i, Some(p)))) {
        let Some(p) = p else { break };
        processes.push(ChainProcess {
            image: p.image.clone(),
            pid: p.pid,
            command_line: p.command_line.clone(),
            started: p.ts,
        });
        if i != id {
            images.push((stem(p.image.as_deref()), p.command_line.clone()));
        }
        last = Some(p);
    }
    // The top of the chain: its logged parent (not in the data) tells the launcher too.
    let unresolved_parent = last
        .filter(|p| p.parent().is_none())
        .and_then(|p| p.parent_image.clone());
    if let Some(p) = last.filter(|p| p.parent().is_none()) {
        images.push((stem(p.parent_image.as_deref()), p.parent_command_line.clone()));
    }
    let link = links.task_for_process_id(host, id);
    let launcher = match &link {
        Some(l) if matches!(l.role, TaskRole::Launched | TaskRole::Descendant) => Launcher::ScheduledTask,
        _ => launcher_of(&images, true),
    };
    let task = link.as_ref().map(|l| task_summary(lineage, l.task, l.role));
    (
        LineageChain {
            launcher,
            processes,
            unresolved_parent,
            task,
        },
        link,
    )
}

/// The chain of a process that is not in the process-creation data.
pub(crate) fn background_chain() -> LineageChain {
    LineageChain {
        launcher: launcher_of(&[], false),
        processes: Vec::new(),
        unresolved_parent: None,
        task: None,
    }
}
