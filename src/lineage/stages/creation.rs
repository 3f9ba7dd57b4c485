//! Stage 5, creation: who created (or last changed) each task and how, first match wins: a
//! `schtasks` / `at` process near the registration; the 4698 `ClientProcessId`; remote
//! evidence (client PID 0 with locality 0, 4624 type 3 on the logon session, 5145 `atsvc`);
//! PowerShell 4104; a `taskschd.dll` load; TaskCache writes only.

use super::context::{BuildContext, TaskAcc, ToolUse, after, secs};
use crate::lineage::collected::RawEvidence;
use crate::lineage::model::{CreationMethod, LifeKind, TaskCreation};
use crate::lineage::naming::{file_name, image_stem};
use crate::lineage::process::ProcessLink;
use crate::time::Timestamp;
use crate::winevent::{EvidenceKind, TaskEventKind};

fn fmt_logon(l: u64) -> String {
    format!("{l:#x}")
}

/// How task `acc` of host `h` came to exist, with the evidence that decided it.
pub(super) fn creation(cx: &BuildContext<'_>, h: usize, acc: &TaskAcc) -> TaskCreation {
    let (reg, tools, life, name) = (&acc.reg, &acc.tools, &acc.life, acc.name.as_str());
    let raw = &cx.task_events;
    let evidence = &cx.evidence;
    let hosts = &cx.hosts;
    let cfg = cx.cfg;
    let hs = &cx.host[h];
    let mut c = TaskCreation {
        method: CreationMethod::Unknown,
        evidence: Vec::new(),
        user: None,
        logon_id: None,
        process: None,
        remote: false,
        remote_source: None,
        by_update: false,
    };
    // The registration event: first creation, else first update.
    let first = reg
        .iter()
        .find(|&&i| matches!(raw[i].kind, TaskEventKind::Created))
        .or_else(|| reg.iter().find(|&&i| matches!(raw[i].kind, TaskEventKind::Registered)))
        .or_else(|| reg.iter().find(|&&i| matches!(raw[i].kind, TaskEventKind::Updated)))
        .or_else(|| {
            reg.iter()
                .find(|&&i| matches!(raw[i].kind, TaskEventKind::RegistrationUpdated))
        })
        .map(|&i| &raw[i]);
    c.by_update = match first {
        Some(t) => matches!(t.kind, TaskEventKind::Updated | TaskEventKind::RegistrationUpdated),
        None => life
            .iter()
            .find(|l| matches!(l.what, LifeKind::Created | LifeKind::Updated))
            .is_some_and(|l| l.what == LifeKind::Updated),
    };
    let when = first.map(|t| t.ts).or_else(|| {
        life.iter()
            .find(|l| matches!(l.what, LifeKind::Created | LifeKind::Updated))
            .map(|l| l.ts)
    });
    if let Some(t) = first {
        c.user = cx.text(t.user).map(str::to_owned);
        c.logon_id = t.logon_id;
        c.evidence.push(format!(
            "{} {} by {}{}",
            if t.event_id >= 4000 {
                "Security"
            } else {
                "TaskScheduler"
            },
            t.event_id,
            cx.text(t.user).unwrap_or("?"),
            t.logon_id
                .map(|l| format!(" (logon {})", fmt_logon(l)))
                .unwrap_or_default()
        ));
    }
    let near = |ts: Timestamp| when.is_none_or(|w| ts <= after(w, 1) && w - ts <= cfg.creator_window);
    // a) schtasks / at seen.
    if let Some(&ToolUse {
        host: th,
        process: pi,
        at,
        ..
    }) = tools.iter().filter(|t| near(t.ts)).min_by_key(|t| t.ts)
        && let Some(p) = cx.host.get(th).and_then(|s| s.procs.get(pi.index()))
    {
        c.method = if at {
            CreationMethod::At
        } else {
            CreationMethod::Schtasks
        };
        c.process = Some(ProcessLink {
            host: hosts[th].clone(),
            id: pi,
        });
        c.evidence.push(format!(
            "{} on {}: {}",
            p.image_name().unwrap_or("schtasks.exe"),
            hosts[th],
            p.command_line.as_deref().unwrap_or("")
        ));
        if c.user.is_none() {
            c.user = p.user.clone();
        }
        if th != h {
            c.remote = true;
            c.remote_source = Some(hosts[th].clone());
        }
    }
    // b) 4698 v1 ClientProcessId.
    if let Some(t) = first {
        match (t.client_pid, t.rpc_locality) {
            (Some(0), Some(0)) | (Some(0), None) => {
                c.remote = true;
                c.evidence.push(
                    "ClientProcessId 0 with RpcCallClientLocality 0: registered over RPC from another host".into(),
                );
                if c.method == CreationMethod::Unknown {
                    c.method = CreationMethod::Remote;
                }
            }
            (Some(pid), _) if pid != 0 && c.process.is_none() => {
                let ps = &hs.procs;
                let found = hs.index.pid_at(ps, pid, after(t.ts, 1));
                if let Some(j) = found {
                    let img = ps[j.index()].image.as_deref().map(image_stem).unwrap_or_default();
                    c.method = match img.as_str() {
                        "schtasks" => CreationMethod::Schtasks,
                        "powershell" | "pwsh" => CreationMethod::PowerShell,
                        _ => CreationMethod::ComApi,
                    };
                    c.process = Some(ProcessLink {
                        host: hosts[h].clone(),
                        id: j,
                    });
                    c.evidence.push(format!(
                        "ClientProcessId {pid} = {}",
                        ps[j.index()].image_name().unwrap_or("?")
                    ));
                } else {
                    c.method = CreationMethod::ComApi;
                    c.evidence
                        .push(format!("ClientProcessId {pid} (process not in the data)"));
                }
            }
            _ => {}
        }
    }
    // c) 4624 type 3 on the same logon session; 5145 atsvc.
    if let Some(t) = first {
        if let Some(l) = t.logon_id
            && let Some(e) = evidence
                .iter()
                .find(|e| e.host == h && e.kind == EvidenceKind::NetworkLogon && e.logon_id == Some(l))
        {
            c.remote = true;
            let ip = e.ip.as_deref().filter(|i| !i.is_empty() && *i != "-");
            c.evidence.push(format!(
                "4624 logon type 3 for logon {}{}",
                fmt_logon(l),
                ip.map(|i| format!(" from {i}")).unwrap_or_default()
            ));
            if let Some(ip) = ip {
                c.remote_source = Some(ip.to_owned());
            }
        }
        if let Some(e) = evidence
            .iter()
            .filter(|e| e.host == h && e.kind == EvidenceKind::AtsvcPipe && near(e.ts))
            .filter(|e| {
                let u = cx.text(t.user).unwrap_or("");
                e.user.as_deref().is_none_or(|eu| u.is_empty() || u.ends_with(eu))
            })
            .max_by_key(|e| e.ts)
        {
            c.remote = true;
            let ip = e.ip.as_deref().filter(|i| !i.is_empty() && *i != "-");
            c.evidence.push(format!(
                "5145 {}\\atsvc{} (remote at / atexec)",
                e.detail.as_deref().unwrap_or("IPC$"),
                ip.map(|i| format!(" from {i}")).unwrap_or_default()
            ));
            if let Some(ip) = ip {
                c.remote_source = Some(ip.to_owned());
            }
        }
    }
    if c.remote && c.method == CreationMethod::Unknown {
        c.method = CreationMethod::Remote;
    }
    // d) PowerShell 4104 and taskschd.dll loads near the registration.
    if c.method == CreationMethod::Unknown {
        let leaf = name.rsplit('\\').next().unwrap_or(name).to_ascii_lowercase();
        if let Some(e) = evidence.iter().find(|e| {
            e.host == h
                && e.kind == EvidenceKind::ScriptBlock
                && (near(e.ts)
                    || e.target
                        .as_deref()
                        .is_some_and(|s| s.to_ascii_lowercase().contains(&leaf)))
        }) {
            c.method = CreationMethod::PowerShell;
            c.evidence
                .push("PowerShell 4104 script block with ScheduledTasks cmdlets".into());
            let _ = e;
        } else if let Some((e, joined)) =
            com_loader(cx, h, acc, first.and_then(|t| t.client_pid), when.is_some(), &near)
        {
            let img = e.image.as_deref().map(image_stem).unwrap_or_default();
            c.method = if img == "powershell" || img == "pwsh" {
                CreationMethod::PowerShell
            } else {
                CreationMethod::ComApi
            };
            c.evidence.push(format!(
                "Sysmon 7: {} loaded taskschd.dll{}",
                e.image.as_deref().map(file_name).unwrap_or("?"),
                joined.map(|j| format!(", and {j}")).unwrap_or_default()
            ));
            let found = e
                .guid
                .as_deref()
                .and_then(|g| hs.index.guid(g))
                .or_else(|| hs.index.pid_at(&hs.procs, e.pid?, e.ts));
            if let Some(j) = found {
                c.process = Some(ProcessLink {
                    host: hosts[h].clone(),
                    id: j,
                });
            }
        }
    }
    // e) Registry only.
    if c.method == CreationMethod::Unknown
        && first.is_none()
        && life
            .iter()
            .any(|l| matches!(l.what, LifeKind::RegistryWritten | LifeKind::RegistryHidden))
        && !life.iter().any(|l| l.what == LifeKind::FileWritten)
    {
        c.method = CreationMethod::RegistryOnly;
        c.evidence
            .push("TaskCache registry writes with no 4698/106 and no tool seen".into());
        // The writer of the first TaskCache value, where Sysmon named it.
        if let Some(l) = life
            .iter()
            .find(|l| matches!(l.what, LifeKind::RegistryWritten | LifeKind::RegistryHidden) && l.process.is_some())
        {
            c.process = l.process.clone();
            c.user = c.user.take().or_else(|| l.user.clone());
        }
    }
    // Who used the COM API or wrote the TaskCache: its image's signer, or that none is known.
    if matches!(c.method, CreationMethod::ComApi | CreationMethod::RegistryOnly)
        && let Some(pl) = c.process.as_ref().filter(|pl| pl.host == hosts[h])
        && let Some(p) = hs.procs.get(pl.id.index())
    {
        let image = p.image.as_deref().map_or("?", file_name);
        c.evidence.push(match &p.signer {
            Some(s) => format!("{image}: {s}"),
            None => format!("{image}: signer unknown (its Sysmon 1 carries none, and no Sysmon 7 of its image)"),
        });
    }
    c
}

/// The `taskschd.dll` load (Sysmon 7) behind a COM registration, joined by process where the
/// telemetry allows: the process that wrote the task's TaskCache keys or whose PID the 4698
/// names, else (when a registration was seen) the latest load on the host within the creator
/// window. Returns the load and, when joined by process, how.
fn com_loader<'e>(
    cx: &'e BuildContext<'_>,
    h: usize,
    acc: &TaskAcc,
    client_pid: Option<u32>,
    registered: bool,
    near: &dyn Fn(Timestamp) -> bool,
) -> Option<(&'e RawEvidence, Option<String>)> {
    let hs = &cx.host[h];
    let loads = || {
        cx.evidence
            .iter()
            .filter(move |e| e.host == h && e.kind == EvidenceKind::TaskSchedulerDllLoad)
    };
    let process_of = |e: &RawEvidence| {
        e.guid
            .as_deref()
            .and_then(|g| hs.index.guid(g))
            .or_else(|| hs.index.pid_at(&hs.procs, e.pid?, e.ts))
    };
    // The registry writer, by process.
    for l in acc.life.iter().filter(|l| l.what == LifeKind::RegistryWritten) {
        let Some(writer) = l.process.as_ref().filter(|p| p.host == cx.hosts[h]) else {
            continue;
        };
        if let Some(e) = loads()
            .filter(|e| e.ts <= l.ts && process_of(e) == Some(writer.id))
            .max_by_key(|e| e.ts)
        {
            return Some((
                e,
                Some(format!(
                    "the same process wrote its TaskCache keys {} later ({})",
                    secs(l.ts - e.ts),
                    l.source
                )),
            ));
        }
    }
    if let Some(pid) = client_pid.filter(|&p| p != 0)
        && let Some(e) = loads()
            .filter(|e| e.pid == Some(pid) && near(e.ts))
            .max_by_key(|e| e.ts)
    {
        return Some((e, Some(format!("its PID {pid} is the 4698's ClientProcessId"))));
    }
    // By host and time only: a registration must have been seen.
    loads()
        .filter(|e| registered && near(e.ts))
        .max_by_key(|e| e.ts)
        .map(|e| (e, None))
}
