//! [`AnalyzerConfig`] and its builder: every knob of the periodicity engine, with its default
//! and the reason for it.

use crate::error::{Error, Result};
use crate::time::Interval;

/// Settings of an [`Analyzer`](crate::Analyzer). Build with [`AnalyzerConfig::builder`];
/// `AnalyzerConfig::default()` is the documented defaults.
///
/// # Example
/// ```
/// use beaconstat::{AnalyzerConfig, Interval};
/// let cfg = AnalyzerConfig::builder()
///     .min_events(8)
///     .coalesce_max(Interval::from_secs(5))
///     .build()?;
/// assert_eq!(cfg.min_events(), 8);
/// # Ok::<(), beaconstat::Error>(())
/// ```
///
/// Deserialising (feature `serde`) goes through the same checks as
/// [`AnalyzerConfigBuilder::build`]: a setting out of range is an error, a missing one takes
/// its default, an unknown one is an error (a misspelt knob would otherwise be ignored).
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use beaconstat::AnalyzerConfig;
/// let cfg: AnalyzerConfig = serde_json::from_str(r#"{"min_events": 8}"#).unwrap();
/// assert_eq!((cfg.min_events(), cfg.size_weight()), (8, 0.2));
/// let err = serde_json::from_str::<AnalyzerConfig>(r#"{"min_events": 1}"#).unwrap_err();
/// assert!(err.to_string().contains("min_events"));
/// assert!(serde_json::from_str::<AnalyzerConfig>(r#"{"min_event": 8}"#).is_err());
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
// `remote = "Self"` makes the derives inherent functions (`AnalyzerConfig::deserialize`),
// which the trait impls below wrap: deserialising then runs `validate`, with the field list
// written once, here.
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(remote = "Self", default, deny_unknown_fields)
)]
pub struct AnalyzerConfig {
    pub(crate) min_events: usize,
    pub(crate) coalesce_ratio: f64,
    pub(crate) coalesce_max: Interval,
    pub(crate) tolerances: Vec<f64>,
    pub(crate) max_multiple: u32,
    pub(crate) contrast: f64,
    pub(crate) bins_per_period: usize,
    pub(crate) bins_per_beat: usize,
    pub(crate) max_bins: usize,
    pub(crate) gate_decades: f64,
    pub(crate) size_weight: f64,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            min_events: 4,
            coalesce_ratio: 0.05,
            coalesce_max: Interval::from_secs(30),
            tolerances: vec![0.03, 0.06, 0.12, 0.22, 0.35, 0.5],
            max_multiple: 8,
            contrast: 3.0,
            bins_per_period: 8,
            bins_per_beat: 16,
            max_bins: 1 << 16,
            gate_decades: 3.0,
            size_weight: 0.2,
        }
    }
}

impl AnalyzerConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> AnalyzerConfigBuilder {
        AnalyzerConfigBuilder {
            cfg: AnalyzerConfig::default(),
        }
    }
    /// Series with fewer events (after coalescing into beats) are not scored.
    pub fn min_events(&self) -> usize {
        self.min_events
    }
    /// Coalescing gap as a share of the series' 90th-percentile raw interval.
    pub fn coalesce_ratio(&self) -> f64 {
        self.coalesce_ratio
    }
    /// Upper bound on the coalescing gap.
    pub fn coalesce_max(&self) -> Interval {
        self.coalesce_max
    }
    /// The relative jitter tolerances tried, ascending.
    pub fn tolerances(&self) -> &[f64] {
        &self.tolerances
    }
    /// Largest multiple of the period counted as missed check-ins.
    pub fn max_multiple(&self) -> u32 {
        self.max_multiple
    }
    /// Width of the reference window, relative to the tolerance window (local-contrast null).
    pub fn contrast(&self) -> f64 {
        self.contrast
    }
    /// FFT bins per estimated period.
    pub fn bins_per_period(&self) -> usize {
        self.bins_per_period
    }
    /// Upper bound on FFT bins per beat (keeps cost proportional to the series length).
    pub fn bins_per_beat(&self) -> usize {
        self.bins_per_beat
    }
    /// Upper bound on FFT bins per series.
    pub fn max_bins(&self) -> usize {
        self.max_bins
    }
    /// Decades of significance (−log10 p) at which the significance gate is fully open.
    pub fn gate_decades(&self) -> f64 {
        self.gate_decades
    }
    /// Weight of data-size regularity in the score when sizes are known.
    pub fn size_weight(&self) -> f64 {
        self.size_weight
    }
}

/// Builder for [`AnalyzerConfig`]; every setter documents its default. Setters take and
/// return `&mut Self` (as every builder of the crate), so a builder can be set up in steps or
/// in one chain.
#[derive(Debug, Clone)]
pub struct AnalyzerConfigBuilder {
    cfg: AnalyzerConfig,
}

impl AnalyzerConfigBuilder {
    /// Minimum beats (check-ins after coalescing) for a series to be scored. Default 4;
    /// at least 3 (two intervals). Shorter series get [`Verdict::TooFew`](crate::Verdict).
    pub fn min_events(&mut self, n: usize) -> &mut Self {
        self.cfg.min_events = n;
        self
    }
    /// Events closer than `ratio ×` the series' 90th-percentile interval merge into one beat
    /// (a check-in that opens several connections is one beat). Default 0.05, in `[0, 0.5)`.
    pub fn coalesce_ratio(&mut self, ratio: f64) -> &mut Self {
        self.cfg.coalesce_ratio = ratio;
        self
    }
    /// Upper bound of the coalescing gap. Default 30 s; zero disables coalescing.
    pub fn coalesce_max(&mut self, gap: Interval) -> &mut Self {
        self.cfg.coalesce_max = gap;
        self
    }
    /// Relative jitter tolerances to try (each in `(0, 0.5]`). Default
    /// `[0.03, 0.06, 0.12, 0.22, 0.35, 0.5]`. More values cost a little time and a little
    /// significance (the p-value is corrected for the number tried).
    pub fn tolerances(&mut self, t: &[f64]) -> &mut Self {
        self.cfg.tolerances = t.to_vec();
        self
    }
    /// Largest multiple of the period whose intervals count as missed check-ins. Default 8.
    pub fn max_multiple(&mut self, k: u32) -> &mut Self {
        self.cfg.max_multiple = k;
        self
    }
    /// Width of the local reference window relative to the tolerance window. Default 3.
    pub fn contrast(&mut self, c: f64) -> &mut Self {
        self.cfg.contrast = c;
        self
    }
    /// FFT bins per estimated period. Default 8, in `[4, 64]`.
    pub fn bins_per_period(&mut self, b: usize) -> &mut Self {
        self.cfg.bins_per_period = b;
        self
    }
    /// Upper bound on FFT bins per beat. Default 16, at least 4.
    pub fn bins_per_beat(&mut self, b: usize) -> &mut Self {
        self.cfg.bins_per_beat = b;
        self
    }
    /// Upper bound on FFT bins per series. Default 65 536, in `[256, 2^24]`.
    pub fn max_bins(&mut self, b: usize) -> &mut Self {
        self.cfg.max_bins = b;
        self
    }
    /// −log10 p at which the significance gate stops damping the score. Default 3 (p = 0.001).
    pub fn gate_decades(&mut self, d: f64) -> &mut Self {
        self.cfg.gate_decades = d;
        self
    }
    /// Weight of data-size regularity in the score, in `[0, 1]`. Default 0.2.
    pub fn size_weight(&mut self, w: f64) -> &mut Self {
        self.cfg.size_weight = w;
        self
    }

    /// Checks every setting and returns the config.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) naming the first setting out of range.
    pub fn build(&self) -> Result<AnalyzerConfig> {
        validate(self.cfg.clone())
    }
}

/// [`AnalyzerConfigBuilder::build`]'s checks (deserialising runs them too); the tolerances
/// come back sorted, without duplicates.
fn validate(mut c: AnalyzerConfig) -> Result<AnalyzerConfig> {
    let in_range = |v: f64, lo: f64, hi: f64| v.is_finite() && v >= lo && v <= hi;
    require(c.min_events >= 3, "min_events", "must be at least 3")?;
    require(
        in_range(c.coalesce_ratio, 0.0, 0.5) && c.coalesce_ratio < 0.5,
        "coalesce_ratio",
        format_args!("{} is not in [0, 0.5)", c.coalesce_ratio),
    )?;
    require(c.coalesce_max.as_micros() >= 0, "coalesce_max", "must not be negative")?;
    require(
        !c.tolerances.is_empty() && c.tolerances.iter().all(|&t| in_range(t, 0.0, 0.5) && t > 0.0),
        "tolerances",
        "need at least one, each in (0, 0.5]",
    )?;
    require((1..=64).contains(&c.max_multiple), "max_multiple", "must be in [1, 64]")?;
    require(in_range(c.contrast, 1.5, 10.0), "contrast", "must be in [1.5, 10]")?;
    require(
        (4..=64).contains(&c.bins_per_period),
        "bins_per_period",
        "must be in [4, 64]",
    )?;
    require(c.bins_per_beat >= 4, "bins_per_beat", "must be at least 4")?;
    require(
        (256..=(1 << 24)).contains(&c.max_bins),
        "max_bins",
        "must be in [256, 2^24]",
    )?;
    require(
        in_range(c.gate_decades, 0.1, 50.0),
        "gate_decades",
        "must be in [0.1, 50]",
    )?;
    require(in_range(c.size_weight, 0.0, 1.0), "size_weight", "must be in [0, 1]")?;
    c.tolerances.sort_by(f64::total_cmp);
    c.tolerances.dedup();
    Ok(c)
}

/// `Ok` when `ok`, else the config error naming `setting` and why.
fn require(ok: bool, setting: &'static str, why: impl core::fmt::Display) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::config(setting, why.to_string()))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for AnalyzerConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        AnalyzerConfig::serialize(self, s)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for AnalyzerConfig {
    /// The settings given, each missing one at its default, checked as
    /// [`AnalyzerConfigBuilder::build`] checks them.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        validate(AnalyzerConfig::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// The setting a config error names.
    fn named(e: &Error) -> &'static str {
        match e.kind() {
            ErrorKind::Config { field, .. } => field,
            other => panic!("not a config error: {other:?}"),
        }
    }

    #[test]
    fn each_setting_out_of_range_is_named_by_the_builder_and_by_deserialising() {
        // (the setting, a builder change that puts it out of range, JSON that does)
        type Case = (&'static str, fn(&mut AnalyzerConfigBuilder), &'static str);
        let cases: [Case; 11] = [
            ("min_events", |b| _ = b.min_events(2), r#"{"min_events": 2}"#),
            (
                "coalesce_ratio",
                |b| _ = b.coalesce_ratio(0.5),
                r#"{"coalesce_ratio": 0.5}"#,
            ),
            (
                "coalesce_max",
                |b| _ = b.coalesce_max(Interval::from_micros(-1)),
                r#"{"coalesce_max": -1}"#,
            ),
            ("tolerances", |b| _ = b.tolerances(&[]), r#"{"tolerances": []}"#),
            ("max_multiple", |b| _ = b.max_multiple(0), r#"{"max_multiple": 0}"#),
            ("contrast", |b| _ = b.contrast(f64::NAN), r#"{"contrast": 11}"#),
            (
                "bins_per_period",
                |b| _ = b.bins_per_period(65),
                r#"{"bins_per_period": 3}"#,
            ),
            ("bins_per_beat", |b| _ = b.bins_per_beat(3), r#"{"bins_per_beat": 3}"#),
            ("max_bins", |b| _ = b.max_bins(255), r#"{"max_bins": 16777217}"#),
            ("gate_decades", |b| _ = b.gate_decades(0.0), r#"{"gate_decades": 51}"#),
            ("size_weight", |b| _ = b.size_weight(1.5), r#"{"size_weight": -0.1}"#),
        ];
        for (setting, set, json) in cases {
            let mut b = AnalyzerConfig::builder();
            set(&mut b);
            assert_eq!(named(&b.build().unwrap_err()), setting);
            #[cfg(feature = "serde")]
            {
                let e = serde_json::from_str::<AnalyzerConfig>(json).unwrap_err().to_string();
                assert!(e.contains(setting), "{json}: {e}");
            }
            #[cfg(not(feature = "serde"))]
            let _ = json;
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serialised_config_reads_back_the_same() {
        let mut b = AnalyzerConfig::builder();
        b.min_events(8)
            .tolerances(&[0.2, 0.05, 0.2])
            .coalesce_max(Interval::from_secs(5));
        let cfg = b.build().unwrap();
        assert_eq!(cfg.tolerances(), [0.05, 0.2]);
        let json = serde_json::to_string(&cfg).unwrap();
        assert!(
            json.starts_with(r#"{"min_events":8,"coalesce_ratio":0.05,"coalesce_max":5000000,"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<AnalyzerConfig>(&json).unwrap(), cfg);
        assert_eq!(
            serde_json::from_str::<AnalyzerConfig>("{}").unwrap(),
            AnalyzerConfig::default()
        );
    }
}
