//! Per-series features: every number of a [`BeaconReport`] as a named, documented column, for
//! users who feed their own models (a feature matrix with feature `ndarray`, Arrow columns with
//! feature `arrow`).
//!
//! [`FEATURES`] is the one list of columns: the report batch of
//! [`arrow::report_batch`](crate::arrow) and the matrix of `feature_matrix` use it in this
//! order. A value the report does not have (no period, no sizes) is `None` here, `NaN` in the
//! matrix and null in Arrow.
//!
//! # Example
//! ```
//! use beaconstat::Analyzer;
//! use beaconstat::features::{FEATURES, feature};
//! let ts: Vec<i64> = (0..30).map(|i| i * 60_000_000).collect();
//! let report = Analyzer::default().score(&ts, None);
//! let period = feature("period_s").unwrap();
//! assert!((period.value(&report).unwrap() - 60.0).abs() < 0.5);
//! assert_eq!(feature("size_regularity").unwrap().value(&report), None); // no sizes given
//! assert!(FEATURES.iter().all(|f| !f.doc.is_empty()));
//! ```

use crate::beacon::{BeaconReport, Verdict};
use crate::time::Interval;

/// One numeric feature of a report.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Feature {
    /// Column name (snake case, with its unit as a suffix where it has one).
    pub name: &'static str,
    /// What the number is.
    pub doc: &'static str,
    /// Whether the value is a whole count (a `UInt64` column in Arrow).
    pub integer: bool,
    get: fn(&BeaconReport) -> Option<f64>,
}

impl Feature {
    /// This feature of `report`; `None` where the report has no such value.
    pub fn value(&self, report: &BeaconReport) -> Option<f64> {
        (self.get)(report)
    }
}

const fn real(name: &'static str, doc: &'static str, get: fn(&BeaconReport) -> Option<f64>) -> Feature {
    Feature {
        name,
        doc,
        integer: false,
        get,
    }
}

const fn count(name: &'static str, doc: &'static str, get: fn(&BeaconReport) -> Option<f64>) -> Feature {
    Feature {
        name,
        doc,
        integer: true,
        get,
    }
}

/// The features, in column order.
pub const FEATURES: &[Feature] = &[
    real(
        "score",
        "Beacon score in [0, 1] (the product of the factors below).",
        |r| Some(r.score),
    ),
    count(
        "scored",
        "1 when the series was scored, 0 when it had too few beats.",
        |r| Some(f64::from(u8::from(r.verdict == Verdict::Scored))),
    ),
    real(
        "timing",
        "Interval sub-score in [0, 1]: explained share over chance, damped by jitter and misses.",
        |r| Some(r.subscores.timing),
    ),
    real(
        "spectral",
        "Spectral sub-score in [0, 1]: ACF at the period times Fisher's significance.",
        |r| Some(r.subscores.spectral),
    ),
    real(
        "size_score",
        "Size sub-score in [0, 1]; missing when byte counts are unknown.",
        |r| r.subscores.size,
    ),
    real(
        "significance",
        "Significance gate in [0, 1]: min(1, -log10(p) / 3).",
        |r| Some(r.subscores.significance),
    ),
    real(
        "p_value",
        "P-value against a Poisson arrival process (small: not random).",
        |r| Some(r.p_value),
    ),
    real(
        "neg_log10_p",
        "-log10 of the p-value, capped at 300 (a linear scale for models).",
        |r| Some((-r.p_value.max(1e-300).log10()).clamp(0.0, 300.0)),
    ),
    count("events", "Events (connections) in the series.", |r| {
        Some(r.events as f64)
    }),
    count(
        "beats",
        "Beats (check-ins) after coalescing near-simultaneous events.",
        |r| Some(r.beats as f64),
    ),
    real("span_s", "Seconds from the first to the last event.", |r| {
        Some((r.last - r.first).as_secs_f64())
    }),
    real(
        "coalesce_gap_s",
        "Gap under which events coalesce into one beat, seconds.",
        |r| Some(r.coalesce_gap.as_secs_f64()),
    ),
    real(
        "period_s",
        "Estimated period (mean time between check-ins), seconds; missing if none.",
        |r| r.period.map(Interval::as_secs_f64),
    ),
    real(
        "jitter",
        "Relative jitter: half the 5-95% spread of intervals around the period.",
        |r| Some(r.jitter),
    ),
    real(
        "tolerance",
        "Relative tolerance at which intervals were matched to the period.",
        |r| Some(r.tolerance),
    ),
    real(
        "explained",
        "Share of intervals explained by the period or a multiple of it.",
        |r| Some(r.explained),
    ),
    real("chance", "Share a random process would put in the same windows.", |r| {
        Some(r.chance)
    }),
    real("missed", "Missed check-ins as a share of expected check-ins.", |r| {
        Some(r.missed)
    }),
    count(
        "missed_beats",
        "Missed check-ins (an interval of k periods misses k - 1).",
        |r| Some(r.missed_beats as f64),
    ),
    real("interval_median_s", "Median interval between beats, seconds.", |r| {
        Some(r.intervals.median.as_secs_f64())
    }),
    real(
        "interval_mad_s",
        "Median absolute deviation of the intervals, seconds.",
        |r| Some(r.intervals.mad.as_secs_f64()),
    ),
    real(
        "interval_bowley",
        "Bowley (quartile) skewness of the intervals, in [-1, 1].",
        |r| Some(r.intervals.bowley),
    ),
    real("interval_mean_s", "Mean interval between beats, seconds.", |r| {
        Some(r.intervals.mean.as_secs_f64())
    }),
    real(
        "comb_period_s",
        "Period of the interval comb fit alone, seconds; missing if none.",
        |r| r.intervals.comb_period.map(Interval::as_secs_f64),
    ),
    real(
        "spectral_period_s",
        "Period of the verified periodogram peak, seconds; missing if none.",
        |r| r.spectrum.period.map(Interval::as_secs_f64),
    ),
    real("fisher_g", "Fisher's g statistic of the periodogram.", |r| {
        Some(r.spectrum.fisher_g)
    }),
    real("fisher_p", "P-value of Fisher's g test against white noise.", |r| {
        Some(r.spectrum.fisher_p)
    }),
    real("acf", "Autocorrelation at the period, in [-1, 1].", |r| {
        Some(r.spectrum.acf)
    }),
    real("bin_width_s", "Bin width of the periodogram, seconds.", |r| {
        Some(r.spectrum.bin_width.as_secs_f64())
    }),
    real(
        "size_median",
        "Median bytes per event; missing when sizes are unknown.",
        |r| r.size.map(|s| s.median),
    ),
    real(
        "size_mad",
        "Median absolute deviation of the sizes, bytes; missing without sizes.",
        |r| r.size.map(|s| s.mad),
    ),
    count("size_mode", "Most common size, bytes; missing without sizes.", |r| {
        r.size.map(|s| s.mode as f64)
    }),
    real(
        "size_mode_share",
        "Share of events with the most common size; missing without sizes.",
        |r| r.size.map(|s| s.mode_share),
    ),
    real(
        "size_regularity",
        "Size regularity in [0, 1]; missing without sizes.",
        |r| r.size.map(|s| s.regularity),
    ),
];

/// The feature named `name`.
pub fn feature(name: &str) -> Option<&'static Feature> {
    FEATURES.iter().find(|f| f.name == name)
}

/// One row per report, one column per [`FEATURES`] entry (missing values are `NaN`).
///
/// # Example
/// ```
/// use beaconstat::Analyzer;
/// use beaconstat::features::{FEATURES, feature_matrix};
/// let mut a = Analyzer::default();
/// let beacon: Vec<i64> = (0..30).map(|i| i * 60_000_000).collect();
/// let random: Vec<i64> = (0..30).map(|i| i * i * 7_000_000).collect();
/// let reports = [a.score(&beacon, None), a.score(&random, None)];
/// let m = feature_matrix(&reports);
/// assert_eq!(m.dim(), (2, FEATURES.len()));
/// assert!(m[[0, 0]] > m[[1, 0]]); // column 0 is the score
/// assert!(m[[0, 4]].is_nan()); // size_score: no sizes
/// ```
#[cfg(feature = "ndarray")]
pub fn feature_matrix(reports: &[BeaconReport]) -> ndarray::Array2<f64> {
    ndarray::Array2::from_shape_fn((reports.len(), FEATURES.len()), |(row, col)| {
        FEATURES[col].value(&reports[row]).unwrap_or(f64::NAN)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut names: Vec<&str> = FEATURES.iter().map(|f| f.name).collect();
        assert!(names.iter().all(|n| {
            n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        }));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FEATURES.len());
    }

    #[test]
    fn unscored_report_has_its_counts() {
        let r = crate::Analyzer::default().score(&[0, 1_000_000], None);
        assert_eq!(feature("scored").unwrap().value(&r), Some(0.0));
        assert_eq!(feature("events").unwrap().value(&r), Some(2.0));
        assert_eq!(feature("period_s").unwrap().value(&r), None);
        assert_eq!(feature("span_s").unwrap().value(&r), Some(1.0));
    }
}
