//! The host-level join: connections without process identity (Zeek `conn.log`, CSV) tied to a
//! Windows host by its addresses, and to the tasks and processes alive there by time only
//! (and saying so).

use super::chain::task_summary;
use super::collect::{HostAcc, HostFlow, NetEvent, references};
use super::config::An1113Config;
use super::evidence::task_evidence;
use super::finding::{An1113Finding, Destination, JoinBasis, Launcher, LineageChain, NetworkSource, TaskEvidence};
use super::lease_names::{LeaseName, Owner, name_leases};
use super::leases::{Lease, LeaseAt, LeaseEnd, LeaseTable};
use super::lifetimes::HostLifetimes;
use super::severity::{rate, unrated};
use crate::beacon::{Analyzer, BeaconReport};
use crate::lineage::{HostLineage, Lineage, ScheduledTask, TaskRole, find_host};
use crate::series::{Interner, Span};
use crate::time::Timestamp;
use hashbrown::{HashMap, HashSet};

/// How an address was tied to its host.
#[derive(Debug, Clone, Copy)]
pub(super) enum Mapped<'l> {
    /// The caller's `known_host` (valid at all times).
    Caller,
    /// The source address of the host's Sysmon 3 / 5156 events.
    Source,
    /// The DHCP lease covering the time, where it ends, and the same MAC's lease that names
    /// the host when this one names none.
    Lease(&'l Lease, LeaseEnd, Option<&'l Lease>),
}

/// Why an address is no host at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Unmapped {
    /// No DHCP log was read, and neither `known_host` nor Windows network events name it.
    NoDhcpLog,
    /// The DHCP logs read have no lease of the address.
    NoLease,
    /// The address's leases cover other times.
    NotAtThatTime,
    /// The lease covering the time names no host (its MAC, if logged).
    LeaseWithoutName(Option<u32>),
}

impl Unmapped {
    /// Why, in words, and the fix.
    pub(super) fn describe(self, s: impl Fn(u32) -> String) -> (String, &'static str) {
        match self {
            Unmapped::NoDhcpLog => (
                "no DHCP log was read, and no Windows telemetry or known_host names this address".to_owned(),
                "give the network's Zeek dhcp.log, name the address with known_host (an inventory), or collect Windows events from this host",
            ),
            Unmapped::NoLease => (
                "the DHCP logs read have no lease of this address".to_owned(),
                "give the DHCP logs of this address's network and time range, or name it with known_host",
            ),
            Unmapped::NotAtThatTime => (
                "no DHCP lease of this address covers the time of its connections".to_owned(),
                "give the DHCP logs of the whole time range, or name the address with known_host",
            ),
            Unmapped::LeaseWithoutName(mac) => (
                match mac {
                    Some(m) => format!(
                        "its DHCP lease (MAC {}) names no host, nor does any lease of that MAC (a Zeek 2.x dhcp.log, or a client that sent no host name)",
                        s(m)
                    ),
                    None => "its DHCP lease names no host (a Zeek 2.x dhcp.log, or a client that sent no host name)"
                        .to_owned(),
                },
                "log DHCP host names (Zeek 3.0 and later: host_name, client_fqdn), or name the address with known_host",
            ),
        }
    }
}

/// Which host an address is at a time: the caller's `known_host` (valid at all times: by
/// full or short name), else the DHCP lease covering the time (its FQDN or host name, matched
/// to a Windows host as host identity does), else the host whose Sysmon 3 / 5156 events come
/// from it.
#[derive(Debug)]
pub(super) struct AddressMap {
    /// Address → (host, given by the caller).
    fixed: HashMap<u32, (u32, bool)>,
    leases: LeaseTable,
    /// Per lease of `leases`: who it names, if anyone.
    lease_names: Vec<Option<LeaseName>>,
    dhcp_read: bool,
}

impl AddressMap {
    pub(super) fn new(
        cfg: &An1113Config,
        strings: &Interner<Span>,
        net: &[NetEvent],
        hosts: &[HostAcc],
        known_hosts: &[(u32, u32)],
        dhcp: (Vec<Lease>, &[(u32, Timestamp)], u64),
    ) -> Self {
        let s = |id: u32| strings.get(id);
        let mut fixed: HashMap<u32, (u32, bool)> = HashMap::new();
        // Each source address is tested once (a host logs thousands of events from a few).
        let mut tested = HashSet::new();
        for e in net {
            if tested.insert(e.src)
                && cfg.local_nets.is_local(s(e.src)) == Some(true)
                && !matches!(s(e.src), "127.0.0.1" | "::1" | "0.0.0.0")
            {
                fixed.entry(e.src).or_insert((e.host, false));
            }
        }
        let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
        for &(a, n) in known_hosts {
            // By full or short name, as host identity has it (an ambiguous short name is none).
            if let Some(h) = find_host(names.iter().copied(), s(n)) {
                fixed.insert(a, (h as u32, true));
            }
        }
        let (leases, releases, records) = dhcp;
        let leases = LeaseTable::new(leases, releases);
        let lease_names = name_leases(leases.leases(), s, &names);
        AddressMap {
            fixed,
            leases,
            lease_names,
            dhcp_read: records > 0,
        }
    }

    /// Who `addr` is at `ts`, and how that is known; or why it is no host.
    pub(super) fn resolve(&self, addr: u32, ts: Timestamp) -> Result<(Owner, Mapped<'_>), Unmapped> {
        let fixed = self.fixed.get(&addr).copied();
        if let Some((h, true)) = fixed {
            return Ok((Owner::Host(h), Mapped::Caller));
        }
        let lease = self.leases.at(addr, ts);
        if let LeaseAt::Leased(l, i, end) = lease
            && let Some(name) = self.lease_names.get(i).copied().flatten()
        {
            let via = name.via.and_then(|j| self.leases.leases().get(j));
            return Ok((name.owner, Mapped::Lease(l, end, via)));
        }
        if let Some((h, _)) = fixed {
            return Ok((Owner::Host(h), Mapped::Source));
        }
        Err(match lease {
            LeaseAt::Leased(l, _, _) => Unmapped::LeaseWithoutName(l.mac),
            LeaseAt::NotAtThatTime => Unmapped::NotAtThatTime,
            LeaseAt::NoLease if self.dhcp_read => Unmapped::NoLease,
            LeaseAt::NoLease => Unmapped::NoDhcpLog,
        })
    }

    /// Who `addr` is at `ts` as one number (a Windows host, a host named by DHCP, or the
    /// unmapped address itself), for counting distinct sources.
    pub(super) fn who(&self, addr: u32, ts: Timestamp) -> u64 {
        match self.resolve(addr, ts) {
            Ok((Owner::Host(h), _)) => u64::from(h),
            Ok((Owner::Named(n), _)) => u64::from(n) | 2 << 40,
            Err(_) => u64::from(addr) | 1 << 40,
        }
    }

    /// The addresses of Windows host `h`: given, seen in its network events, or leased to it.
    pub(super) fn addresses_of(&self, h: u32) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .fixed
            .iter()
            .filter(|&(_, &(hh, _))| hh == h)
            .map(|(&a, _)| a)
            .chain(
                self.leases
                    .leases()
                    .iter()
                    .zip(&self.lease_names)
                    .filter(|(_, n)| n.is_some_and(|n| n.owner == Owner::Host(h)))
                    .map(|(l, _)| l.addr),
            )
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// How `addr` came to be `host`, in words.
fn mapping_words(addr: &str, host: &str, how: Mapped<'_>, strings: &Interner<Span>, files: &[String]) -> String {
    match how {
        Mapped::Caller => format!("{addr} is {host}: given by the caller (known_host)"),
        Mapped::Source => format!("{addr} is {host}: the source address of its Sysmon 3 / 5156 network events"),
        Mapped::Lease(l, end, via) => {
            let until = match end {
                LeaseEnd::Expired(t) => format!("for its lease time, until {t}"),
                LeaseEnd::NextLease(t) => format!("until the address's next lease at {t}"),
                LeaseEnd::Released(t) => format!("until released at {t}"),
                LeaseEnd::Open => "with no lease time or later lease logged (open-ended)".to_owned(),
            };
            let at = |l: &Lease| {
                files
                    .get(l.origin.file as usize)
                    .map(|f| match l.origin.line {
                        Some(n) => format!("; {f} line {n}"),
                        None => format!("; {f}"),
                    })
                    .unwrap_or_default()
            };
            let named_by = via
                .map(|v| {
                    format!(
                        "; that lease names no host, its MAC's lease of {} does{}",
                        v.start,
                        at(v)
                    )
                })
                .unwrap_or_default();
            format!(
                "{addr} was {host} by its DHCP lease of {}{}, {until}{}{named_by}",
                l.start,
                l.mac.map(|m| format!(" (MAC {})", strings.get(m))).unwrap_or_default(),
                at(l)
            )
        }
    }
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
    pub(super) map: &'a AddressMap,
    /// Per flow: who its source is at its time ([`AddressMap::who`]).
    pub(super) who: &'a [u64],
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
    /// Sources that are no host, with their connection counts and why (one per series).
    pub(super) unmapped: Vec<(u32, u64, Unmapped)>,
    /// Hosts named only by DHCP leases: (name, address, connections), one per series.
    pub(super) named: Vec<(u32, u32, u64)>,
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
        map,
        who,
        reach,
        reporting,
    } = *i;
    let s = |id: u32| strings.get(id);
    let mut findings = Vec::new();
    // A source address is one series per host it was over time (DHCP leases).
    let mut flow_groups: HashMap<(u32, u32, Option<u16>, u64), Vec<usize>> = HashMap::new();
    for (k, f) in flows.iter().enumerate() {
        let w = who.get(k).copied().unwrap_or_default();
        flow_groups.entry((f.src, f.dst, f.port, w)).or_default().push(k);
    }
    let mut flow_keys: Vec<_> = flow_groups.into_iter().collect();
    flow_keys.sort_unstable_by_key(|(k, _)| *k);
    let series = flow_keys.len();
    let mut per_host: HashMap<u32, u64> = HashMap::new();
    let mut unmapped: Vec<(u32, u64, Unmapped)> = Vec::new();
    let mut named = Vec::new();
    for ((src, dst, port, _), mut ks) in flow_keys {
        ks.sort_unstable_by_key(|&k| flows[k].ts);
        let n = ks.len() as u64;
        // Who the source was at the series' first connection (every one of the series
        // resolves to the same owner).
        let resolved = map.resolve(src, ks.first().map_or(Timestamp(0), |&k| flows[k].ts));
        match resolved {
            Ok((Owner::Host(h), _)) => *per_host.entry(h).or_default() += n,
            Ok((Owner::Named(name), _)) => named.push((name, src, n)),
            Err(why) => unmapped.push((src, n, why)),
        }
        let ts: Vec<i64> = ks.iter().map(|&k| flows[k].ts.as_micros()).collect();
        let report = analyzer.score(&ts, None);
        if !cfg.is_periodic(&report) {
            continue;
        }
        let direction = cfg.local_nets.between(s(src), s(dst));
        let host = match resolved {
            Ok((Owner::Host(h), _)) => Some(h),
            _ => None,
        };
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
        let host_name = match resolved {
            Ok((Owner::Host(h), _)) => hosts[h as usize].name.clone(),
            Ok((Owner::Named(name), _)) => s(name).to_owned(),
            Err(_) => s(src).to_owned(),
        };
        let address_mapping = Some(match resolved {
            Ok((_, how)) => mapping_words(s(src), &host_name, how, strings, files),
            Err(why) => format!("{} maps to no host: {}", s(src), why.describe(|m| s(m).to_owned()).0),
        });
        let prevalence = reach.get(&(dst, port)).map_or(1, HashSet::len);
        let mut f = An1113Finding {
            host: host_name,
            src: s(src).to_owned(),
            process: None,
            destination,
            direction,
            prevalence,
            source: NetworkSource::HostLevel,
            join: JoinBasis::HostAndTime,
            address_mapping,
            per_task: false,
            report,
            chain,
            host_candidates: candidates,
            evidence,
            severity: unrated(),
            references: references(files, ks.len(), |k| flows[ks[k]].origin),
            checkins: ts.iter().map(|&t| Timestamp(t)).collect(),
        };
        f.severity = rate(&f, cfg, task, (prevalence, reporting));
        findings.push(f);
    }
    HostLevel {
        findings,
        series,
        per_host,
        unmapped,
        named,
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
