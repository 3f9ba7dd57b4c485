//! Runs the `an1113` example as a user would: the bundled scenario, `--json`, `--svg`, a
//! missing file, and a directory of mixed inputs read through the reader layer.

mod common;

use std::process::Command;

#[test]
fn an1113_example_bundled_json_svg_and_missing_file() {
    let Some(exe) = common::example("an1113") else { return };
    let out = Command::new(&exe).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().find(|l| l.starts_with("#1 ")).unwrap();
    assert!(first.contains("High") && first.contains("198.51.100.23:443"), "{first}");
    assert!(text.contains(r"task \OneDriveUpdate (Launched)"), "{text}");
    assert!(
        text.contains("Include command line in process creation events"),
        "{text}"
    );

    let out = Command::new(&exe).arg("--json").output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let f = &lines[0]["finding"];
    assert_eq!(f["destination"]["addr"], "198.51.100.23");
    assert_eq!(f["chain"]["task"]["name"], r"\OneDriveUpdate");
    assert_eq!(f["severity"]["level"], "High");
    assert_eq!(lines.iter().filter(|l| l.get("coverage").is_some()).count(), 3);

    let dir = std::env::temp_dir().join(format!("beaconstat-an1113-svg-{}", std::process::id()));
    let out = Command::new(&exe).arg("--svg").arg(&dir).output().unwrap();
    assert!(out.status.success());
    let svg = std::fs::read_to_string(dir.join("finding-001.svg")).unwrap();
    assert!(svg.contains("task run") && svg.contains("check-in"));
    let _ = std::fs::remove_dir_all(&dir);

    let out = Command::new(&exe).arg("/nonexistent/logs").output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .to_lowercase()
            .contains("no such file or directory")
    );
    let out = Command::new(&exe).arg("--help").output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("--svg DIR"));
}

/// A directory holding gzip Windows event JSON (with one broken line), a Zeek `conn.log` and
/// a note: both logs are read (skips counted by reason), the note is passed over with why, and
/// findings point back at their records (record number for Windows, line for Zeek).
#[test]
fn an1113_example_reads_a_directory_of_mixed_inputs() {
    use std::io::Write;
    let Some(exe) = common::example("an1113") else { return };
    let dir = std::env::temp_dir().join(format!("beaconstat-an1113-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut events = String::new();
    for i in 0..12 {
        events.push_str(&format!(
            concat!(
                r#"{{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1","#,
                r#""RecordNumber":{},"UtcTime":"2024-01-01 10:{:02}:{:02}.000","ProcessGuid":"{{p1}}","#,
                r#""ProcessId":"42","Image":"C:\\Tools\\agent.exe","SourceIp":"10.0.0.5","#,
                r#""DestinationIp":"203.0.113.9","DestinationPort":"443"}}"#,
                "\n"
            ),
            100 + i,
            i * 5 / 60,
            i * 5 % 60
        ));
        if i == 3 {
            events.push_str("{\"EventID\": broken\n");
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(events.as_bytes()).unwrap();
    std::fs::write(dir.join("sysmon.json.gz"), gz.finish().unwrap()).unwrap();
    let mut conn = String::from("#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\n");
    for i in 0..30 {
        conn.push_str(&format!("{}.0\t10.0.0.5\t198.51.100.7\t8443\n", 1_704_103_200 + i * 60));
    }
    std::fs::write(dir.join("conn.log"), conn).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a log at all\n").unwrap();

    let out = Command::new(&exe).arg("--json").arg(&dir).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("notes.txt: not a log"), "{err}");
    assert!(
        err.contains("sysmon.json.gz: 12 Windows records, 1 skipped (malformed JSON 1)"),
        "{err}"
    );
    assert!(err.contains("conn.log: 30 connections, 0 skipped"), "{err}");
    let findings: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|l| l.get("finding").cloned())
        .collect();
    let by_dst = |a: &str| findings.iter().find(|f| f["destination"]["addr"] == a).unwrap();
    let win = by_dst("203.0.113.9");
    assert_eq!(win["references"][0]["record_id"], 100);
    assert!(
        win["references"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("sysmon.json.gz")
    );
    let zeek = by_dst("198.51.100.7");
    assert_eq!(zeek["join"], "HostAndTime");
    // Three header lines, then the rows: the first check-in is line 4, the last line 33.
    assert_eq!(zeek["references"][0]["line"], 4);
    assert_eq!(zeek["references"][9]["line"], 33);
}

/// An OTRF capture as it ships (a zip of JSON lines), given to the example as it is: read
/// through the reader layer, the Empire agent's check-ins are found on their host and PID, and
/// the output is the one the unpacked JSON gives.
#[test]
fn an1113_example_reads_an_otrf_zip_as_shipped() {
    let Some(exe) = common::example("an1113") else { return };
    let Some(dir) = common::data("otrf_empire_sysmon") else {
        return;
    };
    let zip = dir.join("empire_mimikatz_logonpasswords.zip");
    let out = Command::new(&exe).arg("--json").arg(&zip).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("empire_mimikatz_logonpasswords.zip: 6026 Windows records, 0 skipped"),
        "{err}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let agent = lines
        .iter()
        .filter_map(|l| l.get("finding"))
        .find(|f| f["destination"]["addr"] == "10.10.10.5")
        .unwrap_or_else(|| panic!("no finding to 10.10.10.5: {stdout}"));
    assert_eq!(agent["host"], "WORKSTATION5.theshire.local");
    assert_eq!(agent["destination"]["port"], 80);
    assert_eq!(agent["process"]["pid"], 1648);
    let hosts: Vec<_> = lines
        .iter()
        .filter_map(|l| l.get("coverage"))
        .map(|c| c["host"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        hosts,
        [
            "MORDORDC.theshire.local",
            "WORKSTATION5.theshire.local",
            "WORKSTATION6.theshire.local"
        ]
    );

    // The same capture unpacked: the same findings and coverage (file names aside).
    let Some(json) = common::unzip_json(&zip) else { return };
    let unpacked = Command::new(&exe).arg("--json").arg(&json).output().unwrap();
    assert!(unpacked.status.success());
    let unpacked =
        String::from_utf8_lossy(&unpacked.stdout).replace(&json.display().to_string().replace('\\', "\\\\"), "FILE");
    assert_eq!(
        stdout.replace(&zip.display().to_string().replace('\\', "\\\\"), "FILE"),
        unpacked
    );
}
