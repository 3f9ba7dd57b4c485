//! Stage 6, tasks as reported: each accumulator becomes a [`ScheduledTask`] with its creation,
//! latest definition (XML before command line), period, life summary (created, deleted,
//! short-lived, hidden) and whether it is a built-in task left alone.

use super::context::{BuildContext, TaskAcc};
use super::creation::creation;
use crate::lineage::model::{CreationMethod, DefinitionSource, LifeKind, ScheduledTask};
use crate::lineage::naming::machine_account;
use crate::lineage::taskxml::TaskDefinition;

/// Every host's tasks, in order of first appearance, without findings yet.
pub(super) fn tasks(cx: &mut BuildContext<'_>) -> Vec<Vec<ScheduledTask>> {
    let accs: Vec<Vec<TaskAcc>> = cx.host.iter_mut().map(|hs| core::mem::take(&mut hs.tasks)).collect();
    accs.into_iter()
        .enumerate()
        .map(|(h, accs)| accs.into_iter().map(|acc| task(cx, h, acc)).collect())
        .collect()
}

fn task(cx: &BuildContext<'_>, h: usize, mut acc: TaskAcc) -> ScheduledTask {
    acc.life.sort_by_key(|l| l.ts);
    let creation = creation(cx, h, &acc);
    let (definition, definition_source) = match acc.defs.iter().rev().find(|d| d.2 == DefinitionSource::Xml) {
        Some(d) => (Some(d.1.clone()), Some(DefinitionSource::Xml)),
        None => match acc.defs.last() {
            Some(d) => (Some(d.1.clone()), Some(DefinitionSource::CommandLine)),
            None => (None, None),
        },
    };
    let life = acc.life;
    let created = life
        .iter()
        .find(|l| matches!(l.what, LifeKind::Created | LifeKind::FileWritten))
        .map(|l| l.ts);
    let deleted = life.iter().rev().find(|l| l.what == LifeKind::Deleted).map(|l| l.ts);
    let short_lived = matches!((created, deleted), (Some(c), Some(d)) if d >= c && d - c <= cx.cfg.short_lived);
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
    let mut task = ScheduledTask {
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
    task
}
