//! Coverage assembled per host: the telemetry counted while collecting, the join rates the
//! join measured, the blind spots and AN1113's answer; then the local sources seen only in
//! host-level data, which no Windows telemetry names.

use super::collect::HostAcc;
use super::config::An1113Config;
use super::coverage::{BlindSpot, HostCoverage, JoinRate, JoinRates, TelemetryPresence, an1113_answer, blind_spots};
use crate::lineage::HostLineage;
use crate::series::{Interner, Span};
use hashbrown::HashMap;

/// What the join measured, per Windows host (indexed like `hosts`).
pub(super) struct JoinCounts<'a> {
    /// Network events with process identity tied to a process of the data.
    pub(super) network_to_process: &'a [JoinRate],
    /// Periodic series tied to a task.
    pub(super) beacon_to_task: &'a [JoinRate],
    /// Host-level connections per Windows host.
    pub(super) host_level: &'a HashMap<u32, u64>,
    /// The Windows host of each local address.
    pub(super) addr_host: &'a HashMap<u32, u32>,
    /// Sources that are no Windows host, with their connection counts (one per series).
    pub(super) unmapped: Vec<(u32, u64)>,
}

/// Coverage per Windows host (in order of appearance), then per local source seen only in
/// host-level data.
pub(super) fn assemble(
    cfg: &An1113Config,
    strings: &Interner<Span>,
    hosts: &[HostAcc],
    host_lineage: &[Option<&HostLineage>],
    counts: JoinCounts<'_>,
) -> Vec<HostCoverage> {
    let s = |id: u32| strings.get(id);
    let JoinCounts {
        network_to_process: resolved,
        beacon_to_task: beacons,
        host_level: host_level_counts,
        addr_host,
        mut unmapped,
    } = counts;
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
            BlindSpot {
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
    coverage
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
