//! Task tampering on generated event sequences: the life of a task (who, from where, how),
//! changes by another account or session, masquerade as a built-in, creation after account
//! changes, registry-side tasks (GhostTask, Tarrask, runs with no creation), COM registration
//! joined by process, runs tied to no task with their candidates, and the baseline across
//! hosts.

mod common;

use beaconstat::lineage::{CreationMethod, LifeKind, Lineage, LineageBuilder, TaskBaseline, TaskReason};
use beaconstat::winevent::WinRecord;
use beaconstat::{Interval, Timestamp};
use common::lineage::detail;

fn build_with(mut b: LineageBuilder, lines: &[String]) -> Lineage {
    let mut rec = WinRecord::new();
    for l in lines {
        rec.parse_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        b.push_record(&rec);
    }
    b.build()
}

fn build(lines: &[String]) -> Lineage {
    build_with(LineageBuilder::new(), lines)
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

/// A Security record on `host` at 10:MM:SS(.fff) `t`.
fn sec_on(host: &str, id: u32, t: &str, data: &str) -> String {
    format!(r#"{{"EventID":{id},"Channel":"Security","Hostname":"{host}","TimeCreated":"2024-01-01T10:{t}Z",{data}}}"#)
}

fn sec(id: u32, t: &str, data: &str) -> String {
    sec_on("WS1", id, t, data)
}

fn sysmon(id: u32, t: &str, data: &str) -> String {
    format!(
        r#"{{"EventID":{id},"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1","UtcTime":"2024-01-01 10:{t}",{data}}}"#
    )
}

fn subject(user: &str, logon: &str) -> String {
    format!(r#""SubjectUserName":"{user}","SubjectDomainName":"CORP","SubjectLogonId":"{logon}""#)
}

/// Task XML with one Exec action, JSON-escaped.
fn xml(command: &str, author: Option<&str>) -> String {
    let author = author.map_or(String::new(), |a| {
        format!("<RegistrationInfo><Author>{a}</Author></RegistrationInfo>")
    });
    format!("<Task>{author}<Actions><Exec><Command>{command}</Command></Exec></Actions></Task>")
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

/// Created by bob on the console, updated and deleted by eve over the network: each life event
/// says who and from where; the change by another account and the deletion from another
/// session are findings.
#[test]
fn life_events_say_who_from_where_and_flag_other_principals() {
    let lin = build(&[
        sec(
            4624,
            "00:00",
            r#""LogonType":"3","TargetUserName":"eve","TargetLogonId":"0x200","IpAddress":"10.0.0.9""#,
        ),
        sec(
            4698,
            "00:10",
            &format!(
                r#"{},"TaskName":"\\Job","TaskContent":"{}""#,
                subject("bob", "0x100"),
                xml(r"C:\Tools\job.exe", None)
            ),
        ),
        sec(
            4702,
            "05:00",
            &format!(
                r#"{},"TaskName":"\\Job","TaskContentNew":"{}""#,
                subject("eve", "0x200"),
                xml(r"C:\Tools\job.exe", None)
            ),
        ),
        sec(
            4699,
            "06:00",
            &format!(r#"{},"TaskName":"\\Job""#, subject("eve", "0x200")),
        ),
    ]);
    let t = lin.task("WS1", r"\Job").unwrap();
    let who: Vec<_> = t.life.iter().map(|l| (l.what, l.who())).collect();
    assert_eq!(
        who,
        [
            (LifeKind::Created, r"by CORP\bob (logon 0x100)".to_owned()),
            (LifeKind::Updated, r"by CORP\eve (logon 0x200) from 10.0.0.9".to_owned()),
            (LifeKind::Deleted, r"by CORP\eve (logon 0x200) from 10.0.0.9".to_owned()),
        ]
    );
    assert!(t.life[1].remote && !t.life[0].remote);
    assert_eq!(
        detail(t, TaskReason::ChangedByOther),
        r"updated by CORP\eve (logon 0x200) from 10.0.0.9 at 2024-01-01T10:05:00.000000Z (Security 4702); created by CORP\bob"
    );
    assert_eq!(
        detail(t, TaskReason::DeletedFromOtherSession),
        r"deleted by CORP\eve (logon 0x200) from 10.0.0.9 at 2024-01-01T10:06:00.000000Z (Security 4699); created in logon 0x100"
    );
    assert!(!t.creation.remote, "the creation itself was local");
}

/// A built-in task changed by an account over the network: its own reason, saying by whom,
/// from where and how.
#[test]
fn a_builtin_changed_by_an_account_says_by_whom() {
    let name = r"\\Microsoft\\Windows\\SoftwareProtectionPlatform\\SvcRestartTask";
    let lin = build(&[
        sec(
            4624,
            "00:00",
            r#""LogonType":"3","TargetUserName":"eve","TargetLogonId":"0x200","IpAddress":"10.0.0.9""#,
        ),
        sec(
            4702,
            "00:05",
            &format!(
                r#"{},"TaskName":"{name}","TaskContentNew":"{}""#,
                subject("eve", "0x200"),
                xml(r"%windir%\system32\sc.exe", Some("Microsoft Corporation"))
            ),
        ),
    ]);
    let t = lin
        .task("WS1", r"\Microsoft\Windows\SoftwareProtectionPlatform\SvcRestartTask")
        .unwrap();
    assert!(!t.builtin);
    assert_eq!(
        detail(t, TaskReason::BuiltinModified),
        r"a built-in task path was updated by CORP\eve (logon 0x200) from 10.0.0.9 at 2024-01-01T10:00:05.000000Z (Security 4702)"
    );
    // A system action and a Microsoft author: no masquerade.
    assert!(!t.findings.iter().any(|f| f.reason == TaskReason::Masquerade));
}

/// The issue's case: a task under `\Microsoft\` whose action is a bare word, created a minute
/// after two 4720 account creations by the same account; and a task outside `\Microsoft\`
/// named like a built-in, running from `C:\Users\Public`.
#[test]
fn masquerade_and_creation_after_account_changes() {
    let admin = subject("admin", "0x300");
    let lin = build(&[
        sec(4720, "00:00", &format!(r#"{admin},"TargetUserName":"svc1""#)),
        sec(4720, "00:05", &format!(r#"{admin},"TargetUserName":"svc2""#)),
        sec(
            4732,
            "00:06",
            &format!(r#"{admin},"TargetUserName":"Administrators","MemberName":"-""#),
        ),
        // Another account's change: not counted.
        sec(
            4720,
            "00:30",
            &format!(r#"{},"TargetUserName":"other""#, subject("bob", "0x100")),
        ),
        sec(
            4698,
            "01:05",
            &format!(
                r#"{admin},"TaskName":"\\Microsoft\\Office\\OfficeTelemetry","TaskContent":"{}""#,
                xml("updater", Some(r"CORP\admin"))
            ),
        ),
        sec(
            4698,
            "02:00",
            &format!(
                r#"{},"TaskName":"\\SilentCleanup","TaskContent":"{}""#,
                subject("bob", "0x100"),
                xml(r"C:\Users\Public\c.exe", None)
            ),
        ),
    ]);
    let t = lin.task("WS1", r"\Microsoft\Office\OfficeTelemetry").unwrap();
    assert_eq!(
        detail(t, TaskReason::Masquerade),
        r"\Microsoft\Office\OfficeTelemetry is under \Microsoft\, but its action updater is a bare name, not a path under System32 and its author CORP\admin is not Microsoft"
    );
    assert_eq!(
        detail(t, TaskReason::AfterAccountChange),
        "created 65.000 s after the same account's account changes: 4720 created account svc1, 4720 created account svc2, 4732 added a member to Administrators"
    );
    assert!(t.suspicion() >= 5, "{}", t.suspicion());
    let t = lin.task("WS1", r"\SilentCleanup").unwrap();
    assert_eq!(
        detail(t, TaskReason::Masquerade),
        r"\SilentCleanup is named like a Windows built-in task, but its action C:\Users\Public\c.exe is outside System32"
    );
    // Bob's own 4720, 90 s before his task: his, not admin's.
    assert_eq!(
        detail(t, TaskReason::AfterAccountChange),
        "created 90.000 s after the same account's account changes: 4720 created account other"
    );
    // Outside the window: not flagged.
    let t2 = build(&[
        sec(4720, "00:00", &format!(r#"{admin},"TargetUserName":"svc1""#)),
        sec(
            4698,
            "20:00",
            &format!(r#"{admin},"TaskName":"\\Late","TaskContent":"{}""#, xml("a.exe", None)),
        ),
    ]);
    assert!(
        t2.task("WS1", r"\Late")
            .unwrap()
            .findings
            .iter()
            .all(|f| f.reason != TaskReason::AfterAccountChange)
    );
}

/// GhostTask: a task written to the TaskCache only, by a process from `C:\Users\Public`;
/// Tarrask: a task hidden by deleting its `SD` value (Sysmon 12 and Security 4657); a task seen
/// only running.
#[test]
fn registry_side_tasks() {
    let tree = r"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree";
    let tasks = r"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tasks";
    let writer = r#""ProcessGuid":"{W}","ProcessId":"900","Image":"C:\\Users\\Public\\ghost.exe""#;
    let lin = build(&[
        sysmon(
            1,
            "00:00.000",
            &format!(r#"{writer},"CommandLine":"ghost.exe","ParentProcessGuid":"{{P}}""#),
        ),
        sysmon(
            12,
            "00:01.000",
            &format!(r#"{writer},"EventType":"CreateKey","TargetObject":"{tree}\\Ghost""#),
        ),
        sysmon(
            13,
            "00:01.100",
            &format!(r#"{writer},"EventType":"SetValue","TargetObject":"{tree}\\Ghost\\Id","Details":"{{1234}}""#),
        ),
        sysmon(
            13,
            "00:01.200",
            &format!(
                r#"{writer},"EventType":"SetValue","TargetObject":"{tree}\\Ghost\\Index","Details":"DWORD (0x00000003)""#
            ),
        ),
        // Its definition under TaskCache\Tasks\{GUID}: tied to the task by the GUID.
        sysmon(
            13,
            "00:01.300",
            &format!(
                r#"{writer},"EventType":"SetValue","TargetObject":"{tasks}\\{{1234}}\\Actions","Details":"Binary Data""#
            ),
        ),
        // Tarrask: created, then its SD deleted by SYSTEM (Sysmon 12) and audited (4657).
        sec(
            4698,
            "02:00",
            &format!(
                r#"{},"TaskName":"\\Hidden","TaskContent":"{}""#,
                subject("bob", "0x100"),
                xml("a.exe", None)
            ),
        ),
        sysmon(
            12,
            "02:30.000",
            &format!(
                r#""Image":"C:\\Windows\\System32\\reg.exe","ProcessId":"901","EventType":"DeleteValue","TargetObject":"{tree}\\Hidden\\SD""#
            ),
        ),
        sec(
            4657,
            "02:30",
            &format!(
                r#"{},"ObjectName":"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\Quiet","ObjectValueName":"SD","OperationType":"%%1906","ProcessName":"C:\\Windows\\System32\\reg.exe","ProcessId":"0x385""#,
                subject("bob", "0x100")
            ),
        ),
        // A run of a task no creation was seen for.
        r#"{"EventID":200,"Channel":"Microsoft-Windows-TaskScheduler/Operational","Hostname":"WS1","TimeCreated":"2024-01-01T10:03:00Z","TaskName":"\\Updater","ActionName":"C:\\u.exe","TaskInstanceId":"{I}","EnginePID":"77"}"#
            .to_owned(),
    ]);
    let ghost = lin.task("WS1", r"\Ghost").unwrap();
    assert_eq!(ghost.creation.method, CreationMethod::RegistryOnly);
    let writes: Vec<_> = ghost.life.iter().map(|l| (l.what, l.source.as_str(), l.ts)).collect();
    assert_eq!(
        writes,
        [
            (LifeKind::RegistryWritten, "Sysmon 12", ts("2024-01-01T10:00:01Z")),
            (LifeKind::RegistryWritten, "Sysmon 13", ts("2024-01-01T10:00:01.100Z")),
            (LifeKind::RegistryWritten, "Sysmon 13", ts("2024-01-01T10:00:01.200Z")),
            (LifeKind::RegistryWritten, "Sysmon 13", ts("2024-01-01T10:00:01.300Z")),
        ]
    );
    let h = lin.host("WS1").unwrap();
    let creator = &h.processes[ghost.creation.process.as_ref().unwrap().id];
    assert_eq!(creator.image.as_deref(), Some(r"C:\Users\Public\ghost.exe"));
    assert_eq!(
        detail(ghost, TaskReason::RegistryOnly),
        "only TaskCache registry writes"
    );
    assert_eq!(
        detail(ghost, TaskReason::UntrustedComCreator),
        r"written to the TaskCache by ghost.exe (pid 900), under Users\Public; signer unknown"
    );
    let hidden = lin.task("WS1", r"\Hidden").unwrap();
    assert!(hidden.hidden);
    assert_eq!(
        detail(hidden, TaskReason::SecurityDescriptorRemoved),
        "Sysmon 12: SD deleted: hidden from schtasks /query and the Task Scheduler UI (changed with reg.exe at 2024-01-01T10:02:30.000000Z (Sysmon 12: SD deleted))"
    );
    // 4657 on a task never seen otherwise: still a task, hidden, by bob.
    let quiet = lin.task("WS1", r"\Quiet").unwrap();
    assert!(quiet.hidden);
    assert_eq!(quiet.life[0].source, "Security 4657: SD deleted");
    assert_eq!(quiet.life[0].user.as_deref(), Some("bob"));
    assert_eq!(quiet.life[0].ts, ts("2024-01-01T10:02:30Z"));
    let updater = lin.task("WS1", r"\Updater").unwrap();
    assert!(
        detail(updater, TaskReason::NoCreationTelemetry)
            .starts_with("runs from 2024-01-01T10:03:00.000000Z with no creation event")
    );
}

/// COM registration by a script host, joined by process: wscript.exe loads taskschd.dll and
/// writes the task's TaskCache keys; a system process loading taskschd.dll later on the same
/// host is not taken for the creator.
#[test]
fn com_creation_is_joined_by_process() {
    let tree = r"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree";
    let wscript = r#""ProcessGuid":"{S}","ProcessId":"700","Image":"C:\\Windows\\System32\\wscript.exe""#;
    let sppsvc = r#""ProcessGuid":"{V}","ProcessId":"800","Image":"C:\\Windows\\System32\\sppsvc.exe""#;
    let dll = r#""ImageLoaded":"C:\\Windows\\System32\\taskschd.dll""#;
    let lin = build(&[
        sysmon(
            1,
            "00:00.000",
            &format!(r#"{wscript},"CommandLine":"wscript.exe C:\\Users\\bob\\x.vbs","ParentProcessGuid":"{{E}}""#),
        ),
        sysmon(
            1,
            "00:00.100",
            &format!(r#"{sppsvc},"CommandLine":"sppsvc.exe","ParentProcessGuid":"{{E2}}""#),
        ),
        sysmon(7, "00:00.500", &format!("{wscript},{dll}")),
        sysmon(7, "00:01.000", &format!("{sppsvc},{dll}")),
        sysmon(
            13,
            "00:01.500",
            &format!(r#"{wscript},"EventType":"SetValue","TargetObject":"{tree}\\Job\\Id","Details":"{{1}}""#),
        ),
        sec(
            4698,
            "00:02",
            &format!(
                r#"{},"TaskName":"\\Job","TaskContent":"{}""#,
                subject("bob", "0x100"),
                xml("cmd.exe", None)
            ),
        ),
    ]);
    let t = lin.task("WS1", r"\Job").unwrap();
    assert_eq!(t.creation.method, CreationMethod::ComApi);
    let h = lin.host("WS1").unwrap();
    assert_eq!(h.processes[t.creation.process.as_ref().unwrap().id].pid, Some(700));
    let n = t.creation.evidence.len();
    assert_eq!(
        t.creation.evidence[n - 2..],
        [
            "Sysmon 7: wscript.exe loaded taskschd.dll, and the same process wrote its TaskCache keys 1.000 s later (Sysmon 13)",
            "wscript.exe: signer unknown (its Sysmon 1 carries none, and no Sysmon 7 of its image)"
        ]
    );
    assert_eq!(
        detail(t, TaskReason::UntrustedComCreator),
        "registered through the COM API by wscript.exe (pid 700), a script host or LOLBin; signer unknown"
    );
    assert!(t.findings.iter().any(|f| f.reason == TaskReason::ScriptHostCreator));
}

/// A `rundll32` of a DLL under `C:\ProgramData` whose parent is not in the data, 41 s after a
/// task with that action was created: not tied (outside the run window), but listed with the
/// task as its candidate; a Schedule-service launch matching nothing is listed too.
#[test]
fn unattributed_runs_list_their_candidate_tasks() {
    let action = r#"<Task><Actions><Exec><Command>rundll32.exe</Command><Arguments>C:\\ProgramData\\u.dll,Run</Arguments></Exec></Actions></Task>"#
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let lin = build(&[
        sec(
            4698,
            "00:00",
            &format!(
                r#"{},"TaskName":"\\Upd","TaskContent":"{action}""#,
                subject("bob", "0x100")
            ),
        ),
        sec(
            4698,
            "00:20",
            &format!(
                r#"{},"TaskName":"\\Other","TaskContent":"{}""#,
                subject("bob", "0x100"),
                xml("b.exe", None)
            ),
        ),
        sec(
            4688,
            "00:41",
            r#""NewProcessId":"0x500","NewProcessName":"C:\\Windows\\System32\\rundll32.exe","ProcessId":"0x999","CommandLine":"rundll32.exe C:\\ProgramData\\u.dll,Run""#,
        ),
        sysmon(
            1,
            "09:00.000",
            r#""ProcessGuid":"{N}","ProcessId":"600","Image":"C:\\Windows\\System32\\notepad.exe","ParentImage":"C:\\Windows\\System32\\svchost.exe","ParentCommandLine":"C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule","ParentProcessGuid":"{SVC}""#,
        ),
    ]);
    let h = lin.host("WS1").unwrap();
    assert!(lin.task("WS1", r"\Upd").unwrap().runs.is_empty());
    assert_eq!(h.unattributed_runs.len(), 2);
    let r = &h.unattributed_runs[0];
    assert_eq!(h.processes[r.launched.unwrap()].pid, Some(0x500));
    assert_eq!(
        r.join.as_deref(),
        Some("parent PID 2457 is not in the data; started after a task change on this host")
    );
    let c: Vec<_> = r
        .candidates
        .iter()
        .map(|c| (c.task.as_str(), c.after, c.gap, c.action_matches))
        .collect();
    assert_eq!(
        c,
        [
            (r"\Upd", LifeKind::Created, Interval::from_secs(41), true),
            (r"\Other", LifeKind::Created, Interval::from_secs(21), false)
        ]
    );
    let r = &h.unattributed_runs[1];
    assert_eq!(
        r.join.as_deref(),
        Some("parent is the Schedule service (svchost -s Schedule)")
    );
    assert!(r.candidates.is_empty(), "nothing changed within 5 minutes before 10:09");
}

/// Five hosts with `\Backup`: four run the same tool, one runs something else from
/// `C:\Users\Public`: that one is the outlier. The baseline saved from the first four (text
/// and serde) makes the fifth an outlier on its own.
#[test]
fn baseline_across_hosts_finds_the_outlier_and_survives_save_and_load() {
    let backup = |host: &str, cmd: &str| {
        sec_on(
            host,
            4698,
            "00:00",
            &format!(
                r#"{},"TaskName":"\\Backup","TaskContent":"{}""#,
                subject("admin", "0x1"),
                xml(cmd, None)
            ),
        )
    };
    let usual = r"C:\Tools\backup.exe";
    let mut lines: Vec<String> = ["WS1", "WS2", "WS3", "WS4"].iter().map(|h| backup(h, usual)).collect();
    lines.push(backup("WS5", r"C:\Users\Public\b.exe"));
    let lin = build(&lines);
    let odd = lin.task("WS5", r"\Backup").unwrap();
    assert_eq!(
        detail(odd, TaskReason::ActionDiffersAcrossHosts),
        r"on this host its action is `c:\users\public\b.exe`; 4 of the 5 hosts with this task run `c:\tools\backup.exe`"
    );
    for h in ["WS1", "WS2", "WS3", "WS4"] {
        let t = lin.task(h, r"\Backup").unwrap();
        assert!(
            t.findings
                .iter()
                .all(|f| f.reason != TaskReason::ActionDiffersAcrossHosts),
            "{h}"
        );
    }

    // The expected automation, saved from the four, then WS5 alone against it.
    let mut baseline = TaskBaseline::new();
    baseline.observe(&build(&lines[..4]));
    assert_eq!(baseline.hosts_with_definition(r"\Backup", usual), 4);
    let mut text = Vec::new();
    baseline.save(&mut text).unwrap();
    let loaded = TaskBaseline::load(text.as_slice()).unwrap();
    assert_eq!(loaded, baseline);
    #[cfg(feature = "serde")]
    {
        let json = serde_json::to_string(&baseline).unwrap();
        assert_eq!(serde_json::from_str::<TaskBaseline>(&json).unwrap(), baseline);
    }
    let mut b = LineageBuilder::new();
    b.baseline(loaded);
    let alone = build_with(b, &lines[4..]);
    let odd = alone.task("WS5", r"\Backup").unwrap();
    assert_eq!(
        detail(odd, TaskReason::ActionDiffersAcrossHosts),
        r"on this host its action is `c:\users\public\b.exe`; 4 of the 5 hosts with this task run `c:\tools\backup.exe`"
    );
}

/// COM registration judged by the signer of the process that did it: an unsigned image (its
/// own Sysmon 7 says so) is a reason of its own even in System32; a signed Microsoft
/// management console is what COM registration looks like (nothing flagged, its signer
/// quoted); an image in a user profile with no signature logged anywhere says "signer
/// unknown"; an export whose Sysmon 1 carries the signature is read from there.
#[test]
fn com_creation_is_judged_by_the_creators_signer() {
    let dll = r#""ImageLoaded":"C:\\Windows\\System32\\taskschd.dll","Signed":"true","Signature":"Microsoft Windows","SignatureStatus":"Valid""#;
    let own = |guid: &str, pid: u32, image: &str, signed: &str| {
        format!(r#""ProcessGuid":"{guid}","ProcessId":"{pid}","Image":"{image}","ImageLoaded":"{image}",{signed}"#)
    };
    let unsigned = r#""Signed":"false","Signature":"-","SignatureStatus":"Unavailable""#;
    let microsoft = r#""Signed":"true","Signature":"Microsoft Windows","SignatureStatus":"Valid""#;
    let svch0st = r"C:\\Windows\\System32\\svch0st.exe";
    let mmc = r"C:\\Windows\\System32\\mmc.exe";
    let tool = r"C:\\Users\\bob\\tool.exe";
    let proc1 = |t: &str, guid: &str, pid: u32, image: &str, extra: &str| {
        sysmon(
            1,
            t,
            &format!(
                r#""ProcessGuid":"{guid}","ProcessId":"{pid}","Image":"{image}","CommandLine":"x","ParentProcessGuid":"{{E}}"{extra}"#
            ),
        )
    };
    let load = |t: &str, guid: &str, pid: u32, image: &str| {
        sysmon(
            7,
            t,
            &format!(r#""ProcessGuid":"{guid}","ProcessId":"{pid}","Image":"{image}",{dll}"#),
        )
    };
    let reg = |t: &str, task: &str, pid: u32| {
        sec(
            4698,
            t,
            &format!(
                r#"{},"TaskName":"\\{task}","TaskContent":"{}","ClientProcessId":"{pid}""#,
                subject("bob", "0x100"),
                xml(r"C:\Tools\job.exe", None)
            ),
        )
    };
    let lin = build(&[
        proc1("00:00.000", "{A}", 501, svch0st, ""),
        sysmon(7, "00:00.010", &own("{A}", 501, svch0st, unsigned)),
        load("00:00.500", "{A}", 501, svch0st),
        reg("00:01", "Fake", 501),
        proc1("01:00.000", "{B}", 502, mmc, ""),
        sysmon(7, "01:00.010", &own("{B}", 502, mmc, microsoft)),
        load("01:00.500", "{B}", 502, mmc),
        reg("01:01", "Console", 502),
        proc1("02:00.000", "{C}", 503, tool, ""),
        load("02:00.500", "{C}", 503, tool),
        reg("02:01", "Tool", 503),
        // An export that logs the signature with the process itself.
        proc1(
            "03:00.000",
            "{D}",
            504,
            r"C:\\Tools\\agent.exe",
            &format!(",{unsigned}"),
        ),
        load("03:00.500", "{D}", 504, r"C:\\Tools\\agent.exe"),
        reg("03:01", "Agent", 504),
    ]);
    let fake = lin.task("WS1", r"\Fake").unwrap();
    assert_eq!(fake.creation.method, CreationMethod::ComApi);
    assert_eq!(
        fake.creation.evidence.last().map(String::as_str),
        Some("svch0st.exe: not signed (Signed false, SignatureStatus Unavailable)")
    );
    assert_eq!(
        detail(fake, TaskReason::UnsignedComCreator),
        "registered through the COM API by svch0st.exe (pid 501), whose image is not signed (Signed false, SignatureStatus Unavailable)"
    );
    assert!(
        !fake
            .findings
            .iter()
            .any(|f| f.reason == TaskReason::UntrustedComCreator)
    );

    let console = lin.task("WS1", r"\Console").unwrap();
    assert_eq!(console.creation.method, CreationMethod::ComApi);
    assert_eq!(
        console.creation.evidence.last().map(String::as_str),
        Some("mmc.exe: signed by Microsoft Windows (Valid)")
    );
    assert!(
        !console.findings.iter().any(|f| matches!(
            f.reason,
            TaskReason::UnsignedComCreator | TaskReason::UntrustedComCreator
        )),
        "{:?}",
        console.findings
    );

    let tool = lin.task("WS1", r"\Tool").unwrap();
    assert_eq!(
        tool.creation.evidence.last().map(String::as_str),
        Some("tool.exe: signer unknown (its Sysmon 1 carries none, and no Sysmon 7 of its image)")
    );
    assert_eq!(
        detail(tool, TaskReason::UntrustedComCreator),
        r"registered through the COM API by tool.exe (pid 503), under a user profile; signer unknown"
    );
    assert!(!tool.findings.iter().any(|f| f.reason == TaskReason::UnsignedComCreator));

    let agent = lin.task("WS1", r"\Agent").unwrap();
    assert_eq!(
        detail(agent, TaskReason::UnsignedComCreator),
        "registered through the COM API by agent.exe (pid 504), whose image is not signed (Signed false, SignatureStatus Unavailable)"
    );
    assert_eq!(
        detail(agent, TaskReason::UntrustedComCreator),
        "registered through the COM API by agent.exe (pid 504), outside the system's folders; not signed (Signed false, SignatureStatus Unavailable)"
    );
    assert_eq!(lin.coverage.image_signatures, 2);
}
