//! Persistence: beacons last. A series that is regular for twenty seconds of a day-long
//! capture is a burst (a scan, a flood, a retry storm), not a check-in schedule.

use super::report::BeaconReport;
use crate::time::Timestamp;

/// Share of the observation window a series must span to count as fully persistent.
pub const PERSISTENT_SHARE: f64 = 0.1;

/// How persistent a scored series is within the observation window `(start, end)` (usually the
/// first and last event of the whole dataset, [`SeriesSet::time_range`](crate::SeriesSet::time_range)):
/// `min(1, √(span / (0.1 × window)))`, and 1 when the window is empty.
///
/// A series spanning a tenth of the capture or more gets 1; one spanning a thousandth gets 0.1.
/// Multiply the score by it to rank persistent beacons above short regular bursts.
///
/// # Example
/// ```
/// use beaconstat::{Analyzer, Timestamp, beacon::persistence};
/// let day = (Timestamp::from_secs(0), Timestamp::from_secs(86_400));
/// let burst: Vec<i64> = (0..100).map(|i| i * 200_000).collect(); // 20 s of 0.2 s beats
/// let beacon: Vec<i64> = (0..100).map(|i| i * 600_000_000).collect(); // 16.5 h of 10 min beats
/// let mut a = Analyzer::default();
/// assert!(persistence(&a.score(&burst, None), day) < 0.1);
/// assert_eq!(persistence(&a.score(&beacon, None), day), 1.0);
/// ```
pub fn persistence(report: &BeaconReport, window: (Timestamp, Timestamp)) -> f64 {
    persistence_over(report, window.1.0.abs_diff(window.0.0) as f64 / 1e6)
}

/// [`persistence`] against an observation time given as its length in seconds, such as a
/// source's from [`SeriesSet::observed_seconds_by_source`](crate::SeriesSet::observed_seconds_by_source)
/// (only the window's length matters).
///
/// # Example
/// ```
/// use beaconstat::{Analyzer, beacon::persistence_over};
/// let burst: Vec<i64> = (0..100).map(|i| i * 200_000).collect(); // 20 s of 0.2 s beats
/// assert!(persistence_over(&Analyzer::default().score(&burst, None), 86_400.0) < 0.1);
/// ```
pub fn persistence_over(report: &BeaconReport, window_s: f64) -> f64 {
    if window_s.is_nan() || window_s <= 0.0 {
        return 1.0;
    }
    let span_s = report.last.0.abs_diff(report.first.0) as f64 / 1e6;
    (span_s / (PERSISTENT_SHARE * window_s)).sqrt().clamp(0.0, 1.0)
}
