//! The owned form of a [`SeriesKey`] the tracker keeps for each live series.

use crate::series::SeriesKey;
use core::fmt;

/// A [`SeriesKey`] that owns its strings: the identity of one tracked series.
///
/// The tracker hashes it through its borrowed form, so it finds a live series from an
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

/// A key's hash under the tracker's keyed SipHash: its parts encoded (a presence byte, then
/// the length and the bytes of each string, then the port) and fed in one `write` when they
/// fit 192 bytes (SipHash costs per call, not only per byte), part by part otherwise. Both
/// paths encode the same bytes, and the encoding is prefix-free, so distinct keys differ.
pub(super) fn key_hash(state: &std::hash::RandomState, k: &SeriesKey<'_>) -> u64 {
    use core::hash::{BuildHasher, Hasher};
    let parts = [k.src, k.dst, k.name, k.host, k.process];
    let mut h = state.build_hasher();
    let port = match k.dst_port {
        Some(p) => [1, p as u8, (p >> 8) as u8],
        None => [0; 3],
    };
    let mut buf = [0u8; 192];
    let mut n = 0;
    let mut fits = true;
    for p in parts {
        let s = p.map_or(&[][..], str::as_bytes);
        let head = [
            u8::from(p.is_some()),
            s.len() as u8,
            (s.len() >> 8) as u8,
            (s.len() >> 16) as u8,
            (s.len() >> 24) as u8,
        ];
        if fits && n + head.len() + s.len() <= buf.len() - port.len() {
            buf[n..n + head.len()].copy_from_slice(&head);
            n += head.len();
            buf[n..n + s.len()].copy_from_slice(s);
            n += s.len();
        } else {
            if fits {
                h.write(&buf[..n]);
                fits = false;
            }
            h.write(&head);
            h.write(s);
        }
    }
    if fits {
        buf[n..n + port.len()].copy_from_slice(&port);
        n += port.len();
        h.write(&buf[..n]);
    } else {
        h.write(&port);
    }
    h.finish()
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

    #[test]
    fn owned_and_borrowed_keys_hash_alike() {
        let s = std::hash::RandomState::new();
        let long = "x".repeat(300);
        let keys = [
            SeriesKey::pair("10.0.0.5", "203.0.113.7"),
            SeriesKey::pair("10.0.0.5", "203.0.113.7").with_dst_port(443),
            SeriesKey::empty().with_host("WS1").with_process("a.exe").with_dst("x"),
            SeriesKey::empty().with_src("a").with_name("example.com"),
            SeriesKey::empty(),
            SeriesKey::pair("10.0.0.5", &long).with_dst_port(80),
        ];
        let hashes: Vec<u64> = keys.iter().map(|k| key_hash(&s, k)).collect();
        for (k, h) in keys.iter().zip(&hashes) {
            let owned = TrackedKey::from(*k);
            assert_eq!(key_hash(&s, &owned.as_series_key()), *h, "{k}");
            assert_eq!(owned.as_series_key(), *k);
        }
        // Moving bytes between parts, or a port, changes the hash (the encoding is prefix-free).
        let a = key_hash(&s, &SeriesKey::pair("ab", "c"));
        assert_ne!(a, key_hash(&s, &SeriesKey::pair("a", "bc")));
        assert_ne!(a, key_hash(&s, &SeriesKey::pair("ab", "c").with_dst_port(0)));
    }

    #[test]
    fn control_characters() {
        assert!(!has_control_char(&SeriesKey::pair("10.0.0.5", "fe80::1%eth0")));
        assert!(has_control_char(&SeriesKey::pair("10.0.0.5\0", "203.0.113.7")));
        assert!(has_control_char(&SeriesKey::pair("10.0.0.5", "203.0.113.7\n")));
        assert!(has_control_char(&SeriesKey::empty().with_host("WS\u{7f}1")));
    }
}
