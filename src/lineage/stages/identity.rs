//! Stage 0, host identity: the hosts the records named, merged where they are one machine
//! ([`HostIdentity`]: case variants, a bare name and its only FQDN), every event renumbered
//! and the clock samples of merged names pooled.

use crate::lineage::collected::{ClockSamples, Collected};
use crate::lineage::hosts::HostIdentity;

/// Renumbers `input`'s hosts by identity.
pub(super) fn merge_hosts(input: &mut Collected) {
    let id = HostIdentity::resolve(input.hosts.iter().map(String::as_str));
    if id.names().len() == input.hosts.len() {
        return;
    }
    let of = |h: &mut usize| *h = id.of(*h);
    input.procs.iter_mut().for_each(|(h, _, _)| of(h));
    input.tasks.iter_mut().for_each(|t| of(&mut t.host));
    input.evidence.iter_mut().for_each(|e| of(&mut e.host));
    input.conns.iter_mut().for_each(|c| of(&mut c.host));
    let mut clocks: Vec<ClockSamples> = (0..id.names().len()).map(|_| ClockSamples::default()).collect();
    for (h, c) in core::mem::take(&mut input.clocks).into_iter().enumerate() {
        let into = &mut clocks[id.of(h)];
        for slot in 0..2 {
            into.sysmon[slot].extend(&c.sysmon[slot]);
            into.collector[slot].extend(&c.collector[slot]);
        }
    }
    input.clocks = clocks;
    input.hosts = id.into_names();
}
