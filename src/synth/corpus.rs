//! A labelled evaluation corpus: every beacon habit the engine must see (tight and jittered
//! fixed periods, long jittered runs, bursts of bursts, fast bursty beacons, sleep changes,
//! staging then a few check-ins, a regular core among noise, Fibonacci sleeps, exponential
//! back-off, random times each day) and aperiodic traffic of the same sizes (Poisson, bursty
//! browsing, diurnal load, retry storms, scans), with an evaluation of reports against it:
//! AUC, TPR at fixed false-positive rates, period accuracy, segment recall, recall per class.
//!
//! ```
//! use beaconstat::synth::{Corpus, CorpusClass};
//! let corpus = Corpus::builder().seed(3).per_class(2).aperiodic_per_class(4).build();
//! assert_eq!(corpus.series().len(), 2 * CorpusClass::BEACONS.len() + 4 * CorpusClass::APERIODIC.len());
//! assert!(corpus.series().iter().all(|s| s.timestamps.windows(2).all(|w| w[0] <= w[1])));
//! ```

use super::scenario::{Conn, ip_str, write_conn_log};
use super::{BeaconSpec, Jitter, Rng, aperiodic_like, from_intervals};
use crate::beacon::{Analyzer, BeaconReport};
use core::fmt;

/// 2024-01-01T00:00:00Z, a UTC midnight (the daily schedules are laid on UTC days).
const START_US: i64 = 1_704_067_200_000_000;

/// What one corpus series is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum CorpusClass {
    /// A fixed period from 1 s to a day, ±1% jitter, 8 to 300 check-ins.
    #[default]
    Strict,
    /// A fixed period with 10–50% jitter (uniform, Gaussian or Cobalt Strike style).
    Jittered,
    /// ±10% jitter and 30% of the check-ins missed.
    Missed,
    /// Two to four connections per check-in.
    Bursts,
    /// 500–1 500 check-ins over days at ±20–30% jitter (issue: "jitter costs too much").
    LongJittered,
    /// Bursts of 10–100 connections, one burst every 10 min to 4 h (the outer period).
    BurstsOfBursts,
    /// A 3–10 s beacon opening 2–3 connections per check-in with ±50% jitter.
    FastBurstyJittered,
    /// A sleep that changes midway by a factor of 3 to 20 (an operator's `sleep` command).
    SleepChange,
    /// Three staging connections within about a second, then 6–10 check-ins.
    StagingThenFew,
    /// 65–80% of the intervals at a period ±4%, the rest random.
    RegularCore,
    /// Fibonacci sleeps: each interval the sum of the previous two, restarting from a base.
    Fibonacci,
    /// Exponential back-off: each interval a constant factor (1.5–3) times the last, restarting.
    Backoff,
    /// One to three check-ins a UTC day at random times of day, for 8 to 40 days.
    DailyRandom,
    /// Poisson arrivals.
    Poisson,
    /// Bursty browsing: sessions of clicks.
    Browsing,
    /// A Poisson process following the time of day.
    Diurnal,
    /// Storms of quick retries (0.2–5 s apart) at random times.
    RetryStorm,
    /// Sweeps of connections tens to hundreds of milliseconds apart.
    Scan,
}

impl CorpusClass {
    /// The beacon classes.
    pub const BEACONS: [CorpusClass; 13] = [
        CorpusClass::Strict,
        CorpusClass::Jittered,
        CorpusClass::Missed,
        CorpusClass::Bursts,
        CorpusClass::LongJittered,
        CorpusClass::BurstsOfBursts,
        CorpusClass::FastBurstyJittered,
        CorpusClass::SleepChange,
        CorpusClass::StagingThenFew,
        CorpusClass::RegularCore,
        CorpusClass::Fibonacci,
        CorpusClass::Backoff,
        CorpusClass::DailyRandom,
    ];
    /// The aperiodic classes.
    pub const APERIODIC: [CorpusClass; 5] = [
        CorpusClass::Poisson,
        CorpusClass::Browsing,
        CorpusClass::Diurnal,
        CorpusClass::RetryStorm,
        CorpusClass::Scan,
    ];

    /// Whether series of this class are beacons (the positives).
    pub fn is_beacon(self) -> bool {
        Self::BEACONS.contains(&self)
    }

    /// Whether the class has one fixed period a report should recover.
    pub fn has_fixed_period(self) -> bool {
        matches!(
            self,
            CorpusClass::Strict
                | CorpusClass::Jittered
                | CorpusClass::Missed
                | CorpusClass::Bursts
                | CorpusClass::LongJittered
                | CorpusClass::BurstsOfBursts
                | CorpusClass::FastBurstyJittered
                | CorpusClass::StagingThenFew
                | CorpusClass::RegularCore
        )
    }

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            CorpusClass::Strict => "strict",
            CorpusClass::Jittered => "jittered 10-50%",
            CorpusClass::Missed => "30% missed",
            CorpusClass::Bursts => "bursts of 2-4",
            CorpusClass::LongJittered => "long, ±20-30%",
            CorpusClass::BurstsOfBursts => "bursts of bursts",
            CorpusClass::FastBurstyJittered => "fast, bursty, ±50%",
            CorpusClass::SleepChange => "sleep change",
            CorpusClass::StagingThenFew => "staging, then few",
            CorpusClass::RegularCore => "regular core",
            CorpusClass::Fibonacci => "fibonacci sleeps",
            CorpusClass::Backoff => "exponential back-off",
            CorpusClass::DailyRandom => "random times daily",
            CorpusClass::Poisson => "poisson",
            CorpusClass::Browsing => "browsing",
            CorpusClass::Diurnal => "diurnal",
            CorpusClass::RetryStorm => "retry storms",
            CorpusClass::Scan => "scans",
        }
    }
}

impl fmt::Display for CorpusClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One labelled series of the corpus.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LabelledSeries {
    /// What it is.
    pub class: CorpusClass,
    /// Connection times, µs since the epoch, ascending.
    pub timestamps: Vec<i64>,
    /// The true mean interval between check-ins (the outer one for bursts of bursts), seconds,
    /// for the classes with one fixed period.
    pub period_s: Option<f64>,
    /// The periods before and after a sleep change, seconds.
    pub segment_periods_s: Option<(f64, f64)>,
}

/// The corpus's ground truth for one series, as the `generate` example writes it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct CorpusTruth {
    /// Source address.
    pub src: String,
    /// Destination address.
    pub dst: String,
    /// What the series is.
    pub class: CorpusClass,
    /// Whether it is a beacon.
    pub beacon: bool,
    /// Connections.
    pub events: usize,
    /// The fixed period, seconds, where there is one.
    pub period_s: Option<f64>,
    /// The periods before and after a sleep change, seconds.
    pub segment_periods_s: Option<(f64, f64)>,
}

/// The labelled corpus. Build with [`Corpus::builder`].
#[derive(Debug, Clone, PartialEq)]
pub struct Corpus {
    series: Vec<LabelledSeries>,
}

/// Builder for [`Corpus`]. Defaults: seed 12, 120 series per beacon class, 600 per aperiodic
/// class (3 000 aperiodic series: a false-positive rate of 1e-3 is three of them).
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusBuilder {
    seed: u64,
    per_class: usize,
    aperiodic_per_class: usize,
}

impl CorpusBuilder {
    /// Random seed.
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = s;
        self
    }
    /// Series per beacon class.
    pub fn per_class(mut self, n: usize) -> Self {
        self.per_class = n;
        self
    }
    /// Series per aperiodic class.
    pub fn aperiodic_per_class(mut self, n: usize) -> Self {
        self.aperiodic_per_class = n;
        self
    }

    /// Generates the corpus: the beacons first, class by class, then the aperiodic series,
    /// each sized like a beacon of the corpus (the same event count and span).
    pub fn build(self) -> Corpus {
        let mut series = Vec::new();
        for (c, &class) in CorpusClass::BEACONS.iter().enumerate() {
            for i in 0..self.per_class {
                let mut rng = Rng::new(self.seed ^ ((c as u64) << 32) ^ i as u64);
                series.push(beacon(class, &mut rng));
            }
        }
        let beacons = series.len();
        for (c, &class) in CorpusClass::APERIODIC.iter().enumerate() {
            for i in 0..self.aperiodic_per_class {
                let mut rng = Rng::new(self.seed ^ ((c as u64 + 100) << 32) ^ i as u64);
                let like = match beacons {
                    0 => None,
                    n => series.get((rng.below(n as u64)) as usize),
                };
                let (n, span) = like.map_or((100, 86_400.0), |s| {
                    let t = &s.timestamps;
                    let span = match (t.first(), t.last()) {
                        (Some(a), Some(b)) => (b - a) as f64 / 1e6,
                        _ => 86_400.0,
                    };
                    (t.len(), span)
                });
                series.push(aperiodic(class, n, span, &mut rng));
            }
        }
        Corpus { series }
    }
}

/// Log-uniform in `[lo, hi]`.
fn log_uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + rng.uniform() * (hi.ln() - lo.ln())).exp()
}

/// An integer log-uniform in `[lo, hi]`.
fn count(rng: &mut Rng, lo: usize, hi: usize) -> usize {
    (log_uniform(rng, lo as f64, hi as f64 + 0.999) as usize).clamp(lo, hi)
}

/// The start of a series: within the corpus's first day.
fn start(rng: &mut Rng) -> i64 {
    START_US + rng.below(86_400_000_000) as i64
}

fn series(class: CorpusClass, mut timestamps: Vec<i64>, period_s: Option<f64>) -> LabelledSeries {
    timestamps.sort_unstable();
    LabelledSeries {
        class,
        timestamps,
        period_s,
        segment_periods_s: None,
    }
}

fn beacon(class: CorpusClass, rng: &mut Rng) -> LabelledSeries {
    let t0 = start(rng);
    match class {
        CorpusClass::Strict => {
            let period = log_uniform(rng, 1.0, 86_400.0);
            let most = ((40.0 * 86_400.0 / period) as usize).clamp(8, 300);
            let n = count(rng, 8, most);
            let ts = BeaconSpec::new(period, n)
                .jitter(Jitter::Uniform(0.01))
                .generate(rng, t0);
            series(class, ts, Some(period))
        }
        CorpusClass::Jittered => {
            let period = log_uniform(rng, 10.0, 14_400.0);
            let j = 0.1 + 0.4 * rng.uniform();
            let jitter = match rng.below(3) {
                0 => Jitter::Uniform(j),
                1 => Jitter::Gaussian(j),
                _ => Jitter::CobaltStrike(j),
            };
            let most = ((40.0 * 86_400.0 / period) as usize).clamp(20, 400);
            let ts = BeaconSpec::new(period, count(rng, 20, most))
                .jitter(jitter)
                .generate(rng, t0);
            series(class, ts, Some(jitter.mean_interval(period)))
        }
        CorpusClass::Missed => {
            let period = log_uniform(rng, 30.0, 7200.0);
            let most = ((40.0 * 86_400.0 / period) as usize).clamp(30, 300);
            let ts = BeaconSpec::new(period, count(rng, 30, most))
                .jitter(Jitter::Uniform(0.1))
                .missed(0.3)
                .generate(rng, t0);
            series(class, ts, Some(period))
        }
        CorpusClass::Bursts => {
            let period = log_uniform(rng, 30.0, 3600.0);
            let (burst, spacing) = (2 + rng.below(3) as usize, 0.1 + 0.9 * rng.uniform());
            let ts = BeaconSpec::new(period, count(rng, 20, 300))
                .jitter(Jitter::Gaussian(0.1))
                .burst(burst, spacing)
                .generate(rng, t0);
            series(class, ts, Some(period))
        }
        CorpusClass::LongJittered => {
            let period = log_uniform(rng, 60.0, 600.0);
            let j = 0.2 + 0.1 * rng.uniform();
            let ts = BeaconSpec::new(period, count(rng, 500, 1500))
                .jitter(Jitter::Uniform(j))
                .generate(rng, t0);
            series(class, ts, Some(period))
        }
        CorpusClass::BurstsOfBursts => {
            let period = log_uniform(rng, 600.0, 14_400.0);
            let cv = 0.02 + 0.03 * rng.uniform();
            let (bursts, size) = (count(rng, 20, 60), count(rng, 10, 100));
            let spacing = log_uniform(rng, 0.05, 1.0);
            let mut ts = Vec::with_capacity(bursts * size);
            let mut t = t0 as f64 / 1e6;
            for _ in 0..bursts {
                let mut c = t;
                for _ in 0..size {
                    ts.push((c * 1e6).round() as i64);
                    c += spacing * (0.8 + 0.4 * rng.uniform());
                }
                t += period * (1.0 + cv * rng.normal()).max(0.5);
            }
            series(class, ts, Some(period))
        }
        CorpusClass::FastBurstyJittered => {
            let period = 3.0 + 7.0 * rng.uniform();
            let spacing = 0.1 + 0.3 * rng.uniform();
            let n = count(rng, 100, 600);
            let mut ts = Vec::with_capacity(3 * n);
            let mut t = t0 as f64 / 1e6;
            for _ in 0..n {
                let conns = 2 + rng.below(2);
                for b in 0..conns {
                    ts.push(((t + b as f64 * spacing * (0.7 + 0.6 * rng.uniform())) * 1e6).round() as i64);
                }
                t += period * (1.0 + 0.5 * (2.0 * rng.uniform() - 1.0));
            }
            series(class, ts, Some(period))
        }
        CorpusClass::SleepChange => {
            let first = log_uniform(rng, 2.0, 600.0);
            let factor = log_uniform(rng, 3.0, 20.0);
            let second = if rng.chance(0.5) {
                first * factor
            } else {
                first / factor
            };
            let (n1, n2) = (count(rng, 20, 150), count(rng, 20, 150));
            let share = n1 as f64 / (n1 + n2) as f64;
            let ts = BeaconSpec::new(first, n1 + n2)
                .jitter(Jitter::Uniform(0.1))
                .sleep_change(share, second)
                .generate(rng, t0);
            let mut s = series(class, ts, None);
            s.segment_periods_s = Some((first, second));
            s
        }
        CorpusClass::StagingThenFew => {
            let period = log_uniform(rng, 3.0, 30.0);
            let staging = 0.5 + rng.uniform();
            let n = count(rng, 6, 10);
            let mut intervals = vec![staging / 2.0, staging / 2.0];
            intervals.extend((0..n).map(|_| period * (1.0 + 0.05 * (2.0 * rng.uniform() - 1.0))));
            series(class, from_intervals(t0, intervals), Some(period))
        }
        CorpusClass::RegularCore => {
            let period = log_uniform(rng, 5.0, 120.0);
            let share = 0.65 + 0.15 * rng.uniform();
            let n = count(rng, 60, 300);
            let intervals: Vec<f64> = (0..n)
                .map(|_| {
                    if rng.chance(share) {
                        period * (1.0 + 0.04 * (2.0 * rng.uniform() - 1.0))
                    } else {
                        log_uniform(rng, 0.05 * period, 3.0 * period)
                    }
                })
                .collect();
            series(class, from_intervals(t0, intervals), Some(period))
        }
        CorpusClass::Fibonacci => {
            let base = log_uniform(rng, 1.0, 60.0);
            let steps = count(rng, 8, 12);
            let n = count(rng, 30, 200);
            let (mut a, mut b) = (base, base);
            let mut intervals = Vec::with_capacity(n);
            for i in 0..n {
                if i % steps == 0 {
                    (a, b) = (base, base);
                }
                intervals.push(b * (1.0 + 0.03 * (2.0 * rng.uniform() - 1.0)));
                (a, b) = (b, a + b);
            }
            series(class, from_intervals(t0, intervals), None)
        }
        CorpusClass::Backoff => {
            let base = log_uniform(rng, 1.0, 60.0);
            let factor: f64 = [1.5, 2.0, 3.0][rng.below(3) as usize];
            let steps = count(rng, 5, 8);
            let n = count(rng, 30, 200);
            let intervals: Vec<f64> = (0..n)
                .map(|i| base * factor.powi((i % steps) as i32) * (1.0 + 0.05 * (2.0 * rng.uniform() - 1.0)))
                .collect();
            series(class, from_intervals(t0, intervals), None)
        }
        CorpusClass::DailyRandom => {
            let (days, per_day) = (count(rng, 8, 40), 1 + rng.below(3));
            let ts: Vec<i64> = (0..days as i64)
                .flat_map(|d| (0..per_day).map(move |_| d))
                .map(|d| START_US + d * 86_400_000_000 + rng.below(86_400_000_000) as i64)
                .collect();
            series(class, ts, None)
        }
        _ => series(class, Vec::new(), None),
    }
}

fn aperiodic(class: CorpusClass, n: usize, span: f64, rng: &mut Rng) -> LabelledSeries {
    let t0 = start(rng);
    let n = n.max(4);
    let gap = (span / n as f64).max(1e-3);
    let ts = match class {
        CorpusClass::Poisson => aperiodic_like(0, rng, &synthetic_like(n, span), t0),
        CorpusClass::Browsing => aperiodic_like(1, rng, &synthetic_like(n, span), t0),
        CorpusClass::Diurnal => aperiodic_like(2, rng, &synthetic_like(n, span), t0),
        CorpusClass::RetryStorm => {
            let mut ts = Vec::with_capacity(n);
            let mut t = t0 as f64 / 1e6;
            while ts.len() < n {
                let storm = (3 + rng.below(13) as usize).min(n - ts.len());
                t += rng.exponential(gap * storm as f64);
                let mut c = t;
                for _ in 0..storm {
                    ts.push((c * 1e6).round() as i64);
                    c += 0.2 + 4.8 * rng.uniform();
                }
                t = c;
            }
            ts
        }
        _ => {
            let sweeps = (1 + rng.below(4) as usize).min(n);
            let mean = log_uniform(rng, 0.01, 0.5);
            let mut ts = Vec::with_capacity(n);
            let mut t = t0 as f64 / 1e6;
            for s in 0..sweeps {
                let len = n / sweeps + usize::from(s < n % sweeps);
                t += rng.exponential(span.max(1.0) / sweeps as f64);
                for _ in 0..len {
                    ts.push((t * 1e6).round() as i64);
                    t += rng.exponential(mean);
                }
            }
            ts
        }
    };
    series(class, ts, None)
}

/// Two timestamps `span` apart with `n` events in all: what [`aperiodic_like`] needs to size
/// its series.
fn synthetic_like(n: usize, span: f64) -> Vec<i64> {
    let mut v = vec![0i64; n.max(2)];
    if let Some(last) = v.last_mut() {
        *last = (span * 1e6) as i64;
    }
    v
}

impl Corpus {
    /// A builder with the defaults.
    pub fn builder() -> CorpusBuilder {
        CorpusBuilder {
            seed: 12,
            per_class: 120,
            aperiodic_per_class: 600,
        }
    }

    /// The series, beacons first.
    pub fn series(&self) -> &[LabelledSeries] {
        &self.series
    }

    /// Source and destination addresses of series `i` (a distinct source per series).
    pub fn addresses(&self, i: usize) -> (String, String) {
        let src = 0x0A00_0000 | (i as u32 & 0x00FF_FFFF);
        let class = self.series.get(i).map_or(0, |s| s.class as u32);
        (ip_str(src), ip_str(0xCB00_7100 | (class & 0xFF)))
    }

    /// The ground truth of every series, in order.
    pub fn truth(&self) -> Vec<CorpusTruth> {
        self.series
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (src, dst) = self.addresses(i);
                CorpusTruth {
                    src,
                    dst,
                    class: s.class,
                    beacon: s.class.is_beacon(),
                    events: s.timestamps.len(),
                    period_s: s.period_s,
                    segment_periods_s: s.segment_periods_s,
                }
            })
            .collect()
    }

    /// The corpus as a Zeek `conn.log` (TSV, header included): series `i` runs from
    /// [`Corpus::addresses`]`(i)`, port 443.
    pub fn to_zeek_tsv(&self) -> String {
        let mut rng = Rng::new(99);
        let mut conns: Vec<Conn> = Vec::new();
        for (i, s) in self.series.iter().enumerate() {
            let src = 0x0A00_0000 | (i as u32 & 0x00FF_FFFF);
            let dst = 0xCB00_7100 | (s.class as u32 & 0xFF);
            conns.extend(s.timestamps.iter().map(|&ts| Conn {
                ts,
                src,
                sport: 49_152 + rng.below(16_000) as u16,
                dst,
                dport: 443,
                proto: 6,
                duration_us: 20_000 + rng.below(400_000),
                bytes_out: 300 + rng.below(2000),
                bytes_in: 200 + rng.below(5000),
            }));
        }
        conns.sort_by_key(|c| (c.ts, c.src));
        let mut out = String::with_capacity(conns.len() * 160 + 1024);
        write_conn_log(&mut out, START_US, &conns);
        out
    }

    /// Scores every series with `analyzer` (timestamps only) and evaluates the reports.
    pub fn evaluate(&self, analyzer: &mut Analyzer) -> CorpusEvaluation {
        let reports: Vec<BeaconReport> = self
            .series
            .iter()
            .map(|s| analyzer.score(&s.timestamps, None))
            .collect();
        self.evaluate_reports(&reports)
    }

    /// Evaluates one report per series (in the corpus's order; missing reports count as score 0).
    /// A beacon is *detected* at [`DETECTION_THRESHOLD`].
    pub fn evaluate_reports(&self, reports: &[BeaconReport]) -> CorpusEvaluation {
        let score = |i: usize| reports.get(i).map_or(0.0, |r| r.score);
        let mut pos: Vec<f64> = Vec::new();
        let mut neg: Vec<f64> = Vec::new();
        for (i, s) in self.series.iter().enumerate() {
            if s.class.is_beacon() { &mut pos } else { &mut neg }.push(score(i));
        }
        neg.sort_by(|a, b| b.total_cmp(a));
        let threshold_at = |fpr: f64| {
            neg.get((fpr * neg.len() as f64).floor() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        let tpr_above = |t: f64| share(pos.iter().filter(|&&s| s > t).count(), pos.len());
        let (t3, t2) = (threshold_at(1e-3), threshold_at(1e-2));
        let mut ev = CorpusEvaluation {
            auc: auc(&pos, &neg),
            tpr_at_fpr_1e3: tpr_above(t3),
            tpr_at_fpr_1e2: tpr_above(t2),
            threshold_at_fpr_1e3: t3,
            ..CorpusEvaluation::default()
        };
        let (mut period_ok, mut period_n, mut seg_ok, mut seg_n) = (0, 0, 0, 0);
        let (mut poisson_low_p, mut poisson_n) = (0, 0);
        for &class in CorpusClass::BEACONS.iter().chain(&CorpusClass::APERIODIC) {
            let mut row = ClassResult {
                class,
                ..ClassResult::default()
            };
            let mut score_sum = 0.0;
            let mut class_period_ok = 0;
            for (i, s) in self.series.iter().enumerate().filter(|(_, s)| s.class == class) {
                let r = reports.get(i).copied().unwrap_or_default();
                row.series += 1;
                score_sum += r.score;
                let detected = r.score >= DETECTION_THRESHOLD;
                row.recall += f64::from(u8::from(detected));
                row.recall_at_fpr_1e3 += f64::from(u8::from(r.score > t3));
                if class == CorpusClass::Poisson {
                    poisson_n += 1;
                    poisson_low_p += usize::from(r.p_value < 0.05);
                }
                if let Some(want) = s.period_s
                    && class.has_fixed_period()
                    && detected
                {
                    period_n += 1;
                    let ok = r.period.is_some_and(|p| (p.as_secs_f64() / want - 1.0).abs() <= 0.05);
                    period_ok += usize::from(ok);
                    class_period_ok += usize::from(ok);
                }
                if let Some(want) = s.segment_periods_s {
                    seg_n += 1;
                    seg_ok += usize::from(segments_found(&r, want));
                }
            }
            let n = row.series.max(1) as f64;
            row.recall /= n;
            row.recall_at_fpr_1e3 /= n;
            row.mean_score = score_sum / n;
            row.period_ok = class
                .has_fixed_period()
                .then(|| share(class_period_ok, (row.recall * n) as usize));
            ev.classes.push(row);
        }
        ev.period_accuracy = share(period_ok, period_n);
        ev.segments_found = share(seg_ok, seg_n);
        ev.poisson_p_below_005 = share(poisson_low_p, poisson_n);
        ev
    }
}

/// Whether a report found both sides of a sleep change: two segments, in time order, with
/// periods within 10% of the truth.
fn segments_found(r: &BeaconReport, want: (f64, f64)) -> bool {
    let segs = r.segments.as_slice();
    let near = |p: f64, w: f64| (p / w - 1.0).abs() <= 0.1;
    segs.windows(2)
        .any(|w| near(w[0].period.as_secs_f64(), want.0) && near(w[1].period.as_secs_f64(), want.1))
}

fn share(k: usize, n: usize) -> f64 {
    if n == 0 { 0.0 } else { k as f64 / n as f64 }
}

/// Area under the ROC curve: `P(pos > neg) + ½ P(pos = neg)`, by sorting (ties by rank).
fn auc(pos: &[f64], neg: &[f64]) -> f64 {
    if pos.is_empty() || neg.is_empty() {
        return 0.0;
    }
    let mut neg = neg.to_vec();
    neg.sort_by(f64::total_cmp);
    let total: f64 = pos
        .iter()
        .map(|&p| {
            let below = neg.partition_point(|&v| v < p);
            let equal = neg[below..].partition_point(|&v| v <= p);
            below as f64 + 0.5 * equal as f64
        })
        .sum();
    total / (pos.len() as f64 * neg.len() as f64)
}

/// Score from which a beacon counts as detected in [`CorpusEvaluation`] (the `hunt` default).
pub const DETECTION_THRESHOLD: f64 = 0.5;

/// How reports did on a [`Corpus`]. `Display` prints the figures and the per-class table.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct CorpusEvaluation {
    /// Area under the ROC curve, beacons against aperiodic series.
    pub auc: f64,
    /// Share of beacons above the score that 0.1% of aperiodic series exceed.
    pub tpr_at_fpr_1e3: f64,
    /// Share of beacons above the score that 1% of aperiodic series exceed.
    pub tpr_at_fpr_1e2: f64,
    /// The score that 0.1% of aperiodic series exceed.
    pub threshold_at_fpr_1e3: f64,
    /// Among detected beacons of the fixed-period classes, the share reported within 5% of the
    /// true period.
    pub period_accuracy: f64,
    /// Among sleep changes, the share whose report has both segments (periods within 10%).
    pub segments_found: f64,
    /// Among the Poisson series, the share with p < 0.05 (calibration: at most 0.05).
    pub poisson_p_below_005: f64,
    /// One row per class.
    pub classes: Vec<ClassResult>,
}

/// One class's row of a [`CorpusEvaluation`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct ClassResult {
    /// The class.
    pub class: CorpusClass,
    /// Series of the class.
    pub series: usize,
    /// Share scoring at or above [`DETECTION_THRESHOLD`] (for aperiodic classes: false positives).
    pub recall: f64,
    /// Share scoring above the FPR 1e-3 threshold.
    pub recall_at_fpr_1e3: f64,
    /// Mean score.
    pub mean_score: f64,
    /// Among the detected, the share with the period within 5% (fixed-period classes).
    pub period_ok: Option<f64>,
}

impl fmt::Display for CorpusEvaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "AUC {:.4}; TPR {:.3} at FPR 1e-3 (score > {:.3}), {:.3} at FPR 1e-2",
            self.auc, self.tpr_at_fpr_1e3, self.threshold_at_fpr_1e3, self.tpr_at_fpr_1e2
        )?;
        writeln!(
            f,
            "period within 5%: {:.3} of detected fixed-period beacons; segments found: {:.3} of sleep changes; Poisson P(p < 0.05) = {:.3}",
            self.period_accuracy, self.segments_found, self.poisson_p_below_005
        )?;
        writeln!(
            f,
            "{:<22} {:>6} {:>8} {:>10} {:>7} {:>9}",
            "class", "series", "recall", "@FPR1e-3", "mean", "period ok"
        )?;
        for c in &self.classes {
            let period = c.period_ok.map_or_else(|| "-".to_string(), |p| format!("{p:.2}"));
            writeln!(
                f,
                "{:<22} {:>6} {:>8.3} {:>10.3} {:>7.3} {:>9}",
                c.class.name(),
                c.series,
                c.recall,
                c.recall_at_fpr_1e3,
                c.mean_score,
                period
            )?;
        }
        Ok(())
    }
}
