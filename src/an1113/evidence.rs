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
            alignment(starts, ts, w)
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

/// Run starts `starts` (µs, any order) against check-ins `ts` (sorted, µs) within window `w`
/// (µs); `None` without runs.
fn alignment(mut starts: Vec<i64>, ts: &[i64], w: i64) -> Option<RunAlignment> {
    if starts.is_empty() {
        return None;
    }
    // Sorted, so each check-in finds its latest run start by a binary search (a scan of every
    // start per check-in grew with the square of the data).
    starts.sort_unstable();
    // A check-in at or after the run start, within the window.
    let after = |s: i64| {
        let k = ts.partition_point(|&t| t < s);
        ts.get(k).is_some_and(|&t| t - s <= w)
    };
    // The latest start at or before `t` is within the window.
    let before = |t: i64| {
        let k = starts.partition_point(|&s| s <= t);
        k.checked_sub(1)
            .and_then(|i| starts.get(i))
            .is_some_and(|&s| t - s <= w)
    };
    Some(RunAlignment {
        runs: starts.len(),
        runs_with_checkin: starts.iter().filter(|&&s| after(s)).count(),
        checkins: ts.len(),
        checkins_after_run: ts.iter().filter(|&&t| before(t)).count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The binary searches count as the scan of every start per check-in did.
    #[test]
    fn alignment_counts_as_the_scan() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % m) as i64
        };
        for _ in 0..300 {
            let w = next(50) + 1;
            let starts: Vec<i64> = (0..next(30)).map(|_| next(1_000)).collect();
            let mut ts: Vec<i64> = (0..next(40)).map(|_| next(1_000)).collect();
            ts.sort_unstable();
            let got = alignment(starts.clone(), &ts, w);
            let want = (!starts.is_empty()).then(|| RunAlignment {
                runs: starts.len(),
                runs_with_checkin: starts
                    .iter()
                    .filter(|&&s| ts.iter().any(|&t| t >= s && t - s <= w))
                    .count(),
                checkins: ts.len(),
                checkins_after_run: ts
                    .iter()
                    .filter(|&&t| starts.iter().any(|&s| s <= t && t - s <= w))
                    .count(),
            });
            assert_eq!(got, want, "starts {starts:?} ts {ts:?} w {w}");
        }
    }
}
