//! What moved a series' rank score away from its beacon score, and why.

use core::fmt;

/// What kind of adjustment was made, with the data behind it. New kinds are added as the
/// ranking learns more (direction, fan-in, task context), so match with a wildcard arm.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum AdjustmentKind {
    /// The series spans only a small share of the time its source was observed (see
    /// [`Persistence`](super::Persistence)).
    Persistence {
        /// Span of the series over the time its source was observed, in `[0, 1]`.
        span_share: f64,
        /// The floor its evidence sets (check-ins, p-value, a plausible period), in `[0, 1]`.
        evidence_floor: f64,
    },
    /// Many sources reach the destination (on this port): a service, a brute-forced or
    /// probed port, not one host's C2.
    FanIn {
        /// Distinct sources reaching the destination on the series' port.
        sources: u32,
        /// The port, where the series has one.
        port: Option<u16>,
    },
    /// Most local hosts reach the destination: shared infrastructure (an update service).
    Prevalence {
        /// Distinct local sources reaching the destination.
        local_sources: u32,
        /// Distinct local sources in the data.
        local_total: u32,
    },
    /// An allowlist rule down-ranks the series.
    Downranked {
        /// The rule's name.
        rule: String,
    },
    /// An allowlist rule suppresses the series (its score is kept; it is left out of
    /// [`Ranked::top`](super::Ranked::top) and [`Ranked::beacons`](super::Ranked::beacons)).
    Suppressed {
        /// The rule's name.
        rule: String,
    },
}

/// One adjustment of a series' rank score: the kind (as data), the factor the score was
/// multiplied by, and the reason in words.
///
/// # Example
/// ```
/// use beaconstat::rank::{Adjustment, AdjustmentKind};
/// let kind = AdjustmentKind::Downranked { rule: "windows-update".into() };
/// let a = Adjustment::new(kind, 0.3, "downranked by allowlist rule windows-update (raw score 0.91)");
/// assert_eq!(a.to_string(), a.reason);
/// assert!(matches!(&a.kind, AdjustmentKind::Downranked { rule } if rule == "windows-update"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Adjustment {
    /// What changed the score, with its data.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub kind: AdjustmentKind,
    /// The factor the score was multiplied by, in `[0, 1]` (1 for a suppression: the series
    /// is marked, not re-scored).
    pub factor: f64,
    /// Why, in words.
    pub reason: String,
}

impl Adjustment {
    /// An adjustment of `kind` by `factor`, explained by `reason`.
    pub fn new(kind: AdjustmentKind, factor: f64, reason: impl Into<String>) -> Self {
        Adjustment {
            kind,
            factor,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Adjustment {
    /// The reason in words.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}
