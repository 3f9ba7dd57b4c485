//! Runs the examples as a user would and checks what they print against ground truth.
//! `cargo test` builds the examples next to the test binaries; a test that cannot find one
//! says so and passes (e.g. under `cargo test --lib`).

mod common;

use beaconstat::synth::{Scenario, TruthKind};
use std::path::Path;
use std::process::{Command, Output};

fn run(exe: &Path, args: &[&str]) -> Output {
    match Command::new(exe).args(args).output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run {}: {e}", exe.display()),
    }
}

/// The JSON rows of `hunt --json`, in output order (ranked).
fn hunt_json(args: &[&str]) -> Option<Vec<serde_json::Value>> {
    let exe = common::example("hunt")?;
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = run(&exe, &all);
    assert!(
        out.status.success(),
        "hunt failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("hunt prints UTF-8");
    Some(
        text.lines()
            .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
            .collect(),
    )
}

fn ranked(rows: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    rows.iter().filter(|r| r["suppressed_by"].is_null()).collect()
}

#[test]
fn hunt_finds_every_planted_beacon_first_in_the_bundled_network() {
    let Some(rows) = hunt_json(&[]) else { return };
    let scenario = Scenario::builder().build();
    let beacons: Vec<_> = scenario
        .truth()
        .iter()
        .filter(|t| matches!(t.kind, TruthKind::Beacon(_)))
        .collect();
    let top = ranked(&rows);
    for t in &beacons {
        let pos = top
            .iter()
            .position(|r| r["src"] == t.src.as_str() && r["dst"] == t.dst.as_str() && r["dst_port"] == t.dst_port);
        let pos = pos.unwrap_or_else(|| panic!("beacon {t:?} not reported"));
        assert!(
            pos < beacons.len(),
            "beacon {:?} ranked {} (expected in the top {})",
            t.kind,
            pos + 1,
            beacons.len()
        );
        let period = top[pos]["period_s"].as_f64().unwrap();
        assert!(
            (period / t.period_s - 1.0).abs() < 0.05,
            "{:?}: period {period} vs {}",
            t.kind,
            t.period_s
        );
        assert!(top[pos]["score"].as_f64().unwrap() >= 0.5);
    }
    // Every field the documented output promises is there.
    for field in [
        "src",
        "dst",
        "dst_port",
        "events",
        "score",
        "period_s",
        "jitter",
        "p_value",
        "first_ts",
        "last_ts",
        "suppressed_by",
        "subscores",
    ] {
        assert!(rows[0].get(field).is_some(), "missing field {field}");
    }
    // NTP and the monitoring collector are suppressed, not dropped.
    assert!(rows.iter().any(|r| r["suppressed_by"] == "ntp"));
    assert!(rows.iter().any(|r| r["suppressed_by"] == "site-monitoring"));
}

#[test]
fn hunt_ranks_the_proxied_rita_beacon_first() {
    let Some(log) = common::data("rita_proxy/conn.log") else {
        return;
    };
    let Some(rows) = hunt_json(&[log.to_str().unwrap()]) else {
        return;
    };
    let top = ranked(&rows);
    assert_eq!(
        (
            top[0]["src"].as_str(),
            top[0]["dst"].as_str(),
            top[0]["dst_port"].as_u64()
        ),
        (Some("10.136.0.18"), Some("10.136.0.16"), Some(3128))
    );
    let period = top[0]["period_s"].as_f64().unwrap();
    assert!((240.0..=260.0).contains(&period), "period {period}");
    assert_eq!(top[0]["events"], 407);
}

#[test]
fn hunt_groups_the_proxied_rita_beacon_by_its_connect_name() {
    let Some(dir) = common::data("rita_proxy") else {
        return;
    };
    // The directory: conn.log joined to http.log/ssl.log by uid, dns.log scored as DNS series.
    let Some(rows) = hunt_json(&[dir.to_str().unwrap(), "--group-by", "auto"]) else {
        return;
    };
    let top = ranked(&rows);
    let r = top[0];
    assert_eq!(r["src"], "10.136.0.18");
    assert_eq!(r["fqdn"], "www.honestimnotevil.com");
    assert_eq!(r["domain"], "honestimnotevil.com");
    assert_eq!(r["via_proxy"], true);
    assert_eq!(r["proxy"], "10.136.0.16:3128");
    assert_eq!(r["resolved_by"], "connect_host");
    assert_eq!(r["channel"], "conn");
    assert_eq!(r["events"], 397);
    let period = r["period_s"].as_f64().unwrap();
    assert!((240.0..=260.0).contains(&period), "period {period}");
    // The google CONNECTs through the same proxy are their own, non-beacon series.
    let google = rows
        .iter()
        .find(|r| r["fqdn"] == "www.google.com")
        .expect("google series");
    assert!(google["score"].as_f64().unwrap() < 0.5);
    // By domain, the same beacon.
    let Some(rows) = hunt_json(&[dir.to_str().unwrap(), "--group-by", "domain"]) else {
        return;
    };
    let top = ranked(&rows);
    assert_eq!(
        (top[0]["domain"].as_str(), top[0]["fqdn"].as_str()),
        (Some("honestimnotevil.com"), None)
    );
    // By pair, only the proxy is visible.
    let Some(rows) = hunt_json(&[dir.to_str().unwrap(), "--group-by", "pair"]) else {
        return;
    };
    let pair = ranked(&rows)
        .into_iter()
        .find(|r| r["channel"] == "conn")
        .expect("a conn series");
    assert_eq!(
        (pair["dst"].as_str(), pair["events"].as_u64()),
        (Some("10.136.0.16"), Some(407))
    );
}

#[test]
fn hunt_finds_the_cdn_beacon_by_name_and_the_dns_tunnel() {
    let Some(exe) = common::example("hunt") else { return };
    let logs = beaconstat::synth::NameLogs::builder().build();
    let dir = std::env::temp_dir().join(format!("beaconstat-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("conn.log"), &logs.conn).unwrap();
    std::fs::write(dir.join("dns.log"), &logs.dns).unwrap();
    std::fs::write(dir.join("ssl.log"), &logs.ssl).unwrap();
    let out = run(&exe, &["--json", dir.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let top = ranked(&rows);
    let t = &logs.truth;
    let conn: Vec<_> = top.iter().filter(|r| r["channel"] == "conn").collect();
    assert_eq!(conn[0]["src"], t.beacon_src.as_str());
    assert_eq!(conn[0]["fqdn"], t.beacon_name.as_str());
    assert_eq!(conn[0]["resolved_by"], "dns");
    assert_eq!(conn[0]["via_proxy"], false);
    let period = conn[0]["period_s"].as_f64().unwrap();
    assert!((period / t.beacon_period_s - 1.0).abs() < 0.05, "period {period}");
    let tunnel = top
        .iter()
        .find(|r| r["dns_tunnel_like"] == true)
        .expect("a tunnel-like DNS series");
    assert_eq!(
        (tunnel["src"].as_str(), tunnel["domain"].as_str()),
        (Some(t.tunnel_src.as_str()), Some(t.tunnel_domain.as_str()))
    );
    assert!(tunnel["score"].as_f64().unwrap() >= 0.5);
    assert!(tunnel["dns_subdomains"].as_u64().unwrap() > 500);
    assert_eq!(top.iter().filter(|r| r["dns_tunnel_like"] == true).count(), 1);
}

#[test]
fn hunt_ranks_real_c2_first_in_labelled_captures() {
    // Remcos reconnect loop (SOURCE.md: 719 labelled flows, ~0.5 s).
    if let Some(log) = common::data("ctu_sme11_remcos/conn.log.labeled")
        && let Some(rows) = hunt_json(&[log.to_str().unwrap()])
    {
        let top = ranked(&rows);
        assert_eq!(
            (top[0]["src"].as_str(), top[0]["dst"].as_str()),
            (Some("192.168.1.107"), Some("66.63.168.35"))
        );
        assert_eq!(top[0]["events"], 719);
    }
    // NjRAT C&C (237 attempts, ~11.5 s) within the top two, next to the RAT's own DNS lookups.
    if let Some(log) = common::data("stratosphere_sdt/001-zeek-scenario-malicious/conn.log")
        && let Some(rows) = hunt_json(&[log.to_str().unwrap()])
    {
        let top = ranked(&rows);
        let pos = top
            .iter()
            .position(|r| r["dst"] == "41.108.179.197" && r["dst_port"] == 1177)
            .expect("NjRAT C&C reported");
        assert!(pos < 2, "NjRAT C&C ranked {}", pos + 1);
        assert_eq!(top[pos]["events"], 237);
    }
}

#[test]
fn hunt_writes_pictures_and_fails_cleanly() {
    let Some(exe) = common::example("hunt") else { return };
    let dir = std::env::temp_dir().join(format!("beaconstat-svg-{}", std::process::id()));
    let out = run(&exe, &["--svg", dir.to_str().unwrap(), "--top", "3"]);
    assert!(out.status.success());
    let svgs: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).collect();
    assert_eq!(svgs.len(), 3);
    let first = std::fs::read_to_string(svgs[0].path()).unwrap();
    assert!(first.starts_with("<svg") && first.contains("periodogram"));
    let _ = std::fs::remove_dir_all(&dir);

    let out = run(&exe, &["/nonexistent/conn.log"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/conn.log"));
    let junk = std::env::temp_dir().join(format!("beaconstat-junk-{}.bin", std::process::id()));
    std::fs::write(&junk, [0u8, 159, 146, 150, 7, 7, 7]).unwrap();
    let out = run(&exe, &[junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_file(&junk);
    assert_eq!(run(&exe, &["--frobnicate"]).status.code(), Some(2));
}

#[test]
fn missing_inputs_say_no_such_file() {
    for name in ["hunt", "tasks"] {
        let Some(exe) = common::example(name) else { continue };
        let out = run(&exe, &["/nonexistent/conn.log"]);
        assert_ne!(out.status.code(), Some(0), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("/nonexistent/conn.log: no such file or directory"),
            "{name}: {err}"
        );
    }
}

/// `--help` exits 0 and prints, on stdout, every option with its default and a line of meaning;
/// every option it lists is one the parser accepts (given its default as the value).
#[test]
fn help_lists_every_option_with_its_default() {
    for (name, expected) in [
        (
            "hunt",
            &[
                "--json",
                "--parquet",
                "--svg",
                "--top",
                "--local-nets",
                "--min-events",
                "--threshold",
                "--allowlist",
                "--no-allowlist",
                "--group-by",
                "--dns-grace",
                "--dns-any-source",
                "--strict",
                "--threads",
                "--help",
            ][..],
        ),
        ("tasks", &["--json", "--threads", "--help"][..]),
    ] {
        let Some(exe) = common::example(name) else { continue };
        let out = run(&exe, &["--help"]);
        assert_eq!(out.status.code(), Some(0), "{name} --help");
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.starts_with(&format!("{name}: ")), "{help}");
        assert!(help.contains(&format!("Usage: {name} [OPTIONS]")), "{help}");
        // Option lines: `  --flag [VALUE]   meaning ... [default: X]` (the default may wrap).
        let mut options = Vec::new();
        let lines: Vec<&str> = help.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if !(line.starts_with("  -") && (t.starts_with("--") || t.starts_with("-h"))) {
                continue;
            }
            let flag = t.split([' ', ',']).find(|w| w.starts_with("--")).unwrap();
            let value = t
                .split_whitespace()
                .nth(1)
                .filter(|v| v.chars().all(|c| c.is_ascii_uppercase()));
            // The description and its continuation lines, up to the next option.
            let mut text = t.to_string();
            for next in &lines[i + 1..] {
                if next.trim_start().starts_with('-') || next.trim().is_empty() {
                    break;
                }
                text.push(' ');
                text.push_str(next.trim());
            }
            let words = text.split_whitespace().count();
            assert!(words >= 5, "{name} {flag}: no meaning given: {text:?}");
            if flag != "--help" {
                let default = text
                    .split("[default: ")
                    .nth(1)
                    .unwrap_or_else(|| panic!("{name} {flag}: no default: {text:?}"));
                let default = default.split([']', ';', ',']).next().unwrap().trim().to_string();
                options.push((flag.to_string(), value.map(|_| default)));
            }
            if flag == "--help" {
                options.push((flag.to_string(), None));
            }
        }
        let flags: Vec<&str> = options.iter().map(|o| o.0.as_str()).collect();
        assert_eq!(flags, expected, "{name}: options in the help");
        // Each option is accepted: with an unknown option after it, the error names the
        // unknown one (a rejected option would be named first).
        for (flag, default) in &options {
            if flag == "--help" {
                continue;
            }
            let mut args = vec![flag.as_str()];
            let value = match default.as_deref() {
                Some("none") | Some("off") => "x",
                Some(v) => v,
                None => "",
            };
            if default.is_some() {
                args.push(value);
            }
            args.push("--frobnicate");
            let out = run(&exe, &args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {err}");
            assert!(err.contains("unknown option --frobnicate"), "{name} {args:?}: {err}");
        }
    }
}

/// Picture names stay within the 255-byte file-name limit for the longest keys: a 253-character
/// FQDN (named through ssl.log) and an IPv6 pair; distinct keys get distinct files.
#[test]
fn svg_names_are_bounded_for_long_names_and_ipv6_keys() {
    let Some(exe) = common::example("hunt") else { return };
    let dir = std::env::temp_dir().join(format!("beaconstat-svg-names-{}", std::process::id()));
    let out_dir = dir.join("svg");
    std::fs::create_dir_all(&dir).unwrap();
    let fqdn = format!(
        "{}.{}.{}.{}",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61)
    );
    assert_eq!(fqdn.len(), 253);
    let mut conn = String::from(
        "#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n",
    );
    let mut ssl = String::from(
        "#separator \\x09\n#path\tssl\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tserver_name\n",
    );
    for i in 0..60 {
        let ts = 1_700_000_000 + 300 * i;
        conn.push_str(&format!("{ts}.0\tCa{i}\t10.0.0.5\t5{i:04}\t203.0.113.9\t443\ttcp\n"));
        ssl.push_str(&format!(
            "{ts}.0\tCa{i}\t10.0.0.5\t5{i:04}\t203.0.113.9\t443\tTLSv13\t{fqdn}\n"
        ));
        let ts = ts + 17;
        conn.push_str(&format!(
            "{ts}.0\tCb{i}\t2001:db8:85a3::8a2e:370:7334\t4{i:04}\t2001:db8:ffff:ffff:ffff:ffff:ffff:1\t8443\ttcp\n"
        ));
    }
    std::fs::write(dir.join("conn.log"), conn).unwrap();
    std::fs::write(dir.join("ssl.log"), ssl).unwrap();
    let out = run(
        &exe,
        &[
            dir.to_str().unwrap(),
            "--no-allowlist",
            "--svg",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(names.len(), 2, "{names:?}");
    for n in &names {
        assert!(n.len() <= 110, "{n} is {} bytes", n.len());
        assert!(n.ends_with(".svg"));
        assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "{n}");
    }
    assert!(names.iter().any(|n| n.contains("aaaa")), "{names:?}");
    assert!(names.iter().any(|n| n.contains("2001_db8")), "{names:?}");
}

#[test]
fn regimes_example_prints_its_table() {
    let Some(exe) = common::example("regimes") else { return };
    let out = run(&exe, &["3"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("| 300 s ±50% uniform |"), "{text}");
}

#[test]
fn hunt_finds_empire_agents_in_sysmon_by_host_and_process() {
    // SOURCE.md: Empire agents (Delay 5, jitter 0) in powershell.exe on WORKSTATION5,
    // 172.18.39.5 -> 10.10.10.5:80, 51 and 35 Sysmon 3 connections in two captures.
    let Some(dir) = common::data("otrf_empire_sysmon") else {
        return;
    };
    let mut jsons = Vec::new();
    for zip in [
        "empire_dllinjection_LoadLibrary_CreateRemoteThread.zip",
        "empire_mimikatz_logonpasswords.zip",
    ] {
        let Some(json) = common::unzip_json(&dir.join(zip)) else {
            return;
        };
        jsons.push(json);
    }
    let mut args = vec!["--group-by", "host-process"];
    args.extend(jsons.iter().map(|p| p.to_str().unwrap()));
    let Some(rows) = hunt_json(&args) else { return };
    let top = ranked(&rows);
    for (rank, (host, events)) in [("WORKSTATION5.mordor.local", 51), ("WORKSTATION5.theshire.local", 35)]
        .into_iter()
        .enumerate()
    {
        let r = top[rank];
        assert_eq!(r["host"], host);
        assert!(r["process"].as_str().unwrap().ends_with("powershell.exe"));
        assert_eq!(r["dst"], "10.10.10.5");
        assert_eq!(r["events"], events);
        let period = r["period_s"].as_f64().unwrap();
        assert!((5.0..5.3).contains(&period), "period {period}");
        assert!(r["score"].as_f64().unwrap() > 0.8);
    }
}

/// `hunt` on an internet-facing server's conn.log (generated: 420 external sources
/// brute-forcing SSH, scans, probes, one outbound HTTP beacon every 200–350 s), with locality
/// from Zeek's local_orig/local_resp: the beacon is in the top 3 of the outbound view, every
/// JSON row has its direction, the brute force is inbound and below the threshold, and the
/// table shows outbound first with each direction's counts.
#[test]
fn hunt_puts_the_servers_outbound_beacon_first_and_keeps_every_direction() {
    let Some(exe) = common::example("hunt") else { return };
    let scenario = beaconstat::synth::ServerScenario::builder().build();
    let t = scenario.truth().clone();
    let path = std::env::temp_dir().join(format!("beaconstat-server-{}.conn.log", std::process::id()));
    std::fs::write(&path, scenario.to_zeek_tsv()).unwrap();
    let rows = hunt_json(&[path.to_str().unwrap()]).unwrap();
    let table = run(&exe, &[path.to_str().unwrap(), "--top", "5"]);
    let _ = std::fs::remove_file(&path);
    assert!(rows.iter().all(|r| r["direction"].is_string()));
    let outbound: Vec<_> = ranked(&rows)
        .into_iter()
        .filter(|r| r["direction"] == "outbound")
        .collect();
    let pos = outbound
        .iter()
        .position(|r| r["dst"] == t.beacon_dst.as_str() && r["dst_port"] == t.beacon_port)
        .expect("beacon reported");
    assert!(pos < 3, "beacon ranked {} of the outbound view", pos + 1);
    let brute: Vec<_> = rows
        .iter()
        .filter(|r| r["dst"] == t.server.as_str() && r["dst_port"] == 22)
        .collect();
    assert!(brute.len() > 200, "{} brute-force rows", brute.len());
    for r in &brute {
        assert_eq!(r["direction"], "inbound");
        assert!(r["score"].as_f64().unwrap() < 0.5);
        let fan_in = r["adjustments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["kind"] == "fan_in")
            .expect("fan-in adjustment");
        assert!(fan_in["sources"].as_u64().unwrap() > 200);
        assert!(fan_in["reason"].as_str().unwrap().starts_with("one of "));
    }
    let text = String::from_utf8(table.stdout).unwrap();
    let outbound_at = text.find("== outbound (local → external): ").expect("outbound section");
    let inbound_at = text.find("== inbound (external → local): ").expect("inbound section");
    assert!(outbound_at < inbound_at, "{text}");
    assert!(text[outbound_at..inbound_at].contains(&t.beacon_dst));
}

/// `hunt` on both cores prints exactly what it prints on one: the rows, the per-file counts,
/// and the skipped records with their line numbers, on a generated conn.log big enough to be
/// cut into parts (about 20 MB) with bad lines in it, and a second, gzip-compressed
/// file beside it.
#[test]
fn hunt_on_several_threads_prints_what_one_thread_prints() {
    use std::io::Write;
    let Some(exe) = common::example("hunt") else { return };
    let text = Scenario::builder().hosts(80).days(4.0).seed(11).build().to_zeek_tsv();
    let mut log = String::with_capacity(text.len() + 4096);
    // Bad lines in the last third only: with two or three threads they fall in a later part,
    // so their line numbers are the shifted ones.
    let n = text.lines().count();
    for (i, line) in text.lines().enumerate() {
        log.push_str(line);
        log.push('\n');
        if !line.starts_with('#') && i > n * 2 / 3 && i % 5_003 == 0 {
            log.push_str(if i % 2 == 0 {
                "not-a-time\tx\n"
            } else {
                "1.5\tshort line\n"
            });
        }
    }
    assert!(log.len() > 16 << 20, "{} bytes: too small to be cut", log.len());
    let dir = std::env::temp_dir().join(format!("beaconstat-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plain = dir.join("conn.00.log");
    std::fs::write(&plain, &log).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&log.as_bytes()[..log.len() / 8]).unwrap();
    let gzip = dir.join("conn.01.log.gz");
    std::fs::write(&gzip, gz.finish().unwrap()).unwrap();
    let (p, g) = (plain.to_str().unwrap(), gzip.to_str().unwrap());
    let runs: Vec<Output> = ["1", "2", "3"]
        .iter()
        .map(|t| run(&exe, &[p, g, "--json", "--threads", t]))
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    // The timing line differs; everything else on stderr (sources, skips, lines) must not.
    let summary = |o: &Output| -> String {
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .filter(|l| !l.starts_with("read + group"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let one = &runs[0];
    assert!(one.status.success(), "{}", summary(one));
    assert!(summary(one).contains("skipped "), "{}", summary(one));
    assert!(
        summary(one).contains("e.g. ") && summary(one).contains(": line "),
        "{}",
        summary(one)
    );
    for r in &runs[1..] {
        assert!(r.stdout == one.stdout, "rows differ between thread counts");
        assert_eq!(summary(r), summary(one));
    }
}

#[test]
fn evaluate_example_prints_the_figures_and_every_class() {
    let Some(exe) = common::example("evaluate") else { return };
    let out = run(&exe, &["--seed", "5", "--per-class", "4", "--aperiodic", "20"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("AUC "), "{text}");
    for class in [
        "bursts of bursts",
        "sleep change",
        "fibonacci sleeps",
        "random times daily",
        "retry storms",
    ] {
        assert!(text.lines().any(|l| l.starts_with(class)), "{class} missing: {text}");
    }
    assert_eq!(run(&exe, &["--frobnicate", "1"]).status.code(), Some(2));
}
