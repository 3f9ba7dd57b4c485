//! Stage 1, clocks: per host, the median of Sysmon `UtcTime - TimeCreated`; beyond the
//! tolerance it becomes a correction (rounded to 15 minutes) for that host's `TimeCreated`
//! times, reported with the records that disagree.

use super::context::BuildContext;
use crate::lineage::coverage::{ClockReport, CoverageGap};
use crate::time::Interval;

const QUARTER_HOUR: i64 = 15 * 60 * 1_000_000;

/// Measures every host's skew from `skews` (µs, per host) and sets its correction.
pub(super) fn measure(cx: &mut BuildContext<'_>, skews: &[Vec<i64>]) {
    let tol = cx.cfg.clock_tolerance.as_micros();
    for (h, sk) in skews.iter().enumerate() {
        if sk.is_empty() {
            continue;
        }
        let mut v = sk.clone();
        v.sort_unstable();
        let median = v[v.len() / 2];
        let disagreeing = v.iter().filter(|&&s| (s - median).abs() > tol).count() as u64;
        let corr = if median.abs() > tol {
            (median as f64 / QUARTER_HOUR as f64).round() as i64 * QUARTER_HOUR
        } else {
            0
        };
        cx.host[h].correction = corr;
        if corr != 0 || disagreeing > 0 {
            cx.clocks.push(ClockReport {
                host: cx.hosts[h].clone(),
                median_skew: Interval(median),
                correction: Interval(corr),
                samples: v.len() as u64,
                disagreeing,
            });
        }
        if corr != 0 {
            cx.coverage.gaps.push(CoverageGap::ClockDisagreement {
                host: cx.hosts[h].clone(),
                skew: Interval(median),
            });
        }
    }
}
