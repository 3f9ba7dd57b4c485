//! Runs the `tasks` example as a user would.

mod common;

use std::path::Path;
use std::process::Command;

fn run_tasks(exe: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(exe).args(args).output().expect("run the tasks example");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn tasks_example_tree_json_and_bad_input() {
    let Some(exe) = common::example("tasks") else { return };
    let dir = std::env::temp_dir().join(format!("beaconstat-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("events.json");
    std::fs::write(
        &input,
        concat!(
            r#"{"EventID":4698,"Channel":"Security","Hostname":"WS1","TimeCreated":"2024-01-01T10:00:00Z","SubjectUserName":"bob","SubjectDomainName":"CORP","TaskName":"\\Upd","TaskContent":"<Task><Settings><Hidden>true</Hidden></Settings><Actions><Exec><Command>mshta.exe</Command><Arguments>http://x/y</Arguments></Exec></Actions></Task>"}"#,
            "\n",
            "this line is not JSON\n",
        ),
    )
    .unwrap();
    let inp = input.to_str().unwrap();

    let (ok, out, err) = run_tasks(&exe, &[inp]);
    assert!(ok, "{err}");
    assert!(out.contains("task \\Upd"), "{out}");
    assert!(out.contains("Hidden"), "{out}");
    assert!(out.contains("1 skipped"), "{out}");
    assert!(err.contains("line 2"), "skip reported with its line: {err}");

    let (ok, out, _) = run_tasks(&exe, &["--json", inp]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["hosts"][0]["tasks"][0]["name"], "\\Upd");

    let missing = Path::new(&dir).join("nope.json");
    let (ok, _, err) = run_tasks(&exe, &[missing.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("nope.json"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Nothing dropped silently: a definition that cannot be parsed is listed with its record,
/// reason and XML offset in the tree and the JSON; a zipped or gzipped export is read through
/// the reader layer; input with no readable Windows event is a failure, not an empty tree.
#[test]
fn tasks_example_skipped_definitions_archives_and_unreadable_input() {
    let Some(exe) = common::example("tasks") else { return };
    let dir = std::env::temp_dir().join(format!("beaconstat-example-skips-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let good = r#"{"EventID":4698,"Channel":"Security","Hostname":"WS1","RecordNumber":41,"TimeCreated":"2024-01-01T10:00:00Z","TaskName":"\\Upd","TaskContent":"<Task><Actions><Exec><Command>a.exe</Command></Exec></Actions></Task>"}"#;
    let bad = r#"{"EventID":4698,"Channel":"Security","Hostname":"WS1","RecordNumber":42,"TimeCreated":"2024-01-01T10:00:01Z","TaskName":"\\Cut","TaskContent":"<Task><Actions><Exec><Comma"}"#;
    let text = format!("{good}\n{bad}\n");
    let zip = common::zip::zip_of(&[("events.json", text.as_bytes(), true)]);
    let zipped = dir.join("events.zip");
    std::fs::write(&zipped, zip).unwrap();
    let z = zipped.to_str().unwrap();

    let (ok, out, err) = run_tasks(&exe, &[z]);
    assert!(ok, "{err}");
    assert!(out.contains("task \\Upd") && out.contains("task \\Cut"), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("skipped definition:"))
        .unwrap_or_default();
    assert!(
        line.starts_with(&format!("skipped definition: {z} line 2 (byte "))
            && line.contains("WS1 Security 4698 (record 42) task \\Cut: task XML at byte 21: "),
        "{out}"
    );
    assert!(out.contains("1 task definitions skipped"), "{out}");
    assert!(out.contains("gap: 1 task definitions could not be parsed"), "{out}");
    let (ok, out, _) = run_tasks(&exe, &["--json", z]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["skipped_definitions"][0]["record_id"], 42);
    assert_eq!(v["skipped_definitions"][0]["error"]["offset"], 21);
    assert_eq!(v["coverage"]["definitions_skipped"], 1);

    // A directory holding the archive and a gzip copy: both read, the task's record counted once.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
    std::fs::write(dir.join("events.json.gz"), gz.finish().unwrap()).unwrap();
    let (ok, out, err) = run_tasks(&exe, &["--json", dir.to_str().unwrap()]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["coverage"]["duplicates"], 2);

    // Nothing readable: a failure saying so.
    let junk = dir.join("junk.json");
    std::fs::write(&junk, "{\"no\":\"event id\"}\nnot json\n").unwrap();
    let (ok, _, err) = run_tasks(&exe, &[junk.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("no Windows event could be read from the input"), "{err}");
    let empty = dir.join("empty.json");
    std::fs::write(&empty, "").unwrap();
    let (ok, _, err) = run_tasks(&exe, &[empty.to_str().unwrap()]);
    assert!(!ok, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The definition details of a real remote creation (OTRF): principal, trigger and the risky
/// ones flagged with their values, in the tree and in `--json`.
#[test]
fn tasks_example_shows_definition_details() {
    let Some(exe) = common::example("tasks") else { return };
    let Some(dir) = common::data("tasks_otrf") else { return };
    let file = dir.join("schtask_create_2020-12-1907003032.json");
    let (ok, out, err) = run_tasks(&exe, &[file.to_str().unwrap()]);
    assert!(ok, "{err}");
    for want in [
        r#"    definition (from task XML): run as S-1-5-18 (SYSTEM), RunLevel LeastPrivilege | actions ["C:\\Windows\\system32\\cmd.exe /C C:\\Windows\\System32\\notepad.exe"] | period - | hidden false"#,
        "      trigger: boot from 2020-12-19T07:00:00",
        "    ! BootOrLogonTrigger: starts at every boot (boot from 2020-12-19T07:00:00), and is not a Microsoft task",
        r"    ! SystemScriptHost: runs as SYSTEM (S-1-5-18) through cmd.exe: C:\Windows\system32\cmd.exe /C C:\Windows\System32\notepad.exe",
    ] {
        assert!(out.lines().any(|l| l == want), "{want}\nnot in\n{out}");
    }
    let (ok, json, err) = run_tasks(&exe, &["--json", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    let task = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["tasks"].as_array().unwrap())
        .find(|t| t["name"] == r"\Microsoft\Windows\SoftwareProtectionPlatform\EventCacheManager")
        .unwrap();
    let d = &task["definition"];
    assert_eq!(d["principal"]["run_level"], "LeastPrivilege");
    assert_eq!(d["principal"]["logon_type"], serde_json::Value::Null);
    assert_eq!(d["delete_expired_after"], serde_json::Value::Null);
    let t = &d["triggers"][0];
    assert_eq!(
        (t["kind"].as_str(), t["start_boundary"].as_str()),
        (Some("Boot"), Some("2020-12-19T07:00:00"))
    );
    assert_eq!(t["end_boundary"], serde_json::Value::Null);
    let reasons: Vec<_> = task["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"BootOrLogonTrigger") && reasons.contains(&"SystemScriptHost"),
        "{reasons:?}"
    );
}
