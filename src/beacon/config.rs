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
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
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

/// [`AnalyzerConfigBuilder::build`]'s checks; the tolerances come back sorted, without
/// duplicates.
fn validate(mut c: AnalyzerConfig) -> Result<AnalyzerConfig> {
    let in_range = |v: f64, lo: f64, hi: f64| v.is_finite() && v >= lo && v <= hi;
    if c.min_events < 3 {
        return Err(Error::config("min_events", "must be at least 3"));
    }
    if !(in_range(c.coalesce_ratio, 0.0, 0.5) && c.coalesce_ratio < 0.5) {
        return Err(Error::config(
            "coalesce_ratio",
            format!("{} is not in [0, 0.5)", c.coalesce_ratio),
        ));
    }
    if c.coalesce_max.as_micros() < 0 {
        return Err(Error::config("coalesce_max", "must not be negative"));
    }
    if c.tolerances.is_empty() || c.tolerances.iter().any(|&t| !(in_range(t, 0.0, 0.5) && t > 0.0)) {
        return Err(Error::config("tolerances", "need at least one, each in (0, 0.5]"));
    }
    if !(1..=64).contains(&c.max_multiple) {
        return Err(Error::config("max_multiple", "must be in [1, 64]"));
    }
    if !in_range(c.contrast, 1.5, 10.0) {
        return Err(Error::config("contrast", "must be in [1.5, 10]"));
    }
    if !(4..=64).contains(&c.bins_per_period) {
        return Err(Error::config("bins_per_period", "must be in [4, 64]"));
    }
    if c.bins_per_beat < 4 {
        return Err(Error::config("bins_per_beat", "must be at least 4"));
    }
    if !(256..=(1 << 24)).contains(&c.max_bins) {
        return Err(Error::config("max_bins", "must be in [256, 2^24]"));
    }
    if !in_range(c.gate_decades, 0.1, 50.0) {
        return Err(Error::config("gate_decades", "must be in [0.1, 50]"));
    }
    if !in_range(c.size_weight, 0.0, 1.0) {
        return Err(Error::config("size_weight", "must be in [0, 1]"));
    }
    c.tolerances.sort_by(f64::total_cmp);
    c.tolerances.dedup();
    Ok(c)
}

/// The fields of a serialised [`AnalyzerConfig`], each defaulted, read before
/// [`validate`] decides whether they make a config.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ConfigFields {
    min_events: usize,
    coalesce_ratio: f64,
    coalesce_max: Interval,
    tolerances: Vec<f64>,
    max_multiple: u32,
    contrast: f64,
    bins_per_period: usize,
    bins_per_beat: usize,
    max_bins: usize,
    gate_decades: f64,
    size_weight: f64,
}

#[cfg(feature = "serde")]
impl Default for ConfigFields {
    fn default() -> Self {
        let AnalyzerConfig {
            min_events,
            coalesce_ratio,
            coalesce_max,
            tolerances,
            max_multiple,
            contrast,
            bins_per_period,
            bins_per_beat,
            max_bins,
            gate_decades,
            size_weight,
        } = AnalyzerConfig::default();
        ConfigFields {
            min_events,
            coalesce_ratio,
            coalesce_max,
            tolerances,
            max_multiple,
            contrast,
            bins_per_period,
            bins_per_beat,
            max_bins,
            gate_decades,
            size_weight,
        }
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for AnalyzerConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        let f = ConfigFields::deserialize(d)?;
        validate(AnalyzerConfig {
            min_events: f.min_events,
            coalesce_ratio: f.coalesce_ratio,
            coalesce_max: f.coalesce_max,
            tolerances: f.tolerances,
            max_multiple: f.max_multiple,
            contrast: f.contrast,
            bins_per_period: f.bins_per_period,
            bins_per_beat: f.bins_per_beat,
            max_bins: f.max_bins,
            gate_decades: f.gate_decades,
            size_weight: f.size_weight,
        })
        .map_err(serde::de::Error::custom)
    }
}
