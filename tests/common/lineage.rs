//! A task's findings by reason, for the lineage tests.

use beaconstat::lineage::{ScheduledTask, TaskReason};

/// The details of every finding of `task` with reason `r`, in order (empty if none).
pub fn details(task: &ScheduledTask, r: TaskReason) -> Vec<&str> {
    task.findings
        .iter()
        .filter(|f| f.reason == r)
        .map(|f| f.detail.as_str())
        .collect()
}

/// The detail of the one finding of `task` with reason `r`; a panic listing the findings when
/// there is none or more than one.
pub fn detail(task: &ScheduledTask, r: TaskReason) -> &str {
    match details(task, r).as_slice() {
        [d] => d,
        _ => panic!("not exactly one {r:?} in {:?}", task.findings),
    }
}
