//! The thresholds and windows of the AN1113 join.

use super::finding::Destination;
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
            allowlist: Allowlist::default_rules(),
            ..An1113Config::without_rules()
        }
    }
}

impl An1113Config {
    /// The defaults with an empty allowlist: the configuration of a builder's parts in a
    /// parallel read, which only collect (the caller's builder builds, with its own
    /// configuration), so that a part does not parse the shipped rules once per chunk.
    pub(crate) fn without_rules() -> Self {
        An1113Config {
            analyzer: AnalyzerConfig::default(),
            lineage: LineageConfig::default(),
            min_score: 0.5,
            period_tolerance: 0.15,
            run_window: Interval::from_secs(120),
            allowlist: Allowlist::new(),
            clock_tolerance: Interval::from_secs(60),
            local_nets: LocalNets::new(),
            severity: SeverityWeights::default(),
        }
    }

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

/// How much each piece of evidence counts in a finding's [`Severity`](super::Severity).
///
/// The score starts from the beacon score of the series (or `not_periodic` for a series that
/// is not periodic but is tied to a task). Each piece of evidence *for* AN1113 then removes a
/// share of the remaining doubt — `s ← s + (1 − s)·w`, like combining independent evidence
/// (so no single item reaches 1 on its own, and the order they are applied in does not matter)
/// — and each piece of evidence *against* it multiplies the score by what it keeps. A level is
/// read from the score: High ≥ 0.75, Medium ≥ 0.5, Low ≥ 0.25, else Info.
///
/// The defaults were set by hand, by what each piece of evidence means (below), and checked on
/// the generated scenarios (`synth::an1113_scenario`, 6 h to 2 days): the planted beacon task
/// ranks first and High, and the benign agents (an hourly updater every host reaches, a backup
/// job, a monitoring service) stay at Low or below, at least 0.3 under it. Moved alone anywhere
/// in 0–0.95, every weight but one keeps that order there: the beacon's periodicity and task are
/// enough, and the scenarios do not constrain the others. The one that binds is
/// `shared_service`: the updater is periodic, tied to its task and checks in after every run
/// (0.99 before prevalence), and only being reached by every host keeps it Low — above 0.5 the
/// 2-day updater turns Medium. 0.5 is also what the ranking stage keeps for a destination every
/// local host reaches (`1 − share/2`). An updater that one host alone runs is not down-ranked by
/// prevalence: the allowlist is for that. The test `severity_weights_hold_the_order` in
/// `tests/an1113_synthetic.rs` holds all of this.
///
/// # Example
/// ```
/// use beaconstat::an1113::{An1113Config, SeverityWeights};
/// let w = SeverityWeights { shared_service: 0.3, ..SeverityWeights::default() };
/// let cfg = An1113Config { severity: w, ..An1113Config::default() };
/// assert_eq!(cfg.severity.task, 0.4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeverityWeights {
    /// The starting score of a series tied to a task but not periodic in the data [0.15]: low,
    /// since it is reported for its lineage only (one connection of a task's creator).
    pub not_periodic: f64,
    /// Raise for a series tied to a scheduled task that is not a built-in one [0.4]: AN1113's
    /// own pairing, recurring automation with transmission; the largest single raise.
    pub task: f64,
    /// Raise for a series tied to a built-in Windows task left alone [0.1]: automation, but
    /// the platform's own.
    pub builtin_task: f64,
    /// Raise when the task itself stands out in lineage (suspicion at or above
    /// `suspicious_task_at`: script-host creator, hidden window, download cradle…) [0.3].
    pub suspicious_task: f64,
    /// The lineage suspicion from which a task stands out \[3\]: one strong reason (weights of 3
    /// and more in [`lineage`](crate::lineage)) or several weak ones.
    pub suspicious_task_at: u32,
    /// Raise for a process launched by WMI or by the Schedule service when the task is not
    /// identified [0.2]: automation whose definition the data does not show.
    pub hidden_automation: f64,
    /// Raise when the task's trigger interval matches the observed period [0.4]: the beacon is
    /// the task's own rhythm; as strong as the tie itself.
    pub period_match: f64,
    /// Raise when at least half the task's runs are followed by a check-in [0.2]: runs and
    /// connections line up, weaker than the period (a run-once task also lines up).
    pub runs_aligned: f64,
    /// Kept of the score for a local ↔ local series [0.4]: AN1113 asks about external
    /// destinations; internal polling (monitoring, backups) is mostly benign.
    pub internal: f64,
    /// Kept for inbound and external ↔ external series [0.6]: not what AN1113 asks, but a C2
    /// server under the sensor or a relay is still worth a look.
    pub other_direction: f64,
    /// Kept when more than half of at least three reporting hosts reach the destination [0.5]:
    /// a shared service (updates, telemetry), as the prevalence stage of ranking holds.
    pub shared_service: f64,
    /// Kept for host-level series (joined by address and time only) [0.8]: the same evidence,
    /// less sure of the process.
    pub host_level: f64,
}

impl Default for SeverityWeights {
    fn default() -> Self {
        SeverityWeights {
            not_periodic: 0.15,
            task: 0.4,
            builtin_task: 0.1,
            suspicious_task: 0.3,
            suspicious_task_at: 3,
            hidden_automation: 0.2,
            period_match: 0.4,
            runs_aligned: 0.2,
            internal: 0.4,
            other_direction: 0.6,
            shared_service: 0.5,
            host_level: 0.8,
        }
    }
}
