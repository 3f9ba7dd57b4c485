//! What a series is keyed by: [`SeriesKey`], how events are grouped ([`GroupBy`]) and which
//! byte count becomes a series' size ([`SizeField`]).

use crate::event::ConnEvent;
use core::fmt;
use std::sync::Arc;

/// The identity of one series: whichever fields the grouping uses, the others `None`.
///
/// Keys handed out by a [`SeriesSet`](super::SeriesSet) borrow from the set; keys built by a custom key function
/// borrow from the event.
///
/// # Example
/// ```
/// use beaconstat::SeriesKey;
/// let k = SeriesKey::pair("10.0.0.5", "198.51.100.9").with_dst_port(443);
/// assert_eq!(k.to_string(), "10.0.0.5 -> 198.51.100.9:443");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct SeriesKey<'s> {
    /// Originator.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub src: Option<&'s str>,
    /// Responder address.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub dst: Option<&'s str>,
    /// Responder port.
    pub dst_port: Option<u16>,
    /// Server name (FQDN or registered domain) the connections asked for.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub name: Option<&'s str>,
    /// Originating host name.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub host: Option<&'s str>,
    /// Originating process image.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub process: Option<&'s str>,
}

impl<'s> SeriesKey<'s> {
    /// Who originated the series: its source address, else its host name. The key
    /// [`SeriesSet::observed_seconds_by_source`](super::SeriesSet::observed_seconds_by_source) groups by.
    ///
    /// # Example
    /// ```
    /// use beaconstat::SeriesKey;
    /// assert_eq!(SeriesKey::pair("10.0.0.5", "198.51.100.9").source(), Some("10.0.0.5"));
    /// assert_eq!(SeriesKey::empty().source(), None);
    /// ```
    pub const fn source(&self) -> Option<&'s str> {
        match self.src {
            Some(s) => Some(s),
            None => self.host,
        }
    }
    /// A key with no field set (every event with it falls in one series).
    pub const fn empty() -> Self {
        SeriesKey {
            src: None,
            dst: None,
            dst_port: None,
            name: None,
            host: None,
            process: None,
        }
    }
    /// The (source, destination) key.
    pub const fn pair(src: &'s str, dst: &'s str) -> Self {
        let mut k = Self::empty();
        k.src = Some(src);
        k.dst = Some(dst);
        k
    }
    /// With the source.
    pub const fn with_src(mut self, src: &'s str) -> Self {
        self.src = Some(src);
        self
    }
    /// With the destination address.
    pub const fn with_dst(mut self, dst: &'s str) -> Self {
        self.dst = Some(dst);
        self
    }
    /// With the destination port.
    pub const fn with_dst_port(mut self, port: u16) -> Self {
        self.dst_port = Some(port);
        self
    }
    /// With the server name.
    pub const fn with_name(mut self, name: &'s str) -> Self {
        self.name = Some(name);
        self
    }
    /// With the originating host.
    pub const fn with_host(mut self, host: &'s str) -> Self {
        self.host = Some(host);
        self
    }
    /// With the originating process image.
    pub const fn with_process(mut self, image: &'s str) -> Self {
        self.process = Some(image);
        self
    }

    /// `(src, dst)` when these are the only string parts (the port may be set).
    #[inline]
    pub(super) fn as_pair(&self) -> Option<(&'s str, &'s str)> {
        match (self.src, self.dst, self.name, self.host, self.process) {
            (Some(s), Some(d), None, None, None) => Some((s, d)),
            _ => None,
        }
    }

    #[inline]
    pub(super) fn strs(&self) -> [Option<&'s str>; 5] {
        [self.src, self.dst, self.name, self.host, self.process]
    }
}

impl fmt::Display for SeriesKey<'_> {
    /// `[host/process] src -> dst|name[:port]`, omitting what is not set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(h) = self.host {
            write!(f, "{h}")?;
            sep = " ";
        }
        if let Some(p) = self.process {
            let short = p.rsplit(['\\', '/']).next().unwrap_or(p);
            write!(f, "{}{short}", if self.host.is_some() { "/" } else { "" })?;
            sep = " ";
        }
        if let Some(s) = self.src {
            write!(f, "{sep}{s}")?;
            sep = " ";
        }
        let target = self.name.or(self.dst);
        if let Some(t) = target {
            write!(f, "{sep}-> {t}")?;
        }
        if let Some(p) = self.dst_port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// A user-supplied key function: maps an event to its key, or `None` to leave it out
/// (counted in [`SeriesSet::unkeyed`](super::SeriesSet::unkeyed)).
pub type KeyFn = Arc<dyn for<'e> Fn(&ConnEvent<'e>) -> Option<SeriesKey<'e>> + Send + Sync>;

/// How events are grouped into series.
///
/// # Example
/// ```
/// use beaconstat::{ConnEvent, GroupBy, SeriesKey, Timestamp};
/// // Group by destination only (e.g. "who talks to this C2 server", summed over sources).
/// let by_dst = GroupBy::custom(|e: &ConnEvent<'_>| Some(SeriesKey::empty().with_dst(e.dst)));
/// let e = ConnEvent::new(Timestamp::from_secs(0), "a", "b");
/// assert_eq!(by_dst.key(&e).unwrap().dst, Some("b"));
/// assert_eq!(GroupBy::Pair.key(&e), Some(SeriesKey::pair("a", "b")));
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum GroupBy {
    /// (src, dst): the classic beacon pair.
    #[default]
    Pair,
    /// (src, dst, dst_port).
    PairPort,
    /// (host, process image, dst): which program on which machine calls out. Events without
    /// a host fall back to `src` as the host; events without a process keep `process = None`.
    HostProcessDst,
    /// (src, name): by the server name asked for; events without a name fall back to `dst`.
    SrcName,
    /// (src, name) where the event names its server, else (src, dst, dst_port): series by
    /// server name as far as names are known (`hunt`'s default). Grouped without a key
    /// function: an unnamed event takes [`GroupBy::PairPort`]'s path.
    SrcNameOrPairPort,
    /// A custom key function.
    Custom(KeyFn),
}

impl GroupBy {
    /// Wraps a closure as [`GroupBy::Custom`].
    pub fn custom<F>(f: F) -> Self
    where
        F: for<'e> Fn(&ConnEvent<'e>) -> Option<SeriesKey<'e>> + Send + Sync + 'static,
    {
        GroupBy::Custom(Arc::new(f))
    }

    /// The key of one event under this grouping (borrowing from the event).
    #[inline]
    pub fn key<'e>(&self, e: &ConnEvent<'e>) -> Option<SeriesKey<'e>> {
        match self {
            GroupBy::Pair => Some(SeriesKey::pair(e.src, e.dst)),
            GroupBy::PairPort => {
                let mut k = SeriesKey::pair(e.src, e.dst);
                k.dst_port = e.dst_port;
                Some(k)
            }
            GroupBy::HostProcessDst => Some(SeriesKey {
                host: Some(e.host.unwrap_or(e.src)),
                process: e.process.and_then(|p| p.image),
                dst: Some(e.dst),
                ..SeriesKey::empty()
            }),
            GroupBy::SrcName => Some(match e.name {
                Some(n) => SeriesKey {
                    src: Some(e.src),
                    name: Some(n),
                    ..SeriesKey::empty()
                },
                None => SeriesKey::pair(e.src, e.dst),
            }),
            GroupBy::SrcNameOrPairPort => Some(match e.name {
                Some(n) => SeriesKey {
                    src: Some(e.src),
                    name: Some(n),
                    ..SeriesKey::empty()
                },
                None => pair_key(e.src, e.dst, e.dst_port),
            }),
            GroupBy::Custom(f) => f(e),
        }
    }
}

impl fmt::Debug for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GroupBy::Pair => "Pair",
            GroupBy::PairPort => "PairPort",
            GroupBy::HostProcessDst => "HostProcessDst",
            GroupBy::SrcName => "SrcName",
            GroupBy::SrcNameOrPairPort => "SrcNameOrPairPort",
            GroupBy::Custom(_) => "Custom(..)",
        })
    }
}

/// Which byte count becomes a series' size (for data-size regularity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum SizeField {
    /// Originator payload bytes (what the implant sends: its check-in). The default.
    #[default]
    BytesOut,
    /// Responder payload bytes.
    BytesIn,
    /// Both directions summed.
    Total,
    /// No sizes.
    None,
}

impl SizeField {
    #[inline]
    pub(crate) fn of(self, e: &ConnEvent<'_>) -> Option<u64> {
        match self {
            SizeField::BytesOut => e.bytes_out,
            SizeField::BytesIn => e.bytes_in,
            SizeField::Total => match (e.bytes_out, e.bytes_in) {
                (Some(a), Some(b)) => Some(a.saturating_add(b)),
                _ => None,
            },
            SizeField::None => None,
        }
    }
}

/// The (src, dst[, port]) key.
#[inline]
pub(super) fn pair_key<'k>(src: &'k str, dst: &'k str, port: Option<u16>) -> SeriesKey<'k> {
    let mut key = SeriesKey::pair(src, dst);
    key.dst_port = port;
    key
}
