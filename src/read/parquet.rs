//! Parquet connection logs (feature `arrow`): one file, or a directory of `*.parquet` files
//! (searched recursively, as Hive-style `date=…/part-….parquet` layouts are), read batch by
//! batch with only the mapped columns decoded.

use crate::arrow::{ArrowColumns, BatchEvents, FieldIndex};
use crate::error::{Error, Result};
use crate::event::ConnEvent;
use crate::input::{ReadStats, Skipped};
use crate::series::Grouper;
use arrow_array::RecordBatch;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Settings of a [`ParquetReader`]: the column mapping, strict mode and the batch size.
///
/// # Example
/// ```no_run
/// use beaconstat::arrow::ArrowColumns;
/// use beaconstat::read::ParquetReaderBuilder;
/// let mut columns = ArrowColumns::new();
/// columns.src("client").dst("server");
/// let mut r = ParquetReaderBuilder::new().columns(columns).open("flows/")?;
/// r.for_each(|ev| println!("{} -> {}", ev.src, ev.dst))?;
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ParquetReaderBuilder {
    columns: ArrowColumns,
    strict: bool,
    batch_size: usize,
}

impl Default for ParquetReaderBuilder {
    fn default() -> Self {
        ParquetReaderBuilder {
            columns: ArrowColumns::new(),
            strict: false,
            batch_size: 64 * 1024,
        }
    }
}

impl ParquetReaderBuilder {
    /// Columns found by their common names, lenient, 64 Ki rows per batch.
    pub fn new() -> Self {
        ParquetReaderBuilder::default()
    }

    /// Which column holds each event field.
    pub fn columns(&mut self, columns: ArrowColumns) -> &mut Self {
        self.columns = columns;
        self
    }

    /// Strict mode: the first bad row is an error instead of a counted skip.
    pub fn strict(&mut self, yes: bool) -> &mut Self {
        self.strict = yes;
        self
    }

    /// Rows decoded at a time (default 65 536; at least 1).
    pub fn batch_size(&mut self, rows: usize) -> &mut Self {
        self.batch_size = rows.max(1);
        self
    }

    /// A reader over the Parquet file at `path`, or every `*.parquet` file under the directory
    /// `path` (in path order).
    ///
    /// # Errors
    /// I/O errors listing the directory; a [`Format`](crate::ErrorKind::Format) error for a
    /// directory without Parquet files. Files are opened as they are reached.
    pub fn open(&self, path: impl AsRef<Path>) -> Result<ParquetReader> {
        let path = path.as_ref();
        let files = if path.is_dir() {
            let mut files = Vec::new();
            collect_parquet(path, &mut files)?;
            files.sort();
            if files.is_empty() {
                return Err(Error::format(format!(
                    "{}: no .parquet files in this directory",
                    path.display()
                )));
            }
            files
        } else {
            vec![path.to_path_buf()]
        };
        Ok(ParquetReader {
            options: self.clone(),
            files,
            next_file: 0,
            file: None,
            batch: None,
            row: 0,
            stats: ReadStats::default(),
        })
    }
}

fn collect_parquet(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let io = |e| Error::io(Some(dir.to_path_buf()), e);
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let p = entry.map_err(io)?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // Hidden and `_`-prefixed files are engines' metadata (`_SUCCESS`, `.crc`).
        if name.starts_with(['.', '_']) {
            continue;
        }
        if p.is_dir() {
            collect_parquet(&p, out)?;
        } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) {
            out.push(p);
        }
    }
    Ok(())
}

/// The file being read: its batch reader, its path as text, its column index, rows so far.
#[derive(Debug)]
struct OpenFile {
    batches: ParquetRecordBatchReader,
    name: String,
    index: FieldIndex,
    rows: u64,
}

/// Connection events from Parquet files, batch by batch.
///
/// Rows become [`ConnEvent`]s that borrow the current batch; rows with a null or bad required
/// field are counted in [`ReadStats`] with their row number (within their file) and column,
/// or are an error in strict mode. Skip positions carry the row as `line` (1-based) and
/// `byte` 0.
///
/// # Example
/// ```no_run
/// let mut r = beaconstat::read::ParquetReader::open("conn.parquet")?;
/// let mut grouper = beaconstat::Grouper::new(beaconstat::GroupBy::Pair);
/// r.group_into(&mut grouper)?;
/// println!("{} series; {}", grouper.keys(), r.stats());
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug)]
pub struct ParquetReader {
    options: ParquetReaderBuilder,
    files: Vec<PathBuf>,
    next_file: usize,
    file: Option<OpenFile>,
    batch: Option<RecordBatch>,
    row: usize,
    stats: ReadStats,
}

impl ParquetReader {
    /// A reader with the default settings over a file or a directory.
    ///
    /// # Errors
    /// See [`ParquetReaderBuilder::open`].
    pub fn open(path: impl AsRef<Path>) -> Result<ParquetReader> {
        ParquetReaderBuilder::new().open(path)
    }

    /// The files this reader reads, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// What was read and skipped so far.
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    /// Opens the next file, if any: its metadata, the projection onto the mapped columns.
    fn open_next(&mut self) -> Result<bool> {
        let Some(path) = self.files.get(self.next_file) else {
            return Ok(false);
        };
        self.next_file += 1;
        let pq = |e: parquet::errors::ParquetError| Error::format(format!("{}: {e}", path.display()));
        let f = File::open(path).map_err(|e| Error::io(Some(path.clone()), e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(f).map_err(pq)?;
        let columns = &self.options.columns;
        let schema = builder.schema().clone();
        let names = || schema.fields().iter().map(|f| f.name().as_str());
        let with_path = |e: Error| Error::format(format!("{}: {e}", path.display()));
        let wanted = columns.wanted(names()).map_err(with_path)?;
        let mask = ProjectionMask::roots(builder.parquet_schema(), wanted.iter().copied());
        let batches = builder
            .with_projection(mask)
            .with_batch_size(self.options.batch_size)
            .build()
            .map_err(pq)?;
        // The projected batches hold the wanted columns only, in schema order.
        let projected: Vec<&str> = wanted
            .iter()
            .filter_map(|&i| schema.fields().get(i))
            .map(|f| f.name().as_str())
            .collect();
        let index = columns.resolve(projected.iter().copied()).map_err(with_path)?;
        self.file = Some(OpenFile {
            batches,
            name: path.display().to_string(),
            index,
            rows: 0,
        });
        Ok(true)
    }

    /// Moves to the next non-empty batch; `false` at the end of the last file.
    fn advance(&mut self) -> Result<bool> {
        loop {
            if let Some(file) = &mut self.file {
                if let Some(b) = self.batch.take() {
                    file.rows += b.num_rows() as u64;
                }
                match file.batches.next() {
                    Some(Ok(b)) => {
                        self.row = 0;
                        if b.num_rows() > 0 {
                            self.batch = Some(b);
                            return Ok(true);
                        }
                        continue;
                    }
                    Some(Err(e)) => return Err(Error::format(format!("{}: {e}", file.name))),
                    None => self.file = None,
                }
            }
            if !self.open_next()? {
                return Ok(false);
            }
        }
    }

    /// The current batch's events view.
    fn events(&self) -> Result<Option<BatchEvents<'_>>> {
        let (Some(file), Some(batch)) = (&self.file, &self.batch) else {
            return Ok(None);
        };
        let ev = BatchEvents::with_index(batch, &file.index, &self.options.columns)
            .map_err(|e| Error::format(format!("{}: {e}", file.name)))?;
        Ok(Some(ev.with_first_row(file.rows).with_source(&file.name)))
    }

    /// The next event; `None` after the last row of the last file.
    ///
    /// # Errors
    /// I/O and decoding errors; in strict mode, the first bad row.
    pub fn next_event(&mut self) -> Result<Option<ConnEvent<'_>>> {
        if !self.step()? {
            return Ok(None);
        }
        Ok(self.current())
    }

    /// Moves to the next good row (counting bad ones); `false` after the last row of the
    /// last file. [`current`](ParquetReader::current) is then that row's event.
    pub(crate) fn step(&mut self) -> Result<bool> {
        loop {
            let rows = self.batch.as_ref().map_or(0, RecordBatch::num_rows);
            if self.row >= rows {
                if !self.advance()? {
                    return Ok(false);
                }
                continue;
            }
            let row = self.row;
            self.row += 1;
            self.stats.records += 1;
            // Resolution per call is a type dispatch over the mapped columns, no allocation;
            // `for_each` and `group_into` resolve once per batch.
            let Some(events) = self.events()? else { return Ok(false) };
            match events.event(row) {
                Ok(_) => break,
                Err(s) if self.options.strict => return Err(to_error(&s)),
                Err(s) => count(&mut self.stats, s),
            }
        }
        self.stats.events += 1;
        Ok(true)
    }

    /// The event [`step`](ParquetReader::step) stopped at.
    pub(crate) fn current(&self) -> Option<ConnEvent<'_>> {
        let row = self.row.checked_sub(1)?;
        self.events().ok().flatten().and_then(|e| e.event(row).ok())
    }

    /// The counts, for the reader layer to add a failure to.
    pub(crate) fn stats_mut(&mut self) -> &mut ReadStats {
        &mut self.stats
    }

    /// Calls `f` with every event of every file.
    ///
    /// # Errors
    /// As [`ParquetReader::next_event`].
    pub fn for_each<F: FnMut(ConnEvent<'_>)>(&mut self, mut f: F) -> Result<()> {
        self.each_batch(|events, start, stats| events.for_each_from(start, stats, &mut f))
    }

    /// Groups every event of every file into `grouper` (dictionary-encoded source and
    /// destination columns go through its id path, see [`BatchEvents::group_into`]).
    ///
    /// # Errors
    /// As [`ParquetReader::next_event`].
    pub fn group_into(&mut self, grouper: &mut Grouper) -> Result<()> {
        self.each_batch(|events, start, stats| events.group_into_from(start, grouper, stats))
    }

    /// Runs `f(events, first row, stats)` over the rest of the current batch (rows after those
    /// [`ParquetReader::next_event`] handed out), then over each further batch.
    fn each_batch(&mut self, mut f: impl FnMut(&BatchEvents<'_>, usize, &mut ReadStats)) -> Result<()> {
        let strict = self.options.strict;
        loop {
            let rows = self.batch.as_ref().map_or(0, RecordBatch::num_rows);
            if self.row >= rows && !self.advance()? {
                return Ok(());
            }
            let start = self.row;
            self.row = usize::MAX;
            let Some(events) = self.events()? else { continue };
            let mut batch_stats = ReadStats::default();
            f(&events, start, &mut batch_stats);
            if strict && let Some(s) = batch_stats.skipped_samples.first() {
                return Err(to_error(s));
            }
            self.stats.merge(&batch_stats);
        }
    }
}

fn count(stats: &mut ReadStats, s: Skipped) {
    stats.skipped += 1;
    *stats.by_reason.entry(s.reason).or_insert(0) += 1;
    if stats.skipped_samples.len() < ReadStats::MAX_SAMPLES {
        stats.skipped_samples.push(s);
    }
}

fn to_error(s: &Skipped) -> Error {
    let reason = match &s.detail {
        Some(d) => format!("{} ({d})", s.reason),
        None => s.reason.to_string(),
    };
    Error::parse(
        s.position,
        s.field.as_deref(),
        s.value.as_deref().map(str::as_bytes),
        reason,
    )
}
