//! Coverage assembled per host: the telemetry counted while collecting, the join rates the
//! join measured, the blind spots and AN1113's answer; then the local sources seen only in
//! host-level data, which no Windows telemetry names.

use super::collect::HostAcc;
use super::config::An1113Config;
use super::coverage::{BlindSpot, HostCoverage, JoinRate, JoinRates, TelemetryPresence, an1113_answer, blind_spots};
use super::host_join::{AddressMap, Unmapped};
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
    /// Who each address is.
    pub(super) map: &'a AddressMap,
    /// Sources that are no host, with their connection counts and why (one per series).
    pub(super) unmapped: Vec<(u32, u64, Unmapped)>,
    /// Hosts named only by DHCP leases: (name, address, connections), one per series.
    pub(super) named: Vec<(u32, u32, u64)>,
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
        map,
        mut unmapped,
        mut named,
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
            let mut addresses: Vec<String> = map
                .addresses_of(i as u32)
                .into_iter()
                .map(|a| s(a).to_owned())
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
    // Local sources no host is known for: one entry per address, with why.
    unmapped.sort_unstable();
    // Per address: its connections, and the reason of its largest series.
    let mut by_src: Vec<(u32, u64, u64, Unmapped)> = Vec::new();
    for (a, n, why) in unmapped {
        match by_src.last_mut() {
            Some((la, total, most, w)) if *la == a => {
                *total += n;
                if n > *most {
                    (*most, *w) = (n, why);
                }
            }
            _ => by_src.push((a, n, n, why)),
        }
    }
    for (a, n, _, why) in by_src {
        if cfg.local_nets.is_local(s(a)) != Some(true) {
            continue;
        }
        let (reason, fix) = why.describe(|m| s(m).to_owned());
        let name = s(a).to_owned();
        let spot = BlindSpot {
            code: "no_host_name".into(),
            what: format!("{name}: seen only in host-level network data; no host is known for this address: {reason}"),
            fix: fix.into(),
        };
        coverage.push(host_level_only(name.clone(), vec![name], n, spot));
    }
    // Hosts named by DHCP leases that no Windows telemetry comes from.
    named.sort_unstable();
    let mut by_name: Vec<(u32, Vec<u32>, u64)> = Vec::new();
    for (name, a, n) in named {
        match by_name.last_mut() {
            Some((ln, addrs, count)) if *ln == name => {
                addrs.push(a);
                *count += n;
            }
            _ => by_name.push((name, vec![a], n)),
        }
    }
    for (name, mut addrs, n) in by_name {
        addrs.sort_unstable();
        addrs.dedup();
        let addresses: Vec<String> = addrs.iter().map(|&a| s(a).to_owned()).collect();
        let host = s(name).to_owned();
        let spot = BlindSpot {
            code: "no_windows_telemetry".into(),
            what: format!(
                "{host}: named by its DHCP lease of {}; seen only in host-level network data, no Windows telemetry from this host",
                addresses.join(", ")
            ),
            fix: "collect Windows events (Sysmon, Security, TaskScheduler) from this host".into(),
        };
        coverage.push(host_level_only(host, addresses, n, spot));
    }
    coverage
}

/// The coverage of a source seen only in host-level data (`n` connections), its first blind
/// spot `spot`.
fn host_level_only(host: String, addresses: Vec<String>, n: u64, spot: BlindSpot) -> HostCoverage {
    let t = TelemetryPresence {
        host_level: n,
        ..TelemetryPresence::default()
    };
    let mut spots = blind_spots(&host, &t);
    spots.insert(0, spot);
    HostCoverage {
        an1113: an1113_answer(&t),
        blind_spots: spots,
        host,
        addresses,
        first: None,
        last: None,
        telemetry: t,
        joins: JoinRates::default(),
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
