//! Stage 7, findings: why each non-built-in task stands out (hidden, random name, short
//! repetition, remote or script-host creator, LOLBin or encoded action, user-writable paths,
//! processes that differ from the action, rarity across runs and hosts or the baseline).

use super::context::{BuildContext, secs};
use crate::lineage::action::action_signs;
use crate::lineage::baseline::TaskBaseline;
use crate::lineage::heuristics::{
    command_line_shape, is_lolbin, is_script_host, lolbin_in, process_findings, random_like, user_writable_path,
};
use crate::lineage::hosts::{HostIdentity, find_host};
use crate::lineage::model::{CreationMethod, ScheduledTask};
use crate::lineage::naming::{file_name, same_account};
use crate::lineage::process::{ProcessNode, ProcessTree};
use crate::lineage::reason::{TaskFinding, TaskReason};
use std::collections::BTreeSet;
// foldhash: the keys are short strings and SipHash was a tenth of the findings.
use hashbrown::{HashMap, HashSet};

/// A process's (image, command line), as logged.
type ImageAndCommand<'p> = (Option<&'p str>, Option<&'p str>);

/// The rarity key of a launched process: (task, image name, command-line shape), lower-cased.
type RarityKey = (String, String, String);

fn rarity_key(task: &str, p: &ProcessNode, shape: impl FnOnce(&str) -> String) -> RarityKey {
    (
        task.to_ascii_lowercase(),
        p.image_name().unwrap_or("").to_ascii_lowercase(),
        shape(p.command_line.as_deref().unwrap_or("")),
    )
}

/// How often each launched (task, image, shape) was seen across all hosts and runs, and on
/// which hosts each (task, action) definition was (the data's and the baseline's, one host
/// per [`HostIdentity`]: a baseline's `ws01` is the data's `ws01.corp.example`).
#[derive(Debug, Default)]
pub(super) struct Rarity {
    shape_count: HashMap<RarityKey, u64>,
    /// Lower-cased task name → runs with a launched process.
    task_runs: HashMap<String, u64>,
    /// Lower-cased task name → action shape → hosts (by identity).
    definitions: HashMap<String, HashMap<String, BTreeSet<usize>>>,
    /// Command line → its shape, for every launched process counted (a task launches the
    /// same command line run after run: each is shaped once, and found again by the
    /// findings).
    shapes: HashMap<String, String>,
}

/// The shape of a task's (first) action, as definitions are compared across hosts.
fn action_shape(t: &ScheduledTask) -> Option<String> {
    let a = t.definition.as_ref()?.actions.first()?;
    Some(command_line_shape(&a.command_line()))
}

impl Rarity {
    pub(super) fn count(
        tasks: &[Vec<ScheduledTask>],
        trees: &[ProcessTree],
        hosts: &[String],
        baseline: Option<&TaskBaseline>,
    ) -> Self {
        let mut r = Rarity::default();
        let base: Vec<_> = baseline.into_iter().flat_map(TaskBaseline::definitions).collect();
        // The data's hosts first, so host `h` of the data is name `h`.
        let names = hosts
            .iter()
            .map(String::as_str)
            .chain(base.iter().flat_map(|(_, _, hs)| hs.iter().map(String::as_str)));
        let id = HostIdentity::resolve(names);
        let mut at = hosts.len();
        for (t, a, hs) in base {
            let set = r
                .definitions
                .entry(t.to_owned())
                .or_default()
                .entry(a.to_owned())
                .or_default();
            for _ in hs {
                set.insert(id.of(at));
                at += 1;
            }
        }
        for (h, (ts, tree)) in tasks.iter().zip(trees).enumerate() {
            for t in ts {
                if let Some(a) = action_shape(t) {
                    r.definitions
                        .entry(t.name.to_ascii_lowercase())
                        .or_default()
                        .entry(a)
                        .or_default()
                        .insert(id.of(h));
                }
                let mut launched = 0;
                for run in &t.runs {
                    if let Some(p) = run.launched.and_then(|l| tree.get(l)) {
                        let shapes = &mut r.shapes;
                        let key = rarity_key(&t.name, p, |cmd| match shapes.get(cmd) {
                            Some(s) => s.clone(),
                            None => shapes.entry(cmd.to_owned()).or_insert(command_line_shape(cmd)).clone(),
                        });
                        *r.shape_count.entry(key).or_default() += 1;
                        launched += 1;
                    }
                }
                if launched > 0 {
                    *r.task_runs.entry(t.name.to_ascii_lowercase()).or_default() += launched;
                }
            }
        }
        r
    }
}

/// The findings of `task` on host `h`; `trees` are every host's (a creator can be on another
/// host).
pub(super) fn findings(
    cx: &BuildContext<'_>,
    rarity: &Rarity,
    trees: &[ProcessTree],
    h: usize,
    task: &ScheduledTask,
) -> Vec<TaskFinding> {
    let ps = &trees[h];
    let cfg = cx.cfg;
    let mut out = Vec::new();
    let mut push = |reason, detail: String| {
        out.push(TaskFinding {
            reason,
            detail,
            process: None,
        })
    };
    if task.hidden {
        let how = match &task.definition {
            Some(d) if d.hidden => "the task is hidden (Settings Hidden true)",
            _ => "the task is hidden (its TaskCache entry)",
        };
        push(TaskReason::Hidden, how.into());
    }
    if random_like(&task.name) {
        push(TaskReason::RandomName, format!("task name {} looks random", task.name));
    }
    if let Some(p) = task.period
        && p <= cfg.short_repetition
    {
        push(TaskReason::ShortRepetition, format!("repeats every {p}"));
    }
    if task.creation.remote {
        push(
            TaskReason::RemoteCreation,
            format!(
                "{} remotely{}",
                if task.creation.by_update { "updated" } else { "created" },
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
        push(
            TaskReason::ShortLived,
            format!("deleted {} after creation", secs(d - c)),
        );
    }
    if task.creation.method == CreationMethod::RegistryOnly {
        push(TaskReason::RegistryOnly, "only TaskCache registry writes".into());
    }
    super::tampering::findings(cx, trees, h, task, &mut push);
    if let Some(pl) = &task.creation.process
        && let Some(ct) = find_host(cx.hosts.iter().map(String::as_str), &pl.host).map(|h| &trees[h])
        && let Some(creator) = ct.get(pl.id)
    {
        // The creator and up to four ancestors: any script host or LOLBin among them? Where
        // the walk ends at a parent not in the data, its logged image counts too.
        let mut chain: Vec<&str> = Vec::new();
        let up = core::iter::once(creator).chain(ct.ancestors(pl.id).map(|(_, p)| p));
        for p in up {
            chain.extend(p.image.as_deref());
            if chain.len() >= 5 {
                break;
            }
            if p.parent().is_none() {
                chain.extend(p.parent_image.as_deref());
            }
        }
        if let Some(s) = chain.iter().find(|i| is_script_host(i) || is_lolbin(i)) {
            push(
                TaskReason::ScriptHostCreator,
                format!("created by a process chain including {}", file_name(s)),
            );
        }
    }
    // The declared action itself.
    if let Some(def) = &task.definition
        && let Some((cmd, args)) = def.exec()
    {
        let full = format!("{cmd} {}", args.unwrap_or("")).trim().to_owned();
        if is_lolbin(cmd) {
            push(
                TaskReason::Lolbin,
                format!("the action runs {}, a LOLBin: {full}", file_name(cmd)),
            );
        } else if let Some(l) = lolbin_in(args.unwrap_or("")) {
            // Through a shell: `cmd /c certutil -urlcache …`, `powershell -c "regsvr32 …"`.
            push(
                TaskReason::Lolbin,
                format!("the action starts {l}, a LOLBin, through {}: {full}", file_name(cmd)),
            );
        }
        for (reason, detail) in action_signs(cmd, args.unwrap_or("")) {
            push(reason, detail);
        }
        if let Some((w, path)) = user_writable_path(&full) {
            push(
                TaskReason::UserWritablePath,
                format!("the action uses a path under {w}: {path}"),
            );
        }
    }
    if let Some(def) = &task.definition {
        let risky: Vec<&str> = def
            .principal
            .required_privileges
            .iter()
            .map(String::as_str)
            .filter(|p| RISKY_PRIVILEGES.iter().any(|r| r.eq_ignore_ascii_case(p)))
            .collect();
        if !risky.is_empty() {
            push(
                TaskReason::RiskyPrivileges,
                format!("the definition requires {}", risky.join(", ")),
            );
        }
        super::definition::findings(cx, task, &mut push);
        if let (Some(author), Some(user)) = (def.author.as_deref(), task.creation.user.as_deref())
            && !same_account(author, user)
        {
            push(
                TaskReason::AuthorMismatch,
                format!("the XML's author {author} is not the registering account {user}"),
            );
        }
    }
    // Across hosts: the same task name with another action on most of them.
    if let Some(mine) = action_shape(task)
        && let Some(by_action) = rarity.definitions.get(&task.name.to_ascii_lowercase())
    {
        let hosts: BTreeSet<&usize> = by_action.values().flatten().collect();
        let same = by_action.get(&mine).map_or(0, BTreeSet::len);
        if let Some((usual, n)) = by_action
            .iter()
            .filter(|(a, _)| **a != mine)
            .map(|(a, hs)| (a, hs.len()))
            .max_by_key(|&(a, n)| (n, core::cmp::Reverse(a)))
            && hosts.len() >= 3
            && same == 1
            && n * 2 >= hosts.len()
        {
            push(
                TaskReason::ActionDiffersAcrossHosts,
                format!(
                    "on this host its action is `{mine}`; {n} of the {} hosts with this task run `{usual}`",
                    hosts.len()
                ),
            );
        }
    }
    // A task launches the same image and command line run after run: each distinct
    // (image, command line, launched or not) is judged once, and its findings are copied for
    // the processes after it (the range of `out` they took the first time).
    let mut judged: HashMap<(ImageAndCommand<'_>, bool), (usize, usize)> = HashMap::new();
    let mut rare: HashMap<ImageAndCommand<'_>, Option<String>> = HashMap::new();
    for r in &task.runs {
        for &i in &r.processes {
            if let Some(p) = ps.get(i) {
                let launched = r.launched == Some(i);
                let key = ((p.image.as_deref(), p.command_line.as_deref()), launched);
                if let Some(&(from, to)) = judged.get(&key) {
                    for k in from..to {
                        let f = TaskFinding {
                            reason: out[k].reason,
                            detail: out[k].detail.clone(),
                            process: Some(i),
                        };
                        out.push(f);
                    }
                } else {
                    let from = out.len();
                    process_findings(task, i, p, launched, &mut out);
                    judged.insert(key, (from, out.len()));
                }
            }
        }
        if let Some(p) = r.launched.and_then(|l| ps.get(l)) {
            let detail = rare
                .entry((p.image.as_deref(), p.command_line.as_deref()))
                .or_insert_with(|| rare_detail(cx, rarity, task, p))
                .clone();
            if let Some(detail) = detail {
                out.push(TaskFinding {
                    reason: TaskReason::Rare,
                    detail,
                    process: r.launched,
                });
            }
        }
    }
    // One finding per (reason, process).
    let mut seen = HashSet::new();
    out.retain(|f| seen.insert((f.reason, f.process)));
    out
}

/// Why the launched process `p` of `task` is rare (against the baseline, else across the
/// data's runs), if it is.
fn rare_detail(cx: &BuildContext<'_>, rarity: &Rarity, task: &ScheduledTask, p: &ProcessNode) -> Option<String> {
    let key = rarity_key(&task.name, p, |cmd| {
        rarity
            .shapes
            .get(cmd)
            .cloned()
            .unwrap_or_else(|| command_line_shape(cmd))
    });
    match cx.baseline {
        Some(b) if b.total() > 0 => (b.count(&key.0, &key.1, &key.2) == 0)
            .then(|| format!("never seen in the baseline ({} observations)", b.total())),
        _ => {
            let n = rarity.shape_count.get(&key).copied().unwrap_or(0);
            let total = rarity.task_runs.get(&key.0).copied().unwrap_or(0);
            (n == 1 && total >= 3)
                .then(|| format!("this image and command-line shape ran once in {total} runs of the task"))
        }
    }
}

/// Privileges a task asks for when it is meant to escalate (token impersonation, debugging,
/// acting as the OS, loading drivers, reading or owning any file).
const RISKY_PRIVILEGES: &[&str] = &[
    "SeImpersonatePrivilege",
    "SeAssignPrimaryTokenPrivilege",
    "SeDebugPrivilege",
    "SeTcbPrivilege",
    "SeLoadDriverPrivilege",
    "SeBackupPrivilege",
    "SeRestorePrivilege",
    "SeTakeOwnershipPrivilege",
    "SeCreateTokenPrivilege",
];
