//! Arrow in and out (feature `arrow`): series straight from record batches, reports as a
//! record batch, Parquet files written and read.
//!
//! ```text
//!   RecordBatch ──BatchEvents (typed column views)──▶ ConnEvent<'batch> ──▶ Grouper ──▶ SeriesSet
//!        ▲                       │ Dictionary(src), Dictionary(dst): id path, no hashing per row
//!        └── report_batch ◀── [(SeriesKey, BeaconReport)] ◀── score_set
//! ```
//!
//! Input columns are found by name like the CSV reader's (see [`ArrowColumns`]); Parquet files
//! and directories are read through [`open`](crate::open) and
//! [`ParquetReader`](crate::read::ParquetReader) with the same mapping.
//!
//! # Example: a batch to scored series
//! ```
//! use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampSecondArray};
//! use beaconstat::arrow::{ArrowColumns, series_from_batches};
//! use beaconstat::{Analyzer, GroupBy};
//! use std::sync::Arc;
//! let ts: Vec<i64> = (0..40).map(|i| 1_700_000_000 + 300 * i).collect();
//! let batch = RecordBatch::try_from_iter([
//!     ("timestamp", Arc::new(TimestampSecondArray::from(ts)) as ArrayRef),
//!     ("src_ip", Arc::new(StringArray::from(vec!["10.0.0.7"; 40]))),
//!     ("dst_ip", Arc::new(StringArray::from(vec!["203.0.113.50"; 40]))),
//! ])?;
//! let (set, stats) = series_from_batches([&batch], &ArrowColumns::new(), GroupBy::Pair)?;
//! assert_eq!((set.len(), stats.events), (1, 40));
//! let report = Analyzer::default().score_series(&set.get(0).unwrap());
//! assert!((report.period.unwrap().as_secs_f64() - 300.0).abs() < 1.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod input;
mod output;

pub(crate) use self::input::FieldIndex;
pub use self::input::{ArrowColumns, BatchEvents, IntTimeUnit};
#[cfg(feature = "datafusion")]
pub(crate) use self::input::{Numbers, Time};
pub use self::output::{report_batch, report_schema, write_parquet};
#[cfg(feature = "datafusion")]
pub(crate) use self::output::{report_struct_fields, report_structs};

use crate::error::Result;
use crate::input::ReadStats;
use crate::series::{GroupBy, Grouper, Series, SeriesKey, SeriesSet};
use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampMicrosecondType, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};

/// Groups the rows of `batches` into series, with the counts of what was read and skipped.
///
/// Rows are numbered across the batches in skip reports.
///
/// # Errors
/// A [`Config`](crate::ErrorKind::Config) error when a batch lacks a required column or has
/// a mapped column of an unreadable type.
pub fn series_from_batches<'a>(
    batches: impl IntoIterator<Item = &'a RecordBatch>,
    columns: &ArrowColumns,
    group_by: GroupBy,
) -> Result<(SeriesSet, ReadStats)> {
    let mut grouper = Grouper::new(group_by);
    let mut stats = ReadStats::default();
    for batch in batches {
        grouper.reserve(batch.num_rows());
        BatchEvents::new(batch, columns)?
            .with_first_row(stats.records)
            .group_into(&mut grouper, &mut stats);
    }
    Ok((grouper.finish(), stats))
}

/// One series borrowing an Arrow array's timestamps in place, without a copy: `Some` when
/// `ts` is `Timestamp(Microsecond)` (the crate's own unit) without nulls and in time order,
/// and `sizes`, if given, is a `UInt64` array of the same length without nulls. Otherwise
/// `None`: go through [`series_from_batches`], which converts.
///
/// # Example
/// ```
/// use arrow_array::{TimestampMicrosecondArray, TimestampSecondArray};
/// use beaconstat::SeriesKey;
/// use beaconstat::arrow::series_view;
/// let ts = TimestampMicrosecondArray::from(vec![0, 60_000_000, 120_000_000]);
/// let s = series_view(SeriesKey::pair("a", "b"), &ts, None).unwrap();
/// assert!(std::ptr::eq(s.timestamps().as_ptr(), ts.values().as_ptr()));
/// assert!(series_view(SeriesKey::pair("a", "b"), &TimestampSecondArray::from(vec![0, 60]), None).is_none());
/// ```
pub fn series_view<'a>(key: SeriesKey<'a>, ts: &'a dyn Array, sizes: Option<&'a dyn Array>) -> Option<Series<'a>> {
    if !matches!(ts.data_type(), DataType::Timestamp(TimeUnit::Microsecond, _)) || ts.null_count() > 0 {
        return None;
    }
    let values: &[i64] = ts.as_primitive_opt::<TimestampMicrosecondType>()?.values();
    if !values.is_sorted() {
        return None;
    }
    let sizes = match sizes {
        Some(a) if a.len() == ts.len() && a.null_count() == 0 => {
            Some(&a.as_primitive_opt::<UInt64Type>()?.values()[..])
        }
        Some(_) => return None,
        None => None,
    };
    Some(Series::new(key, values, sizes))
}
