//! The streaming tracker against the batch path (grouper + `score_set` + `Ranker`), and its
//! bounds: window, idle expiry, key cap with eviction counters, refused keys, saved state.
use beaconstat::tracker::{BeaconTracker, TrackerConfig, TrackerStats};
use beaconstat::{
    AnalyzerConfig, ConnEvent, ErrorKind, GroupBy, Grouper, Interval, Ranker, SeriesKey, Timestamp, score_set,
};
use proptest::prelude::*;

// Local sources (prevalence is judged over them) and one external scanner range: with up to 24
// keys on three destinations, fan-in (more than 10 sources on a destination) happens too.
const SOURCES: [&str; 16] = [
    "10.0.0.1",
    "10.0.0.2",
    "10.0.0.3",
    "10.0.0.4",
    "10.0.0.5",
    "10.0.0.6",
    "10.0.0.7",
    "10.0.0.8",
    "192.168.1.9",
    "192.168.1.10",
    "172.16.0.11",
    "172.16.0.12",
    "198.18.0.13",
    "198.18.0.14",
    "203.0.113.200",
    "203.0.113.201",
];
// The established series of the key-flood test.
const HOSTS: [&str; 5] = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"];
const DSTS: [&str; 3] = ["203.0.113.7", "198.51.100.2", "10.0.0.9"];

/// Events of a few keys: some beacons (period, jitter), some noise, sizes sometimes missing.
fn stream() -> impl Strategy<Value = Vec<(usize, usize, i64, Option<u64>)>> {
    prop::collection::vec((0usize..16, 0usize..3, 30i64..600, 0u32..8, any::<u16>()), 1..24)
        .prop_flat_map(|keys| {
            let per_key: Vec<_> = keys
                .into_iter()
                .map(|(h, d, period, jitter_pct, seed)| {
                    prop::collection::vec((0i64..1000, prop::option::weighted(0.9, 100u64..110)), 0..60).prop_map(
                        move |noise| {
                            noise
                                .into_iter()
                                .enumerate()
                                .map(|(i, (n, size))| {
                                    let jitter = (n - 500) * period * i64::from(jitter_pct) / 50_000;
                                    let t = 1_700_000_000 + i as i64 * period + jitter + i64::from(seed % 7);
                                    (h, d, t * 1_000_000 + n, size)
                                })
                                .collect::<Vec<_>>()
                        },
                    )
                })
                .collect();
            per_key
        })
        .prop_map(|keys: Vec<Vec<_>>| {
            // Interleave the keys as a sensor would see them (by time, ties in any order).
            let mut all: Vec<_> = keys.into_iter().flatten().collect();
            all.sort_by_key(|e| e.2 / 7_000_000);
            all
        })
}

fn event(h: usize, d: usize, ts: i64, size: Option<u64>) -> ConnEvent<'static> {
    let e = ConnEvent::new(Timestamp::from_micros(ts), SOURCES[h], DSTS[d]);
    match size {
        Some(s) => e.with_bytes(s, 0),
        None => e,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// While every key's events fit its window, the tracker's reports are bit-identical to the
    /// batch reports of the same events, and ranked as the batch ranker ranks them: the same
    /// rank scores, directions and adjustments per key, the same order but for ties on rank
    /// score and events (key order here, first-seen order in the batch).
    #[test]
    fn agrees_exactly_with_the_batch_analyzer_within_the_window(events in stream()) {
        let cfg = AnalyzerConfig::default();
        let ranker = Ranker::builder().min_events(0).build().unwrap();
        let tracker_cfg = TrackerConfig::new().with_window(300).with_analyzer(cfg.clone()).with_ranker(ranker.clone());
        let mut tracker = BeaconTracker::new(tracker_cfg).unwrap();
        let mut grouper = Grouper::new(GroupBy::Pair);
        for &(h, d, ts, size) in &events {
            let e = event(h, d, ts, size);
            tracker.push(&e);
            grouper.push(&e);
        }
        let set = grouper.finish();
        let batch = score_set(&set, &cfg, 4);
        let streamed = tracker.reports();
        prop_assert_eq!(streamed.len(), batch.len());
        for (i, r) in &batch {
            let s = set.get(*i).unwrap();
            let t = streamed.iter().find(|t| t.key.as_series_key() == s.key()).unwrap();
            prop_assert_eq!(t.report.score.to_bits(), r.score.to_bits(), "{}", s.key());
            prop_assert_eq!(t.report.p_value.to_bits(), r.p_value.to_bits());
            prop_assert_eq!(&t.report, r);
            prop_assert_eq!(t.window_events, s.len());
        }
        // Ranked as the batch ranks: per key the same rank score, direction and adjustments...
        let ranked = ranker.rank(&set, batch);
        prop_assert_eq!(ranked.len(), streamed.len());
        for b in ranked.entries() {
            let t = streamed.iter().find(|t| t.key.as_series_key() == b.series.key()).unwrap();
            prop_assert_eq!(t.rank_score.to_bits(), b.rank_score.to_bits(), "{}", b.series.key());
            prop_assert_eq!(t.direction, b.direction);
            prop_assert_eq!(&t.adjustments, &b.adjustments);
        }
        // ... and position by position the same (rank score, events): the same order up to ties.
        for (t, b) in streamed.iter().zip(ranked.entries()) {
            prop_assert_eq!(t.rank_score.to_bits(), b.rank_score.to_bits());
            prop_assert_eq!(t.report.events, b.report.events);
        }
        // Ties in key order.
        let in_order = streamed.windows(2).all(|w| {
            w[0].rank_score > w[1].rank_score || w[0].report.events > w[1].report.events || w[0].key < w[1].key
        });
        prop_assert!(in_order);
        prop_assert_eq!(tracker.stats().events, events.len() as u64);
        prop_assert_eq!(tracker.stats().overwritten, 0);
    }

    /// Saved and loaded, a tracker holds the same state and gives the same reports.
    #[test]
    fn save_and_load_round_trip(events in stream()) {
        let cfg = || TrackerConfig::new().with_window(16);
        let mut tracker = BeaconTracker::new(cfg()).unwrap();
        for &(h, d, ts, size) in &events {
            tracker.push(&event(h, d, ts, size));
        }
        let mut file = Vec::new();
        tracker.save(&mut file).unwrap();
        let mut back = BeaconTracker::load(cfg(), &file[..]).unwrap();
        prop_assert_eq!(back.state(), tracker.state());
        prop_assert_eq!(back.stats(), tracker.stats());
        prop_assert_eq!(back.reports(), tracker.reports());
        // And it goes on as the original would.
        let next = event(0, 0, events.last().map_or(0, |e| e.2) + 60_000_000, Some(100));
        back.push(&next);
        tracker.push(&next);
        prop_assert_eq!(back.reports(), tracker.reports());
    }
}

/// A steady beacon longer than the window: the window's report keeps the period (within 2%)
/// and the verdict of the batch report over all events.
#[test]
fn past_the_window_a_steady_beacon_keeps_its_period_and_verdict() {
    let mut tracker = BeaconTracker::new(TrackerConfig::new().with_window(256)).unwrap();
    let mut grouper = Grouper::new(GroupBy::Pair);
    for i in 0..3_000i64 {
        let jitter = (i * 7919 % 1_000) * 18_000 - 9_000_000; // ±15% of 60 s
        let e = ConnEvent::new(
            Timestamp::from_micros(1_700_000_000_000_000 + i * 60_000_000 + jitter),
            "10.0.0.7",
            "203.0.113.50",
        );
        tracker.push(&e);
        grouper.push(&e);
    }
    let set = grouper.finish();
    let batch = score_set(&set, &AnalyzerConfig::default(), 4)[0].1;
    let streamed = tracker.reports();
    let t = &streamed[0];
    assert_eq!(t.window_events, 256);
    assert_eq!(t.events_seen, 3_000);
    assert_eq!(tracker.stats().overwritten, 3_000 - 256);
    let (pb, pt) = (
        batch.period.unwrap().as_secs_f64(),
        t.report.period.unwrap().as_secs_f64(),
    );
    assert!((pt - pb).abs() / pb < 0.02, "period {pt} vs batch {pb}");
    assert_eq!(t.report.verdict, batch.verdict);
    assert!(
        t.report.score > 0.8 && batch.score > 0.8,
        "{} vs {}",
        t.report.score,
        batch.score
    );
}

/// Fan-in and persistence reorder the tracker's reports as they reorder the batch's: fourteen
/// sources polling one SSH port like clockwork rank below a lone, jittered beacon that scores
/// lower on its own, and a short burst ranks below both.
#[test]
fn ranks_by_fan_in_and_persistence_as_the_batch_ranker_does() {
    let mut tracker = BeaconTracker::new(TrackerConfig::new()).unwrap();
    let mut grouper = Grouper::new(GroupBy::Pair);
    let t0 = 1_700_000_000_000_000i64;
    let mut events = Vec::new();
    for i in 0..200i64 {
        for src in &SOURCES[..14] {
            events.push(
                ConnEvent::new(Timestamp::from_micros(t0 + i * 60_000_000), src, "203.0.113.7").with_dst_port(22),
            );
        }
        let jitter = (i * 7919 % 1_000 - 500) * 60_000; // ±10% of 300 s
        events.push(
            ConnEvent::new(
                Timestamp::from_micros(t0 + i * 300_000_000 + jitter),
                "10.0.0.6",
                "198.51.100.2",
            )
            .with_dst_port(8443),
        );
        if i < 30 {
            events.push(
                ConnEvent::new(Timestamp::from_micros(t0 + i * 1_000_000), "10.0.0.6", "192.0.2.9").with_dst_port(80),
            );
        }
    }
    events.sort_by_key(|e| e.ts);
    for e in &events {
        tracker.push(e);
        grouper.push(e);
    }
    let set = grouper.finish();
    let ranker = Ranker::builder().min_events(0).build().unwrap();
    let batch = ranker.rank(&set, score_set(&set, &AnalyzerConfig::default(), 4));
    let streamed = tracker.reports();
    let streamed_keys: Vec<String> = streamed.iter().map(|t| t.key.to_string()).collect();
    let batch_keys: Vec<String> = batch.entries().iter().map(|b| b.series.key().to_string()).collect();
    // (The fourteen polled series tie on rank score and events: key order here.)
    assert_eq!(streamed_keys[0], "10.0.0.6 -> 198.51.100.2");
    assert_eq!(batch_keys[0], streamed_keys[0]);
    assert_eq!(streamed_keys.last(), Some(&"10.0.0.6 -> 192.0.2.9".to_string()));
    assert_eq!(batch_keys.last(), streamed_keys.last());
    let lone = &streamed[0];
    let polled = &streamed[1];
    assert!(
        polled.report.score > lone.report.score,
        "{} vs {}",
        polled.report.score,
        lone.report.score
    );
    assert!(polled.rank_score < lone.rank_score);
    assert!(
        polled
            .adjustments
            .iter()
            .any(|a| a.reason.contains("one of 14 sources")),
        "{:?}",
        polled.adjustments
    );
    for (t, b) in streamed.iter().zip(batch.entries()) {
        assert_eq!(t.rank_score.to_bits(), b.rank_score.to_bits());
    }
}

#[test]
fn idle_keys_expire_on_event_time() {
    let mut tracker = BeaconTracker::new(TrackerConfig::new().with_idle_expiry(Interval::from_secs(3_600))).unwrap();
    for i in 0..10 {
        tracker.push(&ConnEvent::new(Timestamp::from_secs(60 * i), "10.0.0.1", "203.0.113.7"));
    }
    tracker.push(&ConnEvent::new(
        Timestamp::from_secs(540 + 3_600),
        "10.0.0.2",
        "203.0.113.7",
    ));
    assert_eq!(tracker.len(), 2, "exactly one hour idle is not past the expiry");
    tracker.push(&ConnEvent::new(
        Timestamp::from_secs(541 + 3_600),
        "10.0.0.2",
        "203.0.113.7",
    ));
    assert_eq!(tracker.expire_idle(), 1);
    assert_eq!(tracker.len(), 1);
    let st = tracker.stats();
    assert_eq!(
        (st.keys_expired, st.expired_events, st.keys_created, st.events),
        (1, 10, 2, 12)
    );
    assert!(tracker.report(&SeriesKey::pair("10.0.0.1", "203.0.113.7")).is_none());
}

/// A flood of one-event keys (a scan) against a full tracker evicts its own earlier keys,
/// not the established series; every evicted key and event is counted.
#[test]
fn a_key_flood_evicts_the_flood_not_the_established_series() {
    let mut tracker = BeaconTracker::new(TrackerConfig::new().with_max_keys(256)).unwrap();
    for i in 0..40i64 {
        for (h, host) in HOSTS.iter().enumerate() {
            tracker.push(&ConnEvent::new(
                Timestamp::from_secs(300 * i + h as i64),
                host,
                "203.0.113.7",
            ));
        }
    }
    let names: Vec<String> = (0..100_000)
        .map(|i| format!("198.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255))
        .collect();
    for (i, dst) in names.iter().enumerate() {
        tracker.push(&ConnEvent::new(
            Timestamp::from_secs(12_000 + i as i64 / 100),
            "10.9.9.9",
            dst,
        ));
    }
    assert!(tracker.len() <= 256);
    for host in HOSTS {
        let r = tracker
            .report(&SeriesKey::pair(host, "203.0.113.7"))
            .expect("established series kept");
        assert_eq!(r.window_events, 40);
    }
    let st: TrackerStats = *tracker.stats();
    assert_eq!(st.keys_created, 100_005);
    assert_eq!(
        st.keys_created - st.keys_evicted - st.keys_expired,
        tracker.len() as u64
    );
    assert_eq!(st.evicted_events, st.keys_evicted, "only one-event keys were evicted");
    assert_eq!(st.events, 100_000 + 200);
}

#[test]
fn control_characters_in_a_key_are_refused_and_counted() {
    let mut tracker = BeaconTracker::new(TrackerConfig::new()).unwrap();
    tracker.push(&ConnEvent::new(Timestamp::from_secs(1), "10.0.0.1\0", "203.0.113.7"));
    tracker.push(&ConnEvent::new(Timestamp::from_secs(2), "10.0.0.1", "203.0.113.7\r\n"));
    tracker.push(&ConnEvent::new(Timestamp::from_secs(3), "10.0.0.1", "203.0.113.7"));
    assert_eq!(tracker.len(), 1);
    assert_eq!((tracker.stats().invalid_keys, tracker.stats().events), (2, 1));
}

#[test]
fn bad_configs_are_refused() {
    for (cfg, field) in [
        (TrackerConfig::new().with_max_keys(0), "max_keys"),
        (TrackerConfig::new().with_window(1), "window"),
        (
            TrackerConfig::new().with_idle_expiry(Interval::from_secs(0)),
            "idle_expiry",
        ),
    ] {
        let err = BeaconTracker::new(cfg).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Config { field: f, .. } if *f == field),
            "{err}"
        );
    }
}

fn saved_tracker() -> Vec<u8> {
    let mut t = BeaconTracker::new(TrackerConfig::new().with_window(8)).unwrap();
    for i in 0..12 {
        t.push(&event(0, 0, i * 60_000_000, Some(100)));
        t.push(&event(1, 2, i * 90_000_000, None));
    }
    let mut file = Vec::new();
    t.save(&mut file).unwrap();
    file
}

/// Every truncation and every bit flip of a saved state is an error naming the problem:
/// never a panic, never a tracker that quietly lost keys.
#[test]
fn damaged_state_files_are_clear_errors() {
    let file = saved_tracker();
    let load = |b: &[u8]| BeaconTracker::load(TrackerConfig::new().with_window(8), b);
    assert!(load(&file).is_ok());
    for cut in 0..file.len() {
        let err = load(&file[..cut]).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Format { .. }), "cut at {cut}: {err}");
        let msg = err.to_string();
        assert!(
            msg.contains("truncated") || msg.contains("not a beaconstat tracker state") || msg.contains("header"),
            "cut at {cut}: {msg}"
        );
    }
    for i in 0..file.len() {
        for bit in [0x01u8, 0x20, 0x80] {
            let mut f = file.clone();
            f[i] ^= bit;
            let err = load(&f).expect_err("a flipped bit must not load");
            assert!(
                matches!(err.kind(), ErrorKind::Format { .. }),
                "flip {bit:#x} at {i}: {err}"
            );
        }
    }
    let mut long = file.clone();
    long.extend_from_slice(b"\n");
    assert!(load(&long).unwrap_err().to_string().contains("after the"));
    let other_version = String::from_utf8(file.clone())
        .unwrap()
        .replacen("version 1", "version 9", 1);
    assert!(
        load(other_version.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("version 9")
    );
    assert!(load(b"").unwrap_err().to_string().contains("truncated"));
}

/// Restored into a smaller tracker, a state keeps each key's newest events and the cap, and
/// counts what did not fit.
#[test]
fn a_state_restored_into_a_smaller_tracker_keeps_the_newest() {
    let file = saved_tracker();
    let t = BeaconTracker::load(TrackerConfig::new().with_window(4).with_max_keys(1), &file[..]).unwrap();
    assert_eq!(t.len(), 1);
    let st = t.stats();
    assert_eq!(st.keys_evicted, 1);
    assert_eq!(st.overwritten, 2 * (12 - 8) + 2 * (8 - 4));
    let state = t.state();
    let mut again = Vec::new();
    t.save(&mut again).unwrap();
    assert_eq!(
        BeaconTracker::load(TrackerConfig::new().with_window(4), &again[..])
            .unwrap()
            .state(),
        state
    );
}
