//! Time in microseconds: [`Timestamp`] (an instant) and [`Interval`] (a signed length).
//!
//! Zeek writes `ts` as float seconds with six decimals; [`Timestamp::parse_epoch_secs`] parses
//! the decimal text straight to integer microseconds, so no value is rounded through `f64`.

use core::fmt;

/// Microseconds in one second.
pub const MICROS_PER_SEC: i64 = 1_000_000;

/// An instant: integer microseconds since the Unix epoch (UTC).
///
/// Any `i64` is a valid timestamp; arithmetic on it is checked or saturating, never wrapping.
///
/// # Example
/// ```
/// use beaconstat::Timestamp;
/// let t = Timestamp::parse_epoch_secs("1672843057.123456").unwrap();
/// assert_eq!(t.as_micros(), 1_672_843_057_123_456);
/// assert_eq!(t.as_secs_f64(), 1_672_843_057.123456);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Timestamp(pub i64);

/// A signed length of time in integer microseconds (a connection's duration, a gap).
///
/// # Example
/// ```
/// use beaconstat::{Interval, Timestamp};
/// let gap = Timestamp::from_secs(90) - Timestamp::from_secs(30);
/// assert_eq!(gap, Interval::from_secs(60));
/// assert_eq!(gap.as_secs_f64(), 60.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Interval(pub i64);

impl Timestamp {
    /// The earliest representable instant.
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    /// The latest representable instant.
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    /// From microseconds since the epoch.
    pub const fn from_micros(us: i64) -> Self {
        Timestamp(us)
    }

    /// From whole seconds since the epoch (saturating at the representable range).
    pub const fn from_secs(s: i64) -> Self {
        Timestamp(s.saturating_mul(MICROS_PER_SEC))
    }

    /// From float seconds, rounded to the nearest microsecond; `None` for NaN or out of range.
    ///
    /// Prefer [`Timestamp::parse_epoch_secs`] on text: it is exact.
    pub fn from_secs_f64(s: f64) -> Option<Self> {
        let us = (s * 1e6).round();
        // i64::MAX as f64 rounds up to 2^63, so the upper bound is exclusive.
        if us.is_finite() && us >= i64::MIN as f64 && us < i64::MAX as f64 {
            Some(Timestamp(us as i64))
        } else {
            None
        }
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Seconds since the epoch as `f64` (exact to the microsecond for current dates).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// `self - earlier`, or `None` on overflow (only at the extremes of `i64`).
    pub fn checked_sub(self, earlier: Timestamp) -> Option<Interval> {
        self.0.checked_sub(earlier.0).map(Interval)
    }

    /// `self + d`, or `None` on overflow.
    pub fn checked_add(self, d: Interval) -> Option<Timestamp> {
        self.0.checked_add(d.0).map(Timestamp)
    }

    /// Parses decimal epoch seconds as Zeek writes them (`1672843057.123456`), exactly.
    ///
    /// Accepts an optional sign, up to 19 integer digits and any number of fraction digits
    /// (digits past the sixth are truncated toward zero). Returns `None` for anything else,
    /// including an empty string, Zeek's unset marker `-`, exponents, and out-of-range values.
    ///
    /// # Example
    /// ```
    /// use beaconstat::Timestamp;
    /// assert_eq!(Timestamp::parse_epoch_secs("1.5"), Some(Timestamp::from_micros(1_500_000)));
    /// assert_eq!(Timestamp::parse_epoch_secs("-0.000001"), Some(Timestamp::from_micros(-1)));
    /// assert_eq!(Timestamp::parse_epoch_secs("-"), None);
    /// ```
    pub fn parse_epoch_secs(s: &str) -> Option<Timestamp> {
        parse_decimal_micros(s.as_bytes(), 6).map(Timestamp)
    }

    /// Parses decimal epoch milliseconds (`1672843057123` or `1672843057123.5`), exactly.
    pub fn parse_epoch_millis(s: &str) -> Option<Timestamp> {
        parse_decimal_micros(s.as_bytes(), 3).map(Timestamp)
    }

    /// Parses decimal epoch microseconds (fraction digits, if any, are truncated).
    pub fn parse_epoch_micros(s: &str) -> Option<Timestamp> {
        parse_decimal_micros(s.as_bytes(), 0).map(Timestamp)
    }

    /// Parses an RFC 3339 / ISO 8601 date-time: `2023-01-04T14:37:37.5Z`,
    /// `2023-01-04 14:37:37.123456+02:00`, `2023-01-04T14:37:37` (no zone = UTC).
    /// Fraction digits past the sixth are truncated. Returns `None` for anything else.
    ///
    /// # Example
    /// ```
    /// use beaconstat::Timestamp;
    /// let t = Timestamp::parse_rfc3339("2023-01-04T14:37:37.5Z").unwrap();
    /// assert_eq!(t, Timestamp::parse_epoch_secs("1672843057.5").unwrap());
    /// let z = Timestamp::parse_rfc3339("2023-01-04T16:37:37.5+02:00").unwrap();
    /// assert_eq!(t, z);
    /// ```
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let b = s.trim().as_bytes();
        let num = |r: core::ops::Range<usize>| -> Option<i64> {
            let d = b.get(r)?;
            let mut v = 0i64;
            for &c in d {
                let x = c.wrapping_sub(b'0');
                if x > 9 {
                    return None;
                }
                v = v * 10 + i64::from(x);
            }
            Some(v)
        };
        if b.len() < 19
            || b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't' | b' ')
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
            return None;
        }
        let mut i = 19;
        let mut micros = 0i64;
        if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
            i += 1;
            let start = i;
            let mut kept = 0;
            while let Some(&c) = b.get(i) {
                if !c.is_ascii_digit() {
                    break;
                }
                if kept < 6 {
                    micros = micros * 10 + i64::from(c - b'0');
                    kept += 1;
                }
                i += 1;
            }
            if i == start {
                return None;
            }
            for _ in kept..6 {
                micros *= 10;
            }
        }
        let offset_s = match b.get(i) {
            None => 0,
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(&sign @ (b'+' | b'-')) => {
                let (oh, om) = match b.len() - i {
                    6 if b[i + 3] == b':' => (num(i + 1..i + 3)?, num(i + 4..i + 6)?),
                    5 => (num(i + 1..i + 3)?, num(i + 3..i + 5)?),
                    3 => (num(i + 1..i + 3)?, 0),
                    _ => return None,
                };
                let o = oh * 3600 + om * 60;
                if sign == b'+' { o } else { -o }
            }
            _ => return None,
        };
        let days = days_from_civil(y, mo as u32, d as u32);
        let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_s;
        secs.checked_mul(MICROS_PER_SEC)?.checked_add(micros).map(Timestamp)
    }
}

/// Parses `[-+]?digits[.digits]` into an integer scaled by `10^scale`, truncating extra
/// fraction digits. `scale` is the number of fraction digits kept (6 for seconds → µs).
fn parse_decimal_micros(b: &[u8], scale: u32) -> Option<i64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let (int_part, frac_part) = match digits.iter().position(|&c| c == b'.') {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &digits[digits.len()..]),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    // Accumulate as a negative number so i64::MIN is reachable.
    let mut acc: i64 = 0;
    for &c in int_part {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        acc = acc.checked_mul(10)?.checked_sub(i64::from(d))?;
    }
    let mut kept = 0;
    for &c in frac_part {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        if kept < scale {
            acc = acc.checked_mul(10)?.checked_sub(i64::from(d))?;
            kept += 1;
        }
    }
    while kept < scale {
        acc = acc.checked_mul(10)?;
        kept += 1;
    }
    if neg { Some(acc) } else { acc.checked_neg() }
}

impl Interval {
    /// Zero length.
    pub const ZERO: Interval = Interval(0);

    /// From microseconds.
    pub const fn from_micros(us: i64) -> Self {
        Interval(us)
    }

    /// From whole seconds (saturating).
    pub const fn from_secs(s: i64) -> Self {
        Interval(s.saturating_mul(MICROS_PER_SEC))
    }

    /// From float seconds, rounded to the microsecond; `None` for NaN or out of range.
    pub fn from_secs_f64(s: f64) -> Option<Self> {
        Timestamp::from_secs_f64(s).map(|t| Interval(t.0))
    }

    /// An estimate in float seconds (a fitted period, a mean) to the nearest microsecond;
    /// zero for NaN, saturating out of range.
    pub(crate) fn from_estimate(s: f64) -> Self {
        if s.is_nan() {
            Interval::ZERO
        } else {
            Interval::from_secs_f64(s).unwrap_or(if s < 0.0 {
                Interval(i64::MIN)
            } else {
                Interval(i64::MAX)
            })
        }
    }

    /// From unsigned microseconds (saturating), as the engine measures gaps.
    pub(crate) fn from_micros_u64(us: u64) -> Self {
        Interval(i64::try_from(us).unwrap_or(i64::MAX))
    }

    /// Microseconds.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Seconds as `f64`.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
}

/// Serde helpers that write an [`Interval`] as float seconds (`"period_s": 60.5`), the way
/// reports have always carried durations in JSON and CSV; read back rounded to the microsecond.
/// Used as `#[serde(with = "crate::time::secs")]` (and `secs::option` for `Option<Interval>`).
#[cfg(feature = "serde")]
pub(crate) mod secs {
    use super::Interval;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Interval, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Interval, D::Error> {
        from_secs(f64::deserialize(d)?)
    }

    /// Seconds to an interval, or the error a deserialiser reports for NaN or out of range.
    fn from_secs<E: serde::de::Error>(s: f64) -> Result<Interval, E> {
        Interval::from_secs_f64(s).ok_or_else(|| E::custom(format_args!("{s} is not a length of time in seconds")))
    }

    /// The same for `Option<Interval>` (`null` for `None`; pair it with `#[serde(default)]`
    /// so a missing field reads as `None`).
    pub(crate) mod option {
        use super::Interval;
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        pub(crate) fn serialize<S: Serializer>(d: &Option<Interval>, s: S) -> Result<S::Ok, S::Error> {
            d.map(Interval::as_secs_f64).serialize(s)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Interval>, D::Error> {
            Option::<f64>::deserialize(d)?.map(super::from_secs).transpose()
        }
    }
}

impl core::ops::Sub for Timestamp {
    type Output = Interval;
    /// Saturating difference (exact except at the extremes of `i64`).
    fn sub(self, rhs: Timestamp) -> Interval {
        Interval(self.0.saturating_sub(rhs.0))
    }
}

impl fmt::Display for Timestamp {
    /// Formats as RFC 3339 UTC with microseconds, e.g. `2023-01-04T14:37:37.123456Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(MICROS_PER_SEC);
        let micros = self.0.rem_euclid(MICROS_PER_SEC);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        )
    }
}

impl fmt::Display for Interval {
    /// Formats as seconds with up to six decimals, e.g. `60s`, `0.5s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0 / MICROS_PER_SEC;
        let us = (self.0 % MICROS_PER_SEC).unsigned_abs();
        if us == 0 {
            write!(f, "{s}s")
        } else {
            let sign = if self.0 < 0 && s == 0 { "-" } else { "" };
            let frac = format!("{us:06}");
            write!(f, "{sign}{s}.{}s", frac.trim_end_matches('0'))
        }
    }
}

/// Days since 1970-01-01 to a (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm; exact for the whole `i64` second range divided into days).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01; inverse of [`civil_from_days`].
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zeek_ts_exactly() {
        assert_eq!(
            Timestamp::parse_epoch_secs("1672843057.982377").map(Timestamp::as_micros),
            Some(1_672_843_057_982_377)
        );
        assert_eq!(Timestamp::parse_epoch_secs("12"), Some(Timestamp(12_000_000)));
        assert_eq!(Timestamp::parse_epoch_secs(".5"), Some(Timestamp(500_000)));
        assert_eq!(Timestamp::parse_epoch_secs("1.1234567"), Some(Timestamp(1_123_456)));
        assert_eq!(Timestamp::parse_epoch_secs("-1.5"), Some(Timestamp(-1_500_000)));
        for bad in ["", "-", ".", "1e9", "1.2.3", "abc", "99999999999999999999"] {
            assert_eq!(Timestamp::parse_epoch_secs(bad), None, "{bad}");
        }
        assert_eq!(Timestamp::parse_epoch_millis("1500"), Some(Timestamp(1_500_000)));
        assert_eq!(
            Timestamp::parse_epoch_micros("-9223372036854775808"),
            Some(Timestamp::MIN)
        );
    }

    #[test]
    fn displays_rfc3339() {
        let t = Timestamp::parse_epoch_secs("1672843057.5").unwrap();
        assert_eq!(t.to_string(), "2023-01-04T14:37:37.500000Z");
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999999Z");
        assert_eq!(Interval::from_micros(1_500_000).to_string(), "1.5s");
        assert_eq!(Interval::from_secs(60).to_string(), "60s");
        assert_eq!(Interval::from_micros(-500_000).to_string(), "-0.5s");
    }

    #[test]
    fn parses_rfc3339_variants() {
        let base = Timestamp::parse_epoch_secs("1672843057").unwrap();
        assert_eq!(Timestamp::parse_rfc3339("2023-01-04T14:37:37Z"), Some(base));
        assert_eq!(Timestamp::parse_rfc3339("2023-01-04 14:37:37"), Some(base));
        assert_eq!(
            Timestamp::parse_rfc3339("2023-01-04T14:37:37.1234567Z"),
            Some(Timestamp(base.0 + 123_456))
        );
        assert_eq!(Timestamp::parse_rfc3339("2023-01-04T09:37:37-0500"), Some(base));
        for bad in [
            "",
            "2023-01-04",
            "2023-13-04T00:00:00Z",
            "2023-01-04T14:37:37.Z",
            "2023-01-04T14:37:37Zjunk",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-719_468, -1, 0, 1, 19_361, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        // Extremes of the timestamp range must not overflow.
        let _ = Timestamp::MIN.to_string();
        let _ = Timestamp::MAX.to_string();
    }
}
