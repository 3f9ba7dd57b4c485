//! The join: network events with process identity grouped by (host, process instance,
//! destination, port) and scored, each series tied to its process and lineage; then the
//! host-level join ([`host_join`](super::host_join)), the findings ranked, and coverage per host
//! ([`coverage_assembly`](super::coverage_assembly)).

use super::chain::{background_chain, chain};
use super::collect::{An1113Builder, DnsAnswer, HostAcc, HostFlow, NetEvent, ProcessExit, references};
use super::config::An1113Config;
use super::coverage::{HostCoverage, JoinRate};
use super::coverage_assembly;
use super::evidence::task_evidence;
use super::finding::{An1113Finding, Destination, FindingProcess, JoinBasis, NetworkSource, TaskEvidence};
use super::host_join;
use super::leases::Lease;
use super::lifetimes::HostLifetimes;
use super::severity::{rate, unrated};
use crate::beacon::Analyzer;
use crate::beacon::map_scored;
use crate::lineage::{HostLineage, Lineage, ProcessId, ScheduledTask, TaskLinks, TaskRole, lowered};
use crate::rank::Direction;
use crate::series::{Interner, Span};
use crate::time::Timestamp;
use crate::winevent::TimeSource;
// foldhash (hashbrown's default): the keys are interned ids, and SipHash was a tenth of the join.
use hashbrown::{HashMap, HashSet};

/// Everything the join found.
#[derive(Debug, Clone)]
pub struct An1113Report {
    /// Findings, most severe first.
    pub findings: Vec<An1113Finding>,
    /// Coverage per host (Windows hosts in order of appearance, then hosts seen only in
    /// host-level data).
    pub coverage: Vec<HostCoverage>,
    /// The scheduled-task lineage the chains come from.
    pub lineage: Lineage,
    /// Series scored: (with process identity, host-level).
    pub series_scored: (usize, usize),
}

/// The process instance a network event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Instance {
    /// A process of the host's tree.
    Node(ProcessId),
    /// A GUID not in the process data.
    Guid(u32),
    /// A PID (and image) not in the process data, since the PID's last creation or
    /// termination before it (a reused PID is another instance).
    Pid(u32, Option<u32>, Option<i64>),
    /// Only an image.
    Image(u32),
}

/// Per-host lookups into its process tree: by GUID (interned, lower-cased), and by PID at a
/// time (the lifetimes).
#[derive(Debug, Default)]
struct TreeIndex {
    by_guid: HashMap<u32, ProcessId>,
    lives: HostLifetimes,
}

impl TreeIndex {
    /// The index of host `h`'s tree, with its terminations. A process's GUID that no network
    /// event or termination names is not interned, and nothing looks it up.
    fn new(h: Option<&HostLineage>, exits: &[&ProcessExit], strings: &Interner<Span>) -> Self {
        let mut by_guid = HashMap::new();
        let mut lower = String::new();
        for (id, p) in h.iter().flat_map(|h| h.processes.iter()) {
            if let Some(g) = p.guid.as_deref().and_then(|g| strings.find_str(lowered(&mut lower, g))) {
                by_guid.insert(g, id);
            }
        }
        let lives = HostLifetimes::new(h, exits.iter().copied(), |g| by_guid.get(&g).copied());
        TreeIndex { by_guid, lives }
    }
}

/// Image file names compare case-insensitively.
fn same_image(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            fn f(s: &str) -> &str {
                s.rsplit(['\\', '/']).next().unwrap_or(s)
            }
            f(a).eq_ignore_ascii_case(f(b))
        }
        _ => true,
    }
}

/// What a series is about: a scheduled task (every run launches a new process, so the task is
/// the unit that beacons), else one process instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Subject {
    /// Task `.0` of the host's lineage; the instance is the first process seen.
    Task(#[allow(dead_code)] usize),
    Instance,
}

/// (host, PID, image name): a process not in the data, as 5156 names it.
type PidKey = (u32, u32, Option<u32>);

/// (host, subject, instance for an instance subject, destination, port).
type GroupKey = (u32, Subject, Option<Instance>, u32, Option<u16>);

/// One series being built.
struct Group {
    host: u32,
    /// The first instance seen (the subject's process for a task).
    instance: Instance,
    subject: Subject,
    dst: u32,
    port: Option<u16>,
    events: Vec<(i64, usize)>,
}

/// The join's work that needs no lineage, done while lineage builds: the network events with
/// Sysmon clocks corrected and 5156 duplicates of Sysmon 3 dropped, and the lookups over them.
struct NetworkSide {
    net: Vec<NetEvent>,
    /// Sysmon 3 GUIDs by (host, PID, image name), first seen first: for 5156 events.
    guid_of_pid: HashMap<PidKey, Vec<(i64, u32)>>,
    map: host_join::AddressMap,
    /// Each host-level connection's source, resolved once at its time.
    who: Vec<u64>,
    /// Hosts (or unmapped sources) reaching each (destination, port).
    reach: HashMap<(u32, Option<u16>), HashSet<u64>>,
    /// Hosts and unmapped sources reporting connections.
    reporting: usize,
    /// DNS names a process asked for: (host, guid or pid, address) → name.
    asked: HashMap<(u32, Option<u32>, Option<u32>, u32), u32>,
}

impl NetworkSide {
    fn new(
        cfg: &An1113Config,
        strings: &Interner<Span>,
        hosts: &[HostAcc],
        (mut net, dns, flows): (Vec<NetEvent>, &[DnsAnswer], &[HostFlow]),
        known_hosts: &[(u32, u32)],
        dhcp: (Vec<Lease>, &[(u32, Timestamp)], u64),
        image_key: &(dyn Fn(u32) -> Option<u32> + Sync),
    ) -> Self {
        // Clocks: a Sysmon record whose UtcTime disagrees with its host's median skew takes
        // its TimeCreated (plus the median). (5156 times are corrected by lineage's clocks,
        // after its build: nothing here reads them.)
        let tol = cfg.clock_tolerance.as_micros();
        let median: Vec<i64> = hosts
            .iter()
            .map(|h| {
                let mut v = h.skews.clone();
                v.sort_unstable();
                v.get(v.len() / 2).copied().unwrap_or(0)
            })
            .collect();
        for e in net.iter_mut() {
            if let (NetworkSource::Sysmon3, Some(tc)) = (e.source, e.time_created)
                && ((e.ts - tc).as_micros() - median[e.host as usize]).abs() > tol
            {
                e.ts = Timestamp(tc.0.saturating_add(median[e.host as usize]));
            }
        }

        // A connection logged by both Sysmon 3 and 5156 (same host, source port and
        // destination) counts once, as Sysmon 3: the two clocks differ by up to seconds,
        // which would read as jitter.
        let sysmon_conns: HashSet<(u32, u16, u32, Option<u16>)> = net
            .iter()
            .filter(|e| e.source == NetworkSource::Sysmon3)
            .filter_map(|e| Some((e.host, e.src_port?, e.dst, e.port)))
            .collect();
        net.retain(|e| {
            e.source != NetworkSource::Security5156
                || e.src_port
                    .is_none_or(|sp| !sysmon_conns.contains(&(e.host, sp, e.dst, e.port)))
        });

        // Only Sysmon 3 events carry a GUID, and their times are final here.
        let mut guid_of_pid: HashMap<PidKey, Vec<(i64, u32)>> = HashMap::new();
        for e in &net {
            if let (Some(g), Some(pid)) = (e.guid, e.pid) {
                let v = guid_of_pid
                    .entry((e.host, pid, e.image.and_then(image_key)))
                    .or_default();
                match v.iter_mut().find(|(_, x)| *x == g) {
                    Some((t, _)) => *t = (*t).min(e.ts.as_micros()),
                    None => v.push((e.ts.as_micros(), g)),
                }
            }
        }
        for v in guid_of_pid.values_mut() {
            v.sort_unstable();
        }

        // Who each address is at a time: the caller's, DHCP leases, the sources of Windows
        // network events; each host-level connection's source resolved once, at its time.
        let map = host_join::AddressMap::new(cfg, strings, &net, hosts, known_hosts, dhcp);
        let who: Vec<u64> = flows.iter().map(|f| map.who(f.src, f.ts)).collect();

        let mut reach: HashMap<(u32, Option<u16>), HashSet<u64>> = HashMap::new();
        for e in &net {
            reach.entry((e.dst, e.port)).or_default().insert(u64::from(e.host));
        }
        for (f, &w) in flows.iter().zip(&who) {
            reach.entry((f.dst, f.port)).or_default().insert(w);
        }
        let reporting: usize = {
            let mut all: HashSet<u64> = net.iter().map(|e| u64::from(e.host)).collect();
            all.extend(who.iter().copied());
            all.len()
        };

        let mut asked: HashMap<(u32, Option<u32>, Option<u32>, u32), u32> = HashMap::new();
        for d in dns {
            asked.insert(
                (d.host, d.guid, if d.guid.is_some() { None } else { d.pid }, d.addr),
                d.name,
            );
        }
        NetworkSide {
            net,
            guid_of_pid,
            map,
            who,
            reach,
            reporting,
            asked,
        }
    }
}

impl An1113Builder {
    /// Joins, scores and reports.
    pub fn build(self) -> An1113Report {
        build(self)
    }
}

fn build(b: An1113Builder) -> An1113Report {
    let An1113Builder {
        config: cfg,
        lineage,
        strings,
        files,
        hosts,
        mut net,
        mut dns,
        flows,
        known_hosts,
        leases,
        releases,
        dhcp_records,
        mut exits,
        image_names,
        ..
    } = b;
    // (host, PID, image name) keys name the image by its lower-cased file name.
    let image_key = |image: u32| image_names.get(&image).copied().flatten();
    let hosts = super::collect::merge_hosts(hosts, &mut net, &mut dns, &mut exits);
    let s = |id: u32| strings.get(id);
    // Side by side: lineage's build (the longest step), and the part of the join that does
    // not need lineage (the core that read records is otherwise idle now).
    let (lineage, side) = crate::threads::join(
        || lineage.build(),
        || {
            NetworkSide::new(
                &cfg,
                &strings,
                &hosts,
                (net, &dns, &flows),
                &known_hosts,
                (leases, &releases, dhcp_records),
                &image_key,
            )
        },
    );
    let NetworkSide {
        mut net,
        guid_of_pid,
        map,
        who,
        reach,
        reporting,
        asked,
    } = side;
    let host_lineage: Vec<Option<&HostLineage>> = hosts.iter().map(|h| lineage.host(&h.name)).collect();

    // 5156 and 4689 times take the host's correction for the field they came from, like
    // lineage's.
    let correction = |h: u32, source: Option<TimeSource>| {
        // Lineage's name of this host (its identity over the same records).
        let name = match (hosts.get(h as usize), host_lineage.get(h as usize)) {
            (_, Some(Some(l))) => l.host.as_str(),
            (Some(h), _) => h.name.as_str(),
            _ => "",
        };
        lineage
            .clocks
            .iter()
            .find(|c| Some(c.source) == source && c.host.eq_ignore_ascii_case(name))
            .map_or(0, |c| c.correction.as_micros())
    };
    for e in net.iter_mut().filter(|e| e.source == NetworkSource::Security5156) {
        e.ts = Timestamp(e.ts.0.saturating_add(correction(e.host, e.time_source)));
    }
    for x in exits.iter_mut() {
        x.ts = Timestamp(x.ts.0.saturating_add(correction(x.host, Some(x.time_source))));
    }
    let mut exits_of: Vec<Vec<&ProcessExit>> = vec![Vec::new(); hosts.len()];
    for x in &exits {
        if let Some(v) = exits_of.get_mut(x.host as usize) {
            v.push(x);
        }
    }
    let index: Vec<TreeIndex> = host_lineage
        .iter()
        .zip(&exits_of)
        .map(|(h, x)| TreeIndex::new(*h, x, &strings))
        .collect();

    // Group by (host, instance, destination, port).
    let mut groups: Vec<Group> = Vec::new();
    let mut group_ix: HashMap<GroupKey, usize> = HashMap::new();
    // The task whose run launched a process (itself or an ancestor), per process.
    let links = TaskLinks::new(&lineage);
    let mut run_task: HashMap<(u32, ProcessId), Option<usize>> = HashMap::new();
    let mut resolved = vec![JoinRate::default(); hosts.len()];
    let mut basis_of: Vec<JoinBasis> = Vec::with_capacity(net.len());
    for (k, e) in net.iter().enumerate() {
        let h = e.host as usize;
        let ix = &index[h];
        // Whose the PID is at the event's time: a process of the tree, or one not in the data
        // since the PID's last creation or termination. Asked only of an event without a GUID
        // (one with a GUID is that process, in the data or not).
        let owner = e.pid.filter(|_| e.guid.is_none()).map(|pid| ix.lives.owner(pid, e.ts));
        let node = e
            .guid
            .and_then(|g| ix.by_guid.get(&g).copied().map(|id| (id, JoinBasis::ProcessGuid)))
            .or_else(|| {
                if e.guid.is_some() {
                    return None;
                }
                let id = owner?.process?;
                let p = host_lineage[h]?.processes.get(id)?;
                same_image(p.image.as_deref(), e.image.map(s)).then_some((id, JoinBasis::PidAndTime))
            });
        resolved[h].total += 1;
        let (instance, basis) = match node {
            Some((id, basis)) => {
                resolved[h].joined += 1;
                (Instance::Node(id), basis)
            }
            None => (
                // A GUID not in the data is the instance; a PID-only event (5156) of a process
                // some Sysmon 3 names by GUID joins that GUID (the one seen last before it, and
                // not before the PID last changed hands); else the PID since it changed hands.
                match (e.guid, e.pid, e.image) {
                    (Some(g), _, _) => Instance::Guid(g),
                    (None, Some(pid), img) => {
                        let ik = img.and_then(image_key);
                        let since = owner.and_then(|o| o.since);
                        guid_of_pid
                            .get(&(e.host, pid, ik))
                            .and_then(|v| {
                                let k = v.partition_point(|(t, _)| *t <= e.ts.as_micros() + 1_000_000);
                                let (seen, g) = v[k.saturating_sub(1)];
                                since.is_none_or(|s| seen >= s).then_some(g)
                            })
                            .map_or(Instance::Pid(pid, ik, since), Instance::Guid)
                    }
                    (None, None, Some(img)) => Instance::Image(img),
                    (None, None, None) => Instance::Pid(0, None, None),
                },
                JoinBasis::ProcessNotInData,
            ),
        };
        basis_of.push(basis);
        let subject = match (instance, host_lineage[h]) {
            (Instance::Node(id), Some(hl)) => {
                let t = *run_task.entry((e.host, id)).or_insert_with(|| {
                    links
                        .task_for_process_id(hl, id)
                        .filter(|l| matches!(l.role, TaskRole::Launched | TaskRole::Descendant))
                        .and_then(|l| hl.tasks.iter().position(|t| core::ptr::eq(t, l.task)))
                });
                t.map_or(Subject::Instance, Subject::Task)
            }
            _ => Subject::Instance,
        };
        let key = (
            e.host,
            subject,
            (subject == Subject::Instance).then_some(instance),
            e.dst,
            e.port,
        );
        let gi = *group_ix.entry(key).or_insert_with(|| {
            groups.push(Group {
                host: e.host,
                instance,
                subject,
                dst: e.dst,
                port: e.port,
                events: Vec::new(),
            });
            groups.len() - 1
        });
        groups[gi].events.push((e.ts.as_micros(), k));
    }

    // Every series scored first, on all cores; then each judged in turn.
    let series: Vec<Vec<i64>> = groups
        .iter_mut()
        .map(|g| {
            g.events.sort_unstable();
            g.events.iter().map(|e| e.0).collect()
        })
        .collect();
    let reports = map_scored(&series, &cfg.analyzer, |a, ts| a.score(ts, None));
    let mut findings = Vec::new();
    let mut beacons = vec![JoinRate::default(); hosts.len()];
    let process_series = groups.len();
    for ((g, ts), report) in groups.iter().zip(&series).zip(reports) {
        let periodic = cfg.is_periodic(&report);
        let first = &net[g.events[0].1];
        let h = g.host as usize;
        let hl = host_lineage[h];
        let (chain, link, process) = match (g.instance, hl) {
            (Instance::Node(id), Some(hl)) => {
                let (c, l) = chain(&lineage, &links, hl, id);
                let p = hl.processes.get(id).map(|p| FindingProcess {
                    image: p.image.clone(),
                    pid: p.pid,
                    guid: p.guid.clone(),
                    command_line: p.command_line.clone(),
                    started: Some(p.ts),
                });
                (Some(c), l, p)
            }
            _ => (
                Some(background_chain()),
                None,
                Some(FindingProcess {
                    image: first.image.map(|i| s(i).to_owned()),
                    pid: first.pid,
                    guid: first.guid.map(|g| s(g).to_owned()),
                    command_line: None,
                    started: None,
                }),
            ),
        };
        let task: Option<&ScheduledTask> = link.as_ref().map(|l| l.task);
        let tied = task.is_some_and(|t| !t.builtin);
        if periodic {
            beacons[h].total += 1;
            if task.is_some() {
                beacons[h].joined += 1;
            }
        }
        let direction = cfg.local_nets.between(s(first.src), s(g.dst));
        let outwards = matches!(direction, Direction::Outbound | Direction::Unknown);
        if !(periodic || (tied && outwards)) {
            continue;
        }
        let evidence = match task {
            Some(t)
                if matches!(
                    link.as_ref().map(|l| l.role),
                    Some(TaskRole::Launched | TaskRole::Descendant)
                ) =>
            {
                task_evidence(t, &report, ts, cfg.period_tolerance, cfg.run_window)
            }
            Some(t) => TaskEvidence {
                starts_after_creation: task_evidence(t, &report, ts, cfg.period_tolerance, cfg.run_window)
                    .starts_after_creation,
                ..TaskEvidence::default()
            },
            None => TaskEvidence::default(),
        };
        let name = {
            let (gd, pd) = match g.instance {
                Instance::Node(id) => {
                    let p = hl.and_then(|hl| hl.processes.get(id));
                    (
                        p.and_then(|p| p.guid.as_deref())
                            .and_then(|g| strings.find_str(&g.to_ascii_lowercase())),
                        p.and_then(|p| p.pid),
                    )
                }
                Instance::Guid(gid) => (Some(gid), None),
                Instance::Pid(pid, _, _) => (None, Some(pid)),
                Instance::Image(_) => (None, None),
            };
            asked
                .get(&(g.host, gd, if gd.is_some() { None } else { pd }, g.dst))
                .or(first.name.as_ref())
                .map(|&n| s(n).to_owned())
        };
        let destination = Destination {
            addr: s(g.dst).to_owned(),
            port: g.port,
            name,
        };
        let prevalence = reach.get(&(g.dst, g.port)).map_or(1, HashSet::len);
        let n = g.events.len();
        let mut f = An1113Finding {
            host: hosts[h].name.clone(),
            src: s(first.src).to_owned(),
            process,
            destination,
            direction,
            prevalence,
            source: first.source,
            join: basis_of[g.events[0].1],
            address_mapping: None,
            per_task: matches!(g.subject, Subject::Task(_)),
            report,
            chain,
            host_candidates: Vec::new(),
            evidence,
            severity: unrated(),
            references: references(&files, n, |i| net[g.events[i].1].origin),
            checkins: ts.iter().map(|&t| Timestamp(t)).collect(),
        };
        f.severity = rate(&f, &cfg, task, (prevalence, reporting));
        findings.push(f);
    }

    // Host-level connections: by (src, dst, port); periodic ones are tied to their host by
    // address and to the tasks and processes alive there by time.
    let lives: Vec<&HostLifetimes> = index.iter().map(|ix| &ix.lives).collect();
    let host_level = host_join::host_level_findings(
        &host_join::HostLevelInput {
            cfg: &cfg,
            strings: &strings,
            files: &files,
            hosts: &hosts,
            flows: &flows,
            lineage: &lineage,
            host_lineage: &host_lineage,
            lives: &lives,
            map: &map,
            who: &who,
            reach: &reach,
            reporting,
        },
        &mut Analyzer::new(cfg.analyzer.clone()),
    );
    findings.extend(host_level.findings);
    findings.sort_by(|a, b| {
        b.severity
            .score
            .total_cmp(&a.severity.score)
            .then_with(|| b.report.score.total_cmp(&a.report.score))
            .then_with(|| (&a.host, &a.destination.addr).cmp(&(&b.host, &b.destination.addr)))
    });

    let coverage = coverage_assembly::assemble(
        &cfg,
        &strings,
        &hosts,
        &host_lineage,
        coverage_assembly::JoinCounts {
            network_to_process: &resolved,
            beacon_to_task: &beacons,
            host_level: &host_level.per_host,
            map: &map,
            unmapped: host_level.unmapped,
            named: host_level.named,
        },
    );
    An1113Report {
        findings,
        coverage,
        lineage,
        series_scored: (process_series, host_level.series),
    }
}
