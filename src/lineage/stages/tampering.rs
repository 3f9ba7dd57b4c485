//! Stage 7, findings about a task's life and identity (part of the findings stage): changes
//! by another account or logon session, a built-in task changed by an account, masquerade as
//! a built-in, creation right after account changes, registry-side tampering (the `SD`
//! deletion that hides a task, runs with no creation telemetry) and COM registration by an
//! untrusted process.

use super::context::{BuildContext, secs};
use crate::lineage::heuristics::{is_lolbin, is_script_host, user_writable};
use crate::lineage::model::{CreationMethod, LifeEvent, LifeKind, ScheduledTask};
use crate::lineage::naming::{file_name, machine_account, microsoft_author, same_account, system_image};
use crate::lineage::process::ProcessTree;
use crate::lineage::reason::TaskReason;
use crate::winevent::EvidenceKind;

/// Leaf names of Windows' own tasks that malware borrows (lower case).
const BUILTIN_TASK_NAMES: &[&str] = &[
    "eventcachemanager",
    "svcrestarttask",
    "svcrestarttasklogon",
    "svcrestarttasknetwork",
    "silentcleanup",
    "diskcleanup",
    "scheduleddefrag",
    "proxy",
    "consolidator",
    "usbceip",
    "kernelceiptask",
    "microsoft compatibility appraiser",
    "programdataupdater",
    "startupapptask",
    "queuereporting",
    "scheduled start",
    "schedule scan",
    "universal orchestrator start",
    "usoclient",
    "windows defender scheduled scan",
    "windowsupdate",
    "automatic app update",
    "cachetask",
    "synchronizetime",
    "sqm-tasks",
];

fn leaf(name: &str) -> &str {
    name.rsplit('\\').next().unwrap_or(name)
}

fn what(l: &LifeEvent) -> &'static str {
    match l.what {
        LifeKind::Created => "created",
        LifeKind::Updated => "updated",
        LifeKind::Deleted => "deleted",
        LifeKind::Enabled => "enabled",
        LifeKind::Disabled => "disabled",
        _ => "changed",
    }
}

/// `updated by CORP\eve (logon 0x1234) from 10.0.0.5 with schtasks.exe at T (Security 4702)`.
fn describe(l: &LifeEvent) -> String {
    let who = l.who();
    let how = l
        .image
        .as_deref()
        .map(|i| format!(" with {}", file_name(i)))
        .unwrap_or_default();
    let who = if who.is_empty() {
        String::new()
    } else {
        format!(" {who}")
    };
    format!("{}{who}{how} at {} ({})", what(l), l.ts, l.source)
}

/// Appends the life and identity findings of `task` (host `h`) to `push`.
pub(super) fn findings(
    cx: &BuildContext<'_>,
    trees: &[ProcessTree],
    h: usize,
    task: &ScheduledTask,
    push: &mut dyn FnMut(TaskReason, String),
) {
    let changes = |l: &&LifeEvent| {
        matches!(
            l.what,
            LifeKind::Updated | LifeKind::Deleted | LifeKind::Enabled | LifeKind::Disabled
        )
    };
    let creation = &task.creation;
    // Who created it, when a creation (not only a change) was seen.
    let creator = (!creation.by_update).then_some(()).and(
        task.life
            .iter()
            .find(|l| l.what == LifeKind::Created && (l.user.is_some() || l.logon_id.is_some())),
    );
    let creator_user = creator.and_then(|l| l.user.as_deref()).or(if creation.by_update {
        None
    } else {
        creation.user.as_deref()
    });
    if let Some(cu) = creator_user
        && let Some(l) = task.life.iter().filter(changes).find(|l| {
            l.user
                .as_deref()
                .is_some_and(|u| !(same_account(u, cu) || (machine_account(u) && machine_account(cu))))
        })
    {
        push(TaskReason::ChangedByOther, format!("{}; created by {cu}", describe(l)));
    }
    let creator_logon = creator
        .and_then(|l| l.logon_id)
        .or(if creation.by_update { None } else { creation.logon_id });
    if let Some(cl) = creator_logon
        && let Some(l) = task
            .life
            .iter()
            .find(|l| l.what == LifeKind::Deleted && l.logon_id.is_some_and(|d| d != cl))
    {
        push(
            TaskReason::DeletedFromOtherSession,
            format!("{}; created in logon {cl:#x}", describe(l)),
        );
    }
    let lname = task.name.to_ascii_lowercase();
    if lname.starts_with("\\microsoft\\windows\\") {
        let detail = match task
            .life
            .iter()
            .find(|l| matches!(l.what, LifeKind::Created | LifeKind::Updated) && l.user.is_some())
        {
            Some(l) => format!("a built-in task path was {}", describe(l)),
            None => "a built-in task path was created or changed".into(),
        };
        push(TaskReason::BuiltinModified, detail);
    }
    masquerade(task, &lname, push);
    after_account_change(cx, h, task, push);
    registry_side(task, push);
    untrusted_com_creator(cx, trees, task, push);
}

/// Under `\Microsoft\` or named like a built-in, with a definition no built-in has.
fn masquerade(task: &ScheduledTask, lname: &str, push: &mut dyn FnMut(TaskReason, String)) {
    let named_like = lname.starts_with("\\microsoft\\") || BUILTIN_TASK_NAMES.contains(&leaf(lname));
    let Some(def) = task.definition.as_ref().filter(|_| named_like) else {
        return;
    };
    let mut why = Vec::new();
    if let Some((cmd, _)) = def.exec()
        && !system_image(cmd)
    {
        let bare = !cmd.contains(['\\', '/', '%']);
        why.push(if bare {
            format!("its action {cmd} is a bare name, not a path under System32")
        } else {
            format!("its action {cmd} is outside System32")
        });
    }
    if let Some(a) = def.author.as_deref()
        && !microsoft_author(a)
    {
        why.push(format!("its author {a} is not Microsoft"));
    }
    if !why.is_empty() {
        let like = if lname.starts_with("\\microsoft\\") {
            "under \\Microsoft\\"
        } else {
            "named like a Windows built-in task"
        };
        push(
            TaskReason::Masquerade,
            format!("{} is {like}, but {}", task.name, why.join(" and ")),
        );
    }
}

/// Created within the configured window after the same account created accounts or added
/// group members.
fn after_account_change(
    cx: &BuildContext<'_>,
    h: usize,
    task: &ScheduledTask,
    push: &mut dyn FnMut(TaskReason, String),
) {
    let Some(created) = task.created else { return };
    let (user, logon) = (task.creation.user.as_deref(), task.creation.logon_id);
    let window = cx.cfg.account_change_window;
    let changes: Vec<_> = cx
        .evidence
        .iter()
        .filter(|e| e.host == h && e.kind == EvidenceKind::AccountChange)
        .filter(|e| e.ts <= created && created - e.ts <= window)
        .filter(|e| {
            (logon.is_some() && e.logon_id == logon)
                || user.zip(e.user.as_deref()).is_some_and(|(u, eu)| same_account(u, eu))
        })
        .collect();
    let Some(first) = changes.first() else { return };
    let list: Vec<String> = changes
        .iter()
        .map(|e| {
            let target = e.target.as_deref().unwrap_or("?");
            match e.detail.as_deref() {
                Some("4720") => format!("4720 created account {target}"),
                Some(id) => format!("{id} added a member to {target}"),
                None => target.to_owned(),
            }
        })
        .collect();
    push(
        TaskReason::AfterAccountChange,
        format!(
            "created {} after the same account's account changes: {}",
            secs(created - first.ts),
            list.join(", ")
        ),
    );
}

/// Registry-side tampering and telemetry gaps: the `SD` deletion / `Index` 0 that hides a task
/// (Tarrask), and a task seen only running.
fn registry_side(task: &ScheduledTask, push: &mut dyn FnMut(TaskReason, String)) {
    if let Some(l) = task.life.iter().find(|l| l.what == LifeKind::RegistryHidden) {
        push(
            TaskReason::SecurityDescriptorRemoved,
            format!(
                "{}: hidden from schtasks /query and the Task Scheduler UI ({})",
                l.source,
                describe(l)
            ),
        );
    }
    let creation_seen = task.life.iter().any(|l| {
        matches!(
            l.what,
            LifeKind::Created | LifeKind::Updated | LifeKind::FileWritten | LifeKind::RegistryWritten
        )
    });
    if !creation_seen && let Some(first) = task.runs.iter().filter_map(|r| r.started).min() {
        push(
            TaskReason::NoCreationTelemetry,
            format!(
                "runs from {first} with no creation event in the data: created without creation telemetry (4698/106 not collected, or written to the registry only), or before the data starts"
            ),
        );
    }
}

/// Registered through the COM API by a process that is no system binary: a script host, a
/// LOLBin, or an image outside the system's folders.
fn untrusted_com_creator(
    cx: &BuildContext<'_>,
    trees: &[ProcessTree],
    task: &ScheduledTask,
    push: &mut dyn FnMut(TaskReason, String),
) {
    if !matches!(
        task.creation.method,
        CreationMethod::ComApi | CreationMethod::RegistryOnly
    ) {
        return;
    }
    let Some(pl) = &task.creation.process else { return };
    let Some(h) = cx.hosts.iter().position(|x| *x == pl.host) else {
        return;
    };
    let Some(p) = trees[h].get(pl.id) else { return };
    let Some(image) = p.image.as_deref() else { return };
    let why = if is_script_host(image) || is_lolbin(image) {
        Some("a script host or LOLBin".to_owned())
    } else if let Some(w) = user_writable(image) {
        Some(format!("under {w}"))
    } else if !system_image(image) && !image.to_ascii_lowercase().starts_with("c:\\windows\\") {
        Some("outside the system's folders".to_owned())
    } else {
        None
    };
    let how = if task.creation.method == CreationMethod::ComApi {
        "registered through the COM API"
    } else {
        "written to the TaskCache"
    };
    let who = format!(
        "{how} by {} (pid {})",
        file_name(image),
        p.pid.map_or("?".into(), |x| x.to_string())
    );
    let signer = p
        .signer
        .as_ref()
        .map_or("signer unknown".to_owned(), ToString::to_string);
    if let Some(why) = why {
        push(TaskReason::UntrustedComCreator, format!("{who}, {why}; {signer}"));
    }
    // Its own reason: an image not validly signed, wherever it is (a signed Microsoft
    // management process, mmc.exe or svchost.exe, is what COM registration looks like).
    if let Some(s) = p.signer.as_ref().filter(|s| !s.is_valid()) {
        push(TaskReason::UnsignedComCreator, format!("{who}, whose image is {s}"));
    }
}
