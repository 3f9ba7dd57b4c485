//! Stage 2, processes: Sysmon 1 and 4688 of the same process merged, each host's processes in
//! start order linked to their parents (GUID, else PID and time); then the network connections
//! attached to the process that made them.

use super::context::{BuildContext, ProcessIndex, after};
use crate::lineage::collected::RawConn;
use crate::lineage::process::{ProcessId, ProcessNode};
use crate::winevent::ProcessSource;
use std::collections::HashMap;

/// A 4688 within this of a Sysmon 1 with the same host, PID and image is the same process.
const MERGE_WINDOW_MICROS: i64 = 2_000_000;

/// Merges, orders and links `procs` (with their host numbers) into each host's state.
pub(super) fn merge_and_link(cx: &mut BuildContext<'_>, mut procs: Vec<(usize, ProcessNode)>) {
    for (h, p) in procs.iter_mut() {
        if p.source == ProcessSource::Security4688 {
            p.ts = cx.fix(*h, p.ts);
        }
    }
    // Sysmon 1 first, so that a 4688 finds the Sysmon 1 it duplicates.
    procs.sort_by_key(|(_, p)| (p.source != ProcessSource::Sysmon1, p.ts));
    let mut sysmon_by_pid: HashMap<(usize, u32), Vec<usize>> = HashMap::new();
    for (h, p) in procs {
        let ps = &mut cx.host[h].procs;
        if p.source == ProcessSource::Security4688
            && let Some(pid) = p.pid
            && let Some(cands) = sysmon_by_pid.get(&(h, pid))
            && let Some(&si) = cands.iter().find(|&&si| {
                let s = &ps[si];
                (s.ts - p.ts).as_micros().abs() <= MERGE_WINDOW_MICROS
                    && s.image_name().map(str::to_ascii_lowercase) == p.image_name().map(str::to_ascii_lowercase)
            })
        {
            let s = &mut ps[si];
            if s.command_line.is_none() {
                s.command_line = p.command_line;
            }
            continue;
        }
        if p.source == ProcessSource::Sysmon1
            && let Some(pid) = p.pid
        {
            sysmon_by_pid.entry((h, pid)).or_default().push(ps.len());
        }
        ps.push(p);
    }
    for hs in cx.host.iter_mut() {
        let ps = &mut hs.procs;
        ps.sort_by_key(|p| p.ts);
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
    }
}

/// Ties each connection to its process: GUID, else the PID's process at that time, else the
/// only process with that PID. Connections tied to none are dropped (counted in coverage).
pub(super) fn attach_connections(cx: &mut BuildContext<'_>, conns: Vec<RawConn>) {
    for c in conns {
        let hs = &mut cx.host[c.host];
        let ix = &hs.index;
        let ps = &mut hs.procs;
        let idx = c.guid.as_deref().and_then(|g| ix.guid(g)).or_else(|| {
            let pid = c.pid?;
            ix.pid_at(ps, pid, c.conn.ts).or_else(|| match ix.pid_all(pid) {
                [only] => Some(*only),
                _ => None,
            })
        });
        if let Some(i) = idx {
            ps[i.index()].connections.push(c.conn);
        }
    }
}
