//! Runs the `an1113` example as a user would: the bundled scenario, `--json`, `--svg`, a
//! missing file.

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
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file or directory"));
    let out = Command::new(&exe).arg("--help").output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("--svg DIR"));
}
