//! Reports out as an Arrow record batch, and record batches out as Parquet.

use crate::beacon::{BeaconReport, PeriodSource, Verdict};
use crate::error::{Error, Result};
use crate::features::FEATURES;
use crate::series::SeriesKey;
use arrow_array::{
    ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray, UInt16Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use std::path::Path;
use std::sync::Arc;

/// The key columns of a report batch, before the report's own.
const KEY_COLUMNS: [&str; 6] = ["src", "dst", "dst_port", "name", "host", "process"];

/// The schema of [`report_batch`]: the series key (`src`, `dst`, `dst_port`, `name`, `host`,
/// `process`, each null where the grouping does not use it), `verdict` (`scored`/`too_few`),
/// `period_source` (`none`/`intervals`/`spectrum`), `first` and `last` (`Timestamp(µs, UTC)`),
/// every [`FEATURES`] column in order (`UInt64` for counts, else `Float64`; null where the
/// report has no value), and `explanation` (the report in words).
///
/// # Example
/// ```
/// let schema = beaconstat::arrow::report_schema();
/// assert_eq!(schema.field(0).name(), "src");
/// assert!(schema.field_with_name("period_s").unwrap().is_nullable());
/// assert_eq!(schema.fields().last().unwrap().name(), "explanation");
/// ```
pub fn report_schema() -> SchemaRef {
    let mut fields: Vec<Field> = KEY_COLUMNS
        .iter()
        .map(|&n| {
            Field::new(
                n,
                if n == "dst_port" {
                    DataType::UInt16
                } else {
                    DataType::Utf8
                },
                true,
            )
        })
        .collect();
    fields.push(Field::new("verdict", DataType::Utf8, false));
    fields.push(Field::new("period_source", DataType::Utf8, false));
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    fields.push(Field::new("first", ts.clone(), false));
    fields.push(Field::new("last", ts, false));
    for f in FEATURES {
        let ty = if f.integer { DataType::UInt64 } else { DataType::Float64 };
        fields.push(Field::new(f.name, ty, true));
    }
    fields.push(Field::new("explanation", DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

/// The fields of [`report_schema`] after the key: one report as a struct (the SQL aggregate's
/// result type).
#[cfg(feature = "datafusion")]
pub(crate) fn report_struct_fields() -> arrow_schema::Fields {
    report_schema()
        .fields()
        .iter()
        .skip(KEY_COLUMNS.len())
        .cloned()
        .collect()
}

/// Reports as a struct array of `fields` (those of [`report_struct_fields`]), one row each: the
/// SQL aggregate's result column, built once per batch of groups.
#[cfg(feature = "datafusion")]
pub(crate) fn report_structs<'r>(
    fields: &arrow_schema::Fields,
    reports: impl IntoIterator<Item = &'r BeaconReport>,
) -> Result<arrow_array::StructArray> {
    let reports: Vec<&BeaconReport> = reports.into_iter().collect();
    arrow_array::StructArray::try_new(fields.clone(), report_columns(&reports), None)
        .map_err(|e| Error::format(format!("report struct: {e}")))
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::TooFew => "too_few",
        _ => "scored",
    }
}

fn period_source_name(p: PeriodSource) -> &'static str {
    match p {
        PeriodSource::Intervals => "intervals",
        PeriodSource::Spectrum => "spectrum",
        _ => "none",
    }
}

/// One row per (key, report), in the given order, with the columns of [`report_schema`].
///
/// # Errors
/// None in practice: an Arrow error would mean the columns disagree with the schema.
///
/// # Example
/// ```
/// use arrow_array::cast::AsArray;
/// use arrow_array::types::Float64Type;
/// use beaconstat::{Analyzer, SeriesKey};
/// let ts: Vec<i64> = (0..30).map(|i| i * 60_000_000).collect();
/// let report = Analyzer::default().score(&ts, None);
/// let batch = beaconstat::arrow::report_batch([(SeriesKey::pair("10.0.0.7", "203.0.113.5"), &report)])?;
/// assert_eq!(batch.num_rows(), 1);
/// let period = batch.column_by_name("period_s").unwrap().as_primitive::<Float64Type>().value(0);
/// assert!((period - 60.0).abs() < 0.5);
/// # Ok::<(), beaconstat::Error>(())
/// ```
pub fn report_batch<'k, 'r>(rows: impl IntoIterator<Item = (SeriesKey<'k>, &'r BeaconReport)>) -> Result<RecordBatch> {
    let rows: Vec<(SeriesKey<'k>, &BeaconReport)> = rows.into_iter().collect();
    let text = |f: fn(&SeriesKey<'k>) -> Option<&'k str>| -> ArrayRef {
        Arc::new(rows.iter().map(|(k, _)| f(k)).collect::<StringArray>())
    };
    let mut columns: Vec<ArrayRef> = vec![
        text(|k| k.src),
        text(|k| k.dst),
        Arc::new(rows.iter().map(|(k, _)| k.dst_port).collect::<UInt16Array>()),
        text(|k| k.name),
        text(|k| k.host),
        text(|k| k.process),
    ];
    let reports: Vec<&BeaconReport> = rows.iter().map(|&(_, r)| r).collect();
    columns.extend(report_columns(&reports));
    RecordBatch::try_new(report_schema(), columns).map_err(|e| Error::format(format!("report batch: {e}")))
}

/// The columns of [`report_schema`] after the key, one row per report: shared by
/// [`report_batch`] and the SQL aggregate's struct column, which has no key columns to build.
fn report_columns(reports: &[&BeaconReport]) -> Vec<ArrayRef> {
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(
            reports
                .iter()
                .map(|r| Some(verdict_name(r.verdict)))
                .collect::<StringArray>(),
        ),
        Arc::new(
            reports
                .iter()
                .map(|r| Some(period_source_name(r.period_source)))
                .collect::<StringArray>(),
        ),
    ];
    for time in [|r: &BeaconReport| r.first, |r: &BeaconReport| r.last] {
        let us: Vec<i64> = reports.iter().map(|r| time(r).as_micros()).collect();
        columns.push(Arc::new(TimestampMicrosecondArray::from(us).with_timezone("UTC")));
    }
    for f in FEATURES {
        let values = reports.iter().map(|r| f.value(r));
        columns.push(if f.integer {
            Arc::new(values.map(|v| v.map(|x| x as u64)).collect::<UInt64Array>())
        } else {
            Arc::new(values.collect::<Float64Array>())
        });
    }
    columns.push(Arc::new(
        reports
            .iter()
            .map(|r| Some(r.explain().to_string()))
            .collect::<StringArray>(),
    ));
    columns
}

/// Writes `batches` (all of one schema) to a Parquet file at `path`, Snappy-compressed.
///
/// # Errors
/// I/O errors creating the file; a [`Format`](crate::ErrorKind::Format) error if Parquet
/// refuses a batch (e.g. batches of different schemas).
///
/// # Example
/// ```no_run
/// use beaconstat::{Analyzer, SeriesKey};
/// let report = Analyzer::default().score(&[0, 60_000_000, 120_000_000], None);
/// let batch = beaconstat::arrow::report_batch([(SeriesKey::pair("a", "b"), &report)])?;
/// beaconstat::arrow::write_parquet("reports.parquet", &[batch])?;
/// # Ok::<(), beaconstat::Error>(())
/// ```
pub fn write_parquet(path: impl AsRef<Path>, batches: &[RecordBatch]) -> Result<()> {
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;
    let path = path.as_ref();
    let Some(first) = batches.first() else {
        return Err(Error::format(format!("{}: no batches to write", path.display())));
    };
    let file = std::fs::File::create(path).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let pq = |e: parquet::errors::ParquetError| Error::format(format!("{}: {e}", path.display()));
    let mut w = ArrowWriter::try_new(file, first.schema(), Some(props)).map_err(pq)?;
    for b in batches {
        w.write(b).map_err(pq)?;
    }
    w.close().map_err(pq)?;
    Ok(())
}
