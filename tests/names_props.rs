//! Property tests for the name logs and the resolver: no panics on arbitrary input, every
//! record either handed out or counted as skipped, and the resolver agrees with a naive oracle.

use beaconstat::{
    ConnEvent, Interval, Timestamp,
    names::{NameResolver, ResolvedBy},
    read::{NameLogReader, NameRecord},
};
use proptest::prelude::*;

mod common;
use common::exercised::check_exercised;
use common::lines::{fixture_or_noise, joined};

const TSV_LINES: &[&[u8]] = &[
    b"#separator \\x09",
    b"#path\tdns",
    b"#path\thttp",
    b"#fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\tanswers\tTTLs",
    b"#fields\tts\tuid\tid.orig_h\tid.resp_h\tid.resp_p\tmethod\thost\turi",
    b"1.5\tC1\t10.0.0.1\t10.0.0.53\ta.example\t192.0.2.1,b.example\t30.0,x",
    b"1.5\tC1\t10.0.0.1\t10.0.0.8\t3128\tCONNECT\ta.example\t[::1]:",
    b"2\tC2\t10.0.0.1\t10.0.0.8\t99999\tGET\t-\thttp://@:/",
];

fn line() -> impl Strategy<Value = Vec<u8>> {
    fixture_or_noise(TSV_LINES, "[0-9.\\t a-z:,/\\[\\]-]{0,60}")
}

const JSON_LINES: &[&[u8]] = &[
    br#"{"ts":1,"uid":"C1","id.orig_h":"a","id.resp_h":"b","query":"x.example","answers":["1.2.3.4"],"TTLs":[1.0]}"#,
    br#"{"ts":1,"uid":"C1","id.orig_h":"a","id.resp_h":"b","server_name":"x.example"}"#,
    br#"{"ts":1,"id.orig_h":"a","id.resp_h":"b","query":"x","answers":"[,,\"\"]"}"#,
];

fn json_line() -> impl Strategy<Value = Vec<u8>> {
    fixture_or_noise(JSON_LINES, "[{}\\[\\]\":,a-z0-9. ]{0,60}")
}

/// Reads `input` and checks the accounting; `Ok(true)` when the reader accepted the input and
/// handed out at least one record (the case exercised the resolver, not only the header check).
fn check(input: &[u8]) -> Result<bool, TestCaseError> {
    let Ok(mut r) = NameLogReader::from_reader(input) else {
        return Ok(false);
    };
    let mut b = NameResolver::builder();
    let mut n = 0u64;
    r.for_each(|rec| {
        n += 1;
        b.add(&rec);
        if let NameRecord::Dns(d) = rec {
            for a in d.answers.iter() {
                let _ = (a.value, a.ttl);
            }
        }
    })
    .unwrap();
    let st = r.stats();
    prop_assert_eq!(st.records, st.events + st.skipped);
    prop_assert_eq!(st.events, n);
    let res = b.build();
    let _ = res.resolve(&ConnEvent::new(Timestamp::from_secs(1), "a", "b").with_uid("C1"));
    Ok(n > 0)
}

#[test]
fn tsv_never_panics_and_accounts_for_every_record() {
    let strategy = proptest::collection::vec(line(), 0..12);
    check_exercised("tsv name logs", 256, 12, strategy, |lines| check(&joined(b"", &lines)));
}

#[test]
fn json_never_panics_and_accounts_for_every_record() {
    let strategy = proptest::collection::vec(json_line(), 1..8);
    check_exercised("json name logs", 256, 128, strategy, |lines| {
        check(&joined(
            br#"{"ts":0,"id.orig_h":"a","id.resp_h":"b","query":"q.example"}"#,
            &lines,
        ))
    });
}

/// DNS resolution against a naive oracle: the latest answer at or before t for (src, ip),
/// valid while t <= ts + ttl + grace. Counts the cases in which some query was named, so an
/// oracle agreeing only on "unresolved" cannot pass.
#[test]
fn dns_resolution_matches_naive_oracle() {
    let strategy = (
        proptest::collection::vec((0u8..3, 0u8..4, 0i64..1000, 0i64..100, 0u8..5), 0..40),
        proptest::collection::vec((0u8..3, 0u8..4, 0i64..1200), 1..40),
        0i64..50,
    );
    check_exercised("dns oracle", 256, 100, strategy, |(answers, queries, grace)| {
        let mut named = false;
        let mut log = String::from("#path\tdns\n#fields\tts\tid.orig_h\tid.resp_h\tquery\tanswers\tTTLs\n");
        let mut sorted = answers.clone();
        sorted.sort_by_key(|a| a.2);
        for (s, ip, ts, ttl, name) in &sorted {
            log.push_str(&format!(
                "{ts}\t10.0.0.{s}\tdns\tn{name}.example\t192.0.2.{ip}\t{ttl}\n"
            ));
        }
        let mut b = NameResolver::builder();
        b.dns_grace(Interval::from_secs(grace));
        NameLogReader::from_reader(log.as_bytes())
            .unwrap()
            .for_each(|r| b.add(&r))
            .unwrap();
        let res = b.build();
        for (s, ip, t) in queries {
            let src = format!("10.0.0.{s}");
            let dst = format!("192.0.2.{ip}");
            let got = res.resolve(&ConnEvent::new(Timestamp::from_secs(t), &src, &dst));
            // Oracle: among answers for (s, ip) with ts <= t, the latest (ties: any of the
            // latest, so compare the set of acceptable names).
            let cands: Vec<_> = sorted.iter().filter(|a| a.0 == s && a.1 == ip && a.2 <= t).collect();
            let latest = cands.iter().map(|a| a.2).max();
            match latest {
                None => prop_assert_eq!(got.how, ResolvedBy::Unresolved),
                Some(lt) => {
                    let tied: Vec<_> = cands.iter().filter(|a| a.2 == lt).collect();
                    let valid: Vec<String> = tied
                        .iter()
                        .filter(|a| t <= a.2 + a.3 + grace)
                        .map(|a| format!("n{}.example", a.4))
                        .collect();
                    match got.name {
                        Some(n) => {
                            named = true;
                            prop_assert!(valid.iter().any(|v| v == n), "{n} not in {valid:?}")
                        }
                        None => {
                            // Unresolved only if the chosen latest answer had expired; with
                            // ties, the resolver keeps the one sorting last.
                            prop_assert!(got.how == ResolvedBy::Unresolved);
                            prop_assert!(valid.len() < tied.len() || valid.is_empty());
                        }
                    }
                }
            }
        }
        Ok(named)
    });
}
