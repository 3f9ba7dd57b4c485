//! Invariants of the engine and the grouper, over arbitrary inputs.

use beaconstat::synth::{BeaconSpec, Jitter, Rng};
use beaconstat::{Analyzer, ConnEvent, GroupBy, Grouper, Timestamp};
use proptest::prelude::*;

fn any_timestamps() -> impl Strategy<Value = Vec<i64>> {
    prop_oneof![
        prop::collection::vec(any::<i64>(), 0..60),
        prop::collection::vec(-1_000_000_000i64..1_000_000_000, 0..200),
        prop::collection::vec(
            prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(0i64), Just(-1i64)],
            0..20
        ),
        (any::<i64>(), 0usize..50).prop_map(|(t, n)| vec![t; n]),
    ]
}

/// A generated beacon (seed, period in [1 s, 1 d], jitter up to ±50%, misses up to 30%).
fn any_beacon() -> impl Strategy<Value = Vec<i64>> {
    (any::<u64>(), 1.0f64..86_400.0, 0.0f64..0.5, 0.0f64..0.3, 8usize..200).prop_map(|(seed, p, j, m, n)| {
        BeaconSpec::new(p, n)
            .jitter(Jitter::Uniform(j))
            .missed(m)
            .generate(&mut Rng::new(seed), 1_600_000_000_000_000)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn never_panics_and_stays_in_range(ts in any_timestamps(), with_sizes in any::<bool>()) {
        let sizes: Vec<u64> = ts.iter().map(|&t| t.unsigned_abs() % 5000).collect();
        let r = Analyzer::default().score(&ts, with_sizes.then_some(sizes.as_slice()));
        prop_assert!((0.0..=1.0).contains(&r.score), "{r:?}");
        prop_assert!((0.0..=1.0).contains(&r.p_value), "{r:?}");
        prop_assert!(r.period_s.is_none_or(|p| p.is_finite() && p > 0.0));
        for s in [r.subscores.timing, r.subscores.spectral, r.subscores.significance] {
            prop_assert!((0.0..=1.0).contains(&s));
        }
        let _ = r.explain().to_string();
    }

    #[test]
    fn invariant_to_input_order(ts in any_beacon(), seed in any::<u64>()) {
        let mut shuffled = ts.clone();
        let mut rng = Rng::new(seed);
        for i in (1..shuffled.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            shuffled.swap(i, j);
        }
        let mut a = Analyzer::default();
        prop_assert_eq!(a.score(&ts, None), a.score(&shuffled, None));
    }

    #[test]
    fn invariant_to_time_shift(ts in any_beacon(), shift in -1_000_000_000_000_000i64..1_000_000_000_000_000) {
        let moved: Vec<i64> = ts.iter().map(|t| t + shift).collect();
        let mut a = Analyzer::default();
        let (r, s) = (a.score(&ts, None), a.score(&moved, None));
        prop_assert_eq!(r.score, s.score);
        prop_assert_eq!(r.period_s, s.period_s);
        prop_assert_eq!(r.p_value, s.p_value);
        prop_assert_eq!(s.first.as_micros(), r.first.as_micros() + shift);
    }

    #[test]
    fn period_scales_with_time(ts in any_beacon(), factor in 2i64..20) {
        let scaled: Vec<i64> = ts.iter().map(|t| t * factor).collect();
        let mut a = Analyzer::default();
        let (r, s) = (a.score(&ts, None), a.score(&scaled, None));
        if let (Some(p), Some(q)) = (r.period_s, s.period_s) {
            // Coalescing has an absolute cap (30 s), the only scale-dependent setting; within a
            // few percent otherwise.
            if r.coalesce_gap_s * factor as f64 <= 30.0 && r.score > 0.5 {
                prop_assert!((q / p / factor as f64 - 1.0).abs() < 0.02, "{p} x {factor} vs {q}");
            }
        }
    }

    #[test]
    fn grouping_keeps_every_event_once(events in prop::collection::vec((0u8..5, 0u8..5, any::<i64>()), 0..300)) {
        let names = ["a", "b", "c", "d", "e"];
        let mut g = Grouper::new(GroupBy::Pair);
        for &(s, d, t) in &events {
            g.push(&ConnEvent::new(Timestamp(t), names[s as usize], names[d as usize]));
        }
        let set = g.finish();
        prop_assert_eq!(set.events(), events.len());
        let mut total = 0;
        for s in set.iter() {
            prop_assert!(s.timestamps().is_sorted());
            let k = s.key();
            let want = events.iter().filter(|e| Some(names[e.0 as usize]) == k.src && Some(names[e.1 as usize]) == k.dst).count();
            prop_assert_eq!(s.len(), want);
            total += s.len();
        }
        prop_assert_eq!(total, events.len());
    }
}
