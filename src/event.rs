//! Borrowed connection events: [`ConnEvent`] and the process identity it may carry.
//!
//! Every string in an event borrows from the caller's buffer (a reader's record, a memory-mapped
//! file, an Arrow column). Events are `Copy`: passing one around copies a few words, never text.
//!
//! ```text
//!   caller's buffer  ──borrowed by──▶  ConnEvent<'a>  ──pushed into──▶  Grouper (interns keys once)
//!   (lives 'a)                         (Copy, no heap)                   (owns its key text)
//! ```

use crate::time::{Interval, Timestamp};
use core::fmt;

/// Transport protocol of a connection.
///
/// # Example
/// ```
/// use beaconstat::Proto;
/// assert_eq!(Proto::parse("tcp"), Proto::Tcp);
/// assert_eq!(Proto::parse("17"), Proto::Udp);
/// assert_eq!(Proto::parse("sctp"), Proto::Other);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Proto {
    /// TCP (IP protocol 6).
    Tcp,
    /// UDP (IP protocol 17).
    Udp,
    /// ICMP or ICMPv6 (IP protocols 1 and 58).
    Icmp,
    /// Anything else, or not known.
    #[default]
    Other,
}

impl Proto {
    /// Parses a protocol name (`tcp`, `UDP`, `icmp`, `icmp6`) or IP protocol number (`6`, `17`,
    /// `1`, `58`). Anything else is [`Proto::Other`].
    pub fn parse(s: &str) -> Proto {
        match s.as_bytes() {
            b"6" => Proto::Tcp,
            b"17" => Proto::Udp,
            b"1" | b"58" => Proto::Icmp,
            b if b.eq_ignore_ascii_case(b"tcp") => Proto::Tcp,
            b if b.eq_ignore_ascii_case(b"udp") => Proto::Udp,
            b if b.eq_ignore_ascii_case(b"icmp")
                || b.eq_ignore_ascii_case(b"icmp6")
                || b.eq_ignore_ascii_case(b"icmpv6") =>
            {
                Proto::Icmp
            }
            _ => Proto::Other,
        }
    }

    /// The lowercase name (`tcp`, `udp`, `icmp`, `other`).
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Other => "other",
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The process behind a connection, where the telemetry names it (Sysmon event 3, EDR logs).
///
/// # Example
/// ```
/// use beaconstat::ProcessRef;
/// let p = ProcessRef::new()
///     .with_image(r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe")
///     .with_pid(4242);
/// assert_eq!(p.image_name(), Some("powershell.exe"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ProcessRef<'a> {
    /// Full image path as logged (`C:\...\powershell.exe`).
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub image: Option<&'a str>,
    /// Sysmon `ProcessGuid`, braces included as logged.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub guid: Option<&'a str>,
    /// Process id (decimal; readers normalise hex PIDs).
    pub pid: Option<u32>,
}

impl<'a> ProcessRef<'a> {
    /// An empty process identity.
    pub const fn new() -> Self {
        ProcessRef {
            image: None,
            guid: None,
            pid: None,
        }
    }
    /// With the image path.
    pub const fn with_image(mut self, image: &'a str) -> Self {
        self.image = Some(image);
        self
    }
    /// With the process GUID.
    pub const fn with_guid(mut self, guid: &'a str) -> Self {
        self.guid = Some(guid);
        self
    }
    /// With the process id.
    pub const fn with_pid(mut self, pid: u32) -> Self {
        self.pid = Some(pid);
        self
    }
    /// The file name of the image (after the last `\` or `/`).
    pub fn image_name(&self) -> Option<&'a str> {
        self.image.map(|i| i.rsplit(['\\', '/']).next().unwrap_or(i))
    }
}

/// One connection, borrowed from the caller's buffer.
///
/// Only `ts`, `src` and `dst` are required; everything else is optional because real telemetry
/// is uneven (Zeek has bytes but no process; Sysmon has the process but no bytes). Build one
/// with [`ConnEvent::new`] and the `with_*` methods; read fields directly.
///
/// # Example
/// ```
/// use beaconstat::{ConnEvent, Proto, Timestamp};
/// let line = String::from("10.0.0.5 203.0.113.7");
/// let (src, dst) = line.split_once(' ').unwrap();
/// let ev = ConnEvent::new(Timestamp::from_secs(1_700_000_000), src, dst)
///     .with_dst_port(443)
///     .with_proto(Proto::Tcp)
///     .with_bytes(512, 4096);
/// assert_eq!(ev.dst, "203.0.113.7");
/// assert_eq!(ev.bytes_out, Some(512));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ConnEvent<'a> {
    /// When the connection started.
    pub ts: Timestamp,
    /// Originator address (or host name where that is all the log has).
    pub src: &'a str,
    /// Responder address.
    pub dst: &'a str,
    /// Originator port.
    pub src_port: Option<u16>,
    /// Responder port.
    pub dst_port: Option<u16>,
    /// Transport protocol.
    pub proto: Proto,
    /// Payload bytes sent by the originator (Zeek `orig_bytes`).
    pub bytes_out: Option<u64>,
    /// Payload bytes sent by the responder (Zeek `resp_bytes`).
    pub bytes_in: Option<u64>,
    /// Connection duration.
    pub duration: Option<Interval>,
    /// Sensor's connection id (Zeek `uid`), for joins with other logs of the same sensor.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub uid: Option<&'a str>,
    /// The server name the client asked for (DNS query, TLS SNI, HTTP Host), where known.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub name: Option<&'a str>,
    /// The host that made the connection (computer name in Windows logs).
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub host: Option<&'a str>,
    /// The user account behind the connection.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub user: Option<&'a str>,
    /// The process behind the connection.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub process: Option<ProcessRef<'a>>,
    /// Whether the sensor counts the originator as local (Zeek `local_orig`, from its
    /// `Site::local_nets`), where the log says.
    pub local_orig: Option<bool>,
    /// Whether the sensor counts the responder as local (Zeek `local_resp`), where the log says.
    pub local_resp: Option<bool>,
}

impl<'a> ConnEvent<'a> {
    /// A connection with only the required fields set.
    pub const fn new(ts: Timestamp, src: &'a str, dst: &'a str) -> Self {
        ConnEvent {
            ts,
            src,
            dst,
            src_port: None,
            dst_port: None,
            proto: Proto::Other,
            bytes_out: None,
            bytes_in: None,
            duration: None,
            uid: None,
            name: None,
            host: None,
            user: None,
            process: None,
            local_orig: None,
            local_resp: None,
        }
    }
    /// With the originator port.
    pub const fn with_src_port(mut self, port: u16) -> Self {
        self.src_port = Some(port);
        self
    }
    /// With the responder port.
    pub const fn with_dst_port(mut self, port: u16) -> Self {
        self.dst_port = Some(port);
        self
    }
    /// With the protocol.
    pub const fn with_proto(mut self, proto: Proto) -> Self {
        self.proto = proto;
        self
    }
    /// With payload bytes out (originator → responder) and in.
    pub const fn with_bytes(mut self, out: u64, inbound: u64) -> Self {
        self.bytes_out = Some(out);
        self.bytes_in = Some(inbound);
        self
    }
    /// With the duration.
    pub const fn with_duration(mut self, d: Interval) -> Self {
        self.duration = Some(d);
        self
    }
    /// With the sensor's connection id.
    pub const fn with_uid(mut self, uid: &'a str) -> Self {
        self.uid = Some(uid);
        self
    }
    /// With the server name asked for.
    pub const fn with_name(mut self, name: &'a str) -> Self {
        self.name = Some(name);
        self
    }
    /// With the originating host's name.
    pub const fn with_host(mut self, host: &'a str) -> Self {
        self.host = Some(host);
        self
    }
    /// With the user.
    pub const fn with_user(mut self, user: &'a str) -> Self {
        self.user = Some(user);
        self
    }
    /// With the process identity.
    pub const fn with_process(mut self, p: ProcessRef<'a>) -> Self {
        self.process = Some(p);
        self
    }
    /// With the sensor's view of which side is local (Zeek `local_orig`, `local_resp`).
    pub const fn with_locality(mut self, local_orig: bool, local_resp: bool) -> Self {
        self.local_orig = Some(local_orig);
        self.local_resp = Some(local_resp);
        self
    }
}
