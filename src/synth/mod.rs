//! A deterministic generator of connection timestamps and whole Zeek `conn.log` files: beacons
//! in every style attackers use, and the aperiodic and benign-periodic traffic they hide in.
//!
//! Behind the `synth` feature (on by default: the examples, tests and benches use it; turn
//! default features off to embed the library without it). Everything here is seeded and
//! reproducible across platforms (its own SplitMix64 generator, no external RNG), so within a
//! release tests, benchmarks and the `hunt` example's bundled dataset always see the same data.
//! The generated streams are a testing aid, not part of the crate's API contract: a later
//! release may change what a seed generates.
//!
//! ```
//! use beaconstat::synth::{BeaconSpec, Jitter, Rng};
//! let mut rng = Rng::new(7);
//! let ts = BeaconSpec::new(60.0, 100).jitter(Jitter::Uniform(0.2)).missed(0.1).generate(&mut rng, 0);
//! assert!(ts.len() > 70 && ts.len() <= 100);
//! assert!(ts.windows(2).all(|w| w[0] <= w[1]));
//! ```

/// SplitMix64: small, fast and the same on every platform (its stream may change between
/// releases; see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform integer in `[0, n)` (`0` when `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * core::f64::consts::PI * u2).cos()
    }
    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).max(1e-300).ln()
    }
    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
}

/// How a beacon's sleep varies from one check-in to the next.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Jitter {
    /// Exactly the period every time.
    #[default]
    None,
    /// `period × (1 + U(−j, j))`: "±j" jitter.
    Uniform(f64),
    /// `period × (1 + N(0, (j/2)²))`, truncated at ±j: "±j" as two standard deviations.
    Gaussian(f64),
    /// Cobalt Strike's `sleep × (1 − U(0, j))`: the mean interval is `sleep × (1 − j/2)`.
    CobaltStrike(f64),
}

impl Jitter {
    fn sample(self, period: f64, rng: &mut Rng) -> f64 {
        let f = match self {
            Jitter::None => 1.0,
            Jitter::Uniform(j) => 1.0 + j * (2.0 * rng.uniform() - 1.0),
            Jitter::Gaussian(j) => 1.0 + (rng.normal() * j / 2.0).clamp(-j, j),
            Jitter::CobaltStrike(j) => 1.0 - j * rng.uniform(),
        };
        period * f.max(0.01)
    }

    /// The mean interval for a sleep of `period` (differs from `period` only for Cobalt Strike).
    pub fn mean_interval(self, period: f64) -> f64 {
        match self {
            Jitter::CobaltStrike(j) => period * (1.0 - j / 2.0),
            _ => period,
        }
    }
}

/// A beacon: check-ins every `period` seconds with jitter, misses, bursts and schedules.
#[derive(Debug, Clone, PartialEq)]
pub struct BeaconSpec {
    /// Sleep between check-ins, seconds.
    pub period: f64,
    /// Number of scheduled check-ins (before misses).
    pub checkins: usize,
    /// Jitter style.
    pub jitter: Jitter,
    /// Probability that a check-in does not happen (host asleep, network down).
    pub missed: f64,
    /// Connections per check-in (a burst), at least 1.
    pub burst: usize,
    /// Seconds between connections of one burst.
    pub burst_spacing: f64,
    /// Active only between these UTC hours (e.g. `(8, 18)`); sleeps through the rest.
    pub working_hours: Option<(u8, u8)>,
    /// After this share of the check-ins, the sleep becomes this many seconds.
    pub sleep_change: Option<(f64, f64)>,
}

impl BeaconSpec {
    /// A strict beacon: `checkins` check-ins every `period` seconds.
    pub fn new(period: f64, checkins: usize) -> Self {
        BeaconSpec {
            period,
            checkins,
            jitter: Jitter::None,
            missed: 0.0,
            burst: 1,
            burst_spacing: 0.05,
            working_hours: None,
            sleep_change: None,
        }
    }
    /// With jitter.
    pub fn jitter(mut self, j: Jitter) -> Self {
        self.jitter = j;
        self
    }
    /// With a probability of missed check-ins.
    pub fn missed(mut self, p: f64) -> Self {
        self.missed = p;
        self
    }
    /// With `n` connections per check-in, `spacing` seconds apart.
    pub fn burst(mut self, n: usize, spacing: f64) -> Self {
        self.burst = n.max(1);
        self.burst_spacing = spacing;
        self
    }
    /// Active only between UTC hours `from..to`.
    pub fn working_hours(mut self, from: u8, to: u8) -> Self {
        self.working_hours = Some((from, to));
        self
    }
    /// Changes the sleep to `new_period` after `at` (a share in `[0, 1]`) of the check-ins.
    pub fn sleep_change(mut self, at: f64, new_period: f64) -> Self {
        self.sleep_change = Some((at, new_period));
        self
    }

    /// Generates ascending timestamps (µs) starting at `start_us`.
    pub fn generate(&self, rng: &mut Rng, start_us: i64) -> Vec<i64> {
        let mut out = Vec::with_capacity(self.checkins * self.burst);
        let mut t = start_us as f64 / 1e6;
        let mut done = 0usize;
        let change_at = self
            .sleep_change
            .map(|(at, p)| ((at * self.checkins as f64) as usize, p));
        while done < self.checkins {
            let period = match change_at {
                Some((at, p)) if done >= at => p,
                _ => self.period,
            };
            t += self.jitter.sample(period, rng);
            if let Some((from, to)) = self.working_hours {
                let hour = ((t / 3600.0).rem_euclid(24.0)) as u8;
                if hour < from || hour >= to {
                    continue; // asleep: no check-in, and it does not count as one
                }
            }
            done += 1;
            if rng.chance(self.missed) {
                continue;
            }
            for b in 0..self.burst {
                out.push(((t + b as f64 * self.burst_spacing) * 1e6).round() as i64);
            }
        }
        out.sort_unstable();
        out
    }
}

/// Timestamps (µs) from a start and the intervals after it, in seconds: `start_us` first, then
/// one more per interval, each rounded to the microsecond from the exact running sum.
///
/// # Example
/// ```
/// use beaconstat::synth::from_intervals;
/// assert_eq!(from_intervals(1_000_000, [0.5, 0.25, 60.0]), [1_000_000, 1_500_000, 1_750_000, 61_750_000]);
/// ```
pub fn from_intervals(start_us: i64, intervals: impl IntoIterator<Item = f64>) -> Vec<i64> {
    let mut t = start_us as f64 / 1e6;
    let mut out = vec![start_us];
    for d in intervals {
        t += d;
        out.push((t * 1e6).round() as i64);
    }
    out
}

/// Poisson arrivals: `n` events with exponential gaps of mean `mean_gap` seconds.
pub fn poisson(rng: &mut Rng, n: usize, mean_gap: f64, start_us: i64) -> Vec<i64> {
    let mut t = start_us as f64 / 1e6;
    (0..n)
        .map(|_| {
            t += rng.exponential(mean_gap);
            (t * 1e6).round() as i64
        })
        .collect()
}

/// Bursty browsing: sessions at Poisson times (mean `session_gap` s), each a run of requests
/// with exponential gaps of mean `click_gap` s; `n` events in all.
pub fn browsing(rng: &mut Rng, n: usize, session_gap: f64, click_gap: f64, start_us: i64) -> Vec<i64> {
    let mut out = Vec::with_capacity(n);
    let mut t = start_us as f64 / 1e6;
    while out.len() < n {
        t += rng.exponential(session_gap);
        let clicks = 1 + rng.below(12) as usize;
        let mut c = t;
        for _ in 0..clicks.min(n - out.len()) {
            out.push((c * 1e6).round() as i64);
            c += rng.exponential(click_gap);
        }
        t = c;
    }
    out.sort_unstable();
    out
}

/// Diurnal load: a Poisson process whose rate follows the time of day (busy 08–18 UTC, ten times
/// quieter at night); `n` events with a daytime mean gap of `day_gap` seconds.
pub fn diurnal(rng: &mut Rng, n: usize, day_gap: f64, start_us: i64) -> Vec<i64> {
    let mut out = Vec::with_capacity(n);
    let mut t = start_us as f64 / 1e6;
    while out.len() < n {
        // Thinning: propose at the daytime rate, accept with the hour's relative rate.
        t += rng.exponential(day_gap);
        let hour = (t / 3600.0).rem_euclid(24.0);
        let rel = if (8.0..18.0).contains(&hour) { 1.0 } else { 0.1 };
        if rng.chance(rel) {
            out.push((t * 1e6).round() as i64);
        }
    }
    out
}

mod an1113;
pub use an1113::{An1113Scenario, An1113Truth, SynthFlow, an1113_scenario};
mod corpus;
pub use corpus::{
    ClassResult, Corpus, CorpusBuilder, CorpusClass, CorpusEvaluation, CorpusTruth, DETECTION_THRESHOLD, LabelledSeries,
};
mod names;
pub use names::{NameLogs, NameLogsBuilder, NameTruth};
mod scenario;
pub use scenario::{Scenario, ScenarioBuilder, Truth, TruthKind};
mod regimes;
pub use regimes::{Regime, RegimeResult, aperiodic_like, evaluate, regimes};
mod server;
pub use server::{ServerScenario, ServerScenarioBuilder, ServerTruth};
