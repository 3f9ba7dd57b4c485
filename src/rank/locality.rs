//! Which addresses are local, and which way a series goes.

use crate::allowlist::Cidr;
use crate::error::{Error, Result};
use crate::event::ConnEvent;
use crate::series::SeriesKey;
use crate::series::{Interner, Span};
use core::fmt;
use std::net::IpAddr;

/// Which way a series goes between the local networks and the rest of the world.
///
/// AN1113 asks for [`Outbound`](Direction::Outbound): automation on a local host calling out.
/// The other directions are kept and reported in their own views (a server being probed, a
/// C2 server under the sensor, east-west traffic), never dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Direction {
    /// Local source, external destination.
    Outbound,
    /// External source, local destination.
    Inbound,
    /// Local source and destination.
    Internal,
    /// External source and destination (traffic passing the sensor).
    External,
    /// A side that is neither an address nor a name (e.g. a CSV host label).
    #[default]
    Unknown,
}

impl Direction {
    /// Every direction, in the order views are shown (outbound first).
    pub const ALL: [Direction; 5] = [
        Direction::Outbound,
        Direction::Inbound,
        Direction::Internal,
        Direction::External,
        Direction::Unknown,
    ];

    /// `outbound`, `inbound`, `internal`, `external` or `unknown` (as in JSON).
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
            Direction::Internal => "internal",
            Direction::External => "external",
            Direction::Unknown => "unknown",
        }
    }

    /// What the direction means, in words (`local → external`, …).
    pub const fn describe(self) -> &'static str {
        match self {
            Direction::Outbound => "local → external",
            Direction::Inbound => "external → local",
            Direction::Internal => "local ↔ local",
            Direction::External => "external ↔ external",
            Direction::Unknown => "locality unknown",
        }
    }

    fn of(src: Option<bool>, dst: Option<bool>) -> Direction {
        match (src, dst) {
            (Some(true), Some(false)) => Direction::Outbound,
            (Some(false), Some(true)) => Direction::Inbound,
            (Some(true), Some(true)) => Direction::Internal,
            (Some(false), Some(false)) => Direction::External,
            _ => Direction::Unknown,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The built-in local ranges: RFC 1918, loopback, link-local, CGNAT (RFC 6598), "this
/// network", multicast and broadcast (they do not leave the site), IPv6 loopback, ULA,
/// link-local and multicast.
const BUILTIN: [&str; 13] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "0.0.0.0/8",
    "224.0.0.0/4",
    "255.255.255.255/32",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
];

/// Name suffixes that never leave the site (RFC 6762, RFC 8375 and common private zones).
const LOCAL_NAME_SUFFIXES: [&str; 7] = [
    ".local",
    ".lan",
    ".internal",
    ".home.arpa",
    ".localdomain",
    ".corp",
    "localhost",
];

/// The local networks: built-in private ranges, a user's own networks, and the addresses the
/// sensor itself calls local (Zeek `local_orig`/`local_resp`, learned with
/// [`observe`](LocalNets::observe)).
///
/// An address is local when it is in a built-in or user range or the sensor marked it local.
/// The sensor's "not local" does not override the private ranges: Zeek sites often configure
/// `Site::local_nets` for IPv4 only, and an unconfigured Zeek calls everything non-local.
///
/// # Example
/// ```
/// use beaconstat::rank::{Direction, LocalNets};
/// use beaconstat::{ConnEvent, SeriesKey, Timestamp};
/// let mut nets = LocalNets::new();
/// nets.push("198.51.100.0/24")?;
/// assert_eq!(nets.is_local("10.1.2.3"), Some(true));
/// assert_eq!(nets.is_local("198.51.100.7"), Some(true));
/// assert_eq!(nets.is_local("203.0.113.9"), Some(false));
/// assert_eq!(nets.is_local("not-an-address"), None);
/// // Zeek says 203.0.113.9 is local (its Site::local_nets): learned from the log.
/// nets.observe(&ConnEvent::new(Timestamp::from_secs(0), "203.0.113.9", "8.8.8.8").with_locality(true, false));
/// assert_eq!(nets.direction(&SeriesKey::pair("203.0.113.9", "8.8.8.8")), Direction::Outbound);
/// assert_eq!(nets.direction(&SeriesKey::pair("45.1.2.3", "10.0.0.5")), Direction::Inbound);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LocalNets {
    nets: Vec<Cidr>,
    // Addresses the sensor marked local (as written in the log), interned: one seeded hash
    // and one probe per marked side of every event.
    marked: Interner<Span>,
}

impl Default for LocalNets {
    /// The built-in ranges.
    fn default() -> Self {
        LocalNets::new()
    }
}

impl LocalNets {
    /// The built-in local ranges (RFC 1918, loopback, link-local, CGNAT, ULA, multicast).
    pub fn new() -> Self {
        LocalNets {
            nets: BUILTIN.iter().filter_map(|s| Cidr::parse(s)).collect(),
            marked: Interner::default(),
        }
    }

    /// No local ranges at all (only what [`push`](LocalNets::push) and
    /// [`observe`](LocalNets::observe) add).
    pub fn none() -> Self {
        LocalNets {
            nets: Vec::new(),
            marked: Interner::default(),
        }
    }

    /// Adds a network (`198.51.100.0/24`, `2001:db8::/32`, or one address).
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for text that is not an address or CIDR.
    pub fn push(&mut self, cidr: &str) -> Result<()> {
        let net = Cidr::parse(cidr)
            .ok_or_else(|| Error::config("local_nets", format!("{cidr:?} is not an address or CIDR network")))?;
        self.nets.push(net);
        Ok(())
    }

    /// Adds every network of a comma-separated list (`10.9.0.0/16,198.51.100.0/24`).
    ///
    /// # Errors
    /// As [`push`](LocalNets::push), for the first bad entry.
    pub fn push_list(&mut self, list: &str) -> Result<()> {
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            self.push(item)?;
        }
        Ok(())
    }

    /// Learns what the sensor says about an event's sides (Zeek `local_orig`/`local_resp`):
    /// a side marked local is local from now on. Costs one lookup per marked side.
    pub fn observe(&mut self, ev: &ConnEvent<'_>) {
        if ev.local_orig == Some(true) {
            self.mark_local(ev.src);
        }
        if ev.local_resp == Some(true) {
            self.mark_local(ev.dst);
        }
    }

    /// Adds what `other` holds and this does not: its networks and the addresses its sensor
    /// marked local (to combine what several threads [`observe`](LocalNets::observe)d).
    ///
    /// # Example
    /// ```
    /// use beaconstat::rank::LocalNets;
    /// let (mut a, mut b) = (LocalNets::new(), LocalNets::new());
    /// b.mark_local("203.0.113.9");
    /// b.push("198.51.100.0/24")?;
    /// a.merge(&b);
    /// assert_eq!(a.is_local("203.0.113.9"), Some(true));
    /// assert_eq!(a.is_local("198.51.100.7"), Some(true));
    /// assert_eq!(a.marked(), 1);
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn merge(&mut self, other: &LocalNets) {
        for n in &other.nets {
            if !self.nets.contains(n) {
                self.nets.push(*n);
            }
        }
        for id in 0..other.marked.len() as u32 {
            self.mark_local(other.marked.get(id));
        }
    }

    /// Marks one address local.
    pub fn mark_local(&mut self, addr: &str) {
        if self.marked.find_str(addr).is_none() {
            // `None` only past 4 GiB of addresses: the address is then not remembered.
            let _ = self.marked.intern(addr);
        }
    }

    /// How many addresses the sensor marked local.
    pub fn marked(&self) -> usize {
        self.marked.len()
    }

    /// Whether `addr` is local; `None` when it is not an address.
    pub fn is_local(&self, addr: &str) -> Option<bool> {
        if self.marked.find_str(addr).is_some() {
            return Some(true);
        }
        let ip = parse_ip(addr)?;
        Some(self.nets.iter().any(|n| n.contains(ip)))
    }

    /// Whether a destination name (FQDN or domain) stays on the site (`.local`, `.lan`,
    /// `.internal`, `.home.arpa`, …); any other name is external.
    fn name_is_local(name: &str) -> bool {
        let name = name.trim_end_matches('.');
        LOCAL_NAME_SUFFIXES.iter().any(|s| {
            name.len() >= s.len()
                && name
                    .get(name.len() - s.len()..)
                    .is_some_and(|tail| tail.eq_ignore_ascii_case(s))
        }) || !name.contains('.')
    }

    /// The direction from address `src` to address `dst` (the AN1113 join's per-connection view).
    pub(crate) fn between(&self, src: &str, dst: &str) -> Direction {
        Direction::of(self.is_local(src), self.is_local(dst))
    }

    /// The direction of a series from its key: the source address (or, for endpoint
    /// telemetry keyed by host, the host: local), and the destination address or name.
    pub fn direction(&self, key: &SeriesKey<'_>) -> Direction {
        Direction::of(self.source_is_local(key), self.destination_is_local(key))
    }

    pub(crate) fn source_is_local(&self, key: &SeriesKey<'_>) -> Option<bool> {
        match (key.src, key.host) {
            (Some(src), _) => self.is_local(src),
            // A host that logs its own connections is one of ours.
            (None, Some(_)) => Some(true),
            (None, None) => None,
        }
    }

    fn destination_is_local(&self, key: &SeriesKey<'_>) -> Option<bool> {
        match (key.dst, key.name) {
            (Some(dst), _) => self.is_local(dst),
            (None, Some(name)) => Some(LocalNets::name_is_local(name)),
            (None, None) => None,
        }
    }
}

/// An address as logs write it: IPv4, IPv6 (an IPv4-mapped one as its IPv4 address), with an
/// optional `%zone`.
fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.split_once('%').map_or(s, |(a, _)| a);
    let first = *s.as_bytes().first()?;
    if !(first.is_ascii_hexdigit() || first == b':') {
        return None;
    }
    match s.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)),
        v4 => Some(v4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_ranges_and_names() {
        let n = LocalNets::new();
        for a in [
            "10.0.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.3.4",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.251",
            "255.255.255.255",
            "::1",
            "fd2d:ab8c:225::1",
            "fe80::1%eth0",
            "ff02::1:3",
            "::ffff:10.1.2.3",
        ] {
            assert_eq!(n.is_local(a), Some(true), "{a}");
        }
        for a in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:db8::1", "::ffff:8.8.4.4"] {
            assert_eq!(n.is_local(a), Some(false), "{a}");
        }
        for a in ["", "host-7", "WORKSTATION5"] {
            assert_eq!(n.is_local(a), None, "{a}");
        }
        assert_eq!(LocalNets::none().is_local("10.0.0.1"), Some(false));
        let k = SeriesKey::empty().with_src("10.0.0.5").with_name("evil.example.com");
        assert_eq!(n.direction(&k), Direction::Outbound);
        let k = SeriesKey::empty().with_src("10.0.0.5").with_name("printer.corp");
        assert_eq!(n.direction(&k), Direction::Internal);
        let k = SeriesKey::pair("8.8.8.8", "1.1.1.1");
        assert_eq!(n.direction(&k), Direction::External);
        let k = SeriesKey::pair("host-7", "1.1.1.1");
        assert_eq!(n.direction(&k), Direction::Unknown);
        let mut bad = LocalNets::new();
        assert!(bad.push("10.0.0.0/33").is_err());
        assert!(bad.push_list("10.9.0.0/16, 198.51.100.0/24").is_ok());
        assert_eq!(bad.is_local("198.51.100.200"), Some(true));
    }
}
