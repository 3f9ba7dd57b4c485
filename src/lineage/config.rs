//! The time windows lineage uses when it joins events.

use crate::time::Interval;

/// Windows used when joining events. All are configurable; defaults in brackets.
///
/// # Example
/// ```
/// use beaconstat::Interval;
/// use beaconstat::lineage::LineageConfig;
/// let c = LineageConfig { short_lived: Interval::from_secs(60), ..LineageConfig::default() };
/// assert_eq!(c.run_window, Interval::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(default))]
pub struct LineageConfig {
    /// A launched process must start within this of its run's first event [10 s].
    pub run_window: Interval,
    /// Creator evidence (schtasks, taskschd.dll load, 4104, 5145, 4624) must be within this
    /// before the task event [120 s].
    pub creator_window: Interval,
    /// Created and deleted within this = short-lived [10 min].
    pub short_lived: Interval,
    /// Repetition intervals at or below this are flagged [5 min].
    pub short_repetition: Interval,
    /// A host whose `TimeCreated` differs from Sysmon `UtcTime` by more than this (median over
    /// Sysmon records) is reported and corrected, rounded to 15 minutes [60 s].
    pub clock_tolerance: Interval,
    /// A host whose collector (`@timestamp` of a Logstash export, Winlogbeat's
    /// `event.created`) lags the events' own times by more than this (median) is reported in
    /// the clock report; its times are never used while the event's own are there [1 s].
    pub collector_tolerance: Interval,
    /// A task created within this after the same account created an account (4720) or added
    /// a group member (4728/4732/4756) is flagged [10 min].
    pub account_change_window: Interval,
    /// A run tied to no task lists as candidates the tasks registered, changed or asked to
    /// run within this before it started [5 min].
    pub candidate_window: Interval,
    /// A task whose trigger expires (`EndBoundary`) within this after it can first run (its
    /// `StartBoundary`, or its registration when that start is past) is flagged as
    /// self-cleaning [1 day].
    pub expires_soon: Interval,
}

impl Default for LineageConfig {
    fn default() -> Self {
        LineageConfig {
            run_window: Interval::from_secs(10),
            creator_window: Interval::from_secs(120),
            short_lived: Interval::from_secs(600),
            short_repetition: Interval::from_secs(300),
            clock_tolerance: Interval::from_secs(60),
            collector_tolerance: Interval::from_secs(1),
            account_change_window: Interval::from_secs(600),
            candidate_window: Interval::from_secs(300),
            expires_soon: Interval::from_secs(86_400),
        }
    }
}
