//! The beacon habits of the quality issue, one test each: long jittered runs, bursts of bursts,
//! fast bursty beacons with heavy jitter, staging bursts before a few check-ins, sleep changes,
//! a regular core among noise, and evasive schedules.

use beaconstat::synth::{BeaconSpec, Jitter, Rng, from_intervals};
use beaconstat::{Analyzer, BeaconReport, Interval};

const START: i64 = 1_704_067_200_000_000;

fn score(ts: &[i64]) -> BeaconReport {
    Analyzer::default().score(ts, None)
}

fn near(got: Option<Interval>, want: f64, tol: f64) -> bool {
    got.is_some_and(|p| (p.as_secs_f64() / want - 1.0).abs() <= tol)
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
    assert!(near(l.period, 275.0, 0.02), "{l:?}");
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
    assert!(near(r.period, 7200.0, 0.02), "{}: {r:?}", r.explain());
    assert_eq!((r.events, r.beats), (2960, 37));
    let b = r.bursts.expect("burst statistics");
    assert_eq!(b.largest, 80);
    assert!(
        (b.connections_per_beat - 80.0).abs() < 1e-9 && (b.spacing.as_secs_f64() - 0.1).abs() < 1e-3,
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
    assert!(near(r.period, 5.0, 0.05), "{}: {r:?}", r.explain());
    assert!(r.score >= 0.7, "{r:?}");
}

#[test]
fn staging_connections_do_not_swamp_the_check_ins_after_them() {
    // Three staging connections within 1.2 s, then six check-ins 5.1 s apart (±2%).
    let jitter = [1.0, 0.99, 1.02, 0.98, 1.01, 1.0];
    let r = score(&from_intervals(
        START,
        [0.6, 0.6].into_iter().chain(jitter.iter().map(|j| 5.1 * j)),
    ));
    assert!(near(r.period, 5.1, 0.03), "{}: {r:?}", r.explain());
    assert!(r.score >= 0.5 && r.p_value < 0.01, "{}: {r:?}", r.explain());
}

#[test]
fn a_sleep_change_is_reported_as_segments_with_their_periods() {
    // 5 s ±10% for 120 check-ins, then `sleep 60` for 60 check-ins.
    let ts = BeaconSpec::new(5.0, 180)
        .jitter(Jitter::Uniform(0.1))
        .sleep_change(120.0 / 180.0, 60.0)
        .generate(&mut Rng::new(5), START);
    let r = score(&ts);
    let segs: Vec<_> = r.segments.iter().collect();
    assert_eq!(segs.len(), 2, "{}: {r:?}", r.explain());
    assert!(
        near(Some(segs[0].period), 5.0, 0.05) && near(Some(segs[1].period), 60.0, 0.05),
        "{segs:?}"
    );
    assert!(segs[0].last <= segs[1].first && segs[0].p_value < 1e-6 && segs[1].p_value < 1e-6);
    assert!((110..=130).contains(&segs[0].beats), "{segs:?}");
    // Scored on the combined evidence; the current sleep is the period.
    assert!(r.score > 0.8 && near(r.period, 60.0, 0.05), "{r:?}");
    assert!(
        r.explain().to_string().starts_with("sleep changed: "),
        "{}",
        r.explain()
    );
    // One sleep throughout: no segments.
    let one = BeaconSpec::new(60.0, 180)
        .jitter(Jitter::Uniform(0.1))
        .generate(&mut Rng::new(6), START);
    assert!(score(&one).segments.is_empty());
}

#[test]
fn a_regular_core_among_noise_states_the_unexplained_share_first() {
    // 73% of intervals at 16 s ±4%, the rest random between 0.5 s and 60 s.
    let mut rng = Rng::new(7);
    let intervals: Vec<f64> = (0..200)
        .map(|_| {
            if rng.chance(0.73) {
                16.0 * (1.0 + 0.04 * (2.0 * rng.uniform() - 1.0))
            } else {
                0.5 + 59.5 * rng.uniform()
            }
        })
        .collect();
    let noisy = score(&from_intervals(START, intervals));
    let words = noisy.explain().to_string();
    assert!(
        words.starts_with("2") && words.contains("% of intervals unexplained; "),
        "{words}"
    );
    assert!(near(noisy.period, 16.0, 0.02), "{noisy:?}");
    // It weighs on the score: below a clean beacon of the same size and jitter.
    let clean = score(&from_intervals(
        START,
        (0..200).map(|i| 16.0 * (1.0 + 0.04 * (f64::from(i % 9) / 4.0 - 1.0))),
    ));
    assert!(noisy.score < clean.score - 0.2, "{} vs {}", noisy.score, clean.score);
}

#[test]
fn evasive_schedules_are_named_and_given_no_period() {
    use beaconstat::beacon::ScheduleKind;
    let mut rng = Rng::new(8);
    let jitter = |rng: &mut Rng| 1.0 + 0.03 * (2.0 * rng.uniform() - 1.0);
    // Fibonacci sleeps from a 4 s base, restarting every 10 steps.
    let mut fib = Vec::new();
    for _ in 0..10 {
        let (mut a, mut b) = (4.0, 4.0);
        for _ in 0..10 {
            fib.push(b * jitter(&mut rng));
            (a, b) = (b, a + b);
        }
    }
    // Exponential back-off ×2 from 10 s, restarting after 6 steps.
    let backoff: Vec<f64> = (0..90).map(|i| 10.0 * 2f64.powi(i % 6) * jitter(&mut rng)).collect();
    for (intervals, kind) in [(fib, ScheduleKind::Fibonacci), (backoff, ScheduleKind::Backoff)] {
        let r = score(&from_intervals(START, intervals));
        let e = r
            .schedule
            .unwrap_or_else(|| panic!("{kind:?} not named: {}", r.explain()));
        assert_eq!(e.kind, kind);
        assert_eq!(r.period, None);
        assert!(r.score >= 0.6 && r.p_value < 1e-6, "{}: {r:?}", r.explain());
    }
    // One check-in a day at a random time of day, for 30 days.
    let daily: Vec<i64> = (0..30)
        .map(|d| START + d * 86_400_000_000 + rng.below(86_400_000_000) as i64)
        .collect();
    let r = score(&daily);
    let e = r.schedule.expect("daily schedule");
    assert_eq!((e.kind, e.parameter), (ScheduleKind::Daily, 1.0));
    assert!(r.score >= 0.6 && r.period.is_none(), "{}: {r:?}", r.explain());
    assert!(
        r.explain()
            .to_string()
            .starts_with("random times daily, no fixed period: 1 check-in a day")
    );
}
