//! Recall and period accuracy of the engine per beacon regime, against aperiodic traffic with
//! the same event counts: `cargo run --release --example regimes`.
use beaconstat::Analyzer;
use beaconstat::synth::{BeaconSpec, Jitter, Rng, browsing, diurnal, poisson};

fn main() {
    let mut a = Analyzer::default();
    let regimes: Vec<(&str, BeaconSpec, f64)> = vec![
        ("1 s strict", BeaconSpec::new(1.0, 200), 1.0),
        ("60 s strict", BeaconSpec::new(60.0, 200), 60.0),
        ("24 h strict, 8 check-ins", BeaconSpec::new(86400.0, 8), 86400.0),
        (
            "60 s, 8 check-ins ±10%",
            BeaconSpec::new(60.0, 8).jitter(Jitter::Uniform(0.1)),
            60.0,
        ),
        (
            "300 s ±10% uniform",
            BeaconSpec::new(300.0, 150).jitter(Jitter::Uniform(0.1)),
            300.0,
        ),
        (
            "300 s ±50% uniform",
            BeaconSpec::new(300.0, 150).jitter(Jitter::Uniform(0.5)),
            300.0,
        ),
        (
            "300 s ±50% gaussian",
            BeaconSpec::new(300.0, 150).jitter(Jitter::Gaussian(0.5)),
            300.0,
        ),
        (
            "300 s CS 50%",
            BeaconSpec::new(300.0, 150).jitter(Jitter::CobaltStrike(0.5)),
            225.0,
        ),
        (
            "60 s ±10%, 30% missed",
            BeaconSpec::new(60.0, 200).jitter(Jitter::Uniform(0.1)).missed(0.3),
            60.0,
        ),
        (
            "60 s burst of 3",
            BeaconSpec::new(60.0, 150).jitter(Jitter::Uniform(0.05)).burst(3, 0.2),
            60.0,
        ),
        (
            "60 s working hours",
            BeaconSpec::new(60.0, 1500)
                .jitter(Jitter::Uniform(0.1))
                .working_hours(8, 18),
            60.0,
        ),
        (
            "60 s → 300 s midway",
            BeaconSpec::new(60.0, 200)
                .jitter(Jitter::Uniform(0.1))
                .sleep_change(0.5, 300.0),
            60.0,
        ),
        (
            "4 h ±20%",
            BeaconSpec::new(14400.0, 30).jitter(Jitter::Uniform(0.2)),
            14400.0,
        ),
    ];
    let trials = 100;
    println!(
        "{:<28} {:>6} {:>6} {:>9} {:>8} {:>8} {:>8}",
        "regime", "recall", "fpr", "per.err%", "b.score", "a.score", "b.p"
    );
    for (name, spec, period) in regimes {
        let (mut hits, mut fps, mut err, mut bs, mut asc, mut bp) = (0, 0, 0.0f64, 0.0, 0.0, 0.0);
        for seed in 0..trials {
            let mut rng = Rng::new(seed);
            let ts = spec.generate(&mut rng, 1_700_000_000_000_000);
            let r = a.score(&ts, None);
            let e = r.period_s.map_or(1.0, |p| (p - period).abs() / period);
            err = err.max(e);
            bs += r.score;
            bp += r.p_value.log10();
            if r.score >= 0.5 {
                hits += 1;
            }
            // aperiodic with the same number of events and span
            let n = ts.len();
            let span = (ts[n - 1] - ts[0]) as f64 / 1e6;
            let noise = match seed % 3 {
                0 => poisson(&mut rng, n, span / n as f64, 1_700_000_000_000_000),
                1 => browsing(&mut rng, n, span / n as f64 * 6.0, 5.0, 1_700_000_000_000_000),
                _ => diurnal(&mut rng, n, span / n as f64 / 2.0, 1_700_000_000_000_000),
            };
            let rn = a.score(&noise, None);
            asc += rn.score;
            if rn.score >= 0.5 {
                fps += 1;
            }
        }
        let t = trials as f64;
        println!(
            "{:<28} {:>6.2} {:>6.2} {:>9.2} {:>8.3} {:>8.3} {:>8.1}",
            name,
            hits as f64 / t,
            fps as f64 / t,
            err * 100.0,
            bs / t,
            asc / t,
            bp / t
        );
    }
    // Calibration: share of Poisson series with p < 0.05 and < 0.01
    for n in [8usize, 20, 100, 1000] {
        let (mut p05, mut p01, mut maxs) = (0, 0, 0.0f64);
        for seed in 0..1000 {
            let mut rng = Rng::new(10_000 + seed);
            let ts = poisson(&mut rng, n, 60.0, 0);
            let r = a.score(&ts, None);
            if r.p_value < 0.05 {
                p05 += 1;
            }
            if r.p_value < 0.01 {
                p01 += 1;
            }
            maxs = maxs.max(r.score);
        }
        println!(
            "poisson n={n}: P(p<.05)={:.3} P(p<.01)={:.3} max score {:.3}",
            p05 as f64 / 1000.0,
            p01 as f64 / 1000.0,
            maxs
        );
    }
}
