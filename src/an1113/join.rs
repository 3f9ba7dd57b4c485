//! The join: network events grouped by (host, process instance, destination, port) and
//! scored; each series tied to its process and lineage; host-level connections tied to hosts by
//! address and time; findings ranked; coverage per host.

use super::chain::{background_chain, chain, task_summary};
use super::collect::{An1113Builder, Origin};
use super::coverage::{HostCoverage, JoinRate, JoinRates, TelemetryPresence, an1113_answer, blind_spots};
use super::evidence::task_evidence;
use super::finding::{
    An1113Finding, Destination, FindingProcess, JoinBasis, Launcher, LineageChain, NetworkSource, RecordRef,
    TaskEvidence,
};
use super::severity::{SeverityInput, severity};
use crate::beacon::{Analyzer, BeaconReport, Verdict};
use crate::lineage::{HostLineage, Lineage, ProcessId, ScheduledTask, TaskRole};
use crate::rank::Direction;
use crate::series::SeriesKey;
use crate::time::Timestamp;
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
    /// A PID (and image) not in the process data.
    Pid(u32, Option<u32>),
    /// Only an image.
    Image(u32),
}

/// Per-host lookups into its process tree.
#[derive(Debug, Default)]
struct TreeIndex {
    by_guid: HashMap<String, ProcessId>,
    by_pid: HashMap<u32, Vec<(Timestamp, ProcessId)>>,
}

impl TreeIndex {
    fn new(h: &HostLineage) -> Self {
        let mut ix = TreeIndex::default();
        for (id, p) in h.processes.iter() {
            if let Some(g) = &p.guid {
                ix.by_guid.insert(g.to_ascii_lowercase(), id);
            }
            if let Some(pid) = p.pid {
                ix.by_pid.entry(pid).or_default().push((p.ts, id));
            }
        }
        ix
    }

    /// The latest process with `pid` started at or before `t` (+1 s: logs round).
    fn pid_at(&self, pid: u32, t: Timestamp) -> Option<ProcessId> {
        let v = self.by_pid.get(&pid)?;
        let lim = Timestamp(t.0.saturating_add(1_000_000));
        let n = v.partition_point(|(ts, _)| *ts <= lim);
        n.checked_sub(1).map(|k| v[k].1)
    }
}

/// The interned id of an image's lower-cased file name, where it was interned.
fn image_key(strings: &crate::series::Interner<crate::series::Span>, image: u32) -> Option<u32> {
    let i = strings.get(image);
    strings.find_str(&i.rsplit(['\\', '/']).next().unwrap_or(i).to_ascii_lowercase())
}

/// Image file names compare case-insensitively.
fn same_image(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            let f = |s: &str| s.rsplit(['\\', '/']).next().unwrap_or(s).to_ascii_lowercase();
            f(a) == f(b)
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

fn refs(files: &[String], origins: impl Iterator<Item = Origin>) -> Vec<RecordRef> {
    origins
        .map(|o| RecordRef {
            file: files.get(o.file as usize).cloned().unwrap_or_default(),
            record_id: o.record_id,
            line: o.line,
        })
        .collect()
}

/// The first five and last five of `n` items.
fn ends(n: usize) -> impl Iterator<Item = usize> {
    (0..n.min(5)).chain(n.saturating_sub(5).max(5)..n)
}

fn is_periodic(r: &BeaconReport, min: f64) -> bool {
    r.verdict == Verdict::Scored && r.score >= min
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
        dns,
        flows,
        known_hosts,
        ..
    } = b;
    let lineage = lineage.build();
    let s = |id: u32| strings.get(id);
    let host_lineage: Vec<Option<&HostLineage>> = hosts.iter().map(|h| lineage.host(&h.name)).collect();
    let index: Vec<TreeIndex> = host_lineage
        .iter()
        .map(|h| h.map(TreeIndex::new).unwrap_or_default())
        .collect();

    // Clocks: a Sysmon record whose UtcTime disagrees with its host's median skew takes its
    // TimeCreated (plus the median); 5156 times take the host's correction, like lineage's.
    let tol = cfg.clock_tolerance.as_micros();
    let clock: Vec<(i64, i64)> = hosts
        .iter()
        .map(|h| {
            let mut v = h.skews.clone();
            v.sort_unstable();
            let median = v.get(v.len() / 2).copied().unwrap_or(0);
            let corr = lineage
                .clocks
                .iter()
                .find(|c| c.host.eq_ignore_ascii_case(&h.name))
                .map_or(0, |c| c.correction.as_micros());
            (median, corr)
        })
        .collect();
    for e in net.iter_mut() {
        let (median, corr) = clock[e.host as usize];
        match (e.source, e.time_created) {
            (NetworkSource::Sysmon3, Some(tc)) if ((e.ts - tc).as_micros() - median).abs() > tol => {
                e.ts = Timestamp(tc.0.saturating_add(median));
            }
            (NetworkSource::Security5156, _) => e.ts = Timestamp(e.ts.0.saturating_add(corr)),
            _ => {}
        }
    }

    // A connection logged by both Sysmon 3 and 5156 (same host, source port and destination)
    // counts once, as Sysmon 3: the two clocks differ by up to seconds, which would read as
    // jitter.
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

    // Sysmon 3 GUIDs by (host, PID, image name), first seen first: for 5156 events.
    let mut guid_of_pid: HashMap<PidKey, Vec<(i64, u32)>> = HashMap::new();
    for e in &net {
        if let (Some(g), Some(pid)) = (e.guid, e.pid) {
            let v = guid_of_pid
                .entry((e.host, pid, e.image.and_then(|i| image_key(&strings, i))))
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

    // Group by (host, instance, destination, port).
    let mut groups: Vec<Group> = Vec::new();
    let mut group_ix: HashMap<GroupKey, usize> = HashMap::new();
    // The task whose run launched a process (itself or an ancestor), per process.
    let mut run_task: HashMap<(u32, ProcessId), Option<usize>> = HashMap::new();
    let mut resolved = vec![JoinRate::default(); hosts.len()];
    let mut basis_of: Vec<JoinBasis> = Vec::with_capacity(net.len());
    for (k, e) in net.iter().enumerate() {
        let h = e.host as usize;
        let ix = &index[h];
        let node = e
            .guid
            .and_then(|g| ix.by_guid.get(s(g)).copied().map(|id| (id, JoinBasis::ProcessGuid)))
            .or_else(|| {
                if e.guid.is_some() {
                    return None;
                }
                let id = ix.pid_at(e.pid?, e.ts)?;
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
                // some Sysmon 3 names by GUID joins that GUID (the one seen last before it).
                match (e.guid, e.pid, e.image) {
                    (Some(g), _, _) => Instance::Guid(g),
                    (None, Some(pid), img) => {
                        let ik = img.and_then(|i| image_key(&strings, i));
                        guid_of_pid
                            .get(&(e.host, pid, ik))
                            .map(|v| {
                                let k = v.partition_point(|(t, _)| *t <= e.ts.as_micros() + 1_000_000);
                                v[k.saturating_sub(1)].1
                            })
                            .map_or(Instance::Pid(pid, ik), Instance::Guid)
                    }
                    (None, None, Some(img)) => Instance::Image(img),
                    (None, None, None) => Instance::Pid(0, None),
                },
                JoinBasis::ProcessNotInData,
            ),
        };
        basis_of.push(basis);
        let subject = match (instance, host_lineage[h]) {
            (Instance::Node(id), Some(hl)) => {
                let t = *run_task.entry((e.host, id)).or_insert_with(|| {
                    lineage
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

    // Host names of addresses: the caller's, then the sources of Windows network events.
    let mut addr_host: HashMap<u32, u32> = HashMap::new();
    for e in &net {
        if cfg.local_nets.is_local(s(e.src)) == Some(true) && !matches!(s(e.src), "127.0.0.1" | "::1" | "0.0.0.0") {
            addr_host.entry(e.src).or_insert(e.host);
        }
    }
    let name_host: HashMap<String, u32> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (h.name.to_ascii_lowercase(), i as u32))
        .collect();
    for &(a, n) in &known_hosts {
        let name = s(n).to_ascii_lowercase();
        let short = name.split('.').next().unwrap_or(&name).to_owned();
        let hit = name_host.get(&name).or_else(|| {
            name_host
                .iter()
                .find(|(k, _)| k.split('.').next() == Some(short.as_str()))
                .map(|(_, v)| v)
        });
        if let Some(&h) = hit {
            addr_host.insert(a, h);
        }
    }

    // Prevalence: hosts (or unmapped sources) reaching each (destination, port).
    let mut reach: HashMap<(u32, Option<u16>), HashSet<u64>> = HashMap::new();
    for e in &net {
        reach.entry((e.dst, e.port)).or_default().insert(u64::from(e.host));
    }
    for f in &flows {
        let who = addr_host
            .get(&f.src)
            .map_or(u64::from(f.src) | 1 << 40, |&h| u64::from(h));
        reach.entry((f.dst, f.port)).or_default().insert(who);
    }
    let reporting: usize = {
        let mut all: HashSet<u64> = net.iter().map(|e| u64::from(e.host)).collect();
        for f in &flows {
            all.insert(
                addr_host
                    .get(&f.src)
                    .map_or(u64::from(f.src) | 1 << 40, |&h| u64::from(h)),
            );
        }
        all.len()
    };

    // DNS names a process asked for: (host, guid or pid, address) → name.
    let mut asked: HashMap<(u32, Option<u32>, Option<u32>, u32), u32> = HashMap::new();
    for d in &dns {
        asked.insert(
            (d.host, d.guid, if d.guid.is_some() { None } else { d.pid }, d.addr),
            d.name,
        );
    }

    let mut analyzer = Analyzer::new(cfg.analyzer.clone());
    let mut findings = Vec::new();
    let mut beacons = vec![JoinRate::default(); hosts.len()];
    let process_series = groups.len();
    for g in groups.iter_mut() {
        g.events.sort_unstable();
        let ts: Vec<i64> = g.events.iter().map(|e| e.0).collect();
        let report = analyzer.score(&ts, None);
        let periodic = is_periodic(&report, cfg.min_score);
        let first = &net[g.events[0].1];
        let h = g.host as usize;
        let hl = host_lineage[h];
        let (chain, link, process) = match (g.instance, hl) {
            (Instance::Node(id), Some(hl)) => {
                let (c, l) = chain(&lineage, hl, id);
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
                task_evidence(t, &report, &ts, cfg.period_tolerance, cfg.run_window)
            }
            Some(t) => TaskEvidence {
                starts_after_creation: task_evidence(t, &report, &ts, cfg.period_tolerance, cfg.run_window)
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
                Instance::Pid(pid, _) => (None, Some(pid)),
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
        let image = process.as_ref().and_then(|p| p.image.as_deref());
        let allowlisted = allow(&cfg.allowlist, hosts[h].name.as_str(), image, &destination);
        let sev = severity(&SeverityInput {
            report: &report,
            periodic,
            chain: chain.as_ref(),
            builtin_task: task.is_some_and(|t| t.builtin),
            task_suspicion: task.map_or(0, ScheduledTask::suspicion),
            evidence: &evidence,
            direction,
            prevalence: (prevalence, reporting),
            allowlisted: allowlisted.as_ref().map(|(n, a)| (n.as_str(), *a)),
            host_level: false,
        });
        let n = g.events.len();
        findings.push(An1113Finding {
            host: hosts[h].name.clone(),
            src: s(first.src).to_owned(),
            process,
            destination,
            direction,
            prevalence,
            source: first.source,
            join: basis_of[g.events[0].1],
            per_task: matches!(g.subject, Subject::Task(_)),
            report,
            chain,
            host_candidates: Vec::new(),
            evidence,
            severity: sev,
            references: refs(&files, ends(n).map(|i| net[g.events[i].1].origin)),
            checkins: ts.iter().map(|&t| Timestamp(t)).collect(),
        });
    }

    // Host-level connections: by (src, dst, port); periodic ones are tied to their host by
    // address and to the tasks and processes alive there by time.
    let mut flow_groups: HashMap<(u32, u32, Option<u16>), Vec<usize>> = HashMap::new();
    for (k, f) in flows.iter().enumerate() {
        flow_groups.entry((f.src, f.dst, f.port)).or_default().push(k);
    }
    let mut flow_keys: Vec<_> = flow_groups.into_iter().collect();
    flow_keys.sort_unstable_by_key(|(k, _)| *k);
    let host_series = flow_keys.len();
    let mut host_level_counts: HashMap<u32, u64> = HashMap::new();
    let mut unmapped: Vec<(u32, u64)> = Vec::new();
    for ((src, dst, port), mut ks) in flow_keys {
        match addr_host.get(&src) {
            Some(&h) => *host_level_counts.entry(h).or_default() += ks.len() as u64,
            None => unmapped.push((src, ks.len() as u64)),
        }
        ks.sort_unstable_by_key(|&k| flows[k].ts);
        let ts: Vec<i64> = ks.iter().map(|&k| flows[k].ts.as_micros()).collect();
        let report = analyzer.score(&ts, None);
        if !is_periodic(&report, cfg.min_score) {
            continue;
        }
        let direction = cfg.local_nets.between(s(src), s(dst));
        let host = addr_host.get(&src).copied();
        let hl = host.and_then(|h| host_lineage[h as usize]);
        let (chain, candidates, evidence, task) = match hl {
            Some(hl) => host_time_join(&lineage, hl, &report, &ts, &cfg),
            None => (None, Vec::new(), TaskEvidence::default(), None),
        };
        let destination = Destination {
            addr: s(dst).to_owned(),
            port,
            name: None,
        };
        let host_name = host.map_or_else(|| s(src).to_owned(), |h| hosts[h as usize].name.clone());
        let prevalence = reach.get(&(dst, port)).map_or(1, HashSet::len);
        let allowlisted = allow(&cfg.allowlist, &host_name, None, &destination);
        let sev = severity(&SeverityInput {
            report: &report,
            periodic: true,
            chain: chain.as_ref(),
            builtin_task: task.is_some_and(|t| t.builtin),
            task_suspicion: task.map_or(0, ScheduledTask::suspicion),
            evidence: &evidence,
            direction,
            prevalence: (prevalence, reporting),
            allowlisted: allowlisted.as_ref().map(|(n, a)| (n.as_str(), *a)),
            host_level: true,
        });
        let n = ks.len();
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
            references: refs(&files, ends(n).map(|i| flows[ks[i]].origin)),
            checkins: ts.iter().map(|&t| Timestamp(t)).collect(),
        });
    }
    findings.sort_by(|a, b| {
        b.severity
            .score
            .total_cmp(&a.severity.score)
            .then_with(|| b.report.score.total_cmp(&a.report.score))
            .then_with(|| (&a.host, &a.destination.addr).cmp(&(&b.host, &b.destination.addr)))
    });

    // Coverage per host.
    let mut coverage: Vec<HostCoverage> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut t = h.telemetry.clone();
            t.host_level = host_level_counts.get(&(i as u32)).copied().unwrap_or(0);
            let joins = host_lineage[i].map_or(
                JoinRates {
                    network_to_process: resolved[i],
                    beacon_to_task: beacons[i],
                    ..JoinRates::default()
                },
                |hl| JoinRates {
                    network_to_process: resolved[i],
                    process_to_parent: parent_rate(hl),
                    run_to_process: run_rate(hl),
                    beacon_to_task: beacons[i],
                },
            );
            let mut addresses: Vec<String> = addr_host
                .iter()
                .filter(|&(_, &hh)| hh as usize == i)
                .map(|(&a, _)| s(a).to_owned())
                .collect();
            addresses.sort();
            HostCoverage {
                blind_spots: blind_spots(&h.name, &t),
                an1113: an1113_answer(&t),
                host: h.name.clone(),
                addresses,
                first: h.first,
                last: h.last,
                telemetry: t,
                joins,
            }
        })
        .collect();
    unmapped.sort_unstable();
    let mut by_src: Vec<(u32, u64)> = Vec::new();
    for (a, n) in unmapped {
        match by_src.last_mut() {
            Some((la, ln)) if *la == a => *ln += n,
            _ => by_src.push((a, n)),
        }
    }
    for (a, n) in by_src {
        if cfg.local_nets.is_local(s(a)) != Some(true) {
            continue;
        }
        let t = TelemetryPresence {
            host_level: n,
            ..TelemetryPresence::default()
        };
        let name = s(a).to_owned();
        let mut spots = blind_spots(&name, &t);
        spots.insert(
            0,
            super::coverage::BlindSpot {
                code: "no_host_name".into(),
                what: format!("{name}: seen only in host-level network data; no Windows telemetry names this address"),
                fix: "collect Windows events from this host, or give its name (DHCP leases, inventory) with known_host"
                    .into(),
            },
        );
        coverage.push(HostCoverage {
            an1113: an1113_answer(&t),
            blind_spots: spots,
            host: name.clone(),
            addresses: vec![name],
            first: None,
            last: None,
            telemetry: t,
            joins: JoinRates::default(),
        });
    }
    An1113Report {
        findings,
        coverage,
        lineage,
        series_scored: (process_series, host_series),
    }
}

fn parent_rate(hl: &HostLineage) -> JoinRate {
    let logged = hl
        .processes
        .iter()
        .filter(|(_, p)| p.parent_guid.is_some() || p.parent_pid.is_some())
        .count() as u64;
    let joined = hl.processes.iter().filter(|(_, p)| p.parent().is_some()).count() as u64;
    JoinRate { joined, total: logged }
}

fn run_rate(hl: &HostLineage) -> JoinRate {
    let runs = hl.tasks.iter().flat_map(|t| t.runs.iter());
    let (mut joined, mut total) = (0, 0);
    for r in runs {
        total += 1;
        if r.launched.is_some() {
            joined += 1;
        }
    }
    JoinRate { joined, total }
}

/// The allowlist rule matching a destination, with its action.
fn allow(
    list: &crate::allowlist::Allowlist,
    host: &str,
    image: Option<&str>,
    d: &Destination,
) -> Option<(String, crate::allowlist::Action)> {
    let key = SeriesKey {
        host: Some(host),
        process: image,
        dst: Some(d.addr.as_str()),
        dst_port: d.port,
        name: d.name.as_deref(),
        ..SeriesKey::empty()
    };
    list.match_key(&key, None).map(|r| (r.name().to_owned(), r.action()))
}

/// For a host-level beacon: the tasks on the host whose runs or trigger fit it, best first,
/// and the chain of the best; joined by host and time only.
fn host_time_join<'l>(
    lineage: &'l Lineage,
    hl: &'l HostLineage,
    report: &BeaconReport,
    ts: &[i64],
    cfg: &super::config::An1113Config,
) -> (
    Option<LineageChain>,
    Vec<String>,
    TaskEvidence,
    Option<&'l ScheduledTask>,
) {
    let (Some(&first), Some(&last)) = (ts.first(), ts.last()) else {
        return (None, Vec::new(), TaskEvidence::default(), None);
    };
    let mut ranked: Vec<(u8, usize, &ScheduledTask, TaskEvidence)> = hl
        .tasks
        .iter()
        .filter_map(|t| {
            let ev = task_evidence(t, report, ts, cfg.period_tolerance, cfg.run_window);
            let period = ev.period.is_some_and(|p| p.matches);
            let runs = ev.runs.map_or(0, |r| r.runs_with_checkin);
            let alive =
                t.created.is_none_or(|c| c.as_micros() <= first) && t.deleted.is_none_or(|d| d.as_micros() >= last);
            if !(period || runs > 0) || !alive {
                return None;
            }
            let rank = u8::from(period) * 2 + u8::from(!t.builtin);
            Some((rank, runs, t, ev))
        })
        .collect();
    ranked.sort_by_key(|r| core::cmp::Reverse((r.0, r.1)));
    let mut candidates: Vec<String> = ranked
        .iter()
        .map(|(_, runs, t, ev)| {
            format!(
                "task {}{}{} (by host and time only)",
                t.name,
                ev.period
                    .filter(|p| p.matches)
                    .map(|p| format!(", trigger every {} s matches", p.trigger_s))
                    .unwrap_or_default(),
                if *runs > 0 {
                    format!(", {runs} runs followed by a check-in")
                } else {
                    String::new()
                }
            )
        })
        .collect();
    // Processes alive over the beacon's span (started before it), newest first.
    let mut procs: Vec<_> = hl
        .processes
        .iter()
        .filter(|(_, p)| p.ts.as_micros() <= first && !p.connections.is_empty())
        .collect();
    procs.sort_by_key(|(_, p)| core::cmp::Reverse(p.ts));
    candidates.extend(procs.iter().take(5).map(|(_, p)| {
        format!(
            "process {} pid {} started {} (by host and time only)",
            p.image_name().unwrap_or("?"),
            p.pid.map_or("?".into(), |x| x.to_string()),
            p.ts
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
