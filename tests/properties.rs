//! Invariants of the engine and the grouper, over arbitrary inputs.

mod common;

use beaconstat::beacon::ScheduleKind;
use beaconstat::synth::{BeaconSpec, Jitter, Rng};
use beaconstat::{Analyzer, BeaconReport, ConnEvent, GroupBy, Grouper, SeriesKey, SeriesSet, Timestamp};
use proptest::prelude::*;
use std::collections::HashMap;

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
        prop_assert!(r.period.is_none_or(|p| p.as_micros() > 0));
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
        let mut a = Analyzer::default();
        // The daily schedule counts check-ins per UTC day: shifts by whole days keep everything.
        let days = shift.div_euclid(86_400_000_000) * 86_400_000_000;
        let by_days: Vec<i64> = ts.iter().map(|t| t + days).collect();
        let (r, d) = (a.score(&ts, None), a.score(&by_days, None));
        prop_assert_eq!((r.score, r.period, r.p_value, r.schedule), (d.score, d.period, d.p_value, d.schedule));
        // Any other shift keeps everything but the daily schedule.
        let moved: Vec<i64> = ts.iter().map(|t| t + shift).collect();
        let s = a.score(&moved, None);
        let daily = |x: &BeaconReport| x.schedule.is_some_and(|e| e.kind == ScheduleKind::Daily);
        prop_assume!(!daily(&r) && !daily(&s));
        prop_assert_eq!(r.score, s.score);
        prop_assert_eq!(r.period, s.period);
        prop_assert_eq!(r.p_value, s.p_value);
        prop_assert_eq!(s.first.as_micros(), r.first.as_micros() + shift);
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

    /// Every push path (the built-in pair fast paths, a custom key function, `push_keyed` and
    /// dictionary ids through `push_id`) gives what a naive map of vectors gives: series in
    /// first-seen order, each sorted by (time, size), sizes only where every event had one.
    /// Key texts of every length class (empty, under 4, 4–7, 8–16, over 16 bytes) and sizes
    /// beyond 32 bits exercise the word-compare and the column widening.
    #[test]
    fn grouping_paths_match_a_naive_model(
        srcs in prop::collection::vec("[a-c.:0-9]{0,24}", 1..6),
        dsts in prop::collection::vec("[a-c.:0-9]{0,24}", 1..6),
        events in prop::collection::vec(
            (any::<prop::sample::Index>(), any::<prop::sample::Index>(), prop::option::of(0u16..3),
             -50i64..50, prop::option::of(prop_oneof![0u64..10, Just(u64::MAX), (1u64 << 32)..(1u64 << 33)])),
            0..200),
        path in 0u8..5,
    ) {
        let events: Vec<ConnEvent<'_>> = events
            .iter()
            .map(|(s, d, port, t, size)| {
                let mut e = ConnEvent::new(Timestamp(*t), s.get(&srcs).as_str(), d.get(&dsts).as_str());
                e.dst_port = *port;
                e.bytes_out = *size;
                e
            })
            .collect();
        // The model: (src, dst, port) → (time, size) list, keys in first-seen order.
        let mut order: Vec<PairKey<'_>> = Vec::new();
        let mut model: HashMap<PairKey<'_>, Vec<(i64, Option<u64>)>> = HashMap::new();
        for e in &events {
            let k = (e.src, e.dst, e.dst_port);
            model.entry(k).or_insert_with(|| { order.push(k); Vec::new() }).push((e.ts.0, e.bytes_out));
        }
        let set = group_by_path(&events, path);
        prop_assert_eq!(set.len(), order.len());
        prop_assert_eq!(set.events(), events.len());
        for (s, k) in set.iter().zip(&order) {
            let want_key = pair_key(k.0, k.1, k.2);
            prop_assert_eq!(s.key(), if path == 4 { want_key.with_name("n") } else { want_key });
            let mut want = model[k].clone();
            want.sort_by_key(|&(t, z)| (t, z.unwrap_or(0)));
            let times: Vec<i64> = want.iter().map(|w| w.0).collect();
            prop_assert_eq!(s.timestamps(), &times[..]);
            let sizes: Option<Vec<u64>> = want.iter().map(|w| w.1).collect();
            prop_assert_eq!(s.sizes(), sizes.as_deref());
        }
    }
}

proptest! {
    /// One grouper reused window after window (`finish_and_reset`, then `recycle` of each set,
    /// in any order) gives exactly the sets fresh groupers give: recycled memory carries nothing
    /// over, whatever the windows' key counts, sizes (absent, narrow, wide) and lengths.
    #[test]
    fn a_reused_grouper_matches_fresh_ones(
        windows in prop::collection::vec(
            prop::collection::vec(
                (0usize..6, 0usize..4, -50i64..50,
                 prop::option::of(prop_oneof![0u64..10, (1u64 << 32)..(1u64 << 33)])),
                0..120),
            1..5),
        recycle_late in any::<bool>(),
    ) {
        let names = ["10.0.0.1", "10.0.0.2", "a", "198.51.100.200", "host.example.org.internal", ""];
        let mut reused = Grouper::new(GroupBy::Pair);
        let mut held = Vec::new();
        for w in &windows {
            let events: Vec<ConnEvent<'_>> = w
                .iter()
                .map(|&(s, d, t, z)| {
                    let mut e = ConnEvent::new(Timestamp(t), names[s], names[d]);
                    e.bytes_out = z;
                    e
                })
                .collect();
            let mut fresh = Grouper::new(GroupBy::Pair);
            for e in &events {
                fresh.push(e);
                reused.push(e);
            }
            let got = reused.finish_and_reset();
            prop_assert_eq!(&got, &fresh.finish());
            // Sets may be handed back at once or only after later windows are grouped.
            if recycle_late {
                held.push(got);
            } else {
                reused.recycle(got);
            }
            if held.len() == 2 {
                reused.recycle(held.remove(0));
            }
        }
    }
}

/// A beacon's period scales with time. Only where coalescing does not reach its absolute cap
/// (30 s, the one scale-dependent setting) and the beacon is found at both scales does the
/// property apply, so the test counts those cases and needs most of them to qualify: periods up
/// to `400 s / factor` (so the scaled coalescing gap, 5% of the scaled 90th-percentile
/// interval, mostly stays under the cap).
#[test]
fn period_scales_with_time() {
    let strategy = (2i64..20).prop_flat_map(|factor| {
        (
            any::<u64>(),
            1.0f64..400.0 / factor as f64,
            0.0f64..0.5,
            0.0f64..0.3,
            8usize..200,
            Just(factor),
        )
    });
    common::exercised::check_exercised("period scales", 256, 128, strategy, |(seed, p, j, m, n, factor)| {
        let ts = BeaconSpec::new(p, n)
            .jitter(Jitter::Uniform(j))
            .missed(m)
            .generate(&mut Rng::new(seed), 1_600_000_000_000_000);
        let scaled: Vec<i64> = ts.iter().map(|t| t * factor).collect();
        let mut a = Analyzer::default();
        let (r, s) = (a.score(&ts, None), a.score(&scaled, None));
        let (Some(p), Some(q)) = (r.period.map(|p| p.as_secs_f64()), s.period.map(|p| p.as_secs_f64())) else {
            return Ok(false);
        };
        if r.coalesce_gap.as_secs_f64() * factor as f64 > 30.0 || r.score <= 0.5 {
            return Ok(false);
        }
        prop_assert!((q / p / factor as f64 - 1.0).abs() < 0.02, "{p} x {factor} vs {q}");
        Ok(true)
    });
}

/// Groups `events` by (src, dst, port) through push path `path`.
fn group_by_path(events: &[ConnEvent<'_>], path: u8) -> SeriesSet {
    let mut g = match path {
        0 => Grouper::new(GroupBy::PairPort),
        1 => Grouper::new(GroupBy::custom(|e: &ConnEvent<'_>| {
            Some(pair_key(e.src, e.dst, e.dst_port))
        })),
        _ => Grouper::new(GroupBy::Pair),
    };
    let mut ids = HashMap::new();
    for e in events {
        match path {
            0 | 1 => g.push(e),
            2 => g.push_keyed(&pair_key(e.src, e.dst, e.dst_port), e.ts, e.bytes_out),
            3 => {
                // A dictionary: each distinct key interned once, events pushed by id.
                let k = pair_key(e.src, e.dst, e.dst_port);
                let id = *ids.entry(k).or_insert_with(|| g.key_id(&k));
                assert!(g.push_id(id, e.ts, e.bytes_out));
            }
            _ => {
                // Keys of another shape (src, dst and a name) take the generic path.
                let k = pair_key(e.src, e.dst, e.dst_port).with_name("n");
                g.push_keyed(&k, e.ts, e.bytes_out);
            }
        }
    }
    g.finish()
}

/// (src, dst, port) in the naive model.
type PairKey<'a> = (&'a str, &'a str, Option<u16>);

fn pair_key<'a>(src: &'a str, dst: &'a str, port: Option<u16>) -> SeriesKey<'a> {
    let mut k = SeriesKey::pair(src, dst);
    k.dst_port = port;
    k
}

/// Past 65 536 keys the id column widens to 32 bits; nothing is lost or misfiled.
#[test]
fn grouping_past_65536_keys_keeps_every_event() {
    let names: Vec<String> = (0..70_000).map(|i| format!("10.{}.{}", i / 256, i % 256)).collect();
    let mut g = Grouper::new(GroupBy::Pair);
    for round in 0..2i64 {
        for (i, n) in names.iter().enumerate() {
            g.push(&ConnEvent::new(Timestamp(1000 - round * 10 - i as i64 % 7), n, "x").with_bytes(i as u64, 0));
        }
    }
    let set = g.finish();
    assert_eq!(set.len(), names.len());
    for (i, s) in set.iter().enumerate() {
        assert_eq!(s.key().src, Some(names[i].as_str()));
        let t = 1000 - i as i64 % 7;
        assert_eq!(s.timestamps(), &[t - 10, t]);
        assert_eq!(s.sizes(), Some(&[i as u64, i as u64][..]));
    }
}
