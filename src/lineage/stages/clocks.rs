//! Stage 1, clocks: per host and logged time field (`TimeCreated`, NXLog's zone-less
//! `EventTime`), the offset to UTC. Measured as the median of Sysmon `UtcTime` minus the logged
//! time; without Sysmon, as the median of a collector's time minus the logged time (a
//! collector is seconds late, not hours: rounded to 15 minutes it gives the zone). Beyond the
//! tolerance the offset, rounded to 15 minutes, becomes that field's correction. Reported
//! with the records that disagree and the collector's lag after the correction.

use super::context::BuildContext;
use crate::lineage::collected::ClockSamples;
use crate::lineage::coverage::{ClockReport, CoverageGap};
use crate::time::Interval;
use crate::winevent::TimeSource;

const QUARTER_HOUR: i64 = 15 * 60 * 1_000_000;

fn median(v: &[i64]) -> Option<i64> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

fn round_quarter(us: i64) -> i64 {
    (us as f64 / QUARTER_HOUR as f64).round() as i64 * QUARTER_HOUR
}

/// Measures every host's clocks from `samples` (per host) and sets its corrections.
pub(super) fn measure(cx: &mut BuildContext<'_>, samples: &[ClockSamples]) {
    let tol = cx.cfg.clock_tolerance.as_micros();
    let lag_tol = cx.cfg.collector_tolerance.as_micros();
    for (h, s) in samples.iter().enumerate() {
        for (slot, source) in [TimeSource::SystemTime, TimeSource::LocalTime].into_iter().enumerate() {
            debug_assert_eq!(ClockSamples::slot(source), Some(slot));
            let sysmon = &s.sysmon[slot];
            let collector = &s.collector[slot];
            let sysmon_median = median(sysmon);
            let collector_median = median(collector);
            // Sysmon's UtcTime is the reference; a collector only where there is no Sysmon.
            let offset = sysmon_median.or(collector_median);
            let Some(offset) = offset else { continue };
            let corr = if offset.abs() > tol { round_quarter(offset) } else { 0 };
            cx.host[h].correction[slot] = corr;
            let disagreeing =
                sysmon_median.map_or(0, |m| sysmon.iter().filter(|&&x| (x - m).abs() > tol).count() as u64);
            let collector_lag = collector_median.map(|m| m - corr);
            let lagging = collector_lag.is_some_and(|l| l.abs() > lag_tol);
            if corr != 0 || disagreeing > 0 || lagging {
                cx.clocks.push(ClockReport {
                    host: cx.hosts[h].clone(),
                    source,
                    median_skew: sysmon_median.map(Interval),
                    correction: Interval(corr),
                    samples: sysmon.len() as u64,
                    disagreeing,
                    collector_lag: collector_lag.map(Interval),
                    collector_samples: collector.len() as u64,
                });
            }
            if corr != 0 {
                cx.coverage.gaps.push(CoverageGap::ClockDisagreement {
                    host: cx.hosts[h].clone(),
                    source,
                    skew: Interval(offset),
                });
            }
        }
    }
}
