//! The engine against generated beacons across the range attackers use, and against aperiodic
//! traffic with the same event counts. Prints a recall table (`cargo test -- --nocapture`).

use beaconstat::synth::{self, BeaconSpec, Jitter, Rng, browsing, diurnal, poisson};
use beaconstat::{Analyzer, AnalyzerConfig, Verdict};

const THRESHOLD: f64 = 0.5;
const START: i64 = 1_700_000_000_000_000;

#[test]
fn recall_and_period_accuracy_per_regime() {
    let mut analyzer = Analyzer::default();
    let mut failures = Vec::new();
    println!(
        "{:<26} {:>7} {:>9} {:>11} {:>11} {:>10}",
        "regime", "recall", "period ok", "beacon avg", "random avg", "random fp"
    );
    for reg in synth::regimes() {
        let r = synth::evaluate(&mut analyzer, &reg, 60, THRESHOLD);
        println!(
            "{:<26} {:>7.2} {:>9.2} {:>11.3} {:>11.3} {:>10.2}",
            reg.name, r.recall, r.period_ok, r.beacon_mean, r.aperiodic_mean, r.false_positive
        );
        if r.recall < reg.min_recall {
            failures.push(format!("{}: recall {:.2} < {}", reg.name, r.recall, reg.min_recall));
        }
        if r.period_ok < 0.95 {
            failures.push(format!(
                "{}: period within {:.0}% in only {:.2} of trials",
                reg.name,
                reg.tolerance * 100.0,
                r.period_ok
            ));
        }
        if r.false_positive > 0.0 {
            failures.push(format!(
                "{}: {:.2} of aperiodic series scored >= {THRESHOLD}",
                reg.name, r.false_positive
            ));
        }
        if r.beacon_mean <= r.aperiodic_mean + 0.3 {
            failures.push(format!("{}: beacons do not clear aperiodic traffic", reg.name));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn p_values_are_calibrated_against_poisson() {
    // Under the null the p-value must not be anti-conservative: P(p < 0.05) ≤ 0.05 (+ sampling
    // slack of about two standard errors over 400 trials).
    let mut analyzer = Analyzer::default();
    for n in [20usize, 100, 1000] {
        let mut below = 0;
        for seed in 0..400 {
            let mut rng = Rng::new(1_000_000 + seed);
            let r = analyzer.score(&poisson(&mut rng, n, 60.0, START), None);
            below += usize::from(r.p_value < 0.05);
        }
        let rate = below as f64 / 400.0;
        assert!(rate <= 0.072, "n = {n}: P(p < 0.05) = {rate}");
    }
}

#[test]
fn aperiodic_traffic_scores_low_at_every_size() {
    let mut analyzer = Analyzer::default();
    for n in [8usize, 30, 300, 3000] {
        for seed in 0..60u64 {
            let mut rng = Rng::new(77 + seed);
            let ts = match seed % 3 {
                0 => poisson(&mut rng, n, 120.0, START),
                1 => browsing(&mut rng, n, 1800.0, 4.0, START),
                _ => diurnal(&mut rng, n, 60.0, START),
            };
            let r = analyzer.score(&ts, None);
            assert!(r.score < THRESHOLD, "n {n} seed {seed}: {r:?}");
        }
    }
}

#[test]
fn steady_sizes_raise_the_score_and_random_sizes_lower_it() {
    let mut analyzer = Analyzer::default();
    let mut rng = Rng::new(5);
    let ts = BeaconSpec::new(60.0, 100)
        .jitter(Jitter::Uniform(0.1))
        .generate(&mut rng, START);
    let steady: Vec<u64> = ts.iter().map(|_| 517).collect();
    let random: Vec<u64> = ts.iter().map(|_| rng.below(100_000)).collect();
    let a = analyzer.score(&ts, Some(&steady));
    let b = analyzer.score(&ts, Some(&random));
    let c = analyzer.score(&ts, None);
    assert_eq!(a.size.map(|s| s.mode), Some(517));
    assert_eq!(a.subscores.size, Some(1.0));
    assert!(b.subscores.size.unwrap() < 0.6, "{b:?}");
    assert!(a.score > b.score && a.score >= c.score - 1e-12);
    assert!(b.score >= THRESHOLD);
}

#[test]
fn bursts_coalesce_and_sizes_sum_per_beat() {
    let mut analyzer = Analyzer::default();
    // Three connections 100 ms apart every 60 s, 200 bytes each.
    let ts: Vec<i64> = (0..50)
        .flat_map(|i| (0..3).map(move |j| START + i * 60_000_000 + j * 100_000))
        .collect();
    let sizes = vec![200u64; ts.len()];
    let r = analyzer.score(&ts, Some(&sizes));
    assert_eq!(r.events, 150);
    assert_eq!(r.beats, 50);
    assert_eq!(r.size.unwrap().median, 600.0);
    assert!((r.period.unwrap().as_secs_f64() - 60.0).abs() < 0.01);
    assert!(r.score > 0.95);
}

#[test]
fn degenerate_inputs_give_documented_results() {
    let mut analyzer = Analyzer::default();
    let too_few = |ts: &[i64], a: &mut Analyzer| {
        let r = a.score(ts, None);
        assert_eq!(r.verdict, Verdict::TooFew, "{ts:?}");
        assert_eq!((r.score, r.p_value, r.period), (0.0, 1.0, None));
    };
    too_few(&[], &mut analyzer);
    too_few(&[5], &mut analyzer);
    too_few(&[5, 5, 5, 5, 5, 5], &mut analyzer); // all equal: one beat
    too_few(&[0, 60_000_000, 120_000_000], &mut analyzer); // below min_events
    // Extremes: scored without overflow.
    let r = analyzer.score(&[i64::MIN, -1, 0, 1, i64::MAX], None);
    assert!((0.0..=1.0).contains(&r.score));
    let r = analyzer.score(&[i64::MIN, i64::MIN + 1, i64::MAX - 1, i64::MAX], None);
    assert!((0.0..=1.0).contains(&r.score));
    // Mismatched sizes are ignored, not an error.
    let ts: Vec<i64> = (0..10).map(|i| i * 1_000_000).collect();
    assert_eq!(analyzer.score(&ts, Some(&[1, 2])).size, None);
}

#[test]
fn a_slower_beacon_reports_a_proportionally_longer_period() {
    let mut analyzer = Analyzer::default();
    let mut rng = Rng::new(9);
    let ts = BeaconSpec::new(60.0, 120)
        .jitter(Jitter::Uniform(0.1))
        .generate(&mut rng, 0);
    let slow: Vec<i64> = ts.iter().map(|t| t * 10).collect();
    let (a, b) = (analyzer.score(&ts, None), analyzer.score(&slow, None));
    let (pa, pb) = (a.period.unwrap().as_secs_f64(), b.period.unwrap().as_secs_f64());
    assert!((pb / pa - 10.0).abs() < 0.01, "{pa} vs {pb}");
    assert!((a.score - b.score).abs() < 0.05);
}

#[test]
fn config_changes_take_effect() {
    let strict = AnalyzerConfig::builder().min_events(20).build().unwrap();
    let ts: Vec<i64> = (0..10).map(|i| i * 60_000_000).collect();
    assert_eq!(Analyzer::new(strict).score(&ts, None).verdict, Verdict::TooFew);
    assert_eq!(Analyzer::default().score(&ts, None).verdict, Verdict::Scored);
    assert!(AnalyzerConfig::builder().tolerances(&[0.0]).build().is_err());
    assert!(AnalyzerConfig::builder().max_bins(10).build().is_err());
}

#[test]
fn scoring_a_whole_set_matches_scoring_each_series() {
    use beaconstat::{AnalyzerConfig, ConnEvent, GroupBy, Grouper, Timestamp, score_set};
    let mut grouper = Grouper::new(GroupBy::Pair);
    let mut rng = Rng::new(11);
    let names: Vec<String> = (0..300).map(|i| format!("10.0.{}.{}", i / 250, i % 250)).collect();
    let mut all: Vec<(usize, i64)> = Vec::new();
    for (i, _) in names.iter().enumerate() {
        let ts = if i % 3 == 0 {
            BeaconSpec::new(30.0 + i as f64, 40 + i % 50)
                .jitter(Jitter::Uniform(0.2))
                .generate(&mut rng, START)
        } else {
            poisson(&mut rng, 5 + i % 80, 90.0, START)
        };
        all.extend(ts.into_iter().map(|t| (i, t)));
    }
    for &(i, t) in &all {
        grouper.push(&ConnEvent::new(Timestamp(t), &names[i], "198.51.100.1"));
    }
    let set = grouper.finish();
    let parallel = score_set(&set, &AnalyzerConfig::default(), 6);
    let mut analyzer = Analyzer::default();
    let sequential: Vec<_> = set
        .iter()
        .filter(|s| s.len() >= 6)
        .map(|s| (s.index(), analyzer.score_series(&s)))
        .collect();
    assert_eq!(parallel.len(), sequential.len());
    assert_eq!(parallel, sequential);
}

#[test]
fn long_jittered_beacons_keep_their_period_past_p_value_underflow() {
    // Thousands of check-ins make every tolerance's p-value underflow an f64; the fits must
    // still be ranked (in decades), or a too-narrow tolerance biases the period.
    let mut analyzer = Analyzer::default();
    for (seed, jitter, true_mean) in [
        (1u64, Jitter::CobaltStrike(0.3), 255.0),
        (2, Jitter::Uniform(0.3), 300.0),
    ] {
        let ts = BeaconSpec::new(300.0, 3000)
            .jitter(jitter)
            .generate(&mut Rng::new(seed), START);
        let r = analyzer.score(&ts, None);
        let p = r.period.unwrap().as_secs_f64();
        assert!(
            (p / true_mean - 1.0).abs() < 0.01,
            "{jitter:?}: period {p} vs {true_mean}"
        );
        assert!(r.explained > 0.95, "{jitter:?}: {r:?}");
    }
}
