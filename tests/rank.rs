//! The ranking stage in-process: persistence, allowlist suppression and down-ranking, order,
//! thresholds, minimum size, top-k and the recorded adjustments.

use beaconstat::rank::{AdjustmentKind, Channel, Direction, LocalNets, Persistence};
use beaconstat::synth::{BeaconSpec, Jitter, Scenario, ServerScenario};
use beaconstat::{
    Analyzer, AnalyzerConfig, ConnEvent, ErrorKind, GroupBy, Grouper, Interval, Ranked, RankedSeries, Ranker,
    ReadOptions, SeriesSet, Timestamp,
    allowlist::{Action, Allowlist, Rule},
    score_set,
};
use proptest::prelude::*;

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

/// The first entry (in rank order) of the series to `dst`; a panic naming `dst` if none.
fn to_dst<'r, 's>(ranked: &'r Ranked<'s>, dst: &str) -> &'r RankedSeries<'s> {
    ranked
        .entries()
        .iter()
        .find(|r| r.series.key().dst == Some(dst))
        .unwrap_or_else(|| panic!("no series to {dst}"))
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
    let find = |dst: &str| to_dst(&ranked, dst);
    let beacon = find("203.0.113.50");
    assert!(beacon.adjustments.is_empty(), "{:?}", beacon.adjustments);
    assert_eq!(beacon.rank_score, beacon.raw_score());
    assert_eq!(beacon.persistence(), 1.0);
    let burst = find("198.51.100.2");
    // 99 s of a 86 336 s day: share 0.00115, factor √(0.0115) ≈ 0.107.
    let [adj] = burst.adjustments.as_slice() else {
        panic!("{:?}", burst.adjustments)
    };
    let AdjustmentKind::Persistence {
        span_share,
        evidence_floor,
    } = adj.kind
    else {
        panic!("{adj:?}")
    };
    assert!((span_share - 99.0 / 86_336.0).abs() < 1e-9, "{span_share}");
    // A 1 s period is a burst: no evidence floor.
    assert_eq!(evidence_floor, 0.0);
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

/// The rule written out naively: beacon score × persistence (with its evidence floor) ×
/// fan-in (distinct sources on the destination's port, counted by brute force) or prevalence
/// (share of local sources reaching the destination) × any down-rank, sorted by that, ties by
/// events. The ranker must give the same list on a generated network.
#[test]
fn the_ranker_matches_the_rule_written_out_naively_on_a_generated_network() {
    let scenario = Scenario::builder().hosts(30).days(2.0).seed(7).build();
    let text = scenario.to_zeek_tsv();
    let mut reader = ReadOptions::new().from_reader(std::io::Cursor::new(text)).unwrap();
    let mut grouper = Grouper::new(GroupBy::PairPort);
    reader.for_each(|ev| grouper.push(&ev)).unwrap();
    let set = grouper.finish();
    let cfg = AnalyzerConfig::default();
    let allow = Allowlist::default_rules();
    let nets = LocalNets::new();

    let keys: Vec<_> = set.iter().map(|s| s.key()).collect();
    let local_total = {
        let mut l: Vec<&str> = keys
            .iter()
            .filter_map(|k| k.src)
            .filter(|s| nets.is_local(s) == Some(true))
            .collect();
        l.sort();
        l.dedup();
        l.len()
    };
    let observed = set.observed_seconds_by_source();
    let mut naive: Vec<(usize, f64, usize, Option<String>, Direction)> = Vec::new();
    let (mut fanned, mut prevalent) = (0, 0);
    for (i, r) in score_set(&set, &cfg, 6) {
        let key = set.get(i).unwrap().key();
        let mut score = r.score * Persistence::of(&r, observed[key.source().unwrap()]).factor;
        let mut port_sources: Vec<&str> = keys
            .iter()
            .filter(|k| k.dst == key.dst && k.dst_port == key.dst_port)
            .filter_map(|k| k.src)
            .collect();
        port_sources.sort();
        port_sources.dedup();
        let mut local_sources: Vec<&str> = keys
            .iter()
            .filter(|k| k.dst == key.dst)
            .filter_map(|k| k.src)
            .filter(|s| nets.is_local(s) == Some(true))
            .collect();
        local_sources.sort();
        local_sources.dedup();
        let share = local_sources.len() as f64 / local_total as f64;
        if port_sources.len() > 10 {
            score *= (10.0 / port_sources.len() as f64).sqrt();
            fanned += 1;
        } else if local_total >= 4 && share >= 0.5 {
            score *= 1.0 - share / 2.0;
            prevalent += 1;
        }
        let mut suppressed = None;
        match allow
            .match_key(&key, None)
            .map(|rule| (rule.name().to_string(), rule.action()))
        {
            Some((_, Action::Downrank(f))) => score *= f,
            Some((name, Action::Suppress)) => suppressed = Some(name),
            None => {}
        }
        naive.push((i, score, r.events, suppressed, nets.direction(&key)));
    }
    naive.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.cmp(&a.2)));

    let ranked = Ranker::builder()
        .allowlist(allow)
        .local_nets(nets)
        .build()
        .unwrap()
        .score_and_rank(&set, &cfg);
    let got: Vec<(usize, f64, usize, Option<String>, Direction)> = ranked
        .entries()
        .iter()
        .map(|r| {
            (
                r.series.index(),
                r.rank_score,
                r.report.events,
                r.suppressed_by().map(str::to_string),
                r.direction,
            )
        })
        .collect();
    assert!(naive.len() > 100, "{} series", naive.len());
    assert!(
        naive.iter().any(|n| n.3.is_some()),
        "the scenario has suppressed series"
    );
    assert!(fanned > 0 && prevalent == 0, "fan-in {fanned}, prevalence {prevalent}");
    assert!(naive.iter().any(|n| n.4 == Direction::Internal));
    assert!(naive.iter().any(|n| n.4 == Direction::Outbound));
    assert_eq!(got.len(), naive.len());
    for (g, n) in got.iter().zip(&naive) {
        assert_eq!((g.0, g.2, &g.3, g.4), (n.0, n.2, &n.3, n.4));
        assert!((g.1 - n.1).abs() < 1e-12, "{g:?} vs {n:?}");
    }
}

/// Prevalence, on a small site: a destination five of six hosts reach is shared
/// infrastructure, down-ranked with the reason in words; one host's own destination is not.
#[test]
fn a_destination_most_local_hosts_reach_is_downranked_as_prevalent() {
    let hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"];
    let mut events = Vec::new();
    for (h, src) in hosts.iter().enumerate() {
        for i in 0..200 {
            if h < 5 {
                events.push(
                    ConnEvent::new(Timestamp::from_secs(3600 * i + 7 * h as i64), src, "13.107.4.50")
                        .with_dst_port(443),
                );
            }
            events.push(ConnEvent::new(Timestamp::from_secs(3000 * i), src, "192.0.2.99").with_dst_port(53));
        }
    }
    for i in 0..200 {
        events.push(ConnEvent::new(Timestamp::from_secs(600 * i), "10.0.0.6", "203.0.113.66").with_dst_port(443));
    }
    let set = group(&events);
    let ranker = Ranker::builder().allowlist(Allowlist::new()).build().unwrap();
    let ranked = ranker.score_and_rank(&set, &AnalyzerConfig::default());
    let update = to_dst(&ranked, "13.107.4.50");
    let a = update
        .adjustments
        .iter()
        .find(|a| matches!(a.kind, AdjustmentKind::Prevalence { .. }))
        .unwrap();
    assert_eq!(
        a.kind,
        AdjustmentKind::Prevalence {
            local_sources: 5,
            local_total: 6
        }
    );
    assert!((a.factor - (1.0 - 5.0 / 12.0)).abs() < 1e-12);
    assert!(
        a.reason.starts_with("reached by 5 of 6 local hosts (83%)"),
        "{}",
        a.reason
    );
    assert_eq!(update.destination.local_share(), 5.0 / 6.0);
    // All six reach 192.0.2.99 (an external resolver): prevalent too.
    let own = to_dst(&ranked, "203.0.113.66");
    assert!(own.adjustments.is_empty(), "{:?}", own.adjustments);
    assert_eq!(own.destination.sources, 1);
    assert_eq!(own.direction, Direction::Outbound);
    assert_eq!(ranked.entries()[0].series.key().dst, Some("203.0.113.66"));
}

/// Issue 12, item 1: 15 check-ins every 60 s ±4% that ran for a quarter of an hour of a
/// two-day capture rank above a browsing-like series of 8 loose intervals; and persistence
/// never pushes a strongly significant, plausibly-timed beacon below weak noise.
#[test]
fn persistence_does_not_push_a_short_strong_beacon_below_weak_noise() {
    let mut rng = beaconstat::synth::Rng::new(12);
    let day2 = 2 * 86_400;
    let mut events = Vec::new();
    // The source is observed for two days (its DNS).
    for i in 0..(day2 / 900) {
        events.push(ConnEvent::new(Timestamp::from_secs(900 * i), "10.0.0.7", "10.0.0.2").with_dst_port(53));
    }
    let beacon = BeaconSpec::new(60.0, 15)
        .jitter(Jitter::Uniform(0.04))
        .generate(&mut rng, 40_000_000_000);
    for &t in &beacon {
        events.push(ConnEvent::new(Timestamp(t), "10.0.0.7", "203.0.113.5").with_dst_port(443));
    }
    let browsing = BeaconSpec::new(5_000.0, 9)
        .jitter(Jitter::Uniform(0.4))
        .generate(&mut rng, 1_000_000_000);
    for &t in &browsing {
        events.push(ConnEvent::new(Timestamp(t), "10.0.0.7", "198.51.100.20").with_dst_port(443));
    }
    let set = group(&events);
    let ranked = Ranker::builder()
        .allowlist(Allowlist::new())
        .min_events(6)
        .build()
        .unwrap()
        .score_and_rank(&set, &AnalyzerConfig::default());
    let find = |dst: &str| to_dst(&ranked, dst);
    let (b, w) = (find("203.0.113.5"), find("198.51.100.20"));
    assert!(b.report.p_value < 1e-4, "beacon p {}", b.report.p_value);
    assert!(
        w.report.p_value > b.report.p_value * 100.0,
        "noise p {}",
        w.report.p_value
    );
    assert!(
        b.rank_score > w.rank_score,
        "beacon {:.3} (raw {:.3}, {:?}) vs noise {:.3} (raw {:.3})",
        b.rank_score,
        b.raw_score(),
        b.adjustments,
        w.rank_score,
        w.raw_score()
    );
    let p = Persistence::of(&b.report, 2.0 * 86_400.0);
    assert!(p.span_factor < 0.25 && p.evidence_floor > p.span_factor, "{p:?}");
    assert!(
        b.adjustments[0].reason.contains("check-ins every"),
        "{}",
        b.adjustments[0].reason
    );
}

proptest! {
    /// Persistence is monotone in the evidence: more check-ins, a longer span or a smaller
    /// p-value never lower the factor; it stays in [0, 1]; bursts (period ≤ 2 s) get no floor.
    #[test]
    fn persistence_is_monotone_in_evidence(
        period in 0.05f64..20_000.0,
        beats in 3usize..5_000,
        extra_beats in 0usize..1_000,
        span_s in 1.0f64..200_000.0,
        extra_span in 0.0f64..100_000.0,
        decades in 0.0f64..40.0,
        extra_decades in 0.0f64..20.0,
        observed in 1.0f64..600_000.0,
    ) {
        let base = Analyzer::default().score(&(0..20).map(|i| i * 60_000_000).collect::<Vec<i64>>(), None);
        let report = |beats: usize, span: f64, decades: f64| {
            let mut r = base;
            r.period = Interval::from_secs_f64(period);
            r.beats = beats;
            r.first = Timestamp(0);
            r.last = Timestamp((span * 1e6) as i64);
            r.p_value = 10f64.powf(-decades);
            r
        };
        let p0 = Persistence::of(&report(beats, span_s, decades), observed);
        prop_assert!((0.0..=1.0).contains(&p0.factor));
        prop_assert!(p0.factor >= p0.span_factor && p0.factor >= p0.evidence_floor);
        if period <= 2.0 {
            prop_assert_eq!(p0.evidence_floor, 0.0);
        }
        for more in [
            report(beats + extra_beats, span_s, decades),
            report(beats, span_s + extra_span, decades),
            report(beats, span_s, decades + extra_decades),
        ] {
            prop_assert!(Persistence::of(&more, observed).factor >= p0.factor);
        }
    }
}

/// The internet-facing server (issue 16): hundreds of external sources brute-forcing SSH at
/// a steady pace, port scans, hourly re-scans, uptime probes, and one outbound HTTP beacon
/// every 200–350 s. The beacon is in the top 3 of the outbound view, the brute force is in the
/// inbound view, down-ranked by fan-in with the reason in words, and none of it reaches the
/// threshold or fills the list.
#[test]
fn the_planted_beacon_leads_outbound_on_an_internet_facing_server() {
    let scenario = ServerScenario::builder().build();
    let t = scenario.truth().clone();
    let mut grouper = Grouper::new(GroupBy::PairPort);
    let mut nets = LocalNets::new();
    scenario.for_each_event(|ev| {
        nets.observe(ev);
        grouper.push(ev);
    });
    assert_eq!(nets.marked(), 1, "Zeek marks only the server local");
    let set = grouper.finish();
    let ranker = Ranker::builder().local_nets(nets).build().unwrap();
    let ranked = ranker.score_and_rank(&set, &AnalyzerConfig::default());

    let outbound: Vec<_> = ranked.top_in(Direction::Outbound).collect();
    let pos = outbound
        .iter()
        .position(|r| {
            r.series.key().dst == Some(t.beacon_dst.as_str()) && r.series.key().dst_port == Some(t.beacon_port)
        })
        .expect("the beacon is in the outbound view");
    assert!(pos < 3, "beacon ranked {} of the outbound view", pos + 1);
    let beacon = outbound[pos];
    let period = beacon.report.period.unwrap().as_secs_f64();
    assert!((period / t.beacon_period_s - 1.0).abs() < 0.05, "period {period}");
    assert!(beacon.rank_score >= 0.5, "{}", beacon.rank_score);

    let is_brute =
        |r: &&RankedSeries<'_>| r.series.key().dst == Some(t.server.as_str()) && r.series.key().dst_port == Some(22);
    let brute: Vec<_> = ranked.entries().iter().filter(is_brute).collect();
    assert!(brute.len() > t.brute_forcers / 2, "{} brute-force series", brute.len());
    assert!(brute.iter().all(|r| r.direction == Direction::Inbound));
    // Regular enough to have ranked as beacons on score alone...
    let regular = brute.iter().filter(|r| r.raw_score() >= 0.5).count();
    assert!(regular > brute.len() / 2, "{regular} of {} regular", brute.len());
    // ...but down-ranked by fan-in, in words, and none reaches the threshold.
    for r in &brute {
        let a = r
            .adjustments
            .iter()
            .find(|a| matches!(a.kind, AdjustmentKind::FanIn { .. }))
            .unwrap();
        assert!(a.reason.starts_with("one of "), "{}", a.reason);
        assert!(
            a.reason.contains(&format!("sources hitting {}:22", t.server)),
            "{}",
            a.reason
        );
        assert!(r.rank_score < 0.5, "{} at {}", r.series.key(), r.rank_score);
    }
    // The list a hunter reads first (the top 15 overall) is not filled by it.
    let top_brute = ranked.top().filter(is_brute).count();
    assert!(top_brute <= 3, "{top_brute} brute-force series in the top 15");
    // Every direction is counted, none dropped.
    let counts = ranked.counts();
    assert_eq!(counts.iter().map(|c| c.1).sum::<usize>(), ranked.len());
    assert!(counts[1].1 > counts[0].1, "inbound {counts:?}");
    eprintln!(
        "server scenario: {} events, {} series, {counts:?}",
        scenario.len(),
        set.len()
    );
}

/// Zeek's `local_orig`/`local_resp` (TSV `T`/`F`, JSON booleans) reach the events, and a
/// `LocalNets` learns from them what the sensor calls local; `-` and other values say nothing.
#[test]
fn zeek_local_flags_are_read_and_learned() {
    let tsv = "#separator \\x09\n#unset_field\t-\n#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\tlocal_orig\tlocal_resp\n\
               1.0\t203.0.113.10\t8.8.8.8\t53\tT\tF\n\
               2.0\t45.1.2.3\t203.0.113.10\t22\tF\tT\n\
               3.0\t45.1.2.4\t203.0.113.11\t22\t-\t-\n";
    let json = "{\"ts\":1.0,\"id.orig_h\":\"203.0.113.20\",\"id.resp_h\":\"8.8.8.8\",\"local_orig\":true,\"local_resp\":false}\n\
                {\"ts\":2.0,\"id.orig_h\":\"45.1.2.3\",\"id.resp_h\":\"8.8.4.4\",\"local_orig\":\"T\"}\n";
    for (text, expected, local) in [
        (
            tsv,
            vec![(Some(true), Some(false)), (Some(false), Some(true)), (None, None)],
            "203.0.113.10",
        ),
        (json, vec![(Some(true), Some(false)), (None, None)], "203.0.113.20"),
    ] {
        let mut reader = ReadOptions::new()
            .from_reader(std::io::Cursor::new(text.to_string()))
            .unwrap();
        let mut nets = LocalNets::none();
        let mut got = Vec::new();
        reader
            .for_each(|ev| {
                nets.observe(&ev);
                got.push((ev.local_orig, ev.local_resp));
            })
            .unwrap();
        assert_eq!(got, expected);
        assert_eq!(reader.stats().skipped, 0);
        // One address marked local (the TSV marks it twice, as originator and responder).
        assert_eq!(nets.marked(), 1);
        assert_eq!(nets.is_local(local), Some(true));
        assert_eq!(nets.is_local("45.1.2.3"), Some(false));
    }
}
