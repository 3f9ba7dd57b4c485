//! Task XML parsing on real 4698/4702 task definitions.
mod common;

use beaconstat::lineage::{TaskAction, TaskDefinition, TriggerKind};
use beaconstat::winevent::{TaskEvent, TaskEventKind};
use beaconstat::winevent::{WinEventReader, WinRecord};
use std::path::Path;

/// Every 4698/4702 of a JSON-lines file: (kind, task name, parsed definition).
fn task_xml(path: &Path) -> Vec<(TaskEventKind, String, TaskDefinition)> {
    let mut rdr = WinEventReader::from_path(path).unwrap();
    let mut rec = WinRecord::new();
    let mut out = Vec::new();
    while rdr.read_record(&mut rec).unwrap() {
        if let Some(ev) = TaskEvent::from_record(&rec)
            && let Some(xml) = ev.xml
        {
            let def = TaskDefinition::parse(xml).unwrap_or_else(|e| panic!("{:?}: {e}", ev.task_name));
            out.push((ev.kind, ev.task_name.unwrap_or_default().to_owned(), def));
        }
    }
    out
}

#[test]
fn otrf_remote_modification_4702() {
    let Some(dir) = common::data("tasks_otrf") else { return };
    let defs = task_xml(&dir.join("schtask_modification_2020-12-1907505969.json"));
    assert_eq!(defs.len(), 1);
    let (kind, name, d) = &defs[0];
    assert_eq!(*kind, TaskEventKind::Updated);
    assert_eq!(name, r"\Microsoft\Windows\SoftwareProtectionPlatform\EventCacheManager");
    assert_eq!(d.uri.as_deref(), Some(name.as_str()));
    assert_eq!(d.author.as_deref(), Some(r"THESHIRE\pgustavo"));
    assert_eq!(d.date.as_deref(), Some("2020-12-19T07:00:22"));
    assert_eq!(d.principal.user_id.as_deref(), Some("System"));
    assert!(d.principal.is_system());
    assert_eq!(d.principal.run_level.as_deref(), Some("LeastPrivilege"));
    assert!(!d.hidden);
    assert!(d.enabled);
    assert!(d.truncated, "Windows cut the 4702 XML inside <Arguments>");
    assert_eq!(d.triggers.len(), 1);
    assert_eq!(d.triggers[0].kind, TriggerKind::Boot);
    assert_eq!(d.triggers[0].start_boundary.as_deref(), Some("2020-12-19T07:00:00"));
    assert_eq!(d.triggers[0].end_boundary, None);
    assert!(d.triggers[0].enabled);
    assert_eq!(d.triggers[0].describe(), "boot from 2020-12-19T07:00:00");
    assert_eq!(d.principal.describe(), "System (SYSTEM), RunLevel LeastPrivilege");
    assert!(!d.principal.elevated() && !d.principal.stores_password());
    assert_eq!(d.delete_expired_after, None);
    assert_eq!(d.period(), None);
    let (cmd, args) = d.exec().unwrap();
    assert_eq!(cmd, "powershell");
    assert!(
        args.unwrap()
            .starts_with("-noP -sta -w 1 -enc  SQBGACgAJABQAFMAVgBFAHIAcwBpAG8ATgBUAGEAQgBsAEUA")
    );
}

#[test]
fn otrf_remote_creation_4698() {
    let Some(dir) = common::data("tasks_otrf") else { return };
    let defs = task_xml(&dir.join("schtask_create_2020-12-1907003032.json"));
    assert_eq!(defs.len(), 1);
    let (kind, _, d) = &defs[0];
    assert_eq!(*kind, TaskEventKind::Created);
    assert!(!d.truncated);
    assert_eq!(
        d.actions,
        [TaskAction::Exec {
            command: r"C:\Windows\system32\cmd.exe".into(),
            arguments: Some(r"/C C:\Windows\System32\notepad.exe".into()),
            working_directory: None
        }]
    );
    assert_eq!(d.principal.user_id.as_deref(), Some("S-1-5-18"));
    assert_eq!(d.triggers[0].kind, TriggerKind::Boot);
}

#[test]
fn otrf_doubly_escaped_builtin_tasks() {
    let Some(dir) = common::data("tasks_otrf") else { return };
    let defs = task_xml(&dir.join("empire_shell_rubeus_asktgt_createnetonly_2020-09-21230246.json"));
    assert_eq!(defs.len(), 4);
    let (_, name, d) = defs.iter().find(|(_, n, _)| n.ends_with("AC Power Download")).unwrap();
    assert_eq!(d.uri.as_deref(), Some(name.as_str()));
    assert_eq!(
        d.uri.as_deref(),
        Some(r"\Microsoft\Windows\UpdateOrchestrator\AC Power Download")
    );
    assert_eq!(
        d.exec(),
        Some((r"%systemroot%\system32\usoclient.exe", Some("StartDownload")))
    );
    assert_eq!(d.triggers.len(), 1);
    assert_eq!(d.triggers[0].kind, TriggerKind::Other, "WnfStateChangeTrigger");
    assert_eq!(d.triggers[0].element.as_deref(), Some("WnfStateChangeTrigger"));
    assert_eq!(d.triggers[0].describe(), "WnfStateChangeTrigger");
    assert!(d.principal.is_system());
    assert_eq!(d.principal.run_level.as_deref(), Some("LeastPrivilege"));
    assert!(!d.hidden);
}

/// The `.evtx` samples (decoded by the `evtx` dev-dependency).
mod evtx {
    use super::*;
    use beaconstat::Interval;

    fn evtx_defs(path: &Path) -> Vec<(TaskEventKind, String, TaskDefinition)> {
        let mut out = Vec::new();
        common::read_events(path, |rec| {
            if let Some(ev) = TaskEvent::from_record(rec)
                && let Some(xml) = ev.xml
            {
                out.push((
                    ev.kind,
                    ev.task_name.unwrap_or_default().to_owned(),
                    TaskDefinition::parse(xml).unwrap(),
                ));
            }
        });
        out
    }

    #[test]
    fn mitre_system_task_every_minute() {
        let Some(dir) = common::data("tasks_evtx_mitre") else {
            return;
        };
        let defs = evtx_defs(&dir.join("ID4688-4698_Persistent_scheduled_task_with_SYSTEM_privileges_creation.evtx"));
        assert_eq!(defs.len(), 1);
        let (_, name, d) = &defs[0];
        assert_eq!(name, r"\eviltask");
        assert_eq!(d.author.as_deref(), Some(r"OFFSEC\admmig"));
        assert_eq!(d.triggers[0].kind, TriggerKind::Time);
        assert_eq!(d.triggers[0].repetition, Some(Interval::from_secs(60)));
        assert_eq!(d.triggers[0].repetition_duration, None, "indefinitely");
        assert_eq!(d.triggers[0].start_boundary.as_deref(), Some("2021-04-21T13:30:00"));
        assert_eq!(d.triggers[0].end_boundary, None);
        assert_eq!(
            d.triggers[0].describe(),
            "time from 2021-04-21T13:30:00, repeating every 60s"
        );
        assert_eq!(d.principal.describe(), "S-1-5-18 (SYSTEM), RunLevel LeastPrivilege");
        assert_eq!(d.period(), Some(Interval::from_secs(60)));
        assert_eq!(d.exec().map(|e| e.0), Some(r"C:\tools\shell.cmd"));
        assert!(d.principal.is_system());
    }

    #[test]
    fn atexec_hidden_task() {
        let Some(dir) = common::data("tasks_evtx_attack") else {
            return;
        };
        let defs = evtx_defs(&dir.join("temp_scheduled_task_4698_4699.evtx"));
        assert_eq!(defs.len(), 2);
        let (kind, name, d) = &defs[0];
        assert_eq!(*kind, TaskEventKind::Created);
        assert_eq!(name, r"\CYAlyNSS");
        assert!(d.hidden);
        assert_eq!(
            d.exec(),
            Some(("cmd.exe", Some(r"/C tasklist > %windir%\Temp\CYAlyNSS.tmp 2>&1")))
        );
        assert_eq!(d.triggers[0].kind, TriggerKind::Daily);
        assert_eq!(d.period(), Some(Interval::from_secs(86_400)));
        assert_eq!(d.principal.run_level.as_deref(), Some("HighestAvailable"));
        assert_eq!(d.principal.logon_type.as_deref(), Some("InteractiveToken"));
        // Impacket's atexec: a daily trigger from a fixed start in 2015, no end, elevated.
        let t = &d.triggers[0];
        assert_eq!(
            (t.start_boundary.as_deref(), t.end_boundary.as_deref(), t.every),
            (Some("2015-07-15T20:35:13.2757294"), None, Some(1))
        );
        assert_eq!(t.describe(), "daily every 1 days from 2015-07-15T20:35:13.2757294");
        assert!(d.principal.elevated() && !d.principal.stores_password());
        assert_eq!(d.delete_expired_after, None);
        assert_eq!(defs[1].0, TaskEventKind::Deleted);
    }
}

/// Every task XML in every sample parses (none is refused as malformed).
#[test]
fn every_sample_task_xml_parses() {
    let mut n = 0;
    for sub in ["tasks_evtx_attack", "tasks_evtx_mitre", "tasks_otrf"] {
        let Some(dir) = common::data(sub) else { return };
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "evtx" || e == "json"))
            .collect();
        files.sort();
        for f in files {
            common::read_events(&f, |rec| {
                if let Some(ev) = TaskEvent::from_record(rec)
                    && let Some(xml) = ev.xml
                {
                    TaskDefinition::parse(xml).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                    n += 1;
                }
            });
        }
    }
    // Events with XML: attack 4 (4698 + 4699, in two files), mitre 3 (its 4699s have an empty
    // TaskContent), otrf 6 (one 4698, one 4702, four doubly escaped built-in 4698/4702).
    assert_eq!(n, 13);
}
