//! Byte-level number and time parsing shared by the readers (no allocation, no panics).

use crate::time::{Interval, Timestamp};

/// Parses an unsigned decimal integer (digits only, at least one, no overflow).
#[inline(always)]
pub(crate) fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b.len() < 20 {
        // Nineteen digits cannot overflow: no checked arithmetic per digit.
        let mut v: u64 = 0;
        for &c in b {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + u64::from(d);
        }
        return Some(v);
    }
    let mut v: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// Parses a port number (`0..=65535`).
#[inline(always)]
pub(crate) fn parse_port(b: &[u8]) -> Option<u16> {
    if b.len() > 5 {
        return None;
    }
    parse_u64(b).and_then(|v| u16::try_from(v).ok())
}

/// [`parse_u64`] of the field `buf[start..end]`: the same value and the same refusals, a field
/// of 1 to 8 bytes read as one word when eight bytes from `start` lie in `buf` (the bytes after
/// the field are masked off), with no loop over its digits.
#[inline(always)]
pub(crate) fn parse_u64_in(buf: &[u8], start: usize, end: usize) -> Option<u64> {
    let len = end.wrapping_sub(start);
    if (1..=8).contains(&len)
        && let Some(w) = buf.get(start..).and_then(|r| r.first_chunk::<8>())
    {
        // The digits moved to the word's top bytes, zeros (`'0'`) below them.
        let shift = 8 * (8 - len) as u32;
        return eight_digits(u64::from_le_bytes(*w) << shift | ZEROS & ((1u64 << shift) - 1));
    }
    parse_u64(buf.get(start..end)?)
}

/// [`parse_port`] of the field `buf[start..end]`, as [`parse_u64_in`] reads it.
#[inline(always)]
pub(crate) fn parse_port_in(buf: &[u8], start: usize, end: usize) -> Option<u16> {
    if end.wrapping_sub(start) > 5 {
        return None;
    }
    parse_u64_in(buf, start, end).and_then(|v| u16::try_from(v).ok())
}

/// Parses a count that may be written as a float (`1234.0`, as some JSON writers do).
pub(crate) fn parse_count(b: &[u8]) -> Option<u64> {
    if let Some(v) = parse_u64(b) {
        return Some(v);
    }
    let s = core::str::from_utf8(b).ok()?;
    let f: f64 = s.parse().ok()?;
    if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < u64::MAX as f64 {
        Some(f as u64)
    } else {
        None
    }
}

/// Eight `'0'` bytes.
const ZEROS: u64 = 0x3030_3030_3030_3030;

/// Eight ASCII digits (the first in the lowest byte, as loaded little-endian) as their value,
/// in three multiplies; `None` unless every byte is a digit (SWAR: one word, no loop).
#[inline(always)]
fn eight_digits(w: u64) -> Option<u64> {
    const TOP: u64 = 0x8080_8080_8080_8080;
    // Each byte less '0': a digit leaves 0..=9, which adding 0x76 keeps below 0x80 (10 and up
    // reach it); any other byte sets its top bit either way, one test for all eight. (A byte
    // below '0' wraps to 0xD0 and up, and its borrow or carry only touches bytes after it
    // in a word refused already.)
    let d = w.wrapping_sub(ZEROS);
    if (d | d.wrapping_add(0x7676_7676_7676_7676)) & TOP != 0 {
        return None;
    }
    let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((d.wrapping_mul(10_000) + (d >> 32)) & 0xFFFF_FFFF)
}

/// A run of 1 to 12 ASCII digits as its value (the first eight as one word).
#[inline(always)]
fn int_digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 12 {
        return None;
    }
    let (mut v, rest) = match b.split_first_chunk::<8>() {
        Some((w, rest)) => (eight_digits(u64::from_le_bytes(*w))? as i64, rest),
        None => (0, b),
    };
    for &c in rest {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    Some(v)
}

/// Parses unsigned decimal seconds with at most 12 integer and 6 fraction digits (Zeek's
/// `1672843057.123456`) straight from bytes; `None` sends the caller to the general path.
#[inline(always)]
fn fast_secs_micros(b: &[u8]) -> Option<i64> {
    // Zeek writes six fraction digits: the fraction is the last word with its first two bytes
    // (the last integer digit and the point) read as zeros.
    let n = b.len();
    if (8..=19).contains(&n)
        && b.get(n - 7) == Some(&b'.')
        && let Some(last) = b.last_chunk::<8>()
        && let Some(frac) = eight_digits((u64::from_le_bytes(*last) & !0xFFFF) | 0x3030)
        && let Some(int) = b.get(..n - 7).and_then(int_digits)
    {
        return Some(int * 1_000_000 + frac as i64);
    }
    let mut int: i64 = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        int = int * 10 + i64::from(d);
        i += 1;
        if i > 12 {
            return None;
        }
    }
    if i == 0 {
        return None;
    }
    if i == b.len() {
        return Some(int * 1_000_000);
    }
    if b[i] != b'.' {
        return None;
    }
    let frac = &b[i + 1..];
    if frac.is_empty() || frac.len() > 6 {
        return None;
    }
    let mut f: i64 = 0;
    for &c in frac {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        f = f * 10 + i64::from(d);
    }
    const POW: [i64; 7] = [1_000_000, 100_000, 10_000, 1_000, 100, 10, 1];
    Some(int * 1_000_000 + f * POW[frac.len()])
}

/// Whether `b` is text a `&str` can hold (ASCII checked first: it is much cheaper).
#[inline]
pub(crate) fn is_text(b: &[u8]) -> bool {
    b.is_ascii() || core::str::from_utf8(b).is_ok()
}

/// [`Proto::parse`](crate::Proto::parse) on bytes, with the common lowercase names matched
/// directly.
#[inline]
pub(crate) fn parse_proto(b: &[u8]) -> crate::event::Proto {
    use crate::event::Proto;
    match b {
        b"tcp" => Proto::Tcp,
        b"udp" => Proto::Udp,
        b"icmp" => Proto::Icmp,
        _ => core::str::from_utf8(b).map_or(Proto::Other, Proto::parse),
    }
}

/// Parses decimal epoch seconds exactly, then falls back to a float with an exponent
/// (`1.6e9`) and finally to RFC 3339.
#[inline(always)]
pub(crate) fn parse_ts_secs(b: &[u8]) -> Option<Timestamp> {
    match fast_secs_micros(b) {
        Some(us) => Some(Timestamp::from_micros(us)),
        None => parse_ts_general(b),
    }
}

/// [`parse_ts_secs`] past its fast path (out of line: rare in Zeek logs).
#[inline(never)]
fn parse_ts_general(b: &[u8]) -> Option<Timestamp> {
    let s = core::str::from_utf8(b).ok()?;
    if let Some(t) = Timestamp::parse_epoch_secs(s) {
        return Some(t);
    }
    if s.bytes().any(|c| c == b'e' || c == b'E')
        && let Ok(f) = s.parse::<f64>()
    {
        return Timestamp::from_secs_f64(f);
    }
    Timestamp::parse_rfc3339(s)
}

/// Parses a non-negative duration in decimal seconds.
#[inline(always)]
pub(crate) fn parse_duration(b: &[u8]) -> Option<Interval> {
    match fast_secs_micros(b) {
        Some(us) => Some(Interval::from_micros(us)),
        None => parse_duration_general(b),
    }
}

/// [`parse_duration`] past its fast path (out of line).
#[inline(never)]
fn parse_duration_general(b: &[u8]) -> Option<Interval> {
    let s = core::str::from_utf8(b).ok()?;
    let t = Timestamp::parse_epoch_secs(s).or_else(|| s.parse::<f64>().ok().and_then(Timestamp::from_secs_f64))?;
    (t.as_micros() >= 0).then_some(Interval::from_micros(t.as_micros()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b"9999999999999999999"), Some(9_999_999_999_999_999_999));
        assert_eq!(parse_u64(b"99999999999999999999"), None);
        assert_eq!(parse_u64(b"00000000000000000001"), Some(1));
        assert_eq!(parse_u64(b"12a"), None);
        assert_eq!(parse_port(b"65535"), Some(65535));
        assert_eq!(parse_port(b"65536"), None);
        assert_eq!(parse_port(b"000443"), None);
        assert_eq!(parse_count(b"12.0"), Some(12));
        assert_eq!(parse_count(b"12.5"), None);
        assert_eq!(parse_ts_secs(b"1.6e9"), Some(Timestamp::from_secs(1_600_000_000)));
        assert_eq!(parse_ts_secs(b"1970-01-01T00:00:01Z"), Some(Timestamp::from_secs(1)));
        assert_eq!(parse_duration(b"0.5"), Some(Interval::from_micros(500_000)));
        assert_eq!(parse_duration(b"-0.5"), None);
        // The fast path agrees with the general parser.
        for t in [
            "0",
            "1.",
            ".5",
            "1.5",
            "12.123456",
            "12.1234567",
            "123456789012.1",
            "1234567890123.5",
            "1704067200.412668",
            "0.171134",
            "123456789012.123456",
            "1234567890123.123456",
            "17040672a0.412668",
            "1704067200.41266a",
            "1704067200,412668",
            "1704067200.4126689",
            "0000000000.000000",
            "9999999999.999999",
            ":704067200.412668",
            "1704067200.412/68",
            "1a",
            "",
            "-",
        ] {
            assert_eq!(
                parse_ts_secs(t.as_bytes()),
                Timestamp::parse_epoch_secs(t).or_else(|| Timestamp::parse_rfc3339(t)),
                "{t}"
            );
        }
        // Every byte value at every place of an eight-digit word (one test refuses non-digits,
        // also those below '0', whose subtraction borrows from the next byte).
        for at in 0..8 {
            for b in 0..=255u8 {
                let mut w = *b"12345678";
                w[at] = b;
                let want = core::str::from_utf8(&w)
                    .ok()
                    .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))
                    .and_then(|s| s.parse::<u64>().ok());
                assert_eq!(eight_digits(u64::from_le_bytes(w)), want, "{w:?}");
            }
        }
        // Two edge bytes at any two places (a borrow or carry from one into the other).
        let edges = [0x00, 0x2F, 0x30, 0x39, 0x3A, 0x7F, 0x80, 0x89, 0x8A, 0xB0, 0xC9, 0xFF];
        for (i, j) in (0..8).flat_map(|i| (0..8).map(move |j| (i, j))) {
            for (&a, &b) in edges.iter().flat_map(|a| edges.iter().map(move |b| (a, b))) {
                let mut w = *b"98765432";
                (w[i], w[j]) = (a, b);
                let want = w
                    .iter()
                    .all(u8::is_ascii_digit)
                    .then(|| w.iter().fold(0u64, |v, &c| v * 10 + u64::from(c - b'0')));
                assert_eq!(eight_digits(u64::from_le_bytes(w)), want, "{w:?}");
            }
        }
        assert_eq!(parse_proto(b"tcp"), crate::Proto::Tcp);
        assert_eq!(parse_proto(b"ICMP"), crate::Proto::Icmp);
        assert!(is_text("é".as_bytes()) && !is_text(b"\xff"));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// The integer parser agrees with the standard library's on digit strings of every length
    /// up to 20 (around the 19/20-digit edge where overflow becomes possible), and refuses
    /// other bytes. (Longer strings are refused even when their value fits: `parse_u64`
    /// bounds the work per field.)
    #[test]
    fn integers_agree_with_std() {
        assert_eq!(parse_u64(b"000000000000000000001"), None);
        let strategy = "[0-9]{1,20}|[0-9]{0,5}[^0-9][0-9]{0,5}";
        crate::tests::exercised::check_exercised("integer parser", 512, 100, strategy, |s: String| {
            let std = if s.bytes().all(|c| c.is_ascii_digit()) {
                s.parse::<u64>().ok()
            } else {
                None
            };
            prop_assert_eq!(parse_u64(s.as_bytes()), std, "{}", s);
            Ok(std.is_some())
        });
    }

    /// A field parsed in place (read as a word with the bytes after it, or by the loop at the
    /// buffer's end) is parsed as the field alone is, by `parse_u64` and `parse_port`.
    #[test]
    fn fields_in_place_agree_with_the_field_alone() {
        let byte = prop_oneof![4 => proptest::char::range('0', '9').prop_map(|c| c as u8), 1 => any::<u8>()];
        let strategy = (proptest::collection::vec(byte, 8..40), 0usize..32, 0usize..12);
        crate::tests::exercised::check_exercised("numbers in place", 1024, 100, strategy, |(buf, start, len)| {
            let (start, end) = (start.min(buf.len()), (start + len).min(buf.len()));
            let field = &buf[start..end];
            prop_assert_eq!(parse_u64_in(&buf, start, end), parse_u64(field), "{:?}", field);
            prop_assert_eq!(parse_port_in(&buf, start, end), parse_port(field), "{:?}", field);
            // Exercised: a short number read as a word.
            Ok(parse_u64(field).is_some() && (1..=8).contains(&field.len()) && buf.len() >= start + 8)
        });
    }

    /// The fast path agrees with the general parser wherever it answers, and answers often
    /// enough for that to mean something (most generated Zeek-style timestamps take it).
    #[test]
    fn fast_path_agrees_with_general_parser() {
        let strategy = "[0-9.]{0,20}|[0-9]{1,13}\\.[0-9]{0,7}|[0-9/:.a ]{0,12}";
        crate::tests::exercised::check_exercised("fast seconds path", 512, 100, strategy, |s: String| {
            let fast = fast_secs_micros(s.as_bytes());
            if let Some(us) = fast {
                prop_assert_eq!(
                    Some(Timestamp::from_micros(us)),
                    Timestamp::parse_epoch_secs(&s),
                    "{}",
                    s
                );
            }
            prop_assert_eq!(
                parse_ts_secs(s.as_bytes()),
                Timestamp::parse_epoch_secs(&s).or_else(|| Timestamp::parse_rfc3339(&s)),
                "{}",
                s
            );
            Ok(fast.is_some())
        });
    }
}
