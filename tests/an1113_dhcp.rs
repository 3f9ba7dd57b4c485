//! The host-level join through DHCP leases: an address leased to one host and then another
//! is each host's in turn, so beacons during each lease are joined to the right host (by host
//! identity: case, short name ↔ FQDN); a source no lease covers is reported unmapped, with
//! why, in coverage.

use beaconstat::an1113::{An1113Builder, An1113Finding, An1113Report, JoinBasis};
use beaconstat::read::DhcpLogReader;
use beaconstat::winevent::WinRecord;
use beaconstat::{ConnEvent, Timestamp};

/// 2024-01-01 00:00:00 UTC.
const DAY: i64 = 1_704_067_200;

fn at(h: i64, m: i64) -> i64 {
    DAY + h * 3600 + m * 60
}

/// A Sysmon 1 on `host`, so that it is a Windows host of the data.
fn sysmon1(host: &str, pid: u32) -> String {
    format!(
        r#"{{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"{host}","UtcTime":"2024-01-01 08:00:00.000","ProcessGuid":"{{p{pid}}}","ProcessId":"{pid}","Image":"C:\\Windows\\explorer.exe","CommandLine":"explorer.exe","ParentImage":"C:\\Windows\\System32\\userinit.exe"}}"#
    )
}

/// A modern-layout JSON lease of `addr` to `name` at `ts` for `secs`.
fn lease(ts: i64, addr: &str, mac: &str, name: Option<&str>, secs: f64) -> String {
    format!(
        r#"{{"ts":{ts}.0,"uids":["C{ts}"],"mac":"{mac}","host_name":{},"assigned_addr":"{addr}","lease_time":{secs},"msg_types":["REQUEST","ACK"]}}"#,
        name.map_or("null".to_owned(), |n| format!("\"{n}\""))
    )
}

/// Every 300 s (± a few seconds) from `from` to before `to`.
fn beacon(src: &str, dst: &str, from: i64, to: i64) -> Vec<(i64, String, String)> {
    (0..)
        .map(|i| from + i * 300 + (i * 7919 % 5))
        .take_while(|&t| t < to)
        .map(|t| (t, src.to_owned(), dst.to_owned()))
        .collect()
}

fn run(windows: &[String], dhcp: &[String], flows: &[(i64, String, String)], known: &[(&str, &str)]) -> An1113Report {
    let mut b = An1113Builder::new();
    for (a, n) in known {
        b.known_host(a, n);
    }
    let file = b.file("windows.json");
    let mut rec = WinRecord::new();
    for l in windows {
        rec.parse_str(l).unwrap();
        b.push_record(&rec, file);
    }
    if !dhcp.is_empty() {
        let file = b.file("dhcp.log");
        let text = dhcp.join("\n");
        let mut r = DhcpLogReader::from_reader(text.as_bytes()).unwrap();
        r.for_each(|d| b.push_dhcp(&d, file)).unwrap();
        assert_eq!(r.stats().skipped, 0, "{}", r.stats());
    }
    let conn = b.file("conn.log");
    for (i, (t, s, d)) in flows.iter().enumerate() {
        b.push_conn(
            &ConnEvent::new(Timestamp::from_secs(*t), s, d).with_dst_port(443),
            conn,
            Some(i as u64 + 1),
        );
    }
    b.build()
}

fn to<'r>(r: &'r An1113Report, dst: &str) -> Vec<&'r An1113Finding> {
    let mut v: Vec<_> = r.findings.iter().filter(|f| f.destination.addr == dst).collect();
    v.sort_by_key(|f| f.checkins[0]);
    v
}

/// 10.0.0.50 is WSA's from 09:55 (a day's lease, ended by the next lease of the address),
/// then WSB's from 12:58; one beacon runs through both: two findings, each on its host.
#[test]
fn an_address_leased_to_two_hosts_in_turn_joins_each_beacon_to_its_host() {
    let windows = [sysmon1("WSA", 100), sysmon1("wsb.corp.example", 200)];
    // The leases name the hosts otherwise than their Windows logs: FQDN and short name.
    let dhcp = [
        lease(
            at(9, 55),
            "10.0.0.50",
            "00:50:56:00:00:0a",
            Some("wsa.corp.example"),
            86400.0,
        ),
        lease(at(12, 58), "10.0.0.50", "00:50:56:00:00:0b", Some("WSB"), 86400.0),
    ];
    let flows = beacon("10.0.0.50", "203.0.113.80", at(10, 0), at(16, 0));
    let r = run(&windows, &dhcp, &flows, &[]);
    let f = to(&r, "203.0.113.80");
    assert_eq!(f.len(), 2, "{:#?}", r.findings);
    let (a, b) = (f[0], f[1]);
    assert_eq!((a.host.as_str(), b.host.as_str()), ("WSA", "wsb.corp.example"));
    assert_eq!((a.src.as_str(), b.src.as_str()), ("10.0.0.50", "10.0.0.50"));
    assert_eq!((a.join, b.join), (JoinBasis::HostAndTime, JoinBasis::HostAndTime));
    let switch = Timestamp::from_secs(at(12, 58));
    assert!(a.checkins.iter().all(|&t| t < switch), "{:?}", a.checkins);
    assert!(b.checkins.iter().all(|&t| t >= switch), "{:?}", b.checkins);
    assert_eq!(a.checkins.len() + b.checkins.len(), flows.len());
    assert_eq!((a.checkins.len(), b.checkins.len()), (36, 36));
    let (ma, mb) = (
        a.address_mapping.as_deref().unwrap(),
        b.address_mapping.as_deref().unwrap(),
    );
    assert!(
        ma.starts_with("10.0.0.50 was WSA by its DHCP lease of 2024-01-01T09:55:00"),
        "{ma}"
    );
    assert!(
        ma.contains("(MAC 00:50:56:00:00:0a)") && ma.contains("until the address's next lease at 2024-01-01T12:58:00"),
        "{ma}"
    );
    assert!(ma.ends_with("dhcp.log line 1"), "{ma}");
    assert!(
        mb.starts_with("10.0.0.50 was wsb.corp.example by its DHCP lease of 2024-01-01T12:58:00"),
        "{mb}"
    );
    assert!(
        mb.contains("for its lease time, until 2024-01-02T12:58:00") && mb.ends_with("dhcp.log line 2"),
        "{mb}"
    );
    // Coverage: each host has the address and its own connections.
    let cov = |h: &str| r.coverage.iter().find(|c| c.host == h).unwrap();
    assert_eq!(cov("WSA").addresses, ["10.0.0.50"]);
    assert_eq!(cov("WSA").telemetry.host_level, 36);
    assert_eq!(cov("wsb.corp.example").telemetry.host_level, 36);
    assert!(!r.coverage.iter().any(|c| c.host == "10.0.0.50"), "{:?}", r.coverage);

    // A caller's known_host is valid at all times and wins over the leases: one series.
    let r = run(&windows, &dhcp, &flows, &[("10.0.0.50", "WSB")]);
    let f = to(&r, "203.0.113.80");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].host, "wsb.corp.example");
    assert_eq!(
        f[0].address_mapping.as_deref(),
        Some("10.0.0.50 is wsb.corp.example: given by the caller (known_host)")
    );
}

/// A lease that has run out, a release, an address with no lease, a lease without a name, no
/// DHCP log at all: each source is reported unmapped in coverage, with why.
#[test]
fn sources_no_lease_names_are_unmapped_with_the_reason() {
    let windows = [sysmon1("WSA", 100)];
    let dhcp = [
        // 10.0.0.50: a two-hour lease from 09:55; its beacon runs on past 11:55.
        lease(at(9, 55), "10.0.0.50", "00:50:56:00:00:0a", Some("WSA"), 7200.0),
        // 10.0.0.88: a lease without a host name (as a Zeek 2.x dhcp.log gives).
        lease(at(9, 0), "10.0.0.88", "00:50:56:00:00:88", None, 86400.0),
    ];
    let mut flows = beacon("10.0.0.50", "203.0.113.80", at(10, 0), at(14, 0));
    flows.extend(beacon("10.0.0.77", "203.0.113.81", at(10, 0), at(13, 0)));
    flows.extend(beacon("10.0.0.88", "203.0.113.82", at(10, 0), at(13, 0)));
    let r = run(&windows, &dhcp, &flows, &[]);

    let f = to(&r, "203.0.113.80");
    assert_eq!(f.len(), 2, "{:#?}", r.findings);
    assert_eq!((f[0].host.as_str(), f[1].host.as_str()), ("WSA", "10.0.0.50"));
    assert!(f[0].checkins.iter().all(|&t| t < Timestamp::from_secs(at(11, 55))));
    assert_eq!((f[0].checkins.len(), f[1].checkins.len()), (23, 25));
    assert_eq!(
        f[1].address_mapping.as_deref(),
        Some("10.0.0.50 maps to no host: no DHCP lease of this address covers the time of its connections")
    );
    let spot = |h: &str| {
        let c = r
            .coverage
            .iter()
            .find(|c| c.host == h)
            .unwrap_or_else(|| panic!("{h}: {:?}", r.coverage));
        assert_eq!(c.blind_spots[0].code, "no_host_name");
        assert!(!c.an1113.possible);
        (
            c.telemetry.host_level,
            c.blind_spots[0].what.clone(),
            c.blind_spots[0].fix.clone(),
        )
    };
    let (n, what, _) = spot("10.0.0.50");
    assert_eq!(n, 25);
    assert!(
        what.ends_with("no DHCP lease of this address covers the time of its connections"),
        "{what}"
    );
    let (n, what, fix) = spot("10.0.0.77");
    assert_eq!(n, 36);
    assert_eq!(
        what,
        "10.0.0.77: seen only in host-level network data; no host is known for this address: the DHCP logs read have no lease of this address"
    );
    assert!(fix.contains("known_host"), "{fix}");
    let (_, what, fix) = spot("10.0.0.88");
    assert!(what.ends_with("its DHCP lease (MAC 00:50:56:00:00:88) names no host, nor does any lease of that MAC (a Zeek 2.x dhcp.log, or a client that sent no host name)"), "{what}");
    assert!(fix.contains("host_name"), "{fix}");
    assert_eq!(
        to(&r, "203.0.113.82")[0].address_mapping.as_deref(),
        Some(
            "10.0.0.88 maps to no host: its DHCP lease (MAC 00:50:56:00:00:88) names no host, nor does any lease of that MAC (a Zeek 2.x dhcp.log, or a client that sent no host name)"
        )
    );

    // Without any DHCP log, the reason is that.
    let r = run(&windows, &[], &flows, &[]);
    let c = r.coverage.iter().find(|c| c.host == "10.0.0.77").unwrap();
    assert!(
        c.blind_spots[0]
            .what
            .ends_with("no DHCP log was read, and no Windows telemetry or known_host names this address"),
        "{:?}",
        c.blind_spots
    );
}

/// A host named only by its DHCP lease (no Windows telemetry from it): its findings and
/// coverage carry its name, not its address.
#[test]
fn a_host_named_only_by_dhcp_keeps_its_name() {
    let dhcp = [lease(
        at(9, 0),
        "10.0.0.60",
        "00:50:56:00:00:60",
        Some("printer-3"),
        86400.0,
    )];
    let flows = beacon("10.0.0.60", "203.0.113.90", at(10, 0), at(13, 0));
    let r = run(&[], &dhcp, &flows, &[]);
    let f = to(&r, "203.0.113.90");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].host, "printer-3");
    let c = r.coverage.iter().find(|c| c.host == "printer-3").unwrap();
    assert_eq!(c.addresses, ["10.0.0.60"]);
    assert_eq!(c.telemetry.host_level, 36);
    assert_eq!(c.blind_spots[0].code, "no_windows_telemetry");
}

/// A DHCP-only host renews its lease under another spelling (`ws07`, then
/// `WS07.corp.example`) and once without any name: its beacon stays one series on one host,
/// known by its FQDN, and the nameless renewal says whose name it took.
#[test]
fn a_hosts_renewals_under_other_spellings_or_no_name_stay_one_host() {
    let mac = "00:50:56:00:00:07";
    let dhcp = [
        lease(at(9, 0), "10.0.0.70", mac, Some("ws07"), 3600.0),
        lease(at(10, 0), "10.0.0.70", mac, Some("WS07.corp.example"), 3600.0),
        lease(at(11, 0), "10.0.0.70", mac, None, 3600.0),
        // The same host on a second address, short name: one source in fan-in, not two.
        lease(at(9, 0), "10.0.0.71", mac, Some("WS07"), 86400.0),
    ];
    let mut flows = beacon("10.0.0.70", "203.0.113.70", at(9, 5), at(12, 0));
    flows.extend(beacon("10.0.0.71", "203.0.113.70", at(9, 7), at(12, 0)));
    let r = run(&[], &dhcp, &flows, &[]);
    let f = to(&r, "203.0.113.70");
    let on70: Vec<_> = f.iter().filter(|f| f.src == "10.0.0.70").collect();
    assert_eq!(on70.len(), 1, "{:#?}", r.findings);
    let a = on70[0];
    assert_eq!(a.host, "WS07.corp.example");
    assert_eq!(a.checkins.len(), 35, "{:?}", a.checkins);
    // Both addresses are one host reaching the destination.
    assert_eq!(a.prevalence, 1);
    assert!(f.iter().all(|f| f.host == "WS07.corp.example"), "{f:#?}");
    // Coverage: one DHCP-named host, with both addresses.
    let named: Vec<_> = r
        .coverage
        .iter()
        .filter(|c| c.host.eq_ignore_ascii_case("ws07.corp.example") || c.host.eq_ignore_ascii_case("ws07"))
        .collect();
    assert_eq!(named.len(), 1, "{:?}", r.coverage);
    assert_eq!(named[0].host, "WS07.corp.example");
    assert!(
        !r.coverage.iter().any(|c| c.host.starts_with("10.0.0.7")),
        "{:?}",
        r.coverage
    );

    // A nameless renewal from another MAC names no one: its hour maps to no host, and says why.
    let mut dhcp2 = dhcp.clone();
    dhcp2[2] = lease(at(11, 0), "10.0.0.70", "00:50:56:00:00:99", None, 3600.0);
    let r = run(&[], &dhcp2, &flows, &[]);
    let f: Vec<_> = to(&r, "203.0.113.70")
        .into_iter()
        .filter(|f| f.src == "10.0.0.70")
        .collect();
    assert_eq!(f.len(), 2, "{:#?}", r.findings);
    assert_eq!(
        (f[0].host.as_str(), f[1].host.as_str()),
        ("WS07.corp.example", "10.0.0.70")
    );
    assert!(
        f[1].address_mapping
            .as_deref()
            .unwrap()
            .contains("(MAC 00:50:56:00:00:99) names no host, nor does any lease of that MAC")
    );
}

/// The nameless renewal's mapping names the lease that gave its name, with its line.
#[test]
fn a_nameless_lease_says_which_lease_of_its_mac_named_it() {
    let mac = "00:50:56:00:00:08";
    let windows = [sysmon1("WS08", 800)];
    let dhcp = [
        lease(at(9, 0), "10.0.0.80", mac, Some("ws08.corp.example"), 3600.0),
        lease(at(10, 0), "10.0.0.80", mac, None, 86400.0),
    ];
    let flows = beacon("10.0.0.80", "203.0.113.88", at(10, 1), at(13, 0));
    let r = run(&windows, &dhcp, &flows, &[]);
    let f = to(&r, "203.0.113.88");
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_eq!(f[0].host, "WS08");
    assert_eq!(f[0].checkins.len(), 36);
    assert_eq!(
        f[0].address_mapping.as_deref(),
        Some(
            "10.0.0.80 was WS08 by its DHCP lease of 2024-01-01T10:00:00.000000Z (MAC 00:50:56:00:00:08), for its lease time, until 2024-01-02T10:00:00.000000Z; dhcp.log line 2; that lease names no host, its MAC's lease of 2024-01-01T09:00:00.000000Z does; dhcp.log line 1"
        )
    );
    let c = r.coverage.iter().find(|c| c.host == "WS08").unwrap();
    assert_eq!(c.addresses, ["10.0.0.80"]);
    assert_eq!(c.telemetry.host_level, 36);
}
