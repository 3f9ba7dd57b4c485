//! Stage 7b, definition findings: what a task's definition asks for that is risky, each with the
//! values that matched: elevation or SYSTEM for an action in a user-writable place, SYSTEM
//! through a script host, a boot or logon trigger on a task that is not Microsoft's, a task
//! that expires (and deletes itself) soon after it starts, a stored password, hidden.

use super::context::BuildContext;
use crate::lineage::action::excerpt;
use crate::lineage::cmdline::split_command_line;
use crate::lineage::heuristics::{is_lolbin, is_script_host, user_writable_path};
use crate::lineage::model::ScheduledTask;
use crate::lineage::naming::{file_name, microsoft_author};
use crate::lineage::reason::TaskReason;
use crate::lineage::taskxml::{TaskDefinition, TriggerKind};
use crate::time::Timestamp;

/// Script files a task can name directly (run through their host).
const SCRIPT_FILES: &[&str] = &[".ps1", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".hta", ".bat", ".cmd"];

/// Files an action runs or loads (its command, and arguments naming a program, library or
/// script), for judging where they live; an output redirection target is not one.
fn executed_paths<'a>(command: &'a str, arguments: &str) -> impl Iterator<Item = String> + 'a {
    let runnable = |w: &str| {
        let l = w.to_ascii_lowercase();
        [".exe", ".dll", ".cpl", ".scr", ".com", ".msi"]
            .iter()
            .chain(SCRIPT_FILES)
            .any(|e| l.ends_with(e))
    };
    let args: Vec<String> = split_command_line(arguments)
        .into_iter()
        // `rundll32 C:\u.dll,Entry`: the library before the comma.
        .map(|w| w.split(',').next().unwrap_or("").to_owned())
        .filter(|w| runnable(w))
        .collect();
    core::iter::once(command.trim().trim_matches('"').to_owned()).chain(args)
}

/// The script host or script an action runs through, if any (`powershell.exe`, `cmd.exe`,
/// `shell.cmd`).
fn script_in(command: &str) -> Option<&str> {
    let cmd = command.trim().trim_matches('"');
    let name = file_name(cmd);
    let lower = name.to_ascii_lowercase();
    let host = is_script_host(cmd)
        || is_lolbin(cmd)
        || matches!(
            lower.as_str(),
            "cmd" | "cmd.exe" | "powershell" | "pwsh" | "wscript" | "cscript" | "mshta"
        );
    (host || SCRIPT_FILES.iter().any(|e| lower.ends_with(e))).then_some(name)
}

/// The findings of `task`'s definition (none without one).
pub(super) fn findings(cx: &BuildContext<'_>, task: &ScheduledTask, push: &mut dyn FnMut(TaskReason, String)) {
    let Some(def) = &task.definition else { return };
    let p = &def.principal;
    let runs_as = |what: &str| {
        if p.is_system() {
            format!("runs as SYSTEM ({}) {what}", p.user_id.as_deref().unwrap_or("SYSTEM"))
        } else {
            format!(
                "runs elevated (RunLevel {}) {what}",
                p.run_level.as_deref().unwrap_or("?")
            )
        }
    };
    if let Some((cmd, args)) = def.exec() {
        let full = format!("{cmd} {}", args.unwrap_or("")).trim().to_owned();
        if (p.elevated() || p.is_system())
            && let Some((w, path)) = executed_paths(cmd, args.unwrap_or(""))
                .find_map(|f| user_writable_path(&f).map(|(w, path)| (w, path.to_owned())))
        {
            push(
                TaskReason::ElevatedUserWritable,
                runs_as(&format!("an action under {w}, which any user can replace: {path}")),
            );
        }
        if p.is_system()
            && let Some(s) = script_in(cmd)
        {
            push(
                TaskReason::SystemScriptHost,
                runs_as(&format!("through {s}: {}", excerpt(&full))),
            );
        }
    }
    let microsoft = task.name.to_ascii_lowercase().starts_with("\\microsoft\\")
        && def.author.as_deref().is_none_or(microsoft_author);
    if !microsoft {
        for t in def.triggers.iter().filter(|t| t.enabled) {
            let when = match t.kind {
                TriggerKind::Boot => "starts at every boot".to_owned(),
                TriggerKind::Logon => match &t.user_id {
                    Some(u) => format!("starts at every logon of {u}"),
                    None => "starts at every user's logon".to_owned(),
                },
                _ => continue,
            };
            push(
                TaskReason::BootOrLogonTrigger,
                format!("{when} ({}), and is not a Microsoft task", t.describe()),
            );
            break;
        }
    }
    if let Some(detail) = self_cleaning(cx, task, def) {
        push(TaskReason::SelfCleaning, detail);
    }
    if p.stores_password() {
        push(
            TaskReason::StoredPassword,
            format!(
                "stores the password of {} with the task (LogonType {})",
                p.user_id.as_deref().unwrap_or("its account"),
                p.logon_type.as_deref().unwrap_or("?")
            ),
        );
    }
}

/// A task that expires soon after it can first run: an `EndBoundary` within
/// [`LineageConfig::expires_soon`](crate::lineage::LineageConfig::expires_soon) of its
/// `StartBoundary`, or of its registration when that start is already past (a one-shot run
/// that leaves nothing behind, the more so with `DeleteExpiredTaskAfter`).
fn self_cleaning(cx: &BuildContext<'_>, task: &ScheduledTask, def: &TaskDefinition) -> Option<String> {
    let soon = cx.cfg.expires_soon;
    // Registration in the boundaries' clock (local, as written) where the XML dates it, else
    // the event's time.
    let registered: Option<Timestamp> = def.date.as_deref().and_then(Timestamp::parse_rfc3339).or(task.created);
    let (t, left, past_start) = def.triggers.iter().filter(|t| t.enabled).find_map(|t| {
        let end = t.end()?;
        let (from, past) = match (t.start(), registered) {
            (Some(s), Some(r)) if s < r => (r, true),
            (Some(s), _) => (s, false),
            (None, r) => (r?, true),
        };
        let left = end.checked_sub(from).filter(|l| l.as_micros() >= 0)?;
        (left <= soon).then_some((t, left, past))
    })?;
    let end = t.end_boundary.as_deref().unwrap_or("?");
    let mut s = if past_start {
        format!(
            "its trigger starts in the past ({}) and expires at {end} (EndBoundary), {left} after its registration",
            t.start_boundary.as_deref().unwrap_or("no StartBoundary")
        )
    } else {
        format!(
            "expires at {end} (EndBoundary), {left} after its StartBoundary {}",
            t.start_boundary.as_deref().unwrap_or("?")
        )
    };
    if let Some(d) = def.delete_expired_after {
        s.push_str(&format!("; DeleteExpiredTaskAfter {d} then deletes it"));
    }
    Some(s)
}
