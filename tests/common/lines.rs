//! The line strategy the reader property tests share: a known line (a header directive, a good
//! record, a damaged one) or noise, each known line as likely as either kind of noise.
#![allow(dead_code)]

use proptest::prelude::*;

/// One of `fixtures`, text matching the regex `noise`, or up to 60 arbitrary bytes; every
/// fixture as likely as each kind of noise.
pub fn fixture_or_noise(fixtures: &'static [&'static [u8]], noise: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let known = u32::try_from(fixtures.len()).unwrap_or(u32::MAX).max(1);
    prop_oneof![
        known => proptest::sample::select(fixtures).prop_map(<[u8]>::to_vec),
        1 => noise.prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..60),
    ]
}

/// `head` (a first line, or nothing) and `lines`, each ended by a newline: one input.
pub fn joined(head: &[u8], lines: &[Vec<u8>]) -> Vec<u8> {
    let mut input = Vec::with_capacity(head.len() + 1 + lines.iter().map(|l| l.len() + 1).sum::<usize>());
    for l in std::iter::once(head)
        .filter(|h| !h.is_empty())
        .chain(lines.iter().map(Vec::as_slice))
    {
        input.extend_from_slice(l);
        input.push(b'\n');
    }
    input
}
