//! The owned form of a [`SeriesKey`] the tracker keeps for each live series.

use crate::series::SeriesKey;
use core::fmt;

/// A [`SeriesKey`] that owns its strings: the identity of one tracked series.
///
/// It hashes exactly as the borrowed key does, so the tracker finds a live series from an
/// event's borrowed key without allocating.
///
/// # Example
/// ```
/// use beaconstat::SeriesKey;
/// use beaconstat::tracker::TrackedKey;
/// let k = TrackedKey::from(SeriesKey::pair("10.0.0.5", "203.0.113.7").with_dst_port(443));
/// assert_eq!(k.as_series_key().dst_port, Some(443));
/// assert_eq!(k.to_string(), "10.0.0.5 -> 203.0.113.7:443");
/// ```
// Field order matches `SeriesKey` (the derived `Hash` must agree with it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TrackedKey {
    src: Option<Box<str>>,
    dst: Option<Box<str>>,
    dst_port: Option<u16>,
    name: Option<Box<str>>,
    host: Option<Box<str>>,
    process: Option<Box<str>>,
}

impl TrackedKey {
    /// The key as a borrowed [`SeriesKey`].
    pub fn as_series_key(&self) -> SeriesKey<'_> {
        let mut k = SeriesKey::empty();
        k.src = self.src.as_deref();
        k.dst = self.dst.as_deref();
        k.dst_port = self.dst_port;
        k.name = self.name.as_deref();
        k.host = self.host.as_deref();
        k.process = self.process.as_deref();
        k
    }

    /// Heap bytes held by the key's strings.
    pub(super) fn heap_bytes(&self) -> usize {
        [&self.src, &self.dst, &self.name, &self.host, &self.process]
            .iter()
            .map(|s| s.as_ref().map_or(0, |s| s.len()))
            .sum()
    }
}

impl From<SeriesKey<'_>> for TrackedKey {
    fn from(k: SeriesKey<'_>) -> Self {
        TrackedKey {
            src: k.src.map(Box::from),
            dst: k.dst.map(Box::from),
            dst_port: k.dst_port,
            name: k.name.map(Box::from),
            host: k.host.map(Box::from),
            process: k.process.map(Box::from),
        }
    }
}

impl hashbrown::Equivalent<TrackedKey> for SeriesKey<'_> {
    fn equivalent(&self, k: &TrackedKey) -> bool {
        *self == k.as_series_key()
    }
}

impl fmt::Display for TrackedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_series_key().fmt(f)
    }
}

/// True when a key part holds a control character (NUL, newline, escape, DEL): no address,
/// host, process or server name does, so such a key is refused rather than made a series.
pub(crate) fn has_control_char(k: &SeriesKey<'_>) -> bool {
    [k.src, k.dst, k.name, k.host, k.process]
        .into_iter()
        .flatten()
        .any(|s| s.bytes().any(|b| b < 0x20 || b == 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::hash::BuildHasher;

    #[test]
    fn owned_and_borrowed_keys_hash_alike() {
        let s = std::hash::RandomState::new();
        let keys = [
            SeriesKey::pair("10.0.0.5", "203.0.113.7"),
            SeriesKey::pair("10.0.0.5", "203.0.113.7").with_dst_port(443),
            SeriesKey::empty().with_host("WS1").with_process("a.exe").with_dst("x"),
            SeriesKey::empty().with_src("a").with_name("example.com"),
            SeriesKey::empty(),
        ];
        for k in keys {
            let owned = TrackedKey::from(k);
            assert_eq!(s.hash_one(k), s.hash_one(&owned), "{k}");
            assert_eq!(owned.as_series_key(), k);
        }
    }

    #[test]
    fn control_characters() {
        assert!(!has_control_char(&SeriesKey::pair("10.0.0.5", "fe80::1%eth0")));
        assert!(has_control_char(&SeriesKey::pair("10.0.0.5\0", "203.0.113.7")));
        assert!(has_control_char(&SeriesKey::pair("10.0.0.5", "203.0.113.7\n")));
        assert!(has_control_char(&SeriesKey::empty().with_host("WS\u{7f}1")));
    }
}
