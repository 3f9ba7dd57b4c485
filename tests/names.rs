//! Beacons by name: the proxied RITA beacon (real Zeek logs), a beacon rotating over 20 CDN
//! addresses and a DNS tunnel (generated).

mod common;

use beaconstat::synth::NameLogs;
use beaconstat::{
    Analyzer, ConnEvent, GroupBy, Grouper, SeriesKey,
    allowlist::{Action, Allowlist},
    names::{DnsChannels, NameResolver, ResolveStats, ResolvedBy},
    read::{NameLogReader, NameRecord, ZeekReader},
};

/// Scores every series with at least 6 events that the default allowlist does not suppress
/// (IPv6 router advertisements, NTP, …), as `hunt` does: (score, period, key text, events),
/// best first.
fn ranked(grouper: Grouper) -> Vec<(f64, Option<f64>, String, usize)> {
    let set = grouper.finish();
    let allow = Allowlist::default_rules();
    let mut analyzer = Analyzer::default();
    let mut out: Vec<_> = set
        .iter()
        .filter(|s| s.len() >= 6)
        .filter(|s| {
            allow
                .match_key(&s.key(), None)
                .is_none_or(|r| r.action() != Action::Suppress)
        })
        .map(|s| {
            let r = analyzer.score_series(&s);
            (r.score, r.period.map(|p| p.as_secs_f64()), s.key().to_string(), s.len())
        })
        .collect();
    out.sort_by(|a, b| b.0.total_cmp(&a.0));
    out
}

fn resolver_from_text(logs: &[&str]) -> NameResolver {
    let mut b = NameResolver::builder();
    for l in logs {
        let mut r = NameLogReader::from_reader(l.as_bytes()).unwrap();
        r.for_each(|rec| b.add(&rec)).unwrap();
        assert_eq!(r.stats().skipped, 0, "{}", r.stats());
    }
    b.build()
}

/// Groups the connections of a conn.log by (src, name), falling back to (src, dst).
fn group_by_name(
    conn: &mut ZeekReader<impl std::io::Read>,
    resolver: &NameResolver,
    domain: bool,
) -> (Grouper, ResolveStats) {
    let mut g = Grouper::new(GroupBy::SrcName);
    let mut stats = ResolveStats::default();
    conn.for_each(|ev| {
        let res = resolver.resolve(&ev);
        stats.add(&res);
        let name = if domain { res.domain } else { res.name };
        let ev: ConnEvent<'_> = match name {
            Some(n) => ev.with_name(n),
            None => ev,
        };
        g.push(&ev);
    })
    .unwrap();
    (g, stats)
}

#[test]
fn rita_proxy_beacon_ranks_first_by_name() {
    let Some(dir) = common::data("rita_proxy") else { return };
    let mut b = NameResolver::builder();
    for log in ["dns.log", "ssl.log", "http.log"] {
        let mut r = NameLogReader::from_path(dir.join(log)).unwrap();
        r.for_each(|rec| b.add(&rec)).unwrap();
        assert_eq!(r.stats().skipped, 0, "{log}: {}", r.stats());
    }
    let resolver = b.build();
    assert!(
        resolver.index_stats().proxy_requests >= 407,
        "{:?}",
        resolver.index_stats()
    );

    // At the IP level the beacon is mixed with the google CONNECTs through the same proxy.
    let mut conn = ZeekReader::from_path(dir.join("conn.log")).unwrap();
    let mut pair = Grouper::new(GroupBy::Pair);
    conn.for_each(|ev| pair.push(&ev)).unwrap();
    let by_pair = ranked(pair);
    let proxy = by_pair.iter().find(|r| r.2 == "10.136.0.18 -> 10.136.0.16").unwrap();
    assert_eq!(proxy.3, 407);

    let mut conn = ZeekReader::from_path(dir.join("conn.log")).unwrap();
    let (g, stats) = group_by_name(&mut conn, &resolver, false);
    eprintln!("rita_proxy: {stats}");
    assert_eq!(stats.connections, 463);
    assert_eq!(stats.by_connect, 407, "{stats}");
    assert_eq!(stats.via_proxy, 407);
    let by_name = ranked(g);
    eprintln!("{:?}", &by_name[..by_name.len().min(4)]);
    let (score, period, key, events) = &by_name[0];
    assert_eq!(key, "10.136.0.18 -> www.honestimnotevil.com");
    assert_eq!(*events, 397);
    let period = period.unwrap();
    assert!((240.0..=260.0).contains(&period), "period {period}");
    assert!(*score >= 0.8, "score {score}");
    // The google CONNECTs are their own (non-beacon) series now.
    assert!(!by_name.iter().any(|r| r.2.contains("10.136.0.16") && r.3 > 100));

    // One of the beacon's connections, resolved.
    let ev = ConnEvent::new(beaconstat::Timestamp::from_secs(0), "10.136.0.18", "10.136.0.16")
        .with_uid("CQvy4K28GaAXCSQdrb");
    let r = resolver.resolve(&ev);
    assert_eq!(
        (r.name, r.domain, r.how, r.via_proxy),
        (
            Some("www.honestimnotevil.com"),
            Some("honestimnotevil.com"),
            ResolvedBy::ConnectHost,
            true
        )
    );
}

#[test]
fn cdn_rotating_beacon_is_invisible_by_pair_and_found_by_name() {
    let logs = NameLogs::builder().build();
    let t = &logs.truth;
    let resolver = resolver_from_text(&[&logs.dns, &logs.ssl]);

    let mut conn = ZeekReader::from_reader(logs.conn.as_bytes()).unwrap();
    let mut pair = Grouper::new(GroupBy::Pair);
    conn.for_each(|ev| pair.push(&ev)).unwrap();
    let by_pair = ranked(pair);
    let best_pair = by_pair
        .iter()
        .filter(|r| r.2.starts_with(&format!("{} ", t.beacon_src)))
        .map(|r| r.0)
        .fold(0.0, f64::max);
    eprintln!(
        "best pair score of the beacon host: {best_pair:.3}; top pair {:?}",
        by_pair.first()
    );
    assert!(
        best_pair < 0.5,
        "a single pair already looks like a beacon ({best_pair})"
    );

    for domain in [false, true] {
        let mut conn = ZeekReader::from_reader(logs.conn.as_bytes()).unwrap();
        let (g, stats) = group_by_name(&mut conn, &resolver, domain);
        eprintln!("generated: {stats}");
        assert!(stats.by_dns > 0 && stats.by_uid > 0);
        assert!(stats.named() as f64 >= 0.95 * stats.connections as f64, "{stats}");
        let by_name = ranked(g);
        let want = if domain { "cdn-sync.net" } else { t.beacon_name.as_str() };
        let (score, period, key, _) = &by_name[0];
        assert_eq!(key, &format!("{} -> {want}", t.beacon_src), "{:?}", &by_name[..3]);
        assert!(*score >= 0.5, "score {score}");
        let period = period.unwrap();
        assert!((period / t.beacon_period_s - 1.0).abs() < 0.05, "period {period}");
        assert!(by_name.get(1).is_none_or(|r| r.0 < 0.5), "{:?}", by_name.get(1));
    }
}

#[test]
fn dns_tunnel_is_flagged_and_benign_lookups_are_not() {
    let logs = NameLogs::builder().build();
    let t = &logs.truth;
    let mut ch = DnsChannels::new();
    let mut r = NameLogReader::from_reader(logs.dns.as_bytes()).unwrap();
    r.for_each(|rec| {
        if let NameRecord::Dns(d) = rec {
            ch.push(&d)
        }
    })
    .unwrap();
    let set = ch.finish();
    let mut analyzer = Analyzer::default();
    let mut flagged = Vec::new();
    for s in set.series().iter().filter(|s| s.len() >= 6) {
        let ev = set.evidence(&s.key()).copied().unwrap();
        if ev.tunnel_like() {
            flagged.push((s.key().to_string(), analyzer.score_series(&s).score, ev));
        }
    }
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    let (key, score, ev) = &flagged[0];
    assert_eq!(key, &format!("{} -> {}", t.tunnel_src, t.tunnel_domain));
    assert!(*score >= 0.5, "tunnel score {score}");
    assert!(ev.mean_entropy > 4.0 && ev.subdomains == ev.queries, "{ev:?}");
    // The hourly time lookup is periodic, but one name: a beacon-like series, not a tunnel.
    let k = SeriesKey::empty()
        .with_src(&t.periodic_lookup_src)
        .with_name("example.com");
    let ev = set.evidence(&k).unwrap();
    assert_eq!(ev.subdomains, 1);
    assert!(!ev.tunnel_like());
}
