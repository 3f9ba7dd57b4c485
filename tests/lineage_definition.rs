//! Definition details on generated task XML: every trigger kind with its repetition, boundaries
//! and calendar, the principal (RunLevel, LogonType, SYSTEM), Hidden and DeleteExpiredTaskAfter
//! read to exact values; and the risky ones flagged with what matched (elevated or SYSTEM with a
//! user-writable action, SYSTEM through a script host, boot or logon start of a task that is not
//! Microsoft's, a self-cleaning expiry, a stored password, hidden).

mod common;

use beaconstat::lineage::{Lineage, LineageBuilder, TaskDefinition, TaskReason, TriggerKind};
use beaconstat::winevent::WinRecord;
use beaconstat::{Interval, Timestamp};
use common::lineage::details;

const EVERY_KIND: &str = r#"<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.4" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo><Date>2024-01-01T09:59:00</Date><Author>CORP\bob</Author><URI>\Kinds</URI></RegistrationInfo>
  <Triggers>
    <TimeTrigger>
      <Repetition><Interval>PT5M</Interval><Duration>PT1H</Duration><StopAtDurationEnd>true</StopAtDurationEnd></Repetition>
      <StartBoundary>2024-01-01T10:00:00</StartBoundary><EndBoundary>2024-01-01T11:00:00</EndBoundary>
      <Enabled>true</Enabled>
    </TimeTrigger>
    <CalendarTrigger><StartBoundary>2024-01-02T03:00:00</StartBoundary><ScheduleByDay><DaysInterval>2</DaysInterval></ScheduleByDay></CalendarTrigger>
    <CalendarTrigger><StartBoundary>2024-01-03T03:00:00</StartBoundary>
      <ScheduleByWeek><DaysOfWeek><Monday /><Friday /></DaysOfWeek><WeeksInterval>3</WeeksInterval></ScheduleByWeek></CalendarTrigger>
    <CalendarTrigger><StartBoundary>2024-01-04T03:00:00</StartBoundary>
      <ScheduleByMonth><DaysOfMonth><Day>1</Day><Day>15</Day><Day>Last</Day></DaysOfMonth><Months><January /><July /></Months></ScheduleByMonth></CalendarTrigger>
    <CalendarTrigger><StartBoundary>2024-01-05T03:00:00</StartBoundary>
      <ScheduleByMonthDayOfWeek><Weeks><Week>1</Week><Week>Last</Week></Weeks><DaysOfWeek><Sunday /></DaysOfWeek><Months><March /></Months></ScheduleByMonthDayOfWeek></CalendarTrigger>
    <BootTrigger><Delay>PT30S</Delay></BootTrigger>
    <LogonTrigger><UserId>CORP\bob</UserId><Repetition><Interval>PT1M</Interval></Repetition></LogonTrigger>
    <IdleTrigger><Enabled>false</Enabled></IdleTrigger>
    <EventTrigger><Subscription>&lt;QueryList&gt;&lt;Query Id="0" Path="Security"&gt;&lt;Select Path="Security"&gt;*[System[EventID=4625]]&lt;/Select&gt;&lt;/Query&gt;&lt;/QueryList&gt;</Subscription><Delay>PT1S</Delay></EventTrigger>
    <RegistrationTrigger><Delay>PT10S</Delay></RegistrationTrigger>
    <SessionStateChangeTrigger><StateChange>RemoteConnect</StateChange><UserId>CORP\eve</UserId></SessionStateChangeTrigger>
    <WnfStateChangeTrigger><StateName>7508BCA3380C960C</StateName></WnfStateChangeTrigger>
  </Triggers>
  <Principals><Principal id="Author"><UserId>CORP\bob</UserId><LogonType>Password</LogonType><RunLevel>HighestAvailable</RunLevel></Principal></Principals>
  <Settings><Hidden>true</Hidden><DeleteExpiredTaskAfter>PT0S</DeleteExpiredTaskAfter><Enabled>true</Enabled></Settings>
  <Actions Context="Author"><Exec><Command>C:\Users\Public\u.exe</Command></Exec></Actions>
</Task>"#;

#[test]
fn every_trigger_kind_and_the_principal_read_to_exact_values() {
    let d = TaskDefinition::parse(EVERY_KIND).unwrap();
    let kinds: Vec<_> = d.triggers.iter().map(|t| t.kind).collect();
    use TriggerKind::*;
    assert_eq!(
        kinds,
        [
            Time,
            Daily,
            Weekly,
            Monthly,
            Monthly,
            Boot,
            Logon,
            Idle,
            Event,
            Registration,
            SessionStateChange,
            Other
        ]
    );
    let t = &d.triggers;
    assert_eq!(t[0].repetition, Some(Interval::from_secs(300)));
    assert_eq!(t[0].repetition_duration, Some(Interval::from_secs(3600)));
    assert!(t[0].stop_at_duration_end);
    assert_eq!(t[0].start_boundary.as_deref(), Some("2024-01-01T10:00:00"));
    assert_eq!(t[0].end_boundary.as_deref(), Some("2024-01-01T11:00:00"));
    assert_eq!(t[0].end(), Timestamp::parse_rfc3339("2024-01-01T11:00:00Z"));
    assert_eq!(t[1].every, Some(2));
    assert_eq!(
        (t[2].every, t[2].days_of_week.as_slice()),
        (Some(3), &["Monday".to_owned(), "Friday".to_owned()][..])
    );
    assert_eq!(t[3].days_of_month, ["1", "15", "Last"]);
    assert_eq!(t[3].months, ["January", "July"]);
    assert_eq!(
        (t[4].weeks.as_slice(), t[4].days_of_week.as_slice()),
        (&["1".to_owned(), "Last".to_owned()][..], &["Sunday".to_owned()][..])
    );
    assert_eq!(t[4].months, ["March"]);
    assert_eq!(t[5].delay, Some(Interval::from_secs(30)));
    assert_eq!(t[6].user_id.as_deref(), Some(r"CORP\bob"));
    assert_eq!(t[6].repetition, Some(Interval::from_secs(60)));
    assert!(!t[7].enabled);
    assert_eq!(
        t[8].subscription.as_deref(),
        Some(
            r#"<QueryList><Query Id="0" Path="Security"><Select Path="Security">*[System[EventID=4625]]</Select></Query></QueryList>"#
        )
    );
    assert_eq!(t[9].delay, Some(Interval::from_secs(10)));
    assert_eq!(
        (t[10].state_change.as_deref(), t[10].user_id.as_deref()),
        (Some("RemoteConnect"), Some(r"CORP\eve"))
    );
    assert_eq!(t[11].element.as_deref(), Some("WnfStateChangeTrigger"));
    // In words, as `tasks` prints them.
    let words: Vec<String> = t.iter().map(|t| t.describe()).collect();
    assert_eq!(
        words,
        [
            "time from 2024-01-01T10:00:00 until 2024-01-01T11:00:00, repeating every 300s for 3600s, stopped at the end",
            "daily every 2 days from 2024-01-02T03:00:00",
            "weekly every 3 weeks on Monday, Friday from 2024-01-03T03:00:00",
            "monthly on days 1, 15, Last in January, July from 2024-01-04T03:00:00",
            "monthly in weeks 1, Last on Sunday in March from 2024-01-05T03:00:00",
            "boot delayed 30s",
            r"logon of CORP\bob, repeating every 60s",
            "idle (disabled)",
            r#"event subscription <QueryList><Query Id="0" Path="Security"><Select Path="Security">*[System[EventID=4625]]</Select></Query></QueryList> delayed 1s"#,
            "registration delayed 10s",
            r"session state change of CORP\eve on RemoteConnect",
            "WnfStateChangeTrigger",
        ]
    );
    // The shortest enabled repetition is the period; the disabled idle trigger has none.
    assert_eq!(d.period(), Some(Interval::from_secs(60)));
    let p = &d.principal;
    assert!(p.elevated() && p.stores_password() && !p.is_system());
    assert_eq!(p.describe(), r"CORP\bob, RunLevel HighestAvailable, LogonType Password");
    assert!(d.hidden);
    assert_eq!(d.delete_expired_after, Some(Interval::ZERO));
}

fn json_xml(xml: &str) -> String {
    xml.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "")
}

/// One 4698 of `task` by CORP\bob at 10:00 on WS1.
fn registered(task: &str, xml: &str) -> String {
    format!(
        r#"{{"EventID":4698,"Channel":"Security","Hostname":"WS1","TimeCreated":"2024-01-01T10:00:00Z","SubjectUserName":"bob","SubjectDomainName":"CORP","SubjectLogonId":"0x1","TaskName":"{}","TaskContent":"{}"}}"#,
        task.replace('\\', "\\\\"),
        json_xml(xml)
    )
}

fn lineage(lines: &[String]) -> Lineage {
    let mut b = LineageBuilder::new();
    let mut rec = WinRecord::new();
    for l in lines {
        rec.parse_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        b.push_record(&rec);
    }
    b.build()
}

fn task_xml(registration: &str, triggers: &str, principal: &str, settings: &str, command: &str) -> String {
    format!(
        "<Task><RegistrationInfo>{registration}</RegistrationInfo><Triggers>{triggers}</Triggers>\
         <Principals><Principal>{principal}</Principal></Principals><Settings>{settings}</Settings>\
         <Actions><Exec><Command>{command}</Command></Exec></Actions></Task>"
    )
}

#[test]
fn risky_definitions_are_flagged_with_what_matched() {
    let lin = lineage(&[
        // Elevated, password stored, hidden, started at logon, action under Users\Public.
        registered(r"\Kinds", EVERY_KIND),
        // SYSTEM through PowerShell, at boot, in a user-writable folder.
        registered(
            r"\Updater",
            &task_xml(
                "",
                "<BootTrigger><Enabled>true</Enabled></BootTrigger>",
                "<UserId>S-1-5-18</UserId><RunLevel>LeastPrivilege</RunLevel>",
                "",
                r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
            )
            .replace(
                "</Command>",
                r"</Command><Arguments>-f C:\ProgramData\u.ps1</Arguments>",
            ),
        ),
        // Expires five minutes after its start and deletes itself.
        registered(
            r"\Once",
            &task_xml(
                "",
                "<TimeTrigger><StartBoundary>2024-01-01T10:01:00</StartBoundary><EndBoundary>2024-01-01T10:06:00</EndBoundary></TimeTrigger>",
                "<UserId>CORP\\bob</UserId><LogonType>InteractiveToken</LogonType>",
                "<DeleteExpiredTaskAfter>PT0S</DeleteExpiredTaskAfter>",
                r"C:\Tools\job.exe",
            ),
        ),
        // A start years in the past, expiring two minutes after the registration.
        registered(
            r"\Past",
            &task_xml(
                "<Date>2024-01-01T10:00:00</Date>",
                "<TimeTrigger><StartBoundary>2015-07-15T20:35:13.2757294</StartBoundary><EndBoundary>2024-01-01T10:02:00</EndBoundary></TimeTrigger>",
                "<UserId>CORP\\bob</UserId>",
                "",
                r"C:\Tools\job.exe",
            ),
        ),
        // Microsoft's own at boot, a month-long window, an S4U principal: nothing to flag.
        registered(
            r"\Microsoft\Windows\Maintenance\Check",
            &task_xml(
                "<Author>Microsoft Corporation</Author>",
                "<BootTrigger/><TimeTrigger><StartBoundary>2024-01-01T10:00:00</StartBoundary><EndBoundary>2024-02-01T10:00:00</EndBoundary></TimeTrigger>",
                "<UserId>CORP\\bob</UserId><LogonType>S4U</LogonType><RunLevel>HighestAvailable</RunLevel>",
                "",
                r"%windir%\system32\sc.exe",
            ),
        ),
    ]);
    let kinds = lin.task("WS1", r"\Kinds").unwrap();
    assert_eq!(
        details(kinds, TaskReason::ElevatedUserWritable),
        [
            r"runs elevated (RunLevel HighestAvailable) an action under Users\Public, which any user can replace: C:\Users\Public\u.exe"
        ]
    );
    assert_eq!(
        details(kinds, TaskReason::BootOrLogonTrigger),
        ["starts at every boot (boot delayed 30s), and is not a Microsoft task"]
    );
    assert_eq!(
        details(kinds, TaskReason::StoredPassword),
        [r"stores the password of CORP\bob with the task (LogonType Password)"]
    );
    assert_eq!(
        details(kinds, TaskReason::Hidden),
        ["the task is hidden (Settings Hidden true)"]
    );
    assert_eq!(
        details(kinds, TaskReason::SelfCleaning),
        [
            "expires at 2024-01-01T11:00:00 (EndBoundary), 3600s after its StartBoundary 2024-01-01T10:00:00; DeleteExpiredTaskAfter 0s then deletes it"
        ]
    );
    let updater = lin.task("WS1", r"\Updater").unwrap();
    assert_eq!(
        details(updater, TaskReason::SystemScriptHost),
        [
            r"runs as SYSTEM (S-1-5-18) through powershell.exe: C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -f C:\ProgramData\u.ps1"
        ]
    );
    assert_eq!(
        details(updater, TaskReason::ElevatedUserWritable),
        [r"runs as SYSTEM (S-1-5-18) an action under ProgramData, which any user can replace: C:\ProgramData\u.ps1"]
    );
    assert_eq!(
        details(updater, TaskReason::BootOrLogonTrigger),
        ["starts at every boot (boot), and is not a Microsoft task"]
    );
    let once = lin.task("WS1", r"\Once").unwrap();
    assert_eq!(
        details(once, TaskReason::SelfCleaning),
        [
            "expires at 2024-01-01T10:06:00 (EndBoundary), 300s after its StartBoundary 2024-01-01T10:01:00; DeleteExpiredTaskAfter 0s then deletes it"
        ]
    );
    assert!(details(once, TaskReason::StoredPassword).is_empty());
    let past = lin.task("WS1", r"\Past").unwrap();
    assert_eq!(
        details(past, TaskReason::SelfCleaning),
        [
            "its trigger starts in the past (2015-07-15T20:35:13.2757294) and expires at 2024-01-01T10:02:00 (EndBoundary), 120s after its registration"
        ]
    );
    let ms = lin.task("WS1", r"\Microsoft\Windows\Maintenance\Check").unwrap();
    for r in [
        TaskReason::BootOrLogonTrigger,
        TaskReason::SelfCleaning,
        TaskReason::StoredPassword,
        TaskReason::ElevatedUserWritable,
        TaskReason::SystemScriptHost,
    ] {
        assert!(details(ms, r).is_empty(), "{r:?}: {:?}", ms.findings);
    }
}
