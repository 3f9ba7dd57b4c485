//! The grouper's key hash (seeded, a few folded multiplies per key), its word-wise form for
//! short (src, dst[, port]) keys, and the short-string compare of key parts.

use super::key::SeriesKey;

/// Seeds for [`key_hash`]: odd 64-bit constants (the fractional digits of π), mixed with a
/// per-grouper random seed.
const MUL0: u64 = 0x243F_6A88_85A3_08D3;
const MUL1: u64 = 0x1319_8A2E_0370_7345;

/// The seed a grouper hashes with, from two random draws. The second word enters every
/// multiply as `data ^ seed[1]`: at zero, repeated ASCII words reach the multiply raw and
/// whole families of keys collide (`flood_tests`), so it is made odd (non-zero; one of its 64
/// bits fixed).
pub(super) fn seed_words(a: u64, b: u64) -> [u64; 2] {
    [a, b | 1]
}

/// A value's hash folded to the 32 bits an [`Interner`](super::intern::Interner) keeps.
#[inline]
pub(super) fn fold32(hash: u64) -> u32 {
    (hash ^ hash >> 32) as u32
}

/// The table's hash from the kept 32 bits, spread over 64: the table's tag (top 7 bits)
/// depends on all of them, its bucket index (low bits) one to one on as many low bits.
#[inline]
pub(super) fn spread(h: u32) -> u64 {
    u64::from(h).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The 64×64→128-bit product folded to 64 bits (high half xor low half): one multiply that
/// mixes every input bit into every output bit, the core of `foldhash` and `wyhash`.
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline]
fn first8(b: &[u8]) -> u64 {
    b.first_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w))
}

#[inline]
fn last8(b: &[u8]) -> u64 {
    b.last_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w))
}

#[inline]
fn first4(b: &[u8]) -> u64 {
    b.first_chunk::<4>().map_or(0, |w| u64::from(u32::from_le_bytes(*w)))
}

#[inline]
fn last4(b: &[u8]) -> u64 {
    b.last_chunk::<4>().map_or(0, |w| u64::from(u32::from_le_bytes(*w)))
}

/// Two words that, with the length, determine `b` exactly when it is at most 16 bytes long:
/// two overlapping 8-byte (or 4-byte) words, or the bytes themselves below 4.
#[inline]
fn short_words(b: &[u8]) -> Option<(u64, u64)> {
    let n = b.len();
    Some(if n > 16 {
        return None;
    } else if n >= 8 {
        (first8(b), last8(b))
    } else if n >= 4 {
        (first4(b), last4(b))
    } else {
        let byte = |i: usize| b.get(i).map_or(0, |&x| u64::from(x));
        (byte(0) | byte(n / 2) << 8 | byte(n.wrapping_sub(1)) << 16, 0)
    })
}

/// One [`hash_bytes`] step over the [`short_words`] of a string of length `n`.
#[inline]
fn hash_words(h: u64, seed: u64, n: usize, (lo, hi): (u64, u64)) -> u64 {
    fold_mul(lo ^ h, hi ^ (n as u64).wrapping_mul(MUL0) ^ seed)
}

/// Hashes `b` into the running state `h`: two (possibly overlapping) words for up to 16 bytes,
/// one folded multiply per 16 bytes beyond. Addresses and host names are short, so a key part
/// costs one or two multiplies instead of a byte-at-a-time `Hasher` walk.
#[inline]
fn hash_bytes(h: u64, seed: u64, b: &[u8]) -> u64 {
    let n = b.len();
    if let Some(words) = short_words(b) {
        return hash_words(h, seed, n, words);
    }
    let len = (n as u64).wrapping_mul(MUL0) ^ seed;
    let mut acc = h;
    let mut chunks = b.chunks_exact(16);
    for c in &mut chunks {
        acc = fold_mul(first8(c) ^ acc, last8(c) ^ seed);
    }
    // The last 16 bytes (overlapping the chunks when the length is not a multiple of 16).
    fold_mul(b.get(n - 16..).map_or(0, first8) ^ acc, last8(b) ^ len)
}

/// The hash of a string (the [`Interner`](super::intern::Interner)'s names, addresses, uids).
#[inline]
pub(super) fn str_hash(seed: [u64; 2], s: &str) -> u64 {
    hash_bytes(seed[0], seed[1], s.as_bytes())
}

/// The hash of a (src, dst[, port]) key: two [`hash_bytes`] steps.
#[inline]
pub(super) fn pair_hash(seed: [u64; 2], src: &str, dst: &str, port: Option<u16>) -> u64 {
    let h = seed[0] ^ port_code(port);
    hash_bytes(hash_bytes(h, seed[1], src.as_bytes()), seed[1], dst.as_bytes())
}

#[inline]
fn port_code(port: Option<u16>) -> u64 {
    port.map_or(0x1_0000, u64::from)
}

/// A (src, dst[, port]) key whose addresses are at most 16 bytes each (every IPv4 address, short
/// names and IPv6 addresses) as the five words that determine it: its [`pair_hash`] without a
/// byte loop. (The grouper once kept one per key to compare keys without the arena: 40 bytes a
/// key, a quarter of grouping's memory on a million keys; keys are now compared in the arena.)
#[derive(Debug, Clone, Copy)]
pub(super) struct PairCode {
    words: [u64; 4],
    meta: u64,
}

impl PairCode {
    const VALID: u64 = 1 << 40;

    /// `meta`: the source's length (bits 0–7), the destination's (8–15), the [`port_code`]
    /// (16–32) and [`PairCode::VALID`].
    #[inline]
    pub(super) fn new(src: &str, dst: &str, port: Option<u16>) -> Option<PairCode> {
        let (s, d) = (short_words(src.as_bytes())?, short_words(dst.as_bytes())?);
        let meta = src.len() as u64 | (dst.len() as u64) << 8 | port_code(port) << 16 | PairCode::VALID;
        Some(PairCode {
            words: [s.0, s.1, d.0, d.1],
            meta,
        })
    }

    /// [`pair_hash`] from the words already computed (lengths and port read back from `meta`).
    #[inline]
    pub(super) fn hash(&self, seed: [u64; 2]) -> u64 {
        let [a, b, c, d] = self.words;
        let (src_len, dst_len) = ((self.meta & 0xff) as usize, (self.meta >> 8 & 0xff) as usize);
        let h = seed[0] ^ (self.meta >> 16 & 0x1_ffff);
        let h = hash_words(h, seed[1], src_len, (a, b));
        hash_words(h, seed[1], dst_len, (c, d))
    }
}

/// The hash of a key: its port and each string part (absent parts hash differently from empty
/// ones), seeded per grouper so that crafted keys cannot force collisions across runs.
/// (src, dst[, port]) keys take [`pair_hash`], as the pair fast path does.
#[inline]
pub(super) fn key_hash(seed: [u64; 2], key: &SeriesKey<'_>) -> u64 {
    if let Some((src, dst)) = key.as_pair() {
        return pair_hash(seed, src, dst, key.dst_port);
    }
    let mut h = seed[0] ^ port_code(key.dst_port);
    for part in key.strs() {
        h = match part {
            Some(p) => hash_bytes(h, seed[1], p.as_bytes()),
            None => h.rotate_left(29) ^ MUL1,
        };
    }
    fold_mul(h ^ MUL1, seed[1] | 1)
}

/// Byte equality, with short strings (addresses, ports, host names) compared as one or two
/// overlapping words instead of through a `memcmp` call.
// Always inlined: the grouper's key compare was left calling it, twice an event.
#[inline(always)]
pub(super) fn eq_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if (8..=16).contains(&n) {
        first8(a) == first8(b) && last8(a) == last8(b)
    } else if (4..8).contains(&n) {
        first4(a) == first4(b) && last4(a) == last4(b)
    } else {
        a == b
    }
}

/// Hash flooding: keys come from the network, so an attacker can choose them. The hash is
/// keyed by a random per-grouper seed (drawn from the std/hashbrown random state), so the
/// keys' hashes are unknown to whoever chooses them. These tests feed families of keys built to
/// defeat weak or unkeyed hashes (keys that differ only in one word, only in length, only in
/// where a string is cut into src and dst, only by port, long keys that differ in one chunk)
/// and count, as a hash table would see them, how many keys share a bucket: the work of a
/// probe sequence is bounded by that load, so a bounded load is linear grouping.
#[cfg(test)]
mod flood_tests {

    #[test]
    fn the_word_form_of_a_pair_hashes_as_pair_hash() {
        // A pair hashes the same whichever way it comes: as a `SeriesKey`, as two addresses,
        // or as the words of short ones.
        let seed = [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210];
        let addrs = [
            "",
            "a",
            "10.0.0.1",
            "192.168.100.200",
            "fe80::1:2:3:4567",
            "0123456789abcdef",
        ];
        for s in addrs {
            for d in addrs {
                for port in [None, Some(0), Some(443), Some(u16::MAX)] {
                    let code = PairCode::new(s, d, port).unwrap();
                    assert_eq!(code.hash(seed), pair_hash(seed, s, d, port), "{s:?} {d:?} {port:?}");
                    let key = SeriesKey {
                        dst_port: port,
                        ..SeriesKey::pair(s, d)
                    };
                    assert_eq!(key_hash(seed, &key), pair_hash(seed, s, d, port));
                }
            }
        }
    }

    use super::*;

    fn adversarial_keys() -> Vec<(String, String, Option<u16>)> {
        let mut keys = Vec::new();
        // One IPv4 source, every destination of a /12 in order (short-word path).
        for i in 0..300_000u32 {
            keys.push((
                "10.0.0.1".into(),
                format!("10.{}.{}.{}", 16 + (i >> 16), (i >> 8) & 255, i & 255),
                None,
            ));
        }
        // Long IPv6 destinations that differ only in their last 8 bytes (the long path).
        for i in 0..300_000u32 {
            keys.push((
                "10.0.0.1".into(),
                format!("2001:0db8:0000:0000:0000:0000:{:04x}:{:04x}", i >> 16, i & 0xffff),
                None,
            ));
        }
        // 32-byte names that differ only in bytes 8..16 (one multiply operand of a chunk).
        for i in 0..250_000u32 {
            keys.push(("h".into(), format!("aaaaaaaa{i:08x}bbbbbbbbbbbbbbbb"), None));
        }
        // One string cut at every place into src and dst, and lengths alone.
        let s = "x".repeat(400);
        for cut in 0..=400 {
            for len in (cut..=400).step_by(4) {
                keys.push((s[..cut].to_owned(), s[cut..len].to_owned(), None));
            }
        }
        // Keys that differ only by port.
        for i in 0..131_072u32 {
            keys.push((format!("10.0.0.{}", i >> 16), "203.0.113.7".into(), Some(i as u16)));
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// As an interner's table sees `hashes` (each folded to the 32 bits it keeps, then spread):
    /// the most keys sharing one bucket of a table of 2^20 buckets (hashbrown's bucket index,
    /// the low bits), and the most keys sharing one kept 32-bit hash (which the table cannot
    /// tell apart without comparing the keys).
    fn max_load(hashes: &[u64]) -> (usize, usize) {
        let mut low = vec![0u16; 1 << 20];
        let mut full = std::collections::HashMap::new();
        for &h in hashes {
            let kept = fold32(h);
            low[(spread(kept) & ((1 << 20) - 1)) as usize] += 1;
            *full.entry(kept).or_insert(0usize) += 1;
        }
        (
            low.iter().copied().max().unwrap_or(0) as usize,
            full.values().copied().max().unwrap_or(0),
        )
    }

    #[test]
    fn a_million_adversarial_keys_spread_like_random_ones() {
        let keys = adversarial_keys();
        assert!(keys.len() >= 1_000_000, "{}", keys.len());
        // Seeds drawn as a grouper draws its own, a fixed one, and the drawn words that were
        // weak (zero second word, which `seed_words` makes non-zero).
        use core::hash::BuildHasher;
        let seeds = (0..3).map(|_| {
            let random = hashbrown::DefaultHashBuilder::default();
            seed_words(random.hash_one(0x5eed_u64), random.hash_one(0xbeac_u64))
        });
        let fixed = [
            seed_words(0x9e37_79b9_7f4a_7c15, 0xd1b5_4a32_d192_ed03),
            seed_words(0x9e37_79b9_7f4a_7c15, 0),
            seed_words(0, 0),
        ];
        for seed in seeds.chain(fixed) {
            let pair: Vec<u64> = keys.iter().map(|(s, d, p)| pair_hash(seed, s, d, *p)).collect();
            let generic: Vec<u64> = keys
                .iter()
                .map(|(s, d, p)| {
                    let mut k = SeriesKey::pair(s, d).with_host("WS1");
                    k.dst_port = *p;
                    key_hash(seed, &k)
                })
                .collect();
            for (name, hashes) in [("pair", &pair), ("generic", &generic)] {
                let (bucket, same) = max_load(hashes);
                // Random hashes put ~1 key per bucket here, the fullest near 10. A million
                // random 32-bit hashes share one in pairs (~120 pairs), rarely three (~1%):
                // four is a one-in-a-million event.
                assert!(bucket <= 24, "{name} seed {seed:x?}: {bucket} keys in one bucket");
                assert!(same <= 3, "{name} seed {seed:x?}: {same} keys with one 32-bit hash");
            }
        }
    }

    /// Why the second seed word is forced non-zero: drawn as zero, these families collide in
    /// full (hundreds of keys in one bucket, with one kept 32-bit hash).
    #[test]
    fn a_zero_second_seed_word_would_collide_the_families() {
        let keys = adversarial_keys();
        let raw = [0x9e37_79b9_7f4a_7c15, 0];
        let pair: Vec<u64> = keys.iter().map(|(s, d, p)| pair_hash(raw, s, d, *p)).collect();
        let (bucket, same) = max_load(&pair);
        assert!(bucket > 500 && same > 500, "{bucket} {same}");
        assert_ne!(seed_words(raw[0], raw[1])[1], 0);
    }
}
