//! One host, however it is named: `WS01`, `ws01.corp.example` and their case variants are one
//! machine in lineage, in the baseline and in AN1113's coverage; a short name shared by two
//! domains stays apart from both.

use beaconstat::an1113::An1113Builder;
use beaconstat::lineage::{CreationMethod, LifeKind, Lineage, LineageBuilder, TaskBaseline, TaskReason};
use beaconstat::winevent::WinRecord;

fn sysmon(host: &str, id: u32, t: &str, data: &str) -> String {
    format!(
        r#"{{"EventID":{id},"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"{host}","UtcTime":"2024-01-01 10:{t}",{data}}}"#
    )
}

fn sec(host: &str, id: u32, t: &str, data: &str) -> String {
    format!(r#"{{"EventID":{id},"Channel":"Security","Hostname":"{host}","TimeCreated":"2024-01-01T10:{t}Z",{data}}}"#)
}

fn task_xml(command: &str) -> String {
    format!("<Task><Actions><Exec><Command>{command}</Command></Exec></Actions></Task>")
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

fn registered(host: &str, t: &str, task: &str, command: &str) -> String {
    sec(
        host,
        4698,
        t,
        &format!(
            r#""SubjectUserName":"admin","SubjectDomainName":"CORP","SubjectLogonId":"0x1","TaskName":"{task}","TaskContent":"{}""#,
            task_xml(command)
        ),
    )
}

fn build(mut b: LineageBuilder, lines: &[String]) -> Lineage {
    let mut rec = WinRecord::new();
    for l in lines {
        rec.parse_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        b.push_record(&rec);
    }
    b.build()
}

/// Sysmon names the host `WS01`, Security `ws01.corp.example`, a later export
/// `WS01.CORP.EXAMPLE`: one host, named by its FQDN, whose schtasks process (Sysmon) is the
/// creator of the task Security registered, and whose deletion is in the same life.
/// `WS02` with two FQDNs in two domains is three hosts.
#[test]
fn a_bare_name_and_its_fqdn_are_one_host_in_lineage() {
    let schtasks = r#""ProcessGuid":"{P1}","ProcessId":"4242","Image":"C:\\Windows\\System32\\schtasks.exe","CommandLine":"schtasks /create /tn \\Upd /tr C:\\Users\\Public\\u.exe /sc minute","ParentProcessGuid":"{P0}""#;
    let lin = build(
        LineageBuilder::new(),
        &[
            sysmon("WS01", 1, "00:00.100", schtasks),
            registered("ws01.corp.example", "00:00.300", r"\\Upd", r"C:\Users\Public\u.exe"),
            sec("WS01.CORP.EXAMPLE", 4699, "05:00", r#""TaskName":"\\Upd""#),
            registered("WS02", "00:00", r"\\A", "a.exe"),
            registered("ws02.corp.example", "00:00", r"\\B", "b.exe"),
            registered("ws02.lab.example", "00:00", r"\\C", "c.exe"),
        ],
    );
    let hosts: Vec<_> = lin.hosts.iter().map(|h| h.host.as_str()).collect();
    assert_eq!(
        hosts,
        ["ws01.corp.example", "WS02", "ws02.corp.example", "ws02.lab.example"]
    );
    // Any spelling finds the merged host; the ambiguous short name finds its own host.
    for name in ["WS01", "ws01", "WS01.corp.example"] {
        assert_eq!(
            lin.host(name).map(|h| h.host.as_str()),
            Some("ws01.corp.example"),
            "{name}"
        );
    }
    assert_eq!(lin.host("ws02").map(|h| h.host.as_str()), Some("WS02"));
    let t = lin.task("WS01", r"\Upd").unwrap();
    assert_eq!(t.creation.method, CreationMethod::Schtasks);
    let creator = t.creation.process.as_ref().unwrap();
    assert_eq!(creator.host, "ws01.corp.example");
    assert_eq!(lin.host("WS01").unwrap().processes[creator.id].pid, Some(4242));
    let life: Vec<_> = t.life.iter().map(|l| (l.what, l.source.as_str())).collect();
    assert_eq!(
        life,
        [
            (LifeKind::Created, "schtasks /create"),
            (LifeKind::Created, "Security 4698"),
            (LifeKind::Deleted, "Security 4699")
        ]
    );
    for (host, task) in [
        ("WS02", r"\A"),
        ("ws02.corp.example", r"\B"),
        ("ws02.lab.example", r"\C"),
    ] {
        let h = lin.hosts.iter().find(|h| h.host == host).unwrap();
        let names: Vec<_> = h.tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, [task], "{host}");
    }
}

/// `schtasks /S WS06` run on `ws05.corp.example` where `ws06.corp.example` and
/// `ws06.lab.example` both log: the task is the one in the creator's own domain.
#[test]
fn a_remote_schtasks_target_resolves_in_the_creators_domain() {
    let schtasks = r#""ProcessGuid":"{P1}","ProcessId":"77","Image":"C:\\Windows\\System32\\schtasks.exe","CommandLine":"schtasks /create /S WS06 /tn \\Far /tr calc.exe /sc once /st 10:30","ParentProcessGuid":"{P0}""#;
    let lin = build(
        LineageBuilder::new(),
        &[
            registered("ws06.lab.example", "00:00", r"\\Other", "x.exe"),
            sysmon("ws05.corp.example", 1, "00:00.100", schtasks),
            registered("ws06.corp.example", "00:00.400", r"\\Far", "calc.exe"),
        ],
    );
    let t = lin.task("ws06.corp.example", r"\Far").unwrap();
    assert_eq!(t.creation.method, CreationMethod::Schtasks);
    assert_eq!(t.creation.process.as_ref().unwrap().host, "ws05.corp.example");
    assert!(lin.task("ws06.lab.example", r"\Far").is_none());
}

/// A baseline saved when the hosts were logged by short name, and data that logs one of them
/// by FQDN: that host is counted once, so the outlier's sentence counts three hosts, not four.
#[test]
fn the_baseline_counts_a_host_once_whatever_its_spelling() {
    let mut baseline = TaskBaseline::new();
    for h in ["ws1", "ws2", "ws3"] {
        baseline.add_definition(r"\Backup", r"C:\Tools\backup.exe", h);
    }
    baseline.add_definition(r"\Backup", r"C:\Tools\backup.exe", "WS3.corp.example");
    assert_eq!(baseline.hosts_with_task(r"\Backup"), 3);
    assert_eq!(baseline.hosts_with_definition(r"\Backup", r"C:\Tools\backup.exe"), 3);
    let mut b = LineageBuilder::new();
    b.baseline(baseline);
    let lin = build(
        b,
        &[registered(
            "WS3.corp.example",
            "00:00",
            r"\\Backup",
            r"C:\Users\Public\b.exe",
        )],
    );
    let t = lin.task("ws3", r"\Backup").unwrap();
    let f = t
        .findings
        .iter()
        .find(|f| f.reason == TaskReason::ActionDiffersAcrossHosts)
        .unwrap();
    assert_eq!(
        f.detail,
        r"on this host its action is `c:\users\public\b.exe`; 3 of the 3 hosts with this task run `c:\tools\backup.exe`"
    );
}

/// AN1113's coverage: Sysmon 3 under `WS01` and a 4688 under `ws01.corp.example` are one
/// host's telemetry, named as lineage names it; `WS02` with two domains is three hosts.
#[test]
fn coverage_counts_one_host_whatever_its_spelling() {
    let conn = r#""ProcessGuid":"{P1}","ProcessId":"42","Image":"C:\\Tools\\agent.exe","SourceIp":"10.0.0.5","DestinationIp":"203.0.113.9","DestinationPort":"443""#;
    let proc4688 = r#""NewProcessId":"0x2a","ProcessId":"0x4","NewProcessName":"C:\\Tools\\agent.exe","CommandLine":"agent.exe","SubjectUserName":"bob","SubjectDomainName":"CORP","SubjectLogonId":"0x5""#;
    let lines = [
        sysmon("WS01", 3, "00:00.000", conn),
        sec("ws01.corp.example", 4688, "00:00", proc4688),
        sec("ws01.CORP.example", 4688, "00:01", proc4688),
        sec("WS02", 4688, "00:00", proc4688),
        sec("ws02.corp.example", 4688, "00:00", proc4688),
        sec("ws02.lab.example", 4688, "00:00", proc4688),
    ];
    let mut b = An1113Builder::new();
    let file = b.file("events.json");
    let mut rec = WinRecord::new();
    for l in &lines {
        rec.parse_str(l).unwrap();
        b.push_record(&rec, file);
    }
    let r = b.build();
    let cov: Vec<_> = r
        .coverage
        .iter()
        .map(|c| (c.host.as_str(), c.telemetry.sysmon3, c.telemetry.security4688))
        .collect();
    assert_eq!(
        cov,
        [
            ("ws01.corp.example", 1, 2),
            ("WS02", 0, 1),
            ("ws02.corp.example", 0, 1),
            ("ws02.lab.example", 0, 1)
        ]
    );
}
