//! [`BeaconReport`]: a score with the evidence behind it, and its explanation in words.

use super::schedule::{ScheduleEvidence, ScheduleKind};
use crate::time::{Interval, Timestamp};
use core::fmt;

/// Whether a series could be scored, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Verdict {
    /// Scored: the report's numbers are meaningful.
    #[default]
    Scored,
    /// Fewer beats than [`AnalyzerConfig::min_events`](crate::AnalyzerConfig::min_events)
    /// (including empty input): score 0, p-value 1.
    TooFew,
}

/// Where the reported period came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum PeriodSource {
    /// No period (unscored series).
    #[default]
    None,
    /// The interval comb fit.
    Intervals,
    /// The periodogram peak, verified on the autocorrelation (then refit on the intervals where
    /// that fits better, or reported as the cycle of a multi-event pattern).
    Spectrum,
}

/// The sub-scores combined into [`BeaconReport::score`], each in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct SubScores {
    /// Interval evidence: explained share in excess of chance, damped by jitter and missed beats.
    pub timing: f64,
    /// Spectral evidence: autocorrelation at the period, damped by the periodogram's significance.
    pub spectral: f64,
    /// Data-size regularity (`None` when sizes are unknown).
    pub size: Option<f64>,
    /// The significance gate: `min(1, −log10 p / gate_decades)`.
    pub significance: f64,
}

/// Robust statistics of the intervals between beats (RITA-style, for comparison).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct IntervalStats {
    /// Median interval.
    #[cfg_attr(feature = "serde", serde(rename = "median_s", with = "crate::time::secs"))]
    pub median: Interval,
    /// Median absolute deviation of the intervals.
    #[cfg_attr(feature = "serde", serde(rename = "mad_s", with = "crate::time::secs"))]
    pub mad: Interval,
    /// Bowley (quartile) skewness, in `[-1, 1]`.
    pub bowley: f64,
    /// Mean interval (span / intervals).
    #[cfg_attr(feature = "serde", serde(rename = "mean_s", with = "crate::time::secs"))]
    pub mean: Interval,
    /// The interval comb's period (differs from the report's period when the periodogram's
    /// cycle carried the score).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "comb_period_s", default, with = "crate::time::secs::option")
    )]
    pub comb_period: Option<Interval>,
}

/// The spectral stage's findings.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct SpectralStats {
    /// The ACF-verified periodogram period.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "period_s", default, with = "crate::time::secs::option")
    )]
    pub period: Option<Interval>,
    /// Fisher's g (largest ordinate's share of the periodogram).
    pub fisher_g: f64,
    /// Fisher's test p-value against a binned Poisson process.
    pub fisher_p: f64,
    /// Autocorrelation at the reported period's lag (0 if no hill there).
    pub acf: f64,
    /// Bin width used.
    #[cfg_attr(feature = "serde", serde(rename = "bin_width_s", with = "crate::time::secs"))]
    pub bin_width: Interval,
}

/// Data-size regularity of the beats (bytes summed per beat).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct SizeStats {
    /// Median bytes per beat.
    pub median: f64,
    /// Median absolute deviation of bytes per beat.
    pub mad: f64,
    /// The most common bytes-per-beat value.
    pub mode: u64,
    /// Share of beats with exactly that value.
    pub mode_share: f64,
    /// `max(mode_share, 1 − mad/median)`, in `[0, 1]`.
    pub regularity: f64,
}

/// The connections inside beats, when coalescing merged any: a check-in that opens several
/// connections, or a burst of bursts (reported at its outer period).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct BurstStats {
    /// Mean connections per beat.
    pub connections_per_beat: f64,
    /// Connections in the largest beat.
    pub largest: usize,
    /// Mean spacing of the connections within a beat.
    #[cfg_attr(feature = "serde", serde(rename = "spacing_s", with = "crate::time::secs"))]
    pub spacing: Interval,
    /// Duration of the longest beat (first to last connection).
    #[cfg_attr(feature = "serde", serde(rename = "longest_s", with = "crate::time::secs"))]
    pub longest: Interval,
}

/// Most segments a [`BeaconReport`] holds (see [`Segments`]).
pub const MAX_SEGMENTS: usize = 4;

/// One stretch of a series with its own period: a beacon whose sleep was changed midway (an
/// operator's `sleep` command) has one segment per sleep.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Segment {
    /// First beat of the segment.
    pub first: Timestamp,
    /// Last beat of the segment.
    pub last: Timestamp,
    /// Beats in the segment (its first and last included).
    pub beats: usize,
    /// The segment's period.
    #[cfg_attr(feature = "serde", serde(rename = "period_s", with = "crate::time::secs"))]
    pub period: Interval,
    /// The segment's relative jitter.
    pub jitter: f64,
    /// Share of the segment's intervals explained by its period.
    pub explained: f64,
    /// The segment's interval p-value.
    pub p_value: f64,
}

impl Segment {
    /// First to last beat of the segment.
    pub fn span(&self) -> Interval {
        self.last - self.first
    }
}

/// The segments of a series whose period changes (empty when one period fits it all, or when
/// none does), in time order; at most [`MAX_SEGMENTS`]. A fixed array, so that reports stay
/// `Copy` and scoring allocates nothing; serialised as a list.
///
/// # Example
/// ```
/// use beaconstat::Analyzer;
/// // 60 check-ins 5 s apart, then 40 check-ins a minute apart.
/// let mut ts: Vec<i64> = (0..60).map(|i| i * 5_000_000 + (i % 3) * 100_000).collect();
/// ts.extend((1..=40).map(|i| 295_000_000 + i * 60_000_000 + (i % 4) * 1_000_000));
/// let r = Analyzer::default().score(&ts, None);
/// let periods: Vec<f64> = r.segments.iter().map(|s| s.period.as_secs_f64().round()).collect();
/// assert_eq!(periods, [5.0, 60.0]);
/// // One sleep throughout: no segments.
/// let one: Vec<i64> = (0..60).map(|i| i * 5_000_000).collect();
/// assert!(Analyzer::default().score(&one, None).segments.is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Segments {
    len: usize, // <= MAX_SEGMENTS
    items: [Segment; MAX_SEGMENTS],
}

impl Segments {
    /// The segments, in time order.
    pub fn as_slice(&self) -> &[Segment] {
        self.items.get(..self.len).unwrap_or(&[])
    }
    /// Iterates over the segments in time order.
    pub fn iter(&self) -> core::slice::Iter<'_, Segment> {
        self.as_slice().iter()
    }
    /// Number of segments.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether there are none (the series has one period, or none).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Appends a segment; `false` (and nothing stored) when full.
    pub(crate) fn push(&mut self, s: Segment) -> bool {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = s;
                self.len += 1;
                true
            }
            None => false,
        }
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Segments {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.as_slice())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Segments {
    /// Reads a list; segments past [`MAX_SEGMENTS`] are dropped.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v: Vec<Segment> = serde::Deserialize::deserialize(d)?;
        let mut out = Segments::default();
        for seg in v {
            out.push(seg);
        }
        Ok(out)
    }
}

/// How periodic one series is, and why.
///
/// All fields are plain numbers (the report is `Copy` and allocation-free). See the crate docs
/// for how the score is combined; [`BeaconReport::explain`] says it in words.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct BeaconReport {
    /// Whether the series was scored.
    pub verdict: Verdict,
    /// Beacon score in `[0, 1]`; monotone in each sub-score.
    pub score: f64,
    /// Significance against a random (Poisson) arrival process; small means "not random".
    pub p_value: f64,
    /// Events in the series.
    pub events: usize,
    /// Beats (check-ins) after coalescing near-simultaneous events.
    pub beats: usize,
    /// The coalescing gap used (events closer than this made one beat).
    #[cfg_attr(feature = "serde", serde(rename = "coalesce_gap_s", with = "crate::time::secs"))]
    pub coalesce_gap: Interval,
    /// First event.
    pub first: Timestamp,
    /// Last event.
    pub last: Timestamp,
    /// Estimated period (mean time between check-ins), to the microsecond.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "period_s", default, with = "crate::time::secs::option")
    )]
    pub period: Option<Interval>,
    /// Where the period came from.
    pub period_source: PeriodSource,
    /// Relative jitter: half the 5–95% spread of intervals around the period (0.45 ≈ ±50% uniform).
    pub jitter: f64,
    /// Relative tolerance at which the intervals were matched to the period.
    pub tolerance: f64,
    /// Share of intervals explained by the period or a multiple of it.
    pub explained: f64,
    /// Share a random process would put in the same windows.
    pub chance: f64,
    /// Check-ins missed (explained intervals at `k` periods miss `k − 1`).
    pub missed_beats: u64,
    /// Missed check-ins as a share of expected check-ins.
    pub missed: f64,
    /// The sub-scores.
    pub subscores: SubScores,
    /// Robust interval statistics.
    pub intervals: IntervalStats,
    /// Spectral findings.
    pub spectrum: SpectralStats,
    /// Size regularity, when sizes were given.
    pub size: Option<SizeStats>,
    /// Segments with their own periods, when the period changes within the series.
    #[cfg_attr(feature = "serde", serde(default))]
    pub segments: Segments,
    /// The connections inside beats, when several connections made one beat.
    #[cfg_attr(feature = "serde", serde(default))]
    pub bursts: Option<BurstStats>,
    /// A named evasive schedule (Fibonacci sleeps, back-off, random times daily), when its
    /// evidence scored higher than any fixed period's; the report then has no period.
    #[cfg_attr(feature = "serde", serde(default))]
    pub schedule: Option<ScheduleEvidence>,
}

impl BeaconReport {
    /// First to last event.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{Analyzer, Interval};
    /// let ts: Vec<i64> = (0..50).map(|i| i * 60_000_000).collect();
    /// let r = Analyzer::default().score(&ts, None);
    /// assert_eq!(r.period, Some(Interval::from_secs(60)));
    /// assert_eq!(r.span(), Interval::from_secs(49 * 60));
    /// // Connections closer than a twentieth of the usual interval count as one check-in.
    /// assert_eq!(r.coalesce_gap, Interval::from_secs(3));
    /// ```
    pub fn span(&self) -> Interval {
        self.last - self.first
    }

    /// The report of a series too short to score.
    pub(crate) fn too_few(events: usize, beats: usize, first: Timestamp, last: Timestamp) -> Self {
        BeaconReport {
            verdict: Verdict::TooFew,
            p_value: 1.0,
            events,
            beats,
            first,
            last,
            ..Default::default()
        }
    }

    /// Whether the period is the cycle of a multi-event pattern (already named with its ACF).
    fn explain_cycle(&self) -> bool {
        self.period_source == PeriodSource::Spectrum
            && self
                .period
                .zip(self.intervals.comb_period)
                .is_some_and(|(p, c)| differs(p, c, self.tolerance))
    }

    /// The evidence in one line of words.
    ///
    /// # Example
    /// ```
    /// use beaconstat::Analyzer;
    /// let ts: Vec<i64> = (0..50).map(|i| i * 60_000_000).collect();
    /// let r = Analyzer::default().score(&ts, None);
    /// let words = r.explain().to_string();
    /// assert!(words.starts_with("50 check-ins every 60.0 s"), "{words}");
    /// ```
    pub fn explain(&self) -> Explanation<'_> {
        Explanation(self)
    }
}

/// Whether two period estimates differ by more than `tolerance` (relative to `period`).
fn differs(period: Interval, other: Interval, tolerance: f64) -> bool {
    let (p, o) = (period.as_secs_f64(), other.as_secs_f64());
    (o - p).abs() > tolerance * p
}

/// A p-value for people: `=3.1e-5`, or `<1e-300` where it underflowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PValue(pub f64);

impl fmt::Display for PValue {
    /// Writes the comparison too (`=…` or `<1e-300`), so it reads after "p".
    ///
    /// ```
    /// use beaconstat::beacon::PValue;
    /// assert_eq!(format!("p{}", PValue(0.0)), "p<1e-300");
    /// assert_eq!(format!("p{}", PValue(0.0123)), "p=1.2e-2");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < 1e-300 {
            write!(f, "<1e-300")
        } else {
            write!(f, "={:.1e}", self.0)
        }
    }
}

/// Explained shares below which an explanation starts with the unexplained share.
const UNEXPLAINED_FIRST_BELOW: f64 = 0.9;

/// [`BeaconReport::explain`]'s `Display`.
#[derive(Debug, Clone, Copy)]
pub struct Explanation<'r>(&'r BeaconReport);

/// Seconds as a short human duration: `0.5 s`, `60.0 s`, `4.2 min`, `3.0 h`, `1.0 d`.
pub fn human_secs(s: f64) -> String {
    if !s.is_finite() {
        "?".to_string()
    } else if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} d", s / 86_400.0)
    }
}

impl fmt::Display for Explanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        if r.verdict == Verdict::TooFew {
            return write!(f, "too few check-ins to judge ({} events, {} beats)", r.events, r.beats);
        }
        if let Some(e) = r.schedule {
            let share = |n: usize| 100.0 * n as f64 / e.trials.max(1) as f64;
            match e.kind {
                ScheduleKind::Fibonacci => write!(
                    f,
                    "Fibonacci sleeps, no fixed period: {} check-ins, {:.0}% of intervals are the sum of the two before",
                    r.beats,
                    share(e.hits)
                )?,
                ScheduleKind::Backoff => write!(
                    f,
                    "exponential back-off ×{:.2}, no fixed period: {} check-ins, {:.0}% of intervals are {:.2}× the one before",
                    e.parameter,
                    r.beats,
                    share(e.hits),
                    e.parameter
                )?,
                ScheduleKind::Daily => write!(
                    f,
                    "random times daily, no fixed period: {} check-in{} a day on {} of {} whole days",
                    e.parameter,
                    if e.parameter == 1.0 { "" } else { "s" },
                    e.hits,
                    e.trials
                )?,
            }
            return write!(f, " vs {:.0}% by chance (p{})", 100.0 * e.chance, PValue(r.p_value));
        }
        if r.segments.len() >= 2 {
            write!(f, "sleep changed: ")?;
            for (i, s) in r.segments.iter().enumerate() {
                write!(
                    f,
                    "{}{} check-ins every {} ±{:.0}%",
                    if i == 0 { "" } else { ", then " },
                    s.beats,
                    human_secs(s.period.as_secs_f64()),
                    s.jitter * 100.0
                )?;
            }
            return write!(
                f,
                "; {:.0}% of intervals fit their segment's period vs {:.0}% by chance (p{})",
                r.explained * 100.0,
                r.chance * 100.0,
                PValue(r.p_value)
            );
        }
        let comb = r.intervals.comb_period;
        // What the period leaves unexplained comes first: a regular core inside noise (a
        // scanner, a shared service) is not the same finding as a clean beacon.
        if r.period.is_some() && r.explained < UNEXPLAINED_FIRST_BELOW {
            write!(f, "{:.0}% of intervals unexplained; ", (1.0 - r.explained) * 100.0)?;
        }
        match r.period.map(Interval::as_secs_f64) {
            Some(p) if r.explain_cycle() => {
                write!(
                    f,
                    "{} check-ins in a cycle repeating every {} (ACF {:.2})",
                    r.beats,
                    human_secs(p),
                    r.spectrum.acf
                )?;
            }
            Some(p) => write!(
                f,
                "{} check-ins every {} ±{:.0}% jitter",
                r.beats,
                human_secs(p),
                r.jitter * 100.0
            )?,
            None => write!(f, "{} check-ins, no period found", r.beats)?,
        }
        match r.bursts {
            Some(b) if b.largest > 1 => write!(
                f,
                " ({} connections, up to {} per check-in {} apart)",
                r.events,
                b.largest,
                human_secs(b.spacing.as_secs_f64())
            )?,
            _ if r.events > r.beats => write!(f, " ({} connections)", r.events)?,
            _ => {}
        }
        if r.missed_beats > 0 {
            write!(f, ", {:.0}% missed", r.missed * 100.0)?;
        }
        match comb {
            Some(c) if r.period.is_some_and(|p| differs(p, c, r.tolerance)) => write!(
                f,
                "; {:.0}% of intervals fit a {} comb vs {:.0}% by chance (p{})",
                r.explained * 100.0,
                human_secs(c.as_secs_f64()),
                r.chance * 100.0,
                PValue(r.p_value)
            )?,
            _ => write!(
                f,
                "; {:.0}% of intervals fit vs {:.0}% by chance (p{})",
                r.explained * 100.0,
                r.chance * 100.0,
                PValue(r.p_value)
            )?,
        }
        if r.spectrum.acf > 0.0 && !r.explain_cycle() {
            write!(f, "; ACF {:.2}", r.spectrum.acf)?;
            if r.period_source == PeriodSource::Spectrum {
                write!(f, " (period from periodogram)")?;
            }
        }
        if let Some(s) = r.size {
            if s.regularity >= 0.8 {
                write!(f, "; size steady ~{:.0} B", s.median)?;
            } else if s.regularity < 0.3 {
                write!(f, "; size varies")?;
            }
        }
        Ok(())
    }
}
