//! Evidence that a beacon is its task's own behaviour: the trigger interval against the
//! observed period, task runs against check-ins, and the order of creation and first check-in.

use super::finding::{PeriodMatch, RunAlignment, TaskEvidence};
use crate::beacon::BeaconReport;
use crate::lineage::ScheduledTask;
use crate::time::{Interval, Timestamp};

/// The evidence for `task` from the check-in times `ts` (sorted, µs) and their report.
pub(crate) fn task_evidence(
    task: &ScheduledTask,
    report: &BeaconReport,
    ts: &[i64],
    tolerance: f64,
    window: Interval,
) -> TaskEvidence {
    let period = match (task.period, report.period) {
        (Some(trigger), Some(observed)) if trigger.as_micros() > 0 => {
            let t = trigger.as_secs_f64();
            let relative_error = (observed.as_secs_f64() - t).abs() / t;
            Some(PeriodMatch {
                trigger,
                observed,
                relative_error,
                matches: relative_error <= tolerance,
            })
        }
        _ => None,
    };
    let (first, last) = (ts.first().copied(), ts.last().copied());
    let runs = match (first, last) {
        (Some(first), Some(last)) => {
            let w = window.as_micros();
            let starts: Vec<i64> = task
                .runs
                .iter()
                .filter_map(|r| r.started)
                .map(|t| t.as_micros())
                .filter(|&s| s >= first - w && s <= last)
                .collect();
            (!starts.is_empty()).then(|| {
                // Check-ins at or after a run start, within the window.
                let after = |s: i64| {
                    let k = ts.partition_point(|&t| t < s);
                    ts.get(k).is_some_and(|&t| t - s <= w)
                };
                let before = |t: i64| starts.iter().any(|&s| s <= t && t - s <= w);
                RunAlignment {
                    runs: starts.len(),
                    runs_with_checkin: starts.iter().filter(|&&s| after(s)).count(),
                    checkins: ts.len(),
                    checkins_after_run: ts.iter().filter(|&&t| before(t)).count(),
                }
            })
        }
        _ => None,
    };
    let created = task.created.or_else(|| task.life.first().map(|l| l.ts));
    let starts_after_creation = match (created, first) {
        (Some(c), Some(f)) => Some(Timestamp(f) >= c),
        _ => None,
    };
    TaskEvidence {
        period,
        runs,
        starts_after_creation,
    }
}
