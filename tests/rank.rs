//! The ranking stage in-process: persistence, allowlist suppression and down-ranking, order,
//! thresholds, minimum size, top-k and the recorded adjustments.

use beaconstat::rank::{AdjustmentKind, Channel};
use beaconstat::synth::Scenario;
use beaconstat::{
    AnalyzerConfig, ConnEvent, ErrorKind, GroupBy, Grouper, Ranker, ReadOptions, SeriesSet, Timestamp,
    allowlist::{Action, Allowlist, Rule},
    beacon::persistence_over,
    score_set,
};

/// A day of a source's traffic: a 5-minute beacon all day to `beacon_dst:443`, a 1-second
/// burst of 100 connections to `burst_dst:80` at noon, and NTP every 64 s.
fn day(src: &'static str, beacon_dst: &'static str, burst_dst: &'static str) -> Vec<ConnEvent<'static>> {
    let mut v = Vec::new();
    for i in 0..288 {
        v.push(ConnEvent::new(Timestamp::from_secs(300 * i), src, beacon_dst).with_dst_port(443));
    }
    for i in 0..100 {
        v.push(ConnEvent::new(Timestamp::from_secs(43_200 + i), src, burst_dst).with_dst_port(80));
    }
    for i in 0..1350 {
        v.push(ConnEvent::new(Timestamp::from_secs(64 * i), src, "216.239.35.4").with_dst_port(123));
    }
    v
}

fn group(events: &[ConnEvent<'_>]) -> SeriesSet {
    let mut g = Grouper::new(GroupBy::PairPort);
    for e in events {
        g.push(e);
    }
    g.finish()
}

#[test]
fn a_short_burst_is_damped_with_its_reason_and_a_persistent_beacon_is_not() {
    let set = group(&day("10.0.0.7", "203.0.113.50", "198.51.100.2"));
    let ranked = Ranker::builder()
        .allowlist(Allowlist::new())
        .build()
        .unwrap()
        .score_and_rank(&set, &AnalyzerConfig::default());
    let find = |dst: &str| {
        ranked
            .entries()
            .iter()
            .find(|r| r.series.key().dst == Some(dst))
            .unwrap()
    };
    let beacon = find("203.0.113.50");
    assert!(beacon.adjustments.is_empty(), "{:?}", beacon.adjustments);
    assert_eq!(beacon.rank_score, beacon.raw_score());
    assert_eq!(beacon.persistence(), 1.0);
    let burst = find("198.51.100.2");
    // 99 s of a 86 336 s day: share 0.00115, factor √(0.0115) ≈ 0.107.
    let [adj] = burst.adjustments.as_slice() else {
        panic!("{:?}", burst.adjustments)
    };
    let AdjustmentKind::Persistence { span_share } = adj.kind else {
        panic!("{adj:?}")
    };
    assert!((span_share - 99.0 / 86_336.0).abs() < 1e-9, "{span_share}");
    assert!((adj.factor - (99.0f64 / 8_633.6).sqrt()).abs() < 1e-9, "{}", adj.factor);
    assert_eq!(burst.persistence(), adj.factor);
    assert!((burst.rank_score - burst.raw_score() * adj.factor).abs() < 1e-12);
    assert_eq!(adj.reason, "short-lived: spans 0.1% of its source's time (score x0.11)");
    // The burst is regular (raw score high) but ranks below the beacon.
    assert!(burst.raw_score() > 0.5);
    let pos = |dst: &str| ranked.entries().iter().position(|r| r.series.key().dst == Some(dst));
    assert!(pos("203.0.113.50") < pos("198.51.100.2"));
}

#[test]
fn the_allowlist_suppresses_and_downranks_recording_the_rule() {
    let set = group(&day("10.0.0.7", "203.0.113.50", "198.51.100.2"));
    let mut allow = Allowlist::default_rules();
    allow
        .push(
            Rule::new("backup", Action::Downrank(0.25))
                .with_dst("203.0.113.0/24")
                .unwrap(),
        )
        .unwrap();
    let ranker = Ranker::builder()
        .allowlist(allow)
        .threshold(0.5)
        .top(10)
        .build()
        .unwrap();
    let ranked = ranker.score_and_rank(&set, &AnalyzerConfig::default());
    assert_eq!(ranked.len(), 3);
    let ntp = ranked
        .entries()
        .iter()
        .find(|r| r.series.key().dst_port == Some(123))
        .unwrap();
    assert_eq!(ntp.suppressed_by(), Some("ntp"));
    assert!(ntp.is_suppressed());
    // Suppressed: marked, score kept.
    assert_eq!(ntp.rank_score, ntp.raw_score());
    assert_eq!(ntp.adjustments[0].factor, 1.0);
    assert_eq!(ntp.adjustments[0].reason, "suppressed by allowlist rule ntp");
    let beacon = ranked
        .entries()
        .iter()
        .find(|r| r.series.key().dst_port == Some(443))
        .unwrap();
    assert_eq!(beacon.downranked_by(), Some("backup"));
    assert!((beacon.rank_score - 0.25 * beacon.raw_score()).abs() < 1e-12);
    assert_eq!(
        beacon.adjustments[0].reason,
        format!(
            "downranked by allowlist rule backup (raw score {:.2})",
            beacon.raw_score()
        )
    );
    // `top` leaves the suppressed series out; `beacons` counts what reaches the threshold
    // after the allowlist (the beacon, down-ranked to about 0.25, does not).
    let top: Vec<_> = ranked.top().map(|r| r.series.key().dst_port).collect();
    assert_eq!(top, [Some(443), Some(80)]);
    assert_eq!(ranked.beacons(), 0);
    // The summary counts the matches that would have been beacons but for the allowlist.
    assert_eq!(ranked.allowlist_summary().suppressed(), [("ntp", 1)]);
    assert_eq!(ranked.allowlist_summary().downranked(), [("backup", 1)]);
}

#[test]
fn order_is_by_rank_score_then_events_and_settings_apply() {
    let mut events = day("10.0.0.7", "203.0.113.50", "198.51.100.2");
    events.extend(day("10.0.0.8", "203.0.113.51", "198.51.100.3"));
    // A series of 5 events, below the default minimum of 6.
    for i in 0..5 {
        events.push(ConnEvent::new(Timestamp::from_secs(600 * i), "10.0.0.9", "192.0.2.1").with_dst_port(22));
    }
    let set = group(&events);
    let ranker = Ranker::builder().allowlist(Allowlist::new()).top(3).build().unwrap();
    let ranked = ranker.score_and_rank(&set, &AnalyzerConfig::default());
    assert_eq!(ranked.len(), 6, "the 5-event series is left out");
    for w in ranked.entries().windows(2) {
        let (a, b) = (&w[0], &w[1]);
        assert!(
            a.rank_score > b.rank_score || (a.rank_score == b.rank_score && a.report.events >= b.report.events),
            "out of order"
        );
    }
    assert_eq!(ranked.top().count(), 3);
    // Reports given by the caller: too-short series and unknown indices are left out too.
    let mut reports = score_set(&set, &AnalyzerConfig::default(), 1);
    let extra = reports[0].1;
    reports.push((set.len() + 7, extra));
    assert_eq!(ranker.rank(&set, reports).len(), 6);
    // Every series with min_events 1.
    let all = Ranker::builder()
        .allowlist(Allowlist::new())
        .min_events(1)
        .build()
        .unwrap();
    assert_eq!(all.score_and_rank(&set, &AnalyzerConfig::default()).len(), 7);
}

#[test]
fn merged_lists_keep_rank_order_and_their_channel() {
    let a = group(&day("10.0.0.7", "203.0.113.50", "198.51.100.2"));
    let b = group(&day("10.0.0.8", "203.0.113.51", "198.51.100.3"));
    let ranker = Ranker::builder().allowlist(Allowlist::default_rules()).build().unwrap();
    let cfg = AnalyzerConfig::default();
    let mut ranked = ranker.score_and_rank(&a, &cfg);
    ranked.merge(ranker.rank_channel(Channel::Dns, &b, score_set(&b, &cfg, 6)));
    assert_eq!(ranked.len(), 6);
    assert_eq!(ranked.entries().iter().filter(|r| r.channel == Channel::Dns).count(), 3);
    for w in ranked.entries().windows(2) {
        assert!(w[0].rank_score >= w[1].rank_score);
    }
    assert_eq!(ranked.allowlist_summary().suppressed(), [("ntp", 2)]);
}

#[test]
fn settings_out_of_range_are_refused() {
    for t in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
        let err = Ranker::builder().threshold(t).build().unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Config { field: "threshold", .. }),
            "{t}: {err}"
        );
    }
    assert!(Ranker::builder().threshold(0.0).build().is_ok());
    assert!(Ranker::builder().threshold(1.0).build().is_ok());
}

/// The rule `hunt` applied before it moved into the library, written out naively: score ×
/// persistence within the source's observed time × any down-rank factor, sorted by that, ties
/// by events. The ranker must give the same list on a generated network.
#[test]
fn the_ranker_matches_the_rule_hunt_used_on_a_generated_network() {
    let scenario = Scenario::builder().hosts(30).days(2.0).seed(7).build();
    let text = scenario.to_zeek_tsv();
    let mut reader = ReadOptions::new().from_reader(std::io::Cursor::new(text)).unwrap();
    let mut grouper = Grouper::new(GroupBy::PairPort);
    reader.for_each(|ev| grouper.push(&ev)).unwrap();
    let set = grouper.finish();
    let cfg = AnalyzerConfig::default();
    let allow = Allowlist::default_rules();

    let observed = set.observed_seconds_by_source();
    let mut naive: Vec<(usize, f64, usize, Option<String>)> = Vec::new();
    for (i, r) in score_set(&set, &cfg, 6) {
        let key = set.get(i).unwrap().key();
        let mut score = r.score * persistence_over(&r, observed[key.source().unwrap()]);
        let mut suppressed = None;
        match allow
            .match_key(&key, None)
            .map(|rule| (rule.name().to_string(), rule.action()))
        {
            Some((_, Action::Downrank(f))) => score *= f,
            Some((name, Action::Suppress)) => suppressed = Some(name),
            None => {}
        }
        naive.push((i, score, r.events, suppressed));
    }
    naive.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.cmp(&a.2)));

    let ranked = Ranker::builder()
        .allowlist(allow)
        .build()
        .unwrap()
        .score_and_rank(&set, &cfg);
    let got: Vec<(usize, f64, usize, Option<String>)> = ranked
        .entries()
        .iter()
        .map(|r| {
            (
                r.series.index(),
                r.rank_score,
                r.report.events,
                r.suppressed_by().map(str::to_string),
            )
        })
        .collect();
    assert!(naive.len() > 100, "{} series", naive.len());
    assert!(
        naive.iter().any(|n| n.3.is_some()),
        "the scenario has suppressed series"
    );
    assert_eq!(got, naive);
}
