//! The default allowlist on real logs: reader → grouper (src, dst, dst_port) → allowlist.
//! Expected counts come from classifying the distinct (src, dst, port) triples of each file by
//! hand (see SOURCE.md in each folder). Skipped when ../shared/data is absent.

mod common;

use beaconstat::{
    GroupBy, Grouper, SeriesKey,
    allowlist::{Allowlist, AllowlistSummary},
    read::ZeekReader,
};
use std::path::PathBuf;

fn data_dir() -> Option<PathBuf> {
    common::data("")
}

/// Groups a log by (src, dst, dst_port) and runs the default allowlist over the series.
fn summarise(path: PathBuf) -> (usize, AllowlistSummary, Vec<String>) {
    let mut g = Grouper::new(GroupBy::PairPort);
    let mut r = ZeekReader::builder().strict(true).from_path(path).unwrap();
    r.for_each(|e| g.push(&e)).unwrap();
    let set = g.finish();
    let list = Allowlist::default_rules();
    let mut summary = AllowlistSummary::new();
    let mut kept = Vec::new();
    for s in set.iter() {
        if list.check(&s.key(), None, &mut summary).is_none() {
            kept.push(s.key().to_string());
        }
    }
    (set.len(), summary, kept)
}

#[test]
fn honeypot_ntp_dhcp_and_multicast_are_allowlisted() {
    let Some(d) = data_dir() else { return };
    let (n, summary, _) = summarise(d.join("iot23/CTU-Honeypot-Capture-4-1/conn.log.labeled"));
    assert_eq!(n, 16);
    assert_eq!(
        summary.to_string(),
        "6 periodic pairs suppressed by allowlist: ntp 4, dhcp 1, local-discovery 1"
    );
}

#[test]
fn mirai_c2_is_not_allowlisted_but_its_ntp_is() {
    let Some(d) = data_dir() else { return };
    let (n, summary, kept) = summarise(d.join("iot23/CTU-IoT-Malware-Capture-34-1/conn.log.labeled"));
    assert_eq!(n, 52);
    assert_eq!(summary.suppressed(), [("ntp", 40), ("dhcp", 1)]);
    assert_eq!(summary.downranked_total(), 0);
    assert!(
        kept.contains(&"192.168.1.195 -> 185.244.25.235:6667".to_owned()),
        "{kept:?}"
    );
}

#[test]
fn rita_proxy_beacon_survives_ipv6_multicast_does_not() {
    let Some(d) = data_dir() else { return };
    let (n, summary, kept) = summarise(d.join("rita_proxy/conn.log"));
    assert_eq!(n, 3);
    assert_eq!(summary.suppressed(), [("local-discovery", 2)]);
    assert_eq!(kept, ["10.136.0.18 -> 10.136.0.16:3128"]);
    // The same key with a proxy-visible name is not touched by the default rules either.
    let k = SeriesKey::pair("10.136.0.18", "10.136.0.16").with_name("www.honestimnotevil.com");
    assert!(Allowlist::default_rules().match_key(&k, None).is_none());
}
