//! Connection events and series straight from Arrow record batches.
//!
//! [`ArrowColumns`] says which column holds each event field (by name, with the CSV reader's
//! aliases tried by default); [`BatchEvents`] resolves it against one batch into typed column
//! views, once per batch, and hands out borrowed [`ConnEvent`]s row by row. Nothing is copied
//! per row: strings borrow the batch's buffers, numbers are read from its value slices.

use crate::error::{Error, Position, Result};
use crate::event::{ConnEvent, Proto};
use crate::input::columns::{
    ALIASES, BYTES_IN, BYTES_OUT, COL_NAMES as FIELD_NAMES, DST, DST_PORT, DURATION, HOST, N_COLS as N_FIELDS, NAME,
    PROTO, SRC, SRC_PORT, TS, UID,
};
use crate::input::{ReadStats, SkipReason, Skipped};
use crate::series::{GroupBy, Grouper, KeyId, SeriesKey};
use crate::time::{Interval, Timestamp};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType, Float32Type,
    Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType, LargeStringArray, RecordBatch, StringArray, StringViewArray};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, TimeUnit};
use hashbrown::HashMap;

/// The unit of a plain integer timestamp column (`Int64`); `Timestamp(unit)` columns carry
/// their own and `Float64` columns are seconds.
///
/// # Example
/// ```
/// use beaconstat::arrow::IntTimeUnit;
/// assert_eq!(IntTimeUnit::Auto.to_micros(1_700_000_000), Some(1_700_000_000_000_000));
/// assert_eq!(IntTimeUnit::Auto.to_micros(1_700_000_000_123), Some(1_700_000_000_123_000));
/// assert_eq!(IntTimeUnit::Nanos.to_micros(1_500), Some(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum IntTimeUnit {
    /// Seconds since the epoch.
    Secs,
    /// Milliseconds since the epoch.
    Millis,
    /// Microseconds since the epoch.
    Micros,
    /// Nanoseconds since the epoch.
    Nanos,
    /// By magnitude, value by value: below 10¹¹ seconds, below 10¹⁴ milliseconds, below 10¹⁷
    /// microseconds, else nanoseconds (the same digit-count rule as the CSV reader's).
    #[default]
    Auto,
}

impl IntTimeUnit {
    /// `v` in this unit as µs since the epoch; `None` on overflow.
    pub fn to_micros(self, v: i64) -> Option<i64> {
        let unit = match self {
            IntTimeUnit::Auto => match v.unsigned_abs() {
                0..100_000_000_000 => IntTimeUnit::Secs,
                100_000_000_000..100_000_000_000_000 => IntTimeUnit::Millis,
                100_000_000_000_000..100_000_000_000_000_000 => IntTimeUnit::Micros,
                _ => IntTimeUnit::Nanos,
            },
            u => u,
        };
        match unit {
            IntTimeUnit::Secs => v.checked_mul(1_000_000),
            IntTimeUnit::Millis => v.checked_mul(1_000),
            IntTimeUnit::Nanos => Some(v.div_euclid(1_000)),
            IntTimeUnit::Micros | IntTimeUnit::Auto => Some(v),
        }
    }
}

/// Which column of a record batch holds each event field: like the CSV reader's mapping,
/// columns are found by name (ASCII case-insensitive), trying common aliases (`ts`,
/// `timestamp`, `id.orig_h`, `src_ip`, `orig_bytes`, …) unless set explicitly.
///
/// Required: a timestamp (`Timestamp` of any unit, `Int64` in [`IntTimeUnit`], or `Float64`
/// seconds), a source and a destination (`Utf8`, `LargeUtf8`, `Utf8View`, or a `Dictionary` of
/// one of them). Optional: ports and byte counts (any integer type), protocol, uid, name and
/// host (strings), duration (`Float64`/`Float32` seconds or `Duration`).
///
/// # Example
/// ```
/// use beaconstat::arrow::{ArrowColumns, IntTimeUnit};
/// let mut cols = ArrowColumns::new();
/// cols.ts("event_time").ts_unit(IntTimeUnit::Millis).src("client");
/// assert_eq!(cols.column_name("src"), Some("client"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArrowColumns {
    names: [Option<String>; N_FIELDS],
    ts_unit: IntTimeUnit,
}

macro_rules! column_setters {
    ($($name:ident, $slot:expr, $doc:literal;)*) => {$(
        #[doc = concat!("The ", $doc, " column, by name.")]
        pub fn $name(&mut self, column: &str) -> &mut Self {
            self.names[$slot] = Some(column.to_owned());
            self
        }
    )*};
}

impl ArrowColumns {
    /// Every column found by its common names.
    pub fn new() -> Self {
        ArrowColumns::default()
    }

    column_setters! {
        ts, TS, "timestamp";
        src, SRC, "source address";
        dst, DST, "destination address";
        src_port, SRC_PORT, "source port";
        dst_port, DST_PORT, "destination port";
        proto, PROTO, "protocol";
        bytes_out, BYTES_OUT, "bytes sent by the source";
        bytes_in, BYTES_IN, "bytes received by the source";
        duration, DURATION, "duration";
        uid, UID, "connection id";
        name, NAME, "server name (domain, SNI)";
        host, HOST, "originating host name";
    }

    /// The unit of an `Int64` timestamp column (default [`IntTimeUnit::Auto`]).
    pub fn ts_unit(&mut self, unit: IntTimeUnit) -> &mut Self {
        self.ts_unit = unit;
        self
    }

    /// The column explicitly set for `field` (`"ts"`, `"src"`, `"dst"`, `"dst_port"`, …).
    pub fn column_name(&self, field: &str) -> Option<&str> {
        let slot = FIELD_NAMES.iter().position(|f| *f == field)?;
        self.names[slot].as_deref()
    }

    /// The column of each field in `schema` that has one: `("ts", "timestamp")`, `("src",
    /// "id.orig_h")`, … (to write SQL against a table whose names vary).
    ///
    /// # Errors
    /// As [`BatchEvents::new`]: a required column is missing, or a named one is absent.
    ///
    /// # Example
    /// ```
    /// use arrow_schema::{DataType, Field, Schema};
    /// use beaconstat::arrow::ArrowColumns;
    /// let schema = Schema::new(vec![
    ///     Field::new("id.orig_h", DataType::Utf8, true),
    ///     Field::new("id.resp_h", DataType::Utf8, true),
    ///     Field::new("ts", DataType::Float64, true),
    /// ]);
    /// let found = ArrowColumns::new().find(&schema)?;
    /// assert_eq!(found, [("ts", "ts"), ("src", "id.orig_h"), ("dst", "id.resp_h")]);
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn find<'s>(&self, schema: &'s arrow_schema::Schema) -> Result<Vec<(&'static str, &'s str)>> {
        let idx = self.resolve(schema.fields().iter().map(|f| f.name().as_str()))?;
        Ok(idx
            .iter()
            .zip(FIELD_NAMES)
            .filter_map(|(i, field)| Some((field, schema.fields().get((*i)?)?.name().as_str())))
            .collect())
    }

    /// The column indices of each field in a schema with these column names (`None` where an
    /// optional field has no column).
    ///
    /// # Errors
    /// A [`Config`](crate::ErrorKind::Config) error when an explicitly named column is absent
    /// or ts/src/dst cannot be found.
    pub(crate) fn resolve<'n>(&self, names: impl Iterator<Item = &'n str> + Clone) -> Result<FieldIndex> {
        let mut idx = [None; N_FIELDS];
        for (slot, found) in idx.iter_mut().enumerate() {
            let find = |want: &str| names.clone().position(|n| n.eq_ignore_ascii_case(want));
            *found = match &self.names[slot] {
                Some(name) => Some(find(name).ok_or_else(|| {
                    Error::config(
                        "column",
                        format!("{} column {name:?} is not in the batch", FIELD_NAMES[slot]),
                    )
                })?),
                None => ALIASES[slot].iter().find_map(|a| find(a)),
            };
        }
        for slot in [TS, SRC, DST] {
            if idx[slot].is_none() {
                return Err(Error::config(
                    "column",
                    format!(
                        "no {} column (tried {}); name it with ArrowColumns::{}",
                        FIELD_NAMES[slot],
                        ALIASES[slot].join(", "),
                        FIELD_NAMES[slot]
                    ),
                ));
            }
        }
        Ok(idx)
    }

    /// The columns a reader must load for this mapping (for a Parquet projection).
    pub(crate) fn wanted<'n>(&self, names: impl Iterator<Item = &'n str> + Clone) -> Result<Vec<usize>> {
        let mut v: Vec<usize> = self.resolve(names)?.into_iter().flatten().collect();
        v.sort_unstable();
        v.dedup();
        Ok(v)
    }
}

/// Each field's column index in a schema (`None` where an optional field has no column).
pub(crate) type FieldIndex = [Option<usize>; N_FIELDS];

/// A string column in one of Arrow's plain string layouts.
#[derive(Debug, Clone, Copy)]
enum Plain<'b> {
    Utf8(&'b StringArray),
    Large(&'b LargeStringArray),
    View(&'b StringViewArray),
}

impl<'b> Plain<'b> {
    fn new(a: &'b dyn Array) -> Option<Plain<'b>> {
        Some(match a.data_type() {
            DataType::Utf8 => Plain::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => Plain::Large(a.as_string::<i64>()),
            DataType::Utf8View => Plain::View(a.as_string_view()),
            _ => return None,
        })
    }

    #[inline]
    fn get(self, i: usize) -> Option<&'b str> {
        fn at<'b, A: Array>(a: &'b A, i: usize, value: impl FnOnce(&'b A) -> &'b str) -> Option<&'b str> {
            (i < a.len() && a.is_valid(i)).then(|| value(a))
        }
        match self {
            Plain::Utf8(a) => at(a, i, |a| a.value(i)),
            Plain::Large(a) => at(a, i, |a| a.value(i)),
            Plain::View(a) => at(a, i, |a| a.value(i)),
        }
    }

    fn len(self) -> usize {
        match self {
            Plain::Utf8(a) => a.len(),
            Plain::Large(a) => a.len(),
            Plain::View(a) => a.len(),
        }
    }
}

/// A string column: plain, or dictionary-encoded (integer keys into plain string values).
#[derive(Debug, Clone, Copy)]
enum Text<'b> {
    Plain(Plain<'b>),
    Dict(Numbers<'b>, Plain<'b>),
}

impl<'b> Text<'b> {
    fn new(a: &'b dyn Array) -> Option<Text<'b>> {
        if let Some(p) = Plain::new(a) {
            return Some(Text::Plain(p));
        }
        let d = a.as_any_dictionary_opt()?;
        Some(Text::Dict(Numbers::new(d.keys())?, Plain::new(d.values().as_ref())?))
    }

    /// Row `i`'s dictionary index (`None` for a null key or a plain column).
    #[inline]
    fn key(&self, i: usize) -> Option<usize> {
        match self {
            Text::Dict(keys, _) => match keys.get(i)? {
                Value::Int(k) => usize::try_from(k).ok(),
                Value::Float(_) => None,
            },
            Text::Plain(_) => None,
        }
    }

    /// Row `i`'s text; `None` for a null (or an out-of-range row).
    #[inline]
    fn get(&self, i: usize) -> Option<&'b str> {
        match self {
            Text::Plain(p) => p.get(i),
            Text::Dict(_, values) => values.get(self.key(i)?),
        }
    }
}

/// A timestamp column, read as µs since the epoch.
#[derive(Debug)]
pub(crate) enum Time<'b> {
    /// Integers in a unit (a `Timestamp` column's own, or the configured one for `Int64`).
    Int(&'b [i64], Option<&'b NullBuffer>, IntTimeUnit),
    /// `Float64` seconds.
    Secs(&'b [f64], Option<&'b NullBuffer>),
}

impl<'b> Time<'b> {
    pub(crate) fn new(a: &'b dyn Array, int_unit: IntTimeUnit) -> Option<Time<'b>> {
        // Every timestamp layout is an i64 buffer plus validity: read it in place.
        fn ints<'b, T: ArrowPrimitiveType<Native = i64>>(a: &'b dyn Array, unit: IntTimeUnit) -> Time<'b> {
            let p = a.as_primitive::<T>();
            Time::Int(p.values(), p.nulls(), unit)
        }
        Some(match a.data_type() {
            DataType::Timestamp(TimeUnit::Second, _) => ints::<TimestampSecondType>(a, IntTimeUnit::Secs),
            DataType::Timestamp(TimeUnit::Millisecond, _) => ints::<TimestampMillisecondType>(a, IntTimeUnit::Millis),
            DataType::Timestamp(TimeUnit::Microsecond, _) => ints::<TimestampMicrosecondType>(a, IntTimeUnit::Micros),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => ints::<TimestampNanosecondType>(a, IntTimeUnit::Nanos),
            DataType::Int64 => ints::<Int64Type>(a, int_unit),
            DataType::Float64 => {
                let p = a.as_primitive::<Float64Type>();
                Time::Secs(p.values(), p.nulls())
            }
            _ => return None,
        })
    }

    /// Row `i`'s time: `None` for a null, `Some(None)` for a value out of range.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<Option<Timestamp>> {
        match *self {
            Time::Int(v, nulls, unit) => {
                valid(nulls, i).then(|| v.get(i).and_then(|&x| unit.to_micros(x)).map(Timestamp::from_micros))
            }
            Time::Secs(v, nulls) => valid(nulls, i).then(|| v.get(i).and_then(|&x| Timestamp::from_secs_f64(x))),
        }
    }
}

#[inline]
fn valid(nulls: Option<&NullBuffer>, i: usize) -> bool {
    nulls.is_none_or(|n| i < n.len() && n.is_valid(i))
}

/// A numeric column of any integer or float type.
#[derive(Debug, Clone, Copy)]
enum Num<'b> {
    I8(&'b [i8]),
    I16(&'b [i16]),
    I32(&'b [i32]),
    I64(&'b [i64]),
    U8(&'b [u8]),
    U16(&'b [u16]),
    U32(&'b [u32]),
    U64(&'b [u64]),
    F32(&'b [f32]),
    F64(&'b [f64]),
}

/// A numeric column and its validity.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Numbers<'b>(Num<'b>, Option<&'b NullBuffer>);

/// A number read from a column: an integer, or a float where the column holds floats.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Int(i128),
    Float(f64),
}

impl<'b> Numbers<'b> {
    pub(crate) fn new(a: &'b dyn Array) -> Option<Numbers<'b>> {
        macro_rules! prim {
            ($t:ty, $v:ident) => {{
                let p = a.as_primitive::<$t>();
                Numbers(Num::$v(p.values()), p.nulls())
            }};
        }
        Some(match a.data_type() {
            DataType::Int8 => prim!(Int8Type, I8),
            DataType::Int16 => prim!(Int16Type, I16),
            DataType::Int32 => prim!(Int32Type, I32),
            DataType::Int64 => prim!(Int64Type, I64),
            DataType::UInt8 => prim!(UInt8Type, U8),
            DataType::UInt16 => prim!(UInt16Type, U16),
            DataType::UInt32 => prim!(UInt32Type, U32),
            DataType::UInt64 => prim!(UInt64Type, U64),
            DataType::Float32 => prim!(Float32Type, F32),
            DataType::Float64 => prim!(Float64Type, F64),
            _ => return None,
        })
    }

    /// Row `i`'s value; `None` for a null.
    #[inline]
    fn get(&self, i: usize) -> Option<Value> {
        if !valid(self.1, i) {
            return None;
        }
        let int = |x: Option<i128>| x.map(Value::Int);
        match self.0 {
            Num::I8(v) => int(v.get(i).map(|&x| x.into())),
            Num::I16(v) => int(v.get(i).map(|&x| x.into())),
            Num::I32(v) => int(v.get(i).map(|&x| x.into())),
            Num::I64(v) => int(v.get(i).map(|&x| x.into())),
            Num::U8(v) => int(v.get(i).map(|&x| x.into())),
            Num::U16(v) => int(v.get(i).map(|&x| x.into())),
            Num::U32(v) => int(v.get(i).map(|&x| x.into())),
            Num::U64(v) => int(v.get(i).map(|&x| x.into())),
            Num::F32(v) => v.get(i).map(|&x| Value::Float(x.into())),
            Num::F64(v) => v.get(i).map(|&x| Value::Float(x)),
        }
    }

    /// A non-negative whole count; `Some(Err(()))` for a negative, fractional or huge one.
    #[inline]
    pub(crate) fn count(&self, i: usize) -> Option<Result<u64, ()>> {
        Some(match self.get(i)? {
            Value::Int(x) => u64::try_from(x).map_err(|_| ()),
            Value::Float(x) if x >= 0.0 && x.fract() == 0.0 && x < 1.8e19 => Ok(x as u64),
            Value::Float(_) => Err(()),
        })
    }

    /// A port in `0..=65535`; `Some(Err(()))` otherwise.
    #[inline]
    fn port(&self, i: usize) -> Option<Result<u16, ()>> {
        Some(self.count(i)?.and_then(|x| u16::try_from(x).map_err(|_| ())))
    }
}

/// A duration column: float seconds or an Arrow `Duration`.
#[derive(Debug)]
enum Span<'b> {
    Secs(Numbers<'b>),
    Int(&'b [i64], Option<&'b NullBuffer>, IntTimeUnit),
}

impl<'b> Span<'b> {
    fn new(a: &'b dyn Array) -> Option<Span<'b>> {
        fn ints<'b, T: ArrowPrimitiveType<Native = i64>>(a: &'b dyn Array, unit: IntTimeUnit) -> Span<'b> {
            let p = a.as_primitive::<T>();
            Span::Int(p.values(), p.nulls(), unit)
        }
        Some(match a.data_type() {
            DataType::Duration(TimeUnit::Second) => ints::<DurationSecondType>(a, IntTimeUnit::Secs),
            DataType::Duration(TimeUnit::Millisecond) => ints::<DurationMillisecondType>(a, IntTimeUnit::Millis),
            DataType::Duration(TimeUnit::Microsecond) => ints::<DurationMicrosecondType>(a, IntTimeUnit::Micros),
            DataType::Duration(TimeUnit::Nanosecond) => ints::<DurationNanosecondType>(a, IntTimeUnit::Nanos),
            DataType::Float32 | DataType::Float64 => Span::Secs(Numbers::new(a)?),
            _ => return None,
        })
    }

    /// Row `i`'s duration; `Some(Err(()))` for a negative or unrepresentable one.
    #[inline]
    fn get(&self, i: usize) -> Option<Result<Interval, ()>> {
        match self {
            Span::Int(v, nulls, unit) => {
                if !valid(*nulls, i) {
                    return None;
                }
                let us = v.get(i).and_then(|&x| unit.to_micros(x)).filter(|&us| us >= 0);
                Some(us.map(Interval::from_micros).ok_or(()))
            }
            Span::Secs(n) => Some(match n.get(i)? {
                Value::Float(s) if s >= 0.0 => Interval::from_secs_f64(s).ok_or(()),
                Value::Int(s) if s >= 0 => i64::try_from(s).map(Interval::from_secs).map_err(|_| ()),
                _ => Err(()),
            }),
        }
    }
}

/// Why a row is not an event: the reason and the field slot at fault.
type BadRow = (SkipReason, usize);

/// One record batch resolved against an [`ArrowColumns`] mapping: typed views of its columns,
/// from which each row is a borrowed [`ConnEvent`] (or a typed skip).
///
/// Resolution happens once per batch (column lookup by name, type dispatch, a dictionary's
/// keys normalised to indices); per row only the values are read. Nulls in the timestamp,
/// source or destination, empty addresses, timestamps out of range, negative or fractional
/// counts and ports above 65535 make a row a [`Skipped`] with its row number and column;
/// nulls in optional columns are unknown values.
///
/// # Example
/// ```
/// use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt16Array};
/// use beaconstat::arrow::{ArrowColumns, BatchEvents};
/// use beaconstat::{ReadStats, SkipReason};
/// use std::sync::Arc;
/// let batch = RecordBatch::try_from_iter([
///     ("ts", Arc::new(Float64Array::from(vec![Some(1.5), None, Some(3.0)])) as ArrayRef),
///     ("id.orig_h", Arc::new(StringArray::from(vec!["10.0.0.1"; 3]))),
///     ("id.resp_h", Arc::new(StringArray::from(vec!["10.0.0.2"; 3]))),
///     ("id.resp_p", Arc::new(UInt16Array::from(vec![443, 443, 80]))),
/// ])?;
/// let events = BatchEvents::new(&batch, &ArrowColumns::new())?;
/// let ev = events.event(0).map_err(|s| s.to_string())?;
/// assert_eq!((ev.ts.as_micros(), ev.src, ev.dst_port), (1_500_000, "10.0.0.1", Some(443)));
/// let skipped = events.event(1).unwrap_err();
/// assert_eq!((skipped.reason, skipped.field.as_deref()), (SkipReason::MissingField, Some("ts")));
/// let mut stats = ReadStats::default();
/// let mut ports = Vec::new();
/// events.for_each(&mut stats, |ev| ports.push(ev.dst_port));
/// assert_eq!(ports, [Some(443), Some(80)]);
/// assert_eq!((stats.records, stats.events, stats.skipped), (3, 2, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct BatchEvents<'b> {
    rows: usize,
    first_row: u64,
    source: Option<&'b str>,
    column_names: [Option<&'b str>; N_FIELDS],
    ts: Time<'b>,
    src: Text<'b>,
    dst: Text<'b>,
    src_port: Option<Numbers<'b>>,
    dst_port: Option<Numbers<'b>>,
    proto: Option<Text<'b>>,
    bytes_out: Option<Numbers<'b>>,
    bytes_in: Option<Numbers<'b>>,
    duration: Option<Span<'b>>,
    uid: Option<Text<'b>>,
    name: Option<Text<'b>>,
    host: Option<Text<'b>>,
}

impl<'b> BatchEvents<'b> {
    /// Resolves `columns` against `batch`.
    ///
    /// # Errors
    /// A [`Config`](crate::ErrorKind::Config) error when a required column is missing or a
    /// mapped column has a type this module does not read (the error names both).
    pub fn new(batch: &'b RecordBatch, columns: &ArrowColumns) -> Result<BatchEvents<'b>> {
        let idx = columns.resolve(batch.schema_ref().fields().iter().map(|f| f.name().as_str()))?;
        Self::with_index(batch, &idx, columns)
    }

    /// [`BatchEvents::new`] with the columns already looked up in the batch's schema (once per
    /// file, not per batch).
    pub(crate) fn with_index(
        batch: &'b RecordBatch,
        idx: &FieldIndex,
        columns: &ArrowColumns,
    ) -> Result<BatchEvents<'b>> {
        let schema = batch.schema_ref();
        let mut column_names = [None; N_FIELDS];
        for (slot, i) in idx.iter().enumerate() {
            column_names[slot] = i.and_then(|i| schema.fields().get(i)).map(|f| f.name().as_str());
        }
        let typed = |slot: usize, what: &str| {
            let name = column_names[slot].unwrap_or(FIELD_NAMES[slot]);
            let ty = idx[slot]
                .and_then(|i| batch.columns().get(i))
                .map(|a| a.data_type().to_string());
            Error::config(
                "column",
                format!(
                    "{} column {name:?} is {}, expected {what}",
                    FIELD_NAMES[slot],
                    ty.unwrap_or_default()
                ),
            )
        };
        let array = |slot: usize| idx[slot].and_then(|i| batch.columns().get(i)).map(|a| a.as_ref());
        const TEXT: &str = "Utf8, LargeUtf8, Utf8View or a dictionary of strings";
        const NUMBER: &str = "an integer or float";
        let required_text = |slot| array(slot).and_then(Text::new).ok_or_else(|| typed(slot, TEXT));
        let optional_text = |slot| match array(slot) {
            Some(a) => Text::new(a).map(Some).ok_or_else(|| typed(slot, TEXT)),
            None => Ok(None),
        };
        let number = |slot| match array(slot) {
            Some(a) => Numbers::new(a).map(Some).ok_or_else(|| typed(slot, NUMBER)),
            None => Ok(None),
        };
        Ok(BatchEvents {
            rows: batch.num_rows(),
            first_row: 0,
            source: None,
            ts: array(TS)
                .and_then(|a| Time::new(a, columns.ts_unit))
                .ok_or_else(|| typed(TS, "a Timestamp, Int64 or Float64 (seconds)"))?,
            src: required_text(SRC)?,
            dst: required_text(DST)?,
            src_port: number(SRC_PORT)?,
            dst_port: number(DST_PORT)?,
            proto: optional_text(PROTO)?,
            bytes_out: number(BYTES_OUT)?,
            bytes_in: number(BYTES_IN)?,
            duration: match array(DURATION) {
                Some(a) => Some(Span::new(a).ok_or_else(|| typed(DURATION, "a float (seconds) or Duration"))?),
                None => None,
            },
            uid: optional_text(UID)?,
            name: optional_text(NAME)?,
            host: optional_text(HOST)?,
            column_names,
        })
    }

    /// Numbers rows from `row` on in skip reports (the rows of earlier batches of the same file).
    pub fn with_first_row(mut self, row: u64) -> Self {
        self.first_row = row;
        self
    }

    /// Names the input in skip reports (`row 12 of conn.parquet`).
    pub fn with_source(mut self, source: &'b str) -> Self {
        self.source = Some(source);
        self
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Row `row` as an event.
    ///
    /// # Errors
    /// The row as a [`Skipped`] (position line = its 1-based row number, field = the column).
    pub fn event(&self, row: usize) -> core::result::Result<ConnEvent<'b>, Skipped> {
        self.check(row).map_err(|bad| self.skipped(row, bad))
    }

    /// Calls `f` with every good row's event, counting rows, events and skips in `stats`.
    pub fn for_each(&self, stats: &mut ReadStats, f: impl FnMut(ConnEvent<'b>)) {
        self.for_each_from(0, stats, f);
    }

    /// [`BatchEvents::for_each`] over the rows from `start` on.
    pub(crate) fn for_each_from(&self, start: usize, stats: &mut ReadStats, mut f: impl FnMut(ConnEvent<'b>)) {
        for row in start..self.rows {
            stats.records += 1;
            match self.check(row) {
                Ok(ev) => {
                    stats.events += 1;
                    f(ev);
                }
                Err(bad) => self.count_skip(stats, row, bad),
            }
        }
    }

    /// Pushes every good row into `grouper`, counting in `stats`. With [`GroupBy::Pair`] and
    /// dictionary-encoded source and destination columns, each distinct (source, destination)
    /// pair of dictionary values is interned once and rows go through the grouper's id path
    /// ([`Grouper::push_id`]): no key is hashed per row.
    pub fn group_into(&self, grouper: &mut Grouper, stats: &mut ReadStats) {
        self.group_into_from(0, grouper, stats);
    }

    /// [`BatchEvents::group_into`] over the rows from `start` on.
    pub(crate) fn group_into_from(&self, start: usize, grouper: &mut Grouper, stats: &mut ReadStats) {
        if let (GroupBy::Pair, Text::Dict(_, src), Text::Dict(_, dst)) = (grouper.group_by(), self.src, self.dst) {
            return self.group_dictionary(start, grouper, stats, src.len(), dst.len());
        }
        self.for_each_from(start, stats, |ev| grouper.push(&ev));
    }

    /// [`BatchEvents::group_into`] for dictionary-encoded (src, dst): one key id per pair of
    /// dictionary values, in a dense table when the product of the dictionaries is small.
    fn group_dictionary(&self, start: usize, grouper: &mut Grouper, stats: &mut ReadStats, n_src: usize, n_dst: usize) {
        const DENSE_MAX: usize = 1 << 20;
        let dense = n_src.checked_mul(n_dst).filter(|&n| n <= DENSE_MAX);
        let mut table: Vec<Option<KeyId>> = vec![None; dense.unwrap_or(0)];
        let mut sparse: HashMap<(usize, usize), KeyId> = HashMap::new();
        for row in start..self.rows {
            stats.records += 1;
            let ev = match self.check(row) {
                Ok(ev) => ev,
                Err(bad) => {
                    self.count_skip(stats, row, bad);
                    continue;
                }
            };
            // `check` accepted the row, so both keys are set.
            let (Some(s), Some(d)) = (self.src.key(row), self.dst.key(row)) else {
                continue;
            };
            let slot = match dense {
                Some(_) => table.get_mut(s * n_dst + d),
                None => None,
            };
            let id = match slot {
                Some(Some(id)) => *id,
                Some(slot @ None) => *slot.insert(grouper.key_id(&SeriesKey::pair(ev.src, ev.dst))),
                None => *sparse
                    .entry((s, d))
                    .or_insert_with(|| grouper.key_id(&SeriesKey::pair(ev.src, ev.dst))),
            };
            stats.events += 1;
            // The id was issued by this grouper just above, so it is always known.
            let _known = grouper.push_id_event(id, &ev);
        }
    }

    #[inline]
    fn check(&self, i: usize) -> core::result::Result<ConnEvent<'b>, BadRow> {
        let ts = match self.ts.get(i) {
            None => return Err((SkipReason::MissingField, TS)),
            Some(None) => return Err((SkipReason::BadTimestamp, TS)),
            Some(Some(t)) => t,
        };
        let text = |t: &Text<'b>, slot| {
            t.get(i)
                .filter(|s| !s.is_empty())
                .ok_or((SkipReason::MissingField, slot))
        };
        let mut ev = ConnEvent::new(ts, text(&self.src, SRC)?, text(&self.dst, DST)?);
        let port = |n: &Option<Numbers<'_>>, slot| {
            n.as_ref()
                .and_then(|n| n.port(i))
                .transpose()
                .map_err(|()| (SkipReason::BadPort, slot))
        };
        let count = |n: &Option<Numbers<'_>>, slot| {
            n.as_ref()
                .and_then(|n| n.count(i))
                .transpose()
                .map_err(|()| (SkipReason::BadNumber, slot))
        };
        ev.src_port = port(&self.src_port, SRC_PORT)?;
        ev.dst_port = port(&self.dst_port, DST_PORT)?;
        ev.bytes_out = count(&self.bytes_out, BYTES_OUT)?;
        ev.bytes_in = count(&self.bytes_in, BYTES_IN)?;
        ev.duration = self
            .duration
            .as_ref()
            .and_then(|d| d.get(i))
            .transpose()
            .map_err(|()| (SkipReason::BadNumber, DURATION))?;
        let opt = |t: &Option<Text<'b>>| t.as_ref().and_then(|t| t.get(i)).filter(|s| !s.is_empty());
        if let Some(p) = opt(&self.proto) {
            ev.proto = Proto::parse(p);
        }
        ev.uid = opt(&self.uid);
        ev.name = opt(&self.name);
        ev.host = opt(&self.host);
        Ok(ev)
    }

    /// The offending value of a bad row, as text.
    fn value_text(&self, i: usize, slot: usize) -> Option<String> {
        let num = |n: &Option<Numbers<'_>>| {
            n.as_ref().and_then(|n| n.get(i)).map(|v| match v {
                Value::Int(x) => x.to_string(),
                Value::Float(x) => x.to_string(),
            })
        };
        match slot {
            TS => match &self.ts {
                Time::Int(v, ..) => v.get(i).map(i64::to_string),
                Time::Secs(v, _) => v.get(i).map(f64::to_string),
            }
            .filter(|_| self.ts.get(i).is_some()),
            SRC_PORT => num(&self.src_port),
            DST_PORT => num(&self.dst_port),
            BYTES_OUT => num(&self.bytes_out),
            BYTES_IN => num(&self.bytes_in),
            DURATION => match &self.duration {
                Some(Span::Secs(n)) => num(&Some(*n)),
                Some(Span::Int(v, nulls, _)) if valid(*nulls, i) => v.get(i).map(i64::to_string),
                _ => None,
            },
            _ => None,
        }
    }

    fn skipped(&self, i: usize, (reason, slot): BadRow) -> Skipped {
        let row = self.first_row + i as u64 + 1;
        Skipped {
            path: self.source.map(std::path::PathBuf::from),
            position: Position { line: row, byte: 0 },
            reason,
            field: Some(self.column_names[slot].unwrap_or(FIELD_NAMES[slot]).to_owned()),
            value: self.value_text(i, slot),
            detail: Some(match self.source {
                Some(s) => format!("row {row} of {s}"),
                None => format!("row {row}"),
            }),
        }
    }

    fn count_skip(&self, stats: &mut ReadStats, i: usize, bad: BadRow) {
        stats.skipped += 1;
        *stats.by_reason.entry(bad.0).or_insert(0) += 1;
        if stats.skipped_samples.len() < ReadStats::MAX_SAMPLES {
            stats.skipped_samples.push(self.skipped(i, bad));
        }
    }
}
