//! [`ParallelReader::for_each_record`]: Windows event records parsed on worker threads and
//! handed to the caller, on the caller's thread, in input order. For consumers that need the
//! order and one state (task lineage keeps the first of duplicate records; the AN1113 join
//! keeps references to lines), where [`ParallelReader::for_each`] gives a state per worker.
//!
//! Windows event JSON is one record per line, so a plain file can be cut at any line start
//! without changing how the lines after the cut read. Such a file is cut into chunks of
//! 256 KiB that the workers take from a queue in turn, each finding its chunk's first and last
//! line itself (so planning reads nothing). Each chunk's records go to the caller in batches
//! on a channel of the chunk's own, and the caller drains the channels in chunk order, adding
//! to each record's line number the lines of the file's chunks before it. When the caller
//! reaches a chunk that no worker has taken yet, it takes it and parses it itself, straight
//! into its consumer; and when the chunk it is taking has nothing for it yet, it parses the
//! next chunk no worker has taken (within the bound on chunks ahead) into batches it keeps
//! until it gets there: it parses whenever it would otherwise wait. Other inputs (gzip, EVTX,
//! a file too small to cut, anything in strict mode) are one chunk each, read whole by a
//! worker (or the caller) through a [`Reader`](super::Reader).
//!
//! [`ParallelReader::for_each_intake`] has no handoff of records at all: each chunk's records
//! are taken on the thread that parsed them into a part of the consumer's own (an
//! [`Intake`]: lineage's or the AN1113 join's collected events), and the caller absorbs the
//! parts in chunk order. Handing the parsed records themselves to the other core cost 20–38%
//! more CPU than parsing them where they are (each field read from the other core's cache,
//! the batches' pages moved), and left the consumer's intake on one core.

use super::parallel::{ParallelRead, ParallelReader, line_start};
use super::reader::{Counted, In, as_connections, peek_sniff};
use crate::error::{Error, Position, Result};
use crate::input::{Format, Input, Lines, ReadOptions, ReadStats};
use crate::winevent::{Prepared, WinEventReader, WinRecord};
use core::marker::PhantomData;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, TryRecvError, channel, sync_channel};
use std::sync::{Arc, Condvar, Mutex};

/// Bytes per chunk of a cut file (at most; [`min_part_bytes`](ParallelReader::min_part_bytes)
/// if smaller): small, so that the records parsed ahead of the caller stay few and in cache.
const CHUNK: u64 = 256 << 10;
/// Records per batch sent from a worker to the caller.
const BATCH: usize = 128;
/// Batches a chunk may have waiting for the caller: a whole chunk of records of 128 bytes or
/// more, so that a worker ahead of the caller finishes its chunk and takes the next.
const QUEUED: usize = 16;
/// Chunks per worker that may be parsed ahead of the one the caller takes: the bound on the
/// records in flight (a few megabytes).
const AHEAD: usize = 4;

/// One chunk: a whole file (`range` `None`), or the lines of a cut one (of `size` bytes)
/// that start in bytes `from..to`.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    file: usize,
    range: Option<(u64, u64)>,
    size: u64,
}

/// What a worker sends for its chunk: batches of records, then once the chunk's counts.
enum Msg<B> {
    Batch(B),
    Done(Result<ChunkOut>),
}

/// What workers send the caller for a chunk, and how they fill it: batches of parsed records,
/// or the chunk's records taken into a part of the consumer's.
trait Payload: Send + Sized {
    /// What a worker fills with a chunk's records.
    type Filling: Default + Send;
    /// What the workers share to start filling (the consumer's empty part to copy).
    type Maker: Sync;
    /// The record to parse into next.
    fn slot(f: &mut Self::Filling) -> Option<&mut WinRecord>;
    /// The slot holds a record of `file` now; true when the filling is full.
    fn filled(f: &mut Self::Filling, file: usize, maker: &Self::Maker) -> bool;
    /// What `f` holds, if anything, as one payload, leaving `f` empty (batches from
    /// `pipes`' emptied ones).
    fn take(f: &mut Self::Filling, pipes: &Pipes<Self>) -> Option<Self>;
}

/// The records a worker filled (the first `n`).
#[derive(Default)]
struct Plain {
    recs: Vec<WinRecord>,
    n: usize,
}

impl Payload for Plain {
    type Filling = Plain;
    type Maker = ();

    fn slot(f: &mut Plain) -> Option<&mut WinRecord> {
        if f.n == f.recs.len() {
            f.recs.push(WinRecord::new());
        }
        f.recs.get_mut(f.n)
    }

    fn filled(f: &mut Plain, _: usize, (): &()) -> bool {
        f.n += 1;
        f.n >= BATCH
    }

    fn take(f: &mut Plain, pipes: &Pipes<Plain>) -> Option<Plain> {
        (f.n > 0).then(|| Plain {
            recs: core::mem::replace(&mut f.recs, pipes.batch()),
            n: core::mem::take(&mut f.n),
        })
    }
}

/// A consumer that takes a chunk's records on the thread that parsed them, into a part of its
/// own, and absorbs the parts in input order ([`ParallelReader::for_each_intake`]). What it
/// collects must not depend on the records before the chunk, or the part must say so
/// (`absorb` false) to have the chunk read again into the consumer itself.
pub(crate) trait Intake: Send + Sync + Sized {
    /// An empty part: configured as this one, nothing taken.
    fn part(&self) -> Self;
    /// Takes a record of the reader's file `file`, found at `position` (a part's record
    /// counts its lines from its chunk's start).
    fn push(&mut self, file: usize, p: &Prepared<'_>, position: Position);
    /// Takes `part`, the records of the next chunk, whose lines are numbered `shift` lines
    /// short: after it, this is what pushing its records here would have made. False, with
    /// nothing taken that the records' own pushing would not take, when it cannot (a record
    /// in it was taken before: a duplicate the chunk's part could not know of).
    fn absorb(&mut self, part: Self, shift: u64) -> bool;
}

/// A chunk's records taken into a consumer's part.
struct Part<P>(P);

/// A worker's record to parse into, and the part of the chunk it is reading.
struct PartFilling<P> {
    rec: WinRecord,
    part: Option<P>,
}

impl<P> Default for PartFilling<P> {
    fn default() -> Self {
        PartFilling {
            rec: WinRecord::new(),
            part: None,
        }
    }
}

impl<P: Intake> Payload for Part<P> {
    type Filling = PartFilling<P>;
    type Maker = P;

    fn slot(f: &mut PartFilling<P>) -> Option<&mut WinRecord> {
        Some(&mut f.rec)
    }

    fn filled(f: &mut PartFilling<P>, file: usize, maker: &P) -> bool {
        let part = f.part.get_or_insert_with(|| maker.part());
        part.push(file, &Prepared::new(&f.rec), f.rec.position());
        false
    }

    fn take(f: &mut PartFilling<P>, _: &Pipes<Self>) -> Option<Self> {
        f.part.take().map(Part)
    }
}

/// What became of a payload the caller took.
enum Taken {
    /// Its records, to be filled again.
    Again(Vec<WinRecord>),
    /// Absorbed.
    Absorbed,
    /// Not absorbed: the chunk is to be read again into the consumer itself.
    Refused,
}

/// The caller's side of a read: what it does with a worker's payload (of a chunk whose lines
/// are numbered `shift` lines short), and with a record it read itself (numbered right).
trait Taker<B> {
    fn batch(&mut self, file: usize, batch: B, shift: u64) -> Taken;
    fn one(&mut self, file: usize, rec: &WinRecord);
}

/// [`ParallelReader::for_each_record`]'s caller: each record to `f`.
struct Records<F>(F);

impl<F: FnMut(usize, &WinRecord)> Taker<Plain> for Records<F> {
    fn batch(&mut self, file: usize, mut b: Plain, shift: u64) -> Taken {
        for rec in b.recs.iter_mut().take(b.n) {
            rec.position.line += shift;
            (self.0)(file, rec);
        }
        Taken::Again(b.recs)
    }

    fn one(&mut self, file: usize, rec: &WinRecord) {
        (self.0)(file, rec);
    }
}

/// [`ParallelReader::for_each_intake`]'s caller: parts absorbed, its own records pushed.
struct Parts<'i, P>(&'i mut P);

impl<P: Intake> Taker<Part<P>> for Parts<'_, P> {
    fn batch(&mut self, _: usize, b: Part<P>, shift: u64) -> Taken {
        if self.0.absorb(b.0, shift) {
            Taken::Absorbed
        } else {
            Taken::Refused
        }
    }

    fn one(&mut self, file: usize, rec: &WinRecord) {
        self.0.push(file, &Prepared::new(rec), rec.position());
    }
}

/// A chunk's counts: a cut chunk's one entry and the lines it read, or a whole file's entries
/// (one per source its [`Reader`](super::Reader) read).
struct ChunkOut {
    stats: Vec<ReadStats>,
    lines: u64,
}

/// A worker's ends of the channels: where it sends each chunk's batches, where emptied
/// batches come back to be filled again, and the chunk the caller is taking (a worker waits
/// to start a chunk more than `ahead` chunks past it).
struct Pipes<B: Payload> {
    senders: Vec<Mutex<Option<SyncSender<Msg<B>>>>>,
    maker: B::Maker,
    emptied: Mutex<Receiver<Vec<WinRecord>>>,
    taking: Mutex<usize>,
    moved: Condvar,
    ahead: usize,
}

/// [`Pipes::taking`] once the caller has stopped taking.
const STOPPED: usize = usize::MAX;

impl<B: Payload> Pipes<B> {
    /// Waits until chunk `i` is at most `ahead` chunks past the caller's; `false` if the
    /// caller has stopped.
    fn wait_turn(&self, i: usize) -> bool {
        let Ok(mut taking) = self.taking.lock() else {
            return false;
        };
        while *taking != STOPPED && i >= taking.saturating_add(self.ahead) {
            taking = match self.moved.wait(taking) {
                Ok(t) => t,
                Err(_) => return false,
            };
        }
        *taking != STOPPED
    }

    /// The caller takes chunk `k` now (`STOPPED`: no more).
    fn take(&self, k: usize) {
        if let Ok(mut taking) = self.taking.lock() {
            *taking = k;
        }
        self.moved.notify_all();
    }

    /// An emptied batch to fill, or a new one.
    fn batch(&self) -> Vec<WinRecord> {
        self.emptied
            .lock()
            .ok()
            .and_then(|rx| rx.try_recv().ok())
            .unwrap_or_default()
    }
}

impl ParallelReader {
    /// Calls `f(file, record)` on this thread with every Windows event record (JSON lines or
    /// EVTX) of every file, in input order, while worker threads parse them: `file` is the
    /// record's file's place in the list the reader was opened with. The records, their
    /// positions and each file's counts are those of one [`Reader`](super::Reader) reading
    /// the files in turn with [`for_each_record`](super::Reader::for_each_record); files that
    /// hold no Windows events give no records and are counted as that reader counts them
    /// (every record as `ignored`, none as `events`: the reader's events are connections).
    ///
    /// The records are parsed on the workers (at least one, even when the reader was opened
    /// with one) and on this thread: the caller takes a chunk itself when it reaches one that
    /// no worker has taken yet, so it parses whenever it would otherwise wait, and the work
    /// balances between `f` and the parsing. Plain Windows event JSON files are cut at line
    /// starts into chunks of 256 KiB (or [`min_part_bytes`](ParallelReader::min_part_bytes) if
    /// smaller); other files are parsed whole, each by one thread. Workers beyond the cores
    /// left beside the caller's cost more than they give: on two cores, one worker.
    ///
    /// [`ParallelRead::states`] is one `()`.
    ///
    /// # Errors
    /// In strict mode (where no file is cut), the first bad record or failing file in input
    /// order, after every record before it; lenient reads count them. A file that cannot be
    /// reopened for one of its chunks (removed while being read) fails the read there.
    ///
    /// # Example
    /// ```
    /// # fn main() -> beaconstat::Result<()> {
    /// use beaconstat::ReadOptions;
    /// let dir = std::env::temp_dir().join(format!("beaconstat-records-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).map_err(|e| beaconstat::Error::io(None, e))?;
    /// let path = dir.join("security.json");
    /// let mut log = String::new();
    /// for i in 0..5_000 {
    ///     log.push_str(&format!("{{\"EventID\":4688,\"Hostname\":\"WS{}\",\"EventRecordID\":{i}}}\n", i % 3));
    /// }
    /// log.push_str("not json\n"); // one bad line, counted where it is
    /// std::fs::write(&path, &log).map_err(|e| beaconstat::Error::io(None, e))?;
    ///
    /// let mut reader = ReadOptions::new().open_parallel([&path], 2);
    /// reader.min_part_bytes(16 * 1024);
    /// let mut lines = Vec::new();
    /// let read = reader.for_each_record(|_file, rec| lines.push(rec.position().line))?;
    /// // In input order, numbered as one reader numbers them.
    /// assert_eq!(lines, (1..=5_000).collect::<Vec<u64>>());
    /// let stats = read.stats();
    /// assert_eq!((stats.records, stats.skipped), (5_001, 1));
    /// assert_eq!(stats.skipped_samples[0].position.line, 5_001);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok(()) }
    /// ```
    pub fn for_each_record<F: FnMut(usize, &WinRecord)>(&self, f: F) -> Result<ParallelRead<()>> {
        self.read_in_order::<Plain, _>((), &mut Records(f))
    }

    /// [`for_each_record`](ParallelReader::for_each_record) into `into`, a consumer whose
    /// parts absorb the chunks the workers read: each record is decoded ([`Prepared`]) and
    /// pushed on the thread that parsed it, into a part of its chunk's, and the parts are
    /// absorbed in input order (a chunk whose part is refused is read again into `into`). The
    /// caller's own chunks go straight into `into`.
    pub(crate) fn for_each_intake<P: Intake>(&self, into: &mut P) -> Result<ParallelRead<()>> {
        let maker = into.part();
        self.read_in_order::<Part<P>, _>(maker, &mut Parts(into))
    }

    /// The read of [`for_each_record`](ParallelReader::for_each_record), the workers sending
    /// batches of kind `B` to `taker`.
    fn read_in_order<B: Payload, T: Taker<B>>(&self, maker: B::Maker, taker: &mut T) -> Result<ParallelRead<()>> {
        self.bytes.store(0, Ordering::Relaxed);
        let chunks = self.record_chunks();
        let (senders, receivers): (Vec<_>, Vec<_>) = chunks.iter().map(|_| sync_channel::<Msg<B>>(QUEUED)).unzip();
        let (empty_tx, empty_rx) = channel::<Vec<WinRecord>>();
        let workers = self.workers.min(chunks.len());
        let pipes = Pipes {
            senders: senders.into_iter().map(|s| Mutex::new(Some(s))).collect(),
            maker,
            emptied: Mutex::new(empty_rx),
            taking: Mutex::new(0),
            moved: Condvar::new(),
            ahead: AHEAD * workers,
        };
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| self.parse_chunks(&chunks, &next, &pipes));
            }
            // The receivers are dropped when this returns, early or not, and the workers are
            // told: one still sending or waiting for its turn then stops at once, and the
            // scope's join does not wait on it.
            let read = take_in_order(self, &chunks, (receivers, empty_tx), (&next, &pipes), taker);
            pipes.take(STOPPED);
            read
        })
    }

    /// One worker: takes the next chunk from the queue until none is left or the caller has
    /// stopped taking.
    fn parse_chunks<B: Payload>(&self, chunks: &[Chunk], next: &AtomicUsize, pipes: &Pipes<B>) {
        let mut scratch = Scratch::<B>::default();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&chunk) = chunks.get(i) else { return };
            if !pipes.wait_turn(i) {
                return;
            }
            let Some(tx) = pipes.senders.get(i).and_then(|s| s.lock().ok()?.take()) else {
                return;
            };
            let Ok(out) = self.parse_chunk(chunk, &tx, pipes, &mut scratch) else {
                return; // the caller stopped taking
            };
            if tx.send(Msg::Done(out)).is_err() {
                return;
            }
        }
    }

    /// Parses one chunk into batches on `tx`; `Err(Stopped)` when the caller stopped taking.
    fn parse_chunk<B: Payload>(
        &self,
        chunk: Chunk,
        tx: &SyncSender<Msg<B>>,
        pipes: &Pipes<B>,
        scratch: &mut Scratch<B>,
    ) -> core::result::Result<Result<ChunkOut>, Stopped> {
        let path = &self.files[chunk.file];
        let mut sink = BatchSink {
            to: To::Caller(tx),
            pipes,
            filling: core::mem::take(&mut scratch.filling),
            file: chunk.file,
            stopped: false,
        };
        let out = self.fill(chunk, path, &mut sink, &mut scratch.buf);
        // The batch begun last, empty: the next chunk fills it.
        scratch.filling = core::mem::take(&mut sink.filling);
        if sink.stopped { Err(Stopped) } else { Ok(out) }
    }

    /// Reads `chunk` into `sink`, flushed at the end; the chunk's counts.
    fn fill(&self, chunk: Chunk, path: &Path, sink: &mut impl Sink, buf: &mut Vec<u8>) -> Result<ChunkOut> {
        let Some((from, to)) = chunk.range else {
            let mut r = self.opts.open_files([path]);
            r.bytes = Arc::clone(&self.bytes);
            let read = r.for_each_record(|rec| sink.copy(rec));
            sink.flush();
            read?;
            return Ok(ChunkOut {
                stats: r.files(),
                lines: 0,
            });
        };
        let io_err = |e| Error::io(Some(path.to_path_buf()), e);
        let mut handle = File::open(path).map_err(io_err)?;
        let mut probe = [0u8; 4096];
        // The lines that start in `from..to`: the next chunk starts where this one ends.
        let start = line_start(&mut handle, from, chunk.size, &mut probe).map_err(io_err)?;
        let end = line_start(&mut handle, to, chunk.size, &mut probe).map_err(io_err)?;
        handle.seek(SeekFrom::Start(start)).map_err(io_err)?;
        let body: In = Box::new(Counted {
            file: handle.take(end.saturating_sub(start)),
            bytes: Arc::clone(&self.bytes),
        });
        let mut lines = Lines::with_buffer(
            Input::Plain(io::Cursor::new(Vec::new()).chain(body)),
            core::mem::take(buf),
            self.opts.buffer_capacity,
            self.opts.max_record_len,
            !self.opts.strict,
        );
        lines.start_at_byte(start);
        let mut r = WinEventReader::from_lines(lines, Some(path.to_path_buf()), &self.opts);
        if start > 0 {
            r = r.in_middle();
        }
        let mut failed = None;
        while let Some(slot) = sink.slot() {
            match r.read_record(slot) {
                Ok(true) => sink.filled(),
                Ok(false) => break,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        sink.flush();
        // As a `Reader` counts a Windows file read record by record: its events are its
        // connections, none taken here, so every record is `ignored`.
        let mut stats = as_connections(r.stats(), 0);
        stats.format = Some(Format::WindowsEventJson);
        let lines = r.lines_read();
        *buf = r.into_buffer();
        match failed {
            Some(e) => Err(e),
            None => Ok(ChunkOut {
                stats: vec![stats],
                lines,
            }),
        }
    }

    /// The chunks of every file, in input order: plain Windows event JSON in chunks of
    /// [`CHUNK`] bytes, or `min_part` if smaller (each worker finds its chunk's line starts
    /// itself, so planning reads nothing), the rest whole.
    fn record_chunks(&self) -> Vec<Chunk> {
        let part = self.min_part.min(CHUNK);
        let mut chunks = Vec::new();
        for (file, path) in self.files.iter().enumerate() {
            let Some(size) = (!self.opts.strict).then(|| cuttable_windows_json(path, part)).flatten() else {
                chunks.push(Chunk {
                    file,
                    range: None,
                    size: 0,
                });
                continue;
            };
            chunks.extend((0..size.div_ceil(part)).map(|k| Chunk {
                file,
                range: Some((k * part, ((k + 1) * part).min(size))),
                size,
            }));
        }
        chunks
    }
}

/// The caller stopped taking records (it returned early).
struct Stopped;

/// A worker's memory kept from chunk to chunk: what it fills and its line buffer.
struct Scratch<B: Payload> {
    filling: B::Filling,
    buf: Vec<u8>,
}

impl<B: Payload> Default for Scratch<B> {
    fn default() -> Self {
        Scratch {
            filling: B::Filling::default(),
            buf: Vec::new(),
        }
    }
}

/// Where full batches go: to the caller on the chunk's channel (a worker's), or kept (a
/// chunk the caller parses ahead for itself, until it reaches it).
enum To<'p, B> {
    Caller(&'p SyncSender<Msg<B>>),
    Kept(Vec<B>),
}

/// A payload being filled (with records of the reader's file `file`), sent on when full.
struct BatchSink<'p, B: Payload> {
    to: To<'p, B>,
    pipes: &'p Pipes<B>,
    filling: B::Filling,
    file: usize,
    stopped: bool,
}

/// Where [`ParallelReader::fill`] puts a chunk's records: a record to parse into, then word
/// that it is filled (or, for a whole file read by a `Reader`, a record to copy).
trait Sink {
    /// The next record to fill (`None` once the caller has stopped taking).
    fn slot(&mut self) -> Option<&mut WinRecord>;
    /// The slot was filled.
    fn filled(&mut self);
    /// `rec` as the next record.
    fn copy(&mut self, rec: &WinRecord) {
        if let Some(slot) = self.slot() {
            slot.copy_from(rec);
            self.filled();
        }
    }
    /// The chunk is read: what is filled goes.
    fn flush(&mut self) {}
}

impl<B: Payload> Sink for BatchSink<'_, B> {
    fn slot(&mut self) -> Option<&mut WinRecord> {
        if self.stopped {
            return None;
        }
        B::slot(&mut self.filling)
    }

    /// A full payload goes.
    fn filled(&mut self) {
        if B::filled(&mut self.filling, self.file, &self.pipes.maker) {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.stopped {
            return;
        }
        let Some(batch) = B::take(&mut self.filling, self.pipes) else {
            return;
        };
        match &mut self.to {
            To::Caller(tx) => self.stopped = tx.send(Msg::Batch(batch)).is_err(),
            To::Kept(batches) => batches.push(batch),
        }
    }
}

/// The caller's own chunk: each record straight to its taker, in place (no batch, no other
/// core). `B` is the kind of batch the taker takes from the workers.
struct InlineSink<'f, T, B> {
    rec: &'f mut WinRecord,
    file: usize,
    shift: u64,
    taker: &'f mut T,
    kind: PhantomData<B>,
}

impl<T: Taker<B>, B> Sink for InlineSink<'_, T, B> {
    fn slot(&mut self) -> Option<&mut WinRecord> {
        Some(self.rec)
    }

    fn filled(&mut self) {
        self.rec.position.line += self.shift;
        self.taker.one(self.file, self.rec);
    }

    fn copy(&mut self, rec: &WinRecord) {
        self.taker.one(self.file, rec);
    }
}

/// The caller's side: each chunk's records in chunk order into `f`, line numbers shifted by
/// the lines of the file's chunks before; each file's counts merged from its chunks in order.
/// A chunk no worker has taken yet the caller takes and parses itself, straight into `f`:
/// so the caller, when it has caught up with the workers, parses too, instead of waiting
/// (on two cores, one worker and the caller share the parsing and the consumer's work).
fn take_in_order<B: Payload, T: Taker<B>>(
    reader: &ParallelReader,
    chunks: &[Chunk],
    (receivers, emptied): (Vec<Receiver<Msg<B>>>, Sender<Vec<WinRecord>>),
    (next, pipes): (&AtomicUsize, &Pipes<B>),
    taker: &mut T,
) -> Result<ParallelRead<()>> {
    let mut own = WinRecord::new();
    let mut buf = Vec::new();
    let mut files: Vec<ReadStats> = Vec::new();
    // Chunks this thread parsed ahead while it waited, in chunk order: their batches and counts.
    let mut stolen: VecDeque<(usize, Vec<B>, Result<ChunkOut>)> = VecDeque::new();
    // Lines of the current file in its chunks so far.
    let mut before = 0u64;
    for (k, (chunk, rx)) in chunks.iter().zip(receivers).enumerate() {
        let first_of_file = k == 0 || chunks[k - 1].file != chunk.file;
        if first_of_file {
            before = 0;
        }
        let shift = if chunk.range.is_some() { before } else { 0 };
        pipes.take(k);
        let ahead = stolen
            .front()
            .is_some_and(|s| s.0 == k)
            .then(|| stolen.pop_front())
            .flatten();
        let mine = ahead.is_none()
            && next
                .compare_exchange(k, k + 1, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok();
        // Whether a payload of this chunk was refused: the chunk is then read again here.
        let mut refused = false;
        // True when refused.
        let take = |taker: &mut T, b: B| match taker.batch(chunk.file, b, shift) {
            Taken::Again(recs) => {
                // Fails only when every worker is done: the batch is then freed.
                let _ = emptied.send(recs);
                false
            }
            Taken::Absorbed => false,
            Taken::Refused => true,
        };
        let mut inline = |taker: &mut T, buf: &mut Vec<u8>| {
            let mut sink = InlineSink {
                rec: &mut own,
                file: chunk.file,
                shift,
                taker,
                kind: PhantomData,
            };
            reader.fill(*chunk, &reader.files[chunk.file], &mut sink, buf)
        };
        let out = if let Some((_, batches, out)) = ahead {
            for b in batches {
                if !refused {
                    refused = take(taker, b);
                }
            }
            out?
        } else if mine {
            inline(taker, &mut buf)?
        } else {
            loop {
                // Nothing from the worker yet: parse the next chunk no worker has taken (one
                // cut from a file, within the chunks allowed ahead), for later, rather than
                // wait. When the workers parse slower than this thread takes, both cores
                // then parse.
                let msg = match rx.try_recv() {
                    Err(TryRecvError::Empty) => match steal(chunks, next, k + pipes.ahead) {
                        Some(j) => {
                            if let Some(s) = pipes.senders.get(j) {
                                s.lock().ok().and_then(|mut s| s.take());
                            }
                            let c = chunks[j];
                            let mut sink = BatchSink {
                                to: To::Kept(Vec::new()),
                                pipes,
                                filling: B::Filling::default(),
                                file: c.file,
                                stopped: false,
                            };
                            let out = reader.fill(c, &reader.files[c.file], &mut sink, &mut buf);
                            if let To::Kept(batches) = sink.to {
                                stolen.push_back((j, batches, out));
                            }
                            continue;
                        }
                        None => rx.recv().map_err(|_| TryRecvError::Disconnected),
                    },
                    m => m,
                };
                match msg {
                    Ok(Msg::Batch(b)) => {
                        if !refused {
                            refused = take(taker, b);
                        }
                    }
                    Ok(Msg::Done(out)) => break out?,
                    // The worker of this chunk is gone without a word: it panicked, which the
                    // scope passes on once this returns.
                    Err(_) => return Err(Error::format("a worker thread of the parallel read stopped")),
                }
            }
        };
        // A refused chunk is read again, straight into the taker: its counts are the new read's.
        let out = if refused { inline(taker, &mut buf)? } else { out };
        if chunk.range.is_none() {
            files.extend(out.stats);
            continue;
        }
        for mut s in out.stats {
            for sample in &mut s.skipped_samples {
                // A failure counted without a position stays without one.
                if sample.position != Position::default() {
                    sample.position.line += shift;
                }
            }
            match files.last_mut() {
                Some(m) if !first_of_file => m.merge(&s),
                _ => files.push(s),
            }
        }
        before += out.lines;
    }
    Ok(ParallelRead {
        states: vec![()],
        files,
    })
}

/// Takes the next chunk no worker has taken, if it is before chunk `until` and cut from a
/// file (a whole file could be too large to hold parsed).
fn steal(chunks: &[Chunk], next: &AtomicUsize, until: usize) -> Option<usize> {
    let j = next.load(Ordering::Relaxed);
    let c = chunks.get(j)?;
    (j < until
        && c.range.is_some()
        && next
            .compare_exchange(j, j + 1, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok())
    .then_some(j)
}

/// The size of `path` if it is plain (not gzip) Windows event JSON at least two chunks long.
fn cuttable_windows_json(path: &Path, min_part: u64) -> Option<u64> {
    let size = std::fs::metadata(path).ok()?.len();
    if size < min_part.saturating_mul(2) {
        return None;
    }
    let mut lines = ReadOptions::new().open_lines(path).ok()?;
    if lines.input.is_gzip() {
        return None;
    }
    let (_, sniff) = peek_sniff(&mut lines).ok()?;
    (sniff.format? == Format::WindowsEventJson).then_some(size)
}
