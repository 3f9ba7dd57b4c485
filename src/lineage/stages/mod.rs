//! Reconstruction, in stages over one [`BuildContext`](context::BuildContext):
//! host identity → clocks → processes and their tree → connections → tasks (life, definitions) → runs and
//! launched processes → creation and task summary → findings → coverage gaps.
//! Each stage reads what the stages before it wrote and is a function of its own file.

mod clocks;
mod context;
mod creation;
mod definition;
mod findings;
mod identity;
mod processes;
mod runs;
mod signers;
mod summary;
mod tampering;
mod tasks;

use super::baseline::TaskBaseline;
use super::collected::Collected;
use super::config::LineageConfig;
use super::model::{HostLineage, Lineage};
use super::process::ProcessTree;
use context::BuildContext;

/// Builds the lineage of everything `input` collected.
pub(crate) fn build(mut input: Collected, cfg: &LineageConfig, baseline: Option<&TaskBaseline>) -> Lineage {
    identity::merge_hosts(&mut input);
    let Collected {
        hosts,
        procs,
        tasks: task_events,
        evidence,
        conns,
        clocks,
        coverage,
        strings,
        inputs,
        ..
    } = input;
    let mut cx = BuildContext::new(cfg, baseline, hosts, coverage);
    cx.strings = strings;
    cx.inputs = inputs;
    clocks::measure(&mut cx, &clocks);
    processes::merge_and_link(&mut cx, procs);
    processes::attach_connections(&mut cx, conns);
    let run_events = tasks::from_task_events(&mut cx, task_events);
    tasks::from_command_lines(&mut cx);
    tasks::from_evidence(&mut cx, evidence);
    signers::attach(&mut cx);
    runs::from_task_events(&mut cx, &run_events);
    runs::launched_processes(&mut cx);
    runs::implicit_runs(&mut cx);
    runs::process_trees(&mut cx);
    let mut tasks = summary::tasks(&mut cx);

    let trees: Vec<ProcessTree> = cx
        .host
        .iter_mut()
        .map(|hs| ProcessTree::from_nodes(core::mem::take(&mut hs.procs)))
        .collect();
    let rarity = findings::Rarity::count(&tasks, &trees, &cx.hosts, cx.baseline);
    // Each host's findings read the whole context but write only its own tasks.
    let cx_ref = &cx;
    crate::threads::map_each(tasks.iter_mut().enumerate().collect(), |(h, ts)| {
        for t in ts.iter_mut().filter(|t| !t.builtin) {
            t.findings = findings::findings(cx_ref, &rarity, &trees, h, t);
        }
    });

    let mut coverage = core::mem::take(&mut cx.coverage);
    coverage.add_count_gaps();
    let hosts = tasks
        .into_iter()
        .zip(trees)
        .zip(cx.host.iter_mut())
        .zip(cx.hosts.iter())
        .map(|(((tasks, processes), hs), host)| HostLineage {
            host: host.clone(),
            tasks,
            processes,
            unattributed_runs: core::mem::take(&mut hs.unattributed),
            unresolved_parents: core::mem::take(&mut hs.unresolved),
        })
        .collect();
    Lineage {
        hosts,
        coverage,
        clocks: cx.clocks,
        skipped_definitions: cx.skipped,
    }
}
