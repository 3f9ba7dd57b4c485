//! The host-level join: connections without process identity (Zeek `conn.log`, CSV) tied to a
//! Windows host by its addresses, and to the tasks and processes alive there by time only
//! (and saying so).

use super::chain::task_summary;
use super::collect::{HostAcc, HostFlow, NetEvent, references};
use super::config::An1113Config;
use super::evidence::task_evidence;
use super::finding::{An1113Finding, Destination, JoinBasis, Launcher, LineageChain, NetworkSource, TaskEvidence};
use super::lifetimes::HostLifetimes;
use super::severity::{SeverityInput, severity};
use crate::beacon::{Analyzer, BeaconReport};
use crate::lineage::{HostLineage, Lineage, ScheduledTask, TaskRole, find_host};
use crate::series::{Interner, Span};
use crate::time::Timestamp;
use hashbrown::{HashMap, HashSet};

/// The Windows host of each local address: the caller's (`known_host`: DHCP leases,
/// inventories; by full or short name), else the host whose Sysmon 3 / 5156 events come from it.
pub(super) fn hosts_by_address(
    cfg: &An1113Config,
    strings: &Interner<Span>,
    net: &[NetEvent],
    hosts: &[HostAcc],
    known_hosts: &[(u32, u32)],
) -> HashMap<u32, u32> {
    let s = |id: u32| strings.get(id);
    let mut addr_host: HashMap<u32, u32> = HashMap::new();
    for e in net {
        if cfg.local_nets.is_local(s(e.src)) == Some(true) && !matches!(s(e.src), "127.0.0.1" | "::1" | "0.0.0.0") {
            addr_host.entry(e.src).or_insert(e.host);
        }
    }
    for &(a, n) in known_hosts {
        // By full or short name, as host identity has it (an ambiguous short name is none).
        if let Some(h) = find_host(hosts.iter().map(|h| h.name.as_str()), s(n)) {
            addr_host.insert(a, h as u32);
        }
    }
    addr_host
}

/// What the host-level join reads.
pub(super) struct HostLevelInput<'a> {
    pub(super) cfg: &'a An1113Config,
    pub(super) strings: &'a Interner<Span>,
    pub(super) files: &'a [String],
    pub(super) hosts: &'a [HostAcc],
    pub(super) flows: &'a [HostFlow],
    pub(super) lineage: &'a Lineage,
    pub(super) host_lineage: &'a [Option<&'a HostLineage>],
    /// Per host: when its processes ended.
    pub(super) lives: &'a [&'a HostLifetimes],
    pub(super) addr_host: &'a HashMap<u32, u32>,
    /// Hosts (or unmapped sources) reaching each (destination, port).
    pub(super) reach: &'a HashMap<(u32, Option<u16>), HashSet<u64>>,
    /// Hosts and unmapped sources that report at all.
    pub(super) reporting: usize,
}

/// What the host-level join found.
pub(super) struct HostLevel {
    pub(super) findings: Vec<An1113Finding>,
    /// Series scored.
    pub(super) series: usize,
    /// Host-level connections per Windows host.
    pub(super) per_host: HashMap<u32, u64>,
    /// Sources that are no Windows host, with their connection counts (one per series).
    pub(super) unmapped: Vec<(u32, u64)>,
}

/// Groups host-level connections by (source, destination, port), scores each series, and
/// reports the periodic ones with the tasks and processes of their host that fit in time.
pub(super) fn host_level_findings(i: &HostLevelInput<'_>, analyzer: &mut Analyzer) -> HostLevel {
    let HostLevelInput {
        cfg,
        strings,
        files,
        hosts,
        flows,
        lineage,
        host_lineage,
        lives,
        addr_host,
        reach,
        reporting,
    } = *i;
    let s = |id: u32| strings.get(id);
    let mut findings = Vec::new();
    let mut flow_groups: HashMap<(u32, u32, Option<u16>), Vec<usize>> = HashMap::new();
    for (k, f) in flows.iter().enumerate() {
        flow_groups.entry((f.src, f.dst, f.port)).or_default().push(k);
    }
    let mut flow_keys: Vec<_> = flow_groups.into_iter().collect();
    flow_keys.sort_unstable_by_key(|(k, _)| *k);
    let series = flow_keys.len();
    let mut per_host: HashMap<u32, u64> = HashMap::new();
    let mut unmapped: Vec<(u32, u64)> = Vec::new();
    for ((src, dst, port), mut ks) in flow_keys {
        match addr_host.get(&src) {
            Some(&h) => *per_host.entry(h).or_default() += ks.len() as u64,
            None => unmapped.push((src, ks.len() as u64)),
        }
        ks.sort_unstable_by_key(|&k| flows[k].ts);
        let ts: Vec<i64> = ks.iter().map(|&k| flows[k].ts.as_micros()).collect();
        let report = analyzer.score(&ts, None);
        if !cfg.is_periodic(&report) {
            continue;
        }
        let direction = cfg.local_nets.between(s(src), s(dst));
        let host = addr_host.get(&src).copied();
        let hl = host.and_then(|h| Some((host_lineage[h as usize]?, *lives.get(h as usize)?)));
        let (chain, candidates, evidence, task) = match hl {
            Some((hl, life)) => host_time_join(lineage, hl, life, &report, &ts, cfg),
            None => (None, Vec::new(), TaskEvidence::default(), None),
        };
        let destination = Destination {
            addr: s(dst).to_owned(),
            port,
            name: None,
        };
        let host_name = host.map_or_else(|| s(src).to_owned(), |h| hosts[h as usize].name.clone());
        let prevalence = reach.get(&(dst, port)).map_or(1, HashSet::len);
        let allowlisted = cfg.allowlisted(&host_name, None, &destination);
        let sev = severity(&SeverityInput {
            weights: &cfg.severity,
            report: &report,
            periodic: true,
            chain: chain.as_ref(),
            task,
            evidence: &evidence,
            direction,
            prevalence: (prevalence, reporting),
            allowlisted: allowlisted.as_ref(),
            host_level: true,
        });
        findings.push(An1113Finding {
            host: host_name,
            src: s(src).to_owned(),
            process: None,
            destination,
            direction,
            prevalence,
            source: NetworkSource::HostLevel,
            join: JoinBasis::HostAndTime,
            per_task: false,
            report,
            chain,
            host_candidates: candidates,
            evidence,
            severity: sev,
            references: references(files, ks.len(), |k| flows[ks[k]].origin),
            checkins: ts.iter().map(|&t| Timestamp(t)).collect(),
        });
    }
    HostLevel {
        findings,
        series,
        per_host,
        unmapped,
    }
}

/// How a task run's lifetime lies over a beacon's active span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cover {
    /// No run of the task covers it.
    No,
    /// The latest run started before the first check-in has no end logged (open-ended).
    OpenEnded,
    /// A run started before the first check-in and ended (201, or its process's Sysmon 5 /
    /// 4689) after the last.
    Covers,
}

/// Whether a run of `t` lives over `[first, last]`: the latest run started before `first`,
/// ended (its 201, else its launched process's termination) after `last` or not seen ending;
/// with the run's start and end.
fn run_cover(
    t: &ScheduledTask,
    life: &HostLifetimes,
    first: i64,
    last: i64,
) -> (Cover, Option<(Timestamp, Option<Timestamp>)>) {
    let Some((start, end)) = t
        .runs
        .iter()
        .filter_map(|r| Some((r.started?, r.ended.or_else(|| r.launched.and_then(|p| life.ended(p))))))
        .filter(|(s, _)| s.as_micros() <= first)
        .max_by_key(|(s, _)| *s)
    else {
        return (Cover::No, None);
    };
    let cover = match end {
        None => Cover::OpenEnded,
        Some(e) if e.as_micros() >= last => Cover::Covers,
        Some(_) => Cover::No,
    };
    (cover, (cover != Cover::No).then_some((start, end)))
}

/// For a host-level beacon: the tasks on the host whose trigger, runs or a run's lifetime fit
/// it, best first, then the processes alive over its span, and the chain of the best task;
/// joined by host and time only.
fn host_time_join<'l>(
    lineage: &'l Lineage,
    hl: &'l HostLineage,
    life: &HostLifetimes,
    report: &BeaconReport,
    ts: &[i64],
    cfg: &An1113Config,
) -> (
    Option<LineageChain>,
    Vec<String>,
    TaskEvidence,
    Option<&'l ScheduledTask>,
) {
    let (Some(&first), Some(&last)) = (ts.first(), ts.last()) else {
        return (None, Vec::new(), TaskEvidence::default(), None);
    };
    let mut ranked: Vec<_> = hl
        .tasks
        .iter()
        .filter_map(|t| {
            let ev = task_evidence(t, report, ts, cfg.period_tolerance, cfg.run_window);
            let period = ev.period.is_some_and(|p| p.matches);
            let runs = ev.runs.map_or(0, |r| r.runs_with_checkin);
            let (cover, run) = run_cover(t, life, first, last);
            let alive =
                t.created.is_none_or(|c| c.as_micros() <= first) && t.deleted.is_none_or(|d| d.as_micros() >= last);
            if !(period || runs > 0 || cover != Cover::No) || !alive {
                return None;
            }
            Some(((period, cover, !t.builtin, runs), run, t, ev))
        })
        .collect();
    ranked.sort_by_key(|r| core::cmp::Reverse(r.0));
    let mut candidates: Vec<String> = ranked
        .iter()
        .map(|((_, _, _, runs), run, t, ev)| {
            format!(
                "task {}{}{}{} (by host and time only)",
                t.name,
                ev.period
                    .filter(|p| p.matches)
                    .map(|p| format!(", trigger every {} s matches", p.trigger.as_secs_f64()))
                    .unwrap_or_default(),
                if *runs > 0 {
                    format!(", {runs} runs followed by a check-in")
                } else {
                    String::new()
                },
                match run {
                    Some((s, Some(e))) => format!(", a run from {s} to {e} covers the beacon's span"),
                    Some((s, None)) => format!(", a run from {s} with no end logged (open-ended) covers it"),
                    None => String::new(),
                }
            )
        })
        .collect();
    // Processes alive over the beacon's span: started before its first check-in, not ended
    // (Sysmon 5 / 4689) before its last. Those that made connections first, then those whose
    // end is logged (known to cover it, not open-ended), newest first.
    let mut procs: Vec<_> = hl
        .processes
        .iter()
        .filter_map(|(id, p)| {
            let end = life.ended(id);
            (p.ts.as_micros() <= first && end.is_none_or(|e| e.as_micros() >= last)).then_some((p, end))
        })
        .collect();
    procs.sort_by_key(|(p, end)| core::cmp::Reverse((!p.connections.is_empty(), end.is_some(), p.ts)));
    candidates.extend(procs.iter().take(5).map(|(p, end)| {
        format!(
            "process {} pid {} started {}, {} (by host and time only)",
            p.image_name().unwrap_or("?"),
            p.pid.map_or("?".into(), |x| x.to_string()),
            p.ts,
            match end {
                Some(e) => format!("ended {e}"),
                None => "no end logged (open-ended)".to_owned(),
            }
        )
    }));
    match ranked.into_iter().next() {
        Some((_, _, t, ev)) => {
            let chain = LineageChain {
                launcher: Launcher::ScheduledTask,
                processes: Vec::new(),
                unresolved_parent: None,
                task: Some(task_summary(lineage, t, TaskRole::Launched)),
            };
            (Some(chain), candidates, ev, Some(t))
        }
        None => (None, candidates, TaskEvidence::default(), None),
    }
}
