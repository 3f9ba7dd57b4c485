//! The thresholds and windows of the AN1113 join.

use super::finding::Destination;
use super::severity::SeverityWeights;
use crate::allowlist::{Action, Allowlist};
use crate::beacon::{AnalyzerConfig, BeaconReport, Verdict};
use crate::lineage::LineageConfig;
use crate::rank::LocalNets;
use crate::series::SeriesKey;
use crate::time::Interval;

/// How the join scores, matches and ranks. Defaults in brackets.
///
/// # Example
/// ```
/// use beaconstat::an1113::An1113Config;
/// let c = An1113Config { period_tolerance: 0.2, ..An1113Config::default() };
/// assert_eq!(c.min_score, 0.5);
/// ```
#[derive(Debug, Clone)]
pub struct An1113Config {
    /// The periodicity analyzer [`AnalyzerConfig::default`].
    pub analyzer: AnalyzerConfig,
    /// The lineage windows [`LineageConfig::default`].
    pub lineage: LineageConfig,
    /// A series at or above this beacon score is periodic [0.5].
    pub min_score: f64,
    /// The trigger interval matches the observed period within this relative error [0.15].
    pub period_tolerance: f64,
    /// A check-in within this after a task run lines up with it [120 s].
    pub run_window: Interval,
    /// Destinations matching a rule are down-ranked (suppressed ones too, with the rule named)
    /// [the crate's default rules].
    pub allowlist: Allowlist,
    /// A host sees Sysmon `UtcTime` and `TimeCreated` disagree on a record beyond this: the
    /// record's `TimeCreated` (with the host's offset) is used [60 s].
    pub clock_tolerance: Interval,
    /// Which addresses are local: the direction of a series and which sources are hosts
    /// [the built-in private ranges, `LocalNets::new`].
    pub local_nets: LocalNets,
    /// How much each piece of evidence counts in a finding's severity
    /// [`SeverityWeights::default`].
    pub severity: SeverityWeights,
}

impl Default for An1113Config {
    fn default() -> Self {
        An1113Config {
            analyzer: AnalyzerConfig::default(),
            lineage: LineageConfig::default(),
            min_score: 0.5,
            period_tolerance: 0.15,
            run_window: Interval::from_secs(120),
            allowlist: Allowlist::default_rules(),
            clock_tolerance: Interval::from_secs(60),
            local_nets: LocalNets::new(),
            severity: SeverityWeights::default(),
        }
    }
}

impl An1113Config {
    /// A series is periodic: scored, at or above [`min_score`](An1113Config::min_score).
    pub(crate) fn is_periodic(&self, r: &BeaconReport) -> bool {
        r.verdict == Verdict::Scored && r.score >= self.min_score
    }

    /// The allowlist rule matching a destination reached from `host` by `image`, with its
    /// action.
    pub(crate) fn allowlisted(&self, host: &str, image: Option<&str>, d: &Destination) -> Option<(String, Action)> {
        let key = SeriesKey {
            host: Some(host),
            process: image,
            dst: Some(d.addr.as_str()),
            dst_port: d.port,
            name: d.name.as_deref(),
            ..SeriesKey::empty()
        };
        self.allowlist
            .match_key(&key, None)
            .map(|r| (r.name().to_owned(), r.action()))
    }
}
