//! [`ParallelReader`]: the files a [`Reader`](super::Reader) would read, read on several
//! threads, with the same events, counts and skipped records (at the same lines and byte
//! offsets) as one reader reading them in turn.
//!
//! The input is cut into consecutive parts, one run of parts per worker, of about equal bytes:
//! whole files, and large plain Zeek TSV, Zeek JSON or Windows event JSON files cut at line
//! boundaries. Gzip stays one stream per file and EVTX one file; CSV stays whole (a quoted
//! field may hold a newline).
//! A part from the middle of a Zeek TSV file is read after the file's leading header block,
//! replayed. Afterwards each part's skipped-record lines are shifted by the lines of the parts
//! before it and each file's counts are merged in order. A cut is only valid if nothing before
//! it changes how the lines after it read: if a part other than a file's last met a header
//! directive past the leading block (concatenated logs) or damage, the read is done again with
//! that file uncut.

use super::json::ZeekJsonReaderBuilder;
use super::reader::{Counted, In, Progress, Source, peek_sniff};
use super::zeek::ZeekReaderBuilder;
use crate::error::{Position, Result};
use crate::event::ConnEvent;
use crate::input::{Format, Input, Lines, ReadOptions, ReadStats, SkipReason};
use crate::threads::each_on_own_thread;
use crate::winevent::WinEventReader;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Parts smaller than this are not cut off (a thread start and a header replay cost more than
/// reading a few megabytes).
const DEFAULT_MIN_PART: u64 = 4 << 20;
/// How far past a cut point a line end is looked for, a read at a time.
const SCAN_BYTES: usize = 64 * 1024;

/// Reads files on several threads into one state per worker. Built by
/// [`ReadOptions::open_parallel`].
///
/// The input is cut into consecutive parts of about equal bytes, one run of parts per worker:
/// whole files, and large plain Zeek TSV, Zeek JSON or Windows event JSON files cut at line
/// boundaries (a part from the middle of a Zeek TSV file reads after the file's header block,
/// replayed). Gzip stays one stream per file, EVTX and Parquet one file, CSV whole (a quoted
/// field may hold a newline).
/// Counts, skipped records and their lines and byte offsets come out as one
/// [`Reader`](super::Reader) reading the files in turn gives them; a cut that a later header
/// block or damage could have changed is read again uncut.
///
/// Each worker calls `f(&mut state, event)` for the events of its run of parts, in input
/// order; [`ParallelRead::states`] are in input order too, so the first state's events all
/// come before the second's. Merged in that order (for a [`Grouper`](crate::Grouper), with
/// [`Grouper::merge`](crate::Grouper::merge), or finished together on one thread per part with
/// [`Grouper::finish_parts`](crate::Grouper::finish_parts)) they give what one sequential read
/// gives.
///
/// # Example
/// ```
/// # fn main() -> beaconstat::Result<()> {
/// use beaconstat::{GroupBy, Grouper, ReadOptions};
/// let dir = std::env::temp_dir().join(format!("beaconstat-parallel-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).map_err(|e| beaconstat::Error::io(None, e))?;
/// let path = dir.join("conn.log");
/// let mut log = String::from("#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\n");
/// for i in 0..20_000 {
///     log.push_str(&format!("{}.0\t10.0.0.{}\t198.51.100.9\n", 60 * i, i % 7));
/// }
/// log.push_str("oops\n"); // one bad line, counted where it is
/// std::fs::write(&path, &log).map_err(|e| beaconstat::Error::io(None, e))?;
///
/// let mut reader = ReadOptions::new().open_parallel([&path], 2);
/// reader.min_part_bytes(64 * 1024);
/// let read = reader.for_each(|| Grouper::new(GroupBy::Pair), |g, ev| g.push(&ev))?;
/// let stats = read.stats();
/// assert_eq!((stats.events, stats.skipped), (20_000, 1));
/// assert_eq!(stats.skipped_samples[0].position.line, 20_003);
/// let mut states = read.states.into_iter();
/// let mut grouper = states.next().unwrap_or_default();
/// states.for_each(|g| grouper.merge(g));
/// let set = grouper.finish();
/// assert_eq!((set.len(), set.events()), (7, 20_000));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ParallelReader {
    pub(super) opts: ReadOptions,
    pub(crate) files: Vec<PathBuf>,
    pub(super) workers: usize,
    pub(super) min_part: u64,
    pub(super) bytes: Arc<AtomicU64>,
}

/// What a [`ParallelReader`] read: one state per worker that had input, in input order, and
/// each file's counts.
#[derive(Debug)]
#[non_exhaustive]
pub struct ParallelRead<S> {
    /// The workers' states, in input order (at least one).
    pub states: Vec<S>,
    /// Each file's counts, in reading order, as [`Reader::files`](super::Reader::files)
    /// gives them.
    pub files: Vec<ReadStats>,
}

impl<S> ParallelRead<S> {
    /// The counts over every file (samples name their files), as
    /// [`Reader::stats`](super::Reader::stats) gives them after a whole read.
    pub fn stats(&self) -> ReadStats {
        let mut total = ReadStats::default();
        for s in &self.files {
            total.merge(s);
        }
        total
    }
}

impl ReadOptions {
    /// A [`ParallelReader`] over these files, in this order, on up to `workers` threads (at
    /// least one; one reads everything on the calling thread).
    pub fn open_parallel<P: AsRef<Path>>(&self, files: impl IntoIterator<Item = P>, workers: usize) -> ParallelReader {
        ParallelReader {
            opts: self.clone(),
            files: files.into_iter().map(|p| p.as_ref().to_path_buf()).collect(),
            workers: workers.max(1),
            min_part: DEFAULT_MIN_PART,
            bytes: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// How one file can be cut: its format and the header block a part from the middle replays.
#[derive(Debug, Clone)]
struct Cuttable {
    format: Format,
    size: u64,
    header: Arc<[u8]>,
    header_lines: u64,
}

/// One part: a whole file (`range` `None`, read by a [`Reader`](super::Reader)), or bytes
/// `start..end` of a cut one.
#[derive(Debug, Clone, Copy)]
struct Part {
    file: usize,
    range: Option<(u64, u64)>,
}

/// What reading one part found.
#[derive(Debug)]
struct PartOut {
    part: Part,
    // A cut part's counts; a whole file's are in `whole`.
    stats: ReadStats,
    // What the `Reader` of a whole file reported (one entry per source it read).
    whole: Vec<ReadStats>,
    // Lines read (the replayed header included) and header directives among them.
    lines: u64,
    directives: u64,
    // Read to its end without an error.
    clean: bool,
}

impl ParallelReader {
    /// Parts smaller than this many bytes are not cut off (default 4 MiB; at least 1).
    pub fn min_part_bytes(&mut self, bytes: u64) -> &mut Self {
        self.min_part = bytes.max(1);
        self
    }

    /// A handle on the bytes read so far, readable from another thread (or from `f`) while
    /// [`for_each`](ParallelReader::for_each) runs.
    pub fn progress(&self) -> Progress {
        Progress(Arc::clone(&self.bytes))
    }

    /// Reads every file, calling `f` with each worker's state and each of its events; `init`
    /// makes a worker's state.
    ///
    /// # Errors
    /// In strict mode (where no file is cut), the first bad record or failing file in input
    /// order; lenient reads count them, as [`Reader::for_each`](super::Reader::for_each) does.
    pub fn for_each<S, I, F>(&self, init: I, f: F) -> Result<ParallelRead<S>>
    where
        S: Send,
        I: Fn() -> S + Sync,
        F: Fn(&mut S, ConnEvent<'_>) + Sync,
    {
        let mut cuttable = self.cuttable_files();
        loop {
            self.bytes.store(0, Ordering::Relaxed);
            let runs = self.plan(&cuttable);
            let results = self.run(&runs, &cuttable, &init, &f)?;
            match assemble(&cuttable, results) {
                Ok(read) => return Ok(read),
                // A cut that could have changed the read: again, with those files whole.
                Err(bad) => bad.into_iter().for_each(|i| cuttable[i] = None),
            }
        }
    }

    /// Reads every file in more parts than workers, each part's result apart: a worker takes
    /// the next part from a queue as it is free (parts shrink towards the end of the input, so
    /// the workers end close together whatever else the machine runs), calls `f` with its
    /// state and each of the part's events, then `done` with the state, still on its own
    /// thread (to finish what the part built while other parts are read). `done` takes the
    /// part's result out of the state and leaves it empty for the worker's next part: each
    /// worker makes one state with `init` and reuses it, so memory it grew for one part (a
    /// grouper's columns, say: [`Grouper::finish_and_reset`](crate::Grouper::finish_and_reset))
    /// is written again for the next, not faulted in afresh. After a part that failed, the
    /// worker starts again from a new state.
    ///
    /// [`ParallelRead::states`] holds what `done` returned, one per part, in input order:
    /// merged in that order they give what one sequential read gives. Counts and errors are
    /// those of [`for_each`](ParallelReader::for_each).
    ///
    /// # Errors
    /// As [`for_each`](ParallelReader::for_each).
    ///
    /// # Example
    /// ```
    /// # fn main() -> beaconstat::Result<()> {
    /// use beaconstat::{GroupBy, Grouper, ReadOptions, SeriesSet};
    /// let dir = std::env::temp_dir().join(format!("beaconstat-parts-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).map_err(|e| beaconstat::Error::io(None, e))?;
    /// let path = dir.join("conn.log");
    /// let mut log = String::from("#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\n");
    /// for i in 0..20_000 {
    ///     log.push_str(&format!("{}.0\t10.0.0.{}\t198.51.100.9\n", 60 * i, i % 7));
    /// }
    /// std::fs::write(&path, &log).map_err(|e| beaconstat::Error::io(None, e))?;
    ///
    /// let mut reader = ReadOptions::new().open_parallel([&path], 2);
    /// reader.min_part_bytes(64 * 1024);
    /// // Each part grouped and finished on the thread that read it, the sets joined in order.
    /// let read = reader.for_each_part(|| Grouper::new(GroupBy::Pair), |g, ev| g.push(&ev), Grouper::finish_and_reset)?;
    /// assert!(read.states.len() > 2);
    /// let set = SeriesSet::concat(read.states, 2);
    /// assert_eq!((set.len(), set.events()), (7, 20_000));
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok(()) }
    /// ```
    pub fn for_each_part<S, T, I, F, D>(&self, init: I, f: F, done: D) -> Result<ParallelRead<T>>
    where
        T: Send,
        I: Fn() -> S + Sync,
        F: Fn(&mut S, ConnEvent<'_>) + Sync,
        D: Fn(&mut S) -> T + Sync,
    {
        let mut cuttable = self.cuttable_files();
        loop {
            self.bytes.store(0, Ordering::Relaxed);
            let runs = self.plan_queue(&cuttable);
            let results = self.run_queue(&runs, &cuttable, &init, &f, &done)?;
            match assemble(&cuttable, results) {
                Ok(read) => return Ok(read),
                // A cut that could have changed the read: again, with those files whole.
                Err(bad) => bad.into_iter().for_each(|i| cuttable[i] = None),
            }
        }
    }

    /// How each file can be cut (none with one worker or in strict mode).
    fn cuttable_files(&self) -> Vec<Option<Cuttable>> {
        self.files
            .iter()
            .map(|p| {
                (self.workers > 1 && !self.opts.strict)
                    .then(|| self.cuttable(p))
                    .flatten()
            })
            .collect()
    }

    /// Reads the runs on the workers, each taking the next run from a queue; one state per
    /// run, finished by `done`, in run order.
    #[allow(clippy::type_complexity)]
    fn run_queue<S, T, I, F, D>(
        &self,
        runs: &[Vec<Part>],
        cuttable: &[Option<Cuttable>],
        init: &I,
        f: &F,
        done: &D,
    ) -> Result<Vec<(T, Vec<PartOut>)>>
    where
        T: Send,
        I: Fn() -> S + Sync,
        F: Fn(&mut S, ConnEvent<'_>) + Sync,
        D: Fn(&mut S) -> T + Sync,
    {
        if runs.is_empty() {
            return Ok(vec![(done(&mut init()), Vec::new())]);
        }
        let next = AtomicUsize::new(0);
        let work = |_worker: usize| {
            let mut mine = Vec::new();
            // The worker's state, made for its first part and emptied by `done` after each.
            let mut state: Option<S> = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(parts) = runs.get(i) else {
                    return mine;
                };
                let s = state.get_or_insert_with(init);
                let read = (|| {
                    let mut outs = Vec::with_capacity(parts.len());
                    for &part in parts {
                        outs.push(self.read_part(part, cuttable, |e| f(s, e))?);
                    }
                    Ok((done(s), outs))
                })();
                // A failed part may have left events in the state: the next starts afresh.
                if read.is_err() {
                    state = None;
                }
                mine.push((i, read));
            }
        };
        let workers = self.workers.min(runs.len());
        let mut all: Vec<(usize, Result<(T, Vec<PartOut>)>)> = each_on_own_thread((0..workers).collect(), work)
            .into_iter()
            .flatten()
            .collect();
        all.sort_by_key(|(i, _)| *i);
        // The first error in input order, as a sequential read would have stopped at.
        all.into_iter().map(|(_, r)| r).collect()
    }

    /// Whether and how the file at `path` can be cut: plain (not gzip) Zeek TSV, Zeek JSON or
    /// Windows event JSON,
    /// at least two minimum parts long, with a leading header block that reads cleanly.
    fn cuttable(&self, path: &Path) -> Option<Cuttable> {
        let size = std::fs::metadata(path).ok()?.len();
        if size < self.min_part.saturating_mul(2) {
            return None;
        }
        let mut lines = ReadOptions::new().open_lines(path).ok()?;
        if lines.input.is_gzip() {
            return None;
        }
        let (head, sniff) = peek_sniff(&mut lines).ok()?;
        let header_end = match sniff.format? {
            // The leading directive block, which must end within what was peeked.
            Format::ZeekTsv => {
                let mut at = 0;
                while head.get(at) == Some(&b'#') {
                    at += memchr::memchr(b'\n', head.get(at..)?)? + 1;
                }
                at
            }
            // One record per line, no header: any line start is a cut.
            Format::ZeekJson | Format::WindowsEventJson => 0,
            _ => return None,
        };
        let format = sniff.format?;
        let header: Arc<[u8]> = head.get(..header_end)?.into();
        // Every line of the block must be a directive that reads without error.
        let header_lines = if header.is_empty() {
            0
        } else {
            let mut r = ZeekReaderBuilder::new()
                .options(&self.opts)
                .from_reader(&header[..])
                .ok()?;
            r.for_each(|_| {}).ok()?;
            (r.stats().records == 0 && r.directives() == r.lines_read()).then_some(r.lines_read())?
        };
        Some(Cuttable {
            format,
            size,
            header,
            header_lines,
        })
    }

    /// The files' sizes (as planned: a file that cannot be cut is read whole, whatever its
    /// size is by then).
    fn sizes(&self, cuttable: &[Option<Cuttable>]) -> Vec<u64> {
        self.files
            .iter()
            .zip(cuttable)
            .map(|(p, c)| match c {
                Some(c) => c.size,
                None => std::fs::metadata(p).map_or(0, |m| m.len()),
            })
            .collect()
    }

    /// The parts of each worker: consecutive, about the total bytes over the workers each.
    fn plan(&self, cuttable: &[Option<Cuttable>]) -> Vec<Vec<Part>> {
        let sizes = self.sizes(cuttable);
        let total: u64 = sizes.iter().sum();
        let share = total.div_ceil(self.workers as u64).max(1);
        let bounds: Vec<u64> = (1..self.workers as u64).map(|w| w.saturating_mul(share)).collect();
        self.plan_runs(cuttable, &sizes, &bounds)
    }

    /// Runs of parts for workers that take them in turn from a queue: each about a
    /// `2 × workers`-th of the bytes not yet handed out (large first, smaller towards the end,
    /// so that the workers end close together), none below the minimum part.
    fn plan_queue(&self, cuttable: &[Option<Cuttable>]) -> Vec<Vec<Part>> {
        let sizes = self.sizes(cuttable);
        let total: u64 = sizes.iter().sum();
        let mut bounds = Vec::new();
        let mut at = 0u64;
        if self.workers > 1 {
            loop {
                let size = ((total - at) / (2 * self.workers as u64)).max(self.min_part);
                if total - at < size.saturating_add(self.min_part) {
                    break;
                }
                at += size;
                bounds.push(at);
            }
        }
        self.plan_runs(cuttable, &sizes, &bounds)
    }

    /// Consecutive runs of parts, run `w` ending about `bounds[w]` bytes into the input (the
    /// last run takes the rest): files cut at line boundaries where they can be.
    fn plan_runs(&self, cuttable: &[Option<Cuttable>], sizes: &[u64], bounds: &[u64]) -> Vec<Vec<Part>> {
        let mut runs: Vec<Vec<Part>> = vec![Vec::new(); bounds.len() + 1];
        let bound = |w: usize| bounds.get(w).copied().unwrap_or(u64::MAX);
        let (mut w, mut before) = (0usize, 0u64);
        for (file, (&size, c)) in sizes.iter().zip(cuttable).enumerate() {
            let mut start = 0u64;
            if let Some(c) = c {
                while w + 1 < runs.len() {
                    let want = bound(w).saturating_sub(before).max(start).max(c.header.len() as u64);
                    if want.saturating_sub(start) < self.min_part || size.saturating_sub(want) < self.min_part {
                        break;
                    }
                    match next_line_start(&self.files[file], want, size) {
                        Some(cut) if cut > start && size - cut >= self.min_part => {
                            runs[w].push(Part {
                                file,
                                range: Some((start, cut)),
                            });
                            start = cut;
                            w += 1;
                        }
                        _ => break,
                    }
                }
            }
            runs[w].push(Part {
                file,
                range: (start > 0).then_some((start, size)),
            });
            before = before.saturating_add(size);
            if before >= bound(w) && w + 1 < runs.len() {
                w += 1;
            }
        }
        runs.retain(|r| !r.is_empty());
        runs
    }

    /// Reads each run on its own thread (the first on this one).
    #[allow(clippy::type_complexity)]
    fn run<S, I, F>(
        &self,
        runs: &[Vec<Part>],
        cuttable: &[Option<Cuttable>],
        init: &I,
        f: &F,
    ) -> Result<Vec<(S, Vec<PartOut>)>>
    where
        S: Send,
        I: Fn() -> S + Sync,
        F: Fn(&mut S, ConnEvent<'_>) + Sync,
    {
        let work = |parts: &[Part]| -> Result<(S, Vec<PartOut>)> {
            let mut state = init();
            let mut outs = Vec::with_capacity(parts.len());
            for &part in parts {
                outs.push(self.read_part(part, cuttable, |e| f(&mut state, e))?);
            }
            Ok((state, outs))
        };
        if runs.is_empty() {
            return Ok(vec![(init(), Vec::new())]);
        }
        let results = each_on_own_thread(runs.iter().collect(), |r| work(r));
        // The first error in input order, as a sequential read would have stopped at.
        results.into_iter().collect()
    }

    /// Reads one part into `f`.
    fn read_part<F: FnMut(ConnEvent<'_>)>(
        &self,
        part: Part,
        cuttable: &[Option<Cuttable>],
        mut f: F,
    ) -> Result<PartOut> {
        let path = &self.files[part.file];
        let cut = part.range.zip(cuttable.get(part.file).and_then(Option::as_ref));
        let Some(((start, end), c)) = cut else {
            let mut r = self.opts.open_files([path]);
            r.bytes = Arc::clone(&self.bytes);
            r.for_each(&mut f)?;
            return Ok(PartOut {
                part,
                stats: ReadStats::default(),
                whole: r.files(),
                lines: 0,
                directives: 0,
                clean: true,
            });
        };
        let opened = File::open(path).and_then(|mut h| h.seek(SeekFrom::Start(start)).map(|_| h));
        let Ok(handle) = opened else {
            // Gone since it was planned: not clean, so the file is read whole again.
            return Ok(PartOut {
                part,
                stats: ReadStats::for_path(Some(path)),
                whole: Vec::new(),
                lines: 0,
                directives: 0,
                clean: false,
            });
        };
        let body: In = Box::new(Counted {
            file: handle.take(end - start),
            bytes: Arc::clone(&self.bytes),
        });
        // From the middle: the header block first (the file's first part reads its own).
        let replay = if start == 0 { Vec::new() } else { c.header.to_vec() };
        let replayed = replay.len() as u64;
        let mut lines = Lines::new(
            Input::Plain(io::Cursor::new(replay).chain(body)),
            self.opts.buffer_capacity,
            self.opts.max_record_len,
            !self.opts.strict,
        );
        lines.start_at_byte(start.saturating_sub(replayed));
        let path_buf = Some(path.clone());
        let mut src = match c.format {
            Format::ZeekTsv => Source::Tsv(Box::new(
                ZeekReaderBuilder::new()
                    .options(&self.opts)
                    .build_input(lines, path_buf),
            )),
            Format::WindowsEventJson => {
                let r = WinEventReader::from_lines(lines, path_buf, &self.opts);
                // From the middle, its first line is not the file's (no byte-order mark).
                let r = if start > 0 { r.in_middle() } else { r };
                Source::Win(Box::new(r), Box::default(), 0)
            }
            _ => Source::Json(Box::new(
                ZeekJsonReaderBuilder::new()
                    .options(&self.opts)
                    .build_input(lines, path_buf),
            )),
        };
        let mut clean = true;
        if let Err(e) = src.for_each(&mut f) {
            src.record_failure(&e);
            clean = false;
        }
        let (lines, directives) = src.lines_and_directives();
        Ok(PartOut {
            part,
            stats: src.stats(),
            whole: Vec::new(),
            lines,
            directives,
            clean,
        })
    }
}

/// The first line start at or after `at` (the byte after a `\n` at or after `at - 1`), if
/// before `end`.
fn next_line_start(path: &Path, at: u64, end: u64) -> Option<u64> {
    if at == 0 {
        return None;
    }
    let mut f = File::open(path).ok()?;
    let cut = line_start(&mut f, at, end, &mut vec![0u8; SCAN_BYTES]).ok()?;
    (cut < end).then_some(cut)
}

/// The first line start at or after `at` (the byte after a `\n` at or after `at - 1`), or
/// `size` if there is none before it.
pub(super) fn line_start(file: &mut File, at: u64, size: u64, probe: &mut [u8]) -> io::Result<u64> {
    if at == 0 || at >= size {
        return Ok(at.min(size));
    }
    file.seek(SeekFrom::Start(at - 1))?;
    let mut pos = at - 1;
    while pos < size {
        let n = file.read(probe)?;
        let Some(got) = probe.get(..n).filter(|g| !g.is_empty()) else {
            break;
        };
        if let Some(i) = memchr::memchr(b'\n', got) {
            return Ok((pos + i as u64 + 1).min(size));
        }
        pos += n as u64;
    }
    Ok(size)
}

/// Each file's counts from its parts (line numbers shifted, merged in order); `Err` with the
/// files whose cuts were not valid.
fn assemble<S>(
    cuttable: &[Option<Cuttable>],
    results: Vec<(S, Vec<PartOut>)>,
) -> core::result::Result<ParallelRead<S>, Vec<usize>> {
    let (states, outs): (Vec<S>, Vec<Vec<PartOut>>) = results.into_iter().unzip();
    let mut outs = outs.into_iter().flatten().peekable();
    let mut files = Vec::new();
    let mut bad = Vec::new();
    while let Some(first) = outs.next() {
        let file = first.part.file;
        let mut group = vec![first];
        while let Some(p) = outs.next_if(|p| p.part.file == file) {
            group.push(p);
        }
        if group.iter().all(|p| p.part.range.is_none()) {
            files.extend(group.into_iter().flat_map(|p| p.whole));
            continue;
        }
        let Some(c) = cuttable.get(file).and_then(Option::as_ref) else {
            bad.push(file);
            continue;
        };
        let last = group.len() - 1;
        // The leading block is the only header every part but the last may see, and no part
        // but the last may end early: else the lines after a cut might read differently.
        let valid = group.iter().enumerate().all(|(k, p)| {
            k == last
                || (p.clean
                    && p.directives == c.header_lines
                    && !p.stats.by_reason.contains_key(&SkipReason::Truncated))
        });
        if !valid {
            bad.push(file);
            continue;
        }
        let mut before = 0u64; // lines of the file in the parts so far
        let mut merged: Option<ReadStats> = None;
        for mut p in group {
            let replayed = if p.part.range.is_some_and(|(s, _)| s > 0) {
                c.header_lines
            } else {
                0
            };
            let shift = before.saturating_sub(replayed);
            for s in &mut p.stats.skipped_samples {
                // A failure counted without a position stays without one.
                if s.position != Position::default() {
                    s.position.line += shift;
                }
            }
            before += p.lines.saturating_sub(replayed);
            match &mut merged {
                None => merged = Some(p.stats),
                Some(m) => m.merge(&p.stats),
            }
        }
        files.extend(merged);
    }
    if bad.is_empty() {
        Ok(ParallelRead { states, files })
    } else {
        Err(bad)
    }
}
