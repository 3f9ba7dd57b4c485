//! The beacon habits of the quality issue, one test each: long jittered runs, bursts of bursts,
//! fast bursty beacons with heavy jitter, staging bursts before a few check-ins, sleep changes,
//! a regular core among noise, and evasive schedules.

use beaconstat::synth::{BeaconSpec, Jitter, Rng};
use beaconstat::{Analyzer, BeaconReport};

const START: i64 = 1_704_067_200_000_000;

fn score(ts: &[i64]) -> BeaconReport {
    Analyzer::default().score(ts, None)
}

fn near(got: Option<f64>, want: f64, tol: f64) -> bool {
    got.is_some_and(|p| (p / want - 1.0).abs() <= tol)
}

/// Timestamps from a start and intervals in seconds.
fn from_intervals(intervals: impl IntoIterator<Item = f64>) -> Vec<i64> {
    let mut t = START as f64 / 1e6;
    let mut out = vec![START];
    for d in intervals {
        t += d;
        out.push((t * 1e6).round() as i64);
    }
    out
}

#[test]
fn a_long_jittered_beacon_is_not_marked_down_for_its_jitter() {
    // 950 check-ins at 200–350 s (275 s ±27%) over three days, against 30 check-ins ±5%.
    let long = BeaconSpec::new(275.0, 950)
        .jitter(Jitter::Uniform(0.27))
        .generate(&mut Rng::new(1), START);
    let short = BeaconSpec::new(60.0, 30)
        .jitter(Jitter::Uniform(0.05))
        .generate(&mut Rng::new(2), START);
    let (l, s) = (score(&long), score(&short));
    assert!(near(l.period_s, 275.0, 0.02), "{l:?}");
    assert!(l.score >= 0.9, "{}: {l:?}", l.explain());
    assert!(l.score >= s.score - 0.02, "long {} < short {}", l.score, s.score);
}

#[test]
fn bursts_of_bursts_report_the_outer_period_with_burst_size_and_spacing() {
    // 37 bursts of 80 connections 0.1 s apart, one burst every ~2 h (CV 0.03).
    let mut rng = Rng::new(3);
    let mut ts = Vec::new();
    let mut t = START as f64 / 1e6;
    for _ in 0..37 {
        ts.extend((0..80).map(|j| ((t + 0.1 * f64::from(j)) * 1e6).round() as i64));
        t += 7200.0 * (1.0 + 0.03 * rng.normal());
    }
    let r = score(&ts);
    assert!(near(r.period_s, 7200.0, 0.02), "{}: {r:?}", r.explain());
    assert_eq!((r.events, r.beats), (2960, 37));
    let b = r.bursts.expect("burst statistics");
    assert_eq!(b.largest, 80);
    assert!(
        (b.connections_per_beat - 80.0).abs() < 1e-9 && (b.spacing_s - 0.1).abs() < 1e-3,
        "{b:?}"
    );
    assert!(r.score > 0.8, "{r:?}");
    let words = r.explain().to_string();
    assert!(
        words.starts_with("37 check-ins every 1") && words.contains("up to 80 per check-in 0.1 s apart"),
        "{words}"
    );
}

#[test]
fn a_fast_bursty_heavily_jittered_beacon_keeps_its_period() {
    // A 5 s beacon opening 2–3 connections 0.3 s apart per check-in, ±50% uniform jitter.
    let mut rng = Rng::new(4);
    let mut ts = Vec::new();
    let mut t = START as f64 / 1e6;
    for _ in 0..300 {
        for b in 0..2 + rng.below(2) {
            ts.push(((t + 0.3 * b as f64) * 1e6).round() as i64);
        }
        t += 5.0 * (1.0 + 0.5 * (2.0 * rng.uniform() - 1.0));
    }
    let r = score(&ts);
    assert!(near(r.period_s, 5.0, 0.05), "{}: {r:?}", r.explain());
    assert!(r.score >= 0.7, "{r:?}");
}

#[test]
fn staging_connections_do_not_swamp_the_check_ins_after_them() {
    // Three staging connections within 1.2 s, then six check-ins 5.1 s apart (±2%).
    let jitter = [1.0, 0.99, 1.02, 0.98, 1.01, 1.0];
    let r = score(&from_intervals(
        [0.6, 0.6].into_iter().chain(jitter.iter().map(|j| 5.1 * j)),
    ));
    assert!(near(r.period_s, 5.1, 0.03), "{}: {r:?}", r.explain());
    assert!(r.score >= 0.5 && r.p_value < 0.01, "{}: {r:?}", r.explain());
}
