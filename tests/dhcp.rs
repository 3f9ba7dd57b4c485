//! The Zeek `dhcp.log` reader: the real legacy-layout log of `../shared/data/rita_proxy`
//! read to exact field values, and property tests (no panics on arbitrary bytes, every record
//! handed out or counted as skipped).

use beaconstat::read::{DhcpLayout, DhcpLogReader};
use proptest::prelude::*;

mod common;
use common::exercised::check_exercised;
use common::lines::{fixture_or_noise, joined};

/// One record's fields as text, for comparing whole records.
fn fields(d: &beaconstat::read::DhcpRecord<'_>) -> String {
    format!(
        "{} {:?} {} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {}",
        d.line,
        d.layout,
        d.ts.as_micros(),
        d.uids.iter().collect::<Vec<_>>().join(","),
        d.client_addr,
        d.server_addr,
        d.mac,
        d.assigned_addr,
        d.lease_time.map(|t| t.as_micros()),
        d.trans_id,
        d.name(),
        d.leased_addr(),
        d.msg_types.is_empty()
    )
}

/// RITA's proxy capture ships a Zeek 2.x `dhcp.log` (the legacy layout: one record per
/// `DHCPACK`, `assigned_ip`, `trans_id`, no host names): 57 renewals of one address by one
/// MAC, each with a lease time of 0 (not known), so it gives address ↔ MAC leases only.
#[test]
fn rita_proxy_legacy_dhcp_log() {
    let Some(d) = common::data("rita_proxy") else { return };
    let mut r = DhcpLogReader::from_path(d.join("dhcp.log")).unwrap();
    let mut got = Vec::new();
    r.for_each(|rec| got.push(fields(&rec))).unwrap();
    let st = r.stats();
    assert_eq!((st.records, st.events, st.skipped), (57, 57, 0), "{st}");
    assert_eq!(got.len(), 57);
    assert_eq!(
        got[0],
        r#"9 Legacy 1610645141523272 C35eXU203XxSNS5h53 Some("192.168.0.15") Some("192.168.0.1") Some("f4:8e:38:8b:b6:03") Some("192.168.0.15") Some(0) Some(39335247) None Some("192.168.0.15") true"#
    );
    assert_eq!(
        got[1],
        r#"10 Legacy 1610645325672399 Cuovs1306uuK3MzWP Some("192.168.0.15") Some("192.168.0.1") Some("f4:8e:38:8b:b6:03") Some("192.168.0.15") Some(0) Some(3332180448) None Some("192.168.0.15") true"#
    );
    assert_eq!(
        got[56],
        r#"65 Legacy 1610658339016596 CDaOKK3VRylWfxxsJi Some("192.168.0.15") Some("192.168.0.1") Some("f4:8e:38:8b:b6:03") Some("192.168.0.15") Some(0) Some(1993129951) None Some("192.168.0.15") true"#
    );
    // Every record: the same address and MAC, no name, lease time 0.
    assert!(got.iter().all(
        |g| g.contains(r#"Some("f4:8e:38:8b:b6:03") Some("192.168.0.15") Some(0)"#)
            && g.contains(" None Some(\"192.168.0.15\")")
    ));
    let mut r = DhcpLogReader::from_path(d.join("dhcp.log")).unwrap();
    let first = r.next_record().unwrap().unwrap();
    assert_eq!(first.layout, DhcpLayout::Legacy);
    assert_eq!(first.ts.to_string(), "2021-01-14T17:25:41.523272Z");
}

const TSV_LINES: &[&[u8]] = &[
    b"#separator \\x09",
    b"#set_separator\t,",
    b"#path\tdhcp",
    b"#path\tconn",
    b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmac\tassigned_ip\tlease_time\ttrans_id",
    b"#fields\tts\tuids\tclient_addr\tserver_addr\tmac\thost_name\tclient_fqdn\tdomain\trequested_addr\tassigned_addr\tlease_time\tclient_message\tserver_message\tmsg_types\tduration",
    b"1.5\tC1\t10.0.0.9\t68\t10.0.0.1\t67\taa:bb:cc:dd:ee:ff\t10.0.0.9\t3600.0\t7",
    b"1.5\tC1,C2\t-\t10.0.0.1\taa:bb\tws1\t-\t-\t-\t10.0.0.9\t60\t-\t-\tREQUEST,ACK\t0.1",
    b"2\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\tRELEASE\t-",
];

fn line() -> impl Strategy<Value = Vec<u8>> {
    fixture_or_noise(TSV_LINES, "[0-9.\\t a-z:,(\\-)]{0,60}")
}

const JSON_LINES: &[&[u8]] = &[
    br#"{"ts":1,"uids":["C1"],"mac":"m","host_name":"ws","assigned_addr":"10.0.0.2","lease_time":60.0,"msg_types":["ACK"]}"#,
    br#"{"ts":1,"uid":"C1","id.orig_h":"a","mac":"m","assigned_ip":"10.0.0.2","lease_time":0.0,"trans_id":9}"#,
    br#"{"ts":1,"assigned_addr":"x","msg_types":"[,,\"\"]","lease_time":"-1"}"#,
];

fn json_line() -> impl Strategy<Value = Vec<u8>> {
    fixture_or_noise(JSON_LINES, "[{}\\[\\]\":,a-z0-9._ ]{0,60}")
}

/// Reads `input` every accessor deep and checks the accounting; `Ok(true)` when a record
/// was handed out.
fn check(input: &[u8]) -> Result<bool, TestCaseError> {
    let Ok(mut r) = DhcpLogReader::from_reader(input) else {
        return Ok(false);
    };
    let mut n = 0u64;
    r.for_each(|d| {
        n += 1;
        let _ = (
            fields(&d),
            d.is_release(),
            d.uids.iter().count(),
            d.msg_types.iter().count(),
        );
    })
    .unwrap();
    let st = r.stats();
    prop_assert_eq!(st.records, st.events + st.skipped);
    prop_assert_eq!(st.events, n);
    Ok(n > 0)
}

#[test]
fn arbitrary_bytes_never_panic() {
    proptest!(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() },
    |(bytes in proptest::collection::vec(any::<u8>(), 0..400))| {
        check(&bytes)?;
        let mut json = b"{\"ts\":1,\"assigned_addr\":\"a\"}\n".to_vec();
        json.extend_from_slice(&bytes);
        check(&json)?;
    });
}

#[test]
fn tsv_never_panics_and_accounts_for_every_record() {
    let strategy = proptest::collection::vec(line(), 0..12);
    check_exercised("tsv dhcp logs", 256, 12, strategy, |lines| check(&joined(b"", &lines)));
}

#[test]
fn json_never_panics_and_accounts_for_every_record() {
    let strategy = proptest::collection::vec(json_line(), 1..8);
    check_exercised("json dhcp logs", 256, 128, strategy, |lines| {
        check(&joined(
            br#"{"ts":0,"mac":"m","assigned_addr":"10.0.0.1","msg_types":["ACK"]}"#,
            &lines,
        ))
    });
}
