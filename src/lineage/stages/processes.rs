//! Stage 2, processes: Sysmon 1 and 4688 of the same process merged, each host's processes in
//! start order linked to their parents (GUID, else PID and time); then the network connections
//! attached to the process that made them.

use super::context::{BuildContext, HostState, ProcessIndex, after, by_host};
use crate::lineage::collected::RawConn;
use crate::lineage::process::{ProcessConnection, ProcessId, ProcessNode};
use crate::series::{Interner, Span};
use crate::winevent::{ProcessSource, TimeSource};
// foldhash: per-connection and per-process lookups.
use hashbrown::HashMap;
use std::sync::Arc;

/// A 4688 within this of a Sysmon 1 with the same host and image (and PID and parent PID,
/// where both name them) is the same process.
const MERGE_WINDOW_MICROS: i64 = 2_000_000;

/// Whether a Sysmon 1 and a 4688 describe one process: same image, starts within the merge
/// window, and no PID or parent PID that differs (some exports drop Sysmon's `ProcessId`,
/// which collides with the record's own `ProcessID`).
fn same_process(sysmon: &ProcessNode, security: &ProcessNode) -> bool {
    let differ = |a: Option<u32>, b: Option<u32>| matches!((a, b), (Some(x), Some(y)) if x != y);
    (sysmon.ts - security.ts).as_micros().abs() <= MERGE_WINDOW_MICROS
        && !differ(sysmon.pid, security.pid)
        && !differ(sysmon.parent_pid, security.parent_pid)
        && sysmon.image_name().map(str::to_ascii_lowercase) == security.image_name().map(str::to_ascii_lowercase)
}

/// Merges, orders and links `procs` (with their host numbers and time fields) into each
/// host's state. A 4688 describing a Sysmon 1's process adds what the Sysmon 1 lacks (PID,
/// command line, logon id) and is not kept twice.
pub(super) fn merge_and_link(cx: &mut BuildContext<'_>, procs: Vec<(usize, TimeSource, ProcessNode)>) {
    // Each host's processes, in input order: merging and linking never look across hosts, so
    // the hosts are done side by side.
    let mine = by_host(
        cx.host.len(),
        procs.into_iter().map(|(h, source, mut p)| {
            p.ts = cx.fix(h, source, p.ts);
            (h, p)
        }),
    );
    let hosts: Vec<_> = cx.host.iter_mut().zip(mine).collect();
    let merged = crate::threads::map_each(hosts, |(hs, procs)| merge_and_link_host(hs, procs));
    cx.coverage.merged_4688 += merged.iter().sum::<u64>();
}

/// [`merge_and_link`] of one host's processes (in input order): how many 4688s were merged.
fn merge_and_link_host(hs: &mut HostState, mut procs: Vec<ProcessNode>) -> u64 {
    // Sysmon 1 first, so that a 4688 finds the Sysmon 1 it duplicates. Positions are sorted
    // and merged, not the (large) nodes: each kept node moves once, into the host's list
    // (moving every node four times through three vectors was 41% of this stage: 24.6 ms
    // against 14.6 on the 720-hour scenario).
    let mut order: Vec<usize> = (0..procs.len()).collect();
    order.sort_by_key(|&i| (procs[i].source != ProcessSource::Sysmon1, procs[i].ts));
    // The positions of the processes kept, in merge order.
    let mut kept: Vec<usize> = Vec::new();
    // Lower-cased image file name → Sysmon 1 processes in start order.
    let mut sysmon_by_image: HashMap<String, Vec<usize>> = HashMap::new();
    let mut merged = 0;
    for i in order {
        let p = &procs[i];
        let key = p.image_name().unwrap_or("").to_ascii_lowercase();
        let duplicated = if p.source == ProcessSource::Security4688 {
            sysmon_by_image.get(&key).and_then(|cands| {
                cands
                    .iter()
                    .copied()
                    .filter(|&si| same_process(&procs[si], p))
                    .min_by_key(|&si| (procs[si].ts - p.ts).as_micros().abs())
            })
        } else {
            None
        };
        if let Some(si) = duplicated {
            // `si` is a Sysmon 1 and `i` a 4688: two nodes. The 4688's texts move over.
            let p = &mut procs[i];
            let (pid, parent_pid, logon_id) = (p.pid, p.parent_pid, p.logon_id);
            let (command_line, parent_image, user) = (p.command_line.take(), p.parent_image.take(), p.user.take());
            let s = &mut procs[si];
            s.pid = s.pid.or(pid);
            s.parent_pid = s.parent_pid.or(parent_pid);
            s.command_line = s.command_line.take().or(command_line);
            s.logon_id = s.logon_id.or(logon_id);
            s.parent_image = s.parent_image.take().or(parent_image);
            s.user = s.user.take().or(user);
            merged += 1;
            continue;
        }
        if procs[i].source == ProcessSource::Sysmon1 {
            sysmon_by_image.entry(key).or_default().push(i);
        }
        kept.push(i);
    }
    let mut nodes: Vec<Option<ProcessNode>> = procs.into_iter().map(Some).collect();
    // No stage before this one adds processes: the host's list is made here. Start order,
    // ties in merge order (a stable sort).
    kept.sort_by_key(|&i| nodes[i].as_ref().map(|p| p.ts));
    hs.procs = kept.into_iter().filter_map(|i| nodes[i].take()).collect();
    let ps = &mut hs.procs;
    let ix = ProcessIndex::new(ps);
    for i in 0..ps.len() {
        let id = ProcessId::new(i);
        let parent = if let Some(g) = &ps[i].parent_guid {
            ix.guid(g)
        } else if let Some(pp) = ps[i].parent_pid {
            ix.pid_at(ps, pp, after(ps[i].ts, 1)).filter(|&j| j != id)
        } else {
            None
        };
        match parent {
            Some(j) if j != id => {
                ps[i].parent = Some(j);
                ps[j.index()].children.push(id);
            }
            _ if ps[i].parent_guid.is_some() || ps[i].parent_pid.is_some() => hs.unresolved.push(id),
            _ => {}
        }
    }
    hs.index = ix;
    hs.launched = vec![false; ps.len()];
    merged
}

/// Ties each connection to its process: GUID, else the PID's process at that time, else the
/// only process with that PID. Connections tied to none are dropped (counted in coverage).
pub(super) fn attach_connections(cx: &mut BuildContext<'_>, conns: Vec<RawConn>) {
    // Each host's connections, in input order; the hosts side by side.
    let mine = by_host(cx.host.len(), conns.into_iter().map(|c| (c.host, c)));
    let strings = &cx.strings;
    let hosts: Vec<_> = cx.host.iter_mut().zip(mine).collect();
    crate::threads::map_each(hosts, |(hs, conns)| attach_host_connections(hs, conns, strings));
}

/// [`attach_connections`] of one host's connections.
fn attach_host_connections(hs: &mut HostState, conns: Vec<RawConn>, strings: &Interner<Span>) {
    // GUID (interned) → its process: each distinct GUID lower-cased and looked up once.
    let mut by_guid: HashMap<u32, Option<ProcessId>> = HashMap::new();
    // Interned string → its shared text: each distinct address and name allocated once.
    let mut texts: HashMap<u32, Arc<str>> = HashMap::new();
    let mut text = |id: u32| texts.entry(id).or_insert_with(|| Arc::from(strings.get(id))).clone();
    let ix = &hs.index;
    let ps = &mut hs.procs;
    for c in conns {
        let idx = c
            .guid
            .and_then(|g| *by_guid.entry(g).or_insert_with(|| ix.guid(strings.get(g))))
            .or_else(|| {
                let pid = c.pid?;
                ix.pid_at(ps, pid, c.ts).or_else(|| match ix.pid_all(pid) {
                    [only] => Some(*only),
                    _ => None,
                })
            });
        if let Some(i) = idx {
            ps[i.index()].connections.push(ProcessConnection {
                ts: c.ts,
                src: text(c.src),
                dst: text(c.dst),
                dst_port: c.dst_port,
                proto: c.proto,
                name: c.name.map(&mut text),
            });
        }
    }
}
