//! Which addresses are local (RFC 1918, loopback, link-local, CGNAT, IPv6 ULA and link-local)
//! and the direction of a connection between them.

use std::net::IpAddr;

/// The direction of a connection by the locality of its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Direction {
    /// A local host calling an external address: what AN1113 asks about.
    Outbound,
    /// An external address calling a local host.
    Inbound,
    /// Both ends local.
    Internal,
    /// Both ends external (a sensor outside the network, or transit).
    External,
    /// An end is not an address (a name), so locality is not known.
    Unknown,
}

impl Direction {
    /// The direction from `src` to `dst`.
    ///
    /// # Example
    /// ```
    /// use beaconstat::an1113::Direction;
    /// assert_eq!(Direction::of("10.0.0.5", "203.0.113.9"), Direction::Outbound);
    /// assert_eq!(Direction::of("10.0.0.5", "192.168.1.1"), Direction::Internal);
    /// assert_eq!(Direction::of("fd00::1", "2001:db8::1"), Direction::Outbound);
    /// ```
    pub fn of(src: &str, dst: &str) -> Direction {
        match (is_local(src), is_local(dst)) {
            (Some(true), Some(false)) => Direction::Outbound,
            (Some(false), Some(true)) => Direction::Inbound,
            (Some(true), Some(true)) => Direction::Internal,
            (Some(false), Some(false)) => Direction::External,
            _ => Direction::Unknown,
        }
    }

    /// In words (`"local → external"`).
    pub fn describe(self) -> &'static str {
        match self {
            Direction::Outbound => "local → external",
            Direction::Inbound => "external → local",
            Direction::Internal => "local ↔ local",
            Direction::External => "external ↔ external",
            Direction::Unknown => "locality unknown",
        }
    }
}

/// `Some(true)` for a private, loopback, link-local, CGNAT or unique-local address,
/// `Some(false)` for any other address, `None` when `addr` is not an address.
pub(crate) fn is_local(addr: &str) -> Option<bool> {
    let ip: IpAddr = addr.trim_matches(['[', ']']).parse().ok()?;
    Some(match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] >= 224
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_local(&v4.to_string());
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xff00) == 0xff00
        }
    })
}
